//! Harness for the RISC-V 64 per-instruction tests (`riscv64_insn.rs`): translate guest bytes
//! with the frontend, verify and optimize the IR, and run it on every runner in [`RUNNERS`]
//! from the same initial state, comparing the whole final state with the expectation.
//!
//! "One test body, every backend": the runner list is the one place to add the JIT.
//!
//! The environment is an `EnvHeader`, an `Rv64State` and a scratch area, over a 64 KiB guest
//! address space at guest address 0 with this page map:
//! - `0x0000..0x8000` read/write;
//! - `0x8000..0x9000` read-only;
//! - `0x9000..0xa000` no access;
//! - `0xa000..0x10000` read/write.
//!
//! Code is fetched from the test's bytes at [`CODE_BASE`] (not from guest memory). Blocks run
//! one after another until the pc leaves the code (the final pc is then compared if the test
//! names `pc`), an exception is raised (compared as `exc`, `tval`), or 64 blocks ran.

use std::ptr::NonNull;
use std::sync::atomic::AtomicU8;

use frontend::riscv64::{Riscv64, Rv64State};
use frontend::{Frontend, SliceReader, TranslateLimits};
use ir::backend::{perm, CompileCtx, EnvHeader, EnvLayout, MemMode, TbExit};
use ir::{Block, Builder};

/// Guest address of the first code byte.
pub const CODE_BASE: u64 = 0x10_0000;
/// Size of the guest address space.
pub const MEM_SIZE: usize = 64 * 1024;
const SCRATCH: usize = 64 * 1024;

/// How a block is executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// The reference evaluator on the unoptimized IR.
    EvalUnoptimized,
    /// The reference evaluator on the optimized IR.
    Eval,
    /// The bytecode interpreter (backend-interp) on the optimized IR.
    Interp,
    /// The baseline tier (backend-jit's templates) on the optimized IR.
    Baseline,
    /// The Cranelift JIT (backend-jit) on the optimized IR.
    Jit,
}

/// Every runner a test body runs on.
pub const RUNNERS: &[Runner] = &[Runner::EvalUnoptimized, Runner::Eval, Runner::Interp, Runner::Baseline, Runner::Jit];

/// The backend of a compiling runner.
fn backend_of(runner: Runner) -> Option<Box<dyn ir::backend::Backend>> {
    match runner {
        Runner::Interp => Some(Box::new(backend_interp::InterpBackend::new())),
        Runner::Baseline => Some(Box::new(
            backend_jit::baseline::BaselineBackend::new(backend_jit::JitOptions {
                cache_size: 16 << 20,
                ..Default::default()
            })
            .expect("the JIT runs on this host"),
        )),
        Runner::Jit => Some(Box::new(
            backend_jit::JitBackend::new(backend_jit::JitOptions {
                cache_size: 16 << 20,
                opt_level: "speed",
                profiling: false,
            })
            .expect("the JIT runs on this host"),
        )),
        Runner::EvalUnoptimized | Runner::Eval => None,
    }
}

/// After a block ran: fold the FP flags the native FP ops accrued in the host into fflags, as
/// accel-tcg does when a vCPU leaves translated code.
fn merge_host_fp_flags(env: &mut RvEnv) {
    use frontend::GuestState;
    let f = ir::fpu::take_host_flags() | std::mem::take(&mut env.header_mut().fp_flags);
    env.state().merge_fp_flags(f);
}

/// A translated block and, for compiling runners, its code.
type CachedBlock = (Block, Option<std::sync::Arc<dyn ir::backend::CompiledBlock>>);

/// An environment with guest memory: a host mapping whose protections mirror the page
/// permissions, as linux-user's (the JIT relies on host faults; see `protect`).
pub struct RvEnv {
    buf: Vec<u64>,
    mem: *mut u8,
    size: usize,
    perms: Vec<AtomicU8>,
    /// `mem()` made every page accessible; `protect` must apply the permissions again.
    unprotected: bool,
}

impl Drop for RvEnv {
    fn drop(&mut self) {
        // SAFETY: our own mapping of `size` bytes, unused after this.
        unsafe { libc::munmap(self.mem as *mut libc::c_void, self.size) };
    }
}

impl RvEnv {
    /// Zeroed registers (no reservation), zeroed memory, the page map of the module doc.
    pub fn new() -> Box<RvEnv> {
        Self::with_memory(MEM_SIZE, |p| match p {
            8 => perm::READ,
            9 => 0,
            _ => perm::READ | perm::WRITE,
        })
    }

    /// An environment with `size` bytes of guest memory and page permissions from `perm_of`.
    pub fn with_memory(size: usize, perm_of: impl Fn(usize) -> u8) -> Box<RvEnv> {
        let words = (EnvHeader::SIZE + std::mem::size_of::<Rv64State>() + SCRATCH).div_ceil(8);
        let perms = (0..size >> perm::PAGE_BITS).map(|p| AtomicU8::new(perm_of(p))).collect();
        let mem = ir::testing::map_guest_memory(size);
        let mut e = Box::new(RvEnv { buf: vec![0; words], mem, size, perms, unprotected: true });
        let h = EnvHeader {
            guest_base: e.mem as u64,
            page_perms: e.perms.as_ptr(),
            va_limit: size as u64,
            ..EnvHeader::new()
        };
        // SAFETY: buf is 8-aligned and large enough for the header, written before any read.
        unsafe { std::ptr::write(e.buf.as_mut_ptr() as *mut EnvHeader, h) };
        *e.state() = Rv64State::default();
        e
    }
    /// The environment pointer blocks run on.
    pub fn ptr(&mut self) -> NonNull<u8> {
        NonNull::new(self.buf.as_mut_ptr() as *mut u8).expect("Vec pointers are non-null")
    }
    /// The header.
    pub fn header(&self) -> &EnvHeader {
        // SAFETY: written in `new`; lives as long as self.
        unsafe { &*(self.buf.as_ptr() as *const EnvHeader) }
    }
    /// The header, mutable.
    pub fn header_mut(&mut self) -> &mut EnvHeader {
        // SAFETY: written in `new`; lives as long as self; &mut self is exclusive.
        unsafe { &mut *(self.buf.as_mut_ptr() as *mut EnvHeader) }
    }
    /// The guest registers.
    pub fn state(&mut self) -> &mut Rv64State {
        // SAFETY: the state follows the header in buf, 8-aligned; &mut self is exclusive.
        unsafe { &mut *((self.buf.as_mut_ptr() as *mut u8).add(EnvHeader::SIZE) as *mut Rv64State) }
    }
    /// Guest memory.
    pub fn mem(&mut self) -> &mut [u8] {
        // SAFETY: our own mapping of `size` bytes; making it accessible is always allowed, and
        // &mut self makes the slice exclusive.
        unsafe {
            if !self.unprotected {
                libc::mprotect(self.mem as *mut libc::c_void, self.size, libc::PROT_READ | libc::PROT_WRITE);
                self.unprotected = true;
            }
            std::slice::from_raw_parts_mut(self.mem, self.size)
        }
    }
    /// Applies the page permissions to the host mapping (before guest code runs).
    pub fn protect(&mut self) {
        if !self.unprotected {
            return;
        }
        // SAFETY: mem is our mapping of `size` bytes, one permission byte per page.
        unsafe { ir::testing::mirror_protections(self.mem, &self.perms) };
        self.unprotected = false;
    }
    /// The memory mode describing this environment's guest memory.
    pub fn mem_mode(&self) -> MemMode {
        let h = self.header();
        MemMode::Linear { guest_base: h.guest_base, page_perms: h.page_perms as u64, va_limit: h.va_limit }
    }
    /// The layout backends compile for.
    pub fn layout() -> EnvLayout {
        let off = (EnvHeader::SIZE + std::mem::size_of::<Rv64State>()).div_ceil(8) * 8;
        EnvLayout { scratch_offset: off as u32, scratch_size: SCRATCH as u32 }
    }
}

/// Index of a register name: x registers by ABI or `xN` name, f registers by ABI or `fN`.
fn reg_index(names: &[&str; 32], prefix: char, name: &str) -> Option<usize> {
    if let Some(i) = names.iter().position(|n| *n == name) {
        return Some(i);
    }
    if name == "fp" && prefix == 'x' {
        return Some(8);
    }
    name.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok()).filter(|&n| n < 32)
}

/// Sets a named register or field of the state (`a0`, `x5`, `fa0`, `f3`, `fflags`, `frm`,
/// `res_addr`, `res_val`, `pc`).
pub fn set_reg(s: &mut Rv64State, name: &str, v: u64) {
    if let Some(p) = field(s, name) {
        *p = v;
    } else {
        panic!("unknown register name {name}");
    }
}

fn field<'a>(s: &'a mut Rv64State, name: &str) -> Option<&'a mut u64> {
    use frontend::riscv64::disas::{FNAMES, XNAMES};
    match name {
        "fflags" => return Some(&mut s.fflags),
        "frm" => return Some(&mut s.frm),
        "res_addr" => return Some(&mut s.res_addr),
        "res_val" => return Some(&mut s.res_val),
        "pc" => return Some(&mut s.pc),
        "instret" => return Some(&mut s.instret),
        _ => {}
    }
    if let Some(i) = reg_index(&XNAMES, 'x', name) {
        return Some(&mut s.x[i]);
    }
    reg_index(&FNAMES, 'f', name).map(|i| &mut s.f[i])
}

/// What a run ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Final registers (pc: where execution stopped).
    pub state: Rv64State,
    /// Exception cause and aux value, if one was raised.
    pub exc: Option<(u32, u64)>,
    /// Guest memory.
    pub mem: Vec<u8>,
}

fn translate(fe: &Riscv64, code: &[u8], pc: u64, flags: u64, optimize: bool) -> Block {
    let mut b = Builder::new(fe.decls());
    b.start(pc, flags);
    let mut r = SliceReader { base: CODE_BASE, bytes: code };
    let size = fe.translate(pc, flags, &mut r, &mut b, TranslateLimits::default());
    let mut block = b.finish(size);
    ir::verify::verify(&block, fe.decls())
        .unwrap_or_else(|e| panic!("frontend IR does not verify: {e}\n{}", ir::text::print(&block, fe.decls())));
    if optimize {
        ir::opt::optimize(&mut block);
        ir::verify::verify(&block, fe.decls()).unwrap_or_else(|e| panic!("optimized IR does not verify: {e}"));
    }
    block
}

/// Runs `code` from `init` (registers) and `mem` (writes into guest memory) on `runner`.
pub fn run(runner: Runner, code: &[u8], init: &Rv64State, mem: &[(u64, Vec<u8>)]) -> Outcome {
    let fe = Riscv64::new();
    let mut env = RvEnv::new();
    *env.state() = init.clone();
    for (addr, bytes) in mem {
        env.mem()[*addr as usize..*addr as usize + bytes.len()].copy_from_slice(bytes);
    }
    let layout = RvEnv::layout();
    let backend = backend_of(runner);
    let end = CODE_BASE + code.len() as u64;
    let mut pc = CODE_BASE;
    let mut exc = None;
    ir::fpu::take_host_flags();
    for _ in 0..64 {
        if pc < CODE_BASE || pc >= end {
            break;
        }
        let flags = frontend::GuestState::tb_flags(&*env.state());
        let block = translate(&fe, code, pc, flags, runner != Runner::EvalUnoptimized);
        env.protect();
        let exit = match &backend {
            None => {
                // SAFETY: env is laid out as the frontend's decls describe and owns its memory.
                unsafe { ir::eval::eval(&block, fe.decls(), env.ptr()) }
            }
            Some(be) => {
                let cx = CompileCtx { decls: fe.decls(), env: &layout, mem: env.mem_mode() };
                let code = be.compile(&block, &cx).expect("the backend compiles the block");
                // SAFETY: as above; the block was compiled for this layout.
                let exit = unsafe { code.run(env.ptr()) };
                be.invalidate(code.as_ref());
                exit
            }
        };
        merge_host_fp_flags(&mut env);
        match exit {
            TbExit::Chain { .. } | TbExit::Lookup | TbExit::Hot => pc = env.state().pc,
            TbExit::Exception => {
                let h = env.header();
                pc = h.exception_pc;
                exc = Some((h.exception, h.exception_aux));
                break;
            }
            TbExit::Interrupted => panic!("block interrupted without an exit request"),
        }
    }
    env.state().pc = pc;
    Outcome { state: env.state().clone(), exc, mem: env.mem().to_vec() }
}

/// One test case: code, initial state, expected state.
pub struct Case {
    /// The test's name (for messages).
    pub name: &'static str,
    /// Instruction bytes.
    pub code: Vec<u8>,
    /// Initial registers by name.
    pub init: Vec<(&'static str, u64)>,
    /// Initial memory.
    pub mem: Vec<(u64, Vec<u8>)>,
    /// Expected registers by name (`exc` and `tval` name the exception; unnamed registers
    /// must keep their initial values; `pc` defaults to the end of the code).
    pub expect: Vec<(&'static str, u64)>,
    /// Expected memory contents.
    pub expect_mem: Vec<(u64, Vec<u8>)>,
}

impl Case {
    /// Runs the case on every runner and asserts the outcome.
    pub fn check(&self) {
        let mut init = Rv64State::default();
        for (k, v) in &self.init {
            set_reg(&mut init, k, *v);
        }
        let mut want = init.clone();
        want.pc = CODE_BASE + self.code.len() as u64;
        let mut want_exc: Option<(u32, Option<u64>)> = None;
        for (k, v) in &self.expect {
            match *k {
                "exc" => want_exc = Some((*v as u32, want_exc.and_then(|e| e.1))),
                "tval" => want_exc = Some((want_exc.map(|e| e.0).unwrap_or(u32::MAX), Some(*v))),
                _ => set_reg(&mut want, k, *v),
            }
        }
        let expects_pc = self.expect.iter().any(|(k, _)| *k == "pc");
        if want_exc.is_some() && !expects_pc {
            want.pc = CODE_BASE;
        }
        let mut results = Vec::new();
        for &r in RUNNERS {
            let out = run(r, &self.code, &init, &self.mem);
            let ctx = format!("{} on {:?}", self.name, r);
            match (want_exc, out.exc) {
                (None, None) => {}
                (Some((c, tval)), Some((gc, gaux))) => {
                    assert_eq!(gc, c, "{ctx}: exception cause");
                    if let Some(t) = tval {
                        assert_eq!(gaux, t, "{ctx}: exception aux (tval)");
                    }
                }
                (w, g) => panic!("{ctx}: expected exception {w:?}, got {g:?}"),
            }
            diff_state(&ctx, &want, &out.state);
            for (addr, bytes) in &self.expect_mem {
                let got = &out.mem[*addr as usize..*addr as usize + bytes.len()];
                assert_eq!(got, &bytes[..], "{ctx}: memory at {addr:#x}");
            }
            results.push(out);
        }
        for w in results.windows(2) {
            assert_eq!(w[0], w[1], "{}: runners disagree", self.name);
        }
    }
}

/// The state's fields other than the register files that instruction tests compare: pc,
/// fflags, frm and the LR/SC reservation.
pub fn scalar_fields(s: &Rv64State) -> [(&'static str, u64); 5] {
    [("pc", s.pc), ("fflags", s.fflags), ("frm", s.frm), ("res_addr", s.res_addr), ("res_val", s.res_val)]
}

fn diff_state(ctx: &str, want: &Rv64State, got: &Rv64State) {
    use frontend::riscv64::disas::{FNAMES, XNAMES};
    let mut diffs = Vec::new();
    for i in 0..32 {
        if want.x[i] != got.x[i] {
            diffs.push(format!("{}: want {:#x} got {:#x}", XNAMES[i], want.x[i], got.x[i]));
        }
        if want.f[i] != got.f[i] {
            diffs.push(format!("{}: want {:#x} got {:#x}", FNAMES[i], want.f[i], got.f[i]));
        }
    }
    for ((n, w), (_, g)) in scalar_fields(want).into_iter().zip(scalar_fields(got)) {
        if w != g {
            diffs.push(format!("{n}: want {w:#x} got {g:#x}"));
        }
    }
    assert!(diffs.is_empty(), "{ctx}: state differs:\n  {}", diffs.join("\n  "));
}

/// Declares a per-instruction test:
///
/// ```text
/// insn_test!(name, [bytes] /* asm */, { reg: value, ... } [mem { addr: [bytes], ... }]
///            => { reg: value, ..., [exc: cause, tval: aux] } [mem { addr: [bytes], ... }]);
/// ```
/// Registers not named on the right must be unchanged (fflags included).
#[macro_export]
macro_rules! insn_test {
    ($name:ident, [$($byte:expr),* $(,)?], { $($ik:ident : $iv:expr),* $(,)? }
        $(mem { $($ia:literal : [$($ib:expr),* $(,)?]),* $(,)? })?
        => { $($ok:ident : $ov:expr),* $(,)? }
        $(mem { $($oa:literal : [$($ob:expr),* $(,)?]),* $(,)? })?) => {
        #[test]
        fn $name() {
            $crate::rv_harness::Case {
                name: stringify!($name),
                code: vec![$($byte as u8),*],
                init: vec![$((stringify!($ik), ($iv) as u64)),*],
                mem: vec![$($(($ia as u64, vec![$($ib as u8),*])),*)?],
                expect: vec![$((stringify!($ok), ($ov) as u64)),*],
                expect_mem: vec![$($(($oa as u64, vec![$($ob as u8),*])),*)?],
            }
            .check();
        }
    };
}

/// Guest memory of [`run_elf`]: 2 MiB at address 0, all pages readable, writable, executable.
const ELF_MEM: usize = 2 << 20;

/// A code reader over guest memory (for whole programs).
struct MemReader<'a>(&'a [u8]);

impl frontend::CodeReader for MemReader<'_> {
    fn read_u16(&mut self, pc: u64, _e: ir::Endian) -> Result<u16, frontend::FetchFault> {
        let i = pc as usize;
        match self.0.get(i..i.wrapping_add(2)) {
            Some(&[a, b]) => Ok(u16::from_le_bytes([a, b])),
            _ => Err(frontend::FetchFault { addr: pc }),
        }
    }
}

fn le(b: &[u8], off: usize, n: usize) -> u64 {
    let mut v = 0u64;
    for i in (0..n).rev() {
        v = v << 8 | b[off + i] as u64;
    }
    v
}

/// Runs a static, freestanding RISC-V ELF (our guests/ programs) on `runner` with a minimal
/// Linux system-call layer (write, exit, exit_group): returns (stdout, exit status). Blocks are
/// translated once and cached by pc.
pub fn run_elf(runner: Runner, elf: &[u8]) -> (Vec<u8>, i32) {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    let fe = Riscv64::new();
    let mut env = RvEnv::with_memory(ELF_MEM, |_| perm::READ | perm::WRITE | perm::EXEC);
    let (phoff, phentsize, phnum) = (le(elf, 0x20, 8) as usize, le(elf, 0x36, 2) as usize, le(elf, 0x38, 2) as usize);
    for k in 0..phnum {
        let ph = phoff + k * phentsize;
        if le(elf, ph, 4) != 1 {
            continue; // PT_LOAD only
        }
        let (off, va, filesz) =
            (le(elf, ph + 8, 8) as usize, le(elf, ph + 0x10, 8) as usize, le(elf, ph + 0x20, 8) as usize);
        env.mem()[va..va + filesz].copy_from_slice(&elf[off..off + filesz]);
    }
    env.state().pc = le(elf, 0x18, 8);
    env.state().x[2] = (ELF_MEM - 0x1000) as u64;
    let layout = RvEnv::layout();
    let backend = backend_of(runner);
    let mut blocks: std::collections::HashMap<(u64, u64), CachedBlock> = std::collections::HashMap::new();
    let mut stdout = Vec::new();
    let mut b = Builder::new(fe.decls());
    ir::fpu::take_host_flags();
    for _ in 0..50_000_000u64 {
        let pc = env.state().pc;
        let flags = frontend::GuestState::tb_flags(&*env.state());
        let entry = blocks.entry((pc, flags)).or_insert_with(|| {
            b.start(pc, flags);
            let mem = env.mem().to_vec();
            let size = fe.translate(pc, flags, &mut MemReader(&mem), &mut b, TranslateLimits::default());
            let mut block = b.finish(size);
            if runner != Runner::EvalUnoptimized {
                ir::opt::optimize(&mut block);
            }
            ir::verify::verify(&block, fe.decls()).expect("block verifies");
            let compiled = backend.as_ref().map(|be| {
                let cx = CompileCtx { decls: fe.decls(), env: &layout, mem: env.mem_mode() };
                be.compile(&block, &cx).expect("the backend compiles")
            });
            (block, compiled)
        });
        env.protect();
        let exit = match &entry.1 {
            // SAFETY: env is laid out as the frontend's decls describe and owns its memory.
            None => unsafe { ir::eval::eval(&entry.0, fe.decls(), env.ptr()) },
            // SAFETY: as above; compiled for this layout.
            Some(c) => unsafe { c.run(env.ptr()) },
        };
        merge_host_fp_flags(&mut env);
        match exit {
            TbExit::Chain { .. } | TbExit::Lookup | TbExit::Hot => {}
            TbExit::Exception => {
                let (cause, aux, at) = (env.header().exception, env.header().exception_aux, env.header().exception_pc);
                // taken, as the dispatcher does (compiled code tests it after runtime calls)
                env.header_mut().exception = 0;
                assert_eq!(cause, frontend::riscv64::EXC_ECALL, "exception {cause:#x} (aux {aux:#x}) at {at:#x}");
                let s = env.state();
                match s.x[17] {
                    64 => {
                        let (buf, len) = (s.x[11] as usize, s.x[12] as usize);
                        s.x[10] = len as u64;
                        let bytes = env.mem()[buf..buf + len].to_vec();
                        stdout.extend_from_slice(&bytes);
                    }
                    93 | 94 => return (stdout, s.x[10] as i32),
                    n => panic!("unsupported system call {n} at {at:#x}"),
                }
                env.state().pc = at + 4;
            }
            TbExit::Interrupted => panic!("interrupted without an exit request"),
        }
    }
    panic!("program did not exit");
}
