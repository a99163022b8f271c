//! `make bench`: measures size, boot time, demo speed, interrupt and allocator costs and
//! rebuild time, prints the figures and writes them to docs/benchmarks.md.
//!
//! Wall-clock figures are medians of several runs on a shared machine; instruction counts come
//! from QEMU's `-icount shift=0`, where the guest's time-stamp counter advances by one per
//! instruction, so they repeat exactly. The `bench` word boots the bench image, which has the
//! benchmarks compiled in; everything else boots the image people boot.

use std::fmt::Write as _;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ferrite_tests::qemu::{iso_path, kernel_path, repository_root};
use ferrite_tests::{Boot, Firmware, Medium, Qemu};

const BOOT_RUNS: usize = 7;
const UEFI_BOOT_RUNS: usize = 3;
const DEMO_RUNS: usize = 3;
const REBUILD_RUNS: usize = 3;
const KEYSTROKES: usize = 40;
/// The Go demo kernel's figures, as given in the project's issue (measured there, not here).
const GO_DEMO_FRAMES_PER_SECOND: (f64, f64) = (1.2, 1.5);
const GO_DEMO_ELF_BYTES: u64 = 1_900_000;
const GO_DEMO_ISO_BYTES: u64 = 11_400_000;

/// Where web/bench.mjs's section of docs/benchmarks.md starts.
const BROWSER_SECTION: &str = "\n## In the browser\n";

/// The rows measured so far, for docs/benchmarks.md.
static ROWS: Mutex<Vec<(String, String, String)>> = Mutex::new(Vec::new());

fn main() {
    let root = repository_root();
    println!("Ferrite benchmark ({} boots per median)\n", BOOT_RUNS);

    let (text, data, bss) = section_sizes();
    let elf_bytes = std::fs::metadata(kernel_path()).unwrap().len();
    let iso_kernel_bytes = std::fs::metadata(root.join("build/iso/boot/kernel.elf")).unwrap().len();
    let iso_bytes = std::fs::metadata(iso_path()).unwrap().len();
    row("kernel .text+.rodata (bytes)", text.to_string(), "");
    row("kernel .data (bytes)", data.to_string(), "");
    row("kernel .bss (bytes: stacks, tables, frame bitmap)", bss.to_string(), "");
    row(
        "kernel ELF on the ISO, stripped (bytes)",
        iso_kernel_bytes.to_string(),
        &format!("<= 196608; Go demo {GO_DEMO_ELF_BYTES}"),
    );
    row("kernel ELF with symbols and line tables (bytes)", elf_bytes.to_string(), "");
    row(
        "ISO image (bytes)",
        iso_bytes.to_string(),
        &format!("<= 5242880; Go demo {GO_DEMO_ISO_BYTES}"),
    );
    let bench_bytes = std::fs::metadata(ferrite_tests::qemu::bench_kernel_path()).unwrap().len();
    row(
        "bench image with symbols; the ISO carries it stripped for the tests entry (bytes)",
        bench_bytes.to_string(),
        "",
    );

    let kernel_boot =
        median_duration((0..BOOT_RUNS).map(|_| time_to_greeting(Boot::Kernel("nodemo".into()))));
    row("QEMU start to greeting on screen, -kernel (ms)", millis(kernel_boot), "<= 500");
    let iso_boot = median_duration((0..BOOT_RUNS).map(|_| time_to_greeting(Boot::iso())));
    row("QEMU start to greeting on screen, ISO+GRUB, SeaBIOS (ms)", millis(iso_boot), "");
    let uefi = Boot::iso_on(Firmware::Uefi64, Medium::Cdrom, "nodemo");
    let uefi_boot = median_duration((0..UEFI_BOOT_RUNS).map(|_| time_to_greeting(uefi.clone())));
    row(
        "QEMU start to greeting on screen, ISO+GRUB, OVMF x86_64 (ms)",
        millis(uefi_boot),
        &format!("framebuffer; median of {UEFI_BOOT_RUNS}"),
    );

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
    let counted = bench_demo(&["-icount", "shift=0,sleep=off"]);
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

    let counted_serial = bench_serial(&["-icount", "shift=0,sleep=off"]);
    let per = per_operation(&counted_serial, "bench: breakpoint ", "ticks", "trips");
    row("int3 round trip, guest instructions (-icount)", format!("{per:.1}"), "");
    let without = serial_field(&counted_serial, "bench: timer ", "loop_without");
    let with = serial_field(&counted_serial, "bench: timer ", "loop_with");
    let interrupts = serial_field(&counted_serial, "bench: timer ", "interrupts");
    row(
        "timer interrupt through the local APIC, guest instructions each (-icount)",
        format!("{:.0}", (with - without) / interrupts),
        &format!("over {interrupts} interrupts"),
    );
    let pic_serial = bench_serial_with_words("bench apic=off", &["-icount", "shift=0,sleep=off"]);
    let pic_without = serial_field(&pic_serial, "bench: timer ", "loop_without");
    let pic_with = serial_field(&pic_serial, "bench: timer ", "loop_with");
    let pic_interrupts = serial_field(&pic_serial, "bench: timer ", "interrupts");
    row(
        "timer interrupt through the 8259 PICs (apic=off), guest instructions each (-icount)",
        format!("{:.0}", (pic_with - pic_without) / pic_interrupts),
        &format!("over {pic_interrupts} interrupts"),
    );

    // Each figure: one field of a benchmark's serial line divided by its count.
    let figures = [
        (
            "thread switch (yield to a thread of equal priority), guest instructions (-icount)",
            per_operation(&counted_serial, "bench: thread ", "ticks", "switches"),
            "<= 500",
        ),
        (
            "channel round trip between two threads, guest instructions (-icount)",
            per_operation(&counted_serial, "bench: channel ", "ticks", "trips"),
            "<= 2000",
        ),
        (
            "spawn + join of an empty thread, guest instructions (-icount)",
            per_operation(&counted_serial, "bench: spawn and join ", "ticks", "count"),
            "",
        ),
    ];
    for (name, value, target) in figures {
        row(name, format!("{value:.0}"), target);
    }
    let real_serial = bench_serial(&[]);
    let save_nanoseconds =
        per_operation(&real_serial, "bench: fxsave and fxrstor ", "nanoseconds", "count");
    row(
        "fxsave + fxrstor pair an eager switch would add, real time (ns)",
        format!("{save_nanoseconds:.0}"),
        "",
    );
    let spawn_microseconds =
        per_operation(&real_serial, "bench: spawn and join ", "microseconds", "count");
    row("spawn + join of an empty thread, real time (us)", format!("{spawn_microseconds:.1}"), "");

    // The console: lines per second on each screen, from the same kind of boot.
    let framebuffer_wall = bench_serial_on_framebuffer(&["-smp", "1"]);
    let framebuffer_two_cpus = bench_serial_on_framebuffer(&["-smp", "2"]);
    let framebuffer_counted = bench_serial_on_framebuffer(&["-icount", "shift=0,sleep=off"]);
    let lines_per_second = |serial: &str, screen_and_caching: &str| {
        let prefix = format!("bench: console {screen_and_caching} ");
        serial_field(serial, &prefix, "lines") * 1e6 / serial_field(serial, &prefix, "microseconds")
    };
    let instructions_per_line = |serial: &str, screen_and_caching: &str| {
        let prefix = format!("bench: console {screen_and_caching} ");
        serial_field(serial, &prefix, "ticks") / serial_field(serial, &prefix, "lines")
    };
    let text_wall = &real_serial;
    let text = "screen=text caching=none scroll=none";
    row(
        "console lines per second, VGA text, TCG",
        format!("{:.0}", lines_per_second(text_wall, text)),
        "one boot; println! of 57 characters each",
    );
    let framebuffer_write_combining = "screen=framebuffer caching=write-combining scroll=redraw";
    let framebuffer_uncached = "screen=framebuffer caching=uncached scroll=redraw";
    let framebuffer_moving = "screen=framebuffer caching=write-combining scroll=move-pixels";
    row(
        "console lines per second, 1024x768x32 framebuffer, write-combining, TCG",
        format!("{:.0}", lines_per_second(&framebuffer_wall, framebuffer_write_combining)),
        ">= 10000; one boot; scrolling redraws cells",
    );
    row(
        "console lines per second, 1024x768x32 framebuffer, uncached, TCG",
        format!("{:.0}", lines_per_second(&framebuffer_wall, framebuffer_uncached)),
        "same boot; TCG ignores memory types",
    );
    row(
        "console lines per second, framebuffer scrolling by moving pixels, TCG",
        format!("{:.0}", lines_per_second(&framebuffer_wall, framebuffer_moving)),
        "same boot; reads video memory, slow on real cards",
    );
    row(
        "console guest instructions per line: VGA text / framebuffer (-icount)",
        format!(
            "{:.0} / {:.0}",
            instructions_per_line(&counted_serial, text),
            instructions_per_line(&framebuffer_counted, framebuffer_write_combining)
        ),
        "",
    );
    let framebuffer_frames = serial_field(&framebuffer_wall, "bench: demo ", "frames");
    let framebuffer_microseconds = serial_field(&framebuffer_wall, "bench: demo ", "microseconds");
    row(
        "demo frames per second, 1024x768 framebuffer (128x48 rays), TCG",
        format!("{:.1}", framebuffer_frames * 1e6 / framebuffer_microseconds),
        "one boot; text mode above renders 80x25",
    );

    // Scaling: the same bench image booted with one CPU and with two, one render thread per
    // CPU. QEMU runs each virtual CPU on a host thread of its own.
    let text_rate = |serial: &str, workers: &str| {
        let prefix = format!("bench: text demo workers={workers} ");
        serial_field(serial, &prefix, "frames") * 1e6
            / serial_field(serial, &prefix, "microseconds")
    };
    let (one_cpu, two_cpus) =
        (text_rate(&framebuffer_wall, "1"), text_rate(&framebuffer_two_cpus, "2"));
    row(
        "text demo frames per second, 1 / 2 CPUs, a render thread per CPU, TCG",
        format!("{one_cpu:.1} / {two_cpus:.1}"),
        &format!(">= 1.7x; two boots, this run: {:.2}x", two_cpus / one_cpu),
    );
    let two_threads_one_boot = text_rate(&framebuffer_two_cpus, "1");
    row(
        "text demo frames per second on 2 CPUs: 1 / 2 render threads, TCG",
        format!("{two_threads_one_boot:.1} / {two_cpus:.1}"),
        &format!("one boot: {:.2}x", two_cpus / two_threads_one_boot),
    );
    let pixel_rate = |serial: &str| {
        let prefix = "bench: pixel demo ";
        serial_field(serial, prefix, "frames") * 1e6 / serial_field(serial, prefix, "microseconds")
    };
    let (one_cpu, two_cpus) = (pixel_rate(&framebuffer_wall), pixel_rate(&framebuffer_two_cpus));
    row(
        "pixel demo frames per second, 1 / 2 CPUs, 160x120 rays on 1024x768, TCG",
        format!("{one_cpu:.1} / {two_cpus:.1}"),
        &format!(">= 1.7x; two boots, this run: {:.2}x", two_cpus / one_cpu),
    );
    let online_in = |serial: &str| -> f64 {
        let line = serial
            .lines()
            .find(|line| line.starts_with("cpus: ") && line.contains(" online, started in "))
            .unwrap_or_else(|| panic!("no CPU start-up line on serial:\n{serial}"));
        number_after(line, " started in ")
    };
    let four_cpus = bench_serial(&["-smp", "4"]);
    row(
        "application processors started: 1 (-smp 2) / 3 (-smp 4), microseconds, TCG",
        format!("{:.0} / {:.0}", online_in(&framebuffer_two_cpus), online_in(&four_cpus)),
        "INIT, 10 ms, SIPI, until the CPU runs its idle thread",
    );
    row(
        "IPI round trip, CPU 0 to CPU 1 and back, microseconds, TCG",
        format!(
            "{:.1}",
            per_operation(&framebuffer_two_cpus, "bench: ipi ", "microseconds", "round_trips")
        ),
        "-smp 2; sent, handled there, seen here",
    );
    row(
        "TLB shootdown of one page: 1 / 3 other CPUs, microseconds, TCG",
        format!(
            "{:.1} / {:.1}",
            per_operation(&framebuffer_two_cpus, "bench: tlb shootdown ", "microseconds", "count"),
            per_operation(&four_cpus, "bench: tlb shootdown ", "microseconds", "count")
        ),
        "-smp 2 / -smp 4",
    );
    // Rays per second on one CPU, one ray at a time against four-ray SSE packets.
    let rays_per_second = |serial: &str, marcher: &str| {
        let prefix = format!("bench: rays marcher={marcher} ");
        serial_field(serial, &prefix, "rays") * 1e6 / serial_field(serial, &prefix, "microseconds")
    };
    let (scalar, packets) =
        (rays_per_second(&real_serial, "scalar"), rays_per_second(&real_serial, "packets"));
    row(
        "pixel demo rays per second per CPU: scalar / SSE packets, TCG",
        format!("{scalar:.0} / {packets:.0}"),
        &format!("one boot; packets / scalar: {:.2}x", packets / scalar),
    );
    let instructions_per_ray = |marcher: &str| {
        let prefix = format!("bench: rays marcher={marcher} ");
        serial_field(&counted_serial, &prefix, "ticks")
            / serial_field(&counted_serial, &prefix, "rays")
    };
    row(
        "pixel demo guest instructions per ray: scalar / SSE packets (-icount)",
        format!("{:.0} / {:.0}", instructions_per_ray("scalar"), instructions_per_ray("packets")),
        "",
    );

    let heap_ready = number_after(&counted_serial, "memory: heap ready ");
    row("kernel_main to heap ready, guest instructions (-icount)", format!("{heap_ready:.0}"), "");
    let operations = serial_field(&counted_serial, "bench: allocator ", "operations");
    let baseline = serial_field(&counted_serial, "bench: allocator ", "baseline_ticks");
    let talc = serial_field(&counted_serial, "bench: allocator ", "talc_ticks") - baseline;
    let list = serial_field(&counted_serial, "bench: allocator ", "list_ticks") - baseline;
    row(
        "allocator instructions per operation: talc (ours)",
        format!("{:.0}", talc / operations),
        "",
    );
    row(
        "allocator instructions per operation: linked_list",
        format!("{:.0}", list / operations),
        "",
    );
    row(
        "allocator throughput, talc / linked_list_allocator",
        format!("{:.1}x", list / talc),
        ">= 10x (workload overhead subtracted)",
    );
    let wall = bench_serial(&[]);
    let hz = number_after(&wall, "clock: time-stamp counter runs at ") * 1000.0;
    let wall_baseline = serial_field(&wall, "bench: allocator ", "baseline_ticks");
    let wall_talc = serial_field(&wall, "bench: allocator ", "talc_ticks") - wall_baseline;
    row(
        "talc operations per second, TCG wall clock",
        format!("{:.0}", operations / (wall_talc / hz)),
        "one boot; noisy",
    );
    let peak = serial_field(&counted_serial, "bench: heap ", "peak_live");
    let heap = serial_field(&counted_serial, "bench: heap ", "heap_for_run");
    let free_after = serial_field(&counted_serial, "bench: heap ", "free_after");
    row(
        "heap use at the stress run's peak: live / heap",
        format!("{:.1} %", peak / heap * 100.0),
        ">= 90 %",
    );
    let list_peak = serial_field(&counted_serial, "bench: list_heap ", "peak_live");
    let list_heap = serial_field(&counted_serial, "bench: list_heap ", "heap_for_run");
    row(
        "same stress run on linked_list_allocator: live / heap",
        format!("{:.1} %", list_peak / list_heap * 100.0),
        "grown the same way",
    );
    row(
        "heap reusable after the stress run: free / heap",
        format!("{:.1} %", free_after / heap * 100.0),
        "",
    );

    let text_boot = Boot::Kernel("nodemo".into());
    let framebuffer_boot = Boot::Iso {
        firmware: Firmware::Bios,
        medium: Medium::Cdrom,
        entry: "vbe",
        words: "nodemo".into(),
    };
    let pic_boot = Boot::Kernel("nodemo apic=off".into());
    let mut medians = Vec::new();
    let boots = [
        ("VGA text", text_boot),
        ("framebuffer", framebuffer_boot),
        ("VGA text, 8259 PICs (apic=off)", pic_boot),
    ];
    for (name, boot) in boots {
        let latencies = keystroke_latencies(boot, KEYSTROKES);
        medians.push(median(latencies.clone()));
        row(
            &format!("keystroke to echo on screen, {name}, median of {KEYSTROKES} (ms)"),
            format!("{:.1}", median(latencies.clone()) * 1000.0),
            &format!(
                "min {:.1}, max {:.1}",
                latencies.iter().cloned().fold(f64::MAX, f64::min) * 1000.0,
                latencies.iter().cloned().fold(0.0, f64::max) * 1000.0
            ),
        );
    }
    row(
        "keystroke to echo: framebuffer minus VGA text (ms)",
        format!("{:.1}", (medians[1] - medians[0]) * 1000.0),
        "<= 1; both read the same way through the monitor",
    );

    let rebuild = median_duration((0..REBUILD_RUNS).map(|_| time_rebuild()));
    row("rebuild + ISO after touching one .rs file (ms)", millis(rebuild), "<= 5000");
    write_report(&root.join("docs/benchmarks.md"));
}

fn row(name: &str, value: String, target: &str) {
    println!("{name:<48} {value:>14}  {target}");
    ROWS.lock().unwrap().push((name.into(), value, target.into()));
}

/// The first line of a command's output, or "unknown".
fn first_line(program: &str, arguments: &[&str]) -> String {
    Command::new(program)
        .args(arguments)
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Writes every row as a Markdown table with the machine it was measured on.
fn write_report(path: &std::path::Path) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|count| count.get()).unwrap_or(0);
    let mut text = String::new();
    let _ = writeln!(text, "# Benchmarks\n");
    let _ = writeln!(
        text,
        "Written by `make bench` (tests/src/bin/bench.rs); do not edit by hand. Wall-clock figures \
         are medians of several runs on a shared machine, so compare rows measured in the same \
         run; instruction counts come from QEMU's `-icount shift=0` and repeat exactly.\n"
    );
    let _ = writeln!(text, "- measured: {}", first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    let _ = writeln!(text, "- host: {cpu}, {cores} cores");
    let _ = writeln!(text, "- emulator: {}\n", first_line("qemu-system-i386", &["--version"]));
    let _ = writeln!(text, "| figure | value | target / reference |");
    let _ = writeln!(text, "| --- | ---: | --- |");
    for (name, value, target) in ROWS.lock().unwrap().iter() {
        let _ = writeln!(text, "| {name} | {value} | {target} |");
    }
    // `make bench-web` (web/bench.mjs) writes its own section at the end: keep it.
    let previous = std::fs::read_to_string(path).unwrap_or_default();
    if let Some(start) = previous.find(BROWSER_SECTION) {
        let _ = write!(text, "\n{}", &previous[start + 1..]);
    }
    std::fs::write(path, text).expect("docs/benchmarks.md could not be written");
    println!("\nwritten to {}", path.display());
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

/// Starts QEMU and polls the screen's second row until the greeting shows, measured from
/// before spawn.
fn time_to_greeting(boot: Boot) -> Duration {
    let start = Instant::now();
    let mut qemu = Qemu::start_in_mode(boot, &[]);
    loop {
        if qemu.row_text(1).starts_with("Hello from Rust!") {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no greeting within 120 s");
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
    let mut qemu = Qemu::start(Boot::BenchKernel("bench".into()), extra);
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

/// The serial transcript of a `bench` boot with `extra` QEMU arguments.
fn bench_serial(extra: &[&str]) -> String {
    bench_serial_with_words("bench", extra)
}

/// The serial transcript of a boot of the bench image with the command line `words`.
fn bench_serial_with_words(words: &str, extra: &[&str]) -> String {
    let mut qemu = Qemu::start(Boot::BenchKernel(words.into()), extra);
    qemu.wait_for_exit(Duration::from_secs(300));
    qemu.serial()
}

/// The serial transcript of a `bench` boot of the bench image through GRUB's VBE entry, on a
/// 1024x768x32 framebuffer.
fn bench_serial_on_framebuffer(extra: &[&str]) -> String {
    let boot = Boot::BenchIso { entry: "vbe", words: "bench".into() };
    let mut qemu = Qemu::start_in_mode(boot, extra);
    qemu.wait_for_exit(Duration::from_secs(300));
    qemu.serial()
}

/// The number after `name=` on the serial line starting with `prefix`.
/// Field `total` of the serial line starting with `prefix`, divided by its field `count`.
fn per_operation(serial: &str, prefix: &str, total: &str, count: &str) -> f64 {
    serial_field(serial, prefix, total) / serial_field(serial, prefix, count)
}

fn serial_field(serial: &str, prefix: &str, name: &str) -> f64 {
    let line = serial
        .lines()
        .find(|line| line.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line on serial:\n{serial}"));
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
}

/// The number that follows `prefix` on serial.
fn number_after(serial: &str, prefix: &str) -> f64 {
    let start = serial.find(prefix).unwrap_or_else(|| panic!("no {prefix:?} on serial:\n{serial}"))
        + prefix.len();
    let digits: String = serial[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no number after {prefix:?}"))
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Seconds from sending a key to QEMU until its character shows at the shell's cursor,
/// for `count` keys (each erased again with backspace before the next). The prompt's row is
/// polled through the monitor, one row's bytes at a time, in either console mode.
fn keystroke_latencies(boot: Boot, count: usize) -> Vec<f64> {
    let mut qemu = Qemu::start_in_mode(boot, &[]);
    qemu.wait_for_serial("shell: ready", Duration::from_secs(30));
    let prompt = ferrite_tests::qemu::SHELL_PROMPT;
    let (prompt_row, _) = qemu.screen().find(prompt.trim_end()).expect("the prompt on screen");
    let column = prompt.len();
    let shown = |qemu: &mut Qemu| qemu.row_text(prompt_row).as_bytes().get(column) == Some(&b'k');
    let mut latencies = Vec::new();
    for _ in 0..count {
        let start = Instant::now();
        qemu.monitor("sendkey k 5");
        while !shown(&mut qemu) {
            assert!(start.elapsed() < Duration::from_secs(5), "key never echoed");
        }
        latencies.push(start.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_millis(20));
        qemu.monitor("sendkey backspace 5");
        while shown(&mut qemu) {
            assert!(start.elapsed() < Duration::from_secs(10), "backspace never erased");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    latencies
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
