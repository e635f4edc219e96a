//! Scalar types, memory-operation descriptors and condition codes of the IR.
//!
//! `MemOp` is QEMU's MemOp made absolute: every guest access names its size, extension, byte
//! order and alignment requirement. There is no "host" or "target" byte order anywhere in the
//! IR, so a big-endian guest on a little-endian host is just a `MemOp` with `Endian::Big`.

use std::fmt;

/// The type of an IR value. Guest floating-point values travel as their bit patterns in
/// integers of the same width.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Ty {
    /// 32-bit integer (stored zero-extended in 64-bit slots).
    I32,
    /// 64-bit integer.
    I64,
}

impl Ty {
    /// Width in bits.
    pub const fn bits(self) -> u32 {
        match self {
            Ty::I32 => 32,
            Ty::I64 => 64,
        }
    }
    /// Mask of the bits that are meaningful for this type.
    pub const fn mask(self) -> u64 {
        match self {
            Ty::I32 => 0xffff_ffff,
            Ty::I64 => u64::MAX,
        }
    }
    /// Text name (`i32`, `i64`).
    pub const fn name(self) -> &'static str {
        match self {
            Ty::I32 => "i32",
            Ty::I64 => "i64",
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Byte order of one memory access. Absolute: never "host" or "target".
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Endian {
    /// Least significant byte at the lowest address.
    Little,
    /// Most significant byte at the lowest address.
    Big,
}

/// Size of a memory access.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Size {
    /// 1 byte.
    S8,
    /// 2 bytes.
    S16,
    /// 4 bytes.
    S32,
    /// 8 bytes.
    S64,
}

impl Size {
    /// Number of bytes.
    pub const fn bytes(self) -> u32 {
        match self {
            Size::S8 => 1,
            Size::S16 => 2,
            Size::S32 => 4,
            Size::S64 => 8,
        }
    }
    /// Number of bits.
    pub const fn bits(self) -> u32 {
        self.bytes() * 8
    }
}

/// Alignment requirement of a memory access.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Align {
    /// Any address is accepted (crossing a page is fine; both pages are checked).
    Unaligned,
    /// The address must be a multiple of the access size, or the access faults with
    /// [`crate::backend::EXC_MISALIGNED`].
    Natural,
}

/// One guest memory access: size, extension, byte order, alignment (QEMU's MemOp).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MemOp {
    /// Access size.
    pub size: Size,
    /// Loads: sign-extend the loaded value to the result type (otherwise zero-extend).
    pub signed: bool,
    /// Byte order of the access.
    pub endian: Endian,
    /// Alignment requirement.
    pub align: Align,
}

impl MemOp {
    /// Unsigned, unaligned access of `size` bytes in byte order `endian`.
    pub const fn new(size: Size, endian: Endian) -> Self {
        MemOp { size, signed: false, endian, align: Align::Unaligned }
    }
    /// The same access, sign-extending.
    pub const fn sext(self) -> Self {
        MemOp { signed: true, ..self }
    }
    /// The same access, requiring natural alignment.
    pub const fn aligned(self) -> Self {
        MemOp { align: Align::Natural, ..self }
    }
    /// Compact encoding used by bytecode and helper calls (bits 0-1 size, 2 signed, 3 big, 4 aligned).
    pub const fn to_bits(self) -> u8 {
        (match self.size {
            Size::S8 => 0,
            Size::S16 => 1,
            Size::S32 => 2,
            Size::S64 => 3,
        }) | (self.signed as u8) << 2
            | (matches!(self.endian, Endian::Big) as u8) << 3
            | (matches!(self.align, Align::Natural) as u8) << 4
    }
    /// Inverse of [`MemOp::to_bits`] (unused bits are ignored).
    pub const fn from_bits(b: u8) -> Self {
        MemOp {
            size: match b & 3 {
                0 => Size::S8,
                1 => Size::S16,
                2 => Size::S32,
                _ => Size::S64,
            },
            signed: b & 4 != 0,
            endian: if b & 8 != 0 { Endian::Big } else { Endian::Little },
            align: if b & 16 != 0 { Align::Natural } else { Align::Unaligned },
        }
    }
}

impl fmt::Display for MemOp {
    /// Text form: `[s|u]<bits><le|be>[:a]`, e.g. `s32le`, `u64be:a`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}{}",
            if self.signed { 's' } else { 'u' },
            self.size.bits(),
            match self.endian {
                Endian::Little => "le",
                Endian::Big => "be",
            },
            match self.align {
                Align::Unaligned => "",
                Align::Natural => ":a",
            }
        )
    }
}

impl std::str::FromStr for MemOp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (body, align) = match s.strip_suffix(":a") {
            Some(b) => (b, Align::Natural),
            None => (s, Align::Unaligned),
        };
        let bad = || format!("bad memop '{s}' (expected e.g. u32le, s16be, u64le:a)");
        let signed = match body.as_bytes().first() {
            Some(b's') => true,
            Some(b'u') => false,
            _ => return Err(bad()),
        };
        let (bits, endian) = if let Some(b) = body[1..].strip_suffix("le") {
            (b, Endian::Little)
        } else if let Some(b) = body[1..].strip_suffix("be") {
            (b, Endian::Big)
        } else {
            return Err(bad());
        };
        let size = match bits {
            "8" => Size::S8,
            "16" => Size::S16,
            "32" => Size::S32,
            "64" => Size::S64,
            _ => return Err(bad()),
        };
        Ok(MemOp { size, signed, endian, align })
    }
}

/// Comparison conditions of `setcond`, `exit_if`-feeding compares and `select`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Cond {
    /// a == b
    Eq,
    /// a != b
    Ne,
    /// signed a < b
    Lt,
    /// signed a >= b
    Ge,
    /// signed a <= b
    Le,
    /// signed a > b
    Gt,
    /// unsigned a < b
    Ltu,
    /// unsigned a >= b
    Geu,
    /// unsigned a <= b
    Leu,
    /// unsigned a > b
    Gtu,
}

impl Cond {
    /// All conditions, in text order.
    pub const ALL: [Cond; 10] =
        [Cond::Eq, Cond::Ne, Cond::Lt, Cond::Ge, Cond::Le, Cond::Gt, Cond::Ltu, Cond::Geu, Cond::Leu, Cond::Gtu];
    /// Text name.
    pub const fn name(self) -> &'static str {
        match self {
            Cond::Eq => "eq",
            Cond::Ne => "ne",
            Cond::Lt => "lt",
            Cond::Ge => "ge",
            Cond::Le => "le",
            Cond::Gt => "gt",
            Cond::Ltu => "ltu",
            Cond::Geu => "geu",
            Cond::Leu => "leu",
            Cond::Gtu => "gtu",
        }
    }
    /// The condition that holds exactly when `self` does not.
    pub const fn invert(self) -> Cond {
        match self {
            Cond::Eq => Cond::Ne,
            Cond::Ne => Cond::Eq,
            Cond::Lt => Cond::Ge,
            Cond::Ge => Cond::Lt,
            Cond::Le => Cond::Gt,
            Cond::Gt => Cond::Le,
            Cond::Ltu => Cond::Geu,
            Cond::Geu => Cond::Ltu,
            Cond::Leu => Cond::Gtu,
            Cond::Gtu => Cond::Leu,
        }
    }
    /// Evaluates the condition on two values of type `ty`.
    pub fn eval(self, ty: Ty, a: u64, b: u64) -> bool {
        let (sa, sb) = match ty {
            Ty::I32 => (a as u32 as i32 as i64, b as u32 as i32 as i64),
            Ty::I64 => (a as i64, b as i64),
        };
        let (ua, ub) = (a & ty.mask(), b & ty.mask());
        match self {
            Cond::Eq => ua == ub,
            Cond::Ne => ua != ub,
            Cond::Lt => sa < sb,
            Cond::Ge => sa >= sb,
            Cond::Le => sa <= sb,
            Cond::Gt => sa > sb,
            Cond::Ltu => ua < ub,
            Cond::Geu => ua >= ub,
            Cond::Leu => ua <= ub,
            Cond::Gtu => ua > ub,
        }
    }
}

/// Read-modify-write operations of `atomic_rmw` (RISC-V AMOs, s390x interlocked-access ops).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AtomicOp {
    /// new = v
    Xchg,
    /// new = old + v
    Add,
    /// new = old & v
    And,
    /// new = old | v
    Or,
    /// new = old ^ v
    Xor,
    /// new = signed min(old, v)
    Smin,
    /// new = signed max(old, v)
    Smax,
    /// new = unsigned min(old, v)
    Umin,
    /// new = unsigned max(old, v)
    Umax,
}

impl AtomicOp {
    /// All operations, in text order.
    pub const ALL: [AtomicOp; 9] = [
        AtomicOp::Xchg,
        AtomicOp::Add,
        AtomicOp::And,
        AtomicOp::Or,
        AtomicOp::Xor,
        AtomicOp::Smin,
        AtomicOp::Smax,
        AtomicOp::Umin,
        AtomicOp::Umax,
    ];
    /// Text name.
    pub const fn name(self) -> &'static str {
        match self {
            AtomicOp::Xchg => "xchg",
            AtomicOp::Add => "add",
            AtomicOp::And => "and",
            AtomicOp::Or => "or",
            AtomicOp::Xor => "xor",
            AtomicOp::Smin => "smin",
            AtomicOp::Smax => "smax",
            AtomicOp::Umin => "umin",
            AtomicOp::Umax => "umax",
        }
    }
    /// The new memory value for old value `old` and operand `v`, both `size` wide
    /// (zero-extended inputs; the result is truncated to `size`).
    pub fn apply(self, size: Size, old: u64, v: u64) -> u64 {
        let bits = size.bits();
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        let sx = |x: u64| ((x << (64 - bits)) as i64) >> (64 - bits);
        let (o, v) = (old & mask, v & mask);
        let r = match self {
            AtomicOp::Xchg => v,
            AtomicOp::Add => o.wrapping_add(v),
            AtomicOp::And => o & v,
            AtomicOp::Or => o | v,
            AtomicOp::Xor => o ^ v,
            AtomicOp::Smin => {
                if sx(o) <= sx(v) {
                    o
                } else {
                    v
                }
            }
            AtomicOp::Smax => {
                if sx(o) >= sx(v) {
                    o
                } else {
                    v
                }
            }
            AtomicOp::Umin => o.min(v),
            AtomicOp::Umax => o.max(v),
        };
        r & mask
    }
}
