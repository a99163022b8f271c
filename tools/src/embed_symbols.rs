//! `embed-symbols KERNEL.elf`: writes the kernel's function names into its `.kernel_symbols`
//! section, in place, so backtraces can name functions without any loader's help.
//!
//! Reads the ELF32 symbol table, keeps functions in `.text` (and the boot stub's labels),
//! demangles Rust names, encodes them in the format of src/diagnostics/symbol_table.rs, and
//! overwrites the reserved, zero-filled section. No address in the kernel moves.

use std::process::ExitCode;

#[allow(dead_code)]
#[path = "../../src/diagnostics/symbol_table.rs"]
mod symbol_table;

const SECTION_NAME: &str = ".kernel_symbols";
const SYMBOL_TYPE_NOTYPE: u8 = 0;
const SYMBOL_TYPE_FUNCTION: u8 = 2;
/// Assembly labels that are not functions of their own: the 256 interrupt stubs are listed in
/// a table, and names with a dot are NASM's local labels.
const SKIPPED_LABEL_PREFIX: &str = "interrupt_stub_";

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: embed-symbols KERNEL.elf");
        return ExitCode::FAILURE;
    };
    match embed(&path) {
        Ok(summary) => {
            println!("embed-symbols: {summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("embed-symbols: {path}: {message}");
            ExitCode::FAILURE
        }
    }
}

struct Section {
    name_offset: u32,
    kind: u32,
    file_offset: u32,
    size: u32,
    link: u32,
}

fn read_u16(bytes: &[u8], offset: usize) -> Result<u16, String> {
    let slice = bytes.get(offset..offset + 2).ok_or("file is truncated")?;
    Ok(u16::from_le_bytes([slice[0], slice[1]]))
}

fn read_u32(bytes: &[u8], offset: usize) -> Result<u32, String> {
    let slice = bytes.get(offset..offset + 4).ok_or("file is truncated")?;
    Ok(u32::from_le_bytes([slice[0], slice[1], slice[2], slice[3]]))
}

fn c_string(bytes: &[u8], offset: usize) -> Result<&str, String> {
    let tail = bytes.get(offset..).ok_or("string offset out of range")?;
    let end = tail.iter().position(|&byte| byte == 0).ok_or("unterminated string")?;
    std::str::from_utf8(&tail[..end]).map_err(|_| "string is not UTF-8".to_string())
}

fn embed(path: &str) -> Result<String, String> {
    let mut elf = std::fs::read(path).map_err(|error| error.to_string())?;
    // ELF header (System V ABI, ELF32): class 1 = 32-bit, data 1 = little-endian.
    if elf.get(..6) != Some(b"\x7fELF\x01\x01") {
        return Err("not a little-endian ELF32 file".into());
    }
    let section_table = read_u32(&elf, 32)? as usize;
    let section_entry_size = read_u16(&elf, 46)? as usize;
    let section_count = read_u16(&elf, 48)? as usize;
    let names_index = read_u16(&elf, 50)? as usize;
    let sections: Vec<Section> = (0..section_count)
        .map(|index| {
            let base = section_table + index * section_entry_size;
            Ok(Section {
                name_offset: read_u32(&elf, base)?,
                kind: read_u32(&elf, base + 4)?,
                file_offset: read_u32(&elf, base + 16)?,
                size: read_u32(&elf, base + 20)?,
                link: read_u32(&elf, base + 24)?,
            })
        })
        .collect::<Result<_, String>>()?;
    let section_names =
        sections.get(names_index).ok_or("no section name table")?.file_offset as usize;
    let name_of = |section: &Section| c_string(&elf, section_names + section.name_offset as usize);
    let find = |wanted: &str| -> Result<usize, String> {
        for (index, section) in sections.iter().enumerate() {
            if name_of(section)? == wanted {
                return Ok(index);
            }
        }
        Err(format!("no {wanted} section"))
    };
    let text_index = find(".text")?;
    let target_index = find(SECTION_NAME)?;
    const SECTION_TYPE_SYMBOL_TABLE: u32 = 2;
    let symbol_table = sections
        .iter()
        .find(|section| section.kind == SECTION_TYPE_SYMBOL_TABLE)
        .ok_or("no symbol table (was the kernel stripped?)")?;
    let string_table = sections.get(symbol_table.link as usize).ok_or("bad symbol string table")?;

    // Each ELF32 symbol: name, value, size (u32 each), info, other (u8), section index (u16).
    const SYMBOL_BYTES: usize = 16;
    let mut names: Vec<(u32, u32, String)> = Vec::new();
    let start = symbol_table.file_offset as usize;
    for offset in (start..start + symbol_table.size as usize).step_by(SYMBOL_BYTES) {
        let symbol_type = elf.get(offset + 12).ok_or("truncated symbol")? & 0xf;
        let section = read_u16(&elf, offset + 14)? as usize;
        if section != text_index
            || !matches!(symbol_type, SYMBOL_TYPE_FUNCTION | SYMBOL_TYPE_NOTYPE)
        {
            continue;
        }
        let raw_name =
            c_string(&elf, string_table.file_offset as usize + read_u32(&elf, offset)? as usize)?;
        if raw_name.is_empty()
            || raw_name.contains('.')
            || raw_name.starts_with(SKIPPED_LABEL_PREFIX)
        {
            continue;
        }
        let name = format!("{:#}", rustc_demangle::demangle(raw_name));
        names.push((read_u32(&elf, offset + 4)?, read_u32(&elf, offset + 8)?, name));
    }
    names.sort();
    names.dedup_by_key(|(address, _, _)| *address);

    let entries: Vec<(u32, u32, &str)> =
        names.iter().map(|(address, size, name)| (*address, *size, name.as_str())).collect();
    let table = symbol_table::encode(&entries);
    let target = &sections[target_index];
    if table.len() > target.size as usize {
        return Err(format!(
            "{} functions need {} bytes but {SECTION_NAME} has {}: raise SYMBOL_TABLE_BYTES in asm/symbols.asm",
            entries.len(),
            table.len(),
            target.size
        ));
    }
    let destination = target.file_offset as usize;
    elf[destination..destination + table.len()].copy_from_slice(&table);
    elf[destination + table.len()..destination + target.size as usize].fill(0);
    std::fs::write(path, &elf).map_err(|error| error.to_string())?;
    Ok(format!("{} functions, {} of {} bytes", entries.len(), table.len(), target.size))
}
