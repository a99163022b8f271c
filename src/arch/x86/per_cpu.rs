//! Which CPU is running: each CPU's GS segment (gdt.rs) has its base at that CPU's block, whose
//! first word is the CPU's index, 0 for the bootstrap processor and 1, 2, ... for the others in
//! the order they start.

use core::arch::asm;

/// The most CPUs the kernel runs on; CPUs beyond it are reported and left out.
pub const MAX_CPUS: usize = 8;

/// A CPU's own block, as its GS segment covers it.
#[repr(C)]
struct CpuBlock {
    index: u32,
}

/// The bytes of a block, which the GS segment's limit covers.
pub const BLOCK_BYTES: u32 = core::mem::size_of::<CpuBlock>() as u32;

static CPU_BLOCKS: [CpuBlock; MAX_CPUS] = {
    let mut blocks = [const { CpuBlock { index: 0 } }; MAX_CPUS];
    let mut index = 0;
    while index < MAX_CPUS {
        blocks[index].index = index as u32;
        index += 1;
    }
    blocks
};

/// Where CPU `cpu`'s block is, for its GS descriptor.
pub fn block_address(cpu: usize) -> u32 {
    &CPU_BLOCKS[cpu] as *const CpuBlock as u32
}

/// The index of the CPU running this, from 0. Only meaningful where the caller cannot move to
/// another CPU while using it: with interrupts off, or in a spin-locked section.
pub fn current_index() -> usize {
    let index: u32;
    // SAFETY: `gdt::load` runs first on every CPU and loads GS with the segment over that CPU's
    // block, whose first word is the index; the read has no other effect.
    unsafe {
        asm!("mov {:e}, gs:[0]", out(reg) index, options(nostack, readonly, preserves_flags))
    };
    index as usize
}
