//! Reading guest memory at a guest *virtual* address, for crash reports (the instruction
//! bytes at `rip`).
//!
//! Tries KVM_TRANSLATE first; when that is unavailable (kvm-pvm does not implement it for
//! every mode) walks the 4-level page tables itself from CR3. Only reads, only RAM; any
//! failure gives up quietly, since this runs when the guest is already dead.
//!
//! # Source
//! Intel SDM vol. 3A §4.5 "4-level paging" (PS bit for 1 GiB and 2 MiB pages).

use kvm_ioctls::VcpuFd;
use machine::bus::Endian::Little;
use machine::memory::GuestRam;

const PRESENT: u64 = 1;
const PS: u64 = 1 << 7;
const ADDR: u64 = 0x000f_ffff_ffff_f000;

/// Translates `va` with 4-level paging rooted at `cr3`.
pub fn walk4(ram: &GuestRam, cr3: u64, va: u64) -> Option<u64> {
    let mut table = cr3 & ADDR;
    for level in (0..4).rev() {
        let shift = 12 + 9 * level;
        let idx = (va >> shift) & 0x1ff;
        let e = ram.read_u64(table + idx * 8, Little).ok()?;
        if e & PRESENT == 0 {
            return None;
        }
        if level > 0 && level < 3 && e & PS != 0 {
            let mask = (1u64 << shift) - 1;
            return Some((e & ADDR & !mask) | (va & mask));
        }
        table = e & ADDR;
    }
    Some(table | (va & 0xfff))
}

/// Up to 15 bytes of guest code at linear address `va`.
pub fn code_bytes(fd: &VcpuFd, ram: &GuestRam, va: u64) -> Vec<u8> {
    let sregs = fd.get_sregs().ok();
    let paging = sregs.map(|s| s.cr0 & (1 << 31) != 0).unwrap_or(false);
    let mut out = Vec::new();
    for i in 0..15u64 {
        let v = va.wrapping_add(i);
        let pa = if !paging {
            Some(v)
        } else {
            fd.translate_gva(v)
                .ok()
                .filter(|t| t.valid != 0)
                .map(|t| t.physical_address)
                .or_else(|| sregs.and_then(|s| walk4(ram, s.cr3, v)))
        };
        match pa.and_then(|p| ram.read_u8(p).ok()) {
            Some(b) => out.push(b),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_4k_and_2m_pages() {
        let ram = GuestRam::new(&[(0, 1 << 22)]).unwrap();
        // PML4 at 0x1000 -> PDPT 0x2000 -> PD 0x3000: entry 0 -> PT 0x4000, entry 1 2 MiB page.
        ram.write_u64(0x1000, 0x2003, Little).unwrap();
        ram.write_u64(0x2000, 0x3003, Little).unwrap();
        ram.write_u64(0x3000, 0x4003, Little).unwrap();
        ram.write_u64(0x3008, 0x20_0083, Little).unwrap();
        ram.write_u64(0x4000 + 5 * 8, 0x9003, Little).unwrap();
        assert_eq!(walk4(&ram, 0x1000, 0x5123), Some(0x9123));
        assert_eq!(walk4(&ram, 0x1000, 0x20_1234), Some(0x20_1234));
        assert_eq!(walk4(&ram, 0x1000, 0x6000), None);
        assert_eq!(walk4(&ram, 0x1000, 0x4000_0000), None);
    }
}
