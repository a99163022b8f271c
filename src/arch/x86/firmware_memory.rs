//! Reading the firmware's tables wherever they lie below 4 GiB: identity-mapped memory as is,
//! anything else (the first page, which paging leaves unmapped for null pointers but which
//! holds the BIOS data area; tables above the identity map) through a mapping in the device
//! range, made once per 4 MiB and kept.

use spin::Mutex;

use super::page_table::Caching;
use super::paging::{map_device_memory, translate};
use super::physical_memory::HIGHEST_READABLE_ADDRESS;
use super::platform::FirmwareMemory;

const PAGE_BYTES: u64 = 4096;
const LARGE_PAGE_BYTES: u64 = 4 << 20;
const FOUR_GIB: u64 = 1 << 32;
/// Discovery reads the BIOS area and a few tables; they fit in a handful of 4 MiB windows.
const MAXIMUM_WINDOWS: usize = 4;

/// A 4 MiB-aligned physical range mapped into the device range.
#[derive(Clone, Copy)]
struct Window {
    physical_start: u64,
    physical_end: u64,
    virtual_start: u32,
}

/// The firmware tables' memory as the discovery parsers read it.
pub struct FirmwareTableMemory {
    windows: Mutex<[Option<Window>; MAXIMUM_WINDOWS]>,
}

/// The one reader; its windows stay mapped (firmware tables are never reused as RAM).
pub static FIRMWARE_TABLE_MEMORY: FirmwareTableMemory =
    FirmwareTableMemory { windows: Mutex::new([None; MAXIMUM_WINDOWS]) };

/// Whether every page of [address, end) is mapped at its own address (the heap, thread
/// stacks and device ranges are mapped too, but elsewhere).
fn identity_mapped(address: u64, end: u64) -> bool {
    let mut page = address & !(PAGE_BYTES - 1);
    while page < end {
        let entry = translate(page as u32);
        let frame = if entry.is_large() { page & !(LARGE_PAGE_BYTES - 1) } else { page };
        if !entry.is_present() || u64::from(entry.address()) != frame {
            return false;
        }
        page += PAGE_BYTES;
    }
    true
}

impl FirmwareTableMemory {
    /// The virtual address of physical `address`, whose range up to `end` lies in a window,
    /// mapped now if no window covers it yet.
    fn window_address(&self, address: u64, end: u64) -> Option<u32> {
        let mut windows = self.windows.lock();
        let covering = windows
            .iter()
            .flatten()
            .find(|window| window.physical_start <= address && end <= window.physical_end);
        if let Some(window) = covering {
            return Some(window.virtual_start + (address - window.physical_start) as u32);
        }
        let free = windows.iter_mut().find(|slot| slot.is_none())?;
        let physical_start = address & !(LARGE_PAGE_BYTES - 1);
        let physical_end = end.div_ceil(LARGE_PAGE_BYTES) * LARGE_PAGE_BYTES;
        // RAM below the identity map's limit keeps RAM's memory type (the first 4 MiB is also
        // mapped write-back at its own address); above it the window may also cover device
        // registers, which must not be cached or read speculatively.
        let caching = if physical_end <= HIGHEST_READABLE_ADDRESS {
            Caching::WriteBack
        } else {
            Caching::Uncached
        };
        let length = (physical_end - physical_start) as usize;
        let virtual_start = map_device_memory(physical_start, length, caching).ok()?;
        *free = Some(Window { physical_start, physical_end, virtual_start });
        Some(virtual_start + (address - physical_start) as u32)
    }
}

impl FirmwareMemory for FirmwareTableMemory {
    fn read(&self, address: u64, length: usize) -> Option<&[u8]> {
        let end = address.checked_add(length as u64).filter(|&end| end <= FOUR_GIB)?;
        if length == 0 {
            return Some(&[]);
        }
        let start = if identity_mapped(address, end) {
            address as u32
        } else {
            self.window_address(address, end)?
        };
        // SAFETY: [start, start + length) is mapped: identity-mapped pages checked one by one
        // above, or a window of the device range that stays mapped for good. Firmware tables
        // and the BIOS area are never handed out as RAM (the frame allocator keeps the first
        // MiB and every non-available region), so nothing writes them while the slice lives.
        Some(unsafe { core::slice::from_raw_parts(start as usize as *const u8, length) })
    }
}
