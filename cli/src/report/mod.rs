//! Printers.

pub mod findings;
pub mod html;
pub mod json;
pub mod markdown;
pub mod text;
