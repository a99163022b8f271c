//! `make soak`: boots the kernel and, for ten minutes (`SOAK_SECONDS` to change it), mashes
//! random keys at the shell, starts and kills CPU-bound `spin` threads and channel-checking
//! `traffic` threads, and checks at the end that nothing faulted, no message was lost (a
//! `traffic` thread panics on a lost, repeated or reordered message) and the heap and frames are
//! back where they started. Prints its figures.

use std::time::{Duration, Instant};

use ferrite::testing::random::Xorshift64;
use ferrite_tests::Qemu;

/// Keys mashed between commands: no Enter, so nothing random runs.
const KEYS: [&str; 24] = [
    "a",
    "b",
    "e",
    "h",
    "x",
    "1",
    "9",
    "spc",
    "minus",
    "shift-a",
    "ctrl-a",
    "alt-b",
    "ctrl-u",
    "caps_lock",
    "left",
    "right",
    "up",
    "down",
    "home",
    "end",
    "delete",
    "backspace",
    "esc",
    "f5",
];
const KEYS_PER_ROUND: usize = 40;
const MOST_LIVE_THREADS: usize = 4;

/// (heap bytes used, heap blocks, frames used) from the `mem` command.
fn memory_figures(qemu: &mut Qemu) -> (u64, u64, u64) {
    let output = qemu.run_command("mem");
    let number_after = |prefix: &str, index: usize| -> u64 {
        let line = output
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{output}"));
        line[prefix.len()..]
            .split(|character: char| !character.is_ascii_digit())
            .filter(|word| !word.is_empty())
            .nth(index)
            .and_then(|word| word.parse().ok())
            .unwrap_or_else(|| panic!("no figure {index} in {line:?}"))
    };
    (number_after("heap: ", 0), number_after("heap: ", 1), number_after("frames: ", 0))
}

/// Fills the line editor's history (16 lines, repeats kept once) with the same lines, so it
/// holds the same memory each time.
fn settle_history(qemu: &mut Qemu) {
    for line in 10..26 {
        assert_eq!(qemu.run_command(&format!("echo settle {line}")), format!("settle {line}\n"));
    }
}

/// What the killed threads did.
#[derive(Default)]
struct Counts {
    killed: usize,
    spin_rounds: u64,
    messages: u64,
}

/// Kills thread `id` (a `spin` or `traffic` thread) and adds what it reports to `counts`.
fn stop(qemu: &mut Qemu, id: u32, kind: &str, counts: &mut Counts) {
    let answer = qemu.run_command(&format!("kill {id}"));
    let rounds: u64 = answer
        .strip_prefix(&format!("thread {id} stopped after "))
        .and_then(|rest| rest.strip_suffix(" rounds\n"))
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("kill {id} answered {answer:?}"));
    if kind == "traffic" {
        counts.messages += rounds;
    } else {
        counts.spin_rounds += rounds;
    }
    counts.killed += 1;
}

fn main() {
    let seconds: u64 =
        std::env::var("SOAK_SECONDS").ok().and_then(|value| value.parse().ok()).unwrap_or(600);
    let mut qemu = Qemu::kernel("nodemo");
    qemu.wait_for_serial("shell: ready", Duration::from_secs(20));
    settle_history(&mut qemu);
    let baseline = memory_figures(&mut qemu);
    let mut random = Xorshift64::new(0x5eed_50a4);
    let mut live: Vec<(u32, &str)> = Vec::new();
    let (mut keys, mut spawned) = (0, 0);
    let mut counts = Counts::default();
    let start = Instant::now();
    let mut soak = || {
        while start.elapsed() < Duration::from_secs(seconds) {
            let mut caps_lock_presses = 0;
            for _ in 0..KEYS_PER_ROUND {
                let key = KEYS[random.below(KEYS.len())];
                caps_lock_presses += usize::from(key == "caps_lock");
                qemu.press(key);
            }
            keys += KEYS_PER_ROUND;
            // As a person would after mashing keys: tap the modifiers, undo caps lock, abandon the
            // line; then the shell must answer.
            for key in ["shift", "ctrl", "alt"] {
                qemu.press(key);
            }
            if caps_lock_presses % 2 == 1 {
                qemu.press("caps_lock");
            }
            qemu.press("ctrl-c");
            assert_eq!(qemu.run_command("echo probe"), "probe\n", "the shell stopped answering");
            let start_one = live.len() < MOST_LIVE_THREADS && random.below(2) == 0;
            if start_one || live.is_empty() {
                let kind = if random.below(2) == 0 { "spin" } else { "traffic" };
                let answer = qemu.run_command(&format!("spawn {kind}"));
                let id = answer
                    .strip_prefix("started thread ")
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|id| id.parse().ok())
                    .unwrap_or_else(|| panic!("spawn {kind} answered {answer:?}"));
                live.push((id, kind));
                spawned += 1;
            } else {
                let (id, kind) = live.swap_remove(random.below(live.len()));
                stop(&mut qemu, id, kind, &mut counts);
            }
            if random.below(8) == 0 {
                qemu.run_command("ps");
            }
        }
    };
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut soak)).is_err() {
        // Leave what a person would need to see why: the screen, and where the CPU is.
        let path = std::env::temp_dir().join("ferrite-soak-failure.ppm");
        qemu.screenshot(&path);
        eprintln!("soak: failed; screen:\n{}", qemu.screen());
        eprintln!("soak: screenshot in {}", path.display());
        eprintln!("soak: registers:\n{}", qemu.monitor("info registers"));
        std::process::exit(1);
    }
    for (id, kind) in live.drain(..) {
        stop(&mut qemu, id, kind, &mut counts);
    }
    let Counts { killed, spin_rounds, messages } = counts;
    settle_history(&mut qemu);
    let after = memory_figures(&mut qemu);
    let serial = qemu.serial();
    let faulted = serial.contains("KERNEL PANIC") || serial.contains("CPU EXCEPTION");
    println!("soak: {} s, {keys} random keys", start.elapsed().as_secs());
    println!("soak: {spawned} threads started, {killed} killed");
    println!("soak: {messages} channel messages checked in traffic threads, none lost");
    println!("soak: {spin_rounds} spin rounds");
    println!("soak: heap bytes, heap blocks, frames used: before {baseline:?}, after {after:?}");
    assert!(!faulted, "the kernel faulted:\n{serial}");
    assert!(qemu.is_running(), "QEMU stopped");
    assert_eq!(after, baseline, "memory did not return to its baseline");
    println!("soak: passed");
}
