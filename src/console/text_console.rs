//! Text layout on a `TextSurface`: newline, wrapping, scrolling, tab, backspace and colors.
#![forbid(unsafe_code)]

use core::fmt;

use super::color::{Color, ColorCode, ScreenChar};
use super::surface::TextSurface;

/// Tab stops every this many columns.
pub const TAB_WIDTH_COLUMNS: usize = 8;

/// Shown for characters that code page 437 cannot draw (a small filled square).
const REPLACEMENT_CHARACTER: u8 = 0xfe;

/// The colors text is written in until someone changes them.
pub const DEFAULT_COLOR: ColorCode = ColorCode::new(Color::LightGray, Color::Black);

/// A terminal-like writer that lays text out on a surface and keeps its cursor in step.
///
/// Writing past the last column wraps to the next row; a new row past the bottom scrolls the
/// surface up. The wrap is deferred until the next character, so a full row followed by `\n`
/// moves down one row, not two. Each public write, clear or move ends with one
/// `TextSurface::flush`, however many rows it scrolled; so does each `write!`.
pub struct TextConsole<S: TextSurface> {
    surface: S,
    row: usize,
    column: usize,
    color: ColorCode,
}

impl<S: TextSurface> TextConsole<S> {
    /// A console writing on `surface` from its top-left corner in the default colors.
    pub const fn new(surface: S) -> Self {
        Self::with_color(surface, DEFAULT_COLOR)
    }

    /// A console writing on `surface` from its top-left corner in `color`.
    pub const fn with_color(surface: S, color: ColorCode) -> Self {
        TextConsole { surface, row: 0, column: 0, color }
    }

    /// The colors of text written from now on.
    pub fn color(&self) -> ColorCode {
        self.color
    }

    /// Changes the colors of text written from now on.
    pub fn set_color(&mut self, color: ColorCode) {
        self.color = color;
    }

    /// The write position as (row, column); column equals the width while a wrap is pending.
    pub fn position(&self) -> (usize, usize) {
        (self.row, self.column)
    }

    /// Moves the write position, clamped to the surface.
    pub fn set_position(&mut self, row: usize, column: usize) {
        self.row = row.min(self.surface.height() - 1);
        self.column = column.min(self.surface.width() - 1);
        self.update_cursor();
        self.surface.flush();
    }

    /// The surface written on.
    pub fn surface(&self) -> &S {
        &self.surface
    }

    /// The surface written on, for drawing that bypasses the layout (the boot demo); call
    /// `flush` after such drawing to make it visible.
    pub fn surface_mut(&mut self) -> &mut S {
        &mut self.surface
    }

    /// Makes everything written on the surface so far visible.
    pub fn flush(&mut self) {
        self.surface.flush();
    }

    /// Blanks the whole surface in the current colors and moves to the top-left corner.
    pub fn clear(&mut self) {
        self.surface.fill(ScreenChar::blank(self.color));
        self.row = 0;
        self.column = 0;
        self.update_cursor();
        self.surface.flush();
    }

    /// Writes one code page 437 byte, interpreting `\n`, `\r`, `\t` and backspace (0x08).
    pub fn write_byte(&mut self, byte: u8) {
        self.put_byte(byte);
        self.update_cursor();
        self.surface.flush();
    }

    /// Writes a string; characters outside code page 437 show as a small square.
    pub fn write_str(&mut self, text: &str) {
        self.put_str(text);
        self.update_cursor();
        self.surface.flush();
    }

    fn put_str(&mut self, text: &str) {
        for character in text.chars() {
            self.put_byte(to_code_page_437(character));
        }
    }

    fn put_byte(&mut self, byte: u8) {
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.column = 0,
            b'\t' => {
                if self.column >= self.surface.width() {
                    self.new_line();
                }
                let next_stop = (self.column / TAB_WIDTH_COLUMNS + 1) * TAB_WIDTH_COLUMNS;
                let next_stop = next_stop.min(self.surface.width());
                while self.column < next_stop {
                    self.put_visible(b' ');
                }
            }
            0x08 => self.back_space(),
            _ => {
                if self.column >= self.surface.width() {
                    self.new_line();
                }
                self.put_visible(byte);
            }
        }
    }

    fn put_visible(&mut self, byte: u8) {
        let cell = ScreenChar::new(byte, self.color);
        self.surface.write_cell(self.row, self.column, cell);
        self.column += 1;
    }

    /// Steps back one cell (to the end of the previous row at column 0) and blanks it.
    fn back_space(&mut self) {
        if self.column > 0 {
            self.column = self.column.min(self.surface.width()) - 1;
        } else if self.row > 0 {
            self.row -= 1;
            self.column = self.surface.width() - 1;
        } else {
            return;
        }
        let blank = ScreenChar::blank(self.color);
        self.surface.write_cell(self.row, self.column, blank);
    }

    fn new_line(&mut self) {
        self.column = 0;
        if self.row + 1 < self.surface.height() {
            self.row += 1;
        } else {
            self.surface.scroll_up(ScreenChar::blank(self.color));
        }
    }

    fn update_cursor(&mut self) {
        let column = self.column.min(self.surface.width() - 1);
        self.surface.move_cursor(self.row, column);
    }
}

impl<S: TextSurface> fmt::Write for TextConsole<S> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        TextConsole::write_str(self, text);
        Ok(())
    }

    /// Lays out all the pieces of a `write!` first and flushes once at the end, so one
    /// `println!` costs one redraw, not one per formatted piece.
    fn write_fmt(&mut self, arguments: fmt::Arguments<'_>) -> fmt::Result {
        let result = fmt::write(&mut Unflushed(&mut *self), arguments);
        self.update_cursor();
        self.surface.flush();
        result
    }
}

/// Writes through to a console's layout without flushing, for `write_fmt`.
struct Unflushed<'a, S: TextSurface>(&'a mut TextConsole<S>);

impl<S: TextSurface> fmt::Write for Unflushed<'_, S> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.put_str(text);
        Ok(())
    }
}

/// The code page 437 byte that draws `character`, or a small square if there is none.
pub fn to_code_page_437(character: char) -> u8 {
    match character {
        ' '..='~' | '\n' | '\r' | '\t' | '\u{8}' => character as u8,
        '░' => 0xb0,
        '▒' => 0xb1,
        '▓' => 0xb2,
        '│' => 0xb3,
        '┤' => 0xb4,
        '┐' => 0xbf,
        '└' => 0xc0,
        '┴' => 0xc1,
        '┬' => 0xc2,
        '├' => 0xc3,
        '─' => 0xc4,
        '┼' => 0xc5,
        '┘' => 0xd9,
        '┌' => 0xda,
        '█' => 0xdb,
        '▄' => 0xdc,
        '▌' => 0xdd,
        '▐' => 0xde,
        '▀' => 0xdf,
        '·' => 0xfa,
        '°' => 0xf8,
        '■' => 0xfe,
        '→' => 0x1a,
        '←' => 0x1b,
        '↑' => 0x18,
        '↓' => 0x19,
        '♥' => 0x03,
        'é' => 0x82,
        'ü' => 0x81,
        'ö' => 0x94,
        'ä' => 0x84,
        _ => REPLACEMENT_CHARACTER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::surface::MemorySurface;
    use core::fmt::Write;

    type Screen = MemorySurface<80, 25>;

    fn console() -> TextConsole<Screen> {
        TextConsole::new(Screen::filled(ScreenChar::blank(DEFAULT_COLOR)))
    }

    #[test]
    fn text_lands_in_cells_with_the_current_color() {
        let mut console = console();
        let green = ColorCode::new(Color::LightGreen, Color::Blue);
        console.set_color(green);
        console.write_str("ok");
        let surface = console.surface();
        assert_eq!(surface.read_cell(0, 0), ScreenChar::new(b'o', green));
        assert_eq!(surface.read_cell(0, 1), ScreenChar::new(b'k', green));
        assert_eq!(surface.read_cell(0, 2), ScreenChar::blank(DEFAULT_COLOR));
        assert_eq!(surface.cursor(), (0, 2));
    }

    #[test]
    fn newline_moves_to_the_start_of_the_next_row() {
        let mut console = console();
        console.write_str("ab\ncd");
        assert!(console.surface().row_text(0).starts_with("ab "));
        assert!(console.surface().row_text(1).starts_with("cd "));
        assert_eq!(console.position(), (1, 2));
    }

    #[test]
    fn a_full_row_wraps_to_the_next_and_a_following_newline_adds_only_one_row() {
        let mut console = console();
        console.write_str(&"x".repeat(80));
        assert_eq!(console.position(), (0, 80));
        assert_eq!(console.surface().cursor(), (0, 79));
        console.write_str("y");
        assert_eq!(console.surface().row_text(1).chars().next(), Some('y'));
        let mut other = self::console();
        other.write_str(&"x".repeat(80));
        other.write_str("\nz");
        assert_eq!(other.surface().row_text(1).chars().next(), Some('z'));
    }

    #[test]
    fn writing_below_the_last_row_scrolls_up_and_blanks_the_bottom_in_the_current_color() {
        let mut console = console();
        for line in 0..25 {
            writeln!(console, "line {line}").unwrap();
        }
        let red = ColorCode::new(Color::White, Color::Red);
        console.set_color(red);
        console.write_str("last");
        let surface = console.surface();
        assert!(surface.row_text(0).starts_with("line 1 "));
        assert!(surface.row_text(23).starts_with("line 24 "));
        assert!(surface.row_text(24).starts_with("last "));
        assert_eq!(console.position(), (24, 4));
        // The row blanked by the scroll that `last` was written after.
        let mut more = console;
        more.write_str("\n");
        assert_eq!(more.surface().read_cell(24, 10), ScreenChar::blank(red));
        assert!(more.surface().row_text(23).starts_with("last "));
    }

    #[test]
    fn tab_advances_to_the_next_multiple_of_eight() {
        let mut console = console();
        console.write_str("a\tb\t\tc");
        assert_eq!(console.surface().read_cell(0, 8).character, b'b');
        assert_eq!(console.surface().read_cell(0, 24).character, b'c');
        console.write_str("\n\t");
        assert_eq!(console.position(), (1, 8));
    }

    #[test]
    fn tab_near_the_right_edge_stops_at_the_edge() {
        let mut console = console();
        console.write_str(&"x".repeat(77));
        console.write_str("\tz");
        assert_eq!(console.surface().read_cell(0, 79).character, b' ');
        assert_eq!(console.surface().read_cell(1, 0).character, b'z');
    }

    #[test]
    fn backspace_erases_the_previous_cell_and_crosses_row_starts() {
        let mut console = console();
        console.write_str("abc\u{8}");
        assert_eq!(console.position(), (0, 2));
        assert!(console.surface().row_text(0).starts_with("ab "));
        console.write_str("\nd\u{8}\u{8}");
        assert_eq!(console.position(), (0, 79));
        console.set_position(0, 0);
        console.write_byte(0x08);
        assert_eq!(console.position(), (0, 0));
    }

    #[test]
    fn backspace_after_a_full_row_erases_its_last_cell() {
        let mut console = console();
        console.write_str(&"x".repeat(80));
        console.write_byte(0x08);
        assert_eq!(console.position(), (0, 79));
        assert_eq!(console.surface().read_cell(0, 79).character, b' ');
    }

    #[test]
    fn clear_blanks_everything_in_the_current_color_and_homes_the_cursor() {
        let mut console = console();
        console.write_str("some text\nmore");
        let blue = ColorCode::new(Color::White, Color::Blue);
        console.set_color(blue);
        console.clear();
        for row in 0..25 {
            for column in 0..80 {
                assert_eq!(console.surface().read_cell(row, column), ScreenChar::blank(blue));
            }
        }
        assert_eq!(console.surface().cursor(), (0, 0));
    }

    #[test]
    fn formatting_goes_through_core_fmt() {
        let mut console = console();
        write!(console, "{:>5}|{:#x}|{:.2}", 42, 255, 1.5f32).unwrap();
        assert!(console.surface().row_text(0).starts_with("   42|0xff|1.50 "));
    }

    /// An 80x25 memory surface that counts how often it is flushed.
    struct FlushCounter {
        screen: Screen,
        flushes: usize,
    }

    impl TextSurface for FlushCounter {
        fn width(&self) -> usize {
            self.screen.width()
        }

        fn height(&self) -> usize {
            self.screen.height()
        }

        fn read_cell(&self, row: usize, column: usize) -> ScreenChar {
            self.screen.read_cell(row, column)
        }

        fn write_cell(&mut self, row: usize, column: usize, cell: ScreenChar) {
            self.screen.write_cell(row, column, cell);
        }

        fn move_cursor(&mut self, row: usize, column: usize) {
            self.screen.move_cursor(row, column);
        }

        fn flush(&mut self) {
            self.flushes += 1;
        }
    }

    fn flushes_during(
        console: &mut TextConsole<FlushCounter>,
        action: impl FnOnce(&mut TextConsole<FlushCounter>),
    ) -> usize {
        let before = console.surface().flushes;
        action(console);
        console.surface().flushes - before
    }

    #[test]
    fn each_public_write_clear_or_move_ends_with_one_flush() {
        let screen = Screen::filled(ScreenChar::blank(DEFAULT_COLOR));
        let mut console = TextConsole::new(FlushCounter { screen, flushes: 0 });
        assert_eq!(flushes_during(&mut console, |console| console.write_str("a\nb\nc")), 1);
        assert_eq!(flushes_during(&mut console, |console| console.write_byte(b'x')), 1);
        assert_eq!(flushes_during(&mut console, |console| console.clear()), 1);
        assert_eq!(flushes_during(&mut console, |console| console.set_position(3, 4)), 1);
        // A formatted write of several pieces that scrolls 40 times still flushes once.
        let flushes = flushes_during(&mut console, |console| {
            write!(console, "{}{}{}", "one\n".repeat(20), 2, "three\n".repeat(40)).unwrap();
        });
        assert_eq!(flushes, 1);
        let screen = &console.surface().screen;
        assert!(screen.row_text(23).starts_with("three "));
        assert!(screen.row_text(24).starts_with("    "));
        assert_eq!(screen.cursor(), (24, 0));
    }

    #[test]
    fn characters_outside_code_page_437_become_a_square() {
        let mut console = console();
        console.write_str("█→漢");
        let surface = console.surface();
        assert_eq!(surface.read_cell(0, 0).character, 0xdb);
        assert_eq!(surface.read_cell(0, 1).character, 0x1a);
        assert_eq!(surface.read_cell(0, 2).character, 0xfe);
        assert_eq!(console.position(), (0, 3));
    }
}
