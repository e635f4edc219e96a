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

use crate::accel::{GuestCrash, Kicker, Vcpu, VcpuExit};
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
    /// Kicked on every stop request, so a vCPU halted inside the accelerator notices.
    kickers: Mutex<Vec<Kicker>>,
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
        drop(r);
        let kickers = match self.kickers.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        for k in kickers {
            k.kick();
        }
    }

    /// Registers vCPUs to kick when a stop is requested.
    pub fn set_kickers(&self, k: Vec<Kicker>) {
        match self.kickers.lock() {
            Ok(mut g) => *g = k,
            Err(p) => *p.into_inner() = k,
        }
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

fn vcpu_loop(vcpu: &mut dyn Vcpu, m: &Machine) {
    let id = vcpu.id();
    loop {
        let stop = match vcpu.run(m) {
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
}

/// Runs `vcpus` until the machine stops; returns why. The first vCPU runs on the calling
/// thread (a new thread takes a scheduler tick to start on some hosts, and the boot CPU is
/// what the guest waits for), the others on one host thread each.
pub fn run(m: &Arc<Machine>, vcpus: Vec<Box<dyn Vcpu>>) -> StopReason {
    m.control.set_kickers(vcpus.iter().map(|v| v.kicker()).collect());
    let mut it = vcpus.into_iter();
    let Some(mut first) = it.next() else {
        return StopReason::HostError("no vCPU to run".into());
    };
    let mut threads = Vec::new();
    for mut vcpu in it {
        let mv = m.clone();
        let id = vcpu.id();
        let t = std::thread::Builder::new().name(format!("vcpu{id}")).spawn(move || {
            vcpu_loop(vcpu.as_mut(), &mv);
        });
        match t {
            Ok(t) => threads.push(t),
            Err(e) => {
                m.control.request_stop(StopReason::HostError(format!("cannot start vCPU thread: {e}")));
                break;
            }
        }
    }
    if !m.control.is_stopping() {
        vcpu_loop(first.as_mut(), m);
    }
    let reason = m.control.wait();
    for t in threads {
        let _ = t.join();
    }
    drop(first);
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
