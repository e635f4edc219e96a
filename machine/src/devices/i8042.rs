//! The part of the i8042 keyboard controller a PC guest uses to reboot: command 0xfe on
//! port 0x64 pulses the CPU reset line (Linux `reboot=k`, its fallback on boards without an
//! ACPI reset register). Port 0x60 and the status register read as an idle controller with
//! empty buffers; there is no keyboard.
//!
//! # Source
//! IBM PC/AT Technical Reference, "Keyboard Controller", command 0xFE "pulse output port".

use std::sync::Arc;

use crate::bus::{AccessSize, PioDevice};
use crate::vm::{StopReason, SystemControl};

/// Ports 0x60..=0x64 of an i8042 that can only reset the machine.
pub struct I8042 {
    control: Arc<SystemControl>,
}

impl I8042 {
    /// A controller that stops the machine through `control` on a reset command.
    pub fn new(control: Arc<SystemControl>) -> Self {
        Self { control }
    }
}

impl PioDevice for I8042 {
    fn read(&self, _offset: u16, _size: AccessSize) -> u32 {
        0
    }
    fn write(&self, offset: u16, _size: AccessSize, value: u32) {
        if offset == 4 && value as u8 == 0xfe {
            self.control.request_stop(StopReason::Reset);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_command() {
        let c = SystemControl::new();
        let k = I8042::new(c.clone());
        k.write(0, AccessSize::B1, 0xfe);
        assert!(!c.is_stopping(), "0xfe on the data port is a keyboard byte");
        k.write(4, AccessSize::B1, 0xfe);
        assert_eq!(c.reason(), Some(StopReason::Reset));
    }
}
