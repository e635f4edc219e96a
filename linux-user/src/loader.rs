//! Building the initial process image (QEMU's `load_elf_binary` and `create_elf_tables`):
//! the program, its dynamic loader (PT_INTERP, looked up in the sysroot), the stack with
//! argv, envp and the auxiliary vector, the heap start, and the signal-return trampoline.
//!
//! Address-space layout (no randomization, so runs are reproducible): the stack occupies
//! the top 8 MiB below the end of the guest address space; non-fixed mappings (the dynamic
//! loader, libraries, mmap) are placed top-down from 16 MiB below the stack; PIE programs
//! load at the ISA's ELF_ET_DYN_BASE; the heap starts right after the program's data.
//!
//! Initial stack, from high to low addresses, as Linux builds it: an 8-byte end marker, the
//! AT_EXECFN string, the argument and environment strings, 16 random bytes (AT_RANDOM),
//! then, 16-byte aligned at the stack pointer: argc, argv[], NULL, envp[], NULL, auxv pairs
//! ending with AT_NULL.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::arch::Target;
use crate::elf::{self, Place};
use crate::host::{self, Arg};
use crate::mmap::{mapf, page_up, prot, Backing, GuestMemory, VmaName, PAGE};
use crate::process::Config;

/// Size of the initial stack mapping.
pub const STACK_SIZE: u64 = 8 << 20;
/// Gap between the stack and the mmap area.
const STACK_GAP: u64 = 16 << 20;

/// The loaded image.
#[derive(Debug)]
pub struct Image {
    /// First pc (the dynamic loader's entry, or the program's).
    pub entry: u64,
    /// Initial stack pointer.
    pub sp: u64,
    /// The auxiliary vector as bytes (guest order).
    pub auxv: Vec<u8>,
    /// argv joined by NULs.
    pub cmdline: Vec<u8>,
    /// Canonical host path of the program.
    pub exe: PathBuf,
    /// Address of the sigreturn trampoline.
    pub sigpage: u64,
    /// Load bias of the program (0 unless position-independent).
    pub bias: u64,
}

/// Auxiliary vector keys (Linux uapi auxvec.h).
mod at {
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const HWCAP2: u64 = 26;
    pub const EXECFN: u64 = 31;
    pub const MINSIGSTKSZ: u64 = 51;
}

/// Loads `cfg.program` into `mem`.
pub fn load<T: Target>(mem: &GuestMemory, cfg: &Config) -> Result<Image, String> {
    let prog = &cfg.program;
    let exe = std::fs::canonicalize(prog).map_err(|e| io_msg(&e))?;
    let (file, info) = elf::open(prog, T::ELF_MACHINE, T::NAME, T::VA_LIMIT).map_err(|e| e.to_string())?;

    // Stack first: it fixes where the mmap area (and so the dynamic loader) goes.
    let top = T::VA_LIMIT;
    let stack_lo = top - STACK_SIZE;
    mem.map_fixed(stack_lo, STACK_SIZE, prot::READ | prot::WRITE, false, Backing::Anon, VmaName::Special("[stack]"))
        .map_err(|e| format!("cannot map the stack: {}", e.describe()))?;
    mem.set_mmap_base(stack_lo - STACK_GAP);

    let main =
        elf::load(mem, &file, &exe.to_string_lossy(), &info, Place::At(T::DYN_BASE)).map_err(|e| e.to_string())?;
    drop(file);
    mem.init_brk(page_up(main.end).unwrap_or(main.end));

    let mut entry = main.entry;
    let mut interp_base = 0;
    if let Some(ip) = &info.interp {
        let hp = crate::path::resolve(cfg.sysroot.as_deref(), ip);
        let name = String::from_utf8_lossy(ip).into_owned();
        let (f, ii) = elf::open(&hp, T::ELF_MACHINE, T::NAME, T::VA_LIMIT)
            .map_err(|e| format!("cannot load the program interpreter {name}: {e}{}", sysroot_hint(cfg)))?;
        let l = elf::load(mem, &f, &hp.to_string_lossy(), &ii, Place::Anywhere)
            .map_err(|e| format!("cannot load the program interpreter {name}: {e}"))?;
        entry = l.entry;
        interp_base = l.bias;
    }

    let sigpage = map_sigpage::<T>(mem)?;

    // Strings.
    let argv0: OsString = cfg.argv0.clone().unwrap_or_else(|| prog.as_os_str().to_owned());
    let mut argv: Vec<Vec<u8>> = vec![argv0.as_bytes().to_vec()];
    argv.extend(cfg.args.iter().map(|a| a.as_bytes().to_vec()));
    let envp: Vec<Vec<u8>> = cfg.env.iter().map(|e| e.as_bytes().to_vec()).collect();
    let execfn = prog.as_os_str().as_bytes().to_vec();

    let mut blob = Vec::new();
    let mut offs = Vec::new();
    for s in argv.iter().chain(envp.iter()) {
        offs.push(blob.len() as u64);
        blob.extend_from_slice(s);
        blob.push(0);
    }
    let execfn_off = blob.len() as u64;
    blob.extend_from_slice(&execfn);
    blob.push(0);
    let end_marker = top - 8;
    let blob_start = end_marker.checked_sub(blob.len() as u64).filter(|&a| a > stack_lo + PAGE * 16);
    let Some(blob_start) = blob_start else { return Err("argument list too long".into()) };
    let random_addr = (blob_start - 16) & !15;
    let mut random = [0u8; 16];
    let _ = host::call(libc::SYS_getrandom, [Arg::Host(random.as_mut_ptr()), Arg::Int(16), Arg::Int(0)]);

    let ids = |nr: libc::c_long| host::call(nr, []).unwrap_or(0);
    let clk = {
        // SAFETY-free: sysconf through std is not available; 100 is Linux's USER_HZ everywhere.
        100
    };
    let auxv_pairs: Vec<(u64, u64)> = vec![
        (at::PHDR, main.phdr),
        (at::PHENT, 56),
        (at::PHNUM, main.phnum),
        (at::PAGESZ, PAGE),
        (at::BASE, interp_base),
        (at::FLAGS, 0),
        (at::ENTRY, main.entry),
        (at::UID, ids(libc::SYS_getuid)),
        (at::EUID, ids(libc::SYS_geteuid)),
        (at::GID, ids(libc::SYS_getgid)),
        (at::EGID, ids(libc::SYS_getegid)),
        (at::HWCAP, T::hwcap()),
        (at::HWCAP2, 0),
        (at::CLKTCK, clk),
        (at::SECURE, 0),
        (at::RANDOM, random_addr),
        (at::EXECFN, blob_start + execfn_off),
        (at::MINSIGSTKSZ, T::MINSIGSTKSZ),
        (at::NULL, 0),
    ];
    let words = 1 + argv.len() + 1 + envp.len() + 1 + 2 * auxv_pairs.len();
    let sp =
        random_addr.checked_sub(words as u64 * 8).filter(|&a| a > stack_lo + PAGE).ok_or("argument list too long")?
            & !15;

    let mut table = Vec::with_capacity(words * 8);
    let w = |t: &mut Vec<u8>, v: u64| t.extend_from_slice(&mem.enc64(v));
    w(&mut table, argv.len() as u64);
    for (k, _) in argv.iter().enumerate() {
        w(&mut table, blob_start + offs[k]);
    }
    w(&mut table, 0);
    for k in 0..envp.len() {
        w(&mut table, blob_start + offs[argv.len() + k]);
    }
    w(&mut table, 0);
    let mut auxv = Vec::new();
    for &(k, v) in &auxv_pairs {
        w(&mut table, k);
        w(&mut table, v);
        w(&mut auxv, k);
        w(&mut auxv, v);
    }
    let err = |e: host::Errno| format!("cannot build the initial stack: {}", e.describe());
    mem.write(blob_start, &blob).map_err(err)?;
    mem.write(random_addr, &random).map_err(err)?;
    mem.write(sp, &table).map_err(err)?;
    mem.write(end_marker, &[0; 8]).map_err(err)?;

    let mut cmdline = Vec::new();
    for a in &argv {
        cmdline.extend_from_slice(a);
        cmdline.push(0);
    }
    Ok(Image { entry, sp, auxv, cmdline, exe, sigpage, bias: main.bias })
}

/// The function symbols of the ELF file at `path` (start, size, name), relocated by `bias`
/// and sorted by start; empty when the file has no symbol table. For profiler maps.
pub fn function_symbols(path: &std::path::Path, bias: u64) -> Vec<(u64, u64, String)> {
    let Ok(bytes) = std::fs::read(path) else { return Vec::new() };
    let Ok(elf) = goblin::elf::Elf::parse(&bytes) else { return Vec::new() };
    let mut v: Vec<(u64, u64, String)> = elf
        .syms
        .iter()
        .filter(|s| s.st_type() == goblin::elf::sym::STT_FUNC && s.st_value != 0)
        .filter_map(|s| elf.strtab.get_at(s.st_name).map(|n| (s.st_value.wrapping_add(bias), s.st_size, n.to_string())))
        .collect();
    v.sort();
    v
}

fn sysroot_hint(cfg: &Config) -> &'static str {
    if cfg.sysroot.is_none() {
        " (a dynamically linked program needs -L SYSROOT)"
    } else {
        ""
    }
}

fn io_msg(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

fn map_sigpage<T: Target>(mem: &GuestMemory) -> Result<u64, String> {
    let code = T::sigreturn_code();
    let a = mem
        .mmap(
            0,
            PAGE,
            prot::READ | prot::WRITE,
            mapf::PRIVATE | mapf::ANONYMOUS,
            Backing::Anon,
            VmaName::Special("[vdso]"),
        )
        .map_err(|e| format!("cannot map the signal trampoline: {}", e.describe()))?;
    mem.write(a, &code).map_err(|e| e.describe())?;
    mem.mprotect(a, PAGE, prot::READ | prot::EXEC).map_err(|e| e.describe())?;
    Ok(a)
}
