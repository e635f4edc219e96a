//! The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2): the register file a driver
//! programs, feature negotiation, queue configuration and the interrupt status.
//!
//! Registers are 32-bit and accessed as such (other widths read 0 and are logged as guest
//! errors); the device configuration space from 0x100 takes any width. Legacy (version 1)
//! transports are not offered.
//!
//! Notifications: each queue has an eventfd; a QueueNotify write that reaches the bus signals
//! it, and under KVM the accelerator signals it directly (ioeventfd with the queue index as
//! datamatch), so the I/O thread serves the queue without a vCPU exit either way.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use virtio_queue::{Queue, QueueT};
use vmm_sys_util::eventfd::EventFd;

use super::{Activation, Interrupt, QueueBroken, VirtioDevice, F_VERSION_1, INT_CONFIG};
use crate::accel::{AccelError, Accelerator, IoEventAddr};
use crate::bus::{AccessSize, MmioDevice};
use crate::event_loop::{Action, Ctl, Events};
use crate::memory::GuestRam;

/// Register offsets (virtio 1.2, Table 4.1).
pub mod reg {
    /// 0x74726976 ("virt").
    pub const MAGIC: u64 = 0x000;
    /// 2.
    pub const VERSION: u64 = 0x004;
    /// Device ID.
    pub const DEVICE_ID: u64 = 0x008;
    /// Vendor ID.
    pub const VENDOR_ID: u64 = 0x00c;
    /// Device features, 32 bits selected by DEVICE_FEATURES_SEL.
    pub const DEVICE_FEATURES: u64 = 0x010;
    /// Selects the device feature word.
    pub const DEVICE_FEATURES_SEL: u64 = 0x014;
    /// Driver features.
    pub const DRIVER_FEATURES: u64 = 0x020;
    /// Selects the driver feature word.
    pub const DRIVER_FEATURES_SEL: u64 = 0x024;
    /// Selects the queue the queue registers refer to.
    pub const QUEUE_SEL: u64 = 0x030;
    /// Maximum size of the selected queue.
    pub const QUEUE_NUM_MAX: u64 = 0x034;
    /// Size of the selected queue.
    pub const QUEUE_NUM: u64 = 0x038;
    /// Selected queue ready.
    pub const QUEUE_READY: u64 = 0x044;
    /// Queue notification (value: queue index).
    pub const QUEUE_NOTIFY: u64 = 0x050;
    /// Interrupt status.
    pub const INTERRUPT_STATUS: u64 = 0x060;
    /// Interrupt acknowledge.
    pub const INTERRUPT_ACK: u64 = 0x064;
    /// Device status.
    pub const STATUS: u64 = 0x070;
    /// Descriptor table address, low / high.
    pub const QUEUE_DESC_LOW: u64 = 0x080;
    /// .
    pub const QUEUE_DESC_HIGH: u64 = 0x084;
    /// Driver (available) ring address.
    pub const QUEUE_DRIVER_LOW: u64 = 0x090;
    /// .
    pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
    /// Device (used) ring address.
    pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
    /// .
    pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
    /// Shared memory region select / length / base (no regions: length reads all ones).
    pub const SHM_SEL: u64 = 0x0ac;
    /// .
    pub const SHM_LEN_LOW: u64 = 0x0b0;
    /// .
    pub const SHM_LEN_HIGH: u64 = 0x0b4;
    /// .
    pub const SHM_BASE_LOW: u64 = 0x0b8;
    /// .
    pub const SHM_BASE_HIGH: u64 = 0x0bc;
    /// Configuration generation.
    pub const CONFIG_GENERATION: u64 = 0x0fc;
    /// Start of the device configuration space.
    pub const CONFIG: u64 = 0x100;
}

/// Device status bits (virtio 1.2 §2.1).
pub mod status {
    /// ACKNOWLEDGE.
    pub const ACKNOWLEDGE: u32 = 1;
    /// DRIVER.
    pub const DRIVER: u32 = 2;
    /// DRIVER_OK.
    pub const DRIVER_OK: u32 = 4;
    /// FEATURES_OK.
    pub const FEATURES_OK: u32 = 8;
    /// DEVICE_NEEDS_RESET.
    pub const NEEDS_RESET: u32 = 0x40;
    /// FAILED.
    pub const FAILED: u32 = 0x80;
}

/// remu's virtio vendor ID ("REMU").
pub const VENDOR: u32 = 0x554d_4552;

#[derive(Clone, Copy, Default)]
struct QueueRegs {
    size: u16,
    ready: bool,
    desc: u64,
    avail: u64,
    used: u64,
}

#[derive(Default)]
struct Regs {
    dev_sel: u32,
    drv_sel: u32,
    drv_features: u64,
    queue_sel: u32,
    queues: Vec<QueueRegs>,
    status: u32,
    active: bool,
}

/// One virtio-mmio transport with its device.
pub struct VirtioMmio {
    regs: Mutex<Regs>,
    dev: Mutex<Box<dyn VirtioDevice>>,
    interrupt: Interrupt,
    ram: Arc<GuestRam>,
    notify: Vec<EventFd>,
    device_id: u32,
    max_sizes: Vec<u16>,
    features: u64,
    host_fd_paused: AtomicBool,
    bus_notifies: AtomicU64,
}

fn set_half(v: &mut u64, high: bool, x: u32) {
    if high {
        *v = (*v & 0xffff_ffff) | ((x as u64) << 32);
    } else {
        *v = (*v & !0xffff_ffff) | x as u64;
    }
}

impl VirtioMmio {
    /// A transport for `dev`, interrupting through `interrupt`.
    pub fn new(dev: Box<dyn VirtioDevice>, interrupt: Interrupt, ram: Arc<GuestRam>) -> std::io::Result<Arc<Self>> {
        let max_sizes = dev.queue_max_sizes();
        let notify = max_sizes.iter().map(|_| EventFd::new(libc::EFD_NONBLOCK)).collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(Self {
            regs: Mutex::new(Regs { queues: vec![QueueRegs::default(); max_sizes.len()], ..Default::default() }),
            device_id: dev.device_id(),
            features: dev.features() | F_VERSION_1,
            dev: Mutex::new(dev),
            interrupt,
            ram,
            notify,
            max_sizes,
            host_fd_paused: AtomicBool::new(false),
            bus_notifies: AtomicU64::new(0),
        }))
    }

    fn regs(&self) -> MutexGuard<'_, Regs> {
        match self.regs.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn dev(&self) -> MutexGuard<'_, Box<dyn VirtioDevice>> {
        match self.dev.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The queue-notification eventfd of queue `q`.
    pub fn notify_eventfd(&self, q: usize) -> Option<&EventFd> {
        self.notify.get(q)
    }

    /// Queue notifications that reached the bus (a vCPU exit each) rather than an
    /// accelerator's ioeventfd.
    pub fn bus_notifies(&self) -> u64 {
        self.bus_notifies.load(Ordering::Relaxed)
    }

    /// Current device status register.
    pub fn status(&self) -> u32 {
        self.regs().status
    }

    /// Registers the doorbells with the accelerator (as ioeventfds at `base` +
    /// QueueNotify) and the queue and host-fd handlers with the I/O thread.
    pub fn attach(self: &Arc<Self>, base: u64, ctl: &mut Ctl, accel: &dyn Accelerator) -> Result<(), AccelError> {
        for (q, fd) in self.notify.iter().enumerate() {
            accel.register_ioevent(IoEventAddr::Mmio(base + reg::QUEUE_NOTIFY), 4, Some(q as u64), fd)?;
            let me = self.clone();
            ctl.add_fd(fd.as_raw_fd(), Events::IN, move |ctl, _| {
                let _ = me.notify[q].read();
                me.serve_queue(q, ctl);
                Action::Keep
            });
        }
        self.watch_host_fd(ctl);
        Ok(())
    }

    fn watch_host_fd(self: &Arc<Self>, ctl: &mut Ctl) {
        let Some(fd) = self.dev().host_fd() else { return };
        let me = self.clone();
        ctl.add_fd(fd, Events::IN, move |_, _| {
            let r = me.dev().host_fd_ready();
            match r {
                Ok(true) => Action::Keep,
                Ok(false) => {
                    me.host_fd_paused.store(true, Ordering::Release);
                    Action::Remove
                }
                Err(e) => {
                    me.broken(e);
                    me.host_fd_paused.store(true, Ordering::Release);
                    Action::Remove
                }
            }
        });
    }

    /// Serves a notification of queue `q` (on the I/O thread).
    pub fn serve_queue(self: &Arc<Self>, q: usize, ctl: &mut Ctl) {
        let r = self.dev().queue_notify(q);
        match r {
            Ok(resume) => {
                if resume && self.host_fd_paused.swap(false, Ordering::AcqRel) {
                    self.watch_host_fd(ctl);
                }
            }
            Err(e) => self.broken(e),
        }
    }

    fn broken(&self, e: QueueBroken) {
        crate::guest_error!("virtio queue", "device {}: {e}; device needs reset", self.device_id);
        self.regs().status |= status::NEEDS_RESET;
        self.interrupt.raise(INT_CONFIG);
    }

    fn reset(&self, r: &mut Regs) {
        self.dev().reset();
        let n = r.queues.len();
        *r = Regs { queues: vec![QueueRegs::default(); n], ..Default::default() };
        self.interrupt.ack(u32::MAX);
    }

    fn activate(&self, r: &mut Regs) -> Result<(), String> {
        let mem = self.ram.memory();
        let mut queues = Vec::new();
        for (i, qr) in r.queues.iter().enumerate() {
            let mut q = Queue::new(self.max_sizes[i]).map_err(|e| format!("queue {i}: {e:?}"))?;
            if qr.ready {
                q.try_set_size(qr.size).map_err(|e| format!("queue {i}: size {}: {e:?}", qr.size))?;
                q.try_set_desc_table_address(vm_memory::GuestAddress(qr.desc))
                    .map_err(|e| format!("queue {i}: descriptor table: {e:?}"))?;
                q.try_set_avail_ring_address(vm_memory::GuestAddress(qr.avail))
                    .map_err(|e| format!("queue {i}: available ring: {e:?}"))?;
                q.try_set_used_ring_address(vm_memory::GuestAddress(qr.used))
                    .map_err(|e| format!("queue {i}: used ring: {e:?}"))?;
                q.set_event_idx(r.drv_features & super::F_EVENT_IDX != 0);
                q.set_ready(true);
                if !q.is_valid(mem) {
                    return Err(format!("queue {i}: rings are not inside guest RAM"));
                }
            }
            queues.push(q);
        }
        self.dev().activate(Activation {
            queues,
            ram: self.ram.clone(),
            interrupt: self.interrupt.clone(),
            features: r.drv_features,
        })
    }

    fn write_status(&self, r: &mut Regs, v: u32) {
        if v == 0 {
            self.reset(r);
            return;
        }
        let mut v = v & 0xff;
        if v & status::FEATURES_OK != 0 && r.status & status::FEATURES_OK == 0 {
            let ok = r.drv_features & !self.features == 0 && r.drv_features & F_VERSION_1 != 0;
            if !ok {
                crate::guest_error!(
                    "virtio features",
                    "device {}: driver features {:#x} not acceptable (offered {:#x})",
                    self.device_id,
                    r.drv_features,
                    self.features
                );
                v &= !status::FEATURES_OK;
            }
        }
        let newly_ok = v & status::DRIVER_OK != 0 && !r.active;
        r.status = v | (r.status & status::NEEDS_RESET);
        if newly_ok {
            if r.status & status::FEATURES_OK == 0 {
                crate::guest_error!("virtio status", "device {}: DRIVER_OK without FEATURES_OK", self.device_id);
                r.status |= status::NEEDS_RESET;
                return;
            }
            r.active = true;
            if let Err(e) = self.activate(r) {
                crate::guest_error!("virtio activate", "device {}: {e}", self.device_id);
                r.status |= status::NEEDS_RESET;
                self.interrupt.raise(INT_CONFIG);
            }
        }
    }

    fn read_reg(&self, offset: u64) -> u32 {
        let r = self.regs();
        let q = r.queues.get(r.queue_sel as usize).copied();
        match offset {
            reg::MAGIC => 0x7472_6976,
            reg::VERSION => 2,
            reg::DEVICE_ID => self.device_id,
            reg::VENDOR_ID => VENDOR,
            reg::DEVICE_FEATURES => match r.dev_sel {
                0 => self.features as u32,
                1 => (self.features >> 32) as u32,
                _ => 0,
            },
            reg::QUEUE_NUM_MAX => q.map(|_| self.max_sizes[r.queue_sel as usize] as u32).unwrap_or(0),
            reg::QUEUE_READY => q.map(|q| q.ready as u32).unwrap_or(0),
            reg::INTERRUPT_STATUS => self.interrupt.status(),
            reg::STATUS => r.status,
            reg::QUEUE_DESC_LOW => q.map(|q| q.desc as u32).unwrap_or(0),
            reg::QUEUE_DESC_HIGH => q.map(|q| (q.desc >> 32) as u32).unwrap_or(0),
            reg::QUEUE_DRIVER_LOW => q.map(|q| q.avail as u32).unwrap_or(0),
            reg::QUEUE_DRIVER_HIGH => q.map(|q| (q.avail >> 32) as u32).unwrap_or(0),
            reg::QUEUE_DEVICE_LOW => q.map(|q| q.used as u32).unwrap_or(0),
            reg::QUEUE_DEVICE_HIGH => q.map(|q| (q.used >> 32) as u32).unwrap_or(0),
            reg::SHM_LEN_LOW | reg::SHM_LEN_HIGH => u32::MAX,
            reg::CONFIG_GENERATION => 0,
            _ => {
                crate::guest_error!("virtio-mmio read", "read of write-only or unknown register {offset:#x}");
                0
            }
        }
    }

    fn write_reg(&self, offset: u64, v: u32) {
        let mut r = self.regs();
        let sel = r.queue_sel as usize;
        let driver_ok = r.status & status::DRIVER_OK != 0;
        let features_ok = r.status & status::FEATURES_OK != 0;
        match offset {
            reg::DEVICE_FEATURES_SEL => r.dev_sel = v,
            reg::DRIVER_FEATURES_SEL => r.drv_sel = v,
            reg::DRIVER_FEATURES if !features_ok => match r.drv_sel {
                0 => set_half(&mut r.drv_features, false, v),
                1 => set_half(&mut r.drv_features, true, v),
                _ => {}
            },
            reg::QUEUE_SEL => r.queue_sel = v,
            reg::QUEUE_NOTIFY => match self.notify.get(v as usize) {
                Some(fd) => {
                    self.bus_notifies.fetch_add(1, Ordering::Relaxed);
                    let _ = fd.write(1);
                }
                None => crate::guest_error!("virtio notify", "notify of queue {v}, which does not exist"),
            },
            reg::INTERRUPT_ACK => self.interrupt.ack(v),
            reg::STATUS => self.write_status(&mut r, v),
            _ if driver_ok => {
                crate::guest_error!("virtio-mmio write", "register {offset:#x} written after DRIVER_OK ignored");
            }
            reg::QUEUE_NUM
            | reg::QUEUE_READY
            | reg::QUEUE_DESC_LOW
            | reg::QUEUE_DESC_HIGH
            | reg::QUEUE_DRIVER_LOW
            | reg::QUEUE_DRIVER_HIGH
            | reg::QUEUE_DEVICE_LOW
            | reg::QUEUE_DEVICE_HIGH => {
                let Some(q) = r.queues.get_mut(sel) else {
                    crate::guest_error!("virtio-mmio write", "queue register of missing queue {sel}");
                    return;
                };
                match offset {
                    reg::QUEUE_NUM => q.size = v.min(u16::MAX as u32) as u16,
                    reg::QUEUE_READY => q.ready = v & 1 != 0,
                    reg::QUEUE_DESC_LOW => set_half(&mut q.desc, false, v),
                    reg::QUEUE_DESC_HIGH => set_half(&mut q.desc, true, v),
                    reg::QUEUE_DRIVER_LOW => set_half(&mut q.avail, false, v),
                    reg::QUEUE_DRIVER_HIGH => set_half(&mut q.avail, true, v),
                    reg::QUEUE_DEVICE_LOW => set_half(&mut q.used, false, v),
                    _ => set_half(&mut q.used, true, v),
                }
            }
            reg::SHM_SEL => {}
            _ => crate::guest_error!("virtio-mmio write", "write to read-only or unknown register {offset:#x}"),
        }
    }
}

impl MmioDevice for VirtioMmio {
    fn read(&self, offset: u64, size: AccessSize) -> u64 {
        if offset >= reg::CONFIG {
            let mut b = [0u8; 8];
            let n = size.bytes();
            self.dev().read_config(offset - reg::CONFIG, &mut b[..n]);
            return u64::from_le_bytes(b);
        }
        if size != AccessSize::B4 || !offset.is_multiple_of(4) {
            crate::guest_error!("virtio-mmio width", "{}-byte read of register {offset:#x}", size.bytes());
            return 0;
        }
        self.read_reg(offset) as u64
    }

    fn write(&self, offset: u64, size: AccessSize, value: u64) {
        if offset >= reg::CONFIG {
            let b = value.to_le_bytes();
            self.dev().write_config(offset - reg::CONFIG, &b[..size.bytes()]);
            return;
        }
        if size != AccessSize::B4 || !offset.is_multiple_of(4) {
            crate::guest_error!("virtio-mmio width", "{}-byte write of register {offset:#x}", size.bytes());
            return;
        }
        self.write_reg(offset, value as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::RecordingIrq;

    struct Dummy {
        active: Option<Activation>,
        notified: Vec<usize>,
    }
    impl VirtioDevice for Dummy {
        fn device_id(&self) -> u32 {
            4
        }
        fn queue_max_sizes(&self) -> Vec<u16> {
            vec![8, 4]
        }
        fn features(&self) -> u64 {
            1 << 5
        }
        fn read_config(&self, offset: u64, data: &mut [u8]) {
            for (i, b) in data.iter_mut().enumerate() {
                *b = 0x10 + offset as u8 + i as u8;
            }
        }
        fn activate(&mut self, a: Activation) -> Result<(), String> {
            self.active = Some(a);
            Ok(())
        }
        fn reset(&mut self) {
            self.active = None;
        }
        fn queue_notify(&mut self, q: usize) -> Result<bool, QueueBroken> {
            self.notified.push(q);
            Ok(false)
        }
    }

    fn transport() -> (Arc<VirtioMmio>, Arc<RecordingIrq>) {
        let irq = RecordingIrq::new();
        let ram = Arc::new(GuestRam::new(&[(0, 1 << 20)]).unwrap());
        let t = VirtioMmio::new(Box::new(Dummy { active: None, notified: vec![] }), Interrupt::new(irq.clone()), ram)
            .unwrap();
        (t, irq)
    }

    fn w(t: &VirtioMmio, off: u64, v: u32) {
        t.write(off, AccessSize::B4, v as u64);
    }
    fn r(t: &VirtioMmio, off: u64) -> u32 {
        t.read(off, AccessSize::B4) as u32
    }

    fn setup_queue(t: &VirtioMmio, q: u32, base: u64) {
        w(t, reg::QUEUE_SEL, q);
        w(t, reg::QUEUE_NUM, 4);
        w(t, reg::QUEUE_DESC_LOW, base as u32);
        w(t, reg::QUEUE_DRIVER_LOW, (base + 0x100) as u32);
        w(t, reg::QUEUE_DEVICE_LOW, (base + 0x200) as u32);
        w(t, reg::QUEUE_READY, 1);
    }

    #[test]
    fn identity_registers() {
        let (t, _) = transport();
        assert_eq!(r(&t, reg::MAGIC), 0x7472_6976);
        assert_eq!(r(&t, reg::VERSION), 2);
        assert_eq!(r(&t, reg::DEVICE_ID), 4);
        assert_eq!(r(&t, reg::VENDOR_ID), VENDOR);
        w(&t, reg::QUEUE_SEL, 1);
        assert_eq!(r(&t, reg::QUEUE_NUM_MAX), 4);
        w(&t, reg::QUEUE_SEL, 7);
        assert_eq!(r(&t, reg::QUEUE_NUM_MAX), 0, "missing queue reads 0");
        assert_eq!(t.read(reg::MAGIC, AccessSize::B2), 0, "registers are 32-bit only");
        assert_eq!(t.read(reg::CONFIG + 2, AccessSize::B2), 0x1312, "config space takes any width");
    }

    #[test]
    fn features_need_version_1_and_a_subset() {
        let (t, _) = transport();
        w(&t, reg::DEVICE_FEATURES_SEL, 0);
        assert_eq!(r(&t, reg::DEVICE_FEATURES), 1 << 5);
        w(&t, reg::DEVICE_FEATURES_SEL, 1);
        assert_eq!(r(&t, reg::DEVICE_FEATURES), 1, "VERSION_1");
        w(&t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        // Without VERSION_1: FEATURES_OK does not stick.
        w(&t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK);
        assert_eq!(r(&t, reg::STATUS) & status::FEATURES_OK, 0);
        // A feature the device does not offer: refused too.
        w(&t, reg::DRIVER_FEATURES_SEL, 1);
        w(&t, reg::DRIVER_FEATURES, 1);
        w(&t, reg::DRIVER_FEATURES_SEL, 0);
        w(&t, reg::DRIVER_FEATURES, 1 << 6);
        w(&t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK);
        assert_eq!(r(&t, reg::STATUS) & status::FEATURES_OK, 0);
        w(&t, reg::DRIVER_FEATURES, 1 << 5);
        w(&t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK);
        assert_ne!(r(&t, reg::STATUS) & status::FEATURES_OK, 0);
    }

    fn negotiate(t: &VirtioMmio) {
        w(t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        w(t, reg::DRIVER_FEATURES_SEL, 1);
        w(t, reg::DRIVER_FEATURES, 1);
        w(t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK);
    }

    #[test]
    fn activation_notify_interrupt_and_reset() {
        let (t, irq) = transport();
        negotiate(&t);
        setup_queue(&t, 0, 0x4000);
        w(&t, reg::QUEUE_SEL, 0);
        assert_eq!(r(&t, reg::QUEUE_DRIVER_LOW), 0x4100);
        w(&t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK);
        assert_eq!(r(&t, reg::STATUS) & status::NEEDS_RESET, 0);
        let a = t.dev().device_id();
        assert_eq!(a, 4);
        // QueueNotify through the bus signals the queue's eventfd.
        w(&t, reg::QUEUE_NOTIFY, 1);
        assert_eq!(t.notify_eventfd(1).unwrap().read().unwrap(), 1);
        // Interrupt status drives the line until acknowledged.
        t.interrupt.raise(super::super::INT_VRING);
        assert!(irq.level());
        assert_eq!(r(&t, reg::INTERRUPT_STATUS), 1);
        w(&t, reg::INTERRUPT_ACK, 1);
        assert!(!irq.level());
        // Queue registers are frozen after DRIVER_OK.
        w(&t, reg::QUEUE_DESC_LOW, 0x9000);
        assert_eq!(r(&t, reg::QUEUE_DESC_LOW), 0x4000);
        w(&t, reg::STATUS, 0);
        assert_eq!(r(&t, reg::STATUS), 0);
        assert_eq!(r(&t, reg::QUEUE_READY), 0);
    }

    #[test]
    fn rings_outside_ram_need_reset() {
        let (t, irq) = transport();
        negotiate(&t);
        setup_queue(&t, 0, 0x4000);
        w(&t, reg::QUEUE_DEVICE_HIGH, 0x10);
        w(&t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK);
        assert_ne!(r(&t, reg::STATUS) & status::NEEDS_RESET, 0);
        assert_eq!(r(&t, reg::INTERRUPT_STATUS), INT_CONFIG);
        assert!(irq.level());
    }

    #[test]
    fn bad_queue_size_needs_reset() {
        let (t, _) = transport();
        negotiate(&t);
        setup_queue(&t, 0, 0x4000);
        w(&t, reg::QUEUE_NUM, 3); // not a power of two
        w(&t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK);
        assert_ne!(r(&t, reg::STATUS) & status::NEEDS_RESET, 0);
    }
}
