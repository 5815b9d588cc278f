//! The recycles (formats §5.4): periodic or scheduled ones that cut
//! requests, on configuration change, on request, on idle timeout, because
//! the worker called itself unhealthy, and on the memory limit. Planned or
//! automatic restarts, told apart from crashes by WAS's own reason.

use faultline_parser::Span;
use faultline_parser::w3c::ReasonKind;

use super::kinds::{
    RECYCLE_CONFIG_CHANGE, RECYCLE_IDLE_TIMEOUT, RECYCLE_MEMORY_LIMIT, RECYCLE_ON_DEMAND, RECYCLE_SCHEDULED,
    RECYCLE_UNHEALTHY, WORKER_UNHEALTHY,
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
fn cut_requests(store: &Store, e: &EventRow) -> bool {
    let (from, to) = (e.time() - Span::secs(1), e.time() + Span::secs(6));
    let aborted = store.requests_between(from, to).iter().any(|r| r.host == e.host && r.status.win32 == 995);
    let p = pool(e);
    let refused = store.errors_between(from, to).iter().any(|r| {
        r.host == e.host
            && (r.reason == ReasonKind::AppShutdown || r.reason.is_abandoned())
            && (p.is_none() || r.queue.as_deref() == p)
    });
    aborted || refused
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
        let events = store.events_of(kind.events).filter(|e| !routine || cut_requests(store, e));
        for c in pool_clusters(events, Span::hours(1)) {
            let first = c[0];
            if kind.mode == FailureMode::RecycleUnhealthy && ancm_failing(&first.host) {
                continue;
            }
            let p = pool(first).unwrap_or("-");
            let end = c[c.len() - 1].time() + Span::mins(1);
            let mut d = Draft::new(kind.mode, kind.severity, 0.85, first.time(), end)
                .scope(Some(&first.host), None, Some(p))
                .explain(format!(
                    "{p} {} (WAS {}); requests in flight were aborted and the new worker started cold. A \
                        planned or automatic restart, not a crash.",
                    kind.what, first.event.event_id
                ));
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
