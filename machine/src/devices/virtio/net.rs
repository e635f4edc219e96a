//! virtio-net on a tap device (virtio 1.2 §5.1): one receive and one transmit queue, a
//! MAC address, no offloads. Every frame carries the 12-byte `virtio_net_hdr_v1`; the
//! device strips it on transmit and writes a zeroed one (num_buffers = 1) on receive.
//!
//! Receive is paced by the guest: a frame is read from the tap only when a receive buffer
//! is available; when none is, the tap fd is no longer watched until the guest adds buffers
//! (its notification of queue 0), so the I/O thread never spins. A frame larger than the
//! buffer offered is dropped (the buffer is returned with length 0).

use std::sync::Arc;

use virtio_queue::{Queue, QueueT};

use super::tap::Tap;
use super::{collect_chain, Activation, Interrupt, NetConfig, QueueBroken, VirtioDevice, INT_VRING};
use crate::memory::GuestRam;

/// virtio device ID of a network card.
pub const DEVICE_ID: u32 = 1;
/// VIRTIO_NET_F_MAC.
pub const F_MAC: u64 = 1 << 5;
const HDR: usize = 12;
const QUEUE_SIZE: u16 = 256;
const MAX_FRAME: usize = 65536;

/// A virtio-net device.
pub struct Net {
    tap: Tap,
    mac: [u8; 6],
    rx: Option<Queue>,
    tx: Option<Queue>,
    ram: Option<Arc<GuestRam>>,
    interrupt: Option<Interrupt>,
    pending: Option<Vec<u8>>,
}

impl Net {
    /// Opens the tap of `cfg`.
    pub fn new(cfg: &NetConfig) -> std::io::Result<Self> {
        let tap =
            Tap::open(&cfg.ifname).map_err(|e| std::io::Error::new(e.kind(), format!("tap '{}': {e}", cfg.ifname)))?;
        Ok(Self { tap, mac: cfg.mac, rx: None, tx: None, ram: None, interrupt: None, pending: None })
    }

    fn broken(q: usize) -> impl Fn(virtio_queue::Error) -> QueueBroken {
        move |e| QueueBroken { queue: q, msg: format!("{e:?}") }
    }

    fn transmit(&mut self) -> Result<(), QueueBroken> {
        let (Some(ram), Some(irq)) = (self.ram.clone(), self.interrupt.clone()) else { return Ok(()) };
        let Some(mut q) = self.tx.take() else { return Ok(()) };
        let tap = &mut self.tap;
        let r = super::block::serve(&mut q, &ram, &irq, |c| {
            if !c.sound() {
                crate::guest_error!("virtio-net tx", "transmit chain loops, is cut short or leaves RAM");
                return 0;
            }
            match super::read_from_bufs(&ram, &c.bufs, MAX_FRAME + HDR) {
                Some(f) if f.len() > HDR => {
                    // A full tap queue drops the frame, as a busy link would.
                    let _ = tap.write_frame(&f[HDR..]);
                }
                _ => crate::guest_error!("virtio-net tx", "frame without header or too large"),
            }
            0
        });
        self.tx = Some(q);
        r.map(|_| ()).map_err(|e| QueueBroken { queue: 1, ..e })
    }

    /// Delivers pending and newly arriving frames while receive buffers last. Returns
    /// false when the guest ran out of buffers (stop watching the tap).
    fn receive(&mut self) -> Result<bool, QueueBroken> {
        let (Some(ram), Some(irq)) = (self.ram.clone(), self.interrupt.clone()) else { return Ok(false) };
        let Some(mut q) = self.rx.take() else { return Ok(false) };
        let r = self.receive_into(&mut q, &ram, &irq);
        self.rx = Some(q);
        r
    }

    fn receive_into(&mut self, q: &mut Queue, ram: &GuestRam, irq: &Interrupt) -> Result<bool, QueueBroken> {
        let mem = ram.memory();
        if !q.ready() {
            self.pending = None;
            let mut buf = vec![0u8; MAX_FRAME];
            while self.tap.read_frame(&mut buf).is_ok() {}
            return Ok(true);
        }
        let mut delivered = 0;
        let more = loop {
            if self.pending.is_none() {
                let mut buf = vec![0u8; HDR + MAX_FRAME];
                match self.tap.read_frame(&mut buf[HDR..]) {
                    Ok(n) => {
                        buf.truncate(HDR + n);
                        buf[10] = 1; // num_buffers
                        self.pending = Some(buf);
                    }
                    Err(_) => break true,
                }
            }
            let Some(chain) = q.pop_descriptor_chain(mem) else {
                // No buffer: keep the frame, wait for the guest to add some.
                q.enable_notification(mem).map_err(Self::broken(0))?;
                match q.pop_descriptor_chain(mem) {
                    None => break false,
                    Some(c) => {
                        q.disable_notification(mem).map_err(Self::broken(0))?;
                        delivered += self.deliver(q, c, ram)?;
                        continue;
                    }
                }
            };
            delivered += self.deliver(q, chain, ram)?;
        };
        if delivered > 0 && q.needs_notification(mem).map_err(Self::broken(0))? {
            irq.raise(INT_VRING);
        }
        Ok(more)
    }

    fn deliver(
        &mut self,
        q: &mut Queue,
        chain: virtio_queue::DescriptorChain<&vm_memory::GuestMemoryMmap<()>>,
        ram: &GuestRam,
    ) -> Result<usize, QueueBroken> {
        let c = collect_chain(chain, ram);
        let frame = self.pending.take().unwrap_or_default();
        let room: usize = c.bufs.iter().filter(|b| b.write && b.in_ram).map(|b| b.len as usize).sum();
        let len = if c.truncated || room < frame.len() {
            crate::guest_error!(
                "virtio-net rx",
                "receive buffer unusable or too small for a {}-byte frame",
                frame.len()
            );
            0
        } else {
            super::write_to_bufs(ram, &c.bufs, &frame)
        };
        q.add_used(ram.memory(), c.head, len as u32).map_err(Self::broken(0))?;
        Ok(1)
    }
}

impl VirtioDevice for Net {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }
    fn queue_max_sizes(&self) -> Vec<u16> {
        vec![QUEUE_SIZE, QUEUE_SIZE]
    }
    fn features(&self) -> u64 {
        F_MAC | super::F_EVENT_IDX
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        let mut c = [0u8; 12];
        c[..6].copy_from_slice(&self.mac);
        c[8..10].copy_from_slice(&1u16.to_le_bytes()); // max_virtqueue_pairs
        for (i, b) in data.iter_mut().enumerate() {
            *b = c.get(offset as usize + i).copied().unwrap_or(0);
        }
    }
    fn activate(&mut self, a: Activation) -> Result<(), String> {
        let mut qs = a.queues.into_iter();
        self.rx = qs.next();
        self.tx = qs.next();
        self.ram = Some(a.ram);
        self.interrupt = Some(a.interrupt);
        Ok(())
    }
    fn reset(&mut self) {
        self.rx = None;
        self.tx = None;
        self.ram = None;
        self.interrupt = None;
        self.pending = None;
    }
    fn queue_notify(&mut self, q: usize) -> Result<bool, QueueBroken> {
        match q {
            0 => self.receive(),
            1 => self.transmit().map(|_| false),
            _ => Ok(false),
        }
    }
    fn host_fd(&self) -> Option<std::os::fd::RawFd> {
        Some(self.tap.raw_fd())
    }
    fn host_fd_ready(&mut self) -> Result<bool, QueueBroken> {
        if self.rx.is_none() {
            // Not active: drain and drop what arrives, as an unplugged NIC would.
            let mut buf = vec![0u8; MAX_FRAME];
            while self.tap.read_frame(&mut buf).is_ok() {}
            return Ok(true);
        }
        self.receive()
    }
}
