//! Run-time helpers of the RISC-V frontend: floating point (through Berkeley SoftFloat's RISC-V
//! specialization, via `softfloat-wrapper`) and the counter CSRs (QEMU's
//! `target/riscv/fpu_helper.c` and the `rdtime`/`rdcycle` part of `csr.c`).
//!
//! Every helper is an `extern "C"` [`ir::HelperFn`]: `f(env, a0, a1, a2, a3) -> u64`. Floating
//! point operands arrive as raw f-register bit patterns (a single that is not properly
//! NaN-boxed reads as the canonical NaN, RISC-V Unprivileged ISA 20191213, §12.2); single
//! results are returned NaN-boxed. The rounding mode is an argument (0..=4: RNE, RTZ, RDN,
//! RUP, RMM), already resolved by the translator (static `rm` or the `frm` global, checked
//! there). The accrued exception flags of the operation are ORed into `Rv64State::fflags` in
//! the environment: that is why the FP helpers are declared with [`HelperFlags::NONE`] (they
//! read and write a guest register). `fclass` touches nothing and is `PURE`; the counters read
//! no register and are `NO_READ_GLOBALS | NO_WRITE_GLOBALS`.
//!
//! SoftFloat's rounding mode and exception flags are thread-local; each helper clears the flags,
//! runs one operation and collects them, so nothing leaks between vCPU threads or operations.
//! No helper panics (they run under JIT code, where unwinding aborts).
//!
//! The one `unsafe` operation here is the private accessor `state`: turning `env` into the
//! guest state.

use ir::backend::EnvHeader;
use ir::{Decls, HelperFlags, HelperId};
use softfloat_wrapper::{ExceptionFlags, Float, RoundingMode, F32, F64};

use super::state::Rv64State;

/// The guest state behind an environment pointer.
///
/// # Safety
/// `env` is the environment a block was compiled for: an [`EnvHeader`] immediately followed by
/// an [`Rv64State`] (8-aligned, see `Riscv64::decls`), owned by the calling vCPU thread for
/// the duration of the helper call, with no other live reference to the state.
unsafe fn state<'a>(env: *mut u8) -> &'a mut Rv64State {
    // SAFETY: per this function's contract the state lives at EnvHeader::SIZE, is aligned and
    // exclusively ours during the call.
    unsafe { &mut *(env.add(EnvHeader::SIZE) as *mut Rv64State) }
}

/// Canonical single-precision NaN (§11.3).
pub const CANON_NAN_S: u32 = 0x7fc0_0000;
/// Canonical double-precision NaN (§12.3).
pub const CANON_NAN_D: u64 = 0x7ff8_0000_0000_0000;
/// Upper half of a NaN-boxed single (§12.2).
pub const BOX: u64 = 0xffff_ffff_0000_0000;

/// Reads a single from an f register, unboxing (§12.2).
#[inline]
pub fn unbox(v: u64) -> u32 {
    if v & BOX == BOX {
        v as u32
    } else {
        CANON_NAN_S
    }
}

/// NaN-boxes a single.
#[inline]
pub fn nanbox(v: u32) -> u64 {
    BOX | v as u64
}

fn rounding(rm: u64) -> RoundingMode {
    match rm {
        1 => RoundingMode::TowardZero,
        2 => RoundingMode::TowardNegative,
        3 => RoundingMode::TowardPositive,
        4 => RoundingMode::TiesToAway,
        _ => RoundingMode::TiesToEven,
    }
}

/// Runs one SoftFloat operation with cleared flags; returns its result and the flags it
/// raised, in fflags layout (SoftFloat's flag bits are RISC-V's: NX=1 UF=2 OF=4 DZ=8 NV=16).
#[inline]
fn sf<T>(f: impl FnOnce() -> T) -> (T, u64) {
    ExceptionFlags::default().set();
    let r = f();
    let mut fl = ExceptionFlags::default();
    fl.get();
    (r, (fl.to_bits() & 0x1f) as u64)
}

/// Accrues `flags` into fflags.
///
/// # Safety
/// As [`state`].
#[inline]
unsafe fn accrue(env: *mut u8, flags: u64) {
    if flags != 0 {
        // SAFETY: forwarded contract.
        unsafe { state(env).fflags |= flags };
    }
}

const NV: u64 = 16;

fn s(v: u64) -> F32 {
    F32::from_bits(unbox(v))
}
fn d(v: u64) -> F64 {
    F64::from_bits(v)
}

/// Negates a single's bit pattern (for fmsub and friends; NaN inputs give the canonical NaN
/// anyway).
fn neg_s(x: F32) -> F32 {
    F32::from_bits(x.to_bits() ^ 0x8000_0000)
}
fn neg_d(x: F64) -> F64 {
    F64::from_bits(x.to_bits() ^ (1 << 63))
}

macro_rules! fp_helper {
    ($name:ident, |$($a:ident),*| $body:expr) => {
        #[doc = concat!("`", stringify!($name), "`: see the module doc for the calling convention.")]
        unsafe extern "C" fn $name(env: *mut u8, a0: u64, a1: u64, a2: u64, a3: u64) -> u64 {
            let _ = (a0, a1, a2, a3);
            fp_helper!(@bind [a0, a1, a2, a3] $($a),*);
            let (r, fl) = sf(|| $body);
            // SAFETY: helpers are called only with the environment they were declared for.
            unsafe { accrue(env, fl) };
            r
        }
    };
    (@bind [$first:ident $(, $rest:ident)*] $a:ident $(, $more:ident)*) => {
        let $a = $first;
        fp_helper!(@bind [$($rest),*] $($more),*);
    };
    (@bind [$($rest:ident),*]) => {};
}

// Arithmetic, §11.6 and §12.4 (rm is the last argument).
fp_helper!(helper_fadd_s, |a, b, rm| nanbox(s(a).add(s(b), rounding(rm)).to_bits()));
fp_helper!(helper_fsub_s, |a, b, rm| nanbox(s(a).sub(s(b), rounding(rm)).to_bits()));
fp_helper!(helper_fmul_s, |a, b, rm| nanbox(s(a).mul(s(b), rounding(rm)).to_bits()));
fp_helper!(helper_fdiv_s, |a, b, rm| nanbox(s(a).div(s(b), rounding(rm)).to_bits()));
fp_helper!(helper_fsqrt_s, |a, rm| nanbox(s(a).sqrt(rounding(rm)).to_bits()));
fp_helper!(helper_fadd_d, |a, b, rm| d(a).add(d(b), rounding(rm)).to_bits());
fp_helper!(helper_fsub_d, |a, b, rm| d(a).sub(d(b), rounding(rm)).to_bits());
fp_helper!(helper_fmul_d, |a, b, rm| d(a).mul(d(b), rounding(rm)).to_bits());
fp_helper!(helper_fdiv_d, |a, b, rm| d(a).div(d(b), rounding(rm)).to_bits());
fp_helper!(helper_fsqrt_d, |a, rm| d(a).sqrt(rounding(rm)).to_bits());
// Fused multiply-add, §11.6: fmsub = a*b-c, fnmsub = -(a*b)+c, fnmadd = -(a*b)-c, each
// rounded once; negating the inputs gives exactly the negated exact result.
fp_helper!(helper_fmadd_s, |a, b, c, rm| nanbox(s(a).fused_mul_add(s(b), s(c), rounding(rm)).to_bits()));
fp_helper!(helper_fmsub_s, |a, b, c, rm| nanbox(s(a).fused_mul_add(s(b), neg_s(s(c)), rounding(rm)).to_bits()));
fp_helper!(helper_fnmsub_s, |a, b, c, rm| nanbox(neg_s(s(a)).fused_mul_add(s(b), s(c), rounding(rm)).to_bits()));
fp_helper!(helper_fnmadd_s, |a, b, c, rm| {
    nanbox(neg_s(s(a)).fused_mul_add(s(b), neg_s(s(c)), rounding(rm)).to_bits())
});
fp_helper!(helper_fmadd_d, |a, b, c, rm| d(a).fused_mul_add(d(b), d(c), rounding(rm)).to_bits());
fp_helper!(helper_fmsub_d, |a, b, c, rm| d(a).fused_mul_add(d(b), neg_d(d(c)), rounding(rm)).to_bits());
fp_helper!(helper_fnmsub_d, |a, b, c, rm| neg_d(d(a)).fused_mul_add(d(b), d(c), rounding(rm)).to_bits());
fp_helper!(helper_fnmadd_d, |a, b, c, rm| neg_d(d(a)).fused_mul_add(d(b), neg_d(d(c)), rounding(rm)).to_bits());
// Comparisons, §11.8: feq is quiet (NV only for signaling NaNs), flt/fle signal on any NaN.
fp_helper!(helper_feq_s, |a, b| s(a).eq(s(b)) as u64);
fp_helper!(helper_flt_s, |a, b| s(a).lt(s(b)) as u64);
fp_helper!(helper_fle_s, |a, b| s(a).le(s(b)) as u64);
fp_helper!(helper_feq_d, |a, b| d(a).eq(d(b)) as u64);
fp_helper!(helper_flt_d, |a, b| d(a).lt(d(b)) as u64);
fp_helper!(helper_fle_d, |a, b| d(a).le(d(b)) as u64);
// Conversions to integers, §11.7: saturating, NaN gives the largest value (the RISC-V
// specialization of SoftFloat implements Table 11.4); 32-bit results are sign-extended.
fp_helper!(helper_fcvt_w_s, |a, rm| s(a).to_i32(rounding(rm), true) as i64 as u64);
fp_helper!(helper_fcvt_wu_s, |a, rm| s(a).to_u32(rounding(rm), true) as i32 as i64 as u64);
fp_helper!(helper_fcvt_l_s, |a, rm| s(a).to_i64(rounding(rm), true) as u64);
fp_helper!(helper_fcvt_lu_s, |a, rm| s(a).to_u64(rounding(rm), true));
fp_helper!(helper_fcvt_w_d, |a, rm| d(a).to_i32(rounding(rm), true) as i64 as u64);
fp_helper!(helper_fcvt_wu_d, |a, rm| d(a).to_u32(rounding(rm), true) as i32 as i64 as u64);
fp_helper!(helper_fcvt_l_d, |a, rm| d(a).to_i64(rounding(rm), true) as u64);
fp_helper!(helper_fcvt_lu_d, |a, rm| d(a).to_u64(rounding(rm), true));
// Conversions from integers.
fp_helper!(helper_fcvt_s_w, |a, rm| nanbox(F32::from_i32(a as i32, rounding(rm)).to_bits()));
fp_helper!(helper_fcvt_s_wu, |a, rm| nanbox(F32::from_u32(a as u32, rounding(rm)).to_bits()));
fp_helper!(helper_fcvt_s_l, |a, rm| nanbox(F32::from_i64(a as i64, rounding(rm)).to_bits()));
fp_helper!(helper_fcvt_s_lu, |a, rm| nanbox(F32::from_u64(a, rounding(rm)).to_bits()));
fp_helper!(helper_fcvt_d_w, |a, rm| F64::from_i32(a as i32, rounding(rm)).to_bits());
fp_helper!(helper_fcvt_d_wu, |a, rm| F64::from_u32(a as u32, rounding(rm)).to_bits());
fp_helper!(helper_fcvt_d_l, |a, rm| F64::from_i64(a as i64, rounding(rm)).to_bits());
fp_helper!(helper_fcvt_d_lu, |a, rm| F64::from_u64(a, rounding(rm)).to_bits());
// Between formats, §12.5: NaNs become the canonical NaN.
fp_helper!(helper_fcvt_s_d, |a, rm| nanbox(d(a).to_f32(rounding(rm)).to_bits()));
fp_helper!(helper_fcvt_d_s, |a, rm| s(a).to_f64(rounding(rm)).to_bits());

/// fmin/fmax (§11.6, the 2.2+ semantics = IEEE 754-2019 minimumNumber/maximumNumber): a NaN
/// operand is ignored unless both are NaN (then the canonical NaN); signaling NaNs raise NV;
/// -0 is smaller than +0. Generic over the width through the bit-pattern closures.
fn minmax(
    a: u64,
    b: u64,
    max: bool,
    is_nan: impl Fn(u64) -> bool,
    is_snan: impl Fn(u64) -> bool,
    lt: impl Fn(u64, u64) -> bool,
    canon: u64,
) -> (u64, u64) {
    let fl = if is_snan(a) || is_snan(b) { NV } else { 0 };
    let r = match (is_nan(a), is_nan(b)) {
        (true, true) => canon,
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            if a == b || (lt(a, b) == lt(b, a)) {
                // equal values: only ±0 differ in bits; min picks -0, max picks +0
                if max {
                    a & b
                } else {
                    a | b
                }
            } else if lt(a, b) != max {
                a
            } else {
                b
            }
        }
    };
    (r, fl)
}

fn minmax_s(a: u64, b: u64, max: bool) -> (u64, u64) {
    let (r, fl) = minmax(
        unbox(a) as u64,
        unbox(b) as u64,
        max,
        |x| F32::from_bits(x as u32).is_nan(),
        |x| F32::from_bits(x as u32).is_signaling_nan(),
        |x, y| sf(|| F32::from_bits(x as u32).lt_quiet(F32::from_bits(y as u32))).0,
        CANON_NAN_S as u64,
    );
    (nanbox(r as u32), fl)
}

fn minmax_d(a: u64, b: u64, max: bool) -> (u64, u64) {
    minmax(
        a,
        b,
        max,
        |x| F64::from_bits(x).is_nan(),
        |x| F64::from_bits(x).is_signaling_nan(),
        |x, y| sf(|| F64::from_bits(x).lt_quiet(F64::from_bits(y))).0,
        CANON_NAN_D,
    )
}

macro_rules! minmax_helper {
    ($name:ident, $f:ident, $max:expr) => {
        #[doc = concat!("`", stringify!($name), "`: see [`minmax`].")]
        unsafe extern "C" fn $name(env: *mut u8, a: u64, b: u64, _c: u64, _d: u64) -> u64 {
            let (r, fl) = $f(a, b, $max);
            // SAFETY: helpers are called only with the environment they were declared for.
            unsafe { accrue(env, fl) };
            r
        }
    };
}
minmax_helper!(helper_fmin_s, minmax_s, false);
minmax_helper!(helper_fmax_s, minmax_s, true);
minmax_helper!(helper_fmin_d, minmax_d, false);
minmax_helper!(helper_fmax_d, minmax_d, true);

/// fclass (§11.9): one bit of ten set by the class of the value (sign, exponent, fraction
/// given as `bits` wide fields).
fn fclass(sign: bool, exp_all_ones: bool, exp_zero: bool, frac_zero: bool, quiet: bool) -> u64 {
    let bit = match (exp_all_ones, exp_zero, frac_zero) {
        (true, _, true) => {
            if sign {
                0
            } else {
                7
            }
        }
        (true, _, false) => {
            if quiet {
                9
            } else {
                8
            }
        }
        (false, true, true) => {
            if sign {
                3
            } else {
                4
            }
        }
        (false, true, false) => {
            if sign {
                2
            } else {
                5
            }
        }
        (false, false, _) => {
            if sign {
                1
            } else {
                6
            }
        }
    };
    1 << bit
}

/// `fclass.s` (pure).
unsafe extern "C" fn helper_fclass_s(_env: *mut u8, a: u64, _b: u64, _c: u64, _d: u64) -> u64 {
    let x = unbox(a);
    let e = (x >> 23) & 0xff;
    let m = x & 0x7f_ffff;
    fclass(x >> 31 != 0, e == 0xff, e == 0, m == 0, m & 0x40_0000 != 0)
}

/// `fclass.d` (pure).
unsafe extern "C" fn helper_fclass_d(_env: *mut u8, a: u64, _b: u64, _c: u64, _d: u64) -> u64 {
    let e = (a >> 52) & 0x7ff;
    let m = a & ((1 << 52) - 1);
    fclass(a >> 63 != 0, e == 0x7ff, e == 0, m == 0, m & (1 << 51) != 0)
}

fn host_ns() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Timer frequency of the `time` CSR: 10 MHz, the timebase of QEMU's `virt` board.
pub const TIMEBASE_HZ: u64 = 10_000_000;

/// `rdtime`: a monotonic host clock in units of [`TIMEBASE_HZ`].
unsafe extern "C" fn helper_rdtime(_env: *mut u8, _a: u64, _b: u64, _c: u64, _d: u64) -> u64 {
    host_ns() / (1_000_000_000 / TIMEBASE_HZ)
}

/// `rdcycle`: host nanoseconds since the first call (a 1 GHz "cycle" counter).
unsafe extern "C" fn helper_rdcycle(_env: *mut u8, _a: u64, _b: u64, _c: u64, _d: u64) -> u64 {
    host_ns()
}

macro_rules! helper_table {
    ($( $var:ident = $f:ident, $n:literal, $flags:expr; )*) => {
        /// The helpers of this frontend, in declaration order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u16)]
        pub enum H { $( #[doc = stringify!($f)] $var, )* }

        /// Declares every helper in `decls`; returns the id of the first one (the others follow
        /// in [`H`] order).
        pub fn declare(decls: &mut Decls) -> u16 {
            let base = decls.helpers.len() as u16;
            $( decls.add_helper(&stringify!($f)[7..], $f, $n, $flags); )*
            base
        }

        /// Id of helper `h` for helpers declared at `base`.
        pub fn id(base: u16, h: H) -> HelperId {
            HelperId(base + h as u16)
        }
    };
}

const FP: HelperFlags = HelperFlags::NONE;
const CLOCK: HelperFlags = HelperFlags::NO_READ_GLOBALS.or(HelperFlags::NO_WRITE_GLOBALS);

helper_table! {
    FaddS = helper_fadd_s, 3, FP;
    FsubS = helper_fsub_s, 3, FP;
    FmulS = helper_fmul_s, 3, FP;
    FdivS = helper_fdiv_s, 3, FP;
    FsqrtS = helper_fsqrt_s, 2, FP;
    FaddD = helper_fadd_d, 3, FP;
    FsubD = helper_fsub_d, 3, FP;
    FmulD = helper_fmul_d, 3, FP;
    FdivD = helper_fdiv_d, 3, FP;
    FsqrtD = helper_fsqrt_d, 2, FP;
    FmaddS = helper_fmadd_s, 4, FP;
    FmsubS = helper_fmsub_s, 4, FP;
    FnmsubS = helper_fnmsub_s, 4, FP;
    FnmaddS = helper_fnmadd_s, 4, FP;
    FmaddD = helper_fmadd_d, 4, FP;
    FmsubD = helper_fmsub_d, 4, FP;
    FnmsubD = helper_fnmsub_d, 4, FP;
    FnmaddD = helper_fnmadd_d, 4, FP;
    FeqS = helper_feq_s, 2, FP;
    FltS = helper_flt_s, 2, FP;
    FleS = helper_fle_s, 2, FP;
    FeqD = helper_feq_d, 2, FP;
    FltD = helper_flt_d, 2, FP;
    FleD = helper_fle_d, 2, FP;
    FminS = helper_fmin_s, 2, FP;
    FmaxS = helper_fmax_s, 2, FP;
    FminD = helper_fmin_d, 2, FP;
    FmaxD = helper_fmax_d, 2, FP;
    FcvtWS = helper_fcvt_w_s, 2, FP;
    FcvtWuS = helper_fcvt_wu_s, 2, FP;
    FcvtLS = helper_fcvt_l_s, 2, FP;
    FcvtLuS = helper_fcvt_lu_s, 2, FP;
    FcvtWD = helper_fcvt_w_d, 2, FP;
    FcvtWuD = helper_fcvt_wu_d, 2, FP;
    FcvtLD = helper_fcvt_l_d, 2, FP;
    FcvtLuD = helper_fcvt_lu_d, 2, FP;
    FcvtSW = helper_fcvt_s_w, 2, FP;
    FcvtSWu = helper_fcvt_s_wu, 2, FP;
    FcvtSL = helper_fcvt_s_l, 2, FP;
    FcvtSLu = helper_fcvt_s_lu, 2, FP;
    FcvtDW = helper_fcvt_d_w, 2, FP;
    FcvtDWu = helper_fcvt_d_wu, 2, FP;
    FcvtDL = helper_fcvt_d_l, 2, FP;
    FcvtDLu = helper_fcvt_d_lu, 2, FP;
    FcvtSD = helper_fcvt_s_d, 2, FP;
    FcvtDS = helper_fcvt_d_s, 2, FP;
    FclassS = helper_fclass_s, 1, HelperFlags::PURE;
    FclassD = helper_fclass_d, 1, HelperFlags::PURE;
    Rdtime = helper_rdtime, 0, CLOCK;
    Rdcycle = helper_rdcycle, 0, CLOCK;
}

#[cfg(test)]
mod tests {
    use super::*;

    const NX: u64 = 1;

    #[test]
    fn softfloat_flag_bits_are_riscv_fflags() {
        // 1/0 raises DZ (8); 0/0 raises NV (16); 1/3 raises NX (1)
        let one = F32::from_bits(0x3f80_0000);
        let zero = F32::from_bits(0);
        assert_eq!(sf(|| one.div(zero, RoundingMode::TiesToEven)).1, 8);
        assert_eq!(sf(|| zero.div(zero, RoundingMode::TiesToEven)).1, 16);
        assert_eq!(sf(|| one.div(F32::from_bits(0x4040_0000), RoundingMode::TiesToEven)).1, NX);
        // huge * huge overflows: OF|NX
        let big = F32::from_bits(0x7f00_0000);
        assert_eq!(sf(|| big.mul(big, RoundingMode::TiesToEven)).1, 4 | 1);
        // tiny * tiny underflows: UF|NX
        let tiny = F32::from_bits(0x0080_0000);
        assert_eq!(sf(|| tiny.mul(tiny, RoundingMode::TiesToEven)).1, 2 | 1);
    }

    #[test]
    fn riscv_specialization_saturates_and_canonicalizes() {
        let nan = F32::from_bits(0x7fc0_0001);
        assert_eq!(nan.to_i32(RoundingMode::TiesToEven, true), i32::MAX);
        assert_eq!(nan.to_u32(RoundingMode::TiesToEven, true), u32::MAX);
        let neg = F32::from_bits(0xbf80_0000); // -1.0
        assert_eq!(neg.to_u64(RoundingMode::TiesToEven, true), 0);
        let snan = F64::from_bits(0x7ff0_0000_0000_0001);
        assert_eq!(snan.add(snan, RoundingMode::TiesToEven).to_bits(), CANON_NAN_D);
        assert_eq!(snan.to_f32(RoundingMode::TiesToEven).to_bits(), CANON_NAN_S);
    }

    #[test]
    fn minmax_follows_minimum_number() {
        let pz = 0u64;
        let nz = 0x8000_0000_0000_0000u64;
        assert_eq!(minmax_d(pz, nz, false).0, nz);
        assert_eq!(minmax_d(nz, pz, true).0, pz);
        let one = 0x3ff0_0000_0000_0000u64;
        let qnan = CANON_NAN_D;
        let snan = 0x7ff0_0000_0000_0001u64;
        assert_eq!(minmax_d(qnan, one, false), (one, 0));
        assert_eq!(minmax_d(snan, one, true), (one, NV));
        assert_eq!(minmax_d(snan, qnan, true), (CANON_NAN_D, NV));
        assert_eq!(minmax_d(one, 0x4000_0000_0000_0000, true).0, 0x4000_0000_0000_0000);
        // unboxed single operand is the canonical NaN: the other operand wins
        assert_eq!(minmax_s(0x3f80_0000, nanbox(0x4000_0000), false), (nanbox(0x4000_0000), 0));
    }

    #[test]
    fn fclass_classes() {
        // SAFETY: fclass does not touch env.
        let c = |x: u64| unsafe { helper_fclass_d(std::ptr::null_mut(), x, 0, 0, 0) };
        assert_eq!(c(0xfff0_0000_0000_0000), 1 << 0);
        assert_eq!(c(0xbff0_0000_0000_0000), 1 << 1);
        assert_eq!(c(0x8000_0000_0000_0001), 1 << 2);
        assert_eq!(c(0x8000_0000_0000_0000), 1 << 3);
        assert_eq!(c(0), 1 << 4);
        assert_eq!(c(1), 1 << 5);
        assert_eq!(c(0x3ff0_0000_0000_0000), 1 << 6);
        assert_eq!(c(0x7ff0_0000_0000_0000), 1 << 7);
        assert_eq!(c(0x7ff0_0000_0000_0001), 1 << 8);
        assert_eq!(c(CANON_NAN_D), 1 << 9);
        // SAFETY: as above.
        let cs = |x: u64| unsafe { helper_fclass_s(std::ptr::null_mut(), x, 0, 0, 0) };
        assert_eq!(cs(0x3f80_0000), 1 << 9, "an unboxed single is the canonical NaN");
        assert_eq!(cs(nanbox(0xff80_0000)), 1 << 0);
    }
}
