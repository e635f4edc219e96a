//! Redundant guest-register access removal.
//!
//! Forward: a `get` of a register whose value is known (from an earlier `get` or `set` with no
//! helper that may write registers in between) is replaced by that value, and a `set` of the
//! value the register already holds is dropped. Backward: a `set` that is overwritten by a later
//! `set` of the same register before anything could observe it is dropped. Observers are `get`s
//! of that register, helpers that read registers, side exits and terminators, and every op that
//! may fault (an exception must see precise registers).

use crate::block::{Aux, Block, Value};
use crate::op::{OpFlags, Opcode};

/// Runs the pass over `block`.
pub fn get_set(block: &mut Block) {
    let n = block.insts.len();
    let nglobals = block
        .insts
        .iter()
        .filter_map(|i| if let Aux::Global(g) = i.aux { Some(g.0 as usize + 1) } else { None })
        .max()
        .unwrap_or(0);
    // forward
    let mut known = vec![Value::NONE; nglobals];
    let mut repl = vec![Value::NONE; n];
    for i in 0..n {
        super::apply_repl(block, i, &repl);
        let inst = block.insts[i];
        match (inst.op, inst.aux) {
            (Opcode::Get, Aux::Global(g)) => {
                let k = known[g.0 as usize];
                if k != Value::NONE {
                    repl[i] = k;
                    block.insts[i].op = Opcode::Nop;
                } else {
                    known[g.0 as usize] = Value(i as u32);
                }
            }
            (Opcode::Set, Aux::Global(g)) => {
                if known[g.0 as usize] == inst.args[0] {
                    block.insts[i].op = Opcode::Nop;
                    block.insts[i].nargs = 0;
                } else {
                    known[g.0 as usize] = inst.args[0];
                }
            }
            _ => {
                if inst.flags().has(OpFlags::WRITES_GLOBAL) {
                    known.iter_mut().for_each(|k| *k = Value::NONE);
                }
            }
        }
    }
    // backward: `overwritten[g]` = a later set of g happens before any observer
    let mut overwritten = vec![false; nglobals];
    for i in (0..n).rev() {
        let inst = block.insts[i];
        match (inst.op, inst.aux) {
            (Opcode::Set, Aux::Global(g)) => {
                if overwritten[g.0 as usize] {
                    block.insts[i].op = Opcode::Nop;
                    block.insts[i].nargs = 0;
                } else {
                    overwritten[g.0 as usize] = true;
                }
            }
            (Opcode::Get, Aux::Global(g)) => overwritten[g.0 as usize] = false,
            (Opcode::Nop, _) => {}
            _ => {
                let f = inst.flags();
                if f.has(OpFlags::READS_GLOBAL)
                    || f.has(OpFlags::CAN_FAULT)
                    || f.has(OpFlags::SIDE_EXIT)
                    || f.has(OpFlags::TERMINATOR)
                {
                    overwritten.iter_mut().for_each(|o| *o = false);
                }
            }
        }
    }
}
