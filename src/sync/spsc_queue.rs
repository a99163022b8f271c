//! A fixed-size, lock-free queue of bytes for one producer (an interrupt handler) and one
//! consumer (the code it interrupts). Neither side ever waits: a full queue drops the byte.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// A ring of `CAPACITY` bytes (a power of two) with free-running head and tail counters.
pub struct ByteQueue<const CAPACITY: usize> {
    slots: UnsafeCell<[u8; CAPACITY]>,
    /// Bytes pushed so far (written only by the producer).
    head: AtomicUsize,
    /// Bytes popped so far (written only by the consumer).
    tail: AtomicUsize,
    dropped: AtomicU32,
}

// SAFETY: the producer writes only the slot at `head` before publishing it with a release
// store, the consumer reads only slots below the `head` it acquired, and each counter has a
// single writer; with one producer and one consumer no slot is accessed from both at once.
unsafe impl<const CAPACITY: usize> Sync for ByteQueue<CAPACITY> {}

/// The queue was full; the byte was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

impl<const CAPACITY: usize> ByteQueue<CAPACITY> {
    const VALID: () = assert!(CAPACITY.is_power_of_two());

    pub const fn new() -> Self {
        let () = Self::VALID;
        ByteQueue {
            slots: UnsafeCell::new([0; CAPACITY]),
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
            dropped: AtomicU32::new(0),
        }
    }

    /// Adds `byte` (producer side only).
    pub fn push(&self, byte: u8) -> Result<(), QueueFull> {
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        if head.wrapping_sub(tail) >= CAPACITY {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Err(QueueFull);
        }
        // SAFETY: the slot at `head` is free (the consumer has moved past it) and only the
        // single producer writes slots.
        unsafe { (*self.slots.get())[head % CAPACITY] = byte };
        self.head.store(head.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Takes the oldest byte (consumer side only).
    pub fn pop(&self) -> Option<u8> {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        if tail == head {
            return None;
        }
        // SAFETY: the slot at `tail` was published by the producer's release store of `head`,
        // and the producer will not reuse it until `tail` moves past it.
        let byte = unsafe { (*self.slots.get())[tail % CAPACITY] };
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        Some(byte)
    }

    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::Acquire) == self.tail.load(Ordering::Acquire)
    }

    /// Bytes dropped because the queue was full.
    pub fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl<const CAPACITY: usize> Default for ByteQueue<CAPACITY> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn bytes_come_out_in_order_and_a_full_queue_drops_and_counts() {
        let queue = ByteQueue::<4>::new();
        assert_eq!(queue.pop(), None);
        for byte in 1..=4 {
            queue.push(byte).unwrap();
        }
        assert_eq!(queue.push(5), Err(QueueFull));
        assert_eq!(queue.dropped(), 1);
        assert_eq!(queue.pop(), Some(1));
        queue.push(6).unwrap();
        let drained: std::vec::Vec<u8> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(drained, [2, 3, 4, 6]);
        assert!(queue.is_empty());
    }

    #[test]
    fn one_producer_thread_and_one_consumer_thread_lose_nothing_they_were_not_told_about() {
        let queue = Arc::new(ByteQueue::<64>::new());
        let producer = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || {
                let mut pushed = 0u32;
                for value in 0..200_000u32 {
                    while queue.push(value as u8).is_err() {
                        std::hint::spin_loop();
                    }
                    pushed += 1;
                }
                pushed
            })
        };
        let mut expected = 0u32;
        while expected < 200_000 {
            if let Some(byte) = queue.pop() {
                assert_eq!(byte, expected as u8, "out of order at {expected}");
                expected += 1;
            }
        }
        assert_eq!(producer.join().unwrap(), 200_000);
    }
}
