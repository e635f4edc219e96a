//! One-line disassembly in objdump's style (`addi sp, sp, -16`, `ld ra, 8(sp)`), used by
//! `-d in_asm` fallbacks, error messages and the capstone cross-check. Compressed instructions
//! are shown as the instruction they expand to, as `objdump -d` does; no pseudo-instruction
//! aliases are used.

use super::decode::{self, Insn};

/// ABI names of the integer registers.
pub const XNAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2",
    "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
];
/// ABI names of the floating-point registers.
pub const FNAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
    "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

fn x(r: u8) -> &'static str {
    XNAMES[r as usize & 31]
}
fn f(r: u8) -> &'static str {
    FNAMES[r as usize & 31]
}

fn csr_name(c: u16) -> String {
    match c {
        0x001 => "fflags".into(),
        0x002 => "frm".into(),
        0x003 => "fcsr".into(),
        0xc00 => "cycle".into(),
        0xc01 => "time".into(),
        0xc02 => "instret".into(),
        _ => format!("{c:#x}"),
    }
}

fn rm_suffix(rm: u8) -> &'static str {
    match rm {
        0 => ", rne",
        1 => ", rtz",
        2 => ", rdn",
        3 => ", rup",
        4 => ", rmm",
        7 => "",
        _ => ", invalid-rm",
    }
}

/// Register classes (rd, rs) of an FP mnemonic: true = f register.
fn fp_classes(name: &str) -> (bool, bool) {
    let to_int = name.starts_with("fcvt_w")
        || name.starts_with("fcvt_l")
        || name.starts_with("fmv_x")
        || name.starts_with("fclass")
        || name.starts_with("feq")
        || name.starts_with("flt")
        || name.starts_with("fle");
    let from_int = name.starts_with("fmv_w_x")
        || name.starts_with("fmv_d_x")
        || ((name.starts_with("fcvt_s_") || name.starts_with("fcvt_d_")) && !matches!(name, "fcvt_s_d" | "fcvt_d_s"));
    if to_int {
        (false, true)
    } else if from_int {
        (true, false)
    } else {
        (true, true)
    }
}

/// Disassembles the instruction `insn` of `len` bytes at `pc`.
pub fn disas(pc: u64, insn: u32, len: u32) -> String {
    let d = if len == 2 { decode::decode16(insn as u16) } else { decode::decode32(insn) };
    let Some(i) = d else {
        return if len == 2 { format!(".insn 2, {insn:#06x}") } else { format!(".insn 4, {insn:#010x}") };
    };
    let m = i.mnemonic();
    let name = i.name();
    let is_fp = name.starts_with('f') && !name.starts_with("fence");
    let (fd, fs) = if is_fp { fp_classes(name) } else { (false, false) };
    let rd = |r: u8| if fd { f(r) } else { x(r) };
    let rs = |r: u8| if fs { f(r) } else { x(r) };
    match i {
        Insn::illegal(_) => "illegal".into(),
        Insn::lui(a) | Insn::auipc(a) => format!("{m} {}, {:#x}", x(a.rd), (a.imm as u64 >> 12) & 0xfffff),
        Insn::jal(a) => format!("{m} {}, {:#x}", x(a.rd), pc.wrapping_add(a.imm as u64)),
        Insn::jalr(a) => format!("{m} {}, {}({})", x(a.rd), a.imm, x(a.rs1)),
        Insn::beq(a) | Insn::bne(a) | Insn::blt(a) | Insn::bge(a) | Insn::bltu(a) | Insn::bgeu(a) => {
            format!("{m} {}, {}, {:#x}", x(a.rs1), x(a.rs2), pc.wrapping_add(a.imm as u64))
        }
        Insn::lb(a)
        | Insn::lh(a)
        | Insn::lw(a)
        | Insn::ld(a)
        | Insn::lbu(a)
        | Insn::lhu(a)
        | Insn::lwu(a)
        | Insn::flw(a)
        | Insn::fld(a) => format!("{m} {}, {}({})", rd(a.rd), a.imm, x(a.rs1)),
        Insn::sb(a) | Insn::sh(a) | Insn::sw(a) | Insn::sd(a) => {
            format!("{m} {}, {}({})", x(a.rs2), a.imm, x(a.rs1))
        }
        Insn::fsw(a) | Insn::fsd(a) => format!("{m} {}, {}({})", f(a.rs2), a.imm, x(a.rs1)),
        Insn::fence(a) => {
            let set = |s: u8| {
                let mut t = String::new();
                for (bit, c) in [(8, 'i'), (4, 'o'), (2, 'r'), (1, 'w')] {
                    if s & bit != 0 {
                        t.push(c);
                    }
                }
                t
            };
            format!("{m} {}, {}", set(a.pred), set(a.succ))
        }
        Insn::fence_i(_) | Insn::ecall(_) | Insn::ebreak(_) => m,
        Insn::csrrw(a) | Insn::csrrs(a) | Insn::csrrc(a) => {
            format!("{m} {}, {}, {}", x(a.rd), csr_name(a.csr), x(a.rs1))
        }
        Insn::csrrwi(a) | Insn::csrrsi(a) | Insn::csrrci(a) => {
            format!("{m} {}, {}, {}", x(a.rd), csr_name(a.csr), a.rs1)
        }
        _ => disas_generic(&i, &m, rd, rs),
    }
}

/// The remaining shapes, by argument set.
fn disas_generic(i: &Insn, m: &str, rd: impl Fn(u8) -> &'static str, rs: impl Fn(u8) -> &'static str) -> String {
    use std::any::Any;
    // Each variant's payload is one of the argument sets; print by its type.
    let payload: &dyn Any = match i {
        Insn::addi(a)
        | Insn::slti(a)
        | Insn::sltiu(a)
        | Insn::xori(a)
        | Insn::ori(a)
        | Insn::andi(a)
        | Insn::addiw(a) => a,
        _ => &(),
    };
    if let Some(a) = payload.downcast_ref::<decode::ArgsI>() {
        return format!("{m} {}, {}, {}", x(a.rd), x(a.rs1), a.imm);
    }
    macro_rules! by_args {
        ($($v:ident),* $(,)?) => {
            match i { $(Insn::$v(a) => Some(a as &dyn Any),)* _ => None }
        };
    }
    let any = by_args!(
        slli, srli, srai, slliw, srliw, sraiw, slli_uw, rori, roriw, bclri, bexti, binvi, bseti, add, sub, sll, slt,
        sltu, xor, srl, sra, or, and, addw, subw, sllw, srlw, sraw, mul, mulh, mulhsu, mulhu, div, divu, rem, remu,
        mulw, divw, divuw, remw, remuw, sh1add, sh2add, sh3add, add_uw, sh1add_uw, sh2add_uw, sh3add_uw, andn, orn,
        xnor, max, maxu, min, minu, rol, ror, rolw, rorw, bclr, bext, binv, bset, clz, ctz, cpop, clzw, ctzw, cpopw,
        sext_b, sext_h, zext_h, orc_b, rev8, lr_w, sc_w, amoswap_w, amoadd_w, amoxor_w, amoand_w, amoor_w, amomin_w,
        amomax_w, amominu_w, amomaxu_w, lr_d, sc_d, amoswap_d, amoadd_d, amoxor_d, amoand_d, amoor_d, amomin_d,
        amomax_d, amominu_d, amomaxu_d, fmadd_s, fmsub_s, fnmsub_s, fnmadd_s, fmadd_d, fmsub_d, fnmsub_d, fnmadd_d,
        fadd_s, fsub_s, fmul_s, fdiv_s, fadd_d, fsub_d, fmul_d, fdiv_d, fsqrt_s, fsqrt_d, fsgnj_s, fsgnjn_s, fsgnjx_s,
        fmin_s, fmax_s, fsgnj_d, fsgnjn_d, fsgnjx_d, fmin_d, fmax_d, feq_s, flt_s, fle_s, feq_d, flt_d, fle_d,
        fcvt_w_s, fcvt_wu_s, fcvt_l_s, fcvt_lu_s, fcvt_s_w, fcvt_s_wu, fcvt_s_l, fcvt_s_lu, fcvt_w_d, fcvt_wu_d,
        fcvt_l_d, fcvt_lu_d, fcvt_d_w, fcvt_d_wu, fcvt_d_l, fcvt_d_lu, fcvt_s_d, fcvt_d_s, fmv_x_w, fmv_w_x, fmv_x_d,
        fmv_d_x, fclass_s, fclass_d,
    );
    let Some(any) = any else { return m.to_string() };
    if let Some(a) = any.downcast_ref::<decode::ArgsShift>() {
        return format!("{m} {}, {}, {}", x(a.rd), x(a.rs1), a.shamt);
    }
    if let Some(a) = any.downcast_ref::<decode::ArgsR>() {
        return format!("{m} {}, {}, {}", rd(a.rd), rs(a.rs1), rs(a.rs2));
    }
    if let Some(a) = any.downcast_ref::<decode::ArgsR2>() {
        return format!("{m} {}, {}", rd(a.rd), rs(a.rs1));
    }
    if let Some(a) = any.downcast_ref::<decode::ArgsAtomic>() {
        let ord = match (a.aq, a.rl) {
            (0, 0) => "",
            (1, 0) => ".aq",
            (0, 1) => ".rl",
            _ => ".aqrl",
        };
        return if m.starts_with("lr") {
            format!("{m}{ord} {}, ({})", x(a.rd), x(a.rs1))
        } else {
            format!("{m}{ord} {}, {}, ({})", x(a.rd), x(a.rs2), x(a.rs1))
        };
    }
    if let Some(a) = any.downcast_ref::<decode::ArgsR4>() {
        return format!("{m} {}, {}, {}, {}{}", f(a.rd), f(a.rs1), f(a.rs2), f(a.rs3), rm_suffix(a.rm));
    }
    if let Some(a) = any.downcast_ref::<decode::ArgsRRm>() {
        return format!("{m} {}, {}, {}{}", f(a.rd), f(a.rs1), f(a.rs2), rm_suffix(a.rm));
    }
    if let Some(a) = any.downcast_ref::<decode::ArgsR2Rm>() {
        return format!("{m} {}, {}{}", rd(a.rd), rs(a.rs1), rm_suffix(a.rm));
    }
    m.to_string()
}

#[cfg(test)]
mod tests {
    use super::disas;

    #[test]
    fn objdump_like_output() {
        // encodings from GNU as; text as objdump -M no-aliases prints it, with ", " separators
        let cases: &[(u32, u32, &str)] = &[
            (0xffb5_8513, 4, "addi a0, a1, -5"),
            (0x00f1_3c23, 4, "sd a5, 24(sp)"),
            (0xfeb5_08e3, 4, "beq a0, a1, 0xff0"),
            (0x6ac5_9543, 4, "fmadd.d fa0, fa1, fa2, fa3, rtz"),
            (0x06b6_252f, 4, "amoadd.w.aqrl a0, a1, (a2)"),
            (0x1405_a52f, 4, "lr.w.aq a0, (a1)"),
            (0x0010_2573, 4, "csrrs a0, fflags, zero"),
            (0xe000_0553, 4, "fmv.x.w a0, ft0"),
            (0xd005_7553, 4, "fcvt.s.w fa0, a0"),
            (0x8000_0537, 4, "lui a0, 0x80000"),
            (0x2000_0513 | (1 << 27) | (0b001 << 12), 4, "bseti a0, zero, 0"),
            (0x7139, 2, "addi sp, sp, -64"),
            (0x8082, 2, "jalr zero, 0(ra)"),
            (0x0000, 2, "illegal"),
            (0x8000, 2, ".insn 2, 0x8000"),
            (0xffff_ffff, 4, ".insn 4, 0xffffffff"),
        ];
        for &(w, len, want) in cases {
            assert_eq!(disas(0x1000, w, len), want, "{w:#x}");
        }
    }
}
