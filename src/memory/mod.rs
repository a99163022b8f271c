//! Memory management: physical frames and page-table entries (portable), and in the kernel
//! the bring-up of paging and the heap built on them.

pub mod frame_allocator;
pub mod page_table;
pub mod workload;

#[cfg(not(test))]
pub mod benchmark;
#[cfg(not(test))]
pub mod heap;
#[cfg(not(test))]
pub mod setup;
