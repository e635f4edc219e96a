//! Crossing between Rust and JIT code: the entry trampoline, and reading back code bytes.
//!
//! Rust cannot call a `tail`-convention function directly, so a small System V trampoline,
//! itself compiled by Cranelift, calls the block (`call_indirect` with the tail signature) and
//! returns the exit code. Blocks then hop from one to the next with `return_call_indirect`,
//! at constant stack depth, until one returns to the trampoline.

use std::ptr::NonNull;

/// Signature of the trampoline: `extern "C" fn(env, block entry) -> exit code`.
pub(crate) type Trampoline = unsafe extern "C" fn(env: *mut u8, entry: u64) -> u64;

/// Runs the block at `entry` through the trampoline at `tramp`.
///
/// # Safety
/// `tramp` is the trampoline compiled by this backend, `entry` a live block of the same
/// backend (or a stub), and `env` an environment with the layout the block was compiled for,
/// exclusively used by this thread during the call.
pub(crate) unsafe fn enter(tramp: u64, entry: u64, env: NonNull<u8>) -> u64 {
    // SAFETY: `tramp` is the address of code compiled with exactly the Trampoline signature
    // (System V, two i64 arguments, one i64 result), executable in the code cache's RX view.
    let f: Trampoline = unsafe { std::mem::transmute::<usize, Trampoline>(tramp as usize) };
    // SAFETY: per the function contract.
    unsafe { f(env.as_ptr(), entry) }
}

/// The code bytes of a block, for disassembly.
///
/// # Safety
/// `[addr, addr + len)` is code this backend wrote into its code cache, which stays mapped
/// while the backend lives.
pub(crate) unsafe fn code_bytes<'a>(addr: u64, len: usize) -> &'a [u8] {
    // SAFETY: per the function contract; the RX view is readable.
    unsafe { std::slice::from_raw_parts(addr as *const u8, len) }
}
