//! What differs between guest ISAs in user mode, behind one trait ([`Target`]): ELF machine,
//! address-space size, registers at start-up and around system calls, exception-to-signal
//! mapping, signal frames, and the struct layouts the kernel ABI gives each ISA (`stat`,
//! `sigaction`, `siginfo`). Everything else in linux-user is ISA-independent and written once.
//!
//! QEMU spreads this over `linux-user/<arch>/{cpu_loop.c, signal.c, target_*.h}`. Signal and
//! errno numbers are not here: riscv64, s390x and the x86-64 host all use Linux's generic
//! numbering, so they pass unchanged (see `signal.rs` for the two real-time signals that are
//! swapped to keep the host C library's own signals free).

pub mod riscv64;

use frontend::Frontend;

use crate::host::SysResult;
use crate::mmap::GuestMemory;
use crate::syscall::nr::Sysno;

/// What a guest exception means for the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// A system call instruction: do the call at the current pc.
    Syscall,
    /// A synchronous signal.
    Signal {
        /// Signal number.
        sig: i32,
        /// si_code (for SIGSEGV the generic code picks MAPERR or ACCERR).
        code: i32,
        /// si_addr.
        addr: u64,
    },
    /// Not a guest event remu knows: stop with this message.
    Fatal(u32),
}

/// A file's metadata, ISA-neutral (filled from the host's statx).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStat {
    /// Device (glibc makedev encoding).
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Mode and type bits.
    pub mode: u32,
    /// Link count.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device of a special file.
    pub rdev: u64,
    /// Size in bytes.
    pub size: i64,
    /// Preferred I/O size.
    pub blksize: u32,
    /// 512-byte blocks.
    pub blocks: i64,
    /// Access time (s, ns).
    pub atime: (i64, u32),
    /// Modification time.
    pub mtime: (i64, u32),
    /// Status change time.
    pub ctime: (i64, u32),
}

/// A guest sigaction, ISA-neutral.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    /// Handler address, or SIG_DFL (0) / SIG_IGN (1).
    pub handler: u64,
    /// SA_* flags.
    pub flags: u64,
    /// Signals blocked while the handler runs (bit n-1 = signal n).
    pub mask: u64,
    /// sa_restorer (ISAs that have it).
    pub restorer: u64,
}

/// A sigaltstack, ISA-neutral.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltStack {
    /// Base.
    pub sp: u64,
    /// SS_ONSTACK / SS_DISABLE / SS_AUTODISARM.
    pub flags: i32,
    /// Size.
    pub size: u64,
}

/// Everything a signal frame records, prepared by the generic code.
#[derive(Clone, Debug)]
pub struct FrameArgs {
    /// Guest signal number.
    pub sig: i32,
    /// The siginfo, already in guest layout.
    pub info: [u8; 128],
    /// Handler address.
    pub handler: u64,
    /// Where the handler returns to (the sigreturn trampoline or sa_restorer).
    pub restorer: u64,
    /// Mask to restore on sigreturn.
    pub old_mask: u64,
    /// The alternate stack as it was (saved in uc_stack).
    pub altstack: AltStack,
    /// Top of the stack to build the frame below.
    pub stack_top: u64,
}

/// What sigreturn restores besides the registers.
#[derive(Clone, Copy, Debug)]
pub struct FrameRestore {
    /// The signal mask.
    pub mask: u64,
    /// uc_stack, for restoring the alternate stack.
    pub altstack: AltStack,
}

/// One guest ISA as user mode sees it.
pub trait Target: Sized + Send + Sync + 'static {
    /// The translator of this ISA.
    type Fe: Frontend;
    /// `uname -m`.
    const NAME: &'static str;
    /// ELF e_machine.
    const ELF_MACHINE: u16;
    /// Whether the ISA is big-endian.
    const BIG_ENDIAN: bool;
    /// Size of the guest address space.
    const VA_LIMIT: u64;
    /// Load address of position-independent executables (ELF_ET_DYN_BASE).
    const DYN_BASE: u64;
    /// Size of the minimal signal stack the kernel reports (AT_MINSIGSTKSZ).
    const MINSIGSTKSZ: u64;

    /// A new translator.
    fn frontend() -> Self::Fe;
    /// AT_HWCAP.
    fn hwcap() -> u64;
    /// Registers at the program's entry.
    fn init_state(entry: u64, sp: u64) -> State<Self>;
    /// System call name of a number.
    fn sysno(nr: u64) -> Option<Sysno>;
    /// The system call number and arguments in the registers.
    fn syscall_args(st: &State<Self>) -> (u64, [u64; 6]);
    /// Stores a system call result and moves past the system call instruction.
    fn syscall_return(st: &mut State<Self>, ret: u64);
    /// Moves past the system call instruction without touching the result register.
    fn syscall_skip(st: &mut State<Self>);
    /// What an exception means.
    fn trap(cause: u32, aux: u64, pc: u64) -> Trap;
    /// Stack pointer.
    fn sp(st: &State<Self>) -> u64;
    /// Program counter.
    fn pc(st: &State<Self>) -> u64;
    /// The clone(2) arguments in the ISA's order, as (flags, new_sp, parent_tid, child_tid,
    /// tls).
    fn clone_args(a: &[u64; 6]) -> (u64, u64, u64, u64, u64);
    /// Prepares the state of a clone child: return value 0, new stack (if non-zero), new
    /// thread pointer (if given), past the system call instruction.
    fn clone_child(st: &mut State<Self>, new_sp: u64, tls: Option<u64>);
    /// The code of the sigreturn trampoline (invokes rt_sigreturn).
    fn sigreturn_code() -> Vec<u8>;
    /// Builds a signal frame and points the registers at the handler.
    fn setup_frame(mem: &GuestMemory, st: &mut State<Self>, f: &FrameArgs) -> SysResult<()>;
    /// Restores the registers from the frame at the stack pointer (rt_sigreturn).
    fn restore_frame(mem: &GuestMemory, st: &mut State<Self>) -> SysResult<FrameRestore>;
    /// `struct stat` in guest layout.
    fn encode_stat(mem: &GuestMemory, s: &FileStat) -> Vec<u8>;
    /// Size of the guest `struct sigaction`.
    const SIGACTION_SIZE: usize;
    /// Decodes a guest `struct sigaction`.
    fn decode_sigaction(mem: &GuestMemory, b: &[u8]) -> SigAction;
    /// Encodes a guest `struct sigaction`.
    fn encode_sigaction(mem: &GuestMemory, a: &SigAction) -> Vec<u8>;
    /// The register dump for fatal errors.
    fn dump_regs(st: &State<Self>) -> String;
}

/// The register state of a target.
pub type State<T> = <<T as Target>::Fe as Frontend>::State;

/// Encodes `struct stat` fields common to the asm-generic layout (riscv64, arm64, ...):
/// 128 bytes.
pub fn encode_generic_stat(mem: &GuestMemory, s: &FileStat) -> Vec<u8> {
    let mut b = vec![0u8; 128];
    let mut put64 = |off: usize, v: u64| b[off..off + 8].copy_from_slice(&mem.enc64(v));
    put64(0, s.dev);
    put64(8, s.ino);
    put64(32, s.rdev);
    put64(48, s.size as u64);
    put64(64, s.blocks as u64);
    put64(72, s.atime.0 as u64);
    put64(80, s.atime.1 as u64);
    put64(88, s.mtime.0 as u64);
    put64(96, s.mtime.1 as u64);
    put64(104, s.ctime.0 as u64);
    put64(112, s.ctime.1 as u64);
    let mut put32 = |off: usize, v: u32| b[off..off + 4].copy_from_slice(&mem.enc32(v));
    put32(16, s.mode);
    put32(20, s.nlink);
    put32(24, s.uid);
    put32(28, s.gid);
    put32(56, s.blksize);
    b
}
