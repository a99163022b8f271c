//! Ferrite: a 32-bit x86 kernel in Rust. `kernel_main` is where the boot stub hands over.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod command_line;
pub mod console;
pub mod demo;
pub mod descriptors;
pub mod diagnostics;

#[cfg(not(test))]
pub mod arch;
#[cfg(not(test))]
pub mod fatal;
#[cfg(not(test))]
pub mod output;
#[cfg(not(test))]
mod panic;
#[cfg(not(test))]
pub mod time;

#[cfg(not(test))]
mod kernel;
#[cfg(not(test))]
mod kernel_tests;
