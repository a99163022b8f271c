//! Bounded channels with any number of senders and receivers, as Go's: `send` parks while the
//! buffer is full, `recv` while it is empty; a capacity of 0 makes a rendezvous channel, whose
//! `send` returns only once a receiver has taken the value.
//!
//! Closing follows the handles: when every `Sender` is gone, receivers drain what is left and
//! then get `RecvError`; when every `Receiver` is gone, `send` gives the value back in its
//! error. `try_send` and `try_recv` never park, so interrupt handlers may call them (`try_send`
//! on a buffered channel does not allocate either: the buffer is allocated with the channel).
#![forbid(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::fmt;

use super::blocking::{Blocking, Lock, deadline_after};
use super::wait_queue::{TimedOut, WaitQueue, Waiter, wait_until, wait_until_deadline};

struct Message<T> {
    /// Numbers messages in sending order; a rendezvous sender waits for its own to be taken.
    ticket: u64,
    value: T,
}

struct Shared<T: Send, B: Blocking> {
    /// 0 for a rendezvous channel.
    capacity: usize,
    state: B::Lock<State<T, B>>,
}

struct State<T, B: Blocking> {
    /// Oldest first. In a rendezvous channel, the messages of senders still waiting for a
    /// receiver (and of `try_send`s that a waiting receiver will take).
    messages: VecDeque<Message<T>>,
    next_ticket: u64,
    senders: usize,
    receivers: usize,
    /// Buffered: senders waiting for room. Rendezvous: senders waiting for their message to be
    /// taken, each registered with its message's ticket.
    blocked_senders: WaitQueue<B>,
    /// Receivers (and selects) waiting for a message.
    blocked_receivers: WaitQueue<B>,
}

impl<T, B: Blocking> State<T, B> {
    fn push(&mut self, value: T) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.messages.push_back(Message { ticket, value });
        ticket
    }

    /// Takes the oldest message and wakes the sender that was waiting on it (for room, or for
    /// this very message to be taken); `None` means "wait", unless every sender is gone.
    fn receive(&mut self, capacity: usize) -> Option<Result<T, RecvError>> {
        match self.messages.pop_front() {
            Some(Message { ticket, value }) => {
                if capacity == 0 {
                    self.blocked_senders.wake_token(ticket);
                } else {
                    self.blocked_senders.wake_one();
                }
                Some(Ok(value))
            }
            None if self.senders == 0 => Some(Err(RecvError)),
            None => None,
        }
    }
}

/// Makes a channel that holds up to `capacity` messages (0: a rendezvous channel).
pub fn channel<T: Send, B: Blocking>(capacity: usize) -> (Sender<T, B>, Receiver<T, B>) {
    let state = State {
        messages: VecDeque::with_capacity(capacity.max(1)),
        next_ticket: 0,
        senders: 1,
        receivers: 1,
        blocked_senders: WaitQueue::new(),
        blocked_receivers: WaitQueue::new(),
    };
    let shared = Arc::new(Shared { capacity, state: B::Lock::new(state) });
    (Sender { shared: Arc::clone(&shared) }, Receiver { shared })
}

/// The sending half; clone it for more senders.
pub struct Sender<T: Send, B: Blocking> {
    shared: Arc<Shared<T, B>>,
}

/// The receiving half; clone it for more receivers (each message goes to one of them).
pub struct Receiver<T: Send, B: Blocking> {
    shared: Arc<Shared<T, B>>,
}

/// Every receiver is gone; the value that could not be sent is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Why `try_send` did not send; the value is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The buffer is full (or, on a rendezvous channel, no receiver is waiting).
    Full(T),
    /// Every receiver is gone.
    Disconnected(T),
}

/// The channel is empty and every sender is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

/// Why `try_recv` returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    Empty,
    /// The channel is empty and every sender is gone.
    Disconnected,
}

/// Why `recv_timeout` returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvTimeoutError {
    Timeout,
    /// The channel is empty and every sender is gone.
    Disconnected,
}

impl<T: Send, B: Blocking> Sender<T, B> {
    /// Sends `value`, parking while the buffer is full; on a rendezvous channel, until a
    /// receiver has taken it. Fails, giving `value` back, once every receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let capacity = self.shared.capacity;
        if capacity == 0 {
            return self.send_rendezvous(value);
        }
        let mut value = Some(value);
        wait_until(
            &self.shared.state,
            |state| &mut state.blocked_senders,
            0,
            |state| {
                if state.receivers == 0 {
                    return Some(Err(SendError(value.take().expect("sent only once"))));
                }
                if state.messages.len() >= capacity {
                    return None;
                }
                state.push(value.take().expect("sent only once"));
                state.blocked_receivers.wake_one();
                Some(Ok(()))
            },
        )
    }

    fn send_rendezvous(&self, value: T) -> Result<(), SendError<T>> {
        let ticket = self.shared.state.with(|state| {
            if state.receivers == 0 {
                return Err(SendError(value));
            }
            let ticket = state.push(value);
            state.blocked_receivers.wake_one();
            Ok(ticket)
        })?;
        wait_until(
            &self.shared.state,
            |state| &mut state.blocked_senders,
            ticket,
            |state| {
                let Some(position) =
                    state.messages.iter().position(|message| message.ticket == ticket)
                else {
                    return Some(Ok(()));
                };
                if state.receivers > 0 {
                    return None;
                }
                let message = state.messages.remove(position).expect("position is in range");
                Some(Err(SendError(message.value)))
            },
        )
    }

    /// Sends `value` if that needs no waiting: there is room in the buffer or, on a rendezvous
    /// channel, a receiver is waiting (`try_send` does not wait for it to take the value; a
    /// select that was taking another arm's message passes the value on to the next receiver).
    /// Never parks.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let capacity = self.shared.capacity;
        self.shared.state.with(|state| {
            if state.receivers == 0 {
                Err(TrySendError::Disconnected(value))
            } else if capacity == 0 {
                // The receiver this wakes is committed to take a message when it runs.
                if state.blocked_receivers.wake_one() {
                    state.push(value);
                    Ok(())
                } else {
                    Err(TrySendError::Full(value))
                }
            } else if state.messages.len() < capacity {
                state.push(value);
                state.blocked_receivers.wake_one();
                Ok(())
            } else {
                Err(TrySendError::Full(value))
            }
        })
    }
}

impl<T: Send, B: Blocking> Receiver<T, B> {
    /// Takes the oldest message, parking while the channel is empty. Fails once the channel
    /// is empty and every sender is gone.
    pub fn recv(&self) -> Result<T, RecvError> {
        let capacity = self.shared.capacity;
        wait_until(
            &self.shared.state,
            |state| &mut state.blocked_receivers,
            0,
            |state| state.receive(capacity),
        )
    }

    /// Takes the oldest message if there is one (on a rendezvous channel: if a sender is
    /// waiting). Never parks.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let capacity = self.shared.capacity;
        match self.shared.state.with(|state| state.receive(capacity)) {
            Some(Ok(value)) => Ok(value),
            Some(Err(RecvError)) => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// `recv` that gives up after `microseconds`; a message that arrives just then is still
    /// returned.
    pub fn recv_timeout(&self, microseconds: u64) -> Result<T, RecvTimeoutError> {
        let capacity = self.shared.capacity;
        let deadline = deadline_after::<B>(microseconds);
        match wait_until_deadline(
            &self.shared.state,
            |state| &mut state.blocked_receivers,
            0,
            Some(deadline),
            |state| state.receive(capacity),
        ) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(RecvError)) => Err(RecvTimeoutError::Disconnected),
            Err(TimedOut) => Err(RecvTimeoutError::Timeout),
        }
    }

    /// For `select`: in one critical section, takes a message (or sees the channel closed)
    /// or, if there is none and `registration` is given, registers its waiter.
    pub(super) fn receive_or_register(
        &self,
        registration: Option<(&Arc<Waiter<B>>, u64)>,
    ) -> Option<Result<T, RecvError>> {
        let capacity = self.shared.capacity;
        self.shared.state.with(|state| {
            let received = state.receive(capacity);
            if let (None, Some((waiter, token))) = (&received, registration) {
                state.blocked_receivers.register(waiter, token);
            }
            received
        })
    }

    /// For `select`: removes a waiter registered by `receive_or_register`.
    pub(super) fn deregister(&self, waiter: &Arc<Waiter<B>>) {
        self.shared.state.with(|state| state.blocked_receivers.deregister(waiter));
    }

    /// For `select`: hands a wake-up that a select did not use to the next waiting receiver.
    pub(super) fn wake_another_receiver(&self) {
        self.shared.state.with(|state| state.blocked_receivers.wake_one());
    }
}

#[cfg(all(test, not(loom)))]
impl<T: Send, B: Blocking> Receiver<T, B> {
    /// Registrations in the queue of waiting receivers, for tests that check a waiter left.
    pub(super) fn blocked_receivers(&self) -> usize {
        self.shared.state.with(|state| state.blocked_receivers.len())
    }
}

impl<T: Send, B: Blocking> Clone for Sender<T, B> {
    fn clone(&self) -> Self {
        self.shared.state.with(|state| state.senders += 1);
        Sender { shared: Arc::clone(&self.shared) }
    }
}

impl<T: Send, B: Blocking> Clone for Receiver<T, B> {
    fn clone(&self) -> Self {
        self.shared.state.with(|state| state.receivers += 1);
        Receiver { shared: Arc::clone(&self.shared) }
    }
}

impl<T: Send, B: Blocking> Drop for Sender<T, B> {
    fn drop(&mut self) {
        self.shared.state.with(|state| {
            state.senders -= 1;
            if state.senders == 0 {
                state.blocked_receivers.wake_all();
            }
        });
    }
}

impl<T: Send, B: Blocking> Drop for Receiver<T, B> {
    fn drop(&mut self) {
        let capacity = self.shared.capacity;
        let undeliverable = self.shared.state.with(|state| {
            state.receivers -= 1;
            if state.receivers > 0 {
                return VecDeque::new();
            }
            state.blocked_senders.wake_all();
            // Rendezvous senders still waiting take their own messages back.
            if capacity == 0 { VecDeque::new() } else { core::mem::take(&mut state.messages) }
        });
        // Dropped outside the critical section: a message's own `drop` may do anything.
        drop(undeliverable);
    }
}

impl<T: Send, B: Blocking> fmt::Debug for Sender<T, B> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T: Send, B: Blocking> fmt::Debug for Receiver<T, B> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl<T> SendError<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> TrySendError<T> {
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Disconnected(value) => value,
        }
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SendError(..)")
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            TrySendError::Full(_) => "Full(..)",
            TrySendError::Disconnected(_) => "Disconnected(..)",
        })
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("sending on a channel whose receivers are all gone")
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            TrySendError::Full(_) => "the channel is full",
            TrySendError::Disconnected(_) => "sending on a channel whose receivers are all gone",
        })
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("the channel is empty and its senders are all gone")
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            TryRecvError::Empty => "the channel is empty",
            TryRecvError::Disconnected => "the channel is empty and its senders are all gone",
        })
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            RecvTimeoutError::Timeout => "no message came before the timeout",
            RecvTimeoutError::Disconnected => "the channel is empty and its senders are all gone",
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::std_blocking::StdBlocking;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::thread;
    use std::time::Duration;
    use std::vec::Vec;

    fn std_channel<T: Send>(capacity: usize) -> (Sender<T, StdBlocking>, Receiver<T, StdBlocking>) {
        channel(capacity)
    }

    fn blocked_senders<T: Send>(shared: &Shared<T, StdBlocking>) -> usize {
        shared.state.with(|state| state.blocked_senders.len())
    }

    #[test]
    fn a_buffered_channel_keeps_order_and_refuses_a_message_beyond_its_capacity() {
        let (sender, receiver) = std_channel(3);
        for value in 1..=3 {
            sender.try_send(value).unwrap();
        }
        assert_eq!(sender.try_send(4), Err(TrySendError::Full(4)));
        assert_eq!(receiver.recv(), Ok(1));
        sender.send(4).unwrap();
        let received: Vec<_> = (0..3).map(|_| receiver.try_recv().unwrap()).collect();
        assert_eq!(received, [2, 3, 4]);
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn recv_parks_until_a_message_comes() {
        let (sender, receiver) = std_channel(1);
        let receiving = thread::spawn(move || receiver.recv());
        thread::sleep(Duration::from_millis(20));
        sender.send("hello").unwrap();
        assert_eq!(receiving.join().unwrap(), Ok("hello"));
    }

    #[test]
    fn send_parks_while_the_buffer_is_full() {
        let (sender, receiver) = std_channel(1);
        sender.send(1).unwrap();
        let sent = Arc::new(AtomicBool::new(false));
        let sending = {
            let sent = Arc::clone(&sent);
            thread::spawn(move || {
                sender.send(2).unwrap();
                sent.store(true, Ordering::SeqCst);
            })
        };
        while blocked_senders(&receiver.shared) == 0 {
            thread::yield_now();
        }
        assert!(!sent.load(Ordering::SeqCst));
        assert_eq!(receiver.recv(), Ok(1));
        sending.join().unwrap();
        assert!(sent.load(Ordering::SeqCst));
        assert_eq!(receiver.recv(), Ok(2));
    }

    #[test]
    fn when_every_sender_is_gone_receivers_drain_then_get_an_error() {
        let (sender, receiver) = std_channel(4);
        let second_sender = sender.clone();
        sender.send(1).unwrap();
        second_sender.send(2).unwrap();
        drop(sender);
        assert_eq!(receiver.try_recv(), Ok(1));
        drop(second_sender);
        assert_eq!(receiver.recv(), Ok(2));
        assert_eq!(receiver.recv(), Err(RecvError));
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
        assert_eq!(receiver.recv_timeout(1_000_000), Err(RecvTimeoutError::Disconnected));
    }

    #[test]
    fn a_receiver_parked_when_the_last_sender_goes_is_woken_with_an_error() {
        let (sender, receiver) = std_channel::<u8>(1);
        let other_receiver = receiver.clone();
        let receiving = thread::spawn(move || other_receiver.recv());
        while receiver.blocked_receivers() == 0 {
            thread::yield_now();
        }
        drop(sender);
        assert_eq!(receiving.join().unwrap(), Err(RecvError));
    }

    #[test]
    fn when_every_receiver_is_gone_send_gives_the_value_back() {
        let (sender, receiver) = std_channel(1);
        let second_receiver = receiver.clone();
        drop(receiver);
        sender.send(1).unwrap();
        drop(second_receiver);
        assert_eq!(sender.send(2).map_err(SendError::into_inner), Err(2));
        assert_eq!(sender.try_send(3), Err(TrySendError::Disconnected(3)));
    }

    #[test]
    fn a_sender_parked_on_a_full_buffer_gets_its_value_back_when_the_receivers_go() {
        let (sender, receiver) = std_channel(1);
        sender.send(1).unwrap();
        let probe = Arc::clone(&receiver.shared);
        let sending = thread::spawn(move || sender.send(2));
        while blocked_senders(&probe) == 0 {
            thread::yield_now();
        }
        drop(receiver);
        assert_eq!(sending.join().unwrap().map_err(SendError::into_inner), Err(2));
    }

    #[test]
    fn messages_left_when_the_last_receiver_goes_are_dropped_at_once() {
        struct Counted(Arc<AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicUsize::new(0));
        let (sender, receiver) = std_channel(2);
        sender.send(Counted(Arc::clone(&dropped))).unwrap();
        sender.send(Counted(Arc::clone(&dropped))).unwrap();
        drop(receiver);
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn recv_timeout_waits_no_less_than_asked_and_returns_a_message_that_comes_in_time() {
        let (sender, receiver) = std_channel::<u8>(1);
        let start = StdBlocking::now();
        assert_eq!(receiver.recv_timeout(20_000), Err(RecvTimeoutError::Timeout));
        assert!(StdBlocking::now() - start >= 20_000);
        assert_eq!(receiver.blocked_receivers(), 0);
        let sending = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            sender.send(7).unwrap();
            sender
        });
        assert_eq!(receiver.recv_timeout(10_000_000), Ok(7));
        drop(sending.join().unwrap());
    }

    #[test]
    fn a_rendezvous_send_returns_only_after_a_receiver_took_the_value() {
        let (sender, receiver) = std_channel(0);
        let sent = Arc::new(AtomicBool::new(false));
        let sending = {
            let sent = Arc::clone(&sent);
            thread::spawn(move || {
                sender.send(5).unwrap();
                sent.store(true, Ordering::SeqCst);
            })
        };
        thread::sleep(Duration::from_millis(20));
        assert!(!sent.load(Ordering::SeqCst), "send returned with nobody receiving");
        assert_eq!(receiver.recv(), Ok(5));
        sending.join().unwrap();
        assert!(sent.load(Ordering::SeqCst));
    }

    #[test]
    fn a_rendezvous_try_send_needs_a_waiting_receiver_and_try_recv_a_waiting_sender() {
        let (sender, receiver) = std_channel(0);
        assert_eq!(sender.try_send(1), Err(TrySendError::Full(1)));
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
        let receiving = {
            let receiver = receiver.clone();
            thread::spawn(move || receiver.recv())
        };
        while receiver.blocked_receivers() == 0 {
            thread::yield_now();
        }
        sender.try_send(2).unwrap();
        assert_eq!(receiving.join().unwrap(), Ok(2));
        let probe = Arc::clone(&receiver.shared);
        let sending = thread::spawn(move || sender.send(3));
        while blocked_senders(&probe) == 0 {
            thread::yield_now();
        }
        assert_eq!(receiver.try_recv(), Ok(3));
        sending.join().unwrap().unwrap();
    }

    #[test]
    fn a_parked_rendezvous_sender_gets_its_value_back_when_the_receivers_go() {
        let (sender, receiver) = std_channel(0);
        let probe = Arc::clone(&receiver.shared);
        let sending = thread::spawn(move || sender.send(9));
        while blocked_senders(&probe) == 0 {
            thread::yield_now();
        }
        drop(receiver);
        assert_eq!(sending.join().unwrap().map_err(SendError::into_inner), Err(9));
    }

    #[test]
    fn ping_pong_over_two_rendezvous_channels() {
        let (ping_sender, ping_receiver) = std_channel(0);
        let (pong_sender, pong_receiver) = std_channel(0);
        let echo = thread::spawn(move || {
            while let Ok(value) = ping_receiver.recv() {
                pong_sender.send(value + 1).unwrap();
            }
        });
        for value in 0..10_000u32 {
            ping_sender.send(value).unwrap();
            assert_eq!(pong_receiver.recv(), Ok(value + 1));
        }
        drop(ping_sender);
        echo.join().unwrap();
    }

    /// Producers send distinct numbers; consumers add up what they get; every number must
    /// arrive exactly once.
    fn producers_and_consumers(capacity: usize, producers: u64, consumers: usize, each: u64) {
        let (sender, receiver) = std_channel(capacity);
        let producing: Vec<_> = (0..producers)
            .map(|producer| {
                let sender = sender.clone();
                thread::spawn(move || {
                    for index in 0..each {
                        sender.send(producer * each + index).unwrap();
                    }
                })
            })
            .collect();
        drop(sender);
        let consuming: Vec<_> = (0..consumers)
            .map(|_| {
                let receiver = receiver.clone();
                thread::spawn(move || {
                    let (mut count, mut sum, mut square_sum) = (0u64, 0u64, 0u64);
                    loop {
                        let value = match receiver.recv_timeout(1_000) {
                            Ok(value) => value,
                            Err(RecvTimeoutError::Timeout) => continue,
                            Err(RecvTimeoutError::Disconnected) => break,
                        };
                        count += 1;
                        sum += value;
                        square_sum += value * value;
                    }
                    (count, sum, square_sum)
                })
            })
            .collect();
        drop(receiver);
        for producer in producing {
            producer.join().unwrap();
        }
        let total = producers * each;
        let (count, sum, square_sum) = consuming
            .into_iter()
            .map(|consumer| consumer.join().unwrap())
            .fold((0, 0, 0), |(a, b, c), (d, e, f)| (a + d, b + e, c + f));
        assert_eq!(count, total);
        assert_eq!(sum, total * (total - 1) / 2);
        assert_eq!(square_sum, (total - 1) * total * (2 * total - 1) / 6);
    }

    #[test]
    fn four_producers_and_four_consumers_on_a_small_buffer_lose_and_repeat_nothing() {
        producers_and_consumers(4, 4, 4, 5_000);
    }

    #[test]
    fn four_producers_and_four_consumers_on_a_rendezvous_channel_lose_and_repeat_nothing() {
        producers_and_consumers(0, 4, 4, 2_000);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::sync::loom_blocking::{LoomBlocking, advance_clock, model};
    use loom::thread;
    use std::vec::Vec;

    fn loom_channel<T: Send>(
        capacity: usize,
    ) -> (Sender<T, LoomBlocking>, Receiver<T, LoomBlocking>) {
        channel(capacity)
    }

    #[test]
    fn a_sender_parked_on_a_full_buffer_goes_on_after_a_receive_then_closes() {
        model(|| {
            let (sender, receiver) = loom_channel(1);
            let sending = thread::spawn(move || {
                sender.send(1).unwrap();
                sender.send(2).unwrap();
            });
            assert_eq!(receiver.recv(), Ok(1));
            assert_eq!(receiver.recv(), Ok(2));
            assert_eq!(receiver.recv(), Err(RecvError));
            sending.join().unwrap();
        });
    }

    #[test]
    fn two_receivers_share_two_messages_then_both_see_the_close() {
        model(|| {
            let (sender, receiver) = loom_channel(1);
            let other = receiver.clone();
            let receiving = thread::spawn(move || {
                let first = other.recv();
                (first, other.recv())
            });
            sender.send(1).unwrap();
            sender.send(2).unwrap();
            drop(sender);
            let mine: Vec<_> = core::iter::from_fn(|| receiver.recv().ok()).collect();
            let (first, second) = receiving.join().unwrap();
            let mut all: Vec<_> = mine.into_iter().chain(first.ok()).chain(second.ok()).collect();
            all.sort_unstable();
            assert_eq!(all, [1, 2]);
        });
    }

    #[test]
    fn a_rendezvous_send_returns_after_the_take_and_close_follows() {
        model(|| {
            let (sender, receiver) = loom_channel(0);
            let sending = thread::spawn(move || {
                sender.send(1).unwrap();
                let taken = sender.shared.state.with(|state| state.messages.is_empty());
                assert!(taken, "send returned before a receiver took the value");
            });
            assert_eq!(receiver.recv(), Ok(1));
            assert_eq!(receiver.recv(), Err(RecvError));
            sending.join().unwrap();
        });
    }

    #[test]
    fn a_rendezvous_sender_gets_its_value_back_when_the_receiver_goes() {
        model(|| {
            let (sender, receiver) = loom_channel::<u8>(0);
            let sending = thread::spawn(move || sender.send(1));
            drop(receiver);
            assert_eq!(sending.join().unwrap().map_err(SendError::into_inner), Err(1));
        });
    }

    #[test]
    fn a_try_send_from_an_interrupt_handler_is_received_or_refused_never_lost() {
        for capacity in [0, 1] {
            model(move || {
                let (sender, receiver) = loom_channel(capacity);
                let receiving = thread::spawn(move || receiver.recv());
                let sent = sender.try_send(1).is_ok();
                drop(sender);
                let received = receiving.join().unwrap();
                assert_eq!(received, if sent { Ok(1) } else { Err(RecvError) });
            });
        }
    }

    #[test]
    fn a_full_buffer_sender_is_released_by_a_receive_or_by_the_close() {
        model(|| {
            let (sender, receiver) = loom_channel(1);
            sender.send(1).unwrap();
            let sending = thread::spawn(move || sender.send(2).map_err(SendError::into_inner));
            assert_eq!(receiver.recv(), Ok(1));
            drop(receiver);
            // The second message either found room before the close, or came back.
            let sent = sending.join().unwrap();
            assert!(matches!(sent, Ok(()) | Err(2)));
        });
    }

    #[test]
    fn recv_timeout_returns_the_message_or_times_out_and_leaves_it_in_the_channel() {
        model(|| {
            let (sender, receiver) = loom_channel(1);
            let sending = thread::spawn(move || {
                sender.send(1).unwrap();
                sender
            });
            let clock = thread::spawn(|| advance_clock(10));
            match receiver.recv_timeout(10) {
                Ok(value) => assert_eq!(value, 1),
                Err(RecvTimeoutError::Timeout) => {
                    let _sender = sending.join().unwrap();
                    clock.join().unwrap();
                    assert_eq!(receiver.try_recv(), Ok(1));
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => panic!("a sender is alive"),
            }
            drop(sending.join().unwrap());
            clock.join().unwrap();
        });
    }
}
