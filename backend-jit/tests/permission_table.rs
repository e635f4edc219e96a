//! The JIT without the host MMU: when a code cache cannot register with the fault handler
//! (its table of code ranges is full), compiled accesses test the guest's permission table
//! and take an out-of-line runtime call off the fast path (the baseline tier calls the
//! runtime for every access). That path must behave exactly as
//! the evaluator, like the host-MMU one (`jit.rs`). Its own test binary: it fills the
//! process's table of code ranges.

mod common;

use backend_jit::JitBackend;
use ir::testing::TestEnv;

/// A backend whose code cache found the fault handler's table full (filled with small ones
/// first, which stay alive).
fn backend_without_host_mmu() -> JitBackend {
    let mut fillers = Vec::new();
    while fillers.last().is_none_or(|b: &JitBackend| b.uses_host_mmu()) {
        fillers.push(JitBackend::new(common::options(64 << 10)).expect("JIT on this host"));
        assert!(fillers.len() <= 1024, "the fault handler's table of code ranges never fills");
    }
    // (the fillers' ranges stay registered whatever becomes of them; keep their memory too)
    std::mem::forget(fillers);
    let b = JitBackend::new(common::options(64 << 20)).expect("JIT on this host");
    assert!(!b.uses_host_mmu());
    b
}

#[test]
fn permission_table_accesses_match_the_evaluator() {
    let jit = backend_without_host_mmu();
    let mut run = |block: &ir::Block, env: &mut TestEnv| common::run_once(&jit, block, env);
    ir::testing::memop_matrix(&mut run);
    common::random_blocks(0x7ab1e, 1000, &mut run);
    // the baseline tier in the same code cache
    let baseline = jit.baseline(0);
    let mut run = |block: &ir::Block, env: &mut TestEnv| common::run_once(&baseline, block, env);
    ir::testing::memop_matrix(&mut run);
    common::random_blocks(0xba5e, 1000, &mut run);
}
