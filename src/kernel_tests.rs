//! In-kernel tests, run by the `test` command-line word; results go to serial and QEMU's exit code.

use crate::arch::x86::qemu_exit::{ExitCode, exit_qemu};
use crate::log;

/// Runs every test, reports each on serial, and ends QEMU: status 33 if all passed, 35 if not.
pub fn run_all() -> ! {
    log!("tests: none yet");
    exit_qemu(ExitCode::Success)
}
