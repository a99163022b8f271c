//! The CMOS real-time clock (MC146818-compatible; OSDev wiki "CMOS"): date and time registers.

use super::cmos_clock::RawClockReading;
use super::port::Port;

// Ports: the CMOS index and data ports; this module only selects and reads the
// clock's registers, which has no effect on the clock.
// SAFETY: one of the ports this module alone drives, as described above.
const CMOS_INDEX: Port<u8> = unsafe { Port::new(0x70) };
// SAFETY: one of the ports this module alone drives, as described above.
const CMOS_DATA: Port<u8> = unsafe { Port::new(0x71) };
/// Bit 7 of the index port disables NMIs while a register is selected; keep it set.
const NMI_DISABLE: u8 = 0x80;

const REGISTER_SECONDS: u8 = 0x00;
const REGISTER_MINUTES: u8 = 0x02;
const REGISTER_HOURS: u8 = 0x04;
const REGISTER_DAY: u8 = 0x07;
const REGISTER_MONTH: u8 = 0x08;
const REGISTER_YEAR: u8 = 0x09;
const REGISTER_CENTURY: u8 = 0x32; // ACPI's usual century register; absent on some boards
const REGISTER_STATUS_A: u8 = 0x0a;
const REGISTER_STATUS_B: u8 = 0x0b;
const STATUS_A_UPDATE_IN_PROGRESS: u8 = 0x80;
/// Attempts at a consistent reading before giving up on consistency.
const MAXIMUM_READ_ATTEMPTS: usize = 10;

fn read_register(register: u8) -> u8 {
    CMOS_INDEX.write(NMI_DISABLE | register);
    CMOS_DATA.read()
}

fn read_once() -> RawClockReading {
    while read_register(REGISTER_STATUS_A) & STATUS_A_UPDATE_IN_PROGRESS != 0 {
        core::hint::spin_loop();
    }
    RawClockReading {
        seconds: read_register(REGISTER_SECONDS),
        minutes: read_register(REGISTER_MINUTES),
        hours: read_register(REGISTER_HOURS),
        day: read_register(REGISTER_DAY),
        month: read_register(REGISTER_MONTH),
        year: read_register(REGISTER_YEAR),
        century: read_register(REGISTER_CENTURY),
        status_b: read_register(REGISTER_STATUS_B),
    }
}

/// Reads the clock until two readings in a row agree, so no field is torn by an update.
pub fn read_clock() -> RawClockReading {
    let mut previous = read_once();
    for _ in 0..MAXIMUM_READ_ATTEMPTS {
        let current = read_once();
        if current == previous {
            return current;
        }
        previous = current;
    }
    previous
}
