//! Constant folding, algebraic identities and copy propagation.
//!
//! A pure op whose operands are constants becomes a constant (computed by `crate::sem`, the
//! same code the evaluator and interpreter run). Identities such as `x + 0`, `x & -1`, `x << 0`
//! forward the operand, and so does `(x + c) + -c`; `x * 0`, `x & 0` become constants. A side
//! exit whose condition is the constant 0 is removed.

use crate::block::{Aux, Block, Inst, Value};
use crate::op::{OpFlags, Opcode};
use crate::sem;

fn konst(block: &Block, v: Value) -> Option<u64> {
    let d = block.def(v);
    (d.op == Opcode::Const).then_some(d.imm)
}

/// Whether `v` is `x + c1` (of the same width) with `c1 + c2 = 0`.
fn undoes_add(block: &Block, v: Value, c2: u64, mask: u64) -> bool {
    let d = block.def(v);
    d.op == Opcode::Add && konst(block, d.args[1]).is_some_and(|c1| c1.wrapping_add(c2) & mask == 0)
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

/// What constant folding makes of one instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Simplified {
    /// Nothing: it stays as it is.
    Keep,
    /// It is this constant (of its own type).
    Const(u64),
    /// It is this earlier value.
    Forward(Value),
}

/// Folds one pure instruction whose arguments are values of `block` (the optimizer's pass
/// and the builder, as it emits, share this).
pub(crate) fn simplify(block: &Block, inst: &Inst) -> Simplified {
    use Simplified::{Const, Forward, Keep};
    if !inst.flags().has(OpFlags::PURE) || matches!(inst.op, Opcode::Const | Opcode::Call | Opcode::Nop) {
        return Keep;
    }
    // (fixed arrays, not Vecs: this runs for every instruction of every block translated)
    let nargs = inst.nargs as usize;
    let args: [Option<u64>; 4] = std::array::from_fn(|k| if k < nargs { konst(block, inst.args[k]) } else { None });
    let args = &args[..nargs];
    if args.iter().all(Option::is_some) {
        let vals: [u64; 4] = std::array::from_fn(|k| args.get(k).copied().flatten().unwrap_or(0));
        let cond = if let Aux::Cond(c) = inst.aux { Some(c) } else { None };
        return match sem::eval_pure(inst.op, inst.ty, &vals[..nargs], inst.imm, cond) {
            Some(v) => Const(v & inst.ty.mask()),
            None => Keep,
        };
    }
    let m = inst.ty.mask();
    let (a, b) = (inst.args[0], inst.args[1]);
    let (ca, cb) = (args.first().copied().flatten(), args.get(1).copied().flatten());
    match inst.op {
        Opcode::Add | Opcode::Or | Opcode::Xor if cb == Some(0) => Forward(a),
        Opcode::Add | Opcode::Or | Opcode::Xor if ca == Some(0) => Forward(b),
        // (x + c1) + c2 with c1 + c2 = 0: an address formed one way and taken back the other
        Opcode::Add if cb.is_some_and(|c2| undoes_add(block, a, c2, m)) => Forward(block.def(a).args[0]),
        Opcode::Shl | Opcode::ShrU | Opcode::ShrS | Opcode::Rotl | Opcode::Rotr
            if cb.is_some_and(|c| c & (inst.ty.bits() as u64 - 1) == 0) =>
        {
            Forward(a)
        }
        Opcode::Sub if cb == Some(0) => Forward(a),
        Opcode::Sub if a == b => Const(0),
        Opcode::Mul if cb == Some(1) => Forward(a),
        Opcode::Mul if ca == Some(1) => Forward(b),
        Opcode::Mul if ca == Some(0) || cb == Some(0) => Const(0),
        Opcode::And if cb == Some(m) => Forward(a),
        Opcode::And if ca == Some(m) => Forward(b),
        Opcode::And if ca == Some(0) || cb == Some(0) => Const(0),
        Opcode::And if a == b => Forward(a),
        Opcode::Select => match ca {
            Some(c) => Forward(if c != 0 { b } else { inst.args[2] }),
            None if b == inst.args[2] => Forward(b),
            None => Keep,
        },
        Opcode::Sext | Opcode::Zext if inst.imm >= inst.ty.bits() as u64 => Forward(a),
        _ => Keep,
    }
}

/// Runs constant folding and copy propagation over `block`.
pub fn fold(block: &mut Block) {
    let n = block.insts.len();
    let mut repl = vec![Value::NONE; n];
    for i in 0..n {
        super::apply_repl(block, i, &repl);
        let inst = block.insts[i];
        if inst.op == Opcode::ExitIf {
            if konst(block, inst.args[0]) == Some(0) {
                block.insts[i].op = Opcode::Nop;
                block.insts[i].nargs = 0;
            }
            continue;
        }
        match simplify(block, &inst) {
            Simplified::Keep => {}
            Simplified::Const(v) => make_const(&mut block.insts[i], v),
            Simplified::Forward(v) => repl[i] = v,
        }
    }
}
