//! The kernel's function-name table, made at build time so backtraces can name functions
//! without any loader's help.
//!
//! `embed-symbols FIRST.elf TABLE.bin` reads the ELF32 symbol table of the first link, keeps
//! functions in `.text` (and the boot stub's labels), demangles Rust names and writes them in
//! the format of src/diagnostics/symbol_table.rs. The Makefile then links again with the table.
//! `embed-symbols --check FINAL.elf TABLE.bin` confirms the second link moved no function and
//! carries exactly that table in `.kernel_symbols`.

use std::process::ExitCode;

use ferrite::bytes::{read_u16_le, read_u32_le};
use ferrite::diagnostics::symbol_table;

const SECTION_NAME: &str = ".kernel_symbols";
const SYMBOL_TYPE_NOTYPE: u8 = 0;
const SYMBOL_TYPE_FUNCTION: u8 = 2;
/// Assembly labels that are not functions of their own: the 256 interrupt stubs are listed in
/// a table, and names with a dot are NASM's local labels.
const SKIPPED_LABEL_PREFIX: &str = "interrupt_stub_";

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let result = match arguments.as_slice() {
        [first_link, table] => write_table(first_link, table),
        [flag, final_link, table] if flag == "--check" => check_table(final_link, table),
        _ => Err(
            "usage: embed-symbols FIRST.elf TABLE.bin | embed-symbols --check FINAL.elf TABLE.bin"
                .into(),
        ),
    };
    match result {
        Ok(summary) => {
            println!("embed-symbols: {summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("embed-symbols: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write_table(elf_path: &str, table_path: &str) -> Result<String, String> {
    let elf = std::fs::read(elf_path).map_err(|error| format!("{elf_path}: {error}"))?;
    let (table, count) =
        function_table(&elf).map_err(|message| format!("{elf_path}: {message}"))?;
    std::fs::write(table_path, &table).map_err(|error| format!("{table_path}: {error}"))?;
    Ok(format!("{count} functions, {} bytes", table.len()))
}

fn check_table(elf_path: &str, table_path: &str) -> Result<String, String> {
    let elf = std::fs::read(elf_path).map_err(|error| format!("{elf_path}: {error}"))?;
    let expected = std::fs::read(table_path).map_err(|error| format!("{table_path}: {error}"))?;
    let (table, count) =
        function_table(&elf).map_err(|message| format!("{elf_path}: {message}"))?;
    if table != expected {
        return Err(format!(
            "{elf_path}: functions moved between the two links; the table would be wrong"
        ));
    }
    let embedded =
        section_bytes(&elf, SECTION_NAME).map_err(|message| format!("{elf_path}: {message}"))?;
    if embedded != expected.as_slice() {
        return Err(format!("{elf_path}: {SECTION_NAME} does not hold the table"));
    }
    Ok(format!("{count} function names embedded, checked"))
}

struct Section {
    name_offset: u32,
    kind: u32,
    file_offset: u32,
    size: u32,
    link: u32,
}

fn read_u16(bytes: &[u8], offset: usize) -> Result<u16, String> {
    read_u16_le(bytes, offset).ok_or_else(|| "file is truncated".to_string())
}

fn read_u32(bytes: &[u8], offset: usize) -> Result<u32, String> {
    read_u32_le(bytes, offset).ok_or_else(|| "file is truncated".to_string())
}

fn c_string(bytes: &[u8], offset: usize) -> Result<&str, String> {
    let tail = bytes.get(offset..).ok_or("string offset out of range")?;
    let end = tail.iter().position(|&byte| byte == 0).ok_or("unterminated string")?;
    std::str::from_utf8(&tail[..end]).map_err(|_| "string is not UTF-8".to_string())
}

/// The sections of an ELF32 little-endian file, and the file offset of its section names.
fn sections(elf: &[u8]) -> Result<(Vec<Section>, usize), String> {
    // ELF header (System V ABI, ELF32): class 1 = 32-bit, data 1 = little-endian.
    if elf.get(..6) != Some(b"\x7fELF\x01\x01") {
        return Err("not a little-endian ELF32 file".into());
    }
    let section_table = read_u32(elf, 32)? as usize;
    let section_entry_size = read_u16(elf, 46)? as usize;
    let section_count = read_u16(elf, 48)? as usize;
    let names_index = read_u16(elf, 50)? as usize;
    let sections: Vec<Section> = (0..section_count)
        .map(|index| {
            let base = section_table + index * section_entry_size;
            Ok(Section {
                name_offset: read_u32(elf, base)?,
                kind: read_u32(elf, base + 4)?,
                file_offset: read_u32(elf, base + 16)?,
                size: read_u32(elf, base + 20)?,
                link: read_u32(elf, base + 24)?,
            })
        })
        .collect::<Result<_, String>>()?;
    let names = sections.get(names_index).ok_or("no section name table")?.file_offset as usize;
    Ok((sections, names))
}

/// The index of the section called `wanted`.
fn find_section(
    elf: &[u8],
    sections: &[Section],
    names: usize,
    wanted: &str,
) -> Result<usize, String> {
    for (index, section) in sections.iter().enumerate() {
        if c_string(elf, names + section.name_offset as usize)? == wanted {
            return Ok(index);
        }
    }
    Err(format!("no {wanted} section"))
}

/// The file contents of the section called `wanted`.
fn section_bytes<'a>(elf: &'a [u8], wanted: &str) -> Result<&'a [u8], String> {
    let (sections, names) = sections(elf)?;
    let section = &sections[find_section(elf, &sections, names, wanted)?];
    let start = section.file_offset as usize;
    elf.get(start..start + section.size as usize)
        .ok_or_else(|| format!("{wanted} lies outside the file"))
}

/// The encoded function-name table of `elf`, and how many functions it names.
fn function_table(elf: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let (sections, names) = sections(elf)?;
    let text_index = find_section(elf, &sections, names, ".text")?;
    const SECTION_TYPE_SYMBOL_TABLE: u32 = 2;
    let symbol_table = sections
        .iter()
        .find(|section| section.kind == SECTION_TYPE_SYMBOL_TABLE)
        .ok_or("no symbol table (was the kernel stripped?)")?;
    let string_table = sections.get(symbol_table.link as usize).ok_or("bad symbol string table")?;

    // Each ELF32 symbol: name, value, size (u32 each), info, other (u8), section index (u16).
    const SYMBOL_BYTES: usize = 16;
    let mut functions: Vec<(u32, u32, String)> = Vec::new();
    let start = symbol_table.file_offset as usize;
    for offset in (start..start + symbol_table.size as usize).step_by(SYMBOL_BYTES) {
        let symbol_type = elf.get(offset + 12).ok_or("truncated symbol")? & 0xf;
        let section = read_u16(elf, offset + 14)? as usize;
        if section != text_index
            || !matches!(symbol_type, SYMBOL_TYPE_FUNCTION | SYMBOL_TYPE_NOTYPE)
        {
            continue;
        }
        let raw_name =
            c_string(elf, string_table.file_offset as usize + read_u32(elf, offset)? as usize)?;
        let rust_name = raw_name.starts_with("_R") || raw_name.starts_with("_ZN");
        // Thin LTO gives local Rust functions a `.llvm.<hash>` suffix; in an assembly label a
        // dot marks a NASM local label, which is part of the function before it.
        let raw_name =
            if rust_name { raw_name.split(".llvm.").next().unwrap_or(raw_name) } else { raw_name };
        if raw_name.is_empty()
            || (!rust_name && raw_name.contains('.'))
            || raw_name.starts_with(SKIPPED_LABEL_PREFIX)
        {
            continue;
        }
        let name = symbol_table::shorten_name(&format!("{:#}", rustc_demangle::demangle(raw_name)));
        functions.push((read_u32(elf, offset + 4)?, read_u32(elf, offset + 8)?, name));
    }
    functions.sort();
    functions.dedup_by_key(|(address, _, _)| *address);
    let entries: Vec<(u32, u32, &str)> =
        functions.iter().map(|(address, size, name)| (*address, *size, name.as_str())).collect();
    Ok((symbol_table::encode(&entries), entries.len()))
}
