//! Self-checks of the decode tables (QEMU's tests/decode): no overlap outside groups, every
//! pattern reachable, a bad table rejected, exhaustive sweeps that never panic, and spot
//! checks of operand extraction against encodings produced by GNU as.

use super::*;

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn tables_have_no_overlap_outside_groups() {
    assert_eq!(check_table(PATS32), Ok(()));
    assert_eq!(check_table(PATS16), Ok(()));
}

/// Every pattern decodes some word to itself: random fillings of its don't-care bits until one
/// is not claimed by an earlier group member.
fn reachable(pats: &[Pattern], find: impl Fn(u32) -> Option<usize>, width: u32) {
    let mut seed = 0x1234_5678_9abc_def1u64;
    let wmask = if width == 32 { u32::MAX } else { 0xffff };
    for (i, p) in pats.iter().enumerate() {
        let hit = (0..4096).any(|_| {
            let w = ((xorshift(&mut seed) as u32) & !p.mask & wmask) | p.bits;
            find(w) == Some(i)
        });
        assert!(hit, "pattern {i} ({p:?}) is unreachable");
    }
}

#[test]
fn every_pattern_is_reachable() {
    reachable(PATS32, find32, 32);
    reachable(PATS16, |w| find16(w as u16), 16);
}

fn dummy(_: u32) -> Insn {
    Insn::illegal(ArgsEmpty {})
}

fn pat(name: &'static str, text: &'static str, group: u16) -> Pattern {
    let (mask, bits, _) = parse_pattern(text);
    Pattern { name, text, mask, bits, group, ctor: dummy }
}

#[test]
fn a_bad_table_is_rejected() {
    // overlap outside a group
    let t =
        [pat("a", "....... ..... ..... 000 ..... 0010011", 0), pat("b", "0000000 ..... ..... 000 ..... 0010011", 0)];
    assert_eq!(check_table(&t), Err(TableError::Overlap(0, 1)));
    // the same pair inside a group, specific first: fine
    let t =
        [pat("b", "0000000 ..... ..... 000 ..... 0010011", 1), pat("a", "....... ..... ..... 000 ..... 0010011", 1)];
    assert_eq!(check_table(&t), Ok(()));
    // general first: the specific one can never match
    let t =
        [pat("a", "....... ..... ..... 000 ..... 0010011", 1), pat("b", "0000000 ..... ..... 000 ..... 0010011", 1)];
    assert_eq!(check_table(&t), Err(TableError::Unreachable { earlier: 0, later: 1 }));
    // overlap across two different groups
    let t =
        [pat("a", "....... ..... ..... 000 ..... 0010011", 1), pat("b", "0000000 ..... ..... 000 ..... 0010011", 2)];
    assert_eq!(check_table(&t), Err(TableError::Overlap(0, 1)));
    // the macro checks at compile time too: `must(check_table(..))` panics in const context
    let r = std::panic::catch_unwind(|| must(check_table(&[pat("x", "1", 0), pat("y", ".", 0)])));
    assert!(r.is_err());
}

#[test]
fn pattern_strings_parse() {
    assert_eq!(parse_pattern("01.1"), (0b1101, 0b0101, 4));
    assert_eq!(pattern_bits("0000000 ..... ..... 000 ..... 0110011", 32), (0xfe00_707f, 0x33));
}

#[test]
fn decode_all_16() {
    // every parcel: no panic, only non-32-bit parcels decode, and the result agrees with a
    // linear scan of the table (the buckets lose nothing)
    let mut counts = vec![0u32; PATS16.len()];
    for w in 0..=u16::MAX {
        let got = find16(w);
        let linear = PATS16.iter().position(|p| p.matches(w as u32));
        assert_eq!(got, linear, "{w:#06x}");
        if let Some(i) = got {
            assert_ne!(w & 3, 3);
            counts[i] += 1;
            let _ = decode16(w);
            let _ = super::super::disas::disas(0x1000, w as u32, 2);
        }
    }
    for (i, c) in counts.iter().enumerate() {
        assert!(*c > 0, "{:?} never decoded", PATS16[i]);
    }
    // reserved encodings named by the spec
    assert_eq!(decode16(0), Some(Insn::illegal(ArgsEmpty {})), "all-zero parcel");
    assert_eq!(decode16(0x6081), Some(Insn::illegal(ArgsEmpty {})), "c.lui ra, 0");
    assert_eq!(decode16(0x6101), Some(Insn::illegal(ArgsEmpty {})), "c.addi16sp sp, 0");
    assert_eq!(decode16(0x8002), Some(Insn::illegal(ArgsEmpty {})), "c.jr x0");
    assert_eq!(decode16(0x2001), Some(Insn::illegal(ArgsEmpty {})), "c.addiw x0");
    assert_eq!(decode16(0x4002), Some(Insn::illegal(ArgsEmpty {})), "c.lwsp x0");
    assert_eq!(decode16(0x6002), Some(Insn::illegal(ArgsEmpty {})), "c.ldsp x0");
    assert_eq!(decode16(0x8000), None, "quadrant 0 funct3 100 is reserved");
    assert_eq!(decode16(0x9c41), None, "c.subw/c.addw neighbours 10/11 are reserved");
}

/// A sample of the 32-bit space: buckets agree with a linear scan.
#[test]
fn decode32_buckets_match_linear_scan() {
    let mut seed = 42u64;
    for _ in 0..2_000_000 {
        let w = xorshift(&mut seed) as u32 | 3;
        let linear = PATS32.iter().position(|p| p.matches(w));
        assert_eq!(find32(w), linear, "{w:#010x}");
    }
}

/// Every 32-bit word: no panic, bucket lookup equals the linear scan, every pattern hit.
/// Run with `cargo test --release -p frontend -- --ignored decode_all_32`.
#[test]
#[ignore = "4 billion words: run in release mode (CI runs it separately)"]
fn decode_all_32() {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8) as u64;
    let chunk = (1u64 << 32) / threads;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || {
                let mut counts = vec![0u64; PATS32.len()];
                let (lo, hi) = (t * chunk, if t == threads - 1 { 1 << 32 } else { (t + 1) * chunk });
                for w in lo..hi {
                    let w = w as u32;
                    match decode32(w) {
                        Some(i) => {
                            std::hint::black_box(i);
                            let k = find32(w).expect("decoded");
                            counts[k] += 1;
                        }
                        None => {
                            // spot-check misses against the table (all would take too long)
                            if w & 0xfff == 0x7ff {
                                assert!(PATS32.iter().all(|p| !p.matches(w)), "{w:#010x}");
                            }
                        }
                    }
                }
                counts
            })
        })
        .collect();
    let mut total = vec![0u64; PATS32.len()];
    for h in handles {
        for (t, c) in total.iter_mut().zip(h.join().expect("sweep thread")) {
            *t += c;
        }
    }
    for (i, c) in total.iter().enumerate() {
        assert!(*c > 0, "{:?} never decoded", PATS32[i]);
    }
}

/// Operand extraction checked against encodings from GNU as (riscv64-linux-gnu-as 2.40,
/// `-march=rv64gc_zba_zbb_zbs`).
#[test]
fn operands_match_gnu_as() {
    let d = |w: u32| decode32(w).unwrap_or_else(|| panic!("{w:#010x} does not decode"));
    let c = |w: u16| decode16(w).unwrap_or_else(|| panic!("{w:#06x} does not decode"));
    // addi a0, a1, -5
    assert_eq!(d(0xffb5_8513), Insn::addi(ArgsI { rd: 10, rs1: 11, imm: -5 }));
    // sd ra, 24(sp)
    assert_eq!(d(0x0011_3c23), Insn::sd(ArgsS { rs1: 2, rs2: 1, imm: 24 }));
    // beq a0, a1, .-16   (fe b5 08 e3)
    assert_eq!(d(0xfeb5_08e3), Insn::beq(ArgsS { rs1: 10, rs2: 11, imm: -16 }));
    // jal ra, .-1 MiB and jal ra, .+2 KiB
    assert_eq!(d(0x8000_00ef), Insn::jal(ArgsU { rd: 1, imm: -(1 << 20) }));
    assert_eq!(d(0x0010_00ef), Insn::jal(ArgsU { rd: 1, imm: 0x800 }));
    // lui a0, 0x80000 -> sign-extended
    assert_eq!(d(0x8000_0537), Insn::lui(ArgsU { rd: 10, imm: -0x8000_0000 }));
    // srai a0, a0, 63
    assert_eq!(d(0x43f5_5513), Insn::srai(ArgsShift { rd: 10, rs1: 10, shamt: 63 }));
    // amoadd.w.aqrl a0, a1, (a2)
    assert_eq!(d(0x06b6_252f), Insn::amoadd_w(ArgsAtomic { rd: 10, rs1: 12, rs2: 11, aq: 1, rl: 1 }));
    // fmadd.d fa0, fa1, fa2, fa3, rtz
    assert_eq!(d(0x6ac5_9543), Insn::fmadd_d(ArgsR4 { rd: 10, rs1: 11, rs2: 12, rs3: 13, rm: 1 }));
    // csrrs a0, fflags, zero (frflags a0)
    assert_eq!(d(0x0010_2573), Insn::csrrs(ArgsCsr { rd: 10, rs1: 0, csr: 1 }));
    // c.addi16sp sp, -64  (7139)
    assert_eq!(c(0x7139), Insn::addi(ArgsI { rd: 2, rs1: 2, imm: -64 }));
    // c.addi4spn a0, sp, 16  (0808)
    assert_eq!(c(0x0808), Insn::addi(ArgsI { rd: 10, rs1: 2, imm: 16 }));
    // c.ldsp ra, 8(sp)  (60a2)
    assert_eq!(c(0x60a2), Insn::ld(ArgsI { rd: 1, rs1: 2, imm: 8 }));
    // c.sdsp ra, 8(sp)  (e406)
    assert_eq!(c(0xe406), Insn::sd(ArgsS { rs1: 2, rs2: 1, imm: 8 }));
    // c.lw a0, 4(a1)  (41c8)
    assert_eq!(c(0x41c8), Insn::lw(ArgsI { rd: 10, rs1: 11, imm: 4 }));
    // c.j .-2  (bffd)
    assert_eq!(c(0xbffd), Insn::jal(ArgsU { rd: 0, imm: -2 }));
    // c.beqz a0, .+6  (c119)
    assert_eq!(c(0xc119), Insn::beq(ArgsS { rs1: 10, rs2: 0, imm: 6 }));
    // c.li a0, -1  (557d)
    assert_eq!(c(0x557d), Insn::addi(ArgsI { rd: 10, rs1: 0, imm: -1 }));
    // c.lui a0, 0xfffff (757d)
    assert_eq!(c(0x757d), Insn::lui(ArgsU { rd: 10, imm: -4096 }));
    // c.mv a0, a1 (852e), c.add a0, a1 (952e), c.jr ra (8082), c.jalr a0 (9502), c.ebreak (9002)
    assert_eq!(c(0x852e), Insn::add(ArgsR { rd: 10, rs1: 0, rs2: 11 }));
    assert_eq!(c(0x952e), Insn::add(ArgsR { rd: 10, rs1: 10, rs2: 11 }));
    assert_eq!(c(0x8082), Insn::jalr(ArgsI { rd: 0, rs1: 1, imm: 0 }));
    assert_eq!(c(0x9502), Insn::jalr(ArgsI { rd: 1, rs1: 10, imm: 0 }));
    assert_eq!(c(0x9002), Insn::ebreak(ArgsEmpty {}));
}
