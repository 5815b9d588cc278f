//! `worker-crash`: a w3wp worker died (WAS 5011/5009) and took its requests
//! in flight with it; confirmed by what the same process left behind
//! (Application Error 1000 for its PID, .NET Runtime 1026 or ASP.NET 1325,
//! the WER report) and by the requests HTTP.sys abandoned. Without the
//! host's System log, a burst of abandoned requests for one pool still marks
//! a worker that went away. Without WAS at all (Azure App Service writes no
//! System log), the process's own report proves the crash: ASP.NET 1325,
//! .NET Runtime 1026 or Application Error 1000 of w3wp.exe, unless ANCM
//! reports a failed start in the same seconds (then the app never ran: that
//! is `ancm-startup-failure`). Reports of other programs (`dotnet.exe`, a
//! console app) are not IIS workers.

use std::collections::BTreeMap;
use std::sync::Arc;

use faultline_parser::Span;

use super::kinds::{
    ANCM_SHUT_DOWN, ANCM_STARTED, APP_OFFLINE, APPLICATION_FAULT, ERROR_REPORT, LOW_MEMORY,
    RUNTIME_TERMINATED, WORKER_DIED, WORKER_PING_FAILED,
};
use super::{Draft, FailureMode, clusters, grouped, pool};
use crate::describe::listed;
use crate::evidence::{ErrRow, EventRow, Store};
use crate::finding::{Role, Severity};

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    confirmed_by_events(store, out);
    from_process_reports(store, out);
    from_abandoned_requests(store, out);
}

/// Whether a crash report (ASP.NET 1325, .NET Runtime 1026, Application
/// Error 1000) is an IIS worker's: ASP.NET 1325 only runs inside one; the
/// others name their process.
pub(super) fn is_worker_process(e: &EventRow) -> bool {
    use faultline_parser::winevent::Family;
    match e.event.family() {
        Family::AspNet => true,
        Family::ApplicationError => e.data_at(0).is_some_and(|a| a.trim().eq_ignore_ascii_case("w3wp.exe")),
        _ => e.data_at(0).is_some_and(|t| {
            t.lines()
                .find_map(|l| l.trim().strip_prefix("Application:"))
                .is_some_and(|a| a.trim().eq_ignore_ascii_case("w3wp.exe"))
        }),
    }
}

/// How many of a crash loop's worker PIDs, or of the paths HTTP.sys abandoned, a finding
/// names: a pool crashing all night has thousands.
const LISTED: usize = 10;

/// What a report says the process was: its PID (1325's `Process ID:`).
fn reported_pid(e: &EventRow) -> Option<u32> {
    let text = e.data_at(0)?;
    let line = text.lines().find_map(|l| l.trim().strip_prefix("Process ID:"))?;
    line.trim().parse().ok()
}

/// Crashes proven by the worker's own reports where WAS said nothing: no
/// System log in the evidence (App Service), or WAS silent about them.
fn from_process_reports(store: &Store, out: &mut Vec<Draft>) {
    let reports = store.events_of(RUNTIME_TERMINATED).chain(store.events_of(APPLICATION_FAULT));
    let reports: Vec<&EventRow> = reports
        .filter(|e| is_worker_process(e))
        .filter(|e| {
            let (from, to) = (e.time() - Span::secs(30), e.time() + Span::secs(30));
            let was_saw_it = store.events_between(WORKER_DIED, from, to).any(|w| w.host == e.host);
            let start_failed = super::ancm::start_failed_near(store, &e.host, e.time());
            !was_saw_it && !start_failed
        })
        .collect();
    let mut sorted = reports;
    sorted.sort_by_key(|e| (e.host.clone(), e.time()));
    for (host, list) in grouped(sorted, |e| e.host.clone()) {
        // One crash leaves several reports in the same seconds.
        for group in clusters(list, |e| e.time(), Span::mins(15)) {
            out.push(reported_crash(store, &host, &group));
        }
    }
}

fn reported_crash(store: &Store, host: &str, group: &[&EventRow]) -> Draft {
    let (first, last) = (group[0], group[group.len() - 1]);
    let crashes = clusters(group.to_vec(), |e| e.time(), Span::secs(5)).len();
    let thrown = group.iter().find_map(|e| e.data_at(0).and_then(reported_exception));
    let faulting = group
        .iter()
        .filter(|e| e.event.family() == faultline_parser::winevent::Family::ApplicationError)
        .find_map(|e| e.data_at(3).map(|m| format!(" in {}", m.trim())));
    let mut pids: Vec<String> = group.iter().filter_map(|e| reported_pid(e).map(|p| p.to_string())).collect();
    pids.dedup();
    // An app that was being taken down for a deployment or recycle when it
    // threw lost no requests that a restart would not have cut anyway.
    let shutting_down = store
        .events_between(APP_OFFLINE, first.time() - Span::mins(2), first.time())
        .any(|a| &*a.host == host);
    // A worker that threw as it shut down for a restart, after ANCM had
    // started its successor (1033, then 1032, then the crash): the new
    // worker had the requests, and the old one's end cost nothing.
    let handed_over = store
        .events_between(ANCM_SHUT_DOWN, first.time() - Span::mins(2), first.time())
        .filter(|s| &*s.host == host)
        .find_map(|s| {
            let started =
                store.events_between(ANCM_STARTED, s.time(), first.time()).find(|a| &*a.host == host);
            started.map(|a| (s, a))
        });
    let times = if crashes == 1 { "once".to_string() } else { format!("{crashes} times") };
    let overflow =
        thrown.as_ref().is_some_and(|x| overflowed(&x.type_name)) || group.iter().any(|e| shows_overflow(e));
    // An App Service site's workers name themselves (RD0003FF8059C8): the
    // site is the host, the machine is said.
    let mut machines: Vec<&str> = group
        .iter()
        .filter_map(|e| e.event.computer.as_deref())
        .filter(|c| crate::resolve::host_name(c) != host)
        .collect();
    machines.sort_unstable();
    machines.dedup();
    let on = match machines.as_slice() {
        [] => host.to_string(),
        [one] => format!("{host} (instance {one})"),
        many => format!("{host} (instances {})", many.join(", ")),
    };
    let mut text = format!(
        "The w3wp worker on {on} was terminated by {} {times}{}{}",
        if overflow { "a stack overflow" } else { "an unhandled exception" },
        if pids.is_empty() { String::new() } else { format!(" (PID {})", listed(&pids, LISTED)) },
        faulting.unwrap_or_default(),
    );
    match &thrown {
        Some(x) => text.push_str(&format!(": {}: {}.", x.type_name, x.message.trim_end_matches('.'))),
        None => text.push('.'),
    }
    if let Some(x) = &thrown
        && let Some(frame) = &x.frame
    {
        text.push_str(&format!(" It was thrown in {frame}"));
        text.push_str(&match &x.cause {
            crate::exception::Cause::MonitoringAgent { agent } => {
                format!(", code of the {agent}, not the app's.")
            }
            _ => ".".into(),
        });
    }
    text.push_str(" The process's own crash reports prove it (WAS is not in the evidence or said nothing).");
    text.push_str(match handed_over {
        Some(_) => {
            " It happened in the old worker as it shut down, after ANCM had started the new one (1033, then \
                1032): the new worker was serving, and the old one lost at most the requests it was finishing."
        }
        None => " Requests in flight were lost and the next request started a cold worker.",
    });
    if overflow {
        text.push(' ');
        text.push_str(STACK_OVERFLOW);
    } else {
        text.push_str(
            " In IIS an exception no code catches (on a timer or background thread too) ends the process.",
        );
    }
    if shutting_down {
        text.push_str(" It happened while the app was being taken offline for a deployment.");
    }
    let severity = match (handed_over.is_some(), shutting_down) {
        (true, _) => Severity::Low,
        (false, true) => Severity::Medium,
        (false, false) => Severity::High,
    };
    let mut d = Draft::new(FailureMode::WorkerCrash, severity, 0.85, first.time(), last.time())
        .scope(Some(host), first.metabase_site(), None)
        .explain(text);
    if let Some(steps) = thrown.as_ref().and_then(|x| cause_remedy(&x.cause)) {
        d = d.remedy(steps);
    }
    if overflow {
        d = d.remedy(STACK_OVERFLOW_STEPS);
    }
    for e in group.iter().take(8) {
        d.cite(store.cite_event(e, crate::describe::headline(&e.event)), Role::Cause);
    }
    for e in handed_over.into_iter().flat_map(|(shut, started)| [shut, started]) {
        d.cite(store.cite_event(e, crate::describe::headline(&e.event)), Role::Context);
    }
    d
}

/// Whether an exception's text is a stack overflow, which no code can
/// catch.
fn overflowed(exception: &str) -> bool {
    // .NET Framework logs it as the termination's description, not as an
    // exception; newer runtimes name the exception type.
    exception.contains("StackOverflowException") || exception.to_ascii_lowercase().contains("stack overflow")
}

/// Whether an event the crash left says the stack overflowed: the
/// runtime's text, or Application Error 1000's exception code 0xC00000FD
/// (often the only record of it).
fn shows_overflow(e: &EventRow) -> bool {
    let code =
        e.event.event_id == 1000 && e.data_at(6).is_some_and(|c| c.to_ascii_lowercase().contains("c00000fd"));
    code || e.event.data.iter().any(|d| overflowed(&d.value))
}

/// Why a stack overflow ended the worker.
const STACK_OVERFLOW: &str = "A stack overflow cannot be caught on any thread since .NET 2.0: the process \
    ends at once, whatever handlers the code has. The cause is recursion too deep for the thread's stack: \
    unbounded, or deep but finite, since w3wp's threads have small stacks (256 KB in a 32-bit worker, 512 \
    KB in a 64-bit one) and recursion a console run survives can overflow in IIS.";

/// A crash in native code, as Application Error 1000 reports it with no
/// .NET exception behind it: the module that faulted and the exception
/// code.
struct NativeFault<'a> {
    module: &'a str,
    path: Option<&'a str>,
    code: u32,
}

/// NTSTATUS codes of a native fault and what they are.
const ACCESS_VIOLATION: u32 = 0xC000_0005;
const HEAP_CORRUPTION: u32 = 0xC000_0374;
const STACK_BUFFER_OVERRUN: u32 = 0xC000_0409;

/// The exception codes .NET raises its own exceptions with: a crash with
/// one of them is managed code's, whichever module reported it.
const CLR_EXCEPTIONS: [u32; 2] = [0xE043_4352, 0xE043_4F4D];

/// The runtime's own modules: a fault reported in them is the runtime's
/// or managed code's, not a native component's.
const RUNTIME_MODULES: [&str; 5] =
    ["clr.dll", "coreclr.dll", "mscorwks.dll", "clrjit.dll", "mscorlib.ni.dll"];

impl NativeFault<'_> {
    fn said(&self) -> String {
        let what = match self.code {
            ACCESS_VIOLATION => "an access violation (0xC0000005)".to_string(),
            HEAP_CORRUPTION => "heap corruption (0xC0000374)".to_string(),
            STACK_BUFFER_OVERRUN => "a stack buffer overrun or fail-fast (0xC0000409)".to_string(),
            code => format!("exception {code:#010X}"),
        };
        let path = self.path.map_or(String::new(), |p| format!(" ({p})"));
        if self.code == HEAP_CORRUPTION {
            return format!(
                "The fault is {what}, detected in {}{path}: native code loaded into the worker (a native \
                    module, an ISAPI filter or extension, a COM component) corrupted the heap earlier, so the \
                    module that noticed is not the one at fault. No .NET exception was reported.",
                self.module
            );
        }
        format!(
            "The fault is {what} in native code, {}{path}, and no .NET exception was reported: a native \
                module, an ISAPI filter or extension, or a COM component loaded into the worker crashed it, not \
                the application's managed code.",
            self.module
        )
    }
}

/// The native fault a crash group's Application Error 1000 reports, when
/// no .NET Runtime 1026 says a managed exception ended the process.
fn native_fault<'a>(group: &[Crash<'a>]) -> Option<NativeFault<'a>> {
    if group.iter().any(|c| !c.runtime.is_empty()) {
        return None;
    }
    group.iter().flat_map(|c| &c.app_errors).find_map(|x| {
        let module = x.data_at(3)?.trim();
        let code = super::hex_u32(x.data_at(6)?)?;
        let runtime = RUNTIME_MODULES.iter().any(|m| module.eq_ignore_ascii_case(m));
        (code >= 0xC000_0000 && !CLR_EXCEPTIONS.contains(&code) && !runtime).then(|| NativeFault {
            module,
            path: x.data_at(11).map(str::trim).filter(|p| !p.is_empty()),
            code,
        })
    })
}

/// What to do about a native component that crashed the worker.
const NATIVE_FAULT_STEPS: &[&str] = &[
    "Find what the faulting module is (Application Error 1000 gives its path): a third-party native module \
        (globalModules), ISAPI filter or extension, or COM component. Roll back its recent update, or take it out \
        of the pool's pipeline to confirm, and send the vendor a dump.",
    "Capture a crash dump for it: DebugDiag's crash rule for the pool, or WER LocalDumps for w3wp.exe (the \
        report WER 1001 names may already hold one).",
];

/// What to do about heap corruption: catch the component that writes out
/// of bounds, not the one that noticed.
const HEAP_CORRUPTION_STEPS: &[&str] = &[
    "Turn on full page heap for w3wp.exe (gflags /p /enable w3wp.exe /full) and capture a dump at the next \
        crash (DebugDiag crash rule): the faulting stack then names the native component that corrupts the \
        heap, not the one that noticed.",
    "Meanwhile, list the native modules, ISAPI filters and COM components the pool loads, and roll back the \
        most recently changed.",
];

/// What to do after a stack overflow.
const STACK_OVERFLOW_STEPS: &[&str] = &[
    "Find the frame that repeats in the stack the crash left (.NET Runtime 1026 when it logs one, or the dump) \
        and bound that recursion (a cycle in the data it walks, a property calling itself, a serializer \
        following a back reference), or make it iterative.",
    "Take a dump at the overflow: WER LocalDumps for w3wp.exe, or DebugDiag's crash rule for the pool \
        (ProcDump needs the worker's PID, which each crash changes).",
];

/// What to do when the exception says the crash is the deployment's or the
/// configuration's, not code that forgot to catch (mmravec's worker died
/// reading a web.config listener whose assembly was never deployed).
fn cause_remedy(cause: &crate::exception::Cause) -> Option<&'static [&'static str]> {
    use crate::exception::Cause;
    match cause {
        Cause::Configuration => Some(&[
            "Fix the configuration the exception names, the web.config section and the type it loads (a \
                listener, module or handler whose assembly is not deployed: remove its entry, or deploy the \
                assembly): the worker dies each time it is read. On App Service web.config is deployed with the \
                app; app settings replace only its appSettings and connectionStrings.",
            "Read the whole exception in ASP.NET 1325 or .NET Runtime 1026 for the section, file and line.",
        ]),
        Cause::Deployment => Some(&[
            "Deploy the file or assembly the exception names, or remove what references it (a web.config \
                listener, module or handler), then recycle the pool.",
            "Read the whole exception in ASP.NET 1325 or .NET Runtime 1026 for the version asked for.",
        ]),
        Cause::MonitoringAgent { .. } => Some(MONITORING_AGENT_STEPS),
        _ => None,
    }
}

/// What to do when a monitoring agent's code threw, not the app's.
pub(super) const MONITORING_AGENT_STEPS: &[&str] = &[
    "The exception was thrown in the agent's code: update the agent's package the app references \
        (Microsoft.ApplicationInsights.SnapshotCollector for the Snapshot Debugger) to a version without the \
        fault; App Service's built-in agent is updated by the platform.",
    "Until then turn the agent off: on App Service the Snapshot Debugger or Profiler switch in Settings > \
        Application Insights; a package, by its own configuration.",
];

/// The exception a crash report names: ASP.NET 1325 gives the type and the
/// message on lines of their own, the others in the text.
fn reported_exception(text: &str) -> Option<crate::exception::AppException> {
    let line = |k: &str| text.lines().find_map(|l| l.trim().strip_prefix(k)).map(str::trim);
    match (line("Exception:"), line("Message:")) {
        (Some(t), Some(m)) => Some(crate::exception::from_parts(t, m)),
        _ => crate::exception::find(text),
    }
}

/// One crash: the WAS event and what the same process left behind.
struct Crash<'a> {
    was: &'a EventRow,
    pid: Option<u32>,
    app_errors: Vec<&'a EventRow>,
    runtime: Vec<&'a EventRow>,
    abandoned: Vec<&'a ErrRow>,
    wer: Vec<&'a EventRow>,
    /// The worker's own report that it did not start, just before.
    unstarted: Vec<&'a EventRow>,
}

/// Application Error 1000 writes the PID in hex.
pub(super) fn hex_pid(e: &EventRow) -> Option<u32> {
    e.data_at(8).and_then(super::hex_u32)
}

fn is_out_of_memory(e: &EventRow) -> bool {
    e.data_at(0).is_some_and(|t| t.contains("OutOfMemoryException"))
}

/// The crashes WAS reports, with their evidence; none for a worker killed
/// after a failed ping (it hung) or one that ran out of memory while the
/// server did (that is the server's memory exhaustion).
fn crashes(store: &Store) -> Vec<Crash<'_>> {
    let low_memory: Vec<(Arc<str>, faultline_parser::Timestamp)> =
        store.events_of(LOW_MEMORY).map(|e| (e.host.clone(), e.time())).collect();
    let mut crashes = Vec::new();
    for e in store.events_of(WORKER_DIED) {
        let p = pool(e).unwrap_or("-");
        let pid: Option<u32> = e.data("ProcessID").and_then(|v| v.parse().ok());
        let pinged = store
            .events_between(WORKER_PING_FAILED, e.time() - Span::mins(2), e.time())
            .any(|g| g.host == e.host && pool(g) == Some(p));
        // A worker that died starting because a native module did not
        // load, or its configuration could not be read, is that finding's.
        if pinged || super::follows_start_failure(store, e) {
            continue;
        }
        let (from, to) = (e.time() - Span::secs(10), e.time() + Span::secs(10));
        let app_errors: Vec<&EventRow> = store
            .events_between(APPLICATION_FAULT, from, to)
            .filter(|x| x.host == e.host && (pid.is_none() || hex_pid(x) == pid))
            .collect();
        let runtime: Vec<&EventRow> =
            store.events_between(RUNTIME_TERMINATED, from, to).filter(|x| x.host == e.host).collect();
        let server_out_of_memory = low_memory.iter().any(|(h, t)| {
            let since = e.time() - *t;
            *h == e.host && since >= Span::default() && since <= Span::hours(1)
        });
        if server_out_of_memory && runtime.iter().any(|r| is_out_of_memory(r)) {
            continue;
        }
        let abandoned = store
            .errors_between(from, to)
            .iter()
            .filter(|r| r.host == e.host && r.reason.is_abandoned())
            .collect();
        let wer = store
            .events_between(ERROR_REPORT, e.time(), e.time() + Span::mins(5))
            .filter(|x| x.host == e.host)
            .collect();
        let unstarted = super::worker_start::before_death(store, e, pid);
        crashes.push(Crash { was: e, pid, app_errors, runtime, abandoned, wer, unstarted });
    }
    crashes
}

/// The first line of an exception report that names it.
fn exception_of(group: &[Crash<'_>]) -> String {
    group
        .iter()
        .flat_map(|c| &c.runtime)
        .filter_map(|r| r.data_at(0))
        .find_map(|t| {
            t.lines()
                .find(|l| l.starts_with("Exception Info:"))
                .or_else(|| t.lines().find(|l| l.starts_with("Description:")))
        })
        .unwrap_or("")
        .trim()
        .trim_end_matches('.')
        .to_string()
}

fn confirmed_by_events(store: &Store, out: &mut Vec<Draft>) {
    // Crashes of one pool within minutes of each other are one incident.
    let mut by_pool: BTreeMap<(Arc<str>, String), Vec<Crash<'_>>> = BTreeMap::new();
    for c in crashes(store) {
        by_pool.entry((c.was.host.clone(), pool(c.was).unwrap_or("-").to_string())).or_default().push(c);
    }
    for ((host, p), list) in by_pool {
        for group in clusters(list, |c| c.was.time(), Span::mins(15)) {
            out.push(finding(store, &host, &p, &group));
        }
    }
}

fn finding(store: &Store, host: &str, p: &str, group: &[Crash<'_>]) -> Draft {
    let (first, last) = (&group[0], &group[group.len() - 1]);
    let exception = exception_of(group);
    let overflow = overflowed(&exception)
        || group.iter().flat_map(|c| c.runtime.iter().chain(&c.app_errors)).any(|e| shows_overflow(e));
    let abandoned: u64 = group.iter().map(|c| store.errors_counted(&c.abandoned)).sum();
    let confirmed = group.iter().any(|c| !c.app_errors.is_empty() || !c.runtime.is_empty());
    let module = group.iter().flat_map(|c| &c.app_errors).find_map(|x| x.data_at(3));
    let native = native_fault(group);
    let pids: Vec<String> = group.iter().filter_map(|c| c.pid.map(|p| p.to_string())).collect();
    let times = if group.len() == 1 { "once".to_string() } else { format!("{} times", group.len()) };
    let site = group.iter().flat_map(|c| &c.abandoned).find_map(|r| r.site);
    let unstarted: Vec<&EventRow> = group.iter().flat_map(|c| &c.unstarted).copied().collect();
    if let Some(report) = unstarted.first().filter(|_| !confirmed) {
        return unstarted_finding(store, (host, site, p), group, &unstarted, report);
    }
    let mut d = Draft::new(
        FailureMode::WorkerCrash,
        Severity::High,
        if confirmed { 0.9 } else { 0.7 },
        first.was.time() - Span::secs(1),
        last.was.time() + Span::secs(10),
    )
    .scope(Some(host), site, Some(p))
    .explain(format!(
        "The w3wp worker of {p} died unexpectedly {times} (PID {}; WAS {}){}{}. Requests in flight were \
            lost{}; each new worker started cold. {}",
        listed(&pids, LISTED),
        first.was.event.event_id,
        module.map_or(String::new(), |m| format!(", faulting in {m}")),
        if exception.is_empty() { String::new() } else { format!(": {exception}") },
        if abandoned == 0 { String::new() } else { format!(" ({abandoned} abandoned by HTTP.sys)") },
        match (overflow, &native) {
            (true, _) => STACK_OVERFLOW.to_string(),
            (false, Some(n)) => n.said(),
            (false, None) =>
                "The code assumed an exception on a background thread would be harmless; in IIS it \
                terminates the process."
                    .to_string(),
        },
    ));
    if overflow {
        d = d.remedy(STACK_OVERFLOW_STEPS);
    } else if let Some(n) = &native {
        d = d.remedy(if n.code == HEAP_CORRUPTION { HEAP_CORRUPTION_STEPS } else { NATIVE_FAULT_STEPS });
    }
    for c in group {
        let pid = c.pid.map_or_else(|| "-".into(), |p| p.to_string());
        for r in &c.runtime {
            d.cite(
                store.cite_event(r, format!(".NET Runtime {}: {exception}", r.event.event_id)),
                Role::Cause,
            );
        }
        for x in &c.app_errors {
            let summary = format!(
                "Application Error 1000: w3wp.exe (PID {pid}) faulted in {} with {}",
                x.data_at(3).unwrap_or("-"),
                x.data_at(6).unwrap_or("-")
            );
            d.cite(store.cite_event(x, summary), Role::Cause);
        }
        let summary = format!("WAS {}: worker {pid} of {p} terminated", c.was.event.event_id);
        d.cite(store.cite_event(c.was, summary), Role::Effect);
        d.cite_first(c.abandoned.iter(), 3, Role::Effect, |r| store.cite_error(r));
        for w in c.wer.iter().take(1) {
            let summary = format!(
                "WER 1001: {} report, dump {}",
                w.data_at(2).unwrap_or("-"),
                w.data_at(15).unwrap_or("-")
            );
            d.cite(store.cite_event(w, summary), Role::Context);
        }
    }
    d
}

/// Workers that reported they could not start, then died: no crash of the
/// application's code, a start that failed, said with the worker's reason.
fn unstarted_finding(
    store: &Store,
    (host, site, p): (&str, Option<u32>, &str),
    group: &[Crash<'_>],
    unstarted: &[&EventRow],
    report: &EventRow,
) -> Draft {
    let (first, last) = (&group[0], &group[group.len() - 1]);
    let pids: Vec<String> = group.iter().filter_map(|c| c.pid.map(|p| p.to_string())).collect();
    let times = if group.len() == 1 { "once".to_string() } else { format!("{} times", group.len()) };
    let error = unstarted.iter().find_map(|e| super::module_load::error_of(e));
    let mut d = Draft::new(
        FailureMode::WorkerCrash,
        Severity::High,
        0.85,
        report.time().min(first.was.time()) - Span::secs(1),
        last.was.time() + Span::secs(10),
    )
    .scope(Some(host), site, Some(p))
    .explain(format!(
        "A w3wp worker of {p} did not start and died {times} (PID {}; WAS {}): {} (W3SVC-WP {}{}). No code of \
            the application ran in it; each start the pool made failed the same way, and WAS disables the pool \
            if five fail within five minutes (rapid-fail protection).",
        listed(&pids, LISTED),
        first.was.event.event_id,
        super::worker_start::step(report.event.event_id),
        report.event.event_id,
        error.map_or(String::new(), |c| format!(", {}", super::worker_start::error(c))),
    ))
    .remedy(&[
        "Read the events the worker logged just before (W3SVC-WP, WAS, Application) for the step that failed; \
            the error in the event's data says why (5: the pool's identity lacks a right, as on \
            C:\\inetpub\\temp\\appPools or the site's folders).",
    ]);
    d.cite_first(unstarted.iter(), 10, Role::Cause, |w| store.cite_event(w, super::worker_start::cited(w)));
    for c in group {
        let pid = c.pid.map_or_else(|| "-".into(), |p| p.to_string());
        let summary = format!("WAS {}: worker {pid} of {p} terminated", c.was.event.event_id);
        d.cite(store.cite_event(c.was, summary), Role::Effect);
        d.cite_first(c.abandoned.iter(), 3, Role::Effect, |r| store.cite_error(r));
    }
    d
}

/// Without the host's System log, a burst of abandoned requests for one pool
/// in the same second is still the mark of a worker that went away. A burst
/// with no queue name belongs to some other HTTP.sys consumer (a Windows
/// service), which no IIS failure mode covers: it stays visible as
/// `unexplained`.
fn from_abandoned_requests(store: &Store, out: &mut Vec<Draft>) {
    let abandoned = store.errors.iter().filter(|r| r.reason.is_abandoned());
    let bursts = grouped(abandoned, |r| (r.host.clone(), r.queue.clone()));
    for ((host, queue), rows) in bursts {
        let has_system_log =
            store.events.iter().any(|e| e.host == host && e.event.channel.as_deref() == Some("System"));
        if has_system_log && queue.is_some() {
            continue;
        }
        for c in clusters(rows, |r| r.time, Span::secs(2)) {
            if c.len() < 3 {
                continue;
            }
            let (start, end) = (c[0].time - Span::secs(1), c[c.len() - 1].time + Span::secs(10));
            let mut d = match &queue {
                Some(queue) => Draft::new(FailureMode::WorkerCrash, Severity::High, 0.55, start, end)
                    .scope(Some(&host), c[0].site, Some(queue))
                    .explain(format!(
                        "HTTP.sys abandoned {} requests of {queue} in the same moment: the worker process \
                            that owned them went away (crash or kill). The host's System event log is not in \
                            the evidence, so WAS cannot confirm it; add System.evtx and Application.evtx to \
                            see why.",
                        store.errors_counted(&c)
                    ))
                    .remedy(&[
                        "Collect the System and Application event logs of this host (WAS 5011/5009, \
                            Application Error 1000, .NET Runtime 1026).",
                        "Then follow the worker-crash remediation.",
                    ]),
                None => {
                    let mut paths: Vec<&str> =
                        c.iter().filter_map(|r| r.uri.as_deref()).map(first_segment).collect();
                    paths.sort_unstable();
                    paths.dedup();
                    Draft::new(FailureMode::Unexplained, Severity::Low, 0.35, start, end)
                        .scope(Some(&host), c[0].site, None)
                        .explain(format!(
                            "HTTP.sys abandoned {} requests for {} in the same moment: the process that \
                                owned their request queue went away. HTTP.sys logged no app pool for them, \
                                so the queue is not an IIS worker's but another program's on HTTP.sys (a \
                                Windows service such as UPnP/WSD, WinRM or a self-hosted app).",
                            store.errors_counted(&c),
                            listed(&paths, LISTED)
                        ))
                        .remedy(&[
                            "Find the program that registered the URL (netsh http show servicestate) and \
                                read its own logs and the System log for the moment.",
                            "If the URL should belong to an IIS site, check its binding: HTTP.sys names the \
                                pool for IIS queues.",
                        ])
                }
            };
            // HTTP.sys refusing the pool's requests right after: WAS held
            // it offline, which one crash does not do.
            let offline: Vec<&ErrRow> = match &queue {
                Some(queue) => {
                    let stretch = super::rapid_fail::offline_from(store, &host, queue, c[0].time);
                    // Begun right after the abandoned requests, or another
                    // outage's.
                    match stretch.first() {
                        Some(r) if r.time <= c[c.len() - 1].time + AFTER_CRASH => stretch,
                        _ => Vec::new(),
                    }
                }
                None => Vec::new(),
            };
            if let Some(last) = store.errors_end(&offline) {
                d.end = d.end.max(last);
                let n = store.errors_counted(&offline);
                d.explanation.push_str(&format!(
                    " Then HTTP.sys answered {n} request{} 503 AppOffline itself until {}: WAS held the pool \
                        offline, as it does after repeated failures (rapid-fail protection) or when the pool's \
                        identity cannot log on, not after one crash; the System log says which.",
                    if n == 1 { "" } else { "s" },
                    last.to_prose()
                ));
            }
            d.cite_first(c.iter(), 5, Role::Effect, |r| store.cite_error(r));
            d.cite_first(offline.iter(), 3, Role::Effect, |r| store.cite_error(r));
            out.push(d);
        }
    }
}

/// How soon after the abandoned requests HTTP.sys answering 503 AppOffline
/// is the same outage's.
const AFTER_CRASH: Span = Span::mins(2);

/// The first segment of a URL path (`/upnphost/udhisapi.dll` → `/upnphost`).
fn first_segment(uri: &str) -> &str {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    match path.get(1..).and_then(|rest| rest.find('/')) {
        Some(i) => &path[..i + 1],
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use faultline_parser::w3c::ReasonKind;

    use super::*;
    use crate::detect::testing::{Given, at};

    fn crash(e: Given, host: &str, secs: i64) -> Given {
        e.event(host, secs, "WAS", 5011, &[("AppPoolID", "ShopPool"), ("ProcessID", "5816")])
            .positional(
                host,
                secs - 1,
                "Application Error",
                1000,
                &["w3wp.exe", "10.0", "0", "KERNELBASE.dll", "10.0", "0", "e0434352", "0x1", "16b8"],
            )
            .positional(
                host,
                secs - 2,
                ".NET Runtime",
                1026,
                &["Application: w3wp.exe\nException Info: System.InvalidOperationException: boom.\n   at \
                    Worker.Run()"],
            )
            .in_channel(host, secs - 100, "Service Control Manager", 7036, "System")
    }

    #[test]
    fn a_worker_that_died_is_a_crash_with_its_exception() {
        let e = crash(Given::new(), "WEB01", 100).errors(
            3,
            "WEB01",
            99,
            503,
            ReasonKind::ConnectionAbandonedByReqQueue,
            Some("ShopPool"),
        );
        let found = e.detected(detect);
        assert_eq!(found.len(), 1, "the abandoned requests are part of the crash, not a second finding");
        let d = &found[0];
        assert_eq!((d.id, d.severity, d.confidence), (FailureMode::WorkerCrash, Severity::High, 0.9));
        assert_eq!((d.start, d.end), (at(99), at(110)));
        assert!(
            d.explanation.contains(
                "(PID 5816; WAS 5011), faulting in KERNELBASE.dll: Exception Info: \
            System.InvalidOperationException: boom"
            ),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("(3 abandoned by HTTP.sys)"), "{}", d.explanation);
        assert_eq!(d.scope.app_pool.as_deref(), Some("ShopPool"));
    }

    /// A stack overflow, as .NET Framework logs it (the termination's
    /// description, no exception), is no uncaught exception a handler
    /// would have saved: the finding says so and gives the recursion's
    /// steps; a crash by an exception keeps the mode's.
    #[test]
    fn a_stack_overflow_is_recursion_not_a_missing_handler() {
        let e = Given::new()
            .event("WEB01", 100, "WAS", 5011, &[("AppPoolID", "ShopPool"), ("ProcessID", "5816")])
            .positional(
                "WEB01",
                98,
                ".NET Runtime",
                1026,
                &["Application: w3wp.exe\nDescription: The process was terminated due to stack overflow.\nStack:\n   \
                    at Node.Visit()\n   at Node.Visit()"],
            );
        let d = &e.detected(detect)[0];
        assert!(d.explanation.contains("A stack overflow cannot be caught"), "{}", d.explanation);
        assert!(!d.explanation.contains("background thread"), "{}", d.explanation);
        assert!(d.remediation[0].contains("bound that recursion"), "{:?}", d.remediation);
        // Application Error 1000's 0xC00000FD is often the only record.
        let coded = Given::new()
            .event("WEB01", 100, "WAS", 5011, &[("AppPoolID", "ShopPool"), ("ProcessID", "5816")])
            .positional(
                "WEB01",
                99,
                "Application Error",
                1000,
                &["w3wp.exe", "10.0", "0", "clr.dll", "4.8", "0", "c00000fd", "0x1", "16b8"],
            );
        let d = &coded.detected(detect)[0];
        assert!(d.explanation.contains("A stack overflow cannot be caught"), "{}", d.explanation);
        let thrown = &crash(Given::new(), "WEB01", 100).detected(detect)[0];
        assert!(!thrown.explanation.contains("stack overflow"), "{}", thrown.explanation);
        assert!(!thrown.remediation[0].contains("recursion"), "{:?}", thrown.remediation);
    }

    /// An access violation in a third-party DLL with no .NET exception is
    /// a native component's crash, with its steps; the same module with
    /// .NET's exception code, or a managed crash 1026 reports, is not.
    #[test]
    fn a_native_modules_access_violation_is_not_blamed_on_managed_code() {
        let faulted = |module: &str, code: &str| {
            Given::new()
                .event("WEB07", 100, "WAS", 5011, &[("AppPoolID", "ApiPool"), ("ProcessID", "4412")])
                .positional(
                    "WEB07",
                    99,
                    "Application Error",
                    1000,
                    &[
                        "w3wp.exe",
                        "10.0",
                        "0",
                        module,
                        "4.2",
                        "0",
                        code,
                        "0x1a3f4",
                        "0x113c",
                        "0x01db",
                        "c:\\windows\\system32\\inetsrv\\w3wp.exe",
                        "C:\\Program Files\\Acme\\SSO\\AcmeSso.dll",
                    ],
                )
        };
        let native = &faulted("AcmeSso.dll", "c0000005").detected(detect)[0];
        assert!(
            native.explanation.contains("an access violation (0xC0000005) in native code"),
            "{}",
            native.explanation
        );
        assert!(native.explanation.contains("Acme\\SSO\\AcmeSso.dll"), "{}", native.explanation);
        assert!(!native.explanation.contains("background thread"), "{}", native.explanation);
        assert!(native.remediation[0].contains("Roll back its recent update"), "{:?}", native.remediation);
        let heap = &faulted("ntdll.dll", "c0000374").detected(detect)[0];
        assert!(heap.remediation[0].contains("page heap"), "{:?}", heap.remediation);
        let managed = &faulted("KERNELBASE.dll", "e0434352").detected(detect)[0];
        assert!(managed.explanation.contains("background thread"), "{}", managed.explanation);
        let reported = &faulted("AcmeSso.dll", "c0000005")
            .positional(
                "WEB07",
                98,
                ".NET Runtime",
                1026,
                &["Application: w3wp.exe\nException Info: System.InvalidOperationException"],
            )
            .detected(detect)[0];
        assert!(!reported.explanation.contains("in native code"), "{}", reported.explanation);
    }

    #[test]
    fn a_worker_killed_after_a_failed_ping_hung_rather_than_crashed() {
        let e =
            crash(Given::new(), "WEB01", 100).event("WEB01", 90, "WAS", 5010, &[("AppPoolID", "ShopPool")]);
        assert!(e.detected(detect).is_empty());
    }

    #[test]
    fn abandoned_requests_without_a_system_log_still_mark_a_crash() {
        let e = Given::new().errors(
            3,
            "WEB02",
            10,
            503,
            ReasonKind::ConnectionAbandonedByReqQueue,
            Some("ApiPool"),
        );
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].confidence), (FailureMode::WorkerCrash, 0.55));
        assert_eq!(found[0].remediation[1], "Then follow the worker-crash remediation.");
    }

    #[test]
    fn scattered_or_queueless_abandons_are_no_worker_crash() {
        let scattered = Given::new()
            .error("WEB02", 10, 503, ReasonKind::ConnectionAbandonedByReqQueue, Some("ApiPool"))
            .error("WEB02", 20, 503, ReasonKind::ConnectionAbandonedByReqQueue, Some("ApiPool"))
            .error("WEB02", 30, 503, ReasonKind::ConnectionAbandonedByReqQueue, Some("ApiPool"));
        assert!(scattered.detected(detect).is_empty());
        let foreign =
            Given::new().errors(3, "WEB02", 10, 503, ReasonKind::ConnectionAbandonedByReqQueue, None);
        let found = foreign.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::Unexplained, Severity::Low));
    }

    /// A pool crashing every 30 s for an hour: its finding names the
    /// first ten workers' PIDs and counts the rest, where it listed all.
    #[test]
    fn a_crash_loop_names_a_few_workers_and_counts_the_rest() {
        let mut e = Given::new();
        for i in 0..120 {
            let pid = (4000 + i).to_string();
            e = e.event("WEB01", 30 * i, "WAS", 5011, &[("AppPoolID", "ShopPool"), ("ProcessID", &pid)]);
        }
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let text = &found[0].explanation;
        assert!(text.contains("died unexpectedly 120 times (PID 4000, 4001, 4002,"), "{text}");
        assert!(text.contains(", 4009 and 110 more; WAS 5011)"), "{text}");
        assert!(!text.contains("4010"), "{text}");
    }

    const TERMINATED: &str = "An unhandled exception occurred and the process was terminated.\n\nApplication \
        ID: /LM/W3SVC/1983179991/ROOT\n\nProcess ID: 6852\n\nException: \
        System.Configuration.ConfigurationErrorsException\n\nMessage: Couldn't find type for class X.";

    #[test]
    fn the_workers_own_reports_prove_a_crash_without_was() {
        let e = Given::new().positional("APP", 100, "ASP.NET 4.0.30319.0", 1325, &[TERMINATED]).positional(
            "APP",
            100,
            ".NET Runtime",
            1026,
            &["Application: w3wp.exe\nDescription: The process was terminated due to an unhandled \
                exception.\nException Info: System.Configuration.ConfigurationErrorsException"],
        );
        let found = e.detected(detect);
        assert_eq!(found.len(), 1, "two reports of one crash");
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::WorkerCrash, Severity::High));
        assert_eq!(d.scope.site.as_deref(), Some("1983179991"));
        assert!(d.explanation.contains("once (PID 6852)"), "{}", d.explanation);
        assert!(d.explanation.contains("ConfigurationErrorsException"), "{}", d.explanation);
        assert!(
            d.remediation[0].starts_with("Fix the configuration the exception names"),
            "{:?}",
            d.remediation
        );
    }

    /// A worker that threw as it shut down, after ANCM had started its
    /// successor (sadabyakod's #70 1033, #71 1032, #72 1026 a second later):
    /// low. The same crash with no restart around it stays high.
    #[test]
    fn a_crash_of_a_worker_already_replaced_is_low() {
        let crash = &[
            "Application: w3wp.exe\nException Info: System.ObjectDisposedException: Cannot access a disposed object.",
        ];
        let restart = Given::new()
            .positional("APP", 100, "IIS AspNetCore Module V2", 1033, &["Application 'X' has shutdown."])
            .positional(
                "APP",
                125,
                "IIS AspNetCore Module V2",
                1032,
                &["Application 'X' started successfully."],
            )
            .positional("APP", 126, ".NET Runtime", 1026, crash);
        let found = restart.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Low, "{}", found[0].explanation);
        assert!(
            found[0].explanation.contains("after ANCM had started the new one"),
            "{}",
            found[0].explanation
        );
        let alone = Given::new()
            .positional("APP", 100, "IIS AspNetCore Module V2", 1033, &["Application 'X' has shutdown."])
            .positional("APP", 126, ".NET Runtime", 1026, crash);
        assert_eq!(alone.detected(detect)[0].severity, Severity::High, "shut down, but no successor started");
    }

    #[test]
    fn other_programs_and_failed_starts_are_not_worker_crashes() {
        let console = Given::new().positional(
            "APP",
            100,
            ".NET Runtime",
            1026,
            &["Application: dotnet.exe\nException Info: System.IO.FileNotFoundException: subjects.json"],
        );
        assert!(console.detected(detect).is_empty(), "not an IIS worker");
        let start = Given::new()
            .positional(
                "APP",
                100,
                ".NET Runtime",
                1026,
                &["Application: w3wp.exe\nException Info: System.Exception"],
            )
            .positional("APP", 100, "IIS AspNetCore Module V2", 1018, &["hit unexpected managed exception"])
            .positional("APP", 101, "IIS AspNetCore Module V2", 1007, &["failed to load coreclr"]);
        assert!(start.detected(detect).is_empty(), "the app never started: ANCM's finding");
    }

    /// A worker that reported it could not initialize (W3SVC-WP 2276,
    /// access denied) and died: a start that failed, said with its reason,
    /// not an exception in the application's code. Another process's
    /// report does not make a crash one.
    #[test]
    fn a_worker_that_reported_it_could_not_start_did_not_crash_in_code() {
        let died = |pid: u32| {
            Given::new()
                .event("WEB01", 100, "Microsoft-Windows-IIS-W3SVC-WP", 2276, &[])
                .binary("05000000")
                .process(pid)
                .event("WEB01", 101, "WAS", 5011, &[("AppPoolID", "ShopPool"), ("ProcessID", "4711")])
                .detected(detect)
        };
        let own = died(4711);
        let text = &own[0].explanation;
        assert!(
            text.starts_with(
                "A w3wp worker of ShopPool did not start and died once (PID 4711; WAS 5011): a worker failed to \
                 initialize (W3SVC-WP 2276, error 5: access denied"
            ),
            "{text}"
        );
        assert!(own[0].evidence.iter().any(|e| e.summary.starts_with("W3SVC-WP 2276: a worker failed")));
        let other = died(9000);
        assert!(other[0].explanation.starts_with("The w3wp worker of ShopPool died unexpectedly"));
    }

    #[test]
    fn the_first_path_segment_names_the_consumer() {
        assert_eq!(first_segment("/upnphost/udhisapi.dll?content=uuid:1"), "/upnphost");
        assert_eq!(first_segment("/upnp/eventing/abc"), "/upnp");
        assert_eq!(first_segment("/"), "/");
        assert_eq!(first_segment("/wsman"), "/wsman");
        assert_eq!(first_segment(""), "");
    }
}
