//! What one CPU sees at a guest physical address: RAM, else an MMIO device, else nothing.
//!
//! This is the slow-path view for accelerators that emulate loads and stores (accel-tcg's
//! softmmu refill and I/O path). KVM does not use it: RAM is in memory slots and only MMIO
//! exits reach the bus. QEMU analogue: `address_space_rw` over a `FlatView`.

use std::sync::Arc;

use crate::bus::{AccessSize, Bus, Endian, MmioDevice};
use crate::memory::GuestRam;

/// The result of looking an address up.
pub enum Target<'a> {
    /// RAM: the address is `offset` bytes into RAM (use [`GuestRam`] accessors).
    Ram,
    /// An MMIO device and the offset inside it.
    Mmio(&'a Arc<dyn MmioDevice>, u64),
    /// Nothing is mapped.
    Unassigned,
}

/// RAM plus the MMIO bus.
#[derive(Clone)]
pub struct AddressSpace {
    /// Guest RAM.
    pub ram: Arc<GuestRam>,
    /// MMIO devices.
    pub mmio: Arc<Bus<dyn MmioDevice>>,
}

impl AddressSpace {
    /// Looks `addr` up for an access of `len` bytes.
    pub fn lookup(&self, addr: u64, len: u64) -> Target<'_> {
        if self.ram.contains(addr, len) {
            return Target::Ram;
        }
        match self.mmio.find(addr) {
            Some((d, off)) => Target::Mmio(d, off),
            None => Target::Unassigned,
        }
    }

    /// A load of `size` bytes in byte order `endian`. `None` if nothing is mapped.
    pub fn read(&self, addr: u64, size: AccessSize, endian: Endian) -> Option<u64> {
        if self.ram.contains(addr, size.bytes() as u64) {
            let mut b = [0u8; 8];
            self.ram.read(addr, &mut b[..size.bytes()]).ok()?;
            return Some(crate::bus::bytes_to_value(&b[..size.bytes()], endian));
        }
        self.mmio.read(addr, size, endian)
    }

    /// A store of `size` bytes in byte order `endian`. False if nothing is mapped.
    pub fn write(&self, addr: u64, size: AccessSize, endian: Endian, value: u64) -> bool {
        if self.ram.contains(addr, size.bytes() as u64) {
            let mut b = [0u8; 8];
            crate::bus::value_to_bytes(value, &mut b[..size.bytes()], endian);
            return self.ram.write(addr, &b[..size.bytes()]).is_ok();
        }
        self.mmio.write(addr, size, endian, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::BusBuilder;

    struct Echo;
    impl MmioDevice for Echo {
        fn endian(&self) -> Endian {
            Endian::Big
        }
        fn read(&self, offset: u64, _size: AccessSize) -> u64 {
            0xa0b0_c0d0 + offset
        }
        fn write(&self, _offset: u64, _size: AccessSize, _value: u64) {}
    }

    #[test]
    fn ram_then_mmio_then_nothing() {
        let ram = Arc::new(GuestRam::new(&[(0, 0x1000)]).unwrap());
        let mut b = BusBuilder::<dyn MmioDevice>::new();
        b.insert(0x1_0000, 0x100, "echo", Arc::new(Echo)).unwrap();
        let asp = AddressSpace { ram, mmio: Arc::new(b.build()) };
        assert!(asp.write(0x10, AccessSize::B4, Endian::Big, 0x0102_0304));
        assert_eq!(asp.read(0x10, AccessSize::B4, Endian::Little), Some(0x0403_0201));
        assert_eq!(asp.read(0x1_0000, AccessSize::B4, Endian::Big), Some(0xa0b0_c0d0));
        assert_eq!(asp.read(0x1_0000, AccessSize::B4, Endian::Little), Some(0xd0c0_b0a0));
        assert_eq!(asp.read(0x2_0000, AccessSize::B1, Endian::Little), None);
        assert!(matches!(asp.lookup(0xffe, 4), Target::Unassigned));
    }
}
