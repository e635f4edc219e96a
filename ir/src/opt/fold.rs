//! Constant folding, algebraic identities and copy propagation.
//!
//! A pure op whose operands are constants becomes a constant (computed by `crate::sem`, the
//! same code the evaluator and interpreter run). Identities such as `x + 0`, `x & -1`, `x << 0`
//! forward the operand; `x * 0`, `x & 0` become constants. A side exit whose condition is the constant 0 is removed.

use crate::block::{Aux, Block, Inst, Value};
use crate::op::{OpFlags, Opcode};
use crate::sem;

fn konst(block: &Block, v: Value) -> Option<u64> {
    let d = block.def(v);
    (d.op == Opcode::Const).then_some(d.imm)
}

fn make_const(inst: &mut Inst, v: u64) {
    *inst = Inst {
        op: Opcode::Const,
        ty: inst.ty,
        nargs: 0,
        args: [Value::NONE; 4],
        imm: v & inst.ty.mask(),
        aux: Aux::None,
    };
}

/// Runs constant folding and copy propagation over `block`.
pub fn fold(block: &mut Block) {
    let n = block.insts.len();
    let mut repl = vec![Value::NONE; n];
    for i in 0..n {
        super::apply_repl(block, i, &repl);
        let inst = block.insts[i];
        let flags = inst.flags();
        if inst.op == Opcode::ExitIf {
            if konst(block, inst.args[0]) == Some(0) {
                block.insts[i].op = Opcode::Nop;
                block.insts[i].nargs = 0;
            }
            continue;
        }
        if !flags.has(OpFlags::PURE) || inst.op == Opcode::Const || inst.op == Opcode::Call || inst.op == Opcode::Nop {
            continue;
        }
        // (fixed arrays, not Vecs: this runs for every instruction of every block translated)
        let nargs = inst.nargs as usize;
        let args: [Option<u64>; 4] = std::array::from_fn(|k| if k < nargs { konst(block, inst.args[k]) } else { None });
        let args = &args[..nargs];
        if args.iter().all(Option::is_some) {
            let vals: [u64; 4] = std::array::from_fn(|k| args.get(k).copied().flatten().unwrap_or(0));
            let cond = if let Aux::Cond(c) = inst.aux { Some(c) } else { None };
            if let Some(v) = sem::eval_pure(inst.op, inst.ty, &vals[..nargs], inst.imm, cond) {
                make_const(&mut block.insts[i], v);
            }
            continue;
        }
        let m = inst.ty.mask();
        let (a, b) = (inst.args[0], inst.args[1]);
        let (ca, cb) = (args.first().copied().flatten(), args.get(1).copied().flatten());
        let forward = |repl: &mut Vec<Value>, v: Value| repl[i] = v;
        match inst.op {
            Opcode::Add | Opcode::Or | Opcode::Xor => {
                if cb == Some(0) {
                    forward(&mut repl, a);
                } else if ca == Some(0) {
                    forward(&mut repl, b);
                }
            }
            Opcode::Sub | Opcode::Shl | Opcode::ShrU | Opcode::ShrS | Opcode::Rotl | Opcode::Rotr => {
                if cb == Some(0) || (cb.is_some_and(|c| c & (inst.ty.bits() as u64 - 1) == 0) && inst.op != Opcode::Sub)
                {
                    forward(&mut repl, a);
                } else if inst.op == Opcode::Sub && a == b {
                    make_const(&mut block.insts[i], 0);
                }
            }
            Opcode::Mul => {
                if cb == Some(1) {
                    forward(&mut repl, a);
                } else if ca == Some(1) {
                    forward(&mut repl, b);
                } else if ca == Some(0) || cb == Some(0) {
                    make_const(&mut block.insts[i], 0);
                }
            }
            Opcode::And => {
                if cb == Some(m) {
                    forward(&mut repl, a);
                } else if ca == Some(m) {
                    forward(&mut repl, b);
                } else if ca == Some(0) || cb == Some(0) {
                    make_const(&mut block.insts[i], 0);
                } else if a == b {
                    forward(&mut repl, a);
                }
            }
            Opcode::Select => {
                if let Some(c) = ca {
                    forward(&mut repl, if c != 0 { b } else { inst.args[2] });
                } else if b == inst.args[2] {
                    forward(&mut repl, b);
                }
            }
            Opcode::Sext | Opcode::Zext if inst.imm >= inst.ty.bits() as u64 => forward(&mut repl, a),
            _ => {}
        }
    }
}
