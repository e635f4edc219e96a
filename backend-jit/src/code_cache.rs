//! Executable memory for compiled blocks: one memfd mapped twice, a read-write view where code
//! is written and a read-execute view where it runs (write-xor-execute: no page is ever both
//! writable and executable), filled by a bump allocator.
//!
//! Why not cranelift-jit's JITModule: it finalizes (mprotects) at least one page per function,
//! about 3 µs and 4 KiB each, which for the hundreds of thousands of small blocks of a large
//! guest program costs seconds and hundreds of MiB. Our blocks are position-independent (no
//! relocations: every call goes through a pointer constant), so they can be copied back to
//! back into one region. x86-64 keeps instruction caches coherent with stores, so no cache
//! maintenance is needed after writing.
//!
//! The region is bounded; when it is full, compilation fails with `CacheFull` and accel-tcg
//! flushes everything (dropping every block) before retrying.

use std::ptr::NonNull;

/// The dual-mapped code region.
pub struct CodeCache {
    rw: NonNull<u8>,
    rx: NonNull<u8>,
    size: usize,
    used: usize,
    /// The RW view's pages below this offset are unmapped from it (`release_written`).
    released: usize,
    /// Both views are populated up to here (`populate_ahead`).
    populated: usize,
    /// One anonymous RWX mapping (profiling) instead of the dual-mapped memfd.
    anonymous: bool,
}

/// The RW view gives its pages back in steps of this many bytes (`release_written`).
const RELEASE_STEP: usize = 64 << 10;

// SAFETY: the mappings are owned by this struct; writes go through &mut self, and executing
// code from the RX view from several threads is fine once written.
unsafe impl Send for CodeCache {}

impl CodeCache {
    /// Maps a region of `size` bytes (rounded up to pages).
    pub fn new(size: usize) -> std::io::Result<Self> {
        let size = size.div_ceil(4096) * 4096;
        // SAFETY: fresh mappings at addresses of the kernel's choice.
        let (rw, rx) = unsafe { map_views(size, None, 0)? };
        Ok(CodeCache { rw, rx, size, used: 0, released: 0, populated: 0, anonymous: false })
    }

    /// A single anonymous read-write-execute mapping (both views are the same). Only for
    /// profiling (`--perfmap`): profilers apply perf maps to anonymous executable memory
    /// only, and this gives up write-xor-execute to be one.
    pub fn new_anonymous_rwx(size: usize) -> std::io::Result<Self> {
        let size = size.div_ceil(4096) * 4096;
        // SAFETY: a plain anonymous mapping; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let nn = NonNull::new(p as *mut u8).expect("mmap succeeded");
        Ok(CodeCache { rw: nn, rx: nn, size, used: 0, released: 0, populated: 0, anonymous: true })
    }

    /// Copies `code` in (16-byte aligned) and returns its executable address, or None when
    /// the region is full.
    pub fn add(&mut self, code: &[u8]) -> Option<*const u8> {
        self.add_parts(&[], code)
    }

    /// As [`Self::add`], with the 16 bytes of `header` just before the code (where a jump
    /// through the lookup table reads whose code it is: `exits.rs`).
    pub fn add_with_header(&mut self, header: [u64; 2], code: &[u8]) -> Option<*const u8> {
        let mut h = [0u8; 16];
        h[..8].copy_from_slice(&header[0].to_le_bytes());
        h[8..].copy_from_slice(&header[1].to_le_bytes());
        self.add_parts(&h, code)
    }

    /// Copies `prefix` and then `code` in, the code 16-byte aligned; returns the code's
    /// executable address.
    fn add_parts(&mut self, prefix: &[u8], code: &[u8]) -> Option<*const u8> {
        let start = (self.used + prefix.len()).div_ceil(16) * 16;
        let end = start.checked_add(code.len())?;
        if end > self.size {
            return None;
        }
        self.populate_ahead(end);
        let first = start - prefix.len();
        // SAFETY: [first, end) lies within the RW mapping of `size` bytes, which no code
        // executes from (execution uses the RX view), and not yet handed out (bump allocator:
        // `first` is at least `used`).
        unsafe {
            std::ptr::copy_nonoverlapping(prefix.as_ptr(), self.rw.as_ptr().add(first), prefix.len());
            std::ptr::copy_nonoverlapping(code.as_ptr(), self.rw.as_ptr().add(start), code.len());
        }
        self.used = end;
        self.release_written();
        // SAFETY: same offset within the RX view of the same size.
        Some(unsafe { self.rx.as_ptr().add(start) } as *const u8)
    }

    /// Maps the pages up to `end` and [`RELEASE_STEP`] beyond in both views at once, writable
    /// in the RW view and readable in the RX view, with two system calls instead of two page
    /// faults per page (blocks are small: most land in a page that already holds others, and
    /// the first write to a page and its first execution each faulted). Kernels without
    /// MADV_POPULATE_* refuse it, and pages fault in as before.
    fn populate_ahead(&mut self, end: usize) {
        if self.anonymous || end <= self.populated {
            return;
        }
        let from = self.populated & !4095;
        let to = (end + RELEASE_STEP).min(self.size);
        // SAFETY: [from, to) lies within both views of `size` bytes; populating only
        // allocates the memfd's pages and maps them, as the faults of writing and executing
        // them would.
        unsafe {
            libc::madvise(self.rw.as_ptr().add(from) as *mut libc::c_void, to - from, libc::MADV_POPULATE_WRITE);
            libc::madvise(self.rx.as_ptr().add(from) as *mut libc::c_void, to - from, libc::MADV_POPULATE_READ);
        }
        self.populated = to;
    }

    /// Unmaps the pages of the RW view that are full of code (blocks are never written
    /// again), in steps of [`RELEASE_STEP`]: the memory stays in the memfd and in the RX view,
    /// but is no longer resident in two mappings (which would count it twice in the
    /// process's resident set). A later write (after a flush, or `unshare`'s copy) simply
    /// maps a page again.
    fn release_written(&mut self) {
        let done = self.used & !(RELEASE_STEP - 1);
        if self.anonymous || done <= self.released {
            return;
        }
        // SAFETY: [released, done) lies within our RW view; MADV_DONTNEED on a shared
        // mapping only drops its page-table entries (the memfd keeps the data), and no one
        // holds a reference into that part of the RW view.
        unsafe {
            libc::madvise(
                self.rw.as_ptr().add(self.released) as *mut libc::c_void,
                done - self.released,
                libc::MADV_DONTNEED,
            );
        }
        self.released = done;
    }

    /// The executable view: (start, length).
    pub fn exec_range(&self) -> (u64, u64) {
        (self.rx.as_ptr() as u64, self.size as u64)
    }

    /// Gives this process its own copy of the region at the same addresses (after a fork the
    /// shared memfd would otherwise be written by parent and child alike).
    pub fn unshare(&mut self) -> std::io::Result<()> {
        if self.anonymous {
            return Ok(()); // a private mapping: fork already copied it
        }
        // SAFETY: the new views replace exactly our two (MAP_FIXED), which we own; no other
        // thread exists in the child and no code runs from the region during the swap (the
        // caller is Rust code in the child's dispatcher); the bytes in use are copied from our
        // RW view first.
        unsafe { map_views(self.size, Some((self.rw, self.rx)), self.used)? };
        Ok(())
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Forgets every block after the first `keep` bytes. The caller guarantees no thread is
    /// executing code from the forgotten part (accel-tcg flushes from its dispatcher while
    /// no vCPU is inside JIT code).
    pub fn reset_to(&mut self, keep: usize) {
        self.used = keep.min(self.used);
        self.released = self.released.min(self.used & !(RELEASE_STEP - 1));
    }
}

impl Drop for CodeCache {
    fn drop(&mut self) {
        // SAFETY: both mappings were created in `new` with `size` bytes and are not used after
        // the cache is dropped (compiled blocks keep the backend, hence the cache, alive).
        unsafe {
            libc::munmap(self.rw.as_ptr() as *mut libc::c_void, self.size);
            if !self.anonymous {
                libc::munmap(self.rx.as_ptr() as *mut libc::c_void, self.size);
            }
        }
    }
}

/// Makes a memfd of `size` bytes and maps it twice, read-write and read-execute: anywhere, or
/// over the views `at` (MAP_FIXED), after copying their first `keep` bytes into the new file.
/// The fd is closed before returning: the mappings keep the memory alive.
///
/// # Safety
/// With `at`, both views are mappings of ours of `size` bytes that nothing else uses during
/// the call (the RW one is read for the copy).
unsafe fn map_views(
    size: usize,
    at: Option<(NonNull<u8>, NonNull<u8>)>,
    keep: usize,
) -> std::io::Result<(NonNull<u8>, NonNull<u8>)> {
    // SAFETY: plain syscalls with valid arguments, every result checked; the copy reads `keep`
    // bytes of the caller's RW view (function contract).
    unsafe {
        let fd = libc::memfd_create(c"remu-jit".as_ptr(), libc::MFD_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fail = |fd: i32| {
            let e = std::io::Error::last_os_error();
            libc::close(fd);
            Err(e)
        };
        if libc::ftruncate(fd, size as libc::off_t) != 0 {
            return fail(fd);
        }
        if let Some((rw, _)) = at {
            let mut done = 0usize;
            while done < keep {
                let n =
                    libc::pwrite(fd, rw.as_ptr().add(done) as *const libc::c_void, keep - done, done as libc::off_t);
                if n <= 0 {
                    return fail(fd);
                }
                done += n as usize;
            }
        }
        let (fixed, hint_rw, hint_rx) = match at {
            Some((rw, rx)) => (libc::MAP_FIXED, rw.as_ptr() as *mut libc::c_void, rx.as_ptr() as *mut libc::c_void),
            None => (0, std::ptr::null_mut(), std::ptr::null_mut()),
        };
        let map = |hint, prot| libc::mmap(hint, size, prot, libc::MAP_SHARED | fixed, fd, 0);
        let rw = map(hint_rw, libc::PROT_READ | libc::PROT_WRITE);
        if rw == libc::MAP_FAILED {
            return fail(fd);
        }
        let rx = map(hint_rx, libc::PROT_READ | libc::PROT_EXEC);
        if rx == libc::MAP_FAILED {
            if at.is_none() {
                libc::munmap(rw, size);
            }
            return fail(fd);
        }
        libc::close(fd);
        Ok((NonNull::new(rw as *mut u8).expect("mmap succeeded"), NonNull::new(rx as *mut u8).expect("mmap succeeded")))
    }
}
