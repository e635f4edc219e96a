//! User mode, POSIX threads: guests/riscv64/threads (static glibc) runs 4 threads doing
//! hundreds of thousands of atomic operations each (AMOs, LR/SC compare-and-swap loops, an
//! amoswap spinlock around plain counters), a mutex + condition variable bounded queue with
//! producers and consumers, a barrier, thread-local storage, pthread_join values and 100
//! short-lived threads. Every printed total is exact, so a lost update (an atomic that is not
//! atomic across host threads), a lost futex wake-up or a wrong clone tid word changes the
//! output or hangs the run (caught by the time limit).
//!
//! The program runs several times on each backend (interp, jit, and auto, the tiered
//! default; and with a tiny JIT code cache, so that full flushes happen while threads run),
//! and its output must equal `threads.expected` (qemu-riscv64's output, which is
//! also checked when qemu-riscv64 is installed).

use std::time::{Duration, Instant};

use super::user_common::*;

/// Runs per backend: races show up as a wrong total only some of the time.
const RUNS: usize = 4;

fn expected() -> String {
    let p = guest_program("threads.expected");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn check_backend(backend: &str) {
    check_with(backend, &[]);
}

fn check_with(backend: &str, extra: &[&str]) {
    let prog = guest_program("threads");
    let want = expected();
    assert!(want.ends_with("failures: 0\n"), "threads.expected must be a passing run:\n{want}");
    for run in 1..=RUNS {
        let start = Instant::now();
        let mut args: Vec<std::ffi::OsString> = vec!["--backend".into(), backend.into()];
        args.extend(extra.iter().map(|a| a.into()));
        args.push(os(&prog));
        let r = remu_run(args).timeout(Duration::from_secs(60)).run();
        let took = start.elapsed();
        assert!(
            r.status.success() && r.out() == want,
            "threads, --backend {backend}, run {run} ({}, {took:.2?}):\n--- got:\n{}\n--- want:\n{want}\n--- stderr:\n{}",
            r.how(),
            r.out(),
            r.err()
        );
        eprintln!("threads --backend {backend} run {run}: {took:.2?}");
    }
}

#[test]
fn user_threads_interp() {
    check_backend("interp");
}

#[test]
fn user_threads_jit() {
    check_backend("jit");
}

#[test]
fn user_threads_auto() {
    check_backend("auto");
}

/// A code cache so small that it fills about a hundred times while the threads run: every
/// full flush must first stop the other threads (an exclusive section), or they would run
/// code memory that is being rewritten.
#[test]
fn user_threads_jit_with_code_cache_flushes() {
    check_with("jit", &["--tb-size", "128K"]);
    check_with("auto", &["--tb-size", "128K", "--jit-threshold", "2", "--jit-warmup", "0"]);
}

#[test]
fn user_threads_expected_matches_qemu() {
    let Some(q) = qemu("user_threads_expected_matches_qemu") else { return };
    let e = Run::new(q).args([os(&guest_program("threads"))]).timeout(Duration::from_secs(60)).run();
    assert!(e.status.success(), "threads under qemu-riscv64: {}\n{}", e.how(), e.err());
    assert_eq!(e.out(), expected(), "threads.expected is stale (qemu-riscv64 prints otherwise)");
}
