//! The 8042 PS/2 controller's self-test, with every wait bounded: a PC without the controller
//! (many UEFI machines, whose keyboards are USB) reads 0xFF from its ports and would otherwise
//! be waited on forever. Written over a seam of the two ports so the verdicts are host-tested.
#![forbid(unsafe_code)]

/// The controller's status and data ports (0x64 and 0x60 on a PC).
pub trait ControllerPorts {
    fn read_status(&mut self) -> u8;
    fn read_data(&mut self) -> u8;
    fn write_command(&mut self, command: u8);
    fn write_data(&mut self, value: u8);
}

/// Status register bits: a byte waits in the output buffer for us; the controller has not yet
/// taken the last byte written to it.
pub const STATUS_OUTPUT_FULL: u8 = 0x01;
pub const STATUS_INPUT_FULL: u8 = 0x02;
/// Controller commands (IBM PC/AT technical reference, 8042 commands).
const COMMAND_READ_CONFIGURATION: u8 = 0x20;
const COMMAND_WRITE_CONFIGURATION: u8 = 0x60;
const COMMAND_SELF_TEST: u8 = 0xaa;
/// What a working controller answers to its self-test.
pub const SELF_TEST_PASSED: u8 = 0x55;
/// Status reads before a wait gives up. A read of an ISA port takes about a microsecond, so a
/// missing controller costs a fraction of a second at boot, once.
pub const POLL_LIMIT: u32 = 100_000;

/// What the self-test found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerState {
    /// The controller answered 0x55: PS/2 keys (real or emulated by the firmware) can arrive.
    Working,
    /// It answered, with this failure code instead of 0x55.
    Failed(u8),
    /// Nothing answered within the bounded waits: no 8042 at all.
    Absent,
}

/// Runs the controller's self-test. The test resets the configuration byte on some
/// controllers, so it is read first and written back after.
pub fn self_test(ports: &mut impl ControllerPorts) -> ControllerState {
    // Bytes left from the firmware would be taken for answers.
    for _ in 0..16 {
        if ports.read_status() & STATUS_OUTPUT_FULL == 0 {
            break;
        }
        ports.read_data();
    }
    let Some(configuration) = command_with_reply(ports, COMMAND_READ_CONFIGURATION) else {
        return ControllerState::Absent;
    };
    let Some(result) = command_with_reply(ports, COMMAND_SELF_TEST) else {
        return ControllerState::Absent;
    };
    if send(ports, Byte::Command(COMMAND_WRITE_CONFIGURATION)) {
        send(ports, Byte::Data(configuration));
    }
    if result == SELF_TEST_PASSED {
        ControllerState::Working
    } else {
        ControllerState::Failed(result)
    }
}

enum Byte {
    Command(u8),
    Data(u8),
}

/// Writes `byte` once the controller can take it; false if it never could.
fn send(ports: &mut impl ControllerPorts, byte: Byte) -> bool {
    if !wait_for(ports, |status| status & STATUS_INPUT_FULL == 0) {
        return false;
    }
    match byte {
        Byte::Command(command) => ports.write_command(command),
        Byte::Data(value) => ports.write_data(value),
    }
    true
}

/// Sends `command` and returns the byte the controller answers, if it does in time.
fn command_with_reply(ports: &mut impl ControllerPorts, command: u8) -> Option<u8> {
    if !send(ports, Byte::Command(command)) {
        return None;
    }
    wait_for(ports, |status| status & STATUS_OUTPUT_FULL != 0).then(|| ports.read_data())
}

/// Polls the status until `ready` holds, at most `POLL_LIMIT` times.
fn wait_for(ports: &mut impl ControllerPorts, ready: impl Fn(u8) -> bool) -> bool {
    (0..POLL_LIMIT).any(|_| ready(ports.read_status()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// A controller that answers commands from a script, or a bus with nothing on it.
    struct FakeController {
        present: bool,
        self_test_answer: u8,
        configuration: u8,
        output: VecDeque<u8>,
        written: Vec<(char, u8)>,
        status_reads: u32,
        expecting_configuration: bool,
    }

    impl FakeController {
        fn new(present: bool, self_test_answer: u8) -> FakeController {
            FakeController {
                present,
                self_test_answer,
                configuration: 0x61,
                output: VecDeque::new(),
                written: Vec::new(),
                status_reads: 0,
                expecting_configuration: false,
            }
        }
    }

    impl ControllerPorts for FakeController {
        fn read_status(&mut self) -> u8 {
            self.status_reads += 1;
            if !self.present {
                return 0xff; // a floating bus: every bit set, "input full" forever
            }
            u8::from(!self.output.is_empty()) * STATUS_OUTPUT_FULL
        }

        fn read_data(&mut self) -> u8 {
            self.output.pop_front().unwrap_or(0xff)
        }

        fn write_command(&mut self, command: u8) {
            self.written.push(('c', command));
            match command {
                COMMAND_READ_CONFIGURATION => self.output.push_back(self.configuration),
                COMMAND_SELF_TEST => {
                    self.configuration = 0; // what some real controllers do
                    self.output.push_back(self.self_test_answer);
                }
                COMMAND_WRITE_CONFIGURATION => self.expecting_configuration = true,
                _ => {}
            }
        }

        fn write_data(&mut self, value: u8) {
            self.written.push(('d', value));
            if core::mem::take(&mut self.expecting_configuration) {
                self.configuration = value;
            }
        }
    }

    #[test]
    fn a_working_controller_passes_and_keeps_its_configuration() {
        let mut controller = FakeController::new(true, SELF_TEST_PASSED);
        controller.output.push_back(0x1c); // a stale scancode from the firmware
        assert_eq!(self_test(&mut controller), ControllerState::Working);
        assert_eq!(controller.configuration, 0x61);
        assert_eq!(controller.written, [('c', 0x20), ('c', 0xaa), ('c', 0x60), ('d', 0x61)]);
    }

    #[test]
    fn a_failing_controller_reports_its_code() {
        let mut controller = FakeController::new(true, 0xfc);
        assert_eq!(self_test(&mut controller), ControllerState::Failed(0xfc));
    }

    #[test]
    fn a_missing_controller_is_found_absent_after_a_bounded_wait() {
        let mut controller = FakeController::new(false, 0);
        assert_eq!(self_test(&mut controller), ControllerState::Absent);
        assert!(controller.written.is_empty(), "wrote to a controller that is not there");
        assert!(controller.status_reads <= POLL_LIMIT + 16, "{}", controller.status_reads);
    }
}
