//! The PS/2 keyboard on the 8042 controller: draining stale bytes at boot and reading the
//! scancode that raised IRQ 1.

use super::port::Port;

// Ports: the 8042's data and status ports. Reading the status has no effect; reading
// the data port takes the byte the controller holds, which is its acknowledgement.
// SAFETY: one of the ports this module alone drives, as described above.
const DATA_PORT: Port<u8> = unsafe { Port::new(0x60) };
// SAFETY: one of the ports this module alone drives, as described above.
const STATUS_PORT: Port<u8> = unsafe { Port::new(0x64) };
const STATUS_OUTPUT_FULL: u8 = 0x01;
/// Bytes the controller may still hold from before boot, read and dropped at start.
const MAXIMUM_STALE_BYTES: usize = 32;

/// Empties the controller's output buffer of bytes left from the firmware.
pub fn initialize() {
    for _ in 0..MAXIMUM_STALE_BYTES {
        if STATUS_PORT.read() & STATUS_OUTPUT_FULL == 0 {
            break;
        }
        DATA_PORT.read();
    }
}

/// The scancode byte that raised IRQ 1; call only from the IRQ 1 handler.
pub fn read_scancode() -> u8 {
    // IRQ 1 means the controller holds a byte from the keyboard.
    DATA_PORT.read()
}
