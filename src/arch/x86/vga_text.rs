//! The VGA text buffer at 0xB8000 and its hardware cursor: cells of a character byte and an
//! attribute byte, in the 80x25 mode 3 the BIOS sets up and GRUB leaves in place.

use core::ptr::NonNull;

use volatile::VolatilePtr;

use super::port::Port;

/// Physical (and identity-mapped virtual) address of the colour text buffer.
const VGA_TEXT_BUFFER_ADDRESS: usize = 0xb8000;
pub const VGA_TEXT_WIDTH: usize = 80;
pub const VGA_TEXT_HEIGHT: usize = 25;

/// CRT controller index and data ports (colour adapter base 0x3D4).
// Ports: the CRT controller's index and data ports, which only this module uses, and
// only for the cursor registers, which change nothing but the blinking cursor.
// SAFETY: one of the ports this module alone drives, as described above.
const CRTC_INDEX_PORT: Port<u8> = unsafe { Port::new(0x3d4) };
// SAFETY: one of the ports this module alone drives, as described above.
const CRTC_DATA_PORT: Port<u8> = unsafe { Port::new(0x3d5) };
/// CRTC registers: cursor start/end scan lines and cursor location high/low.
const CRTC_CURSOR_START: u8 = 0x0a;
const CRTC_CURSOR_END: u8 = 0x0b;
const CRTC_CURSOR_LOCATION_HIGH: u8 = 0x0e;
const CRTC_CURSOR_LOCATION_LOW: u8 = 0x0f;
/// An underline cursor on scan lines 14-15 of the 16-line character cell.
const CURSOR_FIRST_SCAN_LINE: u8 = 14;
const CURSOR_LAST_SCAN_LINE: u8 = 15;

/// One cell as the hardware stores it: the code page 437 character, then the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct VgaCell {
    pub character: u8,
    pub attribute: u8,
}

/// The memory-mapped 80x25 text buffer.
pub struct VgaTextBuffer {
    _only_through_new: (),
}

impl VgaTextBuffer {
    /// The text buffer at 0xB8000.
    ///
    /// # Safety
    /// The machine must be in VGA text mode 3 with the buffer identity-mapped, and only one
    /// instance may exist, or writes from two owners interleave.
    pub const unsafe fn new() -> Self {
        VgaTextBuffer { _only_through_new: () }
    }

    fn cell(&self, row: usize, column: usize) -> VolatilePtr<'_, VgaCell> {
        assert!(row < VGA_TEXT_HEIGHT && column < VGA_TEXT_WIDTH);
        let address = VGA_TEXT_BUFFER_ADDRESS + (row * VGA_TEXT_WIDTH + column) * 2;
        let pointer = NonNull::new(address as *mut VgaCell).expect("the VGA buffer is not at 0");
        // SAFETY: row and column are in range, so the address is inside the 4000-byte buffer,
        // which is identity-mapped and writable for the kernel's whole life.
        unsafe { VolatilePtr::new(pointer) }
    }

    /// The cell at `row`, `column` (both in range).
    pub fn read(&self, row: usize, column: usize) -> VgaCell {
        self.cell(row, column).read()
    }

    /// Replaces the cell at `row`, `column` (both in range).
    pub fn write(&mut self, row: usize, column: usize, cell: VgaCell) {
        self.cell(row, column).write(cell);
    }

    /// Turns the hardware cursor on as an underline.
    pub fn enable_cursor(&mut self) {
        write_crtc(CRTC_CURSOR_START, CURSOR_FIRST_SCAN_LINE);
        write_crtc(CRTC_CURSOR_END, CURSOR_LAST_SCAN_LINE);
    }

    /// Puts the hardware cursor under `row`, `column`.
    pub fn move_cursor(&mut self, row: usize, column: usize) {
        let position = (row * VGA_TEXT_WIDTH + column) as u16;
        write_crtc(CRTC_CURSOR_LOCATION_HIGH, (position >> 8) as u8);
        write_crtc(CRTC_CURSOR_LOCATION_LOW, position as u8);
    }
}

fn write_crtc(register: u8, value: u8) {
    CRTC_INDEX_PORT.write(register);
    CRTC_DATA_PORT.write(value);
}
