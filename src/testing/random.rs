//! The one pseudo-random generator the tests, fuzzers and workloads share: xorshift64
//! (Marsaglia, "Xorshift RNGs", 2003), seeded so every run repeats exactly.
#![forbid(unsafe_code)]

/// A xorshift64 generator; never yields 0 and never gets stuck at it.
#[derive(Debug, Clone)]
pub struct Xorshift64(u64);

impl Xorshift64 {
    /// A generator started from `seed` (a zero seed is replaced, since xorshift would stay 0).
    pub const fn new(seed: u64) -> Xorshift64 {
        Xorshift64(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..limit` (`limit` above 0).
    pub fn below(&mut self, limit: usize) -> usize {
        (self.next_u64() % limit as u64) as usize
    }

    /// A random byte.
    pub fn next_byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_repeats_for_a_seed_and_spreads_over_its_range() {
        let first: std::vec::Vec<u64> = {
            let mut random = Xorshift64::new(42);
            (0..4).map(|_| random.next_u64()).collect()
        };
        let mut again = Xorshift64::new(42);
        assert!(first.iter().all(|&value| value == again.next_u64()));
        let mut random = Xorshift64::new(0);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            seen[random.below(10)] = true;
        }
        assert!(seen.iter().all(|&hit| hit));
    }
}
