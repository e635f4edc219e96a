//! Zicsr (RISC-V Unprivileged ISA 20191213, chapter 9) for the CSRs a user-level program can
//! reach: `fflags`, `frm`, `fcsr` (§11.2) and the read-only counters `cycle`, `time`,
//! `instret` (§10.1). Every other CSR number is an illegal instruction, and so is a write to a
//! read-only counter.
//!
//! §9.1: CSRRW with rd = x0 does not read; CSRRS/CSRRC with rs1 = x0 (and the immediate forms
//! with uimm = 0) do not write. The FP CSRs are the `fflags` and `frm` globals (fcsr is their
//! concatenation); writing `frm` ends the block (`exit_tb`) because `frm` is part of the TB
//! flags, and reading `fflags` first merges the flags the native FP ops accrued (`fpflags`);
//! run time.

use ir::{Builder, Value};

use super::super::decode::ArgsCsr;
use super::super::helpers::H;
use super::super::translate::DisasContext;

type Ctx<'a, 'b> = &'a mut DisasContext<'b>;

const FFLAGS: u16 = 0x001;
const FRM: u16 = 0x002;
const FCSR: u16 = 0x003;
const CYCLE: u16 = 0xc00;
const TIME: u16 = 0xc01;
const INSTRET: u16 = 0xc02;

#[derive(Clone, Copy)]
enum CsrOp {
    Write,
    Set,
    Clear,
}

/// `fflags` including the flags the native FP ops accrued in the host since the last sync
/// (it writes the merged value back, so that the global is complete).
fn gen_sync_fflags(ctx: &DisasContext<'_>, b: &mut Builder) -> Value {
    let pending = b.fpflags();
    let fl = b.get(ctx.g().fflags);
    let fl = b.or(fl, pending);
    b.set(ctx.g().fflags, fl);
    fl
}

fn read_csr(ctx: &DisasContext<'_>, b: &mut Builder, csr: u16) -> Value {
    match csr {
        FFLAGS => gen_sync_fflags(ctx, b),
        FRM => b.get(ctx.g().frm),
        FCSR => {
            let fl = gen_sync_fflags(ctx, b);
            let rm = b.get(ctx.g().frm);
            let five = b.i64(5);
            let rm = b.shl(rm, five);
            b.or(rm, fl)
        }
        CYCLE => b.call(ctx.helper(H::Rdcycle), &[]),
        TIME => b.call(ctx.helper(H::Rdtime), &[]),
        _ => b.get(ctx.g().instret),
    }
}

fn write_csr(ctx: &DisasContext<'_>, b: &mut Builder, csr: u16, v: Value) {
    let mask = |b: &mut Builder, v: Value, m: u64| {
        let m = b.i64(m);
        b.and(v, m)
    };
    if matches!(csr, FFLAGS | FCSR) {
        // drop flags the native FP ops accrued before this write (they precede it)
        b.fpflags();
    }
    match csr {
        FFLAGS => {
            let v = mask(b, v, 0x1f);
            b.set(ctx.g().fflags, v);
        }
        FRM => {
            let v = mask(b, v, 7);
            b.set(ctx.g().frm, v);
        }
        _ => {
            let fl = mask(b, v, 0x1f);
            b.set(ctx.g().fflags, fl);
            let five = b.i64(5);
            let rm = b.shr_u(v, five);
            let rm = mask(b, rm, 7);
            b.set(ctx.g().frm, rm);
        }
    }
}

/// One CSR instruction; `src` is the rs1 value or the zero-extended immediate, `writes`
/// whether the instruction writes the CSR at all.
fn gen_csr(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsCsr, src: Value, op: CsrOp, writes: bool) -> bool {
    let known = matches!(a.csr, FFLAGS | FRM | FCSR | CYCLE | TIME | INSTRET);
    let read_only = matches!(a.csr, CYCLE | TIME | INSTRET);
    if !known || (writes && read_only) {
        return false;
    }
    let reads = a.rd != 0 || !matches!(op, CsrOp::Write);
    let old = if reads { Some(read_csr(ctx, b, a.csr)) } else { None };
    if writes {
        let new = match (op, old) {
            (CsrOp::Write, _) => src,
            (CsrOp::Set, Some(o)) => b.or(o, src),
            (CsrOp::Clear, Some(o)) => b.andn(o, src),
            (_, None) => unreachable!("set/clear always read the old value"),
        };
        write_csr(ctx, b, a.csr, new);
    }
    if let Some(o) = old {
        ctx.set_gpr(b, a.rd, o);
    }
    if writes && matches!(a.csr, FRM | FCSR) {
        // frm is part of the TB flags: continue at the next instruction under the new ones
        let next = b.i64(ctx.next_pc);
        b.exit_tb(next);
    }
    true
}

pub(crate) fn trans_csrrw(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsCsr) -> bool {
    let s = ctx.gpr(b, a.rs1);
    gen_csr(ctx, b, a, s, CsrOp::Write, true)
}
pub(crate) fn trans_csrrs(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsCsr) -> bool {
    let s = ctx.gpr(b, a.rs1);
    gen_csr(ctx, b, a, s, CsrOp::Set, a.rs1 != 0)
}
pub(crate) fn trans_csrrc(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsCsr) -> bool {
    let s = ctx.gpr(b, a.rs1);
    gen_csr(ctx, b, a, s, CsrOp::Clear, a.rs1 != 0)
}
pub(crate) fn trans_csrrwi(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsCsr) -> bool {
    let s = b.i64(a.rs1 as u64);
    gen_csr(ctx, b, a, s, CsrOp::Write, true)
}
pub(crate) fn trans_csrrsi(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsCsr) -> bool {
    let s = b.i64(a.rs1 as u64);
    gen_csr(ctx, b, a, s, CsrOp::Set, a.rs1 != 0)
}
pub(crate) fn trans_csrrci(ctx: Ctx<'_, '_>, b: &mut Builder, a: ArgsCsr) -> bool {
    let s = b.i64(a.rs1 as u64);
    gen_csr(ctx, b, a, s, CsrOp::Clear, a.rs1 != 0)
}
