//! The 16 VGA text-mode colors and the attribute byte that pairs a foreground with a background.
#![forbid(unsafe_code)]

/// One of the 16 colors of the standard VGA text-mode palette, numbered as the hardware does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Color {
    Black = 0,
    Blue = 1,
    Green = 2,
    Cyan = 3,
    Red = 4,
    Magenta = 5,
    Brown = 6,
    LightGray = 7,
    DarkGray = 8,
    LightBlue = 9,
    LightGreen = 10,
    LightCyan = 11,
    LightRed = 12,
    Pink = 13,
    Yellow = 14,
    White = 15,
}

impl Color {
    /// All colors in palette order, so index `n` holds the color numbered `n`.
    pub const ALL: [Color; 16] = [
        Color::Black,
        Color::Blue,
        Color::Green,
        Color::Cyan,
        Color::Red,
        Color::Magenta,
        Color::Brown,
        Color::LightGray,
        Color::DarkGray,
        Color::LightBlue,
        Color::LightGreen,
        Color::LightCyan,
        Color::LightRed,
        Color::Pink,
        Color::Yellow,
        Color::White,
    ];

    /// Names of the colors in palette order, as the shell's `color` command takes them.
    pub const NAMES: [&'static str; 16] = [
        "black",
        "blue",
        "green",
        "cyan",
        "red",
        "magenta",
        "brown",
        "light-gray",
        "dark-gray",
        "light-blue",
        "light-green",
        "light-cyan",
        "light-red",
        "pink",
        "yellow",
        "white",
    ];

    /// The color with palette number `number & 0xf`.
    pub const fn from_number(number: u8) -> Color {
        Color::ALL[(number & 0x0f) as usize]
    }

    /// The color's name (see `NAMES`).
    pub const fn name(self) -> &'static str {
        Color::NAMES[self as usize]
    }

    /// The color called `name` (any case) or numbered 0-15.
    pub fn parse(name: &str) -> Option<Color> {
        if let Ok(number) = name.parse::<u8>() {
            return (number < 16).then(|| Color::from_number(number));
        }
        let index = Color::NAMES.iter().position(|known| known.eq_ignore_ascii_case(name))?;
        Some(Color::from_number(index as u8))
    }
}

/// A VGA attribute byte: background color in bits 4-7, foreground in bits 0-3.
///
/// Bit 7 selects blinking instead of a bright background on some adapters; the kernel leaves the
/// VGA in its default mode, where QEMU and most cards show bright backgrounds without blinking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct ColorCode(u8);

impl ColorCode {
    /// Pairs a foreground and a background color.
    pub const fn new(foreground: Color, background: Color) -> ColorCode {
        ColorCode(((background as u8) << 4) | (foreground as u8))
    }

    /// Wraps a raw attribute byte as read from the screen.
    pub const fn from_attribute(attribute: u8) -> ColorCode {
        ColorCode(attribute)
    }

    /// The raw attribute byte.
    pub const fn attribute(self) -> u8 {
        self.0
    }

    /// The foreground color.
    pub const fn foreground(self) -> Color {
        Color::from_number(self.0)
    }

    /// The background color.
    pub const fn background(self) -> Color {
        Color::from_number(self.0 >> 4)
    }
}

/// One cell of a text screen: a code page 437 character and its colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct ScreenChar {
    /// The code page 437 character code.
    pub character: u8,
    /// The colors it is drawn in.
    pub color: ColorCode,
}

impl ScreenChar {
    /// A cell holding `character` in `color`.
    pub const fn new(character: u8, color: ColorCode) -> ScreenChar {
        ScreenChar { character, color }
    }

    /// A blank cell in `color` (a space, so only the background shows).
    pub const fn blank(color: ColorCode) -> ScreenChar {
        ScreenChar::new(b' ', color)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_packs_background_high_and_foreground_low() {
        let code = ColorCode::new(Color::Yellow, Color::Blue);
        assert_eq!(code.attribute(), 0x1e);
        assert_eq!(code.foreground(), Color::Yellow);
        assert_eq!(code.background(), Color::Blue);
    }

    #[test]
    fn every_palette_number_round_trips() {
        for number in 0..16u8 {
            assert_eq!(Color::from_number(number) as u8, number);
        }
    }
}
