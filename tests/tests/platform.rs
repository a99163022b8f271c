//! Finding the processors and interrupt controllers: the one `platform:` line the kernel logs
//! on COM1, under QEMU's `-smp 4` on the `pc` and `q35` machines (ACPI, its RSDP found in the
//! BIOS area after a Multiboot 1 boot), and through the MP tables when `acpi=off` says so.
//! The Multiboot 2 path under UEFI, where the RSDP comes from the loader, is checked in
//! uefi.rs on the same boot as the golden screenshot.

use std::time::Duration;

use ferrite_tests::{Boot, Qemu};

/// The kernel logs the line before interrupts start, well under a second after QEMU starts.
const PLATFORM_TIMEOUT: Duration = Duration::from_secs(30);

/// Boots the kernel ELF with `words` and QEMU `arguments`, and returns its `platform:` lines.
fn platform_lines(words: &str, arguments: &[&str]) -> Vec<String> {
    let mut qemu = Qemu::start_in_mode(Boot::Kernel(words.into()), arguments);
    let transcript = qemu.wait_for_serial("clock: ", PLATFORM_TIMEOUT);
    transcript.lines().filter(|line| line.starts_with("platform: ")).map(String::from).collect()
}

const QEMU_ACPI_LINE: &str = "platform: ACPI 1 MADT: 4 processors (APIC IDs 0 1 2 3), I/O APIC 0 \
    at 0xfec00000 (interrupts from 0), IRQ 0 -> 2, IRQ 5 -> 5 level active-high, IRQ 9 -> 9 \
    level active-high, IRQ 10 -> 10 level active-high, IRQ 11 -> 11 level active-high";

#[test]
fn acpi_lists_four_processors_on_the_pc_machine() {
    let lines = platform_lines("nodemo", &["-machine", "pc", "-smp", "4"]);
    assert_eq!(lines, [QEMU_ACPI_LINE]);
}

#[test]
fn acpi_lists_four_processors_on_the_q35_machine() {
    let lines = platform_lines("nodemo", &["-machine", "q35", "-smp", "4"]);
    assert_eq!(lines, [QEMU_ACPI_LINE]);
}

#[test]
fn acpi_off_falls_back_to_the_mp_tables() {
    // SeaBIOS lists one MP processor entry per package, so four packages of one core each.
    let lines = platform_lines("nodemo acpi=off", &["-smp", "4,sockets=4,cores=1"]);
    assert_eq!(
        lines,
        [
            "platform: acpi=off; ACPI tables ignored",
            "platform: MP 1.4 tables: 4 processors (APIC IDs 0 1 2 3), I/O APIC 0 at 0xfec00000 \
             (interrupts from 0), IRQ 0 -> 2",
        ]
    );
}

#[test]
fn one_processor_is_one_processor() {
    let lines = platform_lines("nodemo", &["-smp", "1"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("platform: ACPI 1 MADT: 1 processor (APIC IDs 0), "), "{lines:?}");
}
