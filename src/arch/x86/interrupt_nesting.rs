//! Nested sections with interrupts off (xv6's `pushcli`/`popcli`): the first `push` remembers
//! whether interrupts were on, the matching last `pop` turns them back on only then, so a lock
//! taken inside an interrupt handler or inside another lock never enables interrupts early.
//!
//! Each CPU has its own depth counter, read only with interrupts off (so the thread cannot move
//! to another CPU meanwhile). A thread switch happens inside such a section, and each thread
//! keeps its own record across it (`save`, `restore`).

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::cpu::{disable_interrupts, enable_interrupts, interrupts_enabled};
use super::per_cpu::{MAX_CPUS, current_index};

static DEPTH: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
static ENABLED_BEFORE: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// A thread's interrupts-off nesting, kept on its stack while other threads run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nesting {
    depth: u32,
    enabled_before: bool,
}

impl Nesting {
    /// The record of a new thread's first switch-in: two sections open (the switch's own and
    /// the scheduler's lock, which the switch keeps), interrupts on once both close.
    pub const NEW_THREAD: Nesting = Nesting { depth: 2, enabled_before: true };
}

/// Turns interrupts off and opens a section.
pub fn push() {
    let enabled = interrupts_enabled();
    disable_interrupts();
    let cpu = current_index();
    if DEPTH[cpu].fetch_add(1, Ordering::Relaxed) == 0 {
        ENABLED_BEFORE[cpu].store(enabled, Ordering::Relaxed);
    }
}

/// Closes a section; the last one turns interrupts back on if they were on at the first push.
pub fn pop() {
    assert!(!interrupts_enabled(), "interrupts-off section closed with interrupts on");
    let cpu = current_index();
    let depth = DEPTH[cpu].load(Ordering::Relaxed);
    assert!(depth > 0, "interrupts-off section closed more often than opened");
    // Read before the depth drops to 0: from then on an NMI handler's own section may rewrite it.
    let enabled_before = ENABLED_BEFORE[cpu].load(Ordering::Relaxed);
    DEPTH[cpu].store(depth - 1, Ordering::Relaxed);
    if depth == 1 && enabled_before {
        enable_interrupts();
    }
}

/// How many sections are open on this CPU. With interrupts on there are none (a section keeps
/// them off), and the thread could move to another CPU between reading its index and its count.
pub fn depth() -> u32 {
    if interrupts_enabled() {
        return 0;
    }
    DEPTH[current_index()].load(Ordering::Relaxed)
}

/// This CPU's record, for the thread that is about to switch away (interrupts are off).
pub fn save() -> Nesting {
    let cpu = current_index();
    Nesting {
        depth: DEPTH[cpu].load(Ordering::Relaxed),
        enabled_before: ENABLED_BEFORE[cpu].load(Ordering::Relaxed),
    }
}

/// Puts back the record of the thread that has just been switched to (interrupts are off).
pub fn restore(nesting: Nesting) {
    let cpu = current_index();
    DEPTH[cpu].store(nesting.depth, Ordering::Relaxed);
    ENABLED_BEFORE[cpu].store(nesting.enabled_before, Ordering::Relaxed);
}
