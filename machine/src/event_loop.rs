//! The I/O thread: waits on file descriptors with epoll, runs timers and bottom halves, and
//! serves the devices (QEMU's main loop / iothread, `util/aio-posix.c`).
//!
//! Handlers are closures run on the I/O thread; each gets a [`Ctl`] to register more fds or
//! timers (a unix-socket console accepting its client) or to drop itself
//! ([`Action::Remove`]). Other threads reach the loop through a [`Remote`]: they queue a
//! closure or schedule a [`BottomHalf`] and the loop's wake eventfd is written.
//!
//! Written over vmm-sys-util's `Epoll` rather than event-manager: event-manager wants one
//! `Arc<Mutex<dyn MutEventSubscriber>>` per source and has no timers or bottom halves, so
//! every remu source would need the same adapter; this loop is that adapter and nothing else
//! (about as long as the glue would be, one lock fewer per event).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vmm_sys_util::epoll::{ControlOperation, Epoll, EpollEvent, EventSet};
use vmm_sys_util::eventfd::EventFd;
use vmm_sys_util::timerfd::TimerFd;

pub use vmm_sys_util::epoll::EventSet as Events;

/// What a handler wants after it ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Keep watching.
    Keep,
    /// Stop watching this fd (the handler is dropped).
    Remove,
}

type FdHandler = Box<dyn FnMut(&mut Ctl, EventSet) -> Action + Send>;
type Job = Box<dyn FnOnce(&mut Ctl) + Send>;

/// Registration requests made from inside handlers; applied when the handler returns.
#[derive(Default)]
pub struct Ctl {
    adds: Vec<(RawFd, EventSet, FdHandler)>,
    stop: bool,
}

impl Ctl {
    /// Watches `fd` for `events` with `handler`. The caller keeps `fd` open for as long as
    /// the handler is registered (typically the handler owns it).
    pub fn add_fd(
        &mut self,
        fd: RawFd,
        events: EventSet,
        handler: impl FnMut(&mut Ctl, EventSet) -> Action + Send + 'static,
    ) {
        self.adds.push((fd, events, Box::new(handler)));
    }

    /// Runs `handler` after `delay`, then every `period` if given, until it returns
    /// [`Action::Remove`].
    pub fn add_timer(
        &mut self,
        delay: Duration,
        period: Option<Duration>,
        mut handler: impl FnMut(&mut Ctl) -> Action + Send + 'static,
    ) -> std::io::Result<()> {
        let mut t = TimerFd::new()?;
        t.reset(delay.max(Duration::from_nanos(1)), period)?;
        let fd = t.as_raw_fd();
        self.add_fd(fd, EventSet::IN, move |ctl, _| {
            // Reading acknowledges the expirations; the timer owns its fd.
            if t.wait().is_err() {
                return Action::Keep;
            }
            let a = handler(ctl);
            if a == Action::Keep && period.is_none() {
                return Action::Remove;
            }
            a
        });
        Ok(())
    }

    /// Ends the loop after the current iteration.
    pub fn stop(&mut self) {
        self.stop = true;
    }
}

struct Shared {
    wake: EventFd,
    jobs: Mutex<Vec<Job>>,
}

/// A thread-safe handle to a running (or not yet running) loop.
#[derive(Clone)]
pub struct Remote {
    shared: Arc<Shared>,
}

impl Remote {
    /// Runs `job` on the I/O thread soon.
    pub fn run(&self, job: impl FnOnce(&mut Ctl) + Send + 'static) {
        match self.shared.jobs.lock() {
            Ok(mut j) => j.push(Box::new(job)),
            Err(p) => p.into_inner().push(Box::new(job)),
        }
        let _ = self.shared.wake.write(1);
    }

    /// Asks the loop to return from [`EventLoop::run`].
    pub fn stop(&self) {
        self.run(|ctl| ctl.stop());
    }
}

/// Deferred work that any thread may schedule; runs once on the I/O thread per batch of
/// schedules (QEMU's `QEMUBH`).
#[derive(Clone)]
pub struct BottomHalf {
    remote: Remote,
    scheduled: Arc<AtomicBool>,
    f: Arc<Mutex<dyn FnMut() + Send>>,
}

impl BottomHalf {
    /// Schedules the bottom half; repeated schedules before it runs collapse into one run.
    pub fn schedule(&self) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let s = self.scheduled.clone();
        let f = self.f.clone();
        self.remote.run(move |_| {
            s.store(false, Ordering::Release);
            if let Ok(mut f) = f.lock() {
                f();
            }
        });
    }
}

/// The epoll loop itself.
pub struct EventLoop {
    epoll: Epoll,
    handlers: HashMap<u64, (RawFd, FdHandler)>,
    next_token: u64,
    shared: Arc<Shared>,
    pending: Ctl,
}

const WAKE_TOKEN: u64 = 0;

impl EventLoop {
    /// An empty loop.
    pub fn new() -> std::io::Result<Self> {
        let epoll = Epoll::new()?;
        let wake = EventFd::new(libc::EFD_NONBLOCK)?;
        epoll.ctl(ControlOperation::Add, wake.as_raw_fd(), EpollEvent::new(EventSet::IN, WAKE_TOKEN))?;
        Ok(Self {
            epoll,
            handlers: HashMap::new(),
            next_token: 1,
            shared: Arc::new(Shared { wake, jobs: Mutex::new(Vec::new()) }),
            pending: Ctl::default(),
        })
    }

    /// A handle for other threads.
    pub fn remote(&self) -> Remote {
        Remote { shared: self.shared.clone() }
    }

    /// Registration before the loop runs (same as [`Ctl`] inside handlers).
    pub fn ctl(&mut self) -> &mut Ctl {
        &mut self.pending
    }

    /// Creates a [`BottomHalf`] running `f`.
    pub fn bottom_half(&self, f: impl FnMut() + Send + 'static) -> BottomHalf {
        BottomHalf { remote: self.remote(), scheduled: Arc::new(AtomicBool::new(false)), f: Arc::new(Mutex::new(f)) }
    }

    fn apply(&mut self, ctl: &mut Ctl) -> std::io::Result<()> {
        for (fd, ev, h) in ctl.adds.drain(..) {
            let token = self.next_token;
            self.next_token += 1;
            self.epoll.ctl(ControlOperation::Add, fd, EpollEvent::new(ev, token))?;
            self.handlers.insert(token, (fd, h));
        }
        Ok(())
    }

    /// Serves events until a handler or a [`Remote`] stops the loop, or `keep_going` turns
    /// false (checked at least every 100 ms). Errors are host failures of epoll itself.
    pub fn run(&mut self, keep_going: &dyn Fn() -> bool) -> std::io::Result<()> {
        let mut ctl = std::mem::take(&mut self.pending);
        self.apply(&mut ctl)?;
        let mut events = vec![EpollEvent::default(); 32];
        while keep_going() && !ctl.stop {
            let n = match self.epoll.wait(100, &mut events) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            for ev in &events[..n] {
                let token = ev.data();
                if token == WAKE_TOKEN {
                    let _ = self.shared.wake.read();
                    let jobs: Vec<Job> = match self.shared.jobs.lock() {
                        Ok(mut j) => j.drain(..).collect(),
                        Err(p) => p.into_inner().drain(..).collect(),
                    };
                    for j in jobs {
                        j(&mut ctl);
                    }
                    continue;
                }
                let Some((fd, h)) = self.handlers.get_mut(&token) else { continue };
                let fd = *fd;
                if h(&mut ctl, ev.event_set()) == Action::Remove {
                    let _ = self.epoll.ctl(ControlOperation::Delete, fd, EpollEvent::default());
                    self.handlers.remove(&token);
                }
            }
            self.apply(&mut ctl)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn fd_timer_bottom_half_and_remote() {
        let mut el = EventLoop::new().unwrap();
        let ev = Arc::new(EventFd::new(libc::EFD_NONBLOCK).unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let (ev2, h2) = (ev.clone(), hits.clone());
        el.ctl().add_fd(ev.as_raw_fd(), EventSet::IN, move |_, _| {
            ev2.read().unwrap();
            h2.fetch_add(1, Ordering::SeqCst);
            Action::Keep
        });
        let ticks = Arc::new(AtomicUsize::new(0));
        let t2 = ticks.clone();
        el.ctl()
            .add_timer(Duration::from_millis(1), Some(Duration::from_millis(1)), move |_| {
                if t2.fetch_add(1, Ordering::SeqCst) == 2 {
                    Action::Remove
                } else {
                    Action::Keep
                }
            })
            .unwrap();
        let bh_runs = Arc::new(AtomicUsize::new(0));
        let b2 = bh_runs.clone();
        let bh = el.bottom_half(move || {
            b2.fetch_add(1, Ordering::SeqCst);
        });
        let remote = el.remote();
        let hits3 = hits.clone();
        let th = std::thread::spawn(move || {
            ev.write(1).unwrap();
            while hits3.load(Ordering::SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            bh.schedule();
            bh.schedule();
            std::thread::sleep(Duration::from_millis(50));
            remote.stop();
        });
        el.run(&|| true).unwrap();
        th.join().unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(ticks.load(Ordering::SeqCst), 3, "periodic timer removed itself after 3 runs");
        assert!((1..=2).contains(&bh_runs.load(Ordering::SeqCst)));
    }
}
