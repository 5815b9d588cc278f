//! `slow-responses`: long requests that completed normally (win32 0),
//! concentrated on some URLs, outside any hang. Slow clients would show
//! aborts (64, 995) instead.

use std::sync::Arc;

use faultline_parser::{Span, Timestamp};

use super::{Draft, FailureMode, Window, clusters, grouped};
use crate::evidence::{Body, Store};
use crate::finding::{Role, Severity};

/// A request this long is slow.
const SLOW: Span = Span::secs(5);
/// A request body this large (10 MB) takes seconds to send over most
/// links.
const LARGE_BODY: u64 = 10_000_000;

/// Endpoints held open by design until the server has something to say
/// (SignalR 2's long polling and its connect): their time-taken is the
/// wait, not slowness.
fn held_open(stem: &str) -> bool {
    const LONG_POLLS: [&str; 2] = ["/signalr/poll", "/signalr/connect"];
    let lower = stem.to_ascii_lowercase();
    LONG_POLLS.iter().any(|p| lower.ends_with(p))
}

/// What to do when slow requests are uploads of unknown size.
const UPLOAD_STEPS: [&str; 2] = [
    "Log cs-bytes (the site's logFile logExtFileFlags, BytesRecv) to tell an upload's time from the server's: \
        megabytes over seconds is the client's link.",
    "Meanwhile, a FREB rule for time taken on the endpoint shows when the body had been read and where the \
        rest of the time went.",
];

/// Slow requests to one URL within a quarter of an hour that make a finding.
const MIN_SLOW: usize = 15;

pub(super) fn detect(store: &Store, hangs: &[Window], out: &mut Vec<Draft>) {
    let mut logged: Vec<Logged> = Vec::new();
    let slow = store
        .requests
        .iter()
        .filter(|r| r.taken >= SLOW && r.status.win32 == 0 && r.status.code < 400 && !held_open(&r.stem))
        // A large upload's time is mostly the client's sending it.
        .filter(|r| r.body != Body::Large);
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
            // Uploads of unknown size: their time may be the clients'
            // links, which the log cannot tell from the server's.
            let uploads = c.iter().filter(|r| r.body == Body::Unmeasured).count();
            let unmeasured = uploads * 2 > c.len();
            let (severity, confidence) =
                if unmeasured { (Severity::Low, 0.5) } else { (Severity::Medium, 0.75) };
            let mut d = Draft::new(FailureMode::SlowResponses, severity, confidence, start, end)
                .scope(Some(&host), site, None)
                .explain(if unmeasured {
                    format!(
                        "{} requests to {stem} took {median} ms (median) and completed normally (win32 0); \
                            {uploads} of them sent a body (POST, PUT) and the log has no cs-bytes: IIS's \
                            time-taken includes receiving the body, so uploads over slow links take as long \
                            as a slow server would. Log cs-bytes to tell them apart (an upload of megabytes \
                            is the client's time).",
                        c.len()
                    )
                } else {
                    format!(
                        "{} requests to {stem} took {median} ms (median) and completed normally (win32 0): the \
                            server was slow, not the clients, which would show aborts (64, 995) and large \
                            responses.",
                        c.len()
                    )
                });
            // A busy minute lists its first notable requests only; past
            // them, a success or a 304 was counted only for being slow
            // (by status, whatever its URL), said as such.
            let minutes = start.minute()..=end.minute();
            let more = store
                .unlisted_between(&host, site, minutes, |s| (s.code < 300 || s.code == 304) && s.win32 == 0)
                .count;
            if more > 0 {
                d.explanation.push_str(&format!(
                    " Those are the slow requests listed: the same minutes counted {more} more of 5 s or more \
                        (of any URL), not listed."
                ));
            }
            if unmeasured {
                d = d.remedy(&UPLOAD_STEPS);
            }
            d.cite_first(c.iter(), 5, Role::Effect, |r| store.cite_request(r));
            let timed = store
                .traces
                .iter()
                .filter(|t| t.host == host && t.trace.failure_reason.as_deref() == Some("TIME_TAKEN"));
            for t in timed.take(3) {
                d.cite(store.cite_trace(t), Role::Cause);
            }
            logged.push((host.clone(), stem.to_ascii_lowercase(), start, end));
            out.push(d);
        }
    }
    traced(store, hangs, &logged, out);
}

/// An access-log finding's host, URL (lower-case) and window.
type Logged = (Arc<str>, String, Timestamp, Timestamp);

/// FREB traces a rule took for time taken (`failureReason="TIME_TAKEN"`),
/// five seconds or more, where the access logs made no slow-responses
/// finding of their own: one such trace is a slow request someone set out
/// to catch, low; its trace cut at the size limit cannot say where the time
/// went, which is said; an upload of a large body may be the client's
/// time, info.
fn traced(store: &Store, hangs: &[Window], logged: &[Logged], out: &mut Vec<Draft>) {
    // As slow as [`SLOW`] (a rule's threshold may be lower than ours), and
    // answered as the access log's slow rows are: a failure is its own
    // story, a hang explains its requests.
    let timed = store.traces.iter().filter(|t| {
        t.trace.failure_reason.as_deref() == Some("TIME_TAKEN")
            && t.trace.time_taken_ms.is_some_and(|ms| Span::millis(ms) >= SLOW)
            && t.trace.status.is_some_and(|s| s < 400)
    });

    let timed = timed.filter_map(|t| t.trace.time().map(|at| (at, t)));
    for ((host, path), traces) in grouped(timed, |(_, t)| {
        (
            t.host.clone(),
            crate::correlate::url_parts(t.trace.url.as_deref().unwrap_or("/")).1.to_ascii_lowercase(),
        )
    }) {
        for c in clusters(traces, |(at, _)| *at, Span::mins(15)) {
            let (start, end) = (c[0].0, c[c.len() - 1].0);
            // The access log's finding of the same URL cites such traces.
            let covered = logged.iter().any(|(h, stem, from, to)| {
                **h == *host
                    && *stem == path
                    && *from - Span::mins(15) <= end
                    && start <= *to + Span::mins(15)
            });
            if covered || hangs.iter().any(|h| h.covers(&host, start, end, Span::default())) {
                continue;
            }
            let first = c[0].1;
            let longest = c.iter().filter_map(|(_, t)| t.trace.time_taken_ms).max();
            let request = format!(
                "{} {}",
                first.trace.verb.as_deref().unwrap_or("-"),
                first.trace.url.as_deref().unwrap_or(&path)
            );
            let mut text = format!(
                "FREB traced {} for taking longer than its rule allows: {request}{}{}{}.",
                if c.len() == 1 { "one request".to_string() } else { format!("{} requests", c.len()) },
                longest.map_or(String::new(), |ms| format!(
                    " took {}{}",
                    crate::describe::duration(Span::millis(ms)),
                    if c.len() == 1 { "" } else { " at most" }
                )),
                first.trace.status.map_or(String::new(), |s| format!(", answered {s}")),
                first.trace.summary.handler.as_deref().map_or(String::new(), |h| format!(", handler {h}")),
            );
            // A request with a body counts the client's upload in its time.
            let upload = matches!(first.trace.verb.as_deref(), Some("POST" | "PUT" | "PATCH"));
            // A large body the client sent over the whole time: its upload,
            // not the server, may be all of it.
            let body = first.trace.summary.request_bytes.filter(|b| upload && *b >= LARGE_BODY);
            let cut = c.iter().find(|(_, t)| t.trace.summary.truncated);
            match (body, longest) {
                (Some(bytes), Some(ms)) => text.push_str(&format!(
                    " It carried a {:.0} MiB body: at {:.1} MB/s over the time it took, the client's sending \
                        alone may account for it.",
                    bytes as f64 / 1_048_576.0,
                    bytes as f64 / 1_000_000.0 / (ms.max(1) as f64 / 1000.0),
                )),
                _ if upload && cut.is_some() => text.push_str(&format!(
                    " Its time counts the client sending the {} body as well as the server's work.",
                    first.trace.verb.as_deref().unwrap_or("request")
                )),
                _ => {}
            }
            if let Some((at, t)) = cut {
                let held = t.trace.summary.end.map(|e| e - *at);
                // With a large body, whether the time went to receiving it
                // or to the application is what the cut trace cannot say.
                let missing = if body.is_some() {
                    "whether the time went to receiving the body or to the application is not in it (the \
                        application's own log of the request can say)"
                } else {
                    "where the time went is not in it"
                };
                text.push_str(&format!(
                    " Its trace was cut at FREB's size limit{}: {missing}.",
                    held.map_or(String::new(), |h| format!(
                        " after the first {} of the request",
                        crate::describe::duration(h)
                    )),
                ));
            }
            let end = end + longest.map_or(Span(0), Span::millis);
            let severity = if body.is_some() { Severity::Info } else { Severity::Low };
            let mut d = Draft::new(FailureMode::SlowResponses, severity, 0.6, start, end)
                .scope(Some(&host), first.trace.site_id, first.trace.app_pool.as_deref())
                .explain(text);
            if body.is_some() {
                d = d.remedy(&[
                    "A rule for time taken catches long uploads: raise its timeTaken for this path, or leave the \
                        path out of it, so the traces it keeps are of slow answers.",
                    "Where uploads of that size should be faster, look at the client's link and what lies between \
                        (a proxy, a gateway) before the server.",
                ]);
            } else if cut.is_some() {
                d = d.remedy(&[
                    "Catch the request again with a trace that holds all of it: a larger maxLogFileSizeKB \
                        (the site's traceFailedRequestsLogging, system.applicationHost/sites), fewer trace areas \
                        or a lower verbosity; its module and handler timings then show where the time went.",
                    "Check the endpoint's dependencies (queries, downstream calls) while it is slow.",
                ]);
            }
            d.cite_all(c.iter().take(5).map(|(_, t)| store.cite_trace(t)), Role::Effect);
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
        assert!(!found[0].explanation.contains("not listed"), "{}", found[0].explanation);
        // In a busy minute the slow successes past those listed are counted
        // by status only: said beside the finding, not taken into its count
        // (a failure or a redirect counted is not known to be slow).
        let busy = Given::new()
            .requests(20, "WEB01", 1, 100, "/report", (200, 0, 0), 9_000)
            .unlisted("WEB01", 1, 100, (200, 0, 0), 300)
            .unlisted("WEB01", 1, 100, (302, 0, 0), 40)
            .unlisted("WEB01", 1, 100, (200, 0, 995), 7);
        let found = drafts(busy, &[]);
        assert!(found[0].explanation.starts_with("20 requests to /report"), "{}", found[0].explanation);
        assert!(found[0].explanation.contains("counted 300 more of 5 s or more"), "{}", found[0].explanation);
    }

    /// IIS's time-taken includes receiving the body: uploads of megabytes
    /// are the clients' time, no finding; uploads of unknown size (no
    /// cs-bytes) are low, saying the log cannot tell; small POSTs that are
    /// slow are the server's.
    #[test]
    fn slow_uploads_are_told_from_a_slow_server() {
        use crate::evidence::Body;
        let with = |body: Body| {
            (0..20).fold(Given::new(), |e, i| {
                e.request("WEB33", 4, 100 + i, "/api/documents/upload", (200, 0, 0), 9_000).body(body)
            })
        };
        assert!(drafts(with(Body::Large), &[]).is_empty());
        let unknown = drafts(with(Body::Unmeasured), &[]);
        assert_eq!((unknown.len(), unknown[0].severity), (1, Severity::Low));
        assert!(unknown[0].explanation.contains("the log has no cs-bytes"), "{}", unknown[0].explanation);
        assert!(unknown[0].remediation[0].starts_with("Log cs-bytes"), "{:?}", unknown[0].remediation);
        let small = drafts(with(Body::Small), &[]);
        assert_eq!((small.len(), small[0].severity), (1, Severity::Medium));
        assert!(small[0].explanation.contains("the server was slow"), "{}", small[0].explanation);
    }

    /// pcdccam's fr000001.xml: one POST that took 61 s, traced for time
    /// taken, its trace cut at the size limit after 0.7 s; a trace the
    /// access log's own finding already cites is not a second one.
    #[test]
    fn a_request_freb_traced_for_its_time_is_a_slow_response() {
        let e = Given::new()
            .trace("WEB01", 100, "http://shop:80/upload", (200, 0), "")
            .timed_out(61_230, Some(733));
        let found = drafts(e, &[]);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::SlowResponses, Severity::Low));
        assert!(d.explanation.contains("took 61 s"), "{}", d.explanation);
        assert!(
            d.explanation.contains("cut at FREB's size limit after the first 733 ms of the request"),
            "{}",
            d.explanation
        );
        assert!(d.remediation[0].contains("maxLogFileSizeKB"), "{:?}", d.remediation);
        // pcdccam's POST carried 502 MiB: its upload may be all the time.
        let e = Given::new()
            .trace("WEB01", 100, "http://shop:80/upload", (200, 0), "")
            .timed_out(61_230, Some(733))
            .body_bytes(526_108_463);
        let d = &drafts(e, &[])[0];
        assert_eq!(d.severity, Severity::Info);
        assert!(d.explanation.contains("It carried a 502 MiB body: at 8.6 MB/s"), "{}", d.explanation);
        assert!(
            d.explanation.contains(
                "after the first 733 ms of the request: whether the time went to receiving the body"
            ),
            "{}",
            d.explanation
        );
        assert!(d.remediation[0].contains("raise its timeTaken"), "{:?}", d.remediation);
        let logged = Given::new()
            .requests(20, "WEB01", 1, 100, "/upload", (200, 0, 0), 9_000)
            .trace("WEB01", 100, "http://shop:80/upload", (200, 0), "")
            .timed_out(9_000, None);
        let found = drafts(logged, &[]);
        assert_eq!(found.len(), 1, "the access log's finding cites the trace");
        let failed =
            Given::new().trace("WEB01", 100, "http://shop:80/upload", (500, 0), "ManagedPipelineHandler");
        assert!(drafts(failed, &[]).is_empty(), "traced for its status, not its time");
        let quick =
            Given::new().trace("WEB01", 100, "http://shop:80/upload", (200, 0), "").timed_out(800, None);
        assert!(drafts(quick, &[]).is_empty(), "a rule's low threshold does not make 800 ms slow");
        // Two URLs traced in the same minutes are two findings; the
        // access log's finding of one URL does not cover another.
        let two = Given::new()
            .trace("WEB01", 100, "http://shop:80/upload", (200, 0), "")
            .timed_out(9_000, None)
            .trace("WEB01", 160, "http://shop:80/report", (200, 0), "")
            .timed_out(12_000, None);
        assert_eq!(drafts(two, &[]).len(), 2);
        let other_url = Given::new()
            .requests(20, "WEB01", 1, 100, "/upload", (200, 0, 0), 9_000)
            .trace("WEB01", 100, "http://shop:80/report", (200, 0), "")
            .timed_out(12_000, None);
        assert_eq!(drafts(other_url, &[]).len(), 2);
        let hung =
            Given::new().trace("WEB01", 100, "http://shop:80/upload", (200, 0), "").timed_out(9_000, None);
        let hang = Window { host: Some("WEB01".into()), start: at(90), end: at(130) };
        assert!(drafts(hung, &[hang]).is_empty(), "the hang explains it");
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
