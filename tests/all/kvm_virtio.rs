//! virtio-mmio devices under `remu system -M microvm -accel kvm`, driven by our own guest
//! drivers (guests/x86_64/{blk,rng,net}.c). The guests print one `ok:`/`FAIL:` line per
//! check; the tests assert on those lines, on the exit status and on the disk image.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::kvm::{guest, kvm_usable, run_remu, scratch, Output};

/// Byte `i` of sector `s` of the test image (the pattern blk.c checks).
fn pattern(s: usize, i: usize) -> u8 {
    (s * 7 + i * 13) as u8
}

fn make_image(dir: &Path) -> (PathBuf, Vec<u8>) {
    let mut img = Vec::with_capacity(64 * 512);
    for s in 0..64 {
        for i in 0..512 {
            img.push(pattern(s, i));
        }
    }
    let p = dir.join("disk.img");
    std::fs::write(&p, &img).unwrap();
    (p, img)
}

fn run_blk(drive_opts: &str, img: &Path) -> Output {
    let drive = format!("file={},format=raw,if=none,id=d0{drive_opts}", img.display());
    let k = guest("blk.elf").display().to_string();
    let a = [
        "system",
        "-M",
        "microvm",
        "-accel",
        "kvm",
        "-m",
        "64M",
        "-nographic",
        "-d",
        "exits",
        "-kernel",
        &k,
        "-drive",
        &drive,
        "-device",
        "virtio-blk-device,drive=d0",
    ];
    run_remu(&a, b"", 90)
}

fn assert_ok_lines(o: &Output, lines: &[&str]) {
    for l in lines {
        assert!(o.has_line(&format!("ok: {l}")), "missing 'ok: {l}'\n{}", o.dump());
    }
    assert!(!o.stdout.contains("FAIL"), "{}", o.dump());
}

#[test]
fn kvm_virtio_blk_reads_writes_discards_and_survives_malformed_chains() {
    if !kvm_usable("kvm_virtio_blk_reads_writes_discards_and_survives_malformed_chains") {
        return;
    }
    let d = scratch("blk-rw");
    let (img, before) = make_image(&d);
    let o = run_blk(",discard=unmap", &img);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.has_line("blk: capacity 64 sectors, ro=0, discard=1"), "{}", o.dump());
    assert_ok_lines(
        &o,
        &[
            "blk read pattern (status 0)",
            "blk write accepted",
            "blk read-back of written sectors",
            "blk flush",
            "blk discard",
            "blk discarded sectors read as zeros",
            "blk get-id",
            "malformed: buffer outside RAM -> IOERR",
            "malformed: read into a device-readable buffer -> IOERR",
            "malformed: write from a device-writable buffer -> IOERR",
            "malformed: descriptor loop -> used length 0, nothing written",
            "malformed: next index past the table -> used length 0",
            "malformed: device-readable status -> used length 0",
            "device still works after malformed requests",
        ],
    );
    assert!(o.has_line("blk id: remu-blk-0"), "{}", o.dump());
    // Queue notifications went through the ioeventfd, never through an exit.
    assert!(o.stderr.contains("virtio notifications through an exit: 0"), "{}", o.dump());

    let after = std::fs::read(&img).unwrap();
    assert_eq!(after.len(), before.len());
    for s in 0..64 {
        let sec = &after[s * 512..(s + 1) * 512];
        match s {
            8..=11 => {
                let want = format!("remu-blk-write sector {s}");
                assert_eq!(&sec[..want.len()], want.as_bytes(), "sector {s}");
                assert!(sec[want.len()..].iter().all(|&b| b == 0), "sector {s} tail");
            }
            16..=23 => assert!(sec.iter().all(|&b| b == 0), "discarded sector {s} must read zero"),
            _ => assert_eq!(sec, &before[s * 512..(s + 1) * 512], "sector {s} must be untouched"),
        }
    }
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn kvm_virtio_blk_snapshot_never_writes_the_file() {
    if !kvm_usable("kvm_virtio_blk_snapshot_never_writes_the_file") {
        return;
    }
    let d = scratch("blk-snap");
    let (img, before) = make_image(&d);
    let o = run_blk(",snapshot=on,discard=unmap", &img);
    assert_eq!(o.code(), 0, "{}", o.dump());
    // The guest sees its writes and discards (the overlay) ...
    assert_ok_lines(
        &o,
        &["blk write accepted", "blk read-back of written sectors", "blk discarded sectors read as zeros"],
    );
    // ... and the image is byte for byte what it was.
    assert!(std::fs::read(&img).unwrap() == before, "snapshot=on modified the image");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn kvm_virtio_blk_readonly_refuses_writes() {
    if !kvm_usable("kvm_virtio_blk_readonly_refuses_writes") {
        return;
    }
    let d = scratch("blk-ro");
    let (img, before) = make_image(&d);
    let o = run_blk(",readonly=on", &img);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.has_line("blk: capacity 64 sectors, ro=1, discard=0"), "{}", o.dump());
    assert!(o.has_line("blk write status: 1"), "{}", o.dump());
    assert_ok_lines(&o, &["blk write refused", "blk read pattern (status 0)"]);
    assert!(std::fs::read(&img).unwrap() == before, "readonly=on modified the image");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn kvm_virtio_rng_gives_random_bytes() {
    if !kvm_usable("kvm_virtio_rng_gives_random_bytes") {
        return;
    }
    let k = guest("rng.elf").display().to_string();
    let a = ["system", "-M", "microvm", "-m", "64M", "-nographic", "-kernel", &k, "-device", "virtio-rng-device"];
    let o = run_remu(&a, b"", 60);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert_ok_lines(&o, &["virtio-rng initialised in slot 0", "rng: got 64 and 64 bytes", "rng: bytes are random"]);
}

#[test]
fn kvm_virtio_devices_take_slots_in_order() {
    if !kvm_usable("kvm_virtio_devices_take_slots_in_order") {
        return;
    }
    // rng in slot 0, disk in slot 1: the guest finds each by its device ID and uses the
    // interrupt of its slot.
    let d = scratch("slots");
    let (img, _) = make_image(&d);
    let drive = format!("file={},format=raw,if=none,id=d0,snapshot=on", img.display());
    let k = guest("blk.elf").display().to_string();
    let a = [
        "system",
        "-M",
        "microvm",
        "-m",
        "64M",
        "-nographic",
        "-kernel",
        &k,
        "-device",
        "virtio-rng-device",
        "-drive",
        &drive,
        "-device",
        "virtio-blk-device,drive=d0",
    ];
    let o = run_remu(&a, b"", 90);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert_ok_lines(&o, &["virtio-blk initialised in slot 1", "device still works after malformed requests"]);
    let _ = std::fs::remove_dir_all(d);
}

/// A network namespace with a tap device, removed on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn create(test: &str) -> Option<Self> {
        let name = format!("remu-{}-{}", std::process::id(), test);
        let ip = |args: &[&str]| Command::new("ip").args(args).output().map(|o| o.status.success()).unwrap_or(false);
        if !ip(&["netns", "add", &name]) {
            eprintln!("{test}: skipped: cannot create a network namespace (needs root and iproute2)");
            return None;
        }
        let ns = Netns { name };
        let n = ns.name.as_str();
        let ok = ip(&["netns", "exec", n, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap"])
            && ip(&["-n", n, "addr", "add", "10.0.2.2/24", "dev", "tap0"])
            && ip(&["-n", n, "link", "set", "tap0", "up"])
            && ip(&["-n", n, "link", "set", "lo", "up"]);
        if !ok {
            eprintln!("{test}: skipped: cannot create a tap device in the namespace (no /dev/net/tun?)");
            return None;
        }
        Some(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

#[test]
fn kvm_virtio_net_pings_a_tap_in_a_namespace() {
    if !kvm_usable("kvm_virtio_net_pings_a_tap_in_a_namespace") {
        return;
    }
    let Some(ns) = Netns::create("net") else { return };
    let k = guest("net.elf").display().to_string();
    let remu = super::kvm::remu();
    let a = [
        "netns",
        "exec",
        &ns.name,
        remu,
        "system",
        "-M",
        "microvm",
        "-m",
        "64M",
        "-nographic",
        "-kernel",
        &k,
        "-append",
        "ip=10.0.2.15 peer=10.0.2.2",
        "-netdev",
        "tap,id=n0,ifname=tap0,script=no,downscript=no",
        "-device",
        "virtio-net-device,netdev=n0,mac=52:54:00:ab:cd:ef",
    ];
    let o = super::kvm::run_cmd("ip", &a, b"", 120);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.has_line("net: mac 52:54:00:ab:cd:ef"), "{}", o.dump());
    assert!(o.stdout.contains("ok: net: ARP reply from peer"), "{}", o.dump());
    assert_ok_lines(&o, &["net: ping reply from peer"]);
}

#[test]
fn kvm_virtio_net_on_a_missing_tap_is_a_one_line_error() {
    if !kvm_usable("kvm_virtio_net_on_a_missing_tap_is_a_one_line_error") {
        return;
    }
    let k = guest("net.elf").display().to_string();
    let a = [
        "system",
        "-M",
        "microvm",
        "-nographic",
        "-kernel",
        &k,
        "-netdev",
        "tap,id=n0,ifname=this-name-is-too-long",
        "-device",
        "virtio-net-device,netdev=n0",
    ];
    let o = run_remu(&a, b"", 30);
    assert_ne!(o.code(), 0, "{}", o.dump());
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.dump());
    assert!(o.stderr.contains("this-name-is-too-long"), "{}", o.dump());
}
