//! Failure modes an access log's status and sub-status name outright:
//! 500.19 (configuration), 500.21-500.24, 500.0 with a module-load failure
//! code, and 404.17/404.4 (handler or module), 500.30-500.38 and 502.5
//! (ASP.NET Core startup, when no ANCM event says more), 502.3 (backend),
//! 401.3/404.3/403.1-2 on static files, 401.1 with rejected credentials,
//! 404.13-15 and 413 (request limits). FREB traces of the same status name
//! the module that set it.
//!
//! Some statuses are never normal: one such row (or one detailed error
//! page) is a finding, because a small site may log a few requests a day.
//! Fewer rows lower severity and confidence, and a success after them ends
//! the window. The ambiguous statuses still need a burst.

use std::sync::Arc;

use faultline_parser::{Span, Timestamp};

use std::collections::BTreeSet;

use super::kinds::{ANCM_STOPPED, KERBEROS_TICKET_UNREADABLE, LOGON_FAILED};
use super::{Draft, FailureMode, clusters, grouped};
use crate::evidence::store::COPY_MARGIN;
use crate::evidence::{RequestRow, Status, Store, TraceRow};
use crate::finding::{Role, Severity};
use crate::resolve::SourceKind;

/// `SEC_E_LOGON_DENIED` (0x8009030C) and `ERROR_LOGON_FAILURE` (1326):
/// credentials were presented and rejected.
const CREDENTIALS_REJECTED: [u64; 2] = [2_148_074_252, 1326];

fn is_static(stem: &str) -> bool {
    [
        ".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg", ".woff", ".woff2", ".json", ".map",
        ".html", ".htm",
    ]
    .iter()
    .any(|e| stem.to_ascii_lowercase().ends_with(e))
}

/// Codes that say a DLL or module could not be found or loaded, as Win32
/// errors (126 module not found, 127 procedure not found, 193 bad image
/// format, 1114 DLL initialisation failed, 14001 side-by-side
/// configuration), as their HRESULTs, and as NTSTATUS (0xC0000135 DLL not
/// found, 0xC000007B bad image format).
const LOAD_FAILURES: [u64; 12] = [
    126,
    127,
    193,
    1114,
    14001,
    0x8007_007E,
    0x8007_007F,
    0x8007_00C1,
    0x8007_045A,
    0x8007_36B1,
    0xC000_0135,
    0xC000_007B,
];

/// Whether a response is 500.0 with a load error: a DLL the request needed
/// (a module, an ISAPI filter or extension, a FastCGI handler) did not load.
pub(super) fn is_load_failure(status: Status) -> bool {
    status.is(500, 0) && LOAD_FAILURES.contains(&status.win32)
}

/// `ERROR_SHUTDOWN_IN_PROGRESS` (1115) and `ERROR_SERVER_SHUTDOWN_IN_PROGRESS`
/// (1255), as Win32 codes and as HRESULTs: a 503 with one of them was
/// refused by an application shutting down (ANCM's "Server has been
/// shutdown" page).
const SHUTTING_DOWN: [u64; 4] = [1115, 1255, 0x8007_045B, 0x8007_04E7];

/// The statuses of an ASP.NET Core app that did not start (500.30-500.38
/// in process, 502.5 out of process).
fn ancm_status(Status { code, sub, .. }: Status) -> bool {
    matches!((code, sub), (500, 30..=38) | (502, 5))
}

/// The failure mode a response's status names, if any (`ancm_failed`: ANCM
/// logged the startup failure on the host).
fn mode_of(status: Status, stem: &str, ancm_failed: bool) -> Option<FailureMode> {
    let Status { code, sub, win32 } = status;
    Some(match (code, sub) {
        (500, 19) => FailureMode::ConfigError,
        (500, 21..=24) | (404, 17) | (404, 4) => FailureMode::HandlerMissing,
        (500, 0) if is_load_failure(status) => FailureMode::HandlerMissing,
        _ if ancm_status(status) && !ancm_failed => FailureMode::AncmStartupFailure,
        (502, 3) => FailureMode::BackendFailure,
        (503, 2) => FailureMode::RequestQueueFull,
        (401, 3) | (404, 3) | (403, 1 | 2) if is_static(stem) => FailureMode::StaticContentFailure,
        (401, 1) if CREDENTIALS_REJECTED.contains(&win32) => FailureMode::AuthFailure,
        (404, 13..=15) | (413, _) => FailureMode::RequestLimits,
        (503, _) if SHUTTING_DOWN.contains(&win32) => FailureMode::RecycleOnDemand,
        _ => return None,
    })
}

/// Whether a run of a few responses with this status still counts (as a
/// failure that keeps coming back, or a finding of its own): an upload
/// over the size limit is a user's, however rarely (a scanner sends no
/// thirty megabytes), while a URL or query too long is a scanner's
/// unless many.
fn counts_when_few(mode: FailureMode, status: Status) -> bool {
    mode == FailureMode::RequestLimits && (status.is(404, 13) || status.code == 413)
}

/// Whether one response with this status is a finding on its own: the
/// statuses IIS returns only when something is broken, never under normal
/// load (404.17/404.4 answer scanners too, so they need a burst). A
/// detailed error page of an application shutting down is one too: a
/// user was shown it, and it names a restart the evidence may hold
/// nothing else of.
fn is_decisive(mode: FailureMode, status: Status, page: bool) -> bool {
    match mode {
        FailureMode::ConfigError | FailureMode::AncmStartupFailure => true,
        FailureMode::RecycleOnDemand => page,
        FailureMode::HandlerMissing => status.code == 500,
        _ => false,
    }
}

/// Responses of a burst that make a finding of the ambiguous statuses.
const BURST: usize = 5;

/// Severity and confidence for `n` responses: a burst as the mode says; a
/// few never-normal ones one step lower and less sure, still worth naming.
fn weight(severity: Severity, n: usize) -> (Severity, f64) {
    if n >= BURST {
        return (severity, 0.85);
    }
    let lower = match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        other => other,
    };
    (lower, 0.6 + 0.05 * n as f64)
}

/// What `n` requests failing with `first`'s status mean.
fn explain(mode: FailureMode, n: usize, first: Status) -> (Severity, String) {
    let Status { code, sub, win32 } = first;
    let many = n >= BURST;
    let n = if n == 1 { "1 request".to_string() } else { format!("{n} requests") };
    match mode {
        FailureMode::HandlerMissing if code == 500 && sub == 0 => (
            Severity::High,
            format!(
                "{n} failed with 500.0 and {}: a DLL the request needed could not be found or loaded (a \
                    native module, an ISAPI filter or extension, or a FastCGI handler: missing, built for \
                    a bitness other than the pool's, or missing its own dependencies).",
                error_text(win32)
            ),
        ),
        FailureMode::ConfigError => (
            Severity::High,
            format!(
                "{n} failed with 500.19 ({}): IIS cannot read or parse the configuration of this path{}",
                error_text(win32),
                config_cause(win32)
            ),
        ),
        FailureMode::HandlerMissing => {
            (Severity::High, format!("{n} failed with {code}.{sub}: {}", handler_cause(code, sub)))
        }
        FailureMode::AncmStartupFailure if (code, sub) == (502, 5) => (
            Severity::Critical,
            format!(
                "{n} failed with 502.5: ANCM could not launch the out-of-process application's backend \
                    process (the processPath in web.config, with its arguments), or it exited before listening: \
                    the ASP.NET Core application did not start."
            ),
        ),
        FailureMode::AncmStartupFailure => (
            Severity::Critical,
            format!(
                "{n} failed with {code}.{sub}: the ASP.NET Core application did not start under \
                    ANCM."
            ),
        ),
        FailureMode::RequestQueueFull => (
            Severity::High,
            format!(
                "{n} failed with 503.2: the site's concurrent request limit was reached (serverRuntime \
                    appConcurrentRequestLimit, 5000 by default): requests held open for long (long polling, \
                    slow backends) or a load spike filled it, and IIS refused the rest."
            ),
        ),
        FailureMode::BackendFailure => (
            Severity::High,
            format!(
                "{n} failed with 502.3 (WinHTTP {win32}): the backend behind ANCM or ARR {}.",
                match win32 {
                    12002 => "did not answer in time (a timeout)",
                    12029 | 12030 => "refused or dropped the connection (down, restarting or recycling)",
                    12007 => "could not be resolved (its name does not resolve)",
                    _ => "did not answer in time or refused the connection",
                }
            ),
        ),
        FailureMode::StaticContentFailure => (
            Severity::Medium,
            format!(
                "{n} for static files failed with {code}.{sub} while dynamic requests worked: \
                    static files are read by the anonymous identity (IUSR), not the pool identity, or their \
                    handler/MIME map is missing."
            ),
        ),
        FailureMode::AuthFailure => (
            Severity::Medium,
            format!(
                "{n} failed authentication with 401.1 ({}): credentials were presented \
                    and rejected — beyond the normal 401.2, 401.1 (0x8009030E), 200 handshake.",
                error_text(win32)
            ),
        ),
        FailureMode::RecycleOnDemand => (
            if many { Severity::Medium } else { Severity::Low },
            format!(
                "{n} failed with {code}.{sub} and {} (shutdown in progress): the request \
                    reached an application that was shutting down, its worker recycling or the site \
                    restarting (a deployment, a configuration change, a scale-in, a platform restart or \
                    the Restart button). A few during a restart are routine; more mean requests were lost \
                    to it.",
                error_text(win32)
            ),
        ),
        FailureMode::RequestLimits if (code, sub) == (404, 13) => (
            if many { Severity::Medium } else { Severity::Low },
            format!(
                "{n} were rejected by request filtering as larger than maxAllowedContentLength (404.13: \
                    30,000,000 bytes, about 28.6 MB, unless raised): IIS refused the upload before the \
                    application saw it, and its users were told \"not found\"."
            ),
        ),
        FailureMode::RequestLimits if (code, sub) == (404, 14) => (
            Severity::Medium,
            format!("{n} were rejected by request filtering: URL longer than maxUrl (404.14)."),
        ),
        FailureMode::RequestLimits if (code, sub) == (404, 15) => (
            Severity::Medium,
            format!(
                "{n} were rejected by request filtering: query string longer than maxQueryString (404.15)."
            ),
        ),
        _ => (Severity::Medium, format!("{n} were rejected by IIS request limits ({code}.{sub}).")),
    }
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    // Where ANCM logged the startup failure itself, its event names the
    // failure and the exception (the ancm detector reports it); the status
    // alone says less. ANCM's routine events (restarts, app_offline) do not
    // count.
    let ancm_failed: BTreeSet<&str> = super::ancm::start_failures(store).map(|e| &*e.host).collect();
    // The requests a filter or extension that did not load failed are the
    // finding of the worker's event that names it.
    let claimed = super::module_load::claimed_requests(store);
    from_requests(store, &ancm_failed, &claimed, out);
    from_error_pages(store, &ancm_failed, &claimed, out);
}

/// The access-log rows another finding tells (a filter's that did not
/// load), by source and line.
type Claimed = std::collections::HashSet<(u32, u64)>;

fn from_requests(store: &Store, ancm_failed: &BTreeSet<&str>, claimed: &Claimed, out: &mut Vec<Draft>) {
    let failed = store
        .requests
        .iter()
        .filter(|r| !claimed.contains(&(r.source, r.line)))
        .filter_map(|r| mode_of(r.status, &r.stem, ancm_failed.contains(&*r.host)).map(|mode| (mode, r)));
    for ((host, site, mode), rows) in grouped(failed, |(mode, r)| (r.host.clone(), r.site, *mode)) {
        let rows: Vec<&RequestRow> = rows.into_iter().map(|(_, r)| r).collect();
        let ancm = ancm_failed.contains(&*host);
        let mut episodes = Vec::new();
        for c in clusters(rows, |r| r.time, Span::mins(15)) {
            let (first, last) = (c[0], c[c.len() - 1]);
            // A busy minute lists only its first failures: the others of
            // the same failure were counted by status, and count here (a
            // failure told apart by its path is not, the path not kept).
            let minutes = first.time.minute()..=last.time.minute();
            let unlisted =
                store.unlisted_between(&host, site, minutes, |s| mode_of(s, "", ancm) == Some(mode));
            let n = c.len() + usize::try_from(unlisted.count).unwrap_or(usize::MAX);
            let last_time = if unlisted.count > 0 { last.time.max(unlisted.last) } else { last.time };
            if n < BURST && !is_decisive(mode, first.status, false) && !counts_when_few(mode, first.status) {
                continue;
            }
            episodes.push(Episode { rows: c, n, last_time });
        }
        // Bursts are outages, each its own finding; a failure that keeps
        // coming back a request or two at a time is one, per status. A
        // flood of bursts is one per status too.
        // A limit rejecting requests leaves the site serving the rest: its
        // bursts are no outage, but runs of the one failure.
        let (bursts, small): (Vec<Episode<'_>>, Vec<Episode<'_>>) = match mode {
            FailureMode::RequestLimits => (Vec::new(), episodes),
            _ => episodes.into_iter().partition(|e| e.n >= BURST),
        };
        if bursts.len() > MAX_BURSTS {
            for (_, runs) in grouped(bursts, |e| main_status(&e.rows)) {
                out.push(recurring(store, (&host, site, mode), &runs));
            }
        } else {
            out.extend(bursts.iter().map(|e| episode(store, (&host, site, mode), e)));
        }
        for (_, runs) in grouped(small, |e| main_status(&e.rows)) {
            if runs.len() >= RECURRING {
                out.push(recurring(store, (&host, site, mode), &runs));
            } else {
                out.extend(runs.iter().map(|e| episode(store, (&host, site, mode), e)));
            }
        }
    }
}

/// The statuses `rows` answered with how many of each, most first (of
/// those as many, the one answered first).
fn status_counts(rows: &[&RequestRow]) -> Vec<(Status, usize)> {
    let mut counts: std::collections::BTreeMap<Status, (usize, usize)> = std::collections::BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        counts.entry(r.status).or_insert((0, i)).0 += 1;
    }
    let mut counts: Vec<(Status, (usize, usize))> = counts.into_iter().collect();
    counts.sort_by_key(|&(_, (n, first))| (std::cmp::Reverse(n), first));
    counts.into_iter().map(|(s, (n, _))| (s, n)).collect()
}

/// The status most of `rows` answered.
fn main_status(rows: &[&RequestRow]) -> Status {
    status_counts(rows).first().map_or_else(Status::default, |&(s, _)| s)
}

/// The statuses of `rows` other than `main`, with how many of each, for a
/// sentence: `500.19 with win32 13 (240)`.
fn other_statuses(rows: &[&RequestRow], main: Status) -> String {
    let said: Vec<String> = status_counts(rows)
        .into_iter()
        .filter(|&(s, _)| s != main)
        .map(|(s, n)| format!("{}.{} with win32 {} ({n})", s.code, s.sub, s.win32))
        .collect();
    crate::describe::listed(&said, 3)
}

/// One run of failures of a mode on a site (no gap over a quarter of an
/// hour): its rows kept, how many failed (kept and counted), the last.
struct Episode<'s> {
    rows: Vec<&'s RequestRow>,
    n: usize,
    last_time: Timestamp,
}

/// A site failing with one status in this many runs of fewer than
/// [`BURST`] requests has one finding of a failure that keeps coming back,
/// not one per run: a path broken for a month and asked for every hour is
/// one fault.
const RECURRING: usize = 3;

/// More bursts than this of one site are a flood: one finding per status.
const MAX_BURSTS: usize = 10;

fn episode(
    store: &Store,
    (host, site, mode): (&Arc<str>, Option<u32>, FailureMode),
    e: &Episode<'_>,
) -> Draft {
    let (c, n, last_time) = (&e.rows, e.n, e.last_time);
    let first = c[0];
    let main = main_status(c);
    let (severity, mut text) = explain(mode, n, main);
    let (severity, confidence) = weight(severity, n);
    // The site answering again ends the incident: the first minute
    // after the last failure in which it served successes.
    // A request or two among successes is no outage the site recovered
    // from.
    let recovered = if n >= BURST { recovery(store, host, site, last_time) } else { None };
    let named = match is_load_failure(main) {
        true => super::module_load::likeliest(store, host, (first.time, last_time), main.win32),
        false => None,
    };
    if let Some((_, said)) = &named {
        text.push_str(said);
    }
    let others = other_statuses(c, main);
    if !others.is_empty() {
        text.push_str(&format!(" Among the rows kept, also {others}."));
    }
    if let Some(ok) = recovered {
        // Successes are counted by the minute, not kept: the
        // minute is what the evidence can say.
        text.push_str(&format!(
            " The site served successes again in the minute from {} (the access log's successes \
                are counted by the minute).",
            ok.to_prose()
        ));
    }
    let end = recovered.unwrap_or(last_time);
    let mut d = Draft::new(mode, severity, confidence, first.start(), end)
        .scope(Some(host), site, None)
        .explain(text);
    d = remedied(d, mode, std::iter::once(main).chain(c.iter().map(|r| r.status)));
    d.cite_first(c.iter(), 5, Role::Effect, |r| store.cite_request(r));
    if let Some((e, _)) = named {
        d.cite(store.cite_event(e, crate::describe::headline(&e.event)), Role::Context);
    }
    corroborate(store, &mut d, (host, site, mode), first, (first.start(), last_time, end));
    if mode == FailureMode::AuthFailure {
        refused_everyone(store, &mut d, host, c.iter().copied(), (first.start(), last_time));
    }
    d
}

/// A site failing the same way in many runs: one finding of them all,
/// naming the largest runs and the paths that failed most.
fn recurring(
    store: &Store,
    (host, site, mode): (&Arc<str>, Option<u32>, FailureMode),
    episodes: &[Episode<'_>],
) -> Draft {
    let first = episodes[0].rows[0];
    let last = &episodes[episodes.len() - 1];
    let n: usize = episodes.iter().map(|e| e.n).sum();
    let (severity, mut text) = explain(mode, n, main_status(&episodes[0].rows));
    // Runs of a request or two are a fault to fix, not the outage.
    let (severity, confidence) = match episodes.iter().any(|e| e.n >= BURST) {
        true => weight(severity, BURST),
        false => (Severity::Low, 0.6),
    };
    let mut largest: Vec<usize> = (0..episodes.len()).collect();
    largest.sort_by_key(|&i| (std::cmp::Reverse(episodes[i].n), i));
    largest.truncate(3);
    let runs: Vec<String> = largest
        .iter()
        .map(|&i| &episodes[i])
        .filter(|e| e.n >= BURST)
        .map(|e| format!("{} requests from {} to {}", e.n, e.rows[0].time.to_prose(), e.last_time.to_prose()))
        .collect();
    let runs = match runs.is_empty() {
        true => match episodes[largest[0]].n {
            1 => "Each run was one request.".to_string(),
            most => format!("No run held more than {most} requests."),
        },
        false => format!("The largest runs: {}.", runs.join("; ")),
    };
    let mut paths: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in episodes.iter().flat_map(|e| &e.rows) {
        *paths.entry(&*r.stem).or_default() += 1;
    }
    let mut paths: Vec<(&str, usize)> = paths.into_iter().collect();
    paths.sort_by_key(|&(p, k)| (std::cmp::Reverse(k), p));
    let named: Vec<String> = paths.iter().take(3).map(|(p, k)| format!("{p} ({k})")).collect();
    text.push_str(&format!(
        " They failed in {} separate runs (more than a quarter of an hour apart) from {} to {}: a failure that \
            keeps coming back, one finding rather than one per run. {runs} The paths that failed most among \
            the rows kept: {}{}.",
        episodes.len(),
        first.time.to_prose(),
        last.last_time.to_prose(),
        named.join(", "),
        if paths.len() > 3 { format!(" ({} paths in all)", paths.len()) } else { String::new() },
    ));
    let end = last.last_time;
    let mut d = Draft::new(mode, severity, confidence, first.start(), end)
        .scope(Some(host), site, None)
        .explain(text);
    let statuses = episodes.iter().flat_map(|e| &e.rows).map(|r| r.status);
    d = remedied(d, mode, std::iter::once(main_status(&episodes[0].rows)).chain(statuses));
    let mut cited: Vec<usize> = largest.clone();
    cited.extend([0, episodes.len() - 1]);
    cited.sort_unstable();
    cited.dedup();
    for i in cited {
        d.cite_first(episodes[i].rows.iter(), 3, Role::Effect, |r| store.cite_request(r));
    }
    corroborate(store, &mut d, (host, site, mode), first, (first.start(), last.last_time, end));
    if mode == FailureMode::AuthFailure {
        let rows = episodes.iter().flat_map(|e| e.rows.iter().copied());
        refused_everyone(store, &mut d, host, rows, (first.start(), last.last_time));
    }
    d
}

/// How many clients at once make credentials rejected the server's doing,
/// not users': one user mistyping, or one service's stale password, is
/// one client or two.
const MANY_CLIENTS: usize = 5;

/// How long before the first rejection a client's Kerberos error may come:
/// a ticket is fetched, and refused, as the user first opens the site.
const TICKET_BEFORE: Span = Span::mins(5);

/// Whether a client's Kerberos 4 names `host`'s machine account as the
/// service whose ticket could not be decrypted, or a service account (no
/// `$`) for an HTTP SPN, which names no machine to tell it from.
fn names_server(e: &crate::evidence::EventRow, host: &str) -> bool {
    let Some(server) = e.data("Server").map(str::trim) else { return false };
    match server.strip_suffix('$') {
        Some(machine) => {
            let machine = machine.rsplit('\\').next().unwrap_or(machine);
            let short = |name: &str| name.split('.').next().unwrap_or(name).to_ascii_lowercase();
            short(machine) == short(host)
        }
        None => {
            e.data("Targetname").is_some_and(|t| t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("HTTP/")))
        }
    }
}

/// Credentials rejected with 401.1 from many clients at once, or beside
/// the users' machines' Kerberos 4 (KRB_AP_ERR_MODIFIED) for this server:
/// the server refusing everyone's tickets, not users' passwords. Says so,
/// cites the Kerberos errors, raises the finding to high (the site's users
/// are locked out) and gives the SPN steps first.
fn refused_everyone<'r>(
    store: &Store,
    d: &mut Draft,
    host: &str,
    rows: impl Iterator<Item = &'r RequestRow>,
    (from, to): (Timestamp, Timestamp),
) {
    let clients: BTreeSet<&str> = rows.map(|r| &*r.client).filter(|c| !c.is_empty() && *c != "-").collect();
    let tickets: Vec<&crate::evidence::EventRow> = store
        .events_between(KERBEROS_TICKET_UNREADABLE, from - TICKET_BEFORE, to)
        .filter(|e| names_server(e, host))
        .collect();
    let many = clients.len() >= MANY_CLIENTS;
    if !many && tickets.is_empty() {
        return;
    }
    if many {
        d.explanation.push_str(&format!(
            " They came from {} different clients at once: not one user's password, but the server refusing \
                everyone's.",
            clients.len()
        ));
        d.severity = d.severity.max(Severity::High);
    }
    match tickets.first() {
        Some(e) => {
            d.explanation.push_str(&format!(
                " The users' machines logged Kerberos 4 (KRB_AP_ERR_MODIFIED) for {}: its tickets were \
                    encrypted for {}, the account its SPN is registered on, and the account decrypting them \
                    here cannot read them: the SPN is registered on another account than the one the site \
                    decrypts tickets as (the machine's while kernel-mode authentication uses the app pool's \
                    credentials, useAppPoolCredentials, or the reverse), or on two.",
                e.data("Targetname").unwrap_or("the site's SPN"),
                e.data("Server").unwrap_or("-"),
            ));
            for e in tickets.iter().take(3) {
                let summary = format!(
                    "Kerberos 4 on {}: KRB_AP_ERR_MODIFIED from {} for {}",
                    e.host,
                    e.data("Server").unwrap_or("-"),
                    e.data("Targetname").unwrap_or("-")
                );
                d.cite(store.cite_event(e, summary), Role::Cause);
            }
        }
        None => d.explanation.push_str(
            " With 0x8009030C on a Windows-authentication site that is most often Kerberos: the SPN \
                (HTTP/ and the name users browse to) registered on another account than the one that decrypts \
                the tickets (the machine's while kernel-mode authentication uses the app pool's credentials, \
                or the reverse), a duplicate SPN, or the pool's identity changed.",
        ),
    }
    let mut steps = KERBEROS_STEPS.to_vec();
    steps.extend(d.remediation.iter().copied().filter(|s| !KERBEROS_STEPS.contains(s)));
    d.remediation = steps;
}

/// What to do when a site refuses every user's Kerberos ticket.
const KERBEROS_STEPS: &[&str] = &[
    "Find which account holds the site's SPN: setspn -Q HTTP/<name users browse to> (and setspn -X for \
        duplicates); it must be the account that decrypts the tickets: the app pool's identity when \
        windowsAuthentication useAppPoolCredentials is true (with kernel-mode authentication), else the \
        machine account.",
    "Move the SPN to that account (setspn -D HTTP/<name> <old account>, then setspn -S HTTP/<name> \
        <DOMAIN\\pool account>), or set useAppPoolCredentials back to false; then klist purge on an \
        affected client and browse again.",
];

/// What other evidence says of a failure of `first`'s status: the traces
/// of the same status (and the app pool they agree on), and for
/// authentication failures the failed network logons while it lasted.
fn corroborate(
    store: &Store,
    d: &mut Draft,
    (host, site, mode): (&Arc<str>, Option<u32>, FailureMode),
    first: &RequestRow,
    (start, last_time, end): (Timestamp, Timestamp, Timestamp),
) {
    let same_status = |t: &&TraceRow| {
        t.host == *host && t.trace.status.is_some_and(|s| first.status.is(s, t.trace.substatus.unwrap_or(0)))
    };
    for t in store.traces.iter().filter(same_status).take(3) {
        d.cite(store.cite_trace(t), Role::Cause);
    }
    // Which file, which line and what IIS made of it, in its own words.
    let said = store.traces.iter().filter(same_status).find_map(|t| {
        let c = t.trace.summary.first_error.as_ref()?.config_exception.as_deref()?.trim();
        (!c.is_empty()).then(|| (c, store.kind(t.source) == SourceKind::Errorpage))
    });
    if let Some((config, page)) = said.filter(|_| mode == FailureMode::ConfigError) {
        d.explanation.push_str(&format!(
            " The {} says: {}.",
            if page { "detailed error page" } else { "FREB trace" },
            crate::describe::cut_line(config.trim_end_matches('.').to_string())
        ));
    }
    // An access log names no app pool; the traces of the same
    // failure on the same site do, when they agree on one.
    let during = |t: &&TraceRow| {
        t.trace.time().is_some_and(|at| at >= start - Span::mins(1) && at <= end + Span::mins(1))
    };
    let pools: BTreeSet<&str> = store
        .traces
        .iter()
        .filter(same_status)
        .filter(during)
        .filter(|t| site.is_none() || t.trace.site_id == site)
        .filter_map(|t| t.trace.app_pool.as_deref())
        .collect();
    if let [p] = pools.into_iter().collect::<Vec<_>>()[..] {
        d.scope.app_pool = Some(p.to_string());
    }
    if mode == FailureMode::AuthFailure {
        let logons = store
            .events_between(LOGON_FAILED, first.time, last_time)
            .filter(|e| e.host == *host && matches!(e.data("LogonType"), Some("3" | "8")));
        for e in logons.take(5) {
            let summary = format!(
                "Security 4625: logon type {} failed for {} ({})",
                e.data("LogonType").unwrap_or("-"),
                e.data("TargetUserName").unwrap_or("-"),
                e.data("SubStatus").unwrap_or("-")
            );
            d.cite(store.cite_event(e, summary), Role::Cause);
        }
    }
}

/// Files dated `start..=end` (detailed error pages, dated by their files)
/// days away from everything else `host` logged were dated by a copy: a
/// sentence saying so, since the window can only be their date (empty
/// when they are not).
pub(super) fn copy_dated(store: &Store, host: &str, start: Timestamp, end: Timestamp) -> String {
    let Some((first_t, last_t)) = store.host_span(host) else { return String::new() };
    if start > last_t + COPY_MARGIN {
        format!(
            " The files are dated {}, {} after this host's last other record ({}): a copy's date, not the \
                request's, which came before.",
            start.to_prose(),
            crate::describe::duration(start - last_t),
            last_t.to_prose()
        )
    } else if end < first_t - COPY_MARGIN {
        format!(
            " The files are dated {}, {} before this host's first other record ({}).",
            end.to_prose(),
            crate::describe::duration(first_t - end),
            first_t.to_prose()
        )
    } else {
        String::new()
    }
}

/// The steps of each sub-status a finding's requests or pages show, in
/// order (500.30 and 500.31 of one start failure need both).
fn remedied(mut d: Draft, mode: FailureMode, statuses: impl Iterator<Item = Status>) -> Draft {
    let mut seen: Vec<(u16, u32)> = Vec::new();
    for status in statuses {
        if seen.contains(&(status.code, status.sub)) {
            continue;
        }
        seen.push((status.code, status.sub));
        if let Some(steps) = remedy(mode, status) {
            d = if seen.len() == 1 { d.remedy(steps) } else { d.also(steps) };
        }
    }
    d
}

/// What a 500.19's error says of the configuration (the codes the
/// configuration system answers with, as Win32 errors).
fn config_cause(win32: u64) -> &'static str {
    match win32 {
        33 => {
            ": a section is locked at a parent level (lock violation): web.config sets a section \
                applicationHost.config locks (overrideModeDefault=\"Deny\", the default of handlers, modules \
                and the authentication sections), so nothing below may set it."
        }
        5 => {
            ": the pool's identity (or IIS_IUSRS) may not read web.config or a folder above it (access \
                denied), or a UNC content path's credentials are refused."
        }
        13 => {
            ": web.config is malformed, or holds a section IIS has no schema for (a module such as URL \
                Rewrite or the ASP.NET Core hosting bundle not installed)."
        }
        2 | 3 => {
            ": a file or folder its configuration reads is not there (the site's or a virtual \
                directory's physical path, a configSource file, redirected configuration)."
        }
        183 => {
            ": web.config adds an entry its parent configuration already has (duplicate collection entry)."
        }
        _ => {
            " — typically a web.config section for a module that is not installed, a locked section, or \
                an ACL the pool identity cannot read."
        }
    }
}

/// What a handler-missing status says broke. 500.22-500.24 are settings
/// of an application written for the Classic pipeline (or IIS 6) that an
/// Integrated pool refuses: nothing is missing there.
fn handler_cause(code: u16, sub: u32) -> &'static str {
    match (code, sub) {
        (500, 21) => {
            "a handler mapping names a module IIS does not have (ASP.NET's ManagedPipelineHandler when \
                ASP.NET is not installed or not registered, or a native module removed)."
        }
        (500, 22) => {
            "web.config registers modules under system.web/httpModules, an ASP.NET setting that does not \
                apply in the Integrated pipeline: the application was written for the Classic pipeline (or IIS \
                6) and its pool runs Integrated. Nothing is missing."
        }
        (500, 23) => {
            "web.config registers handlers under system.web/httpHandlers, an ASP.NET setting that does not \
                apply in the Integrated pipeline: the application was written for the Classic pipeline (or IIS \
                6) and its pool runs Integrated. Nothing is missing."
        }
        (500, 24) => {
            "web.config turns on client impersonation (system.web/identity impersonate=\"true\"), which \
                the Integrated pipeline does not apply to every stage of a request. Nothing is missing."
        }
        (404, 17) => {
            "the request is for dynamic content (a script type) that only the static file handler is \
                mapped to: the handler of its type (ASP.NET, PHP through FastCGI) is not installed or its \
                mapping was removed."
        }
        (404, 4) => "no handler is mapped to the requested file's type (extension).",
        _ => {
            "the handler mapping points to a module that is not installed or registered (or dynamic \
                content is mapped to the static handler)."
        }
    }
}

/// A Classic-pipeline application in an Integrated pool: how to make them
/// agree (500.22 and 500.23 move the same way, 500.24 has no migration).
const CLASSIC_IN_INTEGRATED: [&str; 2] = [
    "Migrate the application's web.config to the Integrated pipeline: appcmd migrate config \
        \"SITE/APP\" moves system.web/httpModules and httpHandlers into system.webServer/modules and \
        handlers (or move them by hand); where they are already registered both ways, set \
        validateIntegratedModeConfiguration=\"false\" in system.webServer/validation.",
    "Or run the application in an app pool whose managedPipelineMode is Classic, as it ran before.",
];

/// What to do about a failure a status names, where the status says enough.
fn remedy(mode: FailureMode, status: Status) -> Option<&'static [&'static str]> {
    Some(match mode {
        FailureMode::ConfigError if status.win32 == 33 => &[
            "Find the section the detailed error page or FREB's ConfigExceptionInfo names, then either remove \
                it from web.config, or allow sites to set it: appcmd unlock config -section:SECTION (every \
                site), or a <location path=\"SITE\" overrideMode=\"Allow\"> around it in \
                applicationHost.config (one site).",
        ],
        FailureMode::ConfigError if status.win32 == 13 => &[
            "Open the file and line the detailed error page or FREB's ConfigExceptionInfo names (Config File, \
                Config Source): fix the XML that is not well-formed, or, for a section IIS has no schema for, \
                install the module that defines it (URL Rewrite, the ASP.NET Core hosting bundle) or remove the \
                section.",
        ],
        FailureMode::ConfigError if status.win32 == 5 => &[
            "Give the identity that reads the configuration read access to web.config and every folder above \
                it: on a local path the pool's identity (IIS_IUSRS holds it); on a UNC content path (the page's \
                Config File begins \\\\?\\UNC\\) the Connect As user, or with pass-through the pool's \
                identity, which reaches the share as this server's computer account (DOMAIN\\SERVER$): give that \
                account share and NTFS read on the file server (IIS_IUSRS is this server's local group and \
                means nothing there).",
        ],
        FailureMode::ConfigError if matches!(status.win32, 2 | 3) => {
            &["Check the path the page names exists and is reachable from the server: the site's or virtual \
                directory's physical path, a configSource file, redirected configuration; put it back or correct \
                the path in applicationHost.config."]
        }
        FailureMode::RequestQueueFull if status.is(503, 2) => &[
            "Raise the site's concurrent request limit (system.webServer/serverRuntime \
                appConcurrentRequestLimit) and, for ASP.NET 4.x, maxConcurrentRequestsPerCPU (aspnet.config), \
                where the server has room for more requests in flight.",
            "Find what holds requests open: long polling (move it to WebSockets, with the WebSocket Protocol \
                feature installed), slow backends, requests waiting on locks; or scale out.",
        ],
        FailureMode::HandlerMissing if status.is(500, 22) || status.is(500, 23) => &CLASSIC_IN_INTEGRATED,
        FailureMode::HandlerMissing if status.is(500, 24) => &[
            "Turn client impersonation off where the application does not need it, or, where it needs it only \
                in its handlers, set validateIntegratedModeConfiguration=\"false\" in \
                system.webServer/validation (impersonation then does not apply in the early stages of a \
                request).",
            CLASSIC_IN_INTEGRATED[1],
        ],
        FailureMode::HandlerMissing if status.is(404, 17) => {
            &["Install the handler of the script type (ASP.NET: the Windows feature ASP.NET 4.x, or \
                aspnet_regiis -i on older systems; PHP: its FastCGI handler mapping), or put back the handler \
                mapping a deployment removed; check its preCondition (bitness, runtime version) matches the \
                pool."]
        }
        FailureMode::HandlerMissing if status.is(404, 4) => &[
            "Map a handler to the file's type (Handler Mappings), or, for a static file, add its MIME type \
                (staticContent/mimeMap).",
        ],
        FailureMode::HandlerMissing if is_load_failure(status) => &[
            "Find the DLL: the Windows event the worker logged then (W3SVC-WP 2214 or 2274 for an ISAPI filter, \
                2220 for an ISAPI extension, 2280 for a native module) or the detailed error page (\"Calling \
                LoadLibraryEx on ISAPI filter ... failed\") names it.",
            "193 (0xC1): a 32-bit DLL in a 64-bit pool or the reverse: check the pool's enable32BitAppOnWin64 \
                against the DLL's build, and give its isapiFilters or handlers entry the matching \
                preCondition (bitness32, bitness64). 126 or 2: put the DLL, or the runtime it needs, back. 5: \
                give the pool's identity read and execute on it.",
            "Recycle the pool once it is fixed: a worker that failed to load a filter keeps failing until it is \
                replaced.",
        ],
        FailureMode::AncmStartupFailure => ancm_steps(status),
        FailureMode::RecycleOnDemand => &[
            "Find what restarted the application then: a deployment (app_offline.htm, ANCM 1012), a \
                configuration change, a recycle (WAS 5074-5080), or on App Service the platform (the \
                Activity log, Diagnose and solve problems).",
            "Keep requests off a shutting-down worker: overlapped recycling left on (disallowOverlappingRotation \
                false), App Service's health check with more than one instance, and a shutdownTimeLimit long \
                enough for requests in flight.",
        ],
        FailureMode::RequestLimits if status.is(404, 13) => &[
            "If the uploads are legitimate, raise requestFiltering's maxAllowedContentLength (bytes) for the \
                upload's path only: appcmd set config \"SITE/path\" -section:requestFiltering \
                -requestLimits.maxAllowedContentLength:BYTES (or a <location> in web.config).",
            "Raise the application's own limit to match, or it fails next: ASP.NET's httpRuntime \
                maxRequestLength (in kilobytes), ASP.NET Core's MaxRequestBodySize (IISServerOptions).",
        ],
        FailureMode::RequestLimits if status.is(404, 14) => {
            &["Raise requestFiltering/requestLimits maxUrl (and ASP.NET's httpRuntime maxUrlLength) if such \
                URLs are the application's; a scanner's are not."]
        }
        FailureMode::RequestLimits if status.is(404, 15) => {
            &["Raise requestFiltering/requestLimits maxQueryString (and ASP.NET's httpRuntime \
                maxQueryStringLength) if such queries are the application's (a long OAuth or SAML redirect); a \
                scanner's are not."]
        }
        FailureMode::RequestLimits if status.code == 413 => {
            &["A 413 with client certificates is IIS unable to renegotiate TLS after the body: raise the \
                location's serverRuntime uploadReadAheadSize above the largest upload, or require the \
                certificate at the handshake (netsh http ... clientcertnegotiation=enable)."]
        }
        _ => return None,
    })
}

/// What ANCM's sub-status says to look at: the app's own output only
/// where the app ran (500.30, 500.37, 502.5); where the .NET host never
/// loaded it (500.31-500.36, 500.38) its output is empty and ANCM's debug
/// log says more.
fn ancm_steps(status: Status) -> &'static [&'static str] {
    const DEBUG_LOG: &str = "Turn on ANCM's debug log (handlerSetting entries debugLevel \"FILE,TRACE\" and a \
        debugFile in web.config's aspNetCore section; on App Service the event log holds ANCM's events too): the \
        app never loaded, so its stdout log stays empty.";
    match (status.code, status.sub) {
        (500, 31) => &[
            "The .NET host could not find what the app needs: compare the framework in the app's \
                runtimeconfig.json with the runtimes the server has (on App Service, the stack's .NET version; \
                or publish self-contained), and check that every package its deps.json lists was published.",
            DEBUG_LOG,
        ],
        (500, 32) => &[
            "The app's bitness and the app pool's differ: publish for the pool's (x64 for a 64-bit \
            pool) or set the pool's enable32BitAppOnWin64 to match.",
            DEBUG_LOG,
        ],
        (500, 33) => &[super::ancm::RUNTIME_OR_HANDLER, DEBUG_LOG],
        (500, 36) => &[super::ancm::OUT_OF_PROCESS_HANDLER, DEBUG_LOG],
        (500, 34) | (500, 35) => &[super::ancm::ONE_APP_PER_POOL],
        (502, 5) => &[
            "Check the aspNetCore section's processPath and arguments in web.config (dotnet with the app's .dll, \
                or the app's own .exe): dotnet must be on the PATH the pool's identity sees (or named by its full \
                path), and the files where the arguments say.",
            "Run the same command line on the server, as the pool's identity if you can, to see why the process \
                exits; or set stdoutLogEnabled=\"true\" and read the log it writes.",
        ],
        (500, 38) => &[
            "The app's .dll named in web.config is not in the site's folder: publish again, \
            completely, and check processPath and arguments.",
            DEBUG_LOG,
        ],
        (500, 37) => {
            &["The app did not finish starting within startupTimeLimit: read its startup log (stdout, \
            or the event log) for what it waited on, and raise startupTimeLimit only for a start that is slow \
            by design."]
        }
        _ => &["Read the app's startup exception: the event log (ANCM 1018, .NET Runtime 1026) or \
            stdoutLogEnabled=\"true\" in web.config; on premises check the hosting bundle matches the app's \
            runtime."],
    }
}

/// The start of the first minute after `after` (within a day) in which
/// `host`'s site served successes (2xx, 3xx).
pub(super) fn recovery(
    store: &Store,
    host: &Arc<str>,
    site: Option<u32>,
    after: Timestamp,
) -> Option<Timestamp> {
    let minute = after.minute();
    store.first_served_minute(host, site, minute + 1..=minute + 1_439).map(Timestamp::of_minute)
}

/// What a detailed error page answered: its status and the error code it
/// shows (an HRESULT, compared as the Win32 status would be).
fn page_status(t: &TraceRow) -> Option<Status> {
    let code = t.trace.status?;
    let error = t.trace.summary.first_error.as_ref();
    Some(Status {
        code,
        sub: t.trace.substatus.unwrap_or(0),
        win32: error.and_then(|e| e.error_code).map_or(0, |c| win32_of(u64::from(c))),
    })
}

/// The Win32 error an HRESULT wraps (0x8007xxxx, as detailed error pages
/// and event data write it), or the code as it is: the access log's
/// `sc-win32-status` writes the Win32 error itself.
pub(super) fn win32_of(code: u64) -> u64 {
    if code & 0xFFFF_0000 == 0x8007_0000 { code & 0xFFFF } else { code }
}

/// An error code as a sentence says it: a Win32 error by its number, any
/// other code (an HRESULT of another facility, an NTSTATUS) in hex.
fn error_text(win32: u64) -> String {
    if win32 > 0xFFFF { format!("code {win32:#X}") } else { format!("win32 status {win32}") }
}

/// The path of a page's requested URL.
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map_or("/", |i| &after_scheme[i..])
}

/// Detailed error pages (App Service `DetailedErrors`, or saved by hand)
/// are responses too: a never-normal status on one page is a finding. The
/// page holds no time, so its window is the file's modification time and
/// the explanation says so.
fn from_error_pages(store: &Store, ancm_failed: &BTreeSet<&str>, claimed: &Claimed, out: &mut Vec<Draft>) {
    let pages = store.traces.iter().filter(|t| store.kind(t.source) == SourceKind::Errorpage);
    // A page showing the startup failure ANCM's events name is that
    // failure's too: cited in the host's last ANCM finding (a page holds no
    // time to place it in an earlier one), not dropped.
    let explained =
        pages.clone().filter(|t| ancm_failed.contains(&*t.host) && page_status(t).is_some_and(ancm_status));
    for (host, pages) in grouped(explained, |t| t.host.clone()) {
        let last = out
            .iter_mut()
            .filter(|d| d.id == FailureMode::AncmStartupFailure && d.scope.host.as_deref() == Some(&*host))
            .max_by_key(|d| d.end);
        let Some(d) = last else { continue };
        d.cite_first(pages.iter(), 3, Role::Context, |t| store.cite_trace(t));
    }
    // A page of a failure the host's access log shows is that log's
    // finding's, which cites the traces and pages of its status: a finding
    // of its own would tell the same failure twice.
    let logged: BTreeSet<(&str, u16, u32)> = store
        .requests
        .iter()
        .filter(|r| !claimed.contains(&(r.source, r.line)))
        .filter(|r| mode_of(r.status, &r.stem, ancm_failed.contains(&*r.host)).is_some())
        .map(|r| (&*r.host, r.status.code, r.status.sub))
        .collect();
    let failed = pages.filter_map(|t| {
        let status = page_status(t)?;
        if logged.contains(&(&*t.host, status.code, status.sub)) {
            return None;
        }
        let stem = url_path(t.trace.url.as_deref().unwrap_or("/"));
        let mode = mode_of(status, stem, ancm_failed.contains(&*t.host))?;
        is_decisive(mode, status, true).then_some((mode, status, t))
    });
    for ((host, mode), pages) in grouped(failed, |(mode, _, t)| (t.host.clone(), *mode)) {
        let (_, status, first) = pages[0];
        let (severity, text) = explain(mode, pages.len(), status);
        let (severity, confidence) = weight(severity, pages.len());
        let error = first.trace.summary.first_error.as_ref();
        let module = error.map_or("-", |e| e.module.as_str());
        let at = error.and_then(|e| e.notification_name.as_deref()).unwrap_or("-");
        let file_times: Vec<_> = pages.iter().filter_map(|(_, _, t)| t.trace.time()).collect();
        let (file_start, file_end) = (file_times.iter().min().copied(), file_times.iter().max().copied());
        let copied = match (file_start, file_end) {
            (Some(s), Some(e)) => copy_dated(store, &host, s, e),
            _ => String::new(),
        };
        // One page dated by a copy, whose URL names an id the host's events
        // name within the hour (a job's, not a tenant's logged all along),
        // is placed by those events instead.
        let named: Vec<Named<'_>> = match pages.as_slice() {
            [(_, _, t)] if !copied.is_empty() => t
                .trace
                .url
                .as_deref()
                .and_then(|url| named_by_events(store, &host, url))
                .filter(|n| n.last.time() - n.first.time() <= NAMED_WITHIN)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        let text = format!(
            "{} The detailed error page{} name{} module {module} at {at}{}.{}",
            text.replacen("request", "detailed error page", 1).replacen("failed", "showed a failure", 1),
            if pages.len() == 1 { "" } else { "s" },
            if pages.len() == 1 { "s" } else { "" },
            first.trace.url.as_deref().map_or(String::new(), |u| format!(" for {u}")),
            if named.is_empty() {
                " (Times are the page files' modification times: a page holds none.)"
            } else {
                ""
            },
        );
        let (start, end) = match named.first() {
            Some(n) => (Some(n.last.time()), Some(n.last.time())),
            None => (file_start, file_end),
        };
        let mut text = text;
        // What failed to load, in IIS's words: `Calling LoadLibraryEx on
        // ISAPI filter "C:\...\aspnet_filter.dll" failed` names the DLL.
        let said = error.and_then(|e| e.error_text.as_deref()).map(str::trim).filter(|t| !t.is_empty());
        if let Some(said) = said.filter(|_| mode == FailureMode::HandlerMissing) {
            text.push_str(&format!(" The page says: \"{}\"", crate::describe::cut_line(said.to_string())));
        }
        match named.first() {
            Some(n) => text.push_str(&format!(
                " The page's URL names {}, which this host's events name from {} to {}: its request came \
                    after the first of them, so the finding is placed at the last, the nearest time the \
                    evidence gives (the page's own file is dated by its copy's modification time).",
                n.id,
                n.first.time().to_prose(),
                n.last.time().to_prose()
            )),
            None => text.push_str(&copied),
        }
        let mut d =
            Draft::new(mode, severity, confidence, start.unwrap_or_default(), end.unwrap_or_default())
                .scope(Some(&host), first.trace.site_id, first.trace.app_pool.as_deref())
                .explain(text);
        for n in &named {
            d.cite(store.cite_event(n.first, crate::describe::headline(&n.first.event)), Role::Context);
            if !std::ptr::eq(n.first, n.last) {
                d.cite(store.cite_event(n.last, crate::describe::headline(&n.last.event)), Role::Context);
            }
        }
        // An app shutting down, placed by its request's id: the shutdown
        // that followed is the likeliest one it met.
        let stopped = named.first().filter(|_| mode == FailureMode::RecycleOnDemand).and_then(|n| {
            store
                .events_between(ANCM_STOPPED, n.last.time(), n.last.time() + Span::hours(1))
                .find(|e| e.host == host)
        });
        if let Some(e) = stopped {
            let how =
                if e.event.event_id == 1012 { "app_offline.htm took it offline" } else { "it shut down" };
            d.explanation.push_str(&format!(
                " The app's first shutdown after the id's last mention is at {} (ANCM {}: {how}), the \
                    likeliest one the request met.",
                e.time().to_prose(),
                e.event.event_id
            ));
            d.cite(store.cite_event(e, crate::describe::headline(&e.event)), Role::Cause);
            d.end = d.end.max(e.time());
            // A deployment's app_offline.htm shut it: no one asked for a
            // recycle, the deployment took the app down.
            if e.event.event_id == 1012 {
                d.id = FailureMode::Deployment;
                d.remediation = FailureMode::Deployment.remediation().to_vec();
            }
        }
        d = remedied(d, mode, pages.iter().map(|(_, status, _)| *status));
        // An App Service site (its content under \home\site) shows none of
        // WAS's events or the pool's settings to its owner.
        let app_service = first.trace.summary.physical_path.as_deref().is_some_and(on_app_service);
        if matches!(d.id, FailureMode::RecycleOnDemand | FailureMode::Deployment) && app_service {
            d = d.remedy(APP_SERVICE_RESTART);
        }
        let cited = pages.iter().take(5).map(|(_, _, t)| {
            let mut page = store.cite_trace(t);
            // Placed by its id's events, the page stands in the timeline
            // there, not at its copy's date months later.
            if let Some(n) = named.first() {
                page.time = n.last.time();
                if let Some(kept) = page.summary.strip_suffix(crate::describe::FILE_TIME) {
                    page.summary =
                        format!("{kept}; time: the last event naming its id (its file dated by a copy)");
                }
            }
            page
        });
        d.cite_all(cited, Role::Cause);
        out.push(d);
    }
}

/// How close together the events naming a page's id must be for them to
/// place it: an id logged for days (a tenant's, a user's) places nothing.
const NAMED_WITHIN: Span = Span::hours(1);

/// The events of a host that name an id a page's URL holds: the first and
/// the last of them.
struct Named<'s> {
    id: &'s str,
    first: &'s crate::evidence::EventRow,
    last: &'s crate::evidence::EventRow,
}

/// The events of `host` naming a GUID the URL holds (a job's, an order's:
/// an id the application also logs), when there are any.
fn named_by_events<'s>(store: &'s Store, host: &str, url: &'s str) -> Option<Named<'s>> {
    let id = url.split(['/', '?', '&', '=', '#']).find(|part| is_guid(part))?;
    // Logged in one case or the other, as GUIDs are written.
    let (lower, upper) = (id.to_ascii_lowercase(), id.to_ascii_uppercase());
    let mut naming = store.events.iter().filter(|e| {
        &*e.host == host && e.event.data.iter().any(|d| d.value.contains(&lower) || d.value.contains(&upper))
    });
    let first = naming.next()?;
    let last = naming.next_back().unwrap_or(first);
    Some(Named { id, first, last })
}

/// Whether `text` is a GUID (`a534fefb-9da1-4b72-9bda-e93039d5288d`).
fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Whether a physical path, or a text that quotes one (ANCM's
/// `Application 'C:\home\site\wwwroot\' was recycled`), is an App Service
/// site's content (`C:\home\site\wwwroot`, `D:\home\site\...`).
pub(super) fn on_app_service(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    memchr::memmem::find_iter(text.as_bytes(), b":\\home\\site\\")
        .any(|at| at > 0 && text.as_bytes()[at - 1].is_ascii_alphabetic())
}

/// What to do when an App Service app answered while shutting down.
const APP_SERVICE_RESTART: &[&str] = &[
    "Find what restarted the app then: a deployment (app_offline.htm, ANCM 1012 in the site's eventlog.xml; \
        Kudu's deployments), an app setting or configuration change, a scale-in, or the platform (the Activity \
        log; Diagnose and solve problems, Web App Restarted).",
    "Keep requests off a restarting app: deploy to a staging slot and swap (it warms the new instance first), \
        or run from a package; with more than one instance, turn on the health check.",
];

/// What to do about an App Service app taken offline for its deployments
/// (which reach every instance at once: a health check does not help).
pub(super) const APP_SERVICE_DEPLOY: &[&str] =
    &["Keep requests off a deployment: deploy to a staging slot and \
    swap (it warms the new instance first), or run from a package."];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at, modes};
    use crate::finding::Finding;

    #[test]
    fn a_burst_of_500_19_is_a_config_error_with_the_module_freb_names() {
        let e = Given::new().requests(6, "WEB01", 1, 100, "/app", (500, 19, 13), 15).trace(
            "WEB01",
            100,
            "http://shop/app",
            (500, 19),
            "IIS Web Core",
        );
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::ConfigError, Severity::High));
        assert_eq!(d.start, at(100) - Span::millis(15), "from the first request's start");
        assert!(
            d.explanation.starts_with("6 requests failed with 500.19 (win32 status 13)"),
            "{}",
            d.explanation
        );
        assert_eq!(d.timeline.iter().filter(|s| s.role == Role::Cause).count(), 1, "the trace is the cause");
        assert_eq!(d.scope.app_pool.as_deref(), Some("ShopPool"), "the trace names the pool");
        let untraced = Given::new().requests(6, "WEB01", 1, 100, "/app", (500, 19, 13), 15).detected(detect);
        assert_eq!(untraced[0].scope.app_pool, None, "an access log names none");
    }

    /// spaarke's 503.0 page, copied months after its request: its URL names
    /// a job id the app logged from 17:48:34 to 17:49:23, and app_offline
    /// took the app down at 17:53:09; the finding runs from the last
    /// mention to that shutdown and cites both. A page whose id no event
    /// names keeps its file's date; an id another host logged is not this
    /// host's.
    #[test]
    fn a_page_whose_url_names_a_logged_id_is_placed_by_its_events() {
        let job = "a534fefb-9da1-4b72-9bda-e93039d5288d";
        let page = |e: Given, url: &str| {
            e.error_page("APP", 900_000, url, (503, 0), "AspNetCoreModuleV2")
                .error_code(0x8007_045B)
                .detected(detect)
        };
        let logged = |e: Given, host: &str| {
            e.positional(host, 100, ".NET Runtime", 1000, &[&format!("Failed to update ProcessingJob {job}")])
                .positional(host, 149, ".NET Runtime", 1000, &[&format!("polling for job {job}")])
                .positional(
                    "APP",
                    375,
                    "IIS AspNetCore Module V2",
                    1012,
                    &["Application 'C:\\home\\site\\wwwroot\\' was recycled after detecting app_offline.htm."],
                )
        };
        let url = format!("https://shop:80/office/jobs/{job}");
        let d = &page(logged(Given::new(), "APP"), &url)[0];
        assert_eq!((d.start, d.end), (at(149), at(375)), "{}", d.explanation);
        assert!(d.explanation.contains("which this host's events name from"), "{}", d.explanation);
        assert!(d.explanation.contains("(ANCM 1012: app_offline.htm took it offline)"), "{}", d.explanation);
        assert!(!d.explanation.contains("Times are the page files'"), "{}", d.explanation);
        let unnamed = &page(logged(Given::new(), "APP"), "https://shop:80/office/jobs/1")[0];
        assert_eq!(unnamed.start, at(900_000));
        let elsewhere = &page(logged(Given::new(), "OTHER"), &url)[0];
        assert_eq!(elsewhere.start, at(900_000));
        // An id the app logged for days (a tenant's) places nothing.
        let for_days = logged(Given::new(), "APP").positional(
            "APP",
            4 * 86_400,
            ".NET Runtime",
            1000,
            &[&format!("polling for job {job}")],
        );
        assert_eq!(page(for_days, &url)[0].start, at(900_000));
        // A page dated within the host's own days keeps its file's date.
        let dated =
            Given::new().error_page("APP", 200, &url, (503, 0), "AspNetCoreModuleV2").error_code(0x8007_045B);
        let d = &logged(dated, "APP").detected(detect)[0];
        assert_eq!(d.start, at(200));
    }

    /// The pages' physical paths under \home\site are an App Service site's.
    #[test]
    fn app_service_content_is_told_by_its_path() {
        assert!(on_app_service("C:\\home\\site\\wwwroot\\api\\exam"));
        assert!(on_app_service("D:\\HOME\\site\\wwwroot\\index.js"));
        assert!(!on_app_service("C:\\inetpub\\wwwroot\\home\\site"));
        assert!(!on_app_service(""));
    }

    /// 500.22 is an application written for the Classic pipeline in an
    /// Integrated pool: nothing is missing, and installing a module is the
    /// wrong step; 500.21 is a module IIS does not have.
    #[test]
    fn a_classic_pipeline_setting_in_an_integrated_pool_is_not_a_missing_module() {
        let failed = |sub| {
            Given::new().requests(5, "WEB16", 6, 100, "/crm/default.aspx", (500, sub, 0), 2).detected(detect)
        };
        let integrated = failed(22);
        assert_eq!(integrated.len(), 1);
        let d = &integrated[0];
        assert!(d.explanation.contains("system.web/httpModules"), "{}", d.explanation);
        assert!(d.explanation.contains("Nothing is missing"), "{}", d.explanation);
        assert!(d.remediation.iter().any(|r| r.contains("appcmd migrate config")), "{:?}", d.remediation);
        assert!(!d.remediation.iter().any(|r| r.starts_with("Install")), "{:?}", d.remediation);
        let missing = failed(21);
        assert!(missing[0].explanation.contains("a module IIS does not have"), "{}", missing[0].explanation);
        assert!(missing[0].remediation.iter().any(|r| r.starts_with("Install or register")));
    }

    /// A 500.19 says what its error code says: a lock violation (33) is a
    /// locked section, to unlock or leave alone, not a missing module; a
    /// page writes the code as an HRESULT and is read as the Win32 error.
    #[test]
    fn a_locked_section_is_told_from_a_malformed_configuration() {
        let locked = Given::new().requests(5, "WEB07", 5, 100, "/api", (500, 19, 33), 2).detected(detect);
        assert_eq!(locked.len(), 1);
        assert!(locked[0].explanation.contains("(win32 status 33)"), "{}", locked[0].explanation);
        assert!(locked[0].explanation.contains("locked at a parent level"), "{}", locked[0].explanation);
        assert!(locked[0].remediation.iter().any(|r| r.contains("appcmd unlock config")));
        let page = Given::new()
            .error_page("WEB06", 9_000, "http://localhost:80/", (500, 19), "IIS Web Core")
            .error_code(0x8007_000D)
            .detected(detect);
        assert_eq!(page.len(), 1);
        assert!(page[0].explanation.contains("(win32 status 13)"), "{}", page[0].explanation);
        assert!(page[0].explanation.contains("malformed"), "{}", page[0].explanation);
    }

    /// A page of a failure the host's access log shows is cited by that
    /// log's finding, not told again; on another host, or of another
    /// status, it is a finding of its own.
    #[test]
    fn a_page_of_a_failure_the_access_log_shows_is_that_findings() {
        let logged = |e: Given| e.requests(5, "WEB07", 5, 100, "/api", (500, 19, 33), 2);
        let page = |e: Given, host: &str, sub| {
            e.error_page(host, 500, "http://localhost:80/api", (500, sub), "IIS Web Core")
                .error_code(0x8007_0021)
        };
        let found = page(logged(Given::new()), "WEB07", 19).detected(detect);
        assert_eq!(found.len(), 1);
        assert!(found[0].timeline.iter().any(|t| t.role == Role::Cause), "the page is cited");
        assert_eq!(page(logged(Given::new()), "WEB08", 19).detected(detect).len(), 2, "another host's page");
        assert_eq!(page(logged(Given::new()), "WEB07", 21).detected(detect).len(), 2, "another status");
    }

    /// spaarke's and sadabyakod's App Service pages: a 503.0 ANCM showed
    /// because the app was shutting down (0x8007045B, 0x800704E7) names a
    /// restart, low; a 503.0 of another code is no such page, and a single
    /// such row of an access log is a restart's routine.
    #[test]
    fn a_page_of_an_application_shutting_down_names_a_restart() {
        let page = |code| {
            Given::new()
                .error_page("APP", 9_000, "https://shop:80/office/jobs/1", (503, 0), "AspNetCoreModuleV2")
                .error_code(code)
                .detected(detect)
        };
        let found = page(0x8007_045B);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::RecycleOnDemand, Severity::Low));
        assert!(d.explanation.contains("shutting down"), "{}", d.explanation);
        assert!(d.remediation.iter().any(|r| r.contains("restarted")), "{:?}", d.remediation);
        assert_eq!(page(0x8007_04E7).len(), 1);
        assert!(page(0x8007_0005).is_empty(), "503.0 with access denied is another story");
        let one_row = Given::new().requests(1, "APP", 1, 100, "/api", (503, 0, 1115), 15);
        assert!(one_row.detected(detect).is_empty());
        let burst = Given::new().requests(5, "APP", 1, 100, "/api", (503, 0, 1115), 15).detected(detect);
        assert_eq!(
            burst.iter().map(|d| (d.id, d.severity)).collect::<Vec<_>>(),
            [(FailureMode::RecycleOnDemand, Severity::Medium)]
        );
    }

    /// tshekom's 500.31 page: the .NET host never loaded the app, so the
    /// steps point at its runtimeconfig and deps.json and ANCM's debug log,
    /// not its stdout; a 500.30 page at the app's own startup exception.
    #[test]
    fn an_ancm_page_gets_the_steps_of_its_sub_status() {
        let page = |sub| {
            Given::new()
                .error_page("APP", 9_000, "https://shop:80/", (500, sub), "AspNetCoreModuleV2")
                .detected(detect)
        };
        let found = page(31);
        assert_eq!(found.len(), 1);
        assert!(found[0].remediation[0].contains("runtimeconfig.json"), "{:?}", found[0].remediation);
        assert!(found[0].remediation[1].contains("stdout log stays empty"), "{:?}", found[0].remediation);
        let found = page(30);
        assert!(found[0].remediation[0].contains("startup exception"), "{:?}", found[0].remediation);
        // Both pages of one host: the steps of each.
        let both = Given::new()
            .error_page("APP", 9_000, "https://shop:80/", (500, 30), "AspNetCoreModuleV2")
            .error_page("APP", 9_060, "https://shop:80/", (500, 31), "AspNetCoreModuleV2")
            .detected(detect);
        assert_eq!(both.len(), 1);
        assert!(both[0].remediation[0].contains("startup exception"), "{:?}", both[0].remediation);
        assert!(
            both[0].remediation.iter().any(|r| r.contains("runtimeconfig.json")),
            "{:?}",
            both[0].remediation
        );
    }

    /// spaarke's download split in two: its 503 page dated by the copy, ten
    /// months after the host's last event, says so; a page dated within
    /// the host's evidence does not.
    #[test]
    fn a_page_dated_days_after_its_hosts_evidence_says_its_date_is_a_copys() {
        let page = |secs| {
            Given::new()
                .event("APP", 0, "IIS AspNetCore Module V2", 1033, &[])
                .error_page("APP", secs, "https://shop:80/office/jobs/1", (503, 0), "AspNetCoreModuleV2")
                .error_code(0x8007_045B)
                .detected(detect)
        };
        let late = page(300 * 86_400);
        assert!(
            late[0].explanation.contains("after this host's last other record"),
            "{}",
            late[0].explanation
        );
        assert!(late[0].explanation.contains("a copy's date"), "{}", late[0].explanation);
        let near = page(600);
        assert!(!near[0].explanation.contains("a copy's date"), "{}", near[0].explanation);
    }

    /// A path broken for a month and asked for every hour: one low finding
    /// of a failure that keeps coming back, not one per hour; two runs are
    /// still two findings, and another site's runs are its own. A request
    /// or two among successes says nothing of a recovery.
    #[test]
    fn a_failure_back_every_hour_for_a_month_is_one_finding() {
        let hourly = |e: Given, site: u32, runs: i64| {
            (0..runs)
                .fold(e, |e, h| e.request("WEB01", site, h * 3_600, "/legacy/report.aspx", (500, 19, 13), 40))
        };
        let found = hourly(hourly(Given::new(), 1, 720), 2, 2)
            .requests(3, "WEB01", 2, 60, "/", (200, 0, 0), 10)
            .findings();
        let on =
            |site: &str| found.iter().filter(|f| f.scope.site.as_deref() == Some(site)).collect::<Vec<_>>();
        let (one, two) = (on("1"), on("2"));
        assert_eq!((one.len(), two.len()), (1, 2), "{:?}", modes(&found));
        assert!(
            two.iter().all(|f| !f.explanation.contains("served successes again")),
            "{}",
            two[0].explanation
        );
        let d = one[0];
        assert_eq!((d.id, d.severity), (FailureMode::ConfigError, Severity::Low));
        assert_eq!((d.start, d.end), (at(0) - Span::millis(40), at(719 * 3_600)));
        let text = &d.explanation;
        assert!(text.starts_with("720 requests failed with 500.19"), "{text}");
        assert!(text.contains("They failed in 720 separate runs"), "{text}");
        assert!(
            text.contains(
                "Each run was one request. The paths that failed most among the rows kept: \
                 /legacy/report.aspx (720)."
            ),
            "{text}"
        );
        assert!(d.evidence.len() <= 12, "{}", d.evidence.len());
    }

    /// An outage among a recurring failure stays its own finding, said with
    /// the status most of its requests answered (not the hourly probe's
    /// that came first); the runs of one request, by status, are one.
    #[test]
    fn an_outage_among_a_recurring_failure_is_its_own_finding() {
        let hourly = (0..20).fold(Given::new(), |e, h| {
            e.request("WEB01", 1, h * 3_600, "/old/handler.axd", (500, 21, 0), 40)
        });
        let found = hourly
            .requests(20, "WEB01", 1, 5 * 3_600 + 1, "/cart", (500, 0, 126), 40)
            .requests(10, "WEB01", 1, 5 * 3_600 + 30, "/cart", (500, 0, 193), 40)
            .findings();
        assert_eq!(found.len(), 2, "{:?}", found.iter().map(|f| &f.explanation).collect::<Vec<_>>());
        let outage = found.iter().find(|f| f.severity == Severity::High).expect("the outage");
        assert!(
            outage.explanation.starts_with("31 requests failed with 500.0 and win32 status 126"),
            "{}",
            outage.explanation
        );
        assert!(
            outage
                .explanation
                .contains("Among the rows kept, also 500.0 with win32 193 (10), 500.21 with win32 0 (1)."),
            "{}",
            outage.explanation
        );
        assert!(outage.remediation[0].contains("W3SVC-WP 2214"), "{:?}", outage.remediation);
        let probes = found.iter().find(|f| f.severity == Severity::Low).expect("the probes");
        assert!(probes.explanation.starts_with("19 requests failed with 500.21"), "{}", probes.explanation);
    }

    /// A 500.0 page of a DLL that did not load (a 32-bit ASP.NET filter in
    /// a 64-bit pool) quotes IIS's sentence, which names the DLL.
    #[test]
    fn a_page_of_a_dll_that_did_not_load_quotes_the_dll_iis_names() {
        let said = "Calling LoadLibraryEx on ISAPI filter \"C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\aspnet_filter.dll\" failed";
        let found = Given::new()
            .error_page("APP", 9_000, "http://shop:80/", (500, 0), "IIS Web Core")
            .error_code(0x8007_00C1)
            .error_text(said)
            .findings();
        assert_eq!(modes(&found), [FailureMode::HandlerMissing]);
        assert!(
            found[0].explanation.contains(&format!("The page says: \"{said}\"")),
            "{}",
            found[0].explanation
        );
        // A page of another failure quotes nothing.
        let other = Given::new()
            .error_page("APP", 9_000, "http://shop:80/", (500, 19), "IIS Web Core")
            .error_text("The requested page cannot be accessed because the related configuration data for the page is invalid.")
            .findings();
        assert!(!other[0].explanation.contains("The page says"), "{}", other[0].explanation);
    }

    /// sadabyakod's App Service: the 500.30 page the ANCM events explain
    /// is cited in their finding, not dropped, and makes none of its own.
    #[test]
    fn an_error_page_of_the_startup_failure_ancm_names_is_cited_in_its_finding() {
        let page =
            |e: Given| e.error_page("APP", 9_000, "https://shop:80/api", (500, 30), "AspNetCoreModuleV2");
        let failed = |e: Given| {
            e.positional(
                "APP",
                100,
                "IIS AspNetCore Module V2",
                1010,
                &["Failed to start application '/LM/W3SVC/1/ROOT', ErrorCode '0x8000ffff'."],
            )
        };
        let found = page(failed(Given::new())).findings();
        assert_eq!(modes(&found), [FailureMode::AncmStartupFailure]);
        let cited = |f: &Finding| f.evidence.iter().any(|e| e.path.ends_with("ErrorPage00001.htm"));
        assert!(cited(&found[0]), "{:?}", found[0].evidence);
        // Alone, the page is a finding of its own.
        let alone = page(Given::new()).findings();
        assert_eq!(modes(&alone), [FailureMode::AncmStartupFailure]);
        assert!(cited(&alone[0]) && alone[0].window_from_files);
    }

    #[test]
    fn the_ntlm_handshake_is_not_an_authentication_failure() {
        // 401.2 then 401.1 with 0x8009030E (SEC_E_NO_CREDENTIALS) then 200.
        let mut e = Given::new();
        for i in 0..10 {
            e = e
                .request("WEB01", 1, 100 + 3 * i, "/intranet", (401, 2, 5), 1)
                .request("WEB01", 1, 101 + 3 * i, "/intranet", (401, 1, 2_148_074_254), 1)
                .request("WEB01", 1, 102 + 3 * i, "/intranet", (200, 0, 0), 20);
        }
        assert!(e.detected(detect).is_empty());
        let rejected = Given::new().requests(6, "WEB01", 1, 100, "/intranet", (401, 1, 1326), 3);
        assert_eq!(rejected.detected(detect)[0].id, FailureMode::AuthFailure);
    }

    #[test]
    fn static_file_denials_are_not_dynamic_ones() {
        let dynamic = Given::new().requests(6, "WEB01", 1, 100, "/api/orders", (401, 3, 5), 3);
        assert!(dynamic.detected(detect).is_empty());
        let css = Given::new().requests(6, "WEB01", 1, 100, "/site.css", (401, 3, 5), 3);
        assert_eq!(css.detected(detect)[0].id, FailureMode::StaticContentFailure);
    }

    #[test]
    fn a_startup_status_is_left_to_ancm_events_when_there_are_any() {
        let statuses = Given::new().requests(6, "WEB01", 1, 100, "/", (500, 30, 0), 3);
        let found = statuses.detected(detect);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::AncmStartupFailure, Severity::Critical));
        let with_events = Given::new().requests(6, "WEB01", 1, 100, "/", (500, 30, 0), 3).event(
            "WEB01",
            99,
            "IIS AspNetCore Module V2",
            1011,
            &[],
        );
        assert!(with_events.detected(detect).is_empty());
    }

    /// A busy minute lists its first failures and counts the rest by
    /// status: the finding says how many failed, not how many were listed;
    /// another status counted in the same minute is not among them.
    #[test]
    fn a_busy_minutes_counted_failures_are_in_the_finding() {
        let busy = Given::new()
            .requests(3, "WEB01", 1, 100, "/app", (500, 19, 13), 15)
            .unlisted("WEB01", 1, 100, (500, 19, 13), 5_000)
            .unlisted("WEB01", 1, 100, (500, 0, 0), 9_000)
            .unlisted("WEB01", 2, 100, (500, 19, 13), 7_000)
            .unlisted("WEB01", 1, 1_000, (500, 19, 13), 4_000);
        let found = busy.detected(detect);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].explanation.starts_with("5003 requests failed with 500.19"),
            "{}",
            found[0].explanation
        );
        // Three 502.3 listed, and as many counted in their minute: a burst.
        let counted = Given::new()
            .requests(3, "WEB01", 1, 100, "/", (502, 3, 12_002), 30_000)
            .unlisted("WEB01", 1, 101, (502, 3, 12_002), 3)
            .detected(detect);
        assert_eq!(counted.len(), 1);
        assert!(counted[0].explanation.starts_with("6 requests"), "{}", counted[0].explanation);
    }

    #[test]
    fn four_failures_are_not_a_cluster() {
        assert!(
            (Given::new().requests(4, "WEB01", 1, 100, "/", (502, 3, 12_002), 30_000))
                .detected(detect)
                .is_empty()
        );
    }

    /// 401.1 0x8009030C from many clients at once is the server refusing
    /// everyone's tickets (an SPN on another account than the one
    /// decrypting them): high, the users' machines' Kerberos 4 naming this
    /// server cited, the SPN steps first. One client's bad password,
    /// however often retried, stays a medium one; a Kerberos 4 naming
    /// another server's account is not this one's.
    #[test]
    fn credentials_refused_to_everyone_at_once_are_the_servers_kerberos() {
        const DENIED: (u16, u32, u64) = (401, 1, 2_148_074_252);
        let kerberos = |e: Given, server: &str| {
            e.event(
                "PC-HR-017",
                90,
                "Microsoft-Windows-Security-Kerberos",
                4,
                &[
                    ("Server", server),
                    ("Targetname", "HTTP/hr.contoso.com"),
                    ("ErrorMessage", "KRB_AP_ERR_MODIFIED"),
                ],
            )
        };
        let everyone = |e: Given| {
            (0..40).fold(e, |e, i| {
                e.request("WEB31", 3, i * 10, "/leave/request.aspx", DENIED, 4)
                    .client(&format!("10.40.1.{}", i % 8))
            })
        };
        let found = kerberos(everyone(Given::new()), "web31$").findings();
        let f = found.iter().find(|f| f.id == FailureMode::AuthFailure).expect("auth-failure");
        assert_eq!(f.severity, Severity::High);
        assert!(f.explanation.contains("from 8 different clients at once"), "{}", f.explanation);
        assert!(f.explanation.contains("KRB_AP_ERR_MODIFIED) for HTTP/hr.contoso.com"), "{}", f.explanation);
        assert!(
            f.remediation[0].starts_with("Find which account holds the site's SPN"),
            "{:?}",
            f.remediation
        );
        assert!(f.evidence.iter().any(|e| e.summary.starts_with("Kerberos 4 on PC-HR-017")));
        let other = kerberos(everyone(Given::new()), "web99$").findings();
        let f = other.iter().find(|f| f.id == FailureMode::AuthFailure).expect("auth-failure");
        assert!(!f.evidence.iter().any(|e| e.summary.starts_with("Kerberos")), "another server's");
        assert!(f.explanation.contains("most often Kerberos"), "{}", f.explanation);
        let one = Given::new().requests(40, "WEB31", 3, 0, "/leave/request.aspx", DENIED, 4).findings();
        let f = one.iter().find(|f| f.id == FailureMode::AuthFailure).expect("auth-failure");
        assert_eq!(f.severity, Severity::Medium);
        assert!(!f.explanation.contains("Kerberos"), "{}", f.explanation);
        assert!(!f.remediation.iter().any(|s| s.contains("setspn")), "{:?}", f.remediation);
    }

    /// Uploads over maxAllowedContentLength a few at a time over a day, and
    /// one burst of them, are one failure that keeps coming back, saying
    /// which limit and what to raise; a URL too long a few times is a
    /// scanner's, no finding.
    #[test]
    fn uploads_over_the_size_limit_now_and_then_are_one_finding() {
        const TOO_LARGE: (u16, u32, u64) = (404, 13, 0);
        let rejected = (0..6)
            .fold(Given::new(), |e, h| {
                e.request("WEB33", 4, h * 3_600, "/api/documents/upload", TOO_LARGE, 200)
            })
            .requests(9, "WEB33", 4, 30_000, "/api/documents/upload", TOO_LARGE, 200)
            .findings();
        let limits: Vec<_> = rejected.iter().filter(|f| f.id == FailureMode::RequestLimits).collect();
        assert_eq!(limits.len(), 1, "{:?}", modes(&rejected));
        let f = limits[0];
        assert!(
            f.explanation.starts_with(
                "15 requests were rejected by request filtering as larger than \
             maxAllowedContentLength"
            ),
            "{}",
            f.explanation
        );
        assert!(f.remediation[0].contains("maxAllowedContentLength"), "{:?}", f.remediation);
        assert!(f.remediation[1].contains("maxRequestLength"), "{:?}", f.remediation);
        let once = Given::new().request("WEB33", 4, 0, "/api/documents/upload", TOO_LARGE, 200).findings();
        assert_eq!(modes(&once), [FailureMode::RequestLimits]);
        assert_eq!(once[0].severity, Severity::Low);
        let long_urls = (0..3)
            .fold(Given::new(), |e, h| e.request("WEB33", 4, h * 3_600, "/a", (404, 14, 0), 1))
            .findings();
        assert!(!modes(&long_urls).contains(&FailureMode::RequestLimits), "{:?}", modes(&long_urls));
    }
}
