//! User mode, the CPU benchmarks of `../shared/bench` (sha256, sort, matmul, strmem, vm,
//! listwalk) as correctness tests: each one, built for riscv64 (static glibc), run with
//! argument `1` (one repetition) must print exactly its line of `expected-reps1.txt` on every
//! backend (interp, jit and the tiered default, auto). One test per backend (two for the slow
//! interpreter), so that the test harness runs them side by side.
//!
//! The programs are built once by the bench Makefile (riscv64 targets only) into
//! `<target dir>/<profile>/bench-riscv64/riscv64/`, or taken from `$REMU_BENCH_DIR/riscv64/`
//! when that variable is set (a directory made by the bench's `build.sh` or `make OUT=...`).
//! Without the riscv64 cross compiler the tests print why and skip.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::user_common::*;

/// The bench programs, in the order of `expected-reps1.txt`.
const BENCHES: &[&str] = &["sha256", "sort", "matmul", "strmem", "vm", "listwalk"];

/// `../shared/bench` next to the repository.
fn bench_src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench")
}

/// Expected output line of each program, by name.
fn expected() -> HashMap<String, String> {
    let f = bench_src().join("expected-reps1.txt");
    let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
    let map: HashMap<String, String> =
        text.lines().filter_map(|l| l.split_once(':').map(|(name, _)| (name.to_string(), l.to_string()))).collect();
    for b in BENCHES {
        assert!(map.contains_key(*b), "{} has no line for {b}", f.display());
    }
    map
}

fn have_cross_compiler() -> bool {
    Command::new("riscv64-linux-gnu-gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The directory holding `riscv64/<bench>` binaries, built on first use; `None` (after saying
/// why) when they cannot be built here.
fn bench_bins(test: &str) -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("REMU_BENCH_DIR") {
            let d = PathBuf::from(d);
            for b in BENCHES {
                let p = d.join("riscv64").join(b);
                assert!(p.is_file(), "REMU_BENCH_DIR is set but {} is missing", p.display());
            }
            return Some(d);
        }
        if !have_cross_compiler() {
            return None;
        }
        // Next to the remu binary: <target dir>/<profile>/bench-riscv64.
        let out = Path::new(remu()).parent().expect("remu's directory").join("bench-riscv64");
        let targets: Vec<PathBuf> = BENCHES.iter().map(|b| out.join("riscv64").join(b)).collect();
        let start = Instant::now();
        let r = Command::new("make")
            .arg("-C")
            .arg(bench_src())
            .arg("-j2")
            .arg(format!("OUT={}", out.display()))
            .args(&targets)
            .output()
            .expect("run make (the bench Makefile)");
        assert!(
            r.status.success(),
            "building the riscv64 benchmarks failed ({}):\n{}\n{}",
            r.status,
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
        eprintln!("bench programs ready in {} ({:.1?})", out.display(), start.elapsed());
        Some(out)
    });
    if dir.is_none() {
        eprintln!("skipped {test}: riscv64-linux-gnu-gcc is not installed (Debian package gcc-riscv64-linux-gnu)");
    }
    dir.as_deref()
}

/// Runs the benchmarks `which` with `1` on one backend (and `extra` options) and checks their
/// lines.
fn check_backend(test: &str, backend: &str, extra: &[&str], which: &[&str]) {
    let Some(dir) = bench_bins(test) else { return };
    let want = expected();
    let mut failures = Vec::new();
    for b in which {
        let prog = dir.join("riscv64").join(b);
        let start = Instant::now();
        let mut args: Vec<std::ffi::OsString> = vec!["--backend".into(), backend.into()];
        args.extend(extra.iter().map(|a| a.into()));
        args.extend([os(&prog), "1".into()]);
        let r = remu_run(args).timeout(Duration::from_secs(300)).run();
        let took = start.elapsed();
        let got = r.out();
        let line = &want[*b];
        eprintln!("{backend} {b}: {:.2?}", took);
        if !r.status.success() || got.trim_end_matches('\n') != line {
            failures.push(format!(
                "{b} (--backend {backend} {extra:?}, {}): got {got:?}, want {line:?}\nstderr:\n{}",
                r.how(),
                r.err()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// The interpreter takes most of the time (matmul and vm about 10 s each): two halves.
#[test]
fn user_bench_checksums_interp_1() {
    check_backend("user_bench_checksums_interp_1", "interp", &[], &BENCHES[..3]);
}

#[test]
fn user_bench_checksums_interp_2() {
    check_backend("user_bench_checksums_interp_2", "interp", &[], &BENCHES[3..]);
}

#[test]
fn user_bench_checksums_jit() {
    check_backend("user_bench_checksums_jit", "jit", &[], BENCHES);
}

#[test]
fn user_bench_checksums_auto() {
    check_backend("user_bench_checksums_auto", "auto", &[], BENCHES);
}

/// Tier-up as often and as early as it gets, compiled on the vCPU thread so that a hot
/// version replaces its cold block at a fixed point: while the cold block that just left
/// through an exit is still the one the dispatcher links from. The hot version may cover more
/// code (it follows jumps) and number its exits otherwise; linking the hot version's exit by
/// the cold one's number sent sha256, sort and strmem to wrong code before the dispatcher
/// checked which compilation an exit came from.
#[test]
fn user_bench_checksums_auto_with_early_synchronous_tier_up() {
    check_backend(
        "user_bench_checksums_auto_with_early_synchronous_tier_up",
        "auto",
        &["--jit-sync", "--jit-warmup", "0", "--jit-threshold", "50"],
        &BENCHES[..4],
    );
}
