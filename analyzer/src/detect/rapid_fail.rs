//! `rapid-fail-protection`: repeated worker failures made WAS disable a pool
//! (5002), after which HTTP.sys answers its requests 503 AppOffline itself.

use std::collections::BTreeMap;

use faultline_parser::w3c::ReasonKind;
use faultline_parser::{Span, Timestamp};

use super::kinds::{POOL_DISABLED, WORKER_FAILED, WORKER_START_FAILED};
use super::{Draft, FailureMode, clusters, pool, worker_start};
use crate::evidence::{ErrRow, EventRow, Store};
use crate::finding::{Role, Severity};

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    // Pools disabled after the host's configuration store broke, or after
    // a worker could not load a module or read its configuration, are
    // those findings' effects, not rapid-fail incidents.
    let after_start_failed = |e: &EventRow| super::follows_start_failure(store, e);
    // One finding per pool and host for disables less than an hour apart:
    // a pool disabled again after each restart is one incident.
    let mut per_pool: BTreeMap<(&str, &str), Vec<&EventRow>> = BTreeMap::new();
    for e in store.events_of(POOL_DISABLED).filter(|e| !after_start_failed(e)) {
        per_pool.entry((&e.host, pool(e).unwrap_or("-"))).or_default().push(e);
    }
    let incidents =
        per_pool.into_values().flat_map(|disables| clusters(disables, |e| e.time(), Span::hours(1)));
    for disables in incidents {
        let e = disables[0];
        let p = pool(e).unwrap_or("-");
        let failures: Vec<&EventRow> = store
            .events_between(WORKER_FAILED, e.time() - Span::mins(10), e.time())
            .filter(|f| f.host == e.host && pool(f) == Some(p))
            .collect();
        let offline = offline_from(store, &e.host, p, e.time());
        let last_disable = disables[disables.len() - 1].time();
        let end = store.errors_end(&offline).map_or(last_disable, |t| t.max(last_disable));
        let start = failures.first().unwrap_or(&e).time();
        let confidence = if failures.len() >= 2 { 0.95 } else { 0.8 };
        let mut d = Draft::new(FailureMode::RapidFailProtection, Severity::Critical, confidence, start, end)
            .scope(Some(&e.host), offline.first().and_then(|r| r.site), Some(p))
            .explain(story(p, &failures, e.time(), store.errors_counted(&offline)));
        for f in &failures {
            let pid = f.data("ProcessID").unwrap_or("-");
            d.cite(
                store.cite_event(f, format!("WAS {}: worker {pid} of {p} failed", f.event.event_id)),
                Role::Cause,
            );
        }
        for e in disables.iter().take(5) {
            d.cite(store.cite_event(e, format!("WAS 5002: rapid-fail protection disabled {p}")), Role::Cause);
        }
        let pids: Vec<u32> =
            failures.iter().filter_map(|f| f.data("ProcessID").and_then(|p| p.trim().parse().ok())).collect();
        let (said, why) = start_failures(store, e, p, &pids);
        if let Some(first) = said.first() {
            d.start = d.start.min(first.time());
            d.explanation.push_str(&why);
            d = d.remedy(START_FAILED_STEPS);
        }
        d.cite_first(said.iter(), 10, Role::Cause, |w| store.cite_event(w, worker_start::cited(w)));
        if disables.len() > 1 {
            d.explanation.push_str(&format!(
                " WAS disabled {p} {} times in this incident (each restart failed again).",
                disables.len()
            ));
        }
        d.cite_first(offline.iter(), 5, Role::Effect, |r| store.cite_error(r));
        out.push(d);
    }
}

/// HTTP.sys's 503 AppOffline answers for `pool` on `host` from `from` on,
/// up to the site serving again: a disabled pool stays so until someone
/// starts it, however quiet the night, so only successes of its site (in a
/// minute between two answers) end the stretch; a later one is another
/// time the pool was taken offline.
pub(super) fn offline_from<'s>(store: &'s Store, host: &str, pool: &str, from: Timestamp) -> Vec<&'s ErrRow> {
    let mut out: Vec<&ErrRow> = Vec::new();
    let key: std::sync::Arc<str> = std::sync::Arc::from(host);
    let answered = store.errors_between(from - Span::secs(2), Timestamp(i64::MAX)).iter().filter(|r| {
        &*r.host == host && r.reason == ReasonKind::AppOffline && r.queue.as_deref() == Some(pool)
    });
    for r in answered {
        let last = out.last().map_or(from, |l| l.time);
        // A success of its site in a minute wholly between two answers
        // (the access log counts successes by the minute).
        let between = last.minute() + 1..=r.time.minute() - 1;
        if r.site.is_some() && store.first_served_minute(&key, r.site, between).is_some() {
            break;
        }
        out.push(r);
    }
    out
}

/// What to do when the workers said why they did not start.
const START_FAILED_STEPS: &[&str] = &[
    "Fix what the workers' events name: error 5 is a right the pool's identity lacks (read on \
        C:\\inetpub\\temp\\appPools and the sites' folders for IIS_IUSRS, and the Bypass traverse checking \
        user right), 2 or 3 a file or folder that is not there, 13 a configuration file or setting that is \
        malformed (applicationHost.config, the pool's generated file, .NET's root configuration), 1326 or \
        1385 an identity that cannot log on.",
    "Start the application pool (Start-WebAppPool or IIS Manager) once the cause is fixed: rapid-fail \
        protection leaves it stopped.",
];

/// The workers' own reports of why they did not start, in the ten minutes
/// before the disable `e` of `pool`: those of its workers' processes
/// (`pids`), or where the report names no process, those on its host
/// (said so: another pool's worker may have written them).
fn start_failures<'s>(
    store: &'s Store,
    e: &EventRow,
    pool: &str,
    pids: &[u32],
) -> (Vec<&'s EventRow>, String) {
    let said: Vec<&EventRow> = store
        .events_between(WORKER_START_FAILED, e.time() - Span::mins(10), e.time())
        .filter(|w| w.host == e.host)
        .filter(|w| match worker_start::named(w) {
            (Some(named), _) => named == pool,
            (None, Some(pid)) => pids.contains(&pid),
            (None, None) => true,
        })
        .collect();
    let Some(first) = said.first() else { return (said, String::new()) };
    let own = said.iter().all(|w| worker_start::named(w) != (None, None));
    let error = said.iter().find_map(|w| super::module_load::error_of(w));
    let text = format!(
        " The {} own events say why {}: {} (W3SVC-WP {}{}{}){}.",
        if own { "workers'" } else { "host's workers'" },
        if own { "they did not start" } else { "a worker did not start" },
        worker_start::step(first.event.event_id),
        first.event.event_id,
        error.map_or(String::new(), |c| format!(", {}", worker_start::error(c))),
        if said.len() > 1 { format!(", {} such events", said.len()) } else { String::new() },
        if own { "" } else { "; they name no process, so another pool's worker may have written them" },
    );
    (said, text)
}

/// What a rapid-fail finding says happened, naming what the evidence lacks
/// rather than counting it as zero.
fn story(pool: &str, failures: &[&EventRow], disabled: Timestamp, offline: u64) -> String {
    let plural = |n: i64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let tripped = match failures.first() {
        Some(f) => format!(
            "{} of {pool} in {} tripped rapid-fail protection: WAS disabled the pool (5002)",
            plural(failures.len() as i64, "worker failure"),
            plural((disabled - f.time()).as_mins() + 1, "minute")
        ),
        None => format!(
            "WAS disabled {pool} under rapid-fail protection (5002); the worker failures that tripped it \
                (WAS 5009, 5011, 5012 in the 10 minutes before) are not in the evidence"
        ),
    };
    let answered = match offline {
        0 => "; a disabled pool's requests are answered 503 AppOffline by HTTP.sys itself, and none is in \
            the HTTPERR evidence"
            .to_string(),
        n => format!(
            ", and from then on HTTP.sys answered 503 AppOffline itself ({}) until someone started the pool",
            plural(i64::try_from(n).unwrap_or(i64::MAX), "request")
        ),
    };
    format!(
        "{tripped}{answered}. The pool was assumed to restart itself; after repeated failures IIS stops \
            trying."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    fn failures(mut e: Given, host: &str, pool: &str) -> Given {
        for (i, pid) in ["4711", "4712", "4713", "4714", "4715"].iter().enumerate() {
            e = e.event(host, 10 * i as i64, "WAS", 5011, &[("AppPoolID", pool), ("ProcessID", pid)]);
        }
        e
    }

    #[test]
    fn repeated_failures_then_a_disable_are_rapid_fail_protection() {
        let e = failures(Given::new(), "WEB01", "ShopPool")
            .event("WEB01", 45, "WAS", 5002, &[("AppPoolID", "ShopPool")])
            .errors(4, "WEB01", 50, 503, ReasonKind::AppOffline, Some("ShopPool"))
            .errors(9, "WEB02", 50, 503, ReasonKind::AppOffline, Some("ShopPool"))
            // The same pool name on another server is another story.
            .event("WEB02", 5, "WAS", 5011, &[("AppPoolID", "ShopPool"), ("ProcessID", "99")])
            // The site served again the next day: answers two days later
            // are another time the pool was taken offline.
            .requests(3, "WEB01", 1, 86_400, "/", (200, 0, 0), 10)
            .errors(3, "WEB01", 2 * 86_400, 503, ReasonKind::AppOffline, Some("ShopPool"));
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(
            (d.id, d.severity, d.confidence),
            (FailureMode::RapidFailProtection, Severity::Critical, 0.95)
        );
        assert_eq!((d.start, d.end), (at(0), at(53)));
        assert!(
            d.explanation.starts_with("5 worker failures of ShopPool in 1 minute tripped"),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("(4 requests)"), "{}", d.explanation);
        assert!(!d.evidence.iter().any(|e| e.summary.contains("worker 99")), "WEB02's failure is not cited");
        // Without the site serving in between, a quiet night does not end
        // it: a disabled pool stays disabled until started.
        let quiet = failures(Given::new(), "WEB01", "ShopPool")
            .event("WEB01", 45, "WAS", 5002, &[("AppPoolID", "ShopPool")])
            .errors(4, "WEB01", 50, 503, ReasonKind::AppOffline, Some("ShopPool"))
            .errors(3, "WEB01", 9 * 3_600, 503, ReasonKind::AppOffline, Some("ShopPool"));
        assert_eq!(quiet.detected(detect)[0].end, at(9 * 3_600 + 2));
    }

    /// Workers that failed to initialize (W3SVC-WP 2276, access denied)
    /// before the disable: their events are the finding's causes and say
    /// why; another pool's process, or another host's, is not cited; a
    /// report naming no process is the host's, said so.
    #[test]
    fn the_workers_own_start_failures_say_why_the_pool_was_disabled() {
        let started = |e: Given, host: &str, secs: i64, pid: u32| {
            e.event(host, secs, "Microsoft-Windows-IIS-W3SVC-WP", 2276, &[]).binary("05000000").process(pid)
        };
        let mut e = failures(Given::new(), "WEB01", "ShopPool");
        e = started(e, "WEB01", 9, 4711);
        e = started(e, "WEB01", 19, 4712);
        e = started(e, "WEB01", 29, 9000);
        e = started(e, "WEB02", 29, 4713);
        let found = e.event("WEB01", 45, "WAS", 5002, &[("AppPoolID", "ShopPool")]).detected(detect);
        let d = &found[0];
        assert!(
            d.explanation.contains(
                "The workers' own events say why they did not start: a worker failed to initialize (W3SVC-WP \
                 2276, error 5: access denied, the pool's identity lacks a right it needs, 2 such events)."
            ),
            "{}",
            d.explanation
        );
        let cited = d.evidence.iter().filter(|e| e.summary.starts_with("W3SVC-WP 2276")).count();
        assert_eq!(cited, 2);
        let unnamed = failures(Given::new(), "WEB01", "ShopPool")
            .event("WEB01", 9, "Microsoft-Windows-IIS-W3SVC-WP", 2281, &[])
            .event("WEB01", 45, "WAS", 5002, &[("AppPoolID", "ShopPool")])
            .detected(detect);
        assert!(
            unnamed[0].explanation.contains("another pool's worker may have written them"),
            "{}",
            unnamed[0].explanation
        );
        // 2269 names its pool and process in its data: another pool's is
        // not this one's.
        let other = failures(Given::new(), "WEB01", "ShopPool")
            .positional("WEB01", 9, "Microsoft-Windows-IIS-W3SVC-WP", 2269, &["OtherPool", "7777"])
            .event("WEB01", 45, "WAS", 5002, &[("AppPoolID", "ShopPool")])
            .detected(detect);
        assert!(!other[0].explanation.contains("W3SVC-WP 2269"), "{}", other[0].explanation);
        assert!(other[0].remediation[0].starts_with("Find why the worker keeps dying"));
    }

    #[test]
    fn a_disable_right_after_the_config_store_broke_is_not_rapid_fail() {
        let e = Given::new().event("WEB01", 0, "WAS", 5189, &[]).event(
            "WEB01",
            60,
            "WAS",
            5002,
            &[("AppPoolID", "ShopPool")],
        );
        assert!(e.detected(detect).is_empty());
    }

    #[test]
    fn a_story_names_what_the_evidence_lacks() {
        let none = story("Shop", &[], Timestamp(0), 0);
        assert!(
            none.starts_with("WAS disabled Shop under rapid-fail protection (5002); the worker failures"),
            "{none}"
        );
        assert!(none.contains("none is in the HTTPERR evidence"), "{none}");
        assert!(!none.contains(" 0 "), "{none}");
        let one = story("Shop", &[], Timestamp(0), 1);
        assert!(one.contains("answered 503 AppOffline itself (1 request) until"), "{one}");
    }
}
