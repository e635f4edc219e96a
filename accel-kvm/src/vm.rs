//! VM-level set-up: the machine's RAM regions become KVM memory slots.
//!
//! One slot per [`machine::memory::RamRegion`], numbered in address order. The host
//! mappings belong to the machine's `GuestRam`; every holder of a vCPU or of the VM keeps an
//! `Arc` of it, so the memory KVM writes into outlives every guest access. Registered RAM
//! is `MADV_DONTFORK`.

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::VmFd;
use machine::memory::GuestRam;

use crate::{ioctl_err, KvmError};

/// Registers every RAM region of `ram` as a memory slot of `vm`.
pub fn map_ram(vm: &VmFd, ram: &GuestRam) -> Result<(), KvmError> {
    for (slot, r) in ram.regions().into_iter().enumerate() {
        let region = kvm_userspace_memory_region {
            slot: slot as u32,
            flags: 0,
            guest_phys_addr: r.gpa,
            memory_size: r.size,
            userspace_addr: r.host_addr,
        };
        // SAFETY: `host_addr..host_addr + size` is a live anonymous mapping owned by `ram`'s
        // GuestMemoryMmap. KvmAccel and every KvmVcpu hold an Arc<GuestRam>, so the mapping
        // outlives all guest execution; regions are disjoint, so slots do not overlap.
        unsafe { vm.set_user_memory_region(region) }.map_err(ioctl_err("KVM_SET_USER_MEMORY_REGION"))?;
        // Guest RAM is not inherited by forks (the child of `teardown`, or any helper a
        // user's configuration may spawn): a fork neither copies its page tables nor
        // turns the pages KVM maps copy-on-write.
        // SAFETY: advice on a mapping owned by `ram`; it changes no contents.
        unsafe { libc::madvise(r.host_addr as *mut libc::c_void, r.size as usize, libc::MADV_DONTFORK) };
    }
    Ok(())
}
