//! The op table: every IR operation, declared once (QEMU's `tcg-opc.h`, Cranelift's meta crate).
//!
//! From the one `define_ops!` table below come the [`Opcode`] enum, the [`OpInfo`] metadata
//! used by the printer, parser, verifier and optimizer, and the builder methods of the simple
//! arithmetic shapes (`Builder::add`, `Builder::clz`, ...). The evaluator (`crate::eval`,
//! `crate::sem`) and both backends match on `Opcode` exhaustively, so a new row fails to compile
//! until every consumer handles it.
//!
//! Columns: `Variant = "text"`, number of value arguments, whether the op defines a value, what
//! the `imm` field means, what the `aux` field carries, flags, and one line of semantics.
//! **Every op is total**: the semantics line defines the result for every input (shift counts
//! are taken modulo the width, division by zero has a defined result), so two backends can be
//! compared bit for bit.

/// What the `imm` field of an instruction means for an op.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ImmKind {
    /// Unused (zero).
    None,
    /// A constant value of the op's type.
    Value,
    /// A bit count (`sext`/`zext`: extend from this many low bits).
    Bits,
    /// A guest program counter.
    Pc,
    /// An exception cause code (frontend-defined, or one of `backend::EXC_*`).
    Cause,
    /// 0, or the guest pc from which a fault of this load is replayed: the optimizer moved
    /// guest register writes past the load (`opt::get_set`), so at a fault the registers hold
    /// their values as of the start of the instruction at that pc.
    Restart,
}

/// What the `aux` field of an instruction carries for an op.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuxKind {
    /// Nothing.
    None,
    /// A guest register ([`crate::GlobalId`]).
    Global,
    /// A comparison condition.
    Cond,
    /// A memory access descriptor.
    Mem,
    /// An atomic read-modify-write op and its memory access descriptor.
    Atomic,
    /// A helper and its effect flags.
    Helper,
    /// A side-exit destination.
    Exit,
    /// A chaining slot (goto_tb).
    Slot,
    /// Extra per-instruction data (insn_start).
    Extra,
}

/// Effect flags of an op.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OpFlags(pub u16);

impl OpFlags {
    /// No side effects: removable when unused, foldable when its inputs are constant.
    pub const PURE: OpFlags = OpFlags(1);
    /// Reads or writes guest memory.
    pub const MEM: OpFlags = OpFlags(2);
    /// May raise a guest exception (needs a preceding `insn_start`).
    pub const CAN_FAULT: OpFlags = OpFlags(4);
    /// May leave the block before its end (`exit_if`).
    pub const SIDE_EXIT: OpFlags = OpFlags(8);
    /// Ends the block; must be the last instruction.
    pub const TERMINATOR: OpFlags = OpFlags(16);
    /// Reads guest registers.
    pub const READS_GLOBAL: OpFlags = OpFlags(32);
    /// Writes guest registers.
    pub const WRITES_GLOBAL: OpFlags = OpFlags(64);
    /// A marker that generates no code (insn_start).
    pub const MARKER: OpFlags = OpFlags(128);
    /// Has an effect that is not described by the other flags (never removed).
    pub const EFFECT: OpFlags = OpFlags(256);
    /// No flags.
    pub const NONE: OpFlags = OpFlags(0);

    /// Union of two flag sets.
    pub const fn or(self, o: OpFlags) -> OpFlags {
        OpFlags(self.0 | o.0)
    }
    /// Whether every flag of `o` is set.
    pub const fn has(self, o: OpFlags) -> bool {
        self.0 & o.0 == o.0
    }
}

impl Opcode {
    /// Whether `a op b == b op a` (a backend may swap the operands).
    pub fn is_commutative(self) -> bool {
        matches!(
            self,
            Opcode::Add
                | Opcode::Mul
                | Opcode::And
                | Opcode::Or
                | Opcode::Xor
                | Opcode::Xnor
                | Opcode::MulhS
                | Opcode::MulhU
                | Opcode::MinS
                | Opcode::MaxS
                | Opcode::MinU
                | Opcode::MaxU
        )
    }

    /// The FP arithmetic ops (`fadd`..`fma`): their results depend only on their operands, and
    /// their exception flags accrue, so running one again changes nothing.
    pub fn is_fp_arith(self) -> bool {
        matches!(self, Opcode::Fadd | Opcode::Fsub | Opcode::Fmul | Opcode::Fdiv | Opcode::Fsqrt | Opcode::Fma)
    }
}

/// Metadata of one op (one row of the table).
#[derive(Debug)]
pub struct OpInfo {
    /// Text name, as printed and parsed.
    pub name: &'static str,
    /// Number of value arguments (for `call`: the maximum; the instruction says how many).
    pub nargs: u8,
    /// Whether the op defines a value.
    pub has_result: bool,
    /// Meaning of `imm`.
    pub imm: ImmKind,
    /// Meaning of `aux`.
    pub aux: AuxKind,
    /// Effect flags.
    pub flags: OpFlags,
    /// One line of semantics (total for every input).
    pub semantics: &'static str,
}

macro_rules! flags {
    ($($f:ident)|*) => { OpFlags(0 $(| OpFlags::$f.0)*) };
}

macro_rules! define_ops {
    ($( $variant:ident = $text:ident, $nargs:literal, $res:literal, $imm:ident, $aux:ident,
        [$($flag:ident)|*], $build:ident, $sem:literal; )*) => {
        /// An IR operation. See the op table in `op.rs` for each one's semantics.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[repr(u8)]
        pub enum Opcode {
            $(
                #[doc = $sem]
                $variant,
            )*
        }

        /// Metadata of every op, indexed by `Opcode as usize`.
        pub static OP_INFO: &[OpInfo] = &[
            $(OpInfo {
                name: stringify!($text),
                nargs: $nargs,
                has_result: $res,
                imm: ImmKind::$imm,
                aux: AuxKind::$aux,
                flags: flags!($($flag)|*),
                semantics: $sem,
            },)*
        ];

        impl Opcode {
            /// Every opcode, in table order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$variant),*];
            /// This op's row of the table.
            pub fn info(self) -> &'static OpInfo {
                &OP_INFO[self as usize]
            }
            /// Looks an op up by its text name.
            pub fn from_name(name: &str) -> Option<Opcode> {
                match name {
                    $(stringify!($text) => Some(Opcode::$variant),)*
                    _ => None,
                }
            }
        }

        impl crate::builder::Builder {
            $( define_ops!(@build $build $variant $text $sem); )*
        }
    };
    (@build un $variant:ident $text:ident $sem:literal) => {
        #[doc = $sem]
        pub fn $text(&mut self, a: crate::Value) -> crate::Value {
            self.unary(Opcode::$variant, a)
        }
    };
    (@build bin $variant:ident $text:ident $sem:literal) => {
        #[doc = $sem]
        pub fn $text(&mut self, a: crate::Value, b: crate::Value) -> crate::Value {
            self.binary(Opcode::$variant, a, b)
        }
    };
    (@build custom $variant:ident $text:ident $sem:literal) => {};
}

define_ops! {
    // variant  = text,   args res    imm    aux     flags                        builder semantics
    Nop         = nop,       0, false, None,  None,   [PURE],                       custom, "no operation (left behind by passes, removed by compaction)";
    Const       = iconst,    0, true,  Value, None,   [PURE],                       custom, "v = imm truncated to the type";
    Get         = get,       0, true,  None,  Global, [READS_GLOBAL],               custom, "v = the guest register named by aux";
    Set         = set,       1, false, None,  Global, [WRITES_GLOBAL],              custom, "the guest register named by aux = a";
    Add         = add,       2, true,  None,  None,   [PURE],                       bin,    "v = a + b, wrapping";
    Sub         = sub,       2, true,  None,  None,   [PURE],                       bin,    "v = a - b, wrapping";
    Mul         = mul,       2, true,  None,  None,   [PURE],                       bin,    "v = a * b, low half, wrapping";
    MulhS       = mulh_s,    2, true,  None,  None,   [PURE],                       bin,    "v = high half of signed a * signed b";
    MulhU       = mulh_u,    2, true,  None,  None,   [PURE],                       bin,    "v = high half of unsigned a * unsigned b";
    MulhSu      = mulh_su,   2, true,  None,  None,   [PURE],                       bin,    "v = high half of signed a * unsigned b";
    DivS        = div_s,     2, true,  None,  None,   [PURE],                       bin,    "v = signed a / b rounded toward zero; b == 0 gives -1; MIN / -1 gives MIN";
    DivU        = div_u,     2, true,  None,  None,   [PURE],                       bin,    "v = unsigned a / b; b == 0 gives all ones";
    RemS        = rem_s,     2, true,  None,  None,   [PURE],                       bin,    "v = signed a % b (sign of a); b == 0 gives a; MIN % -1 gives 0";
    RemU        = rem_u,     2, true,  None,  None,   [PURE],                       bin,    "v = unsigned a % b; b == 0 gives a";
    And         = and,       2, true,  None,  None,   [PURE],                       bin,    "v = a & b";
    Or          = or,        2, true,  None,  None,   [PURE],                       bin,    "v = a | b";
    Xor         = xor,       2, true,  None,  None,   [PURE],                       bin,    "v = a ^ b";
    Andn        = andn,      2, true,  None,  None,   [PURE],                       bin,    "v = a & !b";
    Orn         = orn,       2, true,  None,  None,   [PURE],                       bin,    "v = a | !b";
    Xnor        = xnor,      2, true,  None,  None,   [PURE],                       bin,    "v = !(a ^ b)";
    Shl         = shl,       2, true,  None,  None,   [PURE],                       bin,    "v = a << (b mod bits)";
    ShrU        = shr_u,     2, true,  None,  None,   [PURE],                       bin,    "v = a >> (b mod bits), zero-filling";
    ShrS        = shr_s,     2, true,  None,  None,   [PURE],                       bin,    "v = a >> (b mod bits), sign-filling";
    Rotl        = rotl,      2, true,  None,  None,   [PURE],                       bin,    "v = a rotated left by (b mod bits)";
    Rotr        = rotr,      2, true,  None,  None,   [PURE],                       bin,    "v = a rotated right by (b mod bits)";
    MinS        = min_s,     2, true,  None,  None,   [PURE],                       bin,    "v = signed minimum of a and b";
    MaxS        = max_s,     2, true,  None,  None,   [PURE],                       bin,    "v = signed maximum of a and b";
    MinU        = min_u,     2, true,  None,  None,   [PURE],                       bin,    "v = unsigned minimum of a and b";
    MaxU        = max_u,     2, true,  None,  None,   [PURE],                       bin,    "v = unsigned maximum of a and b";
    Neg         = neg,       1, true,  None,  None,   [PURE],                       un,     "v = -a, wrapping";
    Not         = not,       1, true,  None,  None,   [PURE],                       un,     "v = !a";
    Clz         = clz,       1, true,  None,  None,   [PURE],                       un,     "v = number of leading zero bits of a (bits when a == 0)";
    Ctz         = ctz,       1, true,  None,  None,   [PURE],                       un,     "v = number of trailing zero bits of a (bits when a == 0)";
    Popcnt      = popcnt,    1, true,  None,  None,   [PURE],                       un,     "v = number of one bits of a";
    Bswap       = bswap,     1, true,  None,  None,   [PURE],                       un,     "v = a with its bytes in reverse order";
    Sext        = sext,      1, true,  Bits,  None,   [PURE],                       custom, "v = a sign-extended from its low imm bits (imm in 1..bits)";
    Zext        = zext,      1, true,  Bits,  None,   [PURE],                       custom, "v = a zero-extended from its low imm bits (imm in 1..bits)";
    ExtendS     = extend_s,  1, true,  None,  None,   [PURE],                       custom, "v: i64 = i32 a sign-extended";
    ExtendU     = extend_u,  1, true,  None,  None,   [PURE],                       custom, "v: i64 = i32 a zero-extended";
    Trunc       = trunc,     1, true,  None,  None,   [PURE],                       custom, "v: i32 = low 32 bits of i64 a";
    Setcond     = setcond,   2, true,  None,  Cond,   [PURE],                       custom, "v = 1 if (a cond b) else 0, in the type of a";
    Select      = select,    3, true,  None,  None,   [PURE],                       custom, "v = b if a != 0 else c (a is i32 or i64; b, c and v share a type)";
    Ld          = ld,        1, true,  Restart, Mem,    [MEM|CAN_FAULT],              custom, "v = guest memory at address a per the MemOp, extended to the type";
    St          = st,        2, false, None,  Mem,    [MEM|CAN_FAULT],              custom, "guest memory at address a = low bits of b per the MemOp";
    AtomicRmw   = atomic_rmw, 2, true, None,  Atomic, [MEM|CAN_FAULT],              custom, "atomically: v = old memory at a (extended per MemOp); memory = op(old, b)";
    Cmpxchg     = cmpxchg,   3, true,  None,  Mem,    [MEM|CAN_FAULT],              custom, "atomically: v = old memory at a (extended); if old == b (truncated) memory = c";
    Fence       = fence,     0, false, None,  None,   [MEM|EFFECT],                 custom, "full memory barrier between this thread's earlier and later accesses";
    Call        = call,      4, true,  None,  Helper, [EFFECT],                     custom, "v = helper(env, args...); effects as the helper's flags say";
    Fadd        = fadd,      2, true,  None,  None,   [EFFECT],                     bin,    "v = a + b in binary32 (i32) or binary64 (i64), nearest-even; NaN result = default NaN; flags accrue";
    Fsub        = fsub,      2, true,  None,  None,   [EFFECT],                     bin,    "v = a - b, as fadd";
    Fmul        = fmul,      2, true,  None,  None,   [EFFECT],                     bin,    "v = a * b, as fadd";
    Fdiv        = fdiv,      2, true,  None,  None,   [EFFECT],                     bin,    "v = a / b, as fadd";
    Fsqrt       = fsqrt,     1, true,  None,  None,   [EFFECT],                     un,     "v = sqrt(a), as fadd";
    Fma         = fma,       3, true,  None,  None,   [EFFECT],                     custom, "v = a * b + c rounded once, as fadd";
    Fpflags     = fpflags,   0, true,  None,  None,   [EFFECT],                     custom, "v: i64 = FP flags accrued by fadd..fma since the last fpflags (NX UF OF DZ NV = bits 0..4), cleared";
    InsnStart   = insn_start, 0, false, Pc,   Extra,  [MARKER|EFFECT],              custom, "starts guest instruction at pc imm; faults after it report this pc";
    ExitIf      = exit_if,   1, false, Pc,    Exit,   [SIDE_EXIT|READS_GLOBAL],     custom, "if a != 0 leave the block: chain to pc imm through slot, or raise the cause";
    GotoTb      = goto_tb,   0, false, Pc,    Slot,   [TERMINATOR|READS_GLOBAL],    custom, "pc = imm; continue at the block for pc imm, chainable through slot aux";
    GotoPtr     = goto_ptr,  1, false, None,  None,   [TERMINATOR|READS_GLOBAL],    custom, "pc = a; continue at the block for pc a (looked up)";
    ExitTb      = exit_tb,   1, false, None,  None,   [TERMINATOR|READS_GLOBAL],    custom, "pc = a; back to the dispatcher, which looks pc up under the current translation flags";
    Raise       = raise,     1, false, Cause, None,   [TERMINATOR|READS_GLOBAL],    custom, "raise exception imm with auxiliary value a at the current instruction";
}
