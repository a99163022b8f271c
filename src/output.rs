//! Where text goes: `print!` writes on the screen and mirrors it to COM1; `log!` is serial-only.

use core::fmt::{self, Write};

use crate::arch::x86::serial::COM1;
use crate::arch::x86::vga_text::VGA_CONSOLE;
use crate::console::ColorCode;

/// Prints to the screen and COM1.
#[macro_export]
macro_rules! print {
    ($($argument:tt)*) => ($crate::output::print_arguments(format_args!($($argument)*)));
}

/// Prints a line to the screen and COM1.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($argument:tt)*) => ($crate::output::print_arguments(format_args!("{}\n", format_args!($($argument)*))));
}

/// Prints to the screen in `color` (then restores the previous color) and to COM1.
#[macro_export]
macro_rules! print_colored {
    ($color:expr, $($argument:tt)*) => ($crate::output::print_colored_arguments($color, format_args!($($argument)*)));
}

/// Writes a line to COM1 only: diagnostics for logs and tests that would clutter the screen.
#[macro_export]
macro_rules! log {
    ($($argument:tt)*) => ($crate::output::log_arguments(format_args!("{}\n", format_args!($($argument)*))));
}

#[doc(hidden)]
pub fn print_arguments(arguments: fmt::Arguments) {
    // Ignoring the fmt::Result: neither writer fails, and there is nowhere to report it.
    let _ = VGA_CONSOLE.lock().write_fmt(arguments);
    let _ = COM1.lock().write_fmt(arguments);
}

#[doc(hidden)]
pub fn print_colored_arguments(color: ColorCode, arguments: fmt::Arguments) {
    {
        let mut console = VGA_CONSOLE.lock();
        let previous = console.color();
        console.set_color(color);
        let _ = console.write_fmt(arguments);
        console.set_color(previous);
    }
    let _ = COM1.lock().write_fmt(arguments);
}

#[doc(hidden)]
pub fn log_arguments(arguments: fmt::Arguments) {
    let _ = COM1.lock().write_fmt(arguments);
}
