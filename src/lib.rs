//! Ferrite: a 32-bit x86 kernel in Rust. `boot::sequence::kernel_main` is where the boot stub
//! hands over.
//!
//! Everything that touches the machine is compiled only for the kernel target
//! (`target_os = "none"`); the rest is portable and also builds for the host, where its unit
//! tests run and where `tests/` and `tools/` use it as a library.
#![cfg_attr(target_os = "none", no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc,
    clippy::multiple_unsafe_ops_per_block
)]

extern crate alloc;

pub mod arch;
pub mod boot;
pub mod bytes;
pub mod console;
pub mod demo;
pub mod diagnostics;
pub mod memory;
pub mod shell;
pub mod small_sort;
pub mod sync;
pub mod testing;
pub mod thread;
pub mod time;
