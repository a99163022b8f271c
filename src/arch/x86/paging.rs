//! 32-bit paging (Intel SDM Vol. 3A §4.3): one page directory, 4 KiB pages with per-section
//! permissions for the first 4 MiB (where the kernel lives), 4 MiB pages identity-mapping the
//! rest of RAM, 4 KiB pages mapped on demand for the heap, and 4 MiB pages for device memory
//! (the framebuffer) in a range of its own, write-combining through the PAT where the CPU has it.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::cpu::{cpuid, read_cr0, read_cr3, read_cr4, read_msr, write_msr};
use super::gdt::set_double_fault_page_directory;
use super::linker_symbols::kernel_image;
use super::page_table::{
    CACHE_DISABLE, Caching, ENTRIES_PER_TABLE, LARGE_PAGE_BYTES, PAGE_BYTES, PRESENT,
    PageTableEntry, WRITABLE, WRITE_THROUGH, directory_index, pat_with_write_combining,
    table_index,
};
use super::stacks::{boot_stack_guard_page, is_double_fault_stack_guard_page};

const CR0_WRITE_PROTECT: u32 = 1 << 16; // the kernel, too, faults on writes to read-only pages
const CR0_PAGING: u32 = 1 << 31;
const CR4_PAGE_SIZE_EXTENSIONS: u32 = 1 << 4; // 4 MiB pages
const CPUID_EDX_PSE: u32 = 1 << 3;
const CPUID_EDX_PAT: u32 = 1 << 16; // page attribute table (SDM Vol. 3A §11.12)
const IA32_PAT: u32 = 0x277;

/// Device memory is mapped from here up, apart from RAM's identity map (below 3 GiB) and the
/// heap (0xD000_0000 to 0xD400_0000): 256 MiB, 64 page-directory entries of 4 MiB pages.
pub const DEVICE_MEMORY_START: u32 = 0xe000_0000;
pub const DEVICE_MEMORY_END: u32 = 0xf000_0000;
/// Bytes of the device range handed out so far (an offset, so the static is zero).
static DEVICE_MEMORY_USED: AtomicU32 = AtomicU32::new(0);
/// Whether PAT entry 1 has been made write-combining.
static WRITE_COMBINING_READY: AtomicBool = AtomicBool::new(false);

/// A page directory or page table: 1024 entries in one 4 KiB page.
#[repr(C, align(4096))]
pub struct PageTable([PageTableEntry; ENTRIES_PER_TABLE]);

struct PageTableCell(UnsafeCell<PageTable>);

// SAFETY: changed only by `enable_paging` (once, interrupts off) and `map_page`, whose callers
// hold the heap's lock; the CPU reads them.
unsafe impl Sync for PageTableCell {}

static PAGE_DIRECTORY: PageTableCell =
    PageTableCell(UnsafeCell::new(PageTable([PageTableEntry(0); ENTRIES_PER_TABLE])));
/// Maps the first 4 MiB page by page.
static LOW_PAGE_TABLE: PageTableCell =
    PageTableCell(UnsafeCell::new(PageTable([PageTableEntry(0); ENTRIES_PER_TABLE])));

/// Why paging could not be turned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingError {
    /// The CPU has no 4 MiB pages (CPUID PSE); every SSE2 CPU has them.
    NoLargePages,
}

/// The permissions a page in the first 4 MiB gets: none for the null page and the guard pages,
/// read-only for code and constants, read-write for everything else.
fn low_page_entry(address: u32) -> PageTableEntry {
    let image = kernel_image();
    let inside = |(start, end): (u32, u32)| (start..end).contains(&address);
    if address == 0
        || address == boot_stack_guard_page()
        || is_double_fault_stack_guard_page(address)
    {
        PageTableEntry::NOT_PRESENT
    } else if inside(image.code) || inside(image.constants) || inside(image.symbols) {
        PageTableEntry::new(address, PRESENT)
    } else {
        PageTableEntry::new(address, PRESENT | WRITABLE)
    }
}

/// Builds the page tables, identity-mapping physical memory up to `identity_end`, and turns
/// paging on with write protection. Runs once, with interrupts off.
pub fn enable_paging(identity_end: u32) -> Result<(), PagingError> {
    if cpuid(1, 0).edx & CPUID_EDX_PSE == 0 {
        return Err(PagingError::NoLargePages);
    }
    let directory = PAGE_DIRECTORY.0.get();
    let low_table = LOW_PAGE_TABLE.0.get();
    // SAFETY: nothing else uses the tables yet, and paging is still off, so writing them
    // changes nothing until CR3 and CR0 are set below.
    let low_entries = unsafe { &mut (*low_table).0 };
    for (index, entry) in low_entries.iter_mut().enumerate() {
        *entry = low_page_entry(index as u32 * PAGE_BYTES);
    }
    // SAFETY: as for the low table.
    let directory_entries = unsafe { &mut (*directory).0 };
    directory_entries[0] = PageTableEntry::new(low_table as u32, PRESENT | WRITABLE);
    let large_pages = identity_end.div_ceil(LARGE_PAGE_BYTES) as usize;
    for (index, entry) in directory_entries.iter_mut().enumerate().take(large_pages).skip(1) {
        *entry = PageTableEntry::large(index as u32 * LARGE_PAGE_BYTES, PRESENT | WRITABLE);
    }
    set_double_fault_page_directory(directory as u32);
    if cpuid(1, 0).edx & CPUID_EDX_PAT != 0 {
        // SAFETY: the CPU has the PAT, and no mapping uses entry 1 (PWT without PCD) yet, so
        // giving it a new memory type changes nothing already mapped.
        unsafe { write_msr(IA32_PAT, pat_with_write_combining(read_msr(IA32_PAT))) };
        WRITE_COMBINING_READY.store(true, Ordering::Relaxed);
    }
    // SAFETY: 4 MiB pages are what the directory's large entries need (PSE checked above).
    unsafe {
        asm!("mov cr4, {:e}", in(reg) read_cr4() | CR4_PAGE_SIZE_EXTENSIONS, options(nostack))
    };
    // SAFETY: the directory identity-maps the kernel, its stacks and all RAM it uses, so
    // every address in use stays valid when paging starts.
    unsafe { asm!("mov cr3, {:e}", in(reg) directory as u32, options(nostack)) };
    // SAFETY: as above; write protection only makes the read-only pages fault on writes.
    unsafe {
        asm!("mov cr0, {:e}", in(reg) read_cr0() | CR0_PAGING | CR0_WRITE_PROTECT, options(nostack))
    };
    Ok(())
}

/// Gives an application processor the memory types the bootstrap processor set up (the PAT
/// entry for write-combining), so every CPU maps the framebuffer alike.
pub fn apply_memory_types_on_this_cpu() {
    if WRITE_COMBINING_READY.load(Ordering::Relaxed) {
        // SAFETY: as in `enable_paging`: the CPU has the PAT (the bootstrap processor found it),
        // and this CPU has not yet used any mapping with entry 1.
        unsafe { write_msr(IA32_PAT, pat_with_write_combining(read_msr(IA32_PAT))) };
    }
}

/// Why a page could not be mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No frame was left for a new page table.
    NoFrameForTable,
    /// The address is already mapped (identity map or an earlier mapping).
    AlreadyMapped,
}

/// The page table covering `virtual_address`, made (empty, in the physical frame
/// `allocate_table` returns) if there is none yet.
///
/// # Safety
/// As for `map_page`.
pub unsafe fn prepare_page_table(
    virtual_address: u32,
    allocate_table: &mut dyn FnMut() -> Option<u32>,
) -> Result<*mut PageTable, MapError> {
    // SAFETY: the caller serialises access to the tables.
    let directory = unsafe { &mut (*PAGE_DIRECTORY.0.get()).0 };
    let directory_entry = &mut directory[directory_index(virtual_address)];
    if directory_entry.is_large() {
        return Err(MapError::AlreadyMapped);
    }
    if !directory_entry.is_present() {
        let table_frame = allocate_table().ok_or(MapError::NoFrameForTable)?;
        // SAFETY: the frame is free, identity-mapped RAM that now belongs to this table.
        unsafe { core::ptr::write_bytes(table_frame as usize as *mut u8, 0, PAGE_BYTES as usize) };
        *directory_entry = PageTableEntry::new(table_frame, PRESENT | WRITABLE);
    }
    Ok(directory_entry.address() as usize as *mut PageTable)
}

/// Maps the 4 KiB page at `virtual_address` to the physical frame at `frame`, read-write,
/// taking a frame from `allocate_table` if a new page table is needed.
///
/// # Safety
/// `virtual_address` must not be in use by anything else, and the caller must serialise
/// calls (the heap calls it under its lock). New page tables come from identity-mapped frames.
pub unsafe fn map_page(
    virtual_address: u32,
    frame: u32,
    allocate_table: &mut dyn FnMut() -> Option<u32>,
) -> Result<(), MapError> {
    // SAFETY: forwarded from the caller.
    let table = unsafe { prepare_page_table(virtual_address, allocate_table)? };
    // SAFETY: page tables live in identity-mapped frames, and the caller serialises access.
    let entry = unsafe { &mut (*table).0[table_index(virtual_address)] };
    if entry.is_present() {
        return Err(MapError::AlreadyMapped);
    }
    *entry = PageTableEntry::new(frame, PRESENT | WRITABLE);
    // SAFETY: dropping the stale translation of a page that was not mapped has no other effect.
    unsafe { asm!("invlpg [{}]", in(reg) virtual_address, options(nostack, preserves_flags)) };
    Ok(())
}

/// Unmaps the 4 KiB page at `virtual_address` and returns the frame it was mapped to, if it was
/// mapped by a page table.
///
/// # Safety
/// Nothing may use the page any more, and the caller must serialise calls for the range, as
/// for `map_page`.
pub unsafe fn unmap_page(virtual_address: u32) -> Option<u32> {
    // SAFETY: a plain read of the directory, which lives for good.
    let directory_entry = unsafe { (*PAGE_DIRECTORY.0.get()).0[directory_index(virtual_address)] };
    if !directory_entry.is_present() || directory_entry.is_large() {
        return None;
    }
    let table = directory_entry.address() as usize as *mut PageTable;
    // SAFETY: page tables live in identity-mapped frames, and the caller serialises access.
    let entry = unsafe { &mut (*table).0[table_index(virtual_address)] };
    if !entry.is_present() {
        return None;
    }
    let frame = entry.address();
    *entry = PageTableEntry::NOT_PRESENT;
    // SAFETY: the caller guarantees nothing uses the page; dropping its translation makes the
    // next access fault, as intended.
    unsafe { asm!("invlpg [{}]", in(reg) virtual_address, options(nostack, preserves_flags)) };
    Some(frame)
}

/// The entry that maps `virtual_address` (a page table entry, or a 4 MiB directory entry).
pub fn translate(virtual_address: u32) -> PageTableEntry {
    // SAFETY: a plain read of the directory, which lives for good.
    let directory_entry = unsafe { (*PAGE_DIRECTORY.0.get()).0[directory_index(virtual_address)] };
    if !directory_entry.is_present() || directory_entry.is_large() {
        return directory_entry;
    }
    let table = directory_entry.address() as usize as *const PageTable;
    // SAFETY: present page tables are identity-mapped frames that are never freed.
    unsafe { (*table).0[table_index(virtual_address)] }
}

/// Why device memory could not be mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceMapError {
    /// The memory reaches above 4 GiB, which 32-bit paging cannot map.
    AboveFourGib,
    /// The device range (256 MiB) has no room left.
    NoVirtualSpace,
    /// Paging is not on yet.
    PagingOff,
}

/// The best memory type this CPU offers for a framebuffer: write-combining with the PAT,
/// else uncached.
pub fn framebuffer_caching() -> Caching {
    if WRITE_COMBINING_READY.load(Ordering::Relaxed) {
        Caching::WriteCombining
    } else {
        Caching::Uncached
    }
}

/// Maps `length` bytes of device memory at physical `address` into the device range with 4 MiB
/// pages, readable and writable, cached as `caching`; returns the virtual address of `address`.
/// The pages before and after it in the same 4 MiB are mapped too, and are never touched.
pub fn map_device_memory(
    address: u64,
    length: usize,
    caching: Caching,
) -> Result<u32, DeviceMapError> {
    if !paging_enabled() {
        return Err(DeviceMapError::PagingOff);
    }
    let end = address.checked_add(length as u64).filter(|&end| end <= 1 << 32);
    let end = end.ok_or(DeviceMapError::AboveFourGib)?;
    let first_page = address & !u64::from(LARGE_PAGE_BYTES - 1);
    let pages = (end - first_page).div_ceil(u64::from(LARGE_PAGE_BYTES)) as u32;
    let size = pages * LARGE_PAGE_BYTES;
    let range_bytes = DEVICE_MEMORY_END - DEVICE_MEMORY_START;
    let start = DEVICE_MEMORY_START
        + DEVICE_MEMORY_USED
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(size).filter(|&new_used| new_used <= range_bytes)
            })
            .map_err(|_| DeviceMapError::NoVirtualSpace)?;
    // SAFETY: the directory entries of [start, start + size) were never used (the range is
    // handed out once); filling them changes no existing translation.
    let directory = unsafe { &mut (*PAGE_DIRECTORY.0.get()).0 };
    for page in 0..pages {
        let virtual_address = start + page * LARGE_PAGE_BYTES;
        let physical = first_page as u32 + page * LARGE_PAGE_BYTES;
        directory[directory_index(virtual_address)] =
            PageTableEntry::large(physical, PRESENT | WRITABLE | caching.entry_bits());
    }
    Ok(start + (address - first_page) as u32)
}

/// Changes the memory type of device memory mapped by `map_device_memory` at `virtual_address`
/// (the benchmarks compare write-combining with uncached).
pub fn set_device_caching(virtual_address: u32, length: usize, caching: Caching) {
    let first = virtual_address & !(LARGE_PAGE_BYTES - 1);
    let end = virtual_address as u64 + length as u64;
    let used_end = DEVICE_MEMORY_START + DEVICE_MEMORY_USED.load(Ordering::Relaxed);
    if first < DEVICE_MEMORY_START || end > u64::from(used_end) {
        return;
    }
    // SAFETY: the entries belong to device mappings; only their memory type changes.
    let directory = unsafe { &mut (*PAGE_DIRECTORY.0.get()).0 };
    let mut page = u64::from(first);
    while page < end {
        let entry = &mut directory[directory_index(page as u32)];
        entry.0 = (entry.0 & !(WRITE_THROUGH | CACHE_DISABLE)) | caching.entry_bits();
        page += u64::from(LARGE_PAGE_BYTES);
    }
    // SAFETY: reloading CR3 with the same directory only drops cached translations, so the
    // new memory type applies from the next access.
    unsafe { asm!("mov cr3, {:e}", in(reg) read_cr3(), options(nostack)) };
}

/// Whether paging is on (CR0.PG).
pub fn paging_enabled() -> bool {
    read_cr0() & CR0_PAGING != 0
}
