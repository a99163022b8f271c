//! Reading the Multiboot 1 information structure the loader left in memory (spec §3.3).

/// EAX holds this when a Multiboot-compliant loader hands over (Multiboot 1 §3.2).
pub const MULTIBOOT_LOADER_MAGIC: u32 = 0x2bad_b002;

/// §3.3 flag bits saying which fields of the information structure are valid.
const INFO_FLAG_COMMAND_LINE: u32 = 1 << 2;
const INFO_FLAG_MEMORY_MAP: u32 = 1 << 6;
const INFO_FLAG_LOADER_NAME: u32 = 1 << 9;
/// §3.3 byte offsets of the fields read here.
const OFFSET_FLAGS: usize = 0;
const OFFSET_COMMAND_LINE: usize = 16;
const OFFSET_MEMORY_MAP_LENGTH: usize = 44;
const OFFSET_MEMORY_MAP_ADDRESS: usize = 48;
/// A memory map longer than this is cut (a PC's has a few dozen 24-byte entries).
const MAXIMUM_MEMORY_MAP_BYTES: u32 = 64 * 1024;
const OFFSET_LOADER_NAME: usize = 64;
/// Strings longer than this are cut: no loader passes more, and a missing NUL must not send
/// the reader across all of memory.
const MAXIMUM_STRING_BYTES: usize = 4096;
/// Memory below this is the real-mode area; a loader never puts the structure at address 0.
const LOWEST_PLAUSIBLE_ADDRESS: u32 = 0x500;
/// Without paging the kernel sees physical memory directly; stay below the 32-bit hole.
const HIGHEST_PLAUSIBLE_ADDRESS: u32 = 0xfff0_0000;

/// What the kernel takes from the Multiboot information structure at boot.
#[derive(Debug, Clone, Copy, Default)]
pub struct BootInformation {
    /// The kernel command line, including the image path the loader puts first.
    pub command_line: Option<&'static [u8]>,
    /// The loader's name, e.g. `GRUB 2.06-13+deb12u1`.
    pub loader_name: Option<&'static [u8]>,
    /// The raw memory map (see `crate::memory_map`).
    pub memory_map: Option<&'static [u8]>,
}

/// Why the boot information could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootInformationError {
    /// EAX did not hold the Multiboot magic: some other loader, or none, started the kernel.
    WrongMagic(u32),
    /// The structure's address is implausible.
    BadAddress(u32),
}

impl core::fmt::Display for BootInformationError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootInformationError::WrongMagic(magic) => write!(
                formatter,
                "boot magic is {magic:#010x}, expected {MULTIBOOT_LOADER_MAGIC:#010x}: not started by a Multiboot loader"
            ),
            BootInformationError::BadAddress(address) => {
                write!(formatter, "Multiboot information at implausible address {address:#010x}")
            }
        }
    }
}

/// Reads the fields the kernel uses from the structure at `info_address`.
///
/// # Safety
/// When `magic` is right, `info_address` must be the pointer a Multiboot loader passed in EBX,
/// with paging off (or the structure identity-mapped) and the memory not yet reused.
pub unsafe fn read_boot_information(
    magic: u32,
    info_address: u32,
) -> Result<BootInformation, BootInformationError> {
    if magic != MULTIBOOT_LOADER_MAGIC {
        return Err(BootInformationError::WrongMagic(magic));
    }
    if !(LOWEST_PLAUSIBLE_ADDRESS..HIGHEST_PLAUSIBLE_ADDRESS).contains(&info_address) {
        return Err(BootInformationError::BadAddress(info_address));
    }
    let base = info_address as usize;
    // SAFETY: the caller guarantees the loader's structure is at `base` and readable.
    let flags = unsafe { read_u32(base + OFFSET_FLAGS) };
    let mut information = BootInformation::default();
    if flags & INFO_FLAG_COMMAND_LINE != 0 {
        // SAFETY: flag bit 2 says the field holds the address of a NUL-terminated string.
        information.command_line = unsafe { read_c_string(read_u32(base + OFFSET_COMMAND_LINE)) };
    }
    if flags & INFO_FLAG_MEMORY_MAP != 0 {
        // SAFETY: flag bit 6 says these fields give the map's length and address.
        let (length, address) = unsafe {
            (read_u32(base + OFFSET_MEMORY_MAP_LENGTH), read_u32(base + OFFSET_MEMORY_MAP_ADDRESS))
        };
        let end = address.checked_add(length.min(MAXIMUM_MEMORY_MAP_BYTES));
        if (LOWEST_PLAUSIBLE_ADDRESS..HIGHEST_PLAUSIBLE_ADDRESS).contains(&address)
            && end.is_some_and(|end| end <= HIGHEST_PLAUSIBLE_ADDRESS)
        {
            let length = length.min(MAXIMUM_MEMORY_MAP_BYTES) as usize;
            // SAFETY: the loader wrote the map at this address; the range is bounded and below
            // the 32-bit device hole, and the memory is not reused while the kernel runs.
            information.memory_map =
                Some(unsafe { core::slice::from_raw_parts(address as *const u8, length) });
        }
    }
    if flags & INFO_FLAG_LOADER_NAME != 0 {
        // SAFETY: flag bit 9 says the field holds the address of a NUL-terminated string.
        information.loader_name = unsafe { read_c_string(read_u32(base + OFFSET_LOADER_NAME)) };
    }
    Ok(information)
}

/// # Safety
/// `address` must be readable for four bytes.
unsafe fn read_u32(address: usize) -> u32 {
    // SAFETY: forwarded to the caller; the structure is only 4-byte aligned by convention.
    unsafe { core::ptr::read_unaligned(address as *const u32) }
}

/// The bytes before the NUL at `address`, at most `MAXIMUM_STRING_BYTES`.
///
/// # Safety
/// A non-null `address` must point at readable memory up to its NUL or the length limit.
unsafe fn read_c_string(address: u32) -> Option<&'static [u8]> {
    if !(LOWEST_PLAUSIBLE_ADDRESS..HIGHEST_PLAUSIBLE_ADDRESS).contains(&address) {
        return None;
    }
    let start = address as *const u8;
    let mut length = 0;
    // SAFETY: each byte read lies before the NUL or the limit, which the caller vouches for.
    while length < MAXIMUM_STRING_BYTES && unsafe { start.add(length).read() } != 0 {
        length += 1;
    }
    // SAFETY: the `length` bytes just read are readable and the loader never reuses them.
    Some(unsafe { core::slice::from_raw_parts(start, length) })
}
