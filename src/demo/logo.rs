//! The boot logo: FERRITE in block letters with a rust-colored gradient and a drop shadow.

use crate::console::{Color, ColorCode, ScreenChar, TextSurface};

use super::text::write_centered;

const FULL_BLOCK: u8 = 0xdb;
const MEDIUM_SHADE: u8 = 0xb1;
const GLYPH_WIDTH: usize = 5;
const GLYPH_HEIGHT: usize = 5;
/// Each glyph pixel is two cells wide so the letters look square on 9x16 cells.
const CELLS_PER_PIXEL: usize = 2;
const LETTER_GAP_CELLS: usize = 1;
/// The layout below is for 25 rows; taller screens center it vertically.
const LAYOUT_ROWS: usize = 25;
const LOGO_TOP_ROW: usize = 5;
const TAGLINE_ROW: usize = 13;
const CHAIN_ROW: usize = 15;
const NEXT_ROW: usize = 21;

/// Glyphs of the letters in FERRITE, one row per byte, most significant of the low 5 bits left.
const LETTER_F: [u8; GLYPH_HEIGHT] = [0b11111, 0b10000, 0b11110, 0b10000, 0b10000];
const LETTER_E: [u8; GLYPH_HEIGHT] = [0b11111, 0b10000, 0b11110, 0b10000, 0b11111];
const LETTER_R: [u8; GLYPH_HEIGHT] = [0b11110, 0b10001, 0b11110, 0b10010, 0b10001];
const LETTER_I: [u8; GLYPH_HEIGHT] = [0b11111, 0b00100, 0b00100, 0b00100, 0b11111];
const LETTER_T: [u8; GLYPH_HEIGHT] = [0b11111, 0b00100, 0b00100, 0b00100, 0b00100];
const WORD: [[u8; GLYPH_HEIGHT]; 7] =
    [LETTER_F, LETTER_E, LETTER_R, LETTER_R, LETTER_I, LETTER_T, LETTER_E];

/// Hot metal at the top cooling to rust at the bottom.
const ROW_COLORS: [Color; GLYPH_HEIGHT] =
    [Color::Yellow, Color::Yellow, Color::LightRed, Color::LightRed, Color::Red];

/// Whether the logo's letter pixel covers cell (`row`, `column`); `None` outside the logo.
fn letter_row_at(row: usize, column: usize, top: usize, left: usize) -> Option<usize> {
    let glyph_row = row.checked_sub(top).filter(|&glyph_row| glyph_row < GLYPH_HEIGHT)?;
    let offset = column.checked_sub(left)?;
    let letter_width = GLYPH_WIDTH * CELLS_PER_PIXEL + LETTER_GAP_CELLS;
    let letter = WORD.get(offset / letter_width)?;
    let pixel = (offset % letter_width) / CELLS_PER_PIXEL;
    if pixel >= GLYPH_WIDTH {
        return None;
    }
    let lit = letter[glyph_row] & (1 << (GLYPH_WIDTH - 1 - pixel)) != 0;
    lit.then_some(glyph_row)
}

/// Draws the logo screen on `surface`: black background, letters, shadow and captions.
pub fn draw_logo<S: TextSurface>(surface: &mut S) {
    let black = ColorCode::new(Color::Black, Color::Black);
    surface.fill(ScreenChar::blank(black));
    let logo_width =
        WORD.len() * (GLYPH_WIDTH * CELLS_PER_PIXEL + LETTER_GAP_CELLS) - LETTER_GAP_CELLS;
    let left = (surface.width().saturating_sub(logo_width)) / 2;
    let shift = surface.height().saturating_sub(LAYOUT_ROWS) / 2;
    let top = LOGO_TOP_ROW + shift;
    let shadow = ScreenChar::new(MEDIUM_SHADE, ColorCode::new(Color::DarkGray, Color::Black));
    for row in top..(top + GLYPH_HEIGHT + 1).min(surface.height()) {
        for column in 0..surface.width() {
            if let Some(glyph_row) = letter_row_at(row, column, top, left) {
                let color = ColorCode::new(ROW_COLORS[glyph_row], Color::Black);
                surface.write_cell(row, column, ScreenChar::new(FULL_BLOCK, color));
            } else if row > 0
                && column > 0
                && letter_row_at(row - 1, column - 1, top, left).is_some()
            {
                surface.write_cell(row, column, shadow);
            }
        }
    }
    write_centered(
        surface,
        TAGLINE_ROW + shift,
        "a kernel for 32-bit x86, written in Rust",
        ColorCode::new(Color::White, Color::Black),
    );
    write_centered(
        surface,
        CHAIN_ROW + shift,
        "GRUB -> Multiboot -> rt0 -> Rust    no_std    SSE2 on",
        ColorCode::new(Color::LightGray, Color::Black),
    );
    write_centered(
        surface,
        NEXT_ROW + shift,
        "next: 12 signed-distance shapes, 2 lights, soft shadows, one ray per cell",
        ColorCode::new(Color::DarkGray, Color::Black),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::MemorySurface;

    #[test]
    fn the_logo_spells_ferrite_in_blocks_with_a_shadow() {
        let mut surface = MemorySurface::<80, 25>::filled(ScreenChar::blank(ColorCode::new(
            Color::White,
            Color::Blue,
        )));
        draw_logo(&mut surface);
        // Top row of the F starts at column 2 (76 cells wide, centered) in yellow.
        let f_top = surface.read_cell(LOGO_TOP_ROW, 2);
        assert_eq!(f_top, ScreenChar::new(FULL_BLOCK, ColorCode::new(Color::Yellow, Color::Black)));
        assert_eq!(surface.read_cell(LOGO_TOP_ROW, 1).character, b' ');
        // Bottom glyph row is dark red, and the shadow falls one cell down and right.
        let f_stem_bottom = surface.read_cell(LOGO_TOP_ROW + 4, 2);
        assert_eq!(f_stem_bottom.color.foreground(), Color::Red);
        assert_eq!(surface.read_cell(LOGO_TOP_ROW + 5, 3).character, MEDIUM_SHADE);
        let blocks = (0..25)
            .flat_map(|row| (0..80).map(move |column| (row, column)))
            .filter(|&(row, column)| surface.read_cell(row, column).character == FULL_BLOCK)
            .count();
        // F 12 + E 16 + R 14 + R 14 + I 13 + T 9 + E 16 lit glyph pixels, two cells each.
        assert_eq!(blocks, 2 * (12 + 16 + 14 + 14 + 13 + 9 + 16));
        assert!(surface.row_text(13).contains("written in Rust"));
    }

    #[test]
    fn on_a_framebuffer_screen_the_logo_is_centered_both_ways() {
        let mut surface = crate::demo::BLANK_PICTURE;
        surface.resize(128, 48);
        draw_logo(&mut surface);
        // 48 rows: everything 11 rows lower; 128 columns: the F starts at column 26.
        let top = LOGO_TOP_ROW + 11;
        assert_eq!(surface.read_cell(top, 26).character, FULL_BLOCK);
        assert_eq!(surface.read_cell(top, 25).character, b' ');
        assert_eq!(surface.read_cell(top - 1, 26).character, b' ');
        let tagline = surface.read_cell(TAGLINE_ROW + 11, 44);
        assert_eq!(tagline.character, b'a');
        assert_eq!(surface.read_cell(NEXT_ROW + 11, 27).character, b'n');
    }
}
