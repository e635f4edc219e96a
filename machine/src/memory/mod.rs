//! Guest physical memory: RAM ([`ram`]) and the view of RAM plus MMIO one CPU sees
//! ([`address_space`]).
//!
//! QEMU builds a tree of `MemoryRegion`s and flattens it; remu's boards are static, so a board
//! lists its RAM ranges once and its MMIO devices on a [`crate::bus::Bus`], and the flat view
//! is simply "RAM first, then the bus". KVM registers the RAM ranges as memory slots and
//! never sees the bus; TCG goes through [`address_space::AddressSpace`].

pub mod address_space;
pub mod ram;

pub use address_space::AddressSpace;
pub use ram::{GuestRam, MemoryError, RamRegion};
