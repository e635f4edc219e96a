//! `remu system -M microvm -accel kvm` end to end, with our own x86-64 guests
//! (guests/x86_64): the guest prints what it checked and the tests assert on that output,
//! on the exit status and on files.
//!
//! KVM tests need a usable /dev/kvm; where it cannot be opened each prints
//! `skipped: /dev/kvm not usable (<errno>)` and returns. Bad-input tests run everywhere:
//! remu rejects those inputs before it touches KVM.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn remu() -> &'static str {
    env!("CARGO_BIN_EXE_remu")
}

pub fn guest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/x86_64/bin").join(name)
}

/// Whether /dev/kvm opens; prints the skip line otherwise.
pub fn kvm_usable(test: &str) -> bool {
    match std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm") {
        Ok(_) => true,
        Err(e) => {
            eprintln!("{test}: skipped: /dev/kvm not usable ({e})");
            false
        }
    }
}

/// A unique scratch directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("remu-kvm-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }
    pub fn has_line(&self, line: &str) -> bool {
        self.stdout.lines().any(|l| l.trim_end_matches('\r') == line)
    }
    pub fn dump(&self) -> String {
        format!("status {:?}\n--- stdout\n{}\n--- stderr\n{}", self.status, self.stdout, self.stderr)
    }
}

/// Waits for `child` for at most `secs`, killing it on timeout.
pub fn wait_timeout(child: &mut Child, secs: u64) -> ExitStatus {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("remu did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs remu with `args` and `stdin` as input, collecting output.
pub fn run_remu(args: &[&str], stdin: &[u8], secs: u64) -> Output {
    run_cmd(remu(), args, stdin, secs)
}

/// Runs `program` with `args` and `stdin` as input, collecting output; kills it after `secs`.
pub fn run_cmd(program: &str, args: &[&str], stdin: &[u8], secs: u64) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn remu");
    let mut si = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = si.write_all(&input);
    });
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let status = wait_timeout(&mut child, secs);
    Output { status, stdout: t1.join().unwrap(), stderr: t2.join().unwrap() }
}

/// A running remu whose stdout is read line by line.
pub struct Interactive {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Interactive {
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(remu())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn remu");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Self { child, lines: rx, seen: Vec::new() }
    }

    /// Waits for a stdout line containing `pat`.
    pub fn expect(&mut self, pat: &str, secs: u64) {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = l.contains(pat);
                    self.seen.push(l);
                    if hit {
                        return;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no line containing {pat:?} within {secs} s; saw:\n{}", self.seen.join("\n"));
                }
            }
        }
    }

    pub fn send(&mut self, data: &[u8]) {
        let si = self.child.stdin.as_mut().unwrap();
        si.write_all(data).unwrap();
        si.flush().unwrap();
    }

    /// Waits for exit; returns status, the rest of stdout and stderr.
    pub fn finish(mut self, secs: u64) -> Output {
        drop(self.child.stdin.take());
        let mut se = self.child.stderr.take().unwrap();
        let t = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = se.read_to_string(&mut s);
            s
        });
        let status = wait_timeout(&mut self.child, secs);
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(l);
        }
        Output { status, stdout: self.seen.join("\n"), stderr: t.join().unwrap() }
    }
}

fn microvm(kernel: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["system", "-M", "microvm", "-accel", "kvm", "-m", "64M", "-nographic", "-kernel"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.push(kernel.display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn kvm_hello_prints_and_powers_off() {
    if !kvm_usable("kvm_hello_prints_and_powers_off") {
        return;
    }
    let a = microvm(&guest("hello.elf"), &["-append", "greeting=hi there"]);
    let o = run_remu(&args(&a), b"", 60);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.stdout.contains("hello from remu guest (cmdline: \"greeting=hi there\")"), "{}", o.dump());
    assert!(o.has_line("cpus in MADT: 1"), "{}", o.dump());
    assert!(o.has_line("ok: all 1 cpus up"), "{}", o.dump());
    assert!(o.has_line("guest done: 0 failures"), "{}", o.dump());
    assert!(o.stderr.is_empty(), "{}", o.dump());
}

#[test]
fn kvm_hello_through_the_pvh_entry() {
    if !kvm_usable("kvm_hello_through_the_pvh_entry") {
        return;
    }
    let a = microvm(&guest("hello-pvh.elf"), &["-append", "pvh"]);
    let o = run_remu(&args(&a), b"", 60);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.stdout.contains("(cmdline: \"pvh\")"), "{}", o.dump());
    assert!(o.has_line("ok: all 1 cpus up"), "{}", o.dump());
}

#[test]
fn kvm_smp4_brings_up_every_vcpu() {
    if !kvm_usable("kvm_smp4_brings_up_every_vcpu") {
        return;
    }
    let a = microvm(&guest("hello.elf"), &["-smp", "4"]);
    let o = run_remu(&args(&a), b"", 90);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.has_line("cpus in MADT: 4"), "{}", o.dump());
    for i in 0..4 {
        assert!(o.has_line(&format!("cpu {i} online (apic id {i})")), "cpu {i}: {}", o.dump());
    }
    assert!(o.has_line("ok: all 4 cpus up"), "{}", o.dump());
}

#[test]
fn kvm_isa_debug_exit_sets_the_status() {
    if !kvm_usable("kvm_isa_debug_exit_sets_the_status") {
        return;
    }
    for v in [0u32, 3, 42] {
        let q = format!("quick={v}");
        let a = microvm(&guest("hello-pvh.elf"), &["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-append", &q]);
        let o = run_remu(&args(&a), b"", 60);
        assert_eq!(o.code(), ((v << 1) | 1) as i32, "{}", o.dump());
        assert!(o.has_line("hello from remu guest"), "{}", o.dump());
    }
}

#[test]
fn kvm_timer_and_uart_receive_interrupts() {
    if !kvm_usable("kvm_timer_and_uart_receive_interrupts") {
        return;
    }
    let a = microvm(&guest("irq.elf"), &["-append", "ticks=7"]);
    let mut r = Interactive::spawn(&args(&a));
    r.expect("ready for input", 60);
    r.send(b"ping from the test\n");
    let o = r.finish(60);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.has_line("ok: timer: 7 ticks"), "{}", o.dump());
    assert!(o.has_line("received: ping from the test"), "{}", o.dump());
    assert!(o.stdout.contains("ok: rx interrupts: "), "{}", o.dump());
}

#[test]
fn kvm_uart_input_sent_before_the_guest_listens_is_kept() {
    if !kvm_usable("kvm_uart_input_sent_before_the_guest_listens_is_kept") {
        return;
    }
    // 40 bytes arrive while the guest's UART is set up but its receive interrupt is still
    // off (the guest is counting 300 timer ticks): more than the 16-byte FIFO holds, so remu
    // must hold the rest back and deliver it as the guest drains the FIFO.
    let a = microvm(&guest("irq.elf"), &["-append", "ticks=300"]);
    let mut r = Interactive::spawn(&args(&a));
    r.expect("waiting for 300 ticks", 60);
    r.send(b"0123456789abcdefghijklmnopqrstuvwxyzABCD\n");
    let o = r.finish(60);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.has_line("ok: timer: 300 ticks"), "{}", o.dump());
    assert!(o.has_line("received: 0123456789abcdefghijklmnopqrstuvwxyzABCD"), "{}", o.dump());
}

#[test]
fn kvm_ctrl_a_x_quits_and_ctrl_a_h_helps() {
    if !kvm_usable("kvm_ctrl_a_x_quits_and_ctrl_a_h_helps") {
        return;
    }
    let a = microvm(&guest("irq.elf"), &["-append", "ticks=1"]);
    let mut r = Interactive::spawn(&args(&a));
    r.expect("ready for input", 60);
    r.send(b"\x01h");
    std::thread::sleep(Duration::from_millis(200));
    r.send(b"\x01x");
    let o = r.finish(30);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.stderr.contains("C-a x    exit emulator"), "{}", o.dump());
    assert!(o.stderr.contains("terminated (C-a x)"), "{}", o.dump());
    assert!(!o.stdout.contains("received:"), "escape bytes must not reach the guest: {}", o.dump());
}

#[test]
fn kvm_sigterm_stops_cleanly() {
    if !kvm_usable("kvm_sigterm_stops_cleanly") {
        return;
    }
    let a = microvm(&guest("irq.elf"), &["-append", "ticks=1"]);
    let mut r = Interactive::spawn(&args(&a));
    r.expect("ready for input", 60);
    // SAFETY-free: kill(1) by pid through the shell tool.
    let st = Command::new("kill").args(["-TERM", &r.child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let o = r.finish(30);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.stderr.contains("terminating on signal 15"), "{}", o.dump());
}

#[test]
fn kvm_triple_fault_reports_rip_and_instruction_bytes() {
    if !kvm_usable("kvm_triple_fault_reports_rip_and_instruction_bytes") {
        return;
    }
    let a = microvm(&guest("crash.elf"), &[]);
    let o = run_remu(&args(&a), b"", 60);
    assert_eq!(o.code(), 1, "{}", o.dump());
    let addr = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("crash: ud2 at "))
        .unwrap_or_else(|| panic!("no crash line: {}", o.dump()))
        .trim()
        .to_string();
    let want = format!("remu: guest crashed: triple fault at guest rip {addr}, instruction bytes: 0f 0b");
    assert!(o.stderr.contains(&want), "want {want:?}\n{}", o.dump());
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.dump());
}

#[test]
fn kvm_serial_to_a_file() {
    if !kvm_usable("kvm_serial_to_a_file") {
        return;
    }
    let d = scratch("serial-file");
    let f = d.join("console.txt");
    let spec = format!("file:{}", f.display());
    let a = microvm(&guest("hello.elf"), &["-serial", &spec]);
    let o = run_remu(&args(&a), b"", 60);
    assert_eq!(o.code(), 0, "{}", o.dump());
    assert!(o.stdout.is_empty(), "{}", o.dump());
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("hello from remu guest"), "{text}");
    assert!(text.contains("ok: all 1 cpus up"), "{text}");
}

/// Connects to the console socket remu serves, once it exists (within 30 s).
fn connect_when_listening(sock: &std::path::Path) -> std::os::unix::net::UnixStream {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = std::os::unix::net::UnixStream::connect(sock) {
            return s;
        }
        assert!(Instant::now() < end, "socket never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kvm_serial_on_a_unix_socket_server() {
    if !kvm_usable("kvm_serial_on_a_unix_socket_server") {
        return;
    }
    let d = scratch("serial-unix");
    let sock = d.join("console.sock");
    let spec = format!("unix:{},server", sock.display());
    let a = microvm(&guest("irq.elf"), &["-serial", &spec, "-append", "ticks=1"]);
    let mut child = Command::new(remu())
        .args(args(&a))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut s = connect_when_listening(&sock);
    // Read until the guest waits for input, answer, then read to the end.
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains("ready for input") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "console closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    s.write_all(b"over the socket\n").unwrap();
    let _ = s.read_to_end(&mut got);
    let status = wait_timeout(&mut child, 60);
    let text = String::from_utf8_lossy(&got);
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("received: over the socket"), "{text}");
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(out.is_empty(), "guest output must go to the socket, not stdout: {out}");
}

/// Runs remu expecting a one-line error containing every `want`.
fn expect_error(a: &[&str], want: &[&str]) {
    let o = run_remu(a, b"", 30);
    assert_ne!(o.code(), 0, "{}", o.dump());
    assert!(o.status.code().is_some(), "killed by a signal: {}", o.dump());
    assert_eq!(o.stderr.lines().count(), 1, "one line expected: {}", o.dump());
    assert!(!o.stderr.contains("panicked"), "{}", o.dump());
    for w in want {
        assert!(o.stderr.contains(w), "missing {w:?}: {}", o.dump());
    }
}

#[test]
fn kvm_bad_input_missing_kernel() {
    expect_error(
        &["system", "-M", "microvm", "-nographic", "-kernel", "/nonexistent/bzImage"],
        &["/nonexistent/bzImage", "No such file"],
    );
    expect_error(&["system", "-M", "microvm", "-nographic"], &["-kernel is required"]);
}

#[test]
fn kvm_bad_input_corrupt_bzimage() {
    let d = scratch("corrupt-bz");
    // A boot sector with HdrS but a setup header claiming more sectors than the file has.
    let mut bz = vec![0u8; 16384];
    bz[0x1fe] = 0x55;
    bz[0x1ff] = 0xaa;
    bz[0x202..0x206].copy_from_slice(b"HdrS");
    bz[0x201] = 0x6a;
    bz[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
    bz[0x1f1] = 200;
    bz[0x211] = 1;
    bz[0x236] = 1;
    let p = d.join("bzImage");
    std::fs::write(&p, &bz).unwrap();
    let ps = p.display().to_string();
    expect_error(&["system", "-M", "microvm", "-nographic", "-kernel", &ps], &[&ps, "corrupt bzImage"]);
    // Random bytes.
    let junk: Vec<u8> = (0..8192u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(&p, &junk).unwrap();
    expect_error(&["system", "-M", "microvm", "-nographic", "-kernel", &ps], &["not an ELF64 or bzImage"]);
    // An empty file.
    std::fs::write(&p, b"").unwrap();
    expect_error(&["system", "-M", "microvm", "-nographic", "-kernel", &ps], &[&ps]);
}

#[test]
fn kvm_bad_input_unknown_device_and_options() {
    let k = guest("hello.elf").display().to_string();
    expect_error(&["system", "-kernel", &k, "-device", "e1000"], &["-device e1000", "unknown device"]);
    expect_error(&["system", "-kernel", &k, "-frobnicate"], &["unknown option '-frobnicate'"]);
    expect_error(&["system", "-kernel", &k, "-m", "lots"], &["-m"]);
    expect_error(&["system", "-kernel", &k, "-smp", "0"], &["-smp"]);
    expect_error(&["system", "-kernel", &k, "-M", "pc"], &["-M pc", "unknown machine"]);
    expect_error(&["system", "-kernel", &k, "-serial", "tcp:1.2.3.4:5"], &["-serial"]);
    expect_error(&["system", "-kernel", &k, "-accel", "hax"], &["-accel hax"]);
    expect_error(&["system", "-kernel", &k, "-M", "microvm,accel=tcg"], &["need -accel kvm"]);
    expect_error(&["system", "-kernel", &k, "-M", "microvm,frob=1"], &["unknown option 'frob'"]);
    expect_error(&["system", "-kernel", &k, "-m"], &["-m needs a value"]);
}

#[test]
fn kvm_bad_input_drive_on_a_missing_file() {
    let k = guest("hello.elf").display().to_string();
    expect_error(
        &[
            "system",
            "-kernel",
            &k,
            "-drive",
            "file=/nonexistent/disk.img,format=raw,if=none,id=d0",
            "-device",
            "virtio-blk-device,drive=d0",
        ],
        &["-drive file=/nonexistent/disk.img", "No such file"],
    );
    expect_error(&["system", "-kernel", &k, "-device", "virtio-blk-device,drive=nope"], &["no -drive with id=nope"]);
}

/// Runs `remu` in a namespace where /dev is an empty tmpfs (no /dev/kvm), or as an
/// unprivileged user; checks the error names the cause. Needs root; skipped otherwise.
#[test]
fn kvm_unusable_dev_kvm_is_named() {
    let k = guest("hello.elf").display().to_string();
    let cmd =
        format!("mount -t tmpfs none /dev && exec {} system -M microvm -accel kvm -nographic -kernel {k}", remu());
    let o = Command::new("unshare").args(["-m", "sh", "-c", &cmd]).output();
    match o {
        Ok(o) if o.status.code() != Some(0) && String::from_utf8_lossy(&o.stderr).contains("remu system:") => {
            let e = String::from_utf8_lossy(&o.stderr);
            assert!(e.contains("/dev/kvm does not exist"), "{e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
        _ => eprintln!("kvm_unusable_dev_kvm_is_named: skipped: cannot unshare a mount namespace (not root?)"),
    }
    if Path::new("/dev/kvm").exists() {
        let o = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", remu(), "system", "-nographic", "-kernel", &k])
            .output();
        match o {
            Ok(o) if String::from_utf8_lossy(&o.stderr).contains("remu system:") => {
                let e = String::from_utf8_lossy(&o.stderr);
                if e.contains("no permission") {
                    assert_ne!(o.status.code(), Some(0));
                } else {
                    // /dev/kvm is world-accessible here (mode 0666): nothing to check.
                    eprintln!("kvm_unusable_dev_kvm_is_named: permission case skipped: {e}");
                }
            }
            _ => eprintln!("kvm_unusable_dev_kvm_is_named: permission case skipped: setpriv unavailable"),
        }
    }
}

#[test]
fn acpi_tables_disassemble_cleanly_with_iasl() {
    use machine::boards::x86_microvm::{acpi_config, VIRTIO_GSI_BASE, VIRTIO_MMIO_BASE};
    if Command::new("iasl").arg("-v").output().is_err() {
        eprintln!("acpi_tables_disassemble_cleanly_with_iasl: skipped: iasl not installed (apt install acpica-tools)");
        return;
    }
    let d = scratch("iasl");
    let virtio = [(VIRTIO_MMIO_BASE, VIRTIO_GSI_BASE), (VIRTIO_MMIO_BASE + 0x200, VIRTIO_GSI_BASE + 1)];
    let t = machine::acpi::build(&acpi_config(4, &virtio), 0xe0000);
    let mut checks = Vec::new();
    // The RSDP is not a table iasl can disassemble on its own; its checksums and pointer
    // are unit-tested in machine::acpi.
    for (sig, off, len) in t.tables.iter().filter(|(s, _, _)| s != b"RSD ") {
        let name = String::from_utf8_lossy(sig).trim().to_string();
        let f = d.join(format!("{name}.dat"));
        std::fs::write(&f, &t.bytes[*off..off + len]).unwrap();
        let o = Command::new("iasl").arg("-d").arg(&f).current_dir(&d).output().unwrap();
        assert!(
            o.status.success(),
            "iasl -d {name}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let dsl = std::fs::read_to_string(d.join(format!("{name}.dsl"))).unwrap();
        assert!(!dsl.contains("Incorrect"), "{name}: {dsl}");
        assert!(!dsl.to_lowercase().contains("error"), "{name}: {dsl}");
        checks.push((name, dsl));
    }
    let get = |n: &str| &checks.iter().find(|(k, _)| k == n).unwrap_or_else(|| panic!("no {n}")).1;
    let dsdt = get("DSDT");
    for w in [
        "\"LNRO0005\"",
        "EisaId (\"PNP0501\")",
        "_S5_",
        "0xFEB00200",
        "Memory32Fixed",
        "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )",
    ] {
        assert!(dsdt.contains(w), "DSDT lacks {w}: {dsdt}");
    }
    let madt = get("APIC");
    assert_eq!(madt.matches("Subtable Type : 00 [Processor Local APIC]").count(), 4, "{madt}");
    assert!(madt.contains("[I/O APIC]"), "{madt}");
    let fadt = get("FACP");
    assert!(fadt.contains("Hardware Reduced (V5) : 1"), "{fadt}");
    assert!(fadt.contains("Sleep Control Register"), "{fadt}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn guests_x86_64_rebuild_reproducibly() {
    if Command::new("gcc").arg("--version").output().is_err() {
        eprintln!("guests_x86_64_rebuild_reproducibly: skipped: no gcc on this host");
        return;
    }
    let d = scratch("guest-build");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/x86_64");
    let o = Command::new("sh").arg(src.join("build.sh")).arg(&d).output().unwrap();
    assert!(o.status.success(), "build.sh: {}", String::from_utf8_lossy(&o.stderr));
    let mut n = 0;
    for e in std::fs::read_dir(src.join("bin")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let committed = std::fs::read(e.path()).unwrap();
        let built = std::fs::read(d.join(&name)).unwrap_or_else(|_| panic!("build.sh did not produce {name:?}"));
        assert!(
            committed == built,
            "guests/x86_64/bin/{name:?} differs from a fresh build: rerun guests/x86_64/build.sh"
        );
        n += 1;
    }
    let built = std::fs::read_dir(&d).unwrap().count();
    assert_eq!(n, built, "bin/ and a fresh build list different programs");
}

#[test]
fn kvm_internal_error_reports_rip_and_instruction_bytes() {
    if !kvm_usable("kvm_internal_error_reports_rip_and_instruction_bytes") {
        return;
    }
    let a =
        microvm(&guest("crash.elf"), &["-append", "cmpxchg16b", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
    let o = run_remu(&args(&a), b"", 60);
    let addr = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("crash: lock cmpxchg16b at "))
        .unwrap_or_else(|| panic!("no crash line: {}", o.dump()))
        .trim()
        .to_string();
    if accel_kvm::is_pvm() {
        // kvm-pvm's instruction emulator cannot run it: a KVM internal error.
        assert_eq!(o.code(), 1, "{}", o.dump());
        let want = format!("KVM internal error 1 (emulation failure: KVM cannot emulate the instruction) at guest rip {addr}, instruction bytes: f0 48 0f c7");
        assert!(o.stderr.contains(&want), "want {want:?}\n{}", o.dump());
    } else {
        // Hardware KVM runs it natively and the guest carries on.
        assert_eq!(o.code(), (9 << 1) | 1, "{}", o.dump());
        assert!(o.stdout.contains("cmpxchg16b ran natively: 1 2"), "{}", o.dump());
    }
}

/// Runs remu on a pseudo-terminal (through script(1)): Ctrl-A x typed without a newline
/// must reach remu (so the terminal is in raw mode while it runs), and afterwards the
/// terminal must be back in canonical mode with echo, after a clean quit and after a crash.
#[test]
fn kvm_console_raw_mode_is_restored() {
    if !kvm_usable("kvm_console_raw_mode_is_restored") {
        return;
    }
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("kvm_console_raw_mode_is_restored: skipped: script(1) not installed (util-linux)");
        return;
    }
    let report = "stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo";
    for (guest_name, append, keys) in [("irq.elf", "ticks=1", true), ("crash.elf", "", false)] {
        let k = guest(guest_name).display().to_string();
        let inner = format!(
            "{report}; {} system -M microvm -m 64M -nographic -kernel {k} -append '{append}'; echo remu-status=$?; {report}",
            remu()
        );
        let mut child = Command::new("script")
            .args(["-qec", &inner, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = out;
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut text = String::new();
        let end = Instant::now() + Duration::from_secs(60);
        let mut sent = !keys;
        while Instant::now() < end && !text.contains("remu-status=") {
            if let Ok(b) = rx.recv_timeout(Duration::from_millis(100)) {
                text.push_str(&String::from_utf8_lossy(&b));
            }
            if !sent && text.contains("ready for input") {
                child.stdin.as_mut().unwrap().write_all(b"\x01x").unwrap();
                sent = true;
            }
        }
        let _ = wait_timeout(&mut child, 30);
        while let Ok(b) = rx.recv_timeout(Duration::from_millis(200)) {
            text.push_str(&String::from_utf8_lossy(&b));
        }
        let lines: Vec<&str> =
            text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| l.contains("icanon")).collect();
        assert_eq!(lines.len(), 2, "{guest_name}: {text}");
        assert!(lines[0].contains("icanon") && !lines[0].contains("-icanon"), "{text}");
        assert_eq!(lines[0], lines[1], "{guest_name}: terminal settings not restored\n{text}");
        let (want, seen) =
            if keys { ("remu-status=0", "terminated (C-a x)") } else { ("remu-status=1", "triple fault") };
        assert!(text.contains(want), "{guest_name}: {text}");
        assert!(text.contains(seen), "{guest_name}: {text}");
    }
}

#[test]
fn kvm_reboot_through_acpi_or_i8042_ends_remu_with_0() {
    if !kvm_usable("kvm_reboot_through_acpi_or_i8042_ends_remu_with_0") {
        return;
    }
    for how in ["acpi", "kbd"] {
        let ap = format!("reboot={how}");
        let a = microvm(&guest("hello.elf"), &["-append", &ap]);
        let o = run_remu(&args(&a), b"", 60);
        assert_eq!(o.code(), 0, "{how}: {}", o.dump());
        assert!(o.has_line(&format!("rebooting ({how})")), "{}", o.dump());
        assert!(!o.stdout.contains("FAIL"), "{}", o.dump());
    }
}

/// The zero page (64-bit entry) and the PVH start info carry the same memory map, with RAM
/// split around the 32-bit hole, and the initrd; RAM above 4 GiB works.
#[test]
fn kvm_boot_info_memory_map_initrd_and_high_ram() {
    if !kvm_usable("kvm_boot_info_memory_map_initrd_and_high_ram") {
        return;
    }
    let d = scratch("bootinfo");
    let initrd: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
    let sum: u32 = initrd.iter().map(|&b| b as u32).sum();
    let p = d.join("initrd.bin");
    std::fs::write(&p, &initrd).unwrap();
    let ps = p.display().to_string();
    for (kernel, proto) in [("hello.elf", "zero page"), ("hello-pvh.elf", "pvh")] {
        let k = guest(kernel).display().to_string();
        let a = [
            "system",
            "-M",
            "microvm",
            "-m",
            "5G",
            "-nographic",
            "-kernel",
            &k,
            "-initrd",
            &ps,
            "-append",
            "bootinfo probe=0x100200000",
        ];
        let o = run_remu(&a, b"", 60);
        assert_eq!(o.code(), 0, "{}", o.dump());
        assert!(o.has_line(&format!("boot protocol: {proto}")), "{}", o.dump());
        for l in [
            "memory map: 0-9fc00 type 1",
            "memory map: 100000-c0000000 type 1",
            "memory map: 100000000-180000000 type 1",
            "ok: probe: RAM at 100200000 reads back",
        ] {
            assert!(o.has_line(l), "{kernel}: missing {l:?}\n{}", o.dump());
        }
        let line = o.stdout.lines().find(|l| l.starts_with("initrd: ")).unwrap_or_else(|| panic!("{}", o.dump()));
        assert!(line.starts_with("initrd: 100000 bytes at "), "{line}");
        assert!(line.ends_with(&format!("byte sum {sum}")), "{line}");
        // Page-aligned and below the hole.
        let addr = u64::from_str_radix(line.split(" at ").nth(1).unwrap().split(',').next().unwrap(), 16).unwrap();
        assert_eq!(addr % 4096, 0);
        assert!(addr + 100_000 <= 0xc000_0000);
    }
    let _ = std::fs::remove_dir_all(d);
}

/// machine holds the devices every accelerator shares: it must not depend on KVM.
#[test]
fn machine_does_not_depend_on_an_accelerator() {
    let toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("machine/Cargo.toml")).unwrap();
    for bad in ["kvm-ioctls", "kvm-bindings", "accel-kvm", "accel-tcg"] {
        assert!(!toml.contains(bad), "machine/Cargo.toml must not name {bad}");
    }
}

/// `wait=off`: the guest starts at once (its early output is dropped, as with an unplugged
/// cable) and a client that connects later gets the rest and can type.
#[test]
fn kvm_serial_unix_server_without_waiting() {
    if !kvm_usable("kvm_serial_unix_server_without_waiting") {
        return;
    }
    let d = scratch("serial-nowait");
    let sock = d.join("console.sock");
    let spec = format!("unix:{},server,wait=off", sock.display());
    let a = microvm(&guest("irq.elf"), &["-serial", &spec, "-append", "ticks=1"]);
    let mut child = Command::new(remu()).args(args(&a)).stdin(Stdio::null()).stdout(Stdio::null()).spawn().unwrap();
    let mut s = connect_when_listening(&sock);
    // The guest is (or soon will be) waiting for a line; whatever it printed before we
    // connected is gone.
    std::thread::sleep(Duration::from_millis(300));
    s.write_all(b"typed late\n").unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let status = wait_timeout(&mut child, 60);
    let text = String::from_utf8_lossy(&got);
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("received: typed late"), "{text}");
    let _ = std::fs::remove_dir_all(d);
}
