//! The RISC-V 64 translator: the [`Frontend`] implementation, the per-instruction context
//! ([`DisasContext`]) and the emitters shared by the `trans_*` functions (QEMU's
//! `target/riscv/translate.c`).
//!
//! A block is straight-line IR: each guest instruction starts with `insn_start(pc)` (exceptions
//! recover the pc from it; the pc global is only written by block exits), is decoded by the
//! tables in [`super::decode`] and emitted by its `trans_*` function. A block ends at a jump or
//! branch, `ecall`/`ebreak`, `fence.i`, `sc`, an illegal instruction, after
//! [`TranslateLimits::max_insns`] instructions, or before an instruction that starts on another
//! page than the first (an instruction may straddle into the next page). A fetch fault on the
//! first instruction raises [`EXC_FETCH_FAULT`] with the failing address; on a later one the
//! block ends before that instruction. An undecodable or unsupported instruction raises
//! [`EXC_ILLEGAL_INSN`] with its bits as the auxiliary value (mtval).
//!
//! Guest registers: `x1`..`x31` (x0 reads as the constant 0; writes to it are dropped),
//! `f0`..`f31`, `pc`, `fflags`, `frm`, `res_addr`, `res_val`, `instret`, all i64 globals at
//! `EnvHeader::SIZE + offset_of!(Rv64State, field)`.
//!
//! Not here: privileged state (no S/M mode, no MMU: user level only), misaligned-access traps
//! (Linux emulates them, so loads and stores are unaligned-capable), the vector extension.

use ir::backend::{EnvHeader, EXC_FETCH_FAULT};
use ir::{Builder, Decls, Endian, GlobalId, HelperId, Ty, Value};

use super::decode::{self, insn_len};
use super::helpers::{self, H};
use super::state::Rv64State;
use super::{disas, EXC_ILLEGAL_INSN};
use crate::{Arch, CodeReader, Frontend, TranslateLimits};

/// Byte order of data accesses and instruction fetch (RISC-V Unprivileged ISA 20191213, §1.5).
pub const TE: Endian = Endian::Little;

/// Guest page size that blocks may not cross at an instruction start.
const PAGE: u64 = 4096;

/// The guest registers as IR globals.
#[derive(Clone, Debug)]
pub struct Globals {
    /// x0..x31 (`x[0]` is never used: x0 is the constant 0).
    pub x: [GlobalId; 32],
    /// f0..f31.
    pub f: [GlobalId; 32],
    /// Program counter.
    pub pc: GlobalId,
    /// Accrued FP exception flags.
    pub fflags: GlobalId,
    /// Dynamic rounding mode.
    pub frm: GlobalId,
    /// LR/SC reservation address (u64::MAX: none).
    pub res_addr: GlobalId,
    /// LR/SC reserved value.
    pub res_val: GlobalId,
    /// Retired-instruction estimate.
    pub instret: GlobalId,
}

/// The RISC-V 64 frontend (RV64IMAFDC + Zicsr, Zifencei, Zba, Zbb, Zbs, user level).
#[derive(Debug)]
pub struct Riscv64 {
    decls: Decls,
    g: Globals,
    helper_base: u16,
}

impl Default for Riscv64 {
    fn default() -> Self {
        Self::new()
    }
}

fn off(field: usize) -> u32 {
    (EnvHeader::SIZE + field) as u32
}

impl Riscv64 {
    /// Declares the globals and helpers.
    pub fn new() -> Self {
        let mut d = Decls::default();
        let xo = std::mem::offset_of!(Rv64State, x);
        let fo = std::mem::offset_of!(Rv64State, f);
        // x0 is declared too (never read or written by generated code) so that ids index
        // naturally and IR text names every register the same way.
        let x = std::array::from_fn(|i| d.add_global(format!("x{i}"), Ty::I64, off(xo + 8 * i)));
        let f = std::array::from_fn(|i| d.add_global(format!("f{i}"), Ty::I64, off(fo + 8 * i)));
        let pc = d.add_global("pc", Ty::I64, off(std::mem::offset_of!(Rv64State, pc)));
        let fflags = d.add_global("fflags", Ty::I64, off(std::mem::offset_of!(Rv64State, fflags)));
        let frm = d.add_global("frm", Ty::I64, off(std::mem::offset_of!(Rv64State, frm)));
        let res_addr = d.add_global("res_addr", Ty::I64, off(std::mem::offset_of!(Rv64State, res_addr)));
        let res_val = d.add_global("res_val", Ty::I64, off(std::mem::offset_of!(Rv64State, res_val)));
        let instret = d.add_global("instret", Ty::I64, off(std::mem::offset_of!(Rv64State, instret)));
        d.pc = Some(pc);
        let helper_base = helpers::declare(&mut d);
        Riscv64 { decls: d, g: Globals { x, f, pc, fflags, frm, res_addr, res_val, instret }, helper_base }
    }

    /// The register globals.
    pub fn globals(&self) -> &Globals {
        &self.g
    }
}

/// Per-instruction translation state (QEMU's `DisasContext`).
pub struct DisasContext<'a> {
    /// The frontend (globals, helpers).
    pub fe: &'a Riscv64,
    /// Address of the current instruction.
    pub pc: u64,
    /// Address of the next instruction (pc + 2 or 4).
    pub next_pc: u64,
    /// The instruction bits (a compressed one in the low 16 bits).
    pub insn: u32,
    /// Instruction length in bytes.
    pub len: u32,
    /// `frm` as the block's translation flags fix it.
    pub frm: u64,
    /// Chaining slots the block has used so far (side exits and the final exit each take
    /// one): a block-ending exit uses slot `slots_used`.
    pub slots_used: u8,
    /// How many conditional branches may become side exits (`TranslateLimits::side_exits`).
    pub side_exits: u8,
    /// Where a direct jump may continue within this block instead of ending it (None: it
    /// may not), see [`Follow`].
    pub follow: Option<Follow>,
    /// Set by a direct jump that continued within the block: the next instruction to translate.
    pub redirect: Option<u64>,
}

/// Superblocks also continue through direct jumps (`jal`, `c.j`) to code not yet in the
/// block on the block's first page: the hop to another block (a chained exit: an epilogue,
/// an indirect tail call, a prologue) becomes nothing. Code on other pages is not followed,
/// so a block still covers at most the two pages its invalidation tracks; a jump to the
/// block's start stays a loop back-edge; a few jumps at most are followed per block.
#[derive(Clone, Copy)]
pub struct Follow {
    /// The block's first pc.
    pub start: u64,
    /// The lowest pc translated so far: a jump into `lo..=hi` is not followed (the code is
    /// in the block already, or the jump closes a loop).
    pub lo: u64,
    /// The highest pc translated so far.
    pub hi: u64,
    /// Jumps that may still be followed.
    pub left: u8,
}

impl Follow {
    /// Whether a direct jump to `target` continues in the block.
    pub fn allows(&self, target: u64) -> bool {
        self.left > 0 && target / PAGE == self.start / PAGE && !(self.lo..=self.hi).contains(&target)
    }
}

/// How many direct jumps one block follows at most.
const MAX_FOLLOWED: u8 = 4;

/// How an `rm` field resolves (RISC-V Unprivileged ISA 20191213, §11.2, Table 11.1).
pub enum Rm {
    /// A static rounding mode 0..=4.
    Static(u64),
    /// `dyn` (7): `frm`, which the block's translation flags fix.
    Dyn,
}

/// Rounding mode "round to nearest, ties to even".
pub const RNE: u64 = 0;

impl DisasContext<'_> {
    /// Reads integer register `r` (x0 is the constant 0).
    pub fn gpr(&self, b: &mut Builder, r: u8) -> Value {
        if r == 0 {
            b.i64(0)
        } else {
            b.get(self.fe.g.x[r as usize])
        }
    }
    /// Writes integer register `r` (writes to x0 are dropped).
    pub fn set_gpr(&self, b: &mut Builder, r: u8, v: Value) {
        if r != 0 {
            b.set(self.fe.g.x[r as usize], v);
        }
    }
    /// Reads f register `r` (raw 64 bits).
    pub fn fpr(&self, b: &mut Builder, r: u8) -> Value {
        b.get(self.fe.g.f[r as usize])
    }
    /// Writes f register `r` (raw 64 bits).
    pub fn set_fpr(&self, b: &mut Builder, r: u8, v: Value) {
        b.set(self.fe.g.f[r as usize], v);
    }
    /// A global by role.
    pub fn g(&self) -> &Globals {
        &self.fe.g
    }
    /// The id of a helper.
    pub fn helper(&self, h: H) -> HelperId {
        helpers::id(self.fe.helper_base, h)
    }
    /// Classifies an `rm` field: None for the reserved values 5 and 6 (illegal instruction).
    pub fn rm(&self, rm: u8) -> Option<Rm> {
        match rm {
            0..=4 => Some(Rm::Static(rm as u64)),
            7 => Some(Rm::Dyn),
            _ => None,
        }
    }
    /// The rounding mode an `rm` field selects: the static value, or `frm` (known at
    /// translation: it is part of the TB flags). None if the instruction is illegal: `rm` is
    /// reserved, or `dyn` while `frm` holds a reserved value (§11.2).
    pub fn rounding(&self, rm: u8) -> Option<u64> {
        match self.rm(rm)? {
            Rm::Static(v) => Some(v),
            Rm::Dyn if self.frm <= 4 => Some(self.frm),
            Rm::Dyn => None,
        }
    }
    /// The rounding mode operand for a helper (see [`Self::rounding`]).
    pub fn gen_rm(&self, b: &mut Builder, rm: u8) -> Option<Value> {
        let r = self.rounding(rm)?;
        Some(b.i64(r))
    }
    /// Ends the block by continuing at the next instruction (through the next free slot).
    pub fn gen_goto_next(&self, b: &mut Builder) {
        b.goto_tb(self.slots_used, self.next_pc);
    }
}

/// Fetches and decodes the instruction at `pc`: its bits and length, or the faulting address.
fn fetch(code: &mut dyn CodeReader, pc: u64) -> Result<(u32, u32), u64> {
    let lo = code.read_u16(pc, TE).map_err(|f| f.addr)?;
    if insn_len(lo) == 2 {
        return Ok((lo as u32, 2));
    }
    let hi = code.read_u16(pc.wrapping_add(2), TE).map_err(|f| f.addr)?;
    Ok((lo as u32 | (hi as u32) << 16, 4))
}

/// Decodes instruction bits of length `len`.
pub fn decode(insn: u32, len: u32) -> Option<decode::Insn> {
    if len == 2 {
        decode::decode16(insn as u16)
    } else {
        decode::decode32(insn)
    }
}

impl Frontend for Riscv64 {
    type State = Rv64State;

    fn arch(&self) -> Arch {
        Arch::Riscv64
    }

    fn endian(&self) -> Endian {
        TE
    }

    fn decls(&self) -> &Decls {
        &self.decls
    }

    fn translate(
        &self,
        pc: u64,
        flags: u64,
        code: &mut dyn CodeReader,
        b: &mut Builder,
        limits: TranslateLimits,
    ) -> u32 {
        let start = pc;
        let mut pc = pc;
        let mut n = 0usize;
        let mut slots_used = 0u8;
        let mut size = 0u32;
        let mut follow = (limits.follow_jumps && limits.side_exits > 0 && limits.same_page).then_some(Follow {
            start,
            lo: start,
            hi: start,
            left: MAX_FOLLOWED,
        });
        loop {
            if n > 0 && (n >= limits.max_insns.max(1) || (limits.same_page && pc / PAGE != start / PAGE)) {
                b.goto_tb(slots_used, pc);
                break;
            }
            let (insn, len) = match fetch(code, pc) {
                Ok(v) => v,
                Err(addr) => {
                    if n == 0 {
                        b.insn_start(pc, 0);
                        let a = b.i64(addr);
                        b.raise(EXC_FETCH_FAULT, a);
                    } else {
                        b.goto_tb(slots_used, pc);
                    }
                    break;
                }
            };
            b.insn_start(pc, 0);
            let mark = b.len();
            let mut ctx = DisasContext {
                fe: self,
                pc,
                next_pc: pc.wrapping_add(len as u64),
                insn,
                len,
                frm: flags & 7,
                slots_used,
                side_exits: limits.side_exits,
                follow,
                redirect: None,
            };
            let ok = match decode(insn, len) {
                Some(i) => decode::dispatch(&mut ctx, b, i),
                None => false,
            };
            slots_used = ctx.slots_used;
            let redirect = ctx.redirect;
            n += 1;
            size += len;
            if let Some(f) = &mut follow {
                f.lo = f.lo.min(pc);
                f.hi = f.hi.max(pc);
            }
            pc = pc.wrapping_add(len as u64);
            if let (Some(t), Some(f)) = (redirect, &mut follow) {
                f.left -= 1;
                pc = t;
            }
            if !ok {
                b.truncate(mark);
                let bits = b.i64(insn as u64);
                b.raise(EXC_ILLEGAL_INSN, bits);
                break;
            }
            if b.is_terminated() {
                break;
            }
        }
        size
    }

    fn disas_insn(&self, pc: u64, code: &mut dyn CodeReader) -> Option<(String, u32)> {
        let (insn, len) = fetch(code, pc).ok()?;
        Some((disas::disas(pc, insn, len), len))
    }
}
