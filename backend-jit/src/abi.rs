//! Crossing between Rust and JIT code: the entry trampoline, and reading back code bytes.
//!
//! Rust cannot call a `tail`-convention function directly, so the entry is a small assembly
//! trampoline (x86-64 System V): `remu_jit_enter(env, entry)` saves every callee-saved
//! register, puts `env` in r15 (the pinned register all blocks use) and calls the block with
//! the tail convention's registers (rdi = env, rsi = 0). Blocks hop from one to the next with
//! `return_call_indirect` at constant stack depth until one returns an exit code; the
//! trampoline restores the registers (r15 included: it is the caller's) and returns it.

use std::ptr::NonNull;

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl remu_jit_enter",
    ".type remu_jit_enter,@function",
    "remu_jit_enter:",
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov r15, rdi",
    "mov rax, rsi",
    "xor esi, esi",
    "call rax",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size remu_jit_enter, . - remu_jit_enter",
);

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn remu_jit_enter(env: *mut u8, entry: u64) -> u64;
}

/// Runs the block at `entry`.
///
/// # Safety
/// `entry` is a live block of this backend (or a stub), and `env` an environment with the
/// layout the block was compiled for, exclusively used by this thread during the call.
pub(crate) unsafe fn enter(entry: u64, env: NonNull<u8>) -> u64 {
    // SAFETY: the trampoline follows the System V ABI (it saves and restores every
    // callee-saved register, whatever the blocks do); per the function contract the block is
    // valid code compiled for this environment.
    unsafe { remu_jit_enter(env.as_ptr(), entry) }
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
