//! The 80x25 VGA text screen as dumped from the emulator: characters and their colors.

use std::fmt;

pub use ferrite::console::Color;

pub const COLUMNS: usize = 80;
pub const ROWS: usize = 25;

/// One screen cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub character: u8,
    pub foreground: Color,
    pub background: Color,
}

/// A snapshot of the text screen.
#[derive(Clone)]
pub struct Screen {
    cells: Vec<Cell>,
}

impl Screen {
    /// Decodes the 4000 bytes of the text buffer (character, attribute pairs).
    pub fn from_bytes(bytes: &[u8]) -> Screen {
        assert_eq!(bytes.len(), COLUMNS * ROWS * 2, "VGA dump has the wrong size");
        let cells = bytes
            .chunks(2)
            .map(|pair| Cell {
                character: pair[0],
                foreground: Color::from_number(pair[1]),
                background: Color::from_number(pair[1] >> 4),
            })
            .collect();
        Screen { cells }
    }

    pub fn cell(&self, row: usize, column: usize) -> Cell {
        self.cells[row * COLUMNS + column]
    }

    /// The row's characters; bytes outside printable ASCII show as `?` (NUL as a space).
    pub fn row_text(&self, row: usize) -> String {
        (0..COLUMNS)
            .map(|column| match self.cell(row, column).character {
                0 => ' ',
                byte @ 0x20..=0x7e => byte as char,
                _ => '?',
            })
            .collect()
    }

    /// The whole screen as text, one line per row.
    pub fn text(&self) -> String {
        (0..ROWS).map(|row| self.row_text(row) + "\n").collect()
    }

    /// The first (row, column) where `needle` starts.
    pub fn find(&self, needle: &str) -> Option<(usize, usize)> {
        (0..ROWS).find_map(|row| self.row_text(row).find(needle).map(|column| (row, column)))
    }

    /// Asserts that `text` is on screen at `row`, `column`, every cell in the given colors.
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
            assert_eq!(
                (cell.character, cell.foreground, cell.background),
                (expected, foreground, background),
                "cell ({row}, {}) of {text:?}; screen:\n{self}",
                column + offset
            );
        }
    }

    /// How many cells have `foreground` as their foreground color.
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
