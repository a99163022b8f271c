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
    let apic = "interrupts: local APIC 0 timer at 1000 Hz (bus 1,000,000 kHz)";
    assert!(serial.contains(apic), "the APIC timer is not calibrated exactly:\n{serial}");
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

/// The suite on QEMU's `q35` machine (its chipset's I/O APIC and the same overrides).
#[test]
fn in_kernel_tests_pass_on_the_q35_machine() {
    let serial = run_in_kernel_tests(&["-machine", "q35"]);
    assert!(serial.contains("interrupts: local APIC 0 timer at 1000 Hz"), "serial:\n{serial}");
}

/// The suite on the 8259 path, on a CPU without a local APIC, with deterministic time: the
/// PIT's tick must still give about 100 ticks in 100 ms.
#[test]
fn without_a_local_apic_the_tests_pass_on_the_pics() {
    let serial = run_in_kernel_tests(&["-cpu", "qemu32,-apic", "-icount", "shift=0,sleep=off"]);
    assert!(serial.contains("interrupts: the CPU has no local APIC; using the 8259 PICs\n"));
    let prefix = "  100 ms of sleep saw ";
    let ticks: u64 = serial
        .lines()
        .find_map(|line| line.strip_prefix(prefix)?.strip_suffix(" timer ticks")?.parse().ok())
        .unwrap_or_else(|| panic!("no tick count on serial:\n{serial}"));
    assert!((99..=101).contains(&ticks), "100 ms of sleep saw {ticks} timer ticks");
}
