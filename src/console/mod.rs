//! The console: colors, the surface seam with the layout logic that writes on it, the bitmap
//! font and the framebuffer surface, keyboard decoding (all portable), and in the kernel the
//! screen, `print!` and keyboard input.

pub mod color;
pub mod device;
pub mod font;
pub mod framebuffer;
pub mod keyboard;
pub mod surface;
pub mod text_console;

#[cfg(target_os = "none")]
pub mod input;
#[cfg(target_os = "none")]
pub mod output;
#[cfg(target_os = "none")]
pub mod screen;
#[cfg(target_os = "none")]
pub mod vga;

pub use color::{Color, ColorCode, ScreenChar};
pub use surface::{MemorySurface, TextSurface};
pub use text_console::TextConsole;
