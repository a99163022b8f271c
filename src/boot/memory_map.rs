//! The Multiboot memory map (Multiboot 1 §3.3, `mmap_*` fields; Multiboot 2 §3.6.8, tag 6):
//! reading its entries safely.
//!
//! In Multiboot 1 each entry starts with its own size field (not counting the field itself),
//! then a 64-bit base address, a 64-bit length and a 32-bit type. Loaders may use larger
//! entries than this layout, so the walk always advances by the entry's size field. Multiboot 2
//! drops the size field: the tag gives one entry size for all, and the types are the same.
#![forbid(unsafe_code)]

use crate::bytes::{read_u32_le, read_u64_le};

use core::fmt;

/// Entry type 1 (Multiboot 1 §3.3): RAM the kernel may use.
pub const MEMORY_AVAILABLE: u32 = 1;
const ENTRY_FIELDS_BYTES: usize = 20;
/// Multiboot 2 entries: base, length, type and a reserved word.
const MULTIBOOT2_ENTRY_BYTES: usize = 24;

/// How the entries of a memory map are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryMapLayout {
    /// Each entry led by its own size field.
    Multiboot1,
    /// Entries of this many bytes each, no size field.
    Multiboot2 { entry_bytes: u32 },
}

/// A memory map exactly as the loader gave it, with its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMemoryMap {
    pub bytes: &'static [u8],
    pub layout: MemoryMapLayout,
}

impl RawMemoryMap {
    pub fn entries(&self) -> MemoryMapEntries<'static> {
        MemoryMapEntries { bytes: self.bytes, offset: 0, failed: false, layout: self.layout }
    }
}

/// One region of physical memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRegion {
    pub base: u64,
    pub length: u64,
    pub kind: u32,
}

impl MemoryRegion {
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.length)
    }

    pub fn is_available(&self) -> bool {
        self.kind == MEMORY_AVAILABLE
    }

    /// Multiboot's names for the types it defines.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            1 => "available",
            3 => "ACPI reclaimable",
            4 => "ACPI NVS",
            5 => "defective",
            _ => "reserved",
        }
    }
}

/// Why the walk stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryMapError {
    /// An entry's size field is smaller than the fields every entry has.
    EntryTooSmall { offset: usize, size: u32 },
    /// An entry runs past the end of the map.
    Truncated { offset: usize },
}

impl fmt::Display for MemoryMapError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryMapError::EntryTooSmall { offset, size } => {
                write!(formatter, "memory map entry at byte {offset} has size {size}, too small")
            }
            MemoryMapError::Truncated { offset } => {
                write!(formatter, "memory map entry at byte {offset} runs past the map's end")
            }
        }
    }
}

/// Iterates over the entries in `bytes`; yields an error once and stops at a malformed entry.
pub struct MemoryMapEntries<'a> {
    bytes: &'a [u8],
    offset: usize,
    failed: bool,
    layout: MemoryMapLayout,
}

/// The entries of a Multiboot 1 memory map.
pub fn memory_map_entries(bytes: &[u8]) -> MemoryMapEntries<'_> {
    MemoryMapEntries { bytes, offset: 0, failed: false, layout: MemoryMapLayout::Multiboot1 }
}

impl Iterator for MemoryMapEntries<'_> {
    type Item = Result<MemoryRegion, MemoryMapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.bytes.len() {
            return None;
        }
        let offset = self.offset;
        if let MemoryMapLayout::Multiboot2 { entry_bytes } = self.layout {
            let size = entry_bytes as usize;
            let result = if size < MULTIBOOT2_ENTRY_BYTES {
                Err(MemoryMapError::EntryTooSmall { offset, size: entry_bytes })
            } else if offset + size > self.bytes.len() {
                Err(MemoryMapError::Truncated { offset })
            } else {
                self.offset = offset + size;
                Ok(MemoryRegion {
                    base: read_u64_le(self.bytes, offset).unwrap_or(0),
                    length: read_u64_le(self.bytes, offset + 8).unwrap_or(0),
                    kind: read_u32_le(self.bytes, offset + 16).unwrap_or(0),
                })
            };
            self.failed = result.is_err();
            return Some(result);
        }
        let result = (|| {
            let size =
                read_u32_le(self.bytes, offset).ok_or(MemoryMapError::Truncated { offset })?;
            if (size as usize) < ENTRY_FIELDS_BYTES {
                return Err(MemoryMapError::EntryTooSmall { offset, size });
            }
            let end = (offset + 4)
                .checked_add(size as usize)
                .ok_or(MemoryMapError::Truncated { offset })?;
            if end > self.bytes.len() {
                return Err(MemoryMapError::Truncated { offset });
            }
            let region = MemoryRegion {
                base: read_u64_le(self.bytes, offset + 4).unwrap_or(0),
                length: read_u64_le(self.bytes, offset + 12).unwrap_or(0),
                kind: read_u32_le(self.bytes, offset + 20).unwrap_or(0),
            };
            self.offset = end;
            Ok(region)
        })();
        self.failed = result.is_err();
        Some(result)
    }
}

/// The end of the 32-bit physical address space; memory above it is out of reach without PAE.
pub const FOUR_GIB: u64 = 1 << 32;

/// Bytes of available memory below 4 GiB (the most a 32-bit kernel without PAE can use).
pub fn usable_bytes_below_4_gib(map: &RawMemoryMap) -> u64 {
    map.entries()
        .filter_map(Result::ok)
        .filter(MemoryRegion::is_available)
        .map(|region| region.end().min(FOUR_GIB).saturating_sub(region.base.min(FOUR_GIB)))
        .sum()
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::vec::Vec;

    /// Encodes entries as a loader would, with `size` as each entry's size field.
    pub fn encode(entries: &[(u64, u64, u32)], size: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        for &(base, length, kind) in entries {
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes.extend_from_slice(&base.to_le_bytes());
            bytes.extend_from_slice(&length.to_le_bytes());
            bytes.extend_from_slice(&kind.to_le_bytes());
            bytes.resize(bytes.len() + size as usize - ENTRY_FIELDS_BYTES, 0xee);
        }
        bytes
    }

    #[test]
    fn entries_are_read_by_their_own_size_field() {
        let bytes =
            encode(&[(0, 0x9fc00, 1), (0x100000, 0x7ee0000, 1), (0xfffc0000, 0x40000, 2)], 24);
        let regions: Vec<MemoryRegion> = memory_map_entries(&bytes).map(Result::unwrap).collect();
        assert_eq!(regions.len(), 3);
        assert_eq!(regions[1], MemoryRegion { base: 0x100000, length: 0x7ee0000, kind: 1 });
        assert_eq!(regions[2].kind_name(), "reserved");
        assert_eq!(usable_bytes_below_4_gib(&multiboot1(bytes)), 0x9fc00 + 0x7ee0000);
    }

    #[test]
    fn malformed_entries_stop_the_walk_with_an_error() {
        let mut bytes = encode(&[(0, 0x1000, 1)], 20);
        bytes.extend_from_slice(&8u32.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        let results: Vec<_> = memory_map_entries(&bytes).collect();
        assert!(results[0].is_ok());
        assert_eq!(results[1], Err(MemoryMapError::EntryTooSmall { offset: 24, size: 8 }));
        assert_eq!(results.len(), 2);
        let truncated = &encode(&[(0, 0x1000, 1)], 20)[..20];
        assert_eq!(
            memory_map_entries(truncated).next(),
            Some(Err(MemoryMapError::Truncated { offset: 0 }))
        );
    }

    #[test]
    fn memory_above_4_gib_is_not_counted() {
        let bytes = encode(&[(0xffff_0000, 0x2_0000, 1), (0x1_0000_0000, 0x1000_0000, 1)], 20);
        assert_eq!(usable_bytes_below_4_gib(&multiboot1(bytes)), 0x1_0000);
    }

    fn multiboot1(bytes: Vec<u8>) -> RawMemoryMap {
        RawMemoryMap { bytes: bytes.leak(), layout: MemoryMapLayout::Multiboot1 }
    }

    /// Multiboot 2 entries: base, length, type, reserved, each `entry_bytes` long.
    pub fn encode_multiboot2(entries: &[(u64, u64, u32)], entry_bytes: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for &(base, length, kind) in entries {
            let mut entry = std::vec![0u8; entry_bytes];
            entry[..8].copy_from_slice(&base.to_le_bytes());
            entry[8..16].copy_from_slice(&length.to_le_bytes());
            entry[16..20].copy_from_slice(&kind.to_le_bytes());
            bytes.extend_from_slice(&entry);
        }
        bytes
    }

    #[test]
    fn multiboot2_entries_share_one_size_and_malformed_ones_stop_the_walk() {
        let bytes = encode_multiboot2(&[(0, 0x9fc00, 1), (0x100000, 0x7ee0000, 3)], 32);
        let map = RawMemoryMap {
            bytes: bytes.leak(),
            layout: MemoryMapLayout::Multiboot2 { entry_bytes: 32 },
        };
        let regions: Vec<MemoryRegion> = map.entries().map(Result::unwrap).collect();
        assert_eq!(regions[1], MemoryRegion { base: 0x100000, length: 0x7ee0000, kind: 3 });
        assert_eq!(regions[1].kind_name(), "ACPI reclaimable");
        assert_eq!(usable_bytes_below_4_gib(&map), 0x9fc00);
        let small = RawMemoryMap { layout: MemoryMapLayout::Multiboot2 { entry_bytes: 16 }, ..map };
        assert_eq!(
            small.entries().collect::<Vec<_>>(),
            [Err(MemoryMapError::EntryTooSmall { offset: 0, size: 16 })]
        );
        let cut = RawMemoryMap { bytes: &map.bytes[..40], ..map };
        let results: Vec<_> = cut.entries().collect();
        assert_eq!(results.len(), 2);
        assert_eq!(results[1], Err(MemoryMapError::Truncated { offset: 32 }));
    }
}
