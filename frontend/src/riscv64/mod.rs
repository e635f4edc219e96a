//! RISC-V 64 (RV64GC: IMAFDC, Zicsr, Zifencei, Zba, Zbb, Zbs) at user level.
//!
//! - [`state`]: the register state translated code runs on;
//! - [`decode`]: the declarative 32- and 16-bit decode tables;
//! - [`translate`]: the [`Frontend`](crate::Frontend) implementation ([`Riscv64`]) and the
//!   per-instruction context; `trans/`: one `trans_*` function per mnemonic;
//! - [`helpers`]: run-time helpers (SoftFloat-based floating point, counters);
//! - [`disas`]: one-line disassembly.
//!
//! Exception causes raised by translated code are RISC-V `mcause` values (below), plus the
//! backends' generic ones (`ir::backend::EXC_*`: memory faults, fetch faults).

pub mod decode;
pub mod disas;
pub mod helpers;
pub mod state;
mod trans;
pub mod translate;

pub use state::Rv64State;
pub use translate::Riscv64;

/// Exception cause: illegal instruction (RISC-V mcause 2). Aux: the instruction bits (or 0
/// for a run-time check such as an invalid `frm`).
pub const EXC_ILLEGAL_INSN: u32 = 2;
/// Exception cause: breakpoint, `ebreak` (mcause 3). Aux: the pc.
pub const EXC_BREAKPOINT: u32 = 3;
/// Exception cause: environment call from U-mode, `ecall` (mcause 8). The runtime advances
/// the pc past the `ecall` (4 bytes; there is no compressed ecall).
pub const EXC_ECALL: u32 = 8;
