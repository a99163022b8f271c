//! Starting an application processor: the real-mode trampoline (asm/ap_trampoline.asm) copied
//! to a page below 1 MiB, its parameters filled in, then INIT and two startup IPIs (Intel SDM
//! Vol. 3A §9.4.4.1; MultiProcessor Specification 1.4 appendix B.4).

use core::mem::size_of;

use super::cpu::{read_cr0, read_cr3, read_cr4};
use super::gdt::KERNEL_CODE_SELECTOR;
use super::local_apic;

unsafe extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_protected_mode: u8;
    static ap_trampoline_gdt: u8;
    static ap_trampoline_end: u8;
}

/// The parameter block at the end of the trampoline, as asm/ap_trampoline.asm lays it out.
#[repr(C)]
struct TrampolineParameters {
    /// Linear address of the 32-bit code in the page, and its selector: a far pointer.
    protected_mode: u32,
    code_selector: u16,
    padding: [u16; 2],
    /// The temporary GDT's pseudo-descriptor (`lgdt` operand).
    gdt_limit: u16,
    gdt_base: u32,
    cr0: u32,
    cr3: u32,
    cr4: u32,
    stack_top: u32,
    entry: u32,
    argument: u32,
}

const _: () = assert!(size_of::<TrampolineParameters>() == 40);

/// The page size, and the highest page a startup IPI can name (its vector is the page number).
const PAGE_BYTES: u32 = 4096;
const LOWEST_PAGE_ABOVE_1_MIB: u32 = 0x10_0000;

/// What the processor runs once in protected mode, on its stack, with `argument`.
pub type ProcessorEntry = extern "C" fn(argument: u32) -> !;

/// Why a processor could not be sent its startup IPIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupError {
    /// The page for the trampoline is not page-aligned below 1 MiB.
    BadTrampolinePage,
    /// The local APIC never reported an IPI as delivered.
    NotDelivered,
}

impl core::fmt::Display for StartupError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StartupError::BadTrampolinePage => {
                write!(formatter, "the trampoline page is not a page below 1 MiB")
            }
            StartupError::NotDelivered => {
                write!(formatter, "the local APIC did not deliver the IPI")
            }
        }
    }
}

/// The bytes the trampoline takes in its page.
pub fn trampoline_bytes() -> u32 {
    let start = &raw const ap_trampoline_start as u32;
    let end = &raw const ap_trampoline_end as u32;
    end - start
}

/// Copies the trampoline to `page` (identity-mapped, free, below 1 MiB) with its parameters,
/// so that a processor started there calls `entry(argument)` on `stack_top`.
///
/// # Safety
/// The page must be RAM nothing else uses until the processor has started (or given up on),
/// identity-mapped and writable; `stack_top` must be the top of a stack only that processor
/// uses.
pub unsafe fn prepare_trampoline(
    page: u32,
    stack_top: u32,
    entry: ProcessorEntry,
    argument: u32,
) -> Result<(), StartupError> {
    if !page.is_multiple_of(PAGE_BYTES) || page + PAGE_BYTES > LOWEST_PAGE_ABOVE_1_MIB || page == 0
    {
        return Err(StartupError::BadTrampolinePage);
    }
    let start = &raw const ap_trampoline_start as u32;
    let length = trampoline_bytes();
    let offset_of = |symbol: *const u8| symbol as u32 - start;
    let parameters = TrampolineParameters {
        protected_mode: page + offset_of(&raw const ap_trampoline_protected_mode),
        code_selector: KERNEL_CODE_SELECTOR,
        padding: [0; 2],
        gdt_limit: 3 * 8 - 1,
        gdt_base: page + offset_of(&raw const ap_trampoline_gdt),
        cr0: read_cr0(),
        cr3: read_cr3(),
        cr4: read_cr4(),
        stack_top,
        entry: entry as *const () as u32,
        argument,
    };
    let destination = page as usize as *mut u8;
    // SAFETY: the caller guarantees the page is free, mapped and writable; the trampoline is
    // shorter than a page (checked by the linker script's assertion on its length) and lies
    // in the kernel image.
    unsafe {
        core::ptr::copy_nonoverlapping(&raw const ap_trampoline_start, destination, length as usize)
    };
    let block = (page + length - size_of::<TrampolineParameters>() as u32) as usize
        as *mut TrampolineParameters;
    // SAFETY: the block is the last 40 bytes of the copy just made, 4-byte aligned (the
    // assembly aligns it), in the caller's page.
    unsafe { block.write(parameters) };
    Ok(())
}

/// Sends INIT, waits `wait_after_init`, then the startup IPI for `page` (twice, as the
/// specification asks, with `wait_between_startups` in between unless `started` already says
/// the processor runs).
pub fn send_startup_sequence(
    apic_id: u8,
    page: u32,
    wait_after_init: impl Fn(),
    wait_between_startups: impl Fn(),
    started: impl Fn() -> bool,
) -> Result<(), StartupError> {
    if !page.is_multiple_of(PAGE_BYTES) || page >= LOWEST_PAGE_ABOVE_1_MIB || page == 0 {
        return Err(StartupError::BadTrampolinePage);
    }
    local_apic::send_init(apic_id);
    if !local_apic::wait_for_delivery() {
        return Err(StartupError::NotDelivered);
    }
    wait_after_init();
    for _ in 0..2 {
        local_apic::send_startup(apic_id, (page / PAGE_BYTES) as u8);
        if !local_apic::wait_for_delivery() {
            return Err(StartupError::NotDelivered);
        }
        wait_between_startups();
        if started() {
            break;
        }
    }
    Ok(())
}
