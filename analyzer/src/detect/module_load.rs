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

use super::kinds::{APPLICATION_FAULT, MODULE_LOAD_FAILED, POOL_DISABLED, RUNTIME_TERMINATED, WORKER_DIED};
use super::{Draft, FailureMode, clusters, grouped, pool};
use crate::describe::listed;
use crate::evidence::{EventRow, Store};
use crate::finding::{Role, Severity};

/// Pools disabled this long after their workers died of a module that did
/// not load are its effects: WAS disables a pool after five failed starts
/// within five minutes by default.
pub(super) const EFFECT_WINDOW: Span = Span::mins(10);

/// A worker that could not load a module exits as it logs so: WAS reports
/// the death within this. The module's event names no pool; the death
/// does.
const DEATH_AFTER_LOAD: Span = Span::secs(30);

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

/// Whether WAS event `e` is the effect of a module that did not load: a
/// worker's death (5009, 5011) right after a module failed to load in it,
/// or the disabling of a pool (5002) whose workers so died in the minutes
/// before. Another pool's crash on the same host is not.
pub(super) fn explains(store: &Store, e: &EventRow) -> bool {
    if POOL_DISABLED.iter().any(|k| k.is(e.event.family(), e.event.event_id)) {
        let p = pool(e);
        return store
            .events_between(WORKER_DIED, e.time() - EFFECT_WINDOW, e.time())
            .any(|d| d.host == e.host && pool(d) == p && died_of_module(store, d));
    }
    WORKER_DIED.iter().any(|k| k.is(e.event.family(), e.event.event_id)) && died_of_module(store, e)
}

/// Whether the worker death `d` came right after a module failed to load in
/// it: on its host, in its process where the module's event names one (an
/// export often writes 0), and with no report of a crash of its own (an
/// Application Error 1000 for its PID, a runtime's termination report).
fn died_of_module(store: &Store, d: &EventRow) -> bool {
    let pid: Option<u32> = d.data("ProcessID").and_then(|p| p.trim().parse().ok());
    let same_process = |m: &EventRow| match (m.event.process_id.filter(|&p| p != 0), pid) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    let loaded = store
        .events_between(MODULE_LOAD_FAILED, d.time() - DEATH_AFTER_LOAD, d.time())
        .any(|m| m.host == d.host && same_process(m));
    let (from, to) = (d.time() - Span::secs(10), d.time() + Span::secs(10));
    let crashed = store
        .events_between(APPLICATION_FAULT, from, to)
        .any(|x| x.host == d.host && pid.is_some() && super::crash::hex_pid(x) == pid)
        || store.events_between(RUNTIME_TERMINATED, from, to).any(|x| x.host == d.host);
    loaded && !crashed
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

/// How a module failed, as its event says: not loaded (2280, 2282),
/// refusing or unable to register (2293, 2295), or named with a
/// precondition IIS cannot read (2296, checked before any load).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Failure {
    NotLoaded,
    OtherBitness,
    Refused,
    NoEntryPoint,
    BadPrecondition,
}

impl Failure {
    fn of(id: u16) -> Failure {
        match id {
            2282 => Failure::OtherBitness,
            2293 => Failure::Refused,
            2295 => Failure::NoEntryPoint,
            2296 => Failure::BadPrecondition,
            _ => Failure::NotLoaded,
        }
    }

    /// The sentence's start, naming `module`.
    fn said(self, module: &str) -> String {
        match self {
            Failure::NotLoaded => format!("The IIS worker could not load the native module {module}"),
            Failure::OtherBitness => format!(
                "The IIS worker could not load the native module {module}: it is built for the other \
                 processor architecture"
            ),
            Failure::Refused => {
                format!("The native module {module} returned an error as the IIS worker registered it")
            }
            Failure::NoEntryPoint => {
                format!(
                    "The native module {module} has no RegisterModule entry point for the IIS worker to call"
                )
            }
            Failure::BadPrecondition => {
                format!(
                    "The native module {module} is named in IIS's configuration with a precondition IIS cannot read"
                )
            }
        }
    }

    /// What happened, in a citation's few words.
    fn short(self) -> &'static str {
        match self {
            Failure::NotLoaded => "could not load",
            Failure::OtherBitness => "built for the other processor architecture",
            Failure::Refused => "returned an error as it was registered",
            Failure::NoEntryPoint => "has no RegisterModule entry point",
            Failure::BadPrecondition => "named with a precondition IIS cannot read",
        }
    }

    /// The assumption that stopped holding.
    fn assumption(self) -> &'static str {
        match self {
            Failure::NotLoaded | Failure::OtherBitness => {
                "the module registered in applicationHost.config's globalModules is loadable by the pool \
                 (uninstalled or never installed on this server, built for the other bitness, or a file the \
                 pool's identity cannot read)"
            }
            Failure::Refused | Failure::NoEntryPoint => {
                "the DLL registered as a module is a working IIS module build (a wrong, partial or \
                 incompatible build, or one its own configuration stops)"
            }
            Failure::BadPrecondition => "the module's entries in globalModules and modules are valid",
        }
    }

    /// What to do about it.
    fn steps(self) -> &'static [&'static str] {
        match self {
            Failure::NotLoaded | Failure::OtherBitness => &[
                "Put the DLL back where the configuration says (repair or reinstall what owns it: URL Rewrite, \
                    ARR, the ASP.NET Core hosting bundle, a monitoring or security agent), or remove its entry \
                    from globalModules (and modules) in applicationHost.config if it was uninstalled on purpose.",
                "Error 193 or W3SVC-WP 2282: install the module's build for the pool's bitness, or add \
                    preCondition=\"bitness64\" (or \"bitness32\") to its globalModules and modules entries so \
                    workers of the other bitness skip it. A 32-bit pool (enable32BitAppOnWin64) reads \
                    %SystemRoot%\\system32\\inetsrv from SysWOW64, where a module installed only as 64-bit is \
                    not there (error 126).",
                "Error 5: give the pool's identity (IIS_IUSRS) read and execute on the DLL and its folder.",
            ],
            Failure::Refused | Failure::NoEntryPoint => &[
                "Reinstall or update the module from its vendor, or remove its entries from globalModules and \
                    modules; read its own configuration and logs for why it refused to register.",
            ],
            Failure::BadPrecondition => &[
                "Correct the preCondition of the module's entries in applicationHost.config (globalModules and \
                    modules): a comma-separated list of bitness32 or bitness64, integratedMode or classicMode, \
                    runtimeVersionv2.0 or runtimeVersionv4.0, managedHandler.",
            ],
        }
    }
}

fn finding(store: &Store, host: &Arc<str>, failures: &[&EventRow]) -> Draft {
    let (first, last) = (failures[0], failures[failures.len() - 1]);
    let module = module_of(first).unwrap_or("a module");
    let error = failures.iter().find_map(|e| error_of(e)).map(error_meaning);
    let after = |e: &&EventRow| &e.host == host && explains(store, e);
    let window = (first.time(), last.time() + EFFECT_WINDOW);
    let died: Vec<&EventRow> =
        store.events_between(WORKER_DIED, window.0, last.time() + DEATH_AFTER_LOAD).filter(after).collect();
    let disabled: Vec<&EventRow> =
        store.events_between(POOL_DISABLED, window.0, window.1).filter(after).collect();
    let pools: BTreeSet<&str> = disabled.iter().chain(&died).filter_map(|e| pool(e)).collect();
    let pools: Vec<&str> = pools.into_iter().collect();
    let times = match failures.len() {
        1 => format!("at {}", first.time().to_prose()),
        n => format!("{n} times from {} to {}", first.time().to_prose(), last.time().to_prose()),
    };
    let failure = Failure::of(first.event.event_id);
    let mut text = format!(
        "{} (W3SVC-WP {}{}), {times}. IIS loads the native modules its configuration names as each worker \
            starts, so a module that does not load or register stops every worker that loads it before it \
            serves a request.",
        failure.said(module),
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
    text.push_str(&format!(" The assumption that stopped holding: {}.", failure.assumption()));
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
        .remedy(failure.steps());
    if !disabled.is_empty() {
        d = d.also(&["Then start the disabled pools: rapid-fail protection leaves them stopped."]);
    }
    d.cite_first(failures.iter(), 20, Role::Cause, |e| {
        store.cite_event(
            e,
            format!("W3SVC-WP {}: module {} {}", e.event.event_id, module_of(e).unwrap_or("-"), {
                Failure::of(e.event.event_id).short()
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
        assert!(text.contains("it is built for the other processor architecture"), "{text}");
        assert!(text.contains("error 193: a 32-bit DLL in a 64-bit worker"), "{text}");
        assert!(!text.contains("WAS disabled"), "{text}");
    }

    /// A precondition IIS cannot read is no missing DLL: said so, with the
    /// step that fixes it. A death right after a module failure that has a
    /// crash report of its own (Application Error 1000 for its PID) is a
    /// crash, not the module's.
    #[test]
    fn a_bad_precondition_is_said_as_such_and_a_reported_crash_stays_a_crash() {
        let found =
            Given::new().event("WEB01", 0, "W3SVC-WP", 2296, &[("ModuleName", "MyFilter")]).detected(detect);
        let d = &found[0];
        assert!(
            d.explanation.starts_with(
                "The native module MyFilter is named in IIS's configuration with a precondition"
            ),
            "{}",
            d.explanation
        );
        assert!(d.remediation[0].starts_with("Correct the preCondition"), "{:?}", d.remediation);
        let crashed = missing(Given::new(), "WEB01", 100)
            .event("WEB01", 105, "WAS", 5011, &[("AppPoolID", "ApiPool"), ("ProcessID", "5816")])
            .positional(
                "WEB01",
                104,
                "Application Error",
                1000,
                &["w3wp.exe", "10.0", "0", "ThirdParty.dll", "1.0", "0", "c0000005", "0x1", "16b8"],
            );
        let store = crashed.store();
        let died: Vec<&EventRow> = store.events_of(WORKER_DIED).collect();
        assert!(!explains(&store, died[0]), "its own crash report");
    }

    /// The worker death right after a module failed to load, and the
    /// disabling of its pool, are the module's; another pool's crash on
    /// the same host minutes later, a death before the failure or on
    /// another host, and the disabling of another pool are not.
    #[test]
    fn only_its_workers_deaths_and_their_pools_disabling_are_its_effects() {
        let died = |e: Given, host: &str, secs: i64, pool: &str| {
            e.event(host, secs, "WAS", 5011, &[("AppPoolID", pool), ("ProcessID", "4")])
        };
        let mut e = missing(Given::new(), "WEB01", 100);
        for (host, secs, pool) in [
            ("WEB01", 101, "ShopPool"),
            ("WEB01", 99, "ApiPool"),
            ("WEB02", 101, "ShopPool"),
            ("WEB01", 300, "ApiPool"),
        ] {
            e = died(e, host, secs, pool);
        }
        let e = e.event("WEB01", 200, "WAS", 5002, &[("AppPoolID", "ShopPool")]).event(
            "WEB01",
            310,
            "WAS",
            5002,
            &[("AppPoolID", "ApiPool")],
        );
        let store = e.store();
        let kinds = [WORKER_DIED, POOL_DISABLED].concat();
        let effects: Vec<(&str, u16, Option<&str>, Timestamp)> = store
            .events_of(&kinds)
            .filter(|e| explains(&store, e))
            .map(|e| (&*e.host, e.event.event_id, pool(e), e.time()))
            .collect();
        assert_eq!(
            effects,
            [("WEB01", 5011, Some("ShopPool"), at(101)), ("WEB01", 5002, Some("ShopPool"), at(200))]
        );
    }
}
