//! Guest register writes moved past loads.
//!
//! A load that may fault needs the guest registers precise at its instruction, so `get_set`
//! keeps every register write ahead of it, and a backend stores each one to the CPU state:
//! one store per write, even where the next instruction overwrites the register. Loads are
//! far more common than faults, so this pass makes them cheap instead and their faults dear
//! (QEMU restores state from a search of the translated code; here the dispatcher replays):
//!
//! - A *window* is a maximal run of guest instructions that only compute, read registers
//!   (`get`), write registers (`set`), load, or do native FP arithmetic (whose flags accrue, so
//!   doing it twice is harmless). Any other op (stores, atomics, calls, exits) ends it, and
//!   the instruction holding such an op belongs to no window.
//! - In a window, the register writes ahead of its last load move to just after that load,
//!   where writes of the same register later in the window make them dead.
//! - Every load a write was moved past gets the window's first pc as its restart pc
//!   (`ImmKind::Restart`): at its fault, the registers hold their values as of the start of
//!   that instruction, because nothing in the window before the load wrote one. The
//!   dispatcher then runs the window again from there, one instruction at a time on the
//!   reference evaluator, until the load faults there (precisely) or, if memory changed in the
//!   meantime, any instruction later. Running a window twice is harmless: it holds no store
//!   and no other effect.

use crate::block::{Aux, Block};
use crate::op::{OpFlags, Opcode};

/// Whether `op` may be in a window: running it again from the window's start changes nothing
/// that the first run did not.
fn replayable(op: Opcode) -> bool {
    op.info().flags.has(OpFlags::PURE)
        || op.is_fp_arith()
        || matches!(op, Opcode::Nop | Opcode::InsnStart | Opcode::Get | Opcode::Set | Opcode::Ld)
}

/// Runs the pass over `block`.
pub fn defer_sets(block: &mut Block) {
    let n = block.insts.len();
    // where each guest instruction starts (it ends where the next one starts)
    let starts: Vec<usize> = (0..n).filter(|&i| block.insts[i].op == Opcode::InsnStart).collect();
    let mut moved_to: Vec<Option<usize>> = vec![None; n];
    let mut any = false;
    let mut k = 0;
    while k < starts.len() {
        let end_of = |k: usize| starts.get(k + 1).copied().unwrap_or(n);
        let ok = |k: usize| block.insts[starts[k]..end_of(k)].iter().all(|i| replayable(i.op));
        if !ok(k) {
            k += 1;
            continue;
        }
        let first = k;
        while k + 1 < starts.len() && ok(k + 1) {
            k += 1;
        }
        let (lo, hi) = (starts[first], end_of(k));
        k += 1;
        let Some(last_ld) = (lo..hi).rev().find(|&i| block.insts[i].op == Opcode::Ld) else { continue };
        // a `get` of a register written earlier in the window would read the stale slot, or
        // the dropped write (get_set forwards those, but only where nothing wrote registers
        // in between)
        let mut written = Vec::new();
        let mut clean = true;
        for inst in &block.insts[lo..hi] {
            match (inst.op, inst.aux) {
                (Opcode::Set, Aux::Global(g)) => written.push(g),
                (Opcode::Get, Aux::Global(g)) if written.contains(&g) => clean = false,
                _ => {}
            }
        }
        let sets_before = block.insts[lo..last_ld].iter().any(|i| i.op == Opcode::Set);
        if !clean || !sets_before {
            continue;
        }
        let restart = block.insts[lo].imm;
        let mut seen_set = false;
        for (inst, to) in block.insts[lo..last_ld].iter_mut().zip(&mut moved_to[lo..last_ld]) {
            match inst.op {
                Opcode::Set => {
                    *to = Some(last_ld);
                    seen_set = true;
                }
                Opcode::Ld if seen_set && inst.imm == 0 => inst.imm = restart,
                _ => {}
            }
        }
        if block.insts[last_ld].imm == 0 {
            block.insts[last_ld].imm = restart;
        }
        // moved writes of a register that a later write in the window (or a later moved one)
        // replaces are dead
        for i in lo..last_ld {
            let Aux::Global(g) = block.insts[i].aux else { continue };
            if moved_to[i].is_none() {
                continue;
            }
            let later = (i + 1..hi).any(|j| {
                block.insts[j].op == Opcode::Set
                    && block.insts[j].aux == Aux::Global(g)
                    && (j > last_ld || moved_to[j].is_some())
            });
            if later {
                block.insts[i].op = Opcode::Nop;
                block.insts[i].nargs = 0;
                moved_to[i] = None;
            }
        }
        any = true;
    }
    if !any {
        return;
    }
    // moved sets go right after their load (they define no value, and what they store is
    // defined before them); the dropped ones go
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, m) in moved_to.iter().enumerate() {
        if let Some(to) = m {
            after[*to].push(i);
        }
    }
    let order = (0..n)
        .filter(|&i| moved_to[i].is_none())
        .flat_map(|i| std::iter::once(i).chain(after[i].iter().copied()))
        .filter(|&i| block.insts[i].op != Opcode::Nop)
        .collect::<Vec<_>>();
    block.rearrange(&order);
}
