//! Addresses the linker script and boot stub export: stack bounds, text bounds, symbol table.

use core::ptr::addr_of;

unsafe extern "C" {
    static boot_stack_guard: u8;
    static boot_stack_bottom: u8;
    static boot_stack_top: u8;
    static kernel_start: u8;
    static rodata_start: u8;
    static data_start: u8;
    static writable_end: u8;
    static kernel_end: u8;
    static kernel_symbols_start: u8;
    static kernel_symbols_end: u8;
}

/// The boot stack as (lowest address, one past the highest).
pub fn boot_stack_bounds() -> (u32, u32) {
    // Taking a linker symbol's address reads no memory.
    (addr_of!(boot_stack_bottom) as u32, addr_of!(boot_stack_top) as u32)
}

/// The page below the boot stack, left unmapped so an overflow faults.
pub fn boot_stack_guard_page() -> u32 {
    addr_of!(boot_stack_guard) as u32
}

/// The kernel image's parts as page-aligned (start, end) pairs: code; constants; writable
/// data (.data and .bss); the function-name table.
pub struct KernelImage {
    pub code: (u32, u32),
    pub constants: (u32, u32),
    pub writable: (u32, u32),
    pub symbols: (u32, u32),
}

impl KernelImage {
    /// The whole image, from its first to its last page.
    pub fn range(&self) -> (u32, u32) {
        (self.code.0, self.symbols.1)
    }
}

pub fn kernel_image() -> KernelImage {
    let start = addr_of!(kernel_start) as u32;
    let rodata = addr_of!(rodata_start) as u32;
    let data = addr_of!(data_start) as u32;
    let writable = addr_of!(writable_end) as u32;
    let end = addr_of!(kernel_end) as u32;
    KernelImage {
        code: (start, rodata),
        constants: (rodata, data),
        writable: (data, writable),
        symbols: (writable, end),
    }
}

/// The area `tools/embed-symbols` fills with the function-name table.
pub fn symbol_table_bytes() -> &'static [u8] {
    let start = addr_of!(kernel_symbols_start);
    let length = addr_of!(kernel_symbols_end) as usize - start as usize;
    // SAFETY: linker.ld places both symbols around the .kernel_symbols section, which is part of
    // the loaded, read-only image and never written at run time.
    unsafe { core::slice::from_raw_parts(start, length) }
}
