//! Guest memory accesses in JIT code: the inline fast path, what happens off it, and the only
//! place where the JIT deals with byte order.
//!
//! User mode (`MemMode::Linear`): guest address `a` is host address `guest_base + a`. The fast
//! path checks, with the space's constants embedded, that the access stays below `va_limit`
//! (the last 8 bytes of the space are off it, so no fast access ends beyond it) and is
//! aligned where the MemOp demands it. Then:
//! - loads and stores touch host memory at once and leave protection to the host MMU, which
//!   mirrors the guest's protections, except that accel-tcg write-protects guest-writable pages
//!   holding translated code (QEMU's user mode works the same way): guest registers are
//!   written through to the CPU state, so a host fault (`fault.rs`) finds the guest state the
//!   IR promises there (precise, or as of a load's restart pc), and the code's source
//!   locations tell which guest instruction faulted, or where to replay from
//!   (`fault_sites.rs`). accel-tcg turns a store fault on a page the guest may write into
//!   invalidating that page's code and running the store again. An access off the fast path
//!   (beyond the space, misaligned) traps to the same handler, and accel-tcg runs its
//!   instruction on the reference evaluator (`EXC_EMULATE`): no slow path is compiled.
//! - Where the host MMU cannot be used (the code cache could not register with the fault
//!   handler), loads test the page's permission byte for READ2, stores for WRITE2 and neither
//!   CODE nor NEXT_CODE (the "this page and the next" bits make one test enough for an access
//!   that crosses into the next page), so that stores to code take the slow path, which
//!   invalidates it. Accesses off the fast path call `ir::linear` through
//!   [`jit_load`]/[`jit_store`], which handle the rest (code-page invalidation, faults
//!   reported as values), through `Lower::slow_call`: a fault leaves compiled code from its
//!   trampoline.
//!
//! The access itself loads or stores exactly its size natively and byte-swaps when the MemOp
//! is big-endian.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self as cl, types, BlockArg, InstBuilder, MemFlagsData};

use ir::backend::{perm, EnvHeader, EXC_GENERIC_BASE};
use ir::{linear, Align, AtomicOp, Aux, Endian, MemOp, Opcode, Size, Ty};

use crate::lower::Lower;

/// The guest space constants of `MemMode::Linear`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemCx {
    pub guest_base: u64,
    pub page_perms: u64,
    pub va_limit: u64,
    /// Accesses check only the address range and leave protection to the host MMU
    /// (`fault.rs`); false when this code cache could not register with the fault handler.
    pub host_mmu: bool,
}

fn size_ty(s: Size) -> cl::Type {
    match s {
        Size::S8 => types::I8,
        Size::S16 => types::I16,
        Size::S32 => types::I32,
        Size::S64 => types::I64,
    }
}

/// # Safety
/// Called from JIT code with the environment the block runs on.
unsafe fn header<'a>(env: *mut u8) -> &'a mut EnvHeader {
    // SAFETY: per the function contract, env starts with a live EnvHeader owned by the caller.
    unsafe { &mut *(env as *mut EnvHeader) }
}

fn set_fault(h: &mut EnvHeader, f: linear::MemFault) {
    h.exception = f.cause;
    h.exception_aux = f.addr;
}

/// Slow-path load of `EnvHeader::slow_addr`: `bits` = MemOp bits | 0x100 if the result is i32.
///
/// # Safety
/// Called from JIT code with the environment the block runs on.
pub(crate) unsafe extern "C" fn jit_load(env: *mut u8, bits: u64, _a1: u64, _a2: u64, _a3: u64) -> u64 {
    // SAFETY: forwarded contract.
    let h = unsafe { header(env) };
    let addr = h.slow_addr;
    let ty = if bits & 0x100 != 0 { Ty::I32 } else { Ty::I64 };
    match linear::load(h, addr, MemOp::from_bits(bits as u8), ty) {
        Ok(v) => v,
        Err(f) => {
            set_fault(h, f);
            0
        }
    }
}

/// Slow-path store of `EnvHeader::slow_value` at `slow_addr`; `bits` = MemOp bits.
///
/// # Safety
/// Called from JIT code with the environment the block runs on.
pub(crate) unsafe extern "C" fn jit_store(env: *mut u8, bits: u64, _a1: u64, _a2: u64, _a3: u64) -> u64 {
    // SAFETY: forwarded contract.
    let h = unsafe { header(env) };
    let (addr, val) = (h.slow_addr, h.slow_value);
    if let Err(f) = linear::store(h, addr, MemOp::from_bits(bits as u8), val) {
        set_fault(h, f);
    }
    0
}

/// Atomic read-modify-write: a2 = op index | MemOp bits << 8 | 0x10000 if i32.
///
/// # Safety
/// Called from JIT code with the environment the block runs on.
pub(crate) unsafe extern "C" fn jit_atomic_rmw(env: *mut u8, addr: u64, val: u64, packed: u64, _a3: u64) -> u64 {
    // SAFETY: forwarded contract.
    let h = unsafe { header(env) };
    let op = AtomicOp::ALL[(packed & 0xff) as usize % AtomicOp::ALL.len()];
    let ty = if packed & 0x10000 != 0 { Ty::I32 } else { Ty::I64 };
    match linear::atomic_rmw(h, addr, op, MemOp::from_bits((packed >> 8) as u8), ty, val) {
        Ok(v) => v,
        Err(f) => {
            set_fault(h, f);
            0
        }
    }
}

/// Atomic compare-and-exchange: a3 = MemOp bits | 0x100 if i32.
///
/// # Safety
/// Called from JIT code with the environment the block runs on.
pub(crate) unsafe extern "C" fn jit_cmpxchg(env: *mut u8, addr: u64, expected: u64, new: u64, bits: u64) -> u64 {
    // SAFETY: forwarded contract.
    let h = unsafe { header(env) };
    let ty = if bits & 0x100 != 0 { Ty::I32 } else { Ty::I64 };
    match linear::cmpxchg(h, addr, MemOp::from_bits(bits as u8), ty, expected, new) {
        Ok(v) => v,
        Err(f) => {
            set_fault(h, f);
            0
        }
    }
}

const _: () = assert!(EXC_GENERIC_BASE != 0, "exception 0 means none");

/// Where an access that fails its fast-path test goes (`Lower::fast_check`).
#[derive(Clone, Copy)]
enum OnMiss {
    /// With the host MMU (only the range and alignment are tested): a conditional trap, which
    /// the fault handler turns into `EXC_EMULATE`, for the dispatcher to run the instruction
    /// on the reference evaluator (out-of-range and misaligned accesses are faults or rare).
    Trap,
    /// Without it: a branch to this out-of-line block, which calls the runtime, when the
    /// permission byte lacks a bit of `need` or has one of `deny`.
    Slow { block: cl::Block, need: u8, deny: u8 },
}

impl OnMiss {
    /// Whether the access itself may fault in the host (left to the host MMU).
    fn traps(self) -> bool {
        matches!(self, OnMiss::Trap)
    }
}

impl Lower<'_, '_> {
    /// Where an access that fails the fast path's test goes, for an access that needs page
    /// permissions `need` and none of `deny` (the *2 bits cover a crossing into the next page).
    fn on_miss(&mut self, need: u8, deny: u8) -> OnMiss {
        if self.cx.mem.host_mmu {
            return OnMiss::Trap;
        }
        let block = self.b.create_block();
        self.b.set_cold_block(block);
        OnMiss::Slow { block, need, deny }
    }

    /// The fast-path test: leaves by `miss` unless the access of `mop` at `addr` stays below
    /// the end of the guest space, is aligned where the MemOp demands it, and, for
    /// `OnMiss::Slow`, the permission byte of its first page allows it. Falls through with the
    /// host address, as a value and a constant offset (the base's host address and `off` when
    /// `base_off` is given, so that the access can fold the offset).
    ///
    /// `base_off`: `addr` is `base + off` with `0 <= off`, so `base < limit - off` is tested
    /// instead of `addr < limit` (no add needed for the test; where the add wraps, base is
    /// above the bound too and the access takes the slow path, which computes it exactly).
    fn fast_check(
        &mut self,
        addr: cl::Value,
        base_off: Option<(cl::Value, i64)>,
        mop: MemOp,
        miss: OnMiss,
    ) -> (cl::Value, i32) {
        let n = mop.size.bytes() as i64;
        // the last 8 bytes of the space go the slow way, so that no fast access can end beyond
        // it, whatever its size
        let limit = self.cx.mem.va_limit.saturating_sub(8) as i64;
        let mut bad = match base_off {
            Some((base, off)) if (0..limit).contains(&off) => {
                self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, base, limit - off)
            }
            _ => self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, addr, limit),
        };
        if n > 1 && mop.align == Align::Natural {
            let low = self.b.ins().band_imm_u(addr, n - 1);
            let mis = self.b.ins().icmp_imm_u(IntCC::NotEqual, low, 0);
            bad = self.b.ins().bor(bad, mis);
        }
        match miss {
            OnMiss::Trap => {
                // a jump to an out-of-line trap carrying this instruction's source location:
                // no Cranelift block of its own
                self.b.ins().trapnz(bad, crate::fault::TRAP_EMULATE);
            }
            OnMiss::Slow { block, need, deny } => {
                self.continue_unless(bad, block);
                let p = self.perm_byte(addr);
                let denied = if deny == 0 {
                    let m = self.b.ins().band_imm_u(p, need as i64);
                    self.b.ins().icmp_imm_u(IntCC::Equal, m, 0)
                } else {
                    let m = self.b.ins().band_imm_u(p, (need | deny) as i64);
                    self.b.ins().icmp_imm_u(IntCC::NotEqual, m, need as i64)
                };
                self.continue_unless(denied, block);
            }
        }
        match base_off {
            Some((base, off)) if (0..limit).contains(&off) && i32::try_from(off).is_ok() => {
                (self.host_addr(base), off as i32)
            }
            _ => (self.host_addr(addr), 0),
        }
    }

    /// Branches to `slow` if `cond` is non-zero, continuing in a new block otherwise.
    fn continue_unless(&mut self, cond: cl::Value, slow: cl::Block) {
        let ok = self.b.create_block();
        self.b.ins().brif(cond, slow, &[], ok, &[]);
        self.b.switch_to_block(ok);
        self.b.seal_block(ok);
    }

    /// The permission byte (`perm`) of the page holding guest address `addr`, which must be
    /// below the end of the guest space.
    fn perm_byte(&mut self, addr: cl::Value) -> cl::Value {
        let page = self.b.ins().ushr_imm_u(addr, perm::PAGE_BITS as i64);
        let table = self.b.ins().iconst(types::I64, self.cx.mem.page_perms as i64);
        let entry = self.b.ins().iadd(table, page);
        self.b.ins().uload8(types::I32, MemFlagsData::trusted(), entry, 0)
    }

    /// The host address of guest address `addr`.
    fn host_addr(&mut self, addr: cl::Value) -> cl::Value {
        if self.cx.mem.guest_base == 0 {
            return addr;
        }
        let base = self.b.ins().iconst(types::I64, self.cx.mem.guest_base as i64);
        self.b.ins().iadd(base, addr)
    }

    /// `v = ld mop, addr` as a host value of type `rty`: i32 or i64 (the IR type), or f64 for
    /// an 8-byte little-endian access (`addr` = `base_off.0 + base_off.1` where known: see
    /// `fast_check`).
    pub(crate) fn lower_load(
        &mut self,
        addr: cl::Value,
        base_off: Option<(cl::Value, i64)>,
        mop: MemOp,
        rty: cl::Type,
    ) -> cl::Value {
        let miss = self.on_miss(perm::READ2, 0);
        let (host, off) = self.fast_check(addr, base_off, mop, miss);
        // native-order load of exactly the access size, then byte order, then extension
        let sty = if rty == types::F64 { rty } else { size_ty(mop.size) };
        // may trap when the host MMU checks it (the environment is the guest state, as sets
        // write through, and the code's source location names this instruction): Cranelift
        // keeps it in order with the stores around it
        let flags = if miss.traps() { MemFlagsData::new() } else { MemFlagsData::new().with_notrap() };
        let raw = self.b.ins().load(sty, flags, host, off);
        let raw = if mop.endian == Endian::Big && mop.size != Size::S8 { self.b.ins().bswap(raw) } else { raw };
        let v = if sty == rty {
            raw
        } else if sty.bits() > rty.bits() {
            self.b.ins().ireduce(rty, raw)
        } else if mop.signed {
            self.b.ins().sextend(rty, raw)
        } else {
            self.b.ins().uextend(rty, raw)
        };
        let OnMiss::Slow { block: slow, .. } = miss else { return v };
        let done = self.b.create_block();
        self.b.append_block_param(done, rty);
        self.b.ins().jump(done, &[BlockArg::Value(v)]);
        // slow path
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let bits = self.b.ins().iconst(types::I64, mop.to_bits() as i64 | if rty == types::I32 { 0x100 } else { 0 });
        let env = self.env();
        self.b.ins().store(MemFlagsData::trusted(), addr, env, EnvHeader::OFF_SLOW_ADDR as i32);
        let r = self.slow_call(jit_load as *const () as u64, &[bits]);
        let r = match rty {
            types::I32 => self.b.ins().ireduce(types::I32, r),
            types::F64 => self.b.ins().bitcast(types::F64, MemFlagsData::new(), r),
            _ => r,
        };
        self.b.ins().jump(done, &[BlockArg::Value(r)]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        self.b.block_params(done)[0]
    }

    /// `st mop, addr, v` (`base_off` as for [`Self::fast_check`]). With the host MMU, pages the
    /// guest may not write and pages holding translated code (which accel-tcg write-protects)
    /// fault in the host; otherwise the page's permission byte is tested, and code pages (and
    /// the page before one) take the slow path, which invalidates that code.
    pub(crate) fn lower_store(
        &mut self,
        addr: cl::Value,
        base_off: Option<(cl::Value, i64)>,
        mop: MemOp,
        v: cl::Value,
    ) {
        let miss = self.on_miss(perm::WRITE2, perm::CODE | perm::NEXT_CODE);
        let (host, off) = self.fast_check(addr, base_off, mop, miss);
        let sty = size_ty(mop.size);
        let vty = self.b.func.dfg.value_type(v);
        let x = if vty.bits() > sty.bits() { self.b.ins().ireduce(sty, v) } else { v };
        let x = if mop.endian == Endian::Big && mop.size != Size::S8 { self.b.ins().bswap(x) } else { x };
        // may trap when the host MMU checks it
        let flags = if miss.traps() { MemFlagsData::new() } else { MemFlagsData::new().with_notrap() };
        self.b.ins().store(flags, x, host, off);
        let OnMiss::Slow { block: slow, .. } = miss else { return };
        let done = self.b.create_block();
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let v64 = self.widen_i64(v);
        let env = self.env();
        self.b.ins().store(MemFlagsData::trusted(), addr, env, EnvHeader::OFF_SLOW_ADDR as i32);
        self.b.ins().store(MemFlagsData::trusted(), v64, env, EnvHeader::OFF_SLOW_VALUE as i32);
        let bits = self.b.ins().iconst(types::I64, mop.to_bits() as i64);
        self.slow_call(jit_store as *const () as u64, &[bits]);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// Atomics always go through `ir::linear` (host atomics of the access size).
    pub(crate) fn lower_atomic(&mut self, inst: &ir::Inst, args: &[cl::Value]) -> cl::Value {
        let i32flag = if inst.ty == Ty::I32 { 1 } else { 0 };
        let r = match (inst.op, inst.aux) {
            (Opcode::AtomicRmw, Aux::Atomic(op, m)) => {
                let idx = AtomicOp::ALL.iter().position(|o| *o == op).unwrap_or(0) as i64;
                let packed = self.b.ins().iconst(types::I64, idx | (m.to_bits() as i64) << 8 | i32flag << 16);
                self.slow_call(jit_atomic_rmw as *const () as u64, &[args[0], args[1], packed])
            }
            (_, Aux::Mem(m)) => {
                let bits = self.b.ins().iconst(types::I64, m.to_bits() as i64 | i32flag << 8);
                self.slow_call(jit_cmpxchg as *const () as u64, &[args[0], args[1], args[2], bits])
            }
            _ => self.b.ins().iconst(types::I64, 0),
        };
        r
    }
}
