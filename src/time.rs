//! Time: the system tick from PIT channel 0, which wakes the CPU from `hlt`, and the
//! time-stamp counter, calibrated once against the PIT, which measures uptime and sleeps.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use crate::arch::x86::cpu::{
    interrupts_enabled, read_time_stamp_counter, spin_loop_hint, wait_for_interrupt,
};
use crate::arch::x86::pit::{PIT_INPUT_HZ, measure_time_stamp_counter_hz, start_periodic_timer};
use crate::clock_calibration::Calibration;

/// The system tick rate asked of the PIT.
pub const TIMER_HZ: u64 = 1000;
/// PIT input clocks per tick: the real rate is PIT_INPUT_HZ / 1193 = 1000.15 Hz.
const TIMER_DIVISOR: u64 = PIT_INPUT_HZ / TIMER_HZ;

static TIMER_TICKS: AtomicU64 = AtomicU64::new(0);
/// The time-stamp counter when the system tick started: uptime's zero.
static TIMER_STARTED_AT: AtomicU64 = AtomicU64::new(0);

/// Starts the system tick (IRQ 0 must then be unmasked).
pub fn start_timer() {
    TIMER_STARTED_AT.store(read_time_stamp_counter(), Ordering::Relaxed);
    start_periodic_timer(TIMER_DIVISOR as u16);
}

/// Called from the IRQ 0 handler.
pub fn record_timer_tick() {
    TIMER_TICKS.fetch_add(1, Ordering::Relaxed);
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

static TIME_STAMP_COUNTER: Once<(u64, Calibration)> = Once::new();

/// Measures the time-stamp counter's rate in Hz; later calls return the first measurement.
pub fn calibrate() -> u64 {
    calibration().0
}

/// The time-stamp counter's rate and how it was measured.
pub fn calibration() -> (u64, Calibration) {
    *TIME_STAMP_COUNTER.call_once(measure_time_stamp_counter_hz)
}

fn ticks_per_second() -> u64 {
    calibrate().max(1)
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
        ticks_to_microseconds(self.elapsed_ticks(), ticks_per_second())
    }
}

/// Converts counter ticks to microseconds without overflowing for centuries of uptime.
pub fn ticks_to_microseconds(ticks: u64, ticks_per_second: u64) -> u64 {
    ((u128::from(ticks) * 1_000_000) / u128::from(ticks_per_second)) as u64
}

/// Waits `milliseconds`: halted between timer interrupts once they run, spinning on the
/// time-stamp counter before that.
pub fn sleep_milliseconds(milliseconds: u64) {
    let start = Instant::now();
    while start.elapsed_microseconds() < milliseconds * 1000 {
        if interrupts_enabled() {
            wait_for_interrupt();
        } else {
            spin_loop_hint();
        }
    }
}

/// The calibrated time-stamp counter as the demo's clock.
pub struct SystemClock;

impl crate::demo::Clock for SystemClock {
    fn now_microseconds(&self) -> u64 {
        ticks_to_microseconds(read_time_stamp_counter(), ticks_per_second())
    }

    fn now_ticks(&self) -> u64 {
        read_time_stamp_counter()
    }

    fn sleep_milliseconds(&self, milliseconds: u64) {
        sleep_milliseconds(milliseconds);
    }
}
