//! A 16550A UART on the bus: the [`state`] machine plus its interrupt line, its output sink
//! and the input path from a character back end.
//!
//! Written here rather than taken from vm-superio because the shared machine model drives
//! interrupt *levels* (the RISC-V PLIC is level-triggered) and vm-superio's `Serial` only
//! fires edge triggers and clears every pending source on any IIR read.
//!
//! Threads: guest accesses come from vCPU threads, input from the I/O thread; both take the
//! state lock for one access. Output is written while holding it, so bytes from several vCPUs
//! stay in order.

pub mod regs;
pub mod state;

use std::io::Write;
use std::sync::{Arc, Mutex};

use vmm_sys_util::eventfd::EventFd;

use crate::bus::{AccessSize, MmioDevice, PioDevice};
use crate::irq::IrqLine;
use state::UartState;

struct Inner {
    uart: UartState,
    out: Box<dyn Write + Send>,
    level: bool,
    /// Set when input is waiting for room in the FIFO: the next guest read that makes room
    /// signals `room` so the I/O thread offers the rest.
    input_waiting: bool,
}

/// A 16550A UART.
pub struct Serial16550 {
    inner: Mutex<Inner>,
    irq: Arc<dyn IrqLine>,
    room: EventFd,
}

impl Serial16550 {
    /// A UART writing what the guest transmits to `out` and raising `irq`.
    pub fn new(irq: Arc<dyn IrqLine>, out: Box<dyn Write + Send>) -> std::io::Result<Self> {
        Ok(Self {
            inner: Mutex::new(Inner { uart: UartState::new(), out, level: false, input_waiting: false }),
            irq,
            room: EventFd::new(libc::EFD_NONBLOCK)?,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn update_irq(&self, inner: &mut Inner) {
        let level = inner.uart.irq_level();
        if level != inner.level {
            inner.level = level;
            self.irq.set_level(level);
        }
    }

    /// Offers bytes received from the host; returns how many the FIFO took. When it took
    /// fewer than offered, [`Self::room_eventfd`] is signalled once the guest drains the FIFO.
    pub fn receive(&self, data: &[u8]) -> usize {
        let mut g = self.lock();
        let n = g.uart.receive(data);
        g.input_waiting = n < data.len();
        self.update_irq(&mut g);
        n
    }

    /// Signalled when input that did not fit may now be offered again.
    pub fn room_eventfd(&self) -> &EventFd {
        &self.room
    }

    /// Serves a register read.
    pub fn read_reg(&self, offset: u8) -> u8 {
        let mut g = self.lock();
        let v = g.uart.read(offset);
        if g.input_waiting && g.uart.rx_len() == 0 {
            g.input_waiting = false;
            let _ = self.room.write(1);
        }
        self.update_irq(&mut g);
        v
    }

    /// Serves a register write.
    pub fn write_reg(&self, offset: u8, value: u8) {
        let mut g = self.lock();
        if let Some(b) = g.uart.write(offset, value) {
            // A console that cannot take output (closed pipe, full disk) loses the byte, as
            // a UART with nothing attached would; the guest must not stall on it.
            let _ = g.out.write_all(&[b]);
            let _ = g.out.flush();
        }
        self.update_irq(&mut g);
    }
}

impl PioDevice for Serial16550 {
    fn read(&self, offset: u16, _size: AccessSize) -> u32 {
        self.read_reg(offset as u8) as u32
    }
    fn write(&self, offset: u16, _size: AccessSize, value: u32) {
        self.write_reg(offset as u8, value as u8)
    }
}

impl MmioDevice for Serial16550 {
    fn read(&self, offset: u64, _size: AccessSize) -> u64 {
        self.read_reg(offset as u8) as u64
    }
    fn write(&self, offset: u64, _size: AccessSize, value: u64) {
        self.write_reg(offset as u8, value as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::regs::*;
    use super::*;
    use crate::irq::RecordingIrq;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn output_irq_edges_and_input_backpressure() {
        let irq = RecordingIrq::new();
        let sink = Sink::default();
        let s = Serial16550::new(irq.clone(), Box::new(sink.clone())).unwrap();
        for b in b"hi" {
            PioDevice::write(&s, 0, AccessSize::B1, *b as u32);
        }
        assert_eq!(&*sink.0.lock().unwrap(), b"hi");
        s.write_reg(IIR_FCR, FCR_ENABLE);
        s.write_reg(IER, IER_ERBFI);
        assert_eq!(s.receive(&[b'k'; 20]), FIFO_LEN);
        assert!(irq.level());
        assert_eq!(irq.rising_edges(), 1);
        for _ in 0..FIFO_LEN {
            assert_eq!(s.read_reg(RBR_THR), b'k');
        }
        assert!(!irq.level());
        assert_eq!(s.room_eventfd().read().unwrap(), 1, "drained FIFO signals room");
        assert_eq!(s.receive(b"a"), 1);
        assert_eq!(irq.rising_edges(), 2);
    }
}
