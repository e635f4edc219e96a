//! The power-management registers of a hardware-reduced ACPI platform: a sleep control
//! register (writing SLP_EN with sleep type 5, as `\_S5` in the DSDT says, powers off), a
//! sleep status register and a reset register (FADT RESET_REG / RESET_VALUE).
//!
//! # Source
//! ACPI Specification 6.5, §4.8.3.7 "Sleep Control and Status Registers" (SLP_TYP bits 4:2,
//! SLP_EN bit 5) and §4.8.3.6 "Reset Register".

use std::sync::Arc;

use crate::bus::{AccessSize, PioDevice};
use crate::vm::{StopReason, SystemControl};

/// Sleep type the board's `\_S5` object names (soft off).
pub const S5_SLEEP_TYPE: u8 = 5;
/// Value of FADT RESET_VALUE.
pub const RESET_VALUE: u8 = 1;

/// Three byte-wide ports: +0 sleep control, +1 sleep status, +2 reset.
pub struct AcpiPm {
    control: Arc<SystemControl>,
}

impl AcpiPm {
    /// Registers that stop the machine through `control`.
    pub fn new(control: Arc<SystemControl>) -> Self {
        Self { control }
    }
}

impl PioDevice for AcpiPm {
    fn read(&self, _offset: u16, _size: AccessSize) -> u32 {
        0
    }
    fn write(&self, offset: u16, _size: AccessSize, value: u32) {
        let v = value as u8;
        match offset {
            0 if v & 0x20 != 0 && (v >> 2) & 7 == S5_SLEEP_TYPE => self.control.request_stop(StopReason::PowerOff),
            2 if v == RESET_VALUE => self.control.request_stop(StopReason::Reset),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s5_powers_off_and_reset_resets() {
        let c = SystemControl::new();
        let pm = AcpiPm::new(c.clone());
        pm.write(0, AccessSize::B1, 5 << 2); // SLP_EN missing
        pm.write(0, AccessSize::B1, 0x20 | (3 << 2)); // S3: ignored
        assert!(!c.is_stopping());
        pm.write(0, AccessSize::B1, 0x20 | (5 << 2));
        assert_eq!(c.reason(), Some(StopReason::PowerOff));
        let c = SystemControl::new();
        AcpiPm::new(c.clone()).write(2, AccessSize::B1, 1);
        assert_eq!(c.reason(), Some(StopReason::Reset));
    }
}
