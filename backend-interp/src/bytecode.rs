//! The bytecode: a flat array of 16-byte instructions, one opcode per (operation, type,
//! operand form), so the interpreter never tests a type or a flag at run time.
//!
//! Operands `d`, `a`, `b` are slot numbers: slot `n` is the 8-byte word at byte offset `8n` of
//! the CPU environment, so a guest register is just its own slot and temporaries live in the
//! environment's scratch area. `imm` is an immediate (constant operand, pc, packed memory
//! offset and instruction index, call-site index), as each opcode's comment says.
//!
//! [`with_op_tables!`] lists the one- and two-operand arithmetic ops once; it generates their four
//! variants (64/32-bit × register/immediate second operand) here, the IR-to-bytecode mapping
//! in `compile.rs`, and the interpreter arms in `exec.rs`.

/// Calls `$m!` with the op tables: `binary { IrOpcode: V64 V64imm V32 V32imm; ... }` and
/// `unary { IrOpcode: V64 V32; ... }`, preceded by `{ extra tokens }` if given.
#[macro_export]
#[doc(hidden)]
macro_rules! with_op_tables {
    ($m:ident $(, $($extra:tt)*)?) => {
        $m! {
            $( { $($extra)* } )?
            binary {
                Add: Add64 Add64I Add32 Add32I;
                Sub: Sub64 Sub64I Sub32 Sub32I;
                Mul: Mul64 Mul64I Mul32 Mul32I;
                MulhS: MulhS64 MulhS64I MulhS32 MulhS32I;
                MulhU: MulhU64 MulhU64I MulhU32 MulhU32I;
                MulhSu: MulhSu64 MulhSu64I MulhSu32 MulhSu32I;
                DivS: DivS64 DivS64I DivS32 DivS32I;
                DivU: DivU64 DivU64I DivU32 DivU32I;
                RemS: RemS64 RemS64I RemS32 RemS32I;
                RemU: RemU64 RemU64I RemU32 RemU32I;
                And: And64 And64I And32 And32I;
                Or: Or64 Or64I Or32 Or32I;
                Xor: Xor64 Xor64I Xor32 Xor32I;
                Andn: Andn64 Andn64I Andn32 Andn32I;
                Orn: Orn64 Orn64I Orn32 Orn32I;
                Xnor: Xnor64 Xnor64I Xnor32 Xnor32I;
                Shl: Shl64 Shl64I Shl32 Shl32I;
                ShrU: ShrU64 ShrU64I ShrU32 ShrU32I;
                ShrS: ShrS64 ShrS64I ShrS32 ShrS32I;
                Rotl: Rotl64 Rotl64I Rotl32 Rotl32I;
                Rotr: Rotr64 Rotr64I Rotr32 Rotr32I;
                MinS: MinS64 MinS64I MinS32 MinS32I;
                MaxS: MaxS64 MaxS64I MaxS32 MaxS32I;
                MinU: MinU64 MinU64I MinU32 MinU32I;
                MaxU: MaxU64 MaxU64I MaxU32 MaxU32I;
            }
            unary {
                Neg: Neg64 Neg32;
                Not: Not64 Not32;
                Clz: Clz64 Clz32;
                Ctz: Ctz64 Ctz32;
                Popcnt: Popcnt64 Popcnt32;
                Bswap: Bswap64 Bswap32;
            }
        }
    };
}

macro_rules! define_ops {
    (binary { $($bop:ident: $v64:ident $v64i:ident $v32:ident $v32i:ident;)* }
     unary { $($uop:ident: $u64:ident $u32:ident;)* }) => {
                /// A bytecode opcode.
                #[repr(u16)]
                #[derive(Clone, Copy, Debug, PartialEq, Eq)]
                pub enum Op {
                    $($v64, $v64i, $v32, $v32i,)*
                    $($u64, $u32,)*
                    /// d = a
                    Mov,
                    /// d = imm
                    MovI,
                    /// d = sext(a from imm bits), 64-bit
                    Sext64,
                    /// d = sext(a from imm bits), 32-bit
                    Sext32,
                    /// d = a & mask(imm bits) (zext, both widths)
                    Zext,
                    /// d = (i32)a sign-extended to 64
                    ExtendS,
                    /// d = a & 0xffffffff (extend_u and trunc)
                    Low32,
                    /// d = setcond(imm as Cond, 64-bit) of a, b
                    Setcond64,
                    /// d = setcond(imm as Cond, 32-bit) of a, b
                    Setcond32,
                    /// d = a ? b : slot(imm)
                    Select,
                    /// d = load(memop = b) from a + sext(imm low 32); imm high 32 = insn index
                    Ld,
                    /// d = u8 from a + off
                    LdU8,
                    /// d = s8 from a + off (i64)
                    LdS8,
                    /// d = u16le from a + off
                    LdU16Le,
                    /// d = s16le from a + off (i64)
                    LdS16Le,
                    /// d = u32le from a + off
                    LdU32Le,
                    /// d = s32le from a + off (i64)
                    LdS32Le,
                    /// d = u64le from a + off
                    Ld64Le,
                    /// store b to a + off per memop d
                    St,
                    /// store b as u8 to a + off
                    St8,
                    /// store b as u16le to a + off
                    St16Le,
                    /// store b as u32le to a + off
                    St32Le,
                    /// store b as u64le to a + off
                    St64Le,
                    /// d = atomic_rmw; operands in call-site-like table entry imm
                    AtomicRmw,
                    /// d = cmpxchg; operands in table entry imm
                    Cmpxchg,
                    /// memory barrier
                    Fence,
                    /// d = FP op (imm bits 16..24 = IR opcode, bit 24 = binary64) of a, b and
                    /// slot (imm & 0xffff)
                    Fp,
                    /// d = accrued FP flags (cleared)
                    Fpflags,
                    /// d = call site imm
                    Call,
                    /// if a != 0: pc = imm, chain through slot b
                    ExitIfChain,
                    /// if a != 0: raise cause (imm low 32) at insn (imm high 32)
                    ExitIfRaise,
                    /// if cond (d & 0xff as Cond) of 64-bit a, b: pc = imm, chain through slot d >> 8
                    BrCond64,
                    /// if cond (d & 0xff as Cond) of 32-bit a, b: pc = imm, chain through slot d >> 8
                    BrCond32,
                    /// pc = imm, chain through slot b
                    GotoTb,
                    /// pc = a; continue in the block the vCPU's jump cache has for it
                    /// (`EnvHeader::jump_cache`), else back to the dispatcher to look it up
                    GotoPtr,
                    /// pc = a, back to the dispatcher to look it up
                    ExitTb,
                    /// raise cause (imm low 32) at insn (imm high 32) with aux a
                    Raise,
                }

                /// The bytecode op for a binary IR op of type `ty`, with a register (`imm` false)
                /// or immediate second operand.
                pub fn bin_op(op: ir::Opcode, ty: ir::Ty, imm: bool) -> Option<Op> {
                    match op {
                        $(ir::Opcode::$bop => Some(match (ty, imm) {
                            (ir::Ty::I64, false) => Op::$v64,
                            (ir::Ty::I64, true) => Op::$v64i,
                            (ir::Ty::I32, false) => Op::$v32,
                            (ir::Ty::I32, true) => Op::$v32i,
                        }),)*
                        _ => None,
                    }
                }

                /// The bytecode op for a unary IR op of type `ty`.
                pub fn un_op(op: ir::Opcode, ty: ir::Ty) -> Option<Op> {
                    match op {
                        $(ir::Opcode::$uop => Some(match ty {
                            ir::Ty::I64 => Op::$u64,
                            ir::Ty::I32 => Op::$u32,
                        }),)*
                        _ => None,
                    }
                }
    };
}

with_op_tables!(define_ops);

/// A compiled block's bytecode, borrowed from the compiler's buffers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bytecode<'a> {
    /// The instructions; the last one leaves the block.
    pub insns: &'a [Insn],
    /// Helper-call sites (`Op::Call`'s `imm` indexes them).
    pub calls: &'a [CallSite],
    /// Atomic-access sites (`Op::AtomicRmw`'s and `Op::Cmpxchg`'s `imm` index them).
    pub atomics: &'a [AtomicSite],
    /// The slot of the guest pc.
    pub pc_slot: u16,
}

/// One bytecode instruction.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Insn {
    /// Opcode.
    pub op: Op,
    /// Destination slot (or an opcode-specific small field).
    pub d: u16,
    /// First operand slot.
    pub a: u16,
    /// Second operand slot (or an opcode-specific small field).
    pub b: u16,
    /// Immediate.
    pub imm: u64,
}

/// Operands of a helper call.
#[derive(Clone, Copy, Debug)]
pub struct CallSite {
    /// The helper.
    pub func: ir::HelperFn,
    /// Argument slots (unused ones read as 0).
    pub args: [u16; 4],
    /// Number of arguments.
    pub nargs: u8,
    /// Leave the block if the helper raised an exception.
    pub can_fault: bool,
    /// Index of the guest instruction (for exceptions).
    pub insn: u32,
}

/// Operands of an atomic access.
#[derive(Clone, Copy, Debug)]
pub struct AtomicSite {
    /// Address slot.
    pub addr: u16,
    /// Value slot (rmw operand, or cmpxchg's new value).
    pub val: u16,
    /// cmpxchg's expected-value slot.
    pub expected: u16,
    /// The access.
    pub mop: ir::MemOp,
    /// The rmw op (unused for cmpxchg).
    pub op: ir::AtomicOp,
    /// Result type.
    pub ty: ir::Ty,
    /// Index of the guest instruction.
    pub insn: u32,
}

/// In the instruction index of a load: the index is that of the instruction to replay from
/// (`ir::ImmKind::Restart`), not the load's own.
pub const REPLAY_FROM: u32 = 1 << 31;

/// Packs a memory offset and an instruction index into `imm`.
pub const fn pack_mem(off: i32, insn: u32) -> u64 {
    (off as u32 as u64) | (insn as u64) << 32
}

/// The condition a `Setcond`'s `imm` or a `BrCond`'s `d & 0xff` encodes (its index in
/// `Cond::ALL`; an out-of-range code wraps rather than fails).
#[inline(always)]
pub fn cond(code: u64) -> ir::Cond {
    ir::Cond::ALL[(code as usize) % ir::Cond::ALL.len()]
}

/// Packs a cause and an instruction index into `imm`.
pub const fn pack_raise(cause: u32, insn: u32) -> u64 {
    cause as u64 | (insn as u64) << 32
}
