//! The interrupt-safe spin lock: for data that interrupt handlers or short sections touch.
//!
//! Taking it turns interrupts off (nested, so the state before the first lock comes back when
//! the last is released), so neither an interrupt handler nor a preempting thread can run on
//! this CPU while it is held, and nothing that holds it ever waits for the CPU. It records the
//! CPU that holds it and where it was taken: a second acquisition by the holder would spin
//! forever, and is a panic instead that names the lock by the type it guards and both places
//! that took it. Never hold one across anything that blocks.
//!
//! A lock keeps no name of its own: a pointer in a static would move the static, and whatever
//! it guards (the frame allocator's 128 KiB bitmap), from `.bss` into the kernel file.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};

/// The owner value of a free lock; a held one stores its CPU's number plus one. Zero, so a
/// static lock starts all-zero and costs no space in the kernel file.
const NO_OWNER: u32 = 0;

/// The lock itself, apart from the value: not generic, so its code exists once however many
/// types are locked.
struct RawSpinLock {
    locked: AtomicBool,
    owner: AtomicU32,
    /// Where the holder took the lock.
    taken_at: AtomicPtr<Location<'static>>,
}

impl RawSpinLock {
    const fn new() -> RawSpinLock {
        RawSpinLock {
            locked: AtomicBool::new(false),
            owner: AtomicU32::new(NO_OWNER),
            taken_at: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Opens an interrupts-off section and spins until the lock is free. `guarded` names what
    /// it guards for the recursion panic.
    #[inline(never)]
    fn acquire(&self, caller: &'static Location<'static>, guarded: &'static str) {
        interrupts::push();
        let cpu = interrupts::current_cpu();
        if self.locked.load(Ordering::Relaxed) && self.owner.load(Ordering::Relaxed) == cpu + 1 {
            interrupts::pop();
            self.panic_on_recursion(cpu, caller, guarded);
        }
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        self.owner.store(cpu + 1, Ordering::Relaxed);
        self.taken_at.store(ptr::from_ref(caller).cast_mut(), Ordering::Relaxed);
    }

    #[inline(never)]
    fn try_acquire(&self, caller: &'static Location<'static>) -> bool {
        interrupts::push();
        if self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            self.owner.store(interrupts::current_cpu() + 1, Ordering::Relaxed);
            self.taken_at.store(ptr::from_ref(caller).cast_mut(), Ordering::Relaxed);
            true
        } else {
            interrupts::pop();
            false
        }
    }

    #[inline(never)]
    fn release(&self) {
        self.owner.store(NO_OWNER, Ordering::Relaxed);
        self.locked.store(false, Ordering::Release);
        interrupts::pop();
    }

    #[cold]
    fn panic_on_recursion(
        &self,
        cpu: u32,
        caller: &'static Location<'static>,
        guarded: &'static str,
    ) -> ! {
        let taken_at = self.taken_at.load(Ordering::Relaxed);
        // SAFETY: `taken_at` is null or was stored from a `&'static Location`.
        let holder = unsafe { taken_at.as_ref() };
        panic!(
            "spin lock over {guarded} taken again by CPU {cpu}, which holds it: first at {}, again at {caller}",
            holder.map_or(&"an unknown place" as &dyn core::fmt::Display, |location| location),
        )
    }
}

/// A value behind an interrupt-safe spin lock.
pub struct SpinLock<T> {
    raw: RawSpinLock,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to the value to one holder at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the value.
unsafe impl<T: Send> Send for SpinLock<T> {}

/// Access to a locked value; dropping it releases the lock and the interrupts-off section.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    /// A guard belongs to the CPU that took it (its interrupts-off section is that CPU's).
    _not_send: PhantomData<*const ()>,
}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> SpinLock<T> {
        SpinLock { raw: RawSpinLock::new(), value: UnsafeCell::new(value) }
    }

    /// Turns interrupts off and spins until the lock is free. Panics, naming the lock, if this
    /// CPU already holds it.
    #[track_caller]
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        self.raw.acquire(Location::caller(), core::any::type_name::<T>());
        SpinLockGuard { lock: self, _not_send: PhantomData }
    }

    /// The lock if it is free now.
    #[track_caller]
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        // `then`, not `then_some`: a guard made eagerly would be dropped when the lock is busy,
        // releasing it under its holder.
        self.raw
            .try_acquire(Location::caller())
            .then(|| SpinLockGuard { lock: self, _not_send: PhantomData })
    }

    pub fn is_locked(&self) -> bool {
        self.raw.locked.load(Ordering::Relaxed)
    }

    /// Releases the lock whoever holds it, without closing their interrupts-off section.
    ///
    /// # Safety
    /// The holder must never use its guard again (it was interrupted by a fatal error), and no
    /// other CPU may be running.
    pub unsafe fn force_unlock(&self) {
        self.raw.owner.store(NO_OWNER, Ordering::Relaxed);
        self.raw.locked.store(false, Ordering::Release);
    }
}

impl<T> SpinLock<T> {
    /// From the thread that now runs on this CPU, uses the value one last time and releases the
    /// lock a thread held as it switched away (`SpinLockGuard::keep_across_switch`), closing
    /// that guard's interrupts-off section.
    ///
    /// # Safety
    /// This CPU must hold the lock through a guard kept that way, whose reference nobody uses
    /// any more.
    pub unsafe fn release_after_switch<R>(&self, last_use: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: the caller guarantees this CPU holds the lock and nothing else refers to the
        // value.
        let result = last_use(unsafe { &mut *self.value.get() });
        self.raw.release();
        result
    }
}

impl<T> SpinLockGuard<'_, T> {
    /// Ends the guard without releasing the lock or its interrupts-off section: the scheduler
    /// keeps its lock across a switch, and the next thread to run on this CPU releases it with
    /// `SpinLock::release_after_switch`.
    pub fn keep_across_switch(self) {
        core::mem::forget(self);
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this CPU holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while this CPU holds the lock, and `&mut self` makes
        // this the only reference through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.raw.release();
    }
}

/// The spin lock is the lock the blocking primitives use for their own short sections.
impl<T: Send> crate::sync::blocking::Lock<T> for SpinLock<T> {
    fn new(value: T) -> Self {
        SpinLock::new(value)
    }

    fn with<R>(&self, body: impl FnOnce(&mut T) -> R) -> R {
        body(&mut self.lock())
    }
}

/// Interrupts-off sections on the machine.
#[cfg(target_os = "none")]
mod interrupts {
    pub use crate::arch::x86::interrupt_nesting::{pop, push};

    /// The CPU this code runs on (called with interrupts off, so it cannot change).
    pub fn current_cpu() -> u32 {
        crate::arch::x86::per_cpu::current_index() as u32
    }
}

/// On the host there are no interrupts to turn off; threads stand in for CPUs.
#[cfg(not(target_os = "none"))]
mod interrupts {
    use core::sync::atomic::{AtomicU32, Ordering};

    pub fn push() {}

    pub fn pop() {}

    pub fn current_cpu() -> u32 {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        std::thread_local! {
            static CPU: u32 = NEXT.fetch_add(1, Ordering::Relaxed);
        }
        CPU.with(|cpu| *cpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn guards_give_exclusive_access_across_threads() {
        let lock = Arc::new(SpinLock::new(0u64));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        assert_eq!(*lock.lock(), 40_000);
    }

    #[test]
    fn try_lock_fails_while_held_and_succeeds_after() {
        let lock = SpinLock::new(());
        let guard = lock.lock();
        assert!(lock.is_locked());
        assert!(lock.try_lock().is_none());
        assert!(lock.is_locked(), "a failed try_lock released the holder's lock");
        drop(guard);
        assert!(lock.try_lock().is_some());
    }

    #[test]
    fn a_recursive_acquisition_panics_naming_the_lock_and_both_places() {
        struct Console;
        let lock = SpinLock::new(Console);
        let (_held, first_line) = (lock.lock(), line!());
        let again_line = line!() + 2;
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _again = lock.lock();
        }))
        .unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.starts_with("spin lock over "), "{message}");
        assert!(message.contains("Console taken again by CPU"), "{message}");
        assert!(message.contains(&format!("first at {}:{first_line}:", file!())), "{message}");
        assert!(message.contains(&format!("again at {}:{again_line}:", file!())), "{message}");
    }
}
