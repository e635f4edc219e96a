//! IR block to bytecode (the interpreter's "code generator").
//!
//! Passes, in order:
//! 0. 32-bit values: the interpreter's 32-bit arithmetic reads only the low halves of its
//!    operand slots and writes its result sign-extended. So `trunc` whose every user reads
//!    only low halves costs nothing (it names its operand's slot), and `extend_s` of a 32-bit
//!    arithmetic result costs nothing (the slot already holds it): a RISC-V `addw` is one
//!    bytecode. A user that needs an `i32` value exactly (zero-extended: `set` of a 32-bit
//!    global, helper arguments, `select`, atomics) gets a `Low32` into a temporary first;
//! 1. operand forms: a constant second operand of a binary op becomes an immediate (swapping
//!    commutative operands when the first one is constant); a load/store address `x + c`
//!    folds `c` into the access; a `setcond` feeding the next instruction's chaining
//!    `exit_if` fuses into one compare-and-branch;
//! 2. `set` retargeting: `v = op ...; set g, v` makes `op` write g's own slot when nothing in
//!    between reads or writes g (so an exception in between still sees the old value) and, if
//!    `v` has later users, g is not written again before the last of them (they read g's
//!    slot); `v = get h; set g, v` becomes one copy the same way;
//! 3. `get` aliasing: `v = get g` reads g's slot directly at every use when g is not written
//!    between the get and the last use; otherwise it is copied to a temporary;
//! 4. temporaries get scratch slots by linear scan with reuse after the last use.
//!
//! The result: a RISC-V `add a0, a0, a1` is one `Add64` bytecode reading and writing the
//! guest registers' slots, and `ld a0, 8(sp)` one `Ld64Le`.

use ir::backend::{CompileCtx, CompileError};
use ir::op::OpFlags;
use ir::{Aux, Block, Cond, ExitKind, Opcode, Size, Ty, Value};

use crate::bytecode::{bin_op, pack_mem, pack_raise, un_op, AtomicSite, Bytecode, CallSite, Insn, Op, REPLAY_FROM};
use crate::InterpCode;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Form {
    /// Emitted normally.
    Normal,
    /// Not emitted: dead after fusion, or folded into a user.
    Skip,
    /// Binary op with immediate second operand (operands possibly swapped).
    BinImm { swapped: bool },
    /// Memory access with folded address `base + off`.
    Mem { base: Value, off: i32 },
    /// exit_if fused with the preceding setcond (cond, x, y).
    BrCond { cond: Cond, x: Value, y: Value, ty: Ty },
}

fn konst(block: &Block, v: Value) -> Option<u64> {
    let d = block.def(v);
    (d.op == Opcode::Const).then_some(d.imm)
}

/// Up to four operands, without allocating.
#[derive(Clone, Copy)]
struct Operands {
    v: [Value; 4],
    n: u8,
}

impl Default for Operands {
    fn default() -> Self {
        Operands { v: [Value::NONE; 4], n: 0 }
    }
}

impl Operands {
    fn push(&mut self, x: Value) {
        self.v[self.n as usize & 3] = x;
        self.n += 1;
    }
    fn iter(&self) -> std::slice::Iter<'_, Value> {
        self.v[..self.n as usize].iter()
    }
}

impl IntoIterator for Operands {
    type Item = Value;
    type IntoIter = std::iter::Take<std::array::IntoIter<Value, 4>>;
    fn into_iter(self) -> Self::IntoIter {
        self.v.into_iter().take(self.n as usize)
    }
}

/// How a value's slot holds it (only 32-bit values are ever other than exact).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Repr {
    /// The value itself (an `i32` zero-extended).
    Exact,
    /// An `i32` sign-extended to 64 bits (32-bit arithmetic results).
    Sext,
    /// An `i32` in the low half, anything in the high half (a `trunc` sharing its operand's slot).
    Dirty,
}

/// Whether `inst` is interpreter arithmetic (a binary or unary op with a bytecode of its own).
fn is_arith(inst: &ir::Inst) -> bool {
    bin_op(inst.op, inst.ty, false).is_some() || un_op(inst.op, inst.ty).is_some()
}

/// Whether operand `k` of `user` is read only through its low 32 bits when it is an `i32`
/// (the interpreter's 32-bit ops, compares and extensions, narrow stores, FP on binary32).
fn reads_low_half(user: &ir::Inst, k: u8) -> bool {
    let ty32 = user.ty == Ty::I32;
    match user.op {
        _ if is_arith(user) => ty32,
        Opcode::Setcond | Opcode::Sext | Opcode::Zext => ty32,
        Opcode::Fadd | Opcode::Fsub | Opcode::Fmul | Opcode::Fdiv | Opcode::Fsqrt | Opcode::Fma => ty32,
        Opcode::ExtendS | Opcode::ExtendU => true,
        Opcode::St => k == 1 && matches!(user.aux, Aux::Mem(m) if matches!(m.size, Size::S8 | Size::S16 | Size::S32)),
        _ => false,
    }
}

/// The compiler's working vectors, kept from one block to the next (a block's translation
/// is a few microseconds, so a dozen allocations would be a good part of it).
#[derive(Default)]
struct Scratch {
    insn_idx: Vec<u32>,
    low_half_users: Vec<bool>,
    rep: Vec<u32>,
    repr: Vec<Repr>,
    form: Vec<Form>,
    uses: Vec<u32>,
    last_use: Vec<usize>,
    dest_global: Vec<Option<u16>>,
    occupied: Vec<(u16, usize, usize)>,
    alias: Vec<Option<u16>>,
    free: Vec<u16>,
    loc: Vec<u16>,
    code: Vec<Insn>,
    calls: Vec<CallSite>,
    atomics: Vec<AtomicSite>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// `v` emptied and refilled with `n` copies of `x`.
fn reset<T: Clone>(v: &mut Vec<T>, n: usize, x: T) -> &mut Vec<T> {
    v.clear();
    v.resize(n, x);
    v
}

/// Compiles a verified block for the interpreter.
pub fn compile(block: &Block, cx: &CompileCtx<'_>) -> Result<InterpCode, CompileError> {
    with_bytecode(block, cx, |b| InterpCode {
        insns: b.insns.into(),
        calls: b.calls.into(),
        atomics: b.atomics.into(),
        pc_slot: b.pc_slot,
        insn_pcs: block.insn_pcs().collect(),
        pc: block.pc,
        flags: block.flags,
        links: Default::default(),
        keep: Default::default(),
    })
}

/// Compiles a verified block to bytecode and hands it to `f` (the bytecode lives in the
/// compiler's reused buffers: `f` copies what it keeps).
fn with_bytecode<R>(block: &Block, cx: &CompileCtx<'_>, f: impl FnOnce(Bytecode<'_>) -> R) -> Result<R, CompileError> {
    SCRATCH.with(|sc| match sc.try_borrow_mut() {
        Ok(mut sc) => compile_with(block, cx, &mut sc).map(f),
        // (not reentrant: nothing compiled calls back into the compiler)
        Err(_) => compile_with(block, cx, &mut Scratch::default()).map(f),
    })
}

fn compile_with<'s>(block: &Block, cx: &CompileCtx<'_>, sc: &'s mut Scratch) -> Result<Bytecode<'s>, CompileError> {
    let insts = &block.insts;
    let n = insts.len();
    let decls = cx.decls;
    let gslot = |g: ir::GlobalId| (decls.globals[g.0 as usize].offset / 8) as u16;
    let pc_slot = decls.pc_offset().map(|o| (o / 8) as u16).unwrap_or(0);

    // guest instruction index of every IR instruction
    let insn_idx = reset(&mut sc.insn_idx, n, 0u32);
    let mut cur: i64 = -1;
    for (i, inst) in insts.iter().enumerate() {
        if inst.op == Opcode::InsnStart {
            cur += 1;
        }
        insn_idx[i] = cur.max(0) as u32;
    }

    // ---- pass 0: 32-bit values (see the module doc). rep[v] is the value whose slot v reads.
    // whether every user of a value reads only its low half
    let low_half_users = reset(&mut sc.low_half_users, n, true);
    for inst in insts.iter() {
        for (k, a) in inst.args().iter().enumerate() {
            if !reads_low_half(inst, k as u8) {
                low_half_users[a.index()] = false;
            }
        }
    }
    let rep = &mut sc.rep;
    rep.clear();
    rep.extend(0..n as u32);
    let repr = reset(&mut sc.repr, n, Repr::Exact);
    for i in 0..n {
        let inst = &insts[i];
        if inst.ty == Ty::I32 && is_arith(inst) {
            repr[i] = Repr::Sext;
        } else if inst.op == Opcode::Trunc {
            if low_half_users[i] {
                rep[i] = rep[inst.args[0].index()];
                repr[i] = Repr::Dirty;
            }
        } else if inst.op == Opcode::ExtendS && repr[inst.args[0].index()] == Repr::Sext {
            rep[i] = rep[inst.args[0].index()];
        }
    }
    let rep_of = |v: Value| Value(rep[v.index()]);

    // ---- pass 1: operand forms
    let form = reset(&mut sc.form, n, Form::Normal);
    for i in 0..n {
        let inst = &insts[i];
        match inst.op {
            op if bin_op(op, inst.ty, false).is_some() => {
                let (a, b) = (inst.args[0], inst.args[1]);
                if konst(block, b).is_some() {
                    form[i] = Form::BinImm { swapped: false };
                } else if konst(block, a).is_some() && op.is_commutative() {
                    form[i] = Form::BinImm { swapped: true };
                }
            }
            Opcode::Ld | Opcode::St => {
                let addr = inst.args[0];
                form[i] = match block.base_plus_const(addr) {
                    Some((base, c)) if konst(block, base).is_none() && i32::try_from(c as i64).is_ok() => {
                        Form::Mem { base, off: c as i64 as i32 }
                    }
                    _ => Form::Mem { base: addr, off: 0 },
                };
            }
            Opcode::ExitIf if i > 0 => {
                let v = inst.args[0];
                let d = &insts[i - 1];
                if v.index() == i - 1
                    && d.op == Opcode::Setcond
                    && matches!(inst.aux, Aux::Exit(ExitKind::Chain { .. }))
                {
                    let Aux::Cond(cond) = d.aux else { unreachable!("verified: setcond has a condition") };
                    form[i] = Form::BrCond { cond, x: d.args[0], y: d.args[1], ty: d.ty };
                }
            }
            _ => {}
        }
    }
    // The operands each instruction reads from slots, as the values that own those slots.
    let slot_uses = |i: usize, form: &[Form]| -> Operands {
        let inst = &insts[i];
        let mut o = Operands::default();
        match form[i] {
            Form::Skip => {}
            Form::BinImm { swapped } => o.push(if swapped { inst.args[1] } else { inst.args[0] }),
            Form::Mem { base, .. } => {
                o.push(base);
                if inst.op == Opcode::St {
                    o.push(inst.args[1]);
                }
            }
            Form::BrCond { x, y, .. } => {
                o.push(x);
                o.push(y);
            }
            Form::Normal => match inst.op {
                Opcode::Set if konst(block, inst.args[0]).is_some() => {}
                _ => inst.args().iter().for_each(|&a| o.push(a)),
            },
        }
        for x in o.v[..o.n as usize].iter_mut() {
            *x = rep_of(*x);
        }
        o
    };
    // Use counts and the position of each value's last slot use (0: none; no value is used by
    // the first instruction), iterating backward so that chains of dead pure values (their
    // uses fused away) disappear. Immediates consumed by BinImm / Mem need no slot.
    let uses = reset(&mut sc.uses, n, 0u32);
    let last_use = reset(&mut sc.last_use, n, 0usize);
    for i in (0..n).rev() {
        let inst = &insts[i];
        let pure_like = inst.flags().has(OpFlags::PURE) || inst.op == Opcode::Get;
        if pure_like && uses[i] == 0 {
            // (so also the setcond of a fused branch that was its only user)
            form[i] = Form::Skip;
            continue;
        }
        for v in slot_uses(i, form) {
            uses[v.index()] += 1;
            if last_use[v.index()] == 0 {
                last_use[v.index()] = i;
            }
        }
    }
    // a setcond fused into a branch but used elsewhere too: the branch tests its value
    // instead, and its operands' last use may be the setcond just before
    for i in 1..n {
        if let Form::BrCond { .. } = form[i] {
            if form[i - 1] != Form::Skip {
                let fused = slot_uses(i, form);
                form[i] = Form::Normal;
                for v in slot_uses(i, form) {
                    uses[v.index()] += 1;
                    last_use[v.index()] = last_use[v.index()].max(i);
                }
                for v in fused {
                    if last_use[v.index()] == i {
                        last_use[v.index()] = i - 1;
                    }
                }
            }
        }
    }

    let reads_all = |i: usize| {
        let f = insts[i].flags();
        f.has(OpFlags::READS_GLOBAL) && insts[i].op != Opcode::Get
            || f.has(OpFlags::CAN_FAULT)
            || f.has(OpFlags::SIDE_EXIT)
            || f.has(OpFlags::TERMINATOR)
    };
    let writes_all = |i: usize| insts[i].op == Opcode::Call && insts[i].flags().has(OpFlags::WRITES_GLOBAL);

    // ---- pass 2: set retargeting. dest_global[j] = slot when instruction j writes a global.
    let dest_global = reset(&mut sc.dest_global, n, None);
    // (slot, from, to): value `from` lives in the global's slot until its last use `to`
    let occupied = &mut sc.occupied;
    occupied.clear();
    let writes_global = |p: usize, g: ir::GlobalId, form: &[Form], dest_global: &[Option<u16>]| {
        form[p] != Form::Skip
            && (dest_global[p] == Some(gslot(g))
                || (insts[p].op == Opcode::Set && matches!(insts[p].aux, Aux::Global(h) if h == g))
                || writes_all(p))
    };
    for s in 0..n {
        let inst = &insts[s];
        if inst.op != Opcode::Set || form[s] == Form::Skip {
            continue;
        }
        let Aux::Global(g) = inst.aux else { unreachable!("verified: set has a global") };
        let slot = gslot(g);
        let v = inst.args[0];
        let j = rep[v.index()] as usize;
        let d = &insts[j];
        if d.op == Opcode::Const
            || repr[v.index()] != Repr::Exact
            || form[j] == Form::Skip
            || uses[j] == 0
            || dest_global[j].is_some()
            || j >= s
        {
            continue;
        }
        if d.op == Opcode::Get {
            // a get that pass 3 can alias costs nothing already
            let Aux::Global(h) = d.aux else { unreachable!("verified: get has a global") };
            if h == g || !(j + 1..last_use[j]).any(|p| writes_global(p, h, form, dest_global)) {
                continue;
            }
        }
        let clean = (j + 1..s).all(|p| {
            let ip = &insts[p];
            if form[p] == Form::Skip {
                return true;
            }
            let touches_g = matches!(ip.aux, Aux::Global(h) if h == g);
            let uses_get_g =
                slot_uses(p, form).iter().any(|u| matches!(insts[u.index()].aux, Aux::Global(h) if h == g));
            !(touches_g || uses_get_g || reads_all(p) || writes_all(p) || dest_global[p] == Some(slot))
        });
        // later users read g's slot: g must keep the value until the last of them
        let end = last_use[j].max(s);
        let kept = !(s + 1..end).any(|p| writes_global(p, g, form, dest_global));
        // and no value retargeted earlier may still live in g's slot when j writes it
        let free = !occupied.iter().any(|&(o, from, to)| o == slot && from < j && j < to);
        if clean && kept && free {
            dest_global[j] = Some(slot);
            form[s] = Form::Skip;
            uses[j] -= 1;
            occupied.push((slot, j, end));
        }
    }

    // ---- pass 3: get aliasing
    let alias = reset(&mut sc.alias, n, None);
    for d in 0..n {
        let inst = &insts[d];
        if inst.op != Opcode::Get || form[d] == Form::Skip || dest_global[d].is_some() {
            continue;
        }
        let Aux::Global(g) = inst.aux else { unreachable!("verified: get has a global") };
        let slot = gslot(g);
        let u = last_use[d];
        let written = (d + 1..u).any(|p| {
            form[p] != Form::Skip
                && (dest_global[p] == Some(slot)
                    || (insts[p].op == Opcode::Set && matches!(insts[p].aux, Aux::Global(h) if h == g))
                    || writes_all(p))
        });
        if !written {
            alias[d] = Some(slot);
        }
    }

    // ---- pass 4: slots and emission
    let mut temps = Temps::new(cx, &mut sc.free)?;
    let loc = reset(&mut sc.loc, n, u16::MAX);
    let code = &mut sc.code;
    code.clear();
    let calls = &mut sc.calls;
    calls.clear();
    let atomics = &mut sc.atomics;
    atomics.clear();

    for i in 0..n {
        let inst = insts[i];
        if form[i] == Form::Skip {
            continue;
        }
        let ins = insn_idx[i];
        // operand slots, read before anything is freed or allocated
        let s = |v: Value, loc: &[u16]| loc[rep[v.index()] as usize];
        let mut arg: [u16; 4] = std::array::from_fn(|k| if k < inst.nargs as usize { s(inst.args[k], loc) } else { 0 });
        // 32-bit operands that must be exact but are held sign-extended or dirty
        let mut exact_temps: [u16; 4] = [u16::MAX; 4];
        if form[i] == Form::Normal {
            for k in 0..inst.nargs as usize {
                if repr[inst.args[k].index()] != Repr::Exact && !reads_low_half(&inst, k as u8) {
                    let t = temps.alloc()?;
                    code.push(Insn { op: Op::Low32, d: t, a: arg[k], b: 0, imm: 0 });
                    arg[k] = t;
                    exact_temps[k] = t;
                }
            }
        }
        let reads = slot_uses(i, form);
        for v in reads.iter() {
            if last_use[v.index()] == i {
                temps.release(loc[v.index()]);
            }
        }
        let needs_dest = inst.has_result();
        let d = match dest_global[i] {
            Some(g) => g,
            None if needs_dest => temps.alloc()?,
            None => u16::MAX,
        };
        if inst.has_result() {
            loc[i] = d;
        }
        let mut emit = |op: Op, d: u16, a: u16, b: u16, imm: u64| code.push(Insn { op, d, a, b, imm });
        match inst.op {
            Opcode::Nop | Opcode::InsnStart => {}
            Opcode::Const => {
                if d != u16::MAX {
                    emit(Op::MovI, d, 0, 0, inst.imm);
                }
            }
            Opcode::Get => {
                let Aux::Global(g) = inst.aux else { unreachable!("verified: get has a global") };
                if let Some(slot) = alias[i] {
                    temps.release(d);
                    loc[i] = slot;
                } else {
                    emit(Op::Mov, d, gslot(g), 0, 0);
                }
            }
            Opcode::Set => {
                let Aux::Global(g) = inst.aux else { unreachable!("verified: set has a global") };
                if let Some(c) = konst(block, inst.args[0]) {
                    emit(Op::MovI, gslot(g), 0, 0, c);
                } else if arg[0] != gslot(g) {
                    emit(Op::Mov, gslot(g), arg[0], 0, 0);
                }
            }
            op if bin_op(op, inst.ty, false).is_some() => match form[i] {
                Form::BinImm { swapped } => {
                    let (x, c) = if swapped { (arg[1], inst.args[0]) } else { (arg[0], inst.args[1]) };
                    let imm = konst(block, c).unwrap_or(0);
                    emit(bin_op(op, inst.ty, true).unwrap_or(Op::Mov), d, x, 0, imm);
                }
                _ => emit(bin_op(op, inst.ty, false).unwrap_or(Op::Mov), d, arg[0], arg[1], 0),
            },
            op if un_op(op, inst.ty).is_some() => emit(un_op(op, inst.ty).unwrap_or(Op::Mov), d, arg[0], 0, 0),
            Opcode::Sext | Opcode::Zext | Opcode::ExtendS | Opcode::ExtendU | Opcode::Trunc => {
                let (op, imm) = match inst.op {
                    Opcode::Sext if inst.ty == Ty::I64 => (Op::Sext64, inst.imm),
                    Opcode::Sext => (Op::Sext32, inst.imm),
                    Opcode::Zext => (Op::Zext, inst.imm),
                    Opcode::ExtendS => (Op::ExtendS, 0),
                    _ => (Op::Low32, 0),
                };
                emit(op, d, arg[0], 0, imm);
            }
            Opcode::Setcond => {
                let Aux::Cond(c) = inst.aux else { unreachable!("verified: setcond has a condition") };
                let op = if inst.ty == Ty::I64 { Op::Setcond64 } else { Op::Setcond32 };
                emit(op, d, arg[0], arg[1], c as u64);
            }
            Opcode::Select => emit(Op::Select, d, arg[0], arg[1], arg[2] as u64),
            Opcode::Ld => {
                let Aux::Mem(m) = inst.aux else { unreachable!("verified: ld has a memop") };
                let Form::Mem { base, off } = form[i] else { unreachable!("pass 1 gives ld a Mem form") };
                let le = m.endian == ir::Endian::Little && m.align == ir::Align::Unaligned;
                let byte = m.size == Size::S8 && m.align == ir::Align::Unaligned;
                let op = match (m.size, m.signed, inst.ty) {
                    (Size::S8, false, _) if byte => Op::LdU8,
                    (Size::S8, true, Ty::I64) if byte => Op::LdS8,
                    (Size::S16, false, _) if le => Op::LdU16Le,
                    (Size::S16, true, Ty::I64) if le => Op::LdS16Le,
                    (Size::S32, false, _) if le => Op::LdU32Le,
                    (Size::S32, true, Ty::I64) if le => Op::LdS32Le,
                    (Size::S64, _, Ty::I64) if le => Op::Ld64Le,
                    _ => Op::Ld,
                };
                let b = m.to_bits() as u16 | if inst.ty == Ty::I32 { 0x100 } else { 0 };
                // a fault replays from the restart instruction: the last one at or before
                // this one with that pc
                let fault_ins = match inst.imm {
                    0 => ins,
                    r => (0..=i)
                        .rev()
                        .find(|&k| insts[k].op == Opcode::InsnStart && insts[k].imm == r)
                        .map_or(ins, |k| insn_idx[k] | REPLAY_FROM),
                };
                emit(op, d, s(base, loc), b, pack_mem(off, fault_ins));
            }
            Opcode::St => {
                let Aux::Mem(m) = inst.aux else { unreachable!("verified: st has a memop") };
                let Form::Mem { base, off } = form[i] else { unreachable!("pass 1 gives st a Mem form") };
                let le = m.endian == ir::Endian::Little && m.align == ir::Align::Unaligned;
                let op = match m.size {
                    Size::S8 if m.align == ir::Align::Unaligned => Op::St8,
                    Size::S16 if le => Op::St16Le,
                    Size::S32 if le => Op::St32Le,
                    Size::S64 if le => Op::St64Le,
                    _ => Op::St,
                };
                emit(op, m.to_bits() as u16, s(base, loc), arg[1], pack_mem(off, ins));
            }
            Opcode::AtomicRmw | Opcode::Cmpxchg => {
                let (mop, aop) = match inst.aux {
                    Aux::Atomic(o, m) => (m, o),
                    Aux::Mem(m) => (m, ir::AtomicOp::Xchg),
                    _ => unreachable!("verified: atomics have a memop"),
                };
                let (val, expected) = if inst.op == Opcode::AtomicRmw { (arg[1], 0) } else { (arg[2], arg[1]) };
                atomics.push(AtomicSite { addr: arg[0], val, expected, mop, op: aop, ty: inst.ty, insn: ins });
                let op = if inst.op == Opcode::AtomicRmw { Op::AtomicRmw } else { Op::Cmpxchg };
                emit(op, d, 0, 0, atomics.len() as u64 - 1);
            }
            Opcode::Fence => emit(Op::Fence, 0, 0, 0, 0),
            Opcode::Fadd | Opcode::Fsub | Opcode::Fmul | Opcode::Fdiv | Opcode::Fsqrt | Opcode::Fma => {
                let b = if inst.nargs > 1 { arg[1] } else { arg[0] };
                let c = if inst.nargs > 2 { arg[2] } else { arg[0] };
                let imm = c as u64 | (inst.op as u64) << 16 | ((inst.ty == Ty::I64) as u64) << 24;
                emit(Op::Fp, d, arg[0], b, imm);
            }
            Opcode::Fpflags => emit(Op::Fpflags, d, 0, 0, 0),
            Opcode::Call => {
                let Aux::Helper(h, flags) = inst.aux else { unreachable!("verified: call has a helper") };
                calls.push(CallSite {
                    func: decls.helpers[h.0 as usize].func,
                    args: arg,
                    nargs: inst.nargs,
                    can_fault: flags.has(ir::HelperFlags::CAN_FAULT),
                    insn: ins,
                });
                emit(Op::Call, d, 0, 0, calls.len() as u64 - 1);
            }
            Opcode::ExitIf => match (form[i], inst.aux) {
                (Form::BrCond { cond, x, y, ty }, Aux::Exit(ExitKind::Chain { slot })) => {
                    let op = if ty == Ty::I64 { Op::BrCond64 } else { Op::BrCond32 };
                    emit(op, cond as u16 | (slot as u16) << 8, s(x, loc), s(y, loc), inst.imm);
                }
                (_, Aux::Exit(ExitKind::Chain { slot })) => emit(Op::ExitIfChain, 0, arg[0], slot as u16, inst.imm),
                (_, Aux::Exit(ExitKind::Raise { cause })) => {
                    emit(Op::ExitIfRaise, 0, arg[0], 0, pack_raise(cause, ins))
                }
                _ => unreachable!("verified: exit_if has an exit"),
            },
            Opcode::GotoTb => {
                let Aux::Slot(slot) = inst.aux else { unreachable!("verified: goto_tb has a slot") };
                emit(Op::GotoTb, 0, 0, slot as u16, inst.imm);
            }
            Opcode::GotoPtr => emit(Op::GotoPtr, 0, arg[0], 0, 0),
            Opcode::ExitTb => emit(Op::ExitTb, 0, arg[0], 0, 0),
            Opcode::Raise => emit(Op::Raise, 0, arg[0], 0, pack_raise(inst.imm as u32, ins)),
            other => {
                return Err(CompileError::Codegen(format!("interpreter has no lowering for {}", other.info().name)))
            }
        }
        // a result nobody reads still needed a slot to be written; give it back
        if inst.has_result() && uses[i] == 0 && dest_global[i].is_none() {
            temps.release(loc[i]);
        }
        for t in exact_temps {
            if t != u16::MAX {
                temps.release(t);
            }
        }
    }
    let (insns, calls, atomics): (&'s [Insn], &'s [CallSite], &'s [AtomicSite]) = (code, calls, atomics);
    Ok(Bytecode { insns, calls, atomics, pc_slot })
}

/// Scratch slots for temporaries: a free list over `[first, limit)`.
struct Temps<'a> {
    free: &'a mut Vec<u16>,
    next: usize,
    first: usize,
    limit: usize,
}

impl<'a> Temps<'a> {
    fn new(cx: &CompileCtx<'_>, free: &'a mut Vec<u16>) -> Result<Self, CompileError> {
        let first = (cx.env.scratch_offset / 8) as usize;
        let limit = ((cx.env.scratch_offset + cx.env.scratch_size) / 8) as usize;
        if limit > u16::MAX as usize {
            return Err(CompileError::Codegen("environment too large for 16-bit slots".into()));
        }
        free.clear();
        Ok(Temps { free, next: first, first, limit })
    }

    fn alloc(&mut self) -> Result<u16, CompileError> {
        if let Some(s) = self.free.pop() {
            return Ok(s);
        }
        if self.next >= self.limit {
            return Err(CompileError::ScratchTooSmall {
                need: (self.next + 1 - self.first) * 8,
                have: (self.limit - self.first) * 8,
            });
        }
        self.next += 1;
        Ok((self.next - 1) as u16)
    }

    /// Returns a slot to the free list if it is a temporary (not a guest register, not
    /// "none"), once.
    fn release(&mut self, s: u16) {
        if (s as usize) >= self.first && (s as usize) < self.limit && !self.free.contains(&s) {
            self.free.push(s);
        }
    }
}
