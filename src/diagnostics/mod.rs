//! Fault diagnostics: symbol lookup, frame-pointer backtraces and the text of a report
//! (portable), and in the kernel the fatal-error and panic handlers and the faults people can
//! provoke to see them.
#![forbid(unsafe_code)]

pub mod backtrace;
pub mod report;
pub mod symbol_table;

#[cfg(target_os = "none")]
pub mod fatal;
#[cfg(target_os = "none")]
pub mod fault_scenarios;
#[cfg(target_os = "none")]
mod panic;
