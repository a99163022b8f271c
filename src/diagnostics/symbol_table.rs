//! The kernel's function-name table: its byte format, the lookup the kernel does at fault time,
//! and the encoder `tools/embed-symbols` uses at build time to fill it in.
//!
//! Format (all little-endian u32):
//!   header:  magic "FSYM", entry count, byte offset of the name area
//!   entries: start address, size in bytes, name offset, name length; sorted by address
//!   names:   ASCII bytes, not terminated; a byte 0x80 + i stands for `NAME_DICTIONARY[i]`

use core::fmt;

/// Path pieces that recur in the kernel's function names, stored as one byte each (0x80 + index)
/// to keep the table small. Longer pieces first where one contains another.
pub const NAME_DICTIONARY: [&str; 64] = [
    "ferrite::",
    " as core::",
    "kernel_tests::",
    "core::",
    "alloc::",
    "fmt::",
    "arch::x86::",
    "memory::",
    "VgaTextBuffer",
    "collections::",
    "fault_scenarios::",
    "diagnostics::",
    "vga_text::",
    "Display",
    "compiler_builtins::",
    "{closure#0}",
    "console::",
    "frame_allocator::",
    "text_console::",
    "demo::",
    "linked_list_allocator::",
    "iter::",
    "slice::",
    "workload::",
    "fatal::",
    "btree::",
    "FrameAllocator",
    "pc_keyboard::",
    "Write",
    "raw_vec::",
    "string::",
    "adapters::",
    "shell::",
    "TextConsole",
    "panicking::",
    "write_str",
    "traits::",
    "interrupts::",
    "write_char",
    "iterator::",
    "builders::",
    "benchmark::",
    "boot_info::",
    "surface::",
    "MemorySurface",
    "write_fmt",
    "Formatter",
    "libm::math::",
    "scene::",
    "time::",
    "serial::",
    "SerialPort",
    "keyboard::",
    "heap::",
    "paging::",
    "vec::",
    "spin::",
    "mutex::",
    "talc::",
    "session::",
    "report::",
    "exception::",
    "command::",
    "line_editor::",
];
const DICTIONARY_CODE: u8 = 0x80;

/// A function's name as stored: ASCII with dictionary codes, expanded when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolName<'a>(&'a [u8]);

impl SymbolName<'_> {
    /// The name's text, piece by piece.
    pub fn pieces(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|&byte| match byte {
            0..=0x7f => ASCII_CHARACTERS[byte as usize],
            code => {
                NAME_DICTIONARY.get(usize::from(code - DICTIONARY_CODE)).copied().unwrap_or("?")
            }
        })
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
const HEADER_BYTES: usize = 12;
const ENTRY_BYTES: usize = 16;

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
}

/// A function found for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub name: SymbolName<'a>,
    /// How far into the function the address is.
    pub offset: u32,
}

fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let word = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
}

impl<'a> SymbolTable<'a> {
    /// Checks the header and that every entry and name lies inside `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<SymbolTable<'a>, SymbolTableError> {
        if read_u32(bytes, 0) != Some(SYMBOL_TABLE_MAGIC) {
            return Err(SymbolTableError::Missing);
        }
        let count = read_u32(bytes, 4).ok_or(SymbolTableError::Malformed)? as usize;
        let names_offset = read_u32(bytes, 8).ok_or(SymbolTableError::Malformed)? as usize;
        let entries_end = count
            .checked_mul(ENTRY_BYTES)
            .and_then(|size| size.checked_add(HEADER_BYTES))
            .ok_or(SymbolTableError::Malformed)?;
        if entries_end > names_offset || names_offset > bytes.len() {
            return Err(SymbolTableError::Malformed);
        }
        let table = SymbolTable { bytes, count, names_offset };
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

    fn field(&self, index: usize, field: usize) -> u32 {
        // In bounds: `parse` checked that all entries lie before the name area.
        read_u32(self.bytes, HEADER_BYTES + index * ENTRY_BYTES + field * 4).unwrap_or(0)
    }

    /// The stored name of entry `index`, if it lies in the table and uses only ASCII and
    /// dictionary codes.
    fn name(&self, index: usize) -> Option<SymbolName<'a>> {
        let start = self.names_offset.checked_add(self.field(index, 2) as usize)?;
        let end = start.checked_add(self.field(index, 3) as usize)?;
        let bytes = self.bytes.get(start..end)?;
        let valid = |&byte: &u8| {
            byte < DICTIONARY_CODE || usize::from(byte - DICTIONARY_CODE) < NAME_DICTIONARY.len()
        };
        bytes.iter().all(valid).then_some(SymbolName(bytes))
    }

    /// The function containing `address`: the last one starting at or before it, if the
    /// address is within its size (a size of 0 reaches up to the next function).
    pub fn lookup(&self, address: u32) -> Option<Symbol<'a>> {
        // Binary search for the first entry starting after `address`.
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let middle = (low + high) / 2;
            if self.field(middle, 0) <= address {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        let index = low.checked_sub(1)?;
        let start = self.field(index, 0);
        let size = self.field(index, 1);
        let offset = address - start;
        let next_start = if index + 1 < self.count { self.field(index + 1, 0) } else { u32::MAX };
        let inside = if size == 0 { address < next_start } else { offset < size };
        inside.then(|| Symbol { name: self.name(index).unwrap_or(SymbolName(b"?")), offset })
    }
}

/// `name` with every dictionary piece replaced by its code, longest piece first at each
/// position; characters outside ASCII become `?`.
#[cfg(not(target_os = "none"))]
fn compress_name(name: &str) -> std::vec::Vec<u8> {
    let mut stored = std::vec::Vec::new();
    let mut rest = name;
    while let Some(character) = rest.chars().next() {
        let longest = NAME_DICTIONARY
            .iter()
            .enumerate()
            .filter(|(_, piece)| rest.starts_with(*piece))
            .max_by_key(|(_, piece)| piece.len());
        match longest {
            Some((index, piece)) => {
                stored.push(DICTIONARY_CODE + index as u8);
                rest = &rest[piece.len()..];
            }
            None => {
                stored.push(if character.is_ascii() { character as u8 } else { b'?' });
                rest = &rest[character.len_utf8()..];
            }
        }
    }
    stored
}

/// Builds a table from (address, size, name) triples, for the build tool and tests.
#[cfg(not(target_os = "none"))]
pub fn encode(symbols: &[(u32, u32, &str)]) -> std::vec::Vec<u8> {
    let mut sorted: std::vec::Vec<&(u32, u32, &str)> = symbols.iter().collect();
    sorted.sort_by_key(|(address, _, _)| *address);
    let names_offset = HEADER_BYTES + sorted.len() * ENTRY_BYTES;
    let mut bytes = std::vec::Vec::new();
    let mut names = std::vec::Vec::new();
    for word in [SYMBOL_TABLE_MAGIC, sorted.len() as u32, names_offset as u32] {
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    for (address, size, name) in sorted {
        let stored = compress_name(name);
        for word in [*address, *size, names.len() as u32, stored.len() as u32] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        names.extend_from_slice(&stored);
    }
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
        let name = "<ferrite::console::text_console::TextConsole<ferrite::arch::x86::vga_text::VgaTextBuffer>>::new_line";
        let bytes = encode(&[(0x1000, 0x10, name)]);
        let table = SymbolTable::parse(&bytes).unwrap();
        let symbol = table.lookup(0x1004).unwrap();
        assert_eq!(symbol.name.to_string(), name);
        assert!(symbol.name.0.len() < name.len() / 2, "{} bytes stored", symbol.name.0.len());
        assert!(
            symbol
                .name
                .ends_with("TextConsole<ferrite::arch::x86::vga_text::VgaTextBuffer>>::new_line")
        );
        assert!(symbol.name.ends_with(""));
        assert!(!symbol.name.ends_with("old_line"));
        assert!(!symbol.name.ends_with(&std::format!("x{name}")));
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
        lying[12 + 12] = 99; // name longer than the name area
        assert_eq!(SymbolTable::parse(&lying).unwrap_err(), SymbolTableError::Malformed);
    }
}
