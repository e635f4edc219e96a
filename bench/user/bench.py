#!/usr/bin/env python3
"""User-mode benchmark: remu (each backend) against qemu-riscv64 and native, same run.

Runs the ../shared/bench CPU programs (full size), python3.13 from the guest kit on
../shared/bench/workloads/pyloop.py, `python3.13 -c pass` and `busybox true`, alternating the
configurations round by round. Every run's output is checked (the CPU programs against
expected.txt, the others against qemu's), and the table reports median wall time, the ratio
to qemu-riscv64 of each remu backend, and peak RSS (from wait4). Writes results.json, a
Markdown table (table.md) and a bar chart (chart.svg) next to this script.

usage: bench.py [--rounds N] [--modes interp,baseline,jit,auto] [--only sha256,sort,...] [--quick]
  --quick runs the CPU programs with their reps=1 work instead of the full size.
Needs: remu built in release mode, qemu-riscv64, the riscv64 cross gcc (to build the
programs), and the guest kit (REMU_GUEST_ASSETS, or ../shared/guests/fetch.sh is run).
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHARED = ROOT.parent / "shared"
BENCHES = ["sha256", "sort", "matmul", "strmem", "vm", "listwalk"]


def remu_binary():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    exe = target / "release" / "remu"
    if not exe.exists():
        sys.exit(f"bench: {exe} missing: run `cargo build --release` first")
    return str(exe)


def assets():
    d = os.environ.get("REMU_GUEST_ASSETS")
    if d:
        return Path(d)
    d = ROOT / "target" / "guest-assets"
    subprocess.run(["bash", str(SHARED / "guests" / "fetch.sh"), str(d)], check=True, stdout=subprocess.DEVNULL)
    return d


def build_programs():
    out = ROOT / "target" / "bench"
    if not all((out / "riscv64" / b).exists() for b in BENCHES):
        subprocess.run(["bash", str(SHARED / "bench" / "build.sh"), str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


def run_rss(cmd, env=None):
    """Like run, but measures peak RSS with wait4 (no pipes kept open after exit)."""
    t0 = time.perf_counter()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 2)
        os.close(r)
        try:
            os.execve(cmd[0], cmd, env or os.environ)
        finally:
            os._exit(127)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status, ru = os.wait4(pid, 0)
    dt = time.perf_counter() - t0
    return dt, ru.ru_maxrss, os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace")


def which(name):
    for d in os.environ.get("PATH", "").split(":"):
        p = Path(d) / name
        if p.exists():
            return str(p)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--modes", default="interp,baseline,jit,auto")
    ap.add_argument("--only", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-native", action="store_true")
    a = ap.parse_args()
    remu = remu_binary()
    qemu = which("qemu-riscv64")
    if not qemu:
        sys.exit("bench: qemu-riscv64 not installed (apt-get install qemu-user)")
    kit = assets()
    progs = build_programs()
    modes = [m for m in a.modes.split(",") if m]
    expected = {}
    exp_file = SHARED / "bench" / ("expected-reps1.txt" if a.quick else "expected.txt")
    for line in exp_file.read_text().splitlines():
        expected[line.split(":")[0]] = line
    sysroot = kit / "riscv64" / "sysroot"
    py = sysroot / "usr" / "bin" / "python3.13"
    workloads = []
    for b in BENCHES:
        args = ["1"] if a.quick else []
        workloads.append((b, [str(progs / "riscv64" / b)] + args, str(progs / "x86_64" / b), args, expected[b]))
    workloads.append(("pyloop.py", [str(py), str(SHARED / "bench" / "workloads" / "pyloop.py")], None, [], None))
    workloads.append(("python -c pass", [str(py), "-c", "pass"], None, [], None))
    workloads.append(("busybox true", [str(kit / "riscv64" / "busybox"), "true"], None, [], None))
    if a.only:
        keep = set(a.only.split(","))
        workloads = [w for w in workloads if w[0] in keep]
    env = dict(os.environ, LC_ALL="C", PYTHONDONTWRITEBYTECODE="1")
    results = {}
    for name, guest, native, nargs, want in workloads:
        needs_sysroot = guest[0] == str(py)
        configs = {}
        qargs = ([qemu, "-L", str(sysroot)] if needs_sysroot else [qemu]) + guest
        configs["qemu"] = qargs
        for m in modes:
            configs[f"remu {m}"] = [remu, "run", "--backend", m] + (["-L", str(sysroot)] if needs_sysroot else []) + guest
        if native and not a.no_native:
            configs["native"] = [native] + nargs
        times = {k: [] for k in configs}
        rss = {k: [] for k in configs}
        reference = None
        for rnd in range(a.rounds):
            order = list(configs) if rnd % 2 == 0 else list(reversed(list(configs)))
            for k in order:
                dt, kb, code, out = run_rss(configs[k], env)
                out = out.strip()
                if want is not None and out != want:
                    sys.exit(f"bench: {name} under {k}: wrong output '{out[:200]}' (expected '{want}')")
                if want is None:
                    if k == "qemu":
                        reference = (out, code)
                    elif reference is not None and (out, code) != reference and k != "native":
                        sys.exit(f"bench: {name} under {k}: output/status differs from qemu's")
                times[k].append(dt)
                rss[k].append(kb)
                print(f"  {name:16} {k:12} {dt:8.3f}s {kb/1024:7.1f} MiB", file=sys.stderr, flush=True)
        results[name] = {k: {"median_s": statistics.median(times[k]), "all_s": times[k], "peak_rss_kib": max(rss[k])} for k in configs}
    (HERE / "results.json").write_text(json.dumps({"quick": a.quick, "rounds": a.rounds, "results": results}, indent=1))
    table = render_table(results, modes)
    (HERE / "table.md").write_text(table)
    (HERE / "chart.svg").write_text(render_svg(results, modes))
    print(table)


def geomean(xs):
    xs = [x for x in xs if x > 0]
    if not xs:
        return float("nan")
    p = 1.0
    for x in xs:
        p *= x
    return p ** (1 / len(xs))


def render_table(results, modes):
    cols = ["qemu"] + [f"remu {m}" for m in modes]
    lines = ["| workload | qemu-riscv64 (s) | " + " | ".join(f"{c} (s) | ×qemu" for c in cols[1:]) + " | native (s) | peak RSS remu auto / qemu |"]
    lines.append("|" + "---|" * (4 + 2 * (len(cols) - 1)))
    ratios = {c: [] for c in cols[1:]}
    for name, r in results.items():
        q = r["qemu"]["median_s"]
        row = [name, f"{q:.3f}"]
        for c in cols[1:]:
            if c in r:
                t = r[c]["median_s"]
                row += [f"{t:.3f}", f"**{t / q:.2f}**"]
                if name in BENCHES:
                    ratios[c].append(t / q)
            else:
                row += ["-", "-"]
        row.append(f"{r['native']['median_s']:.3f}" if "native" in r else "-")
        main = "remu auto" if "remu auto" in r else cols[-1]
        row.append(f"{r[main]['peak_rss_kib']/1024:.1f} / {r['qemu']['peak_rss_kib']/1024:.1f} MiB" if main in r else "-")
        lines.append("| " + " | ".join(row) + " |")
    g = ["geomean (CPU programs)", ""]
    for c in cols[1:]:
        g += ["", f"**{geomean(ratios[c]):.2f}**" if ratios[c] else "-"]
    g += ["", ""]
    lines.append("| " + " | ".join(g) + " |")
    return "\n".join(lines) + "\n"


def render_svg(results, modes):
    """Horizontal bars: time relative to qemu-riscv64 (1.0 = qemu) per workload and backend."""
    cols = [f"remu {m}" for m in modes]
    colors = ["#8e7cc3", "#3d85c6", "#6aa84f", "#e69138"]
    names = list(results)
    bar_h, gap, left, width = 12, 10, 140, 460
    maxr = max([results[n][c]["median_s"] / results[n]["qemu"]["median_s"] for n in names for c in cols if c in results[n]] + [1.0])
    maxr = min(maxr, 12.0)
    height = len(names) * (len(cols) * bar_h + gap) + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height}" font-family="sans-serif" font-size="11">']
    out.append(f'<text x="{left}" y="14">time relative to qemu-riscv64 (shorter is faster; line = qemu)</text>')
    y = 24
    for n in names:
        out.append(f'<text x="4" y="{y + bar_h * len(cols) / 2 + 4}">{n}</text>')
        for i, c in enumerate(cols):
            if c not in results[n]:
                continue
            r = results[n][c]["median_s"] / results[n]["qemu"]["median_s"]
            w = min(r, maxr) / maxr * width
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{colors[i % len(colors)]}"/>')
            out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 3}">{r:.2f}</text>')
            y += bar_h
        y += gap
    qx = left + width / maxr
    out.append(f'<line x1="{qx:.1f}" y1="20" x2="{qx:.1f}" y2="{y}" stroke="#000" stroke-dasharray="3,3"/>')
    ly = y + 14
    for i, c in enumerate(cols):
        out.append(f'<rect x="{left + i * 110}" y="{ly - 9}" width="10" height="10" fill="{colors[i % len(colors)]}"/><text x="{left + i * 110 + 14}" y="{ly}">{c}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
