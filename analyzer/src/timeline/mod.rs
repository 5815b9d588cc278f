//! The notable super-timeline: every record the analysis kept (requests that
//! failed, were slow or were cut off; HTTP.sys errors; catalogue events;
//! FREB traces) from every source and host, merged in time order, each
//! citing its file and line or record. [`full`] streams the timeline of
//! every record instead.

mod full;

pub use full::{FullTimeline, TimelineError, full};

use std::sync::Arc;

use faultline_parser::{Timestamp, Trace, WinEvent};

use crate::analysis::Analysis;
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

/// Longest event message kept on a timeline line.
const EVENT_TEXT: usize = 400;

/// A one-line description of an access-log row.
pub fn describe_request(stem: &str, status: (u16, u32, u64), taken_ms: u64, client: &str) -> String {
    format!("{stem} {}.{} (win32 {}) in {taken_ms} ms from {client}", status.0, status.1, status.2)
}

/// A one-line description of an HTTP.sys error-log row.
pub fn describe_http_error(
    status: Option<u16>,
    reason: &str,
    uri: Option<&str>,
    queue: Option<&str>,
) -> String {
    format!(
        "HTTP.sys: {} {reason} for {} (queue {})",
        status.map_or_else(|| "-".into(), |s| s.to_string()),
        uri.unwrap_or("-"),
        queue.unwrap_or("-")
    )
}

/// A one-line description of a FREB trace: the request and the module that
/// set its error.
pub fn describe_trace(tr: &Trace) -> String {
    let error = tr.summary.first_error.as_ref().map_or_else(String::new, |e| {
        format!(
            ": {} set {}.{} in {} (0x{:08X}){}",
            e.module,
            e.status.unwrap_or(0),
            e.substatus.unwrap_or(0),
            e.notification_name.as_deref().unwrap_or("-"),
            e.error_code.unwrap_or(0),
            e.config_exception.as_deref().map_or_else(String::new, |c| format!(" [{}]", c.trim()))
        )
    });
    format!(
        "FREB {} {} {}.{} in {} ms{error}",
        tr.verb.as_deref().unwrap_or("-"),
        tr.url.as_deref().unwrap_or("-"),
        tr.status.unwrap_or(0),
        tr.substatus.unwrap_or(0),
        tr.time_taken_ms.unwrap_or(0)
    )
}

/// A one-line description of any Windows event: provider, id and its data.
pub fn describe_event(ev: &WinEvent) -> String {
    let mut text = format!("{} {}", ev.provider, ev.event_id);
    let mut first = true;
    for d in &ev.data {
        let value = d.value.trim();
        if value.is_empty() {
            continue;
        }
        text.push_str(if first { ": " } else { "; " });
        first = false;
        if let Some(name) = &d.name {
            text.push_str(name);
            text.push('=');
        }
        text.extend(value.chars().map(|c| if c.is_control() { ' ' } else { c }));
        if text.len() > EVENT_TEXT {
            let cut = (0..=EVENT_TEXT).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text.truncate(cut);
            text.push('…');
            break;
        }
    }
    text
}

/// The notable timeline of an analysis, in time order; ties keep a stable
/// order by file and position so that output never depends on threads.
pub fn notable(analysis: &Analysis) -> Vec<Entry> {
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
            .map(|e| entry(&e.host, None, "Event created", analysis.cite_event(e, describe_event(&e.event)))),
    );
    out.extend(
        analysis
            .traces
            .iter()
            .map(|t| entry(&t.host, t.trace.site_id, "Request traced", analysis.cite_trace(t))),
    );
    out.sort_by(|a, b| {
        let (x, y) = (&a.evidence, &b.evidence);
        (x.time, &x.path, x.line, x.record, &x.summary).cmp(&(y.time, &y.path, y.line, y.record, &y.summary))
    });
    out
}
