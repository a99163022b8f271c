//! The panic handler: a readable message on screen and serial, then a halt (or, under the test
//! harness, QEMU's failure exit).

use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::x86::cpu::halt_forever;
use crate::arch::x86::qemu_exit::{ExitCode, exit_qemu};
use crate::arch::x86::serial::com1_for_panic;
use crate::arch::x86::vga_text::vga_console_for_panic;
use crate::console::{Color, ColorCode};

/// White on red, unlike anything else the kernel prints.
const PANIC_COLOR: ColorCode = ColorCode::new(Color::White, Color::Red);
const PANIC_DETAIL_COLOR: ColorCode = ColorCode::new(Color::Yellow, Color::Red);

/// Set under the test harness: a panic then ends QEMU with the failure status.
static EXIT_QEMU_ON_PANIC: AtomicBool = AtomicBool::new(false);

/// What happens after the panic message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanicAction {
    /// Halt with the message on screen (a normal boot).
    Halt,
    /// End QEMU through isa-debug-exit with status 35 (the `test` word).
    ExitQemu,
}

/// Chooses what a panic does after printing.
pub fn set_panic_action(action: PanicAction) {
    EXIT_QEMU_ON_PANIC.store(action == PanicAction::ExitQemu, Ordering::Relaxed);
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    // The locks are taken by force: the panic may have struck while one was held.
    {
        let mut console = vga_console_for_panic();
        console.set_color(PANIC_COLOR);
        let _ = write!(console, "\n KERNEL PANIC ");
        console.set_color(PANIC_DETAIL_COLOR);
        let _ = write!(console, "{}", info.message());
        if let Some(location) = info.location() {
            let _ = write!(
                console,
                "\n   at {}:{}:{}",
                location.file(),
                location.line(),
                location.column()
            );
        }
        console.set_color(PANIC_COLOR);
        let _ = write!(console, "\n System halted.");
    }
    {
        let mut serial = com1_for_panic();
        let _ = write!(serial, "\nKERNEL PANIC {}", info.message());
        if let Some(location) = info.location() {
            let _ = write!(
                serial,
                "\n   at {}:{}:{}",
                location.file(),
                location.line(),
                location.column()
            );
        }
        let _ = writeln!(serial, "\nSystem halted.");
    }
    if EXIT_QEMU_ON_PANIC.load(Ordering::Relaxed) {
        exit_qemu(ExitCode::Failure)
    }
    halt_forever()
}
