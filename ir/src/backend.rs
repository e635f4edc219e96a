//! What a backend is given and what it returns: the contract between `accel-tcg` and the two
//! code generators (QEMU: `tcg_qemu_tb_exec` and its return value).
//!
//! The CPU environment a block runs on is one `#[repr(C)]` allocation: an [`EnvHeader`] (fixed
//! layout, known to every backend), then the guest ISA's register state (its layout described
//! by the frontend's [`Decls`]), then a scratch area for the interpreter's temporaries. Guest
//! registers are addressed by byte offset from the start of the environment.

use std::any::Any;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8};
use std::sync::Arc;

use crate::block::{Block, Decls};

/// Exception cause: a load from an address that is unmapped or not readable. Aux = address.
pub const EXC_LOAD_FAULT: u32 = 0x8000_0001;
/// Exception cause: a store to an address that is unmapped or not writable. Aux = address.
pub const EXC_STORE_FAULT: u32 = 0x8000_0002;
/// Exception cause: a naturally-aligned load (`Align::Natural`) at a misaligned address.
pub const EXC_MISALIGNED_LOAD: u32 = 0x8000_0003;
/// Exception cause: a naturally-aligned store or atomic at a misaligned address.
pub const EXC_MISALIGNED_STORE: u32 = 0x8000_0004;
/// Exception cause: instruction fetch from an address that is unmapped or not executable.
pub const EXC_FETCH_FAULT: u32 = 0x8000_0005;
/// Exception cause: the host raised a bus error for the access (a file mapping beyond the end
/// of its file). Aux = address.
pub const EXC_BUS_ERROR: u32 = 0x8000_0006;
/// Exception cause: not a guest exception but a request to the dispatcher to run the
/// instruction at `exception_pc` on the reference evaluator (`ir::eval`) and go on: compiled
/// code raises it for the accesses its fast path does not handle (an address at the end of
/// the guest space or beyond, a misaligned naturally-aligned access), which the evaluator
/// performs or turns into the right guest exception.
pub const EXC_EMULATE: u32 = 0x8000_0007;
/// First cause code reserved for the backends' and accel-tcg's own codes; frontends use
/// smaller values.
pub const EXC_GENERIC_BASE: u32 = 0x8000_0000;

/// Entries of a vCPU's jump cache.
pub const JUMP_CACHE_SIZE: usize = 4096;

/// The jump cache entry for guest pc `pc` (QEMU's tb_jmp_cache hash).
#[inline(always)]
pub fn jump_cache_index(pc: u64) -> usize {
    ((pc >> 1) ^ (pc >> 13)) as usize & (JUMP_CACHE_SIZE - 1)
}

/// One entry of a vCPU's direct-mapped jump cache (QEMU's `tb_jmp_cache`), which accel-tcg
/// keeps for its dispatcher and publishes through [`EnvHeader::jump_cache`] for the blocks'
/// own indirect jumps. Only the vCPU's thread reads or writes it, between blocks (accel-tcg)
/// or while running them (backends).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct JumpCacheEntry {
    /// Guest pc of the block.
    pub pc: u64,
    /// Translation flags of the block.
    pub flags: u64,
    /// What [`Backend::jump_target`] gave for the block (0: nothing to jump to).
    pub target: u64,
    /// The block's validity flag (false once it is invalidated or flushed). accel-tcg keeps
    /// the block, and so the flag and `target`, alive while the entry names it.
    pub valid: *const AtomicBool,
}

// SAFETY: `valid` points to an atomic (safe to use from any thread), kept alive by the owner
// of the cache, which moves to another thread together with its entries.
unsafe impl Send for JumpCacheEntry {}

impl JumpCacheEntry {
    /// An entry that matches no pc.
    pub const EMPTY: JumpCacheEntry = JumpCacheEntry { pc: u64::MAX, flags: 0, target: 0, valid: std::ptr::null() };
}

/// Chaining slots per block: `goto_tb` and chaining `exit_if`s use slots `0..MAX_CHAIN_SLOTS`
/// (a superblock has one side exit per conditional branch it follows).
pub const MAX_CHAIN_SLOTS: u8 = 8;

/// Page permission bits of the user-mode page table (`EnvHeader::page_perms`), one byte per
/// 4 KiB guest page.
pub mod perm {
    /// The guest may read the page.
    pub const READ: u8 = 1;
    /// The guest may write the page.
    pub const WRITE: u8 = 2;
    /// The guest may execute the page.
    pub const EXEC: u8 = 4;
    /// The page holds translated code: stores take the slow path, which invalidates it.
    pub const CODE: u8 = 8;
    /// The next page holds translated code: stores here take the slow path too, so that a
    /// store crossing into that page is seen (fast paths look at the first page only).
    pub const NEXT_CODE: u8 = 16;
    /// This page and the next are both readable (or this is the last page of the space, whose
    /// last 8 bytes fast paths never touch): an access of up to 8 bytes starting here is
    /// readable whether or not it crosses into the next page (one test for fast paths).
    pub const READ2: u8 = 32;
    /// This page and the next are both writable.
    pub const WRITE2: u8 = 64;

    /// Recomputes READ2/WRITE2 for the pages `first..=last` and the page before `first` (their
    /// values depend on the next page). `perm(page)` gives a page's byte (None beyond the
    /// space). Owners of a permission table call this after changing READ/WRITE bits.
    pub fn update_pairs<'a>(perm: impl Fn(u64) -> Option<&'a std::sync::atomic::AtomicU8>, first: u64, last: u64) {
        use std::sync::atomic::Ordering::{AcqRel, Acquire};
        for page in first.saturating_sub(1)..=last {
            let Some(p) = perm(page) else { continue };
            let here = p.load(Acquire);
            // beyond the space: fast paths never reach the last 8 bytes of it, so the last page
            // pairs with nothing
            let next = perm(page + 1).map(|n| n.load(Acquire)).unwrap_or(READ | WRITE);
            for (bit, both) in [(READ2, here & next & READ != 0), (WRITE2, here & next & WRITE != 0)] {
                if both {
                    p.fetch_or(bit, AcqRel);
                } else {
                    p.fetch_and(!bit, AcqRel);
                }
            }
        }
    }
    /// log2 of the page size.
    pub const PAGE_BITS: u32 = 12;
    /// Page size in bytes.
    pub const PAGE_SIZE: u64 = 1 << PAGE_BITS;
}

/// Called for a store that hits a page marked [`perm::CODE`]: invalidates the translated code
/// of the page (and clears the mark). Returns 0 when the store may go ahead.
pub type CodeWriteHook = unsafe extern "C" fn(env: *mut EnvHeader, addr: u64, size: u64) -> u32;

/// The fixed head of every CPU environment. Offsets are part of the backend ABI.
#[repr(C)]
#[derive(Debug)]
pub struct EnvHeader {
    /// Non-zero asks the vCPU to leave translated code at the next block entry (signals,
    /// other threads, timers). Written from any thread.
    pub exit_request: AtomicU32,
    /// Cause of the pending exception (valid after `TbExit::Exception`).
    pub exception: u32,
    /// Auxiliary value of the exception (fault address, raise operand).
    pub exception_aux: u64,
    /// Guest pc of the instruction that raised (its `insn_start`'s pc): self-describing, so it
    /// is right whichever block of a chain raised.
    pub exception_pc: u64,
    /// FP exception flags accrued by the IR's FP ops and not yet read (`ir::fpu` layout); the
    /// rest may still be in the host FP status register while translated code runs.
    pub fp_flags: u32,
    /// Non-zero with a pending exception: the guest registers hold their values as of the
    /// start of the instruction at `exception_pc`, an earlier one than the instruction that
    /// raised (a load whose block's optimizer moved register writes past it, see
    /// `ImmKind::Restart`); the dispatcher runs from there, one instruction at a time on the
    /// reference evaluator, to raise the exception precisely.
    pub exception_replay: u32,
    /// Scratch word where backends' out-of-line calls leave a result.
    pub helper_result: u64,
    /// Address and value of a memory access that took its cold path, left here for the
    /// runtime call (backends pass them in memory rather than in argument registers, so that
    /// the hot path's register allocation does not bend toward a call it almost never makes).
    pub slow_addr: u64,
    /// See `slow_addr`.
    pub slow_value: u64,
    /// Always zero: compiled code ORs a fresh load of it into FP operands so that the code
    /// generator can neither hoist nor merge FP operations (whose flags are a side effect).
    pub fp_token: u64,
    /// The JIT's entry trampoline records its stack pointer here, so that a host fault in
    /// compiled code can leave through the trampoline.
    pub tramp_sp: u64,
    /// User mode: host address of guest address 0.
    pub guest_base: u64,
    /// User mode: one permission byte per guest page ([`perm`]), `va_limit >> 12` entries.
    pub page_perms: *const AtomicU8,
    /// User mode: guest addresses at or above this fault.
    pub va_limit: u64,
    /// User mode: called for stores to pages holding translated code.
    pub code_write_hook: Option<CodeWriteHook>,
    /// Owner's context for the hook (accel-tcg's translation cache).
    pub hook_ctx: *const (),
    /// The vCPU's jump cache ([`JUMP_CACHE_SIZE`] entries, null if none): where a backend's
    /// indirect jumps find their target without returning to the dispatcher.
    pub jump_cache: *const JumpCacheEntry,
    /// Set with a pending exception raised by a host fault in compiled code, or by a runtime
    /// call that does not return to it: the host pc where it happened, which the backend that
    /// compiled the code maps to `exception_pc` (and clears) before reporting the exception.
    /// Zero otherwise.
    pub host_fault_pc: u64,
}

impl EnvHeader {
    /// Size of the header; the ISA state starts here.
    pub const SIZE: usize = std::mem::size_of::<EnvHeader>();
    /// Offset of `exit_request`.
    pub const OFF_EXIT_REQUEST: usize = std::mem::offset_of!(EnvHeader, exit_request);
    /// Offset of `exception`.
    pub const OFF_EXCEPTION: usize = std::mem::offset_of!(EnvHeader, exception);
    /// Offset of `exception_aux`.
    pub const OFF_EXCEPTION_AUX: usize = std::mem::offset_of!(EnvHeader, exception_aux);
    /// Offset of `exception_pc`.
    pub const OFF_EXCEPTION_PC: usize = std::mem::offset_of!(EnvHeader, exception_pc);
    /// Offset of `exception_replay`.
    pub const OFF_EXCEPTION_REPLAY: usize = std::mem::offset_of!(EnvHeader, exception_replay);
    /// Offset of `helper_result`.
    pub const OFF_HELPER_RESULT: usize = std::mem::offset_of!(EnvHeader, helper_result);
    /// Offset of `slow_addr`.
    pub const OFF_SLOW_ADDR: usize = std::mem::offset_of!(EnvHeader, slow_addr);
    /// Offset of `slow_value`.
    pub const OFF_SLOW_VALUE: usize = std::mem::offset_of!(EnvHeader, slow_value);
    /// Offset of `tramp_sp`.
    pub const OFF_TRAMP_SP: usize = std::mem::offset_of!(EnvHeader, tramp_sp);
    /// Offset of `host_fault_pc`.
    pub const OFF_HOST_FAULT_PC: usize = std::mem::offset_of!(EnvHeader, host_fault_pc);
    /// Offset of `fp_token`.
    pub const OFF_FP_TOKEN: usize = std::mem::offset_of!(EnvHeader, fp_token);
    /// Offset of `guest_base`.
    pub const OFF_GUEST_BASE: usize = std::mem::offset_of!(EnvHeader, guest_base);
    /// Offset of `page_perms`.
    pub const OFF_PAGE_PERMS: usize = std::mem::offset_of!(EnvHeader, page_perms);
    /// Offset of `va_limit`.
    pub const OFF_VA_LIMIT: usize = std::mem::offset_of!(EnvHeader, va_limit);

    /// A header with no memory (every access faults).
    pub fn new() -> Self {
        EnvHeader {
            exit_request: AtomicU32::new(0),
            exception: 0,
            exception_aux: 0,
            exception_pc: 0,
            fp_flags: 0,
            exception_replay: 0,
            helper_result: 0,
            slow_addr: 0,
            slow_value: 0,
            fp_token: 0,
            tramp_sp: 0,
            guest_base: 0,
            page_perms: std::ptr::null(),
            va_limit: 0,
            code_write_hook: None,
            hook_ctx: std::ptr::null(),
            jump_cache: std::ptr::null(),
            host_fault_pc: 0,
        }
    }
}

impl Default for EnvHeader {
    fn default() -> Self {
        Self::new()
    }
}

/// How compiled code leaves: what the dispatcher does next.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TbExit {
    /// `goto_tb` or a chaining side exit through `slot`; the pc global holds the target.
    Chain {
        /// The slot (0 or 1).
        slot: u8,
        /// Which block took the exit: 0 for the block that was run, or (backends that chain
        /// natively) an identity that [`Backend::exit_origin`] resolves.
        from: u64,
    },
    /// `goto_ptr`; the pc global holds the target, which must be looked up.
    Lookup,
    /// An exception: `EnvHeader::{exception, exception_aux, exception_pc}` say which and where.
    /// Guest registers hold their values as of the start of that instruction (with
    /// `exception_replay`, an earlier one to replay from).
    Exception,
    /// `exit_request` was set at block entry; nothing ran, the pc global is the block's pc.
    Interrupted,
    /// A chained exit reached a block that has now run often enough for the next tier; the
    /// pc global holds that block's pc (it has not run this time).
    Hot,
}

/// Where guest memory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemMode {
    /// User mode: guest address `a` is host address `guest_base + a`, checked against the page
    /// permission table. The same values are in every environment header; backends may embed
    /// them as constants.
    Linear {
        /// Host address of guest address 0.
        guest_base: u64,
        /// Address of the permission table (one byte per 4 KiB page).
        page_perms: u64,
        /// Size of the guest address space.
        va_limit: u64,
    },
}

/// Layout of the CPU environment.
#[derive(Clone, Debug)]
pub struct EnvLayout {
    /// Offset of the scratch area (interpreter temporaries), 8-aligned.
    pub scratch_offset: u32,
    /// Size of the scratch area in bytes.
    pub scratch_size: u32,
}

/// Everything a backend needs to compile a block.
#[derive(Clone, Copy, Debug)]
pub struct CompileCtx<'a> {
    /// The frontend's globals and helpers.
    pub decls: &'a Decls,
    /// The environment layout.
    pub env: &'a EnvLayout,
    /// Memory model.
    pub mem: MemMode,
}

/// A backend could not compile a block (a host-side failure, never a guest error).
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The block needs more scratch space than the environment has.
    #[error("block needs {need} bytes of temporaries, the environment has {have}")]
    ScratchTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The code cache is full: flush it and retry.
    #[error("the code cache is full")]
    CacheFull,
    /// The code generator failed.
    #[error("code generation failed: {0}")]
    Codegen(String),
}

/// A compiled block.
pub trait CompiledBlock: Send + Sync + Any {
    /// Runs the block on `env`.
    ///
    /// # Safety
    /// `env` points to a live environment with the layout the block was compiled for, owned by
    /// the calling thread for the duration of the call, whose header describes guest memory that
    /// stays mapped during the call.
    unsafe fn run(&self, env: NonNull<u8>) -> TbExit;
    /// A textual rendering of the generated code (`-d out_asm`), if the backend has one.
    fn describe(&self) -> Option<String> {
        None
    }
    /// Where the block's host code is (start, length), for backends that generate host code
    /// (profiler maps).
    fn host_code(&self) -> Option<(u64, usize)> {
        None
    }
    /// Upcast for backends that downcast their own blocks (linking).
    fn as_any(&self) -> &dyn Any;
    /// The value a chained exit taken by this block reports as `from` ([`TbExit::Chain`]),
    /// which tells this compilation of a pc apart from another one (0: not known).
    fn exit_id(&self) -> u64 {
        0
    }
}

/// Something held until dropped (lock guards of [`Backend::fork_lock`]).
pub trait Held {}
impl<T> Held for T {}

/// A code generator: IR blocks in, runnable code out.
pub trait Backend: Send + Sync {
    /// Short name (`interp`, `jit`).
    fn name(&self) -> &'static str;
    /// Compiles a verified block.
    fn compile(&self, block: &Block, cx: &CompileCtx<'_>) -> Result<Arc<dyn CompiledBlock>, CompileError>;
    /// Whether this backend's blocks should have register writes moved past loads
    /// (`opt::defer_sets`): worth it where every register write is a store of its own (a
    /// JIT), not where it is part of the operation that computes the value (the bytecode
    /// interpreter writes results straight into register slots).
    fn defers_register_writes(&self) -> bool {
        false
    }
    /// Whether `link` makes `from` jump straight to `to` (otherwise the dispatcher chains).
    fn chains_natively(&self) -> bool {
        false
    }
    /// Backends with the same non-zero code domain compile into one code space: each one's
    /// `link`, `unlink` and `exit_origin` work on the other's blocks too, so chains may cross
    /// between them (the tiers of the JIT: baseline and Cranelift). 0: only its own blocks.
    fn code_domain(&self) -> usize {
        0
    }
    /// Makes exit `slot` of `from` continue directly in `to`; false if this backend cannot
    /// link these two (e.g. one of them belongs to another backend).
    fn link(&self, _from: &dyn CompiledBlock, _slot: u8, _to: &Arc<dyn CompiledBlock>) -> bool {
        false
    }
    /// The (pc, flags) of the block behind a non-zero `TbExit::Chain::from`, if it is still
    /// valid.
    fn exit_origin(&self, _from: u64) -> Option<(u64, u64)> {
        None
    }
    /// Undoes `link`: exit `slot` of `from` returns to the dispatcher again.
    fn unlink(&self, _from: &dyn CompiledBlock, _slot: u8) {}
    /// `code` became the valid block for its (pc, flags): accel-tcg installed it in its TB
    /// cache, under the cache lock. Only now may the backend's own lookup structures (an
    /// indirect-jump table probed by compiled code) find it. `compile` must not make a block
    /// findable: a tier-up compiles without the cache lock, and by the time it is done the
    /// guest may have rewritten the code it was translated from (the block is then dropped,
    /// never installed).
    fn publish(&self, _code: &dyn CompiledBlock) {}
    /// A block of this backend left for an indirect jump that its lookup structures did not
    /// resolve, and the dispatcher found `code` for it (a published block): make `code` what
    /// they find for its pc again, unless it was invalidated meanwhile. (Another block whose
    /// pc shares a table entry may have taken its place: the most recently used one wins.)
    fn refresh_lookup(&self, _code: &dyn CompiledBlock) {}
    /// Where this backend's own blocks continue for an indirect jump to `code` (a block of
    /// this backend), found through the vCPU's jump cache ([`JumpCacheEntry`]); 0 if they do
    /// not use it. accel-tcg keeps `code` alive while an entry names it, and the entry says
    /// whether it is still valid.
    fn jump_target(&self, _code: &dyn CompiledBlock) -> u64 {
        0
    }
    /// `code` was invalidated: it must never be entered again through any lookup structure
    /// of the backend (chained links into it are undone separately with `unlink`).
    fn invalidate(&self, _code: &dyn CompiledBlock) {}
    /// Drops every compiled block (no block of this backend may run afterwards).
    fn flush(&self) {}
    /// Locks everything the backend locks internally, so that the process can fork without a
    /// lock being held by a thread the child will not have. The guard unlocks.
    fn fork_lock(&self) -> Box<dyn Held + '_> {
        Box::new(())
    }
    /// Called in the child of a fork (its only thread, locks released): make everything the
    /// backend shares with the parent private. An error leaves the child unable to continue.
    fn fork_child(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A handler for host memory faults (SIGSEGV/SIGBUS) raised by compiled code: given the
/// signal, its `siginfo_t` and `ucontext_t`, it turns the fault into a guest exception and
/// redirects the interrupted context, or returns false if the fault is not its business.
pub type HostFaultHandler = unsafe fn(sig: i32, info: *mut std::ffi::c_void, uc: *mut std::ffi::c_void) -> bool;

static HOST_FAULT_HANDLER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Registers the process's host-fault handler (a backend whose code may fault on guest
/// accesses does this when it is created).
pub fn set_host_fault_handler(f: HostFaultHandler) {
    HOST_FAULT_HANDLER.store(f as usize, std::sync::atomic::Ordering::Release);
}

/// The host signals compiled code may raise itself: faults of guest accesses the host MMU
/// refused, and traps for instructions it leaves to the reference evaluator. The owner of
/// host signal handling keeps a handler installed for each and offers them to
/// [`handle_host_fault`].
pub const HOST_FAULT_SIGNALS: [i32; 3] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL];

/// Offers a host signal of [`HOST_FAULT_SIGNALS`] to the registered handler. Called by the
/// owner of host signal handling (linux-user, or a test harness) from its signal handler;
/// async-signal-safe.
///
/// # Safety
/// `info` and `uc` are the siginfo and ucontext a SA_SIGINFO signal handler received for `sig`.
pub unsafe fn handle_host_fault(sig: i32, info: *mut std::ffi::c_void, uc: *mut std::ffi::c_void) -> bool {
    let f = HOST_FAULT_HANDLER.load(std::sync::atomic::Ordering::Acquire);
    if f == 0 {
        return false;
    }
    // SAFETY: only HostFaultHandler values are stored (set_host_fault_handler).
    let f: HostFaultHandler = unsafe { std::mem::transmute::<usize, HostFaultHandler>(f) };
    // SAFETY: forwarded from the caller's contract.
    unsafe { f(sig, info, uc) }
}
