//! The seam between text layout and the hardware: a grid of cells that can be read and written.
#![forbid(unsafe_code)]

use super::color::ScreenChar;

/// A rectangular grid of character cells with a cursor, such as the VGA text buffer.
///
/// The console's layout logic only talks to this trait, so it runs unchanged on an in-memory
/// grid in host tests, on the VGA text buffer, and on a framebuffer that draws glyphs.
pub trait TextSurface {
    /// Number of columns.
    fn width(&self) -> usize;
    /// Number of rows.
    fn height(&self) -> usize;
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
#[derive(Clone)]
pub struct MemorySurface<const WIDTH: usize, const HEIGHT: usize> {
    cells: [[ScreenChar; WIDTH]; HEIGHT],
    cursor: (usize, usize),
}

impl<const WIDTH: usize, const HEIGHT: usize> MemorySurface<WIDTH, HEIGHT> {
    /// A surface with every cell set to `cell` and the cursor at the top left.
    pub const fn filled(cell: ScreenChar) -> Self {
        MemorySurface { cells: [[cell; WIDTH]; HEIGHT], cursor: (0, 0) }
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
        WIDTH
    }

    fn height(&self) -> usize {
        HEIGHT
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
        self.cells.copy_within(1.., 0);
        self.cells[HEIGHT - 1] = [blank; WIDTH];
    }
}
