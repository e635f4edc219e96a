//! Socket system calls. Socket addresses, option values and control messages have the same
//! layout on the supported 64-bit ISAs and the host, so they pass through after their guest
//! ranges are validated; `struct msghdr` and its iovec array hold guest pointers and are
//! rebuilt with host pointers. sendmmsg/recvmmsg are not provided (ENOSYS).

use super::nr::Sysno;
use crate::arch::Target;
use crate::host::{blocking, call, Arg, Errno, GuestPtr, SysResult};
use crate::process::Thread;

fn i(v: u64) -> Arg {
    Arg::Int(v)
}

const MAX_ADDR: u64 = 128;

/// The socket calls; None when `s` is not one of them.
pub fn dispatch<T: Target>(t: &mut Thread<T>, s: Sysno, a: [u64; 6]) -> Option<SysResult> {
    use Sysno::*;
    let mem = t.proc.mem.clone();
    let addr_in = |p: u64, len: u64| -> SysResult<Option<GuestPtr>> {
        if len > MAX_ADDR {
            return Err(Errno(libc::EINVAL));
        }
        mem.opt_in(p, len)
    };
    // (address buffer, length word) for calls that return an address.
    let addr_out = |p: u64, lenp: u64| -> SysResult<(Option<GuestPtr>, Option<GuestPtr>)> {
        if p == 0 || lenp == 0 {
            return Ok((None, None));
        }
        let len = mem.read_u32(lenp)? as u64;
        let lp = mem.ptr_out(lenp, 4)?;
        let ap = if len == 0 { None } else { Some(mem.ptr_out(p, len.min(4096))?) };
        Ok((ap, Some(lp)))
    };
    Some(match s {
        socket => call(libc::SYS_socket, [i(a[0]), i(a[1]), i(a[2])]),
        socketpair => (|| {
            mem.check(a[3], 8, ir::backend::perm::WRITE)?;
            let mut sv = [0i32; 2];
            call(libc::SYS_socketpair, [i(a[0]), i(a[1]), i(a[2]), Arg::Host(sv.as_mut_ptr() as *const u8)])?;
            mem.write_u32(a[3], sv[0] as u32)?;
            mem.write_u32(a[3] + 4, sv[1] as u32)?;
            Ok(0)
        })(),
        bind => (|| call(libc::SYS_bind, [i(a[0]), addr_in(a[1], a[2])?.into(), i(a[2])]))(),
        connect => (|| blocking(libc::SYS_connect, [i(a[0]), addr_in(a[1], a[2])?.into(), i(a[2])]))(),
        listen => call(libc::SYS_listen, [i(a[0]), i(a[1])]),
        accept | accept4 => (|| {
            let (ap, lp) = addr_out(a[1], a[2])?;
            let flags = if s == accept4 { a[3] } else { 0 };
            blocking(libc::SYS_accept4, [i(a[0]), ap.into(), lp.into(), i(flags)])
        })(),
        getsockname | getpeername => (|| {
            let nr = if s == getsockname { libc::SYS_getsockname } else { libc::SYS_getpeername };
            let (ap, lp) = addr_out(a[1], a[2])?;
            call(nr, [i(a[0]), ap.into(), lp.into()])
        })(),
        sendto => (|| {
            let (p, n) = mem.ptr_in_prefix(a[1], a[2])?;
            blocking(libc::SYS_sendto, [i(a[0]), p.into(), i(n), i(a[3]), addr_in(a[4], a[5])?.into(), i(a[5])])
        })(),
        recvfrom => (|| {
            let (p, n) = mem.ptr_out_prefix(a[1], a[2])?;
            let (ap, lp) = addr_out(a[4], a[5])?;
            blocking(libc::SYS_recvfrom, [i(a[0]), p.into(), i(n), i(a[3]), ap.into(), lp.into()])
        })(),
        setsockopt => (|| {
            let v = mem.opt_in(a[3], a[4].min(1 << 16))?;
            call(libc::SYS_setsockopt, [i(a[0]), i(a[1]), i(a[2]), v.into(), i(a[4])])
        })(),
        getsockopt => (|| {
            let len = mem.read_u32(a[4])? as u64;
            let lp = mem.ptr_out(a[4], 4)?;
            let v = mem.opt_out(a[3], len.min(1 << 16))?;
            call(libc::SYS_getsockopt, [i(a[0]), i(a[1]), i(a[2]), v.into(), lp.into()])
        })(),
        shutdown => call(libc::SYS_shutdown, [i(a[0]), i(a[1])]),
        sendmsg => msg_call(t, a, false),
        recvmsg => msg_call(t, a, true),
        _ => return None,
    })
}

fn msg_call<T: Target>(t: &mut Thread<T>, a: [u64; 6], recv: bool) -> SysResult {
    let mem = t.proc.mem.clone();
    let m = mem.read_vec(a[1], 56)?;
    let (name, namelen) = (mem.dec64(&m), mem.dec32(&m[8..]) as u64);
    let (iov, iovlen) = (mem.dec64(&m[16..]), mem.dec64(&m[24..]));
    let (ctl, ctllen) = (mem.dec64(&m[32..]), mem.dec64(&m[40..]));
    if iovlen > 1024 || namelen > 4096 || ctllen > 1 << 20 {
        return Err(Errno(libc::EMSGSIZE));
    }
    let np = if name != 0 && namelen != 0 {
        if recv {
            mem.ptr_out(name, namelen)?.addr()
        } else {
            mem.ptr_in(name, namelen)?.addr()
        }
    } else {
        0
    };
    let cp = if ctl != 0 && ctllen != 0 {
        if recv {
            mem.ptr_out(ctl, ctllen)?.addr()
        } else {
            mem.ptr_in(ctl, ctllen)?.addr()
        }
    } else {
        0
    };
    let raw = mem.read_vec(iov, (iovlen * 16) as usize)?;
    let mut hiov: Vec<u64> = Vec::with_capacity(iovlen as usize * 2);
    for k in 0..iovlen as usize {
        let (b, l) = (mem.dec64(&raw[16 * k..]), mem.dec64(&raw[16 * k + 8..]));
        let p = if l == 0 {
            0
        } else if recv {
            mem.ptr_out(b, l)?.addr()
        } else {
            mem.ptr_in(b, l)?.addr()
        };
        hiov.extend_from_slice(&[p, l]);
    }
    let hdr: [u64; 7] =
        [np, if np != 0 { namelen } else { 0 }, hiov.as_ptr() as u64, iovlen, cp, if cp != 0 { ctllen } else { 0 }, 0];
    let nr = if recv { libc::SYS_recvmsg } else { libc::SYS_sendmsg };
    let r = blocking(nr, [i(a[0]), Arg::Host(hdr.as_ptr() as *const u8), i(a[2])])?;
    if recv {
        let mut out = m.clone();
        out[8..12].copy_from_slice(&mem.enc32(hdr[1] as u32));
        out[40..48].copy_from_slice(&mem.enc64(hdr[5]));
        out[48..52].copy_from_slice(&mem.enc32(hdr[6] as u32));
        mem.write(a[1], &out)?;
    }
    Ok(r)
}
