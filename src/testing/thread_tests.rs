//! In-kernel tests of threads and the scheduler: joins, fair shares, sleeps, SSE state across
//! preemption, locks and channels used from several CPUs at once, and memory returning to its
//! baseline.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::in_kernel::{TestResult, check};
use crate::arch::x86::cpu::xmm_registers_survive_spinning;
use crate::arch::x86::per_cpu::current_index as current_cpu;
use crate::boot::processors::online_count as online_cpu_count;
use crate::log;
use crate::memory::heap::heap_figures;
use crate::memory::setup::FRAME_ALLOCATOR;
use crate::sync::spin_lock::SpinLock;
use crate::thread::{self, JoinHandle, Mutex, Select};
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

pub fn ping_pong_passes_100000_messages_without_loss_or_duplication() -> TestResult {
    const MESSAGES: u32 = 100_000;
    let (to_echo, echo_inbox) = thread::channel::<u32>(1);
    let (to_main, main_inbox) = thread::channel::<u32>(1);
    let echo = thread::spawn("echo", move || {
        let mut echoed = 0u32;
        while let Ok(message) = echo_inbox.recv() {
            if to_main.send(message + 1).is_err() {
                break;
            }
            echoed += 1;
        }
        echoed
    })
    .map_err(|_| "spawn failed")?;
    let start = Instant::now();
    for message in 0..MESSAGES {
        to_echo.send(message * 2).map_err(|_| "the echo thread went away")?;
        let answer = main_inbox.recv().map_err(|_| "the echo thread hung up")?;
        check(answer == message * 2 + 1, "an answer was lost, repeated or out of order")?;
    }
    drop(to_echo);
    check(echo.join() == MESSAGES, "the echo thread saw a different number of messages")?;
    log!("  {MESSAGES} round trips in {} us", start.elapsed_microseconds());
    Ok(())
}

pub fn eight_producers_and_eight_consumers_agree_on_checksums() -> TestResult {
    const PRODUCERS: u64 = 8;
    const MESSAGES_EACH: u64 = 5_000;
    let (sender, receiver) = thread::channel::<u64>(16);
    let producers: Vec<JoinHandle<u64>> = (0..PRODUCERS)
        .map(|producer| {
            let sender = sender.clone();
            thread::spawn("producer", move || {
                let mut sum = 0u64;
                for index in 0..MESSAGES_EACH {
                    let message = producer << 32 | index;
                    sender.send(message).expect("receivers stay until the senders are done");
                    sum = sum.wrapping_add(message.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                }
                sum
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    drop(sender);
    let consumers: Vec<JoinHandle<(u64, u64)>> = (0..8)
        .map(|_| {
            let receiver = receiver.clone();
            thread::spawn("consumer", move || {
                let (mut count, mut sum) = (0u64, 0u64);
                // Ends when every sender is gone and the channel is drained.
                while let Ok(message) = receiver.recv() {
                    count += 1;
                    sum = sum.wrapping_add(message.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                }
                (count, sum)
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    drop(receiver);
    let sent = producers.into_iter().fold(0u64, |sum, producer| sum.wrapping_add(producer.join()));
    let (count, received) = consumers.into_iter().fold((0, 0u64), |(count, sum), consumer| {
        let (more, part) = consumer.join();
        (count + more, sum.wrapping_add(part))
    });
    check(count == PRODUCERS * MESSAGES_EACH, "messages were lost or duplicated")?;
    check(sent == received, "the checksums of sent and received messages differ")
}

pub fn select_takes_the_ready_channel_or_times_out() -> TestResult {
    let (_quiet_sender, quiet) = thread::channel::<u32>(1);
    let (busy_sender, busy) = thread::channel::<u32>(0);
    let sender = thread::spawn("sender", move || {
        thread::sleep_milliseconds(20);
        busy_sender.send(7).is_ok()
    })
    .map_err(|_| "spawn failed")?;
    let selected = Select::new()
        .recv(&quiet, |message| message.map(|value| value + 1000))
        .recv(&busy, |message| message)
        .wait_timeout(2_000_000)
        .map_err(|_| "select timed out with a message on its way")?;
    check(selected.arm == 1 && selected.value == Ok(7), "select took the wrong arm")?;
    check(sender.join(), "the rendezvous send did not complete")?;
    let start = uptime_microseconds();
    let timed_out = Select::new().recv(&quiet, |message| message).wait_timeout(30_000).is_err();
    check(timed_out, "select on an empty channel returned")?;
    check(uptime_microseconds() - start >= 30_000, "select timed out early")
}

pub fn a_sleeping_mutex_serialises_counters_across_threads() -> TestResult {
    let counter = alloc::sync::Arc::new(Mutex::new(0u64));
    let workers: Vec<JoinHandle<()>> = (0..6)
        .map(|_| {
            let counter = alloc::sync::Arc::clone(&counter);
            thread::spawn("counter", move || {
                for round in 0..2_000u32 {
                    let mut value = counter.lock();
                    let seen = *value;
                    if round % 64 == 0 {
                        // Hold the lock across a yield: the others must block, not race.
                        thread::yield_now();
                    }
                    *value = seen + 1;
                }
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    for worker in workers {
        worker.join();
    }
    let total = *counter.lock();
    check(total == 12_000, "increments under the mutex were lost")
}

/// The CPUs (a bit per index) that did some part of a test's work.
struct CpusSeen(AtomicU32);

impl CpusSeen {
    const fn new() -> CpusSeen {
        CpusSeen(AtomicU32::new(0))
    }

    /// Records the CPU running the caller now.
    fn note(&self) {
        self.0.fetch_or(1 << current_cpu(), Ordering::Relaxed);
    }

    fn count(&self) -> u32 {
        self.0.load(Ordering::Relaxed).count_ones()
    }
}

/// Checks that the work of a test spread over at least two CPUs when there are several, so a
/// multiprocessor test cannot pass by running on one.
fn check_spread(seen: &CpusSeen, what: &'static str) -> TestResult {
    let online = online_cpu_count();
    log!("  {what}: {} of {online} CPUs took part", seen.count());
    check(online < 2 || seen.count() >= 2, "the work never left one CPU")
}

/// Read, a pause, write: an increment any concurrent one can overwrite unless a lock
/// serialises them.
fn slow_increment(value: &mut u64) {
    let seen = *value;
    for _ in 0..20 {
        core::hint::black_box(seen);
    }
    *value = seen + 1;
}

pub fn locks_keep_counters_exact_across_cpus() -> TestResult {
    const WORKERS: usize = 8;
    const ROUNDS: u64 = 4_000;
    struct Counters {
        spin: SpinLock<u64>,
        spin_tried: SpinLock<u64>,
        sleeping: Mutex<u64>,
        unlocked: AtomicU64,
        /// `try_lock` calls that found the lock taken: proof the workers overlapped.
        busy_tries: AtomicU64,
        seen: CpusSeen,
    }
    let counters = Arc::new(Counters {
        spin: SpinLock::new(0),
        spin_tried: SpinLock::new(0),
        sleeping: Mutex::new(0),
        unlocked: AtomicU64::new(0),
        busy_tries: AtomicU64::new(0),
        seen: CpusSeen::new(),
    });
    let workers: Vec<JoinHandle<()>> = (0..WORKERS)
        .map(|_| {
            let counters = Arc::clone(&counters);
            thread::spawn("torture", move || {
                for round in 0..ROUNDS {
                    {
                        let mut value = counters.spin.lock();
                        counters.seen.note();
                        slow_increment(&mut value);
                    }
                    loop {
                        if let Some(mut value) = counters.spin_tried.try_lock() {
                            slow_increment(&mut value);
                            break;
                        }
                        counters.busy_tries.fetch_add(1, Ordering::Relaxed);
                        core::hint::spin_loop();
                    }
                    {
                        let mut value = counters.sleeping.lock();
                        slow_increment(&mut value);
                        if round % 256 == 0 {
                            // Held across a yield: the others must block or wait, not race.
                            thread::yield_now();
                        }
                    }
                    // The control: the same increment with no lock at all.
                    let seen = counters.unlocked.load(Ordering::Relaxed);
                    let mut value = seen;
                    slow_increment(&mut value);
                    counters.unlocked.store(value, Ordering::Relaxed);
                }
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    for worker in workers {
        worker.join();
    }
    let expected = WORKERS as u64 * ROUNDS;
    let unlocked = counters.unlocked.load(Ordering::Relaxed);
    let busy_tries = counters.busy_tries.load(Ordering::Relaxed);
    log!("  without a lock, {} of {expected} increments were lost", expected - unlocked);
    log!("  try_lock found the lock taken {busy_tries} times");
    check(*counters.spin.lock() == expected, "increments under the spin lock were lost")?;
    check(*counters.spin_tried.lock() == expected, "increments under try_lock were lost")?;
    check(*counters.sleeping.lock() == expected, "increments under the mutex were lost")?;
    check(
        online_cpu_count() < 2 || busy_tries > 0,
        "the workers never contended for a lock: nothing was tested",
    )?;
    check_spread(&counters.seen, "lock torture")
}

pub fn channel_messages_cross_between_cpus() -> TestResult {
    const PRODUCERS: u32 = 4;
    const MESSAGES_EACH: u32 = 5_000;
    // Each message carries the CPU that sent it, the producer and a sequence number.
    let (sender, receiver) = thread::channel::<(u32, u32, u32)>(8);
    let producers: Vec<JoinHandle<()>> = (0..PRODUCERS)
        .map(|producer| {
            let sender = sender.clone();
            thread::spawn("producer", move || {
                for sequence in 0..MESSAGES_EACH {
                    let cpu = current_cpu() as u32;
                    sender.send((cpu, producer, sequence)).expect("the consumers stay");
                }
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    drop(sender);
    let consumers: Vec<JoinHandle<Result<(u32, Vec<u32>), &'static str>>> = (0..PRODUCERS)
        .map(|_| {
            let receiver = receiver.clone();
            thread::spawn("consumer", move || {
                let mut crossed = 0;
                // Per producer, the count received: each producer's messages must arrive in
                // order, so a consumer sees an increasing sequence from each.
                let mut last = vec![None::<u32>; PRODUCERS as usize];
                let mut received = vec![0u32; PRODUCERS as usize];
                while let Ok((cpu, producer, sequence)) = receiver.recv() {
                    if cpu != current_cpu() as u32 {
                        crossed += 1;
                    }
                    let slot = &mut last[producer as usize];
                    if slot.is_some_and(|previous| previous >= sequence) {
                        return Err("a producer's messages arrived out of order");
                    }
                    *slot = Some(sequence);
                    received[producer as usize] += 1;
                }
                Ok((crossed, received))
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn failed")?;
    drop(receiver);
    for producer in producers {
        producer.join();
    }
    let mut crossed = 0;
    let mut received = vec![0u32; PRODUCERS as usize];
    for consumer in consumers {
        let (more, counts) = consumer.join()?;
        crossed += more;
        for (total, count) in received.iter_mut().zip(counts) {
            *total += count;
        }
    }
    let total = PRODUCERS * MESSAGES_EACH;
    log!("  {crossed} of {total} messages were received on another CPU than they were sent on");
    check(received.iter().all(|&count| count == MESSAGES_EACH), "messages were lost or doubled")?;
    check(online_cpu_count() < 2 || crossed > 0, "no message crossed between CPUs")
}
