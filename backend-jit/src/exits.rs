//! How compiled blocks leave, and the chaining slots (QEMU's `goto_tb` jump targets).
//!
//! A block returns an exit code to the entry trampoline: [`EXIT_CHAIN0`]/[`EXIT_CHAIN1`],
//! [`EXIT_LOOKUP`], [`EXIT_EXCEPTION`], [`EXIT_INTERRUPTED`]. Each block has two chaining
//! slots holding the address of the code to continue with. An unlinked slot holds a tiny stub
//! (`tail fn(env) -> i64 { return EXIT_CHAINn }`), so jumping through it returns to the
//! dispatcher; linking stores the successor block's address instead, so control passes with
//! one `return_call_indirect` and never returns to Rust. Every block checks `exit_request`
//! on entry, so a chain of linked blocks can always be interrupted.

use ir::backend::TbExit;

/// Exit through chaining slot 0.
pub const EXIT_CHAIN0: i64 = 0;
/// Exit through chaining slot 1.
pub const EXIT_CHAIN1: i64 = 1;
/// goto_ptr: look the pc up.
pub const EXIT_LOOKUP: i64 = 2;
/// An exception is pending in the environment.
pub const EXIT_EXCEPTION: i64 = 3;
/// exit_request was set at block entry.
pub const EXIT_INTERRUPTED: i64 = 4;

/// Decodes an exit code.
pub fn decode(code: u64) -> TbExit {
    match code as i64 {
        EXIT_CHAIN0 => TbExit::Chain { slot: 0 },
        EXIT_CHAIN1 => TbExit::Chain { slot: 1 },
        EXIT_LOOKUP => TbExit::Lookup,
        EXIT_INTERRUPTED => TbExit::Interrupted,
        _ => TbExit::Exception,
    }
}

/// log2 of the number of entries of the indirect-jump lookup table.
pub const LOOKUP_BITS: u32 = 16;

/// The lookup table's hash of a guest pc (the generated code computes the same).
pub fn lookup_hash(pc: u64) -> usize {
    (((pc >> 1) ^ (pc >> 17)) & ((1 << LOOKUP_BITS) - 1)) as usize
}

/// What the indirect-jump lookup table points to: one per compiled block, alive until the
/// next flush (so a probe from another thread never reads freed memory). Invalidation sets
/// `pc` to an impossible value (QEMU's `tb_lookup` + `lookup_and_goto_ptr`).
#[repr(C)]
pub struct Desc {
    /// Guest pc of the block, or `u64::MAX` once invalidated.
    pub pc: std::sync::atomic::AtomicU64,
    /// Translation flags of the block.
    pub flags: u64,
    /// Entry address of its code.
    pub entry: u64,
}

/// Byte offsets of Desc's fields, for the generated code.
pub const DESC_PC: i32 = std::mem::offset_of!(Desc, pc) as i32;
/// See DESC_PC.
pub const DESC_FLAGS: i32 = std::mem::offset_of!(Desc, flags) as i32;
/// See DESC_PC.
pub const DESC_ENTRY: i32 = std::mem::offset_of!(Desc, entry) as i32;
