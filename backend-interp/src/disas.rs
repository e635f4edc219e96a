//! Bytecode listing for `-d out_asm` under the interpreter.

use std::fmt::Write;

use crate::InterpCode;

/// One line per bytecode instruction: `op d, a, b, imm`.
pub fn disas(code: &InterpCode) -> String {
    let mut s = String::new();
    for (n, i) in code.insns.iter().enumerate() {
        let _ = writeln!(s, "  {n:4}: {:<12} d={} a={} b={} imm={:#x}", format!("{:?}", i.op), i.d, i.a, i.b, i.imm);
    }
    s
}
