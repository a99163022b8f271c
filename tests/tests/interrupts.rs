//! The interrupt controllers: the APICs take over on QEMU's `pc` and `q35` machines, and a
//! CPU without a local APIC, or `apic=off`, keeps the 8259 PICs with one line saying so; on
//! every path the keyboard reaches the shell.

use std::time::Duration;

use ferrite_tests::{Boot, Color::*, Qemu};

const BOOT_TIMEOUT: Duration = Duration::from_secs(20);

/// Boots `words` on the kernel ELF with `extra` QEMU arguments, waits for the shell, checks a
/// typed command is answered, and returns the serial transcript.
fn boot_and_type(words: &str, extra: &[&str]) -> (Qemu, String) {
    let mut qemu = Qemu::start(Boot::Kernel(words.into()), extra);
    qemu.wait_for_serial("shell: ready", BOOT_TIMEOUT);
    assert_eq!(qemu.run_command("echo keys arrive"), "keys arrive\n");
    let serial = qemu.serial();
    (qemu, serial)
}

fn assert_apic_path(machine: &str) {
    let (_qemu, serial) = boot_and_type("nodemo", &["-machine", machine]);
    let line = serial
        .lines()
        .find(|line| line.starts_with("interrupts: local APIC "))
        .unwrap_or_else(|| panic!("no APIC line on {machine}:\n{serial}"));
    let bus = line.split("(bus ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or("");
    assert_eq!(
        line,
        format!(
            "interrupts: local APIC 0 timer at 1000 Hz (bus {bus} kHz), I/O APIC routes \
             IRQ 1 -> 1, IRQ 0 unused"
        )
    );
    // QEMU's APIC bus runs at 1 GHz; in real time the calibration is within 1 %.
    let kilohertz: u64 = bus.replace(',', "").parse().expect("a bus frequency");
    assert!((990_000..=1_010_000).contains(&kilohertz), "bus {kilohertz} kHz on {machine}");
    assert!(!serial.contains("using the 8259 PICs"), "{serial}");
}

#[test]
fn the_apics_take_over_on_the_pc_machine_and_the_keyboard_works() {
    assert_apic_path("pc");
}

#[test]
fn the_apics_take_over_on_the_q35_machine_and_the_keyboard_works() {
    assert_apic_path("q35");
}

/// The fallback's line is on serial and on screen, in the default colors, and the shell
/// answers keys through the 8259s.
fn assert_pic_path(words: &str, extra: &[&str], expected: &str) {
    let (mut qemu, serial) = boot_and_type(words, extra);
    assert!(serial.contains(&format!("{expected}\n")), "no {expected:?} on serial:\n{serial}");
    assert!(!serial.contains("interrupts: local APIC"), "{serial}");
    let screen = qemu.screen();
    let (row, column) =
        screen.find(expected).unwrap_or_else(|| panic!("no {expected:?} on screen:\n{screen}"));
    screen.assert_text_at(row, column, expected, LightGray, Black);
}

#[test]
fn a_cpu_without_a_local_apic_keeps_the_pics_and_says_so() {
    assert_pic_path(
        "nodemo",
        &["-cpu", "qemu32,-apic"],
        "interrupts: the CPU has no local APIC; using the 8259 PICs",
    );
}

#[test]
fn apic_off_on_the_command_line_keeps_the_pics_and_says_so() {
    assert_pic_path(
        "nodemo apic=off",
        &[],
        "interrupts: apic=off on the command line; using the 8259 PICs",
    );
}
