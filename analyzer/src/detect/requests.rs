//! Detectors anchored on what requests show: W3C statuses, HTTP.sys
//! rejections and FREB traces.

// Rows are grouped by tuples of (host, site or pool, ...) keys throughout.
#![allow(clippy::type_complexity)]

use std::collections::BTreeMap;
use std::sync::Arc;

use faultline_parser::w3c::ReasonKind;
use faultline_parser::winevent::Family;
use faultline_parser::{Span, Timestamp};

use super::{Draft, FailureMode, SEC, clusters};
use crate::evidence::Store;
use crate::evidence::{ErrRow, RequestRow, Status};
use crate::finding::{Role, Severity};

pub(super) fn detect(a: &Store, out: &mut Vec<Draft>) {
    httperr(a, out);
    statuses(a, out);
    app_init(a, out);
    slow(a, out);
    rewrite_loops(a, out);
}

fn hung(a: &Store, host: &str, pool: &str, t: Timestamp) -> bool {
    a.events_of(Family::Was, &[5010]).any(|e| {
        &*e.host == host
            && e.event.data("AppPoolID") == Some(pool)
            && (e.event.time.0.saturating_sub(t.0)).saturating_abs() <= 600 * SEC
    })
}

fn httperr(a: &Store, out: &mut Vec<Draft>) {
    let mut by_key: BTreeMap<(Arc<str>, Option<Arc<str>>, FailureMode), Vec<&ErrRow>> = BTreeMap::new();
    for r in &a.errors {
        let kind = match r.reason {
            ReasonKind::Disabled => FailureMode::PoolStopped,
            ReasonKind::QueueFull | ReasonKind::ConnLimit => FailureMode::RequestQueueFull,
            ReasonKind::FieldLength
            | ReasonKind::RequestLength
            | ReasonKind::UrlLength
            | ReasonKind::EntityTooLarge => FailureMode::RequestLimits,
            _ => continue,
        };
        by_key.entry((r.host.clone(), r.queue.clone(), kind)).or_default().push(r);
    }
    for ((host, queue, kind), rows) in by_key {
        for c in clusters(rows, |r| r.time, 900) {
            let min = if kind == FailureMode::PoolStopped { 3 } else { 5 };
            if c.len() < min {
                continue;
            }
            let first = c[0];
            let pool = queue.as_deref();
            if kind == FailureMode::RequestQueueFull && pool.is_some_and(|p| hung(a, &host, p, first.time)) {
                continue; // a hang disguised as load
            }
            let completed = a
                .requests
                .iter()
                .filter(|r| r.host == host && r.time >= first.time && r.time <= c[c.len() - 1].time)
                .count();
            let (severity, text, fix): (Severity, String, &[&'static str]) = match kind {
                FailureMode::PoolStopped => (
                    Severity::High,
                    format!(
                        "{} was stopped: HTTP.sys answered {} requests with 503 Disabled and no worker failure preceded it, so an operator, a script or a deployment tool stopped the pool.",
                        pool.unwrap_or("the pool"),
                        c.len()
                    ),
                    &[
                        "Find who stopped it (IIS Manager, appcmd, PowerShell, deployment scripts; Security 4688 if process auditing is on).",
                        "Start the pool, and keep autoStart on.",
                    ],
                ),
                FailureMode::RequestQueueFull => (
                    Severity::High,
                    format!(
                        "{}'s HTTP.sys queue was full: {} requests were turned away with 503 QueueFull while the requests that got in completed normally, so this is load beyond capacity, not a hang.",
                        pool.unwrap_or("the pool"),
                        c.len()
                    ),
                    &[
                        "Add capacity (servers, queueLength) or shed load upstream.",
                        "Check what sent the burst (clients, retries, bots).",
                    ],
                ),
                _ => (
                    Severity::Medium,
                    format!(
                        "HTTP.sys rejected {} requests for exceeding its size limits ({}) before IIS saw them, typically Kerberos tokens of users in many groups or large cookies.",
                        c.len(),
                        first.phrase
                    ),
                    &[
                        "Raise MaxFieldLength/MaxRequestBytes under HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters, or reduce the users' group memberships/cookie sizes.",
                    ],
                ),
            };
            let mut d = Draft::new(
                kind,
                severity,
                if kind == FailureMode::RequestQueueFull && completed == 0 { 0.6 } else { 0.8 },
                first.time,
                c[c.len() - 1].time,
            )
            .scope(Some(&host), first.site, pool)
            .explain(text, fix);
            for r in c.iter().take(6) {
                d.cite(a.cite_error(r), Role::Effect);
            }
            out.push(d);
        }
    }
}

fn is_static(stem: &str) -> bool {
    [
        ".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg", ".woff", ".woff2", ".json", ".map",
        ".html", ".htm",
    ]
    .iter()
    .any(|e| stem.to_ascii_lowercase().ends_with(e))
}

fn statuses(a: &Store, out: &mut Vec<Draft>) {
    let ancm_events = a.events.iter().any(|e| e.event.family() == Family::Ancm);
    let mut by_key: BTreeMap<(Arc<str>, Option<u32>, FailureMode), Vec<&RequestRow>> = BTreeMap::new();
    for r in &a.requests {
        let Status { code: status, sub, win32 } = r.status;
        let kind = match (status, sub) {
            (500, 19) => FailureMode::ConfigError,
            (500, 21..=24) | (404, 17) | (404, 4) => FailureMode::HandlerMissing,
            (500, 30..=38) | (502, 5) if !ancm_events => FailureMode::AncmStartupFailure,
            (502, 3) => FailureMode::BackendFailure,
            (401, 3) | (404, 3) | (403, 1 | 2) if is_static(&r.stem) => FailureMode::StaticContentFailure,
            (401, 1) if win32 == 2_148_074_252 || win32 == 1326 => FailureMode::AuthFailure,
            (404, 13..=15) | (413, _) => FailureMode::RequestLimits,
            _ => continue,
        };
        by_key.entry((r.host.clone(), r.site, kind)).or_default().push(r);
    }
    for ((host, site, kind), rows) in by_key {
        for c in clusters(rows, |r| r.time, 900) {
            if c.len() < 5 {
                continue;
            }
            let first = c[0];
            let last = c[c.len() - 1];
            let (severity, text, fix): (Severity, String, &[&'static str]) = match kind {
                FailureMode::ConfigError => (
                    Severity::High,
                    format!(
                        "{} requests failed with 500.19 (win32 {}): IIS cannot read or parse the configuration of this path — typically a web.config section for a module that is not installed, a locked section, or an ACL the pool identity cannot read.",
                        c.len(),
                        first.status.win32
                    ),
                    &[
                        "Open the file and line FREB's ConfigExceptionInfo names (or the detailed error page).",
                        "Install the missing module (URL Rewrite, ASP.NET Core hosting bundle) or remove the section; 0x80070005 means grant IIS_IUSRS read access.",
                    ],
                ),
                FailureMode::HandlerMissing => (
                    Severity::High,
                    format!(
                        "{} requests failed with {}.{}: the handler mapping points to a module that is not installed or registered (or dynamic content is mapped to the static handler).",
                        c.len(),
                        first.status.code,
                        first.status.sub
                    ),
                    &[
                        "Install or register the module (ASP.NET 4.x: Windows feature / aspnet_regiis; ASP.NET Core: hosting bundle).",
                        "Check the handler mappings and their preconditions (bitness, managedHandler).",
                    ],
                ),
                FailureMode::AncmStartupFailure => (
                    Severity::Critical,
                    format!(
                        "{} requests failed with {}.{}: the ASP.NET Core application did not start under ANCM.",
                        c.len(),
                        first.status.code,
                        first.status.sub
                    ),
                    &[
                        "Enable stdoutLogEnabled in web.config and read the startup exception; check the runtime and hosting bundle.",
                    ],
                ),
                FailureMode::BackendFailure => (
                    Severity::High,
                    format!(
                        "{} requests failed with 502.3 (WinHTTP {}): the backend behind ANCM or ARR did not answer in time or refused the connection.",
                        c.len(),
                        first.status.win32
                    ),
                    &[
                        "12002 is a timeout (raise requestTimeout or fix the slow backend); 12029/12030 mean the backend is down or recycling.",
                    ],
                ),
                FailureMode::StaticContentFailure => (
                    Severity::Medium,
                    format!(
                        "{} requests for static files failed with {}.{} while dynamic requests worked: static files are read by the anonymous identity (IUSR), not the pool identity, or their handler/MIME map is missing.",
                        c.len(),
                        first.status.code,
                        first.status.sub
                    ),
                    &[
                        "401.3 / 0x80070005: grant IUSR (or the anonymous user) read on the content folder.",
                        "404.3: add the MIME map; 404.4: restore the StaticFile handler.",
                    ],
                ),
                FailureMode::AuthFailure => (
                    Severity::Medium,
                    format!(
                        "{} requests failed authentication with 401.1 (win32 {}): credentials were presented and rejected — beyond the normal 401.2, 401.1 (0x8009030E), 200 handshake.",
                        c.len(),
                        first.status.win32
                    ),
                    &[
                        "Match the failures with Security 4625 on the server (logon type 3 or 8) for the accounts and reasons.",
                        "Check for changed passwords, locked accounts, or SPN problems for Kerberos.",
                    ],
                ),
                _ => (
                    Severity::Medium,
                    format!(
                        "{} requests were rejected by IIS request limits ({}.{}).",
                        c.len(),
                        first.status.code,
                        first.status.sub
                    ),
                    &[
                        "Raise requestFiltering/requestLimits (maxAllowedContentLength, maxUrl, maxQueryString) if the requests are legitimate.",
                    ],
                ),
            };
            let mut d = Draft::new(kind, severity, 0.85, first.start(), last.time)
                .scope(Some(&host), site, None)
                .explain(text, fix);
            for r in c.iter().take(5) {
                d.cite(a.cite_request(r), Role::Effect);
            }
            let code = |s: u16, sub: u32| (first.status.code, first.status.sub) == (s, sub);
            for t in a
                .traces
                .iter()
                .filter(|t| {
                    t.host == host && t.trace.status.is_some_and(|s| code(s, t.trace.substatus.unwrap_or(0)))
                })
                .take(3)
            {
                d.cite(a.cite_trace(t), Role::Cause);
            }
            if kind == FailureMode::AuthFailure {
                for e in a
                    .events_between(Family::SecurityAuditing, &[4625], first.time, last.time)
                    .filter(|e| e.host == host && matches!(e.event.data("LogonType"), Some("3" | "8")))
                    .take(5)
                {
                    d.cite(
                        a.cite_event(
                            e,
                            format!(
                                "Security 4625: logon type {} failed for {} ({})",
                                e.event.data("LogonType").unwrap_or("-"),
                                e.event.data("TargetUserName").unwrap_or("-"),
                                e.event.data("SubStatus").unwrap_or("-")
                            ),
                        ),
                        Role::Cause,
                    );
                }
            }
            out.push(d);
        }
    }
}

/// 500s raised before the application's own code ran: FREB names a module
/// that failed at the start of the pipeline.
fn app_init(a: &Store, out: &mut Vec<Draft>) {
    const INIT_MODULES: &[&str] = &["AspNetInitializationExceptionModule", "IsapiModule", "FastCgiModule"];
    let traces: Vec<_> = a
        .traces
        .iter()
        .filter(|t| {
            t.trace
                .summary
                .first_error
                .as_ref()
                .is_some_and(|e| INIT_MODULES.contains(&e.module.as_str()) && e.status == Some(500))
        })
        .collect();
    for c in clusters(traces, |t| t.trace.time().unwrap_or_default(), 1800) {
        let first = c[0];
        let module = first.trace.summary.first_error.as_ref().map_or("-", |e| e.module.as_str());
        let rows: Vec<&RequestRow> = a
            .requests
            .iter()
            .filter(|r| {
                r.host == first.host
                    && r.status.code == 500
                    && r.status.sub == 0
                    && first
                        .trace
                        .time()
                        .is_some_and(|t| (r.time.0.saturating_sub(t.0)).saturating_abs() <= 1800 * SEC)
            })
            .collect();
        let start = first.trace.time().unwrap_or_default();
        let end = rows.last().map_or(start, |r| r.time);
        let mut d = Draft::new(FailureMode::AppInitFailure, Severity::High, 0.85, start, end)
            .scope(Some(&first.host), first.trace.site_id, first.trace.app_pool.as_deref())
            .explain(
                format!("{} requests got 500.0 before the application's own code ran: FREB shows {module} setting the error at {}. The application failed to initialize (a missing assembly, configuration value or dependency at startup), so its own logging never ran.", rows.len(), first.trace.summary.first_error.as_ref().and_then(|e| e.notification_name.as_deref()).unwrap_or("the start of the pipeline")),
                &["Read the error page FREB kept (GENERAL_RESPONSE_ENTITY_BUFFER) or browse locally for the detailed error.", "Check what changed in the deployment: bin folder, web.config, dependencies reachable at startup."],
            );
        for t in c.iter().take(3) {
            d.cite(a.cite_trace(t), Role::Cause);
        }
        for r in rows.iter().take(5) {
            d.cite(a.cite_request(r), Role::Effect);
        }
        out.push(d);
    }
}

/// Server-side slowness: long requests that completed normally (win32 0),
/// concentrated on some URLs, not explained by a hang.
fn slow(a: &Store, out: &mut Vec<Draft>) {
    let mut by_stem: BTreeMap<(Arc<str>, Option<u32>, Arc<str>), Vec<&RequestRow>> = BTreeMap::new();
    for r in
        a.requests.iter().filter(|r| r.taken >= Span::secs(5) && r.status.win32 == 0 && r.status.code < 400)
    {
        by_stem.entry((r.host.clone(), r.site, r.stem.clone())).or_default().push(r);
    }
    let hangs: Vec<(Option<String>, Timestamp, Timestamp)> = out
        .iter()
        .filter(|d| d.id == FailureMode::WorkerHang)
        .map(|d| (d.scope.host.clone(), d.start, d.end))
        .collect();
    for ((host, site, stem), rows) in by_stem {
        for c in clusters(rows, |r| r.time, 900) {
            if c.len() < 15 {
                continue;
            }
            let (start, end) = (c[0].time, c[c.len() - 1].time);
            if hangs.iter().any(|(h, s, e)| h.as_deref() == Some(&*host) && start <= *e && end >= *s) {
                continue;
            }
            let mut sorted: Vec<i64> = c.iter().map(|r| r.taken.as_millis()).collect();
            sorted.sort_unstable();
            let median = sorted[sorted.len() / 2];
            let mut d = Draft::new(FailureMode::SlowResponses, Severity::Medium, 0.75, start, end)
                .scope(Some(&host), site, None)
                .explain(
                    format!("{} requests to {stem} took {} ms (median) and completed normally (win32 0): the server was slow, not the clients, which would show aborts (64, 995) and large responses.", c.len(), median),
                    &["Profile the endpoint (FREB TIME_TAKEN traces show where the time goes), and check its dependencies (queries, downstream calls)."],
                );
            for r in c.iter().take(5) {
                d.cite(a.cite_request(r), Role::Effect);
            }
            for t in a
                .traces
                .iter()
                .filter(|t| t.host == host && t.trace.failure_reason.as_deref() == Some("TIME_TAKEN"))
                .take(3)
            {
                d.cite(a.cite_trace(t), Role::Cause);
            }
            out.push(d);
        }
    }
}

/// Redirect loops: one client sent round the same redirect again and again.
fn rewrite_loops(a: &Store, out: &mut Vec<Draft>) {
    let mut chains: BTreeMap<(Arc<str>, Arc<str>, Arc<str>), Vec<&RequestRow>> = BTreeMap::new();
    for r in a.requests.iter().filter(|r| matches!(r.status.code, 301 | 302 | 307 | 308)) {
        chains.entry((r.host.clone(), r.client.clone(), r.stem.clone())).or_default().push(r);
    }
    let mut loops: BTreeMap<(Arc<str>, Option<u32>), Vec<&RequestRow>> = BTreeMap::new();
    for ((host, _, _), rows) in chains {
        for c in clusters(rows, |r| r.time, 10) {
            if c.len() >= 10 {
                loops.entry((host.clone(), c[0].site)).or_default().extend(c);
            }
        }
    }
    for ((host, site), mut rows) in loops {
        rows.sort_by_key(|r| (r.time, r.source, r.line));
        let clients: std::collections::BTreeSet<&str> = rows.iter().map(|r| &*r.client).collect();
        let mut d = Draft::new(FailureMode::RewriteLoop, Severity::Medium, 0.85, rows[0].time, rows[rows.len() - 1].time)
            .scope(Some(&host), site, None)
            .explain(
                format!("{} clients were redirected round the same URL ({}) ten times or more in seconds ({} redirects): a rewrite rule keeps matching its own result, typically an HTTP-to-HTTPS rule behind a TLS-offloading load balancer.", clients.len(), rows[0].stem, rows.len()),
                &["Make the rule's condition see the original scheme ({HTTP_X_FORWARDED_PROTO}) or remove it where the load balancer redirects.", "FREB with the Rewrite area shows which rule matched."],
            );
        for r in rows.iter().take(6) {
            d.cite(a.cite_request(r), Role::Effect);
        }
        out.push(d);
    }
}
