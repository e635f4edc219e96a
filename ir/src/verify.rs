//! The IR verifier: checks the structural rules every pass and backend relies on.
//!
//! Rules: arguments are defined earlier in the block and have the types the op needs; every
//! `aux`/`imm` matches the op's table row; exactly one terminator, at the end; an op that can
//! fault is preceded by an `insn_start`; globals and helpers exist in the declarations and are
//! used with their declared type and arity. Run after the frontend and after every pass in
//! debug builds and tests.

use crate::block::{Aux, Block, Decls, ExitKind};
use crate::op::{AuxKind, OpFlags, Opcode};
use crate::types::{Size, Ty};

/// A broken rule, naming the instruction.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("inst {index} ({op}): {msg}")]
pub struct VerifyError {
    /// Index of the offending instruction.
    pub index: usize,
    /// Its op name.
    pub op: &'static str,
    /// What is wrong.
    pub msg: String,
}

/// Verifies `block` against `decls`.
pub fn verify(block: &Block, decls: &Decls) -> Result<(), VerifyError> {
    let n = block.insts.len();
    if n == 0 {
        return Err(VerifyError { index: 0, op: "-", msg: "empty block (no terminator)".into() });
    }
    let mut seen_insn_start = false;
    // the target pc of each chaining slot used so far: a slot has one (backends and the
    // dispatcher key links and targets by slot)
    let mut slot_targets = [None; crate::backend::MAX_CHAIN_SLOTS as usize];
    for (i, inst) in block.insts.iter().enumerate() {
        let info = inst.op.info();
        let err = |msg: String| VerifyError { index: i, op: info.name, msg };
        let flags = inst.flags();
        // arity
        let nargs = inst.nargs as usize;
        if inst.op == Opcode::Call {
            if nargs > 4 {
                return Err(err(format!("{nargs} arguments, at most 4")));
            }
        } else if nargs != info.nargs as usize {
            return Err(err(format!("{nargs} arguments, expected {}", info.nargs)));
        }
        for (k, a) in inst.args().iter().enumerate() {
            if a.index() >= i {
                return Err(err(format!("argument {k} (v{}) is not defined before use", a.0)));
            }
            let d = &block.insts[a.index()];
            if !d.has_result() {
                return Err(err(format!(
                    "argument {k} (v{}) is defined by {} which has no result",
                    a.0,
                    d.op.info().name
                )));
            }
        }
        // aux kind
        let aux_ok = matches!(
            (info.aux, inst.aux),
            (AuxKind::None, Aux::None)
                | (AuxKind::Global, Aux::Global(_))
                | (AuxKind::Cond, Aux::Cond(_))
                | (AuxKind::Mem, Aux::Mem(_))
                | (AuxKind::Atomic, Aux::Atomic(..))
                | (AuxKind::Helper, Aux::Helper(..))
                | (AuxKind::Exit, Aux::Exit(_))
                | (AuxKind::Slot, Aux::Slot(_))
                | (AuxKind::Extra, Aux::Extra(_))
        );
        if !aux_ok {
            return Err(err(format!("aux {:?} does not fit the op", inst.aux)));
        }
        // terminator placement
        if flags.has(OpFlags::TERMINATOR) != (i == n - 1) {
            return Err(err(if i == n - 1 {
                "the block does not end with a terminator".into()
            } else {
                "terminator before the end of the block".into()
            }));
        }
        if inst.op == Opcode::InsnStart {
            seen_insn_start = true;
        }
        if (flags.has(OpFlags::CAN_FAULT)
            || matches!(inst.aux, Aux::Exit(ExitKind::Raise { .. }))
            || inst.op == Opcode::Raise)
            && !seen_insn_start
        {
            return Err(err("may raise an exception before any insn_start".into()));
        }
        // types
        let aty = |k: usize| block.insts[inst.args[k].index()].ty;
        let same = |k: usize| -> Result<(), VerifyError> {
            if aty(k) != inst.ty {
                Err(err(format!("argument {k} is {} but the op is {}", aty(k), inst.ty)))
            } else {
                Ok(())
            }
        };
        match inst.op {
            Opcode::Get | Opcode::Set => {
                let Aux::Global(g) = inst.aux else { unreachable!("aux kind checked above") };
                let Some(decl) = decls.globals.get(g.0 as usize) else {
                    return Err(err(format!("unknown global g{}", g.0)));
                };
                if decl.ty != inst.ty {
                    return Err(err(format!("global {} is {} but used as {}", decl.name, decl.ty, inst.ty)));
                }
                if inst.op == Opcode::Set {
                    same(0)?;
                }
            }
            Opcode::Setcond => {
                same(0)?;
                same(1)?;
            }
            Opcode::Select => {
                same(1)?;
                same(2)?;
            }
            Opcode::ExtendS | Opcode::ExtendU => {
                if inst.ty != Ty::I64 || aty(0) != Ty::I32 {
                    return Err(err("extends an i32 to an i64".into()));
                }
            }
            Opcode::Trunc => {
                if inst.ty != Ty::I32 || aty(0) != Ty::I64 {
                    return Err(err("truncates an i64 to an i32".into()));
                }
            }
            Opcode::Sext | Opcode::Zext => {
                same(0)?;
                if inst.imm == 0 || inst.imm > inst.ty.bits() as u64 {
                    return Err(err(format!("extends from {} bits, outside 1..={}", inst.imm, inst.ty.bits())));
                }
            }
            Opcode::Ld | Opcode::St | Opcode::AtomicRmw | Opcode::Cmpxchg => {
                if aty(0) != Ty::I64 {
                    return Err(err("the address must be an i64".into()));
                }
                let mop = match inst.aux {
                    Aux::Mem(m) | Aux::Atomic(_, m) => m,
                    _ => unreachable!("aux kind checked above"),
                };
                if mop.size == Size::S64 && inst.ty == Ty::I32 {
                    return Err(err("a 64-bit access with an i32 value".into()));
                }
                for k in 1..nargs {
                    same(k)?;
                }
            }
            Opcode::Call => {
                let Aux::Helper(h, f) = inst.aux else { unreachable!("aux kind checked above") };
                let Some(decl) = decls.helpers.get(h.0 as usize) else {
                    return Err(err(format!("unknown helper h{}", h.0)));
                };
                if decl.nargs as usize != nargs {
                    return Err(err(format!("helper {} takes {} arguments, given {nargs}", decl.name, decl.nargs)));
                }
                if decl.flags != f {
                    return Err(err(format!(
                        "helper {} called with flags {:?}, declared {:?}",
                        decl.name, f, decl.flags
                    )));
                }
                if inst.ty != Ty::I64 {
                    return Err(err("helper results are i64".into()));
                }
            }
            Opcode::GotoTb | Opcode::ExitIf => {
                if let Some(slot) = inst.chain_slot() {
                    let Some(target) = slot_targets.get_mut(slot as usize) else {
                        return Err(err(format!("slot {slot}, expected below {}", crate::backend::MAX_CHAIN_SLOTS)));
                    };
                    if target.is_some_and(|t| t != inst.imm) {
                        return Err(err(format!("slot {slot} already continues at another pc")));
                    }
                    *target = Some(inst.imm);
                }
            }
            Opcode::GotoPtr | Opcode::ExitTb => {
                if aty(0) != Ty::I64 {
                    return Err(err("the target must be an i64".into()));
                }
            }
            Opcode::Fpflags => {
                if inst.ty != Ty::I64 {
                    return Err(err("fpflags is an i64".into()));
                }
            }
            Opcode::Nop | Opcode::Const | Opcode::Fence | Opcode::InsnStart | Opcode::Raise => {}
            _ => {
                // unary/binary arithmetic: operands share the result type
                for k in 0..nargs {
                    same(k)?;
                }
            }
        }
        if matches!(inst.op, Opcode::GotoTb | Opcode::GotoPtr | Opcode::ExitTb) && decls.pc.is_none() {
            return Err(err("control transfer but the frontend declares no pc global".into()));
        }
    }
    Ok(())
}
