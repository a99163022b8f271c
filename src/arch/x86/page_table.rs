//! 32-bit paging entries (Intel SDM Vol. 3A §4.3, tables 4-4 to 4-6): how a page directory or
//! page table entry encodes a physical address and its permission bits.
#![forbid(unsafe_code)]

/// Bits of a 32-bit page directory or page table entry.
pub const PRESENT: u32 = 1 << 0;
pub const WRITABLE: u32 = 1 << 1;
pub const USER: u32 = 1 << 2;
/// Page-level write-through (PWT) and cache disable (PCD): with the PAT bit they pick one of
/// the eight memory types in the IA32_PAT register (SDM Vol. 3A §11.12.3).
pub const WRITE_THROUGH: u32 = 1 << 3;
pub const CACHE_DISABLE: u32 = 1 << 4;
pub const ACCESSED: u32 = 1 << 5;
pub const DIRTY: u32 = 1 << 6;
/// In a page directory entry: maps a 4 MiB page directly (needs CR4.PSE).
pub const LARGE_PAGE: u32 = 1 << 7;
const ADDRESS_MASK_4K: u32 = 0xffff_f000;
const ADDRESS_MASK_4M: u32 = 0xffc0_0000;

pub const PAGE_BYTES: u32 = 4096;
pub const LARGE_PAGE_BYTES: u32 = 4 * 1024 * 1024;
pub const ENTRIES_PER_TABLE: usize = 1024;

/// One entry of a page directory or page table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct PageTableEntry(pub u32);

impl PageTableEntry {
    pub const NOT_PRESENT: PageTableEntry = PageTableEntry(0);

    /// Maps the 4 KiB frame (or page table) at `address` with `flags`.
    pub const fn new(address: u32, flags: u32) -> PageTableEntry {
        PageTableEntry((address & ADDRESS_MASK_4K) | (flags & !ADDRESS_MASK_4K))
    }

    /// A page directory entry mapping the 4 MiB page at `address` with `flags`.
    pub const fn large(address: u32, flags: u32) -> PageTableEntry {
        PageTableEntry((address & ADDRESS_MASK_4M) | LARGE_PAGE | (flags & !ADDRESS_MASK_4K))
    }

    pub const fn is_present(self) -> bool {
        self.0 & PRESENT != 0
    }

    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    pub const fn is_large(self) -> bool {
        self.0 & LARGE_PAGE != 0
    }

    /// The physical address the entry points at.
    pub const fn address(self) -> u32 {
        if self.is_large() { self.0 & ADDRESS_MASK_4M } else { self.0 & ADDRESS_MASK_4K }
    }
}

/// How the CPU may cache a mapping of device memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Uncached (UC): every write goes to the device at once, in order.
    Uncached,
    /// Write-combining (WC): writes gather in buffers and reach the device in bursts; reads
    /// are uncached. Needs the PAT entry that `pat_with_write_combining` sets up.
    WriteCombining,
    /// Write-back (WB), as RAM is mapped: for RAM seen through a second mapping (the
    /// firmware tables' windows), so both mappings agree on the memory type.
    WriteBack,
}

impl Caching {
    /// The PWT/PCD bits of an entry with this memory type: PAT entry 3 (UC in the power-on
    /// PAT) or PAT entry 1 (WC once reprogrammed; write-through at power-on).
    pub const fn entry_bits(self) -> u32 {
        match self {
            Caching::Uncached => CACHE_DISABLE | WRITE_THROUGH,
            Caching::WriteCombining => WRITE_THROUGH,
            Caching::WriteBack => 0,
        }
    }
}

/// IA32_PAT memory-type encodings (SDM Vol. 3A table 11-10).
pub const PAT_WRITE_COMBINING: u64 = 0x01;
/// The PAT entry a page with PWT set and PCD clear selects.
const PAT_ENTRY_WRITE_THROUGH_BIT: u32 = 1;

/// The IA32_PAT value `current` with entry 1 (PWT set, PCD and PAT clear) made write-combining,
/// as Linux does; entries 0, 2 and 3 (what PCD/PWT meant before the PAT) keep their types.
pub const fn pat_with_write_combining(current: u64) -> u64 {
    let shift = PAT_ENTRY_WRITE_THROUGH_BIT * 8;
    (current & !(0xff << shift)) | (PAT_WRITE_COMBINING << shift)
}

/// Which page directory entry covers `virtual_address` (bits 22-31).
pub const fn directory_index(virtual_address: u32) -> usize {
    (virtual_address >> 22) as usize
}

/// Which page table entry covers `virtual_address` (bits 12-21).
pub const fn table_index(virtual_address: u32) -> usize {
    ((virtual_address >> 12) & 0x3ff) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_address_and_flags_apart() {
        let entry = PageTableEntry::new(0x0012_3456, PRESENT | WRITABLE);
        assert_eq!(entry.0, 0x0012_3003);
        assert_eq!(entry.address(), 0x0012_3000);
        assert!(entry.is_present() && entry.is_writable() && !entry.is_large());
        let read_only = PageTableEntry::new(0x0010_0000, PRESENT);
        assert!(!read_only.is_writable());
        assert!(!PageTableEntry::NOT_PRESENT.is_present());
    }

    #[test]
    fn large_pages_use_the_top_ten_bits() {
        let entry = PageTableEntry::large(0x0840_0000 + 0x1234, PRESENT | WRITABLE);
        assert_eq!(entry.0, 0x0840_0083);
        assert_eq!(entry.address(), 0x0840_0000);
        assert!(entry.is_large());
    }

    #[test]
    fn write_combining_takes_pat_entry_one_and_leaves_the_others() {
        // The power-on PAT: WB, WT, UC-, UC, then the same again.
        const POWER_ON: u64 = 0x0007_0406_0007_0406;
        assert_eq!(pat_with_write_combining(POWER_ON), 0x0007_0406_0007_0106);
        let entry = |bits: u32| {
            ((bits & WRITE_THROUGH != 0) as u32) | ((bits & CACHE_DISABLE != 0) as u32) << 1
        };
        let pat = pat_with_write_combining(POWER_ON);
        let memory_type = |caching: Caching| (pat >> (entry(caching.entry_bits()) * 8)) & 0xff;
        assert_eq!(memory_type(Caching::WriteCombining), PAT_WRITE_COMBINING);
        assert_eq!(memory_type(Caching::Uncached), 0x00);
    }

    #[test]
    fn virtual_addresses_split_into_directory_and_table_indices() {
        assert_eq!(directory_index(0xd000_0000), 0x340);
        assert_eq!(table_index(0xd000_5000), 5);
        assert_eq!(directory_index(0x003f_ffff), 0);
        assert_eq!(table_index(0x003f_f000), 1023);
    }
}
