//! What the JIT's test binaries share (Cranelift and baseline tiers): compiling a block for a test environment and running
//! it once the way accel-tcg's dispatcher would.

use std::sync::Arc;

use backend_jit::JitOptions;
use ir::backend::{Backend, CompileCtx, CompiledBlock, TbExit, EXC_EMULATE};
use ir::testing::TestEnv;

/// The default options with a code cache of `cache_size` bytes.
pub fn options(cache_size: usize) -> JitOptions {
    JitOptions { cache_size, ..JitOptions::default() }
}

/// Compiles `block` for `env`, flushing the code cache first if it is full; not published.
pub fn compile_unpublished(jit: &dyn Backend, block: &ir::Block, env: &TestEnv) -> Arc<dyn CompiledBlock> {
    let decls = TestEnv::decls();
    let layout = TestEnv::layout();
    let cx = CompileCtx { decls: &decls, env: &layout, mem: env.mem_mode() };
    match jit.compile(block, &cx) {
        Ok(c) => c,
        Err(ir::backend::CompileError::CacheFull) => {
            jit.flush();
            jit.compile(block, &cx).expect("compiles after a flush")
        }
        Err(e) => panic!("compile failed: {e}\n{}", ir::text::print(block, &decls)),
    }
}

/// Compiles and publishes (as accel-tcg does when it installs a TB).
pub fn compile(jit: &dyn Backend, block: &ir::Block, env: &TestEnv) -> Arc<dyn CompiledBlock> {
    let code = compile_unpublished(jit, block, env);
    jit.publish(code.as_ref());
    code
}

/// Compiles, runs once, and invalidates (as accel-tcg does when a TB is replaced), so that
/// the lookup table never sends a later block's goto_ptr into this one. An instruction the
/// code leaves to the reference evaluator (`EXC_EMULATE`) is handled as the dispatcher does
/// (`ir::testing::finish_on_evaluator`, which also checks the state at that point).
pub fn run_once(jit: &dyn Backend, block: &ir::Block, env: &mut TestEnv) -> TbExit {
    let code = compile(jit, block, env);
    // every flag accrued so far goes with the state the block starts from
    env.header_mut().fp_flags |= ir::fpu::take_host_flags();
    let mut before = env.duplicate();
    // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread.
    let mut exit = unsafe { code.run(env.ptr()) };
    jit.invalidate(code.as_ref());
    if exit == TbExit::Exception && env.header().exception == EXC_EMULATE {
        exit = ir::testing::finish_on_evaluator(block, &mut before, env);
    }
    // the evaluator reports chaining exits as coming from the block it ran
    match exit {
        TbExit::Chain { slot, .. } => TbExit::Chain { slot, from: 0 },
        e => e,
    }
}

/// A block from its text form.
#[allow(dead_code)] // (the permission-table binary parses none)
pub fn parse_ir(src: &str) -> ir::Block {
    ir::text::parse(src, &TestEnv::decls()).unwrap_or_else(|e| panic!("test IR does not parse: {e}\n{src}"))
}

/// `ir::testing::differential` on `run`, seeded by REMU_SEED (else `seed`), REMU_CASES cases
/// (else `cases`), printing the seed.
pub fn random_blocks(seed: u64, cases: usize, run: &mut ir::testing::Runner<'_>) {
    let seed = std::env::var("REMU_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(seed);
    let cases = std::env::var("REMU_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(cases);
    println!("seed {seed} ({cases} cases; REMU_SEED/REMU_CASES to change)");
    ir::testing::differential(seed, cases, run);
}
