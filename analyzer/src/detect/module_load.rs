//! `handler-missing` from the worker's own events: it could not load a
//! native module IIS's configuration names (W3SVC-WP 2280; 2282 for the
//! wrong processor architecture; 2293, 2295 and 2296 when the DLL loaded
//! but would not register). Native modules are loaded as each worker
//! starts, so every worker of the pools that load it fails at start: WAS
//! then disables those pools (rapid-fail protection, 5002) and HTTP.sys
//! answers their requests 503 itself. The pool disabling is this finding's
//! effect, not a rapid-fail incident of its own.

use std::collections::BTreeSet;
use std::sync::Arc;

use faultline_parser::{Span, Timestamp};

use super::kinds::{MODULE_LOAD_FAILED, POOL_DISABLED, WORKER_FAILED};
use super::{Draft, FailureMode, clusters, grouped, pool};
use crate::describe::listed;
use crate::evidence::{EventRow, Store};
use crate::finding::{Role, Severity};

/// Pools disabled, and workers failing, this long after a module failed to
/// load on the same host are its effects: WAS disables a pool after five
/// failed starts within five minutes by default.
pub(super) const EFFECT_WINDOW: Span = Span::mins(10);

/// Failures to load the same DLL less than this apart are one incident.
const INCIDENT_GAP: Span = Span::hours(1);

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let failures: Vec<&EventRow> = store.events_of(MODULE_LOAD_FAILED).collect();
    let by_module = grouped(failures, |e| (e.host.clone(), module_of(e).map(str::to_ascii_lowercase)));
    for ((host, _), list) in by_module {
        for incident in clusters(list, |e| e.time(), INCIDENT_GAP) {
            out.push(finding(store, &host, &incident));
        }
    }
}

/// Whether a worker event on `host` at `time` (a pool disabled, a worker
/// that died) followed a module's failure to load there: the module
/// finding's effect.
fn follows_module_failure(store: &Store, host: &str, time: Timestamp) -> bool {
    store.events_between(MODULE_LOAD_FAILED, time - EFFECT_WINDOW, time).any(|m| &*m.host == host)
}

/// The module DLL (or module name) an event names.
fn module_of(e: &EventRow) -> Option<&str> {
    e.data("ModuleDll").or_else(|| e.data("ModuleName")).or_else(|| e.event.data.first().map(|d| &*d.value))
}

/// The Win32 error an event's binary data holds ("The data is the error":
/// four bytes, little-endian; an HRESULT wrapping a Win32 error is
/// unwrapped).
fn error_of(e: &EventRow) -> Option<u32> {
    let hex = e.event.binary.as_deref()?.get(..8)?;
    let code = u32::from_str_radix(hex, 16).ok()?.swap_bytes();
    Some(if code & 0xFFFF_0000 == 0x8007_0000 { code & 0xFFFF } else { code })
}

/// What a load error means for a module DLL.
fn error_meaning(code: u32) -> String {
    match code {
        2 | 3 | 126 => format!("error {code}: the DLL, or a DLL it needs, is not there"),
        5 => "error 5: access denied, the pool's identity cannot read the DLL".to_string(),
        193 => "error 193: a 32-bit DLL in a 64-bit worker, or the reverse".to_string(),
        127 => "error 127: the DLL lacks an entry point IIS calls (a wrong or partial build)".to_string(),
        1114 => "error 1114: the DLL's own initialization failed".to_string(),
        14001 => "error 14001: a side-by-side runtime the DLL needs (a Visual C++ redistributable) is \
            missing"
            .to_string(),
        other => format!("error {other}"),
    }
}

/// What the worker said of the module, by event id.
fn what_failed(id: u16) -> &'static str {
    match id {
        2282 => "could not load, built for another processor architecture,",
        2293 => "loaded but returned an error from its registration,",
        2295 => "loaded but has no RegisterModule entry point,",
        2296 => "loaded but has an invalid precondition,",
        _ => "could not load",
    }
}

fn finding(store: &Store, host: &Arc<str>, failures: &[&EventRow]) -> Draft {
    let (first, last) = (failures[0], failures[failures.len() - 1]);
    let module = module_of(first).unwrap_or("a module");
    let error = failures.iter().find_map(|e| error_of(e)).map(error_meaning);
    let after = |e: &&EventRow| &e.host == host && follows_module_failure(store, host, e.time());
    let window = (first.time(), last.time() + EFFECT_WINDOW);
    let disabled: Vec<&EventRow> =
        store.events_between(POOL_DISABLED, window.0, window.1).filter(after).collect();
    let died: Vec<&EventRow> =
        store.events_between(WORKER_FAILED, window.0, window.1).filter(after).collect();
    let pools: BTreeSet<&str> = disabled.iter().chain(&died).filter_map(|e| pool(e)).collect();
    let pools: Vec<&str> = pools.into_iter().collect();
    let times = match failures.len() {
        1 => format!("at {}", first.time().to_prose()),
        n => format!("{n} times from {} to {}", first.time().to_prose(), last.time().to_prose()),
    };
    let mut text = format!(
        "The IIS worker {} the native module {module} (W3SVC-WP {}{}), {times}. IIS loads the native modules \
            its configuration names as each worker starts, so a module that does not load stops every \
            worker that loads it before it serves a request.",
        what_failed(first.event.event_id),
        first.event.event_id,
        error.as_deref().map_or(String::new(), |e| format!("; {e}")),
    );
    let disabled_pools: BTreeSet<&str> = disabled.iter().filter_map(|e| pool(e)).collect();
    if !disabled_pools.is_empty() {
        let named: Vec<&str> = disabled_pools.iter().copied().collect();
        text.push_str(&format!(
            " WAS disabled {} under rapid-fail protection as its workers kept failing: HTTP.sys answers \
                {} requests 503 until someone starts {} again.",
            listed(&named, 5),
            if named.len() == 1 { "its" } else { "their" },
            if named.len() == 1 { "it" } else { "them" },
        ));
    }
    text.push_str(
        " The assumption that stopped holding: the module registered in applicationHost.config's \
            globalModules is loadable by the pool (uninstalled or not installed on this server, a build for \
            the other bitness, or a file the pool's identity cannot read).",
    );
    let mut answered: Vec<&crate::evidence::ErrRow> = disabled_pools
        .iter()
        .flat_map(|p| super::rapid_fail::offline_from(store, host, p, first.time()))
        .collect();
    answered.sort_by_key(|r| (r.time, r.source, r.line));
    let mut end = last.time();
    if let Some(t) = store.errors_end(&answered) {
        end = end.max(t);
        let n = store.errors_counted(&answered);
        text.push_str(&format!(
            " HTTP.sys answered {n} request{} 503 AppOffline until {}.",
            if n == 1 { "" } else { "s" },
            t.to_prose()
        ));
    }
    let end = disabled.iter().chain(&died).map(|e| e.time()).fold(end, Timestamp::max);
    let severity = if disabled.is_empty() { Severity::High } else { Severity::Critical };
    let mut d = Draft::new(FailureMode::HandlerMissing, severity, 0.9, first.time(), end)
        .scope(Some(host), answered.first().and_then(|r| r.site), (pools.len() == 1).then(|| pools[0]))
        .explain(text)
        .remedy(&[
            "Put the DLL back where the configuration says (repair or reinstall what owns it: URL Rewrite, \
                ARR, the ASP.NET Core hosting bundle, a monitoring or security agent), or remove its entry \
                from globalModules (and modules) in applicationHost.config if it was uninstalled on purpose.",
            "Error 193: register the build for the worker's bitness, or set the pool's \
                enable32BitAppOnWin64 to match a 32-bit module (with a bitness precondition on its entry).",
            "Error 5: give the pool's identity (IIS_IUSRS) read and execute on the DLL and its folder.",
            "Then start the disabled pools: rapid-fail protection leaves them stopped.",
        ]);
    d.cite_first(failures.iter(), 20, Role::Cause, |e| {
        store.cite_event(
            e,
            format!("W3SVC-WP {}: module {} {}", e.event.event_id, module_of(e).unwrap_or("-"), {
                what_failed(e.event.event_id).trim_end_matches(',')
            }),
        )
    });
    d.cite_first(died.iter(), 10, Role::Effect, |e| {
        let pid = e.data("ProcessID").unwrap_or("-");
        let p = pool(e).unwrap_or("-");
        store.cite_event(e, format!("WAS {}: worker {pid} of {p} failed", e.event.event_id))
    });
    d.cite_first(disabled.iter(), 10, Role::Effect, |e| {
        store.cite_event(e, format!("WAS 5002: rapid-fail protection disabled {}", pool(e).unwrap_or("-")))
    });
    d.cite_first(answered.iter(), 3, Role::Effect, |r| store.cite_error(r));
    d
}

#[cfg(test)]
mod tests {
    use faultline_parser::w3c::ReasonKind;

    use super::*;
    use crate::detect::testing::{Given, at};

    const REWRITE: &str = "%SystemRoot%\\system32\\inetsrv\\rewrite.dll";

    fn missing(e: Given, host: &str, secs: i64) -> Given {
        e.event(host, secs, "Microsoft-Windows-IIS-W3SVC-WP", 2280, &[("ModuleDll", REWRITE)])
            .binary("7E000000")
    }

    /// URL Rewrite uninstalled while applicationHost.config still names it:
    /// each worker of ShopPool logs 2280 and dies, WAS disables the pool,
    /// HTTP.sys answers 503: one critical finding naming the DLL and the
    /// error, the disable and the answers its effects.
    #[test]
    fn a_module_that_does_not_load_takes_its_pool_down() {
        let mut e = Given::new();
        for i in 0..5 {
            e = missing(e, "WEB01", 10 * i);
            e = e.event("WEB01", 10 * i + 1, "WAS", 5011, &[("AppPoolID", "ShopPool"), ("ProcessID", "400")]);
        }
        let e = e.event("WEB01", 45, "WAS", 5002, &[("AppPoolID", "ShopPool")]).errors(
            7,
            "WEB01",
            60,
            503,
            ReasonKind::AppOffline,
            Some("ShopPool"),
        );
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::HandlerMissing, Severity::Critical));
        assert_eq!(d.scope.app_pool.as_deref(), Some("ShopPool"));
        assert_eq!((d.start, d.end), (at(0), at(66)), "to the last 503 answer");
        let text = &d.explanation;
        assert!(
            text.starts_with(
                "The IIS worker could not load the native module %SystemRoot%\\system32\\inetsrv\\rewrite.dll \
                 (W3SVC-WP 2280; error 126: the DLL, or a DLL it needs, is not there), 5 times from"
            ),
            "{text}"
        );
        assert!(text.contains("WAS disabled ShopPool under rapid-fail protection"), "{text}");
        assert!(text.contains("HTTP.sys answered 7 requests 503 AppOffline"), "{text}");
        let causes = d.timeline.iter().filter(|s| s.role == Role::Cause).count();
        assert_eq!(causes, 5);
    }

    /// The whole analysis of the same evidence: the module is the one
    /// finding; the workers' deaths and the pool's disabling are not a
    /// crash and a rapid-fail incident of their own. Without the module's
    /// events they are.
    #[test]
    fn the_deaths_and_the_disable_it_caused_are_no_findings_of_their_own() {
        let outage = |module: bool| {
            let mut e = Given::new();
            for i in 0..5 {
                if module {
                    e = missing(e, "WEB01", 10 * i);
                }
                e = e.event(
                    "WEB01",
                    10 * i + 1,
                    "WAS",
                    5011,
                    &[("AppPoolID", "ShopPool"), ("ProcessID", "400")],
                );
            }
            crate::detect::testing::modes(
                &e.event("WEB01", 45, "WAS", 5002, &[("AppPoolID", "ShopPool")]).findings(),
            )
        };
        assert_eq!(outage(true), [FailureMode::HandlerMissing]);
        let without = outage(false);
        assert!(
            without.contains(&FailureMode::RapidFailProtection)
                && !without.contains(&FailureMode::HandlerMissing),
            "{without:?}"
        );
    }

    /// A 32-bit module in a 64-bit pool (2282, error 193 as an HRESULT), no
    /// pool disabled yet: high, its error named. Another host's failure and
    /// a failure an hour later are findings of their own.
    #[test]
    fn each_host_and_incident_is_its_own_finding_and_bitness_is_named() {
        let found = Given::new()
            .event("WEB01", 0, "W3SVC-WP", 2282, &[("ModuleDll", "C:\\agent\\hook32.dll")])
            .binary("C1000780")
            .event("WEB02", 0, "W3SVC-WP", 2282, &[("ModuleDll", "C:\\agent\\hook32.dll")])
            .event("WEB01", 2 * 3_600, "W3SVC-WP", 2282, &[("ModuleDll", "C:\\agent\\hook32.dll")])
            .detected(detect);
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|d| d.severity == Severity::High && d.scope.app_pool.is_none()));
        let text = &found[0].explanation;
        assert!(text.contains("built for another processor architecture"), "{text}");
        assert!(text.contains("error 193: a 32-bit DLL in a 64-bit worker"), "{text}");
        assert!(!text.contains("WAS disabled"), "{text}");
    }

    /// A pool disabled with no module failure before it, or after one on
    /// another host, is no effect of a module.
    #[test]
    fn only_what_follows_on_the_same_host_is_an_effect() {
        let store = missing(Given::new(), "WEB01", 100).store();
        assert!(follows_module_failure(&store, "WEB01", at(160)));
        assert!(!follows_module_failure(&store, "WEB01", at(50)), "before it");
        assert!(!follows_module_failure(&store, "WEB02", at(160)), "another host");
        assert!(!follows_module_failure(&store, "WEB01", at(100 + 11 * 60)), "long after");
    }
}
