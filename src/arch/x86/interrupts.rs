//! Where every interrupt lands. The kernel installs its exception handlers with `initialize`
//! and one handler per IRQ with `register_irq_handler`; this module only routes: exceptions to
//! the kernel's fatal or trap handler, IRQs to their handler with the controller that
//! delivered them acknowledged (the 8259s on vectors 32-47, the local APIC on the I/O APIC's
//! 48-63, its timer and inter-processor vectors), spurious interrupts of either controller to
//! a counter of their own, and any other vector to a counter.

use core::sync::atomic::{AtomicU32, Ordering};

use spin::Once;

use super::cpu::{
    clobber_xmm_registers, read_cr0, read_cr2, read_cr3, read_cr4, read_debug_status,
};
use super::exception::{EXCEPTIONS, ExceptionInfo, ExceptionResponse, response_to};
use super::gdt::interrupted_task_state;
use super::registers::Registers;
use super::vectors::{
    DEBUG_VECTOR, DOUBLE_FAULT_VECTOR, EXCEPTION_VECTORS, INTER_PROCESSOR_VECTORS_END,
    INTER_PROCESSOR_VECTORS_START, IRQ_LINES, LOCAL_APIC_ERROR_VECTOR, LOCAL_APIC_SPURIOUS_VECTOR,
    LOCAL_APIC_TIMER_VECTOR, TIMER_IRQ, XMM_CLOBBER_TEST_VECTOR, io_apic_irq_of_vector,
    irq_of_vector,
};
use super::{idt, local_apic, pic};

/// DR6 bits B0-B3: which watchpoint fired.
const DEBUG_STATUS_WATCHPOINT_HIT: u32 = 0xf;

/// How a fatal exception reached its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultEntry {
    /// Through an interrupt gate, on the stack of the code that faulted.
    InterruptGate,
    /// Through the task gate of the double fault or the stack guard's #DB, on the double-fault
    /// task's own stack; the interrupted state comes from the main TSS.
    DoubleFaultTask,
}

/// Everything known about a fatal exception.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    pub exception: &'static ExceptionInfo,
    pub error_code: u32,
    pub registers: Registers,
    pub entry: FaultEntry,
}

/// The kernel's exception handlers.
#[derive(Clone, Copy)]
pub struct ExceptionHandlers {
    /// A fault the interrupted code cannot continue after; must not return.
    pub fatal: fn(&Fault) -> !,
    /// A trap after which the interrupted code continues (NMI, breakpoint, overflow); `eip` is
    /// the instruction after the trap.
    pub trap: fn(exception: &'static ExceptionInfo, eip: u32),
}

static EXCEPTION_HANDLERS: Once<ExceptionHandlers> = Once::new();
static IRQ_HANDLERS: [Once<fn()>; IRQ_LINES] = [const { Once::new() }; IRQ_LINES];
static UNHANDLED_INTERRUPTS: [AtomicU32; 256] = [const { AtomicU32::new(0) }; 256];
static IRQ_EXIT_HOOK: Once<fn()> = Once::new();
const INTER_PROCESSOR_VECTORS: usize =
    (INTER_PROCESSOR_VECTORS_END - INTER_PROCESSOR_VECTORS_START) as usize + 1;
static LOCAL_VECTOR_HANDLERS: [Once<fn()>; INTER_PROCESSOR_VECTORS] =
    [const { Once::new() }; INTER_PROCESSOR_VECTORS];
static SPURIOUS_INTERRUPTS: AtomicU32 = AtomicU32::new(0);

/// Installs the kernel's exception handlers, then loads the IDT, so no exception can arrive
/// before there is a handler for it. Must run after `gdt::load` (the gates name its selectors).
pub fn initialize(handlers: ExceptionHandlers) {
    EXCEPTION_HANDLERS.call_once(|| handlers);
    idt::load();
}

/// Loads the interrupt table on an application processor as it starts.
pub fn load_on_this_cpu() {
    idt::load_on_this_cpu();
}

/// Routes IRQ `irq` (0-15) to `handler`, which runs with interrupts off, must not block or
/// take a lock the interrupted code may hold, and is registered once for good. `TIMER_IRQ`'s
/// handler is the system tick, whether the PIT's IRQ 0 or a local APIC timer delivers it.
pub fn register_irq_handler(irq: u8, handler: fn()) {
    IRQ_HANDLERS[usize::from(irq)].call_once(|| handler);
}

/// Whether IRQ `irq` has a handler (the IRQs an interrupt controller should let through).
pub fn irq_has_handler(irq: u8) -> bool {
    IRQ_HANDLERS.get(usize::from(irq)).is_some_and(|handler| handler.get().is_some())
}

/// Routes inter-processor vector `vector` (0xE0-0xEF) to `handler`, under the same rules as
/// `register_irq_handler`; the local APIC is acknowledged after it and the IRQ exit hook runs.
/// Returns false for a vector outside that range.
pub fn register_local_vector_handler(vector: u8, handler: fn()) -> bool {
    match vector.checked_sub(INTER_PROCESSOR_VECTORS_START) {
        Some(index) if vector <= INTER_PROCESSOR_VECTORS_END => {
            LOCAL_VECTOR_HANDLERS[usize::from(index)].call_once(|| handler);
            true
        }
        _ => false,
    }
}

/// Spurious interrupts seen: a PIC's IRQ 7 or 15 with nothing in service, or the local APIC's
/// spurious vector. They run no handler and are not counted as unhandled.
pub fn spurious_interrupt_count() -> u32 {
    SPURIOUS_INTERRUPTS.load(Ordering::Relaxed)
}

/// Has `hook` called at the end of every IRQ and inter-processor interrupt, after the
/// controller is acknowledged and with interrupts still off: where the scheduler preempts the
/// interrupted thread. The hook may switch to another thread; the interrupted one resumes here
/// when it is switched back to.
pub fn register_irq_exit_hook(hook: fn()) {
    IRQ_EXIT_HOOK.call_once(|| hook);
}

/// How many times `vector` fired with no handler for it.
pub fn unhandled_interrupt_count(vector: u8) -> u32 {
    UNHANDLED_INTERRUPTS[usize::from(vector)].load(Ordering::Relaxed)
}

/// The stack frame asm/interrupts.asm builds for `interrupt_dispatch`, lowest address first.
#[derive(Debug)]
#[repr(C)]
pub struct InterruptStackFrame {
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

impl InterruptStackFrame {
    /// The interrupted code's stack pointer: just above what the CPU pushed.
    fn interrupted_stack_pointer(&self) -> u32 {
        (self as *const InterruptStackFrame as u32)
            + core::mem::size_of::<InterruptStackFrame>() as u32
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

fn count_unhandled(vector: usize) {
    UNHANDLED_INTERRUPTS[vector & 0xff].fetch_add(1, Ordering::Relaxed);
}

fn run_irq_handler(irq: u8, vector: u8) {
    match IRQ_HANDLERS[usize::from(irq)].get() {
        Some(handler) => handler(),
        None => count_unhandled(usize::from(vector)),
    }
}

fn run_irq_exit_hook() {
    if let Some(hook) = IRQ_EXIT_HOOK.get() {
        hook();
    }
}

/// Called by asm/interrupts.asm for every vector except the two task gates.
#[unsafe(no_mangle)]
extern "C" fn interrupt_dispatch(frame: *mut InterruptStackFrame) {
    // SAFETY: the entry stub passes the frame it just built on this stack; nothing else
    // refers to it while the handler runs.
    let frame = unsafe { &mut *frame };
    let vector = frame.vector as u8;
    if vector < EXCEPTION_VECTORS {
        dispatch_exception(vector, frame);
        return;
    }
    if vector == XMM_CLOBBER_TEST_VECTOR {
        clobber_xmm_registers();
        return;
    }
    if let Some(irq) = irq_of_vector(vector) {
        let spurious = pic::is_spurious(irq);
        if spurious {
            SPURIOUS_INTERRUPTS.fetch_add(1, Ordering::Relaxed);
        } else {
            run_irq_handler(irq, vector);
        }
        pic::end_of_interrupt(irq, spurious);
        run_irq_exit_hook();
        return;
    }
    if let Some(irq) = io_apic_irq_of_vector(vector) {
        run_irq_handler(irq, vector);
        local_apic::end_of_interrupt();
        run_irq_exit_hook();
        return;
    }
    match vector {
        LOCAL_APIC_TIMER_VECTOR => {
            run_irq_handler(TIMER_IRQ, vector);
            local_apic::end_of_interrupt();
            run_irq_exit_hook();
        }
        INTER_PROCESSOR_VECTORS_START..=INTER_PROCESSOR_VECTORS_END => {
            let index = usize::from(vector - INTER_PROCESSOR_VECTORS_START);
            match LOCAL_VECTOR_HANDLERS[index].get() {
                Some(handler) => handler(),
                None => count_unhandled(usize::from(vector)),
            }
            local_apic::end_of_interrupt();
            run_irq_exit_hook();
        }
        LOCAL_APIC_ERROR_VECTOR => {
            local_apic::record_error();
            local_apic::end_of_interrupt();
        }
        // Not in service: no end-of-interrupt (SDM Vol. 3A §11.9).
        LOCAL_APIC_SPURIOUS_VECTOR => {
            SPURIOUS_INTERRUPTS.fetch_add(1, Ordering::Relaxed);
        }
        _ => count_unhandled(usize::from(vector)),
    }
}

/// Exceptions (vectors 0-31) go to the kernel's fatal or trap handler.
fn dispatch_exception(vector: u8, frame: &InterruptStackFrame) {
    let exception = &EXCEPTIONS[usize::from(vector)];
    let Some(handlers) = EXCEPTION_HANDLERS.get() else {
        // `initialize` installs the handlers before loading the IDT, so this cannot happen.
        super::cpu::halt_forever()
    };
    match response_to(vector) {
        ExceptionResponse::NoteAndContinue => (handlers.trap)(exception, frame.eip),
        ExceptionResponse::Fatal => (handlers.fatal)(&Fault {
            exception,
            error_code: frame.error_code,
            registers: frame.registers(),
            entry: FaultEntry::InterruptGate,
        }),
    }
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
    let Some(handlers) = EXCEPTION_HANDLERS.get() else { super::cpu::halt_forever() };
    (handlers.fatal)(&Fault {
        exception: &EXCEPTIONS[usize::from(vector)],
        error_code: 0,
        registers,
        entry: FaultEntry::DoubleFaultTask,
    })
}
