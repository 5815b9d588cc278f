//! faultline-analyzer: turns normalized IIS evidence into answers.
//!
//! This release holds the evidence inventory behind `faultline scan`: per
//! file, what was read, for which host and site, over which time range, and
//! what could not be read.

pub mod inventory;

pub use inventory::{
    EventCount, FileStatus, FileSummary, FormatTotals, Inventory, Tally, TraceCounts, summarize,
    summarize_problem,
};
