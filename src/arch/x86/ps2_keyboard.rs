//! The PS/2 keyboard on the 8042 controller: draining stale bytes at boot and reading the
//! scancode that raised IRQ 1.

use super::port::Port;
use super::ps2_controller::{ControllerPorts, ControllerState, self_test};

// Ports: the 8042's data and status ports. Reading the status has no effect; reading
// the data port takes the byte the controller holds, which is its acknowledgement.
// SAFETY: one of the ports this module alone drives, as described above.
const DATA_PORT: Port<u8> = unsafe { Port::new(0x60) };
// SAFETY: one of the ports this module alone drives, as described above. Writes to it are
// controller commands, sent only by the self-test.
const STATUS_PORT: Port<u8> = unsafe { Port::new(0x64) };
const STATUS_OUTPUT_FULL: u8 = 0x01;
/// Bytes the controller may still hold from before boot, read and dropped at start.
const MAXIMUM_STALE_BYTES: usize = 32;

/// The controller's real ports.
struct ControllerHardware;

impl ControllerPorts for ControllerHardware {
    fn read_status(&mut self) -> u8 {
        STATUS_PORT.read()
    }

    fn read_data(&mut self) -> u8 {
        DATA_PORT.read()
    }

    fn write_command(&mut self, command: u8) {
        STATUS_PORT.write(command);
    }

    fn write_data(&mut self, value: u8) {
        DATA_PORT.write(value);
    }
}

/// Runs the controller's self-test (bounded waits: a PC may have no 8042); call with the
/// keyboard's IRQ masked.
pub fn check_controller() -> ControllerState {
    self_test(&mut ControllerHardware)
}

/// Empties the controller's output buffer of bytes left from the firmware.
pub fn initialize() {
    for _ in 0..MAXIMUM_STALE_BYTES {
        if STATUS_PORT.read() & STATUS_OUTPUT_FULL == 0 {
            break;
        }
        DATA_PORT.read();
    }
}

/// The scancode byte that raised IRQ 1, if the controller holds one; call only from the IRQ 1
/// handler. It may not: the self-test's answers raise IRQ 1 too, and the PIC remembers that
/// edge until the IRQ is unmasked, when the byte has long been read.
pub fn read_scancode() -> Option<u8> {
    (STATUS_PORT.read() & STATUS_OUTPUT_FULL != 0).then(|| DATA_PORT.read())
}
