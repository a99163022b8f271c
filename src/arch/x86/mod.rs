//! Hardware-facing code for 32-bit x86 PCs: every `asm!`, port access and fixed address lives here.

pub mod cpu;
pub mod fault_scenarios;
pub mod gdt;
pub mod idt;
pub mod interrupts;
pub mod linker_symbols;
pub mod multiboot;
pub mod paging;
pub mod pic;
pub mod pit;
pub mod port;
pub mod power;
pub mod ps2_keyboard;
pub mod qemu_exit;
pub mod rtc;
pub mod serial;
pub mod vga_text;
