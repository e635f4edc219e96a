//! M extension: multiplication and division (RISC-V Unprivileged ISA 20191213, chapter 7).
//! The IR's division ops already have RISC-V's results for division by zero (quotient all
//! ones, remainder the dividend) and for signed overflow (quotient MIN, remainder 0), Table 7.1.

use ir::Builder;

use super::super::decode::ArgsR;
use super::super::translate::DisasContext;
use super::{gen_r, gen_rw};

type Ctx<'a, 'b> = &'a mut DisasContext<'b>;

pub(crate) fn trans_mul(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.mul(x, y))
}
pub(crate) fn trans_mulh(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.mulh_s(x, y))
}
pub(crate) fn trans_mulhsu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.mulh_su(x, y))
}
pub(crate) fn trans_mulhu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.mulh_u(x, y))
}
pub(crate) fn trans_div(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.div_s(x, y))
}
pub(crate) fn trans_divu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.div_u(x, y))
}
pub(crate) fn trans_rem(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.rem_s(x, y))
}
pub(crate) fn trans_remu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.rem_u(x, y))
}
pub(crate) fn trans_mulw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.mul(x, y))
}
pub(crate) fn trans_divw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.div_s(x, y))
}
pub(crate) fn trans_divuw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.div_u(x, y))
}
pub(crate) fn trans_remw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.rem_s(x, y))
}
pub(crate) fn trans_remuw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.rem_u(x, y))
}
