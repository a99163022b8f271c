//! Keyboard input: the IRQ 1 handler moves scancodes into a lock-free queue and wakes the
//! keyboard driver thread, which decodes them and sends the keys over a channel to whoever
//! reads the keyboard (the shell, or whatever waits for "any key").
#![forbid(unsafe_code)]

use spin::Once;

use super::keyboard::{Key, KeyDecoder};
use crate::arch::x86::ps2_keyboard;
use crate::sync::spin_lock::SpinLock;
use crate::sync::spsc_queue::ByteQueue;
use crate::thread::scheduler::{SpawnError, ThreadId, current_id, park, unpark};
use crate::thread::{self, Priority, Receiver, Sender};

/// Scancodes from the IRQ handler to the shell. Holds the bytes of a few seconds of fast typing.
pub static SCANCODES: ByteQueue<256> = ByteQueue::new();

/// The thread waiting in `wait_for_scancode`, which the IRQ 1 handler wakes.
static SCANCODE_READER: SpinLock<Option<ThreadId>> = SpinLock::new(None);

/// The IRQ 1 handler: queue the scancode (a full queue drops the byte, counted) and wake the
/// thread that reads them.
pub fn keyboard_interrupt() {
    if let Some(scancode) = ps2_keyboard::read_scancode() {
        let _ = SCANCODES.push(scancode);
        if let Some(reader) = *SCANCODE_READER.lock() {
            unpark(reader);
        }
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

/// Blocks the calling thread until the queue holds a scancode. The thread registers before it
/// looks at the queue, and a wake-up that comes between the look and the park leaves a permit,
/// so no scancode is slept through.
pub fn wait_for_scancode() {
    *SCANCODE_READER.lock() = Some(current_id());
    while SCANCODES.is_empty() {
        park(None);
    }
}

/// Keys decoded so far and not yet read: a few seconds of fast typing.
const KEY_CHANNEL_CAPACITY: usize = 64;

/// The two ends of the key channel: the driver thread sends, readers receive.
static KEYS: Once<(Sender<Key>, Receiver<Key>)> = Once::new();

fn key_channel() -> &'static (Sender<Key>, Receiver<Key>) {
    KEYS.call_once(|| thread::channel(KEY_CHANNEL_CAPACITY))
}

/// Starts the keyboard driver thread.
pub fn start_keyboard_driver() -> Result<(), SpawnError> {
    let sender = key_channel().0.clone();
    thread::spawn_with_priority("keyboard", Priority::Interactive, move || {
        let mut decoder = KeyDecoder::new();
        loop {
            wait_for_scancode();
            while let Some(key) = next_key(&mut decoder) {
                // Blocks while the channel is full: nobody is reading, and the scancode queue
                // holds (or, when full, counts) what comes meanwhile.
                let _ = sender.send(key);
            }
        }
    })?;
    Ok(())
}

/// The next key press, waiting for one (with the screen drawn up to date first).
pub fn read_key() -> Key {
    super::output::draw_deferred_output();
    key_channel().1.recv().expect("the keyboard driver holds a sender for good")
}

/// Drops every key pressed so far; true if there was one.
pub fn take_key_press() -> bool {
    let mut pressed = false;
    while key_channel().1.try_recv().is_ok() {
        pressed = true;
    }
    pressed
}

/// Waits for a key press and swallows it, so the key that dismissed something does not also
/// reach the shell.
pub fn wait_for_key_press() {
    let _ = read_key();
}
