//! The CPUID a vCPU reports: KVM's supported set, with the topology made to match the
//! machine and a few features removed that a VM should not advertise.
//!
//! Changes (Intel SDM vol. 2A "CPUID"; AMD APM vol. 3 appendix E):
//! - leaf 1: initial APIC ID (EBX 31:24), logical processor count (EBX 23:16), HTT when
//!   there is more than one CPU, the hypervisor bit (ECX 31) set, MONITOR/MWAIT (ECX 3)
//!   cleared (an idle vCPU should HLT so KVM can deschedule it);
//! - leaf 4: cores per package (EAX 31:26) = count - 1;
//! - leaf 0xA: zeroed (no PMU is virtualized);
//! - leaves 0xB and 0x1F: a two-level topology (SMT of 1, `count` cores) with the x2APIC
//!   ID in EDX;
//! - AMD leaves 0x80000008 (ECX: core count and APIC ID size) and 0x8000001E (extended
//!   APIC ID, core ID) likewise.

use kvm_bindings::CpuId;

fn id_bits(count: u32) -> u32 {
    32 - count.saturating_sub(1).leading_zeros()
}

/// Adjusts `cpuid` (KVM's supported set) for vCPU `id` of `count`.
pub fn filter(cpuid: &mut CpuId, id: u32, count: u32) {
    let count = count.max(1);
    let bits = id_bits(count);
    for e in cpuid.as_mut_slice() {
        match e.function {
            1 => {
                e.ebx = (e.ebx & 0x0000_ffff) | (id << 24) | (count.min(255) << 16);
                e.ecx |= 1 << 31;
                e.ecx &= !(1 << 3);
                if count > 1 {
                    e.edx |= 1 << 28;
                } else {
                    e.edx &= !(1 << 28);
                }
            }
            4 => {
                e.eax = (e.eax & 0x03ff_ffff) | ((count - 1).min(63) << 26);
            }
            0xa => {
                e.eax = 0;
                e.ebx = 0;
                e.ecx = 0;
                e.edx = 0;
            }
            0xb | 0x1f => {
                let (eax, ebx, ecx) = match e.index {
                    0 => (0, 1, 0x100),
                    1 => (bits, count, 0x201),
                    i => (0, 0, i),
                };
                e.eax = eax;
                e.ebx = ebx;
                e.ecx = ecx;
                e.edx = id;
            }
            0x8000_0008 => {
                e.ecx = (e.ecx & !0xf0ff) | (bits << 12) | (count - 1).min(255);
            }
            0x8000_001e => {
                e.eax = id;
                e.ebx = id & 0xff;
                e.ecx = 0;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvm_bindings::kvm_cpuid_entry2;

    fn entry(function: u32, index: u32) -> kvm_cpuid_entry2 {
        kvm_cpuid_entry2 {
            function,
            index,
            eax: 0xffff_ffff,
            ebx: 0xffff_ffff,
            ecx: 0xffff_ffff,
            edx: 0xffff_ffff,
            ..Default::default()
        }
    }

    #[test]
    fn topology_matches_the_vcpu() {
        let mut c =
            CpuId::from_entries(&[entry(1, 0), entry(0xb, 0), entry(0xb, 1), entry(0xa, 0), entry(0x8000_001e, 0)])
                .unwrap();
        filter(&mut c, 2, 4);
        let s = c.as_slice();
        assert_eq!(s[0].ebx >> 24, 2);
        assert_eq!((s[0].ebx >> 16) & 0xff, 4);
        assert_ne!(s[0].ecx & (1 << 31), 0, "hypervisor bit");
        assert_eq!(s[0].ecx & (1 << 3), 0, "no MONITOR");
        assert_eq!((s[1].ebx, s[1].ecx, s[1].edx), (1, 0x100, 2));
        assert_eq!((s[2].eax, s[2].ebx, s[2].ecx, s[2].edx), (2, 4, 0x201, 2));
        assert_eq!(s[3].eax, 0);
        assert_eq!(s[4].eax, 2);
    }

    #[test]
    fn id_bits_rounds_up() {
        assert_eq!(id_bits(1), 0);
        assert_eq!(id_bits(2), 1);
        assert_eq!(id_bits(3), 2);
        assert_eq!(id_bits(4), 2);
        assert_eq!(id_bits(5), 3);
    }
}
