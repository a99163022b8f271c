//! End-to-end boot tests: the greeting, warnings and boot-stub errors as a person sees them.

use std::time::{Duration, Instant};

use ferrite_tests::{Boot, Color::*, Qemu, ScreenMode};

const BOOT_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn greeting_is_drawn_in_its_colors_and_mirrored_to_serial() {
    let mut qemu = Qemu::kernel("nodemo");
    let serial = qemu.wait_for_serial("shell: ready", BOOT_TIMEOUT);
    let screen = qemu.screen();

    // Row 0: the banner, centered, white on blue across the whole width.
    let title = "Ferrite 0.1 - a Rust kernel for 32-bit x86";
    let left = (screen.columns() - title.len()) / 2;
    screen.assert_text_at(0, left, title, White, Blue);
    for column in 0..screen.columns() {
        assert_eq!(screen.cell(0, column).background, Blue, "banner cell {column}");
    }
    // Row 1: the greeting with its highlighted words.
    screen.assert_text_at(1, 0, "Hello from Rust!", LightGreen, Black);
    screen.assert_text_at(1, 16, " Booted by ", LightGray, Black);
    // The loader's name in yellow: QEMU's own loader, or GRUB for the framebuffer runs.
    let row = screen.row_text(1);
    let end = row.trim_end().len() - 1;
    let loader = &row[27..end];
    let expected = match ScreenMode::from_environment() {
        ScreenMode::Text => "qemu",
        ScreenMode::Framebuffer => "GRUB 2.",
    };
    assert!(loader.starts_with(expected), "loader {loader:?}, expected {expected}");
    screen.assert_text_at(1, 27, loader, Yellow, Black);
    screen.assert_text_at(1, end, ".", LightGray, Black);
    screen.assert_text_at(2, 0, "32-bit protected mode, ", LightGray, Black);
    screen.assert_text_at(2, 23, "SSE2", LightCyan, Black);
    // Then the shell, below the greeting.
    screen.assert_text_at(3, 0, "Ferrite shell", Yellow, Black);
    screen.assert_text_at(4, 0, "ferrite> ", LightGreen, Black);
    // A framebuffer draws its own cursor: after the prompt. (VGA text's is in CRTC registers.)
    if let Some(cursor) = screen.cursor() {
        assert_eq!(cursor, (4, 9), "cursor:\n{screen}");
    }

    // The shell's clock sits in the banner's right margin, yellow on blue, within a second.
    let columns = screen.columns();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut screen = screen;
    while screen.cell(0, columns - 1).foreground != Yellow && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        screen = qemu.screen();
    }
    let clock_column = columns - CLOCK_WIDTH;
    let clock = &screen.row_text(0)[clock_column..];
    assert!(clock.starts_with(' ') && clock.contains(" up 0:00"), "{clock:?}\n{screen}");
    screen.assert_text_at(0, clock_column + 1, &clock[1..], Yellow, Blue);
    // Everything else on screen is on serial too.
    for row in 0..4 {
        let text = screen.row_text(row);
        let text = if row == 0 { &text[..clock_column] } else { &text[..] };
        assert!(serial.contains(text.trim()), "row {row} {text:?} missing from serial:\n{serial}");
    }
}

/// " 14:03:07 up 0:01": the shell's clock in the top-right corner.
const CLOCK_WIDTH: usize = 17;

#[test]
fn unknown_command_line_words_get_a_one_line_warning_and_boot_goes_on() {
    let mut qemu = Qemu::kernel("nodemo sparkle fault=melt");
    let serial = qemu.wait_for_serial("shell: ready", BOOT_TIMEOUT);
    let screen = qemu.screen();
    let warning = "cmdline: unknown word 'sparkle' (known: test bench nodemo acpi=off apic=off nosmp fault=<kind>)";
    assert!(serial.contains(warning), "{serial}");
    // Longer than an 80-column row (not a 128-column one): its first row on screen, in the
    // warning's colours.
    let warning_rows = warning.len().div_ceil(screen.columns());
    let first_row = &warning[..warning.len().min(screen.columns())];
    let (row, column) =
        screen.find(first_row).unwrap_or_else(|| panic!("no warning on screen:\n{screen}"));
    screen.assert_text_at(row, column, first_row, Yellow, Black);
    let fault_warning = "cmdline: unknown fault 'melt'; known: divide invalid-opcode \
                         general-protection breakpoint stack-overflow thread-stack-overflow null \
                         write-text out-of-memory panic";
    // Wrapped over as many rows as the screen's width needs, then padded to the row's end.
    let fault_row = row + warning_rows;
    let wrapped: String = (fault_row..fault_row + 3).map(|row| screen.row_text(row)).collect();
    assert!(wrapped.starts_with(fault_warning), "{wrapped:?}");
    let rest = &wrapped[fault_warning.len()..];
    let padding = rest.len() - rest.trim_start_matches(' ').len();
    assert!(
        (fault_warning.len() + padding).is_multiple_of(screen.columns()),
        "not alone on its rows"
    );
    assert!(serial.contains(warning) && serial.contains(fault_warning));
    assert!(screen.find("Ferrite shell").is_some(), "boot did not go on:\n{screen}");
}

/// Boots on `cpu` and checks that the boot stub refused it with one of `messages`: on COM1,
/// and on screen (white on red on the top row in text mode; a red screen on a framebuffer);
/// that no Rust code ran; and that the machine halted rather than reset.
fn assert_stub_refuses(cpu: &str, messages: &[&str]) {
    let mut qemu = Qemu::start(Boot::Kernel("nodemo".into()), &["-cpu", cpu]);
    let serial = qemu.wait_for_serial("boot: ", BOOT_TIMEOUT);
    let serial = if serial.ends_with('\n') {
        serial
    } else {
        std::thread::sleep(Duration::from_millis(500));
        qemu.serial()
    };
    let message = serial.trim_end();
    assert!(messages.contains(&message), "serial is {serial:?}; Rust code ran, or no message");
    let deadline = Instant::now() + BOOT_TIMEOUT;
    match ScreenMode::from_environment() {
        ScreenMode::Text => {
            let screen = loop {
                let screen = qemu.screen();
                if screen.row_text(0).starts_with("boot:") || Instant::now() > deadline {
                    break screen;
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            screen.assert_text_at(0, 0, message, White, Red);
        }
        ScreenMode::Framebuffer => {
            let red = [0xff, 0, 0];
            let image = loop {
                let image = qemu.screenshot_image();
                if image.pixels.iter().all(|&pixel| pixel == red) || Instant::now() > deadline {
                    break image;
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            assert_eq!((image.width, image.height), (1024, 768));
            let other = image.pixels.iter().position(|&pixel| pixel != red);
            assert_eq!(other, None, "the framebuffer is not all red");
        }
    }
    assert!(qemu.is_running(), "QEMU reset or exited instead of halting");
}

const NO_SSE: &str = "boot: this CPU has no SSE/SSE2 (need a Pentium 4 or newer)";

#[test]
fn a_pentium_without_sse_gets_the_boot_stub_message() {
    assert_stub_refuses("pentium", &[NO_SSE]);
}

#[test]
fn a_pentium_ii_without_sse_gets_the_boot_stub_message() {
    assert_stub_refuses("pentium2", &[NO_SSE]);
}

#[test]
fn a_486_gets_a_boot_stub_message() {
    assert_stub_refuses("486", &[NO_SSE, "boot: this CPU has no CPUID instruction"]);
}

#[test]
fn without_a_ps2_controller_the_screen_says_what_the_shell_needs() {
    let mut qemu = Qemu::start(Boot::Kernel("nodemo".into()), &["-machine", "pc,i8042=off"]);
    let serial = qemu.wait_for_serial("shell: ready", BOOT_TIMEOUT);
    let warning = "keyboard: no PS/2 controller answered; the shell needs a PS/2 keyboard, or a \
                   USB keyboard with the firmware's USB legacy emulation turned on";
    assert!(serial.contains(warning), "{serial}");
    let screen = qemu.screen();
    let (row, column) =
        screen.find("keyboard: no PS/2 controller answered;").unwrap_or_else(|| {
            panic!("no warning on screen:\n{screen}");
        });
    screen.assert_text_at(row, column, "keyboard: no PS/2 controller answered;", Yellow, Black);
}
