//! The semantics of the pure ops, as plain functions of their operands.
//!
//! One definition serves the reference evaluator, the constant folder and the bytecode
//! interpreter, so the three agree by construction; the JIT is tested against them. Values of
//! type `i32` are held zero-extended in a `u64`; every function returns its result that way.

use crate::op::Opcode;
use crate::types::{Cond, Ty};

#[inline(always)]
fn sx(ty: Ty, a: u64) -> i64 {
    match ty {
        Ty::I32 => a as u32 as i32 as i64,
        Ty::I64 => a as i64,
    }
}

/// Signed division, total: x / 0 = -1, MIN / -1 = MIN.
#[inline(always)]
pub fn div_s(ty: Ty, a: u64, b: u64) -> u64 {
    let (a, b) = (sx(ty, a), sx(ty, b));
    let r = if b == 0 {
        -1
    } else if ty == Ty::I32 {
        (a as i32).wrapping_div(b as i32) as i64
    } else {
        a.wrapping_div(b)
    };
    r as u64 & ty.mask()
}

/// Unsigned division, total: x / 0 = all ones.
#[inline(always)]
pub fn div_u(ty: Ty, a: u64, b: u64) -> u64 {
    let (a, b) = (a & ty.mask(), b & ty.mask());
    a.checked_div(b).unwrap_or(ty.mask())
}

/// Signed remainder, total: x % 0 = x, MIN % -1 = 0.
#[inline(always)]
pub fn rem_s(ty: Ty, a: u64, b: u64) -> u64 {
    let (a, b) = (sx(ty, a), sx(ty, b));
    let r = if b == 0 {
        a
    } else if ty == Ty::I32 {
        (a as i32).wrapping_rem(b as i32) as i64
    } else {
        a.wrapping_rem(b)
    };
    r as u64 & ty.mask()
}

/// Unsigned remainder, total: x % 0 = x.
#[inline(always)]
pub fn rem_u(ty: Ty, a: u64, b: u64) -> u64 {
    let (a, b) = (a & ty.mask(), b & ty.mask());
    a.checked_rem(b).unwrap_or(a)
}

/// High half of a signed × signed product.
#[inline(always)]
pub fn mulh_s(ty: Ty, a: u64, b: u64) -> u64 {
    match ty {
        Ty::I32 => ((sx(ty, a) * sx(ty, b)) >> 32) as u64 & 0xffff_ffff,
        Ty::I64 => ((a as i64 as i128 * b as i64 as i128) >> 64) as u64,
    }
}

/// High half of an unsigned × unsigned product.
#[inline(always)]
pub fn mulh_u(ty: Ty, a: u64, b: u64) -> u64 {
    match ty {
        Ty::I32 => ((a & 0xffff_ffff) * (b & 0xffff_ffff)) >> 32,
        Ty::I64 => ((a as u128 * b as u128) >> 64) as u64,
    }
}

/// High half of a signed × unsigned product.
#[inline(always)]
pub fn mulh_su(ty: Ty, a: u64, b: u64) -> u64 {
    match ty {
        Ty::I32 => ((sx(ty, a) * (b & 0xffff_ffff) as i64) >> 32) as u64 & 0xffff_ffff,
        Ty::I64 => ((a as i64 as i128 * b as i128) >> 64) as u64,
    }
}

/// Sign-extends `a` from its low `bits` bits (1 ≤ bits ≤ width; other counts are clamped).
#[inline(always)]
pub fn sext(ty: Ty, a: u64, bits: u64) -> u64 {
    let bits = bits.clamp(1, 64) as u32;
    let sh = 64 - bits;
    (((a << sh) as i64) >> sh) as u64 & ty.mask()
}

/// Zero-extends `a` from its low `bits` bits.
#[inline(always)]
pub fn zext(ty: Ty, a: u64, bits: u64) -> u64 {
    let bits = bits.clamp(1, 64) as u32;
    let m = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    a & m & ty.mask()
}

/// Shift left by `b mod width`.
#[inline(always)]
pub fn shl(ty: Ty, a: u64, b: u64) -> u64 {
    (a << (b & (ty.bits() as u64 - 1))) & ty.mask()
}

/// Logical shift right by `b mod width`.
#[inline(always)]
pub fn shr_u(ty: Ty, a: u64, b: u64) -> u64 {
    (a & ty.mask()) >> (b & (ty.bits() as u64 - 1))
}

/// Arithmetic shift right by `b mod width`.
#[inline(always)]
pub fn shr_s(ty: Ty, a: u64, b: u64) -> u64 {
    (sx(ty, a) >> (b & (ty.bits() as u64 - 1))) as u64 & ty.mask()
}

/// Rotate left by `b mod width`.
#[inline(always)]
pub fn rotl(ty: Ty, a: u64, b: u64) -> u64 {
    match ty {
        Ty::I32 => (a as u32).rotate_left(b as u32 & 31) as u64,
        Ty::I64 => a.rotate_left(b as u32 & 63),
    }
}

/// Rotate right by `b mod width`.
#[inline(always)]
pub fn rotr(ty: Ty, a: u64, b: u64) -> u64 {
    match ty {
        Ty::I32 => (a as u32).rotate_right(b as u32 & 31) as u64,
        Ty::I64 => a.rotate_right(b as u32 & 63),
    }
}

/// Count leading zeros (width for 0).
#[inline(always)]
pub fn clz(ty: Ty, a: u64) -> u64 {
    match ty {
        Ty::I32 => (a as u32).leading_zeros() as u64,
        Ty::I64 => a.leading_zeros() as u64,
    }
}

/// Count trailing zeros (width for 0).
#[inline(always)]
pub fn ctz(ty: Ty, a: u64) -> u64 {
    match ty {
        Ty::I32 => (a as u32).trailing_zeros() as u64,
        Ty::I64 => a.trailing_zeros() as u64,
    }
}

/// Byte swap.
#[inline(always)]
pub fn bswap(ty: Ty, a: u64) -> u64 {
    match ty {
        Ty::I32 => (a as u32).swap_bytes() as u64,
        Ty::I64 => a.swap_bytes(),
    }
}

/// Evaluates a pure op. `args` are the operand values (zero-extended to u64), `imm` and `cond`
/// the op's immediate and condition. Returns `None` for ops that are not pure.
pub fn eval_pure(op: Opcode, ty: Ty, args: &[u64], imm: u64, cond: Option<Cond>) -> Option<u64> {
    let a = args.first().copied().unwrap_or(0);
    let b = args.get(1).copied().unwrap_or(0);
    let m = ty.mask();
    Some(match op {
        Opcode::Const => imm & m,
        Opcode::Add => a.wrapping_add(b) & m,
        Opcode::Sub => a.wrapping_sub(b) & m,
        Opcode::Mul => a.wrapping_mul(b) & m,
        Opcode::MulhS => mulh_s(ty, a, b),
        Opcode::MulhU => mulh_u(ty, a, b),
        Opcode::MulhSu => mulh_su(ty, a, b),
        Opcode::DivS => div_s(ty, a, b),
        Opcode::DivU => div_u(ty, a, b),
        Opcode::RemS => rem_s(ty, a, b),
        Opcode::RemU => rem_u(ty, a, b),
        Opcode::And => a & b & m,
        Opcode::Or => (a | b) & m,
        Opcode::Xor => (a ^ b) & m,
        Opcode::Andn => a & !b & m,
        Opcode::Orn => (a | !b) & m,
        Opcode::Xnor => !(a ^ b) & m,
        Opcode::Shl => shl(ty, a, b),
        Opcode::ShrU => shr_u(ty, a, b),
        Opcode::ShrS => shr_s(ty, a, b),
        Opcode::Rotl => rotl(ty, a, b),
        Opcode::Rotr => rotr(ty, a, b),
        Opcode::MinS => {
            if sx(ty, a) <= sx(ty, b) {
                a & m
            } else {
                b & m
            }
        }
        Opcode::MaxS => {
            if sx(ty, a) >= sx(ty, b) {
                a & m
            } else {
                b & m
            }
        }
        Opcode::MinU => (a & m).min(b & m),
        Opcode::MaxU => (a & m).max(b & m),
        Opcode::Neg => a.wrapping_neg() & m,
        Opcode::Not => !a & m,
        Opcode::Clz => clz(ty, a),
        Opcode::Ctz => ctz(ty, a),
        Opcode::Popcnt => (a & m).count_ones() as u64,
        Opcode::Bswap => bswap(ty, a),
        Opcode::Sext => sext(ty, a, imm),
        Opcode::Zext => zext(ty, a, imm),
        Opcode::ExtendS => a as u32 as i32 as i64 as u64,
        Opcode::ExtendU => a & 0xffff_ffff,
        Opcode::Trunc => a & 0xffff_ffff,
        Opcode::Setcond => {
            // the operands' type is the result type
            cond?.eval(ty, a, b) as u64
        }
        Opcode::Select => {
            if a != 0 {
                b & m
            } else {
                args.get(2).copied().unwrap_or(0) & m
            }
        }
        _ => return None,
    })
}

/// Evaluates a two-operand pure arithmetic op (`add` .. `max_u`); meant to be inlined with a
/// constant `op` and `ty`, where it reduces to the single operation.
#[inline(always)]
pub fn bin(op: Opcode, ty: Ty, a: u64, b: u64) -> u64 {
    let m = ty.mask();
    match op {
        Opcode::Add => a.wrapping_add(b) & m,
        Opcode::Sub => a.wrapping_sub(b) & m,
        Opcode::Mul => a.wrapping_mul(b) & m,
        Opcode::MulhS => mulh_s(ty, a, b),
        Opcode::MulhU => mulh_u(ty, a, b),
        Opcode::MulhSu => mulh_su(ty, a, b),
        Opcode::DivS => div_s(ty, a, b),
        Opcode::DivU => div_u(ty, a, b),
        Opcode::RemS => rem_s(ty, a, b),
        Opcode::RemU => rem_u(ty, a, b),
        Opcode::And => a & b & m,
        Opcode::Or => (a | b) & m,
        Opcode::Xor => (a ^ b) & m,
        Opcode::Andn => a & !b & m,
        Opcode::Orn => (a | !b) & m,
        Opcode::Xnor => !(a ^ b) & m,
        Opcode::Shl => shl(ty, a, b),
        Opcode::ShrU => shr_u(ty, a, b),
        Opcode::ShrS => shr_s(ty, a, b),
        Opcode::Rotl => rotl(ty, a, b),
        Opcode::Rotr => rotr(ty, a, b),
        Opcode::MinS => {
            if sx(ty, a) <= sx(ty, b) {
                a & m
            } else {
                b & m
            }
        }
        Opcode::MaxS => {
            if sx(ty, a) >= sx(ty, b) {
                a & m
            } else {
                b & m
            }
        }
        Opcode::MinU => (a & m).min(b & m),
        Opcode::MaxU => (a & m).max(b & m),
        _ => 0,
    }
}

/// Evaluates a one-operand pure op (`neg` .. `bswap`); see [`bin`].
#[inline(always)]
pub fn un(op: Opcode, ty: Ty, a: u64) -> u64 {
    let m = ty.mask();
    match op {
        Opcode::Neg => a.wrapping_neg() & m,
        Opcode::Not => !a & m,
        Opcode::Clz => clz(ty, a),
        Opcode::Ctz => ctz(ty, a),
        Opcode::Popcnt => (a & m).count_ones() as u64,
        Opcode::Bswap => bswap(ty, a),
        _ => 0,
    }
}
