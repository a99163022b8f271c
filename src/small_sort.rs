//! Insertion sort for the short arrays the kernel sorts (memory-map boundaries, calibration
//! rounds): `core`'s `sort_unstable` would add about 5 KB of code to a 128 KiB image.

/// Sorts `values` in ascending order. Quadratic, so meant for a few dozen elements.
pub fn sort_small(values: &mut [u64]) {
    for unsorted in 1..values.len() {
        let value = values[unsorted];
        let mut position = unsorted;
        while position > 0 && values[position - 1] > value {
            values[position] = values[position - 1];
            position -= 1;
        }
        values[position] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_library() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for length in 0..70 {
            let mut values: std::vec::Vec<u64> = (0..length)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Few distinct values, so equal elements occur.
                    state % 16
                })
                .collect();
            let mut expected = values.clone();
            expected.sort_unstable();
            sort_small(&mut values);
            assert_eq!(values, expected, "length {length}");
        }
    }

    #[test]
    fn sorts_reversed_and_extreme_values() {
        let mut values = [u64::MAX, 3, 2, 1, 0, u64::MAX - 1];
        sort_small(&mut values);
        assert_eq!(values, [0, 1, 2, 3, u64::MAX - 1, u64::MAX]);
    }
}
