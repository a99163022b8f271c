//! I/O APICs (Intel 82093AA datasheet): each turns its interrupt inputs into messages to a
//! CPU's local APIC, through one redirection entry per input. `add` maps one and masks every
//! input; `route` points one global system interrupt at a vector and a CPU.

use alloc::vec::Vec;

use spin::Mutex;

use super::apic_registers::{
    IO_APIC_REGISTERS_BYTES, IO_APIC_VERSION, IO_REGISTER_SELECT, IO_WINDOW, REDIRECTION_MASKED,
    RedirectionEntry, io_apic_inputs, redirection_registers,
};
use super::cpu::{disable_interrupts, enable_interrupts, interrupts_enabled};
use super::page_table::Caching;
use super::paging::{DeviceMapError, map_device_memory};
use super::platform::IoApicDescription;

/// One I/O APIC, mapped.
struct IoApic {
    /// Virtual address of its register select; the window follows at `IO_WINDOW`.
    registers: usize,
    /// The global system interrupt of its input 0.
    first_interrupt: u32,
    inputs: u32,
}

impl IoApic {
    fn read(&self, register: u32) -> u32 {
        let select = (self.registers + IO_REGISTER_SELECT) as *mut u32;
        let window = (self.registers + IO_WINDOW) as *const u32;
        // SAFETY: `add` mapped the register page uncached for good; selecting a register and
        // reading the window has no other effect. The lock around every `IoApic` keeps the
        // select-then-access pair whole.
        unsafe {
            core::ptr::write_volatile(select, register);
        }
        // SAFETY: as above.
        unsafe { core::ptr::read_volatile(window) }
    }

    fn write(&self, register: u32, value: u32) {
        let select = (self.registers + IO_REGISTER_SELECT) as *mut u32;
        let window = (self.registers + IO_WINDOW) as *mut u32;
        // SAFETY: as for `read`; callers write redirection entries only.
        unsafe {
            core::ptr::write_volatile(select, register);
        }
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile(window, value) };
    }

    /// Writes redirection entry `input`: masked first, so the input never fires half-written,
    /// then the destination, then the low half with the final mask bit.
    fn write_entry(&self, input: u32, bits: u64) {
        let (low, high) = redirection_registers(input);
        self.write(low, (bits as u32) | REDIRECTION_MASKED as u32);
        self.write(high, (bits >> 32) as u32);
        self.write(low, bits as u32);
    }

    fn serves(&self, global_interrupt: u32) -> bool {
        (self.first_interrupt..self.first_interrupt + self.inputs).contains(&global_interrupt)
    }
}

/// The I/O APICs `add` took. The lock is taken with interrupts off (no handler touches them).
static IO_APICS: Mutex<Vec<IoApic>> = Mutex::new(Vec::new());

/// Why an I/O APIC or an interrupt could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoApicError {
    /// Its registers could not be mapped.
    CannotMap(DeviceMapError),
    /// No I/O APIC added so far has an input for this global system interrupt.
    NoInputFor(u32),
}

impl core::fmt::Display for IoApicError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IoApicError::CannotMap(error) => {
                write!(formatter, "an I/O APIC's registers cannot be mapped ({error:?})")
            }
            IoApicError::NoInputFor(interrupt) => {
                write!(formatter, "no I/O APIC has an input for global interrupt {interrupt}")
            }
        }
    }
}

fn with_io_apics<R>(body: impl FnOnce(&mut Vec<IoApic>) -> R) -> R {
    let enabled = interrupts_enabled();
    disable_interrupts();
    let result = body(&mut IO_APICS.lock());
    if enabled {
        enable_interrupts();
    }
    result
}

/// Maps the I/O APIC `description` names (uncached, in paging's device range), masks all its
/// inputs and returns how many it has.
pub fn add(description: &IoApicDescription) -> Result<u32, IoApicError> {
    let registers = map_device_memory(
        u64::from(description.address),
        IO_APIC_REGISTERS_BYTES,
        Caching::Uncached,
    )
    .map_err(IoApicError::CannotMap)?;
    let mut io_apic = IoApic {
        registers: registers as usize,
        first_interrupt: description.first_interrupt,
        inputs: 0,
    };
    io_apic.inputs = io_apic_inputs(io_apic.read(IO_APIC_VERSION));
    for input in 0..io_apic.inputs {
        io_apic.write_entry(input, REDIRECTION_MASKED);
    }
    let inputs = io_apic.inputs;
    with_io_apics(|io_apics| io_apics.push(io_apic));
    Ok(inputs)
}

/// Points `global_interrupt` at `entry` (vector, signalling, destination CPU, mask).
pub fn route(global_interrupt: u32, entry: RedirectionEntry) -> Result<(), IoApicError> {
    with_io_apics(|io_apics| {
        let io_apic = io_apics
            .iter()
            .find(|io_apic| io_apic.serves(global_interrupt))
            .ok_or(IoApicError::NoInputFor(global_interrupt))?;
        io_apic.write_entry(global_interrupt - io_apic.first_interrupt, entry.bits());
        Ok(())
    })
}
