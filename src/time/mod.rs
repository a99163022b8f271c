//! Time: the clock seam portable code is written against, the calibration of the time-stamp
//! counter, and (in the kernel) the system clock itself.
#![forbid(unsafe_code)]

pub mod calibration;

#[cfg(target_os = "none")]
mod system;
#[cfg(target_os = "none")]
pub use system::*;

/// Where portable code (the demo) gets the time from, so pauses last as long on every machine
/// and host tests can drive time by hand.
pub trait Clock {
    /// Microseconds since some fixed point.
    fn now_microseconds(&self) -> u64;
    /// Raw counter ticks since some fixed point (instructions under QEMU's `-icount shift=0`).
    fn now_ticks(&self) -> u64;
    /// Waits `milliseconds`.
    fn sleep_milliseconds(&self, milliseconds: u64);
}

/// Converts counter ticks to microseconds without overflowing for centuries of uptime.
pub fn ticks_to_microseconds(ticks: u64, ticks_per_second: u64) -> u64 {
    ((u128::from(ticks) * 1_000_000) / u128::from(ticks_per_second.max(1))) as u64
}
