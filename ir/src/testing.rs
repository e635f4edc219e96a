//! A self-contained CPU environment and guest memory for tests of the IR and of the backends:
//! sixteen 64-bit globals `r0`..`r15`, two 32-bit globals `w0`/`w1`, a `pc`, a few helpers,
//! and a small guest address space with per-page permissions. Like linux-user's, the guest
//! memory is a host mapping whose protections mirror the permission bytes, so a backend that
//! touched memory the guest may not would crash the test. Not used outside tests.

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
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
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
    mem: *mut u8,
    perms: Vec<AtomicU8>,
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        // SAFETY: `mem` is the MEM_SIZE-byte mapping made in `new`, unused after this.
        unsafe { libc::munmap(self.mem as *mut libc::c_void, MEM_SIZE) };
    }
}

/// Installs (once per process) handlers for [`crate::backend::HOST_FAULT_SIGNALS`] that offer
/// the fault to [`crate::backend::handle_host_fault`] (JIT code relies on the host MMU for
/// guest accesses, and traps for those it leaves to the reference evaluator) and otherwise
/// restore the default action, so that a real crash still crashes.
pub fn install_host_fault_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn on_fault(sig: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
        // SAFETY: the kernel's SA_SIGINFO arguments, passed on unchanged.
        if unsafe { crate::backend::handle_host_fault(sig, info as *mut libc::c_void, uc) } {
            return;
        }
        // SAFETY: resetting a disposition is async-signal-safe; the fault repeats and kills.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    ONCE.call_once(|| {
        for sig in crate::backend::HOST_FAULT_SIGNALS {
            // SAFETY: a zeroed sigaction with our handler and SA_SIGINFO is valid; the handler
            // only does async-signal-safe work.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_fault as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    });
}

/// Maps `size` bytes of read-write memory for a test environment's guest space and installs
/// the host-fault handler (JIT accesses rely on the host MMU).
pub fn map_guest_memory(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping; the result is checked.
    let mem = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert!(mem != libc::MAP_FAILED, "cannot map test guest memory");
    install_host_fault_handler();
    mem as *mut u8
}

/// Updates the "this page and the next" bits of `perms` and gives each page of `mem` the host
/// protection its permission byte asks for, as linux-user does for a real guest.
///
/// # Safety
/// `mem` is a mapping of ours with (at least) `perms.len()` pages.
pub unsafe fn mirror_protections(mem: *mut u8, perms: &[AtomicU8]) {
    let n = perms.len() as u64;
    perm::update_pairs(|p| perms.get(p as usize), 0, n - 1);
    for (page, p) in perms.iter().enumerate() {
        let bits = p.load(std::sync::atomic::Ordering::Relaxed);
        // SAFETY: a page of the caller's mapping (function contract).
        unsafe {
            libc::mprotect(mem.add(page << perm::PAGE_BITS) as *mut libc::c_void, 1 << perm::PAGE_BITS, host_prot(bits))
        };
    }
}

fn host_prot(p: u8) -> i32 {
    let mut h = 0;
    if p & (perm::READ | perm::WRITE | perm::EXEC) != 0 {
        h |= libc::PROT_READ;
    }
    if p & perm::WRITE != 0 {
        h |= libc::PROT_WRITE;
    }
    h
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
            mem: map_guest_memory(MEM_SIZE),
            perms: (0..MEM_SIZE >> perm::PAGE_BITS).map(|_| AtomicU8::new(perm::READ | perm::WRITE)).collect(),
        });
        t.protect();
        let h = EnvHeader {
            guest_base: t.mem as u64,
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

    /// Guest memory as bytes (every page made host-accessible first: tests read and write it
    /// directly; the next `set_perm` applies the guest's protections again).
    pub fn mem(&mut self) -> &mut [u8] {
        // SAFETY: `mem` is our MEM_SIZE-byte mapping; making it readable and writable is
        // always allowed, and &mut self makes the slice exclusive.
        unsafe {
            libc::mprotect(self.mem as *mut libc::c_void, MEM_SIZE, libc::PROT_READ | libc::PROT_WRITE);
            std::slice::from_raw_parts_mut(self.mem, MEM_SIZE)
        }
    }

    /// Applies every page's permission byte to the host mapping (and recomputes the
    /// READ2/WRITE2 bits).
    pub fn protect(&mut self) {
        // SAFETY: mem is our MEM_SIZE mapping, one permission byte per page.
        unsafe { mirror_protections(self.mem, &self.perms) }
    }

    /// The memory mode describing this environment's guest memory.
    pub fn mem_mode(&self) -> crate::backend::MemMode {
        let h = self.header();
        crate::backend::MemMode::Linear {
            guest_base: h.guest_base,
            page_perms: h.page_perms as u64,
            va_limit: h.va_limit,
        }
    }

    /// Sets the permission byte of guest page `page`.
    pub fn set_perm(&mut self, page: usize, p: u8) {
        self.perms[page].store(p, std::sync::atomic::Ordering::Relaxed);
        self.protect();
    }

    /// A copy of this environment: registers, pending exception and FP flags, memory and
    /// page permissions.
    pub fn duplicate(&mut self) -> Box<TestEnv> {
        let mut d = TestEnv::new();
        d.copy_from(self);
        d
    }

    /// Makes this environment's registers, pending exception, FP flags, memory and page
    /// permissions those of `other`.
    pub fn copy_from(&mut self, other: &mut TestEnv) {
        *self.state() = *other.state();
        let (from, to) = (other.header(), self.header_mut());
        (to.exception, to.exception_aux, to.exception_pc) = (from.exception, from.exception_aux, from.exception_pc);
        (to.exception_replay, to.fp_flags) = (from.exception_replay, from.fp_flags);
        self.mem().copy_from_slice(other.mem());
        for (to, from) in self.perms.iter().zip(&other.perms) {
            to.store(from.load(std::sync::atomic::Ordering::Relaxed), std::sync::atomic::Ordering::Relaxed);
        }
        self.protect();
        other.protect();
    }
}

/// For test runners of compiled code: what the dispatcher does when a block leaves an
/// instruction to the reference evaluator (`EXC_EMULATE`), which `env`, run from `before`, has
/// just reported. Checks that `env` holds the state the evaluator reaches at the start of the
/// reported instruction, where the dispatcher takes over (checked where that is the state at
/// the access: the instruction makes one memory access and nothing else with an effect
/// before it, as guest instructions do, unlike some random blocks; no `fpflags` comes before
/// it; and the block does not loop back to its start, which compiled code may do several times before the trap). Then
/// runs the block on the evaluator from `before` instead. `before` holds every FP flag
/// accrued so far (none were pending in the host's FP status register when the block
/// started). Panics with the block on a difference.
pub fn finish_on_evaluator(block: &crate::Block, before: &mut TestEnv, env: &mut TestEnv) -> crate::backend::TbExit {
    use crate::{Inst, OpFlags, Opcode, Value};
    let decls = TestEnv::decls();
    let pc = env.header().exception_pc;
    let at = block.insts.iter().position(|i| i.op == Opcode::InsnStart && i.imm == pc);
    let what = || crate::text::print(block, &decls);
    let Some(at) = at else { panic!("EXC_EMULATE at pc {pc:#x}, not an instruction of\n{}", what()) };
    let insn = block.insts[at + 1..].iter().take_while(|i| i.op != Opcode::InsnStart);
    let mut accesses = 0;
    let mut effect_before = false;
    for i in insn {
        let f = i.flags();
        if f.has(OpFlags::MEM) {
            accesses += 1;
        } else if [OpFlags::WRITES_GLOBAL, OpFlags::EFFECT, OpFlags::SIDE_EXIT].iter().any(|e| f.has(*e))
            && accesses == 0
        {
            effect_before = true;
        }
    }
    // (`before` holds the FP flags the whole run accrued: an `fpflags` before the trap would
    // read them early)
    let reads_fp_flags = block.insts[..at].iter().any(|i| i.op == Opcode::Fpflags);
    if !block.loops() && accesses == 1 && !effect_before && !reads_fp_flags {
        let mut prefix = block.clone();
        prefix.insts.truncate(at);
        let goto = Inst {
            op: Opcode::GotoTb,
            ty: Ty::I64,
            nargs: 0,
            args: [Value::NONE; 4],
            imm: pc,
            aux: crate::Aux::Slot(0),
        };
        prefix.insts.push(goto);
        let mut reference = before.duplicate();
        // SAFETY: a live TestEnv laid out as `decls` describes.
        let exit = unsafe { crate::eval::eval(&prefix, &decls, reference.ptr()) };
        assert_eq!(exit, crate::backend::TbExit::Chain { slot: 0, from: 0 }, "prefix up to {pc:#x} of\n{}", what());
        assert_eq!(env.state().r, reference.state().r, "registers at the EXC_EMULATE of {pc:#x} in\n{}", what());
        assert_eq!(env.state().w, reference.state().w, "32-bit registers at the EXC_EMULATE of {pc:#x} in\n{}", what());
        assert!(env.mem() == reference.mem(), "memory at the EXC_EMULATE of {pc:#x} differs in\n{}", what());
        env.protect();
    }
    // FP flags the compiled run accrued are dropped with the rest of its state
    crate::fpu::take_host_flags();
    env.copy_from(before);
    // SAFETY: a live TestEnv laid out as `decls` describes.
    unsafe { crate::eval::eval(block, &decls, env.ptr()) }
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
                assert_eq!(exit, crate::backend::TbExit::Chain { slot: 0, from: 0 }, "{case}: exit");
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
    assert_eq!(env.header().exception_pc, 0x1004, "fault reported at the second instruction");
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

/// A small xorshift generator for reproducible tests.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// A value that hits edge cases often.
    pub fn interesting(&mut self) -> u64 {
        match self.below(8) {
            0 => 0,
            1 => u64::MAX,
            2 => 1 << self.below(64),
            3 => 0x1000 + self.below(0x3000),
            4 => (self.next_u64() as i64 % 70) as u64,
            5 => 0x8000_0000,
            6 => 0x7fff_ffff_ffff_ffff,
            _ => self.next_u64(),
        }
    }
}

/// A random verified block over the test globals: arithmetic of both widths, selects,
/// extensions, loads and stores (mostly in bounds, sometimes faulting), atomics, helper calls,
/// side exits and every kind of terminator. For differential tests of the backends.
pub fn random_block(rng: &mut Rng) -> crate::Block {
    use crate::{AtomicOp, Builder, Cond, Endian, MemOp, Opcode, Size};
    let decls = TestEnv::decls();
    let mut b = Builder::new(&decls);
    b.start(0x1000, 0);
    let mut vals64: Vec<crate::Value> = Vec::new();
    let mut vals32: Vec<crate::Value> = Vec::new();
    let mut shared_base: Option<crate::Value> = None;
    // a chaining slot has one target: side exits take slots 0..=4 by target (the loop's
    // back-edge is slot 5, the final goto_tb 6 or 7)
    let mut side_targets: Vec<u64> = Vec::new();
    let bin = [
        Opcode::Add,
        Opcode::Sub,
        Opcode::Mul,
        Opcode::MulhS,
        Opcode::MulhU,
        Opcode::MulhSu,
        Opcode::DivS,
        Opcode::DivU,
        Opcode::RemS,
        Opcode::RemU,
        Opcode::And,
        Opcode::Or,
        Opcode::Xor,
        Opcode::Andn,
        Opcode::Orn,
        Opcode::Xnor,
        Opcode::Shl,
        Opcode::ShrU,
        Opcode::ShrS,
        Opcode::Rotl,
        Opcode::Rotr,
        Opcode::MinS,
        Opcode::MaxS,
        Opcode::MinU,
        Opcode::MaxU,
    ];
    let un = [Opcode::Neg, Opcode::Not, Opcode::Clz, Opcode::Ctz, Opcode::Popcnt, Opcode::Bswap];
    let g = |name: &str| decls.global(name).expect("test global");
    // now and then a long block, whose values live across many instructions (backends that
    // treat far uses differently, such as the JIT's reloads, see those paths)
    let ninsn = if rng.below(8) == 0 { 12 + rng.below(20) } else { 1 + rng.below(6) };
    let mut pc = 0x1000u64;
    for _ in 0..ninsn {
        b.insn_start(pc, 0);
        pc += 4;
        let nops = 1 + rng.below(12);
        for _ in 0..nops {
            let pick64 = |rng: &mut Rng, b: &mut Builder, v: &mut Vec<crate::Value>| -> crate::Value {
                if v.is_empty() || rng.below(4) == 0 {
                    let x = if rng.below(2) == 0 {
                        b.get(g(&format!("r{}", rng.below(NREGS as u64))))
                    } else {
                        let c = rng.interesting();
                        b.i64(c)
                    };
                    v.push(x);
                    x
                } else {
                    v[rng.below(v.len() as u64) as usize]
                }
            };
            let pick32 = |rng: &mut Rng, b: &mut Builder, v: &mut Vec<crate::Value>| -> crate::Value {
                if v.is_empty() || rng.below(4) == 0 {
                    let x = match rng.below(3) {
                        0 => b.get(g(&format!("w{}", rng.below(2)))),
                        1 => {
                            let c = rng.interesting() as u32;
                            b.i32(c)
                        }
                        _ => {
                            let w = b.get(g(&format!("r{}", rng.below(NREGS as u64))));
                            b.trunc(w)
                        }
                    };
                    v.push(x);
                    x
                } else {
                    v[rng.below(v.len() as u64) as usize]
                }
            };
            match rng.below(18) {
                16 => {
                    // floating point on register bit patterns, with special values
                    let fp = [Opcode::Fadd, Opcode::Fsub, Opcode::Fmul, Opcode::Fdiv, Opcode::Fsqrt, Opcode::Fma];
                    let op = fp[rng.below(fp.len() as u64) as usize];
                    let pickf = |rng: &mut Rng, b: &mut Builder, wide: bool| -> crate::Value {
                        let specials64 = [
                            0u64,
                            1 << 63,
                            0x7ff0_0000_0000_0000,
                            0x7ff8_0000_0000_0001,
                            0x7ff0_0000_0000_0001,
                            1,
                            0x3ff0_0000_0000_0000,
                        ];
                        let specials32 = [0u64, 0x8000_0000, 0x7f80_0000, 0x7fc0_0001, 0x7f80_0001, 1, 0x3f80_0000];
                        match rng.below(3) {
                            0 if wide => b.i64(specials64[rng.below(7) as usize]),
                            0 => b.i32(specials32[rng.below(7) as usize] as u32),
                            1 if wide => {
                                let v = b.get(g(&format!("r{}", rng.below(NREGS as u64))));
                                v
                            }
                            1 => b.get(g(&format!("w{}", rng.below(2)))),
                            _ if wide => {
                                let e = 0x3c0 + rng.below(0x80);
                                b.i64(e << 52 | rng.next_u64() >> 12)
                            }
                            _ => {
                                let e = 0x60 + rng.below(0x40);
                                b.i32((e << 23 | rng.next_u64() >> 41) as u32)
                            }
                        }
                    };
                    let wide = rng.below(2) == 0;
                    let x = pickf(rng, &mut b, wide);
                    let y = pickf(rng, &mut b, wide);
                    let r = match op {
                        Opcode::Fsqrt => b.unary(op, x),
                        Opcode::Fma => {
                            let z = pickf(rng, &mut b, wide);
                            b.fma(x, y, z)
                        }
                        _ => b.binary(op, x, y),
                    };
                    if wide {
                        vals64.push(r);
                    } else {
                        vals32.push(r);
                    }
                }
                17 => {
                    let f = b.fpflags();
                    vals64.push(f);
                }
                0..=4 => {
                    let op = bin[rng.below(bin.len() as u64) as usize];
                    if rng.below(3) == 0 {
                        let (x, y) = (pick32(rng, &mut b, &mut vals32), pick32(rng, &mut b, &mut vals32));
                        let r = b.binary(op, x, y);
                        vals32.push(r);
                    } else {
                        let (x, y) = (pick64(rng, &mut b, &mut vals64), pick64(rng, &mut b, &mut vals64));
                        let r = b.binary(op, x, y);
                        vals64.push(r);
                    }
                }
                5 => {
                    let op = un[rng.below(un.len() as u64) as usize];
                    let x = pick64(rng, &mut b, &mut vals64);
                    let r = b.unary(op, x);
                    vals64.push(r);
                }
                6 => {
                    let c = Cond::ALL[rng.below(10) as usize];
                    let (x, y) = (pick64(rng, &mut b, &mut vals64), pick64(rng, &mut b, &mut vals64));
                    let s = b.setcond(c, x, y);
                    let (p, q) = (pick64(rng, &mut b, &mut vals64), pick64(rng, &mut b, &mut vals64));
                    let r = b.select(s, p, q);
                    vals64.push(r);
                }
                7 => {
                    let x = pick64(rng, &mut b, &mut vals64);
                    let bits = [8, 16, 32][rng.below(3) as usize];
                    let r = if rng.below(2) == 0 { b.sext(x, bits) } else { b.zext(x, bits) };
                    vals64.push(r);
                    let y = pick32(rng, &mut b, &mut vals32);
                    let e = if rng.below(2) == 0 { b.extend_s(y) } else { b.extend_u(y) };
                    vals64.push(e);
                }
                8..=10 => {
                    // memory: address = base + offset, mostly inside [0x1000, 0x4000); often
                    // through one base the block computes at run time (so that backends see
                    // several accesses through one base, as a function's register saves)
                    let base = match rng.below(8) {
                        0 => pick64(rng, &mut b, &mut vals64),
                        1..=3 => *shared_base.get_or_insert_with(|| {
                            let r = b.get(g("r14"));
                            let mask = b.i64(0x1fff);
                            let low = b.and(r, mask);
                            let start = b.i64(0x1000);
                            b.add(low, start)
                        }),
                        _ => b.i64(0x1000 + rng.below(0x2f00)),
                    };
                    let off = b.i64((rng.below(0x100) as i64 - 0x40) as u64);
                    let addr = b.add(base, off);
                    let size = [Size::S8, Size::S16, Size::S32, Size::S64][rng.below(4) as usize];
                    let mut m = MemOp::new(size, if rng.below(3) == 0 { Endian::Big } else { Endian::Little });
                    if rng.below(2) == 0 {
                        m = m.sext();
                    }
                    if rng.below(6) == 0 {
                        m = m.aligned();
                    }
                    if rng.below(2) == 0 {
                        let r = b.ld(crate::Ty::I64, m, addr);
                        vals64.push(r);
                    } else {
                        let v = pick64(rng, &mut b, &mut vals64);
                        b.st(m, addr, v);
                    }
                }
                11 => {
                    let a = b.i64(0x2000 + 8 * rng.below(0x100));
                    let v = pick64(rng, &mut b, &mut vals64);
                    let size = [Size::S32, Size::S64][rng.below(2) as usize];
                    let m = MemOp::new(size, Endian::Little).aligned();
                    let r = if rng.below(2) == 0 {
                        b.atomic_rmw(crate::Ty::I64, AtomicOp::ALL[rng.below(9) as usize], m, a, v)
                    } else {
                        let e = pick64(rng, &mut b, &mut vals64);
                        b.cmpxchg(crate::Ty::I64, m, a, e, v)
                    };
                    vals64.push(r);
                }
                12 => {
                    let x = pick64(rng, &mut b, &mut vals64);
                    let h = decls.helper(["bump_r0", "add3"][rng.below(2) as usize]).expect("test helper");
                    let r = if decls.helpers[h.0 as usize].nargs == 1 {
                        b.call(h, &[x])
                    } else {
                        let y = pick64(rng, &mut b, &mut vals64);
                        b.call(h, &[x, y, x])
                    };
                    vals64.push(r);
                }
                13 => {
                    // rarely taken side exit
                    let x = pick64(rng, &mut b, &mut vals64);
                    let k = b.i64(rng.below(4));
                    let c = b.setcond(Cond::Eq, x, k);
                    if rng.below(3) == 0 {
                        b.exit_if_raise(c, 9);
                    } else {
                        let target = 0x5000 + rng.below(16) * 4;
                        let slot = side_targets.iter().position(|&t| t == target).unwrap_or(side_targets.len());
                        if slot < 5 {
                            if slot == side_targets.len() {
                                side_targets.push(target);
                            }
                            b.exit_if_chain(c, slot as u8, target);
                        } else {
                            b.exit_if_raise(c, 9);
                        }
                    }
                }
                _ => {
                    let x = pick64(rng, &mut b, &mut vals64);
                    // r15 is the loop counter of looping blocks: never written otherwise
                    let r = format!("r{}", rng.below(NREGS as u64 - 1));
                    b.set(g(&r), x);
                    if rng.below(2) == 0 {
                        let y = pick32(rng, &mut b, &mut vals32);
                        b.set(g(&format!("w{}", rng.below(2))), y);
                    }
                }
            }
        }
    }
    if rng.below(3) == 0 {
        // a loop: r15 >>= 1; back to the block's start while it is non-zero (terminates within
        // 64 iterations whatever else the block does)
        let c = b.get(g("r15"));
        let one = b.i64(1);
        let c = b.shr_u(c, one);
        b.set(g("r15"), c);
        let zero = b.i64(0);
        let again = b.setcond(Cond::Ne, c, zero);
        b.exit_if_chain(again, 5, 0x1000);
    }
    match rng.below(4) {
        0 => b.goto_tb(6, 0x2000),
        1 => {
            // an odd target: never the start of a block, so a backend that continues through
            // its lookup table (the JIT) leaves here exactly like the evaluator
            let x = if vals64.is_empty() { b.i64(7) } else { vals64[rng.below(vals64.len() as u64) as usize] };
            let one = b.i64(1);
            let t = b.or(x, one);
            b.goto_ptr(t);
        }
        2 => {
            let x = if vals64.is_empty() { b.i64(7) } else { vals64[rng.below(vals64.len() as u64) as usize] };
            b.raise(5, x);
        }
        _ => {
            let x = if vals64.is_empty() { b.i64(1) } else { vals64[0] };
            let h = decls.helper("raise_if").expect("test helper");
            let one = b.i64(1);
            let bit = b.and(x, one);
            b.call(h, &[bit]);
            b.goto_tb(7, 0x3000);
        }
    }
    b.finish(pc as u32 - 0x1000)
}

/// Fills `env` with random registers and memory from `rng`.
pub fn randomize(env: &mut TestEnv, rng: &mut Rng) {
    for r in 0..NREGS {
        env.state().r[r] = rng.interesting();
    }
    env.state().w = [rng.interesting() & 0xffff_ffff, rng.interesting() & 0xffff_ffff];
    for b in env.mem().iter_mut() {
        *b = rng.next_u64() as u8;
    }
    for p in 0..MEM_SIZE >> perm::PAGE_BITS {
        let bits = match (p, rng.below(4)) {
            (2, 0) => perm::READ,
            (3, 0) => 0,
            _ => perm::READ | perm::WRITE,
        };
        env.set_perm(p, bits);
    }
}

/// Runs `cases` random blocks (unoptimized and optimized) on the evaluator and on `run`, from
/// identical random states, and panics at the first difference with the seed and the block.
pub fn differential(seed: u64, cases: usize, run: &mut Runner<'_>) {
    let decls = TestEnv::decls();
    let mut rng = Rng(seed | 1);
    for case in 0..cases {
        let case_seed = rng.next_u64() | 1;
        let mut r = Rng(case_seed);
        let mut block = random_block(&mut r);
        crate::verify::verify(&block, &decls).unwrap_or_else(|e| panic!("generated block does not verify: {e}"));
        for optimized in [false, true] {
            if optimized {
                crate::opt::optimize(&mut block);
            }
            let mut st = Rng(case_seed ^ 0x5555);
            let (mut e1, mut e2) = (TestEnv::new(), TestEnv::new());
            randomize(&mut e1, &mut st.clone());
            randomize(&mut e2, &mut st);
            crate::fpu::take_host_flags();
            // A block whose exit continues at its own start is a loop: run it again (a backend
            // may loop inside the block, the evaluator returns at each back-edge).
            let again = |x: crate::backend::TbExit, e: &mut TestEnv| {
                matches!(x, crate::backend::TbExit::Chain { .. }) && e.state().pc == block.pc
            };
            let mut x1;
            let mut guard = 0;
            loop {
                // SAFETY: e1 is a live TestEnv laid out as `decls` describes.
                x1 = unsafe { crate::eval::eval(&block, &decls, e1.ptr()) };
                guard += 1;
                if !again(x1, &mut e1) || guard > 100 {
                    break;
                }
            }
            let f1 = crate::fpu::take_host_flags() | e1.header().fp_flags;
            let mut x2;
            let mut guard = 0;
            loop {
                x2 = run(&block, &mut e2);
                guard += 1;
                if !again(x2, &mut e2) || guard > 100 {
                    break;
                }
            }
            let f2 = crate::fpu::take_host_flags() | e2.header().fp_flags;
            let what = || {
                format!(
                    "case {case} (seed {case_seed:#x}, optimized={optimized}):\n{}",
                    crate::text::print(&block, &decls)
                )
            };
            assert_eq!(x1, x2, "exit differs in {}", what());
            assert_eq!(e1.state().r, e2.state().r, "registers differ in {}", what());
            assert_eq!(e1.state().w, e2.state().w, "32-bit registers differ in {}", what());
            // after an exception the pc global is not part of the contract (the pc is restored
            // from exception_pc)
            if x1 != crate::backend::TbExit::Exception {
                assert_eq!(e1.state().pc, e2.state().pc, "pc differs in {}", what());
            }
            assert_eq!(f1, f2, "accrued FP flags differ in {}", what());
            if x1 == crate::backend::TbExit::Exception {
                let (h1, h2) = (e1.header(), e2.header());
                assert_eq!(
                    (h1.exception, h1.exception_aux, h1.exception_pc),
                    (h2.exception, h2.exception_aux, h2.exception_pc),
                    "exception differs in {}",
                    what()
                );
            }
            assert!(e1.mem() == e2.mem(), "memory differs in {}", what());
        }
    }
}
