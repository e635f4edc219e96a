//! The block optimizer (QEMU's `tcg/optimize.c` plus liveness): constant folding and algebraic
//! simplification with copy propagation (`fold`), redundant guest-register access removal
//! (`get_set`), dead code elimination (`dce`), and register writes moved past loads
//! (`defer`).
//!
//! Every pass keeps the block's observable behaviour exactly, including precise exceptions: at
//! any instruction that may fault or leave the block, every guest register holds the value the
//! unoptimized block would have stored by then. The one exception is a load with a restart pc
//! (`defer`): at its fault the registers are as of that earlier instruction, and the
//! dispatcher replays from there to the fault.

mod dce;
mod defer;
mod fold;
mod get_set;

pub use dce::dce;
pub use defer::defer_sets;
pub use fold::fold;
pub(crate) use fold::{simplify, Simplified};
pub use get_set::get_set;

use crate::block::{Block, Value};

/// Runs every pass but `defer` in order and compacts the block.
pub fn optimize(block: &mut Block) {
    fold(block);
    get_set(block);
    fold(block);
    dce(block);
    block.compact();
}

/// [`optimize`], then register writes moved past loads (`defer`): for backends where each
/// register write is a store of its own (`Backend::defers_register_writes`).
pub fn optimize_deferring(block: &mut Block) {
    optimize(block);
    defer_sets(block);
}

/// Rewrites the arguments of instruction `i` through `repl` (copy propagation).
pub(crate) fn apply_repl(block: &mut Block, i: usize, repl: &[Value]) {
    let inst = &mut block.insts[i];
    for a in &mut inst.args[..inst.nargs as usize] {
        let r = repl[a.index()];
        if r != Value::NONE {
            *a = r;
        }
    }
}
