//! MSRs every vCPU starts with (Intel SDM vol. 4 for the numbers): system-call MSRs zero,
//! a TSC of zero, fast strings enabled in IA32_MISC_ENABLE, and MTRRs enabled with
//! write-back as the default type (Linux warns, and maps RAM uncached, without MTRRs).
//!
//! An MSR the host KVM refuses (kvm-pvm does not emulate every one) is skipped: none is
//! needed to run a guest, and the guest will find out by itself if it relies on one.

use kvm_bindings::{kvm_msr_entry, Msrs};
use kvm_ioctls::VcpuFd;

use crate::{ioctl_err, KvmError};

/// (MSR, value) pairs written at vCPU creation.
pub const BOOT_MSRS: &[(u32, u64)] = &[
    (0x174, 0),             // IA32_SYSENTER_CS
    (0x175, 0),             // IA32_SYSENTER_ESP
    (0x176, 0),             // IA32_SYSENTER_EIP
    (0xc000_0081, 0),       // STAR
    (0xc000_0082, 0),       // LSTAR
    (0xc000_0083, 0),       // CSTAR
    (0xc000_0084, 0),       // SFMASK
    (0xc000_0102, 0),       // KERNEL_GS_BASE
    (0x10, 0),              // IA32_TSC
    (0x1a0, 1),             // IA32_MISC_ENABLE: fast strings
    (0x2ff, (1 << 11) | 6), // IA32_MTRR_DEF_TYPE: enabled, write-back
];

/// Writes [`BOOT_MSRS`]; returns how many the host accepted.
pub fn set_boot_msrs(fd: &VcpuFd) -> Result<usize, KvmError> {
    let entries: Vec<kvm_msr_entry> =
        BOOT_MSRS.iter().map(|&(index, data)| kvm_msr_entry { index, data, ..Default::default() }).collect();
    let msrs = Msrs::from_entries(&entries)
        .map_err(|_| KvmError::Host { what: "building the MSR list", err: std::io::Error::other("too many MSRs") })?;
    let n = fd.set_msrs(&msrs).map_err(ioctl_err("KVM_SET_MSRS"))?;
    if n == entries.len() {
        return Ok(n);
    }
    // KVM stops at the first MSR it refuses: write the rest one by one, skipping refusals.
    let mut ok = n;
    for e in &entries[n + 1..] {
        if let Ok(one) = Msrs::from_entries(std::slice::from_ref(e)) {
            if fd.set_msrs(&one).map_err(ioctl_err("KVM_SET_MSRS"))? == 1 {
                ok += 1;
            }
        }
    }
    Ok(ok)
}
