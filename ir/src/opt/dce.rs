//! Dead code elimination: removes instructions without effects whose results are unused
//! (pure ops, `get`s, calls of pure helpers).

use crate::block::Block;
use crate::op::{OpFlags, Opcode};

/// Runs the pass over `block` (dead instructions become `nop`; `Block::compact` removes them).
pub fn dce(block: &mut Block) {
    let n = block.insts.len();
    let mut used = vec![false; n];
    for i in (0..n).rev() {
        let inst = block.insts[i];
        if inst.op == Opcode::Nop {
            continue;
        }
        let f = inst.flags();
        let removable = f.has(OpFlags::PURE) || inst.op == Opcode::Get;
        if removable && !used[i] {
            block.insts[i].op = Opcode::Nop;
            block.insts[i].nargs = 0;
            continue;
        }
        for a in inst.args() {
            used[a.index()] = true;
        }
    }
}
