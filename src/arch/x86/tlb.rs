//! Making the other CPUs forget translations this one removed (TLB shootdown, Intel SDM Vol. 3A
//! §4.10.5): an IPI whose handler invalidates the pages and clears its CPU's bit in a mask the
//! sender waits on.
//!
//! The sender keeps interrupts off from start to end, so it cannot be preempted while other
//! CPUs wait for it, nor move to another CPU. While it waits (for another shootdown to end, or
//! for the answers) it answers any request addressed to itself, so two CPUs shooting at each
//! other both finish.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::cpu::spin_loop_hint;
use super::interrupt_nesting;
use super::local_apic;
use super::vectors::TLB_SHOOTDOWN_VECTOR;

const PAGE_BYTES: u32 = 4096;

/// The APIC IDs (below 64) of the CPUs that run threads and so may cache kernel translations.
static LISTENERS: AtomicU64 = AtomicU64::new(0);
/// One shootdown at a time: the range, and the APIC IDs that have yet to invalidate it.
static IN_PROGRESS: AtomicBool = AtomicBool::new(false);
static RANGE_START: AtomicU32 = AtomicU32::new(0);
static RANGE_END: AtomicU32 = AtomicU32::new(0);
static UNANSWERED: AtomicU64 = AtomicU64::new(0);

/// Counts the CPU with `apic_id` among those a shootdown must reach.
pub fn add_listener(apic_id: u8) {
    if apic_id < 64 {
        LISTENERS.fetch_or(1 << apic_id, Ordering::AcqRel);
    }
}

fn bit(apic_id: u8) -> u64 {
    1u64.checked_shl(u32::from(apic_id)).unwrap_or(0)
}

/// Invalidates `[start, end)` on this CPU.
fn invalidate(start: u32, end: u32) {
    for page in (start..end).step_by(PAGE_BYTES as usize) {
        // SAFETY: dropping cached translations only makes the next access walk the tables.
        unsafe { asm!("invlpg [{}]", in(reg) page, options(nostack, preserves_flags)) };
    }
}

/// Invalidates `[start, end)` on this CPU and has every other listening CPU do the same, and
/// waits until all have. This CPU too: a thread that unmapped some of the pages elsewhere may
/// have moved here since. Must be called with no spin lock held: a CPU spinning for one with
/// interrupts off cannot answer.
pub fn invalidate_on_every_cpu(start: u32, end: u32) {
    interrupt_nesting::push();
    invalidate(start, end);
    let own = local_apic::id();
    let others = LISTENERS.load(Ordering::Acquire) & !bit(own);
    if others != 0 {
        while IN_PROGRESS
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            answer_shootdown();
            spin_loop_hint();
        }
        RANGE_START.store(start, Ordering::Relaxed);
        RANGE_END.store(end, Ordering::Relaxed);
        UNANSWERED.store(others, Ordering::Release);
        for apic_id in (0..64u8).filter(|&id| others & bit(id) != 0) {
            local_apic::send_fixed(apic_id, TLB_SHOOTDOWN_VECTOR);
        }
        while UNANSWERED.load(Ordering::Acquire) != 0 {
            spin_loop_hint();
        }
        IN_PROGRESS.store(false, Ordering::Release);
    }
    interrupt_nesting::pop();
}

/// The shootdown IPI's handler, also polled by a waiting sender: if this CPU has yet to answer
/// the shootdown in progress, invalidate its range and answer.
pub fn answer_shootdown() {
    let own = bit(local_apic::id());
    if UNANSWERED.load(Ordering::Acquire) & own != 0 {
        invalidate(RANGE_START.load(Ordering::Acquire), RANGE_END.load(Ordering::Acquire));
        UNANSWERED.fetch_and(!own, Ordering::AcqRel);
    }
}
