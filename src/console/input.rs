//! Keyboard input: the IRQ 1 handler moves scancodes into a lock-free queue; readers decode
//! them into keys outside interrupt context.
#![forbid(unsafe_code)]

use super::keyboard::{Key, KeyDecoder};
use crate::arch::x86::cpu::halt_until;
use crate::arch::x86::ps2_keyboard;
use crate::sync::spsc_queue::ByteQueue;

/// Scancodes from the IRQ handler to the shell. Holds the bytes of a few seconds of fast typing.
pub static SCANCODES: ByteQueue<256> = ByteQueue::new();

/// How long a key's release may trail its press, at typing speed.
const KEY_RELEASE_SETTLE_MILLISECONDS: u64 = 150;

/// The IRQ 1 handler: queue the scancode. A full queue drops the byte (counted).
pub fn keyboard_interrupt() {
    if let Some(scancode) = ps2_keyboard::read_scancode() {
        let _ = SCANCODES.push(scancode);
    }
}

/// The next key press from the queue, if one is complete.
pub fn next_key(decoder: &mut KeyDecoder) -> Option<Key> {
    while let Some(scancode) = SCANCODES.pop() {
        if let Some(key) = decoder.feed(scancode) {
            return Some(key);
        }
    }
    None
}

/// Halts until the queue holds a scancode, with the screen drawn up to date first.
pub fn wait_for_scancode() {
    super::output::draw_deferred_output();
    halt_until(|| !SCANCODES.is_empty());
}

/// Empties the scancode queue; true if it held a key press. Set 1 make codes are below 0x80;
/// break codes (releases, such as Enter's from the command that is running) and the 0xE0
/// prefix are not presses.
pub fn take_key_press() -> bool {
    let mut pressed = false;
    while let Some(scancode) = SCANCODES.pop() {
        pressed |= scancode < 0x80;
    }
    pressed
}

/// Halts until a key is pressed, then swallows it and its release, so the key that dismissed
/// something does not also reach the shell.
pub fn wait_for_key_press() {
    while !take_key_press() {
        wait_for_scancode();
    }
    swallow_key_release();
}

/// Waits out the release of a key that was just pressed and drops it.
pub fn swallow_key_release() {
    crate::time::sleep_milliseconds(KEY_RELEASE_SETTLE_MILLISECONDS);
    take_key_press();
}
