//! The seam between text layout and the hardware: a grid of cells that can be read and written.
#![forbid(unsafe_code)]

use super::color::ScreenChar;

/// VGA text mode 3 draws each character 9 pixels wide (720x400 for 80x25).
pub const VGA_TEXT_CELL_WIDTH_PIXELS: usize = 9;
/// Every screen the kernel drives draws characters 16 pixels high.
pub const CELL_HEIGHT_PIXELS: usize = 16;

/// A rectangular grid of character cells with a cursor, such as the VGA text buffer.
///
/// The console's layout logic only talks to this trait, so it runs unchanged on an in-memory
/// grid in host tests, on the VGA text buffer, and on a framebuffer that draws glyphs.
pub trait TextSurface {
    /// Number of columns.
    fn width(&self) -> usize;
    /// Number of rows.
    fn height(&self) -> usize;
    /// Width of a cell on screen in pixels, for drawings that must keep their proportions (a
    /// cell is 16 pixels high on every screen the kernel drives): 9 in VGA text mode 3, which
    /// surfaces standing in for it keep, and 8 with the framebuffer font.
    fn cell_width_pixels(&self) -> usize {
        VGA_TEXT_CELL_WIDTH_PIXELS
    }
    /// The cell at `row`, `column` (both in range).
    fn read_cell(&self, row: usize, column: usize) -> ScreenChar;
    /// Replaces the cell at `row`, `column` (both in range).
    fn write_cell(&mut self, row: usize, column: usize, cell: ScreenChar);
    /// Shows the cursor at `row`, `column`; surfaces without a cursor ignore it.
    fn move_cursor(&mut self, _row: usize, _column: usize) {}

    /// Makes everything written so far visible. Surfaces that show each write at once (VGA
    /// text, memory) need not do anything; a framebuffer draws its changed cells here.
    fn flush(&mut self) {}

    /// Moves every row up by one and fills the bottom row with `blank`.
    fn scroll_up(&mut self, blank: ScreenChar) {
        for row in 1..self.height() {
            for column in 0..self.width() {
                let cell = self.read_cell(row, column);
                self.write_cell(row - 1, column, cell);
            }
        }
        let last_row = self.height() - 1;
        for column in 0..self.width() {
            self.write_cell(last_row, column, blank);
        }
    }

    /// Fills the whole surface with `cell`.
    fn fill(&mut self, cell: ScreenChar) {
        for row in 0..self.height() {
            for column in 0..self.width() {
                self.write_cell(row, column, cell);
            }
        }
    }
}

/// A text surface held in ordinary memory: an off-screen buffer, or a stand-in screen for tests.
///
/// It holds `WIDTH` x `HEIGHT` cells and shows them all, or the top-left part `resize` asks
/// for (an off-screen picture the size of whatever screen the kernel has).
#[derive(Clone)]
pub struct MemorySurface<const WIDTH: usize, const HEIGHT: usize> {
    cells: [[ScreenChar; WIDTH]; HEIGHT],
    cursor: (usize, usize),
    /// Columns and rows in use; `None` is all of them (and keeps a blank surface all zero).
    size: Option<(usize, usize)>,
}

impl<const WIDTH: usize, const HEIGHT: usize> MemorySurface<WIDTH, HEIGHT> {
    /// A surface with every cell set to `cell` and the cursor at the top left.
    pub const fn filled(cell: ScreenChar) -> Self {
        MemorySurface { cells: [[cell; WIDTH]; HEIGHT], cursor: (0, 0), size: None }
    }

    /// Uses only the top-left `columns` x `rows` cells (at least one, at most all).
    pub fn resize(&mut self, columns: usize, rows: usize) {
        self.size = Some((columns.clamp(1, WIDTH), rows.clamp(1, HEIGHT)));
    }

    /// Where the cursor was last put, as (row, column).
    pub fn cursor(&self) -> (usize, usize) {
        self.cursor
    }

    /// The characters of `row` as a string, each cell's code taken as one byte.
    #[cfg(test)]
    pub fn row_text(&self, row: usize) -> std::string::String {
        self.cells[row].iter().map(|cell| cell.character as char).collect()
    }
}

impl<const WIDTH: usize, const HEIGHT: usize> TextSurface for MemorySurface<WIDTH, HEIGHT> {
    fn width(&self) -> usize {
        self.size.map_or(WIDTH, |(columns, _)| columns)
    }

    fn height(&self) -> usize {
        self.size.map_or(HEIGHT, |(_, rows)| rows)
    }

    fn read_cell(&self, row: usize, column: usize) -> ScreenChar {
        self.cells[row][column]
    }

    fn write_cell(&mut self, row: usize, column: usize, cell: ScreenChar) {
        self.cells[row][column] = cell;
    }

    fn move_cursor(&mut self, row: usize, column: usize) {
        self.cursor = (row, column);
    }

    fn scroll_up(&mut self, blank: ScreenChar) {
        let (columns, rows) = (self.width(), self.height());
        self.cells.copy_within(1..rows, 0);
        self.cells[rows - 1][..columns].fill(blank);
    }
}
