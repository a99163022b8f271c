//! Which interrupt controllers the kernel uses: the local and I/O APICs when the CPU has a
//! local APIC and the firmware described an I/O APIC, unless the command line says
//! `apic=off`; otherwise the 8259 PICs, with the reason in one line. Also the one line that
//! describes the APIC path once it runs.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::fmt;

use super::command_line::ApicChoice;
use crate::arch::x86::platform::Platform;
use crate::diagnostics::report::Grouped;

/// The controllers chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerChoice<'a> {
    /// The local APIC and the I/O APICs this platform lists.
    Apic(&'a Platform),
    /// The 8259 PICs and the PIT's tick, for this reason.
    Pic(PicReason),
}

/// Why the kernel stays on the 8259 PICs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PicReason {
    /// `apic=off` on the command line.
    TurnedOff,
    /// CPUID reports no local APIC.
    NoLocalApic,
    /// The firmware described no processors and controllers at all.
    NoPlatform,
    /// The firmware's description lists no I/O APIC.
    NoIoApic,
    /// Setting the APICs up failed part way; the PICs were kept.
    Failed,
}

impl fmt::Display for PicReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = match self {
            PicReason::TurnedOff => "apic=off on the command line",
            PicReason::NoLocalApic => "the CPU has no local APIC",
            PicReason::NoPlatform => "no ACPI or MP tables describe the interrupt controllers",
            PicReason::NoIoApic => "no I/O APIC described",
            PicReason::Failed => "the APICs could not be set up",
        };
        write!(formatter, "interrupts: {reason}; using the 8259 PICs")
    }
}

/// Chooses the controllers from what the firmware described, what CPUID says and the command
/// line.
pub fn choose_controllers(
    platform: Option<&Platform>,
    cpu_has_local_apic: bool,
    choice: ApicChoice,
) -> ControllerChoice<'_> {
    match (choice, platform) {
        (ApicChoice::Off, _) => ControllerChoice::Pic(PicReason::TurnedOff),
        _ if !cpu_has_local_apic => ControllerChoice::Pic(PicReason::NoLocalApic),
        (_, None) => ControllerChoice::Pic(PicReason::NoPlatform),
        (_, Some(platform)) if platform.io_apics.is_empty() => {
            ControllerChoice::Pic(PicReason::NoIoApic)
        }
        (_, Some(platform)) => ControllerChoice::Apic(platform),
    }
}

/// What the APIC path set up, for its one line on serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApicSummary {
    /// The boot CPU's local APIC ID.
    pub local_apic_id: u8,
    pub tick_hz: u64,
    /// The bus clock the local APIC timer divides, in kHz.
    pub bus_kilohertz: u64,
    /// (ISA IRQ, global system interrupt) for every IRQ routed through an I/O APIC.
    pub routes: Vec<(u8, u32)>,
    /// ISA IRQs with a handler that the APIC path leaves masked (IRQ 0: the PIT's tick is
    /// replaced by the local APIC timer).
    pub unused: Vec<u8>,
}

impl fmt::Display for ApicSummary {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "interrupts: local APIC {} timer at {} Hz (bus {} kHz), I/O APIC routes ",
            self.local_apic_id,
            self.tick_hz,
            Grouped(self.bus_kilohertz as usize)
        )?;
        if self.routes.is_empty() {
            write!(formatter, "no IRQ")?;
        }
        for (index, (irq, interrupt)) in self.routes.iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            write!(formatter, "{separator}IRQ {irq} -> {interrupt}")?;
        }
        for irq in &self.unused {
            write!(formatter, ", IRQ {irq} unused")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::x86::platform::{IoApicDescription, PlatformSource, Processor};
    use alloc::vec;
    use std::string::ToString;

    fn platform(io_apics: usize) -> Platform {
        Platform {
            source: PlatformSource::Acpi { revision: 2 },
            local_apic_address: 0xfee0_0000,
            processors: vec![Processor { apic_id: 0, usable: true }],
            io_apics: (0..io_apics)
                .map(|index| IoApicDescription {
                    id: index as u8,
                    address: 0xfec0_0000 + 0x1000 * index as u32,
                    first_interrupt: 24 * index as u32,
                })
                .collect(),
            overrides: Vec::new(),
            has_legacy_pics: true,
            local_apic_nmis: Vec::new(),
            x2apic_only_processors: 0,
            interrupt_mode_register: false,
        }
    }

    #[test]
    fn the_apics_need_a_local_apic_an_io_apic_and_no_apic_off() {
        let described = platform(1);
        assert_eq!(
            choose_controllers(Some(&described), true, ApicChoice::UseWhenPresent),
            ControllerChoice::Apic(&described)
        );
        let cases = [
            (Some(&described), true, ApicChoice::Off, PicReason::TurnedOff),
            (Some(&described), false, ApicChoice::UseWhenPresent, PicReason::NoLocalApic),
            (None, true, ApicChoice::UseWhenPresent, PicReason::NoPlatform),
        ];
        for (platform, has_apic, choice, reason) in cases {
            assert_eq!(
                choose_controllers(platform, has_apic, choice),
                ControllerChoice::Pic(reason)
            );
        }
        let bare = platform(0);
        assert_eq!(
            choose_controllers(Some(&bare), true, ApicChoice::UseWhenPresent),
            ControllerChoice::Pic(PicReason::NoIoApic)
        );
    }

    #[test]
    fn the_fallback_says_why_in_one_line() {
        assert_eq!(
            PicReason::NoIoApic.to_string(),
            "interrupts: no I/O APIC described; using the 8259 PICs"
        );
        assert_eq!(
            PicReason::TurnedOff.to_string(),
            "interrupts: apic=off on the command line; using the 8259 PICs"
        );
        assert!(!PicReason::NoLocalApic.to_string().contains('\n'));
    }

    #[test]
    fn the_summary_names_the_timer_and_every_route() {
        let summary = ApicSummary {
            local_apic_id: 0,
            tick_hz: 1000,
            bus_kilohertz: 1_000_000,
            routes: vec![(1, 1), (9, 9)],
            unused: vec![0],
        };
        assert_eq!(
            summary.to_string(),
            "interrupts: local APIC 0 timer at 1000 Hz (bus 1,000,000 kHz), I/O APIC routes \
             IRQ 1 -> 1, IRQ 9 -> 9, IRQ 0 unused"
        );
        let none = ApicSummary { routes: Vec::new(), unused: Vec::new(), ..summary };
        assert!(none.to_string().ends_with("I/O APIC routes no IRQ"), "{none}");
    }
}
