//! The two cascaded 8259A interrupt controllers: remapping, masking, end of interrupt and
//! spurious interrupts (Intel 8259A datasheet; OSDev wiki "8259 PIC").

use super::cpu::io_wait;
use super::port::Port;
use super::vectors::{PIC_MASTER_VECTOR_OFFSET, PIC_SLAVE_VECTOR_OFFSET};

// Ports: the 8259 PICs' command and data ports, which only this module programs;
// each function below says what its reads and writes do.
// SAFETY: one of the ports this module alone drives, as described above.
const MASTER_COMMAND: Port<u8> = unsafe { Port::new(0x20) };
// SAFETY: one of the ports this module alone drives, as described above.
const MASTER_DATA: Port<u8> = unsafe { Port::new(0x21) };
// SAFETY: one of the ports this module alone drives, as described above.
const SLAVE_COMMAND: Port<u8> = unsafe { Port::new(0xa0) };
// SAFETY: one of the ports this module alone drives, as described above.
const SLAVE_DATA: Port<u8> = unsafe { Port::new(0xa1) };
/// The Interrupt Mode Configuration Register's select and data ports (MultiProcessor
/// Specification 1.4 §3.6.2.1): on PCs that boot in "PIC mode" the master's output goes
/// straight to the boot CPU until register 0x70 says to send it through the APIC.
// SAFETY: one of the ports this module alone drives, as described above.
const IMCR_SELECT: Port<u8> = unsafe { Port::new(0x22) };
// SAFETY: one of the ports this module alone drives, as described above.
const IMCR_DATA: Port<u8> = unsafe { Port::new(0x23) };
const IMCR_REGISTER: u8 = 0x70;
const IMCR_THROUGH_APIC: u8 = 0x01;
/// The slave's output is wired to the master's IRQ 2.
const CASCADE_IRQ: u8 = 2;

const ICW1_INITIALISE_WITH_ICW4: u8 = 0x11;
const ICW3_MASTER_HAS_SLAVE_ON_IRQ2: u8 = 1 << CASCADE_IRQ;
const ICW3_SLAVE_IDENTITY: u8 = CASCADE_IRQ;
const ICW4_8086_MODE: u8 = 0x01;
const OCW2_END_OF_INTERRUPT: u8 = 0x20;
const OCW3_READ_IN_SERVICE: u8 = 0x0b;
/// IRQ 7 and 15 are where a PIC reports an interrupt that vanished before it was acknowledged.
const SPURIOUS_MASTER_IRQ: u8 = 7;
const SPURIOUS_SLAVE_IRQ: u8 = 15;

/// Remaps both PICs to vectors 32-47 and masks every IRQ except the cascade.
pub fn initialize() {
    // ICW1 to both, then ICW2-ICW4 to each data port in turn, then the masks; the PICs of
    // old PCs need a pause between writes.
    let steps = [
        (MASTER_COMMAND, ICW1_INITIALISE_WITH_ICW4),
        (SLAVE_COMMAND, ICW1_INITIALISE_WITH_ICW4),
        (MASTER_DATA, PIC_MASTER_VECTOR_OFFSET),
        (SLAVE_DATA, PIC_SLAVE_VECTOR_OFFSET),
        (MASTER_DATA, ICW3_MASTER_HAS_SLAVE_ON_IRQ2),
        (SLAVE_DATA, ICW3_SLAVE_IDENTITY),
        (MASTER_DATA, ICW4_8086_MODE),
        (SLAVE_DATA, ICW4_8086_MODE),
        (MASTER_DATA, !(1 << CASCADE_IRQ)),
        (SLAVE_DATA, 0xff),
    ];
    // The initialisation sequence (ICW1-ICW4) only reprograms the controllers, and interrupts
    // are off while it runs.
    for (port, value) in steps {
        port.write(value);
        io_wait();
    }
}

/// Masks every IRQ on both PICs, as when the APICs take over. They stay remapped to 32-47,
/// so a spurious IRQ 7 or 15 still lands on a vector the dispatcher recognises.
pub fn mask_all() {
    MASTER_DATA.write(0xff);
    SLAVE_DATA.write(0xff);
}

/// Switches the IMCR to symmetric I/O mode: the 8259s' output goes to the local APIC's LINT0
/// (masked there) instead of straight to the CPU. Only for machines whose MultiProcessor
/// tables say they have an IMCR.
pub fn switch_imcr_to_apic() {
    IMCR_SELECT.write(IMCR_REGISTER);
    IMCR_DATA.write(IMCR_THROUGH_APIC);
}

fn mask_port(irq: u8) -> (Port<u8>, u8) {
    if irq < 8 { (MASTER_DATA, irq) } else { (SLAVE_DATA, irq - 8) }
}

/// Lets `irq` (0-15) through.
pub fn unmask(irq: u8) {
    let (port, bit) = mask_port(irq);
    // A read-modify-write of the interrupt mask register changes only this IRQ's bit.
    port.write(port.read() & !(1 << bit));
}

/// Blocks `irq` (0-15).
pub fn mask(irq: u8) {
    let (port, bit) = mask_port(irq);
    port.write(port.read() | (1 << bit));
}

fn in_service(command_port: Port<u8>) -> u8 {
    // OCW3 selects the in-service register for the next read of the command port.
    command_port.write(OCW3_READ_IN_SERVICE);
    command_port.read()
}

/// Whether `irq` is a spurious IRQ 7 or 15: the PIC raised it, but no interrupt is in service.
/// Such an interrupt must not be acknowledged on its own PIC.
pub fn is_spurious(irq: u8) -> bool {
    match irq {
        SPURIOUS_MASTER_IRQ => in_service(MASTER_COMMAND) & (1 << 7) == 0,
        SPURIOUS_SLAVE_IRQ => in_service(SLAVE_COMMAND) & (1 << 7) == 0,
        _ => false,
    }
}

/// Acknowledges `irq` so the PICs deliver the next one. A spurious IRQ 15 still needs the
/// master acknowledged, since the master did see the slave's cascade line.
pub fn end_of_interrupt(irq: u8, spurious: bool) {
    // The non-specific EOI command only ends the highest in-service interrupt.
    if irq >= 8 {
        if !spurious {
            SLAVE_COMMAND.write(OCW2_END_OF_INTERRUPT);
        }
        MASTER_COMMAND.write(OCW2_END_OF_INTERRUPT);
    } else if !spurious {
        MASTER_COMMAND.write(OCW2_END_OF_INTERRUPT);
    }
}
