//! Guest signals (QEMU's `linux-user/signal.c`): dispositions, masks, the alternate stack,
//! delivery to guest handlers through the ISA's signal frame, rt_sigreturn, and default
//! actions.
//!
//! Design (see also `host.rs`): host dispositions and masks mirror the guest's, so the host
//! kernel decides which thread gets a signal, keeps blocked signals pending, and performs
//! default actions itself (terminate with the right wait status, stop, ignore, auto-reap
//! children when SIGCHLD is ignored). Only signals with guest handlers reach remu: the host
//! handler records them in the thread's mailbox and stops the vCPU; the CPU loop then calls
//! [`deliver`], which builds the guest frame. Synchronous signals (guest faults) are made by
//! remu from exceptions ([`force`]) and follow Linux's force_sig: a blocked or ignored fault
//! signal kills the process.
//!
//! Numbering: guest and host use Linux's generic numbers, except that guest real-time
//! signals 32 and 33 (which the guest C library uses internally) are carried by host signals
//! 64 and 63 and vice versa, so that the host C library keeps its own 32 and 33.

use crate::arch::{AltStack, FrameArgs, SigAction, Target};
use crate::host::{self, Errno, HostAction, SysResult, SIGINFO_SIZE};
use crate::process::Thread;

/// SIG_DFL.
pub const SIG_DFL: u64 = 0;
/// SIG_IGN.
pub const SIG_IGN: u64 = 1;
/// SA_NOCLDSTOP.
pub const SA_NOCLDSTOP: u64 = 1;
/// SA_NOCLDWAIT.
pub const SA_NOCLDWAIT: u64 = 2;
/// SA_SIGINFO.
pub const SA_SIGINFO: u64 = 4;
/// SA_RESTORER.
pub const SA_RESTORER: u64 = 0x0400_0000;
/// SA_ONSTACK.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// SA_RESTART.
pub const SA_RESTART: u64 = 0x1000_0000;
/// SA_NODEFER.
pub const SA_NODEFER: u64 = 0x4000_0000;
/// SA_RESETHAND.
pub const SA_RESETHAND: u64 = 0x8000_0000;
/// SS_ONSTACK.
pub const SS_ONSTACK: i32 = 1;
/// SS_DISABLE.
pub const SS_DISABLE: i32 = 2;
/// SS_AUTODISARM.
pub const SS_AUTODISARM: i32 = 1 << 31;

/// Bit of signal `sig` in a mask.
pub fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals that can never be blocked.
pub const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// Host signal that carries guest signal `sig`.
pub fn host_sig(sig: i32) -> i32 {
    match sig {
        32 => 64,
        33 => 63,
        64 => 32,
        63 => 33,
        s => s,
    }
}

/// Guest signal carried by host signal `sig` (the mapping is its own inverse).
pub fn guest_sig(sig: i32) -> i32 {
    host_sig(sig)
}

/// Maps a mask between guest and host numbering.
pub fn map_mask(m: u64) -> u64 {
    let mut r = 0;
    for s in 1..=64 {
        if m & bit(s) != 0 {
            r |= bit(host_sig(s));
        }
    }
    r
}

/// What a signal does by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate.
    Term,
    /// Terminate with a core dump.
    Core,
    /// Nothing.
    Ignore,
    /// Stop the process.
    Stop,
    /// Continue.
    Cont,
}

/// The default action of `sig` (signal(7)).
pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => DefaultAction::Ignore,
        libc::SIGCONT => DefaultAction::Cont,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => DefaultAction::Stop,
        libc::SIGQUIT
        | libc::SIGILL
        | libc::SIGTRAP
        | libc::SIGABRT
        | libc::SIGBUS
        | libc::SIGFPE
        | libc::SIGSEGV
        | libc::SIGXCPU
        | libc::SIGXFSZ
        | libc::SIGSYS => DefaultAction::Core,
        _ => DefaultAction::Term,
    }
}

/// The host disposition that mirrors a guest one.
pub fn host_action_for(sig: i32, a: &SigAction) -> HostAction {
    if host::faults_of_compiled_code(sig) {
        // The host handler stays installed whatever the guest does: compiled code relies on
        // host faults for guest memory protection (and traps for accesses it leaves to the
        // reference evaluator). Signals sent by other processes go to the
        // guest's disposition through the usual pending-signal path.
        return HostAction::Forward { flags: 0 };
    }
    match a.handler {
        SIG_DFL => HostAction::Default,
        SIG_IGN => {
            // An ignored SIGCONT still continues a stopped process; the kernel does that
            // whatever the disposition.
            HostAction::Ignore
        }
        _ => {
            let _ = sig;
            HostAction::Forward { flags: (a.flags & (SA_NOCLDSTOP | SA_NOCLDWAIT)) as i32 }
        }
    }
}

/// Initial guest dispositions: those the host ignores (inherited across exec) are ignored;
/// SIGPIPE as `sigpipe_ignored` says (its host disposition is set to match). The Rust
/// runtime's own SIGSEGV/SIGBUS handlers (stack-overflow reports) are replaced by ours, which
/// turns faults of compiled code into guest exceptions and passes sent signals to the guest.
pub fn initial_actions(sigpipe_ignored: bool) -> Vec<SigAction> {
    let mut v = vec![SigAction::default(); 65];
    for (s, a) in v.iter_mut().enumerate().skip(1) {
        let s = s as i32;
        if host::faults_of_compiled_code(s) {
            // always ours: host faults in compiled code are guest faults (see host_action_for)
            let _ = host::set_host_action(s, HostAction::Forward { flags: 0 });
        } else if s == libc::SIGPIPE {
            let _ = host::set_host_action(s, if sigpipe_ignored { HostAction::Ignore } else { HostAction::Default });
            if sigpipe_ignored {
                a.handler = SIG_IGN;
            }
        } else if s != libc::SIGKILL && s != libc::SIGSTOP && host::host_ignored(host_sig(s)) {
            a.handler = SIG_IGN;
        }
    }
    v
}

/// Builds the guest siginfo from a host one.
pub fn guest_siginfo<T: Target>(raw: &[u8; SIGINFO_SIZE], gsig: i32) -> [u8; SIGINFO_SIZE] {
    let mut out = *raw;
    let put32 = |b: &mut [u8; SIGINFO_SIZE], off: usize, v: u32| {
        b[off..off + 4].copy_from_slice(&if T::BIG_ENDIAN { v.to_be_bytes() } else { v.to_le_bytes() })
    };
    let put64 = |b: &mut [u8; SIGINFO_SIZE], off: usize, v: u64| {
        b[off..off + 8].copy_from_slice(&if T::BIG_ENDIAN { v.to_be_bytes() } else { v.to_le_bytes() })
    };
    let get32 = |off: usize| u32::from_ne_bytes([raw[off], raw[off + 1], raw[off + 2], raw[off + 3]]);
    let get64 = |off: usize| u64::from_ne_bytes(raw[off..off + 8].try_into().unwrap_or([0; 8]));
    put32(&mut out, 0, gsig as u32);
    if T::BIG_ENDIAN {
        put32(&mut out, 4, get32(4));
        let code = get32(8) as i32;
        put32(&mut out, 8, code as u32);
        match gsig {
            libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP if code > 0 => {
                put64(&mut out, 16, get64(16))
            }
            libc::SIGCHLD if code > 0 => {
                put32(&mut out, 16, get32(16));
                put32(&mut out, 20, get32(20));
                put32(&mut out, 24, get32(24));
                put64(&mut out, 32, get64(32));
                put64(&mut out, 40, get64(40));
            }
            _ => {
                put32(&mut out, 16, get32(16));
                put32(&mut out, 20, get32(20));
                put64(&mut out, 24, get64(24));
            }
        }
    }
    out
}

/// A siginfo for a signal remu raises itself (faults, or signals sent by the kernel).
pub fn fault_siginfo<T: Target>(sig: i32, code: i32, addr: u64) -> [u8; SIGINFO_SIZE] {
    let mut raw = [0u8; SIGINFO_SIZE];
    raw[0..4].copy_from_slice(&(sig as u32).to_ne_bytes());
    raw[8..12].copy_from_slice(&(code as u32).to_ne_bytes());
    raw[16..24].copy_from_slice(&addr.to_ne_bytes());
    guest_siginfo::<T>(&raw, sig)
}

impl<T: Target> Thread<T> {
    /// Sets the guest signal mask (SIGKILL/SIGSTOP never blocked) and mirrors it on the host.
    pub fn set_mask(&mut self, m: u64) {
        self.mask = m & !UNBLOCKABLE;
        host::set_host_mask(map_mask(self.mask));
        // Unblocking may make recorded signals deliverable.
        if !self.pending.is_empty() {
            host::poke_mailbox();
        }
    }

    /// Whether the guest stack pointer is on the alternate stack.
    pub fn on_altstack(&self, sp: u64) -> bool {
        let a = &self.altstack;
        a.flags & SS_DISABLE == 0 && a.size != 0 && sp > a.sp && sp - a.sp <= a.size
    }

    /// The guest-visible altstack (sigaltstack's old_ss).
    pub fn altstack_report(&self, sp: u64) -> AltStack {
        let mut a = self.altstack;
        if a.size == 0 || a.flags & SS_DISABLE != 0 {
            a = AltStack { sp: 0, flags: SS_DISABLE, size: 0 };
        } else if self.on_altstack(sp) {
            a.flags = SS_ONSTACK;
        } else {
            a.flags &= SS_AUTODISARM;
        }
        a
    }

    /// sigaltstack(2) semantics for a new stack.
    pub fn set_altstack(&mut self, new: AltStack, sp: u64) -> SysResult<()> {
        if self.on_altstack(sp) {
            return Err(Errno(libc::EPERM));
        }
        let mode = new.flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(Errno(libc::EINVAL));
        }
        if mode == SS_DISABLE {
            self.altstack = AltStack { sp: 0, flags: SS_DISABLE, size: 0 };
            return Ok(());
        }
        if new.size < T::MINSIGSTKSZ {
            return Err(Errno(libc::ENOMEM));
        }
        self.altstack = AltStack { sp: new.sp, flags: new.flags & SS_AUTODISARM, size: new.size };
        Ok(())
    }

    /// Takes signals from the host mailbox into this thread's list.
    fn collect(&mut self) {
        for (hsig, info) in host::take_signals() {
            let gsig = guest_sig(hsig);
            if gsig < 32 && self.pending.iter().any(|&(s, _)| s == gsig) {
                continue;
            }
            self.pending.push((gsig, guest_siginfo::<T>(&info, gsig)));
        }
    }

    /// Whether a signal may be waiting for delivery.
    pub fn signals_pending(&self) -> bool {
        host::signal_pending() || self.pending.iter().any(|&(s, _)| self.mask & bit(s) == 0)
    }

    /// Delivers at most one pending, unblocked signal. `restart` says how a system call
    /// interrupted at the current pc wants to be finished (`ERESTARTSYS`, `ERESTARTNOHAND`).
    /// Returns whether a guest handler was entered.
    pub fn deliver(&mut self, restart: Option<i32>) -> bool {
        self.collect();
        loop {
            let Some(i) = self.pending.iter().position(|&(s, _)| self.mask & bit(s) == 0) else {
                self.finish_restart(restart, None);
                return false;
            };
            let (sig, info) = self.pending.remove(i);
            let action = self.proc.action(sig);
            match action.handler {
                SIG_IGN => continue,
                SIG_DFL => {
                    self.default_action(sig);
                    continue;
                }
                _ => {
                    self.finish_restart(restart, Some(&action));
                    self.enter_handler(sig, &info, &action);
                    if !self.pending.is_empty() {
                        host::poke_mailbox();
                    }
                    return true;
                }
            }
        }
    }

    /// Decides the outcome of an interrupted system call once delivery is decided.
    fn finish_restart(&mut self, restart: Option<i32>, handler: Option<&SigAction>) {
        let Some(kind) = restart else { return };
        let eintr = match handler {
            None => false,
            Some(a) => kind == host::ERESTARTNOHAND || a.flags & SA_RESTART == 0,
        };
        if eintr {
            T::syscall_return(self.cpu_state_mut(), (-(libc::EINTR as i64)) as u64);
        }
        // Otherwise the pc still points at the system call instruction with the arguments
        // untouched: the call is made again.
        if handler.is_none() {
            if let Some(m) = self.saved_mask.take() {
                self.set_mask(m);
            }
        }
    }

    fn default_action(&mut self, sig: i32) {
        match default_action(sig) {
            DefaultAction::Ignore | DefaultAction::Cont => {}
            DefaultAction::Stop => host::raise_default(host_sig(sig)),
            DefaultAction::Term | DefaultAction::Core => self.proc.die(sig),
        }
    }

    fn enter_handler(&mut self, sig: i32, info: &[u8; SIGINFO_SIZE], action: &SigAction) {
        let old_mask = self.saved_mask.take().unwrap_or(self.mask);
        let sp = T::sp(self.cpu.state());
        let saved_alt = self.altstack_report(sp);
        let stack_top = if action.flags & SA_ONSTACK != 0
            && self.altstack.size != 0
            && self.altstack.flags & SS_DISABLE == 0
            && !self.on_altstack(sp)
        {
            let top = self.altstack.sp.wrapping_add(self.altstack.size);
            if self.altstack.flags & SS_AUTODISARM != 0 {
                self.altstack = AltStack { sp: 0, flags: SS_DISABLE, size: 0 };
            }
            top
        } else {
            sp
        };
        let restorer =
            if action.flags & SA_RESTORER != 0 && action.restorer != 0 { action.restorer } else { self.proc.sigpage };
        let f =
            FrameArgs { sig, info: *info, handler: action.handler, restorer, old_mask, altstack: saved_alt, stack_top };
        let mem = self.proc.mem.clone();
        if T::setup_frame(&mem, self.cpu_state_mut(), &f).is_err() {
            // No room for the frame: the process dies of SIGSEGV (Linux's force_sigsegv).
            self.proc.log_guest_error(&format!("cannot build the frame for signal {sig}: bad stack"));
            self.proc.die(libc::SIGSEGV);
        }
        let mut m = self.mask | action.mask;
        if action.flags & SA_NODEFER == 0 {
            m |= bit(sig);
        }
        self.set_mask(m);
        if action.flags & SA_RESETHAND != 0 && sig != libc::SIGILL && sig != libc::SIGTRAP {
            self.proc.set_action(sig, SigAction::default());
        }
    }

    /// A synchronous signal caused by the instruction at the current pc (Linux's
    /// force_sig_fault).
    pub fn force(&mut self, sig: i32, code: i32, addr: u64) {
        let action = self.proc.action(sig);
        if self.mask & bit(sig) != 0 || action.handler == SIG_IGN || action.handler == SIG_DFL {
            self.proc.die(sig);
        }
        let info = fault_siginfo::<T>(sig, code, addr);
        self.enter_handler(sig, &info, &action);
    }

    /// rt_sigreturn: restores the registers, mask and alternate stack from the frame.
    pub fn sigreturn(&mut self) -> SysResult<()> {
        let mem = self.proc.mem.clone();
        match T::restore_frame(&mem, self.cpu_state_mut()) {
            Ok(r) => {
                self.set_mask(r.mask);
                let sp = T::sp(self.cpu.state());
                let _ = self.set_altstack(r.altstack, sp);
                Ok(())
            }
            Err(_) => {
                self.proc.log_guest_error("rt_sigreturn with a bad frame");
                self.proc.die(libc::SIGSEGV)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_signal_mapping_is_an_involution() {
        for s in 1..=64 {
            assert_eq!(guest_sig(host_sig(s)), s);
        }
        assert_eq!(host_sig(32), 64);
        assert_eq!(host_sig(10), 10);
        assert_eq!(map_mask(bit(32) | bit(2)), bit(64) | bit(2));
    }

    #[test]
    fn default_actions_follow_signal_7() {
        assert_eq!(default_action(libc::SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(libc::SIGSEGV), DefaultAction::Core);
        assert_eq!(default_action(libc::SIGTERM), DefaultAction::Term);
        assert_eq!(default_action(libc::SIGTSTP), DefaultAction::Stop);
        assert_eq!(default_action(40), DefaultAction::Term);
    }

    #[test]
    fn fault_siginfo_layout() {
        let i = fault_siginfo::<crate::arch::riscv64::Riscv64Target>(11, 2, 0xdead0);
        assert_eq!(&i[0..4], &11u32.to_le_bytes());
        assert_eq!(&i[8..12], &2u32.to_le_bytes());
        assert_eq!(&i[16..24], &0xdead0u64.to_le_bytes());
    }
}
