//! Crossing between Rust and JIT code: the entry trampoline, the fault landing pad, and
//! reading back code bytes.
//!
//! Rust cannot call a `tail`-convention function directly, so the entry is a small assembly
//! trampoline (x86-64 System V): `remu_jit_enter(env, entry)` saves every callee-saved
//! register, puts `env` in r15 (the pinned register all blocks use), records its stack
//! pointer in `EnvHeader::tramp_sp` and calls the block with the tail convention's registers
//! (rdi = env, rsi = 0). Blocks hop from one to the next with `return_call_indirect` at
//! constant stack depth until one returns an exit code; the trampoline restores the registers
//! (r15 included: it is the caller's) and returns it.
//!
//! `remu_jit_landing` is where the host-fault handler (`fault.rs`) sends a block whose guest
//! load faulted: it drops the block's frame by resetting the stack pointer from `tramp_sp` and
//! leaves through the trampoline's epilogue with the exception exit code.

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
    "mov qword ptr [rdi + {tramp_sp}], rsp",
    "mov rax, rsi",
    "xor esi, esi",
    "call rax",
    "remu_jit_resume:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size remu_jit_enter, . - remu_jit_enter",
    ".p2align 4",
    ".globl remu_jit_landing",
    ".type remu_jit_landing,@function",
    "remu_jit_landing:",
    "mov rsp, qword ptr [r15 + {tramp_sp}]",
    "mov eax, {exit_exception}",
    "jmp remu_jit_resume",
    ".size remu_jit_landing, . - remu_jit_landing",
    tramp_sp = const ir::backend::EnvHeader::OFF_TRAMP_SP,
    exit_exception = const crate::exits::EXIT_EXCEPTION,
);

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn remu_jit_enter(env: *mut u8, entry: u64) -> u64;
    fn remu_jit_landing();
}

/// Address of the fault landing pad.
#[cfg(target_arch = "x86_64")]
pub(crate) fn landing_pad() -> u64 {
    remu_jit_landing as *const () as u64
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
