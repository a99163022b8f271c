//! Reading physical memory while it is identity-mapped (before and after paging, which keeps
//! RAM below 3 GiB at its own address).

/// The first page stays unmapped once paging is on (it catches null pointers), so nothing
/// that must still be read later may be taken from it.
const LOWEST_READABLE_ADDRESS: u64 = 0x1000;
/// Above this start the PCI and firmware areas of a 32-bit PC: reads could reach devices.
pub const HIGHEST_READABLE_ADDRESS: u64 = 0xc000_0000;

/// `length` bytes of physical memory at `address`, or `None` if the range leaves the readable
/// window. Callers check it against the memory map's RAM before trusting it further.
pub fn read_identity_mapped(address: u64, length: usize) -> Option<&'static [u8]> {
    let end = address.checked_add(length as u64)?;
    if address < LOWEST_READABLE_ADDRESS || end > HIGHEST_READABLE_ADDRESS {
        return None;
    }
    // SAFETY: the range lies in the identity-mapped low 3 GiB, above the page paging unmaps
    // and below the device window. The loader's structures there are never reused while the
    // kernel runs (the frame allocator reserves them), so the slice stays valid.
    Some(unsafe { core::slice::from_raw_parts(address as usize as *const u8, length) })
}
