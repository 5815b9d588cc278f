//! faultline-analyzer: turns normalized IIS evidence into answers.
//!
//! Every command reads the evidence once through [`pass::run`], each record
//! placed by [`resolve`] (host, site, corrected time) within a [`Scope`].
//! What is kept depends on the command: the inventory behind `faultline
//! scan` ([`inventory`]), the evidence [`Store`] behind `faultline analyze`
//! (over which one detector per failure-mode family runs), and the
//! timelines ([`timeline`]).

pub mod clock;
mod correlate;
pub mod describe;
mod detect;
pub mod evidence;
pub mod exception;
pub mod finding;
pub mod hunting;
pub mod identity;
pub mod inventory;
pub mod logging_switch;
pub mod pass;
pub mod renames;
pub mod resolve;
pub mod run;
pub mod scope;
pub mod timeline;

pub use evidence::{Collector, Store};
pub use finding::{Finding, Severity as FindingSeverity};
pub use inventory::{
    EventCount, FileStatus, FileSummary, FormatTotals, Inventory, Tally, TraceCounts, summarize,
    summarize_problem,
};
pub use resolve::{SourceFile, SourceKind};
pub use run::{Report, Window, analyze, analyze_and_hunt};
pub use scope::{Scope, Skew};
