//! From a host pc in compiled code back to the guest instruction it belongs to, for guest
//! accesses that the host MMU faulted (`fault.rs`) and runtime calls that raised a guest
//! exception (`abi.rs`'s slow-call trampoline).
//!
//! Lowering tags every Cranelift instruction of a guest instruction with a source location:
//! the instruction's pc minus the block's pc (`lower.rs`). Cranelift keeps the tags through
//! optimization and reports, for the finished code, which byte ranges came from which tag;
//! each block keeps those ranges here, found by its entry address. Looking a host pc up costs
//! a map search, paid only when a guest instruction raises, instead of a store of the guest pc
//! before every load and a test and an exit path after every runtime call.
//!
//! A guest access is a side-effecting Cranelift instruction (it may trap), so it is never
//! moved across the stores of the guest register writes around it; where a load is merged into the
//! instruction that extends its result, that instruction belongs to the same guest
//! instruction.

use cranelift_codegen::ir::SourceLoc;
use cranelift_codegen::MachSrcLoc;

/// What the tags of a block starting at `block_pc` are relative to: its pc with bit 0 clear
/// (crosscheck's copies of blocks carry `pc | 1`, which is no instruction's address).
fn tag_base(block_pc: u64) -> u64 {
    block_pc & !1
}

/// The tag of the guest instruction at `pc` in a block starting at `block_pc`: the signed
/// distance (followed jumps may reach code below the block's first instruction). Guest
/// instructions are 2-byte aligned, so bit 0 is free, and the tag is never -1, Cranelift's
/// "no location".
pub(crate) fn tag(block_pc: u64, pc: u64) -> SourceLoc {
    SourceLoc::new(pc.wrapping_sub(tag_base(block_pc)) as u32)
}

/// The tag of a guest instruction whose load, if it faults, is replayed from the instruction
/// at `restart` (`ir::ImmKind::Restart`): that instruction's tag with bit 0 set.
pub(crate) fn replay_tag(block_pc: u64, restart: u64) -> SourceLoc {
    SourceLoc::new(restart.wrapping_sub(tag_base(block_pc)) as u32 | 1)
}

/// The tagged code ranges `(start, end, tag)` of code Cranelift compiled, from the source
/// locations it reports (sorted by start).
pub(crate) fn ranges_of(srclocs: &[MachSrcLoc<cranelift_codegen::Final>]) -> Vec<(u32, u32, u32)> {
    srclocs.iter().filter(|s| !s.loc.is_default()).map(|s| (s.start, s.end, s.loc.bits())).collect()
}

/// Where one block's tagged ranges are.
struct Sites {
    /// Entry address of the block's code.
    entry: u64,
    /// End of the block's code.
    end: u64,
    /// What the tags are relative to (`tag_base` of the block's pc).
    base: u64,
    /// Its ranges: `FaultSites::ranges[first..first + count]`.
    first: u32,
    count: u32,
}

/// The fault sites of every block compiled since the last flush: blocks in order of their
/// code's address (the code cache is a bump allocator, so they come in that order), their
/// ranges back to back in one vector (no allocation per block).
#[derive(Default)]
pub(crate) struct FaultSites {
    blocks: Vec<Sites>,
    /// (start, end, tag) of each tagged range, as an offset into its block's code, sorted by
    /// start within each block.
    ranges: Vec<(u32, u32, u32)>,
}

impl FaultSites {
    /// Records the code ranges `(start, end, tag)` of a block at `[entry, entry + size)`,
    /// sorted by start.
    pub fn add(&mut self, entry: u64, size: usize, block_pc: u64, ranges: &[(u32, u32, u32)]) {
        debug_assert!(ranges.is_sorted_by_key(|r| r.0));
        if ranges.is_empty() {
            return;
        }
        let (first, count) = (self.ranges.len() as u32, ranges.len() as u32);
        let sites = Sites { entry, end: entry + size as u64, base: tag_base(block_pc), first, count };
        self.ranges.extend_from_slice(ranges);
        match self.blocks.last() {
            // not expected from a bump allocator, but kept correct
            Some(last) if last.entry > entry => {
                let at = self.blocks.partition_point(|b| b.entry < entry);
                self.blocks.insert(at, sites);
            }
            _ => self.blocks.push(sites),
        }
    }

    /// Forgets every block (the code cache was flushed).
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.ranges.clear();
    }

    /// The guest pc of the instruction whose code contains host pc `host_pc`, and whether a
    /// fault there replays from that pc (see [`replay_tag`]). Code between tagged ranges
    /// (none is expected at a fault) counts as the preceding range's.
    pub fn guest_pc(&self, host_pc: u64) -> Option<(u64, bool)> {
        let k = self.blocks.partition_point(|b| b.entry <= host_pc).checked_sub(1)?;
        let sites = &self.blocks[k];
        if host_pc >= sites.end {
            return None;
        }
        let ranges = &self.ranges[sites.first as usize..(sites.first + sites.count) as usize];
        let off = (host_pc - sites.entry) as u32;
        let i = ranges.partition_point(|r| r.0 <= off);
        let (_, _, tag) = ranges[i.checked_sub(1)?];
        Some((sites.base.wrapping_add((tag & !1) as i32 as i64 as u64), tag & 1 != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::SourceLoc;

    fn loc(start: u32, end: u32, tag: u32) -> MachSrcLoc<cranelift_codegen::Final> {
        MachSrcLoc { start, end, loc: SourceLoc::new(tag) }
    }

    #[test]
    fn host_pcs_map_to_the_guest_instruction_of_their_range() {
        let mut f = FaultSites::default();
        f.add(0x1000, 0x40, 0x10000, &ranges_of(&[loc(0, 8, 0), loc(8, 0x20, 4), loc(0x20, 0x40, 6)]));
        f.add(0x2000, 0x10, 0x20000, &ranges_of(&[loc(0, 0x10, 2)]));
        assert_eq!(f.guest_pc(0x1000), Some((0x10000, false)));
        assert_eq!(f.guest_pc(0x1008), Some((0x10004, false)));
        assert_eq!(f.guest_pc(0x101f), Some((0x10004, false)));
        assert_eq!(f.guest_pc(0x1030), Some((0x10006, false)));
        assert_eq!(f.guest_pc(0x2004), Some((0x20002, false)));
        // outside any block
        assert_eq!(f.guest_pc(0x1040), None);
        assert_eq!(f.guest_pc(0xfff), None);
        f.clear();
        assert_eq!(f.guest_pc(0x1008), None);
    }

    #[test]
    fn blocks_added_out_of_address_order_are_found() {
        let mut f = FaultSites::default();
        f.add(0x2000, 0x10, 0x20000, &ranges_of(&[loc(0, 8, 0), loc(8, 0x10, 2)]));
        f.add(0x1000, 0x10, 0x10000, &ranges_of(&[loc(0, 0x10, 4)]));
        f.add(0x3000, 0x10, 0x30000, &ranges_of(&[loc(0, 0x10, 6)]));
        assert_eq!(f.guest_pc(0x1004), Some((0x10004, false)));
        assert_eq!(f.guest_pc(0x200c), Some((0x20002, false)));
        assert_eq!(f.guest_pc(0x3000), Some((0x30006, false)));
        assert_eq!(f.guest_pc(0x1010), None);
    }

    #[test]
    fn tags_of_instructions_before_the_block_start_are_negative() {
        // followed jumps may reach code below the block's first instruction
        let (below, above) = (tag(0x10100, 0x10080), tag(0x10100, 0x10180));
        let mut f = FaultSites::default();
        f.add(0x1000, 0x10, 0x10100, &ranges_of(&[loc(0, 8, below.bits()), loc(8, 0x10, above.bits())]));
        assert_eq!(f.guest_pc(0x1004), Some((0x10080, false)));
        assert_eq!(f.guest_pc(0x100c), Some((0x10180, false)));
    }

    #[test]
    fn replay_tags_name_the_restart_instruction() {
        // also in crosscheck's copies of blocks, which carry pc | 1: bit 0 of a tag still
        // means replay
        for block_pc in [0x10100, 0x10101] {
            let (r, plain) = (replay_tag(block_pc, 0x10080), tag(block_pc, 0x10104));
            let mut f = FaultSites::default();
            f.add(0x1000, 0x10, block_pc, &ranges_of(&[loc(0, 8, r.bits()), loc(8, 0x10, plain.bits())]));
            assert_eq!(f.guest_pc(0x1004), Some((0x10080, true)), "block pc {block_pc:#x}");
            assert_eq!(f.guest_pc(0x100c), Some((0x10104, false)), "block pc {block_pc:#x}");
        }
    }
}
