//! Restarting the machine: the keyboard controller's reset line, then a triple fault.

use core::arch::asm;

use super::port::Port;

// SAFETY: the 8042's command port (status when read); this module only waits for its input
// buffer and sends the reset pulse, which affects the CPU's reset line and nothing else.
const CONTROLLER_COMMAND_PORT: Port<u8> = unsafe { Port::new(0x64) };
const CONTROLLER_INPUT_FULL: u8 = 0x02;
/// 8042 command: pulse output line 0, wired to the CPU's reset on PCs.
const PULSE_RESET_LINE: u8 = 0xfe;
const CONTROLLER_WAIT_ATTEMPTS: usize = 100_000;

/// Resets the machine; never returns.
pub fn reboot() -> ! {
    for _ in 0..CONTROLLER_WAIT_ATTEMPTS {
        if CONTROLLER_COMMAND_PORT.read() & CONTROLLER_INPUT_FULL == 0 {
            break;
        }
    }
    CONTROLLER_COMMAND_PORT.write(PULSE_RESET_LINE);
    // Some machines have no 8042 reset: an empty IDT turns the next interrupt into a triple
    // fault, which resets every x86 CPU.
    let empty_idt = [0u16; 3];
    // SAFETY: deliberately makes every interrupt unhandleable; the CPU resets at `int3`.
    unsafe { asm!("lidt [{}]", "int3", in(reg) &empty_idt, options(noreturn)) }
}
