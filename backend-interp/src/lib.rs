//! The bytecode interpreter backend (QEMU's TCI): IR blocks are compiled to a compact bytecode
//! (`bytecode.rs`, `compile.rs`) and run by a match loop (`exec.rs`). It is the portable
//! fallback and the reference the JIT is checked against.
//!
//! Chaining: a linked exit slot holds a pointer to the next block's code, and the interpreter
//! loop continues there without returning to the dispatcher (checking the exit request at
//! every block entry). Liveness: `link` also stores a strong reference to the target in the
//! source block, so every block reachable by links from the block the dispatcher entered
//! stays alive while the chain runs, even if it is invalidated (and dropped from the cache)
//! meanwhile, by another thread or by a store of the running block itself. The cost: blocks
//! that are invalidated while linked in a cycle are never freed (a few hundred bytes each; only
//! self-modifying guests and unmapped code produce them).
//!
//! Indirect jumps (`goto_ptr`) continue in the block the vCPU's jump cache has for the target
//! pc (`EnvHeader::jump_cache`, kept by accel-tcg: [`Backend::jump_target`] gives it the
//! block's address) when that block is still valid, counted as a chained entry; otherwise they
//! return to the dispatcher, as `exit_tb` always does. Such a block stays alive while the
//! entry names it, and the entry changes only between runs.

pub mod bytecode;
mod compile;
mod disas;
mod exec;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex};

use ir::backend::{Backend, CompileCtx, CompileError, CompiledBlock, TbExit};
use ir::Block;

use bytecode::{AtomicSite, CallSite, Insn};

/// A compiled block: bytecode plus its helper-call and atomic tables.
pub struct InterpCode {
    pub(crate) insns: Box<[Insn]>,
    pub(crate) calls: Box<[CallSite]>,
    pub(crate) atomics: Box<[AtomicSite]>,
    pub(crate) pc_slot: u16,
    /// Guest pc of each instruction (by index), for exceptions.
    pub(crate) insn_pcs: Box<[u64]>,
    /// Guest pc and translation flags of the block (for `exit_origin`).
    pub(crate) pc: u64,
    pub(crate) flags: u64,
    /// Chained successors by exit slot (null: return to the dispatcher).
    pub(crate) links: [AtomicPtr<InterpCode>; ir::backend::MAX_CHAIN_SLOTS as usize],
    /// Strong references to every block ever linked from here (see the module doc).
    pub(crate) keep: Mutex<Vec<Arc<dyn CompiledBlock>>>,
}

impl std::fmt::Debug for InterpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterpCode").field("pc", &self.pc).field("insns", &self.insns.len()).finish_non_exhaustive()
    }
}

impl InterpCode {
    /// The bytecode.
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }
}

impl CompiledBlock for InterpCode {
    fn exit_id(&self) -> u64 {
        self as *const InterpCode as u64
    }

    unsafe fn run(&self, env: NonNull<u8>) -> TbExit {
        // SAFETY: forwarded from the caller's contract, which is exec's.
        unsafe { exec::exec(self, env) }
    }
    fn describe(&self) -> Option<String> {
        Some(disas::disas(self))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The interpreter backend.
#[derive(Debug, Default)]
pub struct InterpBackend;

impl InterpBackend {
    /// A new interpreter backend.
    pub fn new() -> Self {
        InterpBackend
    }
}

fn as_interp(c: &dyn CompiledBlock) -> Option<&InterpCode> {
    c.as_any().downcast_ref::<InterpCode>()
}

impl Backend for InterpBackend {
    fn name(&self) -> &'static str {
        "interp"
    }
    fn compile(&self, block: &Block, cx: &CompileCtx<'_>) -> Result<Arc<dyn CompiledBlock>, CompileError> {
        Ok(Arc::new(compile::compile(block, cx)?))
    }

    fn chains_natively(&self) -> bool {
        true
    }

    fn link(&self, from: &dyn CompiledBlock, slot: u8, to: &Arc<dyn CompiledBlock>) -> bool {
        let (Some(f), Some(t)) = (as_interp(from), as_interp(to.as_ref())) else { return false };
        let Some(link) = f.links.get(slot as usize) else { return false };
        // the reference first, then the pointer that needs it
        f.keep.lock().unwrap_or_else(|e| e.into_inner()).push(to.clone());
        link.store(t as *const InterpCode as *mut InterpCode, Ordering::Release);
        true
    }

    fn unlink(&self, from: &dyn CompiledBlock, slot: u8) {
        if let Some(link) = as_interp(from).and_then(|f| f.links.get(slot as usize)) {
            link.store(std::ptr::null_mut(), Ordering::Release);
        }
    }

    fn jump_target(&self, code: &dyn CompiledBlock) -> u64 {
        as_interp(code).map_or(0, |c| c as *const InterpCode as u64)
    }

    fn exit_origin(&self, from: u64) -> Option<(u64, u64)> {
        if from == 0 {
            return None;
        }
        // SAFETY: `from` is what `exec` returned during the caller's current run: the address
        // of a block reached by links from the block the caller entered, which it still holds,
        // or through the vCPU's jump cache; such blocks are kept alive by the links' strong
        // references and by the cache's owner until its next change (see the module doc).
        let c = unsafe { &*(from as *const InterpCode) };
        Some((c.pc, c.flags))
    }
}
