#!/usr/bin/env python3
"""KVM benchmark: remu vs qemu-system-x86_64 -M microvm -accel kvm, in the same run.

Measures, with remu's own x86-64 test guests (guests/x86_64/bin, PVH variants so both
VMMs boot the same file):
  whole run      hello-pvh.elf prints one line and exits through isa-debug-exit
                 (wall time and peak RSS of the VMM process, -m 64M; the cost of
                 launching /bin/true the same way is subtracted from both)
  first KVM_RUN  process start (execve) to the first KVM_RUN ioctl, from
                 strace --seccomp-bpf (only execve and ioctl are traced)
  port-I/O exit  bench-pvh.elf pio=N: N writes to the 16550 scratch register; the
                 cost of one is the wall-time difference between N=0 and N=EXITS runs
                 divided by EXITS; a bare kvm-ioctls loop with the in-kernel irqchip
                 (accel-kvm/examples/bare_pio --irqchip), run before and after, is the
                 reference
  virtio request bench-pvh.elf virtio=N: one-sector virtio-blk reads notified through
                 QueueNotify (an ioeventfd under remu) and polled, by the same difference
  Linux boot     bzImage + initramfs to GUEST-BOOT-OK (only with hardware KVM and
                 REMU_GUEST_ASSETS set)

usage: bench/kvm/bench.py [--runs N] [--exits N] [--remu PATH] [--qemu PATH]
Prints a Markdown table. Build remu first: cargo build --release --bin remu.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUESTS = os.path.join(ROOT, "guests", "x86_64", "bin")


def run(cmd, timeout=600, stdin=subprocess.DEVNULL):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS KiB, exit status,
    stdout). Peak RSS comes from time(1) because a Python child's ru_maxrss would include
    the interpreter it was forked from."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M %x", "-o", tf.name, *cmd], stdin=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout)
        t1 = time.perf_counter()
        rss, status = tf.read().split()[-2:]
    return t1 - t0, int(rss), int(status), p.stdout.decode(errors="replace")


def remu_cmd(remu, kernel, append, extra=()):
    return [remu, "system", "-M", "microvm", "-accel", "kvm", "-m", "64M", "-nographic",
            "-kernel", kernel, "-append", append,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", *extra]


def qemu_cmd(qemu, kernel, append, extra=()):
    return [qemu, "-M", "microvm", "-accel", "kvm", "-m", "64M", "-nographic", "-no-reboot",
            "-global", "virtio-mmio.force-legacy=false",
            "-kernel", kernel, "-append", append,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", *extra]


def median_run(cmd, runs, want_status=1):
    walls, rss = [], []
    for _ in range(runs):
        w, r, st, out = run(cmd)
        if st != want_status:
            raise RuntimeError(f"exit status {st} (want {want_status}) from {' '.join(cmd)}:\n{out}")
        walls.append(w)
        rss.append(r)
    return statistics.median(walls), statistics.median(rss)


def first_kvm_run(cmd, runs):
    vals = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".strace") as f:
            subprocess.run(["strace", "-f", "--seccomp-bpf", "-ttt", "-e", "trace=execve,ioctl", "-o", f.name, *cmd],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
            start = run_at = None
            for line in f:
                m = re.match(r"\d+\s+(\d+\.\d+) (.*)", line)
                if not m:
                    continue
                t, rest = float(m.group(1)), m.group(2)
                if start is None and rest.startswith("execve("):
                    start = t
                if "KVM_RUN" in rest:
                    run_at = t
                    break
            if start is None or run_at is None:
                raise RuntimeError("strace saw no execve or KVM_RUN")
            vals.append(run_at - start)
    return statistics.median(vals)


def per_op(cmd_of, n, runs):
    """Cost of one operation: (median wall(n) - median wall(0)) / n."""
    base, _ = median_run(cmd_of(0), runs)
    full, _ = median_run(cmd_of(n), runs)
    return (full - base) / n


def fmt_ms(s):
    return f"{s * 1e3:.1f} ms"


def fmt_us(s):
    return f"{s * 1e6:.1f} µs"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--exits", type=int, default=50000)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--remu", default=os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "release", "remu"))
    ap.add_argument("--bare", default=None, help="bare_pio example binary (default: next to remu)")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    a = ap.parse_args()
    if not os.path.exists(a.remu):
        sys.exit(f"bench: {a.remu} not found (cargo build --release --bin remu, or pass --remu)")
    bare = a.bare or os.path.join(os.path.dirname(a.remu), "examples", "bare_pio")
    hello = os.path.join(GUESTS, "hello-pvh.elf")
    bench = os.path.join(GUESTS, "bench-pvh.elf")
    kvm_kind = "kvm-pvm (software)" if os.path.exists("/sys/module/kvm_pvm") else (
        "hardware" if os.path.exists("/sys/module/kvm_intel") or os.path.exists("/sys/module/kvm_amd") else "unknown")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.write(b"\0" * (1 << 20))
        drive = ["-drive", f"file={disk},format=raw,if=none,id=d0", "-device", "virtio-blk-device,drive=d0"]
        vmms = {"remu": lambda k, ap_, ex=(): remu_cmd(a.remu, k, ap_, ex),
                "qemu": lambda k, ap_, ex=(): qemu_cmd(a.qemu, k, ap_, ex)}
        launch = statistics.median(run(["/bin/true"])[0] for _ in range(a.runs))
        bare_runs = []

        def bare_once():
            if os.path.exists(bare):
                o = subprocess.run([bare, str(a.exits), "--irqchip"], capture_output=True, text=True, check=True).stdout
                bare_runs.append(float(re.search(r"([\d.]+) ns each", o).group(1)))

        for _ in range(3):
            bare_once()
        res = {}
        for name, mk in vmms.items():
            r = {}
            r["wall"], r["rss"] = median_run(mk(hello, "quick=0"), a.runs)
            r["wall"] -= launch
            r["first_run"] = first_kvm_run(mk(hello, "quick=0"), max(3, a.runs // 2))
            r["pio"] = per_op(lambda n: mk(bench, f"pio={n}"), a.exits, max(3, a.runs // 2))
            r["virtio"] = per_op(lambda n: mk(bench, f"virtio={n}", drive), a.requests, max(3, a.runs // 2))
            res[name] = r
        for _ in range(3):
            bare_once()
        bare_ns = statistics.median(bare_runs) if bare_runs else None
        linux = None
        assets = os.environ.get("REMU_GUEST_ASSETS")
        if kvm_kind == "hardware" and assets:
            x = os.path.join(assets, "x86_64")
            lin = {}
            for name, base in (("remu", [a.remu, "system"]), ("qemu", [a.qemu])):
                cmd = base + ["-M", "microvm", "-accel", "kvm", "-m", "512M", "-nographic", "-kernel",
                              os.path.join(x, "bzImage"), "-initrd", os.path.join(x, "initramfs.cpio.gz"),
                              "-append", "console=ttyS0 guest_quiet panic=-1"]
                if name == "qemu":
                    cmd.insert(1, "-no-reboot")
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                    for line in p.stdout:
                        if b"GUEST-BOOT-OK" in line:
                            times.append(time.perf_counter() - t0)
                            break
                    p.wait(timeout=120)
                lin[name] = statistics.median(times) if times else None
            linux = lin

    rr, qq = res["remu"], res["qemu"]
    print(f"KVM: {kvm_kind}; {a.runs} runs per figure (medians); launching a process costs "
          f"{launch * 1e3:.1f} ms here (subtracted from whole runs)\n")
    print("| measurement | remu | QEMU microvm | remu / QEMU | target |")
    print("|---|---|---|---|---|")
    print(f"| whole run of a small guest (print, isa-debug-exit) | {fmt_ms(rr['wall'])} | {fmt_ms(qq['wall'])} | "
          f"{rr['wall'] / qq['wall']:.2f} | ≤ 0.3 |")
    print(f"| peak RSS of that run (-m 64M) | {rr['rss'] / 1024:.1f} MiB | {qq['rss'] / 1024:.1f} MiB | "
          f"{rr['rss'] / qq['rss']:.2f} | remu < 12 MiB |")
    print(f"| process start to first KVM_RUN | {fmt_ms(rr['first_run'])} | {fmt_ms(qq['first_run'])} | "
          f"{rr['first_run'] / qq['first_run']:.2f} | remu ≤ 10 ms |")
    bare_txt = f"{bare_ns / 1000:.1f} µs bare kvm-ioctls" if bare_ns else "bare loop not built"
    ratio = f"{rr['pio'] * 1e9 / bare_ns:.2f}× bare" if bare_ns else ""
    print(f"| port-I/O exit round trip | {fmt_us(rr['pio'])} | {fmt_us(qq['pio'])} | {rr['pio'] / qq['pio']:.2f} "
          f"({ratio}) | ≤ 1.1× bare ({bare_txt}) |")
    print(f"| virtio-blk request round trip (ioeventfd, polled) | {fmt_us(rr['virtio'])} | {fmt_us(qq['virtio'])} | "
          f"{rr['virtio'] / qq['virtio']:.2f} | |")
    if linux:
        r, q = linux.get("remu"), linux.get("qemu")
        ratio = f"{r / q:.2f}" if r and q else "n/a"
        print(f"| Linux boot to GUEST-BOOT-OK | {fmt_ms(r) if r else 'failed'} | {fmt_ms(q) if q else 'failed'} | {ratio} | ≤ 0.8 |")
    else:
        why = "needs hardware KVM" if kvm_kind != "hardware" else "set REMU_GUEST_ASSETS"
        print(f"| Linux boot to GUEST-BOOT-OK | not measured ({why}) | | | ≤ 0.8 |")


if __name__ == "__main__":
    main()
