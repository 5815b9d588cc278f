//! `worker-hang`: the worker stopped answering WAS's health ping (5010)
//! while time-taken climbed and requests waited in HTTP.sys's queue:
//! completions stopped, so this is a hang or thread-pool starvation, not
//! load.

use faultline_parser::Span;
use faultline_parser::w3c::ReasonKind;

use super::kinds::WORKER_PING_FAILED;
use super::{Draft, FailureMode, pool};
use crate::evidence::Store;
use crate::finding::{Role, Severity};

/// Requests this slow, in the ten minutes before the ping failed, were
/// caught in the hang.
const HUNG_REQUEST: Span = Span::secs(10);

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    for e in store.events_of(WORKER_PING_FAILED) {
        let p = pool(e).unwrap_or("-");
        let t = e.time();
        let queued: Vec<_> = store
            .errors_between(t - Span::mins(10), t + Span::mins(1))
            .iter()
            .filter(|r| {
                r.host == e.host
                    && r.queue.as_deref() == Some(p)
                    && matches!(
                        r.reason,
                        ReasonKind::TimerAppPool | ReasonKind::TimerReqQueue | ReasonKind::QueueFull
                    )
            })
            .collect();
        let slow: Vec<_> = store
            .requests_between(t - Span::mins(10), t)
            .iter()
            .filter(|r| r.host == e.host && r.taken >= HUNG_REQUEST)
            .collect();
        let start = slow.first().map_or(t, |r| r.start());
        let mut d = Draft::new(FailureMode::WorkerHang, Severity::High, 0.9, start, t + Span::secs(10))
            .scope(Some(&e.host), slow.first().and_then(|r| r.site), Some(p))
            .explain(format!(
                "The worker of {p} stopped answering: time-taken climbed ({} requests over 10 s), requests \
                    waited in HTTP.sys's queue ({} timed out or refused), and WAS killed it for failing its \
                    health ping (5010). Completions stopped, so this is a hang or thread-pool starvation, \
                    not load.",
                slow.len(),
                store.errors_counted(&queued)
            ));
        d.cite_first(slow.iter(), 5, Role::Cause, |r| store.cite_request(r));
        d.cite_first(queued.iter(), 5, Role::Effect, |r| store.cite_error(r));
        let pid = e.data("ProcessID").unwrap_or("-");
        d.cite(
            store.cite_event(e, format!("WAS 5010: worker {pid} of {p} failed to respond to a ping")),
            Role::Effect,
        );
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    #[test]
    fn a_failed_ping_after_climbing_time_taken_is_a_hang() {
        let e = Given::new()
            .requests(6, "WEB01", 1, 100, "/checkout", (200, 0, 0), 30_000)
            .requests(3, "WEB01", 1, 110, "/fast", (200, 0, 0), 40)
            .errors(4, "WEB01", 200, 503, ReasonKind::TimerReqQueue, Some("ShopPool"))
            .event("WEB01", 300, "WAS", 5010, &[("AppPoolID", "ShopPool"), ("ProcessID", "4242")]);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.scope.app_pool.as_deref()), (FailureMode::WorkerHang, Some("ShopPool")));
        assert_eq!((d.start, d.end), (at(70), at(310)), "from the first slow request's start");
        assert!(d.explanation.contains("(6 requests over 10 s)") && d.explanation.contains("(4 timed out"));
    }

    #[test]
    fn slow_requests_without_a_failed_ping_are_not_a_hang() {
        let e = Given::new().requests(20, "WEB01", 1, 100, "/report", (200, 0, 0), 30_000);
        assert!(e.detected(detect).is_empty());
    }
}
