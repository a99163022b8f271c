//! The interrupt descriptor table: a gate for each of the 256 vectors (Intel SDM Vol. 3A §6.10).

use core::arch::asm;
use core::cell::UnsafeCell;

use super::descriptors::{DescriptorTablePointer, interrupt_gate, task_gate};
use super::gdt::{DOUBLE_FAULT_TSS_SELECTOR, KERNEL_CODE_SELECTOR};
use super::vectors::{DEBUG_VECTOR, DOUBLE_FAULT_VECTOR};

const VECTORS: usize = 256;

unsafe extern "C" {
    /// asm/interrupts.asm: the addresses of the 256 entry stubs.
    static interrupt_stub_table: [u32; VECTORS];
}

struct InterruptDescriptorTable(UnsafeCell<[u64; VECTORS]>);

// SAFETY: written once by `load` before interrupts are possible, then only read by the CPU.
unsafe impl Sync for InterruptDescriptorTable {}

static IDT: InterruptDescriptorTable = InterruptDescriptorTable(UnsafeCell::new([0; VECTORS]));

/// Fills the IDT with interrupt gates to the stubs and loads it. The double fault and the debug
/// exception (raised by the stack guard watchpoints) get task gates instead: both can strike
/// with the kernel stack exhausted, so their handler must run on a stack of its own. Must run
/// after `gdt::load` (the gates name its selectors); `interrupts::initialize` calls it once the
/// kernel's handlers are installed.
pub(super) fn load() {
    let mut gates = [0u64; VECTORS];
    // SAFETY: the stub table is initialised, read-only data of the image (asm/interrupts.asm).
    let stubs = unsafe { &interrupt_stub_table };
    for (gate, &stub) in gates.iter_mut().zip(stubs) {
        *gate = interrupt_gate(stub, KERNEL_CODE_SELECTOR);
    }
    gates[usize::from(DOUBLE_FAULT_VECTOR)] = task_gate(DOUBLE_FAULT_TSS_SELECTOR);
    gates[usize::from(DEBUG_VECTOR)] = task_gate(DOUBLE_FAULT_TSS_SELECTOR);
    let table = IDT.0.get();
    // SAFETY: one CPU, interrupts off, and nothing else touches the IDT; the CPU does not use
    // it until `lidt` below.
    unsafe { table.write(gates) };
    load_on_this_cpu();
}

/// Loads the IDT `load` filled in on this CPU (every CPU shares it).
pub(super) fn load_on_this_cpu() {
    let pointer = DescriptorTablePointer::new(IDT.0.get() as u32, VECTORS);
    // SAFETY: `load` filled the table with a valid gate for every vector before any other CPU
    // started.
    unsafe {
        asm!("lidt [{}]", in(reg) &raw const pointer, options(readonly, nostack, preserves_flags))
    };
}
