//! The 8x16 bitmap font for code page 437 that the framebuffer console draws with.
//!
//! The glyphs come from `fonts/cp437-8x16.psf` (Terminus Font, SIL Open Font License 1.1; see
//! `fonts/README.md` and `fonts/OFL-1.1.txt`). The file is parsed while compiling, so a bad
//! file fails the build and only the 4 KiB glyph table ends up in the kernel.
#![forbid(unsafe_code)]

use core::fmt;

/// Width of every glyph and of a character cell, in pixels.
pub const GLYPH_WIDTH_PIXELS: usize = 8;
/// Height of every glyph and of a character cell, in pixels.
pub const GLYPH_HEIGHT_PIXELS: usize = 16;
/// Number of glyphs: one for each code page 437 code.
pub const GLYPH_COUNT: usize = 256;

/// One glyph: a byte per pixel row, top row first, most significant bit the leftmost pixel.
pub type Glyph = [u8; GLYPH_HEIGHT_PIXELS];

/// First two bytes of a PSF version 1 file (the Linux console font format).
const PSF1_MAGIC: [u8; 2] = [0x36, 0x04];
/// PSF 1 header: magic, mode, bytes per glyph.
const PSF1_HEADER_BYTES: usize = 4;
/// Mode bit for a 512-glyph font; the console draws 256 codes.
const PSF1_MODE_512_GLYPHS: u8 = 0x01;

/// The console font file, read only while compiling.
const CODE_PAGE_437_FILE: &[u8] = include_bytes!("fonts/cp437-8x16.psf");

/// The console's font: Terminus 8x16 in code page 437 order.
pub static CODE_PAGE_437_FONT: Font = match Font::from_psf1(CODE_PAGE_437_FILE) {
    Ok(font) => font,
    Err(FontError::NotPsf1) => panic!("fonts/cp437-8x16.psf: not a PSF version 1 file"),
    Err(FontError::Has512Glyphs) => panic!("fonts/cp437-8x16.psf: holds 512 glyphs, not 256"),
    Err(FontError::WrongGlyphHeight { .. }) => panic!("fonts/cp437-8x16.psf: glyphs not 16 high"),
    Err(FontError::Truncated { .. }) => panic!("fonts/cp437-8x16.psf: file is cut short"),
};

/// Why bytes could not be read as an 8x16, 256-glyph PSF 1 font.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FontError {
    /// The bytes do not start with the PSF 1 magic number.
    NotPsf1,
    /// The file holds 512 glyphs; the console needs exactly 256.
    Has512Glyphs,
    /// The glyphs are not 16 pixel rows high.
    WrongGlyphHeight { rows: u8 },
    /// Fewer bytes than the header promises.
    Truncated { expected_bytes: usize, found_bytes: usize },
}

impl fmt::Display for FontError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FontError::NotPsf1 => write!(formatter, "not a PSF version 1 font file"),
            FontError::Has512Glyphs => {
                write!(formatter, "the font has 512 glyphs; the console draws 256")
            }
            FontError::WrongGlyphHeight { rows } => write!(
                formatter,
                "the glyphs are {rows} pixel rows high; the console needs {GLYPH_HEIGHT_PIXELS}"
            ),
            FontError::Truncated { expected_bytes, found_bytes } => write!(
                formatter,
                "the font file is cut short: {found_bytes} bytes where {expected_bytes} are needed"
            ),
        }
    }
}

/// 256 glyphs of 8x16 pixels, indexed by code page 437 code.
#[derive(Clone, PartialEq, Eq)]
pub struct Font {
    glyphs: [Glyph; GLYPH_COUNT],
}

impl Font {
    /// Reads a PSF 1 file of 256 glyphs, 16 rows each; a Unicode table after them is ignored.
    pub const fn from_psf1(bytes: &[u8]) -> Result<Font, FontError> {
        if bytes.len() < PSF1_HEADER_BYTES || bytes[0] != PSF1_MAGIC[0] || bytes[1] != PSF1_MAGIC[1]
        {
            return Err(FontError::NotPsf1);
        }
        let mode = bytes[2];
        let rows = bytes[3];
        if mode & PSF1_MODE_512_GLYPHS != 0 {
            return Err(FontError::Has512Glyphs);
        }
        if rows as usize != GLYPH_HEIGHT_PIXELS {
            return Err(FontError::WrongGlyphHeight { rows });
        }
        let expected_bytes = PSF1_HEADER_BYTES + GLYPH_COUNT * GLYPH_HEIGHT_PIXELS;
        if bytes.len() < expected_bytes {
            return Err(FontError::Truncated { expected_bytes, found_bytes: bytes.len() });
        }
        let mut glyphs = [[0; GLYPH_HEIGHT_PIXELS]; GLYPH_COUNT];
        let mut code = 0;
        while code < GLYPH_COUNT {
            let mut row = 0;
            while row < GLYPH_HEIGHT_PIXELS {
                glyphs[code][row] = bytes[PSF1_HEADER_BYTES + code * GLYPH_HEIGHT_PIXELS + row];
                row += 1;
            }
            code += 1;
        }
        Ok(Font { glyphs })
    }

    /// The glyph for code page 437 code `character`.
    pub fn glyph(&self, character: u8) -> &Glyph {
        &self.glyphs[character as usize]
    }

    /// Every glyph, indexed by code.
    pub fn glyphs(&self) -> &[Glyph; GLYPH_COUNT] {
        &self.glyphs
    }
}

impl fmt::Debug for Font {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "Font({GLYPH_COUNT} glyphs of {GLYPH_WIDTH_PIXELS}x{GLYPH_HEIGHT_PIXELS})"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels_set(glyph: &Glyph) -> u32 {
        glyph.iter().map(|row| row.count_ones()).sum()
    }

    /// Draws a glyph as text, `#` for a set pixel, to compare with a picture in the test.
    fn picture(glyph: &Glyph) -> std::vec::Vec<std::string::String> {
        glyph
            .iter()
            .map(|row| (0..8).map(|x| if row & (0x80 >> x) != 0 { '#' } else { '.' }).collect())
            .collect()
    }

    #[test]
    fn every_code_except_the_blanks_has_a_visible_glyph() {
        let font = &CODE_PAGE_437_FONT;
        for code in 0..=255u8 {
            let blank = matches!(code, 0x00 | 0x20 | 0xff);
            assert_eq!(pixels_set(font.glyph(code)) == 0, blank, "code {code:#04x}");
        }
    }

    #[test]
    fn shades_boxes_and_blocks_are_drawn_and_all_differ() {
        let font = &CODE_PAGE_437_FONT;
        for code in 0xb0..=0xdfu8 {
            assert!(pixels_set(font.glyph(code)) >= 8, "code {code:#04x} is nearly blank");
            for other in code + 1..=0xdf {
                assert_ne!(font.glyph(code), font.glyph(other), "{code:#04x} vs {other:#04x}");
            }
        }
        // Light, medium and dark shade cover more and more of the cell; the full block all of it.
        let shades: std::vec::Vec<u32> =
            [0xb0, 0xb1, 0xb2, 0xdb].iter().map(|&code| pixels_set(font.glyph(code))).collect();
        assert!(shades.windows(2).all(|pair| pair[0] < pair[1]), "{shades:?}");
        assert_eq!(shades[3], 128);
        // The lower half block fills exactly the bottom eight rows.
        assert_eq!(
            font.glyph(0xdc),
            &[0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255]
        );
    }

    #[test]
    fn box_drawing_lines_reach_the_cell_edges_so_boxes_join_up() {
        let font = &CODE_PAGE_437_FONT;
        // Vertical line (0xB3): a pixel in the top and the bottom row, in the same column.
        let vertical = font.glyph(0xb3);
        assert!(vertical[0] != 0 && vertical[0] == vertical[15]);
        // Horizontal line (0xC4): some row is fully set, so neighbours touch.
        assert!(font.glyph(0xc4).contains(&0xff));
        // Top-left corner (0xDA): reaches the right edge and the bottom edge.
        let corner = font.glyph(0xda);
        assert!(corner.iter().any(|row| row & 1 != 0) && corner[15] != 0);
    }

    #[test]
    fn letters_look_like_letters() {
        let font = &CODE_PAGE_437_FONT;
        assert_eq!(
            picture(font.glyph(b'H'))[2..12],
            [
                ".#....#.", ".#....#.", ".#....#.", ".#....#.", ".######.", ".#....#.", ".#....#.",
                ".#....#.", ".#....#.", ".#....#.",
            ]
        );
        // The arrows at 0x18-0x1B point the right way: their heads weigh down that side.
        let left_half =
            |glyph: &Glyph| glyph.iter().map(|row| (row & 0xf0).count_ones()).sum::<u32>();
        let right_half = |glyph: &Glyph| pixels_set(glyph) - left_half(glyph);
        assert!(right_half(font.glyph(0x1a)) > left_half(font.glyph(0x1a)), "right arrow");
        assert!(left_half(font.glyph(0x1b)) > right_half(font.glyph(0x1b)), "left arrow");
        let upper = |glyph: &Glyph| glyph[..8].iter().map(|row| row.count_ones()).sum::<u32>();
        let lower = |glyph: &Glyph| pixels_set(glyph) - upper(glyph);
        assert!(upper(font.glyph(0x18)) > lower(font.glyph(0x18)), "up arrow");
        assert!(lower(font.glyph(0x19)) > upper(font.glyph(0x19)), "down arrow");
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        assert_eq!(Font::from_psf1(b"PK\x03\x04").unwrap_err(), FontError::NotPsf1);
        assert_eq!(Font::from_psf1(&[0x36, 0x04, 0x01, 16]).unwrap_err(), FontError::Has512Glyphs);
        assert_eq!(
            Font::from_psf1(&[0x36, 0x04, 0x00, 14]).unwrap_err(),
            FontError::WrongGlyphHeight { rows: 14 }
        );
        let error = Font::from_psf1(&[0x36, 0x04, 0x00, 16, 0xff]).unwrap_err();
        assert_eq!(error, FontError::Truncated { expected_bytes: 4100, found_bytes: 5 });
        assert_eq!(
            std::format!("{error}"),
            "the font file is cut short: 5 bytes where 4100 are needed"
        );
    }

    #[test]
    fn the_file_parses_to_its_own_bytes() {
        let font = Font::from_psf1(CODE_PAGE_437_FILE).unwrap();
        assert_eq!(font.glyph(b'A')[..], CODE_PAGE_437_FILE[4 + 65 * 16..4 + 66 * 16]);
        assert!(font == CODE_PAGE_437_FONT);
    }
}
