//! Boots the kernel in QEMU and reads what a person would see: VGA cells, serial text, exit code.

pub mod qemu;
pub mod screen;

pub use qemu::{Boot, Qemu, QemuExit};
pub use screen::{Cell, Color, Screen};
