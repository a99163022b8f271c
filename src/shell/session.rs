//! The shell as it runs in the kernel: reads keys from the keyboard queue, draws the line being
//! edited, and runs commands.

use alloc::vec::Vec;
use core::fmt::{self, Write};

use super::command::{BackgroundKind, CommandTable, HEADING_COLOR, KillOutcome, ShellEnvironment};
use super::line_editor::{EditAction, LineEditor, capacity_for_row};
use super::status_clock;
use crate::arch::x86::cmos_clock::DateTime;
use crate::arch::x86::cpu::{cpuid, halt_forever};
use crate::arch::x86::cpu_features::{LEAF_1_ECX, LEAF_1_EDX, set_features, vendor_bytes};
use crate::arch::x86::{power, rtc};
use crate::boot::command_line::FaultScenario;
use crate::boot::information::BootInformation;
use crate::boot::memory_map::usable_bytes_below_4_gib;
use crate::boot::processors;
use crate::console::input::{read_key, take_key_press, wait_for_key_press};
use crate::console::output::{COM1, CONSOLE, ConsoleScreen};
use crate::console::{Color, ColorCode, ScreenChar, TextSurface};
use crate::demo::workers::RenderThreads;
use crate::demo::{self, Look};
use crate::diagnostics::fault_scenarios;
use crate::memory::heap::{HEAP_LIMIT_BYTES, heap_figures};
use crate::memory::setup::FRAME_ALLOCATOR;
use crate::thread;
use crate::thread::scheduler::ThreadState;
use crate::thread::{JoinHandle, Priority, stack};
use crate::time::{SystemClock, uptime_microseconds};
use crate::{log, print, print_colored, println};

const PROMPT: &str = "ferrite> ";
const PROMPT_FOREGROUND: Color = Color::LightGreen;
const ERROR_COLOR: ColorCode = ColorCode::new(Color::LightRed, Color::Black);

/// Where the current prompt is on screen and how much of the line was last drawn.
struct PromptPosition {
    row: usize,
    drawn: usize,
}

/// Runs the shell forever, from where the console's cursor is. The CPU halts between key
/// presses.
pub fn run_shell(boot_information: &BootInformation) -> ! {
    let columns = CONSOLE.lock().surface().width();
    let mut editor = LineEditor::with_capacity(capacity_for_row(columns, PROMPT.len()));
    let commands = CommandTable::new();
    let mut machine = Machine { boot_information, spawned: Vec::new() };
    status_clock::start();
    print_colored!(HEADING_COLOR, "Ferrite shell");
    println!(": type 'help' for the commands.");
    log!("shell: ready");
    let mut prompt = show_prompt();
    loop {
        match editor.handle(read_key()) {
            EditAction::Redraw => draw_line(&mut prompt, &editor),
            EditAction::None | EditAction::LineFull => {}
            EditAction::Submit => {
                finish_row(&prompt, editor.line());
                if let Err(error) = commands.run(editor.line(), &mut machine) {
                    print_colored!(ERROR_COLOR, "{error}\n");
                }
                editor.finish_line();
                prompt = show_prompt();
            }
            EditAction::Abandon => {
                println!("^C");
                prompt = show_prompt();
            }
            EditAction::ClearScreen => {
                CONSOLE.lock().clear();
                prompt = show_prompt();
                draw_line(&mut prompt, &editor);
            }
        }
    }
}

fn show_prompt() -> PromptPosition {
    let mut console = CONSOLE.lock();
    if console.position().1 != 0 {
        console.write_str("\n");
    }
    let previous = console.color();
    console.set_color(ColorCode::new(PROMPT_FOREGROUND, previous.background()));
    console.write_str(PROMPT);
    console.set_color(previous);
    let row = console.position().0;
    drop(console);
    let _ = write!(COM1.lock(), "{PROMPT}");
    PromptPosition { row, drawn: 0 }
}

/// Redraws the edited line after the prompt and puts the cursor where the editor's is.
fn draw_line(prompt: &mut PromptPosition, editor: &LineEditor) {
    let mut console = CONSOLE.lock();
    let color = console.color();
    let line = editor.line();
    for (index, byte) in line.bytes().enumerate() {
        console.surface_mut().write_cell(
            prompt.row,
            PROMPT.len() + index,
            ScreenChar::new(byte, color),
        );
    }
    for index in line.len()..prompt.drawn {
        console.surface_mut().write_cell(
            prompt.row,
            PROMPT.len() + index,
            ScreenChar::blank(color),
        );
    }
    prompt.drawn = line.len();
    console.set_position(prompt.row, PROMPT.len() + editor.cursor());
}

/// Ends the prompt's row on screen, and sends the whole line to serial for the transcript.
fn finish_row(prompt: &PromptPosition, line: &str) {
    let mut console = CONSOLE.lock();
    console.set_position(prompt.row, PROMPT.len() + line.len());
    console.write_str("\n");
    drop(console);
    let _ = writeln!(COM1.lock(), "{line}");
}

/// The machine as the shell's commands see it.
struct Machine<'a> {
    boot_information: &'a BootInformation,
    /// Threads started with `spawn`, which `kill` may end.
    spawned: Vec<JoinHandle<u64>>,
}

impl ShellEnvironment for Machine<'_> {
    fn write(&mut self, text: fmt::Arguments) {
        print!("{text}");
    }

    fn write_colored(&mut self, color: ColorCode, text: fmt::Arguments) {
        print_colored!(color, "{text}");
    }

    fn text_color(&self) -> ColorCode {
        CONSOLE.lock().color()
    }

    fn set_text_color(&mut self, color: ColorCode) {
        CONSOLE.lock().set_color(color);
    }

    fn clear_screen(&mut self) {
        CONSOLE.lock().clear();
    }

    fn uptime_microseconds(&self) -> u64 {
        uptime_microseconds()
    }

    fn date(&self) -> DateTime {
        let _cmos = status_clock::CMOS.lock();
        rtc::read_clock().decode()
    }

    fn show_cpu(&mut self) {
        cpu();
    }

    fn show_memory(&mut self) {
        memory(self.boot_information);
    }

    fn run_demo(&mut self) {
        interactive_demo();
    }

    fn provoke(&mut self, fault: FaultScenario) {
        fault_scenarios::provoke(fault);
    }

    fn list_threads(&mut self) {
        list_threads();
    }

    fn spawn_background(&mut self, kind: BackgroundKind) {
        let (name, body): (&'static str, fn() -> u64) = match kind {
            BackgroundKind::Spin => ("spin", spin_until_stopped),
            BackgroundKind::Traffic => ("traffic", exchange_messages_until_stopped),
        };
        match thread::spawn(name, body) {
            Ok(thread) => {
                println!("started thread {} ({name})", thread.number());
                self.spawned.push(thread);
            }
            Err(error) => print_colored!(ERROR_COLOR, "spawn: {error}\n"),
        }
    }

    fn kill(&mut self, id: u32) -> KillOutcome {
        let Some(index) = self.spawned.iter().position(|spinner| spinner.number() == id) else {
            let exists = thread::threads().iter().any(|thread| thread.id == id);
            return if exists { KillOutcome::NotStartedByShell } else { KillOutcome::NoSuchThread };
        };
        let thread = self.spawned.swap_remove(index);
        if self.spawned.is_empty() {
            // Give the memory back, so the heap returns to where it was before any spawn.
            self.spawned = Vec::new();
        }
        thread::request_stop(id);
        KillOutcome::Stopped { rounds: thread.join() }
    }

    fn sleep_milliseconds(&mut self, milliseconds: u64) {
        thread::sleep_milliseconds(milliseconds);
    }

    fn reboot(&mut self) -> ! {
        println!("Rebooting...");
        power::reboot()
    }

    fn halt(&mut self) -> ! {
        print_colored!(HEADING_COLOR, "System halted.\n");
        crate::console::output::draw_deferred_output();
        halt_forever()
    }
}

/// Rounds of busy work between looks at the stop request.
const SPIN_ROUNDS_PER_CHECK: u64 = 10_000;

/// A `spawn spin` thread: counts until asked to stop, and returns the count.
fn spin_until_stopped() -> u64 {
    let mut rounds: u64 = 0;
    while !thread::stop_requested() {
        for _ in 0..SPIN_ROUNDS_PER_CHECK {
            rounds = core::hint::black_box(rounds + 1);
        }
    }
    rounds
}

/// A `spawn traffic` thread: numbered messages to an echo thread and back over two channels,
/// each answer checked; a lost, repeated or reordered message is a panic. Returns how many
/// messages made the round trip.
fn exchange_messages_until_stopped() -> u64 {
    let (to_echo, echo_inbox) = thread::channel::<u64>(4);
    let (to_traffic, answers) = thread::channel::<u64>(4);
    let echo = thread::spawn("echo", move || {
        while let Ok(message) = echo_inbox.recv() {
            if to_traffic.send(message + 1).is_err() {
                break;
            }
        }
    });
    let Ok(echo) = echo else {
        print_colored!(ERROR_COLOR, "traffic: cannot start the echo thread\n");
        return 0;
    };
    let mut next = 0u64;
    while !thread::stop_requested() {
        to_echo.send(next).expect("the echo thread runs until traffic stops");
        let answer = answers.recv().expect("the echo thread answers every message");
        assert_eq!(answer, next + 1, "traffic: message {next} came back as {answer}");
        next += 1;
    }
    drop(to_echo);
    echo.join();
    next
}

fn list_threads() {
    print_colored!(
        HEADING_COLOR,
        "  id  name       state     cpu  priority     cpu ms  stack used\n"
    );
    for thread in thread::threads() {
        let stack = match (thread.stack_used_bytes, thread.state) {
            (Some(used), _) => {
                alloc::format!("{} of {} KiB", used.div_ceil(1024), stack::STACK_BYTES / 1024)
            }
            (None, ThreadState::Exited) => alloc::string::String::from("freed"),
            (None, _) => alloc::string::String::from("boot stack"),
        };
        let priority = match thread.priority {
            Priority::Normal => "normal",
            Priority::Interactive => "interactive",
        };
        println!(
            "{:>4}  {:<10} {:<9} {:>3}  {:<11} {:>7}  {}",
            thread.id,
            thread.name,
            thread.state.name(),
            thread.cpu,
            priority,
            thread.cpu_microseconds / 1000,
            stack
        );
    }
}

/// Every CPU the kernel knows: its APIC ID, its state and the thread it runs.
fn list_processors() {
    let threads = thread::threads();
    print_colored!(HEADING_COLOR, "cpu  apic id  state          running\n");
    for processor in processors::cpus() {
        let running = threads
            .iter()
            .find(|thread| {
                thread.state == ThreadState::Running && usize::from(thread.cpu) == processor.index
            })
            .map_or(alloc::string::String::new(), |thread| {
                alloc::format!("{} ({})", thread.id, thread.name)
            });
        println!(
            "{:>3}  {:>7}  {:<13}  {running}",
            processor.index,
            processor.apic_id,
            processor.state.name()
        );
    }
}

fn cpu() {
    list_processors();
    let leaf_0 = cpuid(0, 0);
    let vendor = vendor_bytes(leaf_0.ebx, leaf_0.ecx, leaf_0.edx);
    let leaf_1 = cpuid(1, 0);
    let family = (leaf_1.eax >> 8) & 0xf;
    let model = ((leaf_1.eax >> 4) & 0xf) | (((leaf_1.eax >> 16) & 0xf) << 4);
    let stepping = leaf_1.eax & 0xf;
    println!(
        "vendor   {}  (family {family}, model {model}, stepping {stepping})",
        core::str::from_utf8(&vendor).unwrap_or("?")
    );
    const BRAND_LEAVES: [u32; 3] = [0x8000_0002, 0x8000_0003, 0x8000_0004];
    if cpuid(0x8000_0000, 0).eax >= BRAND_LEAVES[2] {
        let mut brand = [0u8; 48];
        for (chunk, leaf) in brand.chunks_mut(16).zip(BRAND_LEAVES) {
            let registers = cpuid(leaf, 0);
            for (bytes, register) in chunk.chunks_mut(4).zip([
                registers.eax,
                registers.ebx,
                registers.ecx,
                registers.edx,
            ]) {
                bytes.copy_from_slice(&register.to_le_bytes());
            }
        }
        let text = core::str::from_utf8(&brand).unwrap_or("?");
        println!(
            "brand    {}",
            text.trim_matches(|character: char| character == '\0' || character == ' ')
        );
    }
    print!("features");
    // Wrapped two columns short of the screen's width (78 on the 80-column text screen).
    let wrap_column = CONSOLE.lock().surface().width() - 2;
    let mut column = 8;
    let names = set_features(leaf_1.edx, &LEAF_1_EDX).chain(set_features(leaf_1.ecx, &LEAF_1_ECX));
    for name in names {
        if column + 1 + name.len() > wrap_column {
            print!("\n        ");
            column = 8;
        }
        print!(" {name}");
        column += 1 + name.len();
    }
    println!();
}

fn memory(boot_information: &BootInformation) {
    let Some(map) = boot_information.raw_memory_map else {
        print_colored!(ERROR_COLOR, "mem: the loader gave no memory map\n");
        return;
    };
    print_colored!(HEADING_COLOR, "  start        end          size       type\n");
    for entry in map.entries() {
        match entry {
            Ok(region) => println!(
                "  {:#012x} {:#012x} {:>7} KiB  {}",
                region.base,
                region.end(),
                region.length / 1024,
                region.kind_name()
            ),
            Err(error) => {
                print_colored!(ERROR_COLOR, "mem: {error}; the rest of the map is ignored\n");
                break;
            }
        }
    }
    let usable = usable_bytes_below_4_gib(&map);
    println!("usable memory: {} KiB ({} MiB)", usable / 1024, usable / (1024 * 1024));
    {
        let frames = FRAME_ALLOCATOR.lock();
        let (free, managed) = (frames.free_frames(), frames.managed_frames());
        drop(frames);
        println!("frames: {} used, {} free of {} (4 KiB each)", managed - free, free, managed);
    }
    if let Some(heap) = heap_figures() {
        println!(
            "heap: {} bytes used in {} blocks, {} free of {} mapped (limit {} MiB)",
            heap.allocated_bytes,
            heap.allocation_count,
            heap.available_bytes,
            heap.claimed_bytes,
            HEAP_LIMIT_BYTES / (1024 * 1024)
        );
    }
}

/// The SSE scene (in pixels on a framebuffer, else in text), in a thread of its own with its
/// render threads, until a key is pressed (the key is swallowed); then back to the shell.
fn interactive_demo() {
    take_key_press();
    status_clock::set_paused(true);
    let look = Look::for_surface(CONSOLE.lock().surface());
    let demo = thread::spawn("demo", move || {
        let (mut render_threads, failure) = RenderThreads::start(demo::worker_count());
        if let Some(error) = failure {
            log!("demo: not every render thread started: {error}");
        }
        let summary = demo::animate_until(
            &ConsoleScreen,
            &SystemClock,
            look,
            render_threads.farm(),
            thread::stop_requested,
        );
        render_threads.finish();
        summary
    });
    let demo = match demo {
        Ok(demo) => demo,
        Err(error) => {
            status_clock::set_paused(false);
            print_colored!(ERROR_COLOR, "demo: cannot start its thread: {error}\n");
            return;
        }
    };
    wait_for_key_press();
    thread::request_stop(demo.number());
    let summary = demo.join();
    status_clock::set_paused(false);
    CONSOLE.lock().clear();
    println!("{}", demo::SummaryLine(&summary));
}
