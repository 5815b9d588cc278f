//! Failure modes an access log's status and sub-status name outright:
//! 500.19 (configuration), 500.21-500.24 and 404.17/404.4 (handler or
//! module), 500.30-500.38 and 502.5 (ASP.NET Core startup, when no ANCM
//! event says more), 502.3 (backend), 401.3/404.3/403.1-2 on static files,
//! 401.1 with rejected credentials, 404.13-15 and 413 (request limits). FREB
//! traces of the same status name the module that set it.

use faultline_parser::Span;

use std::collections::BTreeSet;

use super::kinds::{ANCM_START_FAILED, LOGON_FAILED};
use super::{Draft, FailureMode, clusters, grouped};
use crate::evidence::{RequestRow, Status, Store};
use crate::finding::{Role, Severity};

/// `SEC_E_LOGON_DENIED` (0x8009030C) and `ERROR_LOGON_FAILURE` (1326):
/// credentials were presented and rejected.
const CREDENTIALS_REJECTED: [u64; 2] = [2_148_074_252, 1326];

fn is_static(stem: &str) -> bool {
    [
        ".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg", ".woff", ".woff2", ".json", ".map",
        ".html", ".htm",
    ]
    .iter()
    .any(|e| stem.to_ascii_lowercase().ends_with(e))
}

/// The failure mode a request's status names, if any (`ancm_failed`: ANCM
/// logged the startup failure on the request's host).
fn mode_of(r: &RequestRow, ancm_failed: bool) -> Option<FailureMode> {
    let Status { code, sub, win32 } = r.status;
    Some(match (code, sub) {
        (500, 19) => FailureMode::ConfigError,
        (500, 21..=24) | (404, 17) | (404, 4) => FailureMode::HandlerMissing,
        (500, 30..=38) | (502, 5) if !ancm_failed => FailureMode::AncmStartupFailure,
        (502, 3) => FailureMode::BackendFailure,
        (401, 3) | (404, 3) | (403, 1 | 2) if is_static(&r.stem) => FailureMode::StaticContentFailure,
        (401, 1) if CREDENTIALS_REJECTED.contains(&win32) => FailureMode::AuthFailure,
        (404, 13..=15) | (413, _) => FailureMode::RequestLimits,
        _ => return None,
    })
}

/// What `n` requests failing with `first`'s status mean.
fn explain(mode: FailureMode, n: usize, first: Status) -> (Severity, String) {
    let Status { code, sub, win32 } = first;
    match mode {
        FailureMode::ConfigError => (
            Severity::High,
            format!(
                "{n} requests failed with 500.19 (win32 {win32}): IIS cannot read or parse the configuration \
                    of this path — typically a web.config section for a module that is not installed, a \
                    locked section, or an ACL the pool identity cannot read."
            ),
        ),
        FailureMode::HandlerMissing => (
            Severity::High,
            format!(
                "{n} requests failed with {code}.{sub}: the handler mapping points to a module that is not \
                    installed or registered (or dynamic content is mapped to the static handler)."
            ),
        ),
        FailureMode::AncmStartupFailure => (
            Severity::Critical,
            format!(
                "{n} requests failed with {code}.{sub}: the ASP.NET Core application did not start under \
                    ANCM."
            ),
        ),
        FailureMode::BackendFailure => (
            Severity::High,
            format!(
                "{n} requests failed with 502.3 (WinHTTP {win32}): the backend behind ANCM or ARR did not \
                    answer in time or refused the connection."
            ),
        ),
        FailureMode::StaticContentFailure => (
            Severity::Medium,
            format!(
                "{n} requests for static files failed with {code}.{sub} while dynamic requests worked: \
                    static files are read by the anonymous identity (IUSR), not the pool identity, or their \
                    handler/MIME map is missing."
            ),
        ),
        FailureMode::AuthFailure => (
            Severity::Medium,
            format!(
                "{n} requests failed authentication with 401.1 (win32 {win32}): credentials were presented \
                    and rejected — beyond the normal 401.2, 401.1 (0x8009030E), 200 handshake."
            ),
        ),
        _ => (Severity::Medium, format!("{n} requests were rejected by IIS request limits ({code}.{sub}).")),
    }
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    // Where ANCM logged the startup failure itself, its event names the
    // failure and the exception (event_rules reports it); the status alone
    // says less. ANCM's routine events (restarts, app_offline) do not count.
    let ancm_failed: BTreeSet<&str> = store.events_of(ANCM_START_FAILED).map(|e| &*e.host).collect();
    let failed = store
        .requests
        .iter()
        .filter_map(|r| mode_of(r, ancm_failed.contains(&*r.host)).map(|mode| (mode, r)));
    for ((host, site, mode), rows) in grouped(failed, |(mode, r)| (r.host.clone(), r.site, *mode)) {
        let rows: Vec<&RequestRow> = rows.into_iter().map(|(_, r)| r).collect();
        for c in clusters(rows, |r| r.time, Span::mins(15)) {
            if c.len() < 5 {
                continue;
            }
            let (first, last) = (c[0], c[c.len() - 1]);
            let (severity, text) = explain(mode, c.len(), first.status);
            let mut d = Draft::new(mode, severity, 0.85, first.start(), last.time)
                .scope(Some(&host), site, None)
                .explain(text);
            if mode == FailureMode::AncmStartupFailure {
                d = d.remedy(&[
                    "Enable stdoutLogEnabled in web.config and read the startup exception; check the runtime \
                        and hosting bundle.",
                ]);
            }
            d.cite_all(c.iter().take(5).map(|r| store.cite_request(r)), Role::Effect);
            let same_status = |t: &&crate::evidence::TraceRow| {
                t.host == host
                    && t.trace.status.is_some_and(|s| first.status.is(s, t.trace.substatus.unwrap_or(0)))
            };
            for t in store.traces.iter().filter(same_status).take(3) {
                d.cite(store.cite_trace(t), Role::Cause);
            }
            if mode == FailureMode::AuthFailure {
                let logons = store
                    .events_between(LOGON_FAILED, first.time, last.time)
                    .filter(|e| e.host == host && matches!(e.data("LogonType"), Some("3" | "8")));
                for e in logons.take(5) {
                    let summary = format!(
                        "Security 4625: logon type {} failed for {} ({})",
                        e.data("LogonType").unwrap_or("-"),
                        e.data("TargetUserName").unwrap_or("-"),
                        e.data("SubStatus").unwrap_or("-")
                    );
                    d.cite(store.cite_event(e, summary), Role::Cause);
                }
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    #[test]
    fn a_burst_of_500_19_is_a_config_error_with_the_module_freb_names() {
        let e = Given::new().requests(6, "WEB01", 1, 100, "/app", (500, 19, 13), 15).trace(
            "WEB01",
            100,
            "http://shop/app",
            (500, 19),
            "IIS Web Core",
        );
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::ConfigError, Severity::High));
        assert_eq!(d.start, at(100) - Span::millis(15), "from the first request's start");
        assert!(d.explanation.starts_with("6 requests failed with 500.19 (win32 13)"), "{}", d.explanation);
        assert_eq!(d.timeline.iter().filter(|s| s.role == Role::Cause).count(), 1, "the trace is the cause");
    }

    #[test]
    fn the_ntlm_handshake_is_not_an_authentication_failure() {
        // 401.2 then 401.1 with 0x8009030E (SEC_E_NO_CREDENTIALS) then 200.
        let mut e = Given::new();
        for i in 0..10 {
            e = e
                .request("WEB01", 1, 100 + 3 * i, "/intranet", (401, 2, 5), 1)
                .request("WEB01", 1, 101 + 3 * i, "/intranet", (401, 1, 2_148_074_254), 1)
                .request("WEB01", 1, 102 + 3 * i, "/intranet", (200, 0, 0), 20);
        }
        assert!(e.detected(detect).is_empty());
        let rejected = Given::new().requests(6, "WEB01", 1, 100, "/intranet", (401, 1, 1326), 3);
        assert_eq!(rejected.detected(detect)[0].id, FailureMode::AuthFailure);
    }

    #[test]
    fn static_file_denials_are_not_dynamic_ones() {
        let dynamic = Given::new().requests(6, "WEB01", 1, 100, "/api/orders", (401, 3, 5), 3);
        assert!(dynamic.detected(detect).is_empty());
        let css = Given::new().requests(6, "WEB01", 1, 100, "/site.css", (401, 3, 5), 3);
        assert_eq!(css.detected(detect)[0].id, FailureMode::StaticContentFailure);
    }

    #[test]
    fn a_startup_status_is_left_to_ancm_events_when_there_are_any() {
        let statuses = Given::new().requests(6, "WEB01", 1, 100, "/", (500, 30, 0), 3);
        let found = statuses.detected(detect);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::AncmStartupFailure, Severity::Critical));
        let with_events = Given::new().requests(6, "WEB01", 1, 100, "/", (500, 30, 0), 3).event(
            "WEB01",
            99,
            "IIS AspNetCore Module V2",
            1011,
            &[],
        );
        assert!(with_events.detected(detect).is_empty());
    }

    #[test]
    fn four_failures_are_not_a_cluster() {
        assert!(
            (Given::new().requests(4, "WEB01", 1, 100, "/", (502, 3, 12_002), 30_000))
                .detected(detect)
                .is_empty()
        );
    }
}
