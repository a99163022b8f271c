//! ACPI's tables as far as processors and interrupt controllers go: the RSDP, the RSDT or XSDT
//! it points at, and the MADT (ACPI 6.5 §5.2.5, §5.2.7, §5.2.8, §5.2.12). No AML.
//!
//! Every table is read through `FirmwareMemory`, its length bounded and its checksum checked
//! before any field is trusted; a malformed table is an `AcpiError`, never a panic.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::fmt;

use super::bios_area::{BiosArea, scan_paragraphs};
use super::platform::{
    FirmwareMemory, InterruptOverride, IoApicDescription, LocalApicNmi, NmiTarget, Platform,
    PlatformSource, Polarity, Processor, Trigger,
};
use super::table_bytes;

/// "RSD PTR " (ACPI 6.5 §5.2.5.3).
const RSDP_SIGNATURE: &[u8; 8] = b"RSD PTR ";
/// The ACPI 1.0 part of the RSDP, which its first checksum covers.
pub const RSDP_VERSION_1_BYTES: usize = 20;
/// The whole ACPI 2.0 RSDP, which the extended checksum covers.
pub const RSDP_VERSION_2_BYTES: usize = 36;
/// Every system description table starts with this header (ACPI 6.5 §5.2.6).
const TABLE_HEADER_BYTES: usize = 36;
/// No MADT, RSDT or XSDT comes near this; a larger length field is corrupt.
const MAXIMUM_TABLE_BYTES: u32 = 64 * 1024;
/// The MADT's local interrupt controller address and flags follow the header (§5.2.12).
const MADT_ENTRIES_OFFSET: usize = 44;
/// MADT flags bit 0, PCAT_COMPAT: the machine also has the dual 8259 PICs (Table 5.20).
const MADT_PCAT_COMPATIBLE: u32 = 1 << 0;
/// Local APIC flags (Table 5.23): bit 0 Enabled, bit 1 Online Capable.
const PROCESSOR_ENABLED: u32 = 1 << 0;
const PROCESSOR_ONLINE_CAPABLE: u32 = 1 << 1;
/// Local APIC NMI entries name processor UID 0xFF for every processor (Table 5.31).
const ALL_PROCESSORS_UID: u8 = 0xff;

/// MADT interrupt controller structure types (ACPI 6.5 Table 5.21).
const ENTRY_LOCAL_APIC: u8 = 0;
const ENTRY_IO_APIC: u8 = 1;
const ENTRY_INTERRUPT_SOURCE_OVERRIDE: u8 = 2;
const ENTRY_LOCAL_APIC_NMI: u8 = 4;
const ENTRY_LOCAL_APIC_ADDRESS_OVERRIDE: u8 = 5;
const ENTRY_LOCAL_X2APIC: u8 = 9;

/// What went wrong while reading the ACPI tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcpiError {
    /// No RSDP in the EBDA's first KiB or 0xE0000-0xFFFFF, and none from the loader.
    NoRsdp,
    /// The RSDP's signature or one of its checksums is wrong.
    BadRsdp,
    /// A table's header or body lies where the kernel cannot read.
    Unreadable { signature: [u8; 4], address: u64 },
    /// A table's length field is smaller than its header or absurdly large.
    BadLength { signature: [u8; 4], length: u32 },
    /// A table's bytes do not sum to zero.
    BadChecksum { signature: [u8; 4] },
    /// The table at this address is not the one its pointer promised.
    WrongSignature { expected: [u8; 4], found: [u8; 4] },
    /// The RSDT or XSDT lists no MADT.
    NoMadt,
    /// A MADT entry runs past the table or is shorter than its type needs.
    BadMadtEntry { offset: usize, entry_type: u8 },
    /// The MADT lists no usable processor with an 8-bit APIC ID.
    NoProcessors,
}

/// A table signature for messages: its four bytes as text where printable.
struct Signature([u8; 4]);

impl fmt::Display for Signature {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &byte in &self.0 {
            let character = if byte.is_ascii_graphic() { byte as char } else { '?' };
            write!(formatter, "{character}")?;
        }
        Ok(())
    }
}

impl fmt::Display for AcpiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AcpiError::NoRsdp => write!(formatter, "no ACPI RSDP found"),
            AcpiError::BadRsdp => write!(formatter, "the ACPI RSDP has a bad checksum"),
            AcpiError::Unreadable { signature, address } => write!(
                formatter,
                "the ACPI {} table at {address:#x} lies outside readable memory",
                Signature(signature)
            ),
            AcpiError::BadLength { signature, length } => write!(
                formatter,
                "the ACPI {} table claims an impossible length of {length} bytes",
                Signature(signature)
            ),
            AcpiError::BadChecksum { signature } => {
                write!(formatter, "the ACPI {} table has a bad checksum", Signature(signature))
            }
            AcpiError::WrongSignature { expected, found } => write!(
                formatter,
                "expected the ACPI {} table, found {}",
                Signature(expected),
                Signature(found)
            ),
            AcpiError::NoMadt => write!(formatter, "the ACPI tables have no MADT"),
            AcpiError::BadMadtEntry { offset, entry_type } => write!(
                formatter,
                "the MADT entry of type {entry_type} at byte {offset} is malformed"
            ),
            AcpiError::NoProcessors => write!(formatter, "the MADT lists no usable processor"),
        }
    }
}

/// A validated RSDP: its revision and where the root table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rsdp {
    /// 0 for ACPI 1.0; 2 for every later version.
    pub revision: u8,
    pub rsdt_address: u32,
    /// The XSDT's address, with revision 2 or later (0 if the firmware gives none).
    pub xsdt_address: u64,
}

fn checksum_is_zero(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte)) == 0
}

fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    table_bytes::read_u32(bytes, offset)
}

/// Validates an RSDP: a copy from the loader, or bytes found in the BIOS area (which may be
/// longer than the structure). Revision 2 and later must pass the extended checksum too.
pub fn parse_rsdp(bytes: &[u8]) -> Result<Rsdp, AcpiError> {
    let first = bytes.get(..RSDP_VERSION_1_BYTES).ok_or(AcpiError::BadRsdp)?;
    if &first[..8] != RSDP_SIGNATURE || !checksum_is_zero(first) {
        return Err(AcpiError::BadRsdp);
    }
    let revision = first[15];
    let rsdt_address = read_u32(first, 16).ok_or(AcpiError::BadRsdp)?;
    if revision < 2 {
        return Ok(Rsdp { revision, rsdt_address, xsdt_address: 0 });
    }
    let length = read_u32(bytes, 20).ok_or(AcpiError::BadRsdp)? as usize;
    if length < RSDP_VERSION_2_BYTES {
        return Err(AcpiError::BadRsdp);
    }
    let whole = bytes.get(..length).ok_or(AcpiError::BadRsdp)?;
    if !checksum_is_zero(whole) {
        return Err(AcpiError::BadRsdp);
    }
    let xsdt_address = table_bytes::read_u64(whole, 24).ok_or(AcpiError::BadRsdp)?;
    Ok(Rsdp { revision, rsdt_address, xsdt_address })
}

/// Looks for the RSDP where BIOS firmware puts it (ACPI 6.5 §5.2.5.1): on a 16-byte boundary
/// in the first KiB of the EBDA, then in 0xE0000-0xFFFFF.
pub fn find_rsdp_in_bios_area(memory: &impl FirmwareMemory) -> Result<Rsdp, AcpiError> {
    let areas = [BiosArea::ExtendedBiosDataArea, BiosArea::RomBelowOneMib];
    scan_paragraphs(memory, &areas, RSDP_VERSION_2_BYTES, |candidate| {
        (candidate.starts_with(RSDP_SIGNATURE)).then(|| parse_rsdp(candidate).ok()).flatten()
    })
    .ok_or(AcpiError::NoRsdp)
}

/// Reads the table at `address`, checks its signature (if `expected` names one), its length
/// and its checksum, and returns its bytes.
fn read_table(
    memory: &impl FirmwareMemory,
    address: u64,
    expected: [u8; 4],
) -> Result<&[u8], AcpiError> {
    let unreadable = AcpiError::Unreadable { signature: expected, address };
    let header = memory.read(address, TABLE_HEADER_BYTES).ok_or(unreadable)?;
    let mut signature = [0; 4];
    signature.copy_from_slice(&header[..4]);
    if signature != expected {
        return Err(AcpiError::WrongSignature { expected, found: signature });
    }
    let length = read_u32(header, 4).ok_or(unreadable)?;
    if (length as usize) < TABLE_HEADER_BYTES || length > MAXIMUM_TABLE_BYTES {
        return Err(AcpiError::BadLength { signature, length });
    }
    let table = memory.read(address, length as usize).ok_or(unreadable)?;
    if !checksum_is_zero(table) {
        return Err(AcpiError::BadChecksum { signature });
    }
    Ok(table)
}

/// The signature of the table at `address`, if its header can be read.
fn signature_at(memory: &impl FirmwareMemory, address: u64) -> Option<[u8; 4]> {
    let bytes = memory.read(address, 4)?;
    let mut signature = [0; 4];
    signature.copy_from_slice(bytes);
    Some(signature)
}

/// Finds the MADT through the XSDT (revision 2 and later, when it has one) or the RSDT, and
/// turns it into a `Platform`.
pub fn read_platform(memory: &impl FirmwareMemory, rsdp: &Rsdp) -> Result<Platform, AcpiError> {
    let (root, entry_bytes) = if rsdp.revision >= 2 && rsdp.xsdt_address != 0 {
        (read_table(memory, rsdp.xsdt_address, *b"XSDT")?, 8)
    } else {
        (read_table(memory, u64::from(rsdp.rsdt_address), *b"RSDT")?, 4)
    };
    let entries = &root[TABLE_HEADER_BYTES..];
    for entry in entries.chunks_exact(entry_bytes) {
        let mut address_bytes = [0u8; 8];
        address_bytes[..entry_bytes].copy_from_slice(entry);
        let address = u64::from_le_bytes(address_bytes);
        if signature_at(memory, address) == Some(*b"APIC") {
            let madt = read_table(memory, address, *b"APIC")?;
            return parse_madt(madt, rsdp.revision);
        }
    }
    Err(AcpiError::NoMadt)
}

/// A local APIC NMI entry before processor UIDs are resolved to APIC IDs.
struct PendingNmi {
    processor_uid: u8,
    nmi: LocalApicNmi,
}

/// Turns a MADT (the whole table, header included, checksum already checked) into a
/// `Platform`. `revision` is the RSDP's, for the log.
pub fn parse_madt(madt: &[u8], revision: u8) -> Result<Platform, AcpiError> {
    let too_short = AcpiError::BadLength { signature: *b"APIC", length: madt.len() as u32 };
    let mut local_apic_address = read_u32(madt, 36).ok_or(too_short)?;
    let flags = read_u32(madt, 40).ok_or(too_short)?;
    let mut platform = Platform {
        source: PlatformSource::Acpi { revision },
        local_apic_address,
        processors: Vec::new(),
        io_apics: Vec::new(),
        overrides: Vec::new(),
        has_legacy_pics: flags & MADT_PCAT_COMPATIBLE != 0,
        local_apic_nmis: Vec::new(),
        x2apic_only_processors: 0,
        interrupt_mode_register: false,
    };
    let mut processor_uids: Vec<(u8, u8)> = Vec::new();
    let mut pending_nmis: Vec<PendingNmi> = Vec::new();
    let mut offset = MADT_ENTRIES_OFFSET;
    while offset < madt.len() {
        let entry_type = madt[offset];
        let malformed = AcpiError::BadMadtEntry { offset, entry_type };
        let length = *madt.get(offset + 1).ok_or(malformed)? as usize;
        let entry = madt.get(offset..offset + length).ok_or(malformed)?;
        // The minimum length of each type this parser reads (ACPI 6.5 §5.2.12.2-§5.2.12.12).
        let needed = match entry_type {
            ENTRY_LOCAL_APIC => 8,
            ENTRY_IO_APIC => 12,
            ENTRY_INTERRUPT_SOURCE_OVERRIDE => 10,
            ENTRY_LOCAL_APIC_NMI => 6,
            ENTRY_LOCAL_APIC_ADDRESS_OVERRIDE => 12,
            ENTRY_LOCAL_X2APIC => 16,
            _ => 2,
        };
        if length < needed {
            return Err(malformed);
        }
        let flags_u16 = |at: usize| u16::from_le_bytes([entry[at], entry[at + 1]]);
        let field_u32 = |at: usize| read_u32(entry, at).unwrap_or(0);
        match entry_type {
            ENTRY_LOCAL_APIC => {
                let flags = field_u32(4);
                processor_uids.push((entry[2], entry[3]));
                platform.processors.push(Processor {
                    apic_id: entry[3],
                    usable: flags & (PROCESSOR_ENABLED | PROCESSOR_ONLINE_CAPABLE) != 0,
                });
            }
            ENTRY_IO_APIC => platform.io_apics.push(IoApicDescription {
                id: entry[2],
                address: field_u32(4),
                first_interrupt: field_u32(8),
            }),
            // Bus 0 is ISA, the only bus overrides are defined for (Table 5.25).
            ENTRY_INTERRUPT_SOURCE_OVERRIDE if entry[2] == 0 => {
                let flags = flags_u16(8);
                platform.overrides.push(InterruptOverride {
                    isa_irq: entry[3],
                    global_interrupt: field_u32(4),
                    polarity: Polarity::from_interrupt_flags(flags),
                    trigger: Trigger::from_interrupt_flags(flags),
                });
            }
            ENTRY_LOCAL_APIC_NMI => {
                let flags = flags_u16(3);
                pending_nmis.push(PendingNmi {
                    processor_uid: entry[2],
                    nmi: LocalApicNmi {
                        target: NmiTarget::AllProcessors,
                        local_interrupt: entry[5],
                        polarity: Polarity::from_interrupt_flags(flags),
                        trigger: Trigger::from_interrupt_flags(flags),
                    },
                });
            }
            ENTRY_LOCAL_APIC_ADDRESS_OVERRIDE => {
                let address = table_bytes::read_u64(entry, 4).unwrap_or(0);
                // 32-bit paging cannot reach registers above 4 GiB; keep the 32-bit address.
                if let Ok(address) = u32::try_from(address) {
                    local_apic_address = address;
                }
            }
            ENTRY_LOCAL_X2APIC => {
                let flags = field_u32(8);
                if flags & (PROCESSOR_ENABLED | PROCESSOR_ONLINE_CAPABLE) != 0 {
                    platform.x2apic_only_processors += 1;
                }
            }
            _ => {}
        }
        offset += length;
    }
    platform.local_apic_address = local_apic_address;
    for pending in pending_nmis {
        let mut nmi = pending.nmi;
        if pending.processor_uid != ALL_PROCESSORS_UID {
            // An NMI entry for a processor the table does not list applies to nobody.
            let Some(&(_, apic_id)) =
                processor_uids.iter().find(|(uid, _)| *uid == pending.processor_uid)
            else {
                continue;
            };
            nmi.target = NmiTarget::Processor { apic_id };
        }
        platform.local_apic_nmis.push(nmi);
    }
    if platform.usable_processors().next().is_none() {
        return Err(AcpiError::NoProcessors);
    }
    Ok(platform)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::arch::x86::bios_area::tests::FakeMemory;
    use std::vec;

    /// Sets `bytes[checksum_at]` so the bytes sum to zero.
    pub fn fix_checksum(bytes: &mut [u8], checksum_at: usize) {
        bytes[checksum_at] = 0;
        let sum = bytes.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte));
        bytes[checksum_at] = 0u8.wrapping_sub(sum);
    }

    /// A table with `signature`, a valid header and checksum, and `body` after the header.
    pub fn table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0u8; TABLE_HEADER_BYTES];
        bytes[..4].copy_from_slice(signature);
        bytes.extend_from_slice(body);
        let length = bytes.len() as u32;
        bytes[4..8].copy_from_slice(&length.to_le_bytes());
        bytes[8] = 1;
        bytes[10..16].copy_from_slice(b"FERRIT");
        fix_checksum(&mut bytes, 9);
        bytes
    }

    /// An RSDP of `revision` pointing at an RSDT and (revision 2) an XSDT.
    pub fn rsdp(revision: u8, rsdt: u32, xsdt: u64) -> Vec<u8> {
        let mut bytes = vec![0u8; RSDP_VERSION_2_BYTES];
        bytes[..8].copy_from_slice(RSDP_SIGNATURE);
        bytes[9..15].copy_from_slice(b"FERRIT");
        bytes[15] = revision;
        bytes[16..20].copy_from_slice(&rsdt.to_le_bytes());
        if revision < 2 {
            bytes.truncate(RSDP_VERSION_1_BYTES);
            fix_checksum(&mut bytes, 8);
            return bytes;
        }
        bytes[20..24].copy_from_slice(&(RSDP_VERSION_2_BYTES as u32).to_le_bytes());
        bytes[24..32].copy_from_slice(&xsdt.to_le_bytes());
        fix_checksum(&mut bytes[..RSDP_VERSION_1_BYTES], 8);
        fix_checksum(&mut bytes, 32);
        bytes
    }

    /// QEMU's MADT for four processors: local APICs 0-3, one I/O APIC, the timer moved to
    /// input 2, the ACPI interrupt level-triggered, and LINT1 as NMI for all processors.
    pub fn qemu_madt(processors: u8) -> Vec<u8> {
        let mut body = vec![];
        body.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
        body.extend_from_slice(&MADT_PCAT_COMPATIBLE.to_le_bytes());
        for id in 0..processors {
            body.extend_from_slice(&[ENTRY_LOCAL_APIC, 8, id, id, 1, 0, 0, 0]);
        }
        body.extend_from_slice(&[ENTRY_IO_APIC, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0]);
        body.extend_from_slice(&[ENTRY_INTERRUPT_SOURCE_OVERRIDE, 10, 0, 0, 2, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&[ENTRY_INTERRUPT_SOURCE_OVERRIDE, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0]);
        body.extend_from_slice(&[ENTRY_LOCAL_APIC_NMI, 6, 0xff, 0, 0, 1]);
        table(b"APIC", &body)
    }

    /// Memory with the RSDP at 0xe0000 and, from 0x7fe0000, an RSDT (and XSDT) listing a FACP
    /// and the MADT.
    pub fn acpi_memory(revision: u8, madt: &[u8]) -> FakeMemory {
        let mut memory = FakeMemory::new();
        let facp = table(b"FACP", &[0; 8]);
        memory.place(0x7fe_0000, &facp);
        memory.place(0x7fe_1000, madt);
        let entries32: Vec<u8> =
            [0x7fe_0000u32, 0x7fe_1000].iter().flat_map(|a| a.to_le_bytes()).collect();
        memory.place(0x7fe_2000, &table(b"RSDT", &entries32));
        let entries64: Vec<u8> =
            [0x7fe_0000u64, 0x7fe_1000].iter().flat_map(|a| a.to_le_bytes()).collect();
        memory.place(0x7fe_3000, &table(b"XSDT", &entries64));
        memory.place(0xe_0000, &rsdp(revision, 0x7fe_2000, 0x7fe_3000));
        memory
    }

    #[test]
    fn qemu_tables_give_four_processors_an_io_apic_and_two_overrides() {
        for revision in [0, 2] {
            let memory = acpi_memory(revision, &qemu_madt(4));
            let rsdp = find_rsdp_in_bios_area(&memory).expect("RSDP");
            assert_eq!(rsdp.revision, revision);
            let platform = read_platform(&memory, &rsdp).expect("platform");
            assert_eq!(platform.source, PlatformSource::Acpi { revision });
            let ids: Vec<u8> = platform.usable_processors().map(|p| p.apic_id).collect();
            assert_eq!(ids, [0, 1, 2, 3]);
            assert_eq!(platform.local_apic_address, 0xfee0_0000);
            assert_eq!(
                platform.io_apics,
                [IoApicDescription { id: 0, address: 0xfec0_0000, first_interrupt: 0 }]
            );
            assert_eq!(platform.isa_interrupt(0), (2, Polarity::BusDefault, Trigger::BusDefault));
            assert_eq!(platform.isa_interrupt(9), (9, Polarity::ActiveHigh, Trigger::Level));
            assert_eq!(platform.isa_interrupt(1), (1, Polarity::BusDefault, Trigger::BusDefault));
            assert!(platform.has_legacy_pics);
            assert_eq!(
                platform.local_apic_nmis,
                [LocalApicNmi {
                    target: NmiTarget::AllProcessors,
                    local_interrupt: 1,
                    polarity: Polarity::BusDefault,
                    trigger: Trigger::BusDefault
                }]
            );
            assert_eq!(
                std::format!("{}", platform.summary()),
                std::format!(
                    "ACPI {} MADT: 4 processors (APIC IDs 0 1 2 3), I/O APIC 0 at 0xfec00000 \
                     (interrupts from 0), IRQ 0 -> 2, IRQ 9 -> 9 level active-high",
                    revision.max(1)
                )
            );
        }
    }

    #[test]
    fn the_ebda_is_searched_before_the_rom_area() {
        let mut memory = acpi_memory(0, &qemu_madt(1));
        // An EBDA at 0x9fc00 holding a second RSDP whose RSDT has a two-processor MADT.
        memory.place(0x40e, &0x9fc0u16.to_le_bytes());
        memory.place(0x7fe_5000, &qemu_madt(2));
        memory.place(0x7fe_6000, &table(b"RSDT", &0x7fe_5000u32.to_le_bytes()));
        memory.place(0x9fc40, &rsdp(0, 0x7fe_6000, 0));
        let rsdp = find_rsdp_in_bios_area(&memory).unwrap();
        assert_eq!(rsdp.rsdt_address, 0x7fe_6000);
        assert_eq!(read_platform(&memory, &rsdp).unwrap().processors.len(), 2);
    }

    #[test]
    fn disabled_processors_x2apic_entries_and_per_processor_nmis() {
        let mut body = vec![];
        body.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&[ENTRY_LOCAL_APIC, 8, 7, 0, 1, 0, 0, 0]);
        body.extend_from_slice(&[ENTRY_LOCAL_APIC, 8, 8, 1, 0, 0, 0, 0]);
        body.extend_from_slice(&[ENTRY_LOCAL_APIC, 8, 9, 2, 2, 0, 0, 0]);
        body.extend_from_slice(&[
            ENTRY_LOCAL_X2APIC,
            16,
            0,
            0,
            0,
            1,
            0,
            0,
            1,
            0,
            0,
            0,
            10,
            0,
            0,
            0,
        ]);
        body.extend_from_slice(&[ENTRY_LOCAL_APIC_NMI, 6, 8, 0x0f, 0, 0]);
        body.extend_from_slice(&[ENTRY_LOCAL_APIC_NMI, 6, 42, 0, 0, 1]);
        let mut address_override = vec![ENTRY_LOCAL_APIC_ADDRESS_OVERRIDE, 12, 0, 0];
        address_override.extend_from_slice(&0xfee1_0000u64.to_le_bytes());
        body.extend_from_slice(&address_override);
        body.extend_from_slice(&[200, 4, 0, 0]);
        let platform = parse_madt(&table(b"APIC", &body), 2).unwrap();
        assert_eq!(
            platform.processors,
            [
                Processor { apic_id: 0, usable: true },
                Processor { apic_id: 1, usable: false },
                Processor { apic_id: 2, usable: true },
            ]
        );
        assert_eq!(platform.x2apic_only_processors, 1);
        assert_eq!(platform.local_apic_address, 0xfee1_0000);
        assert!(!platform.has_legacy_pics);
        assert_eq!(
            platform.local_apic_nmis,
            [LocalApicNmi {
                target: NmiTarget::Processor { apic_id: 1 },
                local_interrupt: 0,
                polarity: Polarity::ActiveLow,
                trigger: Trigger::Level
            }]
        );
    }

    #[test]
    fn bad_rsdps_are_refused() {
        let good = rsdp(2, 0x1000, 0x2000);
        assert!(parse_rsdp(&good).is_ok());
        let mut bad_first = good.clone();
        bad_first[16] ^= 1;
        assert_eq!(parse_rsdp(&bad_first), Err(AcpiError::BadRsdp));
        let mut bad_extended = good.clone();
        bad_extended[24] ^= 1;
        assert_eq!(parse_rsdp(&bad_extended), Err(AcpiError::BadRsdp));
        assert_eq!(parse_rsdp(&good[..30]), Err(AcpiError::BadRsdp));
        let mut huge_length = good.clone();
        huge_length[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        fix_checksum(&mut huge_length[..RSDP_VERSION_1_BYTES], 8);
        assert_eq!(parse_rsdp(&huge_length), Err(AcpiError::BadRsdp));
        assert_eq!(find_rsdp_in_bios_area(&FakeMemory::new()), Err(AcpiError::NoRsdp));
        // A corrupt RSDP in the BIOS area is skipped like any other bytes.
        let mut memory = FakeMemory::new();
        memory.place(0xe_0000, &bad_first);
        assert_eq!(find_rsdp_in_bios_area(&memory), Err(AcpiError::NoRsdp));
    }

    #[test]
    fn malformed_tables_are_clear_errors() {
        let rsdp = Rsdp { revision: 0, rsdt_address: 0x7fe_2000, xsdt_address: 0 };
        // A bad checksum in the MADT.
        let mut madt = qemu_madt(2);
        madt[50] ^= 0x40;
        let memory = acpi_memory(0, &madt);
        assert_eq!(
            read_platform(&memory, &rsdp),
            Err(AcpiError::BadChecksum { signature: *b"APIC" })
        );
        // A length field running past readable memory (the fake memory ends at 128 MiB).
        let mut madt = qemu_madt(2);
        madt[4..8].copy_from_slice(&60_000u32.to_le_bytes());
        let mut truncated = acpi_memory(0, &madt);
        truncated.place(0x7fd_0000, &table(b"RSDT", &0x7fe_1000u32.to_le_bytes()));
        truncated.end_readable_memory_at(0x7fe_1000 + 100);
        let below = Rsdp { rsdt_address: 0x7fd_0000, ..rsdp };
        assert_eq!(
            read_platform(&truncated, &below),
            Err(AcpiError::Unreadable { signature: *b"APIC", address: 0x7fe_1000 })
        );
        // Lengths that overflow or undercut the header.
        for length in [u32::MAX, 0x8000_0000, 10, 0] {
            let mut madt = qemu_madt(2);
            madt[4..8].copy_from_slice(&length.to_le_bytes());
            let memory = acpi_memory(0, &madt);
            assert_eq!(
                read_platform(&memory, &rsdp),
                Err(AcpiError::BadLength { signature: *b"APIC", length })
            );
        }
        // An RSDT that is not one.
        let memory = acpi_memory(0, &qemu_madt(2));
        let wrong = Rsdp { rsdt_address: 0x7fe_0000, ..rsdp };
        assert_eq!(
            read_platform(&memory, &wrong),
            Err(AcpiError::WrongSignature { expected: *b"RSDT", found: *b"FACP" })
        );
        let nowhere = Rsdp { rsdt_address: 0xdead_0000, ..rsdp };
        assert_eq!(
            read_platform(&memory, &nowhere),
            Err(AcpiError::Unreadable { signature: *b"RSDT", address: 0xdead_0000 })
        );
    }

    #[test]
    fn malformed_madt_entries_are_clear_errors() {
        let header = |body: &[u8]| {
            let mut full = vec![0, 0, 0xe0, 0xfe, 1, 0, 0, 0];
            full.extend_from_slice(body);
            table(b"APIC", &full)
        };
        let cases: [(&[u8], AcpiError); 4] = [
            // An I/O APIC entry of 6 bytes, shorter than its type.
            (
                &[ENTRY_IO_APIC, 6, 0, 0, 0, 0],
                AcpiError::BadMadtEntry { offset: 44, entry_type: 1 },
            ),
            // A local APIC entry whose length runs past the table.
            (
                &[ENTRY_LOCAL_APIC, 40, 0, 0, 1, 0, 0, 0],
                AcpiError::BadMadtEntry { offset: 44, entry_type: 0 },
            ),
            // A zero-length entry would loop for ever.
            (
                &[ENTRY_LOCAL_APIC, 8, 0, 0, 1, 0, 0, 0, 77, 0],
                AcpiError::BadMadtEntry { offset: 52, entry_type: 77 },
            ),
            // No usable processor at all.
            (&[ENTRY_LOCAL_APIC, 8, 0, 0, 0, 0, 0, 0], AcpiError::NoProcessors),
        ];
        for (body, error) in cases {
            assert_eq!(parse_madt(&header(body), 0), Err(error), "{body:?}");
        }
        // A MADT too short for its fixed fields.
        assert!(matches!(
            parse_madt(&table(b"APIC", &[0, 0]), 0),
            Err(AcpiError::BadLength { .. })
        ));
        // An RSDT without a MADT.
        let mut memory = FakeMemory::new();
        memory.place(0x7fe_0000, &table(b"FACP", &[]));
        memory.place(0x7fe_2000, &table(b"RSDT", &0x7fe_0000u32.to_le_bytes()));
        let rsdp = Rsdp { revision: 0, rsdt_address: 0x7fe_2000, xsdt_address: 0 };
        assert_eq!(read_platform(&memory, &rsdp), Err(AcpiError::NoMadt));
        assert_eq!(
            std::format!("{}", AcpiError::BadChecksum { signature: *b"AP\0C" }),
            "the ACPI AP?C table has a bad checksum"
        );
    }

    #[test]
    fn random_madts_never_panic() {
        let mut next = crate::arch::x86::table_bytes::xorshift(0x5eed_acb1);
        for _ in 0..3000 {
            let length = (next() % 120) as usize;
            let mut body: Vec<u8> = (0..length).map(|_| next() as u8).collect();
            // Keep entry types mostly known so deep paths run.
            for index in (8..body.len()).step_by(7) {
                body[index] = (next() % 11) as u8;
            }
            if let Ok(platform) = parse_madt(&table(b"APIC", &body), 0) {
                assert!(platform.usable_processors().count() > 0);
                assert!(platform.processors.len() <= body.len() / 8);
            }
        }
    }
}
