//! `remu run --crosscheck`: every block runs on the interpreter and the JIT from the same state
//! (accel-tcg/src/crosscheck.rs). Real programs must pass unchanged, and a difference injected
//! through the test hook (`REMU_CROSSCHECK_INJECT`) must be reported with the block's pc and
//! symbol and the differing register or memory byte.

use crate::user_common::{busybox, guest_program, os, remu_run};

/// Runs `args` under --crosscheck and under the interpreter alone; both must succeed with the
/// same output.
fn same_as_interp(what: &str, args: &[std::ffi::OsString]) {
    let checked = remu_run(std::iter::once("--crosscheck".into()).chain(args.iter().cloned())).run();
    let plain = remu_run(["--backend".into(), "interp".into()].into_iter().chain(args.iter().cloned())).run();
    assert!(
        checked.status.success() && checked.stdout == plain.stdout,
        "{what}: --crosscheck ({}) differs from --backend interp ({})\nstderr: {}\nstdout:\n{}\nexpected:\n{}",
        checked.how(),
        plain.how(),
        checked.err(),
        checked.out(),
        plain.out()
    );
    assert!(!checked.err().contains("crosscheck"), "{what}: {}", checked.err());
}

#[test]
fn crosscheck_coverage_program() {
    same_as_interp("coverage", &[os(&guest_program("coverage"))]);
}

/// Guest faults inside compiled blocks (host-MMU faults at instructions after the block's
/// first, and accesses beyond the address space that the JIT leaves to the evaluator) are
/// reported alike by both runs.
#[test]
fn crosscheck_signals_program() {
    same_as_interp("signals", &[os(&guest_program("signals"))]);
}

#[test]
fn crosscheck_busybox_script() {
    let script = "for i in 1 2 3; do echo line $i; done | sort -r; seq 1 200 | md5sum; \
                  echo abc | sed s/b/X/; printf '%x\\n' 48879; echo $((7 * 6))";
    same_as_interp("busybox sh", &[os(&busybox()), "sh".into(), "-c".into(), script.into()]);
}

/// Runs the coverage program with a difference injected; returns stderr.
fn injected(spec: &str) -> String {
    let out = remu_run([std::ffi::OsString::from("--crosscheck"), os(&guest_program("coverage"))])
        .env("REMU_CROSSCHECK_INJECT", spec)
        .run();
    assert_eq!(out.how(), "exit 1", "an injected difference must stop the program: {}", out.err());
    out.err()
}

#[test]
fn crosscheck_reports_a_register_difference() {
    let err = injected("x10@300");
    assert!(err.contains("remu: crosscheck: interp and jit differ after the block at pc 0x"), "{err}");
    // the coverage program has symbols: the block is named
    assert!(err.contains("(_start") || err.contains("+0x"), "no symbol in: {err}");
    assert!(err.contains("register x10: 0x"), "{err}");
    assert_eq!(err.matches("\n  ").count(), 1, "only the injected register differs: {err}");
}

#[test]
fn crosscheck_reports_a_memory_difference() {
    let err = injected("mem@300");
    assert!(err.contains("differ after the block at pc 0x"), "{err}");
    assert!(err.contains("memory 0x"), "{err}");
    assert!(!err.contains("register"), "only memory differs: {err}");
}
