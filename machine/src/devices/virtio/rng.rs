//! virtio-rng (virtio 1.2 §5.4): fills each device-writable buffer with bytes from the host's
//! /dev/urandom, at most 64 KiB per request. Device-readable buffers are ignored; a chain
//! that does not end properly completes with length 0.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use virtio_queue::Queue;

use super::{block::serve, Activation, Interrupt, QueueBroken, VirtioDevice};
use crate::memory::GuestRam;

/// virtio device ID of an entropy source.
pub const DEVICE_ID: u32 = 4;
const MAX_PER_REQUEST: usize = 64 * 1024;

/// A virtio-rng device.
pub struct Rng {
    source: File,
    queue: Option<Queue>,
    ram: Option<Arc<GuestRam>>,
    interrupt: Option<Interrupt>,
}

impl Rng {
    /// Opens the host entropy source.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self { source: File::open("/dev/urandom")?, queue: None, ram: None, interrupt: None })
    }
}

impl VirtioDevice for Rng {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }
    fn queue_max_sizes(&self) -> Vec<u16> {
        vec![64]
    }
    fn features(&self) -> u64 {
        super::F_EVENT_IDX
    }
    fn read_config(&self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }
    fn activate(&mut self, a: Activation) -> Result<(), String> {
        self.queue = a.queues.into_iter().next();
        self.ram = Some(a.ram);
        self.interrupt = Some(a.interrupt);
        Ok(())
    }
    fn reset(&mut self) {
        self.queue = None;
        self.ram = None;
        self.interrupt = None;
    }
    fn queue_notify(&mut self, q: usize) -> Result<bool, QueueBroken> {
        let (Some(ram), Some(irq)) = (self.ram.clone(), self.interrupt.clone()) else { return Ok(false) };
        let Some(mut queue) = self.queue.take().filter(|_| q == 0) else { return Ok(false) };
        let src = &mut self.source;
        let r = serve(&mut queue, &ram, &irq, |c| {
            if c.truncated {
                crate::guest_error!("virtio-rng chain", "descriptor chain loops or is cut short");
                return 0;
            }
            let want: usize = c.bufs.iter().filter(|b| b.write && b.in_ram).map(|b| b.len as usize).sum();
            let mut bytes = vec![0u8; want.min(MAX_PER_REQUEST)];
            if src.read_exact(&mut bytes).is_err() {
                return 0;
            }
            super::write_to_bufs(&ram, &c.bufs, &bytes) as u32
        });
        self.queue = Some(queue);
        r.map(|_| false)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testq::TestQueue;
    use super::*;
    use crate::irq::RecordingIrq;

    #[test]
    fn fills_writable_buffers_and_skips_bad_ones() {
        let mut r = Rng::new().unwrap();
        let mut tq = TestQueue::new();
        r.activate(Activation {
            queues: vec![tq.queue()],
            ram: tq.ram.clone(),
            interrupt: Interrupt::new(RecordingIrq::new()),
            features: 0,
        })
        .unwrap();
        tq.set_desc(0, 0x8000, 64, 2 | 1, 1);
        tq.set_desc(1, 0x7_0000_0000, 64, 2, 0); // outside RAM: skipped
        tq.push(0);
        r.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 64)));
        let mut a = [0u8; 64];
        tq.ram.read(0x8000, &mut a).unwrap();
        assert!(a.iter().any(|&x| x != 0));
        tq.set_desc(0, 0x8000, 64, 2 | 1, 0); // loops onto itself
        tq.push(0);
        r.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 0)));
    }
}
