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
//! access faulted: it drops the block's frame by resetting the stack pointer from `tramp_sp` and
//! leaves through the trampoline's epilogue with the exception exit code.
//!
//! `remu_jit_slow_call` is how blocks call the runtime from their cold paths (memory slow
//! paths, atomics): `f(env, a0, a1, a2, a3)` with Cranelift's `preserve_all` convention (it
//! saves every register a System V call may clobber, so the block's register allocation
//! ignores the call), leaving the result in `EnvHeader::helper_result`. If `f` raised a guest
//! exception it does not return: like the landing pad it leaves compiled code with the
//! exception exit, noting its return address (less one: inside the call instruction) in
//! `EnvHeader::host_fault_pc`, which the backend maps to the guest pc (`fault_sites.rs`). So
//! a block needs no test and no exit path of its own after each such call.

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
    ".p2align 4",
    ".globl remu_jit_slow_call",
    ".type remu_jit_slow_call,@function",
    // rdi = env, rsi = f, rdx/rcx/r8/r9 = a0..a3; r15 = env (pinned in all compiled code)
    "remu_jit_slow_call:",
    "push rbp",
    "mov rbp, rsp",
    "push rax",
    "push rcx",
    "push rdx",
    "push rsi",
    "push rdi",
    "push r8",
    "push r9",
    "push r10",
    "push r11",
    // 16 xmm registers, and 8 bytes to keep the stack 16-aligned at the call
    "sub rsp, 264",
    "movdqu [rsp], xmm0",
    "movdqu [rsp + 16], xmm1",
    "movdqu [rsp + 32], xmm2",
    "movdqu [rsp + 48], xmm3",
    "movdqu [rsp + 64], xmm4",
    "movdqu [rsp + 80], xmm5",
    "movdqu [rsp + 96], xmm6",
    "movdqu [rsp + 112], xmm7",
    "movdqu [rsp + 128], xmm8",
    "movdqu [rsp + 144], xmm9",
    "movdqu [rsp + 160], xmm10",
    "movdqu [rsp + 176], xmm11",
    "movdqu [rsp + 192], xmm12",
    "movdqu [rsp + 208], xmm13",
    "movdqu [rsp + 224], xmm14",
    "movdqu [rsp + 240], xmm15",
    "mov rax, rsi",
    "mov rsi, rdx",
    "mov rdx, rcx",
    "mov rcx, r8",
    "mov r8, r9",
    "call rax",
    "mov qword ptr [r15 + {helper_result}], rax",
    "cmp dword ptr [r15 + {exception}], 0",
    "jne 2f",
    "movdqu xmm0, [rsp]",
    "movdqu xmm1, [rsp + 16]",
    "movdqu xmm2, [rsp + 32]",
    "movdqu xmm3, [rsp + 48]",
    "movdqu xmm4, [rsp + 64]",
    "movdqu xmm5, [rsp + 80]",
    "movdqu xmm6, [rsp + 96]",
    "movdqu xmm7, [rsp + 112]",
    "movdqu xmm8, [rsp + 128]",
    "movdqu xmm9, [rsp + 144]",
    "movdqu xmm10, [rsp + 160]",
    "movdqu xmm11, [rsp + 176]",
    "movdqu xmm12, [rsp + 192]",
    "movdqu xmm13, [rsp + 208]",
    "movdqu xmm14, [rsp + 224]",
    "movdqu xmm15, [rsp + 240]",
    "add rsp, 264",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop rcx",
    "pop rax",
    "pop rbp",
    "ret",
    "2:",
    "mov rax, qword ptr [rbp + 8]",
    "dec rax",
    "mov qword ptr [r15 + {host_fault_pc}], rax",
    "mov rsp, qword ptr [r15 + {tramp_sp}]",
    "mov eax, {exit_exception}",
    "jmp remu_jit_resume",
    ".size remu_jit_slow_call, . - remu_jit_slow_call",
    tramp_sp = const ir::backend::EnvHeader::OFF_TRAMP_SP,
    helper_result = const ir::backend::EnvHeader::OFF_HELPER_RESULT,
    exception = const ir::backend::EnvHeader::OFF_EXCEPTION,
    host_fault_pc = const ir::backend::EnvHeader::OFF_HOST_FAULT_PC,
    exit_exception = const crate::exits::EXIT_EXCEPTION,
);

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn remu_jit_enter(env: *mut u8, entry: u64) -> u64;
    fn remu_jit_landing();
    fn remu_jit_slow_call();
}

/// Address of the fault landing pad.
#[cfg(target_arch = "x86_64")]
pub(crate) fn landing_pad() -> u64 {
    remu_jit_landing as *const () as u64
}

/// Address of the cold-path call trampoline.
#[cfg(target_arch = "x86_64")]
pub(crate) fn slow_call() -> u64 {
    remu_jit_slow_call as *const () as u64
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
