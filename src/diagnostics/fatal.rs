//! Showing fatal errors: the kernel's exception handlers (registered with arch at boot) and the
//! panic path first stop the other CPUs (a non-maskable interrupt reaches them even with
//! interrupts off), then write their diagnostic to the screen, in its own colors, and to serial
//! at once; then the kernel halts, or under the test harness ends QEMU.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use super::backtrace::StackMemory;
use super::report::{
    FaultDetail, ReportWriter, Style, ThreadLabel, classify_double_fault, write_backtrace,
    write_exception_report,
};
use super::symbol_table::{Symbol, SymbolTable, SymbolTableError};
use crate::arch::x86::cpu::{disable_interrupts, halt_forever};
use crate::arch::x86::exception::ExceptionInfo;
use crate::arch::x86::interrupts::{ExceptionHandlers, Fault, FaultEntry};
use crate::arch::x86::linker_symbols::symbol_table_bytes;
use crate::arch::x86::local_apic;
use crate::arch::x86::per_cpu::current_index;
use crate::arch::x86::qemu_exit::{ExitCode, exit_qemu};
use crate::arch::x86::serial::SerialPort;
use crate::arch::x86::stacks::{boot_stack_bounds, double_fault_stack_bounds, read_stack_word};
use crate::arch::x86::vectors::{BREAKPOINT_VECTOR, NMI_VECTOR};
use crate::console::output::{
    COM1, CONSOLE, ScreenConsole, serial_for_nested_fault, take_for_fatal_report,
};
use crate::console::{Color, ColorCode};
use crate::sync::spin_lock::SpinLockGuard;
use crate::thread::scheduler::current_thread;
use crate::time::uptime_microseconds;

/// The handlers `boot::sequence` installs with `arch::x86::interrupts::initialize`.
pub const EXCEPTION_HANDLERS: ExceptionHandlers =
    ExceptionHandlers { fatal: report_exception, trap: note_trap };

/// What happens after a fatal error has been shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatalAction {
    /// Halt with the message on screen (a normal boot).
    Halt,
    /// End QEMU through isa-debug-exit with status 35 (the `test` word).
    ExitQemu,
}

static EXIT_QEMU_ON_FATAL: AtomicBool = AtomicBool::new(false);

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

/// No CPU is writing a fatal report.
const NO_CPU: usize = usize::MAX;
/// The CPU writing a fatal report; the first to fail writes it, the others stop.
static REPORTING_CPU: AtomicUsize = AtomicUsize::new(NO_CPU);
/// How many CPUs besides the bootstrap processor run, so a report knows whom to stop.
static OTHER_CPUS: AtomicUsize = AtomicUsize::new(0);
/// The CPUs (bit per index) that stopped for a report.
static STOPPED_CPUS: AtomicU64 = AtomicU64::new(0);
/// How long a report waits for the other CPUs to stop before it writes anyway.
const STOP_TIMEOUT_MICROSECONDS: u64 = 100_000;

/// Counts one more CPU that fatal reports must stop (called by each application processor as
/// it comes online).
pub fn add_other_cpu() {
    OTHER_CPUS.fetch_add(1, Ordering::AcqRel);
}

/// Makes this CPU the one that writes the report and stops the others: a non-maskable interrupt
/// to each, whose handler halts (`note_trap`). Returns how many stopped. If another CPU already
/// reports, this one halts at once; a fault while this CPU reports goes on to `take`'s nested
/// path.
fn stop_other_cpus() -> Option<(usize, usize)> {
    let this = current_index();
    match REPORTING_CPU.compare_exchange(NO_CPU, this, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {}
        Err(reporting) if reporting == this => return None,
        Err(_) => halt_for_report(),
    }
    let others = OTHER_CPUS.load(Ordering::Acquire);
    if others == 0 {
        return None;
    }
    local_apic::send_nmi_to_all_others();
    let started = uptime_microseconds();
    let stopped = || STOPPED_CPUS.load(Ordering::Acquire).count_ones() as usize;
    while stopped() < others && uptime_microseconds() - started < STOP_TIMEOUT_MICROSECONDS {
        core::hint::spin_loop();
    }
    Some((stopped(), others))
}

/// Where another CPU's report stops this one: counted, then halted for good.
fn halt_for_report() -> ! {
    STOPPED_CPUS.fetch_or(1 << current_index(), Ordering::AcqRel);
    halt_forever()
}

/// Screen and serial together, for one fatal report.
pub struct FatalOutput {
    console: SpinLockGuard<'static, ScreenConsole>,
    serial: SpinLockGuard<'static, SerialPort>,
    palette: Palette,
    /// The other CPUs this report stopped, of how many run.
    stopped_cpus: Option<(usize, usize)>,
}

impl FatalOutput {
    /// Turns interrupts off, stops the other CPUs and takes screen and serial for the report. A
    /// fault while a report is already being written gets one line on serial, and the kernel
    /// stops.
    pub fn take(palette: Palette, what: &str) -> FatalOutput {
        disable_interrupts();
        let stopped_cpus = stop_other_cpus();
        let Some((console, serial)) = take_for_fatal_report() else {
            let _ = writeln!(
                serial_for_nested_fault(),
                "\nfatal: {what} while reporting an earlier error; halting"
            );
            stop()
        };
        let mut output = FatalOutput { console, serial, palette, stopped_cpus };
        output.set_style(Style::Normal);
        output
    }

    /// Ends the report with the other CPUs' fate and the halted banner, releases screen and
    /// serial, and stops.
    pub fn finish(mut self) -> ! {
        if let Some((stopped, others)) = self.stopped_cpus {
            self.set_style(Style::Quiet);
            let _ = writeln!(self, "other CPUs stopped before this report: {stopped} of {others}");
        }
        self.set_style(Style::Heading);
        let _ = write!(self, " System halted. ");
        self.set_style(Style::Normal);
        let _ = writeln!(self);
        self.console.surface_mut().draw_deferred();
        drop(self);
        stop()
    }

    /// Blanks the screen in the palette's normal colors.
    pub fn clear_screen(&mut self) {
        self.console.set_color(self.palette.normal);
        self.console.clear();
    }

    /// Writes the backtrace from `frame_pointer` (the panic handler's caller).
    pub fn write_backtrace(&mut self, frame_pointer: u32) {
        let _ = write_backtrace(self, None, frame_pointer, symbols(), &KernelStacks);
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

/// The kernel's stacks, the only memory a backtrace reads.
struct KernelStacks;

impl StackMemory for KernelStacks {
    fn read_word(&self, address: u32) -> Option<u32> {
        read_stack_word(
            address,
            &[current_stack_bounds(), boot_stack_bounds(), double_fault_stack_bounds()],
        )
    }
}

/// The running thread's stack (the boot stack before threads start).
fn current_stack_bounds() -> (u32, u32) {
    current_thread()
        .map_or_else(boot_stack_bounds, |thread| (thread.stack_bottom, thread.stack_top))
}

/// The running thread's number and name and this CPU, for the report.
pub fn current_thread_label() -> Option<ThreadLabel<'static>> {
    current_thread().map(|thread| ThreadLabel {
        id: thread.id,
        name: thread.name,
        cpu: current_index(),
    })
}

/// Ends the kernel after a fatal report: halt, or QEMU's failure exit under the test harness.
pub fn stop() -> ! {
    if EXIT_QEMU_ON_FATAL.load(Ordering::Relaxed) {
        exit_qemu(ExitCode::Failure)
    }
    halt_forever()
}

/// Shows the full diagnostic for a fatal CPU exception and stops.
fn report_exception(fault: &Fault) -> ! {
    let registers = &fault.registers;
    let detail = match fault.entry {
        FaultEntry::DoubleFaultTask => {
            let (bottom, top) = current_stack_bounds();
            classify_double_fault(registers.esp, bottom, top)
        }
        FaultEntry::InterruptGate => {
            FaultDetail::from_error_code(fault.exception.vector, fault.error_code, registers.cr2)
        }
    };
    let mut output = FatalOutput::take(EXCEPTION_PALETTE, fault.exception.mnemonic);
    output.clear_screen();
    let _ = write_exception_report(
        &mut output,
        fault.exception,
        fault.error_code,
        detail,
        registers,
        symbols(),
        &KernelStacks,
        current_thread_label(),
    );
    output.finish()
}

static BREAKPOINTS: AtomicU32 = AtomicU32::new(0);
static QUIET_BREAKPOINTS: AtomicBool = AtomicBool::new(false);

/// How many breakpoint traps have been taken.
pub fn breakpoint_count() -> u32 {
    BREAKPOINTS.load(Ordering::Relaxed)
}

/// Whether breakpoints print their one-line note (tests and benchmarks turn it off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakpointNotes {
    Show,
    Quiet,
}

pub fn set_breakpoint_notes(notes: BreakpointNotes) {
    QUIET_BREAKPOINTS.store(notes == BreakpointNotes::Quiet, Ordering::Relaxed);
}

/// A one-line note for a trap that lets execution continue (NMI, breakpoint, overflow).
/// The trap may fire while the console is in use; the note then goes to serial only. An NMI
/// while another CPU writes a fatal report is that report stopping this CPU.
fn note_trap(exception: &'static ExceptionInfo, instruction_pointer: u32) {
    let reporting = REPORTING_CPU.load(Ordering::Acquire);
    if exception.vector == NMI_VECTOR && reporting != NO_CPU && reporting != current_index() {
        halt_for_report();
    }
    if exception.vector == BREAKPOINT_VECTOR {
        BREAKPOINTS.fetch_add(1, Ordering::Relaxed);
        if QUIET_BREAKPOINTS.load(Ordering::Relaxed) {
            return;
        }
    }
    // A trap's EIP is the next instruction; the one that trapped ends just before it.
    let symbol = symbols().ok().and_then(|table| table.lookup(instruction_pointer.wrapping_sub(1)));
    let line = NoteLine { exception, instruction_pointer, symbol };
    if let Some(mut console) = CONSOLE.try_lock() {
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
