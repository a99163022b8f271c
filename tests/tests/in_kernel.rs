//! Runs the kernel's own tests (`-append test`) and checks each is reported and the exit code:
//! once in real time, as users run them, and once with QEMU's deterministic clock.

use std::time::Duration;

use ferrite_tests::{Boot, Qemu, QemuExit};

/// Boots `test` with `extra` QEMU arguments and checks that every in-kernel test passed;
/// returns the serial transcript.
fn run_in_kernel_tests(extra: &[&str]) -> String {
    let mut qemu = Qemu::start(Boot::BenchKernel("test".into()), extra);
    let exit = qemu.wait_for_exit(Duration::from_secs(120));
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
    serial
}

#[test]
fn in_kernel_tests_all_pass_and_qemu_exits_with_status_33() {
    run_in_kernel_tests(&[]);
}

/// Under `-icount shift=0` guest time is the instruction count, one nanosecond each: the timing
/// tests see no host noise, the counter must calibrate to 1 GHz, and 100 ms of sleep must see
/// about 100 timer ticks (in real time the kernel's own test asks only for some).
#[test]
fn with_deterministic_time_the_tests_pass_and_the_clock_calibrates_to_one_gigahertz() {
    let serial = run_in_kernel_tests(&["-icount", "shift=0,sleep=off"]);
    let prefix = "clock: time-stamp counter runs at ";
    let kilohertz: u64 = serial
        .lines()
        .find_map(|line| line.strip_prefix(prefix)?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no calibration line on serial:\n{serial}"));
    assert!(
        (999_000..=1_001_000).contains(&kilohertz),
        "calibrated {kilohertz} kHz under -icount shift=0, expected 1,000,000 within 0.1 %"
    );
    let prefix = "  100 ms of sleep saw ";
    let ticks: Vec<u64> = serial
        .lines()
        .filter_map(|line| line.strip_prefix(prefix)?.strip_suffix(" timer ticks")?.parse().ok())
        .collect();
    assert_eq!(ticks.len(), 1, "one measurement of ticks while sleeping expected:\n{serial}");
    // 1000.15 Hz: 100 ticks, one more for a tick on each edge.
    assert!((99..=101).contains(&ticks[0]), "100 ms of sleep saw {} timer ticks", ticks[0]);
}
