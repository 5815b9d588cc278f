//! `config-store-broken`: WAS cannot read applicationHost.config (or the
//! pool configuration it generates), so no pool can start.

use faultline_parser::Span;

use super::kinds::{CONFIG_STORE_BROKEN, POOL_DISABLED};
use super::{Draft, FailureMode, host_clusters, pool};
use crate::evidence::Store;
use crate::finding::{Role, Severity};

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    for c in host_clusters(store.events_of(CONFIG_STORE_BROKEN), Span::mins(10)) {
        let first = c[0];
        let file = first.data("File").unwrap_or("applicationHost.config");
        let mut d = Draft::new(
            FailureMode::ConfigStoreBroken,
            Severity::Critical,
            0.95,
            first.time(),
            c[c.len() - 1].time(),
        )
        .scope(Some(&first.host), None, None)
        .explain(format!(
            "WAS could not read IIS's configuration ({file}): the configuration store every application \
                    pool is built from stopped being valid, so no pool can start and HTTP.sys answers 503 \
                    for every site."
        ));
        for e in &c {
            let what = e.data("ErrorText").or_else(|| pool(e)).unwrap_or("configuration error");
            d.cite(store.cite_event(e, format!("WAS {}: {what}", e.event.event_id)), Role::Cause);
        }
        let (t, w) = (first.time(), Span::mins(5));
        for e in store.events_between(POOL_DISABLED, t - w, t + w).filter(|e| e.host == first.host) {
            d.cite(
                store.cite_event(e, format!("WAS 5002: pool {} disabled", pool(e).unwrap_or("-"))),
                Role::Effect,
            );
        }
        // HTTP.sys answering the pools' requests 503 AppOffline from then
        // until each pool's site served again: how long the outage lasted.
        let queues: std::collections::BTreeSet<&str> = store
            .errors_between(t, faultline_parser::Timestamp(i64::MAX))
            .iter()
            .filter(|r| r.host == first.host && r.reason == faultline_parser::w3c::ReasonKind::AppOffline)
            .filter_map(|r| r.queue.as_deref())
            .collect();
        let mut answered: Vec<&crate::evidence::ErrRow> = queues
            .into_iter()
            .flat_map(|q| super::rapid_fail::offline_from(store, &first.host, q, t))
            .collect();
        answered.sort_by_key(|r| (r.time, r.source, r.line));
        if let Some(last) = store.errors_end(&answered) {
            d.end = d.end.max(last);
            let n = store.errors_counted(&answered);
            d.explanation.push_str(&format!(
                " HTTP.sys answered {n} request{} 503 AppOffline from then until {}.",
                if n == 1 { "" } else { "s" },
                last.to_prose()
            ));
            d.cite_first(answered.iter(), 3, Role::Effect, |r| store.cite_error(r));
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::Given;

    #[test]
    fn an_unreadable_config_store_takes_every_pool_down() {
        let found = Given::new()
            .event(
                "WEB01",
                0,
                "WAS",
                5172,
                &[("File", "\\\\?\\C:\\Windows\\system32\\inetsrv\\config\\applicationHost.config")],
            )
            .event("WEB01", 2, "WAS", 5002, &[("AppPoolID", "ShopPool")])
            .event("WEB01", 3, "WAS", 5002, &[("AppPoolID", "ApiPool")])
            .event("WEB02", 3, "WAS", 5002, &[("AppPoolID", "ApiPool")])
            .detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::ConfigStoreBroken, Severity::Critical));
        assert!(d.explanation.contains("applicationHost.config"), "{}", d.explanation);
        let effects = d.timeline.iter().filter(|s| s.role == Role::Effect).count();
        assert_eq!(effects, 2, "both disabled pools are its effects, and not WEB02's");
    }

    /// HTTP.sys answering 503 AppOffline for hours after says how long the
    /// outage lasted: the finding runs to the last answer and counts them.
    #[test]
    fn the_answers_while_every_pool_is_down_are_the_outages_length() {
        use faultline_parser::w3c::ReasonKind;
        let found = Given::new()
            .event("WEB01", 0, "WAS", 5189, &[])
            .errors(4, "WEB01", 60, 503, ReasonKind::AppOffline, Some("ShopPool"))
            .errors(2, "WEB01", 6 * 3_600, 503, ReasonKind::AppOffline, Some("ShopPool"))
            .detected(detect);
        let d = &found[0];
        assert_eq!(d.end, crate::detect::testing::at(6 * 3_600 + 1));
        assert!(d.explanation.contains("HTTP.sys answered 6 requests 503 AppOffline"), "{}", d.explanation);
    }

    #[test]
    fn pools_disabled_without_a_config_error_are_not_a_broken_store() {
        let found =
            (Given::new().event("WEB01", 2, "WAS", 5002, &[("AppPoolID", "ShopPool")])).detected(detect);
        assert!(found.is_empty());
    }
}
