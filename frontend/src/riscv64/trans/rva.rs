//! A extension: load-reserved/store-conditional and atomic memory operations (RISC-V
//! Unprivileged ISA 20191213, chapter 8).
//!
//! All of them require natural alignment (`MemOp::aligned`). AMOs map to `atomic_rmw`, which
//! the backends implement with sequentially consistent host atomics, so their aq/rl bits need
//! no extra fence. LR is a plain load that records the reservation (`res_addr`, `res_val`);
//! rl orders it after earlier accesses (fence before), aq before later ones (fence after).
//!
//! SC follows QEMU's user-mode approach: it succeeds when its address is the reserved one and
//! memory still holds the reserved value, checked and written by one `cmpxchg`, and it always
//! clears the reservation. With no labels in the IR, the address check selects the value
//! written instead of skipping the access: on a mismatch SC performs `cmpxchg(addr,
//! res_val, res_val)`, which never changes memory, and reports failure. (So a failing SC still
//! checks that the address is aligned and writable, as Spike does.)

use ir::{AtomicOp, Builder, Cond, MemOp, Size, Ty};

use super::super::decode::ArgsAtomic;
use super::super::translate::DisasContext;
use super::mop;

type Ctx<'a, 'b> = &'a mut DisasContext<'b>;

fn amo_mop(size: Size) -> MemOp {
    mop(size).sext().aligned()
}

/// §8.2: LR.W/LR.D.
fn gen_lr(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsAtomic, size: Size) -> bool {
    if a.rl != 0 {
        b.fence();
    }
    let addr = ctx.gpr(b, a.rs1);
    let v = b.ld(Ty::I64, amo_mop(size), addr);
    b.set(ctx.g().res_addr, addr);
    b.set(ctx.g().res_val, v);
    ctx.set_gpr(b, a.rd, v);
    if a.aq != 0 {
        b.fence();
    }
    true
}

/// §8.2: SC.W/SC.D; rd = 0 on success, 1 on failure.
fn gen_sc(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsAtomic, size: Size) -> bool {
    let addr = ctx.gpr(b, a.rs1);
    let src = ctx.gpr(b, a.rs2);
    let ra = b.get(ctx.g().res_addr);
    let rv = b.get(ctx.g().res_val);
    let hit = b.setcond(Cond::Eq, addr, ra);
    let new = b.select(hit, src, rv);
    let old = b.cmpxchg(Ty::I64, amo_mop(size), addr, rv, new);
    let same = b.setcond(Cond::Eq, old, rv);
    let ok = b.and(hit, same);
    let one = b.i64(1);
    let fail = b.xor(ok, one);
    let none = b.i64(u64::MAX);
    b.set(ctx.g().res_addr, none);
    ctx.set_gpr(b, a.rd, fail);
    true
}

/// §8.4: rd = old memory value (sign-extended for .W); memory = op(old, rs2).
fn gen_amo(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsAtomic, size: Size, op: AtomicOp) -> bool {
    let addr = ctx.gpr(b, a.rs1);
    let src = ctx.gpr(b, a.rs2);
    let old = b.atomic_rmw(Ty::I64, op, amo_mop(size), addr, src);
    ctx.set_gpr(b, a.rd, old);
    true
}

macro_rules! amo {
    ($($name:ident = $size:ident, $op:ident;)*) => {$(
        pub(crate) fn $name(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsAtomic) -> bool {
            gen_amo(ctx, b, a, Size::$size, AtomicOp::$op)
        }
    )*};
}

amo! {
    trans_amoswap_w = S32, Xchg;
    trans_amoadd_w = S32, Add;
    trans_amoxor_w = S32, Xor;
    trans_amoand_w = S32, And;
    trans_amoor_w = S32, Or;
    trans_amomin_w = S32, Smin;
    trans_amomax_w = S32, Smax;
    trans_amominu_w = S32, Umin;
    trans_amomaxu_w = S32, Umax;
    trans_amoswap_d = S64, Xchg;
    trans_amoadd_d = S64, Add;
    trans_amoxor_d = S64, Xor;
    trans_amoand_d = S64, And;
    trans_amoor_d = S64, Or;
    trans_amomin_d = S64, Smin;
    trans_amomax_d = S64, Smax;
    trans_amominu_d = S64, Umin;
    trans_amomaxu_d = S64, Umax;
}

pub(crate) fn trans_lr_w(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsAtomic) -> bool {
    gen_lr(ctx, b, a, Size::S32)
}
pub(crate) fn trans_lr_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsAtomic) -> bool {
    gen_lr(ctx, b, a, Size::S64)
}
pub(crate) fn trans_sc_w(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsAtomic) -> bool {
    gen_sc(ctx, b, a, Size::S32)
}
pub(crate) fn trans_sc_d(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsAtomic) -> bool {
    gen_sc(ctx, b, a, Size::S64)
}
