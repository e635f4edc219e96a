//! The IR's native FP ops (`ir::fpu`: host SSE/FMA, flags from MXCSR) give exactly the bits and
//! exception flags RISC-V specifies for round-to-nearest-even, as computed by Berkeley
//! SoftFloat's RISC-V specialization (which the frontend's helpers use for every other rounding
//! mode and operation). The frontend relies on this to emit native ops for RNE.

use ir::{Opcode, Ty};
use softfloat_wrapper::{ExceptionFlags, Float, RoundingMode, F32, F64};

const RNE: RoundingMode = RoundingMode::TiesToEven;

fn sf<T>(f: impl FnOnce() -> T) -> (T, u32) {
    ExceptionFlags::default().set();
    let r = f();
    let mut fl = ExceptionFlags::default();
    fl.get();
    (r, (fl.to_bits() & 0x1f) as u32)
}

fn native(op: Opcode, ty: Ty, a: u64, b: u64, c: u64) -> (u64, u32) {
    ir::fpu::take_host_flags();
    let r = ir::fpu::eval(op, ty, a, b, c);
    (r, ir::fpu::take_host_flags())
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn specials64(r: &mut Rng) -> u64 {
    let s = [
        0u64,
        1 << 63,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x7ff8_0000_0000_0000,
        0x7ff4_0000_0000_0001,
        0xfff8_0000_0000_0005,
        1,
        0x000f_ffff_ffff_ffff,
        0x0010_0000_0000_0000,
        0x3ff0_0000_0000_0000,
        0x7fef_ffff_ffff_ffff,
        0x8010_0000_0000_0000,
    ];
    match r.next() % 4 {
        0 => s[(r.next() % s.len() as u64) as usize],
        // near the subnormal/normal boundary, to exercise tininess after rounding
        1 => (r.next() & (1 << 63)) | ((r.next() % 3) << 52) | (r.next() >> 12),
        2 => (r.next() & (1 << 63)) | ((0x3c0 + r.next() % 0x80) << 52) | (r.next() >> 12),
        _ => r.next(),
    }
}

fn specials32(r: &mut Rng) -> u64 {
    let s = [
        0u32,
        0x8000_0000,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0x7fa0_0001,
        1,
        0x007f_ffff,
        0x0080_0000,
        0x3f80_0000,
        0x7f7f_ffff,
    ];
    (match r.next() % 4 {
        0 => s[(r.next() % s.len() as u64) as usize],
        1 => ((r.next() as u32) & 0x8000_0000) | (((r.next() % 3) as u32) << 23) | ((r.next() as u32) >> 9),
        2 => ((r.next() as u32) & 0x8000_0000) | (((0x60 + r.next() % 0x40) as u32) << 23) | ((r.next() as u32) >> 9),
        _ => r.next() as u32,
    }) as u64
}

fn reference(op: Opcode, ty: Ty, a: u64, b: u64, c: u64) -> (u64, u32) {
    match ty {
        Ty::I64 => {
            let (x, y, z) = (F64::from_bits(a), F64::from_bits(b), F64::from_bits(c));
            let (r, f) = sf(|| match op {
                Opcode::Fadd => x.add(y, RNE),
                Opcode::Fsub => x.sub(y, RNE),
                Opcode::Fmul => x.mul(y, RNE),
                Opcode::Fdiv => x.div(y, RNE),
                Opcode::Fsqrt => x.sqrt(RNE),
                _ => x.fused_mul_add(y, z, RNE),
            });
            (r.to_bits(), f)
        }
        Ty::I32 => {
            let (x, y, z) = (F32::from_bits(a as u32), F32::from_bits(b as u32), F32::from_bits(c as u32));
            let (r, f) = sf(|| match op {
                Opcode::Fadd => x.add(y, RNE),
                Opcode::Fsub => x.sub(y, RNE),
                Opcode::Fmul => x.mul(y, RNE),
                Opcode::Fdiv => x.div(y, RNE),
                Opcode::Fsqrt => x.sqrt(RNE),
                _ => x.fused_mul_add(y, z, RNE),
            });
            (r.to_bits() as u64, f)
        }
    }
}

#[test]
fn native_fp_ops_match_softfloat_riscv() {
    let mut r = Rng(0x243f_6a88_85a3_08d3);
    let mut checked = 0;
    for op in [Opcode::Fadd, Opcode::Fsub, Opcode::Fmul, Opcode::Fdiv, Opcode::Fsqrt, Opcode::Fma] {
        for ty in [Ty::I32, Ty::I64] {
            for _ in 0..40_000 {
                let gen = |r: &mut Rng| if ty == Ty::I64 { specials64(r) } else { specials32(r) };
                let (a, b, c) = (gen(&mut r), gen(&mut r), gen(&mut r));
                let want = reference(op, ty, a, b, c);
                let got = native(op, ty, a, b, c);
                assert_eq!(
                    got, want,
                    "{:?} {:?} of {a:#x}, {b:#x}, {c:#x}: native (bits, flags) vs SoftFloat RISC-V",
                    op, ty
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 2 * 40_000);
}
