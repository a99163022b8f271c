//! The boot sequence after the stub: consoles, boot information, greeting, then what the
//! command line asked for.

use crate::arch::x86::cpu::enable_interrupts;
use crate::arch::x86::cpu::halt_forever;
use crate::arch::x86::multiboot::read_boot_information;
use crate::arch::x86::serial::{COM1, SerialPresence};
use crate::arch::x86::vga_text::VGA_CONSOLE;
use crate::arch::x86::{fault_scenarios, gdt, idt, pic, ps2_keyboard};
use crate::boot_info::BootInformation;
use crate::command_line::{BootMode, BootOptions, DemoChoice, parse_command_line};
use crate::console::text_console::DEFAULT_COLOR;
use crate::console::{Color, ColorCode};
use crate::demo::text::write_centered;
use crate::demo::{self, BLANK_FRAME, DEFAULT_TIMING, DemoEvent, Frame};
use crate::fatal::{FatalAction, set_fatal_action};
use crate::shell::{run_shell, wait_for_key_press};
use crate::time::Instant;
use crate::time::SystemClock;
use crate::{log, memory, print, print_colored, println, time};
use spin::Mutex;

/// The PIC lines of the system timer and the keyboard.
pub const TIMER_IRQ: u8 = 0;
const KEYBOARD_IRQ: u8 = 1;

/// Off-screen buffers for the demo's slide, kept out of the 16 KiB boot stack.
static DEMO_FRAMES: Mutex<[Frame; 2]> = Mutex::new([BLANK_FRAME; 2]);

const WARNING_COLOR: ColorCode = ColorCode::new(Color::Yellow, Color::Black);
const ERROR_COLOR: ColorCode = ColorCode::new(Color::LightRed, Color::Black);

/// Entered from `asm/boot.asm` with the loader's magic and the Multiboot information address.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_main(magic: u32, info_address: u32) -> ! {
    let boot_started = Instant::now();
    gdt::load();
    idt::load();
    gdt::arm_stack_guard();
    let serial = COM1.lock().initialize();
    {
        let mut console = VGA_CONSOLE.lock();
        console.surface_mut().enable_cursor();
        console.set_color(DEFAULT_COLOR);
        console.clear();
    }
    let boot_information = match read_boot_information(magic, info_address) {
        Ok(information) => information,
        Err(error) => {
            print_colored!(ERROR_COLOR, "boot: {error}\n");
            halt_forever();
        }
    };
    print_greeting(&boot_information);
    for warning in boot_information.warnings() {
        print_colored!(WARNING_COLOR, "boot information: {warning}\n");
    }
    if serial == SerialPresence::Absent {
        print_colored!(WARNING_COLOR, "serial: no UART at COM1; output is on screen only\n");
    }

    let command_line = boot_information.command_line;
    log!("cmdline: '{command_line}'");
    let options: BootOptions = parse_command_line(command_line, |warning| {
        print_colored!(WARNING_COLOR, "{warning}\n");
    });

    match memory::setup::initialize(&boot_information) {
        Ok(()) => {
            log!("memory: heap ready {} ticks after kernel_main", boot_started.elapsed_ticks())
        }
        Err(error) => print_colored!(ERROR_COLOR, "memory: {error}\n"),
    }
    let (clock_hz, calibration) = time::calibration();
    log!(
        "clock: time-stamp counter runs at {} kHz ({} of {} PIT windows undisturbed)",
        clock_hz / 1000,
        calibration.rounds_trusted,
        calibration.rounds_taken
    );
    start_interrupts();

    if options.mode == BootMode::Test {
        set_fatal_action(FatalAction::ExitQemu);
    }
    if let Some(scenario) = options.fault {
        fault_scenarios::provoke(scenario);
        println!("Back from the breakpoint: execution continued.");
    }
    match options.mode {
        BootMode::Test => crate::kernel_tests::run_all(),
        BootMode::Bench => crate::benchmark::run_benchmark(),
        BootMode::Normal => {}
    }
    if options.demo == DemoChoice::Play {
        run_demo();
        wait_for_any_key();
        VGA_CONSOLE.lock().clear();
    }
    run_shell(&boot_information)
}

/// Remaps the PICs, starts the system tick and the keyboard, and lets interrupts in.
fn start_interrupts() {
    pic::initialize();
    time::start_timer();
    ps2_keyboard::initialize();
    pic::unmask(TIMER_IRQ);
    pic::unmask(KEYBOARD_IRQ);
    enable_interrupts();
}

/// Leaves the demo's last frame up, with a hint, until a key is pressed; the CPU halts
/// between interrupts meanwhile.
fn wait_for_any_key() {
    {
        let mut console = VGA_CONSOLE.lock();
        let hint = ColorCode::new(Color::Black, Color::LightGray);
        write_centered(console.surface_mut(), 0, " Press any key for the shell ", hint);
    }
    log!("idle: waiting for a key");
    wait_for_key_press();
}

fn run_demo() {
    let mut console = VGA_CONSOLE.lock();
    let mut frames = DEMO_FRAMES.lock();
    let summary =
        demo::play(console.surface_mut(), &SystemClock, &mut frames, DEFAULT_TIMING, |event| {
            match event {
                DemoEvent::LogoShown => log!("demo: logo"),
                DemoEvent::AnimationStarted => log!("demo: animation"),
                DemoEvent::Finished => log!("demo: finished"),
            }
        });
    let hundredths = summary.frames_per_second_hundredths();
    log!(
        "demo: {} frames in {} ms, {}.{:02} frames/s",
        summary.frames,
        summary.microseconds / 1000,
        hundredths / 100,
        hundredths % 100
    );
}

fn print_greeting(boot_information: &BootInformation) {
    let banner = ColorCode::new(Color::White, Color::Blue);
    print_colored!(banner, "{:^80}\n", "Ferrite 0.1 - a Rust kernel for 32-bit x86");
    print_colored!(ColorCode::new(Color::LightGreen, Color::Black), "Hello from Rust!");
    print!(" Booted by ");
    let loader = boot_information.loader_name.unwrap_or("a Multiboot loader");
    print_colored!(ColorCode::new(Color::Yellow, Color::Black), "{loader}");
    println!(".");
    print!("32-bit protected mode, ");
    print_colored!(ColorCode::new(Color::LightCyan, Color::Black), "SSE2");
    println!(" enabled, console mirrored to COM1 at 115200 baud.");
}
