//! The baseline tier: IR blocks turned into x86-64 code by templates, in microseconds, so that
//! cold code runs as host code from its first execution (the role QEMU's TCG plays for all
//! code, and a baseline JIT's in a language VM). Cranelift compiles the hot blocks again later.
//!
//! It starts from the interpreter's bytecode (`backend_interp::with_bytecode`), which has
//! already done the work a template compiler needs: operand forms (immediates, folded
//! address offsets, fused compare-and-branch), and every value placed in an environment slot
//! (guest registers in their own, temporaries in scratch slots). Each bytecode instruction
//! becomes a short fixed sequence: operands loaded from their slots into rax/rcx/rdx, the
//! operation, the result stored to its slot. Arithmetic without a short x86-64 form (division,
//! high multiplies, bit counts), FP operations, generic (big-endian, aligned) accesses and
//! atomics call the runtime (`runtime.rs`, the semantics of `ir::sem` and `ir::linear`).
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
//! Every block checks `exit_request` on entry and, in a tiered set-up, counts down its
//! descriptor's `hot_countdown`, leaving with [`exits::EXIT_HOT`] when it reaches zero.
//!
//! Stack: blocks are entered with rsp ≡ 8 (mod 16), as after a call; runtime calls are
//! bracketed by `sub rsp, 8` / `add rsp, 8` so that the callee sees the System V alignment.

mod runtime;
mod x86;

use std::cell::RefCell;
use std::sync::Arc;

use backend_interp::bytecode::{self, arith, AtomicSite, CallSite, Insn, Op, Operands, REPLAY_FROM};
use ir::backend::{Backend, CompileCtx, CompileError, CompiledBlock, EnvHeader, MemMode};
use ir::{Block, Cond, Opcode, Ty};

use crate::exits::{self, DESC_ENTRY, DESC_FLAGS, DESC_HOT_COUNTDOWN, DESC_PC, DESC_SLOTS, LOOKUP_BITS};
use crate::{fault_sites, JitBackend};
use x86::{mem, mem_index, Alu, Asm, Cc, Label, Reg, Rm, Shift, R15, RAX, RCX, RDI, RDX, RSI, RSP, W};

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

/// The emitter's reused buffers.
#[derive(Default)]
struct Scratch {
    asm: Asm,
    insn_pcs: Vec<u64>,
    sites: Vec<(u32, u32, u32)>,
    cold: Vec<(Label, Cold)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Out-of-line code, emitted after the block's body.
#[derive(Clone, Copy)]
enum Cold {
    /// Leave with a pending exception (cause and address already stored), raised by the
    /// instruction with this (index | `REPLAY_FROM`).
    Exception(u32),
    /// Raise `cause` with the aux value in slot `aux` (or 0).
    Raise { cause: u32, aux: Option<u16>, insn: u32 },
    /// Leave through chaining slot n.
    Chain(u8),
    /// `ud2`: the access of this instruction runs on the reference evaluator.
    Trap(u32),
    /// Leave for a lookup (the pc is stored).
    Lookup,
    /// exit_request was set at entry.
    Interrupted,
    /// The entry countdown reached zero.
    Hot,
}

struct Emitter<'a> {
    s: &'a mut Scratch,
    /// The block's helper-call sites.
    calls: &'a [CallSite],
    /// The block's atomic sites, as the block keeps them (the code embeds their addresses).
    atomics: &'a [AtomicSite],
    block_pc: u64,
    flags: u64,
    pc_slot: Option<u16>,
    desc: u64,
    lookup: u64,
    hot_at: u32,
    host_mmu: bool,
    /// The slot whose value rax holds after the instruction just emitted (its result).
    rax_slot: Option<u16>,
    /// That slot, while the next instruction has not touched rax yet.
    entry_rax: Option<u16>,
}

fn slot(n: u16) -> Rm {
    Rm::Mem(mem(R15, 8 * n as i32))
}

fn slot_mem(n: u16) -> x86::Mem {
    mem(R15, 8 * n as i32)
}

fn env_field(off: usize) -> x86::Mem {
    mem(R15, off as i32)
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

/// Whether the bytecode op leaves the block unconditionally.
fn is_final(op: Op) -> bool {
    matches!(op, Op::GotoTb | Op::GotoPtr | Op::ExitTb | Op::Raise)
}

/// The access of a specialized little-endian load or store: (size in bytes, sign-extended).
fn le_access(op: Op) -> Option<(u8, bool)> {
    Some(match op {
        Op::LdU8 | Op::St8 => (1, false),
        Op::LdS8 => (1, true),
        Op::LdU16Le | Op::St16Le => (2, false),
        Op::LdS16Le => (2, true),
        Op::LdU32Le | Op::St32Le => (4, false),
        Op::LdS32Le => (4, true),
        Op::Ld64Le | Op::St64Le => (8, false),
        _ => return None,
    })
}

fn memop_bits(size: u8, signed: bool) -> u64 {
    let s = match size {
        1 => ir::Size::S8,
        2 => ir::Size::S16,
        4 => ir::Size::S32,
        _ => ir::Size::S64,
    };
    let m = ir::MemOp::new(s, ir::Endian::Little);
    (if signed { m.sext() } else { m }).to_bits() as u64
}

impl Emitter<'_> {
    fn a(&mut self) -> &mut Asm {
        &mut self.s.asm
    }

    /// rax (eax for `W::D`) = slot `n`, as an instruction's first use of rax: nothing is
    /// emitted if rax already holds that slot's value, the previous instruction's result
    /// (32-bit users read only eax).
    fn rax_from(&mut self, w: W, n: u16) {
        if self.entry_rax.take() != Some(n) {
            self.s.asm.load(w, RAX, slot(n));
        }
    }

    /// Slot `n` = rax, as an instruction's last action: the next one may use rax as that slot.
    fn rax_to(&mut self, n: u16) {
        self.s.asm.store(W::Q, slot(n), RAX);
        self.rax_slot = Some(n);
    }

    fn cold(&mut self, c: Cold) -> Label {
        let l = self.s.asm.new_label();
        self.s.cold.push((l, c));
        l
    }

    /// The fault-site tag of instruction `insn` (index | `REPLAY_FROM`).
    fn tag(&self, insn: u32) -> u32 {
        let pc = self.s.insn_pcs.get((insn & !REPLAY_FROM) as usize).copied().unwrap_or(self.block_pc);
        if insn & REPLAY_FROM != 0 {
            fault_sites::replay_tag(self.block_pc, pc).bits()
        } else {
            fault_sites::tag(self.block_pc, pc).bits()
        }
    }

    fn store_pc_imm(&mut self, pc: u64) {
        if let Some(p) = self.pc_slot {
            self.a().mov_imm(RAX, pc);
            self.a().store(W::Q, slot(p), RAX);
        }
    }

    fn ret_code(&mut self, code: i64) {
        self.a().mov_imm(RAX, code as u64);
        self.a().ret();
    }

    /// A System V call of `f` (arguments already in place).
    fn call(&mut self, f: u64) {
        self.a().alu_imm(W::Q, Alu::Sub, Rm::Reg(RSP), 8);
        self.a().mov_imm(RAX, f);
        self.a().call_reg(RAX);
        self.a().alu_imm(W::Q, Alu::Add, Rm::Reg(RSP), 8);
    }

    /// After a runtime call that may fault: leave if it did.
    fn check_exception(&mut self, insn: u32) {
        let l = self.cold(Cold::Exception(insn));
        self.a().alu_imm(W::D, Alu::Cmp, Rm::Mem(env_field(EnvHeader::OFF_EXCEPTION)), 0);
        self.a().jcc(Cc::Ne, l);
    }

    /// Chaining exit through slot `k`.
    fn chain(&mut self, k: u8) {
        let desc = self.desc;
        self.a().load(W::Q, RDI, Rm::Reg(R15));
        self.a().mov_imm(RSI, desc);
        self.a().jmp_mem(mem(RSI, DESC_SLOTS + 8 * k as i32));
    }

    fn prologue(&mut self, uses_memory: bool) {
        let l = self.cold(Cold::Interrupted);
        self.a().alu_imm(W::D, Alu::Cmp, Rm::Mem(env_field(EnvHeader::OFF_EXIT_REQUEST)), 0);
        self.a().jcc(Cc::Ne, l);
        if self.hot_at != 0 {
            let l = self.cold(Cold::Hot);
            let desc = self.desc;
            self.a().mov_imm(RAX, desc);
            self.a().alu_imm(W::D, Alu::Sub, Rm::Mem(mem(RAX, DESC_HOT_COUNTDOWN)), 1);
            self.a().jcc(Cc::E, l);
        }
        if uses_memory {
            self.a().load(W::Q, GUEST_BASE, Rm::Mem(env_field(EnvHeader::OFF_GUEST_BASE)));
            self.a().load(W::Q, ADDR_MAX, Rm::Mem(env_field(EnvHeader::OFF_VA_LIMIT)));
            self.a().alu_imm(W::Q, Alu::Sub, Rm::Reg(ADDR_MAX), 8);
        }
    }

    /// rax = the guest address of a load or store.
    fn address(&mut self, i: &Insn) {
        self.rax_from(W::Q, i.a);
        let off = i.imm as u32 as i32;
        if off != 0 {
            self.a().lea(RAX, mem(RAX, off));
        }
    }

    /// The host access of a guest load or store, tagged as instruction `insn`'s.
    fn tagged(&mut self, insn: u32, f: impl FnOnce(&mut Asm)) {
        let start = self.s.asm.pos();
        f(&mut self.s.asm);
        let end = self.s.asm.pos();
        let tag = self.tag(insn);
        self.s.sites.push((start, end, tag));
    }

    /// A guest load (`value` None; the result in rax) or store of `value` by the runtime,
    /// with `MemOp` bits `bits`.
    fn access_call(&mut self, i: &Insn, value: Option<u16>, bits: u64) {
        self.address(i);
        self.a().load(W::Q, RSI, Rm::Reg(RAX));
        self.a().load(W::Q, RDI, Rm::Reg(R15));
        match value {
            None => {
                self.a().mov_imm(RDX, bits);
                self.call(runtime::load as *const () as u64);
            }
            Some(v) => {
                self.a().load(W::Q, RDX, slot(v));
                self.a().mov_imm(RCX, bits);
                self.call(runtime::store as *const () as u64);
            }
        }
        self.check_exception((i.imm >> 32) as u32);
    }

    /// rax = the guest address of a host-MMU access, which traps (to the reference
    /// evaluator) unless it starts at or below `ADDR_MAX`.
    fn checked_address(&mut self, i: &Insn, insn: u32) {
        self.address(i);
        let trap = self.cold(Cold::Trap(insn));
        self.a().alu(W::Q, Alu::Cmp, RAX, Rm::Reg(ADDR_MAX));
        self.a().jcc(Cc::A, trap);
    }

    fn le_load(&mut self, i: &Insn, size: u8, signed: bool) {
        let insn = (i.imm >> 32) as u32;
        if self.host_mmu {
            self.checked_address(i, insn);
            self.tagged(insn, |a| a.load_ext(RAX, Rm::Mem(mem_index(GUEST_BASE, RAX)), size, signed));
        } else {
            self.access_call(i, None, memop_bits(size, signed));
        }
        self.rax_to(i.d);
    }

    fn le_store(&mut self, i: &Insn, size: u8) {
        let insn = (i.imm >> 32) as u32;
        if self.host_mmu {
            self.checked_address(i, insn);
            self.a().load(W::Q, RDX, slot(i.b));
            self.tagged(insn, |a| match size {
                1 | 2 => a.store_small(size, mem_index(GUEST_BASE, RAX), RDX),
                4 => a.store(W::D, Rm::Mem(mem_index(GUEST_BASE, RAX)), RDX),
                _ => a.store(W::Q, Rm::Mem(mem_index(GUEST_BASE, RAX)), RDX),
            });
        } else {
            self.access_call(i, Some(i.b), memop_bits(size, false));
        }
    }

    /// `d = op(a, src)` (32-bit ops: on the low halves, result sign-extended).
    fn arith(&mut self, d: u16, op: Opcode, ty: Ty, a: u16, src: Operand) {
        let w = if ty == Ty::I32 { W::D } else { W::Q };
        let bits = if ty == Ty::I32 { 32 } else { 64 };
        // an immediate that the instruction's sign-extended imm32 reproduces
        let imm32 = |v: u64| -> Option<i32> {
            match w {
                W::Q => i32::try_from(v as i64).ok(),
                W::D => Some(v as u32 as i32),
            }
        };
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
        let inline = alu.is_some()
            || op == Opcode::Mul
            || shift.is_some()
            || matches!(op, Opcode::Andn | Opcode::Orn | Opcode::Xnor)
            || minmax.is_some();
        if !inline {
            return self.arith_call(d, op, ty, a, Some(src));
        }
        self.rax_from(w, a);
        let a_ = &mut self.s.asm;
        if let Some(alu) = alu {
            match src {
                Operand::Slot(b) => a_.alu(w, alu, RAX, slot(b)),
                Operand::Imm(v) => match imm32(v) {
                    Some(k) => a_.alu_imm(w, alu, Rm::Reg(RAX), k),
                    None => {
                        a_.mov_imm(RCX, v);
                        a_.alu(w, alu, RAX, Rm::Reg(RCX));
                    }
                },
            }
        } else if op == Opcode::Mul {
            match src {
                Operand::Slot(b) => a_.imul(w, RAX, slot(b)),
                Operand::Imm(v) => match imm32(v) {
                    Some(k) => a_.imul_imm(w, RAX, Rm::Reg(RAX), k),
                    None => {
                        a_.mov_imm(RCX, v);
                        a_.imul(w, RAX, Rm::Reg(RCX));
                    }
                },
            }
        } else if let Some(sh) = shift {
            match src {
                Operand::Imm(v) => a_.shift_imm(w, sh, RAX, (v & (bits - 1)) as u8),
                Operand::Slot(b) => {
                    // x86 takes the count mod the width, as the IR does
                    a_.load(W::D, RCX, slot(b));
                    a_.shift_cl(w, sh, RAX);
                }
            }
        } else if matches!(op, Opcode::Andn | Opcode::Orn | Opcode::Xnor) {
            match src {
                Operand::Slot(b) => a_.load(w, RCX, slot(b)),
                Operand::Imm(v) => a_.mov_imm(RCX, v),
            }
            a_.not(w, RCX);
            let alu = match op {
                Opcode::Andn => Alu::And,
                Opcode::Orn => Alu::Or,
                _ => Alu::Xor,
            };
            a_.alu(w, alu, RAX, Rm::Reg(RCX));
        } else if let Some(replace_if) = minmax {
            match src {
                Operand::Slot(b) => a_.load(w, RCX, slot(b)),
                Operand::Imm(v) => a_.mov_imm(RCX, v),
            }
            a_.alu(w, Alu::Cmp, RAX, Rm::Reg(RCX));
            a_.cmov(w, replace_if, RAX, Rm::Reg(RCX));
        }
        if ty == Ty::I32 {
            self.a().movsxd(RAX, RAX);
        }
        self.rax_to(d);
    }

    /// `d = op(a)` (32-bit ops: on the low half, result sign-extended).
    fn unary(&mut self, d: u16, op: Opcode, ty: Ty, a: u16) {
        let w = if ty == Ty::I32 { W::D } else { W::Q };
        self.rax_from(w, a);
        let x = &mut self.s.asm;
        match op {
            Opcode::Neg => x.neg(w, RAX),
            Opcode::Not => x.not(w, RAX),
            Opcode::Bswap => x.bswap(w, RAX),
            _ => return self.arith_call(d, op, ty, a, None),
        }
        if ty == Ty::I32 {
            x.movsxd(RAX, RAX);
        }
        self.rax_to(d);
    }

    /// `d = op(a, src)` or `d = op(a)` by the runtime.
    fn arith_call(&mut self, d: u16, op: Opcode, ty: Ty, a: u16, src: Option<Operand>) {
        let x = &mut self.s.asm;
        x.load(W::Q, RDI, slot(a));
        match src {
            Some(Operand::Slot(b)) => x.load(W::Q, RSI, slot(b)),
            Some(Operand::Imm(v)) => x.mov_imm(RSI, v),
            None => {}
        }
        let which = op as u64
            | if ty == Ty::I32 { runtime::ARITH_I32 } else { 0 }
            | if src.is_none() { runtime::ARITH_UNARY } else { 0 };
        x.mov_imm(RDX, which);
        self.call(runtime::arith as *const () as u64);
        self.rax_to(d);
    }

    fn insn(&mut self, i: &Insn) -> Result<(), CompileError> {
        self.entry_rax = self.rax_slot.take();
        if let Some((op, ty, form)) = arith(i.op) {
            debug_assert!(Opcode::ALL[op as usize] == op);
            match form {
                Operands::Slots => self.arith(i.d, op, ty, i.a, Operand::Slot(i.b)),
                Operands::SlotImm => self.arith(i.d, op, ty, i.a, Operand::Imm(i.imm)),
                Operands::Unary => self.unary(i.d, op, ty, i.a),
            }
            return Ok(());
        }
        if let Some((size, signed)) = le_access(i.op) {
            if matches!(i.op, Op::St8 | Op::St16Le | Op::St32Le | Op::St64Le) {
                self.le_store(i, size);
            } else {
                self.le_load(i, size, signed);
            }
            return Ok(());
        }
        match i.op {
            Op::Mov => {
                self.rax_from(W::Q, i.a);
                self.rax_to(i.d);
            }
            Op::MovI => match i32::try_from(i.imm as i64) {
                Ok(k) => self.a().store_imm32(W::Q, slot_mem(i.d), k),
                Err(_) => {
                    self.a().mov_imm(RAX, i.imm);
                    self.rax_to(i.d);
                }
            },
            Op::Sext64 | Op::Sext32 => {
                let sh = 64 - i.imm.clamp(1, 64) as u8;
                self.rax_from(W::Q, i.a);
                if sh != 0 {
                    self.a().shift_imm(W::Q, Shift::Shl, RAX, sh);
                    self.a().shift_imm(W::Q, Shift::Sar, RAX, sh);
                }
                if i.op == Op::Sext32 {
                    // (ir::sem::sext of an i32: the low 32 bits)
                    self.a().load(W::D, RAX, Rm::Reg(RAX));
                }
                self.rax_to(i.d);
            }
            Op::Zext => {
                let bits = i.imm.clamp(1, 64);
                self.rax_from(W::Q, i.a);
                match bits {
                    64 => {}
                    32 => self.a().load(W::D, RAX, Rm::Reg(RAX)),
                    1..=31 => self.a().alu_imm(W::Q, Alu::And, Rm::Reg(RAX), ((1u64 << bits) - 1) as i32),
                    _ => {
                        self.a().mov_imm(RCX, (1u64 << bits) - 1);
                        self.a().alu(W::Q, Alu::And, RAX, Rm::Reg(RCX));
                    }
                }
                self.rax_to(i.d);
            }
            Op::ExtendS => {
                self.a().load_ext(RAX, slot(i.a), 4, true);
                self.rax_to(i.d);
            }
            Op::Low32 => {
                self.a().load(W::D, RAX, slot(i.a));
                self.rax_to(i.d);
            }
            Op::Setcond64 | Op::Setcond32 => {
                let w = if i.op == Op::Setcond64 { W::Q } else { W::D };
                self.rax_from(w, i.a);
                self.a().alu(w, Alu::Cmp, RAX, slot(i.b));
                self.a().setcc_zx(cc(bytecode::cond(i.imm)), RAX);
                self.rax_to(i.d);
            }
            Op::Select => {
                self.a().load(W::Q, RAX, slot(i.imm as u16));
                self.a().load(W::Q, RCX, slot(i.a));
                self.a().test(W::Q, RCX, RCX);
                self.a().cmov(W::Q, Cc::Ne, RAX, slot(i.b));
                self.rax_to(i.d);
            }
            Op::Ld => {
                let bits = (i.b & 0xff) as u64 | if i.b & 0x100 != 0 { runtime::LOAD_I32 } else { 0 };
                self.access_call(i, None, bits);
                self.rax_to(i.d);
            }
            Op::St => self.access_call(i, Some(i.b), (i.d & 0xff) as u64),
            Op::AtomicRmw | Op::Cmpxchg => {
                let site = self.atomics.get(i.imm as usize).ok_or_else(|| bad(i))?;
                let insn = site.insn;
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                self.a().mov_imm(RSI, site as *const AtomicSite as u64);
                self.a().mov_imm(RDX, (i.op == Op::Cmpxchg) as u64);
                self.call(runtime::atomic as *const () as u64);
                self.check_exception(insn);
                self.rax_to(i.d);
            }
            Op::Fence => self.a().mfence(),
            Op::Fp => {
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                self.a().mov_imm(RSI, (i.imm >> 16) & 0x1ff);
                self.a().load(W::Q, RDX, slot(i.a));
                self.a().load(W::Q, RCX, slot(i.b));
                self.a().load(W::Q, x86::R8, slot((i.imm & 0xffff) as u16));
                self.call(ir::fpu::fp_op_runtime as *const () as u64);
                self.rax_to(i.d);
            }
            Op::Fpflags => {
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                self.call(ir::fpu::fpflags_runtime as *const () as u64);
                self.rax_to(i.d);
            }
            Op::Call => {
                let c = *self.calls.get(i.imm as usize).ok_or_else(|| bad(i))?;
                const ARGS: [Reg; 4] = [RSI, RDX, RCX, x86::R8];
                for (k, r) in ARGS.iter().enumerate() {
                    if k < c.nargs as usize {
                        self.a().load(W::Q, *r, slot(c.args[k]));
                    } else {
                        self.a().mov_imm(*r, 0);
                    }
                }
                self.a().load(W::Q, RDI, Rm::Reg(R15));
                self.call(c.func as *const () as u64);
                if c.can_fault {
                    self.check_exception(c.insn);
                }
                self.rax_to(i.d);
            }
            Op::ExitIfChain => {
                let skip = self.a().new_label();
                self.a().alu_imm(W::Q, Alu::Cmp, slot(i.a), 0);
                self.a().jcc(Cc::E, skip);
                self.chain(i.b as u8);
                self.a().bind(skip);
            }
            Op::ExitIfRaise => {
                let l = self.cold(Cold::Raise { cause: i.imm as u32, aux: None, insn: (i.imm >> 32) as u32 });
                self.a().alu_imm(W::Q, Alu::Cmp, slot(i.a), 0);
                self.a().jcc(Cc::Ne, l);
            }
            Op::BrCond64 | Op::BrCond32 => {
                let w = if i.op == Op::BrCond64 { W::Q } else { W::D };
                let l = self.cold(Cold::Chain((i.d >> 8) as u8));
                self.rax_from(w, i.a);
                self.a().alu(w, Alu::Cmp, RAX, slot(i.b));
                self.a().jcc(cc(bytecode::cond((i.d & 0xff) as u64)), l);
            }
            Op::GotoTb => self.chain(i.b as u8),
            Op::GotoPtr => self.goto_ptr(i.a),
            Op::ExitTb => {
                self.rax_from(W::Q, i.a);
                if let Some(p) = self.pc_slot {
                    self.a().store(W::Q, slot(p), RAX);
                }
                self.ret_code(exits::EXIT_LOOKUP);
            }
            Op::Raise => {
                let l = self.cold(Cold::Raise { cause: i.imm as u32, aux: Some(i.a), insn: (i.imm >> 32) as u32 });
                self.a().jmp(l);
            }
            _ => return Err(bad(i)),
        }
        Ok(())
    }

    /// pc = slot a; continue in the block the lookup table has for it (`exits.rs`), or
    /// leave for the dispatcher.
    fn goto_ptr(&mut self, a: u16) {
        let miss = self.cold(Cold::Lookup);
        let flags = self.flags;
        let lookup = self.lookup;
        let pc_slot = self.pc_slot;
        let x = self.a();
        x.load(W::Q, RAX, slot(a));
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
        x.load(W::Q, RSI, Rm::Mem(mem_index(RDX, RCX)));
        x.test(W::Q, RSI, RSI);
        x.jcc(Cc::E, miss);
        x.alu(W::Q, Alu::Cmp, RAX, Rm::Mem(mem(RSI, DESC_PC)));
        x.jcc(Cc::Ne, miss);
        x.mov_imm(RCX, flags);
        x.alu(W::Q, Alu::Cmp, RCX, Rm::Mem(mem(RSI, DESC_FLAGS)));
        x.jcc(Cc::Ne, miss);
        x.load(W::Q, RDI, Rm::Reg(R15));
        x.jmp_mem(mem(RSI, DESC_ENTRY));
    }

    /// Sets the exception pc (and replay flag) of instruction `insn` and leaves.
    fn leave_with_exception(&mut self, insn: u32) {
        let pc = self.s.insn_pcs.get((insn & !REPLAY_FROM) as usize).copied().unwrap_or(0);
        self.a().mov_imm(RAX, pc);
        self.a().store(W::Q, Rm::Mem(env_field(EnvHeader::OFF_EXCEPTION_PC)), RAX);
        self.a().store_imm32(W::D, env_field(EnvHeader::OFF_EXCEPTION_REPLAY), (insn & REPLAY_FROM != 0) as i32);
        self.ret_code(exits::EXIT_EXCEPTION);
    }

    fn emit_cold(&mut self) {
        let cold = std::mem::take(&mut self.s.cold);
        for &(l, c) in &cold {
            self.a().bind(l);
            match c {
                Cold::Exception(insn) => self.leave_with_exception(insn),
                Cold::Raise { cause, aux, insn } => {
                    self.a().store_imm32(W::D, env_field(EnvHeader::OFF_EXCEPTION), cause as i32);
                    match aux {
                        Some(s) => self.a().load(W::Q, RAX, slot(s)),
                        None => self.a().mov_imm(RAX, 0),
                    }
                    self.a().store(W::Q, Rm::Mem(env_field(EnvHeader::OFF_EXCEPTION_AUX)), RAX);
                    self.leave_with_exception(insn);
                }
                Cold::Chain(k) => self.chain(k),
                Cold::Trap(insn) => self.tagged(insn, |a| a.ud2()),
                Cold::Lookup => self.ret_code(exits::EXIT_LOOKUP),
                Cold::Interrupted => {
                    self.store_pc_imm(self.block_pc);
                    self.ret_code(exits::EXIT_INTERRUPTED);
                }
                Cold::Hot => {
                    let hot_at = self.hot_at as i32;
                    self.a().store_imm32(W::D, mem(RAX, DESC_HOT_COUNTDOWN), hot_at);
                    self.store_pc_imm(self.block_pc);
                    self.ret_code(exits::EXIT_HOT);
                }
            }
        }
        self.s.cold = cold;
        self.s.cold.clear();
    }
}

/// The second operand of an arithmetic op.
#[derive(Clone, Copy)]
enum Operand {
    Slot(u16),
    Imm(u64),
}

fn bad(i: &Insn) -> CompileError {
    CompileError::Codegen(format!("baseline tier: malformed bytecode {i:?}"))
}

impl Backend for BaselineBackend {
    fn name(&self) -> &'static str {
        "baseline"
    }

    fn compile(&self, block: &Block, cx: &CompileCtx<'_>) -> Result<Arc<dyn CompiledBlock>, CompileError> {
        let MemMode::Linear { .. } = cx.mem;
        let shared = &self.jit.shared;
        let (dp, generation) = shared.new_desc(block, self.hot_at);
        let pc_slot = cx.decls.pc_offset().map(|o| (o / 8) as u16);
        let (entry, size, keep) = backend_interp::with_bytecode(block, cx, |bc| {
            SCRATCH.with(|s| {
                let mut s = s.borrow_mut();
                let s = &mut *s;
                s.asm.reset();
                s.sites.clear();
                s.cold.clear();
                s.insn_pcs.clear();
                s.insn_pcs.extend(block.insn_pcs());
                if !bc.insns.last().is_some_and(|i| is_final(i.op)) {
                    return Err(CompileError::Codegen("baseline tier: bytecode does not end in an exit".into()));
                }
                let uses_memory = shared.host_mmu && bc.insns.iter().any(|i| le_access(i.op).is_some());
                let atomics: Box<[AtomicSite]> = bc.atomics.into();
                let mut e = Emitter {
                    s,
                    calls: bc.calls,
                    atomics: &atomics,
                    block_pc: block.pc,
                    flags: block.flags,
                    pc_slot,
                    desc: dp as u64,
                    lookup: shared.lookup.as_ptr() as u64,
                    hot_at: self.hot_at,
                    host_mmu: shared.host_mmu,
                    rax_slot: None,
                    entry_rax: None,
                };
                e.prologue(uses_memory);
                for i in bc.insns {
                    e.insn(i)?;
                }
                e.emit_cold();
                if !s.asm.finish() {
                    return Err(CompileError::Codegen("baseline tier: unbound label".into()));
                }
                s.sites.sort_unstable_by_key(|r| r.0);
                let entry = shared.place(&s.asm.buf, block.pc, s.sites[..].into())?;
                // the code embeds the addresses of the atomic sites
                let keep = (!atomics.is_empty()).then(|| Box::new(atomics) as Box<dyn std::any::Any + Send + Sync>);
                Ok((entry, s.asm.buf.len(), keep))
            })
        })??;
        shared.finish(dp, generation, entry, size, block.pc, cx.decls.pc_offset(), keep)
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
