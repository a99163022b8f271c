//! The VGA text buffer at 0xB8000 and its hardware cursor, as a `TextSurface`.

use core::ptr::NonNull;

use spin::Mutex;
use volatile::VolatilePtr;

use super::port::Port;
use crate::console::{ColorCode, ScreenChar, TextConsole, TextSurface};

/// Physical (and, without paging, virtual) address of the colour text buffer.
const VGA_TEXT_BUFFER_ADDRESS: usize = 0xb8000;
/// Mode 3 (80x25 text), which the BIOS sets up and GRUB leaves in place.
pub const VGA_TEXT_WIDTH: usize = 80;
pub const VGA_TEXT_HEIGHT: usize = 25;

/// CRT controller index and data ports (colour adapter base 0x3D4).
const CRTC_INDEX_PORT: u16 = 0x3d4;
const CRTC_DATA_PORT: u16 = 0x3d5;
/// CRTC registers: cursor start/end scan lines and cursor location high/low.
const CRTC_CURSOR_START: u8 = 0x0a;
const CRTC_CURSOR_END: u8 = 0x0b;
const CRTC_CURSOR_LOCATION_HIGH: u8 = 0x0e;
const CRTC_CURSOR_LOCATION_LOW: u8 = 0x0f;
/// An underline cursor on scan lines 14-15 of the 16-line character cell.
const CURSOR_FIRST_SCAN_LINE: u8 = 14;
const CURSOR_LAST_SCAN_LINE: u8 = 15;

/// The screen every `print!` writes to. It starts in colour 0 so the static is all zeroes
/// (and costs no space in the kernel file); boot sets the default colours before printing.
pub static VGA_CONSOLE: Mutex<TextConsole<VgaTextBuffer>> =
    // SAFETY: this static is the only `VgaTextBuffer` ever made.
    Mutex::new(
        TextConsole::with_color(unsafe { VgaTextBuffer::new() }, ColorCode::from_attribute(0)),
    );

/// The memory-mapped 80x25 text buffer: two bytes per cell, character then attribute.
pub struct VgaTextBuffer {
    _only_through_new: (),
}

// SAFETY: the buffer is plain memory-mapped RAM; access is serialised by the Mutex around it.
unsafe impl Send for VgaTextBuffer {}

impl VgaTextBuffer {
    /// The text buffer at 0xB8000.
    ///
    /// # Safety
    /// The machine must be in VGA text mode 3 with the buffer identity-mapped, and only one
    /// instance may exist, or writes from two owners interleave.
    const unsafe fn new() -> Self {
        VgaTextBuffer { _only_through_new: () }
    }

    fn cell(&self, row: usize, column: usize) -> VolatilePtr<'_, ScreenChar> {
        assert!(row < VGA_TEXT_HEIGHT && column < VGA_TEXT_WIDTH);
        let address = VGA_TEXT_BUFFER_ADDRESS + (row * VGA_TEXT_WIDTH + column) * 2;
        // SAFETY: row and column are in range, so the address is inside the 4000-byte buffer,
        // which is identity-mapped and writable for the kernel's whole life; it is not null.
        unsafe { VolatilePtr::new(NonNull::new_unchecked(address as *mut ScreenChar)) }
    }

    /// Turns the hardware cursor on as an underline.
    pub fn enable_cursor(&mut self) {
        write_crtc(CRTC_CURSOR_START, CURSOR_FIRST_SCAN_LINE);
        write_crtc(CRTC_CURSOR_END, CURSOR_LAST_SCAN_LINE);
    }
}

impl TextSurface for VgaTextBuffer {
    fn width(&self) -> usize {
        VGA_TEXT_WIDTH
    }

    fn height(&self) -> usize {
        VGA_TEXT_HEIGHT
    }

    fn read_cell(&self, row: usize, column: usize) -> ScreenChar {
        self.cell(row, column).read()
    }

    fn write_cell(&mut self, row: usize, column: usize, cell: ScreenChar) {
        self.cell(row, column).write(cell);
    }

    fn move_cursor(&mut self, row: usize, column: usize) {
        let position = (row * VGA_TEXT_WIDTH + column) as u16;
        write_crtc(CRTC_CURSOR_LOCATION_HIGH, (position >> 8) as u8);
        write_crtc(CRTC_CURSOR_LOCATION_LOW, position as u8);
    }
}

fn write_crtc(register: u8, value: u8) {
    // SAFETY: the CRTC index/data pair only selects and sets display registers; cursor
    // registers change nothing but the blinking cursor.
    unsafe {
        Port::<u8>::new(CRTC_INDEX_PORT).write(register);
        Port::<u8>::new(CRTC_DATA_PORT).write(value);
    }
}

/// The screen for the panic path: taken even if the panicking code held its lock.
pub fn vga_console_for_panic() -> spin::MutexGuard<'static, TextConsole<VgaTextBuffer>> {
    if VGA_CONSOLE.is_locked() {
        // SAFETY: the kernel runs on one CPU and the panic path never returns to the code that
        // held the lock, so no other user of the guarded console can run again.
        unsafe { VGA_CONSOLE.force_unlock() };
    }
    VGA_CONSOLE.lock()
}
