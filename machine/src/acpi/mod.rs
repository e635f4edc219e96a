//! ACPI tables for x86 boards: RSDP, XSDT, FADT (hardware-reduced), MADT and a DSDT built
//! with [`aml`].
//!
//! # Source
//! ACPI Specification 6.5: §5.2.5 RSDP, §5.2.8 XSDT, §5.2.9 FADT (field offsets in Table 5.9),
//! §5.2.12 MADT (structures in §5.2.12.2, .3, .5, .7), §5.2.11.1 DSDT, §4.1 hardware-reduced
//! ACPI, §4.8.3.7 sleep control and status registers, §4.8.3.6 reset register.
//!
//! The board chooses the content ([`AcpiConfig`]); this module only lays the tables out one
//! after another from a base address, fills in lengths, pointers and checksums, and returns
//! the bytes to copy into guest RAM. `iasl -d` accepts every table (tested in
//! tests/all/kvm.rs).

pub mod aml;

/// Standard 36-byte table header followed by `body`; returns the table with its checksum.
fn table(sig: &[u8; 4], revision: u8, body: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(36 + body.len());
    t.extend_from_slice(sig);
    t.extend_from_slice(&((36 + body.len()) as u32).to_le_bytes());
    t.push(revision);
    t.push(0); // checksum
    t.extend_from_slice(OEM_ID);
    let mut tid = *b"REMU    ";
    tid[4..8].copy_from_slice(sig);
    t.extend_from_slice(&tid);
    t.extend_from_slice(&1u32.to_le_bytes()); // OEM revision
    t.extend_from_slice(b"REMU"); // creator ID
    t.extend_from_slice(&1u32.to_le_bytes()); // creator revision
    t.extend_from_slice(body);
    t[9] = checksum(&t);
    t
}

/// The byte that makes `data` sum to zero (mod 256).
pub fn checksum(data: &[u8]) -> u8 {
    0u8.wrapping_sub(data.iter().fold(0u8, |a, &b| a.wrapping_add(b)))
}

const OEM_ID: &[u8; 6] = b"REMU  ";

/// A generic address structure in system I/O space, byte access.
fn gas_io(port: u16) -> [u8; 12] {
    let mut g = [0u8; 12];
    g[0] = 1; // system I/O
    g[1] = 8; // bit width
    g[3] = 1; // byte access
    g[4..12].copy_from_slice(&(port as u64).to_le_bytes());
    g
}

/// An interrupt source override (ISA IRQ routed to another GSI or polarity).
#[derive(Clone, Copy, Debug)]
pub struct IrqOverride {
    /// ISA IRQ.
    pub source: u8,
    /// Global system interrupt it arrives on.
    pub gsi: u32,
    /// MPS INTI flags (0 = bus default).
    pub flags: u16,
}

/// What an x86 board describes.
pub struct AcpiConfig {
    /// Number of CPUs (APIC IDs 0..cpus).
    pub cpus: u32,
    /// Local APIC base.
    pub lapic_addr: u32,
    /// I/O APIC ID, base address and first GSI.
    pub ioapic: (u8, u32, u32),
    /// Interrupt source overrides.
    pub overrides: Vec<IrqOverride>,
    /// Port of the 1-byte sleep control register; sleep status is the next port.
    pub sleep_port: u16,
    /// Port of the 1-byte reset register and the value that resets.
    pub reset: (u16, u8),
    /// The DSDT's AML content (inside the root scope).
    pub dsdt: Vec<aml::Term>,
}

/// The laid-out tables.
pub struct AcpiTables {
    /// Guest address of the RSDP (= the base given to [`build`]).
    pub rsdp_addr: u64,
    /// All tables, to be copied to the base address.
    pub bytes: Vec<u8>,
    /// Each table's signature, offset in `bytes` and length (for tests and dumps).
    pub tables: Vec<([u8; 4], usize, usize)>,
}

fn align16(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(16) {
        v.push(0);
    }
}

/// The DSDT alone.
pub fn dsdt(cfg: &AcpiConfig) -> Vec<u8> {
    let mut aml = Vec::new();
    for t in &cfg.dsdt {
        t.encode(&mut aml);
    }
    table(b"DSDT", 2, &aml)
}

/// The MADT alone.
pub fn madt(cfg: &AcpiConfig) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&cfg.lapic_addr.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes()); // PCAT_COMPAT: dual 8259s present
    for id in 0..cfg.cpus {
        // Processor Local APIC (type 0) for APIC IDs < 255, else Local x2APIC (type 9).
        if id < 255 {
            b.extend_from_slice(&[0, 8, id as u8, id as u8]);
            b.extend_from_slice(&1u32.to_le_bytes()); // enabled
        } else {
            b.extend_from_slice(&[9, 16, 0, 0]);
            b.extend_from_slice(&id.to_le_bytes());
            b.extend_from_slice(&1u32.to_le_bytes());
            b.extend_from_slice(&id.to_le_bytes());
        }
    }
    let (ioid, ioaddr, gsibase) = cfg.ioapic;
    b.extend_from_slice(&[1, 12, ioid, 0]);
    b.extend_from_slice(&ioaddr.to_le_bytes());
    b.extend_from_slice(&gsibase.to_le_bytes());
    for o in &cfg.overrides {
        b.extend_from_slice(&[2, 10, 0, o.source]);
        b.extend_from_slice(&o.gsi.to_le_bytes());
        b.extend_from_slice(&o.flags.to_le_bytes());
    }
    // Local APIC NMI on LINT1 for all processors.
    b.extend_from_slice(&[4, 6, 0xff, 0, 0, 1]);
    table(b"APIC", 5, &b)
}

/// The FADT alone, pointing at a DSDT at `dsdt_addr`.
pub fn fadt(cfg: &AcpiConfig, dsdt_addr: u64) -> Vec<u8> {
    let mut b = vec![0u8; 276 - 36];
    let mut put = |off: usize, bytes: &[u8]| b[off - 36..off - 36 + bytes.len()].copy_from_slice(bytes);
    put(40, &(dsdt_addr as u32).to_le_bytes());
    // IAPC_BOOT_ARCH: VGA not present (bit 2), CMOS RTC not present (bit 5).
    put(109, &((1u16 << 2) | (1 << 5)).to_le_bytes());
    // Flags: WBINVD, PWR_BUTTON and SLP_BUTTON absent as fixed features, RESET_REG_SUP,
    // HW_REDUCED_ACPI.
    let flags: u32 = 1 | (1 << 4) | (1 << 5) | (1 << 10) | (1 << 20);
    put(112, &flags.to_le_bytes());
    put(116, &gas_io(cfg.reset.0));
    put(128, &[cfg.reset.1]);
    put(131, &[5]); // FADT minor version: 6.5
    put(140, &dsdt_addr.to_le_bytes());
    put(244, &gas_io(cfg.sleep_port));
    put(256, &gas_io(cfg.sleep_port + 1));
    put(268, b"REMU-KVM");
    table(b"FACP", 6, &b)
}

/// Lays out RSDP, XSDT, FADT, DSDT and MADT from guest address `base` (16-byte aligned).
pub fn build(cfg: &AcpiConfig, base: u64) -> AcpiTables {
    let mut out = vec![0u8; 36]; // RSDP, filled last
    align16(&mut out);
    let mut tables = Vec::new();
    let mut place = |out: &mut Vec<u8>, t: Vec<u8>| {
        let off = out.len();
        let mut sig = [0u8; 4];
        sig.copy_from_slice(&t[..4]);
        tables.push((sig, off, t.len()));
        out.extend_from_slice(&t);
        align16(out);
        base + off as u64
    };
    let dsdt_addr = place(&mut out, dsdt(cfg));
    let fadt_addr = place(&mut out, fadt(cfg, dsdt_addr));
    let madt_addr = place(&mut out, madt(cfg));
    let mut x = Vec::new();
    for a in [fadt_addr, madt_addr] {
        x.extend_from_slice(&a.to_le_bytes());
    }
    let xsdt_addr = place(&mut out, table(b"XSDT", 1, &x));

    let mut r = Vec::with_capacity(36);
    r.extend_from_slice(b"RSD PTR ");
    r.push(0);
    r.extend_from_slice(OEM_ID);
    r.push(2); // revision: ACPI 2.0+
    r.extend_from_slice(&0u32.to_le_bytes()); // no RSDT
    r.extend_from_slice(&36u32.to_le_bytes());
    r.extend_from_slice(&xsdt_addr.to_le_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r[8] = checksum(&r[..20]);
    r[32] = checksum(&r);
    out[..36].copy_from_slice(&r);
    tables.insert(0, (*b"RSD ", 0, 36));
    AcpiTables { rsdp_addr: base, bytes: out, tables }
}

#[cfg(test)]
mod tests {
    use super::aml::{Resource, Term};
    use super::*;

    fn cfg() -> AcpiConfig {
        AcpiConfig {
            cpus: 2,
            lapic_addr: 0xfee0_0000,
            ioapic: (0, 0xfec0_0000, 0),
            overrides: vec![IrqOverride { source: 0, gsi: 2, flags: 0 }],
            sleep_port: 0x600,
            reset: (0x602, 1),
            dsdt: vec![Term::Scope(
                "\\_SB".into(),
                vec![Term::Device(
                    "COM1".into(),
                    vec![
                        Term::Name("_HID".into(), Box::new(Term::EisaId("PNP0501".into()))),
                        Term::Name(
                            "_CRS".into(),
                            Box::new(Term::Resources(vec![
                                Resource::Io { base: 0x3f8, len: 8 },
                                Resource::Interrupt { gsi: 4, edge: true },
                            ])),
                        ),
                    ],
                )],
            )],
        }
    }

    #[test]
    fn every_table_checksums_to_zero() {
        let t = build(&cfg(), 0xe0000);
        let sum = |s: &[u8]| s.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        assert_eq!(sum(&t.bytes[..20]), 0);
        assert_eq!(sum(&t.bytes[..36]), 0);
        for (sig, off, len) in &t.tables[1..] {
            assert_eq!(sum(&t.bytes[*off..off + len]), 0, "{}", String::from_utf8_lossy(sig));
            let l = u32::from_le_bytes(t.bytes[off + 4..off + 8].try_into().unwrap()) as usize;
            assert_eq!(l, *len);
        }
    }

    #[test]
    fn pointers_chain_rsdp_to_madt() {
        let base = 0xe0000u64;
        let t = build(&cfg(), base);
        let rd64 = |o: usize| u64::from_le_bytes(t.bytes[o..o + 8].try_into().unwrap());
        let xsdt = (rd64(24) - base) as usize;
        assert_eq!(&t.bytes[xsdt..xsdt + 4], b"XSDT");
        let fadt = (rd64(xsdt + 36) - base) as usize;
        let madt = (rd64(xsdt + 44) - base) as usize;
        assert_eq!(&t.bytes[fadt..fadt + 4], b"FACP");
        assert_eq!(&t.bytes[madt..madt + 4], b"APIC");
        let dsdt = (rd64(fadt + 140) - base) as usize;
        assert_eq!(&t.bytes[dsdt..dsdt + 4], b"DSDT");
        // Two local APIC entries with IDs 0 and 1 follow the MADT header.
        assert_eq!(&t.bytes[madt + 44..madt + 48], &[0, 8, 0, 0]);
        assert_eq!(&t.bytes[madt + 52..madt + 56], &[0, 8, 1, 1]);
    }
}
