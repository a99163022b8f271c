//! A sleeping mutex for long holds: a thread that finds it locked parks until the holder hands
//! the lock over, in the order the waiters came (so none starves).
//!
//! The value lives in the primitive's short lock while nobody holds the mutex; `lock` moves it
//! out into the guard and dropping the guard moves it back. So the mutex needs no `unsafe`,
//! at the price of moving the value twice per hold (box a large value).
#![forbid(unsafe_code)]

use core::fmt;
use core::ops::{Deref, DerefMut};

use super::blocking::{Blocking, Lock};
use super::wait_queue::{WaitOutcome, WaitQueue, Waiter};

struct State<T, B: Blocking> {
    /// `None` while a guard holds the value.
    value: Option<T>,
    /// True from `lock` until the last holder leaves with nobody waiting; a hand-off keeps it
    /// true, so no newcomer can take the lock from the waiter it was handed to.
    locked: bool,
    waiters: WaitQueue<B>,
}

/// Mutual exclusion that parks waiters instead of spinning. Never lock it in an interrupt
/// handler; `try_lock` does not block.
pub struct Mutex<T: Send, B: Blocking> {
    state: B::Lock<State<T, B>>,
}

/// The mutex was locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WouldBlock;

impl fmt::Display for WouldBlock {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("the mutex is held by another thread")
    }
}

impl<T: Send, B: Blocking> Mutex<T, B> {
    pub fn new(value: T) -> Self {
        Mutex {
            state: B::Lock::new(State {
                value: Some(value),
                locked: false,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// Locks the mutex, parking until it is free. Waiters get the lock in the order they came:
    /// the holder hands it to the first one when it unlocks.
    pub fn lock(&self) -> MutexGuard<'_, T, B> {
        let claimed = self.state.with(|state| {
            if !state.locked {
                state.locked = true;
                return Ok(state.value.take());
            }
            let waiter = Waiter::new();
            state.waiters.register(&waiter, 0);
            Err(waiter)
        });
        let waiter = match claimed {
            Ok(value) => return self.guard(value),
            Err(waiter) => waiter,
        };
        // Only the hand-off notifies a mutex waiter, and that notification is the lock.
        let WaitOutcome::Notified { .. } = waiter.wait(None) else {
            unreachable!("a wait without a deadline ends only when notified");
        };
        let value = self.state.with(|state| state.value.take());
        self.guard(value)
    }

    /// Locks the mutex if it is free. Never blocks.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T, B>, WouldBlock> {
        let value = self.state.with(|state| {
            if state.locked {
                return Err(WouldBlock);
            }
            state.locked = true;
            Ok(state.value.take())
        })?;
        Ok(self.guard(value))
    }

    /// The value, when nobody else can hold the mutex.
    pub fn into_inner(self) -> T {
        // A guard borrows the mutex, so none is alive and the value is home.
        self.state.with(|state| state.value.take()).expect("no guard outlives the mutex")
    }

    fn guard(&self, value: Option<T>) -> MutexGuard<'_, T, B> {
        MutexGuard { mutex: self, value: Some(value.expect("an unlocked mutex holds its value")) }
    }

    fn unlock(&self, value: T) {
        self.state.with(|state| {
            state.value = Some(value);
            if !state.waiters.wake_one() {
                state.locked = false;
            }
        });
    }
}

impl<T: Send + Default, B: Blocking> Default for Mutex<T, B> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: Send, B: Blocking> fmt::Debug for Mutex<T, B> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let locked = self.state.with(|state| state.locked);
        formatter.debug_struct("Mutex").field("locked", &locked).finish_non_exhaustive()
    }
}

/// Holds the mutex and its value; dropping it unlocks (handing over to the next waiter).
pub struct MutexGuard<'a, T: Send, B: Blocking> {
    mutex: &'a Mutex<T, B>,
    /// `Some` until the drop moves it back.
    value: Option<T>,
}

impl<T: Send, B: Blocking> Deref for MutexGuard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_ref().expect("a guard holds the value until dropped")
    }
}

impl<T: Send, B: Blocking> DerefMut for MutexGuard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("a guard holds the value until dropped")
    }
}

impl<T: Send, B: Blocking> Drop for MutexGuard<'_, T, B> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.mutex.unlock(value);
        }
    }
}

impl<T: Send + fmt::Debug, B: Blocking> fmt::Debug for MutexGuard<'_, T, B> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, formatter)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::std_blocking::StdBlocking;
    use std::sync::Arc;
    use std::thread;

    type StdMutex<T> = Mutex<T, StdBlocking>;

    fn waiting<T: Send>(mutex: &StdMutex<T>) -> usize {
        mutex.state.with(|state| state.waiters.len())
    }

    #[test]
    fn a_guard_gives_the_value_and_unlocking_puts_it_back() {
        let mutex = StdMutex::new(vec![1, 2]);
        mutex.lock().push(3);
        assert_eq!(*mutex.lock(), [1, 2, 3]);
        assert_eq!(mutex.into_inner(), [1, 2, 3]);
    }

    #[test]
    fn try_lock_fails_while_held_and_succeeds_after() {
        let mutex = StdMutex::new(0);
        let guard = mutex.lock();
        assert_eq!(mutex.try_lock().err(), Some(WouldBlock));
        drop(guard);
        *mutex.try_lock().unwrap() += 1;
        assert_eq!(*mutex.lock(), 1);
    }

    #[test]
    fn eight_threads_incrementing_lose_no_update() {
        let mutex = Arc::new(StdMutex::new(0u32));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let mutex = Arc::clone(&mutex);
                thread::spawn(move || {
                    for _ in 0..5_000 {
                        let mut guard = mutex.lock();
                        let value = *guard;
                        thread::yield_now();
                        *guard = value + 1;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*mutex.lock(), 40_000);
    }

    #[test]
    fn waiters_get_the_lock_in_the_order_they_came() {
        let mutex = Arc::new(StdMutex::new(Vec::new()));
        let guard = mutex.lock();
        let mut threads = Vec::new();
        for index in 0..5 {
            let shared = Arc::clone(&mutex);
            threads.push(thread::spawn(move || shared.lock().push(index)));
            while waiting(&mutex) <= index {
                thread::yield_now();
            }
        }
        // A newcomer while the lock is being handed over must queue behind the waiters.
        drop(guard);
        mutex.lock().push(99);
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*mutex.lock(), [0, 1, 2, 3, 4, 99]);
    }

    #[test]
    fn a_hand_off_keeps_the_mutex_locked_for_the_waiter() {
        let mutex = Arc::new(StdMutex::new(0));
        let guard = mutex.lock();
        let waiter = {
            let mutex = Arc::clone(&mutex);
            thread::spawn(move || *mutex.lock() += 1)
        };
        while waiting(&mutex) == 0 {
            thread::yield_now();
        }
        drop(guard);
        // Until the woken waiter has run and unlocked, nobody else gets in.
        if let Ok(guard) = mutex.try_lock() {
            assert_eq!(*guard, 1, "try_lock got in before the waiter the lock was handed to");
        }
        waiter.join().unwrap();
        assert_eq!(*mutex.lock(), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::sync::loom_blocking::{LoomBlocking, model};
    use alloc::sync::Arc;
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::thread;

    #[test]
    fn two_threads_incrementing_lose_no_update() {
        model(|| {
            let mutex = Arc::new(Mutex::<u32, LoomBlocking>::new(0));
            let other = {
                let mutex = Arc::clone(&mutex);
                thread::spawn(move || *mutex.lock() += 1)
            };
            *mutex.lock() += 1;
            other.join().unwrap();
            assert_eq!(*mutex.lock(), 2);
        });
    }

    #[test]
    fn lock_and_try_lock_never_let_two_threads_in() {
        fn critical_section(guard: &mut u32, inside: &AtomicBool) {
            assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
            *guard += 1;
            inside.store(false, Ordering::SeqCst);
        }
        model(|| {
            let mutex = Arc::new(Mutex::<u32, LoomBlocking>::new(0));
            let inside = Arc::new(AtomicBool::new(false));
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let mutex = Arc::clone(&mutex);
                    let inside = Arc::clone(&inside);
                    thread::spawn(move || critical_section(&mut mutex.lock(), &inside))
                })
                .collect();
            let mut expected = 2;
            if let Ok(mut guard) = mutex.try_lock() {
                critical_section(&mut guard, &inside);
                expected += 1;
            }
            for thread in threads {
                thread.join().unwrap();
            }
            assert_eq!(*mutex.lock(), expected);
        });
    }
}
