//! The baseline tier against the reference evaluator: the MemOp endianness matrix, random
//! blocks compared bit for bit, with and without the tier's entry countdown, and chains
//! between baseline and Cranelift blocks.

mod common;

use backend_jit::baseline::BaselineBackend;
use backend_jit::JitBackend;
use ir::backend::{Backend, TbExit};
use ir::testing::TestEnv;

fn baseline() -> &'static BaselineBackend {
    static B: std::sync::OnceLock<BaselineBackend> = std::sync::OnceLock::new();
    B.get_or_init(|| BaselineBackend::new(common::options(64 << 20)).expect("JIT on this host"))
}

fn run_baseline(block: &ir::Block, env: &mut TestEnv) -> TbExit {
    common::run_once(baseline(), block, env)
}

#[test]
fn memop_matrix_on_baseline() {
    ir::testing::memop_matrix(&mut run_baseline);
}

#[test]
fn random_blocks_match_the_evaluator() {
    common::random_blocks(0x5eed_0002, 3000, &mut run_baseline);
}

#[test]
fn runtime_arithmetic_matches_the_evaluator() {
    let decls = TestEnv::decls();
    for op in ["ctz", "clz", "popcnt"] {
        for x in [0u64, 1, 0x8000_0000, 0x1_0000_0000, 0xffff_ffff_0000_0000, 0x1234_5678_9abc_def0, u64::MAX] {
            let src = format!(
                "block pc=0x1000\ninsn_start 0x1000, 0\nv0 = get.i64 r1\nv1 = trunc.i32 v0\nv2 = {op}.i32 v1\nv3 = extend_u.i64 v2\nset.i64 r1, v3\nv4 = {op}.i64 v0\nset.i64 r2, v4\ngoto_tb 0, 0x2000\n"
            );
            let block = common::parse_ir(&src);
            let (mut e1, mut e2) = (TestEnv::new(), TestEnv::new());
            e1.state().r[1] = x;
            e2.state().r[1] = x;
            // SAFETY: a live TestEnv laid out as `decls` describes.
            unsafe { ir::eval::eval(&block, &decls, e1.ptr()) };
            run_baseline(&block, &mut e2);
            assert_eq!(e1.state().r, e2.state().r, "{op} of {x:#x}");
        }
    }
}

#[test]
fn baseline_and_cranelift_blocks_chain_both_ways_and_baseline_blocks_count_entries() {
    // A (baseline): r1 += 1; goto_tb 0 -> B.  B (Cranelift): r2 += r1; if r2 > 100 leave
    // through slot 1, else goto_tb 0 -> A.
    let a = common::parse_ir("block pc=0x9000\ninsn_start 0x9000, 0\nv0 = get.i64 r1\nv1 = iconst.i64 0x1\nv2 = add.i64 v0, v1\nset.i64 r1, v2\ngoto_tb 0, 0xa000\n");
    let b = common::parse_ir("block pc=0xa000\ninsn_start 0xa000, 0\nv0 = get.i64 r2\nv1 = get.i64 r1\nv2 = add.i64 v0, v1\nset.i64 r2, v2\nv4 = iconst.i64 0x64\nv5 = setcond.i64 gtu, v2, v4\nexit_if.i64 chain 1, 0xb000, v5\ngoto_tb 0, 0x9000\n");
    let jit = JitBackend::new(common::options(1 << 20)).expect("JIT on this host");
    for hot_at in [0, 5] {
        let base = jit.baseline(hot_at);
        assert_eq!(base.code_domain(), jit.code_domain(), "one code domain: the tiers link to each other");
        let mut env = TestEnv::new();
        let (ca, cb) = (common::compile(&base, &a, &env), common::compile(&jit, &b, &env));
        assert!(base.link(ca.as_ref(), 0, &cb), "baseline -> Cranelift");
        assert!(jit.link(cb.as_ref(), 0, &ca), "Cranelift -> baseline");
        // SAFETY: TestEnv is a live environment with TestEnv::layout(), owned by this thread.
        let exit = unsafe { ca.run(env.ptr()) };
        if hot_at == 0 {
            // r1 = 1,2,..,n; r2 = n(n+1)/2 > 100 first at n = 14 (105)
            let TbExit::Chain { slot: 1, from } = exit else { panic!("left through B's side exit: {exit:?}") };
            assert_eq!(base.exit_origin(from), Some((0xa000, 0)), "the exit is attributed to B");
            assert_eq!((env.state().r[1], env.state().r[2], env.state().pc), (14, 105, 0xb000));
        } else {
            // the fifth entry of A (the run's first included) reports it hot, before its body
            assert_eq!(exit, TbExit::Hot);
            assert_eq!((env.state().r[1], env.state().r[2], env.state().pc), (4, 10, 0x9000));
            // and the count starts over
            // SAFETY: as above.
            assert_eq!(unsafe { ca.run(env.ptr()) }, TbExit::Hot);
            assert_eq!(env.state().r[1], 8);
        }
        // an exit request stops the chain at the next block entry, with that block's pc
        env.header_mut().exit_request.store(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: as above.
        assert_eq!(unsafe { ca.run(env.ptr()) }, TbExit::Interrupted);
        assert_eq!(env.state().pc, 0x9000);
        env.header_mut().exit_request.store(0, std::sync::atomic::Ordering::Relaxed);
        base.invalidate(ca.as_ref());
        jit.invalidate(cb.as_ref());
    }
}

#[test]
fn a_register_write_overwritten_later_is_still_seen_by_a_fault_in_between() {
    // r1 = 1; a load from a page without access faults; r1 = 2. The first write is dead
    // only if nothing can read r1 before the second: the fault does.
    let block = common::parse_ir("block pc=0x1000\ninsn_start 0x1000, 0\nv0 = iconst.i64 0x1\nset.i64 r1, v0\ninsn_start 0x1004, 0\nv2 = iconst.i64 0x2008\nv3 = ld.i64 u64le, v2\nset.i64 r2, v3\nv5 = iconst.i64 0x2\nset.i64 r1, v5\ngoto_tb 0, 0x2000\n");
    let mut env = TestEnv::new();
    env.state().r[1] = 7;
    env.set_perm(2, 0);
    assert_eq!(run_baseline(&block, &mut env), TbExit::Exception);
    assert_eq!(env.header().exception_pc, 0x1004);
    assert_eq!(env.state().r[1], 1, "the write before the fault");
    // with the page readable, the last write wins
    let mut env = TestEnv::new();
    assert!(matches!(run_baseline(&block, &mut env), TbExit::Chain { slot: 0, .. }));
    assert_eq!(env.state().r[1], 2);
}
