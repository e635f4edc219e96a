//! Building IR blocks (QEMU's `tcg_gen_*`). Frontends hold one `Builder` and reuse it for every
//! block: `start`, emit, `finish`.
//!
//! Types are inferred from operands, so `b.add(x, y)` needs no type. The arithmetic methods
//! with the simple unary/binary shapes are generated from the op table (`op.rs`); the rest are
//! written here.
//!
//! The builder simplifies as it emits, as QEMU's `tcg_gen_*` do, so that every later stage
//! (optimizer, code generators) sees fewer instructions: a pure op whose operands are
//! constants becomes a constant and `x + 0`-style identities return their operand (the
//! optimizer's `fold` rules, shared); a `get` of a register whose value is known in this
//! block (set or read earlier, with no helper that may write registers in between) returns
//! that value, and a `set` of the value the register already holds is not emitted. A RISC-V
//! `li a0, 5` (`addi a0, zero, 5`) thus becomes one constant and one `set`.

use crate::block::{Aux, Block, Decls, ExitKind, GlobalId, HelperFlags, HelperId, Inst, Value};
use crate::op::Opcode;
use crate::opt::Simplified;
use crate::types::{AtomicOp, Cond, MemOp, Ty};

/// Emits instructions into a block.
#[derive(Debug)]
pub struct Builder {
    block: Block,
    global_tys: Vec<Ty>,
    helpers: Vec<(HelperFlags, u8)>,
    /// The value each guest register holds, where this block has set or read it
    /// (`Value::NONE`: unknown).
    known: Vec<Value>,
}

/// Instructions a block's vector starts with room for (most blocks need fewer).
const BLOCK_CAPACITY: usize = 256;

impl Builder {
    /// A builder for blocks using the globals and helpers of `decls`.
    pub fn new(decls: &Decls) -> Self {
        Builder {
            block: Block::default(),
            global_tys: decls.globals.iter().map(|g| g.ty).collect(),
            helpers: decls.helpers.iter().map(|h| (h.flags, h.nargs)).collect(),
            known: vec![Value::NONE; decls.globals.len()],
        }
    }

    /// Starts a new block at `pc` under translation `flags` (drops any unfinished one).
    pub fn start(&mut self, pc: u64, flags: u64) {
        self.block.insts.clear();
        // `finish` hands the vector over and `recycle` gives it back; if it did not come back,
        // one allocation instead of growing from empty
        self.block.insts.reserve(BLOCK_CAPACITY);
        self.known.fill(Value::NONE);
        self.block.pc = pc;
        self.block.flags = flags;
        self.block.guest_size = 0;
    }

    /// Finishes the block, recording how many bytes of guest code it covers.
    pub fn finish(&mut self, guest_size: u32) -> Block {
        let mut b = std::mem::take(&mut self.block);
        b.guest_size = guest_size;
        b
    }

    /// Takes back a finished block's storage for the next one (a fresh allocation per block
    /// costs page faults as well as the allocator's time).
    pub fn recycle(&mut self, block: Block) {
        if block.insts.capacity() > self.block.insts.capacity() {
            let mut insts = block.insts;
            insts.clear();
            self.block.insts = insts;
        }
    }

    /// The block being built.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// Number of instructions emitted so far.
    pub fn len(&self) -> usize {
        self.block.insts.len()
    }

    /// Whether nothing has been emitted yet.
    pub fn is_empty(&self) -> bool {
        self.block.insts.is_empty()
    }

    /// Type of a value.
    pub fn ty(&self, v: Value) -> Ty {
        self.block.ty(v)
    }

    /// Whether the last instruction ends the block.
    pub fn is_terminated(&self) -> bool {
        self.block.insts.last().is_some_and(|i| i.op.info().flags.has(crate::op::OpFlags::TERMINATOR))
    }

    /// Drops every instruction from index `len` on (undoes a partly emitted guest instruction).
    pub fn truncate(&mut self, len: usize) {
        self.block.insts.truncate(len);
        // a dropped `set` may have been what a register was known to hold
        self.known.fill(Value::NONE);
    }

    /// Appends a raw instruction (as it is: not simplified) and returns its value.
    pub fn push(&mut self, inst: Inst) -> Value {
        let v = Value(self.block.insts.len() as u32);
        match (inst.op, inst.aux) {
            (Opcode::Get, Aux::Global(g)) => self.known[g.0 as usize] = v,
            (Opcode::Set, Aux::Global(g)) => self.known[g.0 as usize] = inst.args[0],
            (_, Aux::Helper(_, flags)) if flags.writes_globals() => self.known.fill(Value::NONE),
            _ => {}
        }
        self.block.insts.push(inst);
        v
    }

    fn inst(&mut self, op: Opcode, ty: Ty, args: &[Value], imm: u64, aux: Aux) -> Value {
        let mut a = [Value::NONE; 4];
        a[..args.len()].copy_from_slice(args);
        let inst = Inst { op, ty, nargs: args.len() as u8, args: a, imm, aux };
        match crate::opt::simplify(&self.block, &inst) {
            Simplified::Keep => self.push(inst),
            Simplified::Const(c) => {
                self.push(Inst { op: Opcode::Const, nargs: 0, args: [Value::NONE; 4], imm: c, aux: Aux::None, ..inst })
            }
            Simplified::Forward(v) => v,
        }
    }

    /// A one-operand op whose result has its operand's type.
    pub fn unary(&mut self, op: Opcode, a: Value) -> Value {
        let ty = self.ty(a);
        self.inst(op, ty, &[a], 0, Aux::None)
    }

    /// A two-operand op whose result has its operands' type.
    pub fn binary(&mut self, op: Opcode, a: Value, b: Value) -> Value {
        let ty = self.ty(a);
        self.inst(op, ty, &[a, b], 0, Aux::None)
    }

    /// A constant of type `ty` (truncated to it).
    pub fn iconst(&mut self, ty: Ty, v: u64) -> Value {
        self.inst(Opcode::Const, ty, &[], v & ty.mask(), Aux::None)
    }

    /// A 64-bit constant.
    pub fn i64(&mut self, v: u64) -> Value {
        self.iconst(Ty::I64, v)
    }

    /// A 32-bit constant.
    pub fn i32(&mut self, v: u32) -> Value {
        self.iconst(Ty::I32, v as u64)
    }

    /// Reads a guest register.
    pub fn get(&mut self, g: GlobalId) -> Value {
        let known = self.known[g.0 as usize];
        if known != Value::NONE {
            return known;
        }
        let ty = self.global_tys[g.0 as usize];
        self.inst(Opcode::Get, ty, &[], 0, Aux::Global(g))
    }

    /// Writes a guest register.
    pub fn set(&mut self, g: GlobalId, v: Value) {
        debug_assert_eq!(self.ty(v), self.global_tys[g.0 as usize], "set of a global with a value of another type");
        if self.known[g.0 as usize] == v {
            return;
        }
        let ty = self.ty(v);
        self.inst(Opcode::Set, ty, &[v], 0, Aux::Global(g));
    }

    /// Sign-extends `a` from its low `bits` bits.
    pub fn sext(&mut self, a: Value, bits: u32) -> Value {
        let ty = self.ty(a);
        self.inst(Opcode::Sext, ty, &[a], bits as u64, Aux::None)
    }

    /// Zero-extends `a` from its low `bits` bits.
    pub fn zext(&mut self, a: Value, bits: u32) -> Value {
        let ty = self.ty(a);
        self.inst(Opcode::Zext, ty, &[a], bits as u64, Aux::None)
    }

    /// i32 -> i64, sign-extending.
    pub fn extend_s(&mut self, a: Value) -> Value {
        self.inst(Opcode::ExtendS, Ty::I64, &[a], 0, Aux::None)
    }

    /// i32 -> i64, zero-extending.
    pub fn extend_u(&mut self, a: Value) -> Value {
        self.inst(Opcode::ExtendU, Ty::I64, &[a], 0, Aux::None)
    }

    /// i64 -> i32, keeping the low half.
    pub fn trunc(&mut self, a: Value) -> Value {
        self.inst(Opcode::Trunc, Ty::I32, &[a], 0, Aux::None)
    }

    /// 1 if `a cond b` else 0.
    pub fn setcond(&mut self, cond: Cond, a: Value, b: Value) -> Value {
        let ty = self.ty(a);
        self.inst(Opcode::Setcond, ty, &[a, b], 0, Aux::Cond(cond))
    }

    /// `if c != 0 { a } else { b }`.
    pub fn select(&mut self, c: Value, a: Value, b: Value) -> Value {
        let ty = self.ty(a);
        self.inst(Opcode::Select, ty, &[c, a, b], 0, Aux::None)
    }

    /// Loads from guest memory into a value of type `ty`.
    pub fn ld(&mut self, ty: Ty, mop: MemOp, addr: Value) -> Value {
        self.inst(Opcode::Ld, ty, &[addr], 0, Aux::Mem(mop))
    }

    /// Stores the low bits of `val` to guest memory.
    pub fn st(&mut self, mop: MemOp, addr: Value, val: Value) {
        let ty = self.ty(val);
        self.inst(Opcode::St, ty, &[addr, val], 0, Aux::Mem(mop));
    }

    /// Atomic read-modify-write; returns the old value.
    pub fn atomic_rmw(&mut self, ty: Ty, op: AtomicOp, mop: MemOp, addr: Value, val: Value) -> Value {
        self.inst(Opcode::AtomicRmw, ty, &[addr, val], 0, Aux::Atomic(op, mop))
    }

    /// Atomic compare-and-exchange; returns the old value.
    pub fn cmpxchg(&mut self, ty: Ty, mop: MemOp, addr: Value, expected: Value, new: Value) -> Value {
        self.inst(Opcode::Cmpxchg, ty, &[addr, expected, new], 0, Aux::Mem(mop))
    }

    /// Full memory barrier.
    pub fn fence(&mut self) {
        self.inst(Opcode::Fence, Ty::I64, &[], 0, Aux::None);
    }

    /// Calls a helper; the result is an i64 (0 if the helper returns nothing useful).
    pub fn call(&mut self, h: HelperId, args: &[Value]) -> Value {
        let (flags, nargs) = self.helpers[h.0 as usize];
        debug_assert_eq!(args.len(), nargs as usize, "helper called with the wrong number of arguments");
        self.inst(Opcode::Call, Ty::I64, args, 0, Aux::Helper(h, flags))
    }

    /// `a * b + c` rounded once (binary32 for i32 values, binary64 for i64).
    pub fn fma(&mut self, a: Value, b: Value, c: Value) -> Value {
        let ty = self.ty(a);
        self.inst(Opcode::Fma, ty, &[a, b, c], 0, Aux::None)
    }

    /// The FP exception flags accrued by the FP ops since the last `fpflags` (cleared).
    pub fn fpflags(&mut self) -> Value {
        self.inst(Opcode::Fpflags, Ty::I64, &[], 0, Aux::None)
    }

    /// Starts guest instruction at `pc`.
    pub fn insn_start(&mut self, pc: u64, extra: u32) {
        self.inst(Opcode::InsnStart, Ty::I64, &[], pc, Aux::Extra(extra));
    }

    /// If `c != 0`, chains to `pc` through `slot`.
    pub fn exit_if_chain(&mut self, c: Value, slot: u8, pc: u64) {
        let ty = self.ty(c);
        self.inst(Opcode::ExitIf, ty, &[c], pc, Aux::Exit(ExitKind::Chain { slot }));
    }

    /// If `c != 0`, raises exception `cause` at the current instruction.
    pub fn exit_if_raise(&mut self, c: Value, cause: u32) {
        let ty = self.ty(c);
        self.inst(Opcode::ExitIf, ty, &[c], 0, Aux::Exit(ExitKind::Raise { cause }));
    }

    /// Ends the block: continue at `pc`, chainable through `slot`.
    pub fn goto_tb(&mut self, slot: u8, pc: u64) {
        self.inst(Opcode::GotoTb, Ty::I64, &[], pc, Aux::Slot(slot));
    }

    /// Ends the block: continue at the pc in `target`.
    pub fn goto_ptr(&mut self, target: Value) {
        self.inst(Opcode::GotoPtr, Ty::I64, &[target], 0, Aux::None);
    }

    /// Ends the block: continue at the pc in `target`, looked up by the dispatcher under the
    /// translation flags as they are now (after an instruction that changed them).
    pub fn exit_tb(&mut self, target: Value) {
        self.inst(Opcode::ExitTb, Ty::I64, &[target], 0, Aux::None);
    }

    /// Ends the block: raise exception `cause` with auxiliary value `aux`.
    pub fn raise(&mut self, cause: u32, aux: Value) {
        self.inst(Opcode::Raise, Ty::I64, &[aux], cause as u64, Aux::None);
    }
}
