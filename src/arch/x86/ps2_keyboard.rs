//! The PS/2 keyboard on the 8042 controller: the IRQ 1 handler moves scancodes into a
//! lock-free queue; decoding happens outside interrupt context.

use super::port::Port;
use crate::spsc_queue::ByteQueue;

const DATA_PORT: u16 = 0x60;
const STATUS_PORT: u16 = 0x64;
const STATUS_OUTPUT_FULL: u8 = 0x01;
/// Bytes the controller may still hold from before boot, read and dropped at start.
const MAXIMUM_STALE_BYTES: usize = 32;

/// Scancodes from the IRQ handler to the shell. Holds the bytes of a few seconds of fast typing.
pub static SCANCODES: ByteQueue<256> = ByteQueue::new();

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

/// IRQ 1: read the byte that caused it and queue it. A full queue drops the byte (counted).
pub fn handle_interrupt() {
    // SAFETY: IRQ 1 means the controller holds a byte from the keyboard; reading it is the
    // acknowledgement the controller expects.
    let scancode = unsafe { Port::<u8>::new(DATA_PORT).read() };
    let _ = SCANCODES.push(scancode);
}
