//! Placing text directly on a surface, outside the console's flow (captions, status lines).

use core::fmt;

use crate::console::text_console::to_code_page_437;
use crate::console::{ColorCode, ScreenChar, TextSurface};

/// Writes formatted text into one row of a surface, clipping at the right edge.
pub struct RowWriter<'a, S: TextSurface> {
    surface: &'a mut S,
    row: usize,
    column: usize,
    color: ColorCode,
}

impl<'a, S: TextSurface> RowWriter<'a, S> {
    pub fn new(surface: &'a mut S, row: usize, column: usize, color: ColorCode) -> Self {
        RowWriter { surface, row, column, color }
    }
}

impl<S: TextSurface> fmt::Write for RowWriter<'_, S> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for character in text.chars() {
            if self.column < self.surface.width() {
                let cell = ScreenChar::new(to_code_page_437(character), self.color);
                self.surface.write_cell(self.row, self.column, cell);
                self.column += 1;
            }
        }
        Ok(())
    }
}

/// Writes `text` centered in `row`.
pub fn write_centered<S: TextSurface>(surface: &mut S, row: usize, text: &str, color: ColorCode) {
    let length = text.chars().count();
    let column = surface.width().saturating_sub(length) / 2;
    let _ = fmt::Write::write_str(&mut RowWriter::new(surface, row, column, color), text);
}
