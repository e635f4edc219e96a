//! Devices, each written once for every accelerator: they see bus accesses, drive
//! [`crate::irq::IrqLine`]s and touch guest RAM only through bounds-checked accessors.

pub mod acpi_pm;
pub mod debug_exit;
pub mod i8042;
pub mod serial16550;
pub mod virtio;
