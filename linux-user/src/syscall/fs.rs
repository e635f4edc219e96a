//! File-system and descriptor system calls: open/read/write and friends, directories, the
//! stat family (converted to the guest's `struct stat`), links, permissions, pipes, dup,
//! fcntl, terminal ioctls, poll/select/epoll, eventfd/timerfd/inotify, xattrs.
//!
//! Guest file descriptors are host file descriptors. Absolute paths go through the sysroot
//! lookup (`path.rs`); `/proc/self/{exe,maps,auxv,cmdline}` describe the guest.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use libc::c_long;

use super::nr::Sysno;
use super::{guest_path, host_path};
use crate::arch::{FileStat, Target};
use crate::host::{self, blocking, call, Arg, Errno, SysResult};
use crate::path::{proc_file, ProcFile};
use crate::process::Thread;

const AT_EMPTY_PATH: u64 = 0x1000;
const F_SETSIG: i32 = 10;
const F_GETSIG: i32 = 11;
const F_SETOWN_EX: i32 = 15;
const F_GETOWN_EX: i32 = 16;

fn i(v: u64) -> Arg {
    Arg::Int(v)
}

/// The file calls; None when `s` is not one of them.
pub fn dispatch<T: Target>(t: &mut Thread<T>, s: Sysno, a: [u64; 6]) -> Option<SysResult> {
    use Sysno::*;
    let mem = t.proc.mem.clone();
    Some(match s {
        openat => sys_openat(t, a[0], a[1], a[2], a[3]),
        close => call(libc::SYS_close, [i(a[0])]),
        read => (|| {
            let (p, n) = mem.ptr_out_prefix(a[1], a[2])?;
            blocking(libc::SYS_read, [i(a[0]), p.into(), i(n)])
        })(),
        write => (|| {
            let (p, n) = mem.ptr_in_prefix(a[1], a[2])?;
            blocking(libc::SYS_write, [i(a[0]), p.into(), i(n)])
        })(),
        pread64 => (|| {
            let (p, n) = mem.ptr_out_prefix(a[1], a[2])?;
            blocking(libc::SYS_pread64, [i(a[0]), p.into(), i(n), i(a[3])])
        })(),
        pwrite64 => (|| {
            let (p, n) = mem.ptr_in_prefix(a[1], a[2])?;
            blocking(libc::SYS_pwrite64, [i(a[0]), p.into(), i(n), i(a[3])])
        })(),
        readv => iov_call(t, libc::SYS_readv, a, true),
        writev => iov_call(t, libc::SYS_writev, a, false),
        preadv => iov_call(t, libc::SYS_preadv, a, true),
        pwritev => iov_call(t, libc::SYS_pwritev, a, false),
        preadv2 => iov_call(t, libc::SYS_preadv2, a, true),
        pwritev2 => iov_call(t, libc::SYS_pwritev2, a, false),
        lseek => call(libc::SYS_lseek, [i(a[0]), i(a[1]), i(a[2])]),
        getdents64 => (|| {
            let (p, n) = mem.ptr_out_prefix(a[1], a[2])?;
            let r = call(libc::SYS_getdents64, [i(a[0]), p.into(), i(n)])?;
            if T::BIG_ENDIAN {
                swap_dirents(t, a[1], r)?;
            }
            Ok(r)
        })(),
        mkdirat => (|| call(libc::SYS_mkdirat, [i(a[0]), (&host_path(t, a[1])?).into(), i(a[2])]))(),
        unlinkat => (|| call(libc::SYS_unlinkat, [i(a[0]), (&host_path(t, a[1])?).into(), i(a[2])]))(),
        renameat2 => (|| {
            let (o, n) = (host_path(t, a[1])?, host_path(t, a[3])?);
            call(libc::SYS_renameat2, [i(a[0]), (&o).into(), i(a[2]), (&n).into(), i(a[4])])
        })(),
        linkat => (|| {
            let (o, n) = (host_path(t, a[1])?, host_path(t, a[3])?);
            call(libc::SYS_linkat, [i(a[0]), (&o).into(), i(a[2]), (&n).into(), i(a[4])])
        })(),
        symlinkat => (|| {
            let target = CString::new(guest_path(t, a[0])?).map_err(|_| Errno(libc::EINVAL))?;
            call(libc::SYS_symlinkat, [(&target).into(), i(a[1]), (&host_path(t, a[2])?).into()])
        })(),
        readlinkat => sys_readlinkat(t, a),
        faccessat => (|| call(libc::SYS_faccessat, [i(a[0]), (&special_path(t, a[1])?).into(), i(a[2])]))(),
        faccessat2 => (|| call(libc::SYS_faccessat2, [i(a[0]), (&special_path(t, a[1])?).into(), i(a[2]), i(a[3])]))(),
        fchmod => call(libc::SYS_fchmod, [i(a[0]), i(a[1])]),
        fchmodat => (|| call(libc::SYS_fchmodat, [i(a[0]), (&host_path(t, a[1])?).into(), i(a[2])]))(),
        fchownat => {
            (|| call(libc::SYS_fchownat, [i(a[0]), (&host_path(t, a[1])?).into(), i(a[2]), i(a[3]), i(a[4])]))()
        }
        fchown => call(libc::SYS_fchown, [i(a[0]), i(a[1]), i(a[2])]),
        utimensat => sys_utimensat(t, a),
        ftruncate => call(libc::SYS_ftruncate, [i(a[0]), i(a[1])]),
        truncate => (|| call(libc::SYS_truncate, [(&host_path(t, a[0])?).into(), i(a[1])]))(),
        fsync => blocking(libc::SYS_fsync, [i(a[0])]),
        fdatasync => blocking(libc::SYS_fdatasync, [i(a[0])]),
        sync => call(libc::SYS_sync, []),
        syncfs => call(libc::SYS_syncfs, [i(a[0])]),
        fallocate => call(libc::SYS_fallocate, [i(a[0]), i(a[1]), i(a[2]), i(a[3])]),
        fadvise64 => call(libc::SYS_fadvise64, [i(a[0]), i(a[1]), i(a[2]), i(a[3])]),
        readahead => call(libc::SYS_readahead, [i(a[0]), i(a[1]), i(a[2])]),
        sync_file_range => call(libc::SYS_sync_file_range, [i(a[0]), i(a[1]), i(a[2]), i(a[3])]),
        flock => blocking(libc::SYS_flock, [i(a[0]), i(a[1])]),
        statfs => (|| {
            let p = host_path(t, a[0])?;
            let mut b = [0u64; 15];
            call(libc::SYS_statfs, [(&p).into(), Arg::Host(b.as_mut_ptr() as *const u8)])?;
            write_statfs(t, a[1], &b)
        })(),
        fstatfs => (|| {
            let mut b = [0u64; 15];
            call(libc::SYS_fstatfs, [i(a[0]), Arg::Host(b.as_mut_ptr() as *const u8)])?;
            write_statfs(t, a[1], &b)
        })(),
        newfstatat => (|| {
            let p = special_path(t, a[1])?;
            let st = host_statx(a[0] as i32, &p, a[3] & (0x100 | AT_EMPTY_PATH | 0x800))?;
            mem.write(a[2], &T::encode_stat(&mem, &st)).map(|_| 0)
        })(),
        fstat => (|| {
            let st = host_statx(a[0] as i32, c"", AT_EMPTY_PATH)?;
            mem.write(a[1], &T::encode_stat(&mem, &st)).map(|_| 0)
        })(),
        statx => (|| {
            let p = special_path(t, a[1])?;
            let out = mem.ptr_out(a[4], 256)?;
            let r = call(libc::SYS_statx, [i(a[0]), (&p).into(), i(a[2]), i(a[3]), out.into()])?;
            if T::BIG_ENDIAN {
                swap_statx(t, a[4])?;
            }
            Ok(r)
        })(),
        sendfile => (|| {
            let off = mem.opt_out(a[2], 8)?;
            blocking(libc::SYS_sendfile, [i(a[0]), i(a[1]), off.into(), i(a[3])])
        })(),
        copy_file_range => (|| {
            let (oi, oo) = (mem.opt_out(a[1], 8)?, mem.opt_out(a[3], 8)?);
            blocking(libc::SYS_copy_file_range, [i(a[0]), oi.into(), i(a[2]), oo.into(), i(a[4]), i(a[5])])
        })(),
        splice => (|| {
            let (oi, oo) = (mem.opt_out(a[1], 8)?, mem.opt_out(a[3], 8)?);
            blocking(libc::SYS_splice, [i(a[0]), oi.into(), i(a[2]), oo.into(), i(a[4]), i(a[5])])
        })(),
        tee => blocking(libc::SYS_tee, [i(a[0]), i(a[1]), i(a[2]), i(a[3])]),
        dup => call(libc::SYS_dup, [i(a[0])]),
        dup3 => call(libc::SYS_dup3, [i(a[0]), i(a[1]), i(a[2])]),
        fcntl => sys_fcntl(t, a),
        ioctl => sys_ioctl(t, a),
        pipe2 => (|| {
            mem.check(a[0], 8, ir::backend::perm::WRITE)?;
            let mut fds = [0i32; 2];
            call(libc::SYS_pipe2, [Arg::Host(fds.as_mut_ptr() as *const u8), i(a[1])])?;
            mem.write_u32(a[0], fds[0] as u32)?;
            mem.write_u32(a[0] + 4, fds[1] as u32)?;
            Ok(0)
        })(),
        ppoll => sys_ppoll(t, a),
        pselect6 => sys_pselect6(t, a),
        epoll_create1 => call(libc::SYS_epoll_create1, [i(a[0])]),
        epoll_ctl => sys_epoll_ctl(t, a),
        epoll_pwait => sys_epoll_pwait(t, a, false),
        epoll_pwait2 => sys_epoll_pwait(t, a, true),
        eventfd2 => call(libc::SYS_eventfd2, [i(a[0]), i(a[1])]),
        timerfd_create => call(libc::SYS_timerfd_create, [i(a[0]), i(a[1])]),
        timerfd_settime => (|| {
            let new = read_words(t, a[2], 4)?;
            let mut old = [0i64; 4];
            call(
                libc::SYS_timerfd_settime,
                [i(a[0]), i(a[1]), Arg::Host(new.as_ptr() as *const u8), Arg::Host(old.as_mut_ptr() as *const u8)],
            )?;
            if a[3] != 0 {
                write_words(t, a[3], &old)?;
            }
            Ok(0)
        })(),
        timerfd_gettime => (|| {
            let mut cur = [0i64; 4];
            call(libc::SYS_timerfd_gettime, [i(a[0]), Arg::Host(cur.as_mut_ptr() as *const u8)])?;
            write_words(t, a[1], &cur).map(|_| 0)
        })(),
        signalfd4 => (|| {
            if a[2] != 8 {
                return Err(Errno(libc::EINVAL));
            }
            let m = crate::signal::map_mask(mem.read_u64(a[1])?);
            call(libc::SYS_signalfd4, [i(a[0]), Arg::Host(&m as *const u64 as *const u8), i(8), i(a[3])])
        })(),
        inotify_init1 => call(libc::SYS_inotify_init1, [i(a[0])]),
        inotify_add_watch => {
            (|| call(libc::SYS_inotify_add_watch, [i(a[0]), (&host_path(t, a[1])?).into(), i(a[2])]))()
        }
        inotify_rm_watch => call(libc::SYS_inotify_rm_watch, [i(a[0]), i(a[1])]),
        memfd_create => (|| {
            let name = CString::new(guest_path(t, a[0])?).map_err(|_| Errno(libc::EINVAL))?;
            call(libc::SYS_memfd_create, [(&name).into(), i(a[1])])
        })(),
        getcwd => (|| {
            if a[1] == 0 {
                return Err(Errno(libc::ERANGE));
            }
            let n = a[1].min(4096) as usize;
            let mut b = vec![0u8; n];
            let len = call(libc::SYS_getcwd, [(&mut b).into(), i(n as u64)])?;
            mem.write(a[0], &b[..len as usize])?;
            Ok(len)
        })(),
        chdir => (|| call(libc::SYS_chdir, [(&host_path(t, a[0])?).into()]))(),
        fchdir => call(libc::SYS_fchdir, [i(a[0])]),
        chroot => (|| call(libc::SYS_chroot, [(&host_path(t, a[0])?).into()]))(),
        umask => call(libc::SYS_umask, [i(a[0])]),
        mknodat => (|| call(libc::SYS_mknodat, [i(a[0]), (&host_path(t, a[1])?).into(), i(a[2]), i(a[3])]))(),
        close_range => call(libc::SYS_close_range, [i(a[0]), i(a[1]), i(a[2])]),
        getxattr | lgetxattr => (|| {
            let nr = if s == getxattr { libc::SYS_getxattr } else { libc::SYS_lgetxattr };
            let (p, n) = (host_path(t, a[0])?, cstring(t, a[1])?);
            let (v, len) = mem.ptr_out_prefix(a[2], a[3])?;
            call(nr, [(&p).into(), (&n).into(), v.into(), i(len)])
        })(),
        fgetxattr => (|| {
            let n = cstring(t, a[1])?;
            let (v, len) = mem.ptr_out_prefix(a[2], a[3])?;
            call(libc::SYS_fgetxattr, [i(a[0]), (&n).into(), v.into(), i(len)])
        })(),
        listxattr | llistxattr => (|| {
            let nr = if s == listxattr { libc::SYS_listxattr } else { libc::SYS_llistxattr };
            let p = host_path(t, a[0])?;
            let (v, len) = mem.ptr_out_prefix(a[1], a[2])?;
            call(nr, [(&p).into(), v.into(), i(len)])
        })(),
        flistxattr => (|| {
            let (v, len) = mem.ptr_out_prefix(a[1], a[2])?;
            call(libc::SYS_flistxattr, [i(a[0]), v.into(), i(len)])
        })(),
        setxattr | lsetxattr => (|| {
            let nr = if s == setxattr { libc::SYS_setxattr } else { libc::SYS_lsetxattr };
            let (p, n) = (host_path(t, a[0])?, cstring(t, a[1])?);
            let v = mem.ptr_in(a[2], a[3])?;
            call(nr, [(&p).into(), (&n).into(), v.into(), i(a[3]), i(a[4])])
        })(),
        fsetxattr => (|| {
            let n = cstring(t, a[1])?;
            let v = mem.ptr_in(a[2], a[3])?;
            call(libc::SYS_fsetxattr, [i(a[0]), (&n).into(), v.into(), i(a[3]), i(a[4])])
        })(),
        removexattr | lremovexattr => (|| {
            let nr = if s == removexattr { libc::SYS_removexattr } else { libc::SYS_lremovexattr };
            let (p, n) = (host_path(t, a[0])?, cstring(t, a[1])?);
            call(nr, [(&p).into(), (&n).into()])
        })(),
        fremovexattr => (|| call(libc::SYS_fremovexattr, [i(a[0]), (&cstring(t, a[1])?).into()]))(),
        _ => return None,
    })
}

fn cstring<T: Target>(t: &Thread<T>, addr: u64) -> SysResult<CString> {
    CString::new(guest_path(t, addr)?).map_err(|_| Errno(libc::EINVAL))
}

/// A path for calls that look at a file without opening it: like `host_path`, but
/// `/proc/self/exe` is the guest program.
fn special_path<T: Target>(t: &Thread<T>, addr: u64) -> SysResult<CString> {
    let g = guest_path(t, addr)?;
    if proc_file(&g, host::getpid()) == Some(ProcFile::Exe) {
        return CString::new(t.proc.exe.as_os_str().as_bytes()).map_err(|_| Errno(libc::ENOENT));
    }
    Ok(crate::path::resolve_c(t.proc.cfg.sysroot.as_deref(), &g))
}

fn sys_openat<T: Target>(t: &mut Thread<T>, dirfd: u64, path: u64, flags: u64, mode: u64) -> SysResult {
    let g = guest_path(t, path)?;
    if let Some(pf) = proc_file(&g, host::getpid()) {
        let content = match pf {
            ProcFile::Exe => {
                let p = CString::new(t.proc.exe.as_os_str().as_bytes()).map_err(|_| Errno(libc::ENOENT))?;
                return blocking(libc::SYS_openat, [i(libc::AT_FDCWD as i64 as u64), (&p).into(), i(flags), i(mode)]);
            }
            ProcFile::Maps => t.proc.mem.layout().proc_maps().into_bytes(),
            ProcFile::Auxv => t.proc.auxv.clone(),
            ProcFile::Cmdline => t.proc.cmdline.clone(),
        };
        let cloexec = if flags & libc::O_CLOEXEC as u64 != 0 { libc::MFD_CLOEXEC } else { 0 };
        let fd = call(libc::SYS_memfd_create, [Arg::from(c"remu-proc"), i(cloexec as u64)])?;
        let mut off = 0;
        while off < content.len() {
            let n =
                call(libc::SYS_write, [i(fd), Arg::Host(content[off..].as_ptr()), i((content.len() - off) as u64)])?;
            if n == 0 {
                break;
            }
            off += n as usize;
        }
        call(libc::SYS_lseek, [i(fd), i(0), i(0)])?;
        return Ok(fd);
    }
    let p = crate::path::resolve_c(t.proc.cfg.sysroot.as_deref(), &g);
    blocking(libc::SYS_openat, [i(dirfd), (&p).into(), i(flags), i(mode)])
}

fn sys_readlinkat<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let g = guest_path(t, a[1])?;
    if (a[3] as i64) <= 0 {
        return Err(Errno(libc::EINVAL));
    }
    if proc_file(&g, host::getpid()) == Some(ProcFile::Exe) {
        let b = t.proc.exe.as_os_str().as_bytes();
        let n = b.len().min(a[3] as usize);
        t.proc.mem.write(a[2], &b[..n])?;
        return Ok(n as u64);
    }
    let p = crate::path::resolve_c(t.proc.cfg.sysroot.as_deref(), &g);
    let (out, n) = t.proc.mem.ptr_out_prefix(a[2], a[3])?;
    call(libc::SYS_readlinkat, [i(a[0]), (&p).into(), out.into(), i(n)])
}

fn iov_call<T: Target>(t: &mut Thread<T>, nr: c_long, a: [u64; 6], to_guest: bool) -> SysResult {
    let mem = &t.proc.mem;
    let cnt = a[2];
    if cnt > 1024 {
        return Err(Errno(libc::EINVAL));
    }
    let raw = mem.read_vec(a[1], (cnt * 16) as usize)?;
    let mut host_iov: Vec<u64> = Vec::with_capacity(cnt as usize * 2);
    for k in 0..cnt as usize {
        let base = mem.dec64(&raw[16 * k..]);
        let len = mem.dec64(&raw[16 * k + 8..]);
        if len as i64 <= 0 {
            if len != 0 {
                return Err(Errno(libc::EINVAL));
            }
            host_iov.extend_from_slice(&[0, 0]);
            continue;
        }
        let p = if to_guest { mem.ptr_out(base, len)? } else { mem.ptr_in(base, len)? };
        host_iov.extend_from_slice(&[p.addr(), len]);
    }
    let iov = Arg::Host(host_iov.as_ptr() as *const u8);
    blocking(nr, [i(a[0]), iov, i(cnt), i(a[3]), i(a[4]), i(a[5])])
}

/// stat of `path` relative to `dirfd` through the host's statx.
pub fn host_statx(dirfd: i32, path: &std::ffi::CStr, flags: u64) -> SysResult<FileStat> {
    let mut b = [0u8; 256];
    call(libc::SYS_statx, [i(dirfd as i64 as u64), path.into(), i(flags), i(0x7ff), (&mut b[..]).into()])?;
    let u32at = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64at = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let makedev = |ma: u64, mi: u64| ((ma & 0xfff) << 8) | ((ma & !0xfff) << 32) | (mi & 0xff) | ((mi & !0xff) << 12);
    Ok(FileStat {
        dev: makedev(u32at(136) as u64, u32at(140) as u64),
        ino: u64at(32),
        mode: u16::from_ne_bytes([b[28], b[29]]) as u32,
        nlink: u32at(16),
        uid: u32at(20),
        gid: u32at(24),
        rdev: makedev(u32at(128) as u64, u32at(132) as u64),
        size: u64at(40) as i64,
        blksize: u32at(4),
        blocks: u64at(48) as i64,
        atime: (u64at(64) as i64, u32at(72)),
        mtime: (u64at(112) as i64, u32at(120)),
        ctime: (u64at(96) as i64, u32at(104)),
    })
}

fn write_statfs<T: Target>(t: &Thread<T>, addr: u64, b: &[u64; 15]) -> SysResult {
    let mem = &t.proc.mem;
    let mut out = Vec::with_capacity(120);
    for (k, w) in b.iter().enumerate() {
        if k == 7 {
            // f_fsid: two ints.
            out.extend_from_slice(&mem.enc32(*w as u32));
            out.extend_from_slice(&mem.enc32((*w >> 32) as u32));
        } else {
            out.extend_from_slice(&mem.enc64(*w));
        }
    }
    mem.write(addr, &out).map(|_| 0)
}

fn swap_dirents<T: Target>(t: &Thread<T>, addr: u64, len: u64) -> SysResult<()> {
    let mem = &t.proc.mem;
    let mut b = mem.read_vec(addr, len as usize)?;
    let mut off = 0usize;
    while off + 19 <= b.len() {
        let reclen = u16::from_ne_bytes([b[off + 16], b[off + 17]]) as usize;
        b[off..off + 8].reverse();
        b[off + 8..off + 16].reverse();
        b[off + 16..off + 18].reverse();
        if reclen == 0 {
            break;
        }
        off += reclen;
    }
    mem.write(addr, &b)
}

fn swap_statx<T: Target>(t: &Thread<T>, addr: u64) -> SysResult<()> {
    let mem = &t.proc.mem;
    let mut b = mem.read_vec(addr, 256)?;
    for (o, n) in [
        (0, 4),
        (4, 4),
        (8, 8),
        (16, 4),
        (20, 4),
        (24, 4),
        (28, 2),
        (32, 8),
        (40, 8),
        (48, 8),
        (56, 8),
        (64, 8),
        (72, 4),
        (80, 8),
        (88, 4),
        (96, 8),
        (104, 4),
        (112, 8),
        (120, 4),
        (128, 4),
        (132, 4),
        (136, 4),
        (140, 4),
        (144, 8),
        (152, 4),
        (156, 4),
    ] {
        b[o..o + n].reverse();
    }
    mem.write(addr, &b)
}

fn sys_utimensat<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let times = if a[2] != 0 { Some(read_words(t, a[2], 4)?) } else { None };
    let tp = times.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
    if a[1] == 0 {
        return call(libc::SYS_utimensat, [i(a[0]), i(0), tp, i(a[3])]);
    }
    let p = host_path(t, a[1])?;
    call(libc::SYS_utimensat, [i(a[0]), (&p).into(), tp, i(a[3])])
}

/// Reads `n` guest 64-bit words (timespecs, itimerspecs...) into host order.
pub fn read_words<T: Target>(t: &Thread<T>, addr: u64, n: usize) -> SysResult<Vec<i64>> {
    let b = t.proc.mem.read_vec(addr, n * 8)?;
    Ok((0..n).map(|k| t.proc.mem.dec64(&b[8 * k..]) as i64).collect())
}

/// Writes 64-bit words in guest order.
pub fn write_words<T: Target>(t: &Thread<T>, addr: u64, w: &[i64]) -> SysResult<()> {
    let mut b = Vec::with_capacity(w.len() * 8);
    for x in w {
        b.extend_from_slice(&t.proc.mem.enc64(*x as u64));
    }
    t.proc.mem.write(addr, &b)
}

fn sys_fcntl<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = &t.proc.mem;
    let cmd = a[1] as i32;
    match cmd {
        libc::F_GETLK | libc::F_OFD_GETLK => {
            let p = mem.ptr_out(a[2], 32)?;
            call(libc::SYS_fcntl, [i(a[0]), i(a[1]), p.into()])
        }
        libc::F_SETLK | libc::F_OFD_SETLK => {
            let p = mem.ptr_in(a[2], 32)?;
            call(libc::SYS_fcntl, [i(a[0]), i(a[1]), p.into()])
        }
        libc::F_SETLKW | libc::F_OFD_SETLKW => {
            let p = mem.ptr_in(a[2], 32)?;
            blocking(libc::SYS_fcntl, [i(a[0]), i(a[1]), p.into()])
        }
        F_SETOWN_EX | F_GETOWN_EX => {
            let p = mem.ptr_out(a[2], 8)?;
            call(libc::SYS_fcntl, [i(a[0]), i(a[1]), p.into()])
        }
        libc::F_DUPFD
        | libc::F_DUPFD_CLOEXEC
        | libc::F_GETFD
        | libc::F_SETFD
        | libc::F_GETFL
        | libc::F_SETFL
        | libc::F_SETOWN
        | libc::F_GETOWN
        | F_SETSIG
        | F_GETSIG
        | libc::F_SETLEASE
        | libc::F_GETLEASE
        | libc::F_NOTIFY
        | libc::F_SETPIPE_SZ
        | libc::F_GETPIPE_SZ
        | libc::F_ADD_SEALS
        | libc::F_GET_SEALS => call(libc::SYS_fcntl, [i(a[0]), i(a[1]), i(a[2])]),
        _ => {
            t.proc.log_unimp(&format!("fcntl command {cmd}"));
            Err(Errno(libc::EINVAL))
        }
    }
}

/// How an ioctl's argument is passed.
#[derive(Clone, Copy)]
enum Io {
    /// No argument.
    None,
    /// An integer argument.
    Int,
    /// The kernel reads n bytes.
    In(u64),
    /// The kernel writes n bytes.
    Out(u64),
    /// The kernel reads and writes n bytes.
    InOut(u64),
}

fn ioctl_kind(req: u32) -> Option<(Io, bool)> {
    // (argument, may block). Terminal ioctls of asm-generic ioctls.h (riscv64, s390x and the
    // x86-64 host agree on numbers and structure layouts).
    Some(match req {
        0x5401 => (Io::Out(36), false),                  // TCGETS
        0x5402 => (Io::In(36), false),                   // TCSETS
        0x5403 | 0x5404 => (Io::In(36), true),           // TCSETSW, TCSETSF
        0x802c_542a => (Io::Out(44), false),             // TCGETS2
        0x402c_542b => (Io::In(44), false),              // TCSETS2
        0x402c_542c | 0x402c_542d => (Io::In(44), true), // TCSETSW2, TCSETSF2
        0x5409 => (Io::Int, true),                       // TCSBRK
        0x5425 | 0x5427 | 0x5428 => (Io::Int, false),    // TCSBRKP, TIOCSBRK, TIOCCBRK
        0x540a | 0x540b => (Io::Int, false),             // TCXONC, TCFLSH
        0x540c | 0x540d | 0x5422 => (Io::None, false),   // TIOCEXCL, TIOCNXCL, TIOCNOTTY
        0x540e => (Io::Int, false),                      // TIOCSCTTY
        0x540f | 0x5429 => (Io::Out(4), false),          // TIOCGPGRP, TIOCGSID
        0x5410 => (Io::In(4), false),                    // TIOCSPGRP
        0x5411 | 0x541b => (Io::Out(4), false),          // TIOCOUTQ, FIONREAD
        0x5412 => (Io::In(1), false),                    // TIOCSTI
        0x5413 => (Io::Out(8), false),                   // TIOCGWINSZ
        0x5414 => (Io::In(8), false),                    // TIOCSWINSZ
        0x5415 => (Io::Out(4), false),                   // TIOCMGET
        0x5416..=0x5418 => (Io::In(4), false),           // TIOCMBIS, TIOCMBIC, TIOCMSET
        0x5419 => (Io::Out(4), false),                   // TIOCGSOFTCAR
        0x541a => (Io::In(4), false),                    // TIOCSSOFTCAR
        0x5421 | 0x5452 => (Io::In(4), false),           // FIONBIO, FIOASYNC
        0x5450 | 0x5451 => (Io::None, false),            // FIONCLEX, FIOCLEX
        0x8004_5430 => (Io::Out(4), false),              // TIOCGPTN
        0x4004_5431 => (Io::In(4), false),               // TIOCSPTLCK
        0x5441 => (Io::Int, false),                      // TIOCGPTPEER
        0x5423 | 0x5424 => (Io::InOut(4), false),        // TIOCSETD, TIOCGETD
        0x8008_1272 => (Io::Out(8), false),              // BLKGETSIZE64
        0x1260 => (Io::Out(8), false),                   // BLKGETSIZE
        0x8008_6601 => (Io::Out(4), false),              // FS_IOC_GETFLAGS
        0x4004_9409 => (Io::Int, false),                 // FICLONE
        0x8910 => (Io::InOut(40), false),                // SIOCGIFNAME
        0x8933 => (Io::InOut(40), false),                // SIOCGIFINDEX
        _ => return None,
    })
}

fn sys_ioctl<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = &t.proc.mem;
    let req = a[1] as u32;
    let Some((kind, blocks)) = ioctl_kind(req) else {
        t.proc.log_unimp(&format!("ioctl {req:#x} on fd {}", a[0] as i32));
        return Err(Errno(libc::ENOTTY));
    };
    let arg = match kind {
        Io::None => Arg::Int(0),
        Io::Int => Arg::Int(a[2]),
        Io::In(n) => mem.ptr_in(a[2], n)?.into(),
        Io::Out(n) | Io::InOut(n) => mem.ptr_out(a[2], n)?.into(),
    };
    if blocks {
        blocking(libc::SYS_ioctl, [i(a[0]), i(req as u64), arg])
    } else {
        call(libc::SYS_ioctl, [i(a[0]), i(req as u64), arg])
    }
}

/// Applies a temporary signal mask for the duration of a call (ppoll, pselect6,
/// epoll_pwait); the mask is restored by the caller through `finish_temp_mask`.
pub fn begin_temp_mask<T: Target>(t: &mut Thread<T>, mask_addr: u64, size: u64) -> SysResult<bool> {
    if mask_addr == 0 {
        return Ok(false);
    }
    if size != 8 {
        return Err(Errno(libc::EINVAL));
    }
    let m = t.proc.mem.read_u64(mask_addr)?;
    t.saved_mask = Some(t.mask);
    t.set_mask(m);
    Ok(true)
}

/// Restores the mask after a call with a temporary mask, unless a signal interrupted it
/// (then delivery restores it after the handler).
pub fn finish_temp_mask<T: Target>(t: &mut Thread<T>, used: bool, r: &SysResult) {
    if used && !matches!(r, Err(Errno(host::ERESTARTSYS))) {
        if let Some(m) = t.saved_mask.take() {
            t.set_mask(m);
        }
    }
}

fn sys_ppoll<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = t.proc.mem.clone();
    let n = a[1];
    if n > 1 << 20 {
        return Err(Errno(libc::EINVAL));
    }
    let raw = mem.read_vec(a[0], (n * 8) as usize)?;
    mem.check(a[0], n * 8, ir::backend::perm::WRITE)?;
    let mut fds: Vec<u8> = Vec::with_capacity(raw.len());
    for k in 0..n as usize {
        let fd = mem.dec32(&raw[8 * k..]);
        let ev = if T::BIG_ENDIAN {
            u16::from_be_bytes([raw[8 * k + 4], raw[8 * k + 5]])
        } else {
            u16::from_le_bytes([raw[8 * k + 4], raw[8 * k + 5]])
        };
        fds.extend_from_slice(&fd.to_ne_bytes());
        fds.extend_from_slice(&ev.to_ne_bytes());
        fds.extend_from_slice(&[0, 0]);
    }
    let ts = if a[2] != 0 { Some(read_words(t, a[2], 2)?) } else { None };
    let tsp = ts.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
    let used = begin_temp_mask(t, a[3], a[4])?;
    let r = blocking(libc::SYS_ppoll, [Arg::Host(fds.as_ptr()), i(n), tsp, i(0), i(8)]);
    finish_temp_mask(t, used, &r);
    if let Ok(_) | Err(Errno(libc::EINTR)) = r {
        let mut out = raw.clone();
        for k in 0..n as usize {
            let re = u16::from_ne_bytes([fds[8 * k + 6], fds[8 * k + 7]]);
            let b = if T::BIG_ENDIAN { re.to_be_bytes() } else { re.to_le_bytes() };
            out[8 * k + 6..8 * k + 8].copy_from_slice(&b);
        }
        mem.write(a[0], &out)?;
        if let Some(ts) = &ts {
            let _ = write_words(t, a[2], ts);
        }
    }
    r
}

fn sys_pselect6<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = t.proc.mem.clone();
    let n = a[0] as i64;
    if !(0..=1 << 20).contains(&n) {
        return Err(Errno(libc::EINVAL));
    }
    let words = (n as usize).div_ceil(64);
    let mut sets: Vec<Option<Vec<u64>>> = Vec::new();
    for &p in &a[1..4] {
        if p == 0 {
            sets.push(None);
        } else {
            let b = mem.read_vec(p, words * 8)?;
            mem.check(p, (words * 8) as u64, ir::backend::perm::WRITE)?;
            sets.push(Some((0..words).map(|k| mem.dec64(&b[8 * k..])).collect()));
        }
    }
    let ts = if a[4] != 0 { Some(read_words(t, a[4], 2)?) } else { None };
    let (mask_addr, mask_size) = if a[5] != 0 {
        let b = mem.read_vec(a[5], 16)?;
        (mem.dec64(&b), mem.dec64(&b[8..]))
    } else {
        (0, 0)
    };
    let arg = |s: &Option<Vec<u64>>| s.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
    let tsp = ts.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
    let used = begin_temp_mask(t, mask_addr, mask_size)?;
    let r = blocking(libc::SYS_pselect6, [i(n as u64), arg(&sets[0]), arg(&sets[1]), arg(&sets[2]), tsp, i(0)]);
    finish_temp_mask(t, used, &r);
    if r.is_ok() {
        for (k, &p) in a[1..4].iter().enumerate() {
            if let Some(v) = &sets[k] {
                let mut b = Vec::with_capacity(words * 8);
                for w in v {
                    b.extend_from_slice(&mem.enc64(*w));
                }
                mem.write(p, &b)?;
            }
        }
        if let Some(ts) = &ts {
            let _ = write_words(t, a[4], ts);
        }
    }
    r
}

fn sys_epoll_ctl<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = &t.proc.mem;
    if a[3] == 0 {
        return call(libc::SYS_epoll_ctl, [i(a[0]), i(a[1]), i(a[2]), i(0)]);
    }
    let b = mem.read_vec(a[3], 16)?;
    let ev = libc::epoll_event { events: mem.dec32(&b), u64: mem.dec64(&b[8..]) };
    call(libc::SYS_epoll_ctl, [i(a[0]), i(a[1]), i(a[2]), Arg::Host(&ev as *const libc::epoll_event as *const u8)])
}

fn sys_epoll_pwait<T: Target>(t: &mut Thread<T>, a: [u64; 6], ts: bool) -> SysResult {
    let mem = t.proc.mem.clone();
    let max = a[2] as i32;
    if max <= 0 || max > (i32::MAX / 16) {
        return Err(Errno(libc::EINVAL));
    }
    mem.check(a[1], max as u64 * 16, ir::backend::perm::WRITE)?;
    // epoll_wait may return fewer events than asked for: bound the host buffer.
    let max = max.min(4096);
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; max as usize];
    let timeout = if ts {
        if a[3] != 0 {
            Some(read_words(t, a[3], 2)?)
        } else {
            None
        }
    } else {
        None
    };
    let targ = if ts { timeout.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8)) } else { i(a[3]) };
    let used = begin_temp_mask(t, a[4], a[5])?;
    let nr = if ts { libc::SYS_epoll_pwait2 } else { libc::SYS_epoll_pwait };
    let r = blocking(nr, [i(a[0]), Arg::Host(evs.as_mut_ptr() as *const u8), i(max as u64), targ, i(0), i(8)]);
    finish_temp_mask(t, used, &r);
    let n = r?;
    let mut out = Vec::with_capacity(n as usize * 16);
    for e in evs.iter().take(n as usize) {
        let (events, data) = (e.events, e.u64);
        out.extend_from_slice(&mem.enc32(events));
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&mem.enc64(data));
    }
    mem.write(a[1], &out)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statx_of_a_file_matches_std_metadata() {
        use std::os::unix::fs::MetadataExt;
        let p = std::env::temp_dir().join(format!("remu-statx-{}", std::process::id()));
        std::fs::write(&p, b"hello").unwrap();
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        let st = host_statx(libc::AT_FDCWD, &c, 0).unwrap();
        let md = std::fs::metadata(&p).unwrap();
        assert_eq!(st.size, 5);
        assert_eq!(st.ino, md.ino());
        assert_eq!(st.dev, md.dev());
        assert_eq!(st.mode, md.mode());
        assert_eq!(st.mtime.0, md.mtime());
        assert_eq!(st.mtime.1 as i64, md.mtime_nsec());
        std::fs::remove_file(&p).unwrap();
        assert_eq!(host_statx(libc::AT_FDCWD, &c, 0), Err(Errno(libc::ENOENT)));
    }

    #[test]
    fn unknown_ioctls_are_refused() {
        assert!(ioctl_kind(0x5401).is_some());
        assert!(ioctl_kind(0xdead_beef).is_none());
    }
}
