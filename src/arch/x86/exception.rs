//! The 32 x86 exception vectors and how to read what the CPU reports with them
//! (Intel SDM Vol. 3A, §6.3.1 table 6-1, §6.13 error codes, §6.15 exception reference).
#![forbid(unsafe_code)]

use core::fmt;

/// How an exception leaves the interrupted code (SDM Vol. 3A §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionClass {
    /// Reported before the faulting instruction; EIP points at it.
    Fault,
    /// Reported after the instruction; execution can continue.
    Trap,
    /// Not restartable.
    Abort,
    /// Not an exception the CPU raises (reserved vectors, NMI).
    Interrupt,
}

/// A CPU exception vector's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionInfo {
    pub vector: u8,
    /// The SDM's mnemonic, e.g. `#GP`.
    pub mnemonic: &'static str,
    pub name: &'static str,
    pub class: ExceptionClass,
    /// Whether the CPU pushes an error code for this vector.
    pub has_error_code: bool,
}

const fn exception(
    vector: u8,
    mnemonic: &'static str,
    name: &'static str,
    class: ExceptionClass,
    has_error_code: bool,
) -> ExceptionInfo {
    ExceptionInfo { vector, mnemonic, name, class, has_error_code }
}

use ExceptionClass::{Abort, Fault, Interrupt, Trap};

/// Vectors 0-31 as the SDM lists them.
pub const EXCEPTIONS: [ExceptionInfo; 32] = [
    exception(0, "#DE", "Divide Error", Fault, false),
    exception(1, "#DB", "Debug", Trap, false),
    exception(2, "NMI", "Non-Maskable Interrupt", Interrupt, false),
    exception(3, "#BP", "Breakpoint", Trap, false),
    exception(4, "#OF", "Overflow", Trap, false),
    exception(5, "#BR", "BOUND Range Exceeded", Fault, false),
    exception(6, "#UD", "Invalid Opcode", Fault, false),
    exception(7, "#NM", "Device Not Available", Fault, false),
    exception(8, "#DF", "Double Fault", Abort, true),
    exception(9, "CSO", "Coprocessor Segment Overrun", Abort, false),
    exception(10, "#TS", "Invalid TSS", Fault, true),
    exception(11, "#NP", "Segment Not Present", Fault, true),
    exception(12, "#SS", "Stack-Segment Fault", Fault, true),
    exception(13, "#GP", "General Protection", Fault, true),
    exception(14, "#PF", "Page Fault", Fault, true),
    exception(15, "-", "Reserved", Interrupt, false),
    exception(16, "#MF", "x87 Floating-Point Error", Fault, false),
    exception(17, "#AC", "Alignment Check", Fault, true),
    exception(18, "#MC", "Machine Check", Abort, false),
    exception(19, "#XM", "SIMD Floating-Point Exception", Fault, false),
    exception(20, "#VE", "Virtualization Exception", Fault, false),
    exception(21, "#CP", "Control Protection", Fault, true),
    exception(22, "-", "Reserved", Interrupt, false),
    exception(23, "-", "Reserved", Interrupt, false),
    exception(24, "-", "Reserved", Interrupt, false),
    exception(25, "-", "Reserved", Interrupt, false),
    exception(26, "-", "Reserved", Interrupt, false),
    exception(27, "-", "Reserved", Interrupt, false),
    exception(28, "#HV", "Hypervisor Injection", Interrupt, false),
    exception(29, "#VC", "VMM Communication", Fault, true),
    exception(30, "#SX", "Security Exception", Fault, true),
    exception(31, "-", "Reserved", Interrupt, false),
];

/// What happens when `vector` is raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionResponse {
    /// Print a one-line note and return to the interrupted code.
    NoteAndContinue,
    /// Print the full diagnostic and halt.
    Fatal,
}

/// Traps that leave the code runnable (NMI, breakpoint, overflow) continue; the rest stop the
/// kernel with a diagnostic. (#DB is fatal: the kernel uses its watchpoints as a stack guard.)
pub fn response_to(vector: u8) -> ExceptionResponse {
    match vector {
        2..=4 => ExceptionResponse::NoteAndContinue,
        _ => ExceptionResponse::Fatal,
    }
}

/// Which descriptor table a selector error code points into (SDM Vol. 3A §6.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescriptorTable {
    Gdt,
    Idt,
    Ldt,
}

/// A selector error code, as pushed by #TS, #NP, #SS and #GP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectorErrorCode {
    /// The event came from outside the program (an interrupt or an earlier exception).
    pub external: bool,
    pub table: DescriptorTable,
    pub index: u16,
}

impl SelectorErrorCode {
    pub fn decode(code: u32) -> SelectorErrorCode {
        let table = if code & 0b10 != 0 {
            DescriptorTable::Idt
        } else if code & 0b100 != 0 {
            DescriptorTable::Ldt
        } else {
            DescriptorTable::Gdt
        };
        SelectorErrorCode { external: code & 1 != 0, table, index: ((code >> 3) & 0x1fff) as u16 }
    }
}

impl fmt::Display for SelectorErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = match self.table {
            DescriptorTable::Gdt => "GDT",
            DescriptorTable::Idt => "IDT",
            DescriptorTable::Ldt => "LDT",
        };
        write!(formatter, "selector index {} in the {table}", self.index)?;
        if self.external {
            write!(formatter, ", external event")?;
        }
        Ok(())
    }
}

/// A page-fault error code (SDM Vol. 3A §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFaultErrorCode(pub u32);

impl PageFaultErrorCode {
    pub fn present(self) -> bool {
        self.0 & 1 != 0
    }
    pub fn write(self) -> bool {
        self.0 & 2 != 0
    }
    pub fn user(self) -> bool {
        self.0 & 4 != 0
    }
    pub fn reserved_bit(self) -> bool {
        self.0 & 8 != 0
    }
    pub fn instruction_fetch(self) -> bool {
        self.0 & 16 != 0
    }
}

impl fmt::Display for PageFaultErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = if self.instruction_fetch() {
            "instruction fetch"
        } else if self.write() {
            "write"
        } else {
            "read"
        };
        let cause = if self.present() { "protection violation" } else { "page not present" };
        let mode = if self.user() { "user" } else { "kernel" };
        write!(formatter, "{mode} {access}, {cause}")?;
        if self.reserved_bit() {
            write!(formatter, ", reserved bit set in a paging entry")?;
        }
        Ok(())
    }
}

/// EFLAGS bits with their SDM names (Vol. 1 §3.4.3), lowest first.
const EFLAGS_NAMES: [(u32, &str); 15] = [
    (1 << 0, "CF"),
    (1 << 2, "PF"),
    (1 << 4, "AF"),
    (1 << 6, "ZF"),
    (1 << 7, "SF"),
    (1 << 8, "TF"),
    (1 << 9, "IF"),
    (1 << 10, "DF"),
    (1 << 11, "OF"),
    (1 << 14, "NT"),
    (1 << 16, "RF"),
    (1 << 17, "VM"),
    (1 << 18, "AC"),
    (1 << 19, "VIF"),
    (1 << 21, "ID"),
];

/// EFLAGS shown as the names of its set flags and its I/O privilege level, e.g. `[ZF IF IOPL=0]`.
pub struct EflagsDisplay(pub u32);

impl fmt::Display for EflagsDisplay {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "[")?;
        for (bit, name) in EFLAGS_NAMES {
            if self.0 & bit != 0 {
                write!(formatter, "{name} ")?;
            }
        }
        write!(formatter, "IOPL={}]", (self.0 >> 12) & 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn the_table_is_indexed_by_vector_and_error_codes_match_the_sdm() {
        for (index, info) in EXCEPTIONS.iter().enumerate() {
            assert_eq!(info.vector as usize, index);
        }
        let with_error_code: std::vec::Vec<u8> =
            EXCEPTIONS.iter().filter(|info| info.has_error_code).map(|info| info.vector).collect();
        assert_eq!(with_error_code, [8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
        assert_eq!(EXCEPTIONS[13].mnemonic, "#GP");
        assert_eq!(EXCEPTIONS[14].name, "Page Fault");
    }

    #[test]
    fn breakpoints_continue_and_faults_are_fatal() {
        assert_eq!(response_to(3), ExceptionResponse::NoteAndContinue);
        assert_eq!(response_to(1), ExceptionResponse::Fatal);
        assert_eq!(response_to(0), ExceptionResponse::Fatal);
        assert_eq!(response_to(13), ExceptionResponse::Fatal);
    }

    #[test]
    fn selector_error_codes_name_the_table_and_index() {
        // Selector 0x1238: index 0x247 in the GDT, not external.
        let code = SelectorErrorCode::decode(0x1238);
        assert_eq!(
            code,
            SelectorErrorCode { external: false, table: DescriptorTable::Gdt, index: 0x247 }
        );
        assert_eq!(code.to_string(), "selector index 583 in the GDT");
        // IDT vector 13 reached from an external event: (13 << 3) | IDT | EXT.
        let code = SelectorErrorCode::decode((13 << 3) | 0b11);
        assert_eq!(code.table, DescriptorTable::Idt);
        assert_eq!(code.to_string(), "selector index 13 in the IDT, external event");
        assert_eq!(SelectorErrorCode::decode(0b100).table, DescriptorTable::Ldt);
    }

    #[test]
    fn page_fault_error_codes_name_the_access() {
        assert_eq!(PageFaultErrorCode(0b00000).to_string(), "kernel read, page not present");
        assert_eq!(PageFaultErrorCode(0b00011).to_string(), "kernel write, protection violation");
        assert_eq!(
            PageFaultErrorCode(0b10101).to_string(),
            "user instruction fetch, protection violation"
        );
        assert_eq!(
            PageFaultErrorCode(0b01001).to_string(),
            "kernel read, protection violation, reserved bit set in a paging entry"
        );
    }

    #[test]
    fn eflags_are_listed_by_name_with_the_io_privilege_level() {
        assert_eq!(EflagsDisplay(0x0000_0002).to_string(), "[IOPL=0]");
        assert_eq!(EflagsDisplay(0x0001_0246).to_string(), "[PF ZF IF RF IOPL=0]");
        assert_eq!(EflagsDisplay(0x0000_3087).to_string(), "[CF PF SF IOPL=3]");
    }
}
