//! virtio devices over the virtio-mmio transport.
//!
//! [`mmio::VirtioMmio`] is the transport (register file, feature negotiation, queue set-up,
//! interrupt status); a [`VirtioDevice`] is the device behind it: [`block`], [`net`],
//! [`rng`]. Rings are read and written through the virtio-queue crate; every descriptor a
//! guest hands over is checked here before any byte moves ([`collect_chain`]): its buffer
//! must lie in guest RAM, the chain must end (no loop, no index past the table), and each
//! device checks the direction of each buffer. A malformed request fails (an error status
//! where the status buffer is sound, else a used entry of length 0) and nothing else; a
//! broken ring (used ring outside RAM) sets DEVICE_NEEDS_RESET.
//!
//! Threads: the guest reaches the transport from vCPU threads (register accesses) and the
//! device from the I/O thread (queue notifications arrive as eventfd events, through KVM
//! ioeventfds when the accelerator offers them, so serving a request needs no vCPU exit).
//!
//! # Source
//! Virtual I/O Device (VIRTIO) Version 1.2, §2 (basic facilities), §2.7 (split virtqueues),
//! §4.2 (virtio over MMIO), §5.1 (network), §5.2 (block), §5.4 (entropy).

pub mod block;
pub mod mmio;
pub mod net;
pub mod rng;
pub mod tap;

use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use virtio_queue::{DescriptorChain, Queue};
use vm_memory::GuestMemoryMmap;

use crate::irq::IrqLine;
use crate::memory::GuestRam;

/// VIRTIO_F_VERSION_1.
pub const F_VERSION_1: u64 = 1 << 32;
/// VIRTIO_F_RING_EVENT_IDX.
pub const F_EVENT_IDX: u64 = 1 << 29;

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

/// The guest broke a ring beyond what a failed request can express (for example its used
/// ring is not in RAM); the transport then sets DEVICE_NEEDS_RESET.
#[derive(Debug, thiserror::Error)]
#[error("virtqueue {queue}: {msg}")]
pub struct QueueBroken {
    /// Queue index.
    pub queue: usize,
    /// What is wrong.
    pub msg: String,
}

/// The interrupt of one transport: the InterruptStatus bits and the line they drive.
#[derive(Clone)]
pub struct Interrupt {
    status: Arc<Mutex<u32>>,
    line: Arc<dyn IrqLine>,
}

/// InterruptStatus bit: a used ring was updated.
pub const INT_VRING: u32 = 1;
/// InterruptStatus bit: the configuration changed.
pub const INT_CONFIG: u32 = 2;

impl Interrupt {
    /// An interrupt driving `line`.
    pub fn new(line: Arc<dyn IrqLine>) -> Self {
        Self { status: Arc::new(Mutex::new(0)), line }
    }

    fn update(&self, f: impl FnOnce(u32) -> u32) {
        let mut s = match self.status.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *s = f(*s);
        self.line.set_level(*s != 0);
    }

    /// Raises `bits` (INT_VRING, INT_CONFIG).
    pub fn raise(&self, bits: u32) {
        self.update(|s| s | bits);
    }

    /// The driver acknowledged `bits`.
    pub fn ack(&self, bits: u32) {
        self.update(|s| s & !bits);
    }

    /// Current InterruptStatus.
    pub fn status(&self) -> u32 {
        match self.status.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}

/// What a device needs once the driver set DRIVER_OK.
pub struct Activation {
    /// The configured queues (sizes and ring addresses checked).
    pub queues: Vec<Queue>,
    /// Guest RAM.
    pub ram: Arc<GuestRam>,
    /// Used-buffer notification.
    pub interrupt: Interrupt,
    /// Features the driver accepted.
    pub features: u64,
}

/// A device behind a virtio-mmio transport.
pub trait VirtioDevice: Send {
    /// virtio device ID (1 net, 2 block, 4 entropy).
    fn device_id(&self) -> u32;
    /// Maximum size of each queue.
    fn queue_max_sizes(&self) -> Vec<u16>;
    /// Device feature bits (the transport adds VERSION_1).
    fn features(&self) -> u64;
    /// Reads the device-specific configuration space.
    fn read_config(&self, offset: u64, data: &mut [u8]);
    /// Writes the configuration space (ignored by default).
    fn write_config(&mut self, _offset: u64, _data: &[u8]) {}
    /// Starts the device with its queues.
    fn activate(&mut self, a: Activation) -> Result<(), String>;
    /// Stops the device and drops its queues (device reset).
    fn reset(&mut self);
    /// The driver notified queue `queue`. Returns true if the device wants its host fd
    /// watched again (it paused it for lack of guest buffers).
    fn queue_notify(&mut self, queue: usize) -> Result<bool, QueueBroken>;
    /// A host fd the I/O thread should watch for this device (a tap), if any.
    fn host_fd(&self) -> Option<RawFd> {
        None
    }
    /// The host fd is readable. Returns false to stop watching it until
    /// [`Self::queue_notify`] asks again.
    fn host_fd_ready(&mut self) -> Result<bool, QueueBroken> {
        Ok(true)
    }
}

/// One buffer of a descriptor chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buf {
    /// Guest-physical address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u32,
    /// Device-writable (VRING_DESC_F_WRITE).
    pub write: bool,
    /// Entirely inside guest RAM.
    pub in_ram: bool,
}

/// A descriptor chain read from the ring, checked.
#[derive(Debug)]
pub struct Chain {
    /// Head index (for the used ring).
    pub head: u16,
    /// Buffers in order.
    pub bufs: Vec<Buf>,
    /// The chain did not end properly (a loop, a `next` past the table, a bad indirect
    /// table): nothing in it may be trusted, not even the place for a status byte.
    pub truncated: bool,
}

impl Chain {
    /// True when every buffer is in RAM and the chain ended properly.
    pub fn sound(&self) -> bool {
        !self.truncated && self.bufs.iter().all(|b| b.in_ram)
    }
}

/// Reads and checks the chain `c` (its length is bounded by virtio-queue: at most the queue
/// size, or the indirect table size).
pub fn collect_chain(c: DescriptorChain<&GuestMemoryMmap<()>>, ram: &GuestRam) -> Chain {
    let head = c.head_index();
    let mut bufs = Vec::new();
    let mut last_has_next = true;
    for d in c {
        bufs.push(Buf {
            addr: d.addr().0,
            len: d.len(),
            write: d.is_write_only(),
            in_ram: ram.contains(d.addr().0, d.len() as u64),
        });
        last_has_next = d.has_next();
    }
    Chain { head, truncated: bufs.is_empty() || last_has_next, bufs }
}

/// Copies `data` into the device-writable buffers `bufs`; returns the bytes written.
pub fn write_to_bufs(ram: &GuestRam, bufs: &[Buf], data: &[u8]) -> usize {
    let mut done = 0;
    for b in bufs.iter().filter(|b| b.write && b.in_ram) {
        if done == data.len() {
            break;
        }
        let n = (b.len as usize).min(data.len() - done);
        if ram.write(b.addr, &data[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    done
}

/// Gathers the device-readable buffers of `bufs`, at most `max` bytes.
pub fn read_from_bufs(ram: &GuestRam, bufs: &[Buf], max: usize) -> Option<Vec<u8>> {
    let total: usize = bufs.iter().filter(|b| !b.write).map(|b| b.len as usize).sum();
    if total > max {
        return None;
    }
    let mut v = vec![0u8; total];
    let mut off = 0;
    for b in bufs.iter().filter(|b| !b.write) {
        ram.read(b.addr, &mut v[off..off + b.len as usize]).ok()?;
        off += b.len as usize;
    }
    Some(v)
}

#[cfg(test)]
pub(crate) mod testq {
    //! A split virtqueue laid out in guest RAM by hand, for device unit tests.
    use super::*;
    use crate::bus::Endian::Little;
    use virtio_queue::QueueT;

    pub const DESC: u64 = 0x1000;
    pub const AVAIL: u64 = 0x2000;
    pub const USED: u64 = 0x3000;
    pub const SIZE: u16 = 16;

    pub struct TestQueue {
        pub ram: Arc<GuestRam>,
        avail_idx: u16,
        pub used_seen: u16,
    }

    impl TestQueue {
        pub fn new() -> Self {
            Self { ram: Arc::new(GuestRam::new(&[(0, 1 << 20)]).unwrap()), avail_idx: 0, used_seen: 0 }
        }

        /// A queue object as the transport would build it.
        pub fn queue(&self) -> Queue {
            let mut q = Queue::new(SIZE).unwrap();
            q.set_size(SIZE);
            q.set_desc_table_address(Some(DESC as u32), Some(0));
            q.set_avail_ring_address(Some(AVAIL as u32), Some(0));
            q.set_used_ring_address(Some(USED as u32), Some(0));
            q.set_ready(true);
            q
        }

        pub fn set_desc(&self, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
            let d = DESC + 16 * i as u64;
            self.ram.write_u64(d, addr, Little).unwrap();
            self.ram.write_u32(d + 8, len, Little).unwrap();
            self.ram.write_u16(d + 12, flags, Little).unwrap();
            self.ram.write_u16(d + 14, next, Little).unwrap();
        }

        /// Offers the chain starting at `head`.
        pub fn push(&mut self, head: u16) {
            self.ram.write_u16(AVAIL + 4 + 2 * (self.avail_idx % SIZE) as u64, head, Little).unwrap();
            self.avail_idx = self.avail_idx.wrapping_add(1);
            self.ram.write_u16(AVAIL + 2, self.avail_idx, Little).unwrap();
        }

        /// The next used element (id, len), if the device produced one.
        pub fn pop_used(&mut self) -> Option<(u32, u32)> {
            let idx = self.ram.read_u16(USED + 2, Little).unwrap();
            if idx == self.used_seen {
                return None;
            }
            let e = USED + 4 + 8 * (self.used_seen % SIZE) as u64;
            self.used_seen = self.used_seen.wrapping_add(1);
            Some((self.ram.read_u32(e, Little).unwrap(), self.ram.read_u32(e + 4, Little).unwrap()))
        }
    }
}
