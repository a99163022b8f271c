//! The VGA text buffer as a `TextSurface`: the console's cells are the hardware's cells.
#![forbid(unsafe_code)]

use super::color::{ColorCode, ScreenChar};
use super::surface::TextSurface;
use crate::arch::x86::vga_text::{VGA_TEXT_HEIGHT, VGA_TEXT_WIDTH, VgaCell, VgaTextBuffer};

/// The 80x25 text screen.
pub struct VgaTextSurface {
    buffer: VgaTextBuffer,
}

impl VgaTextSurface {
    pub const fn new(buffer: VgaTextBuffer) -> VgaTextSurface {
        VgaTextSurface { buffer }
    }

    /// Turns the hardware cursor on.
    pub fn enable_cursor(&mut self) {
        self.buffer.enable_cursor();
    }
}

impl TextSurface for VgaTextSurface {
    fn width(&self) -> usize {
        VGA_TEXT_WIDTH
    }

    fn height(&self) -> usize {
        VGA_TEXT_HEIGHT
    }

    fn read_cell(&self, row: usize, column: usize) -> ScreenChar {
        let cell = self.buffer.read(row, column);
        ScreenChar::new(cell.character, ColorCode::from_attribute(cell.attribute))
    }

    fn write_cell(&mut self, row: usize, column: usize, cell: ScreenChar) {
        let cell = VgaCell { character: cell.character, attribute: cell.color.attribute() };
        self.buffer.write(row, column, cell);
    }

    fn move_cursor(&mut self, row: usize, column: usize) {
        self.buffer.move_cursor(row, column);
    }
}
