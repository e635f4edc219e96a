//! The `remu` command: parses the command line and hands over to the mode that runs the guest.
//!
//! `remu run` is user mode (one guest Linux program as a host process, like qemu-user) and lives
//! in `run.rs`; `remu system` boots a whole board (QEMU's option spelling) and lives in
//! `system.rs`. This crate only wires the library crates together: it is the one place that
//! names a concrete backend, accelerator or board.

mod run;
mod system;

use std::process::ExitCode;

const USAGE: &str = "\
remu: a machine emulator and virtualizer

usage:
  remu run [OPTIONS] PROGRAM [ARGS...]   run a Linux program of another architecture (user mode)
  remu system [OPTIONS]                  boot a whole machine (system mode, QEMU option spelling)
  remu --help | --version

`remu run --help` and `remu system --help` list the options of each mode.
";

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let Some(cmd) = args.get(1).map(|a| a.to_string_lossy().into_owned()) else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    match cmd.as_str() {
        "run" => run::main(&args[2..]),
        "system" => system::main(&args[2..]),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        "-V" | "--version" => {
            println!("remu {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("remu: unknown command '{other}' (expected 'run' or 'system'; see remu --help)");
            ExitCode::from(2)
        }
    }
}
