//! Nested sections with interrupts off (xv6's `pushcli`/`popcli`): the first `push` remembers
//! whether interrupts were on, the matching last `pop` turns them back on only then, so a lock
//! taken inside an interrupt handler or inside another lock never enables interrupts early.
//!
//! There is one CPU, so one depth counter. A thread switch happens inside such a section, and
//! each thread keeps its own record across it (`save`, `restore`).

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::cpu::{disable_interrupts, enable_interrupts, interrupts_enabled};

static DEPTH: AtomicU32 = AtomicU32::new(0);
static ENABLED_BEFORE: AtomicBool = AtomicBool::new(false);

/// A thread's interrupts-off nesting, kept on its stack while other threads run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nesting {
    depth: u32,
    enabled_before: bool,
}

impl Nesting {
    /// The record of a new thread's first switch-in: one section open (the switch's own),
    /// interrupts on once it closes.
    pub const NEW_THREAD: Nesting = Nesting { depth: 1, enabled_before: true };
}

/// Turns interrupts off and opens a section.
pub fn push() {
    let enabled = interrupts_enabled();
    disable_interrupts();
    if DEPTH.fetch_add(1, Ordering::Relaxed) == 0 {
        ENABLED_BEFORE.store(enabled, Ordering::Relaxed);
    }
}

/// Closes a section; the last one turns interrupts back on if they were on at the first push.
pub fn pop() {
    let depth = DEPTH.load(Ordering::Relaxed);
    assert!(depth > 0, "interrupts-off section closed more often than opened");
    DEPTH.store(depth - 1, Ordering::Relaxed);
    if depth == 1 && ENABLED_BEFORE.load(Ordering::Relaxed) {
        enable_interrupts();
    }
}

/// How many sections are open.
pub fn depth() -> u32 {
    DEPTH.load(Ordering::Relaxed)
}

/// This CPU's record, for the thread that is about to switch away.
pub fn save() -> Nesting {
    Nesting {
        depth: DEPTH.load(Ordering::Relaxed),
        enabled_before: ENABLED_BEFORE.load(Ordering::Relaxed),
    }
}

/// Puts back the record of the thread that has just been switched to.
pub fn restore(nesting: Nesting) {
    DEPTH.store(nesting.depth, Ordering::Relaxed);
    ENABLED_BEFORE.store(nesting.enabled_before, Ordering::Relaxed);
}
