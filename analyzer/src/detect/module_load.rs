//! `handler-missing` from the worker's own events: it could not load a
//! native module IIS's configuration names (W3SVC-WP 2280; 2282 for the
//! wrong processor architecture; 2293, 2295 and 2296 when the DLL loaded
//! but would not register) or the .NET runtime its pool preloads (2294).
//! Native modules and the runtime are loaded as each worker starts, so
//! every worker of the pools that load them fails at start: WAS then
//! disables those pools (rapid-fail protection, 5002) and HTTP.sys answers
//! their requests 503 itself. The pool disabling is this finding's effect,
//! not a rapid-fail incident of its own.
//!
//! An ISAPI filter (2214, 2274) or extension (2220) that does not load
//! leaves the worker up: the requests that need it fail with 500.0, the
//! load error as their win32 status. Those requests are this finding's
//! effects, not a finding of their own from the access log.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use faultline_parser::{Span, Timestamp};

use super::kinds::{
    APPLICATION_FAULT, FILTER_LOAD_FAILED, MODULE_LOAD_FAILED, POOL_DISABLED, RUNTIME_TERMINATED,
    SITE_FILTERS_ABORTED, WORKER_DIED, WORKER_START_FAILED,
};
use super::{Draft, FailureMode, clusters, grouped, pool};
use crate::describe::listed;
use crate::evidence::{EventRow, RequestRow, Store};
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

/// A filter's failed requests less than this apart are one run: the
/// access log's clusters of one failure.
const REQUEST_GAP: Span = Span::mins(15);

/// A worker logs a filter's failure as the request that met it fails: the
/// request's row and the event are this close.
const LOGGED_WITH: Span = Span::mins(1);

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let failed = load_failures(store);
    for (host, incident) in incidents(store) {
        out.push(finding(store, &failed, &host, &incident));
    }
}

/// The access-log rows of every host answered 500.0 with a load error:
/// read once, then asked per incident.
fn load_failures(store: &Store) -> Vec<&RequestRow> {
    store.requests.iter().filter(|r| super::status::is_load_failure(r.status)).collect()
}

/// The failures to load one DLL on one host, less than [`INCIDENT_GAP`]
/// apart: each an incident, in a stable order.
fn incidents(store: &Store) -> Vec<(Arc<str>, Vec<&EventRow>)> {
    let failures: Vec<&EventRow> =
        store.events_of(MODULE_LOAD_FAILED).chain(store.events_of(FILTER_LOAD_FAILED)).collect();
    let by_module = grouped(failures, |e| {
        let worker_stays_up = Failure::of(e.event.event_id).fails_requests();
        (e.host.clone(), worker_stays_up, module_of(e).map(str::to_ascii_lowercase))
    });
    let mut per_kind: BTreeMap<(Arc<str>, bool), Vec<Vec<&EventRow>>> = BTreeMap::new();
    for ((host, kind, _), list) in by_module {
        per_kind.entry((host, kind)).or_default().push(list);
    }
    let mut out = Vec::new();
    for ((host, _), lists) in per_kind {
        // Past a few DLLs, one host's failures are one incident at a time,
        // not one finding per DLL (a flood of them would be thousands).
        let lists = match lists.len() > MAX_MODULES {
            true => vec![lists.into_iter().flatten().collect()],
            false => lists,
        };
        for mut list in lists {
            list.sort_by_key(|e| e.time());
            for incident in clusters(list, |e| e.time(), INCIDENT_GAP) {
                out.push((host.clone(), incident));
            }
        }
    }
    out
}

/// More DLLs than this failing on one host are told together.
const MAX_MODULES: usize = 10;

/// The access-log rows (source, line) the filters and extensions that did
/// not load failed: their findings cite and count them, so the access
/// log's own status findings leave them out.
pub(super) fn claimed_requests(store: &Store) -> HashSet<(u32, u64)> {
    let failed = load_failures(store);
    incidents(store)
        .iter()
        .filter(|(_, failures)| Failure::of(failures[0].event.event_id).fails_requests())
        .flat_map(|(host, failures)| failed_requests(store, &failed, host, failures))
        .flatten()
        .map(|r| (r.source, r.line))
        .collect()
}

/// The requests on `host` the filter or extension of `failures` failed:
/// runs (per site, no gap over [`REQUEST_GAP`]) of 500.0 with its load
/// error (any load error where the event holds none). A run is its when a
/// failure was logged during it, or when it began within
/// [`INCIDENT_GAP`] after a failure or after a run of its; a filter fails
/// every request of its site while it fails, so for a filter a run after
/// one of its runs is its too, however long after, as long as the site
/// served no success in between.
fn failed_requests<'s>(
    store: &Store,
    failed: &[&'s RequestRow],
    host: &Arc<str>,
    failures: &[&EventRow],
) -> Vec<Vec<&'s RequestRow>> {
    let code = failures.iter().find_map(|e| error_of(e)).map(u64::from);
    let filter = Failure::of(failures[0].event.event_id) != Failure::Extension;
    let failed =
        failed.iter().copied().filter(|r| &r.host == host && code.is_none_or(|c| r.status.win32 == c));
    let first = failures[0].time() - LOGGED_WITH;
    let mut runs = Vec::new();
    for (site, mut rows) in grouped(failed, |r| r.site) {
        rows.sort_by_key(|r| (r.time, r.source, r.line));
        let mut last_claimed: Option<Timestamp> = None;
        for run in clusters(rows, |r| r.time, REQUEST_GAP) {
            let (from, to) = (run[0].time, run[run.len() - 1].time);
            if from < first - REQUEST_GAP && to < first {
                continue;
            }
            let logged = failures.iter().any(|e| (from - LOGGED_WITH..=to + LOGGED_WITH).contains(&e.time()));
            let served_since = |t: Timestamp| {
                store.first_served_minute(host, site, t.minute() + 1..=from.minute() - 1).is_some()
            };
            let since_failure = failures
                .iter()
                .map(|e| e.time())
                .filter(|&t| t <= from)
                .max()
                .is_some_and(|t| from - t <= INCIDENT_GAP && !(filter && served_since(t)));
            let after_run = last_claimed.is_some_and(|prev| match filter {
                true => !served_since(prev),
                false => from - prev <= INCIDENT_GAP,
            });
            if logged || since_failure || after_run {
                last_claimed = Some(to);
                runs.push(run);
            }
        }
    }
    runs
}

/// For 500.0 requests with the load error `code` on `host` no filter's
/// finding took: the filter or extension that failed with that error in
/// the hour before them (or while they failed), and a sentence naming it.
pub(super) fn likeliest<'s>(
    store: &'s Store,
    host: &str,
    (from, to): (Timestamp, Timestamp),
    code: u64,
) -> Option<(&'s EventRow, String)> {
    let e = store
        .events_between(FILTER_LOAD_FAILED, from - INCIDENT_GAP, to)
        .filter(|e| &*e.host == host && error_of(e).map(u64::from) == Some(code))
        .last()?;
    let failure = Failure::of(e.event.event_id);
    let said = format!(
        " The worker logged W3SVC-WP {} for the {} {} with this error at {}; the site served successes \
            between it and these requests, so they are not counted as its failures, but it is the likeliest \
            DLL.",
        e.event.event_id,
        failure.noun(),
        module_of(e).unwrap_or("-"),
        e.time().to_prose()
    );
    Some((e, said))
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

/// The site a W3SVC-WP 2268 names (its first value: `Could not load all
/// ISAPI filters for site '%1'`).
fn site_named(e: &EventRow) -> Option<&str> {
    e.data("SiteName").or_else(|| e.event.data.first().map(|d| &*d.value)).filter(|s| !s.is_empty())
}

/// The Win32 error an event's binary data holds ("The data is the error":
/// four bytes, little-endian; an HRESULT wrapping a Win32 error is
/// unwrapped).
pub(super) fn error_of(e: &EventRow) -> Option<u32> {
    let hex = e.event.binary.as_deref()?.get(..8)?;
    let code = u32::from_str_radix(hex, 16).ok()?.swap_bytes();
    u32::try_from(super::status::win32_of(u64::from(code))).ok()
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

/// A worker that failed to load a filter or extension keeps failing
/// without trying again.
const RECYCLE_AFTER: &str = "Recycle the pool once the DLL or its registration is fixed: a worker that failed to \
    load it keeps failing the requests until it is replaced.";

/// The steps for a pool naming a runtime version that exists (v2.0,
/// v4.0) the worker still could not load: the framework is damaged or
/// half updated.
const RUNTIME_DAMAGED: &[&str] = &[
    "The pool names a runtime version that exists: repair the .NET Framework it names (for v4.0 the .NET \
        Framework 4.x and its ASP.NET 4.x feature, for v2.0 the .NET Framework 3.5 feature), or finish the \
        restart a .NET update is waiting for.",
    "Read the worker's next events (W3SVC-WP 2276, its data the error) for what failed.",
];

/// How a module failed, as its event says: not loaded (2280, 2282),
/// refusing or unable to register (2293, 2295), named with a precondition
/// IIS cannot read (2296, checked before any load); the runtime not
/// preloaded (2294); an ISAPI filter (2214, 2274) or extension (2220) not
/// loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Failure {
    NotLoaded,
    OtherBitness,
    Refused,
    NoEntryPoint,
    BadPrecondition,
    Runtime,
    Filter,
    FilterOtherBitness,
    Extension,
}

impl Failure {
    fn of(id: u16) -> Failure {
        match id {
            2282 => Failure::OtherBitness,
            2293 => Failure::Refused,
            2295 => Failure::NoEntryPoint,
            2296 => Failure::BadPrecondition,
            2294 => Failure::Runtime,
            2214 => Failure::Filter,
            2274 => Failure::FilterOtherBitness,
            2220 => Failure::Extension,
            _ => Failure::NotLoaded,
        }
    }

    /// Whether the worker stays up and fails requests instead of its start.
    fn fails_requests(self) -> bool {
        matches!(self, Failure::Filter | Failure::FilterOtherBitness | Failure::Extension)
    }

    /// Why it stops what it stops.
    fn mechanism(self) -> &'static str {
        match self {
            Failure::Runtime => {
                "A worker preloads the .NET runtime its pool's managedRuntimeVersion names as it starts, so a \
                 version that does not load stops every worker of the pool before it serves a request."
            }
            Failure::Filter | Failure::FilterOtherBitness => {
                "A worker loads a site's ISAPI filters before it serves the site's first request, so a filter \
                 that does not load fails every request of the sites it applies to with 500.0, the load error \
                 as the request's win32 status, while the worker stays up."
            }
            Failure::Extension => {
                "A request mapped to an ISAPI extension that does not load fails with 500.0, the load error as \
                 its win32 status, while the worker stays up."
            }
            _ => {
                "IIS loads the native modules its configuration names as each worker starts, so a module that \
                 does not load or register stops every worker that loads it before it serves a request."
            }
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
            Failure::Runtime => format!("The IIS worker could not preload the .NET runtime {module}"),
            Failure::Filter => format!("The IIS worker could not load the ISAPI filter {module}"),
            Failure::FilterOtherBitness => format!(
                "The IIS worker could not load the ISAPI filter {module}: it is built for the other processor \
                 architecture"
            ),
            Failure::Extension => format!("The IIS worker could not load the ISAPI extension {module}"),
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
            Failure::Runtime => "could not be preloaded",
            Failure::Filter | Failure::Extension => "could not load",
            Failure::FilterOtherBitness => "built for the other processor architecture",
        }
    }

    /// What it is, in a citation's words.
    fn noun(self) -> &'static str {
        match self {
            Failure::Runtime => ".NET runtime",
            Failure::Filter | Failure::FilterOtherBitness => "ISAPI filter",
            Failure::Extension => "ISAPI extension",
            _ => "module",
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
            Failure::Runtime => {
                "the .NET runtime the pool's managedRuntimeVersion names is installed (v2.0 needs the .NET \
                 Framework 3.5 feature, v4.0 any .NET Framework 4.x; no other value names a runtime)"
            }
            Failure::Filter | Failure::FilterOtherBitness => {
                "the ISAPI filter registered for the server or the site (isapiFilters) is loadable by the \
                 pool (uninstalled or moved, built for a bitness other than the pool's, or a file the \
                 pool's identity cannot read)"
            }
            Failure::Extension => {
                "the ISAPI extension a handler mapping names is loadable by the pool (uninstalled or moved, \
                 built for a bitness other than the pool's, or a file the pool's identity cannot read)"
            }
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
            Failure::Runtime => &[
                "Set the pool's .NET CLR version (managedRuntimeVersion) to one installed: v4.0 for any .NET \
                    Framework 4.x application, No Managed Code (an empty value) for ASP.NET Core and static \
                    sites; a value such as v4.5 or v4.8 names no runtime.",
                "Or install the framework it names: the .NET Framework 3.5 feature for v2.0.",
            ],
            Failure::Filter | Failure::FilterOtherBitness => &[
                "Put the filter's DLL back where its registration says (repair or reinstall what owns it), or \
                    remove it from the ISAPI Filters of the server or the site (system.webServer/isapiFilters) if \
                    it was uninstalled on purpose.",
                "Error 193 or W3SVC-WP 2274: register the filter's build for the pool's bitness, or give its \
                    isapiFilters entry preCondition=\"bitness64\" (or \"bitness32\") so workers of the other \
                    bitness skip it. A pool switched to 32-bit (enable32BitAppOnWin64) cannot load a 64-bit \
                    filter, nor a 64-bit pool a 32-bit one.",
                "Error 5: give the pool's identity (IIS_IUSRS) read and execute on the DLL and its folder.",
                RECYCLE_AFTER,
            ],
            Failure::Extension => &[
                "Put the extension's DLL back where the handler mapping (system.webServer/handlers, \
                    scriptProcessor) and the ISAPI and CGI Restrictions name it, or correct the mapping; install \
                    its build for the pool's bitness (error 193).",
                "Error 5: give the pool's identity (IIS_IUSRS) read and execute on the DLL and its folder.",
                RECYCLE_AFTER,
            ],
        }
    }
}

fn finding(store: &Store, failed: &[&RequestRow], host: &Arc<str>, failures: &[&EventRow]) -> Draft {
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
        "{} (W3SVC-WP {}{}), {times}. {}",
        failure.said(module),
        first.event.event_id,
        error.as_deref().map_or(String::new(), |e| format!("; {e}")),
        failure.mechanism(),
    );
    let modules: BTreeSet<String> =
        failures.iter().filter_map(|e| module_of(e)).map(str::to_ascii_lowercase).collect();
    if modules.len() > 1 {
        let named: Vec<&str> = modules.iter().map(String::as_str).collect();
        text.push_str(&format!(
            " {} different DLLs failed so on this host in this time: {}.",
            named.len(),
            listed(&named, 5)
        ));
    }
    let (from, to) = (first.time() - LOGGED_WITH, last.time() + LOGGED_WITH);
    // 2268 follows its 2214 in the same worker: paired by process where
    // both name one.
    let pids: BTreeSet<u32> =
        failures.iter().filter_map(|e| e.event.process_id.filter(|&p| p != 0)).collect();
    let aborted: Vec<&EventRow> = if failure.fails_requests() {
        store
            .events_between(SITE_FILTERS_ABORTED, from, to)
            .filter(|e| &e.host == host)
            .filter(|e| match e.event.process_id.filter(|&p| p != 0) {
                Some(p) if !pids.is_empty() => pids.contains(&p),
                _ => true,
            })
            .collect()
    } else {
        Vec::new()
    };
    let sites: BTreeSet<&str> = aborted.iter().filter_map(|e| site_named(e)).collect();
    if !sites.is_empty() {
        let sites: Vec<&str> = sites.into_iter().collect();
        text.push_str(&format!(
            " The worker could not start site{} {} as not all of {} ISAPI filters loaded (W3SVC-WP 2268): \
                IIS Manager still shows {} started, but {} requests fail.",
            if sites.len() == 1 { "" } else { "s" },
            listed(&sites, 5),
            if sites.len() == 1 { "its" } else { "their" },
            if sites.len() == 1 { "it" } else { "them" },
            if sites.len() == 1 { "its" } else { "their" },
        ));
    }
    let runs =
        if failure.fails_requests() { failed_requests(store, failed, host, failures) } else { Vec::new() };
    let code = failures.iter().find_map(|e| error_of(e)).map(u64::from);
    let mut request_end = None;
    if !runs.is_empty() {
        let mut n = 0usize;
        let mut codes = BTreeSet::new();
        let (mut start, mut end) = (Timestamp(i64::MAX), Timestamp(i64::MIN));
        for run in &runs {
            let (a, b) = (run[0], run[run.len() - 1]);
            let unlisted = store.unlisted_between(host, a.site, a.time.minute()..=b.time.minute(), |s| {
                super::status::is_load_failure(s) && code.is_none_or(|c| s.win32 == c)
            });
            n += run.len() + usize::try_from(unlisted.count).unwrap_or(usize::MAX);
            codes.extend(run.iter().map(|r| r.status.win32));
            start = start.min(a.time);
            end = end.max(if unlisted.count > 0 { b.time.max(unlisted.last) } else { b.time });
        }
        let codes: Vec<String> = codes.iter().map(u64::to_string).collect();
        text.push_str(&format!(
            " {n} request{} failed with 500.0 and win32 status {} from {} to {}.",
            if n == 1 { "" } else { "s" },
            listed(&codes, 3),
            start.to_prose(),
            end.to_prose(),
        ));
        request_end = Some(end);
        // Only a filter fails every request of the site: a success then
        // says it loaded again.
        if failure != Failure::Extension {
            let mut last_by_site: BTreeMap<Option<u32>, Timestamp> = BTreeMap::new();
            for run in &runs {
                let t = last_by_site.entry(run[0].site).or_insert(run[0].time);
                *t = (*t).max(run[run.len() - 1].time);
            }
            let one = last_by_site.len() == 1;
            // Successes are counted by the minute, not kept.
            let recovered: Vec<String> = last_by_site
                .iter()
                .filter_map(|(&site, &t)| {
                    let ok = super::status::recovery(store, host, site, if one { end } else { t })?;
                    Some(match (one, site) {
                        (false, Some(id)) => format!("{} (site {id})", ok.to_prose()),
                        _ => ok.to_prose(),
                    })
                })
                .collect();
            match recovered.len() {
                0 => {}
                1 if one => text.push_str(&format!(
                    " The site served successes again in the minute from {}.",
                    recovered[0]
                )),
                _ => text.push_str(&format!(
                    " The sites served successes again in the minute from {}.",
                    listed(&recovered, 5)
                )),
            }
        }
    }
    let unseen = failure.fails_requests() && runs.is_empty();
    if unseen {
        let later = failed.iter().find(|r| {
            &r.host == host
                && code.is_none_or(|c| r.status.win32 == c)
                && r.time >= first.time()
                && r.time <= last.time() + INCIDENT_GAP
        });
        let covered = store.logged_requests_between(host, first.time(), last.time() + REQUEST_GAP);
        match later {
            Some(r) => text.push_str(&format!(
                " Requests failed with this error on this host from {}, after the site had served successes \
                    since the event (a filter that does not load fails every request of its site): the \
                    access log's own finding tells them, naming this DLL as the likeliest.",
                r.time.to_prose()
            )),
            None if covered => text.push_str(
                " The access logs of that time show no request failing so: it may have applied to a site \
                    or path no one asked for then.",
            ),
            None => {
                text.push_str(" No access log of this host covers that time to show the requests it failed.")
            }
        }
    }
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
    let end = request_end.map_or(end, |t| end.max(t));
    let severity = if disabled.is_empty() { Severity::High } else { Severity::Critical };
    let failed_sites: BTreeSet<Option<u32>> = runs.iter().map(|run| run[0].site).collect();
    let site = match failed_sites.into_iter().collect::<Vec<_>>()[..] {
        [one] => one,
        _ => answered.first().and_then(|r| r.site),
    };
    let confidence = if unseen { 0.8 } else { 0.9 };
    let steps = match failure {
        Failure::Runtime if matches!(module, "v2.0" | "v4.0") => RUNTIME_DAMAGED,
        _ => failure.steps(),
    };
    let mut d = Draft::new(FailureMode::HandlerMissing, severity, confidence, first.time(), end)
        .scope(Some(host), site, (pools.len() == 1).then(|| pools[0]))
        .explain(text)
        .remedy(steps);
    if !disabled.is_empty() {
        d = d.also(&["Then start the disabled pools: rapid-fail protection leaves them stopped."]);
    }
    d.cite_first(failures.iter(), 20, Role::Cause, |e| {
        let failure = Failure::of(e.event.event_id);
        store.cite_event(
            e,
            format!(
                "W3SVC-WP {}: {} {} {}",
                e.event.event_id,
                failure.noun(),
                module_of(e).unwrap_or("-"),
                failure.short()
            ),
        )
    });
    // What the same workers reported next (2294 is followed by 2276, its
    // data the error).
    let next: Vec<&EventRow> = store
        .events_between(WORKER_START_FAILED, first.time(), last.time() + DEATH_AFTER_LOAD)
        .filter(|w| &w.host == host)
        .filter(|w| match w.event.process_id.filter(|&p| p != 0) {
            Some(p) if !pids.is_empty() => pids.contains(&p),
            _ => true,
        })
        .collect();
    d.cite_first(next.iter(), 10, Role::Cause, |w| store.cite_event(w, super::worker_start::cited(w)));
    d.cite_first(aborted.iter(), 5, Role::Effect, |e| {
        store.cite_event(
            e,
            format!(
                "W3SVC-WP 2268: the worker could not start site {}, not all its ISAPI filters loaded",
                site_named(e).unwrap_or("-")
            ),
        )
    });
    for run in &runs {
        d.cite_first(run.iter(), 5, Role::Effect, |r| store.cite_request(r));
    }
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

    const FILTER: &str = "C:\\Program Files\\Contoso\\SSO\\ssofilter64.dll";

    fn filter_failed(e: Given, host: &str, secs: i64) -> Given {
        e.positional(host, secs, "Microsoft-Windows-IIS-W3SVC-WP", 2214, &[FILTER])
            .binary("C1000000")
            .positional(host, secs, "Microsoft-Windows-IIS-W3SVC-WP", 2268, &["Shop"])
    }

    /// ShopPool switched to 32-bit while a 64-bit ISAPI filter is registered:
    /// each worker logs 2214 (error 193) and 2268, stays up, and fails every
    /// request of the site with 500.0 and win32 193. One finding names the
    /// filter, the error, the site whose start was aborted and the requests
    /// it failed (kept and counted); the access log's 500.0 burst is no
    /// finding of its own.
    #[test]
    fn a_filter_that_does_not_load_fails_the_sites_requests_in_one_finding() {
        let e = filter_failed(Given::new(), "WEB01", 100)
            .requests(30, "WEB01", 1, 100, "/cart", (500, 0, 193), 15)
            .unlisted("WEB01", 1, 125, (500, 0, 193), 40);
        let all = e.findings();
        let d = match &all[..] {
            [d] => d,
            other => panic!("{:?}", crate::detect::testing::modes(other)),
        };
        assert_eq!((d.id, d.severity), (FailureMode::HandlerMissing, Severity::High));
        assert_eq!(d.scope.site.as_deref(), Some("1"));
        let text = &d.explanation;
        assert!(
            text.starts_with(&format!(
                "The IIS worker could not load the ISAPI filter {FILTER} (W3SVC-WP 2214; error 193: a 32-bit \
                 DLL in a 64-bit worker, or the reverse), at"
            )),
            "{text}"
        );
        assert!(
            text.contains("The worker could not start site Shop as not all of its ISAPI filters"),
            "{text}"
        );
        assert!(text.contains("70 requests failed with 500.0 and win32 status 193 from"), "{text}");
        assert!(d.remediation.iter().any(|r| r.contains("isapiFilters")), "{:?}", d.remediation);
        let effects = d.evidence.iter().filter(|e| e.summary.contains("/cart")).count();
        assert!(effects > 0, "{:?}", d.evidence);
    }

    /// The look-alikes: the same 500.0 burst with no worker naming a filter
    /// is the access log's own finding (a DLL that did not load, unnamed);
    /// a filter failing on another server, a day before the burst, minutes
    /// before it but with the site serving in between, or with another
    /// error, does not take it.
    #[test]
    fn a_load_failure_burst_no_filter_event_names_stays_the_access_logs() {
        for e in [
            Given::new(),
            filter_failed(Given::new(), "WEB02", 100),
            filter_failed(Given::new(), "WEB01", 100 - 86_400),
            filter_failed(Given::new(), "WEB01", 100 - 600).requests(
                5,
                "WEB01",
                1,
                100 - 300,
                "/",
                (200, 0, 0),
                9,
            ),
            Given::new()
                .positional("WEB01", 100, "Microsoft-Windows-IIS-W3SVC-WP", 2214, &[FILTER])
                .binary("7E000000"),
        ] {
            let all = e.requests(30, "WEB01", 1, 100, "/cart", (500, 0, 193), 15).findings();
            let on_web01: Vec<&crate::finding::Finding> =
                all.iter().filter(|f| f.scope.host.as_deref() == Some("WEB01")).collect();
            let from_log =
                on_web01.iter().find(|f| f.explanation.starts_with("30 requests failed with 500.0"));
            assert!(from_log.is_some(), "{:?}", all.iter().map(|f| &f.explanation).collect::<Vec<_>>());
        }
    }

    /// A detailed error page of the requests a filter's finding tells is
    /// not folded into an access-log finding that no longer exists: its
    /// own finding quotes IIS's sentence naming the DLL.
    #[test]
    fn a_page_of_a_filters_requests_keeps_its_own_finding() {
        let all = filter_failed(Given::new(), "WEB01", 100)
            .requests(30, "WEB01", 1, 100, "/cart", (500, 0, 193), 15)
            .error_page("WEB01", 200, "http://shop/cart", (500, 0), "IsapiFilterModule")
            .error_code(0x8007_00C1)
            .findings();
        let pages: Vec<&crate::finding::Finding> =
            all.iter().filter(|f| f.explanation.contains("detailed error page")).collect();
        assert_eq!(pages.len(), 1, "{:?}", all.iter().map(|f| &f.explanation).collect::<Vec<_>>());
    }

    /// One filter failure, then the site's requests failing in runs twenty
    /// minutes apart with no success between: every run is the filter's.
    /// Two filters failing with their own errors on two sites each take
    /// their own requests.
    #[test]
    fn a_filter_takes_its_sites_later_runs_and_only_its_own_error() {
        let mut e = filter_failed(Given::new(), "WEB01", 100);
        for run in 0..6 {
            e = e.requests(3, "WEB01", 1, 100 + run * 1_200, "/cart", (500, 0, 193), 15);
        }
        let all = e.findings();
        assert_eq!(all.len(), 1, "{:?}", all.iter().map(|f| &f.explanation).collect::<Vec<_>>());
        assert!(all[0].explanation.contains("18 requests failed with 500.0"), "{}", all[0].explanation);
        let two = filter_failed(Given::new(), "WEB01", 100)
            .positional("WEB01", 100, "Microsoft-Windows-IIS-W3SVC-WP", 2214, &["C:\\legacy\\auth.dll"])
            .binary("7E000000")
            .requests(10, "WEB01", 1, 100, "/cart", (500, 0, 193), 15)
            .requests(20, "WEB01", 2, 100, "/blog", (500, 0, 126), 15)
            .findings();
        let counts: Vec<bool> = [("ssofilter64", "10 requests"), ("auth.dll", "20 requests")]
            .iter()
            .map(|(dll, n)| two.iter().any(|f| f.explanation.contains(dll) && f.explanation.contains(n)))
            .collect();
        assert_eq!(counts, [true, true], "{:?}", two.iter().map(|f| &f.explanation).collect::<Vec<_>>());
        assert_eq!(two.len(), 2);
    }

    /// A filter failing at 100 s while the site still served, then the
    /// site failing with its error ten minutes later: the access log's
    /// finding names the filter as the likeliest DLL, and the filter's says
    /// where its requests are told, not that none failed.
    #[test]
    fn a_filter_and_a_burst_with_successes_between_name_each_other() {
        let all = filter_failed(Given::new(), "WEB01", 100)
            .requests(5, "WEB01", 1, 200, "/", (200, 0, 0), 9)
            .requests(30, "WEB01", 1, 700, "/cart", (500, 0, 193), 15)
            .findings();
        assert_eq!(all.len(), 2, "{:?}", all.iter().map(|f| &f.explanation).collect::<Vec<_>>());
        let log = all.iter().find(|f| f.explanation.starts_with("30 requests failed")).expect("the log's");
        assert!(
            log.explanation
                .contains(&format!("The worker logged W3SVC-WP 2214 for the ISAPI filter {FILTER}")),
            "{}",
            log.explanation
        );
        let filter = all.iter().find(|f| f.explanation.starts_with("The IIS worker")).expect("the filter's");
        assert!(
            filter.explanation.contains("the access log's own finding tells them"),
            "{}",
            filter.explanation
        );
    }

    /// Thousands of different DLLs failing on one host are one finding of
    /// them, naming a few and counting the rest, not one per DLL; a few
    /// are each their own.
    #[test]
    fn a_flood_of_different_dlls_is_one_finding() {
        let dlls = |n: i64| {
            (0..n).fold(Given::new(), |e, i| {
                e.event("WEB01", i, "W3SVC-WP", 2280, &[("ModuleDll", &format!("C:\\mods\\m{i}.dll"))])
            })
        };
        let flood = dlls(3_000).detected(detect);
        assert_eq!(flood.len(), 1);
        assert!(
            flood[0].explanation.contains("3000 different DLLs failed so on this host"),
            "{}",
            flood[0].explanation
        );
        assert!(flood[0].timeline.len() <= 20 + 5, "{}", flood[0].timeline.len());
        assert_eq!(dlls(3).detected(detect).len(), 3);
    }

    /// One filter failing two sites: each site's recovery is said.
    #[test]
    fn a_filter_failing_two_sites_says_when_each_served_again() {
        let all = filter_failed(Given::new(), "WEB01", 100)
            .requests(10, "WEB01", 1, 100, "/cart", (500, 0, 193), 15)
            .requests(10, "WEB01", 2, 100, "/blog", (500, 0, 193), 15)
            .requests(2, "WEB01", 1, 400, "/", (200, 0, 0), 9)
            .requests(2, "WEB01", 2, 500, "/", (200, 0, 0), 9)
            .findings();
        let text = &all[0].explanation;
        assert!(text.contains("20 requests failed with 500.0"), "{text}");
        assert!(
            text.contains(
                "The sites served successes again in the minute from 2025-11-24 10:06:00 UTC (site 1), "
            ),
            "{text}"
        );
        assert!(text.contains("(site 2)."), "{text}");
    }

    /// A runtime version that exists (v4.0) the worker still could not
    /// preload: the steps repair the framework, and what the worker said
    /// next (2276, its error) is cited.
    #[test]
    fn a_valid_runtime_that_does_not_load_is_a_damaged_framework() {
        let found = Given::new()
            .positional("WEB01", 0, "Microsoft-Windows-IIS-W3SVC-WP", 2294, &["v4.0"])
            .process(4711)
            .event("WEB01", 0, "Microsoft-Windows-IIS-W3SVC-WP", 2276, &[])
            .binary("0D000780")
            .process(4711)
            .detected(detect);
        let d = &found[0];
        assert!(
            d.remediation[0].starts_with("The pool names a runtime version that exists"),
            "{:?}",
            d.remediation
        );
        assert!(
            d.evidence
                .iter()
                .any(|e| e.summary.starts_with("W3SVC-WP 2276: a worker failed to initialize, error 13"))
        );
    }

    /// A pool set to a runtime that is not installed: each worker logs 2294
    /// and dies; the deaths and the disabling are the finding's effects,
    /// and its step names the setting.
    #[test]
    fn a_runtime_the_pool_cannot_preload_takes_its_pool_down() {
        let mut e = Given::new();
        for i in 0..5 {
            e = e.positional("WEB01", 10 * i, "Microsoft-Windows-IIS-W3SVC-WP", 2294, &["v4.5"]).event(
                "WEB01",
                10 * i + 1,
                "WAS",
                5009,
                &[("AppPoolID", "ShopPool"), ("ProcessID", "400")],
            );
        }
        let all = e.event("WEB01", 45, "WAS", 5002, &[("AppPoolID", "ShopPool")]).findings();
        assert_eq!(crate::detect::testing::modes(&all), [FailureMode::HandlerMissing]);
        let d = &all[0];
        assert_eq!((d.severity, d.scope.app_pool.as_deref()), (Severity::Critical, Some("ShopPool")));
        assert!(
            d.explanation.starts_with(
                "The IIS worker could not preload the .NET runtime v4.5 (W3SVC-WP 2294), 5 times"
            ),
            "{}",
            d.explanation
        );
        assert!(d.remediation[0].contains("managedRuntimeVersion"), "{:?}", d.remediation);
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
