//! RISC-V 64 (RV64GC: IMAFDC, Zicsr, Zifencei, Zba, Zbb, Zbs) at user level.
//!
//! (The decoder and translators are being written; this module currently declares the state.)

pub mod state;

pub use state::Rv64State;

/// Exception cause: illegal instruction (RISC-V mcause 2).
pub const EXC_ILLEGAL_INSN: u32 = 2;
/// Exception cause: breakpoint, `ebreak` (mcause 3).
pub const EXC_BREAKPOINT: u32 = 3;
/// Exception cause: environment call from U-mode, `ecall` (mcause 8).
pub const EXC_ECALL: u32 = 8;
