//! The verifier rejects broken blocks, and the parser rejects malformed text, naming the line.

use ir::testing::TestEnv;
use ir::{text, verify};

fn check(src: &str) -> Result<(), String> {
    let d = TestEnv::decls();
    let b = text::parse(src, &d).map_err(|e| format!("parse: {e}"))?;
    verify::verify(&b, &d).map_err(|e| format!("verify: {e}"))
}

#[test]
fn well_formed_block_passes() {
    check("insn_start 0x0, 0\nv0 = get.i64 r1\nset.i64 r2, v0\ngoto_tb 0, 0x4\n").expect("valid");
}

#[test]
fn rejects_structural_errors() {
    let cases = [
        ("v0 = get.i64 r1\nset.i64 r2, v0\n", "does not end with a terminator"),
        ("insn_start 0x0, 0\ngoto_tb 0, 0x4\nv0 = get.i64 r1\ngoto_tb 0, 0x8\n", "terminator before the end"),
        ("v0 = get.i64 r1\nv1 = ld.i64 u32le, v0\ngoto_tb 0, 0x4\n", "before any insn_start"),
        (
            "insn_start 0x0, 0\nv0 = get.i32 w0\nv1 = get.i64 r1\nv2 = add.i64 v1, v0\ngoto_tb 0, 0x4\n",
            "argument 1 is i32",
        ),
        ("insn_start 0x0, 0\nv0 = get.i32 r1\ngoto_tb 0, 0x4\n", "used as i32"),
        ("insn_start 0x0, 0\nv0 = get.i32 w0\nv1 = ld.i64 u32le, v0\ngoto_tb 0, 0x4\n", "address must be an i64"),
        ("insn_start 0x0, 0\nv0 = get.i64 r1\nv1 = sext.i64 0, v0\ngoto_tb 0, 0x4\n", "outside 1..=64"),
        ("insn_start 0x0, 0\nv0 = get.i64 r1\nv1 = call add3, v0\ngoto_tb 0, 0x4\n", "takes 3 arguments"),
        ("insn_start 0x0, 0\ngoto_tb 8, 0x4\n", "slot 8"),
        (
            "insn_start 0x0, 0\nv0 = get.i64 r1\nexit_if chain 1, 0x40, v0\ngoto_tb 1, 0x4\n",
            "slot 1 already continues at another pc",
        ),
        (
            "insn_start 0x0, 0\nv0 = get.i64 r1\nv1 = trunc.i32 v0\nv2 = extend_s.i64 v0\ngoto_tb 0, 0x4\n",
            "extends an i32",
        ),
    ];
    for (src, want) in cases {
        let e = check(src).expect_err(src);
        assert!(e.contains(want), "for\n{src}expected an error containing '{want}', got '{e}'");
    }
}

#[test]
fn rejects_malformed_text() {
    let cases = [
        ("v0 = frob.i64 v1\n", "line 1: unknown op 'frob'"),
        ("insn_start 0x0, 0\nv0 = get.i64 r99\n", "line 2: unknown global 'r99'"),
        ("v0 = iconst.i64 0xzz\n", "bad number"),
        ("v0 = add.i64 v7, v8\n", "undefined value 'v7'"),
        ("v0 = get.i64 r1\nv1 = ld.i64 u24le, v0\n", "bad memop"),
        ("get.i64 r1\n", "defines a value"),
        ("v0 = iconst 0x1\n", "needs a type suffix"),
    ];
    for (src, want) in cases {
        let e = check(src).expect_err(src);
        assert!(e.contains(want), "for\n{src}expected an error containing '{want}', got '{e}'");
    }
}

#[test]
fn memop_bits_round_trip() {
    for b in 0u8..32 {
        let m = ir::MemOp::from_bits(b);
        assert_eq!(ir::MemOp::from_bits(m.to_bits()), m);
        assert_eq!(m.to_string().parse::<ir::MemOp>().expect("memop text"), m);
    }
}

#[test]
fn every_op_has_a_row_and_unique_name() {
    let mut names = std::collections::HashSet::new();
    for &op in ir::Opcode::ALL {
        assert_eq!(ir::Opcode::from_name(op.info().name), Some(op));
        assert!(names.insert(op.info().name), "duplicate op name {}", op.info().name);
        assert!(!op.info().semantics.is_empty());
    }
}
