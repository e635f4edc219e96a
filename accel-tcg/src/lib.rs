//! accel-tcg: the translate-and-run loop every backend shares (QEMU's `accel/tcg`).
//!
//! A [`Tcg`] owns one frontend (the guest ISA), one backend (interpreter or JIT), the TB cache
//! and the user-mode guest space; it is shared by all vCPU threads. Each thread runs its own
//! [`Cpu`] with [`Tcg::run`], which returns on a guest exception (with the pc of the faulting
//! instruction restored), on an exit request (a [`Kicker`]), or on a host error.
//!
//! Self-modifying code: translating from a page marks it [`ir::backend::perm::CODE`] and, if
//! the guest may write it, makes it host read-only (`code_protect.rs`). A guest store to such
//! a page either takes a backend's slow path (the interpreter's, or the JIT's where it cannot
//! use the host MMU), which calls [`code_write_hook`] to invalidate every TB from that page
//! before the store lands, or faults in compiled code, and the dispatcher runs that store
//! again on the evaluator, which does the same (`cpu_exec.rs`). linux-user calls
//! [`Tcg::invalidate_range`] for munmap/mprotect/mremap. No stale TB runs after invalidation.
//!
//! Locking: one mutex (`Tcg::inner`) guards the TB index and the translator; it is held while
//! translating and invalidating, never while guest code runs. Lookup hits go through each
//! vCPU's private direct-mapped cache and take no lock.

pub mod code_protect;
pub mod code_reader;
mod cpu_exec;
pub mod crosscheck;
pub mod env;
pub mod log;
pub mod tb_cache;
mod tier;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use frontend::Frontend;
use ir::backend::{perm, Backend, EnvHeader, EnvLayout};
use ir::Builder;

pub use env::{Cpu, CpuEnv, GuestSpace, Kicker};
pub use log::{LogFlags, Logger};
pub use tb_cache::{Tb, TbCache};
pub use tier::TierOptions;

/// Why [`Tcg::run`] returned.
#[derive(Debug)]
pub enum CpuExit {
    /// A guest exception; the pc is that of the instruction that raised it.
    Exception {
        /// Cause (frontend-defined, or `ir::backend::EXC_*`).
        cause: u32,
        /// Auxiliary value (fault address, ...).
        aux: u64,
    },
    /// Another thread (or a signal handler) asked this vCPU to stop.
    Interrupted,
    /// A host-side failure: the guest cannot continue.
    Error(TcgError),
}

/// Host-side failures of translation.
#[derive(Debug, thiserror::Error)]
pub enum TcgError {
    /// The frontend produced IR that does not verify (a remu bug).
    #[error("internal error: IR for pc {pc:#x} does not verify: {error}")]
    Verify {
        /// Block pc.
        pc: u64,
        /// Verifier message.
        error: String,
    },
    /// The backend failed.
    #[error("internal error: cannot compile the block at pc {pc:#x}: {error}")]
    Compile {
        /// Block pc.
        pc: u64,
        /// Backend message.
        error: String,
    },
}

/// Counters for `--stats`.
#[derive(Debug, Default)]
pub struct Stats {
    /// TBs translated.
    pub translated: AtomicU64,
    /// Guest instructions translated.
    pub guest_insns: AtomicU64,
    /// Nanoseconds spent translating and compiling.
    pub translate_ns: AtomicU64,
    /// Of those, nanoseconds in the frontend (guest code to IR), in the IR optimizer, and in
    /// the backend's code generator.
    pub frontend_ns: AtomicU64,
    /// See `frontend_ns`.
    pub optimize_ns: AtomicU64,
    /// See `frontend_ns`.
    pub codegen_ns: AtomicU64,
    /// TBs invalidated.
    pub invalidated: AtomicU64,
    /// Full flushes.
    pub flushes: AtomicU64,
    /// Native chain links made.
    pub chained: AtomicU64,
    /// TBs moved to the hot tier.
    pub promoted: AtomicU64,
    /// Nanoseconds the vCPUs spent translating TBs again for the hot tier.
    pub hot_translate_ns: AtomicU64,
    /// Nanoseconds spent compiling hot TBs.
    pub hot_compile_ns: AtomicU64,
}

pub(crate) struct Inner {
    pub(crate) cache: TbCache,
    pub(crate) builder: Builder,
}

/// Names a guest address: `Some((symbol, offset))`.
pub type Symbolizer = Box<dyn Fn(u64) -> Option<(String, u64)> + Send + Sync>;

/// Nanoseconds from `a` to `b` (clock readings of [`Tcg::clock`]; 0 when not timed).
pub(crate) fn ns_between(a: Option<std::time::Instant>, b: Option<std::time::Instant>) -> u64 {
    match (a, b) {
        (Some(a), Some(b)) => b.saturating_duration_since(a).as_nanos() as u64,
        _ => 0,
    }
}

/// Options of a [`Tcg`].
#[derive(Clone)]
pub struct TcgOptions {
    /// Maximum guest instructions per TB.
    pub max_insns: usize,
    /// Run the IR optimizer.
    pub optimize: bool,
    /// Translate superblocks (conditional branches become side exits, direct jumps within the
    /// block's first page are followed).
    pub superblocks: bool,
    /// Write /tmp/perf-PID.map so that `perf report` names compiled blocks (QEMU's -perfmap).
    pub perfmap: bool,
    /// Time the translation phases for the statistics (`--stats`): a few clock reads a
    /// block, about 1% of a start-up's time.
    pub timing: bool,
    /// Logging.
    pub log: Logger,
}

impl Default for TcgOptions {
    fn default() -> Self {
        TcgOptions {
            max_insns: 512,
            optimize: true,
            superblocks: true,
            perfmap: false,
            timing: false,
            log: Logger::stderr(LogFlags::default()),
        }
    }
}

/// The shared translator: frontend, backend, TB cache, guest space.
pub struct Tcg<F: Frontend> {
    pub(crate) frontend: F,
    /// The tiers: `[cold]`, or `[cold, hot]` with tiering.
    pub(crate) backends: Vec<Box<dyn Backend>>,
    pub(crate) tier: Option<TierOptions>,
    /// When the translator was made (tier-up warm-up).
    pub(crate) created: std::time::Instant,
    pub(crate) worker: Mutex<Option<Arc<tier::JobQueue>>>,
    /// Held by the tier-up worker while it compiles (a fork waits for it).
    pub(crate) tier_lock: Mutex<()>,
    pub(crate) me: Weak<Tcg<F>>,
    /// The hot backend ran out of code space on the worker thread: flush at the next chance.
    pub(crate) flush_pending: AtomicBool,
    /// Held shared by every vCPU while it runs translated code (`run`); a full flush takes it
    /// exclusively, after asking every vCPU to leave (QEMU's start_exclusive), so no thread is
    /// inside code memory that the flush reuses.
    pub(crate) exec_gate: std::sync::RwLock<()>,
    /// Exclusive sections announced and not yet over (`exclusive_flush`).
    pub(crate) exclusive_wanted: std::sync::atomic::AtomicUsize,
    /// Exit flags of the vCPUs made by `new_cpu` (dead ones are pruned as new ones come).
    pub(crate) cpus: Mutex<Vec<std::sync::Weak<dyn env::ExitFlag>>>,
    pub(crate) layout: EnvLayout,
    pub(crate) space: GuestSpace,
    inner: Mutex<Inner>,
    pub(crate) max_insns: usize,
    pub(crate) optimize: bool,
    pub(crate) superblocks: bool,
    pub(crate) timing: bool,
    pub(crate) native_chaining: bool,
    /// The tiers compile into one code domain (`Backend::code_domain`): exits of one tier
    /// link to blocks of the other.
    pub(crate) cross_tier_links: bool,
    /// The perf map being written (`--perfmap`).
    pub(crate) perfmap: Option<Mutex<std::fs::File>>,
    /// Names guest addresses for the perf map (set by the loader: ELF symbols).
    pub(crate) symbolizer: std::sync::RwLock<Option<Symbolizer>>,
    /// Logging.
    pub log: Logger,
    /// Counters.
    pub stats: Stats,
}

impl<F: Frontend> Tcg<F> {
    /// A translator for `frontend` compiling with `backend` over `space`.
    pub fn new(frontend: F, backend: Box<dyn Backend>, space: GuestSpace, opts: TcgOptions) -> Arc<Self> {
        Self::with_backends(frontend, vec![backend], None, space, opts)
    }

    /// A translator with two tiers: TBs start on `cold` and move to `hot` when they have run
    /// `tier.threshold` times.
    pub fn new_tiered(
        frontend: F,
        cold: Box<dyn Backend>,
        hot: Box<dyn Backend>,
        tier: TierOptions,
        space: GuestSpace,
        opts: TcgOptions,
    ) -> Arc<Self> {
        Self::with_backends(frontend, vec![cold, hot], Some(tier), space, opts)
    }

    fn with_backends(
        frontend: F,
        backends: Vec<Box<dyn Backend>>,
        tier: Option<TierOptions>,
        space: GuestSpace,
        opts: TcgOptions,
    ) -> Arc<Self> {
        let builder = Builder::new(frontend.decls());
        let native_chaining = backends.iter().any(|b| b.chains_natively()) && !opts.log.flags.exec;
        let domain = backends[0].code_domain();
        let cross_tier_links = domain != 0 && backends.iter().all(|b| b.code_domain() == domain);
        code_protect::register(&space);
        Arc::new_cyclic(|me| Tcg {
            frontend,
            backends,
            tier,
            worker: Mutex::new(None),
            tier_lock: Mutex::new(()),
            me: me.clone(),
            flush_pending: AtomicBool::new(false),
            exec_gate: std::sync::RwLock::new(()),
            exclusive_wanted: std::sync::atomic::AtomicUsize::new(0),
            cpus: Mutex::new(Vec::new()),
            layout: CpuEnv::<F::State>::layout(),
            space,
            inner: Mutex::new(Inner { cache: TbCache::default(), builder }),
            max_insns: opts.max_insns.clamp(1, 4096),
            optimize: opts.optimize,
            superblocks: opts.superblocks,
            timing: opts.timing,
            perfmap: if opts.perfmap {
                std::fs::File::create(format!("/tmp/perf-{}.map", std::process::id())).ok().map(Mutex::new)
            } else {
                None
            },
            symbolizer: std::sync::RwLock::new(None),
            native_chaining,
            cross_tier_links,
            created: std::time::Instant::now(),
            log: opts.log,
            stats: Stats::default(),
        })
    }

    /// Sets how guest addresses are named in the perf map (the loader knows the symbols).
    pub fn set_symbolizer(&self, s: Symbolizer) {
        if let Ok(mut g) = self.symbolizer.write() {
            *g = Some(s);
        }
    }

    /// Records a compiled block in the perf map, if one is being written.
    pub(crate) fn perfmap_add(&self, pc: u64, code: &dyn ir::backend::CompiledBlock) {
        let (Some(f), Some((start, len))) = (&self.perfmap, code.host_code()) else { return };
        let name = match self.symbolizer.read().ok().and_then(|s| s.as_ref().and_then(|s| s(pc))) {
            Some((sym, off)) => format!("guest:{sym}+{off:#x} [{pc:#x}]"),
            None => format!("guest:{pc:#x}"),
        };
        if let Ok(mut f) = f.lock() {
            use std::io::Write;
            let _ = writeln!(f, "{start:x} {len:x} {name}");
        }
    }

    /// The frontend.
    pub fn frontend(&self) -> &F {
        &self.frontend
    }

    /// The backends' names (`interp`, `baseline`, `jit`, or `baseline+jit` when tiered).
    pub fn backend_name(&self) -> String {
        self.backends.iter().map(|b| b.name()).collect::<Vec<_>>().join("+")
    }

    /// The guest space.
    pub fn space(&self) -> &GuestSpace {
        &self.space
    }

    /// A new vCPU with `state`, wired to this translator.
    pub fn new_cpu(self: &Arc<Self>, state: F::State, index: u32) -> Cpu<F::State> {
        let mut cpu = Cpu::new(state, &self.space);
        cpu.index = index;
        let h = cpu.header_mut();
        h.code_write_hook = Some(code_write_hook::<F>);
        h.hook_ctx = Arc::as_ptr(self) as *const ();
        cpu.hook_owner = Some(self.clone() as Arc<dyn std::any::Any + Send + Sync>);
        let mut cpus = self.cpus.lock().unwrap_or_else(|e| e.into_inner());
        cpus.retain(|w| w.strong_count() > 0);
        cpus.push(cpu.exit_flag());
        drop(cpus);
        cpu
    }

    /// A full flush in an exclusive section: asks every other vCPU to leave translated code,
    /// waits until none runs any, and flushes if a flush is still pending. The caller holds no
    /// share of `exec_gate` and no lock of the translator.
    ///
    /// An exit request is one word that a vCPU clears when it handles it, whoever set it, so
    /// a vCPU may consume ours and enter translated code again before we wait for the gate
    /// (another section held it meanwhile), then never be asked to leave. So the section is
    /// announced first (`exclusive_wanted`): a vCPU that takes its share of the gate while one
    /// is announced gives it up again before running any code (`run`).
    pub(crate) fn exclusive_flush(&self, own: &std::sync::atomic::AtomicU32) {
        self.exclusive_wanted.fetch_add(1, Ordering::AcqRel);
        {
            let cpus = self.cpus.lock().unwrap_or_else(|e| e.into_inner());
            for w in cpus.iter() {
                if let Some(f) = w.upgrade() {
                    if !std::ptr::eq(f.exit_request(), own) {
                        f.exit_request().store(1, Ordering::Release);
                    }
                }
            }
        }
        {
            let _all = self.exec_gate.write().unwrap_or_else(|e| e.into_inner());
            if self.flush_pending.swap(false, Ordering::AcqRel) {
                self.flush();
            }
        }
        self.exclusive_wanted.fetch_sub(1, Ordering::AcqRel);
    }

    /// The cache lock if it is free.
    pub(crate) fn inner_try_lock(&self) -> Option<MutexGuard<'_, Inner>> {
        match self.inner.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the cache consistent (every mutation is a
        // single map operation), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn drop_tbs(&self, tbs: Vec<Arc<Tb>>) {
        for tb in &tbs {
            let backend = &self.backends[tb.tier as usize];
            backend.invalidate(tb.code.as_ref());
            if self.native_chaining {
                let inc = std::mem::take(&mut *tb.incoming.lock().unwrap_or_else(|e| e.into_inner()));
                for (from, slot) in inc {
                    if let Some(from) = from.upgrade() {
                        backend.unlink(from.code.as_ref(), slot);
                        from.linked[slot as usize].store(false, Ordering::Release);
                    }
                }
            }
        }
        self.stats.invalidated.fetch_add(tbs.len() as u64, Ordering::Relaxed);
    }

    /// Runs `fork` (which forks the host process) with the translator quiescent, as QEMU's
    /// fork_start/fork_end do: the tier-up worker is between jobs and every lock of the
    /// translator and the backends is held by this thread, so the child, which has only this
    /// thread, inherits none of them locked. In the child (`is_child` of the result), the
    /// worker thread is gone and is started again on demand.
    ///
    /// Lock order: tier lock, worker slot, TB cache, backend locks (the worker takes the tier
    /// lock, then the backend's and the cache's in turn; vCPUs take the cache, then the backend).
    ///
    /// The child also gets private copies of whatever the backends share with the parent (the
    /// JIT's code memory); if that fails, the child exits with a message.
    pub fn fork<R>(&self, fork: impl FnOnce() -> R, is_child: impl FnOnce(&R) -> bool) -> R {
        let tier = self.tier_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut worker = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        let inner = self.lock();
        let held: Vec<Box<dyn ir::backend::Held + '_>> = self.backends.iter().map(|b| b.fork_lock()).collect();
        let r = fork();
        let child = is_child(&r);
        if child {
            *worker = None;
            self.flush_pending.store(false, Ordering::Relaxed);
        }
        drop(held);
        drop(inner);
        drop(worker);
        drop(tier);
        if child {
            for b in &self.backends {
                if let Err(e) = b.fork_child() {
                    eprintln!("remu: {e}");
                    std::process::exit(1);
                }
            }
        }
        r
    }

    /// Page `page` holds no translated code any more: give the guest back host write access
    /// if it may write the page, then clear its CODE mark and the NEXT_CODE mark of the page
    /// before it (in this order: a store that sees no mark must find the page writable).
    fn clear_code_marks(&self, page: u64) {
        if let Some(p) = self.space.perm(page << perm::PAGE_BITS) {
            if p.load(Ordering::Acquire) & perm::WRITE != 0 {
                code_protect::write_protect(&self.space, page, false);
            }
            p.fetch_and(!perm::CODE, Ordering::AcqRel);
        }
        if let Some(prev) = page.checked_sub(1).and_then(|pp| self.space.perm(pp << perm::PAGE_BITS)) {
            prev.fetch_and(!perm::NEXT_CODE, Ordering::AcqRel);
        }
    }

    /// Invalidates the TBs translated from the page holding `addr` and clears its code mark.
    pub fn invalidate_page(&self, addr: u64) {
        let page = addr >> perm::PAGE_BITS;
        let tbs = {
            let mut inner = self.lock();
            let tbs = inner.cache.invalidate_page(page);
            self.clear_code_marks(page);
            tbs
        };
        self.drop_tbs(tbs);
    }

    /// Invalidates every TB translated from `[start, start + len)` (munmap, mprotect, mmap
    /// over existing code).
    pub fn invalidate_range(&self, start: u64, len: u64) {
        if len == 0 {
            return;
        }
        let first = start >> perm::PAGE_BITS;
        let last = (start.saturating_add(len - 1)) >> perm::PAGE_BITS;
        let mut all = Vec::new();
        {
            let mut inner = self.lock();
            for p in inner.cache.code_pages_in(first, last) {
                all.extend(inner.cache.invalidate_page(p));
                self.clear_code_marks(p);
            }
        }
        self.drop_tbs(all);
    }

    /// Drops every TB.
    pub fn flush(&self) {
        let mut inner = self.lock();
        self.flush_locked(&mut inner);
    }

    /// Drops every TB and the backend's code, with the cache lock held. No vCPU may be running
    /// compiled code: `run` flushes only inside an exclusive section (`exclusive_flush`).
    pub(crate) fn flush_locked(&self, inner: &mut Inner) {
        let all = inner.cache.clear();
        for tb in &all {
            if let Ok(mut inc) = tb.incoming.lock() {
                inc.clear();
            }
        }
        for b in &self.backends {
            b.flush();
        }
        self.stats.flushes.fetch_add(1, Ordering::Relaxed);
        self.stats.invalidated.fetch_add(all.len() as u64, Ordering::Relaxed);
    }

    /// Number of TBs in the cache.
    pub fn tb_count(&self) -> usize {
        self.lock().cache.len()
    }

    /// The time now, if the translation phases are timed (`TcgOptions::timing`).
    pub(crate) fn clock(&self) -> Option<std::time::Instant> {
        self.timing.then(std::time::Instant::now)
    }

    /// A `--stats` summary.
    pub fn stats_summary(&self) -> String {
        let s = &self.stats;
        format!(
            "backend {}: {} blocks translated ({} guest instructions) in {:.1} ms (frontend {:.1}, optimizer {:.1}, code generation {:.1}), {} promoted to the hot tier ({:.1} ms translating, {:.1} ms compiling), {} chained, {} invalidated, {} flushes",
            self.backend_name(),
            s.translated.load(Ordering::Relaxed),
            s.guest_insns.load(Ordering::Relaxed),
            s.translate_ns.load(Ordering::Relaxed) as f64 / 1e6,
            s.frontend_ns.load(Ordering::Relaxed) as f64 / 1e6,
            s.optimize_ns.load(Ordering::Relaxed) as f64 / 1e6,
            s.codegen_ns.load(Ordering::Relaxed) as f64 / 1e6,
            s.promoted.load(Ordering::Relaxed),
            s.hot_translate_ns.load(Ordering::Relaxed) as f64 / 1e6,
            s.hot_compile_ns.load(Ordering::Relaxed) as f64 / 1e6,
            s.chained.load(Ordering::Relaxed),
            s.invalidated.load(Ordering::Relaxed),
            s.flushes.load(Ordering::Relaxed),
        )
    }
}

/// The store slow path's hook for pages holding translated code (see `EnvHeader`).
///
/// # Safety
/// `env` is an environment created by [`Tcg::new_cpu`] of a `Tcg<F>`, whose `hook_ctx` points
/// to that (live: the Cpu holds a reference) Tcg.
unsafe extern "C" fn code_write_hook<F: Frontend>(env: *mut EnvHeader, addr: u64, _size: u64) -> u32 {
    // SAFETY: per the function contract.
    let tcg = unsafe { &*((*env).hook_ctx as *const Tcg<F>) };
    tcg.invalidate_page(addr);
    0
}
