//! Guest memory faults raised by the host MMU inside compiled code (user mode).
//!
//! Guest loads in JIT code do not check page permissions: linux-user mirrors the guest's
//! protections in the host mapping, so an access the guest may not make faults in the host
//! (QEMU's user mode works the same way). Before every access a block writes back the guest
//! registers it changed and stores the guest pc of the instruction, so the environment is
//! exactly the guest state at that instruction. The handler here, called from the owner of
//! host signal handling (linux-user) through `ir::backend::handle_host_fault`, recognizes a
//! fault in our code (by the interrupted pc) on a guest address (by the fault address), turns
//! it into a guest exception in the environment (r15 holds it in all compiled code) and
//! resumes at the landing pad, which leaves compiled code as a normal exception exit does.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ir::backend::{EnvHeader, EXC_BUS_ERROR, EXC_LOAD_FAULT, EXC_STORE_FAULT};

const MAX_RANGES: usize = 64;
static RANGES: [AtomicU64; 2 * MAX_RANGES] = [const { AtomicU64::new(0) }; 2 * MAX_RANGES];
static NRANGES: AtomicUsize = AtomicUsize::new(0);

/// Registers `[start, start + len)` as compiled code (a code cache's executable view) and
/// installs the handler.
pub(crate) fn register(start: u64, len: u64) {
    let i = NRANGES.fetch_add(1, Ordering::AcqRel);
    if i < MAX_RANGES {
        RANGES[2 * i].store(start, Ordering::Release);
        RANGES[2 * i + 1].store(start + len, Ordering::Release);
    }
    ir::backend::set_host_fault_handler(on_host_fault);
}

fn in_code(pc: u64) -> bool {
    let n = NRANGES.load(Ordering::Acquire).min(MAX_RANGES);
    (0..n).any(|i| {
        let (s, e) = (RANGES[2 * i].load(Ordering::Acquire), RANGES[2 * i + 1].load(Ordering::Acquire));
        pc >= s && pc < e
    })
}

/// The host-fault handler (see the module doc). Async-signal-safe: atomics and plain stores.
///
/// # Safety
/// `info` and `uc` are what a SA_SIGINFO handler received for `sig`.
unsafe fn on_host_fault(sig: i32, info: *mut std::ffi::c_void, uc: *mut std::ffi::c_void) -> bool {
    if info.is_null() || uc.is_null() || !(sig == libc::SIGSEGV || sig == libc::SIGBUS) {
        return false;
    }
    // SAFETY: per the function contract, uc is the interrupted context of this thread.
    let uc = unsafe { &mut *(uc as *mut libc::ucontext_t) };
    let gregs = &mut uc.uc_mcontext.gregs;
    let rip = gregs[libc::REG_RIP as usize] as u64;
    if !in_code(rip) {
        return false;
    }
    let env = gregs[libc::REG_R15 as usize] as u64 as *mut EnvHeader;
    if env.is_null() {
        return false;
    }
    // SAFETY: per the function contract, info is this signal's siginfo.
    let addr = unsafe { (*(info as *const libc::siginfo_t)).si_addr() } as u64;
    // SAFETY: in compiled code r15 always holds the environment of the running vCPU (the
    // trampoline sets it, blocks never change it), which this thread owns.
    let h = unsafe { &mut *env };
    let guest = addr.wrapping_sub(h.guest_base);
    if guest >= h.va_limit.saturating_add(8) {
        return false; // not a guest access: a bug of ours, let it crash
    }
    let write = gregs[libc::REG_ERR as usize] & 2 != 0;
    h.exception = if sig == libc::SIGBUS {
        EXC_BUS_ERROR
    } else if write {
        EXC_STORE_FAULT
    } else {
        EXC_LOAD_FAULT
    };
    h.exception_aux = guest;
    gregs[libc::REG_RIP as usize] = crate::abi::landing_pad() as i64;
    true
}
