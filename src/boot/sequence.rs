//! The boot sequence after the stub: every subsystem comes up in order, one line each, then
//! the kernel does what the command line asked.

use alloc::vec::Vec;

use super::command_line::{
    ApicChoice, BootMode, BootOptions, DemoChoice, FaultScenario, ProcessorChoice,
    parse_command_line,
};
use super::information::{BootInformation, PhysicalMemory, RsdpCopy, read_boot_information};
use super::interrupt_choice::{ApicSummary, ControllerChoice, PicReason, choose_controllers};
use super::platform::{platform, record_platform};
use super::processors;
use crate::arch::x86::apic_registers::RedirectionEntry;
use crate::arch::x86::cpu::{enable_interrupts, halt_forever};
use crate::arch::x86::firmware_memory::FIRMWARE_TABLE_MEMORY;
use crate::arch::x86::io_apic::{self, IoApicError};
use crate::arch::x86::linear_framebuffer::MappedFramebuffer;
use crate::arch::x86::linker_symbols::kernel_image;
use crate::arch::x86::local_apic::{self, LocalApicError};
use crate::arch::x86::page_table::Caching;
use crate::arch::x86::physical_memory::read_identity_mapped;
use crate::arch::x86::platform::{AcpiChoice, DiscoveryProblem, Platform, discover};
use crate::arch::x86::ps2_controller::ControllerState;
use crate::arch::x86::serial::SerialPresence;
use crate::arch::x86::vectors::{IRQ_LINES, KEYBOARD_IRQ, TIMER_IRQ, io_apic_vector_of_irq};
use crate::arch::x86::{gdt, interrupts, pic, pit, ps2_keyboard, stacks};
use crate::console::ScreenChar;
use crate::console::device::{ScreenChoice, choose_screen};
use crate::console::input::{keyboard_interrupt, start_keyboard_driver, wait_for_key_press};
use crate::console::output::{COM1, CONSOLE, ConsoleScreen, draw_deferred_output};
use crate::console::screen::switch_to_framebuffer;
use crate::console::text_console::DEFAULT_COLOR;
use crate::console::{Color, ColorCode, TextSurface};
use crate::demo::text::write_centered;
use crate::demo::workers::RenderThreads;
use crate::demo::{self, BLANK_PICTURE, DEFAULT_TIMING, DemoEvent, Look, Picture};
use crate::diagnostics::fatal::{self, FatalAction, set_fatal_action};
use crate::diagnostics::fault_scenarios;
use crate::shell::run_shell;
use crate::sync::spin_lock::SpinLock;
use crate::thread::{self, Priority, scheduler};
use crate::time::{self, Instant, SystemClock};
use crate::{log, memory, print, print_colored, println};

const WARNING_COLOR: ColorCode = ColorCode::new(Color::Yellow, Color::Black);
const ERROR_COLOR: ColorCode = ColorCode::new(Color::LightRed, Color::Black);

/// Entered from `asm/boot.asm` with the loader's magic and the Multiboot information address.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_main(magic: u32, info_address: u32) -> ! {
    let boot_started = Instant::now();
    gdt::load(0); // our own segments, this CPU's block, and the task that takes double faults
    interrupts::initialize(fatal::EXCEPTION_HANDLERS); // every exception now gets a diagnostic
    stacks::arm_boot_stack_watchpoints(); // a boot-stack overflow faults even before paging
    let serial = COM1.lock().initialize(); // the serial mirror, if a UART answers
    start_console(); // a blank VGA text screen in the default colors
    let boot_information = read_loader_hand_over(magic, info_address); // halts if not Multiboot
    start_memory(&boot_information, boot_started); // frames, paging, heap; halts on failure
    stacks::rely_on_guard_pages(); // unmapped guard pages catch overflows from here on
    start_screen(&boot_information); // the loader's framebuffer, if the console can draw it
    print_greeting(&boot_information, serial);
    let options = parse_command_line(boot_information.command_line, |warning| {
        print_colored!(WARNING_COLOR, "{warning}\n");
    });
    if options.mode == BootMode::Test {
        set_fatal_action(FatalAction::ExitQemu); // under the harness, a fault ends QEMU
    }
    discover_platform(&boot_information, options.acpi); // processors and interrupt controllers
    start_clock(); // the time-stamp counter, calibrated against the PIT
    let apics = start_interrupts(platform(), options.apic); // APICs or PICs, the tick, the keyboard
    provoke_boot_fault(options.fault); // `fault=`: on the boot stack, before threads exist
    start_scheduler(); // the boot flow becomes the idle thread; the timer preempts
    start_other_cpus(apics, options.processors, &boot_information); // unless `nosmp`
    start_first_thread(options, boot_information); // tests, benchmarks, or demo and shell
    scheduler::run_idle(draw_deferred_output)
}

/// Starts the other CPUs the platform lists, where the local APICs took over the interrupts and
/// the command line does not say `nosmp`.
fn start_other_cpus(apics: bool, choice: ProcessorChoice, boot_information: &BootInformation) {
    processors::register_bootstrap_processor(apics);
    match (apics, choice, platform()) {
        (true, ProcessorChoice::All, Some(platform)) => {
            processors::start_application_processors(platform, boot_information)
        }
        (false, ProcessorChoice::All, Some(platform)) if platform.processors.len() > 1 => {
            log!(
                "cpus: {} listed, but without the APICs only this one runs",
                platform.processors.len()
            )
        }
        _ => {}
    }
}

/// Provokes the fault the command line asked for, except the one that needs threads.
fn provoke_boot_fault(fault: Option<FaultScenario>) {
    match fault {
        None | Some(FaultScenario::ThreadStackOverflow) => {}
        Some(scenario) => {
            fault_scenarios::provoke(scenario);
            println!("Back from the breakpoint: execution continued.");
        }
    }
}

fn start_scheduler() {
    if let Err(error) = thread::stack::initialize(scheduler::MAX_THREADS) {
        print_colored!(ERROR_COLOR, "threads: no memory for the stacks' page tables ({error:?})\n");
        fatal::stop();
    }
    scheduler::start();
    interrupts::register_irq_exit_hook(scheduler::preempt_if_needed);
    if let Err(error) = scheduler::start_reaper() {
        print_colored!(ERROR_COLOR, "threads: cannot start the reaper thread: {error}\n");
        fatal::stop();
    }
    if let Err(error) = start_keyboard_driver() {
        print_colored!(ERROR_COLOR, "keyboard: cannot start its driver thread: {error}\n");
    }
}

/// Starts the thread that does what the command line asked.
fn start_first_thread(options: BootOptions, boot_information: BootInformation) {
    let (name, priority) = match options.mode {
        BootMode::Test => ("tests", Priority::Normal),
        BootMode::Bench => ("bench", Priority::Normal),
        BootMode::Normal => ("shell", Priority::Interactive),
    };
    let started = thread::spawn_with_priority(name, priority, move || {
        if options.fault == Some(FaultScenario::ThreadStackOverflow) {
            fault_scenarios::provoke(FaultScenario::ThreadStackOverflow);
        }
        match options.mode {
            BootMode::Test => run_tests(),
            BootMode::Bench => run_benchmark(),
            BootMode::Normal => {}
        }
        if options.demo == DemoChoice::Play {
            let look = run_demo();
            wait_for_any_key(look);
            CONSOLE.lock().clear();
        }
        run_shell(&boot_information)
    });
    if let Err(error) = started {
        print_colored!(ERROR_COLOR, "threads: cannot start the {name} thread: {error}\n");
        fatal::stop();
    }
}

fn start_console() {
    let mut console = CONSOLE.lock();
    console.surface_mut().enable_cursor();
    console.set_color(DEFAULT_COLOR);
    console.clear();
}

/// Moves the console onto the loader's framebuffer when there is one it can draw on (mapped in
/// the device range, write-combining where the CPU allows); otherwise it stays on VGA text,
/// with the reason on COM1.
fn start_screen(boot_information: &BootInformation) {
    let (address, layout) = match choose_screen(boot_information.framebuffer.as_ref()) {
        ScreenChoice::VgaText => return,
        ScreenChoice::Unsupported(error) => {
            log!("console: {error}; staying in VGA text mode");
            return;
        }
        ScreenChoice::Framebuffer { address, layout } => (address, layout),
    };
    let memory = match MappedFramebuffer::map(address, layout.size_bytes()) {
        Ok(memory) => memory,
        Err(error) => {
            log!(
                "console: the framebuffer at {address:#x} cannot be mapped ({error:?}); staying in VGA text mode"
            );
            return;
        }
    };
    let caching = match memory.caching() {
        Caching::WriteCombining => "write-combining",
        Caching::Uncached => "uncached",
        Caching::WriteBack => "write-back",
    };
    let format = layout.format();
    let (red, green, blue) = format.channels();
    // One line of key=value pairs: the test harness reads the framebuffer with it.
    log!(
        "console: framebuffer address={address:#x} width={} height={} pitch={} bytes_per_pixel={} \
         red={}:{} green={}:{} blue={}:{} columns={} rows={} caching={caching}",
        layout.width_pixels(),
        layout.height_pixels(),
        layout.pitch_bytes(),
        format.bytes_per_pixel(),
        red.position,
        red.size,
        green.position,
        green.size,
        blue.position,
        blue.size,
        layout.columns(),
        layout.rows()
    );
    if let Err(error) = switch_to_framebuffer(&mut CONSOLE.lock(), memory, layout) {
        log!("console: {error}; staying in VGA text mode");
    }
}

/// Physical memory as the boot-information parser may read it: identity-mapped, outside the
/// kernel's own image (whose guard pages paging unmaps).
struct LoaderMemory;

impl PhysicalMemory for LoaderMemory {
    fn read(&self, address: u64, length: usize) -> Option<&[u8]> {
        let (image_start, image_end) = kernel_image().range();
        let end = address.checked_add(length as u64)?;
        if address < u64::from(image_end) && u64::from(image_start) < end {
            return None;
        }
        read_identity_mapped(address, length)
    }
}

static LOADER_MEMORY: LoaderMemory = LoaderMemory;

/// The validated Multiboot information, with its warnings on screen; halts with a message if
/// no Multiboot loader started the kernel.
fn read_loader_hand_over(magic: u32, info_address: u32) -> BootInformation {
    match read_boot_information(magic, &LOADER_MEMORY, info_address) {
        Ok(information) => information,
        Err(error) => {
            print_colored!(ERROR_COLOR, "boot: {error}\n");
            halt_forever();
        }
    }
}

fn start_memory(boot_information: &BootInformation, boot_started: Instant) {
    match memory::setup::initialize(boot_information) {
        Ok(()) => {
            log!("memory: heap ready {} ticks after kernel_main", boot_started.elapsed_ticks())
        }
        Err(error) => {
            print_colored!(ERROR_COLOR, "memory: {error}; the kernel cannot run without it\n");
            fatal::stop();
        }
    }
}

/// Reads the firmware's description of processors and interrupt controllers (ACPI, else the
/// MP tables), logs it in one line and keeps it for the APIC and SMP code.
fn discover_platform(boot_information: &BootInformation, acpi: AcpiChoice) {
    let loader_rsdp = boot_information.acpi_rsdp.as_ref().map(RsdpCopy::bytes);
    let found = discover(&FIRMWARE_TABLE_MEMORY, loader_rsdp, acpi);
    if acpi == AcpiChoice::Skip {
        log!("platform: acpi=off; ACPI tables ignored");
    }
    for problem in &found.problems {
        let next = match (problem, &found.platform) {
            (DiscoveryProblem::LoaderRsdp(_), _) => "; searching the BIOS area",
            (DiscoveryProblem::Acpi(_), Some(_)) => "; using the MP tables",
            _ => "",
        };
        log!("platform: {problem}{next}");
    }
    match &found.platform {
        Some(platform) => log!("platform: {}", platform.summary()),
        None => log!("platform: no ACPI or MP tables; one CPU on the 8259 PICs"),
    }
    record_platform(found.platform);
}

fn start_clock() {
    let (clock_hz, calibration) = time::calibration();
    log!(
        "clock: time-stamp counter runs at {} kHz ({} of {} PIT windows undisturbed)",
        clock_hz / 1000,
        calibration.rounds_trusted,
        calibration.rounds_taken
    );
}

/// Why the APIC path could not be set up.
#[derive(Debug, Clone, Copy)]
enum ApicSetupError {
    LocalApic(LocalApicError),
    IoApic(IoApicError),
}

impl core::fmt::Display for ApicSetupError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ApicSetupError::LocalApic(error) => write!(formatter, "{error}"),
            ApicSetupError::IoApic(error) => write!(formatter, "{error}"),
        }
    }
}

impl From<LocalApicError> for ApicSetupError {
    fn from(error: LocalApicError) -> Self {
        ApicSetupError::LocalApic(error)
    }
}

impl From<IoApicError> for ApicSetupError {
    fn from(error: IoApicError) -> Self {
        ApicSetupError::IoApic(error)
    }
}

/// The APIC path: masks both 8259s (and switches the IMCR where the MP tables say the firmware
/// left the machine in PIC mode), stops the PIT's tick, enables this CPU's local APIC, routes
/// every ISA IRQ with a handler through the I/O APICs to this CPU (with the firmware's
/// overrides), except IRQ 0, whose tick the local APIC timer replaces, and starts that timer.
fn start_apics(platform: &Platform) -> Result<ApicSummary, ApicSetupError> {
    pic::mask_all();
    if platform.interrupt_mode_register {
        pic::switch_imcr_to_apic();
    }
    pit::stop_periodic_timer();
    local_apic::initialize(platform.local_apic_address)?;
    for description in &platform.io_apics {
        io_apic::add(description)?;
    }
    let destination = local_apic::id();
    let mut routes = Vec::new();
    let mut unused = Vec::new();
    for irq in (0..IRQ_LINES as u8).filter(|&irq| interrupts::irq_has_handler(irq)) {
        if irq == TIMER_IRQ {
            unused.push(irq);
            continue;
        }
        let (global_interrupt, polarity, trigger) = platform.isa_interrupt(irq);
        let entry = RedirectionEntry {
            vector: io_apic_vector_of_irq(irq),
            polarity,
            trigger,
            destination,
            masked: false,
        };
        io_apic::route(global_interrupt, entry)?;
        routes.push((irq, global_interrupt));
    }
    let timer = time::start_local_apic_timer()?;
    log!(
        "clock: local APIC timer counts at {} kHz, {} counts per tick ({} of {} windows undisturbed)",
        timer.counts_per_second / 1000,
        timer.counts_per_tick,
        timer.calibration.rounds_trusted,
        timer.calibration.rounds_taken
    );
    Ok(ApicSummary {
        local_apic_id: destination,
        tick_hz: time::TIMER_HZ,
        bus_kilohertz: timer.bus_kilohertz(),
        routes,
        unused,
    })
}

/// The 8259 path: the PIT's tick on IRQ 0 and the keyboard on IRQ 1, and one line saying why.
fn start_pics(reason: PicReason) {
    println!("{reason}");
    pic::initialize();
    local_apic::pass_pic_interrupts_through();
    time::start_timer();
    pic::unmask(TIMER_IRQ);
    pic::unmask(KEYBOARD_IRQ);
}

/// Registers the tick and keyboard handlers, checks the keyboard controller, sets up the
/// interrupt controllers (`choose_controllers`), and lets interrupts in.
fn start_interrupts(platform: Option<&Platform>, apic: ApicChoice) -> bool {
    // Remapped to 32-47 even when the APICs take over, so their spurious IRQs never land on
    // an exception's vector.
    pic::initialize();
    interrupts::register_irq_handler(TIMER_IRQ, time::record_timer_tick);
    interrupts::register_irq_handler(KEYBOARD_IRQ, keyboard_interrupt);
    match ps2_keyboard::check_controller() {
        ControllerState::Working => {}
        ControllerState::Absent => print_colored!(
            WARNING_COLOR,
            "keyboard: no PS/2 controller answered; the shell needs a PS/2 keyboard, or a USB \
             keyboard with the firmware's USB legacy emulation turned on\n"
        ),
        ControllerState::Failed(code) => print_colored!(
            WARNING_COLOR,
            "keyboard: the PS/2 controller failed its self-test ({code:#04x}); keys may not arrive\n"
        ),
    }
    // The I/O APIC loses an edge that arrives while its input is masked, so the keyboard is
    // routed before its stale bytes are drained: a key pressed in between still interrupts.
    let apics = match choose_controllers(platform, local_apic::is_present(), apic) {
        ControllerChoice::Apic(platform) => match start_apics(platform) {
            Ok(summary) => {
                log!("{summary}");
                true
            }
            Err(error) => {
                print_colored!(WARNING_COLOR, "interrupts: {error}\n");
                start_pics(PicReason::Failed);
                false
            }
        },
        ControllerChoice::Pic(reason) => {
            start_pics(reason);
            false
        }
    };
    ps2_keyboard::initialize();
    enable_interrupts();
    apics
}

#[cfg(feature = "in-kernel-tests")]
fn run_tests() {
    crate::testing::in_kernel::run_all()
}

#[cfg(not(feature = "in-kernel-tests"))]
fn run_tests() {
    print_colored!(
        WARNING_COLOR,
        "test: this image has no in-kernel tests; they are in build/kernel-bench.elf\n"
    );
}

#[cfg(feature = "bench")]
fn run_benchmark() {
    crate::testing::benchmark::run_benchmark()
}

#[cfg(not(feature = "bench"))]
fn run_benchmark() {
    print_colored!(WARNING_COLOR, "bench: this image has no benchmarks; `make bench` builds one\n");
}

/// Leaves the demo's last picture up, with a hint, until a key is pressed; the CPU halts
/// between interrupts meanwhile. Over pixels the hint gets a black bar across the top row.
fn wait_for_any_key(look: Look) {
    {
        let mut console = CONSOLE.lock();
        let hint = ColorCode::new(Color::Black, Color::LightGray);
        if look == Look::Pixels {
            let surface = console.surface_mut();
            for column in 0..surface.width() {
                surface.write_cell(0, column, ScreenChar::blank(DEFAULT_COLOR));
            }
        }
        write_centered(console.surface_mut(), 0, " Press any key for the shell ", hint);
        console.flush();
    }
    log!("idle: waiting for a key");
    wait_for_key_press();
}

/// The demo's off-screen pictures (36 KB each at the largest screen): in `.bss`, as no thread
/// stack could hold them, and locked for one drawing step at a time.
static DEMO_PICTURES: SpinLock<[Picture; 2]> = SpinLock::new([BLANK_PICTURE; 2]);

/// Plays the boot demo in a thread of its own, rendered by `demo::worker_count()` render
/// threads, and waits for it; the pixel demo on a framebuffer, the text demo elsewhere.
/// Returns which it played.
fn run_demo() -> Look {
    let look = Look::for_surface(CONSOLE.lock().surface());
    let demo = thread::spawn("demo", move || {
        let (mut render_threads, failure) = RenderThreads::start(demo::worker_count());
        if let Some(error) = failure {
            log!("demo: not every render thread started: {error}");
        }
        let summary = demo::play(
            &ConsoleScreen,
            &SystemClock,
            &DEMO_PICTURES,
            DEFAULT_TIMING,
            look,
            render_threads.farm(),
            |event| match event {
                DemoEvent::LogoShown => log!("demo: logo"),
                DemoEvent::AnimationStarted => log!("demo: animation"),
                DemoEvent::Finished => log!("demo: finished"),
            },
        );
        render_threads.finish();
        summary
    });
    let summary = match demo {
        Ok(demo) => demo.join(),
        Err(error) => {
            print_colored!(ERROR_COLOR, "demo: cannot start its thread: {error}\n");
            return Look::Text;
        }
    };
    log!("{}", demo::SummaryLine(&summary));
    look
}

fn print_greeting(boot_information: &BootInformation, serial: SerialPresence) {
    let banner = ColorCode::new(Color::White, Color::Blue);
    let width = CONSOLE.lock().surface().width();
    print_colored!(banner, "{:^width$}\n", "Ferrite 0.1 - a Rust kernel for 32-bit x86");
    print_colored!(ColorCode::new(Color::LightGreen, Color::Black), "Hello from Rust!");
    print!(" Booted by ");
    let loader = boot_information.loader_name.unwrap_or("a Multiboot loader");
    print_colored!(ColorCode::new(Color::Yellow, Color::Black), "{loader}");
    println!(".");
    print!("32-bit protected mode, ");
    print_colored!(ColorCode::new(Color::LightCyan, Color::Black), "SSE2");
    match serial {
        SerialPresence::Present => println!(" enabled, console mirrored to COM1 at 115200 baud."),
        SerialPresence::Absent | SerialPresence::Unknown => println!(" enabled."),
    }
    for warning in boot_information.warnings() {
        print_colored!(WARNING_COLOR, "boot information: {warning}\n");
    }
    if serial == SerialPresence::Absent {
        print_colored!(WARNING_COLOR, "serial: no UART at COM1; output is on screen only\n");
    }
}
