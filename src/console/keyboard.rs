//! PS/2 scancodes (set 1, US layout) to the keys the shell acts on, via the `pc-keyboard` crate.
#![forbid(unsafe_code)]

use pc_keyboard::{
    DecodedKey, HandleControl, KeyCode, KeyState, PS2Keyboard, ScancodeSet1, layouts::Us104Key,
};

/// A key press, as the line editor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Character(char),
    Enter,
    Backspace,
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    /// Ctrl-C.
    Interrupt,
    /// Ctrl-U.
    ClearLine,
    /// Ctrl-L.
    ClearScreen,
    /// A press of a key the shell does not act on (Escape, a modifier, a function key): it
    /// still answers "press any key".
    Other,
}

/// Scancode decoder with modifier state (shift, caps lock, ctrl, alt, num lock).
pub struct KeyDecoder {
    keyboard: PS2Keyboard<Us104Key, ScancodeSet1>,
}

const CONTROL_C: char = '\u{3}';
const CONTROL_L: char = '\u{c}';
const CONTROL_U: char = '\u{15}';

impl KeyDecoder {
    pub const fn new() -> KeyDecoder {
        KeyDecoder {
            keyboard: PS2Keyboard::new(
                ScancodeSet1::new(),
                Us104Key,
                HandleControl::MapLettersToUnicode,
            ),
        }
    }

    /// Feeds one scancode byte; returns a key when the byte completes a press (releases give
    /// nothing; modifiers, function keys and Escape give `Key::Other`).
    pub fn feed(&mut self, scancode: u8) -> Option<Key> {
        let event = self.keyboard.add_byte(scancode).ok()??;
        let pressed = event.state == KeyState::Down;
        let Some(decoded) = self.keyboard.process_keyevent(event) else {
            return pressed.then_some(Key::Other);
        };
        Some(match decoded {
            DecodedKey::Unicode('\n' | '\r') => Key::Enter,
            DecodedKey::Unicode('\u{8}') => Key::Backspace,
            DecodedKey::Unicode('\u{7f}') => Key::Delete,
            DecodedKey::Unicode(CONTROL_C) => Key::Interrupt,
            DecodedKey::Unicode(CONTROL_U) => Key::ClearLine,
            DecodedKey::Unicode(CONTROL_L) => Key::ClearScreen,
            DecodedKey::Unicode('\t') => Key::Character(' '),
            DecodedKey::Unicode(character) if !character.is_control() => Key::Character(character),
            DecodedKey::Unicode(_) => Key::Other,
            DecodedKey::RawKey(KeyCode::ArrowLeft) => Key::Left,
            DecodedKey::RawKey(KeyCode::ArrowRight) => Key::Right,
            DecodedKey::RawKey(KeyCode::ArrowUp) => Key::Up,
            DecodedKey::RawKey(KeyCode::ArrowDown) => Key::Down,
            DecodedKey::RawKey(KeyCode::Home) => Key::Home,
            DecodedKey::RawKey(KeyCode::End) => Key::End,
            DecodedKey::RawKey(_) => Key::Other,
        })
    }
}

impl Default for KeyDecoder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Set 1 make codes; the break code is the make code with bit 7 set.
    const A: u8 = 0x1e;
    const ONE: u8 = 0x02;
    const LEFT_SHIFT: u8 = 0x2a;
    const CAPS_LOCK: u8 = 0x3a;
    const LEFT_CONTROL: u8 = 0x1d;
    const C: u8 = 0x2e;
    const U: u8 = 0x16;
    const ENTER: u8 = 0x1c;
    const BACKSPACE: u8 = 0x0e;
    const EXTENDED: u8 = 0xe0;

    fn press(code: u8) -> [u8; 2] {
        [code, code | 0x80]
    }

    fn decode(bytes: &[u8]) -> Vec<Key> {
        let mut decoder = KeyDecoder::new();
        bytes.iter().filter_map(|&byte| decoder.feed(byte)).collect()
    }

    #[test]
    fn letters_digits_and_shift() {
        let mut bytes = Vec::new();
        bytes.extend(press(A));
        bytes.extend(press(ONE));
        bytes.push(LEFT_SHIFT);
        bytes.extend(press(A));
        bytes.extend(press(ONE));
        bytes.push(LEFT_SHIFT | 0x80);
        assert_eq!(
            decode(&bytes),
            [
                Key::Character('a'),
                Key::Character('1'),
                Key::Other,
                Key::Character('A'),
                Key::Character('!')
            ]
        );
    }

    #[test]
    fn caps_lock_toggles_letters_only() {
        let mut bytes = Vec::new();
        bytes.extend(press(CAPS_LOCK));
        bytes.extend(press(A));
        bytes.extend(press(ONE));
        bytes.extend(press(CAPS_LOCK));
        bytes.extend(press(A));
        assert_eq!(
            decode(&bytes),
            [Key::Other, Key::Character('A'), Key::Character('1'), Key::Other, Key::Character('a')]
        );
    }

    #[test]
    fn control_letters_become_editing_commands() {
        let mut bytes = std::vec![LEFT_CONTROL];
        bytes.extend(press(C));
        bytes.extend(press(U));
        bytes.push(LEFT_CONTROL | 0x80);
        assert_eq!(decode(&bytes), [Key::Other, Key::Interrupt, Key::ClearLine]);
    }

    #[test]
    fn extended_keys_map_to_navigation() {
        // Arrow left, right, up, down, Home, End, Delete: 0xE0 prefix, then make and break.
        let mut bytes = Vec::new();
        for code in [0x4b, 0x4d, 0x48, 0x50, 0x47, 0x4f, 0x53] {
            bytes.extend([EXTENDED, code, EXTENDED, code | 0x80]);
        }
        bytes.extend(press(ENTER));
        bytes.extend(press(BACKSPACE));
        assert_eq!(
            decode(&bytes),
            [
                Key::Left,
                Key::Right,
                Key::Up,
                Key::Down,
                Key::Home,
                Key::End,
                Key::Delete,
                Key::Enter,
                Key::Backspace
            ]
        );
    }

    #[test]
    fn escape_and_function_keys_are_presses_of_other_keys_and_releases_are_nothing() {
        const ESCAPE: u8 = 0x01;
        const F1: u8 = 0x3b;
        assert_eq!(decode(&[ESCAPE, F1, ESCAPE | 0x80, F1 | 0x80]), [Key::Other, Key::Other]);
    }

    #[test]
    fn any_byte_sequence_decodes_without_panicking() {
        let mut decoder = KeyDecoder::new();
        let mut random = crate::testing::random::Xorshift64::new(0x1234_5678);
        for _ in 0..100_000 {
            let _ = decoder.feed(random.next_byte());
        }
    }
}
