//! The reference evaluator: runs an IR block directly, one instruction at a time.
//!
//! It is the executable definition of the IR: slow and simple, used for golden tests and as the
//! third opinion when the interpreter and the JIT are compared. Pure ops come from `crate::sem`
//! and memory from `crate::linear`, the same code the bytecode interpreter uses.

use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use crate::backend::{EnvHeader, TbExit};
use crate::block::{Aux, Block, Decls, ExitKind};
use crate::linear;
use crate::op::Opcode;
use crate::sem;

/// Runs `block` on the environment at `env`.
///
/// # Safety
/// `env` points to a live environment laid out as `decls` describes (an [`EnvHeader`] first,
/// every global's 8 bytes in bounds), exclusively owned by the caller during the call, and its
/// header describes guest memory that stays mapped.
pub unsafe fn eval(block: &Block, decls: &Decls, env: NonNull<u8>) -> TbExit {
    let base = env.as_ptr();
    // SAFETY: per the contract, the environment starts with a live EnvHeader.
    let header = unsafe { &*(base as *const EnvHeader) };
    if header.exit_request.load(Ordering::Acquire) != 0 {
        return TbExit::Interrupted;
    }
    let global_ptr = |off: u32| -> *mut u64 {
        // SAFETY: offsets come from the frontend's declarations, in bounds and 8-aligned.
        unsafe { base.add(off as usize) as *mut u64 }
    };
    let pc_ptr = decls.pc_offset().map(global_ptr);
    let raise = |cause: u32, aux: u64, insn_pc: u64| -> TbExit {
        let h = base as *mut EnvHeader;
        // SAFETY: the header is live and owned by this thread for the call.
        unsafe {
            (*h).exception = cause;
            (*h).exception_aux = aux;
            (*h).exception_pc = insn_pc;
        }
        TbExit::Exception
    };
    let mut vals = vec![0u64; block.insts.len()];
    let mut insn_pc: u64 = block.pc;
    for (i, inst) in block.insts.iter().enumerate() {
        let arg = |k: usize| vals[inst.args[k].index()];
        let cur = insn_pc;
        let args: Vec<u64> = inst.args().iter().map(|a| vals[a.index()]).collect();
        let cond = if let Aux::Cond(c) = inst.aux { Some(c) } else { None };
        if let Some(v) = sem::eval_pure(inst.op, inst.ty, &args, inst.imm, cond) {
            vals[i] = v;
            continue;
        }
        match inst.op {
            Opcode::Nop => {}
            Opcode::InsnStart => insn_pc = inst.imm,
            Opcode::Get => {
                let Aux::Global(g) = inst.aux else { unreachable!("verified: get has a global") };
                // SAFETY: see global_ptr.
                vals[i] = unsafe { *global_ptr(decls.globals[g.0 as usize].offset) } & inst.ty.mask();
            }
            Opcode::Set => {
                let Aux::Global(g) = inst.aux else { unreachable!("verified: set has a global") };
                // SAFETY: see global_ptr.
                unsafe { *global_ptr(decls.globals[g.0 as usize].offset) = arg(0) & inst.ty.mask() };
            }
            Opcode::Ld => {
                let Aux::Mem(m) = inst.aux else { unreachable!("verified: ld has a memop") };
                match linear::load(header, arg(0), m, inst.ty) {
                    Ok(v) => vals[i] = v,
                    Err(f) if inst.imm != 0 => {
                        // registers as of the restart pc (`opt::defer`)
                        let r = raise(f.cause, f.addr, inst.imm);
                        // SAFETY: the header is live and owned by this thread for the call.
                        unsafe { (*(base as *mut EnvHeader)).exception_replay = 1 };
                        return r;
                    }
                    Err(f) => return raise(f.cause, f.addr, cur),
                }
            }
            Opcode::St => {
                let Aux::Mem(m) = inst.aux else { unreachable!("verified: st has a memop") };
                if let Err(f) = linear::store(header, arg(0), m, arg(1)) {
                    return raise(f.cause, f.addr, cur);
                }
            }
            Opcode::AtomicRmw => {
                let Aux::Atomic(op, m) = inst.aux else { unreachable!("verified: atomic_rmw has an atomic op") };
                match linear::atomic_rmw(header, arg(0), op, m, inst.ty, arg(1)) {
                    Ok(v) => vals[i] = v,
                    Err(f) => return raise(f.cause, f.addr, cur),
                }
            }
            Opcode::Cmpxchg => {
                let Aux::Mem(m) = inst.aux else { unreachable!("verified: cmpxchg has a memop") };
                match linear::cmpxchg(header, arg(0), m, inst.ty, arg(1), arg(2)) {
                    Ok(v) => vals[i] = v,
                    Err(f) => return raise(f.cause, f.addr, cur),
                }
            }
            Opcode::Fence => std::sync::atomic::fence(Ordering::SeqCst),
            Opcode::Fadd | Opcode::Fsub | Opcode::Fmul | Opcode::Fdiv | Opcode::Fsqrt | Opcode::Fma => {
                let a = |k: usize| if k < args.len() { args[k] } else { 0 };
                vals[i] = crate::fpu::eval(inst.op, inst.ty, a(0), a(1), a(2));
            }
            // SAFETY: the environment starts with a live header owned by this thread.
            Opcode::Fpflags => vals[i] = unsafe { crate::fpu::fpflags_runtime(base, 0, 0, 0, 0) },
            Opcode::Call => {
                let Aux::Helper(h, flags) = inst.aux else { unreachable!("verified: call has a helper") };
                let f = decls.helpers[h.0 as usize].func;
                let a = |k: usize| if k < args.len() { args[k] } else { 0 };
                // SAFETY: helpers are declared by the frontend for this environment layout.
                vals[i] = unsafe { f(base, a(0), a(1), a(2), a(3)) };
                if flags.has(crate::block::HelperFlags::CAN_FAULT) && header.exception != 0 {
                    // SAFETY: the header is live and owned by this thread for the call.
                    unsafe { (*(base as *mut EnvHeader)).exception_pc = cur };
                    return TbExit::Exception;
                }
            }
            Opcode::ExitIf => {
                if arg(0) & inst.ty.mask() != 0 {
                    match inst.aux {
                        Aux::Exit(ExitKind::Chain { slot }) => {
                            if let Some(p) = pc_ptr {
                                // SAFETY: see global_ptr.
                                unsafe { *p = inst.imm };
                            }
                            return TbExit::Chain { slot, from: 0 };
                        }
                        Aux::Exit(ExitKind::Raise { cause }) => return raise(cause, 0, cur),
                        _ => unreachable!("verified: exit_if has an exit"),
                    }
                }
            }
            Opcode::GotoTb => {
                let Aux::Slot(slot) = inst.aux else { unreachable!("verified: goto_tb has a slot") };
                if let Some(p) = pc_ptr {
                    // SAFETY: see global_ptr.
                    unsafe { *p = inst.imm };
                }
                return TbExit::Chain { slot, from: 0 };
            }
            Opcode::GotoPtr | Opcode::ExitTb => {
                if let Some(p) = pc_ptr {
                    // SAFETY: see global_ptr.
                    unsafe { *p = arg(0) };
                }
                return TbExit::Lookup;
            }
            Opcode::Raise => return raise(inst.imm as u32, arg(0), cur),
            _ => unreachable!("every pure op is handled by sem::eval_pure"),
        }
    }
    unreachable!("verified blocks end with a terminator")
}

/// The evaluator as a [`crate::backend::Backend`]: "compiling" keeps the optimized block, and
/// running evaluates it. Slow; used as a third opinion in differential tests.
#[derive(Debug)]
pub struct EvalBackend {
    decls: std::sync::Arc<Decls>,
}

impl EvalBackend {
    /// A backend for blocks using `decls`.
    pub fn new(decls: std::sync::Arc<Decls>) -> Self {
        EvalBackend { decls }
    }
}

struct EvalBlock {
    block: Block,
    decls: std::sync::Arc<Decls>,
}

impl crate::backend::CompiledBlock for EvalBlock {
    unsafe fn run(&self, env: NonNull<u8>) -> TbExit {
        // SAFETY: forwarded from the caller's contract (same as `eval`'s).
        unsafe { eval(&self.block, &self.decls, env) }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl crate::backend::Backend for EvalBackend {
    fn name(&self) -> &'static str {
        "eval"
    }
    fn compile(
        &self,
        block: &Block,
        _cx: &crate::backend::CompileCtx<'_>,
    ) -> Result<std::sync::Arc<dyn crate::backend::CompiledBlock>, crate::backend::CompileError> {
        Ok(std::sync::Arc::new(EvalBlock { block: block.clone(), decls: self.decls.clone() }))
    }
}
