//! Findings: the answer faultline gives, in the JSON contract of
//! docs/json.md.

use faultline_parser::{RecordId, Timestamp};
use serde::Serialize;

pub use crate::detect::mode::{Category, FailureMode};
pub use crate::resolve::SourceKind;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Background facts.
    Info,
    /// Worth knowing, little impact.
    Low,
    /// Some requests failed.
    Medium,
    /// Many requests failed or a site was degraded.
    High,
    /// A site or pool was down.
    Critical,
}

impl Severity {
    /// Parses `--fail-on` values.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One piece of evidence: where to open it and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Source kind.
    pub source: SourceKind,
    /// File (or `archive!member`).
    pub path: String,
    /// 1-based line, for text sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Record id, for event logs, as the log wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordId>,
    /// When.
    pub time: Timestamp,
    /// What it says, in one line.
    pub summary: String,
}

impl Evidence {
    /// Where it is: `path:line`, `path#record`, or `path:line#record` for
    /// an exported event.
    pub fn place(&self) -> String {
        match (self.line, self.record) {
            (Some(l), Some(r)) => format!("{}:{l}#{r}", self.path),
            (Some(l), None) => format!("{}:{l}", self.path),
            (None, Some(r)) => format!("{}#{r}", self.path),
            _ => self.path.clone(),
        }
    }

    /// Evidence at `line` or `record` of `file`.
    pub fn in_file(
        file: &crate::resolve::SourceFile,
        (line, record): (Option<u64>, Option<RecordId>),
        time: Timestamp,
        summary: String,
    ) -> Evidence {
        Evidence { source: file.kind, path: file.path.to_string(), line, record, time, summary }
    }
}

/// Where a finding applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Host.
    pub host: Option<String>,
    /// Site id.
    pub site: Option<String>,
    /// Application pool.
    pub app_pool: Option<String>,
}

/// A step of the root-cause timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// When.
    pub time: Timestamp,
    /// `cause`, `effect` or `context`.
    pub role: Role,
    /// Source kind.
    pub source: SourceKind,
    /// What happened.
    pub summary: String,
}

/// A timeline step's part in the story.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// What broke first.
    Cause,
    /// What followed from it.
    Effect,
    /// Around it, for orientation.
    Context,
}

/// A root-cause finding.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The failure mode, serialized as its stable id (docs/failure-modes.md).
    pub id: FailureMode,
    /// Its category.
    pub category: Category,
    /// Title.
    pub title: &'static str,
    /// 0 to 1.
    pub confidence: f64,
    /// Severity.
    pub severity: Severity,
    /// Window start.
    pub start: Timestamp,
    /// Window end.
    pub end: Timestamp,
    /// Where.
    pub scope: Scope,
    /// What happened, naming the assumption that stopped holding.
    pub explanation: String,
    /// What to do.
    pub remediation: Vec<String>,
    /// The evidence.
    pub evidence: Vec<Evidence>,
    /// From first cause to effects.
    pub timeline: Vec<Step>,
    /// The same failure mode on other hosts in an overlapping window (one
    /// farm-wide incident): 1-based positions in the report's findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<usize>,
    /// Security detections (medium or above) on the same host in the hour
    /// before the finding or during it, which may explain it (a backdoor
    /// module before crashes): 1-based positions in the report's detections.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detections: Vec<usize>,
    /// The failure was still going on where the evidence ends (an app that
    /// never started again): ranked before its severity's recovered ones.
    #[serde(skip)]
    pub ongoing: bool,
    /// The window comes from files' modification times rather than from
    /// the evidence: every piece is a detailed error page, which holds no
    /// time of its own (a copy's date is no incident's).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub window_from_files: bool,
    /// Records the finding read but does not cite: past the first few of a
    /// run of failures it counts, and past the most it lists (the first
    /// cited and the latest in time, each in both `evidence` and
    /// `timeline`).
    #[serde(skip_serializing_if = "is_zero")]
    pub evidence_omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Whether every piece of `evidence` (some at least) is a detailed error
/// page: see [`Finding::window_from_files`].
pub(crate) fn timed_by_files(evidence: &[Evidence]) -> bool {
    !evidence.is_empty() && evidence.iter().all(|e| e.source == crate::resolve::SourceKind::Errorpage)
}
