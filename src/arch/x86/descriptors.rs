//! Bit layouts of x86 segment descriptors and gate descriptors (Intel SDM Vol. 3A §3.4.5, §6.11,
//! §7.2.2), as pure functions so host tests can check them.
#![forbid(unsafe_code)]

/// Access byte: present, ring 0, code, execute/read.
pub const ACCESS_KERNEL_CODE: u8 = 0x9a;
/// Access byte: present, ring 0, data, read/write.
pub const ACCESS_KERNEL_DATA: u8 = 0x92;
/// Access byte: present, ring 0, data, read/write, expand-down (valid offsets lie above the
/// limit, so a stack growing down past it faults).
pub const ACCESS_KERNEL_STACK_EXPAND_DOWN: u8 = 0x96;
/// Access byte: present, ring 0, 32-bit TSS, not busy.
pub const ACCESS_TASK_STATE_SEGMENT: u8 = 0x89;
/// Flags nibble: 4 KiB granularity, 32-bit operands.
pub const FLAGS_4K_32_BIT: u8 = 0xc;
/// Flags nibble: byte granularity (a TSS).
pub const FLAGS_BYTE_GRANULAR: u8 = 0x0;

/// Gate type byte: present, ring 0, 32-bit interrupt gate (clears IF on entry).
pub const GATE_INTERRUPT_32: u8 = 0x8e;
/// Gate type byte: present, ring 0, task gate.
pub const GATE_TASK: u8 = 0x85;

/// The operand of `lgdt` and `lidt`: the table's last byte offset and its linear address
/// (SDM Vol. 3A §3.5.1, figure 3-11).
#[repr(C, packed)]
pub struct DescriptorTablePointer {
    pub limit: u16,
    pub base: u32,
}

impl DescriptorTablePointer {
    /// Points at `entries` eight-byte descriptors starting at `base`.
    pub const fn new(base: u32, entries: usize) -> DescriptorTablePointer {
        DescriptorTablePointer { limit: (entries * 8 - 1) as u16, base }
    }
}

/// A GDT entry from its base, 20-bit limit, access byte and flags nibble.
pub const fn segment_descriptor(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    let limit = limit as u64 & 0xf_ffff;
    let base = base as u64;
    (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | ((access as u64) << 40)
        | ((limit >> 16) << 48)
        | (((flags & 0xf) as u64) << 52)
        | ((base >> 24) << 56)
}

/// An IDT entry that jumps to `handler` through code segment `selector`.
pub const fn interrupt_gate(handler: u32, selector: u16) -> u64 {
    let handler = handler as u64;
    (handler & 0xffff)
        | ((selector as u64) << 16)
        | ((GATE_INTERRUPT_32 as u64) << 40)
        | ((handler >> 16) << 48)
}

/// An IDT entry that switches to the task whose TSS descriptor is `tss_selector`.
pub const fn task_gate(tss_selector: u16) -> u64 {
    ((tss_selector as u64) << 16) | ((GATE_TASK as u64) << 40)
}

/// The 20-bit limit of an expand-down, 4 KiB-granular segment whose lowest valid address is
/// `lowest_valid` (a multiple of 4 KiB, above 0).
pub const fn expand_down_limit(lowest_valid: u32) -> u32 {
    (lowest_valid >> 12) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_code_and_data_segments_match_the_well_known_values() {
        assert_eq!(
            segment_descriptor(0, 0xf_ffff, ACCESS_KERNEL_CODE, FLAGS_4K_32_BIT),
            0x00cf_9a00_0000_ffff
        );
        assert_eq!(
            segment_descriptor(0, 0xf_ffff, ACCESS_KERNEL_DATA, FLAGS_4K_32_BIT),
            0x00cf_9200_0000_ffff
        );
    }

    #[test]
    fn base_and_limit_are_split_across_the_descriptor() {
        let descriptor =
            segment_descriptor(0x1234_5678, 103, ACCESS_TASK_STATE_SEGMENT, FLAGS_BYTE_GRANULAR);
        assert_eq!(descriptor, 0x1200_8934_5678_0067);
    }

    #[test]
    fn an_expand_down_limit_makes_the_stack_bottom_the_lowest_valid_address() {
        // Effective limit with 4 KiB granularity: (limit << 12) | 0xfff; valid offsets above it.
        let limit = expand_down_limit(0x0010_7000);
        assert_eq!((limit << 12) | 0xfff, 0x0010_6fff);
    }

    #[test]
    fn gates_carry_handler_selector_and_type() {
        assert_eq!(interrupt_gate(0x0010_2345, 0x08), 0x0010_8e00_0008_2345);
        assert_eq!(task_gate(0x28), 0x0000_8500_0028_0000);
    }
}
