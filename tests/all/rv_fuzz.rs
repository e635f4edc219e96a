//! Seeded differential fuzzer for the RISC-V 64 frontend and both backends.
//!
//! `rv_gen.rs` generates random valid RV64GC programs (integer, Zba/Zbb/Zbs, compressed,
//! forward branches and bounded loops, loads and stores of every size into a sandbox buffer,
//! LR/SC and AMOs, F and D with every rounding mode). Two tests run them:
//!
//! - `rv_fuzz_backends`: each case runs in-process on the reference evaluator, the bytecode
//!   interpreter and the JIT from the same state; every x and f register, pc, fflags, frm, the
//!   LR/SC reservation, the exception (cause, aux, pc) and the sandbox buffer must agree.
//!   A quarter of the cases may end in an exception.
//! - `rv_fuzz_qemu`: a subset of fault-free cases is packed into small static riscv64 ELF files
//!   (written here: one RWX PT_LOAD; per case a prologue that loads every register and fcsr from
//!   a data area, the case, and an epilogue that writes the registers, fcsr and the buffer to
//!   stdout), run under qemu-riscv64 and `remu run` with each backend; the outputs must be
//!   byte-identical. Skipped, saying so, when qemu-riscv64 is not installed.
//!
//! Reproducing: a failure prints the seed, the case index and its disassembly. Environment:
//! `REMU_FUZZ_SEED` (decimal or 0x-hex; `random` picks one from the clock), `REMU_FUZZ_CASES`
//! (default 3000), `REMU_FUZZ_CASE` (run only that index, printing its listing),
//! `REMU_FUZZ_QEMU_CASES` (default 300).

use std::collections::HashMap;
use std::sync::Arc;

use frontend::riscv64::{Riscv64, Rv64State};
use frontend::{Frontend, GuestState, SliceReader, TranslateLimits};
use ir::backend::{perm, Backend, CompileCtx, CompiledBlock, TbExit};
use ir::Builder;

use crate::rv_gen::{self, Opts, Program, BUF_LEN, NO_PAGE, RO_PAGE};
use crate::rv_harness::RvEnv;

/// Guest address of the first code byte (code is read from the case, not guest memory).
const CODE_BASE: u64 = 0x10_0000;
/// Guest address of the sandbox buffer in in-process runs.
const BUF: u64 = 0x2000;
/// Default seed (CI runs are reproducible; `REMU_FUZZ_SEED=random` explores).
const DEFAULT_SEED: u64 = 0x005e_edf0_22e3;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    if v == "random" {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(1);
        return Some(rv_gen::Rng(t as u64).next());
    }
    let parsed = match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}: not a number: {v}")))
}

fn seed() -> u64 {
    env_u64("REMU_FUZZ_SEED").unwrap_or(DEFAULT_SEED)
}

/// The in-process runners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runner {
    Eval,
    Interp,
    Baseline,
    Jit,
}

/// What one run of a case ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    state: Rv64State,
    /// (cause, aux) of the exception that stopped the run.
    exc: Option<(u32, u64)>,
    buf: Vec<u8>,
}

/// A translated block and, for compiling runners, its code.
type CachedBlock = (ir::Block, Option<Arc<dyn CompiledBlock>>);

struct Machine {
    fe: Riscv64,
    interp: Box<dyn Backend>,
    baseline: Box<dyn Backend>,
    jit: Box<dyn Backend>,
    builder: Builder,
}

impl Machine {
    fn new() -> Machine {
        let fe = Riscv64::new();
        let builder = Builder::new(fe.decls());
        Machine {
            fe,
            interp: Box::new(backend_interp::InterpBackend::new()),
            baseline: Box::new(
                backend_jit::baseline::BaselineBackend::new(backend_jit::JitOptions {
                    cache_size: 64 << 20,
                    ..Default::default()
                })
                .expect("the JIT runs on this host"),
            ),
            jit: Box::new(
                backend_jit::JitBackend::new(backend_jit::JitOptions {
                    cache_size: 64 << 20,
                    opt_level: "speed",
                    profiling: false,
                })
                .expect("the JIT runs on this host"),
            ),
            builder,
        }
    }

    /// The verified and optimized block at `pc` of `p` (`defer`: register writes moved past
    /// loads, as accel-tcg translates for the JIT).
    fn translate(&mut self, p: &Program, pc: u64, flags: u64, limits: TranslateLimits, defer: bool) -> ir::Block {
        self.builder.start(pc, flags);
        let mut rd = SliceReader { base: CODE_BASE, bytes: &p.code };
        let size = self.fe.translate(pc, flags, &mut rd, &mut self.builder, limits);
        let mut block = self.builder.finish(size);
        ir::verify::verify(&block, self.fe.decls()).unwrap_or_else(|e| panic!("IR does not verify: {e}"));
        if defer {
            ir::opt::optimize_deferring(&mut block);
        } else {
            ir::opt::optimize(&mut block);
        }
        ir::verify::verify(&block, self.fe.decls()).unwrap_or_else(|e| panic!("optimized IR does not verify: {e}"));
        block
    }

    fn run(&mut self, runner: Runner, p: &Program) -> Outcome {
        let mut env = RvEnv::with_memory(64 * 1024, |page| match page as u64 {
            x if x == RO_PAGE >> 12 => perm::READ,
            x if x == NO_PAGE >> 12 => 0,
            _ => perm::READ | perm::WRITE,
        });
        {
            let s = env.state();
            s.x = p.x;
            s.x[rv_gen::SP as usize] += BUF;
            s.x[rv_gen::BASE as usize] += BUF;
            s.f = p.f;
            s.fflags = p.fflags;
            s.frm = p.frm;
            s.pc = CODE_BASE;
        }
        env.mem()[BUF as usize..BUF as usize + BUF_LEN].copy_from_slice(&p.buf);
        let layout = RvEnv::layout();
        let end = CODE_BASE + p.code.len() as u64;
        let mut blocks: HashMap<(u64, u64), CachedBlock> = HashMap::new();
        let mut exc = None;
        ir::fpu::take_host_flags();
        let mut n = 0;
        // After a load that register writes were moved past faulted: the registers are as of
        // its restart pc, and, as accel-tcg's dispatcher does, the instructions from there run
        // one at a time on the evaluator, with precise registers, until the fault comes again.
        let mut replaying = false;
        loop {
            let pc = env.state().pc;
            if !(CODE_BASE..end).contains(&pc) {
                break;
            }
            n += 1;
            assert!(n < 100_000, "case does not terminate (generator bug)");
            let flags = env.state().tb_flags();
            let mem_mode = env.mem_mode();
            let single;
            let (block, code) = if replaying {
                // replay: one instruction, precise registers, on the evaluator
                let one = TranslateLimits { max_insns: 1, ..TranslateLimits::default() };
                single = self.translate(p, pc, flags, one, false);
                (&single, None)
            } else {
                let entry = blocks.entry((pc, flags)).or_insert_with(|| {
                    // as for the JIT tier: register writes moved past loads
                    let block = self.translate(p, pc, flags, TranslateLimits::default(), true);
                    let be = match runner {
                        Runner::Eval => None,
                        Runner::Interp => Some(&self.interp),
                        Runner::Baseline => Some(&self.baseline),
                        Runner::Jit => Some(&self.jit),
                    };
                    let code = be.map(|be| {
                        let cx = CompileCtx { decls: self.fe.decls(), env: &layout, mem: mem_mode };
                        let code = be.compile(&block, &cx).expect("the backend compiles the block");
                        // as accel-tcg does on installing a TB: indirect jumps may now find it
                        be.publish(code.as_ref());
                        code
                    });
                    (block, code)
                });
                (&entry.0, entry.1.as_ref())
            };
            env.protect();
            let exit = match code {
                // SAFETY: env is laid out as the frontend's decls describe and owns its memory.
                None => unsafe { ir::eval::eval(block, self.fe.decls(), env.ptr()) },
                // SAFETY: as above; the block was compiled for this layout.
                Some(c) => unsafe { c.run(env.ptr()) },
            };
            let f = ir::fpu::take_host_flags() | std::mem::take(&mut env.header_mut().fp_flags);
            env.state().merge_fp_flags(f);
            match exit {
                TbExit::Exception => {
                    let h = env.header_mut();
                    let (cause, aux, at) = (h.exception, h.exception_aux, h.exception_pc);
                    let replay = std::mem::take(&mut h.exception_replay) != 0;
                    h.exception = 0;
                    env.state().pc = at;
                    // (an access off the compiled fast path, EXC_EMULATE, is the instruction
                    // at `at` for the evaluator to run, as accel-tcg's dispatcher does)
                    if replay || cause == ir::backend::EXC_EMULATE {
                        replaying = true;
                        continue;
                    }
                    exc = Some((cause, aux));
                    break;
                }
                TbExit::Interrupted => panic!("interrupted without an exit request"),
                // a chained exit, a lookup (or a tier-up request): the pc global is the next pc
                _ => {}
            }
        }
        match runner {
            Runner::Jit => self.jit.flush(),
            Runner::Baseline => self.baseline.flush(),
            _ => {}
        }
        let buf = env.mem()[BUF as usize..BUF as usize + BUF_LEN].to_vec();
        Outcome { state: env.state().clone(), exc, buf }
    }
}

/// Every difference between two outcomes, one line each (empty when equal).
fn diff(a: &Outcome, b: &Outcome) -> Vec<String> {
    use frontend::riscv64::disas::{FNAMES, XNAMES};
    let mut d = Vec::new();
    for (names, ra, rb) in [(&XNAMES, &a.state.x, &b.state.x), (&FNAMES, &a.state.f, &b.state.f)] {
        for ((name, x), y) in names.iter().zip(ra).zip(rb) {
            if x != y {
                d.push(format!("{name:>8}: {x:#018x} vs {y:#018x}"));
            }
        }
    }
    let (sa, sb) = (&a.state, &b.state);
    let fields = |s: &Rv64State| {
        let mut f = crate::rv_harness::scalar_fields(s).to_vec();
        f.push(("instret", s.instret));
        f
    };
    for ((n, x), (_, y)) in fields(sa).into_iter().zip(fields(sb)) {
        if x != y {
            d.push(format!("{n:>8}: {x:#018x} vs {y:#018x}"));
        }
    }
    if a.exc != b.exc {
        d.push(format!("exception: {:x?} vs {:x?}", a.exc, b.exc));
    }
    let bytes: Vec<usize> = (0..BUF_LEN).filter(|&k| a.buf[k] != b.buf[k]).collect();
    if let Some(&first) = bytes.first() {
        let at = first & !7;
        let word = |v: &[u8]| {
            let mut w = [0u8; 8];
            let n = (BUF_LEN - at).min(8);
            w[..n].copy_from_slice(&v[at..at + n]);
            u64::from_le_bytes(w)
        };
        d.push(format!(
            "  memory: {} bytes differ, first at buffer+{first:#x} (s0{:+}); 8 bytes at buffer+{at:#x}: {:#018x} vs {:#018x}",
            bytes.len(),
            first as i64 - 2048,
            word(&a.buf),
            word(&b.buf)
        ));
    }
    d
}

fn describe(p: &Program, code_base: u64) -> String {
    use frontend::riscv64::disas::{FNAMES, XNAMES};
    let mut s = String::from("code:\n");
    s.push_str(&rv_gen::listing(&p.code, code_base));
    s.push_str(&format!("initial state (s0 = buffer+2048, sp = buffer+1024; frm {} fflags {:#x}):\n", p.frm, p.fflags));
    for (i, (name, v)) in XNAMES.iter().zip(&p.x).enumerate().skip(1) {
        s.push_str(&format!("  {name:>4} = {v:#018x}{}", if i % 4 == 3 { "\n" } else { "" }));
    }
    s.push('\n');
    for (i, (name, v)) in FNAMES.iter().zip(&p.f).enumerate() {
        s.push_str(&format!("  {name:>4} = {v:#018x}{}", if i % 4 == 3 { "\n" } else { "" }));
    }
    s
}

/// Whether case `index` may fault (a quarter of them).
fn may_fault(index: u64) -> bool {
    index % 4 == 3
}

#[test]
fn rv_fuzz_backends() {
    let seed = seed();
    let only = env_u64("REMU_FUZZ_CASE");
    let cases = env_u64("REMU_FUZZ_CASES").unwrap_or(3000);
    let mut m = Machine::new();
    let t0 = std::time::Instant::now();
    let range = match only {
        Some(k) => k..k + 1,
        None => 0..cases,
    };
    let mut faulted = 0;
    let n = range.end - range.start;
    for index in range {
        let p =
            rv_gen::generate(rv_gen::case_seed(seed, index), Opts { may_fault: may_fault(index), qemu_compat: false });
        if only.is_some() {
            eprintln!("case {index} of seed {seed:#x}:\n{}", describe(&p, CODE_BASE));
        }
        let eval = m.run(Runner::Eval, &p);
        let interp = m.run(Runner::Interp, &p);
        let baseline = m.run(Runner::Baseline, &p);
        let jit = m.run(Runner::Jit, &p);
        faulted += eval.exc.is_some() as u32;
        for (name, other) in [("interp", &interp), ("baseline", &baseline), ("jit", &jit)] {
            let d = diff(&eval, other);
            if !d.is_empty() {
                panic!(
                    "rv_fuzz: case {index} of seed {seed:#x}: the reference evaluator and {name} differ (eval vs {name}):\n{}\n\
                     interp vs jit:\n{}\n{}\nreproduce: REMU_FUZZ_SEED={seed:#x} REMU_FUZZ_CASE={index} cargo test --release --test all rv_fuzz_backends",
                    d.join("\n"),
                    diff(&interp, &jit).join("\n"),
                    describe(&p, CODE_BASE)
                );
            }
        }
    }
    eprintln!("rv_fuzz_backends: seed {seed:#x}, {n} cases ({faulted} ended in an exception), {:.1?}", t0.elapsed());
}

// ---- qemu-riscv64 comparison through tiny ELF files ----

/// Load address of the generated ELF files.
const ELF_BASE: u64 = 0x10000;
/// Offset of the code in the file.
const CODE_OFF: usize = 0x100;
/// Per case: init area (x, f, fcsr), dump area, buffer.
const AREA: usize = 528;
const BUF_STRIDE: usize = 4128;
const STRIDE: usize = 2 * AREA + BUF_STRIDE;
/// Bytes one case writes to stdout: 32 x, 32 f, fcsr, then the buffer.
const DUMP_LEN: usize = 65 * 8 + BUF_LEN;
/// The dump area relative to sp (= buffer + 1024).
const DUMP_FROM_SP: i32 = -(1024 + AREA as i32);

/// Builds one ELF running `progs` one after the other; returns the file.
fn build_elf(progs: &[Program]) -> Vec<u8> {
    use rv_gen::enc::*;
    // code first (its size decides where the data starts); data addresses are known from the
    // code size, which does not depend on them
    let code_len: usize =
        progs.iter().map(|p| p.code.len() + 4 * (2 + 32 + 2 + 31) + 4 * (31 + 32 + 2 + 10)).sum::<usize>() + 12;
    let data_off = (CODE_OFF + code_len).next_multiple_of(0x1000);
    let mut code: Vec<u8> = Vec::new();
    let mut data = vec![0u8; progs.len() * STRIDE];
    let push = |code: &mut Vec<u8>, w: u32| code.extend_from_slice(&w.to_le_bytes());
    for (k, p) in progs.iter().enumerate() {
        let init = ELF_BASE + (data_off + k * STRIDE) as u64;
        let buf = init + 2 * AREA as u64;
        // init area
        let d = &mut data[k * STRIDE..];
        for r in 0..32 {
            let v = match r as u8 {
                rv_gen::SP | rv_gen::BASE => p.x[r] + buf,
                _ => p.x[r],
            };
            d[r * 8..r * 8 + 8].copy_from_slice(&v.to_le_bytes());
            d[256 + r * 8..256 + r * 8 + 8].copy_from_slice(&p.f[r].to_le_bytes());
        }
        d[512..520].copy_from_slice(&(p.frm << 5 | p.fflags).to_le_bytes());
        d[2 * AREA..2 * AREA + BUF_LEN].copy_from_slice(&p.buf);
        // prologue
        let here = ELF_BASE + (CODE_OFF + code.len()) as u64;
        let delta = init.wrapping_sub(here) as i64;
        let hi = (delta + 0x800) >> 12;
        let lo = delta - (hi << 12);
        push(&mut code, auipc(31, hi as u32));
        push(&mut code, addi(31, 31, lo as i32));
        for r in 0..32 {
            push(&mut code, fld(r, 31, 256 + 8 * r as i32));
        }
        push(&mut code, ld(5, 31, 512));
        push(&mut code, csrrw(0, 3, 5));
        for r in 1..32 {
            push(&mut code, ld(r, 31, 8 * r as i32));
        }
        code.extend_from_slice(&p.code);
        // epilogue
        for r in 1..32 {
            push(&mut code, sd(r, 2, DUMP_FROM_SP + 8 * r as i32));
        }
        for r in 0..32 {
            push(&mut code, fsd(r, 2, DUMP_FROM_SP + 256 + 8 * r as i32));
        }
        push(&mut code, csrrs(5, 3, 0));
        push(&mut code, sd(5, 2, DUMP_FROM_SP + 512));
        for w in [
            addi(10, 0, 1),
            addi(11, 2, DUMP_FROM_SP),
            addi(12, 0, 65 * 8),
            addi(17, 0, 64),
            ECALL,
            addi(10, 0, 1),
            addi(11, 2, -1024),
            lui(12, 1),
            addi(12, 12, (BUF_LEN - 4096) as i32),
            ECALL,
        ] {
            push(&mut code, w);
        }
    }
    for w in [addi(10, 0, 0), addi(17, 0, 94), ECALL] {
        push(&mut code, w);
    }
    assert!(code.len() <= code_len, "ELF code size estimate is too small");
    let total = data_off + data.len();
    let mut f = vec![0u8; total];
    // ELF header (64-bit, little-endian, executable, RISC-V, RVC + double-float ABI)
    f[..16].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let put = |f: &mut Vec<u8>, at: usize, v: u64, n: usize| f[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
    put(&mut f, 0x10, 2, 2); // e_type EXEC
    put(&mut f, 0x12, 243, 2); // e_machine RISC-V
    put(&mut f, 0x14, 1, 4); // e_version
    put(&mut f, 0x18, ELF_BASE + CODE_OFF as u64, 8); // e_entry
    put(&mut f, 0x20, 64, 8); // e_phoff
    put(&mut f, 0x30, 5, 4); // e_flags
    put(&mut f, 0x34, 64, 2); // e_ehsize
    put(&mut f, 0x36, 56, 2); // e_phentsize
    put(&mut f, 0x38, 1, 2); // e_phnum
    put(&mut f, 0x3a, 64, 2); // e_shentsize
                              // PT_LOAD, RWX, the whole file
    put(&mut f, 64, 1, 4);
    put(&mut f, 68, 7, 4);
    put(&mut f, 72, 0, 8);
    put(&mut f, 80, ELF_BASE, 8);
    put(&mut f, 88, ELF_BASE, 8);
    put(&mut f, 96, total as u64, 8);
    put(&mut f, 104, total as u64, 8);
    put(&mut f, 112, 0x1000, 8);
    f[CODE_OFF..CODE_OFF + code.len()].copy_from_slice(&code);
    f[data_off..].copy_from_slice(&data);
    f
}

/// Names the first difference between two dumps of a batch: (case in batch, description).
fn dump_diff(a: &[u8], b: &[u8]) -> Option<(usize, String)> {
    use frontend::riscv64::disas::{FNAMES, XNAMES};
    let first =
        (0..a.len().min(b.len())).find(|&k| a[k] != b[k]).or((a.len() != b.len()).then(|| a.len().min(b.len())))?;
    let case = first / DUMP_LEN;
    let off = first % DUMP_LEN;
    let word = |v: &[u8], at: usize| v.get(at..at + 8).map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
    let base = case * DUMP_LEN;
    let what = match off {
        o if o < 256 => XNAMES[o / 8].to_string(),
        o if o < 512 => FNAMES[(o - 256) / 8].to_string(),
        o if o < 520 => "fcsr".to_string(),
        o => format!("buffer+{:#x}", (o - 520) & !7),
    };
    let at = base + (off & !7);
    Some((case, format!("{what}: {:x?} vs {:x?} (dump lengths {} and {})", word(a, at), word(b, at), a.len(), b.len())))
}

#[test]
fn rv_fuzz_qemu() {
    let Some(qemu) = crate::user_common::qemu("rv_fuzz_qemu") else { return };
    let seed = seed();
    let cases = env_u64("REMU_FUZZ_QEMU_CASES").unwrap_or(300) as usize;
    const BATCH: usize = 100;
    let t0 = std::time::Instant::now();
    let dir = crate::user_common::tmpdir("rv-fuzz");
    let qseed = seed ^ 0x9e3779b97f4a7c15;
    let progs: Vec<Program> = (0..cases as u64)
        .map(|i| rv_gen::generate(rv_gen::case_seed(qseed, i), Opts { may_fault: false, qemu_compat: true }))
        .collect();
    let batches: Vec<(usize, std::path::PathBuf)> = progs
        .chunks(BATCH)
        .enumerate()
        .map(|(b, chunk)| {
            let path = dir.join(format!("batch{b}"));
            std::fs::write(&path, build_elf(chunk)).expect("write the ELF");
            let mut perms = std::fs::metadata(&path).expect("stat").permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
            std::fs::set_permissions(&path, perms).expect("chmod");
            (b * BATCH, path)
        })
        .collect();
    let runs: Vec<_> = batches
        .iter()
        .map(|(first, path)| {
            let (path, qemu) = (path.clone(), qemu.to_string());
            let first = *first;
            std::thread::spawn(move || {
                let q = crate::user_common::Run::new(&qemu).args([&path]).run();
                let r: Vec<_> = crate::user_common::BACKENDS
                    .iter()
                    .map(|be| {
                        (*be, crate::user_common::remu_run(["--backend".as_ref(), be.as_ref(), path.as_os_str()]).run())
                    })
                    .collect();
                (first, q, r)
            })
        })
        .collect();
    for h in runs {
        let (first, q, rs) = h.join().expect("runner thread");
        assert!(q.status.success(), "qemu-riscv64 failed on batch at case {first} ({}): {}", q.how(), q.err());
        let n = BATCH.min(cases - first);
        assert_eq!(q.stdout.len(), n * DUMP_LEN, "qemu-riscv64 wrote a short dump for the batch at case {first}");
        for (be, r) in rs {
            if r.stdout == q.stdout && r.status.success() {
                continue;
            }
            let (case, what) =
                dump_diff(&q.stdout, &r.stdout).unwrap_or((0, format!("exit: {} vs {}", q.how(), r.how())));
            let index = first + case;
            let p = progs.get(index).unwrap_or(&progs[first]);
            panic!(
                "rv_fuzz_qemu: case {index} of seed {qseed:#x} (REMU_FUZZ_SEED={seed:#x}): qemu-riscv64 and remu --backend {be} differ \
                 (qemu vs remu): {what}\nremu: {}, stderr: {}\n{}",
                r.how(),
                r.err(),
                describe(p, 0)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("rv_fuzz_qemu: seed {seed:#x}, {cases} cases in {} ELF files, {:.1?}", batches.len(), t0.elapsed());
}
