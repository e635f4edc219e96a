//! isa-debug-exit: a port that ends remu with a status chosen by the guest, for test
//! programs (QEMU's `-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
//!
//! Writing `v` stops the machine with process status `(v << 1) | 1`, QEMU's convention, so
//! a guest can never fake a clean 0.

use std::sync::Arc;

use crate::bus::{AccessSize, PioDevice};
use crate::vm::{StopReason, SystemControl};

/// The isa-debug-exit port.
pub struct DebugExit {
    control: Arc<SystemControl>,
}

impl DebugExit {
    /// A port that stops the machine through `control`.
    pub fn new(control: Arc<SystemControl>) -> Self {
        Self { control }
    }
}

impl PioDevice for DebugExit {
    fn read(&self, _offset: u16, _size: AccessSize) -> u32 {
        0
    }
    fn write(&self, _offset: u16, _size: AccessSize, value: u32) {
        self.control.request_stop(StopReason::DebugExit(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_stops_with_value() {
        let c = SystemControl::new();
        let d = DebugExit::new(c.clone());
        d.write(0, AccessSize::B1, 0x10);
        assert_eq!(c.reason(), Some(StopReason::DebugExit(0x10)));
        assert_eq!(c.reason().unwrap().exit_status(), 0x21);
    }
}
