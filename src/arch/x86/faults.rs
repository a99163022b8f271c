//! Instructions that fault on purpose, for the diagnostics' fault scenarios. Each is inlined
//! into its caller so a backtrace names the scenario, not this module.

use core::arch::asm;

/// `div` by zero: #DE (vector 0). Rust's `/` would panic before dividing.
#[inline(always)]
pub fn divide_by_zero(divisor: u32) {
    // SAFETY: with a zero divisor the division faults and the fatal handler never returns;
    // with any other it only changes the declared registers.
    unsafe {
        asm!("div {divisor:e}", divisor = in(reg) divisor, inout("eax") 1u32 => _, inout("edx") 0u32 => _)
    };
}

/// `ud2`, the instruction defined to be invalid: #UD (vector 6).
#[inline(always)]
pub fn invalid_opcode() {
    // SAFETY: raises #UD; the fatal handler never returns here.
    unsafe { asm!("ud2", options(nomem, nostack)) };
}

/// Loads DS with `selector`: #GP (vector 13) with the selector as the error code when it lies
/// beyond the GDT.
#[inline(always)]
pub fn load_data_segment(selector: u16) {
    // SAFETY: callers pass a selector past the GDT's end: the load faults before DS changes,
    // and the fatal handler never returns here.
    unsafe { asm!("mov ds, {0:x}", in(reg) selector, options(nostack)) };
}

/// Reads the word at `address`, which callers choose because it is unmapped: #PF.
#[inline(always)]
pub fn read_unmapped(address: u32) {
    // SAFETY: the read of an unmapped page faults; the fatal handler never returns here.
    unsafe { asm!("mov {0:e}, [{1:e}]", out(reg) _, in(reg) address, options(nostack, readonly)) };
}

/// Writes a byte at `address`, which callers choose because it is read-only: #PF.
#[inline(always)]
pub fn write_read_only(address: u32) {
    // SAFETY: the write to a read-only page faults before changing anything (CR0.WP is set);
    // the fatal handler never returns here.
    unsafe { asm!("mov byte ptr [{0:e}], 0xcc", in(reg) address, options(nostack)) };
}
