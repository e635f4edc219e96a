//! Boot register state of an x86 vCPU: segment registers, control registers and EFER for
//! the entry mode the board asked for, general registers, the FPU, and the local APIC's
//! LINT0/LINT1 wiring.
//!
//! # Source
//! Intel SDM vol. 3A §9.8 "Initializing IA-32e mode" (CR0.PG + CR4.PAE + EFER.LME/LMA and
//! a 64-bit code segment), §3.4.5 segment descriptor fields; Linux boot.rst "64-bit boot
//! protocol"; Xen pvh.pandoc (32-bit flat protected mode, paging off, `ebx` = start info);
//! Intel SDM vol. 3A §10.5.1 (LVT delivery modes: ExtINT = 7, NMI = 4).

use kvm_bindings::{kvm_fpu, kvm_regs, kvm_segment};
use kvm_ioctls::VcpuFd;
use machine::accel::{x86_gdt, X86Boot, X86Mode};

use crate::{ioctl_err, KvmError};

const CR0_PE: u64 = 1;
const CR0_ET: u64 = 1 << 4;
const CR0_NE: u64 = 1 << 5;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;

/// A KVM segment from one of [`x86_gdt::ENTRIES`].
pub fn segment(selector: u16) -> kvm_segment {
    let d = x86_gdt::ENTRIES[(selector >> 3) as usize];
    let base = ((d >> 16) & 0xff_ffff) | (((d >> 56) & 0xff) << 24);
    let limit_raw = (d & 0xffff) | (((d >> 48) & 0xf) << 16);
    let g = ((d >> 55) & 1) as u8;
    kvm_segment {
        base,
        limit: if g == 1 { ((limit_raw << 12) | 0xfff) as u32 } else { limit_raw as u32 },
        selector,
        type_: ((d >> 40) & 0xf) as u8,
        present: ((d >> 47) & 1) as u8,
        dpl: ((d >> 45) & 3) as u8,
        db: ((d >> 54) & 1) as u8,
        s: ((d >> 44) & 1) as u8,
        l: ((d >> 53) & 1) as u8,
        g,
        avl: ((d >> 52) & 1) as u8,
        unusable: 0,
        padding: 0,
    }
}

/// Puts the boot CPU into the state `boot` describes.
pub fn set_boot_state(fd: &VcpuFd, boot: &X86Boot) -> Result<(), KvmError> {
    let mut s = fd.get_sregs().map_err(ioctl_err("KVM_GET_SREGS"))?;
    let data = segment(x86_gdt::DATA);
    s.ds = data;
    s.es = data;
    s.fs = data;
    s.gs = data;
    s.ss = data;
    s.gdt.base = boot.gdt_base;
    s.gdt.limit = boot.gdt_limit;
    match boot.mode {
        X86Mode::Long64 => {
            s.cs = segment(x86_gdt::CODE64);
            s.cr3 = boot.cr3;
            s.cr4 |= CR4_PAE;
            s.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
            s.efer |= EFER_LME | EFER_LMA;
        }
        X86Mode::Protected32 => {
            s.cs = segment(x86_gdt::CODE32);
            s.cr0 = CR0_PE | CR0_ET | CR0_NE;
            s.cr4 = 0;
            s.efer = 0;
        }
    }
    fd.set_sregs(&s).map_err(ioctl_err("KVM_SET_SREGS"))?;
    let regs = kvm_regs {
        rip: boot.rip,
        rsp: boot.rsp,
        rbp: boot.rsp,
        rsi: boot.rsi,
        rbx: boot.rbx,
        rflags: 2,
        ..Default::default()
    };
    fd.set_regs(&regs).map_err(ioctl_err("KVM_SET_REGS"))
}

/// x87 control word 0x37f and MXCSR 0x1f80, the power-on values.
pub fn set_fpu(fd: &VcpuFd) -> Result<(), KvmError> {
    let fpu = kvm_fpu { fcw: 0x37f, mxcsr: 0x1f80, ..Default::default() };
    fd.set_fpu(&fpu).map_err(ioctl_err("KVM_SET_FPU"))
}

const APIC_LVT0: usize = 0x350;
const APIC_LVT1: usize = 0x360;
const MODE_EXTINT: u32 = 7;
const MODE_NMI: u32 = 4;

fn lvt_with_mode(v: u32, mode: u32) -> u32 {
    (v & !0x700) | (mode << 8)
}

/// Wires LINT0 as ExtINT (the 8259s' virtual wire) and LINT1 as NMI, as a PC does.
pub fn set_lint(fd: &VcpuFd) -> Result<(), KvmError> {
    let mut l = fd.get_lapic().map_err(ioctl_err("KVM_GET_LAPIC"))?;
    for (off, mode) in [(APIC_LVT0, MODE_EXTINT), (APIC_LVT1, MODE_NMI)] {
        let b: [u8; 4] = std::array::from_fn(|i| l.regs[off + i] as u8);
        let v = lvt_with_mode(u32::from_le_bytes(b), mode);
        for (i, byte) in v.to_le_bytes().iter().enumerate() {
            l.regs[off + i] = *byte as _;
        }
    }
    fd.set_lapic(&l).map_err(ioctl_err("KVM_SET_LAPIC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_decode_the_boot_gdt() {
        let c64 = segment(x86_gdt::CODE64);
        assert_eq!((c64.l, c64.db, c64.type_, c64.present, c64.s), (1, 0, 0xb, 1, 1));
        assert_eq!(c64.limit, 0xffff_ffff);
        let c32 = segment(x86_gdt::CODE32);
        assert_eq!((c32.l, c32.db, c32.type_), (0, 1, 0xb));
        let d = segment(x86_gdt::DATA);
        assert_eq!((d.type_, d.db, d.g, d.base), (3, 1, 1, 0));
    }

    #[test]
    fn lvt_mode_replaces_delivery_mode_only() {
        assert_eq!(lvt_with_mode(0x0001_0000, MODE_EXTINT), 0x0001_0700);
        assert_eq!(lvt_with_mode(0x0000_0700, MODE_NMI), 0x0000_0400);
    }
}
