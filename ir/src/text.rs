//! IR text: the printer behind `-d op` / `-d op_opt` and the parser behind the golden tests.
//!
//! One instruction per line: `[vN = ]op[.ty] [aux, ][imm, ]args...`, comma-separated, e.g.
//! ```text
//! block pc=0x10078 flags=0x0 size=8
//!   insn_start 0x10078, 0
//!   v1 = get.i64 x11
//!   v2 = iconst.i64 0x10
//!   v3 = add.i64 v1, v2
//!   v4 = ld.i64 s32le, v3
//!   set.i64 x10, v4
//!   exit_if.i64 chain 0, 0x10100, v4
//!   goto_tb 1, 0x10080
//! ```
//! Values are numbered by the index of their defining instruction. Aux payloads: a global's
//! name, a condition (`eq`, `ltu`, ...), a MemOp (`u32le`, `s16be:a`), an atomic op and MemOp
//! (`add, u64le:a`), a helper name, a side exit (`chain SLOT, PC` or `raise CAUSE`), a slot, or
//! `insn_start`'s extra word. `;` starts a comment.

use std::collections::HashMap;
use std::fmt::Write;

use crate::block::{Aux, Block, Decls, ExitKind, Inst, Value};
use crate::op::{AuxKind, ImmKind, Opcode};
use crate::types::{AtomicOp, Cond, MemOp, Ty};

/// Prints `block` using the names in `decls`.
pub fn print(block: &Block, decls: &Decls) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "block pc={:#x} flags={:#x} size={}", block.pc, block.flags, block.guest_size);
    for (i, inst) in block.insts.iter().enumerate() {
        s.push_str("  ");
        s.push_str(&print_inst(i, inst, decls));
        s.push('\n');
    }
    s
}

/// Prints one instruction (index `i`) without indentation or newline.
pub fn print_inst(i: usize, inst: &Inst, decls: &Decls) -> String {
    let info = inst.op.info();
    let mut s = String::new();
    if info.has_result {
        let _ = write!(s, "v{i} = ");
    }
    s.push_str(info.name);
    if info.has_result || matches!(inst.op, Opcode::Set | Opcode::St) {
        let _ = write!(s, ".{}", inst.ty);
    }
    let mut parts: Vec<String> = Vec::new();
    match inst.aux {
        Aux::None => {}
        Aux::Global(g) => parts.push(decls.globals.get(g.0 as usize).map_or(format!("g{}", g.0), |d| d.name.clone())),
        Aux::Cond(c) => parts.push(c.name().into()),
        Aux::Mem(m) => parts.push(m.to_string()),
        Aux::Atomic(op, m) => {
            parts.push(op.name().into());
            parts.push(m.to_string());
        }
        Aux::Helper(h, _) => {
            parts.push(decls.helpers.get(h.0 as usize).map_or(format!("h{}", h.0), |d| d.name.to_string()))
        }
        Aux::Exit(ExitKind::Chain { slot }) => parts.push(format!("chain {slot}")),
        Aux::Exit(ExitKind::Raise { cause }) => parts.push(format!("raise {cause:#x}")),
        Aux::Slot(slot) => parts.push(slot.to_string()),
        Aux::Extra(_) => {}
    }
    match info.imm {
        ImmKind::None => {}
        ImmKind::Restart => {
            if inst.imm != 0 {
                parts.push(format!("restart={:#x}", inst.imm))
            }
        }
        ImmKind::Bits => parts.push(inst.imm.to_string()),
        ImmKind::Value | ImmKind::Cause => parts.push(format!("{:#x}", inst.imm)),
        ImmKind::Pc => {
            if !matches!(inst.aux, Aux::Exit(ExitKind::Raise { .. })) {
                parts.push(format!("{:#x}", inst.imm))
            }
        }
    }
    if let Aux::Extra(e) = inst.aux {
        parts.push(e.to_string());
    }
    for a in inst.args() {
        parts.push(format!("v{}", a.0));
    }
    if !parts.is_empty() {
        s.push(' ');
        s.push_str(&parts.join(", "));
    }
    s
}

/// A parse error with its line number (1-based).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {msg}")]
pub struct ParseError {
    /// Line number.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(&h.replace('_', ""), 16)
    } else {
        s.replace('_', "").parse::<u64>()
    }
    .map_err(|_| format!("bad number '{s}'"))?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// Parses IR text into a block, resolving names through `decls`. A missing `block` header
/// gives pc 0 and flags 0. Value names may be any `vN`; they are renumbered.
pub fn parse(text: &str, decls: &Decls) -> Result<Block, ParseError> {
    let mut block = Block::new(0, 0);
    let mut names: HashMap<String, Value> = HashMap::new();
    for (ln, raw) in text.lines().enumerate() {
        let line = ln + 1;
        let l = raw.split(';').next().unwrap_or("").trim();
        if l.is_empty() || l.starts_with("check:") {
            continue;
        }
        let err = |msg: String| ParseError { line, msg };
        if let Some(rest) = l.strip_prefix("block") {
            for kv in rest.split_whitespace() {
                let (k, v) = kv.split_once('=').ok_or_else(|| err(format!("bad header item '{kv}'")))?;
                let v = parse_u64(v).map_err(err)?;
                match k {
                    "pc" => block.pc = v,
                    "flags" => block.flags = v,
                    "size" => block.guest_size = v as u32,
                    _ => return Err(err(format!("unknown header item '{k}'"))),
                }
            }
            continue;
        }
        if l == "end" || l == "}" {
            continue;
        }
        let (def, body) = match l.split_once(" = ") {
            Some((d, b)) => (Some(d.trim().to_string()), b.trim()),
            None => (None, l),
        };
        let (head, rest) = match body.split_once(char::is_whitespace) {
            Some((h, r)) => (h, r.trim()),
            None => (body, ""),
        };
        let (opname, ty) = match head.split_once('.') {
            Some((o, t)) => (
                o,
                Some(match t {
                    "i32" => Ty::I32,
                    "i64" => Ty::I64,
                    _ => return Err(err(format!("unknown type '{t}'"))),
                }),
            ),
            None => (head, None),
        };
        let op = Opcode::from_name(opname).ok_or_else(|| err(format!("unknown op '{opname}'")))?;
        let info = op.info();
        let mut parts: std::collections::VecDeque<&str> =
            if rest.is_empty() { Default::default() } else { rest.split(',').map(str::trim).collect() };
        let mut next = |what: &str| parts.pop_front().ok_or_else(|| err(format!("missing {what}")));
        let mut imm = 0u64;
        let aux = match info.aux {
            AuxKind::None => Aux::None,
            AuxKind::Global => {
                let n = next("global")?;
                Aux::Global(decls.global(n).ok_or_else(|| err(format!("unknown global '{n}'")))?)
            }
            AuxKind::Cond => {
                let n = next("condition")?;
                Aux::Cond(
                    *Cond::ALL.iter().find(|c| c.name() == n).ok_or_else(|| err(format!("unknown condition '{n}'")))?,
                )
            }
            AuxKind::Mem => Aux::Mem(next("memop")?.parse::<MemOp>().map_err(err)?),
            AuxKind::Atomic => {
                let n = next("atomic op")?;
                let aop = *AtomicOp::ALL
                    .iter()
                    .find(|c| c.name() == n)
                    .ok_or_else(|| err(format!("unknown atomic op '{n}'")))?;
                Aux::Atomic(aop, next("memop")?.parse::<MemOp>().map_err(err)?)
            }
            AuxKind::Helper => {
                let n = next("helper")?;
                let h = decls.helper(n).ok_or_else(|| err(format!("unknown helper '{n}'")))?;
                Aux::Helper(h, decls.helpers[h.0 as usize].flags)
            }
            AuxKind::Exit => {
                let e = next("exit")?;
                if let Some(s) = e.strip_prefix("chain") {
                    let slot = parse_u64(s).map_err(err)? as u8;
                    imm = parse_u64(next("pc")?).map_err(err)?;
                    Aux::Exit(ExitKind::Chain { slot })
                } else if let Some(c) = e.strip_prefix("raise") {
                    Aux::Exit(ExitKind::Raise { cause: parse_u64(c).map_err(err)? as u32 })
                } else {
                    return Err(err(format!("bad exit '{e}' (chain SLOT, PC or raise CAUSE)")));
                }
            }
            AuxKind::Slot => Aux::Slot(parse_u64(next("slot")?).map_err(err)? as u8),
            AuxKind::Extra => Aux::None, // filled after the imm
        };
        if !matches!(info.imm, ImmKind::None | ImmKind::Restart) && !matches!(aux, Aux::Exit(_)) {
            imm = parse_u64(next("immediate")?).map_err(err)?;
        }
        let aux =
            if info.aux == AuxKind::Extra { Aux::Extra(parse_u64(next("extra")?).map_err(err)? as u32) } else { aux };
        if info.imm == ImmKind::Restart {
            if let Some(r) = parts.front().and_then(|p| p.strip_prefix("restart=")) {
                imm = parse_u64(r).map_err(err)?;
                parts.pop_front();
            }
        }
        let mut args = [Value::NONE; 4];
        let mut nargs = 0;
        for p in parts {
            if nargs == 4 {
                return Err(err("more than 4 arguments".into()));
            }
            args[nargs] = *names.get(p).ok_or_else(|| err(format!("undefined value '{p}'")))?;
            nargs += 1;
        }
        let ty = match ty {
            Some(t) => t,
            None if nargs > 0 && matches!(op, Opcode::Set) => block.ty(args[0]),
            None if nargs > 1 && matches!(op, Opcode::St) => block.ty(args[1]),
            None if nargs > 0 && matches!(op, Opcode::ExitIf) => block.ty(args[0]),
            None if op == Opcode::Get => match aux {
                Aux::Global(g) => decls.globals[g.0 as usize].ty,
                _ => Ty::I64,
            },
            None if info.has_result && op != Opcode::Call => {
                return Err(err(format!("'{opname}' needs a type suffix")))
            }
            None => Ty::I64,
        };
        let v = Value(block.insts.len() as u32);
        block.insts.push(Inst {
            op,
            ty,
            nargs: nargs as u8,
            args,
            imm: if info.imm == ImmKind::Value { imm & ty.mask() } else { imm },
            aux,
        });
        match (def, info.has_result) {
            (Some(d), true) => {
                names.insert(d, v);
            }
            (Some(d), false) => return Err(err(format!("'{opname}' has no result to name {d}"))),
            (None, true) => return Err(err(format!("'{opname}' defines a value: write 'vN = {opname} ...'"))),
            (None, false) => {}
        }
    }
    Ok(block)
}
