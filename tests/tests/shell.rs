//! The shell, typed at through QEMU's keyboard: every command, line editing, history, errors,
//! and a keyboard fuzz. Screen cells and the serial transcript are both checked.

use std::time::{Duration, Instant, SystemTime};

use ferrite::testing::random::Xorshift64;
use ferrite_tests::qemu::SHELL_PROMPT;
use ferrite_tests::{Boot, Color::*, Qemu, QemuExit, Screen, ScreenMode};

fn shell() -> Qemu {
    let mut qemu = Qemu::kernel("nodemo");
    qemu.wait_for_serial("shell: ready", Duration::from_secs(20));
    qemu
}

/// The screen row holding `text`, panicking with the screen if it is missing.
fn row_with(screen: &Screen, text: &str) -> (usize, usize) {
    screen.find(text).unwrap_or_else(|| panic!("{text:?} not on screen:\n{screen}"))
}

#[test]
fn help_lists_every_command_with_a_description() {
    let mut qemu = shell();
    let output = qemu.run_command("help");
    for name in [
        "help", "clear", "echo", "color", "uptime", "date", "cpu", "mem", "demo", "fault", "panic",
        "reboot", "halt",
    ] {
        let line = output
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("help has no line for {name}:\n{output}"));
        assert!(line.split_whitespace().count() >= 3, "{name} has no description: {line:?}");
    }
    let screen = qemu.screen();
    let (row, column) = row_with(&screen, "  uptime ");
    assert_eq!(screen.cell(row, column + 2).foreground, Yellow);
}

#[test]
fn echo_clear_and_color_change_what_is_on_screen() {
    let mut qemu = shell();
    assert_eq!(qemu.run_command("echo Hello, kernel!"), "Hello, kernel!\n");
    let screen = qemu.screen();
    let (row, _) = row_with(&screen, "ferrite> echo Hello, kernel!");
    screen.assert_text_at(row, 0, SHELL_PROMPT, LightGreen, Black);
    screen.assert_text_at(row + 1, 0, "Hello, kernel!", LightGray, Black);

    assert_eq!(qemu.run_command("color yellow blue"), "text is now yellow on blue\n");
    qemu.run_command("echo in color");
    let screen = qemu.screen();
    let (row, _) = row_with(&screen, "ferrite> echo in color");
    screen.assert_text_at(row + 1, 0, "in color", Yellow, Blue);

    qemu.run_command("clear");
    let screen = qemu.screen();
    screen.assert_text_at(0, 0, SHELL_PROMPT, LightGreen, Blue);
    if let Some(cursor) = screen.cursor() {
        assert_eq!(cursor, (0, SHELL_PROMPT.len()), "{screen}");
    }
    assert!(screen.find("in color").is_none(), "clear left text:\n{screen}");
    assert_eq!(screen.cell(10, 40).background, Blue, "cleared in the current colors");
}

#[test]
fn uptime_date_cpu_and_mem_report_the_machine() {
    let mut qemu = shell();
    let uptime = qemu.run_command("uptime");
    let seconds = uptime.trim().strip_suffix(" s").unwrap_or_else(|| panic!("{uptime:?}"));
    let (whole, fraction) = seconds.split_once('.').unwrap();
    assert!(whole.parse::<u32>().is_ok() && fraction.len() == 3, "{uptime:?}");

    // QEMU's CMOS clock starts at the host's UTC time.
    let date = qemu.run_command("date");
    let host_seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let stamp = date.trim().strip_suffix(" (CMOS clock)").unwrap_or_else(|| panic!("{date:?}"));
    let guest_seconds = seconds_since_epoch(stamp);
    assert!(host_seconds.abs_diff(guest_seconds) < 120, "date {stamp} vs host {host_seconds}");

    let cpu = qemu.run_command("cpu");
    let mut lines = cpu.lines();
    assert_eq!(lines.next(), Some("cpu  apic id  state          running"), "{cpu}");
    let row: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(row, ["0", "0", "online", "3", "(shell)"], "one CPU, running the shell:\n{cpu}");
    assert!(lines.next().is_some_and(|line| line.starts_with("vendor   ")), "{cpu}");
    assert!(cpu.contains("brand    QEMU Virtual CPU"), "{cpu}");
    assert!(cpu.contains(" sse ") && cpu.contains(" sse2"), "{cpu}");

    let mem = qemu.run_command("mem");
    assert!(mem.contains("available"), "{mem}");
    let usable = mem.lines().find_map(|line| line.strip_prefix("usable memory: ")).expect("total");
    let kib: u64 = usable.split_whitespace().next().unwrap().parse().unwrap();
    // -m 128M: 128 MiB less the BIOS areas and the top reserved pages.
    assert!((120 * 1024..128 * 1024).contains(&kib), "{usable}");
    // Frames in use (kernel image, page tables, heap) and the heap's figures.
    let frames = mem.lines().find_map(|line| line.strip_prefix("frames: ")).expect("frames line");
    let used: u64 = frames.split_whitespace().next().unwrap().parse().unwrap();
    assert!(used > 0 && frames.contains(" free of "), "{frames}");
    let heap = mem.lines().find_map(|line| line.strip_prefix("heap: ")).expect("heap line");
    assert!(heap.contains("bytes used in") && heap.ends_with("(limit 64 MiB)"), "{heap}");
}

#[test]
fn cpu_lists_four_online_cpus_under_smp_4_and_ps_shows_where_threads_run() {
    let mut qemu = Qemu::start(Boot::Kernel("nodemo".into()), &["-smp", "4"]);
    let serial = qemu.wait_for_serial("shell: ready", Duration::from_secs(30));
    assert!(serial.contains("cpus: 4 of 4 online"), "{serial}");
    let cpu = qemu.run_command("cpu");
    let rows: Vec<Vec<&str>> =
        cpu.lines().skip(1).take(4).map(|line| line.split_whitespace().collect()).collect();
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row[0], index.to_string(), "{cpu}");
        assert_eq!(row[1], index.to_string(), "QEMU numbers APIC IDs from 0:\n{cpu}");
        assert_eq!(row[2], "online", "{cpu}");
    }
    // The shell runs the command on one CPU; the others run their idle threads.
    let running: Vec<&str> = rows.iter().map(|row| *row.last().unwrap()).collect();
    assert_eq!(running.iter().filter(|name| **name == "(shell)").count(), 1, "{cpu}");
    assert_eq!(running.iter().filter(|name| **name == "(idle)").count(), 3, "{cpu}");
    assert!(cpu.lines().nth(5).is_some_and(|line| line.starts_with("vendor   ")), "{cpu}");
    let screen = qemu.screen();
    let (row, column) = row_with(&screen, "cpu  apic id  state          running");
    for offset in 1..=4 {
        assert!(screen.row_text(row + offset)[column..].contains("online"), "{screen}");
    }

    // Every thread has a CPU in 0..4; the idle threads are one per CPU.
    let ps = qemu.run_command("ps");
    let idle_cpus: Vec<&str> = ps
        .lines()
        .filter(|line| line.split_whitespace().nth(1) == Some("idle"))
        .filter_map(|line| line.split_whitespace().nth(3))
        .collect();
    assert_eq!(idle_cpus, ["0", "1", "2", "3"], "{ps}");
}

/// Seconds since 1970 of a `YYYY-MM-DD HH:MM:SS` time.
fn seconds_since_epoch(stamp: &str) -> u64 {
    let numbers: Vec<i64> =
        stamp.split(['-', ' ', ':']).map(|part| part.parse().unwrap()).collect();
    let (year, month, day) = (numbers[0], numbers[1], numbers[2]);
    // Days from civil (Howard Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    (days * 86_400 + numbers[3] * 3600 + numbers[4] * 60 + numbers[5]) as u64
}

#[test]
fn unknown_commands_and_bad_arguments_get_one_red_line_and_the_shell_goes_on() {
    let mut qemu = shell();
    for (line, message) in [
        ("frobnicate", "frobnicate: unknown command (type 'help' for the list)"),
        ("color purple", "color: 'purple' is not a color (0-15, black, blue, ..., yellow, white)"),
        ("uptime now", "uptime: takes no arguments"),
        ("fault", "fault: missing argument; usage: fault <kind>"),
    ] {
        assert_eq!(qemu.run_command(line), format!("{message}\n"));
        let screen = qemu.screen();
        let (row, column) = row_with(&screen, message);
        screen.assert_text_at(row, column, message, LightRed, Black);
    }
    assert_eq!(qemu.run_command("echo still here"), "still here\n");
}

#[test]
fn line_editing_keys_work_anywhere_in_the_line() {
    let mut qemu = shell();
    // Insert in the middle, delete and backspace, Home and End.
    qemu.type_text("echo wrld");
    for key in ["left", "left", "left"] {
        qemu.press(key);
    }
    qemu.type_text("o");
    qemu.press("home");
    qemu.press("delete");
    qemu.type_text("E");
    qemu.press("end");
    qemu.type_text("!x");
    qemu.press("backspace");
    qemu.press("left");
    qemu.press("left");
    qemu.press("backspace");
    qemu.press("end");
    qemu.press("ret");
    // echo wrld -> echo world -> cho world -> Echo world -> Echo world!x -> Echo world!
    // -> (cursor before "d!") Echo word!
    let serial = qemu.wait_for_serial("Echo: unknown command", Duration::from_secs(20));
    assert!(serial.contains("ferrite> Echo word!\n"), "{serial}");
    assert!(serial.contains("Echo: unknown command"), "{serial}");

    // Ctrl-U clears the line; Ctrl-C abandons it with ^C.
    qemu.type_text("echo gone");
    qemu.press("ctrl-u");
    qemu.type_text("echo kept");
    qemu.press("ret");
    qemu.wait_for_serial("ferrite> echo kept\nkept\n", Duration::from_secs(20));
    qemu.type_text("echo abandoned");
    qemu.press("ctrl-c");
    assert_eq!(qemu.run_command("echo after"), "after\n");
    let screen = qemu.screen();
    let (row, _) = row_with(&screen, "ferrite> echo abandoned^C");
    assert!(screen.row_text(row + 1).starts_with("ferrite> echo after"));
    assert!(!qemu.serial().contains("\ngone\n"));
}

#[test]
fn history_recalls_earlier_lines_with_up_and_down() {
    let mut qemu = shell();
    qemu.run_command("echo first");
    qemu.run_command("echo second");
    qemu.press("up");
    qemu.press("up");
    qemu.press("up");
    qemu.press("down");
    qemu.press("up");
    // Now on "echo first"; edit it before running it.
    qemu.type_text(" again");
    qemu.press("ret");
    let serial = qemu.wait_for_serial("first again\n", Duration::from_secs(20));
    assert!(serial.contains("ferrite> echo first again\n"), "{serial}");
    let screen = qemu.screen();
    row_with(&screen, "ferrite> echo first again");
}

#[test]
fn input_longer_than_the_line_is_refused_without_harm() {
    let mut qemu = shell();
    // The editor holds a row less the prompt and a column for the cursor: 70 characters on
    // the 80-column text screen, "echo " and 65 x's; the rest are refused.
    let capacity = qemu.screen().columns() - SHELL_PROMPT.len() - 1;
    qemu.type_text(&format!("echo {}\n", "x".repeat(capacity + 25)));
    let kept = "x".repeat(capacity - "echo ".len());
    qemu.wait_for_serial(
        &format!("ferrite> echo {kept}\n{kept}\nferrite> "),
        Duration::from_secs(30),
    );
    assert_eq!(qemu.run_command("echo ok"), "ok\n");
}

#[test]
fn uptime_advances_with_the_host_clock() {
    let mut qemu = shell();
    let read = |qemu: &mut Qemu| -> (f64, Instant) {
        let output = qemu.run_command("uptime");
        let at = Instant::now();
        (output.trim().strip_suffix(" s").unwrap().parse().unwrap(), at)
    };
    let (first, first_at) = read(&mut qemu);
    std::thread::sleep(Duration::from_secs(4));
    let (second, second_at) = read(&mut qemu);
    let guest = second - first;
    let host = (second_at - first_at).as_secs_f64();
    assert!((guest - host).abs() <= host * 0.1, "guest {guest:.3} s vs host {host:.3} s");
}

#[test]
fn thousands_of_random_key_presses_leave_the_shell_answering() {
    const PRESSES: usize = 2500;
    let keys = [
        "a",
        "b",
        "e",
        "h",
        "o",
        "x",
        "z",
        "1",
        "9",
        "spc",
        "minus",
        "dot",
        "shift-a",
        "shift-1",
        "ctrl-a",
        "alt-b",
        "ctrl-c",
        "ctrl-u",
        "ctrl-l",
        "caps_lock",
        "num_lock",
        "left",
        "right",
        "up",
        "down",
        "home",
        "end",
        "delete",
        "backspace",
        "ret",
        "tab",
        "esc",
        "f1",
        "f5",
        "f12",
        "kp_1",
        "kp_5",
        "kp_enter",
        "insert",
        "pgup",
        "pgdn",
        "shift-left",
    ];
    let mut qemu = shell();
    let mut random = Xorshift64::new(0x2545_f491_4f6c_dd1d);
    let mut caps_lock_presses = 0;
    for _ in 0..PRESSES {
        let key = keys[random.below(keys.len())];
        caps_lock_presses += usize::from(key == "caps_lock");
        qemu.press(key);
    }
    // As a person would after mashing keys: tap the modifiers (QEMU's input queue may have
    // dropped a release under load), undo caps lock, abandon the line.
    std::thread::sleep(Duration::from_secs(1));
    for key in ["shift", "ctrl", "alt"] {
        qemu.press(key);
    }
    if caps_lock_presses % 2 == 1 {
        qemu.press("caps_lock");
    }
    qemu.press("ctrl-c");
    assert_eq!(qemu.run_command("echo 1234"), "1234\n");
    let serial = qemu.serial();
    assert!(!serial.contains("KERNEL PANIC") && !serial.contains("CPU EXCEPTION"), "{serial}");
    assert!(qemu.is_running());
}

#[test]
fn breakpoint_from_the_shell_returns_to_the_prompt() {
    let mut qemu = shell();
    let output = qemu.run_command("fault breakpoint");
    assert!(output.contains("#BP Breakpoint (vector 3)"), "{output}");
    assert!(output.ends_with("fault: execution continued after the breakpoint\n"), "{output}");
}

#[test]
fn fault_and_panic_commands_show_their_diagnostics() {
    let mut qemu = shell();
    qemu.type_text("fault invalid-opcode\n");
    qemu.wait_for_serial("System halted.", Duration::from_secs(20));
    qemu.screen().assert_text_at(0, 0, " CPU EXCEPTION #UD Invalid Opcode (vector 6) ", White, Red);

    let mut qemu = shell();
    qemu.type_text("panic\n");
    let serial = qemu.wait_for_serial("System halted.", Duration::from_secs(20));
    assert!(serial.contains("KERNEL PANIC the shell's panic command"), "{serial}");
}

#[test]
fn reboot_resets_the_machine_and_halt_stops_it() {
    let mut qemu = shell();
    qemu.type_text("reboot\n");
    // Under -no-reboot a reset ends QEMU with status 0.
    assert_eq!(qemu.wait_for_exit(Duration::from_secs(20)), QemuExit::Other(Some(0)));
    assert!(qemu.serial().contains("ferrite> reboot\nRebooting..."));

    let mut qemu = shell();
    qemu.type_text("halt\n");
    qemu.wait_for_serial("System halted.", Duration::from_secs(20));
    let before = qemu.cpu_seconds();
    std::thread::sleep(Duration::from_secs(2));
    assert!(qemu.cpu_seconds() - before < 0.5, "halt should not spin");
    qemu.type_text("echo x\n");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!qemu.serial().contains("ferrite> echo x"), "a halted CPU ran the shell");
}

#[test]
fn demo_command_runs_until_a_key_and_returns_to_the_shell() {
    let mut qemu = shell();
    qemu.type_text("demo\n");
    std::thread::sleep(Duration::from_secs(2));
    if ScreenMode::from_environment() == ScreenMode::Framebuffer {
        // A framebuffer gets the pixel demo.
        qemu.screenshot_image().assert_shows_the_pixel_scene();
    } else {
        let scene = qemu.screen();
        assert!(scene.distinct_colors() >= 8, "{scene}");
    }
    qemu.press("spc");
    let serial = qemu.wait_for_serial("frames/s\n", Duration::from_secs(20));
    assert!(serial.contains("demo: "), "{serial}");
    assert_eq!(qemu.run_command("echo back"), "back\n");
}
