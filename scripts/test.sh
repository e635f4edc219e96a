#!/usr/bin/env bash
# The test suite: what README's second command and CI (.ci/run) run.
#
# 1. installs what the tests need when it is missing (Debian packages: QEMU 7.2 as the
#    reference, the cross compilers that rebuild the guest programs, cmake for SoftFloat's
#    build, acpica-tools for the ACPI table check) - only as root, otherwise it says what is
#    missing;
# 2. downloads the Debian guest kit (kernels, busybox, a riscv64 sysroot) once into
#    $REMU_GUEST_ASSETS (default: target/guest-assets) with ../shared/guests/fetch.sh;
# 3. builds and runs every test in release mode (guest code runs fast, Cranelift compiles
#    fast), then the long decoder sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need=()
command -v qemu-riscv64 >/dev/null || need+=(qemu-user)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v riscv64-linux-gnu-gcc >/dev/null || need+=(gcc-riscv64-linux-gnu libc6-dev-riscv64-cross)
command -v s390x-linux-gnu-gcc >/dev/null || need+=(gcc-s390x-linux-gnu libc6-dev-s390x-cross)
command -v cmake >/dev/null || need+=(cmake)
command -v make >/dev/null || need+=(make)
command -v iasl >/dev/null || need+=(acpica-tools)
command -v ip >/dev/null || need+=(iproute2)
command -v unshare >/dev/null || need+=(util-linux)
command -v script >/dev/null || need+=(bsdutils)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "[test] installing: ${need[*]}"
        inst() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm --no-install-recommends "${need[@]}" >/dev/null; }
        inst || { apt-get update -qq && inst; }
    else
        echo "[test] missing packages (run as root to install them): ${need[*]}" >&2
    fi
fi

export REMU_GUEST_ASSETS=${REMU_GUEST_ASSETS:-$root/target/guest-assets}
fetch=$root/../shared/guests/fetch.sh
if [ -x "$fetch" ] || [ -f "$fetch" ]; then
    bash "$fetch" "$REMU_GUEST_ASSETS" > /dev/null
else
    echo "[test] no guest kit script at ../shared/guests/fetch.sh; tests needing guest assets will fail" >&2
fi

# our own guest programs must rebuild to the committed bytes
if command -v riscv64-linux-gnu-gcc >/dev/null; then
    guests/build.sh --check
fi

export CARGO_TERM_COLOR=never
cargo build --release --workspace --all-targets
cargo test --release --workspace
# the exhaustive 32-bit decoder sweep (a few minutes on 2 cores)
cargo test --release -p frontend -- --ignored
