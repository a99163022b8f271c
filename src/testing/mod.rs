//! Code that exercises the kernel rather than serving its users: the allocator workload and, in
//! the bench image only (`build/kernel-bench.elf`), the in-kernel test suite (`test` on the
//! command line) and the benchmark (`bench`).

pub mod random;
pub mod workload;

#[cfg(all(target_os = "none", feature = "in-kernel-tests"))]
pub mod in_kernel;
#[cfg(all(target_os = "none", feature = "in-kernel-tests"))]
pub mod thread_tests;

#[cfg(all(target_os = "none", feature = "bench"))]
pub mod allocator_benchmark;
#[cfg(all(target_os = "none", feature = "bench"))]
pub mod benchmark;
