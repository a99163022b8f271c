//! Boots the kernel in QEMU and reads what a person would see: VGA cells, serial text, exit code.

pub mod qemu;
pub mod screen;

pub use qemu::{Boot, Firmware, Medium, Qemu, QemuExit, ScreenMode};
pub use screen::{Cell, Color, Image, Screen};
