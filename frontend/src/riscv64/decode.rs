//! The RISC-V instruction decoder, as declarative tables (QEMU's `insn32.decode` /
//! `insn16.decode` plus the code `decodetree.py` generates from them).
//!
//! Three layers, each declared once:
//! - **fields** ([`Field`] constants): where an operand's bits sit in the word, whether it is
//!   sign-extended, scaled or offset (`rs1'` is `x8 + bits`);
//! - **formats** (`formats!`): a named way of filling one argument set ([`ArgsR`], [`ArgsI`],
//!   ...) from fields or constants;
//! - **patterns** (`decode_table!`): one line per instruction, `name "bit pattern" format`,
//!   with `0`/`1` fixed bits and `.` operand bits, MSB first. Overlapping patterns are allowed
//!   only inside an explicit ordered `{ ... }` group, where the first match wins (decodetree's
//!   overlap groups). The 16-bit table maps each compressed form to the 32-bit instruction it
//!   expands to (`c_addi ... => addi`), so both share one `trans_*` function.
//!
//! Masks and fixed bits are computed by `const fn` at compile time, and so are the lookup
//! buckets: a word is only compared against the patterns compatible with its major opcode and
//! `funct3` (bits 6:2 and 14:12; for RVC the quadrant and bits 15:13), in table order. A table
//! with an overlap outside a group, or a group member that an earlier member hides entirely,
//! fails to compile ([`check_table`] runs in a `const` assertion).
//!
//! Reserved compressed encodings are either absent (no match: illegal) or explicit `illegal`
//! patterns at the head of a group (c.addi4spn with a zero immediate, which includes the
//! all-zero parcel; c.lui / c.addi16sp with a zero immediate; c.addiw / c.lwsp / c.ldsp with
//! rd = x0; c.jr with rs1 = x0).
//!
//! RISC-V Unprivileged ISA 20191213, chapter 24 ("RV32/64G Instruction Set Listings") and
//! §16.8 ("RVC Instruction Set Listings"); Zba/Zbb/Zbs from the Bit-Manipulation ISA-extensions
//! 1.0.0. Not decoded: privileged instructions (user level only), Zfh, V, Zc* beyond C.

/// One operand field: bit segments of the instruction word, concatenated MSB first, then
/// optionally sign-extended, shifted left and offset. A field with no segments is a constant.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    segs: [(u8, u8); 8],
    nsegs: u8,
    signed: bool,
    shl: u8,
    add: i64,
}

impl Field {
    /// An unsigned field made of `(lowest bit, length)` segments, most significant first.
    pub const fn u(segs: &[(u8, u8)]) -> Field {
        let mut s = [(0u8, 0u8); 8];
        let mut i = 0;
        while i < segs.len() {
            s[i] = segs[i];
            i += 1;
        }
        Field { segs: s, nsegs: segs.len() as u8, signed: false, shl: 0, add: 0 }
    }
    /// A sign-extended field (the first segment's top bit is the sign).
    pub const fn s(segs: &[(u8, u8)]) -> Field {
        let f = Field::u(segs);
        Field { signed: true, ..f }
    }
    /// A constant "field" (decodetree's `rd=0` in a format).
    pub const fn konst(v: i64) -> Field {
        Field { segs: [(0, 0); 8], nsegs: 0, signed: false, shl: 0, add: v }
    }
    /// The same field scaled by `2^n` (e.g. branch offsets, compressed load offsets).
    pub const fn shl(self, n: u8) -> Field {
        Field { shl: n, ..self }
    }
    /// The same field plus a constant (`rs1'` = x8 + 3 bits).
    pub const fn plus(self, n: i64) -> Field {
        Field { add: n, ..self }
    }
    /// Extracts the field's value from `w`.
    #[inline(always)]
    pub const fn extract(&self, w: u32) -> i64 {
        let mut v: u64 = 0;
        let mut width = 0u32;
        let mut i = 0;
        while i < self.nsegs as usize {
            let (pos, len) = self.segs[i];
            v = (v << len) | ((w as u64 >> pos) & ((1u64 << len) - 1));
            width += len as u32;
            i += 1;
        }
        let v = if self.signed && width > 0 { ((v << (64 - width)) as i64) >> (64 - width) } else { v as i64 };
        (v << self.shl) + self.add
    }
}

// ---- fields (RISC-V Unprivileged ISA 20191213, §2.2-2.3 and §16.2) ----
const RD: Field = Field::u(&[(7, 5)]);
const RS1: Field = Field::u(&[(15, 5)]);
const RS2: Field = Field::u(&[(20, 5)]);
const RS3: Field = Field::u(&[(27, 5)]);
const RM: Field = Field::u(&[(12, 3)]);
const AQ: Field = Field::u(&[(26, 1)]);
const RL: Field = Field::u(&[(25, 1)]);
const IMM_I: Field = Field::s(&[(20, 12)]);
const IMM_S: Field = Field::s(&[(25, 7), (7, 5)]);
const IMM_B: Field = Field::s(&[(31, 1), (7, 1), (25, 6), (8, 4)]).shl(1);
const IMM_U: Field = Field::s(&[(12, 20)]).shl(12);
const IMM_J: Field = Field::s(&[(31, 1), (12, 8), (20, 1), (21, 10)]).shl(1);
const SHAMT6: Field = Field::u(&[(20, 6)]);
const SHAMT5: Field = Field::u(&[(20, 5)]);
const CSR: Field = Field::u(&[(20, 12)]);
const PRED: Field = Field::u(&[(24, 4)]);
const SUCC: Field = Field::u(&[(20, 4)]);
const ZERO: Field = Field::konst(0);
const X1: Field = Field::konst(1);
const X2: Field = Field::konst(2);

// compressed (§16.2 "Compressed Instruction Formats")
const C_RD: Field = Field::u(&[(7, 5)]);
const C_RS2: Field = Field::u(&[(2, 5)]);
const C_RS1P: Field = Field::u(&[(7, 3)]).plus(8);
const C_RS2P: Field = Field::u(&[(2, 3)]).plus(8);
const C_IMM6: Field = Field::s(&[(12, 1), (2, 5)]);
const C_UIMM6: Field = Field::u(&[(12, 1), (2, 5)]);
const C_LUI: Field = Field::s(&[(12, 1), (2, 5)]).shl(12);
const C_ADDI16SP: Field = Field::s(&[(12, 1), (3, 2), (5, 1), (2, 1), (6, 1)]).shl(4);
const C_ADDI4SPN: Field = Field::u(&[(7, 4), (11, 2), (5, 1), (6, 1)]).shl(2);
const C_LW: Field = Field::u(&[(5, 1), (10, 3), (6, 1)]).shl(2);
const C_LD: Field = Field::u(&[(5, 2), (10, 3)]).shl(3);
const C_LWSP: Field = Field::u(&[(2, 2), (12, 1), (4, 3)]).shl(2);
const C_LDSP: Field = Field::u(&[(2, 3), (12, 1), (5, 2)]).shl(3);
const C_SWSP: Field = Field::u(&[(7, 2), (9, 4)]).shl(2);
const C_SDSP: Field = Field::u(&[(7, 3), (10, 3)]).shl(3);
const C_B: Field = Field::s(&[(12, 1), (5, 2), (2, 1), (10, 2), (3, 2)]).shl(1);
const C_J: Field = Field::s(&[(12, 1), (8, 1), (9, 2), (6, 1), (7, 1), (2, 1), (11, 1), (3, 3)]).shl(1);

// ---- argument sets (decodetree's `&name`) ----

/// `rd, rs1, rs2` (register-register ops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsR {
    /// Destination.
    pub rd: u8,
    /// First source.
    pub rs1: u8,
    /// Second source.
    pub rs2: u8,
}
/// `rd, rs1, imm` (immediate ops, loads, jalr).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsI {
    /// Destination.
    pub rd: u8,
    /// Source / base.
    pub rs1: u8,
    /// Sign-extended immediate.
    pub imm: i64,
}
/// `rs1, rs2, imm` (stores: base, data, offset; branches: operands, offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsS {
    /// Base / first operand.
    pub rs1: u8,
    /// Data / second operand.
    pub rs2: u8,
    /// Sign-extended offset.
    pub imm: i64,
}
/// `rd, imm` (lui, auipc, jal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsU {
    /// Destination.
    pub rd: u8,
    /// Sign-extended immediate (already shifted).
    pub imm: i64,
}
/// `rd, rs1, shamt` (shift by immediate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsShift {
    /// Destination.
    pub rd: u8,
    /// Source.
    pub rs1: u8,
    /// Shift amount.
    pub shamt: u8,
}
/// `rd, rs1` (unary ops, fmv, fclass).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsR2 {
    /// Destination.
    pub rd: u8,
    /// Source.
    pub rs1: u8,
}
/// `rd, rs1, rs2, aq, rl` (A extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsAtomic {
    /// Destination.
    pub rd: u8,
    /// Address.
    pub rs1: u8,
    /// Data.
    pub rs2: u8,
    /// Acquire bit.
    pub aq: u8,
    /// Release bit.
    pub rl: u8,
}
/// `rd, rs1, rs2, rm` (FP arithmetic; `rm` is funct3 for the non-rounding ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsRRm {
    /// Destination.
    pub rd: u8,
    /// First source.
    pub rs1: u8,
    /// Second source.
    pub rs2: u8,
    /// Rounding mode field.
    pub rm: u8,
}
/// `rd, rs1, rm` (fsqrt, fcvt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsR2Rm {
    /// Destination.
    pub rd: u8,
    /// Source.
    pub rs1: u8,
    /// Rounding mode field.
    pub rm: u8,
}
/// `rd, rs1, rs2, rs3, rm` (fused multiply-add).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsR4 {
    /// Destination.
    pub rd: u8,
    /// Multiplicand.
    pub rs1: u8,
    /// Multiplier.
    pub rs2: u8,
    /// Addend.
    pub rs3: u8,
    /// Rounding mode field.
    pub rm: u8,
}
/// `rd, rs1, csr` (Zicsr; `rs1` is the 5-bit immediate of the `i` forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsCsr {
    /// Destination.
    pub rd: u8,
    /// Source register or zero-extended immediate.
    pub rs1: u8,
    /// CSR number.
    pub csr: u16,
}
/// `pred, succ` (fence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsFence {
    /// Predecessor set (IORW).
    pub pred: u8,
    /// Successor set (IORW).
    pub succ: u8,
}
/// No operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsEmpty {}

/// Declares formats: `name: ArgsType { arg: FIELD, ... };` becomes, in module `fmt`, a type
/// alias `fmt::name = ArgsType` and a `const fn fmt::name(w) -> ArgsType`.
macro_rules! formats {
    ($( $name:ident : $args:ident { $( $arg:ident : $field:expr ),* } ; )*) => {
        /// Formats: how each argument set is filled from an instruction word.
        #[allow(non_camel_case_types, dead_code, clippy::unnecessary_cast)]
        pub mod fmt {
            use super::*;
            $(
                #[doc = concat!("Format `", stringify!($name), "` (", stringify!($args), ").")]
                pub type $name = $args;
                #[doc = concat!("Extracts format `", stringify!($name), "`.")]
                #[inline(always)]
                pub const fn $name(_w: u32) -> $args {
                    $args { $( $arg: $field.extract(_w) as _ ),* }
                }
            )*
        }
    };
}

formats! {
    // 32-bit formats
    r: ArgsR { rd: RD, rs1: RS1, rs2: RS2 };
    r2: ArgsR2 { rd: RD, rs1: RS1 };
    i: ArgsI { rd: RD, rs1: RS1, imm: IMM_I };
    s: ArgsS { rs1: RS1, rs2: RS2, imm: IMM_S };
    b: ArgsS { rs1: RS1, rs2: RS2, imm: IMM_B };
    u: ArgsU { rd: RD, imm: IMM_U };
    j: ArgsU { rd: RD, imm: IMM_J };
    sh6: ArgsShift { rd: RD, rs1: RS1, shamt: SHAMT6 };
    sh5: ArgsShift { rd: RD, rs1: RS1, shamt: SHAMT5 };
    atom: ArgsAtomic { rd: RD, rs1: RS1, rs2: RS2, aq: AQ, rl: RL };
    r_rm: ArgsRRm { rd: RD, rs1: RS1, rs2: RS2, rm: RM };
    r2_rm: ArgsR2Rm { rd: RD, rs1: RS1, rm: RM };
    r4: ArgsR4 { rd: RD, rs1: RS1, rs2: RS2, rs3: RS3, rm: RM };
    csr: ArgsCsr { rd: RD, rs1: RS1, csr: CSR };
    fence: ArgsFence { pred: PRED, succ: SUCC };
    empty: ArgsEmpty {};
    // 16-bit formats (each builds the argument set of the 32-bit instruction it expands to)
    c_addi4spn: ArgsI { rd: C_RS2P, rs1: X2, imm: C_ADDI4SPN };
    c_lw: ArgsI { rd: C_RS2P, rs1: C_RS1P, imm: C_LW };
    c_ld: ArgsI { rd: C_RS2P, rs1: C_RS1P, imm: C_LD };
    c_sw: ArgsS { rs1: C_RS1P, rs2: C_RS2P, imm: C_LW };
    c_sd: ArgsS { rs1: C_RS1P, rs2: C_RS2P, imm: C_LD };
    c_addi: ArgsI { rd: C_RD, rs1: C_RD, imm: C_IMM6 };
    c_li: ArgsI { rd: C_RD, rs1: ZERO, imm: C_IMM6 };
    c_addi16sp: ArgsI { rd: X2, rs1: X2, imm: C_ADDI16SP };
    c_lui: ArgsU { rd: C_RD, imm: C_LUI };
    c_shift: ArgsShift { rd: C_RS1P, rs1: C_RS1P, shamt: C_UIMM6 };
    c_andi: ArgsI { rd: C_RS1P, rs1: C_RS1P, imm: C_IMM6 };
    c_arith: ArgsR { rd: C_RS1P, rs1: C_RS1P, rs2: C_RS2P };
    c_j: ArgsU { rd: ZERO, imm: C_J };
    c_beqz: ArgsS { rs1: C_RS1P, rs2: ZERO, imm: C_B };
    c_slli: ArgsShift { rd: C_RD, rs1: C_RD, shamt: C_UIMM6 };
    c_lwsp: ArgsI { rd: C_RD, rs1: X2, imm: C_LWSP };
    c_ldsp: ArgsI { rd: C_RD, rs1: X2, imm: C_LDSP };
    c_swsp: ArgsS { rs1: X2, rs2: C_RS2, imm: C_SWSP };
    c_sdsp: ArgsS { rs1: X2, rs2: C_RS2, imm: C_SDSP };
    c_jr: ArgsI { rd: ZERO, rs1: C_RD, imm: ZERO };
    c_jalr: ArgsI { rd: X1, rs1: C_RD, imm: ZERO };
    c_mv: ArgsR { rd: C_RD, rs1: ZERO, rs2: C_RS2 };
    c_add: ArgsR { rd: C_RD, rs1: C_RD, rs2: C_RS2 };
}

/// One decode pattern (one line of a table).
#[derive(Clone, Copy)]
pub struct Pattern {
    /// Mnemonic (`_` for `.`: `fence_i`, `c_addi`).
    pub name: &'static str,
    /// The pattern as written.
    pub text: &'static str,
    /// Fixed-bit mask.
    pub mask: u32,
    /// Values of the fixed bits.
    pub bits: u32,
    /// Overlap group (0: none; members of one `{ }` group share a number).
    pub group: u16,
    /// Builds the decoded instruction from a matching word.
    pub ctor: fn(u32) -> Insn,
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} \"{}\"", self.name, self.text)
    }
}

impl Pattern {
    /// Whether word `w` matches.
    #[inline(always)]
    pub const fn matches(&self, w: u32) -> bool {
        w & self.mask == self.bits
    }
    /// The assembler mnemonic (`c_addi` -> `c.addi`).
    pub fn mnemonic(&self) -> String {
        self.name.replace('_', ".")
    }
}

/// Parses a pattern string at compile time: returns (mask, bits, width in bits).
pub const fn parse_pattern(p: &str) -> (u32, u32, u32) {
    let s = p.as_bytes();
    let (mut mask, mut bits, mut n) = (0u32, 0u32, 0u32);
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'0' | b'1' | b'.' => {
                mask <<= 1;
                bits <<= 1;
                if s[i] != b'.' {
                    mask |= 1;
                    bits |= (s[i] - b'0') as u32;
                }
                n += 1;
            }
            b' ' | b'_' => {}
            _ => panic!("decode pattern: only 0, 1, . and spaces are allowed"),
        }
        i += 1;
    }
    (mask, bits, n)
}

/// Compile-time pattern helper used by `decode_table!`: (mask, bits) of a pattern of exactly
/// `width` bits.
pub const fn pattern_bits(p: &str, width: u32) -> (u32, u32) {
    let (m, b, n) = parse_pattern(p);
    assert!(n == width, "decode pattern has the wrong number of bits");
    (m, b)
}

/// Why a table is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// Two patterns outside a common group match a common word.
    Overlap(usize, usize),
    /// An earlier member of the same group matches every word the later one does.
    Unreachable {
        /// The hiding pattern.
        earlier: usize,
        /// The hidden pattern.
        later: usize,
    },
    /// A lookup bucket is too small for this table.
    BucketOverflow,
}

/// Checks a table: no overlap between patterns unless both are in the same group, and no
/// group member hidden by an earlier one (QEMU tests/decode's "overlap" and "unreachable").
pub const fn check_table(p: &[Pattern]) -> Result<(), TableError> {
    let mut i = 0;
    while i < p.len() {
        let mut j = i + 1;
        while j < p.len() {
            let common = p[i].mask & p[j].mask;
            let overlap = (p[i].bits ^ p[j].bits) & common == 0;
            if overlap {
                if p[i].group == 0 || p[i].group != p[j].group {
                    return Err(TableError::Overlap(i, j));
                }
                // i covers j when i's fixed bits are a subset of j's (and agree)
                if common == p[i].mask {
                    return Err(TableError::Unreachable { earlier: i, later: j });
                }
            }
            j += 1;
        }
        i += 1;
    }
    Ok(())
}

/// Maximum number of patterns in one lookup bucket.
pub const BUCKET_CAP: usize = 40;

/// Lookup buckets: for each key value, the indices of the patterns that can match a word with
/// that key, in table order.
#[derive(Clone, Copy)]
pub struct Buckets<const N: usize> {
    idx: [[u16; BUCKET_CAP]; N],
    len: [u8; N],
}

/// The decode key of a word: two bit ranges `(low bit, length)` concatenated (second range
/// above the first).
#[derive(Clone, Copy)]
pub struct Key {
    lo: (u32, u32),
    hi: (u32, u32),
}

impl Key {
    /// Key value of word `w`.
    #[inline(always)]
    pub const fn of(&self, w: u32) -> usize {
        let a = (w >> self.lo.0) & ((1 << self.lo.1) - 1);
        let b = (w >> self.hi.0) & ((1 << self.hi.1) - 1);
        (a | (b << self.lo.1)) as usize
    }
}

/// 32-bit key: major opcode bits 6:2 and funct3 (bits 14:12).
pub const KEY32: Key = Key { lo: (2, 5), hi: (12, 3) };
/// 16-bit key: quadrant (bits 1:0) and funct3 (bits 15:13).
pub const KEY16: Key = Key { lo: (0, 2), hi: (13, 3) };

/// Builds the lookup buckets of a table at compile time.
pub const fn build_buckets<const N: usize>(p: &[Pattern], key: Key) -> Result<Buckets<N>, TableError> {
    let mut b = Buckets { idx: [[0u16; BUCKET_CAP]; N], len: [0u8; N] };
    let mut k = 0;
    while k < N {
        let mut i = 0;
        while i < p.len() {
            let km = key.of(p[i].mask);
            if k & km == key.of(p[i].bits) {
                let n = b.len[k] as usize;
                if n >= BUCKET_CAP {
                    return Err(TableError::BucketOverflow);
                }
                b.idx[k][n] = i as u16;
                b.len[k] += 1;
            }
            i += 1;
        }
        k += 1;
    }
    Ok(b)
}

/// Unwraps a table check at compile time (a bad table does not compile).
pub const fn must<T: Copy>(r: Result<T, TableError>) -> T {
    match r {
        Ok(v) => v,
        Err(TableError::Overlap(..)) => panic!("decode table: patterns overlap outside a group"),
        Err(TableError::Unreachable { .. }) => panic!("decode table: a group member is unreachable"),
        Err(TableError::BucketOverflow) => panic!("decode table: a lookup bucket overflows"),
    }
}

impl<const N: usize> Buckets<N> {
    /// Finds the first pattern of `pats` matching `w`.
    #[inline(always)]
    pub fn find(&self, pats: &[Pattern], key: Key, w: u32) -> Option<usize> {
        let k = key.of(w);
        let n = self.len[k] as usize;
        self.idx[k][..n].iter().map(|&i| i as usize).find(|&i| pats[i].matches(w))
    }
}

/// Declares a decode table.
///
/// ```text
/// decode_table! {
///     patterns PATS32, width 32;          // const PATS32: &[Pattern]
///     add  "0000000 ..... ..... 000 ..... 0110011" r;           // variant = name
///     {                                                        // ordered overlap group
///         illegal "011 0 ..... 00000 01" empty;
///         c_lui   "011 . ..... ..... 01" c_lui => lui;         // variant given
///     }
/// }
/// ```
/// Each line becomes a [`Pattern`] whose constructor applies format `fmt::<format>` and wraps
/// it in `Insn::<variant>`. Groups may not nest.
#[macro_export]
macro_rules! decode_table {
    (patterns $pats:ident, width $w:literal; $($body:tt)*) => {
        $crate::decode_table!(@munch [$pats, $w] [] [] $($body)*);
    };
    // a run of plain lines, then a group
    (@munch $hdr:tt [$($acc:tt)*] [$($gc:tt)*]
        $( $n:ident $p:literal $f:ident $(=> $v:ident)? ; )*
        { $($g:tt)* } $($rest:tt)*) => {
        $crate::decode_table!(@group $hdr [$($acc)* $( [$n $p $f [$($v)?] 0] )*] [$($gc)* 1] (1 $(+ $gc)*)
            { $($g)* } $($rest)*);
    };
    // the final run of plain lines
    (@munch $hdr:tt [$($acc:tt)*] [$($gc:tt)*] $( $n:ident $p:literal $f:ident $(=> $v:ident)? ; )*) => {
        $crate::decode_table!(@emit $hdr $($acc)* $( [$n $p $f [$($v)?] 0] )*);
    };
    (@group $hdr:tt [$($acc:tt)*] $gc:tt $gid:tt
        { $( $n:ident $p:literal $f:ident $(=> $v:ident)? ; )* } $($rest:tt)*) => {
        $crate::decode_table!(@munch $hdr [$($acc)* $( [$n $p $f [$($v)?] $gid] )*] $gc $($rest)*);
    };
    (@ctor $f:ident $n:ident []) => { |w| Insn::$n(fmt::$f(w)) };
    (@ctor $f:ident $n:ident [$v:ident]) => { |w| Insn::$v(fmt::$f(w)) };
    (@emit [$pats:ident, $w:literal] $( [$n:ident $p:literal $f:ident [$($v:ident)?] $gid:tt] )*) => {
        #[doc = concat!("The ", stringify!($w), "-bit decode patterns, in table order.")]
        pub const $pats: &[Pattern] = &[
            $( Pattern {
                name: stringify!($n),
                text: $p,
                mask: pattern_bits($p, $w).0,
                bits: pattern_bits($p, $w).1,
                group: $gid,
                ctor: $crate::decode_table!(@ctor $f $n [$($v)?]),
            }, )*
        ];
    };
}

/// Declares the [`Insn`] enum (one variant per 32-bit mnemonic plus `illegal`) and
/// [`Insn::name`].
macro_rules! insn_enum {
    ($( $n:ident($f:ident) ),* $(,)?) => {
        /// A decoded instruction: the mnemonic (the 32-bit instruction a compressed one expands
        /// to) with its operands.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Insn {
            /// A reserved encoding (always an illegal instruction).
            illegal(ArgsEmpty),
            $(
                #[doc = concat!("`", stringify!($n), "`")]
                $n(fmt::$f),
            )*
        }
        impl Insn {
            /// The identifier of the (expanded) instruction, e.g. `fcvt_w_s`.
            pub fn name(&self) -> &'static str {
                match self {
                    Insn::illegal(_) => "illegal",
                    $( Insn::$n(_) => stringify!($n), )*
                }
            }
        }
        /// Calls `trans_<mnemonic>` for a decoded instruction; false means illegal.
        pub(crate) fn dispatch(
            ctx: &mut super::translate::DisasContext<'_>,
            b: &mut ir::Builder,
            insn: Insn,
        ) -> bool {
            use super::trans::*;
            match insn {
                Insn::illegal(_) => false,
                $( Insn::$n(a) => pastey::paste!{ [<trans_ $n>](ctx, b, a) }, )*
            }
        }
    };
}

impl Insn {
    /// The assembler mnemonic with dots (`fcvt.w.s`, `sh1add.uw`).
    pub fn mnemonic(&self) -> String {
        self.name().replace('_', ".")
    }
}

insn_enum! {
    lui(u), auipc(u), jal(j), jalr(i),
    beq(b), bne(b), blt(b), bge(b), bltu(b), bgeu(b),
    lb(i), lh(i), lw(i), ld(i), lbu(i), lhu(i), lwu(i),
    sb(s), sh(s), sw(s), sd(s),
    addi(i), slti(i), sltiu(i), xori(i), ori(i), andi(i),
    slli(sh6), srli(sh6), srai(sh6),
    add(r), sub(r), sll(r), slt(r), sltu(r), xor(r), srl(r), sra(r), or(r), and(r),
    fence(fence), fence_i(empty), ecall(empty), ebreak(empty),
    addiw(i), slliw(sh5), srliw(sh5), sraiw(sh5),
    addw(r), subw(r), sllw(r), srlw(r), sraw(r),
    csrrw(csr), csrrs(csr), csrrc(csr), csrrwi(csr), csrrsi(csr), csrrci(csr),
    mul(r), mulh(r), mulhsu(r), mulhu(r), div(r), divu(r), rem(r), remu(r),
    mulw(r), divw(r), divuw(r), remw(r), remuw(r),
    lr_w(atom), sc_w(atom), amoswap_w(atom), amoadd_w(atom), amoxor_w(atom), amoand_w(atom),
    amoor_w(atom), amomin_w(atom), amomax_w(atom), amominu_w(atom), amomaxu_w(atom),
    lr_d(atom), sc_d(atom), amoswap_d(atom), amoadd_d(atom), amoxor_d(atom), amoand_d(atom),
    amoor_d(atom), amomin_d(atom), amomax_d(atom), amominu_d(atom), amomaxu_d(atom),
    flw(i), fsw(s), fld(i), fsd(s),
    fmadd_s(r4), fmsub_s(r4), fnmsub_s(r4), fnmadd_s(r4),
    fadd_s(r_rm), fsub_s(r_rm), fmul_s(r_rm), fdiv_s(r_rm), fsqrt_s(r2_rm),
    fsgnj_s(r), fsgnjn_s(r), fsgnjx_s(r), fmin_s(r), fmax_s(r),
    fcvt_w_s(r2_rm), fcvt_wu_s(r2_rm), fcvt_l_s(r2_rm), fcvt_lu_s(r2_rm),
    fmv_x_w(r2), feq_s(r), flt_s(r), fle_s(r), fclass_s(r2),
    fcvt_s_w(r2_rm), fcvt_s_wu(r2_rm), fcvt_s_l(r2_rm), fcvt_s_lu(r2_rm), fmv_w_x(r2),
    fmadd_d(r4), fmsub_d(r4), fnmsub_d(r4), fnmadd_d(r4),
    fadd_d(r_rm), fsub_d(r_rm), fmul_d(r_rm), fdiv_d(r_rm), fsqrt_d(r2_rm),
    fsgnj_d(r), fsgnjn_d(r), fsgnjx_d(r), fmin_d(r), fmax_d(r),
    fcvt_s_d(r2_rm), fcvt_d_s(r2_rm),
    feq_d(r), flt_d(r), fle_d(r), fclass_d(r2),
    fcvt_w_d(r2_rm), fcvt_wu_d(r2_rm), fcvt_l_d(r2_rm), fcvt_lu_d(r2_rm),
    fcvt_d_w(r2_rm), fcvt_d_wu(r2_rm), fcvt_d_l(r2_rm), fcvt_d_lu(r2_rm),
    fmv_x_d(r2), fmv_d_x(r2),
    sh1add(r), sh2add(r), sh3add(r), add_uw(r), sh1add_uw(r), sh2add_uw(r), sh3add_uw(r), slli_uw(sh6),
    andn(r), orn(r), xnor(r), clz(r2), ctz(r2), cpop(r2), clzw(r2), ctzw(r2), cpopw(r2),
    max(r), maxu(r), min(r), minu(r), sext_b(r2), sext_h(r2), zext_h(r2),
    rol(r), ror(r), rori(sh6), rolw(r), rorw(r), roriw(sh5), orc_b(r2), rev8(r2),
    bclr(r), bclri(sh6), bext(r), bexti(sh6), binv(r), binvi(sh6), bset(r), bseti(sh6),
}

// The 32-bit table. Columns: mnemonic, bit pattern (funct7 rs2 rs1 funct3 rd opcode for the
// R-type layout, MSB first), format. Order matters only inside `{ }` groups.
decode_table! {
    patterns PATS32, width 32;
    // RV32I / RV64I (§2, §5)
    lui     "....... ..... ..... ... ..... 0110111" u;
    auipc   "....... ..... ..... ... ..... 0010111" u;
    jal     "....... ..... ..... ... ..... 1101111" j;
    jalr    "....... ..... ..... 000 ..... 1100111" i;
    beq     "....... ..... ..... 000 ..... 1100011" b;
    bne     "....... ..... ..... 001 ..... 1100011" b;
    blt     "....... ..... ..... 100 ..... 1100011" b;
    bge     "....... ..... ..... 101 ..... 1100011" b;
    bltu    "....... ..... ..... 110 ..... 1100011" b;
    bgeu    "....... ..... ..... 111 ..... 1100011" b;
    lb      "....... ..... ..... 000 ..... 0000011" i;
    lh      "....... ..... ..... 001 ..... 0000011" i;
    lw      "....... ..... ..... 010 ..... 0000011" i;
    ld      "....... ..... ..... 011 ..... 0000011" i;
    lbu     "....... ..... ..... 100 ..... 0000011" i;
    lhu     "....... ..... ..... 101 ..... 0000011" i;
    lwu     "....... ..... ..... 110 ..... 0000011" i;
    sb      "....... ..... ..... 000 ..... 0100011" s;
    sh      "....... ..... ..... 001 ..... 0100011" s;
    sw      "....... ..... ..... 010 ..... 0100011" s;
    sd      "....... ..... ..... 011 ..... 0100011" s;
    addi    "....... ..... ..... 000 ..... 0010011" i;
    slti    "....... ..... ..... 010 ..... 0010011" i;
    sltiu   "....... ..... ..... 011 ..... 0010011" i;
    xori    "....... ..... ..... 100 ..... 0010011" i;
    ori     "....... ..... ..... 110 ..... 0010011" i;
    andi    "....... ..... ..... 111 ..... 0010011" i;
    slli    "000000. ..... ..... 001 ..... 0010011" sh6;
    srli    "000000. ..... ..... 101 ..... 0010011" sh6;
    srai    "010000. ..... ..... 101 ..... 0010011" sh6;
    add     "0000000 ..... ..... 000 ..... 0110011" r;
    sub     "0100000 ..... ..... 000 ..... 0110011" r;
    sll     "0000000 ..... ..... 001 ..... 0110011" r;
    slt     "0000000 ..... ..... 010 ..... 0110011" r;
    sltu    "0000000 ..... ..... 011 ..... 0110011" r;
    xor     "0000000 ..... ..... 100 ..... 0110011" r;
    srl     "0000000 ..... ..... 101 ..... 0110011" r;
    sra     "0100000 ..... ..... 101 ..... 0110011" r;
    or      "0000000 ..... ..... 110 ..... 0110011" r;
    and     "0000000 ..... ..... 111 ..... 0110011" r;
    fence   "....... ..... ..... 000 ..... 0001111" fence;
    ecall   "0000000 00000 00000 000 00000 1110011" empty;
    ebreak  "0000000 00001 00000 000 00000 1110011" empty;
    addiw   "....... ..... ..... 000 ..... 0011011" i;
    slliw   "0000000 ..... ..... 001 ..... 0011011" sh5;
    srliw   "0000000 ..... ..... 101 ..... 0011011" sh5;
    sraiw   "0100000 ..... ..... 101 ..... 0011011" sh5;
    addw    "0000000 ..... ..... 000 ..... 0111011" r;
    subw    "0100000 ..... ..... 000 ..... 0111011" r;
    sllw    "0000000 ..... ..... 001 ..... 0111011" r;
    srlw    "0000000 ..... ..... 101 ..... 0111011" r;
    sraw    "0100000 ..... ..... 101 ..... 0111011" r;
    // Zifencei (§3)
    fence_i "....... ..... ..... 001 ..... 0001111" empty;
    // Zicsr (§9)
    csrrw   "....... ..... ..... 001 ..... 1110011" csr;
    csrrs   "....... ..... ..... 010 ..... 1110011" csr;
    csrrc   "....... ..... ..... 011 ..... 1110011" csr;
    csrrwi  "....... ..... ..... 101 ..... 1110011" csr;
    csrrsi  "....... ..... ..... 110 ..... 1110011" csr;
    csrrci  "....... ..... ..... 111 ..... 1110011" csr;
    // M (§7)
    mul     "0000001 ..... ..... 000 ..... 0110011" r;
    mulh    "0000001 ..... ..... 001 ..... 0110011" r;
    mulhsu  "0000001 ..... ..... 010 ..... 0110011" r;
    mulhu   "0000001 ..... ..... 011 ..... 0110011" r;
    div     "0000001 ..... ..... 100 ..... 0110011" r;
    divu    "0000001 ..... ..... 101 ..... 0110011" r;
    rem     "0000001 ..... ..... 110 ..... 0110011" r;
    remu    "0000001 ..... ..... 111 ..... 0110011" r;
    mulw    "0000001 ..... ..... 000 ..... 0111011" r;
    divw    "0000001 ..... ..... 100 ..... 0111011" r;
    divuw   "0000001 ..... ..... 101 ..... 0111011" r;
    remw    "0000001 ..... ..... 110 ..... 0111011" r;
    remuw   "0000001 ..... ..... 111 ..... 0111011" r;
    // A (§8): funct5 aq rl rs2 rs1 width rd
    lr_w      "00010 . . 00000 ..... 010 ..... 0101111" atom;
    sc_w      "00011 . . ..... ..... 010 ..... 0101111" atom;
    amoswap_w "00001 . . ..... ..... 010 ..... 0101111" atom;
    amoadd_w  "00000 . . ..... ..... 010 ..... 0101111" atom;
    amoxor_w  "00100 . . ..... ..... 010 ..... 0101111" atom;
    amoand_w  "01100 . . ..... ..... 010 ..... 0101111" atom;
    amoor_w   "01000 . . ..... ..... 010 ..... 0101111" atom;
    amomin_w  "10000 . . ..... ..... 010 ..... 0101111" atom;
    amomax_w  "10100 . . ..... ..... 010 ..... 0101111" atom;
    amominu_w "11000 . . ..... ..... 010 ..... 0101111" atom;
    amomaxu_w "11100 . . ..... ..... 010 ..... 0101111" atom;
    lr_d      "00010 . . 00000 ..... 011 ..... 0101111" atom;
    sc_d      "00011 . . ..... ..... 011 ..... 0101111" atom;
    amoswap_d "00001 . . ..... ..... 011 ..... 0101111" atom;
    amoadd_d  "00000 . . ..... ..... 011 ..... 0101111" atom;
    amoxor_d  "00100 . . ..... ..... 011 ..... 0101111" atom;
    amoand_d  "01100 . . ..... ..... 011 ..... 0101111" atom;
    amoor_d   "01000 . . ..... ..... 011 ..... 0101111" atom;
    amomin_d  "10000 . . ..... ..... 011 ..... 0101111" atom;
    amomax_d  "10100 . . ..... ..... 011 ..... 0101111" atom;
    amominu_d "11000 . . ..... ..... 011 ..... 0101111" atom;
    amomaxu_d "11100 . . ..... ..... 011 ..... 0101111" atom;
    // F and D (§11, §12): loads, stores, fused multiply-add (rs3 fmt rs2 rs1 rm rd opcode)
    flw     "....... ..... ..... 010 ..... 0000111" i;
    fld     "....... ..... ..... 011 ..... 0000111" i;
    fsw     "....... ..... ..... 010 ..... 0100111" s;
    fsd     "....... ..... ..... 011 ..... 0100111" s;
    fmadd_s  "..... 00 ..... ..... ... ..... 1000011" r4;
    fmsub_s  "..... 00 ..... ..... ... ..... 1000111" r4;
    fnmsub_s "..... 00 ..... ..... ... ..... 1001011" r4;
    fnmadd_s "..... 00 ..... ..... ... ..... 1001111" r4;
    fmadd_d  "..... 01 ..... ..... ... ..... 1000011" r4;
    fmsub_d  "..... 01 ..... ..... ... ..... 1000111" r4;
    fnmsub_d "..... 01 ..... ..... ... ..... 1001011" r4;
    fnmadd_d "..... 01 ..... ..... ... ..... 1001111" r4;
    // OP-FP: funct7 rs2 rs1 rm/funct3 rd 1010011
    fadd_s    "0000000 ..... ..... ... ..... 1010011" r_rm;
    fsub_s    "0000100 ..... ..... ... ..... 1010011" r_rm;
    fmul_s    "0001000 ..... ..... ... ..... 1010011" r_rm;
    fdiv_s    "0001100 ..... ..... ... ..... 1010011" r_rm;
    fsqrt_s   "0101100 00000 ..... ... ..... 1010011" r2_rm;
    fsgnj_s   "0010000 ..... ..... 000 ..... 1010011" r;
    fsgnjn_s  "0010000 ..... ..... 001 ..... 1010011" r;
    fsgnjx_s  "0010000 ..... ..... 010 ..... 1010011" r;
    fmin_s    "0010100 ..... ..... 000 ..... 1010011" r;
    fmax_s    "0010100 ..... ..... 001 ..... 1010011" r;
    fcvt_w_s  "1100000 00000 ..... ... ..... 1010011" r2_rm;
    fcvt_wu_s "1100000 00001 ..... ... ..... 1010011" r2_rm;
    fcvt_l_s  "1100000 00010 ..... ... ..... 1010011" r2_rm;
    fcvt_lu_s "1100000 00011 ..... ... ..... 1010011" r2_rm;
    fmv_x_w   "1110000 00000 ..... 000 ..... 1010011" r2;
    fclass_s  "1110000 00000 ..... 001 ..... 1010011" r2;
    feq_s     "1010000 ..... ..... 010 ..... 1010011" r;
    flt_s     "1010000 ..... ..... 001 ..... 1010011" r;
    fle_s     "1010000 ..... ..... 000 ..... 1010011" r;
    fcvt_s_w  "1101000 00000 ..... ... ..... 1010011" r2_rm;
    fcvt_s_wu "1101000 00001 ..... ... ..... 1010011" r2_rm;
    fcvt_s_l  "1101000 00010 ..... ... ..... 1010011" r2_rm;
    fcvt_s_lu "1101000 00011 ..... ... ..... 1010011" r2_rm;
    fmv_w_x   "1111000 00000 ..... 000 ..... 1010011" r2;
    fadd_d    "0000001 ..... ..... ... ..... 1010011" r_rm;
    fsub_d    "0000101 ..... ..... ... ..... 1010011" r_rm;
    fmul_d    "0001001 ..... ..... ... ..... 1010011" r_rm;
    fdiv_d    "0001101 ..... ..... ... ..... 1010011" r_rm;
    fsqrt_d   "0101101 00000 ..... ... ..... 1010011" r2_rm;
    fsgnj_d   "0010001 ..... ..... 000 ..... 1010011" r;
    fsgnjn_d  "0010001 ..... ..... 001 ..... 1010011" r;
    fsgnjx_d  "0010001 ..... ..... 010 ..... 1010011" r;
    fmin_d    "0010101 ..... ..... 000 ..... 1010011" r;
    fmax_d    "0010101 ..... ..... 001 ..... 1010011" r;
    fcvt_s_d  "0100000 00001 ..... ... ..... 1010011" r2_rm;
    fcvt_d_s  "0100001 00000 ..... ... ..... 1010011" r2_rm;
    feq_d     "1010001 ..... ..... 010 ..... 1010011" r;
    flt_d     "1010001 ..... ..... 001 ..... 1010011" r;
    fle_d     "1010001 ..... ..... 000 ..... 1010011" r;
    fclass_d  "1110001 00000 ..... 001 ..... 1010011" r2;
    fcvt_w_d  "1100001 00000 ..... ... ..... 1010011" r2_rm;
    fcvt_wu_d "1100001 00001 ..... ... ..... 1010011" r2_rm;
    fcvt_l_d  "1100001 00010 ..... ... ..... 1010011" r2_rm;
    fcvt_lu_d "1100001 00011 ..... ... ..... 1010011" r2_rm;
    fcvt_d_w  "1101001 00000 ..... ... ..... 1010011" r2_rm;
    fcvt_d_wu "1101001 00001 ..... ... ..... 1010011" r2_rm;
    fcvt_d_l  "1101001 00010 ..... ... ..... 1010011" r2_rm;
    fcvt_d_lu "1101001 00011 ..... ... ..... 1010011" r2_rm;
    fmv_x_d   "1110001 00000 ..... 000 ..... 1010011" r2;
    fmv_d_x   "1111001 00000 ..... 000 ..... 1010011" r2;
    // Zba
    sh1add    "0010000 ..... ..... 010 ..... 0110011" r;
    sh2add    "0010000 ..... ..... 100 ..... 0110011" r;
    sh3add    "0010000 ..... ..... 110 ..... 0110011" r;
    add_uw    "0000100 ..... ..... 000 ..... 0111011" r;
    sh1add_uw "0010000 ..... ..... 010 ..... 0111011" r;
    sh2add_uw "0010000 ..... ..... 100 ..... 0111011" r;
    sh3add_uw "0010000 ..... ..... 110 ..... 0111011" r;
    slli_uw   "000010. ..... ..... 001 ..... 0011011" sh6;
    // Zbb
    andn    "0100000 ..... ..... 111 ..... 0110011" r;
    orn     "0100000 ..... ..... 110 ..... 0110011" r;
    xnor    "0100000 ..... ..... 100 ..... 0110011" r;
    clz     "0110000 00000 ..... 001 ..... 0010011" r2;
    ctz     "0110000 00001 ..... 001 ..... 0010011" r2;
    cpop    "0110000 00010 ..... 001 ..... 0010011" r2;
    clzw    "0110000 00000 ..... 001 ..... 0011011" r2;
    ctzw    "0110000 00001 ..... 001 ..... 0011011" r2;
    cpopw   "0110000 00010 ..... 001 ..... 0011011" r2;
    max     "0000101 ..... ..... 110 ..... 0110011" r;
    maxu    "0000101 ..... ..... 111 ..... 0110011" r;
    min     "0000101 ..... ..... 100 ..... 0110011" r;
    minu    "0000101 ..... ..... 101 ..... 0110011" r;
    sext_b  "0110000 00100 ..... 001 ..... 0010011" r2;
    sext_h  "0110000 00101 ..... 001 ..... 0010011" r2;
    zext_h  "0000100 00000 ..... 100 ..... 0111011" r2;
    rol     "0110000 ..... ..... 001 ..... 0110011" r;
    ror     "0110000 ..... ..... 101 ..... 0110011" r;
    rori    "011000. ..... ..... 101 ..... 0010011" sh6;
    rolw    "0110000 ..... ..... 001 ..... 0111011" r;
    rorw    "0110000 ..... ..... 101 ..... 0111011" r;
    roriw   "0110000 ..... ..... 101 ..... 0011011" sh5;
    orc_b   "0010100 00111 ..... 101 ..... 0010011" r2;
    rev8    "0110101 11000 ..... 101 ..... 0010011" r2;
    // Zbs
    bclr    "0100100 ..... ..... 001 ..... 0110011" r;
    bclri   "010010. ..... ..... 001 ..... 0010011" sh6;
    bext    "0100100 ..... ..... 101 ..... 0110011" r;
    bexti   "010010. ..... ..... 101 ..... 0010011" sh6;
    binv    "0110100 ..... ..... 001 ..... 0110011" r;
    binvi   "011010. ..... ..... 001 ..... 0010011" sh6;
    bset    "0010100 ..... ..... 001 ..... 0110011" r;
    bseti   "001010. ..... ..... 001 ..... 0010011" sh6;
}

// The 16-bit (RVC, RV64C) table, §16.8 Table 16.5-16.7. Each line names the compressed form,
// its pattern, the format that builds the expanded instruction's operands, and that
// instruction. Groups put reserved encodings (`illegal`) before the forms they carve out of.
decode_table! {
    patterns PATS16, width 16;
    // quadrant 0
    {
        illegal    "000 00000000 ... 00" empty;
        c_addi4spn "000 ........ ... 00" c_addi4spn => addi;
    }
    c_fld      "001 ... ... .. ... 00" c_ld => fld;
    c_lw       "010 ... ... .. ... 00" c_lw => lw;
    c_ld       "011 ... ... .. ... 00" c_ld => ld;
    c_fsd      "101 ... ... .. ... 00" c_sd => fsd;
    c_sw       "110 ... ... .. ... 00" c_sw => sw;
    c_sd       "111 ... ... .. ... 00" c_sd => sd;
    // quadrant 1
    c_addi     "000 . ..... ..... 01" c_addi => addi;
    {
        illegal    "001 . 00000 ..... 01" empty;
        c_addiw    "001 . ..... ..... 01" c_addi => addiw;
    }
    c_li       "010 . ..... ..... 01" c_li => addi;
    {
        illegal    "011 0 ..... 00000 01" empty;
        c_addi16sp "011 . 00010 ..... 01" c_addi16sp => addi;
        c_lui      "011 . ..... ..... 01" c_lui => lui;
    }
    c_srli     "100 . 00 ... ..... 01" c_shift => srli;
    c_srai     "100 . 01 ... ..... 01" c_shift => srai;
    c_andi     "100 . 10 ... ..... 01" c_andi => andi;
    c_sub      "100 0 11 ... 00 ... 01" c_arith => sub;
    c_xor      "100 0 11 ... 01 ... 01" c_arith => xor;
    c_or       "100 0 11 ... 10 ... 01" c_arith => or;
    c_and      "100 0 11 ... 11 ... 01" c_arith => and;
    c_subw     "100 1 11 ... 00 ... 01" c_arith => subw;
    c_addw     "100 1 11 ... 01 ... 01" c_arith => addw;
    c_j        "101 ........... 01" c_j => jal;
    c_beqz     "110 ... ... ..... 01" c_beqz => beq;
    c_bnez     "111 ... ... ..... 01" c_beqz => bne;
    // quadrant 2
    c_slli     "000 . ..... ..... 10" c_slli => slli;
    c_fldsp    "001 . ..... ..... 10" c_ldsp => fld;
    {
        illegal    "010 . 00000 ..... 10" empty;
        c_lwsp     "010 . ..... ..... 10" c_lwsp => lw;
    }
    {
        illegal    "011 . 00000 ..... 10" empty;
        c_ldsp     "011 . ..... ..... 10" c_ldsp => ld;
    }
    {
        illegal    "100 0 00000 00000 10" empty;
        c_jr       "100 0 ..... 00000 10" c_jr => jalr;
        c_mv       "100 0 ..... ..... 10" c_mv => add;
        c_ebreak   "100 1 00000 00000 10" empty => ebreak;
        c_jalr     "100 1 ..... 00000 10" c_jalr => jalr;
        c_add      "100 1 ..... ..... 10" c_add => add;
    }
    c_fsdsp    "101 . ..... ..... 10" c_sdsp => fsd;
    c_swsp     "110 . ..... ..... 10" c_swsp => sw;
    c_sdsp     "111 . ..... ..... 10" c_sdsp => sd;
}

/// Compile-time checks and lookup buckets of the 32-bit table.
static BUCKETS32: Buckets<256> = must(build_buckets(PATS32, KEY32));
/// Compile-time checks and lookup buckets of the 16-bit table.
static BUCKETS16: Buckets<32> = must(build_buckets(PATS16, KEY16));
const _: () = must(check_table(PATS32));
const _: () = must(check_table(PATS16));

/// Index into [`PATS32`] of the pattern matching a 32-bit word.
#[inline]
pub fn find32(w: u32) -> Option<usize> {
    BUCKETS32.find(PATS32, KEY32, w)
}

/// Index into [`PATS16`] of the pattern matching a 16-bit parcel.
#[inline]
pub fn find16(w: u16) -> Option<usize> {
    BUCKETS16.find(PATS16, KEY16, w as u32)
}

/// Decodes a 32-bit instruction (low two bits `11`); None if no pattern matches.
#[inline]
pub fn decode32(w: u32) -> Option<Insn> {
    find32(w).map(|i| (PATS32[i].ctor)(w))
}

/// Decodes a 16-bit compressed instruction (low two bits not `11`) into the instruction it
/// expands to; None if the encoding is not a known one.
#[inline]
pub fn decode16(w: u16) -> Option<Insn> {
    find16(w).map(|i| (PATS16[i].ctor)(w as u32))
}

/// Length in bytes of the instruction whose first parcel is `lo` (2 or 4; longer encodings
/// are not supported and are treated as 4-byte illegal ones by the translator).
#[inline]
pub const fn insn_len(lo: u16) -> u32 {
    if lo & 3 == 3 {
        4
    } else {
        2
    }
}

#[cfg(test)]
mod tests;
