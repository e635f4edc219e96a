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

use ir::backend::{EXC_LOAD_FAULT, EXC_MISALIGNED_LOAD, EXC_MISALIGNED_STORE, EXC_STORE_FAULT};

const M: u64 = u64::MAX;
const MIN: u64 = 1 << 63;
/// NaN-boxing (§12.2): a boxed single.
const fn bx(v: u32) -> u64 {
    0xffff_ffff_0000_0000 | v as u64
}
const NV: u64 = 0x10;
const DZ: u64 = 0x08;
const OF: u64 = 0x04;
const UF: u64 = 0x02;
const NX: u64 = 0x01;
const CANON_S: u64 = bx(0x7fc0_0000);
const CANON_D: u64 = 0x7ff8_0000_0000_0000;
const ONE_D: u64 = 0x3ff0_0000_0000_0000;
const TWO_D: u64 = 0x4000_0000_0000_0000;
const THREE_D: u64 = 0x4008_0000_0000_0000;
const ONE_S: u64 = bx(0x3f80_0000);
const TWO_S: u64 = bx(0x4000_0000);
const THREE_S: u64 = bx(0x4040_0000);
const SNAN_D: u64 = 0x7ff4_0000_0000_0000;

// ---- RV64I integer computational (§2.4, §5.2) ----
insn_test!(addi_negative, [0x13, 0x85, 0x05, 0x80] /* addi a0, a1, -2048 */, { a1: 0 } => { a0: -2048i64 as u64 });
insn_test!(addi_to_x0_is_a_nop, [0x13, 0x80, 0x55, 0x00] /* addi zero, a1, 5 */, { a1: 7 } => {});
insn_test!(sub_wraps, [0x33, 0x85, 0xc5, 0x40] /* sub a0, a1, a2 */, { a1: 0, a2: 1 } => { a0: M });
insn_test!(slt_signed, [0x33, 0xa5, 0xc5, 0x00] /* slt a0, a1, a2 */, { a1: M, a2: 0 } => { a0: 1 });
insn_test!(sltu_unsigned, [0x33, 0xb5, 0xc5, 0x00] /* sltu a0, a1, a2 */, { a1: M, a2: 0 } => { a0: 0 });
insn_test!(slti_sign_extends_imm, [0x13, 0xa5, 0xf5, 0xff] /* slti a0, a1, -1 */, { a1: MIN } => { a0: 1 });
insn_test!(sltiu_minus_one_is_max, [0x13, 0xb5, 0xf5, 0xff] /* sltiu a0, a1, -1 */, { a1: M - 1 } => { a0: 1 });
insn_test!(seqz_is_sltiu_1, [0x13, 0xb5, 0x15, 0x00] /* sltiu a0, a1, 1 */, { a1: 0 } => { a0: 1 });
insn_test!(xori_not, [0x13, 0xc5, 0xf5, 0xff] /* xori a0, a1, -1 */, { a1: 0x1234 } => { a0: !0x1234u64 });
insn_test!(ori_andi, [0x13, 0xe5, 0x05, 0x07, 0x13, 0x75, 0x05, 0xff] /* ori a0, a1, 0x70; andi a0, a0, -16 */, { a1: 0x0f } => { a0: 0x70 });
insn_test!(lui_sign_extends, [0x37, 0x05, 0x00, 0x80] /* lui a0, 0x80000 */, {} => { a0: 0xffff_ffff_8000_0000 });
insn_test!(auipc_adds_pc, [0x17, 0x15, 0x00, 0x00] /* auipc a0, 1 */, {} => { a0: 0x10_1000 });
insn_test!(sll_uses_low_6_bits, [0x33, 0x95, 0xc5, 0x00] /* sll a0, a1, a2 */, { a1: 1, a2: 65 } => { a0: 2 });
insn_test!(srl_zero_fills, [0x33, 0xd5, 0xc5, 0x00] /* srl a0, a1, a2 */, { a1: MIN, a2: 63 } => { a0: 1 });
insn_test!(sra_sign_fills, [0x33, 0xd5, 0xc5, 0x40] /* sra a0, a1, a2 */, { a1: MIN, a2: 63 } => { a0: M });
insn_test!(slli_63, [0x13, 0x95, 0xf5, 0x03] /* slli a0, a1, 63 */, { a1: 3 } => { a0: MIN });
insn_test!(srli_srai, [0x13, 0xd5, 0x45, 0x00, 0x13, 0xd6, 0x45, 0x40] /* srli a0, a1, 4; srai a2, a1, 4 */, { a1: MIN } => { a0: 0x0800_0000_0000_0000, a2: 0xf800_0000_0000_0000 });
insn_test!(and_or_xor, [0x33, 0xf5, 0xc5, 0x00, 0xb3, 0xe6, 0xc5, 0x00, 0x33, 0xc7, 0xc5, 0x00] /* and a0, a1, a2; or a3, a1, a2; xor a4, a1, a2 */, { a1: 0b1100, a2: 0b1010 } => { a0: 0b1000, a3: 0b1110, a4: 0b0110 });
insn_test!(addw_sign_extends, [0x3b, 0x85, 0xc5, 0x00] /* addw a0, a1, a2 */, { a1: 0x7fff_ffff, a2: 1 } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(addw_ignores_upper, [0x3b, 0x85, 0xc5, 0x00] /* addw a0, a1, a2 */, { a1: 0x1234_0000_0000_0001, a2: 0xffff_0000_0000_0001 } => { a0: 2 });
insn_test!(subw_sign_extends, [0x3b, 0x85, 0xc5, 0x40] /* subw a0, a1, a2 */, { a1: 0, a2: 1 } => { a0: M });
insn_test!(addiw_sext_w, [0x1b, 0x85, 0x05, 0x00] /* addiw a0, a1, 0 */, { a1: 0x0000_0000_8000_0000 } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(sllw_low_5_bits, [0x3b, 0x95, 0xc5, 0x00] /* sllw a0, a1, a2 */, { a1: 1, a2: 33 } => { a0: 2 });
insn_test!(sllw_into_sign, [0x3b, 0x95, 0xc5, 0x00] /* sllw a0, a1, a2 */, { a1: 1, a2: 31 } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(srlw_zero_fills_then_sign_extends, [0x3b, 0xd5, 0xc5, 0x00] /* srlw a0, a1, a2 */, { a1: 0xffff_ffff_8000_0000, a2: 0 } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(srlw_by_one, [0x3b, 0xd5, 0xc5, 0x00] /* srlw a0, a1, a2 */, { a1: 0x8000_0000, a2: 1 } => { a0: 0x4000_0000 });
insn_test!(sraw_sign, [0x3b, 0xd5, 0xc5, 0x40] /* sraw a0, a1, a2 */, { a1: 0x8000_0000, a2: 4 } => { a0: 0xffff_ffff_f800_0000 });
insn_test!(slliw_srliw_sraiw, [0x1b, 0x95, 0xf5, 0x01, 0x1b, 0xd6, 0xf5, 0x01, 0x9b, 0x56, 0xf5, 0x41] /* slliw a0, a1, 31; srliw a2, a1, 31; sraiw a3, a0, 31 */, { a1: 0xffff_ffff } => { a0: 0xffff_ffff_8000_0000, a2: 1, a3: M });

// ---- control transfer (§2.5) ----
insn_test!(jal_links_and_jumps, [0xef, 0x00, 0xc0, 0x00] /* jal ra, .+12 */, {} => { ra: 0x10_0004, pc: 0x10_000c });
insn_test!(jalr_clears_bit0_and_links_after_reading, [0x67, 0x05, 0x35, 0x00] /* jalr a0, 3(a0) */, { a0: 0x2000 } => { a0: 0x10_0004, pc: 0x2002 });
insn_test!(beq_taken, [0x63, 0x08, 0xb5, 0x00] /* beq a0, a1, .+16 */, { a0: 5, a1: 5 } => { pc: 0x10_0010 });
insn_test!(beq_not_taken, [0x63, 0x08, 0xb5, 0x00] /* beq a0, a1, .+16 */, { a0: 5, a1: 6 } => {});
insn_test!(bne_taken, [0xe3, 0x1e, 0xb5, 0xfe] /* bne a0, a1, .-4 */, { a0: 5, a1: 6 } => { pc: 0x0f_fffc });
insn_test!(blt_signed, [0x63, 0x44, 0xb5, 0x00] /* blt a0, a1, .+8 */, { a0: M, a1: 0 } => { pc: 0x10_0008 });
insn_test!(bge_equal_taken, [0x63, 0x54, 0xb5, 0x00] /* bge a0, a1, .+8 */, { a0: 3, a1: 3 } => { pc: 0x10_0008 });
insn_test!(bltu_unsigned, [0x63, 0x64, 0xb5, 0x00] /* bltu a0, a1, .+8 */, { a0: M, a1: 0 } => {});
insn_test!(bgeu_unsigned, [0x63, 0x74, 0xb5, 0x00] /* bgeu a0, a1, .+8 */, { a0: M, a1: 0 } => { pc: 0x10_0008 });
insn_test!(loop_counts_down, [0x13, 0x05, 0xf5, 0xff, 0xe3, 0x1e, 0x05, 0xfe] /* addi a0, a0, -1; bnez a0, .-4 */, { a0: 10 } => { a0: 0 });

// ---- loads and stores (§2.6), unaligned allowed (Linux emulates misaligned accesses) ----
insn_test!(lb_sign_extends, [0x03, 0x85, 0x15, 0x00] /* lb a0, 1(a1) */, { a1: 0x2000 } mem { 0x2000: [0x00, 0x80] } => { a0: 0xffff_ffff_ffff_ff80 });
insn_test!(lbu_zero_extends, [0x03, 0xc5, 0x15, 0x00] /* lbu a0, 1(a1) */, { a1: 0x2000 } mem { 0x2000: [0x00, 0x80] } => { a0: 0x80 });
insn_test!(lh_lhu, [0x03, 0x95, 0x05, 0x00, 0x03, 0xd6, 0x05, 0x00] /* lh a0, 0(a1); lhu a2, 0(a1) */, { a1: 0x2000 } mem { 0x2000: [0x34, 0x92] } => { a0: 0xffff_ffff_ffff_9234, a2: 0x9234 });
insn_test!(lw_lwu, [0x03, 0xa5, 0x05, 0x00, 0x03, 0xe6, 0x05, 0x00] /* lw a0, 0(a1); lwu a2, 0(a1) */, { a1: 0x2000 } mem { 0x2000: [1, 2, 3, 0x84] } => { a0: 0xffff_ffff_8403_0201, a2: 0x8403_0201 });
insn_test!(ld_little_endian, [0x03, 0xb5, 0x85, 0xff] /* ld a0, -8(a1) */, { a1: 0x2008 } mem { 0x2000: [1, 2, 3, 4, 5, 6, 7, 8] } => { a0: 0x0807_0605_0403_0201 });
insn_test!(ld_misaligned_across_page, [0x03, 0xb5, 0x05, 0x00] /* ld a0, 0(a1) */, { a1: 0x0ffd } mem { 0x0ffd: [1, 2, 3, 4, 5, 6, 7, 8] } => { a0: 0x0807_0605_0403_0201 });
insn_test!(sw_misaligned, [0xa3, 0xa0, 0xa5, 0x00] /* sw a0, 1(a1) */, { a0: 0x1122_3344_5566_7788, a1: 0x2000 } => {} mem { 0x2000: [0, 0x88, 0x77, 0x66, 0x55, 0] });
insn_test!(sb_sh_sd, [0x23, 0x80, 0xa5, 0x00, 0x23, 0x91, 0xa5, 0x00, 0x23, 0xb4, 0xa5, 0x00] /* sb a0, 0(a1); sh a0, 2(a1); sd a0, 8(a1) */, { a0: 0x0102_0304_0506_0708, a1: 0x2000 } => {} mem { 0x2000: [8, 0, 8, 7, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1] });
insn_test!(load_fault_reports_address_and_keeps_rd, [0x03, 0xb5, 0x05, 0x00] /* ld a0, 0(a1) */, { a0: 7, a1: 0x9008 } => { exc: EXC_LOAD_FAULT, tval: 0x9008 });
insn_test!(store_to_readonly_faults, [0x23, 0xa0, 0xa5, 0x00] /* sw a0, 0(a1) */, { a1: 0x8000 } => { exc: EXC_STORE_FAULT, tval: 0x8000 });
insn_test!(fault_in_second_insn_keeps_first, [0x13, 0x05, 0x15, 0x00, 0x03, 0xa6, 0x05, 0x00] /* addi a0, a0, 1; lw a2, 0(a1) */, { a1: 0x9000 } => { a0: 1, exc: EXC_LOAD_FAULT, pc: 0x10_0004 });

// ---- fence, ecall, ebreak, fence.i (§2.7, §2.8, §3) ----
insn_test!(fence_is_harmless, [0x0f, 0x00, 0x30, 0x03, 0x0f, 0x00, 0x30, 0x83, 0x13, 0x05, 0x15, 0x00] /* fence rw, rw; fence.tso; addi a0, a0, 1 */, {} => { a0: 1 });
insn_test!(fence_i_continues, [0x0f, 0x10, 0x00, 0x00, 0x13, 0x05, 0x15, 0x00] /* fence.i; addi a0, a0, 1 */, {} => { a0: 1 });
insn_test!(ecall_reports_its_pc, [0x13, 0x05, 0x15, 0x00, 0x73, 0x00, 0x00, 0x00] /* addi a0, a0, 1; ecall */, {} => { a0: 1, exc: EXC_ECALL, pc: 0x10_0004 });
insn_test!(ebreak_tval_is_pc, [0x73, 0x00, 0x10, 0x00] /* ebreak */, {} => { exc: EXC_BREAKPOINT, tval: 0x10_0000 });
insn_test!(c_ebreak_raises, [0x02, 0x90] /* c.ebreak */, {} => { exc: EXC_BREAKPOINT });

// ---- M (§7) ----
insn_test!(mul_low, [0x33, 0x85, 0xc5, 0x02] /* mul a0, a1, a2 */, { a1: 0x1_0000_0001, a2: 0x1_0000_0001 } => { a0: 0x2_0000_0001 });
insn_test!(mulh_signed, [0x33, 0x95, 0xc5, 0x02] /* mulh a0, a1, a2 */, { a1: M, a2: M } => { a0: 0 });
insn_test!(mulh_min_min, [0x33, 0x95, 0xc5, 0x02] /* mulh a0, a1, a2 */, { a1: MIN, a2: MIN } => { a0: 0x4000_0000_0000_0000 });
insn_test!(mulhu_max, [0x33, 0xb5, 0xc5, 0x02] /* mulhu a0, a1, a2 */, { a1: M, a2: M } => { a0: M - 1 });
insn_test!(mulhsu_mixed, [0x33, 0xa5, 0xc5, 0x02] /* mulhsu a0, a1, a2 */, { a1: M, a2: M } => { a0: M });
insn_test!(div_by_zero, [0x33, 0xc5, 0xc5, 0x02] /* div a0, a1, a2 */, { a1: 5, a2: 0 } => { a0: M });
insn_test!(div_overflow, [0x33, 0xc5, 0xc5, 0x02] /* div a0, a1, a2 */, { a1: MIN, a2: M } => { a0: MIN });
insn_test!(div_rounds_toward_zero, [0x33, 0xc5, 0xc5, 0x02] /* div a0, a1, a2 */, { a1: -7i64 as u64, a2: 2 } => { a0: -3i64 as u64 });
insn_test!(divu_by_zero, [0x33, 0xd5, 0xc5, 0x02] /* divu a0, a1, a2 */, { a1: 5, a2: 0 } => { a0: M });
insn_test!(rem_by_zero, [0x33, 0xe5, 0xc5, 0x02] /* rem a0, a1, a2 */, { a1: -5i64 as u64, a2: 0 } => { a0: -5i64 as u64 });
insn_test!(rem_overflow, [0x33, 0xe5, 0xc5, 0x02] /* rem a0, a1, a2 */, { a1: MIN, a2: M } => { a0: 0 });
insn_test!(rem_sign_of_dividend, [0x33, 0xe5, 0xc5, 0x02] /* rem a0, a1, a2 */, { a1: -7i64 as u64, a2: 2 } => { a0: M });
insn_test!(remu_by_zero, [0x33, 0xf5, 0xc5, 0x02] /* remu a0, a1, a2 */, { a1: 9, a2: 0 } => { a0: 9 });
insn_test!(mulw_sign_extends, [0x3b, 0x85, 0xc5, 0x02] /* mulw a0, a1, a2 */, { a1: 0x10000, a2: 0x8000 } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(divw_overflow, [0x3b, 0xc5, 0xc5, 0x02] /* divw a0, a1, a2 */, { a1: 0x8000_0000, a2: M } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(divw_by_zero, [0x3b, 0xc5, 0xc5, 0x02] /* divw a0, a1, a2 */, { a1: 1, a2: 0x1_0000_0000 } => { a0: M });
insn_test!(divuw_by_zero_all_ones, [0x3b, 0xd5, 0xc5, 0x02] /* divuw a0, a1, a2 */, { a1: 1, a2: 0 } => { a0: M });
insn_test!(divuw_unsigned_low_words, [0x3b, 0xd5, 0xc5, 0x02] /* divuw a0, a1, a2 */, { a1: 0xffff_ffff, a2: 2 } => { a0: 0x7fff_ffff });
insn_test!(remw_overflow, [0x3b, 0xe5, 0xc5, 0x02] /* remw a0, a1, a2 */, { a1: 0x8000_0000, a2: M } => { a0: 0 });
insn_test!(remw_by_zero_sign_extends, [0x3b, 0xe5, 0xc5, 0x02] /* remw a0, a1, a2 */, { a1: 0x8000_0000, a2: 0 } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(remuw_by_zero_sign_extends, [0x3b, 0xf5, 0xc5, 0x02] /* remuw a0, a1, a2 */, { a1: 0xffff_ffff, a2: 0 } => { a0: M });
insn_test!(remuw, [0x3b, 0xf5, 0xc5, 0x02] /* remuw a0, a1, a2 */, { a1: 0xffff_ffff, a2: 10 } => { a0: 5 });

// ---- A (§8) ----
insn_test!(lr_sc_success, [0x2f, 0xb5, 0x05, 0x10, 0x2f, 0xb6, 0xd5, 0x18] /* lr.d a0, (a1); sc.d a2, a3, (a1) */, { a1: 0x2000, a3: 99 } mem { 0x2000: [7] }
    => { a0: 7, a2: 0, res_addr: M, res_val: 7 } mem { 0x2000: [99, 0, 0, 0, 0, 0, 0, 0] });
insn_test!(sc_without_reservation_fails, [0x2f, 0xb6, 0xd5, 0x18] /* sc.d a2, a3, (a1) */, { a1: 0x2000, a3: 99 } mem { 0x2000: [7] }
    => { a2: 1 } mem { 0x2000: [7, 0] });
insn_test!(sc_other_address_fails, [0x2f, 0xa5, 0x05, 0x10, 0x2f, 0x26, 0xd7, 0x18] /* lr.w a0, (a1); sc.w a2, a3, 0(a4) */, { a1: 0x2000, a3: 99, a4: 0x2008 }
    => { a2: 1, res_addr: M, res_val: 0 } mem { 0x2008: [0, 0, 0, 0] });
insn_test!(sc_fails_when_value_changed, [0x2f, 0xa6, 0xd5, 0x18] /* sc.w a2, a3, (a1) */, { a1: 0x2000, a3: 99, res_addr: 0x2000, res_val: 5 } mem { 0x2000: [6] }
    => { a2: 1, res_addr: M } mem { 0x2000: [6, 0, 0, 0] });
insn_test!(sc_w_succeeds_and_clears, [0x2f, 0xa6, 0xd5, 0x1a] /* sc.w.rl a2, a3, (a1) */, { a1: 0x2000, a3: 0x1_2345_6789, res_addr: 0x2000, res_val: 0xffff_ffff_8000_0000 } mem { 0x2000: [0, 0, 0, 0x80] }
    => { a2: 0, res_addr: M } mem { 0x2000: [0x89, 0x67, 0x45, 0x23] });
insn_test!(lr_w_sign_extends, [0x2f, 0xa5, 0x05, 0x14] /* lr.w.aq a0, (a1) */, { a1: 0x2000 } mem { 0x2000: [0, 0, 0, 0x80] }
    => { a0: 0xffff_ffff_8000_0000, res_addr: 0x2000, res_val: 0xffff_ffff_8000_0000 });
insn_test!(lr_misaligned_faults, [0x2f, 0xa5, 0x05, 0x10] /* lr.w a0, (a1) */, { a1: 0x2002 } => { exc: EXC_MISALIGNED_LOAD, tval: 0x2002 });
insn_test!(amo_misaligned_faults, [0x2f, 0xb5, 0xc5, 0x00] /* amoadd.d a0, a2, (a1) */, { a1: 0x2004 } => { exc: EXC_MISALIGNED_STORE });
insn_test!(amoswap_w, [0x2f, 0xa5, 0xc5, 0x08] /* amoswap.w a0, a2, (a1) */, { a1: 0x2000, a2: 5 } mem { 0x2000: [0xff, 0xff, 0xff, 0xff] } => { a0: M } mem { 0x2000: [5, 0, 0, 0] });
insn_test!(amoadd_w_wraps, [0x2f, 0xa5, 0xc5, 0x00] /* amoadd.w a0, a2, (a1) */, { a1: 0x2000, a2: 1 } mem { 0x2000: [0xff, 0xff, 0xff, 0x7f, 9] } => { a0: 0x7fff_ffff } mem { 0x2000: [0, 0, 0, 0x80, 9] });
insn_test!(amoand_amoor_amoxor_d, [0x2f, 0xb5, 0xc5, 0x60, 0xaf, 0xb6, 0xc5, 0x40, 0x2f, 0xb7, 0xc5, 0x20] /* amoand.d a0, a2, (a1); amoor.d a3, a2, (a1); amoxor.d a4, a2, (a1) */,
    { a1: 0x2000, a2: 0xf0 } mem { 0x2000: [0x3c] } => { a0: 0x3c, a3: 0x30, a4: 0xf0 } mem { 0x2000: [0, 0] });
insn_test!(amomin_w_signed, [0x2f, 0xa5, 0xc5, 0x80] /* amomin.w a0, a2, (a1) */, { a1: 0x2000, a2: 1 } mem { 0x2000: [0, 0, 0, 0x80] } => { a0: 0xffff_ffff_8000_0000 } mem { 0x2000: [0, 0, 0, 0x80] });
insn_test!(amomax_w_signed, [0x2f, 0xa5, 0xc5, 0xa0] /* amomax.w a0, a2, (a1) */, { a1: 0x2000, a2: 1 } mem { 0x2000: [0, 0, 0, 0x80] } => { a0: 0xffff_ffff_8000_0000 } mem { 0x2000: [1, 0, 0, 0] });
insn_test!(amominu_w_unsigned, [0x2f, 0xa5, 0xc5, 0xc0] /* amominu.w a0, a2, (a1) */, { a1: 0x2000, a2: 0xffff_ffff_0000_0001 } mem { 0x2000: [0, 0, 0, 0x80] } => { a0: 0xffff_ffff_8000_0000 } mem { 0x2000: [1, 0, 0, 0] });
insn_test!(amomaxu_d, [0x2f, 0xb5, 0xc5, 0xe0] /* amomaxu.d a0, a2, (a1) */, { a1: 0x2000, a2: M } mem { 0x2000: [1] } => { a0: 1 } mem { 0x2000: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] });
insn_test!(amomin_d_amomax_d, [0x2f, 0xb5, 0xc5, 0x80, 0xaf, 0xb6, 0xe5, 0xa0] /* amomin.d a0, a2, (a1); amomax.d a3, a4, (a1) */, { a1: 0x2000, a2: M, a4: 3 } mem { 0x2000: [2] } => { a0: 2, a3: M } mem { 0x2000: [3, 0, 0, 0, 0, 0, 0, 0] });
insn_test!(amominu_d_amoswap_d, [0x2f, 0xb5, 0xc5, 0xc0, 0xaf, 0xb6, 0xe5, 0x0e] /* amominu.d a0, a2, (a1); amoswap.d.aqrl a3, a4, (a1) */, { a1: 0x2000, a2: M, a4: 9 } mem { 0x2000: [2] } => { a0: 2, a3: 2 } mem { 0x2000: [9, 0] });
insn_test!(amoxor_w_amoor_w_amoand_w, [0x2f, 0xa5, 0xc5, 0x20, 0xaf, 0xa6, 0xc5, 0x40, 0x2f, 0xa7, 0xc5, 0x60] /* amoxor.w a0, a2, (a1); amoor.w a3, a2, (a1); amoand.w a4, a2, (a1) */, { a1: 0x2000, a2: 0x8000_0001 } mem { 0x2000: [1, 0, 0, 0] }
    => { a0: 1, a3: 0xffff_ffff_8000_0000, a4: 0xffff_ffff_8000_0001 } mem { 0x2000: [1, 0, 0, 0x80] });
insn_test!(amoadd_d_to_readonly_faults, [0x2f, 0xb5, 0xc5, 0x00] /* amoadd.d a0, a2, (a1) */, { a1: 0x8000 } => { exc: EXC_STORE_FAULT });

// ---- Zicsr (§9) and the FP CSRs (§11.2) ----
insn_test!(frflags_reads, [0x73, 0x25, 0x10, 0x00] /* frflags a0 */, { fflags: 0x15 } => { a0: 0x15 });
insn_test!(fsflags_swaps_and_masks, [0x73, 0x95, 0x15, 0x00] /* fsflags a0, a1 */, { fflags: 3, a1: 0xff } => { a0: 3, fflags: 0x1f });
insn_test!(fsrm_masks, [0x73, 0x95, 0x25, 0x00] /* fsrm a0, a1 */, { frm: 1, a1: 0xfa } => { a0: 1, frm: 2 });
insn_test!(fcsr_concatenates, [0x73, 0x25, 0x30, 0x00] /* frcsr a0 */, { frm: 3, fflags: 0x11 } => { a0: 0x71 });
insn_test!(fscsr_splits, [0x73, 0x95, 0x35, 0x00] /* fscsr a0, a1 */, { frm: 3, fflags: 0x11, a1: 0xfff } => { a0: 0x71, frm: 7, fflags: 0x1f });
insn_test!(csrrsi_sets_bits, [0x73, 0x65, 0x12, 0x00] /* csrrsi a0, fflags, 0x4 */, { fflags: 1 } => { a0: 1, fflags: 5 });
insn_test!(csrrci_clears_bits, [0x73, 0xf5, 0x10, 0x00] /* csrrci a0, fflags, 0x1 */, { fflags: 3 } => { a0: 3, fflags: 2 });
insn_test!(csrrc_register, [0x73, 0xb5, 0x25, 0x00] /* csrrc a0, frm, a1 */, { frm: 7, a1: 5 } => { a0: 7, frm: 2 });
insn_test!(csrrwi_writes_imm, [0x73, 0x55, 0x22, 0x00] /* csrrwi a0, frm, 4 */, {} => { frm: 4 });
insn_test!(rdinstret_reads_counter, [0x73, 0x25, 0x20, 0xc0] /* rdinstret a0 */, { instret: 1234 } => { a0: 1234 });
insn_test!(unknown_csr_is_illegal, [0x73, 0x25, 0x00, 0x30] /* csrr a0, mstatus */, { a0: 5 } => { exc: EXC_ILLEGAL_INSN, tval: 0x3000_2573 });
insn_test!(write_to_cycle_is_illegal, [0x73, 0x10, 0x05, 0xc0] /* csrw cycle, a0 */, {} => { exc: EXC_ILLEGAL_INSN });
insn_test!(csrrs_x0_of_time_is_a_read, [0x73, 0x20, 0x10, 0xc0] /* csrrs zero, time, zero */, {} => {});

// ---- Zba / Zbb / Zbs ----
insn_test!(sh1add_sh2add_sh3add, [0x33, 0xa5, 0xc5, 0x20, 0xb3, 0xc6, 0xc5, 0x20, 0x33, 0xe7, 0xc5, 0x20] /* sh1add a0, a1, a2; sh2add a3, a1, a2; sh3add a4, a1, a2 */, { a1: 1, a2: 100 } => { a0: 102, a3: 104, a4: 108 });
insn_test!(add_uw_zero_extends, [0x3b, 0x85, 0xc5, 0x08] /* add.uw a0, a1, a2 */, { a1: M, a2: 1 } => { a0: 0x1_0000_0000 });
insn_test!(shadd_uw, [0x3b, 0xa5, 0xc5, 0x20, 0xbb, 0xc6, 0xc5, 0x20, 0x3b, 0xe7, 0xc5, 0x20] /* sh1add.uw a0, a1, a2; sh2add.uw a3, a1, a2; sh3add.uw a4, a1, a2 */, { a1: 0xffff_ffff_8000_0000, a2: 0 } => { a0: 0x1_0000_0000, a3: 0x2_0000_0000, a4: 0x4_0000_0000 });
insn_test!(slli_uw, [0x1b, 0x95, 0x45, 0x08] /* slli.uw a0, a1, 4 */, { a1: 0xffff_ffff_ffff_ffff } => { a0: 0xf_ffff_fff0 });
insn_test!(andn_orn_xnor, [0x33, 0xf5, 0xc5, 0x40, 0xb3, 0xe6, 0xc5, 0x40, 0x33, 0xc7, 0xc5, 0x40] /* andn a0, a1, a2; orn a3, a1, a2; xnor a4, a1, a2 */, { a1: 0b1100, a2: 0b1010 } => { a0: 0b0100, a3: !0b0010u64, a4: !0b0110u64 });
insn_test!(clz_ctz_cpop_of_zero, [0x13, 0x95, 0x05, 0x60, 0x13, 0x96, 0x15, 0x60, 0x93, 0x96, 0x25, 0x60] /* clz a0, a1; ctz a2, a1; cpop a3, a1 */, { a1: 0 } => { a0: 64, a2: 64, a3: 0 });
insn_test!(clz_ctz_cpop, [0x13, 0x95, 0x05, 0x60, 0x13, 0x96, 0x15, 0x60, 0x93, 0x96, 0x25, 0x60] /* clz a0, a1; ctz a2, a1; cpop a3, a1 */, { a1: 0x0000_0100_0000_8000 } => { a0: 23, a2: 15, a3: 2 });
insn_test!(clzw_ignores_upper, [0x1b, 0x95, 0x05, 0x60] /* clzw a0, a1 */, { a1: 0xffff_ffff_0000_0001 } => { a0: 31 });
insn_test!(ctzw_low_word_zero, [0x1b, 0x95, 0x15, 0x60] /* ctzw a0, a1 */, { a1: MIN } => { a0: 32 });
insn_test!(cpopw_low_word, [0x1b, 0x95, 0x25, 0x60] /* cpopw a0, a1 */, { a1: M } => { a0: 32 });
insn_test!(min_max_signed, [0x33, 0xc5, 0xc5, 0x0a, 0xb3, 0xe6, 0xc5, 0x0a] /* min a0, a1, a2; max a3, a1, a2 */, { a1: M, a2: 1 } => { a0: M, a3: 1 });
insn_test!(minu_maxu, [0x33, 0xd5, 0xc5, 0x0a, 0xb3, 0xf6, 0xc5, 0x0a] /* minu a0, a1, a2; maxu a3, a1, a2 */, { a1: M, a2: 1 } => { a0: 1, a3: M });
insn_test!(sext_b_sext_h_zext_h, [0x13, 0x95, 0x45, 0x60, 0x13, 0x96, 0x55, 0x60, 0xbb, 0xc6, 0x05, 0x08] /* sext.b a0, a1; sext.h a2, a1; zext.h a3, a1 */, { a1: 0x1234_8080 } => { a0: 0xffff_ffff_ffff_ff80, a2: 0xffff_ffff_ffff_8080, a3: 0x8080 });
insn_test!(rol_ror, [0x33, 0x95, 0xc5, 0x60, 0xb3, 0xd6, 0xc5, 0x60] /* rol a0, a1, a2; ror a3, a1, a2 */, { a1: MIN | 1, a2: 65 } => { a0: 3, a3: 0xc000_0000_0000_0000 });
insn_test!(rori_63, [0x13, 0xd5, 0xf5, 0x63] /* rori a0, a1, 63 */, { a1: 1 } => { a0: 2 });
insn_test!(rolw_rorw_sign_extend, [0x3b, 0x95, 0xc5, 0x60, 0xbb, 0xd6, 0xc5, 0x60] /* rolw a0, a1, a2; rorw a3, a1, a2 */, { a1: 0x4000_0001, a2: 33 } => { a0: 0xffff_ffff_8000_0002, a3: 0xffff_ffff_a000_0000 });
insn_test!(roriw, [0x1b, 0xd5, 0x15, 0x60] /* roriw a0, a1, 1 */, { a1: 1 } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(orc_b, [0x13, 0xd5, 0x75, 0x28] /* orc.b a0, a1 */, { a1: 0x0100_8000_0001_7f00 } => { a0: 0xff00_ff00_00ff_ff00 });
insn_test!(rev8, [0x13, 0xd5, 0x85, 0x6b] /* rev8 a0, a1 */, { a1: 0x0102_0304_0506_0708 } => { a0: 0x0807_0605_0403_0201 });
insn_test!(bclr_bset_binv_bext, [0x33, 0x95, 0xc5, 0x48, 0xb3, 0x96, 0xc5, 0x28, 0x33, 0x97, 0xc5, 0x68, 0xb3, 0xd7, 0xc5, 0x48] /* bclr a0, a1, a2; bset a3, a1, a2; binv a4, a1, a2; bext a5, a1, a2 */, { a1: 0xff, a2: 64 + 3 } => { a0: 0xf7, a3: 0xff, a4: 0xf7, a5: 1 });
insn_test!(bclri_bseti_binvi_bexti, [0x13, 0x95, 0xf5, 0x4b, 0x93, 0x96, 0xe5, 0x2b, 0x13, 0x97, 0x05, 0x68, 0x93, 0xd7, 0xf5, 0x4b] /* bclri a0, a1, 63; bseti a3, a1, 62; binvi a4, a1, 0; bexti a5, a1, 63 */, { a1: MIN } => { a0: 0, a3: 0xc000_0000_0000_0000, a4: MIN | 1, a5: 1 });

// ---- compressed forms (§16) ----
insn_test!(c_addi4spn, [0xe8, 0x1f] /* c.addi4spn a0, sp, 1020 */, { sp: 0x1000 } => { a0: 0x13fc });
insn_test!(c_addi4spn_zero_is_illegal, [0x08, 0x00] /* .half 0x0008 */, {} => { exc: EXC_ILLEGAL_INSN, tval: 8 });
insn_test!(c_lw_c_sw, [0xc8, 0x41, 0x88, 0xc5] /* c.lw a0, 4(a1); c.sw a0, 8(a1) */, { a1: 0x2000 } mem { 0x2004: [0, 0, 0, 0x80] } => { a0: 0xffff_ffff_8000_0000 } mem { 0x2008: [0, 0, 0, 0x80] });
insn_test!(c_ld_c_sd, [0xe8, 0x7d, 0x88, 0xe1] /* c.ld a0, 248(a1); c.sd a0, 0(a1) */, { a1: 0x2000 } mem { 0x20f8: [1, 2, 3, 4, 5, 6, 7, 8] } => { a0: 0x0807_0605_0403_0201 } mem { 0x2000: [1, 2, 3, 4, 5, 6, 7, 8] });
insn_test!(c_fld_c_fsd, [0x88, 0x25, 0x88, 0xa9] /* c.fld fa0, 8(a1); c.fsd fa0, 16(a1) */, { a1: 0x2000 } mem { 0x2008: [1, 2, 3, 4, 5, 6, 7, 8] } => { fa0: 0x0807_0605_0403_0201 } mem { 0x2010: [1, 2, 3, 4, 5, 6, 7, 8] });
insn_test!(c_nop, [0x01, 0x00] /* c.nop */, {} => {});
insn_test!(c_addi_negative, [0x01, 0x15] /* c.addi a0, -32 */, { a0: 0 } => { a0: -32i64 as u64 });
insn_test!(c_addiw, [0x05, 0x25] /* c.addiw a0, 1 */, { a0: 0x7fff_ffff } => { a0: 0xffff_ffff_8000_0000 });
insn_test!(c_addiw_x0_is_illegal, [0x05, 0x20] /* .half 0x2005 */, {} => { exc: EXC_ILLEGAL_INSN });
insn_test!(c_li, [0x7d, 0x55] /* c.li a0, -1 */, {} => { a0: M });
insn_test!(c_addi16sp, [0x01, 0x71] /* c.addi16sp sp, -512 */, { sp: 0x1000 } => { sp: 0xe00 });
insn_test!(c_addi16sp_zero_is_illegal, [0x01, 0x61] /* .half 0x6101 */, {} => { exc: EXC_ILLEGAL_INSN });
insn_test!(c_lui_sign_extends, [0x01, 0x75] /* c.lui a0, 0xfffe0 */, {} => { a0: 0xffff_ffff_fffe_0000 });
insn_test!(c_lui_zero_is_illegal, [0x01, 0x65] /* .half 0x6501 */, {} => { exc: EXC_ILLEGAL_INSN });
insn_test!(c_srli_c_srai_c_andi, [0x71, 0x91, 0xf1, 0x95, 0x79, 0x9a] /* c.srli a0, 60; c.srai a1, 60; c.andi a2, -2 */, { a0: MIN, a1: MIN, a2: 0xff } => { a0: 8, a1: M - 7, a2: 0xfe });
insn_test!(c_sub_c_xor_c_or_c_and, [0x0d, 0x8d, 0x2d, 0x8e, 0xcd, 0x8e, 0x6d, 0x8f] /* c.sub a0, a1; c.xor a2, a1; c.or a3, a1; c.and a4, a1 */, { a0: 10, a1: 0b0110, a2: 0b0011, a3: 0b1000, a4: 0b1100 } => { a0: 4, a2: 0b0101, a3: 0b1110, a4: 0b0100 });
insn_test!(c_subw_c_addw, [0x0d, 0x9d, 0x2d, 0x9e] /* c.subw a0, a1; c.addw a2, a1 */, { a0: 0, a1: 1, a2: 0x7fff_ffff } => { a0: M, a2: 0xffff_ffff_8000_0000 });
insn_test!(c_j, [0x29, 0xa0] /* c.j .+10 */, {} => { pc: 0x10_000a });
insn_test!(c_beqz_c_bnez, [0x19, 0xc1, 0x35, 0xe1] /* c.beqz a0, .+6; c.bnez a0, .+100 */, { a0: 1 } => { pc: 0x10_0066 });
insn_test!(c_slli, [0x7e, 0x15] /* c.slli a0, 63 */, { a0: 1 } => { a0: MIN });
insn_test!(c_fldsp_c_fsdsp, [0x7e, 0x35, 0x2a, 0xa0] /* c.fldsp fa0, 504(sp); c.fsdsp fa0, 0(sp) */, { sp: 0x2000 } mem { 0x21f8: [9] } => { fa0: 9 } mem { 0x2000: [9, 0, 0, 0, 0, 0, 0, 0] });
insn_test!(c_lwsp_c_swsp, [0x7e, 0x55, 0x2a, 0xc2] /* c.lwsp a0, 252(sp); c.swsp a0, 4(sp) */, { sp: 0x2000 } mem { 0x20fc: [0xfe, 0xff, 0xff, 0xff] } => { a0: M - 1 } mem { 0x2004: [0xfe, 0xff, 0xff, 0xff] });
insn_test!(c_lwsp_x0_is_illegal, [0x02, 0x40] /* .half 0x4002 */, {} => { exc: EXC_ILLEGAL_INSN });
insn_test!(c_ldsp_c_sdsp, [0x22, 0x65, 0xaa, 0xff] /* c.ldsp a0, 8(sp); c.sdsp a0, 504(sp) */, { sp: 0x2000 } mem { 0x2008: [7] } => { a0: 7 } mem { 0x21f8: [7, 0, 0, 0, 0, 0, 0, 0] });
insn_test!(c_ldsp_x0_is_illegal, [0x02, 0x60] /* .half 0x6002 */, {} => { exc: EXC_ILLEGAL_INSN });
insn_test!(c_jr, [0x02, 0x85] /* c.jr a0 */, { a0: 0x3000 } => { pc: 0x3000 });
insn_test!(c_jr_x0_is_illegal, [0x02, 0x80] /* .half 0x8002 */, {} => { exc: EXC_ILLEGAL_INSN, tval: 0x8002 });
insn_test!(c_jalr_links_pc_plus_2, [0x02, 0x95] /* c.jalr a0 */, { a0: 0x3001 } => { ra: 0x10_0002, pc: 0x3000 });
insn_test!(c_mv_c_add, [0x2e, 0x85, 0x2e, 0x95] /* c.mv a0, a1; c.add a0, a1 */, { a1: 21 } => { a0: 42 });
insn_test!(reserved_compressed_is_illegal, [0x00, 0x80] /* .half 0x8000 */, {} => { exc: EXC_ILLEGAL_INSN });
insn_test!(mixed_lengths_advance_pc, [0x05, 0x05, 0x13, 0x05, 0x25, 0x00, 0x11, 0x05] /* c.addi a0, 1; addi a0, a0, 2; c.addi a0, 4 */, {} => { a0: 7 });

// ---- F and D (§11, §12) ----
insn_test!(flw_boxes, [0x07, 0xa5, 0x05, 0x00] /* flw fa0, 0(a1) */, { a1: 0x2000 } mem { 0x2000: [0, 0, 0x80, 0x3f] } => { fa0: ONE_S });
insn_test!(fsw_stores_low_bits_unchecked, [0x27, 0xa0, 0xa5, 0x00] /* fsw fa0, 0(a1) */, { a1: 0x2000, fa0: 0x1234_5678_3f80_0000 } => {} mem { 0x2000: [0, 0, 0x80, 0x3f, 0] });
insn_test!(fld_fsd, [0x07, 0xb5, 0x05, 0x00, 0x27, 0xb4, 0xa5, 0x00] /* fld fa0, 0(a1); fsd fa0, 8(a1) */, { a1: 0x2000 } mem { 0x2000: [1, 2, 3, 4, 5, 6, 7, 8] } => { fa0: 0x0807_0605_0403_0201 } mem { 0x2008: [1, 2, 3, 4, 5, 6, 7, 8] });
insn_test!(fadd_s, [0x53, 0xf5, 0xc5, 0x00] /* fadd.s fa0, fa1, fa2 */, { fa1: ONE_S, fa2: TWO_S } => { fa0: THREE_S });
insn_test!(fadd_s_unboxed_operand_is_canonical_nan, [0x53, 0xf5, 0xc5, 0x00] /* fadd.s fa0, fa1, fa2 */, { fa1: 0x3f80_0000, fa2: TWO_S } => { fa0: CANON_S });
insn_test!(fadd_s_snan_sets_nv, [0x53, 0xf5, 0xc5, 0x00] /* fadd.s fa0, fa1, fa2 */, { fa1: bx(0x7fa0_0000), fa2: ONE_S } => { fa0: CANON_S, fflags: NV });
insn_test!(fsub_d_inf_minus_inf, [0x53, 0xf5, 0xc5, 0x0a] /* fsub.d fa0, fa1, fa2 */, { fa1: 0x7ff0_0000_0000_0000, fa2: 0x7ff0_0000_0000_0000 } => { fa0: CANON_D, fflags: NV });
insn_test!(fdiv_d_by_zero, [0x53, 0xf5, 0xc5, 0x1a] /* fdiv.d fa0, fa1, fa2 */, { fa1: ONE_D, fa2: 0 } => { fa0: 0x7ff0_0000_0000_0000, fflags: DZ });
insn_test!(fmul_d_overflow, [0x53, 0xf5, 0xb5, 0x12] /* fmul.d fa0, fa1, fa1 */, { fa1: 0x7fe0_0000_0000_0000 } => { fa0: 0x7ff0_0000_0000_0000, fflags: OF | NX });
insn_test!(fmul_d_overflow_rtz_gives_max, [0x53, 0x95, 0xb5, 0x12] /* fmul.d fa0, fa1, fa1, rtz */, { fa1: 0x7fe0_0000_0000_0000 } => { fa0: 0x7fef_ffff_ffff_ffff, fflags: OF | NX });
insn_test!(fmul_s_underflow, [0x53, 0xf5, 0xb5, 0x10] /* fmul.s fa0, fa1, fa1 */, { fa1: bx(0x0080_0000) } => { fa0: bx(0), fflags: UF | NX });
insn_test!(fdiv_s_inexact, [0x53, 0xf5, 0xc5, 0x18] /* fdiv.s fa0, fa1, fa2 */, { fa1: ONE_S, fa2: THREE_S } => { fa0: bx(0x3eaa_aaab), fflags: NX });
insn_test!(fdiv_s_rounding_modes, [0x53, 0x85, 0xc5, 0x18, 0xd3, 0x96, 0xc5, 0x18, 0x53, 0xa7, 0xc5, 0x18, 0xd3, 0xb7, 0xc5, 0x18, 0x53, 0xc8, 0xc5, 0x18] /* fdiv.s fa0, fa1, fa2, rne; fdiv.s fa3, fa1, fa2, rtz; fdiv.s fa4, fa1, fa2, rdn; fdiv.s fa5, fa1, fa2, rup; fdiv.s fa6, fa1, fa2, rmm */,
    { fa1: bx(0xbf80_0000), fa2: THREE_S } => { fa0: bx(0xbeaa_aaab), fa3: bx(0xbeaa_aaaa), fa4: bx(0xbeaa_aaab), fa5: bx(0xbeaa_aaaa), fa6: bx(0xbeaa_aaab), fflags: NX });
insn_test!(dyn_rounding_uses_frm, [0x53, 0xf5, 0xc5, 0x18] /* fdiv.s fa0, fa1, fa2, dyn */, { fa1: ONE_S, fa2: THREE_S, frm: 3 } => { fa0: bx(0x3eaa_aaab), fflags: NX });
insn_test!(dyn_rounding_frm_rtz, [0x53, 0xf5, 0xc5, 0x18] /* fdiv.s fa0, fa1, fa2, dyn */, { fa1: ONE_S, fa2: THREE_S, frm: 1 } => { fa0: bx(0x3eaa_aaaa), fflags: NX });
insn_test!(dyn_with_invalid_frm_is_illegal, [0x53, 0xf5, 0xc5, 0x02] /* fadd.d fa0, fa1, fa2, dyn */, { frm: 5 } => { exc: EXC_ILLEGAL_INSN });
insn_test!(reserved_rm_is_illegal, [0x53, 0xd5, 0xc5, 0x02] /* .word 0x02c5d553 */, {} => { exc: EXC_ILLEGAL_INSN, tval: 0x02c5_d553 });
insn_test!(fsqrt_d_negative_is_nv, [0x53, 0xf5, 0x05, 0x5a] /* fsqrt.d fa0, fa1 */, { fa1: 0xbff0_0000_0000_0000 } => { fa0: CANON_D, fflags: NV });
insn_test!(fsqrt_s_exact, [0x53, 0xf5, 0x05, 0x58] /* fsqrt.s fa0, fa1 */, { fa1: bx(0x4080_0000) } => { fa0: TWO_S });
insn_test!(fmadd_d_single_rounding, [0x43, 0xf5, 0xc5, 0x6a] /* fmadd.d fa0, fa1, fa2, fa3 */, { fa1: ONE_D, fa2: TWO_D, fa3: ONE_D } => { fa0: THREE_D });
insn_test!(fmsub_fnmsub_fnmadd_d, [0x47, 0xf5, 0xc5, 0x6a, 0x4b, 0xf7, 0xc5, 0x6a, 0xcf, 0xf7, 0xc5, 0x6a] /* fmsub.d fa0, fa1, fa2, fa3; fnmsub.d fa4, fa1, fa2, fa3; fnmadd.d fa5, fa1, fa2, fa3 */,
    { fa1: ONE_D, fa2: TWO_D, fa3: ONE_D } => { fa0: ONE_D, fa4: 0xbff0_0000_0000_0000, fa5: 0xc008_0000_0000_0000 });
insn_test!(fmadd_s_inf_times_zero_is_nv, [0x43, 0xf5, 0xc5, 0x68] /* fmadd.s fa0, fa1, fa2, fa3 */, { fa1: bx(0x7f80_0000), fa2: bx(0), fa3: ONE_S } => { fa0: CANON_S, fflags: NV });
insn_test!(fnmadd_s_rdn_zero_sign, [0x4f, 0xa5, 0xc5, 0x68] /* fnmadd.s fa0, fa1, fa2, fa3, rdn */, { fa1: ONE_S, fa2: ONE_S, fa3: bx(0xbf80_0000) } => { fa0: bx(0x8000_0000) });
insn_test!(fmsub_s_fnmsub_s, [0x47, 0xf5, 0xc5, 0x68, 0x4b, 0xf7, 0xc5, 0x68] /* fmsub.s fa0, fa1, fa2, fa3; fnmsub.s fa4, fa1, fa2, fa3 */, { fa1: TWO_S, fa2: TWO_S, fa3: ONE_S } => { fa0: THREE_S, fa4: bx(0xc040_0000) });
insn_test!(fsgnj_s_family, [0x53, 0x85, 0xc5, 0x20, 0xd3, 0x96, 0xc5, 0x20, 0x53, 0xa7, 0xc5, 0x20] /* fsgnj.s fa0, fa1, fa2; fsgnjn.s fa3, fa1, fa2; fsgnjx.s fa4, fa1, fa2 */, { fa1: ONE_S, fa2: bx(0x8000_0000) } => { fa0: bx(0xbf80_0000), fa3: ONE_S, fa4: bx(0xbf80_0000) });
insn_test!(fsgnj_s_unboxed_is_canonical_nan, [0x53, 0x85, 0xb5, 0x20] /* fsgnj.s fa0, fa1, fa1 */, { fa1: 0xbf80_0000 } => { fa0: CANON_S });
insn_test!(fsgnj_d_family, [0x53, 0x85, 0xc5, 0x22, 0xd3, 0x96, 0xc5, 0x22, 0x53, 0xa7, 0xc5, 0x22] /* fsgnj.d fa0, fa1, fa2; fsgnjn.d fa3, fa1, fa2; fsgnjx.d fa4, fa1, fa2 */, { fa1: ONE_D | MIN, fa2: MIN } => { fa0: ONE_D | MIN, fa3: ONE_D, fa4: ONE_D });
insn_test!(fmin_fmax_s_signed_zero, [0x53, 0x85, 0xc5, 0x28, 0xd3, 0x96, 0xc5, 0x28] /* fmin.s fa0, fa1, fa2; fmax.s fa3, fa1, fa2 */, { fa1: bx(0), fa2: bx(0x8000_0000) } => { fa0: bx(0x8000_0000), fa3: bx(0) });
insn_test!(fmin_d_nan_operand_ignored, [0x53, 0x85, 0xc5, 0x2a] /* fmin.d fa0, fa1, fa2 */, { fa1: CANON_D, fa2: TWO_D } => { fa0: TWO_D });
insn_test!(fmax_d_both_nan_canonical, [0x53, 0x95, 0xc5, 0x2a] /* fmax.d fa0, fa1, fa2 */, { fa1: SNAN_D, fa2: 0x7ff8_0000_0000_0001 } => { fa0: CANON_D, fflags: NV });
insn_test!(fmax_s_snan_sets_nv, [0x53, 0x95, 0xc5, 0x28] /* fmax.s fa0, fa1, fa2 */, { fa1: bx(0x7fa0_0000), fa2: ONE_S } => { fa0: ONE_S, fflags: NV });
insn_test!(feq_quiet_nan_no_flag, [0x53, 0xa5, 0xc5, 0xa2] /* feq.d a0, fa1, fa2 */, { a0: 5, fa1: CANON_D, fa2: CANON_D } => { a0: 0 });
insn_test!(feq_snan_sets_nv, [0x53, 0xa5, 0xc5, 0xa0] /* feq.s a0, fa1, fa2 */, { fa1: bx(0x7fa0_0000), fa2: ONE_S } => { a0: 0, fflags: NV });
insn_test!(flt_quiet_nan_signals, [0x53, 0x95, 0xc5, 0xa2] /* flt.d a0, fa1, fa2 */, { a0: 5, fa1: CANON_D, fa2: ONE_D } => { a0: 0, fflags: NV });
insn_test!(fle_s_equal, [0x53, 0x85, 0xc5, 0xa0, 0xd3, 0x95, 0xc5, 0xa0] /* fle.s a0, fa1, fa2; flt.s a1, fa1, fa2 */, { fa1: ONE_S, fa2: ONE_S } => { a0: 1, a1: 0 });
insn_test!(feq_d_signed_zeros_equal, [0x53, 0xa5, 0xc5, 0xa2] /* feq.d a0, fa1, fa2 */, { fa1: 0, fa2: MIN } => { a0: 1 });
insn_test!(fclass_s_and_d, [0x53, 0x95, 0x05, 0xe0, 0xd3, 0x15, 0x06, 0xe2, 0x53, 0x96, 0x06, 0xe0] /* fclass.s a0, fa1; fclass.d a1, fa2; fclass.s a2, fa3 */, { fa1: bx(0xff80_0000), fa2: SNAN_D, fa3: 0x3f80_0000 } => { a0: 1, a1: 0x100, a2: 0x200 });
insn_test!(fcvt_w_s_nan_saturates_max, [0x53, 0xf5, 0x05, 0xc0] /* fcvt.w.s a0, fa1 */, { fa1: CANON_S } => { a0: 0x7fff_ffff, fflags: NV });
insn_test!(fcvt_w_d_negative_overflow, [0x53, 0xf5, 0x05, 0xc2] /* fcvt.w.d a0, fa1 */, { fa1: 0xc1e0_0000_0020_0000 } => { a0: 0xffff_ffff_8000_0000, fflags: NV });
insn_test!(fcvt_wu_d_negative_is_zero_nv, [0x53, 0xf5, 0x15, 0xc2] /* fcvt.wu.d a0, fa1 */, { a0: 9, fa1: 0xbff0_0000_0000_0000 } => { a0: 0, fflags: NV });
insn_test!(fcvt_wu_s_result_sign_extended, [0x53, 0xf5, 0x15, 0xc0] /* fcvt.wu.s a0, fa1 */, { fa1: bx(0x4f7f_ffff) } => { a0: 0xffff_ffff_ffff_ff00 });
insn_test!(fcvt_wu_s_small_negative_rounds_to_zero, [0x53, 0x95, 0x15, 0xc0] /* fcvt.wu.s a0, fa1, rtz */, { a0: 3, fa1: bx(0xbf00_0000) } => { a0: 0, fflags: NX });
insn_test!(fcvt_l_d_rounding, [0x53, 0x85, 0x25, 0xc2, 0xd3, 0xa5, 0x25, 0xc2, 0x53, 0xb6, 0x25, 0xc2, 0xd3, 0xc6, 0x25, 0xc2, 0x53, 0x97, 0x25, 0xc2] /* fcvt.l.d a0, fa1, rne; fcvt.l.d a1, fa1, rdn; fcvt.l.d a2, fa1, rup; fcvt.l.d a3, fa1, rmm; fcvt.l.d a4, fa1, rtz */,
    { fa1: 0xc004_0000_0000_0000 } => { a0: -2i64 as u64, a1: -3i64 as u64, a2: -2i64 as u64, a3: -3i64 as u64, a4: -2i64 as u64, fflags: NX });
insn_test!(fcvt_lu_s_inf_saturates, [0x53, 0xf5, 0x35, 0xc0] /* fcvt.lu.s a0, fa1 */, { fa1: bx(0x7f80_0000) } => { a0: M, fflags: NV });
insn_test!(fcvt_l_s_min, [0x53, 0xf5, 0x25, 0xc0] /* fcvt.l.s a0, fa1 */, { fa1: bx(0xdf00_0000) } => { a0: MIN });
insn_test!(fcvt_lu_d_exact, [0x53, 0xf5, 0x35, 0xc2] /* fcvt.lu.d a0, fa1 */, { fa1: 0x43e0_0000_0000_0000 } => { a0: MIN });
insn_test!(fcvt_s_w_and_wu, [0x53, 0xf5, 0x05, 0xd0, 0xd3, 0xf5, 0x15, 0xd0] /* fcvt.s.w fa0, a1; fcvt.s.wu fa1, a1 */, { a1: 0xffff_ffff } => { fa0: bx(0xbf80_0000), fa1: bx(0x4f80_0000), fflags: NX });
insn_test!(fcvt_s_l_and_lu, [0x53, 0xf5, 0x25, 0xd0, 0xd3, 0xf5, 0x35, 0xd0] /* fcvt.s.l fa0, a1; fcvt.s.lu fa1, a1 */, { a1: M } => { fa0: bx(0xbf80_0000), fa1: bx(0x5f80_0000), fflags: NX });
insn_test!(fcvt_d_w_wu_l_lu, [0x53, 0x85, 0x05, 0xd2, 0xd3, 0x85, 0x15, 0xd2, 0x53, 0x76, 0x26, 0xd2, 0xd3, 0x76, 0x36, 0xd2] /* fcvt.d.w fa0, a1; fcvt.d.wu fa1, a1; fcvt.d.l fa2, a2; fcvt.d.lu fa3, a2 */, { a1: 0xffff_ffff, a2: 3 } => { fa0: 0xbff0_0000_0000_0000, fa1: 0x41ef_ffff_ffe0_0000, fa2: THREE_D, fa3: THREE_D });
insn_test!(fcvt_d_l_inexact, [0x53, 0x95, 0x25, 0xd2] /* fcvt.d.l fa0, a1, rtz */, { a1: M >> 1 } => { fa0: 0x43df_ffff_ffff_ffff, fflags: NX });
insn_test!(fcvt_s_d_rounds_and_canonicalizes, [0x53, 0xf5, 0x15, 0x40, 0x53, 0xf6, 0x16, 0x40] /* fcvt.s.d fa0, fa1; fcvt.s.d fa2, fa3 */, { fa1: 0x3fb9_9999_9999_999a, fa3: SNAN_D } => { fa0: bx(0x3dcc_cccd), fa2: CANON_S, fflags: NV | NX });
insn_test!(fcvt_d_s_exact, [0x53, 0x85, 0x05, 0x42] /* fcvt.d.s fa0, fa1 */, { fa1: bx(0xbfc0_0000) } => { fa0: 0xbff8_0000_0000_0000 });
insn_test!(fcvt_d_s_unboxed_is_nan, [0x53, 0x85, 0x05, 0x42] /* fcvt.d.s fa0, fa1 */, { fa1: 0x3f80_0000 } => { fa0: CANON_D });
insn_test!(fmv_x_w_sign_extends_unchecked, [0x53, 0x85, 0x05, 0xe0] /* fmv.x.w a0, fa1 */, { fa1: 0x1234_5678_8000_0001 } => { a0: 0xffff_ffff_8000_0001 });
insn_test!(fmv_w_x_boxes, [0x53, 0x85, 0x05, 0xf0] /* fmv.w.x fa0, a1 */, { a1: 0x1234_5678_3f80_0000 } => { fa0: ONE_S });
insn_test!(fmv_x_d_fmv_d_x, [0x53, 0x85, 0x05, 0xf2, 0x53, 0x06, 0x05, 0xe2] /* fmv.d.x fa0, a1; fmv.x.d a2, fa0 */, { a1: SNAN_D } => { fa0: SNAN_D, a2: SNAN_D });
insn_test!(fflags_accrue, [0x53, 0xf5, 0xc5, 0x1a, 0xd3, 0x76, 0xe7, 0x02] /* fdiv.d fa0, fa1, fa2; fadd.d fa3, fa4, fa4 */, { fa1: ONE_D, fa2: 0, fa4: SNAN_D, fflags: NX } => { fa0: 0x7ff0_0000_0000_0000, fa3: CANON_D, fflags: NX | DZ | NV });

/// Lines of coverage.expected where Debian's qemu-riscv64 (7.2) is wrong and remu follows the
/// specification instead; each is covered by a per-instruction test above.
const QEMU_BUGS: &[(&str, &str)] = &[(
    "ctzw",
    "QEMU 7.2 counts into the upper word: ctzw(0x8000000000000000) gives 63, the Bitmanip spec 32 \
     (see ctzw_low_word_zero)",
)];

/// Whole programs from guests/riscv64 on every runner: stdout and exit status must match
/// qemu-riscv64's (the committed `.expected` files), except for the lines of [`QEMU_BUGS`].
fn guest_program(name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/riscv64");
    let elf = std::fs::read(dir.join(name)).expect("guest binary (built by guests/build.sh)");
    let expected = std::fs::read(dir.join(format!("{name}.expected"))).ok();
    for &r in crate::rv_harness::RUNNERS {
        if r == crate::rv_harness::Runner::EvalUnoptimized && expected.is_some() {
            continue; // the long program: optimized IR only (the unoptimized path is covered above)
        }
        let (out, status) = crate::rv_harness::run_elf(r, &elf);
        assert_eq!(status, 0, "{name} on {r:?}: exit status");
        match &expected {
            Some(e) => {
                let (got, want) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(e));
                let known = |l: &str| QEMU_BUGS.iter().any(|(m, _)| l.split(' ').next() == Some(*m));
                assert_eq!(got.lines().count(), want.lines().count(), "{name} on {r:?}: number of lines");
                let diff: Vec<_> = got
                    .lines()
                    .zip(want.lines())
                    .filter(|(g, w)| g != w && !known(w))
                    .map(|(g, w)| format!("got {g} want {w}"))
                    .collect();
                assert!(diff.is_empty(), "{name} on {r:?}: output differs from qemu-riscv64:\n{}", diff.join("\n"));
            }
            None => assert_eq!(out, b"Hello from remu (riscv64)!\n", "{name} on {r:?}"),
        }
    }
}

#[test]
fn riscv64_guest_hello() {
    guest_program("hello");
}

#[test]
fn riscv64_guest_coverage_matches_qemu() {
    guest_program("coverage");
}
