//! The host side of user mode: every raw host system call, the host signal handler and the
//! per-thread signal mailbox it writes to. Together with `mmap.rs` this is the only module of
//! linux-user with `unsafe` code.
//!
//! # System calls
//! Guest system calls are carried out with raw host system calls ([`call`], [`blocking`]),
//! never through libc's wrappers, so that the result is the kernel's own (negative errno) and
//! no libc state (cancellation, cached pids) gets in the way. Pointer arguments are [`Arg`]s:
//! plain integers, pointers into guest memory that `mmap.rs` validated ([`GuestPtr`]), or Rust
//! buffers. The kernel itself checks every address it is given and answers `EFAULT`, so a
//! system call can never make remu touch memory it does not own, provided the calls that
//! change the host address space (mmap, munmap, mremap, mprotect, brk, clone, exit) are never
//! made through [`call`]; they have their own wrappers in `mmap.rs` and below, and [`call`]
//! refuses them.
//!
//! # Blocking calls and signals (QEMU's `safe_syscall`)
//! A guest signal must interrupt a blocking system call. The host handler records the signal
//! in this thread's mailbox and sets its `pending` flag. A signal that arrives after remu
//! last looked at the mailbox but before the kernel entered the call would be lost (the call
//! would block); so on x86-64 hosts blocking calls go through a tiny assembly routine that
//! checks `pending` right before its `syscall` instruction, and the handler rewinds a thread
//! interrupted between that check and the instruction to a path that returns `-ERESTARTSYS`.
//! Other hosts use a plain call and keep that (tiny) window.
//!
//! # Signal dispositions
//! The host disposition of a signal mirrors the guest's: a guest `SIG_DFL` is a host
//! `SIG_DFL` (the kernel then terminates, stops or ignores exactly as it would natively, with
//! the right wait status for the parent), `SIG_IGN` is `SIG_IGN`, and a guest handler is the
//! host handler of this module, which only records the signal and asks the vCPU to stop
//! (`exit_request`). The host signal mask of each thread mirrors its guest mask, so the host
//! kernel also does the queueing and picks the receiving thread. A host thread that runs no
//! guest code and still gets such a signal (a helper thread that inherited a guest mask)
//! blocks all signals from then on and re-sends the signal to a guest thread.

use std::cell::UnsafeCell;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

/// A Linux errno value (positive). Guest and host numbers agree on every supported ISA
/// (asm-generic errno.h, also used by x86-64 and s390x).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

/// Result of a system call: a value or an errno.
pub type SysResult<T = u64> = Result<T, Errno>;

/// Kernel-internal "restart this call" code (the guest never sees it).
pub const ERESTARTSYS: i32 = 512;
/// Kernel-internal "restart unless a handler ran" code (poll, nanosleep, sigsuspend...).
pub const ERESTARTNOHAND: i32 = 514;

impl Errno {
    /// The errno of the last failed libc call on this thread.
    pub fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
    }
    /// The symbolic name (`ENOENT`) and description, for strace.
    pub fn describe(self) -> String {
        let msg = std::io::Error::from_raw_os_error(self.0).to_string();
        let msg = msg.split(" (os error").next().unwrap_or("").to_string();
        format!("errno={} ({msg})", self.0)
    }
}

/// An address inside the guest reservation whose range `mmap.rs` checked against the guest
/// page permissions. Only `mmap.rs` creates these.
#[derive(Clone, Copy, Debug)]
pub struct GuestPtr(pub(crate) u64);

impl GuestPtr {
    /// The host address.
    pub fn addr(self) -> u64 {
        self.0
    }
}

/// One argument of a raw host system call.
#[derive(Clone, Copy, Debug)]
pub enum Arg {
    /// A number (or a null pointer).
    Int(u64),
    /// Validated guest memory.
    Guest(GuestPtr),
    /// A Rust buffer or C string that lives across the call (its size is given separately).
    Host(*const u8),
}

impl From<u64> for Arg {
    fn from(v: u64) -> Arg {
        Arg::Int(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v as u64)
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Arg {
        Arg::Int(v as i64 as u64)
    }
}
impl From<usize> for Arg {
    fn from(v: usize) -> Arg {
        Arg::Int(v as u64)
    }
}
impl From<GuestPtr> for Arg {
    fn from(p: GuestPtr) -> Arg {
        Arg::Guest(p)
    }
}
impl From<Option<GuestPtr>> for Arg {
    fn from(p: Option<GuestPtr>) -> Arg {
        p.map_or(Arg::Int(0), Arg::Guest)
    }
}
impl From<&CStr> for Arg {
    fn from(s: &CStr) -> Arg {
        Arg::Host(s.as_ptr() as *const u8)
    }
}
impl From<&CString> for Arg {
    fn from(s: &CString) -> Arg {
        Arg::Host(s.as_ptr() as *const u8)
    }
}
impl From<&[u8]> for Arg {
    fn from(s: &[u8]) -> Arg {
        Arg::Host(s.as_ptr())
    }
}
impl From<&mut [u8]> for Arg {
    fn from(s: &mut [u8]) -> Arg {
        Arg::Host(s.as_ptr())
    }
}
impl From<&mut Vec<u8>> for Arg {
    fn from(s: &mut Vec<u8>) -> Arg {
        Arg::Host(s.as_ptr())
    }
}
impl From<&Vec<u8>> for Arg {
    fn from(s: &Vec<u8>) -> Arg {
        Arg::Host(s.as_ptr())
    }
}
impl From<&Vec<u64>> for Arg {
    fn from(s: &Vec<u64>) -> Arg {
        Arg::Host(s.as_ptr() as *const u8)
    }
}
impl From<&mut [u64]> for Arg {
    fn from(s: &mut [u64]) -> Arg {
        Arg::Host(s.as_ptr() as *const u8)
    }
}

impl Arg {
    fn raw(self) -> u64 {
        match self {
            Arg::Int(v) => v,
            Arg::Guest(p) => p.0,
            Arg::Host(p) => p as u64,
        }
    }
}

/// Host system calls that change the host address space or the thread structure: never
/// made through [`call`] (see the module documentation).
const REFUSED: &[libc::c_long] = &[
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_mprotect,
    libc::SYS_brk,
    libc::SYS_clone,
    libc::SYS_clone3,
    libc::SYS_exit,
    libc::SYS_exit_group,
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigreturn,
    libc::SYS_shmat,
    libc::SYS_shmdt,
    libc::SYS_madvise,
    libc::SYS_process_vm_writev,
];

fn result(rc: i64) -> SysResult {
    if (-4095..0).contains(&rc) {
        Err(Errno(-rc as i32))
    } else {
        Ok(rc as u64)
    }
}

fn args6<const N: usize>(a: [Arg; N]) -> [u64; 6] {
    let mut r = [0u64; 6];
    for (i, x) in a.into_iter().enumerate().take(6) {
        r[i] = x.raw();
    }
    r
}

/// A host system call that does not block.
pub fn call<const N: usize>(nr: libc::c_long, a: [Arg; N]) -> SysResult {
    if REFUSED.contains(&nr) {
        return Err(Errno(libc::ENOSYS));
    }
    let r = args6(a);
    // SAFETY: the call is not one that changes the host address space or threads (REFUSED);
    // every pointer argument is validated guest memory or a live Rust buffer (Arg), and the
    // kernel checks each access itself.
    let rc = unsafe { libc::syscall(nr, r[0], r[1], r[2], r[3], r[4], r[5]) };
    if rc == -1 {
        Err(Errno::last())
    } else {
        Ok(rc as u64)
    }
}

/// A host system call that may block: returns `Err(ERESTARTSYS)` when a signal for the guest
/// arrived before or during it (see the module documentation).
pub fn blocking<const N: usize>(nr: libc::c_long, a: [Arg; N]) -> SysResult {
    if REFUSED.contains(&nr) {
        return Err(Errno(libc::ENOSYS));
    }
    let r = args6(a);
    let flag = pending_flag();
    let rc = raw_blocking(flag, nr, r);
    match result(rc) {
        Err(Errno(libc::EINTR)) if signal_pending() => Err(Errno(ERESTARTSYS)),
        other => other,
    }
}

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".globl remu_safe_syscall_base",
    ".globl remu_safe_syscall_start",
    ".globl remu_safe_syscall_end",
    ".globl remu_safe_syscall_interrupted",
    ".p2align 4",
    "remu_safe_syscall_base:",
    // rdi = &pending, rsi = nr, rdx, rcx, r8, r9, [rsp+8], [rsp+16] = arguments 1..6
    "mov r11, rdi",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "mov r10, r9",
    "mov r8, [rsp+8]",
    "mov r9, [rsp+16]",
    "remu_safe_syscall_start:",
    "cmp dword ptr [r11], 0",
    "jne remu_safe_syscall_interrupted",
    "syscall",
    "remu_safe_syscall_end:",
    "ret",
    "remu_safe_syscall_interrupted:",
    "mov rax, -512",
    "ret",
);

#[cfg(target_arch = "x86_64")]
extern "C" {
    fn remu_safe_syscall_base(
        pending: *const AtomicU32,
        nr: i64,
        a1: u64,
        a2: u64,
        a3: u64,
        a4: u64,
        a5: u64,
        a6: u64,
    ) -> i64;
    static remu_safe_syscall_start: u8;
    static remu_safe_syscall_end: u8;
    static remu_safe_syscall_interrupted: u8;
}

#[cfg(target_arch = "x86_64")]
fn raw_blocking(flag: *const AtomicU32, nr: libc::c_long, r: [u64; 6]) -> i64 {
    // SAFETY: the routine performs exactly one system call with these arguments (same
    // contract as `call`; REFUSED was checked by the caller) after reading `*flag`, a live
    // thread-local atomic of this thread.
    unsafe { remu_safe_syscall_base(flag, nr, r[0], r[1], r[2], r[3], r[4], r[5]) }
}

#[cfg(not(target_arch = "x86_64"))]
fn raw_blocking(flag: *const AtomicU32, nr: libc::c_long, r: [u64; 6]) -> i64 {
    // SAFETY: `flag` is this thread's live mailbox flag.
    if unsafe { &*flag }.load(Ordering::Acquire) != 0 {
        return -(ERESTARTSYS as i64);
    }
    // SAFETY: as in `call`.
    let rc = unsafe { libc::syscall(nr, r[0], r[1], r[2], r[3], r[4], r[5]) };
    if rc == -1 {
        -(Errno::last().0 as i64)
    } else {
        rc
    }
}

// ---------------------------------------------------------------------------------------
// The per-thread signal mailbox.

/// Size of a siginfo (the same on every 64-bit Linux).
pub const SIGINFO_SIZE: usize = 128;

struct Mailbox {
    /// Non-zero when a signal was recorded and not yet taken (read by the safe-syscall routine).
    pending: AtomicU32,
    /// Host signals recorded (bit n-1 for signal n).
    bits: AtomicU64,
    /// The siginfo of each recorded signal.
    infos: UnsafeCell<[[u8; SIGINFO_SIZE]; 64]>,
    /// The `exit_request` word of this thread's vCPU, or null.
    exit_request: AtomicPtr<AtomicU32>,
}

thread_local! {
    static MAILBOX: Mailbox = const {
        Mailbox {
            pending: AtomicU32::new(0),
            bits: AtomicU64::new(0),
            infos: UnsafeCell::new([[0; SIGINFO_SIZE]; 64]),
            exit_request: AtomicPtr::new(std::ptr::null_mut()),
        }
    };
}

fn pending_flag() -> *const AtomicU32 {
    MAILBOX.with(|m| &m.pending as *const AtomicU32)
}

/// Whether a signal was recorded for this thread and not yet taken.
pub fn signal_pending() -> bool {
    MAILBOX.with(|m| m.pending.load(Ordering::Acquire) != 0)
}

/// A guest thread to re-send signals to that the kernel gave to a host thread that runs no
/// guest code (such as accel-tcg's JIT worker, which inherits a guest thread's mask).
static GUEST_TID: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Registers the `exit_request` word the signal handler sets to stop this thread's vCPU.
/// The word must stay valid until [`clear_exit_request_word`] is called.
pub fn set_exit_request_word(w: &AtomicU32) {
    MAILBOX.with(|m| m.exit_request.store(w as *const AtomicU32 as *mut AtomicU32, Ordering::Release));
    GUEST_TID.store(gettid(), Ordering::Release);
}

/// Unregisters the word (before the vCPU is dropped, when the thread ends): the thread takes
/// no more signals.
pub fn clear_exit_request_word() {
    let _ = block_all();
    MAILBOX.with(|m| m.exit_request.store(std::ptr::null_mut(), Ordering::Release));
    let _ = GUEST_TID.compare_exchange(gettid(), getpid(), Ordering::AcqRel, Ordering::Acquire);
}

/// Takes every recorded signal of this thread: (host signal number, raw siginfo).
pub fn take_signals() -> Vec<(i32, [u8; SIGINFO_SIZE])> {
    let mut out = Vec::new();
    let old = block_all();
    MAILBOX.with(|m| {
        m.pending.store(0, Ordering::Release);
        let bits = m.bits.swap(0, Ordering::AcqRel);
        for n in 0..64 {
            if bits & (1 << n) != 0 {
                // SAFETY: every signal is blocked on this thread, so the handler (the only
                // other writer, which runs on this thread) cannot run during the read.
                let info = unsafe { (*m.infos.get())[n] };
                out.push((n as i32 + 1, info));
            }
        }
    });
    restore_mask(&old);
    out
}

/// Puts a signal back into the mailbox (it could not be delivered yet).
pub fn requeue_signal(sig: i32, info: &[u8; SIGINFO_SIZE]) {
    if !(1..=64).contains(&sig) {
        return;
    }
    let old = block_all();
    MAILBOX.with(|m| {
        // SAFETY: signals are blocked on this thread (see take_signals).
        unsafe { (*m.infos.get())[sig as usize - 1] = *info };
        m.bits.fetch_or(1 << (sig - 1), Ordering::AcqRel);
        m.pending.store(1, Ordering::Release);
    });
    restore_mask(&old);
}

/// Marks the mailbox as pending without a signal (forces the next blocking call to return
/// `ERESTARTSYS` and the vCPU to stop), e.g. after unblocking signals.
pub fn poke_mailbox() {
    MAILBOX.with(|m| {
        m.pending.store(1, Ordering::Release);
        let p = m.exit_request.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: registered words stay valid until cleared (set_exit_request_word).
            unsafe { (*p).store(1, Ordering::Release) };
        }
    });
}

/// Whether compiled code raises host signal `sig` itself (`ir::backend::HOST_FAULT_SIGNALS`):
/// remu's handler stays installed for it whatever the guest's disposition, and offers each
/// such fault to the backend first.
pub fn faults_of_compiled_code(sig: i32) -> bool {
    ir::backend::HOST_FAULT_SIGNALS.contains(&sig)
}

extern "C" fn host_signal_handler(sig: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    if !(1..=64).contains(&sig) || info.is_null() {
        return;
    }
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let code = unsafe { (*info).si_code };
    if faults_of_compiled_code(sig) && code > 0 {
        // A guest access the host MMU refused inside compiled code (the JIT relies on the
        // host's protections, which mirror the guest's), or compiled code's trap for an
        // access it leaves to the reference evaluator: the backend turns it into a guest
        // exception and resumes the context at its exit path.
        // SAFETY: info and uc are this SA_SIGINFO handler's arguments.
        if unsafe { ir::backend::handle_host_fault(sig, info as *mut libc::c_void, uc) } {
            return;
        }
        // remu's own write to a guest page that another thread has just write-protected for
        // its translated code (the only host-read-only page the guest may write): give the
        // write access back and retry.
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as u64;
        if sig == libc::SIGSEGV && code == 2 /* SEGV_ACCERR */ && accel_tcg::code_protect::on_write_fault(addr) {
            return;
        }
    }
    if matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE) && code > 0 {
        // A fault of remu itself (guest faults are values or handled above, never other host
        // signals), or a Rust-side access to a file mapping beyond the end of its file: die
        // of it, as the guest would.
        // SAFETY: resetting a disposition is async-signal-safe.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
        return;
    }
    let guest_thread = MAILBOX.with(|m| !m.exit_request.load(Ordering::Acquire).is_null());
    if !guest_thread && !uc.is_null() {
        // A thread that runs no guest code: block every signal on it from now on (the mask
        // restored when the handler returns) and hand the signal to a guest thread. The
        // sender's siginfo is not kept (the guest sees a tgkill from its own process).
        // SAFETY: for SA_SIGINFO handlers the third argument is the interrupted context,
        // whose uc_sigmask the kernel restores on return; tgkill is async-signal-safe.
        unsafe {
            let ctx = &mut *(uc as *mut libc::ucontext_t);
            libc::sigfillset(&mut ctx.uc_sigmask);
            let to = GUEST_TID.load(Ordering::Acquire);
            if to > 0 {
                libc::syscall(libc::SYS_tgkill, libc::getpid(), to, sig);
            }
        }
        return;
    }
    MAILBOX.with(|m| {
        // SAFETY: the handler runs with every signal blocked (sa_mask is full), so it is the
        // only code touching this thread's mailbox right now; `info` has SIGINFO_SIZE bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                info as *const u8,
                (*m.infos.get())[sig as usize - 1].as_mut_ptr(),
                SIGINFO_SIZE,
            )
        };
        m.bits.fetch_or(1 << (sig - 1), Ordering::AcqRel);
        m.pending.store(1, Ordering::Release);
        let p = m.exit_request.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: registered words stay valid until cleared (set_exit_request_word).
            unsafe { (*p).store(1, Ordering::Release) };
        }
    });
    #[cfg(target_arch = "x86_64")]
    if !uc.is_null() {
        // SAFETY: for SA_SIGINFO handlers the third argument is the interrupted context; the
        // labels are symbols of the routine above.
        unsafe {
            let uc = &mut *(uc as *mut libc::ucontext_t);
            let pc = uc.uc_mcontext.gregs[libc::REG_RIP as usize] as u64;
            let start = &remu_safe_syscall_start as *const u8 as u64;
            let end = &remu_safe_syscall_end as *const u8 as u64;
            if pc >= start && pc < end {
                uc.uc_mcontext.gregs[libc::REG_RIP as usize] = &remu_safe_syscall_interrupted as *const u8 as i64;
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = uc;
}

/// A host disposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostAction {
    /// SIG_DFL.
    Default,
    /// SIG_IGN.
    Ignore,
    /// Record and forward to the guest; `flags` may carry SA_NOCLDSTOP / SA_NOCLDWAIT.
    Forward {
        /// Extra sa_flags.
        flags: i32,
    },
}

/// Sets the host disposition of host signal `sig`.
pub fn set_host_action(sig: i32, action: HostAction) -> SysResult<()> {
    if sig == libc::SIGKILL || sig == libc::SIGSTOP || !(1..=64).contains(&sig) {
        return Ok(());
    }
    // SAFETY: a zeroed sigaction is a valid initial value; we fill in every field we use.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    match action {
        HostAction::Default => sa.sa_sigaction = libc::SIG_DFL,
        HostAction::Ignore => sa.sa_sigaction = libc::SIG_IGN,
        HostAction::Forward { flags } => {
            sa.sa_sigaction = host_signal_handler as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | (flags & (libc::SA_NOCLDSTOP | libc::SA_NOCLDWAIT));
        }
    }
    // SAFETY: sa_mask is a plain sigset inside sa.
    unsafe { libc::sigfillset(&mut sa.sa_mask) };
    // SAFETY: sa is fully initialized; the handler is async-signal-safe (atomics only).
    let rc = unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Whether host signal `sig` is ignored (SIG_IGN) right now (inherited across exec).
pub fn host_ignored(sig: i32) -> bool {
    // SAFETY: querying a disposition into a zeroed sigaction.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut sa) == 0 && sa.sa_sigaction == libc::SIG_IGN
    }
}

/// A saved host signal mask.
pub struct SavedMask(libc::sigset_t);

/// Blocks every signal on this thread; returns the previous mask.
pub fn block_all() -> SavedMask {
    // SAFETY: sigset_t values are plain data initialized by sigfillset/pthread_sigmask.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        SavedMask(old)
    }
}

/// Restores a mask saved by [`block_all`].
pub fn restore_mask(m: &SavedMask) {
    // SAFETY: m holds a mask returned by the kernel.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &m.0, std::ptr::null_mut()) };
}

fn sigset_from_bits(bits: u64) -> libc::sigset_t {
    // SAFETY: sigemptyset initializes the set; sigaddset only for valid numbers.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        for n in 1..=64 {
            if bits & (1u64 << (n - 1)) != 0 {
                libc::sigaddset(&mut s, n);
            }
        }
        s
    }
}

fn bits_from_sigset(s: &libc::sigset_t) -> u64 {
    let mut bits = 0u64;
    for n in 1..=64 {
        // SAFETY: s is an initialized sigset.
        if unsafe { libc::sigismember(s, n) } == 1 {
            bits |= 1u64 << (n - 1);
        }
    }
    bits
}

/// Sets this thread's host signal mask (bit n-1 = host signal n). Synchronous fault
/// signals are never blocked on the host.
pub fn set_host_mask(bits: u64) {
    let never = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGKILL, libc::SIGSTOP];
    let mut b = bits;
    for s in never {
        b &= !(1u64 << (s - 1));
    }
    let set = sigset_from_bits(b);
    // SAFETY: set is initialized.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) };
}

/// This thread's host signal mask.
pub fn host_mask() -> u64 {
    // SAFETY: querying the mask into an initialized set.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut s);
        bits_from_sigset(&s)
    }
}

/// Signals pending on the host for this thread or process.
pub fn host_pending() -> u64 {
    // SAFETY: as host_mask.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        libc::sigpending(&mut s);
        bits_from_sigset(&s)
    }
}

/// Waits with host mask `bits` until a forwarded signal arrives (rt_sigsuspend). Returns
/// at once when the mailbox already holds one.
pub fn sigsuspend(bits: u64) {
    let never = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];
    let mut b = bits;
    for s in never {
        b &= !(1u64 << (s - 1));
    }
    let set = sigset_from_bits(b);
    let _ = blocking(libc::SYS_rt_sigsuspend, [Arg::Host(&set as *const libc::sigset_t as *const u8), Arg::Int(8)]);
}

/// Host thread id.
pub fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// Host process id.
pub fn getpid() -> i32 {
    // SAFETY: as gettid.
    unsafe { libc::getpid() }
}

/// fork(2) through libc (which keeps its own locks consistent in the child).
pub fn fork() -> SysResult<i32> {
    // SAFETY: the child continues with a copy of this thread only; the caller runs only its
    // own vCPU loop there (no locks held by other threads are taken before exec or exit,
    // except in guests that fork from multi-threaded programs, as natively).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        Err(Errno::last())
    } else {
        Ok(pid)
    }
}

/// A fork-like clone(2) with another exit signal than SIGCHLD.
pub fn fork_with_signal(exit_signal: i32) -> SysResult<i32> {
    // SAFETY: without CLONE_VM this is fork with another termination signal; the child gets
    // a copy of the address space and continues on this thread's stack.
    let rc = unsafe { libc::syscall(libc::SYS_clone, (exit_signal & 0xff) as u64, 0u64, 0u64, 0u64, 0u64) };
    if rc < 0 {
        Err(Errno::last())
    } else {
        Ok(rc as i32)
    }
}

/// execve(2). Returns only on failure.
pub fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> Errno {
    let mut av: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    av.push(std::ptr::null());
    let mut ev: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ptr()).collect();
    ev.push(std::ptr::null());
    // SAFETY: path, argv and envp are NUL-terminated strings in null-terminated arrays that
    // outlive the call.
    unsafe { libc::execve(path.as_ptr(), av.as_ptr(), ev.as_ptr()) };
    Errno::last()
}

/// Ends the calling thread only (exit(2)), without unwinding or running destructors.
pub fn exit_thread(code: i32) -> ! {
    // SAFETY: SYS_exit ends only this thread; nothing on its stack is used afterwards.
    unsafe {
        libc::syscall(libc::SYS_exit, code as u64);
    }
    std::process::abort()
}

/// Terminates the process with signal `sig` as its default action would (no core file).
pub fn die_of_signal(sig: i32) -> ! {
    // SAFETY: plain libc calls on values of this function.
    unsafe {
        let rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        libc::setrlimit(libc::RLIMIT_CORE, &rl);
        libc::signal(sig, libc::SIG_DFL);
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        libc::sigaddset(&mut s, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &s, std::ptr::null_mut());
        libc::syscall(libc::SYS_tgkill, libc::getpid(), gettid(), sig);
        // Signals that stop or are ignored by default do not end the process.
        libc::signal(libc::SIGKILL, libc::SIG_DFL);
    }
    std::process::exit(128 + sig)
}

/// Raises `sig` on this thread with the default action (stop signals stop the process and
/// return on SIGCONT); the disposition is restored to forwarding afterwards.
pub fn raise_default(sig: i32) {
    let _ = set_host_action(sig, HostAction::Default);
    // SAFETY: tgkill to ourselves with a valid signal number.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        libc::sigaddset(&mut s, sig);
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &s, &mut old);
        libc::syscall(libc::SYS_tgkill, libc::getpid(), gettid(), sig);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// The host page size.
pub fn page_size() -> u64 {
    // SAFETY: sysconf has no memory effects.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as u64 }
}

/// Closes a host file descriptor owned by remu.
pub fn close(fd: i32) {
    // SAFETY: closing a descriptor remu opened itself.
    unsafe { libc::close(fd) };
}
