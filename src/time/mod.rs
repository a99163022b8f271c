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

/// Converts counter ticks to microseconds without overflowing for centuries of uptime: whole
/// seconds and the remainder separately, in 64-bit arithmetic (128-bit division is a large
/// routine on a 32-bit CPU).
pub fn ticks_to_microseconds(ticks: u64, ticks_per_second: u64) -> u64 {
    let rate = ticks_per_second.max(1);
    (ticks / rate) * 1_000_000 + (ticks % rate) * 1_000_000 / rate
}

/// Converts microseconds to counter ticks, the same way round.
pub fn microseconds_to_ticks(microseconds: u64, ticks_per_second: u64) -> u64 {
    (microseconds / 1_000_000) * ticks_per_second
        + (microseconds % 1_000_000) * ticks_per_second / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_exact_arithmetic_from_zero_to_centuries() {
        const CENTURY_SECONDS: u64 = 100 * 365 * 24 * 3600;
        let rates = [1, 1_000_000, 1_000_000_000, 2_596_149_000, 3_999_999_999];
        let mut value = 0u64;
        while value < CENTURY_SECONDS * 1_000_000 {
            for rate in rates {
                if value < CENTURY_SECONDS * rate {
                    let exact = (u128::from(value) * 1_000_000 / u128::from(rate)) as u64;
                    let converted = ticks_to_microseconds(value, rate);
                    assert_eq!(converted, exact, "{value} ticks at {rate} Hz");
                }
                let exact = (u128::from(value) * u128::from(rate) / 1_000_000) as u64;
                assert_eq!(microseconds_to_ticks(value, rate), exact, "{value} us at {rate} Hz");
            }
            value = value * 3 + 7;
        }
        assert_eq!(ticks_to_microseconds(5, 0), 5_000_000, "a zero rate is taken as 1 Hz");
    }
}
