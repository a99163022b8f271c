//! Kernel threads: `spawn` a closure on its own guarded stack and `join` its result; `sleep`,
//! `yield_now` and `current`; a preemptive round-robin scheduler in two priorities.
//!
//! The run-queue rules are portable and host-tested; the scheduler, stacks and switch exist
//! only on the machine.

pub mod run_queue;
#[cfg(target_os = "none")]
pub mod scheduler;
#[cfg(target_os = "none")]
pub mod stack;

pub use run_queue::Priority;

#[cfg(target_os = "none")]
pub use kernel::*;

#[cfg(target_os = "none")]
mod kernel {
    use alloc::boxed::Box;
    use alloc::sync::Arc;

    use super::Priority;
    use super::scheduler::{self, SpawnError, ThreadId};
    use crate::sync::blocking::Blocking;
    use crate::sync::channel;
    use crate::sync::spin_lock::SpinLock;
    use crate::time::uptime_microseconds;

    /// Owns a thread's result: `join` waits until the thread is gone (its stack freed) and
    /// returns what its closure did.
    pub struct JoinHandle<T> {
        thread: ThreadId,
        result: Arc<SpinLock<Option<T>>>,
    }

    impl<T> JoinHandle<T> {
        /// The thread's number, as `ps` shows it.
        pub fn number(&self) -> u32 {
            self.thread.number()
        }

        /// Blocks until the thread has exited and its memory is freed, and returns its
        /// closure's value.
        pub fn join(self) -> T {
            while scheduler::watch_exit(self.thread, scheduler::current_id()) {
                scheduler::park(None);
            }
            self.result.lock().take().expect("a thread that is gone left its result")
        }
    }

    /// Starts a thread named `name` at normal priority that runs `body`; its value comes back
    /// from `join`. Dropping the handle lets the thread run on, detached.
    pub fn spawn<T: Send + 'static>(
        name: &'static str,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> Result<JoinHandle<T>, SpawnError> {
        spawn_with_priority(name, Priority::Normal, body)
    }

    /// `spawn`, at the given priority.
    pub fn spawn_with_priority<T: Send + 'static>(
        name: &'static str,
        priority: Priority,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> Result<JoinHandle<T>, SpawnError> {
        let result = Arc::new(SpinLock::new(None));
        let thread_result = Arc::clone(&result);
        let thread = scheduler::spawn_boxed(
            name,
            priority,
            Box::new(move || {
                let value = body();
                *thread_result.lock() = Some(value);
            }),
        )?;
        Ok(JoinHandle { thread, result })
    }

    /// The kernel's threads behind the seam of `sync`'s blocking primitives: park and unpark
    /// are the scheduler's, the primitives' short sections use the interrupt-safe spin lock.
    pub struct KernelThreads;

    impl Blocking for KernelThreads {
        type Thread = ThreadId;
        type Lock<T: Send> = SpinLock<T>;

        fn current() -> ThreadId {
            scheduler::current_id()
        }

        fn park(deadline: Option<u64>) {
            scheduler::park(deadline);
        }

        fn unpark(thread: &ThreadId) {
            scheduler::unpark(*thread);
        }

        fn now() -> u64 {
            uptime_microseconds()
        }
    }

    /// A channel between kernel threads (see `sync::channel`).
    pub type Sender<T> = channel::Sender<T, KernelThreads>;
    pub type Receiver<T> = channel::Receiver<T, KernelThreads>;
    /// A sleeping mutex: waiters block and are handed the lock in order.
    pub type Mutex<T> = crate::sync::mutex::Mutex<T, KernelThreads>;
    /// Waits for the first of several receivers, as Go's `select`.
    pub type Select<'a, R> = crate::sync::select::Select<'a, R, KernelThreads>;

    /// A bounded channel of `capacity` messages between kernel threads; capacity 0 makes a
    /// rendezvous (a send returns once a receiver has the message).
    pub fn channel<T: Send>(capacity: usize) -> (Sender<T>, Receiver<T>) {
        channel::channel(capacity)
    }

    /// Blocks the running thread for at least `milliseconds`.
    pub fn sleep_milliseconds(milliseconds: u64) {
        let deadline = uptime_microseconds() + milliseconds * 1000;
        while uptime_microseconds() < deadline {
            scheduler::park(Some(deadline));
        }
    }

    pub use scheduler::{
        CurrentThread, SpawnError as Error, ThreadState, ThreadSummary, current_id, current_thread,
        request_stop, stop_requested, threads, yield_now,
    };
}
