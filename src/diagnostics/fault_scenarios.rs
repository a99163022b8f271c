//! Faults provoked on purpose (`fault=<kind>`), so people and tests can see each diagnostic.
//! Each lives in its own never-inlined function, which the backtrace then names.
#![forbid(unsafe_code)]

use core::hint::black_box;

use crate::arch::x86::cpu::breakpoint;
use crate::arch::x86::faults;
use crate::boot::command_line::FaultScenario;

/// Raises the fault `scenario` names. Only `Breakpoint` returns.
pub fn provoke(scenario: FaultScenario) {
    match scenario {
        FaultScenario::Divide => divide_by_zero(),
        FaultScenario::InvalidOpcode => invalid_opcode(),
        FaultScenario::GeneralProtection => general_protection(),
        FaultScenario::Breakpoint => breakpoint_trap(),
        FaultScenario::StackOverflow => {
            black_box(recurse_forever(0));
        }
        FaultScenario::ThreadStackOverflow => overflow_a_thread_stack(),
        FaultScenario::Null => read_null(),
        FaultScenario::WriteText => write_text(),
        FaultScenario::OutOfMemory => exhaust_heap(),
        FaultScenario::Panic => panic!("fault=panic asked for a panic"),
    }
}

/// Reads address 0, whose page paging leaves unmapped: #PF, "kernel read, page not present".
#[inline(never)]
fn read_null() {
    faults::read_unmapped(0);
}

/// Writes over the first instruction of this very function, in the read-only code pages: #PF,
/// "kernel write, protection violation" (CR0.WP makes the kernel obey read-only pages).
#[inline(never)]
fn write_text() {
    faults::write_read_only(write_text as *const () as u32);
}

/// Asks for more memory than the heap may ever have; ends in the out-of-memory panic.
#[inline(never)]
fn exhaust_heap() {
    let too_much = crate::memory::heap::HEAP_LIMIT_BYTES as usize + 1;
    let buffer: alloc::vec::Vec<u8> = alloc::vec::Vec::with_capacity(black_box(too_much));
    black_box(buffer);
}

/// `div` by a zero register: #DE (vector 0). Rust's `/` would panic before dividing.
#[inline(never)]
fn divide_by_zero() {
    faults::divide_by_zero(black_box(0));
}

/// `ud2`, the instruction defined to be invalid: #UD (vector 6).
#[inline(never)]
fn invalid_opcode() {
    faults::invalid_opcode();
}

/// Loads DS with a selector past the end of the GDT: #GP (vector 13) with that selector as the
/// error code.
#[inline(never)]
fn general_protection() {
    const SELECTOR_BEYOND_GDT: u16 = 0x1238;
    faults::load_data_segment(SELECTOR_BEYOND_GDT);
}

/// `int3`: #BP (vector 3), a trap; the handler prints a note and execution continues.
#[inline(never)]
fn breakpoint_trap() {
    breakpoint();
}

/// Starts a thread named "overflow" that recurses until its stack runs out, and waits for it;
/// the double fault ends everything before the wait would.
#[cfg(target_os = "none")]
fn overflow_a_thread_stack() {
    match crate::thread::spawn("overflow", || recurse_forever(0)) {
        Ok(thread) => {
            black_box(thread.join());
        }
        Err(error) => crate::println!("fault: cannot start the overflowing thread: {error}"),
    }
}

#[cfg(not(target_os = "none"))]
fn overflow_a_thread_stack() {
    black_box(recurse_forever(0));
}

/// Recursion with no end and 128 bytes of locals per call, until the stack runs out.
#[inline(never)]
fn recurse_forever(depth: u32) -> u32 {
    let mut locals = [depth; 32];
    black_box(&mut locals);
    if black_box(depth) == u32::MAX {
        return 0;
    }
    recurse_forever(depth + 1).wrapping_add(locals[7])
}
