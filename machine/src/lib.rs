//! remu's machine model: everything a guest sees except the CPU itself.
//!
//! This crate owns guest RAM ([`memory`]), the MMIO and port-I/O buses ([`bus`]), interrupt
//! lines ([`irq`]), the I/O thread ([`event_loop`]), character back ends for serial consoles
//! ([`chardev`]), the devices ([`devices`]), the boards that put them together ([`boards`]),
//! kernel loading ([`loader`]) and the contract every accelerator implements ([`accel`]).
//! [`vm`] ties a board and a set of vCPUs together and runs them until the guest stops.
//!
//! Devices know nothing of accelerators: they see a bus access, an [`irq::IrqLine`] and guest
//! memory. Accelerators (accel-kvm today, accel-tcg for the RISC-V board) plug in through the
//! traits of [`accel`]. QEMU analogues: `hw/`, `system/memory.c`, `util/main-loop.c`,
//! `chardev/`; Firecracker analogues: `devices/`, `vstate/memory.rs`, `arch/`.
//!
//! Lock order (outermost first): a device's own state lock, then the chardev output lock.
//! No code holds two device locks at once; vCPU threads take a device lock only for the one
//! exit they are handling, the I/O thread only for the one event it is serving.
#![warn(missing_docs)]

pub mod accel;
pub mod acpi;
pub mod boards;
pub mod bus;
pub mod chardev;
pub mod devices;
pub mod event_loop;
pub mod irq;
pub mod loader;
pub mod log;
pub mod memory;
pub mod vm;

pub use vm::{Machine, StopReason, SystemControl};
