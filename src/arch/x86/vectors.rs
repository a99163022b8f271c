//! Every interrupt vector and IRQ number the kernel uses, defined once (Intel SDM Vol. 3A
//! §6.3.1 table 6-1 for the exceptions; the PIC offsets are this kernel's choice).
#![forbid(unsafe_code)]

/// Vectors 0-31 are the CPU's exceptions.
pub const EXCEPTION_VECTORS: u8 = 32;
/// #DB: the stack guard's watchpoints raise it; a task gate takes it to the double-fault task.
pub const DEBUG_VECTOR: u8 = 1;
/// #BP: `int3`.
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

/// Whether `int vector` is harmless to raise in software: not a task gate (a task switch to
/// the double-fault task never returns) and not a PIC vector (its handler would acknowledge
/// an interrupt the PIC never raised).
pub const fn is_safe_software_interrupt(vector: u8) -> bool {
    vector != DEBUG_VECTOR && vector != DOUBLE_FAULT_VECTOR && irq_of_vector(vector).is_none()
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
        assert!(is_safe_software_interrupt(0xff));
    }
}
