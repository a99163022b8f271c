//! The system clock: the tick, which wakes the CPU from `hlt` (from PIT channel 0 on the 8259
//! path, from each CPU's local APIC timer on the APIC path), and the time-stamp counter,
//! calibrated once against the PIT, which measures uptime and sleeps and against which the
//! local APIC timer is calibrated.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use spin::Once;

use super::calibration::{
    Calibration, CalibrationRound, calibrate, scale, timer_counts_per_tick, timer_window_counts,
};
use super::{Clock, microseconds_to_ticks, ticks_to_microseconds};
use crate::arch::x86::cpu::{
    interrupts_enabled, read_time_stamp_counter, spin_loop_hint, wait_for_interrupt,
};
use crate::arch::x86::local_apic::{self, LocalApicError};
use crate::arch::x86::pic;
use crate::arch::x86::pit::{PIT_INPUT_HZ, measure_time_stamp_window, start_periodic_timer};
use crate::arch::x86::vectors::TIMER_IRQ;

/// The system tick rate asked of the PIT.
pub const TIMER_HZ: u64 = 1000;
/// PIT input clocks per tick: the real rate is PIT_INPUT_HZ / 1193 = 1000.15 Hz.
const TIMER_DIVISOR: u64 = PIT_INPUT_HZ / TIMER_HZ;
/// Length of one calibration window.
const CALIBRATION_WINDOW_MILLISECONDS: u64 = 10;
/// PIT input clocks in one calibration window.
const CALIBRATION_COUNT: u16 = (PIT_INPUT_HZ * CALIBRATION_WINDOW_MILLISECONDS / 1000) as u16;

static TIMER_TICKS: AtomicU64 = AtomicU64::new(0);
/// The time-stamp counter when the system tick started: uptime's zero.
static TIMER_STARTED_AT: AtomicU64 = AtomicU64::new(0);
static TIME_STAMP_COUNTER: Once<(u64, Calibration)> = Once::new();
/// The tick period in nanoseconds (as asked of the timer; the PIT's by default).
static TIMER_PERIOD_NANOSECONDS: AtomicU64 =
    AtomicU64::new(TIMER_DIVISOR * 1_000_000_000 / PIT_INPUT_HZ);
/// Whether the local APIC timers are the tick.
static LOCAL_APIC_TICK: AtomicBool = AtomicBool::new(false);
/// Length of one window of the local APIC timer's calibration.
const LOCAL_APIC_WINDOW_MILLISECONDS: u64 = 10;
/// Timer counts of the rough first measurement that sizes the windows: 1 ms at QEMU's
/// 62.5 MHz (1 GHz / 16), 42 ms on a 25 MHz bus.
const LOCAL_APIC_ROUGH_COUNTS: u32 = 1 << 16;

/// Starts the system tick from PIT channel 0 (the 8259 path); `record_timer_tick` must be IRQ
/// 0's handler.
pub fn start_timer() {
    TIMER_STARTED_AT.store(read_time_stamp_counter(), Ordering::Relaxed);
    start_periodic_timer(TIMER_DIVISOR as u16);
}

/// The local APIC timer's rate as the boot CPU measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalApicTimerCalibration {
    /// Timer counts per second (the bus clock divided by `local_apic::TIMER_DIVISOR`).
    pub counts_per_second: u64,
    /// Counts per tick of `TIMER_HZ`.
    pub counts_per_tick: u32,
    pub calibration: Calibration,
}

impl LocalApicTimerCalibration {
    /// The bus clock the timer divides, in kHz.
    pub fn bus_kilohertz(&self) -> u64 {
        self.counts_per_second * u64::from(local_apic::TIMER_DIVISOR) / 1000
    }
}

/// Measures the calling CPU's local APIC timer against the calibrated time-stamp counter:
/// a rough window sizes the real ones to 10 ms, and the rounds are chosen as the counter's own
/// calibration chooses them, leaving out windows a pause spoiled.
///
/// The counter rather than the PIT: it is already calibrated over several undisturbed
/// windows, and reading it costs one instruction instead of port accesses, so each end of a
/// window is bracketed within a local APIC register read.
pub fn calibrate_local_apic_timer() -> LocalApicTimerCalibration {
    let counter_hz = time_stamp_counter_hz();
    let rough = local_apic::measure_timer_window(LOCAL_APIC_ROUGH_COUNTS);
    let window_counts = timer_window_counts(
        u64::from(rough.counts),
        rough.elapsed_ticks,
        counter_hz,
        LOCAL_APIC_WINDOW_MILLISECONDS,
    );
    let calibration = calibrate(|| {
        let window = local_apic::measure_timer_window(window_counts);
        // Scaled to exactly `window_counts`: the last poll may overshoot by a few counts.
        CalibrationRound {
            elapsed_ticks: scale(
                window.elapsed_ticks,
                u64::from(window_counts),
                u64::from(window.counts),
            ),
            slack_ticks: window.slack_ticks,
        }
    });
    let counts_per_second = scale(u64::from(window_counts), counter_hz, calibration.window_ticks);
    LocalApicTimerCalibration {
        counts_per_second,
        counts_per_tick: timer_counts_per_tick(counts_per_second, TIMER_HZ),
        calibration,
    }
}

/// Makes the local APIC timers the system tick: calibrates the boot CPU's, stores the period
/// for every CPU's `local_apic::start_timer`, and starts it on this CPU. `record_timer_tick`
/// must be `TIMER_IRQ`'s handler.
pub fn start_local_apic_timer() -> Result<LocalApicTimerCalibration, LocalApicError> {
    let calibration = calibrate_local_apic_timer();
    local_apic::set_timer_period(calibration.counts_per_tick);
    TIMER_PERIOD_NANOSECONDS.store(
        scale(u64::from(calibration.counts_per_tick), 1_000_000_000, calibration.counts_per_second),
        Ordering::Relaxed,
    );
    TIMER_STARTED_AT.store(read_time_stamp_counter(), Ordering::Relaxed);
    local_apic::start_timer()?;
    LOCAL_APIC_TICK.store(true, Ordering::Relaxed);
    Ok(calibration)
}

/// The time between two ticks as the timer was programmed, in nanoseconds: 999,847 for the
/// PIT's divisor of 1193, about 1,000,000 for a local APIC timer.
pub fn timer_period_nanoseconds() -> u64 {
    TIMER_PERIOD_NANOSECONDS.load(Ordering::Relaxed)
}

/// Holds back or lets through this CPU's ticks (the benchmarks compare a loop with and
/// without them). The timer keeps counting.
pub fn set_tick_masked(masked: bool) {
    match (LOCAL_APIC_TICK.load(Ordering::Relaxed), masked) {
        (true, masked) => local_apic::set_timer_masked(masked),
        (false, true) => pic::mask(TIMER_IRQ),
        (false, false) => pic::unmask(TIMER_IRQ),
    }
}

/// The timer handler on every CPU: the bootstrap processor counts the system tick; every CPU
/// lets the scheduler wake sleepers and charge its running thread's quantum.
pub fn record_timer_tick() {
    if crate::arch::x86::per_cpu::current_index() == 0 {
        TIMER_TICKS.fetch_add(1, Ordering::Relaxed);
    }
    crate::thread::scheduler::timer_tick();
}

/// Timer interrupts since `start_timer`.
pub fn timer_ticks() -> u64 {
    TIMER_TICKS.load(Ordering::Relaxed)
}

/// Microseconds since the system tick started, by the calibrated time-stamp counter.
///
/// Counting timer interrupts would be simpler but runs slow in a virtual machine on a busy
/// host, which drops the ticks it could not deliver in time; the counter keeps running.
pub fn uptime_microseconds() -> u64 {
    Instant(TIMER_STARTED_AT.load(Ordering::Relaxed)).elapsed_microseconds()
}

/// The time-stamp counter's value at `microseconds` of uptime: a deadline the scheduler can
/// compare with a raw reading, so its hot paths never divide.
pub fn counter_at_uptime(microseconds: u64) -> u64 {
    let ticks = microseconds_to_ticks(microseconds, time_stamp_counter_hz());
    TIMER_STARTED_AT.load(Ordering::Relaxed).saturating_add(ticks)
}

/// Counter ticks as microseconds.
pub fn counter_ticks_to_microseconds(ticks: u64) -> u64 {
    ticks_to_microseconds(ticks, time_stamp_counter_hz())
}

/// The time-stamp counter's rate in Hz and how it was measured: PIT-timed windows, leaving out
/// those a pause of the CPU spoiled. Measured on the first call; later calls return that.
pub fn calibration() -> (u64, Calibration) {
    *TIME_STAMP_COUNTER.call_once(|| {
        let calibration = calibrate(|| {
            let window = measure_time_stamp_window(CALIBRATION_COUNT);
            CalibrationRound {
                elapsed_ticks: window.elapsed_ticks,
                slack_ticks: window.slack_ticks,
            }
        });
        let hz = calibration.window_ticks * PIT_INPUT_HZ / u64::from(CALIBRATION_COUNT);
        (hz, calibration)
    })
}

/// The time-stamp counter's rate in Hz if it has been calibrated yet (without calibrating it).
pub fn calibrated_time_stamp_counter_hz() -> Option<u64> {
    TIME_STAMP_COUNTER.get().map(|(hz, _)| *hz)
}

/// The time-stamp counter's rate in Hz.
pub fn time_stamp_counter_hz() -> u64 {
    calibration().0.max(1)
}

/// A point in time, as a raw time-stamp-counter reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(u64);

impl Instant {
    /// Now.
    pub fn now() -> Instant {
        Instant(read_time_stamp_counter())
    }

    /// Raw counter ticks since `self`; under `-icount shift=0` one tick is one instruction.
    pub fn elapsed_ticks(self) -> u64 {
        read_time_stamp_counter().saturating_sub(self.0)
    }

    /// Microseconds since `self`.
    pub fn elapsed_microseconds(self) -> u64 {
        ticks_to_microseconds(self.elapsed_ticks(), time_stamp_counter_hz())
    }
}

/// Waits `milliseconds`. A thread blocks and others run; before the scheduler starts, the CPU
/// halts between timer interrupts once they run and spins on the time-stamp counter before
/// that. The timer ticks every millisecond, so a halt never oversleeps by more than one tick.
pub fn sleep_milliseconds(milliseconds: u64) {
    if crate::thread::scheduler::started() {
        crate::thread::sleep_milliseconds(milliseconds);
        return;
    }
    let start = Instant::now();
    while start.elapsed_microseconds() < milliseconds * 1000 {
        if interrupts_enabled() {
            wait_for_interrupt();
        } else {
            spin_loop_hint();
        }
    }
}

/// The calibrated time-stamp counter as a `Clock`.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_microseconds(&self) -> u64 {
        ticks_to_microseconds(read_time_stamp_counter(), time_stamp_counter_hz())
    }

    fn now_ticks(&self) -> u64 {
        read_time_stamp_counter()
    }

    fn sleep_milliseconds(&self, milliseconds: u64) {
        sleep_milliseconds(milliseconds);
    }
}
