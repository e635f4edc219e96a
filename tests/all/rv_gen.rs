//! Random valid RV64GC programs for the differential fuzzer (`rv_fuzz.rs`).
//!
//! A [`Program`] is straight-line code with nested forward branches and small bounded loops,
//! followed by nothing: it ends by falling off its last instruction. Every memory access goes
//! to a sandbox buffer of [`BUF_LEN`] bytes through reserved base registers, so that any 12-bit
//! offset stays inside it:
//! - `s0` (x8) = buffer + 2048 (loads and stores, `c.lw`-style compressed forms);
//! - `sp` (x2) = buffer + 1024 (`c.lwsp`-style forms);
//! - `s1` (x9) is only written by the `addi s1, s0, off` that precedes each LR/SC/AMO (an
//!   aligned address in the buffer; misaligned only in cases that may fault);
//! - `t6` (x31) is the loop counter (`li t6, n` ... `addi t6, t6, -1; bnez t6, top`).
//!
//! No other register is reserved. The random initial values favour the edge cases (0, -1,
//! INT_MIN, NaNs, infinities, subnormals, values at conversion limits, unboxed singles).
//!
//! Cases made with `may_fault` may also end in an exception (ecall, ebreak, an illegal
//! encoding, a misaligned atomic, an access to a read-only or unmapped page at
//! [`RO_PAGE`]/[`NO_PAGE`], an FP instruction with an invalid rounding mode); the others run to
//! their end on any RISC-V implementation, which is what the qemu-riscv64 comparison needs.
//!
//! All encodings are written here from the RISC-V Unprivileged ISA 20191213 (chapters 2, 5, 7,
//! 8, 11, 12, 16, 24) and the Bit-Manipulation extensions 1.0.0.

/// Sandbox buffer size: 4096 plus room for an 8-byte access at the highest offset.
pub const BUF_LEN: usize = 4096 + 16;
/// Guest page that is mapped read-only (in-process runs only).
pub const RO_PAGE: u64 = 0x4000;
/// Guest page that is not mapped (in-process runs only).
pub const NO_PAGE: u64 = 0x5000;

/// The fuzzer's PRNG: splitmix64 (deterministic, seedable, no dependency).
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    /// True with probability `p` percent.
    pub fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    /// One element of `s`.
    pub fn pick<T: Copy>(&mut self, s: &[T]) -> T {
        s[self.below(s.len() as u64) as usize]
    }
}

/// The seed of case `index` of a run seeded with `seed`.
pub fn case_seed(seed: u64, index: u64) -> u64 {
    let mut r = Rng(seed ^ index.wrapping_mul(0xd134_2543_de82_ef95));
    r.next()
}

/// Reserved registers (see the module doc).
pub const SP: u8 = 2;
/// Buffer base register (buffer + 2048).
pub const BASE: u8 = 8;
/// Atomic address register.
pub const AADDR: u8 = 9;
/// Loop counter.
pub const CNT: u8 = 31;

/// A generated program and its initial state.
#[derive(Clone, Debug)]
pub struct Program {
    /// Instruction bytes.
    pub code: Vec<u8>,
    /// Initial x registers; `x[SP]` and `x[BASE]` hold offsets from the buffer start (the
    /// runner adds the buffer's address).
    pub x: [u64; 32],
    /// Initial f registers.
    pub f: [u64; 32],
    /// Initial fflags (0..=31).
    pub fflags: u64,
    /// Initial frm (0..=4).
    pub frm: u64,
    /// Initial buffer contents.
    pub buf: Vec<u8>,
}

/// One element of the program before assembly.
#[derive(Clone, Copy, Debug)]
enum Ins {
    W(u32),
    H(u16),
    /// Conditional branch `funct3 rs1, rs2` to a label.
    B {
        f3: u32,
        rs1: u8,
        rs2: u8,
        to: usize,
    },
    /// `c.beqz` / `c.bnez` (rs1 in x8..x15).
    Cb {
        bnez: bool,
        rs1: u8,
        to: usize,
    },
    /// `jal rd`.
    Jal {
        rd: u8,
        to: usize,
    },
    /// `c.j`.
    Cj {
        to: usize,
    },
    /// `auipc tmp, 0; jalr rd, off(tmp)`.
    Jalr {
        tmp: u8,
        rd: u8,
        to: usize,
    },
    Label(usize),
}

// ---- encoders ----

fn r(f7: u32, rs2: u8, rs1: u8, f3: u32, rd: u8, op: u32) -> u32 {
    f7 << 25 | (rs2 as u32) << 20 | (rs1 as u32) << 15 | f3 << 12 | (rd as u32) << 7 | op
}
fn i(imm: i32, rs1: u8, f3: u32, rd: u8, op: u32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | (rs1 as u32) << 15 | f3 << 12 | (rd as u32) << 7 | op
}
fn s(imm: i32, rs2: u8, rs1: u8, f3: u32, op: u32) -> u32 {
    let imm = imm as u32;
    (imm >> 5 & 0x7f) << 25 | (rs2 as u32) << 20 | (rs1 as u32) << 15 | f3 << 12 | (imm & 0x1f) << 7 | op
}
fn b(off: i32, rs2: u8, rs1: u8, f3: u32) -> u32 {
    let o = off as u32;
    (o >> 12 & 1) << 31
        | (o >> 5 & 0x3f) << 25
        | (rs2 as u32) << 20
        | (rs1 as u32) << 15
        | f3 << 12
        | (o >> 1 & 0xf) << 8
        | (o >> 11 & 1) << 7
        | 0x63
}
fn jal(off: i32, rd: u8) -> u32 {
    let o = off as u32;
    (o >> 20 & 1) << 31
        | (o >> 1 & 0x3ff) << 21
        | (o >> 11 & 1) << 20
        | (o >> 12 & 0xff) << 12
        | (rd as u32) << 7
        | 0x6f
}
fn u(imm20: u32, rd: u8, op: u32) -> u32 {
    (imm20 & 0xfffff) << 12 | (rd as u32) << 7 | op
}
fn addi(rd: u8, rs1: u8, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x13)
}
fn cb(off: i32, rs1: u8, bnez: bool) -> u16 {
    let o = off as u32;
    let v = (if bnez { 7 } else { 6 }) << 13
        | (o >> 8 & 1) << 12
        | (o >> 3 & 3) << 10
        | ((rs1 - 8) as u32) << 7
        | (o >> 6 & 3) << 5
        | (o >> 1 & 3) << 3
        | (o >> 5 & 1) << 2
        | 1;
    v as u16
}
fn cj(off: i32) -> u16 {
    let o = off as u32;
    let v = 5 << 13
        | (o >> 11 & 1) << 12
        | (o >> 4 & 1) << 11
        | (o >> 8 & 3) << 9
        | (o >> 10 & 1) << 8
        | (o >> 6 & 1) << 7
        | (o >> 7 & 1) << 6
        | (o >> 1 & 7) << 3
        | (o >> 5 & 1) << 2
        | 1;
    v as u16
}

/// Public encoders the ELF builder of `rv_fuzz.rs` uses for its prologue and epilogue.
pub mod enc {
    /// `ld rd, off(rs1)`.
    pub fn ld(rd: u8, rs1: u8, off: i32) -> u32 {
        super::i(off, rs1, 3, rd, 0x03)
    }
    /// `sd rs2, off(rs1)`.
    pub fn sd(rs2: u8, rs1: u8, off: i32) -> u32 {
        super::s(off, rs2, rs1, 3, 0x23)
    }
    /// `fld rd, off(rs1)`.
    pub fn fld(rd: u8, rs1: u8, off: i32) -> u32 {
        super::i(off, rs1, 3, rd, 0x07)
    }
    /// `fsd rs2, off(rs1)`.
    pub fn fsd(rs2: u8, rs1: u8, off: i32) -> u32 {
        super::s(off, rs2, rs1, 3, 0x27)
    }
    /// `addi rd, rs1, imm`.
    pub fn addi(rd: u8, rs1: u8, imm: i32) -> u32 {
        super::addi(rd, rs1, imm)
    }
    /// `lui rd, imm20`.
    pub fn lui(rd: u8, imm20: u32) -> u32 {
        super::u(imm20, rd, 0x37)
    }
    /// `auipc rd, imm20`.
    pub fn auipc(rd: u8, imm20: u32) -> u32 {
        super::u(imm20, rd, 0x17)
    }
    /// `csrrw rd, csr, rs1`.
    pub fn csrrw(rd: u8, csr: u32, rs1: u8) -> u32 {
        super::i(csr as i32, rs1, 1, rd, 0x73)
    }
    /// `csrrs rd, csr, rs1`.
    pub fn csrrs(rd: u8, csr: u32, rs1: u8) -> u32 {
        super::i(csr as i32, rs1, 2, rd, 0x73)
    }
    /// `ecall`.
    pub const ECALL: u32 = 0x73;
}

// ---- initial values ----

const INT_SPECIAL: &[u64] = &[
    0,
    1,
    2,
    u64::MAX,
    u64::MAX - 1,
    1 << 63,
    (1 << 63) - 1,
    0x8000_0000,
    0x7fff_ffff,
    0xffff_ffff,
    0xffff_ffff_8000_0000,
    0x1_0000_0000,
    31,
    32,
    63,
    64,
    0x8000,
    0xffff,
    0x80,
    0xff,
];

const S_SPECIAL: &[u32] = &[
    0x0000_0000,
    0x8000_0000,
    0x3f80_0000,
    0xbf80_0000,
    0x3f00_0000,
    0x3fc0_0000,
    0x4020_0000,
    0xc020_0000,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0xffc0_0000,
    0x7f80_0001,
    0x7fa0_0000,
    0x7fc0_1234,
    0x0000_0001,
    0x8000_0001,
    0x007f_ffff,
    0x0080_0000,
    0x7f7f_ffff,
    0xff7f_ffff,
    0x4f00_0000,
    0xcf00_0000,
    0x4f80_0000,
    0x5f00_0000,
    0xdf00_0000,
    0x5f80_0000,
    0x4effffff,
    0xcf000001,
    0x3effffff,
    0x4b000001,
    0x3eaaaaab,
];

const D_SPECIAL: &[u64] = &[
    0,
    1 << 63,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x3fe0_0000_0000_0000,
    0x3ff8_0000_0000_0000,
    0x4004_0000_0000_0000,
    0xc004_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0xfff8_0000_0000_0000,
    0x7ff0_0000_0000_0001,
    0x7ff4_0000_0000_0000,
    0x7ff8_0000_0000_1234,
    1,
    0x8000_0000_0000_0001,
    0x000f_ffff_ffff_ffff,
    0x0010_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x41e0_0000_0000_0000,
    0xc1e0_0000_0000_0000,
    0x41df_ffff_ffc0_0000,
    0x41f0_0000_0000_0000,
    0x43e0_0000_0000_0000,
    0xc3e0_0000_0000_0000,
    0x43f0_0000_0000_0000,
    0x3fd5_5555_5555_5555,
    0x3810_0000_0000_0000,
    0x47ef_ffff_e000_0000,
    0x36a0_0000_0000_0000,
    0x3690_0000_0000_0000,
];

fn int_value(r: &mut Rng) -> u64 {
    match r.below(8) {
        0..=2 => r.pick(INT_SPECIAL),
        3 => r.range(-100, 100) as u64,
        4 => r.next() as i32 as i64 as u64,
        5 => r.pick(INT_SPECIAL) ^ (1 << r.below(64)),
        _ => r.next(),
    }
}

fn single_bits(r: &mut Rng) -> u32 {
    match r.below(4) {
        0..=1 => r.pick(S_SPECIAL),
        2 => r.pick(S_SPECIAL) ^ (1 << r.below(23)),
        _ => r.next() as u32,
    }
}

fn double_bits(r: &mut Rng) -> u64 {
    match r.below(4) {
        0..=1 => r.pick(D_SPECIAL),
        2 => r.pick(D_SPECIAL) ^ (1 << r.below(52)),
        _ => r.next(),
    }
}

fn fp_value(r: &mut Rng) -> u64 {
    match r.below(10) {
        0..=3 => 0xffff_ffff_0000_0000 | single_bits(r) as u64,
        4..=7 => double_bits(r),
        // almost boxed: a single that must read as the canonical NaN
        8 => 0xffff_fffe_0000_0000 | single_bits(r) as u64,
        _ => r.next(),
    }
}

// ---- the generator ----

/// Generation options.
#[derive(Clone, Copy, Debug)]
pub struct Opts {
    /// The case may end in a guest exception (see the module doc).
    pub may_fault: bool,
    /// Leave out what qemu-riscv64 7.2 gets wrong: `ctzw` of a value whose low 32 bits are
    /// zero returns the trailing zeros of all 64 bits there (63 for 1 << 63) instead of 32.
    pub qemu_compat: bool,
}

struct Gen<'a> {
    r: &'a mut Rng,
    out: Vec<Ins>,
    labels: usize,
    opts: Opts,
    /// A faulting item was emitted (at most one per case).
    faulted: bool,
}

/// Integer registers a random instruction may write.
const WRITABLE: &[u8] =
    &[1, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30];
/// x8..x15 registers a compressed instruction may write.
const CWRITABLE: &[u8] = &[10, 11, 12, 13, 14, 15];

impl Gen<'_> {
    fn label(&mut self) -> usize {
        self.labels += 1;
        self.labels - 1
    }
    fn w(&mut self, v: u32) {
        self.out.push(Ins::W(v));
    }
    fn h(&mut self, v: u16) {
        self.out.push(Ins::H(v));
    }
    fn rd(&mut self) -> u8 {
        if self.r.pct(3) {
            0
        } else {
            self.r.pick(WRITABLE)
        }
    }
    fn rs(&mut self) -> u8 {
        self.r.below(32) as u8
    }
    fn crd(&mut self) -> u8 {
        self.r.pick(CWRITABLE)
    }
    fn crs(&mut self) -> u8 {
        8 + self.r.below(8) as u8
    }
    fn fr(&mut self) -> u8 {
        self.r.below(32) as u8
    }
    /// A rounding-mode field: static modes, or dyn (7) half of the time.
    fn rm(&mut self) -> u32 {
        if self.r.pct(50) {
            7
        } else {
            self.r.below(5) as u32
        }
    }

    fn seq(&mut self, n: usize, depth: u32, in_loop: bool) {
        for _ in 0..n {
            self.item(depth, in_loop);
        }
    }

    fn item(&mut self, depth: u32, in_loop: bool) {
        let k = self.r.below(120);
        match k {
            0..=24 => self.int_r(),
            25..=37 => self.int_i(),
            38..=40 => self.int_unary(),
            41..=42 => self.lui_auipc(),
            43..=53 => self.compressed_alu(),
            54..=67 => self.mem(),
            68..=71 => self.atomic(),
            72..=95 => self.fp(),
            96..=98 => self.csr(),
            99..=104 if depth < 3 => self.forward_branch(depth, in_loop),
            105..=106 if depth == 0 && !in_loop => self.loop_(),
            107..=108 if depth < 3 => self.forward_jump(depth, in_loop),
            109..=110 if self.opts.may_fault && !self.faulted => self.fault(),
            _ => self.int_r(),
        }
    }

    fn int_r(&mut self) {
        // (funct7, funct3, opcode)
        const OPS: &[(u32, u32, u32)] = &[
            (0, 0, 0x33),
            (0x20, 0, 0x33),
            (0, 1, 0x33),
            (0, 2, 0x33),
            (0, 3, 0x33),
            (0, 4, 0x33),
            (0, 5, 0x33),
            (0x20, 5, 0x33),
            (0, 6, 0x33),
            (0, 7, 0x33),
            (1, 0, 0x33),
            (1, 1, 0x33),
            (1, 2, 0x33),
            (1, 3, 0x33),
            (1, 4, 0x33),
            (1, 5, 0x33),
            (1, 6, 0x33),
            (1, 7, 0x33),
            (0x10, 2, 0x33),
            (0x10, 4, 0x33),
            (0x10, 6, 0x33),
            (0x20, 7, 0x33),
            (0x20, 6, 0x33),
            (0x20, 4, 0x33),
            (5, 6, 0x33),
            (5, 7, 0x33),
            (5, 4, 0x33),
            (5, 5, 0x33),
            (0x30, 1, 0x33),
            (0x30, 5, 0x33),
            (0x24, 1, 0x33),
            (0x24, 5, 0x33),
            (0x34, 1, 0x33),
            (0x14, 1, 0x33),
            (0, 0, 0x3b),
            (0x20, 0, 0x3b),
            (0, 1, 0x3b),
            (0, 5, 0x3b),
            (0x20, 5, 0x3b),
            (1, 0, 0x3b),
            (1, 4, 0x3b),
            (1, 5, 0x3b),
            (1, 6, 0x3b),
            (1, 7, 0x3b),
            (4, 0, 0x3b),
            (0x10, 2, 0x3b),
            (0x10, 4, 0x3b),
            (0x10, 6, 0x3b),
            (0x30, 1, 0x3b),
            (0x30, 5, 0x3b),
        ];
        let (f7, f3, op) = self.r.pick(OPS);
        let (rd, a, c) = (self.rd(), self.rs(), self.rs());
        self.w(r(f7, c, a, f3, rd, op));
    }

    fn imm12(&mut self) -> i32 {
        match self.r.below(4) {
            0 => self.r.pick(&[0, 1, -1, 2047, -2048, 0x7ff, 31, 32, 63]),
            1 => self.r.range(-16, 16) as i32,
            _ => self.r.range(-2048, 2047) as i32,
        }
    }

    fn int_i(&mut self) {
        let (rd, a) = (self.rd(), self.rs());
        let imm = self.imm12();
        let sh6 = self.r.below(64) as i32;
        let sh5 = self.r.below(32) as i32;
        let v = match self.r.below(17) {
            0 => i(imm, a, 0, rd, 0x13),
            1 => i(imm, a, 2, rd, 0x13),
            2 => i(imm, a, 3, rd, 0x13),
            3 => i(imm, a, 4, rd, 0x13),
            4 => i(imm, a, 6, rd, 0x13),
            5 => i(imm, a, 7, rd, 0x13),
            6 => i(sh6, a, 1, rd, 0x13),
            7 => i(sh6, a, 5, rd, 0x13),
            8 => i(0x400 | sh6, a, 5, rd, 0x13),
            9 => i(imm, a, 0, rd, 0x1b),
            10 => i(sh5, a, 1, rd, 0x1b),
            11 => i(sh5, a, 5, rd, 0x1b),
            12 => i(0x400 | sh5, a, 5, rd, 0x1b),
            // rori, roriw, slli.uw
            13 => i(0x600 | sh6, a, 5, rd, 0x13),
            14 => i(0x600 | sh5, a, 5, rd, 0x1b),
            15 => i(0x080 | sh6, a, 1, rd, 0x1b),
            // bclri, bexti, binvi, bseti
            _ => {
                let (hi, f3) = self.r.pick(&[(0x480, 1), (0x480, 5), (0x680, 1), (0x280, 1)]);
                i(hi | sh6, a, f3, rd, 0x13)
            }
        };
        self.w(v);
    }

    fn int_unary(&mut self) {
        let (rd, a) = (self.rd(), self.rs());
        let v = match self.r.below(11) {
            0 => i(0x600, a, 1, rd, 0x13),                           // clz
            1 => i(0x601, a, 1, rd, 0x13),                           // ctz
            2 => i(0x602, a, 1, rd, 0x13),                           // cpop
            3 => i(0x604, a, 1, rd, 0x13),                           // sext.b
            4 => i(0x605, a, 1, rd, 0x13),                           // sext.h
            5 => i(0x287, a, 5, rd, 0x13),                           // orc.b
            6 => i(0x6b8, a, 5, rd, 0x13),                           // rev8
            7 => i(0x600, a, 1, rd, 0x1b),                           // clzw
            8 if !self.opts.qemu_compat => i(0x601, a, 1, rd, 0x1b), // ctzw
            8 => i(0x600, a, 1, rd, 0x1b),
            9 => i(0x602, a, 1, rd, 0x1b), // cpopw
            _ => r(4, 0, a, 4, rd, 0x3b),  // zext.h
        };
        self.w(v);
    }

    fn lui_auipc(&mut self) {
        let rd = self.rd();
        let imm = self.r.next() as u32;
        let op = if self.r.pct(50) { 0x37 } else { 0x17 };
        self.w(u(imm, rd, op));
    }

    fn compressed_alu(&mut self) {
        let imm6 = self.r.below(64) as u16;
        let nz6 = 1 + self.r.below(63) as u16;
        match self.r.below(15) {
            0 => {
                let rd = self.r.pick(WRITABLE) as u16;
                self.h((imm6 >> 5) << 12 | rd << 7 | (imm6 & 31) << 2 | 1); // c.addi
            }
            1 => {
                let rd = self.r.pick(WRITABLE) as u16;
                self.h(1 << 13 | (imm6 >> 5) << 12 | rd << 7 | (imm6 & 31) << 2 | 1);
                // c.addiw
            }
            2 => {
                let rd = self.r.pick(WRITABLE) as u16;
                self.h(2 << 13 | (imm6 >> 5) << 12 | rd << 7 | (imm6 & 31) << 2 | 1);
                // c.li
            }
            3 => {
                let rd = self.r.pick(WRITABLE) as u16;
                self.h(3 << 13 | (nz6 >> 5) << 12 | rd << 7 | (nz6 & 31) << 2 | 1);
                // c.lui
            }
            4..=6 => {
                // c.srli, c.srai, c.andi
                let f2 = self.r.below(3) as u16;
                let v = if f2 == 2 { imm6 } else { nz6 };
                let rd = (self.crd() - 8) as u16;
                self.h(4 << 13 | (v >> 5) << 12 | f2 << 10 | rd << 7 | (v & 31) << 2 | 1);
            }
            7..=9 => {
                // c.sub c.xor c.or c.and c.subw c.addw
                let (b12, f2) = self.r.pick(&[(0u16, 0u16), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]);
                let rd = (self.crd() - 8) as u16;
                let rs2 = (self.crs() - 8) as u16;
                self.h(4 << 13 | b12 << 12 | 3 << 10 | rd << 7 | f2 << 5 | rs2 << 2 | 1);
            }
            10 => {
                let rd = self.r.pick(WRITABLE) as u16;
                self.h((nz6 >> 5) << 12 | rd << 7 | (nz6 & 31) << 2 | 2); // c.slli
            }
            11 | 12 => {
                // c.mv, c.add
                let rd = self.r.pick(WRITABLE) as u16;
                let rs2 = 1 + self.r.below(31) as u16;
                let add = self.r.below(2) as u16;
                self.h(4 << 13 | add << 12 | rd << 7 | rs2 << 2 | 2);
            }
            _ => {
                // c.addi4spn: rd' = sp + nzuimm (multiple of 4, 4..1020)
                let imm = (1 + self.r.below(255) as u16) * 4;
                let rd = (self.crd() - 8) as u16;
                let enc = (imm >> 4 & 3) << 11 | (imm >> 6 & 15) << 7 | (imm >> 2 & 1) << 6 | (imm >> 3 & 1) << 5;
                self.h(enc | rd << 2);
            }
        }
    }

    /// A buffer offset from `s0` for an access of `size` bytes: any 12-bit value (the buffer
    /// spans s0-2048 .. s0+2048+16), biased towards misaligned and edge offsets.
    fn off(&mut self, size: i32) -> i32 {
        match self.r.below(4) {
            0 => self.r.range(-2048, 2047) as i32,
            1 => self.r.range(-8, 8) as i32 * size + self.r.range(0, size as i64 - 1) as i32,
            2 => self.r.pick(&[-2048, 2047, 2040, 2044, 2046, -2047, 0]),
            _ => (self.r.range(-256, 255) as i32) * size,
        }
    }

    fn mem(&mut self) {
        match self.r.below(10) {
            0..=2 => {
                let f3 = self.r.below(7) as u32;
                let size = 1 << (f3 & 3);
                let (rd, off) = (self.rd(), self.off(size));
                self.w(i(off, BASE, f3, rd, 0x03));
            }
            3..=4 => {
                let f3 = self.r.below(4) as u32;
                let (rs2, off) = (self.rs(), self.off(1 << f3));
                self.w(s(off, rs2, BASE, f3, 0x23));
            }
            5 => {
                let dbl = self.r.pct(50);
                let (fd, off) = (self.fr(), self.off(if dbl { 8 } else { 4 }));
                let f3 = if dbl { 3 } else { 2 };
                if self.r.pct(50) {
                    self.w(i(off, BASE, f3, fd, 0x07));
                } else {
                    self.w(s(off, fd, BASE, f3, 0x27));
                }
            }
            6 | 7 => {
                // c.lw c.ld c.fld c.sw c.sd c.fsd with rs1' = s0
                let (f3, size) = self.r.pick(&[(2u16, 4u16), (3, 8), (1, 8), (6, 4), (7, 8), (5, 8)]);
                let store = f3 >= 5;
                let reg = if store || f3 == 1 { self.crs() } else { self.crd() } - 8;
                let imm = self.r.below(32) as u16 * size;
                let imm_bits = if size == 4 {
                    (imm >> 3 & 7) << 10 | (imm >> 2 & 1) << 6 | (imm >> 6 & 1) << 5
                } else {
                    (imm >> 3 & 7) << 10 | (imm >> 6 & 3) << 5
                };
                self.h(f3 << 13 | imm_bits | ((BASE - 8) as u16) << 7 | (reg as u16) << 2);
            }
            _ => {
                // sp-relative: c.lwsp c.ldsp c.fldsp c.swsp c.sdsp c.fsdsp
                let (f3, size) = self.r.pick(&[(2u16, 4u16), (3, 8), (1, 8), (6, 4), (7, 8), (5, 8)]);
                let imm = self.r.below(64) as u16 * size;
                if f3 >= 5 {
                    let rs2 = if f3 == 5 { self.fr() } else { self.rs() } as u16;
                    let bits = if size == 4 {
                        (imm >> 2 & 15) << 9 | (imm >> 6 & 3) << 7
                    } else {
                        (imm >> 3 & 7) << 10 | (imm >> 6 & 7) << 7
                    };
                    self.h(f3 << 13 | bits | rs2 << 2 | 2);
                } else {
                    let rd = if f3 == 1 { self.fr() } else { self.r.pick(WRITABLE) } as u16;
                    let bits = if size == 4 {
                        (imm >> 5 & 1) << 12 | (imm >> 2 & 7) << 4 | (imm >> 6 & 3) << 2
                    } else {
                        (imm >> 5 & 1) << 12 | (imm >> 3 & 3) << 5 | (imm >> 6 & 7) << 2
                    };
                    self.h(f3 << 13 | bits | rd << 7 | 2);
                }
            }
        }
    }

    fn atomic(&mut self) {
        let dbl = self.r.pct(50);
        let size = if dbl { 8 } else { 4 };
        let f3 = if dbl { 3 } else { 2 };
        let off = self.r.range(-2048 / size, 2040 / size) as i32 * size as i32;
        self.w(addi(AADDR, BASE, off));
        let (aq, rl) = (self.r.below(2) as u32, self.r.below(2) as u32);
        if self.r.pct(30) {
            // LR, a few unrelated instructions (maybe a store), SC to the same address
            let rd = self.rd();
            self.w(r(2 << 2 | aq << 1 | rl, 0, AADDR, f3, rd, 0x2f));
            for _ in 0..self.r.below(3) {
                match self.r.below(3) {
                    0 => self.int_r(),
                    1 => {
                        let (rs2, o) = (self.rs(), (off + self.r.pick(&[0, 0, 4, -4])).clamp(-2048, 2040));
                        self.w(s(o, rs2, BASE, f3, 0x23));
                    }
                    _ => self.int_i(),
                }
            }
            let (rd, rs2) = (self.rd(), self.rs());
            self.w(r(3 << 2 | aq << 1 | rl, rs2, AADDR, f3, rd, 0x2f));
        } else {
            let f5 = self.r.pick(&[1u32, 0, 4, 0xc, 8, 0x10, 0x14, 0x18, 0x1c]);
            let (rd, rs2) = (self.rd(), self.rs());
            self.w(r(f5 << 2 | aq << 1 | rl, rs2, AADDR, f3, rd, 0x2f));
        }
    }

    fn fp(&mut self) {
        let fmt = self.r.below(2) as u32;
        let (fd, a, c, d) = (self.fr(), self.fr(), self.fr(), self.fr());
        let rm = self.rm();
        let v = match self.r.below(26) {
            0..=3 => r([0x00, 0x04, 0x08, 0x0c][self.r.below(4) as usize] | fmt, c, a, rm, fd, 0x53),
            4 => r(0x2c | fmt, 0, a, rm, fd, 0x53),
            5 | 6 => r(0x10 | fmt, c, a, self.r.below(3) as u32, fd, 0x53),
            7 => r(0x14 | fmt, c, a, self.r.below(2) as u32, fd, 0x53),
            8..=10 => {
                let op = self.r.pick(&[0x43u32, 0x47, 0x4b, 0x4f]);
                (d as u32) << 27 | fmt << 25 | (c as u32) << 20 | (a as u32) << 15 | rm << 12 | (fd as u32) << 7 | op
            }
            11 | 12 => {
                let rd = self.rd();
                r(0x50 | fmt, c, a, self.r.below(3) as u32, rd, 0x53) // fle flt feq
            }
            13 => {
                let rd = self.rd();
                r(0x70 | fmt, 0, a, 1, rd, 0x53) // fclass
            }
            14..=16 => {
                let rd = self.rd();
                r(0x60 | fmt, self.r.below(4) as u8, a, rm, rd, 0x53) // fcvt.{w,wu,l,lu}.{s,d}
            }
            17..=18 => {
                let rs = self.rs();
                r(0x68 | fmt, self.r.below(4) as u8, rs, rm, fd, 0x53) // fcvt.{s,d}.{w,wu,l,lu}
            }
            19 => r(0x20, 1, a, rm, fd, 0x53), // fcvt.s.d
            20 => r(0x21, 0, a, rm, fd, 0x53), // fcvt.d.s
            21 | 22 => {
                let rd = self.rd();
                r(0x70 | fmt, 0, a, 0, rd, 0x53) // fmv.x.w / fmv.x.d
            }
            _ => {
                let rs = self.rs();
                r(0x78 | fmt, 0, rs, 0, fd, 0x53) // fmv.w.x / fmv.d.x
            }
        };
        self.w(v);
    }

    fn csr(&mut self) {
        let rd = self.rd();
        let (csr, max) = self.r.pick(&[(1u32, 31u32), (2, 4), (3, 0xff)]);
        match self.r.below(6) {
            // reads (frcsr, frflags, frrm) and set/clear of flag bits
            0 | 1 => self.w(i(csr as i32, 0, 2, rd, 0x73)),
            2 if csr != 2 => {
                let (uimm, f3) = (self.r.below(32) as u8, self.r.pick(&[6, 7]));
                self.w(i(csr as i32, uimm, f3, rd, 0x73));
            }
            // writes with a valid immediate (frm <= 4 unless faults are allowed)
            _ => {
                let mut v = self.r.below(max as u64 + 1) as u32 & 31;
                if csr == 2 && self.opts.may_fault && self.r.pct(10) {
                    v = 5 + self.r.below(3) as u32;
                    self.faulted = true;
                }
                self.w(i(csr as i32, v as u8, 5, rd, 0x73));
                if csr == 3 && self.r.pct(50) {
                    // a register write of the whole fcsr, frm included
                    let t = self.r.pick(WRITABLE);
                    let frm = self.r.below(5) as i32;
                    let flags = self.r.below(32) as i32;
                    self.w(addi(t, 0, frm << 5 | flags));
                    self.w(i(3, t, 1, rd, 0x73));
                }
            }
        }
    }

    fn forward_branch(&mut self, depth: u32, in_loop: bool) {
        let to = self.label();
        match self.r.below(4) {
            0 => {
                let rs1 = self.crs();
                let bnez = self.r.pct(50);
                self.out.push(Ins::Cb { bnez, rs1, to });
            }
            _ => {
                let f3 = self.r.pick(&[0u32, 1, 4, 5, 6, 7]);
                let (rs1, rs2) = (self.rs(), self.rs());
                self.out.push(Ins::B { f3, rs1, rs2, to });
            }
        }
        let n = 1 + self.r.below(5) as usize;
        self.seq(n, depth + 1, in_loop);
        self.out.push(Ins::Label(to));
    }

    fn forward_jump(&mut self, depth: u32, in_loop: bool) {
        let to = self.label();
        match self.r.below(3) {
            0 => self.out.push(Ins::Cj { to }),
            1 => {
                let rd = self.rd();
                self.out.push(Ins::Jal { rd, to });
            }
            _ => {
                let tmp = self.r.pick(WRITABLE);
                let rd = self.rd();
                self.out.push(Ins::Jalr { tmp, rd, to });
            }
        }
        let n = self.r.below(3) as usize;
        self.seq(n, depth + 1, in_loop);
        self.out.push(Ins::Label(to));
    }

    fn loop_(&mut self) {
        let n = 1 + self.r.below(4) as i32;
        self.w(addi(CNT, 0, n));
        let top = self.label();
        self.out.push(Ins::Label(top));
        let body = 1 + self.r.below(8) as usize;
        self.seq(body, 1, true);
        self.w(addi(CNT, CNT, -1));
        self.out.push(Ins::B { f3: 1, rs1: CNT, rs2: 0, to: top });
    }

    fn fault(&mut self) {
        self.faulted = true;
        match self.r.below(8) {
            0 => self.w(0x73),        // ecall
            1 => self.w(0x0010_0073), // ebreak
            2 => self.h(0),           // illegal
            3 => {
                // misaligned atomic
                let off = self.r.range(-200, 200) as i32 * 8 + self.r.range(1, 7) as i32;
                self.w(addi(AADDR, BASE, off));
                let f5 = self.r.pick(&[1u32, 0, 2, 3, 0x1c]);
                let (rd, rs2) = (self.rd(), self.rs());
                let f3 = self.r.range(2, 3) as u32;
                self.w(r(f5 << 2, rs2, AADDR, f3, rd, 0x2f));
            }
            4 => {
                // load from the unmapped page, store to the read-only one
                let store = self.r.pct(50);
                let page = if store { RO_PAGE } else { NO_PAGE };
                self.w(u((page >> 12) as u32, AADDR, 0x37));
                let off = self.r.range(0, 2047) as i32;
                let rd = self.rd();
                let f3 = self.r.below(4) as u32;
                self.w(if store { s(off, rd, AADDR, f3, 0x23) } else { i(off, AADDR, f3, rd, 0x03) });
            }
            5 => {
                // an FP op with a reserved static rounding mode
                let (fd, a, c) = (self.fr(), self.fr(), self.fr());
                let rm = self.r.range(5, 6) as u32;
                self.w(r(0x01, c, a, rm, fd, 0x53));
            }
            6 => {
                // an invalid frm, then an FP op with the dynamic mode
                let frm = self.r.range(5, 7) as u8;
                self.w(i(2, frm, 5, 0, 0x73));
                let (fd, a, c) = (self.fr(), self.fr(), self.fr());
                self.w(r(0x00, c, a, 7, fd, 0x53));
            }
            _ => self.w(0xffff_ffff),
        }
    }
}

fn assemble(ins: &[Ins]) -> Vec<u8> {
    let size = |x: &Ins| match x {
        Ins::W(_) | Ins::B { .. } | Ins::Jal { .. } => 4,
        Ins::H(_) | Ins::Cb { .. } | Ins::Cj { .. } => 2,
        Ins::Jalr { .. } => 8,
        Ins::Label(_) => 0,
    };
    let mut at = vec![0i32; ins.len()];
    let mut labels = std::collections::HashMap::new();
    let mut pc = 0i32;
    for (k, x) in ins.iter().enumerate() {
        at[k] = pc;
        if let Ins::Label(l) = x {
            labels.insert(*l, pc);
        }
        pc += size(x);
    }
    let mut out = Vec::with_capacity(pc as usize);
    for (k, x) in ins.iter().enumerate() {
        let off = |to: &usize| labels[to] - at[k];
        match x {
            Ins::W(v) => out.extend_from_slice(&v.to_le_bytes()),
            Ins::H(v) => out.extend_from_slice(&v.to_le_bytes()),
            Ins::B { f3, rs1, rs2, to } => {
                let o = off(to);
                assert!((-4096..4096).contains(&o), "branch out of range");
                out.extend_from_slice(&b(o, *rs2, *rs1, *f3).to_le_bytes());
            }
            Ins::Cb { bnez, rs1, to } => {
                let o = off(to);
                assert!((-256..256).contains(&o), "c.beqz out of range");
                out.extend_from_slice(&cb(o, *rs1, *bnez).to_le_bytes());
            }
            Ins::Jal { rd, to } => out.extend_from_slice(&jal(off(to), *rd).to_le_bytes()),
            Ins::Cj { to } => {
                let o = off(to);
                assert!((-2048..2048).contains(&o), "c.j out of range");
                out.extend_from_slice(&cj(o).to_le_bytes());
            }
            Ins::Jalr { tmp, rd, to } => {
                let o = off(to);
                assert!(o < 2048, "jalr out of range");
                out.extend_from_slice(&u(0, *tmp, 0x17).to_le_bytes());
                out.extend_from_slice(&i(o, *tmp, 0, *rd, 0x67).to_le_bytes());
            }
            Ins::Label(_) => {}
        }
    }
    out
}

/// Generates the program of `seed`.
pub fn generate(seed: u64, opts: Opts) -> Program {
    let mut rng = Rng(seed);
    let mut x = [0u64; 32];
    for v in x.iter_mut().skip(1) {
        *v = int_value(&mut rng);
    }
    x[SP as usize] = 1024;
    x[BASE as usize] = 2048;
    let mut f = [0u64; 32];
    for v in f.iter_mut() {
        *v = fp_value(&mut rng);
    }
    let fflags = if rng.pct(50) { 0 } else { rng.below(32) };
    let frm = rng.below(5);
    let mut buf = vec![0u8; BUF_LEN];
    for chunk in buf.chunks_mut(8) {
        let v = match rng.below(4) {
            0 => int_value(&mut rng),
            1 => fp_value(&mut rng),
            _ => rng.next(),
        };
        let n = chunk.len();
        chunk.copy_from_slice(&v.to_le_bytes()[..n]);
    }
    let n = 5 + rng.below(36) as usize;
    let mut g = Gen { r: &mut rng, out: Vec::new(), labels: 0, opts, faulted: false };
    g.seq(n, 0, false);
    if opts.may_fault && !g.faulted && g.r.pct(50) {
        g.fault();
        let tail = g.r.below(3) as usize;
        g.seq(tail, 0, false);
    }
    let code = assemble(&g.out);
    Program { code, x, f, fflags, frm, buf }
}

/// objdump-style listing of `code` at `base`, one instruction a line.
pub fn listing(code: &[u8], base: u64) -> String {
    let mut s = String::new();
    let mut k = 0;
    while k + 1 < code.len() {
        let lo = u16::from_le_bytes([code[k], code[k + 1]]);
        let (insn, len) = if lo & 3 == 3 && k + 3 < code.len() {
            (u32::from_le_bytes([code[k], code[k + 1], code[k + 2], code[k + 3]]), 4)
        } else {
            (lo as u32, 2)
        };
        let pc = base + k as u64;
        let hex = if len == 4 { format!("{insn:08x}") } else { format!("    {insn:04x}") };
        s.push_str(&format!("  {pc:#8x}:  {hex}  {}\n", frontend::riscv64::disas::disas(pc, insn, len)));
        k += len as usize;
    }
    s
}
