//! Detectors: one function per failure-mode family, each building findings
//! from the evidence that discriminates it (formats.md §5) and ruling out its
//! look-alikes. Matching is on (provider, event id), statuses and reasons,
//! never on message text.

mod events;
pub mod mode;
mod requests;
mod unexplained;

use faultline_parser::Timestamp;

use crate::evidence::EventRow;
use crate::evidence::Store;
use crate::finding::{Evidence, Finding, Role, Scope, Severity, Step};
pub use mode::FailureMode;

/// Seconds as nanoseconds.
pub(crate) const SEC: i64 = 1_000_000_000;

/// A finding being built.
pub(crate) struct Draft {
    pub id: FailureMode,
    pub severity: Severity,
    pub confidence: f64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub scope: Scope,
    pub explanation: String,
    pub remediation: Vec<&'static str>,
    pub evidence: Vec<Evidence>,
    pub timeline: Vec<Step>,
}

impl Draft {
    pub fn new(
        id: FailureMode,
        severity: Severity,
        confidence: f64,
        start: Timestamp,
        end: Timestamp,
    ) -> Draft {
        Draft {
            id,
            severity,
            confidence,
            start,
            end,
            scope: Scope::default(),
            explanation: String::new(),
            remediation: Vec::new(),
            evidence: Vec::new(),
            timeline: Vec::new(),
        }
    }

    pub fn scope(mut self, host: Option<&str>, site: Option<u32>, pool: Option<&str>) -> Draft {
        self.scope = Scope {
            host: host.map(str::to_string),
            site: site.map(|s| s.to_string()),
            app_pool: pool.map(str::to_string),
        };
        self
    }

    pub fn explain(mut self, text: String, remediation: &[&'static str]) -> Draft {
        self.explanation = text;
        self.remediation = remediation.to_vec();
        self
    }

    /// Adds evidence and the matching timeline step.
    pub fn cite(&mut self, e: Evidence, role: Role) {
        if self.evidence.len() < 25 {
            self.timeline.push(Step { time: e.time, role, source: e.source, summary: e.summary.clone() });
            self.evidence.push(e);
        }
    }

    pub fn finish(mut self) -> Finding {
        self.timeline.sort_by_key(|a| (a.time, a.role));
        self.evidence.sort_by(|a, b| (a.time, &a.path, a.line).cmp(&(b.time, &b.path, b.line)));
        Finding {
            id: self.id,
            category: self.id.category(),
            title: self.id.title(),
            confidence: (self.confidence * 100.0).round() / 100.0,
            severity: self.severity,
            start: self.start,
            end: self.end,
            scope: self.scope,
            explanation: self.explanation,
            remediation: self.remediation.into_iter().map(str::to_string).collect(),
            evidence: self.evidence,
            timeline: self.timeline,
            related: Vec::new(),
        }
    }
}

/// Groups items (in time order) into clusters separated by more than `gap`.
pub(crate) fn clusters<T>(items: Vec<T>, time: impl Fn(&T) -> Timestamp, gap_secs: i64) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    for item in items {
        let t = time(&item);
        match out.last_mut() {
            Some(c)
                if c.last()
                    .is_some_and(|l| t.0.saturating_sub(time(l).0) <= gap_secs.saturating_mul(SEC)) =>
            {
                c.push(item)
            }
            _ => out.push(vec![item]),
        }
    }
    out
}

/// An event's pool (`AppPoolID`).
pub(crate) fn pool(e: &EventRow) -> Option<&str> {
    e.event.data("AppPoolID")
}

/// Runs every detector.
pub(crate) fn run(a: &Store) -> Vec<Finding> {
    let mut out = Vec::new();
    events::detect(a, &mut out);
    requests::detect(a, &mut out);
    unexplained::detect(a, &mut out);
    out.into_iter().map(Draft::finish).collect()
}
