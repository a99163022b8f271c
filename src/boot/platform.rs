//! The firmware's description of processors and interrupt controllers, found once at boot and
//! kept for the rest of the kernel (the APIC and SMP code read it from here).
#![forbid(unsafe_code)]

use spin::Once;

use crate::arch::x86::platform::Platform;

static PLATFORM: Once<Option<Platform>> = Once::new();

/// Keeps what discovery found (`None`: no ACPI or MP tables, one CPU on the 8259 PICs). Only
/// the first call counts.
pub fn record_platform(platform: Option<Platform>) {
    PLATFORM.call_once(|| platform);
}

/// The processors and interrupt controllers the firmware describes, or `None` before boot
/// discovery ran or when it found no tables (the uniprocessor PIC path).
pub fn platform() -> Option<&'static Platform> {
    PLATFORM.get().and_then(Option::as_ref)
}
