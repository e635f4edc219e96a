//! The `trans_*` functions, one per decoded mnemonic (QEMU's `insn_trans/trans_*.c.inc`), and
//! the emitters they share. Each returns false for an encoding that is reserved at this level
//! (e.g. a reserved rounding mode): the translator then raises an illegal instruction.
//! Compressed instructions arrive here already expanded by the 16-bit decode table, so there
//! is no RVC module.

mod rva;
mod rvd;
mod rvf;
mod rvi;
mod rvm;
mod zb;
mod zicsr;

pub(crate) use rva::*;
pub(crate) use rvd::*;
pub(crate) use rvf::*;
pub(crate) use rvi::*;
pub(crate) use rvm::*;
pub(crate) use zb::*;
pub(crate) use zicsr::*;

use ir::{Builder, Cond, MemOp, Size, Value};

use super::decode::{ArgsI, ArgsR, ArgsR2, ArgsS, ArgsShift};
use super::translate::{DisasContext, TE};

/// `rd = f(rs1, rs2)` on 64 bits.
pub(crate) fn gen_r(
    ctx: &mut DisasContext<'_>,
    b: &mut Builder,
    a: ArgsR,
    f: impl FnOnce(&mut Builder, Value, Value) -> Value,
) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let y = ctx.gpr(b, a.rs2);
    let v = f(b, x, y);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// `rd = sext32(f(rs1[31:0], rs2[31:0]))`: the RV64 `*w` forms (§5.2).
pub(crate) fn gen_rw(
    ctx: &mut DisasContext<'_>,
    b: &mut Builder,
    a: ArgsR,
    f: impl FnOnce(&mut Builder, Value, Value) -> Value,
) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let y = ctx.gpr(b, a.rs2);
    let (x, y) = (b.trunc(x), b.trunc(y));
    let v = f(b, x, y);
    let v = b.extend_s(v);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// `rd = f(rs1, imm)` on 64 bits.
pub(crate) fn gen_i(
    ctx: &mut DisasContext<'_>,
    b: &mut Builder,
    a: ArgsI,
    f: impl FnOnce(&mut Builder, Value, Value) -> Value,
) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let y = b.i64(a.imm as u64);
    let v = f(b, x, y);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// `rd = f(rs1, shamt)` on 64 bits.
pub(crate) fn gen_sh(
    ctx: &mut DisasContext<'_>,
    b: &mut Builder,
    a: ArgsShift,
    f: impl FnOnce(&mut Builder, Value, Value) -> Value,
) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let y = b.i64(a.shamt as u64);
    let v = f(b, x, y);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// `rd = sext32(f(rs1[31:0], shamt))`.
pub(crate) fn gen_shw(
    ctx: &mut DisasContext<'_>,
    b: &mut Builder,
    a: ArgsShift,
    f: impl FnOnce(&mut Builder, Value, Value) -> Value,
) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let x = b.trunc(x);
    let y = b.i32(a.shamt as u32);
    let v = f(b, x, y);
    let v = b.extend_s(v);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// `rd = f(rs1)`.
pub(crate) fn gen_unary(
    ctx: &mut DisasContext<'_>,
    b: &mut Builder,
    a: ArgsR2,
    f: impl FnOnce(&mut Builder, Value) -> Value,
) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let v = f(b, x);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// The effective address `rs1 + imm`.
pub(crate) fn gen_addr(ctx: &DisasContext<'_>, b: &mut Builder, rs1: u8, imm: i64) -> Value {
    let base = ctx.gpr(b, rs1);
    if imm == 0 {
        return base;
    }
    let off = b.i64(imm as u64);
    b.add(base, off)
}

/// A little-endian access of `size` (unaligned allowed: Linux emulates misaligned accesses).
pub(crate) const fn mop(size: Size) -> MemOp {
    MemOp::new(size, TE)
}

/// Integer load `rd = mem[rs1 + imm]` (§2.6).
pub(crate) fn gen_load(ctx: &mut DisasContext<'_>, b: &mut Builder, a: ArgsI, m: MemOp) -> bool {
    let addr = gen_addr(ctx, b, a.rs1, a.imm);
    let v = b.ld(ir::Ty::I64, m, addr);
    ctx.set_gpr(b, a.rd, v);
    true
}

/// Integer store `mem[rs1 + imm] = rs2` (§2.6).
pub(crate) fn gen_store(ctx: &mut DisasContext<'_>, b: &mut Builder, a: ArgsS, m: MemOp) -> bool {
    let addr = gen_addr(ctx, b, a.rs1, a.imm);
    let v = ctx.gpr(b, a.rs2);
    b.st(m, addr, v);
    true
}

/// Conditional branch (§2.5). The taken direction is a side exit; in a superblock translation
/// goes on with the fall-through instruction, unless the block has taken as many side exits
/// as its limits allow or would run out of chaining slots (one stays free for the block's
/// final exit); otherwise the fall-through direction ends the block.
pub(crate) fn gen_branch(ctx: &mut DisasContext<'_>, b: &mut Builder, a: ArgsS, cond: Cond) -> bool {
    let x = ctx.gpr(b, a.rs1);
    let y = ctx.gpr(b, a.rs2);
    let c = b.setcond(cond, x, y);
    let slot = ctx.slots_used;
    b.exit_if_chain(c, slot, ctx.pc.wrapping_add(a.imm as u64));
    ctx.slots_used += 1;
    if !(ctx.slots_used <= ctx.side_exits && ctx.slots_used + 1 < ir::backend::MAX_CHAIN_SLOTS) {
        b.goto_tb(ctx.slots_used, ctx.next_pc);
        ctx.slots_used += 1;
    }
    true
}
