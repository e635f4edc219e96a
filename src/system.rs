//! `remu system`: system mode with QEMU's option spelling.
//!
//! Parsed by hand (QEMU options are single-dash words with comma-separated `key=value`
//! suboptions, which clap does not model). Every problem is one line on stderr naming the
//! option and a non-zero status; nothing here panics on user input.
//!
//! Today's board is `-M microvm` (x86-64 under KVM, KVM being the default accelerator for
//! it). Wiring: the options become a [`MicrovmConfig`]; RAM is mapped, the accelerator
//! created over it, the board built with its devices wired through the accelerator, one
//! vCPU created per `-smp`, the I/O thread started, and the caller's thread waits for the
//! machine to stop. The exit status is 0 for power-off, reset and Ctrl-A x,
//! `(v << 1) | 1` for isa-debug-exit, 1 for a guest crash or a host error.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use machine::accel::{Accelerator, CpuBoot, CpuConfig};
use machine::boards::x86_microvm::{self, DebugExitConfig, MicrovmConfig};
use machine::chardev::ChardevSpec;
use machine::devices::virtio::{BlockConfig, NetConfig, VirtioConfig};
use machine::event_loop::{Action, Events};
use machine::memory::GuestRam;
use machine::{StopReason, SystemControl};

const HELP: &str = "\
usage: remu system [options]

  -M, -machine TYPE        board: microvm (x86-64, KVM)
  -accel kvm | -enable-kvm accelerator (default for microvm: kvm)
  -m SIZE                  RAM, e.g. 512M, 2G (default 128M; a bare number is MiB)
  -smp N[,cpus=N,sockets=S,cores=C,threads=T]
  -cpu host                CPU model (only host)
  -kernel FILE             bzImage, ELF vmlinux with a PVH note, or an ELF64 program
  -initrd FILE             initial ramdisk
  -append STRING           kernel command line
  -nographic, -display none
  -serial stdio|null|none|file:PATH|unix:PATH,server[,wait=off]
  -drive file=PATH,format=raw,if=none,id=ID[,readonly=on][,snapshot=on][,discard=unmap|ignore]
  -netdev tap,id=ID,ifname=NAME[,script=no,downscript=no]
  -device virtio-blk-device,drive=ID | virtio-net-device,netdev=ID[,mac=52:54:00:12:34:56]
          | virtio-rng-device | isa-debug-exit[,iobase=0xf4][,iosize=0x04]
  -no-reboot, -nodefaults, -monitor none
  -d guest_errors          log every guest error (default: first of each kind)
  -d exits                 count port-I/O and MMIO exits, print them at the end

Keys on a stdio console: C-a x exits, C-a h lists the keys.
";

/// A command-line problem: the message is printed after "remu system: ".
struct Fail(String);

impl<T: std::fmt::Display> From<T> for Fail {
    fn from(e: T) -> Self {
        Fail(e.to_string())
    }
}

#[derive(Default)]
struct Options {
    machine: Option<String>,
    accel: Option<String>,
    mem: Option<u64>,
    cpus: Option<u32>,
    kernel: Option<PathBuf>,
    initrd: Option<PathBuf>,
    append: String,
    serial: Vec<String>,
    nographic: bool,
    nodefaults: bool,
    drives: Vec<Drive>,
    netdevs: Vec<Netdev>,
    devices: Vec<String>,
    log_exits: bool,
}

struct Drive {
    id: String,
    file: PathBuf,
    readonly: bool,
    snapshot: bool,
    discard: bool,
    used: bool,
}

struct Netdev {
    id: String,
    ifname: String,
    used: bool,
}

/// Splits `a=1,b=2,flag` into pairs; a first element without `=` is returned separately
/// (QEMU's "implied" key such as the driver name of -device).
fn suboptions(s: &str) -> (Option<&str>, Vec<(&str, &str)>) {
    let mut first = None;
    let mut kv = Vec::new();
    for (i, part) in s.split(',').enumerate() {
        match part.split_once('=') {
            Some((k, v)) => kv.push((k, v)),
            None if i == 0 => first = Some(part),
            None => kv.push((part, "on")),
        }
    }
    (first, kv)
}

fn on_off(opt: &str, key: &str, v: &str) -> Result<bool, Fail> {
    match v {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(Fail(format!("{opt}: {key}={v}: expected on or off"))),
    }
}

/// QEMU size syntax: a number with an optional K/M/G/T suffix; no suffix means MiB.
fn parse_size(s: &str) -> Result<u64, Fail> {
    let s = s.strip_prefix("size=").unwrap_or(s);
    let s = s.split(',').next().unwrap_or(s);
    let (num, mul) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'B' => 1u64,
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(Fail(format!("-m {s}: unknown size suffix '{c}'"))),
            };
            (&s[..i], m)
        }
        _ => (s, 1 << 20),
    };
    let n: f64 = num.parse().map_err(|_| Fail(format!("-m {s}: not a size")))?;
    if n.is_nan() || n <= 0.0 || !n.is_finite() {
        return Err(Fail(format!("-m {s}: not a size")));
    }
    let bytes = n * mul as f64;
    if bytes > (1u64 << 50) as f64 {
        return Err(Fail(format!("-m {s}: too large")));
    }
    Ok(bytes as u64)
}

fn parse_smp(s: &str) -> Result<u32, Fail> {
    let (first, kv) = suboptions(s);
    let num = |v: &str| v.parse::<u32>().map_err(|_| Fail(format!("-smp {s}: '{v}' is not a number")));
    let mut cpus = first.map(num).transpose()?;
    let (mut sockets, mut cores, mut threads) = (1, 1, 1);
    let mut topo = false;
    for (k, v) in kv {
        match k {
            "cpus" => cpus = Some(num(v)?),
            "maxcpus" => {}
            "sockets" => (sockets, topo) = (num(v)?, true),
            "cores" => (cores, topo) = (num(v)?, true),
            "threads" => (threads, topo) = (num(v)?, true),
            _ => return Err(Fail(format!("-smp: unknown option '{k}'"))),
        }
    }
    let n = cpus.unwrap_or(if topo { sockets * cores * threads } else { 1 });
    if n == 0 || n > 254 {
        return Err(Fail(format!("-smp {s}: CPU count must be 1 to 254")));
    }
    Ok(n)
}

fn parse_hex_or_dec(opt: &str, v: &str) -> Result<u64, Fail> {
    let r = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => v.parse(),
    };
    r.map_err(|_| Fail(format!("{opt}: '{v}' is not a number")))
}

fn parse_drive(s: &str) -> Result<Drive, Fail> {
    let (first, kv) = suboptions(s);
    if let Some(f) = first {
        return Err(Fail(format!("-drive {s}: expected key=value options, got '{f}'")));
    }
    let mut d = Drive {
        id: String::new(),
        file: PathBuf::new(),
        readonly: false,
        snapshot: false,
        discard: false,
        used: false,
    };
    for (k, v) in kv {
        match k {
            "file" => d.file = PathBuf::from(v),
            "id" => d.id = v.to_string(),
            "format" if v == "raw" => {}
            "format" => return Err(Fail(format!("-drive: format={v} is not supported (only raw)"))),
            "if" if v == "none" || v == "virtio" => {}
            "if" => return Err(Fail(format!("-drive: if={v} is not supported (use if=none with -device)"))),
            "readonly" => d.readonly = on_off("-drive", k, v)?,
            "snapshot" => d.snapshot = on_off("-drive", k, v)?,
            "discard" => {
                d.discard = match v {
                    "unmap" | "on" => true,
                    "ignore" | "off" => false,
                    _ => return Err(Fail(format!("-drive: discard={v}: expected unmap or ignore"))),
                }
            }
            "cache" | "aio" | "media" => {}
            _ => return Err(Fail(format!("-drive: unknown option '{k}'"))),
        }
    }
    if d.file.as_os_str().is_empty() {
        return Err(Fail("-drive: file= is required".into()));
    }
    if d.id.is_empty() {
        return Err(Fail("-drive: id= is required (referenced by -device ...,drive=ID)".into()));
    }
    // Fail here, before the VM exists, with the path in the message.
    let f = std::fs::OpenOptions::new().read(true).write(!d.readonly && !d.snapshot).open(&d.file);
    if let Err(e) = f {
        return Err(Fail(format!("-drive file={}: {e}", d.file.display())));
    }
    Ok(d)
}

fn parse_netdev(s: &str) -> Result<Netdev, Fail> {
    let (first, kv) = suboptions(s);
    match first {
        Some("tap") => {}
        Some(t) => return Err(Fail(format!("-netdev {t}: only tap is supported"))),
        None => return Err(Fail("-netdev: expected a type (tap)".into())),
    }
    let mut n = Netdev { id: String::new(), ifname: String::new(), used: false };
    for (k, v) in kv {
        match k {
            "id" => n.id = v.to_string(),
            "ifname" => n.ifname = v.to_string(),
            "script" | "downscript" if v == "no" => {}
            "script" | "downscript" => {
                return Err(Fail(format!("-netdev: {k}={v}: remu runs no scripts (create the tap beforehand)")))
            }
            "vhost" if v == "off" => {}
            _ => return Err(Fail(format!("-netdev: unknown option '{k}'"))),
        }
    }
    if n.id.is_empty() {
        return Err(Fail("-netdev: id= is required".into()));
    }
    if n.ifname.is_empty() {
        return Err(Fail("-netdev tap: ifname= is required".into()));
    }
    Ok(n)
}

fn parse_mac(s: &str) -> Result<[u8; 6], Fail> {
    let parts: Vec<&str> = s.split(':').collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return Err(Fail(format!("mac={s}: expected six hex bytes separated by ':'")));
    }
    for (i, p) in parts.iter().enumerate() {
        mac[i] = u8::from_str_radix(p, 16).map_err(|_| Fail(format!("mac={s}: '{p}' is not a hex byte")))?;
    }
    if mac[0] & 1 != 0 {
        return Err(Fail(format!("mac={s}: a multicast address cannot be a NIC's address")));
    }
    Ok(mac)
}

fn parse_args(args: &[OsString]) -> Result<Option<Options>, Fail> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = a.to_str().ok_or_else(|| Fail(format!("argument {a:?} is not valid UTF-8")))?;
        // QEMU accepts --opt as well as -opt.
        let opt = if a.starts_with("--") { &a[1..] } else { a };
        let mut value = || -> Result<String, Fail> {
            let v = it.next().ok_or_else(|| Fail(format!("option {opt} needs a value")))?;
            v.to_str().map(str::to_string).ok_or_else(|| Fail(format!("{opt}: value {v:?} is not valid UTF-8")))
        };
        match opt {
            "-h" | "-help" => return Ok(None),
            "-M" | "-machine" => o.machine = Some(value()?),
            "-accel" => o.accel = Some(value()?),
            "-enable-kvm" => o.accel = Some("kvm".into()),
            "-m" => o.mem = Some(parse_size(&value()?)?),
            "-smp" => o.cpus = Some(parse_smp(&value()?)?),
            "-cpu" => {
                let v = value()?;
                if v != "host" && v != "max" {
                    return Err(Fail(format!("-cpu {v}: only 'host' is supported under KVM")));
                }
            }
            "-kernel" => o.kernel = Some(PathBuf::from(value()?)),
            "-initrd" => o.initrd = Some(PathBuf::from(value()?)),
            "-append" => o.append = value()?,
            "-nographic" => o.nographic = true,
            "-display" => {
                let v = value()?;
                if v != "none" {
                    return Err(Fail(format!("-display {v}: remu has no display (use none or -nographic)")));
                }
            }
            "-serial" => o.serial.push(value()?),
            "-drive" => o.drives.push(parse_drive(&value()?)?),
            "-netdev" => o.netdevs.push(parse_netdev(&value()?)?),
            "-device" => o.devices.push(value()?),
            "-no-reboot" => {}
            "-nodefaults" => o.nodefaults = true,
            "-monitor" => {
                let v = value()?;
                if v != "none" {
                    return Err(Fail(format!("-monitor {v}: no monitor yet (only none)")));
                }
            }
            "-d" => {
                for item in value()?.split(',') {
                    match item {
                        "guest_errors" => machine::log::set_guest_errors(true),
                        "exits" => o.log_exits = true,
                        _ => {
                            return Err(Fail(format!("-d {item}: unknown log item (KVM supports guest_errors, exits)")))
                        }
                    }
                }
            }
            "-S" | "-s" | "-qmp" | "-gdb" | "-bios" | "-D" => {
                return Err(Fail(format!("option {opt} is not supported with -M microvm yet")))
            }
            _ if opt.starts_with('-') => return Err(Fail(format!("unknown option '{a}' (see remu system --help)"))),
            _ => return Err(Fail(format!("unexpected argument '{a}' (options start with -)"))),
        }
    }
    Ok(Some(o))
}

/// Turns the options into a board configuration.
fn microvm_config(o: &mut Options) -> Result<MicrovmConfig, Fail> {
    let kernel = o.kernel.clone().ok_or_else(|| Fail("-kernel is required (the board has no firmware)".into()))?;
    // Check the file now, so the message names it before KVM is touched.
    machine::loader::probe_x86_kernel(&kernel)?;
    if let Some(i) = &o.initrd {
        std::fs::File::open(i).map_err(|e| Fail(format!("-initrd '{}': {e}", i.display())))?;
    }
    if o.serial.len() > 1 {
        return Err(Fail("only one -serial is supported (microvm has one UART)".into()));
    }
    let serial = match o.serial.first() {
        Some(s) => ChardevSpec::parse(s)?,
        None if o.nodefaults => None,
        None => Some(ChardevSpec::Stdio),
    };
    let mut debug_exit = None;
    let mut virtio = Vec::new();
    for d in o.devices.clone() {
        let (driver, kv) = suboptions(&d);
        let driver = driver.ok_or_else(|| Fail(format!("-device {d}: the first item must be a driver name")))?;
        match driver {
            "isa-debug-exit" => {
                let mut c = DebugExitConfig { iobase: 0x501, iosize: 2 };
                for (k, v) in kv {
                    let n = parse_hex_or_dec("-device isa-debug-exit", v)?;
                    match k {
                        "iobase" if n <= 0xffff => c.iobase = n as u16,
                        "iosize" if (1..=4).contains(&n) => c.iosize = n as u16,
                        _ => return Err(Fail(format!("-device isa-debug-exit: bad option {k}={v}"))),
                    }
                }
                debug_exit = Some(c);
            }
            "virtio-blk-device" | "virtio-blk" => {
                let mut drive = None;
                for (k, v) in kv {
                    match k {
                        "drive" => drive = Some(v.to_string()),
                        "id" | "serial" => {}
                        _ => return Err(Fail(format!("-device {driver}: unknown option '{k}'"))),
                    }
                }
                let id = drive.ok_or_else(|| Fail(format!("-device {driver}: drive= is required")))?;
                let dr = o
                    .drives
                    .iter_mut()
                    .find(|x| x.id == id)
                    .ok_or_else(|| Fail(format!("-device {driver}: no -drive with id={id}")))?;
                if dr.used {
                    return Err(Fail(format!("-device {driver}: drive {id} is already in use")));
                }
                dr.used = true;
                virtio.push(VirtioConfig::Block(BlockConfig {
                    path: dr.file.clone(),
                    readonly: dr.readonly,
                    snapshot: dr.snapshot,
                    discard: dr.discard,
                }));
            }
            "virtio-net-device" | "virtio-net" => {
                let (mut netdev, mut mac) = (None, None);
                for (k, v) in kv {
                    match k {
                        "netdev" => netdev = Some(v.to_string()),
                        "mac" => mac = Some(parse_mac(v)?),
                        "id" => {}
                        _ => return Err(Fail(format!("-device {driver}: unknown option '{k}'"))),
                    }
                }
                let id = netdev.ok_or_else(|| Fail(format!("-device {driver}: netdev= is required")))?;
                let nd = o
                    .netdevs
                    .iter_mut()
                    .find(|x| x.id == id)
                    .ok_or_else(|| Fail(format!("-device {driver}: no -netdev with id={id}")))?;
                if nd.used {
                    return Err(Fail(format!("-device {driver}: netdev {id} is already in use")));
                }
                nd.used = true;
                let n = virtio.iter().filter(|v| matches!(v, VirtioConfig::Net(_))).count() as u8;
                virtio.push(VirtioConfig::Net(NetConfig {
                    ifname: nd.ifname.clone(),
                    mac: mac.unwrap_or([0x52, 0x54, 0x00, 0x12, 0x34, 0x56 + n]),
                }));
            }
            "virtio-rng-device" | "virtio-rng" => {
                if let Some((k, _)) = kv.iter().find(|(k, _)| *k != "id") {
                    return Err(Fail(format!("-device {driver}: unknown option '{k}'")));
                }
                virtio.push(VirtioConfig::Rng);
            }
            "help" | "?" => {
                return Err(Fail(
                    "devices: isa-debug-exit, virtio-blk-device, virtio-net-device, virtio-rng-device".into(),
                ))
            }
            _ => {
                return Err(Fail(format!(
                    "-device {driver}: unknown device (microvm has isa-debug-exit, virtio-blk-device, \
                     virtio-net-device, virtio-rng-device)"
                )))
            }
        }
    }
    if let Some(d) = o.drives.iter().find(|d| !d.used) {
        return Err(Fail(format!("-drive id={}: not used by any -device", d.id)));
    }
    if let Some(n) = o.netdevs.iter().find(|n| !n.used) {
        return Err(Fail(format!("-netdev id={}: not used by any -device", n.id)));
    }
    if virtio.len() > x86_microvm::VIRTIO_SLOTS {
        return Err(Fail(format!(
            "microvm has {} virtio-mmio slots, {} devices given",
            x86_microvm::VIRTIO_SLOTS,
            virtio.len()
        )));
    }
    let ram_size = o.mem.unwrap_or(128 << 20);
    let ram_size = (ram_size + 0xfff) & !0xfff;
    Ok(MicrovmConfig {
        ram_size,
        cpus: o.cpus.unwrap_or(1),
        kernel,
        initrd: o.initrd.clone(),
        cmdline: o.append.clone(),
        serial,
        debug_exit,
        virtio,
    })
}

fn run(args: &[OsString]) -> Result<ExitCode, Fail> {
    let Some(mut o) = parse_args(args)? else {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    };
    let mtype = o.machine.clone().unwrap_or_else(|| "microvm".into());
    let (mname, mopts) = suboptions(&mtype);
    match mname {
        Some("microvm") => {
            if let Some((k, _)) = mopts
                .iter()
                .find(|(k, _)| !matches!(*k, "accel" | "x-option-roms" | "pit" | "pic" | "rtc" | "isa-serial" | "acpi"))
            {
                return Err(Fail(format!("-M microvm: unknown option '{k}'")));
            }
        }
        Some("help") | Some("?") => {
            println!("Supported machines:\nmicrovm              microvm (x86-64, KVM)");
            return Ok(ExitCode::SUCCESS);
        }
        Some(other) => return Err(Fail(format!("-M {other}: unknown machine (remu system has: microvm)"))),
        None => return Err(Fail(format!("-M {mtype}: expected a machine name"))),
    }
    let machine_accel = mopts.iter().find(|(k, _)| *k == "accel").map(|(_, v)| v.to_string());
    let accel = o.accel.clone().or(machine_accel).unwrap_or_else(|| "kvm".into());
    let (aname, _) = suboptions(&accel);
    match aname {
        Some("kvm") => {}
        Some("tcg") => {
            return Err(Fail(
                "-M microvm runs x86-64 guests, which need -accel kvm (remu has no x86 translator)".into(),
            ))
        }
        _ => return Err(Fail(format!("-accel {accel}: unknown accelerator (kvm or tcg)"))),
    }
    let cfg = microvm_config(&mut o)?;
    run_microvm(cfg, o.log_exits)
}

fn run_microvm(cfg: MicrovmConfig, log_exits: bool) -> Result<ExitCode, Fail> {
    // KVM first among host resources: a host without it should hear so before anything else.
    let kvm = accel_kvm::open_kvm()?;
    let layout = x86_microvm::ram_layout(cfg.ram_size)?;
    let ram = Arc::new(GuestRam::new(&layout)?);
    let accel = accel_kvm::KvmAccel::new(kvm, ram.clone())?;
    let control = SystemControl::new();
    let board = x86_microvm::build(&cfg, ram, &accel, control.clone())?;
    let machine = board.machine.clone();
    let mut vcpus = Vec::with_capacity(cfg.cpus as usize);
    for id in 0..cfg.cpus {
        let boot = if id == 0 { CpuBoot::X86(board.boot.clone()) } else { CpuBoot::Reset };
        vcpus.push(accel.create_vcpu(&CpuConfig { id, count: cfg.cpus, boot }, &machine)?);
    }

    // The I/O thread, which also turns SIGINT/SIGTERM/SIGHUP into an orderly stop.
    let mut el = board.event_loop;
    let sigfd = vmm_sys_util::eventfd::EventFd::new(libc::EFD_NONBLOCK)?;
    machine::chardev::term::forward_stop_signals(std::os::fd::AsRawFd::as_raw_fd(&sigfd))?;
    {
        let control = control.clone();
        let raw = std::os::fd::AsRawFd::as_raw_fd(&sigfd);
        el.ctl().add_fd(raw, Events::IN, move |_, _| {
            let _ = sigfd.read();
            let sig = machine::chardev::term::last_signal();
            if control.is_stopping() {
                // A second signal while a stop is under way: leave now (a vCPU stuck in the
                // kernel must not keep the user waiting).
                machine::chardev::term::restore();
                eprintln!("remu: signal {sig} again, exiting at once");
                std::process::exit(1);
            }
            eprintln!("remu: terminating on signal {sig}");
            control.request_stop(StopReason::Quit);
            Action::Keep
        });
    }
    let remote = el.remote();
    let io_control = control.clone();
    let io = std::thread::Builder::new().name("io".into()).spawn(move || {
        if let Err(e) = el.run(&|| true) {
            io_control.request_stop(StopReason::HostError(format!("I/O thread: {e}")));
        }
    })?;

    let reason = machine::vm::run(&machine, vcpus);
    remote.stop();
    let _ = io.join();
    drop(board.console);
    // Every vCPU has stopped and remu is about to exit: the kernel's VM teardown need not
    // delay that exit (accel_kvm::teardown).
    accel.release_in_background();
    if let Some(m) = reason.message() {
        eprintln!("remu: {m}");
    }
    if log_exits {
        let (pio, mmio) = accel.exit_counts();
        let notifies: u64 = board.virtio.iter().map(|t| t.bus_notifies()).sum();
        eprintln!("remu: exits: port I/O {pio}, MMIO {mmio}; virtio notifications through an exit: {notifies}");
    }
    Ok(ExitCode::from(reason.exit_status()))
}

pub fn main(args: &[OsString]) -> ExitCode {
    match run(args) {
        Ok(c) => c,
        Err(Fail(m)) => {
            machine::chardev::term::restore();
            eprintln!("remu system: {m}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M").ok(), Some(512 << 20));
        assert_eq!(parse_size("2G").ok(), Some(2 << 30));
        assert_eq!(parse_size("256").ok(), Some(256 << 20));
        assert_eq!(parse_size("size=1.5G").ok(), Some(3 << 29));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("-4M").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn smp() {
        assert_eq!(parse_smp("4").ok(), Some(4));
        assert_eq!(parse_smp("cpus=2").ok(), Some(2));
        assert_eq!(parse_smp("sockets=1,cores=4,threads=2").ok(), Some(8));
        assert!(parse_smp("0").is_err());
        assert!(parse_smp("4,bogus=1").is_err());
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("52:54:00:aa:bb:cc").ok(), Some([0x52, 0x54, 0, 0xaa, 0xbb, 0xcc]));
        assert!(parse_mac("01:00:00:00:00:00").is_err());
        assert!(parse_mac("52:54:00").is_err());
    }
}
