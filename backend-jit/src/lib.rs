//! The Cranelift JIT backend: IR blocks compiled to host code (QEMU's TCG code generator,
//! with Cranelift in the role of `tcg/<host>`).
//!
//! - `lower.rs`: IR to Cranelift IR; guest registers held in SSA values within a block.
//! - `memory.rs`: guest memory accesses (fast path inline; off it, a trap to the reference
//!   evaluator, or an out-of-line runtime call without the host MMU; byte order).
//! - `exits.rs`: exit codes and chaining slots; blocks chain with tail calls.
//! - `code_cache.rs`: a dual-mapped (W^X) region the blocks are packed into.
//! - `abi.rs`: the Rust-to-JIT entry trampoline and the cold paths' runtime-call trampoline.
//! - `baseline/`: the baseline tier, a second code generator into the same code cache (blocks
//!   compiled by templates straight from the IR in one pass, for cold code).
//! - `fault.rs`, `fault_sites.rs`: guest accesses faulted by the host MMU or trapped off the
//!   fast path, and the guest instruction a host pc belongs to (for those faults and for
//!   runtime calls that raise).
//!
//! Uses cranelift-codegen and cranelift-frontend directly rather than cranelift-jit/-module:
//! our blocks need no linking (no relocations; calls go through pointer constants), and
//! cranelift-jit's per-function finalize costs a page and an mprotect per block (see
//! `code_cache.rs`).

mod abi;
pub mod baseline;
mod code_cache;
pub mod exits;
mod fault;
mod fault_sites;
mod lower;
mod memory;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cranelift_codegen::ir::{self as cl, InstBuilder, UserFuncName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{control::ControlPlane, Context};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use ir::backend::{Backend, CompileCtx, CompileError, CompiledBlock, MemMode, TbExit, MAX_CHAIN_SLOTS};
use ir::Block;

use code_cache::CodeCache;

/// Options of the JIT.
#[derive(Clone, Copy, Debug)]
pub struct JitOptions {
    /// Size of the code cache in bytes.
    pub cache_size: usize,
    /// Cranelift's optimization level: "none", "speed" or "speed_and_size".
    pub opt_level: &'static str,
    /// Put code in anonymous read-write-execute memory so that profilers can use a perf map
    /// for it (`--perfmap`); gives up write-xor-execute.
    pub profiling: bool,
}

impl Default for JitOptions {
    fn default() -> Self {
        JitOptions { cache_size: 256 << 20, opt_level: "speed", profiling: false }
    }
}

/// Cranelift's reusable compilation state (held for a whole Cranelift compilation).
struct Cranelift {
    ctx: Context,
    fbc: FunctionBuilderContext,
}

/// The code memory (held only to copy a finished block in, with its fault sites, or to
/// flush): the baseline tier adds blocks while Cranelift compiles.
struct Code {
    cache: CodeCache,
    /// Bytes of the cache holding the stubs, kept across flushes.
    permanent: usize,
}

struct Shared {
    isa: OwnedTargetIsa,
    /// The indirect-jump lookup table: `1 << LOOKUP_BITS` entry addresses of blocks' code
    /// (`exits::LOOKUP_BITS`), or `no_entry`.
    lookup: Box<[AtomicU64]>,
    /// What an empty lookup-table entry holds: an address after a header no pc matches.
    no_entry: u64,
    /// Every Desc made since the last flush (they must outlive any probe of the table).
    descs: Mutex<exits::DescArena>,
    /// Flush generation (changed under the `descs` lock): blocks of older generations have
    /// no code and no descriptor any more and are ignored by link/invalidate.
    generation: AtomicU64,
    cranelift: Mutex<Cranelift>,
    code: Mutex<Code>,
    stubs: [u64; MAX_CHAIN_SLOTS as usize],
    sysv: CallConv,
    /// Guest loads and stores rely on the host MMU (`fault.rs`); otherwise they check
    /// permission bytes.
    host_mmu: bool,
    /// Where the guest instructions of each block's code are, for exceptions raised without
    /// the guest pc (host faults, runtime calls from cold paths).
    fault_sites: Mutex<fault_sites::FaultSites>,
}

impl Shared {
    /// A descriptor for `block`, about to be compiled (its code embeds the address), in the
    /// arena of the current generation, which is returned with it; with `record`, also an
    /// [`exits::Record`] whose countdown to the hot tier starts at that count (0: no count).
    fn new_desc(&self, block: &Block, record: Option<u32>) -> (*const exits::Desc, *const AtomicU64, u64) {
        let desc = exits::Desc {
            pc: AtomicU64::new(u64::MAX),
            flags: block.flags,
            record: 0,
            start_pc: block.pc,
            slots: std::array::from_fn(|k| AtomicU64::new(self.stubs[k])),
            targets: exits::chain_targets(block),
        };
        let mut descs = self.descs.lock().unwrap_or_else(|e| e.into_inner());
        let dp = descs.alloc(desc);
        let mut rp = std::ptr::null();
        if let Some(countdown) = record {
            // SAFETY: `dp` was just allocated in the arena we hold locked.
            rp = descs.record(unsafe { &*dp }, countdown);
            // SAFETY: as above; no other thread knows the descriptor yet.
            unsafe { (*dp).record = rp as u64 };
        }
        (dp, rp, self.generation.load(Ordering::Acquire))
    }

    /// Copies the code of `block` into the cache, after the header the lookup table checks
    /// (`exits::LOOKUP_BITS`), and records its fault sites (`(start, end, tag)` ranges,
    /// sorted), under the code lock, which a flush takes to clear both; returns the code's
    /// entry address.
    fn place(&self, bytes: &[u8], block: &Block, sites: &[(u32, u32, u32)]) -> Result<u64, CompileError> {
        let mut code = self.code.lock().unwrap_or_else(|e| e.into_inner());
        let entry = code.cache.add_with_header([block.pc, block.flags], bytes).ok_or(CompileError::CacheFull)? as u64;
        self.fault_sites.lock().unwrap_or_else(|e| e.into_inner()).add(entry, bytes.len(), block.pc, sites);
        Ok(entry)
    }

    /// The block whose code was put at `entry` (`size` bytes) for descriptor `dp` of
    /// `generation`: fails with `CacheFull` if the cache was flushed meanwhile.
    fn finish(
        self: &Arc<Self>,
        dp: *const exits::Desc,
        generation: u64,
        entry: u64,
        size: usize,
        pc: u64,
        pc_offset: Option<u32>,
    ) -> Result<Arc<dyn CompiledBlock>, CompileError> {
        if self.generation.load(Ordering::Acquire) != generation {
            // flushed while compiling: the descriptor is gone and so is the code (a flush
            // after this check leaves a block of an old generation, which link, publish and
            // invalidate ignore)
            return Err(CompileError::CacheFull);
        }
        Ok(Arc::new(JitBlock { entry, pc, desc: dp, generation, size, pc_offset, shared: self.clone() }))
    }

    /// After an exception exit: maps the host pc noted by a host fault or a raising runtime
    /// call, if that is what raised it, to the guest instruction's pc.
    fn resolve_host_fault(&self, env: NonNull<u8>) {
        // SAFETY: the caller of `run` owns the environment, which starts with its header.
        let h = unsafe { &mut *(env.as_ptr() as *mut ir::backend::EnvHeader) };
        if h.host_fault_pc == 0 {
            return;
        }
        let sites = self.fault_sites.lock().unwrap_or_else(|e| e.into_inner());
        // every block has sites; 0 only if that ever breaks
        let (pc, replay) = sites.guest_pc(h.host_fault_pc).unwrap_or((0, false));
        h.exception_pc = pc;
        h.exception_replay = replay as u32;
        debug_assert!(h.exception_pc != 0, "no guest pc for host pc {:#x}", h.host_fault_pc);
        h.host_fault_pc = 0;
    }
}

/// The JIT backend.
pub struct JitBackend {
    shared: Arc<Shared>,
}

/// A compiled block.
pub struct JitBlock {
    entry: u64,
    /// Guest pc (published in the descriptor and the lookup table by `publish`).
    pc: u64,
    desc: *const exits::Desc,
    generation: u64,
    size: usize,
    /// Offset of the guest pc in the environment.
    pc_offset: Option<u32>,
    /// Keeps the backend, hence the code memory this block lives in, alive.
    shared: Arc<Shared>,
}

impl JitBlock {
    /// Points chaining slot `slot` at `target`, in the descriptor and the record (if any).
    ///
    /// # Safety
    /// The block is of the current generation (its descriptor and record are alive).
    unsafe fn set_slot(&self, slot: u8, target: u64) {
        let k = slot as usize % MAX_CHAIN_SLOTS as usize;
        // SAFETY: per the function contract.
        let d = unsafe { &*self.desc };
        d.slots[k].store(target, Ordering::Release);
        if d.record != 0 && d.targets[k] != u64::MAX {
            let r = d.record as *const AtomicU64;
            // SAFETY: the record has a word for every slot up to the last one with a target
            // (`DescArena::record`), and this slot has one.
            unsafe { (*r.add(exits::Record::SLOTS as usize / 8 + k)).store(target, Ordering::Release) };
        }
    }
}

/// Errors creating the backend.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// The host is not supported by Cranelift.
    #[error("cranelift does not support this host: {0}")]
    Host(String),
    /// The code cache could not be mapped.
    #[error("cannot map the JIT code cache: {0}")]
    Map(#[from] std::io::Error),
}

/// Compiles the function in `ctx` (position-independent: no relocations).
fn compile_function<'c>(
    ctx: &'c mut Context,
    isa: &OwnedTargetIsa,
) -> Result<&'c cranelift_codegen::CompiledCode, CompileError> {
    let compiled = ctx
        .compile(isa.as_ref(), &mut ControlPlane::default())
        .map_err(|e| CompileError::Codegen(format!("{:?}", e.inner)))?;
    if !compiled.buffer.relocs().is_empty() {
        return Err(CompileError::Codegen("generated code needs relocations".into()));
    }
    Ok(compiled)
}

impl JitBackend {
    /// A JIT for the host.
    pub fn new(opts: JitOptions) -> Result<Self, JitError> {
        let mut fb = settings::builder();
        let set =
            |fb: &mut settings::Builder, k: &str, v: &str| fb.set(k, v).map_err(|e| JitError::Host(e.to_string()));
        set(&mut fb, "opt_level", opts.opt_level)?;
        // tail calls need frame pointers preserved on x86-64 (Cranelift panics otherwise)
        set(&mut fb, "preserve_frame_pointers", "true")?;
        set(&mut fb, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
        // the environment pointer lives in the pinned register for a whole chain of blocks
        set(&mut fb, "enable_pinned_reg", "true")?;
        let isa = cranelift_native::builder()
            .map_err(|e| JitError::Host(e.to_string()))?
            .finish(settings::Flags::new(fb))
            .map_err(|e| JitError::Host(e.to_string()))?;
        let sysv = isa.default_call_conv();
        let mut cl = Cranelift { ctx: Context::new(), fbc: FunctionBuilderContext::new() };
        let code = Mutex::new(Code {
            cache: if opts.profiling {
                CodeCache::new_anonymous_rwx(opts.cache_size)?
            } else {
                CodeCache::new(opts.cache_size)?
            },
            permanent: 0,
        });
        let host = |e: CompileError| JitError::Host(e.to_string());
        // stubs: tail fn(env) -> k
        let mut stubs = [0u64; MAX_CHAIN_SLOTS as usize];
        for (k, stub) in stubs.iter_mut().enumerate() {
            cl.ctx.clear();
            cl.ctx.func = cl::Function::with_name_signature(UserFuncName::user(1, k as u32), lower::block_sig());
            {
                let mut b = FunctionBuilder::new(&mut cl.ctx.func, &mut cl.fbc);
                let e = b.create_block();
                b.append_block_params_for_function_params(e);
                b.switch_to_block(e);
                b.seal_block(e);
                let from = b.block_params(e)[1];
                let c = b.ins().iadd_imm_u(from, k as i64);
                b.ins().return_(&[c]);
                b.finalize(isa.frontend_config());
            }
            let compiled = compile_function(&mut cl.ctx, &isa).map_err(host)?;
            let mut c = code.lock().unwrap_or_else(|e| e.into_inner());
            *stub = c.cache.add(compiled.code_buffer()).ok_or_else(|| host(CompileError::CacheFull))? as u64;
        }
        // the empty lookup-table entry: a header no pc matches (pcs are even: riscv64's
        // `jalr` clears bit 0, s390x's instructions are halfword-aligned), before a ud2
        let (no_entry, start, len) = {
            let mut c = code.lock().unwrap_or_else(|e| e.into_inner());
            let e = c.cache.add_with_header([u64::MAX, u64::MAX], &[0x0f, 0x0b]);
            let e = e.ok_or_else(|| host(CompileError::CacheFull))? as u64;
            c.permanent = c.cache.used();
            let (start, len) = c.cache.exec_range();
            (e, start, len)
        };
        let host_mmu = cfg!(target_arch = "x86_64") && fault::register(start, len);
        let lookup = (0..1usize << exits::LOOKUP_BITS).map(|_| AtomicU64::new(no_entry)).collect();
        Ok(JitBackend {
            shared: Arc::new(Shared {
                isa,
                lookup,
                no_entry,
                descs: Mutex::default(),
                generation: AtomicU64::new(0),
                cranelift: Mutex::new(cl),
                code,
                stubs,
                sysv,
                host_mmu,
                fault_sites: Mutex::new(fault_sites::FaultSites::default()),
            }),
        })
    }

    /// Whether compiled guest accesses leave page permissions to the host MMU (`fault.rs`);
    /// false when this code cache could not register with the fault handler, and accesses
    /// test the permission table instead.
    pub fn uses_host_mmu(&self) -> bool {
        self.shared.host_mmu
    }

    /// Bytes of code in the cache.
    pub fn code_bytes(&self) -> usize {
        self.shared.code.lock().map(|c| c.cache.used()).unwrap_or(0)
    }
}

// SAFETY: `desc` points into the backend's Desc arena (kept alive by `shared`), whose
// fields are only mutated atomically; everything else is plain data.
unsafe impl Send for JitBlock {}
// SAFETY: as above.
unsafe impl Sync for JitBlock {}

impl CompiledBlock for JitBlock {
    fn exit_id(&self) -> u64 {
        self.desc as u64
    }

    unsafe fn run(&self, env: NonNull<u8>) -> TbExit {
        // SAFETY: the entry belongs to this block's backend (kept alive by `shared`); the
        // caller guarantees the environment contract.
        let code = unsafe { abi::enter(self.entry, env) };
        if let Some((desc, hot)) = exits::entry_exit(code) {
            // SAFETY: as for `from` below; the pc global is at `pc_offset`.
            unsafe {
                if let Some(off) = self.pc_offset {
                    std::ptr::write(env.as_ptr().add(off as usize) as *mut u64, (*desc).start_pc);
                }
                if hot {
                    exits::restart_countdown(desc);
                }
            }
            return if hot { TbExit::Hot } else { TbExit::Interrupted };
        }
        let exit = exits::decode(code);
        match exit {
            TbExit::Exception => self.shared.resolve_host_fault(env),
            TbExit::Chain { slot, from } => {
                // chaining exits leave the guest pc to the successor (exits.rs)
                // SAFETY: `from` is the descriptor of the block of this backend that took the
                // exit during this run, alive until the next flush, which cannot happen before
                // we return (see exit_origin); the environment is ours and has the layout the
                // block was compiled for, whose pc global is at `pc_offset`.
                unsafe {
                    let target = (*(from as *const exits::Desc)).targets[slot as usize % MAX_CHAIN_SLOTS as usize];
                    if let Some(off) = self.pc_offset {
                        std::ptr::write(env.as_ptr().add(off as usize) as *mut u64, target);
                    }
                }
            }
            _ => {}
        }
        exit
    }

    fn describe(&self) -> Option<String> {
        use capstone::arch::BuildsCapstone;
        // SAFETY: [entry, entry + size) is this block's code in the live code cache.
        let bytes = unsafe { abi::code_bytes(self.entry, self.size) };
        let cs = capstone::Capstone::new().x86().mode(capstone::arch::x86::ArchMode::Mode64).build().ok()?;
        let insns = cs.disasm_all(bytes, self.entry).ok()?;
        let mut s = String::new();
        for i in insns.iter() {
            s.push_str(&format!(
                "  0x{:x}:  {} {}\n",
                i.address(),
                i.mnemonic().unwrap_or("?"),
                i.op_str().unwrap_or("")
            ));
        }
        Some(s)
    }

    fn host_code(&self) -> Option<(u64, usize)> {
        Some((self.entry, self.size))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Backend for JitBackend {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn compile(&self, block: &Block, cx: &CompileCtx<'_>) -> Result<Arc<dyn CompiledBlock>, CompileError> {
        let MemMode::Linear { guest_base, page_perms, va_limit } = cx.mem;
        let (dp, _, generation) = self.shared.new_desc(block, None);
        let lcx = lower::LowerCx {
            decls: cx.decls,
            mem: memory::MemCx { guest_base, page_perms, va_limit, host_mmu: self.shared.host_mmu },
            desc_addr: dp as u64,
            sysv: self.shared.sysv,
            lookup_addr: self.shared.lookup.as_ptr() as u64,
            flags: block.flags,
            scratch_offset: cx.env.scratch_offset,
            frontend_config: self.shared.isa.frontend_config(),
        };
        let mut guard = self.shared.cranelift.lock().unwrap_or_else(|e| e.into_inner());
        let cl = &mut *guard;
        cl.ctx.clear();
        cl.ctx.func = cl::Function::with_name_signature(UserFuncName::user(0, block.pc as u32), lower::block_sig());
        lower::lower(block, &lcx, &mut cl.ctx.func, &mut cl.fbc).map_err(CompileError::Codegen)?;
        let compiled = compile_function(&mut cl.ctx, &self.shared.isa)?;
        let bytes = compiled.code_buffer();
        let size = bytes.len();
        let entry = self.shared.place(bytes, block, &fault_sites::ranges_of(compiled.buffer.get_srclocs_sorted()))?;
        drop(guard);
        self.shared.finish(dp, generation, entry, size, block.pc, cx.decls.pc_offset())
    }

    fn defers_register_writes(&self) -> bool {
        true
    }
    fn chains_natively(&self) -> bool {
        true
    }
    fn code_domain(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    fn link(&self, from: &dyn CompiledBlock, slot: u8, to: &Arc<dyn CompiledBlock>) -> bool {
        let gen = self.shared.generation.load(Ordering::Acquire);
        match (from.as_any().downcast_ref::<JitBlock>(), to.as_any().downcast_ref::<JitBlock>()) {
            (Some(f), Some(t)) if f.generation == gen && t.generation == gen => {
                // SAFETY: both blocks are of the current generation, so f's descriptor (and
                // record) is alive; the caller (accel-tcg) links under its cache lock, which
                // flushes take.
                unsafe { f.set_slot(slot, t.entry) };
                true
            }
            _ => false,
        }
    }

    fn unlink(&self, from: &dyn CompiledBlock, slot: u8) {
        if let Some(f) = from.as_any().downcast_ref::<JitBlock>() {
            if f.generation == self.shared.generation.load(Ordering::Acquire) {
                // SAFETY: as in link.
                unsafe { f.set_slot(slot, self.shared.stubs[slot as usize % MAX_CHAIN_SLOTS as usize]) };
            }
        }
    }

    fn exit_origin(&self, from: u64) -> Option<(u64, u64)> {
        if from == 0 {
            return None;
        }
        // SAFETY: `from` is what one of our stubs returned during the caller's current run of
        // compiled code: the descriptor of the block that took the exit, which lives in the
        // arena until the next flush; accel-tcg flushes only in an exclusive section, when no
        // vCPU is between entering compiled code and asking for the origin of its exit.
        let d = unsafe { &*(from as *const exits::Desc) };
        let pc = d.pc.load(Ordering::Acquire);
        (pc != u64::MAX).then_some((pc, d.flags))
    }

    fn fork_child(&self) -> Result<(), String> {
        let mut code = self.shared.code.lock().unwrap_or_else(|e| e.into_inner());
        code.cache.unshare().map_err(|e| format!("cannot copy the JIT code cache after fork: {e}"))
    }

    fn fork_lock(&self) -> Box<dyn ir::backend::Held + '_> {
        // the order compile() takes them in
        let cl = self.shared.cranelift.lock().unwrap_or_else(|e| e.into_inner());
        let code = self.shared.code.lock().unwrap_or_else(|e| e.into_inner());
        let descs = self.shared.descs.lock().unwrap_or_else(|e| e.into_inner());
        Box::new((cl, code, descs))
    }

    fn publish(&self, code: &dyn CompiledBlock) {
        if let Some(b) = code.as_any().downcast_ref::<JitBlock>() {
            let _descs = self.shared.descs.lock().unwrap_or_else(|e| e.into_inner());
            if b.generation == self.shared.generation.load(Ordering::Acquire) {
                // SAFETY: the block is of the current generation, so its descriptor is still
                // in `shared.descs` (freed only by flush, which takes the lock we hold).
                unsafe { (*b.desc).pc.store(b.pc, Ordering::Release) };
                self.shared.lookup[exits::lookup_hash(b.pc)].store(b.entry, Ordering::Release);
            }
        }
    }

    fn refresh_lookup(&self, code: &dyn CompiledBlock) {
        if let Some(b) = code.as_any().downcast_ref::<JitBlock>() {
            let _descs = self.shared.descs.lock().unwrap_or_else(|e| e.into_inner());
            if b.generation == self.shared.generation.load(Ordering::Acquire) {
                // SAFETY: as in publish; `invalidate` changes the pc under the lock we hold.
                let valid = unsafe { (*b.desc).pc.load(Ordering::Acquire) } == b.pc;
                if valid {
                    self.shared.lookup[exits::lookup_hash(b.pc)].store(b.entry, Ordering::Release);
                }
            }
        }
    }

    fn invalidate(&self, code: &dyn CompiledBlock) {
        if let Some(b) = code.as_any().downcast_ref::<JitBlock>() {
            let _descs = self.shared.descs.lock().unwrap_or_else(|e| e.into_inner());
            if b.generation == self.shared.generation.load(Ordering::Acquire) {
                // SAFETY: the block is of the current generation, so its descriptor is still
                // in `shared.descs` (freed only by flush, which takes the lock we hold).
                unsafe { (*b.desc).pc.store(u64::MAX, Ordering::Release) };
                // unless the table has moved on to another block for the pc
                let e = &self.shared.lookup[exits::lookup_hash(b.pc)];
                let _ = e.compare_exchange(b.entry, self.shared.no_entry, Ordering::AcqRel, Ordering::Relaxed);
            }
        }
    }

    fn flush(&self) {
        let mut code = self.shared.code.lock().unwrap_or_else(|e| e.into_inner());
        for e in self.shared.lookup.iter() {
            e.store(self.shared.no_entry, Ordering::Release);
        }
        {
            let mut descs = self.shared.descs.lock().unwrap_or_else(|e| e.into_inner());
            descs.clear();
            self.shared.generation.fetch_add(1, Ordering::AcqRel);
        }
        self.shared.fault_sites.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let keep = code.permanent;
        code.cache.reset_to(keep);
    }
}
