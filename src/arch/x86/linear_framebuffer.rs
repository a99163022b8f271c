//! A linear framebuffer as paging maps it: bounds-checked byte writes, fills and moves into
//! the pixel memory. The console's `PixelMemory` is built on these (src/console/screen.rs).

use super::page_table::Caching;
use super::paging::{DeviceMapError, framebuffer_caching, map_device_memory, set_device_caching};

/// Pixel memory of `length` bytes at virtual address `base`.
pub struct MappedFramebuffer {
    base: usize,
    length: usize,
    caching: Caching,
}

impl MappedFramebuffer {
    /// No framebuffer: zero bytes long (and all zero, so a static holding it costs no image space).
    pub const fn none() -> MappedFramebuffer {
        MappedFramebuffer { base: 0, length: 0, caching: Caching::Uncached }
    }

    /// Maps the `length` bytes of the framebuffer at physical `address`, write-combining where
    /// the CPU has the PAT.
    pub fn map(address: u64, length: usize) -> Result<MappedFramebuffer, DeviceMapError> {
        let caching = framebuffer_caching();
        let base = map_device_memory(address, length, caching)?;
        Ok(MappedFramebuffer { base: base as usize, length, caching })
    }

    /// The virtual address of the first byte.
    pub fn base(&self) -> usize {
        self.base
    }

    /// Bytes of pixel memory.
    pub fn length_bytes(&self) -> usize {
        self.length
    }

    /// How the CPU caches the pixels.
    pub fn caching(&self) -> Caching {
        self.caching
    }

    /// Changes how the CPU caches the pixels (for the benchmarks).
    pub fn set_caching(&mut self, caching: Caching) {
        if self.length > 0 {
            set_device_caching(self.base as u32, self.length, caching);
            self.caching = caching;
        }
    }

    fn check(&self, offset: usize, length: usize) -> *mut u8 {
        let end = offset.checked_add(length);
        assert!(end.is_some_and(|end| end <= self.length), "framebuffer access out of bounds");
        (self.base + offset) as *mut u8
    }

    /// Stores `bytes` at `offset`.
    pub fn write_bytes(&mut self, offset: usize, bytes: &[u8]) {
        let destination = self.check(offset, bytes.len());
        // SAFETY: `check` keeps the range inside the mapping, which `map` made for this value
        // alone and which stays mapped for good; pixel memory is no Rust object, so nothing
        // else refers to it.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), destination, bytes.len()) };
    }

    /// Sets `length` bytes from `offset` to `value`.
    pub fn fill_bytes(&mut self, offset: usize, length: usize, value: u8) {
        let destination = self.check(offset, length);
        // SAFETY: as for `write_bytes`.
        unsafe { core::ptr::write_bytes(destination, value, length) };
    }

    /// Copies `length` bytes from `source` to `destination` (the ranges may overlap).
    pub fn move_bytes(&mut self, source: usize, destination: usize, length: usize) {
        let from = self.check(source, length);
        let to = self.check(destination, length);
        // SAFETY: as for `write_bytes`; `copy` allows the ranges to overlap.
        unsafe { core::ptr::copy(from, to, length) };
    }
}
