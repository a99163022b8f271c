//! The text of a fault diagnostic, written once for the screen (with colors) and serial.

use core::fmt::{self, Write};

use super::backtrace::{StackMemory, walk_frames};
use super::symbol_table::{SymbolTable, SymbolTableError};
use crate::arch::x86::exception::{
    EflagsDisplay, ExceptionInfo, PageFaultErrorCode, SelectorErrorCode,
};
pub use crate::arch::x86::registers::Registers;

/// The kinds of text in a report; the screen gives each its own colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Heading,
    Normal,
    Emphasis,
    Symbol,
    Quiet,
}

/// Where a report is written: text plus style changes (serial ignores the styles).
pub trait ReportWriter: Write {
    fn set_style(&mut self, style: Style);
}

/// What the error code or the circumstances say beyond the exception's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultDetail {
    None,
    Selector(SelectorErrorCode),
    PageFault {
        code: PageFaultErrorCode,
        address: u32,
    },
    /// A double fault or stack-guard hit whose interrupted ESP lies near the bottom of the
    /// kernel stack.
    StackOverflow {
        stack_bottom: u32,
        stack_top: u32,
    },
    /// A double fault with the stack in bounds.
    DoubleFault,
}

impl FaultDetail {
    /// The detail for `vector` given its error code and fault address (CR2).
    pub fn from_error_code(vector: u8, error_code: u32, fault_address: u32) -> FaultDetail {
        match vector {
            10..=13 if error_code != 0 => {
                FaultDetail::Selector(SelectorErrorCode::decode(error_code))
            }
            14 => FaultDetail::PageFault {
                code: PageFaultErrorCode(error_code),
                address: fault_address,
            },
            _ => FaultDetail::None,
        }
    }
}

/// How close to the stack bottom an ESP must be for a double fault to count as an overflow:
/// the largest frame the CPU pushes plus room for the instruction that faulted.
pub const STACK_OVERFLOW_MARGIN_BYTES: u32 = 512;

/// Classifies a double fault by where the interrupted code's stack pointer was.
pub fn classify_double_fault(esp: u32, stack_bottom: u32, stack_top: u32) -> FaultDetail {
    if esp < stack_bottom.saturating_add(STACK_OVERFLOW_MARGIN_BYTES) {
        FaultDetail::StackOverflow { stack_bottom, stack_top }
    } else {
        FaultDetail::DoubleFault
    }
}

/// The thread a fatal error struck, and the CPU it ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadLabel<'a> {
    pub id: u32,
    pub name: &'a str,
    pub cpu: usize,
}

/// "in thread 3 (shell) on CPU 1": which thread was running, once there are threads.
pub fn write_thread_line(out: &mut impl ReportWriter, thread: Option<ThreadLabel>) -> fmt::Result {
    match thread {
        Some(ThreadLabel { id, name, cpu }) => {
            writeln!(out, "in thread {id} ({name}) on CPU {cpu}")
        }
        None => Ok(()),
    }
}

/// Writes the full diagnostic for an exception.
// Each argument is one part of the report the fatal path gathered; a struct for them would
// only be built to be taken apart here.
#[allow(clippy::too_many_arguments)]
pub fn write_exception_report(
    out: &mut impl ReportWriter,
    exception: &ExceptionInfo,
    error_code: u32,
    detail: FaultDetail,
    registers: &Registers,
    symbols: Result<SymbolTable<'_>, SymbolTableError>,
    stack: &impl StackMemory,
    thread: Option<ThreadLabel>,
) -> fmt::Result {
    out.set_style(Style::Heading);
    write!(
        out,
        " CPU EXCEPTION {} {} (vector {}) ",
        exception.mnemonic, exception.name, exception.vector
    )?;
    out.set_style(Style::Normal);
    writeln!(out)?;
    write_thread_line(out, thread)?;
    if exception.has_error_code {
        write!(out, "error code {error_code:#010x}")?;
        out.set_style(Style::Emphasis);
        match detail {
            FaultDetail::Selector(selector) => write!(out, ": {selector}")?,
            FaultDetail::PageFault { code, address } => {
                write!(out, ": {code} at address {address:#010x}")?
            }
            _ => {}
        }
        out.set_style(Style::Normal);
        writeln!(out)?;
    }
    out.set_style(Style::Emphasis);
    match detail {
        FaultDetail::StackOverflow { stack_bottom, stack_top } => writeln!(
            out,
            "kernel stack overflow: ESP {:#010x} near the bottom of {stack_bottom:#010x}..{stack_top:#010x}",
            registers.esp
        )?,
        FaultDetail::DoubleFault => {
            writeln!(out, "an exception occurred while delivering another")?
        }
        FaultDetail::None | FaultDetail::Selector(_) | FaultDetail::PageFault { .. } => {}
    }
    out.set_style(Style::Normal);
    write!(
        out,
        "EIP {:#010x}  CS {:#06x}  EFLAGS {:#010x} ",
        registers.eip, registers.cs, registers.eflags
    )?;
    writeln!(out, "{}", EflagsDisplay(registers.eflags))?;
    writeln!(
        out,
        "EAX {:#010x}  EBX {:#010x}  ECX {:#010x}  EDX {:#010x}",
        registers.eax, registers.ebx, registers.ecx, registers.edx
    )?;
    writeln!(
        out,
        "ESI {:#010x}  EDI {:#010x}  EBP {:#010x}  ESP {:#010x}",
        registers.esi, registers.edi, registers.ebp, registers.esp
    )?;
    writeln!(
        out,
        "CR0 {:#010x}  CR2 {:#010x}  CR3 {:#010x}  CR4 {:#010x}",
        registers.cr0, registers.cr2, registers.cr3, registers.cr4
    )?;
    write_backtrace(out, Some(registers.eip), registers.ebp, symbols, stack)
}

/// At most this many lines of frames are shown; deep call chains would otherwise fill the
/// screen.
pub const MAXIMUM_BACKTRACE_LINES: usize = 14;

/// Writes `backtrace:` and one line per frame: the faulting EIP first (if given), then the
/// return addresses found from `frame_pointer`, each named through `symbols`. A frame repeated
/// in a row (a runaway recursion) is shown once with a count, so the frames below it still fit.
pub fn write_backtrace(
    out: &mut impl ReportWriter,
    instruction_pointer: Option<u32>,
    frame_pointer: u32,
    symbols: Result<SymbolTable<'_>, SymbolTableError>,
    stack: &impl StackMemory,
) -> fmt::Result {
    out.set_style(Style::Normal);
    write!(out, "backtrace:")?;
    if let Err(error) = symbols {
        out.set_style(Style::Quiet);
        match error {
            SymbolTableError::Missing => write!(out, " (no symbol table in this build)")?,
            SymbolTableError::Malformed => write!(out, " (symbol table is damaged)")?,
        }
    }
    writeln!(out)?;
    let mut printer = FramePrinter {
        out,
        symbols: symbols.ok(),
        index: 0,
        previous: None,
        repeats: 0,
        lines: 0,
        omitted: 0,
        result: Ok(()),
    };
    if let Some(address) = instruction_pointer {
        printer.frame(address, FrameKind::Faulting);
    }
    walk_frames(stack, frame_pointer, |address| printer.frame(address, FrameKind::Return));
    printer.finish()
}

/// Whether an address is where the fault struck or a return address (which points after the
/// call, so the call itself is one byte earlier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Faulting,
    Return,
}

/// Writes frame lines as the walk finds them, folding repeats and cutting at the line limit.
struct FramePrinter<'a, 'table, W: ReportWriter> {
    out: &'a mut W,
    symbols: Option<SymbolTable<'table>>,
    /// The number of the next frame.
    index: usize,
    previous: Option<(u32, FrameKind)>,
    /// How many frames in a row repeated `previous` without being shown.
    repeats: usize,
    lines: usize,
    omitted: usize,
    result: fmt::Result,
}

impl<W: ReportWriter> FramePrinter<'_, '_, W> {
    fn frame(&mut self, address: u32, kind: FrameKind) {
        let index = self.index;
        self.index += 1;
        if self.previous == Some((address, kind)) {
            self.repeats += 1;
            return;
        }
        self.write_repeats();
        self.previous = Some((address, kind));
        if self.lines == MAXIMUM_BACKTRACE_LINES {
            self.omitted += 1;
            return;
        }
        self.lines += 1;
        if self.result.is_ok() {
            self.result = self.write_frame(index, address, kind);
        }
    }

    fn write_frame(&mut self, index: usize, address: u32, kind: FrameKind) -> fmt::Result {
        let lookup_address = match kind {
            FrameKind::Faulting => address,
            FrameKind::Return => address.wrapping_sub(1),
        };
        self.out.set_style(Style::Quiet);
        write!(self.out, "{index:>3}  {address:#010x}  ")?;
        self.out.set_style(Style::Symbol);
        match self.symbols.and_then(|table| table.lookup(lookup_address)) {
            Some(symbol) => {
                let offset = address - (lookup_address - symbol.offset);
                writeln!(self.out, "{}+{offset:#x}", symbol.name)?;
            }
            None => writeln!(self.out, "?")?,
        }
        Ok(())
    }

    fn write_repeats(&mut self) {
        if self.repeats == 0 {
            return;
        }
        let repeats = core::mem::take(&mut self.repeats);
        if self.lines == MAXIMUM_BACKTRACE_LINES {
            self.omitted += repeats;
            return;
        }
        self.lines += 1;
        if self.result.is_ok() {
            self.out.set_style(Style::Quiet);
            self.result =
                writeln!(self.out, "     ... the same frame {} more times", Grouped(repeats));
        }
    }

    fn finish(mut self) -> fmt::Result {
        self.write_repeats();
        if self.omitted > 0 && self.result.is_ok() {
            self.out.set_style(Style::Quiet);
            self.result = writeln!(self.out, "     ... {} more frames", Grouped(self.omitted));
        }
        self.out.set_style(Style::Normal);
        self.result
    }
}

/// A number with commas between groups of three digits: 1,017.
pub struct Grouped(pub usize);

impl fmt::Display for Grouped {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 1000 {
            write!(formatter, "{},{:03}", Grouped(self.0 / 1000), self.0 % 1000)
        } else {
            write!(formatter, "{}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::symbol_table::encode;
    use super::*;
    use crate::arch::x86::exception::EXCEPTIONS;
    use std::string::String;
    use std::vec::Vec;

    /// Collects text and records where each style began.
    #[derive(Default)]
    struct Recorder {
        text: String,
        styles: Vec<(usize, Style)>,
    }

    impl Write for Recorder {
        fn write_str(&mut self, text: &str) -> fmt::Result {
            self.text.push_str(text);
            Ok(())
        }
    }

    impl ReportWriter for Recorder {
        fn set_style(&mut self, style: Style) {
            self.styles.push((self.text.len(), style));
        }
    }

    struct Stack(Vec<(u32, u32)>);

    impl StackMemory for Stack {
        fn read_word(&self, address: u32) -> Option<u32> {
            self.0.iter().find(|(at, _)| *at == address).map(|(_, value)| *value)
        }
    }

    fn registers() -> Registers {
        Registers {
            eip: 0x1010,
            ebp: 0x8000,
            esp: 0x7ff0,
            cs: 8,
            eflags: 0x10046,
            ..Registers::default()
        }
    }

    #[test]
    fn a_general_protection_report_names_everything_and_symbolizes_the_backtrace() {
        let table = encode(&[(0x1000, 0x40, "kernel::faulty"), (0x2000, 0x100, "kernel::caller")]);
        // One frame: EBP 0x8000 holds the caller's EBP (0, the end) and return address 0x2034.
        let stack = Stack(std::vec![(0x8000, 0), (0x8004, 0x2034)]);
        let mut out = Recorder::default();
        let detail = FaultDetail::from_error_code(13, 0x1238, 0);
        write_exception_report(
            &mut out,
            &EXCEPTIONS[13],
            0x1238,
            detail,
            &registers(),
            SymbolTable::parse(&table),
            &stack,
            Some(ThreadLabel { id: 3, name: "shell", cpu: 1 }),
        )
        .unwrap();
        let lines: Vec<&str> = out.text.lines().collect();
        assert_eq!(lines[0], " CPU EXCEPTION #GP General Protection (vector 13) ");
        assert_eq!(lines[1], "in thread 3 (shell) on CPU 1");
        assert_eq!(lines[2], "error code 0x00001238: selector index 583 in the GDT");
        assert_eq!(lines[3], "EIP 0x00001010  CS 0x0008  EFLAGS 0x00010046 [PF ZF RF IOPL=0]");
        assert_eq!(lines[7], "backtrace:");
        assert_eq!(lines[8], "  0  0x00001010  kernel::faulty+0x10");
        assert_eq!(lines[9], "  1  0x00002034  kernel::caller+0x34");
        assert_eq!(lines.len(), 10);
        assert_eq!(out.styles[0], (0, Style::Heading));
    }

    #[test]
    fn a_page_fault_report_gives_the_access_and_address() {
        let mut out = Recorder::default();
        let detail = FaultDetail::from_error_code(14, 0b10, 0xdead_b000);
        let stack = Stack(Vec::new());
        write_exception_report(
            &mut out,
            &EXCEPTIONS[14],
            2,
            detail,
            &registers(),
            Err(SymbolTableError::Missing),
            &stack,
            None,
        )
        .unwrap();
        assert!(out.text.contains(
            "error code 0x00000002: kernel write, page not present at address 0xdeadb000\n"
        ));
        assert!(
            out.text.contains("backtrace: (no symbol table in this build)\n  0  0x00001010  ?\n")
        );
    }

    #[test]
    fn a_double_fault_near_the_stack_bottom_is_called_a_stack_overflow() {
        assert_eq!(
            classify_double_fault(0x1_0ffc, 0x1_1000, 0x1_5000),
            FaultDetail::StackOverflow { stack_bottom: 0x1_1000, stack_top: 0x1_5000 }
        );
        assert_eq!(
            classify_double_fault(0x1_1100, 0x1_1000, 0x1_5000),
            FaultDetail::StackOverflow { stack_bottom: 0x1_1000, stack_top: 0x1_5000 }
        );
        assert_eq!(classify_double_fault(0x1_4000, 0x1_1000, 0x1_5000), FaultDetail::DoubleFault);
    }

    #[test]
    fn a_runaway_recursion_shows_the_repeated_frame_once_and_the_frames_below_it() {
        let table = encode(&[
            (0x1000, 0x100, "kernel::recurse"),
            (0x2000, 0x100, "kernel::provoke"),
            (0x3000, 0x100, "kernel::main"),
        ]);
        // 1,019 frames of `recurse` called from itself, then `provoke`, then `main`.
        let mut words = Vec::new();
        let depth = 1019;
        for frame in 0..depth + 2u32 {
            let at = 0x10_0000 + frame * 8;
            let caller = if frame == depth + 1 { 0 } else { at + 8 };
            let return_address = match frame {
                frame if frame < depth => 0x1010,
                frame if frame == depth => 0x2020,
                _ => 0x3030,
            };
            words.push((at, caller));
            words.push((at + 4, return_address));
        }
        let mut out = Recorder::default();
        write_backtrace(
            &mut out,
            Some(0x1004),
            0x10_0000,
            SymbolTable::parse(&table),
            &Stack(words),
        )
        .unwrap();
        let lines: Vec<&str> = out.text.lines().collect();
        assert_eq!(
            lines,
            [
                "backtrace:",
                "  0  0x00001004  kernel::recurse+0x4",
                "  1  0x00001010  kernel::recurse+0x10",
                "     ... the same frame 1,018 more times",
                "1020  0x00002020  kernel::provoke+0x20",
                "1021  0x00003030  kernel::main+0x30",
            ]
        );
    }

    #[test]
    fn long_chains_end_with_a_count_of_the_frames_left_out() {
        let table = encode(&[(0x1000, 0x1000, "kernel::step")]);
        let words: Vec<(u32, u32)> = (0..40u32)
            .flat_map(|frame| {
                let at = 0x10_0000 + frame * 8;
                let caller = if frame == 39 { 0 } else { at + 8 };
                [(at, caller), (at + 4, 0x1001 + frame)]
            })
            .collect();
        let mut out = Recorder::default();
        write_backtrace(&mut out, None, 0x10_0000, SymbolTable::parse(&table), &Stack(words))
            .unwrap();
        let lines: Vec<&str> = out.text.lines().collect();
        assert_eq!(lines.len(), 1 + MAXIMUM_BACKTRACE_LINES + 1);
        assert_eq!(lines.last(), Some(&"     ... 26 more frames"));
    }
}
