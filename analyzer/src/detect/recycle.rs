//! The recycles (formats §5.4): periodic or scheduled ones that cut
//! requests, on configuration change, on request, on idle timeout, because
//! the worker called itself unhealthy, and on the memory limit. Planned or
//! automatic restarts, told apart from crashes by WAS's own reason.

use faultline_parser::Span;
use faultline_parser::w3c::ReasonKind;

use super::kinds::{
    RECYCLE_CONFIG_CHANGE, RECYCLE_IDLE_TIMEOUT, RECYCLE_MEMORY_LIMIT, RECYCLE_ON_DEMAND, RECYCLE_SCHEDULED,
    RECYCLE_UNHEALTHY, SHUTDOWN_TIME_LIMIT, WORKER_UNHEALTHY,
};
use super::{Draft, FailureMode, pool, pool_clusters};
use crate::evidence::{EventKind, EventRow, Store};
use crate::finding::{Role, Severity};

/// A kind of recycle: WAS's events for it, its mode, how bad it is, and
/// what happened to the pool.
struct Recycle {
    events: &'static [EventKind],
    mode: FailureMode,
    severity: Severity,
    what: &'static str,
}

const RECYCLES: &[Recycle] = &[
    Recycle {
        events: RECYCLE_SCHEDULED,
        mode: FailureMode::RecycleScheduled,
        severity: Severity::Low,
        what: "reached its periodic, request-count or scheduled recycle",
    },
    Recycle {
        events: RECYCLE_CONFIG_CHANGE,
        mode: FailureMode::RecycleConfigChange,
        severity: Severity::Low,
        what: "was recycled because its configuration changed",
    },
    Recycle {
        events: RECYCLE_ON_DEMAND,
        mode: FailureMode::RecycleOnDemand,
        severity: Severity::Low,
        what: "was recycled on request (an administrator or a tool)",
    },
    Recycle {
        events: RECYCLE_IDLE_TIMEOUT,
        mode: FailureMode::RecycleIdleTimeout,
        severity: Severity::Low,
        what: "was shut down after its idle timeout, so the next request paid the cold start",
    },
    Recycle {
        events: RECYCLE_UNHEALTHY,
        mode: FailureMode::RecycleUnhealthy,
        severity: Severity::Medium,
        what: "was recycled because the worker reported itself unhealthy",
    },
];

/// A recycle matters when requests were cut by it: aborted (995) in the
/// access log within a few seconds of the event, or, where only HTTP.sys
/// saw it, requests of the pool it answered `503 AppShutdown` or abandoned
/// (the access log of a worker that is going away may never get the row).
fn cut_requests(store: &Store, e: &EventRow) -> usize {
    let (from, to) = (e.time() - Span::secs(1), e.time() + Span::secs(6));
    let aborted =
        store.requests_between(from, to).iter().filter(|r| r.host == e.host && r.status.win32 == 995).count();
    let p = pool(e);
    let refused = store
        .errors_between(from, to)
        .iter()
        .filter(|r| {
            r.host == e.host
                && (r.reason == ReasonKind::AppShutdown || r.reason.is_abandoned())
                && (p.is_none() || r.queue.as_deref() == p)
        })
        .count();
    aborted + refused
}

/// How long after a recycle its old worker may still be finishing its
/// requests: shutdownTimeLimit is 90 s by default, raised by some sites to
/// a few minutes.
const SHUTDOWN_WAIT: Span = Span::mins(10);

/// The WAS 5013 of the worker a recycle `e` shut down: it outlived the
/// pool's shutdownTimeLimit and was killed, with whatever it still ran.
fn killed_after<'s>(store: &'s Store, e: &EventRow) -> Option<&'s EventRow> {
    store
        .events_between(SHUTDOWN_TIME_LIMIT, e.time(), e.time() + SHUTDOWN_WAIT)
        .find(|k| k.host == e.host && pool(k) == pool(e))
}

/// What a recycle did to the requests of its worker: `cut` of them cut
/// at it, or at its kill (`killed`).
fn effect(kind: &Recycle, cut: usize, killed: Option<&EventRow>) -> String {
    if kind.mode == FailureMode::RecycleIdleTimeout {
        return "no request was in flight (WAS shuts down only an idle worker for this)".to_string();
    }
    let cut = match cut {
        0 => String::new(),
        1 => "; 1 request in flight was cut (aborted or refused)".to_string(),
        n => format!("; {n} requests in flight were cut (aborted or refused)"),
    };
    match killed {
        Some(k) => format!(
            "the old worker was still running requests when the pool's shutdownTimeLimit ran out, and WAS \
                killed it at {} (WAS 5013){cut}. If overlapped recycling was off \
                (disallowOverlappingRotation true), no new worker took requests until then: they waited",
            k.time().to_prose()
        ),
        None if cut.is_empty() => "the new worker started cold".to_string(),
        None => format!("the new worker started cold{cut}"),
    }
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    // An ASP.NET Core app that cannot start calls itself unhealthy too:
    // on a host where one failed to start, that is the startup failure's
    // finding.
    let ancm_failing = |host: &str| super::ancm::start_failures(store).any(|e| &*e.host == host);
    for kind in RECYCLES {
        // Routine recycles matter only when they cut requests; the others
        // (on demand, configuration, idle, unhealthy) are notable in themselves.
        let routine = kind.mode == FailureMode::RecycleScheduled;
        let cut = |e: &EventRow| {
            cut_requests(store, e) + killed_after(store, e).map_or(0, |k| cut_requests(store, k))
        };
        let events = store.events_of(kind.events).filter(|e| !routine || cut(e) > 0);
        for c in pool_clusters(events, Span::hours(1)) {
            let first = c[0];
            if kind.mode == FailureMode::RecycleUnhealthy && ancm_failing(&first.host) {
                continue;
            }
            let p = pool(first).unwrap_or("-");
            let killed = killed_after(store, first);
            let mut end = c[c.len() - 1].time() + Span::mins(1);
            // A worker killed with its requests is an outage of those
            // requests, whatever the recycle's reason.
            let severity = if killed.is_some() { kind.severity.max(Severity::Medium) } else { kind.severity };
            let mut d = Draft::new(kind.mode, severity, 0.85, first.time(), end)
                .scope(Some(&first.host), None, Some(p))
                .explain(format!(
                    "{p} {} (WAS {}); {}. A planned or automatic restart, not a crash.",
                    kind.what,
                    first.event.event_id,
                    effect(kind, cut(first), killed)
                ));
            if let Some(k) = killed {
                end = end.max(k.time());
                d.end = end;
                d.cite(
                    store.cite_event(
                        k,
                        format!("WAS 5013: {p}'s old worker outlived shutdownTimeLimit and was killed"),
                    ),
                    Role::Cause,
                );
                d.add_steps(&[
                    "The old worker outlived shutdownTimeLimit: find the long requests it was finishing (the \
                        access log's longest time-taken then), make them shorter or raise shutdownTimeLimit, and \
                        keep overlapped recycling on (disallowOverlappingRotation false) so a new worker serves \
                        meanwhile.",
                ]);
            }
            let t = first.time();
            for w in store
                .events_between(WORKER_UNHEALTHY, t - Span::mins(1), t + Span::mins(1))
                .filter(|w| w.host == first.host)
            {
                let summary =
                    format!("W3SVC-WP {}: the application reported itself unhealthy", w.event.event_id);
                d.cite(store.cite_event(w, summary), Role::Cause);
            }
            for e in &c {
                d.cite(store.cite_event(e, format!("WAS {}: {p} recycled", e.event.event_id)), Role::Cause);
            }
            out.push(d);
        }
    }
    memory_limit(store, out);
}

/// Memory-limit recycles: repeated, the signature of a leak.
fn memory_limit(store: &Store, out: &mut Vec<Draft>) {
    for c in pool_clusters(store.events_of(RECYCLE_MEMORY_LIMIT), Span::hours(6)) {
        let first = c[0];
        let p = pool(first).unwrap_or("-");
        let confidence = if c.len() >= 2 { 0.9 } else { 0.7 };
        let mut d = Draft::new(
            FailureMode::RecycleMemoryLimit,
            Severity::Medium,
            confidence,
            first.time(),
            c[c.len() - 1].time(),
        )
        .scope(Some(&first.host), None, Some(p))
        .explain(format!(
            "{p} hit its memory limit and was recycled {} times (WAS {}): the application's memory grows \
                    until IIS restarts it, the signature of a leak.",
            c.len(),
            first.event.event_id
        ));
        for e in &c {
            d.cite(
                store.cite_event(e, format!("WAS {}: {p} reached its memory limit", e.event.event_id)),
                Role::Cause,
            );
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::Given;

    #[test]
    fn a_scheduled_recycle_matters_only_when_it_cuts_requests() {
        let quiet = Given::new().event("WEB01", 100, "WAS", 5074, &[("AppPoolID", "ShopPool")]);
        assert!(quiet.detected(detect).is_empty(), "a recycle nobody noticed");
        let cut = Given::new().event("WEB01", 100, "WAS", 5074, &[("AppPoolID", "ShopPool")]).request(
            "WEB01",
            1,
            102,
            "/cart",
            (200, 0, 995),
            1_500,
        );
        let found = cut.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::RecycleScheduled, Severity::Low));
    }

    #[test]
    fn a_recycle_that_only_http_sys_saw_cutting_requests_still_matters() {
        let recycle = |e: Given| e.event("WEB01", 100, "WAS", 5074, &[("AppPoolID", "ShopPool")]);
        let shut = recycle(Given::new()).error("WEB01", 101, 503, ReasonKind::AppShutdown, Some("ShopPool"));
        assert_eq!(shut.detected(detect).len(), 1);
        let other_pool = recycle(Given::new()).error(
            "WEB01",
            101,
            503,
            ReasonKind::ConnectionAbandonedByReqQueue,
            Some("ApiPool"),
        );
        assert!(other_pool.detected(detect).is_empty(), "another pool's requests");
    }

    /// A worker that outlives shutdownTimeLimit is killed with its
    /// requests, a minute and a half after its recycle: the recycle cut
    /// them; another pool's kill cuts nothing of this one's.
    #[test]
    fn a_scheduled_recycle_whose_old_worker_is_killed_cutting_requests_is_medium() {
        let recycle = |e: Given| e.event("WEB15", 100, "WAS", 5076, &[("AppPoolID", "ReportsPool")]);
        let killed = |e: Given, pool: &str| {
            e.event("WEB15", 190, "WAS", 5013, &[("AppPoolID", pool), ("ProcessID", "5816")]).error(
                "WEB15",
                190,
                503,
                ReasonKind::ConnectionAbandonedByReqQueue,
                Some("ReportsPool"),
            )
        };
        let found = killed(recycle(Given::new()), "ReportsPool").detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::RecycleScheduled, Severity::Medium));
        assert!(found[0].explanation.contains("WAS killed it at"), "{}", found[0].explanation);
        assert!(found[0].explanation.contains("1 request in flight was cut"), "{}", found[0].explanation);
        assert!(found[0].remediation.iter().any(|s| s.contains("shutdownTimeLimit")));
        assert!(killed(recycle(Given::new()), "ApiPool").detected(detect).is_empty(), "another pool's kill");
    }

    /// An idle worker has no request to cut: its shutdown says so.
    #[test]
    fn an_idle_timeout_shutdown_cuts_no_request() {
        let idle = Given::new().event("WEB20", 100, "WAS", 5186, &[("AppPoolID", "IntranetPool")]);
        let found = idle.detected(detect);
        assert_eq!(found.len(), 1);
        assert!(found[0].explanation.contains("no request was in flight"), "{}", found[0].explanation);
        assert!(!found[0].explanation.contains("were cut"));
    }

    #[test]
    fn recycles_on_request_and_on_configuration_change_are_told_apart() {
        let e = Given::new().event("WEB01", 100, "WAS", 5079, &[("AppPoolID", "ShopPool")]).event(
            "WEB02",
            100,
            "WAS",
            5080,
            &[("AppPoolID", "ShopPool")],
        );
        let found = e.detected(detect);
        let modes: Vec<_> = found.iter().map(|d| (d.id, d.scope.host.clone())).collect();
        assert_eq!(
            modes,
            [
                (FailureMode::RecycleConfigChange, Some("WEB02".to_string())),
                (FailureMode::RecycleOnDemand, Some("WEB01".to_string()))
            ]
        );
    }

    #[test]
    fn an_unhealthy_recycle_of_an_app_that_cannot_start_is_left_to_the_startup_failure() {
        let unhealthy = Given::new().event("WEB01", 95, "W3SVC-WP", 2299, &[]).event(
            "WEB01",
            100,
            "WAS",
            5078,
            &[("AppPoolID", "CorePool")],
        );
        let found = unhealthy.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].timeline.len(), 2, "the worker's own report is its cause");
        let starting = Given::new().event("WEB01", 90, "IIS AspNetCore Module V2", 1011, &[]).event(
            "WEB01",
            100,
            "WAS",
            5078,
            &[("AppPoolID", "CorePool")],
        );
        assert!(starting.detected(detect).is_empty());
    }

    #[test]
    fn recycles_of_two_pools_or_two_hosts_are_findings_of_their_own() {
        let e = Given::new()
            .event("WEB01", 100, "WAS", 5079, &[("AppPoolID", "ShopPool")])
            .event("WEB01", 200, "WAS", 5079, &[("AppPoolID", "ApiPool")])
            .event("WEB02", 300, "WAS", 5079, &[("AppPoolID", "ShopPool")]);
        let found: Vec<_> = e
            .detected(detect)
            .into_iter()
            .map(|d| (d.scope.host.unwrap_or_default(), d.scope.app_pool))
            .collect();
        assert_eq!(
            found,
            [
                ("WEB01".to_string(), Some("ApiPool".to_string())),
                ("WEB01".to_string(), Some("ShopPool".to_string())),
                ("WEB02".to_string(), Some("ShopPool".to_string())),
            ]
        );
    }

    #[test]
    fn repeated_memory_limit_recycles_are_a_leak() {
        let e = Given::new().event("WEB01", 0, "WAS", 5117, &[("AppPoolID", "ShopPool")]).event(
            "WEB01",
            3_600,
            "WAS",
            5117,
            &[("AppPoolID", "ShopPool")],
        );
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].confidence), (FailureMode::RecycleMemoryLimit, 0.9));
    }
}
