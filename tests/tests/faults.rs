//! Each fault scenario (`fault=<kind>`) ends in a readable diagnostic, never a reset: exception
//! name and vector, EIP inside the kernel's code, and a backtrace naming the faulting function.

use std::process::Command;
use std::time::Duration;

use ferrite_tests::qemu::kernel_path;
use ferrite_tests::{Boot, Color::*, Qemu, Screen};

const FAULT_TIMEOUT: Duration = Duration::from_secs(20);
const SCENARIOS: &str = "ferrite::diagnostics::fault_scenarios::";

/// Address of a symbol in the kernel ELF, by its demangled name, from binutils' `nm -C`.
fn symbol_address(name: &str) -> u32 {
    let output = Command::new("nm").arg("-C").arg(kernel_path()).output().expect("binutils' nm");
    let listing = String::from_utf8(output.stdout).unwrap();
    let line = listing
        .lines()
        .find(|line| line.splitn(3, ' ').nth(2) == Some(name))
        .unwrap_or_else(|| panic!("{name} not in the kernel's symbols"));
    u32::from_str_radix(line.split_whitespace().next().unwrap(), 16).unwrap()
}

/// The value after `label` on screen, e.g. `EIP 0x00101234`.
fn register(screen: &Screen, label: &str) -> u32 {
    let text = screen.text();
    let start = text
        .find(&format!("{label} 0x"))
        .unwrap_or_else(|| panic!("no {label} on screen:\n{screen}"));
    let digits = &text[start + label.len() + 3..start + label.len() + 11];
    u32::from_str_radix(digits, 16).unwrap()
}

/// Boots with `fault=kind`, waits for the diagnostic, and checks what every fault screen has.
fn boot_fault(kind: &str, heading: &str) -> (Screen, String) {
    let mut qemu = Qemu::kernel(&format!("nodemo fault={kind}"));
    let serial = qemu.wait_for_serial("System halted.", FAULT_TIMEOUT);
    let screen = qemu.screen();
    screen.assert_text_at(0, 0, &format!(" CPU EXCEPTION {heading} "), White, Red);
    // The rest of the screen is the blue diagnostic.
    for row in 1..screen.rows() {
        let last_column = screen.columns() - 1;
        assert_eq!(screen.cell(row, last_column).background, Blue, "row {row}:\n{screen}");
    }
    let eip = register(&screen, "EIP");
    let (text_start, text_end) = (symbol_address("kernel_start"), symbol_address("text_end"));
    assert!((text_start..text_end).contains(&eip), "EIP {eip:#x} outside the kernel's code");
    for line in ["EAX 0x", "ESI 0x", "CR0 0x", "backtrace:"] {
        assert!(screen.find(line).is_some(), "{line} missing:\n{screen}");
    }
    // Everything on screen also went to serial.
    for row in 0..12 {
        let text = screen.row_text(row);
        assert!(serial.contains(text.trim()), "row {row} not on serial: {text:?}\n{serial}");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(qemu.is_running(), "QEMU reset or exited after the fault");
    (screen, serial)
}

/// Asserts backtrace frame `index` names `function`, drawn in the symbol color.
fn assert_frame(screen: &Screen, index: usize, function: &str) {
    let (row, column) = screen
        .find(&format!("{index:>3}  0x"))
        .unwrap_or_else(|| panic!("no frame {index}:\n{screen}"));
    let name_column = column + 17;
    let text = screen.row_text(row);
    assert!(
        text[name_column..].starts_with(function),
        "frame {index} is {:?}, wanted {function}",
        &text[name_column..]
    );
    assert_eq!(screen.cell(row, name_column).foreground, LightCyan);
}

#[test]
fn divide_by_zero_shows_divide_error_with_its_function() {
    let (screen, _) = boot_fault("divide", "#DE Divide Error (vector 0)");
    assert_frame(&screen, 0, &format!("{SCENARIOS}divide_by_zero+0x"));
    assert_frame(&screen, 1, "ferrite::boot::sequence::provoke_boot_fault+0x");
    assert_frame(&screen, 2, "kernel_main+0x");
}

#[test]
fn ud2_shows_invalid_opcode_with_its_function() {
    let (screen, _) = boot_fault("invalid-opcode", "#UD Invalid Opcode (vector 6)");
    assert_frame(&screen, 0, &format!("{SCENARIOS}invalid_opcode+0x"));
}

#[test]
fn a_bad_selector_shows_general_protection_with_the_decoded_error_code() {
    let (screen, _) = boot_fault("general-protection", "#GP General Protection (vector 13)");
    screen.assert_text_at(1, 0, "error code 0x00001238", White, Blue);
    screen.assert_text_at(1, 21, ": selector index 583 in the GDT", Yellow, Blue);
    assert_frame(&screen, 0, &format!("{SCENARIOS}general_protection+0x"));
    assert_eq!(register(&screen, "EAX"), 0x1238, "the selector that was loaded");
}

#[test]
fn unbounded_recursion_hits_the_guard_page_and_shows_a_double_fault() {
    // The push into the unmapped guard page below the stack faults (#PF, or #SS from the stack
    // segment's limit on real CPUs); that fault cannot be delivered on the exhausted stack, so
    // the CPU raises #DF, whose task gate brings its own stack.
    let (screen, _) = boot_fault("stack-overflow", "#DF Double Fault (vector 8)");
    let (row, _) =
        screen.find("kernel stack overflow: ESP 0x").unwrap_or_else(|| panic!("{screen}"));
    assert_eq!(screen.cell(row, 0).foreground, Yellow);
    let guard = symbol_address("boot_stack_guard");
    let cr2 = register(&screen, "CR2");
    assert!(
        (guard..guard + 4096).contains(&cr2),
        "CR2 {cr2:#x} is not in the guard page {guard:#x}"
    );
    let esp = register(&screen, "ESP");
    assert!(esp < guard + 4096 + 512, "ESP {esp:#x} not at the stack bottom");
    // The recursion shows as one repeated frame with a count, and the callers below it follow.
    assert_frame(&screen, 0, &format!("{SCENARIOS}recurse_forever+0x"));
    assert_frame(&screen, 1, &format!("{SCENARIOS}recurse_forever+0x"));
    let (row, column) =
        screen.find("... the same frame ").unwrap_or_else(|| panic!("no repeat line:\n{screen}"));
    let repeats: usize = screen.row_text(row)[column + "... the same frame ".len()..]
        .split_whitespace()
        .next()
        .and_then(|count| count.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("no count on the repeat line:\n{screen}"));
    assert!(repeats > 50, "only {repeats} repeats for a 16 KiB stack:\n{screen}");
    assert_frame(&screen, repeats + 2, &format!("{SCENARIOS}provoke+0x"));
    assert!(screen.find("kernel_main+0x").is_some(), "no kernel_main below:\n{screen}");
}

#[test]
fn a_thread_that_overflows_its_stack_gets_the_double_fault_screen_naming_it() {
    let (screen, _) = boot_fault("thread-stack-overflow", "#DF Double Fault (vector 8)");
    let (row, column) = screen.find("in thread ").unwrap_or_else(|| panic!("{screen}"));
    assert_eq!((row, column), (1, 0), "the thread line follows the heading:\n{screen}");
    let thread_line = screen.row_text(1);
    assert!(thread_line.trim_end().ends_with("(overflow) on CPU 0"), "{thread_line:?}");
    assert_eq!(screen.cell(1, 0).foreground, White);
    let (row, _) =
        screen.find("kernel stack overflow: ESP 0x").unwrap_or_else(|| panic!("{screen}"));
    assert_eq!(screen.cell(row, 0).foreground, Yellow);
    // Thread stacks live in 64 KiB windows from 0xd8000000, the top 32 KiB mapped: the fault
    // is in the unmapped part just below the stack.
    let cr2 = register(&screen, "CR2");
    assert!((0xd800_0000..0xd840_0000).contains(&cr2), "CR2 {cr2:#x} not in a stack window");
    assert_eq!(cr2 % 0x1_0000 / 0x1000, 7, "CR2 {cr2:#x} not in the page below the stack");
    assert_frame(&screen, 0, &format!("{SCENARIOS}recurse_forever+0x"));
    assert!(screen.find("... the same frame ").is_some(), "no repeat line:\n{screen}");
}

#[test]
fn a_fault_with_four_cpus_stops_the_other_three_before_its_report() {
    let words = "nodemo fault=thread-stack-overflow".to_string();
    let mut qemu = Qemu::start(Boot::Kernel(words), &["-smp", "4"]);
    let serial = qemu.wait_for_serial("System halted.", FAULT_TIMEOUT);
    assert!(serial.contains("cpus: 4 of 4 online"), "{serial}");
    let screen = qemu.screen();
    screen.assert_text_at(0, 0, " CPU EXCEPTION #DF Double Fault (vector 8) ", White, Red);
    let thread_line = screen.row_text(1);
    let cpu = thread_line
        .trim_end()
        .strip_prefix("in thread ")
        .and_then(|rest| rest.split_once(" (overflow) on CPU "))
        .and_then(|(_, cpu)| cpu.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("no thread and CPU on row 1: {thread_line:?}\n{screen}"));
    assert!(cpu < 4, "CPU {cpu} of four");
    let stopped = "other CPUs stopped before this report: 3 of 3";
    let (row, column) = screen.find(stopped).unwrap_or_else(|| panic!("{screen}"));
    screen.assert_text_at(row, column, stopped, LightGray, Blue);
    assert!(serial.contains(stopped), "{serial}");
    // Three CPUs were running the scheduler a moment ago; none of them writes any more.
    std::thread::sleep(Duration::from_millis(200));
    let serial = qemu.serial();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(qemu.screen().text(), screen.text(), "the report changed after it was written");
    assert_eq!(qemu.serial(), serial, "serial went on after the report");
}

#[test]
fn reading_address_zero_is_a_page_fault_not_a_silent_zero() {
    let (screen, _) = boot_fault("null", "#PF Page Fault (vector 14)");
    screen.assert_text_at(1, 0, "error code 0x00000000", White, Blue);
    let detail = ": kernel read, page not present at address 0x00000000";
    screen.assert_text_at(1, 21, detail, Yellow, Blue);
    assert_eq!(register(&screen, "CR2"), 0);
    assert_frame(&screen, 0, &format!("{SCENARIOS}read_null+0x"));
}

#[test]
fn writing_into_the_kernels_code_is_a_protection_fault() {
    let (screen, _) = boot_fault("write-text", "#PF Page Fault (vector 14)");
    let address = symbol_address("ferrite::diagnostics::fault_scenarios::write_text");
    let detail = format!(": kernel write, protection violation at address {address:#010x}");
    screen.assert_text_at(1, 0, "error code 0x00000003", White, Blue);
    screen.assert_text_at(1, 21, &detail, Yellow, Blue);
    assert_eq!(register(&screen, "CR2"), address);
    assert_frame(&screen, 0, &format!("{SCENARIOS}write_text+0x"));
}

#[test]
fn an_impossible_allocation_prints_an_out_of_memory_report() {
    let mut qemu = Qemu::kernel("nodemo fault=out-of-memory");
    let serial = qemu.wait_for_serial("System halted.", FAULT_TIMEOUT);
    let screen = qemu.screen();
    let request = "out of memory: a request for 67108865 bytes (alignment 1) could not be met";
    let (row, column) = screen.find(request).unwrap_or_else(|| panic!("{screen}"));
    screen.assert_text_at(row, column, request, Yellow, Red);
    let heap = screen.row_text(row + 1);
    assert!(
        heap.trim_start().starts_with("heap: ") && heap.contains("limit 67108864 bytes"),
        "{heap:?}"
    );
    assert!(screen.row_text(row + 2).trim_start().starts_with("frames: "), "{screen}");
    assert!(serial.contains("KERNEL PANIC memory allocation of 67108865 bytes failed"), "{serial}");
    assert!(qemu.is_running());
}

#[test]
fn a_breakpoint_prints_a_note_and_the_kernel_carries_on() {
    let mut qemu = Qemu::kernel("nodemo fault=breakpoint");
    let serial = qemu.wait_for_serial("shell: ready", FAULT_TIMEOUT);
    let screen = qemu.screen();
    let (row, column) =
        screen.find("#BP Breakpoint (vector 3) at 0x").unwrap_or_else(|| panic!("{screen}"));
    // The note is one line of text, wrapped at the screen's width if it is longer.
    let mut note = screen.row_text(row).trim_end().to_string();
    let mut next_row = row + 1;
    if !note.ends_with("; continuing") {
        note += screen.row_text(next_row).trim_end();
        next_row += 1;
    }
    assert!(note.contains(&format!(" in {SCENARIOS}breakpoint_trap+0x")), "{note:?}");
    assert!(note.ends_with("; continuing"), "{note:?}");
    assert_eq!(screen.cell(row, column).foreground, Yellow);
    let after = screen.row_text(next_row);
    assert!(after.starts_with("Back from the breakpoint: execution continued."), "{screen}");
    assert!(screen.find("Ferrite shell").is_some(), "{screen}");
    assert!(serial.contains("#BP Breakpoint (vector 3)"), "{serial}");
}
