//! The kernel heap: the `talc` allocator over virtual memory from `HEAP_START`, grown page by
//! page from the frame allocator when it runs out, up to `HEAP_LIMIT_BYTES`.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use talc::DefaultBinning;
use talc::base::Talc;
use talc::base::binning::Binning;
use talc::source::Source;

use super::setup::FRAME_ALLOCATOR;
use crate::arch::x86::page_table::{LARGE_PAGE_BYTES, PAGE_BYTES};
use crate::arch::x86::paging::{map_page, prepare_page_table};
use crate::sync::spin_lock::SpinLock;

/// Where the heap's virtual addresses begin: above the identity-mapped RAM (at most 3 GiB).
pub const HEAP_START: u32 = 0xd000_0000;
/// The most the heap may grow to.
pub const HEAP_LIMIT_BYTES: u32 = 64 * 1024 * 1024;
/// The heap grows by at least this much at a time, so small allocations do not map a page
/// each.
pub const GROWTH_STEP_BYTES: u32 = 16 * 1024;

/// How much the heap grows by for a request that did not fit: room for the request at any
/// alignment plus some slack, and at least `GROWTH_STEP_BYTES`.
pub fn growth_for(layout: Layout) -> usize {
    (layout.size() + layout.align() + 256).max(GROWTH_STEP_BYTES as usize)
}

/// talc's source of memory: maps fresh frames at the end of the heap.
#[derive(Debug)]
pub struct PagedHeapSource {
    /// The end of the heap as talc knows it, once the first piece is claimed.
    heap_end: Option<NonNull<u8>>,
    /// Bytes mapped from `HEAP_START` on (an offset, so the static starts all-zero and costs
    /// no space in the kernel file).
    mapped_bytes: u32,
}

// SAFETY: the source only holds addresses of the heap's own virtual range.
unsafe impl Send for PagedHeapSource {}

impl PagedHeapSource {
    const fn new() -> PagedHeapSource {
        PagedHeapSource { heap_end: None, mapped_bytes: 0 }
    }

    /// One past the last mapped byte.
    fn mapped_end(&self) -> u32 {
        HEAP_START + self.mapped_bytes
    }

    /// Maps pages until `bytes` more are mapped; false if frames or the limit run out.
    fn map_more(&mut self, bytes: u32) -> bool {
        let wanted_end = self.mapped_end().saturating_add(bytes.next_multiple_of(PAGE_BYTES));
        if wanted_end > HEAP_START + HEAP_LIMIT_BYTES {
            return false;
        }
        let mut frames = FRAME_ALLOCATOR.lock();
        while self.mapped_end() < wanted_end {
            let Some(frame) = frames.allocate() else { return false };
            // `initialize` made every page table of the heap's range, so none is needed here
            // (and the frame allocator is locked already).
            let mut no_table_frames = || None;
            // SAFETY: the heap's virtual range belongs to the heap alone, and callers hold the
            // heap's lock, which serialises page-table changes for this range.
            if unsafe { map_page(self.mapped_end(), frame.0, &mut no_table_frames) }.is_err() {
                let _ = frames.free(frame);
                return false;
            }
            self.mapped_bytes += PAGE_BYTES;
        }
        true
    }
}

// SAFETY: `acquire` maps memory and calls claim/extend on the given `talc` only; it never
// allocates (no formatting, no collections).
unsafe impl Source for PagedHeapSource {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        if !HEAP_READY.load(Ordering::Relaxed) {
            return Err(());
        }
        let needed = growth_for(layout);
        let old_end = talc.source.mapped_end();
        if !talc.source.map_more(needed as u32) {
            return Err(());
        }
        let new_end = talc.source.mapped_end() as usize as *mut u8;
        let heap_end = match talc.source.heap_end {
            None => {
                let length = (talc.source.mapped_end() - old_end) as usize;
                // SAFETY: [old_end, new_end) was just mapped, read-write, and belongs to
                // nothing else.
                unsafe { talc.claim(old_end as usize as *mut u8, length) }
            }
            // SAFETY: as above; the heap ended at `end`, where the new pages begin.
            Some(end) => Some(unsafe { talc.extend(end, new_end) }),
        };
        talc.source.heap_end = heap_end;
        heap_end.map(|_| ()).ok_or(())
    }
}

/// The global allocator: talc behind an interrupt-safe spin lock, so a thread is never
/// preempted while it holds the heap. No interrupt handler allocates.
pub struct KernelHeap {
    talc: SpinLock<Talc<PagedHeapSource, DefaultBinning>>,
}

static HEAP_READY: AtomicBool = AtomicBool::new(false);
/// The size and alignment of the last request that could not be met.
static FAILED_SIZE: AtomicUsize = AtomicUsize::new(0);
static FAILED_ALIGN: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap { talc: SpinLock::new(Talc::new(PagedHeapSource::new())) };

// SAFETY: talc returns blocks of at least the requested size and alignment that do not overlap
// live blocks; every call holds the lock.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `layout` has a non-zero size, as GlobalAlloc guarantees.
        match unsafe { self.talc.lock().allocate(layout) } {
            Some(pointer) => pointer.as_ptr(),
            None => {
                FAILED_SIZE.store(layout.size(), Ordering::Relaxed);
                FAILED_ALIGN.store(layout.align(), Ordering::Relaxed);
                core::ptr::null_mut()
            }
        }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator handed out, with its layout.
        unsafe { self.talc.lock().deallocate(pointer, layout) }
    }
}

/// Maps the page tables the heap's range needs and the first piece of the heap.
pub fn initialize() -> Result<(), HeapError> {
    HEAP_READY.store(true, Ordering::Relaxed);
    // Page tables for the whole range up front, so growing never needs a frame for a table
    // while the frame allocator is locked.
    let mut frames = FRAME_ALLOCATOR.lock();
    for address in (HEAP_START..HEAP_START + HEAP_LIMIT_BYTES).step_by(LARGE_PAGE_BYTES as usize) {
        // SAFETY: the heap's range is used by nothing else, and boot runs on one CPU.
        unsafe { prepare_page_table(address, &mut || frames.allocate().map(|frame| frame.0)) }
            .map_err(|_| HeapError::OutOfFrames)?;
    }
    drop(frames);
    // The first allocation claims the heap's first piece, so a heap that cannot start shows
    // up here, at boot.
    drop(alloc::boxed::Box::new(0u8));
    Ok(())
}

/// Why the heap could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapError {
    OutOfFrames,
}

/// What the heap holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeapFigures {
    /// Bytes in live allocations.
    pub allocated_bytes: usize,
    /// Bytes mapped and handed to talc.
    pub claimed_bytes: usize,
    /// Bytes talc could still hand out without growing.
    pub available_bytes: usize,
    pub allocation_count: usize,
    pub total_allocation_count: u64,
}

/// The heap's figures; `None` if its lock is held (on a panic path).
pub fn heap_figures() -> Option<HeapFigures> {
    let talc = HEAP.talc.try_lock()?;
    let counters = talc.counters();
    Some(HeapFigures {
        allocated_bytes: counters.allocated_bytes,
        claimed_bytes: counters.claimed_bytes,
        available_bytes: counters.available_bytes,
        allocation_count: counters.allocation_count,
        total_allocation_count: counters.total_allocation_count,
    })
}

/// The last allocation request the heap could not meet, as (size, alignment).
pub fn last_failed_request() -> Option<(usize, usize)> {
    let size = FAILED_SIZE.load(Ordering::Relaxed);
    (size != 0).then(|| (size, FAILED_ALIGN.load(Ordering::Relaxed)))
}
