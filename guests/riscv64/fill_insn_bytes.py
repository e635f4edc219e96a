#!/usr/bin/env python3
"""Fills the byte arrays of tests/all/riscv64_insn.rs from their asm comments.

Each test reads `insn_test!(name, [..] /* asm; asm */, ...)`; the comment is assembled with
riscv64-linux-gnu-as (rv64gc + Zba/Zbb/Zbs; `c.` forms stay compressed, other instructions are
assembled with `.option norvc`) and the bytes are written back into the brackets. Needs the
cross toolchain only when a test is added or changed; the tests themselves never do.

Usage: guests/riscv64/fill_insn_bytes.py [tests/all/riscv64_insn.rs]
"""
import os, re, subprocess, sys, tempfile

AS = "riscv64-linux-gnu-as"
OBJCOPY = "riscv64-linux-gnu-objcopy"
MARCH = "rv64gc_zba_zbb_zbs"

def assemble(src):
    lines = []
    for part in src.split(";"):
        part = part.strip()
        if not part:
            continue
        if part.startswith(".word") or part.startswith(".half") or part.startswith(".byte"):
            lines.append(part)
        elif part.startswith("c."):
            lines += [".option rvc", part]
        else:
            lines += [".option norvc", part]
    with tempfile.TemporaryDirectory() as d:
        s, o, b = (os.path.join(d, n) for n in ("t.s", "t.o", "t.bin"))
        with open(s, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([AS, "-march=" + MARCH, s, "-o", o], check=True)
        subprocess.run([OBJCOPY, "-O", "binary", "-j", ".text", o, b], check=True)
        return open(b, "rb").read()

def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/all/riscv64_insn.rs"
    text = open(path).read()
    pat = re.compile(r"(insn_test!\(\s*\w+,\s*)\[[^\]]*\](\s*/\*(.*?)\*/)", re.S)
    def repl(m):
        code = assemble(m.group(3))
        return m.group(1) + "[" + ", ".join("0x%02x" % c for c in code) + "]" + m.group(2)
    new = pat.sub(repl, text)
    if new != text:
        open(path, "w").write(new)

main()
