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
    use crate::sync::spin_lock::SpinLock;
    use crate::time::uptime_microseconds;

    /// What a joined thread left behind.
    struct JoinState<T> {
        result: Option<T>,
        finished: bool,
        joiner: Option<ThreadId>,
    }

    /// Owns a thread's result: `join` waits for the thread and returns what its closure did.
    pub struct JoinHandle<T> {
        thread: ThreadId,
        state: Arc<SpinLock<JoinState<T>>>,
    }

    impl<T> JoinHandle<T> {
        /// The thread's number, as `ps` shows it.
        pub fn number(&self) -> u32 {
            self.thread.number()
        }

        /// Blocks until the thread has finished, and returns its closure's value.
        pub fn join(self) -> T {
            loop {
                {
                    let mut state = self.state.lock();
                    if state.finished {
                        return state.result.take().expect("a finished thread left its result");
                    }
                    state.joiner = Some(scheduler::current_id());
                }
                scheduler::park(None);
            }
        }

        /// Whether the thread has finished.
        pub fn is_finished(&self) -> bool {
            self.state.lock().finished
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
        let state =
            Arc::new(SpinLock::new(JoinState { result: None, finished: false, joiner: None }));
        let thread_state = Arc::clone(&state);
        let thread = scheduler::spawn_boxed(
            name,
            priority,
            Box::new(move || {
                let value = body();
                let joiner = {
                    let mut state = thread_state.lock();
                    state.result = Some(value);
                    state.finished = true;
                    state.joiner.take()
                };
                drop(thread_state);
                if let Some(joiner) = joiner {
                    scheduler::unpark(joiner);
                }
            }),
        )?;
        Ok(JoinHandle { thread, state })
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
