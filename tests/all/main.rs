//! remu's end-to-end tests: one integration-test binary, one module per area.
mod kvm;
mod kvm_linux;
mod kvm_virtio;
mod riscv64_insn;
mod rv_fuzz;
mod rv_gen;
mod rv_harness;
mod user_bench_checksums;
mod user_busybox;
mod user_common;
mod user_crosscheck;
mod user_errors;
mod user_logging;
mod user_signals;
mod user_smc;
mod user_sysroot;
mod user_threads;
