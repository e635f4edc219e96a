//! `remu system`: system mode. (Wiring lands with the machine crate.)
use std::ffi::OsString;
use std::process::ExitCode;

pub fn main(_args: &[OsString]) -> ExitCode {
    eprintln!("remu system: not built yet");
    ExitCode::from(2)
}
