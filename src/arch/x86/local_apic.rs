//! The local APIC, each CPU's own interrupt controller (Intel SDM Vol. 3A ch. 11; ch. 12 from
//! 2023 on): enabling it, end of interrupt, its ID and task priority, inter-processor
//! interrupts, and its timer, which is each CPU's scheduler tick on the APIC path.
//!
//! Every CPU's local APIC answers at the same physical address, so one uncached mapping (in
//! paging's device range) serves them all, and every function here acts on the calling CPU's.
//! Before `initialize` maps the registers, reads give 0 and writes do nothing: `id()` is then 0,
//! the only CPU's, and no inter-processor interrupt is sent.

use core::sync::atomic::{AtomicU32, Ordering};

use super::apic_registers::{
    APIC_BASE_BOOTSTRAP_PROCESSOR, APIC_BASE_GLOBAL_ENABLE, DeliveryMode, END_OF_INTERRUPT,
    ERROR_STATUS, IA32_APIC_BASE, INTERRUPT_COMMAND_HIGH, INTERRUPT_COMMAND_LOW,
    INTERRUPT_COMMAND_PENDING, InterruptCommand, IpiDestination, LOCAL_APIC_ID,
    LOCAL_APIC_REGISTERS_BYTES, LOCAL_VECTOR_ERROR, LOCAL_VECTOR_EXTERNAL_INTERRUPT,
    LOCAL_VECTOR_LINT0, LOCAL_VECTOR_LINT1, LOCAL_VECTOR_MASKED, LOCAL_VECTOR_NMI,
    LOCAL_VECTOR_TIMER, SPURIOUS_INTERRUPT_VECTOR, TASK_PRIORITY, TIMER_CURRENT_COUNT,
    TIMER_DIVIDE_CONFIGURATION, TIMER_INITIAL_COUNT, TimerMode, spurious_interrupt_register,
    timer_divide_configuration, timer_entry,
};
use super::cpu::{
    cpuid, disable_interrupts, enable_interrupts, interrupts_enabled, read_msr,
    read_time_stamp_counter, write_msr,
};
use super::page_table::Caching;
use super::paging::{DeviceMapError, map_device_memory};
use super::vectors::{
    LOCAL_APIC_ERROR_VECTOR, LOCAL_APIC_SPURIOUS_VECTOR, LOCAL_APIC_TIMER_VECTOR,
};

/// CPUID.01H:EDX bit 9: the CPU has a local APIC, enabled in IA32_APIC_BASE.
const CPUID_EDX_APIC: u32 = 1 << 9;
/// The timer counts the bus clock divided by this. 16 is what Linux uses; it keeps a 1 ms
/// period within the 32-bit count on any bus.
pub const TIMER_DIVISOR: u32 = 16;
/// Polls of the interrupt command register's pending bit before giving up: a local APIC
/// clears it within microseconds, far fewer polls than this (each an uncached read).
const DELIVERY_POLLS: u32 = 1_000_000;

/// Virtual address of the registers; 0 until `initialize` maps them.
static REGISTERS: AtomicU32 = AtomicU32::new(0);
/// Timer counts per tick, from the boot CPU's calibration; 0 until `set_timer_period`.
static TIMER_COUNTS_PER_TICK: AtomicU32 = AtomicU32::new(0);
/// Error interrupts seen, on any CPU.
static ERRORS: AtomicU32 = AtomicU32::new(0);

/// Why the local APIC cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalApicError {
    /// CPUID says the CPU has none (or the firmware disabled it).
    Absent,
    /// Its registers could not be mapped.
    CannotMap(DeviceMapError),
    /// `start_timer` before `set_timer_period`.
    TimerNotCalibrated,
}

impl core::fmt::Display for LocalApicError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LocalApicError::Absent => write!(formatter, "the CPU has no local APIC"),
            LocalApicError::CannotMap(error) => {
                write!(formatter, "the local APIC's registers cannot be mapped ({error:?})")
            }
            LocalApicError::TimerNotCalibrated => {
                write!(formatter, "the local APIC timer was never calibrated")
            }
        }
    }
}

/// Whether this CPU has a local APIC (CPUID).
pub fn is_present() -> bool {
    cpuid(1, 0).edx & CPUID_EDX_APIC != 0
}

/// Whether `initialize` mapped the registers.
pub fn is_mapped() -> bool {
    REGISTERS.load(Ordering::Relaxed) != 0
}

/// Maps the local APIC registers at `physical_address` (uncached; once, on the boot CPU, after
/// paging is on) and enables the calling CPU's local APIC.
pub fn initialize(physical_address: u32) -> Result<(), LocalApicError> {
    if !is_present() {
        return Err(LocalApicError::Absent);
    }
    if !is_mapped() {
        let base = map_device_memory(
            u64::from(physical_address),
            LOCAL_APIC_REGISTERS_BYTES,
            Caching::Uncached,
        )
        .map_err(LocalApicError::CannotMap)?;
        REGISTERS.store(base, Ordering::Relaxed);
    }
    enable_on_this_cpu();
    Ok(())
}

/// Enables the calling CPU's local APIC: task priority 0 (every vector gets through), LINT0
/// (where the 8259s' virtual-wire output arrives) masked, LINT1 the NMI line on the bootstrap
/// processor and masked elsewhere, errors on their vector, the spurious vector set, the timer
/// masked. Application processors call it after the boot CPU's `initialize`.
pub fn enable_on_this_cpu() {
    let base = read_msr(IA32_APIC_BASE);
    if base & APIC_BASE_GLOBAL_ENABLE == 0 {
        // SAFETY: setting the global enable bit, with the base address unchanged, only turns
        // on the local APIC that CPUID reports; its registers are not in use yet.
        unsafe { write_msr(IA32_APIC_BASE, base | APIC_BASE_GLOBAL_ENABLE) };
    }
    write(TASK_PRIORITY, 0);
    write(LOCAL_VECTOR_LINT0, LOCAL_VECTOR_MASKED);
    let lint1 = if base & APIC_BASE_BOOTSTRAP_PROCESSOR != 0 {
        LOCAL_VECTOR_NMI
    } else {
        LOCAL_VECTOR_NMI | LOCAL_VECTOR_MASKED
    };
    write(LOCAL_VECTOR_LINT1, lint1);
    write(LOCAL_VECTOR_ERROR, u32::from(LOCAL_APIC_ERROR_VECTOR));
    write(LOCAL_VECTOR_TIMER, timer_entry(LOCAL_APIC_TIMER_VECTOR, TimerMode::OneShot, true));
    // The error status register latches on a write (SDM Vol. 3A §11.5.3): write, then clear.
    write(ERROR_STATUS, 0);
    write(ERROR_STATUS, 0);
    write(SPURIOUS_INTERRUPT_VECTOR, spurious_interrupt_register(LOCAL_APIC_SPURIOUS_VECTOR));
    // Acknowledge anything the firmware left in service.
    write(END_OF_INTERRUPT, 0);
}

/// Gives the 8259s back their path to this CPU after `initialize` (LINT0 in virtual-wire
/// mode, the timer masked), for a boot that falls back to them. Without a mapped local APIC it
/// does nothing: the firmware's set-up is untouched.
pub fn pass_pic_interrupts_through() {
    write(LOCAL_VECTOR_TIMER, timer_entry(LOCAL_APIC_TIMER_VECTOR, TimerMode::OneShot, true));
    write(LOCAL_VECTOR_LINT0, LOCAL_VECTOR_EXTERNAL_INTERRUPT);
}

fn register_address(offset: usize) -> Option<*mut u32> {
    let base = REGISTERS.load(Ordering::Relaxed);
    (base != 0).then(|| (base as usize + offset) as *mut u32)
}

fn read(offset: usize) -> u32 {
    match register_address(offset) {
        // SAFETY: `initialize` mapped the register page uncached for good; every offset used
        // here is a register in it, and reading one has no side effect on the APIC.
        Some(register) => unsafe { core::ptr::read_volatile(register) },
        None => 0,
    }
}

fn write(offset: usize, value: u32) {
    if let Some(register) = register_address(offset) {
        // SAFETY: as for `read`; each caller writes a value the SDM defines for the register.
        unsafe { core::ptr::write_volatile(register, value) };
    }
}

/// The calling CPU's local APIC ID (bits 24-31 of its ID register); 0 without a local APIC.
pub fn id() -> u8 {
    (read(LOCAL_APIC_ID) >> 24) as u8
}

/// Tells the local APIC the interrupt in service is handled, so it delivers the next one of
/// the same or lower priority. Never for the spurious vector.
pub fn end_of_interrupt() {
    write(END_OF_INTERRUPT, 0);
}

/// Sets the task priority: vectors whose priority class (vector / 16) is at or below
/// `priority` / 16 are held back (SDM Vol. 3A §11.8.3.1).
pub fn set_task_priority(priority: u8) {
    write(TASK_PRIORITY, u32::from(priority));
}

/// Counts an error interrupt and clears the error status (the error handler's whole work).
pub fn record_error() {
    write(ERROR_STATUS, 0);
    ERRORS.fetch_add(1, Ordering::Relaxed);
}

/// Error interrupts seen so far.
pub fn error_count() -> u32 {
    ERRORS.load(Ordering::Relaxed)
}

/// Waits, bounded, until the local APIC has sent the last inter-processor interrupt; false if
/// it was still pending after a million polls.
pub fn wait_for_delivery() -> bool {
    for _ in 0..DELIVERY_POLLS {
        if read(INTERRUPT_COMMAND_LOW) & INTERRUPT_COMMAND_PENDING == 0 {
            return true;
        }
        core::hint::spin_loop();
    }
    false
}

/// Sends `command` from the calling CPU, after the previous one has gone. Interrupts are off
/// between the two halves, so a handler's own IPI cannot change the destination in between.
fn send(command: InterruptCommand) {
    let enabled = interrupts_enabled();
    disable_interrupts();
    wait_for_delivery();
    write(INTERRUPT_COMMAND_HIGH, command.high());
    write(INTERRUPT_COMMAND_LOW, command.low());
    if enabled {
        enable_interrupts();
    }
}

/// Sends INIT to the CPU with local APIC `apic_id`: it resets and waits for a start-up IPI.
pub fn send_init(apic_id: u8) {
    send(InterruptCommand {
        mode: DeliveryMode::Init,
        vector: 0,
        destination: IpiDestination::Apic(apic_id),
    });
}

/// Sends a start-up IPI to `apic_id`: it starts in real mode at physical address
/// `page` * 4096 (the trampoline's page number, below 1 MiB).
pub fn send_startup(apic_id: u8, page: u8) {
    send(InterruptCommand {
        mode: DeliveryMode::Startup,
        vector: page,
        destination: IpiDestination::Apic(apic_id),
    });
}

/// Sends interrupt `vector` to the CPU with local APIC `apic_id` (which may be the caller's).
pub fn send_fixed(apic_id: u8, vector: u8) {
    send(InterruptCommand {
        mode: DeliveryMode::Fixed,
        vector,
        destination: IpiDestination::Apic(apic_id),
    });
}

/// Sends interrupt `vector` to every CPU but the caller.
pub fn send_fixed_to_all_others(vector: u8) {
    send(InterruptCommand {
        mode: DeliveryMode::Fixed,
        vector,
        destination: IpiDestination::AllExcludingSelf,
    });
}

/// Sends a non-maskable interrupt to every CPU but the caller (it arrives even where
/// interrupts are off).
pub fn send_nmi_to_all_others() {
    send(InterruptCommand {
        mode: DeliveryMode::NonMaskable,
        vector: 0,
        destination: IpiDestination::AllExcludingSelf,
    });
}

/// One measurement of the local APIC timer against the time-stamp counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerWindow {
    /// Timer counts between the two readings of its current count.
    pub counts: u32,
    /// Counter ticks between the two readings, each taken as the middle of the counter
    /// readings on either side of it.
    pub elapsed_ticks: u64,
    /// The widths of both brackets added up: large if the CPU was paused near either end.
    pub slack_ticks: u64,
}

/// Reads the timer's current count between two time-stamp counter readings.
fn bracketed_count() -> (u64, u32, u64) {
    let before = read_time_stamp_counter();
    let count = read(TIMER_CURRENT_COUNT);
    let after = read_time_stamp_counter();
    (before, count, after)
}

/// Runs the calling CPU's timer one-shot and masked from its largest count, and measures how
/// many time-stamp counter ticks pass while it counts down at least `counts` (each end of the
/// window a current-count reading bracketed by two counter readings). The timer is left
/// stopped.
pub fn measure_timer_window(counts: u32) -> TimerWindow {
    write(LOCAL_VECTOR_TIMER, timer_entry(LOCAL_APIC_TIMER_VECTOR, TimerMode::OneShot, true));
    write(TIMER_DIVIDE_CONFIGURATION, divide_configuration());
    write(TIMER_INITIAL_COUNT, u32::MAX);
    let (start_before, start_count, start_after) = bracketed_count();
    let (end_before, end_count, end_after) = loop {
        let reading = bracketed_count();
        if start_count.wrapping_sub(reading.1) >= counts || !is_mapped() {
            break reading;
        }
        core::hint::spin_loop();
    };
    write(TIMER_INITIAL_COUNT, 0);
    TimerWindow {
        counts: start_count.wrapping_sub(end_count),
        elapsed_ticks: (end_before + end_after).saturating_sub(start_before + start_after) / 2,
        slack_ticks: (start_after - start_before) + (end_after - end_before),
    }
}

fn divide_configuration() -> u32 {
    const { assert!(timer_divide_configuration(TIMER_DIVISOR).is_some()) };
    timer_divide_configuration(TIMER_DIVISOR).unwrap_or(0)
}

/// Stores the timer's period in counts (of the bus clock / `TIMER_DIVISOR`), for every CPU's
/// `start_timer`.
pub fn set_timer_period(counts_per_tick: u32) {
    TIMER_COUNTS_PER_TICK.store(counts_per_tick, Ordering::Relaxed);
}

/// Starts the calling CPU's timer: periodic, on `LOCAL_APIC_TIMER_VECTOR`, with the period
/// `set_timer_period` stored.
pub fn start_timer() -> Result<(), LocalApicError> {
    let counts = TIMER_COUNTS_PER_TICK.load(Ordering::Relaxed);
    if counts == 0 {
        return Err(LocalApicError::TimerNotCalibrated);
    }
    write(TIMER_DIVIDE_CONFIGURATION, divide_configuration());
    write(LOCAL_VECTOR_TIMER, timer_entry(LOCAL_APIC_TIMER_VECTOR, TimerMode::Periodic, false));
    // Writing the initial count starts the countdown (SDM Vol. 3A §11.5.4).
    write(TIMER_INITIAL_COUNT, counts);
    Ok(())
}

/// Masks or unmasks the calling CPU's periodic timer; it keeps counting either way.
pub fn set_timer_masked(masked: bool) {
    write(LOCAL_VECTOR_TIMER, timer_entry(LOCAL_APIC_TIMER_VECTOR, TimerMode::Periodic, masked));
}
