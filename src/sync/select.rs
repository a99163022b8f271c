//! Waiting on several channels at once, as Go's `select`: each arm is a receiver and a
//! handler that turns its message into the select's result.
//!
//! ```ignore
//! let event = Select::new()
//!     .recv(&keys, |key| Event::Key(key))
//!     .recv(&ticks, |tick| Event::Tick(tick))
//!     .wait_timeout(1_000_000);
//! ```
//!
//! One `Waiter` is registered in every arm's channel at once, each registration checked and
//! made in one critical section of that channel, so a message that arrives anywhere after the
//! check wakes the select. A select that was woken by one arm but took another arm's message
//! passes the wake-up on to that channel's next waiter, so no wake-up is lost on it.
#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::blocking::{Blocking, deadline_after, has_passed};
use super::channel::{Receiver, RecvError};
use super::wait_queue::{TimedOut, WaitOutcome, Waiter};

/// Which arm completed, and what its handler returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selected<R> {
    /// The arm's position, counting from 0 in the order the arms were added.
    pub arm: usize,
    pub value: R,
}

/// One arm, with its message type hidden behind the handler.
trait Arm<R, B: Blocking> {
    /// Completes the arm (running its handler) if its channel has a message or is closed;
    /// otherwise registers `registration`'s waiter there, if given.
    fn complete_or_register(&mut self, registration: Option<(&Arc<Waiter<B>>, u64)>) -> Option<R>;
    fn deregister(&self, waiter: &Arc<Waiter<B>>);
    fn wake_another_receiver(&self);
}

struct ReceiveArm<'a, T: Send, B: Blocking, F> {
    receiver: &'a Receiver<T, B>,
    /// Taken when the arm completes, which happens at most once.
    handler: Option<F>,
}

impl<T: Send, B: Blocking, R, F: FnOnce(Result<T, RecvError>) -> R> Arm<R, B>
    for ReceiveArm<'_, T, B, F>
{
    fn complete_or_register(&mut self, registration: Option<(&Arc<Waiter<B>>, u64)>) -> Option<R> {
        let received = self.receiver.receive_or_register(registration)?;
        let handler = self.handler.take().expect("an arm completes at most once");
        Some(handler(received))
    }

    fn deregister(&self, waiter: &Arc<Waiter<B>>) {
        self.receiver.deregister(waiter);
    }

    fn wake_another_receiver(&self) {
        self.receiver.wake_another_receiver();
    }
}

/// A select being built: add arms with `recv`, then `wait`, `wait_timeout` or `try_select`.
///
/// Arms are tried in the order they were added (so an earlier arm wins when several are
/// ready); after a wake-up, the arm that woke the select is tried first. A closed channel is
/// always ready: its handler gets `Err(RecvError)`.
pub struct Select<'a, R, B: Blocking> {
    arms: Vec<Box<dyn Arm<R, B> + 'a>>,
}

impl<'a, R, B: Blocking> Select<'a, R, B> {
    pub fn new() -> Self {
        Select { arms: Vec::new() }
    }

    /// Adds an arm that receives from `receiver` and hands the message (or `Err(RecvError)`
    /// once the channel is closed) to `handler`.
    pub fn recv<T: Send>(
        mut self,
        receiver: &'a Receiver<T, B>,
        handler: impl FnOnce(Result<T, RecvError>) -> R + 'a,
    ) -> Self {
        self.arms.push(Box::new(ReceiveArm { receiver, handler: Some(handler) }));
        self
    }

    /// Parks until an arm is ready and completes it. With no arms, parks for ever.
    pub fn wait(self) -> Selected<R> {
        match self.wait_until_deadline(None) {
            Ok(selected) => selected,
            Err(TimedOut) => unreachable!("a wait without a deadline never times out"),
        }
    }

    /// `wait` that gives up after `microseconds`.
    pub fn wait_timeout(self, microseconds: u64) -> Result<Selected<R>, TimedOut> {
        let deadline = deadline_after::<B>(microseconds);
        self.wait_until_deadline(Some(deadline))
    }

    /// Completes an arm that is ready now, if any. Never parks.
    pub fn try_select(self) -> Result<Selected<R>, TimedOut> {
        self.wait_until_deadline(Some(0))
    }

    /// `wait` that gives up when `deadline` (if any) passes; arms that became ready by then
    /// still complete.
    pub fn wait_until_deadline(mut self, deadline: Option<u64>) -> Result<Selected<R>, TimedOut> {
        let count = self.arms.len();
        let mut waiter: Option<Arc<Waiter<B>>> = None;
        let mut first = 0;
        loop {
            // Past the deadline, a last pass only looks; it registers nowhere.
            let registering = !has_passed::<B>(deadline);
            if registering && waiter.is_none() {
                waiter = Some(Waiter::new());
            }
            let registration = waiter.as_ref().filter(|_| registering);
            if let Some(waiter) = registration {
                waiter.reset();
            }
            for step in 0..count {
                let arm = (first + step) % count;
                let token = arm as u64;
                let Some(value) =
                    self.arms[arm].complete_or_register(registration.map(|waiter| (waiter, token)))
                else {
                    continue;
                };
                if let Some(waiter) = registration {
                    self.leave((first..first + step).map(|earlier| earlier % count), waiter, arm);
                }
                return Ok(Selected { arm, value });
            }
            let Some(waiter) = registration else {
                return Err(TimedOut);
            };
            let outcome = waiter.wait(deadline);
            // A waker removes only its own registration; the others go now, before the next
            // pass registers again.
            for arm in &self.arms {
                arm.deregister(waiter);
            }
            if let WaitOutcome::Notified { token } = outcome {
                first = usize::try_from(token).expect("tokens are arm positions");
            }
        }
    }

    /// Cancels `waiter` and removes it from the `registered` arms, after `selected`
    /// completed. If one of those arms notified it meanwhile, that wake-up goes on to the next
    /// receiver waiting there.
    fn leave(
        &self,
        registered: impl Iterator<Item = usize>,
        waiter: &Arc<Waiter<B>>,
        selected: usize,
    ) {
        let notified_by = waiter.cancel();
        for arm in registered {
            self.arms[arm].deregister(waiter);
        }
        if let Some(token) = notified_by {
            let arm = usize::try_from(token).expect("tokens are arm positions");
            if arm != selected {
                self.arms[arm].wake_another_receiver();
            }
        }
    }
}

impl<R, B: Blocking> Default for Select<'_, R, B> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::channel::channel;
    use crate::sync::std_blocking::StdBlocking;
    use std::thread;
    use std::time::Duration;

    #[derive(Debug, PartialEq, Eq)]
    enum Event {
        Key(char),
        Tick(u64),
        KeysClosed,
        TicksClosed,
    }

    type StdSelect<'a> = Select<'a, Event, StdBlocking>;

    fn key_or_tick<'a>(
        keys: &'a Receiver<char, StdBlocking>,
        ticks: &'a Receiver<u64, StdBlocking>,
    ) -> StdSelect<'a> {
        Select::new()
            .recv(keys, |key| key.map_or(Event::KeysClosed, Event::Key))
            .recv(ticks, |tick| tick.map_or(Event::TicksClosed, Event::Tick))
    }

    #[test]
    fn the_ready_arm_completes_with_its_value_and_an_earlier_arm_wins_a_tie() {
        let (key_sender, keys) = channel::<char, StdBlocking>(2);
        let (tick_sender, ticks) = channel::<u64, StdBlocking>(2);
        tick_sender.send(7).unwrap();
        assert_eq!(key_or_tick(&keys, &ticks).wait(), Selected { arm: 1, value: Event::Tick(7) });
        key_sender.send('a').unwrap();
        tick_sender.send(8).unwrap();
        assert_eq!(key_or_tick(&keys, &ticks).wait(), Selected { arm: 0, value: Event::Key('a') });
        assert_eq!(key_or_tick(&keys, &ticks).wait().value, Event::Tick(8));
    }

    #[test]
    fn a_select_parks_until_any_arm_gets_a_message() {
        let (_key_sender, keys) = channel::<char, StdBlocking>(1);
        let (tick_sender, ticks) = channel::<u64, StdBlocking>(0);
        let ticking = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            tick_sender.send(1).unwrap();
        });
        assert_eq!(key_or_tick(&keys, &ticks).wait().value, Event::Tick(1));
        ticking.join().unwrap();
        assert_eq!(keys.blocked_receivers(), 0, "the select left a registration behind");
    }

    #[test]
    fn a_closed_channel_is_always_ready() {
        let (key_sender, keys) = channel::<char, StdBlocking>(1);
        let (_tick_sender, ticks) = channel::<u64, StdBlocking>(1);
        drop(key_sender);
        assert_eq!(key_or_tick(&keys, &ticks).wait().value, Event::KeysClosed);
    }

    #[test]
    fn a_timeout_ends_the_wait_no_earlier_than_asked() {
        let (_key_sender, keys) = channel::<char, StdBlocking>(1);
        let (_tick_sender, ticks) = channel::<u64, StdBlocking>(1);
        let start = StdBlocking::now();
        assert_eq!(key_or_tick(&keys, &ticks).wait_timeout(20_000), Err(TimedOut));
        assert!(StdBlocking::now() - start >= 20_000);
        assert_eq!(keys.blocked_receivers() + ticks.blocked_receivers(), 0);
        assert_eq!(key_or_tick(&keys, &ticks).try_select(), Err(TimedOut));
        let nothing: Select<'_, (), StdBlocking> = Select::new();
        assert_eq!(nothing.wait_timeout(1_000), Err(TimedOut));
    }

    #[test]
    fn selecting_and_plain_receivers_together_get_every_message_exactly_once() {
        let (key_sender, keys) = channel::<char, StdBlocking>(1);
        let (tick_sender, ticks) = channel::<u64, StdBlocking>(0);
        const EACH: u64 = 5_000;
        let typing = thread::spawn(move || {
            for _ in 0..EACH {
                key_sender.send('k').unwrap();
            }
        });
        let ticking = {
            let tick_sender = tick_sender.clone();
            thread::spawn(move || {
                for tick in 0..EACH {
                    tick_sender.send(tick).unwrap();
                }
            })
        };
        drop(tick_sender);
        // A plain receiver competes with the selects on the ticks.
        let plain = {
            let ticks = ticks.clone();
            thread::spawn(move || {
                let mut sum = 0;
                while let Ok(tick) = ticks.recv() {
                    sum += tick;
                }
                sum
            })
        };
        let selecting: Vec<_> = (0..2)
            .map(|_| {
                let keys = keys.clone();
                let ticks = ticks.clone();
                thread::spawn(move || {
                    let (mut keys_seen, mut tick_sum) = (0, 0);
                    let (mut keys_open, mut ticks_open) = (true, true);
                    // As in Go, a closed channel's arm is left out of the next select.
                    while keys_open || ticks_open {
                        let mut select = StdSelect::new();
                        if keys_open {
                            select =
                                select.recv(&keys, |key| key.map_or(Event::KeysClosed, Event::Key));
                        }
                        if ticks_open {
                            select = select
                                .recv(&ticks, |tick| tick.map_or(Event::TicksClosed, Event::Tick));
                        }
                        match select.wait_timeout(5_000).map(|selected| selected.value) {
                            Ok(Event::Key(_)) => keys_seen += 1,
                            Ok(Event::Tick(tick)) => tick_sum += tick,
                            Ok(Event::KeysClosed) => keys_open = false,
                            Ok(Event::TicksClosed) => ticks_open = false,
                            Err(TimedOut) => {}
                        }
                    }
                    (keys_seen, tick_sum)
                })
            })
            .collect();
        drop((keys, ticks));
        typing.join().unwrap();
        ticking.join().unwrap();
        let (mut keys_seen, mut tick_sum) = (0, plain.join().unwrap());
        for thread in selecting {
            let (keys, ticks) = thread.join().unwrap();
            keys_seen += keys;
            tick_sum += ticks;
        }
        assert_eq!(keys_seen, EACH);
        assert_eq!(tick_sum, EACH * (EACH - 1) / 2);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::sync::channel::{Sender, channel};
    use crate::sync::loom_blocking::{LoomBlocking, advance_clock, model};
    use loom::thread;

    type Pair = (Sender<u8, LoomBlocking>, Receiver<u8, LoomBlocking>);

    fn either<'a>(
        first: &'a Receiver<u8, LoomBlocking>,
        second: &'a Receiver<u8, LoomBlocking>,
    ) -> Select<'a, Result<u8, RecvError>, LoomBlocking> {
        Select::new().recv(first, |value| value).recv(second, |value| value)
    }

    #[test]
    fn a_select_over_two_channels_gets_a_message_sent_to_either() {
        model(|| {
            let (first_sender, first): Pair = channel(1);
            let (second_sender, second): Pair = channel(0);
            let sending = thread::spawn(move || {
                second_sender.send(2).unwrap();
                first_sender
            });
            let selected = either(&first, &second).wait();
            assert_eq!(selected, Selected { arm: 1, value: Ok(2) });
            drop(sending.join().unwrap());
            assert_eq!(either(&first, &second).wait().value, Err(RecvError));
        });
    }

    #[test]
    fn a_wake_up_a_select_does_not_use_goes_to_the_next_receiver() {
        // The select may be woken by `first` while it is still registering and then take
        // `second`'s message, or be leaving when `first`'s message comes: either way the
        // plain receiver on `first` must get that wake-up.
        model(|| {
            let (first_sender, first): Pair = channel(2);
            let (second_sender, second): Pair = channel(1);
            let plain = {
                let first = first.clone();
                thread::spawn(move || first.recv())
            };
            let sending = thread::spawn(move || {
                second_sender.send(2).unwrap();
                first_sender.send(1).unwrap();
                first_sender
            });
            let selected = either(&first, &second).wait();
            let first_sender = sending.join().unwrap();
            if selected.arm == 0 {
                first_sender.send(3).unwrap();
            }
            assert!(plain.join().unwrap().is_ok());
        });
    }

    #[test]
    fn a_select_with_a_timeout_gets_the_message_or_leaves_it() {
        model(|| {
            let (first_sender, first): Pair = channel(1);
            let (_second_sender, second): Pair = channel(1);
            let sending = thread::spawn(move || {
                first_sender.send(1).unwrap();
                first_sender
            });
            let clock = thread::spawn(|| advance_clock(5));
            let deadline = deadline_after::<LoomBlocking>(5);
            let outcome = either(&first, &second).wait_until_deadline(Some(deadline));
            let _first_sender = sending.join().unwrap();
            clock.join().unwrap();
            match outcome {
                Ok(selected) => assert_eq!(selected, Selected { arm: 0, value: Ok(1) }),
                Err(TimedOut) => assert_eq!(first.try_recv(), Ok(1)),
            }
        });
    }
}
