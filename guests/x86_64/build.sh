#!/bin/sh
# Builds remu's x86-64 test guests with the host gcc into OUT (default: bin/ next to this
# script). Each program is linked twice: NAME.elf (entered by remu in 64-bit mode) and
# NAME-pvh.elf (with a PVH note: remu and QEMU's microvm enter it in 32-bit mode).
# The output is reproducible: no debug info, no build IDs, fixed flags and paths.
set -eu
cd "$(dirname "$0")"
OUT=${1:-bin}
mkdir -p "$OUT"
CC=${CC:-gcc}
CFLAGS="-O2 -std=gnu11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables
 -fno-unwind-tables -fcf-protection=none -mno-red-zone -mno-sse -mno-mmx -mno-avx -mno-80387 -mgeneral-regs-only
 -Wall -Wextra -Werror -Wno-unused-parameter -I."
LDFLAGS="-nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,link.ld -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
$CC $CFLAGS -c rt/start.S -o "$TMP/start.o"
$CC $CFLAGS -c rt/pvhnote.S -o "$TMP/pvhnote.o"
$CC $CFLAGS -c rt/rt.c -o "$TMP/rt.o"
$CC $CFLAGS -c rt/virtio.c -o "$TMP/virtio.o"
for prog in ${PROGS:-hello irq crash blk rng net bench}; do
    $CC $CFLAGS -c "$prog.c" -o "$TMP/$prog.o"
    $CC $CFLAGS $LDFLAGS -o "$OUT/$prog.elf" "$TMP/start.o" "$TMP/rt.o" "$TMP/virtio.o" "$TMP/$prog.o"
    $CC $CFLAGS $LDFLAGS -o "$OUT/$prog-pvh.elf" "$TMP/start.o" "$TMP/pvhnote.o" "$TMP/rt.o" "$TMP/virtio.o" "$TMP/$prog.o"
done
