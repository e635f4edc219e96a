//! Reading guest code for translation (QEMU's `translator_ld*` plus page protection).
//!
//! Fetches check execute permission; the first fetch from a page marks it [`perm::CODE`] (and
//! the page before it [`perm::NEXT_CODE`], for stores crossing into it) and, if the guest may
//! write it, write-protects it in the host *before* reading, so a store that lands after the
//! read is seen (by the store slow path, or as a host fault of compiled code) and invalidates
//! the new TB. The reader remembers the pages it read and, for `-d in_asm`, the bytes (in runs
//! of contiguous code: a block continues through direct jumps).

use std::sync::atomic::Ordering;

use frontend::{CodeReader, FetchFault};
use ir::backend::perm;
use ir::Endian;

use crate::env::GuestSpace;

/// A CodeReader over a user-mode guest space.
pub struct GuestCodeReader<'a> {
    space: &'a GuestSpace,
    /// Pages touched, in order (at most two for a TB).
    pub pages: Vec<u64>,
    /// With `record`: the code read, as runs of contiguous bytes (guest address of the
    /// first, bytes).
    pub runs: Vec<(u64, Vec<u8>)>,
    record: bool,
}

impl<'a> GuestCodeReader<'a> {
    /// A reader over `space` that keeps the bytes it reads in `runs` if `record`.
    pub fn new(space: &'a GuestSpace, record: bool) -> Self {
        GuestCodeReader { space, pages: Vec::with_capacity(2), runs: Vec::new(), record }
    }

    /// The halfword at `pc` when both its bytes are on one page this reader has already
    /// taken (marked as code, write-protected) and that is still executable.
    fn read_known(&self, pc: u64) -> Option<[u8; 2]> {
        let page = pc >> perm::PAGE_BITS;
        if pc.wrapping_add(1) >> perm::PAGE_BITS != page || !self.pages.contains(&page) {
            return None;
        }
        if self.space.perm(pc)?.load(Ordering::Acquire) & perm::EXEC == 0 {
            return None;
        }
        // SAFETY: as in read_u16: both bytes are on one executable page of the reservation.
        Some(unsafe { std::ptr::read_volatile((self.space.guest_base.wrapping_add(pc)) as *const [u8; 2]) })
    }
}

impl CodeReader for GuestCodeReader<'_> {
    fn read_u16(&mut self, pc: u64, endian: Endian) -> Result<u16, FetchFault> {
        let mut raw = [0u8; 2];
        if let Some(known) = self.read_known(pc) {
            raw = known;
        } else {
            self.read_slow(pc, &mut raw)?;
        }
        if self.record {
            self.record(pc, raw);
        }
        Ok(match endian {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        })
    }
}

impl GuestCodeReader<'_> {
    /// Reads `raw` byte by byte, taking each new page (see the module doc).
    fn read_slow(&mut self, pc: u64, raw: &mut [u8; 2]) -> Result<(), FetchFault> {
        for (k, byte) in raw.iter_mut().enumerate() {
            let a = pc.wrapping_add(k as u64);
            let Some(p) = self.space.perm(a) else { return Err(FetchFault { addr: a }) };
            if p.load(Ordering::Acquire) & perm::EXEC == 0 {
                return Err(FetchFault { addr: a });
            }
            let page = a >> perm::PAGE_BITS;
            if !self.pages.contains(&page) {
                if p.fetch_or(perm::CODE, Ordering::AcqRel) & perm::WRITE != 0 {
                    crate::code_protect::write_protect(self.space, page, true);
                }
                if let Some(prev) = page.checked_sub(1).and_then(|pp| self.space.perm(pp << perm::PAGE_BITS)) {
                    prev.fetch_or(perm::NEXT_CODE, Ordering::AcqRel);
                }
                self.pages.push(page);
            }
            // SAFETY: a < va_limit and the page is mapped executable (hence readable on the
            // host: linux-user maps guest-executable pages host-readable) inside the
            // reservation that the GuestSpace owner keeps mapped.
            *byte = unsafe { std::ptr::read_volatile((self.space.guest_base.wrapping_add(a)) as *const u8) };
        }
        Ok(())
    }

    fn record(&mut self, pc: u64, raw: [u8; 2]) {
        match self.runs.last_mut() {
            Some((start, bytes)) if pc.wrapping_sub(*start) == bytes.len() as u64 => bytes.extend_from_slice(&raw),
            // a re-read of something already recorded (the second half of an instruction
            // read again) is not a new run
            Some((start, bytes)) if pc.wrapping_sub(*start) < bytes.len() as u64 => {}
            _ => self.runs.push((pc, raw.to_vec())),
        }
    }
}
