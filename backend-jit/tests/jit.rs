//! The JIT against the reference evaluator: the MemOp endianness matrix (little- and
//! big-endian, aligned and crossing pages, faults), random blocks compared bit for bit, and
//! chaining through linked slots.

mod common;

use std::sync::Arc;

use backend_jit::JitBackend;
use ir::backend::{Backend, TbExit};
use ir::testing::TestEnv;

fn jit() -> &'static JitBackend {
    static J: std::sync::OnceLock<JitBackend> = std::sync::OnceLock::new();
    J.get_or_init(|| JitBackend::new(common::options(64 << 20)).expect("JIT on this host"))
}

fn compile(block: &ir::Block, env: &TestEnv) -> Arc<dyn ir::backend::CompiledBlock> {
    common::compile(jit(), block, env)
}

fn compile_unpublished(block: &ir::Block, env: &TestEnv) -> Arc<dyn ir::backend::CompiledBlock> {
    common::compile_unpublished(jit(), block, env)
}

fn run_jit(block: &ir::Block, env: &mut TestEnv) -> TbExit {
    common::run_once(jit(), block, env)
}

fn slot_of(e: TbExit) -> Option<u8> {
    match e {
        TbExit::Chain { slot, .. } => Some(slot),
        _ => None,
    }
}

#[test]
fn memop_matrix_on_jit() {
    ir::testing::memop_matrix(&mut run_jit);
}

#[test]
fn random_blocks_match_the_evaluator() {
    common::random_blocks(0x5eed_0001, 1500, &mut run_jit);
}

#[test]
fn linked_blocks_chain_and_stop_on_exit_request() {
    // block A: r1 += 1; goto_tb 0 -> B.  block B: r2 += r1; if r2 > 100 goto_tb 1 (exit) else goto_tb 0 -> A
    let a = common::parse_ir("block pc=0x9000\ninsn_start 0x9000, 0\nv0 = get.i64 r1\nv1 = iconst.i64 0x1\nv2 = add.i64 v0, v1\nset.i64 r1, v2\ngoto_tb 0, 0xa000\n");
    let b = common::parse_ir("block pc=0xa000\ninsn_start 0xa000, 0\nv0 = get.i64 r2\nv1 = get.i64 r1\nv2 = add.i64 v0, v1\nset.i64 r2, v2\nv4 = iconst.i64 0x64\nv5 = setcond.i64 gtu, v2, v4\nexit_if.i64 chain 1, 0xb000, v5\ngoto_tb 0, 0x9000\n");
    let mut env = TestEnv::new();
    let (ca, cb) = (compile(&a, &env), compile(&b, &env));
    jit().link(ca.as_ref(), 0, &cb);
    jit().link(cb.as_ref(), 0, &ca);
    // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread.
    let exit = unsafe { ca.run(env.ptr()) };
    // r1 = 1,2,..,n; r2 = n(n+1)/2 > 100 first at n = 14 (105)
    assert_eq!(slot_of(exit), Some(1), "left through B's side exit without returning in between");
    let TbExit::Chain { from, .. } = exit else { unreachable!("checked above") };
    assert_eq!(jit().exit_origin(from), Some((0xa000, 0)), "the exit is attributed to B, the block that took it");
    assert_eq!((env.state().r[1], env.state().r[2], env.state().pc), (14, 105, 0xb000));
    // an exit request stops the loop at the next block entry
    env.state().r[1] = 0;
    env.state().r[2] = 0;
    env.header_mut().exit_request.store(1, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: as above.
    assert_eq!(unsafe { ca.run(env.ptr()) }, TbExit::Interrupted);
    assert_eq!(env.state().r[1], 0);
    // unlinking returns to the dispatcher through the slot
    env.header_mut().exit_request.store(0, std::sync::atomic::Ordering::Relaxed);
    jit().unlink(ca.as_ref(), 0);
    // SAFETY: as above.
    let exit = unsafe { ca.run(env.ptr()) };
    assert_eq!(slot_of(exit), Some(0));
    let TbExit::Chain { from, .. } = exit else { unreachable!("checked above") };
    assert_eq!(jit().exit_origin(from), Some((0x9000, 0)), "now A itself leaves through its slot 0");
    assert_eq!((env.state().r[1], env.state().pc), (1, 0xa000));
    jit().invalidate(ca.as_ref());
    jit().invalidate(cb.as_ref());
}

#[test]
fn goto_ptr_continues_through_the_lookup_table_until_invalidated() {
    // at 0x7000: r5 += 1; goto_ptr r6   (r6 = 0x7100)      at 0x7100: r7 = r5 * 2; goto_tb 1
    let a = common::parse_ir("block pc=0x7000\ninsn_start 0x7000, 0\nv0 = get.i64 r5\nv1 = iconst.i64 0x1\nv2 = add.i64 v0, v1\nset.i64 r5, v2\nv4 = get.i64 r6\ngoto_ptr v4\n");
    let b = common::parse_ir("block pc=0x7100\ninsn_start 0x7100, 0\nv0 = get.i64 r5\nv1 = add.i64 v0, v0\nset.i64 r7, v1\ngoto_tb 1, 0x7200\n");
    let mut env = TestEnv::new();
    let (ca, cb) = (compile(&a, &env), compile_unpublished(&b, &env));
    env.state().r[6] = 0x7100;
    // a compiled block is not found before accel-tcg installs it and publishes it
    // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread.
    assert_eq!(unsafe { ca.run(env.ptr()) }, TbExit::Lookup, "B is not published yet");
    assert_eq!((env.state().r[5], env.state().pc), (1, 0x7100));
    jit().publish(cb.as_ref());
    // SAFETY: as above.
    let exit = unsafe { ca.run(env.ptr()) };
    assert_eq!(slot_of(exit), Some(1), "A's goto_ptr found B and B ran");
    assert_eq!((env.state().r[5], env.state().r[7], env.state().pc), (2, 4, 0x7200));
    // a target the table does not know returns to the dispatcher
    env.state().r[6] = 0x7300;
    // SAFETY: as above.
    assert_eq!(unsafe { ca.run(env.ptr()) }, TbExit::Lookup);
    assert_eq!(env.state().pc, 0x7300);
    // once B is invalidated, A's goto_ptr to it returns to the dispatcher instead
    jit().invalidate(cb.as_ref());
    env.state().r[6] = 0x7100;
    // SAFETY: as above.
    assert_eq!(unsafe { ca.run(env.ptr()) }, TbExit::Lookup);
    assert_eq!((env.state().r[5], env.state().r[7], env.state().pc), (4, 4, 0x7100));
    jit().invalidate(ca.as_ref());
}

#[test]
fn a_refreshed_block_takes_its_lookup_entry_back_unless_invalidated() {
    // two targets whose pcs share a lookup-table entry: the later published one takes it
    let (pc1, pc2) = (0x7500u64, 0x2_7502u64);
    assert_eq!(backend_jit::exits::lookup_hash(pc1), backend_jit::exits::lookup_hash(pc2));
    let a = common::parse_ir("block pc=0x7400\ninsn_start 0x7400, 0\nv0 = get.i64 r6\ngoto_ptr v0\n");
    let target = |pc: u64, mark: u64| {
        common::parse_ir(&format!(
            "block pc={pc:#x}\ninsn_start {pc:#x}, 0\nv0 = iconst.i64 {mark:#x}\nset.i64 r7, v0\ngoto_tb 1, 0x7200\n"
        ))
    };
    let mut env = TestEnv::new();
    let ca = compile(&a, &env);
    let (c1, c2) = (compile(&target(pc1, 1), &env), compile(&target(pc2, 2), &env));
    env.state().r[6] = pc1;
    // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread.
    assert_eq!(unsafe { ca.run(env.ptr()) }, TbExit::Lookup, "the entry holds the second target");
    jit().refresh_lookup(c1.as_ref());
    // SAFETY: as above.
    let exit = unsafe { ca.run(env.ptr()) };
    assert_eq!((slot_of(exit), env.state().r[7]), (Some(1), 1), "the first target is found again");
    // an invalidated block is not brought back
    jit().invalidate(c1.as_ref());
    jit().refresh_lookup(c1.as_ref());
    env.state().r[7] = 0;
    // SAFETY: as above.
    assert_eq!(unsafe { ca.run(env.ptr()) }, TbExit::Lookup);
    assert_eq!(env.state().r[7], 0);
    for c in [&ca, &c2] {
        jit().invalidate(c.as_ref());
    }
}

#[test]
fn an_exception_in_a_chained_block_reports_that_blocks_pc() {
    // A (0xc000): r1 += 1; goto_tb 0 -> B.   B (0xd000, second instruction): raise 0x7
    let a = common::parse_ir("block pc=0xc000\ninsn_start 0xc000, 0\nv0 = get.i64 r1\nv1 = iconst.i64 0x1\nv2 = add.i64 v0, v1\nset.i64 r1, v2\ngoto_tb 0, 0xd000\n");
    let b = common::parse_ir(
        "block pc=0xd000\ninsn_start 0xd000, 0\ninsn_start 0xd004, 0\nv0 = get.i64 r1\nraise 0x7, v0\n",
    );
    let mut env = TestEnv::new();
    let (ca, cb) = (compile(&a, &env), compile(&b, &env));
    assert!(jit().link(ca.as_ref(), 0, &cb));
    // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread.
    let exit = unsafe { ca.run(env.ptr()) };
    assert_eq!(exit, TbExit::Exception);
    let h = env.header();
    assert_eq!((h.exception, h.exception_aux, h.exception_pc), (7, 1, 0xd004), "B's instruction, not A's");
    jit().invalidate(ca.as_ref());
    jit().invalidate(cb.as_ref());
}

#[test]
fn loads_at_base_plus_offset_near_the_end_of_the_space_and_wrapping_match_the_evaluator() {
    // the range test of `ld base + off` is made on the base (`memory.rs`): accesses ending at
    // the last byte, one byte beyond, and base + off wrapping around must behave exactly as
    // the evaluator's
    let decls = TestEnv::decls();
    let block = common::parse_ir("block pc=0x1000\ninsn_start 0x1000, 0\nv0 = get.i64 r1\nv1 = iconst.i64 0x10\nv2 = add.i64 v0, v1\nv3 = ld.i64 u64le, v2\nset.i64 r2, v3\ngoto_tb 0, 0x2000\n");
    let end = ir::testing::MEM_SIZE as u64;
    for r1 in [end - 0x18, end - 0x17, end - 0x10, end - 0x11, u64::MAX - 0xf, u64::MAX - 0x7, u64::MAX] {
        let mut envs = [TestEnv::new(), TestEnv::new()];
        for e in envs.iter_mut() {
            let n = e.mem().len();
            for (k, b) in e.mem()[n - 32..].iter_mut().enumerate() {
                *b = 0xa0 + k as u8;
            }
            e.mem()[..0x20].copy_from_slice(&[0x5a; 0x20]);
            e.protect();
            e.state().r[1] = r1;
        }
        let [mut je, mut ee] = envs;
        let jit_exit = run_jit(&block, &mut je);
        // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread.
        let eval_exit = unsafe { ir::eval::eval(&block, &decls, ee.ptr()) };
        assert_eq!(jit_exit, eval_exit, "r1 = {r1:#x}: exit");
        assert_eq!(je.state().r[2], ee.state().r[2], "r1 = {r1:#x}: loaded value");
        let (jh, eh) = (je.header(), ee.header());
        assert_eq!(
            (jh.exception, jh.exception_aux, jh.exception_pc),
            (eh.exception, eh.exception_aux, eh.exception_pc),
            "r1 = {r1:#x}: exception"
        );
    }
}
