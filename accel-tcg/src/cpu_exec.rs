//! The translate-and-run loop (QEMU's `cpu_exec`, `tb_find`, `tb_gen_code`): find or translate
//! the TB for the current pc, run it, follow chains, and hand exceptions back to the caller
//! with the precise guest pc restored from the TB's instruction table. A load that faulted
//! after the optimizer had moved register writes past it (`ir::opt::defer`) is replayed from
//! its restart pc on the reference evaluator first, so that its exception, too, comes with
//! precise registers.
//!
//! With two tiers, new TBs are compiled by the cold backend (the JIT's baseline tier, or the
//! interpreter) and counted as they run; a TB that reaches the threshold is retranslated and
//! compiled by the hot backend (Cranelift), on a background thread if so configured
//! (`tier.rs`), and replaces the cold TB. Tiers that share a code domain
//! (`Backend::code_domain`) link their blocks to each other's.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use frontend::{Frontend, GuestState, TranslateLimits};
use ir::backend::{perm, CompileCtx, CompileError, CompiledBlock, MemMode, TbExit, EXC_EMULATE, EXC_STORE_FAULT};
use ir::Block;

use crate::code_reader::GuestCodeReader;
use crate::env::Cpu;
use crate::tb_cache::Tb;
use crate::{CpuExit, Inner, Tcg, TcgError};

/// How far a translation is optimized beyond what the IR builder simplifies as it emits
/// (constants, identities, register forwarding).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum OptLevel {
    /// No further: for the cold tier of a tiered set-up, where most blocks run a few times
    /// and the hot ones are translated again for the hot tier. (Measured on `python3 -c
    /// pass`: the optimizer took more time than it saved the interpreter.)
    Builder,
    /// `ir::opt::optimize`.
    Full,
    /// `ir::opt::optimize_deferring`, for backends where each register write is a store
    /// (`Backend::defers_register_writes`).
    Deferring,
}

impl OptLevel {
    /// The full optimization `backend` wants.
    pub(crate) fn for_backend(backend: &dyn ir::backend::Backend) -> Self {
        if backend.defers_register_writes() {
            OptLevel::Deferring
        } else {
            OptLevel::Full
        }
    }
}

/// Takes the pending exception out of the environment and sets the pc to the raising
/// instruction's (reported by the block that raised, which, with native chaining, need not be
/// the one the dispatcher entered). With `replay`, the pc is that of an earlier instruction,
/// as of whose start the registers are (`EnvHeader::exception_replay`).
fn take_exception<S: GuestState>(cpu: &mut Cpu<S>) -> (u32, u64, bool) {
    let insn_pc = cpu.header().exception_pc;
    let hdr = cpu.header_mut();
    let (cause, aux) = (hdr.exception, hdr.exception_aux);
    let replay = std::mem::take(&mut hdr.exception_replay) != 0;
    hdr.exception = 0;
    hdr.exception_aux = 0;
    cpu.state_mut().set_pc(insn_pc);
    (cause, aux, replay)
}

/// A chaining exit that left a block through an unlinked slot (linked to the block that runs
/// next, if it is of the same tier).
struct Unlinked {
    /// The block that took it.
    pc: u64,
    flags: u64,
    slot: u8,
    /// The [`CompiledBlock::exit_id`] of that block's compilation.
    exit_id: u64,
    /// Its tier.
    tier: u8,
}

/// Conditional branches a cold-tier block continues past (`TranslateLimits::side_exits`).
/// Each one's fall-through path is translated whether it runs or not, and again as a block of
/// its own when something else jumps there. Measured on `python3 -c pass` (24k cold blocks):
/// 2 instead of the chaining slots' limit (6) translates 14% fewer guest instructions in 8%
/// more blocks and takes 6% less time (interleaved runs); 1 makes too many blocks.
const COLD_SIDE_EXITS: u8 = 2;

/// At most this many instructions are replayed after a load's fault (a window of
/// `ir::opt::defer` lies within one block, which has fewer); if none raises (memory changed
/// meanwhile), the dispatcher simply goes on from there.
const MAX_REPLAY: usize = 1024;

/// A translated (and optimized) block with what is needed to make a TB of it.
pub(crate) struct Translated {
    pub block: Block,
    pub pages: [u64; 2],
    /// Nanoseconds spent in the frontend (for `--stats`).
    pub frontend_ns: u64,
    /// Nanoseconds spent in the IR optimizer (for `--stats`).
    pub optimize_ns: u64,
}

impl<F: Frontend> Tcg<F> {
    /// Runs guest code on `cpu` until an exception, an exit request or a host error.
    pub fn run(&self, cpu: &mut Cpu<F::State>) -> CpuExit {
        // The IR's native FP ops accrue exception flags in the host FP status register: start
        // clean (host code may have left flags there), and fold them into the guest state on
        // the way out, so that whoever reads the guest registers after `run` sees them.
        ir::fpu::take_host_flags();
        let exit = self.run_inner(cpu);
        let pending = ir::fpu::take_host_flags() | std::mem::take(&mut cpu.header_mut().fp_flags);
        if pending != 0 {
            cpu.state_mut().merge_fp_flags(pending);
        }
        exit
    }

    fn run_inner(&self, cpu: &mut Cpu<F::State>) -> CpuExit {
        let env = cpu.env_ptr();
        // this vCPU runs translated code until it returns (see `Tcg::exclusive_flush`)
        let mut gate = Some(self.exec_gate.read().unwrap_or_else(|e| e.into_inner()));
        // The block that left through an unlinked chaining slot last, to be linked to the
        // block that runs next.
        let mut prev: Option<Unlinked> = None;
        // the backend reported that the block at pc got hot through chained entries
        let mut hot = false;
        // the last block left for an indirect jump its backend's lookup did not resolve
        let mut looked_up = false;
        loop {
            if self.exclusive_wanted.load(Ordering::Acquire) != 0 {
                // an exclusive section was announced, perhaps after it asked us to leave and
                // we handled that request: let it run (see exclusive_flush)
                drop(gate.take());
                while self.exclusive_wanted.load(Ordering::Acquire) != 0 {
                    std::thread::yield_now();
                }
                gate = Some(self.exec_gate.read().unwrap_or_else(|e| e.into_inner()));
                prev = None;
            }
            if self.flush_pending.load(Ordering::Acquire) {
                drop(gate.take());
                self.exclusive_flush(&cpu.header().exit_request);
                gate = Some(self.exec_gate.read().unwrap_or_else(|e| e.into_inner()));
                prev = None;
            }
            if let Some((pages, all)) = crate::code_protect::take_faulted_pages() {
                // remu's own write to a code page faulted and made it writable
                for p in pages {
                    self.invalidate_page(p << perm::PAGE_BITS);
                }
                if all {
                    self.flush_pending.store(true, Ordering::Release);
                    continue;
                }
            }
            let pc = cpu.state().pc();
            let flags = cpu.state().tb_flags();
            let h = ir::backend::jump_cache_index(pc);
            if !cpu.jump_hit(h, pc, flags) {
                match self.lookup(pc, flags, false) {
                    Ok(Some(tb)) => {
                        let target = self.backends[tb.tier as usize].jump_target(tb.code.as_ref());
                        cpu.set_jump(h, tb, target);
                    }
                    Ok(None) => continue, // the code cache is full: flush first
                    Err(e) => return CpuExit::Error(e),
                }
            }
            let Some(tb) = cpu.jump(h) else { unreachable!("filled just above") };
            if std::mem::take(&mut looked_up) {
                self.backends[tb.tier as usize].refresh_lookup(tb.code.as_ref());
            }
            if let Some(from) = prev.take() {
                // Links may cross pages: invalidating a page drops its TBs and undoes every
                // link into them (`drop_tbs`), so no link ever leads into stale code. (QEMU
                // keeps links within a page because, in system mode, a virtual page can be
                // remapped without any write to the code; user mode has no such case: unmap
                // and mprotect invalidate.) Chains stay within one tier unless the tiers share
                // a code domain: an exit into the other tier then always comes back here
                // (without taking the cache lock).
                if from.tier == tb.tier || self.cross_tier_links {
                    self.maybe_link(&from, tb);
                }
            }
            let reported_hot = std::mem::take(&mut hot);
            if let Some(t) = &self.tier {
                if tb.tier == 0 {
                    let n = tb.exec_count.load(Ordering::Relaxed).wrapping_add(1);
                    if n == t.threshold || (reported_hot && n < t.threshold) {
                        if self.created.elapsed() < t.warmup {
                            tb.exec_count.store(0, Ordering::Relaxed);
                        } else {
                            // past the threshold: the dispatcher's count does not promote it again
                            tb.exec_count.store(t.threshold.wrapping_add(1), Ordering::Relaxed);
                            self.promote(tb);
                        }
                    } else {
                        tb.exec_count.store(n, Ordering::Relaxed);
                    }
                }
            }
            if self.log.flags.exec {
                self.log.write(&format!("Trace {}: [{:016x}/{:#x}]\n", cpu.index, pc, flags));
            }
            // SAFETY: env is this vCPU's environment (laid out as CpuEnv<F::State>, which the
            // backends compiled for), exclusively used by this thread during the call; its header
            // describes the guest space that the Tcg's owner keeps mapped.
            let exit = unsafe { tb.code.run(env) };
            match exit {
                TbExit::Chain { slot, from } => {
                    if self.native_chaining {
                        let tier = tb.tier;
                        prev = if from == 0 {
                            Some(Unlinked { pc: tb.pc, flags: tb.flags, slot, exit_id: tb.code.exit_id(), tier })
                        } else {
                            // chains stay within the code domain of the backend that compiled `tb`
                            self.backends[tier as usize].exit_origin(from).map(|(pc, flags)| Unlinked {
                                pc,
                                flags,
                                slot,
                                exit_id: from,
                                tier,
                            })
                        };
                    }
                }
                TbExit::Lookup => looked_up = true,
                TbExit::Hot => hot = true,
                TbExit::Interrupted => return CpuExit::Interrupted,
                TbExit::Exception => {
                    let (cause, aux, replay) = take_exception(cpu);
                    if replay {
                        match self.replay(cpu) {
                            Ok(None) => continue,
                            Ok(Some(exit)) => return exit,
                            Err(e) => return CpuExit::Error(e),
                        }
                    }
                    let emulate = cause == EXC_EMULATE || (cause == EXC_STORE_FAULT && self.guest_may_write(aux));
                    if !emulate {
                        return CpuExit::Exception { cause, aux };
                    }
                    // The instruction runs on the reference evaluator, uncached: an access
                    // compiled code left to it (EXC_EMULATE), or a store of compiled code to a
                    // page that is write-protected because it holds translated code
                    // (`code_reader.rs`). The store goes through `ir::linear`, which
                    // invalidates the page's code (giving the guest its write access back)
                    // before storing. A new compiled block would protect the page again, if
                    // the store is to the page of its own code, and fault forever.
                    match self.step_uncached(cpu) {
                        Ok(None) => {}
                        Ok(Some(exit)) => return exit,
                        Err(e) => return CpuExit::Error(e),
                    }
                }
            }
        }
    }

    fn guest_may_write(&self, addr: u64) -> bool {
        self.space.perm(addr).is_some_and(|p| p.load(Ordering::Acquire) & perm::WRITE != 0)
    }

    /// A load faulted after its block had moved register writes past it (`ir::opt::defer`):
    /// the registers are as of the start of the instruction at the pc, the start of the
    /// load's window, which holds no store and no other effect. Runs from there on the
    /// reference evaluator, one instruction at a time, until one raises: the load, now with
    /// precise registers (or, if memory changed meanwhile, whatever raises first).
    fn replay(&self, cpu: &mut Cpu<F::State>) -> Result<Option<CpuExit>, TcgError> {
        for _ in 0..MAX_REPLAY {
            if let Some(exit) = self.step_uncached(cpu)? {
                return Ok(Some(exit));
            }
        }
        Ok(None)
    }

    /// Runs the instruction at the pc with the reference evaluator, uncached. Returns the exit
    /// if it raised or the vCPU was asked to stop.
    fn step_uncached(&self, cpu: &mut Cpu<F::State>) -> Result<Option<CpuExit>, TcgError> {
        let (pc, flags) = (cpu.state().pc(), cpu.state().tb_flags());
        let limits = TranslateLimits { max_insns: 1, same_page: true, side_exits: 0, follow_jumps: false };
        // the reference evaluator: precise registers everywhere
        let t = self.translate(&mut self.lock(), pc, flags, limits, OptLevel::Builder)?;
        // SAFETY: the vCPU's own environment, laid out as the frontend's declarations say,
        // used by this thread only; its header describes the guest space the owner keeps
        // mapped.
        Ok(match unsafe { ir::eval::eval(&t.block, self.frontend.decls(), cpu.env_ptr()) } {
            TbExit::Exception => {
                // a one-instruction block replays from its own start: the registers are precise
                let (cause, aux, _) = take_exception(cpu);
                Some(CpuExit::Exception { cause, aux })
            }
            TbExit::Interrupted => Some(CpuExit::Interrupted),
            TbExit::Chain { .. } | TbExit::Lookup | TbExit::Hot => None,
        })
    }

    /// Links the exit `unlinked` names to `to`. Only that very compilation: if its block has
    /// been compiled again since (a hot-tier version, which may cover more code and number its
    /// exits otherwise), the exit number means something else there and nothing is linked.
    fn maybe_link(&self, unlinked: &Unlinked, to: &Arc<Tb>) {
        let slot = unlinked.slot;
        let inner = self.lock();
        let Some(from) = inner.cache.get(unlinked.pc, unlinked.flags) else { return };
        if (from.tier != to.tier && !self.cross_tier_links)
            || !from.is_valid()
            || !to.is_valid()
            || from.code.exit_id() != unlinked.exit_id
        {
            return;
        }
        if from.linked[slot as usize].swap(true, Ordering::AcqRel) {
            return;
        }
        if !self.backends[to.tier as usize].link(from.code.as_ref(), slot, &to.code) {
            from.linked[slot as usize].store(false, Ordering::Release);
            return;
        }
        if let Ok(mut inc) = to.incoming.lock() {
            inc.push((Arc::downgrade(from), slot));
        }
        self.stats.chained.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn compile_ctx<'a>(&'a self, decls: &'a ir::Decls) -> CompileCtx<'a> {
        CompileCtx {
            decls,
            env: &self.layout,
            mem: MemMode::Linear {
                guest_base: self.space.guest_base,
                page_perms: self.space.perms as u64,
                va_limit: self.space.va_limit,
            },
        }
    }

    /// Translates the block at (pc, flags) and optimizes it as `opt` says. Called with the
    /// cache lock held.
    pub(crate) fn translate(
        &self,
        inner: &mut Inner,
        pc: u64,
        flags: u64,
        limits: TranslateLimits,
        opt: OptLevel,
    ) -> Result<Translated, TcgError> {
        let decls = self.frontend.decls();
        let t0 = self.clock();
        let mut reader = GuestCodeReader::new(&self.space, self.log.flags.in_asm);
        inner.builder.start(pc, flags);
        let size = self.frontend.translate(pc, flags, &mut reader, &mut inner.builder, limits);
        let mut block = inner.builder.finish(size);
        let t1 = self.clock();
        if self.log.flags.in_asm {
            self.log_in_asm(&reader);
        }
        if self.log.flags.op {
            self.log.write(&format!("OP:\n{}\n", ir::text::print(&block, decls)));
        }
        // The verifier runs in debug builds (and every test of the frontends and backends
        // verifies what they produce); release builds skip it: it is a third of the
        // translation time of short-lived programs.
        if cfg!(debug_assertions) {
            ir::verify::verify(&block, decls).map_err(|e| TcgError::Verify { pc, error: e.to_string() })?;
        }
        if self.optimize {
            match opt {
                OptLevel::Builder => {}
                OptLevel::Full => ir::opt::optimize(&mut block),
                OptLevel::Deferring => ir::opt::optimize_deferring(&mut block),
            }
            if cfg!(debug_assertions) {
                ir::verify::verify(&block, decls)
                    .map_err(|e| TcgError::Verify { pc, error: format!("after optimization: {e}") })?;
            }
        }
        let t2 = self.clock();
        if self.log.flags.op_opt {
            self.log.write(&format!("OP after optimization:\n{}\n", ir::text::print(&block, decls)));
        }
        let first = reader.pages.first().copied().unwrap_or(pc >> ir::backend::perm::PAGE_BITS);
        let second = reader.pages.get(1).copied().unwrap_or(first);
        let (frontend_ns, optimize_ns) = (crate::ns_between(t0, t1), crate::ns_between(t1, t2));
        Ok(Translated { block, pages: [first, second], frontend_ns, optimize_ns })
    }

    /// The limits a new block is translated with: superblocks (if enabled) as far as the
    /// chaining slots go, following direct jumps; for the cold one of two tiers, no followed
    /// jumps and at most [`COLD_SIDE_EXITS`] side exits: most of its blocks run a few times,
    /// and the hot tier re-translates those that do not.
    pub(crate) fn block_limits(&self, cold_tier: bool) -> TranslateLimits {
        let side_exits = match (self.superblocks, cold_tier) {
            (false, _) => 0,
            (true, true) => COLD_SIDE_EXITS,
            (true, false) => u8::MAX,
        };
        TranslateLimits {
            max_insns: self.max_insns,
            same_page: true,
            side_exits,
            follow_jumps: self.superblocks && !cold_tier,
        }
    }

    /// Makes a TB of compiled code and puts it in the cache (replacing any TB with its key).
    pub(crate) fn install(&self, inner: &mut Inner, t: &Translated, code: Arc<dyn CompiledBlock>, tier: u8) -> Arc<Tb> {
        self.perfmap_add(t.block.pc, code.as_ref());
        if self.log.flags.out_asm {
            if let Some(d) = code.describe() {
                self.log.write(&format!(
                    "OUT: [{} tier, pc={:#x}]\n{d}\n",
                    self.backends[tier as usize].name(),
                    t.block.pc
                ));
            }
        }
        let tb = Arc::new(Tb {
            pc: t.block.pc,
            flags: t.block.flags,
            size: t.block.guest_size,
            code,
            insn_count: t.block.guest_insn_count() as u32,
            pages: t.pages,
            tier,
            exec_count: Default::default(),
            valid: true.into(),
            incoming: Default::default(),
            linked: Default::default(),
        });
        if let Some(old) = inner.cache.insert(tb.clone()) {
            self.drop_tbs(vec![old]);
        }
        self.backends[tier as usize].publish(tb.code.as_ref());
        tb
    }

    /// Finds the TB for (pc, flags), translating it if needed. A full code cache is flushed
    /// at once: for callers with no vCPU running (`run` flushes in an exclusive section).
    pub fn find_or_translate(&self, pc: u64, flags: u64) -> Result<Arc<Tb>, TcgError> {
        self.lookup(pc, flags, true).map(|tb| tb.expect("a flush makes room"))
    }

    /// `find_or_translate`; with `flush_here` false, a full code cache makes it set
    /// `flush_pending` and return None.
    pub(crate) fn lookup(&self, pc: u64, flags: u64, flush_here: bool) -> Result<Option<Arc<Tb>>, TcgError> {
        let mut inner = self.lock();
        if let Some(tb) = inner.cache.get(pc, flags) {
            return Ok(Some(tb.clone()));
        }
        let t0 = self.clock();
        // the first backend is the cold tier when there are two
        let mut limits = self.block_limits(self.tier.is_some());
        let opt =
            if self.tier.is_some() { OptLevel::Builder } else { OptLevel::for_backend(self.backends[0].as_ref()) };
        let decls = self.frontend.decls();
        let mut flushed = false;
        loop {
            let t = self.translate(&mut inner, pc, flags, limits, opt)?;
            let t1 = self.clock();
            let compiled = self.backends[0].compile(&t.block, &self.compile_ctx(decls));
            self.stats.codegen_ns.fetch_add(crate::ns_between(t1, self.clock()), Ordering::Relaxed);
            self.stats.frontend_ns.fetch_add(t.frontend_ns, Ordering::Relaxed);
            self.stats.optimize_ns.fetch_add(t.optimize_ns, Ordering::Relaxed);
            let code = match compiled {
                Ok(c) => c,
                Err(CompileError::ScratchTooSmall { .. }) if limits.max_insns > 1 => {
                    limits.max_insns /= 2;
                    continue;
                }
                Err(CompileError::CacheFull) if !flush_here => {
                    self.flush_pending.store(true, Ordering::Release);
                    return Ok(None);
                }
                Err(CompileError::CacheFull) if !flushed => {
                    // full flush (QEMU's tb_flush)
                    self.flush_locked(&mut inner);
                    flushed = true;
                    continue;
                }
                Err(e) => return Err(TcgError::Compile { pc, error: e.to_string() }),
            };
            let tb = self.install(&mut inner, &t, code, 0);
            inner.builder.recycle(t.block);
            self.stats.translated.fetch_add(1, Ordering::Relaxed);
            self.stats.guest_insns.fetch_add(tb.insn_count as u64, Ordering::Relaxed);
            self.stats.translate_ns.fetch_add(crate::ns_between(t0, self.clock()), Ordering::Relaxed);
            return Ok(Some(tb));
        }
    }

    fn log_in_asm(&self, reader: &GuestCodeReader<'_>) {
        let mut s = String::from("IN:\n");
        for (start, bytes) in &reader.runs {
            let start = *start;
            match crate::log::capstone_disas(self.frontend.arch(), start, bytes) {
                Some(lines) if !lines.is_empty() => {
                    for (addr, len, text) in lines {
                        let off = (addr - start) as usize;
                        let hex: String = bytes[off..off + len].iter().rev().map(|b| format!("{b:02x}")).collect();
                        s.push_str(&format!("0x{addr:016x}:  {hex:<8}  {text}\n"));
                    }
                }
                _ => {
                    let mut r = frontend::SliceReader { base: start, bytes };
                    let mut a = start;
                    while let Some((text, len)) = self.frontend.disas_insn(a, &mut r) {
                        s.push_str(&format!("0x{a:016x}:  {text}\n"));
                        a += len as u64;
                    }
                }
            }
        }
        s.push('\n');
        self.log.write(&s);
    }
}
