//! virtio devices over the virtio-mmio transport (virtio 1.2, §4.2 "Virtio Over MMIO").

use std::path::PathBuf;

/// A virtio-blk disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockConfig {
    /// Raw image file.
    pub path: PathBuf,
    /// Refuse writes (the device offers VIRTIO_BLK_F_RO).
    pub readonly: bool,
    /// Writes go to a throwaway overlay; the file is never modified.
    pub snapshot: bool,
    /// Pass discards down to the file (punch holes).
    pub discard: bool,
}

/// A virtio-net NIC on a tap device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// Name of an existing tap interface.
    pub ifname: String,
    /// The NIC's MAC address.
    pub mac: [u8; 6],
}

/// One virtio device of a board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VirtioConfig {
    /// virtio-blk.
    Block(BlockConfig),
    /// virtio-net.
    Net(NetConfig),
    /// virtio-rng.
    Rng,
}
