//! Sharing data between the kernel's flows of control: the interrupt-safe spin lock, and
//! lock-free queues that interrupt handlers fill.

pub mod spin_lock;
pub mod spsc_queue;
