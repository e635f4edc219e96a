//! IR block to Cranelift IR (QEMU's `tcg/<host>/tcg-target.c.inc`, via Cranelift).
//!
//! Guest registers are held in SSA values within a block: a `get` loads a register from the
//! environment once (or takes the value a `set` gave it), and a `set` stores the new value at
//! once (write-through). So the environment is the guest state wherever the IR says so, which
//! host faults on guest accesses rely on (`fault.rs`; a load after which the IR optimizer moved
//! register writes reports its restart pc instead, `fault_sites.rs`), and a
//! value need not stay live until the block's end just to be written back; a use far from
//! its value's definition reloads it from the environment instead of keeping it live
//! ([`REMAT_DISTANCE`]), which is what a spill would cost without the store. Nothing is
//! left to write back at exits, before helper calls or at a self-loop's back-edge.
//! Values that only binary64 arithmetic, sets and stores use stay in FP registers
//! (`Lower::fview`).
//!
//! Every block is a function with Cranelift's `tail` calling convention, `fn(env) -> exit`;
//! it continues into its successor with `return_call_indirect` through one of its chaining
//! slots (see `exits.rs`), without storing the guest pc. Every Cranelift instruction carries
//! its guest instruction as source location (`fault_sites.rs`). A block that jumps back to
//! its own start is a loop ([`Lower::enter_loop`]). Memory accesses are in `memory.rs`.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self as cl, types, AbiParam, BlockArg, InstBuilder, MemFlagsData};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use ir::backend::EnvHeader;
use ir::{Aux, Block, Cond, Decls, ExitKind, GlobalId, HelperFlags, OpFlags, Opcode, Ty};

use crate::exits::{EXIT_EXCEPTION, EXIT_INTERRUPTED, EXIT_LOOKUP};
use crate::memory::MemCx;

/// What lowering needs besides the block.
pub(crate) struct LowerCx<'a> {
    pub decls: &'a Decls,
    pub mem: MemCx,
    /// Address of this block's descriptor (its chaining slots are in it).
    pub desc_addr: u64,
    /// Calling convention of helpers and runtime functions.
    pub sysv: CallConv,
    /// Address of the indirect-jump lookup table (`[u64; 1 << LOOKUP_BITS]` of code entry
    /// addresses, `exits::LOOKUP_BITS`).
    pub lookup_addr: u64,
    /// Offset of a scratch word in the environment that nothing reads.
    pub scratch_offset: u32,
    /// Translation flags of this block (a looked-up block must have the same).
    pub flags: u64,
    /// The ISA's frontend configuration.
    pub frontend_config: cranelift_codegen::isa::TargetFrontendConfig,
}

pub(crate) fn cl_ty(t: Ty) -> cl::Type {
    match t {
        Ty::I32 => types::I32,
        Ty::I64 => types::I64,
    }
}

pub(crate) fn intcc(c: Cond) -> IntCC {
    match c {
        Cond::Eq => IntCC::Equal,
        Cond::Ne => IntCC::NotEqual,
        Cond::Lt => IntCC::SignedLessThan,
        Cond::Ge => IntCC::SignedGreaterThanOrEqual,
        Cond::Le => IntCC::SignedLessThanOrEqual,
        Cond::Gt => IntCC::SignedGreaterThan,
        Cond::Ltu => IntCC::UnsignedLessThan,
        Cond::Geu => IntCC::UnsignedGreaterThanOrEqual,
        Cond::Leu => IntCC::UnsignedLessThanOrEqual,
        Cond::Gtu => IntCC::UnsignedGreaterThan,
    }
}

/// The signature of every block: `tail fn(env: i64, from: i64) -> i64` (`from`: the descriptor
/// of the block that jumped here through a chaining slot; only the stubs use it).
pub(crate) fn block_sig() -> cl::Signature {
    let mut s = cl::Signature::new(CallConv::Tail);
    s.params.push(AbiParam::new(types::I64));
    s.params.push(AbiParam::new(types::I64));
    s.returns.push(AbiParam::new(types::I64));
    s
}

/// The signature of the slow-call trampoline (`abi.rs`) for a runtime function of `nargs`
/// arguments besides `env`: `preserve_all fn(env, fn, a0, .., a<nargs-1>)`.
pub(crate) fn slow_call_sig(nargs: usize) -> cl::Signature {
    let mut s = cl::Signature::new(CallConv::PreserveAll);
    for _ in 0..2 + nargs {
        s.params.push(AbiParam::new(types::I64));
    }
    s
}

/// Arguments of a runtime function called through [`Lower::slow_call`], besides `env`.
const SLOW_CALL_MAX_ARGS: usize = 4;

/// The signature of helpers and runtime functions: `fn(env, a0, a1, a2, a3) -> i64`.
pub(crate) fn helper_sig(cc: CallConv) -> cl::Signature {
    let mut s = cl::Signature::new(cc);
    for _ in 0..5 {
        s.params.push(AbiParam::new(types::I64));
    }
    s.returns.push(AbiParam::new(types::I64));
    s
}

pub(crate) struct Lower<'a, 'b> {
    pub b: FunctionBuilder<'b>,
    pub cx: &'a LowerCx<'a>,
    /// Per guest register: the host value it holds here, if known (the environment holds
    /// the same value: sets write through).
    regs: Vec<Option<cl::Value>>,
    vals: Vec<Option<cl::Value>>,
    /// Guest pc of the current instruction.
    pub insn_pc: u64,
    pub helper_sig: cl::SigRef,
    block_sig: cl::SigRef,
    /// The signature of a [`Self::slow_call`] per argument count, once imported.
    slow_call_sigs: [Option<cl::SigRef>; SLOW_CALL_MAX_ARGS + 1],
    /// Number of uses of each IR value.
    uses: Vec<u32>,
    /// Per IR value: computed (through pure or FP ops) from a guest load of this block, so a
    /// fresh value on every execution that Cranelift can neither hoist nor merge.
    from_load: Vec<bool>,
    /// Per IR value: an i64 that only native binary64 ops, sets and stores use, so that a
    /// guest load of it reads straight into an FP register (see `fview`).
    float_only: Vec<bool>,
    /// Per IR value: the same bits as an f64 host value, where one was computed (native FP
    /// results, loads of `float_only` values). Values travel between FP ops, guest loads,
    /// sets and stores in FP registers, without a move through a general register each time.
    fview: Vec<Option<cl::Value>>,
    /// The environment pointer, read from the pinned register in the entry block.
    env_val: Option<cl::Value>,
    /// A block that jumps back to its own start is compiled as a loop: the loop header and
    /// the guest registers it carries (in parameter order).
    loop_header: Option<(cl::Block, Vec<GlobalId>)>,
    /// Guest pc of the block's first instruction (the loop target).
    block_pc: u64,
    /// Per guest register: the IR value its environment slot holds (sets write through),
    /// if known. Lets a far use of a value reload it from there (see [`Self::use_val`]).
    env_holds: Vec<Option<ir::Value>>,
    /// Per IR value: a guest register it was set to (or read from).
    home: Vec<Option<GlobalId>>,
    /// Per IR value: the index of the instruction that defined or last reloaded it.
    touched_at: Vec<u32>,
}

/// Lowers `block` into `func` (whose signature must be [`block_sig`]).
pub(crate) fn lower(
    block: &Block,
    cx: &LowerCx<'_>,
    func: &mut cl::Function,
    fbc: &mut FunctionBuilderContext,
) -> Result<(), String> {
    let mut b = FunctionBuilder::new(func, fbc);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let helper_sig = b.import_signature(helper_sig(cx.sysv));
    let block_sig = b.import_signature(block_sig());
    let mut l = Lower {
        b,
        cx,
        regs: vec![None; cx.decls.globals.len()],
        vals: vec![None; block.insts.len()],
        insn_pc: block.pc,
        helper_sig,
        block_sig,
        slow_call_sigs: [None; SLOW_CALL_MAX_ARGS + 1],
        env_val: None,
        loop_header: None,
        block_pc: block.pc,
        env_holds: vec![None; cx.decls.globals.len()],
        home: vec![None; block.insts.len()],
        touched_at: (0..block.insts.len() as u32).collect(),
        uses: {
            let mut u = vec![0u32; block.insts.len()];
            for inst in &block.insts {
                for a in inst.args() {
                    u[a.index()] += 1;
                }
            }
            u
        },
        from_load: {
            let mut f = vec![false; block.insts.len()];
            for (i, inst) in block.insts.iter().enumerate() {
                let flags = inst.op.info().flags;
                let passes = flags.has(OpFlags::PURE) || inst.op.is_fp_arith();
                f[i] = inst.op == Opcode::Ld || (passes && inst.args().iter().any(|a| f[a.index()]));
            }
            f
        },
        float_only: {
            let mut f = vec![true; block.insts.len()];
            for inst in &block.insts {
                let fp64 = inst.op.is_fp_arith() && inst.ty == Ty::I64;
                for (k, a) in inst.args().iter().enumerate() {
                    let ok = fp64 || inst.op == Opcode::Set || (inst.op == Opcode::St && k == 1);
                    if !ok {
                        f[a.index()] = false;
                    }
                }
            }
            f
        },
        fview: vec![None; block.insts.len()],
    };
    // leave at once if asked to (signals, other threads)
    let env = l.env();
    let req = l.b.ins().load(types::I32, MemFlagsData::trusted(), env, EnvHeader::OFF_EXIT_REQUEST as i32);
    let body = l.b.create_block();
    let stop = l.b.create_block();
    l.b.set_cold_block(stop);
    l.b.ins().brif(req, stop, &[], body, &[]);
    l.b.switch_to_block(stop);
    l.b.seal_block(stop);
    // the predecessor's chaining exit did not store it (`exits.rs`)
    let pc = l.b.ins().iconst(types::I64, block.pc as i64);
    l.store_pc(pc);
    let code = l.b.ins().iconst(types::I64, EXIT_INTERRUPTED);
    l.b.ins().return_(&[code]);
    l.b.switch_to_block(body);
    l.b.seal_block(body);
    if block.loops() {
        l.enter_loop(block);
    }

    for (i, inst) in block.insts.iter().enumerate() {
        if inst.op == Opcode::InsnStart {
            l.insn_pc = inst.imm;
            // where host faults and raising runtime calls are mapped back to (`fault_sites.rs`):
            // the whole instruction, in case Cranelift merges its load into a later operation
            let restart = block.insts[i + 1..]
                .iter()
                .take_while(|d| d.op != Opcode::InsnStart)
                .find(|d| d.op == Opcode::Ld && d.imm != 0)
                .map(|d| d.imm);
            l.b.set_srcloc(match restart {
                Some(r) => crate::fault_sites::replay_tag(block.pc, r),
                None => crate::fault_sites::tag(block.pc, inst.imm),
            });
            continue;
        }
        let v = l.inst(block, i, inst)?;
        l.vals[i] = v;
    }
    if let Some((header, _)) = l.loop_header {
        l.b.seal_block(header);
    }
    l.b.finalize(cx.frontend_config);
    Ok(())
}

/// Whether an access of `m` moves an i64 of type `ty` unchanged: 8 bytes, host (little)
/// byte order, so that it can load into or store from an FP register.
fn float_access(m: ir::MemOp, ty: Ty) -> bool {
    ty == Ty::I64 && m.size == ir::Size::S64 && m.endian == ir::Endian::Little
}

/// Whether the first instruction after `i` that is not pure is a `set` of a value computed
/// from `i`'s result (directly, or by the pure ops that NaN-box a single).
fn set_next(block: &Block, i: usize) -> bool {
    fn from(block: &Block, v: ir::Value, i: usize, depth: u32) -> bool {
        v.index() == i
            || (depth > 0
                && block.def(v).op.info().flags.has(OpFlags::PURE)
                && block.def(v).args().iter().any(|&a| from(block, a, i, depth - 1)))
    }
    block.insts[i + 1..]
        .iter()
        .find(|d| !d.op.info().flags.has(OpFlags::PURE))
        .is_some_and(|d| d.op == Opcode::Set && from(block, d.args[0], i, 3))
}

/// Uses of a value more than this many IR instructions after its definition (or last
/// reload) reload it from its guest register slot when that still holds it (see
/// [`Lower::use_val`]). About 15-20 guest instructions. Measured on the bench programs:
/// sha256 takes 19% less time, the others change within noise; 32 made sha256 slower
/// (values the allocator would have kept in registers get reloaded).
const REMAT_DISTANCE: usize = 48;

// The reloads read an i32 value from the low bytes of its 64-bit slot.
const _: () = assert!(cfg!(target_endian = "little"), "the JIT assumes a little-endian host");

/// At most this many guest registers are carried around a self-loop in host registers (the
/// most used ones). A register the loop reads and writes but does not carry is stored at
/// its write and loaded again in the next iteration: a store-to-load forwarding delay on
/// every loop-carried dependency through it. Measured (interleaved runs): 12 instead of 2
/// made sha256 8% faster (its rounds rotate eight registers), the other bench programs and
/// pyloop.py within noise; an earlier measurement, before [`REMAT_DISTANCE`], had found more
/// than two slower (carried values spilled).
const MAX_CARRIED: usize = 12;

/// At most this many guest registers that a self-loop only reads are loaded once before it.
const MAX_INVARIANT: usize = 4;

/// Loop-invariant registers are hoisted only in loops whose body uses at most this many guest
/// registers: in larger ones the hoisted values occupy host registers the body needs, and
/// get spilled (and stored again on every iteration). Measured: sha256's loop (25 registers) takes 4% less time
/// without them, sort's and listwalk's small loops 3% more.
const INVARIANT_MAX_REGS: usize = 16;

impl Lower<'_, '_> {
    /// Turns the rest of the function into a loop body. The guest registers the block uses
    /// most are loaded once here and carried around the loop in block parameters (the
    /// environment holds the same values: sets write through); in loops of at most
    /// [`INVARIANT_MAX_REGS`] registers, registers the loop only reads are loaded once here
    /// too (loop-invariant). The header checks `exit_request` on every
    /// iteration, leaving with pc = the block's start when it is set.
    fn enter_loop(&mut self, block: &Block) {
        /// How the loop body (up to the last back-edge) uses a guest register.
        struct Use {
            g: GlobalId,
            count: u32,
            /// Read before it is written: its value comes from the previous iteration.
            live_in: bool,
            written: bool,
        }
        let body_end = block.insts.iter().rposition(|i| block.is_back_edge(i)).map_or(0, |k| k + 1);
        let mut uses: Vec<Use> = Vec::new();
        for inst in &block.insts[..body_end] {
            if let (Opcode::Get | Opcode::Set, Aux::Global(g)) = (inst.op, inst.aux) {
                let set = inst.op == Opcode::Set;
                match uses.iter_mut().find(|u| u.g == g) {
                    Some(u) => {
                        u.count += 1;
                        u.written |= set;
                    }
                    None => uses.push(Use { g, count: 1, live_in: !set, written: set }),
                }
            }
        }
        uses.sort_by(|a, b| b.count.cmp(&a.count).then(a.g.cmp(&b.g)));
        // Loop-invariant registers need no block parameter and no back-edge copy: a value
        // defined before the loop. Not when a helper may write guest registers (then every
        // register is reloaded after the call anyway).
        let helpers_write = block.insts[..body_end]
            .iter()
            .any(|i| matches!((i.op, i.aux), (Opcode::Call, Aux::Helper(_, f)) if f.writes_globals()));
        if !helpers_write && uses.len() <= INVARIANT_MAX_REGS {
            for u in uses.iter().filter(|u| !u.written).take(MAX_INVARIANT) {
                let ty = self.cx.decls.globals[u.g.0 as usize].ty;
                self.get(u.g, ty);
            }
        }
        // Registers read and written around the loop are carried, only the most used ones:
        // carrying more than the host has registers only makes the register allocator spill
        // them to a second copy on the stack and shuffle them at every back-edge; the others
        // are loaded from the environment (which sets write through to) when used.
        let mut carried: Vec<GlobalId> =
            uses.iter().filter(|u| u.live_in && u.written).take(MAX_CARRIED).map(|u| u.g).collect();
        carried.sort();
        let header = self.b.create_block();
        let mut args = Vec::with_capacity(carried.len());
        for &g in &carried {
            let ty = self.cx.decls.globals[g.0 as usize].ty;
            self.b.append_block_param(header, cl_ty(ty));
            let v = self.get(g, ty);
            args.push(BlockArg::Value(v));
        }
        self.b.ins().jump(header, &args);
        self.b.switch_to_block(header);
        let params: Vec<cl::Value> = self.b.block_params(header).to_vec();
        for (k, &g) in carried.iter().enumerate() {
            self.regs[g.0 as usize] = Some(params[k]);
        }
        self.loop_header = Some((header, carried));
        // per-iteration interrupt check
        let env = self.env();
        let req = self.b.ins().load(types::I32, MemFlagsData::trusted(), env, EnvHeader::OFF_EXIT_REQUEST as i32);
        let pc = self.block_pc;
        self.side_exit(req, |l| {
            let pcv = l.b.ins().iconst(types::I64, pc as i64);
            l.store_pc(pcv);
            let code = l.b.ins().iconst(types::I64, EXIT_INTERRUPTED);
            l.b.ins().return_(&[code]);
        });
    }

    /// The loop back-edge: the current values of the carried registers (reloading any a
    /// helper made us forget).
    fn back_edge_args(&mut self) -> Vec<BlockArg> {
        let carried = self.loop_header.as_ref().map(|(_, c)| c.clone()).unwrap_or_default();
        carried
            .iter()
            .map(|&g| {
                let ty = self.cx.decls.globals[g.0 as usize].ty;
                BlockArg::Value(self.get(g, ty))
            })
            .collect()
    }

    /// The environment pointer: always in the pinned register (r15 on x86-64), set by the
    /// entry trampoline and preserved by every block and by System V helpers. Read once per
    /// block (each `get_pinned_reg` is a register copy).
    pub(crate) fn env(&mut self) -> cl::Value {
        if let Some(e) = self.env_val {
            return e;
        }
        let e = self.b.ins().get_pinned_reg(types::I64);
        self.env_val = Some(e);
        e
    }

    pub(crate) fn val(&self, v: ir::Value) -> cl::Value {
        self.vals[v.index()].expect("verified IR: arguments are defined before use")
    }

    /// The host value for a use of IR value `v` by instruction `at`. A value defined far back
    /// whose guest register slot still holds it (sets write through) is reloaded from there
    /// rather than kept live across the distance: in a block using more guest registers than
    /// the host has, the register allocator would spill it to the stack instead, a store and
    /// a load, where the reload is one load, often folded into the using instruction.
    fn use_val(&mut self, v: ir::Value, at: usize) -> cl::Value {
        let i = v.index();
        if at - self.touched_at[i] as usize > REMAT_DISTANCE {
            if let Some(g) = self.home[i].filter(|g| self.env_holds[g.0 as usize] == Some(v)) {
                let old = self.val(v);
                let ty = self.b.func.dfg.value_type(old);
                let off = self.global_offset(g);
                let env = self.env();
                // little-endian host: the low bytes of the 64-bit slot hold an i32 value
                let r = self.b.ins().load(ty, MemFlagsData::trusted(), env, off);
                self.vals[i] = Some(r);
                self.touched_at[i] = at as u32;
                if self.regs[g.0 as usize] == Some(old) {
                    self.regs[g.0 as usize] = Some(r);
                }
                return r;
            }
        }
        self.val(v)
    }

    /// A memory access's address that is base + constant and used only by the access: the
    /// range test can use the base and spare the add (`memory.rs`); an address used elsewhere
    /// too is at hand anyway.
    fn base_off(&self, block: &Block, addr: ir::Value) -> Option<(cl::Value, i64)> {
        block.base_plus_const(addr).filter(|_| self.uses[addr.index()] == 1).map(|(base, c)| (self.val(base), c as i64))
    }

    fn global_offset(&self, g: GlobalId) -> i32 {
        self.cx.decls.globals[g.0 as usize].offset as i32
    }

    fn get(&mut self, g: GlobalId, ty: Ty) -> cl::Value {
        if let Some(v) = self.regs[g.0 as usize] {
            return v;
        }
        let off = self.global_offset(g);
        let env = self.env();
        let v = self.b.ins().load(cl_ty(ty), MemFlagsData::trusted(), env, off);
        self.regs[g.0 as usize] = Some(v);
        v
    }

    fn forget_regs(&mut self) {
        self.regs.fill(None);
    }

    fn store_pc(&mut self, pc: cl::Value) {
        if let Some(off) = self.cx.decls.pc_offset() {
            let env = self.env();
            self.b.ins().store(MemFlagsData::trusted(), pc, env, off as i32);
        }
    }

    /// Emits, in the current block, the exit "raise `cause` with `aux` at this instruction".
    pub(crate) fn emit_raise(&mut self, cause: Option<u32>, aux: Option<cl::Value>) {
        let env = self.env();
        if let Some(c) = cause {
            let c = self.b.ins().iconst(types::I32, c as i64);
            self.b.ins().store(MemFlagsData::trusted(), c, env, EnvHeader::OFF_EXCEPTION as i32);
            let a = match aux {
                Some(a) => a,
                None => self.b.ins().iconst(types::I64, 0),
            };
            self.b.ins().store(MemFlagsData::trusted(), a, env, EnvHeader::OFF_EXCEPTION_AUX as i32);
        }
        let pc = self.b.ins().iconst(types::I64, self.insn_pc as i64);
        self.b.ins().store(MemFlagsData::trusted(), pc, env, EnvHeader::OFF_EXCEPTION_PC as i32);
        let code = self.b.ins().iconst(types::I64, EXIT_EXCEPTION);
        self.b.ins().return_(&[code]);
    }

    /// Emits, in the current block, "continue at `pc` through chaining slot `slot`". The pc
    /// is the slot's target in the block's descriptor, not stored here (`exits.rs`).
    fn emit_chain(&mut self, slot: u8) {
        let desc = self.b.ins().iconst(types::I64, self.cx.desc_addr as i64);
        let target =
            self.b.ins().load(types::I64, MemFlagsData::trusted(), desc, crate::exits::DESC_SLOTS + 8 * slot as i32);
        let env = self.env();
        self.b.ins().return_call_indirect(self.block_sig, target, &[env, desc]);
    }

    /// Continues at the block for pc `t` if the lookup table knows it, else returns to the
    /// dispatcher with EXIT_LOOKUP. The table holds entry addresses; the header before the
    /// code says whose code it is (`exits::LOOKUP_BITS`).
    fn emit_lookup_jump(&mut self, t: cl::Value) {
        use crate::exits::{LOOKUP_BITS, LOOKUP_KEY_FLAGS, LOOKUP_KEY_PC};
        let miss = self.b.create_block();
        let check = self.b.create_block();
        let hit = self.b.create_block();
        let hi = self.b.ins().ushr_imm_u(t, 17);
        let lo = self.b.ins().ushr_imm_u(t, 1);
        let h = self.b.ins().bxor(hi, lo);
        let h = self.b.ins().band_imm_u(h, (1i64 << LOOKUP_BITS) - 1);
        let off = self.b.ins().ishl_imm_u(h, 3);
        let table = self.b.ins().iconst(types::I64, self.cx.lookup_addr as i64);
        let slot = self.b.ins().iadd(table, off);
        let entry = self.b.ins().load(types::I64, MemFlagsData::trusted(), slot, 0);
        let pc = self.b.ins().load(types::I64, MemFlagsData::trusted(), entry, LOOKUP_KEY_PC);
        let same = self.b.ins().icmp(IntCC::Equal, pc, t);
        self.b.ins().brif(same, check, &[], miss, &[]);
        self.b.switch_to_block(check);
        self.b.seal_block(check);
        let flags = self.b.ins().load(types::I64, MemFlagsData::trusted(), entry, LOOKUP_KEY_FLAGS);
        let same = self.b.ins().icmp_imm_u(IntCC::Equal, flags, self.cx.flags as i64);
        self.b.ins().brif(same, hit, &[], miss, &[]);
        self.b.switch_to_block(hit);
        self.b.seal_block(hit);
        let env = self.env();
        self.b.ins().return_call_indirect(self.block_sig, entry, &[env, entry]);
        self.b.switch_to_block(miss);
        self.b.seal_block(miss);
        let code = self.b.ins().iconst(types::I64, EXIT_LOOKUP);
        self.b.ins().return_(&[code]);
    }

    /// If `cond` is non-zero, runs `exit` in a cold block; continues after otherwise.
    fn side_exit(&mut self, cond: cl::Value, exit: impl FnOnce(&mut Self)) {
        let cold = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(cond, cold, &[], cont, &[]);
        self.b.switch_to_block(cold);
        self.b.seal_block(cold);
        exit(self);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// After a call that may raise: leave if the environment has an exception.
    pub(crate) fn check_exception(&mut self) {
        let env = self.env();
        let exc = self.b.ins().load(types::I32, MemFlagsData::trusted(), env, EnvHeader::OFF_EXCEPTION as i32);
        self.side_exit(exc, |l| l.emit_raise(None, None));
    }

    /// Calls a runtime function or helper with the uniform signature.
    pub(crate) fn call(&mut self, func: u64, args: &[cl::Value]) -> cl::Value {
        let f = self.b.ins().iconst(types::I64, func as i64);
        let mut a = vec![self.env()];
        a.extend_from_slice(args);
        while a.len() < 5 {
            a.push(self.b.ins().iconst(types::I64, 0));
        }
        let call = self.b.ins().call_indirect(self.helper_sig, f, &a);
        self.b.inst_results(call)[0]
    }

    /// Calls runtime function `func(env, args..)` (at most 4 arguments; the others it gets are
    /// undefined) from a cold path through `abi.rs`'s `preserve_all` trampoline: the call site
    /// clobbers no register, so the register allocator keeps the hot path's values where they
    /// are instead of spilling them around a call it cannot see is rare. If `func` raises a
    /// guest exception, the trampoline leaves compiled code itself (the guest pc comes from
    /// this instruction's source location, `fault_sites.rs`), so nothing is tested after it.
    pub(crate) fn slow_call(&mut self, func: u64, args: &[cl::Value]) -> cl::Value {
        let n = args.len().min(SLOW_CALL_MAX_ARGS);
        let sig = match self.slow_call_sigs[n] {
            Some(s) => s,
            None => {
                let s = self.b.import_signature(slow_call_sig(n));
                self.slow_call_sigs[n] = Some(s);
                s
            }
        };
        let t = self.b.ins().iconst(types::I64, crate::abi::slow_call() as i64);
        let f = self.b.ins().iconst(types::I64, func as i64);
        let env = self.env();
        let mut a = [env; 2 + SLOW_CALL_MAX_ARGS];
        a[1] = f;
        a[2..2 + n].copy_from_slice(&args[..n]);
        self.b.ins().call_indirect(sig, t, &a[..2 + n]);
        self.b.ins().load(types::I64, MemFlagsData::trusted(), env, EnvHeader::OFF_HELPER_RESULT as i32)
    }

    /// `v` as an i64: i32 zero-extended, f64 bit for bit.
    pub(crate) fn widen_i64(&mut self, v: cl::Value) -> cl::Value {
        match self.b.func.dfg.value_type(v) {
            types::I32 => self.b.ins().uextend(types::I64, v),
            types::F64 => self.b.ins().bitcast(types::I64, MemFlagsData::new(), v),
            _ => v,
        }
    }

    /// An FP op: native Cranelift arithmetic where the result is used and not constant (so
    /// Cranelift can neither drop nor fold it, which would lose its exception flags), a call
    /// of `ir::fpu`'s runtime entry otherwise.
    fn lower_fp(&mut self, block: &Block, i: usize, inst: &ir::Inst, args: &[cl::Value]) -> cl::Value {
        let all_const = inst.args().iter().all(|a| block.def(*a).op == Opcode::Const);
        let native = self.uses[i] > 0 && !all_const && (inst.op != Opcode::Fma || ir::fpu::host_has_fma());
        let (ity, fty, nan) = match inst.ty {
            Ty::I32 => (types::I32, types::F32, ir::fpu::NAN32 as i64),
            Ty::I64 => (types::I64, types::F64, ir::fpu::NAN64 as i64),
        };
        if !native {
            let which = inst.op as i64 | if inst.ty == Ty::I64 { 0x100 } else { 0 };
            let w = self.b.ins().iconst(types::I64, which);
            let mut a: Vec<cl::Value> = vec![w];
            for &x in args {
                let x = self.widen_i64(x);
                a.push(x);
            }
            let r = self.call(ir::fpu::fp_op_runtime as *const () as u64, &a);
            return if inst.ty == Ty::I32 { self.b.ins().ireduce(types::I32, r) } else { r };
        }
        // Cranelift sees FP arithmetic as pure: it would hoist an op with loop-invariant
        // operands out of a loop, or merge two identical ops, raising their flags at the wrong
        // point or too few times. OR-ing a fresh load of the always-zero `fp_token` into one
        // operand (the last: in `acc = acc + x` not the loop-carried one) makes every op
        // distinct and variant; loads after a store are neither hoisted nor merged. An operand
        // computed from a guest load of this block is such a load already.
        let mut args = args.to_vec();
        let last = args.len() - 1;
        let token = !inst.args().iter().any(|a| self.from_load[a.index()]);
        if token {
            let env = self.env();
            let tok = self.b.ins().load(ity, MemFlagsData::trusted(), env, EnvHeader::OFF_FP_TOKEN as i32);
            args[last] = self.b.ins().bor(args[last], tok);
        }
        let f: Vec<cl::Value> = (0..args.len())
            .map(|k| match self.fview[inst.args[k].index()] {
                Some(x) if fty == types::F64 && !(token && k == last) => x,
                _ => self.b.ins().bitcast(fty, MemFlagsData::new(), args[k]),
            })
            .collect();
        // Classification is done on the bit patterns with integer operations: a float compare
        // (ucomisd) raises "invalid" for a signaling NaN operand, wherever Cranelift puts it.
        let (abs_mask, exp_mask) = match inst.ty {
            Ty::I32 => (0x7fff_ffffi64, 0x7f80_0000i64),
            Ty::I64 => (0x7fff_ffff_ffff_ffffi64, 0x7ff0_0000_0000_0000i64),
        };
        let r = match inst.op {
            Opcode::Fadd => self.b.ins().fadd(f[0], f[1]),
            Opcode::Fsub => self.b.ins().fsub(f[0], f[1]),
            Opcode::Fmul => self.b.ins().fmul(f[0], f[1]),
            Opcode::Fdiv => self.b.ins().fdiv(f[0], f[1]),
            Opcode::Fsqrt => self.b.ins().sqrt(f[0]),
            _ => {
                // RISC-V raises invalid for inf * 0 + NaN, x86 FMA does not (see
                // ir::fpu::fma_needs_invalid): multiply a * b in exactly that case, 1 * 1
                // (exact, no flags) otherwise.
                let abs = |l: &mut Self, x: cl::Value| l.b.ins().band_imm_u(x, abs_mask);
                let (aa, ab, ac) = (abs(self, args[0]), abs(self, args[1]), abs(self, args[2]));
                let inf_a = self.b.ins().icmp_imm_u(IntCC::Equal, aa, exp_mask);
                let inf_b = self.b.ins().icmp_imm_u(IntCC::Equal, ab, exp_mask);
                let zero_a = self.b.ins().icmp_imm_u(IntCC::Equal, aa, 0);
                let zero_b = self.b.ins().icmp_imm_u(IntCC::Equal, ab, 0);
                let nan_c = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, ac, exp_mask);
                let ab_ = self.b.ins().band(inf_a, zero_b);
                let ba_ = self.b.ins().band(zero_a, inf_b);
                let either = self.b.ins().bor(ab_, ba_);
                let special = self.b.ins().band(either, nan_c);
                let one = if fty == types::F32 { self.b.ins().f32const(1.0) } else { self.b.ins().f64const(1.0) };
                let x = self.b.ins().select(special, f[0], one);
                let y = self.b.ins().select(special, f[1], one);
                let p = self.b.ins().fmul(x, y);
                let pb = self.b.ins().bitcast(ity, MemFlagsData::new(), p);
                let env = self.env();
                self.b.ins().store(MemFlagsData::trusted(), pb, env, self.cx.scratch_offset as i32);
                self.b.ins().fma(f[0], f[1], f[2])
            }
        };
        // A NaN result becomes the default NaN on a cold path. `ucomis` of the result with
        // itself raises no flag RISC-V has: host arithmetic never returns a signaling NaN, and
        // the denormal-operand flag is not one of fflags'.
        let is_nan = self.b.ins().fcmp(FloatCC::Unordered, r, r);
        let nan_path = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, fty);
        self.b.set_cold_block(nan_path);
        self.b.ins().brif(is_nan, nan_path, &[], done, &[BlockArg::Value(r)]);
        self.b.switch_to_block(nan_path);
        self.b.seal_block(nan_path);
        let dnan = if fty == types::F64 {
            self.b.ins().f64const(f64::from_bits(nan as u64))
        } else {
            self.b.ins().f32const(f32::from_bits(nan as u32))
        };
        self.b.ins().jump(done, &[BlockArg::Value(dnan)]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        let vf = self.b.block_params(done)[0];
        if fty == types::F64 {
            self.fview[i] = Some(vf);
        }
        // Cranelift sees the FP op as pure and would schedule it next to its first use,
        // possibly after an `fpflags` call or a side exit, where its flags must already be
        // raised. A store (ordered with calls and branches) pins it to its program point:
        // the guest register's own store when the result is set to one right away.
        if !set_next(block, i) {
            let env = self.env();
            self.b.ins().store(MemFlagsData::trusted(), r, env, self.cx.scratch_offset as i32);
        }
        self.b.ins().bitcast(ity, MemFlagsData::new(), vf)
    }

    fn inst(&mut self, block: &Block, i: usize, inst: &ir::Inst) -> Result<Option<cl::Value>, String> {
        let ty = cl_ty(inst.ty);
        let av: [Option<cl::Value>; 4] =
            std::array::from_fn(|k| (k < inst.nargs as usize).then(|| self.use_val(inst.args[k], i)));
        let a = |k: usize| av[k].expect("verified IR: the op has this argument");
        let r = match inst.op {
            Opcode::Nop | Opcode::InsnStart => return Ok(None),
            Opcode::Const => self.b.ins().iconst(ty, (inst.imm & inst.ty.mask()) as i64),
            Opcode::Get => {
                let Aux::Global(g) = inst.aux else { return Err("get without a global".into()) };
                if self.regs[g.0 as usize].is_none() && self.float_only[i] && inst.ty == Ty::I64 {
                    let off = self.global_offset(g);
                    let env = self.env();
                    let f = self.b.ins().load(types::F64, MemFlagsData::trusted(), env, off);
                    self.fview[i] = Some(f);
                    let v = self.b.ins().bitcast(types::I64, MemFlagsData::new(), f);
                    self.regs[g.0 as usize] = Some(v);
                }
                let v = self.get(g, inst.ty);
                match self.env_holds[g.0 as usize] {
                    None => {
                        self.env_holds[g.0 as usize] = Some(ir::Value(i as u32));
                        self.home[i] = Some(g);
                    }
                    // the register still holds a value set in this block: its float view too
                    Some(s) if self.vals[s.index()] == Some(v) => self.fview[i] = self.fview[s.index()],
                    Some(_) => {}
                }
                v
            }
            Opcode::Set => {
                let Aux::Global(g) = inst.aux else { return Err("set without a global".into()) };
                let v = a(0);
                // Write-through: the store happens here, so the value need not stay live (in a
                // host register, or spilled to a second copy on the stack) until the block's
                // exit, and the environment is the guest state for host faults (`fault.rs`).
                let off = self.global_offset(g);
                let st = match self.fview[inst.args[0].index()] {
                    Some(f) => f,
                    None => self.widen_i64(v),
                };
                let env = self.env();
                self.b.ins().store(MemFlagsData::trusted(), st, env, off);
                self.regs[g.0 as usize] = Some(v);
                self.env_holds[g.0 as usize] = Some(inst.args[0]);
                self.home[inst.args[0].index()] = Some(g);
                return Ok(None);
            }
            Opcode::Add => self.b.ins().iadd(a(0), a(1)),
            Opcode::Sub => self.b.ins().isub(a(0), a(1)),
            Opcode::Mul => self.b.ins().imul(a(0), a(1)),
            Opcode::MulhS => self.b.ins().smulhi(a(0), a(1)),
            Opcode::MulhU => self.b.ins().umulhi(a(0), a(1)),
            Opcode::MulhSu => {
                // signed a * unsigned b = signed a * signed b + (b < 0 ? a << bits : 0)
                let (x, y) = (a(0), a(1));
                let hs = self.b.ins().smulhi(x, y);
                let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, y, 0);
                let zero = self.b.ins().iconst(ty, 0);
                let corr = self.b.ins().select(neg, x, zero);
                self.b.ins().iadd(hs, corr)
            }
            Opcode::DivS | Opcode::DivU | Opcode::RemS | Opcode::RemU => {
                let (x, y) = (a(0), a(1));
                let zero = self.b.ins().icmp_imm_u(IntCC::Equal, y, 0);
                let one = self.b.ins().iconst(ty, 1);
                let mut unsafe_div = zero;
                if matches!(inst.op, Opcode::DivS | Opcode::RemS) {
                    // MIN / -1 traps in hardware; divide by 1 instead (MIN / 1 = MIN, MIN % 1 = 0)
                    let min = if inst.ty == Ty::I64 { i64::MIN } else { i32::MIN as i64 };
                    let is_min = self.b.ins().icmp_imm_u(IntCC::Equal, x, min & inst.ty.mask() as i64);
                    let is_m1 = self.b.ins().icmp_imm_u(IntCC::Equal, y, inst.ty.mask() as i64);
                    let ovf = self.b.ins().band(is_min, is_m1);
                    unsafe_div = self.b.ins().bor(zero, ovf);
                }
                let safe_y = self.b.ins().select(unsafe_div, one, y);
                let q = match inst.op {
                    Opcode::DivS => self.b.ins().sdiv(x, safe_y),
                    Opcode::DivU => self.b.ins().udiv(x, safe_y),
                    Opcode::RemS => self.b.ins().srem(x, safe_y),
                    _ => self.b.ins().urem(x, safe_y),
                };
                let on_zero = match inst.op {
                    Opcode::DivS | Opcode::DivU => self.b.ins().iconst(ty, inst.ty.mask() as i64),
                    _ => x,
                };
                self.b.ins().select(zero, on_zero, q)
            }
            Opcode::And => self.b.ins().band(a(0), a(1)),
            Opcode::Or => self.b.ins().bor(a(0), a(1)),
            Opcode::Xor => self.b.ins().bxor(a(0), a(1)),
            Opcode::Andn => self.b.ins().band_not(a(0), a(1)),
            Opcode::Orn => self.b.ins().bor_not(a(0), a(1)),
            Opcode::Xnor => self.b.ins().bxor_not(a(0), a(1)),
            Opcode::Shl => self.b.ins().ishl(a(0), a(1)),
            Opcode::ShrU => self.b.ins().ushr(a(0), a(1)),
            Opcode::ShrS => self.b.ins().sshr(a(0), a(1)),
            Opcode::Rotl => self.b.ins().rotl(a(0), a(1)),
            Opcode::Rotr => self.b.ins().rotr(a(0), a(1)),
            Opcode::MinS => self.b.ins().smin(a(0), a(1)),
            Opcode::MaxS => self.b.ins().smax(a(0), a(1)),
            Opcode::MinU => self.b.ins().umin(a(0), a(1)),
            Opcode::MaxU => self.b.ins().umax(a(0), a(1)),
            Opcode::Neg => self.b.ins().ineg(a(0)),
            Opcode::Not => self.b.ins().bnot(a(0)),
            Opcode::Clz => self.b.ins().clz(a(0)),
            Opcode::Ctz => self.b.ins().ctz(a(0)),
            Opcode::Popcnt => self.b.ins().popcnt(a(0)),
            Opcode::Bswap => self.b.ins().bswap(a(0)),
            Opcode::Sext | Opcode::Zext => {
                let x = a(0);
                let bits = inst.imm as u32;
                if bits >= inst.ty.bits() {
                    x
                } else if inst.op == Opcode::Zext {
                    let m = self.b.ins().iconst(ty, ((1u64 << bits) - 1) as i64);
                    self.b.ins().band(x, m)
                } else {
                    match bits {
                        8 | 16 | 32 => {
                            let nt = cl::Type::int(bits as u16).ok_or("bad width")?;
                            let n = self.b.ins().ireduce(nt, x);
                            self.b.ins().sextend(ty, n)
                        }
                        _ => {
                            let sh = self.b.ins().iconst(ty, (inst.ty.bits() - bits) as i64);
                            let up = self.b.ins().ishl(x, sh);
                            self.b.ins().sshr(up, sh)
                        }
                    }
                }
            }
            Opcode::ExtendS => self.b.ins().sextend(types::I64, a(0)),
            Opcode::ExtendU => self.b.ins().uextend(types::I64, a(0)),
            Opcode::Trunc => self.b.ins().ireduce(types::I32, a(0)),
            Opcode::Setcond => {
                let Aux::Cond(c) = inst.aux else { return Err("setcond without a condition".into()) };
                let f = self.b.ins().icmp(intcc(c), a(0), a(1));
                self.b.ins().uextend(ty, f)
            }
            Opcode::Select => {
                let c = a(0);
                self.b.ins().select(c, a(1), a(2))
            }
            Opcode::Ld => {
                let Aux::Mem(m) = inst.aux else { return Err("ld without a memop".into()) };
                let base_off = self.base_off(block, inst.args[0]);
                if self.float_only[i] && float_access(m, inst.ty) {
                    let f = self.lower_load(a(0), base_off, m, types::F64);
                    self.fview[i] = Some(f);
                    self.b.ins().bitcast(types::I64, MemFlagsData::new(), f)
                } else {
                    self.lower_load(a(0), base_off, m, cl_ty(inst.ty))
                }
            }
            Opcode::St => {
                let Aux::Mem(m) = inst.aux else { return Err("st without a memop".into()) };
                let base_off = self.base_off(block, inst.args[0]);
                let v = match self.fview[inst.args[1].index()] {
                    Some(f) if float_access(m, Ty::I64) => f,
                    _ => a(1),
                };
                self.lower_store(a(0), base_off, m, v);
                return Ok(None);
            }
            Opcode::AtomicRmw | Opcode::Cmpxchg => {
                let x: Vec<cl::Value> = (0..inst.nargs as usize).map(a).collect();
                let x: Vec<cl::Value> = x.into_iter().map(|v| self.widen_i64(v)).collect();
                let r = self.lower_atomic(inst, &x);
                if inst.ty == Ty::I32 {
                    self.b.ins().ireduce(types::I32, r)
                } else {
                    r
                }
            }
            Opcode::Fence => {
                self.b.ins().fence();
                return Ok(None);
            }
            Opcode::Fadd | Opcode::Fsub | Opcode::Fmul | Opcode::Fdiv | Opcode::Fsqrt | Opcode::Fma => {
                let args: Vec<cl::Value> = (0..inst.nargs as usize).map(a).collect();
                self.lower_fp(block, i, inst, &args)
            }
            Opcode::Fpflags => self.call(ir::fpu::fpflags_runtime as *const () as u64, &[]),
            Opcode::Call => {
                let Aux::Helper(h, flags) = inst.aux else { return Err("call without a helper".into()) };
                let args: Vec<cl::Value> = (0..inst.nargs as usize).map(a).collect();
                let args: Vec<cl::Value> = args.into_iter().map(|v| self.widen_i64(v)).collect();
                let func = self.cx.decls.helpers[h.0 as usize].func as usize as u64;
                let r = self.call(func, &args);
                if flags.writes_globals() {
                    self.forget_regs();
                    self.env_holds.fill(None);
                }
                if flags.has(HelperFlags::CAN_FAULT) {
                    self.check_exception();
                }
                r
            }
            Opcode::ExitIf if self.loop_header.is_some() && block.is_back_edge(inst) => {
                // taken: around the loop again (a normal, not cold, edge)
                let c = a(0);
                let args = self.back_edge_args();
                let Some((header, _)) = self.loop_header else { unreachable!("checked in the guard") };
                let cont = self.b.create_block();
                self.b.ins().brif(c, header, &args, cont, &[]);
                self.b.switch_to_block(cont);
                self.b.seal_block(cont);
                return Ok(None);
            }
            Opcode::GotoTb if self.loop_header.is_some() && block.is_back_edge(inst) => {
                let args = self.back_edge_args();
                let Some((header, _)) = self.loop_header else { unreachable!("checked in the guard") };
                self.b.ins().jump(header, &args);
                return Ok(None);
            }
            Opcode::ExitIf => {
                let c = a(0);
                match inst.aux {
                    Aux::Exit(ExitKind::Chain { slot }) => self.side_exit(c, |l| l.emit_chain(slot)),
                    Aux::Exit(ExitKind::Raise { cause }) => self.side_exit(c, |l| l.emit_raise(Some(cause), None)),
                    _ => return Err("exit_if without an exit".into()),
                }
                return Ok(None);
            }
            Opcode::GotoTb => {
                let Aux::Slot(slot) = inst.aux else { return Err("goto_tb without a slot".into()) };
                self.emit_chain(slot);
                return Ok(None);
            }
            Opcode::GotoPtr => {
                let t = a(0);
                self.store_pc(t);
                self.emit_lookup_jump(t);
                return Ok(None);
            }
            Opcode::ExitTb => {
                let t = a(0);
                self.store_pc(t);
                let code = self.b.ins().iconst(types::I64, EXIT_LOOKUP);
                self.b.ins().return_(&[code]);
                return Ok(None);
            }
            Opcode::Raise => {
                let x = a(0);
                let x = self.widen_i64(x);
                self.emit_raise(Some(inst.imm as u32), Some(x));
                return Ok(None);
            }
        };
        let _ = block;
        Ok(Some(r))
    }
}
