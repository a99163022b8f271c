//! The system clock: the tick from PIT channel 0, which wakes the CPU from `hlt`, and the
//! time-stamp counter, calibrated once against the PIT, which measures uptime and sleeps.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use super::calibration::{Calibration, CalibrationRound, calibrate};
use super::{Clock, microseconds_to_ticks, ticks_to_microseconds};
use crate::arch::x86::cpu::{
    interrupts_enabled, read_time_stamp_counter, spin_loop_hint, wait_for_interrupt,
};
use crate::arch::x86::pit::{PIT_INPUT_HZ, measure_time_stamp_window, start_periodic_timer};

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

/// Starts the system tick; `record_timer_tick` must be IRQ 0's handler.
pub fn start_timer() {
    TIMER_STARTED_AT.store(read_time_stamp_counter(), Ordering::Relaxed);
    start_periodic_timer(TIMER_DIVISOR as u16);
}

/// The IRQ 0 handler: counts the tick and lets the scheduler wake sleepers and charge the
/// running thread's quantum.
pub fn record_timer_tick() {
    TIMER_TICKS.fetch_add(1, Ordering::Relaxed);
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
