//! The hand-over from a Multiboot loader: its magic number, and reading the physical memory
//! its information structure lives in (parsed by `crate::boot_info`).

use crate::boot_info::{BootInformation, PhysicalMemory, parse_boot_information};

/// EAX holds this when a Multiboot-compliant loader hands over (Multiboot 1 §3.2).
pub const MULTIBOOT_LOADER_MAGIC: u32 = 0x2bad_b002;

/// Below this is the real-mode interrupt table: no loader structure lives there.
const LOWEST_READABLE_ADDRESS: u64 = 0x500;
/// Above this start the PCI and firmware areas of a 32-bit PC: reads could reach devices.
const HIGHEST_READABLE_ADDRESS: u64 = 0xc000_0000;

/// Physical memory as the kernel sees it at boot: identity-mapped (paging is off, and paging
/// later keeps RAM identity-mapped), readable between the bounds above.
struct IdentityMappedMemory;

impl PhysicalMemory for IdentityMappedMemory {
    fn read(&self, address: u64, length: usize) -> Option<&[u8]> {
        let end = address.checked_add(length as u64)?;
        if address < LOWEST_READABLE_ADDRESS || end > HIGHEST_READABLE_ADDRESS {
            return None;
        }
        // SAFETY: the range lies in the identity-mapped low 3 GiB, away from the interrupt
        // table and device memory; the loader's structures there are not reused while the
        // kernel runs (the frame allocator reserves them).
        Some(unsafe { core::slice::from_raw_parts(address as usize as *const u8, length) })
    }
}

static PHYSICAL_MEMORY: IdentityMappedMemory = IdentityMappedMemory;

/// Why the kernel refuses to use the boot information at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongMagic(pub u32);

impl core::fmt::Display for WrongMagic {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            formatter,
            "boot magic is {:#010x}, expected {MULTIBOOT_LOADER_MAGIC:#010x}: not started by a Multiboot loader",
            self.0
        )
    }
}

/// Parses and validates the loader's information, if the magic says a Multiboot loader
/// started the kernel.
pub fn read_boot_information(magic: u32, info_address: u32) -> Result<BootInformation, WrongMagic> {
    if magic != MULTIBOOT_LOADER_MAGIC {
        return Err(WrongMagic(magic));
    }
    Ok(parse_boot_information(&PHYSICAL_MEMORY, info_address))
}
