//! x86 port I/O: the `in`/`out` instructions behind a typed port number.

use core::arch::asm;
use core::marker::PhantomData;

/// A value that can travel through an I/O port: a byte, a word or a double word.
pub trait PortValue: Copy {
    /// Reads a value of this width from `port`.
    ///
    /// # Safety
    /// Reading some ports has side effects on the device behind them; the caller must know
    /// what is at `port` and that the read is harmless or intended.
    unsafe fn read_from(port: u16) -> Self;
    /// Writes a value of this width to `port`.
    ///
    /// # Safety
    /// The caller must know what is at `port` and that the write is intended; a wrong write
    /// can reset the machine or corrupt a device.
    unsafe fn write_to(port: u16, value: Self);
}

impl PortValue for u8 {
    unsafe fn read_from(port: u16) -> u8 {
        let value: u8;
        // SAFETY: `in al, dx` only touches AL and the device; the caller vouches for the port.
        unsafe {
            asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
        };
        value
    }

    unsafe fn write_to(port: u16, value: u8) {
        // SAFETY: `out dx, al` only touches the device; the caller vouches for the port.
        unsafe {
            asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
        };
    }
}

impl PortValue for u16 {
    unsafe fn read_from(port: u16) -> u16 {
        let value: u16;
        // SAFETY: as for u8, with AX.
        unsafe {
            asm!("in ax, dx", out("ax") value, in("dx") port, options(nomem, nostack, preserves_flags))
        };
        value
    }

    unsafe fn write_to(port: u16, value: u16) {
        // SAFETY: as for u8, with AX.
        unsafe {
            asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
        };
    }
}

impl PortValue for u32 {
    unsafe fn read_from(port: u16) -> u32 {
        let value: u32;
        // SAFETY: as for u8, with EAX.
        unsafe {
            asm!("in eax, dx", out("eax") value, in("dx") port, options(nomem, nostack, preserves_flags))
        };
        value
    }

    unsafe fn write_to(port: u16, value: u32) {
        // SAFETY: as for u8, with EAX.
        unsafe {
            asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
        };
    }
}

/// An I/O port carrying values of type `T`. Claiming the port is the unsafe step; once a
/// module holds one, reading and writing it are as safe as that module's claim.
#[derive(Debug, Clone, Copy)]
pub struct Port<T: PortValue> {
    number: u16,
    width: PhantomData<T>,
}

impl<T: PortValue> Port<T> {
    /// The port numbered `number`.
    ///
    /// # Safety
    /// The caller must be the one module that drives the device behind `number`, and every
    /// read and write it makes through the port must have only the effects on that device
    /// that the module intends (see [`PortValue`]).
    pub const unsafe fn new(number: u16) -> Self {
        Port { number, width: PhantomData }
    }

    /// Reads from the port.
    pub fn read(&self) -> T {
        // SAFETY: the module that made the port vouched for its reads (`Port::new`).
        unsafe { T::read_from(self.number) }
    }

    /// Writes to the port.
    pub fn write(&self, value: T) {
        // SAFETY: the module that made the port vouched for its writes (`Port::new`).
        unsafe { T::write_to(self.number, value) }
    }
}
