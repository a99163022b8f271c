//! The MultiProcessor Specification 1.4 tables, for machines without ACPI (or when `acpi=off`
//! asks for them): the floating pointer structure and the configuration table's processor,
//! bus, I/O APIC, I/O interrupt and local interrupt entries (MP 1.4 chapter 4).
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::fmt;

use super::bios_area::{BiosArea, scan_paragraphs};
use super::platform::{
    FirmwareMemory, InterruptOverride, IoApicDescription, LocalApicNmi, NmiTarget, Platform,
    PlatformSource, Polarity, Processor, Trigger,
};
use super::table_bytes::{read_u16, read_u32};

/// "_MP_", the floating pointer's signature (MP 1.4 §4.1).
const FLOATING_POINTER_SIGNATURE: &[u8; 4] = b"_MP_";
/// The floating pointer is one 16-byte paragraph (its length field counts paragraphs).
const FLOATING_POINTER_BYTES: usize = 16;
/// "PCMP", the configuration table's signature (MP 1.4 §4.2).
const CONFIGURATION_SIGNATURE: &[u8; 4] = b"PCMP";
const CONFIGURATION_HEADER_BYTES: usize = 44;
/// Feature byte 2 bit 7, IMCRP: the interrupt mode configuration register is present and the
/// machine starts in PIC mode (MP 1.4 §4.1 Table 4-1, §3.6.2.1).
const FEATURE_INTERRUPT_MODE_REGISTER: u8 = 1 << 7;
/// Where the default configurations (MP 1.4 chapter 5) put their I/O APIC.
const DEFAULT_IO_APIC_ADDRESS: u32 = 0xfec0_0000;
const DEFAULT_LOCAL_APIC_ADDRESS: u32 = 0xfee0_0000;
/// An I/O APIC's inputs, where the tables do not say (the 82093AA has 24; MP tables give no
/// global interrupt base, so each I/O APIC is numbered after the previous one's 24).
const IO_APIC_INPUTS: u32 = 24;

/// Entry types and their lengths (MP 1.4 §4.3, Table 4-3).
const ENTRY_PROCESSOR: u8 = 0;
const ENTRY_BUS: u8 = 1;
const ENTRY_IO_APIC: u8 = 2;
const ENTRY_IO_INTERRUPT: u8 = 3;
const ENTRY_LOCAL_INTERRUPT: u8 = 4;
const PROCESSOR_ENTRY_BYTES: usize = 20;
const OTHER_ENTRY_BYTES: usize = 8;
/// Processor and I/O APIC flags bit 0, EN: usable (Tables 4-4 and 4-7).
const ENTRY_ENABLED: u8 = 1 << 0;
/// Interrupt types of I/O and local interrupt entries (Table 4-10).
const INTERRUPT_TYPE_VECTORED: u8 = 0;
const INTERRUPT_TYPE_NMI: u8 = 1;
/// Local interrupt entries send to every local APIC with this destination (Table 4-12).
const ALL_LOCAL_APICS: u8 = 0xff;

/// What went wrong while reading the MP tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiprocessorTableError {
    /// No floating pointer structure in the EBDA, the top of base memory or the BIOS ROM.
    NotFound,
    /// The configuration table lies where the kernel cannot read.
    Unreadable { address: u32 },
    /// Its signature, length or checksum is wrong.
    BadConfigurationTable,
    /// A default configuration type this kernel does not know (MP 1.4 chapter 5 lists 1-7).
    UnknownDefaultConfiguration(u8),
    /// An entry of an unknown type: its length is unknown, so the rest cannot be read.
    UnknownEntry { offset: usize, entry_type: u8 },
    /// The entries run past the table's base length.
    Truncated,
    /// No usable processor is listed.
    NoProcessors,
}

impl fmt::Display for MultiprocessorTableError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MultiprocessorTableError::NotFound => write!(formatter, "no MP floating pointer found"),
            MultiprocessorTableError::Unreadable { address } => write!(
                formatter,
                "the MP configuration table at {address:#x} lies outside readable memory"
            ),
            MultiprocessorTableError::BadConfigurationTable => write!(
                formatter,
                "the MP configuration table has a bad signature, length or checksum"
            ),
            MultiprocessorTableError::UnknownDefaultConfiguration(kind) => {
                write!(formatter, "unknown MP default configuration {kind}")
            }
            MultiprocessorTableError::UnknownEntry { offset, entry_type } => write!(
                formatter,
                "the MP configuration table has an entry of unknown type {entry_type} at byte {offset}"
            ),
            MultiprocessorTableError::Truncated => {
                write!(formatter, "the MP configuration table's entries run past its end")
            }
            MultiprocessorTableError::NoProcessors => {
                write!(formatter, "the MP tables list no usable processor")
            }
        }
    }
}

fn checksum_is_zero(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte)) == 0
}

/// The floating pointer's fields this kernel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FloatingPointer {
    configuration_address: u32,
    default_configuration: u8,
    interrupt_mode_register: bool,
}

fn parse_floating_pointer(candidate: &[u8]) -> Option<FloatingPointer> {
    let bytes = candidate.get(..FLOATING_POINTER_BYTES)?;
    // Length 1 (paragraphs) at byte 8; the checksum covers the whole structure.
    if &bytes[..4] != FLOATING_POINTER_SIGNATURE || bytes[8] != 1 || !checksum_is_zero(bytes) {
        return None;
    }
    Some(FloatingPointer {
        configuration_address: read_u32(bytes, 4)?,
        default_configuration: bytes[11],
        interrupt_mode_register: bytes[12] & FEATURE_INTERRUPT_MODE_REGISTER != 0,
    })
}

/// Finds the floating pointer where MP 1.4 §4 says to look, in its order, and reads the
/// configuration it points at (or the default configuration it names).
pub fn read_platform(memory: &impl FirmwareMemory) -> Result<Platform, MultiprocessorTableError> {
    let areas =
        [BiosArea::ExtendedBiosDataArea, BiosArea::LastKibOfBaseMemory, BiosArea::SystemBiosRom];
    let pointer = scan_paragraphs(memory, &areas, FLOATING_POINTER_BYTES, parse_floating_pointer)
        .ok_or(MultiprocessorTableError::NotFound)?;
    let mut platform = if pointer.default_configuration != 0 {
        default_configuration(pointer.default_configuration)?
    } else {
        let address = pointer.configuration_address;
        let unreadable = MultiprocessorTableError::Unreadable { address };
        let header =
            memory.read(u64::from(address), CONFIGURATION_HEADER_BYTES).ok_or(unreadable)?;
        let length = usize::from(read_u16(header, 4).unwrap_or(0));
        let table = memory.read(u64::from(address), length).ok_or(unreadable)?;
        parse_configuration_table(table)?
    };
    platform.interrupt_mode_register = pointer.interrupt_mode_register;
    Ok(platform)
}

/// MP 1.4 chapter 5: two processors (APIC IDs 0 and 1), one I/O APIC (ID 2) at the default
/// address, ISA interrupts on their own inputs; types 5-7 add PCI, which changes nothing here.
fn default_configuration(kind: u8) -> Result<Platform, MultiprocessorTableError> {
    if !(1..=7).contains(&kind) {
        return Err(MultiprocessorTableError::UnknownDefaultConfiguration(kind));
    }
    Ok(Platform {
        source: PlatformSource::MultiprocessorTables,
        local_apic_address: DEFAULT_LOCAL_APIC_ADDRESS,
        processors: [0, 1].map(|apic_id| Processor { apic_id, usable: true }).to_vec(),
        io_apics: [IoApicDescription {
            id: 2,
            address: DEFAULT_IO_APIC_ADDRESS,
            first_interrupt: 0,
        }]
        .to_vec(),
        overrides: Vec::new(),
        has_legacy_pics: true,
        local_apic_nmis: Vec::new(),
        x2apic_only_processors: 0,
        interrupt_mode_register: false,
    })
}

/// Turns a configuration table (its base part: header and entries) into a `Platform`. ISA
/// interrupts that reach an I/O APIC input other than their own number, or with other
/// signalling than ISA's, become overrides, as ACPI would list them.
pub fn parse_configuration_table(table: &[u8]) -> Result<Platform, MultiprocessorTableError> {
    let bad = MultiprocessorTableError::BadConfigurationTable;
    let header = table.get(..CONFIGURATION_HEADER_BYTES).ok_or(bad)?;
    let length = usize::from(read_u16(header, 4).ok_or(bad)?);
    if &header[..4] != CONFIGURATION_SIGNATURE || length < CONFIGURATION_HEADER_BYTES {
        return Err(bad);
    }
    let table = table.get(..length).ok_or(bad)?;
    if !checksum_is_zero(table) {
        return Err(bad);
    }
    let entry_count = read_u16(header, 34).ok_or(bad)?;
    let mut platform = Platform {
        source: PlatformSource::MultiprocessorTables,
        local_apic_address: read_u32(header, 36).ok_or(bad)?,
        processors: Vec::new(),
        io_apics: Vec::new(),
        overrides: Vec::new(),
        has_legacy_pics: true,
        local_apic_nmis: Vec::new(),
        x2apic_only_processors: 0,
        interrupt_mode_register: false,
    };
    let mut isa_buses: Vec<u8> = Vec::new();
    // (bus, IRQ, I/O APIC ID, input, flags) of vectored I/O interrupts, resolved at the end
    // when every bus and I/O APIC is known.
    let mut io_interrupts: Vec<(u8, u8, u8, u8, u16)> = Vec::new();
    let mut offset = CONFIGURATION_HEADER_BYTES;
    for _ in 0..entry_count {
        let entry_type = *table.get(offset).ok_or(MultiprocessorTableError::Truncated)?;
        let entry_bytes = match entry_type {
            ENTRY_PROCESSOR => PROCESSOR_ENTRY_BYTES,
            ENTRY_BUS | ENTRY_IO_APIC | ENTRY_IO_INTERRUPT | ENTRY_LOCAL_INTERRUPT => {
                OTHER_ENTRY_BYTES
            }
            _ => return Err(MultiprocessorTableError::UnknownEntry { offset, entry_type }),
        };
        let entry =
            table.get(offset..offset + entry_bytes).ok_or(MultiprocessorTableError::Truncated)?;
        let flags = u16::from_le_bytes([entry[2], entry[3]]);
        match entry_type {
            ENTRY_PROCESSOR => platform
                .processors
                .push(Processor { apic_id: entry[1], usable: entry[3] & ENTRY_ENABLED != 0 }),
            ENTRY_BUS => {
                if entry[2..8].starts_with(b"ISA") {
                    isa_buses.push(entry[1]);
                }
            }
            ENTRY_IO_APIC if entry[3] & ENTRY_ENABLED != 0 => {
                let first_interrupt = platform.io_apics.len() as u32 * IO_APIC_INPUTS;
                platform.io_apics.push(IoApicDescription {
                    id: entry[1],
                    address: read_u32(entry, 4).unwrap_or(0),
                    first_interrupt,
                });
            }
            ENTRY_IO_INTERRUPT if entry[1] == INTERRUPT_TYPE_VECTORED => {
                io_interrupts.push((entry[4], entry[5], entry[6], entry[7], flags));
            }
            ENTRY_LOCAL_INTERRUPT if entry[1] == INTERRUPT_TYPE_NMI => {
                let target = match entry[6] {
                    ALL_LOCAL_APICS => NmiTarget::AllProcessors,
                    apic_id => NmiTarget::Processor { apic_id },
                };
                platform.local_apic_nmis.push(LocalApicNmi {
                    target,
                    local_interrupt: entry[7],
                    polarity: Polarity::from_interrupt_flags(flags),
                    trigger: Trigger::from_interrupt_flags(flags),
                });
            }
            _ => {}
        }
        offset += entry_bytes;
    }
    for (bus, irq, io_apic_id, input, flags) in io_interrupts {
        if !isa_buses.contains(&bus) {
            continue;
        }
        let Some(io_apic) = platform.io_apics.iter().find(|io_apic| io_apic.id == io_apic_id)
        else {
            continue;
        };
        let global_interrupt = io_apic.first_interrupt + u32::from(input);
        let entry = InterruptOverride {
            isa_irq: irq,
            global_interrupt,
            polarity: Polarity::from_interrupt_flags(flags),
            trigger: Trigger::from_interrupt_flags(flags),
        };
        let differs = (entry.global_interrupt, entry.polarity, entry.trigger)
            != (u32::from(irq), Polarity::BusDefault, Trigger::BusDefault);
        // Keep the first entry for an IRQ; list only routings that differ from ISA's.
        if differs && !platform.overrides.iter().any(|known| known.isa_irq == irq) {
            platform.overrides.push(entry);
        }
    }
    if platform.usable_processors().next().is_none() {
        return Err(MultiprocessorTableError::NoProcessors);
    }
    Ok(platform)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::x86::acpi::tests::fix_checksum;
    use crate::arch::x86::bios_area::tests::FakeMemory;
    use std::vec;

    fn floating_pointer(configuration: u32, default: u8, features: u8) -> Vec<u8> {
        let mut bytes = vec![0u8; 16];
        bytes[..4].copy_from_slice(FLOATING_POINTER_SIGNATURE);
        bytes[4..8].copy_from_slice(&configuration.to_le_bytes());
        bytes[8] = 1;
        bytes[9] = 4;
        bytes[11] = default;
        bytes[12] = features;
        fix_checksum(&mut bytes, 10);
        bytes
    }

    fn io_interrupt(kind: u8, flags: u16, bus: u8, irq: u8, io_apic: u8, input: u8) -> [u8; 8] {
        let [low, high] = flags.to_le_bytes();
        [ENTRY_IO_INTERRUPT, kind, low, high, bus, irq, io_apic, input]
    }

    /// SeaBIOS's table for `processors` CPUs: processors, the ISA bus, one I/O APIC with ID
    /// `processors`, ISA IRQs 0-15 (IRQ 0 on input 2, IRQ 2 not connected, IRQ 9 level active
    /// high), ExtINT and NMI on the local APICs.
    fn seabios_table(processors: u8) -> Vec<u8> {
        let mut entries: Vec<u8> = vec![];
        let mut count = 0u16;
        for id in 0..processors {
            let flags = ENTRY_ENABLED | if id == 0 { 2 } else { 0 };
            let mut entry = vec![ENTRY_PROCESSOR, id, 0x14, flags];
            entry.resize(PROCESSOR_ENTRY_BYTES, 0);
            entries.extend_from_slice(&entry);
            count += 1;
        }
        entries.extend_from_slice(&[ENTRY_BUS, 0, b'I', b'S', b'A', b' ', b' ', b' ']);
        entries.extend_from_slice(&[
            ENTRY_IO_APIC,
            processors,
            0x11,
            ENTRY_ENABLED,
            0,
            0,
            0xc0,
            0xfe,
        ]);
        count += 2;
        for irq in 0..16u8 {
            if irq == 2 {
                continue;
            }
            let input = if irq == 0 { 2 } else { irq };
            let flags = if irq == 9 { 0b1101 } else { 0 };
            entries.extend_from_slice(&io_interrupt(0, flags, 0, irq, processors, input));
            count += 1;
        }
        entries.extend_from_slice(&[ENTRY_LOCAL_INTERRUPT, 3, 0, 0, 0, 0, 0xff, 0]);
        entries.extend_from_slice(&[ENTRY_LOCAL_INTERRUPT, 1, 0, 0, 0, 0, 0xff, 1]);
        count += 2;
        let mut table = vec![0u8; CONFIGURATION_HEADER_BYTES];
        table[..4].copy_from_slice(CONFIGURATION_SIGNATURE);
        table[6] = 4;
        table[8..16].copy_from_slice(b"BOCHSCPU");
        table[34..36].copy_from_slice(&count.to_le_bytes());
        table[36..40].copy_from_slice(&0xfee0_0000u32.to_le_bytes());
        table.extend_from_slice(&entries);
        let length = table.len() as u16;
        table[4..6].copy_from_slice(&length.to_le_bytes());
        fix_checksum(&mut table, 7);
        table
    }

    #[test]
    fn seabios_tables_give_processors_the_io_apic_and_isa_routing() {
        let mut memory = FakeMemory::new();
        memory.place(0xf_5a00, &floating_pointer(0xf_5a10, 0, 0));
        memory.place(0xf_5a10, &seabios_table(4));
        let platform = read_platform(&memory).expect("platform");
        assert_eq!(platform.source, PlatformSource::MultiprocessorTables);
        let ids: Vec<u8> = platform.usable_processors().map(|p| p.apic_id).collect();
        assert_eq!(ids, [0, 1, 2, 3]);
        assert_eq!(
            platform.io_apics,
            [IoApicDescription { id: 4, address: 0xfec0_0000, first_interrupt: 0 }]
        );
        assert_eq!(platform.isa_interrupt(0), (2, Polarity::BusDefault, Trigger::BusDefault));
        assert_eq!(platform.isa_interrupt(9), (9, Polarity::ActiveHigh, Trigger::Level));
        assert_eq!(platform.overrides.len(), 2);
        assert_eq!(
            platform.local_apic_nmis,
            [LocalApicNmi {
                target: NmiTarget::AllProcessors,
                local_interrupt: 1,
                polarity: Polarity::BusDefault,
                trigger: Trigger::BusDefault,
            }]
        );
        assert!(!platform.interrupt_mode_register);
        assert_eq!(
            std::format!("{}", platform.summary()),
            "MP 1.4 tables: 4 processors (APIC IDs 0 1 2 3), I/O APIC 4 at 0xfec00000 \
             (interrupts from 0), IRQ 0 -> 2, IRQ 9 -> 9 level active-high"
        );
    }

    #[test]
    fn the_ebda_comes_first_and_default_configurations_are_understood() {
        let mut memory = FakeMemory::new();
        memory.place(0x40e, &0x9fc0u16.to_le_bytes());
        memory.place(0x9fc00, &floating_pointer(0, 5, FEATURE_INTERRUPT_MODE_REGISTER));
        memory.place(0xf_5a00, &floating_pointer(0xf_5a10, 0, 0));
        memory.place(0xf_5a10, &seabios_table(4));
        let platform = read_platform(&memory).unwrap();
        assert_eq!(platform.processors.len(), 2);
        assert_eq!(platform.io_apics[0].id, 2);
        assert!(platform.interrupt_mode_register);
        memory.place(0x9fc00, &floating_pointer(0, 9, 0));
        assert_eq!(
            read_platform(&memory),
            Err(MultiprocessorTableError::UnknownDefaultConfiguration(9))
        );
    }

    #[test]
    fn malformed_tables_are_clear_errors() {
        assert_eq!(read_platform(&FakeMemory::new()), Err(MultiprocessorTableError::NotFound));
        // A floating pointer with a bad checksum is not one.
        let mut memory = FakeMemory::new();
        let mut pointer = floating_pointer(0xf_5a10, 0, 0);
        pointer[4] ^= 1;
        memory.place(0xf_5a00, &pointer);
        assert_eq!(read_platform(&memory), Err(MultiprocessorTableError::NotFound));
        // A configuration table out of reach.
        memory.place(0xf_5a00, &floating_pointer(0xdead_0000, 0, 0));
        assert_eq!(
            read_platform(&memory),
            Err(MultiprocessorTableError::Unreadable { address: 0xdead_0000 })
        );
        let good = seabios_table(2);
        let mut bad_checksum = good.clone();
        bad_checksum[50] ^= 1;
        let mut too_long = good.clone();
        too_long[4..6].copy_from_slice(&u16::MAX.to_le_bytes());
        fix_checksum(&mut too_long, 7);
        let mut too_short = good.clone();
        too_short[4..6].copy_from_slice(&10u16.to_le_bytes());
        fix_checksum(&mut too_short, 7);
        let mut too_many_entries = good.clone();
        too_many_entries[34..36].copy_from_slice(&500u16.to_le_bytes());
        fix_checksum(&mut too_many_entries, 7);
        let mut unknown_entry = good.clone();
        unknown_entry[CONFIGURATION_HEADER_BYTES] = 0x80;
        fix_checksum(&mut unknown_entry, 7);
        let cases = [
            (bad_checksum, MultiprocessorTableError::BadConfigurationTable),
            (too_long, MultiprocessorTableError::BadConfigurationTable),
            (too_short, MultiprocessorTableError::BadConfigurationTable),
            (too_many_entries, MultiprocessorTableError::Truncated),
            (
                unknown_entry,
                MultiprocessorTableError::UnknownEntry { offset: 44, entry_type: 0x80 },
            ),
        ];
        for (index, (table, error)) in cases.into_iter().enumerate() {
            assert_eq!(parse_configuration_table(&table), Err(error), "case {index}");
        }
        assert_eq!(
            std::format!("{}", MultiprocessorTableError::Truncated),
            "the MP configuration table's entries run past its end"
        );
    }

    #[test]
    fn random_tables_never_panic() {
        let mut next = crate::arch::x86::table_bytes::xorshift(0x4d50_3134);
        let good = seabios_table(3);
        for _ in 0..3000 {
            let mut table = good.clone();
            for _ in 0..4 {
                let index = (next() as usize) % table.len();
                table[index] = next() as u8;
            }
            fix_checksum(&mut table, 7);
            if let Ok(platform) = parse_configuration_table(&table) {
                assert!(platform.usable_processors().count() > 0);
                assert!(platform.overrides.len() <= 16);
            }
        }
    }
}
