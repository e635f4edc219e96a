//! x86-64 specifics of a KVM vCPU: CPUID ([`cpuid`]), MSRs ([`msr`]), registers, FPU and
//! local APIC at boot ([`regs`]), and reading guest memory by virtual address for crash
//! reports ([`walk`]).

pub mod cpuid;
pub mod msr;
pub mod regs;
pub mod walk;
