//! The baseline tier: IR blocks turned into x86-64 code by templates, in microseconds, so that
//! cold code runs as host code from its first execution (the role QEMU's TCG plays for all
//! code, and a baseline JIT's in a language VM). Cranelift compiles the hot blocks again later.
//!
//! One pass over the block emits it, after a backward pass that counts each value's uses (and
//! drops pure instructions whose results nobody reads). Values are not given registers: a
//! constant stays an immediate, `get` emits nothing (the value is read from the guest
//! register's environment slot where it is used), and each instruction leaves its result in
//! rax, where the next one usually takes it. Only a result that is still needed when rax is
//! overwritten is stored, to a scratch slot of the environment; a `set` stores rax to the
//! register's slot, which then holds the value for its later uses. Before a guest register is
//! written, values still read from its slot move out (to rax's care or a scratch slot). Every
//! `set` is a store in program order, so the registers are exact at every instruction that
//! may fault or leave. An `i32` value is only ever read through its low half (32-bit forms,
//! or zero-extending loads where it leaves: `set`, helper arguments), so `trunc` emits nothing
//! and 32-bit arithmetic is one instruction. A `setcond` feeding the side exit after it
//! becomes a compare and a conditional jump. Arithmetic without a short x86-64 form
//! (division, high multiplies, bit counts), FP operations, big-endian or alignment-checked
//! accesses and atomics call the runtime (`runtime.rs`, the semantics of `ir::sem` and
//! `ir::linear`).
//!
//! (The tier first compiled the interpreter's bytecode, whose passes already chose operand
//! forms and slots; emitting from the IR in one pass takes ~40% less time a block, and
//! translation is most of a short-lived program's run.)
//!
//! The blocks are the Cranelift JIT's in every other respect, and share its code cache,
//! descriptors, chaining stubs, lookup table and fault handling (a [`BaselineBackend`] is a
//! view of a [`JitBackend`]): the same `tail fn(env, from)` convention with the environment in
//! r15, chaining through the descriptor's slots (so baseline and Cranelift blocks link to each
//! other in both directions), `goto_ptr` through the lookup table, guest loads and stores
//! left to the host MMU (`fault.rs`) with fault sites recorded per guest instruction, and a
//! `ud2` trap for accesses beyond the fast path's range. In a block that accesses memory,
//! r14 holds the guest base and r13 the highest address an access of up to 8 bytes may start
//! at (both are callee-saved, so runtime calls keep them; the entry trampoline restores them).
//!
//! Within a block, rbx points 0x100 bytes into the environment, so that the slots of the
//! first 32 guest registers take one-byte displacements, and rbp at the block's
//! [`exits::Record`]: a few words packed next to the records of the blocks translated before
//! and after it, with the chaining slots its exits jump through and its entry countdown.
//! Every block checks `exit_request` on entry and, in a tiered set-up, counts down, leaving
//! with [`exits::EXIT_HOT`] when the count reaches zero.
//!
//! Stack: blocks are entered with rsp ≡ 8 (mod 16), as after a call; runtime calls are
//! bracketed by `sub rsp, 8` / `add rsp, 8` so that the callee sees the System V alignment.

mod runtime;
mod x86;

use std::cell::RefCell;
use std::sync::Arc;

use ir::backend::{Backend, CompileCtx, CompileError, CompiledBlock, EnvHeader, MemMode};
use ir::{Aux, Block, Cond, ExitKind, Inst, OpFlags, Opcode, Size, Ty, Value};

use crate::exits::{self, Record, LOOKUP_BITS, LOOKUP_KEY_FLAGS, LOOKUP_KEY_PC};
use crate::{fault_sites, JitBackend};
use x86::{mem, mem_index, Alu, Asm, Cc, Label, Reg, Rm, Shift, R15, RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP, W};

/// The environment + [`ENV_BIAS`], so that the slots most used take one-byte displacements.
const ENV: Reg = RBX;
/// Offsets 0x80..0x17f of the environment, after its 128-byte header (riscv64's x0..x31), are
/// within a one-byte displacement of `ENV`.
const ENV_BIAS: i32 = 0x100;
/// The block's [`Record`].
const RECORD: Reg = RBP;
/// Guest base (in blocks that access memory).
const GUEST_BASE: Reg = Reg(14);
/// `va_limit - 8`: the fast path takes accesses starting at or below it.
const ADDR_MAX: Reg = Reg(13);

/// The baseline tier: compiles blocks with templates into a JIT's code cache.
pub struct BaselineBackend {
    jit: JitBackend,
    hot_at: u32,
    /// The code cache is this backend's alone (not shared with a Cranelift tier that flushes
    /// it, forks it and locks it for a fork).
    owns_code: bool,
}

impl JitBackend {
    /// A baseline tier sharing this JIT's code cache, whose blocks report themselves hot
    /// after `hot_threshold` entries (0: never). The JIT stays in charge of the cache: the
    /// baseline view neither flushes nor forks it.
    pub fn baseline(&self, hot_threshold: u32) -> BaselineBackend {
        BaselineBackend { jit: JitBackend { shared: self.shared.clone() }, hot_at: hot_threshold, owns_code: false }
    }
}

impl BaselineBackend {
    /// A baseline backend with a code cache of its own (no tiering).
    pub fn new(opts: crate::JitOptions) -> Result<Self, crate::JitError> {
        Ok(BaselineBackend { jit: JitBackend::new(opts)?, hot_at: 0, owns_code: true })
    }
}

/// Where a value is, besides rax.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Loc {
    /// Nowhere but possibly rax: not defined yet, dead, or a result not stored anywhere.
    Nowhere,
    /// A constant: the defining instruction's immediate.
    Imm,
    /// An environment slot: a guest register's (the value was read from it or written to
    /// it, and the register has not been written since) or a scratch temporary.
    Slot(u16),
}

/// Where an operand is, as an instruction reads it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Src {
    Rax,
    Rcx,
    Imm(u64),
    Slot(u16),
}

impl Src {
    /// The immediate of a `w`-wide instruction that reproduces this operand, if it is one.
    fn imm32(self, w: W) -> Option<i32> {
        match self {
            Src::Imm(k) => imm32(w, k),
            _ => None,
        }
    }
}

/// The emitter's reused buffers.
#[derive(Default)]
struct Scratch {
    asm: Asm,
    sites: Vec<(u32, u32, u32)>,
    cold: Vec<(Label, Cold)>,
    /// The value whose location a value shares (a `trunc` reads its operand's low half).
    rep: Vec<u32>,
    /// Uses of each value not emitted yet.
    uses: Vec<u32>,
    /// Instructions not emitted: pure ones whose results nobody reads, and register writes
    /// that a later one overwrites before anything can read the register.
    skip: Vec<bool>,
    /// Per guest register, during the backward pass: equal to `epoch` when a later `set`
    /// overwrites it with nothing in between that may read it.
    overwritten: Vec<u32>,
    loc: Vec<Loc>,
    /// Values living in guest-register slots, moved out before their register is written.
    aliases: Vec<(u16, Value)>,
    /// Free scratch slots.
    free: Vec<u16>,
    /// Scratch slots whose values died in the current instruction, freed after it.
    dying: Vec<u16>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Out-of-line code, emitted after the block's body.
#[derive(Clone, Copy)]
enum Cold {
    /// Leave with a pending exception (cause and address already stored), raised at this
    /// point.
    Exception(At),
    /// Raise `cause` (auxiliary value 0) at guest instruction `insn`.
    Raise { cause: u32, at: At },
    /// Leave through chaining slot n.
    Chain(u8),
    /// `ud2`: the access of this instruction runs on the reference evaluator.
    Trap(At),
    /// Leave for a lookup (the pc is stored).
    Lookup,
    /// exit_request was set at entry.
    Interrupted,
    /// The entry countdown reached zero.
    Hot,
}

/// Where an exception or a fault is reported: a guest instruction's pc, and whether the
/// registers are only as of that earlier instruction's start (a load with a restart pc,
/// `ir::opt::defer`), for the dispatcher to replay from there.
#[derive(Clone, Copy)]
struct At {
    pc: u64,
    replay: bool,
}

struct Emitter<'a> {
    s: &'a mut Scratch,
    block: &'a Block,
    decls: &'a ir::Decls,
    pc_slot: Option<u16>,
    /// Address of the block's [`Record`].
    record: u64,
    lookup: u64,
    hot_at: u32,
    host_mmu: bool,
    /// The value rax holds (a result, or an operand loaded for an earlier instruction).
    rax: Option<Value>,
    /// Pc of the current guest instruction.
    insn_pc: u64,
    /// Scratch slots: `[next, limit)` never used yet.
    next_temp: u16,
    first_temp: u16,
    limit_temp: u16,
    /// Set when the emitter could not place a value: the block is not compiled.
    error: Option<CompileError>,
}

fn slot(n: u16) -> Rm {
    Rm::Mem(slot_mem(n))
}

fn slot_mem(n: u16) -> x86::Mem {
    let off = 8 * n as i32;
    match i8::try_from(off - ENV_BIAS) {
        Ok(d) => mem(ENV, d as i32),
        Err(_) => mem(R15, off),
    }
}

fn env_field(off: usize) -> x86::Mem {
    mem(R15, off as i32)
}

/// `k` as the sign-extended imm32 of a `w`-wide instruction, if that reproduces it (any `k`
/// for 32-bit instructions, which read only the low half).
fn imm32(w: W, k: u64) -> Option<i32> {
    match w {
        W::Q => i32::try_from(k as i64).ok(),
        W::D => Some(k as u32 as i32),
    }
}

fn width(ty: Ty) -> W {
    if ty == Ty::I32 {
        W::D
    } else {
        W::Q
    }
}

/// The x86-64 condition for an IR condition.
fn cc(c: Cond) -> Cc {
    match c {
        Cond::Eq => Cc::E,
        Cond::Ne => Cc::Ne,
        Cond::Lt => Cc::L,
        Cond::Ge => Cc::Ge,
        Cond::Le => Cc::Le,
        Cond::Gt => Cc::G,
        Cond::Ltu => Cc::B,
        Cond::Geu => Cc::Ae,
        Cond::Leu => Cc::Be,
        Cond::Gtu => Cc::A,
    }
}

/// The access a load or store makes directly through the host MMU: (size in bytes,
/// sign-extended), for little-endian accesses without an alignment check.
fn le_access(inst: &Inst) -> Option<(u8, bool)> {
    let Aux::Mem(m) = inst.aux else { return None };
    if m.align != ir::Align::Unaligned || (m.endian != ir::Endian::Little && m.size != Size::S8) {
        return None;
    }
    Some((m.size.bytes() as u8, m.signed && inst.op == Opcode::Ld))
}

/// Whether an instruction is removed when its result is unused.
fn removable(inst: &Inst) -> bool {
    inst.flags().has(OpFlags::PURE) || inst.op == Opcode::Get
}

/// Whether an instruction may read guest registers other than by `get`: leaving the block,
/// faulting (the exception sees them) or a helper that reads them.
fn reads_registers(inst: &Inst) -> bool {
    let f = inst.flags();
    inst.op != Opcode::Get
        && (f.has(OpFlags::READS_GLOBAL)
            || f.has(OpFlags::CAN_FAULT)
            || f.has(OpFlags::SIDE_EXIT)
            || f.has(OpFlags::TERMINATOR))
}

impl Emitter<'_> {
    fn a(&mut self) -> &mut Asm {
        &mut self.s.asm
    }

    fn fail(&mut self, what: &str) {
        if self.error.is_none() {
            self.error = Some(CompileError::Codegen(format!("baseline tier: {what} in block {:#x}", self.block.pc)));
        }
    }

    /// The current guest instruction, as where its exceptions are reported.
    fn here(&self) -> At {
        At { pc: self.insn_pc, replay: false }
    }

    fn rep(&self, v: Value) -> Value {
        Value(self.s.rep[v.index()])
    }

    fn ty(&self, v: Value) -> Ty {
        self.block.insts[v.index()].ty
    }

    fn gslot(&self, g: ir::GlobalId) -> u16 {
        (self.decls.globals[g.0 as usize].offset / 8) as u16
    }

    fn alloc_temp(&mut self) -> u16 {
        if let Some(t) = self.s.free.pop() {
            return t;
        }
        if self.next_temp >= self.limit_temp {
            let have = (self.limit_temp - self.first_temp) as usize * 8;
            self.error.get_or_insert(CompileError::ScratchTooSmall { need: have + 8, have });
            return self.first_temp;
        }
        self.next_temp += 1;
        self.next_temp - 1
    }

    fn is_temp(&self, n: u16) -> bool {
        (self.first_temp..self.limit_temp).contains(&n)
    }

    /// Where `v` is now (as `v`'s own type reads it: an `i32` only through its low half).
    fn src(&mut self, v: Value) -> Src {
        let r = self.rep(v);
        if self.rax == Some(r) {
            return Src::Rax;
        }
        match self.s.loc[r.index()] {
            Loc::Imm => Src::Imm(self.block.insts[r.index()].imm),
            Loc::Slot(n) => Src::Slot(n),
            Loc::Nowhere => {
                self.fail("a value used where it is not available");
                Src::Imm(0)
            }
        }
    }

    /// Before rax is overwritten: its value, if still needed, is stored to a temporary.
    fn clobber_rax(&mut self) {
        if let Some(r) = self.rax.take() {
            if self.s.uses[r.index()] > 0 && self.s.loc[r.index()] == Loc::Nowhere {
                let t = self.alloc_temp();
                self.a().store(W::Q, slot(t), RAX);
                self.s.loc[r.index()] = Loc::Slot(t);
            }
        }
    }

    /// rax = `v` (for an `i32`, the low half; the high half is anything).
    fn load_rax(&mut self, v: Value) {
        let r = self.rep(v);
        if self.rax == Some(r) {
            return;
        }
        let s = self.src(v);
        self.clobber_rax();
        match s {
            Src::Imm(k) => self.a().mov_imm(RAX, k),
            Src::Slot(n) => self.a().load(W::Q, RAX, slot(n)),
            Src::Rax | Src::Rcx => self.fail("an operand in a scratch register"),
        }
        self.rax = Some(r);
    }

    /// `reg` (not rax) = `v` exactly (an `i32` zero-extended).
    fn load_reg(&mut self, reg: Reg, v: Value) {
        debug_assert!(reg != RAX);
        let w = width(self.ty(v));
        match self.src(v) {
            Src::Rax => self.a().load(w, reg, Rm::Reg(RAX)),
            Src::Rcx => self.a().load(w, reg, Rm::Reg(RCX)),
            Src::Slot(n) => self.a().load(w, reg, slot(n)),
            Src::Imm(k) => self.a().mov_imm(reg, if w == W::D { k as u32 as u64 } else { k }),
        }
    }

    /// The second operand of an instruction whose first goes to rax: if it is in rax (and the
    /// first is not), it moves to rcx first.
    fn second(&mut self, a: Value, b: Value) -> Src {
        let s = self.src(b);
        if s == Src::Rax && self.rep(a) != self.rep(b) {
            self.a().load(W::Q, RCX, Rm::Reg(RAX));
            return Src::Rcx;
        }
        s
    }

    /// `s` as an r/m operand, a constant materialized in rcx.
    fn rm(&mut self, s: Src) -> Rm {
        match s {
            Src::Rax => Rm::Reg(RAX),
            Src::Rcx => Rm::Reg(RCX),
            Src::Slot(n) => slot(n),
            Src::Imm(k) => {
                self.a().mov_imm(RCX, k);
                Rm::Reg(RCX)
            }
        }
    }

    /// rcx = `s` (`w` wide).
    fn load_rcx(&mut self, w: W, s: Src) {
        match s {
            Src::Rcx => {}
            Src::Imm(k) => self.a().mov_imm(RCX, if w == W::D { k as u32 as u64 } else { k }),
            other => {
                let m = self.rm(other);
                self.a().load(w, RCX, m);
            }
        }
    }

    /// Instruction `i` left its result in rax.
    fn def_rax(&mut self, i: usize) {
        self.s.loc[i] = Loc::Nowhere;
        self.rax = Some(Value(i as u32));
    }

    /// Before guest-register slot `n` (every one, for None) is written: values living there
    /// move to rax's care or to temporaries.
    fn evacuate(&mut self, n: Option<u16>) {
        let mut aliases = std::mem::take(&mut self.s.aliases);
        aliases.retain(|&(at, v)| {
            if n.is_some_and(|n| n != at) {
                return true;
            }
            if self.s.uses[v.index()] == 0 || self.s.loc[v.index()] != Loc::Slot(at) {
                return false;
            }
            if self.rax == Some(v) {
                self.s.loc[v.index()] = Loc::Nowhere;
            } else {
                let t = self.alloc_temp();
                self.a().load(W::Q, RCX, slot(at));
                self.a().store(W::Q, slot(t), RCX);
                self.s.loc[v.index()] = Loc::Slot(t);
            }
            false
        });
        self.s.aliases = aliases;
    }

    /// The fault-site tag of `at`.
    fn tag(&self, at: At) -> u32 {
        if at.replay {
            fault_sites::replay_tag(self.block.pc, at.pc).bits()
        } else {
            fault_sites::tag(self.block.pc, at.pc).bits()
        }
    }

    fn cold(&mut self, c: Cold) -> Label {
        let l = self.s.asm.new_label();
        self.s.cold.push((l, c));
        l
    }

    /// Returns the descriptor's address + `code` ([`exits::ENTRY_INTERRUPTED`] or
    /// [`exits::ENTRY_HOT`]): the dispatcher takes the pc from the descriptor.
    fn leave_at_entry(&mut self, code: u64) {
        self.a().load(W::Q, RAX, Rm::Mem(mem(RECORD, Record::DESC)));
        self.a().alu_imm(W::Q, Alu::Add, Rm::Reg(RAX), code as i32);
        self.a().ret();
    }

    fn ret_code(&mut self, code: i64) {
        self.a().mov_imm(RAX, code as u64);
        self.a().ret();
    }

    /// A System V call of `f` (arguments already in place; rax's value saved if needed).
    fn call(&mut self, f: u64) {
        self.clobber_rax();
        self.a().alu_imm(W::Q, Alu::Sub, Rm::Reg(RSP), 8);
        self.a().mov_imm(RAX, f);
        self.a().call_reg(RAX);
        self.a().alu_imm(W::Q, Alu::Add, Rm::Reg(RSP), 8);
    }

    /// After a runtime call that may fault: leave if it did.
    fn check_exception(&mut self, at: At) {
        let l = self.cold(Cold::Exception(at));
        self.a().alu_imm(W::D, Alu::Cmp, Rm::Mem(env_field(EnvHeader::OFF_EXCEPTION)), 0);
        self.a().jcc(Cc::Ne, l);
    }

    /// Chaining exit through slot `k` (`tail fn(env, from)`, from = the descriptor).
    fn chain(&mut self, k: u8) {
        self.a().load(W::Q, RDI, Rm::Reg(R15));
        self.a().load(W::Q, RSI, Rm::Mem(mem(RECORD, Record::DESC)));
        self.a().jmp_mem(mem(RECORD, Record::SLOTS + 8 * k as i32));
    }

    /// `ENV` and `RECORD` (runtime calls keep both: they are callee-saved), the exit request,
    /// the entry countdown, and the registers of host-MMU accesses.
    fn prologue(&mut self, uses_memory: bool) {
        self.a().lea(ENV, mem(R15, ENV_BIAS));
        let record = self.record;
        self.a().mov_imm(RECORD, record);
        let l = self.cold(Cold::Interrupted);
        self.a().alu_imm(W::D, Alu::Cmp, Rm::Mem(env_field(EnvHeader::OFF_EXIT_REQUEST)), 0);
        self.a().jcc(Cc::Ne, l);
        if self.hot_at != 0 {
            let l = self.cold(Cold::Hot);
            self.a().alu_imm(W::D, Alu::Sub, Rm::Mem(mem(RECORD, Record::COUNTDOWN)), 1);
            self.a().jcc(Cc::E, l);
        }
        if uses_memory {
            self.a().load(W::Q, GUEST_BASE, Rm::Mem(env_field(EnvHeader::OFF_GUEST_BASE)));
            self.a().load(W::Q, ADDR_MAX, Rm::Mem(env_field(EnvHeader::OFF_VA_LIMIT)));
            self.a().alu_imm(W::Q, Alu::Sub, Rm::Reg(ADDR_MAX), 8);
        }
    }

    /// The host access of a guest load or store, whose faults are reported at `at`.
    fn tagged(&mut self, at: At, f: impl FnOnce(&mut Asm)) {
        let start = self.s.asm.pos();
        f(&mut self.s.asm);
        let end = self.s.asm.pos();
        let tag = self.tag(at);
        self.s.sites.push((start, end, tag));
    }

    /// rax = guest address `a` for a host-MMU access, which traps (to the reference
    /// evaluator) unless it starts at or below `ADDR_MAX`.
    fn checked_address(&mut self, a: Value, at: At) {
        self.load_rax(a);
        self.clobber_rax();
        let trap = self.cold(Cold::Trap(at));
        self.a().alu(W::Q, Alu::Cmp, RAX, Rm::Reg(ADDR_MAX));
        self.a().jcc(Cc::A, trap);
    }

    /// Where a fault of load `inst` is reported: at its restart pc if it has one.
    fn fault_at(&self, inst: &Inst) -> At {
        match inst.imm {
            0 => self.here(),
            restart => At { pc: restart, replay: true },
        }
    }

    fn load(&mut self, i: usize, inst: &Inst) {
        let at = self.fault_at(inst);
        let a = inst.args[0];
        match le_access(inst) {
            Some((size, signed)) if self.host_mmu => {
                self.checked_address(a, at);
                self.tagged(at, |x| x.load_ext(RAX, Rm::Mem(mem_index(GUEST_BASE, RAX)), size, signed));
            }
            _ => {
                let Aux::Mem(m) = inst.aux else { return self.fail("ld without a memop") };
                self.load_reg(RSI, a);
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                let bits = m.to_bits() as u64 | if inst.ty == Ty::I32 { runtime::LOAD_I32 } else { 0 };
                self.a().mov_imm(RDX, bits);
                self.call(runtime::load as *const () as u64);
                self.check_exception(at);
            }
        }
        self.def_rax(i);
    }

    fn store(&mut self, inst: &Inst) {
        let at = self.here();
        let (a, v) = (inst.args[0], inst.args[1]);
        self.load_reg(RDX, v);
        match le_access(inst) {
            Some((size, _)) if self.host_mmu => {
                self.checked_address(a, at);
                self.tagged(at, |x| match size {
                    1 | 2 => x.store_small(size, mem_index(GUEST_BASE, RAX), RDX),
                    4 => x.store(W::D, Rm::Mem(mem_index(GUEST_BASE, RAX)), RDX),
                    _ => x.store(W::Q, Rm::Mem(mem_index(GUEST_BASE, RAX)), RDX),
                });
            }
            _ => {
                let Aux::Mem(m) = inst.aux else { return self.fail("st without a memop") };
                self.load_reg(RSI, a);
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                self.a().mov_imm(RCX, m.to_bits() as u64);
                self.call(runtime::store as *const () as u64);
                self.check_exception(at);
            }
        }
    }

    /// `i = op(a, b)` for the binary arithmetic ops.
    fn binary(&mut self, i: usize, inst: &Inst) {
        let (op, ty) = (inst.op, inst.ty);
        let w = width(ty);
        let (mut a, mut b) = (inst.args[0], inst.args[1]);
        if op.is_commutative() {
            let (sa, sb) = (self.src(a), self.src(b));
            if matches!(sa, Src::Imm(_)) || (sb == Src::Rax && sa != Src::Rax) {
                std::mem::swap(&mut a, &mut b);
            }
        }
        let alu = match op {
            Opcode::Add => Some(Alu::Add),
            Opcode::Sub => Some(Alu::Sub),
            Opcode::And => Some(Alu::And),
            Opcode::Or => Some(Alu::Or),
            Opcode::Xor => Some(Alu::Xor),
            _ => None,
        };
        let shift = match op {
            Opcode::Shl => Some(Shift::Shl),
            Opcode::ShrU => Some(Shift::Shr),
            Opcode::ShrS => Some(Shift::Sar),
            Opcode::Rotl => Some(Shift::Rol),
            Opcode::Rotr => Some(Shift::Ror),
            _ => None,
        };
        let minmax = match op {
            // replace a with b when this holds of (a, b)
            Opcode::MinS => Some(Cc::G),
            Opcode::MaxS => Some(Cc::L),
            Opcode::MinU => Some(Cc::A),
            Opcode::MaxU => Some(Cc::B),
            _ => None,
        };
        let negated = matches!(op, Opcode::Andn | Opcode::Orn | Opcode::Xnor);
        if alu.is_none() && shift.is_none() && minmax.is_none() && !negated && op != Opcode::Mul {
            // division, high multiplies: the runtime
            self.load_reg(RDI, a);
            self.load_reg(RSI, b);
            let which = op as u64 | if ty == Ty::I32 { runtime::ARITH_I32 } else { 0 };
            self.a().mov_imm(RDX, which);
            self.call(runtime::arith as *const () as u64);
            return self.def_rax(i);
        }
        let mut src = self.second(a, b);
        if shift.is_some() || negated || minmax.is_some() {
            // the operand goes to rcx before rax changes
            if !matches!(src, Src::Imm(_)) || shift.is_none() {
                self.load_rcx(w, src);
                src = Src::Rcx;
            }
        }
        self.load_rax(a);
        self.clobber_rax();
        let bits = ty.bits() as u64;
        if let Some(alu) = alu {
            self.alu_rax(w, alu, src);
        } else if op == Opcode::Mul {
            match src.imm32(w) {
                Some(k) => self.a().imul_imm(w, RAX, Rm::Reg(RAX), k),
                None => {
                    let m = self.rm(src);
                    self.a().imul(w, RAX, m);
                }
            }
        } else if let Some(sh) = shift {
            match src {
                Src::Imm(k) => self.a().shift_imm(w, sh, RAX, (k & (bits - 1)) as u8),
                // x86 takes the count mod the width, as the IR does
                _ => self.a().shift_cl(w, sh, RAX),
            }
        } else if negated {
            let alu = match op {
                Opcode::Andn => Alu::And,
                Opcode::Orn => Alu::Or,
                _ => Alu::Xor,
            };
            self.a().not(w, RCX);
            self.a().alu(w, alu, RAX, Rm::Reg(RCX));
        } else if let Some(replace_if) = minmax {
            self.a().alu(w, Alu::Cmp, RAX, Rm::Reg(RCX));
            self.a().cmov(w, replace_if, RAX, Rm::Reg(RCX));
        }
        self.def_rax(i);
    }

    /// `i = op(a)` for the unary ops and extensions, in rax.
    fn unary(&mut self, i: usize, inst: &Inst) {
        let (op, ty) = (inst.op, inst.ty);
        let w = width(ty);
        let a = inst.args[0];
        if matches!(op, Opcode::Clz | Opcode::Ctz | Opcode::Popcnt) {
            self.load_reg(RDI, a);
            let which = op as u64 | runtime::ARITH_UNARY | if ty == Ty::I32 { runtime::ARITH_I32 } else { 0 };
            self.a().mov_imm(RDX, which);
            self.call(runtime::arith as *const () as u64);
            return self.def_rax(i);
        }
        self.load_rax(a);
        self.clobber_rax();
        let bits = ty.bits() as u64;
        let x = &mut self.s.asm;
        match op {
            Opcode::Neg => x.neg(w, RAX),
            Opcode::Not => x.not(w, RAX),
            Opcode::Bswap => x.bswap(w, RAX),
            Opcode::ExtendS => x.movsxd(RAX, RAX),
            Opcode::ExtendU => x.load(W::D, RAX, Rm::Reg(RAX)),
            Opcode::Sext => {
                let sh = (bits - inst.imm.clamp(1, bits)) as u8;
                if sh != 0 {
                    x.shift_imm(w, Shift::Shl, RAX, sh);
                    x.shift_imm(w, Shift::Sar, RAX, sh);
                }
            }
            Opcode::Zext => match inst.imm.clamp(1, bits) {
                64 => {}
                32 => x.load(W::D, RAX, Rm::Reg(RAX)),
                k @ 1..=31 => x.alu_imm(w, Alu::And, Rm::Reg(RAX), ((1u64 << k) - 1) as i32),
                k => {
                    x.mov_imm(RCX, (1u64 << k) - 1);
                    x.alu(W::Q, Alu::And, RAX, Rm::Reg(RCX));
                }
            },
            _ => return self.fail("an unknown unary op"),
        }
        self.def_rax(i);
    }

    /// Compares a with b (in the type of a), a in rax.
    fn compare(&mut self, a: Value, b: Value) {
        let w = width(self.ty(a));
        let src = self.second(a, b);
        self.load_rax(a);
        self.alu_rax(w, Alu::Cmp, src);
    }

    /// rax = rax `alu` src (only the flags for `cmp`), src as an immediate where one fits.
    fn alu_rax(&mut self, w: W, alu: Alu, src: Src) {
        match src.imm32(w) {
            Some(k) => self.a().alu_imm(w, alu, Rm::Reg(RAX), k),
            None => {
                let m = self.rm(src);
                self.a().alu(w, alu, RAX, m);
            }
        }
    }

    /// Jumps to `l` if `v` (in its type) is not zero.
    fn jump_if_set(&mut self, v: Value, l: Label) {
        let w = width(self.ty(v));
        match self.src(v) {
            Src::Imm(k) => {
                if k & self.ty(v).mask() != 0 {
                    self.a().jmp(l);
                }
                return;
            }
            Src::Rax => self.a().test(w, RAX, RAX),
            Src::Rcx => self.a().test(w, RCX, RCX),
            Src::Slot(n) => self.a().alu_imm(w, Alu::Cmp, slot(n), 0),
        }
        self.a().jcc(Cc::Ne, l);
    }

    /// Emits instruction `i`; returns whether the next one was fused into it.
    fn inst(&mut self, i: usize) -> bool {
        let block = self.block;
        let inst = &block.insts[i];
        if self.s.skip[i] {
            return false;
        }
        // the operands' uses end here; scratch slots are freed after the instruction
        for &v in inst.args() {
            let r = self.rep(v).index();
            self.s.uses[r] = self.s.uses[r].saturating_sub(1);
            if self.s.uses[r] == 0 {
                if let Loc::Slot(n) = self.s.loc[r] {
                    if self.is_temp(n) {
                        self.s.dying.push(n);
                    }
                }
            }
        }
        let mut fused = false;
        match inst.op {
            Opcode::Nop => {}
            Opcode::InsnStart => self.insn_pc = inst.imm,
            Opcode::Const => self.s.loc[i] = Loc::Imm,
            Opcode::Trunc => {}
            Opcode::Get => {
                let Aux::Global(g) = inst.aux else { return self.bad(i) };
                let n = self.gslot(g);
                self.s.loc[i] = Loc::Slot(n);
                self.s.aliases.push((n, Value(i as u32)));
            }
            Opcode::Set => {
                let Aux::Global(g) = inst.aux else { return self.bad(i) };
                let n = self.gslot(g);
                let v = inst.args[0];
                let r = self.rep(v);
                if r == v && self.s.loc[r.index()] == Loc::Slot(n) {
                    // the register's own value, unchanged
                    return false;
                }
                self.evacuate(Some(n));
                if inst.ty == Ty::I32 {
                    self.load_reg(RCX, v);
                    self.a().store(W::Q, slot(n), RCX);
                } else {
                    match self.src(v).imm32(W::Q) {
                        Some(k) => self.a().store_imm32(W::Q, slot_mem(n), k),
                        None => {
                            self.load_rax(v);
                            self.a().store(W::Q, slot(n), RAX);
                            if self.s.uses[r.index()] > 0 && self.s.loc[r.index()] == Loc::Nowhere {
                                self.s.loc[r.index()] = Loc::Slot(n);
                                self.s.aliases.push((n, r));
                            }
                        }
                    }
                }
            }
            Opcode::Add
            | Opcode::Sub
            | Opcode::Mul
            | Opcode::MulhS
            | Opcode::MulhU
            | Opcode::MulhSu
            | Opcode::DivS
            | Opcode::DivU
            | Opcode::RemS
            | Opcode::RemU
            | Opcode::And
            | Opcode::Or
            | Opcode::Xor
            | Opcode::Andn
            | Opcode::Orn
            | Opcode::Xnor
            | Opcode::Shl
            | Opcode::ShrU
            | Opcode::ShrS
            | Opcode::Rotl
            | Opcode::Rotr
            | Opcode::MinS
            | Opcode::MaxS
            | Opcode::MinU
            | Opcode::MaxU => self.binary(i, inst),
            Opcode::Neg
            | Opcode::Not
            | Opcode::Clz
            | Opcode::Ctz
            | Opcode::Popcnt
            | Opcode::Bswap
            | Opcode::Sext
            | Opcode::Zext
            | Opcode::ExtendS
            | Opcode::ExtendU => self.unary(i, inst),
            Opcode::Setcond => {
                let Aux::Cond(c) = inst.aux else { return self.bad(i) };
                self.compare(inst.args[0], inst.args[1]);
                let next = block.insts.get(i + 1);
                match next.map(|n| (n.op, n.aux, n.args[0])) {
                    // fused with the side exit it feeds
                    Some((Opcode::ExitIf, Aux::Exit(ExitKind::Chain { slot }), v))
                        if v.index() == i && self.s.uses[i] == 1 =>
                    {
                        self.s.uses[i] = 0;
                        let l = self.cold(Cold::Chain(slot));
                        self.a().jcc(cc(c), l);
                        fused = true;
                    }
                    _ => {
                        self.clobber_rax();
                        self.a().setcc_zx(cc(c), RAX);
                        self.def_rax(i);
                    }
                }
            }
            Opcode::Select => {
                let (c, t, f) = (inst.args[0], inst.args[1], inst.args[2]);
                self.load_reg(RCX, c);
                self.load_reg(RDX, t);
                self.load_rax(f);
                self.clobber_rax();
                self.a().test(W::Q, RCX, RCX);
                self.a().cmov(W::Q, Cc::Ne, RAX, Rm::Reg(RDX));
                self.def_rax(i);
            }
            Opcode::Ld => self.load(i, inst),
            Opcode::St => self.store(inst),
            Opcode::AtomicRmw | Opcode::Cmpxchg => {
                let (mop, aop) = match inst.aux {
                    Aux::Atomic(o, m) => (m, o),
                    Aux::Mem(m) => (m, ir::AtomicOp::Xchg),
                    _ => return self.bad(i),
                };
                let cmpxchg = inst.op == Opcode::Cmpxchg;
                self.load_reg(RSI, inst.args[0]);
                if cmpxchg {
                    self.load_reg(RCX, inst.args[1]);
                    self.load_reg(RDX, inst.args[2]);
                } else {
                    self.load_reg(RDX, inst.args[1]);
                }
                let which = runtime::atomic_which(mop, aop, inst.ty, cmpxchg);
                self.a().mov_imm(x86::R8, which);
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                self.call(runtime::atomic as *const () as u64);
                self.check_exception(self.here());
                self.def_rax(i);
            }
            Opcode::Fence => self.a().mfence(),
            Opcode::Fadd | Opcode::Fsub | Opcode::Fmul | Opcode::Fdiv | Opcode::Fsqrt | Opcode::Fma => {
                let args = inst.args();
                self.load_reg(RDX, args[0]);
                self.load_reg(RCX, *args.get(1).unwrap_or(&args[0]));
                self.load_reg(x86::R8, *args.get(2).unwrap_or(&args[0]));
                self.a().mov_imm(RSI, inst.op as u64 | ((inst.ty == Ty::I64) as u64) << 8);
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                self.call(ir::fpu::fp_op_runtime as *const () as u64);
                self.def_rax(i);
            }
            Opcode::Fpflags => {
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                self.call(ir::fpu::fpflags_runtime as *const () as u64);
                self.def_rax(i);
            }
            Opcode::Call => {
                let Aux::Helper(h, flags) = inst.aux else { return self.bad(i) };
                if flags.writes_globals() {
                    self.evacuate(None);
                }
                const ARGS: [Reg; 4] = [RSI, RDX, RCX, x86::R8];
                for (k, r) in ARGS.iter().enumerate() {
                    match inst.args().get(k) {
                        Some(&v) => self.load_reg(*r, v),
                        None => self.a().mov_imm(*r, 0),
                    }
                }
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                let f = self.decls.helpers[h.0 as usize].func;
                self.call(f as *const () as u64);
                if flags.has(ir::HelperFlags::CAN_FAULT) {
                    self.check_exception(self.here());
                }
                self.def_rax(i);
            }
            Opcode::ExitIf => {
                let l = match inst.aux {
                    Aux::Exit(ExitKind::Chain { slot }) => self.cold(Cold::Chain(slot)),
                    Aux::Exit(ExitKind::Raise { cause }) => self.cold(Cold::Raise { cause, at: self.here() }),
                    _ => return self.bad(i),
                };
                self.jump_if_set(inst.args[0], l);
            }
            Opcode::GotoTb => {
                let Aux::Slot(k) = inst.aux else { return self.bad(i) };
                self.chain(k);
            }
            Opcode::GotoPtr => self.goto_ptr(inst.args[0]),
            Opcode::ExitTb => {
                self.load_rax(inst.args[0]);
                if let Some(p) = self.pc_slot {
                    self.a().store(W::Q, slot(p), RAX);
                }
                self.ret_code(exits::EXIT_LOOKUP);
            }
            Opcode::Raise => {
                self.load_reg(RCX, inst.args[0]);
                self.a().store_imm32(W::D, env_field(EnvHeader::OFF_EXCEPTION), inst.imm as i32);
                self.a().store(W::Q, Rm::Mem(env_field(EnvHeader::OFF_EXCEPTION_AUX)), RCX);
                self.leave_with_exception(self.here());
            }
        }
        let s = &mut *self.s;
        s.free.append(&mut s.dying);
        fused
    }

    fn bad(&mut self, i: usize) -> bool {
        self.fail(&format!("malformed instruction v{i}"));
        false
    }

    /// pc = `a`; continue in the block the lookup table has for it (`exits.rs`), or leave
    /// for the dispatcher.
    fn goto_ptr(&mut self, a: Value) {
        self.load_rax(a);
        let miss = self.cold(Cold::Lookup);
        let flags = self.block.flags;
        let lookup = self.lookup;
        let pc_slot = self.pc_slot;
        let x = self.a();
        if let Some(p) = pc_slot {
            x.store(W::Q, slot(p), RAX);
        }
        // hash = ((pc >> 1) ^ (pc >> 17)) & mask, as exits::lookup_hash
        x.load(W::Q, RCX, Rm::Reg(RAX));
        x.shift_imm(W::Q, Shift::Shr, RCX, 17);
        x.load(W::Q, RDX, Rm::Reg(RAX));
        x.shift_imm(W::Q, Shift::Shr, RDX, 1);
        x.alu(W::Q, Alu::Xor, RCX, Rm::Reg(RDX));
        x.alu_imm(W::D, Alu::And, Rm::Reg(RCX), (1 << LOOKUP_BITS) - 1);
        x.shift_imm(W::Q, Shift::Shl, RCX, 3);
        x.mov_imm(RDX, lookup);
        // the entry address, checked against the header before its code
        x.load(W::Q, RSI, Rm::Mem(mem_index(RDX, RCX)));
        x.alu(W::Q, Alu::Cmp, RAX, Rm::Mem(mem(RSI, LOOKUP_KEY_PC)));
        x.jcc(Cc::Ne, miss);
        match imm32(W::Q, flags) {
            Some(k) => x.alu_imm(W::Q, Alu::Cmp, Rm::Mem(mem(RSI, LOOKUP_KEY_FLAGS)), k),
            None => {
                x.mov_imm(RCX, flags);
                x.alu(W::Q, Alu::Cmp, RCX, Rm::Mem(mem(RSI, LOOKUP_KEY_FLAGS)));
            }
        }
        x.jcc(Cc::Ne, miss);
        x.load(W::Q, RDI, Rm::Reg(R15));
        x.jmp_reg(RSI);
    }

    /// Sets the exception pc (and replay flag) of `at` and leaves.
    fn leave_with_exception(&mut self, at: At) {
        self.a().mov_imm(RAX, at.pc);
        self.a().store(W::Q, Rm::Mem(env_field(EnvHeader::OFF_EXCEPTION_PC)), RAX);
        self.a().store_imm32(W::D, env_field(EnvHeader::OFF_EXCEPTION_REPLAY), at.replay as i32);
        self.ret_code(exits::EXIT_EXCEPTION);
    }

    fn emit_cold(&mut self) {
        let cold = std::mem::take(&mut self.s.cold);
        for &(l, c) in &cold {
            self.a().bind(l);
            match c {
                Cold::Exception(at) => self.leave_with_exception(at),
                Cold::Raise { cause, at } => {
                    self.a().store_imm32(W::D, env_field(EnvHeader::OFF_EXCEPTION), cause as i32);
                    self.a().store_imm32(W::Q, env_field(EnvHeader::OFF_EXCEPTION_AUX), 0);
                    self.leave_with_exception(at);
                }
                Cold::Chain(k) => self.chain(k),
                Cold::Trap(at) => self.tagged(at, |a| a.ud2()),
                Cold::Lookup => self.ret_code(exits::EXIT_LOOKUP),
                Cold::Interrupted => self.leave_at_entry(exits::ENTRY_INTERRUPTED),
                Cold::Hot => self.leave_at_entry(exits::ENTRY_HOT),
            }
        }
        self.s.cold = cold;
        self.s.cold.clear();
    }

    /// The passes before emission: `rep`, and backward: use counts, dead
    /// values and overwritten register writes (`skip`); returns whether a host-MMU access is
    /// made.
    fn prepare(&mut self) -> bool {
        let block = self.block;
        let insts = &block.insts;
        let n = insts.len();
        let s = &mut *self.s;
        s.rep.clear();
        s.rep.extend(0..n as u32);
        let mut uses_memory = false;
        for (i, inst) in insts.iter().enumerate() {
            match inst.op {
                Opcode::Trunc => s.rep[i] = s.rep[inst.args[0].index()],
                Opcode::Ld | Opcode::St => uses_memory |= le_access(inst).is_some(),
                _ => {}
            }
        }
        s.uses.clear();
        s.uses.resize(n, 0);
        s.skip.clear();
        s.skip.resize(n, false);
        s.overwritten.clear();
        s.overwritten.resize(self.decls.globals.len(), 0);
        let mut epoch = 1u32;
        for (i, inst) in insts.iter().enumerate().rev() {
            match (inst.op, inst.aux) {
                (Opcode::Set, Aux::Global(g)) => {
                    let o = &mut s.overwritten[g.0 as usize];
                    if *o == epoch {
                        s.skip[i] = true;
                        continue;
                    }
                    *o = epoch;
                }
                (Opcode::Get, Aux::Global(g)) if s.uses[i] > 0 => s.overwritten[g.0 as usize] = 0,
                _ if reads_registers(inst) => epoch += 1,
                _ => {}
            }
            if removable(inst) && s.uses[i] == 0 {
                s.skip[i] = true;
                continue;
            }
            for &v in inst.args() {
                s.uses[s.rep[v.index()] as usize] += 1;
            }
        }
        s.loc.clear();
        s.loc.resize(n, Loc::Nowhere);
        s.aliases.clear();
        s.free.clear();
        s.dying.clear();
        uses_memory && self.host_mmu
    }
}

impl Backend for BaselineBackend {
    fn name(&self) -> &'static str {
        "baseline"
    }

    fn compile(&self, block: &Block, cx: &CompileCtx<'_>) -> Result<Arc<dyn CompiledBlock>, CompileError> {
        let MemMode::Linear { .. } = cx.mem;
        if !block.insts.last().is_some_and(|i| i.flags().has(OpFlags::TERMINATOR)) {
            return Err(CompileError::Codegen("baseline tier: the block does not end in a terminator".into()));
        }
        let first_temp = cx.env.scratch_offset / 8;
        let limit_temp = (cx.env.scratch_offset + cx.env.scratch_size) / 8;
        let (Ok(first_temp), Ok(limit_temp)) = (u16::try_from(first_temp), u16::try_from(limit_temp)) else {
            return Err(CompileError::Codegen("baseline tier: environment too large for 16-bit slots".into()));
        };
        let shared = &self.jit.shared;
        let (dp, record, generation) = shared.new_desc(block, Some(self.hot_at));
        let (entry, size) = SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let s = &mut *s;
            s.asm.reset();
            s.sites.clear();
            s.cold.clear();
            let mut e = Emitter {
                s,
                block,
                decls: cx.decls,
                pc_slot: cx.decls.pc_offset().map(|o| (o / 8) as u16),
                record: record as u64,
                lookup: shared.lookup.as_ptr() as u64,
                hot_at: self.hot_at,
                host_mmu: shared.host_mmu,
                rax: None,
                insn_pc: block.pc,
                next_temp: first_temp,
                first_temp,
                limit_temp,
                error: None,
            };
            let uses_memory = e.prepare();
            e.prologue(uses_memory);
            let mut i = 0;
            while i < block.insts.len() {
                let fused = e.inst(i);
                i += 1 + fused as usize;
            }
            e.emit_cold();
            if let Some(err) = e.error.take() {
                return Err(err);
            }
            if !s.asm.finish() {
                return Err(CompileError::Codegen("baseline tier: unbound label".into()));
            }
            s.sites.sort_unstable_by_key(|r| r.0);
            let entry = shared.place(&s.asm.buf, block, &s.sites)?;
            Ok((entry, s.asm.buf.len()))
        })?;
        shared.finish(dp, generation, entry, size, block.pc, cx.decls.pc_offset())
    }

    fn chains_natively(&self) -> bool {
        true
    }

    fn code_domain(&self) -> usize {
        Arc::as_ptr(&self.jit.shared) as usize
    }

    fn link(&self, from: &dyn CompiledBlock, slot: u8, to: &Arc<dyn CompiledBlock>) -> bool {
        self.jit.link(from, slot, to)
    }

    fn unlink(&self, from: &dyn CompiledBlock, slot: u8) {
        self.jit.unlink(from, slot)
    }

    fn exit_origin(&self, from: u64) -> Option<(u64, u64)> {
        self.jit.exit_origin(from)
    }

    fn publish(&self, code: &dyn CompiledBlock) {
        self.jit.publish(code)
    }

    fn refresh_lookup(&self, code: &dyn CompiledBlock) {
        self.jit.refresh_lookup(code)
    }

    fn invalidate(&self, code: &dyn CompiledBlock) {
        self.jit.invalidate(code)
    }

    fn flush(&self) {
        if self.owns_code {
            self.jit.flush()
        }
    }

    fn fork_lock(&self) -> Box<dyn ir::backend::Held + '_> {
        if self.owns_code {
            self.jit.fork_lock()
        } else {
            Box::new(())
        }
    }

    fn fork_child(&self) -> Result<(), String> {
        if self.owns_code {
            self.jit.fork_child()
        } else {
            Ok(())
        }
    }
}
