//! Printers.

pub mod findings;
pub mod json;
pub mod text;
