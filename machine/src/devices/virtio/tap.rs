//! A Linux tap device (a layer-2 network interface whose frames a process reads and
//! writes), opened through /dev/net/tun with TUNSETIFF.
//!
//! `unsafe` lives here because TUNSETIFF is an ioctl on a `struct ifreq`. The fd is
//! non-blocking: the I/O thread reads a frame when epoll says one is there.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

/// An open tap interface.
pub struct Tap {
    file: File,
    name: String,
}

impl Tap {
    /// Attaches to (or, with the privilege, creates) tap interface `name`.
    pub fn open(name: &str) -> std::io::Result<Self> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "interface name must be 1 to 15 bytes"));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")
            .map_err(|e| std::io::Error::new(e.kind(), format!("/dev/net/tun: {e}")))?;
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        ifr.ifr_ifru.ifru_flags = IFF_TAP | IFF_NO_PI;
        // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `ifr` is, and the fd is
        // a freshly opened /dev/net/tun.
        let r = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut ifr) };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Self { file, name: name.to_string() })
    }

    /// Interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads one frame; `WouldBlock` when none is waiting.
    pub fn read_frame(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }

    /// Writes one frame.
    pub fn write_frame(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }

    /// The fd to watch.
    pub fn raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}
