//! The panic handler: message, location and backtrace on screen and serial, then a halt (or,
//! under the test harness, QEMU's failure exit).

use core::fmt::Write;
use core::panic::PanicInfo;

use crate::arch::x86::cpu::read_frame_pointer;
use crate::diagnostics::report::{ReportWriter, Style};
use crate::fatal::{FatalOutput, PANIC_PALETTE, stop, write_panic_backtrace};

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let frame_pointer = read_frame_pointer();
    let mut output = FatalOutput::take(PANIC_PALETTE);
    output.set_style(Style::Heading);
    let _ = write!(output, "\n KERNEL PANIC ");
    output.set_style(Style::Emphasis);
    let _ = write!(output, "{}", info.message());
    if let Some(location) = info.location() {
        let _ =
            write!(output, "\n   at {}:{}:{}", location.file(), location.line(), location.column());
    }
    output.set_style(Style::Normal);
    let _ = writeln!(output);
    write_panic_backtrace(&mut output, frame_pointer);
    output.set_style(Style::Heading);
    let _ = write!(output, " System halted. ");
    output.set_style(Style::Normal);
    let _ = writeln!(output);
    drop(output);
    stop()
}
