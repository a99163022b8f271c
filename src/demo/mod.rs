//! The boot demo: logo, a slide transition, then an animated raymarched scene timed by a clock,
//! in text cells or, on a framebuffer, in pixels; worker threads render it (see `render_farm`).
#![forbid(unsafe_code)]

pub mod logo;
pub mod pixels;
pub mod render_farm;
pub mod scene;
pub mod text;
pub mod vector;
#[cfg(target_os = "none")]
pub mod workers;

use alloc::sync::Arc;
use core::fmt::Write;

use crate::console::framebuffer::{MAX_COLUMNS, MAX_ROWS};
use crate::console::{Color, ColorCode, MemorySurface, ScreenChar, TextSurface};
use crate::sync::blocking::Blocking;
use crate::time::Clock;
use pixels::PixelCanvas;
use render_farm::{Marcher, RenderFarm};
use scene::{FrameStatistics, Scene, Viewport};
use text::RowWriter;

/// How many worker threads render the demo: one per CPU that runs threads.
#[cfg(target_os = "none")]
pub fn worker_count() -> usize {
    crate::boot::processors::online_count().max(1)
}

/// How the scene is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// One ray per text cell, in the 16 colors and ASCII shades.
    Text,
    /// One ray per pixel in 24-bit color (framebuffers only), four rays at a time.
    Pixels,
}

impl Look {
    /// Pixels on a framebuffer, text cells elsewhere.
    pub fn for_surface(surface: &impl PixelCanvas) -> Look {
        match surface.pixel_layout() {
            Some(_) => Look::Pixels,
            None => Look::Text,
        }
    }
}

/// An off-screen picture (the logo, the first frame of the scene), as large as the largest
/// screen the console drives; the demo uses the part the size of the real screen.
pub type Picture = MemorySurface<MAX_COLUMNS, MAX_ROWS>;

/// An all-zero picture (NUL characters draw as blanks), so static buffers cost no image space.
pub const BLANK_PICTURE: Picture =
    Picture::filled(ScreenChar::new(0, ColorCode::new(Color::Black, Color::Black)));

/// Something other threads use too, lent for one short step at a time: the kernel's console
/// (locked per step, so no thread holds it for a whole demo and the clock can draw in between)
/// or the demo's pictures. Rendering happens one row per step.
pub trait Shared {
    type Value;

    fn with<R>(&self, step: impl FnOnce(&mut Self::Value) -> R) -> R;
}

/// A value one flow of control owns (host tests) is shared with itself.
impl<T> Shared for core::cell::RefCell<T> {
    type Value = T;

    fn with<R>(&self, step: impl FnOnce(&mut T) -> R) -> R {
        step(&mut self.borrow_mut())
    }
}

/// A value behind the kernel's spin lock, held for one step.
impl<T> Shared for crate::sync::spin_lock::SpinLock<T> {
    type Value = T;

    fn with<R>(&self, step: impl FnOnce(&mut T) -> R) -> R {
        step(&mut self.lock())
    }
}

/// How long each part of the demo lasts.
#[derive(Debug, Clone, Copy)]
pub struct DemoTiming {
    pub greeting_milliseconds: u64,
    pub logo_milliseconds: u64,
    pub slide_milliseconds: u64,
    pub animation_milliseconds: u64,
}

/// The timing `make run` shows.
pub const DEFAULT_TIMING: DemoTiming = DemoTiming {
    greeting_milliseconds: 1500,
    logo_milliseconds: 2500,
    slide_milliseconds: 800,
    animation_milliseconds: 10_000,
};

/// Milestones, reported as they happen (the kernel logs them on serial for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoEvent {
    LogoShown,
    AnimationStarted,
    Finished,
}

/// The pixel demo's last render size and the screen it was scaled to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderSize {
    pub width: usize,
    pub height: usize,
    pub screen_width: usize,
    pub screen_height: usize,
}

/// What the animation achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoSummary {
    pub frames: u32,
    pub microseconds: u64,
    /// The render size, for the pixel demo; `None` for text.
    pub render: Option<RenderSize>,
    /// Worker threads that rendered (0: the demo's own thread did).
    pub workers: usize,
}

impl DemoSummary {
    /// Frames per second in hundredths (1234 means 12.34), to print without float formatting.
    pub fn frames_per_second_hundredths(&self) -> u64 {
        (u64::from(self.frames) * 100_000_000).checked_div(self.microseconds).unwrap_or(0)
    }
}

/// The summary for COM1 and the shell: a line on what was rendered and by how many threads,
/// then the line the tests and the web page read, ending on the frame rate
/// (`demo: 60 frames in 10000 ms, 6.00 frames/s`).
pub struct SummaryLine<'a>(pub &'a DemoSummary);

impl core::fmt::Display for SummaryLine<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let summary = self.0;
        match summary.render {
            Some(render) => write!(
                formatter,
                "demo: pixels rendered at {}x{}, scaled to {}x{}",
                render.width, render.height, render.screen_width, render.screen_height
            )?,
            None => write!(formatter, "demo: text cells")?,
        }
        let hundredths = summary.frames_per_second_hundredths();
        write!(
            formatter,
            ", by {} render thread{}\ndemo: {} frames in {} ms, {}.{:02} frames/s",
            summary.workers,
            if summary.workers == 1 { "" } else { "s" },
            summary.frames,
            summary.microseconds / 1000,
            hundredths / 100,
            hundredths % 100
        )
    }
}

/// Plays the whole demo on `screen`: pause on the greeting, logo, slide (text only),
/// animation in `look`, rendered by `farm`, end screen.
///
/// `pictures` are two off-screen buffers, the logo and the scene's first frame (the caller owns
/// them so they need not live on a thread's stack).
pub fn play<S: TextSurface + PixelCanvas, B: Blocking>(
    screen: &impl Shared<Value = S>,
    clock: &impl Clock,
    pictures: &impl Shared<Value = [Picture; 2]>,
    timing: DemoTiming,
    look: Look,
    farm: &mut RenderFarm<B>,
    mut report: impl FnMut(DemoEvent),
) -> DemoSummary {
    clock.sleep_milliseconds(timing.greeting_milliseconds);

    let (width, height, viewport) =
        screen.with(|surface| (surface.width(), surface.height(), Viewport::of(surface)));
    pictures.with(|[logo, first_frame]| {
        logo.resize(width, height);
        first_frame.resize(width, height);
        logo::draw_logo(logo);
    });
    screen.with(|surface| pictures.with(|[logo, _]| copy_frame(logo, surface)));
    report(DemoEvent::LogoShown);
    clock.sleep_milliseconds(timing.logo_milliseconds);

    if look == Look::Pixels {
        report(DemoEvent::AnimationStarted);
        let duration = timing.animation_milliseconds * 1000;
        let summary =
            pixels::animate(screen, clock, farm, Marcher::Packets, |elapsed| elapsed < duration);
        finish(screen, &summary);
        report(DemoEvent::Finished);
        return summary;
    }

    let first = Scene::at(0.0);
    for row in 0..height {
        pictures.with(|[_, first_frame]| {
            render_row(&first, &viewport, row, first_frame, &mut FrameStatistics::default())
        });
    }
    slide(screen, clock, pictures, timing.slide_milliseconds);

    report(DemoEvent::AnimationStarted);
    let animation_start = clock.now_microseconds();
    let mut frames_drawn = 0;
    loop {
        let elapsed = clock.now_microseconds() - animation_start;
        if elapsed >= timing.animation_milliseconds * 1000 {
            break;
        }
        // The slide showed the scene at time 0; the animation carries on from there.
        draw_frame(screen, farm, Scene::at(elapsed as f32 / 1e6), &viewport);
        frames_drawn += 1;
    }
    let summary = DemoSummary {
        frames: frames_drawn,
        microseconds: clock.now_microseconds() - animation_start,
        render: None,
        workers: farm.workers(),
    };
    finish(screen, &summary);
    report(DemoEvent::Finished);
    summary
}

/// Writes the status line and shows it.
fn finish<S: TextSurface>(screen: &impl Shared<Value = S>, summary: &DemoSummary) {
    screen.with(|surface| {
        draw_status_line(surface, summary);
        surface.flush();
    });
}

/// Animates the scene on `screen` in `look` until `stop` returns true (checked after every
/// frame), then writes the speed on the bottom row.
pub fn animate_until<S: TextSurface + PixelCanvas, B: Blocking>(
    screen: &impl Shared<Value = S>,
    clock: &impl Clock,
    look: Look,
    farm: &mut RenderFarm<B>,
    mut stop: impl FnMut() -> bool,
) -> DemoSummary {
    if look == Look::Pixels {
        let summary = pixels::animate(screen, clock, farm, Marcher::Packets, |_| !stop());
        finish(screen, &summary);
        return summary;
    }
    let viewport = screen.with(|surface| Viewport::of(surface));
    let start = clock.now_microseconds();
    let mut frames = 0;
    loop {
        let elapsed = clock.now_microseconds() - start;
        draw_frame(screen, farm, Scene::at(elapsed as f32 / 1e6), &viewport);
        frames += 1;
        if stop() {
            break;
        }
    }
    let summary = DemoSummary {
        frames,
        microseconds: clock.now_microseconds() - start,
        render: None,
        workers: farm.workers(),
    };
    finish(screen, &summary);
    summary
}

/// Renders one frame of `scene` with the farm's workers and shows it: each row is written to
/// the shared screen as it arrives, in a short step of its own.
fn draw_frame<S: TextSurface, B: Blocking>(
    screen: &impl Shared<Value = S>,
    farm: &mut RenderFarm<B>,
    scene: Scene,
    viewport: &Viewport,
) -> FrameStatistics {
    let statistics = farm.render_cells(&Arc::new(scene), viewport, |row, cells| {
        screen.with(|surface| {
            if row < surface.height() {
                for (column, &cell) in cells.iter().enumerate().take(surface.width()) {
                    surface.write_cell(row, column, cell);
                }
            }
        })
    });
    screen.with(|surface| surface.flush());
    statistics
}

/// Renders row `row` of `scene` onto `surface`.
pub fn render_row<S: TextSurface>(
    scene: &Scene,
    viewport: &Viewport,
    row: usize,
    surface: &mut S,
    statistics: &mut FrameStatistics,
) {
    if row >= viewport.rows.min(surface.height()) {
        return;
    }
    for column in 0..viewport.columns.min(surface.width()) {
        let cell = scene.render_cell(column, row, viewport, statistics);
        surface.write_cell(row, column, cell);
    }
}

/// Slides `from` out to the left while `to` comes in from the right, over `milliseconds`.
fn slide<S: TextSurface>(
    screen: &impl Shared<Value = S>,
    clock: &impl Clock,
    pictures: &impl Shared<Value = [Picture; 2]>,
    milliseconds: u64,
) {
    let start = clock.now_microseconds();
    let duration = (milliseconds * 1000).max(1);
    loop {
        let elapsed = (clock.now_microseconds() - start).min(duration);
        screen.with(|surface| {
            let offset = (elapsed * surface.width() as u64 / duration) as usize;
            pictures.with(|[from, to]| compose_slide(surface, from, to, offset));
            surface.flush();
        });
        if elapsed == duration {
            break;
        }
        clock.sleep_milliseconds(16);
    }
}

/// One step of the slide: `from` shifted left by `offset` columns, `to` filling in behind it.
/// The pictures are the size of `screen`.
pub fn compose_slide<S: TextSurface>(screen: &mut S, from: &Picture, to: &Picture, offset: usize) {
    let columns = screen.width();
    for row in 0..screen.height() {
        for column in 0..columns {
            let source = column + offset;
            let cell = if source < columns {
                from.read_cell(row, source)
            } else {
                to.read_cell(row, source - columns)
            };
            screen.write_cell(row, column, cell);
        }
    }
}

fn copy_frame<S: TextSurface>(frame: &Picture, screen: &mut S) {
    compose_slide(screen, frame, frame, 0);
    screen.flush();
}

/// Writes the measured speed across the bottom row of the final frame.
pub fn draw_status_line<S: TextSurface>(screen: &mut S, summary: &DemoSummary) {
    let color = ColorCode::new(Color::Black, Color::LightGray);
    let bottom = screen.height() - 1;
    for column in 0..screen.width() {
        screen.write_cell(bottom, column, ScreenChar::blank(color));
    }
    let hundredths = summary.frames_per_second_hundredths();
    let mut writer = RowWriter::new(screen, bottom, 1, color);
    let _ = write!(
        writer,
        "{}.{:02} frames/s | {} frames in {}.{} s | ",
        hundredths / 100,
        hundredths % 100,
        summary.frames,
        summary.microseconds / 1_000_000,
        summary.microseconds / 100_000 % 10,
    );
    let _ = match summary.render {
        None => write!(writer, "12 shapes, 2 lights, soft shadows"),
        Some(render) => write!(
            writer,
            "{}x{} rays scaled to {}x{} | {} render thread{} | 12 shapes, 2 lights, soft shadows",
            render.width,
            render.height,
            render.screen_width,
            render.screen_height,
            summary.workers,
            if summary.workers == 1 { "" } else { "s" },
        ),
    };
}

/// Renders `count` text frames at fixed animation times with `farm` onto the shared screen and
/// returns the counter ticks they took, the microseconds, and the work done (for `make bench`).
pub fn benchmark<S: TextSurface, B: Blocking>(
    screen: &impl Shared<Value = S>,
    clock: &impl Clock,
    farm: &mut RenderFarm<B>,
    count: u32,
) -> (u64, u64, FrameStatistics) {
    let viewport = screen.with(|surface| Viewport::of(surface));
    let mut statistics = FrameStatistics::default();
    let start_ticks = clock.now_ticks();
    let start_microseconds = clock.now_microseconds();
    for frame in 0..count {
        let frame = draw_frame(screen, farm, Scene::at(frame as f32 * 0.1), &viewport);
        statistics.rays += frame.rays;
        statistics.march_steps += frame.march_steps;
        statistics.shadow_steps += frame.shadow_steps;
    }
    (clock.now_ticks() - start_ticks, clock.now_microseconds() - start_microseconds, statistics)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::std_blocking::StdBlocking;
    use core::cell::Cell;

    /// A farm whose tiles the caller renders.
    fn inline_farm() -> RenderFarm<StdBlocking> {
        RenderFarm::new(0).0
    }

    /// A clock that advances only when slept on, or by a fixed step per reading.
    struct FakeClock {
        now: Cell<u64>,
        step_per_reading: u64,
        slept: Cell<u64>,
    }

    impl Clock for FakeClock {
        fn now_microseconds(&self) -> u64 {
            self.now.set(self.now.get() + self.step_per_reading);
            self.now.get()
        }
        fn now_ticks(&self) -> u64 {
            self.now.get()
        }
        fn sleep_milliseconds(&self, milliseconds: u64) {
            self.slept.set(self.slept.get() + milliseconds);
            self.now.set(self.now.get() + milliseconds * 1000);
        }
    }

    #[test]
    fn the_demo_runs_its_parts_in_order_for_the_time_asked_and_ends_on_a_status_line() {
        let clock = FakeClock { now: Cell::new(0), step_per_reading: 50_000, slept: Cell::new(0) };
        let mut screen = std::boxed::Box::new(BLANK_PICTURE);
        screen.resize(80, 25);
        let screen = core::cell::RefCell::new(*screen);
        let pictures = core::cell::RefCell::new([BLANK_PICTURE; 2]);
        let mut events = std::vec::Vec::new();
        let timing = DemoTiming {
            greeting_milliseconds: 100,
            logo_milliseconds: 200,
            slide_milliseconds: 300,
            animation_milliseconds: 500,
        };
        let mut farm = inline_farm();
        let summary = play(&screen, &clock, &pictures, timing, Look::Text, &mut farm, |event| {
            events.push(event)
        });
        let screen = screen.into_inner();
        assert_eq!(
            events,
            [DemoEvent::LogoShown, DemoEvent::AnimationStarted, DemoEvent::Finished]
        );
        assert!(clock.slept.get() >= 300, "greeting and logo pauses are slept");
        // Each clock reading advances 50 ms: about ten frames fit into 500 ms.
        assert!((4..=10).contains(&summary.frames), "{summary:?}");
        assert!(summary.microseconds >= 500_000);
        let status = screen.row_text(24);
        assert!(status.contains(" frames/s "), "{status}");
        assert_eq!(screen.read_cell(24, 0).color, ColorCode::new(Color::Black, Color::LightGray));
    }

    #[test]
    fn the_slide_moves_the_old_screen_left_and_brings_the_new_one_in() {
        let red = ScreenChar::new(b'r', ColorCode::new(Color::Red, Color::Black));
        let green = ScreenChar::new(b'g', ColorCode::new(Color::Green, Color::Black));
        let mut from = Picture::filled(red);
        from.write_cell(3, 30, ScreenChar::new(b'X', ColorCode::new(Color::White, Color::Black)));
        let to = Picture::filled(green);
        let mut screen = BLANK_PICTURE;
        screen.resize(80, 25);
        compose_slide(&mut screen, &from, &to, 20);
        assert_eq!(screen.read_cell(3, 10).character, b'X');
        assert_eq!(screen.read_cell(0, 59), red);
        assert_eq!(screen.read_cell(0, 60), green);
        compose_slide(&mut screen, &from, &to, 80);
        assert_eq!(screen.read_cell(3, 10), green);
    }

    #[test]
    fn animation_stops_when_asked_and_reports_its_frames() {
        let clock = FakeClock { now: Cell::new(0), step_per_reading: 10_000, slept: Cell::new(0) };
        let mut screen = BLANK_PICTURE;
        screen.resize(80, 25);
        let screen = core::cell::RefCell::new(screen);
        let mut checks = 0;
        let summary = animate_until(&screen, &clock, Look::Text, &mut inline_farm(), || {
            checks += 1;
            checks == 3
        });
        assert_eq!(summary.frames, 3);
        let screen = screen.into_inner();
        assert!(screen.row_text(24).contains(" frames/s "));
        assert_ne!(screen.read_cell(10, 40).character, 0, "the frames reached the screen");
    }

    #[test]
    fn the_summary_line_ends_on_the_frame_rate_and_names_the_render_size() {
        let render = RenderSize { width: 256, height: 192, screen_width: 1024, screen_height: 768 };
        let summary =
            DemoSummary { frames: 60, microseconds: 10_000_000, render: Some(render), workers: 2 };
        assert_eq!(
            std::format!("{}", SummaryLine(&summary)),
            "demo: pixels rendered at 256x192, scaled to 1024x768, by 2 render threads\n\
             demo: 60 frames in 10000 ms, 6.00 frames/s"
        );
        let text = DemoSummary { render: None, workers: 1, ..summary };
        assert_eq!(
            std::format!("{}", SummaryLine(&text)),
            "demo: text cells, by 1 render thread\ndemo: 60 frames in 10000 ms, 6.00 frames/s"
        );
    }

    #[test]
    fn frames_per_second_is_reported_in_hundredths() {
        let summary = DemoSummary { frames: 25, microseconds: 2_000_000, render: None, workers: 1 };
        assert_eq!(summary.frames_per_second_hundredths(), 1250);
        assert_eq!(DemoSummary::default().frames_per_second_hundredths(), 0);
    }
}
