//! `ancm-startup-failure`: the ASP.NET Core Module could not start the
//! application. Decisive on its own, without W3C or WAS: ANCM's start
//! failures (in-process 1007/1011/1018/1035, shim 1010/1027/1031, handler and
//! hosting-model errors 1008/1009/1028/1029/1034, out-of-process 1020 and
//! v1 1000, the rapid-fail cut-off 1003). One episode runs from the first
//! failure to the next successful start (1032, or 1001 out of process) of
//! the same application, or stays open when none follows. The exception
//! that stopped the app comes from the .NET Runtime 1026 of the same second,
//! the stdout ANCM captured (1018) or the shim's own message, and is
//! classified by its stable tokens: a database that refused the login is
//! also a `db-login-failure` naming the account.
//!
//! An out-of-process app (its own `dotnet.exe` or apphost, not w3wp) that
//! throws out of its `Program.Main` leaves no ANCM event per attempt on App
//! Service: the runtime's 1026 is the evidence. Such crashes count as failed
//! starts on a host whose ANCM events name an application of the
//! customer's, when they repeat.

use std::collections::BTreeMap;
use std::sync::Arc;

use faultline_parser::{Span, Timestamp};

use super::kinds::{
    ANCM_SHUT_DOWN, ANCM_START_FAILED, ANCM_STARTED, ANCM_STOPPED, APP_LOGGER, DEPLOYMENT_REPORTS,
    DOTNET_TERMINATED, WORKER_UNHEALTHY,
};
use super::{Draft, FailureMode};
use crate::describe::headline;
use crate::evidence::{EventRow, Store};
use crate::exception::{self, AppException, Cause};
use crate::finding::{Role, Severity};

/// Failures further apart than this without a start between them are two
/// episodes (a weekend of silence is not one outage).
const EPISODE_GAP: Span = Span::hours(6);

/// Events of one failed start attempt lie within this of each other.
const ATTEMPT: Span = Span::secs(5);
/// Another instance failing for the same reason this long after one
/// started again is the same outage of the site (one deployment restarting
/// each instance in turn).
const RIGHT_AFTER: Span = Span::mins(5);

/// The application an ANCM event names by its physical path (`C:\home\site\wwwroot\`):
/// restarts of another application on the host (a site extension, the SCM
/// site) do not end this one's outage.
pub(super) fn physical_path(e: &EventRow) -> Option<String> {
    // An exception's text quotes files too (appsettings.json): only ANCM
    // names its application this way.
    if e.event.family() != faultline_parser::winevent::Family::Ancm {
        return None;
    }
    let text = e.data_at(0)?;
    text.split('\'')
        .find(|part| part.len() > 2 && part.as_bytes()[1] == b':' && part.contains('\\'))
        .map(|p| p.trim_end_matches('\\').to_ascii_lowercase())
}

/// A site extension's own app (`C:\Program Files (x86)\SiteExtensions\Functions\…`,
/// the Application Insights agent): never the customer's application.
fn is_site_extension(path: &str) -> bool {
    path.contains("\\siteextensions\\")
}

/// Whether an ANCM event names an application of the customer's: a
/// physical root outside the site extensions, or a site in
/// `MACHINE/WEBROOT/APPHOST/<SITE>` that is not an Azure Functions
/// placeholder, nor the site's Kudu companion `~1<SITE>`, whose
/// applications are the extensions it hosts (the Application Insights
/// agent's `~1<SITE>/APPLICATIONINSIGHTS` starts and stops on its own).
pub(super) fn names_customer_app(e: &EventRow) -> bool {
    if let Some(path) = physical_path(e) {
        return !is_site_extension(&path);
    }
    let Some(text) = e.data_at(0) else { return false };
    text.split('\'')
        .filter_map(|part| part.strip_prefix("MACHINE/WEBROOT/APPHOST/"))
        .any(|site| !site.starts_with("~1") && crate::identity::config_site(site).is_some())
}

/// Whether the ANCM start `start` is a start of the application `app`
/// names (its physical path, when its events gave one): not another
/// application's, nor a site extension's (a Functions host) when the app is
/// not named.
pub(super) fn starts_app(app: Option<&str>, start: &EventRow) -> bool {
    match (app, physical_path(start)) {
        (Some(a), Some(b)) => a == b,
        (None, Some(b)) => !is_site_extension(&b),
        (_, None) => true,
    }
}

/// A .NET Runtime 1026 of a process other than w3wp whose unhandled
/// exception ran out through the app's own `Program.Main` (the last frame of
/// the outer stack, outside .NET's and Microsoft's or Azure's libraries): the process died
/// while it started.
fn died_in_main(e: &EventRow) -> bool {
    if super::crash::is_worker_process(e) {
        return false;
    }
    let Some(text) = e.data_at(0) else { return false };
    crate::exception::frames(text).next_back().is_some_and(|name| {
        !crate::exception::is_library_frame(name)
            && (name.ends_with(".Main") || name.ends_with(".<Main>") || name.ends_with(".<Main>$"))
    })
}

/// The out-of-process start crashes of each host that runs a customer's
/// app under ANCM (a Generic Host service crashing in its Main on a
/// machine without ANCM is no web app's failed start).
fn main_crashes(store: &Store) -> impl Iterator<Item = &EventRow> {
    let ancm_hosts: std::collections::BTreeSet<&str> = store
        .events_of(ANCM_STARTED)
        .chain(store.events_of(ANCM_SHUT_DOWN))
        .chain(store.events_of(ANCM_START_FAILED))
        .filter(|e| names_customer_app(e))
        .map(|e| &*e.host)
        .collect();
    store.events_of(DOTNET_TERMINATED).filter(move |e| died_in_main(e) && ancm_hosts.contains(&*e.host))
}

/// ANCM v1 and HttpPlatformHandler log 1000 as the final start failure; V2
/// logs it as a warning for each retry and ends with 1020.
fn is_final(e: &EventRow) -> bool {
    e.event.event_id != 1000 || !e.event.provider.to_ascii_uppercase().ends_with("V2")
}

/// 1018 without a start failure beside it is an in-process app that threw
/// after it had started: a crash, which the crash detector reads.
fn is_start_failure(store: &Store, e: &EventRow) -> bool {
    if e.event.event_id != 1018 {
        return is_final(e);
    }
    store
        .events_between(ANCM_START_FAILED, e.time() - ATTEMPT, e.time() + ATTEMPT)
        .any(|o| o.host == e.host && matches!(o.event.event_id, 1007 | 1010 | 1011 | 1035))
}

/// The ANCM events that mean an application failed to start (what this
/// detector reports; the others defer to it), in time order.
pub(super) fn start_failures(store: &Store) -> impl Iterator<Item = &EventRow> {
    store.events_of(ANCM_START_FAILED).filter(|e| is_start_failure(store, e))
}

/// Whether ANCM reports a failed start on `host` within seconds of `at`:
/// a crash report then belongs to the start failure.
pub(super) fn start_failed_near(store: &Store, host: &str, at: Timestamp) -> bool {
    start_failed_between(store, host, at - ATTEMPT, at + ATTEMPT)
}

/// Whether ANCM reports a failed start on `host` from `from` to `to`.
pub(super) fn start_failed_between(store: &Store, host: &str, from: Timestamp, to: Timestamp) -> bool {
    store.events_between(ANCM_START_FAILED, from, to).any(|e| &*e.host == host && is_start_failure(store, e))
}

/// One application's failed starts until it started again.
#[derive(Debug)]
struct Episode<'a> {
    failures: Vec<&'a EventRow>,
    recovered: Option<&'a EventRow>,
    /// The latest start of the application on another instance of the
    /// host (an App Service site's other worker) before the episode ended
    /// and at most [`EPISODE_GAP`] before it began: that worker may have
    /// served meanwhile.
    elsewhere: Option<&'a EventRow>,
    /// For an episode no start ends: the first request the app's own log
    /// says it handled afterwards, before the host's next failure (an app
    /// out of process may start with no ANCM event saying so).
    served: Option<&'a EventRow>,
}

/// The machine an event was logged on, as it names itself.
fn instance(e: &EventRow) -> Option<&str> {
    e.event.computer.as_deref()
}

/// Failures and successful starts of each host, in time order, cut into
/// episodes.
fn episodes(store: &Store) -> Vec<(Arc<str>, Episode<'_>)> {
    let mut out: Vec<(Arc<str>, Episode<'_>)> = Vec::new();
    // Each instance of a host apart: App Service files a site's workers
    // under the site, and one worker starting is not another's recovery.
    let mut by_instance: BTreeMap<(Arc<str>, Option<&str>), Vec<&EventRow>> = Default::default();
    let failures = start_failures(store).chain(main_crashes(store));
    for e in failures.chain(store.events_of(ANCM_STARTED)) {
        by_instance.entry((e.host.clone(), instance(e))).or_default().push(e);
    }
    for ((host, _), mut events) in by_instance {
        events.sort_by_key(|e| (e.time(), e.event.record_id));
        let mut open: Option<Episode<'_>> = None;
        for e in events {
            let failed = !ANCM_STARTED.iter().any(|k| k.matches(&e.event));
            match (&mut open, failed) {
                (Some(ep), true) if e.time() - ep.last().time() <= EPISODE_GAP => ep.failures.push(e),
                (_, true) => {
                    if let Some(done) = open.take() {
                        out.push((host.clone(), done));
                    }
                    open =
                        Some(Episode { failures: vec![e], recovered: None, elsewhere: None, served: None });
                }
                (Some(ep), false) => {
                    let app = ep.failures.iter().find_map(|f| physical_path(f));
                    if starts_app(app.as_deref(), e) {
                        ep.recovered = Some(e);
                        out.push((host.clone(), open.take().expect("an open episode")));
                    }
                }
                (None, false) => {}
            }
        }
        if let Some(done) = open {
            out.push((host.clone(), done));
        }
    }
    let mut out = merged(out);
    // A start on another instance the episode's failures were not on,
    // before the episode ended: that instance may have served meanwhile.
    for (host, ep) in &mut out {
        let failed_on: Vec<Option<&str>> = ep.failures.iter().map(|f| instance(f)).collect();
        let app = ep.failures.iter().find_map(|f| physical_path(f));
        let (first, end) =
            (ep.failures[0].time(), ep.recovered.map_or_else(|| ep.last().time(), |r| r.time()));
        // One that shut down again before the episode began (app_offline,
        // a restart) was serving no one then.
        let stopped = |s: &EventRow| {
            let (from, to) = (s.time(), first.max(s.time()));
            store
                .events_between(ANCM_STOPPED, from, to)
                .any(|e| e.host == s.host && instance(e) == instance(s) && e.time() > from)
        };
        ep.elsewhere = store
            .events_of(ANCM_STARTED)
            .filter(|s| s.host == *host && !failed_on.contains(&instance(s)) && instance(s).is_some())
            .filter(|s| s.time() <= end && first - s.time() <= EPISODE_GAP)
            .filter(|s| starts_app(app.as_deref(), s))
            .max_by_key(|s| (s.time(), s.event.record_id))
            .filter(|s| !stopped(s));
    }
    // A lone crash through Program.Main may be a tool run once; a loop of
    // them is the app failing to start.
    out.retain(|(_, ep)| !ep.out_of_process() || attempts(ep) >= 2);
    // The app serving a request after an episode no start ended: it was up
    // again by then.
    for i in 0..out.len() {
        let (host, ep) = &out[i];
        if ep.recovered.is_some() {
            continue;
        }
        let after = ep.last().time();
        let next = out
            .iter()
            .filter(|(h, e)| h == host && e.failures[0].time() > after)
            .map(|(_, e)| e.failures[0].time())
            .min();
        let served = store
            .events_of(APP_LOGGER)
            .filter(|e| e.host == *host && e.time() > after && next.is_none_or(|n| e.time() < n))
            .find(|e| handled_request(e));
        out[i].1.served = served;
    }
    out
}

/// Whether the host runs an Azure Functions app: ANCM started the
/// Functions host (`SiteExtensions\Functions\`) there, so a .NET process
/// dying beside it is the app's isolated worker, not an app ANCM ran.
fn functions_host(store: &Store, host: &str) -> bool {
    store.events_of(ANCM_STARTED).any(|e| {
        *e.host == *host && physical_path(e).is_some_and(|p| p.contains("\\siteextensions\\functions\\"))
    })
}

/// Whether an ASP.NET Core log event (the event-log logger's text) was
/// written while the app handled a request: it names the request's id and
/// path, so the app was running.
fn handled_request(e: &EventRow) -> bool {
    e.event.data.first().is_some_and(|d| d.value.contains("RequestId:") && d.value.contains("RequestPath:"))
}

/// One host's instance episodes that ran on without a recovery joined
/// with the next of the host that begins after it (an App Service site
/// failing on one worker, moved to another, failing there): one outage of
/// the site. Episodes that ended in a start, or that overlap (two workers
/// failing at once, one recovering), stay apart.
fn merged(mut episodes: Vec<(Arc<str>, Episode<'_>)>) -> Vec<(Arc<str>, Episode<'_>)> {
    episodes.sort_by(|(a, x), (b, y)| {
        (a, x.failures[0].time(), x.failures[0].event.record_id).cmp(&(
            b,
            y.failures[0].time(),
            y.failures[0].event.record_id,
        ))
    });
    let mut out: Vec<(Arc<str>, Episode<'_>)> = Vec::new();
    for (host, ep) in episodes {
        if let Some((last_host, last)) = out.last_mut()
            && *last_host == host
            && last.recovered.is_none()
            && ep.failures[0].time() > last.last().time()
            && ep.failures[0].time() - last.last().time() <= EPISODE_GAP
        {
            last.failures.extend(ep.failures);
            last.failures.sort_by_key(|f| (f.time(), f.event.record_id));
            last.recovered = ep.recovered;
            continue;
        }
        out.push((host, ep));
    }
    out
}

impl Episode<'_> {
    /// The last failure.
    fn last(&self) -> &EventRow {
        self.failures[self.failures.len() - 1]
    }

    /// Whether only the runtime's crash reports of an out-of-process app
    /// make the episode (no ANCM failure event).
    fn out_of_process(&self) -> bool {
        self.failures.iter().all(|f| DOTNET_TERMINATED.iter().any(|k| k.matches(&f.event)))
    }
}

/// The exceptions behind an episode's attempts (the .NET Runtime 1026 of
/// w3wp in the attempt's seconds, else what the ANCM event itself quotes:
/// 1018's captured stdout, 1007/1027/1031's message), distinct, in the
/// order first thrown, each with how many attempts it stopped; and which of
/// them the last attempt that threw threw. When the last attempt's
/// exception stopped more attempts than any other, it comes first: a
/// redeploy between attempts changed what stops the start, and that one
/// held (baselAhmed2's connection string stopped the first attempts, a
/// data file missing from the publish the thirteen after;
/// ArasaniRohithReddy's migrations stopped three, the database resuming
/// from its pause the three around and after them). One that stopped the
/// most but not the last keeps its place.
fn exceptions<'a>(store: &'a Store, ep: &Episode<'a>) -> Thrown<'a> {
    // Each failure's attempt, as `attempts` counts them.
    let indices = (0..ep.failures.len()).collect();
    let attempt_of: Vec<usize> = super::clusters(indices, |&i| ep.failures[i].time(), ATTEMPT)
        .into_iter()
        .enumerate()
        .flat_map(|(attempt, failures)| failures.into_iter().map(move |_| attempt))
        .collect();
    let mut out: Vec<(AppException, &EventRow)> = Vec::new();
    // Per failure that threw: its attempt, and which exception.
    let mut at: Vec<(usize, usize)> = Vec::new();
    // What a dying process threw while logging counts only when no attempt
    // says more.
    for while_logging_too in [false, true] {
        for (f, &attempt) in ep.failures.iter().zip(&attempt_of) {
            let Some((x, e)) = thrown_at(store, f, while_logging_too) else { continue };
            let seen = out.iter().position(|(o, _)| o.type_name == x.type_name && o.message == x.message);
            at.push((
                attempt,
                seen.unwrap_or_else(|| {
                    out.push((x, e));
                    out.len() - 1
                }),
            ));
        }
        if !out.is_empty() {
            break;
        }
    }
    let last = at.last().map(|&(_, i)| i);
    let stopped = |i: usize| {
        let attempts: std::collections::BTreeSet<usize> =
            at.iter().filter(|&&(_, j)| j == i).map(|&(a, _)| a).collect();
        attempts.len()
    };
    let mut attempts: Vec<usize> = (0..out.len()).map(stopped).collect();
    let (mut first, mut last) = (0, last);
    // The last attempt's moved to the front, the others keeping their order.
    if let Some(l) = last
        && l > 0
        && attempts.iter().enumerate().all(|(i, &n)| i == l || n < attempts[l])
    {
        out[..=l].rotate_right(1);
        attempts[..=l].rotate_right(1);
        (first, last) = (1, Some(0));
    }
    Thrown { exceptions: out, attempts, first, last }
}

/// What an episode's failed starts threw.
struct Thrown<'a> {
    /// Each distinct exception and its first report, in the order first
    /// thrown, save the last attempt's first when it stopped the most.
    exceptions: Vec<(AppException, &'a EventRow)>,
    /// How many attempts each stopped.
    attempts: Vec<usize>,
    /// Which was thrown first.
    first: usize,
    /// Which the last attempt threw.
    last: Option<usize>,
}

/// The exception a failed start threw: the worker's crash report in the
/// same seconds, or the failure event's own text.
fn thrown_at<'a>(
    store: &'a Store,
    f: &'a EventRow,
    while_logging_too: bool,
) -> Option<(AppException, &'a EventRow)> {
    let runtime = store
        .events_between(DOTNET_TERMINATED, f.time() - ATTEMPT, f.time() + ATTEMPT)
        .filter(|r| r.host == f.host && super::crash::is_worker_process(r));
    let mut reported = runtime.filter_map(|r| r.data_at(0).and_then(exception::find).map(|x| (x, r)));
    reported
        .find(|(x, _)| while_logging_too || !while_logging(x))
        .or_else(|| f.data_at(0).and_then(exception::find).map(|x| (x, f)))
}

/// An exception a dying process threw while logging its real one (its
/// event-log logger already disposed): the crash report names it, ANCM's
/// captured output the one that stopped the start (BandaruDheeraj's
/// `AggregateException: An error occurred while writing to logger(s)` over a
/// missing registration).
fn while_logging(x: &AppException) -> bool {
    x.message.contains("writing to logger(s)") || x.message.contains("'EventLogInternal'")
}

/// The .NET major version a framework assembly the app could not load
/// names (`System.Runtime, Version=9.0.0.0`), against the runtime that ran
/// it (`CoreCLR Version: 8.0.22` in the crash report): an app published for
/// a newer .NET than the host runs.
fn runtime_mismatch(x: &AppException, e: &EventRow) -> Option<String> {
    // Only System.Runtime follows the runtime's version, and only from .NET 5
    // on (Microsoft.Extensions packages of 9.0 run on .NET 8; .NET Core 3.1
    // reports CoreCLR 4.700).
    let at = x.message.find("'System.Runtime, Version=")?;
    let built: u32 = x.message[at..].split("Version=").nth(1)?.split('.').next()?.parse().ok()?;
    let ran: u32 = e
        .data_at(0)?
        .lines()
        .find_map(|l| l.trim().strip_prefix("CoreCLR Version:"))?
        .trim()
        .split('.')
        .next()?
        .parse()
        .ok()?;
    (built >= 5 && ran >= 5 && ran < built).then(|| {
        format!(
            " The app's files were built for .NET {built} and the runtime that ran them is .NET {ran}, the one \
                its runtimeconfig.json chose: files of two builds in one folder, or an app published for \
                .NET {built} on a host running {ran}; publish one target framework into a clean folder, one the \
                host runs."
        )
    })
}

/// What the cause means for the startup, in a sentence.
fn meaning(cause: &Cause) -> String {
    match cause {
        Cause::DbLogin { account } => format!(
            "the database refused the login{} the app uses at startup (its migrations or seeding)",
            account.as_deref().map_or(String::new(), |a| format!(" of {a}"))
        ),
        Cause::Backend => "a dependency the app calls at startup did not answer".into(),
        Cause::DbUnavailable => {
            "the Azure SQL database the app opens at startup was not taking connections (not available, busy, \
                failing over or at its limits)"
                .into()
        }
        Cause::PortExhaustion => "outbound ports ran out while the app started".into(),
        Cause::Deployment => {
            "the published app does not fit what the server has (a file it reads, an assembly, a framework \
                or a runtime version is missing)"
                .into()
        }
        Cause::DbSchema => {
            "the database's schema is behind the code the app runs at startup (a migration not applied)"
                .into()
        }
        Cause::Configuration => {
            "configuration the app requires at startup is missing or invalid (a setting, or a connection \
                string naming a server that is not there)"
                .into()
        }
        Cause::Migration => {
            "a database migration the app applies at startup could not be made or applied (its model has changes \
                no migration holds, or the database refused the migration's DDL)"
                .into()
        }
        Cause::OutOfMemory => "memory ran out while the app started".into(),
        Cause::Unregistered => {
            "the app asked its dependency injection container for a service no one registered (a middleware's \
                or a controller's constructor asks for it), so its host could not be built"
                .into()
        }
        Cause::AddressesOwnedByIis => {
            "the app sets its own listening URLs (UseUrls, app.Urls, Kestrel's Listen) while IIS hosts it in \
                process, where IIS's bindings own the addresses"
                .into()
        }
        Cause::MonitoringAgent { agent } => {
            format!("{agent}, loaded into the app, threw while it started (its code, not the app's)")
        }
        Cause::Other => "the app threw while starting (its Program.Main or host builder)".into(),
    }
}

/// The setting a configuration exception asks for, as App Service names
/// it in Application settings (`Cors:AllowedOrigins` is
/// `Cors__AllowedOrigins`): the colon does not pass through environment
/// variables.
fn setting_named(x: &AppException) -> String {
    if x.cause != Cause::Configuration {
        return String::new();
    }
    crate::exception::setting_key(&x.message).map_or_else(String::new, |key| {
        let env = key.replace(':', "__");
        format!(
            " The setting it asks for, {key}, is the application setting {env} on App Service (a list's items \
             {env}__0, {env}__1, ...)."
        )
    })
}

/// What to do about what the app threw while it started, when the cause
/// says more than the mode's own steps.
fn remedy(cause: &Cause) -> Option<&'static [&'static str]> {
    Some(match cause {
        Cause::DbLogin { .. } => &[
            "Fix the database login the app's connection string uses (its password, or the login or role on \
                the database server), in the app's settings (App Service: Configuration > Connection strings).",
            "Read the app's output ANCM captured (1018) for the whole exception.",
        ],
        Cause::Backend => &[
            "Check that the server the app calls while starting is reachable from this host (its name, port, \
                firewall, private endpoint): the exception names it.",
            "Let the app start without it when it can (connect on first use, retry with a limit).",
        ],
        Cause::DbUnavailable => &[
            "Retry the database's transient errors while starting, with a limit (EF Core: EnableRetryOnFailure \
                on UseSqlServer), rather than let one failed connection end the start.",
            "A serverless database that auto-pauses answers 40613 while it resumes after idling: turn auto-pause \
                off where the app must start at any time; for 40501, 10928 or 10929 raise the database's tier or \
                limits.",
        ],
        Cause::Deployment => &[
            "Publish again, completely, into a clean folder: the file or assembly the exception names must be in \
                the site's folder in the version the app was built against (files left from an older publish mix \
                versions), and the runtime its runtimeconfig.json names must be one the host has.",
        ],
        Cause::Configuration => &[
            "Set the setting or connection string the exception names where the app reads it (App Service: \
                Configuration > Application settings, where a key written Section:Key in appsettings.json is \
                named Section__Key, and a list's items Section__Key__0, Section__Key__1; on premises: \
                appsettings.json or the environment); a connection string naming a local server ('.', \
                localhost, named pipes) has no server on App Service.",
        ],
        Cause::DbSchema => {
            &["Apply the database migrations the deployed code expects (the column or table the exception \
                names), or deploy the code that matches the database."]
        }
        Cause::Migration => &[
            "EF Core (9 and later) will not migrate while the model has changes no migration holds \
                (PendingModelChangesWarning): add a migration for them (dotnet ef migrations add) and publish it.",
            "SQL Server refused the migration's DDL: for a foreign key with cycles or several cascade paths \
                (1785), give one of the relationships OnDelete(DeleteBehavior.NoAction or Restrict) and add a \
                migration; for an object already there (2714), bring the migration history in line with the \
                database.",
            "Apply migrations from the deployment (a migration bundle or script) rather than at startup, so a \
                failed one stops a deployment, not the site.",
        ],
        Cause::OutOfMemory => {
            &["Find what the app loads while starting; raise the plan's memory or the pool's limit."]
        }
        Cause::Unregistered => &[
            "Register the type the exception names in the app's startup (builder.Services.Add...; Application \
                Insights' TelemetryClient comes with AddApplicationInsightsTelemetry()), or remove what asks for \
                it, then publish again.",
        ],
        Cause::AddressesOwnedByIis => &[
            "Remove the URLs the app sets in code (UseUrls, app.Urls, ListenAnyIP) when IIS hosts it: IIS's \
                bindings (on App Service, the platform) choose the address; or host it out of process \
                (hostingModel=\"outofprocess\" in web.config).",
        ],
        Cause::MonitoringAgent { .. } => super::crash::MONITORING_AGENT_STEPS,
        Cause::PortExhaustion | Cause::Other => return None,
    })
}

/// What to do about a publish the .NET host cannot run (a package or the
/// framework missing from the app's own files).
const INCOMPLETE_PUBLISH: &[&str] = &[
    "Publish again, completely, from a clean build: the deps.json and runtimeconfig.json in the site's folder \
        must be the build's own, with every package they list beside them.",
    "Let the deployment finish before the app starts: deploy to a staging slot and swap, or run from a \
        package (App Service: WEBSITE_RUN_FROM_PACKAGE), which replaces the files at once; app_offline.htm \
        holds requests off while files are copied.",
];

/// What to do about a failure ANCM met before the app ran, where its event
/// says enough.
fn before_code_steps(e: &EventRow) -> Option<&'static [&'static str]> {
    // A publish the host cannot run has its own steps.
    if ancm_meaning(e).0 != 1 {
        return None;
    }
    let text = e.data_at(0).unwrap_or_default();
    Some(match e.event.event_id {
        1031 if text.contains("'.exe' extension") => &[
            "web.config's processPath names the app's .dll: set processPath=\"dotnet\" with arguments=\".\\App.dll\" \
                for a framework-dependent app, or processPath=\".\\App.exe\" for the app's own host (the \
                publish writes one of these itself).",
        ],
        1031 => &[
            "Set processPath and arguments in web.config's aspNetCore section to what runs the app: dotnet and \
                the app's .dll, or the app's .exe, a path that exists relative to the site.",
        ],
        1027 | 1028 => &[RUNTIME_OR_HANDLER],
        1029 => &[OUT_OF_PROCESS_HANDLER],
        1034 => &["Fix web.config's aspNetCore section: its XML, attribute names and values."],
        1008 | 1009 => &[ONE_APP_PER_POOL],
        _ => return None,
    })
}

/// 1027, 1028, 500.31 to 500.33: the runtime or the in-process handler not
/// found.
pub(super) const RUNTIME_OR_HANDLER: &str = "Give the app the runtime it targets and its in-process handler \
    (aspnetcorev2_inprocess.dll, found beside the app or in the runtime): publish it again completely, and \
    check the server has that .NET runtime (on premises the ASP.NET Core Hosting Bundle of that version, on App \
    Service the stack's .NET version), or publish it self-contained.";

/// 1029, 500.36: the out-of-process handler missing.
pub(super) const OUT_OF_PROCESS_HANDLER: &str = "ANCM's out-of-process handler (aspnetcorev2_outofprocess.dll) \
    is missing beside aspnetcorev2.dll: the ASP.NET Core Module's installation is damaged; repair or reinstall \
    the ASP.NET Core Hosting Bundle (the app's publish cannot bring it).";

/// 1008, 1009, 500.34, 500.35: in-process apps sharing a worker.
pub(super) const ONE_APP_PER_POOL: &str = "One worker process hosts one in-process ASP.NET Core app, of one \
    hosting model: on premises give each app hosted in process its own app pool; on App Service, where a \
    site's virtual applications share its pool, host all but one out of process (hostingModel=\"outofprocess\" \
    in their web.config).";

/// What an ANCM start-failure event itself says broke, and the sub-status
/// clients saw; more specific ids first.
fn ancm_meaning(e: &EventRow) -> (u8, &'static str) {
    let text = e.data_at(0).unwrap_or_default();
    match e.event.event_id {
        1027 if text.contains("deps.json")
            && !text.contains("runtime store")
            && !text.contains("target manifest") =>
        {
            (
                0,
                "a package the app's deps.json lists is missing from the published folder: an incomplete \
                publish (500.31)",
            )
        }
        1007 if text.contains("did not specify a framework") => (
            0,
            "the app's runtimeconfig.json names no framework, so the .NET host ran it as self-contained and \
            found no hostpolicy.dll beside it: an incomplete publish, or the app started while a deployment \
            was still writing its files (500.31)",
        ),
        1027 | 1028 => (
            1,
            "the .NET runtime, framework or in-process request handler the app targets is not installed \
            (500.31-500.33)",
        ),
        1029 => (1, "the out-of-process request handler is not installed (500.36)"),
        1031 => (1, "web.config's processPath/arguments do not say how to run the app (500.30/500.38)"),
        1034 => (1, "the aspNetCore section of web.config cannot be read (500.0/500.30)"),
        1008 => (1, "a second in-process app was put into a pool that can host only one (500.35)"),
        1009 => (1, "apps of both hosting models were put into one pool (500.34)"),
        1007 if text.contains("didn't initialize") => {
            (2, "the app did not finish starting within startupTimeLimit (500.37)")
        }
        1007 if text.contains("Return code") => (
            2,
            "the .NET host could not run the app (hostfxr: a framework or hostpolicy is missing) (500.31)",
        ),
        1020 | 1000 => (2, "the backend process did not start or listen on its port (502.5)"),
        1003 => (3, "ANCM stopped starting the backend after too many rapid failures (502.5/503)"),
        _ => (4, "the app exited during startup (500.30)"),
    }
}

/// An exception's message as a clause of a sentence: without its final
/// stop.
fn sentence(message: &str) -> &str {
    message.trim_end().trim_end_matches('.')
}

/// An episode's finding while episodes on other instances at the same
/// time may join it.
struct Outage<'s> {
    host: &'s str,
    instances: Vec<Option<&'s str>>,
    /// Until it started again, or its last failure.
    end: Timestamp,
    /// What stopped the start: its meaning, the exception or ANCM's words,
    /// and the application's path.
    cause: String,
    draft: Draft,
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let episodes = episodes(store);
    let mut refusals: BTreeMap<(&str, String), Vec<Refusal<'_>>> = BTreeMap::new();
    let mut outages: Vec<Outage<'_>> = Vec::new();
    for (i, (host, ep)) in episodes.iter().enumerate() {
        let later = episodes[i + 1..]
            .iter()
            .filter(|(h, e)| h == host && e.failures[0].time() > ep.last().time())
            .map(|(_, e)| e.failures[0].time())
            .min();
        let (d, cause, refused) = finding(store, host, ep, later);
        if let Some(r) = refused {
            refusals.entry((&**host, r.account())).or_default().push(r);
        }
        let mut instances: Vec<Option<&str>> = ep.failures.iter().map(|f| instance(f)).collect();
        instances.sort_unstable();
        instances.dedup();
        let end = ep.recovered.map_or_else(|| ep.last().time(), |r| r.time());
        // The same failure on another instance of the site while this one
        // was failing (a deployment both took): one outage of the site.
        // Episodes come by host, then start: the host's are the last ones.
        let joins = outages.iter_mut().rev().take_while(|o| o.host == &**host).find(|o| {
            o.cause == cause
                && ep.failures[0].time() <= o.end + RIGHT_AFTER
                && instances.iter().all(|i| i.is_some() && !o.instances.contains(i))
        });
        if let Some(o) = joins {
            let when = if ep.failures[0].time() <= o.end { "at the same time" } else { "right after" };
            o.join(ep, &instances, when, d);
            o.end = o.end.max(end);
            o.instances.extend(instances);
            o.instances.sort_unstable();
            continue;
        }
        outages.push(Outage { host, instances, end, cause, draft: d });
    }
    out.extend(outages.into_iter().map(|o| o.draft));
    for ((host, _), mut refused) in refusals {
        refused.sort_by_key(|r| r.start);
        out.push(db_login(store, host, &refused));
    }
}

impl Outage<'_> {
    /// Takes in the finding of an episode on other instances that failed
    /// for the same reason while this one did.
    fn join(&mut self, ep: &Episode<'_>, instances: &[Option<&str>], when: &str, other: Draft) {
        let names: Vec<&str> = instances.iter().flatten().copied().collect();
        let firsts: Vec<&str> = self.instances.iter().flatten().copied().collect();
        let n = attempts(ep);
        let d = &mut self.draft;
        d.explanation.push_str(&format!(
            " The same failure{} on {} {} {when}: {n} failed start{} from {}, {}.",
            if firsts.is_empty() { String::new() } else { format!(" as on {},", firsts.join(", ")) },
            if names.len() == 1 { "instance" } else { "instances" },
            names.join(", "),
            if n == 1 { "" } else { "s" },
            ep.failures[0].time().to_prose(),
            match ep.recovered {
                Some(r) => format!("started again at {}", r.time().to_prose()),
                None => "no start of it follows in the evidence".to_string(),
            }
        ));
        d.start = d.start.min(other.start);
        d.end = d.end.max(other.end);
        d.ongoing |= other.ongoing;
        d.add_steps(&other.remediation);
        d.absorb(other);
    }
}

/// The episode's finding, what stopped the start as it says it, and the
/// login the database refused in it (`later`: when the host's next
/// episode begins, if one does).
fn finding<'s>(
    store: &'s Store,
    host: &str,
    ep: &Episode<'s>,
    later: Option<Timestamp>,
) -> (Draft, String, Option<Refusal<'s>>) {
    let (first, last) = (ep.failures[0], ep.failures[ep.failures.len() - 1]);
    let Thrown { exceptions: thrown, attempts: stopped, first: first_at, last: last_at } =
        exceptions(store, ep);
    let last_thrown = last_at.map(|i| &thrown[i]);
    let ends = ends_the_evidence(store, host, ep, &thrown);
    // The window is the events' own; requests are searched a second
    // either side of it (logged by the second, and by another clock).
    let start = first.time();
    let end = ep.recovered.map_or_else(|| last.time(), |r| r.time());
    let attempts = attempts(ep);
    let functions = ep.out_of_process() && functions_host(store, host);
    let what = if functions {
        let process = first
            .data_at(0)
            .and_then(|t| t.lines().find_map(|l| l.trim().strip_prefix("Application:")))
            .map_or(String::new(), |p| format!(" ({})", p.trim()));
        format!(
            "The Azure Functions app's .NET isolated worker{process} did not start: the Functions host, which \
                the ASP.NET Core Module started, ran it and it exited"
        )
    } else {
        "The ASP.NET Core application did not start under the ASP.NET Core Module".to_string()
    };
    let mut text = format!(
        "{what} ({} failed start{}){}",
        attempts,
        if attempts == 1 { "" } else { "s" },
        physical_path(first).map_or(String::new(), |p| format!(" at {p}")),
    );
    let decisive = ep.failures.iter().min_by_key(|f| ancm_meaning(f).0).unwrap_or(&first);
    let cause = match thrown.first() {
        Some((x, _)) => meaning(&x.cause),
        None => ancm_meaning(decisive).1.to_string(),
    };
    // With several exceptions, how many attempts the one named first
    // stopped: the others may be a passing state before a redeploy.
    let share = match (thrown.len(), stopped.first()) {
        (2.., Some(k)) => format!(" in {k} of the {attempts} failed starts"),
        _ => String::new(),
    };
    match thrown.first() {
        Some((x, e)) => text.push_str(&format!(
            ": {cause}. It threw {}{share}: {}.{}{}",
            x.type_name,
            sentence(&x.message),
            runtime_mismatch(x, e).unwrap_or_default(),
            setting_named(x)
        )),
        None => text.push_str(&format!(": {cause}. {}.", headline(&decisive.event).trim_end_matches('.'))),
    }
    let listed = &thrown[thrown.len().min(1)..thrown.len().min(3)];
    if !listed.is_empty() {
        let threw: Vec<String> =
            listed.iter().map(|(x, _)| format!("{}: {}", x.type_name, sentence(&x.message))).collect();
        // The one named first is not always thrown first.
        let before = listed.iter().filter(|(_, e)| e.time() < thrown[0].1.time()).count();
        let which = match before {
            0 => "Later",
            n if n == listed.len() => "Earlier",
            _ => "Other",
        };
        text.push_str(&format!(" {which} attempts threw {}.", threw.join("; then ")));
        let mismatch = listed.iter().find_map(|(x, e)| runtime_mismatch(x, e));
        text.push_str(&mismatch.unwrap_or_default());
    }
    // What the last attempt threw, named when not named above: its steps
    // are given below.
    if let Some((x, _)) = last_at.filter(|&i| i >= 3).map(|i| &thrown[i]) {
        text.push_str(&format!(" The last attempt threw {}: {}.", x.type_name, sentence(&x.message)));
    }
    // Attempts that failed before any app code ran (a web.config that does
    // not say how to run the app, a missing runtime) are a cause of their
    // own beside an exception another attempt threw.
    let mut before_code: Vec<&EventRow> = Vec::new();
    if !thrown.is_empty() {
        for f in ep.failures.iter().filter(|f| ancm_meaning(f).0 <= 1) {
            if before_code.len() < 2 && !before_code.iter().any(|b| ancm_meaning(b).1 == ancm_meaning(f).1) {
                before_code.push(f);
            }
        }
    }
    for f in &before_code {
        text.push_str(&format!(
            " Other attempts failed before the app ran: {}; {}.",
            ancm_meaning(f).1,
            headline(&f.event).trim_end_matches('.')
        ));
    }
    text.push_str(&instances_said(ep));
    let status = match (functions, ep.out_of_process()) {
        (true, _) => "500 or 503 (the Functions host's answer while its worker is down)",
        (false, true) => "502.5",
        (false, false) => "500.3x",
    };
    let served = match ep.elsewhere {
        Some(o) => format!(
            " Another instance of the site ({}) had started at {} and may have served requests meanwhile.",
            instance(o).unwrap_or("-"),
            o.time().to_prose()
        ),
        None => String::new(),
    };
    text.push_str(&match (ep.recovered, ep.elsewhere) {
        (Some(r), None) => format!(
            " It started again at {}; every request until then failed ({status}).",
            r.time().to_prose()
        ),
        (Some(r), Some(_)) => format!(
            " It started again at {}; requests the failing instance took until then failed ({status}).{served}",
            r.time().to_prose()
        ),
        (None, None) => match ep.served {
            Some(r) => format!(
                " No start event follows, but the app's own log has it handling a request at {}{}: it was \
                    running again by then.",
                r.time().to_prose(),
                instance(r).map_or(String::new(), |i| format!(" on {i}"))
            ),
            None if ends => {
                " The evidence ends with it: whether the next start succeeded is not in the evidence."
                    .to_string()
            }
            None if let Some(next) = later => format!(
                " No successful start is in the evidence before the next failed start, at {}.",
                next.to_prose()
            ),
            None => {
                format!(" No successful start follows in the evidence: every request fails with {status}.")
            }
        },
        (None, Some(_)) => format!(
            " No successful start of the failing instance follows in the evidence: requests it takes fail \
                with {status}.{served}"
        ),
    });
    let mut d = Draft::new(
        FailureMode::AncmStartupFailure,
        Severity::Critical,
        match (ep.out_of_process(), thrown.is_empty()) {
            (true, _) => 0.8,
            (false, true) => 0.9,
            (false, false) => 0.95,
        },
        start,
        end,
    )
    .scope(Some(host), ep.failures.iter().find_map(|f| f.metabase_site()), None)
    .explain(text);
    // Never recovered, no other worker serving, no later episode: the app
    // is still down where the evidence ends.
    d.ongoing =
        ep.recovered.is_none() && ep.elsewhere.is_none() && ep.served.is_none() && later.is_none() && !ends;
    // A runtime the app was not built for stops every later start, whatever
    // an earlier one threw: its steps come first (BandaruDheeraj's app,
    // built for .NET 9, failing on .NET 8 after a DI error was fixed); then
    // those of the cause named first, and of the first and the last thrown
    // (a redeploy between attempts changes what stops the start:
    // baselAhmed2's connection string, then a data file missing from the
    // publish).
    let mismatch = thrown.iter().find(|(x, e)| runtime_mismatch(x, e).is_some());
    let mut causes: Vec<&Cause> = Vec::new();
    let first_thrown = thrown.get(first_at);
    for (x, _) in mismatch.into_iter().chain(thrown.first()).chain(first_thrown).chain(last_thrown) {
        if !causes.contains(&&x.cause) {
            causes.push(&x.cause);
        }
    }
    let mut steps = causes.into_iter().filter_map(remedy);
    if let Some(first) = steps.next() {
        d = d.remedy(first);
    }
    for more in steps {
        d = d.also(more);
    }
    // Without an exception, ANCM's own words give the steps: a publish the
    // host cannot run, or what broke before any app code ran; with one,
    // the latter come after its steps (tshekom's processPath naming a .dll).
    if thrown.is_empty() {
        let steps = if ancm_meaning(decisive).0 == 0 {
            Some(INCOMPLETE_PUBLISH)
        } else {
            before_code_steps(decisive)
        };
        if let Some(steps) = steps {
            d = d.remedy(steps);
        }
    } else {
        for steps in before_code.iter().filter_map(|f| before_code_steps(f)) {
            d = d.also(steps);
        }
    }
    // The first attempt in full, the exceptions of the others, the last.
    let first_attempt =
        ep.failures.iter().take_while(|f| f.time() - first.time() <= ATTEMPT).take(4).copied();
    let first_attempt: Vec<&EventRow> = first_attempt.collect();
    for f in &first_attempt {
        d.cite(store.cite_event(f, headline(&f.event)), Role::Cause);
    }
    // An out-of-process attempt's exception is its own crash report, cited
    // once.
    for (_, e) in thrown.iter().filter(|(_, e)| !first_attempt.iter().any(|f| std::ptr::eq(*f, *e))) {
        d.cite(store.cite_event(e, headline(&e.event)), Role::Cause);
    }
    for f in &before_code {
        d.cite(store.cite_event(f, headline(&f.event)), Role::Cause);
    }
    if last.time() - first.time() > ATTEMPT {
        d.cite(store.cite_event(last, headline(&last.event)), Role::Cause);
    }
    // The worker that failed to start asking to be recycled: on its own
    // machine (another App Service instance's request is its own story).
    let same_machine = |w: &EventRow| match (instance(w), instance(first)) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    };
    let escalated = store
        .events_between(WORKER_UNHEALTHY, start, end + Span::mins(10))
        .find(|w| &*w.host == host && same_machine(w));
    if let Some(w) = escalated {
        d.cite(store.cite_event(w, headline(&w.event)), Role::Effect);
    }
    let failed_requests =
        store.requests_between(start - Span::secs(1), end + Span::secs(1)).iter().filter(|r| {
            &*r.host == host
                && (r.status.is(502, 5) || (r.status.code == 500 && (30..=38).contains(&r.status.sub)))
        });
    d.cite_first(failed_requests, 5, Role::Effect, |r| store.cite_request(r));
    if let Some(r) = ep.recovered {
        d.cite(store.cite_event(r, format!("{}: started again", headline(&r.event))), Role::Context);
    }
    // A deployment that failed in the half hour before: what the failed
    // start may be running.
    let deployed = store
        .events_between(DEPLOYMENT_REPORTS, first.time() - Span::mins(30), first.time())
        .filter(|k| k.host == first.host)
        .filter_map(super::event_rules::FailedDeployment::of)
        .last();
    if let Some(k) = deployed {
        d.explanation.push_str(&format!(
            " A deployment through Kudu failed {} before ({} {}): whether the app runs what was meant to be \
                deployed is in question.",
            crate::describe::duration(first.time() - k.event.time()),
            k.request,
            k.outcome,
        ));
        d.cite(store.cite_event(k.event, headline(&k.event.event)), Role::Context);
    }
    if let Some(r) = ep.served {
        d.cite(
            store.cite_event(r, format!("{}: the app handling a request", headline(&r.event))),
            Role::Context,
        );
    }
    let refused =
        thrown.iter().find(|(x, _)| matches!(x.cause, Cause::DbLogin { .. })).map(|(x, e)| Refusal {
            exception: x.clone(),
            event: e,
            failed: first,
            // Only the attempts the login stopped: the same episode's
            // starts that failed on something else (tshekom8206's
            // processPath without .exe) are not the database's.
            attempts: attempts_where(ep, |f| {
                [false, true].into_iter().any(|while_logging_too| {
                    thrown_at(store, f, while_logging_too)
                        .is_some_and(|(x, _)| matches!(x.cause, Cause::DbLogin { .. }))
                })
            }),
            start,
            end,
        });
    // Instances are one outage when their first attempts threw the same:
    // what their last threw may differ as each was restarted.
    let same = format!(
        "{}|{}",
        first_thrown.map_or_else(
            || format!("{cause}|{}", headline(&decisive.event)),
            |(x, _)| format!("{}|{}: {}", meaning(&x.cause), x.type_name, x.message)
        ),
        physical_path(first).unwrap_or_default()
    );
    (d, same, refused)
}

/// How many outages a login failure lists by their times.
const LISTED: usize = 5;

/// A startup the database refused the app's login at.
struct Refusal<'s> {
    exception: AppException,
    /// The event that reported the exception.
    event: &'s EventRow,
    /// The episode's first failed start.
    failed: &'s EventRow,
    /// The episode's failed starts.
    attempts: usize,
    start: Timestamp,
    end: Timestamp,
}

impl Refusal<'_> {
    /// The account refused, as the exception names it.
    fn account(&self) -> String {
        match &self.exception.cause {
            Cause::DbLogin { account: Some(a) } => a.clone(),
            _ => "its account".into(),
        }
    }
}

/// Whether the episode is one failed start the host's evidence ends with,
/// on a dependency that may answer the next time (a database not taking
/// connections, a server that did not answer, ports run out): nothing
/// says whether the next start (the next request's) succeeded. A start
/// that failed on the app itself (a missing file, a setting) fails again.
fn ends_the_evidence(
    store: &Store,
    host: &str,
    ep: &Episode<'_>,
    thrown: &[(AppException, &EventRow)],
) -> bool {
    if attempts(ep) > 1 || ep.recovered.is_some() || ep.served.is_some() {
        return false;
    }
    let passing = |c: &Cause| matches!(c, Cause::DbUnavailable | Cause::Backend | Cause::PortExhaustion);
    if thrown.is_empty() || !thrown.iter().all(|(x, _)| passing(&x.cause)) {
        return false;
    }
    let after = ep.last().time() + ATTEMPT;
    let from = store.events.partition_point(|e| e.time() <= after);
    let more_events = store.events[from..].iter().any(|e| *e.host == *host)
        || store.counted_spans.get(host).is_some_and(|&(_, last)| last > after);
    let more_requests = store.requests_between(after, Timestamp(i64::MAX)).iter().any(|r| *r.host == *host);
    !more_events && !more_requests
}

/// Which instances of an App Service site an episode's failed starts were
/// on, when more than one: the site's workers fail in turn (BandaruDheeraj's
/// three on one instance, then fourteen on another an hour later).
fn instances_said(ep: &Episode<'_>) -> String {
    let mut names: Vec<&str> = Vec::new();
    for f in &ep.failures {
        if let Some(i) = instance(f)
            && !names.iter().any(|n| n.eq_ignore_ascii_case(i))
        {
            names.push(i);
        }
    }
    if names.len() < 2 {
        return String::new();
    }
    let each: Vec<String> = names
        .iter()
        .map(|name| {
            let on = |f: &EventRow| instance(f).is_some_and(|i| i.eq_ignore_ascii_case(name));
            let times: Vec<Timestamp> = ep.failures.iter().filter(|f| on(f)).map(|f| f.time()).collect();
            let n = attempts_where(ep, on);
            let (from, to) = (times[0], times[times.len() - 1]);
            let when = if from == to {
                format!("at {}", from.to_prose())
            } else {
                format!("{} to {}", from.to_prose(), to.to_prose())
            };
            format!("{name} ({n} failed start{}, {when})", if n == 1 { "" } else { "s" })
        })
        .collect();
    format!(" The failed starts were on {} instances of the site: {}.", names.len(), each.join(", "))
}

/// Attempts: failures more than [`ATTEMPT`] apart.
fn attempts(ep: &Episode<'_>) -> usize {
    attempts_where(ep, |_| true)
}

/// Attempts among the failures `counted` keeps.
fn attempts_where(ep: &Episode<'_>, counted: impl Fn(&EventRow) -> bool) -> usize {
    let times = ep.failures.iter().filter(|f| counted(f)).map(|f| f.time()).collect();
    super::clusters(times, |t: &Timestamp| *t, ATTEMPT).len()
}

/// The login the database refused, seen only in the app's exceptions: one
/// finding per host and account, however many of the host's failed starts
/// it stopped (each of them is its own startup failure).
fn db_login(store: &Store, host: &str, refused: &[Refusal<'_>]) -> Draft {
    let first = &refused[0];
    let x = &first.exception;
    let account = first.account();
    // The window is the first outage's, when the login stopped working
    // (one of months would relate every detection of those months to it);
    // the others are listed and cited.
    let times = match refused.len() {
        1 => "so the app could not start".to_string(),
        n => format!(
            "and the app could not start in {n} outages ({} failed starts) beginning {}{}",
            refused.iter().map(|r| r.attempts).sum::<usize>(),
            refused.iter().take(LISTED).map(|r| r.failed.time().to_prose()).collect::<Vec<_>>().join(", "),
            if n > LISTED { format!("; and {} more", n - LISTED) } else { String::new() }
        ),
    };
    let mut d = Draft::new(FailureMode::DbLoginFailure, Severity::High, 0.85, first.start, first.end)
        .scope(Some(host), first.failed.metabase_site(), None)
        .explain(format!(
            "The database refused the application's login {account} ({}: {}), {times}. No database \
                server log is in the evidence; the application's exception names the account: its \
                password, its state or the server's authentication settings changed.{}",
            x.type_name,
            sentence(&x.message),
            if refused.len() > 1 {
                " The finding's window is the first outage's, when the login stopped working; each outage is \
                    a startup failure of its own."
            } else {
                ""
            }
        ));
    // The mode's own steps are SQL Server's (18456, logins).
    if x.type_name.contains("Npgsql") || x.type_name.contains("Postgres") {
        d = d.remedy(&[
            "Set the PostgreSQL role's password the connection string uses again (ALTER ROLE ... PASSWORD), \
                or update the connection string or app setting to the current one.",
            "Check the role exists, may log in (LOGIN) and is allowed from this host (pg_hba.conf, or the \
                server's firewall and its Azure authentication settings).",
        ]);
    }
    for r in refused {
        d.cite(store.cite_event(r.event, headline(&r.event.event)), Role::Cause);
        d.cite(store.cite_event(r.failed, headline(&r.failed.event)), Role::Effect);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    const V2: &str = "IIS AspNetCore Module V2";

    fn failed_start(e: Given, secs: i64, exception: &str) -> Given {
        crashed(e, secs, "w3wp.exe", exception, "Program.<Main>$")
            .positional(
                "APP",
                secs,
                V2,
                1018,
                &["Application '/LM/W3SVC/1300063693/ROOT' with physical root \
            'C:\\home\\site\\wwwroot\\' hit unexpected managed exception, exception code = '0xe0434352'."],
            )
            .positional(
                "APP",
                secs,
                V2,
                1007,
                &["Application '/LM/W3SVC/1300063693/ROOT' with physical root \
            'C:\\home\\site\\wwwroot\\' failed to load coreclr. Exception message:\r\nCLR worker thread \
            exited prematurely"],
            )
    }

    /// Two failed starts, at 100 and 400, throwing `first` and `second`.
    fn failing_twice(first: &str, second: &str) -> Given {
        failed_start(failed_start(Given::new(), 100, first), 400, second)
    }

    fn started(e: Given, secs: i64) -> Given {
        e.app_started("APP", secs)
    }

    #[test]
    fn a_failed_start_runs_until_the_app_starts_again_and_quotes_the_exception() {
        let cors = "System.InvalidOperationException: CORS configuration is missing";
        let e = started(failing_twice(cors, cors), 900);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::AncmStartupFailure, Severity::Critical));
        assert_eq!((d.start, d.end), (at(100), at(900)), "to the successful start");
        assert_eq!(d.scope.site.as_deref(), Some("1300063693"));
        assert!(d.explanation.contains("2 failed starts"), "{}", d.explanation);
        assert!(
            d.explanation.contains("System.InvalidOperationException: CORS configuration is missing"),
            "{}",
            d.explanation
        );
    }

    /// One failed start the evidence ends with (ArasaniRohithReddy's last
    /// event: the Azure SQL database not available once) is no outage
    /// going on: nothing says the next start failed. Two failed starts,
    /// one the host's evidence goes on past, or one on the app itself (a
    /// missing file fails again), are.
    #[test]
    fn one_failed_start_the_evidence_ends_with_is_not_said_to_go_on() {
        let unavailable = "System.InvalidOperationException: An exception has been raised that is likely due to a \
            transient failure.\n ---> Microsoft.Data.SqlClient.SqlException (0x80131904): Database 'a' is not \
            currently available.\nError Number:40613,State:1,Class:20";
        let once = failed_start(Given::new(), 100, unavailable).detected(detect);
        assert!(!once[0].ongoing, "{}", once[0].explanation);
        assert!(once[0].explanation.contains("The evidence ends with it"), "{}", once[0].explanation);
        assert!(once[0].remediation[0].contains("EnableRetryOnFailure"), "{:?}", once[0].remediation);
        let twice = failing_twice(unavailable, unavailable).detected(detect);
        assert!(twice[0].ongoing && twice[0].explanation.contains("No successful start follows"));
        let goes_on = failed_start(Given::new(), 100, unavailable)
            .positional("APP", 900, "EventLog", 6005, &[])
            .detected(detect);
        assert!(goes_on[0].ongoing, "{}", goes_on[0].explanation);
        // Events only counted (a process start of no IIS program) go on
        // past it too.
        let counted_on = failed_start(Given::new(), 100, unavailable).counted("APP", 0, 900).detected(detect);
        assert!(counted_on[0].ongoing, "{}", counted_on[0].explanation);
        let missing =
            "System.IO.FileNotFoundException: Could not find file 'C:\\home\\site\\wwwroot\\subjects.json'.";
        let app_itself = failed_start(Given::new(), 100, missing).detected(detect);
        assert!(app_itself[0].ongoing, "{}", app_itself[0].explanation);
        // staybot's 10-14 outage: no start before the next day's failures,
        // which is not "no start follows in the evidence".
        let next_day = failed_start(failing_twice(missing, missing), 86_400, missing).detected(detect);
        assert_eq!(next_day.len(), 2);
        let first = &next_day[0];
        let said = format!(
            "No successful start is in the evidence before the next failed start, at {}",
            at(86_400).to_prose()
        );
        assert!(!first.ongoing && first.explanation.contains(&said), "{}", first.explanation);
    }

    /// A DI error first, then the app published for a newer .NET than the
    /// site runs (BandaruDheeraj's evening): the runtime's steps, not none.
    #[test]
    fn a_runtime_mismatch_in_a_later_attempt_gives_the_steps() {
        let e = failing_twice(
            "System.InvalidOperationException: Unable to resolve service for type 'X'",
            "System.IO.FileNotFoundException: Could not load file or assembly 'System.Runtime, Version=11.0.0.0, \
                Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a'. The system cannot find the file specified.",
        );
        let d = &started(e, 900).detected(detect)[0];
        assert!(d.explanation.contains("built for .NET 11"), "{}", d.explanation);
        assert!(d.remediation[0].contains("runtimeconfig.json names"), "{:?}", d.remediation);
    }

    /// An episode whose first attempt threw, and whose later attempts
    /// failed before any app code ran (1031: web.config's processPath names
    /// a .dll): both causes are named, the exception first.
    #[test]
    fn a_cause_before_the_app_ran_is_named_beside_the_exception() {
        let e = failed_start(
            Given::new(),
            100,
            "System.InvalidOperationException: CORS configuration is missing",
        );
        let e = e.positional(
            "APP",
            3_700,
            V2,
            1031,
            &["Application 'C:\\home\\site\\wwwroot\\' wasn't able to start. Process path '.\\Hostr.Api.dll' doesn't have '.exe' extension."],
        );
        let found = e.detected(detect);
        let d = found.iter().find(|d| d.id == FailureMode::AncmStartupFailure).expect("found");
        assert!(d.explanation.contains("CORS configuration is missing"), "{}", d.explanation);
        assert!(
            d.explanation.contains(
                "Other attempts failed before the app ran: web.config's processPath/arguments do not say how to run the app"
            ),
            "{}",
            d.explanation
        );
        assert!(d.remediation.iter().any(|r| r.contains("processPath=\"dotnet\"")), "{:?}", d.remediation);
        let alone = failed_start(
            Given::new(),
            100,
            "System.InvalidOperationException: CORS configuration is missing",
        );
        let d = &alone.detected(detect)[0];
        assert!(!d.explanation.contains("Other attempts"), "{}", d.explanation);
        assert!(!d.remediation.iter().any(|r| r.contains("processPath")), "{:?}", d.remediation);
        // Nothing thrown: ANCM's own words give the steps.
        let only = Given::new().positional(
            "APP",
            100,
            V2,
            1031,
            &["Application 'C:\\home\\site\\wwwroot\\' wasn't able to start. Process path '.\\Hostr.Api.dll' doesn't have '.exe' extension."],
        );
        let d = &only.detected(detect)[0];
        assert!(d.remediation[0].contains("processPath=\"dotnet\""), "{:?}", d.remediation);
    }

    #[test]
    fn a_refused_database_login_at_startup_is_also_a_db_login_failure() {
        let e = failed_start(
            Given::new(),
            100,
            "Npgsql.PostgresException (0x80004005): 28P01: password authentication failed for user \"staybot_admin\"",
        );
        let found = e.detected(detect);
        let modes: Vec<_> = found.iter().map(|d| d.id).collect();
        assert_eq!(modes, [FailureMode::AncmStartupFailure, FailureMode::DbLoginFailure]);
        assert!(found[1].explanation.contains("staybot_admin"), "{}", found[1].explanation);
        assert_eq!(found[0].end, at(100), "no recovery: the window ends at the last failure");
        // Counted: only the starts the login stopped, not a start of the
        // same outage that failed on its processPath (tshekom8206's).
        let refused =
            "Npgsql.PostgresException (0x80004005): 28P01: password authentication failed for user \"a\"";
        let e = failed_start(Given::new(), 100, refused).positional(
            "APP",
            400,
            V2,
            1031,
            &["Application 'C:\\home\\site\\wwwroot\\' wasn't able to start. Process path '.\\Hostr.Api.dll' doesn't have '.exe' extension."],
        );
        let found = failed_start(e, 100_000, refused).detected(detect);
        let login = found.iter().find(|d| d.id == FailureMode::DbLoginFailure).expect("the login refused");
        assert!(login.explanation.contains("in 2 outages (2 failed starts)"), "{}", login.explanation);
    }

    /// Four different exceptions in four attempts: the text names the
    /// first three, and the last attempt's, whose steps it gives.
    #[test]
    fn the_last_attempts_exception_is_named_when_past_the_third() {
        let mut e = Given::new();
        for (i, thrown) in [
            "System.InvalidOperationException: first",
            "System.InvalidOperationException: second",
            "System.InvalidOperationException: third",
            "System.IO.FileNotFoundException: Could not find subjects.json in expected locations.",
        ]
        .into_iter()
        .enumerate()
        {
            e = failed_start(e, 100 + 60 * i as i64, thrown);
        }
        let d = &e.detected(detect)[0];
        assert!(
            d.explanation.contains("The last attempt threw System.IO.FileNotFoundException"),
            "{}",
            d.explanation
        );
        assert!(d.remediation.iter().any(|r| r.starts_with("Publish again")), "{:?}", d.remediation);
    }

    /// baselAhmed2's app: a connection string stopped the first start, a
    /// data file missing from the next publish the three after. The cause
    /// named first is the one that stopped the most starts; the other is
    /// said to come before it. One exception alone is named without counts.
    #[test]
    fn the_exception_that_stopped_most_starts_is_named_first() {
        let sql = "Microsoft.Data.SqlClient.SqlException (0x80131904): A network-related or instance-specific error \
                   occurred while establishing a connection to SQL Server.";
        let missing = "System.IO.FileNotFoundException: Could not find subjects.json in expected locations.";
        let mut e = failed_start(Given::new(), 100, sql);
        for i in 1..=3 {
            e = failed_start(e, 100 + 60 * i, missing);
        }
        let d = &e.detected(detect)[0];
        assert!(
            d.explanation.contains(
                "It threw System.IO.FileNotFoundException in 3 of the 4 failed starts: Could not find"
            ),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation.contains("Earlier attempts threw Microsoft.Data.SqlClient.SqlException"),
            "{}",
            d.explanation
        );
        assert!(d.remediation[0].starts_with("Publish again"), "{:?}", d.remediation);
        let once = failed_start(failed_start(Given::new(), 100, missing), 160, missing);
        let d = &once.detected(detect)[0];
        assert!(
            d.explanation.contains("It threw System.IO.FileNotFoundException: Could not"),
            "{}",
            d.explanation
        );
    }

    /// tshekom's app: the same login refused at five startups over two
    /// months is five startup failures and one login failure naming them.
    #[test]
    fn a_login_refused_at_several_startups_is_one_db_login_failure() {
        let refused = "Npgsql.PostgresException (0x80004005): 28P01: password authentication failed for user \"staybot_admin\"";
        let e = failed_start(failed_start(Given::new(), 100, refused), 86_400, refused);
        let found = e.detected(detect);
        let modes: Vec<_> = found.iter().map(|d| d.id).collect();
        assert_eq!(
            modes,
            [FailureMode::AncmStartupFailure, FailureMode::AncmStartupFailure, FailureMode::DbLoginFailure]
        );
        let login = &found[2];
        assert!(
            login.explanation.contains("could not start in 2 outages (2 failed starts)"),
            "{}",
            login.explanation
        );
        assert_eq!((login.start, login.end), (found[0].start, found[0].end), "the first outage's window");
        let other = failed_start(
            failed_start(Given::new(), 100, refused),
            86_400,
            "Npgsql.PostgresException (0x80004005): 28P01: password authentication failed for user \"reporting\"",
        );
        let logins =
            other.detected(detect).into_iter().filter(|d| d.id == FailureMode::DbLoginFailure).count();
        assert_eq!(logins, 2, "two accounts refused are two failures");
    }

    #[test]
    fn restarts_of_a_healthy_app_and_a_lone_1018_are_not_startup_failures() {
        let healthy = started(Given::new(), 100)
            .positional("APP", 200, V2, 1033, &["Application 'MACHINE/WEBROOT/APPHOST/APP' has shutdown."])
            .positional(
                "APP",
                300,
                V2,
                1012,
                &["Application 'C:\\home\\site\\wwwroot\\' was recycled after detecting app_offline.htm."],
            );
        assert!(healthy.detected(detect).is_empty());
        let crashed_after_start = started(Given::new(), 100).positional(
            "APP",
            500,
            V2,
            1018,
            &["Application '/LM/W3SVC/1/ROOT' hit unexpected managed exception, exception code = '0xe0434352'."],
        );
        assert!(crashed_after_start.detected(detect).is_empty(), "a crash after a good start is a crash");
        let retry = Given::new().positional(
            "APP",
            100,
            V2,
            1000,
            &["Application ... failed to start process with commandline ..."],
        );
        assert!(retry.detected(detect).is_empty(), "V2 retries once per 1000 and reports 1020 if all fail");
    }

    /// A .NET Runtime 1026 of the out-of-process app's own process, its
    /// exception thrown out of `outermost`.
    fn crashed(e: Given, secs: i64, process: &str, exception: &str, outermost: &str) -> Given {
        e.positional(
            "APP",
            secs,
            ".NET Runtime",
            1026,
            &[&format!(
                "Application: {process}\nCoreCLR Version: 10.0.326.7603\nDescription: The process was terminated \
                    due to an unhandled exception.\nException Info: {exception}\n   at \
                    Tickets.Data.Seed.RunAsync() in G:\\src\\Seed.cs:line 49\n   at {outermost}(String[] args)"
            )],
        )
    }

    /// ANCM 1033 naming the customer's site, and a Functions host's 1032 from
    /// the site extensions, as App Service logs them.
    fn app_service(e: Given) -> Given {
        e.positional("APP", 1, V2, 1033, &["Application 'MACHINE/WEBROOT/APPHOST/TKTSYS' has shutdown."])
    }

    fn functions_host_started(e: Given, secs: i64) -> Given {
        e.positional(
            "APP",
            secs,
            V2,
            1032,
            &["Application 'C:\\Program Files (x86)\\SiteExtensions\\Functions\\4.1047.100\\64bit\\' started successfully."],
        )
    }

    /// baselAhmed2's App Service: the app's own process crashed out of
    /// Program.Main in triplets (ANCM's retries), a minute apart, while a
    /// Functions host on the worker started between them.
    #[test]
    fn an_out_of_process_app_dying_in_main_again_and_again_is_a_failed_start() {
        let mut e = app_service(Given::new());
        for (i, at) in [100, 160, 220].into_iter().enumerate() {
            for k in 0..3 {
                e = crashed(
                    e,
                    at + 2 * k,
                    "TiketApp.Api.exe",
                    "Microsoft.Data.SqlClient.SqlException (0x80131904): Invalid column name 'NotificationEmail'.\nError Number:207,State:1,Class:16",
                    "TiketOnlyMe.Program.<Main>",
                );
            }
            e = functions_host_started(e, at + 30 + i as i64);
        }
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.id, FailureMode::AncmStartupFailure);
        assert!(d.explanation.contains("3 failed starts"), "{}", d.explanation);
        assert!(d.explanation.contains("schema is behind the code"), "{}", d.explanation);
        assert!(d.explanation.contains("isolated worker (TiketApp.Api.exe)"), "{}", d.explanation);
        assert!(
            d.explanation.contains("500 or 503") && !d.explanation.contains("502.5"),
            "{}",
            d.explanation
        );
        assert_eq!(d.end, at(224), "a Functions host starting is not the app starting");
        let cited: Vec<_> = d.evidence.iter().map(|c| c.record).collect();
        let mut distinct = cited.clone();
        distinct.dedup();
        assert_eq!(cited, distinct, "each crash report cited once");
    }

    /// An out-of-process app on a site with no Functions host is one ANCM
    /// ran: its requests fail with 502.5.
    #[test]
    fn an_out_of_process_app_without_a_functions_host_fails_with_502_5() {
        let mut e = app_service(Given::new());
        for at in [100, 160, 220] {
            e = crashed(
                e,
                at,
                "Shop.Api.exe",
                "System.InvalidOperationException: boom",
                "Shop.Program.<Main>",
            );
        }
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert!(found[0].explanation.starts_with("The ASP.NET Core application did not start"));
        assert!(found[0].explanation.contains("502.5"), "{}", found[0].explanation);
    }

    /// baselAhmed2's second outage: no ANCM event says the app started
    /// again, but hours later its own log has it handling a request (the
    /// HTTPS redirection warning names the request); a log line with no
    /// request says nothing of it.
    #[test]
    fn the_app_handling_a_request_after_a_crash_loop_ends_it() {
        let looping = || {
            let mut e = app_service(Given::new());
            for at in [100, 160, 220] {
                e = crashed(
                    e,
                    at,
                    "dotnet.exe",
                    "System.IO.FileNotFoundException: x",
                    "TiketOnlyMe.Program.Main",
                );
            }
            e
        };
        let logged =
            |e: Given, text: &str| e.positional("APP", 5_000, ".NET Runtime", 1000, &[text]).instance("W2");
        let served = logged(
            looping(),
            "Category: Microsoft.AspNetCore.HttpsPolicy.HttpsRedirectionMiddleware\nEventId: 3\nRequestId: \
                0HNKPKAE9R5VF:00000001\nRequestPath: /\n\nFailed to determine the https port for redirect.",
        );
        let d = &served.detected(detect)[0];
        assert!(!d.ongoing);
        assert!(
            d.explanation.contains(&format!("handling a request at {} on W2", at(5_000).to_prose())),
            "{}",
            d.explanation
        );
        let quiet = logged(
            looping(),
            "Category: Microsoft.Hosting.Lifetime\nEventId: 0\n\nApplication is shutting down...",
        );
        let d = &quiet.detected(detect)[0];
        assert!(d.ongoing && d.explanation.contains("No successful start follows"), "{}", d.explanation);
    }

    /// alazhar98's download read whole: a zipdeploy that failed six
    /// minutes before the failed start is named in it; one two hours
    /// before is another story.
    #[test]
    fn a_deployment_that_failed_just_before_a_failed_start_is_named_in_it() {
        let deploy = |e: Given, secs: i64| {
            e.event(
                "APP",
                secs,
                "Kudu",
                1,
                &[("Method", "POST"), ("Url", "/api/zipdeploy?isAsync=true"), ("Status", "500")],
            )
        };
        let start = |e: Given| failed_start(e, 1_000, "System.Exception: x");
        let d = &start(deploy(Given::new(), 640)).detected(detect)[0];
        assert!(
            d.explanation.contains("A deployment through Kudu failed 6 min before (POST /api/zipdeploy?isAsync=true answered 500)"),
            "{}",
            d.explanation
        );
        let d = &start(deploy(Given::new(), -7_000)).detected(detect)[0];
        assert!(!d.explanation.contains("Kudu"), "{}", d.explanation);
    }

    #[test]
    fn crashes_that_are_not_a_web_apps_failed_start_are_not_reported_here() {
        let exception =
            "System.IO.FileNotFoundException: Could not find subjects.json in expected locations.";
        // One crash: a tool run once, or a start that the next attempt got past.
        let once =
            crashed(app_service(Given::new()), 100, "dotnet.exe", exception, "TiketOnlyMe.Program.Main");
        assert!(once.detected(detect).is_empty());
        // A Generic Host service crashing in its Main on a machine without
        // ANCM, its stack through Microsoft.Extensions.Hosting.
        let mut service = Given::new();
        for at in [100, 200, 300] {
            service = crashed(
                service,
                at,
                "Worker.exe",
                "System.InvalidOperationException: at Microsoft.Extensions.Hosting.Internal.Host.StartAsync",
                "Worker.Program.Main",
            );
        }
        assert!(service.detected(detect).is_empty());
        // A loop of them on a host whose only ANCM app is a Functions host:
        // nothing says a web app of the customer's runs there.
        let mut tool = functions_host_started(Given::new(), 1);
        for at in [100, 200, 300] {
            tool = crashed(tool, at, "dotnet.exe", exception, "Tool.Program.Main");
        }
        assert!(tool.detected(detect).is_empty());
        // The Functions worker's own code, not the app's Main.
        let mut worker = app_service(Given::new());
        for at in [100, 200, 300] {
            worker = crashed(
                worker,
                at,
                "dotnet.exe",
                exception,
                "Microsoft.Azure.Functions.Worker.WorkerHost.Main",
            );
        }
        assert!(worker.detected(detect).is_empty());
        // An app that started and threw later, in a request.
        let mut request = app_service(Given::new());
        for at in [100, 200, 300] {
            request = crashed(request, at, "dotnet.exe", exception, "Tickets.Api.Controllers.Orders.Get");
        }
        assert!(request.detected(detect).is_empty());
    }

    /// An App Service site's two workers filed under one host: the app
    /// failing on one is not recovered by the other starting (staybot's
    /// dw1sdwk000MOP and dw0sdwk000J2H), and the finding says the other may
    /// have served.
    #[test]
    fn one_instance_starting_is_not_anothers_recovery() {
        let ok = |e: Given, secs: i64, on: &str| started(e, secs).instance(on);
        let failing = |e: Given, secs: i64| {
            e.positional(
                "APP",
                secs,
                V2,
                1027,
                &["Could not find 'aspnetcorev2_inprocess.dll'. Exception message:\nError:\n  An assembly \
                    specified in the application dependencies manifest (Hostr.Api.deps.json) was not found:\n    \
                    package: 'Microsoft.Win32.SystemEvents', version: '6.0.0'"],
            )
            .instance("MOP")
        };
        let e = ok(failing(Given::new(), 100), 200, "J2H");
        let e = ok(failing(e, 400), 900, "MOP");
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.start, d.end), (at(100), at(900)), "to MOP's own start, not J2H's");
        assert!(d.explanation.contains("incomplete publish"), "{}", d.explanation);
        assert!(
            d.explanation.contains("Another instance of the site (J2H) had started at"),
            "{}",
            d.explanation
        );
        // Another worker asking to be recycled is that worker's story, not
        // an effect of MOP's failure; MOP's own is.
        let unhealthy =
            |e: Given, secs: i64, on: &str| e.event("APP", secs, "W3SVC-WP", 2299, &[]).instance(on);
        let e = || ok(failing(failing(Given::new(), 100), 400), 900, "MOP");
        let other = &unhealthy(e(), 950, "J2H").detected(detect)[0];
        assert!(other.timeline.iter().all(|s| s.role != Role::Effect), "{:?}", other.timeline);
        let own = &unhealthy(e(), 950, "MOP").detected(detect)[0];
        assert_eq!(own.timeline.iter().filter(|s| s.role == Role::Effect).count(), 1);
        // The same failures with no start of MOP: still open.
        let open = ok(failing(failing(Given::new(), 100), 400), 200, "J2H");
        let d = &open.detected(detect)[0];
        assert!(
            d.explanation.contains("No successful start of the failing instance follows"),
            "{}",
            d.explanation
        );
    }

    /// A site that fails on one worker, is moved to another and fails
    /// there too (baselAhmed2's five workers) is one outage.
    #[test]
    fn a_site_failing_on_worker_after_worker_is_one_episode() {
        let mut e = app_service(Given::new());
        for (at, on) in [(100, "W1"), (160, "W1"), (600, "W2"), (660, "W2")] {
            e = crashed(
                e,
                at,
                "dotnet.exe",
                "System.IO.FileNotFoundException: Could not find subjects.json.",
                "App.Program.Main",
            )
            .instance(on);
        }
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert!(found[0].explanation.contains("4 failed starts"), "{}", found[0].explanation);
    }

    /// BandaruDheeraj's 22:04:36 start: the crash report holds what the
    /// dying process threw while logging; ANCM's captured output the
    /// missing registration that stopped the start.
    #[test]
    fn an_exception_thrown_while_logging_gives_way_to_the_one_that_stopped_the_start() {
        let e = crashed(
            Given::new(),
            100,
            "w3wp.exe",
            "System.AggregateException: An error occurred while writing to logger(s). (Cannot access a disposed \
                object.\nObject name: 'EventLogInternal'.)",
            "Program.<Main>$",
        )
        .positional(
            "APP",
            100,
            V2,
            1018,
            &["Application '/LM/W3SVC/1/ROOT' with physical root 'C:\\home\\site\\wwwroot\\' hit unexpected \
                managed exception, exception code = '0xe0434352'. Last 4KB characters of captured stdout and \
                stderr logs:\nUnhandled exception. System.InvalidOperationException: Unable to resolve service \
                for type 'Microsoft.ApplicationInsights.TelemetryClient' while attempting to activate \
                'App.PerformanceMiddleware'."],
        )
        .positional("APP", 100, V2, 1007, &["Application '/LM/W3SVC/1/ROOT' failed to load coreclr."]);
        let d = &e.detected(detect)[0];
        assert!(d.explanation.contains("Unable to resolve service for type"), "{}", d.explanation);
        assert!(!d.explanation.contains("AggregateException"), "{}", d.explanation);
        // Nothing else said: what it threw while logging is all there is.
        let alone = crashed(
            Given::new(),
            100,
            "w3wp.exe",
            "System.AggregateException: An error occurred while writing to logger(s).",
            "Program.<Main>$",
        )
        .positional(
            "APP",
            100,
            V2,
            1007,
            &["Application '/LM/W3SVC/1/ROOT' failed to load coreclr."],
        );
        let d = &alone.detected(detect)[0];
        assert!(d.explanation.contains("It threw System.AggregateException"), "{}", d.explanation);
    }

    #[test]
    fn the_advice_follows_what_the_app_threw() {
        let postgres = failed_start(
            Given::new(),
            100,
            "Npgsql.PostgresException (0x80004005): 28P01: password authentication failed for user \"staybot_admin\"",
        );
        let found = postgres.detected(detect);
        assert!(found[0].remediation[0].starts_with("Fix the database login"), "{:?}", found[0].remediation);
        assert!(found[1].remediation[0].contains("PostgreSQL role"), "{:?}", found[1].remediation);
        let pipes = failed_start(
            Given::new(),
            100,
            "Microsoft.Data.SqlClient.SqlException (0x80131904): A network-related or instance-specific error \
                occurred while establishing a connection to SQL Server. (provider: Named Pipes Provider, error: \
                40 - Could not open a connection to SQL Server)\nError Number:2,State:0,Class:20",
        );
        let d = &pipes.detected(detect)[0];
        assert!(
            d.explanation.contains("a connection string naming a server that is not there"),
            "{}",
            d.explanation
        );
        assert!(d.remediation[0].contains("has no server on App Service"), "{:?}", d.remediation);
    }

    /// BandaruDheeraj's app asked for System.Runtime 9.0.0.0 from CoreCLR
    /// 8.0: published for a newer .NET than the host runs.
    #[test]
    fn an_app_built_for_a_newer_dotnet_than_ran_it_is_named_so() {
        let crash = |runtime: &str| {
            Given::new()
                .positional(
                    "APP",
                    100,
                    ".NET Runtime",
                    1026,
                    &[&format!(
                        "Application: w3wp.exe\nCoreCLR Version: {runtime}\nDescription: The process was \
                            terminated due to an unhandled exception.\nException Info: \
                            System.IO.FileNotFoundException: Could not load file or assembly 'System.Runtime, \
                            Version=9.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a'.\n   at \
                            Program.<Main>$(String[] args)"
                    )],
                )
                .positional("APP", 100, V2, 1007, &["Application '/LM/W3SVC/1/ROOT' failed to load coreclr."])
                .detected(detect)
        };
        let older = crash("8.0.2025.41914");
        assert!(
            older[0].explanation.contains("built for .NET 9 and the runtime that ran them is .NET 8"),
            "{}",
            older[0].explanation
        );
        let same = crash("9.0.1");
        assert!(!same[0].explanation.contains("built for"), "{}", same[0].explanation);
    }

    /// An exception quoting a file under the site is not the app's path:
    /// the app's own start still ends the episode.
    #[test]
    fn a_file_an_exception_names_is_not_the_application() {
        let mut e = app_service(Given::new());
        for at in [100, 160] {
            e = crashed(
                e,
                at,
                "dotnet.exe",
                "System.IO.FileNotFoundException: Could not find file 'C:\\home\\site\\wwwroot\\appsettings.json'.",
                "App.Program.Main",
            );
        }
        let d = &started(e, 400).detected(detect)[0];
        assert_eq!(d.end, at(400), "{}", d.explanation);
    }

    /// One outage whose failed starts were on two of the site's instances,
    /// an hour apart (BandaruDheeraj's): the finding says which, how many
    /// and when; on one instance it says nothing of instances.
    #[test]
    fn an_outage_over_two_instances_names_them() {
        let failing = |e: Given, secs: i64, on: &str| {
            e.positional(
                "APP",
                secs,
                V2,
                1031,
                &["Application 'C:\\home\\site\\wwwroot\\' wasn't able to start."],
            )
            .instance(on)
        };
        let e = failing(failing(failing(Given::new(), 100, "A"), 160, "A"), 3_700, "B");
        let found = e.detected(detect);
        assert_eq!(found.len(), 1, "{:?}", found.iter().map(|d| &d.explanation).collect::<Vec<_>>());
        assert!(
            found[0].explanation.contains(&format!(
                "The failed starts were on 2 instances of the site: A (2 failed starts, {} to {}), B (1 failed start, at {}).",
                at(100).to_prose(),
                at(160).to_prose(),
                at(3_700).to_prose()
            )),
            "{}",
            found[0].explanation
        );
        let alone = failing(failing(Given::new(), 100, "A"), 160, "A").detected(detect);
        assert!(!alone[0].explanation.contains("instances"), "{}", alone[0].explanation);
    }

    /// Two workers failing at once for the same reason, one recovering:
    /// one outage of the site, the one still failing not said to have
    /// started again; another reason on the second worker is its own
    /// finding (tshekom's deployment took both workers down at once).
    #[test]
    fn workers_failing_at_once_for_one_reason_are_one_outage() {
        let failing = |e: Given, secs: i64, on: &str, id: u16, text: &str| {
            e.positional("APP", secs, V2, id, &[text]).instance(on)
        };
        let processpath = "Application 'C:\\home\\site\\wwwroot\\' wasn't able to start.";
        let e = failing(Given::new(), 100, "A", 1031, processpath);
        let e = failing(failing(e, 150, "B", 1031, processpath), 500, "A", 1031, processpath);
        let found = started(e, 300).instance("B").detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.start, d.end), (at(100), at(500)));
        assert!(d.explanation.contains("No successful start of the failing instance"), "{}", d.explanation);
        assert!(
            d.explanation.contains(&format!(
                "The same failure as on A, on instance B at the same time: 1 failed start from {}, started again at {}.",
                at(150).to_prose(),
                at(300).to_prose()
            )),
            "{}",
            d.explanation
        );
        assert_eq!(d.evidence.len(), 4, "each worker's failures and B's start");
        let deps = "Could not find 'aspnetcorev2_inprocess.dll'. Exception message: Error: An assembly specified in the \
            application dependencies manifest (App.deps.json) was not found";
        let e = failing(Given::new(), 100, "A", 1031, processpath);
        let e = failing(failing(e, 150, "B", 1027, deps), 500, "A", 1031, processpath);
        assert_eq!(started(e, 300).instance("B").detected(detect).len(), 2, "two reasons, two findings");
        // Each instance failing once as a deployment restarts it, minutes
        // apart: one outage too; an hour apart, two.
        let again = |gap: i64| {
            let e = failing(Given::new(), 100, "A", 1027, deps);
            let e = started(e, 110).instance("A");
            started(failing(e, 110 + gap, "B", 1027, deps), 120 + gap).instance("B").detected(detect)
        };
        let one = again(120);
        assert_eq!(one.len(), 1);
        assert!(
            one[0].explanation.contains("The same failure as on A, on instance B right after"),
            "{}",
            one[0].explanation
        );
        assert_eq!(again(3_600).len(), 2);
        // A third instance failing as the first did joins it past a second
        // failing otherwise, each starting again in turn.
        let e = started(failing(Given::new(), 100, "A", 1031, processpath), 110).instance("A");
        let e = started(failing(e, 150, "B", 1027, deps), 160).instance("B");
        let e = started(failing(e, 200, "C", 1031, processpath), 210).instance("C");
        let found = e.detected(detect);
        assert_eq!(found.len(), 2, "{:?}", found.iter().map(|d| &d.explanation).collect::<Vec<_>>());
        let first = found.iter().find(|d| d.start == at(100)).expect("A's");
        assert!(
            first.explanation.contains("The same failure as on A, on instance C right after"),
            "{}",
            first.explanation
        );
    }

    /// Only the host's last episode, never recovered, is still going on
    /// (failing twice): an earlier one that no start closed was followed by
    /// later failures.
    #[test]
    fn the_last_unrecovered_episode_is_the_one_still_going_on() {
        let e = failed_start(Given::new(), 100, "System.Exception: first");
        let e = failed_start(e, 100 + 7 * 3_600, "System.Exception: second");
        let e = failed_start(e, 400 + 7 * 3_600, "System.Exception: second");
        let found = e.detected(detect);
        let ongoing: Vec<bool> = found.iter().map(|d| d.ongoing).collect();
        assert_eq!(ongoing, [false, true]);
        let recovered = started(failed_start(Given::new(), 100, "System.Exception: x"), 400);
        assert!(!recovered.detected(detect)[0].ongoing);
    }

    #[test]
    fn another_apps_start_does_not_end_the_outage() {
        let e = failed_start(Given::new(), 100, "System.Exception: boom").positional(
            "APP",
            200,
            V2,
            1032,
            &["Application 'C:\\Program Files (x86)\\SiteExtensions\\ApplicationInsightsAgent\\' started successfully."],
        );
        let e = started(e, 700);
        let found = e.detected(detect);
        assert_eq!(found[0].end, at(700));
    }
}
