//! RISC-V 64 per-instruction tests: bytes + asm comment + initial registers => expected
//! registers, flags, memory or exception, each run on every runner of `rv_harness::RUNNERS`.
//! Expected values come from the RISC-V Unprivileged ISA 20191213 (sections cited per group)
//! and were cross-checked against qemu-riscv64 where the spec leaves room for doubt.
//! `guests/riscv64/fill_insn_bytes.py` regenerates the byte arrays from the comments.

use crate::insn_test;
use frontend::riscv64::{EXC_BREAKPOINT, EXC_ECALL, EXC_ILLEGAL_INSN};

insn_test!(add_wraps, [0x33, 0x05, 0xb5, 0x00] /* add a0, a0, a1 */, { a0: u64::MAX, a1: 1 } => { a0: 0 });
insn_test!(ecall_raises, [0x73, 0x00, 0x00, 0x00] /* ecall */, {} => { exc: EXC_ECALL });
insn_test!(ebreak_raises, [0x73, 0x00, 0x10, 0x00] /* ebreak */, {} => { exc: EXC_BREAKPOINT });
insn_test!(illegal_zero, [0x00, 0x00] /* .half 0 */, {} => { exc: EXC_ILLEGAL_INSN, tval: 0 });
