//! The machine's processors and interrupt controllers as the firmware describes them (ACPI's
//! MADT, or the MultiProcessor Specification's tables where there is no ACPI).
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::fmt;

use super::acpi::{self, AcpiError};
use super::multiprocessor_tables::{self, MultiprocessorTableError};

/// Read access to the physical memory that holds firmware tables. An implementation refuses
/// (returns `None`) any range it cannot read safely; the parsers turn that into an error.
pub trait FirmwareMemory {
    /// `length` bytes at physical `address`, or `None` if they cannot be read.
    fn read(&self, address: u64, length: usize) -> Option<&[u8]>;
}

/// Where the description came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformSource {
    /// ACPI's Multiple APIC Description Table, reached from an RSDP of this revision
    /// (0 = ACPI 1.0 with an RSDT, 2 and later with an XSDT).
    Acpi { revision: u8 },
    /// The MultiProcessor Specification 1.4 configuration table.
    MultiprocessorTables,
}

/// A processor's local APIC as the firmware lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processor {
    /// The local APIC ID: the address an inter-processor interrupt is sent to.
    pub apic_id: u8,
    /// Whether the firmware says the processor can be used (MADT flag "enabled" or
    /// "online capable"; MP tables "usable").
    pub usable: bool,
}

/// An I/O APIC: its registers and the first global system interrupt it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoApicDescription {
    pub id: u8,
    /// Physical address of its register window.
    pub address: u32,
    /// The global system interrupt its input 0 carries.
    pub first_interrupt: u32,
}

/// Signal polarity of an interrupt input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// As the bus defines it: active high for ISA.
    BusDefault,
    ActiveHigh,
    ActiveLow,
}

/// Trigger mode of an interrupt input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// As the bus defines it: edge for ISA.
    BusDefault,
    Edge,
    Level,
}

/// The MPS INTI flags both firmware tables use for an interrupt input (ACPI 6.5 Table 5.26;
/// MP 1.4 Table 4-11): polarity in bits 0-1, trigger mode in bits 2-3, each 01 or 11 (00: as
/// the bus defines it).
impl Polarity {
    pub fn from_interrupt_flags(flags: u16) -> Polarity {
        match flags & 0b11 {
            0b01 => Polarity::ActiveHigh,
            0b11 => Polarity::ActiveLow,
            _ => Polarity::BusDefault,
        }
    }
}

impl Trigger {
    pub fn from_interrupt_flags(flags: u16) -> Trigger {
        match (flags >> 2) & 0b11 {
            0b01 => Trigger::Edge,
            0b11 => Trigger::Level,
            _ => Trigger::BusDefault,
        }
    }
}

/// An ISA IRQ that reaches the I/O APICs on another input or with other signalling than the
/// identity mapping (ACPI 6.5 §5.2.12.5; MP 1.4 §4.3.4 I/O interrupt entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterruptOverride {
    pub isa_irq: u8,
    pub global_interrupt: u32,
    pub polarity: Polarity,
    pub trigger: Trigger,
}

/// Which processors a local APIC NMI entry applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NmiTarget {
    AllProcessors,
    /// The processor with this local APIC ID.
    Processor {
        apic_id: u8,
    },
}

/// A local APIC interrupt input (LINT0 or LINT1) wired to the non-maskable interrupt
/// (ACPI 6.5 §5.2.12.7; MP 1.4 §4.3.5 local interrupt entries of type NMI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalApicNmi {
    pub target: NmiTarget,
    /// 0 for LINT0, 1 for LINT1.
    pub local_interrupt: u8,
    pub polarity: Polarity,
    pub trigger: Trigger,
}

/// What the firmware reports: processors, I/O APICs and ISA overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub source: PlatformSource,
    /// Physical address of every processor's local APIC registers.
    pub local_apic_address: u32,
    /// The processors in the order the firmware lists them (the bootstrap processor is not
    /// necessarily first).
    pub processors: Vec<Processor>,
    pub io_apics: Vec<IoApicDescription>,
    pub overrides: Vec<InterruptOverride>,
    /// Whether the machine also has the two 8259 PICs, which must be masked when the APICs take
    /// over (MADT flag PCAT_COMPAT; always true for the MP tables).
    pub has_legacy_pics: bool,
    /// Which local APIC inputs carry the NMI.
    pub local_apic_nmis: Vec<LocalApicNmi>,
    /// Processors listed only with an x2APIC ID (MADT type 9), which an 8-bit APIC ID cannot
    /// address: counted and reported, not used.
    pub x2apic_only_processors: usize,
    /// Whether the firmware left the machine in the MP specification's PIC mode, where the
    /// interrupt mode configuration register (ports 0x22/0x23) must be switched to symmetric
    /// I/O mode before the APICs take interrupts (MP 1.4 §3.6.2.1, feature byte 2 bit 7).
    pub interrupt_mode_register: bool,
}

impl Platform {
    /// The global system interrupt, polarity and trigger for ISA `irq`: its override if the
    /// firmware lists one, else the identity mapping with ISA signalling (edge, active high).
    pub fn isa_interrupt(&self, irq: u8) -> (u32, Polarity, Trigger) {
        self.overrides
            .iter()
            .find(|entry| entry.isa_irq == irq)
            .map(|entry| (entry.global_interrupt, entry.polarity, entry.trigger))
            .unwrap_or((u32::from(irq), Polarity::BusDefault, Trigger::BusDefault))
    }

    /// The processors the firmware says can be used.
    pub fn usable_processors(&self) -> impl Iterator<Item = &Processor> {
        self.processors.iter().filter(|processor| processor.usable)
    }

    /// One line for the boot log: where the description came from, the processors, the I/O
    /// APICs and the ISA overrides.
    pub fn summary(&self) -> PlatformSummary<'_> {
        PlatformSummary(self)
    }
}

/// Whether discovery may use ACPI (`acpi=off` on the command line says no).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcpiChoice {
    Use,
    Skip,
}

/// Something that stopped one source of the description, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryProblem {
    /// The RSDP copy the loader passed (Multiboot 2 tags 14/15) is corrupt; the BIOS area was
    /// searched instead.
    LoaderRsdp(AcpiError),
    Acpi(AcpiError),
    MultiprocessorTables(MultiprocessorTableError),
}

impl fmt::Display for DiscoveryProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryProblem::LoaderRsdp(error) => {
                write!(formatter, "the loader's copy of the RSDP: {error}")
            }
            DiscoveryProblem::Acpi(error) => write!(formatter, "{error}"),
            DiscoveryProblem::MultiprocessorTables(error) => write!(formatter, "{error}"),
        }
    }
}

/// The outcome of discovery: the description, if any source gave one, and what went wrong
/// with the sources tried before it (or with all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub platform: Option<Platform>,
    pub problems: Vec<DiscoveryProblem>,
}

/// Reads the firmware's description of processors and interrupt controllers: ACPI's MADT
/// through the loader's RSDP copy if there is one, else through the RSDP found in the BIOS
/// area; failing that, the MP tables; failing both, nothing (one CPU on the 8259 PICs).
pub fn discover(
    memory: &impl FirmwareMemory,
    loader_rsdp: Option<&[u8]>,
    acpi: AcpiChoice,
) -> Discovery {
    let mut problems = Vec::new();
    if acpi == AcpiChoice::Use {
        let from_loader = loader_rsdp.map(acpi::parse_rsdp);
        let rsdp = match from_loader {
            Some(Ok(rsdp)) => Ok(rsdp),
            Some(Err(error)) => {
                problems.push(DiscoveryProblem::LoaderRsdp(error));
                acpi::find_rsdp_in_bios_area(memory)
            }
            None => acpi::find_rsdp_in_bios_area(memory),
        };
        match rsdp.and_then(|rsdp| acpi::read_platform(memory, &rsdp)) {
            Ok(platform) => return Discovery { platform: Some(platform), problems },
            Err(error) => problems.push(DiscoveryProblem::Acpi(error)),
        }
    }
    match multiprocessor_tables::read_platform(memory) {
        Ok(platform) => Discovery { platform: Some(platform), problems },
        Err(error) => {
            problems.push(DiscoveryProblem::MultiprocessorTables(error));
            Discovery { platform: None, problems }
        }
    }
}

/// `Platform::summary`'s line, e.g. `ACPI 2 MADT: 4 processors (APIC IDs 0 1 2 3), I/O APIC 0
/// at 0xfec00000 (interrupts from 0), IRQ 0 -> 2, IRQ 9 -> 9 level active-high`.
pub struct PlatformSummary<'a>(&'a Platform);

impl fmt::Display for PlatformSummary<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let platform = self.0;
        match platform.source {
            PlatformSource::Acpi { revision } => {
                // Revision 0 is ACPI 1.0; 2 covers every later version (ACPI 6.5 §5.2.5.3).
                let version = if revision == 0 { 1 } else { revision };
                write!(formatter, "ACPI {version} MADT: ")?
            }
            PlatformSource::MultiprocessorTables => write!(formatter, "MP 1.4 tables: ")?,
        }
        let usable = platform.usable_processors().count();
        let plural = if usable == 1 { "" } else { "s" };
        write!(formatter, "{usable} processor{plural} (APIC IDs")?;
        for processor in platform.usable_processors() {
            write!(formatter, " {}", processor.apic_id)?;
        }
        write!(formatter, ")")?;
        let unusable = platform.processors.len() - usable;
        if unusable > 0 {
            write!(formatter, " and {unusable} disabled")?;
        }
        if platform.x2apic_only_processors > 0 {
            write!(formatter, ", {} x2APIC-only left out", platform.x2apic_only_processors)?;
        }
        for io_apic in &platform.io_apics {
            write!(
                formatter,
                ", I/O APIC {} at {:#x} (interrupts from {})",
                io_apic.id, io_apic.address, io_apic.first_interrupt
            )?;
        }
        for entry in &platform.overrides {
            write!(formatter, ", IRQ {} -> {}", entry.isa_irq, entry.global_interrupt)?;
            match entry.trigger {
                Trigger::BusDefault => {}
                Trigger::Edge => write!(formatter, " edge")?,
                Trigger::Level => write!(formatter, " level")?,
            }
            match entry.polarity {
                Polarity::BusDefault => {}
                Polarity::ActiveHigh => write!(formatter, " active-high")?,
                Polarity::ActiveLow => write!(formatter, " active-low")?,
            }
        }
        if !platform.has_legacy_pics {
            write!(formatter, ", no 8259 PICs")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn qemu_like() -> Platform {
        Platform {
            source: PlatformSource::Acpi { revision: 0 },
            local_apic_address: 0xfee0_0000,
            processors: vec![
                Processor { apic_id: 0, usable: true },
                Processor { apic_id: 1, usable: true },
                Processor { apic_id: 2, usable: false },
            ],
            io_apics: vec![IoApicDescription { id: 0, address: 0xfec0_0000, first_interrupt: 0 }],
            overrides: vec![InterruptOverride {
                isa_irq: 0,
                global_interrupt: 2,
                polarity: Polarity::BusDefault,
                trigger: Trigger::BusDefault,
            }],
            has_legacy_pics: true,
            local_apic_nmis: vec![LocalApicNmi {
                target: NmiTarget::AllProcessors,
                local_interrupt: 1,
                polarity: Polarity::BusDefault,
                trigger: Trigger::BusDefault,
            }],
            x2apic_only_processors: 0,
            interrupt_mode_register: false,
        }
    }

    #[test]
    fn the_summary_names_every_processor_controller_and_override() {
        let mut platform = qemu_like();
        platform.overrides.push(InterruptOverride {
            isa_irq: 9,
            global_interrupt: 9,
            polarity: Polarity::ActiveHigh,
            trigger: Trigger::Level,
        });
        assert_eq!(
            std::format!("{}", platform.summary()),
            "ACPI 1 MADT: 2 processors (APIC IDs 0 1) and 1 disabled, I/O APIC 0 at 0xfec00000 \
             (interrupts from 0), IRQ 0 -> 2, IRQ 9 -> 9 level active-high"
        );
        platform.source = PlatformSource::MultiprocessorTables;
        platform.processors.truncate(1);
        platform.overrides.clear();
        platform.x2apic_only_processors = 3;
        platform.has_legacy_pics = false;
        assert_eq!(
            std::format!("{}", platform.summary()),
            "MP 1.4 tables: 1 processor (APIC IDs 0), 3 x2APIC-only left out, I/O APIC 0 at \
             0xfec00000 (interrupts from 0), no 8259 PICs"
        );
    }

    #[test]
    fn overridden_irqs_move_and_the_rest_map_to_themselves() {
        let platform = qemu_like();
        assert_eq!(platform.isa_interrupt(0), (2, Polarity::BusDefault, Trigger::BusDefault));
        assert_eq!(platform.isa_interrupt(1), (1, Polarity::BusDefault, Trigger::BusDefault));
    }

    #[test]
    fn discovery_falls_back_from_acpi_to_the_mp_tables_to_nothing() {
        use crate::arch::x86::acpi::tests::{acpi_memory, qemu_madt, rsdp};
        let memory = acpi_memory(2, &qemu_madt(4));
        let found = discover(&memory, None, AcpiChoice::Use);
        assert_eq!(found.platform.unwrap().source, PlatformSource::Acpi { revision: 2 });
        assert!(found.problems.is_empty());
        // The loader's copy wins over the BIOS area; a corrupt copy is reported and skipped.
        let copy = rsdp(0, 0x7fe_2000, 0);
        let found = discover(&memory, Some(&copy), AcpiChoice::Use);
        assert_eq!(found.platform.unwrap().source, PlatformSource::Acpi { revision: 0 });
        let mut corrupt = copy.clone();
        corrupt[0] = b'X';
        let found = discover(&memory, Some(&corrupt), AcpiChoice::Use);
        assert_eq!(found.platform.unwrap().source, PlatformSource::Acpi { revision: 2 });
        assert_eq!(found.problems, [DiscoveryProblem::LoaderRsdp(AcpiError::BadRsdp)]);
        // `acpi=off` with no MP tables: nothing, and one line per source tried.
        let found = discover(&memory, None, AcpiChoice::Skip);
        assert_eq!(found.platform, None);
        assert_eq!(
            found.problems,
            [DiscoveryProblem::MultiprocessorTables(MultiprocessorTableError::NotFound)]
        );
        let empty = crate::arch::x86::bios_area::tests::FakeMemory::new();
        let found = discover(&empty, None, AcpiChoice::Use);
        assert_eq!(found.platform, None);
        let messages: Vec<std::string::String> =
            found.problems.iter().map(|problem| std::format!("{problem}")).collect();
        assert_eq!(messages, ["no ACPI RSDP found", "no MP floating pointer found"]);
    }

    #[test]
    fn unusable_processors_are_left_out() {
        let ids: Vec<u8> =
            qemu_like().usable_processors().map(|processor| processor.apic_id).collect();
        assert_eq!(ids, [0, 1]);
    }
}
