//! Runs the kernel's own tests (`-append test`) and checks each is reported and the exit code:
//! on one, two and four CPUs, on QEMU's `pc` and `q35` machines, loaded by QEMU's Multiboot
//! loader (as the BIOS path) and through GRUB under UEFI; and with QEMU's deterministic clock.

use std::time::Duration;

use ferrite_tests::{Boot, Firmware, Medium, Qemu, QemuExit};

/// Boots `test` with `extra` QEMU arguments and checks that every in-kernel test passed;
/// returns the serial transcript.
fn run_in_kernel_tests(extra: &[&str]) -> String {
    run_boot(Boot::BenchKernel("test".into()), extra)
}

/// Runs the suite booted as `boot` and checks it as `run_in_kernel_tests` does.
fn run_boot(boot: Boot, extra: &[&str]) -> String {
    let mut qemu = Qemu::start(boot, extra);
    let exit = qemu.wait_for_exit(Duration::from_secs(180));
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

/// The suite on `machine` with `cpus` CPUs, loaded by QEMU's Multiboot loader or, with
/// `Firmware::Uefi64`, by GRUB under OVMF (the menu's in-kernel tests entry); checks that every
/// CPU came online.
fn run_on(firmware: Firmware, machine: &str, cpus: u32) {
    let cpus_argument = cpus.to_string();
    let extra = ["-machine", machine, "-smp", cpus_argument.as_str()];
    let serial = match firmware {
        Firmware::Bios => run_in_kernel_tests(&extra),
        _ => run_boot(
            Boot::Iso { firmware, medium: Medium::Cdrom, entry: "tests", words: "".into() },
            &extra,
        ),
    };
    if cpus > 1 {
        let online = format!("cpus: {cpus} of {cpus} online");
        assert!(serial.contains(&online), "not every CPU came online:\n{serial}");
    }
}

macro_rules! suite_on {
    ($($name:ident: $firmware:ident, $machine:literal, $cpus:literal;)*) => {
        $(
            #[test]
            fn $name() {
                run_on(Firmware::$firmware, $machine, $cpus);
            }
        )*
    };
}

suite_on! {
    suite_passes_on_pc_with_1_cpu: Bios, "pc", 1;
    suite_passes_on_pc_with_2_cpus: Bios, "pc", 2;
    suite_passes_on_pc_with_4_cpus: Bios, "pc", 4;
    suite_passes_on_q35_with_1_cpu: Bios, "q35", 1;
    suite_passes_on_q35_with_2_cpus: Bios, "q35", 2;
    suite_passes_on_q35_with_4_cpus: Bios, "q35", 4;
    suite_passes_under_uefi_on_pc_with_1_cpu: Uefi64, "pc", 1;
    suite_passes_under_uefi_on_pc_with_2_cpus: Uefi64, "pc", 2;
    suite_passes_under_uefi_on_pc_with_4_cpus: Uefi64, "pc", 4;
    suite_passes_under_uefi_on_q35_with_1_cpu: Uefi64, "q35", 1;
    suite_passes_under_uefi_on_q35_with_2_cpus: Uefi64, "q35", 2;
    suite_passes_under_uefi_on_q35_with_4_cpus: Uefi64, "q35", 4;
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
