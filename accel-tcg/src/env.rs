//! The CPU environment a vCPU's translated code runs on, and the guest address space of user
//! mode.
//!
//! [`CpuEnv`] is one `#[repr(C)]` heap allocation: the [`EnvHeader`] the backends know, the
//! guest ISA's state, then scratch space for the interpreter's temporaries. It never moves
//! while code runs on it (it is boxed), and only its vCPU thread touches it, except
//! `exit_request`, which is atomic. This module owns the raw-pointer plumbing around it.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;

use ir::backend::{EnvHeader, EnvLayout, JumpCacheEntry, JUMP_CACHE_SIZE};

/// Bytes of scratch space after the guest state (interpreter temporaries).
pub const SCRATCH_BYTES: usize = 32 * 1024;

/// A user-mode guest address space: a host reservation of `va_limit` bytes at `guest_base`
/// and one permission byte per 4 KiB page (see `ir::backend::perm`).
///
/// The owner (linux-user) keeps both alive for the life of the process and makes the host
/// protection of each page follow the guest's; this is a plain description of them. The one
/// exception belongs to accel-tcg: a guest-writable page holding translated code (marked
/// [`perm::CODE`](ir::backend::perm::CODE)) is host read-only, so
/// that compiled guest stores to it fault and the code can be invalidated (`code_protect.rs`).
#[derive(Clone, Copy, Debug)]
pub struct GuestSpace {
    /// Host address of guest address 0.
    pub guest_base: u64,
    /// The permission table (`va_limit >> 12` entries).
    pub perms: *const AtomicU8,
    /// Size of the guest address space.
    pub va_limit: u64,
}

// SAFETY: GuestSpace only describes memory that its owner keeps mapped for the life of the
// process; the permission bytes are atomics, and guest memory is accessed through
// `ir::linear`, which treats it as shared memory.
unsafe impl Send for GuestSpace {}
// SAFETY: as above.
unsafe impl Sync for GuestSpace {}

impl GuestSpace {
    /// The permission byte of the page holding `addr` (None beyond the address space).
    pub fn perm(&self, addr: u64) -> Option<&AtomicU8> {
        if addr >= self.va_limit {
            return None;
        }
        // SAFETY: addr < va_limit, so the index is within the table, which lives for the
        // life of the process (GuestSpace contract).
        Some(unsafe { &*self.perms.add((addr >> ir::backend::perm::PAGE_BITS) as usize) })
    }
}

/// The environment: header, guest state, scratch.
#[repr(C)]
pub struct CpuEnv<S> {
    /// What every backend knows.
    pub header: EnvHeader,
    /// The guest ISA's registers.
    pub state: S,
    scratch: [u64; SCRATCH_BYTES / 8],
}

impl<S> CpuEnv<S> {
    /// The layout backends compile for.
    pub fn layout() -> EnvLayout {
        EnvLayout {
            scratch_offset: std::mem::offset_of!(CpuEnv<S>, scratch) as u32,
            scratch_size: SCRATCH_BYTES as u32,
        }
    }
}

/// The environment's allocation, shared between its [`Cpu`] and the [`Kicker`]s of it.
#[repr(transparent)]
struct EnvCell<S>(std::cell::UnsafeCell<CpuEnv<S>>);

// SAFETY: only the owning `Cpu` (one thread at a time, it is not Sync) reads or writes the
// non-atomic fields; kickers touch only `header.exit_request`, an atomic.
unsafe impl<S: Send> Send for EnvCell<S> {}
// SAFETY: as above.
unsafe impl<S: Send> Sync for EnvCell<S> {}

pub(crate) trait ExitFlag: Send + Sync {
    fn exit_request(&self) -> &AtomicU32;
}

impl<S: Send> ExitFlag for EnvCell<S> {
    fn exit_request(&self) -> &AtomicU32 {
        // SAFETY: a shared reference to an atomic field; see EnvCell's Sync argument.
        unsafe { &(*self.0.get()).header.exit_request }
    }
}

/// A thread-safe handle that asks a vCPU to leave translated code soon (QEMU's cpu_exit).
/// It keeps the environment's allocation alive, so it may outlive the [`Cpu`].
#[derive(Clone)]
pub struct Kicker(Arc<dyn ExitFlag>);

impl Kicker {
    /// Requests the exit (a single atomic store: safe from any thread or signal handler).
    pub fn kick(&self) {
        self.0.exit_request().store(1, Ordering::Release)
    }
}

/// One virtual CPU of translated code: its environment and its private lookup cache.
pub struct Cpu<S> {
    env: Arc<EnvCell<S>>,
    /// Index of this vCPU (guest thread number in user mode), for logs.
    pub index: u32,
    /// Keeps the owner of the code-write hook alive as long as this environment points to it.
    pub(crate) hook_owner: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// The direct-mapped pc -> TB cache (QEMU's tb_jmp_cache), indexed by
    /// `ir::backend::jump_cache_index`; it keeps its TBs alive. Changed only by `set_jump`.
    jmp_cache: Box<[Option<Arc<crate::tb_cache::Tb>>]>,
    /// The same cache as the backends' blocks read it (`EnvHeader::jump_cache` points here):
    /// entry k always describes `jmp_cache[k]` (see `set_jump`).
    jump_entries: Box<[JumpCacheEntry]>,
}

impl<S: frontend::GuestState> Cpu<S> {
    /// A vCPU with `state` on `space`.
    pub fn new(state: S, space: &GuestSpace) -> Self {
        // Zero-allocate and fill in place: the scratch array is large.
        let mut cell = Arc::<EnvCell<S>>::new_zeroed();
        let p = Arc::get_mut(&mut cell).expect("a new Arc is unique").as_mut_ptr() as *mut CpuEnv<S>;
        // SAFETY: p points to a zeroed, aligned CpuEnv<S> (EnvCell is a transparent wrapper of
        // UnsafeCell, itself transparent); header and state are written here, and all-zero is a
        // valid scratch array, so the value is fully initialized before assume_init.
        let cell = unsafe {
            std::ptr::write(
                &mut (*p).header,
                EnvHeader {
                    guest_base: space.guest_base,
                    page_perms: space.perms,
                    va_limit: space.va_limit,
                    ..EnvHeader::new()
                },
            );
            std::ptr::write(&mut (*p).state, state);
            cell.assume_init()
        };
        let mut cpu = Cpu {
            env: cell,
            index: 0,
            hook_owner: None,
            jmp_cache: vec![None; JUMP_CACHE_SIZE].into_boxed_slice(),
            jump_entries: vec![JumpCacheEntry::EMPTY; JUMP_CACHE_SIZE].into_boxed_slice(),
        };
        // (the boxed entries never move, whatever happens to the Cpu)
        let entries = cpu.jump_entries.as_ptr();
        cpu.header_mut().jump_cache = entries;
        cpu
    }

    /// Entry `k` of the jump cache.
    pub(crate) fn jump(&self, k: usize) -> Option<&Arc<crate::tb_cache::Tb>> {
        self.jmp_cache[k].as_ref()
    }

    /// Whether entry `k` of the jump cache holds a valid TB for (pc, flags). The dense entry
    /// is compared first: a pc the cache does not have (every new block's) costs no cache
    /// miss on whatever old TB the entry names.
    pub(crate) fn jump_hit(&self, k: usize, pc: u64, flags: u64) -> bool {
        let e = &self.jump_entries[k];
        e.pc == pc && e.flags == flags && self.jmp_cache[k].as_ref().is_some_and(|tb| tb.is_valid())
    }

    /// Makes entry `k` of the jump cache `tb`, which backend code continues at through
    /// `target` (`Backend::jump_target`).
    pub(crate) fn set_jump(&mut self, k: usize, tb: Arc<crate::tb_cache::Tb>, target: u64) {
        self.jump_entries[k] = JumpCacheEntry { pc: tb.pc, flags: tb.flags, target, valid: &tb.valid as *const _ };
        // the TB (its flag and code) lives at least as long as the entry names it
        self.jmp_cache[k] = Some(tb);
    }

    fn env(&self) -> &CpuEnv<S> {
        // SAFETY: only this Cpu accesses non-atomic fields (EnvCell contract); &self here.
        unsafe { &*self.env.0.get() }
    }

    fn env_mut(&mut self) -> &mut CpuEnv<S> {
        // SAFETY: only this Cpu accesses non-atomic fields, and &mut self makes it exclusive;
        // kickers only perform atomic stores to exit_request, which is an atomic type.
        unsafe { &mut *self.env.0.get() }
    }

    /// The guest registers.
    pub fn state(&self) -> &S {
        &self.env().state
    }

    /// The guest registers, mutable.
    pub fn state_mut(&mut self) -> &mut S {
        &mut self.env_mut().state
    }

    /// The environment header.
    pub fn header(&self) -> &EnvHeader {
        &self.env().header
    }

    /// The environment header, mutable.
    pub fn header_mut(&mut self) -> &mut EnvHeader {
        &mut self.env_mut().header
    }

    /// A handle other threads use to make this vCPU leave translated code.
    pub fn kicker(&self) -> Kicker {
        Kicker(self.env.clone())
    }

    /// This vCPU's exit flag, without keeping the environment alive (the translator's list of
    /// vCPUs to stop for an exclusive section).
    pub(crate) fn exit_flag(&self) -> std::sync::Weak<dyn ExitFlag> {
        let a: Arc<dyn ExitFlag> = self.env.clone();
        Arc::downgrade(&a)
    }

    /// Clears a pending exit request; returns whether there was one.
    pub fn take_exit_request(&self) -> bool {
        self.env().header.exit_request.swap(0, Ordering::AcqRel) != 0
    }

    pub(crate) fn env_ptr(&mut self) -> NonNull<u8> {
        NonNull::from(self.env_mut()).cast()
    }
}
