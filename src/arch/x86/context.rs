//! Thread contexts: laying out a new thread's stack and switching from one stack to another
//! (asm/context_switch.asm holds the instructions and their contract).

/// The MXCSR value at reset: all SIMD exceptions masked, round to nearest (Intel SDM Vol. 1
/// §10.2.3.1).
const INITIAL_MXCSR: u32 = 0x1f80;
/// The x87 control word after `fninit`: all exceptions masked, 64-bit precision.
const INITIAL_X87_CONTROL_WORD: u32 = 0x037f;

unsafe extern "C" {
    fn switch_stacks(save: *mut u32, load: u32);
    fn thread_trampoline();
}

/// The entry of a new thread: called once with the argument given to `prepare_stack`.
pub type ThreadEntry = extern "C" fn(argument: usize) -> !;

/// Writes the frame `switch_stacks` pops below `stack_top` (16-byte aligned, writable, the
/// thread's own), so that the first switch to the returned stack pointer calls
/// `entry(argument)`.
///
/// # Safety
/// The 32 bytes below `stack_top` must be mapped, writable and belong to the new thread.
pub unsafe fn prepare_stack(stack_top: u32, entry: ThreadEntry, argument: usize) -> u32 {
    let frame = [
        INITIAL_MXCSR,
        INITIAL_X87_CONTROL_WORD,
        0,                                              // EDI
        entry as *const () as usize as u32,             // ESI
        argument as u32,                                // EBX
        0,                                              // EBP: ends backtraces
        thread_trampoline as *const () as usize as u32, // where `ret` goes
        0,                                              // padding, so the frame is 32 bytes
    ];
    let stack_pointer = stack_top - core::mem::size_of_val(&frame) as u32;
    // SAFETY: the caller guarantees these 32 bytes are the new thread's, mapped and writable.
    unsafe { core::ptr::write(stack_pointer as usize as *mut [u32; 8], frame) };
    stack_pointer
}

/// Saves this thread's registers and stack pointer into `*save` and resumes the thread whose
/// stack pointer is `load`; returns when another thread switches back to this one.
///
/// # Safety
/// Interrupts must be off. `save` must stay valid until this thread is resumed, and `load`
/// must be a stack pointer saved by this function or made by `prepare_stack`, of a thread that
/// is not running.
pub unsafe fn switch(save: *mut u32, load: u32) {
    // SAFETY: forwarded from the caller; the assembly keeps the ABI's callee-saved state.
    unsafe { switch_stacks(save, load) }
}
