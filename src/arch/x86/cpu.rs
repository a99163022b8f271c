//! Single CPU instructions: halting, the time-stamp counter, CPUID, control, debug and
//! segment registers, the interrupt flag.

use core::arch::asm;

use super::vectors::{XMM_CLOBBER_TEST_VECTOR, is_safe_software_interrupt};

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
    CpuidResult { eax: result.eax, ebx: result.ebx, ecx: result.ecx, edx: result.edx }
}

/// Reads the model-specific register `register` (RDMSR; the CPU must have MSRs, CPUID.01H:EDX.MSR).
pub fn read_msr(register: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: reading an architectural MSR the caller checked the CPU has changes nothing.
    unsafe {
        asm!("rdmsr", in("ecx") register, out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags))
    };
    (u64::from(high) << 32) | u64::from(low)
}

/// Writes `value` to the model-specific register `register` (WRMSR).
///
/// # Safety
/// The register must exist and `value` must be valid for it, and the change must not alter
/// the meaning of memory or state anything in use relies on.
pub unsafe fn write_msr(register: u32, value: u64) {
    // SAFETY: forwarded from the caller.
    unsafe {
        asm!("wrmsr", in("ecx") register, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack, preserves_flags))
    };
}

/// Reads control register CR0.
pub fn read_cr0() -> u32 {
    let value: u32;
    // SAFETY: reading CR0 at ring 0 has no side effects.
    unsafe { asm!("mov {:e}, cr0", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Reads control register CR4.
pub fn read_cr4() -> u32 {
    let value: u32;
    // SAFETY: reading CR4 at ring 0 has no side effects.
    unsafe { asm!("mov {:e}, cr4", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Spins briefly in a way the CPU knows is a wait loop.
pub fn spin_loop_hint() {
    core::hint::spin_loop();
}

/// Reads control register CR2, the address of the last page fault.
pub fn read_cr2() -> u32 {
    let value: u32;
    // SAFETY: reading CR2 at ring 0 has no side effects.
    unsafe { asm!("mov {:e}, cr2", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Reads control register CR3, the page-directory base.
pub fn read_cr3() -> u32 {
    let value: u32;
    // SAFETY: reading CR3 at ring 0 has no side effects.
    unsafe { asm!("mov {:e}, cr3", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// The current frame pointer (EBP), where a backtrace of the caller starts.
#[inline(always)]
pub fn read_frame_pointer() -> u32 {
    let value: u32;
    // SAFETY: copying EBP into another register has no side effects.
    unsafe { asm!("mov {:e}, ebp", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Raises a breakpoint exception (`int3`); the handler notes it and execution continues.
#[inline(always)]
pub fn breakpoint() {
    // SAFETY: the IDT handles vector 3 as a trap that returns.
    unsafe { asm!("int3", options(nomem, nostack)) };
}

/// Raises software interrupt `VECTOR` (`int n`). Vectors that reach the double-fault task or
/// a PIC's handler are refused at compile time.
#[inline(always)]
pub fn software_interrupt<const VECTOR: u8>() {
    const { assert!(is_safe_software_interrupt(VECTOR), "this vector must not be raised by int") };
    // SAFETY: the vector is neither a task gate nor a PIC line (checked above); its gate leads
    // to the dispatcher, which notes traps and counts vectors without a handler, then returns.
    unsafe { asm!("int {vector}", vector = const VECTOR, options(nomem, nostack)) };
}

/// DR7 bits for one breakpoint: enable locally (L0), break on data writes (R/W0 = 01), four
/// bytes wide (LEN0 = 11); Intel SDM Vol. 3B §18.2.4.
const DR7_LOCAL_ENABLE: u32 = 1;
const DR7_WRITE_FOUR_BYTES: u32 = 0b1101;

/// Arms debug registers DR0-DR3 to trap (#DB, vector 1) on any write to the four-byte words at
/// `addresses`.
pub fn set_write_watchpoints(addresses: [u32; 4]) {
    let mut control = 0;
    for index in 0..4 {
        control |= DR7_LOCAL_ENABLE << (index * 2);
        control |= DR7_WRITE_FOUR_BYTES << (16 + index * 4);
    }
    // SAFETY: writing debug registers at ring 0 only arms breakpoints; vector 1 has a handler.
    unsafe {
        asm!(
            "mov dr0, {0:e}",
            "mov dr1, {1:e}",
            "mov dr2, {2:e}",
            "mov dr3, {3:e}",
            "mov dr7, {4:e}",
            in(reg) addresses[0],
            in(reg) addresses[1],
            in(reg) addresses[2],
            in(reg) addresses[3],
            in(reg) control,
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// Reads DR6, whose low four bits say which of DR0-DR3 triggered the last #DB.
pub fn read_debug_status() -> u32 {
    let value: u32;
    // SAFETY: reading DR6 at ring 0 has no side effects.
    unsafe { asm!("mov {:e}, dr6", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// The selectors in CS, DS, SS and the task register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSelectors {
    pub code: u16,
    pub data: u16,
    pub stack: u16,
    pub task: u16,
}

/// Reads the segment registers and the task register.
pub fn read_segment_selectors() -> SegmentSelectors {
    let (code, data, stack, task): (u32, u32, u32, u32);
    // SAFETY: moving segment registers into general registers and `str` have no side effects.
    unsafe {
        asm!(
            "mov {code:e}, cs",
            "mov {data:e}, ds",
            "mov {stack:e}, ss",
            "str {task:e}",
            code = out(reg) code,
            data = out(reg) data,
            stack = out(reg) stack,
            task = out(reg) task,
            options(nomem, nostack, preserves_flags)
        )
    };
    SegmentSelectors {
        code: code as u16,
        data: data as u16,
        stack: stack as u16,
        task: task as u16,
    }
}

/// Loads `value` into XMM0, raises the XMM-clobbering test vector, and returns XMM0 afterwards.
pub fn xmm0_across_clobbering_interrupt(value: f32) -> f32 {
    let bits: u32;
    // SAFETY: vector 0x42 returns after overwriting XMM registers, which the entry stub saves
    // and restores; XMM0 is declared clobbered here regardless.
    unsafe {
        asm!(
            "movd xmm0, {input:e}",
            "int {vector}",
            "movd {output:e}, xmm0",
            input = in(reg) value.to_bits(),
            output = out(reg) bits,
            vector = const XMM_CLOBBER_TEST_VECTOR,
            out("xmm0") _,
        )
    };
    f32::from_bits(bits)
}

/// Fills XMM0-XMM7 with all-ones, as a handler that uses SSE would leave them.
pub fn clobber_xmm_registers() {
    // SAFETY: only the listed XMM registers change.
    unsafe {
        asm!(
            "pcmpeqd xmm0, xmm0",
            "pcmpeqd xmm1, xmm1",
            "pcmpeqd xmm2, xmm2",
            "pcmpeqd xmm3, xmm3",
            "pcmpeqd xmm4, xmm4",
            "pcmpeqd xmm5, xmm5",
            "pcmpeqd xmm6, xmm6",
            "pcmpeqd xmm7, xmm7",
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
            options(nomem, nostack, preserves_flags)
        )
    };
}

const EFLAGS_INTERRUPT_ENABLE: u32 = 1 << 9;

/// Lets maskable interrupts in (`sti`).
pub fn enable_interrupts() {
    // SAFETY: the IDT and PIC are set up before this is called (boot/sequence.rs order).
    unsafe { asm!("sti", options(nomem, nostack)) };
}

/// Keeps maskable interrupts out (`cli`).
pub fn disable_interrupts() {
    // SAFETY: clearing IF only delays interrupts; nothing is lost, the PIC holds them.
    unsafe { asm!("cli", options(nomem, nostack)) };
}

/// Whether maskable interrupts are currently enabled (EFLAGS.IF).
pub fn interrupts_enabled() -> bool {
    let flags: u32;
    // SAFETY: reading EFLAGS through the stack has no side effects.
    unsafe { asm!("pushfd", "pop {}", out(reg) flags, options(nomem, preserves_flags)) };
    flags & EFLAGS_INTERRUPT_ENABLE != 0
}

/// Sleeps until the next interrupt: `sti; hlt`, which the CPU executes with no window between
/// them for an interrupt to slip through unnoticed (Intel SDM Vol. 2B, STI). Interrupts are
/// on afterwards.
pub fn wait_for_interrupt() {
    // SAFETY: the IDT handles every vector, so any interrupt that wakes the CPU returns here.
    unsafe { asm!("sti", "hlt", options(nomem, nostack)) };
}

/// Halts until `condition` holds. The condition is checked with interrupts off, and the CPU
/// only halts through `sti; hlt`, so an interrupt that makes it true between the check and the
/// halt still wakes the CPU instead of waiting for the next one. Interrupts are on afterwards.
pub fn halt_until(mut condition: impl FnMut() -> bool) {
    loop {
        disable_interrupts();
        if condition() {
            enable_interrupts();
            return;
        }
        wait_for_interrupt();
    }
}

// SAFETY: port 0x80 takes the firmware's power-on self-test codes and is unused after boot;
// a write to it has no effect but the delay.
const POST_DIAGNOSTICS_PORT: super::port::Port<u8> = unsafe { super::port::Port::new(0x80) };

/// Writes to port 0x80 (POST diagnostics), which takes about a microsecond on a PC: the
/// classic pause between 8259 initialisation words.
pub fn io_wait() {
    POST_DIAGNOSTICS_PORT.write(0);
}

/// Turns all four debug-register breakpoints off (DR7 = 0).
pub fn clear_watchpoints() {
    // SAFETY: disarming breakpoints has no other effect.
    unsafe { asm!("mov dr7, {:e}", in(reg) 0u32, options(nomem, nostack, preserves_flags)) };
}

/// Fills XMM0-XMM7 with `pattern` (each register a different multiple of it), spins for
/// `rounds` rounds touching no XMM register, and checks they still hold it: true if they do.
/// Threads that preempt this one in between use XMM registers themselves, so this tests that a
/// thread switch keeps each thread's SSE state.
pub fn xmm_registers_survive_spinning(pattern: u32, rounds: u32) -> bool {
    let mut saved = [0u32; 8];
    // SAFETY: only the listed registers change, and the stores go to `saved`, 32 bytes this
    // function owns.
    unsafe {
        asm!(
            "movd xmm0, {pattern:e}",
            "movd xmm1, {pattern:e}", "paddd xmm1, xmm0",
            "movd xmm2, {pattern:e}", "paddd xmm2, xmm1",
            "movd xmm3, {pattern:e}", "paddd xmm3, xmm2",
            "movd xmm4, {pattern:e}", "paddd xmm4, xmm3",
            "movd xmm5, {pattern:e}", "paddd xmm5, xmm4",
            "movd xmm6, {pattern:e}", "paddd xmm6, xmm5",
            "movd xmm7, {pattern:e}", "paddd xmm7, xmm6",
            "2:",
            "pause",
            "dec {rounds:e}",
            "jnz 2b",
            "movd [{saved}], xmm0",
            "movd [{saved} + 4], xmm1",
            "movd [{saved} + 8], xmm2",
            "movd [{saved} + 12], xmm3",
            "movd [{saved} + 16], xmm4",
            "movd [{saved} + 20], xmm5",
            "movd [{saved} + 24], xmm6",
            "movd [{saved} + 28], xmm7",
            pattern = in(reg) pattern,
            rounds = inout(reg) rounds.max(1) => _,
            saved = in(reg) saved.as_mut_ptr(),
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
            options(nostack)
        )
    };
    saved.iter().enumerate().all(|(index, value)| *value == pattern.wrapping_mul(index as u32 + 1))
}

/// The 512-byte, 16-byte aligned area `fxsave` writes (Intel SDM Vol. 1 §10.5.1).
#[repr(C, align(16))]
pub struct FxsaveArea([u8; 512]);

impl FxsaveArea {
    pub const fn new() -> FxsaveArea {
        FxsaveArea([0; 512])
    }
}

impl Default for FxsaveArea {
    fn default() -> Self {
        Self::new()
    }
}

/// Saves the x87/SSE state into `area` and loads it back: what an eager switch would add to
/// every thread switch, measured by `bench`.
pub fn save_and_restore_sse_state(area: &mut FxsaveArea) {
    // SAFETY: `area` is 512 bytes, 16-byte aligned and this function's to write; loading the
    // state just saved changes nothing.
    unsafe { asm!("fxsave [{0}]", "fxrstor [{0}]", in(reg) area.0.as_mut_ptr(), options(nostack)) };
}
