//! F extension: single-precision floating point (RISC-V Unprivileged ISA 20191213, chapter
//! 11), and the emitters shared with D.
//!
//! Add, subtract, multiply, divide, square root and the fused multiply-adds rounding to
//! nearest-even (static `rne`, or `dyn` with `frm` = RNE, which the TB flags fix) are the IR's
//! native FP ops: host floating point with IEEE flags accrued in the host and merged into
//! `fflags` (checked against SoftFloat's RISC-V build bit for bit in `tests/fpu_native.rs`).
//! Every other rounding mode, and conversions, comparisons, min/max and fclass, call SoftFloat
//! helpers (`super::super::helpers`), which accrue `fflags` directly. Sign injection and the moves are plain
//! bit operations on the registers. Operands of single-precision operations are unboxed (a
//! value whose upper 32 bits are not all ones reads as the canonical NaN, §12.2); results are
//! written NaN-boxed. Loads, stores and `fmv.x.w` transfer bits without looking at the boxing.
//! A reserved `rm` (5, 6) makes the instruction illegal at translation; `dyn` with `frm` > 4
//! raises illegal instruction at run time (§11.2).

use ir::{Builder, Cond, Opcode, Size, Ty, Value};

use super::super::decode::{ArgsI, ArgsR, ArgsR2, ArgsR2Rm, ArgsR4, ArgsRRm, ArgsS};
use super::super::helpers::{BOX, CANON_NAN_S, H};
use super::super::translate::{DisasContext, RNE};
use super::{gen_addr, mop};

type Ctx<'a, 'b> = &'a mut DisasContext<'b>;

/// FP load: `fd = mem[rs1 + imm]`, a single NaN-boxed.
pub(crate) fn gen_fload(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI, size: Size) -> bool {
    let addr = gen_addr(ctx, b, a.rs1, a.imm);
    let v = b.ld(Ty::I64, mop(size), addr);
    let v = if size == Size::S32 {
        let bx = b.i64(BOX);
        b.or(v, bx)
    } else {
        v
    };
    ctx.set_fpr(b, a.rd, v);
    true
}

/// FP store: the low `size` bits of `fs2`.
pub(crate) fn gen_fstore(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS, size: Size) -> bool {
    let addr = gen_addr(ctx, b, a.rs1, a.imm);
    let v = ctx.fpr(b, a.rs2);
    b.st(mop(size), addr, v);
    true
}

/// The native form of an arithmetic FP instruction: the IR op, the format, and which operands
/// of `fma(a, b, c)` are negated (fmsub: c; fnmsub: a; fnmadd: a and c; negation is exact).
#[derive(Clone, Copy)]
pub(crate) struct Native {
    pub op: Opcode,
    pub double: bool,
    pub neg_a: bool,
    pub neg_c: bool,
}

impl Native {
    pub const fn op(op: Opcode, double: bool) -> Self {
        Native { op, double, neg_a: false, neg_c: false }
    }
    pub const fn fma(double: bool, neg_a: bool, neg_c: bool) -> Self {
        Native { op: Opcode::Fma, double, neg_a, neg_c }
    }
}

/// Emits `native` on the registers `regs` (unboxing singles) and writes `rd` (boxing).
fn gen_native(ctx: &DisasContext<'_>, b: &mut Builder, n: Native, rd: u8, regs: &[u8]) {
    let mut v: Vec<Value> = regs
        .iter()
        .map(|&r| {
            let x = ctx.fpr(b, r);
            if n.double {
                x
            } else {
                let x = unbox(b, x);
                b.trunc(x)
            }
        })
        .collect();
    let sign = |b: &mut Builder, x: Value| {
        let s = if n.double { b.i64(1 << 63) } else { b.i32(0x8000_0000) };
        b.xor(x, s)
    };
    if n.neg_a {
        v[0] = sign(b, v[0]);
    }
    if n.neg_c {
        v[2] = sign(b, v[2]);
    }
    let r = match n.op {
        Opcode::Fsqrt => b.unary(Opcode::Fsqrt, v[0]),
        Opcode::Fma => b.fma(v[0], v[1], v[2]),
        op => b.binary(op, v[0], v[1]),
    };
    let r = if n.double {
        r
    } else {
        let w = b.extend_u(r);
        let bx = b.i64(BOX);
        b.or(w, bx)
    };
    ctx.set_fpr(b, rd, r);
}

/// `fd = h(fs1, fs2, rm)`, or the native op when it rounds to nearest-even.
pub(crate) fn gen_fop2(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm, h: H, native: Native) -> bool {
    let Some(r) = ctx.rounding(a.rm) else { return false };
    if r == RNE {
        gen_native(ctx, b, native, a.rd, &[a.rs1, a.rs2]);
        return true;
    }
    let rm = b.i64(r);
    let x = ctx.fpr(b, a.rs1);
    let y = ctx.fpr(b, a.rs2);
    let v = b.call(ctx.helper(h), &[x, y, rm]);
    ctx.set_fpr(b, a.rd, v);
    true
}

/// `fd = h(fs1, rm)`, or the native op when it rounds to nearest-even.
pub(crate) fn gen_fop1(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm, h: H, native: Option<Native>) -> bool {
    let Some(r) = ctx.rounding(a.rm) else { return false };
    if let (RNE, Some(n)) = (r, native) {
        gen_native(ctx, b, n, a.rd, &[a.rs1]);
        return true;
    }
    let rm = b.i64(r);
    let x = ctx.fpr(b, a.rs1);
    let v = b.call(ctx.helper(h), &[x, rm]);
    ctx.set_fpr(b, a.rd, v);
    true
}

/// `fd = h(fs1, fs2, fs3, rm)` (fused multiply-add family), or the native fma when it rounds
/// to nearest-even.
pub(crate) fn gen_fop3(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4, h: H, native: Native) -> bool {
    let Some(r) = ctx.rounding(a.rm) else { return false };
    if r == RNE {
        gen_native(ctx, b, native, a.rd, &[a.rs1, a.rs2, a.rs3]);
        return true;
    }
    let rm = b.i64(r);
    let x = ctx.fpr(b, a.rs1);
    let y = ctx.fpr(b, a.rs2);
    let z = ctx.fpr(b, a.rs3);
    let v = b.call(ctx.helper(h), &[x, y, z, rm]);
    ctx.set_fpr(b, a.rd, v);
    true
}

/// `fd = h(fs1, fs2)` with no rounding (fmin/fmax).
pub(crate) fn gen_fminmax(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR, h: H) -> bool {
    let x = ctx.fpr(b, a.rs1);
    let y = ctx.fpr(b, a.rs2);
    let v = b.call(ctx.helper(h), &[x, y]);
    ctx.set_fpr(b, a.rd, v);
    true
}

/// `rd = h(fs1, fs2)` (comparisons).
pub(crate) fn gen_fcmp(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR, h: H) -> bool {
    let x = ctx.fpr(b, a.rs1);
    let y = ctx.fpr(b, a.rs2);
    let v = b.call(ctx.helper(h), &[x, y]);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// `rd = h(fs1, rm)` (float to integer).
pub(crate) fn gen_fcvt_to_int(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm, h: H) -> bool {
    let Some(rm) = ctx.gen_rm(b, a.rm) else { return false };
    let x = ctx.fpr(b, a.rs1);
    let v = b.call(ctx.helper(h), &[x, rm]);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// `fd = h(rs1, rm)` (integer to float).
pub(crate) fn gen_fcvt_from_int(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm, h: H) -> bool {
    let Some(rm) = ctx.gen_rm(b, a.rm) else { return false };
    let x = ctx.gpr(b, a.rs1);
    let v = b.call(ctx.helper(h), &[x, rm]);
    ctx.set_fpr(b, a.rd, v);
    true
}

/// `rd = fclass(fs1)`.
pub(crate) fn gen_fclass(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2, h: H) -> bool {
    let x = ctx.fpr(b, a.rs1);
    let v = b.call(ctx.helper(h), &[x]);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// A single operand in boxed form: the register if properly NaN-boxed, else the boxed
/// canonical NaN (§12.2).
fn unbox(b: &mut Builder, v: Value) -> Value {
    let bx = b.i64(BOX);
    let ok = b.setcond(Cond::Geu, v, bx);
    let canon = b.i64(BOX | CANON_NAN_S as u64);
    b.select(ok, v, canon)
}

#[derive(Clone, Copy)]
pub(crate) enum Sgnj {
    Copy,
    Negate,
    Xor,
}

/// Sign injection (§11.6, §12.4): fd = fs1 with a sign from fs2; `sign` is the sign bit.
pub(crate) fn gen_fsgnj(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR, sign: u64, kind: Sgnj) -> bool {
    let mut x = ctx.fpr(b, a.rs1);
    let mut y = ctx.fpr(b, a.rs2);
    if sign == 0x8000_0000 {
        x = unbox(b, x);
        y = if a.rs2 == a.rs1 { x } else { unbox(b, y) };
    }
    let s = b.i64(sign);
    let ys = b.and(y, s);
    let v = match kind {
        Sgnj::Copy => {
            let xm = b.andn(x, s);
            b.or(xm, ys)
        }
        Sgnj::Negate => {
            let xm = b.andn(x, s);
            let ns = b.xor(ys, s);
            b.or(xm, ns)
        }
        Sgnj::Xor => b.xor(x, ys),
    };
    ctx.set_fpr(b, a.rd, v);
    true
}

pub(crate) fn trans_flw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_fload(ctx, b, a, Size::S32)
}
pub(crate) fn trans_fsw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_fstore(ctx, b, a, Size::S32)
}
pub(crate) fn trans_fmadd_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FmaddS, Native::fma(false, false, false))
}
pub(crate) fn trans_fmsub_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FmsubS, Native::fma(false, false, true))
}
pub(crate) fn trans_fnmsub_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FnmsubS, Native::fma(false, true, false))
}
pub(crate) fn trans_fnmadd_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FnmaddS, Native::fma(false, true, true))
}
pub(crate) fn trans_fadd_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FaddS, Native::op(Opcode::Fadd, false))
}
pub(crate) fn trans_fsub_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FsubS, Native::op(Opcode::Fsub, false))
}
pub(crate) fn trans_fmul_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FmulS, Native::op(Opcode::Fmul, false))
}
pub(crate) fn trans_fdiv_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FdivS, Native::op(Opcode::Fdiv, false))
}
pub(crate) fn trans_fsqrt_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fop1(ctx, b, a, H::FsqrtS, Some(Native::op(Opcode::Fsqrt, false)))
}
pub(crate) fn trans_fsgnj_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fsgnj(ctx, b, a, 0x8000_0000, Sgnj::Copy)
}
pub(crate) fn trans_fsgnjn_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fsgnj(ctx, b, a, 0x8000_0000, Sgnj::Negate)
}
pub(crate) fn trans_fsgnjx_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fsgnj(ctx, b, a, 0x8000_0000, Sgnj::Xor)
}
pub(crate) fn trans_fmin_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fminmax(ctx, b, a, H::FminS)
}
pub(crate) fn trans_fmax_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fminmax(ctx, b, a, H::FmaxS)
}
pub(crate) fn trans_fcvt_w_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_to_int(ctx, b, a, H::FcvtWS)
}
pub(crate) fn trans_fcvt_wu_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_to_int(ctx, b, a, H::FcvtWuS)
}
pub(crate) fn trans_fcvt_l_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_to_int(ctx, b, a, H::FcvtLS)
}
pub(crate) fn trans_fcvt_lu_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_to_int(ctx, b, a, H::FcvtLuS)
}
/// §11.7: the low 32 bits, sign-extended, whatever the boxing.
pub(crate) fn trans_fmv_x_w(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    let x = ctx.fpr(b, a.rs1);
    let v = b.sext(x, 32);
    ctx.set_gpr(b, a.rd, v);
    true
}
pub(crate) fn trans_feq_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fcmp(ctx, b, a, H::FeqS)
}
pub(crate) fn trans_flt_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fcmp(ctx, b, a, H::FltS)
}
pub(crate) fn trans_fle_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fcmp(ctx, b, a, H::FleS)
}
pub(crate) fn trans_fclass_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_fclass(ctx, b, a, H::FclassS)
}
pub(crate) fn trans_fcvt_s_w(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_from_int(ctx, b, a, H::FcvtSW)
}
pub(crate) fn trans_fcvt_s_wu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_from_int(ctx, b, a, H::FcvtSWu)
}
pub(crate) fn trans_fcvt_s_l(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_from_int(ctx, b, a, H::FcvtSL)
}
pub(crate) fn trans_fcvt_s_lu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_from_int(ctx, b, a, H::FcvtSLu)
}
/// §11.7: the low 32 bits of rs1, NaN-boxed.
pub(crate) fn trans_fmv_w_x(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let bx = b.i64(BOX);
    let v = b.or(x, bx);
    ctx.set_fpr(b, a.rd, v);
    true
}
