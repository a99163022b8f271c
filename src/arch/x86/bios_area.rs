//! The places below 1 MiB where BIOS firmware leaves its structures (ACPI's RSDP, the MP
//! floating pointer), found through the BIOS data area and scanned on 16-byte boundaries.
#![forbid(unsafe_code)]

use super::platform::FirmwareMemory;
use super::table_bytes::read_u16;

/// The BIOS data area's word holding the EBDA's real-mode segment (ACPI 6.5 §5.2.5.1;
/// MP 1.4 §4 "40:0E").
const EBDA_SEGMENT_ADDRESS: u64 = 0x40e;
/// The BIOS data area's word holding the KiB of base memory (MP 1.4 §4 "40:13").
const BASE_MEMORY_KIB_ADDRESS: u64 = 0x413;
const ONE_KIB: u64 = 1024;
/// Where a real EBDA or the top of base memory can lie: above the BIOS data area, below
/// the legacy video memory at 640 KiB.
const LOWEST_EBDA_ADDRESS: u64 = 0x500;
const LEGACY_VIDEO_MEMORY: u64 = 0xa_0000;
/// Structures are aligned on 16-byte ("paragraph") boundaries.
const PARAGRAPH_BYTES: usize = 16;

/// A region the scan looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiosArea {
    /// The first KiB of the extended BIOS data area, wherever the data area says it is.
    ExtendedBiosDataArea,
    /// The last KiB of base memory (MP 1.4 §4, for machines without an EBDA).
    LastKibOfBaseMemory,
    /// 0xE0000-0xFFFFF: the BIOS read-only memory space ACPI searches.
    RomBelowOneMib,
    /// 0xF0000-0xFFFFF: the system BIOS the MP specification searches.
    SystemBiosRom,
}

impl BiosArea {
    /// The area's physical range (start, length), if the BIOS data area gives a sane one.
    fn range(self, memory: &impl FirmwareMemory) -> Option<(u64, usize)> {
        let word = |address| memory.read(address, 2).and_then(|bytes| read_u16(bytes, 0));
        let plausible = |start: u64| {
            (LOWEST_EBDA_ADDRESS..=LEGACY_VIDEO_MEMORY - ONE_KIB).contains(&start).then_some(start)
        };
        match self {
            BiosArea::ExtendedBiosDataArea => {
                let start = plausible(u64::from(word(EBDA_SEGMENT_ADDRESS)?) << 4)?;
                Some((start, ONE_KIB as usize))
            }
            BiosArea::LastKibOfBaseMemory => {
                let kib = u64::from(word(BASE_MEMORY_KIB_ADDRESS)?);
                let start = plausible(kib.checked_sub(1)? * ONE_KIB)?;
                Some((start, ONE_KIB as usize))
            }
            BiosArea::RomBelowOneMib => Some((0xe_0000, 0x2_0000)),
            BiosArea::SystemBiosRom => Some((0xf_0000, 0x1_0000)),
        }
    }
}

/// Offers `matcher` every 16-byte boundary of each area in turn (the bytes from there to the
/// area's end, at most `candidate_bytes`), and returns its first answer.
pub fn scan_paragraphs<T>(
    memory: &impl FirmwareMemory,
    areas: &[BiosArea],
    candidate_bytes: usize,
    mut matcher: impl FnMut(&[u8]) -> Option<T>,
) -> Option<T> {
    for area in areas {
        let Some((start, length)) = area.range(memory) else { continue };
        let Some(bytes) = memory.read(start, length) else { continue };
        for offset in (0..length).step_by(PARAGRAPH_BYTES) {
            let end = (offset + candidate_bytes).min(length);
            if let Some(found) = matcher(&bytes[offset..end]) {
                return Some(found);
            }
        }
    }
    None
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::vec::Vec;

    /// Physical memory for tests: zeros up to 128 MiB (allocated lazily by the host), with
    /// bytes placed where a test wants them; nothing beyond is readable.
    pub struct FakeMemory {
        bytes: Vec<u8>,
        readable_end: u64,
    }

    impl FakeMemory {
        pub const SIZE_BYTES: u64 = 128 << 20;

        pub fn new() -> FakeMemory {
            FakeMemory {
                bytes: std::vec![0; FakeMemory::SIZE_BYTES as usize],
                readable_end: FakeMemory::SIZE_BYTES,
            }
        }

        pub fn place(&mut self, address: u64, data: &[u8]) {
            let start = address as usize;
            self.bytes[start..start + data.len()].copy_from_slice(data);
        }

        /// Makes everything from `end` on unreadable.
        pub fn end_readable_memory_at(&mut self, end: u64) {
            self.readable_end = end;
        }
    }

    impl Default for FakeMemory {
        fn default() -> FakeMemory {
            FakeMemory::new()
        }
    }

    impl FirmwareMemory for FakeMemory {
        fn read(&self, address: u64, length: usize) -> Option<&[u8]> {
            let end = address.checked_add(length as u64)?;
            if end > self.readable_end {
                return None;
            }
            self.bytes.get(address as usize..end as usize)
        }
    }

    fn find_marker(memory: &FakeMemory, areas: &[BiosArea]) -> Option<u64> {
        scan_paragraphs(memory, areas, 8, |candidate| {
            candidate.starts_with(b"MARK").then(|| u64::from(candidate[4]))
        })
    }

    #[test]
    fn the_data_area_locates_the_ebda_and_the_top_of_base_memory() {
        let mut memory = FakeMemory::new();
        memory.place(0x40e, &0x9fc0u16.to_le_bytes());
        memory.place(0x413, &639u16.to_le_bytes());
        memory.place(0x9fc00 + 0x3f0, b"MARK\x01");
        memory.place(0x9f800 + 0x10, b"MARK\x02");
        memory.place(0xf_fff0, b"MARK\x03");
        assert_eq!(find_marker(&memory, &[BiosArea::ExtendedBiosDataArea]), Some(1));
        assert_eq!(find_marker(&memory, &[BiosArea::LastKibOfBaseMemory]), Some(2));
        assert_eq!(find_marker(&memory, &[BiosArea::SystemBiosRom]), Some(3));
        // Misaligned structures are not found.
        let mut misaligned = FakeMemory::new();
        misaligned.place(0xe_0008, b"MARK\x04");
        assert_eq!(find_marker(&misaligned, &[BiosArea::RomBelowOneMib]), None);
    }

    #[test]
    fn implausible_data_area_pointers_are_ignored() {
        let mut memory = FakeMemory::new();
        // An EBDA segment of 0 and base memory of 0 KiB point nowhere sane.
        memory.place(0, b"MARK\x05");
        assert_eq!(
            find_marker(&memory, &[BiosArea::ExtendedBiosDataArea, BiosArea::LastKibOfBaseMemory]),
            None
        );
        // An EBDA segment pointing into the video memory.
        memory.place(0x40e, &0xb800u16.to_le_bytes());
        memory.place(0xb8000, b"MARK\x06");
        assert_eq!(find_marker(&memory, &[BiosArea::ExtendedBiosDataArea]), None);
        // Unreadable memory is skipped too.
        memory.end_readable_memory_at(0x400);
        assert_eq!(find_marker(&memory, &[BiosArea::ExtendedBiosDataArea]), None);
    }
}
