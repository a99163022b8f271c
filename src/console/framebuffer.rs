//! A text surface drawn with the 8x16 font on a linear framebuffer, for machines without VGA text.
//!
//! Under UEFI the loader hands over pixels, not text cells (Multiboot 1 §3.3, framebuffer type
//! 1, direct RGB). `FramebufferSurface` keeps its own grid of cells, so `read_cell` never reads
//! video memory, and a second grid of what the screen shows. Writes only change the first grid
//! and mark rows dirty; `flush` draws the cells that differ from what is shown, so a burst of
//! output costs one redraw however many lines it scrolled. Scrolling either moves the pixel
//! rows up with one copy per flush (`ScrollStrategy::MovePixels`) or redraws the changed cells
//! (`ScrollStrategy::Redraw`).
//!
//! Pixels are written through the `PixelMemory` seam: host tests use a `Vec<u8>`, the kernel
//! wraps the mapped framebuffer. `decode_cells` turns pixels back into cells by matching the
//! font, so tests can check a framebuffer screen cell by cell as they do VGA text.
#![forbid(unsafe_code)]

use core::fmt;

use super::color::{Color, ScreenChar};
use super::font::{CODE_PAGE_437_FONT, Font, GLYPH_HEIGHT_PIXELS, GLYPH_WIDTH_PIXELS, Glyph};
use super::surface::TextSurface;

/// Most columns the cell grid holds: 1920 pixels / 8.
pub const MAX_COLUMNS: usize = 240;
/// Most rows the cell grid holds: 1200 pixels / 16. Larger screens use their top-left part.
pub const MAX_ROWS: usize = 75;
/// The cursor is drawn on the cell's pixel rows from this one to the last, with the glyph's
/// foreground and background swapped there (an underline that leaves descenders readable).
pub const CURSOR_FIRST_PIXEL_ROW: usize = 14;

/// The 16 colors as 0xRRGGBB, the standard VGA text-mode palette.
pub const VGA_PALETTE_RGB: [u32; 16] = [
    0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa, 0x555555,
    0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff,
];

/// Cells drawn per write to pixel memory: a 1 KiB staging buffer on the stack at 32 bits.
const CELLS_PER_WRITE: usize = 32;
/// Largest pixel the console draws, in bytes.
const MAX_BYTES_PER_PIXEL: usize = 4;

/// Where one color channel sits in a pixel value (Multiboot 1 §3.3 color_info: field position
/// and mask size, in bits, counted from the least significant bit of the little-endian pixel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelField {
    pub position: u8,
    pub size: u8,
}

impl ChannelField {
    /// A channel of `size` bits starting at bit `position`.
    pub const fn new(position: u8, size: u8) -> ChannelField {
        ChannelField { position, size }
    }

    const fn mask(self) -> u32 {
        (((1u64 << self.size) - 1) << self.position) as u32
    }

    /// The 8-bit intensity `value` scaled to this channel's width, in place.
    const fn encode(self, value: u32) -> u32 {
        let maximum = (1u32 << self.size) - 1;
        ((value * maximum + 127) / 255) << self.position
    }
}

/// Names a color channel in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChannel {
    Red,
    Green,
    Blue,
}

impl fmt::Display for ColorChannel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ColorChannel::Red => "red",
            ColorChannel::Green => "green",
            ColorChannel::Blue => "blue",
        })
    }
}

/// How the loader says pixels encode color (Multiboot 1 §3.3, framebuffer_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorModel {
    /// Type 0: each pixel is an index into a palette.
    Indexed,
    /// Type 1: each pixel holds red, green and blue intensities in these bit fields.
    DirectRgb { red: ChannelField, green: ChannelField, blue: ChannelField },
    /// Type 2: EGA text mode, characters rather than pixels.
    EgaText,
    /// A type the specification does not define.
    Unknown(u8),
}

impl ColorModel {
    /// Reads the Multiboot 1 framebuffer type and the six color_info bytes that follow it
    /// (red position, red size, green position, green size, blue position, blue size).
    pub const fn from_multiboot(framebuffer_type: u8, color_info: [u8; 6]) -> ColorModel {
        match framebuffer_type {
            0 => ColorModel::Indexed,
            1 => ColorModel::DirectRgb {
                red: ChannelField::new(color_info[0], color_info[1]),
                green: ChannelField::new(color_info[2], color_info[3]),
                blue: ChannelField::new(color_info[4], color_info[5]),
            },
            2 => ColorModel::EgaText,
            other => ColorModel::Unknown(other),
        }
    }
}

/// A framebuffer as the loader describes it (Multiboot 1 §3.3, flag bit 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramebufferDescription {
    pub width_pixels: u32,
    pub height_pixels: u32,
    /// Bytes from the start of one pixel row to the start of the next.
    pub pitch_bytes: u32,
    pub bits_per_pixel: u8,
    pub color_model: ColorModel,
}

/// Why the console cannot draw on a framebuffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramebufferError {
    /// Palette-indexed pixels (type 0); the console draws direct RGB only.
    IndexedColor,
    /// The screen is in EGA text mode (type 2): use the VGA text console instead.
    EgaText,
    /// A framebuffer type Multiboot does not define.
    UnknownColorModel(u8),
    /// A pixel size other than 15, 16, 24 or 32 bits.
    UnsupportedDepth { bits_per_pixel: u8 },
    /// A channel of zero bits, or wider than 16.
    BadChannelSize { channel: ColorChannel, size: u8 },
    /// A channel reaching past the pixel's bits.
    ChannelOutsidePixel { channel: ColorChannel, position: u8, size: u8, bits_per_pixel: u8 },
    /// Two channels claim the same bits.
    OverlappingChannels,
    /// Rows closer together than one row of pixels is long.
    PitchTooSmall { pitch_bytes: u32, row_bytes: u32 },
    /// Not even one 8x16 character cell fits.
    SmallerThanOneCell { width_pixels: u32, height_pixels: u32 },
    /// Pitch times height does not fit in the address space.
    TooLarge,
    /// The pixel memory handed over is shorter than the framebuffer.
    MemoryTooSmall { needed_bytes: usize, available_bytes: usize },
}

impl fmt::Display for FramebufferError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FramebufferError::IndexedColor => write!(
                formatter,
                "the framebuffer uses indexed (palette) color; the console needs direct RGB"
            ),
            FramebufferError::EgaText => {
                write!(formatter, "the screen is in EGA text mode, not a pixel framebuffer")
            }
            FramebufferError::UnknownColorModel(kind) => write!(
                formatter,
                "unknown framebuffer type {kind} (Multiboot defines 0 indexed, 1 direct RGB, \
                 2 EGA text)"
            ),
            FramebufferError::UnsupportedDepth { bits_per_pixel } => write!(
                formatter,
                "{bits_per_pixel} bits per pixel is not supported; the console draws 15, 16, \
                 24 or 32"
            ),
            FramebufferError::BadChannelSize { channel, size } => {
                write!(formatter, "the {channel} channel is {size} bits wide; 1 to 16 work")
            }
            FramebufferError::ChannelOutsidePixel { channel, position, size, bits_per_pixel } => {
                write!(
                    formatter,
                    "the {channel} channel (bits {position}..{}) does not fit in a \
                     {bits_per_pixel}-bit pixel",
                    u32::from(position) + u32::from(size)
                )
            }
            FramebufferError::OverlappingChannels => {
                write!(formatter, "two color channels share bits of the pixel")
            }
            FramebufferError::PitchTooSmall { pitch_bytes, row_bytes } => write!(
                formatter,
                "the pitch ({pitch_bytes} bytes) is shorter than a row of pixels ({row_bytes} \
                 bytes)"
            ),
            FramebufferError::SmallerThanOneCell { width_pixels, height_pixels } => write!(
                formatter,
                "a {width_pixels}x{height_pixels} screen cannot hold one \
                 {GLYPH_WIDTH_PIXELS}x{GLYPH_HEIGHT_PIXELS} character"
            ),
            FramebufferError::TooLarge => {
                write!(formatter, "the framebuffer is larger than the address space")
            }
            FramebufferError::MemoryTooSmall { needed_bytes, available_bytes } => write!(
                formatter,
                "the framebuffer needs {needed_bytes} bytes but only {available_bytes} are mapped"
            ),
        }
    }
}

/// How color intensities are packed into a pixel's little-endian bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PixelFormat {
    bytes_per_pixel: usize,
    red: ChannelField,
    green: ChannelField,
    blue: ChannelField,
}

impl PixelFormat {
    /// Bytes each pixel takes in memory (2, 3 or 4).
    pub fn bytes_per_pixel(&self) -> usize {
        self.bytes_per_pixel
    }

    /// Where red, green and blue sit in a pixel.
    pub fn channels(&self) -> (ChannelField, ChannelField, ChannelField) {
        (self.red, self.green, self.blue)
    }

    /// The pixel value showing `rgb` (0xRRGGBB), reserved bits zero.
    pub fn encode(&self, rgb: u32) -> u32 {
        self.red.encode((rgb >> 16) & 0xff)
            | self.green.encode((rgb >> 8) & 0xff)
            | self.blue.encode(rgb & 0xff)
    }

    /// The bits of a pixel value that carry color.
    fn color_mask(&self) -> u32 {
        self.red.mask() | self.green.mask() | self.blue.mask()
    }

    /// Reads one pixel value from the start of `bytes`.
    fn read_pixel(&self, bytes: &[u8]) -> u32 {
        let mut value = [0u8; 4];
        value[..self.bytes_per_pixel].copy_from_slice(&bytes[..self.bytes_per_pixel]);
        u32::from_le_bytes(value)
    }
}

/// A validated framebuffer and the character grid that fits on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FramebufferLayout {
    width_pixels: usize,
    height_pixels: usize,
    pitch_bytes: usize,
    format: PixelFormat,
    columns: usize,
    rows: usize,
}

impl FramebufferLayout {
    /// Checks that the console can draw on `description` and works out its cell grid, cut to
    /// `MAX_COLUMNS` x `MAX_ROWS` cells.
    pub fn new(description: FramebufferDescription) -> Result<FramebufferLayout, FramebufferError> {
        let (red, green, blue) = match description.color_model {
            ColorModel::DirectRgb { red, green, blue } => (red, green, blue),
            ColorModel::Indexed => return Err(FramebufferError::IndexedColor),
            ColorModel::EgaText => return Err(FramebufferError::EgaText),
            ColorModel::Unknown(kind) => return Err(FramebufferError::UnknownColorModel(kind)),
        };
        let bits_per_pixel = description.bits_per_pixel;
        let bytes_per_pixel = match bits_per_pixel {
            15 | 16 => 2,
            24 => 3,
            32 => 4,
            _ => return Err(FramebufferError::UnsupportedDepth { bits_per_pixel }),
        };
        let channels =
            [(ColorChannel::Red, red), (ColorChannel::Green, green), (ColorChannel::Blue, blue)];
        for (channel, field) in channels {
            if field.size == 0 || field.size > 16 {
                return Err(FramebufferError::BadChannelSize { channel, size: field.size });
            }
            if u32::from(field.position) + u32::from(field.size) > u32::from(bits_per_pixel) {
                return Err(FramebufferError::ChannelOutsidePixel {
                    channel,
                    position: field.position,
                    size: field.size,
                    bits_per_pixel,
                });
            }
        }
        if red.mask() & green.mask() != 0
            || red.mask() & blue.mask() != 0
            || green.mask() & blue.mask() != 0
        {
            return Err(FramebufferError::OverlappingChannels);
        }
        let width_pixels = description.width_pixels;
        let height_pixels = description.height_pixels;
        if (width_pixels as usize) < GLYPH_WIDTH_PIXELS
            || (height_pixels as usize) < GLYPH_HEIGHT_PIXELS
        {
            return Err(FramebufferError::SmallerThanOneCell { width_pixels, height_pixels });
        }
        let row_bytes =
            width_pixels.checked_mul(bytes_per_pixel).ok_or(FramebufferError::TooLarge)?;
        if description.pitch_bytes < row_bytes {
            return Err(FramebufferError::PitchTooSmall {
                pitch_bytes: description.pitch_bytes,
                row_bytes,
            });
        }
        (description.pitch_bytes as usize)
            .checked_mul(height_pixels as usize)
            .ok_or(FramebufferError::TooLarge)?;
        Ok(FramebufferLayout {
            width_pixels: width_pixels as usize,
            height_pixels: height_pixels as usize,
            pitch_bytes: description.pitch_bytes as usize,
            format: PixelFormat { bytes_per_pixel: bytes_per_pixel as usize, red, green, blue },
            columns: (width_pixels as usize / GLYPH_WIDTH_PIXELS).min(MAX_COLUMNS),
            rows: (height_pixels as usize / GLYPH_HEIGHT_PIXELS).min(MAX_ROWS),
        })
    }

    /// Columns of character cells.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Rows of character cells.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes from one pixel row to the next.
    pub fn pitch_bytes(&self) -> usize {
        self.pitch_bytes
    }

    /// Width of the screen in pixels.
    pub fn width_pixels(&self) -> usize {
        self.width_pixels
    }

    /// Height of the screen in pixels.
    pub fn height_pixels(&self) -> usize {
        self.height_pixels
    }

    /// How pixels are packed.
    pub fn format(&self) -> &PixelFormat {
        &self.format
    }

    /// Bytes of pixel memory the framebuffer spans: pitch times height.
    pub fn size_bytes(&self) -> usize {
        self.pitch_bytes * self.height_pixels
    }

    /// Offset of the pixel at `x`, `y` from the start of the framebuffer.
    fn pixel_offset(&self, x: usize, y: usize) -> usize {
        y * self.pitch_bytes + x * self.format.bytes_per_pixel
    }

    /// The 16 colors as pixel values in this format.
    fn palette_pixels(&self) -> [u32; 16] {
        let mut pixels = [0; 16];
        for (pixel, rgb) in pixels.iter_mut().zip(VGA_PALETTE_RGB) {
            *pixel = self.format.encode(rgb);
        }
        pixels
    }
}

/// The memory a framebuffer console draws into: the mapped framebuffer, or a buffer in tests.
///
/// Offsets are in bytes from the start of the framebuffer; callers stay within
/// `length_bytes`. The console never reads pixels back except through `move_bytes`.
pub trait PixelMemory {
    /// Bytes of pixel memory available.
    fn length_bytes(&self) -> usize;
    /// Stores `bytes` at `offset`.
    fn write_bytes(&mut self, offset: usize, bytes: &[u8]);
    /// Sets `length` bytes from `offset` to `value`.
    fn fill_bytes(&mut self, offset: usize, length: usize, value: u8);
    /// Copies `length` bytes from `source` to `destination` (memmove: the ranges may overlap).
    fn move_bytes(&mut self, source: usize, destination: usize, length: usize);
}

impl PixelMemory for [u8] {
    fn length_bytes(&self) -> usize {
        self.len()
    }

    fn write_bytes(&mut self, offset: usize, bytes: &[u8]) {
        self[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    fn fill_bytes(&mut self, offset: usize, length: usize, value: u8) {
        self[offset..offset + length].fill(value);
    }

    fn move_bytes(&mut self, source: usize, destination: usize, length: usize) {
        self.copy_within(source..source + length, destination);
    }
}

impl PixelMemory for alloc::vec::Vec<u8> {
    fn length_bytes(&self) -> usize {
        self.len()
    }

    fn write_bytes(&mut self, offset: usize, bytes: &[u8]) {
        self.as_mut_slice().write_bytes(offset, bytes);
    }

    fn fill_bytes(&mut self, offset: usize, length: usize, value: u8) {
        self.as_mut_slice().fill_bytes(offset, length, value);
    }

    fn move_bytes(&mut self, source: usize, destination: usize, length: usize) {
        self.as_mut_slice().move_bytes(source, destination, length);
    }
}

/// How scrolled text gets to the screen at the next `flush`.
///
/// `MovePixels`, the default, was the faster of the two when printing line by line in the
/// host benchmark (`benchmark_scroll_strategies`): one large copy costs less than drawing the
/// changed cells of every row. On real video cards reads from the framebuffer are uncached and
/// slow, which favours `Redraw`; measure there before choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScrollStrategy {
    /// Move the pixel rows up with one copy inside pixel memory, then draw what differs.
    MovePixels,
    /// Leave pixel memory in place and redraw every cell that differs from what is shown;
    /// never reads pixel memory, which is slow on real video cards.
    Redraw,
}

/// Whether the cursor is drawn in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorMark {
    Absent,
    Underline,
}

/// A cell as drawn on the screen: its character and colors, and the cursor if it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DrawnCell {
    cell: ScreenChar,
    cursor: CursorMark,
}

/// All-zero cells: code 0 (blank) black on black, which is what zeroed pixel memory shows.
const ZERO_CELL: ScreenChar = ScreenChar::new(0, super::color::ColorCode::from_attribute(0));
const ZERO_DRAWN_CELL: DrawnCell = DrawnCell { cell: ZERO_CELL, cursor: CursorMark::Absent };

/// A text surface that draws its cells on a framebuffer with the code page 437 font.
///
/// `new` makes a detached surface whose bytes are all zero apart from `memory`, so a static
/// one lives in `.bss`; `attach` gives it a framebuffer. Nothing reaches the pixels until
/// `flush` (which `TextConsole` calls after each write).
pub struct FramebufferSurface<M: PixelMemory> {
    memory: M,
    layout: FramebufferLayout,
    /// The 16 colors as pixel bytes, little-endian.
    palette: [[u8; MAX_BYTES_PER_PIXEL]; 16],
    cells: [[ScreenChar; MAX_COLUMNS]; MAX_ROWS],
    shown: [[DrawnCell; MAX_COLUMNS]; MAX_ROWS],
    dirty_rows: [bool; MAX_ROWS],
    cursor: (usize, usize),
    /// Rows scrolled since the pixels were last moved (MovePixels only).
    pending_scroll_rows: usize,
    scroll_strategy: ScrollStrategy,
}

impl<M: PixelMemory> FramebufferSurface<M> {
    /// A surface with no framebuffer yet: one cell, drawn nowhere, until `attach`.
    pub const fn new(memory: M) -> Self {
        FramebufferSurface {
            memory,
            layout: FramebufferLayout {
                width_pixels: 0,
                height_pixels: 0,
                pitch_bytes: 0,
                format: PixelFormat {
                    bytes_per_pixel: 0,
                    red: ChannelField::new(0, 0),
                    green: ChannelField::new(0, 0),
                    blue: ChannelField::new(0, 0),
                },
                columns: 0,
                rows: 0,
            },
            palette: [[0; MAX_BYTES_PER_PIXEL]; 16],
            cells: [[ZERO_CELL; MAX_COLUMNS]; MAX_ROWS],
            shown: [[ZERO_DRAWN_CELL; MAX_COLUMNS]; MAX_ROWS],
            dirty_rows: [false; MAX_ROWS],
            cursor: (0, 0),
            pending_scroll_rows: 0,
            scroll_strategy: ScrollStrategy::MovePixels,
        }
    }

    /// Starts drawing on `memory`, laid out as `layout`: blackens the whole framebuffer and
    /// blanks the grid. The caller then clears the console to paint its colors.
    pub fn attach(&mut self, memory: M, layout: FramebufferLayout) -> Result<(), FramebufferError> {
        let needed_bytes = layout.size_bytes();
        let available_bytes = memory.length_bytes();
        if available_bytes < needed_bytes {
            return Err(FramebufferError::MemoryTooSmall { needed_bytes, available_bytes });
        }
        self.memory = memory;
        self.layout = layout;
        for (bytes, pixel) in self.palette.iter_mut().zip(layout.palette_pixels()) {
            *bytes = pixel.to_le_bytes();
        }
        // Zero bytes are black in every direct RGB format, so the blank grid below is exactly
        // what the pixels show.
        self.memory.fill_bytes(0, needed_bytes, 0);
        // Row by row: a whole grid as a temporary would not fit on the kernel's stack.
        for row in &mut self.cells {
            row.fill(ZERO_CELL);
        }
        for row in &mut self.shown {
            row.fill(ZERO_DRAWN_CELL);
        }
        self.dirty_rows.fill(false);
        self.cursor = (0, 0);
        self.pending_scroll_rows = 0;
        Ok(())
    }

    /// A surface already attached to `memory` (host tests; the kernel attaches a static one).
    pub fn attached(memory: M, layout: FramebufferLayout) -> Result<Self, FramebufferError>
    where
        M: Default,
    {
        let mut surface = FramebufferSurface::new(M::default());
        surface.attach(memory, layout)?;
        Ok(surface)
    }

    /// The framebuffer's layout (all zero while detached).
    pub fn layout(&self) -> &FramebufferLayout {
        &self.layout
    }

    /// The pixel memory drawn into.
    pub fn memory(&self) -> &M {
        &self.memory
    }

    /// The pixel memory drawn into, to change how it is mapped; what it shows must not change.
    pub fn memory_mut(&mut self) -> &mut M {
        &mut self.memory
    }

    /// Where the cursor is, as (row, column).
    pub fn cursor(&self) -> (usize, usize) {
        self.cursor
    }

    /// How scrolling reaches the pixels.
    pub fn scroll_strategy(&self) -> ScrollStrategy {
        self.scroll_strategy
    }

    /// Chooses how scrolling reaches the pixels from the next flush on.
    pub fn set_scroll_strategy(&mut self, strategy: ScrollStrategy) {
        // Settle any scroll pending under the old strategy first.
        self.flush();
        self.scroll_strategy = strategy;
    }

    /// Pixels were drawn over the screen by other code (the pixel demo): the grid is blanked
    /// to all-zero cells (NUL, black on black), which are taken to be what is shown, so the
    /// next flush draws only cells written from now on and a clear redraws every cell. (A cell
    /// written as all-zero stays as the pixels show it.)
    pub fn cover_cells(&mut self) {
        self.flush();
        for row in &mut self.cells {
            row.fill(ZERO_CELL);
        }
        for row in 0..MAX_ROWS {
            for column in 0..MAX_COLUMNS {
                self.shown[row][column] = self.wanted(row, column);
            }
        }
        self.dirty_rows.fill(false);
    }

    /// The cell at `row`, `column` as it should look, cursor included.
    fn wanted(&self, row: usize, column: usize) -> DrawnCell {
        let cursor =
            if self.cursor == (row, column) { CursorMark::Underline } else { CursorMark::Absent };
        DrawnCell { cell: self.cells[row][column], cursor }
    }

    /// Moves pixels up by the rows scrolled since the last flush (MovePixels), so that only
    /// the new rows need drawing.
    fn move_scrolled_pixels(&mut self) {
        let rows = self.layout.rows;
        let scrolled = core::mem::take(&mut self.pending_scroll_rows);
        if self.scroll_strategy != ScrollStrategy::MovePixels || scrolled == 0 || scrolled >= rows {
            return;
        }
        let text_row_bytes = GLYPH_HEIGHT_PIXELS * self.layout.pitch_bytes;
        self.memory.move_bytes(scrolled * text_row_bytes, 0, (rows - scrolled) * text_row_bytes);
        // The bottom `scrolled` rows keep their old pixels, and `shown` says so.
        self.shown.copy_within(scrolled..rows, 0);
    }

    /// Draws every run of cells in `row` that differs from what is shown.
    fn draw_row_changes(&mut self, row: usize) {
        let columns = self.layout.columns;
        let mut column = 0;
        while column < columns {
            if self.wanted(row, column) == self.shown[row][column] {
                column += 1;
                continue;
            }
            let start = column;
            while column < columns
                && column - start < CELLS_PER_WRITE
                && self.wanted(row, column) != self.shown[row][column]
            {
                column += 1;
            }
            self.draw_run(row, start, column);
        }
    }

    /// Draws cells `start..end` of `row` (at most `CELLS_PER_WRITE`), one pixel row per write.
    fn draw_run(&mut self, row: usize, start: usize, end: usize) {
        let bytes_per_pixel = self.layout.format.bytes_per_pixel;
        let cell_bytes = GLYPH_WIDTH_PIXELS * bytes_per_pixel;
        let mut line = [0u8; CELLS_PER_WRITE * GLYPH_WIDTH_PIXELS * MAX_BYTES_PER_PIXEL];
        for pixel_row in 0..GLYPH_HEIGHT_PIXELS {
            for (index, column) in (start..end).enumerate() {
                let wanted = self.wanted(row, column);
                let mut bits = CODE_PAGE_437_FONT.glyph(wanted.cell.character)[pixel_row];
                if wanted.cursor == CursorMark::Underline && pixel_row >= CURSOR_FIRST_PIXEL_ROW {
                    bits = !bits;
                }
                let foreground = &self.palette[wanted.cell.color.foreground() as usize];
                let background = &self.palette[wanted.cell.color.background() as usize];
                let pixels = &mut line[index * cell_bytes..(index + 1) * cell_bytes];
                expand_glyph_row(bits, foreground, background, bytes_per_pixel, pixels);
            }
            let y = row * GLYPH_HEIGHT_PIXELS + pixel_row;
            let offset = self.layout.pixel_offset(start * GLYPH_WIDTH_PIXELS, y);
            self.memory.write_bytes(offset, &line[..(end - start) * cell_bytes]);
        }
        for column in start..end {
            self.shown[row][column] = self.wanted(row, column);
        }
    }
}

/// Writes 8 pixels for one glyph row: foreground where a bit is set, else background.
fn expand_glyph_row(
    bits: u8,
    foreground: &[u8; MAX_BYTES_PER_PIXEL],
    background: &[u8; MAX_BYTES_PER_PIXEL],
    bytes_per_pixel: usize,
    pixels: &mut [u8],
) {
    // One loop per pixel size, so each copy has a length known at compile time.
    fn expand<const BYTES: usize>(
        bits: u8,
        foreground: &[u8],
        background: &[u8],
        pixels: &mut [u8],
    ) {
        for (x, pixel) in pixels.chunks_exact_mut(BYTES).enumerate() {
            let color = if bits & (0x80 >> x) != 0 { foreground } else { background };
            pixel.copy_from_slice(&color[..BYTES]);
        }
    }
    match bytes_per_pixel {
        4 => expand::<4>(bits, foreground, background, pixels),
        3 => expand::<3>(bits, foreground, background, pixels),
        _ => expand::<2>(bits, foreground, background, pixels),
    }
}

impl<M: PixelMemory> TextSurface for FramebufferSurface<M> {
    fn width(&self) -> usize {
        self.layout.columns.max(1)
    }

    fn height(&self) -> usize {
        self.layout.rows.max(1)
    }

    fn cell_width_pixels(&self) -> usize {
        GLYPH_WIDTH_PIXELS
    }

    fn read_cell(&self, row: usize, column: usize) -> ScreenChar {
        self.cells[row][column]
    }

    fn write_cell(&mut self, row: usize, column: usize, cell: ScreenChar) {
        if self.cells[row][column] != cell {
            self.cells[row][column] = cell;
            self.dirty_rows[row] = true;
        }
    }

    fn move_cursor(&mut self, row: usize, column: usize) {
        if self.cursor != (row, column) {
            self.dirty_rows[self.cursor.0] = true;
            self.dirty_rows[row] = true;
            self.cursor = (row, column);
        }
    }

    fn scroll_up(&mut self, blank: ScreenChar) {
        let rows = self.height();
        let columns = self.width();
        self.cells.copy_within(1..rows, 0);
        self.cells[rows - 1][..columns].fill(blank);
        self.pending_scroll_rows = (self.pending_scroll_rows + 1).min(rows);
        self.dirty_rows[..rows].fill(true);
    }

    fn fill(&mut self, cell: ScreenChar) {
        let columns = self.width();
        for row in &mut self.cells[..self.layout.rows.max(1)] {
            row[..columns].fill(cell);
        }
        self.dirty_rows.fill(true);
    }

    fn flush(&mut self) {
        self.move_scrolled_pixels();
        for row in 0..self.layout.rows {
            if core::mem::take(&mut self.dirty_rows[row]) {
                self.draw_row_changes(row);
            }
        }
    }
}

/// A cell read back from pixels.
///
/// A cell of one color cannot tell its foreground: it reads as a space in that color as the
/// background with `foreground: None` (so does a full block, 0xDB). Glyphs that are each
/// other's inverse (0x07/0x08, 0x09/0x0A, 0xDC/0xDF, 0xDD/0xDE) look alike with the colors
/// swapped, and read as the lower code; 0x00 and 0xFF read as a space. `appearance` says what
/// any cell reads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedCell {
    pub character: u8,
    pub foreground: Option<Color>,
    pub background: Color,
}

impl DecodedCell {
    /// The cell exactly as written, with its foreground known.
    pub const fn from_screen_char(cell: ScreenChar) -> DecodedCell {
        DecodedCell {
            character: cell.character,
            foreground: Some(cell.color.foreground()),
            background: cell.color.background(),
        }
    }
}

/// Why pixels could not be read back as cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the layout spans.
    BufferTooSmall { needed_bytes: usize, found_bytes: usize },
    /// Two palette colors pack to the same pixel value in this format.
    AmbiguousPalette,
    /// A pixel that is none of the 16 colors.
    UnknownColor { x: usize, y: usize, pixel: u32 },
    /// A cell showing more than two colors.
    TooManyColors { row: usize, column: usize },
    /// A two-color cell that matches no glyph, with or without the cursor.
    UnknownGlyph { row: usize, column: usize },
    /// The cursor shows in two cells.
    SeveralCursors { first: (usize, usize), second: (usize, usize) },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::BufferTooSmall { needed_bytes, found_bytes } => write!(
                formatter,
                "the framebuffer dump has {found_bytes} bytes; the layout needs {needed_bytes}"
            ),
            DecodeError::AmbiguousPalette => {
                write!(formatter, "two palette colors look the same in this pixel format")
            }
            DecodeError::UnknownColor { x, y, pixel } => {
                write!(formatter, "pixel ({x}, {y}) is {pixel:#x}, not one of the 16 colors")
            }
            DecodeError::TooManyColors { row, column } => {
                write!(formatter, "cell (row {row}, column {column}) shows more than two colors")
            }
            DecodeError::UnknownGlyph { row, column } => {
                write!(formatter, "cell (row {row}, column {column}) matches no glyph of the font")
            }
            DecodeError::SeveralCursors { first, second } => write!(
                formatter,
                "the cursor shows twice: at row {}, column {} and at row {}, column {}",
                first.0, first.1, second.0, second.1
            ),
        }
    }
}

/// Why a cell's palette indices match no reading.
enum CellReadError {
    TooManyColors,
    UnknownGlyph,
}

/// A cell as palette numbers, one per pixel.
type CellColors = [[u8; GLYPH_WIDTH_PIXELS]; GLYPH_HEIGHT_PIXELS];

/// Picks the reading of a cell's pixels that decoding reports (see `DecodedCell`).
fn read_cell_colors(
    colors: &CellColors,
    font: &Font,
) -> Result<(DecodedCell, CursorMark), CellReadError> {
    let first = colors[0][0];
    let mut second = None;
    for &color in colors.iter().flatten() {
        match second {
            _ if color == first => {}
            None => second = Some(color),
            Some(other) if other == color => {}
            Some(_) => return Err(CellReadError::TooManyColors),
        }
    }
    let Some(second) = second else {
        let background = Color::from_number(first);
        return Ok((
            DecodedCell { character: b' ', foreground: None, background },
            CursorMark::Absent,
        ));
    };
    // Rank readings: without the cursor before with it, then the space before other blanks,
    // then lower codes first.
    let rank = |cursor: CursorMark, code: u8| {
        let code_rank = if code == b' ' { 0 } else { u16::from(code) + 1 };
        (cursor == CursorMark::Underline, code_rank)
    };
    let mut best: Option<((bool, u16), DecodedCell, CursorMark)> = None;
    for (foreground, background) in [(first, second), (second, first)] {
        let mut bitmap: Glyph = [0; GLYPH_HEIGHT_PIXELS];
        for (bits, row) in bitmap.iter_mut().zip(colors) {
            for (x, &color) in row.iter().enumerate() {
                if color == foreground {
                    *bits |= 0x80 >> x;
                }
            }
        }
        let mut with_cursor = bitmap;
        for bits in &mut with_cursor[CURSOR_FIRST_PIXEL_ROW..] {
            *bits = !*bits;
        }
        for (candidate, cursor) in
            [(bitmap, CursorMark::Absent), (with_cursor, CursorMark::Underline)]
        {
            for (code, glyph) in font.glyphs().iter().enumerate() {
                let code = code as u8;
                if *glyph != candidate {
                    continue;
                }
                let key = rank(cursor, code);
                if best.is_none_or(|(best_key, _, _)| key < best_key) {
                    let cell = DecodedCell {
                        character: code,
                        foreground: Some(Color::from_number(foreground)),
                        background: Color::from_number(background),
                    };
                    best = Some((key, cell, cursor));
                }
            }
        }
    }
    best.map(|(_, cell, cursor)| (cell, cursor)).ok_or(CellReadError::UnknownGlyph)
}

/// What `decode_cells` reports for `cell` drawn with `font`, with or without the cursor on it:
/// the cell itself unless it looks the same as another (see `DecodedCell`).
pub fn appearance(font: &Font, cell: ScreenChar, cursor: CursorMark) -> DecodedCell {
    let glyph = font.glyph(cell.character);
    let mut colors: CellColors = [[0; GLYPH_WIDTH_PIXELS]; GLYPH_HEIGHT_PIXELS];
    for (pixel_row, (row, &bits)) in colors.iter_mut().zip(glyph).enumerate() {
        let inverted = cursor == CursorMark::Underline && pixel_row >= CURSOR_FIRST_PIXEL_ROW;
        for (x, color) in row.iter_mut().enumerate() {
            let set = (bits & (0x80 >> x) != 0) != inverted;
            let color_of = if set { cell.color.foreground() } else { cell.color.background() };
            *color = color_of as u8;
        }
    }
    match read_cell_colors(&colors, font) {
        Ok((decoded, _)) => decoded,
        // Unreachable: the pixels were drawn from this font with at most two colors.
        Err(_) => DecodedCell::from_screen_char(cell),
    }
}

/// The cells of a framebuffer as read back from its pixels.
#[derive(Clone)]
pub struct DecodedScreen {
    columns: usize,
    rows: usize,
    cells: [[DecodedCell; MAX_COLUMNS]; MAX_ROWS],
    cursor: Option<(usize, usize)>,
}

impl fmt::Debug for DecodedScreen {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "DecodedScreen({}x{} cells, cursor {:?})",
            self.columns, self.rows, self.cursor
        )
    }
}

impl DecodedScreen {
    /// Columns of cells.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Rows of cells.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The cell at `row`, `column`.
    pub fn cell(&self, row: usize, column: usize) -> DecodedCell {
        assert!(row < self.rows && column < self.columns, "cell ({row}, {column}) is off screen");
        self.cells[row][column]
    }

    /// Where the cursor shows, if it shows (it cannot on a cell of one color).
    pub fn cursor(&self) -> Option<(usize, usize)> {
        self.cursor
    }

    /// The characters of `row`, left to right.
    pub fn row_characters(&self, row: usize) -> impl Iterator<Item = u8> + '_ {
        self.cells[row][..self.columns].iter().map(|cell| cell.character)
    }
}

/// Reads every cell of a framebuffer back from `bytes`, laid out as `layout` and drawn with
/// `font`, by finding the two colors of each cell and the glyph they form.
pub fn decode_cells(
    bytes: &[u8],
    layout: &FramebufferLayout,
    font: &Font,
) -> Result<DecodedScreen, DecodeError> {
    let needed_bytes = layout.size_bytes();
    if bytes.len() < needed_bytes {
        return Err(DecodeError::BufferTooSmall { needed_bytes, found_bytes: bytes.len() });
    }
    let palette = layout.palette_pixels();
    for (index, pixel) in palette.iter().enumerate() {
        if palette[index + 1..].contains(pixel) {
            return Err(DecodeError::AmbiguousPalette);
        }
    }
    let format = &layout.format;
    let mask = format.color_mask();
    let blank = DecodedCell { character: b' ', foreground: None, background: Color::Black };
    let mut screen = DecodedScreen {
        columns: layout.columns,
        rows: layout.rows,
        cells: [[blank; MAX_COLUMNS]; MAX_ROWS],
        cursor: None,
    };
    for row in 0..layout.rows {
        for column in 0..layout.columns {
            let mut colors: CellColors = [[0; GLYPH_WIDTH_PIXELS]; GLYPH_HEIGHT_PIXELS];
            for (pixel_row, colors_row) in colors.iter_mut().enumerate() {
                for (pixel_column, color) in colors_row.iter_mut().enumerate() {
                    let x = column * GLYPH_WIDTH_PIXELS + pixel_column;
                    let y = row * GLYPH_HEIGHT_PIXELS + pixel_row;
                    let pixel = format.read_pixel(&bytes[layout.pixel_offset(x, y)..]) & mask;
                    let index = palette.iter().position(|&value| value == pixel);
                    *color = index.ok_or(DecodeError::UnknownColor { x, y, pixel })? as u8;
                }
            }
            let (cell, cursor) = read_cell_colors(&colors, font).map_err(|error| match error {
                CellReadError::TooManyColors => DecodeError::TooManyColors { row, column },
                CellReadError::UnknownGlyph => DecodeError::UnknownGlyph { row, column },
            })?;
            screen.cells[row][column] = cell;
            if cursor == CursorMark::Underline {
                if let Some(first) = screen.cursor {
                    return Err(DecodeError::SeveralCursors { first, second: (row, column) });
                }
                screen.cursor = Some((row, column));
            }
        }
    }
    Ok(screen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::{ColorCode, TextConsole};
    use core::fmt::Write;
    use std::{format, string::String, vec, vec::Vec};

    /// Blue in the low byte, then green, then red, then a reserved byte: what QEMU's and
    /// OVMF's GOP hand over.
    const BGRX: (ChannelField, ChannelField, ChannelField) =
        (ChannelField::new(16, 8), ChannelField::new(8, 8), ChannelField::new(0, 8));
    /// Red in the low byte.
    const RGBX: (ChannelField, ChannelField, ChannelField) =
        (ChannelField::new(0, 8), ChannelField::new(8, 8), ChannelField::new(16, 8));
    /// 5-6-5 bits, red on top.
    const RGB565: (ChannelField, ChannelField, ChannelField) =
        (ChannelField::new(11, 5), ChannelField::new(5, 6), ChannelField::new(0, 5));

    type Console = TextConsole<FramebufferSurface<Vec<u8>>>;

    fn description(
        width_pixels: u32,
        height_pixels: u32,
        pitch_bytes: u32,
        bits_per_pixel: u8,
        (red, green, blue): (ChannelField, ChannelField, ChannelField),
    ) -> FramebufferDescription {
        FramebufferDescription {
            width_pixels,
            height_pixels,
            pitch_bytes,
            bits_per_pixel,
            color_model: ColorModel::DirectRgb { red, green, blue },
        }
    }

    fn layout(
        width: u32,
        height: u32,
        pitch: u32,
        bits: u8,
        channels: (ChannelField, ChannelField, ChannelField),
    ) -> FramebufferLayout {
        FramebufferLayout::new(description(width, height, pitch, bits, channels)).unwrap()
    }

    /// A console on a zeroed in-memory framebuffer, cleared to the default colors.
    fn console_on(layout: FramebufferLayout) -> Console {
        let memory = vec![0; layout.size_bytes()];
        let mut console = TextConsole::new(FramebufferSurface::attached(memory, layout).unwrap());
        console.clear();
        console
    }

    fn decode<M: PixelMemory + AsRef<[u8]>>(
        console: &TextConsole<FramebufferSurface<M>>,
    ) -> DecodedScreen {
        let surface = console.surface();
        decode_cells(surface.memory().as_ref(), surface.layout(), &CODE_PAGE_437_FONT)
            .unwrap_or_else(|error| panic!("decoding failed: {error}"))
    }

    /// Checks every cell read back from the pixels against the cell grid, and the cursor.
    fn assert_pixels_show_the_grid<M: PixelMemory + AsRef<[u8]>>(
        console: &TextConsole<FramebufferSurface<M>>,
    ) {
        let surface = console.surface();
        let screen = decode(console);
        assert_eq!((screen.rows(), screen.columns()), (surface.height(), surface.width()));
        for row in 0..surface.height() {
            for column in 0..surface.width() {
                let cell = surface.read_cell(row, column);
                let cursor = if surface.cursor() == (row, column) {
                    CursorMark::Underline
                } else {
                    CursorMark::Absent
                };
                let expected = appearance(&CODE_PAGE_437_FONT, cell, cursor);
                assert_eq!(screen.cell(row, column), expected, "row {row}, column {column}");
            }
        }
        let (row, column) = surface.cursor();
        let color = surface.read_cell(row, column).color;
        if color.foreground() != color.background() {
            assert_eq!(screen.cursor(), Some((row, column)));
        }
    }

    fn row_text(screen: &DecodedScreen, row: usize) -> String {
        screen.row_characters(row).map(char::from).collect()
    }

    #[test]
    fn the_cell_grid_follows_the_mode_up_to_its_capacity() {
        let grid = |width, height| {
            let layout = layout(width, height, width * 4, 32, BGRX);
            (layout.columns(), layout.rows())
        };
        assert_eq!(grid(1024, 768), (128, 48));
        assert_eq!(grid(1366, 768), (170, 48));
        assert_eq!(grid(1920, 1200), (240, 75));
        assert_eq!(grid(3840, 2160), (MAX_COLUMNS, MAX_ROWS));
        assert_eq!(grid(8, 16), (1, 1));
    }

    #[test]
    fn unsupported_framebuffers_are_refused_with_a_reason_a_person_can_read() {
        let refused = |description: FramebufferDescription| {
            let error = FramebufferLayout::new(description).unwrap_err();
            (error, format!("{error}"))
        };
        let indexed = FramebufferDescription {
            color_model: ColorModel::from_multiboot(0, [0; 6]),
            ..description(1024, 768, 1024, 8, BGRX)
        };
        assert_eq!(
            refused(indexed),
            (
                FramebufferError::IndexedColor,
                "the framebuffer uses indexed (palette) color; the console needs direct RGB".into()
            )
        );
        let ega = FramebufferDescription {
            color_model: ColorModel::from_multiboot(2, [0; 6]),
            ..description(80, 25, 160, 16, BGRX)
        };
        assert_eq!(refused(ega).0, FramebufferError::EgaText);
        let unknown = FramebufferDescription {
            color_model: ColorModel::from_multiboot(7, [0; 6]),
            ..description(1024, 768, 4096, 32, BGRX)
        };
        assert_eq!(
            refused(unknown).1,
            "unknown framebuffer type 7 (Multiboot defines 0 indexed, 1 direct RGB, 2 EGA text)"
        );
        let (error, message) = refused(description(1024, 768, 1024, 8, RGB565));
        assert_eq!(error, FramebufferError::UnsupportedDepth { bits_per_pixel: 8 });
        assert_eq!(
            message,
            "8 bits per pixel is not supported; the console draws 15, 16, 24 or 32"
        );
        let no_green = (ChannelField::new(16, 8), ChannelField::new(8, 0), ChannelField::new(0, 8));
        assert_eq!(
            refused(description(1024, 768, 4096, 32, no_green)).1,
            "the green channel is 0 bits wide; 1 to 16 work"
        );
        let red_outside =
            (ChannelField::new(20, 8), ChannelField::new(8, 8), ChannelField::new(0, 8));
        assert_eq!(
            refused(description(1024, 768, 3072, 24, red_outside)).1,
            "the red channel (bits 20..28) does not fit in a 24-bit pixel"
        );
        let overlapping =
            (ChannelField::new(0, 8), ChannelField::new(4, 8), ChannelField::new(16, 8));
        assert_eq!(
            refused(description(1024, 768, 4096, 32, overlapping)).0,
            FramebufferError::OverlappingChannels
        );
        assert_eq!(
            refused(description(1024, 768, 3000, 32, BGRX)).1,
            "the pitch (3000 bytes) is shorter than a row of pixels (4096 bytes)"
        );
        assert_eq!(
            refused(description(7, 600, 28, 32, BGRX)).1,
            "a 7x600 screen cannot hold one 8x16 character"
        );
        let layout = layout(64, 32, 256, 32, BGRX);
        let mut surface = FramebufferSurface::new(Vec::new());
        let error = surface.attach(vec![0; 100], layout).unwrap_err();
        assert_eq!(format!("{error}"), "the framebuffer needs 8192 bytes but only 100 are mapped");
    }

    #[test]
    fn colors_land_in_the_channels_the_loader_reports() {
        let light_red = ScreenChar::new(0xdb, ColorCode::new(Color::LightRed, Color::Black));
        let first_pixel = |format: (ChannelField, ChannelField, ChannelField), bits: u8| {
            let bytes_per_pixel = u32::from(bits).div_ceil(8);
            let mut console = console_on(layout(16, 16, 16 * bytes_per_pixel, bits, format));
            console.surface_mut().write_cell(0, 1, light_red);
            console.flush();
            let offset = 8 * bytes_per_pixel as usize;
            console.surface().memory()[offset..offset + bytes_per_pixel as usize].to_vec()
        };
        // 0xFF5555 in each layout.
        assert_eq!(first_pixel(BGRX, 32), [0x55, 0x55, 0xff, 0x00]);
        assert_eq!(first_pixel(RGBX, 32), [0xff, 0x55, 0x55, 0x00]);
        assert_eq!(first_pixel(BGRX, 24), [0x55, 0x55, 0xff]);
        // 5-6-5: red 31, green 0x55 * 63 / 255 = 21, blue 0x55 * 31 / 255 = 10.
        assert_eq!(first_pixel(RGB565, 16), ((31u16 << 11) | (21 << 5) | 10).to_le_bytes());
    }

    /// Writes text in several colors, every code page 437 code, a box and wrapped lines.
    fn write_sample(console: &mut Console) {
        console.set_color(ColorCode::new(Color::Yellow, Color::Blue));
        console.write_str("Ferrite ┌──┐ framebuffer ░▒▓█\n");
        console.set_color(ColorCode::new(Color::LightGreen, Color::Black));
        writeln!(console, "{:>6}|{:#x}|é ü ö → ←", 42, 0xfeed).unwrap();
        console.set_color(ColorCode::new(Color::Black, Color::LightGray));
        let columns = console.surface().width();
        for code in 0..=255u8 {
            let (row, column) = (4 + usize::from(code) / columns, usize::from(code) % columns);
            let color = ColorCode::from_attribute(code.wrapping_mul(37));
            console.surface_mut().write_cell(row, column, ScreenChar::new(code, color));
        }
        console.set_position(12, 0);
        console.write_str(&"wrap ".repeat(30));
    }

    #[test]
    fn text_reads_back_cell_for_cell_in_every_pixel_format() {
        let formats = [
            ("32-bit BGRX", layout(640, 400, 640 * 4, 32, BGRX)),
            ("32-bit RGBX", layout(640, 400, 640 * 4, 32, RGBX)),
            ("24-bit", layout(640, 400, 640 * 3, 24, BGRX)),
            ("16-bit 5-6-5", layout(640, 400, 640 * 2, 16, RGB565)),
            ("32-bit, padded pitch", layout(636, 410, 2600, 32, BGRX)),
            ("24-bit, odd pitch", layout(641, 407, 641 * 3 + 7, 24, RGBX)),
        ];
        for (name, layout) in formats {
            let mut console = console_on(layout);
            write_sample(&mut console);
            let screen = decode(&console);
            assert!(
                row_text(&screen, 0).starts_with("Ferrite \u{da}\u{c4}\u{c4}\u{bf} framebuffer"),
                "{name}"
            );
            assert!(row_text(&screen, 1).starts_with("    42|0xfeed|"), "{name}");
            assert_eq!(
                screen.cell(0, 0),
                DecodedCell {
                    character: b'F',
                    foreground: Some(Color::Yellow),
                    background: Color::Blue
                },
                "{name}"
            );
            assert_pixels_show_the_grid(&console);
        }
    }

    #[test]
    fn every_character_reads_back_as_itself_unless_another_looks_the_same() {
        // Codes that look exactly like another cell: blanks, the full block (a blank in the
        // foreground color) and glyphs whose inverse is another glyph.
        const LOOK_ALIKES: [u8; 8] = [0x00, 0x20, 0xff, 0xdb, 0x08, 0x0a, 0xdf, 0xde];
        let pairs = [
            (Color::LightGray, Color::Black),
            (Color::Yellow, Color::Blue),
            (Color::Black, Color::White),
            (Color::Brown, Color::Cyan),
        ];
        for (foreground, background) in pairs {
            let color = ColorCode::new(foreground, background);
            let mut console = console_on(layout(256, 128, 1024, 32, BGRX));
            for code in 0..=255u8 {
                let cell = ScreenChar::new(code, color);
                console.surface_mut().write_cell(
                    usize::from(code) / 32,
                    usize::from(code) % 32,
                    cell,
                );
                let decoded = appearance(&CODE_PAGE_437_FONT, cell, CursorMark::Absent);
                if LOOK_ALIKES.contains(&code) {
                    assert_ne!(decoded, DecodedCell::from_screen_char(cell), "{code:#04x}");
                } else {
                    assert_eq!(decoded, DecodedCell::from_screen_char(cell), "{code:#04x}");
                }
            }
            console.surface_mut().move_cursor(7, 31);
            console.flush();
            assert_pixels_show_the_grid(&console);
        }
        let blank = ScreenChar::blank(ColorCode::new(Color::White, Color::Red));
        let expected = DecodedCell { character: b' ', foreground: None, background: Color::Red };
        assert_eq!(appearance(&CODE_PAGE_437_FONT, blank, CursorMark::Absent), expected);
        let upper_half = ScreenChar::new(0xdf, ColorCode::new(Color::White, Color::Red));
        let as_lower_half =
            DecodedCell { character: 0xdc, foreground: Some(Color::Red), background: Color::White };
        assert_eq!(appearance(&CODE_PAGE_437_FONT, upper_half, CursorMark::Absent), as_lower_half);
    }

    #[test]
    fn the_cursor_shows_on_any_character_and_is_erased_when_it_moves() {
        let mut console = console_on(layout(256, 128, 1024, 32, BGRX));
        let color = ColorCode::new(Color::White, Color::Blue);
        for code in 0..=255u8 {
            let cell = ScreenChar::new(code, color);
            console.surface_mut().write_cell(usize::from(code) / 32, usize::from(code) % 32, cell);
        }
        for code in 0..=255u8 {
            console.set_position(usize::from(code) / 32, usize::from(code) % 32);
            // decode fails if the previous cursor was left behind.
            let screen = decode(&console);
            assert_eq!(screen.cursor(), Some(console.position()), "{code:#04x}");
        }
        assert_pixels_show_the_grid(&console);
        // On a blank cell the cursor is an underline in the foreground color.
        console.set_color(color);
        console.clear();
        let screen = decode(&console);
        assert_eq!(screen.cursor(), Some((0, 0)));
        let under_cursor = screen.cell(0, 0);
        assert_eq!(under_cursor.character, b' ');
        assert_eq!(under_cursor.foreground, Some(Color::White));
        let top_left = &console.surface().memory()[..4];
        let bottom_left = &console.surface().memory()[15 * 1024..15 * 1024 + 4];
        assert_eq!((top_left, bottom_left), (&[0xaa, 0, 0, 0][..], &[0xff, 0xff, 0xff, 0][..]));
    }

    #[test]
    fn nothing_reaches_the_pixels_before_a_flush_and_cells_read_back_from_the_grid() {
        let layout = layout(64, 32, 256, 32, BGRX);
        let mut surface =
            FramebufferSurface::attached(vec![0; layout.size_bytes()], layout).unwrap();
        let cell = ScreenChar::new(b'A', ColorCode::new(Color::White, Color::Red));
        surface.write_cell(1, 2, cell);
        surface.scroll_up(ScreenChar::blank(ColorCode::new(Color::White, Color::Red)));
        assert_eq!(surface.read_cell(0, 2), cell);
        assert!(surface.memory().iter().all(|&byte| byte == 0));
        surface.flush();
        assert!(surface.memory().iter().any(|&byte| byte != 0));
    }

    #[test]
    fn covered_cells_keep_foreign_pixels_until_written_and_a_clear_redraws_all() {
        let layout = layout(64, 32, 256, 32, BGRX);
        let mut console = console_on(layout);
        let _ = write!(console, "old text");
        // Other code paints every pixel dark red, then the grid is covered.
        let red = 0x0080_0000u32.to_le_bytes();
        for offset in (0..layout.size_bytes()).step_by(4) {
            console.surface_mut().memory_mut().write_bytes(offset, &red);
        }
        console.surface_mut().cover_cells();
        console.flush();
        let is_red = |console: &Console, x: usize, y: usize| {
            console.surface().memory()[y * 256 + x * 4..][..4] == red
        };
        assert!(is_red(&console, 0, 0) && is_red(&console, 63, 31), "covering drew cells");
        // A written cell is drawn; its neighbours in the row keep the foreign pixels.
        let status = ScreenChar::new(b'S', ColorCode::new(Color::Black, Color::LightGray));
        console.surface_mut().write_cell(1, 2, status);
        console.flush();
        assert!(is_red(&console, 8, 16) && is_red(&console, 40, 16));
        assert!(!is_red(&console, 16, 16), "the written cell was not drawn");
        // Clearing draws the whole grid again.
        console.clear();
        assert!((0..32).all(|y| (0..64).all(|x| !is_red(&console, x, y))));
        assert_pixels_show_the_grid(&console);
    }

    #[test]
    fn a_detached_surface_takes_writes_and_draws_nothing() {
        let mut console = TextConsole::new(FramebufferSurface::new(Vec::new()));
        console.write_str("before the framebuffer is known\nsecond line");
        console.clear();
        assert_eq!((console.surface().width(), console.surface().height()), (1, 1));
        assert!(console.surface().memory().is_empty());
    }

    fn numbered_lines(console: &mut Console, count: usize) {
        for line in 0..count {
            let color = ColorCode::from_attribute((line % 15 + 1) as u8);
            console.set_color(color);
            writeln!(console, "line {line}: {}", "word ".repeat(line % 23)).unwrap();
        }
    }

    #[test]
    fn scrolling_keeps_the_latest_rows_with_either_strategy_and_both_draw_the_same() {
        let mut screens = Vec::new();
        for strategy in [ScrollStrategy::MovePixels, ScrollStrategy::Redraw] {
            let mut console = console_on(layout(1024, 768, 4096, 32, BGRX));
            console.surface_mut().set_scroll_strategy(strategy);
            numbered_lines(&mut console, 100);
            console.write_str("prompt> ");
            let screen = decode(&console);
            // 100 lines and the prompt row: rows 0..47 show lines 53..99.
            assert!(row_text(&screen, 0).starts_with("line 53: word word "), "{strategy:?}");
            assert!(row_text(&screen, 46).starts_with("line 99: word"), "{strategy:?}");
            assert!(row_text(&screen, 47).starts_with("prompt>  "), "{strategy:?}");
            assert_eq!(screen.cursor(), Some((47, 8)));
            assert_eq!(screen.cell(0, 0).foreground, Some(Color::from_number(53 % 15 + 1)));
            assert_pixels_show_the_grid(&console);
            screens.push(console.surface().memory().clone());
        }
        assert!(screens[0] == screens[1], "the two strategies drew different pixels");
    }

    /// Pixel memory that checks no write reaches past the visible part of a pixel row.
    #[derive(Default)]
    struct PaddingGuard {
        bytes: Vec<u8>,
        pitch_bytes: usize,
        row_bytes: usize,
    }

    impl AsRef<[u8]> for PaddingGuard {
        fn as_ref(&self) -> &[u8] {
            &self.bytes
        }
    }

    impl PixelMemory for PaddingGuard {
        fn length_bytes(&self) -> usize {
            self.bytes.len()
        }

        fn write_bytes(&mut self, offset: usize, bytes: &[u8]) {
            let end_in_row = offset % self.pitch_bytes + bytes.len();
            assert!(end_in_row <= self.row_bytes, "write at {offset} runs into the padding");
            self.bytes.write_bytes(offset, bytes);
        }

        fn fill_bytes(&mut self, offset: usize, length: usize, value: u8) {
            self.bytes.fill_bytes(offset, length, value);
        }

        fn move_bytes(&mut self, source: usize, destination: usize, length: usize) {
            self.bytes.move_bytes(source, destination, length);
        }
    }

    #[test]
    fn a_pitch_longer_than_the_row_leaves_the_padding_alone() {
        let layout = layout(203, 100, 203 * 3 + 29, 24, RGBX);
        for strategy in [ScrollStrategy::MovePixels, ScrollStrategy::Redraw] {
            let memory = PaddingGuard {
                bytes: vec![0; layout.size_bytes()],
                pitch_bytes: layout.pitch_bytes(),
                row_bytes: 203 * 3,
            };
            let mut console =
                TextConsole::new(FramebufferSurface::attached(memory, layout).unwrap());
            console.surface_mut().set_scroll_strategy(strategy);
            console.clear();
            for line in sample_lines(30) {
                writeln!(console, "{line}").unwrap();
            }
            assert_pixels_show_the_grid(&console);
            assert_eq!(decode(&console).cursor(), Some((5, 0)));
        }
    }

    /// Pixel memory that counts what the console does to it.
    #[derive(Default)]
    struct CountingMemory {
        bytes: Vec<u8>,
        bytes_written: usize,
        writes: usize,
        bytes_copied: usize,
        copies: usize,
    }

    impl PixelMemory for CountingMemory {
        fn length_bytes(&self) -> usize {
            self.bytes.len()
        }

        fn write_bytes(&mut self, offset: usize, bytes: &[u8]) {
            self.bytes_written += bytes.len();
            self.writes += 1;
            self.bytes.write_bytes(offset, bytes);
        }

        fn fill_bytes(&mut self, offset: usize, length: usize, value: u8) {
            self.bytes.fill_bytes(offset, length, value);
        }

        fn move_bytes(&mut self, source: usize, destination: usize, length: usize) {
            self.bytes_copied += length;
            self.copies += 1;
            self.bytes.move_bytes(source, destination, length);
        }
    }

    impl AsRef<[u8]> for CountingMemory {
        fn as_ref(&self) -> &[u8] {
            &self.bytes
        }
    }

    impl CountingMemory {
        fn reset_counts(&mut self) {
            (self.bytes_written, self.writes, self.bytes_copied, self.copies) = (0, 0, 0, 0);
        }
    }

    type CountingConsole = TextConsole<FramebufferSurface<CountingMemory>>;

    const SCREEN_BYTES: usize = 1024 * 768 * 4;
    const TEXT_ROW_BYTES: usize = 1024 * 4 * GLYPH_HEIGHT_PIXELS;

    fn counting_console(strategy: ScrollStrategy) -> CountingConsole {
        let layout = layout(1024, 768, 4096, 32, BGRX);
        let memory = CountingMemory { bytes: vec![0; layout.size_bytes()], ..Default::default() };
        let mut console = TextConsole::new(FramebufferSurface::attached(memory, layout).unwrap());
        console.surface_mut().set_scroll_strategy(strategy);
        console.clear();
        console
    }

    /// Lines of varied text, so consecutive lines differ in most cells as real output does.
    fn sample_lines(count: usize) -> Vec<String> {
        const WORDS: [&str; 12] = [
            "frame",
            "allocator",
            "0x0010f000",
            "page",
            "mapped",
            "ok",
            "irq",
            "timer",
            "heap",
            "free",
            "=",
            "bytes",
        ];
        let mut seed = 12345u32;
        (0..count)
            .map(|line| {
                let mut text = format!("[{line:5}]");
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                for word in 0..(seed >> 16) % 14 + 2 {
                    text.push(' ');
                    text.push_str(WORDS[(seed as usize >> 8).wrapping_add(word as usize * 7) % 12]);
                }
                text
            })
            .collect()
    }

    #[test]
    fn a_thousand_lines_in_one_write_draw_the_screen_once() {
        let text: String = sample_lines(1000).iter().map(|line| format!("{line}\n")).collect();
        for strategy in [ScrollStrategy::MovePixels, ScrollStrategy::Redraw] {
            let mut console = counting_console(strategy);
            console.surface_mut().memory.reset_counts();
            console.write_str(&text);
            let memory = console.surface().memory();
            assert!(memory.bytes_written <= SCREEN_BYTES, "{strategy:?}: {}", memory.bytes_written);
            assert_eq!(memory.copies, 0, "{strategy:?}: the pixels moved though all rows are new");
        }
    }

    #[test]
    fn one_line_at_a_time_moves_the_pixels_once_and_draws_about_one_row_per_line() {
        let lines = sample_lines(200);
        let mut console = counting_console(ScrollStrategy::MovePixels);
        for line in &lines[..48] {
            writeln!(console, "{line}").unwrap();
        }
        console.surface_mut().memory.reset_counts();
        for line in &lines[48..] {
            writeln!(console, "{line}").unwrap();
        }
        let memory = console.surface().memory();
        let printed = lines.len() - 48;
        assert_eq!(memory.copies, printed);
        assert_eq!(memory.bytes_copied, printed * 47 * TEXT_ROW_BYTES);
        // The new line's cells and the cursor's old and new cells: well under two rows a line.
        assert!(memory.bytes_written < printed * TEXT_ROW_BYTES * 2, "{}", memory.bytes_written);
    }

    #[test]
    fn decoding_refuses_pixels_the_console_cannot_have_drawn() {
        // Two cells side by side; the cursor sits on the first, a blank in gray on black.
        let layout = layout(16, 16, 64, 32, BGRX);
        let console = console_on(layout);
        let drawn = console.surface().memory().clone();
        let decode = |bytes: &[u8]| decode_cells(bytes, &layout, &CODE_PAGE_437_FONT).unwrap_err();
        let gray = [0xaa, 0xaa, 0xaa, 0];
        let pixel = |x: usize, y: usize| y * 64 + x * 4..y * 64 + x * 4 + 4;

        let mut bytes = drawn.clone();
        bytes[pixel(9, 5)].copy_from_slice(&[0x56, 0x34, 0x12, 0]);
        let error = decode(&bytes);
        assert_eq!(error, DecodeError::UnknownColor { x: 9, y: 5, pixel: 0x123456 });
        assert_eq!(format!("{error}"), "pixel (9, 5) is 0x123456, not one of the 16 colors");

        let mut bytes = drawn.clone();
        bytes[pixel(9, 5)].copy_from_slice(&gray);
        assert_eq!(
            format!("{}", decode(&bytes)),
            "cell (row 0, column 1) matches no glyph of the font"
        );
        bytes[pixel(10, 5)].copy_from_slice(&[0xff, 0xff, 0xff, 0]);
        assert_eq!(decode(&bytes), DecodeError::TooManyColors { row: 0, column: 1 });

        let mut bytes = drawn.clone();
        for y in 0..16 {
            bytes.copy_within(y * 64..y * 64 + 32, y * 64 + 32);
        }
        let error = decode(&bytes);
        assert_eq!(error, DecodeError::SeveralCursors { first: (0, 0), second: (0, 1) });
        assert_eq!(
            format!("{error}"),
            "the cursor shows twice: at row 0, column 0 and at row 0, column 1"
        );

        assert_eq!(
            decode(&drawn[..100]),
            DecodeError::BufferTooSmall { needed_bytes: 1024, found_bytes: 100 }
        );
    }

    /// Prints how fast each scroll strategy puts 1,000 lines on a 1024x768, 32-bit screen,
    /// one `writeln!` per line and all in one write, and how many pixel bytes each line costs.
    /// Run: `scripts/cargo.sh test --lib --release -- --ignored --nocapture scroll_strategies`.
    #[test]
    #[ignore = "benchmark: prints figures"]
    fn benchmark_scroll_strategies() {
        const LINES: usize = 1000;
        let lines = sample_lines(LINES);
        let all_at_once: String = lines.iter().map(|line| format!("{line}\n")).collect();
        std::println!(
            "{:<11} {:<13} {:>12} {:>16} {:>15} {:>13}",
            "strategy",
            "writes",
            "lines/s",
            "written B/line",
            "moved B/line",
            "writes/line"
        );
        let mut final_screens = Vec::new();
        for strategy in [ScrollStrategy::MovePixels, ScrollStrategy::Redraw] {
            for one_write in [false, true] {
                let mut console = counting_console(strategy);
                console.surface_mut().memory.reset_counts();
                let started = std::time::Instant::now();
                if one_write {
                    console.write_str(&all_at_once);
                } else {
                    for line in &lines {
                        writeln!(console, "{line}").unwrap();
                    }
                }
                let seconds = started.elapsed().as_secs_f64();
                let memory = console.surface().memory();
                std::println!(
                    "{:<11} {:<13} {:>12.0} {:>16} {:>15} {:>13.1}",
                    format!("{strategy:?}"),
                    if one_write { "one write" } else { "one per line" },
                    LINES as f64 / seconds,
                    memory.bytes_written / LINES,
                    memory.bytes_copied / LINES,
                    memory.writes as f64 / LINES as f64,
                );
                assert_pixels_show_the_grid(&console);
                final_screens.push(memory.bytes.clone());
            }
        }
        assert!(final_screens.windows(2).all(|pair| pair[0] == pair[1]));
    }
}
