//! The notable super-timeline: every record the analysis kept (requests that
//! failed, were slow or were cut off; HTTP.sys errors; catalogue events;
//! FREB traces) from every source and host, merged in time order, each
//! citing its file and line or record. [`full()`] streams the timeline of
//! every record instead.

mod full;

pub use full::{FullTimeline, TimelineError, full};

use std::sync::Arc;

use faultline_parser::Timestamp;

use crate::describe::headline;
use crate::evidence::Store;
use crate::finding::Evidence;

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Host the record came from.
    pub host: Arc<str>,
    /// Site id, when known.
    pub site: Option<u32>,
    /// What the time means (Timesketch `timestamp_desc`).
    pub time_meaning: &'static str,
    /// Where it came from, when, and what it says.
    pub evidence: Evidence,
}

impl Entry {
    /// When.
    pub fn time(&self) -> Timestamp {
        self.evidence.time
    }
}

/// The notable timeline of an analysis, in time order; ties keep a stable
/// order by file and position so that output never depends on threads.
pub fn notable(analysis: &Store) -> Vec<Entry> {
    let mut out = Vec::with_capacity(
        analysis.requests.len() + analysis.errors.len() + analysis.events.len() + analysis.traces.len(),
    );
    let entry = |host: &Arc<str>, site: Option<u32>, time_meaning, evidence| Entry {
        host: Arc::clone(host),
        site,
        time_meaning,
        evidence,
    };
    out.extend(
        analysis.requests.iter().map(|r| entry(&r.host, r.site, "Request end", analysis.cite_request(r))),
    );
    out.extend(
        analysis.errors.iter().map(|r| entry(&r.host, r.site, "HTTP.sys error", analysis.cite_error(r))),
    );
    out.extend(
        analysis
            .events
            .iter()
            .map(|e| entry(&e.host, None, "Event created", analysis.cite_event(e, headline(&e.event)))),
    );
    out.extend(analysis.traces.iter().map(|t| {
        let evidence = analysis.cite_trace(t);
        entry(&t.host, t.trace.site_id, full::trace_time_meaning(evidence.source), evidence)
    }));
    out.sort_by(|a, b| {
        let (x, y) = (&a.evidence, &b.evidence);
        (x.time, &x.path, x.line, x.record, &x.summary).cmp(&(y.time, &y.path, y.line, y.record, &y.summary))
    });
    out
}
