//! Guest paths (QEMU's `util/path.c` plus the `/proc` emulation of `linux-user/syscall.c`).
//!
//! - `-L SYSROOT`: an absolute guest path is looked up in the sysroot first; when
//!   `SYSROOT/path` exists (as a file, directory or link) it is used, otherwise the host's
//!   own path. `/` itself always means the host's root.
//! - A few `/proc/self/...` files describe the guest, not remu: `exe` (the program),
//!   `maps`, `auxv`, `cmdline`. `/proc/<our pid>/` is the same as `/proc/self/`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A `/proc/self` file remu answers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcFile {
    /// /proc/self/exe.
    Exe,
    /// /proc/self/maps.
    Maps,
    /// /proc/self/auxv.
    Auxv,
    /// /proc/self/cmdline.
    Cmdline,
}

/// Recognizes the `/proc` files remu emulates.
pub fn proc_file(path: &[u8], pid: i32) -> Option<ProcFile> {
    let rest = path.strip_prefix(b"/proc/")?;
    let pid_s = pid.to_string();
    let rest = if let Some(r) = rest.strip_prefix(b"self/") {
        r
    } else if let Some(r) = rest.strip_prefix(pid_s.as_bytes()).and_then(|r| r.strip_prefix(b"/")) {
        r
    } else {
        rest.strip_prefix(b"thread-self/")?
    };
    match rest {
        b"exe" => Some(ProcFile::Exe),
        b"maps" => Some(ProcFile::Maps),
        b"auxv" => Some(ProcFile::Auxv),
        b"cmdline" => Some(ProcFile::Cmdline),
        _ => None,
    }
}

/// Maps a guest path to the host path to use.
pub fn resolve(sysroot: Option<&Path>, guest: &[u8]) -> PathBuf {
    let g = Path::new(std::ffi::OsStr::from_bytes(guest));
    let Some(root) = sysroot else { return g.to_path_buf() };
    if guest.first() != Some(&b'/') || guest.iter().all(|&c| c == b'/') {
        return g.to_path_buf();
    }
    let mut cand = root.as_os_str().as_bytes().to_vec();
    cand.extend_from_slice(guest);
    let cand = PathBuf::from(std::ffi::OsStr::from_bytes(&cand));
    if std::fs::symlink_metadata(&cand).is_ok() {
        cand
    } else {
        g.to_path_buf()
    }
}

/// The same, as a C string for a system call (guest paths never contain NUL).
pub fn resolve_c(sysroot: Option<&Path>, guest: &[u8]) -> CString {
    let p = resolve(sysroot, guest);
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_self_files() {
        assert_eq!(proc_file(b"/proc/self/exe", 42), Some(ProcFile::Exe));
        assert_eq!(proc_file(b"/proc/42/maps", 42), Some(ProcFile::Maps));
        assert_eq!(proc_file(b"/proc/43/maps", 42), None);
        assert_eq!(proc_file(b"/proc/self/status", 42), None);
        assert_eq!(proc_file(b"/proc/self", 42), None);
    }

    #[test]
    fn sysroot_lookup_prefers_existing_files() {
        let d = std::env::temp_dir().join(format!("remu-path-test-{}", std::process::id()));
        std::fs::create_dir_all(d.join("lib")).unwrap();
        std::fs::write(d.join("lib/x.so"), b"").unwrap();
        assert_eq!(resolve(Some(&d), b"/lib/x.so"), d.join("lib/x.so"));
        assert_eq!(resolve(Some(&d), b"/lib/y.so"), PathBuf::from("/lib/y.so"));
        assert_eq!(resolve(Some(&d), b"lib/x.so"), PathBuf::from("lib/x.so"));
        assert_eq!(resolve(Some(&d), b"/"), PathBuf::from("/"));
        assert_eq!(resolve(None, b"/lib/x.so"), PathBuf::from("/lib/x.so"));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
