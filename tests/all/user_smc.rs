//! User mode, self-modifying and run-time generated code:
//! - guests/riscv64/smc rewrites instructions of its own (writable, `-N`) text with fence.i:
//!   a leaf's immediate, a hot function on its own page called from a chained loop, the
//!   running block itself, the instruction just past a fence.i, a compressed instruction, an
//!   instruction straddling two pages, the body of a hot loop;
//! - guests/riscv64/guestjit is a small JIT in the guest (static glibc): W^X buffers reused
//!   hundreds of times, RWX code rewritten in place after it ran hot, munmap + mmap at the
//!   same address, a RW and a RX view of one memfd, code across a page boundary.
//!
//! Each runs on interp, jit and auto (the tiered default, also with a tier-up threshold of 1
//! so that nearly every block is compiled by the JIT in the background while it is being
//! rewritten), a few times each, and must print exactly its `.expected` file; that file is
//! checked against qemu-riscv64 when it is installed.

use std::time::{Duration, Instant};

use super::user_common::*;

/// The option sets each program runs under. When remu has a tier-up warm-up (nothing is
/// JIT-compiled in the first milliseconds), the auto runs turn it off: these programs are
/// short, and the point is to rewrite code that has been JIT-compiled.
fn configs() -> Vec<Vec<String>> {
    let help = remu_run(["--help"]).run().out();
    let mut auto = vec!["--backend".to_string(), "auto".to_string()];
    if help.contains("--jit-warmup") {
        auto.extend(["--jit-warmup".to_string(), "0".to_string()]);
    }
    let mut eager = auto.clone();
    eager.extend(["--jit-threshold".to_string(), "1".to_string()]);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![s(&["--backend", "interp"]), s(&["--backend", "jit"]), auto, eager]
}

/// Runs per configuration (the background tier-up makes timing matter).
const RUNS: usize = 3;

/// QEMU 7.2 does not see code written through another mapping of the same memory (it tracks
/// code writes by guest address only and ignores riscv_flush_icache), so its run of guestjit
/// fails this one check; remu invalidates on the flush.
const QEMU_DUAL_VIEW: &str = "dual view, ";

fn expected(name: &str) -> String {
    let p = guest_program(&format!("{name}.expected"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn check_program(name: &str) {
    let prog = guest_program(name);
    let want = expected(name);
    assert!(want.ends_with("failures: 0\n"), "{name}.expected must be a passing run:\n{want}");
    for cfg in configs() {
        for run in 1..=RUNS {
            let start = Instant::now();
            let mut args: Vec<std::ffi::OsString> = cfg.iter().map(Into::into).collect();
            args.push(os(&prog));
            let r = remu_run(args).timeout(Duration::from_secs(60)).run();
            let took = start.elapsed();
            assert!(
                r.status.success() && r.out() == want,
                "{name} {} (run {run}, {}, {took:.2?}):\n--- got:\n{}\n--- want:\n{want}\n--- stderr:\n{}",
                cfg.join(" "),
                r.how(),
                r.out(),
                r.err()
            );
            eprintln!("{name} {} run {run}: {took:.2?}", cfg.join(" "));
        }
    }
}

/// qemu-riscv64's output, with the lines it is known to get wrong left out of both.
fn check_against_qemu(test: &str, name: &str) {
    let Some(q) = qemu(test) else { return };
    let e = Run::new(q).args([os(&guest_program(name))]).timeout(Duration::from_secs(60)).run();
    let keep = |s: &str| {
        s.lines()
            .filter(|l| !(name == "guestjit" && (l.contains(QEMU_DUAL_VIEW) || l.starts_with("failures:"))))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(keep(&e.out()), keep(&expected(name)), "{name}.expected and qemu-riscv64 differ ({})", e.how());
}

#[test]
fn user_smc_self_modifying_text() {
    check_program("smc");
}

#[test]
fn user_smc_guest_jit() {
    check_program("guestjit");
}

#[test]
fn user_smc_expected_outputs_match_qemu() {
    check_against_qemu("user_smc_expected_outputs_match_qemu", "smc");
    check_against_qemu("user_smc_expected_outputs_match_qemu", "guestjit");
}
