//! The guest address space (QEMU's `linux-user/mmap.c`): one host reservation, one permission
//! byte per guest page, the list of guest mappings, and every access remu itself makes to
//! guest memory on behalf of system calls.
//!
//! # Layout
//! The guest sees addresses `0..va_limit`. At start-up remu reserves `va_limit` bytes of host
//! address space as one `PROT_NONE`, `MAP_NORESERVE` mapping at `guest_base` (it costs no
//! memory) and a permission table of `va_limit >> 12` bytes (an anonymous `MAP_NORESERVE`
//! mapping: untouched parts cost nothing). Guest address `a` is host address
//! `guest_base + a`. Where the host has the low addresses free (a position-independent remu
//! maps nothing there), `guest_base` is 0 and the reservation starts at the host's
//! mmap_min_addr, below which neither host nor guest can map anything: compiled code then
//! addresses guest memory without adding a base (QEMU's user mode prefers guest_base 0 too). A guest mmap is a host `mmap(MAP_FIXED)` inside the reservation plus the
//! permission bytes; a guest munmap maps `PROT_NONE` again, so the reservation is never given
//! back and no other host mapping can ever appear inside it. Host protections follow the
//! guest's, except that guest-executable pages are host-readable (the translator reads code
//! through them), nothing is ever host-executable, and accel-tcg makes guest-writable pages
//! that hold translated code host read-only while they do (its `code_protect`).
//!
//! # Permission bytes
//! The interpreter (and compiled code where it cannot use the host MMU) checks
//! `perms[addr >> 12]` ([`ir::backend::perm`]). remu updates the
//! READ/WRITE/EXEC bits with compare-exchange loops and never touches the `CODE` bit, which
//! accel-tcg owns. Code pages are invalidated (through the callback registered with
//! [`GuestMemory::set_invalidate`]) when they are unmapped, remapped, made non-executable, or
//! written by a system call.
//!
//! # Access from system calls
//! Every guest pointer a system call receives is checked against the permission table: a
//! range that is not entirely mapped with the needed access gives `EFAULT`, and nothing
//! outside the reservation is ever touched. Multi-byte values are read and written in the
//! guest's byte order, which this type knows.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use accel_tcg::GuestSpace;
use ir::backend::perm;

use crate::host::{Errno, GuestPtr, SysResult};

/// Guest page size.
pub const PAGE: u64 = perm::PAGE_SIZE;
/// Lowest address a guest mapping may have without MAP_FIXED (Linux's mmap_min_addr).
pub const MMAP_MIN_ADDR: u64 = 0x10000;

/// Rounds up to a page boundary (None on overflow).
pub fn page_up(v: u64) -> Option<u64> {
    v.checked_add(PAGE - 1).map(|x| x & !(PAGE - 1))
}

/// Rounds down to a page boundary.
pub fn page_down(v: u64) -> u64 {
    v & !(PAGE - 1)
}

/// Guest `PROT_*` bits (asm-generic mman.h, the same on every supported ISA).
pub mod prot {
    /// PROT_READ.
    pub const READ: i32 = 1;
    /// PROT_WRITE.
    pub const WRITE: i32 = 2;
    /// PROT_EXEC.
    pub const EXEC: i32 = 4;
}

/// Guest `MAP_*` flags (asm-generic mman.h).
pub mod mapf {
    /// MAP_SHARED.
    pub const SHARED: u32 = 0x01;
    /// MAP_PRIVATE.
    pub const PRIVATE: u32 = 0x02;
    /// MAP_SHARED_VALIDATE.
    pub const SHARED_VALIDATE: u32 = 0x03;
    /// Mask of the mapping type.
    pub const TYPE: u32 = 0x0f;
    /// MAP_FIXED.
    pub const FIXED: u32 = 0x10;
    /// MAP_ANONYMOUS.
    pub const ANONYMOUS: u32 = 0x20;
    /// MAP_GROWSDOWN.
    pub const GROWSDOWN: u32 = 0x100;
    /// MAP_NORESERVE.
    pub const NORESERVE: u32 = 0x4000;
    /// MAP_POPULATE.
    pub const POPULATE: u32 = 0x8000;
    /// MAP_STACK.
    pub const STACK: u32 = 0x20000;
    /// MAP_FIXED_NOREPLACE.
    pub const FIXED_NOREPLACE: u32 = 0x100000;
}

/// What a mapping shows in /proc/self/maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmaName {
    /// Anonymous.
    Anon,
    /// A file.
    File {
        /// Path.
        path: String,
        /// Device number.
        dev: u64,
        /// Inode.
        ino: u64,
    },
    /// A special name such as `[heap]`, `[stack]`.
    Special(&'static str),
}

/// One guest mapping.
#[derive(Clone, Debug)]
pub struct Vma {
    /// End (exclusive).
    pub end: u64,
    /// Guest PROT_* bits.
    pub prot: i32,
    /// MAP_SHARED.
    pub shared: bool,
    /// File offset of the start.
    pub offset: u64,
    /// Name.
    pub name: VmaName,
}

/// The mutable part of the address space (one lock; held only for bookkeeping and host
/// mmap calls, never while guest code runs).
#[derive(Debug)]
pub struct Layout {
    /// Mappings by start address; they never overlap.
    pub vmas: BTreeMap<u64, Vma>,
    /// Start of the heap (page-aligned end of the program's data).
    pub brk_start: u64,
    /// Current program break.
    pub brk: u64,
    /// Non-fixed mappings are placed top-down below this address.
    pub mmap_base: u64,
}

impl Layout {
    fn is_free(&self, start: u64, len: u64) -> bool {
        let end = start + len;
        if let Some((_, v)) = self.vmas.range(..end).next_back() {
            if v.end > start {
                return false;
            }
        }
        true
    }

    fn overlaps(&self, start: u64, len: u64) -> bool {
        !self.is_free(start, len)
    }

    /// Whether [start, start+len) is entirely covered by mappings.
    fn fully_mapped(&self, start: u64, len: u64) -> bool {
        let end = start + len;
        let mut at = start;
        if let Some((&s, v)) = self.vmas.range(..=at).next_back() {
            if s <= at && v.end > at {
                at = v.end;
            } else {
                return false;
            }
        } else {
            return false;
        }
        while at < end {
            match self.vmas.get(&at) {
                Some(v) => at = v.end,
                None => return false,
            }
        }
        true
    }

    /// Splits the mapping containing `addr` so that a mapping starts at `addr`.
    fn split_at(&mut self, addr: u64) {
        let Some((&s, v)) = self.vmas.range(..addr).next_back() else { return };
        if v.end <= addr {
            return;
        }
        let mut tail = v.clone();
        tail.offset = v.offset + (addr - s);
        if let Some(head) = self.vmas.get_mut(&s) {
            head.end = addr;
        }
        self.vmas.insert(addr, tail);
    }

    /// Removes [start, start+len) from the list.
    fn remove(&mut self, start: u64, len: u64) {
        let end = start + len;
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(&k, _)| k).collect();
        for k in keys {
            self.vmas.remove(&k);
        }
    }

    fn insert(&mut self, start: u64, vma: Vma) {
        self.remove(start, vma.end - start);
        self.vmas.insert(start, vma);
    }

    /// Highest free gap of `len` bytes below `top` and at or above MMAP_MIN_ADDR.
    fn find_free_below(&self, top: u64, len: u64) -> Option<u64> {
        let mut top = top;
        for (&s, v) in self.vmas.range(..top).rev() {
            if v.end <= top && top - v.end >= len {
                return Some(top - len);
            }
            top = top.min(s);
        }
        if top >= MMAP_MIN_ADDR.checked_add(len)? {
            Some(top - len)
        } else {
            None
        }
    }

    /// Text of /proc/self/maps.
    pub fn proc_maps(&self) -> String {
        let mut s = String::new();
        for (&start, v) in &self.vmas {
            let (dev, ino, path) = match &v.name {
                VmaName::Anon => (0, 0, String::new()),
                VmaName::File { path, dev, ino } => (*dev, *ino, path.clone()),
                VmaName::Special(n) => (0, 0, n.to_string()),
            };
            let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
            let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
            let line = format!(
                "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {}",
                start,
                v.end,
                if v.prot & prot::READ != 0 { 'r' } else { '-' },
                if v.prot & prot::WRITE != 0 { 'w' } else { '-' },
                if v.prot & prot::EXEC != 0 { 'x' } else { '-' },
                if v.shared { 's' } else { 'p' },
                v.offset,
                major,
                minor,
                ino
            );
            if path.is_empty() {
                s.push_str(&line);
            } else {
                s.push_str(&format!("{line:<73}{path}"));
            }
            s.push('\n');
        }
        s
    }
}

type InvalidateFn = Box<dyn Fn(u64, u64) + Send + Sync>;

/// The guest address space of this process.
pub struct GuestMemory {
    base: u64,
    perms: *const AtomicU8,
    va_limit: u64,
    big_endian: bool,
    layout: Mutex<Layout>,
    invalidate: OnceLock<InvalidateFn>,
}

// SAFETY: the raw pointers describe mappings that live for the whole process (never
// unmapped); the permission bytes are atomics and the layout is behind a mutex.
unsafe impl Send for GuestMemory {}
// SAFETY: as above.
unsafe impl Sync for GuestMemory {}

fn perm_bits(guest_prot: i32) -> u8 {
    let mut p = 0;
    if guest_prot & (prot::READ | prot::WRITE) != 0 {
        p |= perm::READ;
    }
    if guest_prot & prot::WRITE != 0 {
        p |= perm::WRITE;
    }
    if guest_prot & prot::EXEC != 0 {
        p |= perm::EXEC;
    }
    p
}

fn host_prot(guest_prot: i32) -> i32 {
    let mut p = 0;
    if guest_prot & (prot::READ | prot::WRITE | prot::EXEC) != 0 {
        p |= libc::PROT_READ;
    }
    if guest_prot & prot::WRITE != 0 {
        p |= libc::PROT_WRITE;
    }
    p
}

/// What a new mapping is backed by.
#[derive(Clone, Copy, Debug)]
pub enum Backing {
    /// Anonymous memory (zero-filled).
    Anon,
    /// A host file descriptor and offset.
    File {
        /// Descriptor.
        fd: i32,
        /// Offset (page-aligned).
        offset: u64,
    },
}

impl GuestMemory {
    /// Reserves a guest address space of `va_limit` bytes (a multiple of the page size).
    pub fn reserve(va_limit: u64, big_endian: bool) -> std::io::Result<GuestMemory> {
        if crate::host::page_size() != PAGE {
            return Err(std::io::Error::other("the host page size is not 4 KiB"));
        }
        let table_len = (va_limit >> perm::PAGE_BITS) as usize;
        let base = match Self::reserve_identity(va_limit) {
            Some(b) => b,
            None => Self::reserve_anywhere(va_limit)?,
        };
        // SAFETY: a fresh anonymous mapping for the permission table (zero = no access).
        let perms = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                table_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if perms == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(GuestMemory {
            base,
            perms: perms as *const AtomicU8,
            va_limit,
            big_endian,
            layout: Mutex::new(Layout { vmas: BTreeMap::new(), brk_start: 0, brk: 0, mmap_base: va_limit }),
            invalidate: OnceLock::new(),
        })
    }

    /// Reserves guest space where guest address `a` is host address `a` (guest_base 0:
    /// compiled accesses add nothing), if the host has `[mmap_min_addr, va_limit)` free, as a
    /// position-independent remu does: its own mappings are far above. Below mmap_min_addr
    /// (at most [`MMAP_MIN_ADDR`], where guests map nothing either) the host maps nothing.
    fn reserve_identity(va_limit: u64) -> Option<u64> {
        let min = std::fs::read_to_string("/proc/sys/vm/mmap_min_addr").ok()?.trim().parse::<u64>().ok()?;
        let start = page_up(min.max(PAGE))?;
        if start > MMAP_MIN_ADDR || start >= va_limit {
            return None;
        }
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping: the call either
        // makes a fresh PROT_NONE reservation at `start` or fails.
        let got = unsafe {
            libc::mmap(
                start as *mut libc::c_void,
                (va_limit - start) as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if got == libc::MAP_FAILED {
            return None;
        }
        if got as u64 != start {
            // a kernel that does not know MAP_FIXED_NOREPLACE took it as a hint
            // SAFETY: the mapping just made, used by nobody.
            unsafe { libc::munmap(got, (va_limit - start) as usize) };
            return None;
        }
        Some(0)
    }

    /// Reserves guest space wherever the kernel puts it.
    fn reserve_anywhere(va_limit: u64) -> std::io::Result<u64> {
        // SAFETY: a fresh anonymous PROT_NONE reservation chosen by the kernel; it overlaps
        // nothing and is never unmapped.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                va_limit as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(base as u64)
    }

    /// The description accel-tcg needs.
    pub fn space(&self) -> GuestSpace {
        GuestSpace { guest_base: self.base, perms: self.perms, va_limit: self.va_limit }
    }

    /// Size of the guest address space.
    pub fn va_limit(&self) -> u64 {
        self.va_limit
    }

    /// Whether the guest is big-endian.
    pub fn big_endian(&self) -> bool {
        self.big_endian
    }

    /// Registers the callback that drops translated code of a range (accel-tcg's
    /// `invalidate_range`).
    pub fn set_invalidate(&self, f: InvalidateFn) {
        let _ = self.invalidate.set(f);
    }

    /// The mapping list (locked).
    pub fn layout(&self) -> MutexGuard<'_, Layout> {
        self.layout.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn perm(&self, page: u64) -> &AtomicU8 {
        debug_assert!(page < self.va_limit >> perm::PAGE_BITS);
        // SAFETY: callers pass page < va_limit >> 12, the table's length; it lives forever.
        unsafe { &*self.perms.add(page as usize) }
    }

    /// The permission byte of the page holding `addr` (0 beyond the address space).
    pub fn page_perm(&self, addr: u64) -> u8 {
        if addr >= self.va_limit {
            return 0;
        }
        self.perm(addr >> perm::PAGE_BITS).load(Ordering::Acquire)
    }

    fn set_perms(&self, start: u64, len: u64, bits: u8) {
        let mask = perm::READ | perm::WRITE | perm::EXEC;
        let (first, end) = (start >> perm::PAGE_BITS, (start + len) >> perm::PAGE_BITS);
        self.set_rwx(first, end, bits, mask);
        // the "this and the next page" bits of the changed pages and of the page before them
        let pages = self.va_limit >> perm::PAGE_BITS;
        perm::update_pairs(|p| (p < pages).then(|| self.perm(p)), first, end.saturating_sub(1).max(first));
    }

    fn set_rwx(&self, first: u64, end: u64, bits: u8, mask: u8) {
        for page in first..end {
            let p = self.perm(page);
            let mut old = p.load(Ordering::Relaxed);
            if old & mask == bits {
                continue;
            }
            loop {
                let new = (old & !mask) | bits;
                match p.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Relaxed) {
                    Ok(_) => break,
                    Err(o) => old = o,
                }
            }
        }
    }

    /// Drops translated code from pages of [start, start+len) that hold some.
    fn invalidate_code(&self, start: u64, len: u64) {
        let Some(f) = self.invalidate.get() else { return };
        let first = start >> perm::PAGE_BITS;
        let last = (start + len).div_ceil(PAGE).min(self.va_limit >> perm::PAGE_BITS);
        let mut run: Option<u64> = None;
        for page in first..last {
            let code = self.perm(page).load(Ordering::Acquire) & perm::CODE != 0;
            match (code, run) {
                (true, None) => run = Some(page),
                (false, Some(r)) => {
                    f(r << perm::PAGE_BITS, (page - r) << perm::PAGE_BITS);
                    run = None;
                }
                _ => {}
            }
        }
        if let Some(r) = run {
            f(r << perm::PAGE_BITS, (last - r) << perm::PAGE_BITS);
        }
    }

    fn in_range(&self, start: u64, len: u64) -> bool {
        len > 0 && start.checked_add(len).is_some_and(|e| e <= self.va_limit)
    }

    /// Host mmap at guest `addr` (page-aligned, inside the reservation).
    fn host_map(
        &self,
        addr: u64,
        len: u64,
        guest_prot: i32,
        shared: bool,
        backing: Backing,
        extra: i32,
    ) -> SysResult<()> {
        debug_assert!(self.in_range(addr, len) && addr.is_multiple_of(PAGE) && len.is_multiple_of(PAGE));
        let (fd, off, anon) = match backing {
            Backing::Anon => (-1, 0, libc::MAP_ANONYMOUS),
            Backing::File { fd, offset } => (fd, offset as i64, 0),
        };
        let ty = if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
        // SAFETY: [addr, addr+len) lies inside the guest reservation (checked above), which
        // remu owns; MAP_FIXED replaces only guest pages there.
        let p = unsafe {
            libc::mmap(
                (self.base + addr) as *mut libc::c_void,
                len as usize,
                host_prot(guest_prot),
                ty | anon | libc::MAP_FIXED | extra,
                fd,
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        Ok(())
    }

    /// Returns [addr, addr+len) to the reservation (PROT_NONE, no memory).
    fn host_unmap(&self, addr: u64, len: u64) {
        // SAFETY: the range is inside the reservation; it becomes PROT_NONE again.
        unsafe {
            libc::mmap(
                (self.base + addr) as *mut libc::c_void,
                len as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            );
        }
    }

    /// Maps at a fixed, page-aligned guest address, replacing what was there (the ELF loader
    /// and MAP_FIXED).
    pub fn map_fixed(
        &self,
        addr: u64,
        len: u64,
        guest_prot: i32,
        shared: bool,
        backing: Backing,
        name: VmaName,
    ) -> SysResult<()> {
        let mut l = self.layout();
        self.map_fixed_locked(&mut l, addr, len, guest_prot, shared, backing, name, 0)
    }

    #[allow(clippy::too_many_arguments)]
    fn map_fixed_locked(
        &self,
        l: &mut Layout,
        addr: u64,
        len: u64,
        guest_prot: i32,
        shared: bool,
        backing: Backing,
        name: VmaName,
        extra: i32,
    ) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE) || !self.in_range(addr, len) {
            return Err(Errno(libc::EINVAL));
        }
        let len = page_up(len).ok_or(Errno(libc::ENOMEM))?;
        if !self.in_range(addr, len) {
            return Err(Errno(libc::ENOMEM));
        }
        let replaced = l.overlaps(addr, len);
        if replaced {
            self.set_perms(addr, len, 0);
            self.invalidate_code(addr, len);
        }
        if let Err(e) = self.host_map(addr, len, guest_prot, shared, backing, extra) {
            if replaced {
                l.remove(addr, len);
                self.host_unmap(addr, len);
            }
            return Err(e);
        }
        let offset = match backing {
            Backing::Anon => 0,
            Backing::File { offset, .. } => offset,
        };
        l.insert(addr, Vma { end: addr + len, prot: guest_prot, shared, offset, name });
        self.set_perms(addr, len, perm_bits(guest_prot));
        Ok(())
    }

    /// Finds room for `len` bytes (page-aligned) near `hint` or top-down below mmap_base.
    pub fn find_free(&self, l: &Layout, len: u64, hint: u64) -> Option<u64> {
        if hint != 0 {
            let a = page_down(hint);
            if a >= MMAP_MIN_ADDR && self.in_range(a, len) && l.is_free(a, len) {
                return Some(a);
            }
        }
        l.find_free_below(l.mmap_base, len).or_else(|| l.find_free_below(self.va_limit, len))
    }

    /// The guest's mmap(2).
    pub fn mmap(&self, addr: u64, len: u64, guest_prot: i32, flags: u32, backing: Backing, name: VmaName) -> SysResult {
        if len == 0 {
            return Err(Errno(libc::EINVAL));
        }
        if let Backing::File { offset, .. } = backing {
            if offset % PAGE != 0 {
                return Err(Errno(libc::EINVAL));
            }
        }
        let shared = match flags & mapf::TYPE {
            mapf::SHARED | mapf::SHARED_VALIDATE => true,
            mapf::PRIVATE => false,
            _ => return Err(Errno(libc::EINVAL)),
        };
        if guest_prot & !(prot::READ | prot::WRITE | prot::EXEC) != 0 {
            return Err(Errno(libc::EINVAL));
        }
        let len = page_up(len).ok_or(Errno(libc::ENOMEM))?;
        if len > self.va_limit {
            return Err(Errno(libc::ENOMEM));
        }
        let mut extra = 0;
        if flags & mapf::NORESERVE != 0 {
            extra |= libc::MAP_NORESERVE;
        }
        if flags & mapf::POPULATE != 0 {
            extra |= libc::MAP_POPULATE;
        }
        let mut l = self.layout();
        let start = if flags & (mapf::FIXED | mapf::FIXED_NOREPLACE) != 0 {
            if !addr.is_multiple_of(PAGE) {
                return Err(Errno(libc::EINVAL));
            }
            if !self.in_range(addr, len) {
                return Err(Errno(libc::ENOMEM));
            }
            if flags & mapf::FIXED == 0 && l.overlaps(addr, len) {
                return Err(Errno(libc::EEXIST));
            }
            addr
        } else {
            self.find_free(&l, len, addr).ok_or(Errno(libc::ENOMEM))?
        };
        self.map_fixed_locked(&mut l, start, len, guest_prot, shared, backing, name, extra)?;
        Ok(start)
    }

    /// The guest's munmap(2).
    pub fn munmap(&self, addr: u64, len: u64) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE) || len == 0 {
            return Err(Errno(libc::EINVAL));
        }
        let len = page_up(len).ok_or(Errno(libc::EINVAL))?;
        if !self.in_range(addr, len) {
            return Err(Errno(libc::EINVAL));
        }
        let mut l = self.layout();
        self.unmap_locked(&mut l, addr, len);
        Ok(())
    }

    fn unmap_locked(&self, l: &mut Layout, addr: u64, len: u64) {
        if !l.overlaps(addr, len) {
            return;
        }
        self.set_perms(addr, len, 0);
        self.invalidate_code(addr, len);
        self.host_unmap(addr, len);
        l.remove(addr, len);
    }

    /// The guest's mprotect(2).
    pub fn mprotect(&self, addr: u64, len: u64, guest_prot: i32) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno(libc::EINVAL));
        }
        // PROT_GROWSDOWN / PROT_GROWSUP are accepted and ignored.
        let guest_prot = guest_prot & !(0x0100_0000 | 0x0200_0000);
        if guest_prot & !(prot::READ | prot::WRITE | prot::EXEC) != 0 {
            return Err(Errno(libc::EINVAL));
        }
        if len == 0 {
            return Ok(());
        }
        let len = page_up(len).ok_or(Errno(libc::ENOMEM))?;
        if !self.in_range(addr, len) {
            return Err(Errno(libc::ENOMEM));
        }
        let mut l = self.layout();
        if !l.fully_mapped(addr, len) {
            return Err(Errno(libc::ENOMEM));
        }
        // SAFETY: the range is inside the reservation and entirely guest-mapped.
        let rc =
            unsafe { libc::mprotect((self.base + addr) as *mut libc::c_void, len as usize, host_prot(guest_prot)) };
        if rc != 0 {
            return Err(Errno::last());
        }
        l.split_at(addr);
        l.split_at(addr + len);
        let keys: Vec<u64> = l.vmas.range(addr..addr + len).map(|(&k, _)| k).collect();
        for k in keys {
            if let Some(v) = l.vmas.get_mut(&k) {
                v.prot = guest_prot;
            }
        }
        self.set_perms(addr, len, perm_bits(guest_prot));
        if guest_prot & prot::EXEC == 0 || guest_prot & prot::WRITE != 0 {
            self.invalidate_code(addr, len);
        }
        Ok(())
    }

    /// The guest's mremap(2).
    pub fn mremap(&self, old: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64) -> SysResult {
        const MAYMOVE: u32 = 1;
        const FIXED: u32 = 2;
        const DONTUNMAP: u32 = 4;
        if !old.is_multiple_of(PAGE) || flags & !(MAYMOVE | FIXED | DONTUNMAP) != 0 || new_len == 0 {
            return Err(Errno(libc::EINVAL));
        }
        if flags & FIXED != 0 && flags & MAYMOVE == 0 {
            return Err(Errno(libc::EINVAL));
        }
        if flags & DONTUNMAP != 0 {
            return Err(Errno(libc::EINVAL));
        }
        let old_len = page_up(old_len).ok_or(Errno(libc::EINVAL))?;
        let new_len = page_up(new_len).ok_or(Errno(libc::ENOMEM))?;
        if old_len == 0 || !self.in_range(old, old_len) || new_len > self.va_limit {
            return Err(Errno(libc::EFAULT));
        }
        let mut l = self.layout();
        if !l.fully_mapped(old, old_len) {
            return Err(Errno(libc::EFAULT));
        }
        let Some((&vs, vma)) = l.vmas.range(..=old).next_back() else { return Err(Errno(libc::EFAULT)) };
        let vma = vma.clone();
        if vma.end < old + old_len {
            // The old range spans several mappings.
            return Err(Errno(libc::EFAULT));
        }
        let dest = if flags & FIXED != 0 {
            if !new_addr.is_multiple_of(PAGE) || !self.in_range(new_addr, new_len) {
                return Err(Errno(libc::EINVAL));
            }
            if new_addr < old + old_len && old < new_addr + new_len {
                return Err(Errno(libc::EINVAL));
            }
            Some(new_addr)
        } else {
            None
        };
        if dest.is_none() {
            if new_len <= old_len {
                self.unmap_locked(&mut l, old + new_len, old_len - new_len);
                return Ok(old);
            }
            // Grow in place when the pages after the mapping are free.
            let grow = new_len - old_len;
            if self.in_range(old + old_len, grow) && l.is_free(old + old_len, grow) {
                let backing = match &vma.name {
                    VmaName::File { .. } => None,
                    _ if vma.shared => None,
                    _ => Some(Backing::Anon),
                };
                if let Some(b) = backing {
                    self.host_map(old + old_len, grow, vma.prot, false, b, 0)?;
                    self.set_perms(old + old_len, grow, perm_bits(vma.prot));
                    if let Some(v) = l.vmas.get_mut(&vs) {
                        if v.end == old + old_len {
                            v.end = old + new_len;
                        } else {
                            let mut t = vma.clone();
                            t.end = old + new_len;
                            l.insert(old + old_len, t);
                        }
                    }
                    return Ok(old);
                }
            }
            if flags & MAYMOVE == 0 {
                return Err(Errno(libc::ENOMEM));
            }
        }
        let dest = match dest {
            Some(d) => d,
            None => self.find_free(&l, new_len, 0).ok_or(Errno(libc::ENOMEM))?,
        };
        if vma.shared && matches!(vma.name, VmaName::Anon | VmaName::Special(_)) {
            // Shared anonymous memory cannot be re-created elsewhere without moving the host
            // mapping; move it (MREMAP_DONTUNMAP keeps the hole filled).
            return Err(Errno(libc::ENOMEM));
        }
        let copy = new_len.min(old_len);
        let new_vma_offset = vma.offset + (old - vs);
        match &vma.name {
            VmaName::File { .. } if vma.shared => {
                // Map the same file pages again; contents are shared through the page cache.
                // Reopen through the existing mapping is impossible, so use /proc/self/map_files
                // semantics by duplicating via mremap of the host range.
                return Err(Errno(libc::ENOMEM));
            }
            _ => {
                self.map_fixed_locked(
                    &mut l,
                    dest,
                    new_len,
                    prot::READ | prot::WRITE,
                    false,
                    Backing::Anon,
                    vma.name.clone(),
                    0,
                )?;
                // SAFETY: the old range is inside the reservation and guest-mapped; it is made
                // host-readable here (it is unmapped right after the copy).
                unsafe { libc::mprotect((self.base + old) as *mut libc::c_void, old_len as usize, libc::PROT_READ) };
                // SAFETY: both ranges are inside the reservation, the old one host-readable
                // (just above) and the new one host-writable (just mapped read-write); they do
                // not overlap (dest was free, or checked above for MREMAP_FIXED).
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        (self.base + old) as *const u8,
                        (self.base + dest) as *mut u8,
                        copy as usize,
                    )
                };
                if vma.prot != prot::READ | prot::WRITE {
                    // SAFETY: dest range inside the reservation, just mapped.
                    unsafe {
                        libc::mprotect((self.base + dest) as *mut libc::c_void, new_len as usize, host_prot(vma.prot))
                    };
                    self.set_perms(dest, new_len, perm_bits(vma.prot));
                }
                if let Some(v) = l.vmas.get_mut(&dest) {
                    v.prot = vma.prot;
                    v.offset = new_vma_offset;
                }
            }
        }
        self.unmap_locked(&mut l, old, old_len);
        Ok(dest)
    }

    /// The guest's brk(2): returns the new break, or the old one on failure.
    pub fn brk(&self, new: u64) -> u64 {
        let mut l = self.layout();
        let cur = l.brk;
        if new == 0 || new < l.brk_start || new >= self.va_limit {
            return cur;
        }
        let (Some(old_end), Some(new_end)) = (page_up(cur), page_up(new)) else { return cur };
        if new_end > old_end {
            let len = new_end - old_end;
            if !l.is_free(old_end, len) {
                return cur;
            }
            if self
                .map_fixed_locked(
                    &mut l,
                    old_end,
                    len,
                    prot::READ | prot::WRITE,
                    false,
                    Backing::Anon,
                    VmaName::Special("[heap]"),
                    0,
                )
                .is_err()
            {
                return cur;
            }
        } else if new_end < old_end {
            self.unmap_locked(&mut l, new_end, old_end - new_end);
        }
        l.brk = new;
        new
    }

    /// Whether [addr, addr+len) is entirely mapped.
    pub fn fully_mapped(&self, addr: u64, len: u64) -> bool {
        self.in_range(addr, len) && self.layout().fully_mapped(addr, len)
    }

    /// Sets the initial break (after the program's data).
    pub fn init_brk(&self, at: u64) {
        let mut l = self.layout();
        l.brk_start = at;
        l.brk = at;
    }

    /// Sets where non-fixed mappings go.
    pub fn set_mmap_base(&self, at: u64) {
        self.layout().mmap_base = at;
    }

    /// madvise(2): only advice that is harmless or that private anonymous memory supports is
    /// passed to the host; the rest is accepted and ignored.
    pub fn madvise(&self, addr: u64, len: u64, advice: i32) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno(libc::EINVAL));
        }
        let len = page_up(len).ok_or(Errno(libc::EINVAL))?;
        if len == 0 {
            return Ok(());
        }
        if !self.in_range(addr, len) {
            return Err(Errno(libc::ENOMEM));
        }
        let l = self.layout();
        if !l.fully_mapped(addr, len) {
            return Err(Errno(libc::ENOMEM));
        }
        if matches!(
            advice,
            libc::MADV_DONTNEED
                | libc::MADV_FREE
                | libc::MADV_WILLNEED
                | libc::MADV_NORMAL
                | libc::MADV_RANDOM
                | libc::MADV_SEQUENTIAL
        ) {
            // SAFETY: the range lies inside the reservation and is guest-mapped; these advices
            // only affect the contents of those guest pages (DONTNEED zero-fills private
            // anonymous pages, as the guest asked).
            let rc = unsafe { libc::madvise((self.base + addr) as *mut libc::c_void, len as usize, advice) };
            if rc != 0 {
                return Err(Errno::last());
            }
        }
        Ok(())
    }

    /// msync(2) on a guest range.
    pub fn msync(&self, addr: u64, len: u64, flags: i32) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno(libc::EINVAL));
        }
        let len = page_up(len).ok_or(Errno(libc::ENOMEM))?;
        if len == 0 {
            return Ok(());
        }
        if !self.in_range(addr, len) || !self.layout().fully_mapped(addr, len) {
            return Err(Errno(libc::ENOMEM));
        }
        // SAFETY: the range lies inside the reservation; msync does not change mappings.
        let rc = unsafe { libc::msync((self.base + addr) as *mut libc::c_void, len as usize, flags) };
        if rc != 0 {
            return Err(Errno::last());
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Access on behalf of system calls.

    /// Checks that [addr, addr+len) is entirely guest-accessible with `need` (perm bits).
    pub fn check(&self, addr: u64, len: u64, need: u8) -> SysResult<()> {
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or(Errno(libc::EFAULT))?;
        if end > self.va_limit {
            return Err(Errno(libc::EFAULT));
        }
        for page in (addr >> perm::PAGE_BITS)..=((end - 1) >> perm::PAGE_BITS) {
            if self.perm(page).load(Ordering::Acquire) & need != need {
                return Err(Errno(libc::EFAULT));
            }
        }
        Ok(())
    }

    /// A validated pointer for a host call that reads `len` guest bytes at `addr`.
    pub fn ptr_in(&self, addr: u64, len: u64) -> SysResult<GuestPtr> {
        self.check(addr, len, perm::READ)?;
        Ok(GuestPtr(self.base + addr))
    }

    /// A validated pointer for a host call that writes `len` guest bytes at `addr`
    /// (translated code of those pages is dropped first).
    pub fn ptr_out(&self, addr: u64, len: u64) -> SysResult<GuestPtr> {
        self.check(addr, len, perm::WRITE)?;
        self.invalidate_code(addr, len);
        Ok(GuestPtr(self.base + addr))
    }

    /// Length of the longest prefix of [addr, addr+len) accessible with `need`.
    pub fn accessible_prefix(&self, addr: u64, len: u64, need: u8) -> u64 {
        if addr >= self.va_limit || len == 0 {
            return 0;
        }
        let len = len.min(self.va_limit - addr);
        let mut at = addr;
        let end = addr + len;
        while at < end {
            if self.perm(at >> perm::PAGE_BITS).load(Ordering::Acquire) & need != need {
                break;
            }
            at = page_down(at) + PAGE;
        }
        at.min(end) - addr
    }

    /// For calls that write at most `len` bytes (read, recv...): a pointer and the length
    /// of its accessible prefix, as the kernel stops at the first fault. `EFAULT` when not
    /// even the first byte is writable.
    pub fn ptr_out_prefix(&self, addr: u64, len: u64) -> SysResult<(GuestPtr, u64)> {
        if len == 0 {
            return Ok((GuestPtr(self.base + addr.min(self.va_limit)), 0));
        }
        let n = self.accessible_prefix(addr, len, perm::WRITE);
        if n == 0 {
            return Err(Errno(libc::EFAULT));
        }
        self.ptr_out(addr, n).map(|p| (p, n))
    }

    /// For calls that read at most `len` bytes (write, send...); see
    /// [`ptr_out_prefix`](Self::ptr_out_prefix).
    pub fn ptr_in_prefix(&self, addr: u64, len: u64) -> SysResult<(GuestPtr, u64)> {
        if len == 0 {
            return Ok((GuestPtr(self.base + addr.min(self.va_limit)), 0));
        }
        let n = self.accessible_prefix(addr, len, perm::READ);
        if n == 0 {
            return Err(Errno(libc::EFAULT));
        }
        Ok((GuestPtr(self.base + addr), n))
    }

    /// Like [`ptr_in`](Self::ptr_in) but a null guest pointer stays null.
    pub fn opt_in(&self, addr: u64, len: u64) -> SysResult<Option<GuestPtr>> {
        if addr == 0 {
            Ok(None)
        } else {
            self.ptr_in(addr, len).map(Some)
        }
    }

    /// Like [`ptr_out`](Self::ptr_out) but a null guest pointer stays null.
    pub fn opt_out(&self, addr: u64, len: u64) -> SysResult<Option<GuestPtr>> {
        if addr == 0 {
            Ok(None)
        } else {
            self.ptr_out(addr, len).map(Some)
        }
    }

    /// Copies guest bytes into `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> SysResult<()> {
        self.check(addr, buf.len() as u64, perm::READ)?;
        // SAFETY: the range was checked to be guest-readable, hence host-readable inside the
        // reservation; buf is a distinct Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping((self.base + addr) as *const u8, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Reads `len` guest bytes.
    pub fn read_vec(&self, addr: u64, len: usize) -> SysResult<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }

    /// Copies `data` to guest memory (guest write permission required).
    pub fn write(&self, addr: u64, data: &[u8]) -> SysResult<()> {
        self.check(addr, data.len() as u64, perm::WRITE)?;
        self.invalidate_code(addr, data.len() as u64);
        // SAFETY: the range was checked to be guest-writable, hence host-writable inside the
        // reservation.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), (self.base + addr) as *mut u8, data.len()) };
        Ok(())
    }

    /// Copies `data` to guest memory that is mapped but maybe not guest-writable (the loader
    /// filling read-only pages it mapped writable on the host).
    pub fn poke(&self, addr: u64, data: &[u8]) -> SysResult<()> {
        self.check(addr, data.len() as u64, perm::READ)?;
        // SAFETY: the range is guest-mapped inside the reservation; the loader maps every
        // page it pokes host-writable first (map_fixed with WRITE, then mprotect).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), (self.base + addr) as *mut u8, data.len()) };
        Ok(())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
    /// `ENAMETOOLONG` when there is no NUL within `max` bytes.
    pub fn read_cstr(&self, addr: u64, max: usize) -> SysResult<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = addr;
        loop {
            let page_end = page_down(at).checked_add(PAGE).ok_or(Errno(libc::EFAULT))?;
            let n = (page_end - at) as usize;
            self.check(at, n as u64, perm::READ)?;
            // SAFETY: [at, at+n) was checked readable and lies in one page of the reservation.
            let chunk = unsafe { std::slice::from_raw_parts((self.base + at) as *const u8, n) };
            if let Some(z) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                if out.len() > max {
                    return Err(Errno(libc::ENAMETOOLONG));
                }
                return Ok(out);
            }
            out.extend_from_slice(chunk);
            if out.len() > max {
                return Err(Errno(libc::ENAMETOOLONG));
            }
            at = page_end;
        }
    }

    /// Reads a guest u16 in guest byte order.
    pub fn read_u16(&self, addr: u64) -> SysResult<u16> {
        let mut b = [0u8; 2];
        self.read(addr, &mut b)?;
        Ok(if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    /// Reads a guest u32 in guest byte order.
    pub fn read_u32(&self, addr: u64) -> SysResult<u32> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }

    /// Reads a guest u64 in guest byte order.
    pub fn read_u64(&self, addr: u64) -> SysResult<u64> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(if self.big_endian { u64::from_be_bytes(b) } else { u64::from_le_bytes(b) })
    }

    /// Writes a guest u16 in guest byte order.
    pub fn write_u16(&self, addr: u64, v: u16) -> SysResult<()> {
        self.write(addr, &if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() })
    }

    /// Writes a guest u32 in guest byte order.
    pub fn write_u32(&self, addr: u64, v: u32) -> SysResult<()> {
        self.write(addr, &if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() })
    }

    /// Writes a guest u64 in guest byte order.
    pub fn write_u64(&self, addr: u64, v: u64) -> SysResult<()> {
        self.write(addr, &if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() })
    }

    /// Encodes a u64 in guest byte order.
    pub fn enc64(&self, v: u64) -> [u8; 8] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// Encodes a u32 in guest byte order.
    pub fn enc32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// Decodes a u64 in guest byte order.
    pub fn dec64(&self, b: &[u8]) -> u64 {
        let a: [u8; 8] = b.get(..8).and_then(|s| s.try_into().ok()).unwrap_or([0; 8]);
        if self.big_endian {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        }
    }

    /// Decodes a u32 in guest byte order.
    pub fn dec32(&self, b: &[u8]) -> u32 {
        let a: [u8; 4] = b.get(..4).and_then(|s| s.try_into().ok()).unwrap_or([0; 4]);
        if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    /// The host address of a guest address for the futex system call, which the kernel uses
    /// as the key (it checks the access itself). Requires guest read permission.
    pub fn futex_ptr(&self, addr: u64) -> SysResult<GuestPtr> {
        if !addr.is_multiple_of(4) {
            return Err(Errno(libc::EINVAL));
        }
        self.ptr_in(addr, 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem() -> GuestMemory {
        GuestMemory::reserve(1 << 32, false).expect("reserve")
    }

    #[test]
    fn anonymous_mapping_is_readable_writable_and_unmapped_faults() {
        let m = mem();
        m.set_mmap_base(0x1000_0000);
        let a = m
            .mmap(0, 3 * PAGE, prot::READ | prot::WRITE, mapf::PRIVATE | mapf::ANONYMOUS, Backing::Anon, VmaName::Anon)
            .unwrap();
        assert_eq!(a, 0x1000_0000 - 3 * PAGE);
        m.write_u64(a + 8, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(m.read_u64(a + 8).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(m.read_u32(a + 8).unwrap(), 0x5566_7788);
        m.munmap(a + PAGE, PAGE).unwrap();
        assert_eq!(m.read_u8_for_test(a + PAGE), Err(Errno(libc::EFAULT)));
        assert!(m.read_u64(a).is_ok());
        assert!(m.read_u64(a + 2 * PAGE).is_ok());
        // A read crossing into the hole faults.
        assert_eq!(m.read_u64(a + PAGE - 4), Err(Errno(libc::EFAULT)));
        assert_eq!(m.layout().vmas.len(), 2);
    }

    impl GuestMemory {
        fn read_u8_for_test(&self, addr: u64) -> SysResult<u8> {
            let mut b = [0u8; 1];
            self.read(addr, &mut b)?;
            Ok(b[0])
        }
    }

    #[test]
    fn mprotect_read_only_refuses_writes_and_keeps_code_bit() {
        let m = mem();
        let a = m
            .mmap(
                0x40_0000,
                PAGE,
                prot::READ | prot::WRITE,
                mapf::PRIVATE | mapf::ANONYMOUS | mapf::FIXED,
                Backing::Anon,
                VmaName::Anon,
            )
            .unwrap();
        m.perm(a >> 12).fetch_or(perm::CODE, Ordering::AcqRel);
        m.mprotect(a, PAGE, prot::READ | prot::EXEC).unwrap();
        assert_eq!(m.page_perm(a), perm::READ | perm::EXEC | perm::CODE);
        assert_eq!(m.write(a, &[1]), Err(Errno(libc::EFAULT)));
        assert!(m.read_vec(a, 16).is_ok());
        // mprotect over a hole is ENOMEM.
        assert_eq!(m.mprotect(a, 2 * PAGE, prot::READ), Err(Errno(libc::ENOMEM)));
    }

    #[test]
    fn fixed_noreplace_and_hints() {
        let m = mem();
        let f = mapf::PRIVATE | mapf::ANONYMOUS;
        let a = m.mmap(0x50_0000, PAGE, prot::READ, f | mapf::FIXED, Backing::Anon, VmaName::Anon).unwrap();
        assert_eq!(
            m.mmap(a, PAGE, prot::READ, f | mapf::FIXED_NOREPLACE, Backing::Anon, VmaName::Anon),
            Err(Errno(libc::EEXIST))
        );
        // A free hint is honoured, a taken one is not.
        assert_eq!(m.mmap(0x60_0000, PAGE, prot::READ, f, Backing::Anon, VmaName::Anon).unwrap(), 0x60_0000);
        assert_ne!(m.mmap(0x60_0000, PAGE, prot::READ, f, Backing::Anon, VmaName::Anon).unwrap(), 0x60_0000);
        assert_eq!(
            m.mmap(a + 1, PAGE, prot::READ, f | mapf::FIXED, Backing::Anon, VmaName::Anon),
            Err(Errno(libc::EINVAL))
        );
        assert_eq!(m.mmap(0, 0, prot::READ, f, Backing::Anon, VmaName::Anon), Err(Errno(libc::EINVAL)));
        assert_eq!(
            m.mmap(0, PAGE, prot::READ, mapf::ANONYMOUS, Backing::Anon, VmaName::Anon),
            Err(Errno(libc::EINVAL))
        );
    }

    #[test]
    fn mremap_grows_in_place_or_moves_keeping_contents() {
        let m = mem();
        let f = mapf::PRIVATE | mapf::ANONYMOUS | mapf::FIXED;
        let a = m.mmap(0x100_0000, PAGE, prot::READ | prot::WRITE, f, Backing::Anon, VmaName::Anon).unwrap();
        m.write(a, b"hello").unwrap();
        assert_eq!(m.mremap(a, PAGE, 2 * PAGE, 0, 0).unwrap(), a);
        m.write(a + PAGE, b"x").unwrap();
        m.mmap(a + 2 * PAGE, PAGE, prot::READ, f, Backing::Anon, VmaName::Anon).unwrap();
        assert_eq!(m.mremap(a, 2 * PAGE, 4 * PAGE, 0, 0), Err(Errno(libc::ENOMEM)));
        let b = m.mremap(a, 2 * PAGE, 4 * PAGE, 1, 0).unwrap();
        assert_ne!(a, b);
        assert_eq!(m.read_vec(b, 5).unwrap(), b"hello");
        assert_eq!(m.read_vec(b + PAGE, 1).unwrap(), b"x");
        assert_eq!(m.read_vec(a, 1), Err(Errno(libc::EFAULT)));
        // Shrinking keeps the start.
        assert_eq!(m.mremap(b, 4 * PAGE, PAGE, 0, 0).unwrap(), b);
        assert_eq!(m.read_vec(b + PAGE, 1), Err(Errno(libc::EFAULT)));
    }

    #[test]
    fn brk_grows_and_shrinks() {
        let m = mem();
        m.init_brk(0x20_0000);
        assert_eq!(m.brk(0), 0x20_0000);
        assert_eq!(m.brk(0x20_0000 + 10_000), 0x20_0000 + 10_000);
        m.write(0x20_0000 + 9_000, b"abc").unwrap();
        assert_eq!(m.brk(0x20_0000 + 100), 0x20_0000 + 100);
        assert!(m.write(0x20_0000 + 9_000, b"abc").is_err());
        // Below the start is refused.
        assert_eq!(m.brk(0x1000), 0x20_0000 + 100);
    }

    #[test]
    fn cstrings_cross_pages_and_stop_at_unmapped() {
        let m = mem();
        let f = mapf::PRIVATE | mapf::ANONYMOUS | mapf::FIXED;
        let a = m.mmap(0x70_0000, 2 * PAGE, prot::READ | prot::WRITE, f, Backing::Anon, VmaName::Anon).unwrap();
        m.write(a + PAGE - 3, b"abcdef\0").unwrap();
        assert_eq!(m.read_cstr(a + PAGE - 3, 100).unwrap(), b"abcdef");
        assert_eq!(m.read_cstr(a + PAGE - 3, 4), Err(Errno(libc::ENAMETOOLONG)));
        m.write(a + 2 * PAGE - 2, b"zz").unwrap();
        assert_eq!(m.read_cstr(a + 2 * PAGE - 2, 100), Err(Errno(libc::EFAULT)));
        assert_eq!(m.read_cstr(u64::MAX - 2, 100), Err(Errno(libc::EFAULT)));
        assert_eq!(m.check(u64::MAX - 2, 8, perm::READ), Err(Errno(libc::EFAULT)));
    }

    #[test]
    fn proc_maps_lists_mappings() {
        let m = mem();
        let f = mapf::PRIVATE | mapf::ANONYMOUS | mapf::FIXED;
        m.mmap(0x10000, PAGE, prot::READ | prot::EXEC, f, Backing::Anon, VmaName::Special("[x]")).unwrap();
        let s = m.layout().proc_maps();
        assert!(s.starts_with("00010000-00011000 r-xp 00000000 00:00 0"), "{s}");
        assert!(s.trim_end().ends_with("[x]"));
    }
}
