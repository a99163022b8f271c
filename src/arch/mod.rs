//! Architecture support; only 32-bit x86 PCs for now.
//!
//! `arch` is a leaf: it offers mechanisms (load a table, program a timer, measure one window,
//! call the handler registered for an IRQ) and never names a module outside `arch`. The kernel
//! registers its handlers here (`x86::interrupts::initialize`, `register_irq_handler`).

pub mod x86;
