//! Guest memory faults raised by the host MMU inside compiled code (user mode).
//!
//! Guest loads and stores in JIT code check only that the address is inside the guest space,
//! not the page's permissions: linux-user mirrors the guest's protections in the host mapping
//! (and accel-tcg write-protects guest-writable pages holding translated code), so an access
//! the guest may not make faults in the host (QEMU's user mode works the same way). Guest
//! register writes go to the environment as they happen (write-through, `lower.rs`), so at any
//! access the environment is the guest state the IR promises there: that of the instruction,
//! or, for a load the IR optimizer moved register writes past, that of its restart pc (the
//! dispatcher replays from there, `fault_sites.rs`). The handler here,
//! called from the owner of host signal handling (linux-user, test harnesses) through
//! `ir::backend::handle_host_fault`, recognizes a fault of our code (by the interrupted pc) on
//! a guest address (by the fault address), turns it into a guest exception in the environment
//! (r15 holds it in all compiled code; the page-fault error code tells a store,
//! `EXC_STORE_FAULT`, from a load), noting the host pc in `EnvHeader::host_fault_pc`, and
//! resumes at the landing pad, which leaves compiled code as an exception exit does. Which
//! guest instruction faulted is worked out afterwards, outside the signal handler, from the
//! source locations Cranelift recorded for the block's code (`fault_sites.rs`): blocks store
//! no guest pc before their accesses (QEMU's user mode likewise unwinds a host pc to the guest
//! instruction).
//!
//! The other way out of compiled code through this handler: an access the fast path does not
//! take (beyond the end of the guest space, misaligned where the MemOp forbids it) jumps to
//! a trap ([`TRAP_EMULATE`], a `ud2` with the instruction's source location), and the
//! SIGILL becomes `EXC_EMULATE`: the dispatcher runs that instruction on the reference
//! evaluator, which faults or performs it. No slow path is compiled (three Cranelift blocks
//! and a call less per access).
//!
//! Known difference from the interpreter: a guest page that is executable but not readable
//! is readable by JIT loads (x86-64 cannot map execute-only pages), as under QEMU.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use cranelift_codegen::ir::TrapCode;
use ir::backend::{EnvHeader, EXC_BUS_ERROR, EXC_EMULATE, EXC_LOAD_FAULT, EXC_STORE_FAULT};

/// The trap of compiled code whose instruction must run on the reference evaluator instead
/// (an access outside the fast path's range, `memory.rs`): a `ud2` that Cranelift places out
/// of line with the instruction's source location, raising SIGILL, which the handler turns
/// into `EXC_EMULATE`.
pub(crate) const TRAP_EMULATE: TrapCode = TrapCode::user(1).unwrap();

/// x86-64 `ud2`, Cranelift's trap instruction.
const UD2: [u8; 2] = [0x0f, 0x0b];

const MAX_RANGES: usize = 64;
static RANGES: [AtomicU64; 2 * MAX_RANGES] = [const { AtomicU64::new(0) }; 2 * MAX_RANGES];
static NRANGES: AtomicUsize = AtomicUsize::new(0);

/// Registers `[start, start + len)` as compiled code (a code cache's executable view) and
/// the handler. Returns false if too many code caches exist for the table (their loads must
/// then check permissions).
pub(crate) fn register(start: u64, len: u64) -> bool {
    let i = NRANGES.fetch_add(1, Ordering::AcqRel);
    if i >= MAX_RANGES {
        return false;
    }
    RANGES[2 * i].store(start, Ordering::Release);
    RANGES[2 * i + 1].store(start + len, Ordering::Release);
    ir::backend::set_host_fault_handler(on_host_fault);
    true
}

/// The end of the registered code range holding `pc`, if any.
fn code_end(pc: u64) -> Option<u64> {
    let n = NRANGES.load(Ordering::Acquire).min(MAX_RANGES);
    (0..n).find_map(|i| {
        let (s, e) = (RANGES[2 * i].load(Ordering::Acquire), RANGES[2 * i + 1].load(Ordering::Acquire));
        (pc >= s && pc < e).then_some(e)
    })
}

/// The host-fault handler (see the module doc). Async-signal-safe: atomics and plain stores.
///
/// # Safety
/// `info` and `uc` are what a SA_SIGINFO handler received for `sig`.
unsafe fn on_host_fault(sig: i32, info: *mut std::ffi::c_void, uc: *mut std::ffi::c_void) -> bool {
    if info.is_null() || uc.is_null() || !ir::backend::HOST_FAULT_SIGNALS.contains(&sig) {
        return false;
    }
    // SAFETY: per the function contract, uc is the interrupted context of this thread.
    let uc = unsafe { &mut *(uc as *mut libc::ucontext_t) };
    let gregs = &mut uc.uc_mcontext.gregs;
    let rip = gregs[libc::REG_RIP as usize] as u64;
    let Some(end) = code_end(rip) else { return false };
    let env = gregs[libc::REG_R15 as usize] as u64 as *mut EnvHeader;
    if env.is_null() {
        return false;
    }
    // SAFETY: in compiled code r15 always holds the environment of the running vCPU (the
    // trampoline sets it, blocks never change it), which this thread owns.
    let h = unsafe { &mut *env };
    let (cause, aux) = if sig == libc::SIGILL {
        if end - rip < UD2.len() as u64 {
            return false;
        }
        // SAFETY: [rip, rip + 2) lies in a registered code cache's executable view, which is
        // mapped readable.
        let insn = unsafe { std::ptr::read_unaligned(rip as *const [u8; 2]) };
        if insn != UD2 {
            return false;
        }
        (EXC_EMULATE, 0)
    } else {
        // SAFETY: per the function contract, info is this signal's siginfo.
        let addr = unsafe { (*(info as *const libc::siginfo_t)).si_addr() } as u64;
        let guest = addr.wrapping_sub(h.guest_base);
        if guest >= h.va_limit {
            return false; // not a guest access: a bug of ours, let it crash
        }
        // x86-64 page-fault error code: bit 1 set for a write
        let write = gregs[libc::REG_ERR as usize] & 2 != 0;
        let cause = match (sig, write) {
            (libc::SIGBUS, _) => EXC_BUS_ERROR,
            (_, true) => EXC_STORE_FAULT,
            (_, false) => EXC_LOAD_FAULT,
        };
        (cause, guest)
    };
    h.exception = cause;
    h.exception_aux = aux;
    h.host_fault_pc = rip;
    gregs[libc::REG_RIP as usize] = crate::abi::landing_pad() as i64;
    true
}
