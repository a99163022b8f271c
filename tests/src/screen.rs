//! The screen as dumped from the emulator, in cells: the 80x25 VGA text buffer, or a
//! framebuffer decoded back into cells with the kernel's own font, so every assertion reads
//! the same in both console modes.

use std::fmt;

use ferrite::console::font::CODE_PAGE_437_FONT;
use ferrite::console::framebuffer::{DecodedScreen, FramebufferLayout, decode_cells};

pub use ferrite::console::Color;

/// The VGA text screen's size.
pub const VGA_COLUMNS: usize = 80;
pub const VGA_ROWS: usize = 25;

/// One screen cell.
///
/// A cell of one color on a framebuffer (a space, a full block) cannot show which color is its
/// foreground: it reads as a space whose foreground is taken to be its background color. So
/// `assert_text_at` compares only the background of blank cells, in both modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub character: u8,
    pub foreground: Color,
    pub background: Color,
}

impl Cell {
    /// Whether the cell shows one color only (NUL, space, full block and 0xFF).
    pub fn is_blank(&self) -> bool {
        matches!(self.character, 0 | b' ' | 0xdb | 0xff) || self.foreground == self.background
    }
}

/// A snapshot of the screen.
#[derive(Clone)]
pub struct Screen {
    columns: usize,
    rows: usize,
    cells: Vec<Cell>,
    /// Where the cursor shows, on a framebuffer (VGA text's cursor is in CRTC registers, which
    /// the monitor cannot read).
    cursor: Option<(usize, usize)>,
}

impl Screen {
    /// Decodes the 4000 bytes of the text buffer (character, attribute pairs).
    pub fn from_bytes(bytes: &[u8]) -> Screen {
        assert_eq!(bytes.len(), VGA_COLUMNS * VGA_ROWS * 2, "VGA dump has the wrong size");
        let cells = bytes
            .chunks(2)
            .map(|pair| Cell {
                character: pair[0],
                foreground: Color::from_number(pair[1]),
                background: Color::from_number(pair[1] >> 4),
            })
            .collect();
        Screen { columns: VGA_COLUMNS, rows: VGA_ROWS, cells, cursor: None }
    }

    /// Reads a framebuffer's pixels, laid out as `layout`, back into cells.
    pub fn from_framebuffer(bytes: &[u8], layout: &FramebufferLayout) -> Result<Screen, String> {
        let decoded: Box<DecodedScreen> = Box::new(
            decode_cells(bytes, layout, &CODE_PAGE_437_FONT).map_err(|error| error.to_string())?,
        );
        let (columns, rows) = (decoded.columns(), decoded.rows());
        let mut cells = Vec::with_capacity(columns * rows);
        for row in 0..rows {
            for column in 0..columns {
                let cell = decoded.cell(row, column);
                cells.push(Cell {
                    character: cell.character,
                    foreground: cell.foreground.unwrap_or(cell.background),
                    background: cell.background,
                });
            }
        }
        Ok(Screen { columns, rows, cells, cursor: decoded.cursor() })
    }

    /// Columns of cells: 80 in text mode, 128 on a 1024x768 framebuffer.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Rows of cells: 25 in text mode, 48 on a 1024x768 framebuffer.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Where the cursor is drawn, if the screen shows it (framebuffers only).
    pub fn cursor(&self) -> Option<(usize, usize)> {
        self.cursor
    }

    pub fn cell(&self, row: usize, column: usize) -> Cell {
        assert!(row < self.rows && column < self.columns, "cell ({row}, {column}) is off screen");
        self.cells[row * self.columns + column]
    }

    /// The row's characters; bytes outside printable ASCII show as `?` (NUL as a space).
    pub fn row_text(&self, row: usize) -> String {
        (0..self.columns)
            .map(|column| match self.cell(row, column).character {
                0 => ' ',
                byte @ 0x20..=0x7e => byte as char,
                _ => '?',
            })
            .collect()
    }

    /// The whole screen as text, one line per row.
    pub fn text(&self) -> String {
        (0..self.rows).map(|row| self.row_text(row) + "\n").collect()
    }

    /// The first (row, column) where `needle` starts.
    pub fn find(&self, needle: &str) -> Option<(usize, usize)> {
        (0..self.rows).find_map(|row| self.row_text(row).find(needle).map(|column| (row, column)))
    }

    /// Asserts that `text` is on screen at `row`, `column`, every cell in the given colors
    /// (blank cells: their background; see `Cell`).
    pub fn assert_text_at(
        &self,
        row: usize,
        column: usize,
        text: &str,
        foreground: Color,
        background: Color,
    ) {
        for (offset, expected) in text.bytes().enumerate() {
            let cell = self.cell(row, column + offset);
            let expected_cell = Cell { character: expected, foreground, background };
            let shown_foreground =
                if expected_cell.is_blank() { cell.foreground } else { foreground };
            assert_eq!(
                (cell.character, cell.foreground, cell.background),
                (expected, shown_foreground, background),
                "cell ({row}, {}) of {text:?}; screen:\n{self}",
                column + offset
            );
        }
    }

    /// How many cells show `color` as their foreground (a one-color cell: as its only color).
    pub fn count_foreground(&self, foreground: Color) -> usize {
        self.cells.iter().filter(|cell| cell.foreground == foreground).count()
    }

    /// How many distinct (foreground, background) pairs appear on cells that are not blank.
    pub fn distinct_colors(&self) -> usize {
        let mut pairs: Vec<(u8, u8)> = self
            .cells
            .iter()
            .filter(|cell| !matches!(cell.character, 0 | b' '))
            .map(|cell| (cell.foreground as u8, cell.background as u8))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs.len()
    }
}

impl fmt::Display for Screen {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text())
    }
}

/// A screenshot: 8-bit RGB pixels, row by row.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<[u8; 3]>,
}

impl Image {
    /// Reads the binary PPM (P6, maximum 255) that QEMU's `screendump` writes.
    pub fn from_ppm(bytes: &[u8]) -> Image {
        let mut fields = Vec::new();
        let mut position = 0;
        while fields.len() < 4 {
            while bytes[position].is_ascii_whitespace() {
                position += 1;
            }
            let start = position;
            while !bytes[position].is_ascii_whitespace() {
                position += 1;
            }
            fields.push(std::str::from_utf8(&bytes[start..position]).unwrap().to_string());
        }
        assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P6", "255"), "not a PPM");
        let width: usize = fields[1].parse().unwrap();
        let height: usize = fields[2].parse().unwrap();
        let data = &bytes[position + 1..];
        let pixels = data[..width * height * 3]
            .chunks_exact(3)
            .map(|pixel| [pixel[0], pixel[1], pixel[2]])
            .collect();
        Image { width, height, pixels }
    }

    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        self.pixels[y * self.width + x]
    }

    /// How many different colors the image shows.
    pub fn distinct_colors(&self) -> usize {
        self.pixels.iter().collect::<std::collections::HashSet<_>>().len()
    }

    /// Pixels in a clear color rather than a gray: the strongest channel exceeds the weakest
    /// by more than 60 of 255 (the 16 text colors' grays and black do not count).
    pub fn colorful_pixels(&self) -> usize {
        self.pixels
            .iter()
            .filter(|pixel| pixel.iter().max().unwrap() - pixel.iter().min().unwrap() > 60)
            .count()
    }

    /// Pixels that differ from `other`'s (the same size).
    pub fn differing_pixels(&self, other: &Image) -> usize {
        assert_eq!((self.width, self.height), (other.width, other.height), "image sizes");
        self.pixels.iter().zip(&other.pixels).filter(|(a, b)| a != b).count()
    }

    /// Checks that the image shows the pixel demo's scene: thousands of colors, a good share of
    /// them (at least 1 in 40) clearly colored: the shapes and the sky.
    pub fn assert_shows_the_pixel_scene(&self) {
        let (colors, colorful) = (self.distinct_colors(), self.colorful_pixels());
        assert!(colors >= 1000, "only {colors} colors on screen: not the pixel demo");
        let total = self.width * self.height;
        assert!(colorful * 40 >= total, "only {colorful} of {total} pixels are colorful");
    }
}
