//! User mode, diagnostics: `--strace` (one decoded line per system call), `-D FILE` (shared by
//! the processes a guest starts with execve), `-d unimp` (one line per unknown system call),
//! `-d in_asm`, `--stats`, and the emulated `/proc/self` files.

use super::user_common::*;

#[test]
fn user_logging_strace_decodes_calls_and_results() {
    let r = remu_run(["--strace".into(), os(&busybox()), "echo".into(), "hi".into()]).run();
    assert_eq!(r.out(), "hi\n");
    let err = r.err();
    let pid_prefix = |l: &str| l.split(' ').next().is_some_and(|p| p.parse::<u32>().is_ok());
    assert!(err.lines().all(pid_prefix), "every strace line starts with the pid:\n{err}");
    assert!(err.lines().any(|l| l.ends_with(" write(1,\"hi\\n\",3) = 3")), "{err}");
    assert!(err.lines().any(|l| l.ends_with(" exit_group(0)")), "{err}");
    assert!(err.contains(" brk(NULL) = 0x"), "{err}");
    let r = remu_run(["--strace".into(), os(&busybox()), "cat".into(), "/no/such/file".into()]).run();
    assert!(
        r.err().contains("openat(AT_FDCWD,\"/no/such/file\",O_RDONLY")
            && r.err().contains("= -1 errno=2 (No such file or directory)"),
        "{}",
        r.err()
    );
}

#[test]
fn user_logging_log_file_is_shared_across_execve() {
    let d = tmpdir("user-logging");
    let log = d.join("remu.log");
    let bb = busybox();
    let script = format!("{} echo from-child", bb.display());
    let r = remu_run(["-D".into(), os(&log), "--strace".into(), os(&bb), "sh".into(), "-c".into(), script.into()])
        .cwd(&d)
        .run();
    assert_eq!(r.out(), "from-child\n");
    assert_eq!(r.err(), "", "with -D nothing goes to stderr");
    let text = std::fs::read_to_string(&log).expect("log file");
    assert!(text.contains("write(1,\"from-child\\n\",11) = 11"), "the child's calls are logged:\n{text}");
    assert!(text.contains("execve("), "the parent's execve is logged:\n{text}");
    // Both programs (the shell, then busybox echo it executes in place) start by probing
    // riscv_hwprobe: the second did not truncate the first's log.
    assert!(text.matches("riscv_hwprobe(").count() >= 2, "both programs log to the same file:\n{text}");
    let exec_at = text.find("execve(").unwrap_or(usize::MAX);
    assert!(exec_at < text.find("from-child").unwrap_or(0), "the execve comes first:\n{text}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn user_logging_unimp_and_in_asm_and_stats() {
    let bb = busybox();
    // glibc probes riscv_hwprobe at start-up, which remu does not provide.
    let r = remu_run(["-d".into(), "unimp".into(), os(&bb), "true".into()]).run();
    assert!(r.status.success());
    let err = r.err();
    assert!(err.lines().any(|l| l.contains("unimplemented") && l.contains("riscv_hwprobe")), "{err}");
    let d = tmpdir("user-logging-asm");
    let log = d.join("asm.log");
    let r =
        remu_run(["-d".into(), "in_asm".into(), "-D".into(), os(&log), "--stats".into(), os(&bb), "true".into()]).run();
    assert!(r.status.success());
    let text = std::fs::read_to_string(&log).expect("log file");
    assert!(text.contains("IN:"), "in_asm blocks in the log");
    assert!(
        text.contains("blocks translated"),
        "--stats summary in the log:\n{}",
        &text[text.len().saturating_sub(300)..]
    );
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn user_logging_proc_self_files_describe_the_guest() {
    let bb = busybox();
    let script = "readlink /proc/self/exe; tr '\\0' ' ' < /proc/self/cmdline; echo; \
                  grep -c stack /proc/self/maps; od -A n -t x8 -N 8 /proc/self/auxv | tr -d ' '";
    let r = remu_run([os(&bb), "sh".into(), "-c".into(), script.into()]).run();
    let out = r.out();
    let mut lines = out.lines();
    let canon = std::fs::canonicalize(&bb).unwrap();
    assert_eq!(lines.next(), Some(canon.to_str().unwrap()), "{out}");
    // busybox runs `tr` inside the shell process (a NOFORK applet): the shell's argv.
    assert!(lines.next().is_some_and(|l| l.starts_with(&format!("{} sh -c ", bb.display()))), "{out}");
    assert_eq!(lines.next(), Some("1"), "one [stack] mapping: {out}");
    // The first auxv entry is AT_PHDR (3).
    assert_eq!(lines.next(), Some("0000000000000003"), "{out}");
}
