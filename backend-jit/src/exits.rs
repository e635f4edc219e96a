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
