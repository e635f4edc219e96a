//! A translation block in IR form: straight-line SSA instructions, side exits and one
//! terminator (dynarmic's block shape; QEMU's TB body).
//!
//! A [`Value`] is the index of the instruction that defines it, so "defined before use" is
//! "smaller index". There are no labels and no intra-block control flow: a guest instruction
//! that needs a loop calls a helper. Guest registers are read and written with `get`/`set` of a
//! [`GlobalId`]; what a global is (name, type, offset in the CPU state) is declared by the
//! frontend in [`Decls`].

use crate::op::{OpFlags, Opcode};
use crate::types::{AtomicOp, Cond, MemOp, Ty};

/// An SSA value: the index of its defining instruction in [`Block::insts`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Value(pub u32);

impl Value {
    /// Placeholder for unused argument slots.
    pub const NONE: Value = Value(u32::MAX);
    /// Index of the defining instruction.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A guest register: an index into [`Decls::globals`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct GlobalId(pub u16);

/// A helper function: an index into [`Decls::helpers`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HelperId(pub u16);

/// Effects of a helper call, declared once with the helper (QEMU's TCG_CALL_* flags).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HelperFlags(pub u8);

impl HelperFlags {
    /// Reads no guest register through `env` (registers need not be written back first).
    pub const NO_READ_GLOBALS: HelperFlags = HelperFlags(1);
    /// Writes no guest register through `env` (cached registers stay valid after the call).
    pub const NO_WRITE_GLOBALS: HelperFlags = HelperFlags(2);
    /// May raise a guest exception: it sets `EnvHeader::exception` and the block leaves.
    pub const CAN_FAULT: HelperFlags = HelperFlags(4);
    /// A function of its arguments only: no effect at all, removable when unused.
    pub const PURE: HelperFlags = HelperFlags(8 | 1 | 2);
    /// Touches nothing but may not be removed (e.g. it accumulates FP exception flags).
    pub const NONE: HelperFlags = HelperFlags(0);

    /// Union.
    pub const fn or(self, o: HelperFlags) -> HelperFlags {
        HelperFlags(self.0 | o.0)
    }
    /// Whether every flag of `o` is set.
    pub const fn has(self, o: HelperFlags) -> bool {
        self.0 & o.0 == o.0
    }
    /// The call may read guest registers from `env`.
    pub const fn reads_globals(self) -> bool {
        self.0 & 1 == 0
    }
    /// The call may write guest registers in `env`.
    pub const fn writes_globals(self) -> bool {
        self.0 & 2 == 0
    }
}

/// Where a side exit (`exit_if`) goes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ExitKind {
    /// Set pc to the instruction's `imm` and continue there, chainable through `slot`.
    Chain {
        /// Chaining slot (0 or 1).
        slot: u8,
    },
    /// Raise exception `cause` (auxiliary value 0) at the current guest instruction.
    Raise {
        /// Exception cause code.
        cause: u32,
    },
}

/// The op-specific payload of an instruction (what `OpInfo::aux` says it carries).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Aux {
    /// Nothing.
    None,
    /// A guest register.
    Global(GlobalId),
    /// A condition.
    Cond(Cond),
    /// A memory access.
    Mem(MemOp),
    /// An atomic read-modify-write access.
    Atomic(AtomicOp, MemOp),
    /// A helper call.
    Helper(HelperId, HelperFlags),
    /// A side exit.
    Exit(ExitKind),
    /// A chaining slot.
    Slot(u8),
    /// Extra per-instruction data (for `insn_start`: ISA-specific, e.g. s390x cc_op).
    Extra(u32),
}

/// One IR instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Inst {
    /// The operation.
    pub op: Opcode,
    /// Result type; for ops without a result, the type of the value operand (set, st).
    pub ty: Ty,
    /// Number of used entries of `args`.
    pub nargs: u8,
    /// Value arguments.
    pub args: [Value; 4],
    /// Immediate (meaning per `OpInfo::imm`).
    pub imm: u64,
    /// Op-specific payload.
    pub aux: Aux,
}

impl Inst {
    /// The used arguments.
    pub fn args(&self) -> &[Value] {
        &self.args[..self.nargs as usize]
    }
    /// Effect flags of this instruction (a call's are derived from its helper's flags).
    pub fn flags(&self) -> OpFlags {
        let base = self.op.info().flags;
        if let Aux::Helper(_, hf) = self.aux {
            let mut f = base;
            if hf.has(HelperFlags::PURE) {
                f = OpFlags::PURE;
            }
            if hf.reads_globals() {
                f = f.or(OpFlags::READS_GLOBAL);
            }
            if hf.writes_globals() {
                f = f.or(OpFlags::WRITES_GLOBAL);
            }
            if hf.has(HelperFlags::CAN_FAULT) {
                f = f.or(OpFlags::CAN_FAULT);
            }
            f
        } else {
            base
        }
    }
    /// The chaining slot of a chaining exit (`goto_tb`, or `exit_if` with a chain exit).
    pub fn chain_slot(&self) -> Option<u8> {
        match (self.op, self.aux) {
            (Opcode::GotoTb, Aux::Slot(slot)) | (Opcode::ExitIf, Aux::Exit(ExitKind::Chain { slot })) => Some(slot),
            _ => None,
        }
    }
    /// Whether this instruction defines a value.
    pub fn has_result(&self) -> bool {
        self.op.info().has_result
    }
}

/// A translation block: the IR of a run of guest instructions starting at `pc`.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// Guest pc of the first instruction.
    pub pc: u64,
    /// Translation flags the block was translated under (part of its cache key).
    pub flags: u64,
    /// Number of bytes of guest code the block covers (for invalidation).
    pub guest_size: u32,
    /// The instructions; the last one is the terminator.
    pub insts: Vec<Inst>,
}

impl Block {
    /// An empty block for `pc` under translation `flags`.
    pub fn new(pc: u64, flags: u64) -> Self {
        Block { pc, flags, guest_size: 0, insts: Vec::new() }
    }
    /// The instruction that defines `v`.
    pub fn def(&self, v: Value) -> &Inst {
        &self.insts[v.index()]
    }
    /// `(base, c)` when `v` is `add.i64 base, c` with a constant `c` (an address with an
    /// offset, as backends fold it into the access).
    pub fn base_plus_const(&self, v: Value) -> Option<(Value, u64)> {
        let d = self.def(v);
        if d.op != Opcode::Add || d.ty != Ty::I64 {
            return None;
        }
        let c = self.def(d.args[1]);
        (c.op == Opcode::Const).then_some((d.args[0], c.imm))
    }
    /// Type of `v`.
    pub fn ty(&self, v: Value) -> Ty {
        self.insts[v.index()].ty
    }
    /// The `insn_start` records: (instruction index, guest pc, extra), in order.
    pub fn insn_starts(&self) -> Vec<(usize, u64, u32)> {
        self.insts
            .iter()
            .enumerate()
            .filter(|(_, i)| i.op == Opcode::InsnStart)
            .map(|(n, i)| (n, i.imm, if let Aux::Extra(e) = i.aux { e } else { 0 }))
            .collect()
    }
    /// Whether `inst` continues at the block's own start (a loop back-edge): a chaining side
    /// exit or `goto_tb` to `self.pc` (same translation flags, as every chaining exit of a
    /// block).
    pub fn is_back_edge(&self, inst: &Inst) -> bool {
        inst.chain_slot().is_some() && inst.imm == self.pc
    }
    /// Whether the block has a loop back-edge ([`Block::is_back_edge`]).
    pub fn loops(&self) -> bool {
        self.insts.iter().any(|i| self.is_back_edge(i))
    }
    /// The guest pc of each instruction, in order.
    pub fn insn_pcs(&self) -> impl Iterator<Item = u64> + '_ {
        self.insts.iter().filter(|i| i.op == Opcode::InsnStart).map(|i| i.imm)
    }
    /// Number of guest instructions in the block.
    pub fn guest_insn_count(&self) -> usize {
        self.insn_pcs().count()
    }
    /// Removes `nop`s and renumbers values (passes turn dead instructions into `nop`).
    pub fn compact(&mut self) {
        let order: Vec<usize> = (0..self.insts.len()).filter(|&i| self.insts[i].op != Opcode::Nop).collect();
        self.rearrange(&order);
    }
    /// Keeps the instructions at the indices `order` names, in that order, and renumbers
    /// values. Every argument must be defined earlier in `order`.
    pub fn rearrange(&mut self, order: &[usize]) {
        let mut remap = vec![Value::NONE; self.insts.len()];
        let mut out = Vec::with_capacity(order.len());
        for &i in order {
            let mut inst = self.insts[i];
            for a in &mut inst.args[..inst.nargs as usize] {
                *a = remap[a.index()];
            }
            remap[i] = Value(out.len() as u32);
            out.push(inst);
        }
        self.insts = out;
    }
}

/// A guest register as the frontend declares it.
#[derive(Clone, Debug)]
pub struct GlobalDecl {
    /// Name used in IR text (`x10`, `pc`, `f3`).
    pub name: String,
    /// Type.
    pub ty: Ty,
    /// Byte offset from the start of the CPU environment (8-aligned; every global occupies 8
    /// bytes, an `i32` global zero-extended).
    pub offset: u32,
}

/// A helper function: `v = f(env, a0, a1, a2, a3)`, unused arguments passed as 0.
pub type HelperFn = unsafe extern "C" fn(env: *mut u8, a0: u64, a1: u64, a2: u64, a3: u64) -> u64;

/// A helper as the frontend declares it.
#[derive(Clone, Debug)]
pub struct HelperDecl {
    /// Name used in IR text.
    pub name: &'static str,
    /// The function.
    pub func: HelperFn,
    /// Number of value arguments (0-4).
    pub nargs: u8,
    /// Effects.
    pub flags: HelperFlags,
}

/// What a frontend declares: its guest registers and helpers, and which global is the pc.
#[derive(Clone, Debug, Default)]
pub struct Decls {
    /// Guest registers.
    pub globals: Vec<GlobalDecl>,
    /// Helpers.
    pub helpers: Vec<HelperDecl>,
    /// The program counter global (written by goto_tb / goto_ptr).
    pub pc: Option<GlobalId>,
}

impl Decls {
    /// Looks a global up by name.
    pub fn global(&self, name: &str) -> Option<GlobalId> {
        self.globals.iter().position(|g| g.name == name).map(|i| GlobalId(i as u16))
    }
    /// Looks a helper up by name.
    pub fn helper(&self, name: &str) -> Option<HelperId> {
        self.helpers.iter().position(|h| h.name == name).map(|i| HelperId(i as u16))
    }
    /// Declares a global; returns its id.
    pub fn add_global(&mut self, name: impl Into<String>, ty: Ty, offset: u32) -> GlobalId {
        self.globals.push(GlobalDecl { name: name.into(), ty, offset });
        GlobalId(self.globals.len() as u16 - 1)
    }
    /// Declares a helper; returns its id.
    pub fn add_helper(&mut self, name: &'static str, func: HelperFn, nargs: u8, flags: HelperFlags) -> HelperId {
        self.helpers.push(HelperDecl { name, func, nargs, flags });
        HelperId(self.helpers.len() as u16 - 1)
    }
    /// The pc global's offset in the environment.
    pub fn pc_offset(&self) -> Option<u32> {
        self.pc.map(|g| self.globals[g.0 as usize].offset)
    }
}
