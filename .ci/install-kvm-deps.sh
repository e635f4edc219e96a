#!/bin/sh
# Debian packages the KVM tests and the KVM benchmark use (run as root):
#   acpica-tools  iasl, to disassemble remu's ACPI tables (tests/all/kvm.rs)
#   iproute2      ip netns / ip tuntap for the virtio-net test
#   util-linux    unshare, setpriv, script (unusable /dev/kvm and raw-terminal tests)
#   gcc           rebuilds guests/x86_64 to check the committed binaries are reproducible
#   strace, qemu-system-x86, python3   bench/kvm/bench.py only
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends acpica-tools iproute2 util-linux gcc libc6-dev \
    strace qemu-system-x86 python3
