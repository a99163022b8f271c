//! Turning the CMOS clock's raw registers into a date and time (the MC146818 register
//! formats: BCD or binary, 12- or 24-hour).
#![forbid(unsafe_code)]

use core::fmt;

/// Register values as read from the real-time clock, before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RawClockReading {
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub day: u8,
    pub month: u8,
    pub year: u8,
    /// 0 when the board has no century register.
    pub century: u8,
    /// Bit 1: 24-hour mode; bit 2: binary instead of BCD.
    pub status_b: u8,
}

const STATUS_B_24_HOUR: u8 = 0x02;
const STATUS_B_BINARY: u8 = 0x04;
/// In 12-hour mode, bit 7 of the hours register marks PM.
const HOURS_PM: u8 = 0x80;

/// A calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

fn from_bcd(value: u8) -> u8 {
    (value >> 4) * 10 + (value & 0x0f)
}

impl RawClockReading {
    /// Decodes BCD or binary, 12- or 24-hour registers. Without a century register, years
    /// 00-79 are taken as 20xx and 80-99 as 19xx.
    pub fn decode(&self) -> DateTime {
        let binary = self.status_b & STATUS_B_BINARY != 0;
        let number = |value: u8| if binary { value } else { from_bcd(value) };
        let pm = self.hours & HOURS_PM != 0;
        let mut hour = number(self.hours & !HOURS_PM);
        if self.status_b & STATUS_B_24_HOUR == 0 {
            hour %= 12;
            if pm {
                hour += 12;
            }
        }
        let short_year = u16::from(number(self.year));
        let century = match number(self.century) {
            19..=99 => u16::from(number(self.century)),
            _ if short_year < 80 => 20,
            _ => 19,
        };
        DateTime {
            year: century * 100 + short_year,
            month: number(self.month),
            day: number(self.day),
            hour,
            minute: number(self.minutes),
            second: number(self.seconds),
        }
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn bcd_24_hour_readings_decode_with_the_century_register() {
        let reading = RawClockReading {
            seconds: 0x59,
            minutes: 0x07,
            hours: 0x23,
            day: 0x22,
            month: 0x11,
            year: 0x26,
            century: 0x20,
            status_b: STATUS_B_24_HOUR,
        };
        assert_eq!(reading.decode().to_string(), "2026-11-22 23:07:59");
    }

    #[test]
    fn twelve_hour_binary_readings_and_missing_century_are_handled() {
        let pm = RawClockReading {
            seconds: 5,
            minutes: 30,
            hours: HOURS_PM | 12,
            day: 1,
            month: 2,
            year: 99,
            century: 0,
            status_b: STATUS_B_BINARY,
        };
        assert_eq!(pm.decode().to_string(), "1999-02-01 12:30:05");
        let midnight = RawClockReading { hours: 12, year: 5, ..pm };
        assert_eq!(midnight.decode().to_string(), "2005-02-01 00:30:05");
    }
}
