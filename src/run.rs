//! `remu run`: user mode, like qemu-user. Parses the command line, picks the backend and hands
//! over to `linux_user::run`.
//!
//! Option parsing stops at PROGRAM: everything after it belongs to the guest, options included
//! (`remu run busybox ls -l`). The options before it are parsed with clap; every error is one
//! line on stderr and exit status 2 (usage) or 1 (the program cannot be started).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendChoice {
    /// Tiered: blocks start in the baseline tier and move to the Cranelift JIT once hot
    /// (compiled on a background thread).
    Auto,
    /// The bytecode interpreter.
    Interp,
    /// The baseline tier alone: blocks compiled to host code by templates, quickly.
    Baseline,
    /// The Cranelift JIT.
    Jit,
}

/// Run a Linux program of another architecture (riscv64) as a host process.
#[derive(Parser, Debug)]
#[command(
    name = "remu run",
    override_usage = "remu run [OPTIONS] PROGRAM [ARGS...]",
    disable_version_flag = true,
    after_help = "Everything after PROGRAM is passed to the program unchanged."
)]
struct RunArgs {
    /// Code generator.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
    /// Look up absolute paths (the dynamic loader, libraries, files) in SYSROOT first.
    #[arg(short = 'L', value_name = "SYSROOT")]
    sysroot: Option<PathBuf>,
    /// Set an environment variable for the program (repeatable).
    #[arg(short = 'E', value_name = "VAR=VALUE")]
    set_env: Vec<OsString>,
    /// Remove an environment variable for the program (repeatable).
    #[arg(short = 'U', value_name = "VAR")]
    unset_env: Vec<OsString>,
    /// Log every system call of the program with its arguments and result.
    #[arg(long)]
    strace: bool,
    /// Log items, comma-separated: in_asm, op, op_opt, out_asm, exec, unimp, guest_errors (`-d help` lists them).
    #[arg(short = 'd', value_name = "ITEMS")]
    debug: Option<String>,
    /// Write the log to LOGFILE instead of stderr.
    #[arg(short = 'D', value_name = "LOGFILE")]
    logfile: Option<PathBuf>,
    /// Print translation statistics when the program exits.
    #[arg(long)]
    stats: bool,
    /// Write /tmp/perf-PID.map so that `perf report` names JIT code by guest pc and symbol.
    #[arg(long)]
    perfmap: bool,
    /// Run every block on both the interpreter and the JIT (the baseline tier with `--backend
    /// baseline`) from the same state and stop at the first difference, naming the block and
    /// what differs (slow; for finding remu bugs).
    #[arg(long)]
    crosscheck: bool,
    /// With --backend auto: executions of a baseline block before Cranelift compiles it again
    /// (Cranelift takes ~250 us for a hot block, which then saves some nanoseconds on each
    /// execution: a lower count compiles more of a program's start-up, on a second core).
    #[arg(long, value_name = "N", default_value_t = 10000)]
    jit_threshold: u32,
    /// With --backend auto: milliseconds after start during which nothing is JIT-compiled
    /// (short-lived programs, such as most commands a shell script runs, never pay for the
    /// JIT's start-up).
    #[arg(long, value_name = "MS", default_value_t = 20)]
    jit_warmup: u64,
    /// Size of the JIT's code cache in MiB, or KiB with a K suffix (QEMU's tb-size); when it
    /// is full, every translation is dropped and translation starts over.
    #[arg(long, value_name = "MIB", default_value = "256", value_parser = parse_tb_size)]
    tb_size: usize,
    /// With --backend auto: compile hot blocks on the vCPU's own thread instead of a
    /// background thread.
    #[arg(long)]
    jit_sync: bool,
    /// argv[0] of the program (default: PROGRAM as given).
    #[arg(short = '0', long = "argv0", value_name = "ARGV0")]
    argv0: Option<OsString>,
    /// Append to LOGFILE instead of truncating it (used when a guest executes another guest
    /// program: both share the log).
    #[arg(long, hide = true)]
    log_append: bool,
    /// Start the program with SIGPIPE ignored (used when a guest executes another guest
    /// program while ignoring SIGPIPE).
    #[arg(long, hide = true)]
    sigpipe_ignored: bool,
    /// The program (a riscv64 Linux ELF executable).
    #[arg(value_name = "PROGRAM")]
    program: OsString,
}

/// `--tb-size`: MiB, or KiB with a K suffix; 64 KiB to 4 GiB. Returns bytes.
fn parse_tb_size(s: &str) -> Result<usize, String> {
    let (num, unit) = match s.strip_suffix(['K', 'k']) {
        Some(n) => (n, 10),
        None => (s.strip_suffix(['M', 'm']).unwrap_or(s), 20),
    };
    let n: usize = num.parse().map_err(|_| format!("'{s}' is not a size (MiB, or KiB with a K suffix)"))?;
    let bytes = n.checked_shl(unit).filter(|b| (64 << 10..=4 << 30).contains(b));
    bytes.ok_or_else(|| format!("'{s}' is outside 64K..4096 (MiB)"))
}

/// Options that take a value (so that the value is not mistaken for PROGRAM).
const VALUED: &[&str] =
    &["-L", "-E", "-U", "-d", "-D", "--backend", "-0", "--argv0", "--jit-threshold", "--jit-warmup", "--tb-size"];

/// Splits `remu run` arguments into (remu options, PROGRAM and its arguments).
fn split_at_program(args: &[OsString]) -> (Vec<OsString>, Vec<OsString>) {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_bytes();
        if a == b"--" {
            return (args[..i].to_vec(), args[i + 1..].to_vec());
        }
        if a.len() > 1 && a[0] == b'-' {
            let takes = VALUED.iter().any(|v| v.as_bytes() == a);
            i += if takes { 2 } else { 1 };
            continue;
        }
        break;
    }
    let i = i.min(args.len());
    (args[..i].to_vec(), args[i..].to_vec())
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("remu run: {msg} (see 'remu run --help')");
    ExitCode::from(2)
}

/// The `run` subcommand.
pub fn main(args: &[OsString]) -> ExitCode {
    let (opts, rest) = split_at_program(args);
    let mut clap_args: Vec<OsString> = vec!["remu run".into()];
    clap_args.extend(opts.iter().cloned());
    if let Some(p) = rest.first() {
        clap_args.push("--".into());
        clap_args.push(p.clone());
    }
    let parsed = match RunArgs::try_parse_from(&clap_args) {
        Ok(p) => p,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{}", e.render());
                return ExitCode::SUCCESS;
            }
            // clap's message is its first paragraph (a line, maybe continued by indented
            // lines); usage and tips follow and are dropped.
            let text = e.to_string();
            let para: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
            let msg = para.join(" ");
            let msg = msg.strip_prefix("error: ").unwrap_or(&msg).replace("<PROGRAM>", "PROGRAM");
            return usage_error(if msg.is_empty() { "invalid arguments" } else { &msg });
        }
    };
    let guest_args: Vec<OsString> = rest.iter().skip(1).cloned().collect();

    let flags = match parsed.debug.as_deref() {
        Some("help") => {
            println!("log items: in_asm, op, op_opt, out_asm, exec, unimp, guest_errors");
            return ExitCode::SUCCESS;
        }
        Some(d) => match accel_tcg::LogFlags::parse(d) {
            Ok(f) => f,
            Err(e) => return usage_error(&e),
        },
        None => accel_tcg::LogFlags::default(),
    };
    let log = match &parsed.logfile {
        Some(p) => match if parsed.log_append {
            accel_tcg::Logger::append(flags, p)
        } else {
            accel_tcg::Logger::file(flags, p)
        } {
            Ok(l) => l,
            Err(e) => {
                eprintln!("remu run: cannot open log file {}: {}", p.display(), first_line(&e));
                return ExitCode::from(1);
            }
        },
        None => accel_tcg::Logger::stderr(flags),
    };

    let jit_opts = backend_jit::JitOptions {
        profiling: parsed.perfmap,
        cache_size: parsed.tb_size,
        ..backend_jit::JitOptions::default()
    };
    let cannot_start = |e: backend_jit::JitError| {
        eprintln!("remu run: cannot start the JIT: {e} (use --backend interp)");
        ExitCode::from(1)
    };
    let new_jit = || backend_jit::JitBackend::new(jit_opts).map_err(cannot_start);
    let baseline = || backend_jit::baseline::BaselineBackend::new(jit_opts).map_err(cannot_start);
    let result = if parsed.crosscheck {
        // the compiled backend checked: the baseline tier with --backend baseline, else the JIT
        let test: Result<Box<dyn ir::backend::Backend>, _> = match parsed.backend {
            BackendChoice::Baseline => baseline().map(|b| Box::new(b) as _),
            _ => new_jit().map(|j| Box::new(j) as _),
        };
        test.map(|test| linux_user::Backends::Crosscheck {
            reference: Box::new(backend_interp::InterpBackend::new()),
            test,
        })
    } else {
        match parsed.backend {
            BackendChoice::Interp => Ok(linux_user::Backends::One(Box::new(backend_interp::InterpBackend::new()))),
            BackendChoice::Jit => new_jit().map(|j| linux_user::Backends::One(Box::new(j))),
            BackendChoice::Baseline => baseline().map(|b| linux_user::Backends::One(Box::new(b))),
            // the two tiers share the JIT's code cache, and their blocks chain to each other
            BackendChoice::Auto => new_jit().map(|j| linux_user::Backends::Tiered {
                cold: Box::new(j.baseline(parsed.jit_threshold.max(1))),
                hot: Box::new(j),
                tier: accel_tcg::TierOptions {
                    threshold: parsed.jit_threshold.max(1),
                    background: !parsed.jit_sync,
                    warmup: std::time::Duration::from_millis(parsed.jit_warmup),
                },
            }),
        }
    };
    let backends = match result {
        Ok(b) => b,
        Err(c) => return c,
    };
    let backend_name = match parsed.backend {
        BackendChoice::Auto => "auto",
        BackendChoice::Interp => "interp",
        BackendChoice::Baseline => "baseline",
        BackendChoice::Jit => "jit",
    };

    // The program's environment: remu's own, with -U then -E applied.
    let mut env: Vec<OsString> = Vec::new();
    for (k, v) in std::env::vars_os() {
        if parsed.unset_env.iter().any(|u| u == &k) || parsed.set_env.iter().any(|e| env_key(e) == k.as_bytes()) {
            continue;
        }
        let mut s = k;
        s.push("=");
        s.push(v);
        env.push(s);
    }
    for e in &parsed.set_env {
        if !e.as_bytes().contains(&b'=') {
            return usage_error(&format!("-E expects VAR=VALUE, got '{}'", e.to_string_lossy()));
        }
        env.push(e.clone());
    }

    // Options a guest execve of another guest program runs remu with.
    let mut reexec: Vec<OsString> = vec!["--backend".into(), backend_name.into()];
    if let Some(r) = &parsed.sysroot {
        reexec.push("-L".into());
        reexec.push(r.clone().into_os_string());
    }
    if let Some(d) = &parsed.debug {
        reexec.push("-d".into());
        reexec.push(d.into());
    }
    if let Some(p) = &parsed.logfile {
        // The child appends to the same file (made absolute: the guest may change directory).
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
        reexec.push("-D".into());
        reexec.push(abs.into_os_string());
        reexec.push("--log-append".into());
    }
    if parsed.strace {
        reexec.push("--strace".into());
    }
    if parsed.crosscheck {
        reexec.push("--crosscheck".into());
    }
    if parsed.stats {
        reexec.push("--stats".into());
    }
    reexec.push("--jit-threshold".into());
    reexec.push(parsed.jit_threshold.to_string().into());
    reexec.push("--jit-warmup".into());
    reexec.push(parsed.jit_warmup.to_string().into());
    reexec.push("--tb-size".into());
    reexec.push(format!("{}K", parsed.tb_size >> 10).into());
    if parsed.jit_sync {
        reexec.push("--jit-sync".into());
    }

    let program = PathBuf::from(&parsed.program);
    let cfg = linux_user::Config {
        program: program.clone(),
        argv0: parsed.argv0.clone(),
        args: guest_args,
        env,
        sysroot: parsed.sysroot.clone(),
        strace: parsed.strace,
        stats: parsed.stats,
        perfmap: parsed.perfmap,
        log,
        reexec_opts: reexec,
        sigpipe_ignored: parsed.sigpipe_ignored,
    };
    match linux_user::run(cfg, backends) {
        Ok(never) => match never {},
        Err(msg) => {
            eprintln!("remu run: {}: {msg}", program.display());
            ExitCode::from(1)
        }
    }
}

fn env_key(e: &OsStr) -> &[u8] {
    let b = e.as_bytes();
    b.split(|&c| c == b'=').next().unwrap_or(b)
}

fn first_line(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn options_stop_at_program() {
        let (o, r) = split_at_program(&v(&["-L", "/sys", "--strace", "prog", "-l", "--strace"]));
        assert_eq!(o, v(&["-L", "/sys", "--strace"]));
        assert_eq!(r, v(&["prog", "-l", "--strace"]));
        let (o, r) = split_at_program(&v(&["--", "-weird", "x"]));
        assert!(o.is_empty());
        assert_eq!(r, v(&["-weird", "x"]));
        let (o, r) = split_at_program(&v(&["--bogus"]));
        assert_eq!(o, v(&["--bogus"]));
        assert!(r.is_empty());
    }
}
