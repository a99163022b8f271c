//! Where every interrupt lands: CPU exceptions are reported, traps noted, other vectors counted.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::cpu::{
    XMM_CLOBBER_TEST_VECTOR, clobber_xmm_registers, read_cr0, read_cr2, read_cr3, read_cr4,
    read_debug_status,
};
use super::gdt::{double_fault_stack_bounds, interrupted_task_state};
use super::linker_symbols::boot_stack_bounds;
use super::{pic, ps2_keyboard};
use crate::diagnostics::backtrace::StackMemory;
use crate::diagnostics::exception::{EXCEPTIONS, ExceptionResponse, response_to};
use crate::diagnostics::report::{FaultDetail, Registers, classify_double_fault};

const EXCEPTION_VECTORS: usize = 32;
const TIMER_IRQ: u8 = 0;
const KEYBOARD_IRQ: u8 = 1;
const DEBUG_VECTOR: usize = 1;
const DOUBLE_FAULT_VECTOR: usize = 8;
/// DR6 bits B0-B3: which watchpoint fired.
const DEBUG_STATUS_WATCHPOINT_HIT: u32 = 0xf;

/// The stack as asm/interrupts.asm leaves it for `interrupt_dispatch`, lowest address first.
#[derive(Debug)]
#[repr(C)]
pub struct InterruptFrame {
    pub gs: u32,
    pub fs: u32,
    pub es: u32,
    pub ds: u32,
    // pushad
    pub edi: u32,
    pub esi: u32,
    pub ebp: u32,
    pub esp_at_pushad: u32,
    pub ebx: u32,
    pub edx: u32,
    pub ecx: u32,
    pub eax: u32,
    // the stub
    pub vector: u32,
    pub error_code: u32,
    // the CPU (same privilege level: no SS:ESP)
    pub eip: u32,
    pub cs: u32,
    pub eflags: u32,
}

impl InterruptFrame {
    /// The interrupted code's stack pointer: just above what the CPU pushed.
    fn interrupted_stack_pointer(&self) -> u32 {
        (self as *const InterruptFrame as u32) + core::mem::size_of::<InterruptFrame>() as u32
    }

    fn registers(&self) -> Registers {
        Registers {
            eax: self.eax,
            ebx: self.ebx,
            ecx: self.ecx,
            edx: self.edx,
            esi: self.esi,
            edi: self.edi,
            ebp: self.ebp,
            esp: self.interrupted_stack_pointer(),
            eip: self.eip,
            cs: self.cs,
            eflags: self.eflags,
            cr0: read_cr0(),
            cr2: read_cr2(),
            cr3: read_cr3(),
            cr4: read_cr4(),
        }
    }
}

static UNHANDLED_INTERRUPTS: [AtomicU32; 256] = [const { AtomicU32::new(0) }; 256];
static BREAKPOINTS: AtomicU32 = AtomicU32::new(0);
static QUIET_BREAKPOINTS: AtomicBool = AtomicBool::new(false);

/// How many times `vector` (32-255) fired with no driver for it.
pub fn unhandled_interrupt_count(vector: u8) -> u32 {
    UNHANDLED_INTERRUPTS[usize::from(vector)].load(Ordering::Relaxed)
}

/// How many breakpoint traps have been taken.
pub fn breakpoint_count() -> u32 {
    BREAKPOINTS.load(Ordering::Relaxed)
}

/// Whether breakpoints print their one-line note (the benchmark turns it off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakpointNotes {
    Show,
    Quiet,
}

pub fn set_breakpoint_notes(notes: BreakpointNotes) {
    QUIET_BREAKPOINTS.store(notes == BreakpointNotes::Quiet, Ordering::Relaxed);
}

/// Called by asm/interrupts.asm for every vector except the double fault.
#[unsafe(no_mangle)]
extern "C" fn interrupt_dispatch(frame: *mut InterruptFrame) {
    // SAFETY: the entry stub passes the frame it just built on this stack; nothing else
    // refers to it while the handler runs.
    let frame = unsafe { &mut *frame };
    let vector = frame.vector as usize;
    if vector == usize::from(XMM_CLOBBER_TEST_VECTOR) {
        clobber_xmm_registers();
        return;
    }
    if let Some(irq) = pic::irq_of_vector(vector as u8) {
        handle_irq(irq, vector);
        return;
    }
    if vector >= EXCEPTION_VECTORS {
        UNHANDLED_INTERRUPTS[vector & 0xff].fetch_add(1, Ordering::Relaxed);
        return;
    }
    let exception = &EXCEPTIONS[vector];
    match response_to(vector as u8) {
        ExceptionResponse::NoteAndContinue => {
            if vector == 3 {
                BREAKPOINTS.fetch_add(1, Ordering::Relaxed);
                if QUIET_BREAKPOINTS.load(Ordering::Relaxed) {
                    return;
                }
            }
            crate::fatal::note_trap(exception, frame.eip);
        }
        ExceptionResponse::Fatal => {
            let registers = frame.registers();
            let detail =
                FaultDetail::from_error_code(exception.vector, frame.error_code, registers.cr2);
            crate::fatal::report_exception(exception, frame.error_code, detail, &registers)
        }
    }
}

/// A hardware interrupt from the PICs. Handlers here never wait on a lock: the timer bumps an
/// atomic counter and the keyboard pushes into a lock-free queue.
fn handle_irq(irq: u8, vector: usize) {
    let spurious = pic::is_spurious(irq);
    if !spurious {
        match irq {
            TIMER_IRQ => crate::time::record_timer_tick(),
            KEYBOARD_IRQ => ps2_keyboard::handle_interrupt(),
            _ => {
                UNHANDLED_INTERRUPTS[vector & 0xff].fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    pic::end_of_interrupt(irq, spurious);
}

/// The double-fault task's Rust side (asm/interrupts.asm, `double_fault_task_entry`), entered
/// for a double fault or a stack-guard watchpoint (#DB). The interrupted state is in the main
/// TSS, saved by the task switch.
#[unsafe(no_mangle)]
extern "C" fn double_fault_task_main() -> ! {
    let vector = if read_debug_status() & DEBUG_STATUS_WATCHPOINT_HIT != 0 {
        DEBUG_VECTOR
    } else {
        DOUBLE_FAULT_VECTOR
    };
    let state = interrupted_task_state();
    let (stack_bottom, stack_top) = boot_stack_bounds();
    let registers = Registers {
        eax: state.eax,
        ebx: state.ebx,
        ecx: state.ecx,
        edx: state.edx,
        esi: state.esi,
        edi: state.edi,
        ebp: state.ebp,
        esp: state.esp,
        eip: state.eip,
        cs: state.cs,
        eflags: state.eflags,
        cr0: read_cr0(),
        cr2: read_cr2(),
        cr3: read_cr3(),
        cr4: read_cr4(),
    };
    let detail = classify_double_fault(state.esp, stack_bottom, stack_top);
    crate::fatal::report_exception(&EXCEPTIONS[vector], 0, detail, &registers)
}

/// Reads words of the kernel's stacks (the boot stack and the double-fault stack) and nothing
/// else, so a corrupt frame pointer cannot send a backtrace into unmapped or device memory.
pub struct KernelStacks;

impl StackMemory for KernelStacks {
    fn read_word(&self, address: u32) -> Option<u32> {
        let inside = |(bottom, top): (u32, u32)| {
            (address >= bottom && address.checked_add(4)? <= top).then_some(())
        };
        inside(boot_stack_bounds()).or_else(|| inside(double_fault_stack_bounds()))?;
        // SAFETY: the address lies inside one of the kernel's stacks, which are always mapped
        // and readable; the value may be stale, which only makes the backtrace shorter.
        Some(unsafe { core::ptr::read_volatile(address as *const u32) })
    }
}
