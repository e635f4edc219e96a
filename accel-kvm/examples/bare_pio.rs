//! The baseline of the benchmark's port-I/O row: the smallest possible KVM program, with
//! no machine model at all. A one-vCPU VM in 64-bit mode runs
//! `loop: out dx, al; dec rcx; jnz loop; hlt` and the host answers each exit by doing
//! nothing. Prints nanoseconds per exit.
//!
//! usage: cargo run --release -p accel-kvm --example bare_pio -- [EXITS] [--irqchip]
//!
//! With `--irqchip` the VM also has the in-kernel interrupt controllers, as every remu and
//! QEMU VM does (each exit then also syncs local APIC state).
//!
//! Built only on kvm-ioctls, kvm-bindings and vm-memory, as a reference for what an exit
//! costs on this host; remu's own exit path should stay within 10% of it.

use std::time::Instant;

use kvm_bindings::{kvm_segment, kvm_userspace_memory_region, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Kvm, VcpuExit};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(20000);
    let irqchip = std::env::args().any(|a| a == "--irqchip");
    let kvm = Kvm::new()?;
    let vm = kvm.create_vm()?;
    if irqchip {
        vm.create_irq_chip()?;
    }
    let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 4 << 20)])?;
    let r = mem.iter().next().ok_or("no region")?;
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: r.len(),
        userspace_addr: r.as_ptr() as u64,
    };
    // SAFETY: the region is a live mapping owned by `mem`, which outlives the VM (both are
    // dropped at the end of main, the VM first).
    unsafe { vm.set_user_memory_region(region)? };
    // Identity map of the first 1 GiB with 2 MiB pages: PML4 0x1000, PDPT 0x2000, PD 0x3000.
    mem.write_obj(0x2003u64, GuestAddress(0x1000))?;
    mem.write_obj(0x3003u64, GuestAddress(0x2000))?;
    for i in 0..512u64 {
        mem.write_obj((i << 21) | 0x83, GuestAddress(0x3000 + i * 8))?;
    }
    // out dx, al; dec rcx; jnz -6; hlt
    mem.write_slice(&[0xee, 0x48, 0xff, 0xc9, 0x75, 0xfa, 0xf4], GuestAddress(0x10000))?;

    let mut vcpu = vm.create_vcpu(0)?;
    vcpu.set_cpuid2(&kvm.get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)?)?;
    let mut s = vcpu.get_sregs()?;
    let code = kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector: 0x10,
        type_: 11,
        present: 1,
        dpl: 0,
        db: 0,
        s: 1,
        l: 1,
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    };
    let data = kvm_segment { selector: 0x18, type_: 3, db: 1, l: 0, ..code };
    s.cs = code;
    s.ds = data;
    s.es = data;
    s.ss = data;
    s.cr3 = 0x1000;
    s.cr4 |= 1 << 5;
    s.cr0 = 0x8000_0031;
    s.efer |= (1 << 8) | (1 << 10);
    vcpu.set_sregs(&s)?;
    let mut regs = vcpu.get_regs()?;
    regs.rip = 0x10000;
    regs.rflags = 2;
    regs.rcx = n;
    regs.rdx = 0x3ff;
    vcpu.set_regs(&regs)?;

    let t = Instant::now();
    let mut exits = 0u64;
    loop {
        match vcpu.run()? {
            VcpuExit::IoOut(..) => {
                exits += 1;
                if exits == n {
                    break;
                }
            }
            VcpuExit::Hlt => break,
            e => return Err(format!("unexpected exit {e:?}").into()),
        }
    }
    let dt = t.elapsed();
    let what = if irqchip { "with irqchip" } else { "without irqchip" };
    println!(
        "bare kvm-ioctls loop ({what}): {exits} port-I/O exits, {:.0} ns each",
        dt.as_nanos() as f64 / exits.max(1) as f64
    );
    Ok(())
}
