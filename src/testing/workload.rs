//! A seeded allocate/free/reallocate workload that checks every block it holds: the kernel's
//! heap stress test and the allocator benchmark both run it.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::ptr::NonNull;

use super::random::Xorshift64;

/// An allocator the workload can drive.
pub trait BlockAllocator {
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>>;
    /// # Safety
    /// `pointer` must come from this allocator with `layout`, and not be freed yet.
    unsafe fn deallocate(&mut self, pointer: NonNull<u8>, layout: Layout);
    /// Moves a block to a new size, keeping its first bytes; `None` leaves it where it was.
    ///
    /// # Safety
    /// As for `deallocate`.
    unsafe fn reallocate(
        &mut self,
        pointer: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Option<NonNull<u8>> {
        let new_layout = Layout::from_size_align(new_size, layout.align()).ok()?;
        let new_pointer = self.allocate(new_layout)?;
        let length = layout.size().min(new_size);
        // SAFETY: both blocks are live; the copy stays within the smaller one (`copy` also copes
        // with a faulty allocator handing out overlapping blocks, which `verify` then reports).
        unsafe { core::ptr::copy(pointer.as_ptr(), new_pointer.as_ptr(), length) };
        // SAFETY: forwarded from the caller: the old block came from this allocator.
        unsafe { self.deallocate(pointer, layout) };
        Some(new_pointer)
    }
}

/// The mix of requests.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadShape {
    pub operations: u32,
    pub maximum_live_blocks: usize,
    /// Small requests: 1..=this many bytes.
    pub small_size_limit: usize,
    /// One request in this many is large: up to `large_size_limit` bytes.
    pub large_every: u32,
    pub large_size_limit: usize,
    /// The largest alignment asked for (a power of two).
    pub maximum_alignment: usize,
}

/// The stress test's shape: mixed sizes up to 16 KiB and alignments up to 4 KiB.
pub const STRESS_SHAPE: WorkloadShape = WorkloadShape {
    operations: 100_000,
    maximum_live_blocks: 1000,
    small_size_limit: 256,
    large_every: 16,
    large_size_limit: 16 * 1024,
    maximum_alignment: 4096,
};

/// The benchmark's shape: mixed small allocations.
pub const BENCHMARK_SHAPE: WorkloadShape = WorkloadShape {
    operations: 100_000,
    maximum_live_blocks: 2000,
    small_size_limit: 512,
    large_every: 0,
    large_size_limit: 0,
    maximum_alignment: 16,
};

/// What a run did and found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkloadReport {
    pub allocations: u32,
    pub frees: u32,
    pub reallocations: u32,
    /// Requests the allocator could not meet.
    pub failures: u32,
    /// The most bytes requested by live blocks at once.
    pub peak_live_bytes: usize,
}

/// What went wrong in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadError {
    Misaligned { address: usize, align: usize },
    Corrupted { address: usize },
}

struct Block {
    pointer: NonNull<u8>,
    layout: Layout,
    pattern: u8,
}

fn fill(block: &Block) {
    // SAFETY: the block is live and `layout.size()` bytes long.
    unsafe { core::ptr::write_bytes(block.pointer.as_ptr(), block.pattern, block.layout.size()) };
}

fn verify(block: &Block, length: usize) -> Result<(), WorkloadError> {
    // SAFETY: the block is live and at least `length` bytes long.
    let bytes = unsafe { core::slice::from_raw_parts(block.pointer.as_ptr(), length) };
    match bytes.iter().all(|&byte| byte == block.pattern) {
        true => Ok(()),
        false => Err(WorkloadError::Corrupted { address: block.pointer.as_ptr() as usize }),
    }
}

fn check_alignment(pointer: NonNull<u8>, align: usize) -> Result<(), WorkloadError> {
    let address = pointer.as_ptr() as usize;
    if address.is_multiple_of(align) {
        Ok(())
    } else {
        Err(WorkloadError::Misaligned { address, align })
    }
}

fn random_layout(random: &mut Xorshift64, shape: &WorkloadShape) -> Layout {
    let large = shape.large_every != 0 && random.below(shape.large_every as usize) == 0;
    let size = if large {
        1 + random.below(shape.large_size_limit)
    } else {
        1 + random.below(shape.small_size_limit)
    };
    // Alignments as kernel code asks for them: nine in ten natural (1-16 bytes), one in eleven
    // 32-256 bytes (cache lines, DMA descriptors), one in a hundred 512 bytes to a page.
    let ceiling = shape.maximum_alignment.trailing_zeros() as usize;
    let exponent = match random.below(100) {
        0 => 9 + random.below(4),
        1..=9 => 5 + random.below(4),
        _ => random.below(5),
    }
    .min(ceiling);
    Layout::from_size_align(size, 1 << exponent).unwrap_or(Layout::new::<u8>())
}

/// Whether a run writes and checks every block's contents (the stress test) or only drives
/// the allocator (the benchmark, which times the allocator and not the checking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentChecks {
    On,
    Off,
}

/// Runs `shape` with `seed` against `allocator`, checking alignment on every allocation and,
/// with `ContentChecks::On`, contents before every free and after every reallocation. Frees
/// everything at the end. `blocks` is the bookkeeping, passed in so its own allocation stays
/// outside any timing.
pub fn run_workload(
    allocator: &mut impl BlockAllocator,
    shape: &WorkloadShape,
    seed: u64,
    checks: ContentChecks,
    blocks: &mut Vec<BlockSlot>,
) -> Result<WorkloadReport, WorkloadError> {
    let fill = |block: &Block| {
        if checks == ContentChecks::On {
            fill(block);
        }
    };
    let verify = |block: &Block, length: usize| match checks {
        ContentChecks::On => verify(block, length),
        ContentChecks::Off => Ok(()),
    };
    let mut random = Xorshift64::new(seed);
    let mut report = WorkloadReport::default();
    let mut live_bytes = 0;
    blocks.clear();
    let mut pattern = 0u8;
    for _ in 0..shape.operations {
        let choice = random.below(10);
        if blocks.is_empty() || (choice < 5 && blocks.len() < shape.maximum_live_blocks) {
            let layout = random_layout(&mut random, shape);
            let Some(pointer) = allocator.allocate(layout) else {
                report.failures += 1;
                continue;
            };
            check_alignment(pointer, layout.align())?;
            pattern = pattern.wrapping_add(1);
            let block = Block { pointer, layout, pattern };
            fill(&block);
            blocks.push(BlockSlot(block));
            live_bytes += layout.size();
            report.allocations += 1;
        } else if choice < 8 {
            let BlockSlot(block) = blocks.swap_remove(random.below(blocks.len()));
            verify(&block, block.layout.size())?;
            live_bytes -= block.layout.size();
            // SAFETY: the block came from this allocator with this layout and is freed once.
            unsafe { allocator.deallocate(block.pointer, block.layout) };
            report.frees += 1;
        } else {
            let index = random.below(blocks.len());
            let new_size = random_layout(&mut random, shape).size();
            let block = &mut blocks[index].0;
            // SAFETY: the block is live and came from this allocator with this layout.
            match unsafe { allocator.reallocate(block.pointer, block.layout, new_size) } {
                Some(pointer) => {
                    check_alignment(pointer, block.layout.align())?;
                    block.pointer = pointer;
                    verify(block, block.layout.size().min(new_size))?;
                    live_bytes = live_bytes - block.layout.size() + new_size;
                    block.layout = Layout::from_size_align(new_size, block.layout.align())
                        .unwrap_or(block.layout);
                    fill(block);
                    report.reallocations += 1;
                }
                None => report.failures += 1,
            }
        }
        report.peak_live_bytes = report.peak_live_bytes.max(live_bytes);
    }
    for BlockSlot(block) in blocks.drain(..) {
        verify(&block, block.layout.size())?;
        // SAFETY: each remaining block is live and freed once.
        unsafe { allocator.deallocate(block.pointer, block.layout) };
    }
    Ok(report)
}

/// A live block in the workload's bookkeeping.
pub struct BlockSlot(Block);

/// The global allocator, as a `BlockAllocator`.
pub struct GlobalHeap;

impl BlockAllocator for GlobalHeap {
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        // SAFETY: every layout the workload makes has a non-zero size.
        NonNull::new(unsafe { alloc::alloc::alloc(layout) })
    }

    unsafe fn deallocate(&mut self, pointer: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { alloc::alloc::dealloc(pointer.as_ptr(), layout) }
    }

    unsafe fn reallocate(
        &mut self,
        pointer: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Option<NonNull<u8>> {
        // SAFETY: forwarded from the caller; `new_size` is non-zero.
        NonNull::new(unsafe { alloc::alloc::realloc(pointer.as_ptr(), layout, new_size) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stress_workload_runs_cleanly_on_the_host_allocator() {
        let mut blocks = Vec::with_capacity(STRESS_SHAPE.maximum_live_blocks);
        let report =
            run_workload(&mut GlobalHeap, &STRESS_SHAPE, 42, ContentChecks::On, &mut blocks)
                .unwrap();
        assert_eq!(report.failures, 0);
        assert_eq!(
            report.allocations + report.frees + report.reallocations,
            STRESS_SHAPE.operations
        );
        assert!(report.reallocations > 10_000 && report.allocations > 40_000, "{report:?}");
        assert!(blocks.is_empty());
    }

    /// Hands out blocks from a bump region, optionally one byte off their alignment.
    struct FaultyAllocator {
        memory: Vec<u64>,
        used: usize,
        misalign: bool,
    }

    impl BlockAllocator for FaultyAllocator {
        fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
            let base = self.memory.as_mut_ptr() as usize;
            let start =
                (base + self.used).next_multiple_of(layout.align()) + usize::from(self.misalign);
            self.used = start + layout.size() - base;
            NonNull::new(start as *mut u8)
        }

        unsafe fn deallocate(&mut self, _pointer: NonNull<u8>, _layout: Layout) {}
    }

    #[test]
    fn misaligned_blocks_are_caught() {
        let mut allocator =
            FaultyAllocator { memory: std::vec![0; 1 << 20], used: 0, misalign: true };
        let shape = WorkloadShape { operations: 100, maximum_alignment: 64, ..BENCHMARK_SHAPE };
        let mut blocks = Vec::new();
        let result = run_workload(&mut allocator, &shape, 7, ContentChecks::On, &mut blocks);
        assert!(matches!(result, Err(WorkloadError::Misaligned { .. })), "{result:?}");
    }

    #[test]
    fn overlapping_blocks_are_caught_as_corruption() {
        // A bump allocator that hands every request the same address: blocks overwrite each
        // other's patterns.
        struct SameAddress(Vec<u8>);
        impl BlockAllocator for SameAddress {
            fn allocate(&mut self, _layout: Layout) -> Option<NonNull<u8>> {
                let address = (self.0.as_mut_ptr() as usize).next_multiple_of(4096);
                NonNull::new(address as *mut u8)
            }
            unsafe fn deallocate(&mut self, _pointer: NonNull<u8>, _layout: Layout) {}
        }
        let mut allocator = SameAddress(std::vec![0; 64 * 1024]);
        let mut blocks = Vec::new();
        let result =
            run_workload(&mut allocator, &BENCHMARK_SHAPE, 3, ContentChecks::On, &mut blocks);
        assert!(matches!(result, Err(WorkloadError::Corrupted { .. })), "{result:?}");
    }
}
