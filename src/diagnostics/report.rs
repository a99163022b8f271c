//! The text of a fault diagnostic, written once for the screen (with colors) and serial.

use core::fmt::{self, Write};

use super::backtrace::{MAXIMUM_FRAMES, StackMemory, walk_frames};
use super::exception::{EflagsDisplay, ExceptionInfo, PageFaultErrorCode, SelectorErrorCode};
use super::symbol_table::{SymbolTable, SymbolTableError};

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

/// The CPU state at the fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Registers {
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
    pub esi: u32,
    pub edi: u32,
    pub ebp: u32,
    pub esp: u32,
    pub eip: u32,
    pub cs: u32,
    pub eflags: u32,
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cr4: u32,
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

/// Writes the full diagnostic for an exception.
pub fn write_exception_report(
    out: &mut impl ReportWriter,
    exception: &ExceptionInfo,
    error_code: u32,
    detail: FaultDetail,
    registers: &Registers,
    symbols: Result<SymbolTable<'_>, SymbolTableError>,
    stack: &impl StackMemory,
) -> fmt::Result {
    out.set_style(Style::Heading);
    write!(
        out,
        " CPU EXCEPTION {} {} (vector {}) ",
        exception.mnemonic, exception.name, exception.vector
    )?;
    out.set_style(Style::Normal);
    writeln!(out)?;
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

/// Writes `backtrace:` and one line per frame: the faulting EIP first (if given), then the
/// return addresses found from `frame_pointer`, each named through `symbols`.
pub fn write_backtrace(
    out: &mut impl ReportWriter,
    instruction_pointer: Option<u32>,
    frame_pointer: u32,
    symbols: Result<SymbolTable<'_>, SymbolTableError>,
    stack: &impl StackMemory,
) -> fmt::Result {
    let mut addresses = [0u32; MAXIMUM_FRAMES + 1];
    let mut count = 0;
    if let Some(address) = instruction_pointer {
        addresses[0] = address;
        count = 1;
    }
    walk_frames(stack, frame_pointer, |address| {
        if count < addresses.len() {
            addresses[count] = address;
            count += 1;
        }
    });
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
    for (index, &address) in addresses[..count].iter().enumerate() {
        // A return address points after the call; the call itself is one byte earlier.
        let is_return_address = index > 0 || instruction_pointer.is_none();
        let lookup_address = if is_return_address { address.wrapping_sub(1) } else { address };
        out.set_style(Style::Quiet);
        write!(out, "{index:>3}  {address:#010x}  ")?;
        out.set_style(Style::Symbol);
        match symbols.ok().and_then(|table| table.lookup(lookup_address)) {
            Some(symbol) => {
                let offset = address - (lookup_address - symbol.offset);
                writeln!(out, "{}+{offset:#x}", symbol.name)?;
            }
            None => writeln!(out, "?")?,
        }
    }
    out.set_style(Style::Normal);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::exception::EXCEPTIONS;
    use super::super::symbol_table::encode;
    use super::*;
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
        )
        .unwrap();
        let lines: Vec<&str> = out.text.lines().collect();
        assert_eq!(lines[0], " CPU EXCEPTION #GP General Protection (vector 13) ");
        assert_eq!(lines[1], "error code 0x00001238: selector index 583 in the GDT");
        assert_eq!(lines[2], "EIP 0x00001010  CS 0x0008  EFLAGS 0x00010046 [PF ZF RF IOPL=0]");
        assert_eq!(lines[6], "backtrace:");
        assert_eq!(lines[7], "  0  0x00001010  kernel::faulty+0x10");
        assert_eq!(lines[8], "  1  0x00002034  kernel::caller+0x34");
        assert_eq!(lines.len(), 9);
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
}
