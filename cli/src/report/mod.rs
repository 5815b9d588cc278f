//! Printers.

pub mod json;
pub mod text;
