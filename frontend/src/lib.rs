//! Guest ISA frontends: each turns guest machine code into IR blocks and declares the CPU state
//! it runs on (QEMU's `target/<arch>/translate.c` plus `cpu.h`).
//!
//! A frontend knows nothing of backends: it emits [`ir::Block`]s through an [`ir::Builder`] and
//! declares its guest registers and helpers in an [`ir::Decls`]. The run-time half of an ISA
//! (what its state looks like, how the TB flags are derived) is [`GuestState`].

#![warn(missing_docs)]

pub mod riscv64;

use ir::{Builder, Decls, Endian};

/// A guest architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// RISC-V 64-bit (RV64GC).
    Riscv64,
    /// IBM z/Architecture (s390x), big-endian.
    S390x,
}

impl Arch {
    /// The name Linux's `uname -m` reports.
    pub const fn uname(self) -> &'static str {
        match self {
            Arch::Riscv64 => "riscv64",
            Arch::S390x => "s390x",
        }
    }
}

/// Instruction fetch failed at this guest address (unmapped or not executable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchFault {
    /// The address that could not be fetched.
    pub addr: u64,
}

/// Reads guest instruction bytes for a translator. Implemented by accel-tcg over guest memory;
/// it checks execute permission and records which pages the block's code came from.
pub trait CodeReader {
    /// Reads the 16-bit parcel at `pc` in byte order `endian`.
    fn read_u16(&mut self, pc: u64, endian: Endian) -> Result<u16, FetchFault>;
}

/// A CodeReader over a byte slice mapped at `base` (tests, tools).
pub struct SliceReader<'a> {
    /// Guest address of `bytes[0]`.
    pub base: u64,
    /// The code.
    pub bytes: &'a [u8],
}

impl CodeReader for SliceReader<'_> {
    fn read_u16(&mut self, pc: u64, endian: Endian) -> Result<u16, FetchFault> {
        let off = pc.wrapping_sub(self.base) as usize;
        match self.bytes.get(off..off.wrapping_add(2)) {
            Some(&[a, b]) => Ok(match endian {
                Endian::Little => u16::from_le_bytes([a, b]),
                Endian::Big => u16::from_be_bytes([a, b]),
            }),
            _ => Err(FetchFault { addr: pc }),
        }
    }
}

/// Limits for one translation.
#[derive(Clone, Copy, Debug)]
pub struct TranslateLimits {
    /// Stop after this many guest instructions.
    pub max_insns: usize,
    /// Stop before an instruction that starts on another guest page than the first one
    /// (blocks never span more than two pages, as in QEMU).
    pub same_page: bool,
    /// Superblocks: up to this many conditional branches become side exits, translation
    /// continuing on the fall-through path (while chaining slots last); the next one ends the
    /// block. 0: every conditional branch ends its block.
    pub side_exits: u8,
    /// With `side_exits` and `same_page`: a direct jump to code on the block's first page
    /// that is not in the block yet continues the block there (a few per block). Saves the
    /// hop between blocks at the cost of translating the jump target again as part of each
    /// block that jumps to it: worth it for code that runs often (the hot tier), not for
    /// code translated to run a few times.
    pub follow_jumps: bool,
}

impl Default for TranslateLimits {
    fn default() -> Self {
        TranslateLimits { max_insns: 512, same_page: true, side_exits: u8::MAX, follow_jumps: true }
    }
}

/// The run-time half of a guest ISA: its register state.
pub trait GuestState: Default + Clone + Send + 'static {
    /// The program counter.
    fn pc(&self) -> u64;
    /// Sets the program counter.
    fn set_pc(&mut self, pc: u64);
    /// Every bit of state that changes how code is translated (part of the TB cache key).
    fn tb_flags(&self) -> u64;
    /// Merges FP exception flags accrued by the IR's native FP ops (`ir::fpu` layout) into the
    /// guest's own accrued-flags register. Called by accel-tcg whenever the vCPU leaves
    /// translated code.
    fn merge_fp_flags(&mut self, flags: u32) {
        let _ = flags;
    }
}

/// One guest ISA, translation half.
pub trait Frontend: Send + Sync + 'static {
    /// The CPU state this ISA's code runs on; it follows the environment header.
    type State: GuestState;
    /// The architecture.
    fn arch(&self) -> Arch;
    /// Byte order of data and instruction fetch.
    fn endian(&self) -> Endian;
    /// The guest registers and helpers blocks refer to.
    fn decls(&self) -> &Decls;
    /// Translates the block at `pc` under `flags` into `b` (already started). Returns the
    /// number of guest code bytes covered. A fetch fault on the first instruction becomes a
    /// `raise` of [`ir::backend::EXC_FETCH_FAULT`]; on a later one the block ends before it.
    fn translate(
        &self,
        pc: u64,
        flags: u64,
        code: &mut dyn CodeReader,
        b: &mut Builder,
        limits: TranslateLimits,
    ) -> u32;
    /// One-line disassembly of the instruction at `pc` (for logs and errors), and its length.
    fn disas_insn(&self, pc: u64, code: &mut dyn CodeReader) -> Option<(String, u32)>;
}
