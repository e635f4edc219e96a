//! What baseline code calls for the operations it does not expand inline: arithmetic without
//! a short x86-64 form, memory accesses off the fast path (or all of them without the host
//! MMU), and atomics. The semantics are `ir::sem`'s and `ir::linear`'s, as the interpreter's.
//!
//! A call that faults stores the exception's cause and address in the environment and
//! returns 0; the block tests `exception` after it and leaves with the guest pc it knows.

use ir::backend::EnvHeader;
use ir::{AtomicOp, MemOp, Opcode, Ty};

/// In an arithmetic call's `which`: the op is 32-bit (its result is returned sign-extended).
pub(crate) const ARITH_I32: u64 = 1 << 8;
/// In an arithmetic call's `which`: the op is unary (`b` is ignored).
pub(crate) const ARITH_UNARY: u64 = 1 << 9;
/// In a load call's `bits`: the result is 32-bit.
pub(crate) const LOAD_I32: u64 = 1 << 8;

/// `op(a, b)` (or `op(a)`), with `op`, its type and arity packed in `which`: the opcode's index
/// in `Opcode::ALL`, [`ARITH_I32`], [`ARITH_UNARY`].
pub(crate) extern "C" fn arith(a: u64, b: u64, which: u64) -> u64 {
    let op = Opcode::ALL.get((which & 0xff) as usize).copied().unwrap_or(Opcode::Nop);
    let ty = if which & ARITH_I32 != 0 { Ty::I32 } else { Ty::I64 };
    let v = if which & ARITH_UNARY != 0 { ir::sem::un(op, ty, a) } else { ir::sem::bin(op, ty, a, b) };
    if ty == Ty::I32 {
        v as u32 as i32 as i64 as u64
    } else {
        v
    }
}

/// Records a fault for the block to report.
fn fault(env: *mut u8, f: ir::linear::MemFault) {
    let h = env as *mut EnvHeader;
    // SAFETY: `env` is the running vCPU's environment (baseline code passes r15), owned by
    // this thread.
    unsafe {
        (*h).exception = f.cause;
        (*h).exception_aux = f.addr;
    }
}

/// A load with `MemOp` bits `bits` (| [`LOAD_I32`]) from guest address `addr`.
///
/// # Safety
/// `env` is the calling vCPU's environment, whose header describes mapped guest memory.
pub(crate) unsafe extern "C" fn load(env: *mut u8, addr: u64, bits: u64) -> u64 {
    let ty = if bits & LOAD_I32 != 0 { Ty::I32 } else { Ty::I64 };
    // SAFETY: per the function contract.
    let h = unsafe { &*(env as *const EnvHeader) };
    ir::linear::load(h, addr, MemOp::from_bits(bits as u8), ty).unwrap_or_else(|f| {
        fault(env, f);
        0
    })
}

/// A store of `v` with `MemOp` bits `bits` to guest address `addr`.
///
/// # Safety
/// As [`load`].
pub(crate) unsafe extern "C" fn store(env: *mut u8, addr: u64, v: u64, bits: u64) {
    // SAFETY: per the function contract.
    let h = unsafe { &*(env as *const EnvHeader) };
    if let Err(f) = ir::linear::store(h, addr, MemOp::from_bits(bits as u8), v) {
        fault(env, f);
    }
}

/// The `which` of an [`atomic`] call: the `MemOp` bits, the operation's index in
/// `AtomicOp::ALL` (8..16), the result type (bit 16: `i32`), compare-and-exchange (bit 17).
pub(crate) fn atomic_which(mop: MemOp, op: AtomicOp, ty: Ty, cmpxchg: bool) -> u64 {
    let index = AtomicOp::ALL.iter().position(|&o| o == op).unwrap_or(0) as u64;
    mop.to_bits() as u64 | index << 8 | ((ty == Ty::I32) as u64) << 16 | (cmpxchg as u64) << 17
}

/// The atomic access at guest address `addr` that `which` ([`atomic_which`]) describes: a
/// read-modify-write with operand `v`, or a compare-and-exchange of `expected` for `v`.
///
/// # Safety
/// As [`load`].
pub(crate) unsafe extern "C" fn atomic(env: *mut u8, addr: u64, v: u64, expected: u64, which: u64) -> u64 {
    // SAFETY: per the function contract.
    let h = unsafe { &*(env as *const EnvHeader) };
    let mop = MemOp::from_bits(which as u8);
    let ty = if which & 1 << 16 != 0 { Ty::I32 } else { Ty::I64 };
    let r = if which & 1 << 17 != 0 {
        ir::linear::cmpxchg(h, addr, mop, ty, expected, v)
    } else {
        let op = AtomicOp::ALL.get((which >> 8 & 0xff) as usize).copied().unwrap_or(AtomicOp::Xchg);
        ir::linear::atomic_rmw(h, addr, op, mop, ty, v)
    };
    r.unwrap_or_else(|f| {
        fault(env, f);
        0
    })
}
