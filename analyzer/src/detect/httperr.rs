//! What HTTP.sys turned away before IIS saw it: a stopped pool (503
//! Disabled), a full queue or connection limit under load (503 QueueFull,
//! ConnLimit), and requests over its size limits.

use faultline_parser::w3c::ReasonKind;
use faultline_parser::{Span, Timestamp};

use super::kinds::WORKER_PING_FAILED;
use super::{Draft, FailureMode, clusters, grouped, pool};
use crate::evidence::{ErrRow, Store};
use crate::finding::{Role, Severity};

/// The failure mode an HTTP.sys rejection points to, if any.
fn mode_of(reason: ReasonKind) -> Option<FailureMode> {
    Some(match reason {
        ReasonKind::Disabled => FailureMode::PoolStopped,
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

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let rejected = store.errors.iter().filter_map(|r| mode_of(r.reason).map(|mode| (mode, r)));
    for ((host, queue, mode), rows) in grouped(rejected, |(mode, r)| (r.host.clone(), r.queue.clone(), *mode))
    {
        let rows: Vec<&ErrRow> = rows.into_iter().map(|(_, r)| r).collect();
        for c in clusters(rows, |r| r.time, Span::mins(15)) {
            let min = if mode == FailureMode::PoolStopped { 3 } else { 5 };
            if c.len() < min {
                continue;
            }
            let (first, last) = (c[0], c[c.len() - 1]);
            let pool = queue.as_deref();
            if mode == FailureMode::RequestQueueFull
                && pool.is_some_and(|p| hung(store, &host, p, first.time))
            {
                continue; // a hang disguised as load
            }
            let completed =
                store.requests_between(first.time, last.time).iter().filter(|r| r.host == host).count();
            let confidence = if mode == FailureMode::RequestQueueFull && completed == 0 { 0.6 } else { 0.8 };
            let d = Draft::new(mode, Severity::High, confidence, first.time, last.time).scope(
                Some(&host),
                first.site,
                pool,
            );
            let mut d = match mode {
                FailureMode::PoolStopped => d.explain(format!(
                    "{} was stopped: HTTP.sys answered {} requests with 503 Disabled and no worker failure \
                        preceded it, so an operator, a script or a deployment tool stopped the pool.",
                    pool.unwrap_or("the pool"),
                    c.len()
                )),
                FailureMode::RequestQueueFull => d.explain(format!(
                    "{}'s HTTP.sys queue was full: {} requests were turned away with 503 QueueFull while \
                     the requests that got in completed normally, so this is load beyond capacity, not a \
                     hang.",
                    pool.unwrap_or("the pool"),
                    c.len()
                )),
                _ => {
                    let mut d = d
                        .explain(format!(
                            "HTTP.sys rejected {} requests for exceeding its size limits ({}) before IIS saw \
                            them, typically Kerberos tokens of users in many groups or large cookies.",
                            c.len(),
                            first.phrase
                        ))
                        .remedy(&["Raise MaxFieldLength/MaxRequestBytes under \
                            HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters, or reduce the \
                            users' group memberships/cookie sizes."]);
                    d.severity = Severity::Medium;
                    d
                }
            };
            d.cite_all(c.iter().take(6).map(|r| store.cite_error(r)), Role::Effect);
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
