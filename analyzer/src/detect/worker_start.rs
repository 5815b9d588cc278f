//! A worker's own report that it did not start (W3SVC-WP 2276-2279, 2281,
//! 2269; its binary data the Win32 error): read by the findings a failed
//! start ends in (a worker's death, a pool disabled).

use faultline_parser::Span;

use super::kinds::WORKER_START_FAILED;
use crate::evidence::{EventRow, Store};

/// A worker that did not start exits as it reports so: WAS reports its
/// death within this.
const DEATH_AFTER_REPORT: Span = Span::secs(30);

/// The start failures the worker process `pid` reported in the seconds
/// before WAS reported its death `d`.
pub(super) fn before_death<'s>(store: &'s Store, d: &EventRow, pid: Option<u32>) -> Vec<&'s EventRow> {
    let Some(pid) = pid else { return Vec::new() };
    store
        .events_between(WORKER_START_FAILED, d.time() - DEATH_AFTER_REPORT, d.time())
        .filter(|w| w.host == d.host && named(w).1 == Some(pid))
        .collect()
}

/// The pool and the worker process a start failure names: 2269 holds
/// both in its data (`for app pool '%1', PID='%2'`); the others name the
/// process only as the writer of the event.
pub(super) fn named(e: &EventRow) -> (Option<&str>, Option<u32>) {
    let written_by = e.event.process_id.filter(|&p| p != 0);
    if e.event.event_id != 2269 {
        return (super::pool(e), written_by);
    }
    let pool = super::pool(e).or_else(|| e.data("AppPoolName")).or_else(|| e.data_at(0));
    let pid = e.data("ProcessID").or_else(|| e.data_at(1)).and_then(|p| p.trim().parse().ok());
    (pool.filter(|p| !p.is_empty()), pid.or(written_by))
}

/// What a worker could not do, as its W3SVC-WP start failure says.
pub(super) fn step(id: u16) -> &'static str {
    match id {
        2269 => "a worker could not set up its communication with HTTP.sys",
        2277 => "a worker could not load the process model host",
        2278 => "a worker could not start processing requests",
        2279 => "a worker could not start serving a protocol's queue",
        2281 => "a worker could not set up its communication with W3SVC",
        _ => "a worker failed to initialize",
    }
}

/// A worker's start error (the event's binary data, a Win32 error).
pub(super) fn error(code: u32) -> String {
    match code {
        5 => "error 5: access denied, the pool's identity lacks a right it needs".to_string(),
        2 | 3 => format!("error {code}: a file or folder it needs is not there"),
        13 => "error 13: invalid data, a configuration file or setting it read is malformed".to_string(),
        8 | 14 | 1450 => format!("error {code}: not enough memory or system resources"),
        1326 | 1385 => format!("error {code}: the pool's identity could not log on"),
        other => format!("error {other}"),
    }
}

/// A report's words for a citation: the step and the error.
pub(super) fn cited(e: &EventRow) -> String {
    let error = super::module_load::error_of(e).map_or(String::new(), |c| format!(", error {c}"));
    format!("W3SVC-WP {}: {}{error}", e.event.event_id, step(e.event.event_id))
}
