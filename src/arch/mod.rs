//! Architecture support; only 32-bit x86 PCs for now.

pub mod x86;
