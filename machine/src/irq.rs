//! Interrupt lines from devices to an interrupt controller.
//!
//! A device drives an [`IrqLine`] as a level, the way the pin of a real chip behaves; it never
//! knows what is on the other end. The accelerator supplies the line for each board input
//! (`Accelerator::connect_irq`): under KVM an [`EventFdIrq`] whose eventfd is registered as an
//! irqfd, so raising it from the I/O thread injects the interrupt without a vCPU exit; under
//! TCG the emulated interrupt controller's input. [`EventFdIrq`] turns a rising level into one
//! eventfd write (an edge); boards declare such inputs edge-triggered to the guest (MADT /
//! ACPI `_CRS`), and drivers that acknowledge a status register before scanning their rings
//! (virtio-mmio, 8250) never lose an event that way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use vmm_sys_util::eventfd::EventFd;

/// One interrupt output of a device.
pub trait IrqLine: Send + Sync {
    /// Drives the line to `level` (true = asserted).
    fn set_level(&self, level: bool);
    /// Asserts then deasserts the line (a message-style interrupt).
    fn pulse(&self) {
        self.set_level(true);
        self.set_level(false);
    }
}

/// A line connected to nothing (a device whose interrupt a board does not wire).
pub struct NoIrq;

impl IrqLine for NoIrq {
    fn set_level(&self, _level: bool) {}
}

/// A line whose rising edges are writes to an eventfd (KVM irqfd, or an I/O-thread waiter).
pub struct EventFdIrq {
    fd: EventFd,
    level: AtomicBool,
}

impl EventFdIrq {
    /// Wraps `fd`.
    pub fn new(fd: EventFd) -> Self {
        Self { fd, level: AtomicBool::new(false) }
    }

    /// The eventfd written on each rising edge.
    pub fn eventfd(&self) -> &EventFd {
        &self.fd
    }
}

impl IrqLine for EventFdIrq {
    fn set_level(&self, level: bool) {
        let was = self.level.swap(level, Ordering::AcqRel);
        if level && !was {
            // An eventfd write fails only if the counter would overflow (2^64 - 2 pending
            // edges): the interrupt is pending anyway, so nothing is lost.
            let _ = self.fd.write(1);
        }
    }

    fn pulse(&self) {
        self.level.store(false, Ordering::Release);
        let _ = self.fd.write(1);
    }
}

/// A line that records every level change (for device unit tests).
#[derive(Default)]
pub struct RecordingIrq {
    /// Every level the device drove, in order.
    pub levels: Mutex<Vec<bool>>,
}

impl RecordingIrq {
    /// A fresh line.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The current level.
    pub fn level(&self) -> bool {
        self.levels.lock().map(|l| l.last().copied().unwrap_or(false)).unwrap_or(false)
    }

    /// Number of rising edges seen.
    pub fn rising_edges(&self) -> usize {
        let l = self.levels.lock().map(|l| l.clone()).unwrap_or_default();
        let mut prev = false;
        let mut n = 0;
        for v in l {
            if v && !prev {
                n += 1;
            }
            prev = v;
        }
        n
    }
}

impl IrqLine for RecordingIrq {
    fn set_level(&self, level: bool) {
        if let Ok(mut l) = self.levels.lock() {
            l.push(level);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eventfd_line_writes_once_per_rising_edge() {
        let l = EventFdIrq::new(EventFd::new(libc::EFD_NONBLOCK).unwrap());
        l.set_level(true);
        l.set_level(true);
        assert_eq!(l.eventfd().read().unwrap(), 1);
        assert!(l.eventfd().read().is_err(), "no second edge while the level stays high");
        l.set_level(false);
        l.set_level(true);
        assert_eq!(l.eventfd().read().unwrap(), 1);
        l.pulse();
        l.pulse();
        assert_eq!(l.eventfd().read().unwrap(), 2);
    }
}
