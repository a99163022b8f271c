//! Ferrite: a 32-bit x86 kernel in Rust. `kernel_main` is where the boot stub hands over.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod boot_info;
pub mod calendar;
pub mod clock_calibration;
pub mod command_line;
pub mod console;
pub mod cpu_features;
pub mod demo;
pub mod descriptors;
pub mod diagnostics;
pub mod keyboard;
pub mod memory;
pub mod memory_map;
pub mod shell;
pub mod small_sort;
pub mod spsc_queue;

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
mod benchmark;
#[cfg(not(test))]
mod kernel;
#[cfg(not(test))]
mod kernel_tests;
