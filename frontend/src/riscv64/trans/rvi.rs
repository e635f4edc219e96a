//! RV32I/RV64I base integer instructions (RISC-V Unprivileged ISA 20191213, chapters 2 and 5)
//! and Zifencei (chapter 3). Compressed forms reach these through the RVC table.

use ir::{Builder, Cond, Size};

use super::super::decode::{ArgsEmpty, ArgsFence, ArgsI, ArgsR, ArgsS, ArgsShift, ArgsU};
use super::super::translate::DisasContext;
use super::super::{EXC_BREAKPOINT, EXC_ECALL};
use super::{gen_branch, gen_i, gen_load, gen_r, gen_rw, gen_sh, gen_shw, gen_store, mop};

type Ctx<'a, 'b> = &'a mut DisasContext<'b>;

/// §2.4: rd = imm << 12.
pub(crate) fn trans_lui(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsU) -> bool {
    let v = b.i64(a.imm as u64);
    ctx.set_gpr(b, a.rd, v);
    true
}
/// §2.4: rd = pc + (imm << 12).
pub(crate) fn trans_auipc(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsU) -> bool {
    let v = b.i64(ctx.pc.wrapping_add(a.imm as u64));
    ctx.set_gpr(b, a.rd, v);
    true
}
/// §2.5: rd = pc + len; jump to pc + imm (chainable, or continued in the block: `Follow`).
pub(crate) fn trans_jal(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsU) -> bool {
    let link = b.i64(ctx.next_pc);
    ctx.set_gpr(b, a.rd, link);
    let target = ctx.pc.wrapping_add(a.imm as u64);
    if ctx.follow.is_some_and(|f| f.allows(target)) {
        ctx.redirect = Some(target);
    } else {
        b.goto_tb(ctx.slots_used, target);
    }
    true
}
/// §2.5: target = (rs1 + imm) & !1 (read before rd is written); rd = pc + len.
pub(crate) fn trans_jalr(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    let base = ctx.gpr(b, a.rs1);
    let off = b.i64(a.imm as u64);
    let t = b.add(base, off);
    let m = b.i64(!1);
    let t = b.and(t, m);
    let link = b.i64(ctx.next_pc);
    ctx.set_gpr(b, a.rd, link);
    b.goto_ptr(t);
    true
}
pub(crate) fn trans_beq(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_branch(ctx, b, a, Cond::Eq)
}
pub(crate) fn trans_bne(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_branch(ctx, b, a, Cond::Ne)
}
pub(crate) fn trans_blt(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_branch(ctx, b, a, Cond::Lt)
}
pub(crate) fn trans_bge(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_branch(ctx, b, a, Cond::Ge)
}
pub(crate) fn trans_bltu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_branch(ctx, b, a, Cond::Ltu)
}
pub(crate) fn trans_bgeu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_branch(ctx, b, a, Cond::Geu)
}
pub(crate) fn trans_lb(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_load(ctx, b, a, mop(Size::S8).sext())
}
pub(crate) fn trans_lh(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_load(ctx, b, a, mop(Size::S16).sext())
}
pub(crate) fn trans_lw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_load(ctx, b, a, mop(Size::S32).sext())
}
pub(crate) fn trans_ld(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_load(ctx, b, a, mop(Size::S64))
}
pub(crate) fn trans_lbu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_load(ctx, b, a, mop(Size::S8))
}
pub(crate) fn trans_lhu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_load(ctx, b, a, mop(Size::S16))
}
pub(crate) fn trans_lwu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_load(ctx, b, a, mop(Size::S32))
}
pub(crate) fn trans_sb(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_store(ctx, b, a, mop(Size::S8))
}
pub(crate) fn trans_sh(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_store(ctx, b, a, mop(Size::S16))
}
pub(crate) fn trans_sw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_store(ctx, b, a, mop(Size::S32))
}
pub(crate) fn trans_sd(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsS) -> bool {
    gen_store(ctx, b, a, mop(Size::S64))
}
pub(crate) fn trans_addi(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_i(ctx, b, a, |b, x, y| b.add(x, y))
}
pub(crate) fn trans_slti(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_i(ctx, b, a, |b, x, y| b.setcond(Cond::Lt, x, y))
}
/// §2.4: the immediate is sign-extended, then compared unsigned.
pub(crate) fn trans_sltiu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_i(ctx, b, a, |b, x, y| b.setcond(Cond::Ltu, x, y))
}
pub(crate) fn trans_xori(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_i(ctx, b, a, |b, x, y| b.xor(x, y))
}
pub(crate) fn trans_ori(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_i(ctx, b, a, |b, x, y| b.or(x, y))
}
pub(crate) fn trans_andi(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    gen_i(ctx, b, a, |b, x, y| b.and(x, y))
}
pub(crate) fn trans_slli(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, |b, x, y| b.shl(x, y))
}
pub(crate) fn trans_srli(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, |b, x, y| b.shr_u(x, y))
}
pub(crate) fn trans_srai(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_sh(ctx, b, a, |b, x, y| b.shr_s(x, y))
}
pub(crate) fn trans_add(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.add(x, y))
}
pub(crate) fn trans_sub(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.sub(x, y))
}
/// §5.2: shift amounts are rs2[5:0] (the IR takes them modulo 64).
pub(crate) fn trans_sll(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.shl(x, y))
}
pub(crate) fn trans_slt(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.setcond(Cond::Lt, x, y))
}
pub(crate) fn trans_sltu(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.setcond(Cond::Ltu, x, y))
}
pub(crate) fn trans_xor(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.xor(x, y))
}
pub(crate) fn trans_srl(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.shr_u(x, y))
}
pub(crate) fn trans_sra(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.shr_s(x, y))
}
pub(crate) fn trans_or(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.or(x, y))
}
pub(crate) fn trans_and(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_r(ctx, b, a, |b, x, y| b.and(x, y))
}
/// §2.7: every fence (including fence.tso and pause) is a full barrier here.
pub(crate) fn trans_fence(_ctx: Ctx<'_, '_>, b: &mut Builder, _a: ArgsFence) -> bool {
    b.fence();
    true
}
/// Zifencei, §3: ends the block so that the next instruction is fetched (and translated)
/// afresh; stores to translated code already invalidated it.
pub(crate) fn trans_fence_i(ctx: Ctx<'_, '_>, b: &mut Builder, _a: ArgsEmpty) -> bool {
    ctx.gen_goto_next(b);
    true
}
/// §2.8: environment call; the runtime (linux-user) handles it and advances the pc.
pub(crate) fn trans_ecall(_ctx: Ctx<'_, '_>, b: &mut Builder, _a: ArgsEmpty) -> bool {
    let z = b.i64(0);
    b.raise(EXC_ECALL, z);
    true
}
/// §2.8: breakpoint (auxiliary value: the pc, as mtval).
pub(crate) fn trans_ebreak(ctx: Ctx<'_, '_>, b: &mut Builder, _a: ArgsEmpty) -> bool {
    let pc = b.i64(ctx.pc);
    b.raise(EXC_BREAKPOINT, pc);
    true
}
pub(crate) fn trans_addiw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsI) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let y = b.i64(a.imm as u64);
    let v = b.add(x, y);
    let v = b.sext(v, 32);
    ctx.set_gpr(b, a.rd, v);
    true
}
pub(crate) fn trans_slliw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_shw(ctx, b, a, |b, x, y| b.shl(x, y))
}
pub(crate) fn trans_srliw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_shw(ctx, b, a, |b, x, y| b.shr_u(x, y))
}
pub(crate) fn trans_sraiw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsShift) -> bool {
    gen_shw(ctx, b, a, |b, x, y| b.shr_s(x, y))
}
pub(crate) fn trans_addw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.add(x, y))
}
pub(crate) fn trans_subw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.sub(x, y))
}
/// §5.2: shift amounts are rs2[4:0] (the i32 IR shift takes them modulo 32).
pub(crate) fn trans_sllw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.shl(x, y))
}
pub(crate) fn trans_srlw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.shr_u(x, y))
}
pub(crate) fn trans_sraw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsR) -> bool {
    gen_rw(ctx, b, a, |b, x, y| b.shr_s(x, y))
}
