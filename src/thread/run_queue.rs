//! Which thread runs next: first-in first-out within a priority, higher priorities first, and
//! when the running thread must give way to a ready one.
#![forbid(unsafe_code)]

/// How urgent a thread is. A ready thread of a higher priority preempts a lower one at once;
/// threads of one priority share the CPU round-robin, one quantum each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Computation: tests, the demo, background work.
    Normal = 0,
    /// Drivers and what a person waits on (the keyboard, the clock, the shell): they block
    /// almost always, so running them first costs the others little and keeps typing quick.
    Interactive = 1,
}

const PRIORITIES: usize = 2;

/// A first-in first-out ring of thread slots for each priority; `CAPACITY` is the number of
/// slots, so a ring can never overflow (a thread is queued at most once).
pub struct RunQueues<const CAPACITY: usize> {
    rings: [Ring<CAPACITY>; PRIORITIES],
}

struct Ring<const CAPACITY: usize> {
    slots: [u8; CAPACITY],
    head: usize,
    length: usize,
}

impl<const CAPACITY: usize> Ring<CAPACITY> {
    const fn new() -> Self {
        Ring { slots: [0; CAPACITY], head: 0, length: 0 }
    }

    fn push(&mut self, slot: u8) {
        assert!(self.length < CAPACITY, "run queue overflow: a thread was queued twice");
        self.slots[(self.head + self.length) % CAPACITY] = slot;
        self.length += 1;
    }

    fn pop(&mut self) -> Option<u8> {
        if self.length == 0 {
            return None;
        }
        let slot = self.slots[self.head];
        self.head = (self.head + 1) % CAPACITY;
        self.length -= 1;
        Some(slot)
    }
}

impl<const CAPACITY: usize> RunQueues<CAPACITY> {
    pub const fn new() -> Self {
        RunQueues { rings: [Ring::new(), Ring::new()] }
    }

    /// Queues `slot` behind every ready thread of its priority.
    pub fn push(&mut self, slot: u8, priority: Priority) {
        self.rings[priority as usize].push(slot);
    }

    /// The thread to run next: the oldest of the highest priority that has one.
    pub fn pop(&mut self) -> Option<u8> {
        self.rings.iter_mut().rev().find_map(Ring::pop)
    }

    /// The highest priority with a ready thread.
    pub fn highest_ready(&self) -> Option<Priority> {
        if self.rings[Priority::Interactive as usize].length > 0 {
            Some(Priority::Interactive)
        } else if self.rings[Priority::Normal as usize].length > 0 {
            Some(Priority::Normal)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.rings.iter().map(|ring| ring.length).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<const CAPACITY: usize> Default for RunQueues<CAPACITY> {
    fn default() -> Self {
        Self::new()
    }
}

/// What the running thread is, as the preemption rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Running {
    /// The idle thread, which gives way to any ready thread.
    Idle,
    /// A thread of this priority that has used up its quantum or not.
    Thread { priority: Priority, quantum_expired: bool },
}

/// Whether the running thread must give the CPU to a ready one: the idle thread always does;
/// any thread does to a higher priority; a thread whose quantum is used up does to one of its
/// own priority, so equals take turns and none starves another.
pub fn should_preempt(running: Running, highest_ready: Option<Priority>) -> bool {
    let Some(ready) = highest_ready else { return false };
    match running {
        Running::Idle => true,
        Running::Thread { priority, quantum_expired } => {
            ready > priority || (ready == priority && quantum_expired)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_of_one_priority_run_in_the_order_they_became_ready() {
        let mut queues = RunQueues::<8>::new();
        for slot in [3, 1, 2] {
            queues.push(slot, Priority::Normal);
        }
        assert_eq!(
            [queues.pop(), queues.pop(), queues.pop(), queues.pop()],
            [Some(3), Some(1), Some(2), None]
        );
    }

    #[test]
    fn interactive_threads_go_before_normal_ones() {
        let mut queues = RunQueues::<8>::new();
        queues.push(1, Priority::Normal);
        queues.push(2, Priority::Interactive);
        queues.push(3, Priority::Normal);
        queues.push(4, Priority::Interactive);
        assert_eq!(queues.highest_ready(), Some(Priority::Interactive));
        let order: Vec<_> = core::iter::from_fn(|| queues.pop()).collect();
        assert_eq!(order, [2, 4, 1, 3]);
        assert!(queues.is_empty());
        assert_eq!(queues.highest_ready(), None);
    }

    #[test]
    fn round_robin_gives_every_spinner_equal_turns() {
        // Three threads that never block: each quantum the running one goes to the back.
        let mut queues = RunQueues::<4>::new();
        queues.push(1, Priority::Normal);
        queues.push(2, Priority::Normal);
        let mut running = 0u8;
        let mut turns = [0u32; 3];
        for _ in 0..300 {
            turns[usize::from(running)] += 1;
            let expired = Running::Thread { priority: Priority::Normal, quantum_expired: true };
            assert!(should_preempt(expired, queues.highest_ready()));
            queues.push(running, Priority::Normal);
            running = queues.pop().unwrap();
        }
        assert_eq!(turns, [100, 100, 100]);
    }

    #[test]
    fn the_ring_wraps_around_many_times() {
        let mut queues = RunQueues::<3>::new();
        for round in 0..100u8 {
            queues.push(round % 3, Priority::Normal);
            queues.push((round + 1) % 3, Priority::Normal);
            assert_eq!(queues.pop(), Some(round % 3));
            assert_eq!(queues.pop(), Some((round + 1) % 3));
        }
    }

    #[test]
    #[should_panic(expected = "run queue overflow")]
    fn queueing_more_threads_than_slots_is_caught() {
        let mut queues = RunQueues::<2>::new();
        for slot in 0..3 {
            queues.push(slot, Priority::Normal);
        }
    }

    #[test]
    fn preemption_rule() {
        let normal =
            |quantum_expired| Running::Thread { priority: Priority::Normal, quantum_expired };
        let interactive =
            |quantum_expired| Running::Thread { priority: Priority::Interactive, quantum_expired };
        assert!(!should_preempt(normal(true), None), "nothing ready: keep running");
        assert!(should_preempt(Running::Idle, Some(Priority::Normal)));
        assert!(should_preempt(normal(false), Some(Priority::Interactive)));
        assert!(!should_preempt(normal(false), Some(Priority::Normal)));
        assert!(should_preempt(normal(true), Some(Priority::Normal)));
        assert!(!should_preempt(interactive(true), Some(Priority::Normal)));
        assert!(should_preempt(interactive(true), Some(Priority::Interactive)));
    }
}
