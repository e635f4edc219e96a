//! Tier-up: hot TBs move from the cold backend (interpreter) to the hot one (JIT).
//!
//! A cold TB that has run `threshold` times is retranslated (its pages are unchanged: any
//! write would have invalidated it) and compiled by the hot backend, on a background thread
//! when `background` is set, so that the guest keeps running interpreted code meanwhile and
//! never waits for Cranelift. The result replaces the cold TB only if that TB is still the
//! valid one for its key; otherwise it is dropped.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::Instant;

use frontend::{Frontend, TranslateLimits};
use ir::backend::CompileError;

use crate::cpu_exec::Translated;
use crate::tb_cache::Tb;
use crate::Tcg;

/// When TBs move to the hot tier.
#[derive(Clone, Copy, Debug)]
pub struct TierOptions {
    /// Executions of a cold TB before it is compiled by the hot backend.
    pub threshold: u32,
    /// Compile on a background thread (otherwise the vCPU compiles at once).
    pub background: bool,
    /// Nothing is promoted this soon after the translator was created: blocks that reach the
    /// threshold earlier start counting again.
    pub warmup: std::time::Duration,
}

pub(crate) struct Job {
    t: Translated,
    cold: Weak<Tb>,
}

impl<F: Frontend> Tcg<F> {
    /// Starts moving `tb` to the hot tier.
    pub(crate) fn promote(&self, tb: &Arc<Tb>) {
        let Some(opts) = self.tier else { return };
        let t = {
            let mut inner = self.lock();
            if !tb.is_valid() {
                return;
            }
            // The hot block may cover more than the cold one: it follows jumps, and the cold
            // one may have been cut short for the interpreter's scratch space. But not more
            // pages: a write to a page only the hot block read, while it compiles, would find
            // no TB to invalidate and the hot block would be installed stale. (A write to the
            // cold block's pages invalidates it, and a hot block whose cold one is gone is
            // dropped.)
            let wider = TranslateLimits {
                max_insns: self.max_insns,
                same_page: true,
                superblocks: self.superblocks,
                follow_jumps: self.superblocks,
            };
            let same = TranslateLimits { max_insns: tb.insn_pcs.len().max(1), follow_jumps: false, ..wider };
            let within = |t: &Translated| t.pages.iter().all(|p| tb.pages.contains(p));
            match self.translate(&mut inner, tb.pc, tb.flags, wider) {
                Ok(t) if within(&t) => t,
                _ => match self.translate(&mut inner, tb.pc, tb.flags, same) {
                    Ok(t) => t,
                    Err(_) => return,
                },
            }
        };
        let job = Job { t, cold: Arc::downgrade(tb) };
        if opts.background {
            if let Some(tx) = self.worker() {
                if tx.send(job).is_ok() {
                    return;
                }
            }
            return;
        }
        self.compile_hot(job);
    }

    fn worker(&self) -> Option<mpsc::Sender<Job>> {
        let mut w = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_none() {
            let (tx, rx) = mpsc::channel::<Job>();
            let me: Weak<Tcg<F>> = self.me.clone();
            std::thread::Builder::new()
                .name("remu-jit".into())
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        let Some(tcg) = me.upgrade() else { break };
                        tcg.compile_hot(job);
                    }
                })
                .ok()?;
            *w = Some(tx);
        }
        w.clone()
    }

    fn compile_hot(&self, job: Job) {
        // a fork waits until this job is done (see Tcg::fork)
        let _quiet = self.tier_lock.lock().unwrap_or_else(|e| e.into_inner());
        let t0 = Instant::now();
        let decls = self.frontend.decls();
        let hot = (self.backends.len() - 1) as u8;
        match self.backends[hot as usize].compile(&job.t.block, &self.compile_ctx(decls)) {
            Ok(code) => {
                let mut inner = self.lock();
                let Some(cold) = job.cold.upgrade() else { return };
                let current = inner.cache.get(cold.pc, cold.flags).is_some_and(|c| Arc::ptr_eq(c, &cold));
                if cold.is_valid() && current {
                    self.install(&mut inner, &job.t, code, hot);
                    self.stats.promoted.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.backends[hot as usize].invalidate(code.as_ref());
                }
            }
            Err(CompileError::CacheFull) => self.flush_pending.store(true, Ordering::Relaxed),
            Err(_) => {}
        }
        self.stats.hot_compile_ns.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}
