//! The security lens: Sigma rules, as users already write them, evaluated
//! over the records faultline's parsers give (W3C and HTTP.sys rows, Windows
//! events), and the project's own pack of IIS attack rules.
//!
//! Rules are data: [`load`] reads them (and says why any is skipped),
//! [`rule`] compiles one, [`engine`] evaluates them over a [`record::View`]
//! of each record, whose field mapping says what IIS logs mean.

pub mod audit;
pub mod condition;
pub mod correlation;
pub mod engine;
pub mod load;
pub mod pack;
mod packed;
pub mod pattern;
pub mod record;
pub mod rule;
pub mod screen;

pub use engine::Engine;
pub use load::{LoadError, LoadReport, Skipped};
pub use record::View;
pub use rule::{Level, Rule, Unsupported};
