//! The seam between the blocking primitives and whatever runs threads: the kernel's scheduler,
//! the host's `std::thread`, or `loom`'s model checker.
#![forbid(unsafe_code)]

/// What the primitives in `sync` need from a thread system: a way to park the current thread
/// and to unpark another, a clock, and a lock for their own short critical sections.
///
/// The primitives call `park` only with every `Lock` released, and may call `unpark` while
/// holding a `Lock` (so `unpark` must neither block nor take a primitive's `Lock`).
pub trait Blocking: 'static {
    /// Handle to a thread that can be parked and unparked.
    type Thread: Clone + Send + Sync + 'static;

    /// A lock for a primitive's own short critical sections (in the kernel: an interrupt-safe
    /// spin lock; never held across `park`).
    type Lock<T: Send>: Lock<T>;

    /// The calling thread.
    fn current() -> Self::Thread;

    /// Blocks the caller until unparked or until `now() >= deadline`. Uses a permit like
    /// `std::thread::park`: an unpark that comes before park makes park return at once. May
    /// return spuriously; callers loop.
    fn park(deadline: Option<u64>);

    /// Makes `thread`'s next (or current) `park` return. Never blocks.
    fn unpark(thread: &Self::Thread);

    /// Monotonic microseconds.
    fn now() -> u64;
}

/// Mutual exclusion for a short critical section that never waits for another thread.
pub trait Lock<T>: Send + Sync {
    fn new(value: T) -> Self;

    /// Runs `body` with the value locked and returns what it returns.
    fn with<R>(&self, body: impl FnOnce(&mut T) -> R) -> R;
}

/// The deadline `microseconds` from now, saturating (so a huge timeout means "never").
pub fn deadline_after<B: Blocking>(microseconds: u64) -> u64 {
    B::now().saturating_add(microseconds)
}

/// Whether `deadline` (if any) has passed. Reads the clock only when there is a deadline.
pub fn has_passed<B: Blocking>(deadline: Option<u64>) -> bool {
    deadline.is_some_and(|deadline| B::now() >= deadline)
}
