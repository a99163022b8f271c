//! Reading little-endian numbers out of byte slices without ever reading past their end: the
//! loader's structures, the memory map, the symbol table and ELF files are all parsed this way.
#![forbid(unsafe_code)]

/// The little-endian `u32` at `offset`, or `None` if the slice ends before it does.
pub fn read_u32_le(bytes: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?))
}

/// The little-endian `u16` at `offset`, or `None` if the slice ends before it does.
pub fn read_u16_le(bytes: &[u8], offset: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(offset..offset.checked_add(2)?)?.try_into().ok()?))
}

/// The little-endian `u64` at `offset`, or `None` if the slice ends before it does.
pub fn read_u64_le(bytes: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(offset..offset.checked_add(8)?)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_little_endian_and_never_read_past_the_end() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(read_u16_le(&bytes, 0), Some(0x0201));
        assert_eq!(read_u32_le(&bytes, 1), Some(0x0504_0302));
        assert_eq!(read_u64_le(&bytes, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(read_u32_le(&bytes, 6), None);
        assert_eq!(read_u64_le(&bytes, 2), None);
        assert_eq!(read_u32_le(&bytes, usize::MAX - 1), None);
    }
}
