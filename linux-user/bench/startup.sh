#!/usr/bin/env bash
# User-mode start-up time: `busybox true` and `busybox echo` under remu (and qemu-riscv64
# when installed), best and median of N runs, as a table. Target: remu well under 10 ms.
#
#   linux-user/bench/startup.sh [REMU] [N]     (REMU default: target/release/remu; N: 30)
#
# Needs the guest kit in $REMU_GUEST_ASSETS (default: target/guest-assets).
set -euo pipefail
cd "$(dirname "$0")/../.."
remu=${1:-target/release/remu}
n=${2:-30}
assets=${REMU_GUEST_ASSETS:-target/guest-assets}
bb=$assets/riscv64/busybox
[ -x "$remu" ] || { echo "no remu binary at $remu (cargo build --release --bin remu)" >&2; exit 1; }
[ -f "$bb" ] || { echo "no busybox at $bb (set REMU_GUEST_ASSETS)" >&2; exit 1; }

measure() { # prints "best median" in ms for the command in "$@"
    local t=()
    for _ in $(seq "$n"); do
        local s e
        s=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        e=$(date +%s%N)
        t+=($(( (e - s) / 1000 )))
    done
    printf '%s\n' "${t[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.2f %.2f\n", a[1] / 1000, a[int((NR + 1) / 2)] / 1000 }'
}

printf '%-34s %10s %10s\n' "command ($n runs)" "best ms" "median ms"
for args in "true" "echo hello"; do
    # shellcheck disable=SC2086
    read -r best med < <(measure "$remu" run "$bb" $args)
    printf '%-34s %10s %10s\n' "remu run busybox $args" "$best" "$med"
    if command -v qemu-riscv64 >/dev/null; then
        # shellcheck disable=SC2086
        read -r best med < <(measure qemu-riscv64 "$bb" $args)
        printf '%-34s %10s %10s\n' "qemu-riscv64 busybox $args" "$best" "$med"
    fi
done
read -r best med < <(measure "$remu" --version)
printf '%-34s %10s %10s\n' "remu --version (process start)" "$best" "$med"
