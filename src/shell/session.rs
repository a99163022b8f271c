//! The shell as it runs in the kernel: reads keys from the keyboard queue, draws the line being
//! edited, and runs commands.

use core::fmt::Write;

use super::command::{COLOR_NAMES, Command, CommandTable};
use super::line_editor::{EditAction, LineEditor};
use crate::arch::x86::cpu::{cpuid, halt_forever, wait_for_interrupt};
use crate::arch::x86::ps2_keyboard::SCANCODES;
use crate::arch::x86::serial::COM1;
use crate::arch::x86::vga_text::VGA_CONSOLE;
use crate::arch::x86::{fault_scenarios, power, rtc};
use crate::boot_info::BootInformation;
use crate::console::{Color, ColorCode, ScreenChar, TextSurface};
use crate::cpu_features::{LEAF_1_ECX, LEAF_1_EDX, set_features, vendor_bytes};
use crate::keyboard::{Key, KeyDecoder};
use crate::memory::heap::{HEAP_LIMIT_BYTES, heap_figures};
use crate::memory::setup::FRAMES;
use crate::memory_map::{memory_map_entries, usable_bytes_below_4_gib};
use crate::time::{SystemClock, uptime_microseconds};
use crate::{demo, log, print, print_colored, println};

const PROMPT: &str = "ferrite> ";
const PROMPT_FOREGROUND: Color = Color::LightGreen;
const ERROR_COLOR: ColorCode = ColorCode::new(Color::LightRed, Color::Black);
const HEADING_COLOR: ColorCode = ColorCode::new(Color::Yellow, Color::Black);
const WRAP_COLUMN: usize = 78;

/// Where the current prompt is on screen and how much of the line was last drawn.
struct PromptPosition {
    row: usize,
    drawn: usize,
}

/// Runs the shell forever, from where the console's cursor is. The CPU halts between key
/// presses.
pub fn run_shell(boot_information: &BootInformation) -> ! {
    let mut decoder = KeyDecoder::new();
    let mut editor = LineEditor::new();
    let commands = CommandTable::new();
    print_colored!(HEADING_COLOR, "Ferrite shell");
    println!(": type 'help' for the commands.");
    log!("shell: ready");
    let mut prompt = show_prompt();
    loop {
        let Some(key) = next_key(&mut decoder) else {
            wait_for_interrupt();
            continue;
        };
        match editor.handle(key) {
            EditAction::Redraw => draw_line(&mut prompt, &editor),
            EditAction::None | EditAction::LineFull => {}
            EditAction::Submit => {
                finish_row(&prompt, editor.line());
                run_line(editor.line(), &commands, boot_information);
                editor.finish_line();
                prompt = show_prompt();
            }
            EditAction::Abandon => {
                println!("^C");
                prompt = show_prompt();
            }
            EditAction::ClearScreen => {
                VGA_CONSOLE.lock().clear();
                prompt = show_prompt();
                draw_line(&mut prompt, &editor);
            }
        }
    }
}

/// The next key press from the keyboard queue, if one is complete.
fn next_key(decoder: &mut KeyDecoder) -> Option<Key> {
    while let Some(scancode) = SCANCODES.pop() {
        if let Some(key) = decoder.feed(scancode) {
            return Some(key);
        }
    }
    None
}

fn show_prompt() -> PromptPosition {
    let mut console = VGA_CONSOLE.lock();
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
    let mut console = VGA_CONSOLE.lock();
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
    let mut console = VGA_CONSOLE.lock();
    console.set_position(prompt.row, PROMPT.len() + line.len());
    console.write_str("\n");
    drop(console);
    let _ = writeln!(COM1.lock(), "{line}");
}

fn run_line(line: &str, commands: &CommandTable, boot_information: &BootInformation) {
    let command = match commands.parse(line) {
        Ok(command) => command,
        Err(error) => {
            print_colored!(ERROR_COLOR, "{error}\n");
            return;
        }
    };
    match command {
        Command::Empty => {}
        Command::Help => help(commands),
        Command::Clear => VGA_CONSOLE.lock().clear(),
        Command::Echo(text) => println!("{text}"),
        Command::Color { foreground, background } => {
            let background = background.unwrap_or(VGA_CONSOLE.lock().color().background());
            VGA_CONSOLE.lock().set_color(ColorCode::new(foreground, background));
            println!(
                "text is now {} on {}",
                COLOR_NAMES[foreground as usize], COLOR_NAMES[background as usize]
            );
        }
        Command::Uptime => {
            let milliseconds = uptime_microseconds() / 1000;
            println!("{}.{:03} s", milliseconds / 1000, milliseconds % 1000);
        }
        Command::Date => println!("{} (CMOS clock)", rtc::read_clock().decode()),
        Command::Cpu => cpu(),
        Command::Mem => memory(boot_information),
        Command::Demo => interactive_demo(),
        Command::Fault(scenario) => {
            fault_scenarios::provoke(scenario);
            println!("fault: execution continued after the breakpoint");
        }
        Command::Panic => panic!("the shell's panic command"),
        Command::Reboot => {
            println!("Rebooting...");
            power::reboot()
        }
        Command::Halt => {
            print_colored!(HEADING_COLOR, "System halted.\n");
            halt_forever()
        }
    }
}

fn help(commands: &CommandTable) {
    for (name, command) in commands.iter() {
        print!("  ");
        print_colored!(HEADING_COLOR, "{name:<8}");
        println!("{:<12}{}", command.arguments(), command.summary());
    }
    println!("Keys: arrows, Home/End, Backspace/Delete, Ctrl-U clears, Ctrl-C abandons,");
    println!("Ctrl-L clears the screen, Up/Down browse the history.");
}

fn cpu() {
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
    let mut column = 8;
    let names = set_features(leaf_1.edx, &LEAF_1_EDX).chain(set_features(leaf_1.ecx, &LEAF_1_ECX));
    for name in names {
        if column + 1 + name.len() > WRAP_COLUMN {
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
    for entry in memory_map_entries(map) {
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
    let usable = usable_bytes_below_4_gib(map);
    println!("usable memory: {} KiB ({} MiB)", usable / 1024, usable / (1024 * 1024));
    {
        let frames = FRAMES.lock();
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

/// Empties the scancode queue; true if it held a key press. Set 1 make codes are below 0x80;
/// break codes (releases, such as Enter's from the command that is running) and the 0xE0
/// prefix are not presses.
fn take_key_press() -> bool {
    let mut pressed = false;
    while let Some(scancode) = SCANCODES.pop() {
        pressed |= scancode < 0x80;
    }
    pressed
}

/// How long a key's release may trail its press, at typing speed.
const KEY_RELEASE_SETTLE_MILLISECONDS: u64 = 150;

/// Halts until a key is pressed, then swallows it and its release, so the key that dismissed
/// something does not also reach the shell.
pub fn wait_for_key_press() {
    while !take_key_press() {
        wait_for_interrupt();
    }
    crate::time::sleep_milliseconds(KEY_RELEASE_SETTLE_MILLISECONDS);
    take_key_press();
}

/// The SSE scene until a key is pressed (the key is swallowed), then back to the shell.
fn interactive_demo() {
    take_key_press();
    let summary = {
        let mut console = VGA_CONSOLE.lock();
        demo::animate_until(console.surface_mut(), &SystemClock, take_key_press)
    };
    crate::time::sleep_milliseconds(KEY_RELEASE_SETTLE_MILLISECONDS);
    take_key_press();
    let hundredths = summary.frames_per_second_hundredths();
    let mut console = VGA_CONSOLE.lock();
    console.clear();
    drop(console);
    println!(
        "demo: {} frames, {}.{:02} frames/s",
        summary.frames,
        hundredths / 100,
        hundredths % 100
    );
}
