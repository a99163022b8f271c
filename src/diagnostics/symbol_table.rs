//! The kernel's function-name table: its byte format, the lookup the kernel does at fault time,
//! and the encoder `tools/embed-symbols` uses at build time to fill it in.
//!
//! Format (all numbers little-endian u32 unless said otherwise):
//!   header:     magic "FSYM", entry count, offset of the name area, offset of the
//!               dictionary, number of dictionary pieces
//!   entries:    start address (u32), size in bytes (u16; 0 for "up to the next function"),
//!               end of the name in the name area (u16; the name starts where the previous
//!               entry's ends); sorted by address
//!   dictionary: pieces of text, each a length byte and that many ASCII bytes
//!   names:      ASCII bytes, not terminated; a byte 0x80 + i stands for dictionary piece i
//!
//! The encoder picks the dictionary from the names themselves (the path pieces that save the
//! most bytes), so renaming a module never silently makes the table bigger.
#![forbid(unsafe_code)]

use core::fmt;

use crate::bytes::{read_u16_le, read_u32_le};

const DICTIONARY_CODE: u8 = 0x80;
/// Codes 0x80-0xff: at most 128 pieces.
pub const MAXIMUM_DICTIONARY_PIECES: usize = 128;

/// The table's dictionary: pieces of text that names refer to by a one-byte code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dictionary<'a> {
    /// The pieces, each a length byte followed by its text; checked to be ASCII.
    bytes: &'a [u8],
    count: usize,
}

impl<'a> Dictionary<'a> {
    /// Piece `index`, found by walking the length bytes (at most 128 pieces).
    fn piece(&self, index: usize) -> Option<&'a str> {
        let mut offset = 0;
        for _ in 0..index {
            offset += 1 + usize::from(*self.bytes.get(offset)?);
        }
        let length = usize::from(*self.bytes.get(offset)?);
        core::str::from_utf8(self.bytes.get(offset + 1..offset + 1 + length)?).ok()
    }

    /// Whether every piece lies inside the area and is ASCII.
    fn is_valid(&self) -> bool {
        let mut offset = 0;
        for _ in 0..self.count {
            let Some(&length) = self.bytes.get(offset) else { return false };
            let Some(text) = self.bytes.get(offset + 1..offset + 1 + usize::from(length)) else {
                return false;
            };
            if !text.is_ascii() {
                return false;
            }
            offset += 1 + usize::from(length);
        }
        self.count <= MAXIMUM_DICTIONARY_PIECES
    }
}

/// A function's name as stored: ASCII with dictionary codes, expanded when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolName<'a> {
    stored: &'a [u8],
    dictionary: Dictionary<'a>,
}

impl<'a> SymbolName<'a> {
    /// The name's text, piece by piece.
    pub fn pieces(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.stored.iter().map(|&byte| match byte {
            0..=0x7f => ASCII_CHARACTERS[byte as usize],
            code => self.dictionary.piece(usize::from(code - DICTIONARY_CODE)).unwrap_or("?"),
        })
    }

    /// How many bytes the name takes in the table.
    pub fn stored_length(&self) -> usize {
        self.stored.len()
    }

    /// Whether the expanded name ends with `suffix`.
    pub fn ends_with(&self, suffix: &str) -> bool {
        let length: usize = self.pieces().map(str::len).sum();
        let Some(suffix_start) = length.checked_sub(suffix.len()) else { return false };
        let mut position = 0;
        for piece in self.pieces() {
            for (index, byte) in piece.bytes().enumerate() {
                let at = position + index;
                if at >= suffix_start && suffix.as_bytes()[at - suffix_start] != byte {
                    return false;
                }
            }
            position += piece.len();
        }
        true
    }
}

impl fmt::Display for SymbolName<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces().try_for_each(|piece| formatter.write_str(piece))
    }
}

/// Each ASCII character as a one-character string, so names expand without allocating.
const ASCII_CHARACTERS: [&str; 128] = {
    const BYTES: [u8; 128] = {
        let mut bytes = [0u8; 128];
        let mut index = 0;
        while index < 128 {
            bytes[index] = index as u8;
            index += 1;
        }
        bytes
    };
    let mut characters = [""; 128];
    let mut index = 0;
    while index < 128 {
        characters[index] = match core::str::from_utf8(BYTES.split_at(index).1.split_at(1).0) {
            Ok(text) => text,
            Err(_) => "?",
        };
        index += 1;
    }
    characters
};

/// "FSYM" read as a little-endian u32.
pub const SYMBOL_TABLE_MAGIC: u32 = u32::from_le_bytes(*b"FSYM");
const HEADER_BYTES: usize = 20;
const ENTRY_BYTES: usize = 8;

/// Why a symbol table could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolTableError {
    /// No table was embedded (the build did not run `embed-symbols`).
    Missing,
    /// The header or an entry points outside the table.
    Malformed,
}

/// A parsed, bounds-checked view of the table.
#[derive(Debug, Clone, Copy)]
pub struct SymbolTable<'a> {
    bytes: &'a [u8],
    count: usize,
    names_offset: usize,
    dictionary: Dictionary<'a>,
}

/// A function found for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub name: SymbolName<'a>,
    /// How far into the function the address is.
    pub offset: u32,
}

impl<'a> SymbolTable<'a> {
    /// Checks the header and that every entry and name lies inside `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<SymbolTable<'a>, SymbolTableError> {
        if read_u32_le(bytes, 0) != Some(SYMBOL_TABLE_MAGIC) {
            return Err(SymbolTableError::Missing);
        }
        let header = |offset| read_u32_le(bytes, offset).ok_or(SymbolTableError::Malformed);
        let count = header(4)? as usize;
        let names_offset = header(8)? as usize;
        let dictionary_offset = header(12)? as usize;
        let dictionary_count = header(16)? as usize;
        let entries_end = count
            .checked_mul(ENTRY_BYTES)
            .and_then(|size| size.checked_add(HEADER_BYTES))
            .ok_or(SymbolTableError::Malformed)?;
        if entries_end > dictionary_offset
            || dictionary_offset > names_offset
            || names_offset > bytes.len()
        {
            return Err(SymbolTableError::Malformed);
        }
        let dictionary =
            Dictionary { bytes: &bytes[dictionary_offset..names_offset], count: dictionary_count };
        if !dictionary.is_valid() {
            return Err(SymbolTableError::Malformed);
        }
        let table = SymbolTable { bytes, count, names_offset, dictionary };
        for index in 0..count {
            table.name(index).ok_or(SymbolTableError::Malformed)?;
        }
        Ok(table)
    }

    /// Number of functions in the table.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    // In bounds: `parse` checked that all entries lie before the name area.
    fn start(&self, index: usize) -> u32 {
        read_u32_le(self.bytes, HEADER_BYTES + index * ENTRY_BYTES).unwrap_or(0)
    }

    fn size(&self, index: usize) -> u32 {
        read_u16_le(self.bytes, HEADER_BYTES + index * ENTRY_BYTES + 4).map_or(0, u32::from)
    }

    /// Where entry `index`'s name ends in the name area.
    fn name_end(&self, index: usize) -> usize {
        read_u16_le(self.bytes, HEADER_BYTES + index * ENTRY_BYTES + 6).map_or(0, usize::from)
    }

    /// The stored name of entry `index`, if it lies in the table and uses only ASCII and
    /// dictionary codes.
    fn name(&self, index: usize) -> Option<SymbolName<'a>> {
        let name_start = if index == 0 { 0 } else { self.name_end(index - 1) };
        let start = self.names_offset.checked_add(name_start)?;
        let end = self.names_offset.checked_add(self.name_end(index))?;
        let bytes = self.bytes.get(start..end)?;
        let pieces = self.dictionary.count;
        let valid =
            |&byte: &u8| byte < DICTIONARY_CODE || usize::from(byte - DICTIONARY_CODE) < pieces;
        let name = SymbolName { stored: bytes, dictionary: self.dictionary };
        bytes.iter().all(valid).then_some(name)
    }

    /// The function containing `address`: the last one starting at or before it, if the
    /// address is within its size (a size of 0 reaches up to the next function).
    pub fn lookup(&self, address: u32) -> Option<Symbol<'a>> {
        // Binary search for the first entry starting after `address`.
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let middle = (low + high) / 2;
            if self.start(middle) <= address {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        let index = low.checked_sub(1)?;
        let start = self.start(index);
        let size = self.size(index);
        let offset = address - start;
        let next_start = if index + 1 < self.count { self.start(index + 1) } else { u32::MAX };
        let inside = if size == 0 { address < next_start } else { offset < size };
        let unknown = SymbolName { stored: b"?", dictionary: self.dictionary };
        inside.then(|| Symbol { name: self.name(index).unwrap_or(unknown), offset })
    }
}

/// The dictionary that shrinks `names` the most: pieces of their paths (each ending in `::`,
/// or a type or function name of at least three characters), chosen by the bytes they would
/// save, at most `MAXIMUM_DICTIONARY_PIECES`, longest first so that longer pieces win ties at
/// the same position.
#[cfg(not(target_os = "none"))]
fn choose_dictionary(names: &[&str]) -> std::vec::Vec<std::string::String> {
    use std::collections::BTreeMap;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in names {
        let mut start = 0;
        for (index, character) in name.char_indices() {
            let end = index + character.len_utf8();
            let piece_ends = match character {
                ':' => name[..end].ends_with("::"),
                '<' | '>' | ' ' | ',' | '(' | ')' | '&' | '*' | '[' | ']' | ';' => true,
                _ => false,
            };
            if piece_ends {
                let piece = &name[start..end];
                if piece.len() >= 3 && piece.len() < 256 && piece.is_ascii() {
                    *counts.entry(piece).or_default() += 1;
                }
                start = end;
            }
        }
        let tail = &name[start..];
        if tail.len() >= 3 && tail.len() < 256 && tail.is_ascii() {
            *counts.entry(tail).or_default() += 1;
        }
    }
    // A piece costs its text plus a length byte once, and saves all but one byte per use.
    let saving = |(piece, count): &(&str, usize)| {
        (count * (piece.len() - 1)).saturating_sub(piece.len() + 1)
    };
    let mut candidates: std::vec::Vec<(&str, usize)> =
        counts.into_iter().filter(|candidate| saving(candidate) > 0).collect();
    candidates.sort_by(|a, b| saving(b).cmp(&saving(a)).then(a.0.cmp(b.0)));
    candidates.truncate(MAXIMUM_DICTIONARY_PIECES);
    let mut pieces: std::vec::Vec<std::string::String> =
        candidates.into_iter().map(|(piece, _)| piece.into()).collect();
    pieces.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    pieces
}

/// `name` with every dictionary piece replaced by its code, longest piece first at each
/// position; characters outside ASCII become `?`.
#[cfg(not(target_os = "none"))]
fn compress_name(name: &str, dictionary: &[std::string::String]) -> std::vec::Vec<u8> {
    let mut stored = std::vec::Vec::new();
    let mut rest = name;
    while let Some(character) = rest.chars().next() {
        // The dictionary is sorted longest first: the first match is the longest.
        match dictionary.iter().position(|piece| rest.starts_with(piece.as_str())) {
            Some(index) => {
                stored.push(DICTIONARY_CODE + index as u8);
                rest = &rest[dictionary[index].len()..];
            }
            None => {
                stored.push(if character.is_ascii() { character as u8 } else { b'?' });
                rest = &rest[character.len_utf8()..];
            }
        }
    }
    stored
}

/// `name` without the generic arguments of its paths, which can be longer than the rest of the
/// name and tell little in a backtrace: `<Surface<Memory> as Trait>::draw` becomes
/// `<Surface as Trait>::draw`, `spawn<Summary, {closure#0}>::{closure#0}` becomes
/// `spawn::{closure#0}`. A `<` that opens a qualified path (at the start, or after another `<`)
/// stays, as do the names inside it.
#[cfg(not(target_os = "none"))]
pub fn shorten_name(name: &str) -> std::string::String {
    let mut shortened = std::string::String::with_capacity(name.len());
    let mut skipped_depth = 0usize;
    for character in name.chars() {
        if skipped_depth > 0 {
            match character {
                '<' => skipped_depth += 1,
                '>' => skipped_depth -= 1,
                _ => {}
            }
            continue;
        }
        let after_identifier = shortened
            .chars()
            .next_back()
            .is_some_and(|previous| previous.is_alphanumeric() || previous == '_');
        if character == '<' && after_identifier {
            skipped_depth = 1;
        } else {
            shortened.push(character);
        }
    }
    shortened
}

/// Builds a table from (address, size, name) triples, for the build tool and tests.
#[cfg(not(target_os = "none"))]
pub fn encode(symbols: &[(u32, u32, &str)]) -> std::vec::Vec<u8> {
    let mut sorted: std::vec::Vec<&(u32, u32, &str)> = symbols.iter().collect();
    sorted.sort_by_key(|(address, _, _)| *address);
    let all_names: std::vec::Vec<&str> = sorted.iter().map(|(_, _, name)| *name).collect();
    let dictionary = choose_dictionary(&all_names);
    let mut dictionary_bytes = std::vec::Vec::new();
    for piece in &dictionary {
        dictionary_bytes.push(piece.len() as u8);
        dictionary_bytes.extend_from_slice(piece.as_bytes());
    }
    let dictionary_offset = HEADER_BYTES + sorted.len() * ENTRY_BYTES;
    let names_offset = dictionary_offset + dictionary_bytes.len();
    let mut bytes = std::vec::Vec::new();
    let mut names = std::vec::Vec::new();
    let header = [
        SYMBOL_TABLE_MAGIC,
        sorted.len() as u32,
        names_offset as u32,
        dictionary_offset as u32,
        dictionary.len() as u32,
    ];
    for word in header {
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    for (address, size, name) in sorted {
        names.extend_from_slice(&compress_name(name, &dictionary));
        let name_end = u16::try_from(names.len()).expect("the name area outgrew 64 KiB");
        // A function of 64 KiB or more is stored as reaching up to the next one.
        let size = u16::try_from(*size).unwrap_or(0);
        bytes.extend_from_slice(&address.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&name_end.to_le_bytes());
    }
    bytes.extend_from_slice(&dictionary_bytes);
    bytes.extend_from_slice(&names);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn lookup_finds_the_containing_function_and_the_offset_into_it() {
        let bytes =
            encode(&[(0x2000, 0x10, "second"), (0x1000, 0x100, "first"), (0x3000, 0, "last")]);
        let table = SymbolTable::parse(&bytes).unwrap();
        let named =
            |address| table.lookup(address).map(|symbol| (symbol.name.to_string(), symbol.offset));
        assert_eq!(table.len(), 3);
        assert_eq!(named(0x1000), Some(("first".to_string(), 0)));
        assert_eq!(named(0x10ff), Some(("first".to_string(), 0xff)));
        assert_eq!(table.lookup(0x1100), None, "past the end of `first`");
        assert_eq!(table.lookup(0x0fff), None, "before every function");
        assert_eq!(named(0x200f), Some(("second".to_string(), 0xf)));
        assert_eq!(named(0x3456), Some(("last".to_string(), 0x456)));
    }

    #[test]
    fn dictionary_pieces_are_stored_as_one_byte_and_shown_in_full() {
        let name = "<ferrite::console::text_console::TextConsole<ferrite::console::vga::VgaTextSurface>>::new_line";
        let other = "<ferrite::console::text_console::TextConsole<ferrite::console::vga::VgaTextSurface>>::put_byte";
        let bytes = encode(&[(0x1000, 0x10, name), (0x2000, 0x10, other)]);
        let table = SymbolTable::parse(&bytes).unwrap();
        let symbol = table.lookup(0x1004).unwrap();
        assert_eq!(symbol.name.to_string(), name);
        assert_eq!(table.lookup(0x2004).unwrap().name.to_string(), other);
        let stored = symbol.name.stored_length();
        assert!(stored < name.len() / 2, "{stored} bytes stored");
        assert!(
            symbol.name.ends_with("TextConsole<ferrite::console::vga::VgaTextSurface>>::new_line")
        );
        assert!(symbol.name.ends_with(""));
        assert!(!symbol.name.ends_with("old_line"));
        assert!(!symbol.name.ends_with(&std::format!("x{name}")));
    }

    #[test]
    fn a_function_of_64_kib_or_more_reaches_up_to_the_next() {
        let bytes = encode(&[(0x1_0000, 0x2_0000, "huge"), (0x4_0000, 4, "after")]);
        let table = SymbolTable::parse(&bytes).unwrap();
        assert_eq!(table.lookup(0x3_ffff).unwrap().name.to_string(), "huge");
        assert_eq!(table.lookup(0x4_0002).unwrap().name.to_string(), "after");
    }

    #[test]
    fn names_lose_generic_arguments_but_keep_qualified_paths() {
        assert_eq!(
            shorten_name(
                "<ferrite::console::framebuffer::FramebufferSurface<ferrite::arch::x86::linear_framebuffer::MappedFramebuffer> as ferrite::console::surface::TextSurface>::write_cell"
            ),
            "<ferrite::console::framebuffer::FramebufferSurface as ferrite::console::surface::TextSurface>::write_cell"
        );
        assert_eq!(
            shorten_name(
                "<ferrite::thread::kernel::spawn_with_priority<ferrite::demo::DemoSummary, ferrite::boot::sequence::run_demo::{closure#0}>::{closure#0} as core::ops::function::FnOnce<()>>::call_once"
            ),
            "<ferrite::thread::kernel::spawn_with_priority::{closure#0} as core::ops::function::FnOnce>::call_once"
        );
        assert_eq!(
            shorten_name("<&str as core::fmt::Display>::fmt"),
            "<&str as core::fmt::Display>::fmt"
        );
        assert_eq!(shorten_name("kernel_main"), "kernel_main");
        assert_eq!(
            shorten_name("<[u8]>::copy_from_slice"),
            "<[u8]>::copy_from_slice",
            "a qualified path of a slice type is not a generic argument"
        );
    }

    #[test]
    fn an_all_zero_area_is_a_missing_table() {
        assert_eq!(SymbolTable::parse(&[0u8; 64]).unwrap_err(), SymbolTableError::Missing);
    }

    #[test]
    fn truncated_or_lying_tables_are_rejected_not_read_past() {
        let bytes = encode(&[(0x1000, 4, "function")]);
        for length in 0..bytes.len() {
            assert!(SymbolTable::parse(&bytes[..length]).is_err(), "length {length}");
        }
        let mut lying = bytes.clone();
        lying[4] = 200; // claims 200 entries
        assert_eq!(SymbolTable::parse(&lying).unwrap_err(), SymbolTableError::Malformed);
        let mut lying = bytes;
        lying[HEADER_BYTES + 6] = 99; // name longer than the name area
        assert_eq!(SymbolTable::parse(&lying).unwrap_err(), SymbolTableError::Malformed);
    }
}
