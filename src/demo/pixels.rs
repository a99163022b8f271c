//! The pixel demo: on a framebuffer, the scene raymarched once per pixel in 24-bit color at a
//! resolution chosen to hold the frame rate, scaled up to the screen.
//!
//! Each frame is rendered by the render farm into an image in RAM, then copied to the screen
//! in bands of rows, each band under the console's lock (the clock can draw in between). The
//! copy takes a small share of a frame, so a frame half old, half new shows only briefly;
//! there is no vertical blank to wait for on a linear framebuffer.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::render_farm::{Image, Marcher, RenderFarm};
use super::scene::Scene;
use super::{DemoSummary, RenderSize, Shared};
use crate::console::MemorySurface;
use crate::console::framebuffer::{FramebufferLayout, FramebufferSurface, PixelMemory};
use crate::sync::blocking::Blocking;
use crate::time::Clock;

/// A surface the pixel demo can draw on: a framebuffer, or a text screen that says it is not.
pub trait PixelCanvas {
    /// The framebuffer's layout, or `None` on a text screen.
    fn pixel_layout(&self) -> Option<FramebufferLayout>;
    /// Stores `bytes` at `offset` of the framebuffer, in its own pixel format.
    fn write_pixel_bytes(&mut self, offset: usize, bytes: &[u8]);
    /// Tells the text layer that pixels were drawn over its cells: from now on only cells
    /// written after this are drawn, and clearing the screen redraws it whole.
    fn cover_cells(&mut self);
}

/// A text surface in memory is no framebuffer.
impl<const WIDTH: usize, const HEIGHT: usize> PixelCanvas for MemorySurface<WIDTH, HEIGHT> {
    fn pixel_layout(&self) -> Option<FramebufferLayout> {
        None
    }

    fn write_pixel_bytes(&mut self, _offset: usize, _bytes: &[u8]) {}

    fn cover_cells(&mut self) {}
}

/// A framebuffer console's surface draws pixels into its memory.
impl<M: PixelMemory> PixelCanvas for FramebufferSurface<M> {
    fn pixel_layout(&self) -> Option<FramebufferLayout> {
        let layout = *self.layout();
        (layout.width_pixels() > 0).then_some(layout)
    }

    fn write_pixel_bytes(&mut self, offset: usize, bytes: &[u8]) {
        self.memory_mut().write_bytes(offset, bytes);
    }

    fn cover_cells(&mut self) {
        FramebufferSurface::cover_cells(self);
    }
}

/// The frame time the resolution is adapted to: 25 frames a second.
pub const TARGET_FRAME_MICROSECONDS: u64 = 40_000;
/// The render size is the screen's times a number of sixteenths...
const SCALE_DENOMINATOR: usize = 16;
/// ...from 2/16 (1/8 of the screen's width and height)...
const SMALLEST_SCALE: usize = 2;
/// ...to the whole screen.
const LARGEST_SCALE: usize = SCALE_DENOMINATOR;

/// Chooses the render size from the time frames take: a ray's cost barely changes with the
/// size, so a frame's time grows with the square of the scale. Moves one step per frame, and
/// grows only where the next step is predicted to stay within the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolutionControl {
    scale: usize,
    target_microseconds: u64,
}

impl ResolutionControl {
    /// Starts at the smallest scale, aiming at `target_microseconds` a frame.
    pub fn new(target_microseconds: u64) -> ResolutionControl {
        ResolutionControl { scale: SMALLEST_SCALE, target_microseconds }
    }

    /// The render size for a screen of `width` x `height` pixels.
    pub fn size(&self, width: usize, height: usize) -> (usize, usize) {
        let scaled = |length: usize| (length * self.scale / SCALE_DENOMINATOR).max(1);
        (scaled(width), scaled(height))
    }

    /// Takes the time the last frame took into account.
    pub fn adapt(&mut self, frame_microseconds: u64) {
        let target = self.target_microseconds;
        let scale = self.scale as u64;
        if frame_microseconds * 5 > target * 6 && self.scale > SMALLEST_SCALE {
            self.scale -= 1;
        } else if self.scale < LARGEST_SCALE
            && frame_microseconds * (scale + 1) * (scale + 1) * 10 < target * scale * scale * 9
        {
            self.scale += 1;
        }
    }
}

/// Copies `image` onto the framebuffer laid out as `layout`, scaled to fill it (each screen
/// pixel shows the image pixel it falls in), a band of rows per turn of the console's lock.
pub fn present<S: PixelCanvas>(
    image: &Image,
    layout: &FramebufferLayout,
    screen: &impl Shared<Value = S>,
) {
    const ROWS_PER_LOCK: usize = 32;
    let (width, height) = (layout.width_pixels(), layout.height_pixels());
    if image.width() == 0 || image.height() == 0 {
        return;
    }
    let format = layout.format();
    let bytes_per_pixel = format.bytes_per_pixel();
    let sources: Vec<usize> = (0..width).map(|x| x * image.width() / width).collect();
    let mut row = alloc::vec![0u8; width * bytes_per_pixel];
    let mut encoded_row = None;
    for band in (0..height).step_by(ROWS_PER_LOCK) {
        screen.with(|surface| {
            for y in band..(band + ROWS_PER_LOCK).min(height) {
                let source_row = y * image.height() / height;
                if encoded_row != Some(source_row) {
                    let colors = image.row(source_row);
                    for (pixel, &source) in row.chunks_exact_mut(bytes_per_pixel).zip(&sources) {
                        let value = format.encode(colors[source]).to_le_bytes();
                        pixel.copy_from_slice(&value[..bytes_per_pixel]);
                    }
                    encoded_row = Some(source_row);
                }
                surface.write_pixel_bytes(y * layout.pitch_bytes(), &row);
            }
        });
    }
}

/// Animates the scene in pixels on `screen` (which must be a framebuffer) until `keep_going`,
/// asked after each frame with the microseconds since the start, says no. Returns what it
/// achieved; the caller writes the status line.
pub fn animate<S: PixelCanvas, B: Blocking>(
    screen: &impl Shared<Value = S>,
    clock: &impl Clock,
    farm: &mut RenderFarm<B>,
    marcher: Marcher,
    mut keep_going: impl FnMut(u64) -> bool,
) -> DemoSummary {
    let Some(layout) = screen.with(|surface| surface.pixel_layout()) else {
        return DemoSummary::default();
    };
    let (screen_width, screen_height) = (layout.width_pixels(), layout.height_pixels());
    let mut control = ResolutionControl::new(TARGET_FRAME_MICROSECONDS);
    let mut image = Image::default();
    screen.with(|surface| surface.cover_cells());
    let start = clock.now_microseconds();
    let mut frames = 0;
    loop {
        let frame_start = clock.now_microseconds();
        let (width, height) = control.size(screen_width, screen_height);
        image.resize(width, height);
        let scene = Arc::new(Scene::at((frame_start - start) as f32 / 1e6));
        farm.render_pixels(&scene, &mut image, marcher);
        present(&image, &layout, screen);
        frames += 1;
        let now = clock.now_microseconds();
        control.adapt(now - frame_start);
        if !keep_going(now - start) {
            break;
        }
    }
    DemoSummary {
        frames,
        microseconds: clock.now_microseconds() - start,
        render: Some(RenderSize {
            width: image.width(),
            height: image.height(),
            screen_width,
            screen_height,
        }),
        workers: farm.workers(),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::console::framebuffer::{ChannelField, ColorModel, FramebufferDescription};

    #[test]
    fn the_resolution_drops_when_frames_are_slow_and_grows_while_they_are_quick() {
        let mut control = ResolutionControl::new(40_000);
        assert_eq!(control.size(1024, 768), (128, 96));
        // Quick frames: grows a step at a time up to the whole screen.
        for _ in 0..20 {
            control.adapt(1_000);
        }
        assert_eq!(control.size(1024, 768), (1024, 768));
        // Slow frames: shrinks a step at a time down to 1/8, never below.
        control.adapt(100_000);
        assert_eq!(control.size(1024, 768), (960, 720));
        for _ in 0..20 {
            control.adapt(100_000);
        }
        assert_eq!(control.size(1024, 768), (128, 96));
        // A frame cost that grows with the square of the scale settles where it fits.
        for _ in 0..40 {
            let (width, height) = control.size(1024, 768);
            control.adapt((width * height) as u64 / 10);
        }
        let (width, height) = control.size(1024, 768);
        let settled = (width * height) as u64 / 10;
        assert!((30_000..=48_000).contains(&settled), "{width}x{height}: {settled} us a frame");
    }

    /// A framebuffer in a vector.
    struct Canvas {
        layout: FramebufferLayout,
        bytes: Vec<u8>,
        covered: bool,
    }

    impl PixelCanvas for Canvas {
        fn pixel_layout(&self) -> Option<FramebufferLayout> {
            Some(self.layout)
        }
        fn write_pixel_bytes(&mut self, offset: usize, bytes: &[u8]) {
            self.bytes[offset..offset + bytes.len()].copy_from_slice(bytes);
        }
        fn cover_cells(&mut self) {
            self.covered = true;
        }
    }

    fn canvas(width: u32, height: u32, pitch: u32, bits_per_pixel: u8) -> Canvas {
        let layout = FramebufferLayout::new(FramebufferDescription {
            width_pixels: width,
            height_pixels: height,
            pitch_bytes: pitch,
            bits_per_pixel,
            color_model: ColorModel::DirectRgb {
                red: ChannelField::new(16, 8),
                green: ChannelField::new(8, 8),
                blue: ChannelField::new(0, 8),
            },
        })
        .unwrap();
        Canvas { layout, bytes: alloc::vec![0xee; layout.size_bytes()], covered: false }
    }

    /// A clock that advances 10 ms at every reading.
    struct SteppingClock(core::cell::Cell<u64>);

    impl Clock for SteppingClock {
        fn now_microseconds(&self) -> u64 {
            self.0.set(self.0.get() + 10_000);
            self.0.get()
        }
        fn now_ticks(&self) -> u64 {
            self.0.get()
        }
        fn sleep_milliseconds(&self, milliseconds: u64) {
            self.0.set(self.0.get() + milliseconds * 1000);
        }
    }

    #[test]
    fn the_animation_covers_the_text_and_fills_the_screen_with_color() {
        use crate::sync::std_blocking::StdBlocking;
        let screen = core::cell::RefCell::new(canvas(160, 120, 160 * 4, 32));
        let (mut farm, _ends) = RenderFarm::<StdBlocking>::new(0);
        let clock = SteppingClock(core::cell::Cell::new(0));
        let mut asked = 0;
        let summary = animate(&screen, &clock, &mut farm, Marcher::Packets, |_| {
            asked += 1;
            asked < 3
        });
        assert_eq!(summary.frames, 3);
        let render = summary.render.expect("a pixel summary");
        assert_eq!((render.screen_width, render.screen_height), (160, 120));
        // Frames of 20 ms are quick against the 40 ms target: the scale grew from 1/8.
        assert!(render.width > 20 && render.width <= 160, "{render:?}");
        let canvas = screen.into_inner();
        assert!(canvas.covered);
        let pixels: Vec<u32> = canvas
            .bytes
            .chunks_exact(4)
            .map(|pixel| u32::from_le_bytes([pixel[0], pixel[1], pixel[2], 0]))
            .collect();
        assert!(canvas.bytes.chunks_exact(4).all(|pixel| pixel[3] == 0), "a pixel left unwritten");
        let mut colors = pixels.clone();
        colors.sort_unstable();
        colors.dedup();
        assert!(colors.len() > 50, "only {} colors", colors.len());
        let colorful = pixels
            .iter()
            .filter(|&&pixel| {
                let channels = [pixel >> 16 & 0xff, pixel >> 8 & 0xff, pixel & 0xff];
                channels.iter().max().unwrap() - channels.iter().min().unwrap() > 60
            })
            .count();
        assert!(colorful > pixels.len() / 20, "only {colorful} saturated pixels");
    }

    #[test]
    fn a_small_image_is_scaled_up_to_fill_the_screen_and_leaves_the_padding_alone() {
        // 2x2 image onto a 16x16 screen of 24-bit pixels with 4 bytes of padding per row.
        let image = Image::from_pixels(2, 2, alloc::vec![0x112233, 0x445566, 0x778899, 0xaabbcc]);
        let screen = core::cell::RefCell::new(canvas(16, 16, 16 * 3 + 4, 24));
        let layout = screen.borrow().layout;
        present(&image, &layout, &screen);
        let canvas = screen.into_inner();
        let pixel = |x: usize, y: usize| {
            let offset = y * (16 * 3 + 4) + x * 3;
            u32::from_le_bytes([
                canvas.bytes[offset],
                canvas.bytes[offset + 1],
                canvas.bytes[offset + 2],
                0,
            ])
        };
        assert_eq!(pixel(0, 0), 0x112233);
        assert_eq!(pixel(7, 7), 0x112233);
        assert_eq!(pixel(8, 0), 0x445566);
        assert_eq!(pixel(15, 7), 0x445566);
        assert_eq!(pixel(0, 8), 0x778899);
        assert_eq!(pixel(15, 15), 0xaabbcc);
        for y in 0..16 {
            assert_eq!(&canvas.bytes[y * 52 + 48..y * 52 + 52], &[0xee; 4], "row {y} padding");
        }
    }
}
