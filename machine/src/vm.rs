//! A running machine: its RAM and buses ([`Machine`]), the stop protocol ([`SystemControl`])
//! and the vCPU threads ([`run`]).
//!
//! Threads: one per vCPU (created here, each owning its [`Vcpu`]), the I/O thread
//! ([`crate::event_loop`]) and the caller's thread, which waits in [`SystemControl::wait`]
//! for the first [`StopReason`], then kicks every vCPU and joins them. Any thread may ask the
//! machine to stop (a device on a vCPU thread for isa-debug-exit, the console on the I/O
//! thread for Ctrl-A x, a vCPU for a triple fault); the first request wins.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::accel::{GuestCrash, Vcpu, VcpuExit};
use crate::bus::{Bus, MmioDevice, PioDevice};
use crate::memory::{AddressSpace, GuestRam};

/// Why a machine stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The guest powered off.
    PowerOff,
    /// The guest asked for a reset (remu ends, as QEMU does with `-no-reboot`).
    Reset,
    /// isa-debug-exit received `value`; the process status is `(value << 1) | 1`.
    DebugExit(u32),
    /// The user quit from the console (Ctrl-A x) or a signal asked remu to stop.
    Quit,
    /// The guest cannot continue.
    Crashed(GuestCrash),
    /// A host failure stopped the machine.
    HostError(String),
}

impl StopReason {
    /// The process exit status for this stop.
    pub fn exit_status(&self) -> u8 {
        match self {
            Self::PowerOff | Self::Reset | Self::Quit => 0,
            Self::DebugExit(v) => ((v << 1) | 1) as u8,
            Self::Crashed(_) | Self::HostError(_) => 1,
        }
    }

    /// A message for stderr, if this stop deserves one.
    pub fn message(&self) -> Option<String> {
        match self {
            Self::Crashed(c) => Some(format!("guest crashed: {c}")),
            Self::HostError(e) => Some(e.clone()),
            _ => None,
        }
    }
}

/// The machine-wide stop flag and the first reason given.
#[derive(Default)]
pub struct SystemControl {
    reason: Mutex<Option<StopReason>>,
    cv: Condvar,
    stopping: AtomicBool,
}

impl SystemControl {
    /// A running machine's control block.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Asks the machine to stop; the first reason is kept, later ones are ignored.
    pub fn request_stop(&self, reason: StopReason) {
        let mut r = match self.reason.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if r.is_none() {
            *r = Some(reason);
        }
        self.stopping.store(true, Ordering::Release);
        self.cv.notify_all();
    }

    /// Whether a stop was requested (cheap: vCPU loops check it after every exit).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Blocks until a stop is requested and returns its reason.
    pub fn wait(&self) -> StopReason {
        let mut r = match self.reason.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        loop {
            if let Some(reason) = r.clone() {
                return reason;
            }
            r = match self.cv.wait_timeout(r, Duration::from_secs(1)) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// The reason, if a stop was requested.
    pub fn reason(&self) -> Option<StopReason> {
        match self.reason.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// One machine's guest-visible resources, shared by all vCPU threads and the I/O thread.
pub struct Machine {
    /// Guest RAM.
    pub ram: Arc<GuestRam>,
    /// Memory-mapped devices.
    pub mmio: Arc<Bus<dyn MmioDevice>>,
    /// Port-I/O devices (x86).
    pub pio: Arc<Bus<dyn PioDevice>>,
    /// Stop protocol.
    pub control: Arc<SystemControl>,
}

impl Machine {
    /// RAM plus MMIO, as a CPU sees it.
    pub fn address_space(&self) -> AddressSpace {
        AddressSpace { ram: self.ram.clone(), mmio: self.mmio.clone() }
    }
}

/// Runs `vcpus`, one host thread each, until the machine stops; returns why.
pub fn run(m: &Arc<Machine>, vcpus: Vec<Box<dyn Vcpu>>) -> StopReason {
    let kickers: Vec<_> = vcpus.iter().map(|v| v.kicker()).collect();
    let mut threads = Vec::new();
    for mut vcpu in vcpus {
        let mv = m.clone();
        let id = vcpu.id();
        let t = std::thread::Builder::new().name(format!("vcpu{id}")).spawn(move || {
            let m = mv;
            loop {
                let stop = match vcpu.run(&m) {
                    Ok(VcpuExit::Kicked) | Ok(VcpuExit::Halted) | Ok(VcpuExit::Debug) => None,
                    Ok(VcpuExit::Shutdown) => Some(StopReason::PowerOff),
                    Ok(VcpuExit::Reset) => Some(StopReason::Reset),
                    Ok(VcpuExit::Crashed(c)) => Some(StopReason::Crashed(c)),
                    Err(e) => Some(StopReason::HostError(format!("vCPU {id}: {e}"))),
                };
                if let Some(s) = stop {
                    m.control.request_stop(s);
                }
                if m.control.is_stopping() {
                    break;
                }
            }
        });
        match t {
            Ok(t) => threads.push(t),
            Err(e) => {
                m.control.request_stop(StopReason::HostError(format!("cannot start vCPU thread: {e}")));
                break;
            }
        }
    }
    let reason = m.control.wait();
    for k in &kickers {
        k.kick();
    }
    for t in threads {
        let _ = t.join();
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_stop_reason_wins() {
        let c = SystemControl::new();
        assert!(!c.is_stopping());
        c.request_stop(StopReason::DebugExit(3));
        c.request_stop(StopReason::PowerOff);
        assert!(c.is_stopping());
        assert_eq!(c.wait(), StopReason::DebugExit(3));
        assert_eq!(StopReason::DebugExit(3).exit_status(), 7);
        assert_eq!(StopReason::PowerOff.exit_status(), 0);
    }
}
