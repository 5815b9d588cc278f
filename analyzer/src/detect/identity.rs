//! `identity-logon-failure`: a pool's identity cannot log on (its password
//! or rights changed outside IIS), so WAS disables the pool (5021, 5057,
//! 5059) and HTTP.sys answers 503; Security 4625 names the account.

use faultline_parser::Span;

use super::kinds::{
    LOGON_FAILED, POOL_IDENTITY_INVALID, RECYCLE_CONFIG_CHANGE, RECYCLE_ON_DEMAND, RECYCLE_SCHEDULED,
};
use super::{Draft, FailureMode, hex_u32, pool, pool_clusters};
use crate::evidence::Store;
use crate::finding::{Role, Severity};

/// NTSTATUS 0xC000015B: the user has not been granted the requested
/// logon type (a worker logs on as a batch job).
const LOGON_TYPE_NOT_GRANTED: u32 = 0xC000_015B;

fn is_zero(code: &str) -> bool {
    hex_u32(code) == Some(0)
}

/// What a 4625 status says of an account that could not log on.
fn logon_failure(code: &str) -> Option<&'static str> {
    Some(match hex_u32(code)? {
        0xC000_006A | 0xC000_006D => "wrong password",
        0xC000_0064 => "no such account",
        0xC000_0072 => "account disabled",
        0xC000_0193 => "account expired",
        0xC000_0071 | 0xC000_0224 => "password expired or must be changed",
        0xC000_0234 => "account locked out",
        0xC000_006F | 0xC000_0070 => "outside its allowed logon hours or workstations",
        LOGON_TYPE_NOT_GRANTED => "the account is not granted this logon type ('Log on as a batch job')",
        _ => return None,
    })
}

/// HTTP.sys's refusals of a disabled pool further apart than this are
/// not one outage: the pool was started again between them.
const REFUSALS_APART: Span = Span::mins(15);

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
        // The reason is the SubStatus, or the Status where the SubStatus
        // is 0 (a logon type not granted sets only the Status).
        let reason = logons.first().and_then(|l| {
            let code = |name| l.data(name).map(str::trim).filter(|v| !v.is_empty() && !is_zero(v));
            code("SubStatus").map(|c| ("SubStatus", c)).or_else(|| code("Status").map(|c| ("Status", c)))
        });
        let why = reason.map_or(String::new(), |(field, code)| {
            format!(
                " (4625 {field} {code}{})",
                logon_failure(code).map_or(String::new(), |m| format!(": {m}"))
            )
        });
        let not_granted = reason.is_some_and(|(_, code)| hex_u32(code) == Some(LOGON_TYPE_NOT_GRANTED));
        // HTTP.sys's 503s for the pool from the disable on, while they keep
        // coming (until the pool was started again): the outage's length,
        // and the site HTTP.sys names.
        let mut refused: Vec<&crate::evidence::ErrRow> = Vec::new();
        for r in store.errors_between(t - Span::mins(1), t + Span::hours(7 * 24)) {
            if r.host != first.host || r.queue.as_deref() != Some(p) || r.status != Some(503) {
                continue;
            }
            if refused.last().map_or(t, |l| l.time) + REFUSALS_APART < r.time {
                break;
            }
            refused.push(r);
        }
        let site = refused.iter().find_map(|r| r.site);
        let refused_until = refused.last().map(|r| r.time);
        let refused_count = store.errors_counted(&refused);
        // What made the pool start a worker, which then had to log on: a
        // running worker keeps its logon, so a password changed outside IIS
        // fails only at the next start.
        let started_by = store
            .events_between(RECYCLE_SCHEDULED, t - Span::mins(5), t)
            .chain(store.events_between(RECYCLE_CONFIG_CHANGE, t - Span::mins(5), t))
            .chain(store.events_between(RECYCLE_ON_DEMAND, t - Span::mins(5), t))
            .filter(|e| e.host == first.host && pool(e) == Some(p))
            .max_by_key(|e| e.time());
        let confidence = if logons.is_empty() { 0.8 } else { 0.95 };
        let disabled = c[c.len() - 1].time();
        let end = refused_until.map_or(disabled, |u| u.max(disabled));
        let mut d = Draft::new(FailureMode::IdentityLogonFailure, Severity::Critical, confidence, t, end)
            .scope(Some(&first.host), site, Some(p))
            .explain(format!(
                "{p} cannot start because its identity {account} cannot log on{why}: the account's {} \
                    changed outside IIS, WAS disabled the pool, and HTTP.sys answered 503 \
                    ({refused_count} requests{}).",
                if not_granted { "rights" } else { "password or rights" },
                refused_until.map_or(String::new(), |u| format!(", the last at {}", u.to_prose()))
            ));
        if not_granted {
            d = d.remedy(&[
                "Give the account 'Log on as a batch job' (SeBatchLogonRight) again: a Group Policy that sets this \
                    right replaces the local list, so it must name the account or IIS_IUSRS; then gpupdate /force.",
                "Start the pool again.",
            ]);
        }
        if let Some(r) = started_by {
            d.explanation.push_str(&format!(
                " It began when the pool was recycled at {} (WAS {}): the new worker had to log on with the \
                    changed password, while the old one had kept running on its earlier logon.",
                r.time().to_prose(),
                r.event.event_id
            ));
            d.cite(store.cite_event(r, format!("WAS {}: {p} recycled", r.event.event_id)), Role::Cause);
        }
        d.cite_first(refused.iter(), 3, Role::Effect, |r| store.cite_error(r));
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
            d.explanation
                .contains("identity svc-shop cannot log on (4625 SubStatus 0xC000006A: wrong password)"),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("(7 requests, the last at"), "{}", d.explanation);
        assert!(!d.evidence.iter().any(|e| e.summary.contains("bob")));
    }

    /// The outage lasts while HTTP.sys refuses the pool's requests, on the
    /// site it names; refusals of another day are another outage's. The
    /// recycle that made the pool start a worker is its trigger.
    #[test]
    fn the_outage_lasts_while_http_sys_refuses_the_pools_requests() {
        let e = Given::new()
            .event("WEB01", 98, "WAS", 5074, &[("AppPoolID", "OrdersPool")])
            .event("WEB01", 100, "WAS", 5057, &[("AppPoolID", "OrdersPool")])
            .errors(5, "WEB01", 110, 503, ReasonKind::AppOffline, Some("OrdersPool"))
            .errors(5, "WEB01", 600, 503, ReasonKind::AppOffline, Some("OrdersPool"))
            .errors(5, "WEB01", 90_000, 503, ReasonKind::AppOffline, Some("OrdersPool"));
        let d = &e.detected(detect)[0];
        assert_eq!(d.end, crate::detect::testing::at(604), "to the last refusal of the run");
        assert!(d.explanation.contains("(10 requests, the last at"), "{}", d.explanation);
        assert!(d.explanation.contains("It began when the pool was recycled at"), "{}", d.explanation);
    }

    /// A logon type not granted sets only the Status (SubStatus 0x0): the
    /// right was taken away, not the password changed, and the steps say
    /// how to give it back.
    #[test]
    fn a_batch_logon_right_taken_away_is_not_a_password() {
        let e = Given::new()
            .event(
                "WEB01",
                95,
                "Microsoft-Windows-Security-Auditing",
                4625,
                &[
                    ("TargetUserName", "svc-shop"),
                    ("LogonType", "4"),
                    ("Status", "0xC000015B"),
                    ("SubStatus", "0x0"),
                ],
            )
            .event("WEB01", 100, "WAS", 5021, &[("AppPoolID", "ShopPool")]);
        let d = &e.detected(detect)[0];
        assert!(
            d.explanation.contains("(4625 Status 0xC000015B: the account is not granted"),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("the account's rights changed"), "{}", d.explanation);
        assert!(d.remediation[0].contains("SeBatchLogonRight"), "{:?}", d.remediation);
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
