//! Three-component single-precision vectors for the raymarcher; SSE does the arithmetic.

use core::ops::{Add, Mul, Neg, Sub};

/// A point or direction in the demo's world (y is up).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Vector3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

impl Vector3 {
    pub const fn new(x: f32, y: f32, z: f32) -> Vector3 {
        Vector3 { x, y, z }
    }

    pub fn dot(self, other: Vector3) -> f32 {
        self.x * other.x + self.y * other.y + self.z * other.z
    }

    pub fn cross(self, other: Vector3) -> Vector3 {
        Vector3::new(
            self.y * other.z - self.z * other.y,
            self.z * other.x - self.x * other.z,
            self.x * other.y - self.y * other.x,
        )
    }

    pub fn length(self) -> f32 {
        libm::sqrtf(self.dot(self))
    }

    /// The vector scaled to length 1 (the zero vector stays zero).
    pub fn normalized(self) -> Vector3 {
        let length = self.length();
        if length > 0.0 { self * (1.0 / length) } else { self }
    }

    /// Each component's absolute value.
    pub fn absolute(self) -> Vector3 {
        Vector3::new(libm::fabsf(self.x), libm::fabsf(self.y), libm::fabsf(self.z))
    }

    /// Each component clamped below at zero.
    pub fn positive_part(self) -> Vector3 {
        Vector3::new(self.x.max(0.0), self.y.max(0.0), self.z.max(0.0))
    }

    pub fn largest_component(self) -> f32 {
        self.x.max(self.y).max(self.z)
    }
}

impl Add for Vector3 {
    type Output = Vector3;
    fn add(self, other: Vector3) -> Vector3 {
        Vector3::new(self.x + other.x, self.y + other.y, self.z + other.z)
    }
}

impl Sub for Vector3 {
    type Output = Vector3;
    fn sub(self, other: Vector3) -> Vector3 {
        Vector3::new(self.x - other.x, self.y - other.y, self.z - other.z)
    }
}

impl Mul<f32> for Vector3 {
    type Output = Vector3;
    fn mul(self, factor: f32) -> Vector3 {
        Vector3::new(self.x * factor, self.y * factor, self.z * factor)
    }
}

impl Neg for Vector3 {
    type Output = Vector3;
    fn neg(self) -> Vector3 {
        Vector3::new(-self.x, -self.y, -self.z)
    }
}

/// Length of the 2-D vector (`x`, `y`).
pub fn length_2d(x: f32, y: f32) -> f32 {
    libm::sqrtf(x * x + y * y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_vectors_have_unit_length_and_keep_direction() {
        let vector = Vector3::new(3.0, 0.0, 4.0).normalized();
        assert!((vector.length() - 1.0).abs() < 1e-6);
        assert!((vector.x - 0.6).abs() < 1e-6 && (vector.z - 0.8).abs() < 1e-6);
    }

    #[test]
    fn cross_product_of_x_and_y_is_z() {
        let z = Vector3::new(1.0, 0.0, 0.0).cross(Vector3::new(0.0, 1.0, 0.0));
        assert_eq!(z, Vector3::new(0.0, 0.0, 1.0));
    }
}
