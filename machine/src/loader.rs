//! Loading guest kernels into RAM: ELF64 images (Linux vmlinux with a PVH note, or our own
//! freestanding test programs), Linux bzImages, and initrds.
//!
//! The copying and the format checks that linux-loader does (ELF program headers, the
//! bzImage `HdrS` magic and load flags, the PVH ELF note) are linux-loader's; this module
//! adds what a user needs to hear when a file is wrong (one line naming the file and the
//! problem), the checks linux-loader leaves out (ELF class and machine, every segment and the
//! entry point inside RAM, the 64-bit boot protocol flag of a bzImage) and returns the raw
//! setup header so the board can build the zero page (`boot_params`) byte for byte.
//!
//! # Source
//! Linux `Documentation/arch/x86/boot.rst` (the boot protocol, header offsets);
//! Xen `docs/misc/pvh.pandoc` (PVH entry).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use linux_loader::loader::elf::PvhBootCapability;
use linux_loader::loader::{BzImage, Elf, KernelLoader};
use vm_memory::GuestAddress;

use crate::memory::GuestRam;

/// A kernel or initrd that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoaderError {
    /// The file cannot be opened or read.
    #[error("{what} '{path}': {err}")]
    Io {
        /// "kernel" or "initrd".
        what: &'static str,
        /// The path given.
        path: String,
        /// The OS error.
        #[source]
        err: std::io::Error,
    },
    /// The file is not in a format remu can boot, or is damaged.
    #[error("{what} '{path}': {msg}")]
    Format {
        /// "kernel" or "initrd".
        what: &'static str,
        /// The path given.
        path: String,
        /// What is wrong.
        msg: String,
    },
}

/// Offsets in the bzImage setup header / zero page (boot.rst, "The real-mode kernel header").
pub mod hdr {
    /// setup_sects (u8).
    pub const SETUP_SECTS: usize = 0x1f1;
    /// Jump instruction; the byte at 0x201 gives the header's end (0x202 + value).
    pub const JUMP: usize = 0x200;
    /// "HdrS" magic (u32).
    pub const HEADER: usize = 0x202;
    /// Boot protocol version (u16).
    pub const VERSION: usize = 0x206;
    /// type_of_loader (u8).
    pub const TYPE_OF_LOADER: usize = 0x210;
    /// loadflags (u8).
    pub const LOADFLAGS: usize = 0x211;
    /// code32_start (u32).
    pub const CODE32_START: usize = 0x214;
    /// ramdisk_image (u32).
    pub const RAMDISK_IMAGE: usize = 0x218;
    /// ramdisk_size (u32).
    pub const RAMDISK_SIZE: usize = 0x21c;
    /// heap_end_ptr (u16).
    pub const HEAP_END_PTR: usize = 0x224;
    /// cmd_line_ptr (u32).
    pub const CMD_LINE_PTR: usize = 0x228;
    /// initrd_addr_max (u32).
    pub const INITRD_ADDR_MAX: usize = 0x22c;
    /// xloadflags (u16).
    pub const XLOADFLAGS: usize = 0x236;
    /// cmdline_size (u32).
    pub const CMDLINE_SIZE: usize = 0x238;
    /// xloadflags bit: the kernel has a 64-bit entry point at load address + 0x200.
    pub const XLF_KERNEL_64: u16 = 1;
}

/// What was loaded and how to enter it.
#[derive(Clone, Debug)]
pub enum Kernel {
    /// An ELF64 program entered in 64-bit mode at `entry` (our test programs).
    Elf64 {
        /// Entry point (physical = virtual: identity paging).
        entry: u64,
        /// First byte after the highest segment.
        end: u64,
    },
    /// An ELF vmlinux entered through its PVH note in 32-bit protected mode.
    Pvh {
        /// 32-bit physical entry point.
        entry: u64,
        /// First byte after the highest segment.
        end: u64,
    },
    /// A bzImage: the protected-mode kernel is at `load_addr`, the 64-bit entry 0x200 after.
    BzImage {
        /// Where the protected-mode part was loaded.
        load_addr: u64,
        /// First byte after it.
        end: u64,
        /// Bytes 0x1f1..header end of the image, to copy into the zero page.
        setup_header: Vec<u8>,
    },
}

impl Kernel {
    /// Highest byte used by the kernel image.
    pub fn end(&self) -> u64 {
        match self {
            Self::Elf64 { end, .. } | Self::Pvh { end, .. } | Self::BzImage { end, .. } => *end,
        }
    }
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

enum Format {
    Elf,
    BzImage { setup_header: Vec<u8> },
}

/// Opens a kernel and checks its headers; everything that can be said about a file before
/// guest RAM exists.
fn inspect(path: &Path) -> Result<(File, Format), LoaderError> {
    let p = path.display().to_string();
    let io = |err| LoaderError::Io { what: "kernel", path: p.clone(), err };
    let bad = |msg: String| LoaderError::Format { what: "kernel", path: p.clone(), msg };
    let mut f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut head = vec![0u8; 0x300.min(len as usize)];
    f.read_exact(&mut head).map_err(io)?;

    if head.starts_with(b"\x7fELF") {
        if head.len() < 64 {
            return Err(bad("truncated ELF header".into()));
        }
        if head[4] != 2 {
            return Err(bad("not a 64-bit ELF (remu boots ELF64 x86-64 images)".into()));
        }
        if u16_at(&head, 18) != 62 {
            return Err(bad(format!("ELF machine {} is not x86-64", u16_at(&head, 18))));
        }
        return Ok((f, Format::Elf));
    }
    if head.len() >= 0x206 && u32_at(&head, hdr::HEADER) == 0x5372_6448 {
        let hdr_end = 0x202 + head[hdr::JUMP + 1] as usize;
        if head.len() < 0x270 || hdr_end > head.len() || hdr_end < 0x268 {
            return Err(bad("corrupt bzImage: truncated setup header".into()));
        }
        let version = u16_at(&head, hdr::VERSION);
        if version < 0x020c {
            return Err(bad(format!(
                "bzImage boot protocol {}.{:02} is too old (64-bit entry needs 2.12)",
                version >> 8,
                version & 0xff
            )));
        }
        if u16_at(&head, hdr::XLOADFLAGS) & hdr::XLF_KERNEL_64 == 0 {
            return Err(bad("bzImage has no 64-bit entry point (XLF_KERNEL_64 clear)".into()));
        }
        let setup_sects = match head[hdr::SETUP_SECTS] {
            0 => 4,
            n => n as u64,
        };
        if (setup_sects + 1) * 512 >= len {
            return Err(bad("corrupt bzImage: the setup sectors cover the whole file".into()));
        }
        if head[hdr::LOADFLAGS] & 1 == 0 {
            return Err(bad("corrupt bzImage: not loaded high (LOADED_HIGH clear)".into()));
        }
        return Ok((f, Format::BzImage { setup_header: head[hdr::SETUP_SECTS..hdr_end].to_vec() }));
    }
    if head.len() >= 0x206 && &head[0x1fe..0x200] == b"\x55\xaa" {
        return Err(bad("corrupt bzImage: boot sector found but no HdrS setup header".into()));
    }
    Err(bad("not an ELF64 or bzImage file".into()))
}

/// Checks that `path` is a kernel [`load_x86_kernel`] can boot, without loading it.
pub fn probe_x86_kernel(path: &Path) -> Result<(), LoaderError> {
    inspect(path).map(|_| ())
}

/// Loads an x86-64 kernel: ELF64 (PVH note or plain 64-bit entry) or bzImage.
pub fn load_x86_kernel(ram: &GuestRam, path: &Path) -> Result<Kernel, LoaderError> {
    let p = path.display().to_string();
    let io = |err| LoaderError::Io { what: "kernel", path: p.clone(), err };
    let bad = |msg: String| LoaderError::Format { what: "kernel", path: p.clone(), msg };
    let (mut f, format) = inspect(path)?;
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    match format {
        Format::Elf => {
            let r = Elf::load(ram.memory(), None, &mut f, None)
                .map_err(|e| bad(format!("cannot load ELF: {e} (a segment outside guest RAM?)")))?;
            match r.pvh_boot_cap {
                PvhBootCapability::PvhEntryPresent(GuestAddress(entry)) => {
                    if !ram.contains(entry, 1) {
                        return Err(bad(format!("PVH entry point {entry:#x} is not in guest RAM")));
                    }
                    Ok(Kernel::Pvh { entry, end: r.kernel_end })
                }
                _ => {
                    if !ram.contains(r.kernel_load.0, 1) {
                        return Err(bad(format!(
                            "ELF entry point {:#x} is not in guest RAM (a vmlinux needs a PVH note to boot)",
                            r.kernel_load.0
                        )));
                    }
                    Ok(Kernel::Elf64 { entry: r.kernel_load.0, end: r.kernel_end })
                }
            }
        }
        Format::BzImage { setup_header } => {
            let r = BzImage::load(ram.memory(), None, &mut f, None)
                .map_err(|e| bad(format!("corrupt bzImage: {e} (does it fit in guest RAM?)")))?;
            Ok(Kernel::BzImage { load_addr: r.kernel_load.0, end: r.kernel_end, setup_header })
        }
    }
}

/// Reads an initrd into RAM just below `limit` (page aligned); returns (address, size).
pub fn load_initrd(ram: &GuestRam, path: &Path, low: u64, limit: u64) -> Result<(u64, u64), LoaderError> {
    let p = path.display().to_string();
    let io = |err| LoaderError::Io { what: "initrd", path: p.clone(), err };
    let mut f = File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    let addr =
        limit.checked_sub(size).map(|a| a & !0xfff).filter(|&a| a >= low).ok_or_else(|| LoaderError::Format {
            what: "initrd",
            path: p.clone(),
            msg: format!("{size} bytes do not fit in guest RAM between the kernel and {limit:#x}"),
        })?;
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        ram.write(addr + off, &buf[..n]).map_err(|e| LoaderError::Format {
            what: "initrd",
            path: p.clone(),
            msg: e.to_string(),
        })?;
        off += n as u64;
    }
    Ok((addr, off))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(name: &str, data: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("remu-loader-{}-{name}", std::process::id()));
        std::fs::File::create(&p).unwrap().write_all(data).unwrap();
        p
    }

    #[test]
    fn rejects_garbage_and_corrupt_bzimage() {
        let ram = GuestRam::new(&[(0, 4 << 20)]).unwrap();
        let p = tmp("garbage", &[0x42; 4096]);
        let e = load_x86_kernel(&ram, &p).unwrap_err().to_string();
        assert!(e.contains("not an ELF64 or bzImage"), "{e}");

        let mut bz = vec![0u8; 8192];
        bz[0x1fe] = 0x55;
        bz[0x1ff] = 0xaa;
        let p = tmp("nohdrs", &bz);
        let e = load_x86_kernel(&ram, &p).unwrap_err().to_string();
        assert!(e.contains("corrupt bzImage"), "{e}");

        bz[hdr::HEADER..hdr::HEADER + 4].copy_from_slice(b"HdrS");
        bz[hdr::JUMP + 1] = 0x6a;
        bz[hdr::VERSION..hdr::VERSION + 2].copy_from_slice(&0x020fu16.to_le_bytes());
        bz[hdr::SETUP_SECTS] = 60; // 30 KiB of setup in an 8 KiB file
        bz[hdr::XLOADFLAGS] = 1;
        bz[hdr::LOADFLAGS] = 1;
        let p = tmp("shortsetup", &bz);
        let e = load_x86_kernel(&ram, &p).unwrap_err().to_string();
        assert!(e.contains("setup sectors cover the whole file"), "{e}");

        bz[hdr::XLOADFLAGS] = 0;
        let p2 = tmp("no64", &bz);
        let e = load_x86_kernel(&ram, &p2).unwrap_err().to_string();
        assert!(e.contains("no 64-bit entry"), "{e}");
        for f in [p, p2] {
            let _ = std::fs::remove_file(f);
        }
    }

    #[test]
    fn missing_file_names_the_path() {
        let ram = GuestRam::new(&[(0, 1 << 20)]).unwrap();
        let e = load_x86_kernel(&ram, Path::new("/nonexistent/k")).unwrap_err().to_string();
        assert!(e.starts_with("kernel '/nonexistent/k': "), "{e}");
    }

    #[test]
    fn initrd_goes_below_limit() {
        let ram = GuestRam::new(&[(0, 4 << 20)]).unwrap();
        let p = tmp("initrd", &[7u8; 5000]);
        let (a, s) = load_initrd(&ram, &p, 0x100000, 0x400000).unwrap();
        assert_eq!(s, 5000);
        assert_eq!(a, (0x400000 - 5000) & !0xfff);
        assert_eq!(ram.read_u8(a + 4999).unwrap(), 7);
        assert!(load_initrd(&ram, &p, 0x3ff000, 0x400000).is_err());
        let _ = std::fs::remove_file(p);
    }
}
