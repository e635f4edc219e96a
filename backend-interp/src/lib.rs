//! The bytecode interpreter backend (QEMU's TCI): IR blocks are compiled to a compact bytecode
//! (`bytecode.rs`, `compile.rs`) and run by a match loop (`exec.rs`). It is the portable
//! fallback and the reference the JIT is checked against.

pub mod bytecode;
mod compile;
mod disas;
mod exec;

use std::ptr::NonNull;
use std::sync::Arc;

use ir::backend::{Backend, CompileCtx, CompileError, CompiledBlock, TbExit};
use ir::Block;

use bytecode::{AtomicSite, CallSite, Insn};

/// A compiled block: bytecode plus its helper-call and atomic tables.
#[derive(Debug)]
pub struct InterpCode {
    pub(crate) insns: Box<[Insn]>,
    pub(crate) calls: Box<[CallSite]>,
    pub(crate) atomics: Box<[AtomicSite]>,
    pub(crate) pc_slot: u16,
    /// Guest pc of each instruction (by index), for exceptions.
    pub(crate) insn_pcs: Box<[u64]>,
}

impl InterpCode {
    /// The bytecode.
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }
}

impl CompiledBlock for InterpCode {
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

impl Backend for InterpBackend {
    fn name(&self) -> &'static str {
        "interp"
    }
    fn compile(&self, block: &Block, cx: &CompileCtx<'_>) -> Result<Arc<dyn CompiledBlock>, CompileError> {
        Ok(Arc::new(compile::compile(block, cx)?))
    }
}
