//! The RISC-V 64 CPU state as translated code sees it (user level: RV64GC).
//!
//! `#[repr(C)]`: it follows the [`ir::backend::EnvHeader`] in the CPU environment and every
//! field is an 8-byte global (see [`super::Riscv64::new`]). Floating-point registers hold NaN-boxed
//! single-precision values in their low 32 bits (RISC-V Unprivileged ISA, "NaN Boxing of
//! Narrower Values").

use crate::GuestState;

/// RISC-V 64 user-level register state.
#[repr(C)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rv64State {
    /// x0..x31 (x0 is kept 0: translated code never writes it).
    pub x: [u64; 32],
    /// f0..f31, as bit patterns.
    pub f: [u64; 32],
    /// Program counter.
    pub pc: u64,
    /// fcsr.fflags: accrued exception flags (NV DZ OF UF NX in bits 4..0).
    pub fflags: u64,
    /// fcsr.frm: dynamic rounding mode (0..=4 valid).
    pub frm: u64,
    /// LR/SC reservation: address of the last LR, or u64::MAX when there is none.
    pub res_addr: u64,
    /// LR/SC reservation: the value the LR loaded (SC succeeds if memory still holds it).
    pub res_val: u64,
    /// Retired-instruction estimate for rdinstret (maintained by the runtime, may lag).
    pub instret: u64,
}

impl Default for Rv64State {
    fn default() -> Self {
        Rv64State { x: [0; 32], f: [0; 32], pc: 0, fflags: 0, frm: 0, res_addr: u64::MAX, res_val: 0, instret: 0 }
    }
}

impl GuestState for Rv64State {
    fn pc(&self) -> u64 {
        self.pc
    }
    fn set_pc(&mut self, pc: u64) {
        self.pc = pc;
    }
    /// The dynamic rounding mode: `dyn` instructions are translated for the `frm` in effect
    /// (nearest-even ones become native FP operations).
    fn tb_flags(&self) -> u64 {
        self.frm & 7
    }
    fn merge_fp_flags(&mut self, flags: u32) {
        // ir::fpu's flag layout is fflags' (NX UF OF DZ NV in bits 0..4)
        self.fflags |= (flags & 0x1f) as u64;
    }
}
