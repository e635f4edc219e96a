//! The per-thread CPU loop (QEMU's `cpu_loop`): run translated code until it stops, then act
//! on why it stopped: a system call, a guest fault (turned into a synchronous signal), or an
//! exit request from the host signal handler (deliver pending signals).

use accel_tcg::CpuExit;
use ir::backend::perm;

use crate::arch::{Target, Trap};
use crate::host;
use crate::process::Thread;
use crate::syscall::{self, Outcome};

/// Runs `t` until it exits (returns only for a thread that ends while others remain).
pub fn cpu_loop<T: Target>(t: &mut Thread<T>) {
    host::set_exit_request_word(&t.cpu.header().exit_request);
    let m = t.mask;
    t.set_mask(m);
    let tcg = t.proc.tcg.clone();
    loop {
        let mut restart = None;
        match tcg.run(&mut t.cpu) {
            CpuExit::Exception { cause, aux } => {
                let pc = T::pc(t.cpu.state());
                match T::trap(cause, aux, pc) {
                    Trap::Syscall => {
                        let (nr, args) = T::syscall_args(t.cpu.state());
                        match syscall::dispatch(t, nr, args) {
                            Outcome::Return(v) => T::syscall_return(t.cpu_state_mut(), v),
                            Outcome::Restart(kind) => restart = Some(kind),
                            Outcome::JustReturn => {}
                            Outcome::ThreadExit(_) => {
                                host::clear_exit_request_word();
                                return;
                            }
                        }
                    }
                    Trap::Signal { sig, mut code, addr } => {
                        if sig == libc::SIGSEGV {
                            let mapped = t.proc.mem.page_perm(addr) & (perm::READ | perm::WRITE | perm::EXEC) != 0;
                            code = if mapped {
                                2 /* SEGV_ACCERR */
                            } else {
                                1 /* SEGV_MAPERR */
                            };
                        }
                        t.proc.log_guest_error(&format!("signal {sig} (code {code}) at pc {pc:#x}, address {addr:#x}"));
                        t.force(sig, code, addr);
                    }
                    Trap::Fatal(c) => {
                        t.proc.log_unimp(&format!("guest exception {c:#x} at pc {pc:#x}"));
                        t.force(libc::SIGILL, 1, pc);
                    }
                }
            }
            CpuExit::Interrupted => {
                t.cpu.take_exit_request();
            }
            CpuExit::Error(e) => {
                eprintln!("remu: {e}\n{}", T::dump_regs(t.cpu.state()));
                t.proc.die(libc::SIGABRT);
            }
        }
        if restart.is_some() || t.signals_pending() {
            t.cpu.take_exit_request();
            t.deliver(restart);
        }
    }
}
