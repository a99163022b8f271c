//! Choosing the time-stamp counter's rate from PIT-timed rounds, leaving out the rounds that a
//! pause of the CPU spoiled (a busy host descheduling the virtual machine, a firmware SMI); and
//! the local APIC timer's rate from rounds timed by that counter.
#![forbid(unsafe_code)]

use crate::small_sort::sort_small;

/// One calibration round: counter ticks from the moment the PIT was loaded to the moment it
/// expired, each moment taken as the middle of the two counter readings that bracket it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalibrationRound {
    pub elapsed_ticks: u64,
    /// How far off `elapsed_ticks` can be: the width of both brackets together. A pause
    /// that overlaps either end widens its bracket by the pause's length.
    pub slack_ticks: u64,
}

impl CalibrationRound {
    /// A round is trusted when its slack is at most 1/1000 of its length.
    pub fn is_trusted(&self) -> bool {
        self.slack_ticks.saturating_mul(1000) <= self.elapsed_ticks
    }
}

/// Rounds wanted before the search stops.
pub const TRUSTED_ROUNDS_WANTED: usize = 3;
/// Rounds taken at most; each lasts one PIT window.
pub const MAXIMUM_ROUNDS: usize = 15;

/// The outcome: counter ticks per PIT window and how the figure was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    pub window_ticks: u64,
    pub rounds_taken: usize,
    pub rounds_trusted: usize,
}

/// Takes rounds until three are trusted or fifteen were taken, and returns the median of the
/// trusted rounds; when none was trusted, the round with the least slack.
pub fn calibrate(mut measure_round: impl FnMut() -> CalibrationRound) -> Calibration {
    let mut trusted = [0u64; TRUSTED_ROUNDS_WANTED];
    let mut rounds_trusted = 0;
    let mut rounds_taken = 0;
    let mut least_slack: Option<CalibrationRound> = None;
    while rounds_trusted < TRUSTED_ROUNDS_WANTED && rounds_taken < MAXIMUM_ROUNDS {
        let round = measure_round();
        rounds_taken += 1;
        if round.is_trusted() {
            trusted[rounds_trusted] = round.elapsed_ticks;
            rounds_trusted += 1;
        }
        if least_slack.is_none_or(|best| round.slack_ticks < best.slack_ticks) {
            least_slack = Some(round);
        }
    }
    let window_ticks = if rounds_trusted == 0 {
        least_slack.map_or(0, |round| round.elapsed_ticks)
    } else {
        let trusted = &mut trusted[..rounds_trusted];
        sort_small(trusted);
        trusted[(rounds_trusted - 1) / 2]
    };
    Calibration { window_ticks, rounds_taken, rounds_trusted }
}

/// `value * numerator / denominator` in 64-bit arithmetic, exact as long as
/// `numerator * denominator` fits (whole multiples of the denominator and the remainder apart,
/// as `ticks_to_microseconds` does). A zero denominator is taken as 1.
pub fn scale(value: u64, numerator: u64, denominator: u64) -> u64 {
    let denominator = denominator.max(1);
    (value / denominator) * numerator + (value % denominator) * numerator / denominator
}

/// The local APIC timer's counts per calibration window: as many as the rough rate
/// (`rough_counts` in `rough_ticks` of a counter at `counter_hz`) gives in `window_milliseconds`,
/// at least `MINIMUM_TIMER_WINDOW_COUNTS` and at most half the 32-bit timer.
pub fn timer_window_counts(
    rough_counts: u64,
    rough_ticks: u64,
    counter_hz: u64,
    window_milliseconds: u64,
) -> u32 {
    let counts_per_second = scale(rough_counts, counter_hz, rough_ticks);
    let counts = scale(counts_per_second, window_milliseconds, 1000);
    counts.clamp(MINIMUM_TIMER_WINDOW_COUNTS, u64::from(u32::MAX / 2)) as u32
}

/// The fewest timer counts a calibration window spans, however slow the rough rate says the
/// timer is.
pub const MINIMUM_TIMER_WINDOW_COUNTS: u64 = 1 << 16;

/// The local APIC timer's period in counts for `tick_hz` ticks a second at `counts_per_second`,
/// rounded to the nearest count and at least 1.
pub fn timer_counts_per_tick(counts_per_second: u64, tick_hz: u64) -> u32 {
    let tick_hz = tick_hz.max(1);
    ((counts_per_second + tick_hz / 2) / tick_hz).clamp(1, u64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(elapsed_ticks: u64, slack_ticks: u64) -> CalibrationRound {
        CalibrationRound { elapsed_ticks, slack_ticks }
    }

    fn calibrate_from(rounds: &[CalibrationRound]) -> Calibration {
        let mut next = rounds.iter().copied();
        calibrate(|| next.next().expect("calibration asked for more rounds than given"))
    }

    #[test]
    fn three_quiet_rounds_give_their_median() {
        let rounds = [round(26_100_000, 900), round(26_000_000, 800), round(26_050_000, 950)];
        let calibration = calibrate_from(&rounds);
        assert_eq!(
            calibration,
            Calibration { window_ticks: 26_050_000, rounds_taken: 3, rounds_trusted: 3 }
        );
    }

    #[test]
    fn a_pause_at_the_end_of_a_window_is_left_out() {
        // A 3.5 ms pause across the expiry: 35 % longer, with the pause in its slack.
        let rounds = [
            round(35_100_000, 9_100_000),
            round(26_000_000, 900),
            round(34_000_000, 8_000_000),
            round(26_010_000, 700),
            round(26_020_000, 600),
        ];
        let calibration = calibrate_from(&rounds);
        assert_eq!(
            calibration,
            Calibration { window_ticks: 26_010_000, rounds_taken: 5, rounds_trusted: 3 }
        );
    }

    #[test]
    fn the_search_stops_after_fifteen_rounds() {
        let mut rounds = [round(30_000_000, 4_000_000); MAXIMUM_ROUNDS];
        rounds[9] = round(26_000_000, 30_000);
        rounds[12] = round(26_000_500, 900);
        let calibration = calibrate_from(&rounds);
        assert_eq!(
            calibration,
            Calibration { window_ticks: 26_000_500, rounds_taken: 15, rounds_trusted: 1 }
        );
    }

    #[test]
    fn with_no_trusted_round_the_least_slack_wins() {
        let mut rounds = [round(30_000_000, 4_000_000); MAXIMUM_ROUNDS];
        rounds[4] = round(26_500_000, 500_000);
        let calibration = calibrate_from(&rounds);
        assert_eq!(
            calibration,
            Calibration { window_ticks: 26_500_000, rounds_taken: 15, rounds_trusted: 0 }
        );
    }

    #[test]
    fn two_trusted_rounds_give_the_lower() {
        let mut rounds = [round(30_000_000, 4_000_000); MAXIMUM_ROUNDS];
        rounds[0] = round(26_000_900, 100);
        rounds[7] = round(26_000_100, 100);
        let calibration = calibrate_from(&rounds);
        assert_eq!(calibration.window_ticks, 26_000_100);
        assert_eq!(calibration.rounds_trusted, 2);
    }

    #[test]
    fn scaling_matches_exact_arithmetic() {
        let cases = [
            (625_000, 3_000_000_000, 10_000_000),
            (u64::from(u32::MAX), 3_999_999_999, 40_000_000),
            (12_345_678_901, 1_000, 999_983),
            (7, 1, 0),
        ];
        for (value, numerator, denominator) in cases {
            let exact = u128::from(value) * u128::from(numerator) / u128::from(denominator.max(1));
            assert_eq!(u128::from(scale(value, numerator, denominator)), exact);
        }
    }

    #[test]
    fn the_timer_window_follows_the_rough_rate() {
        // QEMU: a 1 GHz bus divided by 16 counts 62.5 MHz; 65,536 counts took 1,048,576 ticks
        // of a 1 GHz counter, so 10 ms is 625,000 counts.
        assert_eq!(timer_window_counts(65_536, 1_048_576, 1_000_000_000, 10), 625_000);
        // A 25 MHz bus / 16 = 1.5625 MHz: 10 ms is 15,625 counts, raised to the minimum.
        assert_eq!(
            u64::from(timer_window_counts(65_536, 41_943_040, 1_000_000_000, 10)),
            MINIMUM_TIMER_WINDOW_COUNTS
        );
        // A counter that did not move cannot make the window overflow the timer.
        assert_eq!(timer_window_counts(65_536, 0, 4_000_000_000, 10), u32::MAX / 2);
    }

    #[test]
    fn counts_per_tick_round_to_the_nearest_count() {
        assert_eq!(timer_counts_per_tick(62_500_000, 1000), 62_500);
        assert_eq!(timer_counts_per_tick(6_250_499, 1000), 6_250);
        assert_eq!(timer_counts_per_tick(6_250_500, 1000), 6_251);
        assert_eq!(timer_counts_per_tick(100, 1000), 1, "never a zero period, which stops it");
        assert_eq!(timer_counts_per_tick(u64::MAX / 2, 1), u32::MAX);
    }

    #[test]
    fn slack_of_exactly_one_thousandth_is_trusted() {
        assert!(round(1_000_000, 1_000).is_trusted());
        assert!(!round(1_000_000, 1_001).is_trusted());
        assert!(!round(0, 1).is_trusted());
    }
}
