//! What HTTP.sys turned away before IIS saw it: a stopped pool (503
//! Disabled), a full queue or connection limit under load (503 QueueFull,
//! ConnLimit), requests over its size limits, and a pool WAS took offline
//! (503 AppOffline) when the event that did it is not in the evidence.

use faultline_parser::w3c::ReasonKind;
use faultline_parser::{Span, Timestamp};

use super::kinds::{
    CONFIG_STORE_BROKEN, POOL_DISABLED, POOL_IDENTITY_INVALID, PROCESS_STARTED, WORKER_PING_FAILED,
};
use super::{Draft, FailureMode, clusters, grouped, pool};
use crate::evidence::{ErrRow, EventRow, Store};
use crate::finding::{Role, Severity};

/// The failure mode an HTTP.sys rejection points to, if any.
fn mode_of(reason: ReasonKind) -> Option<FailureMode> {
    Some(match reason {
        ReasonKind::Disabled => FailureMode::PoolStopped,
        // Application errors took the pool offline: rapid-fail protection
        // (or an identity that cannot log on, which WAS also disables).
        ReasonKind::AppOffline => FailureMode::RapidFailProtection,
        ReasonKind::QueueFull | ReasonKind::ConnLimit => FailureMode::RequestQueueFull,
        ReasonKind::FieldLength
        | ReasonKind::RequestLength
        | ReasonKind::UrlLength
        | ReasonKind::EntityTooLarge => FailureMode::RequestLimits,
        _ => return None,
    })
}

/// Whether the pool's worker failed its health ping within ten minutes of
/// `t`: a full queue then is a hang, not load.
fn hung(store: &Store, host: &str, p: &str, t: Timestamp) -> bool {
    store
        .events_between(WORKER_PING_FAILED, t - Span::mins(10), t + Span::mins(10))
        .any(|e| &*e.host == host && pool(e) == Some(p))
}

/// Whether the evidence holds the WAS event that took `pool` offline on
/// `host` for the 503 AppOffline answer at `t` (rapid-fail protection's
/// 5002, an invalid identity, a broken configuration store, with HTTP.sys
/// answering so from then to `t` and the site serving nothing between):
/// the detectors of those events report it.
fn taken_offline_in_evidence(store: &Store, host: &str, p: Option<&str>, t: Timestamp) -> bool {
    [POOL_DISABLED, POOL_IDENTITY_INVALID, CONFIG_STORE_BROKEN].iter().any(|kinds| {
        store.events_between(kinds, Timestamp(i64::MIN), t + Span::secs(2)).any(|e| {
            &*e.host == host
                && match p {
                    // A broken configuration store takes every pool down
                    // (its finding counts the answers).
                    Some(p) => {
                        (pool(e) == Some(p) || CONFIG_STORE_BROKEN.iter().any(|k| k.matches(&e.event)))
                            && super::rapid_fail::offline_from(store, host, p, e.time())
                                .last()
                                .is_some_and(|r| r.time >= t)
                    }
                    None => true,
                }
        })
    })
}

/// Programs that stop and start pools: IIS's own tool and the shells a
/// script or a deployment agent runs it from.
fn manages_pools(image: &str) -> bool {
    let name = image.rsplit(['\\', '/']).next().unwrap_or(image).to_ascii_lowercase();
    matches!(
        name.as_str(),
        "appcmd.exe" | "powershell.exe" | "pwsh.exe" | "cmd.exe" | "inetmgr.exe" | "iisreset.exe"
    )
}

/// The process starts (Security 4688, Sysmon 1) on `host` that likely
/// stopped the pool (in the two minutes before HTTP.sys first refused it)
/// and started it again (in the two minutes before its last refusal or
/// after it), cited with their command lines and accounts.
fn who_stopped(
    store: &Store,
    d: &mut Draft,
    host: &str,
    pool: Option<&str>,
    (first, last): (Timestamp, Timestamp),
) {
    let around = |from: Timestamp, to: Timestamp| {
        store.events_between(PROCESS_STARTED, from, to).filter(|e| {
            &*e.host == host
                && e.data("NewProcessName").or_else(|| e.data("Image")).is_some_and(manages_pools)
        })
    };
    let said = |e: &EventRow| {
        let account = super::subject_account(e)
            .or_else(|| e.data("User").map(str::to_string))
            .unwrap_or_else(|| "-".to_string());
        format!("{} as {account}", e.data("CommandLine").map(str::trim).unwrap_or("-"))
    };
    let says = |e: &EventRow, word: &str| {
        e.data("CommandLine").is_some_and(|c| c.to_ascii_lowercase().contains(word))
    };
    // A line that says stop, else the last such program before.
    let before: Vec<&EventRow> = around(first - Span::mins(2), first).collect();
    let stopped = before.iter().rev().find(|e| says(e, "stop")).or_else(|| before.last());
    let names_pool = |e: &&EventRow| pool.is_some_and(|p| says(e, &p.to_ascii_lowercase()));
    let mut started: Vec<&EventRow> =
        around(last - Span::mins(2), last + Span::mins(2)).filter(|e| says(e, "start")).collect();
    // One naming the pool first.
    started.sort_by_key(|e| !names_pool(e));
    if let Some(e) = stopped {
        d.explanation.push_str(&format!(
            " Just before, at {}, the host ran {}: the likeliest stop.",
            e.time().to_prose(),
            said(e)
        ));
        d.cite(store.cite_event(e, crate::describe::headline(&e.event)), Role::Cause);
    }
    if let Some(e) = started.first() {
        d.explanation.push_str(&format!(
            " At {} it ran {}: the pool started again.",
            e.time().to_prose(),
            said(e)
        ));
        d.cite(store.cite_event(e, crate::describe::headline(&e.event)), Role::Context);
    }
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let rejected = store.errors.iter().filter_map(|r| mode_of(r.reason).map(|mode| (mode, r)));
    for ((host, queue, mode), rows) in grouped(rejected, |(mode, r)| (r.host.clone(), r.queue.clone(), *mode))
    {
        let rows: Vec<&ErrRow> = rows.into_iter().map(|(_, r)| r).collect();
        for c in clusters(rows, |r| r.time, Span::mins(15)) {
            let min = if mode == FailureMode::PoolStopped { 3 } else { 5 };
            // A flood's rows past those a minute keeps count too.
            let n = store.errors_counted(&c);
            if n < min {
                continue;
            }
            let first = c[0];
            let last = store.errors_end(&c).unwrap_or(first.time);
            let pool = queue.as_deref();
            if mode == FailureMode::RequestQueueFull
                && pool.is_some_and(|p| hung(store, &host, p, first.time))
            {
                continue; // a hang disguised as load
            }
            if mode == FailureMode::RapidFailProtection
                && taken_offline_in_evidence(store, &host, pool, first.time)
            {
                continue;
            }
            let completed =
                store.requests_between(first.time, last).iter().filter(|r| r.host == host).count();
            let confidence = if mode == FailureMode::RequestQueueFull && completed == 0 { 0.6 } else { 0.8 };
            let d = Draft::new(mode, Severity::High, confidence, first.time, last).scope(
                Some(&host),
                first.site,
                pool,
            );
            let mut d = match mode {
                FailureMode::PoolStopped => {
                    let mut d = d.explain(format!(
                        "{} was stopped: HTTP.sys answered {} requests with 503 Disabled and no worker failure \
                            preceded it, so an operator, a script or a deployment tool stopped the pool.",
                        pool.unwrap_or("the pool"),
                        n
                    ));
                    who_stopped(store, &mut d, &host, pool, (first.time, last));
                    d
                }
                FailureMode::RapidFailProtection => {
                    let mut d = d.explain(format!(
                        "{} was offline: HTTP.sys answered {} requests with 503 AppOffline from {} to {}, \
                            which it does when WAS has taken the pool offline after its workers failed \
                            (rapid-fail protection) or because its identity could not log on. The WAS event \
                            that did it is not in the evidence read (before --from, or in a System log not \
                            collected): the pool stayed offline until someone started it.",
                        pool.unwrap_or("The pool"),
                        n,
                        first.time.to_prose(),
                        last.to_prose()
                    ));
                    d.severity = Severity::Critical;
                    d.confidence = 0.7;
                    d.also(&[
                        "Read the System log from before the first 503 for WAS 5002 (rapid-fail), 5009/5011 \
                            (worker failures) or 5021/5057/5059 (identity), and the Application log for the \
                            crashes behind them.",
                    ])
                }
                FailureMode::RequestQueueFull => d.explain(format!(
                    "{}'s HTTP.sys queue was full: {} requests were turned away with 503 QueueFull while \
                     the requests that got in completed normally, so this is load beyond capacity, not a \
                     hang.",
                    pool.unwrap_or("the pool"),
                    n
                )),
                _ => {
                    let mut d = d
                        .explain(format!(
                            "HTTP.sys rejected {} requests for exceeding its size limits ({}) before IIS saw \
                            them, typically Kerberos tokens of users in many groups or large cookies.",
                            n, first.phrase
                        ))
                        .remedy(&["Raise MaxFieldLength/MaxRequestBytes under \
                            HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters, or reduce the \
                            users' group memberships/cookie sizes."]);
                    d.severity = Severity::Medium;
                    d
                }
            };
            d.cite_first(c.iter(), 6, Role::Effect, |r| store.cite_error(r));
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::Given;

    #[test]
    fn a_full_queue_while_requests_complete_is_load() {
        let e = Given::new().errors(8, "WEB01", 100, 503, ReasonKind::QueueFull, Some("ShopPool")).requests(
            5,
            "WEB01",
            1,
            100,
            "/",
            (200, 0, 0),
            40,
        );
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].confidence), (FailureMode::RequestQueueFull, 0.8));
    }

    /// A window (`--from`) that starts after WAS disabled the pool still
    /// holds HTTP.sys answering 503 AppOffline: the pool was offline, and
    /// the finding says the event that took it offline is not read. With
    /// that event (WAS 5002) in the evidence, the rapid-fail detector
    /// reports it and this one does not; another pool's 5002 explains
    /// nothing here.
    #[test]
    fn a_pool_offline_whose_disabling_is_not_read_is_still_found() {
        let offline = || Given::new().errors(6, "WEB01", 100, 503, ReasonKind::AppOffline, Some("ShopPool"));
        let found = offline().detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::RapidFailProtection, Severity::Critical));
        assert!(found[0].explanation.contains("is not in the evidence read"), "{}", found[0].explanation);
        let disabled = offline().event("WEB01", 50, "WAS", 5002, &[("AppPoolID", "ShopPool")]);
        assert!(disabled.detected(detect).is_empty());
        let other = offline().event("WEB01", 50, "WAS", 5002, &[("AppPoolID", "ApiPool")]);
        assert_eq!(other.detected(detect).len(), 1);
        // A 5002 days before, its own stretch of 503s long over, is another
        // time the pool was taken offline.
        let long_before = offline()
            .event("WEB01", -3 * 86_400, "WAS", 5002, &[("AppPoolID", "ShopPool")])
            .errors(3, "WEB01", -3 * 86_400 + 10, 503, ReasonKind::AppOffline, Some("ShopPool"))
            .requests(3, "WEB01", 1, -86_400, "/", (200, 0, 0), 10);
        assert_eq!(long_before.detected(detect).len(), 1, "the later stretch's taking offline is not read");
        // Without the site serving between, it is the same stretch.
        let still_off = offline()
            .event("WEB01", -3 * 86_400, "WAS", 5002, &[("AppPoolID", "ShopPool")])
            .errors(3, "WEB01", -3 * 86_400 + 10, 503, ReasonKind::AppOffline, Some("ShopPool"));
        assert!(still_off.detected(detect).is_empty());
    }

    #[test]
    fn a_full_queue_of_a_pool_that_failed_its_ping_is_a_hang_not_load() {
        let e = Given::new().errors(8, "WEB01", 100, 503, ReasonKind::QueueFull, Some("ShopPool")).event(
            "WEB01",
            200,
            "WAS",
            5010,
            &[("AppPoolID", "ShopPool")],
        );
        assert!(e.detected(detect).is_empty());
    }

    /// The appcmd that stopped the pool just before HTTP.sys refused it,
    /// and the one that started it again, are named with their accounts;
    /// a program that manages no pools, or one an hour before, is not.
    #[test]
    fn the_commands_that_stopped_and_started_a_pool_are_named() {
        let run = |e: Given, secs: i64, image: &str, line: &str| {
            e.event(
                "WEB01",
                secs,
                "Microsoft-Windows-Security-Auditing",
                4688,
                &[
                    ("NewProcessName", image),
                    ("CommandLine", line),
                    ("SubjectUserName", "adm"),
                    ("SubjectDomainName", "CONTOSO"),
                ],
            )
        };
        let appcmd = "C:\\Windows\\System32\\inetsrv\\appcmd.exe";
        let e = run(Given::new(), 3_000, appcmd, "appcmd stop apppool /apppool.name:Old").errors(
            3,
            "WEB01",
            6_000,
            503,
            ReasonKind::Disabled,
            Some("ShopPool"),
        );
        let e = run(e, 5_950, "C:\\Windows\\notepad.exe", "notepad stop.txt");
        let e = run(e, 5_980, appcmd, "appcmd stop apppool /apppool.name:ShopPool");
        let e = run(e, 6_010, appcmd, "appcmd start apppool /apppool.name:ShopPool");
        let d = &e.detected(detect)[0];
        assert!(
            d.explanation.contains(
                "ran appcmd stop apppool /apppool.name:ShopPool as CONTOSO\\adm: the likeliest stop"
            ),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation.contains(
                "ran appcmd start apppool /apppool.name:ShopPool as CONTOSO\\adm: the pool started"
            ),
            "{}",
            d.explanation
        );
        assert!(!d.explanation.contains("notepad"));
    }

    #[test]
    fn a_stopped_pool_and_oversized_requests_are_told_apart() {
        let e = Given::new().errors(3, "WEB01", 100, 503, ReasonKind::Disabled, Some("ShopPool")).errors(
            5,
            "WEB01",
            100,
            400,
            ReasonKind::FieldLength,
            None,
        );
        let mut found: Vec<_> = e.detected(detect).into_iter().map(|d| (d.id, d.severity)).collect();
        found.sort();
        assert_eq!(
            found,
            [(FailureMode::PoolStopped, Severity::High), (FailureMode::RequestLimits, Severity::Medium)]
        );
    }

    #[test]
    fn a_few_rejections_are_not_an_incident() {
        let e = Given::new().errors(2, "WEB01", 100, 503, ReasonKind::Disabled, Some("ShopPool")).errors(
            4,
            "WEB01",
            100,
            503,
            ReasonKind::QueueFull,
            Some("ShopPool"),
        );
        assert!(e.detected(detect).is_empty());
    }
}
