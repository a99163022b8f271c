//! Restarting the machine: the keyboard controller's reset line, then a triple fault.

use core::arch::asm;

use super::port::Port;

const CONTROLLER_COMMAND_PORT: u16 = 0x64;
const CONTROLLER_INPUT_FULL: u8 = 0x02;
/// 8042 command: pulse output line 0, wired to the CPU's reset on PCs.
const PULSE_RESET_LINE: u8 = 0xfe;
const CONTROLLER_WAIT_ATTEMPTS: usize = 100_000;

/// Resets the machine; never returns.
pub fn reboot() -> ! {
    // SAFETY: waiting for the controller's input buffer and sending the reset pulse only
    // affects the controller and, through it, the CPU's reset line.
    unsafe {
        let port = Port::<u8>::new(CONTROLLER_COMMAND_PORT);
        for _ in 0..CONTROLLER_WAIT_ATTEMPTS {
            if port.read() & CONTROLLER_INPUT_FULL == 0 {
                break;
            }
        }
        port.write(PULSE_RESET_LINE);
    }
    // Some machines have no 8042 reset: an empty IDT turns the next interrupt into a triple
    // fault, which resets every x86 CPU.
    let empty_idt = [0u16; 3];
    // SAFETY: deliberately makes every interrupt unhandleable; the CPU resets at `int3`.
    unsafe { asm!("lidt [{}]", "int3", in(reg) &empty_idt, options(noreturn)) }
}
