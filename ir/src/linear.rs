//! Guest memory accesses in user mode ([`crate::backend::MemMode::Linear`]): the one definition
//! of what `ld`, `st`, `atomic_rmw` and `cmpxchg` do, used by the evaluator and the interpreter,
//! and by the JIT's slow path.
//!
//! The guest's address space is a host reservation of `va_limit` bytes at `guest_base` (made by
//! linux-user); a table of one permission byte per 4 KiB page says what the guest may do. An
//! access is allowed when the address is below `va_limit` and every page it touches has the
//! needed permission; otherwise it returns a fault and touches nothing. Pages marked
//! [`perm::CODE`] hold translated code: a store there first calls the environment's
//! code-write hook, which invalidates that code. Byte order comes from the `MemOp` alone.
//!
//! # Safety argument
//! Host memory is touched only at `guest_base + addr` for `addr + size <= va_limit` after the
//! permission check, and the owner of the environment (linux-user) keeps the whole reservation
//! mapped (PROT_NONE where the guest has nothing) for as long as any environment refers to it.
//! Guest memory is shared with other guest threads and processes, so every plain access is one
//! host access of its size ([`host_load`], [`host_store`]): an aligned one is single-copy
//! atomic, as the guest ISAs promise (a relaxed host atomic), a misaligned one an unaligned
//! host access; atomic guest operations are host atomics.

use std::sync::atomic::{AtomicI16, AtomicI32, AtomicI8, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

use crate::backend::{perm, EnvHeader, EXC_LOAD_FAULT, EXC_MISALIGNED_LOAD, EXC_MISALIGNED_STORE, EXC_STORE_FAULT};
use crate::types::{Align, AtomicOp, Endian, MemOp, Size, Ty};

/// A failed access: exception cause and address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFault {
    /// One of the `EXC_*` causes.
    pub cause: u32,
    /// The guest address.
    pub addr: u64,
}

#[inline(always)]
fn page_perm(env: &EnvHeader, page: u64) -> u8 {
    // SAFETY: callers check `page < va_limit >> PAGE_BITS`; the table has that many entries and
    // lives as long as the environment (EnvHeader contract).
    unsafe { (*env.page_perms.add(page as usize)).load(Ordering::Relaxed) }
}

/// Checks an access of `size` bytes at `addr` needing `need` permission bits. On success
/// returns the host address. For stores to code pages, calls the code-write hook first.
#[inline(always)]
pub fn check(env: &EnvHeader, addr: u64, size: u64, need: u8, fault: u32) -> Result<*mut u8, MemFault> {
    let end = addr.wrapping_add(size - 1);
    if end < addr || end >= env.va_limit {
        return Err(MemFault { cause: fault, addr });
    }
    let first = addr >> perm::PAGE_BITS;
    let last = end >> perm::PAGE_BITS;
    for page in first..=last {
        let p = page_perm(env, page);
        if p & need != need {
            return Err(MemFault { cause: fault, addr: addr.max(page << perm::PAGE_BITS) });
        }
        if need & perm::WRITE != 0 && p & perm::CODE != 0 {
            if let Some(hook) = env.code_write_hook {
                let env_ptr = env as *const EnvHeader as *mut EnvHeader;
                // SAFETY: the hook is installed by the environment's owner together with
                // `hook_ctx`, and is given the same environment the access runs on.
                if unsafe { hook(env_ptr, page << perm::PAGE_BITS, perm::PAGE_SIZE) } != 0 {
                    return Err(MemFault { cause: fault, addr });
                }
            }
        }
    }
    Ok((env.guest_base.wrapping_add(addr)) as *mut u8)
}

#[inline(always)]
fn misaligned(mop: MemOp, addr: u64) -> bool {
    mop.align == Align::Natural && addr & (mop.size.bytes() as u64 - 1) != 0
}

/// Converts `size` bytes read from memory to a value (the one place where load byte order is
/// applied).
#[inline(always)]
pub fn from_mem_bytes(raw: u64, size: Size, endian: Endian) -> u64 {
    // `raw` holds the bytes in memory order in a little-endian u64 (byte 0 lowest).
    match (size, endian) {
        (Size::S8, _) => raw & 0xff,
        (Size::S16, Endian::Little) => raw & 0xffff,
        (Size::S16, Endian::Big) => (raw as u16).swap_bytes() as u64,
        (Size::S32, Endian::Little) => raw & 0xffff_ffff,
        (Size::S32, Endian::Big) => (raw as u32).swap_bytes() as u64,
        (Size::S64, Endian::Little) => raw,
        (Size::S64, Endian::Big) => raw.swap_bytes(),
    }
}

/// Extends a loaded value per the MemOp to type `ty`.
#[inline(always)]
pub fn extend(v: u64, mop: MemOp, ty: Ty) -> u64 {
    let bits = mop.size.bits();
    let v = if mop.signed && bits < 64 { (((v << (64 - bits)) as i64) >> (64 - bits)) as u64 } else { v };
    v & ty.mask()
}

/// An integer a plain guest access reads or writes, with the host atomic of its size.
pub trait HostWord: Copy {
    /// Loads `Self` from host address `p` in one access (see the module doc).
    ///
    /// # Safety
    /// `p .. p + size_of::<Self>()` is mapped and readable.
    unsafe fn load(p: *const u8) -> Self;
    /// Stores `v` at host address `p` in one access (see the module doc).
    ///
    /// # Safety
    /// `p .. p + size_of::<Self>()` is mapped and writable.
    unsafe fn store(p: *mut u8, v: Self);
}

macro_rules! host_word {
    ($($t:ty: $atomic:ty),*) => {$(
        impl HostWord for $t {
            #[inline(always)]
            unsafe fn load(p: *const u8) -> Self {
                if (p as usize) % std::mem::size_of::<$t>() == 0 {
                    // SAFETY: per the contract, mapped and readable; aligned for the atomic.
                    unsafe { (*(p as *const $atomic)).load(Ordering::Relaxed) }
                } else {
                    // SAFETY: per the contract; no alignment needed.
                    unsafe { std::ptr::read_unaligned(p as *const $t) }
                }
            }
            #[inline(always)]
            unsafe fn store(p: *mut u8, v: Self) {
                if (p as usize) % std::mem::size_of::<$t>() == 0 {
                    // SAFETY: per the contract, mapped and writable; aligned for the atomic.
                    unsafe { (*(p as *const $atomic)).store(v, Ordering::Relaxed) }
                } else {
                    // SAFETY: per the contract; no alignment needed.
                    unsafe { std::ptr::write_unaligned(p as *mut $t, v) }
                }
            }
        }
    )*};
}
host_word!(u8: AtomicU8, u16: AtomicU16, u32: AtomicU32, u64: AtomicU64, i8: AtomicI8, i16: AtomicI16, i32: AtomicI32);

/// Loads a `T` from host address `p` in one access (host byte order).
///
/// # Safety
/// `p .. p + size_of::<T>()` is mapped and readable.
#[inline(always)]
pub unsafe fn host_load<T: HostWord>(p: *const u8) -> T {
    // SAFETY: forwarded contract.
    unsafe { T::load(p) }
}

/// Stores a `T` at host address `p` in one access.
///
/// # Safety
/// `p .. p + size_of::<T>()` is mapped and writable.
#[inline(always)]
pub unsafe fn host_store<T: HostWord>(p: *mut u8, v: T) {
    // SAFETY: forwarded contract.
    unsafe { T::store(p, v) }
}

/// Loads per `mop` and extends to `ty`.
#[inline]
pub fn load(env: &EnvHeader, addr: u64, mop: MemOp, ty: Ty) -> Result<u64, MemFault> {
    if misaligned(mop, addr) {
        return Err(MemFault { cause: EXC_MISALIGNED_LOAD, addr });
    }
    let n = mop.size.bytes() as u64;
    let host = check(env, addr, n, perm::READ, EXC_LOAD_FAULT)?;
    // SAFETY: `check` proved [addr, addr+n) lies in the guest reservation and is readable.
    let raw = unsafe {
        match mop.size {
            Size::S8 => host_load::<u8>(host) as u64,
            Size::S16 => u16::from_le(host_load(host)) as u64,
            Size::S32 => u32::from_le(host_load(host)) as u64,
            Size::S64 => u64::from_le(host_load(host)),
        }
    };
    Ok(extend(from_mem_bytes(raw, mop.size, mop.endian), mop, ty))
}

/// Converts a value to the memory-order bytes of a `size` access (the one place where store
/// byte order is applied); the result is little-endian-packed like `from_mem_bytes`' input.
#[inline(always)]
pub fn to_mem_bytes(v: u64, size: Size, endian: Endian) -> u64 {
    from_mem_bytes(v, size, endian)
}

/// Stores the low bits of `v` per `mop`.
#[inline]
pub fn store(env: &EnvHeader, addr: u64, mop: MemOp, v: u64) -> Result<(), MemFault> {
    if misaligned(mop, addr) {
        return Err(MemFault { cause: EXC_MISALIGNED_STORE, addr });
    }
    let n = mop.size.bytes() as u64;
    let host = check(env, addr, n, perm::WRITE, EXC_STORE_FAULT)?;
    let raw = to_mem_bytes(v, mop.size, mop.endian);
    // SAFETY: `check` proved [addr, addr+n) lies in the guest reservation and is writable.
    unsafe {
        match mop.size {
            Size::S8 => host_store(host, raw as u8),
            Size::S16 => host_store(host, (raw as u16).to_le()),
            Size::S32 => host_store(host, (raw as u32).to_le()),
            Size::S64 => host_store(host, raw.to_le()),
        }
    }
    Ok(())
}

/// Runs `f(old) -> new` atomically on the naturally aligned location; returns the old value
/// (memory order). `f` returning `None` leaves memory unchanged (failed compare).
#[inline]
fn atomic_update(host: *mut u8, size: Size, f: impl Fn(u64) -> Option<u64>) -> u64 {
    macro_rules! cas_loop {
        ($at:ty, $t:ty) => {{
            // SAFETY: the caller checked alignment and that the location is writable guest
            // memory; host atomics of the access size are valid on any aligned address.
            let a = unsafe { &*(host as *const $at) };
            let mut old = a.load(Ordering::SeqCst);
            loop {
                let Some(new) = f(old as u64) else {
                    break old as u64;
                };
                match a.compare_exchange_weak(old, new as $t, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => break old as u64,
                    Err(o) => old = o,
                }
            }
        }};
    }
    match size {
        Size::S8 => cas_loop!(AtomicU8, u8),
        Size::S16 => cas_loop!(AtomicU16, u16),
        Size::S32 => cas_loop!(AtomicU32, u32),
        Size::S64 => cas_loop!(AtomicU64, u64),
    }
}

fn atomic_prepare(env: &EnvHeader, addr: u64, mop: MemOp) -> Result<*mut u8, MemFault> {
    let n = mop.size.bytes() as u64;
    if addr & (n - 1) != 0 {
        return Err(MemFault { cause: EXC_MISALIGNED_STORE, addr });
    }
    check(env, addr, n, perm::READ | perm::WRITE, EXC_STORE_FAULT)
}

/// Atomic read-modify-write; returns the old value extended per `mop` to `ty`. Atomics always
/// require natural alignment.
pub fn atomic_rmw(env: &EnvHeader, addr: u64, op: AtomicOp, mop: MemOp, ty: Ty, v: u64) -> Result<u64, MemFault> {
    let host = atomic_prepare(env, addr, mop)?;
    let old_raw = atomic_update(host, mop.size, |raw| {
        let old = from_mem_bytes(raw, mop.size, mop.endian);
        Some(to_mem_bytes(op.apply(mop.size, old, v), mop.size, mop.endian))
    });
    Ok(extend(from_mem_bytes(old_raw, mop.size, mop.endian), mop, ty))
}

/// Atomic compare-and-exchange; returns the old value extended per `mop` to `ty`.
pub fn cmpxchg(env: &EnvHeader, addr: u64, mop: MemOp, ty: Ty, expected: u64, new: u64) -> Result<u64, MemFault> {
    let host = atomic_prepare(env, addr, mop)?;
    let bits = mop.size.bits();
    let m = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let old_raw = atomic_update(host, mop.size, |raw| {
        let old = from_mem_bytes(raw, mop.size, mop.endian);
        (old == expected & m).then(|| to_mem_bytes(new & m, mop.size, mop.endian))
    });
    Ok(extend(from_mem_bytes(old_raw, mop.size, mop.endian), mop, ty))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An aligned 8-byte guest store is never seen half done by a concurrent guest load (both
    /// one host access): guest programs rely on it for pointers and counters shared by
    /// threads without atomics.
    #[test]
    fn aligned_plain_accesses_do_not_tear_across_threads() {
        const PAGES: usize = 1;
        let mem = crate::testing::map_guest_memory(PAGES << perm::PAGE_BITS) as usize;
        let perms: &'static [std::sync::atomic::AtomicU8] = Box::leak(
            (0..PAGES).map(|_| std::sync::atomic::AtomicU8::new(perm::READ | perm::WRITE)).collect::<Vec<_>>().into(),
        );
        let env = move || EnvHeader {
            guest_base: mem as u64,
            page_perms: perms.as_ptr(),
            va_limit: (PAGES << perm::PAGE_BITS) as u64,
            ..EnvHeader::new()
        };
        let op = MemOp::new(Size::S64, Endian::Little);
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d = done.clone();
        let writer = std::thread::spawn(move || {
            let h = env();
            let mut k = 0u64;
            while !d.load(Ordering::Relaxed) {
                store(&h, 0x100, op, if k & 1 == 0 { 0 } else { u64::MAX }).expect("writable");
                k += 1;
            }
        });
        let h = env();
        let mut torn = 0;
        for _ in 0..2_000_000 {
            let v = load(&h, 0x100, op, Ty::I64).expect("readable");
            if v != 0 && v != u64::MAX {
                torn += 1;
            }
        }
        done.store(true, Ordering::Relaxed);
        writer.join().expect("writer");
        assert_eq!(torn, 0, "loads saw a store half done");
    }
}
