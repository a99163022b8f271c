//! Physical memory in 4 KiB frames: a bitmap over all of the 32-bit address space.
#![forbid(unsafe_code)]

use crate::boot::information::PhysicalRange;

pub const FRAME_BYTES: u64 = 4096;
/// Frames in 4 GiB.
const FRAME_COUNT: usize = 1 << 20;
const WORDS: usize = FRAME_COUNT / 64;

/// A physical frame, by its start address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PhysicalFrame(pub u32);

/// Why a frame could not be given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeError {
    /// The frame was free already: freed twice, or never handed out.
    NotAllocated(PhysicalFrame),
    /// The address is not the start of a frame.
    Misaligned(u32),
}

/// One bit per frame, 1 meaning free, so an empty allocator is all zeroes (and lives in .bss).
/// Frames start out used; `add_available` frees them and `reserve` takes them back.
pub struct FrameAllocator {
    free_bits: [u64; WORDS],
    /// Where the next search starts; everything below it was used when it was set.
    search_start: usize,
    free_frames: usize,
    /// Frames ever made available.
    managed_frames: usize,
}

impl FrameAllocator {
    pub const fn new() -> FrameAllocator {
        FrameAllocator { free_bits: [0; WORDS], search_start: 0, free_frames: 0, managed_frames: 0 }
    }

    fn is_free(&self, index: usize) -> bool {
        self.free_bits[index / 64] & (1 << (index % 64)) != 0
    }

    fn set_free(&mut self, index: usize, free: bool) {
        let was_free = self.is_free(index);
        if free && !was_free {
            self.free_bits[index / 64] |= 1 << (index % 64);
            self.free_frames += 1;
        } else if !free && was_free {
            self.free_bits[index / 64] &= !(1 << (index % 64));
            self.free_frames -= 1;
        }
    }

    /// Makes the frames lying wholly inside `range` available.
    pub fn add_available(&mut self, range: PhysicalRange) {
        let first = range.start.div_ceil(FRAME_BYTES) as usize;
        let end = ((range.end.min(1 << 32)) / FRAME_BYTES) as usize;
        for index in first..end {
            if !self.is_free(index) {
                self.managed_frames += 1;
            }
            self.set_free(index, true);
        }
        self.search_start = self.search_start.min(first);
    }

    /// Takes every frame that `range` touches out of use for good.
    pub fn reserve(&mut self, range: PhysicalRange) {
        let first = (range.start / FRAME_BYTES) as usize;
        let end = (range.end.min(1 << 32).div_ceil(FRAME_BYTES)) as usize;
        for index in first..end {
            if self.is_free(index) {
                self.managed_frames -= 1;
            }
            self.set_free(index, false);
        }
    }

    /// A free frame, now in use; `None` when none is left.
    pub fn allocate(&mut self) -> Option<PhysicalFrame> {
        for word_index in self.search_start / 64..WORDS {
            let word = self.free_bits[word_index];
            if word != 0 {
                let index = word_index * 64 + word.trailing_zeros() as usize;
                self.set_free(index, false);
                self.search_start = index;
                return Some(PhysicalFrame((index as u64 * FRAME_BYTES) as u32));
            }
        }
        self.search_start = FRAME_COUNT;
        None
    }

    /// Gives back a frame from `allocate`.
    pub fn free(&mut self, frame: PhysicalFrame) -> Result<(), FreeError> {
        if u64::from(frame.0) % FRAME_BYTES != 0 {
            return Err(FreeError::Misaligned(frame.0));
        }
        let index = (u64::from(frame.0) / FRAME_BYTES) as usize;
        if self.is_free(index) {
            return Err(FreeError::NotAllocated(frame));
        }
        self.set_free(index, true);
        self.search_start = self.search_start.min(index);
        Ok(())
    }

    pub fn free_frames(&self) -> usize {
        self.free_frames
    }

    /// Frames made available and not reserved, whether free or handed out now.
    pub fn managed_frames(&self) -> usize {
        self.managed_frames
    }
}

impl Default for FrameAllocator {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::collections::BTreeSet;

    fn allocator() -> Box<FrameAllocator> {
        // 128 KiB: build it on the heap, not the test thread's stack.
        let mut allocator: Box<FrameAllocator> = Box::default();
        allocator.add_available(PhysicalRange::new(0, 0x9fc00));
        allocator.add_available(PhysicalRange::new(0x100000, 0x800000));
        allocator
    }

    #[test]
    fn only_whole_frames_inside_available_ranges_are_counted() {
        let allocator = allocator();
        // 0x9fc00 holds 159 whole frames; 1-8 MiB holds 1792.
        assert_eq!(allocator.free_frames(), 159 + 1792);
        assert_eq!(allocator.managed_frames(), 159 + 1792);
    }

    #[test]
    fn no_frame_is_handed_out_twice_and_all_are_inside_available_memory() {
        let mut allocator = allocator();
        let mut seen = BTreeSet::new();
        while let Some(frame) = allocator.allocate() {
            assert!(seen.insert(frame), "{frame:?} handed out twice");
            let address = u64::from(frame.0);
            assert!(address < 0x9f000 || (0x100000..0x800000).contains(&address), "{frame:?}");
        }
        assert_eq!(seen.len(), 159 + 1792);
        assert_eq!(allocator.free_frames(), 0);
    }

    #[test]
    fn freed_frames_are_reused_and_double_frees_refused() {
        let mut allocator = allocator();
        let first = allocator.allocate().unwrap();
        let second = allocator.allocate().unwrap();
        assert_ne!(first, second);
        allocator.free(first).unwrap();
        assert_eq!(allocator.free(first), Err(FreeError::NotAllocated(first)));
        assert_eq!(allocator.free(PhysicalFrame(0x1001)), Err(FreeError::Misaligned(0x1001)));
        assert_eq!(allocator.allocate(), Some(first), "the freed frame comes back first");
    }

    #[test]
    fn reserved_memory_is_never_handed_out() {
        let mut allocator = allocator();
        // The first MiB, the kernel image, and a loader structure straddling two frames.
        allocator.reserve(PhysicalRange::new(0, 0x100000));
        allocator.reserve(PhysicalRange::new(0x100000, 0x123456));
        allocator.reserve(PhysicalRange::new(0x300ff0, 0x301010));
        while let Some(frame) = allocator.allocate() {
            let address = u64::from(frame.0);
            assert!(address >= 0x124000, "{frame:?} is reserved");
            assert!(address != 0x300000 && address != 0x301000, "{frame:?} is reserved");
        }
        assert_eq!(allocator.managed_frames(), 1792 - 0x24 - 2);
    }
}
