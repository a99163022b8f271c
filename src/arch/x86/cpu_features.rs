//! Names of the CPUID feature flags the `cpu` command lists (Intel SDM Vol. 2A, CPUID, leaf 1).
#![forbid(unsafe_code)]

/// (bit, name) pairs of CPUID.01H:EDX.
pub const LEAF_1_EDX: [(u32, &str); 16] = [
    (0, "fpu"),
    (4, "tsc"),
    (5, "msr"),
    (6, "pae"),
    (8, "cx8"),
    (9, "apic"),
    (11, "sep"),
    (13, "pge"),
    (15, "cmov"),
    (16, "pat"),
    (19, "clflush"),
    (23, "mmx"),
    (24, "fxsr"),
    (25, "sse"),
    (26, "sse2"),
    (28, "htt"),
];

/// (bit, name) pairs of CPUID.01H:ECX.
pub const LEAF_1_ECX: [(u32, &str); 12] = [
    (0, "sse3"),
    (1, "pclmulqdq"),
    (9, "ssse3"),
    (12, "fma"),
    (13, "cx16"),
    (19, "sse4.1"),
    (20, "sse4.2"),
    (22, "movbe"),
    (23, "popcnt"),
    (25, "aes"),
    (28, "avx"),
    (31, "hypervisor"),
];

/// The names of the set bits of `register` among `names`.
pub fn set_features(
    register: u32,
    names: &'static [(u32, &'static str)],
) -> impl Iterator<Item = &'static str> {
    names.iter().filter(move |(bit, _)| register & (1 << bit) != 0).map(|(_, name)| *name)
}

/// The 12-byte vendor string from CPUID leaf 0 (EBX, EDX, ECX in that order).
pub fn vendor_bytes(ebx: u32, ecx: u32, edx: u32) -> [u8; 12] {
    let mut bytes = [0; 12];
    bytes[..4].copy_from_slice(&ebx.to_le_bytes());
    bytes[4..8].copy_from_slice(&edx.to_le_bytes());
    bytes[8..].copy_from_slice(&ecx.to_le_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn vendor_string_is_ebx_edx_ecx() {
        // "GenuineIntel": EBX "Genu", EDX "ineI", ECX "ntel".
        let bytes = vendor_bytes(0x756e_6547, 0x6c65_746e, 0x4965_6e69);
        assert_eq!(&bytes, b"GenuineIntel");
    }

    #[test]
    fn set_bits_are_named() {
        let names: Vec<&str> =
            set_features((1 << 25) | (1 << 26) | (1 << 0), &LEAF_1_EDX).collect();
        assert_eq!(names, ["fpu", "sse", "sse2"]);
    }
}
