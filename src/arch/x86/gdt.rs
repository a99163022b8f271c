//! The kernel's own GDTs and task-state segments, one set per CPU, loaded at boot in place of
//! the loader's.
//!
//! Selectors (Intel SDM Vol. 3A §3.4.2), the same on every CPU: 0x08 code and 0x10 data are flat
//! 4 GiB segments; 0x18 is the stack segment, expand-down with its lower bound at the bottom of
//! the boot stack, so a stack overflow raises #SS (and then, since that #SS cannot be delivered
//! on the same stack, a double fault); 0x20 is the main TSS; 0x28 is the double-fault TSS, whose
//! task has its own stack and is reached through a task gate (SDM Vol. 3A §6.15, interrupt 8);
//! 0x30 is GS, whose base is the CPU's own block (per_cpu.rs).
//!
//! Emulators that skip segment-limit checks (QEMU's TCG among them) let the stack run past the
//! expand-down limit; stacks.rs covers that gap.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::mem::offset_of;

use super::descriptors::{
    ACCESS_KERNEL_CODE, ACCESS_KERNEL_DATA, ACCESS_KERNEL_STACK_EXPAND_DOWN,
    ACCESS_TASK_STATE_SEGMENT, DescriptorTablePointer, FLAGS_4K_32_BIT, FLAGS_BYTE_GRANULAR,
    expand_down_limit, segment_descriptor,
};
use super::linker_symbols::boot_stack_bounds;
use super::per_cpu::{self, MAX_CPUS};

pub const KERNEL_CODE_SELECTOR: u16 = 0x08;
pub const KERNEL_DATA_SELECTOR: u16 = 0x10;
pub const KERNEL_STACK_SELECTOR: u16 = 0x18;
pub const MAIN_TSS_SELECTOR: u16 = 0x20;
pub const DOUBLE_FAULT_TSS_SELECTOR: u16 = 0x28;
pub const CPU_BLOCK_SELECTOR: u16 = 0x30;
const GDT_ENTRIES: usize = 7;

/// Size of the double-fault task's stack.
pub const DOUBLE_FAULT_STACK_BYTES: usize = 8 * 1024;
/// EFLAGS bit 1 is reserved and always set.
const EFLAGS_RESERVED: u32 = 0x2;

/// A 32-bit task-state segment (SDM Vol. 3A §7.2.1, figure 7-2). Segment selectors occupy
/// the low 16 bits of their words.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
pub struct TaskStateSegment {
    pub previous_task_link: u32,
    pub esp0: u32,
    pub ss0: u32,
    pub esp1: u32,
    pub ss1: u32,
    pub esp2: u32,
    pub ss2: u32,
    pub cr3: u32,
    pub eip: u32,
    pub eflags: u32,
    pub eax: u32,
    pub ecx: u32,
    pub edx: u32,
    pub ebx: u32,
    pub esp: u32,
    pub ebp: u32,
    pub esi: u32,
    pub edi: u32,
    pub es: u32,
    pub cs: u32,
    pub ss: u32,
    pub ds: u32,
    pub fs: u32,
    pub gs: u32,
    pub ldt_selector: u32,
    /// Debug-trap flag in bit 0; I/O permission bitmap offset in bits 16-31.
    pub trap_and_io_map: u32,
}

impl TaskStateSegment {
    /// Every field zero, for a static the CPU fills in later.
    const ZERO: TaskStateSegment = TaskStateSegment {
        previous_task_link: 0,
        esp0: 0,
        ss0: 0,
        esp1: 0,
        ss1: 0,
        esp2: 0,
        ss2: 0,
        cr3: 0,
        eip: 0,
        eflags: 0,
        eax: 0,
        ecx: 0,
        edx: 0,
        ebx: 0,
        esp: 0,
        ebp: 0,
        esi: 0,
        edi: 0,
        es: 0,
        cs: 0,
        ss: 0,
        ds: 0,
        fs: 0,
        gs: 0,
        ldt_selector: 0,
        trap_and_io_map: 0,
    };
}

const TSS_BYTES: u32 = core::mem::size_of::<TaskStateSegment>() as u32;
const _: () = assert!(TSS_BYTES == 104);

/// Memory the CPU itself reads and writes (descriptor busy bits, TSS register saves).
#[repr(C, align(16))]
struct CpuTables {
    gdt: [u64; GDT_ENTRIES],
    main_tss: TaskStateSegment,
    double_fault_tss: TaskStateSegment,
}

/// The double-fault task's stack with a guard page below it, which paging leaves unmapped.
#[repr(C, align(4096))]
struct GuardedStack {
    guard: [u8; 4096],
    stack: [u8; DOUBLE_FAULT_STACK_BYTES],
}

struct GuardedStackCell(UnsafeCell<GuardedStack>);

// SAFETY: only a CPU's double-fault task runs on that CPU's stack; nothing else touches it.
unsafe impl Sync for GuardedStackCell {}

/// Each CPU's double-fault stack, in `.bss`.
static DOUBLE_FAULT_STACKS: [GuardedStackCell; MAX_CPUS] = [const {
    GuardedStackCell(UnsafeCell::new(GuardedStack {
        guard: [0; 4096],
        stack: [0; DOUBLE_FAULT_STACK_BYTES],
    }))
}; MAX_CPUS];

struct CpuTablesCell(UnsafeCell<CpuTables>);

// SAFETY: a CPU's tables are written only by `load` on that CPU before it takes interrupts,
// afterwards by that CPU itself, and read by its double-fault task, which never returns.
unsafe impl Sync for CpuTablesCell {}

static CPU_TABLES: [CpuTablesCell; MAX_CPUS] = [const {
    CpuTablesCell(UnsafeCell::new(CpuTables {
        gdt: [0; GDT_ENTRIES],
        main_tss: TaskStateSegment::ZERO,
        double_fault_tss: TaskStateSegment::ZERO,
    }))
}; MAX_CPUS];

unsafe extern "C" {
    /// asm/interrupts.asm: where the double-fault task starts.
    fn double_fault_task_entry();
}

/// Builds CPU `cpu`'s GDT and both TSSes, loads them, reloads every segment register and the
/// task register. Called once on each CPU, by that CPU, with interrupts off: the bootstrap
/// processor early in boot, an application processor as it starts.
pub fn load(cpu: usize) {
    let tables = CPU_TABLES[cpu].0.get();
    let (stack_bottom, _) = boot_stack_bounds();
    let (_, double_fault_stack_top) = double_fault_stack_bounds_of(cpu);
    let field_address = |offset: usize| (tables as usize + offset) as u32;
    let main_tss_address = field_address(offset_of!(CpuTables, main_tss));
    let double_fault_tss_address = field_address(offset_of!(CpuTables, double_fault_tss));
    let gdt_address = field_address(offset_of!(CpuTables, gdt));
    let data = u32::from(KERNEL_DATA_SELECTOR);
    let double_fault_tss = TaskStateSegment {
        eip: double_fault_task_entry as *const () as u32,
        eflags: EFLAGS_RESERVED, // interrupts stay off
        esp: double_fault_stack_top & !15,
        cs: u32::from(KERNEL_CODE_SELECTOR),
        ss: data,
        ds: data,
        es: data,
        fs: data,
        gs: u32::from(CPU_BLOCK_SELECTOR),
        cr3: super::cpu::read_cr3(),
        trap_and_io_map: TSS_BYTES << 16, // no I/O permission bitmap
        ..TaskStateSegment::ZERO
    };
    let main_tss = TaskStateSegment { trap_and_io_map: TSS_BYTES << 16, ..TaskStateSegment::ZERO };
    let gdt = [
        0,
        segment_descriptor(0, 0xf_ffff, ACCESS_KERNEL_CODE, FLAGS_4K_32_BIT),
        segment_descriptor(0, 0xf_ffff, ACCESS_KERNEL_DATA, FLAGS_4K_32_BIT),
        segment_descriptor(
            0,
            expand_down_limit(stack_bottom),
            ACCESS_KERNEL_STACK_EXPAND_DOWN,
            FLAGS_4K_32_BIT,
        ),
        segment_descriptor(
            main_tss_address,
            TSS_BYTES - 1,
            ACCESS_TASK_STATE_SEGMENT,
            FLAGS_BYTE_GRANULAR,
        ),
        segment_descriptor(
            double_fault_tss_address,
            TSS_BYTES - 1,
            ACCESS_TASK_STATE_SEGMENT,
            FLAGS_BYTE_GRANULAR,
        ),
        segment_descriptor(
            per_cpu::block_address(cpu),
            per_cpu::BLOCK_BYTES - 1,
            ACCESS_KERNEL_DATA,
            FLAGS_BYTE_GRANULAR,
        ),
    ];
    // SAFETY: this CPU alone loads these tables, with interrupts off; nothing has a reference
    // to them yet, and the CPU does not use them until the loads below.
    unsafe { tables.write(CpuTables { gdt, main_tss, double_fault_tss }) };
    let pointer = DescriptorTablePointer::new(gdt_address, GDT_ENTRIES);
    // SAFETY: the GDT just written has flat code and data segments, a stack segment covering
    // the boot stack, and the main TSS. Load it, then every segment register: data segments
    // directly, CS through a far return, and finally the task register (SDM Vol. 3A §3.4.3,
    // §7.2.4).
    unsafe {
        asm!(
            "lgdt [{pointer}]",
            "mov ds, {data:x}",
            "mov es, {data:x}",
            "mov fs, {data:x}",
            "mov gs, {block:x}",
            "mov ss, {stack:x}",
            "push {code}",
            "lea {scratch}, [2f]",
            "push {scratch}",
            "retf",
            "2:",
            "ltr {tss:x}",
            pointer = in(reg) &raw const pointer,
            data = in(reg) data,
            stack = in(reg) u32::from(KERNEL_STACK_SELECTOR),
            block = in(reg) u32::from(CPU_BLOCK_SELECTOR),
            code = const KERNEL_CODE_SELECTOR as u32,
            tss = in(reg) u32::from(MAIN_TSS_SELECTOR),
            scratch = out(reg) _,
        )
    };
}

/// The interrupted task's registers, which this CPU saved in its main TSS when it switched to
/// its double-fault task.
pub fn interrupted_task_state() -> TaskStateSegment {
    // SAFETY: the CPU finished writing its main TSS before starting the double-fault task; the
    // copy is a plain read of initialised memory.
    unsafe { (*CPU_TABLES[per_cpu::current_index()].0.get()).main_tss }
}

/// The running CPU's double-fault stack as (lowest address, one past the highest).
pub fn double_fault_stack_bounds() -> (u32, u32) {
    double_fault_stack_bounds_of(per_cpu::current_index())
}

fn double_fault_stack_bounds_of(cpu: usize) -> (u32, u32) {
    let start = DOUBLE_FAULT_STACKS[cpu].0.get() as u32 + offset_of!(GuardedStack, stack) as u32;
    (start, start + DOUBLE_FAULT_STACK_BYTES as u32)
}

/// Whether `page` is the unmapped page below one of the double-fault stacks.
pub fn is_double_fault_stack_guard_page(page: u32) -> bool {
    DOUBLE_FAULT_STACKS.iter().any(|stack| stack.0.get() as u32 == page)
}

/// Gives every CPU's double-fault task the kernel's page directory: a task switch loads CR3
/// from the new task's TSS, so it must be set before paging is turned on.
pub fn set_double_fault_page_directory(page_directory: u32) {
    for tables in &CPU_TABLES {
        // SAFETY: a plain store into a TSS, made before any task switch can read it (an
        // application processor's `load` copies CR3, which is this directory by then).
        unsafe { (*tables.0.get()).double_fault_tss.cr3 = page_directory };
    }
}
