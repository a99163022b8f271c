//! Little-endian fields of firmware tables, read without ever reading past a slice's end
//! (`arch` is a leaf, so it keeps these three readers of its own).
#![forbid(unsafe_code)]

/// The little-endian `u16` at `offset`, or `None` if the slice ends before it does.
pub fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(offset..offset.checked_add(2)?)?.try_into().ok()?))
}

/// The little-endian `u32` at `offset`, or `None` if the slice ends before it does.
pub fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?))
}

/// The little-endian `u64` at `offset`, or `None` if the slice ends before it does.
pub fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(offset..offset.checked_add(8)?)?.try_into().ok()?))
}

/// A small xorshift generator for the parsers' random-input tests.
#[cfg(test)]
pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_little_endian_and_never_read_past_the_end() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(read_u16(&bytes, 7), Some(0x0908));
        assert_eq!(read_u32(&bytes, 1), Some(0x0504_0302));
        assert_eq!(read_u64(&bytes, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(read_u16(&bytes, 8), None);
        assert_eq!(read_u64(&bytes, usize::MAX - 3), None);
    }
}
