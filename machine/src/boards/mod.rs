//! Boards: a memory map, a set of devices and the firmware-side tables a guest expects.

pub mod x86_microvm;
