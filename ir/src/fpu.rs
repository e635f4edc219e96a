//! Host floating point for the IR's FP ops: IEEE 754 binary32/binary64 arithmetic rounding to
//! nearest-even, with the exception flags accumulating in the host's FP status register.
//!
//! On x86-64 the operations are single SSE/FMA instructions in inline assembly (so the Rust
//! compiler can neither fold nor reorder them), and the flags accumulate in MXCSR exactly as
//! JIT code compiled by Cranelift accumulates them: x86 detects tininess after rounding and
//! raises underflow only when the result is also inexact, as RISC-V and IEEE 754's default
//! handling require. A NaN result is replaced by the default NaN (positive, quiet, zero
//! payload: 0x7fc00000 / 0x7ff8000000000000), the RISC-V canonical NaN.
//!
//! Flag word layout (the IR's, equal to RISC-V's fflags): bit 0 inexact, 1 underflow,
//! 2 overflow, 3 divide-by-zero, 4 invalid.
//!
//! accel-tcg clears the host flags when a vCPU enters translated code and collects them when
//! it leaves ([`take_host_flags`]), so host code running in between (the emulator itself) can
//! never leak flags into the guest.

/// Inexact.
pub const NX: u32 = 1;
/// Underflow.
pub const UF: u32 = 2;
/// Overflow.
pub const OF: u32 = 4;
/// Divide by zero.
pub const DZ: u32 = 8;
/// Invalid operation.
pub const NV: u32 = 16;

/// The default NaN of binary32.
pub const NAN32: u32 = 0x7fc0_0000;
/// The default NaN of binary64.
pub const NAN64: u64 = 0x7ff8_0000_0000_0000;

#[cfg(target_arch = "x86_64")]
mod host {
    use std::arch::asm;

    /// MXCSR flag bits: IE DE ZE OE UE PE = bits 0..5.
    fn mxcsr_to_flags(m: u32) -> u32 {
        let mut f = 0;
        if m & 1 != 0 {
            f |= super::NV;
        }
        if m & 4 != 0 {
            f |= super::DZ;
        }
        if m & 8 != 0 {
            f |= super::OF;
        }
        if m & 16 != 0 {
            f |= super::UF;
        }
        if m & 32 != 0 {
            f |= super::NX;
        }
        f
    }

    pub fn take_flags() -> u32 {
        let mut m: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr read and write the current thread's MXCSR through a local;
        // only the six sticky exception bits are cleared, the control bits are kept.
        unsafe {
            asm!("stmxcsr [{p}]", p = in(reg) &mut m, options(nostack));
            let cleared = m & !0x3f;
            asm!("ldmxcsr [{p}]", p = in(reg) &cleared, options(nostack));
        }
        mxcsr_to_flags(m)
    }

    macro_rules! binop {
        ($name:ident, $insn:literal, $t:ty) => {
            pub fn $name(a: $t, b: $t) -> $t {
                let mut x = a;
                // SAFETY: a scalar SSE arithmetic instruction on registers; it only affects
                // the destination register and MXCSR's sticky flags, which is the point.
                unsafe { asm!(concat!($insn, " {x}, {y}"), x = inout(xmm_reg) x, y = in(xmm_reg) b, options(nomem, nostack)) };
                x
            }
        };
    }
    binop!(add32, "addss", f32);
    binop!(sub32, "subss", f32);
    binop!(mul32, "mulss", f32);
    binop!(div32, "divss", f32);
    binop!(add64, "addsd", f64);
    binop!(sub64, "subsd", f64);
    binop!(mul64, "mulsd", f64);
    binop!(div64, "divsd", f64);

    pub fn sqrt32(a: f32) -> f32 {
        let mut x = a;
        // SAFETY: see binop.
        unsafe { asm!("sqrtss {x}, {x}", x = inout(xmm_reg) x, options(nomem, nostack)) };
        x
    }

    pub fn sqrt64(a: f64) -> f64 {
        let mut x = a;
        // SAFETY: see binop.
        unsafe { asm!("sqrtsd {x}, {x}", x = inout(xmm_reg) x, options(nomem, nostack)) };
        x
    }

    pub fn has_fma() -> bool {
        std::is_x86_feature_detected!("fma")
    }

    /// a * b + c, rounded once.
    pub fn fma32(a: f32, b: f32, c: f32) -> f32 {
        if has_fma() {
            let mut x = a;
            // SAFETY: FMA is available (checked above); register-only instruction.
            unsafe {
                asm!("vfmadd213ss {x}, {y}, {z}", x = inout(xmm_reg) x, y = in(xmm_reg) b, z = in(xmm_reg) c, options(nomem, nostack))
            };
            x
        } else {
            a.mul_add(b, c)
        }
    }

    /// a * b + c, rounded once.
    pub fn fma64(a: f64, b: f64, c: f64) -> f64 {
        if has_fma() {
            let mut x = a;
            // SAFETY: FMA is available (checked above); register-only instruction.
            unsafe {
                asm!("vfmadd213sd {x}, {y}, {z}", x = inout(xmm_reg) x, y = in(xmm_reg) b, z = in(xmm_reg) c, options(nomem, nostack))
            };
            x
        } else {
            a.mul_add(b, c)
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod host {
    //! Other hosts: the results are exact (Rust's operators are IEEE round-to-nearest-even)
    //! but the exception flags are not tracked.
    pub fn take_flags() -> u32 {
        0
    }
    pub fn add32(a: f32, b: f32) -> f32 {
        a + b
    }
    pub fn sub32(a: f32, b: f32) -> f32 {
        a - b
    }
    pub fn mul32(a: f32, b: f32) -> f32 {
        a * b
    }
    pub fn div32(a: f32, b: f32) -> f32 {
        a / b
    }
    pub fn add64(a: f64, b: f64) -> f64 {
        a + b
    }
    pub fn sub64(a: f64, b: f64) -> f64 {
        a - b
    }
    pub fn mul64(a: f64, b: f64) -> f64 {
        a * b
    }
    pub fn div64(a: f64, b: f64) -> f64 {
        a / b
    }
    pub fn sqrt32(a: f32) -> f32 {
        a.sqrt()
    }
    pub fn sqrt64(a: f64) -> f64 {
        a.sqrt()
    }
    pub fn has_fma() -> bool {
        false
    }
    pub fn fma32(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    pub fn fma64(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}

/// Whether the host has a fused multiply-add instruction (otherwise `fma` is computed in
/// software with correct results; backends may then prefer a call).
pub fn host_has_fma() -> bool {
    host::has_fma()
}

/// Reads and clears the host's accrued exception flags (IR flag layout).
pub fn take_host_flags() -> u32 {
    host::take_flags()
}

#[inline]
fn canon32(x: f32) -> u64 {
    if x.is_nan() {
        NAN32 as u64
    } else {
        x.to_bits() as u64
    }
}

#[inline]
fn canon64(x: f64) -> u64 {
    if x.is_nan() {
        NAN64
    } else {
        x.to_bits()
    }
}

/// Whether `fma(a, b, c)` multiplies infinity by zero with a NaN addend: IEEE 754 leaves the
/// invalid flag to the implementation there; RISC-V raises it, x86's FMA does not, so
/// backends raise it themselves (by computing `a * b`, which is invalid exactly then).
pub fn fma_needs_invalid(ty: crate::Ty, a: u64, b: u64, c: u64) -> bool {
    match ty {
        crate::Ty::I32 => {
            let (a, b, c) = (f32::from_bits(a as u32), f32::from_bits(b as u32), f32::from_bits(c as u32));
            c.is_nan() && ((a.is_infinite() && b == 0.0) || (a == 0.0 && b.is_infinite()))
        }
        crate::Ty::I64 => {
            let (a, b, c) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
            c.is_nan() && ((a.is_infinite() && b == 0.0) || (a == 0.0 && b.is_infinite()))
        }
    }
}

/// Evaluates an FP op on bit patterns (`i32` values hold binary32, `i64` binary64).
pub fn eval(op: crate::Opcode, ty: crate::Ty, a: u64, b: u64, c: u64) -> u64 {
    use crate::Opcode as O;
    let (fa, fb, fc) = (f32::from_bits(a as u32), f32::from_bits(b as u32), f32::from_bits(c as u32));
    let (da, db, dc) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
    if op == O::Fma && fma_needs_invalid(ty, a, b, c) {
        // infinity times zero: raises the invalid flag and nothing else
        match ty {
            crate::Ty::I32 => {
                host::mul32(fa, fb);
            }
            crate::Ty::I64 => {
                host::mul64(da, db);
            }
        }
    }
    match (op, ty) {
        (O::Fadd, crate::Ty::I32) => canon32(host::add32(fa, fb)),
        (O::Fsub, crate::Ty::I32) => canon32(host::sub32(fa, fb)),
        (O::Fmul, crate::Ty::I32) => canon32(host::mul32(fa, fb)),
        (O::Fdiv, crate::Ty::I32) => canon32(host::div32(fa, fb)),
        (O::Fsqrt, crate::Ty::I32) => canon32(host::sqrt32(fa)),
        (O::Fma, crate::Ty::I32) => canon32(host::fma32(fa, fb, fc)),
        (O::Fadd, crate::Ty::I64) => canon64(host::add64(da, db)),
        (O::Fsub, crate::Ty::I64) => canon64(host::sub64(da, db)),
        (O::Fmul, crate::Ty::I64) => canon64(host::mul64(da, db)),
        (O::Fdiv, crate::Ty::I64) => canon64(host::div64(da, db)),
        (O::Fsqrt, crate::Ty::I64) => canon64(host::sqrt64(da)),
        (O::Fma, crate::Ty::I64) => canon64(host::fma64(da, db, dc)),
        _ => 0,
    }
}

/// Runtime entry for compiled code: `v = op(a, b, c)` with `op`/`ty` packed in `which`
/// (Opcode as u8 | 0x100 for i64). Used by the JIT where it cannot inline the operation.
///
/// # Safety
/// None beyond the uniform helper signature; `_env` is not touched.
pub unsafe extern "C" fn fp_op_runtime(_env: *mut u8, which: u64, a: u64, b: u64, c: u64) -> u64 {
    let ty = if which & 0x100 != 0 { crate::Ty::I64 } else { crate::Ty::I32 };
    let op = crate::Opcode::ALL.get((which & 0xff) as usize).copied().unwrap_or(crate::Opcode::Nop);
    eval(op, ty, a, b, c)
}

/// Runtime entry for `fpflags`: the flags accrued since entering translated code (those still
/// in the host register plus those parked in the environment header), cleared.
///
/// # Safety
/// `env` points to a live environment header owned by the calling thread.
pub unsafe extern "C" fn fpflags_runtime(env: *mut u8, _a: u64, _b: u64, _c: u64, _d: u64) -> u64 {
    let h = env as *mut crate::backend::EnvHeader;
    // SAFETY: per the function contract.
    unsafe {
        let f = take_host_flags() | (*h).fp_flags;
        (*h).fp_flags = 0;
        f as u64
    }
}
