//! Queues of parked threads, with a block/wake protocol that cannot lose a wake-up.
//!
//! The protocol: a thread that must wait checks its condition and registers a `Waiter` in the
//! primitive's `WaitQueue` in one critical section of the primitive's `Lock`, then releases the
//! lock and parks until its waiter is notified (or its deadline passes). A waker changes the
//! state and notifies waiters in one critical section of the same lock. So a change either
//! happens before the check (the waiter sees it and does not wait) or after the registration
//! (the waker finds the waiter); and a notification that comes between the unlock and the park
//! leaves the thread a permit, so its park returns at once.
//!
//! A waiter may be registered in several queues at once (`select`): it accepts only the first
//! notification; the others skip it and notify the next waiter instead, so a wake-up is never
//! spent on a thread that is leaving. A waiter that gives up (its deadline passed) cancels
//! itself first, so it is skipped the same way.
#![forbid(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::Arc;

use super::blocking::{Blocking, Lock, has_passed};

/// Where a waiter is in its wait. Changed only under the waiter's own lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WaiterState {
    Waiting,
    /// A waker chose this waiter; `token` is what it was registered with in that queue.
    Notified {
        token: u64,
    },
    /// The waiter stopped waiting before anyone notified it.
    Cancelled,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// A waker notified this waiter through the registration made with `token`.
    Notified { token: u64 },
    /// The deadline passed first; the waiter is cancelled and no waker will choose it.
    TimedOut,
}

/// One thread's wait: registered in one or more `WaitQueue`s, notified at most once.
pub struct Waiter<B: Blocking> {
    thread: B::Thread,
    state: B::Lock<WaiterState>,
}

impl<B: Blocking> Waiter<B> {
    /// A waiter for the calling thread, which is the only thread that may `wait` on it.
    pub fn new() -> Arc<Self> {
        Arc::new(Waiter { thread: B::current(), state: B::Lock::new(WaiterState::Waiting) })
    }

    /// Makes the waiter ready to be registered again. Only for a waiter that is in no queue.
    pub fn reset(&self) {
        self.state.with(|state| *state = WaiterState::Waiting);
    }

    /// Notifies the waiter if it is still waiting, and unparks its thread. Returns whether it
    /// accepted (false if it was already notified or cancelled). Never blocks.
    pub fn notify(&self, token: u64) -> bool {
        let accepted = self.state.with(|state| {
            let waiting = *state == WaiterState::Waiting;
            if waiting {
                *state = WaiterState::Notified { token };
            }
            waiting
        });
        if accepted {
            B::unpark(&self.thread);
        }
        accepted
    }

    /// Stops waiting: no waker will choose this waiter from now on. Returns the token of the
    /// notification it got first, if one came.
    pub fn cancel(&self) -> Option<u64> {
        self.state.with(|state| match *state {
            WaiterState::Notified { token } => Some(token),
            WaiterState::Waiting | WaiterState::Cancelled => {
                *state = WaiterState::Cancelled;
                None
            }
        })
    }

    /// Parks the calling thread (the waiter's own) until it is notified or `deadline` passes.
    /// Must be called with every `Lock` released.
    pub fn wait(&self, deadline: Option<u64>) -> WaitOutcome {
        loop {
            let outcome = self.state.with(|state| match *state {
                WaiterState::Notified { token } => Some(WaitOutcome::Notified { token }),
                WaiterState::Cancelled => Some(WaitOutcome::TimedOut),
                // Cancelling under the waiter's lock decides the race with a waker: either the
                // waker notified first and the wait ends notified, or no waker will pick it.
                WaiterState::Waiting if has_passed::<B>(deadline) => {
                    *state = WaiterState::Cancelled;
                    Some(WaitOutcome::TimedOut)
                }
                WaiterState::Waiting => None,
            });
            if let Some(outcome) = outcome {
                return outcome;
            }
            B::park(deadline);
        }
    }

    fn is(&self, other: &Arc<Waiter<B>>) -> bool {
        core::ptr::eq(self, Arc::as_ptr(other))
    }
}

/// Waiters in the order they registered. Lives inside a primitive's locked state, so every
/// method runs in that lock's critical section.
pub struct WaitQueue<B: Blocking> {
    waiters: VecDeque<(Arc<Waiter<B>>, u64)>,
}

impl<B: Blocking> WaitQueue<B> {
    pub const fn new() -> Self {
        WaitQueue { waiters: VecDeque::new() }
    }

    /// Adds `waiter` at the back. `token` comes back in its `WaitOutcome` when this queue
    /// notifies it, and is what `wake_token` looks for.
    pub fn register(&mut self, waiter: &Arc<Waiter<B>>, token: u64) {
        self.waiters.push_back((Arc::clone(waiter), token));
    }

    /// Removes `waiter`'s registrations, if any are left.
    pub fn deregister(&mut self, waiter: &Arc<Waiter<B>>) {
        self.waiters.retain(|(registered, _)| !registered.is(waiter));
    }

    /// Notifies the longest-registered waiter that is still waiting, dropping those that left.
    /// Returns whether one was notified. Never blocks or allocates.
    pub fn wake_one(&mut self) -> bool {
        while let Some((waiter, token)) = self.waiters.pop_front() {
            if waiter.notify(token) {
                return true;
            }
        }
        false
    }

    /// Notifies every waiter still waiting and empties the queue. Returns how many it notified.
    pub fn wake_all(&mut self) -> usize {
        let mut notified = 0;
        while let Some((waiter, token)) = self.waiters.pop_front() {
            if waiter.notify(token) {
                notified += 1;
            }
        }
        notified
    }

    /// Notifies the longest-registered waiter registered with `token` that is still waiting,
    /// dropping those with that token that left. Returns whether one was notified.
    pub fn wake_token(&mut self, token: u64) -> bool {
        while let Some(position) =
            self.waiters.iter().position(|(_, registered)| *registered == token)
        {
            let (waiter, _) = self.waiters.remove(position).expect("position is in range");
            if waiter.notify(token) {
                return true;
            }
        }
        false
    }

    /// Registrations in the queue, counting waiters that have left but are not yet removed.
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }
}

impl<B: Blocking> Default for WaitQueue<B> {
    fn default() -> Self {
        Self::new()
    }
}

/// The deadline passed before the condition held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl core::fmt::Display for TimedOut {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter.write_str("the deadline passed before the wait was over")
    }
}

/// Waits until `ready` returns a value, the way a condition variable's `wait_while` does.
///
/// `ready` runs in a critical section of `lock` with the primitive's state: it either makes
/// progress (takes a message, claims a slot) and returns `Some`, or returns `None`, and then
/// the calling thread registers in the queue `queue` picks out of the state (with `token`), in
/// the same critical section, and parks. Whoever changes the state so that a waiter may go on
/// must wake that queue while holding `lock`.
///
/// A waiter woken by `wake_one` that finds `ready` still `None` (another thread got there
/// first) registers again at the back of the queue.
pub fn wait_until<B, S, R>(
    lock: &impl Lock<S>,
    queue: impl Fn(&mut S) -> &mut WaitQueue<B>,
    token: u64,
    ready: impl FnMut(&mut S) -> Option<R>,
) -> R
where
    B: Blocking,
{
    match wait_until_deadline(lock, queue, token, None, ready) {
        Ok(value) => value,
        Err(TimedOut) => unreachable!("a wait without a deadline never times out"),
    }
}

/// `wait_until` that gives up when `deadline` (if any) passes. `ready` gets one last look
/// then, so a state that changed just in time is still reported.
pub fn wait_until_deadline<B, S, R>(
    lock: &impl Lock<S>,
    queue: impl Fn(&mut S) -> &mut WaitQueue<B>,
    token: u64,
    deadline: Option<u64>,
    mut ready: impl FnMut(&mut S) -> Option<R>,
) -> Result<R, TimedOut>
where
    B: Blocking,
{
    // Made only if the thread has to wait, so the uncontended path does not allocate.
    let mut waiter: Option<Arc<Waiter<B>>> = None;
    loop {
        let checked = lock.with(|state| {
            if let Some(value) = ready(state) {
                return Some(Ok(value));
            }
            if has_passed::<B>(deadline) {
                return Some(Err(TimedOut));
            }
            let waiter = waiter.get_or_insert_with(Waiter::new);
            waiter.reset();
            queue(state).register(waiter, token);
            None
        });
        if let Some(result) = checked {
            return result;
        }
        let waiter = waiter.as_ref().expect("registered above");
        match waiter.wait(deadline) {
            // The waker removed the registration: the waiter is in no queue again.
            WaitOutcome::Notified { .. } => continue,
            WaitOutcome::TimedOut => {
                return lock.with(|state| {
                    queue(state).deregister(waiter);
                    ready(state).ok_or(TimedOut)
                });
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::std_blocking::{StdBlocking, StdLock};
    use std::sync::Arc;
    use std::thread;
    use std::time::Duration;

    struct Flag {
        set: bool,
        waiters: WaitQueue<StdBlocking>,
    }

    fn flag() -> Arc<StdLock<Flag>> {
        Arc::new(StdLock::new(Flag { set: false, waiters: WaitQueue::new() }))
    }

    fn wait_for_flag(flag: &StdLock<Flag>, deadline: Option<u64>) -> Result<(), TimedOut> {
        wait_until_deadline::<StdBlocking, _, _>(
            flag,
            |flag| &mut flag.waiters,
            0,
            deadline,
            |flag| flag.set.then_some(()),
        )
    }

    #[test]
    fn a_condition_that_already_holds_returns_at_once_without_registering() {
        let flag = flag();
        flag.with(|flag| flag.set = true);
        assert_eq!(wait_for_flag(&flag, None), Ok(()));
        assert!(flag.with(|flag| flag.waiters.is_empty()));
    }

    #[test]
    fn a_waiter_is_woken_when_the_condition_changes() {
        let flag = flag();
        let waiting = {
            let flag = Arc::clone(&flag);
            thread::spawn(move || wait_for_flag(&flag, None))
        };
        while flag.with(|flag| flag.waiters.is_empty()) {
            thread::yield_now();
        }
        flag.with(|flag| {
            flag.set = true;
            assert!(flag.waiters.wake_one());
        });
        assert_eq!(waiting.join().unwrap(), Ok(()));
    }

    #[test]
    fn a_deadline_ends_the_wait_no_earlier_than_asked_and_leaves_the_queue_clean() {
        let flag = flag();
        let start = StdBlocking::now();
        let deadline = start + 20_000;
        assert_eq!(wait_for_flag(&flag, Some(deadline)), Err(TimedOut));
        assert!(StdBlocking::now() >= deadline);
        assert!(flag.with(|flag| flag.waiters.is_empty()));
    }

    #[test]
    fn a_condition_that_holds_at_the_deadline_is_still_reported() {
        let flag = flag();
        flag.with(|flag| flag.set = true);
        assert_eq!(wait_for_flag(&flag, Some(0)), Ok(()));
    }

    #[test]
    fn wake_one_skips_waiters_that_were_cancelled_or_already_notified() {
        let mut queue = WaitQueue::<StdBlocking>::new();
        let cancelled = Waiter::<StdBlocking>::new();
        let notified = Waiter::<StdBlocking>::new();
        let waiting = Waiter::<StdBlocking>::new();
        queue.register(&cancelled, 1);
        queue.register(&notified, 2);
        queue.register(&waiting, 3);
        assert_eq!(cancelled.cancel(), None);
        assert!(notified.notify(9));
        assert!(queue.wake_one());
        assert_eq!(waiting.wait(None), WaitOutcome::Notified { token: 3 });
        assert_eq!(notified.cancel(), Some(9));
        assert!(queue.is_empty());
        assert!(!queue.wake_one());
    }

    #[test]
    fn wake_all_notifies_every_waiter_and_wake_token_only_its_own() {
        let mut queue = WaitQueue::<StdBlocking>::new();
        let waiters: Vec<_> = (0..3).map(|_| Waiter::<StdBlocking>::new()).collect();
        for (token, waiter) in waiters.iter().enumerate() {
            queue.register(waiter, token as u64);
        }
        assert!(queue.wake_token(1));
        assert!(!queue.wake_token(1));
        assert_eq!(waiters[1].wait(None), WaitOutcome::Notified { token: 1 });
        assert_eq!(queue.wake_all(), 2);
        assert_eq!(waiters[0].wait(None), WaitOutcome::Notified { token: 0 });
        assert_eq!(waiters[2].wait(None), WaitOutcome::Notified { token: 2 });
        assert!(queue.is_empty());
    }

    #[test]
    fn deregister_removes_only_that_waiter() {
        let mut queue = WaitQueue::<StdBlocking>::new();
        let first = Waiter::<StdBlocking>::new();
        let second = Waiter::<StdBlocking>::new();
        queue.register(&first, 0);
        queue.register(&second, 0);
        queue.deregister(&first);
        assert_eq!(queue.len(), 1);
        assert!(queue.wake_one());
        assert_eq!(second.wait(Some(0)), WaitOutcome::Notified { token: 0 });
        assert_eq!(first.wait(Some(0)), WaitOutcome::TimedOut);
    }

    #[test]
    fn many_threads_waiting_for_a_counter_all_finish() {
        struct Counter {
            value: u32,
            waiters: WaitQueue<StdBlocking>,
        }
        let counter = Arc::new(StdLock::new(Counter { value: 0, waiters: WaitQueue::new() }));
        let threads: Vec<_> = (1..=8u32)
            .map(|target| {
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    wait_until::<StdBlocking, _, _>(
                        &*counter,
                        |counter| &mut counter.waiters,
                        0,
                        |counter| (counter.value >= target * 100).then_some(counter.value),
                    )
                })
            })
            .collect();
        for _ in 0..800 {
            counter.with(|counter| {
                counter.value += 1;
                counter.waiters.wake_all();
            });
            if counter.with(|counter| counter.value) % 100 == 0 {
                thread::sleep(Duration::from_micros(50));
            }
        }
        for (index, thread) in threads.into_iter().enumerate() {
            let seen = thread.join().unwrap();
            assert!(seen >= (index as u32 + 1) * 100);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::sync::loom_blocking::{LoomBlocking, LoomLock, advance_clock, model};
    use loom::thread;

    struct Flag {
        set: bool,
        waiters: WaitQueue<LoomBlocking>,
    }

    fn flag() -> Arc<LoomLock<Flag>> {
        Arc::new(LoomLock::new(Flag { set: false, waiters: WaitQueue::new() }))
    }

    fn set(flag: &LoomLock<Flag>) {
        flag.with(|flag| {
            flag.set = true;
            flag.waiters.wake_one();
        });
    }

    #[test]
    fn a_wake_up_between_the_check_and_the_park_is_not_lost() {
        model(|| {
            let flag = flag();
            let setting = {
                let flag = Arc::clone(&flag);
                thread::spawn(move || set(&flag))
            };
            wait_until::<LoomBlocking, _, _>(
                &*flag,
                |flag| &mut flag.waiters,
                0,
                |flag| flag.set.then_some(()),
            );
            setting.join().unwrap();
        });
    }

    #[test]
    fn a_timeout_racing_a_wake_up_loses_neither_the_token_nor_the_other_waiter() {
        // A token counter: `patient` waits for a token without a deadline, the main thread
        // with one, which the setter lets pass before adding a token. Whether the main thread
        // takes that token (before its deadline or in its last look) or not, and whichever
        // of the two the wake-up reaches, `patient` must end up with a token.
        struct Tokens {
            count: u32,
            waiters: WaitQueue<LoomBlocking>,
        }
        fn add_token(tokens: &LoomLock<Tokens>) {
            tokens.with(|tokens| {
                tokens.count += 1;
                tokens.waiters.wake_one();
            });
        }
        fn take_token(tokens: &mut Tokens) -> Option<()> {
            (tokens.count > 0).then(|| tokens.count -= 1)
        }
        model(|| {
            let tokens = Arc::new(LoomLock::new(Tokens { count: 0, waiters: WaitQueue::new() }));
            let patient = {
                let tokens = Arc::clone(&tokens);
                thread::spawn(move || {
                    wait_until::<LoomBlocking, _, _>(
                        &*tokens,
                        |tokens| &mut tokens.waiters,
                        0,
                        take_token,
                    )
                })
            };
            let setter = {
                let tokens = Arc::clone(&tokens);
                thread::spawn(move || {
                    advance_clock(1);
                    add_token(&tokens);
                })
            };
            let took = wait_until_deadline::<LoomBlocking, _, _>(
                &*tokens,
                |tokens| &mut tokens.waiters,
                0,
                Some(1),
                take_token,
            );
            if took.is_ok() {
                add_token(&tokens);
            }
            patient.join().unwrap();
            setter.join().unwrap();
        });
    }
}
