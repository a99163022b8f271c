//! The scheduler: a table of thread slots, run queues by priority shared by every CPU, and the
//! switch between threads. Each CPU's timer preempts (one quantum per turn), threads block and
//! are woken through a park/unpark permit, a wake-up signals an idle CPU, and an exited
//! thread's stack is freed by the next thread to run on its CPU, and its slot only after that,
//! so a new thread cannot map its stack into a window that is still being unmapped.
//!
//! The scheduler's state is behind one interrupt-safe spin lock, which a switching thread keeps
//! across the switch: the thread switched to releases it. So no other CPU can pick a thread
//! that is still saving its registers.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use super::run_queue::{Priority, RunQueues, Running, should_preempt};
use super::stack::{self, ThreadStack};
use crate::arch::x86::context::{prepare_stack, switch};
use crate::arch::x86::cpu::read_time_stamp_counter;
use crate::arch::x86::interrupt_nesting::{self, Nesting};
use crate::arch::x86::per_cpu::{MAX_CPUS, current_index};
use crate::arch::x86::stacks::boot_stack_bounds;
use crate::sync::spin_lock::SpinLock;
use crate::time::{counter_at_uptime, counter_ticks_to_microseconds};

/// The most threads that exist at once, the idle thread included.
pub const MAX_THREADS: usize = 64;
/// The timer ticks (milliseconds) a thread runs before an equal takes its turn.
pub const QUANTUM_TICKS: u32 = 4;
/// The boot flow becomes the bootstrap processor's idle thread, in slot 0, on the boot stack.
const BOOT_IDLE_SLOT: usize = 0;

/// A thread, as other threads name it: its slot and its unique id (slots are reused, ids
/// never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadId {
    slot: u8,
    id: u32,
}

impl ThreadId {
    /// The number `ps` shows and `kill` takes.
    pub fn number(self) -> u32 {
        self.id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadState {
    Running,
    Ready,
    Blocked,
    Exited,
}

impl ThreadState {
    pub fn name(self) -> &'static str {
        match self {
            ThreadState::Running => "running",
            ThreadState::Ready => "ready",
            ThreadState::Blocked => "blocked",
            ThreadState::Exited => "exited",
        }
    }
}

struct ThreadControl {
    id: u32,
    name: &'static str,
    priority: Priority,
    state: ThreadState,
    /// `None` for the idle thread, which runs on the boot stack.
    stack: Option<ThreadStack>,
    saved_stack_pointer: u32,
    /// An unpark that came while the thread was not parked: its next park returns at once.
    permit: bool,
    /// A parked thread with a deadline is made ready by the timer once the time-stamp counter
    /// reaches it.
    wake_at: Option<u64>,
    /// Time on the CPU, in time-stamp counter ticks.
    cpu_ticks: u64,
    /// The CPU it runs on, or last ran on.
    cpu: u8,
    stop_requested: bool,
    /// The thread waiting in `join` for this one to be gone.
    joiner: Option<ThreadId>,
}

impl ThreadControl {
    /// A control block with no stack yet, nothing pending and no CPU time.
    fn new(id: u32, name: &'static str, priority: Priority, state: ThreadState) -> Box<Self> {
        Box::new(ThreadControl {
            id,
            name,
            priority,
            state,
            stack: None,
            saved_stack_pointer: 0,
            permit: false,
            wake_at: None,
            cpu_ticks: 0,
            cpu: 0,
            stop_requested: false,
            joiner: None,
        })
    }
}

/// What one CPU is doing, as the scheduler keeps it.
struct CpuState {
    /// Whether the CPU runs threads (its idle thread exists).
    online: bool,
    /// The slot of the thread it runs.
    current: usize,
    /// The slot of its idle thread, which runs when no thread is ready.
    idle: usize,
    quantum_left: u32,
    /// The time-stamp counter when the running thread got the CPU.
    switched_in_at: u64,
    /// A thread that exited on this CPU, whose stack the next thread to run here frees.
    exited: Option<usize>,
}

impl CpuState {
    const OFFLINE: CpuState = CpuState {
        online: false,
        current: 0,
        idle: 0,
        quantum_left: 0,
        switched_in_at: 0,
        exited: None,
    };
}

struct Scheduler {
    /// Control blocks live on the heap, so the table is all zeroes at boot and costs no space
    /// in the kernel file.
    threads: [Option<Box<ThreadControl>>; MAX_THREADS],
    queues: RunQueues<MAX_THREADS>,
    cpus: [CpuState; MAX_CPUS],
    next_id: u32,
    /// The earliest deadline of a parked thread (`u64::MAX` if none), so the timer scans the
    /// table only when one is due.
    next_wake_at: u64,
}

static SCHEDULER: SpinLock<Scheduler> = SpinLock::new(Scheduler::new());
static STARTED: AtomicBool = AtomicBool::new(false);
/// How the scheduler wakes another CPU to run a thread it made ready (an inter-processor
/// interrupt, set by the boot sequence once the other CPUs run).
static RESCHEDULE_SIGNAL: spin::Once<fn(cpu: usize)> = spin::Once::new();

/// Each CPU's running thread, readable without locks by fault screens and `current_id`.
struct PublishedThread {
    id: AtomicU32,
    slot: AtomicUsize,
    name_address: AtomicUsize,
    name_length: AtomicUsize,
    stack_bottom: AtomicU32,
    stack_top: AtomicU32,
}

static PUBLISHED: [PublishedThread; MAX_CPUS] = [const {
    PublishedThread {
        id: AtomicU32::new(0),
        slot: AtomicUsize::new(0),
        name_address: AtomicUsize::new(0),
        name_length: AtomicUsize::new(0),
        stack_bottom: AtomicU32::new(0),
        stack_top: AtomicU32::new(0),
    }
}; MAX_CPUS];

/// What a thread is doing as it gives up the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    /// Still ready: back into the queue.
    Yield,
    /// Parked until unparked or, if given, until uptime reaches the deadline (microseconds).
    Park(Option<u64>),
    /// Finished for good.
    Exit,
}

impl Scheduler {
    const fn new() -> Scheduler {
        Scheduler {
            threads: [const { None }; MAX_THREADS],
            queues: RunQueues::new(),
            cpus: [const { CpuState::OFFLINE }; MAX_CPUS],
            next_id: 0,
            next_wake_at: 0,
        }
    }

    /// The state of the CPU running this (the lock is held, so it cannot change CPU).
    fn this_cpu(&mut self) -> &mut CpuState {
        &mut self.cpus[current_index()]
    }

    fn thread(&mut self, slot: usize) -> &mut ThreadControl {
        self.threads[slot].as_mut().expect("a scheduled slot holds a thread")
    }

    fn find(&mut self, id: ThreadId) -> Option<&mut ThreadControl> {
        self.threads[usize::from(id.slot)].as_deref_mut().filter(|thread| thread.id == id.id)
    }

    fn running(&self, cpu: usize) -> Running {
        let state = &self.cpus[cpu];
        match &self.threads[state.current] {
            Some(thread) if state.current != state.idle => Running::Thread {
                priority: thread.priority,
                quantum_expired: state.quantum_left == 0,
            },
            _ => Running::Idle,
        }
    }

    fn preemption_wanted(&self) -> bool {
        should_preempt(self.running(current_index()), self.queues.highest_ready())
    }

    /// Makes a parked thread ready. If it outranks the thread running here,
    /// `preemption_wanted` now says so, and the interrupt's exit (or the caller) switches.
    /// Returns another CPU to signal, if one is idle or runs a thread the woken one outranks
    /// while this CPU has better to do.
    fn make_ready(&mut self, slot: usize) -> Option<usize> {
        let thread = self.thread(slot);
        thread.state = ThreadState::Ready;
        thread.wake_at = None;
        let priority = thread.priority;
        self.queues.push(slot as u8, priority);
        let here = current_index();
        let ready = Some(priority);
        if should_preempt(self.running(here), ready) {
            return None;
        }
        let online = || (0..MAX_CPUS).filter(|&cpu| cpu != here && self.cpus[cpu].online);
        online()
            .find(|&cpu| self.running(cpu) == Running::Idle)
            .or_else(|| online().find(|&cpu| should_preempt(self.running(cpu), ready)))
    }
}

/// Wakes `cpu` so it looks at the run queues.
fn signal(cpu: Option<usize>) {
    if let (Some(cpu), Some(signal)) = (cpu, RESCHEDULE_SIGNAL.get()) {
        signal(cpu);
    }
}

/// Sets how the scheduler wakes another CPU (called once the other CPUs run).
pub fn set_reschedule_signal(signal: fn(cpu: usize)) {
    RESCHEDULE_SIGNAL.call_once(|| signal);
}

/// Makes the running boot flow the idle thread and lets the other functions work.
pub fn start() {
    let mut scheduler = SCHEDULER.lock();
    scheduler.threads[BOOT_IDLE_SLOT] =
        Some(ThreadControl::new(0, "idle", Priority::Normal, ThreadState::Running));
    scheduler.next_id = 1;
    scheduler.next_wake_at = u64::MAX;
    go_online(&mut scheduler, BOOT_IDLE_SLOT);
    STARTED.store(true, Ordering::Release);
}

/// Makes the thread in `idle` (running this code) this CPU's idle thread and the CPU's threads
/// schedulable.
fn go_online(scheduler: &mut Scheduler, idle: usize) {
    let cpu = current_index();
    scheduler.cpus[cpu] = CpuState {
        online: true,
        current: idle,
        idle,
        quantum_left: QUANTUM_TICKS,
        switched_in_at: read_time_stamp_counter(),
        exited: None,
    };
    let thread = scheduler.thread(idle);
    thread.cpu = cpu as u8;
    publish_current(cpu, idle, thread);
}

/// An idle thread reserved for an application processor before it starts: its slot and the
/// stack it will run on.
pub struct ReservedIdleThread {
    slot: usize,
    /// The top of its stack, where the processor's first code sets its stack pointer.
    pub stack_top: u32,
}

/// Reserves the idle thread (a slot and a guarded stack) another CPU will run as it starts.
pub fn reserve_idle_thread(name: &'static str) -> Result<ReservedIdleThread, SpawnError> {
    let slot = reserve_slot(name, Priority::Normal)?;
    let stack = stack::allocate(slot).map_err(|_| {
        SCHEDULER.lock().threads[slot] = None;
        SpawnError::OutOfMemory
    })?;
    let mut scheduler = SCHEDULER.lock();
    let thread = scheduler.thread(slot);
    thread.stack = Some(stack);
    thread.state = ThreadState::Running;
    Ok(ReservedIdleThread { slot, stack_top: stack.top })
}

/// Called by an application processor on the stack of its reserved idle thread, with
/// interrupts off: from now on the CPU runs threads.
pub fn enter_on_this_cpu(idle: ReservedIdleThread) {
    let mut scheduler = SCHEDULER.lock();
    go_online(&mut scheduler, idle.slot);
}

/// Takes a free slot for a thread that is not yet runnable.
fn reserve_slot(name: &'static str, priority: Priority) -> Result<usize, SpawnError> {
    let mut scheduler = SCHEDULER.lock();
    let slot = (1..MAX_THREADS)
        .find(|&slot| scheduler.threads[slot].is_none())
        .ok_or(SpawnError::TooManyThreads)?;
    let id = scheduler.next_id;
    scheduler.next_id += 1;
    // Reserved, not yet queued: the slot's stack window is now this thread's alone.
    scheduler.threads[slot] = Some(ThreadControl::new(id, name, priority, ThreadState::Blocked));
    Ok(slot)
}

/// Whether `start` has run.
pub fn started() -> bool {
    STARTED.load(Ordering::Acquire)
}

/// Why a thread could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// All `MAX_THREADS` slots are taken.
    TooManyThreads,
    /// No memory for the thread's stack.
    OutOfMemory,
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::TooManyThreads => {
                write!(formatter, "all {MAX_THREADS} thread slots are in use")
            }
            SpawnError::OutOfMemory => write!(formatter, "no free memory for a thread stack"),
        }
    }
}

/// The closure a new thread runs, boxed twice so one thin pointer passes through the stack.
type ThreadBody = Box<dyn FnOnce() + Send + 'static>;

/// Starts a thread that runs `body`, then exits.
pub fn spawn_boxed(
    name: &'static str,
    priority: Priority,
    body: ThreadBody,
) -> Result<ThreadId, SpawnError> {
    let slot = reserve_slot(name, priority)?;
    let stack = match stack::allocate(slot) {
        Ok(stack) => stack,
        Err(_) => {
            SCHEDULER.lock().threads[slot] = None;
            return Err(SpawnError::OutOfMemory);
        }
    };
    let argument = Box::into_raw(Box::new(body)) as usize;
    // SAFETY: the stack was just mapped for this thread alone, and its top is page-aligned.
    let stack_pointer = unsafe { prepare_stack(stack.top, thread_start, argument) };
    let (id, kick) = {
        let mut scheduler = SCHEDULER.lock();
        let thread = scheduler.thread(slot);
        thread.stack = Some(stack);
        thread.saved_stack_pointer = stack_pointer;
        let id = thread.id;
        (id, scheduler.make_ready(slot))
    };
    signal(kick);
    preempt_from_thread();
    Ok(ThreadId { slot: slot as u8, id })
}

/// Where every thread begins (through asm/context_switch.asm's trampoline).
extern "C" fn thread_start(argument: usize) -> ! {
    interrupt_nesting::restore(Nesting::NEW_THREAD);
    let exited = finish_switch();
    interrupt_nesting::pop();
    reap(exited);
    // SAFETY: `spawn_boxed` made `argument` with Box::into_raw from a `ThreadBody` box and
    // passes it to exactly one thread, this one.
    let body = unsafe { Box::from_raw(argument as *mut ThreadBody) };
    body();
    exit()
}

/// Ends the running thread. Its stack is freed once another thread runs.
pub fn exit() -> ! {
    switch_away(Transition::Exit);
    unreachable!("an exited thread was switched back to");
}

/// Gives the CPU to the next ready thread of the same or a higher priority, if there is one.
pub fn yield_now() {
    switch_away(Transition::Yield);
}

/// Blocks the running thread until `unpark` or, if given, until uptime reaches
/// `deadline_microseconds`. An unpark that came first makes it return at once; it may also
/// return for no reason, so callers check their condition in a loop.
pub fn park(deadline_microseconds: Option<u64>) {
    switch_away(Transition::Park(deadline_microseconds));
}

/// Wakes `thread` if it is parked, or lets its next park return at once. Never switches
/// threads from an interrupt handler or with a spin lock held; the interrupt's exit (or the
/// caller, once its locks are released) does.
pub fn unpark(thread: ThreadId) {
    wake(thread);
    preempt_from_thread();
}

/// `unpark`, without switching to the woken thread here: the next interrupt's exit or switch
/// does.
fn wake(thread: ThreadId) {
    let kick = {
        let mut scheduler = SCHEDULER.lock();
        let Some(control) = scheduler.find(thread) else { return };
        match control.state {
            // A slot `spawn_boxed` has reserved but not yet given a stack is not parked.
            ThreadState::Blocked if control.saved_stack_pointer != 0 => {
                scheduler.make_ready(usize::from(thread.slot))
            }
            ThreadState::Exited => None,
            _ => {
                control.permit = true;
                None
            }
        }
    };
    signal(kick);
}

/// Switches to a thread that outranks this one, if one became ready, when called where a
/// switch is allowed: in a thread, with interrupts on and no spin lock held.
fn preempt_from_thread() {
    if interrupt_nesting::depth() == 0 && crate::arch::x86::cpu::interrupts_enabled() {
        preempt_if_needed();
    }
}

/// The IRQ exit hook: switches if the timer or a wake-up asked for it.
pub fn preempt_if_needed() {
    if !started() {
        return;
    }
    if SCHEDULER.lock().preemption_wanted() {
        switch_away(Transition::Yield);
    }
}

/// The timer's share of scheduling, from each CPU's timer interrupt: wakes sleepers whose
/// time has come and charges the running thread's quantum.
pub fn timer_tick() {
    if !started() {
        return;
    }
    let now = read_time_stamp_counter();
    let mut kicks = [false; MAX_CPUS];
    {
        let mut scheduler = SCHEDULER.lock();
        if now >= scheduler.next_wake_at {
            let mut next_wake_at = u64::MAX;
            for slot in 0..MAX_THREADS {
                let deadline = match scheduler.threads[slot].as_deref() {
                    Some(ThreadControl {
                        state: ThreadState::Blocked,
                        wake_at: Some(deadline),
                        ..
                    }) => *deadline,
                    _ => continue,
                };
                if deadline <= now {
                    if let Some(cpu) = scheduler.make_ready(slot) {
                        kicks[cpu] = true;
                    }
                } else {
                    next_wake_at = next_wake_at.min(deadline);
                }
            }
            scheduler.next_wake_at = next_wake_at;
        }
        let state = scheduler.this_cpu();
        state.quantum_left = state.quantum_left.saturating_sub(1);
    }
    for (cpu, _) in kicks.iter().enumerate().filter(|(_, kick)| **kick) {
        signal(Some(cpu));
    }
}

/// The heart of the scheduler: records what the running thread does, picks the next one and
/// switches to it. Returns when this thread runs again (never, after `Exit`).
fn switch_away(transition: Transition) {
    assert!(
        interrupt_nesting::depth() == 0,
        "a thread gave up the CPU while holding a spin lock or with interrupts held off"
    );
    let deadline = match transition {
        Transition::Park(Some(microseconds)) => Some(counter_at_uptime(microseconds)),
        _ => None,
    };
    interrupt_nesting::push();
    let mut scheduler = SCHEDULER.lock();
    let now = read_time_stamp_counter();
    let cpu = current_index();
    let CpuState { current, idle, .. } = scheduler.cpus[cpu];
    match transition {
        Transition::Yield => {
            let thread = scheduler.thread(current);
            thread.state = ThreadState::Ready;
            let priority = thread.priority;
            // An idle thread is never queued: it runs when the queues are empty.
            if current != idle {
                scheduler.queues.push(current as u8, priority);
            }
        }
        Transition::Park(_) => {
            // Never queued, an idle thread woken from a park could run on two CPUs at once.
            assert!(current != idle, "an idle thread parked");
            let thread = scheduler.thread(current);
            let expired = deadline.is_some_and(|deadline| deadline <= now);
            if thread.permit || expired {
                thread.permit = false;
                drop(scheduler);
                interrupt_nesting::pop();
                return;
            }
            thread.state = ThreadState::Blocked;
            thread.wake_at = deadline;
            if let Some(deadline) = deadline {
                scheduler.next_wake_at = scheduler.next_wake_at.min(deadline);
            }
        }
        Transition::Exit => {
            scheduler.thread(current).state = ThreadState::Exited;
            scheduler.cpus[cpu].exited = Some(current);
        }
    }
    let next = scheduler.queues.pop().map(usize::from).unwrap_or(idle);
    scheduler.cpus[cpu].quantum_left = QUANTUM_TICKS;
    if next == current {
        scheduler.thread(current).state = ThreadState::Running;
        drop(scheduler);
        interrupt_nesting::pop();
        return;
    }
    let ran = now.saturating_sub(scheduler.cpus[cpu].switched_in_at);
    scheduler.thread(current).cpu_ticks += ran;
    scheduler.cpus[cpu].switched_in_at = now;
    scheduler.cpus[cpu].current = next;
    let next_thread = scheduler.thread(next);
    next_thread.state = ThreadState::Running;
    next_thread.cpu = cpu as u8;
    let load = next_thread.saved_stack_pointer;
    publish_current(cpu, next, next_thread);
    let save: *mut u32 = &mut scheduler.thread(current).saved_stack_pointer;
    // The lock stays held until the next thread runs (`finish_switch`): until `switch` has
    // saved this thread's stack pointer, no CPU may pick it from the queue.
    scheduler.keep_across_switch();
    let nesting = interrupt_nesting::save();
    // SAFETY: interrupts are off (the section opened above); `save` points into the slot of
    // this thread, which stays until the thread has exited and been switched away from; `load`
    // was saved by `switch` or made by `prepare_stack` for a thread that is not running, and
    // the scheduler's lock, held until the switch is over, keeps any other CPU from running it.
    unsafe { switch(save, load) };
    interrupt_nesting::restore(nesting);
    let exited = finish_switch();
    interrupt_nesting::pop();
    reap(exited);
}

/// Run by a thread right after it is switched to, with the scheduler's lock its predecessor
/// kept: takes the slot of the thread that just exited on this CPU (which could not free the
/// stack it was running on), then releases the lock.
fn finish_switch() -> Option<usize> {
    // SAFETY: `switch_away` kept the lock across the switch to this thread, on this CPU, and
    // nothing uses its guard any more.
    unsafe {
        SCHEDULER.release_after_switch(|scheduler| scheduler.cpus[current_index()].exited.take())
    }
}

/// Slots of exited threads whose stacks wait for the reaper thread (a thread switched back to
/// inside an interrupt handler leaves them: freeing a stack waits for every other CPU to
/// answer a TLB shootdown, too long for an interrupt handler).
/// A bit per slot, so the check every switch makes is one load.
static REAP_LATER: AtomicU64 = AtomicU64::new(0);
const _: () = assert!(MAX_THREADS <= 64, "REAP_LATER has a bit per slot");
/// The thread that frees the stacks left in `REAP_LATER`.
static REAPER: spin::Once<ThreadId> = spin::Once::new();

/// Starts the reaper: an interactive-priority thread that frees the stacks of threads that
/// exited while the next thread to run had interrupts off, so a joining thread never waits for
/// a CPU to fall idle.
pub fn start_reaper() -> Result<(), SpawnError> {
    let reaper = spawn_boxed(
        "reaper",
        Priority::Interactive,
        Box::new(|| {
            loop {
                reap(None);
                park(None);
            }
        }),
    )?;
    REAPER.call_once(|| reaper);
    Ok(())
}

/// Frees an exited thread's stack, then its slot, and wakes the thread joining it; with
/// interrupts off, leaves that to the reaper thread (or the idle thread, before the reaper
/// runs).
fn reap(exited: Option<usize>) {
    if !crate::arch::x86::cpu::interrupts_enabled() {
        if let Some(slot) = exited {
            REAP_LATER.fetch_or(1 << slot, Ordering::AcqRel);
            if let Some(&reaper) = REAPER.get() {
                unpark(reaper);
            }
        }
        return;
    }
    if let Some(slot) = exited {
        free_thread(slot);
    }
    loop {
        let waiting = REAP_LATER.load(Ordering::Acquire);
        if waiting == 0 {
            break;
        }
        let bit = 1 << waiting.trailing_zeros();
        // Whoever clears the bit frees the slot.
        if REAP_LATER.fetch_and(!bit, Ordering::AcqRel) & bit != 0 {
            free_thread(waiting.trailing_zeros() as usize);
        }
    }
}

/// Releases the stack of the exited thread in `slot`, then empties the slot. Until then the
/// slot stays taken (its state `Exited`), so no new thread maps a stack in its window.
fn free_thread(slot: usize) {
    // Taken out under the lock, so `threads` no longer reads the stack while it is unmapped.
    let stack = SCHEDULER.lock().thread(slot).stack.take();
    if let Some(stack) = stack {
        stack::release(stack);
    }
    let thread = SCHEDULER.lock().threads[slot].take();
    // Woken without a switch here: `reap` runs as a thread resumes from a switch, so a switch
    // from it would nest one more switch on this stack for every exit that follows (an idle
    // thread reaping spawn-and-join after spawn-and-join overflowed its stack).
    if let Some(joiner) = thread.and_then(|thread| thread.joiner) {
        wake(joiner);
    }
}

/// Has `watcher` unparked once `thread` is gone; false if it is gone already.
pub fn watch_exit(thread: ThreadId, watcher: ThreadId) -> bool {
    let mut scheduler = SCHEDULER.lock();
    match scheduler.find(thread) {
        Some(control) => {
            control.joiner = Some(watcher);
            true
        }
        None => false,
    }
}

fn publish_current(cpu: usize, slot: usize, thread: &ThreadControl) {
    let (bottom, top) = match thread.stack {
        Some(stack) => (stack.bottom, stack.top),
        None => boot_stack_bounds(),
    };
    let published = &PUBLISHED[cpu];
    published.id.store(thread.id, Ordering::Relaxed);
    published.slot.store(slot, Ordering::Relaxed);
    published.name_address.store(thread.name.as_ptr() as usize, Ordering::Relaxed);
    published.name_length.store(thread.name.len(), Ordering::Relaxed);
    published.stack_bottom.store(bottom, Ordering::Relaxed);
    published.stack_top.store(top, Ordering::Relaxed);
}

/// The running thread as fault screens show it: id, name and stack, read without locks.
#[derive(Debug, Clone, Copy)]
pub struct CurrentThread {
    pub id: u32,
    pub name: &'static str,
    pub stack_bottom: u32,
    pub stack_top: u32,
}

/// The thread running on this CPU, once the scheduler has started; for fault screens, which
/// run with interrupts off.
pub fn current_thread() -> Option<CurrentThread> {
    if !started() {
        return None;
    }
    let published = &PUBLISHED[current_index()];
    let address = published.name_address.load(Ordering::Relaxed);
    let length = published.name_length.load(Ordering::Relaxed);
    // SAFETY: `publish_current` stores the address and length of a thread's `&'static str`
    // name, on this CPU with interrupts off, so the pair read here (on the same CPU, which
    // cannot switch threads meanwhile) belongs together.
    let bytes = unsafe { core::slice::from_raw_parts(address as *const u8, length) };
    Some(CurrentThread {
        id: published.id.load(Ordering::Relaxed),
        name: core::str::from_utf8(bytes).unwrap_or("?"),
        stack_bottom: published.stack_bottom.load(Ordering::Relaxed),
        stack_top: published.stack_top.load(Ordering::Relaxed),
    })
}

/// The running thread's handle, read without the scheduler's lock.
pub fn current_id() -> ThreadId {
    // With interrupts off, the thread stays on this CPU while it reads.
    interrupt_nesting::push();
    let published = &PUBLISHED[current_index()];
    let id = ThreadId {
        slot: published.slot.load(Ordering::Relaxed) as u8,
        id: published.id.load(Ordering::Relaxed),
    };
    interrupt_nesting::pop();
    id
}

/// Asks `thread` to stop: its `stop_requested` turns true and, if it is parked, it wakes.
/// False if there is no such thread.
pub fn request_stop(number: u32) -> bool {
    let found = {
        let mut scheduler = SCHEDULER.lock();
        let slot = (1..MAX_THREADS).find(|&slot| {
            let is_idle = scheduler.cpus.iter().any(|cpu| cpu.online && cpu.idle == slot);
            !is_idle && scheduler.threads[slot].as_ref().is_some_and(|thread| thread.id == number)
        });
        slot.map(|slot| {
            scheduler.thread(slot).stop_requested = true;
            ThreadId { slot: slot as u8, id: number }
        })
    };
    if let Some(thread) = found {
        unpark(thread);
    }
    found.is_some()
}

/// Whether someone asked the running thread to stop.
pub fn stop_requested() -> bool {
    let mut scheduler = SCHEDULER.lock();
    let current = scheduler.this_cpu().current;
    scheduler.thread(current).stop_requested
}

/// One thread as `ps` shows it.
#[derive(Debug, Clone, Copy)]
pub struct ThreadSummary {
    pub id: u32,
    pub name: &'static str,
    pub state: ThreadState,
    pub priority: Priority,
    pub cpu_microseconds: u64,
    /// The most of its stack it ever used, in bytes (`None`: the boot stack, or already freed).
    pub stack_used_bytes: Option<u32>,
    /// The CPU it runs on, or last ran on.
    pub cpu: u8,
}

/// Every thread, in slot order. The running thread's CPU time includes its current turn. Each
/// stack is measured under the lock: unlocked, another CPU could be unmapping it.
pub fn threads() -> alloc::vec::Vec<ThreadSummary> {
    // Reserved before the lock is taken, so nothing is allocated while it is held.
    let mut summaries = alloc::vec::Vec::with_capacity(MAX_THREADS);
    {
        let scheduler = SCHEDULER.lock();
        let now = read_time_stamp_counter();
        for (slot, entry) in scheduler.threads.iter().enumerate() {
            summaries.extend(entry.as_ref().map(|thread| {
                let cpu = &scheduler.cpus[usize::from(thread.cpu)];
                let this_turn = if thread.state == ThreadState::Running && cpu.current == slot {
                    now.saturating_sub(cpu.switched_in_at)
                } else {
                    0
                };
                ThreadSummary {
                    id: thread.id,
                    name: thread.name,
                    state: thread.state,
                    priority: thread.priority,
                    cpu_microseconds: counter_ticks_to_microseconds(thread.cpu_ticks + this_turn),
                    stack_used_bytes: thread.stack.map(stack::high_water_bytes),
                    cpu: thread.cpu,
                }
            }));
        }
    }
    summaries
}

/// The idle thread's loop: whenever no thread is ready, run `before_halting` (the console draws
/// what it deferred) and halt until an interrupt makes one ready.
pub fn run_idle(before_halting: fn()) -> ! {
    loop {
        reap(None);
        before_halting();
        crate::arch::x86::cpu::halt_until(|| !SCHEDULER.lock().queues.is_empty());
        yield_now();
    }
}
