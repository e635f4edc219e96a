//! Crosscheck mode (`remu run --crosscheck`): every translated block runs on two backends from
//! the same state, and the first difference stops the program with a report (polkavm's
//! crosscheck, dynarmic's fuzzing against a reference, applied to whole programs).
//!
//! [`Crosscheck`] is a [`Backend`] that wraps a *reference* backend (the interpreter) and a
//! *test* backend (the JIT). It compiles each block with both and hands the translator one
//! [`CompiledBlock`] that, when run:
//!
//! 1. moves FP flags still pending in the host FP status register into the guest state (so
//!    both runs start with a clean host register), and snapshots the environment (header and
//!    guest registers);
//! 2. runs the reference version, recording every guest store in an undo log (see below);
//! 3. saves the resulting registers and the bytes the reference wrote, then undoes those
//!    stores (newest first) and restores the snapshot;
//! 4. runs the test version (also logging its stores), whose results are the ones that stand;
//! 5. compares the exits, the exception (cause, aux, pc, replay) when there is one, every guest
//!    register (named from the frontend's globals) and every byte either run wrote. On a
//!    difference it prints the block's guest pc (with the ELF symbol when known), the
//!    differing items with both values, and exits the process with status 1.
//!
//! **Memory.** Stores must not simply be applied twice: a block that increments a counter in
//! memory, or any AMO, would read the first run's result in the second. The blocks compiled
//! here are an instrumented copy of the translated IR: before every `st`, `atomic_rmw` and
//! `cmpxchg` a call to [`log_store`] records the old value of each byte the access will write
//! (bytes of pages that are not writable are skipped: the access faults before writing
//! them). That log both undoes the reference run exactly and names the bytes to compare.
//!
//! **One block per run.** The copy never continues into another block by itself: `goto_ptr`
//! becomes `exit_tb` (no lookup jump), the wrapper does not chain natively (so the translator
//! does not link blocks), and the copy carries `pc | 1` as its block pc (never a guest
//! instruction address: instructions are 2-byte aligned on every guest remu supports) so that
//! no backend turns a branch back to the block's start into an internal loop. Guest pcs of
//! instructions come from the `insn_start` records, which are unchanged. If either run was
//! interrupted (an exit request arrived), both runs are undone and the block reports
//! `Interrupted`, so it runs again later.
//!
//! When the test backend leaves an instruction to the reference evaluator (`EXC_EMULATE`:
//! the JIT's accesses beyond its fast path), the block is not compared: its test run is
//! undone and the reference run is made again and stands.
//!
//! **Limits.** Memory written by helpers (none on riscv64) is not logged. Multi-threaded
//! guests may report spurious differences (another thread can change memory between the two
//! runs, and undoing a store can race with it): crosscheck is meant for single-threaded
//! programs. The instrumentation changes the code the backends compile (one call per store),
//! so a backend bug that depends on the exact shape of the code may hide. It is slow: every
//! block is compiled twice and run twice.
//!
//! Test hook: `REMU_CROSSCHECK_INJECT=GLOBAL@N` (e.g. `x10@100`) flips bit 0 of guest register
//! GLOBAL after the test backend ran the N-th checked block; `mem@N` flips a byte the test
//! backend stored in the first block from the N-th on that stores. It proves that differences
//! are found and reported (tests/all/user_crosscheck.rs).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use frontend::GuestState;
use ir::backend::{perm, Backend, CompileCtx, CompileError, CompiledBlock, EnvHeader, Held, TbExit, EXC_EMULATE};
use ir::{Aux, Block, Decls, HelperDecl, HelperFlags, HelperId, Inst, Opcode, Ty, Value};

use crate::{CpuEnv, Symbolizer};

/// Undo log of the run in progress on this thread: (guest address, old byte), in store order.
struct Log {
    on: bool,
    bytes: Vec<(u64, u8)>,
}

thread_local! {
    static LOG: RefCell<Log> = const { RefCell::new(Log { on: false, bytes: Vec::new() }) };
}

/// The store-logging helper the instrumented blocks call before each store: `a0` = guest
/// address, `a1` = size in bytes.
///
/// # Safety
/// `env` is a live CPU environment whose header describes mapped guest memory.
unsafe extern "C" fn log_store(env: *mut u8, addr: u64, size: u64, _: u64, _: u64) -> u64 {
    // SAFETY: per the function contract.
    let h = unsafe { &*(env as *const EnvHeader) };
    LOG.with(|l| {
        let Ok(mut l) = l.try_borrow_mut() else { return };
        if !l.on {
            return;
        }
        for k in 0..size.min(64) {
            let a = addr.wrapping_add(k);
            if a >= h.va_limit {
                continue;
            }
            // SAFETY: a < va_limit, so the index is within the permission table.
            let p = unsafe { &*h.page_perms.add((a >> perm::PAGE_BITS) as usize) }.load(Ordering::Acquire);
            if p & perm::WRITE == 0 {
                continue;
            }
            // SAFETY: a writable guest page is mapped (and readable) at guest_base + a.
            let old = unsafe { std::ptr::read_volatile((h.guest_base + a) as *const u8) };
            l.bytes.push((a, old));
        }
    });
    0
}

/// Starts or stops logging on this thread and returns what was logged.
fn log_take(on: bool) -> Vec<(u64, u8)> {
    LOG.with(|l| {
        let mut l = l.borrow_mut();
        l.on = on;
        std::mem::take(&mut l.bytes)
    })
}

/// Reads guest byte `a` (which a store of this run just wrote or was about to write).
///
/// # Safety
/// `h` describes mapped guest memory and `a` is in a writable page (it was logged).
unsafe fn read_byte(h: *const EnvHeader, a: u64) -> u8 {
    // SAFETY: per the function contract.
    unsafe { std::ptr::read_volatile(((*h).guest_base + a) as *const u8) }
}

/// Writes guest byte `a`.
///
/// # Safety
/// As [`read_byte`].
unsafe fn write_byte(h: *const EnvHeader, a: u64, v: u8) {
    // SAFETY: per the function contract.
    unsafe { std::ptr::write_volatile(((*h).guest_base + a) as *mut u8, v) }
}

/// What the compiled blocks share.
struct Shared {
    ref_name: &'static str,
    test_name: &'static str,
    /// Where the guest registers are in the environment: `state_off..state_end`.
    state_off: usize,
    state_end: usize,
    /// Folds FP flags (`ir::fpu` layout) into the guest state of an environment.
    merge_fp: unsafe fn(NonNull<u8>, u32),
    /// Names of the guest registers by environment offset (from the first compile's decls).
    names: OnceLock<BTreeMap<u32, String>>,
    symbolizer: Option<Symbolizer>,
    /// Test hook: (register name, block number).
    inject: Option<(String, u64)>,
    /// Blocks checked so far.
    checked: AtomicU64,
    /// The test hook flipped its memory byte.
    injected: AtomicBool,
}

/// The crosscheck backend (see the module doc).
pub struct Crosscheck {
    reference: Box<dyn Backend>,
    test: Box<dyn Backend>,
    /// The frontend's decls plus [`log_store`] (made on the first compile: one frontend per
    /// translator) and that helper's id.
    decls: OnceLock<(Decls, HelperId)>,
    shared: Arc<Shared>,
}

/// # Safety
/// `env` is a live `CpuEnv<S>` owned by the calling thread.
unsafe fn merge_fp<S: GuestState>(env: NonNull<u8>, flags: u32) {
    // SAFETY: per the function contract.
    unsafe { (*env.cast::<CpuEnv<S>>().as_ptr()).state.merge_fp_flags(flags) }
}

impl Crosscheck {
    /// Checks `test` against `reference` for a guest whose registers are an `S`;
    /// `symbolizer` names block addresses in reports.
    pub fn new<S: GuestState>(
        reference: Box<dyn Backend>,
        test: Box<dyn Backend>,
        symbolizer: Option<Symbolizer>,
    ) -> Crosscheck {
        assert_eq!(EnvHeader::OFF_EXIT_REQUEST, 0, "the snapshot restore skips exit_request at offset 0");
        let inject = std::env::var("REMU_CROSSCHECK_INJECT").ok().and_then(|v| {
            let (g, n) = v.split_once('@')?;
            Some((g.to_string(), n.parse().ok()?))
        });
        let shared = Shared {
            ref_name: reference.name(),
            test_name: test.name(),
            state_off: std::mem::offset_of!(CpuEnv<S>, state),
            state_end: CpuEnv::<S>::layout().scratch_offset as usize,
            merge_fp: merge_fp::<S>,
            names: OnceLock::new(),
            symbolizer,
            inject,
            checked: AtomicU64::new(0),
            injected: AtomicBool::new(false),
        };
        Crosscheck { reference, test, decls: OnceLock::new(), shared: Arc::new(shared) }
    }
}

/// The instrumented copy of `block` (see the module doc).
fn instrument(block: &Block, log: HelperId) -> Block {
    let mut out = Block {
        pc: block.pc | 1,
        flags: block.flags,
        guest_size: block.guest_size,
        insts: Vec::with_capacity(block.insts.len() + 8),
    };
    let mut remap = vec![Value::NONE; block.insts.len()];
    let flags = HelperFlags::NO_READ_GLOBALS.or(HelperFlags::NO_WRITE_GLOBALS);
    for (i, inst) in block.insts.iter().enumerate() {
        let mut inst = *inst;
        for a in &mut inst.args[..inst.nargs as usize] {
            *a = remap[a.index()];
        }
        let size = match (inst.op, inst.aux) {
            (Opcode::St | Opcode::Cmpxchg, Aux::Mem(m)) | (Opcode::AtomicRmw, Aux::Atomic(_, m)) => {
                Some(m.size.bytes())
            }
            _ => None,
        };
        if let Some(size) = size {
            let none = Value::NONE;
            let c = Value(out.insts.len() as u32);
            out.insts.push(Inst {
                op: Opcode::Const,
                ty: Ty::I64,
                nargs: 0,
                args: [none; 4],
                imm: size as u64,
                aux: Aux::None,
            });
            out.insts.push(Inst {
                op: Opcode::Call,
                ty: Ty::I64,
                nargs: 2,
                args: [inst.args[0], c, none, none],
                imm: 0,
                aux: Aux::Helper(log, flags),
            });
        }
        if inst.op == Opcode::GotoPtr {
            inst.op = Opcode::ExitTb;
        }
        remap[i] = Value(out.insts.len() as u32);
        out.insts.push(inst);
    }
    out
}

/// A block compiled by both backends.
struct CrossBlock {
    reference: Arc<dyn CompiledBlock>,
    test: Arc<dyn CompiledBlock>,
    pc: u64,
    /// Guest pcs of the block's instructions.
    insn_pcs: Box<[u64]>,
    shared: Arc<Shared>,
}

impl Backend for Crosscheck {
    fn name(&self) -> &'static str {
        "crosscheck"
    }

    fn defers_register_writes(&self) -> bool {
        // the IR the test backend (the JIT) gets on its own; the reference runs it as well
        self.test.defers_register_writes()
    }

    fn compile(&self, block: &Block, cx: &CompileCtx<'_>) -> Result<Arc<dyn CompiledBlock>, CompileError> {
        let (decls, log) = self.decls.get_or_init(|| {
            let mut d = cx.decls.clone();
            let id = HelperId(d.helpers.len() as u16);
            d.helpers.push(HelperDecl {
                name: "crosscheck_log_store",
                func: log_store,
                nargs: 2,
                flags: HelperFlags::NO_READ_GLOBALS.or(HelperFlags::NO_WRITE_GLOBALS),
            });
            (d, id)
        });
        self.shared.names.get_or_init(|| decls.globals.iter().map(|g| (g.offset, g.name.clone())).collect());
        let copy = instrument(block, *log);
        if cfg!(debug_assertions) {
            ir::verify::verify(&copy, decls).map_err(|e| CompileError::Codegen(format!("crosscheck copy: {e}")))?;
        }
        let cx = CompileCtx { decls, ..*cx };
        let reference = self.reference.compile(&copy, &cx)?;
        let test = self.test.compile(&copy, &cx)?;
        Ok(Arc::new(CrossBlock {
            reference,
            test,
            pc: block.pc,
            insn_pcs: block.insn_pcs().collect(),
            shared: self.shared.clone(),
        }))
    }

    // `publish` is deliberately not forwarded: the inner blocks must never be entered through
    // a backend's own lookup structures (one block per run, see the module doc).

    fn invalidate(&self, code: &dyn CompiledBlock) {
        if let Some(c) = code.as_any().downcast_ref::<CrossBlock>() {
            self.reference.invalidate(c.reference.as_ref());
            self.test.invalidate(c.test.as_ref());
        }
    }

    fn flush(&self) {
        self.reference.flush();
        self.test.flush();
    }

    fn fork_lock(&self) -> Box<dyn Held + '_> {
        Box::new((self.reference.fork_lock(), self.test.fork_lock()))
    }

    fn fork_child(&self) -> Result<(), String> {
        self.reference.fork_child()?;
        self.test.fork_child()
    }
}

/// An exit as compared: chaining exits by slot only (`from` is backend-private).
fn exit_key(e: TbExit) -> String {
    match e {
        TbExit::Chain { slot, .. } => format!("chain (slot {slot})"),
        other => format!("{other:?}"),
    }
}

impl CrossBlock {
    /// Copies the environment's header and registers.
    ///
    /// # Safety
    /// `env` is a live environment of at least `state_end` bytes.
    unsafe fn snapshot(&self, env: NonNull<u8>) -> Vec<u8> {
        // SAFETY: per the function contract.
        unsafe { std::slice::from_raw_parts(env.as_ptr(), self.shared.state_end).to_vec() }
    }

    /// Restores a snapshot, except `exit_request` (an atomic other threads write).
    ///
    /// # Safety
    /// As [`Self::snapshot`]; `snap` came from it.
    unsafe fn restore(&self, env: NonNull<u8>, snap: &[u8]) {
        // SAFETY: per the function contract; exit_request is the first 4 bytes (checked in new).
        unsafe { std::ptr::copy_nonoverlapping(snap.as_ptr().add(4), env.as_ptr().add(4), snap.len() - 4) }
    }

    /// Runs one version with store logging; FP flags it accrued are folded into the state.
    ///
    /// # Safety
    /// As [`CompiledBlock::run`].
    unsafe fn run_one(&self, code: &dyn CompiledBlock, env: NonNull<u8>) -> (TbExit, Vec<(u64, u8)>) {
        log_take(true);
        // SAFETY: per the function contract.
        let exit = unsafe { code.run(env) };
        let log = log_take(false);
        let h = env.cast::<EnvHeader>().as_ptr();
        // SAFETY: env is live and exclusively ours.
        let flags = ir::fpu::take_host_flags() | unsafe { std::mem::take(&mut (*h).fp_flags) };
        if flags != 0 {
            // SAFETY: env is a CpuEnv of the state type `merge_fp` was made for.
            unsafe { (self.shared.merge_fp)(env, flags) };
        }
        (exit, log)
    }

    /// Undoes logged stores, newest first.
    ///
    /// # Safety
    /// The log was recorded on this environment's guest memory.
    unsafe fn undo(&self, env: NonNull<u8>, log: &[(u64, u8)]) {
        let h = env.cast::<EnvHeader>().as_ptr();
        for &(a, old) in log.iter().rev() {
            // SAFETY: logged bytes are in writable, mapped pages.
            unsafe { write_byte(h, a, old) };
        }
    }

    fn report(&self, diffs: &[String]) -> ! {
        let sh = &self.shared;
        let sym = sh
            .symbolizer
            .as_ref()
            .and_then(|s| s(self.pc))
            .map(|(name, off)| format!(" ({name}+{off:#x})"))
            .unwrap_or_default();
        let last = self.insn_pcs.last().copied().unwrap_or(self.pc);
        eprintln!(
            "remu: crosscheck: {} and {} differ after the block at pc {:#x}{sym} ({} guest instructions, {:#x}..={last:#x}):\n  {}\n\
             (values are {} vs {}; -d in_asm,op_opt shows the block)",
            sh.ref_name,
            sh.test_name,
            self.pc,
            self.insn_pcs.len(),
            self.pc,
            diffs.join("\n  "),
            sh.ref_name,
            sh.test_name,
        );
        std::process::exit(1)
    }
}

impl CompiledBlock for CrossBlock {
    unsafe fn run(&self, env: NonNull<u8>) -> TbExit {
        let sh = &self.shared;
        let h = env.cast::<EnvHeader>().as_ptr();
        // SAFETY: (the whole body) env is a live CpuEnv (of the state type this wrapper was
        // made for) owned by this thread during the call, per the caller's contract; guest
        // memory accesses go to bytes the store log found in writable pages.
        unsafe {
            if (*h).exit_request.load(Ordering::Acquire) != 0 {
                return TbExit::Interrupted;
            }
            let pending = ir::fpu::take_host_flags() | std::mem::take(&mut (*h).fp_flags);
            if pending != 0 {
                (sh.merge_fp)(env, pending);
            }
            let snap = self.snapshot(env);
            let (exit_a, log_a) = self.run_one(self.reference.as_ref(), env);
            let after_a = self.snapshot(env);
            let mut written_a: BTreeMap<u64, u8> = BTreeMap::new();
            for &(a, _) in &log_a {
                written_a.insert(a, read_byte(h, a));
            }
            self.undo(env, &log_a);
            self.restore(env, &snap);
            let (exit_b, log_b) = self.run_one(self.test.as_ref(), env);
            if matches!(exit_a, TbExit::Interrupted) || matches!(exit_b, TbExit::Interrupted) {
                self.undo(env, &log_b);
                self.restore(env, &snap);
                return TbExit::Interrupted;
            }
            if matches!(exit_b, TbExit::Exception) && (*h).exception == EXC_EMULATE {
                // the test backend left an access to the reference evaluator: nothing to
                // compare; the reference's run stands
                self.undo(env, &log_b);
                self.restore(env, &snap);
                return self.run_one(self.reference.as_ref(), env).0;
            }
            let n = sh.checked.fetch_add(1, Ordering::Relaxed) + 1;
            if let (Some((g, at)), Some(names)) = (&sh.inject, sh.names.get()) {
                // at block N, or (for `mem`) at the first block from N on that stores
                if g == "mem" && *at <= n && !sh.injected.swap(true, Ordering::Relaxed) {
                    match log_b.first() {
                        Some(&(a, _)) => write_byte(h, a, read_byte(h, a) ^ 1),
                        None => sh.injected.store(false, Ordering::Relaxed),
                    }
                } else if *at == n {
                    if let Some((&off, _)) = names.iter().find(|(_, name)| *name == g) {
                        *(env.as_ptr().add(off as usize) as *mut u64) ^= 1;
                    }
                }
            }
            let mut diffs = Vec::new();
            let (ea, eb) = (exit_key(exit_a), exit_key(exit_b));
            if ea != eb {
                diffs.push(format!("exit: {ea} vs {eb}"));
            }
            let word = |s: &[u8], off: usize| u64::from_le_bytes(s[off..off + 8].try_into().unwrap_or([0; 8]));
            if matches!(exit_a, TbExit::Exception) || matches!(exit_b, TbExit::Exception) {
                let after_b = self.snapshot(env);
                let (c, x, p) = (EnvHeader::OFF_EXCEPTION, EnvHeader::OFF_EXCEPTION_AUX, EnvHeader::OFF_EXCEPTION_PC);
                let ca = u32::from_le_bytes(after_a[c..c + 4].try_into().unwrap_or([0; 4]));
                let cb = u32::from_le_bytes(after_b[c..c + 4].try_into().unwrap_or([0; 4]));
                let r = EnvHeader::OFF_EXCEPTION_REPLAY;
                let ra = u32::from_le_bytes(after_a[r..r + 4].try_into().unwrap_or([0; 4]));
                let rb = u32::from_le_bytes(after_b[r..r + 4].try_into().unwrap_or([0; 4]));
                for (what, va, vb) in [
                    ("exception cause", ca as u64, cb as u64),
                    ("exception replay", ra as u64, rb as u64),
                    ("exception aux", word(&after_a, x), word(&after_b, x)),
                    ("exception pc", word(&after_a, p), word(&after_b, p)),
                ] {
                    if va != vb {
                        diffs.push(format!("{what}: {va:#x} vs {vb:#x}"));
                    }
                }
            }
            let now = std::slice::from_raw_parts(env.as_ptr(), sh.state_end);
            let names = sh.names.get();
            for off in (sh.state_off..sh.state_end).step_by(8) {
                let (va, vb) = (word(&after_a, off), word(now, off));
                if va != vb {
                    let name = names
                        .and_then(|n| n.get(&(off as u32)).cloned())
                        .unwrap_or_else(|| format!("state+{:#x}", off - sh.state_off));
                    diffs.push(format!("register {name}: {va:#x} vs {vb:#x}"));
                }
            }
            // bytes either run wrote: the reference's values (or the old value where only the
            // test wrote) against memory as the test left it
            let mut old: BTreeMap<u64, u8> = BTreeMap::new();
            for &(a, o) in log_a.iter().chain(&log_b) {
                old.entry(a).or_insert(o);
            }
            let mut mem_diffs = 0;
            for (&a, &o) in &old {
                let va = written_a.get(&a).copied().unwrap_or(o);
                let vb = read_byte(h, a);
                if va != vb {
                    mem_diffs += 1;
                    if mem_diffs <= 8 {
                        diffs.push(format!("memory {a:#x}: {va:#04x} vs {vb:#04x}"));
                    }
                }
            }
            if mem_diffs > 8 {
                diffs.push(format!("... {} more bytes of memory differ", mem_diffs - 8));
            }
            if !diffs.is_empty() {
                self.report(&diffs);
            }
            exit_b
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
