//! `make bench`: prints size, boot-time, demo-speed and rebuild figures for the kernel.
//!
//! Wall-clock figures are medians of several runs on a shared machine; instruction counts come
//! from QEMU's `-icount shift=0`, where the guest's time-stamp counter advances by one per
//! instruction, so they repeat exactly.

use std::process::Command;
use std::time::{Duration, Instant};

use ferrite_tests::qemu::{iso_path, kernel_path, repository_root};
use ferrite_tests::{Boot, Qemu};

const BOOT_RUNS: usize = 7;
const DEMO_RUNS: usize = 3;
const REBUILD_RUNS: usize = 3;
/// The Go demo kernel's figures, as given in the project's issue (measured there, not here).
const GO_DEMO_FRAMES_PER_SECOND: (f64, f64) = (1.2, 1.5);
const GO_DEMO_ELF_BYTES: u64 = 1_900_000;
const GO_DEMO_ISO_BYTES: u64 = 11_400_000;

fn main() {
    let root = repository_root();
    println!("Ferrite benchmark ({} boots per median)\n", BOOT_RUNS);
    row("figure", "value".into(), "target / reference");

    let (text, data, bss) = section_sizes();
    let elf_bytes = std::fs::metadata(kernel_path()).unwrap().len();
    let iso_kernel_bytes = std::fs::metadata(root.join("build/iso/boot/kernel.elf")).unwrap().len();
    let iso_bytes = std::fs::metadata(iso_path()).unwrap().len();
    row("kernel .text+.rodata (bytes)", text.to_string(), "");
    row("kernel .data (bytes)", data.to_string(), "");
    row("kernel .bss (bytes, 16 KiB of it the stack)", bss.to_string(), "");
    row(
        "kernel ELF on the ISO, stripped (bytes)",
        iso_kernel_bytes.to_string(),
        &format!("<= 131072; Go demo {GO_DEMO_ELF_BYTES}"),
    );
    row("kernel ELF with symbols and line tables (bytes)", elf_bytes.to_string(), "");
    row(
        "ISO image (bytes)",
        iso_bytes.to_string(),
        &format!("<= 2097152; Go demo {GO_DEMO_ISO_BYTES}"),
    );

    let kernel_boot =
        median_duration((0..BOOT_RUNS).map(|_| time_to_greeting(Boot::Kernel("nodemo".into()))));
    row("QEMU start to greeting on screen, -kernel (ms)", millis(kernel_boot), "<= 500");
    let iso_boot = median_duration((0..BOOT_RUNS).map(|_| time_to_greeting(Boot::Iso)));
    row("QEMU start to greeting on screen, ISO+GRUB (ms)", millis(iso_boot), "");

    let mut frames_per_second: Vec<f64> =
        (0..DEMO_RUNS).map(|_| bench_demo(&[]).frames_per_second()).collect();
    frames_per_second.sort_by(f64::total_cmp);
    let median_fps = frames_per_second[DEMO_RUNS / 2];
    let go_middle = (GO_DEMO_FRAMES_PER_SECOND.0 + GO_DEMO_FRAMES_PER_SECOND.1) / 2.0;
    row(
        "demo frames per second, TCG (median)",
        format!("{median_fps:.1}"),
        &format!(
            ">= 5x Go demo's {}-{}: {:.1}x its middle",
            GO_DEMO_FRAMES_PER_SECOND.0,
            GO_DEMO_FRAMES_PER_SECOND.1,
            median_fps / go_middle
        ),
    );
    let counted = bench_demo(&["-icount", "shift=0"]);
    row(
        "demo guest instructions per frame (-icount)",
        (counted.ticks / u64::from(counted.frames)).to_string(),
        "",
    );
    row(
        "demo march + shadow steps per frame",
        format!(
            "{} + {}",
            counted.march_steps / counted.frames,
            counted.shadow_steps / counted.frames
        ),
        "",
    );

    let round_trip = breakpoint_round_trip_instructions();
    row("int3 round trip, guest instructions (-icount)", format!("{round_trip:.1}"), "");

    let rebuild = median_duration((0..REBUILD_RUNS).map(|_| time_rebuild()));
    row("rebuild + ISO after touching one .rs file (ms)", millis(rebuild), "<= 5000");
}

fn row(name: &str, value: String, target: &str) {
    println!("{name:<48} {value:>14}  {target}");
}

fn millis(duration: Duration) -> String {
    format!("{}", duration.as_millis())
}

fn median_duration(samples: impl Iterator<Item = Duration>) -> Duration {
    let mut samples: Vec<Duration> = samples.collect();
    samples.sort();
    samples[samples.len() / 2]
}

/// Text (code and read-only data), data and bss sizes, as binutils' `size` reports them.
fn section_sizes() -> (u64, u64, u64) {
    let output = Command::new("size").arg(kernel_path()).output().expect("binutils' size");
    let text = String::from_utf8(output.stdout).unwrap();
    let numbers: Vec<u64> = text
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .take(3)
        .map(|field| field.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

/// Starts QEMU and polls the VGA buffer until the greeting shows, measured from before spawn.
fn time_to_greeting(boot: Boot) -> Duration {
    let start = Instant::now();
    let mut qemu = Qemu::start(boot, &[]);
    loop {
        if qemu.screen().row_text(1).starts_with("Hello from Rust!") {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no greeting within 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

struct DemoFigures {
    frames: u32,
    ticks: u64,
    microseconds: u64,
    march_steps: u32,
    shadow_steps: u32,
}

impl DemoFigures {
    fn frames_per_second(&self) -> f64 {
        f64::from(self.frames) * 1e6 / self.microseconds as f64
    }
}

/// Boots with `bench`, which renders a fixed number of frames and prints figures on serial.
fn bench_demo(extra: &[&str]) -> DemoFigures {
    let mut qemu = Qemu::start(Boot::Kernel("bench".into()), extra);
    qemu.wait_for_exit(Duration::from_secs(300));
    let serial = qemu.serial();
    let line =
        serial.lines().find(|line| line.starts_with("bench: demo ")).expect("bench line on serial");
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    let frames = field("frames") as u32;
    DemoFigures {
        frames,
        ticks: field("ticks"),
        microseconds: field("microseconds"),
        march_steps: field("march_steps") as u32,
        shadow_steps: field("shadow_steps") as u32,
    }
}

/// Guest instructions per `int3` trap, handler and `iret`, measured in the kernel over many
/// round trips under `-icount shift=0`.
fn breakpoint_round_trip_instructions() -> f64 {
    let mut qemu = Qemu::start(Boot::Kernel("bench".into()), &["-icount", "shift=0"]);
    qemu.wait_for_exit(Duration::from_secs(300));
    let serial = qemu.serial();
    let line = serial
        .lines()
        .find(|line| line.starts_with("bench: breakpoint "))
        .expect("breakpoint bench line on serial");
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    field("ticks") / field("trips")
}

/// Touches one source file and times `make iso` (cargo, link, grub-mkrescue).
fn time_rebuild() -> Duration {
    let root = repository_root();
    let source = root.join("src/demo/scene.rs");
    let file = std::fs::File::options().append(true).open(&source).unwrap();
    file.set_modified(std::time::SystemTime::now()).unwrap();
    let start = Instant::now();
    let status = Command::new("make")
        .args(["-s", "iso"])
        .current_dir(&root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "make iso failed");
    start.elapsed()
}
