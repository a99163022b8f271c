//! The panic handler: message, location and backtrace on screen and serial, then a halt (or,
//! under the test harness, QEMU's failure exit).

use core::fmt::Write;
use core::panic::PanicInfo;

use super::fatal::{FatalOutput, PANIC_PALETTE, current_thread_label};
use super::report::{ReportWriter, Style, write_thread_line};
use crate::arch::x86::cpu::read_frame_pointer;
use crate::memory::heap::{HEAP_LIMIT_BYTES, heap_figures, last_failed_request};
use crate::memory::setup::FRAME_ALLOCATOR;

/// Explains an allocation failure: the request, and what the heap and frames had left.
fn write_out_of_memory(output: &mut FatalOutput, size: usize, align: usize) {
    output.set_style(Style::Emphasis);
    let _ = writeln!(
        output,
        " out of memory: a request for {size} bytes (alignment {align}) could not be met"
    );
    output.set_style(Style::Normal);
    if let Some(heap) = heap_figures() {
        let _ = writeln!(
            output,
            "   heap: {} bytes in {} blocks, {} claimed, {} free; limit {} bytes",
            heap.allocated_bytes,
            heap.allocation_count,
            heap.claimed_bytes,
            heap.available_bytes,
            HEAP_LIMIT_BYTES
        );
    }
    if let Some(frames) = FRAME_ALLOCATOR.try_lock() {
        let _ = writeln!(
            output,
            "   frames: {} of {} free (4 KiB each)",
            frames.free_frames(),
            frames.managed_frames()
        );
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let frame_pointer = read_frame_pointer();
    let mut output = FatalOutput::take(PANIC_PALETTE, "a panic");
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
    let _ = write_thread_line(&mut output, current_thread_label());
    if let Some((size, align)) = last_failed_request() {
        write_out_of_memory(&mut output, size, align);
    }
    output.write_backtrace(frame_pointer);
    output.finish()
}
