//! A minimal x86-64 instruction encoder for the baseline tier: the handful of forms its
//! templates use (64/32-bit moves and ALU ops between a register and a register, an
//! immediate or `[base + index + disp]`, shifts, compares, setcc/cmovcc, jumps with
//! rel32 labels fixed up at the end, indirect jumps and calls).
//!
//! Written by hand because no maintained crate fits: Cranelift's assembler is internal to
//! cranelift-codegen, and the iced-x86/dynasm encoders would add a second code generator
//! stack for the ~40 forms needed here. The encodings follow the Intel SDM vol. 2 (REX
//! prefix, ModRM/SIB); the tests compare every form against capstone's disassembly.

/// A general-purpose register, by hardware number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(pub u8);

pub const RAX: Reg = Reg(0);
pub const RCX: Reg = Reg(1);
pub const RDX: Reg = Reg(2);
pub const RBX: Reg = Reg(3);
pub const RSP: Reg = Reg(4);
pub const RBP: Reg = Reg(5);
pub const RSI: Reg = Reg(6);
pub const RDI: Reg = Reg(7);
pub const R8: Reg = Reg(8);
pub const R15: Reg = Reg(15);

/// A memory operand: `[base + index + disp]`.
#[derive(Clone, Copy, Debug)]
pub struct Mem {
    pub base: Reg,
    pub index: Option<Reg>,
    pub disp: i32,
}

/// `[base + disp]`.
pub fn mem(base: Reg, disp: i32) -> Mem {
    Mem { base, index: None, disp }
}

/// `[base + index]`.
pub fn mem_index(base: Reg, index: Reg) -> Mem {
    Mem { base, index: Some(index), disp: 0 }
}

/// An operand: register or memory.
#[derive(Clone, Copy, Debug)]
pub enum Rm {
    Reg(Reg),
    Mem(Mem),
}

/// Operand width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum W {
    /// 32-bit (writes zero-extend to 64).
    D,
    /// 64-bit (REX.W).
    Q,
}

/// The eight classic ALU ops, by their /digit (and `op r/m, r` opcode = digit * 8 + 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    Add = 0,
    Or = 1,
    And = 4,
    Sub = 5,
    Xor = 6,
    Cmp = 7,
}

/// Shift ops, by their /digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Rol = 0,
    Ror = 1,
    Shl = 4,
    Shr = 5,
    Sar = 7,
}

/// Condition codes (the low nibble of jcc/setcc/cmovcc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cc {
    B = 2,
    Ae = 3,
    E = 4,
    Ne = 5,
    Be = 6,
    A = 7,
    L = 0xc,
    Ge = 0xd,
    Le = 0xe,
    G = 0xf,
}

/// A jump target inside the code being assembled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(u32);

/// The encoder: bytes, labels and the rel32 fields still to patch.
#[derive(Default)]
pub struct Asm {
    pub buf: Vec<u8>,
    labels: Vec<u32>,
    fixups: Vec<(usize, Label)>,
}

const UNBOUND: u32 = u32::MAX;

impl Asm {
    /// Empties the buffer for a new function (keeps allocations).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.labels.clear();
        self.fixups.clear();
    }

    /// Current offset.
    pub fn pos(&self) -> u32 {
        self.buf.len() as u32
    }

    pub fn new_label(&mut self) -> Label {
        self.labels.push(UNBOUND);
        Label(self.labels.len() as u32 - 1)
    }

    pub fn bind(&mut self, l: Label) {
        self.labels[l.0 as usize] = self.pos();
    }

    /// Patches every jump to its label. False if a label was never bound (a bug).
    pub fn finish(&mut self) -> bool {
        for &(at, l) in &self.fixups {
            let target = self.labels[l.0 as usize];
            if target == UNBOUND {
                return false;
            }
            let rel = target as i64 - (at as i64 + 4);
            self.buf[at..at + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        true
    }

    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// REX prefix (emitted if any bit is needed or `force` for byte registers sil/dil).
    fn rex(&mut self, w: bool, reg: u8, rm: &Rm, force: bool) {
        let (x, b) = match rm {
            Rm::Reg(r) => (0, r.0 >> 3),
            Rm::Mem(m) => (m.index.map_or(0, |i| i.0 >> 3), m.base.0 >> 3),
        };
        let rex = 0x40 | (w as u8) << 3 | (reg >> 3) << 2 | x << 1 | b;
        if rex != 0x40 || force {
            self.byte(rex);
        }
    }

    /// ModRM (+ SIB + displacement) for `reg` and `rm`.
    fn modrm(&mut self, reg: u8, rm: &Rm) {
        let reg = (reg & 7) << 3;
        match *rm {
            Rm::Reg(r) => self.byte(0xc0 | reg | (r.0 & 7)),
            Rm::Mem(m) => {
                let base = m.base.0 & 7;
                // rbp/r13 as base need a displacement; disp 0 otherwise has no byte
                let md = if m.disp == 0 && base != 5 {
                    0
                } else if i8::try_from(m.disp).is_ok() {
                    1
                } else {
                    2
                };
                match m.index {
                    Some(i) => {
                        self.byte(md << 6 | reg | 4);
                        self.byte((i.0 & 7) << 3 | base);
                    }
                    None if base == 4 => {
                        self.byte(md << 6 | reg | 4);
                        self.byte(0x24);
                    }
                    None => self.byte(md << 6 | reg | base),
                }
                match md {
                    1 => self.byte(m.disp as i8 as u8),
                    2 => self.bytes(&m.disp.to_le_bytes()),
                    _ => {}
                }
            }
        }
    }

    /// `opcode reg, rm` with optional REX.W.
    fn op(&mut self, w: W, opcode: &[u8], reg: u8, rm: Rm) {
        self.rex(w == W::Q, reg, &rm, false);
        self.bytes(opcode);
        self.modrm(reg, &rm);
    }

    /// mov reg, rm
    pub fn load(&mut self, w: W, dst: Reg, src: Rm) {
        self.op(w, &[0x8b], dst.0, src);
    }

    /// mov rm, reg
    pub fn store(&mut self, w: W, dst: Rm, src: Reg) {
        self.op(w, &[0x89], src.0, dst);
    }

    /// mov byte/word [m], reg (size 1 or 2).
    pub fn store_small(&mut self, size: u8, dst: Mem, src: Reg) {
        if size == 2 {
            self.byte(0x66);
            self.op(W::D, &[0x89], src.0, Rm::Mem(dst));
        } else {
            // sil/dil need a REX prefix to mean the low byte
            self.rex(false, src.0, &Rm::Mem(dst), src.0 >= 4);
            self.byte(0x88);
            self.modrm(src.0, &Rm::Mem(dst));
        }
    }

    /// movzx/movsx reg64, byte/word [rm]; movsxd reg64, dword rm.
    pub fn load_ext(&mut self, dst: Reg, src: Rm, size: u8, signed: bool) {
        match (size, signed) {
            (1, false) => self.op(W::D, &[0x0f, 0xb6], dst.0, src),
            (2, false) => self.op(W::D, &[0x0f, 0xb7], dst.0, src),
            (1, true) => self.op(W::Q, &[0x0f, 0xbe], dst.0, src),
            (2, true) => self.op(W::Q, &[0x0f, 0xbf], dst.0, src),
            (4, false) => self.op(W::D, &[0x8b], dst.0, src),
            (4, true) => self.op(W::Q, &[0x63], dst.0, src),
            _ => self.op(W::Q, &[0x8b], dst.0, src),
        }
    }

    /// Loads a 64-bit constant into `dst` in the shortest form.
    pub fn mov_imm(&mut self, dst: Reg, imm: u64) {
        if imm <= u32::MAX as u64 {
            // mov r32, imm32 (zero-extends)
            self.rex(false, 0, &Rm::Reg(dst), false);
            self.byte(0xb8 + (dst.0 & 7));
            self.bytes(&(imm as u32).to_le_bytes());
        } else if i32::try_from(imm as i64).is_ok() {
            // mov r/m64, simm32
            self.op(W::Q, &[0xc7], 0, Rm::Reg(dst));
            self.bytes(&(imm as i32).to_le_bytes());
        } else {
            self.rex(true, 0, &Rm::Reg(dst), false);
            self.byte(0xb8 + (dst.0 & 7));
            self.bytes(&imm.to_le_bytes());
        }
    }

    /// mov qword [m], simm32
    pub fn store_imm32(&mut self, w: W, dst: Mem, imm: i32) {
        self.op(w, &[0xc7], 0, Rm::Mem(dst));
        self.bytes(&imm.to_le_bytes());
    }

    /// op dst, rm
    pub fn alu(&mut self, w: W, op: Alu, dst: Reg, src: Rm) {
        self.op(w, &[(op as u8) * 8 + 3], dst.0, src);
    }

    /// op rm, simm32 (simm8 form when it fits)
    pub fn alu_imm(&mut self, w: W, op: Alu, dst: Rm, imm: i32) {
        if let Ok(b) = i8::try_from(imm) {
            self.op(w, &[0x83], op as u8, dst);
            self.byte(b as u8);
        } else {
            self.op(w, &[0x81], op as u8, dst);
            self.bytes(&imm.to_le_bytes());
        }
    }

    /// imul dst, rm
    pub fn imul(&mut self, w: W, dst: Reg, src: Rm) {
        self.op(w, &[0x0f, 0xaf], dst.0, src);
    }

    /// imul dst, rm, simm32
    pub fn imul_imm(&mut self, w: W, dst: Reg, src: Rm, imm: i32) {
        self.op(w, &[0x69], dst.0, src);
        self.bytes(&imm.to_le_bytes());
    }

    /// shift rm, imm8
    pub fn shift_imm(&mut self, w: W, op: Shift, dst: Reg, imm: u8) {
        self.op(w, &[0xc1], op as u8, Rm::Reg(dst));
        self.byte(imm);
    }

    /// shift rm, cl
    pub fn shift_cl(&mut self, w: W, op: Shift, dst: Reg) {
        self.op(w, &[0xd3], op as u8, Rm::Reg(dst));
    }

    /// not/neg rm
    pub fn not(&mut self, w: W, dst: Reg) {
        self.op(w, &[0xf7], 2, Rm::Reg(dst));
    }

    pub fn neg(&mut self, w: W, dst: Reg) {
        self.op(w, &[0xf7], 3, Rm::Reg(dst));
    }

    /// bswap r
    pub fn bswap(&mut self, w: W, r: Reg) {
        self.rex(w == W::Q, 0, &Rm::Reg(r), false);
        self.bytes(&[0x0f, 0xc8 + (r.0 & 7)]);
    }

    /// test a, b
    pub fn test(&mut self, w: W, a: Reg, b: Reg) {
        self.op(w, &[0x85], b.0, Rm::Reg(a));
    }

    /// movsxd dst, src32
    pub fn movsxd(&mut self, dst: Reg, src: Reg) {
        self.op(W::Q, &[0x63], dst.0, Rm::Reg(src));
    }

    /// lea dst, [m]
    pub fn lea(&mut self, dst: Reg, m: Mem) {
        self.op(W::Q, &[0x8d], dst.0, Rm::Mem(m));
    }

    /// setcc r8 ; movzx r32, r8
    pub fn setcc_zx(&mut self, cc: Cc, r: Reg) {
        self.rex(false, 0, &Rm::Reg(r), r.0 >= 4);
        self.bytes(&[0x0f, 0x90 + cc as u8]);
        self.modrm(0, &Rm::Reg(r));
        self.rex(false, r.0, &Rm::Reg(r), r.0 >= 4);
        self.bytes(&[0x0f, 0xb6]);
        self.modrm(r.0, &Rm::Reg(r));
    }

    /// cmovcc dst, rm
    pub fn cmov(&mut self, w: W, cc: Cc, dst: Reg, src: Rm) {
        self.op(w, &[0x0f, 0x40 + cc as u8], dst.0, src);
    }

    /// jcc label (rel32)
    pub fn jcc(&mut self, cc: Cc, l: Label) {
        self.bytes(&[0x0f, 0x80 + cc as u8]);
        self.fixups.push((self.buf.len(), l));
        self.bytes(&[0; 4]);
    }

    /// jmp label (rel32)
    pub fn jmp(&mut self, l: Label) {
        self.byte(0xe9);
        self.fixups.push((self.buf.len(), l));
        self.bytes(&[0; 4]);
    }

    /// jmp qword [m]
    pub fn jmp_mem(&mut self, m: Mem) {
        self.op(W::D, &[0xff], 4, Rm::Mem(m));
    }

    /// jmp r
    pub fn jmp_reg(&mut self, r: Reg) {
        self.op(W::D, &[0xff], 4, Rm::Reg(r));
    }

    /// call r
    pub fn call_reg(&mut self, r: Reg) {
        self.op(W::D, &[0xff], 2, Rm::Reg(r));
    }

    pub fn ret(&mut self) {
        self.byte(0xc3);
    }

    pub fn ud2(&mut self) {
        self.bytes(&[0x0f, 0x0b]);
    }

    pub fn mfence(&mut self) {
        self.bytes(&[0x0f, 0xae, 0xf0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstone::arch::BuildsCapstone;

    fn disas(code: &[u8]) -> String {
        let cs = capstone::Capstone::new().x86().mode(capstone::arch::x86::ArchMode::Mode64).build().unwrap();
        let insns = cs.disasm_all(code, 0).unwrap();
        let text: Vec<String> = insns
            .iter()
            .map(|i| format!("{} {}", i.mnemonic().unwrap(), i.op_str().unwrap()).trim().to_string())
            .collect();
        // every byte decoded
        let len: usize = insns.iter().map(|i| i.bytes().len()).sum();
        assert_eq!(len, code.len(), "undecoded bytes in {text:?}");
        text.join("; ")
    }

    fn check(f: impl FnOnce(&mut Asm), want: &str) {
        let mut a = Asm::default();
        f(&mut a);
        assert!(a.finish());
        assert_eq!(disas(&a.buf), want);
    }

    #[test]
    fn loads_and_stores_with_every_base_and_displacement_size() {
        check(|a| a.load(W::Q, RAX, Rm::Mem(mem(R15, 0x10))), "mov rax, qword ptr [r15 + 0x10]");
        check(|a| a.load(W::Q, Reg(9), Rm::Mem(mem(R15, 0x400))), "mov r9, qword ptr [r15 + 0x400]");
        check(|a| a.load(W::D, RCX, Rm::Mem(mem(R15, 0))), "mov ecx, dword ptr [r15]");
        check(|a| a.load(W::Q, RAX, Rm::Mem(mem(Reg(13), 0))), "mov rax, qword ptr [r13]");
        check(|a| a.load(W::Q, RAX, Rm::Mem(mem(RSP, 8))), "mov rax, qword ptr [rsp + 8]");
        check(|a| a.load(W::Q, RAX, Rm::Mem(mem(Reg(12), 8))), "mov rax, qword ptr [r12 + 8]");
        check(|a| a.store(W::Q, Rm::Mem(mem(R15, -8)), RDX), "mov qword ptr [r15 - 8], rdx");
        check(|a| a.load(W::Q, RAX, Rm::Mem(mem_index(RCX, RAX))), "mov rax, qword ptr [rcx + rax]");
        check(|a| a.load(W::Q, RAX, Rm::Mem(mem_index(Reg(13), Reg(12)))), "mov rax, qword ptr [r13 + r12]");
        check(|a| a.store_small(1, mem_index(RCX, RAX), RSI), "mov byte ptr [rcx + rax], sil");
        check(|a| a.store_small(1, mem_index(RCX, RAX), RDX), "mov byte ptr [rcx + rax], dl");
        check(|a| a.store_small(2, mem_index(RCX, RAX), RDX), "mov word ptr [rcx + rax], dx");
        check(|a| a.store(W::D, Rm::Mem(mem_index(RCX, RAX)), RDX), "mov dword ptr [rcx + rax], edx");
        check(|a| a.load_ext(RAX, Rm::Mem(mem_index(RCX, RAX)), 1, false), "movzx eax, byte ptr [rcx + rax]");
        check(|a| a.load_ext(RAX, Rm::Mem(mem_index(RCX, RAX)), 1, true), "movsx rax, byte ptr [rcx + rax]");
        check(|a| a.load_ext(RAX, Rm::Mem(mem_index(RCX, RAX)), 2, false), "movzx eax, word ptr [rcx + rax]");
        check(|a| a.load_ext(RAX, Rm::Mem(mem_index(RCX, RAX)), 2, true), "movsx rax, word ptr [rcx + rax]");
        check(|a| a.load_ext(RAX, Rm::Mem(mem_index(RCX, RAX)), 4, false), "mov eax, dword ptr [rcx + rax]");
        check(|a| a.load_ext(RAX, Rm::Mem(mem_index(RCX, RAX)), 4, true), "movsxd rax, dword ptr [rcx + rax]");
        check(|a| a.load_ext(RAX, Rm::Mem(mem_index(RCX, RAX)), 8, false), "mov rax, qword ptr [rcx + rax]");
        check(|a| a.store_imm32(W::Q, mem(R15, 0x20), -2), "mov qword ptr [r15 + 0x20], 0xfffffffffffffffe");
        check(|a| a.load(W::Q, RAX, Rm::Mem(mem(RBX, -0x78))), "mov rax, qword ptr [rbx - 0x78]");
        check(|a| a.load(W::Q, RSI, Rm::Mem(mem(RBP, 0x18))), "mov rsi, qword ptr [rbp + 0x18]");
        check(|a| a.alu_imm(W::D, Alu::Sub, Rm::Mem(mem(RBP, 0)), 1), "sub dword ptr [rbp], 1");
        check(|a| a.lea(RBX, mem(R15, 0x100)), "lea rbx, [r15 + 0x100]");
    }

    #[test]
    fn constants_take_the_shortest_form() {
        check(|a| a.mov_imm(RAX, 5), "mov eax, 5");
        check(|a| a.mov_imm(Reg(9), 0xffff_ffff), "mov r9d, 0xffffffff");
        check(|a| a.mov_imm(RCX, u64::MAX), "mov rcx, 0xffffffffffffffff");
        check(|a| a.mov_imm(RDX, 0x1234_5678_9abc), "movabs rdx, 0x123456789abc");
    }

    #[test]
    fn arithmetic_forms() {
        check(|a| a.alu(W::Q, Alu::Add, RAX, Rm::Mem(mem(R15, 8))), "add rax, qword ptr [r15 + 8]");
        check(|a| a.alu(W::D, Alu::Sub, RAX, Rm::Reg(RCX)), "sub eax, ecx");
        check(|a| a.alu(W::Q, Alu::Xor, Reg(10), Rm::Reg(Reg(11))), "xor r10, r11");
        check(|a| a.alu_imm(W::Q, Alu::And, Rm::Reg(RAX), 0xff), "and rax, 0xff");
        check(|a| a.alu_imm(W::Q, Alu::Or, Rm::Reg(RAX), -1), "or rax, 0xffffffffffffffff");
        check(|a| a.alu_imm(W::Q, Alu::Cmp, Rm::Mem(mem(R15, 16)), 0), "cmp qword ptr [r15 + 0x10], 0");
        check(|a| a.alu_imm(W::D, Alu::Cmp, Rm::Mem(mem(R15, 0)), 0), "cmp dword ptr [r15], 0");
        check(|a| a.imul(W::Q, RAX, Rm::Mem(mem(R15, 8))), "imul rax, qword ptr [r15 + 8]");
        check(|a| a.imul_imm(W::D, RAX, Rm::Reg(RAX), 12), "imul eax, eax, 0xc");
        check(|a| a.shift_imm(W::Q, Shift::Shl, RAX, 3), "shl rax, 3");
        check(|a| a.shift_imm(W::D, Shift::Sar, RAX, 31), "sar eax, 0x1f");
        check(|a| a.shift_cl(W::Q, Shift::Shr, RAX), "shr rax, cl");
        check(|a| a.shift_cl(W::D, Shift::Rol, RAX), "rol eax, cl");
        check(|a| a.not(W::Q, RCX), "not rcx");
        check(|a| a.neg(W::D, RAX), "neg eax");
        check(|a| a.bswap(W::Q, RAX), "bswap rax");
        check(|a| a.bswap(W::D, Reg(9)), "bswap r9d");
        check(|a| a.test(W::Q, RCX, RCX), "test rcx, rcx");
        check(|a| a.movsxd(RAX, RAX), "movsxd rax, eax");
        check(|a| a.setcc_zx(Cc::L, RAX), "setl al; movzx eax, al");
        check(|a| a.setcc_zx(Cc::A, RSI), "seta sil; movzx esi, sil");
        check(|a| a.cmov(W::Q, Cc::Ne, RAX, Rm::Mem(mem(R15, 8))), "cmovne rax, qword ptr [r15 + 8]");
    }

    #[test]
    fn control_flow() {
        check(
            |a| {
                let l = a.new_label();
                a.jcc(Cc::E, l);
                a.jmp(l);
                a.bind(l);
                a.jmp_mem(mem(RSI, 0x18));
                a.jmp_reg(RSI);
                a.jmp_reg(R15);
                a.call_reg(RAX);
                a.ret();
                a.ud2();
                a.mfence();
            },
            "je 0xb; jmp 0xb; jmp qword ptr [rsi + 0x18]; jmp rsi; jmp r15; call rax; ret; ud2; mfence",
        );
        let mut a = Asm::default();
        let l = a.new_label();
        a.jmp(l);
        assert!(!a.finish(), "an unbound label is reported");
    }
}
