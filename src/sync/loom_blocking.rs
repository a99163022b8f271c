//! The blocking seam under `loom`'s model checker (`make test-loom`): loom's mutex and
//! parking, and a model clock that moves only when a model says so.
//!
//! Each thread parks on a `loom::sync::Notify` of its own, which keeps one permit as `park`
//! does and also returns spuriously in some of the runs loom explores. (Loom's own
//! `thread::park` would not do: an unpark that reaches a thread after it stopped waiting on
//! us, which the protocol allows, would wake it from loom's `join`.)
//!
//! Loom has no time: a deadline passes when a model thread calls `advance_clock`, which wakes
//! the threads parked until then. A model therefore says explicitly when a timeout may happen,
//! and loom tries that moment at every point of the other threads' work.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use loom::sync::{Mutex, Notify};

use super::blocking::{Blocking, Lock};

/// Threads are loom's threads; each model runs in `model`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoomBlocking;

struct ModelClock {
    now_microseconds: u64,
    /// Threads parked with a deadline, woken by `advance_clock` once it has passed.
    sleepers: Vec<(u64, Arc<Notify>)>,
}

loom::lazy_static! {
    static ref CLOCK: Mutex<ModelClock> =
        Mutex::new(ModelClock { now_microseconds: 0, sleepers: Vec::new() });
}

loom::thread_local! {
    static PARKER: Arc<Notify> = Arc::new(Notify::new());
}

fn clock<R>(body: impl FnOnce(&mut ModelClock) -> R) -> R {
    body(&mut CLOCK.lock().expect("the model clock is never poisoned"))
}

/// Moves the model clock forward and wakes every thread whose deadline has now passed.
pub fn advance_clock(microseconds: u64) {
    clock(|clock| {
        clock.now_microseconds += microseconds;
        let now = clock.now_microseconds;
        clock.sleepers.retain(|(deadline, thread)| {
            let passed = *deadline <= now;
            if passed {
                thread.notify();
            }
            !passed
        });
    });
}

impl Blocking for LoomBlocking {
    type Thread = Arc<Notify>;
    type Lock<T: Send> = LoomLock<T>;

    fn current() -> Self::Thread {
        PARKER.with(Arc::clone)
    }

    fn park(deadline: Option<u64>) {
        if let Some(deadline) = deadline {
            // Registering and checking under the clock's lock means an `advance_clock` after
            // the check finds this thread and leaves it a permit.
            let passed = clock(|clock| {
                let passed = clock.now_microseconds >= deadline;
                if !passed {
                    clock.sleepers.push((deadline, Self::current()));
                }
                passed
            });
            if passed {
                return;
            }
        }
        PARKER.with(|parker| parker.wait());
    }

    fn unpark(thread: &Self::Thread) {
        thread.notify();
    }

    fn now() -> u64 {
        clock(|clock| clock.now_microseconds)
    }
}

/// Loom's mutex used through the `Lock` trait.
#[derive(Debug)]
pub struct LoomLock<T>(Mutex<T>);

impl<T: Send> Lock<T> for LoomLock<T> {
    fn new(value: T) -> Self {
        LoomLock(Mutex::new(value))
    }

    fn with<R>(&self, body: impl FnOnce(&mut T) -> R) -> R {
        body(&mut self.0.lock().expect("a model that panicked has already failed"))
    }
}

/// Runs `model` under every interleaving loom explores, with at most three preemptions per run
/// unless `LOOM_MAX_PREEMPTIONS` says otherwise (more makes the search grow steeply).
pub fn model(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(model);
}
