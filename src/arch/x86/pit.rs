//! The 8254 programmable interval timer: channel 0 drives the system tick (IRQ 0), channel 2
//! measures the time-stamp counter's rate.

use super::cpu::read_time_stamp_counter;
use super::port::Port;

/// The PIT's input clock (Intel 8254 datasheet; PC/AT: 14.31818 MHz / 12).
pub const PIT_INPUT_HZ: u64 = 1_193_182;

// Ports: the PIT's channel 0 and 2 data ports, its command port, and the PC/AT's
// port B (speaker gate and channel 2's output), which only this module drives; the speaker
// stays off.
// SAFETY: one of the ports this module alone drives, as described above.
const PIT_CHANNEL_0_DATA: Port<u8> = unsafe { Port::new(0x40) };
// SAFETY: one of the ports this module alone drives, as described above.
const PIT_CHANNEL_2_DATA: Port<u8> = unsafe { Port::new(0x42) };
// SAFETY: one of the ports this module alone drives, as described above.
const PIT_COMMAND: Port<u8> = unsafe { Port::new(0x43) };
/// Keyboard controller port B on the PC/AT: bit 0 gates channel 2, bit 1 drives the speaker,
/// bit 5 reads channel 2's output.
// SAFETY: one of the ports this module alone drives, as described above.
const SYSTEM_CONTROL_PORT_B: Port<u8> = unsafe { Port::new(0x61) };
const PORT_B_CHANNEL_2_GATE: u8 = 0x01;
const PORT_B_SPEAKER_DATA: u8 = 0x02;
const PORT_B_CHANNEL_2_OUTPUT: u8 = 0x20;
/// Channel 2, low byte then high byte, mode 0 (interrupt on terminal count), binary.
const COMMAND_CHANNEL_2_ONE_SHOT: u8 = 0b1011_0000;
/// Channel 0, low byte then high byte, mode 0 (interrupt on terminal count), binary.
const COMMAND_CHANNEL_0_ONE_SHOT: u8 = 0b0011_0000;
/// Channel 0, low byte then high byte, mode 2 (rate generator), binary.
const COMMAND_CHANNEL_0_PERIODIC: u8 = 0b0011_0100;

/// Starts channel 0 firing IRQ 0 every `divisor` input clocks (PIT_INPUT_HZ / divisor per
/// second).
pub fn start_periodic_timer(divisor: u16) {
    PIT_COMMAND.write(COMMAND_CHANNEL_0_PERIODIC);
    PIT_CHANNEL_0_DATA.write(divisor as u8);
    PIT_CHANNEL_0_DATA.write((divisor >> 8) as u8);
}

/// Stops channel 0's periodic interrupts (the firmware's 18.2 Hz, or ours): the control word
/// for mode 0 with no count following leaves the channel waiting for a count that never comes
/// (Intel 8254 datasheet, "Mode 0"). Channel 2 is unaffected.
pub fn stop_periodic_timer() {
    PIT_COMMAND.write(COMMAND_CHANNEL_0_ONE_SHOT);
}

/// One measurement of the time-stamp counter against the PIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeStampWindow {
    /// Counter ticks the window is estimated to have lasted.
    pub elapsed_ticks: u64,
    /// How uncertain each end of the window is, added up: a large value means the CPU was
    /// paused near an end and the window should not be trusted.
    pub slack_ticks: u64,
}

/// One window: channel 2 counts `count` input clocks down while the time-stamp counter is
/// read around the load and around every poll of the output, so that each end of the window
/// is known to lie between two readings. Channel 2 is used because it can be polled through
/// port B without interrupts and leaves channel 0 free for the system timer.
pub fn measure_time_stamp_window(count: u16) -> TimeStampWindow {
    let port_b = SYSTEM_CONTROL_PORT_B;
    let control = port_b.read();
    port_b.write((control & !PORT_B_SPEAKER_DATA) | PORT_B_CHANNEL_2_GATE);
    PIT_COMMAND.write(COMMAND_CHANNEL_2_ONE_SHOT);
    PIT_CHANNEL_2_DATA.write(count as u8);
    let before_load = read_time_stamp_counter();
    // Counting starts with the high byte.
    PIT_CHANNEL_2_DATA.write((count >> 8) as u8);
    let after_load = read_time_stamp_counter();
    // The output was last seen low no earlier than this reading.
    let mut before_low_poll = before_load;
    let after_high_poll = loop {
        let before_poll = read_time_stamp_counter();
        let expired = port_b.read() & PORT_B_CHANNEL_2_OUTPUT != 0;
        let after_poll = read_time_stamp_counter();
        if expired {
            break after_poll;
        }
        before_low_poll = before_poll;
        core::hint::spin_loop();
    };
    port_b.write(control & !PORT_B_SPEAKER_DATA);
    TimeStampWindow {
        elapsed_ticks: (before_low_poll + after_high_poll - before_load - after_load) / 2,
        slack_ticks: (after_load - before_load) + (after_high_poll - before_low_poll),
    }
}
