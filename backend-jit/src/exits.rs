//! How compiled blocks leave, and the chaining slots (QEMU's `goto_tb` jump targets).
//!
//! Blocks are `tail fn(env, from) -> exit code`. A block returns [`EXIT_LOOKUP`],
//! [`EXIT_EXCEPTION`] or [`EXIT_INTERRUPTED`] to the entry trampoline, or continues through
//! one of the two chaining slots in its [`Desc`] with `return_call_indirect(slot, env, desc)`.
//! An unlinked slot holds a tiny stub (`tail fn(env, from) -> from + n`), so the chain returns
//! to the dispatcher with the address of the descriptor of the block that took the exit and the
//! slot number (QEMU's "last TB | exit index"); linking stores the successor block's entry
//! instead, so control passes on without returning to Rust. Every block checks
//! `exit_request` on entry, so a chain of linked blocks can always be interrupted (a block
//! interrupted on entry stores its own pc, as chaining exits leave the guest pc unwritten; or,
//! in the baseline tier, returns its descriptor + [`ENTRY_INTERRUPTED`], which has the pc).

use std::sync::atomic::{AtomicU64, Ordering};

use ir::backend::TbExit;

/// goto_ptr: look the pc up.
pub const EXIT_LOOKUP: i64 = 2;
/// An exception is pending in the environment.
pub const EXIT_EXCEPTION: i64 = 3;
/// exit_request was set at block entry.
pub const EXIT_INTERRUPTED: i64 = 4;
/// A baseline block's entry count reached its threshold (it stored its own pc).
pub const EXIT_HOT: i64 = 5;

/// Added to a descriptor's address (64-aligned), above the chaining slot numbers: the block
/// found `exit_request` set at its entry ([`EXIT_INTERRUPTED`] without storing its pc: its
/// descriptor has it). Baseline blocks leave so, with a shorter sequence than the pc store.
pub const ENTRY_INTERRUPTED: u64 = 8;
/// As [`ENTRY_INTERRUPTED`], for [`EXIT_HOT`].
pub const ENTRY_HOT: u64 = 9;

/// For an exit code that is a descriptor plus [`ENTRY_INTERRUPTED`] or [`ENTRY_HOT`]: the
/// descriptor, and whether it is the latter.
pub(crate) fn entry_exit(code: u64) -> Option<(*const Desc, bool)> {
    let k = code & 63;
    (code > EXIT_HOT as u64 && (k == ENTRY_INTERRUPTED || k == ENTRY_HOT))
        .then_some(((code & !63) as *const Desc, k == ENTRY_HOT))
}

/// Decodes an exit code: small codes are the constants above, anything else is a
/// descriptor address (8-aligned) plus the slot number.
pub fn decode(code: u64) -> TbExit {
    match code as i64 {
        EXIT_LOOKUP => TbExit::Lookup,
        EXIT_INTERRUPTED => TbExit::Interrupted,
        EXIT_EXCEPTION => TbExit::Exception,
        EXIT_HOT => TbExit::Hot,
        _ => TbExit::Chain { slot: (code & 7) as u8, from: code & !7 },
    }
}

/// log2 of the number of entries of the indirect-jump lookup table.
///
/// The table (QEMU's `tb_jmp_cache` as `lookup_and_goto_ptr` uses it) maps [`lookup_hash`]
/// of a guest pc to the entry address of a block's code; the 16 bytes before every block's
/// code hold the pc and the translation flags it was compiled for ([`LOOKUP_KEY_PC`],
/// [`LOOKUP_KEY_FLAGS`], written with the code and never changed), so that a `goto_ptr`
/// checks its target at the code it is about to run: one load from the table, which may
/// miss the cache, and two from the target's first code line, which the jump fetches anyway.
/// (Pointing at the block's descriptor, it was two dependent misses, a fifth of the time in
/// `python3 -c pass`'s cold code.) Each entry is one word, so a probe racing with an update
/// on another thread sees the old block or the new one. An empty entry, or one whose block
/// was invalidated, holds the address of a permanent header that no pc matches. Blocks whose
/// pcs share an entry take turns: publishing a block puts it there, and so does the
/// dispatcher after a probe missed it (`refresh_lookup`; without that, python3 running
/// pyloop.py left compiled code 2 million times for a lookup, 26 thousand times with it).
pub const LOOKUP_BITS: u32 = 16;

/// Offset, from a block's entry address, of the guest pc the lookup table checks.
pub const LOOKUP_KEY_PC: i32 = -16;
/// Offset, from a block's entry address, of the translation flags the lookup table checks.
pub const LOOKUP_KEY_FLAGS: i32 = -8;

/// The lookup table's hash of a guest pc (the generated code computes the same).
pub fn lookup_hash(pc: u64) -> usize {
    (((pc >> 1) ^ (pc >> 17)) & ((1 << LOOKUP_BITS) - 1)) as usize
}

/// A compiled block's exits: one per block, alive until the next flush (a stub's exit code
/// points to it until the dispatcher has read it). Invalidation sets `pc` to an impossible
/// value.
///
/// Cranelift blocks read their chaining slots here; baseline blocks read their countdown
/// and slots from a small [`Record`] instead, next to the records of the blocks translated
/// before and after them.
#[repr(C, align(64))]
pub struct Desc {
    /// Guest pc of the block, or `u64::MAX` once invalidated.
    pub pc: std::sync::atomic::AtomicU64,
    /// Translation flags of the block.
    pub flags: u64,
    /// The block's [`Record`] (baseline blocks), or 0.
    pub record: u64,
    /// Guest pc of the block (kept when `pc` is invalidated).
    pub start_pc: u64,
    /// Where its chaining exits continue: a stub (unlinked) or a block's entry (linked).
    pub slots: [std::sync::atomic::AtomicU64; ir::backend::MAX_CHAIN_SLOTS as usize],
    /// The guest pc each chaining exit continues at. A chaining exit does not store it in the
    /// guest's pc: a linked successor knows its own pc, and an exit that returns through a
    /// stub has it written from here (`JitBlock::run`).
    pub targets: [u64; ir::backend::MAX_CHAIN_SLOTS as usize],
}

/// The descriptors made since the last flush, in chunks that never move (code embeds their
/// addresses) and are freed together by a flush: one allocation per `DESC_CHUNK` blocks, and
/// consecutive blocks' descriptors side by side. (One aligned allocation each was 4% of
/// `python3 -c pass`, in glibc's memalign.)
#[derive(Default)]
pub(crate) struct DescArena {
    chunks: Vec<Box<[Desc]>>,
    /// Descriptors used in the last chunk.
    used: usize,
    /// The blocks' [`Record`]s, packed back to back in chunks that never move either.
    records: Vec<Box<[AtomicU64]>>,
    /// Words used in the last record chunk.
    record_words: usize,
}

/// What a baseline block reads each time it runs, in words: its entry countdown (the low
/// half of word 0; the high half is the count it starts over from, which the dispatcher
/// restores after a hot exit), its descriptor's address (word 1), and its chaining slots
/// (from word 2), copies of the descriptor's. Records are packed in the order blocks are translated, 24 to
/// 32 bytes each, so a block's record usually shares a cache line with those of the blocks
/// that run before and after it. (Reading the countdown from the descriptor, a line of its
/// own per block, was a fifth of the samples in python3 -c pass's cold code, 8% from here.)
pub struct Record;

impl Record {
    /// Byte offset of the entry countdown.
    pub const COUNTDOWN: i32 = 0;
    /// Byte offset of the descriptor's address.
    pub const DESC: i32 = 8;
    /// Byte offset of chaining slot 0.
    pub const SLOTS: i32 = 16;
}

const RECORD_CHUNK_WORDS: usize = 8192;

/// After a hot exit ([`ENTRY_HOT`]) of `desc`'s block: its countdown starts over.
///
/// # Safety
/// `desc` is a live descriptor (its record, if any, lives as long).
pub(crate) unsafe fn restart_countdown(desc: *const Desc) {
    // SAFETY: per the function contract.
    let r = unsafe { (*desc).record } as *const AtomicU64;
    if !r.is_null() {
        // SAFETY: a record's word 0 is its countdown and the count it starts over from. (The
        // block's code decrements the low half without a lock: a racing entry on another
        // thread may be lost, which only delays a promotion.)
        let w = unsafe { &*r };
        let v = w.load(Ordering::Relaxed);
        w.store((v & !0xffff_ffff) | v >> 32, Ordering::Relaxed);
    }
}

const DESC_CHUNK: usize = 256;

impl DescArena {
    /// A place for `desc`, valid until [`DescArena::clear`].
    pub(crate) fn alloc(&mut self, desc: Desc) -> *mut Desc {
        if self.chunks.last().is_none_or(|c| self.used == c.len()) {
            self.chunks.push((0..DESC_CHUNK).map(|_| Desc::empty()).collect());
            self.used = 0;
        }
        let Some(chunk) = self.chunks.last_mut() else { unreachable!("a chunk was just added") };
        chunk[self.used] = desc;
        self.used += 1;
        &mut chunk[self.used - 1] as *mut Desc
    }

    /// A [`Record`] for `desc`'s block, with its chaining slots up to the last one that has
    /// a target copied from the descriptor and the countdown at `countdown`; valid until
    /// [`DescArena::clear`].
    pub(crate) fn record(&mut self, desc: &Desc, countdown: u32) -> *const AtomicU64 {
        let slots = desc.targets.iter().rposition(|&t| t != u64::MAX).map_or(0, |k| k + 1);
        let words = 2 + slots;
        if self.records.last().is_none_or(|c| self.record_words + words > c.len()) {
            self.records.push((0..RECORD_CHUNK_WORDS).map(|_| AtomicU64::new(0)).collect());
            self.record_words = 0;
        }
        let Some(chunk) = self.records.last() else { unreachable!("a chunk was just added") };
        let r = &chunk[self.record_words..self.record_words + words];
        r[0].store(countdown as u64 | (countdown as u64) << 32, Ordering::Relaxed);
        r[1].store(desc as *const Desc as u64, Ordering::Relaxed);
        for (w, s) in r[2..].iter().zip(&desc.slots) {
            w.store(s.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.record_words += words;
        r.as_ptr()
    }

    /// Frees every descriptor and record.
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.used = 0;
        self.records.clear();
        self.record_words = 0;
    }
}

impl Desc {
    fn empty() -> Desc {
        Desc {
            pc: std::sync::atomic::AtomicU64::new(u64::MAX),
            flags: 0,
            record: 0,
            start_pc: 0,
            slots: Default::default(),
            targets: [u64::MAX; ir::backend::MAX_CHAIN_SLOTS as usize],
        }
    }
}

/// The target pc of each chaining slot of `block` (the IR verifier checks that a slot has
/// one); unused slots get `u64::MAX`.
pub(crate) fn chain_targets(block: &ir::Block) -> [u64; ir::backend::MAX_CHAIN_SLOTS as usize] {
    let mut t = [u64::MAX; ir::backend::MAX_CHAIN_SLOTS as usize];
    for inst in &block.insts {
        let Some(slot) = inst.chain_slot() else { continue };
        if let Some(e) = t.get_mut(slot as usize) {
            *e = inst.imm;
        }
    }
    t
}

/// Byte offset of Desc's chaining slots, for the generated code.
pub const DESC_SLOTS: i32 = std::mem::offset_of!(Desc, slots) as i32;
