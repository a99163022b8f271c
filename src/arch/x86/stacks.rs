//! The kernel's own stacks: where they are, the guard that catches an overflow of the boot
//! stack, and reading their words for a backtrace.
//!
//! Until paging is on, nothing stops the boot stack from running past its bottom: the
//! expand-down stack segment (gdt.rs) would, but emulators that skip segment-limit checks
//! (QEMU's TCG among them) ignore it. So `arm_boot_stack_watchpoints` sets debug-register
//! watchpoints on the lowest words of the boot stack; their #DB goes through a task gate to
//! the double-fault task. Once paging leaves the guard pages unmapped, `rely_on_guard_pages`
//! turns the watchpoints off.

use super::cpu::{clear_watchpoints, set_write_watchpoints};
use super::gdt;
use super::linker_symbols;

/// How far apart the four watched words at the bottom of the boot stack are: a frame would have
/// to leave this many bytes unwritten, four times over, to slip past them.
const WATCHPOINT_SPACING_BYTES: u32 = 64;

/// The boot stack as (lowest address, one past the highest).
pub fn boot_stack_bounds() -> (u32, u32) {
    linker_symbols::boot_stack_bounds()
}

/// The page below the boot stack, which paging leaves unmapped.
pub fn boot_stack_guard_page() -> u32 {
    linker_symbols::boot_stack_guard_page()
}

/// The running CPU's double-fault stack as (lowest address, one past the highest).
pub fn double_fault_stack_bounds() -> (u32, u32) {
    gdt::double_fault_stack_bounds()
}

/// Whether `page` is the page below a CPU's double-fault stack, which paging leaves unmapped.
pub fn is_double_fault_stack_guard_page(page: u32) -> bool {
    gdt::is_double_fault_stack_guard_page(page)
}

/// Watches the lowest words of the boot stack for writes (see the module comment).
pub fn arm_boot_stack_watchpoints() {
    let (bottom, _) = boot_stack_bounds();
    let spacing = WATCHPOINT_SPACING_BYTES;
    set_write_watchpoints([bottom, bottom + spacing, bottom + 2 * spacing, bottom + 3 * spacing]);
}

/// Turns the watchpoints off once paging's unmapped guard pages catch overflows instead.
pub fn rely_on_guard_pages() {
    clear_watchpoints();
}

/// Reads the word at `address` if it lies wholly inside one of `stacks` (lowest address, one
/// past the highest), so a corrupt frame pointer cannot send a backtrace into unmapped or
/// device memory.
pub fn read_stack_word(address: u32, stacks: &[(u32, u32)]) -> Option<u32> {
    let end = address.checked_add(4)?;
    stacks.iter().find(|(bottom, top)| address >= *bottom && end <= *top)?;
    // SAFETY: the caller names only stacks that are always mapped and readable (the kernel's
    // own, whose pages paging never unmaps); the value may be stale, which only makes the
    // backtrace shorter.
    Some(unsafe { core::ptr::read_volatile(address as *const u32) })
}

/// Writes `word` over every word of [bottom, top).
///
/// # Safety
/// The range must be mapped, writable, and used by nothing else.
pub unsafe fn fill_words(bottom: u32, top: u32, word: u32) {
    let words = ((top - bottom) / 4) as usize;
    // SAFETY: forwarded from the caller.
    unsafe { core::slice::from_raw_parts_mut(bottom as usize as *mut u32, words).fill(word) };
}

/// How many words from `bottom` up still hold `word`, read one at a time (a running thread may
/// be writing the rest).
///
/// # Safety
/// The range must be mapped and readable.
pub unsafe fn count_leading_words(bottom: u32, top: u32, word: u32) -> u32 {
    let mut count = 0;
    for address in (bottom..top).step_by(4) {
        // SAFETY: forwarded from the caller; a volatile read of a word another thread may
        // write gives an old or a new value, either of which ends or continues the count.
        if unsafe { core::ptr::read_volatile(address as usize as *const u32) } != word {
            break;
        }
        count += 1;
    }
    count
}
