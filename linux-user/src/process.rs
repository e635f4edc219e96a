//! The state of the guest process (shared by its threads) and of each guest thread (QEMU's
//! `TaskState`).
//!
//! Threading: [`Process`] is shared through an `Arc` by every guest thread. Its mutable parts
//! are the signal dispositions (one mutex, held only to read or replace an entry, never while
//! taking another lock), the address space (its own mutex, see `mmap.rs`) and accel-tcg's
//! translator (its own mutex). A [`Thread`] belongs to one host thread.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use accel_tcg::{Cpu, Logger, Tcg};

use crate::arch::{AltStack, SigAction, State, Target};
use crate::host::{self, SIGINFO_SIZE};
use crate::mmap::GuestMemory;
use crate::signal::{host_action_for, host_sig};

/// What `remu run` was asked to do.
#[derive(Clone)]
pub struct Config {
    /// The program as named on the command line (also AT_EXECFN).
    pub program: PathBuf,
    /// argv[0] for the guest (default: the program as named).
    pub argv0: Option<OsString>,
    /// argv[1..].
    pub args: Vec<OsString>,
    /// The guest environment (VAR=VALUE strings).
    pub env: Vec<OsString>,
    /// -L: where absolute guest paths are looked up first.
    pub sysroot: Option<PathBuf>,
    /// --strace.
    pub strace: bool,
    /// --stats.
    pub stats: bool,
    /// Write /tmp/perf-PID.map for `perf` (`--perfmap`).
    pub perfmap: bool,
    /// -d/-D.
    pub log: Logger,
    /// Options to pass to `remu run` when the guest executes another guest program
    /// (backend, -L, -d, --strace...).
    pub reexec_opts: Vec<OsString>,
    /// Whether the program starts with SIGPIPE ignored. The Rust runtime ignores SIGPIPE in
    /// remu before `main`, so the disposition remu inherited cannot be read back; a guest
    /// execve passes it on explicitly (`remu run --sigpipe-ignored`).
    pub sigpipe_ignored: bool,
}

/// The guest process.
pub struct Process<T: Target> {
    /// The translator.
    pub tcg: Arc<Tcg<T::Fe>>,
    /// The address space.
    pub mem: Arc<GuestMemory>,
    /// Options.
    pub cfg: Config,
    /// Canonical host path of the program (/proc/self/exe).
    pub exe: PathBuf,
    /// Address of the sigreturn trampoline.
    pub sigpage: u64,
    /// The auxiliary vector as the guest got it (/proc/self/auxv).
    pub auxv: Vec<u8>,
    /// NUL-separated argv (/proc/self/cmdline).
    pub cmdline: Vec<u8>,
    actions: Mutex<Vec<SigAction>>,
    /// Live guest threads.
    pub threads: AtomicUsize,
    /// Next vCPU index.
    pub next_index: AtomicU32,
    /// Host thread id of the main thread (the one that may not return).
    pub main_tid: AtomicI32,
}

impl<T: Target> Process<T> {
    /// A process (the loader fills in the fields).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tcg: Arc<Tcg<T::Fe>>,
        mem: Arc<GuestMemory>,
        cfg: Config,
        exe: PathBuf,
        sigpage: u64,
        auxv: Vec<u8>,
        cmdline: Vec<u8>,
    ) -> Self {
        let actions = crate::signal::initial_actions(cfg.sigpipe_ignored);
        Process {
            tcg,
            mem,
            cfg,
            exe,
            sigpage,
            auxv,
            cmdline,
            actions: Mutex::new(actions),
            threads: AtomicUsize::new(1),
            next_index: AtomicU32::new(1),
            main_tid: AtomicI32::new(host::gettid()),
        }
    }

    /// The disposition of guest signal `sig` (1..=64).
    pub fn action(&self, sig: i32) -> SigAction {
        let a = self.actions.lock().unwrap_or_else(|e| e.into_inner());
        a.get(sig as usize).copied().unwrap_or_default()
    }

    /// Replaces the disposition of `sig` and mirrors it on the host.
    pub fn set_action(&self, sig: i32, new: SigAction) {
        let mut a = self.actions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = a.get_mut(sig as usize) {
            *slot = new;
            let _ = host::set_host_action(host_sig(sig), host_action_for(sig, &new));
        }
    }

    /// Writes a log record if `-d guest_errors` is on.
    pub fn log_guest_error(&self, msg: &str) {
        if self.cfg.log.flags.guest_errors {
            self.cfg.log.write(&format!("remu: guest error: {msg}\n"));
        }
    }

    /// Writes a log record if `-d unimp` is on.
    pub fn log_unimp(&self, msg: &str) {
        if self.cfg.log.flags.unimp {
            self.cfg.log.write(&format!("remu: unimplemented: {msg}\n"));
        }
    }

    /// Ends the process with `code` (exit_group).
    pub fn exit(&self, code: i32) -> ! {
        if self.cfg.stats {
            self.cfg.log.write(&format!("remu: {}\n", self.tcg.stats_summary()));
        }
        std::process::exit(code & 0xff)
    }

    /// Ends the process as guest signal `sig`'s default action would.
    pub fn die(&self, sig: i32) -> ! {
        if self.cfg.stats {
            self.cfg.log.write(&format!("remu: {}\n", self.tcg.stats_summary()));
        }
        host::die_of_signal(host_sig(sig))
    }
}

/// One guest thread.
pub struct Thread<T: Target> {
    /// The process.
    pub proc: Arc<Process<T>>,
    /// The vCPU.
    pub cpu: Cpu<State<T>>,
    /// Thread id (the host's).
    pub tid: i32,
    /// Guest signal mask.
    pub mask: u64,
    /// The mask to restore after rt_sigsuspend / ppoll / pselect6 with a temporary mask.
    pub saved_mask: Option<u64>,
    /// sigaltstack.
    pub altstack: AltStack,
    /// Signals taken from the host but not yet delivered: (guest signal, guest siginfo).
    pub pending: Vec<(i32, [u8; SIGINFO_SIZE])>,
    /// CLONE_CHILD_CLEARTID / set_tid_address.
    pub clear_child_tid: u64,
    /// set_robust_list (recorded for get_robust_list).
    pub robust_list: (u64, u64),
}

impl<T: Target> Thread<T> {
    /// A thread running `cpu`.
    pub fn new(proc: Arc<Process<T>>, cpu: Cpu<State<T>>, mask: u64) -> Self {
        Thread {
            proc,
            cpu,
            tid: host::gettid(),
            mask,
            saved_mask: None,
            altstack: AltStack { sp: 0, flags: crate::signal::SS_DISABLE, size: 0 },
            pending: Vec::new(),
            clear_child_tid: 0,
            robust_list: (0, 0),
        }
    }

    /// The registers.
    pub fn cpu_state_mut(&mut self) -> &mut State<T> {
        self.cpu.state_mut()
    }

    /// Number of live threads.
    pub fn thread_count(&self) -> usize {
        self.proc.threads.load(Ordering::Acquire)
    }
}
