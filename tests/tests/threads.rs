//! Threads seen from the shell: `ps` lists them, three CPU-bound spinners leave typing quick
//! and `kill` ends them, and the clock in the corner keeps time while a line is typed.

use std::time::{Duration, Instant};

use ferrite_tests::qemu::SHELL_PROMPT;
use ferrite_tests::{Color::*, Qemu};

fn shell() -> Qemu {
    let mut qemu = Qemu::kernel("nodemo");
    qemu.wait_for_serial("shell: ready", Duration::from_secs(20));
    qemu
}

/// The `ps` rows as (id, name, state) from the command's output.
fn ps_rows(output: &str) -> Vec<(u32, String, String)> {
    output
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields[0].parse().unwrap(), fields[1].to_string(), fields[2].to_string())
        })
        .collect()
}

#[test]
fn ps_lists_the_kernels_threads_and_spinners_leave_the_shell_quick_until_killed() {
    let mut qemu = shell();
    let output = qemu.run_command("ps");
    assert!(output.starts_with("  id  name       state     cpu  priority     cpu ms  stack used"));
    let names: Vec<String> = ps_rows(&output).into_iter().map(|(_, name, _)| name).collect();
    for name in ["idle", "keyboard", "clock", "shell"] {
        assert!(names.iter().any(|listed| listed == name), "no {name} thread in:\n{output}");
    }

    let mut spinners = Vec::new();
    for _ in 0..3 {
        let started = qemu.run_command("spawn spin");
        let id: u32 = started
            .strip_prefix("started thread ")
            .and_then(|rest| rest.strip_suffix(" (spin)\n"))
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("unexpected answer {started:?}"));
        spinners.push(id);
    }
    let output = qemu.run_command("ps");
    for id in &spinners {
        let row = ps_rows(&output).into_iter().find(|(listed, _, _)| listed == id);
        let (_, name, state) = row.unwrap_or_else(|| panic!("no thread {id} in:\n{output}"));
        assert_eq!(name, "spin");
        assert!(state == "ready" || state == "running", "spinner {id} is {state}");
    }

    // Keystroke to screen, with the three spinners running: the shell outranks them.
    let screen = qemu.screen();
    let (row, _) = screen.find(&format!("{SHELL_PROMPT}    ")).expect("an empty prompt");
    let column = SHELL_PROMPT.len();
    let mut latencies = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        qemu.monitor("sendkey k 5");
        while qemu.screen().cell(row, column).character != b'k' {
            assert!(start.elapsed() < Duration::from_secs(5), "key never echoed");
        }
        latencies.push(start.elapsed());
        std::thread::sleep(Duration::from_millis(20));
        qemu.monitor("sendkey backspace 5");
        while qemu.screen().cell(row, column).character == b'k' {
            assert!(start.elapsed() < Duration::from_secs(10), "backspace never erased");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    eprintln!("keystroke to screen with three spinners: median {median:?}");
    assert!(median < Duration::from_millis(20), "median latency {median:?}: {latencies:?}");

    for id in &spinners {
        let answer = qemu.run_command(&format!("kill {id}"));
        assert!(answer.starts_with(&format!("thread {id} stopped after ")), "{answer:?}");
    }
    let output = qemu.run_command("ps");
    assert!(ps_rows(&output).iter().all(|(_, name, _)| name != "spin"), "{output}");
    let keyboard = ps_rows(&output).into_iter().find(|(_, name, _)| name == "keyboard").unwrap();
    let refused = qemu.run_command(&format!("kill {}", keyboard.0));
    let message = format!("kill: thread {} was not started by the shell; left alone", keyboard.0);
    assert_eq!(refused, format!("{message}\n"));
    let screen = qemu.screen();
    let (row, column) = screen.find(&message).unwrap_or_else(|| panic!("{screen}"));
    assert_eq!(screen.cell(row, column).foreground, LightRed);
}

#[test]
fn the_clock_in_the_corner_advances_while_a_line_is_typed() {
    let mut qemu = shell();
    let corner = |qemu: &mut Qemu| {
        // The clock thread draws within a second of the shell starting.
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut screen = qemu.screen();
        let last = screen.columns() - 1;
        while screen.cell(0, last).foreground != Yellow && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            screen = qemu.screen();
        }
        let text = screen.row_text(0);
        assert_eq!(screen.cell(0, last).foreground, Yellow, "{screen}");
        assert_eq!(screen.cell(0, last).background, Blue);
        text[last + 1 - 17..].to_string()
    };
    let first = corner(&mut qemu);
    assert!(first.starts_with(' ') && first.ends_with(" up 0:00"), "{first:?}");
    qemu.type_text("echo typing");
    std::thread::sleep(Duration::from_millis(1200));
    let second = corner(&mut qemu);
    assert_ne!(first, second, "the clock did not move");
    let seconds = |text: &str| -> u32 { text[7..9].parse().unwrap() };
    assert!(seconds(&second) != seconds(&first));
    let screen = qemu.screen();
    let (row, _) = screen.find("ferrite> echo typing").unwrap_or_else(|| panic!("{screen}"));
    assert_eq!(screen.cell(row, SHELL_PROMPT.len() + 11).character, b' ');
    qemu.press("ret");
    qemu.wait_for_serial("echo typing\ntyping\n", Duration::from_secs(5));
}
