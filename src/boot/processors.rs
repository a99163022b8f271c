//! Bringing the other CPUs up at boot, one at a time, and what the kernel knows of every CPU:
//! its APIC ID and whether it runs threads (the shell's `cpu` lists them).

use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use super::information::{BootInformation, PhysicalRange};
use crate::arch::x86::cpu::{enable_interrupts, halt_forever, spin_loop_hint};
use crate::arch::x86::per_cpu::{MAX_CPUS, current_index};
use crate::arch::x86::platform::Platform;
use crate::arch::x86::processor_startup::{
    prepare_trampoline, send_startup_sequence, trampoline_bytes,
};
use crate::arch::x86::vectors::{RESCHEDULE_VECTOR, TLB_SHOOTDOWN_VECTOR};
use crate::arch::x86::{gdt, interrupts, local_apic, paging, tlb};
use crate::diagnostics::fatal;
use crate::log;
use crate::sync::spin_lock::SpinLock;
use crate::thread::scheduler::{self, ReservedIdleThread};
use crate::time::Instant;

/// Where a CPU stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CpuState {
    /// Not started (yet).
    Offline = 0,
    /// Sent its startup IPIs, not yet running threads.
    Starting = 1,
    /// Runs threads.
    Online = 2,
    /// Did not answer its startup IPIs in time; left out.
    NotAnswering = 3,
}

impl CpuState {
    pub fn name(self) -> &'static str {
        match self {
            CpuState::Offline => "offline",
            CpuState::Starting => "starting",
            CpuState::Online => "online",
            CpuState::NotAnswering => "not answering",
        }
    }

    fn from_number(number: u8) -> CpuState {
        match number {
            1 => CpuState::Starting,
            2 => CpuState::Online,
            3 => CpuState::NotAnswering,
            _ => CpuState::Offline,
        }
    }
}

/// One CPU as the kernel numbers it (index 0 is the bootstrap processor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuRecord {
    pub index: usize,
    pub apic_id: u8,
    pub state: CpuState,
}

static APIC_IDS: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(0) }; MAX_CPUS];
static STATES: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(0) }; MAX_CPUS];
/// How many CPUs have an index (the bootstrap processor and every one sent startup IPIs).
static KNOWN_CPUS: AtomicUsize = AtomicUsize::new(1);
/// The idle thread each starting CPU takes over.
static IDLE_THREADS: SpinLock<[Option<ReservedIdleThread>; MAX_CPUS]> =
    SpinLock::new([const { None }; MAX_CPUS]);

/// How long a CPU may take from its first startup IPI to running threads.
const ANSWER_TIMEOUT_MICROSECONDS: u64 = 200_000;
/// INIT-SIPI-SIPI timing (Intel SDM Vol. 3A §9.4.4.1): 10 ms after INIT, 200 µs after a SIPI.
const WAIT_AFTER_INIT_MICROSECONDS: u64 = 10_000;
const WAIT_AFTER_STARTUP_MICROSECONDS: u64 = 200;

/// Every CPU with an index, in index order.
pub fn cpus() -> impl Iterator<Item = CpuRecord> {
    (0..KNOWN_CPUS.load(Ordering::Acquire)).map(|index| CpuRecord {
        index,
        apic_id: APIC_IDS[index].load(Ordering::Relaxed),
        state: CpuState::from_number(STATES[index].load(Ordering::Acquire)),
    })
}

/// How many CPUs run threads.
pub fn online_count() -> usize {
    cpus().filter(|cpu| cpu.state == CpuState::Online).count()
}

/// Records the bootstrap processor as CPU 0, online, and, where the local APICs took over the
/// interrupts, sets up the inter-processor interrupts the scheduler and the TLB shootdown use.
pub fn register_bootstrap_processor(apics: bool) {
    if apics {
        let apic_id = local_apic::id();
        APIC_IDS[0].store(apic_id, Ordering::Relaxed);
        interrupts::register_local_vector_handler(RESCHEDULE_VECTOR, || {});
        interrupts::register_local_vector_handler(TLB_SHOOTDOWN_VECTOR, tlb::answer_shootdown);
        tlb::add_listener(apic_id);
    }
    STATES[0].store(CpuState::Online as u8, Ordering::Release);
}

/// Sends `cpu` the scheduler's reschedule interrupt; the interrupt's exit switches threads.
fn signal_reschedule(cpu: usize) {
    local_apic::send_fixed(APIC_IDS[cpu].load(Ordering::Relaxed), RESCHEDULE_VECTOR);
}

fn busy_wait(microseconds: u64) {
    let start = Instant::now();
    while start.elapsed_microseconds() < microseconds {
        spin_loop_hint();
    }
}

/// A free page below 1 MiB for the trampoline: RAM by the memory map, clear of the loader's
/// structures, and not page 0 (which paging leaves unmapped).
fn trampoline_page(boot_information: &BootInformation) -> Option<u32> {
    const PAGE: u64 = 4096;
    (1..0x100u64)
        .map(|number| number * PAGE)
        .find(|&start| {
            let page = PhysicalRange::new(start, start + PAGE);
            let in_ram = boot_information
                .available()
                .iter()
                .any(|range| range.start <= page.start && page.end <= range.end);
            in_ram && !boot_information.reserved().iter().any(|range| range.overlaps(&page))
        })
        .map(|start| start as u32)
}

/// Starts every usable processor the platform lists besides this one, one at a time, and
/// reports on COM1 how many answered. Each gets an idle thread and then runs threads.
pub fn start_application_processors(platform: &Platform, boot_information: &BootInformation) {
    let own_apic_id = local_apic::id();
    let others = || platform.usable_processors().filter(|cpu| cpu.apic_id != own_apic_id);
    if others().next().is_none() {
        return;
    }
    let Some(page) = trampoline_page(boot_information) else {
        log!("cpus: no free page below 1 MiB for the startup code; running on one CPU");
        return;
    };
    debug_assert!(trampoline_bytes() < 4096);
    scheduler::set_reschedule_signal(signal_reschedule);
    let started = Instant::now();
    for processor in others() {
        let index = KNOWN_CPUS.load(Ordering::Relaxed);
        if index == MAX_CPUS {
            log!(
                "cpus: APIC ID {} left out: the kernel runs at most {MAX_CPUS} CPUs",
                processor.apic_id
            );
            continue;
        }
        let idle = match scheduler::reserve_idle_thread("idle") {
            Ok(idle) => idle,
            Err(error) => {
                log!("cpus: APIC ID {} left out: {error}", processor.apic_id);
                break;
            }
        };
        let stack_top = idle.stack_top;
        IDLE_THREADS.lock()[index] = Some(idle);
        APIC_IDS[index].store(processor.apic_id, Ordering::Relaxed);
        STATES[index].store(CpuState::Starting as u8, Ordering::Release);
        KNOWN_CPUS.store(index + 1, Ordering::Release);
        // SAFETY: the page is free RAM below 1 MiB (chosen from the memory map, clear of the
        // loader's structures), identity-mapped, and only this start uses it, one CPU at a
        // time; the stack belongs to the idle thread reserved for this CPU alone.
        let prepared = unsafe {
            prepare_trampoline(page, stack_top, application_processor_main, index as u32)
        };
        let answered = || STATES[index].load(Ordering::Acquire) == CpuState::Online as u8;
        let sent = prepared.and_then(|()| {
            send_startup_sequence(
                processor.apic_id,
                page,
                || busy_wait(WAIT_AFTER_INIT_MICROSECONDS),
                || busy_wait(WAIT_AFTER_STARTUP_MICROSECONDS),
                answered,
            )
        });
        let waiting = Instant::now();
        while sent.is_ok()
            && !answered()
            && waiting.elapsed_microseconds() < ANSWER_TIMEOUT_MICROSECONDS
        {
            spin_loop_hint();
        }
        // A CPU that comes online from now on finds itself given up, and halts.
        if leave_starting(index, CpuState::NotAnswering) {
            match sent {
                Err(error) => log!("cpus: APIC ID {} left out: {error}", processor.apic_id),
                Ok(()) => log!(
                    "cpus: APIC ID {} did not answer within {} ms; left out",
                    processor.apic_id,
                    ANSWER_TIMEOUT_MICROSECONDS / 1000
                ),
            }
            // Back to waiting for a start-up IPI, so a late CPU cannot run on with the next
            // CPU's parameters in the shared page. Its idle thread stays reserved all the same.
            local_apic::send_init(processor.apic_id);
        }
    }
    let microseconds = started.elapsed_microseconds();
    log!(
        "cpus: {} of {} online, started in {microseconds} us",
        online_count(),
        KNOWN_CPUS.load(Ordering::Relaxed)
    );
}

/// Moves CPU `index` from `Starting` to `state`, unless the other side (the CPU itself, or the
/// bootstrap processor giving up on it) got there first.
fn leave_starting(index: usize, state: CpuState) -> bool {
    STATES[index]
        .compare_exchange(
            CpuState::Starting as u8,
            state as u8,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_ok()
}

/// Where an application processor arrives from the trampoline, on its idle thread's stack, with
/// paging and SSE on and interrupts off.
extern "C" fn application_processor_main(index: u32) -> ! {
    let index = index as usize;
    gdt::load(index);
    interrupts::load_on_this_cpu();
    paging::apply_memory_types_on_this_cpu();
    local_apic::enable_on_this_cpu();
    let idle = IDLE_THREADS.lock()[index].take().expect("a starting CPU has its idle thread");
    debug_assert_eq!(current_index(), index);
    if !leave_starting(index, CpuState::Online) {
        // Too late: the bootstrap processor has left this CPU out.
        halt_forever();
    }
    // From here a fatal report on another CPU stops this one too.
    fatal::add_other_cpu();
    scheduler::enter_on_this_cpu(idle);
    tlb::add_listener(local_apic::id());
    if let Err(error) = local_apic::start_timer() {
        log!("cpus: CPU {index} runs without a timer: {error:?}");
    }
    enable_interrupts();
    scheduler::run_idle(|| {})
}
