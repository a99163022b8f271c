//! `bench` on the kernel command line: renders demo frames, times breakpoint round trips, the
//! timer interrupt, threads, the allocators and inter-processor interrupts, prints the figures
//! on serial for `make bench`, and ends QEMU.
#![forbid(unsafe_code)]

use super::allocator_benchmark;
use crate::arch::x86::cpu::{FxsaveArea, breakpoint, save_and_restore_sse_state};
use crate::arch::x86::interrupts::register_local_vector_handler;
use crate::arch::x86::page_table::Caching;
use crate::arch::x86::per_cpu::current_index;
use crate::arch::x86::qemu_exit::{ExitCode, exit_qemu};
use crate::arch::x86::vectors::SELF_TEST_IPI_VECTOR;
use crate::arch::x86::{interrupt_nesting, local_apic, tlb};
use crate::boot::processors::{self, CpuState};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::console::output::{CONSOLE, ConsoleScreen};
use crate::console::screen::ScreenDevice;
use crate::demo::pixels::{PixelCanvas, present};
use crate::demo::render_farm::{Image, Marcher, RenderFarm};
use crate::demo::scene::Scene;
use crate::demo::workers::RenderThreads;
use crate::diagnostics::fatal::{BreakpointNotes, set_breakpoint_notes};
use crate::thread::KernelThreads;
use crate::time::{Instant, SystemClock};
use crate::{demo, log, thread, time};

/// Frames rendered by `bench`: enough for a stable average, few enough to finish in seconds.
const BENCH_FRAMES: u32 = 20;

/// Iterations of the busy loop the timer-interrupt benchmark runs twice.
const BENCH_LOOP_ITERATIONS: u32 = 5_000_000;

/// Runs the same busy loop with the timer interrupt masked and unmasked: the difference in
/// counter ticks over the number of timer interrupts is the cost of one (in instructions
/// under `-icount shift=0`), through whichever controller delivers the tick.
fn measure_timer_interrupt_cost() {
    let busy_loop = || {
        let start = Instant::now();
        for iteration in 0..BENCH_LOOP_ITERATIONS {
            core::hint::black_box(iteration);
        }
        start.elapsed_ticks()
    };
    time::set_tick_masked(true);
    let without = busy_loop();
    time::set_tick_masked(false);
    let ticks_before = time::timer_ticks();
    let with = busy_loop();
    let interrupts = time::timer_ticks() - ticks_before;
    log!("bench: timer loop_without={without} loop_with={with} interrupts={interrupts}");
}

/// Thread switches, spawns and SSE state saves timed by `bench`.
const BENCH_SWITCHES: u32 = 10_000;
const BENCH_SPAWNS: u32 = 1000;

/// Two threads of one priority yield to each other: every `yield_now` is one switch.
fn measure_thread_switch() {
    let partner = thread::spawn("yielder", || {
        for _ in 0..BENCH_SWITCHES {
            thread::yield_now();
        }
    });
    let Ok(partner) = partner else {
        log!("bench: thread switch: cannot spawn");
        return;
    };
    let start = Instant::now();
    for _ in 0..BENCH_SWITCHES {
        thread::yield_now();
    }
    let ticks = start.elapsed_ticks();
    partner.join();
    log!("bench: thread switches={} ticks={ticks}", 2 * BENCH_SWITCHES);
}

/// Spawns an empty thread and joins it, again and again.
fn measure_spawn_and_join() {
    let start = Instant::now();
    for _ in 0..BENCH_SPAWNS {
        match thread::spawn("empty", || ()) {
            Ok(empty) => empty.join(),
            Err(_) => {
                log!("bench: spawn and join: cannot spawn");
                return;
            }
        }
    }
    let ticks = start.elapsed_ticks();
    let microseconds = start.elapsed_microseconds();
    log!("bench: spawn and join count={BENCH_SPAWNS} ticks={ticks} microseconds={microseconds}");
}

/// Round trips through two channels of capacity 1: a message to an echo thread and back.
fn measure_channel_round_trip() {
    let (to_echo, echo_inbox) = thread::channel::<u32>(1);
    let (to_bench, bench_inbox) = thread::channel::<u32>(1);
    let echo = thread::spawn("echo", move || {
        while let Ok(message) = echo_inbox.recv() {
            if to_bench.send(message).is_err() {
                break;
            }
        }
    });
    let Ok(echo) = echo else {
        log!("bench: channel round trip: cannot spawn");
        return;
    };
    let start = Instant::now();
    for message in 0..BENCH_SWITCHES {
        let _ = to_echo.send(message);
        let _ = bench_inbox.recv();
    }
    let ticks = start.elapsed_ticks();
    drop(to_echo);
    echo.join();
    log!("bench: channel round trips={BENCH_SWITCHES} ticks={ticks}");
}

/// The real-time cost of an `fxsave` plus `fxrstor`, which an eager switch would add.
fn measure_sse_state_save() {
    let mut area = FxsaveArea::new();
    let start = Instant::now();
    for _ in 0..BENCH_SWITCHES {
        save_and_restore_sse_state(&mut area);
    }
    let ticks = start.elapsed_ticks();
    let nanoseconds = start.elapsed_microseconds() * 1000;
    log!(
        "bench: fxsave and fxrstor count={BENCH_SWITCHES} ticks={ticks} nanoseconds={nanoseconds}"
    );
}

/// Lines printed by the console benchmark, one `writeln!` each, as `println!` prints them.
const BENCH_CONSOLE_LINES: u32 = 2_000;

/// Prints lines to the screen alone (COM1's line speed would be measured instead) and times
/// them: in text mode once; on a framebuffer with each memory type and scroll strategy.
fn measure_console_throughput() {
    use crate::console::framebuffer::ScrollStrategy;
    use core::fmt::Write;
    let mut console = CONSOLE.lock();
    let framebuffer = console.surface().device() == ScreenDevice::Framebuffer;
    let settings: &[Option<(Caching, ScrollStrategy)>] = if framebuffer {
        &[
            Some((Caching::WriteCombining, ScrollStrategy::Redraw)),
            Some((Caching::Uncached, ScrollStrategy::Redraw)),
            Some((Caching::WriteCombining, ScrollStrategy::MovePixels)),
        ]
    } else {
        &[None]
    };
    let default_strategy =
        console.surface_mut().framebuffer().map(|surface| surface.scroll_strategy());
    for &setting in settings {
        if let (Some((caching, strategy)), Some(surface)) =
            (setting, console.surface_mut().framebuffer())
        {
            surface.memory_mut().set_caching(caching);
            surface.set_scroll_strategy(strategy);
        }
        let start = Instant::now();
        for line in 0..BENCH_CONSOLE_LINES {
            let _ = writeln!(console, "bench line {line}: the quick brown fox jumps over 13 dogs");
        }
        console.surface_mut().draw_deferred();
        let (ticks, microseconds) = (start.elapsed_ticks(), start.elapsed_microseconds());
        let (caching, strategy) = match setting {
            None => ("none", "none"),
            Some((caching, strategy)) => (
                match caching {
                    Caching::WriteCombining => "write-combining",
                    Caching::Uncached => "uncached",
                    Caching::WriteBack => "write-back",
                },
                match strategy {
                    ScrollStrategy::MovePixels => "move-pixels",
                    ScrollStrategy::Redraw => "redraw",
                },
            ),
        };
        log!(
            "bench: console screen={} caching={caching} scroll={strategy} lines={BENCH_CONSOLE_LINES} ticks={ticks} microseconds={microseconds}",
            if framebuffer { "framebuffer" } else { "text" }
        );
    }
    if let (Some(surface), Some(strategy)) = (console.surface_mut().framebuffer(), default_strategy)
    {
        surface.memory_mut().set_caching(crate::arch::x86::paging::framebuffer_caching());
        surface.set_scroll_strategy(strategy);
    }
    console.clear();
}

/// Breakpoint round trips timed by `bench`.
const BENCH_BREAKPOINTS: u32 = 10_000;

/// Times breakpoint round trips, the timer interrupt, the allocators and demo frames, prints
/// the figures on serial, and ends QEMU.
pub fn run_benchmark() -> ! {
    set_breakpoint_notes(BreakpointNotes::Quiet);
    let start = Instant::now();
    for _ in 0..BENCH_BREAKPOINTS {
        breakpoint();
    }
    let ticks = start.elapsed_ticks();
    set_breakpoint_notes(BreakpointNotes::Show);
    log!("bench: breakpoint round trips={BENCH_BREAKPOINTS} ticks={ticks}");
    measure_timer_interrupt_cost();
    measure_thread_switch();
    measure_spawn_and_join();
    measure_channel_round_trip();
    measure_sse_state_save();
    measure_console_throughput();
    allocator_benchmark::run();
    // The text demo rendered by the bench thread itself, as before render threads.
    let (mut farm, _) = RenderFarm::<KernelThreads>::new(0);
    let (ticks, microseconds, statistics) =
        demo::benchmark(&ConsoleScreen, &SystemClock, &mut farm, BENCH_FRAMES);
    log!(
        "bench: demo frames={BENCH_FRAMES} ticks={ticks} microseconds={microseconds} rays={} march_steps={} shadow_steps={}",
        statistics.rays,
        statistics.march_steps,
        statistics.shadow_steps
    );
    measure_text_demo_with_render_threads();
    measure_rays_per_second();
    measure_pixel_demo();
    measure_inter_processor_interrupts();
    exit_qemu(ExitCode::Success)
}

/// The text demo rendered by 1 render thread and by one per CPU (`demo::worker_count()`, as
/// the boot demo does), in the same boot.
fn measure_text_demo_with_render_threads() {
    let per_cpu = demo::worker_count();
    let counts: &[usize] = if per_cpu == 1 { &[1] } else { &[1, per_cpu] };
    for &workers in counts {
        let (mut render_threads, failure) = RenderThreads::start(workers);
        if let Some(error) = failure {
            log!("bench: text demo with {workers} render threads: {error}");
        }
        let (ticks, microseconds, _) =
            demo::benchmark(&ConsoleScreen, &SystemClock, render_threads.farm(), BENCH_FRAMES);
        render_threads.finish();
        log!(
            "bench: text demo workers={workers} frames={BENCH_FRAMES} ticks={ticks} microseconds={microseconds}"
        );
    }
}

/// Pixel frames rendered by the rays-per-second benchmark, and their size.
const BENCH_PIXEL_FRAMES: u32 = 4;
const BENCH_PIXEL_WIDTH: usize = 160;
const BENCH_PIXEL_HEIGHT: usize = 120;

/// Rays per second on this thread's CPU: the same pixel frames traced one ray at a time and
/// four at a time.
fn measure_rays_per_second() {
    let (mut farm, _) = RenderFarm::<KernelThreads>::new(0);
    let mut image = Image::new(BENCH_PIXEL_WIDTH, BENCH_PIXEL_HEIGHT);
    for (marcher, name) in [(Marcher::Scalar, "scalar"), (Marcher::Packets, "packets")] {
        let mut rays = 0;
        let start = Instant::now();
        for frame in 0..BENCH_PIXEL_FRAMES {
            let scene = Arc::new(Scene::at(frame as f32 * 0.1));
            rays += farm.render_pixels(&scene, &mut image, marcher).rays;
        }
        let (ticks, microseconds) = (start.elapsed_ticks(), start.elapsed_microseconds());
        log!("bench: rays marcher={name} rays={rays} ticks={ticks} microseconds={microseconds}");
    }
}

/// The pixel demo at a fixed render size with `demo::worker_count()` render threads, shown on
/// the framebuffer if there is one (else rendered only).
fn measure_pixel_demo() {
    let (mut render_threads, _) = RenderThreads::start(demo::worker_count());
    let workers = render_threads.farm().workers();
    let layout = CONSOLE.lock().surface().pixel_layout();
    let mut image = Image::new(BENCH_PIXEL_WIDTH, BENCH_PIXEL_HEIGHT);
    let start = Instant::now();
    for frame in 0..BENCH_PIXEL_FRAMES * 2 {
        let scene = Arc::new(Scene::at(frame as f32 * 0.1));
        render_threads.farm().render_pixels(&scene, &mut image, Marcher::Packets);
        if let Some(layout) = &layout {
            present(&image, layout, &ConsoleScreen);
        }
    }
    let (ticks, microseconds) = (start.elapsed_ticks(), start.elapsed_microseconds());
    render_threads.finish();
    log!(
        "bench: pixel demo width={BENCH_PIXEL_WIDTH} height={BENCH_PIXEL_HEIGHT} workers={workers} shown={} frames={} ticks={ticks} microseconds={microseconds}",
        layout.is_some(),
        BENCH_PIXEL_FRAMES * 2
    );
    CONSOLE.lock().clear();
}

/// Round trips and shootdowns timed by the inter-processor interrupt benchmark.
const BENCH_INTER_PROCESSOR_ROUNDS: u32 = 1_000;

/// IPIs the benchmark's handler has answered.
static ECHOES: AtomicU32 = AtomicU32::new(0);

fn answer_echo() {
    ECHOES.fetch_add(1, Ordering::Release);
}

/// With several CPUs: the round trip of an IPI from this CPU to another one (sent, handled
/// there, seen here), and a one-page TLB shootdown to every other CPU. Interrupts stay off
/// meanwhile, so the bench thread stays on its CPU.
fn measure_inter_processor_interrupts() {
    interrupt_nesting::push();
    let here = current_index();
    let target = processors::cpus().find(|cpu| cpu.index != here && cpu.state == CpuState::Online);
    let Some(target) = target else {
        interrupt_nesting::pop();
        return;
    };
    register_local_vector_handler(SELF_TEST_IPI_VECTOR, answer_echo);
    let start = Instant::now();
    for round in 0..BENCH_INTER_PROCESSOR_ROUNDS {
        local_apic::send_fixed(target.apic_id, SELF_TEST_IPI_VECTOR);
        while ECHOES.load(Ordering::Acquire) == round {
            core::hint::spin_loop();
        }
    }
    let (ticks, microseconds) = (start.elapsed_ticks(), start.elapsed_microseconds());
    log!(
        "bench: ipi round_trips={BENCH_INTER_PROCESSOR_ROUNDS} from_cpu={here} to_cpu={} ticks={ticks} microseconds={microseconds}",
        target.index
    );
    let other_cpus = processors::online_count() - 1;
    let page = crate::thread::stack::STACKS_START;
    let start = Instant::now();
    for _ in 0..BENCH_INTER_PROCESSOR_ROUNDS {
        tlb::invalidate_on_every_cpu(page, page + 4096);
    }
    let (ticks, microseconds) = (start.elapsed_ticks(), start.elapsed_microseconds());
    interrupt_nesting::pop();
    log!(
        "bench: tlb shootdown count={BENCH_INTER_PROCESSOR_ROUNDS} other_cpus={other_cpus} ticks={ticks} microseconds={microseconds}"
    );
}
