//! Portable text console: colors, the surface seam, and the layout logic that writes on it.

pub mod color;
pub mod font;
pub mod framebuffer;
pub mod surface;
pub mod text_console;

pub use color::{Color, ColorCode, ScreenChar};
pub use framebuffer::{FramebufferSurface, PixelMemory};
pub use surface::{MemorySurface, TextSurface};
pub use text_console::TextConsole;
