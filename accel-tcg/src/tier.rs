//! Tier-up: hot TBs move from the cold backend (the JIT's baseline tier, or the interpreter)
//! to the hot one (Cranelift).
//!
//! A cold TB that has run `threshold` times is retranslated (its pages are unchanged: any
//! write would have invalidated it) and compiled by the hot backend, on a background thread
//! when `background` is set, so that the guest keeps running cold code meanwhile and
//! never waits for Cranelift. The result replaces the cold TB only if that TB is still the
//! valid one for its key; otherwise it is dropped.
//!
//! When blocks become hot faster than the compiler keeps up with (program start-up), the
//! background thread takes the hottest waiting block first: the one whose cold TB has run
//! most often (its count goes on while it waits), not the first that was queued. So the loop
//! a program settles into after its start-up is compiled before the rest of the start-up
//! backlog.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use frontend::{Frontend, TranslateLimits};
use ir::backend::CompileError;

use crate::cpu_exec::{OptLevel, Translated};
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

/// The blocks waiting for the background compiler.
#[derive(Default)]
pub(crate) struct JobQueue {
    jobs: Mutex<Jobs>,
    ready: Condvar,
}

#[derive(Default)]
struct Jobs {
    list: Vec<Job>,
    /// The compiler waits for a job: a push must wake it (otherwise it is busy and looks at
    /// the list again by itself, and a push makes no system call).
    idle: bool,
}

impl JobQueue {
    fn push(&self, job: Job) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.list.push(job);
        if jobs.idle {
            self.ready.notify_one();
        }
    }

    /// The waiting job whose cold TB has run most often (jobs whose TB is gone are dropped),
    /// waiting up to `timeout` for one.
    fn pop_hottest(&self, timeout: Duration) -> Option<Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if jobs.list.is_empty() {
            jobs.idle = true;
            jobs = self.ready.wait_timeout(jobs, timeout).unwrap_or_else(|e| e.into_inner()).0;
            jobs.idle = false;
        }
        let jobs = &mut jobs.list;
        jobs.retain(|j| j.cold.upgrade().is_some_and(|tb| tb.is_valid()));
        let hottest = (0..jobs.len())
            .max_by_key(|&k| jobs[k].cold.upgrade().map_or(0, |tb| tb.exec_count.load(Ordering::Relaxed)))?;
        Some(jobs.swap_remove(hottest))
    }
}

impl<F: Frontend> Tcg<F> {
    /// Starts moving `tb` to the hot tier.
    pub(crate) fn promote(&self, tb: &Arc<Tb>) {
        let Some(opts) = self.tier else { return };
        // (both translations when the wider one is dropped, and the wait for the cache lock:
        // all of it time the vCPU spends on the hot tier)
        let t0 = self.clock();
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
            let wider = self.block_limits(false);
            let same = TranslateLimits { max_insns: (tb.insn_count as usize).max(1), follow_jumps: false, ..wider };
            let within = |t: &Translated| t.pages.iter().all(|p| tb.pages.contains(p));
            let opt = self.backends.last().map_or(OptLevel::Full, |b| OptLevel::for_backend(b.as_ref()));
            match self.translate(&mut inner, tb.pc, tb.flags, wider, opt) {
                Ok(t) if within(&t) => t,
                _ => match self.translate(&mut inner, tb.pc, tb.flags, same, opt) {
                    Ok(t) => t,
                    Err(_) => return,
                },
            }
        };
        self.stats.hot_translate_ns.fetch_add(crate::ns_between(t0, self.clock()), Ordering::Relaxed);
        let job = Job { t, cold: Arc::downgrade(tb) };
        if opts.background {
            if let Some(queue) = self.worker() {
                queue.push(job);
            }
            return;
        }
        let mut done: Vec<Compiled> = self.compile_hot(job).into_iter().collect();
        self.install_hot(&mut done, true);
    }

    /// The background compiler's queue, starting its thread on first use.
    fn worker(&self) -> Option<Arc<JobQueue>> {
        let mut w = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_none() {
            let queue = Arc::new(JobQueue::default());
            let q = queue.clone();
            let me: Weak<Tcg<F>> = self.me.clone();
            std::thread::Builder::new()
                .name("remu-jit".into())
                .spawn(move || {
                    // compiled blocks not installed yet (see `install_hot`)
                    let mut done: Vec<Compiled> = Vec::new();
                    loop {
                        let wait = if done.is_empty() { Duration::from_millis(100) } else { Duration::ZERO };
                        let job = q.pop_hottest(wait);
                        // the translator is gone: so is the work
                        let Some(tcg) = me.upgrade() else { break };
                        let idle = job.is_none();
                        if let Some(job) = job {
                            done.extend(tcg.compile_hot(job));
                        }
                        let wait = idle || done.len() >= MAX_UNINSTALLED;
                        tcg.install_hot(&mut done, wait);
                    }
                })
                .ok()?;
            *w = Some(queue);
        }
        w.clone()
    }

    /// Compiles `job` with the hot backend.
    fn compile_hot(&self, job: Job) -> Option<Compiled> {
        // a fork waits until this job is done (see Tcg::fork)
        let _quiet = self.tier_lock.lock().unwrap_or_else(|e| e.into_inner());
        let t0 = self.clock();
        let decls = self.frontend.decls();
        let hot = self.backends.len() - 1;
        let r = match self.backends[hot].compile(&job.t.block, &self.compile_ctx(decls)) {
            Ok(code) => Some(Compiled { job, code }),
            Err(CompileError::CacheFull) => {
                self.flush_pending.store(true, Ordering::Relaxed);
                None
            }
            Err(_) => None,
        };
        self.stats.hot_compile_ns.fetch_add(crate::ns_between(t0, self.clock()), Ordering::Relaxed);
        r
    }

    /// Installs the compiled blocks of `done` in place of their cold TBs (where those are
    /// still the current ones), if the cache lock is free or `wait` is set; otherwise they
    /// wait for the next call. The vCPUs hold that lock while they translate, which is much
    /// of the time while a program starts: a compiler that waited for it after every block
    /// made them wake it up as often (and sometimes wait for it in turn).
    fn install_hot(&self, done: &mut Vec<Compiled>, wait: bool) {
        if done.is_empty() {
            return;
        }
        let _quiet = self.tier_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut inner = match self.inner_try_lock() {
            Some(inner) => inner,
            None if wait => self.lock(),
            None => return,
        };
        let hot = (self.backends.len() - 1) as u8;
        for Compiled { job, code } in done.drain(..) {
            let Some(cold) = job.cold.upgrade() else { continue };
            let current = inner.cache.get(cold.pc, cold.flags).is_some_and(|c| Arc::ptr_eq(c, &cold));
            if cold.is_valid() && current {
                self.install(&mut inner, &job.t, code, hot);
                self.stats.promoted.fetch_add(1, Ordering::Relaxed);
            } else {
                self.backends[hot as usize].invalidate(code.as_ref());
            }
            inner.builder.recycle(job.t.block);
        }
    }
}

/// A hot block compiled and not installed yet.
pub(crate) struct Compiled {
    job: Job,
    code: Arc<dyn ir::backend::CompiledBlock>,
}

/// The background compiler waits for the cache lock once this many blocks are compiled and
/// not installed.
const MAX_UNINSTALLED: usize = 16;
