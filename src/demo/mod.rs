//! The boot demo: logo, a slide transition, then an animated raymarched scene timed by a clock.
#![forbid(unsafe_code)]

pub mod logo;
pub mod render_farm;
pub mod scene;
pub mod text;
pub mod vector;

use core::fmt::Write;

use crate::console::framebuffer::{MAX_COLUMNS, MAX_ROWS};
use crate::console::{Color, ColorCode, MemorySurface, ScreenChar, TextSurface};
use crate::time::Clock;
use scene::{FrameStatistics, Scene, Viewport};
use text::RowWriter;

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

/// What the animation achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoSummary {
    pub frames: u32,
    pub microseconds: u64,
}

impl DemoSummary {
    /// Frames per second in hundredths (1234 means 12.34), to print without float formatting.
    pub fn frames_per_second_hundredths(&self) -> u64 {
        (u64::from(self.frames) * 100_000_000).checked_div(self.microseconds).unwrap_or(0)
    }
}

/// Plays the whole demo on `screen`: pause on the greeting, logo, slide, animation, end screen.
///
/// `pictures` are two off-screen buffers, the logo and the scene's first frame (the caller owns
/// them so they need not live on a thread's stack).
pub fn play<S: TextSurface>(
    screen: &impl Shared<Value = S>,
    clock: &impl Clock,
    pictures: &impl Shared<Value = [Picture; 2]>,
    timing: DemoTiming,
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
        draw_frame(screen, &Scene::at(elapsed as f32 / 1e6), &viewport, height);
        frames_drawn += 1;
    }
    let summary = DemoSummary {
        frames: frames_drawn,
        microseconds: clock.now_microseconds() - animation_start,
    };
    screen.with(|surface| {
        draw_status_line(surface, &summary);
        surface.flush();
    });
    report(DemoEvent::Finished);
    summary
}

/// Animates the scene on `screen` until `stop` returns true (checked after every frame), then
/// writes the speed on the bottom row.
pub fn animate_until<S: TextSurface>(
    screen: &impl Shared<Value = S>,
    clock: &impl Clock,
    mut stop: impl FnMut() -> bool,
) -> DemoSummary {
    let (height, viewport) = screen.with(|surface| (surface.height(), Viewport::of(surface)));
    let start = clock.now_microseconds();
    let mut frames = 0;
    loop {
        let elapsed = clock.now_microseconds() - start;
        draw_frame(screen, &Scene::at(elapsed as f32 / 1e6), &viewport, height);
        frames += 1;
        if stop() {
            break;
        }
    }
    let summary = DemoSummary { frames, microseconds: clock.now_microseconds() - start };
    screen.with(|surface| {
        draw_status_line(surface, &summary);
        surface.flush();
    });
    summary
}

/// Renders one frame of `scene` onto the shared screen, a row per step, then shows it.
fn draw_frame<S: TextSurface>(
    screen: &impl Shared<Value = S>,
    scene: &Scene,
    viewport: &Viewport,
    height: usize,
) {
    for row in 0..height {
        screen.with(|surface| {
            render_row(scene, viewport, row, surface, &mut FrameStatistics::default())
        });
    }
    screen.with(|surface| surface.flush());
}

/// Renders one frame of `scene` as `viewport` sees it onto `surface`, one ray per cell.
pub fn render_frame<S: TextSurface>(
    scene: &Scene,
    viewport: &Viewport,
    surface: &mut S,
    statistics: &mut FrameStatistics,
) {
    for row in 0..viewport.rows.min(surface.height()) {
        render_row(scene, viewport, row, surface, statistics);
    }
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
        "{}.{:02} frames/s | {} frames in {}.{} s | 12 shapes, 2 lights, soft shadows",
        hundredths / 100,
        hundredths % 100,
        summary.frames,
        summary.microseconds / 1_000_000,
        summary.microseconds / 100_000 % 10,
    );
}

/// Renders `count` frames at fixed animation times and returns the counter ticks they took,
/// the microseconds, and the work done (for `make bench`).
pub fn benchmark<S: TextSurface>(
    screen: &mut S,
    clock: &impl Clock,
    count: u32,
) -> (u64, u64, FrameStatistics) {
    let viewport = Viewport::of(screen);
    let mut statistics = FrameStatistics::default();
    let start_ticks = clock.now_ticks();
    let start_microseconds = clock.now_microseconds();
    for frame in 0..count {
        render_frame(&Scene::at(frame as f32 * 0.1), &viewport, screen, &mut statistics);
        screen.flush();
    }
    (clock.now_ticks() - start_ticks, clock.now_microseconds() - start_microseconds, statistics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

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
        let summary = play(&screen, &clock, &pictures, timing, |event| events.push(event));
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
        let summary = animate_until(&screen, &clock, || {
            checks += 1;
            checks == 3
        });
        assert_eq!(summary.frames, 3);
        let screen = screen.into_inner();
        assert!(screen.row_text(24).contains(" frames/s "));
        assert_ne!(screen.read_cell(10, 40).character, 0, "the frames reached the screen");
    }

    #[test]
    fn frames_per_second_is_reported_in_hundredths() {
        let summary = DemoSummary { frames: 25, microseconds: 2_000_000 };
        assert_eq!(summary.frames_per_second_hundredths(), 1250);
        assert_eq!(DemoSummary::default().frames_per_second_hundredths(), 0);
    }
}
