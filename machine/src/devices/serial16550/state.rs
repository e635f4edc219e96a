//! The 16550A as a pure state machine: register reads and writes in, bytes out and an
//! interrupt level, no bus, no thread, no host I/O (so it is unit-tested exhaustively).
//!
//! Modelled: DLAB and the divisor latch, IER, the IIR priority scheme (line status, then
//! received data, then THR empty, then modem status) with the THRE interrupt cleared by an
//! IIR read that reports it or by a THR write, FCR FIFO enable and receive clear, the
//! 16-byte receive FIFO (1 byte with FIFOs off), LSR with overrun, MCR loopback (THR feeds
//! the receiver, MSR mirrors MCR) and the scratch register. Not modelled: baud timing (a
//! byte leaves the moment it is written, so THR is always empty), the character timeout
//! interrupt (data is reported at once, whatever the trigger level), parity and framing
//! errors, the transmit FIFO.

use std::collections::VecDeque;

use super::regs::*;

/// Register state of one UART.
#[derive(Clone, Debug)]
pub struct UartState {
    rx: VecDeque<u8>,
    ier: u8,
    lcr: u8,
    mcr: u8,
    lsr: u8,
    msr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    fifo_enabled: bool,
    thre_pending: bool,
}

impl Default for UartState {
    fn default() -> Self {
        Self::new()
    }
}

impl UartState {
    /// The power-on state: modem lines DCD, DSR and CTS asserted (a cable is attached),
    /// 115200 baud divisor.
    pub fn new() -> Self {
        Self {
            rx: VecDeque::with_capacity(FIFO_LEN),
            ier: 0,
            lcr: 0x03,
            mcr: MCR_OUT2,
            lsr: LSR_THRE | LSR_TEMT,
            msr: MSR_DCD | MSR_DSR | MSR_CTS,
            scr: 0,
            dll: 1,
            dlm: 0,
            fifo_enabled: false,
            thre_pending: false,
        }
    }

    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled {
            FIFO_LEN
        } else {
            1
        }
    }

    fn loopback(&self) -> bool {
        self.mcr & MCR_LOOP != 0
    }

    /// Free room in the receive FIFO.
    pub fn rx_room(&self) -> usize {
        self.rx_capacity().saturating_sub(self.rx.len())
    }

    /// Number of bytes waiting in the receive FIFO.
    pub fn rx_len(&self) -> usize {
        self.rx.len()
    }

    fn push_rx(&mut self, b: u8) -> bool {
        if self.rx.len() >= self.rx_capacity() {
            self.lsr |= LSR_OE;
            return false;
        }
        self.rx.push_back(b);
        self.lsr |= LSR_DR;
        true
    }

    /// Bytes arriving on the serial line (not in loopback mode, where the line is cut).
    /// Returns how many were taken; the rest must be offered again once the guest reads.
    pub fn receive(&mut self, data: &[u8]) -> usize {
        if self.loopback() {
            return 0;
        }
        let n = data.len().min(self.rx_room());
        for &b in &data[..n] {
            self.push_rx(b);
        }
        n
    }

    /// The highest-priority pending and enabled interrupt, as its IIR code.
    fn pending(&self) -> Option<u8> {
        if self.ier & IER_ELSI != 0 && self.lsr & LSR_OE != 0 {
            Some(IIR_RLSI)
        } else if self.ier & IER_ERBFI != 0 && self.lsr & LSR_DR != 0 {
            Some(IIR_RDI)
        } else if self.ier & IER_ETBEI != 0 && self.thre_pending {
            Some(IIR_THRI)
        } else if self.ier & IER_EDSSI != 0 && self.msr & MSR_DELTAS != 0 {
            Some(IIR_MSI)
        } else {
            None
        }
    }

    /// The INTR output: high while any enabled interrupt is pending.
    pub fn irq_level(&self) -> bool {
        self.pending().is_some()
    }

    fn set_msr_lines(&mut self, lines: u8) {
        let old = self.msr;
        let mut d = 0;
        if (old ^ lines) & MSR_CTS != 0 {
            d |= 0x01;
        }
        if (old ^ lines) & MSR_DSR != 0 {
            d |= 0x02;
        }
        if old & MSR_RI != 0 && lines & MSR_RI == 0 {
            d |= 0x04;
        }
        if (old ^ lines) & MSR_DCD != 0 {
            d |= 0x08;
        }
        self.msr = lines | (old & MSR_DELTAS) | d;
    }

    /// A guest read of register `offset` (0..=7).
    pub fn read(&mut self, offset: u8) -> u8 {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset & 7 {
            RBR_THR if dlab => self.dll,
            RBR_THR => {
                let b = self.rx.pop_front().unwrap_or(0);
                if self.rx.is_empty() {
                    self.lsr &= !LSR_DR;
                }
                b
            }
            IER if dlab => self.dlm,
            IER => self.ier,
            IIR_FCR => {
                let fifo = if self.fifo_enabled { IIR_FIFO_ENABLED } else { 0 };
                match self.pending() {
                    Some(code) => {
                        if code == IIR_THRI {
                            self.thre_pending = false;
                        }
                        code | fifo
                    }
                    None => IIR_NONE | fifo,
                }
            }
            LCR => self.lcr,
            MCR => self.mcr,
            LSR => {
                let v = self.lsr;
                self.lsr &= !LSR_OE;
                v
            }
            MSR => {
                let v = self.msr;
                self.msr &= !MSR_DELTAS;
                v
            }
            _ => self.scr,
        }
    }

    /// A guest write of `value` to register `offset`. Returns the byte to transmit, if any.
    pub fn write(&mut self, offset: u8, value: u8) -> Option<u8> {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset & 7 {
            RBR_THR if dlab => self.dll = value,
            RBR_THR => {
                // The byte leaves at once: THR is empty again before the guest can look.
                self.thre_pending = true;
                if self.loopback() {
                    self.push_rx(value);
                    return None;
                }
                return Some(value);
            }
            IER if dlab => self.dlm = value,
            IER => {
                let old = self.ier;
                self.ier = value & 0x0f;
                // Enabling the THRE interrupt while THR is empty raises it (datasheet,
                // IIR description; drivers start transmission this way).
                if self.ier & IER_ETBEI != 0 && old & IER_ETBEI == 0 {
                    self.thre_pending = true;
                }
            }
            IIR_FCR => {
                let enable = value & FCR_ENABLE != 0;
                if enable != self.fifo_enabled || value & FCR_CLEAR_RX != 0 {
                    self.rx.clear();
                    self.lsr &= !LSR_DR;
                }
                self.fifo_enabled = enable;
            }
            LCR => self.lcr = value,
            MCR => {
                self.mcr = value & 0x1f;
                if self.loopback() {
                    let mut lines = 0;
                    if value & MCR_RTS != 0 {
                        lines |= MSR_CTS;
                    }
                    if value & MCR_DTR != 0 {
                        lines |= MSR_DSR;
                    }
                    if value & MCR_OUT1 != 0 {
                        lines |= MSR_RI;
                    }
                    if value & MCR_OUT2 != 0 {
                        lines |= MSR_DCD;
                    }
                    self.set_msr_lines(lines);
                } else {
                    self.set_msr_lines(MSR_DCD | MSR_DSR | MSR_CTS);
                }
            }
            LSR | MSR => {}
            _ => self.scr = value,
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmit_and_thre_interrupt() {
        let mut u = UartState::new();
        assert!(!u.irq_level());
        assert_eq!(u.write(RBR_THR, b'a'), Some(b'a'));
        assert!(!u.irq_level(), "THRE interrupt is masked");
        u.write(IER, IER_ETBEI);
        assert!(u.irq_level());
        assert_eq!(u.read(IIR_FCR), IIR_THRI);
        assert!(!u.irq_level(), "reading IIR acknowledges THRE");
        assert_eq!(u.read(IIR_FCR), IIR_NONE);
        u.write(RBR_THR, b'b');
        assert!(u.irq_level(), "THR empties again after each byte");
        assert_eq!(u.read(LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
    }

    #[test]
    fn receive_fifo_and_rda_priority() {
        let mut u = UartState::new();
        assert_eq!(u.receive(b"xy"), 1, "FIFO off: a one-byte holding register");
        u.write(IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX);
        assert_eq!(u.rx_len(), 0);
        assert_eq!(u.receive(&[7u8; 20]), FIFO_LEN);
        assert_eq!(u.rx_room(), 0);
        u.write(IER, IER_ERBFI | IER_ETBEI);
        // Both RDA and THRE pending: RDA has priority.
        assert_eq!(u.read(IIR_FCR), IIR_RDI | IIR_FIFO_ENABLED);
        for _ in 0..FIFO_LEN {
            assert_ne!(u.read(LSR) & LSR_DR, 0);
            assert_eq!(u.read(RBR_THR), 7);
        }
        assert_eq!(u.read(LSR) & LSR_DR, 0);
        assert_eq!(u.read(IIR_FCR), IIR_THRI | IIR_FIFO_ENABLED);
        assert_eq!(u.read(IIR_FCR), IIR_NONE | IIR_FIFO_ENABLED);
    }

    #[test]
    fn dlab_switches_registers() {
        let mut u = UartState::new();
        u.write(LCR, LCR_DLAB | 3);
        u.write(RBR_THR, 0x0c);
        u.write(IER, 0x00);
        assert_eq!(u.read(RBR_THR), 0x0c);
        u.write(LCR, 3);
        assert_eq!(u.read(IER), 0, "IER untouched by divisor writes");
        assert_eq!(u.write(RBR_THR, b'z'), Some(b'z'));
    }

    #[test]
    fn loopback_feeds_receiver_and_msr() {
        let mut u = UartState::new();
        u.write(IIR_FCR, FCR_ENABLE);
        u.write(MCR, MCR_LOOP | MCR_RTS);
        assert_eq!(u.read(MSR) & 0xf0, MSR_CTS);
        assert_eq!(u.write(RBR_THR, 0x55), None);
        assert_eq!(u.read(RBR_THR), 0x55);
        assert_eq!(u.receive(b"q"), 0, "the line is cut in loopback");
        u.write(MCR, MCR_OUT2);
        assert_eq!(u.read(MSR) & 0xf0, MSR_DCD | MSR_DSR | MSR_CTS);
    }

    #[test]
    fn overrun_and_line_status_interrupt() {
        let mut u = UartState::new();
        u.write(IER, IER_ELSI);
        u.write(MCR, MCR_LOOP);
        u.write(RBR_THR, 1);
        u.write(RBR_THR, 2); // FIFO off: overrun
        assert!(u.irq_level());
        assert_eq!(u.read(IIR_FCR), IIR_RLSI);
        assert_ne!(u.read(LSR) & LSR_OE, 0);
        assert_eq!(u.read(LSR) & LSR_OE, 0, "reading LSR clears OE");
        assert!(!u.irq_level());
    }

    #[test]
    fn modem_status_interrupt() {
        let mut u = UartState::new();
        u.write(IER, IER_EDSSI);
        u.write(MCR, MCR_LOOP | MCR_DTR);
        assert!(u.irq_level());
        assert_eq!(u.read(IIR_FCR), IIR_MSI);
        u.read(MSR);
        assert!(!u.irq_level());
    }

    #[test]
    fn scratch_register() {
        let mut u = UartState::new();
        u.write(SCR, 0xa5);
        assert_eq!(u.read(SCR), 0xa5);
    }
}
