//! `-M microvm`: a minimal x86-64 PC for KVM, after QEMU's microvm and Firecracker.
//!
//! Memory map (guest physical):
//!
//! | range | what |
//! |---|---|
//! | 0x500 | boot GDT ([`crate::accel::x86_gdt`]) |
//! | 0x6000 | PVH `hvm_start_info`, its memory map at 0x6040, module list at 0x6400 |
//! | 0x7000 | zero page (`boot_params`) |
//! | 0x8ff0 | initial stack pointer |
//! | 0x9000-0xefff | identity page tables for the first 4 GiB (2 MiB pages) |
//! | 0x20000 | kernel command line |
//! | 0xe0000 | ACPI tables, RSDP first (found by the legacy scan and by `acpi_rsdp_addr`) |
//! | 0x100000 | kernel (bzImage protected-mode part, or ELF segments where they ask) |
//! | top of low RAM | initrd |
//! | RAM up to 3 GiB, the rest from 4 GiB | |
//! | 0xfeb00000 + 0x200·n | virtio-mmio transport n (n < 8), GSI 16 + n, edge |
//! | 0xfec00000 / 0xfee00000 | I/O APIC / local APICs (in the accelerator) |
//!
//! Ports: 16550 at 0x3f8 (IRQ 4), i8042 reset at 0x60/0x64, ACPI sleep control, status
//! and reset registers at 0x600-0x602, isa-debug-exit where `-device` puts it.
//!
//! Firmware interface: ACPI, not the MP table nor kernel-command-line virtio devices. Debian's
//! kernel has ACPI built in, powers off through the hardware-reduced sleep control register
//! (`\_S5`) and reboots through the FADT reset register, and its virtio_mmio module binds
//! `LNRO0005` devices from the DSDT, as on QEMU's microvm; the `virtio_mmio.device=`
//! command-line form needs a driver parameter set before the module loads, which an
//! unmodified initramfs does not do. virtio-pci was not chosen: it needs a PCI host bridge,
//! config space and MSI-X, a lot of surface for the same three devices. The MADT lists one
//! local APIC per vCPU; the application processors start in wait-for-SIPI and the guest
//! wakes them with INIT/SIPI through the in-kernel local APIC.
//!
//! Our own ELF64 test programs are entered in 64-bit mode with the same zero page (e820
//! map, command line, RSDP address) in `rsi`, so a test guest reads `-append` and finds the
//! ACPI tables the way Linux does.

use std::path::PathBuf;
use std::sync::Arc;

use crate::accel::{x86_gdt, AccelError, Accelerator, X86Boot, X86Mode};
use crate::acpi::aml::{Resource, Term};
use crate::acpi::{self, AcpiConfig, IrqOverride};
use crate::bus::Endian::Little;
use crate::bus::{BusBuilder, MmioDevice, PioDevice};
use crate::chardev::{term::RawMode, Chardev, ChardevSpec};
use crate::devices::acpi_pm::{self, AcpiPm};
use crate::devices::debug_exit::DebugExit;
use crate::devices::i8042::I8042;
use crate::devices::serial16550::Serial16550;
use crate::devices::virtio::block::Block;
use crate::devices::virtio::mmio::VirtioMmio;
use crate::devices::virtio::net::Net;
use crate::devices::virtio::rng::Rng;
use crate::devices::virtio::{Interrupt, VirtioConfig, VirtioDevice};
use crate::event_loop::EventLoop;
use crate::loader::{self, hdr, Kernel, LoaderError};
use crate::memory::{GuestRam, MemoryError};
use crate::vm::{Machine, SystemControl};

/// Highest end of RAM below the 32-bit MMIO hole.
pub const LOW_RAM_MAX: u64 = 0xc000_0000;
/// Where RAM above the hole starts.
pub const HIGH_RAM_BASE: u64 = 1 << 32;
/// Smallest RAM size the board accepts.
pub const MIN_RAM: u64 = 8 << 20;
/// The boot GDT.
pub const GDT_ADDR: u64 = 0x500;
/// PVH start info.
pub const PVH_INFO_ADDR: u64 = 0x6000;
/// Zero page.
pub const ZERO_PAGE_ADDR: u64 = 0x7000;
/// Boot stack pointer.
pub const BOOT_STACK: u64 = 0x8ff0;
/// Page-table root (PML4); PDPT at +0x1000, four page directories after it.
pub const PML4_ADDR: u64 = 0x9000;
/// Kernel command line.
pub const CMDLINE_ADDR: u64 = 0x20000;
/// Longest command line for kernels that do not say (ELF programs).
pub const CMDLINE_MAX: usize = 4096;
/// ACPI tables.
pub const ACPI_ADDR: u64 = 0xe0000;
/// First virtio-mmio transport.
pub const VIRTIO_MMIO_BASE: u64 = 0xfeb0_0000;
/// Size of one virtio-mmio transport.
pub const VIRTIO_MMIO_SIZE: u64 = 0x200;
/// GSI of the first virtio-mmio transport.
pub const VIRTIO_GSI_BASE: u32 = 16;
/// Number of virtio-mmio slots.
pub const VIRTIO_SLOTS: usize = 8;
/// I/O APIC.
pub const IOAPIC_ADDR: u32 = 0xfec0_0000;
/// Local APIC.
pub const LAPIC_ADDR: u32 = 0xfee0_0000;
/// COM1.
pub const SERIAL_PORT: u16 = 0x3f8;
/// COM1's ISA IRQ.
pub const SERIAL_GSI: u32 = 4;
/// ACPI sleep control register (status at +1, reset at +2).
pub const PM_PORT: u16 = 0x600;

/// A board that cannot be built from the given options.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// Bad `-m`.
    #[error("-m: {0}")]
    Memory(String),
    /// Kernel or initrd problem.
    #[error(transparent)]
    Loader(#[from] LoaderError),
    /// Serial back end problem.
    #[error(transparent)]
    Chardev(#[from] crate::chardev::ChardevError),
    /// A device cannot be set up.
    #[error("{0}")]
    Device(String),
    /// The accelerator failed while wiring the board.
    #[error(transparent)]
    Accel(#[from] AccelError),
    /// Guest RAM access failed while writing boot structures (a board bug or tiny RAM).
    #[error("writing boot data: {0}")]
    Ram(#[from] MemoryError),
}

/// An isa-debug-exit device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugExitConfig {
    /// First port.
    pub iobase: u16,
    /// Number of ports.
    pub iosize: u16,
}

/// Everything `-M microvm` is built from.
pub struct MicrovmConfig {
    /// RAM size in bytes.
    pub ram_size: u64,
    /// Number of vCPUs.
    pub cpus: u32,
    /// Kernel image.
    pub kernel: PathBuf,
    /// Initial ramdisk.
    pub initrd: Option<PathBuf>,
    /// Kernel command line.
    pub cmdline: String,
    /// Back end of COM1 (`None`: no serial port).
    pub serial: Option<ChardevSpec>,
    /// isa-debug-exit, if requested.
    pub debug_exit: Option<DebugExitConfig>,
    /// virtio-mmio devices, in slot order.
    pub virtio: Vec<VirtioConfig>,
}

/// A built board, ready for vCPUs.
pub struct Microvm {
    /// RAM, buses and stop control.
    pub machine: Arc<Machine>,
    /// How the boot CPU enters the kernel.
    pub boot: X86Boot,
    /// The I/O thread's loop with every device's handlers registered.
    pub event_loop: EventLoop,
    /// Raw-mode guard of a stdio console (dropping it restores the terminal).
    pub console: Option<RawMode>,
    /// The virtio-mmio transports, in slot order.
    pub virtio: Vec<Arc<VirtioMmio>>,
}

/// The RAM ranges for `size` bytes: below 3 GiB, then from 4 GiB.
pub fn ram_layout(size: u64) -> Result<Vec<(u64, u64)>, BoardError> {
    if size < MIN_RAM {
        return Err(BoardError::Memory(format!("{} MiB is too little; microvm needs at least 8 MiB", size >> 20)));
    }
    if !size.is_multiple_of(4096) {
        return Err(BoardError::Memory("size must be a multiple of 4 KiB".into()));
    }
    if size > (1 << 46) {
        return Err(BoardError::Memory("more than 64 TiB of RAM".into()));
    }
    let low = size.min(LOW_RAM_MAX);
    let mut v = vec![(0, low)];
    if size > low {
        v.push((HIGH_RAM_BASE, size - low));
    }
    Ok(v)
}

/// The e820 map: (address, size, type) with type 1 = RAM, 2 = reserved.
fn e820(ram: &GuestRam) -> Vec<(u64, u64, u32)> {
    let mut v = vec![(0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (ACPI_ADDR, 0x100000 - ACPI_ADDR, 2)];
    for r in ram.regions() {
        let start = r.gpa.max(0x100000);
        let end = r.gpa + r.size;
        if end > start {
            v.push((start, end - start, 1));
        }
    }
    v
}

fn dsdt_terms(virtio: &[(u64, u32)]) -> Vec<Term> {
    let name = |n: &str, t: Term| Term::Name(n.into(), Box::new(t));
    let mut sb = vec![Term::Device(
        "COM1".into(),
        vec![
            name("_HID", Term::EisaId("PNP0501".into())),
            name("_UID", Term::Int(0)),
            name(
                "_CRS",
                Term::Resources(vec![
                    Resource::Io { base: SERIAL_PORT, len: 8 },
                    Resource::Interrupt { gsi: SERIAL_GSI, edge: true },
                ]),
            ),
        ],
    )];
    for (i, &(base, gsi)) in virtio.iter().enumerate() {
        sb.push(Term::Device(
            format!("VR{i:02}"),
            vec![
                name("_HID", Term::Str("LNRO0005".into())),
                name("_UID", Term::Int(i as u64)),
                name("_CCA", Term::Int(1)),
                name(
                    "_CRS",
                    Term::Resources(vec![
                        Resource::Memory32 { base: base as u32, len: VIRTIO_MMIO_SIZE as u32 },
                        Resource::Interrupt { gsi, edge: true },
                    ]),
                ),
            ],
        ));
    }
    vec![
        Term::Scope("\\_SB".into(), sb),
        name(
            "\\_S5",
            Term::Package(vec![Term::Int(acpi_pm::S5_SLEEP_TYPE as u64), Term::Int(0), Term::Int(0), Term::Int(0)]),
        ),
    ]
}

/// The board's ACPI description for `cpus` vCPUs and the given virtio transports
/// (base address, GSI).
pub fn acpi_config(cpus: u32, virtio: &[(u64, u32)]) -> AcpiConfig {
    AcpiConfig {
        cpus,
        lapic_addr: LAPIC_ADDR,
        ioapic: (0, IOAPIC_ADDR, 0),
        overrides: vec![IrqOverride { source: 0, gsi: 2, flags: 0 }],
        sleep_port: PM_PORT,
        reset: (PM_PORT + 2, acpi_pm::RESET_VALUE),
        dsdt: dsdt_terms(virtio),
    }
}

fn write_page_tables(ram: &GuestRam) -> Result<(), MemoryError> {
    let pdpt = PML4_ADDR + 0x1000;
    ram.write_u64(PML4_ADDR, pdpt | 0x3, Little)?;
    for i in 0..4u64 {
        let pd = PML4_ADDR + 0x2000 + i * 0x1000;
        ram.write_u64(pdpt + i * 8, pd | 0x3, Little)?;
        for j in 0..512u64 {
            // Present, writable, 2 MiB page.
            ram.write_u64(pd + j * 8, ((i << 30) | (j << 21)) | 0x83, Little)?;
        }
    }
    Ok(())
}

/// Builds the zero page (boot_params) at [`ZERO_PAGE_ADDR`].
fn write_zero_page(
    ram: &GuestRam,
    setup_header: Option<&[u8]>,
    cmdline_len: usize,
    initrd: Option<(u64, u64)>,
    rsdp: u64,
) -> Result<(), MemoryError> {
    let mut zp = vec![0u8; 4096];
    if let Some(h) = setup_header {
        zp[hdr::SETUP_SECTS..hdr::SETUP_SECTS + h.len()].copy_from_slice(h);
        zp[hdr::TYPE_OF_LOADER] = 0xff;
        zp[hdr::LOADFLAGS] |= 0x80; // CAN_USE_HEAP
        zp[hdr::HEAP_END_PTR..hdr::HEAP_END_PTR + 2].copy_from_slice(&0xfe00u16.to_le_bytes());
    }
    let put32 = |zp: &mut Vec<u8>, o: usize, v: u32| zp[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put32(&mut zp, hdr::CMD_LINE_PTR, CMDLINE_ADDR as u32);
    put32(&mut zp, hdr::CMDLINE_SIZE, cmdline_len as u32);
    if let Some((a, s)) = initrd {
        put32(&mut zp, hdr::RAMDISK_IMAGE, a as u32);
        put32(&mut zp, hdr::RAMDISK_SIZE, s as u32);
    }
    zp[0x070..0x078].copy_from_slice(&rsdp.to_le_bytes()); // acpi_rsdp_addr
    let map = e820(ram);
    zp[0x1e8] = map.len() as u8; // e820_entries
    for (i, (a, s, t)) in map.into_iter().enumerate() {
        let o = 0x2d0 + i * 20;
        zp[o..o + 8].copy_from_slice(&a.to_le_bytes());
        zp[o + 8..o + 16].copy_from_slice(&s.to_le_bytes());
        zp[o + 16..o + 20].copy_from_slice(&t.to_le_bytes());
    }
    ram.write(ZERO_PAGE_ADDR, &zp)
}

/// Builds the PVH `hvm_start_info` (version 1) with its memory map and module list.
fn write_pvh_info(ram: &GuestRam, initrd: Option<(u64, u64)>, rsdp: u64) -> Result<(), MemoryError> {
    let map = e820(ram);
    let memmap = PVH_INFO_ADDR + 0x40;
    let modlist = PVH_INFO_ADDR + 0x400;
    let mut si = vec![0u8; 56];
    si[0..4].copy_from_slice(&0x336e_c578u32.to_le_bytes()); // magic
    si[4..8].copy_from_slice(&1u32.to_le_bytes()); // version
    if let Some((a, s)) = initrd {
        si[12..16].copy_from_slice(&1u32.to_le_bytes());
        si[16..24].copy_from_slice(&modlist.to_le_bytes());
        let mut m = [0u8; 32];
        m[0..8].copy_from_slice(&a.to_le_bytes());
        m[8..16].copy_from_slice(&s.to_le_bytes());
        ram.write(modlist, &m)?;
    }
    si[24..32].copy_from_slice(&CMDLINE_ADDR.to_le_bytes());
    si[32..40].copy_from_slice(&rsdp.to_le_bytes());
    si[40..48].copy_from_slice(&memmap.to_le_bytes());
    si[48..52].copy_from_slice(&(map.len() as u32).to_le_bytes());
    for (i, (a, s, t)) in map.into_iter().enumerate() {
        let mut e = [0u8; 24];
        e[0..8].copy_from_slice(&a.to_le_bytes());
        e[8..16].copy_from_slice(&s.to_le_bytes());
        e[16..20].copy_from_slice(&t.to_le_bytes());
        ram.write(memmap + i as u64 * 24, &e)?;
    }
    ram.write(PVH_INFO_ADDR, &si)
}

/// Builds the board on `ram` with devices wired through `accel`.
pub fn build(
    cfg: &MicrovmConfig,
    ram: Arc<GuestRam>,
    accel: &dyn Accelerator,
    control: Arc<SystemControl>,
) -> Result<Microvm, BoardError> {
    let mut pio = BusBuilder::<dyn PioDevice>::new();
    let mmio = BusBuilder::<dyn MmioDevice>::new();
    let mut event_loop =
        EventLoop::new().map_err(|e| BoardError::Device(format!("cannot create the event loop: {e}")))?;
    let dev_err = |e: crate::bus::OverlapError| BoardError::Device(e.to_string());

    // Kernel first: its errors are the most likely ones and need no device set-up.
    let kernel = loader::load_x86_kernel(&ram, &cfg.kernel)?;
    let low_end = ram.regions().first().map(|r| r.gpa + r.size).unwrap_or(0);

    let mut console = None;
    if let Some(spec) = &cfg.serial {
        let mut cd = Chardev::open(spec)?;
        let irq = accel.connect_irq(SERIAL_GSI)?;
        let serial =
            Arc::new(Serial16550::new(irq, cd.take_output()).map_err(|e| BoardError::Device(format!("serial: {e}")))?);
        pio.insert(SERIAL_PORT as u64, 8, "serial", serial.clone()).map_err(dev_err)?;
        console = cd
            .connect_input(serial, &mut event_loop, control.clone())
            .map_err(|e| BoardError::Device(format!("serial console: {e}")))?;
    }
    if let Some(d) = cfg.debug_exit {
        let dev = Arc::new(DebugExit::new(control.clone()));
        pio.insert(d.iobase as u64, d.iosize.max(1) as u64, "isa-debug-exit", dev).map_err(dev_err)?;
    }
    pio.insert(0x60, 5, "i8042", Arc::new(I8042::new(control.clone()))).map_err(dev_err)?;
    pio.insert(PM_PORT as u64, 3, "acpi-pm", Arc::new(AcpiPm::new(control.clone()))).map_err(dev_err)?;

    // virtio-mmio transports, one per device, in command-line order.
    let mut mmio = mmio;
    let mut virtio_slots: Vec<(u64, u32)> = Vec::new();
    let mut transports = Vec::new();
    let mut nblk = 0;
    for (i, v) in cfg.virtio.iter().enumerate() {
        if i >= VIRTIO_SLOTS {
            return Err(BoardError::Device(format!("microvm has {VIRTIO_SLOTS} virtio-mmio slots")));
        }
        let base = VIRTIO_MMIO_BASE + i as u64 * VIRTIO_MMIO_SIZE;
        let gsi = VIRTIO_GSI_BASE + i as u32;
        let (dev, name): (Box<dyn VirtioDevice>, &str) = match v {
            VirtioConfig::Block(b) => {
                nblk += 1;
                let d = Block::new(b, nblk - 1)
                    .map_err(|e| BoardError::Device(format!("-drive file={}: {e}", b.path.display())))?;
                (Box::new(d), "virtio-blk")
            }
            VirtioConfig::Net(n) => {
                let d = Net::new(n).map_err(|e| BoardError::Device(format!("-netdev tap,ifname={}: {e}", n.ifname)))?;
                (Box::new(d), "virtio-net")
            }
            VirtioConfig::Rng => {
                (Box::new(Rng::new().map_err(|e| BoardError::Device(format!("virtio-rng: {e}")))?), "virtio-rng")
            }
        };
        let irq = accel.connect_irq(gsi)?;
        let t = VirtioMmio::new(dev, Interrupt::new(irq), ram.clone())
            .map_err(|e| BoardError::Device(format!("{name}: {e}")))?;
        t.attach(base, event_loop.ctl(), accel)?;
        mmio.insert(base, VIRTIO_MMIO_SIZE, name, t.clone()).map_err(dev_err)?;
        transports.push(t);
        virtio_slots.push((base, gsi));
    }

    // Firmware tables.
    let tables = acpi::build(&acpi_config(cfg.cpus, &virtio_slots), ACPI_ADDR);
    if ACPI_ADDR + tables.bytes.len() as u64 > 0x100000 {
        return Err(BoardError::Device("ACPI tables do not fit below 1 MiB".into()));
    }
    ram.write(ACPI_ADDR, &tables.bytes)?;
    let gdt: Vec<u8> = x86_gdt::ENTRIES.iter().flat_map(|e| e.to_le_bytes()).collect();
    ram.write(GDT_ADDR, &gdt)?;
    write_page_tables(&ram)?;

    // Command line.
    let max_cmdline = match &kernel {
        Kernel::BzImage { setup_header, .. } => {
            let o = hdr::CMDLINE_SIZE - hdr::SETUP_SECTS;
            u32::from_le_bytes([setup_header[o], setup_header[o + 1], setup_header[o + 2], setup_header[o + 3]])
                as usize
        }
        _ => CMDLINE_MAX - 1,
    };
    if cfg.cmdline.len() > max_cmdline {
        return Err(BoardError::Device(format!(
            "-append: the command line is {} bytes, this kernel accepts at most {max_cmdline}",
            cfg.cmdline.len()
        )));
    }
    if cfg.cmdline.as_bytes().contains(&0) {
        return Err(BoardError::Device("-append: the command line contains a NUL byte".into()));
    }
    let mut cl = cfg.cmdline.as_bytes().to_vec();
    cl.push(0);
    ram.write(CMDLINE_ADDR, &cl)?;

    // Initrd: as high as the kernel allows, below the MMIO hole.
    let initrd = match &cfg.initrd {
        None => None,
        Some(p) => {
            let mut limit = low_end;
            if let Kernel::BzImage { setup_header, .. } = &kernel {
                let o = hdr::INITRD_ADDR_MAX - hdr::SETUP_SECTS;
                let max = u32::from_le_bytes([
                    setup_header[o],
                    setup_header[o + 1],
                    setup_header[o + 2],
                    setup_header[o + 3],
                ]);
                limit = limit.min(max as u64 + 1);
            }
            let low = (kernel.end() + 0xfff) & !0xfff;
            Some(loader::load_initrd(&ram, p, low, limit)?)
        }
    };

    let boot = match &kernel {
        Kernel::Elf64 { entry, .. } | Kernel::BzImage { load_addr: entry, .. } => {
            let (rip, hdr) = match &kernel {
                Kernel::BzImage { load_addr, setup_header, .. } => (load_addr + 0x200, Some(setup_header.as_slice())),
                _ => (*entry, None),
            };
            write_zero_page(&ram, hdr, cfg.cmdline.len(), initrd, tables.rsdp_addr)?;
            X86Boot {
                mode: X86Mode::Long64,
                rip,
                rsp: BOOT_STACK,
                rsi: ZERO_PAGE_ADDR,
                rbx: 0,
                cr3: PML4_ADDR,
                gdt_base: GDT_ADDR,
                gdt_limit: (gdt.len() - 1) as u16,
            }
        }
        Kernel::Pvh { entry, .. } => {
            write_pvh_info(&ram, initrd, tables.rsdp_addr)?;
            X86Boot {
                mode: X86Mode::Protected32,
                rip: *entry,
                rsp: BOOT_STACK,
                rsi: 0,
                rbx: PVH_INFO_ADDR,
                cr3: 0,
                gdt_base: GDT_ADDR,
                gdt_limit: (gdt.len() - 1) as u16,
            }
        }
    };

    let machine = Arc::new(Machine { ram, mmio: Arc::new(mmio.build()), pio: Arc::new(pio.build()), control });
    Ok(Microvm { machine, boot, event_loop, console, virtio: transports })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_layout_splits_at_the_hole() {
        assert_eq!(ram_layout(512 << 20).unwrap(), vec![(0, 512 << 20)]);
        assert_eq!(ram_layout(4 << 30).unwrap(), vec![(0, LOW_RAM_MAX), (HIGH_RAM_BASE, (4 << 30) - LOW_RAM_MAX)]);
        assert!(ram_layout(1 << 20).unwrap_err().to_string().contains("too little"));
        assert!(ram_layout((64 << 20) + 1).is_err());
    }

    #[test]
    fn zero_page_carries_e820_cmdline_and_rsdp() {
        let ram = GuestRam::new(&ram_layout(64 << 20).unwrap()).unwrap();
        write_zero_page(&ram, None, 10, Some((0x300_0000, 0x1234)), ACPI_ADDR).unwrap();
        let zp = ZERO_PAGE_ADDR;
        assert_eq!(ram.read_u32(zp + hdr::CMD_LINE_PTR as u64, Little).unwrap(), CMDLINE_ADDR as u32);
        assert_eq!(ram.read_u32(zp + hdr::RAMDISK_SIZE as u64, Little).unwrap(), 0x1234);
        assert_eq!(ram.read_u64(zp + 0x70, Little).unwrap(), ACPI_ADDR);
        assert_eq!(ram.read_u8(zp + 0x1e8).unwrap(), 4);
        // Last entry: RAM from 1 MiB to 64 MiB.
        let e = zp + 0x2d0 + 3 * 20;
        assert_eq!(ram.read_u64(e, Little).unwrap(), 0x100000);
        assert_eq!(ram.read_u64(e + 8, Little).unwrap(), (64 << 20) - 0x100000);
        assert_eq!(ram.read_u32(e + 16, Little).unwrap(), 1);
    }

    #[test]
    fn identity_page_tables_cover_4g() {
        let ram = GuestRam::new(&ram_layout(16 << 20).unwrap()).unwrap();
        write_page_tables(&ram).unwrap();
        // Walk 0xfee00000: PML4[0] -> PDPT[3] -> PD[0x1f7].
        let pdpt = ram.read_u64(PML4_ADDR, Little).unwrap() & !0xfff;
        let pd = ram.read_u64(pdpt + 3 * 8, Little).unwrap() & !0xfff;
        let pde = ram.read_u64(pd + 0x1f7 * 8, Little).unwrap();
        assert_eq!(pde & !0xfff, 0xfee0_0000 & !0x1f_ffff);
        assert_eq!(pde & 0x83, 0x83);
    }
}
