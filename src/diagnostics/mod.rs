//! Portable fault diagnostics: exception names and error-code decoding, symbol lookup and
//! frame-pointer backtraces.

pub mod backtrace;
pub mod exception;
pub mod report;
pub mod symbol_table;
