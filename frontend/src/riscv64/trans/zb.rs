//! Zba, Zbb and Zbs (RISC-V Bit-Manipulation ISA-extensions 1.0.0, chapter 2): address
//! generation, basic bit manipulation and single-bit instructions, RV64 forms included.

use ir::{Builder, Value};

use super::super::decode::{ArgsR, ArgsR2, ArgsShift};
use super::super::translate::DisasContext;
use super::{gen_r, gen_rw, gen_sh, gen_shw, gen_unary};

type Ctx<'a, 'b> = &'a mut DisasContext<'b>;

fn zext32(b: &mut Builder, x: Value) -> Value {
    b.zext(x, 32)
}

fn shadd(b: &mut Builder, x: Value, y: Value, n: u64, uw: bool) -> Value {
    let x = if uw { zext32(b, x) } else { x };
    let x = if n == 0 {
        x
    } else {
        let s = b.i64(n);
        b.shl(x, s)
    };
    b.add(x, y)
}

pub(crate) fn trans_sh1add(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| shadd(b, x, y, 1, false))
}
pub(crate) fn trans_sh2add(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| shadd(b, x, y, 2, false))
}
pub(crate) fn trans_sh3add(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| shadd(b, x, y, 3, false))
}
pub(crate) fn trans_add_uw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| shadd(b, x, y, 0, true))
}
pub(crate) fn trans_sh1add_uw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| shadd(b, x, y, 1, true))
}
pub(crate) fn trans_sh2add_uw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| shadd(b, x, y, 2, true))
}
pub(crate) fn trans_sh3add_uw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| shadd(b, x, y, 3, true))
}
pub(crate) fn trans_slli_uw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, |b, x, y| {
        let x = zext32(b, x);
        b.shl(x, y)
    })
}
pub(crate) fn trans_andn(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.andn(x, y))
}
pub(crate) fn trans_orn(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.orn(x, y))
}
pub(crate) fn trans_xnor(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.xnor(x, y))
}
pub(crate) fn trans_clz(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| b.clz(x))
}
pub(crate) fn trans_ctz(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| b.ctz(x))
}
pub(crate) fn trans_cpop(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| b.popcnt(x))
}
fn unary_w(b: &mut Builder, x: Value, f: impl FnOnce(&mut Builder, Value) -> Value) -> Value {
    let x = b.trunc(x);
    let v = f(b, x);
    b.extend_u(v)
}
pub(crate) fn trans_clzw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| unary_w(b, x, |b, x| b.clz(x)))
}
pub(crate) fn trans_ctzw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| unary_w(b, x, |b, x| b.ctz(x)))
}
pub(crate) fn trans_cpopw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| unary_w(b, x, |b, x| b.popcnt(x)))
}
pub(crate) fn trans_max(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.max_s(x, y))
}
pub(crate) fn trans_maxu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.max_u(x, y))
}
pub(crate) fn trans_min(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.min_s(x, y))
}
pub(crate) fn trans_minu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.min_u(x, y))
}
pub(crate) fn trans_sext_b(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| b.sext(x, 8))
}
pub(crate) fn trans_sext_h(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| b.sext(x, 16))
}
pub(crate) fn trans_zext_h(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| b.zext(x, 16))
}
pub(crate) fn trans_rol(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.rotl(x, y))
}
pub(crate) fn trans_ror(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.rotr(x, y))
}
pub(crate) fn trans_rori(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, |b, x, y| b.rotr(x, y))
}
pub(crate) fn trans_rolw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.rotl(x, y))
}
pub(crate) fn trans_rorw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.rotr(x, y))
}
pub(crate) fn trans_roriw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_shw(ctx, b, a, |b, x, y| b.rotr(x, y))
}
/// orc.b: each byte becomes 0xff if it is non-zero, else 0x00. Without a byte op in the IR:
/// `((x & 0x7f..) + 0x7f..) | x` has each byte's top bit set iff the byte is non-zero; those
/// bits, moved to bit 0 of each byte and multiplied by 0xff, give the result (no carries cross
/// bytes).
pub(crate) fn trans_orc_b(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| {
        let m7 = b.i64(0x7f7f_7f7f_7f7f_7f7f);
        let low = b.and(x, m7);
        let t = b.add(low, m7);
        let t = b.or(t, x);
        let m8 = b.i64(0x8080_8080_8080_8080);
        let t = b.and(t, m8);
        let seven = b.i64(7);
        let t = b.shr_u(t, seven);
        let ff = b.i64(0xff);
        b.mul(t, ff)
    })
}
pub(crate) fn trans_rev8(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR2) -> bool {
    gen_unary(ctx, b, a, |b, x| b.bswap(x))
}

/// 1 << (n mod 64).
fn bit(b: &mut Builder, n: Value) -> Value {
    let one = b.i64(1);
    b.shl(one, n)
}

pub(crate) fn trans_bclr(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| {
        let m = bit(b, y);
        b.andn(x, m)
    })
}
pub(crate) fn trans_bclri(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, |b, x, y| {
        let m = bit(b, y);
        b.andn(x, m)
    })
}
pub(crate) fn trans_bset(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| {
        let m = bit(b, y);
        b.or(x, m)
    })
}
pub(crate) fn trans_bseti(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, |b, x, y| {
        let m = bit(b, y);
        b.or(x, m)
    })
}
pub(crate) fn trans_binv(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| {
        let m = bit(b, y);
        b.xor(x, m)
    })
}
pub(crate) fn trans_binvi(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, |b, x, y| {
        let m = bit(b, y);
        b.xor(x, m)
    })
}
fn bext(b: &mut Builder, x: Value, y: Value) -> Value {
    let t = b.shr_u(x, y);
    let one = b.i64(1);
    b.and(t, one)
}
pub(crate) fn trans_bext(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, bext)
}
pub(crate) fn trans_bexti(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, bext)
}
