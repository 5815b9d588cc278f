//! `config-store-broken`: WAS cannot read applicationHost.config (or the
//! pool configuration it generates), so no pool can start.

use faultline_parser::Span;

use super::kinds::{CONFIG_STORE_BROKEN, POOL_DISABLED, WORKER_CONFIG_UNREADABLE, WORKER_DIED};
use super::{Draft, FailureMode, host_clusters, pool};
use crate::evidence::{EventRow, Store};
use crate::finding::{Role, Severity};

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let kinds: Vec<_> = CONFIG_STORE_BROKEN.iter().chain(WORKER_CONFIG_UNREADABLE).copied().collect();
    for c in host_clusters(store.events_of(&kinds), Span::mins(10)) {
        let first = c[0];
        // WAS itself failing to read the store (5172, 5189) takes every
        // pool down; a worker that could not read what it was given (2297,
        // 2307, 5203) takes its own pools.
        let store_broke =
            c.iter().find(|e| CONFIG_STORE_BROKEN.iter().any(|k| k.is(e.event.family(), e.event.event_id)));
        // Every pool when WAS could not read the store; the pools the
        // workers' events name otherwise (all, if none names one).
        let named: std::collections::BTreeSet<&str> = c.iter().filter_map(|e| pool(e)).collect();
        let affected = |p: Option<&str>| {
            store_broke.is_some() || named.is_empty() || p.is_some_and(|p| named.contains(p))
        };
        // What followed on the host, as far as rapid-fail and crash
        // findings leave it to this one.
        let (t, until) = (first.time(), c[c.len() - 1].time() + super::module_load::EFFECT_WINDOW);
        let on_host = |e: &&EventRow| e.host == first.host && affected(pool(e));
        let disabled: Vec<&EventRow> =
            store.events_between(POOL_DISABLED, t, until).filter(on_host).collect();
        let died: Vec<&EventRow> = store.events_between(WORKER_DIED, t, until).filter(on_host).collect();
        let (explanation, steps) = match store_broke {
            Some(e) => (
                format!(
                    "WAS could not read IIS's configuration ({}): the configuration store every application \
                        pool is built from stopped being valid, so no pool can start and HTTP.sys answers 503 \
                        for every site.",
                    e.data("File").unwrap_or("applicationHost.config")
                ),
                None,
            ),
            None => {
                let (text, steps) = worker_side(&c, &named);
                (text, Some(steps))
            }
        };
        let severity =
            if store_broke.is_some() || !disabled.is_empty() { Severity::Critical } else { Severity::High };
        let one_pool =
            (store_broke.is_none() && named.len() == 1).then(|| named.iter().copied().next()).flatten();
        let mut d =
            Draft::new(FailureMode::ConfigStoreBroken, severity, 0.95, first.time(), c[c.len() - 1].time())
                .scope(Some(&first.host), None, one_pool)
                .explain(explanation);
        if let Some(steps) = steps {
            d.remediation = steps;
            if !disabled.is_empty() {
                d = d.also(&[
                    "Start the application pools again (they were disabled by rapid-fail protection).",
                ]);
            }
        }
        for e in &c {
            let what = e.data("ErrorText").or_else(|| pool(e)).unwrap_or("configuration error");
            let source = source_name(e);
            d.cite(
                store.cite_event(e, format!("{source} {}: {}", e.event.event_id, what.trim())),
                Role::Cause,
            );
        }
        d.cite_first(died.iter(), 10, Role::Effect, |e| {
            let pid = e.data("ProcessID").unwrap_or("-");
            store.cite_event(
                e,
                format!("WAS {}: worker {pid} of {} failed", e.event.event_id, pool(e).unwrap_or("-")),
            )
        });
        for e in &disabled {
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
            .filter(|q| affected(Some(q)))
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

/// What a worker that could not read its configuration says, and the
/// steps for the file it names: the pool's generated file, applicationHost
/// itself, or .NET's root configuration; an attribute it cannot decrypt
/// needs its key, not the file.
fn worker_side(c: &[&EventRow], pools: &std::collections::BTreeSet<&str>) -> (String, Vec<&'static str>) {
    let pools: Vec<&str> = pools.iter().copied().collect();
    let file = c.iter().find_map(|e| config_file(e));
    let error = c.iter().find_map(|e| e.data("ErrorText")).map(str::trim);
    let mut ids: Vec<String> = c.iter().map(|e| format!("{} {}", source_name(e), e.event.event_id)).collect();
    ids.sort();
    ids.dedup();
    let lower = file.map(str::to_ascii_lowercase).unwrap_or_default();
    let (what, mut steps): (&str, Vec<&'static str>) = if lower.contains("\\temp\\apppools\\") {
        (
            "the configuration WAS generates for the pool under inetpub\\temp\\appPools from \
                applicationHost.config (left unreadable by an update, a scanner or a full disk)",
            vec![
                "Stop WAS and W3SVC, delete the generated pool configurations under \
                    %SystemDrive%\\inetpub\\temp\\appPools, and start them again: WAS writes them anew.",
            ],
        )
    } else if lower.ends_with("applicationhost.config") {
        (
            "applicationHost.config itself",
            vec![
                "Restore applicationHost.config from %SystemDrive%\\inetpub\\history\\CFGHISTORY_* (or fix the line named).",
            ],
        )
    } else if lower.contains("\\microsoft.net\\framework") {
        (
            ".NET Framework's root configuration (machine.config or the root web.config), which every \
                ASP.NET pool of that runtime reads",
            vec![
                "Restore the file named from a healthy server of the same .NET version, or repair .NET Framework.",
            ],
        )
    } else {
        (
            "what IIS's configuration gives it",
            vec![
                "Read the file and line named; restore applicationHost.config from \
                    %SystemDrive%\\inetpub\\history\\CFGHISTORY_* if it was edited.",
            ],
        )
    };
    if error.is_some_and(|e| e.to_ascii_lowercase().contains("decrypt")) {
        steps.insert(
            0,
            "An attribute could not be decrypted: import the configuration key it was encrypted with \
                (aspnet_regiis -pi, as after shared configuration or a cloned server), let the pool's identity \
                (IIS_IUSRS) read the key's container, or enter the encrypted value (a virtual directory's \
                credentials) again.",
        );
    }
    let whose = match pools.as_slice() {
        [] => String::new(),
        [one] => format!(" of {one}"),
        many => format!("s of {}", crate::describe::listed(many, 5)),
    };
    let its = if pools.len() > 1 { "their" } else { "its" };
    let text = format!(
        "The IIS worker{whose} could not read {its} configuration{}{} ({}), so each of {its} workers aborted \
            its start: what stopped being readable is {what}.",
        file.map_or(String::new(), |f| format!(" from {f}")),
        error.map_or(String::new(), |e| format!(": {e}")),
        ids.join(", "),
    );
    (text, steps)
}

/// The event source an event's citation names.
fn source_name(e: &EventRow) -> &'static str {
    if e.event.family() == faultline_parser::winevent::Family::W3svcWp { "W3SVC-WP" } else { "WAS" }
}

/// The configuration file a worker's event names (its pool's generated
/// `.config`, applicationHost.config), whatever the data's names.
fn config_file(e: &crate::evidence::EventRow) -> Option<&str> {
    e.event.data.iter().map(|d| d.value.trim()).find(|v| v.to_ascii_lowercase().ends_with(".config"))
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

    /// A Windows update left DefaultAppPool's generated configuration
    /// unreadable (W3SVC-WP 2307 at each start), and rapid-fail protection
    /// disabled it: one finding naming the pool, the file and the error,
    /// with steps for the generated files; no rapid-fail finding besides.
    #[test]
    fn a_worker_that_cannot_read_its_pools_configuration_is_a_broken_store() {
        let file = "\\\\?\\C:\\inetpub\\temp\\apppools\\DefaultAppPool\\DefaultAppPool.config";
        let mut e = Given::new();
        for i in 0..5 {
            e = e.event(
                "WEB01",
                20 * i,
                "W3SVC-WP",
                2307,
                &[
                    ("AppPoolID", "DefaultAppPool"),
                    ("ErrorText", "Cannot read configuration file\r\n"),
                    ("ConfigPath", file),
                    ("LineNumber", "0"),
                ],
            );
        }
        let e = e.event("WEB01", 95, "WAS", 5002, &[("AppPoolID", "DefaultAppPool")]);
        // Another pool disabled meanwhile is its own incident.
        let other = e.event("WEB01", 100, "WAS", 5002, &[("AppPoolID", "ApiPool")]);
        let all = crate::detect::testing::modes(&other.findings());
        assert_eq!(
            all,
            [FailureMode::ConfigStoreBroken, FailureMode::RapidFailProtection],
            "the disable is its effect, not another pool's"
        );
        let mut e = Given::new();
        e = e.event(
            "WEB01",
            0,
            "W3SVC-WP",
            2307,
            &[
                ("AppPoolID", "DefaultAppPool"),
                ("ErrorText", "Cannot read configuration file"),
                ("ConfigPath", file),
            ],
        );
        let found = e.detected(detect);
        let text = &found[0].explanation;
        assert!(
            text.starts_with("The IIS worker of DefaultAppPool could not read its configuration from ")
                && text.contains("DefaultAppPool.config: Cannot read configuration file (W3SVC-WP"),
            "{text}"
        );
        assert!(found[0].remediation[0].contains("inetpub\\temp\\appPools"), "{:?}", found[0].remediation);
        assert_eq!(
            (found[0].severity, found[0].scope.app_pool.as_deref()),
            (Severity::High, Some("DefaultAppPool"))
        );
        // An attribute it cannot decrypt needs its key first; a pool
        // disabled before the worker's event is none of its doing.
        let found = Given::new()
            .event("WEB01", 0, "WAS", 5002, &[("AppPoolID", "EarlyPool")])
            .event(
                "WEB01",
                240,
                "W3SVC-WP",
                2307,
                &[
                    ("AppPoolID", "Citrix"),
                    ("ErrorText", "Failed to decrypt attribute 'password'"),
                    ("ConfigPath", file),
                ],
            )
            .detected(detect);
        assert!(
            found[0].remediation[0].starts_with("An attribute could not be decrypted"),
            "{:?}",
            found[0].remediation
        );
        assert!(
            found[0].timeline.iter().all(|s| !s.summary.contains("EarlyPool")),
            "{:?}",
            found[0].timeline
        );
    }

    #[test]
    fn pools_disabled_without_a_config_error_are_not_a_broken_store() {
        let found =
            (Given::new().event("WEB01", 2, "WAS", 5002, &[("AppPoolID", "ShopPool")])).detected(detect);
        assert!(found.is_empty());
    }
}
