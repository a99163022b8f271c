//! The COM1 16550 UART at 115200 baud, 8 data bits, no parity, 1 stop bit.

use super::cpu::io_wait;
use super::port::Port;

/// I/O base of the first serial port.
const COM1_BASE: u16 = 0x3f8;
/// The UART's input clock divided by 16; the divisor for a baud rate is this over the rate.
const UART_BASE_BAUD: u32 = 115_200;
const BAUD_RATE: u32 = 115_200;

// Register offsets from the base (PC16550D datasheet, table II).
const DATA: u16 = 0; // receive/transmit buffer; divisor low byte while DLAB is set
const INTERRUPT_ENABLE: u16 = 1; // divisor high byte while DLAB is set
const FIFO_CONTROL: u16 = 2;
const LINE_CONTROL: u16 = 3;
const MODEM_CONTROL: u16 = 4;
const LINE_STATUS: u16 = 5;
const SCRATCH: u16 = 7; // a plain read/write register on 16450 and later UARTs

const LINE_CONTROL_DIVISOR_LATCH: u8 = 0x80; // DLAB
const LINE_CONTROL_8N1: u8 = 0x03; // 8 data bits, no parity, one stop bit
const FIFO_ENABLE_AND_CLEAR_14_BYTES: u8 = 0xc7;
const MODEM_CONTROL_READY: u8 = 0x0b; // DTR, RTS, OUT2
const MODEM_CONTROL_LOOPBACK: u8 = 0x1e; // loopback, for the presence test
const LINE_STATUS_TRANSMIT_EMPTY: u8 = 0x20; // THRE: the transmit holding register is free
const LINE_STATUS_DATA_READY: u8 = 0x01;
const LOOPBACK_TEST_BYTE: u8 = 0xae;
/// Patterns written to the scratch register; an empty I/O port reads back 0xff instead.
const SCRATCH_PATTERNS: [u8; 2] = [0x5a, 0xa5];
/// Polls of the line status, about a microsecond apart (`io_wait`), while the loopback byte
/// travels: one character takes 87 us at 115200 baud, so this allows about ten.
const LOOPBACK_POLLS: usize = 1000;
/// Stale received bytes read away before the loopback test, at most.
const MAXIMUM_STALE_BYTES: usize = 32;

/// Whether a UART answered at the port's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialPresence {
    Unknown,
    Present,
    Absent,
}

/// The 16550-compatible UART at COM1, driven by polling. (It holds no port number, so the
/// static starts all-zero and costs no space in the kernel file.)
pub struct SerialPort {
    presence: SerialPresence,
}

impl Default for SerialPort {
    fn default() -> Self {
        Self::new()
    }
}

impl SerialPort {
    pub const fn new() -> Self {
        SerialPort { presence: SerialPresence::Unknown }
    }

    fn register(&self, offset: u16) -> Port<u8> {
        // SAFETY: COM1's eight registers belong to this driver alone (the static `COM1` is the
        // only `SerialPort`); on a PC without a UART the ports read 0xff and ignore writes,
        // which the presence test detects.
        unsafe { Port::new(COM1_BASE + offset) }
    }

    /// Programs 115200 8N1 with FIFOs, after checking that a UART is there: its scratch
    /// register must keep what is written, and a byte sent in loopback mode must come back
    /// within a few character times. Without one, later writes are dropped instead of waiting
    /// forever on a missing device.
    pub fn initialize(&mut self) -> SerialPresence {
        self.presence = if self.scratch_register_holds() && self.loopback_echoes() {
            SerialPresence::Present
        } else {
            SerialPresence::Absent
        };
        self.presence
    }

    fn scratch_register_holds(&self) -> bool {
        SCRATCH_PATTERNS.iter().all(|&pattern| {
            // The scratch register stores a byte and controls nothing.
            self.register(SCRATCH).write(pattern);
            self.register(SCRATCH).read() == pattern
        })
    }

    fn loopback_echoes(&self) -> bool {
        let divisor = (UART_BASE_BAUD / BAUD_RATE) as u16;
        // A UART answered the scratch test; programming it only affects the serial line.
        self.register(INTERRUPT_ENABLE).write(0x00);
        self.register(LINE_CONTROL).write(LINE_CONTROL_DIVISOR_LATCH);
        self.register(DATA).write(divisor as u8);
        self.register(INTERRUPT_ENABLE).write((divisor >> 8) as u8);
        self.register(LINE_CONTROL).write(LINE_CONTROL_8N1);
        self.register(FIFO_CONTROL).write(FIFO_ENABLE_AND_CLEAR_14_BYTES);
        self.register(MODEM_CONTROL).write(MODEM_CONTROL_LOOPBACK);
        for _ in 0..MAXIMUM_STALE_BYTES {
            if self.register(LINE_STATUS).read() & LINE_STATUS_DATA_READY == 0 {
                break;
            }
            self.register(DATA).read();
        }
        self.register(DATA).write(LOOPBACK_TEST_BYTE);
        let mut arrived = false;
        for _ in 0..LOOPBACK_POLLS {
            if self.register(LINE_STATUS).read() & LINE_STATUS_DATA_READY != 0 {
                arrived = true;
                break;
            }
            io_wait();
        }
        let echoed = arrived && self.register(DATA).read() == LOOPBACK_TEST_BYTE;
        self.register(MODEM_CONTROL).write(MODEM_CONTROL_READY);
        echoed
    }

    /// Whether `initialize` found a UART.
    pub fn presence(&self) -> SerialPresence {
        self.presence
    }

    /// Sends one byte, waiting while the transmitter is busy so no byte is lost.
    pub fn send(&mut self, byte: u8) {
        if self.presence != SerialPresence::Present {
            return;
        }
        while self.register(LINE_STATUS).read() & LINE_STATUS_TRANSMIT_EMPTY == 0 {
            core::hint::spin_loop();
        }
        self.register(DATA).write(byte);
    }

    /// Sends text, turning each `\n` into `\r\n` for terminals.
    pub fn send_str(&mut self, text: &str) {
        for byte in text.bytes() {
            if byte == b'\n' {
                self.send(b'\r');
            }
            self.send(byte);
        }
    }
}

impl core::fmt::Write for SerialPort {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.send_str(text);
        Ok(())
    }
}
