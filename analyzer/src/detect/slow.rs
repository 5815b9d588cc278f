//! `slow-responses`: long requests that completed normally (win32 0),
//! concentrated on some URLs, outside any hang. Slow clients would show
//! aborts (64, 995) instead.

use faultline_parser::Span;

use super::{Draft, FailureMode, Window, clusters, grouped};
use crate::evidence::Store;
use crate::finding::{Role, Severity};

/// A request this long is slow.
const SLOW: Span = Span::secs(5);
/// Slow requests to one URL within a quarter of an hour that make a finding.
const MIN_SLOW: usize = 15;

pub(super) fn detect(store: &Store, hangs: &[Window], out: &mut Vec<Draft>) {
    let slow =
        store.requests.iter().filter(|r| r.taken >= SLOW && r.status.win32 == 0 && r.status.code < 400);
    for ((host, site, stem), rows) in grouped(slow, |r| (r.host.clone(), r.site, r.stem.clone())) {
        for c in clusters(rows, |r| r.time, Span::mins(15)) {
            if c.len() < MIN_SLOW {
                continue;
            }
            let (start, end) = (c[0].time, c[c.len() - 1].time);
            if hangs.iter().any(|h| h.covers(&host, start, end, Span::default())) {
                continue;
            }
            let mut sorted: Vec<i64> = c.iter().map(|r| r.taken.as_millis()).collect();
            sorted.sort_unstable();
            let median = sorted[sorted.len() / 2];
            let mut d = Draft::new(FailureMode::SlowResponses, Severity::Medium, 0.75, start, end)
                .scope(Some(&host), site, None)
                .explain(format!(
                    "{} requests to {stem} took {median} ms (median) and completed normally (win32 0): the \
                        server was slow, not the clients, which would show aborts (64, 995) and large \
                        responses.",
                    c.len()
                ));
            d.cite_all(c.iter().take(5).map(|r| store.cite_request(r)), Role::Effect);
            let timed = store
                .traces
                .iter()
                .filter(|t| t.host == host && t.trace.failure_reason.as_deref() == Some("TIME_TAKEN"));
            for t in timed.take(3) {
                d.cite(store.cite_trace(t), Role::Cause);
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    fn drafts(evidence: Given, hangs: &[Window]) -> Vec<Draft> {
        let mut out = Vec::new();
        detect(&evidence.store(), hangs, &mut out);
        out
    }

    #[test]
    fn many_slow_completions_on_one_url_are_server_side_slowness() {
        let e = Given::new().requests(20, "WEB01", 1, 100, "/report", (200, 0, 0), 9_000);
        let found = drafts(e, &[]);
        assert_eq!(found.len(), 1);
        assert!(found[0].explanation.starts_with("20 requests to /report took 9000 ms (median)"));
    }

    #[test]
    fn slow_clients_and_hangs_are_not_slow_responses() {
        let aborted = Given::new().requests(20, "WEB01", 1, 100, "/download", (200, 0, 995), 9_000);
        assert!(drafts(aborted, &[]).is_empty(), "aborted by the client");
        let hung = Given::new().requests(20, "WEB01", 1, 100, "/report", (200, 0, 0), 9_000);
        let hang = Window { host: Some("WEB01".into()), start: at(90), end: at(130) };
        assert!(drafts(hung, &[hang]).is_empty(), "the hang explains them");
    }
}
