//! Where the RISC-V translator ends a block: instruction limit, page boundary (an instruction
//! may straddle into the next page, none may start there), fetch faults on the first and on a
//! later instruction, direct jumps followed within the first page, conditional branches as
//! side exits up to the limit, and the guest size it reports.

use frontend::riscv64::Riscv64;
use frontend::{Frontend, SliceReader, TranslateLimits};
use ir::backend::EXC_FETCH_FAULT;
use ir::{Aux, Block, Builder, Opcode};

const ADDI: [u8; 4] = [0x13, 0x05, 0x15, 0x00]; // addi a0, a0, 1
const C_ADDI: [u8; 2] = [0x05, 0x05]; // c.addi a0, 1

fn translate(base: u64, code: &[u8], limits: TranslateLimits) -> Block {
    let fe = Riscv64::new();
    let mut b = Builder::new(fe.decls());
    b.start(base, 0);
    let size = fe.translate(base, 0, &mut SliceReader { base, bytes: code }, &mut b, limits);
    let block = b.finish(size);
    ir::verify::verify(&block, fe.decls()).expect("verifies");
    block
}

fn pcs(b: &Block) -> Vec<u64> {
    b.insn_pcs().collect()
}

fn last(b: &Block) -> (Opcode, u64) {
    let i = b.insts.last().expect("terminator");
    (i.op, i.imm)
}

#[test]
fn max_insns_ends_block_with_goto_tb() {
    let code = [ADDI, ADDI, ADDI].concat();
    let b = translate(0x1000, &code, TranslateLimits { max_insns: 2, ..Default::default() });
    assert_eq!(pcs(&b), [0x1000, 0x1004]);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1008));
    assert_eq!(b.guest_size, 8);
}

#[test]
fn no_instruction_starts_on_the_next_page() {
    let code = [ADDI, ADDI, ADDI, ADDI].concat();
    let b = translate(0xff8, &code, TranslateLimits::default());
    assert_eq!(pcs(&b), [0xff8, 0xffc]);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1000));
    // without the page limit the block goes on
    let b = translate(0xff8, &code, TranslateLimits { same_page: false, ..Default::default() });
    assert_eq!(pcs(&b).len(), 4);
}

#[test]
fn an_instruction_may_straddle_into_the_next_page() {
    let code = [&C_ADDI[..], &C_ADDI[..], &ADDI[..], &ADDI[..]].concat();
    let b = translate(0xffa, &code, TranslateLimits::default());
    assert_eq!(pcs(&b), [0xffa, 0xffc, 0xffe]);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1002));
    assert_eq!(b.guest_size, 8);
}

fn raise_of(b: &Block) -> (u64, u64) {
    let r = b.insts.last().expect("terminator");
    assert_eq!(r.op, Opcode::Raise);
    let aux = b.insts[r.args[0].index()];
    assert_eq!(aux.op, Opcode::Const);
    (r.imm, aux.imm)
}

#[test]
fn fetch_fault_on_first_instruction_raises() {
    let b = translate(0x2000, &[], TranslateLimits::default());
    assert_eq!(pcs(&b), [0x2000]);
    assert_eq!(raise_of(&b), (EXC_FETCH_FAULT as u64, 0x2000));
    assert_eq!(b.guest_size, 0);
    // the second half of a 32-bit instruction is missing: the fault is at pc + 2
    let b = translate(0x2000, &ADDI[..2], TranslateLimits::default());
    assert_eq!(raise_of(&b), (EXC_FETCH_FAULT as u64, 0x2002));
}

#[test]
fn fetch_fault_later_ends_the_block_before_it() {
    let code = [&ADDI[..], &ADDI[..2]].concat();
    let b = translate(0x2000, &code, TranslateLimits::default());
    assert_eq!(pcs(&b), [0x2000]);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x2004));
    assert_eq!(b.guest_size, 4);
}

#[test]
fn illegal_instruction_raises_with_its_bits_at_its_pc() {
    let code = [&ADDI[..], &[0xff, 0xff, 0xff, 0xff][..]].concat();
    let b = translate(0x2000, &code, TranslateLimits::default());
    assert_eq!(pcs(&b), [0x2000, 0x2004]);
    assert_eq!(raise_of(&b), (frontend::riscv64::EXC_ILLEGAL_INSN as u64, 0xffff_ffff));
    // nothing of the illegal instruction was emitted after its insn_start
    let start = b.insn_starts()[1].0;
    assert_eq!(b.insts.len() - start, 3, "insn_start, iconst, raise");
    assert!(matches!(b.insts[start].aux, Aux::Extra(0)));
}

const J_PLUS_8: [u8; 4] = 0x0080_006f_u32.to_le_bytes(); // jal zero, +8
const J_PLUS_4: [u8; 4] = 0x0040_006f_u32.to_le_bytes(); // jal zero, +4
const JAL_RA_PLUS_8: [u8; 4] = 0x0080_00ef_u32.to_le_bytes(); // jal ra, +8
const J_MINUS_4: [u8; 4] = 0xffdf_f06f_u32.to_le_bytes(); // jal zero, -4
const J_PLUS_PAGE: [u8; 4] = 0x0000_106f_u32.to_le_bytes(); // jal zero, +0x1000

#[test]
fn a_direct_jump_on_the_first_page_continues_the_block() {
    let code = [J_PLUS_8, ADDI, ADDI, ADDI].concat();
    let b = translate(0x1000, &code, TranslateLimits { max_insns: 3, ..Default::default() });
    assert_eq!(pcs(&b), [0x1000, 0x1008, 0x100c]);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1010));
    assert_eq!(b.guest_size, 12, "the bytes translated, not the span");
    // a call continues into the callee and still links
    let code = [JAL_RA_PLUS_8, ADDI, ADDI].concat();
    let b = translate(0x1000, &code, TranslateLimits { max_insns: 2, ..Default::default() });
    assert_eq!(pcs(&b), [0x1000, 0x1008]);
    let links_ra = b.insts.iter().any(|i| {
        i.op == Opcode::Set
            && b.insts[i.args[0].index()].op == Opcode::Const
            && b.insts[i.args[0].index()].imm == 0x1004
    });
    assert!(links_ra, "ra = 0x1004 is set:\n{}", ir::text::print(&b, Riscv64::new().decls()));
}

#[test]
fn jumps_not_followed_end_the_block() {
    // back to the block's start: a loop back-edge
    let b = translate(0x1000, &[ADDI, J_MINUS_4].concat(), TranslateLimits::default());
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1000));
    // to another page
    let b = translate(0x1000, &J_PLUS_PAGE, TranslateLimits::default());
    assert_eq!(last(&b), (Opcode::GotoTb, 0x2000));
    // without superblocks
    let b =
        translate(0x1000, &[J_PLUS_8, ADDI, ADDI].concat(), TranslateLimits { side_exits: 0, ..Default::default() });
    assert_eq!(pcs(&b), [0x1000]);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1008));
    // when not asked to
    let b = translate(
        0x1000,
        &[J_PLUS_8, ADDI, ADDI].concat(),
        TranslateLimits { follow_jumps: false, ..Default::default() },
    );
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1008));
    // a few jumps per block at most
    let b = translate(0x1000, &[J_PLUS_4; 8].concat(), TranslateLimits::default());
    assert_eq!(pcs(&b), [0x1000, 0x1004, 0x1008, 0x100c, 0x1010]);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1014));
}

#[test]
fn conditional_branches_become_side_exits_up_to_the_limit() {
    const BEQ_PLUS_8: [u8; 4] = [0x63, 0x84, 0x20, 0x00]; // beq ra, sp, +8
    let code = [BEQ_PLUS_8; 8].concat();
    let side_exits = |b: &Block| b.insts.iter().filter(|i| i.op == Opcode::ExitIf).count();
    // two side exits, and the third branch ends the block
    let b = translate(0x1000, &code, TranslateLimits { side_exits: 2, ..Default::default() });
    assert_eq!(pcs(&b), [0x1000, 0x1004, 0x1008]);
    assert_eq!(side_exits(&b), 3);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x100c));
    // none: the first branch ends the block
    let b = translate(0x1000, &code, TranslateLimits { side_exits: 0, ..Default::default() });
    assert_eq!(pcs(&b), [0x1000]);
    assert_eq!(last(&b), (Opcode::GotoTb, 0x1004));
    // unlimited: until the chaining slots run out, one kept for the final exit
    let b = translate(0x1000, &code, TranslateLimits::default());
    assert_eq!(b.insn_pcs().count(), ir::backend::MAX_CHAIN_SLOTS as usize - 1);
}
