//! clone(2) and thread exit (QEMU's `do_fork` and the exit path of `do_syscall`).
//!
//! - Without CLONE_VM (fork, and vfork, which is done as a fork: the child has its own copy
//!   of guest memory, so the parent need not wait): a host fork. The child continues in the
//!   same CPU loop with a copy of everything.
//! - With CLONE_VM | CLONE_THREAD (pthread_create): a new host thread with its own vCPU on
//!   the shared translator and address space (`tcg.new_cpu(state.clone(), index)`), child
//!   return value 0, new stack and TLS, CLONE_PARENT_SETTID / CHILD_SETTID /
//!   CHILD_CLEARTID. A thread's exit clears and futex-wakes its clear_child_tid word (what
//!   pthread_join waits on); the last thread's exit ends the process.
//! - Other CLONE_VM combinations (shared memory without a shared thread group) are refused
//!   with EINVAL.

use std::sync::atomic::Ordering;

use crate::arch::Target;
use crate::host::{self, Errno, SysResult};
use crate::process::Thread;
use crate::signal::host_sig;
use crate::syscall::{Outcome, EJUSTRETURN};

const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;

/// Host stack of a guest thread's vCPU loop.
const THREAD_STACK: usize = 8 << 20;

/// clone(2).
pub fn clone<T: Target>(t: &mut Thread<T>, flags: u64, new_sp: u64, ptid: u64, ctid: u64, tls: u64) -> SysResult {
    let tls = if flags & CLONE_SETTLS != 0 { Some(tls) } else { None };
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
        let need = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES;
        if flags & need != need {
            t.proc.log_unimp(&format!("clone flags {flags:#x} (shared memory without a thread group)"));
            return Err(Errno(libc::EINVAL));
        }
        return spawn_thread(t, flags, new_sp, ptid, ctid, tls);
    }
    let exit_signal = (flags & 0xff) as i32;
    // with the translator quiescent: no lock may be inherited held by a thread the child
    // does not have (the JIT worker)
    let pid = t.proc.tcg.fork(
        || {
            if exit_signal == libc::SIGCHLD {
                host::fork()
            } else {
                host::fork_with_signal(if exit_signal == 0 { 0 } else { host_sig(exit_signal) })
            }
        },
        |r| matches!(r, Ok(0)),
    )?;
    if pid == 0 {
        // The child: one thread, a copy of the parent's guest memory.
        t.tid = host::gettid();
        t.proc.threads.store(1, Ordering::Release);
        t.proc.main_tid.store(t.tid, Ordering::Release);
        if flags & CLONE_CHILD_SETTID != 0 {
            let _ = t.proc.mem.write_u32(ctid, t.tid as u32);
        }
        if flags & CLONE_CHILD_CLEARTID != 0 {
            t.clear_child_tid = ctid;
        }
        T::clone_child(t.cpu_state_mut(), new_sp, tls);
        return Err(Errno(EJUSTRETURN));
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = t.proc.mem.write_u32(ptid, pid as u32);
    }
    Ok(pid as u64)
}

fn spawn_thread<T: Target>(
    t: &mut Thread<T>,
    flags: u64,
    new_sp: u64,
    ptid: u64,
    ctid: u64,
    tls: Option<u64>,
) -> SysResult {
    let mut st = t.cpu.state().clone();
    T::clone_child(&mut st, new_sp, tls);
    let proc = t.proc.clone();
    let index = proc.next_index.fetch_add(1, Ordering::AcqRel);
    let cpu = proc.tcg.new_cpu(st, index);
    let mask = t.mask;
    let (tx, rx) = std::sync::mpsc::channel();
    proc.threads.fetch_add(1, Ordering::AcqRel);
    // The new host thread starts with every signal blocked; its CPU loop installs the guest
    // mask once its mailbox is wired to its vCPU.
    let saved = host::block_all();
    let child_proc = proc.clone();
    let spawned =
        std::thread::Builder::new().name(format!("remu-guest-{index}")).stack_size(THREAD_STACK).spawn(move || {
            let mut th = Thread::new(child_proc, cpu, mask);
            // Both tid words are written before any guest code of either thread runs again,
            // as Linux does: glibc passes the same word (pd->tid) as parent and child tid, and
            // a parent writing it after the child started could overwrite the 0 that the
            // child's exit stored (CLONE_CHILD_CLEARTID), leaving pthread_join waiting forever.
            if flags & CLONE_PARENT_SETTID != 0 {
                let _ = th.proc.mem.write_u32(ptid, th.tid as u32);
            }
            if flags & CLONE_CHILD_SETTID != 0 {
                let _ = th.proc.mem.write_u32(ctid, th.tid as u32);
            }
            if flags & CLONE_CHILD_CLEARTID != 0 {
                th.clear_child_tid = ctid;
            }
            let _ = tx.send(th.tid);
            crate::cpu_loop::cpu_loop(&mut th);
        });
    host::restore_mask(&saved);
    if spawned.is_err() {
        proc.threads.fetch_sub(1, Ordering::AcqRel);
        return Err(Errno(libc::EAGAIN));
    }
    let tid = rx.recv().map_err(|_| Errno(libc::EAGAIN))?;
    Ok(tid as u64)
}

/// exit(2): ends this thread (the process, if it is the last one).
pub fn exit<T: Target>(t: &mut Thread<T>, code: i32) -> Outcome {
    if t.clear_child_tid != 0 {
        let mem = &t.proc.mem;
        if mem.write_u32(t.clear_child_tid, 0).is_ok() {
            if let Ok(p) = mem.futex_ptr(t.clear_child_tid) {
                let _ = host::call(libc::SYS_futex, [p.into(), host::Arg::Int(1), host::Arg::Int(1)]);
            }
        }
    }
    let left = t.proc.threads.fetch_sub(1, Ordering::AcqRel).saturating_sub(1);
    if left == 0 {
        t.proc.exit(code);
    }
    if t.tid == t.proc.main_tid.load(Ordering::Acquire) {
        // The main host thread cannot return (that would end the process): end it alone.
        host::clear_exit_request_word();
        host::exit_thread(code);
    }
    Outcome::ThreadExit(code)
}
