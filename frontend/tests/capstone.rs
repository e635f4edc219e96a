//! Cross-check of the decoder's mnemonics against capstone (crate capstone 0.14, Capstone 5).
//!
//! Capstone 5's RISC-V module decodes RV64 I, M, A, F, D and C (plus Zicsr/Zifencei, which it
//! treats as base instructions). It knows nothing of Zba, Zbb and Zbs, so encodings that our
//! table decodes as bit-manipulation instructions are left out of the comparison; so are
//! reserved encodings we reject on purpose (capstone decodes some of them, e.g. reserved
//! compressed hints). Capstone also rejects `fence` with non-zero fm/rs1/rd fields and `fence.i`
//! with non-zero imm/rs1/rd, which the spec tells implementations to ignore; those fields are
//! cleared in the sample, and so is the rounding mode of the exact conversions fcvt.d.s,
//! fcvt.d.w and fcvt.d.wu, which capstone only decodes with rm = 0 (any rm is valid). FP encodings with a reserved rounding mode (5, 6) are illegal for
//! both, at different stages (we reject them at translation), and are skipped. Compressed
//! HINT encodings (c.li/c.lui/c.mv/c.add/c.slli with rd = x0, c.addi with a zero immediate,
//! ...) execute as no-ops per the spec, but capstone does not decode them. Capstone prints a few aliases even for plain encodings; those are
//! mapped back to the base mnemonic before comparing.

use capstone::arch::riscv::{ArchExtraMode, ArchMode};
use capstone::arch::{BuildsCapstone, BuildsCapstoneExtraMode};
use capstone::Capstone;
use frontend::riscv64::decode::{self, PATS16, PATS32};

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// Mnemonics of the Zb* extensions (capstone 5 cannot decode them).
fn is_zb(name: &str) -> bool {
    const ZB: &[&str] = &[
        "sh1add",
        "sh2add",
        "sh3add",
        "add_uw",
        "sh1add_uw",
        "sh2add_uw",
        "sh3add_uw",
        "slli_uw",
        "andn",
        "orn",
        "xnor",
        "clz",
        "ctz",
        "cpop",
        "clzw",
        "ctzw",
        "cpopw",
        "max",
        "maxu",
        "min",
        "minu",
        "sext_b",
        "sext_h",
        "zext_h",
        "rol",
        "ror",
        "rori",
        "rolw",
        "rorw",
        "roriw",
        "orc_b",
        "rev8",
        "bclr",
        "bclri",
        "bext",
        "bexti",
        "binv",
        "binvi",
        "bset",
        "bseti",
    ];
    ZB.contains(&name)
}

/// Capstone's alias spellings, back to the instruction they stand for.
fn unalias(m: &str, ops: &str) -> String {
    let m = m.trim_end_matches(".aqrl").trim_end_matches(".aq").trim_end_matches(".rl");
    let base = match m {
        "nop" => "addi",
        "li" | "mv" => "addi",
        "not" => "xori",
        "neg" => "sub",
        "negw" => "subw",
        "sext.w" => "addiw",
        "seqz" => "sltiu",
        "snez" | "sltz" | "sgtz" => {
            if m == "snez" {
                "sltu"
            } else {
                "slt"
            }
        }
        "beqz" => "beq",
        "bnez" => "bne",
        "blez" | "bgez" => "bge",
        "bltz" | "bgtz" => "blt",
        "bgt" => "blt",
        "ble" => "bge",
        "bgtu" => "bltu",
        "bleu" => "bgeu",
        "j" | "jal" => "jal",
        "jr" | "ret" | "jalr" => "jalr",
        "fmv.s" | "fneg.s" | "fabs.s" => {
            return match m {
                "fmv.s" => "fsgnj.s",
                "fneg.s" => "fsgnjn.s",
                _ => "fsgnjx.s",
            }
            .into()
        }
        "fmv.d" | "fneg.d" | "fabs.d" => {
            return match m {
                "fmv.d" => "fsgnj.d",
                "fneg.d" => "fsgnjn.d",
                _ => "fsgnjx.d",
            }
            .into()
        }
        "fmv.x.s" => "fmv.x.w",
        "fmv.s.x" => "fmv.w.x",
        "csrr" => "csrrs",
        "csrw" => "csrrw",
        "csrs" => "csrrs",
        "csrc" => "csrrc",
        "csrwi" => "csrrwi",
        "csrsi" => "csrrsi",
        "csrci" => "csrrci",
        "frcsr" | "frrm" | "frflags" | "rdcycle" | "rdtime" | "rdinstret" => "csrrs",
        "fscsr" | "fsrm" | "fsflags" => "csrrw",
        "fsrmi" | "fsflagsi" => "csrrwi",
        "unimp" => "csrrw",
        other => other,
    };
    let _ = ops;
    base.to_string()
}

/// An FP instruction whose rounding-mode field holds a reserved value (5, 6): our table
/// decodes it and the translator rejects it (illegal instruction), capstone rejects it at
/// decode. Either way it is illegal, so it is not compared.
fn reserved_rm(w: u32, len: u32) -> bool {
    if len != 4 {
        return false;
    }
    let Some(i) = decode::find32(w) else { return false };
    let rm_is_operand = PATS32[i].mask & 0x7000 == 0;
    let fp = matches!(w & 0x7f, 0x43 | 0x47 | 0x4b | 0x4f | 0x53);
    fp && rm_is_operand && matches!((w >> 12) & 7, 5 | 6)
}

/// Our mnemonic for a word: the pattern name (compressed forms keep their `c.` name).
fn ours(w: u32, len: u32) -> Option<String> {
    if len == 2 {
        let i = decode::find16(w as u16)?;
        let p = &PATS16[i];
        (p.name != "illegal").then(|| p.mnemonic())
    } else {
        let i = decode::find32(w)?;
        let p = &PATS32[i];
        (!is_zb(p.name)).then(|| p.mnemonic())
    }
}

fn same(ours: &str, cs: &str, ops: &str) -> bool {
    if ours == cs {
        return true;
    }
    // compressed: exact names, except that capstone calls `c.addi x0, 0` `c.nop`
    if ours.starts_with("c.") {
        return cs == "c.nop" && ours == "c.addi";
    }
    unalias(cs, ops) == ours
}

#[test]
fn mnemonics_agree_with_capstone() {
    let cs = Capstone::new()
        .riscv()
        .mode(ArchMode::RiscV64)
        .extra_mode([ArchExtraMode::RiscVC].iter().copied())
        .build()
        .expect("capstone with RISC-V support");
    let mut seed = 0x5eed_1234_abcd_0001u64;
    let (mut compared, mut cs_unknown) = (0u32, Vec::new());
    let mut mismatches = Vec::new();
    let mut per_pattern = std::collections::HashMap::new();
    // random words, biased to valid encodings: pick a pattern, fill its operand bits randomly
    for k in 0..200_000u32 {
        let (w, len) = if k % 3 == 0 {
            let p = &PATS16[(xorshift(&mut seed) as usize) % PATS16.len()];
            (((xorshift(&mut seed) as u32) & !p.mask & 0xffff) | p.bits, 2)
        } else {
            let p = &PATS32[(xorshift(&mut seed) as usize) % PATS32.len()];
            let w = ((xorshift(&mut seed) as u32) & !p.mask) | p.bits;
            // capstone only knows fences whose fm, rs1 and rd fields are zero (the spec
            // reserves them for future fences and asks implementations to ignore them)
            (
                match p.name {
                    "fence" => w & 0x0ff0_707f,
                    "fence_i" => w & 0x0000_707f,
                    // exact conversions: capstone only knows them with rm = 0
                    "fcvt_d_s" | "fcvt_d_w" | "fcvt_d_wu" => w & !0x7000,
                    _ => w,
                },
                4,
            )
        };
        let Some(m) = ours(w, len) else { continue };
        if reserved_rm(w, len) {
            continue;
        }
        let bytes = if len == 2 { (w as u16).to_le_bytes().to_vec() } else { w.to_le_bytes().to_vec() };
        let insns = cs.disasm_count(&bytes, 0x1000, 1).expect("capstone disasm");
        let Some(i) = insns.iter().next() else {
            cs_unknown.push(format!("{w:#010x} {m}"));
            continue;
        };
        let (cm, ops) = (i.mnemonic().unwrap_or(""), i.op_str().unwrap_or(""));
        compared += 1;
        *per_pattern.entry(m.clone()).or_insert(0u32) += 1;
        if !same(&m, cm, ops) {
            mismatches.push(format!("{w:#010x}: ours {m}, capstone {cm} {ops}"));
        }
    }
    mismatches.sort();
    mismatches.dedup_by(|a, b| a.split(':').nth(1) == b.split(':').nth(1));
    assert!(compared > 100_000, "too few encodings compared: {compared}");
    assert!(
        mismatches.is_empty(),
        "{} mnemonic mismatches with capstone (first 40):\n{}",
        mismatches.len(),
        mismatches.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
    // every non-Zb pattern was compared at least once
    for p in PATS32.iter().filter(|p| !is_zb(p.name)) {
        assert!(
            per_pattern.contains_key(&p.mnemonic()),
            "{} never compared; capstone rejected e.g. {:?}",
            p.name,
            cs_unknown.iter().filter(|u| u.ends_with(&format!(" {}", p.mnemonic()))).take(5).collect::<Vec<_>>()
        );
    }
    // encodings capstone cannot decode must be rare (documented limitation, not a decoder bug)
    // what capstone cannot decode must be a compressed HINT (rd = x0, or a zero immediate or
    // shift amount): the spec makes those no-ops that must execute, capstone rejects them
    let hints = ["c.li", "c.lui", "c.mv", "c.add", "c.slli", "c.addi", "c.srli", "c.srai"];
    let other: Vec<_> = cs_unknown.iter().filter(|u| !hints.iter().any(|h| u.ends_with(&format!(" {h}")))).collect();
    assert!(other.is_empty(), "capstone rejects encodings that are not hints: {:?}", &other[..other.len().min(10)]);
    eprintln!("compared {compared} encodings with capstone; {} hints unknown to capstone", cs_unknown.len());
}
