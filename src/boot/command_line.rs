//! The kernel command line: words that choose what the kernel does after boot.
#![forbid(unsafe_code)]

use crate::arch::x86::platform::AcpiChoice;

/// What the command line asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootMode {
    /// Greeting, boot demo, then idle.
    Normal,
    /// Run the in-kernel tests and end QEMU with the result (`test`).
    Test,
    /// Render a fixed number of demo frames and print figures on serial (`bench`).
    Bench,
}

/// Whether the boot demo runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoChoice {
    Play,
    /// `nodemo`.
    Skip,
}

/// Whether the APICs may take over interrupts from the 8259 PICs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApicChoice {
    /// The APICs when the CPU and the firmware's tables have them.
    UseWhenPresent,
    /// `apic=off`: the 8259 PICs and the PIT's tick, as on a machine without APICs.
    Off,
}

/// A fault the kernel provokes on purpose after boot (`fault=<kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultScenario {
    /// Division by zero (#DE).
    Divide,
    /// An undefined instruction (#UD).
    InvalidOpcode,
    /// Loading a segment selector beyond the GDT (#GP).
    GeneralProtection,
    /// `int3` (#BP), after which the kernel carries on.
    Breakpoint,
    /// Unbounded recursion until the kernel stack runs out (#SS, then #DF).
    StackOverflow,
    /// The same in a thread of its own, until its stack reaches its guard pages (#DF).
    ThreadStackOverflow,
    /// A read of address 0, which paging leaves unmapped (#PF).
    Null,
    /// A write into the kernel's read-only code (#PF, protection violation).
    WriteText,
    /// An allocation larger than the heap may grow (the out-of-memory report).
    OutOfMemory,
    /// A Rust panic.
    Panic,
}

impl FaultScenario {
    /// Every scenario with its command-line name.
    pub const ALL: [(&'static str, FaultScenario); 10] = [
        ("divide", FaultScenario::Divide),
        ("invalid-opcode", FaultScenario::InvalidOpcode),
        ("general-protection", FaultScenario::GeneralProtection),
        ("breakpoint", FaultScenario::Breakpoint),
        ("stack-overflow", FaultScenario::StackOverflow),
        ("thread-stack-overflow", FaultScenario::ThreadStackOverflow),
        ("null", FaultScenario::Null),
        ("write-text", FaultScenario::WriteText),
        ("out-of-memory", FaultScenario::OutOfMemory),
        ("panic", FaultScenario::Panic),
    ];

    /// The scenario called `name`.
    pub fn from_name(name: &str) -> Option<FaultScenario> {
        FaultScenario::ALL.iter().find(|(known, _)| *known == name).map(|(_, scenario)| *scenario)
    }

    /// Every scenario's name, space-separated, as messages list them.
    pub fn names() -> FaultNames {
        FaultNames
    }
}

/// Displays every fault scenario's name, space-separated.
pub struct FaultNames;

impl core::fmt::Display for FaultNames {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (index, (name, _)) in FaultScenario::ALL.iter().enumerate() {
            let separator = if index == 0 { "" } else { " " };
            write!(formatter, "{separator}{name}")?;
        }
        Ok(())
    }
}

/// The kernel's choices, parsed from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootOptions {
    pub mode: BootMode,
    pub demo: DemoChoice,
    pub fault: Option<FaultScenario>,
    /// `acpi=off`: ignore ACPI's tables and describe the machine from the MP tables.
    pub acpi: AcpiChoice,
    pub apic: ApicChoice,
    pub processors: ProcessorChoice,
}

/// Whether the other CPUs are started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessorChoice {
    /// `nosmp`: the bootstrap processor alone.
    BootstrapOnly,
    /// Every CPU the firmware lists (the default).
    All,
}

impl Default for BootOptions {
    fn default() -> Self {
        BootOptions {
            mode: BootMode::Normal,
            demo: DemoChoice::Play,
            fault: None,
            acpi: AcpiChoice::Use,
            apic: ApicChoice::UseWhenPresent,
            processors: ProcessorChoice::All,
        }
    }
}

/// A word the kernel did not act on, reported to the user as a one-line warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandLineWarning<'a> {
    UnknownWord(&'a str),
    UnknownFault(&'a str),
}

/// The words the kernel knows, as listed in warnings.
pub const KNOWN_WORDS: &str = "test bench nodemo acpi=off apic=off nosmp fault=<kind>";

impl core::fmt::Display for CommandLineWarning<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CommandLineWarning::UnknownWord(word) => {
                write!(formatter, "cmdline: unknown word '{word}' (known: {KNOWN_WORDS})")
            }
            CommandLineWarning::UnknownFault(kind) => {
                write!(
                    formatter,
                    "cmdline: unknown fault '{kind}'; known: {}",
                    FaultScenario::names()
                )
            }
        }
    }
}

/// Parses `command_line`, calling `warn` once for each word it ignores.
///
/// Loaders put the kernel image's path first (GRUB: `/boot/kernel.elf test`, QEMU `-kernel`:
/// the host path), so a first word containing `/` is skipped. Words are separated by spaces
/// or tabs; the last of conflicting words wins.
pub fn parse_command_line<'a>(
    command_line: &'a str,
    mut warn: impl FnMut(CommandLineWarning<'a>),
) -> BootOptions {
    let mut options = BootOptions::default();
    let mut words = command_line.split([' ', '\t']).filter(|word| !word.is_empty());
    let mut first = words.next();
    if first.is_some_and(|word| word.contains('/')) {
        first = None;
    }
    for word in first.into_iter().chain(words) {
        match word {
            "test" => options.mode = BootMode::Test,
            "bench" => options.mode = BootMode::Bench,
            "nodemo" => options.demo = DemoChoice::Skip,
            "acpi=off" => options.acpi = AcpiChoice::Skip,
            "nosmp" => options.processors = ProcessorChoice::BootstrapOnly,
            "apic=off" => options.apic = ApicChoice::Off,
            _ => match word.strip_prefix("fault=") {
                Some(kind) => match FaultScenario::from_name(kind) {
                    Some(scenario) => options.fault = Some(scenario),
                    None => warn(CommandLineWarning::UnknownFault(kind)),
                },
                None => warn(CommandLineWarning::UnknownWord(word)),
            },
        }
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn parse(command_line: &str) -> (BootOptions, Vec<String>) {
        let mut warnings = Vec::new();
        let options =
            parse_command_line(command_line, |warning| warnings.push(warning.to_string()));
        (options, warnings)
    }

    #[test]
    fn empty_and_path_only_lines_give_the_defaults() {
        assert_eq!(parse("").0, BootOptions::default());
        assert_eq!(parse("/boot/kernel.elf").0, BootOptions::default());
        assert!(parse("/boot/kernel.elf").1.is_empty());
    }

    #[test]
    fn known_words_after_the_image_path_are_applied() {
        let (options, warnings) = parse("/boot/kernel.elf  nodemo\ttest");
        assert_eq!(options.mode, BootMode::Test);
        assert_eq!(options.demo, DemoChoice::Skip);
        assert!(warnings.is_empty());
    }

    #[test]
    fn acpi_off_skips_acpi() {
        assert_eq!(parse("/boot/kernel.elf").0.acpi, AcpiChoice::Use);
        let (options, warnings) = parse("/boot/kernel.elf acpi=off");
        assert_eq!((options.acpi, warnings.len()), (AcpiChoice::Skip, 0));
        let (options, warnings) = parse("acpi=on");
        assert_eq!(options.acpi, AcpiChoice::Use);
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn every_processor_starts_unless_nosmp_says_otherwise() {
        assert_eq!(parse("").0.processors, ProcessorChoice::All);
        assert_eq!(parse("nodemo nosmp").0.processors, ProcessorChoice::BootstrapOnly);
        assert_eq!(parse("smp").1.len(), 1);
    }

    #[test]
    fn apic_off_keeps_the_pics_and_other_values_are_unknown() {
        assert_eq!(parse("").0.apic, ApicChoice::UseWhenPresent);
        assert_eq!(parse("nodemo apic=off").0.apic, ApicChoice::Off);
        let (options, warnings) = parse("apic=on");
        assert_eq!(options.apic, ApicChoice::UseWhenPresent);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("cmdline: unknown word 'apic=on'"), "{warnings:?}");
    }

    #[test]
    fn a_first_word_without_a_slash_is_an_option() {
        assert_eq!(parse("bench").0.mode, BootMode::Bench);
    }

    #[test]
    fn unknown_words_are_warned_about_and_do_not_stop_parsing() {
        let (options, warnings) = parse("kernel.elf/x quiet nodemo");
        assert_eq!(options.demo, DemoChoice::Skip);
        assert_eq!(
            warnings,
            [
                "cmdline: unknown word 'quiet' (known: test bench nodemo acpi=off apic=off nosmp fault=<kind>)"
            ]
        );
    }

    #[test]
    fn fault_kinds_are_looked_up_and_unknown_ones_listed() {
        assert_eq!(parse("fault=panic").0.fault, Some(FaultScenario::Panic));
        let (options, warnings) = parse("fault=melt");
        assert_eq!(options.fault, None);
        let known = "divide invalid-opcode general-protection breakpoint stack-overflow \
                     thread-stack-overflow null write-text out-of-memory panic";
        assert_eq!(warnings, [format!("cmdline: unknown fault 'melt'; known: {known}")]);
        assert_eq!(parse("fault=stack-overflow").0.fault, Some(FaultScenario::StackOverflow));
    }
}
