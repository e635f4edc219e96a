//! Write protection of guest pages holding translated code, user mode (QEMU's `page_protect`
//! and `page_unprotect`).
//!
//! Compiled guest stores test only the address range (backend-jit's `memory.rs`) and leave
//! permissions to the host MMU. So whenever a block is translated from a page the guest may
//! write, the page is made host read-only (`write_protect`, from `code_reader.rs`, after
//! marking it [`perm::CODE`]), and it is made writable again when its code is invalidated
//! (`Tcg::clear_code_marks`). A compiled store to such a page faults; the dispatcher runs that
//! one instruction with the evaluator, whose store invalidates the page's code before it
//! lands (`cpu_exec.rs`).
//!
//! remu's own writes to guest memory (interpreter, evaluator, system calls) check the CODE mark
//! and invalidate first (`ir::linear`, linux-user's `GuestMemory::write`). Only a page that
//! another thread starts translating between such a check and the write makes remu itself
//! fault there: [`on_write_fault`], called by the owner of host signal handling, then gives the
//! page its write access back at once and leaves the invalidation of its code to the next
//! dispatch (`take_faulted_pages`). Compiled code that runs until then may miss that write,
//! as a RISC-V hart may until its next `fence.i`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ir::backend::perm;

use crate::env::GuestSpace;

/// Removes (`protect`) or restores host write permission on guest page `page`, which the
/// guest may write. A failure (the host's limit on mappings) is reported once: compiled
/// stores to the page would then not see its code change.
pub(crate) fn write_protect(space: &GuestSpace, page: u64, protect: bool) {
    if !set_host_write(space, page, !protect) {
        static WARNED: std::sync::Once = std::sync::Once::new();
        let e = std::io::Error::last_os_error();
        WARNED.call_once(|| eprintln!("remu: cannot change the protection of a guest code page: {e}"));
    }
}

/// mprotect of one guest page to read-only or read-write; false if it failed.
/// Async-signal-safe.
fn set_host_write(space: &GuestSpace, page: u64, writable: bool) -> bool {
    let addr = page << perm::PAGE_BITS;
    if addr >= space.va_limit {
        return true;
    }
    let prot = if writable { libc::PROT_READ | libc::PROT_WRITE } else { libc::PROT_READ };
    // SAFETY: one page inside the reservation, which the owner keeps mapped (GuestSpace
    // contract); switching a guest-writable page between read-only and read-write changes only
    // whether writes fault, and every writer handles that (see the module doc).
    unsafe {
        libc::mprotect(space.guest_base.wrapping_add(addr) as *mut libc::c_void, perm::PAGE_SIZE as usize, prot) == 0
    }
}

/// The guest space of the process (the last one registered: linux-user has one), for the
/// signal handler.
static BASE: AtomicU64 = AtomicU64::new(0);
static LIMIT: AtomicU64 = AtomicU64::new(0);
static PERMS: AtomicU64 = AtomicU64::new(0);

/// Pages (+ 1; 0 = free slot) whose write protection a fault of remu's own code removed and
/// whose code is still to be invalidated.
static FAULTED: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];
/// Some slot of `FAULTED` is in use.
static ANY_FAULTED: AtomicBool = AtomicBool::new(false);
/// `FAULTED` was full: invalidate everything.
static OVERFLOW: AtomicBool = AtomicBool::new(false);

/// Makes `space` the one [`on_write_fault`] knows.
pub(crate) fn register(space: &GuestSpace) {
    BASE.store(space.guest_base, Ordering::Release);
    LIMIT.store(space.va_limit, Ordering::Release);
    PERMS.store(space.perms as u64, Ordering::Release);
}

/// A host write fault at `host_addr` outside compiled code: if it hit a write-protected code
/// page of the guest space that the guest may write, gives the page its write access back,
/// notes it for invalidation and returns true (the write may be retried). Async-signal-safe:
/// atomics and mprotect.
pub fn on_write_fault(host_addr: u64) -> bool {
    let (base, limit, perms) =
        (BASE.load(Ordering::Acquire), LIMIT.load(Ordering::Acquire), PERMS.load(Ordering::Acquire));
    let guest = host_addr.wrapping_sub(base);
    if perms == 0 || guest >= limit {
        return false;
    }
    let page = guest >> perm::PAGE_BITS;
    // SAFETY: page < limit >> 12, the permission table's length; the table lives as long as
    // the process (GuestSpace contract).
    let p = unsafe { &*(perms as *const std::sync::atomic::AtomicU8).add(page as usize) }.load(Ordering::Acquire);
    if p & (perm::WRITE | perm::CODE) != perm::WRITE | perm::CODE {
        return false;
    }
    let space = GuestSpace { guest_base: base, perms: perms as *const _, va_limit: limit };
    if !set_host_write(&space, page, true) {
        return false;
    }
    if !FAULTED.iter().any(|s| s.compare_exchange(0, page + 1, Ordering::AcqRel, Ordering::Relaxed).is_ok()) {
        OVERFLOW.store(true, Ordering::Release);
    }
    ANY_FAULTED.store(true, Ordering::Release);
    true
}

/// What [`on_write_fault`] left to invalidate: the pages, and whether there were too many
/// to keep (then everything is to be invalidated). Cheap when there is nothing.
pub(crate) fn take_faulted_pages() -> Option<(Vec<u64>, bool)> {
    if !ANY_FAULTED.load(Ordering::Relaxed) {
        return None;
    }
    ANY_FAULTED.store(false, Ordering::Release);
    let pages = FAULTED.iter().map(|s| s.swap(0, Ordering::AcqRel)).filter(|&p| p != 0).map(|p| p - 1).collect();
    Some((pages, OVERFLOW.swap(false, Ordering::AcqRel)))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU8;

    use super::*;

    #[test]
    fn a_write_fault_on_a_protected_code_page_restores_write_access_and_is_noted() {
        const PAGE: usize = perm::PAGE_SIZE as usize;
        // SAFETY: a fresh anonymous mapping of two pages, checked below and never unmapped
        // (the registered space must outlive the test).
        let mem = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                2 * PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(mem, libc::MAP_FAILED);
        let base = mem as u64;
        let rw = perm::READ | perm::WRITE;
        let perms: &'static [AtomicU8] =
            Box::leak(Box::new([AtomicU8::new(rw | perm::EXEC | perm::CODE), AtomicU8::new(rw)]));
        let space = GuestSpace { guest_base: base, perms: perms.as_ptr(), va_limit: 2 * PAGE as u64 };
        register(&space);
        write_protect(&space, 0, true);
        // not a code page, beyond the space: not ours
        assert!(!on_write_fault(base + PAGE as u64 + 8));
        assert!(!on_write_fault(base + 2 * PAGE as u64));
        assert!(take_faulted_pages().is_none());
        assert!(on_write_fault(base + 16));
        // SAFETY: inside the mapping, which on_write_fault made writable again.
        unsafe { std::ptr::write_volatile((base + 16) as *mut u8, 7) };
        assert_eq!(take_faulted_pages(), Some((vec![0], false)));
        assert!(take_faulted_pages().is_none());
    }
}
