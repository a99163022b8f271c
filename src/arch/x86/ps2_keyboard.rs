//! The PS/2 keyboard on the 8042 controller: draining stale bytes at boot and reading the
//! scancode that raised IRQ 1.

use super::port::Port;

const DATA_PORT: u16 = 0x60;
const STATUS_PORT: u16 = 0x64;
const STATUS_OUTPUT_FULL: u8 = 0x01;
/// Bytes the controller may still hold from before boot, read and dropped at start.
const MAXIMUM_STALE_BYTES: usize = 32;

/// Empties the controller's output buffer of bytes left from the firmware.
pub fn initialize() {
    for _ in 0..MAXIMUM_STALE_BYTES {
        // SAFETY: reading the 8042 status and data ports only consumes pending bytes.
        unsafe {
            if Port::<u8>::new(STATUS_PORT).read() & STATUS_OUTPUT_FULL == 0 {
                break;
            }
            Port::<u8>::new(DATA_PORT).read();
        }
    }
}

/// The scancode byte that raised IRQ 1; call only from the IRQ 1 handler.
pub fn read_scancode() -> u8 {
    // SAFETY: IRQ 1 means the controller holds a byte from the keyboard; reading it is the
    // acknowledgement the controller expects.
    unsafe { Port::<u8>::new(DATA_PORT).read() }
}
