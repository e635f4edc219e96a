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

#[test]
fn goto_ptr_continues_through_the_jump_cache_while_the_entry_is_valid() {
    use ir::backend::{jump_cache_index, JumpCacheEntry, JUMP_CACHE_SIZE};
    use std::sync::atomic::{AtomicBool, Ordering};
    // at 0x7000: r5 += 1; goto_ptr r6   (r6 = 0x7100)      at 0x7100: r7 = r5 * 2; goto_tb 1
    // and the same goto_ptr as an exit_tb, which always goes back to the dispatcher
    let decls = TestEnv::decls();
    let parse = |s: &str| ir::text::parse(s, &decls).expect("parses");
    let a = parse("block pc=0x7000\ninsn_start 0x7000, 0\nv0 = get.i64 r5\nv1 = iconst.i64 0x1\nv2 = add.i64 v0, v1\nset.i64 r5, v2\nv4 = get.i64 r6\ngoto_ptr v4\n");
    let a_exit = parse("block pc=0x7000\ninsn_start 0x7000, 0\nv0 = get.i64 r5\nv1 = iconst.i64 0x1\nv2 = add.i64 v0, v1\nset.i64 r5, v2\nv4 = get.i64 r6\nexit_tb v4\n");
    let b = parse("block pc=0x7100\ninsn_start 0x7100, 0\nv0 = get.i64 r5\nv1 = add.i64 v0, v0\nset.i64 r7, v1\ngoto_tb 1, 0x7200\n");
    let backend = InterpBackend::new();
    let mut env = TestEnv::new();
    let layout = TestEnv::layout();
    let cx = CompileCtx { decls: &decls, env: &layout, mem: env.mem_mode() };
    let [ca, ca_exit, cb] = [&a, &a_exit, &b].map(|blk| backend.compile(blk, &cx).expect("compiles"));
    let valid = AtomicBool::new(true);
    let mut cache = vec![JumpCacheEntry::EMPTY; JUMP_CACHE_SIZE];
    env.state().r[6] = 0x7100;
    let run = |code: &Arc<dyn ir::backend::CompiledBlock>, env: &mut TestEnv| {
        // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread;
        // the cache has JUMP_CACHE_SIZE entries and outlives the runs, and B and `valid`
        // outlive the entry naming them.
        unsafe { code.run(env.ptr()) }
    };
    env.header_mut().jump_cache = cache.as_ptr();
    assert_eq!(run(&ca, &mut env), TbExit::Lookup, "an empty cache: back to the dispatcher");
    assert_eq!((env.state().r[5], env.state().pc), (1, 0x7100));
    cache[jump_cache_index(0x7100)] =
        JumpCacheEntry { pc: 0x7100, flags: 0, target: backend.jump_target(cb.as_ref()), valid: &valid };
    env.header_mut().jump_cache = cache.as_ptr();
    assert_eq!(run(&ca, &mut env), TbExit::Chain { slot: 1, from: Arc::as_ptr(&cb) as *const () as u64 });
    assert_eq!((env.state().r[5], env.state().r[7], env.state().pc), (2, 4, 0x7200), "A's goto_ptr found B");
    assert_eq!(backend.exit_origin(Arc::as_ptr(&cb) as *const () as u64), Some((0x7100, 0)));
    assert_eq!(run(&ca_exit, &mut env), TbExit::Lookup, "exit_tb never uses the cache");
    assert_eq!((env.state().r[5], env.state().r[7], env.state().pc), (3, 4, 0x7100));
    env.state().r[6] = 0x7300;
    assert_eq!(run(&ca, &mut env), TbExit::Lookup, "a pc the cache does not have");
    assert_eq!(env.state().pc, 0x7300);
    // an invalidated block is never entered
    valid.store(false, Ordering::Release);
    env.state().r[6] = 0x7100;
    assert_eq!(run(&ca, &mut env), TbExit::Lookup);
    assert_eq!((env.state().r[5], env.state().r[7], env.state().pc), (5, 4, 0x7100));
    env.header_mut().jump_cache = std::ptr::null();
}
