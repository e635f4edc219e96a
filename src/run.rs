//! `remu run`: user mode. (Wiring lands with linux-user.)
use std::ffi::OsString;
use std::process::ExitCode;

pub fn main(_args: &[OsString]) -> ExitCode {
    eprintln!("remu run: not built yet");
    ExitCode::from(2)
}
