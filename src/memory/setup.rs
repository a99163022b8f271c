//! Bringing memory management up at boot: frames from the memory map, paging, then the heap.
#![forbid(unsafe_code)]

use core::fmt;

use super::frame_allocator::FrameAllocator;
use super::heap;
use crate::arch::x86::linker_symbols::kernel_image;
use crate::arch::x86::paging::{PagingError, enable_paging};
use crate::boot::information::{BootInformation, PhysicalRange};
use crate::sync::spin_lock::SpinLock;

/// Every free physical frame of the machine.
pub static FRAME_ALLOCATOR: SpinLock<FrameAllocator> = SpinLock::new(FrameAllocator::new());

/// Physical memory is identity-mapped up to here; the heap's virtual range lies above.
pub const IDENTITY_MAP_LIMIT: u64 = 0xc000_0000;
/// The first MiB holds the BIOS's data, the VGA memory and option ROMs.
const LOW_MEMORY: PhysicalRange = PhysicalRange::new(0, 0x10_0000);

/// Why memory management could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryError {
    Paging(PagingError),
    Heap(heap::HeapError),
}

impl fmt::Display for MemoryError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryError::Paging(PagingError::NoLargePages) => {
                write!(formatter, "this CPU has no 4 MiB pages (CPUID PSE); paging is off")
            }
            MemoryError::Heap(heap::HeapError::OutOfFrames) => {
                write!(formatter, "no free memory for the heap's page tables")
            }
        }
    }
}

/// Fills the frame allocator from the validated memory map, keeping the first MiB, the kernel
/// image, the loader's structures and modules out of it; turns paging on; starts the heap.
pub fn initialize(boot_information: &BootInformation) -> Result<(), MemoryError> {
    let mut identity_end = 0;
    {
        let mut frames = FRAME_ALLOCATOR.lock();
        for range in boot_information.available() {
            let clipped = PhysicalRange::new(range.start, range.end.min(IDENTITY_MAP_LIMIT));
            frames.add_available(clipped);
            identity_end = identity_end.max(clipped.end);
        }
        frames.reserve(LOW_MEMORY);
        let image = kernel_image();
        let (image_start, image_end) = image.range();
        frames.reserve(PhysicalRange::new(u64::from(image_start), u64::from(image_end)));
        for range in boot_information.reserved() {
            frames.reserve(*range);
        }
        for module in boot_information.modules() {
            frames.reserve(module.range);
        }
    }
    enable_paging(identity_end as u32).map_err(MemoryError::Paging)?;
    heap::initialize().map_err(MemoryError::Heap)
}
