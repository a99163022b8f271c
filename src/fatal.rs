//! Showing fatal errors: CPU exception diagnostics and panics go to the screen (in their own
//! colors) and serial at once, then the kernel halts, or under the test harness ends QEMU.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use spin::MutexGuard;

use crate::arch::x86::cpu::halt_forever;
use crate::arch::x86::interrupts::KernelStacks;
use crate::arch::x86::linker_symbols::symbol_table_bytes;
use crate::arch::x86::qemu_exit::{ExitCode, exit_qemu};
use crate::arch::x86::serial::{COM1, SerialPort, com1_for_panic};
use crate::arch::x86::vga_text::{VGA_CONSOLE, VgaTextBuffer, vga_console_for_panic};
use crate::console::{Color, ColorCode, TextConsole};
use crate::diagnostics::exception::ExceptionInfo;
use crate::diagnostics::report::{
    FaultDetail, Registers, ReportWriter, Style, write_backtrace, write_exception_report,
};
use crate::diagnostics::symbol_table::{Symbol, SymbolTable, SymbolTableError};

/// What happens after a fatal error has been shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatalAction {
    /// Halt with the message on screen (a normal boot).
    Halt,
    /// End QEMU through isa-debug-exit with status 35 (the `test` word).
    ExitQemu,
}

static EXIT_QEMU_ON_FATAL: AtomicBool = AtomicBool::new(false);
static REPORT_IN_PROGRESS: AtomicBool = AtomicBool::new(false);

/// Chooses what panics and fatal exceptions do after printing.
pub fn set_fatal_action(action: FatalAction) {
    EXIT_QEMU_ON_FATAL.store(action == FatalAction::ExitQemu, Ordering::Relaxed);
}

/// Colors of each kind of report text.
#[derive(Clone, Copy)]
pub struct Palette {
    heading: ColorCode,
    normal: ColorCode,
    emphasis: ColorCode,
    symbol: ColorCode,
    quiet: ColorCode,
}

/// CPU exceptions: a blue screen, so they are never mistaken for ordinary output.
pub const EXCEPTION_PALETTE: Palette = Palette {
    heading: ColorCode::new(Color::White, Color::Red),
    normal: ColorCode::new(Color::White, Color::Blue),
    emphasis: ColorCode::new(Color::Yellow, Color::Blue),
    symbol: ColorCode::new(Color::LightCyan, Color::Blue),
    quiet: ColorCode::new(Color::LightGray, Color::Blue),
};

/// Panics: white and yellow on red.
pub const PANIC_PALETTE: Palette = Palette {
    heading: ColorCode::new(Color::White, Color::Red),
    normal: ColorCode::new(Color::White, Color::Red),
    emphasis: ColorCode::new(Color::Yellow, Color::Red),
    symbol: ColorCode::new(Color::Yellow, Color::Red),
    quiet: ColorCode::new(Color::LightGray, Color::Red),
};

/// Screen and serial together, taken by force: the error may have struck while either lock
/// was held, and this path never returns to the holder.
pub struct FatalOutput {
    console: MutexGuard<'static, TextConsole<VgaTextBuffer>>,
    serial: MutexGuard<'static, SerialPort>,
    palette: Palette,
}

impl FatalOutput {
    pub fn take(palette: Palette) -> FatalOutput {
        let mut output =
            FatalOutput { console: vga_console_for_panic(), serial: com1_for_panic(), palette };
        output.set_style(Style::Normal);
        output
    }

    /// Ends the report with the halted banner, releases screen and serial, and stops.
    pub fn finish(mut self) -> ! {
        self.set_style(Style::Heading);
        let _ = write!(self, " System halted. ");
        self.set_style(Style::Normal);
        let _ = writeln!(self);
        drop(self);
        stop()
    }

    /// Blanks the screen in the palette's normal colors.
    pub fn clear_screen(&mut self) {
        self.console.set_color(self.palette.normal);
        self.console.clear();
    }
}

impl Write for FatalOutput {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.console.write_str(text);
        self.serial.send_str(text);
        Ok(())
    }
}

impl ReportWriter for FatalOutput {
    fn set_style(&mut self, style: Style) {
        let palette = self.palette;
        self.console.set_color(match style {
            Style::Heading => palette.heading,
            Style::Normal => palette.normal,
            Style::Emphasis => palette.emphasis,
            Style::Symbol => palette.symbol,
            Style::Quiet => palette.quiet,
        });
    }
}

fn symbols() -> Result<SymbolTable<'static>, SymbolTableError> {
    SymbolTable::parse(symbol_table_bytes())
}

/// Ends the kernel after a fatal report: halt, or QEMU's failure exit under the test harness.
pub fn stop() -> ! {
    if EXIT_QEMU_ON_FATAL.load(Ordering::Relaxed) {
        exit_qemu(ExitCode::Failure)
    }
    halt_forever()
}

/// Shows the full diagnostic for a fatal CPU exception and stops.
pub fn report_exception(
    exception: &ExceptionInfo,
    error_code: u32,
    detail: FaultDetail,
    registers: &Registers,
) -> ! {
    if REPORT_IN_PROGRESS.swap(true, Ordering::Relaxed) {
        // A fault while reporting a fault: say so on serial, as plainly as possible, and stop.
        let mut serial = com1_for_panic();
        let _ = writeln!(
            serial,
            "\nfatal: {} while reporting an earlier fault; halting",
            exception.mnemonic
        );
        stop()
    }
    let mut output = FatalOutput::take(EXCEPTION_PALETTE);
    output.clear_screen();
    let _ = write_exception_report(
        &mut output,
        exception,
        error_code,
        detail,
        registers,
        symbols(),
        &KernelStacks,
    );
    output.finish()
}

/// Writes the backtrace of the code that called the panic handler.
pub fn write_panic_backtrace(output: &mut FatalOutput, frame_pointer: u32) {
    let _ = write_backtrace(output, None, frame_pointer, symbols(), &KernelStacks);
}

/// A one-line note for a trap that lets execution continue (NMI, breakpoint, overflow).
/// The trap may fire while the console is in use; the note then goes to serial only.
pub fn note_trap(exception: &ExceptionInfo, instruction_pointer: u32) {
    // A trap's EIP is the next instruction; the one that trapped ends just before it.
    let symbol = symbols().ok().and_then(|table| table.lookup(instruction_pointer.wrapping_sub(1)));
    let line = NoteLine { exception, instruction_pointer, symbol };
    if let Some(mut console) = VGA_CONSOLE.try_lock() {
        let previous = console.color();
        console.set_color(ColorCode::new(Color::Yellow, Color::Black));
        let _ = line.write_to(&mut *console);
        console.set_color(previous);
    }
    if let Some(mut serial) = COM1.try_lock() {
        let _ = line.write_to(&mut *serial);
    }
}

struct NoteLine<'a> {
    exception: &'a ExceptionInfo,
    instruction_pointer: u32,
    symbol: Option<Symbol<'a>>,
}

impl NoteLine<'_> {
    fn write_to(&self, out: &mut impl Write) -> fmt::Result {
        write!(
            out,
            "{} {} (vector {}) at {:#010x}",
            self.exception.mnemonic,
            self.exception.name,
            self.exception.vector,
            self.instruction_pointer
        )?;
        if let Some(symbol) = self.symbol {
            // The offset of EIP itself, one past the trapping instruction's last byte.
            write!(out, " in {}+{:#x}", symbol.name, symbol.offset + 1)?;
        }
        writeln!(out, "; continuing")
    }
}
