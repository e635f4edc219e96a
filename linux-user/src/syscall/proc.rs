//! Process, signal, time, identity and miscellaneous system calls: exit, clone, execve,
//! wait, kill, the rt_sig* family, futex, clocks and sleeps, limits, uname, prctl...
//!
//! execve of a program for the same guest ISA (an ELF, or a `#!` script whose interpreter is
//! one) starts `remu run` again on it with the same options and the guest's argv[0]; any
//! other file is executed natively.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::fs::{read_words, write_words};
use super::nr::Sysno;
use super::{guest_path, string_array, EJUSTRETURN};
use crate::arch::{AltStack, Target};
use crate::host::{self, blocking, call, Arg, Errno, SysResult, ERESTARTNOHAND};
use crate::path::{proc_file, ProcFile};
use crate::process::Thread;
use crate::signal::{bit, guest_sig, guest_siginfo, host_sig, map_mask, UNBLOCKABLE};

fn i(v: u64) -> Arg {
    Arg::Int(v)
}

fn valid_sig(sig: u64) -> SysResult<i32> {
    if (1..=64).contains(&sig) {
        Ok(sig as i32)
    } else {
        Err(Errno(libc::EINVAL))
    }
}

/// Maps a signal argument of kill-like calls (0 = existence check).
fn kill_sig(sig: u64) -> SysResult<u64> {
    if sig == 0 {
        return Ok(0);
    }
    Ok(host_sig(valid_sig(sig)?) as u64)
}

/// The process calls; None when `s` is not one of them.
pub fn dispatch<T: Target>(t: &mut Thread<T>, s: Sysno, a: [u64; 6]) -> Option<SysResult> {
    use Sysno::*;
    let mem = t.proc.mem.clone();
    Some(match s {
        exit_group => t.proc.exit(a[0] as i32),
        getpid => Ok(host::getpid() as u64),
        gettid => Ok(t.tid as u64),
        getppid => call(libc::SYS_getppid, []),
        getuid => call(libc::SYS_getuid, []),
        geteuid => call(libc::SYS_geteuid, []),
        getgid => call(libc::SYS_getgid, []),
        getegid => call(libc::SYS_getegid, []),
        getresuid | getresgid => (|| {
            let nr = if s == getresuid { libc::SYS_getresuid } else { libc::SYS_getresgid };
            let (x, y, z) = (mem.ptr_out(a[0], 4)?, mem.ptr_out(a[1], 4)?, mem.ptr_out(a[2], 4)?);
            call(nr, [x.into(), y.into(), z.into()])
        })(),
        setuid => call(libc::SYS_setuid, [i(a[0])]),
        setgid => call(libc::SYS_setgid, [i(a[0])]),
        setreuid => call(libc::SYS_setreuid, [i(a[0]), i(a[1])]),
        setregid => call(libc::SYS_setregid, [i(a[0]), i(a[1])]),
        setresuid => call(libc::SYS_setresuid, [i(a[0]), i(a[1]), i(a[2])]),
        setresgid => call(libc::SYS_setresgid, [i(a[0]), i(a[1]), i(a[2])]),
        setfsuid => call(libc::SYS_setfsuid, [i(a[0])]),
        setfsgid => call(libc::SYS_setfsgid, [i(a[0])]),
        getgroups => (|| {
            let n = a[0] as i32;
            if n < 0 {
                return Err(Errno(libc::EINVAL));
            }
            let p = mem.opt_out(a[1], n as u64 * 4)?;
            call(libc::SYS_getgroups, [i(n as u64), p.into()])
        })(),
        setgroups => (|| {
            let p = mem.opt_in(a[1], (a[0] as u32 as u64) * 4)?;
            call(libc::SYS_setgroups, [i(a[0]), p.into()])
        })(),
        getpgid => call(libc::SYS_getpgid, [i(a[0])]),
        setpgid => call(libc::SYS_setpgid, [i(a[0]), i(a[1])]),
        getsid => call(libc::SYS_getsid, [i(a[0])]),
        setsid => call(libc::SYS_setsid, []),
        kill => (|| call(libc::SYS_kill, [i(a[0]), i(kill_sig(a[1])?)]))(),
        tkill => (|| call(libc::SYS_tkill, [i(a[0]), i(kill_sig(a[1])?)]))(),
        tgkill => (|| call(libc::SYS_tgkill, [i(a[0]), i(a[1]), i(kill_sig(a[2])?)]))(),
        rt_sigqueueinfo => (|| {
            let hs = kill_sig(a[1])?;
            let mut info = mem.read_vec(a[2], 128)?;
            info[0..4].copy_from_slice(&(hs as u32).to_ne_bytes());
            call(libc::SYS_rt_sigqueueinfo, [i(a[0]), i(hs), (&info).into()])
        })(),
        rt_tgsigqueueinfo => (|| {
            let hs = kill_sig(a[2])?;
            let mut info = mem.read_vec(a[3], 128)?;
            info[0..4].copy_from_slice(&(hs as u32).to_ne_bytes());
            call(libc::SYS_rt_tgsigqueueinfo, [i(a[0]), i(a[1]), i(hs), (&info).into()])
        })(),
        pidfd_open => call(libc::SYS_pidfd_open, [i(a[0]), i(a[1])]),
        pidfd_send_signal => (|| {
            if a[2] != 0 {
                return Err(Errno(libc::EINVAL));
            }
            call(libc::SYS_pidfd_send_signal, [i(a[0]), i(kill_sig(a[1])?), i(0), i(a[3])])
        })(),
        pidfd_getfd => call(libc::SYS_pidfd_getfd, [i(a[0]), i(a[1]), i(a[2])]),
        rt_sigaction => sys_rt_sigaction(t, a),
        rt_sigprocmask => sys_rt_sigprocmask(t, a),
        rt_sigpending => (|| {
            if a[1] != 8 {
                return Err(Errno(libc::EINVAL));
            }
            let mut p = map_mask(host::host_pending());
            for &(sg, _) in &t.pending {
                p |= bit(sg);
            }
            mem.write_u64(a[0], p & t.mask).map(|_| 0)
        })(),
        rt_sigsuspend => (|| {
            if a[1] != 8 {
                return Err(Errno(libc::EINVAL));
            }
            let m = mem.read_u64(a[0])?;
            t.saved_mask = Some(t.mask);
            t.set_mask(m);
            host::sigsuspend(map_mask(t.mask));
            Err(Errno(ERESTARTNOHAND))
        })(),
        rt_sigtimedwait => sys_rt_sigtimedwait(t, a),
        rt_sigreturn => t.sigreturn().map(|_| 0).and(Err(Errno(EJUSTRETURN))),
        sigaltstack => sys_sigaltstack(t, a),
        restart_syscall => Err(Errno(libc::EINTR)),
        clone => {
            let (flags, sp, ptid, ctid, tls) = T::clone_args(&a);
            crate::thread::clone(t, flags, sp, ptid, ctid, tls)
        }
        clone3 => Err(Errno(libc::ENOSYS)),
        execve => sys_execve(t, libc::AT_FDCWD, a[0], a[1], a[2], 0),
        execveat => sys_execve(t, a[0] as i32, a[1], a[2], a[3], a[4]),
        wait4 => (|| {
            let st = mem.opt_out(a[1], 4)?;
            let ru = if a[3] != 0 { Some(vec![0u64; 18]) } else { None };
            let rp = ru.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
            let r = blocking(libc::SYS_wait4, [i(a[0]), st.into(), i(a[2]), rp])?;
            if let Some(v) = &ru {
                write_words(t, a[3], &v.iter().map(|&x| x as i64).collect::<Vec<_>>())?;
            }
            if r != 0 && a[1] != 0 {
                fix_wait_status(t, a[1])?;
            }
            Ok(r)
        })(),
        waitid => (|| {
            let mut info = [0u8; 128];
            let ru = if a[4] != 0 { Some(vec![0u64; 18]) } else { None };
            let rp = ru.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
            let r = blocking(libc::SYS_waitid, [i(a[0]), i(a[1]), (&mut info[..]).into(), i(a[3]), rp])?;
            if a[2] != 0 {
                let hs = i32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
                let g = if hs == 0 { [0u8; 128] } else { guest_siginfo::<T>(&info, guest_sig(hs)) };
                mem.write(a[2], &g)?;
            }
            if let Some(v) = &ru {
                write_words(t, a[4], &v.iter().map(|&x| x as i64).collect::<Vec<_>>())?;
            }
            Ok(r)
        })(),
        set_tid_address => {
            t.clear_child_tid = a[0];
            Ok(t.tid as u64)
        }
        set_robust_list => {
            if a[1] != 24 {
                Err(Errno(libc::EINVAL))
            } else {
                t.robust_list = (a[0], a[1]);
                Ok(0)
            }
        }
        get_robust_list => (|| {
            if a[0] != 0 && a[0] as i32 != t.tid {
                return Err(Errno(libc::EPERM));
            }
            mem.write_u64(a[1], t.robust_list.0)?;
            mem.write_u64(a[2], t.robust_list.1)?;
            Ok(0)
        })(),
        futex => sys_futex(t, a),
        rseq => Err(Errno(libc::ENOSYS)),
        membarrier => call(libc::SYS_membarrier, [i(a[0]), i(a[1]), i(a[2])]),
        uname => (|| {
            let mut u = [0u8; 390];
            call(libc::SYS_uname, [(&mut u[..]).into()])?;
            let m = &mut u[260..325];
            m.fill(0);
            m[..T::NAME.len()].copy_from_slice(T::NAME.as_bytes());
            mem.write(a[0], &u).map(|_| 0)
        })(),
        sethostname => (|| call(libc::SYS_sethostname, [mem.ptr_in(a[0], a[1])?.into(), i(a[1])]))(),
        setdomainname => (|| call(libc::SYS_setdomainname, [mem.ptr_in(a[0], a[1])?.into(), i(a[1])]))(),
        sysinfo => (|| {
            let mut b = [0u8; 112];
            call(libc::SYS_sysinfo, [(&mut b[..]).into()])?;
            if T::BIG_ENDIAN {
                for (o, n) in [
                    (0, 8),
                    (8, 8),
                    (16, 8),
                    (24, 8),
                    (32, 8),
                    (40, 8),
                    (48, 8),
                    (56, 8),
                    (64, 8),
                    (72, 8),
                    (80, 2),
                    (88, 8),
                    (96, 8),
                    (104, 4),
                ] {
                    b[o..o + n].reverse();
                }
            }
            mem.write(a[0], &b).map(|_| 0)
        })(),
        getrusage => (|| {
            let mut v = [0u64; 18];
            call(libc::SYS_getrusage, [i(a[0]), Arg::Host(v.as_mut_ptr() as *const u8)])?;
            write_words(t, a[1], &v.iter().map(|&x| x as i64).collect::<Vec<_>>()).map(|_| 0)
        })(),
        times => (|| {
            let mut v = [0u64; 4];
            let r = call(libc::SYS_times, [Arg::Host(v.as_mut_ptr() as *const u8)])?;
            if a[0] != 0 {
                write_words(t, a[0], &v.iter().map(|&x| x as i64).collect::<Vec<_>>())?;
            }
            Ok(r)
        })(),
        prlimit64 => sys_prlimit(t, a[0], a[1], a[2], a[3]),
        getrlimit => sys_prlimit(t, 0, a[0], 0, a[1]),
        setrlimit => sys_prlimit(t, 0, a[0], a[1], 0),
        getrandom => (|| {
            let (p, n) = mem.ptr_out_prefix(a[0], a[1])?;
            blocking(libc::SYS_getrandom, [p.into(), i(n), i(a[2])])
        })(),
        clock_gettime | clock_getres => (|| {
            let nr = if s == clock_gettime { libc::SYS_clock_gettime } else { libc::SYS_clock_getres };
            let mut ts = [0i64; 2];
            call(nr, [i(a[0]), Arg::Host(ts.as_mut_ptr() as *const u8)])?;
            if a[1] != 0 {
                write_words(t, a[1], &ts)?;
            }
            Ok(0)
        })(),
        clock_settime => (|| {
            let ts = read_words(t, a[1], 2)?;
            call(libc::SYS_clock_settime, [i(a[0]), Arg::Host(ts.as_ptr() as *const u8)])
        })(),
        gettimeofday => (|| {
            let mut tv = [0i64; 2];
            let mut tz = [0i32; 2];
            call(
                libc::SYS_gettimeofday,
                [Arg::Host(tv.as_mut_ptr() as *const u8), Arg::Host(tz.as_mut_ptr() as *const u8)],
            )?;
            if a[0] != 0 {
                write_words(t, a[0], &tv)?;
            }
            if a[1] != 0 {
                mem.write_u32(a[1], tz[0] as u32)?;
                mem.write_u32(a[1] + 4, tz[1] as u32)?;
            }
            Ok(0)
        })(),
        settimeofday => Err(Errno(libc::EPERM)),
        nanosleep => (|| {
            let req = read_words(t, a[0], 2)?;
            let mut rem = [0i64; 2];
            let r = blocking(
                libc::SYS_nanosleep,
                [Arg::Host(req.as_ptr() as *const u8), Arg::Host(rem.as_mut_ptr() as *const u8)],
            );
            if r.is_err() && a[1] != 0 {
                write_words(t, a[1], &rem)?;
            }
            r
        })(),
        clock_nanosleep => (|| {
            let req = read_words(t, a[2], 2)?;
            let mut rem = [0i64; 2];
            let r = blocking(
                libc::SYS_clock_nanosleep,
                [i(a[0]), i(a[1]), Arg::Host(req.as_ptr() as *const u8), Arg::Host(rem.as_mut_ptr() as *const u8)],
            );
            if r.is_err() && a[3] != 0 && a[1] & 1 == 0 {
                write_words(t, a[3], &rem)?;
            }
            r
        })(),
        getitimer => (|| {
            let mut v = [0i64; 4];
            call(libc::SYS_getitimer, [i(a[0]), Arg::Host(v.as_mut_ptr() as *const u8)])?;
            write_words(t, a[1], &v).map(|_| 0)
        })(),
        setitimer => (|| {
            let new = read_words(t, a[1], 4)?;
            let mut old = [0i64; 4];
            call(
                libc::SYS_setitimer,
                [i(a[0]), Arg::Host(new.as_ptr() as *const u8), Arg::Host(old.as_mut_ptr() as *const u8)],
            )?;
            if a[2] != 0 {
                write_words(t, a[2], &old)?;
            }
            Ok(0)
        })(),
        timer_create => (|| {
            let mut ev = [0u8; 64];
            let evp = if a[1] != 0 {
                let g = mem.read_vec(a[1], 64)?;
                ev[0..8].copy_from_slice(&mem.dec64(&g).to_ne_bytes());
                let sig = mem.dec32(&g[8..]) as i32;
                let hs = if sig == 0 { 0 } else { host_sig(valid_sig(sig as u64)?) };
                ev[8..12].copy_from_slice(&hs.to_ne_bytes());
                ev[12..16].copy_from_slice(&mem.dec32(&g[12..]).to_ne_bytes());
                ev[16..20].copy_from_slice(&mem.dec32(&g[16..]).to_ne_bytes());
                Arg::Host(ev.as_ptr())
            } else {
                Arg::Int(0)
            };
            let mut id = [0i32; 1];
            call(libc::SYS_timer_create, [i(a[0]), evp, Arg::Host(id.as_mut_ptr() as *const u8)])?;
            mem.write_u32(a[2], id[0] as u32).map(|_| 0)
        })(),
        timer_settime => (|| {
            let new = read_words(t, a[2], 4)?;
            let mut old = [0i64; 4];
            call(
                libc::SYS_timer_settime,
                [i(a[0]), i(a[1]), Arg::Host(new.as_ptr() as *const u8), Arg::Host(old.as_mut_ptr() as *const u8)],
            )?;
            if a[3] != 0 {
                write_words(t, a[3], &old)?;
            }
            Ok(0)
        })(),
        timer_gettime => (|| {
            let mut v = [0i64; 4];
            call(libc::SYS_timer_gettime, [i(a[0]), Arg::Host(v.as_mut_ptr() as *const u8)])?;
            write_words(t, a[1], &v).map(|_| 0)
        })(),
        timer_getoverrun => call(libc::SYS_timer_getoverrun, [i(a[0])]),
        timer_delete => call(libc::SYS_timer_delete, [i(a[0])]),
        sched_yield => call(libc::SYS_sched_yield, []),
        sched_getaffinity => (|| {
            let (p, n) = mem.ptr_out_prefix(a[2], a[1])?;
            call(libc::SYS_sched_getaffinity, [i(a[0]), i(n), p.into()])
        })(),
        sched_setaffinity => (|| {
            let (p, n) = mem.ptr_in_prefix(a[2], a[1])?;
            call(libc::SYS_sched_setaffinity, [i(a[0]), i(n), p.into()])
        })(),
        sched_getscheduler => call(libc::SYS_sched_getscheduler, [i(a[0])]),
        sched_setscheduler => {
            (|| call(libc::SYS_sched_setscheduler, [i(a[0]), i(a[1]), mem.ptr_in(a[2], 4)?.into()]))()
        }
        sched_getparam => (|| call(libc::SYS_sched_getparam, [i(a[0]), mem.ptr_out(a[1], 4)?.into()]))(),
        sched_setparam => (|| call(libc::SYS_sched_setparam, [i(a[0]), mem.ptr_in(a[1], 4)?.into()]))(),
        sched_get_priority_max => call(libc::SYS_sched_get_priority_max, [i(a[0])]),
        sched_get_priority_min => call(libc::SYS_sched_get_priority_min, [i(a[0])]),
        sched_rr_get_interval => (|| {
            let mut ts = [0i64; 2];
            call(libc::SYS_sched_rr_get_interval, [i(a[0]), Arg::Host(ts.as_mut_ptr() as *const u8)])?;
            write_words(t, a[1], &ts).map(|_| 0)
        })(),
        getpriority => call(libc::SYS_getpriority, [i(a[0]), i(a[1])]),
        setpriority => call(libc::SYS_setpriority, [i(a[0]), i(a[1]), i(a[2])]),
        getcpu => (|| {
            let (c, n) = (mem.opt_out(a[0], 4)?, mem.opt_out(a[1], 4)?);
            call(libc::SYS_getcpu, [c.into(), n.into(), i(0)])
        })(),
        prctl => sys_prctl(t, a),
        personality => Ok(0),
        capget => (|| {
            let h = mem.ptr_out(a[0], 8)?;
            let d = mem.opt_out(a[1], 24)?;
            call(libc::SYS_capget, [h.into(), d.into()])
        })(),
        capset => (|| {
            let h = mem.ptr_in(a[0], 8)?;
            let d = mem.opt_in(a[1], 24)?;
            call(libc::SYS_capset, [h.into(), d.into()])
        })(),
        ptrace | acct | reboot | syslog | kexec_load | init_module | delete_module | swapon | swapoff | mount
        | umount2 | pivot_root => Err(Errno(libc::EPERM)),
        unshare => call(libc::SYS_unshare, [i(a[0])]),
        ioprio_get => call(libc::SYS_ioprio_get, [i(a[0]), i(a[1])]),
        ioprio_set => call(libc::SYS_ioprio_set, [i(a[0]), i(a[1]), i(a[2])]),
        _ => return None,
    })
}

fn fix_wait_status<T: Target>(t: &Thread<T>, addr: u64) -> SysResult<()> {
    // Termination and stop signals in the status word use host numbers.
    let st = t.proc.mem.read_u32(addr)?;
    let low = st & 0x7f;
    let fixed = if low != 0 && low != 0x7f {
        (st & !0x7f) | guest_sig(low as i32) as u32
    } else if low == 0x7f && (st & 0xff) == 0x7f {
        let s = (st >> 8) & 0xff;
        (st & !0xff00) | ((guest_sig(s as i32) as u32) << 8)
    } else {
        st
    };
    if fixed != st {
        t.proc.mem.write_u32(addr, fixed)?;
    }
    Ok(())
}

fn sys_prlimit<T: Target>(t: &mut Thread<T>, pid: u64, res: u64, new: u64, old: u64) -> SysResult {
    let mut o = [0i64; 2];
    let n = if new != 0 { Some(read_words(t, new, 2)?) } else { None };
    // Limits on the address space, data and stack are remu's own as well (its reservation
    // would fail): they are recorded by the kernel only for other processes.
    let own = pid == 0 || pid as i32 == host::getpid();
    let keep = own && matches!(res as i32, 2 | 3 | 9);
    let np = match (&n, keep) {
        (Some(v), false) => Arg::Host(v.as_ptr() as *const u8),
        _ => Arg::Int(0),
    };
    call(libc::SYS_prlimit64, [i(pid), i(res), np, Arg::Host(o.as_mut_ptr() as *const u8)])?;
    if old != 0 {
        write_words(t, old, &o)?;
    }
    Ok(0)
}

fn sys_rt_sigaction<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = t.proc.mem.clone();
    if a[3] != 8 {
        return Err(Errno(libc::EINVAL));
    }
    let sig = valid_sig(a[0])?;
    let new = if a[1] != 0 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            return Err(Errno(libc::EINVAL));
        }
        let b = mem.read_vec(a[1], T::SIGACTION_SIZE)?;
        let mut sa = T::decode_sigaction(&mem, &b);
        sa.mask &= !UNBLOCKABLE;
        Some(sa)
    } else {
        None
    };
    let old = t.proc.action(sig);
    if a[2] != 0 {
        mem.write(a[2], &T::encode_sigaction(&mem, &old))?;
    }
    if let Some(sa) = new {
        t.proc.set_action(sig, sa);
    }
    Ok(0)
}

fn sys_rt_sigprocmask<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = t.proc.mem.clone();
    if a[3] != 8 {
        return Err(Errno(libc::EINVAL));
    }
    let old = t.mask;
    if a[1] != 0 {
        let set = mem.read_u64(a[1])?;
        let new = match a[0] {
            0 => old | set,
            1 => old & !set,
            2 => set,
            _ => return Err(Errno(libc::EINVAL)),
        };
        if a[2] != 0 {
            mem.write_u64(a[2], old)?;
        }
        t.set_mask(new);
        return Ok(0);
    }
    if a[2] != 0 {
        mem.write_u64(a[2], old)?;
    }
    Ok(0)
}

fn sys_rt_sigtimedwait<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = t.proc.mem.clone();
    if a[3] != 8 {
        return Err(Errno(libc::EINVAL));
    }
    let set = mem.read_u64(a[0])? & !UNBLOCKABLE;
    if let Some(k) = t.pending.iter().position(|&(sg, _)| set & bit(sg) != 0) {
        let (sg, info) = t.pending.remove(k);
        if a[1] != 0 {
            mem.write(a[1], &info)?;
        }
        return Ok(sg as u64);
    }
    let ts = if a[2] != 0 { Some(read_words(t, a[2], 2)?) } else { None };
    let tsp = ts.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
    let hset = map_mask(set);
    let mut info = [0u8; 128];
    let r = blocking(
        libc::SYS_rt_sigtimedwait,
        [Arg::Host(&hset as *const u64 as *const u8), (&mut info[..]).into(), tsp, i(8)],
    );
    let hs = r?;
    let gs = guest_sig(hs as i32);
    if a[1] != 0 {
        mem.write(a[1], &guest_siginfo::<T>(&info, gs))?;
    }
    Ok(gs as u64)
}

fn sys_sigaltstack<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = t.proc.mem.clone();
    let sp = T::sp(t.cpu.state());
    let old = t.altstack_report(sp);
    if a[0] != 0 {
        let b = mem.read_vec(a[0], 24)?;
        let new = AltStack { sp: mem.dec64(&b), flags: mem.dec32(&b[8..]) as i32, size: mem.dec64(&b[16..]) };
        t.set_altstack(new, sp)?;
    }
    if a[1] != 0 {
        let mut b = Vec::with_capacity(24);
        b.extend_from_slice(&mem.enc64(old.sp));
        b.extend_from_slice(&mem.enc32(old.flags as u32));
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&mem.enc64(old.size));
        mem.write(a[1], &b)?;
    }
    Ok(0)
}

fn sys_futex<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = t.proc.mem.clone();
    let op = a[1] as i32;
    let cmd = op & 0x7f;
    let uaddr = mem.futex_ptr(a[0])?;
    let timeout = |t: &Thread<T>| -> SysResult<Option<Vec<i64>>> {
        if a[3] != 0 {
            Ok(Some(read_words(t, a[3], 2)?))
        } else {
            Ok(None)
        }
    };
    match cmd {
        // WAIT, WAIT_BITSET, LOCK_PI, LOCK_PI2
        0 | 9 | 6 | 13 => {
            let ts = timeout(t)?;
            let tp = ts.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
            blocking(libc::SYS_futex, [uaddr.into(), i(a[1]), i(a[2]), tp, i(0), i(a[5])])
        }
        // WAIT_REQUEUE_PI
        11 => {
            let ts = timeout(t)?;
            let tp = ts.as_ref().map_or(Arg::Int(0), |v| Arg::Host(v.as_ptr() as *const u8));
            let u2 = mem.futex_ptr(a[4])?;
            blocking(libc::SYS_futex, [uaddr.into(), i(a[1]), i(a[2]), tp, u2.into(), i(a[5])])
        }
        // WAKE, WAKE_BITSET, UNLOCK_PI, TRYLOCK_PI
        1 | 10 | 7 | 8 => call(libc::SYS_futex, [uaddr.into(), i(a[1]), i(a[2]), i(a[3]), i(0), i(a[5])]),
        // REQUEUE, CMP_REQUEUE, WAKE_OP, CMP_REQUEUE_PI
        3 | 4 | 5 | 12 => {
            let u2 = mem.futex_ptr(a[4])?;
            call(libc::SYS_futex, [uaddr.into(), i(a[1]), i(a[2]), i(a[3]), u2.into(), i(a[5])])
        }
        _ => {
            t.proc.log_unimp(&format!("futex operation {cmd}"));
            Err(Errno(libc::ENOSYS))
        }
    }
}

fn sys_prctl<T: Target>(t: &mut Thread<T>, a: [u64; 6]) -> SysResult {
    let mem = t.proc.mem.clone();
    match a[0] as i32 {
        libc::PR_SET_NAME => {
            let mut name = mem.read_cstr(a[1], 4096).or_else(|_| mem.read_vec(a[1], 16))?;
            name.truncate(15);
            let c = CString::new(name).map_err(|_| Errno(libc::EINVAL))?;
            call(libc::SYS_prctl, [i(a[0]), (&c).into()])
        }
        libc::PR_GET_NAME => {
            let mut b = [0u8; 16];
            call(libc::SYS_prctl, [i(a[0]), (&mut b[..]).into()])?;
            mem.write(a[1], &b).map(|_| 0)
        }
        libc::PR_SET_PDEATHSIG => {
            let s = if a[1] == 0 { 0 } else { host_sig(valid_sig(a[1])?) as u64 };
            call(libc::SYS_prctl, [i(a[0]), i(s)])
        }
        libc::PR_GET_PDEATHSIG => {
            let mut v = [0i32; 1];
            call(libc::SYS_prctl, [i(a[0]), Arg::Host(v.as_mut_ptr() as *const u8)])?;
            let g = if v[0] == 0 { 0 } else { guest_sig(v[0]) };
            mem.write_u32(a[1], g as u32).map(|_| 0)
        }
        libc::PR_GET_DUMPABLE
        | libc::PR_SET_DUMPABLE
        | libc::PR_GET_NO_NEW_PRIVS
        | libc::PR_SET_NO_NEW_PRIVS
        | libc::PR_CAPBSET_READ
        | libc::PR_GET_KEEPCAPS
        | libc::PR_SET_KEEPCAPS
        | libc::PR_GET_CHILD_SUBREAPER
        | libc::PR_SET_CHILD_SUBREAPER
        | libc::PR_GET_TIMERSLACK
        | libc::PR_SET_TIMERSLACK
        | libc::PR_GET_SECUREBITS => {
            if a[0] as i32 == libc::PR_GET_CHILD_SUBREAPER {
                let mut v = [0i32; 1];
                call(libc::SYS_prctl, [i(a[0]), Arg::Host(v.as_mut_ptr() as *const u8)])?;
                return mem.write_u32(a[1], v[0] as u32).map(|_| 0);
            }
            call(libc::SYS_prctl, [i(a[0]), i(a[1]), i(a[2]), i(a[3]), i(a[4])])
        }
        libc::PR_GET_TID_ADDRESS => mem.write_u64(a[1], t.clear_child_tid).map(|_| 0),
        0x5356_4d41 => Err(Errno(libc::EINVAL)), // PR_SET_VMA
        other => {
            t.proc.log_unimp(&format!("prctl option {other}"));
            Err(Errno(libc::EINVAL))
        }
    }
}

/// What executing a file means.
enum ExecKind {
    /// A program for this guest ISA.
    Guest,
    /// A `#!` script whose interpreter (host path, name as written, optional argument) is a
    /// program for this guest ISA.
    Script(PathBuf, Vec<u8>, Option<Vec<u8>>),
    /// Anything else: the host kernel runs it.
    Native,
}

fn read_head(p: &std::path::Path) -> SysResult<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(p).map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::ENOENT)))?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Errno(libc::EACCES));
    }
    let mut b = vec![0u8; 256];
    let n = f.read(&mut b).map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::EIO)))?;
    b.truncate(n);
    Ok(b)
}

fn classify<T: Target>(t: &Thread<T>, host: &std::path::Path) -> SysResult<ExecKind> {
    let head = read_head(host)?;
    if crate::elf::machine_of(&head) == Some(T::ELF_MACHINE) {
        return Ok(ExecKind::Guest);
    }
    if head.starts_with(b"#!") {
        let line = head[2..].split(|&c| c == b'\n').next().unwrap_or(&[]);
        let line: Vec<u8> = line.iter().copied().skip_while(|c| *c == b' ' || *c == b'\t').collect();
        let end = line.iter().position(|&c| c == b' ' || c == b'\t').unwrap_or(line.len());
        let interp = line[..end].to_vec();
        let rest: Vec<u8> = line[end..].iter().copied().skip_while(|c| *c == b' ' || *c == b'\t').collect();
        let rest: Vec<u8> = {
            let mut r = rest;
            while matches!(r.last(), Some(b' ' | b'\t' | b'\r')) {
                r.pop();
            }
            r
        };
        if !interp.is_empty() {
            let hi = crate::path::resolve(t.proc.cfg.sysroot.as_deref(), &interp);
            if let Ok(ih) = read_head(&hi) {
                if crate::elf::machine_of(&ih) == Some(T::ELF_MACHINE) {
                    return Ok(ExecKind::Script(hi, interp, if rest.is_empty() { None } else { Some(rest) }));
                }
            }
        }
    }
    Ok(ExecKind::Native)
}

fn cstr(b: &[u8]) -> SysResult<CString> {
    CString::new(b).map_err(|_| Errno(libc::EINVAL))
}

fn sys_execve<T: Target>(t: &mut Thread<T>, dirfd: i32, path: u64, argv: u64, envp: u64, flags: u64) -> SysResult {
    let g = guest_path(t, path)?;
    let argv = string_array(t, argv)?;
    let envp = string_array(t, envp)?;
    let host: PathBuf = if g.is_empty() {
        if flags & 0x1000 == 0 {
            return Err(Errno(libc::ENOENT));
        }
        PathBuf::from(format!("/proc/self/fd/{dirfd}"))
    } else if proc_file(&g, host::getpid()) == Some(ProcFile::Exe) {
        t.proc.exe.clone()
    } else if g[0] != b'/' && dirfd != libc::AT_FDCWD {
        let mut p = format!("/proc/self/fd/{dirfd}/").into_bytes();
        p.extend_from_slice(&g);
        PathBuf::from(std::ffi::OsStr::from_bytes(&p))
    } else {
        crate::path::resolve(t.proc.cfg.sysroot.as_deref(), &g)
    };
    let hc = cstr(host.as_os_str().as_bytes())?;
    call(libc::SYS_faccessat, [i(libc::AT_FDCWD as i64 as u64), (&hc).into(), i(libc::X_OK as u64)])?;
    let env: Vec<CString> = envp.iter().map(|e| cstr(e)).collect::<SysResult<_>>()?;
    let kind = classify(t, &host)?;
    let (argv0, rest, prog): (Vec<u8>, Vec<Vec<u8>>, PathBuf) = match kind {
        ExecKind::Native => {
            let av: Vec<CString> = argv.iter().map(|e| cstr(e)).collect::<SysResult<_>>()?;
            return Err(host::execve(&hc, &av, &env));
        }
        ExecKind::Guest => {
            let a0 = argv.first().cloned().unwrap_or_else(|| g.clone());
            (a0, argv.iter().skip(1).cloned().collect(), host.clone())
        }
        ExecKind::Script(hi, interp, opt) => {
            let mut rest = Vec::new();
            if let Some(o) = opt {
                rest.push(o);
            }
            rest.push(g.clone());
            rest.extend(argv.iter().skip(1).cloned());
            (interp, rest, hi)
        }
    };
    let remu = std::env::current_exe().map_err(|_| Errno(libc::ENOEXEC))?;
    let mut av: Vec<CString> = vec![cstr(remu.as_os_str().as_bytes())?, cstr(b"run")?];
    for o in &t.proc.cfg.reexec_opts {
        av.push(cstr(o.as_bytes())?);
    }
    if t.proc.action(libc::SIGPIPE).handler == crate::signal::SIG_IGN {
        av.push(cstr(b"--sigpipe-ignored")?);
    }
    av.push(cstr(b"-0")?);
    av.push(cstr(&argv0)?);
    av.push(cstr(b"--")?);
    av.push(cstr(prog.as_os_str().as_bytes())?);
    for r in &rest {
        av.push(cstr(r)?);
    }
    let rc = cstr(remu.as_os_str().as_bytes())?;
    Err(host::execve(&rc, &av, &env))
}

/// exit(2) of one thread.
pub fn exit_thread<T: Target>(t: &mut Thread<T>, code: i32) -> super::Outcome {
    crate::thread::exit(t, code)
}
