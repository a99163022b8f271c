//! `bench` on the kernel command line: renders demo frames, times breakpoint round trips, the
//! timer interrupt and the allocators, prints the figures on serial for `make bench`, and
//! ends QEMU.
#![forbid(unsafe_code)]

use super::allocator_benchmark;
use crate::arch::x86::cpu::breakpoint;
use crate::arch::x86::page_table::Caching;
use crate::arch::x86::pic;
use crate::arch::x86::qemu_exit::{ExitCode, exit_qemu};
use crate::arch::x86::vectors::TIMER_IRQ;
use crate::console::output::CONSOLE;
use crate::console::screen::ScreenDevice;
use crate::diagnostics::fatal::{BreakpointNotes, set_breakpoint_notes};
use crate::time::{Instant, SystemClock};
use crate::{demo, log, time};

/// Frames rendered by `bench`: enough for a stable average, few enough to finish in seconds.
const BENCH_FRAMES: u32 = 20;

/// Iterations of the busy loop the timer-interrupt benchmark runs twice.
const BENCH_LOOP_ITERATIONS: u32 = 5_000_000;

/// Runs the same busy loop with the timer interrupt masked and unmasked: the difference in
/// counter ticks over the number of timer interrupts is the cost of one (in instructions
/// under `-icount shift=0`).
fn measure_timer_interrupt_cost() {
    let busy_loop = || {
        let start = Instant::now();
        for iteration in 0..BENCH_LOOP_ITERATIONS {
            core::hint::black_box(iteration);
        }
        start.elapsed_ticks()
    };
    pic::mask(TIMER_IRQ);
    let without = busy_loop();
    pic::unmask(TIMER_IRQ);
    let ticks_before = time::timer_ticks();
    let with = busy_loop();
    let interrupts = time::timer_ticks() - ticks_before;
    log!("bench: timer loop_without={without} loop_with={with} interrupts={interrupts}");
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
    measure_console_throughput();
    allocator_benchmark::run();
    let (ticks, microseconds, statistics) = {
        let mut console = CONSOLE.lock();
        demo::benchmark(console.surface_mut(), &SystemClock, BENCH_FRAMES)
    };
    log!(
        "bench: demo frames={BENCH_FRAMES} ticks={ticks} microseconds={microseconds} rays={} march_steps={} shadow_steps={}",
        statistics.rays,
        statistics.march_steps,
        statistics.shadow_steps
    );
    exit_qemu(ExitCode::Success)
}
