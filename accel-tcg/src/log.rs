//! `-d` logging (QEMU's `qemu_log_mask`): which items are on, and where they go (`-D FILE` or
//! stderr). Guest code is disassembled with capstone where it knows the ISA, falling back to
//! the frontend's own disassembler.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// The `-d` items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFlags {
    /// Guest code of each translated block.
    pub in_asm: bool,
    /// IR of each block before optimization.
    pub op: bool,
    /// IR of each block after optimization.
    pub op_opt: bool,
    /// Host code of each compiled block.
    pub out_asm: bool,
    /// Each block as it runs.
    pub exec: bool,
    /// Unimplemented features the guest used (unknown syscalls, ...).
    pub unimp: bool,
    /// Guest errors (bad syscall arguments, ...).
    pub guest_errors: bool,
}

impl LogFlags {
    /// Parses a `-d` list such as `in_asm,op,exec`. Unknown items are an error naming them.
    pub fn parse(list: &str) -> Result<LogFlags, String> {
        let mut f = LogFlags::default();
        for item in list.split(',').filter(|s| !s.is_empty()) {
            match item {
                "in_asm" => f.in_asm = true,
                "op" => f.op = true,
                "op_opt" => f.op_opt = true,
                "out_asm" => f.out_asm = true,
                "exec" => f.exec = true,
                "unimp" => f.unimp = true,
                "guest_errors" => f.guest_errors = true,
                "help" => return Err("log items: in_asm, op, op_opt, out_asm, exec, unimp, guest_errors".into()),
                other => {
                    return Err(format!(
                        "unknown -d item '{other}' (known: in_asm, op, op_opt, out_asm, exec, unimp, guest_errors)"
                    ))
                }
            }
        }
        Ok(f)
    }

    /// Whether any translation-time item is on.
    pub fn any_translation(&self) -> bool {
        self.in_asm || self.op || self.op_opt || self.out_asm
    }
}

/// Where log lines go; cheap to clone, shared by every thread.
#[derive(Clone)]
pub struct Logger {
    /// What is logged.
    pub flags: LogFlags,
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Logger {
    /// Logs to stderr.
    pub fn stderr(flags: LogFlags) -> Self {
        Logger { flags, sink: Arc::new(Mutex::new(Box::new(std::io::stderr()))) }
    }

    /// Logs to `path` (created or truncated).
    pub fn file(flags: LogFlags, path: &std::path::Path) -> std::io::Result<Self> {
        let f = std::fs::File::create(path)?;
        Ok(Logger { flags, sink: Arc::new(Mutex::new(Box::new(std::io::LineWriter::new(f)))) })
    }

    /// Logs to `path`, appending (created if missing): user mode's processes started by a
    /// guest execve share their parent's log file.
    pub fn append(flags: LogFlags, path: &std::path::Path) -> std::io::Result<Self> {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Logger { flags, sink: Arc::new(Mutex::new(Box::new(std::io::LineWriter::new(f)))) })
    }

    /// Writes text (a whole record; one lock per call keeps records from interleaving).
    pub fn write(&self, text: &str) {
        if let Ok(mut s) = self.sink.lock() {
            let _ = s.write_all(text.as_bytes());
            let _ = s.flush();
        }
    }
}

/// Disassembles guest code with capstone (RISC-V 64 with compressed instructions, s390x).
/// Returns one line per instruction, `0x<addr>:  <bytes>  <mnemonic> <operands>`, or None when
/// capstone cannot handle the code.
pub fn capstone_disas(arch: frontend::Arch, pc: u64, code: &[u8]) -> Option<Vec<(u64, usize, String)>> {
    use capstone::arch::BuildsCapstone;
    use capstone::arch::BuildsCapstoneExtraMode;
    let cs = match arch {
        frontend::Arch::Riscv64 => capstone::Capstone::new()
            .riscv()
            .mode(capstone::arch::riscv::ArchMode::RiscV64)
            .extra_mode([capstone::arch::riscv::ArchExtraMode::RiscVC].into_iter())
            .build()
            .ok()?,
        frontend::Arch::S390x => {
            capstone::Capstone::new().sysz().mode(capstone::arch::sysz::ArchMode::Default).build().ok()?
        }
    };
    let insns = cs.disasm_all(code, pc).ok()?;
    Some(
        insns
            .iter()
            .map(|i| {
                let text =
                    format!("{} {}", i.mnemonic().unwrap_or("?"), i.op_str().unwrap_or("")).trim_end().to_string();
                (i.address(), i.bytes().len(), text)
            })
            .collect(),
    )
}
