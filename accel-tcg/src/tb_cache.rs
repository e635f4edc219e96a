//! Translated blocks and the cache that finds them (QEMU's `TranslationBlock`, `tb_htable`
//! and the per-page TB lists of `tb-maint.c`).
//!
//! A [`Tb`] is keyed by guest pc and translation flags. The cache also indexes TBs by the
//! guest pages their code came from, so a write to a page (or munmap/mprotect of it) can
//! invalidate exactly the TBs built from it. Invalidated TBs are marked invalid before they
//! leave the index; vCPUs check the mark on every lookup hit, so no stale TB runs after its
//! invalidation returns.
//!
//! The maps hash with FxHash (rustc-hash), not std's SipHash: every block the dispatcher
//! enters without chaining is a lookup, and SipHash was 3% of a cold-code-heavy run. The
//! keys are guest pcs, so a guest can at worst make its own lookups slow.

use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use ir::backend::CompiledBlock;

/// A translated block.
pub struct Tb {
    /// Guest pc of its first instruction.
    pub pc: u64,
    /// Translation flags it was built under.
    pub flags: u64,
    /// Bytes of guest code it covers.
    pub size: u32,
    /// The compiled code.
    pub code: Arc<dyn CompiledBlock>,
    /// Guest instructions it holds.
    pub insn_count: u32,
    /// Guest pages (page numbers) its code came from: one or two.
    pub pages: [u64; 2],
    /// Which backend compiled it (0 = cold, 1 = hot).
    pub tier: u8,
    /// Executions counted while cold.
    pub(crate) exec_count: std::sync::atomic::AtomicU32,
    pub(crate) valid: AtomicBool,
    /// Chained exits into this TB, for backends that chain natively: (from, slot).
    pub(crate) incoming: Mutex<Vec<(Weak<Tb>, u8)>>,
    /// Exits of this TB that are linked: slot -> target, so the link is made once.
    pub(crate) linked: [AtomicBool; ir::backend::MAX_CHAIN_SLOTS as usize],
}

impl Tb {
    /// Whether the TB may still run.
    pub fn is_valid(&self) -> bool {
        self.valid.load(Ordering::Acquire)
    }
}

/// The shared TB index.
#[derive(Default)]
pub struct TbCache {
    by_key: HashMap<(u64, u64), Arc<Tb>>,
    by_page: HashMap<u64, Vec<Arc<Tb>>>,
}

impl TbCache {
    /// Looks up a valid TB.
    pub fn get(&self, pc: u64, flags: u64) -> Option<&Arc<Tb>> {
        self.by_key.get(&(pc, flags))
    }

    /// Adds a TB, replacing any other with its key; returns the replaced one (now invalid).
    pub fn insert(&mut self, tb: Arc<Tb>) -> Option<Arc<Tb>> {
        let pages = if tb.pages[0] == tb.pages[1] { &tb.pages[..1] } else { &tb.pages[..] };
        for &p in pages {
            self.by_page.entry(p).or_default().push(tb.clone());
        }
        let old = self.by_key.insert((tb.pc, tb.flags), tb);
        if let Some(old) = &old {
            old.valid.store(false, Ordering::Release);
            for &p in &old.pages {
                if let Some(v) = self.by_page.get_mut(&p) {
                    v.retain(|t| !Arc::ptr_eq(t, old));
                }
            }
        }
        old
    }

    /// Invalidates every TB whose code came from page `page`; returns them.
    pub fn invalidate_page(&mut self, page: u64) -> Vec<Arc<Tb>> {
        let Some(tbs) = self.by_page.remove(&page) else { return Vec::new() };
        for tb in &tbs {
            tb.valid.store(false, Ordering::Release);
            if let Some(cur) = self.by_key.get(&(tb.pc, tb.flags)) {
                if Arc::ptr_eq(cur, tb) {
                    self.by_key.remove(&(tb.pc, tb.flags));
                }
            }
            // its other page's list still holds it; drop it there too
            for &p in &tb.pages {
                if p != page {
                    if let Some(v) = self.by_page.get_mut(&p) {
                        v.retain(|t| !Arc::ptr_eq(t, tb));
                    }
                }
            }
        }
        tbs
    }

    /// Whether any TB came from page `page`.
    pub fn page_has_code(&self, page: u64) -> bool {
        self.by_page.contains_key(&page)
    }

    /// The pages in `first..=last` that some TB came from, in no particular order. Costs the
    /// smaller of the range and the number of code pages, so that a range covering the whole
    /// address space (riscv_flush_icache, munmap of a large mapping) is as cheap as a page.
    pub fn code_pages_in(&self, first: u64, last: u64) -> Vec<u64> {
        if last < first {
            return Vec::new();
        }
        let span = last - first;
        if span >= self.by_page.len() as u64 {
            self.by_page.keys().copied().filter(|p| (first..=last).contains(p)).collect()
        } else {
            (first..=last).filter(|p| self.by_page.contains_key(p)).collect()
        }
    }

    /// Drops everything (all TBs become invalid).
    pub fn clear(&mut self) -> Vec<Arc<Tb>> {
        let all: Vec<Arc<Tb>> = self.by_key.drain().map(|(_, t)| t).collect();
        for tb in &all {
            tb.valid.store(false, Ordering::Release);
        }
        self.by_page.clear();
        all
    }

    /// Number of TBs.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}
