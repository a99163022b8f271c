//! The Multiboot 1 information structure (Multiboot 1 §3.3), parsed and validated.
//!
//! The loader's structure points at more structures anywhere in memory. Every read goes
//! through `PhysicalMemory`, which refuses addresses that cannot be read safely, so a corrupt
//! structure yields warnings and fallbacks, never a fault. Host tests feed it random bytes.
#![forbid(unsafe_code)]

use core::fmt;

use super::memory_map::{FOUR_GIB, MemoryMapError, MemoryMapLayout, RawMemoryMap};
use crate::bytes::read_u32_le;
use crate::console::framebuffer::{ChannelField, ColorModel, FramebufferDescription};
use crate::small_sort::sort_small;

/// Read access to physical memory, refusing ranges that are not safely readable.
pub trait PhysicalMemory {
    fn read(&self, address: u64, length: usize) -> Option<&[u8]>;
}

/// The most regions, modules, reserved ranges and warnings kept; more are dropped with a
/// warning (a PC's memory map has a few dozen entries).
pub const MAXIMUM_REGIONS: usize = 32;
pub const MAXIMUM_MODULES: usize = 8;
pub const MAXIMUM_RESERVED: usize = 48;
pub const MAXIMUM_WARNINGS: usize = 8;
const MAXIMUM_STRING_BYTES: usize = 4096;
const MAXIMUM_MEMORY_MAP_BYTES: usize = 64 * 1024;
/// The structure up to the framebuffer's color_info, as GRUB lays it out (see `COLOR_INFO`).
const INFO_BYTES: usize = 120;
/// Where color_info starts. The specification's table puts it at byte 110, straight after
/// framebuffer_type; GRUB 2's multiboot.h declares it as a union holding a 32-bit palette
/// address, which C aligns to byte 112, and that is where GRUB writes it (seen under SeaBIOS
/// and OVMF: bytes 110-111 are zero padding).
const COLOR_INFO: usize = 112;
const ONE_MIB: u64 = 1 << 20;
/// With no usable memory information at all, assume this much above 1 MiB: any machine with
/// an SSE2 CPU has far more.
const FALLBACK_MEMORY_END: u64 = 8 * ONE_MIB;

// Multiboot 1 §3.3 flag bits.
const FLAG_MEMORY_SIZES: u32 = 1 << 0;
const FLAG_COMMAND_LINE: u32 = 1 << 2;
const FLAG_MODULES: u32 = 1 << 3;
const FLAG_AOUT_SYMBOLS: u32 = 1 << 4;
const FLAG_ELF_SECTIONS: u32 = 1 << 5;
const FLAG_MEMORY_MAP: u32 = 1 << 6;
const FLAG_LOADER_NAME: u32 = 1 << 9;
const FLAG_FRAMEBUFFER: u32 = 1 << 12;

/// A range of physical addresses, `start` inclusive, `end` exclusive, below 4 GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhysicalRange {
    pub start: u64,
    pub end: u64,
}

impl PhysicalRange {
    pub const fn new(start: u64, end: u64) -> PhysicalRange {
        PhysicalRange { start, end }
    }

    pub fn length(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn overlaps(&self, other: &PhysicalRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// A module the loader loaded with the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Module {
    pub range: PhysicalRange,
    pub name: &'static str,
}

/// The framebuffer the loader set up (Multiboot 1 §3.3, flag 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramebufferInfo {
    /// Physical address of the first pixel (of the first character cell in EGA text).
    pub address: u64,
    /// Bytes from one row to the next.
    pub pitch: u32,
    /// Pixels (characters in EGA text) per row and rows.
    pub width: u32,
    pub height: u32,
    pub bits_per_pixel: u8,
    /// How pixels encode color: framebuffer_type and the color_info that follows it.
    pub colors: FramebufferColors,
}

/// How a framebuffer's pixels encode color (Multiboot 1 §3.3, framebuffer_type 0, 1 or 2 and
/// the color_info bytes that follow it; see `COLOR_INFO` for where they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramebufferColors {
    /// Type 0: each pixel indexes a palette of `color_count` entries of three bytes (red, green,
    /// blue) at `palette_address`.
    Indexed { palette_address: u32, color_count: u16 },
    /// Type 1: each channel's bit position and width within the pixel, as given; whether they
    /// make sense for the depth is the console's to check (`FramebufferLayout::new`).
    DirectRgb { red: ChannelField, green: ChannelField, blue: ChannelField },
    /// Type 2: EGA text mode, two bytes per character cell.
    EgaText,
}

impl FramebufferColors {
    /// The console's view of the same color model.
    pub fn color_model(&self) -> ColorModel {
        match *self {
            FramebufferColors::Indexed { .. } => ColorModel::Indexed,
            FramebufferColors::DirectRgb { red, green, blue } => {
                ColorModel::DirectRgb { red, green, blue }
            }
            FramebufferColors::EgaText => ColorModel::EgaText,
        }
    }
}

impl FramebufferInfo {
    /// The framebuffer as the console's layout takes it.
    pub fn description(&self) -> FramebufferDescription {
        FramebufferDescription {
            width_pixels: self.width,
            height_pixels: self.height,
            pitch_bytes: self.pitch,
            bits_per_pixel: self.bits_per_pixel,
            color_model: self.colors.color_model(),
        }
    }

    /// The physical memory the framebuffer spans: pitch times height bytes.
    pub fn range(&self) -> PhysicalRange {
        let length = u64::from(self.pitch) * u64::from(self.height);
        PhysicalRange::new(self.address, self.address + length)
    }
}

/// The most RSDP bytes kept: the ACPI 2.0 structure (ACPI 6.5 §5.2.5.3).
pub const RSDP_COPY_BYTES: usize = 36;

/// A copy of ACPI's RSDP that the loader passed (Multiboot 2 tags 14 and 15): under UEFI the
/// RSDP is not in the BIOS area, so this is how the kernel finds ACPI there. Unvalidated:
/// discovery checks its checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsdpCopy {
    bytes: [u8; RSDP_COPY_BYTES],
    length: usize,
}

impl RsdpCopy {
    /// The first `RSDP_COPY_BYTES` of `bytes`.
    pub fn new(bytes: &[u8]) -> RsdpCopy {
        let length = bytes.len().min(RSDP_COPY_BYTES);
        let mut copy = [0; RSDP_COPY_BYTES];
        copy[..length].copy_from_slice(&bytes[..length]);
        RsdpCopy { bytes: copy, length }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

/// Where the kernel's ELF section headers are (flag 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfSections {
    pub count: u32,
    pub entry_size: u32,
    pub address: u32,
    pub string_table_index: u32,
}

/// Something wrong with the information, and what the kernel does instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootWarning {
    UnreadableField(&'static str),
    OutsideRam(&'static str),
    MemoryMap(MemoryMapError),
    TooManyRegions,
    NoMemoryInformation,
    CommandLineNotUtf8,
    BothSymbolKinds,
    BadElfSections,
    BadModule(u32),
    TooManyModules(u32),
    BadFramebuffer,
    /// A Multiboot 2 tag whose size is impossible; the tags after it are ignored.
    BadTag {
        offset: u32,
    },
}

impl fmt::Display for BootWarning {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootWarning::UnreadableField(field) => {
                write!(formatter, "{field} points at unreadable memory; ignored")
            }
            BootWarning::OutsideRam(field) => {
                write!(formatter, "{field} lies outside the RAM the memory map lists")
            }
            BootWarning::MemoryMap(error) => {
                write!(formatter, "{error}; the rest of the map is ignored")
            }
            BootWarning::TooManyRegions => write!(
                formatter,
                "more than {MAXIMUM_REGIONS} memory regions; the rest are ignored"
            ),
            BootWarning::NoMemoryInformation => write!(
                formatter,
                "no memory map or sizes; assuming RAM from 1 MiB to {} MiB",
                FALLBACK_MEMORY_END / ONE_MIB
            ),
            BootWarning::CommandLineNotUtf8 => {
                write!(formatter, "command line is not UTF-8; ignored")
            }
            BootWarning::BothSymbolKinds => {
                write!(formatter, "flags claim both a.out and ELF symbols; both ignored")
            }
            BootWarning::BadElfSections => {
                write!(formatter, "ELF section header table is malformed; ignored")
            }
            BootWarning::BadModule(index) => {
                write!(formatter, "module {index} has an impossible range; ignored")
            }
            BootWarning::TooManyModules(count) => {
                write!(
                    formatter,
                    "{count} modules listed; only the first {MAXIMUM_MODULES} are used"
                )
            }
            BootWarning::BadFramebuffer => {
                write!(formatter, "framebuffer description is impossible; ignored")
            }
            BootWarning::BadTag { offset } => write!(
                formatter,
                "Multiboot 2 tag at byte {offset} has an impossible size; the rest are ignored"
            ),
        }
    }
}

/// Everything the kernel takes from the loader, validated.
#[derive(Debug, Clone, Copy)]
pub struct BootInformation {
    pub command_line: &'static str,
    pub loader_name: Option<&'static str>,
    /// The memory map exactly as given, for display.
    pub raw_memory_map: Option<RawMemoryMap>,
    /// RAM the kernel may use: sorted, non-overlapping, below 4 GiB, reserved parts removed.
    pub available: [PhysicalRange; MAXIMUM_REGIONS],
    pub available_count: usize,
    /// Memory holding the loader's structures and modules, never to be handed out.
    pub reserved: [PhysicalRange; MAXIMUM_RESERVED],
    pub reserved_count: usize,
    pub modules: [Module; MAXIMUM_MODULES],
    pub module_count: usize,
    pub elf_sections: Option<ElfSections>,
    pub framebuffer: Option<FramebufferInfo>,
    /// ACPI's RSDP as the loader copied it (Multiboot 2 only; Multiboot 1 does not pass it).
    pub acpi_rsdp: Option<RsdpCopy>,
    pub warnings: [Option<BootWarning>; MAXIMUM_WARNINGS],
}

impl BootInformation {
    const EMPTY: BootInformation = BootInformation {
        command_line: "",
        loader_name: None,
        raw_memory_map: None,
        available: [PhysicalRange::new(0, 0); MAXIMUM_REGIONS],
        available_count: 0,
        reserved: [PhysicalRange::new(0, 0); MAXIMUM_RESERVED],
        reserved_count: 0,
        modules: [Module { range: PhysicalRange::new(0, 0), name: "" }; MAXIMUM_MODULES],
        module_count: 0,
        elf_sections: None,
        framebuffer: None,
        acpi_rsdp: None,
        warnings: [None; MAXIMUM_WARNINGS],
    };

    pub fn available(&self) -> &[PhysicalRange] {
        &self.available[..self.available_count]
    }

    pub fn reserved(&self) -> &[PhysicalRange] {
        &self.reserved[..self.reserved_count]
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules[..self.module_count]
    }

    pub fn warnings(&self) -> impl Iterator<Item = BootWarning> + '_ {
        self.warnings.iter().flatten().copied()
    }

    fn warn(&mut self, warning: BootWarning) {
        if let Some(slot) = self.warnings.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(warning);
        }
    }

    fn reserve(&mut self, range: PhysicalRange) {
        if range.length() > 0 && self.reserved_count < MAXIMUM_RESERVED {
            self.reserved[self.reserved_count] = range;
            self.reserved_count += 1;
        }
    }
}

/// A field of a loader structure; the structures are read whole, so a missing field only
/// happens for a module entry cut short, and reads as 0.
fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    read_u32_le(bytes, offset).unwrap_or(0)
}

/// The pointers of the information structure, read in two steps. The structure itself and the
/// memory map are read first, from anywhere the kernel's `PhysicalMemory` allows except the
/// legacy video and ROM area; every later pointer (strings, modules, ELF sections) must then
/// lie wholly in RAM as that map describes it, so nothing is ever read from device memory or
/// ROM however wrong the loader's pointers are.
struct LoaderMemory<'a, M: PhysicalMemory + 'static> {
    memory: &'static M,
    /// RAM as the memory map describes it; empty until the map is read.
    ram: &'a [PhysicalRange],
}

/// VGA memory and option ROMs live here on every PC; no loader structure does.
const LEGACY_VIDEO_AND_ROM: PhysicalRange = PhysicalRange::new(0xa0000, ONE_MIB);

impl<M: PhysicalMemory + 'static> LoaderMemory<'_, M> {
    fn read(&self, address: u64, length: usize) -> Option<&'static [u8]> {
        let range = PhysicalRange::new(address, address.checked_add(length as u64)?);
        let allowed = if self.ram.is_empty() {
            !range.overlaps(&LEGACY_VIDEO_AND_ROM)
        } else {
            self.ram.iter().any(|ram| ram.start <= range.start && range.end <= ram.end)
        };
        if allowed { self.memory.read(address, length) } else { None }
    }

    /// A NUL-terminated string at `address`, at most `MAXIMUM_STRING_BYTES`, with its range.
    fn read_c_string(&self, address: u32) -> Option<(&'static [u8], PhysicalRange)> {
        let mut length = 0;
        loop {
            if length == MAXIMUM_STRING_BYTES {
                break;
            }
            let byte = self.read(u64::from(address) + length as u64, 1)?[0];
            if byte == 0 {
                break;
            }
            length += 1;
        }
        let bytes = self.read(u64::from(address), length)?;
        let end = u64::from(address) + length as u64 + 1;
        Some((bytes, PhysicalRange::new(u64::from(address), end)))
    }
}

/// EAX holds this when a Multiboot-compliant loader hands over (Multiboot 1 §3.2).
pub const MULTIBOOT_LOADER_MAGIC: u32 = 0x2bad_b002;

/// EAX holds this when a Multiboot 2 loader hands over (Multiboot 2 §3.3).
pub const MULTIBOOT2_LOADER_MAGIC: u32 = 0x36d7_6289;

/// Why the kernel refuses to use the boot information at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongMagic(pub u32);

impl fmt::Display for WrongMagic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "boot magic is {:#010x}, expected {MULTIBOOT_LOADER_MAGIC:#010x} or \
             {MULTIBOOT2_LOADER_MAGIC:#010x}: not started by a Multiboot loader",
            self.0
        )
    }
}

/// Parses and validates the loader's information, if `magic` says a Multiboot loader started
/// the kernel.
pub fn read_boot_information(
    magic: u32,
    memory: &'static impl PhysicalMemory,
    info_address: u32,
) -> Result<BootInformation, WrongMagic> {
    match magic {
        MULTIBOOT_LOADER_MAGIC => Ok(parse_boot_information(memory, info_address)),
        MULTIBOOT2_LOADER_MAGIC => Ok(parse_multiboot2_information(memory, info_address)),
        _ => Err(WrongMagic(magic)),
    }
}

/// Parses the structure at `info_address`. Never fails: problems become warnings.
pub fn parse_boot_information(
    memory: &'static impl PhysicalMemory,
    info_address: u32,
) -> BootInformation {
    let mut information = BootInformation::EMPTY;
    let loader = LoaderMemory { memory, ram: &[] };
    let Some(info) = loader.read(u64::from(info_address), INFO_BYTES) else {
        information.warn(BootWarning::UnreadableField("the information structure"));
        fallback_memory(&mut information, None);
        return information;
    };
    let info_range =
        PhysicalRange::new(u64::from(info_address), u64::from(info_address) + INFO_BYTES as u64);
    information.reserve(info_range);
    let flags = read_u32(info, 0);

    // The memory map first: it says where RAM is, and so which later pointers may be read.
    let mut memory_map = None;
    if flags & FLAG_MEMORY_MAP != 0 {
        let length = (read_u32(info, 44) as usize).min(MAXIMUM_MEMORY_MAP_BYTES);
        let address = read_u32(info, 48);
        match loader.read(u64::from(address), length) {
            Some(bytes) => {
                information.reserve(PhysicalRange::new(
                    u64::from(address),
                    u64::from(address) + length as u64,
                ));
                memory_map = Some((bytes, u64::from(address)));
            }
            None => information.warn(BootWarning::UnreadableField("memory map")),
        }
    }
    let sizes = (flags & FLAG_MEMORY_SIZES != 0).then(|| (read_u32(info, 4), read_u32(info, 8)));
    match memory_map {
        Some((map, _)) => available_from_map(
            &mut information,
            RawMemoryMap { bytes: map, layout: MemoryMapLayout::Multiboot1 },
        ),
        None => fallback_memory(&mut information, sizes),
    }
    let ram = information.available;
    let loader = LoaderMemory { memory, ram: &ram[..information.available_count] };
    if loader.read(info_range.start, INFO_BYTES).is_none() {
        information.warn(BootWarning::OutsideRam("the information structure"));
    }
    if let Some((map, address)) = memory_map {
        match loader.read(address, map.len()) {
            Some(_) => {
                information.raw_memory_map =
                    Some(RawMemoryMap { bytes: map, layout: MemoryMapLayout::Multiboot1 })
            }
            None => information.warn(BootWarning::OutsideRam("memory map")),
        }
    }

    if flags & FLAG_COMMAND_LINE != 0 {
        match loader.read_c_string(read_u32(info, 16)) {
            Some((bytes, range)) => {
                information.reserve(range);
                match core::str::from_utf8(bytes) {
                    Ok(text) => information.command_line = text,
                    Err(_) => information.warn(BootWarning::CommandLineNotUtf8),
                }
            }
            None => information.warn(BootWarning::UnreadableField("command line")),
        }
    }
    if flags & FLAG_LOADER_NAME != 0 {
        match loader.read_c_string(read_u32(info, 64)) {
            Some((bytes, range)) => {
                information.reserve(range);
                information.loader_name = core::str::from_utf8(bytes).ok();
            }
            None => information.warn(BootWarning::UnreadableField("loader name")),
        }
    }
    if flags & FLAG_MODULES != 0 {
        parse_modules(&loader, &mut information, read_u32(info, 20), read_u32(info, 24));
    }
    if flags & FLAG_AOUT_SYMBOLS != 0 && flags & FLAG_ELF_SECTIONS != 0 {
        information.warn(BootWarning::BothSymbolKinds);
    } else if flags & FLAG_ELF_SECTIONS != 0 {
        let sections = ElfSections {
            count: read_u32(info, 28),
            entry_size: read_u32(info, 32),
            address: read_u32(info, 36),
            string_table_index: read_u32(info, 40),
        };
        let table_bytes = (sections.count as usize).checked_mul(sections.entry_size as usize);
        const ELF32_SECTION_HEADER_BYTES: u32 = 40;
        let readable =
            table_bytes.and_then(|bytes| loader.read(u64::from(sections.address), bytes)).is_some();
        if sections.entry_size == ELF32_SECTION_HEADER_BYTES
            && sections.string_table_index < sections.count
            && readable
        {
            let end = u64::from(sections.address)
                + u64::from(sections.count) * u64::from(sections.entry_size);
            information.reserve(PhysicalRange::new(u64::from(sections.address), end));
            information.elf_sections = Some(sections);
        } else {
            information.warn(BootWarning::BadElfSections);
        }
    }
    if flags & FLAG_FRAMEBUFFER != 0 {
        parse_framebuffer(&mut information, info);
    }
    information
}

/// The most bytes of Multiboot 2 information read: GRUB's, with a memory map, a framebuffer,
/// both RSDP copies and the ELF section headers, is a few KiB.
const MULTIBOOT2_MAXIMUM_BYTES: u32 = 64 * 1024;
/// Multiboot 2 §3.6 tag types.
const TAG_END: u32 = 0;
const TAG_COMMAND_LINE: u32 = 1;
const TAG_LOADER_NAME: u32 = 2;
const TAG_MODULE: u32 = 3;
const TAG_BASIC_MEMORY: u32 = 4;
const TAG_MEMORY_MAP: u32 = 6;
const TAG_FRAMEBUFFER: u32 = 8;
const TAG_ELF_SECTIONS: u32 = 9;
const TAG_ACPI_OLD_RSDP: u32 = 14;
const TAG_ACPI_NEW_RSDP: u32 = 15;
const TAG_HEADER_BYTES: usize = 8;

/// A tag's type and bytes (its 8-byte header included) within the information.
#[derive(Clone, Copy)]
struct Tag {
    kind: u32,
    bytes: &'static [u8],
}

/// The tags of Multiboot 2 information (after its 8-byte total_size/reserved header), each
/// walked by its own size and padded to 8 bytes, up to the end tag. A tag with an impossible
/// size ends the walk with `Err(offset)`. Nothing is allocated: this runs before the heap.
struct Multiboot2Tags {
    info: &'static [u8],
    offset: usize,
}

impl Iterator for Multiboot2Tags {
    type Item = Result<Tag, u32>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.offset;
        if offset + TAG_HEADER_BYTES > self.info.len() {
            return None;
        }
        let kind = read_u32(self.info, offset);
        let size = read_u32(self.info, offset + 4) as usize;
        if kind == TAG_END {
            self.offset = self.info.len();
            return None;
        }
        let end = offset.checked_add(size).filter(|&end| end <= self.info.len());
        let Some(end) = end.filter(|_| size >= TAG_HEADER_BYTES) else {
            self.offset = self.info.len();
            return Some(Err(offset as u32));
        };
        self.offset = end.next_multiple_of(8);
        Some(Ok(Tag { kind, bytes: &self.info[offset..end] }))
    }
}

fn multiboot2_tags(info: &'static [u8]) -> impl Iterator<Item = Tag> {
    Multiboot2Tags { info, offset: 8 }.filter_map(Result::ok)
}

/// A NUL-terminated string inside a tag, from byte `start`: up to the NUL or the tag's end.
fn tag_string(tag: &Tag, start: usize) -> &'static [u8] {
    let bytes = tag.bytes.get(start..).unwrap_or(&[]);
    let length = bytes.iter().position(|&byte| byte == 0).unwrap_or(bytes.len());
    &bytes[..length]
}

/// Parses Multiboot 2 information (Multiboot 2 §3.6) at `info_address` into the same
/// `BootInformation` as version 1, plus the RSDP copy. Never fails: problems become warnings.
pub fn parse_multiboot2_information(
    memory: &'static impl PhysicalMemory,
    info_address: u32,
) -> BootInformation {
    let mut information = BootInformation::EMPTY;
    let loader = LoaderMemory { memory, ram: &[] };
    let total = loader.read(u64::from(info_address), 8).map(|header| read_u32(header, 0));
    let info = total
        .filter(|&total| (8..=MULTIBOOT2_MAXIMUM_BYTES).contains(&total))
        .and_then(|total| loader.read(u64::from(info_address), total as usize));
    let Some(info) = info else {
        information.warn(BootWarning::UnreadableField("the information structure"));
        fallback_memory(&mut information, None);
        return information;
    };
    let info_range =
        PhysicalRange::new(u64::from(info_address), u64::from(info_address) + info.len() as u64);
    information.reserve(info_range);
    if let Some(Err(offset)) = (Multiboot2Tags { info, offset: 8 }).find(Result::is_err) {
        information.warn(BootWarning::BadTag { offset });
    }
    let find = |kind: u32| multiboot2_tags(info).find(|tag| tag.kind == kind);

    let memory_map = find(TAG_MEMORY_MAP).and_then(|tag| {
        let entry_bytes = read_u32(tag.bytes, 8);
        let map = RawMemoryMap {
            bytes: tag.bytes.get(16..)?,
            layout: MemoryMapLayout::Multiboot2 { entry_bytes },
        };
        Some(map)
    });
    let sizes = find(TAG_BASIC_MEMORY).map(|tag| (read_u32(tag.bytes, 8), read_u32(tag.bytes, 12)));
    match memory_map {
        Some(map) => {
            available_from_map(&mut information, map);
            information.raw_memory_map = Some(map);
        }
        None => fallback_memory(&mut information, sizes),
    }
    let ram = information.available;
    let loader = LoaderMemory { memory, ram: &ram[..information.available_count] };
    if loader.read(info_range.start, info.len()).is_none() {
        information.warn(BootWarning::OutsideRam("the information structure"));
    }
    if let Some(tag) = find(TAG_COMMAND_LINE) {
        match core::str::from_utf8(tag_string(&tag, 8)) {
            Ok(text) => information.command_line = text,
            Err(_) => information.warn(BootWarning::CommandLineNotUtf8),
        }
    }
    if let Some(tag) = find(TAG_LOADER_NAME) {
        information.loader_name = core::str::from_utf8(tag_string(&tag, 8)).ok();
    }
    let modules = multiboot2_tags(info).filter(|tag| tag.kind == TAG_MODULE);
    for (index, tag) in modules.enumerate() {
        if information.module_count == MAXIMUM_MODULES {
            information.warn(BootWarning::TooManyModules(index as u32 + 1));
            break;
        }
        let range = PhysicalRange::new(
            u64::from(read_u32(tag.bytes, 8)),
            u64::from(read_u32(tag.bytes, 12)),
        );
        if range.start >= range.end || loader.read(range.start, 1).is_none() {
            information.warn(BootWarning::BadModule(index as u32));
            continue;
        }
        information.reserve(range);
        let name = core::str::from_utf8(tag_string(&tag, 16)).unwrap_or("");
        information.modules[information.module_count] = Module { range, name };
        information.module_count += 1;
    }
    if let Some(tag) = find(TAG_ELF_SECTIONS) {
        // GRUB writes num, entsize and shndx as 32-bit words, then the headers (§3.6.11).
        const ELF32_SECTION_HEADER_BYTES: u32 = 40;
        const HEADERS_OFFSET: usize = 20;
        let sections = ElfSections {
            count: read_u32(tag.bytes, 8),
            entry_size: read_u32(tag.bytes, 12),
            address: info_address
                + (tag.bytes.as_ptr() as usize - info.as_ptr() as usize) as u32
                + HEADERS_OFFSET as u32,
            string_table_index: read_u32(tag.bytes, 16),
        };
        let table_bytes = u64::from(sections.count) * u64::from(sections.entry_size);
        if sections.entry_size == ELF32_SECTION_HEADER_BYTES
            && sections.string_table_index < sections.count
            && table_bytes <= (tag.bytes.len() - HEADERS_OFFSET.min(tag.bytes.len())) as u64
        {
            information.elf_sections = Some(sections);
        } else {
            information.warn(BootWarning::BadElfSections);
        }
    }
    if let Some(tag) = find(TAG_FRAMEBUFFER) {
        parse_multiboot2_framebuffer(&mut information, &tag, info_address, info);
    }
    // The newer copy (ACPI 2.0 and later, with the XSDT) first.
    let rsdp = find(TAG_ACPI_NEW_RSDP).or_else(|| find(TAG_ACPI_OLD_RSDP));
    information.acpi_rsdp = rsdp.map(|tag| RsdpCopy::new(&tag.bytes[TAG_HEADER_BYTES..]));
    information
}

/// The framebuffer tag (Multiboot 2 §3.6.12): the version 1 fields in another order, the
/// palette inline instead of behind a pointer.
fn parse_multiboot2_framebuffer(
    information: &mut BootInformation,
    tag: &Tag,
    info_address: u32,
    info: &[u8],
) {
    const COLOR_INFO_OFFSET: usize = 32;
    let Some(fields) = tag.bytes.get(..COLOR_INFO_OFFSET + 6) else {
        information.warn(BootWarning::BadFramebuffer);
        return;
    };
    // Lay the fields out as version 1 does (§3.3) and let its checks decide.
    let mut version1 = [0u8; INFO_BYTES];
    version1[88..96].copy_from_slice(&fields[8..16]);
    version1[96..108].copy_from_slice(&fields[16..28]);
    version1[108] = fields[28];
    version1[109] = fields[29];
    if fields[29] == 0 {
        // Indexed: a 16-bit color count, then the palette itself.
        let palette_offset = tag.bytes.as_ptr() as usize - info.as_ptr() as usize + 34;
        let palette_address = info_address + palette_offset as u32;
        version1[COLOR_INFO..COLOR_INFO + 4].copy_from_slice(&palette_address.to_le_bytes());
        version1[COLOR_INFO + 4..COLOR_INFO + 6].copy_from_slice(&fields[32..34]);
    } else {
        version1[COLOR_INFO..COLOR_INFO + 6].copy_from_slice(&fields[32..38]);
    }
    parse_framebuffer(information, &version1);
}

fn parse_modules<M: PhysicalMemory>(
    memory: &LoaderMemory<'_, M>,
    information: &mut BootInformation,
    count: u32,
    address: u32,
) {
    const MODULE_ENTRY_BYTES: usize = 16;
    if count as usize > MAXIMUM_MODULES {
        information.warn(BootWarning::TooManyModules(count));
    }
    let used = (count as usize).min(MAXIMUM_MODULES);
    let Some(table) = memory.read(u64::from(address), used * MODULE_ENTRY_BYTES) else {
        information.warn(BootWarning::UnreadableField("module table"));
        return;
    };
    information.reserve(PhysicalRange::new(
        u64::from(address),
        u64::from(address) + (used * MODULE_ENTRY_BYTES) as u64,
    ));
    for index in 0..used {
        let entry = &table[index * MODULE_ENTRY_BYTES..];
        let range =
            PhysicalRange::new(u64::from(read_u32(entry, 0)), u64::from(read_u32(entry, 4)));
        if range.start >= range.end || memory.read(range.start, 1).is_none() {
            information.warn(BootWarning::BadModule(index as u32));
            continue;
        }
        information.reserve(range);
        let name = memory.read_c_string(read_u32(entry, 8)).and_then(|(bytes, name_range)| {
            information.reserve(name_range);
            core::str::from_utf8(bytes).ok()
        });
        information.modules[information.module_count] = Module { range, name: name.unwrap_or("") };
        information.module_count += 1;
    }
}

fn parse_framebuffer(information: &mut BootInformation, info: &[u8]) {
    // Multiboot 1 §3.3: framebuffer_type at byte 109, then color_info (at `COLOR_INFO`).
    const PALETTE_MAXIMUM_COLORS: u16 = 256;
    let color_info = &info[COLOR_INFO..COLOR_INFO + 6];
    let colors = match info[109] {
        0 => FramebufferColors::Indexed {
            palette_address: read_u32(color_info, 0),
            color_count: u16::from_le_bytes([color_info[4], color_info[5]]),
        },
        1 => FramebufferColors::DirectRgb {
            red: ChannelField::new(color_info[0], color_info[1]),
            green: ChannelField::new(color_info[2], color_info[3]),
            blue: ChannelField::new(color_info[4], color_info[5]),
        },
        2 => FramebufferColors::EgaText,
        _ => {
            information.warn(BootWarning::BadFramebuffer);
            return;
        }
    };
    let address = u64::from(read_u32(info, 88)) | (u64::from(read_u32(info, 92)) << 32);
    let framebuffer = FramebufferInfo {
        address,
        pitch: read_u32(info, 96),
        width: read_u32(info, 100),
        height: read_u32(info, 104),
        bits_per_pixel: info[108],
        colors,
    };
    let row_bytes =
        u64::from(framebuffer.width) * u64::from(framebuffer.bits_per_pixel).div_ceil(8);
    let palette_fits = match colors {
        FramebufferColors::Indexed { color_count, .. } => {
            (1..=PALETTE_MAXIMUM_COLORS).contains(&color_count)
        }
        _ => true,
    };
    let plausible = framebuffer.width > 0
        && framebuffer.height > 0
        && matches!(framebuffer.bits_per_pixel, 8 | 15 | 16 | 24 | 32)
        && u64::from(framebuffer.pitch) >= row_bytes
        && address
            .checked_add(u64::from(framebuffer.pitch) * u64::from(framebuffer.height))
            .is_some_and(|end| end <= FOUR_GIB)
        && palette_fits;
    if !plausible {
        information.warn(BootWarning::BadFramebuffer);
        return;
    }
    if colors != FramebufferColors::EgaText {
        // Some machines carve the framebuffer out of RAM: its frames must never be handed out.
        information.reserve(framebuffer.range());
    }
    information.framebuffer = Some(framebuffer);
}

/// Available memory from the map: entries clipped to 4 GiB, then every byte that some entry
/// calls available and no entry calls anything else, in sorted, merged ranges.
fn available_from_map(information: &mut BootInformation, map: RawMemoryMap) {
    let mut entries = [(PhysicalRange::default(), false); MAXIMUM_REGIONS];
    let mut count = 0;
    for entry in map.entries() {
        let region = match entry {
            Ok(region) => region,
            Err(error) => {
                information.warn(BootWarning::MemoryMap(error));
                break;
            }
        };
        let range = PhysicalRange::new(region.base.min(FOUR_GIB), region.end().min(FOUR_GIB));
        if range.length() == 0 {
            continue;
        }
        if count == MAXIMUM_REGIONS {
            information.warn(BootWarning::TooManyRegions);
            break;
        }
        entries[count] = (range, region.is_available());
        count += 1;
    }
    let entries = &entries[..count];
    // Every range boundary, sorted: between two neighbours, coverage does not change.
    let mut boundaries = [0u64; MAXIMUM_REGIONS * 2];
    for (index, (range, _)) in entries.iter().enumerate() {
        boundaries[index * 2] = range.start;
        boundaries[index * 2 + 1] = range.end;
    }
    let boundaries = &mut boundaries[..count * 2];
    sort_small(boundaries);
    for pair in boundaries.windows(2) {
        let piece = PhysicalRange::new(pair[0], pair[1]);
        if piece.length() == 0 {
            continue;
        }
        let available = entries.iter().any(|(range, usable)| *usable && range.overlaps(&piece))
            && !entries.iter().any(|(range, usable)| !*usable && range.overlaps(&piece));
        if available {
            add_available(information, piece);
        }
    }
    if information.available_count == 0 {
        fallback_memory(information, None);
    }
}

fn add_available(information: &mut BootInformation, piece: PhysicalRange) {
    let count = information.available_count;
    if count > 0 && information.available[count - 1].end == piece.start {
        information.available[count - 1].end = piece.end;
    } else if count < MAXIMUM_REGIONS {
        information.available[count] = piece;
        information.available_count += 1;
    }
}

/// Without a usable map: the BIOS's lower/upper memory sizes, or a conservative guess.
fn fallback_memory(information: &mut BootInformation, sizes: Option<(u32, u32)>) {
    information.available_count = 0;
    match sizes {
        Some((lower_kib, upper_kib)) if upper_kib > 0 => {
            add_available(
                information,
                PhysicalRange::new(0, (u64::from(lower_kib) * 1024).min(0xa0000)),
            );
            let upper_end = (ONE_MIB + u64::from(upper_kib) * 1024).min(FOUR_GIB);
            add_available(information, PhysicalRange::new(ONE_MIB, upper_end));
        }
        _ => {
            information.warn(BootWarning::NoMemoryInformation);
            add_available(information, PhysicalRange::new(ONE_MIB, FALLBACK_MEMORY_END));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot::memory_map::tests::encode;
    use crate::console::framebuffer::{FramebufferError, FramebufferLayout};
    use std::boxed::Box;
    use std::vec::Vec;

    /// A fake physical memory: `bytes` at `base`; everything else unreadable.
    struct FakeMemory {
        base: u64,
        bytes: Vec<u8>,
    }

    impl PhysicalMemory for FakeMemory {
        fn read(&self, address: u64, length: usize) -> Option<&[u8]> {
            let start = address.checked_sub(self.base)? as usize;
            self.bytes.get(start..start.checked_add(length)?)
        }
    }

    const BASE: u64 = 0x10000;

    /// Builds memory with an info structure at BASE and extra data placed at given offsets.
    fn memory_with(info: &[(usize, u32)], extra: &[(usize, &[u8])]) -> &'static FakeMemory {
        let mut bytes = std::vec![0u8; 0x4000];
        for &(offset, value) in info {
            bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        }
        for &(offset, data) in extra {
            bytes[offset..offset + data.len()].copy_from_slice(data);
        }
        Box::leak(Box::new(FakeMemory { base: BASE, bytes }))
    }

    fn address(offset: usize) -> u32 {
        (BASE as usize + offset) as u32
    }

    #[test]
    fn a_well_formed_structure_gives_command_line_name_and_sorted_available_memory() {
        // Unsorted and overlapping: a reserved hole inside an available region.
        let map = encode(
            &[
                (0x100000, 0x7f00000, 1),
                (0, 0x9fc00, 1),
                (0x200000, 0x1000, 2),
                (0x1_0000_0000, 0x1000_0000, 1),
            ],
            20,
        );
        let memory = memory_with(
            &[
                (0, FLAG_COMMAND_LINE | FLAG_MEMORY_MAP | FLAG_LOADER_NAME),
                (16, address(0x200)),
                (44, map.len() as u32),
                (48, address(0x400)),
                (64, address(0x300)),
            ],
            &[(0x200, b"/boot/kernel.elf test\0"), (0x300, b"GRUB 2.06\0"), (0x400, &map)],
        );
        let information = parse_boot_information(memory, address(0));
        assert_eq!(information.command_line, "/boot/kernel.elf test");
        assert_eq!(information.loader_name, Some("GRUB 2.06"));
        assert_eq!(
            information.available(),
            [
                PhysicalRange::new(0, 0x9fc00),
                PhysicalRange::new(0x100000, 0x200000),
                PhysicalRange::new(0x201000, 0x8000000),
            ]
        );
        assert_eq!(information.warnings().count(), 0);
        // The structure, the strings and the map are reserved.
        assert!(
            information.reserved().iter().any(|range| range.start == BASE && range.length() == 120)
        );
        assert!(
            information.reserved().iter().any(|range| range.start == u64::from(address(0x400)))
        );
    }

    #[test]
    fn unreadable_pointers_become_warnings_and_the_sizes_are_the_fallback() {
        let memory = memory_with(
            &[
                (0, FLAG_MEMORY_SIZES | FLAG_COMMAND_LINE | FLAG_MEMORY_MAP),
                (4, 639),
                (8, 64 * 1024),
                (16, 0xdead_0000),
                (44, 240),
                (48, 0xdead_1000),
            ],
            &[],
        );
        let information = parse_boot_information(memory, address(0));
        let warnings: Vec<BootWarning> = information.warnings().collect();
        assert_eq!(
            warnings,
            [
                BootWarning::UnreadableField("memory map"),
                BootWarning::UnreadableField("command line")
            ]
        );
        assert_eq!(information.command_line, "");
        assert_eq!(
            information.available(),
            [
                PhysicalRange::new(0, 639 * 1024),
                PhysicalRange::new(ONE_MIB, ONE_MIB + 64 * 1024 * 1024)
            ]
        );
    }

    #[test]
    fn no_memory_information_at_all_falls_back_to_a_small_safe_guess() {
        let memory = memory_with(&[(0, 0)], &[]);
        let information = parse_boot_information(memory, address(0));
        assert_eq!(information.available(), [PhysicalRange::new(ONE_MIB, FALLBACK_MEMORY_END)]);
        assert_eq!(information.warnings().next(), Some(BootWarning::NoMemoryInformation));
        let nowhere = parse_boot_information(memory, 0x50);
        assert_eq!(
            nowhere.warnings().next(),
            Some(BootWarning::UnreadableField("the information structure"))
        );
    }

    #[test]
    fn pointers_outside_the_ram_the_map_lists_are_not_read() {
        // The map lists RAM only from 0x10000 to 0x11000; the command line lies past it and
        // the loader name in the legacy video area.
        let map = encode(&[(0x10000, 0x1000, 1)], 20);
        let memory = memory_with(
            &[
                (0, FLAG_COMMAND_LINE | FLAG_MEMORY_MAP | FLAG_LOADER_NAME),
                (16, address(0x2000)),
                (44, map.len() as u32),
                (48, address(0x400)),
                (64, 0xb8000),
            ],
            &[(0x2000, b"test\0"), (0x400, &map)],
        );
        let information = parse_boot_information(memory, address(0));
        assert_eq!(information.command_line, "");
        assert_eq!(information.loader_name, None);
        let warnings: Vec<BootWarning> = information.warnings().collect();
        assert_eq!(
            warnings,
            [
                BootWarning::UnreadableField("command line"),
                BootWarning::UnreadableField("loader name")
            ]
        );
    }

    #[test]
    fn a_wrong_magic_is_refused_before_anything_is_read() {
        let memory = memory_with(&[(0, FLAG_COMMAND_LINE)], &[]);
        let result = read_boot_information(0x1bad_b002, memory, address(0));
        assert_eq!(result.err(), Some(WrongMagic(0x1bad_b002)));
        assert!(read_boot_information(MULTIBOOT_LOADER_MAGIC, memory, address(0)).is_ok());
    }

    #[test]
    fn bad_modules_symbols_and_framebuffers_are_refused() {
        let memory = memory_with(
            &[
                (
                    0,
                    FLAG_MEMORY_SIZES
                        | FLAG_MODULES
                        | FLAG_AOUT_SYMBOLS
                        | FLAG_ELF_SECTIONS
                        | FLAG_FRAMEBUFFER,
                ),
                (4, 639),
                (8, 64 * 1024),
                (20, 2),
                (24, address(0x100)),
                (0x100, address(0x1000)),
                (0x104, address(0x2000)),
                (0x110, address(0x3000)),
                (0x114, address(0x2000)),
                (100, 0),
            ],
            &[],
        );
        let information = parse_boot_information(memory, address(0));
        assert_eq!(information.modules().len(), 1);
        assert_eq!(
            information.modules()[0].range,
            PhysicalRange::new(u64::from(address(0x1000)), u64::from(address(0x2000)))
        );
        let warnings: Vec<BootWarning> = information.warnings().collect();
        assert!(warnings.contains(&BootWarning::BadModule(1)));
        assert!(warnings.contains(&BootWarning::BothSymbolKinds));
        assert!(warnings.contains(&BootWarning::BadFramebuffer));
        assert!(information.framebuffer.is_none() && information.elf_sections.is_none());
    }

    /// An information structure with only a framebuffer: the address, pitch, width and height
    /// fields, then depth, type and the six bytes of color_info, as given (at bytes 108, 109
    /// and 112 to 117, where GRUB writes them).
    fn framebuffer_information(
        framebuffer_address: u32,
        pitch: u32,
        width: u32,
        height: u32,
        tail: [u8; 8],
    ) -> BootInformation {
        let memory = memory_with(
            &[
                (0, FLAG_MEMORY_SIZES | FLAG_FRAMEBUFFER),
                (4, 639),
                (8, 64 * 1024),
                (88, framebuffer_address),
                (96, pitch),
                (100, width),
                (104, height),
            ],
            &[(108, &tail[..2]), (COLOR_INFO, &tail[2..])],
        );
        parse_boot_information(memory, address(0))
    }

    #[test]
    fn a_direct_color_framebuffer_gives_its_channel_fields_and_is_reserved() {
        // What QEMU's VGA and OVMF's GOP hand over: 32 bits, blue in the low byte.
        let information =
            framebuffer_information(0xfd00_0000, 4096, 1024, 768, [32, 1, 16, 8, 8, 8, 0, 8]);
        let framebuffer = information.framebuffer.expect("framebuffer");
        assert_eq!(
            framebuffer,
            FramebufferInfo {
                address: 0xfd00_0000,
                pitch: 4096,
                width: 1024,
                height: 768,
                bits_per_pixel: 32,
                colors: FramebufferColors::DirectRgb {
                    red: ChannelField::new(16, 8),
                    green: ChannelField::new(8, 8),
                    blue: ChannelField::new(0, 8),
                },
            }
        );
        assert_eq!(information.warnings().count(), 0);
        let range = PhysicalRange::new(0xfd00_0000, 0xfd00_0000 + 4096 * 768);
        assert!(information.reserved().contains(&range));
        let layout = FramebufferLayout::new(framebuffer.description()).unwrap();
        assert_eq!((layout.columns(), layout.rows()), (128, 48));
        // 24 bits with red in the low byte: a layout too.
        let information =
            framebuffer_information(0xe000_0000, 2400, 800, 600, [24, 1, 0, 8, 8, 8, 16, 8]);
        let layout = FramebufferLayout::new(information.framebuffer.unwrap().description());
        assert_eq!(layout.map(|layout| (layout.columns(), layout.rows())), Ok((100, 37)));
    }

    #[test]
    fn an_indexed_framebuffer_gives_its_palette_and_the_console_refuses_it() {
        let palette = 0x0009_0000u32.to_le_bytes();
        let tail = [8, 0, palette[0], palette[1], palette[2], palette[3], 0, 1];
        let information = framebuffer_information(0xa0000, 320, 320, 200, tail);
        let framebuffer = information.framebuffer.expect("framebuffer");
        assert_eq!(
            framebuffer.colors,
            FramebufferColors::Indexed { palette_address: 0x9_0000, color_count: 256 }
        );
        assert_eq!(
            FramebufferLayout::new(framebuffer.description()),
            Err(FramebufferError::IndexedColor)
        );
        // EGA text: parsed, and the console keeps to VGA text.
        let information = framebuffer_information(0xb8000, 160, 80, 25, [16, 2, 0, 0, 0, 0, 0, 0]);
        let framebuffer = information.framebuffer.expect("text framebuffer");
        assert_eq!(framebuffer.colors, FramebufferColors::EgaText);
        assert!(!information.reserved().contains(&framebuffer.range()));
        assert_eq!(
            FramebufferLayout::new(framebuffer.description()),
            Err(FramebufferError::EgaText)
        );
    }

    #[test]
    fn malformed_framebuffers_are_refused_by_the_parser_or_the_console() {
        let direct = |depth: u8, fields: [u8; 6]| {
            let [a, b, c, d, e, f] = fields;
            [depth, 1, a, b, c, d, e, f]
        };
        // Refused while parsing: an unknown type, a palette of 0 or 300 colors, an odd depth,
        // a pitch shorter than a row, a framebuffer running past 4 GiB, no pixels at all.
        let refused = [
            framebuffer_information(0xfd00_0000, 4096, 1024, 768, [32, 3, 0, 0, 0, 0, 0, 0]),
            framebuffer_information(0xa0000, 320, 320, 200, [8, 0, 0, 0, 9, 0, 0, 0]),
            framebuffer_information(0xa0000, 320, 320, 200, [8, 0, 0, 0, 9, 0, 0x2c, 1]),
            framebuffer_information(0xfd00_0000, 4096, 1024, 768, direct(7, [16, 8, 8, 8, 0, 8])),
            framebuffer_information(0xfd00_0000, 4000, 1024, 768, direct(32, [16, 8, 8, 8, 0, 8])),
            framebuffer_information(0xffff_0000, 4096, 1024, 768, direct(32, [16, 8, 8, 8, 0, 8])),
            framebuffer_information(0xfd00_0000, 4096, 0, 768, direct(32, [16, 8, 8, 8, 0, 8])),
        ];
        for (index, information) in refused.iter().enumerate() {
            assert_eq!(information.framebuffer, None, "case {index}");
            let warnings: Vec<BootWarning> = information.warnings().collect();
            assert_eq!(warnings, [BootWarning::BadFramebuffer], "case {index}");
        }
        // Parsed as given, refused by the console with a reason: channels outside the pixel,
        // overlapping, of zero width.
        let cases = [
            (direct(32, [200, 8, 8, 8, 0, 8]), "the red channel (bits 200..208)"),
            (direct(16, [11, 5, 5, 6, 4, 5]), "two color channels share bits"),
            (direct(32, [16, 8, 8, 0, 0, 8]), "the green channel is 0 bits wide"),
        ];
        for (tail, reason) in cases {
            let information = framebuffer_information(0xfd00_0000, 4096, 1024, 768, tail);
            let framebuffer = information.framebuffer.expect("parsed");
            let error = FramebufferLayout::new(framebuffer.description()).unwrap_err();
            let message = std::format!("{error}");
            assert!(message.starts_with(reason), "{message}");
        }
    }

    /// Multiboot 2 information: the 8-byte header, then each (type, payload) as a tag padded
    /// to 8 bytes, then the end tag.
    fn multiboot2(tags: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut bytes = std::vec![0u8; 8];
        for (kind, payload) in tags {
            bytes.extend_from_slice(&kind.to_le_bytes());
            bytes.extend_from_slice(&(8 + payload.len() as u32).to_le_bytes());
            bytes.extend_from_slice(payload);
            while !bytes.len().is_multiple_of(8) {
                bytes.push(0);
            }
        }
        bytes.extend_from_slice(&[0, 0, 0, 0, 8, 0, 0, 0]);
        let total = bytes.len() as u32;
        bytes[..4].copy_from_slice(&total.to_le_bytes());
        bytes
    }

    fn memory_holding(info: &[u8]) -> &'static FakeMemory {
        let mut bytes = std::vec![0u8; 0x4000];
        bytes[..info.len()].copy_from_slice(info);
        Box::leak(Box::new(FakeMemory { base: BASE, bytes }))
    }

    fn grub_like_tags() -> Vec<(u32, Vec<u8>)> {
        let map = crate::boot::memory_map::tests::encode_multiboot2(
            &[(0, 0x9fc00, 1), (0x100000, 0x7ee0000, 1), (0x7fe0000, 0x20000, 3)],
            24,
        );
        let mut map_tag = std::vec![];
        map_tag.extend_from_slice(&24u32.to_le_bytes());
        map_tag.extend_from_slice(&0u32.to_le_bytes());
        map_tag.extend_from_slice(&map);
        let mut framebuffer = std::vec![];
        framebuffer.extend_from_slice(&0xfd00_0000u64.to_le_bytes());
        for value in [4096u32, 1024, 768] {
            framebuffer.extend_from_slice(&value.to_le_bytes());
        }
        framebuffer.extend_from_slice(&[32, 1, 0, 0, 16, 8, 8, 8, 0, 8, 0, 0]);
        let mut module = std::vec![];
        module.extend_from_slice(&address(0x2000).to_le_bytes());
        module.extend_from_slice(&address(0x3000).to_le_bytes());
        module.extend_from_slice(b"initrd\0");
        let mut rsdp = crate::arch::x86::acpi::tests::rsdp(2, 0x7fe_1000, 0x7fe_2000);
        rsdp.truncate(36);
        std::vec![
            (1, b"/boot/kernel.elf nodemo\0".to_vec()),
            (2, b"GRUB 2.06\0".to_vec()),
            (4, [639u32, 130_000].iter().flat_map(|value| value.to_le_bytes()).collect()),
            (6, map_tag),
            (3, module),
            (8, framebuffer),
            (14, crate::arch::x86::acpi::tests::rsdp(0, 0x7fe_1000, 0)),
            (15, rsdp),
        ]
    }

    #[test]
    fn multiboot2_information_fills_the_same_fields_and_keeps_the_rsdp() {
        let info = multiboot2(&grub_like_tags());
        let memory = memory_holding(&info);
        let information =
            read_boot_information(MULTIBOOT2_LOADER_MAGIC, memory, address(0)).unwrap();
        assert_eq!(information.warnings().collect::<Vec<_>>(), []);
        assert_eq!(information.command_line, "/boot/kernel.elf nodemo");
        assert_eq!(information.loader_name, Some("GRUB 2.06"));
        assert_eq!(
            information.available(),
            [PhysicalRange::new(0, 0x9fc00), PhysicalRange::new(0x100000, 0x7fe0000)]
        );
        assert_eq!(information.raw_memory_map.unwrap().entries().count(), 3);
        assert_eq!(information.modules().len(), 1);
        assert_eq!(information.modules()[0].name, "initrd");
        assert_eq!(
            information.modules()[0].range,
            PhysicalRange::new(u64::from(address(0x2000)), u64::from(address(0x3000)))
        );
        let framebuffer = information.framebuffer.expect("framebuffer");
        assert_eq!(
            (framebuffer.address, framebuffer.width, framebuffer.pitch),
            (0xfd00_0000, 1024, 4096)
        );
        assert_eq!(
            framebuffer.colors,
            FramebufferColors::DirectRgb {
                red: ChannelField::new(16, 8),
                green: ChannelField::new(8, 8),
                blue: ChannelField::new(0, 8),
            }
        );
        // The ACPI 2.0 copy is preferred over the 1.0 one, and it parses.
        let rsdp = information.acpi_rsdp.expect("RSDP copy");
        let parsed = crate::arch::x86::acpi::parse_rsdp(rsdp.bytes()).unwrap();
        assert_eq!((parsed.revision, parsed.xsdt_address), (2, 0x7fe_2000));
        assert!(information.reserved().iter().any(|range| range.start == BASE));
        // Multiboot 1 information never carries one.
        let version1 = memory_with(&[(0, FLAG_MEMORY_SIZES), (4, 639), (8, 1024)], &[]);
        assert_eq!(parse_boot_information(version1, address(0)).acpi_rsdp, None);
    }

    #[test]
    fn malformed_multiboot2_tags_become_warnings() {
        // A tag whose size runs past the end: the tags before it are kept.
        let mut info = multiboot2(&grub_like_tags()[..2]);
        let end_tag = info.len() - 8;
        info[end_tag..end_tag + 8].copy_from_slice(&[6, 0, 0, 0, 0xff, 0xff, 0, 0]);
        let information = parse_multiboot2_information(memory_holding(&info), address(0));
        assert_eq!(information.command_line, "/boot/kernel.elf nodemo");
        assert_eq!(
            information.warnings().collect::<Vec<_>>(),
            [
                BootWarning::BadTag { offset: end_tag as u32 },
                BootWarning::NoMemoryInformation,
                BootWarning::OutsideRam("the information structure")
            ]
        );
        // A tag smaller than its own header.
        let mut info = multiboot2(&grub_like_tags()[..1]);
        info[12..16].copy_from_slice(&4u32.to_le_bytes());
        let information = parse_multiboot2_information(memory_holding(&info), address(0));
        assert_eq!(information.warnings().next(), Some(BootWarning::BadTag { offset: 8 }));
        assert_eq!(information.command_line, "");
        // A total size beyond any real structure, or below its own header.
        for total in [u32::MAX, 0x10_0000, 4] {
            let mut info = multiboot2(&grub_like_tags());
            info[..4].copy_from_slice(&total.to_le_bytes());
            let information = parse_multiboot2_information(memory_holding(&info), address(0));
            assert_eq!(
                information.warnings().next(),
                Some(BootWarning::UnreadableField("the information structure"))
            );
        }
        // An RSDP tag too short for an RSDP: kept as given, refused by discovery.
        let info = multiboot2(&[(14, std::vec![b'R'; 5])]);
        let information = parse_multiboot2_information(memory_holding(&info), address(0));
        let copy = information.acpi_rsdp.unwrap();
        assert_eq!(copy.bytes().len(), 5);
        assert!(crate::arch::x86::acpi::parse_rsdp(copy.bytes()).is_err());
        // A framebuffer tag cut short, a memory map with entries too small for their fields.
        let info = multiboot2(&[(8, std::vec![0; 12]), (6, std::vec![8, 0, 0, 0, 0, 0, 0, 0, 1])]);
        let information = parse_multiboot2_information(memory_holding(&info), address(0));
        let warnings: Vec<BootWarning> = information.warnings().collect();
        assert!(warnings.contains(&BootWarning::BadFramebuffer), "{warnings:?}");
        assert!(
            warnings.contains(&BootWarning::MemoryMap(MemoryMapError::EntryTooSmall {
                offset: 0,
                size: 8
            })),
            "{warnings:?}"
        );
    }

    #[test]
    fn random_multiboot2_bytes_never_panic() {
        let mut random = crate::testing::random::Xorshift64::new(0x3dd7_6289);
        let good = multiboot2(&grub_like_tags());
        for round in 0..3000 {
            let mut info = good.clone();
            for _ in 0..6 {
                let index = (random.next_u64() as usize) % info.len();
                info[index] = random.next_u64() as u8;
            }
            let information = parse_multiboot2_information(memory_holding(&info), address(0));
            assert!(!information.available().is_empty(), "round {round}");
            for module in information.modules() {
                assert!(module.range.start < module.range.end, "round {round}");
            }
        }
    }

    #[test]
    fn random_bytes_never_panic_and_never_yield_impossible_results() {
        let mut random = crate::testing::random::Xorshift64::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move || random.next_u64();
        for round in 0..3000 {
            let mut bytes: Vec<u8> = (0..0x2000).map(|_| next() as u8).collect();
            // Steer some pointers into the fake memory so deeper structures get parsed too.
            for offset in [16usize, 24, 36, 48, 64] {
                if next() % 2 == 0 {
                    let pointer = address((next() % 0x1f00) as usize).to_le_bytes();
                    bytes[offset..offset + 4].copy_from_slice(&pointer);
                }
            }
            if round % 3 == 0 {
                bytes[44..48].copy_from_slice(&((next() % 600) as u32).to_le_bytes());
            }
            let memory: &'static FakeMemory = Box::leak(Box::new(FakeMemory { base: BASE, bytes }));
            let information = parse_boot_information(memory, address((next() % 0x40) as usize));
            let available = information.available();
            assert!(!available.is_empty(), "round {round}: no memory at all");
            for pair in available.windows(2) {
                assert!(
                    pair[0].end < pair[1].start,
                    "round {round}: unsorted or touching {pair:?}"
                );
            }
            for range in available {
                assert!(
                    range.start < range.end && range.end <= FOUR_GIB,
                    "round {round}: {range:?}"
                );
            }
            for module in information.modules() {
                assert!(module.range.start < module.range.end);
            }
        }
    }
}
