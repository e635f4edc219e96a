//! The interpreter against the reference evaluator: the MemOp endianness matrix, and random
//! blocks compared bit for bit (registers, memory, exits, exceptions).

use std::sync::Arc;

use backend_interp::InterpBackend;
use ir::backend::{Backend, CompileCtx, TbExit};
use ir::testing::TestEnv;

fn run_interp(block: &ir::Block, env: &mut TestEnv) -> TbExit {
    let decls = TestEnv::decls();
    let layout = TestEnv::layout();
    let cx = CompileCtx { decls: &decls, env: &layout, mem: env.mem_mode() };
    let code: Arc<dyn ir::backend::CompiledBlock> = InterpBackend::new().compile(block, &cx).expect("compiles");
    // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread.
    unsafe { code.run(env.ptr()) }
}

#[test]
fn memop_matrix_on_interpreter() {
    ir::testing::memop_matrix(&mut run_interp);
}

#[test]
fn random_blocks_match_the_evaluator() {
    let seed = std::env::var("REMU_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x1234_5678);
    let cases = std::env::var("REMU_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    println!("seed {seed} ({cases} cases; REMU_SEED/REMU_CASES to change)");
    ir::testing::differential(seed, cases, &mut run_interp);
}

#[test]
fn exit_request_stops_before_anything_runs() {
    let decls = TestEnv::decls();
    let block =
        ir::text::parse("insn_start 0x1000, 0\nv0 = iconst.i64 0x5\nset.i64 r1, v0\ngoto_tb 0, 0x2000\n", &decls)
            .expect("parses");
    let mut env = TestEnv::new();
    env.header_mut().exit_request.store(1, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(run_interp(&block, &mut env), TbExit::Interrupted);
    assert_eq!(env.state().r[1], 0);
}
