//! `identity-logon-failure`: a pool's identity cannot log on (its password
//! or rights changed outside IIS), so WAS disables the pool (5021, 5057,
//! 5059) and HTTP.sys answers 503; Security 4625 names the account.

use faultline_parser::Span;

use super::kinds::{LOGON_FAILED, POOL_IDENTITY_INVALID};
use super::{Draft, FailureMode, pool, pool_clusters};
use crate::evidence::Store;
use crate::finding::{Role, Severity};

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    for c in pool_clusters(store.events_of(POOL_IDENTITY_INVALID), Span::mins(30)) {
        let first = c[0];
        let p = pool(first).unwrap_or("-");
        let (t, w) = (first.time(), Span::mins(10));
        // Batch (4) and service (5) logons are how a worker starts.
        let logons: Vec<_> = store
            .events_between(LOGON_FAILED, t - w, t + w)
            .filter(|e| e.host == first.host && matches!(e.data("LogonType"), Some("4" | "5")))
            .collect();
        let account = logons.first().and_then(|l| l.data("TargetUserName")).unwrap_or("the pool's identity");
        let why = logons
            .first()
            .and_then(|l| l.data("SubStatus"))
            .map_or(String::new(), |s| format!(" (4625 SubStatus {s})"));
        let refused: Vec<&crate::evidence::ErrRow> = store
            .errors
            .iter()
            .filter(|r| r.host == first.host && r.queue.as_deref() == Some(p) && r.status == Some(503))
            .collect();
        let refused = store.errors_counted(&refused);
        let confidence = if logons.is_empty() { 0.8 } else { 0.95 };
        let mut d = Draft::new(
            FailureMode::IdentityLogonFailure,
            Severity::Critical,
            confidence,
            t,
            c[c.len() - 1].time(),
        )
        .scope(Some(&first.host), None, Some(p))
        .explain(format!(
            "{p} cannot start because its identity {account} cannot log on{why}: the account's password \
                    or rights changed outside IIS, WAS disabled the pool, and HTTP.sys answered 503 \
                    ({refused} requests)."
        ));
        for l in logons.iter().take(5) {
            let summary = format!(
                "Security 4625: logon type {} failed for {}",
                l.data("LogonType").unwrap_or("-"),
                l.data("TargetUserName").unwrap_or("-")
            );
            d.cite(store.cite_event(l, summary), Role::Cause);
        }
        for e in &c {
            d.cite(
                store
                    .cite_event(e, format!("WAS {}: {p} identity invalid / pool disabled", e.event.event_id)),
                Role::Effect,
            );
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use faultline_parser::w3c::ReasonKind;

    use super::*;
    use crate::detect::testing::Given;

    #[test]
    fn a_pool_whose_identity_cannot_log_on_names_the_account() {
        let e = Given::new()
            .event(
                "WEB01",
                95,
                "Microsoft-Windows-Security-Auditing",
                4625,
                &[("TargetUserName", "svc-shop"), ("LogonType", "4"), ("SubStatus", "0xC000006A")],
            )
            // A user's failed network logon is not the pool's.
            .event(
                "WEB01",
                96,
                "Microsoft-Windows-Security-Auditing",
                4625,
                &[("TargetUserName", "bob"), ("LogonType", "3")],
            )
            .event("WEB01", 100, "WAS", 5021, &[("AppPoolID", "ShopPool")])
            .errors(7, "WEB01", 110, 503, ReasonKind::AppOffline, Some("ShopPool"));
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.confidence), (FailureMode::IdentityLogonFailure, 0.95));
        assert!(
            d.explanation.contains("identity svc-shop cannot log on (4625 SubStatus 0xC000006A)"),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("(7 requests)"), "{}", d.explanation);
        assert!(!d.evidence.iter().any(|e| e.summary.contains("bob")));
    }

    #[test]
    fn two_pools_failing_on_two_hosts_are_four_findings() {
        let mut e = Given::new();
        for (host, pool) in
            [("WEB01", "ShopPool"), ("WEB01", "ApiPool"), ("WEB02", "ShopPool"), ("WEB02", "ApiPool")]
        {
            e = e.event(host, 100, "WAS", 5057, &[("AppPoolID", pool)]);
        }
        let found = e.detected(detect);
        let scopes: Vec<_> = found.iter().map(|d| (d.scope.host.clone(), d.scope.app_pool.clone())).collect();
        assert_eq!(scopes.len(), 4, "{scopes:?}");
    }

    #[test]
    fn failed_logons_alone_are_not_a_pool_identity_failure() {
        let e = Given::new().event(
            "WEB01",
            95,
            "Microsoft-Windows-Security-Auditing",
            4625,
            &[("TargetUserName", "svc-shop"), ("LogonType", "4")],
        );
        assert!(e.detected(detect).is_empty());
    }
}
