//! Guest-error logging (QEMU's `-d guest_errors` / `LOG_GUEST_ERROR`).
//!
//! A misbehaving guest is not a host error: devices report what they ignored here, once per
//! kind of complaint unless `-d guest_errors` turned full logging on, and carry on with their
//! documented behaviour.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static VERBOSE: AtomicBool = AtomicBool::new(false);
static SEEN: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// Turns on logging of every guest error (`-d guest_errors`).
pub fn set_guest_errors(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Whether `-d guest_errors` is on.
pub fn guest_errors_enabled() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Reports a guest error. `kind` is a static key: without `-d guest_errors` only the first
/// report of each kind is printed, so a guest cannot flood the terminal.
pub fn guest_error(kind: &'static str, msg: std::fmt::Arguments<'_>) {
    if !guest_errors_enabled() {
        let mut seen = match SEEN.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if !seen.get_or_insert_with(HashSet::new).insert(kind) {
            return;
        }
    }
    eprintln!("remu: guest error: {kind}: {msg}");
}

/// `guest_error!("kind", "format", args...)`: see [`guest_error`].
#[macro_export]
macro_rules! guest_error {
    ($kind:expr, $($arg:tt)*) => {
        $crate::log::guest_error($kind, format_args!($($arg)*))
    };
}
