//! The KVM accelerator: x86-64 guests run natively through `/dev/kvm` (QEMU `accel/kvm`,
//! Firecracker `vstate/`).
//!
//! [`KvmAccel`] opens `/dev/kvm`, creates the VM with the in-kernel interrupt controllers
//! (8259 PICs, I/O APIC, a local APIC per vCPU) and PIT, maps the machine's RAM as memory
//! slots ([`vm`]), turns board interrupt inputs into irqfds and virtio doorbells into
//! ioeventfds, and creates vCPUs ([`vcpu`]) whose CPUID, MSRs and registers come from
//! [`x86_64`]. Exits are served by [`vcpu::handle_exit`], a small function unit-tested with
//! synthetic exits.
//!
//! # What kvm-pvm does (measured on the development hosts)
//!
//! Some hosts expose `/dev/kvm` through kvm-pvm, a software KVM for nested use (no VMX/SVM;
//! `/sys/module/kvm_pvm` exists): guest code runs in a host user-mode context on shadow page
//! tables and privileged instructions trap into KVM's instruction emulator. Tried with remu's
//! own guests (guests/x86_64):
//! - works: KVM_SET_SREGS straight into long mode, real mode (SIPI trampolines), the
//!   in-kernel irqchip (local APIC timer in periodic mode, I/O APIC routing, INIT/SIPI to
//!   start application processors; an AP's first KVM_RUN blocks until INIT and then fails
//!   with EAGAIN, which means "run again"), irqfd, ioeventfd on ports and MMIO, port-I/O and
//!   MMIO exits, `immediate_exit` kicks;
//! - careful: with the PC default of LINT0 = ExtINT on the boot CPU, an ISA interrupt on
//!   an uninitialised 8259 is delivered as vector `8259 base + irq` (0 + irq): guests must
//!   mask the PIC or LINT0 before enabling interrupts, as Linux does;
//! - slow: guest code in supervisor mode at these (low) addresses goes through KVM's
//!   instruction emulator one instruction at a time (the `kvm:kvm_emulate_insn` tracepoint
//!   fires for each): about 10 µs per instruction, a `rep stos` emulated in batches of 1024
//!   iterations, a register-only loop iteration about 15 000 TSC cycles. Some instructions
//!   (`lock cmpxchg16b`, `xrstor`) fail with KVM internal error 1 (emulation failure), which
//!   is why Debian's kernel cannot boot there (its decompressor alone runs for minutes) and
//!   the Linux tests need hardware KVM;
//! - costs in the kernel: a port-I/O exit round trip is about 10 µs; registering memory,
//!   irqchip, PIT and ioeventfd devices each waits for an SRCU grace period, immediate for
//!   the first few of a VM and then a scheduler tick apart (4-10 ms each), which is why RAM
//!   is registered first; closing a VM with an in-kernel irqchip takes 15-30 ms of such
//!   waits, which [`teardown`] moves off the exit path; KVM_TRANSLATE is not relied on
//!   (crash reports walk the guest page tables themselves when it fails).

pub mod teardown;
pub mod vcpu;
pub mod vm;
pub mod x86_64;

use std::path::Path;
use std::sync::Arc;

use kvm_bindings::{kvm_pit_config, CpuId, KVM_MAX_CPUID_ENTRIES, KVM_PIT_SPEAKER_DUMMY};
use kvm_ioctls::{Cap, IoEventAddress, Kvm, NoDatamatch, VmFd};
use machine::accel::{AccelError, Accelerator, CpuConfig, IoEventAddr, Vcpu};
use machine::irq::{EventFdIrq, IrqLine};
use machine::memory::GuestRam;
use machine::Machine;
use vmm_sys_util::eventfd::EventFd;

/// A KVM failure on the host.
#[derive(Debug, thiserror::Error)]
pub enum KvmError {
    /// `/dev/kvm` cannot be used; the message names why.
    #[error("{0}")]
    Unavailable(String),
    /// An ioctl failed.
    #[error("{what} failed: {err}")]
    Ioctl {
        /// Which operation.
        what: &'static str,
        /// The errno.
        #[source]
        err: kvm_ioctls::Error,
    },
    /// Another host call failed.
    #[error("{what}: {err}")]
    Host {
        /// Which operation.
        what: &'static str,
        /// The error.
        #[source]
        err: std::io::Error,
    },
}

impl From<KvmError> for AccelError {
    fn from(e: KvmError) -> Self {
        match e {
            KvmError::Unavailable(m) => AccelError::Unavailable(m),
            e => AccelError::Host(e.to_string()),
        }
    }
}

pub(crate) fn ioctl_err(what: &'static str) -> impl FnOnce(kvm_ioctls::Error) -> KvmError {
    move |err| KvmError::Ioctl { what, err }
}

/// Whether this host's KVM is kvm-pvm (software, no VMX/SVM).
pub fn is_pvm() -> bool {
    Path::new("/sys/module/kvm_pvm").exists()
}

/// Whether this host's KVM is backed by VMX or SVM.
pub fn is_hardware_backed() -> bool {
    Path::new("/sys/module/kvm_intel").exists() || Path::new("/sys/module/kvm_amd").exists()
}

/// Opens `/dev/kvm` and checks the API version, turning each failure into a sentence that
/// names the cause.
pub fn open_kvm() -> Result<Kvm, KvmError> {
    let kvm = Kvm::new().map_err(|e| {
        KvmError::Unavailable(match e.errno() {
            libc::ENOENT => "cannot use KVM: /dev/kvm does not exist (the kvm module is not loaded, or the CPU \
                             has no hardware virtualization: no vmx/svm flag, or it is disabled in the firmware)"
                .to_string(),
            libc::EACCES | libc::EPERM => {
                "cannot use KVM: no permission to open /dev/kvm (add this user to the 'kvm' group)".to_string()
            }
            libc::ENODEV | libc::ENXIO => {
                "cannot use KVM: /dev/kvm has no driver behind it (no hardware virtualization)".to_string()
            }
            _ => format!("cannot use KVM: opening /dev/kvm failed: {e}"),
        })
    })?;
    let v = kvm.get_api_version();
    if v != 12 {
        return Err(KvmError::Unavailable(format!("cannot use KVM: API version {v}, remu needs 12")));
    }
    for (cap, name) in [
        (Cap::UserMemory, "user memory"),
        (Cap::Irqchip, "in-kernel irqchip"),
        (Cap::Irqfd, "irqfd"),
        (Cap::Ioeventfd, "ioeventfd"),
        (Cap::SetTssAddr, "TSS address"),
        (Cap::ImmediateExit, "immediate exit"),
    ] {
        if !kvm.check_extension(cap) {
            return Err(KvmError::Unavailable(format!("cannot use KVM: this kernel's KVM lacks {name} support")));
        }
    }
    Ok(kvm)
}

/// Guest-physical address of the TSS KVM needs for real mode on VMX (three pages), just
/// below the identity-map page; both sit in the top of the 32-bit MMIO hole, clear of
/// every device.
const TSS_ADDR: usize = 0xfffb_d000;
const IDENTITY_MAP_ADDR: u64 = 0xfffb_c000;

/// A KVM virtual machine.
pub struct KvmAccel {
    kvm: Kvm,
    vm: Arc<VmFd>,
    ram: Arc<GuestRam>,
    supported_cpuid: CpuId,
    stats: Arc<vcpu::ExitStats>,
}

impl KvmAccel {
    /// Creates a VM over `ram`, with in-kernel irqchip and PIT.
    pub fn new(kvm: Kvm, ram: Arc<GuestRam>) -> Result<Self, KvmError> {
        let vm = kvm.create_vm().map_err(|e| {
            KvmError::Unavailable(format!(
                "cannot use KVM: creating a VM failed: {e} (hardware virtualization unavailable or in use)"
            ))
        })?;
        // RAM first: registering a memory slot waits for an SRCU grace period of the VM,
        // and on some hosts (measured on a nested kvm-pvm one) the first grace periods of a
        // VM are immediate while one that follows the irqchip's device registrations takes
        // 4-10 ms. In this order every set-up ioctl returns within 0.1 ms.
        vm::map_ram(&vm, &ram)?;
        vm.set_tss_address(TSS_ADDR).map_err(ioctl_err("KVM_SET_TSS_ADDR"))?;
        // Not every KVM has (or needs) the identity map; ignoring its absence is harmless.
        let _ = vm.set_identity_map_address(IDENTITY_MAP_ADDR);
        vm.create_irq_chip().map_err(ioctl_err("KVM_CREATE_IRQCHIP"))?;
        let pit = kvm_pit_config { flags: KVM_PIT_SPEAKER_DUMMY, ..Default::default() };
        vm.create_pit2(pit).map_err(ioctl_err("KVM_CREATE_PIT2"))?;
        let supported_cpuid =
            kvm.get_supported_cpuid(KVM_MAX_CPUID_ENTRIES).map_err(ioctl_err("KVM_GET_SUPPORTED_CPUID"))?;
        Ok(Self { kvm, vm: Arc::new(vm), ram, supported_cpuid, stats: Arc::default() })
    }

    /// Port-I/O and MMIO exits so far, summed over all vCPUs.
    pub fn exit_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.stats.pio.load(Relaxed), self.stats.mmio.load(Relaxed))
    }

    /// The KVM system fd.
    pub fn kvm(&self) -> &Kvm {
        &self.kvm
    }

    /// The VM file descriptor.
    pub fn vm_fd(&self) -> &Arc<VmFd> {
        &self.vm
    }

    /// For a process about to exit, with every vCPU stopped: the VM's destruction happens
    /// in a short-lived child instead of in this process's exit ([`teardown`]).
    pub fn release_in_background(&self) -> bool {
        teardown::release_in_background(std::os::fd::AsRawFd::as_raw_fd(&*self.vm))
    }
}

impl Accelerator for KvmAccel {
    fn name(&self) -> &'static str {
        "kvm"
    }

    fn connect_irq(&self, gsi: u32) -> Result<Arc<dyn IrqLine>, AccelError> {
        let fd = EventFd::new(libc::EFD_NONBLOCK).map_err(|err| KvmError::Host { what: "eventfd", err })?;
        self.vm.register_irqfd(&fd, gsi).map_err(ioctl_err("KVM_IRQFD"))?;
        Ok(Arc::new(EventFdIrq::new(fd)))
    }

    fn register_ioevent(
        &self,
        addr: IoEventAddr,
        len: u32,
        datamatch: Option<u64>,
        fd: &EventFd,
    ) -> Result<bool, AccelError> {
        let a = match addr {
            IoEventAddr::Pio(p) => IoEventAddress::Pio(p as u64),
            IoEventAddr::Mmio(m) => IoEventAddress::Mmio(m),
        };
        let r = match (datamatch, len) {
            (None, _) => self.vm.register_ioevent(fd, &a, NoDatamatch),
            (Some(v), 1) => self.vm.register_ioevent(fd, &a, v as u8),
            (Some(v), 2) => self.vm.register_ioevent(fd, &a, v as u16),
            (Some(v), 4) => self.vm.register_ioevent(fd, &a, v as u32),
            (Some(v), _) => self.vm.register_ioevent(fd, &a, v),
        };
        r.map_err(ioctl_err("KVM_IOEVENTFD"))?;
        Ok(true)
    }

    fn create_vcpu(&self, cfg: &CpuConfig, m: &Arc<Machine>) -> Result<Box<dyn Vcpu>, AccelError> {
        let v = vcpu::KvmVcpu::new(self.stats.clone(), &self.vm, &self.supported_cpuid, cfg, self.ram.clone(), m)?;
        Ok(Box::new(v))
    }
}
