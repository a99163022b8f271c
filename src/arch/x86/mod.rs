//! 32-bit x86 PCs. The pure modules (bit layouts, tables, decoders) build everywhere and are
//! host-tested; the hardware-facing ones, where every `asm!`, port access and fixed address
//! lives, build only for the kernel target.

pub mod cmos_clock;
pub mod cpu_features;
pub mod descriptors;
pub mod exception;
pub mod page_table;
pub mod platform;
pub mod ps2_controller;
pub mod registers;
pub mod sse_lanes;
pub mod vectors;

#[cfg(target_os = "none")]
pub mod context;
#[cfg(target_os = "none")]
pub mod cpu;
#[cfg(target_os = "none")]
pub mod faults;
#[cfg(target_os = "none")]
pub mod gdt;
#[cfg(target_os = "none")]
pub mod idt;
#[cfg(target_os = "none")]
pub mod interrupt_nesting;
#[cfg(target_os = "none")]
pub mod interrupts;
#[cfg(target_os = "none")]
pub mod linear_framebuffer;
#[cfg(target_os = "none")]
pub mod linker_symbols;
#[cfg(target_os = "none")]
pub mod paging;
#[cfg(target_os = "none")]
pub mod physical_memory;
#[cfg(target_os = "none")]
pub mod pic;
#[cfg(target_os = "none")]
pub mod pit;
#[cfg(target_os = "none")]
pub mod port;
#[cfg(target_os = "none")]
pub mod power;
#[cfg(target_os = "none")]
pub mod ps2_keyboard;
#[cfg(target_os = "none")]
pub mod qemu_exit;
#[cfg(target_os = "none")]
pub mod rtc;
#[cfg(target_os = "none")]
pub mod serial;
#[cfg(target_os = "none")]
pub mod stacks;
#[cfg(target_os = "none")]
pub mod vga_text;
