//! Guest RAM: one anonymous host mapping per RAM range, through vm-memory's
//! `GuestMemoryMmap` (which the virtio-queue crate also reads rings through).
//!
//! Mappings are `MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE`, so a 512 MiB guest costs host
//! memory only for the pages it touches. Every access names its byte order
//! (`read_u32(addr, Endian::Little)`); every access is bounds-checked and a guest address
//! outside RAM is an `Err`, never a host fault. The host addresses of the mappings are
//! handed out only as numbers ([`RamRegion::host_addr`]) for accelerators that map guest RAM
//! themselves (KVM memory slots); whoever dereferences them owns that `unsafe`.

use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

use crate::bus::Endian;

/// RAM set-up or access failure.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// The guest range is not entirely RAM.
    #[error("guest address range {addr:#x}+{len:#x} is not RAM")]
    OutOfRange {
        /// First byte.
        addr: u64,
        /// Length in bytes.
        len: u64,
    },
    /// The host could not map the RAM.
    #[error("cannot allocate guest RAM: {0}")]
    Alloc(String),
}

/// One contiguous RAM range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RamRegion {
    /// Guest physical address of the first byte.
    pub gpa: u64,
    /// Size in bytes.
    pub size: u64,
    /// Host virtual address of the first byte, valid as long as the [`GuestRam`] lives.
    pub host_addr: u64,
}

/// All RAM of one machine.
#[derive(Debug)]
pub struct GuestRam {
    mem: GuestMemoryMmap<()>,
}

impl GuestRam {
    /// Maps RAM for the given `(guest address, size)` ranges (sizes page-aligned, ranges
    /// disjoint).
    pub fn new(ranges: &[(u64, u64)]) -> Result<Self, MemoryError> {
        let r: Vec<(GuestAddress, usize)> = ranges.iter().map(|&(a, s)| (GuestAddress(a), s as usize)).collect();
        let mem = GuestMemoryMmap::from_ranges(&r).map_err(|e| MemoryError::Alloc(e.to_string()))?;
        Ok(Self { mem })
    }

    /// The vm-memory view (for virtio-queue and loaders built on vm-memory).
    pub fn memory(&self) -> &GuestMemoryMmap<()> {
        &self.mem
    }

    /// The RAM ranges in address order.
    pub fn regions(&self) -> Vec<RamRegion> {
        self.mem
            .iter()
            .map(|r| RamRegion { gpa: r.start_addr().0, size: r.len(), host_addr: r.as_ptr() as u64 })
            .collect()
    }

    /// Total RAM in bytes.
    pub fn size(&self) -> u64 {
        self.mem.iter().map(|r| r.len()).sum()
    }

    /// Whether `[addr, addr + len)` is entirely RAM.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        len <= usize::MAX as u64 && self.mem.check_range(GuestAddress(addr), len as usize)
    }

    fn oor(addr: u64, len: usize) -> MemoryError {
        MemoryError::OutOfRange { addr, len: len as u64 }
    }

    /// Copies guest RAM at `addr` into `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.mem.read_slice(buf, GuestAddress(addr)).map_err(|_| Self::oor(addr, buf.len()))
    }

    /// Copies `buf` into guest RAM at `addr`.
    pub fn write(&self, addr: u64, buf: &[u8]) -> Result<(), MemoryError> {
        self.mem.write_slice(buf, GuestAddress(addr)).map_err(|_| Self::oor(addr, buf.len()))
    }

    /// Fills `[addr, addr + len)` with zeros.
    pub fn zero(&self, addr: u64, len: u64) -> Result<(), MemoryError> {
        const Z: [u8; 4096] = [0; 4096];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(4096) as usize;
            self.write(addr + done, &Z[..n])?;
            done += n as u64;
        }
        Ok(())
    }

    /// Reads `N` bytes.
    fn read_array<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemoryError> {
        let mut b = [0u8; N];
        self.read(addr, &mut b)?;
        Ok(b)
    }

    /// Reads a byte.
    pub fn read_u8(&self, addr: u64) -> Result<u8, MemoryError> {
        Ok(self.read_array::<1>(addr)?[0])
    }

    /// Reads a 16-bit value in byte order `e`.
    pub fn read_u16(&self, addr: u64, e: Endian) -> Result<u16, MemoryError> {
        let b = self.read_array(addr)?;
        Ok(match e {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }

    /// Reads a 32-bit value in byte order `e`.
    pub fn read_u32(&self, addr: u64, e: Endian) -> Result<u32, MemoryError> {
        let b = self.read_array(addr)?;
        Ok(match e {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }

    /// Reads a 64-bit value in byte order `e`.
    pub fn read_u64(&self, addr: u64, e: Endian) -> Result<u64, MemoryError> {
        let b = self.read_array(addr)?;
        Ok(match e {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }

    /// Writes a byte.
    pub fn write_u8(&self, addr: u64, v: u8) -> Result<(), MemoryError> {
        self.write(addr, &[v])
    }

    /// Writes a 16-bit value in byte order `e`.
    pub fn write_u16(&self, addr: u64, v: u16, e: Endian) -> Result<(), MemoryError> {
        match e {
            Endian::Little => self.write(addr, &v.to_le_bytes()),
            Endian::Big => self.write(addr, &v.to_be_bytes()),
        }
    }

    /// Writes a 32-bit value in byte order `e`.
    pub fn write_u32(&self, addr: u64, v: u32, e: Endian) -> Result<(), MemoryError> {
        match e {
            Endian::Little => self.write(addr, &v.to_le_bytes()),
            Endian::Big => self.write(addr, &v.to_be_bytes()),
        }
    }

    /// Writes a 64-bit value in byte order `e`.
    pub fn write_u64(&self, addr: u64, v: u64, e: Endian) -> Result<(), MemoryError> {
        match e {
            Endian::Little => self.write(addr, &v.to_le_bytes()),
            Endian::Big => self.write(addr, &v.to_be_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_bounds() {
        let ram = GuestRam::new(&[(0, 0x10000), (0x100000, 0x1000)]).unwrap();
        assert_eq!(ram.size(), 0x11000);
        assert_eq!(ram.regions().len(), 2);
        assert!(ram.contains(0xfff0, 0x10));
        assert!(!ram.contains(0xfff0, 0x11));
        assert!(!ram.contains(0x20000, 1));
        assert!(ram.write(0xfffe, &[1, 2, 3]).is_err());
        assert!(ram.read_u32(0x100ffd, Endian::Little).is_err());
    }

    #[test]
    fn endian_helpers() {
        let ram = GuestRam::new(&[(0, 0x1000)]).unwrap();
        ram.write_u32(0x10, 0x1122_3344, Endian::Big).unwrap();
        assert_eq!(ram.read_u8(0x10).unwrap(), 0x11);
        assert_eq!(ram.read_u32(0x10, Endian::Little).unwrap(), 0x4433_2211);
        ram.write_u64(0x20, 0x0102_0304_0506_0708, Endian::Little).unwrap();
        assert_eq!(ram.read_u16(0x20, Endian::Big).unwrap(), 0x0807);
        ram.zero(0x10, 0x18).unwrap();
        assert_eq!(ram.read_u64(0x20, Endian::Little).unwrap(), 0);
    }
}
