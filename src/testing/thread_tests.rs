//! In-kernel tests of threads and the scheduler: joins, fair shares, sleeps, SSE state across
//! preemption, and memory returning to its baseline.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::in_kernel::{TestResult, check};
use crate::arch::x86::cpu::xmm_registers_survive_spinning;
use crate::log;
use crate::memory::heap::heap_figures;
use crate::memory::setup::FRAME_ALLOCATOR;
use crate::thread::{self, JoinHandle};
use crate::time::{Instant, uptime_microseconds};

pub fn join_returns_each_threads_value() -> TestResult {
    let handles: Vec<JoinHandle<u64>> = (1..=8u64)
        .map(|number| thread::spawn("worker", move || (1..=number * 1000).sum()))
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    for (index, handle) in handles.into_iter().enumerate() {
        let number = index as u64 + 1;
        let expected = (number * 1000) * (number * 1000 + 1) / 2;
        check(handle.join() == expected, "a joined thread returned the wrong value")?;
    }
    Ok(())
}

/// Counts until asked to stop.
fn spin() -> u64 {
    let mut rounds = 0u64;
    while !thread::stop_requested() {
        for _ in 0..1000 {
            rounds = core::hint::black_box(rounds + 1);
        }
    }
    rounds
}

pub fn three_spinners_each_get_a_third_of_the_cpu() -> TestResult {
    let spinners: Vec<JoinHandle<u64>> = (0..3)
        .map(|_| thread::spawn("spin", spin))
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    let numbers: Vec<u32> = spinners.iter().map(JoinHandle::number).collect();
    let cpu_times = || -> Vec<u64> {
        let threads = thread::threads();
        numbers
            .iter()
            .map(|number| {
                threads
                    .iter()
                    .find(|thread| thread.id == *number)
                    .map_or(0, |thread| thread.cpu_microseconds)
            })
            .collect()
    };
    let before = cpu_times();
    thread::sleep_milliseconds(1000);
    let after = cpu_times();
    for number in &numbers {
        thread::request_stop(*number);
    }
    for spinner in spinners {
        spinner.join();
    }
    let shares: Vec<u64> =
        after.iter().zip(&before).map(|(after, before)| after - before).collect();
    let total: u64 = shares.iter().sum();
    log!("  three spinners ran {shares:?} us of {total} us");
    check(total > 900_000, "the spinners got less than 90 % of a second")?;
    for share in shares {
        let percent = share * 100 / total;
        check((23..=43).contains(&percent), "a spinner's share was not a third within 10 points")?;
    }
    Ok(())
}

pub fn sleeping_threads_wake_on_time() -> TestResult {
    let sleepers: Vec<JoinHandle<(u64, u64)>> = [5u64, 20, 35, 50, 1]
        .into_iter()
        .map(|milliseconds| {
            thread::spawn("sleeper", move || {
                let start = uptime_microseconds();
                thread::sleep_milliseconds(milliseconds);
                (milliseconds, uptime_microseconds() - start)
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    for sleeper in sleepers {
        let (asked, slept) = sleeper.join();
        check(slept >= asked * 1000, "a thread woke before its time")?;
        if slept > asked * 1000 + 50_000 {
            log!("  a {asked} ms sleep took {slept} us");
            return Err("a thread woke more than 50 ms late");
        }
    }
    Ok(())
}

pub fn sse_state_survives_preemption() -> TestResult {
    static FAILURES: AtomicU32 = AtomicU32::new(0);
    let start = Instant::now();
    let threads: Vec<JoinHandle<()>> = (0..3u32)
        .map(|index| {
            thread::spawn("sse", move || {
                for round in 0..5 {
                    let pattern = 0x0101_0101u32.wrapping_mul(index + 1) ^ round;
                    // Tens of milliseconds of spinning: the 4 ms quantum preempts it often.
                    if !xmm_registers_survive_spinning(pattern, 300_000) {
                        FAILURES.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    for thread in threads {
        thread.join();
    }
    log!("  three SSE threads took {} us", start.elapsed_microseconds());
    check(FAILURES.load(Ordering::Relaxed) == 0, "an XMM register changed across a preemption")
}

pub fn memory_returns_to_its_baseline_after_threads_end() -> TestResult {
    let baseline = (heap_figures().map(|heap| heap.allocated_bytes), free_frames());
    for _ in 0..5 {
        let threads: Vec<JoinHandle<usize>> = (0..10)
            .map(|index| {
                thread::spawn("short", move || {
                    let buffer = alloc::vec![index as u8; 1000 * (index + 1)];
                    buffer.iter().map(|byte| usize::from(*byte)).sum()
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|_| "spawn failed")?;
        for thread in threads {
            thread.join();
        }
    }
    // The last thread's stack is freed by whichever thread runs after it.
    thread::yield_now();
    let after = (heap_figures().map(|heap| heap.allocated_bytes), free_frames());
    log!("  heap bytes and free frames before {baseline:?}, after {after:?}");
    check(after == baseline, "heap or frames did not return to the baseline")
}

fn free_frames() -> usize {
    FRAME_ALLOCATOR.lock().free_frames()
}
