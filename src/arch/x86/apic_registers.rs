//! Register layouts of the local APIC (Intel SDM Vol. 3A ch. 11, "Advanced Programmable
//! Interrupt Controller (APIC)"; ch. 12 in editions from 2023 on, same section numbers below
//! that) and of the I/O APIC (Intel 82093AA datasheet §3): register offsets, the
//! interrupt command, local vector table entries, the timer's divider and redirection entries.
#![forbid(unsafe_code)]

use super::platform::{Polarity, Trigger};

/// Local APIC register offsets from its base address (SDM Vol. 3A §11.4.1, table 11-1).
pub const LOCAL_APIC_ID: usize = 0x20;
pub const LOCAL_APIC_VERSION: usize = 0x30;
pub const TASK_PRIORITY: usize = 0x80;
pub const END_OF_INTERRUPT: usize = 0xb0;
pub const SPURIOUS_INTERRUPT_VECTOR: usize = 0xf0;
pub const ERROR_STATUS: usize = 0x280;
pub const INTERRUPT_COMMAND_LOW: usize = 0x300;
pub const INTERRUPT_COMMAND_HIGH: usize = 0x310;
pub const LOCAL_VECTOR_TIMER: usize = 0x320;
pub const LOCAL_VECTOR_LINT0: usize = 0x350;
pub const LOCAL_VECTOR_LINT1: usize = 0x360;
pub const LOCAL_VECTOR_ERROR: usize = 0x370;
pub const TIMER_INITIAL_COUNT: usize = 0x380;
pub const TIMER_CURRENT_COUNT: usize = 0x390;
pub const TIMER_DIVIDE_CONFIGURATION: usize = 0x3e0;
/// The registers fit in one 4 KiB page.
pub const LOCAL_APIC_REGISTERS_BYTES: usize = 4096;

/// IA32_APIC_BASE (SDM Vol. 3A §11.4.4): bit 8 marks the bootstrap processor, bit 11 enables
/// the local APIC globally.
pub const IA32_APIC_BASE: u32 = 0x1b;
pub const APIC_BASE_BOOTSTRAP_PROCESSOR: u64 = 1 << 8;
pub const APIC_BASE_GLOBAL_ENABLE: u64 = 1 << 11;

/// Spurious-interrupt vector register bit 8: the APIC software enable (SDM Vol. 3A §11.9).
const APIC_SOFTWARE_ENABLE: u32 = 1 << 8;

/// The spurious-interrupt vector register's value that enables the local APIC and names its
/// spurious vector.
pub const fn spurious_interrupt_register(vector: u8) -> u32 {
    APIC_SOFTWARE_ENABLE | vector as u32
}

/// Local vector table entries (SDM Vol. 3A §11.5.1, figure 11-8).
pub const LOCAL_VECTOR_MASKED: u32 = 1 << 16;
/// Delivery mode NMI (100b in bits 8-10) for LINT1, where PCs wire the NMI line.
pub const LOCAL_VECTOR_NMI: u32 = 0b100 << 8;
/// Delivery mode ExtINT (111b): the 8259's interrupt, its vector read from the 8259 ("virtual
/// wire" mode, SDM Vol. 3A §11.5.1; MultiProcessor Specification 1.4 §3.6.2.2).
pub const LOCAL_VECTOR_EXTERNAL_INTERRUPT: u32 = 0b111 << 8;
const TIMER_MODE_PERIODIC: u32 = 0b01 << 17;

/// How the local APIC timer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerMode {
    /// Counts down once from the initial count.
    OneShot,
    /// Reloads the initial count each time it reaches zero, interrupting each time.
    Periodic,
}

/// The timer's local vector table entry.
pub const fn timer_entry(vector: u8, mode: TimerMode, masked: bool) -> u32 {
    let mode_bits = match mode {
        TimerMode::OneShot => 0,
        TimerMode::Periodic => TIMER_MODE_PERIODIC,
    };
    let mask_bit = if masked { LOCAL_VECTOR_MASKED } else { 0 };
    vector as u32 | mode_bits | mask_bit
}

/// The divide configuration register's value for dividing the bus clock by `divisor` (1, 2, 4
/// ... 128), or `None` for any other divisor (SDM Vol. 3A §11.5.4, figure 11-10: a 3-bit code
/// in bits 0, 1 and 3, 111b meaning 1 and otherwise log2(divisor) - 1).
pub const fn timer_divide_configuration(divisor: u32) -> Option<u32> {
    let code = match divisor {
        1 => 0b111,
        2 | 4 | 8 | 16 | 32 | 64 | 128 => divisor.trailing_zeros() - 1,
        _ => return None,
    };
    Some((code & 0b11) | ((code & 0b100) << 1))
}

/// How an inter-processor interrupt is delivered (SDM Vol. 3A §11.6.1, figure 11-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMode {
    /// The vector, as an ordinary interrupt.
    Fixed,
    /// A non-maskable interrupt (vector 2; the vector field is ignored).
    NonMaskable,
    /// INIT: the target resets into its wait-for-SIPI state.
    Init,
    /// Start-up (SIPI): the target starts in real mode at vector * 4096.
    Startup,
}

impl DeliveryMode {
    const fn bits(self) -> u32 {
        let code = match self {
            DeliveryMode::Fixed => 0b000,
            DeliveryMode::NonMaskable => 0b100,
            DeliveryMode::Init => 0b101,
            DeliveryMode::Startup => 0b110,
        };
        code << 8
    }
}

/// Who receives an inter-processor interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpiDestination {
    /// The CPU whose local APIC has this ID (physical destination mode).
    Apic(u8),
    /// Every CPU but the sender (destination shorthand 11b).
    AllExcludingSelf,
}

/// ICR bit 12: the previous command is still being sent.
pub const INTERRUPT_COMMAND_PENDING: u32 = 1 << 12;
/// ICR bit 14: level assert, which every mode but the obsolete INIT level de-assert uses.
const LEVEL_ASSERT: u32 = 1 << 14;
const SHORTHAND_ALL_EXCLUDING_SELF: u32 = 0b11 << 18;

/// One inter-processor interrupt as the two halves of the interrupt command register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterruptCommand {
    pub mode: DeliveryMode,
    pub vector: u8,
    pub destination: IpiDestination,
}

impl InterruptCommand {
    /// The low half (offset 0x300): writing it sends the interrupt.
    pub const fn low(self) -> u32 {
        let shorthand = match self.destination {
            IpiDestination::Apic(_) => 0,
            IpiDestination::AllExcludingSelf => SHORTHAND_ALL_EXCLUDING_SELF,
        };
        self.vector as u32 | self.mode.bits() | LEVEL_ASSERT | shorthand
    }

    /// The high half (offset 0x310): the destination APIC ID in bits 24-31.
    pub const fn high(self) -> u32 {
        match self.destination {
            IpiDestination::Apic(id) => (id as u32) << 24,
            IpiDestination::AllExcludingSelf => 0,
        }
    }
}

/// I/O APIC: the register select and window, 32-bit each, at these offsets from its base
/// (82093AA §3.1); the registers behind them (§3.2).
pub const IO_REGISTER_SELECT: usize = 0x00;
pub const IO_WINDOW: usize = 0x10;
pub const IO_APIC_VERSION: u32 = 0x01;
const IO_REDIRECTION_TABLE: u32 = 0x10;
/// The register window reaches 0x14; one 4 KiB page holds it.
pub const IO_APIC_REGISTERS_BYTES: usize = 4096;

/// How many inputs an I/O APIC has, from its version register (82093AA §3.2.2: bits 16-23
/// hold the index of the last redirection entry).
pub const fn io_apic_inputs(version: u32) -> u32 {
    ((version >> 16) & 0xff) + 1
}

/// The register indices of redirection entry `input`'s low and high halves (82093AA §3.2.4).
pub const fn redirection_registers(input: u32) -> (u32, u32) {
    let low = IO_REDIRECTION_TABLE + 2 * input;
    (low, low + 1)
}

/// Redirection entry bits (82093AA §3.2.4): delivery mode fixed (000b) and physical
/// destination mode are all zeros.
const REDIRECTION_ACTIVE_LOW: u64 = 1 << 13;
const REDIRECTION_LEVEL_TRIGGERED: u64 = 1 << 15;
pub const REDIRECTION_MASKED: u64 = 1 << 16;

/// Where an I/O APIC input goes and how its signal reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirectionEntry {
    pub vector: u8,
    /// `BusDefault` is ISA's: active high.
    pub polarity: Polarity,
    /// `BusDefault` is ISA's: edge.
    pub trigger: Trigger,
    /// The local APIC ID of the CPU that gets the interrupt.
    pub destination: u8,
    pub masked: bool,
}

impl RedirectionEntry {
    /// The 64-bit entry: fixed delivery to one CPU in physical destination mode.
    pub const fn bits(self) -> u64 {
        let polarity = match self.polarity {
            Polarity::ActiveLow => REDIRECTION_ACTIVE_LOW,
            Polarity::ActiveHigh | Polarity::BusDefault => 0,
        };
        let trigger = match self.trigger {
            Trigger::Level => REDIRECTION_LEVEL_TRIGGERED,
            Trigger::Edge | Trigger::BusDefault => 0,
        };
        let mask = if self.masked { REDIRECTION_MASKED } else { 0 };
        self.vector as u64 | polarity | trigger | mask | (self.destination as u64) << 56
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_match_the_sdm_start_up_example() {
        // SDM Vol. 3A "Typical BSP Initialization Sequence" (§8.4.4.1, §9.4.4.1 from 2023 on):
        // the broadcast INIT is 000C4500H, the broadcast start-up IPI 000C46XXH, XX the page.
        let init = InterruptCommand {
            mode: DeliveryMode::Init,
            vector: 0,
            destination: IpiDestination::AllExcludingSelf,
        };
        assert_eq!((init.low(), init.high()), (0x000c_4500, 0));
        let startup = InterruptCommand {
            mode: DeliveryMode::Startup,
            vector: 0x08,
            destination: IpiDestination::AllExcludingSelf,
        };
        assert_eq!(startup.low(), 0x000c_4608);
    }

    #[test]
    fn a_command_to_one_cpu_puts_its_id_in_the_high_half() {
        let fixed = InterruptCommand {
            mode: DeliveryMode::Fixed,
            vector: 0xe1,
            destination: IpiDestination::Apic(3),
        };
        assert_eq!((fixed.low(), fixed.high()), (0x0000_40e1, 0x0300_0000));
        let nmi = InterruptCommand {
            mode: DeliveryMode::NonMaskable,
            vector: 0,
            destination: IpiDestination::AllExcludingSelf,
        };
        assert_eq!(nmi.low(), 0x000c_4400);
        let init = InterruptCommand {
            mode: DeliveryMode::Init,
            vector: 0,
            destination: IpiDestination::Apic(255),
        };
        assert_eq!((init.low(), init.high()), (0x0000_4500, 0xff00_0000));
        assert_eq!(init.low() & INTERRUPT_COMMAND_PENDING, 0, "the pending bit is read-only");
    }

    #[test]
    fn divide_configuration_codes_follow_figure_11_10() {
        let expected =
            [(1, 0b1011), (2, 0b0000), (4, 0b0001), (8, 0b0010), (16, 0b0011), (128, 0b1010)];
        for (divisor, bits) in expected {
            assert_eq!(timer_divide_configuration(divisor), Some(bits), "divide by {divisor}");
        }
        for divisor in [0, 3, 256, 1024] {
            assert_eq!(timer_divide_configuration(divisor), None, "divide by {divisor}");
        }
    }

    #[test]
    fn timer_entries_carry_vector_mode_and_mask() {
        assert_eq!(timer_entry(0xf0, TimerMode::Periodic, false), 0x0002_00f0);
        assert_eq!(timer_entry(0xf0, TimerMode::OneShot, true), 0x0001_00f0);
        assert_eq!(spurious_interrupt_register(0xff), 0x1ff);
    }

    #[test]
    fn redirection_entries_encode_polarity_trigger_mask_and_destination() {
        let isa = RedirectionEntry {
            vector: 49,
            polarity: Polarity::BusDefault,
            trigger: Trigger::BusDefault,
            destination: 0,
            masked: false,
        };
        assert_eq!(isa.bits(), 49, "ISA: edge, active high, fixed, physical, unmasked");
        let pci_like = RedirectionEntry {
            vector: 57,
            polarity: Polarity::ActiveLow,
            trigger: Trigger::Level,
            destination: 2,
            masked: true,
        };
        assert_eq!(pci_like.bits(), 0x0200_0000_0001_a039);
        let high_edge =
            RedirectionEntry { polarity: Polarity::ActiveHigh, trigger: Trigger::Edge, ..pci_like };
        assert_eq!(high_edge.bits(), 0x0200_0000_0001_0039);
    }

    #[test]
    fn io_apic_versions_and_redirection_registers() {
        // QEMU's I/O APIC: version 0x20, last entry 23.
        assert_eq!(io_apic_inputs(0x0017_0020), 24);
        assert_eq!(io_apic_inputs(0x00ff_0011), 256);
        assert_eq!(redirection_registers(0), (0x10, 0x11));
        assert_eq!(redirection_registers(23), (0x3e, 0x3f));
    }
}
