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

    #[test]
    fn pools_disabled_without_a_config_error_are_not_a_broken_store() {
        let found =
            (Given::new().event("WEB01", 2, "WAS", 5002, &[("AppPoolID", "ShopPool")])).detected(detect);
        assert!(found.is_empty());
    }
}
