//! A self-contained CPU environment and guest memory for tests of the IR and of the backends:
//! sixteen 64-bit globals `r0`..`r15`, two 32-bit globals `w0`/`w1`, a `pc`, a few helpers,
//! and a small guest address space with per-page permissions. Not used outside tests.

use std::ptr::NonNull;
use std::sync::atomic::AtomicU8;

use crate::backend::{perm, EnvHeader, EnvLayout};
use crate::block::{Decls, HelperFlags};
use crate::types::Ty;

/// Number of 64-bit test globals.
pub const NREGS: usize = 16;
/// Guest address space size of the test memory.
pub const MEM_SIZE: usize = 64 * 1024;
/// Scratch bytes after the state.
pub const SCRATCH: usize = 64 * 1024;

/// Environment layout: header, r0..r15, w0, w1, pc, scratch.
#[repr(C)]
pub struct TestState {
    /// r0..r15.
    pub r: [u64; NREGS],
    /// 32-bit globals (zero-extended).
    pub w: [u64; 2],
    /// Program counter.
    pub pc: u64,
}

/// A test environment with its memory.
pub struct TestEnv {
    buf: Vec<u64>,
    mem: Vec<u64>,
    perms: Vec<AtomicU8>,
}

unsafe extern "C" fn h_add3(_env: *mut u8, a: u64, b: u64, c: u64, _d: u64) -> u64 {
    a.wrapping_add(b).wrapping_add(c)
}

unsafe extern "C" fn h_raise_if(env: *mut u8, a: u64, _b: u64, _c: u64, _d: u64) -> u64 {
    if a != 0 {
        let h = env as *mut EnvHeader;
        // SAFETY: helpers are only called with the environment they were declared for.
        unsafe {
            (*h).exception = 7;
            (*h).exception_aux = a;
        }
    }
    a
}

unsafe extern "C" fn h_bump_r0(env: *mut u8, a: u64, _b: u64, _c: u64, _d: u64) -> u64 {
    // SAFETY: helpers are only called with the environment they were declared for, whose
    // state follows the header.
    unsafe {
        let st = env.add(EnvHeader::SIZE) as *mut TestState;
        (*st).r[0] = (*st).r[0].wrapping_add(a);
        (*st).r[0]
    }
}

impl TestEnv {
    /// Declarations: globals r0..r15 (i64), w0, w1 (i32), pc; helpers `add3` (pure),
    /// `raise_if` (can fault: exception 7 when its argument is non-zero), `bump_r0` (reads and
    /// writes r0).
    pub fn decls() -> Decls {
        let mut d = Decls::default();
        let base = EnvHeader::SIZE as u32;
        for i in 0..NREGS {
            d.add_global(format!("r{i}"), Ty::I64, base + 8 * i as u32);
        }
        d.add_global("w0", Ty::I32, base + 8 * NREGS as u32);
        d.add_global("w1", Ty::I32, base + 8 * NREGS as u32 + 8);
        d.pc = Some(d.add_global("pc", Ty::I64, base + 8 * NREGS as u32 + 16));
        d.add_helper("add3", h_add3, 3, HelperFlags::PURE);
        d.add_helper(
            "raise_if",
            h_raise_if,
            1,
            HelperFlags::CAN_FAULT.or(HelperFlags::NO_READ_GLOBALS).or(HelperFlags::NO_WRITE_GLOBALS),
        );
        d.add_helper("bump_r0", h_bump_r0, 1, HelperFlags::NONE);
        d
    }

    /// The layout backends compile for.
    pub fn layout() -> EnvLayout {
        let off = EnvHeader::SIZE + std::mem::size_of::<TestState>();
        EnvLayout { scratch_offset: off as u32, scratch_size: SCRATCH as u32 }
    }

    /// A zeroed environment whose memory pages are all readable and writable.
    pub fn new() -> Box<Self> {
        let words = (EnvHeader::SIZE + std::mem::size_of::<TestState>() + SCRATCH) / 8;
        let mut t = Box::new(TestEnv {
            buf: vec![0; words],
            mem: vec![0; MEM_SIZE / 8],
            perms: (0..MEM_SIZE >> perm::PAGE_BITS).map(|_| AtomicU8::new(perm::READ | perm::WRITE)).collect(),
        });
        let h = EnvHeader {
            guest_base: t.mem.as_mut_ptr() as u64,
            page_perms: t.perms.as_ptr(),
            va_limit: MEM_SIZE as u64,
            ..EnvHeader::new()
        };
        // SAFETY: buf is at least EnvHeader::SIZE bytes and 8-aligned (a Vec<u64>).
        unsafe { std::ptr::write(t.buf.as_mut_ptr() as *mut EnvHeader, h) };
        t
    }

    /// Pointer to the environment, for `eval` / `CompiledBlock::run`.
    pub fn ptr(&mut self) -> NonNull<u8> {
        NonNull::new(self.buf.as_mut_ptr() as *mut u8).expect("a Vec's pointer is never null")
    }

    /// The header.
    pub fn header(&self) -> &EnvHeader {
        // SAFETY: written in `new`, lives as long as self.
        unsafe { &*(self.buf.as_ptr() as *const EnvHeader) }
    }

    /// Mutable header.
    pub fn header_mut(&mut self) -> &mut EnvHeader {
        // SAFETY: written in `new`, lives as long as self; &mut self gives exclusive access.
        unsafe { &mut *(self.buf.as_mut_ptr() as *mut EnvHeader) }
    }

    /// The register state.
    pub fn state(&mut self) -> &mut TestState {
        // SAFETY: the state follows the header inside buf, 8-aligned; &mut self is exclusive.
        unsafe { &mut *((self.buf.as_mut_ptr() as *mut u8).add(EnvHeader::SIZE) as *mut TestState) }
    }

    /// Guest memory as bytes.
    pub fn mem(&mut self) -> &mut [u8] {
        // SAFETY: the Vec<u64> owns MEM_SIZE bytes; u8 has no alignment requirement.
        unsafe { std::slice::from_raw_parts_mut(self.mem.as_mut_ptr() as *mut u8, MEM_SIZE) }
    }

    /// Sets the permission byte of guest page `page`.
    pub fn set_perm(&mut self, page: usize, p: u8) {
        self.perms[page] = AtomicU8::new(p);
    }
}

/// Runs a block on a test environment and reports how it left.
pub type Runner<'a> = dyn FnMut(&crate::Block, &mut TestEnv) -> crate::backend::TbExit + 'a;

/// The MemOp endianness matrix: {8,16,32,64} bits × {little, big} × {aligned, crossing a
/// page}, each a store then a signed and an unsigned load, driven from IR text. `run` executes
/// one block (the evaluator, the interpreter or the JIT). Panics with the failing case.
pub fn memop_matrix(run: &mut Runner<'_>) {
    let decls = TestEnv::decls();
    let value: u64 = 0x8182_8384_8586_8788;
    for bits in [8u32, 16, 32, 64] {
        for (e, ename) in [(crate::Endian::Little, "le"), (crate::Endian::Big, "be")] {
            for crossing in [false, true] {
                let n = (bits / 8) as u64;
                let addr = if crossing {
                    0x2000 - n / 2 - if n == 1 { 1 } else { 0 } + if n == 1 { 1 } else { 0 }
                } else {
                    0x1ff0
                };
                let addr = if crossing && n == 1 { 0x1fff } else { addr };
                let text = format!(
                    "block pc=0x1000\n  insn_start 0x1000, 0\n  v0 = get.i64 r1\n  v1 = get.i64 r2\n  st.i64 u{bits}{ename}, v0, v1\n  v2 = ld.i64 s{bits}{ename}, v0\n  set.i64 r3, v2\n  v3 = ld.i64 u{bits}{ename}, v0\n  set.i64 r4, v3\n  v4 = ld.i32 s{b32}{ename}, v0\n  set.i32 w0, v4\n  goto_tb 0, 0x2000\n",
                    b32 = bits.min(32)
                );
                let block = crate::text::parse(&text, &decls).expect("matrix IR parses");
                crate::verify::verify(&block, &decls).expect("matrix IR verifies");
                let mut env = TestEnv::new();
                env.state().r[1] = addr;
                env.state().r[2] = value;
                let exit = run(&block, &mut env);
                let case = format!("{bits} bits {ename} at {addr:#x}");
                assert_eq!(exit, crate::backend::TbExit::Chain { slot: 0 }, "{case}: exit");
                let stored = &env.mem()[addr as usize..(addr + n) as usize].to_vec();
                let low = value & if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
                let expect_bytes: Vec<u8> = match e {
                    crate::Endian::Little => low.to_le_bytes()[..n as usize].to_vec(),
                    crate::Endian::Big => low.to_be_bytes()[8 - n as usize..].to_vec(),
                };
                assert_eq!(stored, &expect_bytes, "{case}: bytes in memory");
                let sext = if bits == 64 { low } else { (((low << (64 - bits)) as i64) >> (64 - bits)) as u64 };
                assert_eq!(env.state().r[3], sext, "{case}: signed load");
                assert_eq!(env.state().r[4], low, "{case}: unsigned load");
                let b32 = bits.min(32);
                let low32 = low & if b32 == 32 { 0xffff_ffff } else { (1 << b32) - 1 };
                let sext32 = ((((low32 << (64 - b32)) as i64) >> (64 - b32)) as u64) & 0xffff_ffff;
                // a 64-bit case reads the first 4 bytes as a 32-bit access
                let expect32 = if bits == 64 {
                    let first4: [u8; 4] = stored[..4].try_into().expect("4 bytes");
                    match e {
                        crate::Endian::Little => u32::from_le_bytes(first4) as u64,
                        crate::Endian::Big => u32::from_be_bytes(first4) as u64,
                    }
                } else {
                    sext32
                };
                assert_eq!(env.state().w[0], expect32, "{case}: i32 signed load");
            }
        }
    }
    // faults: a load from a page without READ reports the cause, the address and the insn
    let text = "block pc=0x1000\n  insn_start 0x1000, 0\n  insn_start 0x1004, 0\n  v0 = get.i64 r1\n  v1 = ld.i64 u32le, v0\n  set.i64 r3, v1\n  goto_tb 0, 0x2000\n";
    let block = crate::text::parse(text, &decls).expect("fault IR parses");
    let mut env = TestEnv::new();
    env.set_perm(3, 0);
    env.state().r[1] = 0x2ffe;
    let exit = run(&block, &mut env);
    assert_eq!(exit, crate::backend::TbExit::Exception, "load crossing into an unreadable page faults");
    assert_eq!(env.header().exception, crate::backend::EXC_LOAD_FAULT);
    assert_eq!(env.header().exception_aux, 0x3000, "fault address is the first unreadable byte");
    assert_eq!(env.header().exit_insn, 1, "fault reported at the second instruction");
    assert_eq!(env.state().r[3], 0, "nothing written after the fault");
    // beyond the address space
    env.state().r[1] = MEM_SIZE as u64 - 2;
    assert_eq!(run(&block, &mut env), crate::backend::TbExit::Exception);
    // misaligned naturally-aligned store
    let text =
        "block pc=0x1000\n  insn_start 0x1000, 0\n  v0 = get.i64 r1\n  st.i64 u32le:a, v0, v0\n  goto_tb 0, 0x2000\n";
    let block = crate::text::parse(text, &decls).expect("align IR parses");
    let mut env = TestEnv::new();
    env.state().r[1] = 0x1002;
    assert_eq!(run(&block, &mut env), crate::backend::TbExit::Exception);
    assert_eq!(env.header().exception, crate::backend::EXC_MISALIGNED_STORE);
    assert_eq!(env.mem()[0x1002..0x1006], [0, 0, 0, 0], "misaligned store writes nothing");
}
