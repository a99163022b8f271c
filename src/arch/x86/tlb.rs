//! Making the other CPUs forget translations this one removed (TLB shootdown, Intel SDM Vol. 3A
//! §4.10.5): an IPI whose handler invalidates the pages, and a count of answers the sender
//! waits for. The sender waits with interrupts on and no lock held, so two CPUs shooting at
//! each other both answer.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::cpu::{interrupts_enabled, spin_loop_hint};
use super::local_apic;
use super::vectors::TLB_SHOOTDOWN_VECTOR;

const PAGE_BYTES: u32 = 4096;

/// The APIC IDs (below 64) of the CPUs that run threads and so may cache kernel translations.
static LISTENERS: AtomicU64 = AtomicU64::new(0);
/// One shootdown at a time: the range and how many CPUs have yet to answer.
static IN_PROGRESS: AtomicBool = AtomicBool::new(false);
static RANGE_START: AtomicU32 = AtomicU32::new(0);
static RANGE_END: AtomicU32 = AtomicU32::new(0);
static UNANSWERED: AtomicU32 = AtomicU32::new(0);

/// Counts the CPU with `apic_id` among those a shootdown must reach.
pub fn add_listener(apic_id: u8) {
    if apic_id < 64 {
        LISTENERS.fetch_or(1 << apic_id, Ordering::AcqRel);
    }
}

/// Invalidates `[start, end)` on this CPU.
fn invalidate(start: u32, end: u32) {
    for page in (start..end).step_by(PAGE_BYTES as usize) {
        // SAFETY: dropping cached translations only makes the next access walk the tables.
        unsafe { asm!("invlpg [{}]", in(reg) page, options(nostack, preserves_flags)) };
    }
}

/// Has every other listening CPU invalidate `[start, end)` and waits until all have. Must be
/// called with interrupts on and no spin lock held (the other CPUs may wait for one).
pub fn invalidate_on_other_cpus(start: u32, end: u32) {
    let own = local_apic::id();
    let others =
        LISTENERS.load(Ordering::Acquire) & !(1u64.checked_shl(u32::from(own)).unwrap_or(0));
    if others == 0 {
        return;
    }
    assert!(interrupts_enabled(), "a TLB shootdown waited with interrupts off");
    while IN_PROGRESS.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        spin_loop_hint();
    }
    RANGE_START.store(start, Ordering::Relaxed);
    RANGE_END.store(end, Ordering::Relaxed);
    UNANSWERED.store(others.count_ones(), Ordering::Release);
    for apic_id in (0..64u8).filter(|id| others & (1 << id) != 0) {
        local_apic::send_fixed(apic_id, TLB_SHOOTDOWN_VECTOR);
    }
    while UNANSWERED.load(Ordering::Acquire) != 0 {
        spin_loop_hint();
    }
    IN_PROGRESS.store(false, Ordering::Release);
}

/// The shootdown IPI's handler: invalidate the range, then answer.
pub fn answer_shootdown() {
    invalidate(RANGE_START.load(Ordering::Acquire), RANGE_END.load(Ordering::Acquire));
    UNANSWERED.fetch_sub(1, Ordering::AcqRel);
}
