//! The demo scene: twelve signed-distance primitives, two lights with soft shadows, sphere-traced
//! once per text cell and shaded into the 16 VGA colors and ASCII shades, or once per pixel and
//! shaded in 24-bit color.

mod packet;

pub use packet::PACKET_WIDTH;

use super::vector::{Vector3, length_2d};
use crate::console::surface::CELL_HEIGHT_PIXELS;
use crate::console::{Color, ColorCode, ScreenChar, TextSurface};

/// Number of signed-distance primitives in the scene.
pub const PRIMITIVE_COUNT: usize = 12;
/// The ground plane is always primitive 0.
const GROUND_INDEX: usize = 0;
/// The grid rays are cast through, one per text cell, and the shape of the screen it covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub columns: usize,
    pub rows: usize,
    /// How much wider than tall the screen is, in pixels.
    aspect: f32,
}

impl Viewport {
    /// The 80x25 VGA text screen: 9x16-pixel cells, 720x400 pixels.
    pub const VGA_TEXT: Viewport = Viewport { columns: 80, rows: 25, aspect: 720.0 / 400.0 };

    /// `columns` by `rows` cells, each `cell_width_pixels` wide and 16 high.
    pub fn new(columns: usize, rows: usize, cell_width_pixels: usize) -> Viewport {
        let width = (columns * cell_width_pixels) as f32;
        let height = (rows * CELL_HEIGHT_PIXELS).max(1) as f32;
        Viewport { columns, rows, aspect: width / height }
    }

    /// The whole of `surface`.
    pub fn of(surface: &impl TextSurface) -> Viewport {
        Viewport::new(surface.width(), surface.height(), surface.cell_width_pixels())
    }

    /// `width` by `height` square pixels, one ray each.
    pub fn pixels(width: usize, height: usize) -> Viewport {
        Viewport { columns: width, rows: height, aspect: width as f32 / height.max(1) as f32 }
    }
}
const MAXIMUM_MARCH_STEPS: u32 = 64;
const MAXIMUM_SHADOW_STEPS: u32 = 20;
const MAXIMUM_RAY_DISTANCE: f32 = 24.0;
const HIT_DISTANCE: f32 = 0.01;
/// Penumbra sharpness of the soft shadows (larger is harder).
const SHADOW_SHARPNESS: f32 = 10.0;
/// The ground is drawn darker so the shapes stand out against it.
const GROUND_DIMMING: f32 = 0.22;
/// Focal length of the camera in units of half the screen height (about 50 degrees vertically).
const FOCAL_LENGTH: f32 = 2.1;
/// A bounding sphere is widened by this much so near misses still darken soft shadows.
const SHADOW_BOUND_MARGIN: f32 = 0.6;

/// The luminance ramp: ASCII shades in a material's dark color, then in its bright color.
const RAMP: [(u8, Tone); 14] = [
    (b' ', Tone::Dark),
    (b'.', Tone::Dark),
    (b':', Tone::Dark),
    (b'-', Tone::Dark),
    (b'=', Tone::Dark),
    (b'+', Tone::Dark),
    (b'*', Tone::Dark),
    (b'#', Tone::Dark),
    (b'%', Tone::Dark),
    (b'+', Tone::Bright),
    (b'*', Tone::Bright),
    (b'#', Tone::Bright),
    (b'%', Tone::Bright),
    (b'@', Tone::Bright),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Dark,
    Bright,
}

/// The shape of a primitive, in world coordinates for the current frame.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// The ground, the plane y = 0.
    Ground,
    Sphere {
        center: Vector3,
        radius: f32,
    },
    /// A torus around its local y axis, turned by a rotation about x then y.
    Torus {
        center: Vector3,
        major_radius: f32,
        minor_radius: f32,
        rotation: Rotation,
    },
    RoundedBox {
        center: Vector3,
        half_size: Vector3,
        rounding: f32,
    },
    /// A vertical cylinder standing on the ground.
    Pillar {
        base: Vector3,
        radius: f32,
        half_height: f32,
    },
}

/// Sines and cosines of a rotation about x, then about y.
#[derive(Debug, Clone, Copy)]
struct Rotation {
    cos_x: f32,
    sin_x: f32,
    cos_y: f32,
    sin_y: f32,
}

impl Rotation {
    fn new(angle_x: f32, angle_y: f32) -> Rotation {
        Rotation {
            cos_x: libm::cosf(angle_x),
            sin_x: libm::sinf(angle_x),
            cos_y: libm::cosf(angle_y),
            sin_y: libm::sinf(angle_y),
        }
    }

    /// World to local: the inverse rotation, y first then x.
    fn to_local(self, point: Vector3) -> Vector3 {
        let x = self.cos_y * point.x - self.sin_y * point.z;
        let z = self.sin_y * point.x + self.cos_y * point.z;
        let y = self.cos_x * point.y - self.sin_x * z;
        let z = self.sin_x * point.y + self.cos_x * z;
        Vector3::new(x, y, z)
    }
}

/// The colors a surface is drawn in: on text screens dark for shade and bright for light, on
/// pixels the share of red, green and blue light it reflects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Material {
    dark: Color,
    bright: Color,
    albedo: Vector3,
}

impl Material {
    const fn new(dark: Color, bright: Color, red: f32, green: f32, blue: f32) -> Material {
        Material { dark, bright, albedo: Vector3::new(red, green, blue) }
    }
}

const GROUND: Material = Material::new(Color::DarkGray, Color::LightGray, 0.85, 0.85, 0.8);
/// The darker squares of the ground's checkerboard reflect this share of the light.
const DARK_SQUARE_REFLECTANCE: f32 = 0.35;
const RUST: Material = Material::new(Color::Red, Color::LightRed, 0.9, 0.28, 0.12);
const GOLD: Material = Material::new(Color::Brown, Color::Yellow, 0.95, 0.72, 0.2);
const JADE: Material = Material::new(Color::Green, Color::LightGreen, 0.2, 0.82, 0.38);
const ICE: Material = Material::new(Color::Cyan, Color::LightCyan, 0.4, 0.8, 0.95);
const ORCHID: Material = Material::new(Color::Magenta, Color::Pink, 0.85, 0.35, 0.82);
const STONE: Material = Material::new(Color::DarkGray, Color::White, 0.78, 0.76, 0.72);

#[derive(Debug, Clone, Copy)]
struct Primitive {
    shape: Shape,
    material: Material,
    /// A sphere enclosing the shape, for culling; the ground has none.
    bound: Option<(Vector3, f32)>,
}

impl Primitive {
    fn distance(&self, point: Vector3) -> f32 {
        match self.shape {
            Shape::Ground => point.y,
            Shape::Sphere { center, radius } => (point - center).length() - radius,
            Shape::Torus { center, major_radius, minor_radius, rotation } => {
                let local = rotation.to_local(point - center);
                length_2d(length_2d(local.x, local.z) - major_radius, local.y) - minor_radius
            }
            Shape::RoundedBox { center, half_size, rounding } => {
                let outside = (point - center).absolute() - half_size;
                outside.positive_part().length() + outside.largest_component().min(0.0) - rounding
            }
            Shape::Pillar { base, radius, half_height } => {
                let radial = length_2d(point.x - base.x, point.z - base.z) - radius;
                let vertical = libm::fabsf(point.y - base.y - half_height) - half_height;
                radial.max(vertical).min(0.0) + length_2d(radial.max(0.0), vertical.max(0.0))
            }
        }
    }
}

/// A light with soft shadows.
#[derive(Debug, Clone, Copy)]
enum Light {
    /// Sunlight from a direction (pointing towards the light).
    Directional { direction: Vector3, strength: f32 },
    /// A lamp at a point, fading with distance.
    Point { position: Vector3, strength: f32 },
}

/// The set of primitives a ray can reach, found once per ray.
#[derive(Clone, Copy)]
struct Candidates {
    indices: [u8; PRIMITIVE_COUNT],
    count: usize,
}

impl Candidates {
    /// Drops primitive `index` from the set, if it is in it.
    fn remove(&mut self, index: usize) {
        if let Some(position) =
            self.indices[..self.count].iter().position(|&candidate| candidate as usize == index)
        {
            self.indices.copy_within(position + 1..self.count, position);
            self.count -= 1;
        }
    }
}

/// The scene at one moment of the animation.
pub struct Scene {
    primitives: [Primitive; PRIMITIVE_COUNT],
    lights: [Light; 2],
    camera_position: Vector3,
    camera_forward: Vector3,
    camera_right: Vector3,
    camera_up: Vector3,
}

/// Counters of the work a frame took, for the benchmark and the end screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStatistics {
    pub rays: u32,
    pub march_steps: u32,
    pub shadow_steps: u32,
}

impl Scene {
    /// The scene `seconds` into the animation.
    pub fn at(seconds: f32) -> Scene {
        let ground = Primitive { shape: Shape::Ground, material: GROUND, bound: None };
        let torus_center = Vector3::new(0.0, 1.55, 0.0);
        let torus = Primitive {
            shape: Shape::Torus {
                center: torus_center,
                major_radius: 0.9,
                minor_radius: 0.28,
                rotation: Rotation::new(seconds * 0.9, seconds * 0.6),
            },
            material: RUST,
            bound: Some((torus_center, 1.2)),
        };
        let pedestal_center = Vector3::new(0.0, 0.3, 0.0);
        let pedestal = Primitive {
            shape: Shape::RoundedBox {
                center: pedestal_center,
                half_size: Vector3::new(0.55, 0.22, 0.55),
                rounding: 0.08,
            },
            material: STONE,
            bound: Some((pedestal_center, 0.95)),
        };
        let mut primitives = [ground; PRIMITIVE_COUNT];
        primitives[1] = torus;
        primitives[2] = pedestal;

        // Three moons orbit the torus, bobbing out of step.
        let moon_materials = [GOLD, JADE, ICE];
        for (index, material) in moon_materials.into_iter().enumerate() {
            let phase = seconds * 0.8 + index as f32 * (2.0 * core::f32::consts::PI / 3.0);
            let radius = 0.38;
            let center = Vector3::new(
                2.1 * libm::cosf(phase),
                radius + 0.35 + 0.55 * (0.5 + 0.5 * libm::sinf(seconds * 2.1 + index as f32 * 1.7)),
                2.1 * libm::sinf(phase),
            );
            primitives[3 + index] = Primitive {
                shape: Shape::Sphere { center, radius },
                material,
                bound: Some((center, radius)),
            };
        }

        // Six pillars stand in a ring, alternating colors.
        for index in 0..6 {
            let angle = index as f32 * (core::f32::consts::PI / 3.0) + 0.5;
            let base = Vector3::new(3.1 * libm::cosf(angle), 0.0, 3.1 * libm::sinf(angle));
            let half_height = 0.9 + 0.25 * (index % 2) as f32;
            let radius = 0.26;
            primitives[6 + index] = Primitive {
                shape: Shape::Pillar { base, radius, half_height },
                material: if index % 2 == 0 { ORCHID } else { STONE },
                bound: Some((
                    base + Vector3::new(0.0, half_height, 0.0),
                    length_2d(radius, half_height),
                )),
            };
        }

        let lamp_angle = -seconds * 1.3;
        let lights = [
            Light::Directional {
                direction: Vector3::new(-0.5, 0.8, -0.35).normalized(),
                strength: 0.75,
            },
            Light::Point {
                position: Vector3::new(
                    2.8 * libm::cosf(lamp_angle),
                    2.9,
                    2.8 * libm::sinf(lamp_angle),
                ),
                strength: 5.0,
            },
        ];

        let camera_angle = 0.6 + seconds * 0.25;
        let camera_position = Vector3::new(
            5.2 * libm::cosf(camera_angle),
            2.7 + 0.4 * libm::sinf(seconds * 0.4),
            5.2 * libm::sinf(camera_angle),
        );
        let target = Vector3::new(0.0, 0.95, 0.0);
        let camera_forward = (target - camera_position).normalized();
        let camera_right = camera_forward.cross(Vector3::new(0.0, 1.0, 0.0)).normalized();
        let camera_up = camera_right.cross(camera_forward);

        Scene { primitives, lights, camera_position, camera_forward, camera_right, camera_up }
    }

    /// Renders the cell at `column`, `row` of `viewport`.
    pub fn render_cell(
        &self,
        column: usize,
        row: usize,
        viewport: &Viewport,
        statistics: &mut FrameStatistics,
    ) -> ScreenChar {
        let direction = self.primary_ray(column, row, viewport);
        match self.trace(direction, statistics) {
            Some((distance, index)) => {
                let point = self.camera_position + direction * distance;
                let lighting = self.light(point, direction, index, statistics);
                self.shade_cell(point, distance, index, lighting)
            }
            None => sky(direction),
        }
    }

    /// Renders the pixel at `x`, `y` of `viewport` (built with `Viewport::pixels`) as 0xRRGGBB.
    pub fn render_pixel(
        &self,
        x: usize,
        y: usize,
        viewport: &Viewport,
        statistics: &mut FrameStatistics,
    ) -> u32 {
        let direction = self.primary_ray(x, y, viewport);
        match self.trace(direction, statistics) {
            Some((distance, index)) => {
                let point = self.camera_position + direction * distance;
                let lighting = self.light(point, direction, index, statistics);
                self.shade_pixel(point, distance, index, lighting)
            }
            None => sky_color(direction),
        }
    }

    /// Casts the camera ray in `direction`: the distance to what it hits and which primitive,
    /// or `None` for the sky.
    fn trace(&self, direction: Vector3, statistics: &mut FrameStatistics) -> Option<(f32, usize)> {
        statistics.rays += 1;
        let (mut candidates, limit, ground) = self.primary_candidates(direction);
        candidates.remove(GROUND_INDEX);
        let hit = self.march(self.camera_position, direction, &candidates, limit, statistics);
        hit.or(ground)
    }

    /// The primitives a camera ray in `direction` can reach (the ground among them if it points
    /// down), how far to march at most, and where it meets the ground.
    ///
    /// The ground is a plane: where the ray meets it is known without marching, and the
    /// march of the other shapes can stop there. Grazing rays would otherwise need hundreds
    /// of ever-shorter steps to reach the distant ground.
    fn primary_candidates(&self, direction: Vector3) -> (Candidates, f32, Option<(f32, usize)>) {
        let ground_distance =
            if direction.y < 0.0 { -self.camera_position.y / direction.y } else { f32::INFINITY };
        let candidates = self.candidates_along(self.camera_position, direction, 0.0);
        let limit = ground_distance.min(MAXIMUM_RAY_DISTANCE);
        let ground = ground_distance.is_finite().then_some((ground_distance, GROUND_INDEX));
        (candidates, limit, ground)
    }

    /// The direction of the camera ray through the center of cell `column`, `row`.
    fn primary_ray(&self, column: usize, row: usize, viewport: &Viewport) -> Vector3 {
        let horizontal =
            (2.0 * (column as f32 + 0.5) / viewport.columns as f32 - 1.0) * viewport.aspect;
        let vertical = 1.0 - 2.0 * (row as f32 + 0.5) / viewport.rows as f32;
        (self.camera_forward * FOCAL_LENGTH
            + self.camera_right * horizontal
            + self.camera_up * vertical)
            .normalized()
    }

    /// The primitives whose bounding spheres (widened by `margin`) the ray passes through.
    fn candidates_along(&self, origin: Vector3, direction: Vector3, margin: f32) -> Candidates {
        let mut candidates = Candidates { indices: [0; PRIMITIVE_COUNT], count: 0 };
        for (index, primitive) in self.primitives.iter().enumerate() {
            let reachable = match primitive.bound {
                None => direction.y < 0.0 || origin.y < margin,
                Some((center, radius)) => {
                    let radius = radius + margin;
                    let to_center = center - origin;
                    let along = to_center.dot(direction);
                    let miss_squared = to_center.dot(to_center) - along * along;
                    let inside = to_center.dot(to_center) <= radius * radius;
                    inside || (along > 0.0 && miss_squared <= radius * radius)
                }
            };
            if reachable {
                candidates.indices[candidates.count] = index as u8;
                candidates.count += 1;
            }
        }
        candidates
    }

    /// The distance to the nearest candidate surface at `point`, and which one it is.
    fn nearest(&self, point: Vector3, candidates: &Candidates) -> (f32, usize) {
        let mut best = (f32::MAX, 0);
        for &index in &candidates.indices[..candidates.count] {
            let distance = self.primitives[index as usize].distance(point);
            if distance < best.0 {
                best = (distance, index as usize);
            }
        }
        best
    }

    /// Sphere tracing: step by the distance to the nearest surface until one is hit.
    fn march(
        &self,
        origin: Vector3,
        direction: Vector3,
        candidates: &Candidates,
        limit: f32,
        statistics: &mut FrameStatistics,
    ) -> Option<(f32, usize)> {
        if candidates.count == 0 {
            return None;
        }
        let mut travelled = 0.0;
        for _ in 0..MAXIMUM_MARCH_STEPS {
            statistics.march_steps += 1;
            let (distance, index) = self.nearest(origin + direction * travelled, candidates);
            if distance < HIT_DISTANCE * (1.0 + travelled * 0.05) {
                return Some((travelled, index));
            }
            travelled += distance;
            if travelled > limit {
                break;
            }
        }
        None
    }

    /// The surface normal of primitive `index` at `point`, by the tetrahedron technique
    /// (four distance samples instead of six central differences).
    fn normal(&self, point: Vector3, index: usize) -> Vector3 {
        const STEP: f32 = 0.002;
        let primitive = &self.primitives[index];
        let a = Vector3::new(1.0, -1.0, -1.0);
        let b = Vector3::new(-1.0, -1.0, 1.0);
        let c = Vector3::new(-1.0, 1.0, -1.0);
        let d = Vector3::new(1.0, 1.0, 1.0);
        (a * primitive.distance(point + a * STEP)
            + b * primitive.distance(point + b * STEP)
            + c * primitive.distance(point + c * STEP)
            + d * primitive.distance(point + d * STEP))
        .normalized()
    }

    /// How much light reaches `point` from `direction` within `limit`: 1 is unshadowed, 0 is in
    /// full shadow, in between is penumbra (after Inigo Quilez's soft-shadow estimate).
    fn soft_shadow(
        &self,
        point: Vector3,
        direction: Vector3,
        limit: f32,
        statistics: &mut FrameStatistics,
    ) -> f32 {
        let candidates = self.candidates_along(point, direction, SHADOW_BOUND_MARGIN);
        if candidates.count == 0 {
            return 1.0;
        }
        let mut light = 1.0f32;
        let mut travelled = 0.04;
        for _ in 0..MAXIMUM_SHADOW_STEPS {
            statistics.shadow_steps += 1;
            let (distance, _) = self.nearest(point + direction * travelled, &candidates);
            if distance < 0.002 {
                return 0.0;
            }
            light = light.min(SHADOW_SHARPNESS * distance / travelled);
            travelled += distance.clamp(0.05, 0.6);
            if travelled > limit {
                break;
            }
        }
        light.clamp(0.0, 1.0)
    }

    /// The two lights as seen from `lifted` (a point just off a surface): the direction
    /// towards each, how far its shadow ray goes, and its strength there.
    fn light_paths(&self, lifted: Vector3) -> [(Vector3, f32, f32); 2] {
        self.lights.map(|light| match light {
            Light::Directional { direction, strength } => {
                (direction, MAXIMUM_RAY_DISTANCE, strength)
            }
            Light::Point { position, strength } => {
                let offset = position - lifted;
                let length = offset.length();
                (offset * (1.0 / length), length, strength / (1.0 + length * length))
            }
        })
    }

    /// How brightly `point` on primitive `index` is lit, seen along `direction`.
    fn light(
        &self,
        point: Vector3,
        direction: Vector3,
        index: usize,
        statistics: &mut FrameStatistics,
    ) -> Lighting {
        let normal = self.normal(point, index);
        let lifted = point + normal * SURFACE_LIFT;
        let mut lighting = Lighting::ambient(normal);
        for (towards, limit, strength) in self.light_paths(lifted) {
            let diffuse = normal.dot(towards);
            if diffuse <= 0.0 {
                continue;
            }
            let shadow = self.soft_shadow(lifted, towards, limit, statistics);
            lighting.add(normal, direction, towards, diffuse * strength, shadow);
        }
        lighting
    }

    /// The shade of a surface point as a text cell.
    fn shade_cell(
        &self,
        point: Vector3,
        distance: f32,
        index: usize,
        lighting: Lighting,
    ) -> ScreenChar {
        let primitive = &self.primitives[index];
        // Distance fog and a touch of the specular highlight for everything but the ground.
        let fog = fog(distance);
        match primitive.shape {
            Shape::Ground => shade_to_cell(
                GROUND,
                lighting.brightness * fog * checker_reflectance(point) * GROUND_DIMMING,
                false,
            ),
            _ => shade_to_cell(
                primitive.material,
                (lighting.brightness + lighting.specular * 0.6) * fog,
                lighting.specular > 0.8,
            ),
        }
    }

    /// The shade of a surface point as 0xRRGGBB.
    fn shade_pixel(&self, point: Vector3, distance: f32, index: usize, lighting: Lighting) -> u32 {
        let primitive = &self.primitives[index];
        let fog = fog(distance);
        let color = match primitive.shape {
            Shape::Ground => {
                let reflectance = checker_reflectance(point) * GROUND_DIMMING * 2.0;
                GROUND.albedo * (lighting.brightness * reflectance)
            }
            _ => {
                let shine = lighting.specular * 0.6;
                primitive.material.albedo * lighting.brightness + Vector3::new(shine, shine, shine)
            }
        };
        // Far things fade into the night sky's color.
        let color = color * fog + NIGHT * (1.0 - fog);
        pack_color(color)
    }
}

/// How far off a surface shadow rays start, so they do not find the surface itself.
const SURFACE_LIFT: f32 = 0.02;

/// How much of a surface's own color reaches the camera from `distance` away.
fn fog(distance: f32) -> f32 {
    1.0 / (1.0 + distance * distance * 0.004)
}

/// The ground's checkerboard: light squares reflect everything, dark ones a share.
fn checker_reflectance(point: Vector3) -> f32 {
    let checker = (libm::floorf(point.x * 0.7) + libm::floorf(point.z * 0.7)) as i32;
    if checker & 1 == 0 { 1.0 } else { DARK_SQUARE_REFLECTANCE }
}

/// The light a surface point receives: diffuse (with soft shadows) plus a little ambient, and
/// the strongest specular highlight.
#[derive(Debug, Clone, Copy)]
struct Lighting {
    brightness: f32,
    specular: f32,
}

impl Lighting {
    /// The ambient share alone, more on surfaces facing up.
    fn ambient(normal: Vector3) -> Lighting {
        Lighting { brightness: 0.1 + 0.08 * (0.5 + 0.5 * normal.y), specular: 0.0 }
    }

    /// Adds one light reaching the surface from `towards` with `strength` (the diffuse cosine
    /// already applied) and the share `shadow` of it that is not blocked, seen along `view`.
    fn add(
        &mut self,
        normal: Vector3,
        view: Vector3,
        towards: Vector3,
        strength: f32,
        shadow: f32,
    ) {
        self.brightness += strength * shadow;
        let halfway = (towards - view).normalized();
        let shine = normal.dot(halfway).max(0.0);
        let shine = shine * shine;
        let shine = shine * shine;
        self.specular = self.specular.max(shine * shine * shine * shadow);
    }
}

/// The night sky's color far from the horizon.
const NIGHT: Vector3 = Vector3::new(0.01, 0.012, 0.035);
/// The glow over the horizon.
const HORIZON: Vector3 = Vector3::new(0.18, 0.3, 0.75);

/// A linear color (each channel 0..1) as 0xRRGGBB, with a gamma of 2 as the cells use.
fn pack_color(color: Vector3) -> u32 {
    let channel = |value: f32| (libm::sqrtf(value.clamp(0.0, 1.0)) * 255.0 + 0.5) as u32;
    channel(color.x) << 16 | channel(color.y) << 8 | channel(color.z)
}

/// The sky as 0xRRGGBB: the blue glow over the horizon fading into the night, with the
/// stars of the text sky.
fn sky_color(direction: Vector3) -> u32 {
    let height = direction.y.max(0.0);
    let glow = 1.0 / (1.0 + height * 18.0);
    let glow = glow * glow;
    let mut color = HORIZON * glow + NIGHT * (1.0 - glow);
    if height > 0.07 {
        let azimuth = libm::atan2f(direction.z, direction.x);
        let cell = ((azimuth * 480.0) as i32).wrapping_mul(73_856_093)
            ^ ((height * 360.0) as i32).wrapping_mul(19_349_663);
        if cell.rem_euclid(97) == 0 {
            color = Vector3::new(0.9, 0.88, 0.7);
        }
    }
    pack_color(color)
}

/// Turns a brightness (0 dark .. about 1 bright) into a character and color of `material`.
fn shade_to_cell(material: Material, brightness: f32, highlight: bool) -> ScreenChar {
    if highlight {
        return ScreenChar::new(b'@', ColorCode::new(Color::White, Color::Black));
    }
    // A gamma of 2 spreads the mid-tones over more of the ramp, as a display would.
    let level = (libm::sqrtf(brightness.clamp(0.0, 0.999)) * RAMP.len() as f32) as usize;
    let (character, tone) = RAMP[level];
    let color = match tone {
        Tone::Dark => material.dark,
        Tone::Bright => material.bright,
    };
    ScreenChar::new(character, ColorCode::new(color, Color::Black))
}

/// The sky: a blue glow over the horizon fading into a black night with fixed stars.
fn sky(direction: Vector3) -> ScreenChar {
    let height = direction.y;
    if height < 0.015 {
        return ScreenChar::new(b'~', ColorCode::new(Color::LightBlue, Color::Blue));
    }
    if height < 0.04 {
        return ScreenChar::new(b':', ColorCode::new(Color::LightBlue, Color::Black));
    }
    if height < 0.07 {
        return ScreenChar::new(b'.', ColorCode::new(Color::Blue, Color::Black));
    }
    // Stars are fixed in direction, so they drift across the sky as the camera turns.
    let azimuth = libm::atan2f(direction.z, direction.x);
    let cell = ((azimuth * 120.0) as i32).wrapping_mul(73_856_093)
        ^ ((height * 90.0) as i32).wrapping_mul(19_349_663);
    match cell.rem_euclid(61) {
        0 => ScreenChar::new(b'*', ColorCode::new(Color::Yellow, Color::Black)),
        1..=3 => ScreenChar::new(b'.', ColorCode::new(Color::White, Color::Black)),
        _ => ScreenChar::blank(ColorCode::new(Color::Black, Color::Black)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(seconds: f32) -> (std::vec::Vec<ScreenChar>, FrameStatistics) {
        let scene = Scene::at(seconds);
        let mut statistics = FrameStatistics::default();
        let mut cells = std::vec::Vec::new();
        let viewport = Viewport::VGA_TEXT;
        for row in 0..viewport.rows {
            for column in 0..viewport.columns {
                cells.push(scene.render_cell(column, row, &viewport, &mut statistics));
            }
        }
        (cells, statistics)
    }

    #[test]
    fn every_primitive_is_visible_somewhere_in_a_frame() {
        // Each colored material shows up in its dark or bright color.
        let (cells, _) = render(1.0);
        for material in [RUST, GOLD, JADE, ICE, ORCHID] {
            let found = cells.iter().any(|cell| {
                let foreground = cell.color.foreground();
                foreground == material.dark || foreground == material.bright
            });
            assert!(found, "no cell drawn in {material:?}");
        }
        let sky = cells.iter().filter(|cell| cell.color.background() == Color::Blue).count();
        assert!(sky > 20, "horizon band missing ({sky} cells)");
    }

    #[test]
    fn one_ray_per_cell_and_shadow_rays_are_cast() {
        let (_, statistics) = render(0.5);
        assert_eq!(statistics.rays, 2000);
        assert!(statistics.march_steps > 2000);
        assert!(statistics.shadow_steps > 1000);
    }

    #[test]
    fn the_viewport_of_a_surface_has_its_cells_and_proportions() {
        let text = crate::console::MemorySurface::<80, 25>::filled(ScreenChar::new(
            0,
            ColorCode::from_attribute(0),
        ));
        assert_eq!(Viewport::of(&text), Viewport::VGA_TEXT);
        let framebuffer = Viewport::new(128, 48, 8);
        assert_eq!((framebuffer.columns, framebuffer.rows), (128, 48));
        assert_eq!(framebuffer.aspect, 1024.0 / 768.0);
        // A wider screen sees more of the scene: its outermost rays point further out.
        let scene = Scene::at(1.0);
        let narrow = scene.primary_ray(0, 12, &Viewport::new(80, 25, 8));
        let wide = scene.primary_ray(0, 12, &Viewport::VGA_TEXT);
        assert!(wide.dot(scene.camera_forward) < narrow.dot(scene.camera_forward));
    }

    #[test]
    fn the_scene_moves_over_time() {
        let (first, _) = render(0.0);
        let (later, _) = render(2.0);
        let changed = first.iter().zip(&later).filter(|(a, b)| a != b).count();
        assert!(changed > 200, "only {changed} cells changed");
    }

    #[test]
    fn culling_by_bounding_spheres_does_not_change_the_image() {
        // Reference: the same frame marched against every primitive, without culling.
        let scene = Scene::at(1.3);
        let all = Candidates {
            indices: core::array::from_fn(|index| index as u8),
            count: PRIMITIVE_COUNT,
        };
        let mut statistics = FrameStatistics::default();
        let mut differences = 0;
        let viewport = Viewport::VGA_TEXT;
        for row in 0..viewport.rows {
            for column in 0..viewport.columns {
                let direction = scene.primary_ray(column, row, &viewport);
                let culled = scene.candidates_along(scene.camera_position, direction, 0.0);
                let with_culling = scene
                    .march(
                        scene.camera_position,
                        direction,
                        &culled,
                        MAXIMUM_RAY_DISTANCE,
                        &mut statistics,
                    )
                    .map(|hit| hit.1);
                let without = scene
                    .march(
                        scene.camera_position,
                        direction,
                        &all,
                        MAXIMUM_RAY_DISTANCE,
                        &mut statistics,
                    )
                    .map(|hit| hit.1);
                if with_culling != without {
                    differences += 1;
                }
            }
        }
        // Grazing rays may stop one step apart; the picture must be the same elsewhere.
        assert!(differences <= 10, "{differences} cells hit a different primitive");
    }
}
