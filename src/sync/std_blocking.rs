//! The host's implementation of the blocking seam: `std::thread` parking, `std::sync::Mutex`
//! and `Instant`, for unit tests and tools.
#![forbid(unsafe_code)]

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::blocking::{Blocking, Lock};

/// Threads are `std::thread`s.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdBlocking;

impl Blocking for StdBlocking {
    type Thread = std::thread::Thread;
    type Lock<T: Send> = StdLock<T>;

    fn current() -> Self::Thread {
        std::thread::current()
    }

    fn park(deadline: Option<u64>) {
        match deadline {
            None => std::thread::park(),
            Some(deadline) => {
                let now = Self::now();
                if now < deadline {
                    std::thread::park_timeout(Duration::from_micros(deadline - now));
                }
            }
        }
    }

    fn unpark(thread: &Self::Thread) {
        thread.unpark();
    }

    fn now() -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        let elapsed = START.get_or_init(Instant::now).elapsed();
        u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
    }
}

/// A `std::sync::Mutex` used through the `Lock` trait. A panic inside a critical section does
/// not poison it, as the kernel's spin lock has no poisoning either.
#[derive(Debug, Default)]
pub struct StdLock<T>(Mutex<T>);

impl<T: Send> Lock<T> for StdLock<T> {
    fn new(value: T) -> Self {
        StdLock(Mutex::new(value))
    }

    fn with<R>(&self, body: impl FnOnce(&mut T) -> R) -> R {
        body(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
