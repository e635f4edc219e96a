//! A small AML (ACPI Machine Language) encoder: just the terms a microVM's DSDT needs
//! (scopes, devices, names, integers, strings, EISA IDs, packages and resource templates).
//!
//! # Source
//! ACPI Specification 6.5, §20.2 "AML Grammar Definition" (PkgLength §20.2.4, name
//! strings §20.2.2, data objects §20.2.3) and §6.4 "Resource Data Types for ACPI".
//!
//! Written by hand: the rust-vmm family has no AML crate, and the subset is small.

/// Appends the PkgLength encoding of a package whose body is `body_len` bytes long (the
/// encoding counts itself).
fn pkg_length(out: &mut Vec<u8>, body_len: usize) {
    // Try 1..=4 length bytes; the length includes the PkgLength bytes themselves.
    for n in 1..=4usize {
        let total = body_len + n;
        let max = match n {
            1 => 0x3f,
            2 => 0xfff,
            3 => 0xf_ffff,
            _ => 0xfff_ffff,
        };
        if total <= max {
            if n == 1 {
                out.push(total as u8);
            } else {
                out.push((((n - 1) as u8) << 6) | (total & 0xf) as u8);
                for i in 1..n {
                    out.push((total >> (4 + 8 * (i - 1))) as u8);
                }
            }
            return;
        }
    }
    unreachable!("AML package of {body_len} bytes exceeds the 256 MiB PkgLength limit");
}

/// Appends a NameString: a path like `\_SB_.VR00` or `_HID`; segments shorter than four
/// characters are padded with `_`.
fn name_string(out: &mut Vec<u8>, path: &str) {
    let mut p = path;
    if let Some(rest) = p.strip_prefix('\\') {
        out.push(b'\\');
        p = rest;
    }
    let segs: Vec<&str> = p.split('.').filter(|s| !s.is_empty()).collect();
    match segs.len() {
        0 => out.push(0),
        1 => {}
        2 => out.push(0x2e),
        n => {
            out.push(0x2f);
            out.push(n as u8);
        }
    }
    for s in segs {
        let mut seg = [b'_'; 4];
        for (i, c) in s.bytes().take(4).enumerate() {
            seg[i] = c;
        }
        out.extend_from_slice(&seg);
    }
}

/// One AML term.
pub enum Term {
    /// `Name (path, value)`.
    Name(String, Box<Term>),
    /// `Scope (path) { terms }`.
    Scope(String, Vec<Term>),
    /// `Device (path) { terms }`.
    Device(String, Vec<Term>),
    /// An integer constant (encoded in the smallest form).
    Int(u64),
    /// A string constant.
    Str(String),
    /// A compressed EISA ID such as `PNP0501`.
    EisaId(String),
    /// `Package () { elements }`.
    Package(Vec<Term>),
    /// `ResourceTemplate () { descriptors }`.
    Resources(Vec<Resource>),
}

/// One resource descriptor inside a ResourceTemplate.
pub enum Resource {
    /// `IO (Decode16, base, base, 1, len)`.
    Io {
        /// First port.
        base: u16,
        /// Number of ports.
        len: u8,
    },
    /// `Memory32Fixed (ReadWrite, base, len)`.
    Memory32 {
        /// Base address.
        base: u32,
        /// Length in bytes.
        len: u32,
    },
    /// `Interrupt (ResourceConsumer, Edge|Level, ActiveHigh, Exclusive) { gsi }`.
    Interrupt {
        /// Global system interrupt.
        gsi: u32,
        /// Edge-triggered (else level).
        edge: bool,
    },
}

impl Resource {
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Resource::Io { base, len } => {
                // Small item 0x08, length 7: decode16, min, max, align, length.
                out.extend_from_slice(&[0x47, 0x01]);
                out.extend_from_slice(&base.to_le_bytes());
                out.extend_from_slice(&base.to_le_bytes());
                out.push(1);
                out.push(len);
            }
            Resource::Memory32 { base, len } => {
                // Large item 0x86, length 9: read/write, base, length.
                out.extend_from_slice(&[0x86, 9, 0, 1]);
                out.extend_from_slice(&base.to_le_bytes());
                out.extend_from_slice(&len.to_le_bytes());
            }
            Resource::Interrupt { gsi, edge } => {
                // Large item 0x89 (extended interrupt), length 6: flags, count 1, GSI.
                // Flags: bit0 consumer, bit1 edge, bit2 active-low, bit3 shared.
                let flags = 0x01 | if edge { 0x02 } else { 0 };
                out.extend_from_slice(&[0x89, 6, 0, flags, 1]);
                out.extend_from_slice(&gsi.to_le_bytes());
            }
        }
    }
}

/// Compresses a 7-character EISA ID (three letters, four hex digits) into its 32-bit form.
pub fn eisa_id(id: &str) -> u32 {
    let b = id.as_bytes();
    assert!(b.len() == 7, "EISA ID '{id}' must be 7 characters");
    let l = |c: u8| ((c - b'@') & 0x1f) as u32;
    let h = |c: u8| (c as char).to_digit(16).unwrap_or(0);
    let v = (l(b[0]) << 26)
        | (l(b[1]) << 21)
        | (l(b[2]) << 16)
        | (h(b[3]) << 12)
        | (h(b[4]) << 8)
        | (h(b[5]) << 4)
        | h(b[6]);
    v.swap_bytes()
}

impl Term {
    /// Appends this term's AML encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Term::Name(n, v) => {
                out.push(0x08);
                name_string(out, n);
                v.encode(out);
            }
            Term::Scope(n, body) | Term::Device(n, body) => {
                let mut inner = Vec::new();
                name_string(&mut inner, n);
                for t in body {
                    t.encode(&mut inner);
                }
                if matches!(self, Term::Device(..)) {
                    out.extend_from_slice(&[0x5b, 0x82]);
                } else {
                    out.push(0x10);
                }
                pkg_length(out, inner.len());
                out.extend_from_slice(&inner);
            }
            Term::Int(v) => match *v {
                0 => out.push(0x00),
                1 => out.push(0x01),
                v if v <= 0xff => out.extend_from_slice(&[0x0a, v as u8]),
                v if v <= 0xffff => {
                    out.push(0x0b);
                    out.extend_from_slice(&(v as u16).to_le_bytes());
                }
                v if v <= 0xffff_ffff => {
                    out.push(0x0c);
                    out.extend_from_slice(&(v as u32).to_le_bytes());
                }
                v => {
                    out.push(0x0e);
                    out.extend_from_slice(&v.to_le_bytes());
                }
            },
            Term::Str(s) => {
                out.push(0x0d);
                out.extend_from_slice(s.as_bytes());
                out.push(0);
            }
            Term::EisaId(id) => {
                out.push(0x0c);
                out.extend_from_slice(&eisa_id(id).to_le_bytes());
            }
            Term::Package(elems) => {
                let mut inner = vec![elems.len() as u8];
                for e in elems {
                    e.encode(&mut inner);
                }
                out.push(0x12);
                pkg_length(out, inner.len());
                out.extend_from_slice(&inner);
            }
            Term::Resources(res) => {
                let mut data = Vec::new();
                for r in res {
                    r.encode(&mut data);
                }
                data.extend_from_slice(&[0x79, 0]); // end tag (checksum 0 = ignore)
                let mut inner = Vec::new();
                Term::Int(data.len() as u64).encode(&mut inner);
                inner.extend_from_slice(&data);
                out.push(0x11);
                pkg_length(out, inner.len());
                out.extend_from_slice(&inner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkg_length_forms() {
        let mut v = Vec::new();
        pkg_length(&mut v, 10);
        assert_eq!(v, [11]);
        v.clear();
        pkg_length(&mut v, 0x3f);
        // 0x3f + 2 = 0x41: two-byte form, low nibble 1, next byte 4.
        assert_eq!(v, [0x41, 0x04]);
        v.clear();
        pkg_length(&mut v, 0x1000);
        assert_eq!(v, [0x83, 0x00, 0x01]);
    }

    #[test]
    fn names_ints_and_eisa() {
        let mut v = Vec::new();
        Term::Name("_UID".into(), Box::new(Term::Int(0x1234))).encode(&mut v);
        assert_eq!(v, [0x08, b'_', b'U', b'I', b'D', 0x0b, 0x34, 0x12]);
        assert_eq!(eisa_id("PNP0501"), 0x0105_d041);
        v.clear();
        name_string(&mut v, "\\_SB.COM1");
        assert_eq!(v, b"\\\x2e_SB_COM1");
    }
}
