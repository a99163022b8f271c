//! Every interrupt vector and IRQ number the kernel uses, defined once (Intel SDM Vol. 3A
//! §6.3.1 table 6-1 for the exceptions; the PIC and APIC vectors are this kernel's choice).
#![forbid(unsafe_code)]

/// Vectors 0-31 are the CPU's exceptions.
pub const EXCEPTION_VECTORS: u8 = 32;
/// #DB: the stack guard's watchpoints raise it; a task gate takes it to the double-fault task.
pub const DEBUG_VECTOR: u8 = 1;
/// #BP: `int3`.
/// The non-maskable interrupt (a fatal report's stop request, on other CPUs).
pub const NMI_VECTOR: u8 = 2;
pub const BREAKPOINT_VECTOR: u8 = 3;
/// #DF: reached through a task gate, on a stack of its own.
pub const DOUBLE_FAULT_VECTOR: u8 = 8;

/// IRQ 0-7 arrive on vectors 32-39, IRQ 8-15 on 40-47: above the CPU's exception vectors,
/// which the BIOS's mapping (8-15) overlaps.
pub const PIC_MASTER_VECTOR_OFFSET: u8 = 32;
pub const PIC_SLAVE_VECTOR_OFFSET: u8 = 40;
/// Lines per PIC pair.
pub const IRQ_LINES: usize = 16;

/// The PIT's channel 0: the system tick.
pub const TIMER_IRQ: u8 = 0;
/// The 8042's keyboard port.
pub const KEYBOARD_IRQ: u8 = 1;

/// The I/O APIC delivers ISA IRQ 0-15 on vectors 48-63: apart from the 8259s' 32-47, so a
/// spurious interrupt from a masked PIC can never pass for a routed IRQ.
pub const IO_APIC_VECTOR_OFFSET: u8 = 48;

/// Vectors 0xE0-0xEF are delivered by the local APIC for inter-processor interrupts: the
/// handler registered with `interrupts::register_local_vector_handler` runs, then the local
/// APIC gets its end-of-interrupt.
pub const INTER_PROCESSOR_VECTORS_START: u8 = 0xe0;
pub const INTER_PROCESSOR_VECTORS_END: u8 = 0xef;
/// Wakes a CPU so it looks at the run queues (the scheduler's reschedule IPI).
pub const RESCHEDULE_VECTOR: u8 = INTER_PROCESSOR_VECTORS_START;
/// Has a CPU invalidate the pages another one unmapped (tlb.rs).
pub const TLB_SHOOTDOWN_VECTOR: u8 = INTER_PROCESSOR_VECTORS_START + 1;
/// The in-kernel tests' self-IPI.
pub const SELF_TEST_IPI_VECTOR: u8 = INTER_PROCESSOR_VECTORS_END;
/// Each CPU's local APIC timer: the system tick on the APIC path (the handler registered for
/// `TIMER_IRQ` runs).
pub const LOCAL_APIC_TIMER_VECTOR: u8 = 0xf0;
/// The local APIC's error interrupt (LVT error register).
pub const LOCAL_APIC_ERROR_VECTOR: u8 = 0xfe;
/// The local APIC's spurious-interrupt vector. Its low four bits must be set: P6 and Pentium
/// local APICs hard-wire them (Intel SDM Vol. 3A §11.9, "Spurious Interrupt"). Such an
/// interrupt is not in service, so it gets no end-of-interrupt.
pub const LOCAL_APIC_SPURIOUS_VECTOR: u8 = 0xff;

/// The vector whose handler overwrites all XMM registers, for the test that interrupt entry
/// preserves them.
pub const XMM_CLOBBER_TEST_VECTOR: u8 = 0x42;

/// The IRQ number of `vector`, if it is one of the PICs'.
pub const fn irq_of_vector(vector: u8) -> Option<u8> {
    if vector >= PIC_MASTER_VECTOR_OFFSET && vector < PIC_SLAVE_VECTOR_OFFSET + 8 {
        Some(vector - PIC_MASTER_VECTOR_OFFSET)
    } else {
        None
    }
}

/// The ISA IRQ number of `vector`, if it is one the I/O APIC delivers.
pub const fn io_apic_irq_of_vector(vector: u8) -> Option<u8> {
    if vector >= IO_APIC_VECTOR_OFFSET && vector < IO_APIC_VECTOR_OFFSET + IRQ_LINES as u8 {
        Some(vector - IO_APIC_VECTOR_OFFSET)
    } else {
        None
    }
}

/// The vector the I/O APIC delivers ISA `irq` (0-15) on.
pub const fn io_apic_vector_of_irq(irq: u8) -> u8 {
    IO_APIC_VECTOR_OFFSET + irq
}

/// Whether the local APIC delivers `vector` and so expects an end-of-interrupt for it: the
/// I/O APIC's IRQs, the inter-processor vectors, the timer and the error interrupt (not the
/// spurious vector).
pub const fn is_local_apic_vector(vector: u8) -> bool {
    io_apic_irq_of_vector(vector).is_some()
        || (vector >= INTER_PROCESSOR_VECTORS_START && vector <= INTER_PROCESSOR_VECTORS_END)
        || vector == LOCAL_APIC_TIMER_VECTOR
        || vector == LOCAL_APIC_ERROR_VECTOR
}

/// Whether `int vector` is harmless to raise in software: not a task gate (a task switch to
/// the double-fault task never returns) and not a vector an interrupt controller delivers (its
/// handler would acknowledge an interrupt the controller never raised). The local APIC's
/// spurious vector is harmless: it is counted and never acknowledged.
pub const fn is_safe_software_interrupt(vector: u8) -> bool {
    vector != DEBUG_VECTOR
        && vector != DOUBLE_FAULT_VECTOR
        && irq_of_vector(vector).is_none()
        && !is_local_apic_vector(vector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pic_vectors_sit_above_the_exceptions() {
        assert_eq!(irq_of_vector(EXCEPTION_VECTORS - 1), None);
        assert_eq!(irq_of_vector(32), Some(TIMER_IRQ));
        assert_eq!(irq_of_vector(33), Some(KEYBOARD_IRQ));
        assert_eq!(irq_of_vector(47), Some(15));
        assert_eq!(irq_of_vector(48), None);
    }

    #[test]
    fn task_gates_and_pic_vectors_are_not_safe_software_interrupts() {
        assert!(!is_safe_software_interrupt(DOUBLE_FAULT_VECTOR));
        assert!(!is_safe_software_interrupt(DEBUG_VECTOR));
        assert!(!is_safe_software_interrupt(32));
        assert!(!is_safe_software_interrupt(47));
        assert!(is_safe_software_interrupt(BREAKPOINT_VECTOR));
        assert!(is_safe_software_interrupt(0x40));
        assert!(is_safe_software_interrupt(LOCAL_APIC_SPURIOUS_VECTOR));
    }

    #[test]
    fn io_apic_vectors_follow_the_pics_and_map_back_to_their_irq() {
        assert_eq!(io_apic_vector_of_irq(KEYBOARD_IRQ), 49);
        assert_eq!(io_apic_irq_of_vector(49), Some(KEYBOARD_IRQ));
        assert_eq!(io_apic_irq_of_vector(47), None, "a PIC vector is not the I/O APIC's");
        assert_eq!(io_apic_irq_of_vector(63), Some(15));
        assert_eq!(io_apic_irq_of_vector(64), None);
        for irq in 0..IRQ_LINES as u8 {
            assert_eq!(irq_of_vector(io_apic_vector_of_irq(irq)), None);
        }
    }

    #[test]
    fn the_local_apic_acknowledges_its_own_vectors_but_not_a_spurious_one() {
        for vector in [49, 0xe0, 0xef, LOCAL_APIC_TIMER_VECTOR, LOCAL_APIC_ERROR_VECTOR] {
            assert!(is_local_apic_vector(vector), "{vector:#x}");
            assert!(!is_safe_software_interrupt(vector), "{vector:#x}");
        }
        for vector in [32, 47, 0x42, 0xdf, 0xf1, LOCAL_APIC_SPURIOUS_VECTOR] {
            assert!(!is_local_apic_vector(vector), "{vector:#x}");
        }
        assert_eq!(LOCAL_APIC_SPURIOUS_VECTOR & 0x0f, 0x0f);
    }
}
