//! riscv64 user mode (QEMU's `linux-user/riscv/`): registers around system calls, signal
//! frames, and the asm-generic struct layouts.
//!
//! Facts used (Linux uapi headers of arch/riscv and asm-generic; psABI):
//! - clone(2) takes (flags, newsp, parent_tid, tls, child_tid) (CONFIG_CLONE_BACKWARDS);
//! - system call: `ecall` with the number in a7, arguments in a0..a5, result in a0; the pc
//!   is advanced by 4 by the kernel (there is no compressed ecall);
//! - address space: user space ends at 1<<38 with Sv39 paging, the smallest riscv64 Linux
//!   configuration, so every riscv64 program accepts it; ELF_ET_DYN_BASE is 2/3 of it;
//! - `struct rt_sigframe { siginfo_t info; struct ucontext uc; }` (1088 bytes), 16-byte
//!   aligned below the stack pointer; `struct ucontext` = uc_flags, uc_link, uc_stack (24),
//!   uc_sigmask (8), 120 bytes of padding, then at offset 176 `struct sigcontext`:
//!   `sc_regs` (pc, x1..x31) and the F/D state (f0..f31 as u64, fcsr as u32) in a 528-byte
//!   union whose unused tail (an END header of zeros) ends the extension list; 960 bytes;
//! - the handler gets a0 = signal, a1 = &info, a2 = &uc; ra = the return trampoline
//!   (Linux uses its vDSO; remu maps one page with `li a7, 139; ecall`);
//! - `struct sigaction` = { handler, flags, mask } (no sa_restorer), 24 bytes;
//! - HWCAP: one bit per single-letter extension (bit = letter - 'a').

use frontend::riscv64::{Riscv64, Rv64State, EXC_BREAKPOINT, EXC_ECALL, EXC_ILLEGAL_INSN};
use ir::backend::{
    EXC_BUS_ERROR, EXC_FETCH_FAULT, EXC_LOAD_FAULT, EXC_MISALIGNED_LOAD, EXC_MISALIGNED_STORE, EXC_STORE_FAULT,
};

use super::{encode_generic_stat, AltStack, FileStat, FrameArgs, FrameRestore, SigAction, Target, Trap};
use crate::host::SysResult;
use crate::mmap::GuestMemory;
use crate::syscall::nr::Sysno;

/// The riscv64 target.
pub struct Riscv64Target;

const RA: usize = 1;
const SP: usize = 2;
const TP: usize = 4;
const A0: usize = 10;
const A7: usize = 17;

const SIGINFO: u64 = 128;
const UC_STACK: usize = 16;
const UC_SIGMASK: usize = 40;
const UC_MCONTEXT: usize = 176;
const UC_SIZE: usize = 960;
const FRAME_SIZE: u64 = SIGINFO + UC_SIZE as u64;

impl Target for Riscv64Target {
    type Fe = Riscv64;
    const NAME: &'static str = "riscv64";
    const ELF_MACHINE: u16 = goblin::elf::header::EM_RISCV;
    const BIG_ENDIAN: bool = false;
    const VA_LIMIT: u64 = 1 << 38;
    const DYN_BASE: u64 = ((1u64 << 38) / 3 * 2) & !0xfff;
    const MINSIGSTKSZ: u64 = 2048;
    const SIGACTION_SIZE: usize = 24;

    fn frontend() -> Riscv64 {
        Riscv64::new()
    }

    fn hwcap() -> u64 {
        b"imafdc".iter().fold(0, |acc, &c| acc | 1 << (c - b'a'))
    }

    fn init_state(entry: u64, sp: u64) -> Rv64State {
        let mut st = Rv64State { pc: entry, ..Default::default() };
        st.x[SP] = sp;
        st
    }

    fn sysno(nr: u64) -> Option<Sysno> {
        crate::syscall::riscv64::sysno(nr)
    }

    fn syscall_args(st: &Rv64State) -> (u64, [u64; 6]) {
        (st.x[A7], [st.x[A0], st.x[A0 + 1], st.x[A0 + 2], st.x[A0 + 3], st.x[A0 + 4], st.x[A0 + 5]])
    }

    fn syscall_return(st: &mut Rv64State, ret: u64) {
        st.x[A0] = ret;
        st.pc = st.pc.wrapping_add(4);
    }

    fn syscall_skip(st: &mut Rv64State) {
        st.pc = st.pc.wrapping_add(4);
    }

    fn trap(cause: u32, aux: u64, pc: u64) -> Trap {
        match cause {
            EXC_ECALL => Trap::Syscall,
            EXC_ILLEGAL_INSN => Trap::Signal { sig: libc::SIGILL, code: 1 /* ILL_ILLOPC */, addr: pc },
            EXC_BREAKPOINT => Trap::Signal { sig: libc::SIGTRAP, code: 1 /* TRAP_BRKPT */, addr: pc },
            EXC_LOAD_FAULT | EXC_STORE_FAULT | EXC_FETCH_FAULT => {
                Trap::Signal { sig: libc::SIGSEGV, code: 1 /* SEGV_MAPERR */, addr: aux }
            }
            EXC_MISALIGNED_LOAD | EXC_MISALIGNED_STORE => {
                Trap::Signal { sig: libc::SIGBUS, code: 1 /* BUS_ADRALN */, addr: aux }
            }
            EXC_BUS_ERROR => Trap::Signal { sig: libc::SIGBUS, code: 2 /* BUS_ADRERR */, addr: aux },
            other => Trap::Fatal(other),
        }
    }

    fn sp(st: &Rv64State) -> u64 {
        st.x[SP]
    }

    fn pc(st: &Rv64State) -> u64 {
        st.pc
    }

    fn clone_args(a: &[u64; 6]) -> (u64, u64, u64, u64, u64) {
        // CONFIG_CLONE_BACKWARDS: clone(flags, newsp, parent_tid, tls, child_tid).
        (a[0], a[1], a[2], a[4], a[3])
    }

    fn clone_child(st: &mut Rv64State, new_sp: u64, tls: Option<u64>) {
        st.x[A0] = 0;
        if new_sp != 0 {
            st.x[SP] = new_sp;
        }
        if let Some(t) = tls {
            st.x[TP] = t;
        }
        st.pc = st.pc.wrapping_add(4);
    }

    fn sigreturn_code() -> Vec<u8> {
        let li_a7_139: u32 = (139 << 20) | ((A7 as u32) << 7) | 0x13;
        let ecall: u32 = 0x73;
        let mut v = li_a7_139.to_le_bytes().to_vec();
        v.extend_from_slice(&ecall.to_le_bytes());
        v
    }

    fn setup_frame(mem: &GuestMemory, st: &mut Rv64State, f: &FrameArgs) -> SysResult<()> {
        let sp = f.stack_top.checked_sub(FRAME_SIZE).ok_or(crate::host::Errno(libc::EFAULT))? & !15;
        let mut b = vec![0u8; FRAME_SIZE as usize];
        b[..128].copy_from_slice(&f.info);
        let uc = &mut b[SIGINFO as usize..];
        uc[UC_STACK..UC_STACK + 8].copy_from_slice(&mem.enc64(f.altstack.sp));
        uc[UC_STACK + 8..UC_STACK + 12].copy_from_slice(&mem.enc32(f.altstack.flags as u32));
        uc[UC_STACK + 16..UC_STACK + 24].copy_from_slice(&mem.enc64(f.altstack.size));
        uc[UC_SIGMASK..UC_SIGMASK + 8].copy_from_slice(&mem.enc64(f.old_mask));
        let regs = UC_MCONTEXT;
        uc[regs..regs + 8].copy_from_slice(&mem.enc64(st.pc));
        for i in 1..32 {
            uc[regs + 8 * i..regs + 8 * i + 8].copy_from_slice(&mem.enc64(st.x[i]));
        }
        let fp = regs + 256;
        for i in 0..32 {
            uc[fp + 8 * i..fp + 8 * i + 8].copy_from_slice(&mem.enc64(st.f[i]));
        }
        let fcsr = ((st.frm & 7) << 5 | (st.fflags & 0x1f)) as u32;
        uc[fp + 256..fp + 260].copy_from_slice(&mem.enc32(fcsr));
        mem.write(sp, &b)?;
        st.pc = f.handler;
        st.x[RA] = f.restorer;
        st.x[SP] = sp;
        st.x[A0] = f.sig as u64;
        st.x[A0 + 1] = sp;
        st.x[A0 + 2] = sp + SIGINFO;
        st.res_addr = u64::MAX;
        Ok(())
    }

    fn restore_frame(mem: &GuestMemory, st: &mut Rv64State) -> SysResult<FrameRestore> {
        let uc_addr = st.x[SP].checked_add(SIGINFO).ok_or(crate::host::Errno(libc::EFAULT))?;
        let uc = mem.read_vec(uc_addr, UC_SIZE)?;
        let regs = UC_MCONTEXT;
        st.pc = mem.dec64(&uc[regs..]);
        for i in 1..32 {
            st.x[i] = mem.dec64(&uc[regs + 8 * i..]);
        }
        let fp = regs + 256;
        for i in 0..32 {
            st.f[i] = mem.dec64(&uc[fp + 8 * i..]);
        }
        let fcsr = mem.dec32(&uc[fp + 256..]) as u64;
        st.fflags = fcsr & 0x1f;
        st.frm = (fcsr >> 5) & 7;
        st.res_addr = u64::MAX;
        Ok(FrameRestore {
            mask: mem.dec64(&uc[UC_SIGMASK..]),
            altstack: AltStack {
                sp: mem.dec64(&uc[UC_STACK..]),
                flags: mem.dec32(&uc[UC_STACK + 8..]) as i32,
                size: mem.dec64(&uc[UC_STACK + 16..]),
            },
        })
    }

    fn encode_stat(mem: &GuestMemory, s: &FileStat) -> Vec<u8> {
        encode_generic_stat(mem, s)
    }

    fn decode_sigaction(mem: &GuestMemory, b: &[u8]) -> SigAction {
        SigAction { handler: mem.dec64(&b[0..]), flags: mem.dec64(&b[8..]), mask: mem.dec64(&b[16..]), restorer: 0 }
    }

    fn encode_sigaction(mem: &GuestMemory, a: &SigAction) -> Vec<u8> {
        let mut v = Vec::with_capacity(24);
        v.extend_from_slice(&mem.enc64(a.handler));
        v.extend_from_slice(&mem.enc64(a.flags));
        v.extend_from_slice(&mem.enc64(a.mask));
        v
    }

    fn dump_regs(st: &Rv64State) -> String {
        const NAMES: [&str; 32] = [
            "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6",
            "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
        ];
        let mut s = format!(" pc       {:016x}\n", st.pc);
        for (i, n) in NAMES.iter().enumerate() {
            s.push_str(&format!(" {:<4} {:016x}", n, st.x[i]));
            if i % 4 == 3 {
                s.push('\n');
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmap::{mapf, prot, Backing, VmaName};

    #[test]
    fn hwcap_has_imafdc() {
        let h = Riscv64Target::hwcap();
        for c in b"imafdc" {
            assert_ne!(h & (1 << (c - b'a')), 0);
        }
        assert_eq!(h.count_ones(), 6);
    }

    #[test]
    fn sigreturn_trampoline_encodes_li_a7_139_ecall() {
        assert_eq!(Riscv64Target::sigreturn_code(), [0x93, 0x08, 0xb0, 0x08, 0x73, 0, 0, 0]);
    }

    #[test]
    fn signal_frame_round_trips_registers_and_mask() {
        let mem = GuestMemory::reserve(1 << 32, false).unwrap();
        let stack = mem
            .mmap(
                0x100_0000,
                0x4000,
                prot::READ | prot::WRITE,
                mapf::PRIVATE | mapf::ANONYMOUS | mapf::FIXED,
                Backing::Anon,
                VmaName::Anon,
            )
            .unwrap();
        let mut st = Rv64State::default();
        for i in 1..32 {
            st.x[i] = 0x1000 + i as u64;
        }
        st.x[SP] = stack + 0x3ff8;
        st.f[7] = 0xdead_beef;
        st.frm = 3;
        st.fflags = 0x11;
        st.pc = 0x12345;
        let saved = st.clone();
        let f = FrameArgs {
            sig: 10,
            info: [7u8; 128],
            handler: 0x5000,
            restorer: 0x6000,
            old_mask: 0x8000_0001,
            altstack: AltStack { sp: 0, flags: 2, size: 0 },
            stack_top: st.x[SP],
        };
        Riscv64Target::setup_frame(&mem, &mut st, &f).unwrap();
        assert_eq!(st.pc, 0x5000);
        assert_eq!(st.x[RA], 0x6000);
        assert_eq!(st.x[SP] % 16, 0);
        assert!(st.x[SP] + FRAME_SIZE <= saved.x[SP]);
        assert_eq!(st.x[A0], 10);
        assert_eq!(mem.read_vec(st.x[A0 + 1], 4).unwrap(), [7, 7, 7, 7]);
        // The handler's uc->uc_mcontext.__gregs[REG_PC] is the interrupted pc.
        assert_eq!(mem.read_u64(st.x[A0 + 2] + UC_MCONTEXT as u64).unwrap(), 0x12345);
        // The handler may clobber registers; sigreturn brings everything back.
        let frame_sp = st.x[SP];
        st.x = [0; 32];
        st.x[SP] = frame_sp;
        st.f = [0; 32];
        let r = Riscv64Target::restore_frame(&mem, &mut st).unwrap();
        assert_eq!(r.mask, 0x8000_0001);
        assert_eq!(r.altstack.flags, 2);
        assert_eq!(st, Rv64State { res_addr: u64::MAX, ..saved });
    }

    #[test]
    fn frame_on_unmapped_stack_is_efault() {
        let mem = GuestMemory::reserve(1 << 32, false).unwrap();
        let mut st = Rv64State::default();
        let f = FrameArgs {
            sig: 11,
            info: [0; 128],
            handler: 1,
            restorer: 2,
            old_mask: 0,
            altstack: AltStack::default(),
            stack_top: 0x2000_0000,
        };
        assert!(Riscv64Target::setup_frame(&mem, &mut st, &f).is_err());
        assert!(Riscv64Target::setup_frame(&mem, &mut st, &AltStack::default().into_frame_at(5)).is_err());
    }

    impl AltStack {
        fn into_frame_at(self, top: u64) -> FrameArgs {
            FrameArgs { sig: 1, info: [0; 128], handler: 0, restorer: 0, old_mask: 0, altstack: self, stack_top: top }
        }
    }
}
