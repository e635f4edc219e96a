//! The block optimizer (QEMU's `tcg/optimize.c` plus liveness): constant folding and algebraic
//! simplification with copy propagation (`fold`), redundant guest-register access removal
//! (`get_set`), and dead code elimination (`dce`).
//!
//! Every pass keeps the block's observable behaviour exactly, including precise exceptions: at
//! any instruction that may fault or leave the block, every guest register holds the value the
//! unoptimized block would have stored by then.

mod dce;
mod fold;
mod get_set;

pub use dce::dce;
pub use fold::fold;
pub use get_set::get_set;

use crate::block::{Block, Value};

/// Runs every pass in order and compacts the block.
pub fn optimize(block: &mut Block) {
    fold(block);
    get_set(block);
    fold(block);
    dce(block);
    block.compact();
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
