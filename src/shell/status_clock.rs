//! The clock in the top-right corner while the shell runs: time of day and uptime, redrawn once
//! a second by a thread of its own, straight into the screen's cells, so the cursor and the
//! line being edited stay as they are.

use alloc::string::String;
use core::fmt::Write;

#[cfg(target_os = "none")]
pub use machine::*;

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

/// " 14:03:07 up 0:01": the time of day and the uptime in hours and minutes, after a space that
/// keeps it apart from the greeting banner's title (17 characters fit beside it).
pub fn corner_text(time_of_day_seconds: u64, uptime_seconds: u64) -> String {
    let day = time_of_day_seconds % SECONDS_PER_DAY;
    let mut text = String::new();
    let _ = write!(
        text,
        " {:02}:{:02}:{:02} up {}:{:02}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        uptime_seconds / 3600,
        uptime_seconds / 60 % 60,
    );
    text
}

#[cfg(target_os = "none")]
mod machine {
    use core::sync::atomic::{AtomicBool, Ordering};

    use super::corner_text;
    use crate::arch::x86::rtc;
    use crate::console::output::CONSOLE;
    use crate::console::{Color, ColorCode, ScreenChar, TextSurface};
    use crate::sync::spin_lock::SpinLock;
    use crate::thread::{self, Priority};
    use crate::time::uptime_microseconds;

    /// Yellow on the greeting banner's blue: the clock sits in the banner's right margin.
    const CLOCK_COLOR: ColorCode = ColorCode::new(Color::Yellow, Color::Blue);

    /// Serialises reads of the CMOS clock (an index port, then a data port).
    pub static CMOS: SpinLock<()> = SpinLock::new(());

    static PAUSED: AtomicBool = AtomicBool::new(false);

    /// Stops drawing (while the demo owns the screen) or starts again.
    pub fn set_paused(paused: bool) {
        PAUSED.store(paused, Ordering::Relaxed);
    }

    /// Starts the clock thread; a failure is reported and the shell runs without it.
    pub fn start() {
        if let Err(error) = thread::spawn_with_priority("clock", Priority::Interactive, run) {
            crate::print!("clock: cannot start its thread: {error}\n");
        }
    }

    fn run() {
        let date = {
            let _cmos = CMOS.lock();
            rtc::read_clock().decode()
        };
        let started_at_seconds = uptime_microseconds() / 1_000_000;
        let time_at_start =
            u64::from(date.hour) * 3600 + u64::from(date.minute) * 60 + u64::from(date.second);
        loop {
            let uptime = uptime_microseconds();
            let seconds = uptime / 1_000_000;
            draw(&corner_text(time_at_start + seconds - started_at_seconds, seconds));
            let next_second = (seconds + 1) * 1_000_000;
            thread::sleep_milliseconds((next_second - uptime).div_ceil(1000));
        }
    }

    /// Writes `text` flush right on the top row, unless the cursor is on that row (a line being
    /// edited there keeps its cells) or the clock is paused.
    fn draw(text: &str) {
        if PAUSED.load(Ordering::Relaxed) {
            return;
        }
        let mut console = CONSOLE.lock();
        if console.position().0 == 0 {
            return;
        }
        let surface = console.surface_mut();
        let start = surface.width().saturating_sub(text.len());
        for (offset, byte) in text.bytes().enumerate() {
            surface.write_cell(0, start + offset, ScreenChar::new(byte, CLOCK_COLOR));
        }
        surface.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::{SECONDS_PER_DAY, corner_text};

    #[test]
    fn the_corner_shows_time_of_day_and_uptime_and_wraps_at_midnight() {
        assert_eq!(corner_text(14 * 3600 + 3 * 60 + 7, 83), " 14:03:07 up 0:01");
        assert_eq!(corner_text(SECONDS_PER_DAY + 59, 10 * 3600 + 59), " 00:00:59 up 10:00");
    }
}
