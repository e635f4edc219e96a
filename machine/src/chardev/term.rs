//! The host terminal and host signals: raw mode for the console, restored on every way out,
//! and SIGINT/SIGTERM/SIGHUP turned into an orderly stop.
//!
//! `unsafe` lives here because termios and sigaction are libc calls. Restoration happens
//! in the guard's `Drop` (normal exit and unwinding), in a panic hook (a panic on another
//! thread ends the process through `main`'s path, but the terminal is fixed first), and the
//! signal handler only writes to an eventfd, which is async-signal-safe; the I/O thread then
//! stops the machine the normal way.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once};

/// The terminal settings in force before raw mode, restored by [`restore`].
static SAVED: Mutex<Option<(RawFd, libc::termios)>> = Mutex::new(None);
static PANIC_HOOK: Once = Once::new();

/// Restores the terminal saved by [`RawMode::enter`], if any. Safe to call many times.
pub fn restore() {
    let saved = match SAVED.lock() {
        Ok(mut g) => g.take(),
        Err(p) => p.into_inner().take(),
    };
    if let Some((fd, t)) = saved {
        // SAFETY: `t` is a termios obtained from tcgetattr on the same fd; tcsetattr only
        // reads it. A closed or non-tty fd makes the call fail harmlessly.
        unsafe {
            libc::tcsetattr(fd, libc::TCSANOW, &t);
        }
    }
}

/// Raw mode on a terminal for as long as this guard lives.
pub struct RawMode(());

impl RawMode {
    /// Puts `fd` in raw mode (no echo, no line editing, no signal keys, 8-bit input; output
    /// post-processing kept so "\n" still returns the carriage) if it is a terminal.
    /// Returns `None` if `fd` is not a terminal.
    pub fn enter(fd: RawFd) -> io::Result<Option<RawMode>> {
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(fd) } != 1 {
            return Ok(None);
        }
        // SAFETY: termios is plain old data; all-zero is a valid value to be overwritten.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `t` is a valid, writable termios.
        if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        match SAVED.lock() {
            Ok(mut g) => *g = Some((fd, t)),
            Err(p) => *p.into_inner() = Some((fd, t)),
        }
        PANIC_HOOK.call_once(|| {
            let prev = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                prev(info);
            }));
        });
        let mut raw = t;
        raw.c_iflag &= !(libc::IGNBRK
            | libc::BRKINT
            | libc::PARMRK
            | libc::ISTRIP
            | libc::INLCR
            | libc::IGNCR
            | libc::ICRNL
            | libc::IXON);
        raw.c_oflag |= libc::OPOST;
        raw.c_lflag &= !(libc::ECHO | libc::ECHONL | libc::ICANON | libc::IEXTEN | libc::ISIG);
        raw.c_cflag &= !(libc::CSIZE | libc::PARENB);
        raw.c_cflag |= libc::CS8;
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: `raw` is a valid termios derived from the current one.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            let e = io::Error::last_os_error();
            restore();
            return Err(e);
        }
        Ok(Some(RawMode(())))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore();
    }
}

static SIGNAL_FD: AtomicI32 = AtomicI32::new(-1);
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    LAST_SIGNAL.store(sig, Ordering::Relaxed);
    let fd = SIGNAL_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let one: u64 = 1;
        // SAFETY: write(2) is async-signal-safe; `one` is 8 readable bytes, the size an
        // eventfd expects. The fd stays open for the life of the process (see below).
        unsafe {
            libc::write(fd, (&one as *const u64).cast(), 8);
        }
    }
}

/// Routes SIGINT, SIGTERM and SIGHUP to a write on eventfd `fd` (which must stay open for
/// the rest of the process). [`last_signal`] tells which one arrived.
pub fn forward_stop_signals(fd: RawFd) -> io::Result<()> {
    SIGNAL_FD.store(fd, Ordering::Relaxed);
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: sigaction is given a zeroed struct with a valid handler that only touches
        // atomics and write(2); SA_RESTART keeps other threads' syscalls from failing.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The last stop signal received (0 if none).
pub fn last_signal() -> i32 {
    LAST_SIGNAL.load(Ordering::Relaxed)
}
