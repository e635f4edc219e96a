//! Releasing a VM off remu's exit path.
//!
//! Destroying a VM that has the in-kernel irqchip and PIT unregisters each of their I/O
//! devices, and the kernel waits for an SRCU grace period of the VM after every one. Once a
//! VM has gone through a few grace periods in a row, the kernel spaces further ones a
//! scheduler tick apart, so the final close of the VM fd takes 15-30 ms on a small or
//! nested host (measured: 22 ms, two thirds of a whole `remu system` run of a small guest),
//! all of it after the guest has stopped and nobody is waiting for anything but the exit.
//!
//! [`release_in_background`] hands that final reference to a short-lived child process:
//! the child closes every other descriptor it inherited at once (so a pipe reading remu's
//! output sees end-of-file when remu exits), then closes the VM fd, paying the grace periods,
//! and exits. remu's own exit then only drops references. Guest RAM is never copied into
//! the child: [`crate::vm::map_ram`] marks it `MADV_DONTFORK` (as QEMU does for guest RAM).
//! The child is reparented to init when remu exits, which reaps it.

use std::os::fd::RawFd;

/// Forks a child that holds the last reference to `vm_fd` and releases it; the caller
/// (which must be on its way out of the process, with every vCPU stopped) then drops its
/// own references cheaply. Returns false if the fork failed (the caller's close then pays
/// the cost itself, as before).
pub fn release_in_background(vm_fd: RawFd) -> bool {
    // SAFETY: fork() may be called with other threads alive; the child then runs only
    // async-signal-safe calls (raw close_range/close system calls and _exit) on its copy of
    // the memory, touching no lock or allocator state another thread could have held.
    match unsafe { libc::fork() } {
        0 => {
            // SAFETY: see above; the child never returns into Rust code.
            unsafe {
                close_all_but(vm_fd);
                libc::close(vm_fd);
                libc::_exit(0)
            }
        }
        -1 => false,
        _ => true,
    }
}

/// Closes every descriptor except `keep`, in the forked child.
///
/// # Safety
/// Only for the child of [`release_in_background`]: it closes descriptors owned by Rust
/// objects that will never be used again in that process.
unsafe fn close_all_but(keep: RawFd) {
    let keep = keep as libc::c_uint;
    // SAFETY: plain system calls on descriptor numbers.
    unsafe {
        let lo = if keep > 0 { libc::syscall(libc::SYS_close_range, 0, keep - 1, 0) } else { 0 };
        let hi = libc::syscall(libc::SYS_close_range, keep + 1, libc::c_uint::MAX, 0);
        if lo != 0 || hi != 0 {
            // Kernels before 5.9 have no close_range: close one by one.
            for fd in 0..4096 {
                if fd != keep as RawFd {
                    libc::close(fd);
                }
            }
        }
    }
}
