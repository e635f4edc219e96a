//! Booting Debian's x86-64 kernel (bzImage through the 64-bit boot protocol, vmlinux
//! through PVH) under `remu system -M microvm -accel kvm`, up to the initramfs marker
//! `GUEST-BOOT-OK` and the ACPI power-off after it.
//!
//! These need hardware-backed KVM (`kvm_intel` or `kvm_amd` loaded): under kvm-pvm the
//! kernel does not boot (guest supervisor code is emulated one instruction at a time and
//! some instructions fail), so there each test prints
//! `skipped: /dev/kvm is kvm-pvm (software), Linux boot needs hardware KVM`.
//! The kernels and initramfs come from the guest asset kit (shared/guests/fetch.sh DIR);
//! set `REMU_GUEST_ASSETS=DIR`. On a hardware-KVM host a missing kit fails the test.

use std::path::PathBuf;

use super::kvm::{kvm_usable, run_remu, scratch, Output};

/// The x86_64 asset directory, or None after printing why the test does not run.
fn linux_assets(test: &str) -> Option<PathBuf> {
    if !kvm_usable(test) {
        return None;
    }
    if !accel_kvm::is_hardware_backed() {
        if accel_kvm::is_pvm() {
            eprintln!("{test}: skipped: /dev/kvm is kvm-pvm (software), Linux boot needs hardware KVM");
        } else {
            eprintln!("{test}: skipped: /dev/kvm is not hardware-backed (no kvm_intel or kvm_amd module), Linux boot needs hardware KVM");
        }
        return None;
    }
    let dir = std::env::var_os("REMU_GUEST_ASSETS").map(PathBuf::from).unwrap_or_else(|| {
        panic!("{test}: hardware KVM is available but REMU_GUEST_ASSETS is not set (run shared/guests/fetch.sh DIR)")
    });
    let x = dir.join("x86_64");
    for f in ["bzImage", "vmlinux", "initramfs.cpio.gz"] {
        assert!(x.join(f).exists(), "{test}: {} is missing from REMU_GUEST_ASSETS", x.join(f).display());
    }
    Some(x)
}

fn boot(kernel: &str, smp: u32, append: &str, extra: &[&str], x: &std::path::Path) -> Output {
    let k = x.join(kernel).display().to_string();
    let i = x.join("initramfs.cpio.gz").display().to_string();
    let smp = smp.to_string();
    let mut a = vec![
        "system",
        "-M",
        "microvm",
        "-accel",
        "kvm",
        "-m",
        "512M",
        "-smp",
        &smp,
        "-nographic",
        "-kernel",
        &k,
        "-initrd",
        &i,
        "-append",
        append,
    ];
    a.extend_from_slice(extra);
    run_remu(&a, b"", 300)
}

fn check_boot(o: &Output, smp: u32) {
    assert_eq!(o.code(), 0, "power-off must end remu with 0\n{}", o.dump());
    assert!(o.stdout.contains("GUEST-BOOT-OK arch=x86_64"), "{}", o.dump());
    assert!(o.stdout.contains("GUEST-POWEROFF"), "{}", o.dump());
    let want = if smp == 1 { "Brought up 1 node, 1 CPU".to_string() } else { format!("Brought up 1 node, {smp} CPUs") };
    assert!(o.stdout.contains(&want), "want {want:?}\n{}", o.dump());
}

#[test]
fn kvm_linux_bzimage_boots_with_1_cpu() {
    let Some(x) = linux_assets("kvm_linux_bzimage_boots_with_1_cpu") else { return };
    let o = boot("bzImage", 1, "console=ttyS0 panic=-1", &[], &x);
    check_boot(&o, 1);
}

#[test]
fn kvm_linux_bzimage_boots_with_4_cpus() {
    let Some(x) = linux_assets("kvm_linux_bzimage_boots_with_4_cpus") else { return };
    let o = boot("bzImage", 4, "console=ttyS0 panic=-1", &[], &x);
    check_boot(&o, 4);
}

#[test]
fn kvm_linux_vmlinux_boots_through_pvh_with_1_cpu() {
    let Some(x) = linux_assets("kvm_linux_vmlinux_boots_through_pvh_with_1_cpu") else { return };
    let o = boot("vmlinux", 1, "console=ttyS0 panic=-1", &[], &x);
    check_boot(&o, 1);
}

#[test]
fn kvm_linux_vmlinux_boots_through_pvh_with_4_cpus() {
    let Some(x) = linux_assets("kvm_linux_vmlinux_boots_through_pvh_with_4_cpus") else { return };
    let o = boot("vmlinux", 4, "console=ttyS0 panic=-1", &[], &x);
    check_boot(&o, 4);
}

#[test]
fn kvm_linux_sees_virtio_blk_and_rng() {
    let Some(x) = linux_assets("kvm_linux_sees_virtio_blk_and_rng") else { return };
    let d = scratch("linux-virtio");
    let img = d.join("disk.img");
    std::fs::write(&img, vec![0u8; 8 << 20]).unwrap();
    let drive = format!("file={},format=raw,if=none,id=d0", img.display());
    let o = boot(
        "bzImage",
        2,
        "console=ttyS0 panic=-1 guest_virtio",
        &["-drive", &drive, "-device", "virtio-blk-device,drive=d0", "-device", "virtio-rng-device"],
        &x,
    );
    check_boot(&o, 2);
    assert!(o.stdout.contains("GUEST-MODULES-LOADED"), "{}", o.dump());
    let vda = o.stdout.lines().any(|l| l.split_whitespace().last() == Some("vda") && l.contains("8192"));
    assert!(vda, "8 MiB vda in /proc/partitions expected\n{}", o.dump());
    assert!(o.stdout.contains("virtio devices: virtio0 virtio1"), "{}", o.dump());
    let _ = std::fs::remove_dir_all(d);
}
