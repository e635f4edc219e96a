//! linux-user: runs one Linux program of a guest ISA as a host process (QEMU's
//! `linux-user`). Standard streams, files, signals, child processes and the exit status
//! behave as if the program ran natively.
//!
//! Modules:
//! - [`host`]: every raw host system call and the host signal handler (unsafe, small);
//! - [`mmap`]: the guest address space: reservation, page permissions, mappings, and
//!   validated access to guest memory (unsafe, small);
//! - [`elf`] and [`loader`]: the program, its dynamic loader, the initial stack;
//! - [`arch`]: what differs between guest ISAs ([`arch::Target`]; riscv64 today);
//! - [`process`], [`cpu_loop`], [`thread`], [`signal`]: the process and its threads;
//! - [`syscall`]: the system calls, and `--strace`;
//! - [`path`]: the sysroot (`-L`) and the emulated `/proc/self` files.
//!
//! The entry point is [`run`]; `src/run.rs` of the `remu` binary parses the command line and
//! picks the backend.
//!
//! # Known gaps
//! - Guest ISAs: riscv64 only; s390x needs an `arch::s390x` (its syscall table with the
//!   legacy calls, big-endian layouts of termios/flock/statfs ioctl structures, its signal
//!   frame and CLONE_BACKWARDS2 argument order).
//! - System V IPC (shm*, msg*, sem*), io_uring, sendmmsg/recvmmsg, openat2, clone3 (glibc
//!   falls back to clone) and rseq return ENOSYS; unknown ioctls return ENOTTY (`-d unimp`
//!   names them).
//! - mremap cannot move MAP_SHARED mappings (ENOMEM); vfork is a fork.
//! - Robust futex lists of exiting guest threads are recorded but not walked.
//! - remu's own descriptors (a `-D` log file) are visible to the guest.
//! - The race-free interruption of blocking calls by signals (`host::blocking`) is
//!   implemented for x86-64 hosts; elsewhere a signal arriving just before a blocking call
//!   is only seen when the call returns.

#![warn(missing_docs)]

pub mod arch;
pub mod cpu_loop;
pub mod elf;
pub mod host;
pub mod loader;
pub mod mmap;
pub mod path;
pub mod process;
pub mod signal;
pub mod syscall;
pub mod thread;

use std::sync::Arc;

use accel_tcg::{Tcg, TcgOptions};
use ir::backend::Backend;

use arch::Target;
pub use process::Config;
use process::{Process, Thread};

/// The guest architectures user mode knows about, by ELF machine.
pub fn machine_supported(machine: u16) -> Result<(), String> {
    match machine {
        goblin::elf::header::EM_RISCV => Ok(()),
        goblin::elf::header::EM_S390 => Err("s390x programs are not supported yet (riscv64 only)".into()),
        m => Err(format!(
            "unsupported machine '{}' (remu runs riscv64 programs)",
            goblin::elf::header::machine_to_str(m)
        )),
    }
}

/// Reads the program's ELF header and checks that it is a 64-bit executable for a
/// supported machine. The message of an error is one line.
pub fn check_program(path: &std::path::Path) -> Result<u16, String> {
    let md = std::fs::metadata(path).map_err(|e| io_line(&e))?;
    if md.is_dir() {
        return Err("is a directory".into());
    }
    let mut head = [0u8; 64];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| io_line(&e))?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_line(&e)),
            }
        }
        n
    };
    let head = &head[..n];
    if !elf::is_elf(head) {
        return Err(elf::ElfError::NotElf.to_string());
    }
    if head.len() > 4 && head[4] != 2 {
        return Err(elf::ElfError::Class32.to_string());
    }
    let m = elf::machine_of(head)
        .ok_or_else(|| elf::ElfError::Truncated("the ELF header is incomplete".into()).to_string())?;
    machine_supported(m)?;
    Ok(m)
}

fn io_line(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

/// The code generators to run the program with.
pub enum Backends {
    /// One backend for every block.
    One(Box<dyn Backend>),
    /// Blocks start on `cold` and move to `hot` once they ran `tier.threshold` times.
    Tiered {
        /// First tier (the interpreter).
        cold: Box<dyn Backend>,
        /// Second tier (the JIT).
        hot: Box<dyn Backend>,
        /// When to promote.
        tier: accel_tcg::TierOptions,
    },
    /// Every block runs on both `reference` and `test` from the same state, and the first
    /// difference stops the program (`--crosscheck`; see `accel_tcg::crosscheck`).
    Crosscheck {
        /// The reference (the interpreter).
        reference: Box<dyn Backend>,
        /// The backend under test (the JIT).
        test: Box<dyn Backend>,
    },
}

/// Names guest addresses by the function symbols `syms` (start, size, name; sorted).
fn symbolizer(syms: Vec<(u64, u64, String)>) -> accel_tcg::Symbolizer {
    Box::new(move |pc| {
        let i = syms.partition_point(|s| s.0 <= pc).checked_sub(1)?;
        let (start, size, name) = &syms[i];
        (pc < start + (*size).max(1)).then(|| (name.clone(), pc - start))
    })
}

/// Runs the program of `cfg` on `backends`. Returns only on a start-up error (one line);
/// once the program runs, the process ends as the program does.
pub fn run(cfg: Config, backends: Backends) -> Result<std::convert::Infallible, String> {
    let m = check_program(&cfg.program)?;
    match m {
        goblin::elf::header::EM_RISCV => run_target::<arch::riscv64::Riscv64Target>(cfg, backends),
        _ => Err(machine_supported(m).err().unwrap_or_default()),
    }
}

fn run_target<T: Target>(cfg: Config, backends: Backends) -> Result<std::convert::Infallible, String> {
    let mem = mmap::GuestMemory::reserve(T::VA_LIMIT, T::BIG_ENDIAN)
        .map_err(|e| format!("cannot reserve the guest address space: {e}"))?;
    let mem = Arc::new(mem);
    let image = loader::load::<T>(&mem, &cfg)?;
    let opts = TcgOptions { log: cfg.log.clone(), perfmap: cfg.perfmap, timing: cfg.stats, ..TcgOptions::default() };
    let tcg = match backends {
        Backends::One(b) => Tcg::new(T::frontend(), b, mem.space(), opts),
        Backends::Tiered { cold, hot, tier } => Tcg::new_tiered(T::frontend(), cold, hot, tier, mem.space(), opts),
        Backends::Crosscheck { reference, test } => {
            let syms = symbolizer(loader::function_symbols(&image.exe, image.bias));
            let check = accel_tcg::crosscheck::Crosscheck::new::<arch::State<T>>(reference, test, Some(syms));
            Tcg::new(T::frontend(), Box::new(check), mem.space(), opts)
        }
    };
    if cfg.perfmap {
        tcg.set_symbolizer(symbolizer(loader::function_symbols(&image.exe, image.bias)));
    }
    let inv = tcg.clone();
    mem.set_invalidate(Box::new(move |start, len| inv.invalidate_range(start, len)));
    let cpu = tcg.new_cpu(T::init_state(image.entry, image.sp), 0);
    let proc = Arc::new(Process::<T>::new(tcg, mem, cfg, image.exe, image.sigpage, image.auxv, image.cmdline));
    let mask = signal::map_mask(host::host_mask());
    let mut th = Thread::new(proc.clone(), cpu, mask);
    cpu_loop::cpu_loop(&mut th);
    // The main thread only returns after the last thread exited.
    proc.exit(0)
}
