//! The panic screen: message and location in its own colors, on serial too; a halt on a normal
//! boot and the failure exit under the test harness.

use std::time::Duration;

use ferrite_tests::{Boot, Color::*, Qemu, QemuExit};

#[test]
fn a_panic_shows_message_and_location_in_white_on_red_and_halts() {
    let mut qemu = Qemu::kernel("nodemo fault=panic");
    let serial = qemu.wait_for_serial("System halted.", Duration::from_secs(20));
    let screen = qemu.screen();
    let (row, column) =
        screen.find("KERNEL PANIC").unwrap_or_else(|| panic!("no panic on screen:\n{screen}"));
    screen.assert_text_at(row, column - 1, " KERNEL PANIC ", White, Red);
    screen.assert_text_at(row, column + 13, "fault=panic asked for a panic", Yellow, Red);
    let location = screen.row_text(row + 1);
    assert!(location.starts_with("   at src/diagnostics/fault_scenarios.rs:"), "{location:?}");
    assert_eq!(screen.cell(row + 1, 3).foreground, Yellow);
    assert_eq!(screen.cell(row + 1, 3).background, Red);
    // The backtrace reaches the kernel's entry.
    screen.assert_text_at(row + 2, 0, "backtrace:", White, Red);
    let kernel_main = screen.find("kernel_main+0x").unwrap_or_else(|| panic!("{screen}"));
    assert!(kernel_main.0 > row + 2);
    assert_eq!(screen.cell(kernel_main.0, kernel_main.1).foreground, Yellow);
    let halted = screen.find(" System halted. ").unwrap_or_else(|| panic!("{screen}"));
    screen.assert_text_at(halted.0, halted.1, " System halted. ", White, Red);

    assert!(serial.contains("KERNEL PANIC fault=panic asked for a panic"), "{serial}");
    assert!(serial.contains("   at src/diagnostics/fault_scenarios.rs:"), "{serial}");
    assert!(serial.contains("kernel_main+0x"), "{serial}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(qemu.is_running(), "QEMU reset or exited after the panic");
}

#[test]
fn a_panic_under_the_test_harness_exits_with_status_35() {
    let mut qemu = Qemu::start(Boot::BenchKernel("test fault=panic".into()), &[]);
    let exit = qemu.wait_for_exit(Duration::from_secs(20));
    assert_eq!(exit, QemuExit::Failure);
    let serial = qemu.serial();
    assert!(serial.contains("KERNEL PANIC fault=panic asked for a panic"), "{serial}");
    assert!(!serial.contains("in-kernel tests"), "tests ran after the panic:\n{serial}");
}
