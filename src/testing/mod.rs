//! Code that exercises the kernel rather than serving its users: the allocator workload, the
//! in-kernel test suite (`test` on the command line) and, in bench images only, the benchmark.

pub mod random;
pub mod workload;

#[cfg(target_os = "none")]
pub mod in_kernel;
#[cfg(target_os = "none")]
pub mod thread_tests;

#[cfg(all(target_os = "none", feature = "bench"))]
pub mod allocator_benchmark;
#[cfg(all(target_os = "none", feature = "bench"))]
pub mod benchmark;
