//! Single CPU instructions: halting, the time-stamp counter, CPUID, interrupt flag.

use core::arch::asm;

/// Stops the CPU for good: interrupts off, then `hlt` forever (an NMI only wakes it briefly).
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: `cli; hlt` touches no memory; stopping here is the intent.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// Reads the time-stamp counter (Intel SDM Vol. 2B, RDTSC).
pub fn read_time_stamp_counter() -> u64 {
    let low: u32;
    let high: u32;
    // SAFETY: RDTSC reads a counter into EDX:EAX and has no other effect (CR4.TSD is clear).
    unsafe {
        asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags))
    };
    (u64::from(high) << 32) | u64::from(low)
}

/// The four registers CPUID fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuidResult {
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
}

/// Runs CPUID for `leaf` and `subleaf` (Intel SDM Vol. 2A, CPUID). The boot stub checked that
/// the instruction exists.
pub fn cpuid(leaf: u32, subleaf: u32) -> CpuidResult {
    // CPUID exists: asm/boot.asm checked before any Rust ran.
    let result = core::arch::x86::__cpuid_count(leaf, subleaf);
    CpuidResult {
        eax: result.eax,
        ebx: result.ebx,
        ecx: result.ecx,
        edx: result.edx,
    }
}

/// Reads control register CR0.
pub fn read_cr0() -> u32 {
    let value: u32;
    // SAFETY: reading CR0 at ring 0 has no side effects.
    unsafe { asm!("mov {}, cr0", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Reads control register CR4.
pub fn read_cr4() -> u32 {
    let value: u32;
    // SAFETY: reading CR4 at ring 0 has no side effects.
    unsafe { asm!("mov {}, cr4", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Spins briefly in a way the CPU knows is a wait loop.
pub fn spin_loop_hint() {
    core::hint::spin_loop();
}
