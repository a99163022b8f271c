//! Wall-clock time from the time-stamp counter, calibrated once against the PIT.

use spin::Once;

use crate::arch::x86::cpu::{read_time_stamp_counter, spin_loop_hint};
use crate::arch::x86::pit::measure_time_stamp_counter_hz;

static TIME_STAMP_COUNTER_HZ: Once<u64> = Once::new();

/// Measures the time-stamp counter's rate; later calls return the first measurement.
pub fn calibrate() -> u64 {
    *TIME_STAMP_COUNTER_HZ.call_once(measure_time_stamp_counter_hz)
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

/// Waits `milliseconds` by the calibrated clock.
pub fn sleep_milliseconds(milliseconds: u64) {
    let start = Instant::now();
    while start.elapsed_microseconds() < milliseconds * 1000 {
        spin_loop_hint();
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
