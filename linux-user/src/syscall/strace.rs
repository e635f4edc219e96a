//! `--strace` (QEMU's `-strace`, `linux-user/strace.c`): one line per guest system call,
//! `PID name(arguments) = result`, with strings, flags and well-known constants decoded,
//! written to the log (stderr or `-D FILE`). The line is written when the call returns;
//! calls that do not return (exit, execve) are written before.

use super::nr::Sysno;
use crate::arch::Target;
use crate::host::{Errno, SysResult};
use crate::process::Thread;

/// How an argument is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum A {
    /// Signed decimal.
    D,
    /// Unsigned decimal.
    U,
    /// Hexadecimal.
    X,
    /// Pointer (hex, NULL for 0).
    P,
    /// A path or other string.
    S,
    /// A directory fd (AT_FDCWD spelled out).
    Dfd,
    /// Octal mode.
    O,
    /// open flags.
    Of,
    /// mmap/mprotect protection.
    Pr,
    /// mmap flags.
    Mf,
    /// A signal number.
    Sg,
    /// A buffer whose length is the next argument (shown for writes).
    B,
    /// A NULL-terminated array of strings (argv).
    V,
}

fn spec(s: Sysno) -> &'static [A] {
    use Sysno::*;
    use A::*;
    match s {
        read => &[D, P, U],
        pread64 => &[D, P, U, D],
        write => &[D, B, U],
        pwrite64 => &[D, B, U, D],
        openat => &[Dfd, S, Of, O],
        close | dup | fsync | fdatasync | fchdir | syncfs => &[D],
        dup3 => &[D, D, X],
        lseek => &[D, D, D],
        readv | writev => &[D, P, D],
        getdents64 => &[D, P, U],
        mkdirat => &[Dfd, S, O],
        unlinkat => &[Dfd, S, X],
        renameat2 => &[Dfd, S, Dfd, S, X],
        linkat => &[Dfd, S, Dfd, S, X],
        symlinkat => &[S, Dfd, S],
        readlinkat => &[Dfd, S, P, U],
        faccessat => &[Dfd, S, O],
        faccessat2 => &[Dfd, S, O, X],
        fchmod => &[D, O],
        fchmodat => &[Dfd, S, O],
        fchownat => &[Dfd, S, D, D, X],
        fchown => &[D, D, D],
        newfstatat => &[Dfd, S, P, X],
        fstat => &[D, P],
        statx => &[Dfd, S, X, X, P],
        statfs => &[S, P],
        fstatfs => &[D, P],
        utimensat => &[Dfd, S, P, X],
        ftruncate => &[D, D],
        truncate => &[S, D],
        chdir | chroot => &[S],
        getcwd => &[P, U],
        umask => &[O],
        pipe2 => &[P, X],
        fcntl => &[D, D, X],
        ioctl => &[D, X, X],
        ppoll => &[P, U, P, P, U],
        pselect6 => &[D, P, P, P, P, P],
        brk => &[P],
        mmap => &[P, U, Pr, Mf, D, X],
        munmap => &[P, U],
        mprotect => &[P, U, Pr],
        mremap => &[P, U, U, X, P],
        madvise => &[P, U, D],
        exit | exit_group => &[D],
        clone => &[X, P, P, P, P],
        execve => &[S, V, P],
        execveat => &[Dfd, S, V, P, X],
        wait4 => &[D, P, X, P],
        kill => &[D, Sg],
        tkill => &[D, Sg],
        tgkill => &[D, D, Sg],
        rt_sigaction => &[Sg, P, P, U],
        rt_sigprocmask => &[D, P, P, U],
        rt_sigreturn => &[],
        rt_sigsuspend => &[P, U],
        sigaltstack => &[P, P],
        set_tid_address => &[P],
        futex => &[P, D, D, P, P, D],
        set_robust_list => &[P, U],
        clock_gettime | clock_getres => &[D, P],
        gettimeofday => &[P, P],
        nanosleep => &[P, P],
        clock_nanosleep => &[D, D, P, P],
        getrandom => &[P, U, X],
        uname | sysinfo | times => &[P],
        prlimit64 => &[D, D, P, P],
        getrlimit | setrlimit => &[D, P],
        getrusage => &[D, P],
        prctl => &[D, X, X, X, X],
        getpid | getppid | gettid | getuid | geteuid | getgid | getegid | setsid | sched_yield | sync => &[],
        setpgid => &[D, D],
        getpgid | getsid => &[D],
        sched_getaffinity | sched_setaffinity => &[D, U, P],
        socket => &[D, D, D],
        connect | bind => &[D, P, U],
        sendfile => &[D, D, P, U],
        copy_file_range => &[D, P, D, P, U, X],
        epoll_create1 => &[X],
        epoll_ctl => &[D, D, D, P],
        epoll_pwait => &[D, P, D, D, P, U],
        eventfd2 => &[U, X],
        membarrier => &[D, X, D],
        rseq => &[P, U, X, X],
        riscv_hwprobe => &[P, U, U, P, X],
        _ => &[X, X, X, X, X, X],
    }
}

fn escape(b: &[u8], max: usize) -> String {
    let mut s = String::from("\"");
    for &c in b.iter().take(max) {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\{c:o}")),
        }
    }
    s.push('"');
    if b.len() > max {
        s.push_str("...");
    }
    s
}

fn flags(v: u64, names: &[(u64, &str)], zero: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = v;
    for &(bit, name) in names {
        if bit != 0 && v & bit == bit {
            parts.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 || parts.is_empty() && !zero.is_empty() && v != 0 {
        parts.push(format!("{rest:#x}"));
    }
    if parts.is_empty() {
        return zero.to_string();
    }
    parts.join("|")
}

fn open_flags(v: u64) -> String {
    let acc = match v & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    };
    let rest = flags(
        v & !3,
        &[
            (0o100, "O_CREAT"),
            (0o200, "O_EXCL"),
            (0o400, "O_NOCTTY"),
            (0o1000, "O_TRUNC"),
            (0o2000, "O_APPEND"),
            (0o4000, "O_NONBLOCK"),
            (0o10000, "O_DSYNC"),
            (0o40000, "O_DIRECT"),
            (0o100000, "O_LARGEFILE"),
            (0o200000, "O_DIRECTORY"),
            (0o400000, "O_NOFOLLOW"),
            (0o1000000, "O_NOATIME"),
            (0o2000000, "O_CLOEXEC"),
            (0o10000000, "O_PATH"),
        ],
        "",
    );
    if rest.is_empty() {
        acc.to_string()
    } else {
        format!("{acc}|{rest}")
    }
}

fn arg<T: Target>(t: &Thread<T>, k: A, v: u64, next: u64) -> String {
    let mem = &t.proc.mem;
    match k {
        A::D => format!("{}", v as i64 as i32 as i64),
        A::U => format!("{v}"),
        A::X => format!("{v:#x}"),
        A::P => {
            if v == 0 {
                "NULL".into()
            } else {
                format!("{v:#x}")
            }
        }
        A::S => {
            if v == 0 {
                return "NULL".into();
            }
            match mem.read_cstr(v, 4096) {
                Ok(s) => escape(&s, 256),
                Err(_) => format!("{v:#x}"),
            }
        }
        A::B => match mem.read_vec(v, next.min(32) as usize) {
            Ok(b) => escape(&b, 32) + if next > 32 { "..." } else { "" },
            Err(_) => format!("{v:#x}"),
        },
        A::Dfd => {
            if v as i32 == libc::AT_FDCWD {
                "AT_FDCWD".into()
            } else {
                format!("{}", v as i32)
            }
        }
        A::O => format!("{:#o}", v as u32),
        A::Of => open_flags(v),
        A::Pr => flags(v, &[(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")], "PROT_NONE"),
        A::Mf => {
            let ty = match v & 0xf {
                1 => "MAP_SHARED",
                2 => "MAP_PRIVATE",
                3 => "MAP_SHARED_VALIDATE",
                _ => "",
            };
            let rest = flags(
                v & !0xf,
                &[
                    (0x10, "MAP_FIXED"),
                    (0x20, "MAP_ANONYMOUS"),
                    (0x100, "MAP_GROWSDOWN"),
                    (0x800, "MAP_DENYWRITE"),
                    (0x1000, "MAP_EXECUTABLE"),
                    (0x2000, "MAP_LOCKED"),
                    (0x4000, "MAP_NORESERVE"),
                    (0x8000, "MAP_POPULATE"),
                    (0x20000, "MAP_STACK"),
                    (0x100000, "MAP_FIXED_NOREPLACE"),
                ],
                "",
            );
            match (ty.is_empty(), rest.is_empty()) {
                (false, false) => format!("{ty}|{rest}"),
                (false, true) => ty.into(),
                (true, _) => format!("{v:#x}"),
            }
        }
        A::Sg => signame(v as i32),
        A::V => {
            let mut parts = Vec::new();
            for k in 0..32u64 {
                match mem.read_u64(v.wrapping_add(8 * k)) {
                    Ok(0) => {
                        parts.push("NULL".to_string());
                        break;
                    }
                    Ok(p) => {
                        parts.push(mem.read_cstr(p, 4096).map(|b| escape(&b, 64)).unwrap_or_else(|_| format!("{p:#x}")))
                    }
                    Err(_) => {
                        parts.push(format!("{:#x}", v.wrapping_add(8 * k)));
                        break;
                    }
                }
            }
            format!("{{{}}}", parts.join(","))
        }
    }
}

/// The name of a signal (`SIGINT`), or its number.
pub fn signame(s: i32) -> String {
    const N: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match s {
        0..=31 => N[s as usize].to_string(),
        32..=64 => format!("SIGRT{}", s - 32),
        _ => format!("{s}"),
    }
}

/// `name(arguments)`.
pub fn format_call<T: Target>(t: &Thread<T>, s: Sysno, a: &[u64; 6]) -> String {
    let sp = spec(s);
    let args: Vec<String> =
        sp.iter().enumerate().map(|(k, &kind)| arg(t, kind, a[k], a.get(k + 1).copied().unwrap_or(0))).collect();
    format!("{}({})", s.name(), args.join(","))
}

/// ` = result` (errors as `-1 errno=N (text)`).
pub fn format_ret<T: Target>(t: &Thread<T>, s: Sysno, a: &[u64; 6], r: &SysResult) -> String {
    match r {
        Ok(v) => match s {
            Sysno::mmap | Sysno::brk | Sysno::mremap => format!(" = {v:#x}"),
            Sysno::read | Sysno::pread64 if *v > 0 => {
                let shown =
                    t.proc.mem.read_vec(a[1], (*v).min(32) as usize).map(|b| escape(&b, 32)).unwrap_or_default();
                format!(" = {v} {shown}")
            }
            _ => format!(" = {}", *v as i64),
        },
        Err(Errno(super::EJUSTRETURN)) => " = 0".to_string(),
        Err(Errno(e)) if *e >= 512 => " = ? (interrupted, restarting)".to_string(),
        Err(e) => format!(" = -1 {}", e.describe()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_decoding() {
        assert_eq!(open_flags(0), "O_RDONLY");
        assert_eq!(open_flags(0o2000000 | 0o100 | 1), "O_WRONLY|O_CREAT|O_CLOEXEC");
        assert_eq!(flags(0, &[(1, "PROT_READ")], "PROT_NONE"), "PROT_NONE");
        assert_eq!(flags(3, &[(1, "PROT_READ"), (2, "PROT_WRITE")], "PROT_NONE"), "PROT_READ|PROT_WRITE");
        assert_eq!(flags(9, &[(1, "PROT_READ")], "PROT_NONE"), "PROT_READ|0x8");
        assert_eq!(escape(b"a\n\x01", 10), "\"a\\n\\1\"");
        assert_eq!(signame(2), "SIGINT");
        assert_eq!(signame(34), "SIGRT2");
    }
}
