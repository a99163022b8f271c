//! End-to-end boot tests: the greeting, warnings and boot-stub errors as a person sees them.

use std::time::Duration;

use ferrite_tests::{Color::*, Qemu};

const BOOT_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn greeting_is_drawn_in_its_colors_and_mirrored_to_serial() {
    let mut qemu = Qemu::kernel("nodemo");
    let serial = qemu.wait_for_serial("shell: ready", BOOT_TIMEOUT);
    let screen = qemu.screen();

    // Row 0: the banner, centered, white on blue across the whole width.
    let title = "Ferrite 0.1 - a Rust kernel for 32-bit x86";
    let left = (80 - title.len()) / 2;
    screen.assert_text_at(0, left, title, White, Blue);
    for column in 0..80 {
        assert_eq!(screen.cell(0, column).background, Blue, "banner cell {column}");
    }
    // Row 1: the greeting with its highlighted words.
    screen.assert_text_at(1, 0, "Hello from Rust!", LightGreen, Black);
    screen.assert_text_at(1, 16, " Booted by ", LightGray, Black);
    screen.assert_text_at(1, 27, "qemu", Yellow, Black);
    screen.assert_text_at(1, 31, ".", LightGray, Black);
    screen.assert_text_at(2, 0, "32-bit protected mode, ", LightGray, Black);
    screen.assert_text_at(2, 23, "SSE2", LightCyan, Black);
    // Then the shell, below the greeting.
    screen.assert_text_at(3, 0, "Ferrite shell", Yellow, Black);
    screen.assert_text_at(4, 0, "ferrite> ", LightGreen, Black);

    // The shell's clock sits in the banner's right margin, yellow on blue.
    let clock = &screen.row_text(0)[63..];
    assert!(clock.starts_with(' ') && clock.contains(" up 0:00"), "{clock:?}");
    screen.assert_text_at(0, 64, &clock[1..], Yellow, Blue);
    // Everything else on screen is on serial too.
    for row in 0..4 {
        let text = screen.row_text(row);
        let text = if row == 0 { &text[..63] } else { &text[..] };
        assert!(serial.contains(text.trim()), "row {row} {text:?} missing from serial:\n{serial}");
    }
}

#[test]
fn unknown_command_line_words_get_a_one_line_warning_and_boot_goes_on() {
    let mut qemu = Qemu::kernel("nodemo sparkle fault=melt");
    let serial = qemu.wait_for_serial("shell: ready", BOOT_TIMEOUT);
    let screen = qemu.screen();
    let warning = "cmdline: unknown word 'sparkle' (known: test bench nodemo fault=<kind>)";
    let (row, column) =
        screen.find(warning).unwrap_or_else(|| panic!("no warning on screen:\n{screen}"));
    screen.assert_text_at(row, column, warning, Yellow, Black);
    let fault_warning = "cmdline: unknown fault 'melt'; known: divide invalid-opcode \
                         general-protection breakpoint stack-overflow thread-stack-overflow null \
                         write-text out-of-memory panic";
    let wrapped = screen.row_text(row + 1) + &screen.row_text(row + 2) + screen.row_text(row + 3).trim_end();
    assert_eq!(wrapped, fault_warning);
    assert!(serial.contains(warning) && serial.contains(fault_warning));
    assert!(screen.find("Ferrite shell").is_some(), "boot did not go on:\n{screen}");
}

/// Boots on a CPU model without SSE and checks the boot stub's message and that it halted.
fn assert_stub_refuses(cpu: &str, message: &str) {
    let mut qemu = Qemu::start(ferrite_tests::Boot::Kernel("nodemo".into()), &["-cpu", cpu]);
    let deadline = std::time::Instant::now() + BOOT_TIMEOUT;
    let screen = loop {
        let screen = qemu.screen();
        if screen.row_text(0).starts_with("boot:") || std::time::Instant::now() > deadline {
            break screen;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    screen.assert_text_at(0, 0, message, White, Red);
    assert!(qemu.is_running(), "QEMU reset or exited instead of halting");
    assert_eq!(qemu.serial(), "", "Rust code ran although the stub refused");
}

#[test]
fn a_pentium_without_sse_gets_the_boot_stub_message() {
    assert_stub_refuses("pentium", "boot: this CPU has no SSE/SSE2 (need a Pentium 4 or newer)");
}

#[test]
fn a_pentium_ii_without_sse_gets_the_boot_stub_message() {
    assert_stub_refuses("pentium2", "boot: this CPU has no SSE/SSE2 (need a Pentium 4 or newer)");
}

#[test]
fn a_486_gets_a_boot_stub_message() {
    let mut qemu = Qemu::start(ferrite_tests::Boot::Kernel("nodemo".into()), &["-cpu", "486"]);
    std::thread::sleep(Duration::from_secs(2));
    let screen = qemu.screen();
    let first_row = screen.row_text(0);
    assert!(
        first_row.starts_with("boot: this CPU has no SSE/SSE2")
            || first_row.starts_with("boot: this CPU has no CPUID"),
        "unexpected first row: {first_row:?}"
    );
    assert_eq!(screen.cell(0, 0).background, Red);
    assert!(qemu.is_running());
}
