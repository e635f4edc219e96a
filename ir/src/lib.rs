//! remu's portable intermediate representation: what frontends produce and backends consume.
//!
//! A guest ISA frontend turns a run of guest instructions into a [`Block`] with a [`Builder`];
//! the optimizer ([`opt`]) simplifies it; the [`verify`](verify::verify)-ed block is compiled by
//! a [`backend::Backend`] (the Cranelift JIT or the bytecode interpreter), which never learns
//! what guest ISA it came from. The op table ([`op`]) is the single definition of every
//! operation; [`sem`] and [`linear`] give the executable meaning of the pure ops and of memory
//! accesses, shared by the reference evaluator ([`eval`]) and the interpreter.
//!
//! # Glossary (QEMU terms kept where the concept is the same)
//! - **TB** (translation block): the unit of translation and caching, a [`Block`] once compiled.
//! - **global**: a guest register living in the CPU environment, read and written with
//!   `get`/`set` ([`GlobalId`], declared in [`Decls`]).
//! - **MemOp**: size, extension, byte order and alignment of one guest memory access.
//! - **insn_start**: the marker that begins each guest instruction; exceptions report the pc
//!   of the last one executed.
//! - **goto_tb**: a direct block exit that the dispatcher or backend may chain to the next TB.
//! - **goto_ptr**: an indirect block exit (the next pc is a run-time value).
//! - **helper**: a host function called from translated code, with declared effects.
//! - **side exit**: an `exit_if` leaving the block early (taken branch, conditional trap).
//! - **env**: the CPU environment, an [`backend::EnvHeader`] followed by the guest state.

#![deny(missing_docs)]

pub mod backend;
pub mod block;
pub mod builder;
pub mod eval;
pub mod fpu;
pub mod linear;
pub mod op;
pub mod opt;
pub mod sem;
pub mod testing;
pub mod text;
pub mod types;
pub mod verify;

pub use block::{
    Aux, Block, Decls, ExitKind, GlobalDecl, GlobalId, HelperDecl, HelperFlags, HelperFn, HelperId, Inst, Value,
};
pub use builder::Builder;
pub use op::{OpFlags, Opcode};
pub use types::{Align, AtomicOp, Cond, Endian, MemOp, Size, Ty};
