//! One KVM vCPU: creation, the KVM_RUN loop, exit routing and kicks.
//!
//! [`handle_exit`] is the whole policy for an exit and is pure apart from the device
//! accesses it makes through the machine's buses: unit tests drive it with synthetic
//! `kvm_ioctls::VcpuExit` values. Port and MMIO accesses go to the buses; `KVM_EXIT_SHUTDOWN`
//! (a triple fault), internal errors and failed entries become
//! [`machine::accel::VcpuExit::Crashed`] with the guest rip and instruction bytes; system
//! events become power-off or reset.
//!
//! Kicks (QEMU `kvm_cpu_kick`): another thread sets `kvm_run.immediate_exit` and sends the
//! vCPU thread a real-time signal whose handler does nothing. A KVM_RUN already in progress
//! returns EINTR because of the signal; one about to start returns EINTR at once because of
//! `immediate_exit`; so no kick is ever lost.

use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Once};

use kvm_bindings::{
    kvm_run, CpuId, KVM_EXIT_INTERNAL_ERROR, KVM_SYSTEM_EVENT_CRASH, KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_SHUTDOWN,
};
use kvm_ioctls::{VcpuExit as KvmExit, VcpuFd, VmFd};
use machine::accel::{AccelError, CpuBoot, CpuConfig, GuestCrash, Kick, Kicker, Vcpu, VcpuExit};
use machine::memory::GuestRam;
use machine::Machine;

use crate::x86_64::{cpuid, msr, regs, walk};
use crate::{ioctl_err, KvmError};

/// What the run loop does after an exit.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// Re-enter the guest.
    Continue,
    /// Return this to the machine.
    Exit(VcpuExit),
    /// The guest cannot go on; the string says why. The caller adds rip and code bytes.
    Crash(String),
}

/// Serves one exit. `io_size` is the width of one port access (KVM reports string I/O as
/// `count` accesses of `io_size` bytes to the same port).
pub fn handle_exit(exit: KvmExit<'_>, io_size: usize, m: &Machine) -> Flow {
    match exit {
        KvmExit::IoOut(port, data) => {
            for chunk in data.chunks(io_size.max(1)) {
                if !m.pio.write_bytes(port, chunk) && machine::log::guest_errors_enabled() {
                    machine::guest_error!("unassigned port", "out to port {port:#x} ignored");
                }
            }
            Flow::Continue
        }
        KvmExit::IoIn(port, data) => {
            for chunk in data.chunks_mut(io_size.max(1)) {
                if !m.pio.read_bytes(port, chunk) && machine::log::guest_errors_enabled() {
                    machine::guest_error!("unassigned port", "in from port {port:#x} reads all ones");
                }
            }
            Flow::Continue
        }
        KvmExit::MmioRead(addr, data) => {
            if !m.mmio.read_bytes(addr, data) {
                machine::guest_error!("unassigned mmio", "read of {} bytes at {addr:#x} reads zero", data.len());
            }
            Flow::Continue
        }
        KvmExit::MmioWrite(addr, data) => {
            if !m.mmio.write_bytes(addr, data) {
                machine::guest_error!("unassigned mmio", "write of {} bytes at {addr:#x} ignored", data.len());
            }
            Flow::Continue
        }
        KvmExit::Hlt => Flow::Exit(VcpuExit::Halted),
        KvmExit::Debug(_) => Flow::Exit(VcpuExit::Debug),
        KvmExit::Intr | KvmExit::IrqWindowOpen => Flow::Continue,
        KvmExit::Shutdown => Flow::Crash("triple fault".into()),
        KvmExit::SystemEvent(kind, _) => match kind {
            KVM_SYSTEM_EVENT_SHUTDOWN => Flow::Exit(VcpuExit::Shutdown),
            KVM_SYSTEM_EVENT_RESET => Flow::Exit(VcpuExit::Reset),
            KVM_SYSTEM_EVENT_CRASH => Flow::Crash("guest reported a crash (KVM system event)".into()),
            other => Flow::Crash(format!("unexpected KVM system event {other}")),
        },
        KvmExit::InternalError => Flow::Crash("KVM internal error".into()),
        KvmExit::FailEntry(reason, cpu) => {
            Flow::Crash(format!("KVM could not enter the guest (hardware reason {reason:#x}, cpu {cpu})"))
        }
        KvmExit::Exception => Flow::Crash("unhandled exception exit".into()),
        other => Flow::Crash(format!("unexpected KVM exit {other:?}")),
    }
}

extern "C" fn kick_handler(_: c_int, _: *mut libc::siginfo_t, _: *mut c_void) {}

static KICK_SIGNAL: Once = Once::new();

fn kick_signal() -> c_int {
    vmm_sys_util::signal::SIGRTMIN()
}

/// Installs the no-op handler of the kick signal (once per process).
pub fn install_kick_handler() -> Result<(), KvmError> {
    let mut r = Ok(());
    KICK_SIGNAL.call_once(|| {
        r = vmm_sys_util::signal::register_signal_handler(kick_signal(), kick_handler).map_err(|e| KvmError::Host {
            what: "installing the vCPU kick signal handler",
            err: std::io::Error::from_raw_os_error(e.errno()),
        });
    });
    r
}

/// Where a kick lands: the vCPU's `kvm_run` page and thread, while it runs.
struct KickState {
    pending: AtomicBool,
    /// (address of kvm_run.immediate_exit, thread) while the vCPU thread is inside
    /// [`KvmVcpu::run`]; cleared before the mapping can go away.
    target: Mutex<Option<(usize, libc::pthread_t)>>,
}

impl Kick for KickState {
    fn kick(&self) {
        self.pending.store(true, Ordering::Release);
        let t = match self.target.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        };
        if let Some((imm, tid)) = t {
            // SAFETY: `imm` points at the immediate_exit byte of the vCPU's kvm_run mapping,
            // which stays mapped while `target` is Some (KvmVcpu clears it, under this lock,
            // before leaving run() and before it can be dropped). A u8 is always aligned, and
            // KVM reads it as a plain byte; AtomicU8 has the same layout.
            unsafe { (*(imm as *const AtomicU8)).store(1, Ordering::Release) };
            // SAFETY: `tid` is the vCPU thread, alive while it is inside run() (target is
            // Some only then); the kick signal has a no-op handler installed by
            // install_kick_handler, so delivery only interrupts KVM_RUN.
            unsafe { libc::pthread_kill(tid, kick_signal()) };
        }
    }
}

/// Exit counters shared by the vCPUs of one VM (`-d exits`).
#[derive(Default, Debug)]
pub struct ExitStats {
    /// Port-I/O exits.
    pub pio: std::sync::atomic::AtomicU64,
    /// MMIO exits.
    pub mmio: std::sync::atomic::AtomicU64,
}

/// A KVM vCPU.
pub struct KvmVcpu {
    stats: Arc<ExitStats>,
    fd: VcpuFd,
    id: u32,
    kick: Arc<KickState>,
    ram: Arc<GuestRam>,
    /// Address of this vCPU's kvm_run mapping (owned by `fd`).
    run_ptr: usize,
    /// Keeps the VM alive as long as its vCPU.
    _vm: Arc<VmFd>,
}

impl KvmVcpu {
    /// Creates and configures vCPU `cfg.id`.
    pub fn new(
        stats: Arc<ExitStats>,
        vm: &Arc<VmFd>,
        supported: &CpuId,
        cfg: &CpuConfig,
        ram: Arc<GuestRam>,
        _m: &Arc<Machine>,
    ) -> Result<Self, AccelError> {
        install_kick_handler()?;
        let fd = vm.create_vcpu(cfg.id as u64).map_err(ioctl_err("KVM_CREATE_VCPU"))?;
        let mut c = supported.clone();
        cpuid::filter(&mut c, cfg.id, cfg.count);
        fd.set_cpuid2(&c).map_err(ioctl_err("KVM_SET_CPUID2"))?;
        msr::set_boot_msrs(&fd)?;
        regs::set_fpu(&fd)?;
        regs::set_lint(&fd)?;
        if let CpuBoot::X86(boot) = &cfg.boot {
            regs::set_boot_state(&fd, boot)?;
        }
        let mut fd = fd;
        let run_ptr = fd.get_kvm_run() as *mut kvm_run as usize;
        Ok(Self {
            stats,
            fd,
            run_ptr,
            id: cfg.id,
            kick: Arc::new(KickState { pending: AtomicBool::new(false), target: Mutex::new(None) }),
            ram,
            _vm: vm.clone(),
        })
    }

    fn set_target(&mut self, on: bool) {
        let v = if on {
            let imm = std::ptr::addr_of_mut!(self.fd.get_kvm_run().immediate_exit) as usize;
            // SAFETY: pthread_self has no preconditions.
            Some((imm, unsafe { libc::pthread_self() }))
        } else {
            None
        };
        match self.kick.target.lock() {
            Ok(mut g) => *g = v,
            Err(p) => *p.into_inner() = v,
        }
    }

    fn crash(&self, reason: String) -> GuestCrash {
        let mut reason = reason;
        let (rip, linear) = match (self.fd.get_regs(), self.fd.get_sregs()) {
            (Ok(r), Ok(s)) => {
                let long = s.efer & (1 << 10) != 0 && s.cs.l == 1;
                (r.rip, if long { r.rip } else { s.cs.base.wrapping_add(r.rip) })
            }
            (Ok(r), Err(_)) => (r.rip, r.rip),
            _ => (0, 0),
        };
        if reason == "KVM internal error" {
            if let Some(sub) = self.internal_suberror() {
                let what = match sub {
                    1 => "emulation failure: KVM cannot emulate the instruction",
                    2 => "exception while delivering an exception",
                    3 => "fault while delivering an event",
                    4 => "unexpected exit reason",
                    _ => "unknown",
                };
                reason = format!("KVM internal error {sub} ({what})");
            }
        }
        GuestCrash { reason, pc: rip, insn: walk::code_bytes(&self.fd, &self.ram, linear) }
    }

    fn internal_suberror(&self) -> Option<u32> {
        let run = self.run_ptr as *const kvm_run;
        // SAFETY: `run_ptr` is this vCPU's kvm_run mapping, alive as long as `self.fd`, and
        // no KVM_RUN is in progress (we are on the vCPU thread, between runs). When
        // exit_reason says so, the `internal` union member is the live one; both are plain
        // integers.
        unsafe {
            if std::ptr::addr_of!((*run).exit_reason).read() != KVM_EXIT_INTERNAL_ERROR {
                return None;
            }
            Some(std::ptr::addr_of!((*run).__bindgen_anon_1.internal.suberror).read())
        }
    }

    fn run_loop(&mut self, m: &Machine) -> Result<VcpuExit, AccelError> {
        loop {
            if self.kick.pending.swap(false, Ordering::AcqRel) || m.control.is_stopping() {
                self.fd.set_kvm_immediate_exit(0);
                return Ok(VcpuExit::Kicked);
            }
            let run_ptr = self.run_ptr;
            let flow = match self.fd.run() {
                Ok(exit) => {
                    // String I/O is `count` accesses of `size` bytes; kvm-ioctls passes on only
                    // the concatenated data, so read the width from kvm_run.
                    match exit {
                        KvmExit::IoIn(..) | KvmExit::IoOut(..) => self.stats.pio.fetch_add(1, Ordering::Relaxed),
                        KvmExit::MmioRead(..) | KvmExit::MmioWrite(..) => {
                            self.stats.mmio.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => 0,
                    };
                    let io_size = match exit {
                        // SAFETY: `run_ptr` is this vCPU's kvm_run mapping (alive as long as
                        // `self.fd`); the exit is KVM_EXIT_IO, so the `io` union member is live.
                        // Only the `size` byte is read, which the borrowed data slice (at
                        // io.data_offset, past the header) does not cover.
                        KvmExit::IoIn(..) | KvmExit::IoOut(..) => unsafe {
                            std::ptr::addr_of!((*(run_ptr as *const kvm_run)).__bindgen_anon_1.io.size).read() as usize
                        },
                        _ => 1,
                    };
                    handle_exit(exit, io_size, m)
                }
                Err(e) if e.errno() == libc::EINTR => {
                    self.fd.set_kvm_immediate_exit(0);
                    continue;
                }
                Err(e) if e.errno() == libc::EAGAIN => continue,
                Err(e) => return Err(KvmError::Ioctl { what: "KVM_RUN", err: e }.into()),
            };
            match flow {
                Flow::Continue => {}
                Flow::Exit(e) => return Ok(e),
                Flow::Crash(reason) => return Ok(VcpuExit::Crashed(self.crash(reason))),
            }
        }
    }
}

impl Vcpu for KvmVcpu {
    fn id(&self) -> u32 {
        self.id
    }

    fn run(&mut self, m: &Machine) -> Result<VcpuExit, AccelError> {
        self.set_target(true);
        let r = self.run_loop(m);
        self.set_target(false);
        r
    }

    fn kicker(&self) -> Kicker {
        self.kick.clone()
    }
}

impl Drop for KvmVcpu {
    fn drop(&mut self) {
        self.set_target(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use machine::bus::{AccessSize, BusBuilder, Endian, MmioDevice, PioDevice};
    use machine::SystemControl;

    #[derive(Default)]
    struct Rec(Mutex<Vec<(u64, AccessSize, u64)>>);
    impl PioDevice for Rec {
        fn read(&self, offset: u16, _s: AccessSize) -> u32 {
            0x40 + offset as u32
        }
        fn write(&self, offset: u16, s: AccessSize, v: u32) {
            self.0.lock().unwrap().push((offset as u64, s, v as u64));
        }
    }
    impl MmioDevice for Rec {
        fn endian(&self) -> Endian {
            Endian::Big
        }
        fn read(&self, offset: u64, _s: AccessSize) -> u64 {
            0x0102_0304 + offset
        }
        fn write(&self, offset: u64, s: AccessSize, v: u64) {
            self.0.lock().unwrap().push((offset, s, v));
        }
    }

    fn machine() -> (Machine, Arc<Rec>, Arc<Rec>) {
        let pio_dev = Arc::new(Rec::default());
        let mmio_dev = Arc::new(Rec::default());
        let mut pio = BusBuilder::<dyn PioDevice>::new();
        pio.insert(0x3f8, 8, "rec", pio_dev.clone()).unwrap();
        let mut mmio = BusBuilder::<dyn MmioDevice>::new();
        mmio.insert(0xd000_0000, 0x1000, "rec", mmio_dev.clone()).unwrap();
        let m = Machine {
            ram: Arc::new(GuestRam::new(&[(0, 1 << 20)]).unwrap()),
            mmio: Arc::new(mmio.build()),
            pio: Arc::new(pio.build()),
            control: SystemControl::new(),
        };
        (m, pio_dev, mmio_dev)
    }

    #[test]
    fn port_io_reaches_the_device() {
        let (m, pio, _) = machine();
        assert_eq!(handle_exit(KvmExit::IoOut(0x3f9, &[0x41]), 1, &m), Flow::Continue);
        // `rep outsb` of three bytes: three byte writes to the same port.
        assert_eq!(handle_exit(KvmExit::IoOut(0x3f8, b"abc"), 1, &m), Flow::Continue);
        // One 16-bit `out`.
        handle_exit(KvmExit::IoOut(0x3fa, &[0x34, 0x12]), 2, &m);
        let w = pio.0.lock().unwrap().clone();
        assert_eq!(
            w,
            vec![
                (1, AccessSize::B1, 0x41),
                (0, AccessSize::B1, b'a' as u64),
                (0, AccessSize::B1, b'b' as u64),
                (0, AccessSize::B1, b'c' as u64),
                (2, AccessSize::B2, 0x1234)
            ]
        );
        let mut d = [0u8; 1];
        handle_exit(KvmExit::IoIn(0x3fd, &mut d), 1, &m);
        assert_eq!(d, [0x45]);
        let mut d = [0u8; 2];
        handle_exit(KvmExit::IoIn(0x80, &mut d), 2, &m);
        assert_eq!(d, [0xff, 0xff], "unassigned ports float high");
    }

    #[test]
    fn mmio_uses_device_byte_order() {
        let (m, _, mmio) = machine();
        let mut d = [0u8; 4];
        handle_exit(KvmExit::MmioRead(0xd000_0010, &mut d), 1, &m);
        assert_eq!(d, [0x01, 0x02, 0x03, 0x14]);
        handle_exit(KvmExit::MmioWrite(0xd000_0008, &[0xaa, 0xbb]), 1, &m);
        assert_eq!(mmio.0.lock().unwrap()[0], (8, AccessSize::B2, 0xaabb));
        let mut d = [0x55u8; 8];
        handle_exit(KvmExit::MmioRead(0xe000_0000, &mut d), 1, &m);
        assert_eq!(d, [0; 8], "unassigned MMIO reads zero");
    }

    #[test]
    fn policy_exits() {
        let (m, _, _) = machine();
        assert_eq!(handle_exit(KvmExit::Hlt, 1, &m), Flow::Exit(VcpuExit::Halted));
        assert_eq!(handle_exit(KvmExit::Shutdown, 1, &m), Flow::Crash("triple fault".into()));
        assert_eq!(
            handle_exit(KvmExit::SystemEvent(KVM_SYSTEM_EVENT_SHUTDOWN, &[]), 1, &m),
            Flow::Exit(VcpuExit::Shutdown)
        );
        assert_eq!(handle_exit(KvmExit::SystemEvent(KVM_SYSTEM_EVENT_RESET, &[]), 1, &m), Flow::Exit(VcpuExit::Reset));
        assert!(matches!(handle_exit(KvmExit::InternalError, 1, &m), Flow::Crash(s) if s.contains("internal")));
        assert!(matches!(handle_exit(KvmExit::FailEntry(0x21, 3), 1, &m), Flow::Crash(s) if s.contains("0x21")));
        assert_eq!(handle_exit(KvmExit::Intr, 1, &m), Flow::Continue);
    }
}
