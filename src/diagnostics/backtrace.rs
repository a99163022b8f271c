//! Walking the frame-pointer chain: with frame pointers on, each frame starts with the caller's
//! EBP followed by the return address, so the stack is a linked list of calls.
#![forbid(unsafe_code)]

/// Stack memory the walker may read; reads outside the known stacks return `None`.
pub trait StackMemory {
    fn read_word(&self, address: u32) -> Option<u32>;
}

/// The walk gives up after this many frames. Frames must move up the stack, so a walk ends
/// within a stack's size anyway; this bounds it whatever the stack holds.
pub const MAXIMUM_WALKED_FRAMES: usize = 16_384;

/// The return addresses found by following `frame_pointer` (an EBP value) up the stack.
///
/// The walk stops at a zero frame pointer (the boot stub clears EBP before calling Rust), an
/// unreadable or misaligned one, one that does not move up the stack, a zero return address,
/// or after `MAXIMUM_WALKED_FRAMES`.
pub fn walk_frames(
    memory: &impl StackMemory,
    mut frame_pointer: u32,
    mut visit: impl FnMut(u32),
) -> usize {
    let mut frames = 0;
    while frames < MAXIMUM_WALKED_FRAMES && frame_pointer != 0 && frame_pointer.is_multiple_of(4) {
        let Some(return_address) = memory.read_word(frame_pointer.wrapping_add(4)) else {
            break;
        };
        let Some(caller_frame) = memory.read_word(frame_pointer) else {
            break;
        };
        if return_address == 0 {
            break;
        }
        visit(return_address);
        frames += 1;
        if caller_frame <= frame_pointer {
            break;
        }
        frame_pointer = caller_frame;
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A fake stack: words at addresses from `base` up.
    struct FakeStack {
        base: u32,
        words: Vec<u32>,
    }

    impl StackMemory for FakeStack {
        fn read_word(&self, address: u32) -> Option<u32> {
            let index = address.checked_sub(self.base)? / 4;
            if !address.is_multiple_of(4) {
                return None;
            }
            self.words.get(index as usize).copied()
        }
    }

    fn collect(stack: &FakeStack, frame_pointer: u32) -> Vec<u32> {
        let mut addresses = Vec::new();
        walk_frames(stack, frame_pointer, |address| addresses.push(address));
        addresses
    }

    #[test]
    fn follows_the_chain_to_the_zero_frame_pointer() {
        // Frames at 0x1000 -> 0x1010 -> 0x1020 -> 0 (end).
        let mut words = std::vec![0u32; 16];
        words[0] = 0x1010;
        words[1] = 0xaaaa;
        words[4] = 0x1020;
        words[5] = 0xbbbb;
        words[8] = 0;
        words[9] = 0xcccc;
        let stack = FakeStack { base: 0x1000, words };
        assert_eq!(collect(&stack, 0x1000), [0xaaaa, 0xbbbb, 0xcccc]);
    }

    #[test]
    fn stops_at_loops_misalignment_and_unreadable_memory() {
        let mut words = std::vec![0u32; 8];
        words[0] = 0x1000; // points at itself
        words[1] = 0x1234;
        let stack = FakeStack { base: 0x1000, words };
        assert_eq!(collect(&stack, 0x1000), [0x1234]);
        assert!(collect(&stack, 0x1002).is_empty());
        assert!(collect(&stack, 0x9000).is_empty());
        assert!(collect(&stack, 0).is_empty());
    }

    #[test]
    fn deep_chains_are_cut_at_the_frame_limit() {
        let words: Vec<u32> =
            (0..20_000u32).flat_map(|frame| [0x1000 + (frame + 1) * 8, 0x5000 + frame]).collect();
        let stack = FakeStack { base: 0x1000, words };
        assert_eq!(collect(&stack, 0x1000).len(), MAXIMUM_WALKED_FRAMES);
    }
}
