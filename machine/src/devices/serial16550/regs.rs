//! 16550A register offsets and bits.
//!
//! # Source
//! National Semiconductor / TI "PC16550D Universal Asynchronous Receiver/Transmitter with
//! FIFOs" datasheet (SNLS378), Table II "Summary of Registers" and Table IV "Interrupt
//! Control Functions".

/// Receiver buffer (read) / transmitter holding (write); divisor latch LSB when DLAB=1.
pub const RBR_THR: u8 = 0;
/// Interrupt enable; divisor latch MSB when DLAB=1.
pub const IER: u8 = 1;
/// Interrupt identification (read) / FIFO control (write).
pub const IIR_FCR: u8 = 2;
/// Line control.
pub const LCR: u8 = 3;
/// Modem control.
pub const MCR: u8 = 4;
/// Line status.
pub const LSR: u8 = 5;
/// Modem status.
pub const MSR: u8 = 6;
/// Scratch.
pub const SCR: u8 = 7;

/// IER: received data available.
pub const IER_ERBFI: u8 = 0x01;
/// IER: transmitter holding register empty.
pub const IER_ETBEI: u8 = 0x02;
/// IER: receiver line status.
pub const IER_ELSI: u8 = 0x04;
/// IER: modem status.
pub const IER_EDSSI: u8 = 0x08;

/// IIR: no interrupt pending.
pub const IIR_NONE: u8 = 0x01;
/// IIR: modem status (priority 4).
pub const IIR_MSI: u8 = 0x00;
/// IIR: THR empty (priority 3).
pub const IIR_THRI: u8 = 0x02;
/// IIR: received data available (priority 2).
pub const IIR_RDI: u8 = 0x04;
/// IIR: receiver line status (priority 1).
pub const IIR_RLSI: u8 = 0x06;
/// IIR: FIFOs enabled (bits 7:6).
pub const IIR_FIFO_ENABLED: u8 = 0xc0;

/// FCR: enable FIFOs.
pub const FCR_ENABLE: u8 = 0x01;
/// FCR: clear receive FIFO.
pub const FCR_CLEAR_RX: u8 = 0x02;

/// LCR: divisor latch access.
pub const LCR_DLAB: u8 = 0x80;

/// MCR: data terminal ready.
pub const MCR_DTR: u8 = 0x01;
/// MCR: request to send.
pub const MCR_RTS: u8 = 0x02;
/// MCR: OUT1.
pub const MCR_OUT1: u8 = 0x04;
/// MCR: OUT2.
pub const MCR_OUT2: u8 = 0x08;
/// MCR: loopback.
pub const MCR_LOOP: u8 = 0x10;

/// LSR: data ready.
pub const LSR_DR: u8 = 0x01;
/// LSR: overrun error.
pub const LSR_OE: u8 = 0x02;
/// LSR: THR empty.
pub const LSR_THRE: u8 = 0x20;
/// LSR: transmitter empty.
pub const LSR_TEMT: u8 = 0x40;

/// MSR: delta bits (cleared on read).
pub const MSR_DELTAS: u8 = 0x0f;
/// MSR: clear to send.
pub const MSR_CTS: u8 = 0x10;
/// MSR: data set ready.
pub const MSR_DSR: u8 = 0x20;
/// MSR: ring indicator.
pub const MSR_RI: u8 = 0x40;
/// MSR: data carrier detect.
pub const MSR_DCD: u8 = 0x80;

/// Receive FIFO depth of a 16550A.
pub const FIFO_LEN: usize = 16;
