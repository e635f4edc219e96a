//! ELF executables (QEMU's `linux-user/elfload.c`, the loading half): reads and validates the
//! ELF header and program headers with goblin, and maps one image (the program or its
//! dynamic loader) into the guest address space.
//!
//! Only the header and the program header table are read; segments are mapped straight from
//! the file (`MAP_PRIVATE`), so start-up costs a few system calls whatever the file's size.
//! Every field is checked before use: a file that is not ELF, is 32-bit, is not an executable,
//! is for another machine, is truncated (headers or segments past the end of the file) or is
//! inconsistent (file size above memory size, overlapping or misaligned segments, addresses
//! outside the guest address space) gives an [`ElfError`], never a panic. Section headers,
//! symbols and relocations are not read: the kernel does not need them either.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::os::unix::io::AsRawFd;

use goblin::elf::header::{EI_CLASS, ELFCLASS64, ET_DYN, ET_EXEC};
use goblin::elf::program_header::{PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_PHDR};

use crate::mmap::{mapf, page_down, page_up, prot, Backing, GuestMemory, VmaName, PAGE};

/// Why a file cannot be run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElfError {
    /// The file does not start with the ELF magic.
    #[error("not an ELF executable")]
    NotElf,
    /// A 32-bit ELF.
    #[error("unsupported ELF class (32-bit); remu runs 64-bit programs")]
    Class32,
    /// Not ET_EXEC or ET_DYN.
    #[error("not an executable (ELF type {0})")]
    NotExecutable(&'static str),
    /// Another machine.
    #[error("unsupported machine '{0}' (this remu runs {1} programs)")]
    Machine(&'static str, &'static str),
    /// Headers or segments extend past the end of the file.
    #[error("truncated ELF file: {0}")]
    Truncated(String),
    /// Inconsistent headers.
    #[error("corrupt ELF file: {0}")]
    Corrupt(String),
    /// Mapping into the guest failed.
    #[error("cannot map {0}: {1}")]
    Map(String, String),
    /// Reading the file failed.
    #[error("{0}")]
    Io(String),
}

/// One PT_LOAD segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// p_vaddr.
    pub vaddr: u64,
    /// p_offset.
    pub offset: u64,
    /// p_filesz.
    pub filesz: u64,
    /// p_memsz.
    pub memsz: u64,
    /// Guest PROT_* bits from p_flags.
    pub prot: i32,
}

/// A validated ELF image description.
#[derive(Clone, Debug)]
pub struct ElfInfo {
    /// e_machine.
    pub machine: u16,
    /// ET_DYN (position-independent).
    pub dynamic: bool,
    /// e_entry.
    pub entry: u64,
    /// e_phoff.
    pub phoff: u64,
    /// e_phnum.
    pub phnum: u64,
    /// PT_LOAD segments in address order.
    pub loads: Vec<Segment>,
    /// PT_PHDR p_vaddr, if present.
    pub phdr_vaddr: Option<u64>,
    /// PT_INTERP path.
    pub interp: Option<Vec<u8>>,
}

/// The first bytes of a file: enough for the header and, usually, the program headers.
pub const HEAD_SIZE: usize = 4096;

/// Whether `head` starts with the ELF magic.
pub fn is_elf(head: &[u8]) -> bool {
    head.len() >= 4 && head[..4] == *b"\x7fELF"
}

/// The e_machine of an ELF file (for execve's decision to run a file under remu).
pub fn machine_of(head: &[u8]) -> Option<u16> {
    if !is_elf(head) || head.len() < 20 {
        return None;
    }
    Some(match head[5] {
        2 => u16::from_be_bytes([head[18], head[19]]),
        _ => u16::from_le_bytes([head[18], head[19]]),
    })
}

/// Parses and validates the headers. `read_at(offset, buf)` reads from the file (short reads
/// at the end of the file are fine); `file_size` bounds every offset.
pub fn parse(
    read_at: &mut dyn FnMut(u64, &mut [u8]) -> std::io::Result<usize>,
    file_size: u64,
    want_machine: u16,
    want_name: &'static str,
    va_limit: u64,
) -> Result<ElfInfo, ElfError> {
    let io = |e: std::io::Error| ElfError::Io(e.to_string());
    let mut head = vec![0u8; HEAD_SIZE.min(file_size as usize)];
    let n = read_at(0, &mut head).map_err(io)?;
    head.truncate(n);
    if !is_elf(&head) {
        return Err(ElfError::NotElf);
    }
    if head.len() < 64 {
        if head.len() > 4 && head[EI_CLASS] != ELFCLASS64 {
            return Err(ElfError::Class32);
        }
        return Err(ElfError::Truncated("the ELF header is incomplete".into()));
    }
    if head[EI_CLASS] != ELFCLASS64 {
        return Err(ElfError::Class32);
    }
    let h = goblin::elf::Elf::parse_header(&head).map_err(|e| ElfError::Corrupt(e.to_string()))?;
    if h.e_type != ET_EXEC && h.e_type != ET_DYN {
        return Err(ElfError::NotExecutable(goblin::elf::header::et_to_str(h.e_type)));
    }
    if h.e_machine != want_machine {
        return Err(ElfError::Machine(goblin::elf::header::machine_to_str(h.e_machine), want_name));
    }
    if h.e_phentsize as usize != goblin::elf::program_header::program_header64::SIZEOF_PHDR {
        return Err(ElfError::Corrupt(format!("program header size {} (expected 56)", h.e_phentsize)));
    }
    if h.e_phnum == 0 || h.e_phnum > 1024 {
        return Err(ElfError::Corrupt(format!("{} program headers", h.e_phnum)));
    }
    let table_len = h.e_phnum as u64 * 56;
    let table_end =
        h.e_phoff.checked_add(table_len).ok_or_else(|| ElfError::Corrupt("program header offset".into()))?;
    if table_end > file_size {
        return Err(ElfError::Truncated("the program headers extend past the end of the file".into()));
    }
    let mut table = vec![0u8; table_len as usize];
    let got = read_at(h.e_phoff, &mut table).map_err(io)?;
    if got != table.len() {
        return Err(ElfError::Truncated("the program headers extend past the end of the file".into()));
    }
    let container = h.container().map_err(|e| ElfError::Corrupt(e.to_string()))?;
    let endian = h.endianness().map_err(|e| ElfError::Corrupt(e.to_string()))?;
    let ctx = goblin::container::Ctx::new(container, endian);
    let phdrs = goblin::elf::ProgramHeader::parse(&table, 0, h.e_phnum as usize, ctx)
        .map_err(|e| ElfError::Corrupt(e.to_string()))?;

    let mut loads = Vec::new();
    let mut interp = None;
    let mut phdr_vaddr = None;
    for (i, p) in phdrs.iter().enumerate() {
        match p.p_type {
            PT_LOAD => {
                let fend = p.p_offset.checked_add(p.p_filesz);
                if fend.is_none_or(|e| e > file_size) {
                    return Err(ElfError::Truncated(format!("segment {i} extends past the end of the file")));
                }
                if p.p_filesz > p.p_memsz {
                    return Err(ElfError::Corrupt(format!("segment {i} is larger in the file than in memory")));
                }
                if p.p_vaddr.checked_add(p.p_memsz).is_none_or(|e| e > va_limit) {
                    return Err(ElfError::Corrupt(format!("segment {i} lies outside the address space")));
                }
                if (p.p_vaddr.wrapping_sub(p.p_offset)) % PAGE != 0 {
                    return Err(ElfError::Corrupt(format!(
                        "segment {i}: address and file offset are not congruent modulo the page size"
                    )));
                }
                if p.p_memsz == 0 {
                    continue;
                }
                let mut pr = 0;
                if p.p_flags & PF_R != 0 {
                    pr |= prot::READ;
                }
                if p.p_flags & PF_W != 0 {
                    pr |= prot::WRITE;
                }
                if p.p_flags & PF_X != 0 {
                    pr |= prot::EXEC;
                }
                loads.push(Segment {
                    vaddr: p.p_vaddr,
                    offset: p.p_offset,
                    filesz: p.p_filesz,
                    memsz: p.p_memsz,
                    prot: pr,
                });
            }
            PT_INTERP => {
                if p.p_filesz == 0 || p.p_filesz > 4096 {
                    return Err(ElfError::Corrupt("bad interpreter path length".into()));
                }
                if p.p_offset.checked_add(p.p_filesz).is_none_or(|e| e > file_size) {
                    return Err(ElfError::Truncated("the interpreter path extends past the end of the file".into()));
                }
                let mut b = vec![0u8; p.p_filesz as usize];
                if read_at(p.p_offset, &mut b).map_err(io)? != b.len() {
                    return Err(ElfError::Truncated("the interpreter path extends past the end of the file".into()));
                }
                let Some(z) = b.iter().position(|&c| c == 0) else {
                    return Err(ElfError::Corrupt("the interpreter path is not NUL-terminated".into()));
                };
                b.truncate(z);
                if b.is_empty() {
                    return Err(ElfError::Corrupt("empty interpreter path".into()));
                }
                interp = Some(b);
            }
            PT_PHDR => phdr_vaddr = Some(p.p_vaddr),
            _ => {}
        }
    }
    if loads.is_empty() {
        return Err(ElfError::Corrupt("no loadable segment".into()));
    }
    loads.sort_by_key(|s| s.vaddr);
    for w in loads.windows(2) {
        if w[0].vaddr + w[0].memsz > w[1].vaddr {
            return Err(ElfError::Corrupt("overlapping segments".into()));
        }
    }
    Ok(ElfInfo {
        machine: h.e_machine,
        dynamic: h.e_type == ET_DYN,
        entry: h.e_entry,
        phoff: h.e_phoff,
        phnum: h.e_phnum as u64,
        loads,
        phdr_vaddr,
        interp,
    })
}

/// Opens and parses a file for `T`.
pub fn open(
    path: &std::path::Path,
    machine: u16,
    name: &'static str,
    va_limit: u64,
) -> Result<(File, ElfInfo), ElfError> {
    let f = File::open(path).map_err(|e| ElfError::Io(e.to_string()))?;
    let md = f.metadata().map_err(|e| ElfError::Io(e.to_string()))?;
    if md.is_dir() {
        return Err(ElfError::Io("is a directory".into()));
    }
    if !md.is_file() {
        return Err(ElfError::Io("not a regular file".into()));
    }
    let info = parse(&mut |off, buf| read_full(&f, off, buf), md.len(), machine, name, va_limit)?;
    Ok((f, info))
}

fn read_full(f: &File, mut off: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], off) {
            Ok(0) => break,
            Ok(n) => {
                done += n;
                off += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Where an image was mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// Load bias (0 for ET_EXEC).
    pub bias: u64,
    /// Entry point.
    pub entry: u64,
    /// Address of the program headers in guest memory (AT_PHDR).
    pub phdr: u64,
    /// Number of program headers.
    pub phnum: u64,
    /// End of the highest segment (start of brk).
    pub end: u64,
}

/// Where to put a position-independent image.
#[derive(Clone, Copy, Debug)]
pub enum Place {
    /// At this base (the main program: ELF_ET_DYN_BASE).
    At(u64),
    /// Wherever mmap would put it (the dynamic loader).
    Anywhere,
}

/// Maps the image into guest memory.
pub fn load(mem: &GuestMemory, file: &File, path: &str, info: &ElfInfo, place: Place) -> Result<Loaded, ElfError> {
    let err = |what: &str, e: crate::host::Errno| ElfError::Map(what.to_string(), crate::host::Errno::describe(e));
    let first = page_down(info.loads[0].vaddr);
    let last = info.loads.iter().map(|s| s.vaddr + s.memsz).max().unwrap_or(first);
    let span = page_up(last).ok_or_else(|| ElfError::Corrupt("segment end".into()))? - first;
    let md = file.metadata().map_err(|e| ElfError::Io(e.to_string()))?;
    let name = VmaName::File { path: path.to_string(), dev: md.dev(), ino: md.ino() };
    let bias = if info.dynamic {
        let base = match place {
            Place::At(b) if b.checked_add(span).is_some_and(|e| e <= mem.va_limit()) => {
                let l = mem.layout();
                mem.find_free(&l, span, b)
                    .ok_or_else(|| ElfError::Map(path.into(), "no room in the address space".into()))?
            }
            _ => {
                let l = mem.layout();
                mem.find_free(&l, span, 0)
                    .ok_or_else(|| ElfError::Map(path.into(), "no room in the address space".into()))?
            }
        };
        // Reserve the whole span so that the gaps between segments stay unused.
        mem.mmap(base, span, 0, mapf::PRIVATE | mapf::ANONYMOUS | mapf::FIXED, Backing::Anon, VmaName::Anon)
            .map_err(|e| err(path, e))?;
        base.wrapping_sub(first)
    } else {
        if first < crate::mmap::MMAP_MIN_ADDR {
            return Err(ElfError::Corrupt(format!("segment at {first:#x} below the lowest mappable address")));
        }
        0
    };
    let fd = file.as_raw_fd();
    for s in &info.loads {
        let vaddr = s.vaddr.wrapping_add(bias);
        let start = page_down(vaddr);
        let file_end = vaddr + s.filesz;
        let mem_end = vaddr + s.memsz;
        let zero_tail = s.memsz > s.filesz && file_end % PAGE != 0;
        let mut anon_start = start;
        if s.filesz > 0 {
            let map_end = page_up(file_end).unwrap_or(file_end);
            let tmp_prot = if zero_tail { s.prot | prot::READ | prot::WRITE } else { s.prot };
            mem.map_fixed(
                start,
                map_end - start,
                tmp_prot,
                false,
                Backing::File { fd, offset: page_down(s.offset) },
                name.clone(),
            )
            .map_err(|e| err(path, e))?;
            if zero_tail {
                let n = (map_end.min(page_up(mem_end).unwrap_or(mem_end)) - file_end) as usize;
                mem.poke(file_end, &vec![0u8; n]).map_err(|e| err(path, e))?;
                if tmp_prot != s.prot {
                    mem.mprotect(start, map_end - start, s.prot).map_err(|e| err(path, e))?;
                }
            }
            anon_start = map_end;
        }
        let anon_end = page_up(mem_end).unwrap_or(mem_end);
        if anon_end > anon_start {
            mem.map_fixed(anon_start, anon_end - anon_start, s.prot, false, Backing::Anon, VmaName::Anon)
                .map_err(|e| err(path, e))?;
        }
    }
    let phdr = match info.phdr_vaddr {
        Some(v) => v.wrapping_add(bias),
        None => info
            .loads
            .iter()
            .find(|s| info.phoff >= s.offset && info.phoff + info.phnum * 56 <= s.offset + s.filesz)
            .map(|s| s.vaddr + (info.phoff - s.offset) + bias)
            .unwrap_or(0),
    };
    Ok(Loaded { bias, entry: info.entry.wrapping_add(bias), phdr, phnum: info.phnum, end: last.wrapping_add(bias) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header + program headers, little-endian, riscv64.
    fn elf(e_type: u16, machine: u16, phdrs: &[(u32, u32, u64, u64, u64, u64)], extra: usize) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b[16..18].copy_from_slice(&e_type.to_le_bytes());
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&0x10078u64.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[52..54].copy_from_slice(&64u16.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for &(ty, flags, off, vaddr, filesz, memsz) in phdrs {
            let mut p = vec![0u8; 56];
            p[0..4].copy_from_slice(&ty.to_le_bytes());
            p[4..8].copy_from_slice(&flags.to_le_bytes());
            p[8..16].copy_from_slice(&off.to_le_bytes());
            p[16..24].copy_from_slice(&vaddr.to_le_bytes());
            p[24..32].copy_from_slice(&vaddr.to_le_bytes());
            p[32..40].copy_from_slice(&filesz.to_le_bytes());
            p[40..48].copy_from_slice(&memsz.to_le_bytes());
            p[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
            b.extend_from_slice(&p);
        }
        b.resize(b.len() + extra, 0);
        b
    }

    fn parse_bytes(b: &[u8]) -> Result<ElfInfo, ElfError> {
        let mut r = |off: u64, buf: &mut [u8]| -> std::io::Result<usize> {
            let off = off as usize;
            if off >= b.len() {
                return Ok(0);
            }
            let n = buf.len().min(b.len() - off);
            buf[..n].copy_from_slice(&b[off..off + n]);
            Ok(n)
        };
        parse(&mut r, b.len() as u64, 243, "riscv64", 1 << 38)
    }

    const RX: u32 = PF_R | PF_X;

    #[test]
    fn valid_static_executable_parses() {
        let b = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0, 0x10000, 0x200, 0x200)], 0x200);
        let i = parse_bytes(&b).unwrap();
        assert!(!i.dynamic);
        assert_eq!(i.loads.len(), 1);
        assert_eq!(i.loads[0].prot, prot::READ | prot::EXEC);
        assert_eq!(i.entry, 0x10078);
    }

    #[test]
    fn bad_files_are_errors() {
        assert_eq!(parse_bytes(b"#!/bin/sh\n").unwrap_err(), ElfError::NotElf);
        assert_eq!(parse_bytes(b"").unwrap_err(), ElfError::NotElf);
        assert!(matches!(parse_bytes(b"\x7fELF\x02\x01").unwrap_err(), ElfError::Truncated(_)));
        let mut b32 = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0, 0x10000, 0x100, 0x100)], 0x100);
        b32[4] = 1;
        assert_eq!(parse_bytes(&b32).unwrap_err(), ElfError::Class32);
        let x86 = elf(ET_EXEC, 62, &[(PT_LOAD, RX, 0, 0x10000, 0x100, 0x100)], 0x100);
        assert!(matches!(parse_bytes(&x86).unwrap_err(), ElfError::Machine(_, "riscv64")));
        let rel = elf(1, 243, &[(PT_LOAD, RX, 0, 0x10000, 0x100, 0x100)], 0x100);
        assert!(matches!(parse_bytes(&rel).unwrap_err(), ElfError::NotExecutable(_)));
        // Segment past the end of the file.
        let t = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0, 0x10000, 0x10000, 0x10000)], 0);
        assert!(matches!(parse_bytes(&t).unwrap_err(), ElfError::Truncated(_)));
        // Program headers cut off.
        let mut t2 = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0, 0x10000, 0x40, 0x40)], 0);
        t2.truncate(100);
        assert!(matches!(parse_bytes(&t2).unwrap_err(), ElfError::Truncated(_)));
        // filesz > memsz.
        let c = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0, 0x10000, 0x100, 0x10)], 0x100);
        assert!(matches!(parse_bytes(&c).unwrap_err(), ElfError::Corrupt(_)));
        // Overlapping.
        let o = elf(
            ET_EXEC,
            243,
            &[(PT_LOAD, RX, 0, 0x10000, 0x100, 0x2000), (PT_LOAD, PF_R, 0x1000, 0x11000, 0x10, 0x10)],
            0x1100,
        );
        assert!(matches!(parse_bytes(&o).unwrap_err(), ElfError::Corrupt(_)));
        // Offset and address not congruent.
        let m = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0x10, 0x10000, 0x10, 0x10)], 0x100);
        assert!(matches!(parse_bytes(&m).unwrap_err(), ElfError::Corrupt(_)));
        // Outside the address space, and wrapping.
        let v = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0, 1 << 40, 0x10, 0x10)], 0x100);
        assert!(matches!(parse_bytes(&v).unwrap_err(), ElfError::Corrupt(_)));
        let w = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0, u64::MAX - 0xfff, 0x10, 0x2000)], 0x100);
        assert!(matches!(parse_bytes(&w).unwrap_err(), ElfError::Corrupt(_)));
        // No loadable segment.
        let n = elf(ET_EXEC, 243, &[(6, PF_R, 0, 0, 0, 0)], 0x100);
        assert!(matches!(parse_bytes(&n).unwrap_err(), ElfError::Corrupt(_)));
        // Interpreter without NUL.
        let mut i = elf(ET_DYN, 243, &[(PT_INTERP, PF_R, 400, 0, 4, 4), (PT_LOAD, RX, 0, 0, 0x200, 0x200)], 0x200);
        i[400..404].copy_from_slice(b"/lib");
        assert!(matches!(parse_bytes(&i).unwrap_err(), ElfError::Corrupt(_)));
        i[403] = 0;
        assert_eq!(parse_bytes(&i).unwrap().interp.as_deref(), Some(&b"/li"[..]));
    }

    #[test]
    fn garbage_never_panics() {
        // A cheap deterministic fuzz over header bytes.
        let base = elf(ET_DYN, 243, &[(PT_LOAD, RX, 0, 0, 0x300, 0x500), (PT_INTERP, PF_R, 0x100, 0, 8, 8)], 0x300);
        let mut x: u64 = 0x1234_5678;
        for _ in 0..20_000 {
            let mut b = base.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x % b.len() as u64) as usize;
                b[i] = (x >> 32) as u8;
            }
            let len = if x.is_multiple_of(7) { (x >> 40) as usize % b.len() } else { b.len() };
            let _ = parse_bytes(&b[..len]);
        }
    }

    #[test]
    fn machine_of_reads_both_byte_orders() {
        let b = elf(ET_EXEC, 243, &[(PT_LOAD, RX, 0, 0x10000, 0x40, 0x40)], 0);
        assert_eq!(machine_of(&b), Some(243));
        let mut be = b.clone();
        be[5] = 2;
        be[18] = 0;
        be[19] = 22;
        assert_eq!(machine_of(&be), Some(22));
        assert_eq!(machine_of(b"\x7fEL"), None);
    }
}
