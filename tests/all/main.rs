//! remu's end-to-end tests: one integration-test binary, one module per area.
mod riscv64_insn;
mod rv_harness;
mod kvm;
mod kvm_virtio;
mod user_common;
mod user_busybox;
mod user_signals;
mod user_errors;
mod user_sysroot;
mod kvm_linux;
mod user_logging;
