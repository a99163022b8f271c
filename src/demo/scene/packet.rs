//! Four camera rays at once: the scene's sphere tracing and soft shadows with one ray in each
//! lane of an SSE register, for the pixel demo. Normals and shading stay per ray (they are a
//! small share of the work); the marches, which are most of it, run four wide.
//!
//! The SSE registers are used through `arch::x86::sse_lanes`.
#![forbid(unsafe_code)]

use super::{
    Candidates, FrameStatistics, GROUND_INDEX, HIT_DISTANCE, Lighting, MAXIMUM_MARCH_STEPS,
    MAXIMUM_SHADOW_STEPS, PRIMITIVE_COUNT, Primitive, SHADOW_BOUND_MARGIN, SHADOW_SHARPNESS,
    SURFACE_LIFT, Scene, Shape, Vector3, Viewport, sky_color,
};
use crate::arch::x86::sse_lanes::{Lanes, Mask};

/// Rays traced together.
pub const PACKET_WIDTH: usize = 4;

/// Four points or directions, one per ray.
#[derive(Clone, Copy)]
struct Points {
    x: Lanes,
    y: Lanes,
    z: Lanes,
}

impl Points {
    fn new(vectors: [Vector3; PACKET_WIDTH]) -> Points {
        Points {
            x: Lanes::new(vectors.map(|vector| vector.x)),
            y: Lanes::new(vectors.map(|vector| vector.y)),
            z: Lanes::new(vectors.map(|vector| vector.z)),
        }
    }

    /// `origin + self * distance`, lane by lane.
    fn along(origin: Points, direction: Points, distance: Lanes) -> Points {
        Points {
            x: origin.x + direction.x * distance,
            y: origin.y + direction.y * distance,
            z: origin.z + direction.z * distance,
        }
    }

    /// The points relative to `center`.
    fn minus(self, center: Vector3) -> Points {
        Points {
            x: self.x - Lanes::splat(center.x),
            y: self.y - Lanes::splat(center.y),
            z: self.z - Lanes::splat(center.z),
        }
    }
}

fn length(x: Lanes, y: Lanes, z: Lanes) -> Lanes {
    (x * x + y * y + z * z).square_root()
}

fn length_2d(x: Lanes, y: Lanes) -> Lanes {
    (x * x + y * y).square_root()
}

impl Primitive {
    /// `distance` for four points at once.
    fn distances(&self, points: &Points) -> Lanes {
        let zero = Lanes::splat(0.0);
        match self.shape {
            Shape::Ground => points.y,
            Shape::Sphere { center, radius } => {
                let offset = points.minus(center);
                length(offset.x, offset.y, offset.z) - Lanes::splat(radius)
            }
            Shape::Torus { center, major_radius, minor_radius, rotation } => {
                // Rotation::to_local, four wide.
                let offset = points.minus(center);
                let (cos_x, sin_x) = (Lanes::splat(rotation.cos_x), Lanes::splat(rotation.sin_x));
                let (cos_y, sin_y) = (Lanes::splat(rotation.cos_y), Lanes::splat(rotation.sin_y));
                let x = cos_y * offset.x - sin_y * offset.z;
                let z = sin_y * offset.x + cos_y * offset.z;
                let y = cos_x * offset.y - sin_x * z;
                let z = sin_x * offset.y + cos_x * z;
                length_2d(length_2d(x, z) - Lanes::splat(major_radius), y)
                    - Lanes::splat(minor_radius)
            }
            Shape::RoundedBox { center, half_size, rounding } => {
                let offset = points.minus(center);
                let x = offset.x.absolute() - Lanes::splat(half_size.x);
                let y = offset.y.absolute() - Lanes::splat(half_size.y);
                let z = offset.z.absolute() - Lanes::splat(half_size.z);
                length(x.max(zero), y.max(zero), z.max(zero)) + x.max(y).max(z).min(zero)
                    - Lanes::splat(rounding)
            }
            Shape::Pillar { base, radius, half_height } => {
                let offset = points.minus(base);
                let radial = length_2d(offset.x, offset.z) - Lanes::splat(radius);
                let height = Lanes::splat(half_height);
                let vertical = (offset.y - height).absolute() - height;
                radial.max(vertical).min(zero) + length_2d(radial.max(zero), vertical.max(zero))
            }
        }
    }
}

/// The union of several rays' candidate sets, as a bit per primitive.
#[derive(Clone, Copy, Default)]
struct CandidateUnion(u32);

impl CandidateUnion {
    fn include(&mut self, candidates: &Candidates) {
        for &index in &candidates.indices[..candidates.count] {
            self.0 |= 1 << index;
        }
    }

    fn candidates(self) -> Candidates {
        let mut candidates = Candidates { indices: [0; PRIMITIVE_COUNT], count: 0 };
        for index in 0..PRIMITIVE_COUNT {
            if self.0 & (1 << index) != 0 {
                candidates.indices[candidates.count] = index as u8;
                candidates.count += 1;
            }
        }
        candidates
    }
}

impl Scene {
    /// Renders pixels `x` to `x + 3` of row `y` of `viewport` (built with `Viewport::pixels`)
    /// as 0xRRGGBB, as `render_pixel` would one at a time; lanes past the right edge repeat
    /// the last pixel, and their colors are to be ignored.
    pub fn render_packet(
        &self,
        x: usize,
        y: usize,
        viewport: &Viewport,
        statistics: &mut FrameStatistics,
    ) -> [u32; PACKET_WIDTH] {
        let last_column = viewport.columns.saturating_sub(1);
        let real_lanes = viewport.columns.saturating_sub(x).min(PACKET_WIDTH);
        statistics.rays += real_lanes as u32;
        let directions: [Vector3; PACKET_WIDTH] =
            core::array::from_fn(|lane| self.primary_ray((x + lane).min(last_column), y, viewport));
        let mut union = CandidateUnion::default();
        let mut limits = [0.0; PACKET_WIDTH];
        let mut grounds = [None; PACKET_WIDTH];
        let mut marching = 0;
        for (lane, &direction) in directions.iter().enumerate() {
            let (mut candidates, limit, ground) = self.primary_candidates(direction);
            candidates.remove(GROUND_INDEX);
            union.include(&candidates);
            if candidates.count > 0 {
                marching |= 1 << lane;
            }
            (limits[lane], grounds[lane]) = (limit, ground);
        }
        let hits = self.march_packet(
            Points::new([self.camera_position; PACKET_WIDTH]),
            Points::new(directions),
            &union.candidates(),
            Lanes::new(limits),
            Mask::from_bits(marching),
            statistics,
        );
        let hits: [Option<(f32, usize)>; PACKET_WIDTH] =
            core::array::from_fn(|lane| hits[lane].or(grounds[lane]));
        self.shade_packet(directions, hits, statistics)
    }

    /// Lights and colors four rays' hits (or their sky).
    fn shade_packet(
        &self,
        directions: [Vector3; PACKET_WIDTH],
        hits: [Option<(f32, usize)>; PACKET_WIDTH],
        statistics: &mut FrameStatistics,
    ) -> [u32; PACKET_WIDTH] {
        let camera = self.camera_position;
        let points: [Vector3; PACKET_WIDTH] = core::array::from_fn(|lane| {
            hits[lane].map_or(camera, |(distance, _)| camera + directions[lane] * distance)
        });
        let normals: [Vector3; PACKET_WIDTH] = core::array::from_fn(|lane| {
            hits[lane].map_or(Vector3::default(), |(_, index)| self.normal(points[lane], index))
        });
        let lifted: [Vector3; PACKET_WIDTH] =
            core::array::from_fn(|lane| points[lane] + normals[lane] * SURFACE_LIFT);
        let paths = lifted.map(|point| self.light_paths(point));
        let mut lighting = normals.map(Lighting::ambient);
        for light in 0..paths[0].len() {
            let mut union = CandidateUnion::default();
            let mut lit = 0;
            let mut diffuse = [0.0; PACKET_WIDTH];
            for lane in 0..PACKET_WIDTH {
                let (towards, _, _) = paths[lane][light];
                diffuse[lane] = normals[lane].dot(towards);
                if hits[lane].is_none() || diffuse[lane] <= 0.0 {
                    continue;
                }
                let candidates = self.candidates_along(lifted[lane], towards, SHADOW_BOUND_MARGIN);
                if candidates.count == 0 {
                    // Nothing can cast a shadow on this ray: fully lit.
                    lighting[lane].add(
                        normals[lane],
                        directions[lane],
                        towards,
                        diffuse[lane] * paths[lane][light].2,
                        1.0,
                    );
                    continue;
                }
                union.include(&candidates);
                lit |= 1 << lane;
            }
            if lit == 0 {
                continue;
            }
            let shadows = self.soft_shadow_packet(
                Points::new(lifted),
                Points::new(paths.map(|path| path[light].0)),
                Lanes::new(paths.map(|path| path[light].1)),
                &union.candidates(),
                Mask::from_bits(lit),
                statistics,
            );
            for lane in (0..PACKET_WIDTH).filter(|lane| lit & (1 << lane) != 0) {
                let (towards, _, strength) = paths[lane][light];
                lighting[lane].add(
                    normals[lane],
                    directions[lane],
                    towards,
                    diffuse[lane] * strength,
                    shadows[lane],
                );
            }
        }
        core::array::from_fn(|lane| match hits[lane] {
            Some((distance, index)) => {
                self.shade_pixel(points[lane], distance, index, lighting[lane])
            }
            None => sky_color(directions[lane]),
        })
    }

    /// The distance to the nearest of `candidates` at four points, and which one it is (as a
    /// number in each lane).
    fn nearest_packet(&self, points: &Points, candidates: &Candidates) -> (Lanes, Lanes) {
        let mut best = Lanes::splat(f32::MAX);
        let mut best_index = Lanes::splat(0.0);
        for &index in &candidates.indices[..candidates.count] {
            let distance = self.primitives[index as usize].distances(points);
            let closer = distance.less_than(best);
            best = best.min(distance);
            best_index = best_index.replaced(closer, Lanes::splat(f32::from(index)));
        }
        (best, best_index)
    }

    /// `march` for four rays: each lane stops when its ray hits or passes its limit; the
    /// packet stops when every lane has. Lanes not in `active` are not marched.
    fn march_packet(
        &self,
        origins: Points,
        directions: Points,
        candidates: &Candidates,
        limits: Lanes,
        mut active: Mask,
        statistics: &mut FrameStatistics,
    ) -> [Option<(f32, usize)>; PACKET_WIDTH] {
        let mut travelled = Lanes::splat(0.0);
        let mut hit_distance = Lanes::splat(0.0);
        let mut hit_index = Lanes::splat(0.0);
        let mut hit = Mask::from_bits(0);
        let one = Lanes::splat(1.0);
        for _ in 0..MAXIMUM_MARCH_STEPS {
            if active.bits() == 0 {
                break;
            }
            statistics.march_steps += active.bits().count_ones();
            let points = Points::along(origins, directions, travelled);
            let (distance, index) = self.nearest_packet(&points, candidates);
            let threshold = Lanes::splat(HIT_DISTANCE) * (one + travelled * Lanes::splat(0.05));
            let arrived = distance.less_than(threshold).and(active);
            hit_distance = hit_distance.replaced(arrived, travelled);
            hit_index = hit_index.replaced(arrived, index);
            hit = hit.or(arrived);
            active = active.without(arrived);
            travelled = travelled.replaced(active, travelled + distance);
            active = active.without(travelled.greater_than(limits));
        }
        let (hits, distances, indices) =
            (hit.bits(), hit_distance.to_array(), hit_index.to_array());
        core::array::from_fn(|lane| {
            (hits & (1 << lane) != 0).then_some((distances[lane], indices[lane] as usize))
        })
    }

    /// `soft_shadow` for four rays; lanes not in `active` get full light.
    fn soft_shadow_packet(
        &self,
        origins: Points,
        directions: Points,
        limits: Lanes,
        candidates: &Candidates,
        mut active: Mask,
        statistics: &mut FrameStatistics,
    ) -> [f32; PACKET_WIDTH] {
        let mut light = Lanes::splat(1.0);
        let mut travelled = Lanes::splat(0.04);
        let (zero, sharpness) = (Lanes::splat(0.0), Lanes::splat(SHADOW_SHARPNESS));
        let (shortest_step, longest_step) = (Lanes::splat(0.05), Lanes::splat(0.6));
        for _ in 0..MAXIMUM_SHADOW_STEPS {
            if active.bits() == 0 {
                break;
            }
            statistics.shadow_steps += active.bits().count_ones();
            let points = Points::along(origins, directions, travelled);
            let (distance, _) = self.nearest_packet(&points, candidates);
            let blocked = distance.less_than(Lanes::splat(0.002)).and(active);
            light = light.replaced(blocked, zero);
            active = active.without(blocked);
            let penumbra = light.min(sharpness * distance.divided_by(travelled));
            light = light.replaced(active, penumbra);
            travelled = travelled
                .replaced(active, travelled + distance.max(shortest_step).min(longest_step));
            active = active.without(travelled.greater_than(limits));
        }
        light.max(zero).min(Lanes::splat(1.0)).to_array()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_measures_four_points_as_it_measures_one() {
        let scene = Scene::at(1.7);
        let points = [
            Vector3::new(0.3, 1.2, -0.4),
            Vector3::new(2.0, 0.5, 1.0),
            Vector3::new(-3.0, 1.8, 0.2),
            Vector3::new(0.0, 0.3, 0.6),
        ];
        for primitive in &scene.primitives {
            let four = primitive.distances(&Points::new(points)).to_array();
            for (lane, point) in points.iter().enumerate() {
                let one = primitive.distance(*point);
                assert!(
                    (four[lane] - one).abs() < 1e-5,
                    "{:?}: {} vs {one}",
                    primitive.shape,
                    four[lane]
                );
            }
        }
    }

    /// The channels of 0xRRGGBB.
    fn channels(color: u32) -> [i32; 3] {
        [(color >> 16) as i32 & 0xff, (color >> 8) as i32 & 0xff, color as i32 & 0xff]
    }

    #[test]
    fn packets_draw_the_image_the_scalar_marcher_draws() {
        // 150 is not a multiple of four: the last packet of each row has two lanes to spare.
        let viewport = Viewport::pixels(150, 96);
        for seconds in [0.0, 1.3, 4.2] {
            let scene = Scene::at(seconds);
            let (mut scalar_statistics, mut packet_statistics) =
                (FrameStatistics::default(), FrameStatistics::default());
            let (mut differing, mut total_difference, mut largest) = (0, 0, 0);
            for y in 0..viewport.rows {
                for x in (0..viewport.columns).step_by(PACKET_WIDTH) {
                    let packet = scene.render_packet(x, y, &viewport, &mut packet_statistics);
                    for (lane, &color) in packet.iter().enumerate().take(viewport.columns - x) {
                        let single =
                            scene.render_pixel(x + lane, y, &viewport, &mut scalar_statistics);
                        let difference = channels(color)
                            .iter()
                            .zip(channels(single))
                            .map(|(a, b)| (a - b).abs())
                            .max()
                            .unwrap();
                        total_difference += difference;
                        largest = largest.max(difference);
                        if difference > 8 {
                            differing += 1;
                        }
                    }
                }
            }
            let pixels = viewport.columns * viewport.rows;
            assert_eq!(packet_statistics.rays as usize, pixels);
            assert_eq!(scalar_statistics.rays as usize, pixels);
            // Rays march against the union of their packet's candidates: a shadow ray may meet
            // a shape its own bounds left out, so penumbras differ slightly, and grazing rays
            // may stop a step apart.
            assert!(differing * 200 <= pixels, "{differing} of {pixels} pixels differ by > 8");
            assert!(
                (total_difference as usize) < pixels,
                "mean difference {}",
                total_difference as f32 / pixels as f32
            );
            let steps =
                |statistics: FrameStatistics| statistics.march_steps + statistics.shadow_steps;
            assert!(
                steps(packet_statistics) * 10 >= steps(scalar_statistics) * 9,
                "the packets skipped work: {packet_statistics:?} against {scalar_statistics:?}"
            );
            std::println!("{seconds}: largest difference {largest}, {differing} pixels over 8");
        }
    }
}
