//! The contract between a machine and whatever runs its CPUs (QEMU's `AccelClass` +
//! `AccelOpsClass`): accel-kvm implements it today and accel-tcg will.
//!
//! An [`Accelerator`] wires what needs accelerator help (interrupt lines, doorbell eventfds)
//! and creates [`Vcpu`]s. A vCPU runs guest code on its own thread until something needs the
//! machine's policy ([`VcpuExit`]); device accesses are served inside [`Vcpu::run`] through
//! the machine's buses. Guest faults are values ([`VcpuExit::Crashed`]), host failures `Err`.

use std::sync::Arc;

use vmm_sys_util::eventfd::EventFd;

use crate::irq::IrqLine;
use crate::vm::Machine;

/// A host-side failure of the accelerator.
#[derive(Debug, thiserror::Error)]
pub enum AccelError {
    /// The accelerator cannot be used on this host (the message names why).
    #[error("{0}")]
    Unavailable(String),
    /// A host operation failed (message names which).
    #[error("{0}")]
    Host(String),
}

/// Where a doorbell write lands, for [`Accelerator::register_ioevent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoEventAddr {
    /// A port-I/O address.
    Pio(u16),
    /// A guest-physical MMIO address.
    Mmio(u64),
}

/// How the boot CPU of an x86 board starts (the rest wait for INIT/SIPI).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum X86Mode {
    /// 64-bit long mode with paging: `cr3` points at identity page tables the board wrote.
    Long64,
    /// 32-bit flat protected mode, paging off (the PVH entry).
    Protected32,
}

/// Initial state of an x86 boot CPU, written by the board's loader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X86Boot {
    /// Long or protected mode.
    pub mode: X86Mode,
    /// Entry point.
    pub rip: u64,
    /// Initial stack pointer.
    pub rsp: u64,
    /// `rsi` (the Linux 64-bit boot protocol passes `boot_params` here).
    pub rsi: u64,
    /// `rbx` (PVH passes `hvm_start_info` here).
    pub rbx: u64,
    /// Page-table root for [`X86Mode::Long64`].
    pub cr3: u64,
    /// Guest address of a GDT laid out as [`x86_gdt`] says.
    pub gdt_base: u64,
    /// GDT limit.
    pub gdt_limit: u16,
}

/// GDT selectors of [`X86Boot::gdt_base`]: Linux's 64-bit boot protocol wants `__BOOT_CS`
/// = 0x10 and `__BOOT_DS` = 0x18 (boot.rst), PVH any flat 32-bit code segment.
pub mod x86_gdt {
    /// Flat 32-bit code (PVH entry).
    pub const CODE32: u16 = 0x08;
    /// 64-bit code (`__BOOT_CS`).
    pub const CODE64: u16 = 0x10;
    /// Flat data (`__BOOT_DS`).
    pub const DATA: u16 = 0x18;
    /// The four descriptors (null, CODE32, CODE64, DATA) as GDT entries.
    pub const ENTRIES: [u64; 4] = [0, 0x00cf_9b00_0000_ffff, 0x00af_9b00_0000_ffff, 0x00cf_9300_0000_ffff];
}

/// How one vCPU starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CpuBoot {
    /// Architectural reset state (x86 application processors then wait for INIT/SIPI).
    Reset,
    /// An x86 boot CPU entering the loaded kernel.
    X86(X86Boot),
}

/// Configuration of one vCPU.
#[derive(Clone, Debug)]
pub struct CpuConfig {
    /// CPU index (x86: APIC ID).
    pub id: u32,
    /// Number of vCPUs of the machine.
    pub count: u32,
    /// Start state.
    pub boot: CpuBoot,
}

/// Why [`Vcpu::run`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VcpuExit {
    /// The CPU is halted with nothing to wake it (only accelerators without an in-kernel
    /// interrupt controller report this).
    Halted,
    /// The guest asked for power-off.
    Shutdown,
    /// The guest asked for a reset.
    Reset,
    /// A debug event (breakpoint, single step) for a debugger.
    Debug,
    /// Another thread kicked this vCPU ([`Kick::kick`]) or the machine is stopping.
    Kicked,
    /// The guest cannot continue (triple fault, an instruction the accelerator cannot run).
    Crashed(GuestCrash),
}

/// A guest state from which it cannot continue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestCrash {
    /// What happened, e.g. "triple fault" or "KVM internal error (emulation failure)".
    pub reason: String,
    /// Guest program counter.
    pub pc: u64,
    /// Instruction bytes at `pc` (may be empty when unreadable).
    pub insn: Vec<u8>,
}

impl std::fmt::Display for GuestCrash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at guest rip {:#x}", self.reason, self.pc)?;
        if self.insn.is_empty() {
            write!(f, " (instruction bytes unreadable)")
        } else {
            write!(f, ", instruction bytes:")?;
            for b in &self.insn {
                write!(f, " {b:02x}")?;
            }
            Ok(())
        }
    }
}

/// Stops a running vCPU from another thread.
pub trait Kick: Send + Sync {
    /// Makes the vCPU's current or next [`Vcpu::run`] return [`VcpuExit::Kicked`] promptly.
    fn kick(&self);
}

/// A thread-safe handle to [`Kick`] a vCPU.
pub type Kicker = Arc<dyn Kick>;

/// One virtual CPU, driven by exactly one host thread.
pub trait Vcpu: Send {
    /// The CPU index.
    fn id(&self) -> u32;
    /// Runs guest code, serving device accesses through `m`'s buses, until a policy event.
    fn run(&mut self, m: &Machine) -> Result<VcpuExit, AccelError>;
    /// A handle other threads use to interrupt [`Vcpu::run`].
    fn kicker(&self) -> Kicker;
}

/// An accelerator: creates vCPUs and wires interrupts and doorbells for the board.
pub trait Accelerator: Send + Sync {
    /// Name for messages (`"kvm"`, `"tcg"`).
    fn name(&self) -> &'static str;
    /// The line for interrupt-controller input `gsi`.
    fn connect_irq(&self, gsi: u32) -> Result<Arc<dyn IrqLine>, AccelError>;
    /// Asks for guest writes of `len` bytes at `addr` (matching `datamatch` if given) to just
    /// signal `fd`, without an exit. Returns false if the accelerator cannot: the device then
    /// sees the write on its bus as usual and must signal `fd` itself.
    fn register_ioevent(
        &self,
        addr: IoEventAddr,
        len: u32,
        datamatch: Option<u64>,
        fd: &EventFd,
    ) -> Result<bool, AccelError>;
    /// Creates the vCPU `cfg.id`. Call once per CPU, in order, after the board is built.
    fn create_vcpu(&self, cfg: &CpuConfig, m: &Arc<Machine>) -> Result<Box<dyn Vcpu>, AccelError>;
}
