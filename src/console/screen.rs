//! The screen the console draws on, chosen at boot: the VGA text buffer, or a linear
//! framebuffer drawn with the 8x16 font (UEFI machines have no text mode).
#![forbid(unsafe_code)]

use super::color::ScreenChar;
use super::framebuffer::{
    FramebufferError, FramebufferLayout, FramebufferSurface, PixelMemory, ScrollStrategy,
};
use super::surface::TextSurface;
use super::text_console::TextConsole;
use super::vga::VgaTextSurface;
use crate::arch::x86::cpu::read_time_stamp_counter;
use crate::arch::x86::linear_framebuffer::MappedFramebuffer;
use crate::demo::pixels::PixelCanvas;
use crate::time::calibrated_time_stamp_counter_hz;

/// While lines keep scrolling the framebuffer, it is drawn at most this often (50 times a
/// second); see `Screen`.
const SCROLLING_REDRAWS_PER_SECOND: u64 = 50;

/// Which surface the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenDevice {
    /// The 80x25 VGA text buffer (what the BIOS and GRUB's text entries leave).
    VgaText,
    /// A linear framebuffer.
    Framebuffer,
}

/// Both surfaces, and which one is in use. Held in a static, in place: the framebuffer
/// surface's cell grids are far larger than the boot stack, so it is never moved.
///
/// Drawing a scrolled 1024x768 framebuffer moves 3 MiB of pixels, so one `println!` after
/// another would redraw the screen once per line. A flush whose write scrolled is therefore
/// deferred if the screen was drawn less than 1/50 s ago: a burst of lines is drawn 50 times a
/// second, and the next write that does not scroll (the prompt, an echoed key), or
/// `draw_deferred` when the kernel goes idle or halts, draws the rest. Before the clock is
/// calibrated nothing is deferred.
pub struct Screen {
    device: ScreenDevice,
    text: VgaTextSurface,
    framebuffer: FramebufferSurface<MappedFramebuffer>,
    /// Whether the surface scrolled since the last flush.
    scrolled: bool,
    /// Whether a flush was deferred and its changes are not drawn yet.
    deferred: bool,
    /// The time-stamp counter when the framebuffer was last drawn.
    drawn_at_ticks: u64,
}

impl Screen {
    /// A screen on the VGA text buffer, with a framebuffer surface waiting, detached.
    pub const fn new(text: VgaTextSurface) -> Screen {
        Screen {
            device: ScreenDevice::VgaText,
            text,
            framebuffer: FramebufferSurface::new(MappedFramebuffer::none()),
            scrolled: false,
            deferred: false,
            drawn_at_ticks: 0,
        }
    }

    /// Draws what a deferred flush left undrawn (call before idling or halting).
    pub fn draw_deferred(&mut self) {
        if self.deferred {
            self.draw_framebuffer();
        }
    }

    fn draw_framebuffer(&mut self) {
        self.framebuffer.flush();
        self.deferred = false;
        self.drawn_at_ticks = read_time_stamp_counter();
    }

    /// Whether the framebuffer was drawn within the last 1/50 s.
    fn drawn_recently(&self) -> bool {
        calibrated_time_stamp_counter_hz().is_some_and(|hz| {
            let since = read_time_stamp_counter().saturating_sub(self.drawn_at_ticks);
            since < hz / SCROLLING_REDRAWS_PER_SECOND
        })
    }

    /// The surface in use.
    pub fn device(&self) -> ScreenDevice {
        self.device
    }

    /// Turns the hardware cursor on (VGA text; the framebuffer draws its own).
    pub fn enable_cursor(&mut self) {
        if self.device == ScreenDevice::VgaText {
            self.text.enable_cursor();
        }
    }

    /// The framebuffer surface, if the screen is a framebuffer (the benchmarks change how it
    /// scrolls and how its memory is cached).
    pub fn framebuffer(&mut self) -> Option<&mut FramebufferSurface<MappedFramebuffer>> {
        match self.device {
            ScreenDevice::Framebuffer => Some(&mut self.framebuffer),
            ScreenDevice::VgaText => None,
        }
    }
}

/// Moves `console` onto the framebuffer in `memory`, laid out as `layout`, keeping its colors;
/// the screen starts blank.
pub fn switch_to_framebuffer(
    console: &mut TextConsole<Screen>,
    memory: MappedFramebuffer,
    layout: FramebufferLayout,
) -> Result<(), FramebufferError> {
    let screen = console.surface_mut();
    screen.framebuffer.attach(memory, layout)?;
    // Redraw never reads the framebuffer, which is slow on real video memory (uncached, or
    // write-combining: reads are uncached there too); under QEMU both strategies are as fast
    // (`make bench`), since a deferred flush redraws most rows either way.
    screen.framebuffer.set_scroll_strategy(ScrollStrategy::Redraw);
    screen.device = ScreenDevice::Framebuffer;
    console.clear();
    Ok(())
}

impl PixelMemory for MappedFramebuffer {
    fn length_bytes(&self) -> usize {
        MappedFramebuffer::length_bytes(self)
    }

    fn write_bytes(&mut self, offset: usize, bytes: &[u8]) {
        MappedFramebuffer::write_bytes(self, offset, bytes);
    }

    fn fill_bytes(&mut self, offset: usize, length: usize, value: u8) {
        MappedFramebuffer::fill_bytes(self, offset, length, value);
    }

    fn move_bytes(&mut self, source: usize, destination: usize, length: usize) {
        MappedFramebuffer::move_bytes(self, source, destination, length);
    }
}

/// The pixel demo draws on the framebuffer when the screen is one.
impl PixelCanvas for Screen {
    fn pixel_layout(&self) -> Option<FramebufferLayout> {
        match self.device {
            ScreenDevice::Framebuffer => self.framebuffer.pixel_layout(),
            ScreenDevice::VgaText => None,
        }
    }

    fn write_pixel_bytes(&mut self, offset: usize, bytes: &[u8]) {
        if self.device == ScreenDevice::Framebuffer {
            self.framebuffer.write_pixel_bytes(offset, bytes);
        }
    }

    fn cover_cells(&mut self) {
        if self.device == ScreenDevice::Framebuffer {
            self.framebuffer.cover_cells();
        }
    }
}

/// Runs `$call` with `$surface` bound to the surface in use.
macro_rules! on_device {
    ($screen:expr, $surface:ident => $call:expr) => {
        match $screen.device {
            ScreenDevice::VgaText => {
                let $surface = &mut $screen.text;
                $call
            }
            ScreenDevice::Framebuffer => {
                let $surface = &mut $screen.framebuffer;
                $call
            }
        }
    };
}

impl TextSurface for Screen {
    fn width(&self) -> usize {
        match self.device {
            ScreenDevice::VgaText => self.text.width(),
            ScreenDevice::Framebuffer => self.framebuffer.width(),
        }
    }

    fn height(&self) -> usize {
        match self.device {
            ScreenDevice::VgaText => self.text.height(),
            ScreenDevice::Framebuffer => self.framebuffer.height(),
        }
    }

    fn cell_width_pixels(&self) -> usize {
        match self.device {
            ScreenDevice::VgaText => self.text.cell_width_pixels(),
            ScreenDevice::Framebuffer => self.framebuffer.cell_width_pixels(),
        }
    }

    fn read_cell(&self, row: usize, column: usize) -> ScreenChar {
        match self.device {
            ScreenDevice::VgaText => self.text.read_cell(row, column),
            ScreenDevice::Framebuffer => self.framebuffer.read_cell(row, column),
        }
    }

    fn write_cell(&mut self, row: usize, column: usize, cell: ScreenChar) {
        on_device!(self, surface => surface.write_cell(row, column, cell))
    }

    fn move_cursor(&mut self, row: usize, column: usize) {
        on_device!(self, surface => surface.move_cursor(row, column))
    }

    fn flush(&mut self) {
        if self.device == ScreenDevice::VgaText {
            return;
        }
        if core::mem::take(&mut self.scrolled) && self.drawn_recently() {
            self.deferred = true;
        } else {
            self.draw_framebuffer();
        }
    }

    fn scroll_up(&mut self, blank: ScreenChar) {
        self.scrolled = true;
        on_device!(self, surface => surface.scroll_up(blank))
    }

    fn fill(&mut self, cell: ScreenChar) {
        on_device!(self, surface => surface.fill(cell))
    }
}
