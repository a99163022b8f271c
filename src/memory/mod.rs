//! Memory management: physical frames (portable), and in the kernel the bring-up of paging
//! and the heap built on them.

pub mod frame_allocator;

#[cfg(target_os = "none")]
pub mod heap;
#[cfg(target_os = "none")]
pub mod setup;
