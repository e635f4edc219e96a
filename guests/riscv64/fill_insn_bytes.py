#!/usr/bin/env python3
"""Fills the byte arrays of tests/all/riscv64_insn.rs from their asm comments, and the
`# bytes:` lines of the frontend's golden IR files (frontend/tests/golden/riscv64/*.s) from
their assembly source.

Each test reads `insn_test!(name, [..] /* asm; asm */, ...)`; the comment is assembled with
riscv64-linux-gnu-as (rv64gc + Zba/Zbb/Zbs; `c.` forms stay compressed, other instructions are
assembled with `.option norvc`) and the bytes are written back into the brackets. Needs the
cross toolchain only when a test is added or changed; the tests themselves never do.

Usage: guests/riscv64/fill_insn_bytes.py [tests/all/riscv64_insn.rs | golden/*.s ...]
"""
import os, re, subprocess, sys, tempfile

AS = "riscv64-linux-gnu-as"
OBJCOPY = "riscv64-linux-gnu-objcopy"
MARCH = "rv64gc_zba_zbb_zbs"

def assemble(src, sep=";"):
    lines = []
    for part in src.split(sep):
        part = part.split("#")[0].strip() if sep == "\n" else part.strip()
        label = ""
        m = re.match(r"^(\w+:)\s*(.*)$", part)
        if m:
            label, part = m.group(1), m.group(2)
            lines.append(label)
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

def golden(path):
    text = open(path).read()
    head = text.split("# bytes:")[0]
    code = assemble(head, "\n")
    rest = text[len(head):]
    rest = rest.split("\n", 1)[1] if rest.startswith("# bytes:") else rest
    open(path, "w").write(head + "# bytes: " + " ".join("%02x" % c for c in code) + "\n" + rest)

def main():
    paths = sys.argv[1:] or ["tests/all/riscv64_insn.rs"]
    for path in paths:
        if path.endswith(".s"):
            golden(path)
        else:
            insn_tests(path)

def insn_tests(path):
    text = open(path).read()
    pat = re.compile(r"(insn_test!\(\s*\w+,\s*)\[[^\]]*\](\s*/\*(.*?)\*/)", re.S)
    def repl(m):
        code = assemble(m.group(3))
        return m.group(1) + "[" + ", ".join("0x%02x" % c for c in code) + "]" + m.group(2)
    new = pat.sub(repl, text)
    if new != text:
        open(path, "w").write(new)

main()
