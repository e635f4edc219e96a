//! The MMIO and port-I/O buses: which device answers which guest address.
//!
//! A [`Bus`] is built once while the board is put together ([`BusBuilder`]) and is read-only
//! afterwards, so vCPU threads look a device up without any lock; each device protects its
//! own state. QEMU's `MemoryRegionOps` and Firecracker's `devices/src/bus.rs` are the
//! analogues; unlike QEMU there is no overlap priority: two devices on one address is a board
//! bug reported by [`BusBuilder::insert`].
//!
//! Byte order is stated once per device ([`MmioDevice::endian`]): accelerators that hand over
//! raw bytes (KVM's `kvm_run` MMIO data) convert with [`bytes_to_value`] / [`value_to_bytes`],
//! accelerators that carry a value plus a byte order (TCG's MemOp) swap only when the two
//! orders differ ([`Endian::convert`]).

use std::fmt;
use std::sync::Arc;

/// Width of one bus access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessSize {
    /// 1 byte.
    B1,
    /// 2 bytes.
    B2,
    /// 4 bytes.
    B4,
    /// 8 bytes.
    B8,
}

impl AccessSize {
    /// The size for an access of `len` bytes, if it is 1, 2, 4 or 8.
    pub fn from_len(len: usize) -> Option<Self> {
        match len {
            1 => Some(Self::B1),
            2 => Some(Self::B2),
            4 => Some(Self::B4),
            8 => Some(Self::B8),
            _ => None,
        }
    }

    /// Number of bytes.
    pub fn bytes(self) -> usize {
        match self {
            Self::B1 => 1,
            Self::B2 => 2,
            Self::B4 => 4,
            Self::B8 => 8,
        }
    }

    /// All-ones value of this width (what an unassigned port reads as).
    pub fn mask(self) -> u64 {
        match self {
            Self::B8 => u64::MAX,
            s => (1u64 << (8 * s.bytes())) - 1,
        }
    }
}

/// Byte order of one access or of one device's registers. Absolute: there is no "native".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Least significant byte at the lowest address.
    Little,
    /// Most significant byte at the lowest address.
    Big,
}

impl Endian {
    /// Converts `value` of width `size` from byte order `self` to byte order `to`: a byte swap
    /// exactly when the two differ.
    pub fn convert(self, to: Endian, size: AccessSize, value: u64) -> u64 {
        if self == to {
            return value;
        }
        match size {
            AccessSize::B1 => value & 0xff,
            AccessSize::B2 => (value as u16).swap_bytes() as u64,
            AccessSize::B4 => (value as u32).swap_bytes() as u64,
            AccessSize::B8 => value.swap_bytes(),
        }
    }
}

/// Decodes the bytes of one access (1, 2, 4 or 8 long) as a value in byte order `e`.
pub fn bytes_to_value(data: &[u8], e: Endian) -> u64 {
    let mut buf = [0u8; 8];
    let n = data.len().min(8);
    match e {
        Endian::Little => {
            buf[..n].copy_from_slice(&data[..n]);
            u64::from_le_bytes(buf)
        }
        Endian::Big => {
            buf[8 - n..].copy_from_slice(&data[..n]);
            u64::from_be_bytes(buf)
        }
    }
}

/// Encodes `value` into `data` (1, 2, 4 or 8 bytes) in byte order `e`.
pub fn value_to_bytes(value: u64, data: &mut [u8], e: Endian) {
    let n = data.len().min(8);
    match e {
        Endian::Little => data[..n].copy_from_slice(&value.to_le_bytes()[..n]),
        Endian::Big => data[..n].copy_from_slice(&value.to_be_bytes()[8 - n..]),
    }
}

/// A device reached through memory-mapped I/O. `offset` is relative to the device's base.
pub trait MmioDevice: Send + Sync {
    /// Byte order of the device's registers (QEMU `MemoryRegionOps.endianness`).
    fn endian(&self) -> Endian {
        Endian::Little
    }
    /// A guest read; the result is truncated to `size`.
    fn read(&self, offset: u64, size: AccessSize) -> u64;
    /// A guest write of `value` (already truncated to `size`).
    fn write(&self, offset: u64, size: AccessSize, value: u64);
}

/// A device reached through x86 port I/O (always little-endian).
pub trait PioDevice: Send + Sync {
    /// A guest `in` of `size` bytes at `offset` from the device's first port.
    fn read(&self, offset: u16, size: AccessSize) -> u32;
    /// A guest `out`.
    fn write(&self, offset: u16, size: AccessSize, value: u32);
}

/// A board put two devices on overlapping ranges.
#[derive(Debug, thiserror::Error)]
#[error("bus range {new_base:#x}+{new_len:#x} ({new_name}) overlaps {old_base:#x}+{old_len:#x} ({old_name})")]
pub struct OverlapError {
    new_base: u64,
    new_len: u64,
    new_name: String,
    old_base: u64,
    old_len: u64,
    old_name: String,
}

struct Entry<D: ?Sized> {
    base: u64,
    len: u64,
    name: String,
    dev: Arc<D>,
}

/// Collects devices while a board is assembled.
pub struct BusBuilder<D: ?Sized> {
    entries: Vec<Entry<D>>,
}

impl<D: ?Sized> Default for BusBuilder<D> {
    fn default() -> Self {
        Self { entries: Vec::new() }
    }
}

impl<D: ?Sized> BusBuilder<D> {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `dev` at `[base, base + len)`.
    pub fn insert(&mut self, base: u64, len: u64, name: &str, dev: Arc<D>) -> Result<(), OverlapError> {
        let end = base.saturating_add(len);
        if let Some(e) = self.entries.iter().find(|e| base < e.base.saturating_add(e.len) && e.base < end) {
            return Err(OverlapError {
                new_base: base,
                new_len: len,
                new_name: name.to_string(),
                old_base: e.base,
                old_len: e.len,
                old_name: e.name.clone(),
            });
        }
        self.entries.push(Entry { base, len, name: name.to_string(), dev });
        Ok(())
    }

    /// Freezes the bus.
    pub fn build(mut self) -> Bus<D> {
        self.entries.sort_by_key(|e| e.base);
        Bus { entries: self.entries }
    }
}

/// An immutable address map from ranges to devices.
pub struct Bus<D: ?Sized> {
    entries: Vec<Entry<D>>,
}

impl<D: ?Sized> Default for Bus<D> {
    fn default() -> Self {
        Self { entries: Vec::new() }
    }
}

impl<D: ?Sized> fmt::Debug for Bus<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for e in &self.entries {
            l.entry(&format_args!("{:#x}+{:#x} {}", e.base, e.len, e.name));
        }
        l.finish()
    }
}

impl<D: ?Sized> Bus<D> {
    /// The device covering `addr`, with `addr`'s offset inside it. An access that starts in a
    /// device but runs past its end is still given to that device (as QEMU does).
    pub fn find(&self, addr: u64) -> Option<(&Arc<D>, u64)> {
        let i = self.entries.partition_point(|e| e.base <= addr);
        let e = self.entries.get(i.checked_sub(1)?)?;
        let off = addr - e.base;
        (off < e.len).then_some((&e.dev, off))
    }

    /// `(base, len, name)` of every device, in address order.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64, &str)> {
        self.entries.iter().map(|e| (e.base, e.len, e.name.as_str()))
    }
}

impl Bus<dyn MmioDevice> {
    /// Serves an MMIO read whose result goes into `data` (KVM's raw-byte form). Returns false
    /// if no device is mapped there (the bytes are then zero).
    pub fn read_bytes(&self, addr: u64, data: &mut [u8]) -> bool {
        let Some((dev, off)) = self.find(addr) else {
            data.fill(0);
            return false;
        };
        match AccessSize::from_len(data.len()) {
            Some(size) => {
                let v = dev.read(off, size) & size.mask();
                value_to_bytes(v, data, dev.endian());
            }
            None => {
                // Odd widths (3 bytes, 16-byte SSE moves) become byte accesses.
                for (i, b) in data.iter_mut().enumerate() {
                    *b = dev.read(off + i as u64, AccessSize::B1) as u8;
                }
            }
        }
        true
    }

    /// Serves an MMIO write given as raw bytes. Returns false if nothing is mapped there.
    pub fn write_bytes(&self, addr: u64, data: &[u8]) -> bool {
        let Some((dev, off)) = self.find(addr) else {
            return false;
        };
        match AccessSize::from_len(data.len()) {
            Some(size) => dev.write(off, size, bytes_to_value(data, dev.endian())),
            None => {
                for (i, b) in data.iter().enumerate() {
                    dev.write(off + i as u64, AccessSize::B1, *b as u64);
                }
            }
        }
        true
    }

    /// Serves a read carrying a byte order (TCG's form): the device's value is swapped iff
    /// `endian` differs from the device's. `None` if nothing is mapped there.
    pub fn read(&self, addr: u64, size: AccessSize, endian: Endian) -> Option<u64> {
        let (dev, off) = self.find(addr)?;
        let v = dev.read(off, size) & size.mask();
        Some(dev.endian().convert(endian, size, v))
    }

    /// Serves a write carrying a byte order. Returns false if nothing is mapped there.
    pub fn write(&self, addr: u64, size: AccessSize, endian: Endian, value: u64) -> bool {
        let Some((dev, off)) = self.find(addr) else {
            return false;
        };
        dev.write(off, size, endian.convert(dev.endian(), size, value & size.mask()));
        true
    }
}

impl Bus<dyn PioDevice> {
    /// Serves an `in`; unassigned ports read as all ones, as on a PC. Returns false if nothing
    /// is mapped there.
    pub fn read_bytes(&self, port: u16, data: &mut [u8]) -> bool {
        let Some((dev, off)) = self.find(port as u64) else {
            data.fill(0xff);
            return false;
        };
        let off = off as u16;
        match AccessSize::from_len(data.len()) {
            Some(size) if size != AccessSize::B8 => {
                let v = dev.read(off, size) as u64 & size.mask();
                value_to_bytes(v, data, Endian::Little);
            }
            _ => {
                for (i, b) in data.iter_mut().enumerate() {
                    *b = dev.read(off.wrapping_add(i as u16), AccessSize::B1) as u8;
                }
            }
        }
        true
    }

    /// Serves an `out`. Returns false if nothing is mapped there.
    pub fn write_bytes(&self, port: u16, data: &[u8]) -> bool {
        let Some((dev, off)) = self.find(port as u64) else {
            return false;
        };
        let off = off as u16;
        match AccessSize::from_len(data.len()) {
            Some(size) if size != AccessSize::B8 => dev.write(off, size, bytes_to_value(data, Endian::Little) as u32),
            _ => {
                for (i, b) in data.iter().enumerate() {
                    dev.write(off.wrapping_add(i as u16), AccessSize::B1, *b as u32);
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Reg {
        endian: Endian,
        last: Mutex<Vec<(u64, AccessSize, u64)>>,
    }
    impl MmioDevice for Reg {
        fn endian(&self) -> Endian {
            self.endian
        }
        fn read(&self, offset: u64, _size: AccessSize) -> u64 {
            0x1122_3344_5566_7788 + offset
        }
        fn write(&self, offset: u64, size: AccessSize, value: u64) {
            self.last.lock().unwrap().push((offset, size, value));
        }
    }

    fn bus(endian: Endian) -> (Bus<dyn MmioDevice>, Arc<Reg>) {
        let r = Arc::new(Reg { endian, last: Mutex::new(vec![]) });
        let mut b = BusBuilder::<dyn MmioDevice>::new();
        b.insert(0x1000, 0x100, "reg", r.clone()).unwrap();
        (b.build(), r)
    }

    #[test]
    fn find_respects_bounds() {
        let (b, _) = bus(Endian::Little);
        assert!(b.find(0xfff).is_none());
        assert_eq!(b.find(0x1000).unwrap().1, 0);
        assert_eq!(b.find(0x10ff).unwrap().1, 0xff);
        assert!(b.find(0x1100).is_none());
    }

    #[test]
    fn overlap_is_rejected() {
        let mut b = BusBuilder::<dyn MmioDevice>::new();
        let r = Arc::new(Reg { endian: Endian::Little, last: Mutex::new(vec![]) });
        b.insert(0x1000, 0x100, "a", r.clone()).unwrap();
        let e = b.insert(0x10f0, 0x10, "b", r.clone()).unwrap_err();
        assert!(e.to_string().contains("overlaps"), "{e}");
        b.insert(0x1100, 0x10, "c", r).unwrap();
    }

    #[test]
    fn raw_bytes_follow_device_endianness() {
        let (le, r) = bus(Endian::Little);
        let mut d = [0u8; 4];
        assert!(le.read_bytes(0x1000, &mut d));
        assert_eq!(d, [0x88, 0x77, 0x66, 0x55]);
        le.write_bytes(0x1004, &[1, 2, 3, 4]);
        assert_eq!(r.last.lock().unwrap()[0], (4, AccessSize::B4, 0x0403_0201));

        let (be, r) = bus(Endian::Big);
        be.read_bytes(0x1000, &mut d);
        assert_eq!(d, [0x55, 0x66, 0x77, 0x88]);
        be.write_bytes(0x1000, &[1, 2]);
        assert_eq!(r.last.lock().unwrap()[0], (0, AccessSize::B2, 0x0102));
    }

    #[test]
    fn value_access_swaps_only_on_mismatch() {
        let (be, r) = bus(Endian::Big);
        assert_eq!(be.read(0x1000, AccessSize::B4, Endian::Big), Some(0x5566_7788));
        assert_eq!(be.read(0x1000, AccessSize::B4, Endian::Little), Some(0x8877_6655));
        be.write(0x1000, AccessSize::B2, Endian::Little, 0xaabb);
        assert_eq!(r.last.lock().unwrap()[0], (0, AccessSize::B2, 0xbbaa));
        assert_eq!(be.read(0x2000, AccessSize::B1, Endian::Big), None);
    }

    #[test]
    fn unassigned_ports_read_all_ones() {
        let b = BusBuilder::<dyn PioDevice>::new().build();
        let mut d = [0u8; 2];
        assert!(!b.read_bytes(0x80, &mut d));
        assert_eq!(d, [0xff, 0xff]);
        assert!(!b.write_bytes(0x80, &[1]));
    }
}
