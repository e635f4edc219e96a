//! Guest system calls (QEMU's `linux-user/syscall.c`): the dispatcher, and the calls about
//! memory. Files are in `fs.rs`, processes, signals, time and identity in `proc.rs`,
//! sockets in `net.rs`, the `--strace` printer in `strace.rs`. Per-ISA numbers are in
//! `riscv64.rs`, names in `nr.rs`.
//!
//! Every call validates guest pointers against the guest page table (`EFAULT`), passes
//! numbers through where the ABIs agree (errno, signal, flag and ioctl numbers are Linux's
//! generic ones on every supported ISA), and converts structures whose layout or byte order
//! differs. Unknown calls return `ENOSYS` and are reported under `-d unimp`. Nothing a guest
//! passes can make remu panic: arithmetic on guest values is checked or wrapping.

pub mod fs;
pub mod net;
pub mod nr;
pub mod proc;
pub mod riscv64;
pub mod strace;

use std::ffi::CString;

use crate::arch::Target;
use crate::host::{Errno, SysResult, ERESTARTNOHAND, ERESTARTSYS};
use crate::mmap::{mapf, Backing, VmaName};
use crate::process::Thread;
use nr::Sysno;

/// Internal: the call set the registers itself (rt_sigreturn); leave them alone.
pub const EJUSTRETURN: i32 = 4096 + 2;

/// How the CPU loop finishes a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Store the value and move past the call.
    Return(u64),
    /// Interrupted by a signal: `ERESTARTSYS` or `ERESTARTNOHAND`.
    Restart(i32),
    /// Registers already set.
    JustReturn,
    /// This thread ends (exit in a multi-threaded process) with this code.
    ThreadExit(i32),
}

/// Converts a result to the value the guest sees.
pub fn encode(r: SysResult) -> u64 {
    match r {
        Ok(v) => v,
        Err(Errno(e)) => (-(e as i64)) as u64,
    }
}

/// Runs system call `nr` for `t`.
pub fn dispatch<T: Target>(t: &mut Thread<T>, nr: u64, a: [u64; 6]) -> Outcome {
    let Some(s) = T::sysno(nr) else {
        t.proc.log_unimp(&format!("system call {nr}"));
        if t.proc.cfg.strace {
            t.proc.cfg.log.write(&format!("{} unknown syscall {nr} = -1 errno=38 (Function not implemented)\n", t.tid));
        }
        return Outcome::Return(encode(Err(Errno(libc::ENOSYS))));
    };
    let trace = t.proc.cfg.strace;
    let pre = if trace { Some(strace::format_call(t, s, &a)) } else { None };
    // Calls that may not return are logged before they run (the result follows on failure).
    let early = matches!(s, Sysno::exit | Sysno::exit_group | Sysno::execve | Sysno::execveat | Sysno::rt_sigreturn);
    if let Some(p) = &pre {
        if early {
            t.proc.cfg.log.write(&format!("{} {p}\n", t.tid));
        }
    }
    if s == Sysno::exit {
        return proc::exit_thread(t, a[0] as i32);
    }
    let r = call(t, s, a);
    if let Some(p) = pre {
        if !early {
            let line = strace::format_ret(t, s, &a, &r);
            t.proc.cfg.log.write(&format!("{} {p}{line}\n", t.tid));
        } else if let Err(e) = r {
            if e.0 != EJUSTRETURN {
                t.proc.cfg.log.write(&format!("{} {} = -1 {}\n", t.tid, s.name(), e.describe()));
            }
        }
    }
    match r {
        // Waits that Linux never restarts after a handler ran, whatever SA_RESTART says.
        Err(Errno(ERESTARTSYS))
            if matches!(
                s,
                Sysno::ppoll
                    | Sysno::pselect6
                    | Sysno::epoll_pwait
                    | Sysno::epoll_pwait2
                    | Sysno::nanosleep
                    | Sysno::clock_nanosleep
                    | Sysno::rt_sigtimedwait
            ) =>
        {
            Outcome::Restart(ERESTARTNOHAND)
        }
        Err(Errno(ERESTARTSYS)) => Outcome::Restart(ERESTARTSYS),
        Err(Errno(ERESTARTNOHAND)) => Outcome::Restart(ERESTARTNOHAND),
        Err(Errno(EJUSTRETURN)) => Outcome::JustReturn,
        r => Outcome::Return(encode(r)),
    }
}

fn call<T: Target>(t: &mut Thread<T>, s: Sysno, a: [u64; 6]) -> SysResult {
    use Sysno::*;
    let mem = t.proc.mem.clone();
    match s {
        // Memory.
        brk => Ok(mem.brk(a[0])),
        mmap => sys_mmap(t, a),
        munmap => mem.munmap(a[0], a[1]).map(|_| 0),
        mprotect => mem.mprotect(a[0], a[1], a[2] as i32).map(|_| 0),
        mremap => mem.mremap(a[0], a[1], a[2], a[3] as u32, a[4]),
        madvise => mem.madvise(a[0], a[1], a[2] as i32).map(|_| 0),
        msync => mem.msync(a[0], a[1], a[2] as i32).map(|_| 0),
        mlock | munlock | mlock2 => mem.check(a[0], a[1], 0).map(|_| 0),
        mlockall | munlockall => Ok(0),
        mincore => sys_mincore(t, a),
        riscv_flush_icache => {
            // riscv_flush_icache(start, end, flags): instruction fetches from [start, end) see
            // earlier stores. Stores through the guest's own addresses have already
            // invalidated what they overwrote (code pages are watched); this call is what
            // covers the rest: code written through another mapping of the same memory (a
            // RW view of a memfd executed through a RX view) or by the kernel. Only the range
            // is dropped: everything would make each call of a guest JIT retranslate (and
            // recompile) all the program's code. An empty range drops everything.
            let (start, end) = (a[0], a[1]);
            if start < end {
                t.proc.tcg.invalidate_range(start, end - start);
            } else {
                t.proc.tcg.invalidate_range(0, mem.va_limit());
            }
            Ok(0)
        }
        _ => {
            if let Some(r) = fs::dispatch(t, s, a) {
                return r;
            }
            if let Some(r) = proc::dispatch(t, s, a) {
                return r;
            }
            if let Some(r) = net::dispatch(t, s, a) {
                return r;
            }
            t.proc.log_unimp(&format!("system call {}", s.name()));
            Err(Errno(libc::ENOSYS))
        }
    }
}

fn sys_mmap<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let (addr, len, prot, flags, fd, off) = (a[0], a[1], a[2] as i32, a[3] as u32, a[4] as i32, a[5]);
    let mem = &t.proc.mem;
    if flags & mapf::ANONYMOUS != 0 {
        return mem.mmap(addr, len, prot, flags, Backing::Anon, VmaName::Anon);
    }
    // A file mapping: name it after the file for /proc/self/maps.
    let name = fd_name(fd).unwrap_or(VmaName::Anon);
    let r = mem.mmap(addr, len, prot, flags, Backing::File { fd, offset: off }, name);
    if r.is_err() && fd >= 0 && crate::host::call(libc::SYS_fcntl, [fd.into(), libc::F_GETFD.into()]).is_err() {
        return Err(Errno(libc::EBADF));
    }
    r
}

fn fd_name(fd: i32) -> Option<VmaName> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    let md = std::fs::metadata(&link).ok()?;
    use std::os::unix::fs::MetadataExt;
    Some(VmaName::File { path: link.to_string_lossy().into_owned(), dev: md.dev(), ino: md.ino() })
}

fn sys_mincore<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = &t.proc.mem;
    if !a[0].is_multiple_of(crate::mmap::PAGE) {
        return Err(Errno(libc::EINVAL));
    }
    let len = crate::mmap::page_up(a[1]).ok_or(Errno(libc::ENOMEM))?;
    if len == 0 {
        return Ok(0);
    }
    if !mem.fully_mapped(a[0], len) {
        return Err(Errno(libc::ENOMEM));
    }
    // Every mapped page is reported resident (remu does not track residency).
    let v = vec![1u8; (len / crate::mmap::PAGE) as usize];
    mem.write(a[2], &v)?;
    Ok(0)
}

/// Reads a guest path and maps it to the host path to use (sysroot lookup).
pub fn host_path<T: Target>(t: &Thread<T>, addr: u64) -> SysResult<CString> {
    let g = guest_path(t, addr)?;
    Ok(crate::path::resolve_c(t.proc.cfg.sysroot.as_deref(), &g))
}

/// Reads a guest path (at most PATH_MAX bytes).
pub fn guest_path<T: Target>(t: &Thread<T>, addr: u64) -> SysResult<Vec<u8>> {
    let p = t.proc.mem.read_cstr(addr, 4096)?;
    Ok(p)
}

/// Reads a NULL-terminated array of guest string pointers (argv, envp).
pub fn string_array<T: Target>(t: &Thread<T>, addr: u64) -> SysResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0usize;
    for i in 0..(1u64 << 17) {
        let p = t.proc.mem.read_u64(addr.checked_add(i * 8).ok_or(Errno(libc::EFAULT))?)?;
        if p == 0 {
            return Ok(out);
        }
        let s = t.proc.mem.read_cstr(p, 1 << 17)?;
        total += s.len() + 1 + 8;
        if total > 2 << 20 {
            return Err(Errno(libc::E2BIG));
        }
        out.push(s);
    }
    Err(Errno(libc::E2BIG))
}
