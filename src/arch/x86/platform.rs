//! The machine's processors and interrupt controllers as the firmware describes them (ACPI's
//! MADT, or the MultiProcessor Specification's tables where there is no ACPI).

use alloc::vec::Vec;

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

/// An ISA IRQ that reaches the I/O APICs on another input or with other signalling than the
/// identity mapping (ACPI 6.5 §5.2.12.5; MP 1.4 §4.3.4 I/O interrupt entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterruptOverride {
    pub isa_irq: u8,
    pub global_interrupt: u32,
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
    /// over (MADT flag PCAT_COMPAT; the MP tables' IMCR bit).
    pub has_legacy_pics: bool,
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
        }
    }

    #[test]
    fn overridden_irqs_move_and_the_rest_map_to_themselves() {
        let platform = qemu_like();
        assert_eq!(platform.isa_interrupt(0), (2, Polarity::BusDefault, Trigger::BusDefault));
        assert_eq!(platform.isa_interrupt(1), (1, Polarity::BusDefault, Trigger::BusDefault));
    }

    #[test]
    fn unusable_processors_are_left_out() {
        let ids: Vec<u8> =
            qemu_like().usable_processors().map(|processor| processor.apic_id).collect();
        assert_eq!(ids, [0, 1]);
    }
}
