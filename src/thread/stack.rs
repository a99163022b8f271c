//! Thread stacks: each thread slot owns a fixed window of virtual memory above the heap, whose
//! top `STACK_BYTES` are mapped to fresh frames and whose lower part stays unmapped, so a
//! thread that runs off the bottom of its stack faults (a double fault, since the CPU cannot
//! push the page fault's frame either) instead of overwriting a neighbour.

use crate::arch::x86::page_table::{LARGE_PAGE_BYTES, PAGE_BYTES};
use crate::arch::x86::paging::{MapError, map_page, prepare_page_table, unmap_page};
use crate::arch::x86::stacks::{count_leading_words, fill_words};
use crate::arch::x86::tlb;
use crate::memory::frame_allocator::PhysicalFrame;
use crate::memory::setup::FRAME_ALLOCATOR;

/// Where the stack windows begin: above the heap's range (0xd000_0000, 64 MiB).
pub const STACKS_START: u32 = 0xd800_0000;
/// One window per thread slot.
pub const WINDOW_BYTES: u32 = 64 * 1024;
/// The mapped part of each window; at least `WINDOW_BYTES - STACK_BYTES` below it stay
/// unmapped as the guard.
pub const STACK_BYTES: u32 = 32 * 1024;
/// Written over a new stack, so the deepest word a thread ever wrote can be found.
const UNUSED_STACK_WORD: u32 = 0x5354_4b21;

/// A mapped thread stack: (lowest address, one past the highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadStack {
    pub bottom: u32,
    pub top: u32,
}

/// Why a stack could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackError {
    OutOfFrames,
}

/// The window of `slot`.
fn window_start(slot: usize) -> u32 {
    STACKS_START + slot as u32 * WINDOW_BYTES
}

/// Makes the page tables for `slots` windows, once at boot, so mapping a stack later never
/// needs a frame for a table.
pub fn initialize(slots: usize) -> Result<(), StackError> {
    let mut frames = FRAME_ALLOCATOR.lock();
    let end = window_start(slots);
    for address in (STACKS_START..end).step_by(LARGE_PAGE_BYTES as usize) {
        // SAFETY: the stack windows are used by nothing else, and boot runs on one CPU.
        unsafe { prepare_page_table(address, &mut || frames.allocate().map(|frame| frame.0)) }
            .map_err(|_| StackError::OutOfFrames)?;
    }
    Ok(())
}

/// Maps a fresh stack in `slot`'s window and fills it with the unused-stack pattern. The
/// caller owns the slot, so nothing else maps or unmaps this window meanwhile.
pub fn allocate(slot: usize) -> Result<ThreadStack, StackError> {
    let top = window_start(slot + 1);
    let bottom = top - STACK_BYTES;
    let mut frames = FRAME_ALLOCATOR.lock();
    for page in (bottom..top).step_by(PAGE_BYTES as usize) {
        let Some(frame) = frames.allocate() else {
            drop(frames);
            release(ThreadStack { bottom, top });
            return Err(StackError::OutOfFrames);
        };
        let mut no_table_frames = || None;
        // SAFETY: the window belongs to the slot's owner, which serialises its mappings, and
        // its page table exists (`initialize`).
        let mapped = unsafe { map_page(page, frame.0, &mut no_table_frames) };
        if let Err(MapError::AlreadyMapped | MapError::NoFrameForTable) = mapped {
            let _ = frames.free(frame);
            drop(frames);
            release(ThreadStack { bottom, top });
            return Err(StackError::OutOfFrames);
        }
    }
    drop(frames);
    // SAFETY: [bottom, top) was just mapped, writable, for this slot's new thread alone.
    unsafe { fill_words(bottom, top, UNUSED_STACK_WORD) };
    Ok(ThreadStack { bottom, top })
}

/// Unmaps the stack, makes every other CPU forget its pages, and returns its frames. The thread
/// must never run again. Called with no spin lock held (the shootdown waits for the other
/// CPUs).
pub fn release(stack: ThreadStack) {
    let mut frames = [0u32; (STACK_BYTES / PAGE_BYTES) as usize];
    let mut count = 0;
    for page in (stack.bottom..stack.top).step_by(PAGE_BYTES as usize) {
        // SAFETY: the thread that used this stack has exited, and its slot's owner
        // serialises the window's mappings.
        if let Some(frame) = unsafe { unmap_page(page) } {
            frames[count] = frame;
            count += 1;
        }
    }
    // Until every CPU has forgotten the pages, one may still reach the frames through them
    // (this one included: the thread may have moved to another CPU while it unmapped them).
    tlb::invalidate_on_every_cpu(stack.bottom, stack.top);
    let mut allocator = FRAME_ALLOCATOR.lock();
    for &frame in &frames[..count] {
        let _ = allocator.free(PhysicalFrame(frame));
    }
}

/// The most of `stack` ever used, in bytes: from the top down to the deepest word that no
/// longer holds the unused-stack pattern.
pub fn high_water_bytes(stack: ThreadStack) -> u32 {
    // SAFETY: the scheduler calls this under its lock for a stack its thread still holds;
    // `free_thread` takes the stack out under that lock before `release` unmaps it.
    let untouched = unsafe { count_leading_words(stack.bottom, stack.top, UNUSED_STACK_WORD) };
    stack.top - stack.bottom - untouched * 4
}
