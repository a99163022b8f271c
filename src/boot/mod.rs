//! From the loader's hand-over to a running kernel: the Multiboot information, the memory
//! map, the command line, and the boot sequence that brings every subsystem up in order.

pub mod command_line;
pub mod information;
pub mod interrupt_choice;
pub mod memory_map;
pub mod platform;
#[cfg(target_os = "none")]
pub mod processors;

#[cfg(target_os = "none")]
pub mod sequence;
