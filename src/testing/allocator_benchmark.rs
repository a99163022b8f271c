//! Allocator measurements for `make bench`: the kernel's allocator (talc) against
//! `linked_list_allocator` on the same seeded workload, and the heap's efficiency under stress.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::ptr::NonNull;

use talc::DefaultBinning;
use talc::base::Talc;
use talc::source::Manual;

use super::workload::{
    BENCHMARK_SHAPE, BlockAllocator, ContentChecks, GlobalHeap, STRESS_SHAPE, WorkloadReport,
    run_workload,
};
use crate::log;
use crate::memory::heap::{GROWTH_STEP_BYTES, growth_for, heap_figures};
use crate::time::Instant;

/// Each allocator gets a region this large, carved from the kernel heap.
const ARENA_BYTES: usize = 4 * 1024 * 1024;
const SEED: u64 = 0x5eed_1234_abcd_0001;

struct TalcArena(Talc<Manual, DefaultBinning>);

impl BlockAllocator for TalcArena {
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        // SAFETY: the workload's layouts have non-zero sizes.
        unsafe { self.0.allocate(layout) }
    }

    unsafe fn deallocate(&mut self, pointer: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.deallocate(pointer.as_ptr(), layout) }
    }
}

struct LinkedListArena(linked_list_allocator::Heap);

impl BlockAllocator for LinkedListArena {
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        self.0.allocate_first_fit(layout).ok()
    }

    unsafe fn deallocate(&mut self, pointer: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.deallocate(pointer, layout) }
    }
}

/// `linked_list_allocator` on a region it grows into the way the kernel heap grows
/// (`growth_for`), only when a request fails. Its size at the end is the most it
/// ever needed, for comparing heap use with talc's.
struct GrowingLinkedList {
    heap: linked_list_allocator::Heap,
    region_bytes: usize,
}

impl BlockAllocator for GrowingLinkedList {
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        loop {
            if let Ok(pointer) = self.heap.allocate_first_fit(layout) {
                return Some(pointer);
            }
            let step = growth_for(layout);
            if self.heap.size() + step > self.region_bytes {
                return None;
            }
            // SAFETY: the region behind the heap's end is part of the leaked arena, unused.
            unsafe { self.heap.extend(step) };
        }
    }

    unsafe fn deallocate(&mut self, pointer: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { self.heap.deallocate(pointer, layout) }
    }
}

/// The workload's own cost (random numbers, bookkeeping, copying on reallocation), measured
/// against an allocator that does no searching at all: fixed 512-byte slots on a free stack.
/// Subtracting it leaves the allocators' own work.
struct SlotArena {
    base: *mut u8,
    free_slots: Vec<u32>,
}

const SLOT_BYTES: usize = 512;

impl SlotArena {
    fn new() -> SlotArena {
        let region = arena();
        let slots = (region.len() / SLOT_BYTES) as u32;
        SlotArena { base: region.as_mut_ptr(), free_slots: (0..slots).rev().collect() }
    }
}

impl BlockAllocator for SlotArena {
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.size() > SLOT_BYTES || layout.align() > 16 {
            return None;
        }
        let slot = self.free_slots.pop()?;
        NonNull::new(self.base.wrapping_add(slot as usize * SLOT_BYTES))
    }

    unsafe fn deallocate(&mut self, pointer: NonNull<u8>, _layout: Layout) {
        let slot = (pointer.as_ptr() as usize - self.base as usize) / SLOT_BYTES;
        self.free_slots.push(slot as u32);
    }
}

fn arena() -> &'static mut [u8] {
    Box::leak(alloc::vec![0u8; ARENA_BYTES].into_boxed_slice())
}

fn timed(allocator: &mut impl BlockAllocator) -> (u64, WorkloadReport) {
    let mut blocks = Vec::with_capacity(BENCHMARK_SHAPE.maximum_live_blocks);
    let start = Instant::now();
    let report = run_workload(allocator, &BENCHMARK_SHAPE, SEED, ContentChecks::Off, &mut blocks)
        .expect("allocator broke a block");
    (start.elapsed_ticks(), report)
}

/// Runs the benchmark workload on fresh talc and linked_list_allocator instances, then the
/// stress workload on the kernel heap and on a growing linked_list_allocator, and logs the
/// figures on serial.
pub fn run() {
    let talc_region = arena();
    let mut talc = TalcArena(Talc::new(Manual));
    // SAFETY: the leaked region belongs to this instance alone, for good.
    unsafe { talc.0.claim(talc_region.as_mut_ptr(), talc_region.len()) };
    let (talc_ticks, talc_report) = timed(&mut talc);

    let list_region = arena();
    // SAFETY: the leaked region belongs to this instance alone, for good.
    let mut list = LinkedListArena(unsafe {
        linked_list_allocator::Heap::new(list_region.as_mut_ptr(), list_region.len())
    });
    let (list_ticks, list_report) = timed(&mut list);
    let (baseline_ticks, baseline_report) = timed(&mut SlotArena::new());
    log!(
        "bench: allocator operations={} baseline_ticks={baseline_ticks} talc_ticks={talc_ticks} list_ticks={list_ticks} failures={}",
        BENCHMARK_SHAPE.operations,
        talc_report.failures + list_report.failures + baseline_report.failures
    );

    let mut blocks = Vec::with_capacity(STRESS_SHAPE.maximum_live_blocks);
    let before = heap_figures().unwrap_or_default();
    let report = run_workload(&mut GlobalHeap, &STRESS_SHAPE, SEED, ContentChecks::On, &mut blocks)
        .expect("heap broke a block");
    let after = heap_figures().unwrap_or_default();
    // The run had the heap's free bytes at its start plus what the heap grew by.
    let heap_for_run = before.available_bytes + (after.claimed_bytes - before.claimed_bytes);
    log!(
        "bench: heap peak_live={} heap_for_run={heap_for_run} free_after={} failures={}",
        report.peak_live_bytes,
        after.available_bytes,
        report.failures
    );

    let region = arena();
    // SAFETY: the leaked region belongs to this instance alone, for good.
    let heap = unsafe {
        linked_list_allocator::Heap::new(region.as_mut_ptr(), GROWTH_STEP_BYTES as usize)
    };
    let mut list = GrowingLinkedList { heap, region_bytes: region.len() };
    let report = run_workload(&mut list, &STRESS_SHAPE, SEED, ContentChecks::On, &mut blocks)
        .expect("linked_list_allocator broke a block");
    log!(
        "bench: list_heap peak_live={} heap_for_run={} failures={}",
        report.peak_live_bytes,
        list.heap.size(),
        report.failures
    );
}
