//! The interactive shell: portable line editing and commands, and (in the kernel) the loop
//! that reads keys, draws the line and runs commands on the machine.
#![forbid(unsafe_code)]

pub mod command;
pub mod line_editor;

#[cfg(target_os = "none")]
mod session;
pub mod status_clock;
#[cfg(target_os = "none")]
pub use session::run_shell;
