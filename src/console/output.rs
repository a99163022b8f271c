//! Where text goes: `print!` writes on the screen and mirrors it to COM1; `log!` is
//! serial-only. The screen's console and its lock are defined here, once.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use super::screen::Screen;
use super::vga::VgaTextSurface;
use super::{ColorCode, TextConsole};
use crate::arch::x86::serial::SerialPort;
use crate::arch::x86::vga_text::VgaTextBuffer;
use crate::sync::spin_lock::{SpinLock, SpinLockGuard};

/// The console on the screen, VGA text or framebuffer (chosen at boot).
pub type ScreenConsole = TextConsole<Screen>;

/// The screen's console. It starts in color 0 so the static is all zeroes (and costs no space
/// in the kernel file); boot sets the default colors before printing.
pub static CONSOLE: SpinLock<ScreenConsole> = SpinLock::new(TextConsole::with_color(
    // SAFETY: this static is the only `VgaTextBuffer` ever made.
    Screen::new(VgaTextSurface::new(unsafe { VgaTextBuffer::new() })),
    ColorCode::from_attribute(0),
));

/// COM1, shared by the console mirror and serial-only logging.
pub static COM1: SpinLock<SerialPort> = SpinLock::new(SerialPort::new());

/// The console's screen, shared with the demo: locked for one drawing step at a time.
pub struct ConsoleScreen;

impl crate::demo::Shared for ConsoleScreen {
    type Value = Screen;

    fn with<R>(&self, step: impl FnOnce(&mut Screen) -> R) -> R {
        step(CONSOLE.lock().surface_mut())
    }
}

/// Draws any screen output a flush deferred (see `Screen`): call before idling or halting.
pub fn draw_deferred_output() {
    CONSOLE.lock().surface_mut().draw_deferred();
}

/// Set once a fatal report has begun: from then on only the report writes.
static REPORTING_FATAL_ERROR: AtomicBool = AtomicBool::new(false);

/// Prints to the screen and COM1.
#[macro_export]
macro_rules! print {
    ($($argument:tt)*) => ($crate::console::output::print_arguments(format_args!($($argument)*)));
}

/// Prints a line to the screen and COM1.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($argument:tt)*) => ($crate::console::output::print_arguments(format_args!("{}\n", format_args!($($argument)*))));
}

/// Prints to the screen in `color` (then restores the previous color) and to COM1.
#[macro_export]
macro_rules! print_colored {
    ($color:expr, $($argument:tt)*) => ($crate::console::output::print_colored_arguments($color, format_args!($($argument)*)));
}

/// Writes a line to COM1 only: diagnostics for logs and tests that would clutter the screen.
#[macro_export]
macro_rules! log {
    ($($argument:tt)*) => ($crate::console::output::log_arguments(format_args!("{}\n", format_args!($($argument)*))));
}

#[doc(hidden)]
pub fn print_arguments(arguments: fmt::Arguments) {
    // Ignoring the fmt::Result: neither writer fails, and there is nowhere to report it.
    let _ = CONSOLE.lock().write_fmt(arguments);
    let _ = COM1.lock().write_fmt(arguments);
}

#[doc(hidden)]
pub fn print_colored_arguments(color: ColorCode, arguments: fmt::Arguments) {
    {
        let mut console = CONSOLE.lock();
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

/// Screen and serial for a fatal report, or `None` if a report is already being written (a
/// fault while reporting a fault).
///
/// The caller must have turned interrupts off and stopped the other CPUs. A fatal error may
/// strike while the code it interrupts holds either lock, and that code never runs again; with
/// interrupts off and the other CPUs halted, nothing else can take the locks between the forced
/// unlock and the new guard.
pub fn take_for_fatal_report()
-> Option<(SpinLockGuard<'static, ScreenConsole>, SpinLockGuard<'static, SerialPort>)> {
    if REPORTING_FATAL_ERROR.swap(true, Ordering::Relaxed) {
        return None;
    }
    Some((force_lock(&CONSOLE), force_lock(&COM1)))
}

/// COM1 for the last words of a fault that struck while a report was being written.
pub fn serial_for_nested_fault() -> SpinLockGuard<'static, SerialPort> {
    force_lock(&COM1)
}

fn force_lock<T>(lock: &'static SpinLock<T>) -> SpinLockGuard<'static, T> {
    if lock.is_locked() {
        // SAFETY: interrupts are off and the other CPUs are halted (the callers' contract), and
        // the holder of the lock was interrupted by a fatal error or halted, never to return,
        // so no other guard is ever used again.
        unsafe { lock.force_unlock() };
    }
    lock.lock()
}
