//! D extension: double-precision floating point (RISC-V Unprivileged ISA 20191213, chapter
//! 12). The emitters are shared with F (`super::rvf`).

use ir::{Builder, Opcode, Size};

use super::super::decode::{ArgsI, ArgsR, ArgsR2, ArgsR2Rm, ArgsR4, ArgsRRm, ArgsS};
use super::super::helpers::H;
use super::super::translate::DisasContext;
use super::rvf::{
    gen_fclass, gen_fcmp, gen_fcvt_from_int, gen_fcvt_to_int, gen_fload, gen_fminmax, gen_fop1, gen_fop2, gen_fop3,
    gen_fsgnj, gen_fstore, Native, Sgnj,
};

type Ctx<'a, 'b> = &'a mut DisasContext<'b>;

const SIGN: u64 = 1 << 63;

pub(crate) fn trans_fld(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_fload(ctx, b, a, Size::S64)
}
pub(crate) fn trans_fsd(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_fstore(ctx, b, a, Size::S64)
}
pub(crate) fn trans_fmadd_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FmaddD, Native::fma(true, false, false))
}
pub(crate) fn trans_fmsub_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FmsubD, Native::fma(true, false, true))
}
pub(crate) fn trans_fnmsub_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FnmsubD, Native::fma(true, true, false))
}
pub(crate) fn trans_fnmadd_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR4) -> bool {
    gen_fop3(ctx, b, a, H::FnmaddD, Native::fma(true, true, true))
}
pub(crate) fn trans_fadd_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FaddD, Native::op(Opcode::Fadd, true))
}
pub(crate) fn trans_fsub_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FsubD, Native::op(Opcode::Fsub, true))
}
pub(crate) fn trans_fmul_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FmulD, Native::op(Opcode::Fmul, true))
}
pub(crate) fn trans_fdiv_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsRRm) -> bool {
    gen_fop2(ctx, b, a, H::FdivD, Native::op(Opcode::Fdiv, true))
}
pub(crate) fn trans_fsqrt_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fop1(ctx, b, a, H::FsqrtD, Some(Native::op(Opcode::Fsqrt, true)))
}
pub(crate) fn trans_fsgnj_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fsgnj(ctx, b, a, SIGN, Sgnj::Copy)
}
pub(crate) fn trans_fsgnjn_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fsgnj(ctx, b, a, SIGN, Sgnj::Negate)
}
pub(crate) fn trans_fsgnjx_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fsgnj(ctx, b, a, SIGN, Sgnj::Xor)
}
pub(crate) fn trans_fmin_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fminmax(ctx, b, a, H::FminD)
}
pub(crate) fn trans_fmax_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fminmax(ctx, b, a, H::FmaxD)
}
/// §12.5: double to single, rounded; NaNs become the canonical NaN.
pub(crate) fn trans_fcvt_s_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fop1(ctx, b, a, H::FcvtSD, None)
}
/// §12.5: single to double (exact; the rm field must still be valid).
pub(crate) fn trans_fcvt_d_s(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fop1(ctx, b, a, H::FcvtDS, None)
}
pub(crate) fn trans_feq_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fcmp(ctx, b, a, H::FeqD)
}
pub(crate) fn trans_flt_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fcmp(ctx, b, a, H::FltD)
}
pub(crate) fn trans_fle_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_fcmp(ctx, b, a, H::FleD)
}
pub(crate) fn trans_fclass_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_fclass(ctx, b, a, H::FclassD)
}
pub(crate) fn trans_fcvt_w_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_to_int(ctx, b, a, H::FcvtWD)
}
pub(crate) fn trans_fcvt_wu_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_to_int(ctx, b, a, H::FcvtWuD)
}
pub(crate) fn trans_fcvt_l_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_to_int(ctx, b, a, H::FcvtLD)
}
pub(crate) fn trans_fcvt_lu_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_to_int(ctx, b, a, H::FcvtLuD)
}
pub(crate) fn trans_fcvt_d_w(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_from_int(ctx, b, a, H::FcvtDW)
}
pub(crate) fn trans_fcvt_d_wu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_from_int(ctx, b, a, H::FcvtDWu)
}
pub(crate) fn trans_fcvt_d_l(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_from_int(ctx, b, a, H::FcvtDL)
}
pub(crate) fn trans_fcvt_d_lu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2Rm) -> bool {
    gen_fcvt_from_int(ctx, b, a, H::FcvtDLu)
}
/// §12.6: raw bit moves.
pub(crate) fn trans_fmv_x_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    let x = ctx.fpr(b, a.rs1);
    ctx.set_gpr(b, a.rd, x);
    true
}
pub(crate) fn trans_fmv_d_x(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    let x = ctx.gpr(b, a.rs1);
    ctx.set_fpr(b, a.rd, x);
    true
}
