//! Which screen the console draws on, decided at boot from the framebuffer the loader
//! describes: its own pixels when it can draw them, else VGA text.
#![forbid(unsafe_code)]

use super::framebuffer::{FramebufferError, FramebufferLayout};
use crate::boot::information::FramebufferInfo;

/// What the console should draw on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenChoice {
    /// VGA text: the loader described no framebuffer, or left the screen in EGA text mode.
    VgaText,
    /// The framebuffer at physical `address`, laid out as `layout`.
    Framebuffer { address: u64, layout: FramebufferLayout },
    /// A framebuffer the console cannot draw on (indexed color, an odd depth or channel
    /// layout): the reason goes to COM1 and the console stays on VGA text, which shows
    /// nothing under UEFI but is all there is.
    Unsupported(FramebufferError),
}

/// Chooses the console's screen from the loader's framebuffer description.
pub fn choose_screen(framebuffer: Option<&FramebufferInfo>) -> ScreenChoice {
    let Some(framebuffer) = framebuffer else {
        return ScreenChoice::VgaText;
    };
    match FramebufferLayout::new(framebuffer.description()) {
        Ok(layout) => ScreenChoice::Framebuffer { address: framebuffer.address, layout },
        Err(FramebufferError::EgaText) => ScreenChoice::VgaText,
        Err(error) => ScreenChoice::Unsupported(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot::information::FramebufferColors;
    use crate::console::framebuffer::ChannelField;
    use std::format;

    fn framebuffer(bits_per_pixel: u8, colors: FramebufferColors) -> FramebufferInfo {
        let bytes = u32::from(bits_per_pixel).div_ceil(8);
        FramebufferInfo {
            address: 0x8000_0000,
            pitch: 1024 * bytes,
            width: 1024,
            height: 768,
            bits_per_pixel,
            colors,
        }
    }

    const BGRX: FramebufferColors = FramebufferColors::DirectRgb {
        red: ChannelField::new(16, 8),
        green: ChannelField::new(8, 8),
        blue: ChannelField::new(0, 8),
    };

    #[test]
    fn no_framebuffer_or_ega_text_keeps_vga_text() {
        assert_eq!(choose_screen(None), ScreenChoice::VgaText);
        let text = FramebufferInfo {
            address: 0xb8000,
            pitch: 160,
            width: 80,
            height: 25,
            bits_per_pixel: 16,
            colors: FramebufferColors::EgaText,
        };
        assert_eq!(choose_screen(Some(&text)), ScreenChoice::VgaText);
    }

    #[test]
    fn a_direct_color_framebuffer_of_24_or_32_bits_is_drawn_on() {
        for bits in [24, 32] {
            match choose_screen(Some(&framebuffer(bits, BGRX))) {
                ScreenChoice::Framebuffer { address, layout } => {
                    assert_eq!(address, 0x8000_0000);
                    assert_eq!((layout.columns(), layout.rows()), (128, 48));
                }
                other => panic!("{bits} bits: {other:?}"),
            }
        }
    }

    #[test]
    fn an_indexed_framebuffer_is_refused_with_a_reason_a_person_can_read() {
        let indexed = FramebufferColors::Indexed { palette_address: 0x9000, color_count: 256 };
        let choice = choose_screen(Some(&framebuffer(8, indexed)));
        assert_eq!(choice, ScreenChoice::Unsupported(FramebufferError::IndexedColor));
        let ScreenChoice::Unsupported(error) = choice else { unreachable!() };
        assert_eq!(
            format!("{error}"),
            "the framebuffer uses indexed (palette) color; the console needs direct RGB"
        );
        // An odd channel layout is refused the same way.
        let odd = FramebufferColors::DirectRgb {
            red: ChannelField::new(30, 8),
            green: ChannelField::new(8, 8),
            blue: ChannelField::new(0, 8),
        };
        assert!(matches!(
            choose_screen(Some(&framebuffer(32, odd))),
            ScreenChoice::Unsupported(FramebufferError::ChannelOutsidePixel { .. })
        ));
    }
}
