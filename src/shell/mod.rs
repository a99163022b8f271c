//! The interactive shell: portable line editing and command parsing, and (in the kernel) the
//! loop that reads keys, draws the line and runs commands.

pub mod command;
pub mod line_editor;

#[cfg(not(test))]
mod session;
#[cfg(not(test))]
pub use session::{run_shell, wait_for_key_press};
