//! faultline-analyzer: turns normalized IIS evidence into answers.
//!
//! Two things: the evidence inventory behind `faultline scan` (per file,
//! what was read, for which host and site, over which time range, and what
//! could not be read), and the root-cause analysis behind `faultline
//! analyze` ([`analysis::Analysis`] keeps what matters from every source and
//! runs one detector per failure-mode family over it).

pub mod analysis;
mod detect;
pub mod evidence;
pub mod finding;
pub mod inventory;
pub mod pass;
pub mod resolve;
pub mod run;
pub mod scope;
pub mod table;
pub mod timeline;

pub use analysis::Analysis;
pub use evidence::Collector;
pub use finding::{Finding, Severity as FindingSeverity};
pub use inventory::{
    EventCount, FileStatus, FileSummary, FormatTotals, Inventory, Tally, TraceCounts, summarize,
    summarize_problem,
};
pub use resolve::{SourceFile, SourceKind};
pub use run::{Report, analyze};
pub use scope::{Scope, Skew};
