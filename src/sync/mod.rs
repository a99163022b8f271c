//! Sharing data between the kernel's flows of control: lock-free queues that interrupt
//! handlers fill.

pub mod spsc_queue;
