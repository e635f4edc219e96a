//! The interpreter loop: one `match` over the bytecode opcode per instruction, no allocation
//! and no dynamic dispatch per op (QEMU's `tcg_qemu_tb_exec` in `tci.c`).
//!
//! Slots are 8-byte words of the CPU environment, addressed as `base[n]`. Byte order is applied
//! here and only here: the specialized little-endian loads and stores access host memory with
//! `ir::linear`'s one-access `host_load`/`host_store` and `from_le`/`to_le`; every other
//! access goes through `ir::linear`, which applies the MemOp's byte order.
//!
//! # Safety argument
//! `compile` only emits slot numbers below `(scratch_offset + scratch_size) / 8`, the size of
//! the environment it was given, and helper/atomic indices into the block's own tables. The
//! caller of [`exec`] guarantees the environment has that layout and is exclusively ours.
//! Guest memory is touched only after the same checks as `ir::linear` makes (address below
//! `va_limit`, one page, permission bits), or through `ir::linear` itself.

use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use ir::backend::{perm, EnvHeader, TbExit};
use ir::{linear, MemOp, Ty};

use crate::bytecode::{self, Op, REPLAY_FROM};
use crate::InterpCode;

macro_rules! dispatch {
    ({ $i:ident, $rd:ident, $wr:ident, { $($custom:tt)* } }
     binary { $($bop:ident: $v64:ident $v64i:ident $v32:ident $v32i:ident;)* }
     unary { $($uop:ident: $u64:ident $u32:ident;)* }) => {
        match $i.op {
            $(
                Op::$v64 => $wr!($i.d, ir::sem::bin(ir::Opcode::$bop, Ty::I64, $rd!($i.a), $rd!($i.b))),
                Op::$v64i => $wr!($i.d, ir::sem::bin(ir::Opcode::$bop, Ty::I64, $rd!($i.a), $i.imm)),
                Op::$v32 => $wr!($i.d, sext32(ir::sem::bin(ir::Opcode::$bop, Ty::I32, $rd!($i.a), $rd!($i.b)))),
                Op::$v32i => $wr!($i.d, sext32(ir::sem::bin(ir::Opcode::$bop, Ty::I32, $rd!($i.a), $i.imm))),
            )*
            $(
                Op::$u64 => $wr!($i.d, ir::sem::un(ir::Opcode::$uop, Ty::I64, $rd!($i.a))),
                Op::$u32 => $wr!($i.d, sext32(ir::sem::un(ir::Opcode::$uop, Ty::I32, $rd!($i.a)))),
            )*
            $($custom)*
        }
    };
}

/// 32-bit results are stored sign-extended (see `compile.rs`: an `extend_s` of them is free).
#[inline(always)]
fn sext32(x: u64) -> u64 {
    x as u32 as i32 as i64 as u64
}

/// Host address for an access that needs no slow path, or None. The permission byte of the
/// first page decides (the READ2/WRITE2 bits cover a crossing into the next page).
#[inline(always)]
fn fast_addr(h: &EnvHeader, addr: u64, size: u64, mask: u8, need: u8) -> Option<u64> {
    let end = addr.wrapping_add(size - 1);
    if end < h.va_limit && end >= addr {
        // SAFETY: addr <= end < va_limit, so addr's page index is within the permission
        // table the header describes (va_limit >> PAGE_BITS entries).
        let p = unsafe { (*h.page_perms.add((addr >> perm::PAGE_BITS) as usize)).load(Ordering::Relaxed) };
        if p & mask == need {
            return Some(h.guest_base.wrapping_add(addr));
        }
    }
    None
}

/// Runs `code` on the environment `env`.
///
/// # Safety
/// `env` points to a live environment with the layout `code` was compiled for, exclusively
/// used by the caller's thread during the call, whose header describes mapped guest memory.
pub(crate) unsafe fn exec(entry: &InterpCode, env: NonNull<u8>) -> TbExit {
    let base = env.as_ptr() as *mut u64;
    let hdr = env.as_ptr() as *mut EnvHeader;
    // SAFETY: see the module's safety argument; every raw access below stays within the
    // environment (slot numbers checked at compile time) or within guest memory after the
    // permission checks of `fast_addr` / `ir::linear`.
    unsafe {
        let h = &*hdr;
        if h.exit_request.load(Ordering::Acquire) != 0 {
            return TbExit::Interrupted;
        }
        // the block running now (chaining moves it along)
        let mut code: &InterpCode = entry;
        let mut ip = code.insns.as_ptr();
        macro_rules! rd {
            ($s:expr) => {
                *base.add($s as usize)
            };
        }
        macro_rules! wr {
            ($s:expr, $v:expr) => {{
                let v = $v;
                *base.add($s as usize) = v;
            }};
        }
        macro_rules! fault {
            ($cause:expr, $aux:expr, $insn:expr) => {{
                let insn: u32 = $insn;
                (*hdr).exception = $cause;
                (*hdr).exception_aux = $aux;
                (*hdr).exception_pc = code.insn_pcs.get((insn & !REPLAY_FROM) as usize).copied().unwrap_or(0);
                (*hdr).exception_replay = (insn & REPLAY_FROM != 0) as u32;
                return TbExit::Exception;
            }};
        }
        macro_rules! addr_of {
            ($i:expr) => {
                rd!($i.a).wrapping_add($i.imm as u32 as i32 as i64 as u64)
            };
        }
        macro_rules! load_le {
            ($i:expr, $t:ty, $n:expr, $conv:expr, $mop:expr) => {{
                let addr = addr_of!($i);
                match fast_addr(h, addr, $n, perm::READ2, perm::READ2) {
                    Some(p) => wr!($i.d, $conv(<$t>::from_le(linear::host_load::<$t>(p as *const u8)))),
                    None => match linear::load(h, addr, $mop, Ty::I64) {
                        Ok(v) => wr!($i.d, v),
                        Err(f) => fault!(f.cause, f.addr, ($i.imm >> 32) as u32),
                    },
                }
            }};
        }
        macro_rules! store_le {
            ($i:expr, $t:ty, $n:expr, $mop:expr) => {{
                let addr = addr_of!($i);
                let v = rd!($i.b);
                match fast_addr(h, addr, $n, perm::WRITE2 | perm::CODE | perm::NEXT_CODE, perm::WRITE2) {
                    Some(p) => linear::host_store(p as *mut u8, (v as $t).to_le()),
                    None => {
                        if let Err(f) = linear::store(h, addr, $mop, v) {
                            fault!(f.cause, f.addr, ($i.imm >> 32) as u32)
                        }
                    }
                }
            }};
        }
        // Leaves through exit `slot` of `code`, or continues in the block linked there.
        macro_rules! chain {
            ($slot:expr) => {{
                let slot = $slot as usize;
                let next = code.links.get(slot).map_or(std::ptr::null_mut(), |l| l.load(Ordering::Acquire));
                if next.is_null() {
                    let from = if std::ptr::eq(code, entry) { 0 } else { code as *const InterpCode as u64 };
                    return TbExit::Chain { slot: slot as u8, from };
                }
                // SAFETY: linked blocks are kept alive by the source's strong references (lib.rs).
                enter!(&*next)
            }};
        }
        // Continues in block `next` (the guest pc is set), as a chained entry: leaves first if
        // asked to.
        macro_rules! enter {
            ($next:expr) => {{
                let next: &InterpCode = $next;
                if h.exit_request.load(Ordering::Acquire) != 0 {
                    return TbExit::Interrupted;
                }
                code = next;
                ip = code.insns.as_ptr();
                continue;
            }};
        }
        let le = |size| MemOp::new(size, ir::Endian::Little);
        let pc_slot = code.pc_slot;
        loop {
            let i = *ip;
            ip = ip.add(1);
            crate::with_op_tables!(dispatch, i, rd, wr, {
                Op::Mov => wr!(i.d, rd!(i.a)),
                Op::MovI => wr!(i.d, i.imm),
                Op::Sext64 => wr!(i.d, ir::sem::sext(Ty::I64, rd!(i.a), i.imm)),
                Op::Sext32 => wr!(i.d, ir::sem::sext(Ty::I32, rd!(i.a), i.imm)),
                Op::Zext => wr!(i.d, ir::sem::zext(Ty::I64, rd!(i.a), i.imm)),
                Op::ExtendS => wr!(i.d, rd!(i.a) as u32 as i32 as i64 as u64),
                Op::Low32 => wr!(i.d, rd!(i.a) & 0xffff_ffff),
                Op::Setcond64 => wr!(i.d, bytecode::cond(i.imm).eval(Ty::I64, rd!(i.a), rd!(i.b)) as u64),
                Op::Setcond32 => wr!(i.d, bytecode::cond(i.imm).eval(Ty::I32, rd!(i.a), rd!(i.b)) as u64),
                Op::Select => wr!(i.d, if rd!(i.a) != 0 { rd!(i.b) } else { rd!(i.imm) }),
                Op::LdU8 => load_le!(i, u8, 1, |x: u8| x as u64, le(ir::Size::S8)),
                Op::LdS8 => load_le!(i, i8, 1, |x: i8| x as i64 as u64, le(ir::Size::S8).sext()),
                Op::LdU16Le => load_le!(i, u16, 2, |x: u16| x as u64, le(ir::Size::S16)),
                Op::LdS16Le => load_le!(i, i16, 2, |x: i16| x as i64 as u64, le(ir::Size::S16).sext()),
                Op::LdU32Le => load_le!(i, u32, 4, |x: u32| x as u64, le(ir::Size::S32)),
                Op::LdS32Le => load_le!(i, i32, 4, |x: i32| x as i64 as u64, le(ir::Size::S32).sext()),
                Op::Ld64Le => load_le!(i, u64, 8, |x: u64| x, le(ir::Size::S64)),
                Op::Ld => {
                    let addr = addr_of!(i);
                    let ty = if i.b & 0x100 != 0 { Ty::I32 } else { Ty::I64 };
                    match linear::load(h, addr, MemOp::from_bits(i.b as u8), ty) {
                        Ok(v) => wr!(i.d, v),
                        Err(f) => fault!(f.cause, f.addr, (i.imm >> 32) as u32),
                    }
                }
                Op::St8 => store_le!(i, u8, 1, le(ir::Size::S8)),
                Op::St16Le => store_le!(i, u16, 2, le(ir::Size::S16)),
                Op::St32Le => store_le!(i, u32, 4, le(ir::Size::S32)),
                Op::St64Le => store_le!(i, u64, 8, le(ir::Size::S64)),
                Op::St => {
                    let addr = addr_of!(i);
                    if let Err(f) = linear::store(h, addr, MemOp::from_bits(i.d as u8), rd!(i.b)) {
                        fault!(f.cause, f.addr, (i.imm >> 32) as u32)
                    }
                }
                Op::AtomicRmw => {
                    let s = code.atomics.get_unchecked(i.imm as usize);
                    match linear::atomic_rmw(h, rd!(s.addr), s.op, s.mop, s.ty, rd!(s.val)) {
                        Ok(v) => wr!(i.d, v),
                        Err(f) => fault!(f.cause, f.addr, s.insn),
                    }
                }
                Op::Cmpxchg => {
                    let s = code.atomics.get_unchecked(i.imm as usize);
                    match linear::cmpxchg(h, rd!(s.addr), s.mop, s.ty, rd!(s.expected), rd!(s.val)) {
                        Ok(v) => wr!(i.d, v),
                        Err(f) => fault!(f.cause, f.addr, s.insn),
                    }
                }
                Op::Fence => std::sync::atomic::fence(Ordering::SeqCst),
                Op::Fp => {
                    let op = ir::Opcode::ALL.get(((i.imm >> 16) & 0xff) as usize).copied().unwrap_or(ir::Opcode::Nop);
                    let ty = if i.imm & (1 << 24) != 0 { Ty::I64 } else { Ty::I32 };
                    wr!(i.d, ir::fpu::eval(op, ty, rd!(i.a), rd!(i.b), rd!(i.imm & 0xffff)))
                }
                Op::Fpflags => wr!(i.d, ir::fpu::fpflags_runtime(env.as_ptr(), 0, 0, 0, 0)),
                Op::Call => {
                    let c = code.calls.get_unchecked(i.imm as usize);
                    let a = |k: usize| if k < c.nargs as usize { rd!(c.args[k]) } else { 0 };
                    let v = (c.func)(env.as_ptr(), a(0), a(1), a(2), a(3));
                    if c.can_fault && (*hdr).exception != 0 {
                        (*hdr).exception_pc = code.insn_pcs.get(c.insn as usize).copied().unwrap_or(0);
                        return TbExit::Exception;
                    }
                    wr!(i.d, v);
                }
                Op::ExitIfChain => {
                    if rd!(i.a) != 0 {
                        wr!(pc_slot, i.imm);
                        chain!(i.b)
                    }
                }
                Op::ExitIfRaise => {
                    if rd!(i.a) != 0 {
                        fault!(i.imm as u32, 0, (i.imm >> 32) as u32)
                    }
                }
                Op::BrCond64 => {
                    if bytecode::cond((i.d & 0xff) as u64).eval(Ty::I64, rd!(i.a), rd!(i.b)) {
                        wr!(pc_slot, i.imm);
                        chain!(i.d >> 8)
                    }
                }
                Op::BrCond32 => {
                    if bytecode::cond((i.d & 0xff) as u64).eval(Ty::I32, rd!(i.a), rd!(i.b)) {
                        wr!(pc_slot, i.imm);
                        chain!(i.d >> 8)
                    }
                }
                Op::GotoTb => {
                    wr!(pc_slot, i.imm);
                    chain!(i.b)
                }
                Op::GotoPtr => {
                    let pc = rd!(i.a);
                    wr!(pc_slot, pc);
                    let cache = h.jump_cache;
                    if !cache.is_null() {
                        // SAFETY: a non-null jump cache has JUMP_CACHE_SIZE entries (EnvHeader);
                        // an entry with a target names a live block of this backend, with its
                        // validity flag, for as long as it is there (JumpCacheEntry), and only
                        // this thread changes it, never while we run.
                        let e = &*cache.add(ir::backend::jump_cache_index(pc));
                        if e.pc == pc && e.flags == code.flags && e.target != 0 && (*e.valid).load(Ordering::Acquire) {
                            enter!(&*(e.target as *const InterpCode))
                        }
                    }
                    return TbExit::Lookup;
                }
                Op::ExitTb => {
                    wr!(pc_slot, rd!(i.a));
                    return TbExit::Lookup;
                }
                Op::Raise => fault!(i.imm as u32, rd!(i.a), (i.imm >> 32) as u32),
            });
        }
    }
}
