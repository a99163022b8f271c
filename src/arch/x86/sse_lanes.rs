//! Four single-precision numbers in one SSE register, computed lane by lane: the arithmetic the
//! pixel demo's four-ray packets use. Pure computation, built for the kernel and for the host
//! tests alike (x86 and x86_64 have the same SSE intrinsics).
//!
//! The intrinsics are `unsafe` to call only because the CPU must have SSE (Intel SDM Vol. 1
//! §10.4) and SSE2; both are part of every target this module is built for: the kernel's
//! target spec enables them (the boot stub turns SSE on before any Rust runs), and every
//! x86_64 CPU has them. The `compile_error!` below holds the build to that.

#[cfg(target_arch = "x86")]
use core::arch::x86::{
    __m128, _mm_add_ps, _mm_and_ps, _mm_andnot_ps, _mm_cmpgt_ps, _mm_cmplt_ps, _mm_cvtss_f32,
    _mm_div_ps, _mm_max_ps, _mm_min_ps, _mm_movemask_ps, _mm_mul_ps, _mm_or_ps, _mm_set1_ps,
    _mm_setr_ps, _mm_shuffle_ps, _mm_sqrt_ps, _mm_sub_ps,
};
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{
    __m128, _mm_add_ps, _mm_and_ps, _mm_andnot_ps, _mm_cmpgt_ps, _mm_cmplt_ps, _mm_cvtss_f32,
    _mm_div_ps, _mm_max_ps, _mm_min_ps, _mm_movemask_ps, _mm_mul_ps, _mm_or_ps, _mm_set1_ps,
    _mm_setr_ps, _mm_shuffle_ps, _mm_sqrt_ps, _mm_sub_ps,
};
use core::ops::{Add, Mul, Sub};

#[cfg(not(all(target_feature = "sse", target_feature = "sse2")))]
compile_error!("sse_lanes needs a target with SSE and SSE2 enabled");

/// How many numbers a `Lanes` holds.
pub const LANE_COUNT: usize = 4;

/// Four numbers, one per lane.
#[derive(Clone, Copy)]
pub struct Lanes(__m128);

/// Four yes-or-no answers, one per lane (all bits set for yes).
#[derive(Clone, Copy)]
pub struct Mask(__m128);

impl Lanes {
    /// `value` in every lane.
    pub fn splat(value: f32) -> Lanes {
        // SAFETY: SSE is enabled on every target this module builds for (module docs).
        Lanes(unsafe { _mm_set1_ps(value) })
    }

    /// `values[0]` in lane 0, and so on.
    pub fn new(values: [f32; LANE_COUNT]) -> Lanes {
        // SAFETY: as in `splat`.
        Lanes(unsafe { _mm_setr_ps(values[0], values[1], values[2], values[3]) })
    }

    /// The four lanes, lane 0 first.
    pub fn to_array(self) -> [f32; LANE_COUNT] {
        [
            self.first(),
            self.broadcast::<0b01_01_01_01>().first(),
            self.broadcast::<0b10_10_10_10>().first(),
            self.broadcast::<0b11_11_11_11>().first(),
        ]
    }

    /// Lane 0.
    fn first(self) -> f32 {
        // SAFETY: as in `splat`.
        unsafe { _mm_cvtss_f32(self.0) }
    }

    /// One lane copied into all four, chosen as `_mm_shuffle_ps` chooses (Intel SDM Vol. 2B,
    /// SHUFPS: two bits per result lane).
    fn broadcast<const SELECTION: i32>(self) -> Lanes {
        // SAFETY: as in `splat`.
        Lanes(unsafe { _mm_shuffle_ps::<SELECTION>(self.0, self.0) })
    }

    /// The smaller of the two in each lane.
    pub fn min(self, other: Lanes) -> Lanes {
        // SAFETY: as in `splat`.
        Lanes(unsafe { _mm_min_ps(self.0, other.0) })
    }

    /// The larger of the two in each lane.
    pub fn max(self, other: Lanes) -> Lanes {
        // SAFETY: as in `splat`.
        Lanes(unsafe { _mm_max_ps(self.0, other.0) })
    }

    /// Each lane's square root.
    pub fn square_root(self) -> Lanes {
        // SAFETY: as in `splat`.
        Lanes(unsafe { _mm_sqrt_ps(self.0) })
    }

    /// Each lane divided by the same lane of `other`.
    pub fn divided_by(self, other: Lanes) -> Lanes {
        // SAFETY: as in `splat`.
        Lanes(unsafe { _mm_div_ps(self.0, other.0) })
    }

    /// Each lane's absolute value: the sign bit cleared.
    pub fn absolute(self) -> Lanes {
        // SAFETY: as in `splat`.
        Lanes(unsafe { _mm_andnot_ps(Lanes::splat(-0.0).0, self.0) })
    }

    /// Yes in the lanes where `self` is less than `other`.
    pub fn less_than(self, other: Lanes) -> Mask {
        // SAFETY: as in `splat`.
        Mask(unsafe { _mm_cmplt_ps(self.0, other.0) })
    }

    /// Yes in the lanes where `self` is greater than `other`.
    pub fn greater_than(self, other: Lanes) -> Mask {
        // SAFETY: as in `splat`.
        Mask(unsafe { _mm_cmpgt_ps(self.0, other.0) })
    }

    /// `if_true` in the lanes `mask` selects, `self` in the others.
    pub fn replaced(self, mask: Mask, if_true: Lanes) -> Lanes {
        // SAFETY: as in `splat` (for each of the three blocks).
        let kept = unsafe { _mm_andnot_ps(mask.0, self.0) };
        // SAFETY: as above.
        let taken = unsafe { _mm_and_ps(mask.0, if_true.0) };
        // SAFETY: as above.
        Lanes(unsafe { _mm_or_ps(kept, taken) })
    }
}

impl Add for Lanes {
    type Output = Lanes;
    fn add(self, other: Lanes) -> Lanes {
        // SAFETY: as in `Lanes::splat`.
        Lanes(unsafe { _mm_add_ps(self.0, other.0) })
    }
}

impl Sub for Lanes {
    type Output = Lanes;
    fn sub(self, other: Lanes) -> Lanes {
        // SAFETY: as in `Lanes::splat`.
        Lanes(unsafe { _mm_sub_ps(self.0, other.0) })
    }
}

impl Mul for Lanes {
    type Output = Lanes;
    fn mul(self, other: Lanes) -> Lanes {
        // SAFETY: as in `Lanes::splat`.
        Lanes(unsafe { _mm_mul_ps(self.0, other.0) })
    }
}

impl Mask {
    /// Yes in the lanes whose bit (lane 0 is bit 0) is set.
    pub fn from_bits(bits: u32) -> Mask {
        let lane =
            |index: u32| if bits & (1 << index) != 0 { f32::from_bits(u32::MAX) } else { 0.0 };
        Mask(Lanes::new([lane(0), lane(1), lane(2), lane(3)]).0)
    }

    /// One bit per lane, lane 0 in bit 0.
    pub fn bits(self) -> u32 {
        // SAFETY: as in `Lanes::splat`.
        (unsafe { _mm_movemask_ps(self.0) }) as u32
    }

    /// Yes where both say yes.
    pub fn and(self, other: Mask) -> Mask {
        // SAFETY: as in `Lanes::splat`.
        Mask(unsafe { _mm_and_ps(self.0, other.0) })
    }

    /// Yes where either says yes.
    pub fn or(self, other: Mask) -> Mask {
        // SAFETY: as in `Lanes::splat`.
        Mask(unsafe { _mm_or_ps(self.0, other.0) })
    }

    /// Yes where `self` says yes and `other` says no.
    pub fn without(self, other: Mask) -> Mask {
        // SAFETY: as in `Lanes::splat`.
        Mask(unsafe { _mm_andnot_ps(other.0, self.0) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_round_trip_and_compute_lane_by_lane() {
        let values = Lanes::new([1.0, -4.0, 9.0, 16.0]);
        assert_eq!(values.to_array(), [1.0, -4.0, 9.0, 16.0]);
        assert_eq!(values.absolute().square_root().to_array(), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!((values + values * values - values).to_array(), [1.0, 16.0, 81.0, 256.0]);
        assert_eq!(values.divided_by(Lanes::splat(2.0)).to_array(), [0.5, -2.0, 4.5, 8.0]);
        assert_eq!(
            values.min(Lanes::splat(2.0)).max(Lanes::splat(0.0)).to_array(),
            [1.0, 0.0, 2.0, 2.0]
        );
    }

    #[test]
    fn masks_select_lanes() {
        let values = Lanes::new([1.0, -4.0, 9.0, 16.0]);
        let small = values.less_than(Lanes::splat(5.0));
        assert_eq!(small.bits(), 0b0011);
        assert_eq!(values.greater_than(Lanes::splat(5.0)).bits(), 0b1100);
        assert_eq!(values.replaced(small, Lanes::splat(0.0)).to_array(), [0.0, 0.0, 9.0, 16.0]);
        assert_eq!(Mask::from_bits(0b1010).without(Mask::from_bits(0b0010)).bits(), 0b1000);
        assert_eq!(Mask::from_bits(0b1010).and(Mask::from_bits(0b0011)).bits(), 0b0010);
        assert_eq!(Mask::from_bits(0b1000).or(Mask::from_bits(0b0001)).bits(), 0b1001);
    }
}
