//! Runs the kernel's own tests (`-append test`) and checks each is reported and the exit code.

use std::time::Duration;

use ferrite_tests::{Qemu, QemuExit};

#[test]
fn in_kernel_tests_all_pass_and_qemu_exits_with_status_33() {
    let mut qemu = Qemu::kernel("test");
    let exit = qemu.wait_for_exit(Duration::from_secs(60));
    let serial = qemu.serial();
    assert_eq!(exit, QemuExit::Success, "serial:\n{serial}");
    let count: usize = serial
        .lines()
        .find_map(|line| {
            line.strip_prefix("running ")?.strip_suffix(" in-kernel tests")?.parse().ok()
        })
        .expect("the kernel announces how many tests it runs");
    let passed = serial
        .lines()
        .filter(|line| line.starts_with("test ") && line.ends_with(" ... ok"))
        .count();
    assert!(count >= 10, "only {count} in-kernel tests");
    assert_eq!(passed, count, "serial:\n{serial}");
    assert!(serial.contains(&format!("\n{count} passed, 0 failed\n")), "serial:\n{serial}");
}
