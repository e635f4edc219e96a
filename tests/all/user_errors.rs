//! User mode, bad input: every case gives exactly one line on stderr naming the problem, a
//! non-zero exit status, and never a panic or a backtrace.

use std::path::Path;

use super::user_common::*;

fn one_line_error(what: &str, args: &[std::ffi::OsString], expect: &str) {
    let r = remu_run(args).env("RUST_BACKTRACE", "1").run();
    let err = r.err();
    assert!(r.status.code().is_some_and(|c| c != 0), "{what}: expected a failure exit status, got {}", r.how());
    assert!(err.ends_with('\n') && err.matches('\n').count() == 1, "{what}: expected one line on stderr, got:\n{err}");
    assert!(err.starts_with("remu run: "), "{what}: {err}");
    assert!(err.contains(expect), "{what}: expected '{expect}' in: {err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{what}: {err}");
    assert!(r.stdout.is_empty(), "{what}: unexpected stdout {}", r.out());
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> std::ffi::OsString {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    os(&p)
}

#[test]
fn user_errors_missing_file_directory_and_non_elf() {
    let d = tmpdir("user-errors");
    one_line_error("missing file", &[os(&d.join("no-such-program"))], "No such file or directory");
    one_line_error("directory", &[os(&d)], "is a directory");
    one_line_error("text file", &[write_file(&d, "script.txt", b"hello world\n")], "not an ELF executable");
    one_line_error("empty file", &[write_file(&d, "empty", b"")], "not an ELF executable");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn user_errors_truncated_and_corrupt_elf() {
    let d = tmpdir("user-errors-elf");
    let bb = std::fs::read(busybox()).unwrap();
    one_line_error("ELF header only", &[write_file(&d, "t1", &bb[..20])], "truncated ELF file");
    one_line_error("cut in the program headers", &[write_file(&d, "t2", &bb[..100])], "truncated ELF file");
    one_line_error("cut in a segment", &[write_file(&d, "t3", &bb[..20_000])], "truncated ELF file");
    let mut bad = bb.clone();
    bad[54] = 12; // e_phentsize
    one_line_error("bad program header size", &[write_file(&d, "c1", &bad)], "corrupt ELF file");
    let mut bad = bb.clone();
    bad[56] = 0; // e_phnum
    bad[57] = 0;
    one_line_error("no program headers", &[write_file(&d, "c2", &bad)], "corrupt ELF file");
    let mut bad = bb.clone();
    bad[16] = 1; // ET_REL
    one_line_error("relocatable object", &[write_file(&d, "c3", &bad)], "not an executable");
    let mut bad = bb.clone();
    bad[4] = 1; // ELFCLASS32
    one_line_error("32-bit", &[write_file(&d, "c4", &bad)], "32-bit");
    // The first PT_LOAD (after PT_RISCV_ATTRIBUTES) made larger in the file than in memory.
    let mut bad = bb.clone();
    let ph = 64 + 56;
    let memsz = u64::from_le_bytes(bad[ph + 40..ph + 48].try_into().unwrap());
    bad[ph + 32..ph + 40].copy_from_slice(&(memsz + 0x1000).to_le_bytes());
    one_line_error("filesz > memsz", &[write_file(&d, "c5", &bad)], "ELF file");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn user_errors_unsupported_machines() {
    one_line_error("x86-64 ELF", &[os(&asset("x86_64/busybox"))], "unsupported machine");
    one_line_error("s390x ELF", &[os(&asset("s390x/busybox"))], "s390x");
}

#[test]
fn user_errors_dynamic_program_without_its_interpreter() {
    let d = tmpdir("user-errors-root");
    // An empty sysroot: the interpreter is looked up there, then on the host (which has none
    // for riscv64 at that path).
    let ls = sysroot().join("usr/bin/ls");
    one_line_error("no interpreter", &["-L".into(), os(&d), os(&ls)], "program interpreter");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn user_errors_bad_options() {
    let bb = os(&busybox());
    one_line_error("unknown option", &["--bogus".into(), bb.clone()], "--bogus");
    one_line_error("no program", &[], "PROGRAM");
    one_line_error("option without its value", &["-L".into()], "-L");
    one_line_error("bad -d item", &["-d".into(), "in_asm,nonsense".into(), bb.clone()], "nonsense");
    one_line_error("bad backend", &["--backend".into(), "gpu".into(), bb.clone()], "gpu");
    one_line_error("bad -E", &["-E".into(), "NOEQUALS".into(), bb.clone()], "VAR=VALUE");
    let d = tmpdir("user-errors-log");
    one_line_error("unwritable log", &["-D".into(), os(&d.join("no/such/dir/log")), bb], "log file");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn user_errors_help_and_guest_options_after_program() {
    let r = remu_run(["--help"]).run();
    assert!(r.status.success(), "{}", r.how());
    assert!(r.out().contains("PROGRAM") && r.out().contains("--strace") && r.out().contains("-L"), "{}", r.out());
    // Options after PROGRAM belong to the guest, even remu's own spellings.
    let r = remu_run([os(&busybox()), "echo".into(), "--help".into(), "-L".into(), "--strace".into()]).run();
    assert_eq!(r.out(), "--help -L --strace\n");
    assert!(r.err().is_empty(), "{}", r.err());
}

#[test]
fn user_errors_environment_options() {
    let r = remu_run([
        "-E".into(),
        "REMU_T1=one".into(),
        "-U".into(),
        "HOME".into(),
        "-E".into(),
        "PATH=/x".into(),
        os(&busybox()),
        "sh".into(),
        "-c".into(),
        "echo $REMU_T1 ${HOME-unset} $PATH".into(),
    ])
    .env("HOME", "/somewhere")
    .run();
    assert_eq!(r.out(), "one unset /x\n", "{}", r.err());
}

#[test]
fn user_errors_guest_garbage_syscalls_never_crash_remu() {
    // guests/riscv64/sysfuzz makes every system call number with garbage arguments; remu
    // must answer each (errors are fine) and the program must finish normally, also with
    // --strace, whose printer reads the same garbage pointers.
    let prog = guest_program("sysfuzz");
    for strace in [false, true] {
        let mut args = vec![];
        if strace {
            args.push("--strace".into());
        }
        args.push(os(&prog));
        let r = remu_run(args).run();
        assert!(
            r.status.success(),
            "sysfuzz (strace {strace}): {}\n{}",
            r.how(),
            &r.err()[r.err().len().saturating_sub(2000)..]
        );
        assert!(r.out().starts_with("done, calls: "), "{}", r.out());
        assert!(!r.err().contains("panicked"), "{}", r.err());
        if strace {
            assert!(r.err().lines().count() > 3000, "one strace line per call");
        }
    }
}
