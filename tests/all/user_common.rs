//! Shared helpers of the user-mode tests (`user_*.rs`): the remu binary, the Debian guest
//! kit, the qemu-riscv64 reference, and running one program under both.
//!
//! The guest kit is found through `REMU_GUEST_ASSETS`; when it is unset, the kit script
//! (`../shared/guests/fetch.sh` next to the repository) is run once into
//! `<target dir>/guest-assets`. A missing kit fails the test loudly. Tests that compare with
//! qemu-riscv64 skip, saying so, only when it is not installed.

#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The remu binary under test.
/// The backends every real-program test runs on (one test body, every code generator: the
/// interpreter, the baseline tier alone, the Cranelift JIT alone).
pub const BACKENDS: &[&str] = &["interp", "baseline", "jit"];

pub fn remu() -> &'static str {
    env!("CARGO_BIN_EXE_remu")
}

/// The guest kit directory (fetched on first use when `REMU_GUEST_ASSETS` is unset).
pub fn assets() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("REMU_GUEST_ASSETS") {
            return PathBuf::from(d);
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
        let dir = target.join("guest-assets");
        let script = root.join("../shared/guests/fetch.sh");
        assert!(
            script.exists(),
            "guest assets: REMU_GUEST_ASSETS is not set and there is no kit script at {}",
            script.display()
        );
        let st = Command::new("bash").arg(&script).arg(&dir).stdout(Stdio::null()).status().expect("run fetch.sh");
        assert!(st.success(), "guest assets: {} {} failed ({st})", script.display(), dir.display());
        dir
    })
}

/// A file of the guest kit, which must exist.
pub fn asset(rel: &str) -> PathBuf {
    let p = assets().join(rel);
    assert!(p.exists(), "guest asset {} is missing (kit at {})", rel, assets().display());
    p
}

/// The static riscv64 busybox.
pub fn busybox() -> PathBuf {
    asset("riscv64/busybox")
}

/// The riscv64 sysroot.
pub fn sysroot() -> PathBuf {
    asset("riscv64/sysroot")
}

/// One of our own guest programs (guests/riscv64/NAME).
pub fn guest_program(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests/riscv64").join(name);
    assert!(p.exists(), "guest program {} is missing (guests/build.sh builds it)", p.display());
    p
}

/// The absolute path of qemu-riscv64 when installed; otherwise prints why the comparison
/// is skipped.
pub fn qemu(test: &str) -> Option<&'static str> {
    static FOUND: OnceLock<Option<String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|d| d.join("qemu-riscv64"))
            .find(|p| p.is_file())
            .map(|p| p.to_string_lossy().into_owned())
    });
    match found {
        Some(q) => Some(q.as_str()),
        None => {
            eprintln!("skipped {test}: qemu-riscv64 is not installed (Debian package qemu-user)");
            None
        }
    }
}

/// A fresh, empty directory for one test.
pub fn tmpdir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("remu-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// What a run produced.
#[derive(Debug)]
pub struct Out {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
    /// Exit status.
    pub status: ExitStatus,
}

impl Out {
    /// stdout as text.
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// stderr as text.
    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// "exit N" or "signal N".
    pub fn how(&self) -> String {
        match (self.status.code(), self.status.signal()) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        }
    }
}

/// A command to run with a time limit.
pub struct Run {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

impl Run {
    /// `prog args...`.
    pub fn new(prog: impl AsRef<std::ffi::OsStr>) -> Run {
        let mut cmd = Command::new(prog);
        cmd.stdin(Stdio::null());
        Run { cmd, stdin: None, timeout: Duration::from_secs(120) }
    }
    /// Adds arguments.
    pub fn args<I, S>(mut self, a: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(a);
        self
    }
    /// Working directory.
    pub fn cwd(mut self, d: &Path) -> Run {
        self.cmd.current_dir(d);
        self
    }
    /// Sets an environment variable.
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Run {
        self.cmd.env(k, v);
        self
    }
    /// Feeds stdin.
    pub fn stdin(mut self, data: &[u8]) -> Run {
        self.stdin = Some(data.to_vec());
        self
    }
    /// Time limit.
    pub fn timeout(mut self, t: Duration) -> Run {
        self.timeout = t;
        self
    }
    /// Runs to completion (killed and failing the test past the time limit).
    pub fn run(mut self) -> Out {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if self.stdin.is_some() {
            self.cmd.stdin(Stdio::piped());
        }
        let desc = format!("{:?}", self.cmd);
        let mut child = self.cmd.spawn().unwrap_or_else(|e| panic!("cannot start {desc}: {e}"));
        if let Some(data) = self.stdin.take() {
            let mut si = child.stdin.take().expect("stdin");
            std::thread::spawn(move || {
                let _ = si.write_all(&data);
            });
        }
        let mut so = child.stdout.take().expect("stdout");
        let mut se = child.stderr.take().expect("stderr");
        let to = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut so, &mut v);
            v
        });
        let te = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut se, &mut v);
            v
        });
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                panic!("timed out after {:?}: {desc}", self.timeout);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Out { stdout: to.join().unwrap_or_default(), stderr: te.join().unwrap_or_default(), status }
    }
}

/// `remu run ARGS...`.
pub fn remu_run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Run::new(remu()).arg_first("run").args(args)
}

impl Run {
    fn arg_first(mut self, a: &str) -> Run {
        self.cmd.arg(a);
        self
    }
}

/// Asserts that two runs printed the same stdout and ended the same way.
pub fn assert_same(what: &str, remu: &Out, qemu: &Out) {
    if remu.stdout != qemu.stdout || remu.how() != qemu.how() {
        panic!(
            "{what}: remu and qemu-riscv64 differ\n--- remu ({}), stderr:\n{}\n--- remu stdout:\n{}\n--- qemu ({}), stderr:\n{}\n--- qemu stdout:\n{}",
            remu.how(),
            remu.err(),
            remu.out(),
            qemu.how(),
            qemu.err(),
            qemu.out()
        );
    }
}

/// OsString from a path.
pub fn os(p: &Path) -> OsString {
    p.as_os_str().to_owned()
}
