//! The kernel's function-name table: its byte format, the lookup the kernel does at fault time,
//! and the encoder `tools/embed-symbols` uses at build time to fill it in.
//!
//! Format (all little-endian u32):
//!   header:  magic "FSYM", entry count, byte offset of the name area
//!   entries: start address, size in bytes, name offset, name length; sorted by address
//!   names:   UTF-8 bytes, not terminated

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
    pub name: &'a str,
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

    fn name(&self, index: usize) -> Option<&'a str> {
        let start = self.names_offset.checked_add(self.field(index, 2) as usize)?;
        let end = start.checked_add(self.field(index, 3) as usize)?;
        core::str::from_utf8(self.bytes.get(start..end)?).ok()
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
        inside.then(|| Symbol { name: self.name(index).unwrap_or("?"), offset })
    }
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
        for word in [*address, *size, names.len() as u32, name.len() as u32] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        names.extend_from_slice(name.as_bytes());
    }
    bytes.extend_from_slice(&names);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_the_containing_function_and_the_offset_into_it() {
        let bytes =
            encode(&[(0x2000, 0x10, "second"), (0x1000, 0x100, "first"), (0x3000, 0, "last")]);
        let table = SymbolTable::parse(&bytes).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(table.lookup(0x1000), Some(Symbol { name: "first", offset: 0 }));
        assert_eq!(table.lookup(0x10ff), Some(Symbol { name: "first", offset: 0xff }));
        assert_eq!(table.lookup(0x1100), None, "past the end of `first`");
        assert_eq!(table.lookup(0x0fff), None, "before every function");
        assert_eq!(table.lookup(0x200f), Some(Symbol { name: "second", offset: 0xf }));
        assert_eq!(table.lookup(0x3456), Some(Symbol { name: "last", offset: 0x456 }));
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
