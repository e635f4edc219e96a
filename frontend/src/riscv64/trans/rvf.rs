//! F extension: single-precision floating point (RISC-V Unprivileged ISA 20191213, chapter
//! 11), and the emitters shared with D.
//!
//! Arithmetic, conversions, comparisons, min/max and fclass call SoftFloat helpers
//! (`super::super::helpers`), which accrue `fflags`. Sign injection and the moves are plain
//! bit operations on the registers. Operands of single-precision operations are unboxed (a
//! value whose upper 32 bits are not all ones reads as the canonical NaN, §12.2); results are
//! written NaN-boxed. Loads, stores and `fmv.x.w` transfer bits without looking at the boxing.
//! A reserved `rm` (5, 6) makes the instruction illegal at translation; `dyn` with `frm` > 4
//! raises illegal instruction at run time (§11.2).

use ir::{Builder, Cond, Size, Ty, Value};

use super::super::decode::{ArgsI, ArgsR, ArgsR2, ArgsR2Rm, ArgsR4, ArgsRRm, ArgsS};
use super::super::helpers::{BOX, CANON_NAN_S, H};
use super::super::translate::DisasContext;
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

/// `fd = h(fs1, fs2, rm)`.
pub(crate) fn gen_fop2(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm, h: H) -> bool {
    let Some(rm) = ctx.gen_rm(b, a.rm) else { return false };
    let x = ctx.fpr(b, a.rs1);
    let y = ctx.fpr(b, a.rs2);
    let v = b.call(ctx.helper(h), &[x, y, rm]);
    ctx.set_fpr(b, a.rd, v);
    true
}

/// `fd = h(fs1, rm)`.
pub(crate) fn gen_fop1(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm, h: H) -> bool {
    let Some(rm) = ctx.gen_rm(b, a.rm) else { return false };
    let x = ctx.fpr(b, a.rs1);
    let v = b.call(ctx.helper(h), &[x, rm]);
    ctx.set_fpr(b, a.rd, v);
    true
}

/// `fd = h(fs1, fs2, fs3, rm)` (fused multiply-add family).
pub(crate) fn gen_fop3(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4, h: H) -> bool {
    let Some(rm) = ctx.gen_rm(b, a.rm) else { return false };
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
    gen_fop3(ctx, b, a, H::FmaddS)
}
pub(crate) fn trans_fmsub_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FmsubS)
}
pub(crate) fn trans_fnmsub_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FnmsubS)
}
pub(crate) fn trans_fnmadd_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FnmaddS)
}
pub(crate) fn trans_fadd_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FaddS)
}
pub(crate) fn trans_fsub_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FsubS)
}
pub(crate) fn trans_fmul_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FmulS)
}
pub(crate) fn trans_fdiv_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FdivS)
}
pub(crate) fn trans_fsqrt_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fop1(ctx, b, a, H::FsqrtS)
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
