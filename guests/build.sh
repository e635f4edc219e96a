#!/bin/sh
# Builds the guest test programs with Debian's cross compilers, reproducibly (fixed flags, no
# build id, no debug info), next to their sources: guests/<arch>/<name> from <name>.S or <name>.c.
#
#   guests/build.sh           rebuild every program in place
#   guests/build.sh --check   rebuild into a temporary directory and compare byte for byte
#                             with the committed binaries (exit 1 on any difference)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=build
[ "${1:-}" = "--check" ] && mode=check

RV_CC=${RV_CC:-riscv64-linux-gnu-gcc}
RV_FLAGS="-march=rv64gc_zba_zbb_zbs -mabi=lp64d -O2 -static -nostdlib -ffreestanding -fno-pic -no-pie \
 -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-stack-protector -g0 -Wall -Wextra -Werror \
 -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--hash-style=gnu -Wl,--no-warn-rwx-segments"

# Programs that need the C library (pthreads) link Debian's static glibc instead: the same
# code generation flags without -nostdlib/-ffreestanding. Static linking of the same libc.a is
# as reproducible as the rest (no build id, no time stamps, no paths); stripped (-s).
RV_LIBC_FLAGS="-march=rv64gc_zba_zbb_zbs -mabi=lp64d -O2 -static -s -pthread -fno-pic -no-pie \
 -fno-asynchronous-unwind-tables -fno-stack-protector -g0 -Wall -Wextra -Werror \
 -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--hash-style=gnu -Wl,--no-warn-rwx-segments"

flags_for() { # name: the flags of one program
    case $1 in
    threads | guestjit) echo "$RV_LIBC_FLAGS" ;;
    # smc rewrites its own text: -N (--omagic) makes the text segment writable
    smc) echo "$RV_FLAGS -Wl,-N" ;;
    *) echo "$RV_FLAGS" ;;
    esac
}

build_one() { # src out: compiled from the source's directory with a relative name, so that
    # no path of the build machine ends up in the binary (assembly sources name themselves
    # with a .file directive: otherwise the assembler records a random temporary name)
    src=$1
    out=$2
    file=$(basename "$src")
    flags=$(flags_for "${file%.*}")
    # shellcheck disable=SC2086
    (cd "$(dirname "$src")" && "$RV_CC" $flags -o "$out" "$file")
}

status=0
outdir=$here/riscv64
if [ "$mode" = check ]; then
    outdir=$(mktemp -d)
    trap 'rm -rf "$outdir"' EXIT
fi

for src in "$here"/riscv64/*.S "$here"/riscv64/*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src")
    name=${name%.*}
    build_one "$src" "$outdir/$name"
    if [ "$mode" = check ]; then
        if cmp -s "$outdir/$name" "$here/riscv64/$name"; then
            echo "ok: riscv64/$name"
        else
            echo "DIFFERS: riscv64/$name (rebuild with guests/build.sh and commit)"
            status=1
        fi
    else
        echo "built: riscv64/$name"
    fi
done
exit $status
# Expected outputs (riscv64/<name>.expected) are each program's stdout under qemu-riscv64:
#   qemu-riscv64 guests/riscv64/coverage > guests/riscv64/coverage.expected
