//! QEMU's `isa-debug-exit` device: writing a byte to it ends the emulator with a status code.

use super::cpu::halt_forever;
use super::port::Port;

/// The I/O port the test scripts give the device (`-device isa-debug-exit,iobase=0xf4`).
// SAFETY: the debug-exit device under QEMU; on PCs port 0xf4 is unused and a write is lost.
const DEBUG_EXIT_PORT: Port<u8> = unsafe { Port::new(0xf4) };

/// What the kernel reports on exit. QEMU exits with status `(code << 1) | 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// QEMU exit status 33.
    Success = 0x10,
    /// QEMU exit status 35.
    Failure = 0x11,
}

/// Ends QEMU with `code`; on a machine without the device (real hardware) halts instead.
pub fn exit_qemu(code: ExitCode) -> ! {
    DEBUG_EXIT_PORT.write(code as u8);
    halt_forever()
}
