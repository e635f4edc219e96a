//! Character back ends for serial ports (QEMU `chardev/`): where a UART's output goes and
//! where its input comes from.
//!
//! Back ends, in QEMU's `-serial` spelling: `stdio` (the terminal, in raw mode, with the
//! Ctrl-A escape keys of QEMU's mux: Ctrl-A x quits, Ctrl-A h lists the keys, Ctrl-A Ctrl-A
//! sends Ctrl-A), `file:PATH` (output only), `unix:PATH,server[,wait=off]` (a listening
//! socket; with the default `wait=on` remu waits for a client before the guest starts, later
//! clients replace a departed one) and `null`.
//!
//! Input flows from the back end's fd on the I/O thread into a [`CharFrontend`]. When the
//! front end's FIFO is full, remu stops reading the fd until the guest drains it, so input
//! is never dropped and the I/O thread never spins.

pub mod term;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::eventfd::EventFd;

use crate::event_loop::{Action, Ctl, EventLoop};
use crate::vm::{StopReason, SystemControl};

/// A device that takes input bytes (a UART).
pub trait CharFrontend: Send + Sync {
    /// Offers bytes; returns how many were taken.
    fn receive(&self, data: &[u8]) -> usize;
    /// Signalled when a front end that refused bytes has room again.
    fn room_eventfd(&self) -> &EventFd;
}

impl CharFrontend for crate::devices::serial16550::Serial16550 {
    fn receive(&self, data: &[u8]) -> usize {
        Self::receive(self, data)
    }
    fn room_eventfd(&self) -> &EventFd {
        Self::room_eventfd(self)
    }
}

/// A `-serial` argument that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ChardevError {
    /// Unknown back end or option.
    #[error("-serial '{0}': {1}")]
    Parse(String, String),
    /// The back end could not be opened.
    #[error("-serial {0}: {1}")]
    Open(String, #[source] io::Error),
}

/// A parsed `-serial` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChardevSpec {
    /// The terminal, with the Ctrl-A escape keys.
    Stdio,
    /// Output appended to nothing, input never.
    Null,
    /// Output written to a file (truncated first).
    File(PathBuf),
    /// A unix-domain socket server.
    UnixServer {
        /// Socket path.
        path: PathBuf,
        /// Wait for a client before the guest starts.
        wait: bool,
    },
}

fn on_off(v: &str) -> Option<bool> {
    match v {
        "on" | "yes" | "true" => Some(true),
        "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

impl ChardevSpec {
    /// Parses QEMU's `-serial` spelling: `stdio`, `mon:stdio`, `null`, `none`, `file:PATH`,
    /// `unix:PATH,server[=on][,wait=on|off][,nowait]`.
    pub fn parse(s: &str) -> Result<Option<Self>, ChardevError> {
        let err = |m: &str| ChardevError::Parse(s.to_string(), m.to_string());
        match s {
            "stdio" | "mon:stdio" => return Ok(Some(Self::Stdio)),
            "null" => return Ok(Some(Self::Null)),
            "none" => return Ok(None),
            _ => {}
        }
        if let Some(p) = s.strip_prefix("file:") {
            if p.is_empty() {
                return Err(err("file: needs a path"));
            }
            return Ok(Some(Self::File(PathBuf::from(p))));
        }
        if let Some(rest) = s.strip_prefix("unix:") {
            let mut parts = rest.split(',');
            let path = parts.next().unwrap_or("");
            if path.is_empty() {
                return Err(err("unix: needs a path"));
            }
            let (mut server, mut wait) = (false, true);
            for opt in parts {
                let (k, v) = opt.split_once('=').unwrap_or((opt, "on"));
                match k {
                    "server" => server = on_off(v).ok_or_else(|| err("server= takes on or off"))?,
                    "wait" => wait = on_off(v).ok_or_else(|| err("wait= takes on or off"))?,
                    "nowait" => wait = false,
                    _ => return Err(err(&format!("unknown option '{k}'"))),
                }
            }
            if !server {
                return Err(err("only unix:PATH,server is supported (remu does not connect out)"));
            }
            return Ok(Some(Self::UnixServer { path: PathBuf::from(path), wait }));
        }
        Err(err("unknown back end (expected stdio, null, none, file:PATH or unix:PATH,server)"))
    }
}

/// Output half of an open back end.
type Sink = Box<dyn Write + Send>;

/// Output going to whatever client a socket server has at the moment.
#[derive(Clone, Default)]
struct SocketOut(Arc<Mutex<Option<UnixStream>>>);

impl Write for SocketOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut g = self.0.lock().map_err(|_| io::Error::other("poisoned"))?;
        if let Some(s) = g.as_mut() {
            if s.write_all(buf).is_err() {
                *g = None;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Stdout, unbuffered.
struct StdoutSink;

impl Write for StdoutSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut o = io::stdout().lock();
        o.write_all(buf)?;
        o.flush()?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

/// An opened back end, before its input is connected to a front end.
pub struct Chardev {
    spec: ChardevSpec,
    sink: Option<Sink>,
    listener: Option<UnixListener>,
    socket: SocketOut,
    raw: Option<term::RawMode>,
}

impl Chardev {
    /// Opens the back end (for a waiting unix server: binds and waits for the first client).
    pub fn open(spec: &ChardevSpec) -> Result<Self, ChardevError> {
        let name = |p: &Path| p.display().to_string();
        let mut c = Chardev { spec: spec.clone(), sink: None, listener: None, socket: SocketOut::default(), raw: None };
        match spec {
            ChardevSpec::Stdio => c.sink = Some(Box::new(StdoutSink)),
            ChardevSpec::Null => c.sink = Some(Box::new(io::sink())),
            ChardevSpec::File(p) => {
                let f = File::create(p).map_err(|e| ChardevError::Open(format!("file:{}", name(p)), e))?;
                c.sink = Some(Box::new(f));
            }
            ChardevSpec::UnixServer { path, wait } => {
                let what = format!("unix:{}", name(path));
                let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| {
                    use std::os::unix::fs::FileTypeExt;
                    m.file_type().is_socket()
                });
                if is_socket {
                    let _ = std::fs::remove_file(path);
                }
                let l = UnixListener::bind(path).map_err(|e| ChardevError::Open(what.clone(), e))?;
                if *wait {
                    eprintln!("remu: waiting for connection on {what},server");
                    let (s, _) = l.accept().map_err(|e| ChardevError::Open(what.clone(), e))?;
                    if let Ok(mut g) = c.socket.0.lock() {
                        *g = Some(s);
                    }
                }
                c.listener = Some(l);
                c.sink = Some(Box::new(c.socket.clone()));
            }
        }
        Ok(c)
    }

    /// Takes the output half (for the UART's constructor).
    pub fn take_output(&mut self) -> Box<dyn Write + Send> {
        self.sink.take().unwrap_or_else(|| Box::new(io::sink()))
    }

    /// Connects input to `fe` on `el`'s I/O thread; for stdio also enters raw mode (kept
    /// until the returned guard, owned by the caller, is dropped).
    pub fn connect_input(
        mut self,
        fe: Arc<dyn CharFrontend>,
        el: &mut EventLoop,
        control: Arc<SystemControl>,
    ) -> io::Result<Option<term::RawMode>> {
        let input = Arc::new(Mutex::new(Input { fe: fe.clone(), pending: VecDeque::new(), escape: false }));
        // Room in the front end: offer pending bytes, then resume reading the source.
        let resume: Arc<Mutex<Option<Source>>> = Arc::new(Mutex::new(None));
        {
            let (input, resume, control) = (input.clone(), resume.clone(), control.clone());
            let room = fe.room_eventfd().as_raw_fd();
            let fe2 = fe.clone();
            el.ctl().add_fd(room, EventSet::IN, move |ctl, _| {
                let _ = fe2.room_eventfd().read();
                let done = match input.lock() {
                    Ok(mut i) => i.flush(),
                    Err(_) => return Action::Remove,
                };
                if done {
                    if let Some(src) = resume.lock().ok().and_then(|mut r| r.take()) {
                        watch(ctl, src, input.clone(), resume.clone(), control.clone());
                    }
                }
                Action::Keep
            });
        }
        match &self.spec {
            ChardevSpec::Stdio => {
                self.raw = term::RawMode::enter(0)?;
                let src = if pollable(0) { Source::Stdin { mux: true } } else { stdin_through_pipe()? };
                watch(el.ctl(), src, input, resume, control);
            }
            ChardevSpec::UnixServer { .. } => {
                if let Some(l) = self.listener.take() {
                    let sock = self.socket.clone();
                    let existing = sock.0.lock().ok().and_then(|g| g.as_ref().and_then(|s| s.try_clone().ok()));
                    let l = Arc::new(l);
                    if let Some(s) = existing {
                        watch(
                            el.ctl(),
                            Source::Socket { stream: s, listener: l.clone(), out: sock.clone() },
                            input.clone(),
                            resume.clone(),
                            control.clone(),
                        );
                    } else {
                        accept_later(el.ctl(), l, sock, input, resume, control);
                    }
                }
            }
            ChardevSpec::File(_) | ChardevSpec::Null => {}
        }
        Ok(self.raw.take())
    }
}

/// Whether epoll can watch `fd` (regular files and /dev/null cannot).
fn pollable(fd: RawFd) -> bool {
    vmm_sys_util::epoll::Epoll::new()
        .and_then(|ep| {
            ep.ctl(
                vmm_sys_util::epoll::ControlOperation::Add,
                fd,
                vmm_sys_util::epoll::EpollEvent::new(EventSet::IN, 0),
            )
        })
        .is_ok()
}

/// For a stdin epoll cannot watch (a file, /dev/null): a thread copies it into a pipe.
fn stdin_through_pipe() -> io::Result<Source> {
    let (r, mut w) = std::io::pipe()?;
    std::thread::Builder::new().name("stdin".into()).spawn(move || {
        let mut buf = [0u8; 4096];
        let mut stdin = io::stdin().lock();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || w.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    })?;
    Ok(Source::Pipe { reader: r, mux: true })
}

/// Where input is read from.
enum Source {
    Stdin { mux: bool },
    Pipe { reader: std::io::PipeReader, mux: bool },
    Socket { stream: UnixStream, listener: Arc<UnixListener>, out: SocketOut },
}

struct Input {
    fe: Arc<dyn CharFrontend>,
    pending: VecDeque<u8>,
    escape: bool,
}

const HELP: &str = "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a C-a  sends C-a\r\n";

impl Input {
    /// Offers pending bytes; true when all were taken.
    fn flush(&mut self) -> bool {
        while !self.pending.is_empty() {
            let (a, _) = self.pending.as_slices();
            let n = self.fe.receive(a);
            if n == 0 {
                return false;
            }
            self.pending.drain(..n);
        }
        true
    }

    /// Runs QEMU's mux escape keys over `data`; returns false if the user asked to quit.
    fn feed(&mut self, data: &[u8], mux: bool, control: &SystemControl) -> bool {
        for &b in data {
            if !mux {
                self.pending.push_back(b);
                continue;
            }
            if self.escape {
                self.escape = false;
                match b {
                    b'x' | b'X' => {
                        eprint!("\r\nremu: terminated (C-a x)\r\n");
                        control.request_stop(StopReason::Quit);
                        return false;
                    }
                    b'h' | b'H' | b'?' => eprint!("{HELP}"),
                    0x01 => self.pending.push_back(0x01),
                    _ => {}
                }
            } else if b == 0x01 {
                self.escape = true;
            } else {
                self.pending.push_back(b);
            }
        }
        true
    }
}

fn watch(
    ctl: &mut Ctl,
    src: Source,
    input: Arc<Mutex<Input>>,
    resume: Arc<Mutex<Option<Source>>>,
    control: Arc<SystemControl>,
) {
    let fd: RawFd = match &src {
        Source::Stdin { .. } => 0,
        Source::Pipe { reader, .. } => reader.as_raw_fd(),
        Source::Socket { stream, .. } => stream.as_raw_fd(),
    };
    let mut src = Some(src);
    ctl.add_fd(fd, EventSet::IN | EventSet::HANG_UP | EventSet::READ_HANG_UP, move |ctl, _ev| {
        let mut buf = [0u8; 4096];
        let n = match src.as_mut() {
            Some(Source::Stdin { .. }) => io::stdin().lock().read(&mut buf),
            Some(Source::Pipe { reader, .. }) => reader.read(&mut buf),
            Some(Source::Socket { stream, .. }) => stream.read(&mut buf),
            None => return Action::Remove,
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted || e.kind() == io::ErrorKind::WouldBlock => {
                return Action::Keep
            }
            Err(_) => 0,
        };
        if n == 0 {
            // End of input: stdin is simply done; a socket client left, so wait for the next.
            if let Some(Source::Socket { listener, out, .. }) = src.take() {
                if let Ok(mut g) = out.0.lock() {
                    *g = None;
                }
                accept_later(ctl, listener, out, input.clone(), resume.clone(), control.clone());
            }
            return Action::Remove;
        }
        let mux = matches!(src, Some(Source::Stdin { mux: true }) | Some(Source::Pipe { mux: true, .. }));
        let Ok(mut i) = input.lock() else { return Action::Remove };
        if !i.feed(&buf[..n], mux, &control) {
            return Action::Remove;
        }
        if i.flush() {
            return Action::Keep;
        }
        // The front end is full: park the source until it has room.
        if let Ok(mut r) = resume.lock() {
            *r = src.take();
        }
        Action::Remove
    });
}

fn accept_later(
    ctl: &mut Ctl,
    listener: Arc<UnixListener>,
    out: SocketOut,
    input: Arc<Mutex<Input>>,
    resume: Arc<Mutex<Option<Source>>>,
    control: Arc<SystemControl>,
) {
    let fd = listener.as_raw_fd();
    ctl.add_fd(fd, EventSet::IN, move |ctl, _| {
        let Ok((s, _)) = listener.accept() else { return Action::Keep };
        let Ok(reader) = s.try_clone() else { return Action::Keep };
        if let Ok(mut g) = out.0.lock() {
            *g = Some(s);
        }
        watch(
            ctl,
            Source::Socket { stream: reader, listener: listener.clone(), out: out.clone() },
            input.clone(),
            resume.clone(),
            control.clone(),
        );
        Action::Remove
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_qemu_spellings() {
        assert_eq!(ChardevSpec::parse("stdio").unwrap(), Some(ChardevSpec::Stdio));
        assert_eq!(ChardevSpec::parse("none").unwrap(), None);
        assert_eq!(ChardevSpec::parse("file:/tmp/x").unwrap(), Some(ChardevSpec::File("/tmp/x".into())));
        assert_eq!(
            ChardevSpec::parse("unix:/tmp/s,server,nowait").unwrap(),
            Some(ChardevSpec::UnixServer { path: "/tmp/s".into(), wait: false })
        );
        assert_eq!(
            ChardevSpec::parse("unix:/tmp/s,server=on").unwrap(),
            Some(ChardevSpec::UnixServer { path: "/tmp/s".into(), wait: true })
        );
        for bad in ["pty", "file:", "unix:/tmp/s", "unix:/tmp/s,server,bogus=1", "tcp:1:2"] {
            assert!(ChardevSpec::parse(bad).is_err(), "{bad}");
        }
    }

    struct Fe {
        got: Mutex<Vec<u8>>,
        room: EventFd,
    }
    impl CharFrontend for Fe {
        fn receive(&self, d: &[u8]) -> usize {
            let n = d.len().min(2);
            self.got.lock().unwrap().extend_from_slice(&d[..n]);
            n
        }
        fn room_eventfd(&self) -> &EventFd {
            &self.room
        }
    }

    #[test]
    fn mux_escapes() {
        let fe = Arc::new(Fe { got: Mutex::new(vec![]), room: EventFd::new(0).unwrap() });
        let c = SystemControl::new();
        let mut i = Input { fe: fe.clone(), pending: VecDeque::new(), escape: false };
        assert!(i.feed(b"ab\x01\x01c\x01h", true, &c));
        assert!(i.flush(), "taken two bytes at a time");
        assert_eq!(&*fe.got.lock().unwrap(), b"ab\x01c");
        assert!(!c.is_stopping());
        assert!(!i.feed(b"\x01x", true, &c));
        assert_eq!(c.reason(), Some(StopReason::Quit));
    }
}
