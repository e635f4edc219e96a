//! linux-user: runs one Linux program of a guest ISA as a host process (QEMU's linux-user).
pub mod host;
pub mod mmap;
