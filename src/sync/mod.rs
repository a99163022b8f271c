//! Sharing data between the kernel's flows of control: the interrupt-safe spin lock, lock-free
//! queues that interrupt handlers fill, and blocking primitives (wait queues, a sleeping mutex,
//! channels, select) written once against the `Blocking` seam, which the kernel's scheduler,
//! the host's threads and `loom`'s model checker each implement.

pub mod blocking;
pub mod channel;
pub mod mutex;
pub mod select;
pub mod spin_lock;
pub mod spsc_queue;
pub mod wait_queue;

#[cfg(all(not(target_os = "none"), not(loom)))]
pub mod std_blocking;

// loom is a dev-dependency: the model checker exists only in test builds.
#[cfg(all(test, loom))]
pub mod loom_blocking;
