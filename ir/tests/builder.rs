//! The builder's simplification as it emits (`ir/src/builder.rs`): constants fold, identities
//! forward, a register's known value is reused, and nothing of this survives what would make
//! it wrong (a helper that may write registers, a truncated instruction). Each block is also
//! run on the evaluator against the value the guest would compute.

use ir::backend::TbExit;
use ir::testing::TestEnv;
use ir::{text, verify, Builder, GlobalId, HelperId, Opcode};

fn global(decls: &ir::Decls, name: &str) -> GlobalId {
    GlobalId(decls.globals.iter().position(|g| g.name == name).expect("declared") as u16)
}

fn helper(decls: &ir::Decls, name: &str) -> HelperId {
    HelperId(decls.helpers.iter().position(|h| h.name == name).expect("declared") as u16)
}

fn count(block: &ir::Block, op: Opcode) -> usize {
    block.insts.iter().filter(|i| i.op == op).count()
}

/// Runs `block` with r0..r15 = 100 + i and returns r0..r3.
fn run(block: &ir::Block, decls: &ir::Decls) -> [u64; 4] {
    verify::verify(block, decls).unwrap_or_else(|e| panic!("{e}\n{}", text::print(block, decls)));
    let mut env = TestEnv::new();
    for (i, r) in env.state().r.iter_mut().enumerate() {
        *r = 100 + i as u64;
    }
    // SAFETY: a TestEnv is laid out as TestEnv::decls() says and owned by this test.
    let exit = unsafe { ir::eval::eval(block, decls, env.ptr()) };
    assert!(matches!(exit, TbExit::Chain { .. }), "{exit:?}");
    let r = env.state().r;
    [r[0], r[1], r[2], r[3]]
}

#[test]
fn folds_constants_and_forwards_registers() {
    let decls = TestEnv::decls();
    let (r0, r1, r2) = (global(&decls, "r0"), global(&decls, "r1"), global(&decls, "r2"));
    let mut b = Builder::new(&decls);
    b.start(0x1000, 0);
    b.insn_start(0x1000, 0);
    // li r1, 5 as an addi from a zero register: one constant
    let zero = b.i64(0);
    let five = b.i64(5);
    let v = b.add(zero, five);
    assert_eq!(b.block().def(v).op, Opcode::Const);
    b.set(r1, v);
    // r2 = r1 + r0 reads r1's known value, r0 once
    let x = b.get(r1);
    assert_eq!(x, v, "a register set in this block is not read again");
    let y = b.get(r0);
    assert_eq!(b.get(r0), y, "a register read in this block is not read twice");
    let s = b.add(x, y);
    b.set(r2, s);
    // setting r2 to what it holds emits nothing; x + 0 is x
    let n = b.len();
    b.set(r2, s);
    let zero = b.i64(0);
    assert_eq!(b.add(s, zero), s);
    assert_eq!(b.len(), n + 1, "only the constant was emitted");
    b.goto_tb(0, 0x1004);
    let block = b.finish(4);
    assert_eq!(count(&block, Opcode::Get), 1);
    assert_eq!(count(&block, Opcode::Add), 1);
    assert_eq!(run(&block, &decls)[..3], [100, 5, 105]);
}

#[test]
fn helpers_that_write_registers_and_truncation_forget_known_values() {
    let decls = TestEnv::decls();
    let (r0, r1, r3) = (global(&decls, "r0"), global(&decls, "r1"), global(&decls, "r3"));
    let (bump, add3) = (helper(&decls, "bump_r0"), helper(&decls, "add3"));
    let mut b = Builder::new(&decls);
    b.start(0x1000, 0);
    b.insn_start(0x1000, 0);
    let before = b.get(r0);
    // a pure helper leaves known values alone
    let one = b.i64(1);
    b.call(add3, &[one, one, one]);
    assert_eq!(b.get(r0), before);
    // bump_r0 writes r0 (r0 += 1): r0 must be read again
    b.call(bump, &[one]);
    let after = b.get(r0);
    assert_ne!(after, before, "r0 read again after a helper that may write it");
    b.set(r1, after);
    // a guest instruction emitted and then dropped: its set is not what r3 holds
    let mark = b.len();
    let seven = b.i64(7);
    b.set(r3, seven);
    b.truncate(mark);
    let r3v = b.get(r3);
    assert_eq!(b.block().def(r3v).op, Opcode::Get, "r3 is read, not taken from the dropped set");
    b.set(global(&decls, "r2"), r3v);
    b.goto_tb(0, 0x1004);
    let block = b.finish(4);
    assert_eq!(run(&block, &decls), [101, 101, 103, 103]);
}
