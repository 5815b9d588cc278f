//! Detectors anchored on Windows events (WAS, W3SVC, HTTP.sys, Schannel,
//! ANCM, SQL Server, security, resource and boot events).

use std::collections::BTreeMap;

use faultline_parser::w3c::ReasonKind;
use faultline_parser::winevent::Family;
use faultline_parser::{Span, Timestamp};

use super::{Draft, FailureMode, SEC, clusters, pool};
use crate::evidence::EventRow;
use crate::evidence::Store;
use crate::finding::{Role, Severity};

pub(super) fn detect(a: &Store, out: &mut Vec<Draft>) {
    config_store(a, out);
    let store_broken: Vec<Timestamp> =
        a.events_of(Family::Was, &[5172, 5189]).map(|e| e.event.time).collect();
    rapid_fail(a, out, &store_broken);
    crashes(a, out);
    crashes_without_event_logs(a, out);
    hangs(a, out);
    recycles(a, out);
    identity(a, out);
    db_logins(a, out);
    simple(a, out);
}

/// Events clustered in time on each host separately: the same event on two
/// servers of a farm is two findings (which `related` then ties together).
fn host_clusters<'a>(events: impl Iterator<Item = &'a EventRow>, gap_secs: i64) -> Vec<Vec<&'a EventRow>> {
    let mut by_host: BTreeMap<&str, Vec<&EventRow>> = BTreeMap::new();
    for e in events {
        by_host.entry(&e.host).or_default().push(e);
    }
    by_host.into_values().flat_map(|events| clusters(events, |e| e.event.time, gap_secs)).collect()
}

/// Whose login this is, as far as IIS is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Login<'a> {
    /// `IIS APPPOOL\<pool>`: ApplicationPoolIdentity against a local SQL Server.
    PoolIdentity(&'a str),
    /// `DOMAIN\HOST$`: ApplicationPoolIdentity, NetworkService or
    /// LocalSystem reaching a remote SQL Server as the machine.
    MachineAccount,
    /// Any other Windows account (a custom pool identity, or a user).
    Windows,
    /// A SQL Server login from a connection string.
    Sql,
}

fn classify_login(name: &str) -> Login<'_> {
    const POOL_PREFIX: &str = "IIS APPPOOL\\";
    if name.get(..POOL_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(POOL_PREFIX)) {
        Login::PoolIdentity(&name[POOL_PREFIX.len()..])
    } else if name.contains('\\') && name.ends_with('$') {
        Login::MachineAccount
    } else if name.contains('\\') {
        Login::Windows
    } else {
        Login::Sql
    }
}

/// A burst with this many distinct logins is someone guessing, not one
/// identity that stopped working.
const GUESSING_LOGINS: usize = 4;

/// The web server a machine-account login names: `CONTOSO\WEB01$` → `WEB01`.
fn machine_host(login: &str) -> Option<String> {
    let name = login.rsplit('\\').next()?.strip_suffix('$')?;
    (!name.is_empty()).then(|| name.to_ascii_uppercase())
}

/// The account of an ASP.NET 1309's process (`IIS APPPOOL\<pool>` for
/// ApplicationPoolIdentity), found by its form rather than its position,
/// which moves between ASP.NET versions.
fn process_account(e: &EventRow) -> Option<&str> {
    e.event.data.iter().map(|d| d.value.trim()).find(|v| matches!(classify_login(v), Login::PoolIdentity(_)))
}

/// How the identity of one app pool changed on one host before a failure:
/// its workers' logons (Security 4624 type 4 for a custom account, type 5
/// for ApplicationPoolIdentity), and the application's own error naming
/// the login that failed.
struct IdentityChange<'a> {
    host: String,
    pool: Option<String>,
    /// The last logon as another account before the switch.
    before: Option<(&'a EventRow, String)>,
    /// The first logon as the pool's virtual account after it.
    after: Option<&'a EventRow>,
    /// An application error on the host that names the failed login.
    app_error: Option<&'a EventRow>,
}

/// Reads the web server's evidence for the identity behind a failed
/// database login that happened at `at`.
fn identity_change<'a>(a: &'a Store, host: &str, login: &str, at: Timestamp) -> IdentityChange<'a> {
    let on_host = |e: &&EventRow| &*e.host == host && e.event.time <= at.shifted(3600);
    let app_error = a
        .events
        .iter()
        .filter(on_host)
        .find(|e| e.event.event_id == 1309 && e.event.data.iter().any(|d| d.value.contains(login)));
    let pool = match classify_login(login) {
        Login::PoolIdentity(p) => Some(p.to_string()),
        _ => app_error.and_then(process_account).and_then(|acct| match classify_login(acct) {
            Login::PoolIdentity(p) => Some(p.to_string()),
            _ => None,
        }),
    };
    let logons: Vec<&EventRow> = a.events_of(Family::SecurityAuditing, &[4624]).filter(on_host).collect();
    let virtual_logon = |e: &&&EventRow| {
        e.event.data("LogonType") == Some("5")
            && e.event.data("TargetDomainName").is_some_and(|d| d.eq_ignore_ascii_case("IIS APPPOOL"))
            && pool
                .as_deref()
                .is_none_or(|p| e.event.data("TargetUserName").is_some_and(|u| u.eq_ignore_ascii_case(p)))
    };
    let custom = |e: &&&EventRow| e.event.data("LogonType") == Some("4");
    // The first virtual-account logon that follows a custom-account one.
    let mut before = None;
    let mut after = None;
    for e in &logons {
        if custom(&e) {
            let account = format!(
                "{}\\{}",
                e.event.data("TargetDomainName").unwrap_or("-"),
                e.event.data("TargetUserName").unwrap_or("-")
            );
            before = Some((*e, account));
            after = None;
        } else if virtual_logon(&e) && before.is_some() && after.is_none() {
            after = Some(*e);
        }
    }
    IdentityChange {
        host: host.to_string(),
        pool,
        before: if after.is_some() { before } else { None },
        after,
        app_error,
    }
}

/// SQL Server 18456, read for the identity that failed: the pool identity or
/// machine account IIS really uses, a connection-string login whose password
/// or mode changed, or a burst of many logins that is password guessing.
fn db_logins(a: &Store, out: &mut Vec<Draft>) {
    for c in host_clusters(a.events_of(Family::SqlServer, &[18456]), 3600) {
        if c.len() < 3 {
            continue;
        }
        // Positional data: login, "Reason: ...", "[CLIENT: address]".
        let login = |e: &EventRow| e.event.data_at(0).map_or("-", str::trim).to_string();
        let reason = |e: &EventRow| {
            e.event
                .data_at(1)
                .map(|r| r.trim().trim_start_matches("Reason: ").trim_end_matches('.').to_string())
        };
        let client = |e: &EventRow| {
            e.event
                .data_at(2)
                .map(|c| c.trim().trim_start_matches("[CLIENT:").trim_end_matches(']').trim().to_string())
        };
        let mut logins: BTreeMap<String, usize> = BTreeMap::new();
        for e in &c {
            *logins.entry(login(e)).or_default() += 1;
        }
        let (top, _) = logins
            .iter()
            .max_by_key(|(name, n)| (**n, std::cmp::Reverse(*name)))
            .expect("a cluster is never empty");
        let first = c[0];
        let why = reason(first).map_or(String::new(), |r| format!(" ({r})"));
        let mut clients: Vec<String> = c.iter().filter_map(|e| client(e)).collect();
        clients.sort_unstable();
        clients.dedup();
        let from = match clients.len() {
            0 => String::new(),
            1..=3 => format!(" from {}", clients.join(", ")),
            n => format!(" from {} and {} more clients", clients[..3].join(", "), n - 3),
        };
        let kind = classify_login(top);
        // The other accounts of the burst, named after the main one.
        let others: Vec<&str> = logins.keys().map(String::as_str).filter(|l| l != top).take(3).collect();
        let top_and_others =
            if others.is_empty() { top.clone() } else { format!("{top} (and {})", others.join(", ")) };
        let (severity, confidence, text) = if logins.len() >= GUESSING_LOGINS {
            (
                Severity::Low,
                0.3,
                format!(
                    "SQL Server rejected {} logins for {} different accounts{from} ({}): many accounts from one client looks like password guessing, not an identity IIS uses. If a web server is that client, one of its apps is misconfigured or compromised.",
                    c.len(),
                    logins.len(),
                    logins.keys().take(5).map(String::as_str).collect::<Vec<_>>().join(", ")
                ),
            )
        } else {
            let who = match kind {
                Login::PoolIdentity(p) => format!(
                    "{top_and_others}, the identity of app pool {p} (ApplicationPoolIdentity against a local SQL Server), has no login there"
                ),
                Login::MachineAccount => format!(
                    "{top_and_others} is the web server's machine account: a pool running as ApplicationPoolIdentity, NetworkService or LocalSystem reaches a remote SQL Server as the machine, not as the developer who tested the connection string"
                ),
                Login::Windows => format!(
                    "{top_and_others} is the Windows identity the app runs as (a custom pool identity, or impersonation)"
                ),
                Login::Sql => format!(
                    "{top_and_others} is a SQL Server login from a connection string: its password, its state or the server's authentication mode changed"
                ),
            };
            (
                Severity::High,
                if matches!(kind, Login::PoolIdentity(_) | Login::MachineAccount) { 0.95 } else { 0.85 },
                format!(
                    "SQL Server rejected {} logins{from}{why}: {who}, so every database call that uses it fails.",
                    c.len()
                ),
            )
        };
        // Where the failing identity runs: the web server a machine account
        // names, or this host for a pool identity against a local server.
        let web_host = match kind {
            Login::MachineAccount if logins.len() < GUESSING_LOGINS => machine_host(top),
            Login::PoolIdentity(_) => Some(first.host.to_string()),
            _ => None,
        };
        let change = web_host.map(|h| identity_change(a, &h, top, first.event.time));
        let pool = change.as_ref().and_then(|c| c.pool.clone());
        let mut text = text;
        let mut confidence = confidence;
        if let Some(ch) = &change {
            let pool_name = ch.pool.as_deref().unwrap_or("the pool");
            if let (Some((_, account)), Some(after)) = (&ch.before, ch.after) {
                let lead = first.event.time.0.saturating_sub(after.event.time.0) / (60 * SEC);
                text.push_str(&format!(
                    " On {}, {pool_name}'s workers logged on as {account} and then, {lead} minute{} before the first failure, as IIS APPPOOL\\{pool_name}: the pool's identity was switched to ApplicationPoolIdentity, and that identity has no login on the SQL Server.",
                    ch.host,
                    if lead == 1 { "" } else { "s" }
                ));
                confidence = 0.97;
            } else if ch.app_error.is_some() {
                text.push_str(&format!(
                    " On {}, {pool_name}'s application reports the same failed login (ASP.NET 1309).",
                    ch.host
                ));
            }
        }
        let mut d = Draft::new(FailureMode::DbLoginFailure, severity, confidence, first.event.time, c[c.len() - 1].event.time)
            .scope(Some(&first.host), None, pool.as_deref())
            .explain(
                text,
                &[
                    "Create the login (and database user) for the identity named in 18456, or change the connection string / pool identity.",
                    "Read the reason: no such login, wrong password, disabled login, or Windows-only authentication.",
                ],
            );
        for e in c.iter().take(8) {
            let summary = format!(
                "{} 18456: login {} failed{}{}",
                e.event.provider,
                login(e),
                reason(e).map_or(String::new(), |r| format!(" ({r})")),
                client(e).map_or(String::new(), |c| format!(" from {c}"))
            );
            d.cite(a.cite_event(e, summary), Role::Cause);
        }
        if let Some(ch) = change {
            if let Some((e, account)) = ch.before {
                d.cite(
                    a.cite_event(e, format!("Security 4624: worker logon (batch) as {account}")),
                    Role::Context,
                );
            }
            if let Some(e) = ch.after {
                let user = e.event.data("TargetUserName").unwrap_or("-");
                d.cite(
                    a.cite_event(e, format!("Security 4624: worker logon (service) as IIS APPPOOL\\{user}")),
                    Role::Cause,
                );
            }
            if let Some(e) = ch.app_error {
                let account = process_account(e).unwrap_or("-");
                d.cite(a.cite_event(e, format!("ASP.NET 1309: the application, running as {account}, failed to log on to SQL Server")), Role::Effect);
            }
        }
        out.push(d);
    }
}

fn config_store(a: &Store, out: &mut Vec<Draft>) {
    let events: Vec<&EventRow> = a.events_of(Family::Was, &[5172, 5189]).collect();
    for c in clusters(events, |e| e.event.time, 600) {
        let first = c[0];
        let mut d = Draft::new(FailureMode::ConfigStoreBroken, Severity::Critical, 0.95, first.event.time, c[c.len() - 1].event.time)
            .scope(Some(&first.host), None, None)
            .explain(
                format!(
                    "WAS could not read IIS's configuration ({}): the configuration store every application pool is built from stopped being valid, so no pool can start and HTTP.sys answers 503 for every site.",
                    first.event.data("File").unwrap_or("applicationHost.config")
                ),
                &["Restore applicationHost.config from %SystemDrive%\\inetpub\\history\\CFGHISTORY_* (or fix the line named in WAS 5172).", "Start the application pools again (they were disabled by rapid-fail protection)."],
            );
        for e in &c {
            d.cite(
                a.cite_event(
                    e,
                    format!(
                        "WAS {}: {}",
                        e.event.event_id,
                        e.event.data("ErrorText").or_else(|| pool(e)).unwrap_or("configuration error")
                    ),
                ),
                Role::Cause,
            );
        }
        let (t, w) = (first.event.time, 300);
        for e in a.events_between(Family::Was, &[5002], t.shifted(-w), t.shifted(w)) {
            d.cite(
                a.cite_event(e, format!("WAS 5002: pool {} disabled", pool(e).unwrap_or("-"))),
                Role::Effect,
            );
        }
        out.push(d);
    }
}

fn rapid_fail(a: &Store, out: &mut Vec<Draft>, store_broken: &[Timestamp]) {
    // `store_broken` is in time order: is one within the 5 minutes before?
    let after_store_broke = |t: Timestamp| {
        let i = store_broken.partition_point(|s| *s < t.shifted(-300));
        store_broken.get(i).is_some_and(|s| *s <= t)
    };
    // One finding per pool and host for disables less than an hour apart:
    // a pool disabled again after each restart is one incident.
    let mut per_pool: BTreeMap<(&str, &str), Vec<&EventRow>> = BTreeMap::new();
    for e in a.events_of(Family::Was, &[5002]).filter(|e| !after_store_broke(e.event.time)) {
        per_pool.entry((&e.host, pool(e).unwrap_or("-"))).or_default().push(e);
    }
    let incidents = per_pool.into_values().flat_map(|disables| clusters(disables, |e| e.event.time, 3600));
    for disables in incidents {
        let e = disables[0];
        let p = pool(e).unwrap_or("-");
        let failures: Vec<&EventRow> = a
            .events_between(Family::Was, &[5009, 5011, 5012], e.event.time.shifted(-10 * 60), e.event.time)
            .filter(|f| pool(f) == Some(p))
            .collect();
        let offline: Vec<_> = a
            .errors_between(e.event.time.shifted(-2), Timestamp(i64::MAX))
            .iter()
            .filter(|r| r.reason == ReasonKind::AppOffline && r.queue.as_deref() == Some(p))
            .collect();
        let last_disable = disables[disables.len() - 1].event.time;
        let end = offline.last().map_or(last_disable, |r| r.time.max(last_disable));
        let mut d = Draft::new(
            FailureMode::RapidFailProtection,
            Severity::Critical,
            if failures.len() >= 2 { 0.95 } else { 0.8 },
            failures.first().map_or(e.event.time, |f| f.event.time),
            end,
        )
        .scope(Some(&e.host), offline.first().and_then(|r| r.site), Some(p))
        .explain(
            rapid_fail_story(p, &failures, e.event.time, offline.len()),
            &[
                "Find why the worker keeps dying (see the worker-crash findings) and fix that first.",
                "Start the application pool (Start-WebAppPool or IIS Manager) once the cause is fixed.",
                "Consider rapidFailProtection settings and an alert on WAS 5002.",
            ],
        );
        for f in &failures {
            d.cite(
                a.cite_event(
                    f,
                    format!(
                        "WAS {}: worker {} of {p} failed",
                        f.event.event_id,
                        f.event.data("ProcessID").unwrap_or("-")
                    ),
                ),
                Role::Cause,
            );
        }
        for e in disables.iter().take(5) {
            d.cite(a.cite_event(e, format!("WAS 5002: rapid-fail protection disabled {p}")), Role::Cause);
        }
        if disables.len() > 1 {
            d.explanation.push_str(&format!(
                " WAS disabled {p} {} times in this incident (each restart failed again).",
                disables.len()
            ));
        }
        for r in offline.iter().take(5) {
            d.cite(a.cite_error(r), Role::Effect);
        }
        out.push(d);
    }
}

/// What a rapid-fail finding says happened, naming what the evidence lacks
/// rather than counting it as zero.
fn rapid_fail_story(pool: &str, failures: &[&EventRow], disabled: Timestamp, offline: usize) -> String {
    let plural = |n: i64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let tripped = match failures.first() {
        Some(f) => format!(
            "{} of {pool} in {} tripped rapid-fail protection: WAS disabled the pool (5002)",
            plural(failures.len() as i64, "worker failure"),
            plural(disabled.0.saturating_sub(f.event.time.0) / (60 * SEC) + 1, "minute")
        ),
        None => format!(
            "WAS disabled {pool} under rapid-fail protection (5002); the worker failures that tripped it (WAS 5009, 5011, 5012 in the 10 minutes before) are not in the evidence"
        ),
    };
    let answered = match offline {
        0 => "; a disabled pool's requests are answered 503 AppOffline by HTTP.sys itself, and none is in the HTTPERR evidence".to_string(),
        n => format!(
            ", and from then on HTTP.sys answered 503 AppOffline itself ({}) until someone started the pool",
            plural(n as i64, "request")
        ),
    };
    format!(
        "{tripped}{answered}. The pool was assumed to restart itself; after repeated failures IIS stops trying."
    )
}

/// Application Error 1000 writes the PID in hex.
fn hex_pid(e: &EventRow) -> Option<u32> {
    e.event.data_at(8).and_then(|h| u32::from_str_radix(h.trim_start_matches("0x"), 16).ok())
}

fn crashes(a: &Store, out: &mut Vec<Draft>) {
    let oom_context: Vec<(std::sync::Arc<str>, Timestamp)> =
        a.events_of(Family::ResourceExhaustion, &[2004]).map(|e| (e.host.clone(), e.event.time)).collect();
    // One crash: the WAS event and what the same process left behind.
    struct Crash<'a> {
        was: &'a EventRow,
        pid: Option<u32>,
        app_errors: Vec<&'a EventRow>,
        runtime: Vec<&'a EventRow>,
        abandoned: Vec<&'a crate::evidence::ErrRow>,
        wer: Vec<&'a EventRow>,
    }
    let mut crashes: Vec<Crash<'_>> = Vec::new();
    for e in a.events_of(Family::Was, &[5009, 5011]) {
        let p = pool(e).unwrap_or("-");
        let pid: Option<u32> = e.event.data("ProcessID").and_then(|v| v.parse().ok());
        // A worker WAS killed after a failed ping hung; it did not crash.
        if a.events_between(Family::Was, &[5010], e.event.time.shifted(-120), e.event.time)
            .any(|g| g.host == e.host && pool(g) == Some(p))
        {
            continue;
        }
        let (from, to) = (e.event.time.shifted(-10), e.event.time.shifted(10));
        let app_errors: Vec<&EventRow> = a
            .events_between(Family::ApplicationError, &[1000], from, to)
            .filter(|x| x.host == e.host && (pid.is_none() || hex_pid(x) == pid))
            .collect();
        let mut runtime: Vec<&EventRow> = a
            .events_between(Family::DotNetRuntime, &[1026, 1325], from, to)
            .chain(a.events_between(Family::AspNet, &[1026, 1325], from, to))
            .filter(|x| x.host == e.host)
            .collect();
        runtime.sort_by_key(|x| (x.event.sort_key(), x.source));
        let oom =
            runtime.iter().any(|r| r.event.data_at(0).is_some_and(|t| t.contains("OutOfMemoryException")));
        if oom
            && oom_context.iter().any(|(h, t)| {
                *h == e.host
                    && e.event.time.0.saturating_sub(t.0) >= 0
                    && e.event.time.0.saturating_sub(t.0) <= 3600 * SEC
            })
        {
            continue; // part of the server's memory exhaustion
        }
        let abandoned = a
            .errors_between(from, to)
            .iter()
            .filter(|r| r.host == e.host && r.reason.is_abandoned())
            .collect();
        let wer = a
            .events_between(Family::WindowsErrorReporting, &[1001], e.event.time, e.event.time.shifted(300))
            .filter(|x| x.host == e.host)
            .collect();
        crashes.push(Crash { was: e, pid, app_errors, runtime, abandoned, wer });
    }
    // Crashes of one pool within minutes of each other are one incident.
    let mut by_pool: BTreeMap<(std::sync::Arc<str>, String), Vec<Crash<'_>>> = BTreeMap::new();
    for c in crashes {
        by_pool.entry((c.was.host.clone(), pool(c.was).unwrap_or("-").to_string())).or_default().push(c);
    }
    for ((host, p), list) in by_pool {
        for group in clusters(list, |c| c.was.event.time, 900) {
            let first = &group[0];
            let last = &group[group.len() - 1];
            let exception = group
                .iter()
                .flat_map(|c| &c.runtime)
                .filter_map(|r| r.event.data_at(0))
                .find_map(|t| {
                    t.lines()
                        .find(|l| l.starts_with("Exception Info:"))
                        .or_else(|| t.lines().find(|l| l.starts_with("Description:")))
                })
                .unwrap_or("")
                .trim()
                .trim_end_matches('.')
                .to_string();
            let abandoned: usize = group.iter().map(|c| c.abandoned.len()).sum();
            let confirmed = group.iter().any(|c| !c.app_errors.is_empty() || !c.runtime.is_empty());
            let module = group.iter().flat_map(|c| &c.app_errors).find_map(|x| x.event.data_at(3));
            let pids: Vec<String> = group.iter().filter_map(|c| c.pid.map(|p| p.to_string())).collect();
            let mut d = Draft::new(FailureMode::WorkerCrash, Severity::High, if confirmed { 0.9 } else { 0.7 }, first.was.event.time.shifted(-1), last.was.event.time.shifted(10))
                .scope(Some(&host), group.iter().flat_map(|c| &c.abandoned).find_map(|r| r.site), Some(&p))
                .explain(
                    format!(
                        "The w3wp worker of {p} died unexpectedly {} (PID {}; WAS {}){}{}. Requests in flight were lost{}; each new worker started cold. The code assumed an exception on a background thread would be harmless; in IIS it terminates the process.",
                        if group.len() == 1 { "once".to_string() } else { format!("{} times", group.len()) },
                        pids.join(", "),
                        first.was.event.event_id,
                        module.map_or(String::new(), |m| format!(", faulting in {m}")),
                        if exception.is_empty() { String::new() } else { format!(": {exception}") },
                        if abandoned == 0 { String::new() } else { format!(" ({abandoned} abandoned by HTTP.sys)") },
                    ),
                    &["Read the exception in .NET Runtime 1026 / Application Error 1000 and the WER report (dump path in WER 1001).", "Catch and log exceptions on background threads and timers; avoid async void.", "Capture a crash dump (ProcDump or WER LocalDumps) if the exception is native."],
                );
            for c in &group {
                for r in &c.runtime {
                    d.cite(
                        a.cite_event(r, format!(".NET Runtime {}: {exception}", r.event.event_id)),
                        Role::Cause,
                    );
                }
                for x in &c.app_errors {
                    d.cite(
                        a.cite_event(
                            x,
                            format!(
                                "Application Error 1000: w3wp.exe (PID {}) faulted in {} with {}",
                                c.pid.map_or_else(|| "-".into(), |p| p.to_string()),
                                x.event.data_at(3).unwrap_or("-"),
                                x.event.data_at(6).unwrap_or("-")
                            ),
                        ),
                        Role::Cause,
                    );
                }
                d.cite(
                    a.cite_event(
                        c.was,
                        format!(
                            "WAS {}: worker {} of {p} terminated",
                            c.was.event.event_id,
                            c.pid.map_or_else(|| "-".into(), |p| p.to_string())
                        ),
                    ),
                    Role::Effect,
                );
                for r in c.abandoned.iter().take(3) {
                    d.cite(a.cite_error(r), Role::Effect);
                }
                for w in c.wer.iter().take(1) {
                    d.cite(
                        a.cite_event(
                            w,
                            format!(
                                "WER 1001: {} report, dump {}",
                                w.event.data_at(2).unwrap_or("-"),
                                w.event.data_at(15).unwrap_or("-")
                            ),
                        ),
                        Role::Context,
                    );
                }
            }
            out.push(d);
        }
    }
}

/// Without the host's System log, a burst of abandoned requests for one pool
/// in the same second is still the mark of a worker that went away. A burst
/// with no queue name belongs to some other HTTP.sys consumer (a Windows
/// service), which no IIS failure mode covers: it stays visible as
/// `unexplained`.
fn crashes_without_event_logs(a: &Store, out: &mut Vec<Draft>) {
    type Burst<'a> = Vec<&'a crate::evidence::ErrRow>;
    let mut bursts: BTreeMap<(std::sync::Arc<str>, Option<std::sync::Arc<str>>), Burst<'_>> = BTreeMap::new();
    for r in a.errors.iter().filter(|r| r.reason.is_abandoned()) {
        bursts.entry((r.host.clone(), r.queue.clone())).or_default().push(r);
    }
    for ((host, queue), rows) in bursts {
        let has_system_log =
            a.events.iter().any(|e| e.host == host && e.event.channel.as_deref() == Some("System"));
        if has_system_log && queue.is_some() {
            continue;
        }
        for c in clusters(rows, |r| r.time, 2) {
            if c.len() < 3 {
                continue;
            }
            let (start, end) = (c[0].time.shifted(-1), c[c.len() - 1].time.shifted(10));
            let mut d = match &queue {
                Some(queue) => Draft::new(FailureMode::WorkerCrash, Severity::High, 0.55, start, end)
                    .scope(Some(&host), c[0].site, Some(queue))
                    .explain(
                        format!("HTTP.sys abandoned {} requests of {queue} in the same moment: the worker process that owned them went away (crash or kill). The host's System event log is not in the evidence, so WAS cannot confirm it; add System.evtx and Application.evtx to see why.", c.len()),
                        &["Collect the System and Application event logs of this host (WAS 5011/5009, Application Error 1000, .NET Runtime 1026).", "Then follow the worker-crash remediation."],
                    ),
                None => {
                    let mut paths: Vec<&str> = c.iter().filter_map(|r| r.uri.as_deref()).map(first_segment).collect();
                    paths.sort_unstable();
                    paths.dedup();
                    Draft::new(FailureMode::Unexplained, Severity::Low, 0.35, start, end)
                        .scope(Some(&host), c[0].site, None)
                        .explain(
                            format!("HTTP.sys abandoned {} requests for {} in the same moment: the process that owned their request queue went away. HTTP.sys logged no app pool for them, so the queue is not an IIS worker's but another program's on HTTP.sys (a Windows service such as UPnP/WSD, WinRM or a self-hosted app).", c.len(), paths.join(", ")),
                            &["Find the program that registered the URL (netsh http show servicestate) and read its own logs and the System log for the moment.", "If the URL should belong to an IIS site, check its binding: HTTP.sys names the pool for IIS queues."],
                        )
                }
            };
            for r in c.iter().take(5) {
                d.cite(a.cite_error(r), Role::Effect);
            }
            out.push(d);
        }
    }
}

/// The first segment of a URL path (`/upnphost/udhisapi.dll` → `/upnphost`).
fn first_segment(uri: &str) -> &str {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    match path.get(1..).and_then(|rest| rest.find('/')) {
        Some(i) => &path[..i + 1],
        None => path,
    }
}

fn hangs(a: &Store, out: &mut Vec<Draft>) {
    for e in a.events_of(Family::Was, &[5010]) {
        let p = pool(e).unwrap_or("-");
        let queued: Vec<_> = a
            .errors
            .iter()
            .filter(|r| {
                r.host == e.host
                    && r.queue.as_deref() == Some(p)
                    && matches!(
                        r.reason,
                        ReasonKind::TimerAppPool | ReasonKind::TimerReqQueue | ReasonKind::QueueFull
                    )
                    && e.event.time.0.saturating_sub(r.time.0) <= 600 * SEC
                    && r.time.0.saturating_sub(e.event.time.0) <= 60 * SEC
            })
            .collect();
        let slow: Vec<_> = a
            .requests
            .iter()
            .filter(|r| {
                r.host == e.host
                    && r.taken >= Span::secs(10)
                    && e.event.time.0.saturating_sub(r.time.0) <= 600 * SEC
                    && r.time <= e.event.time
            })
            .collect();
        let start = slow.first().map_or(e.event.time, |r| r.start());
        let mut d = Draft::new(FailureMode::WorkerHang, Severity::High, 0.9, start, e.event.time.shifted(10))
            .scope(Some(&e.host), slow.first().and_then(|r| r.site), Some(p))
            .explain(
                format!(
                    "The worker of {p} stopped answering: time-taken climbed ({} requests over 10 s), requests waited in HTTP.sys's queue ({} timed out or refused), and WAS killed it for failing its health ping (5010). Completions stopped, so this is a hang or thread-pool starvation, not load.",
                    slow.len(),
                    queued.len()
                ),
                &["Take a memory dump of w3wp when time-taken climbs (DebugDiag, ProcDump -h) and look for blocked threads (sync-over-async, locks, slow dependencies).", "Check downstream calls' timeouts; do not block on async code.", "Keep pingInterval/pingResponseTime at defaults so a hung worker is replaced."],
            );
        for r in slow.iter().take(5) {
            d.cite(a.cite_request(r), Role::Cause);
        }
        for r in queued.iter().take(5) {
            d.cite(a.cite_error(r), Role::Effect);
        }
        d.cite(
            a.cite_event(
                e,
                format!(
                    "WAS 5010: worker {} of {p} failed to respond to a ping",
                    e.event.data("ProcessID").unwrap_or("-")
                ),
            ),
            Role::Effect,
        );
        out.push(d);
    }
}

/// A recycle matters when requests were cut by it: aborted (995) within a
/// few seconds of the event.
fn had_impact(a: &Store, e: &EventRow) -> bool {
    a.requests.iter().any(|r| {
        r.host == e.host
            && r.status.win32 == 995
            && r.time >= e.event.time
            && r.time.0.saturating_sub(e.event.time.0) <= 6 * SEC
    })
}

/// WAS event ids, failure-mode id, severity, what happened, what to do.
type RecycleKind = (&'static [u16], FailureMode, Severity, &'static str, &'static [&'static str]);

fn recycles(a: &Store, out: &mut Vec<Draft>) {
    let ancm_failing = a.events.iter().any(|e| {
        e.event.family() == Family::Ancm && matches!(e.event.event_id, 1007 | 1011 | 1018 | 1035 | 1010)
    });
    let kinds: &[RecycleKind] = &[
        (
            &[5074, 5075, 5076],
            FailureMode::RecycleScheduled,
            Severity::Low,
            "reached its periodic, request-count or scheduled recycle",
            &[
                "If the recycle hurts, schedule it outside business hours (recycling/periodicRestart/schedule) and enable overlapped recycling.",
            ],
        ),
        (
            &[5080],
            FailureMode::RecycleConfigChange,
            Severity::Low,
            "was recycled because its configuration changed",
            &["Change pool settings outside busy hours, or set disallowRotationOnConfigChange."],
        ),
        (
            &[5079],
            FailureMode::RecycleOnDemand,
            Severity::Low,
            "was recycled on request (an administrator or a tool)",
            &["Check who recycled it (IIS Manager, appcmd, scripts, deployment tools)."],
        ),
        (
            &[5186],
            FailureMode::RecycleIdleTimeout,
            Severity::Low,
            "was shut down after its idle timeout, so the next request paid the cold start",
            &[
                "Set processModel/@idleTimeout to 0 or use AlwaysRunning with Application Initialization for latency-sensitive apps.",
            ],
        ),
        (
            &[5078],
            FailureMode::RecycleUnhealthy,
            Severity::Medium,
            "was recycled because the worker reported itself unhealthy",
            &["Find why the application reports itself unhealthy (W3SVC-WP 2299/2262 name the reason)."],
        ),
    ];
    for (ids, id, severity, what, fix) in kinds {
        // Routine recycles matter only when they cut requests; the others
        // (on demand, configuration, idle, unhealthy) are notable in themselves.
        let routine = *id == FailureMode::RecycleScheduled;
        let events: Vec<&EventRow> =
            a.events_of(Family::Was, ids).filter(|e| !routine || had_impact(a, e)).collect();
        for c in clusters(events, |e| e.event.time, 3600) {
            if *id == FailureMode::RecycleUnhealthy && ancm_failing {
                continue;
            }
            let first = c[0];
            let p = pool(first).unwrap_or("-");
            let mut d = Draft::new(*id, *severity, 0.85, first.event.time, c[c.len() - 1].event.time.shifted(60))
                .scope(Some(&first.host), None, Some(p))
                .explain(format!("{p} {what} (WAS {}); requests in flight were aborted and the new worker started cold. A planned or automatic restart, not a crash.", first.event.event_id), fix);
            let t = first.event.time;
            for w in a.events_between(Family::W3svcWp, &[2299, 2262, 2263], t.shifted(-60), t.shifted(60)) {
                d.cite(
                    a.cite_event(
                        w,
                        format!("W3SVC-WP {}: the application reported itself unhealthy", w.event.event_id),
                    ),
                    Role::Cause,
                );
            }
            for e in &c {
                d.cite(a.cite_event(e, format!("WAS {}: {p} recycled", e.event.event_id)), Role::Cause);
            }
            out.push(d);
        }
    }
    // Memory-limit recycles: repeated, often with a resource-exhaustion warning.
    let mem: Vec<&EventRow> = a.events_of(Family::Was, &[5077, 5117]).collect();
    for c in clusters(mem, |e| e.event.time, 6 * 3600) {
        let first = c[0];
        let p = pool(first).unwrap_or("-");
        let mut d = Draft::new(FailureMode::RecycleMemoryLimit, Severity::Medium, if c.len() >= 2 { 0.9 } else { 0.7 }, first.event.time, c[c.len() - 1].event.time)
            .scope(Some(&first.host), None, Some(p))
            .explain(
                format!("{p} hit its memory limit and was recycled {} times (WAS {}): the application's memory grows until IIS restarts it, the signature of a leak.", c.len(), first.event.event_id),
                &["Capture memory dumps as private bytes grow (DebugDiag leak rule) and find what holds memory.", "Raise the limit only as a stop-gap; schedule recycles off-peak meanwhile."],
            );
        for e in &c {
            d.cite(
                a.cite_event(e, format!("WAS {}: {p} reached its memory limit", e.event.event_id)),
                Role::Cause,
            );
        }
        out.push(d);
    }
}

fn identity(a: &Store, out: &mut Vec<Draft>) {
    let was: Vec<&EventRow> = a.events_of(Family::Was, &[5021, 5057, 5059]).collect();
    for c in clusters(was, |e| e.event.time, 1800) {
        let first = c[0];
        let p = pool(first).unwrap_or("-");
        let (t, w) = (first.event.time, 600);
        let logons: Vec<&EventRow> = a
            .events_between(Family::SecurityAuditing, &[4625], t.shifted(-w), t.shifted(w))
            .filter(|e| e.host == first.host && matches!(e.event.data("LogonType"), Some("4" | "5")))
            .collect();
        let account =
            logons.first().and_then(|l| l.event.data("TargetUserName")).unwrap_or("the pool's identity");
        let refused = a
            .errors
            .iter()
            .filter(|r| r.host == first.host && r.queue.as_deref() == Some(p) && r.status == Some(503))
            .count();
        let mut d = Draft::new(FailureMode::IdentityLogonFailure, Severity::Critical, if logons.is_empty() { 0.8 } else { 0.95 }, first.event.time, c[c.len() - 1].event.time)
            .scope(Some(&first.host), None, Some(p))
            .explain(
                format!(
                    "{p} cannot start because its identity {account} cannot log on{}: the account's password or rights changed outside IIS, WAS disabled the pool, and HTTP.sys answered 503 ({refused} requests).",
                    logons.first().and_then(|l| l.event.data("SubStatus")).map_or(String::new(), |s| format!(" (4625 SubStatus {s})"))
                ),
                &["Update the pool identity's password in IIS (or use a gMSA), or restore 'Log on as a batch job' for the account.", "Start the pool again."],
            );
        for l in logons.iter().take(5) {
            d.cite(
                a.cite_event(
                    l,
                    format!(
                        "Security 4625: logon type {} failed for {}",
                        l.event.data("LogonType").unwrap_or("-"),
                        l.event.data("TargetUserName").unwrap_or("-")
                    ),
                ),
                Role::Cause,
            );
        }
        for e in &c {
            d.cite(
                a.cite_event(e, format!("WAS {}: {p} identity invalid / pool disabled", e.event.event_id)),
                Role::Effect,
            );
        }
        out.push(d);
    }
}

/// Detectors whose decisive evidence is one kind of event.
fn simple(a: &Store, out: &mut Vec<Draft>) {
    struct Rule {
        family: Family,
        ids: &'static [u16],
        min: usize,
        id: FailureMode,
        severity: Severity,
        explanation: &'static str,
        remediation: &'static [&'static str],
    }
    let ancm_failure: &[u16] = &[1007, 1010, 1011, 1016, 1017, 1018, 1019, 1020, 1028, 1029, 1035];
    let rules = [
        Rule {
            family: Family::Schannel,
            ids: &[36870, 36869],
            min: 1,
            id: FailureMode::TlsPrivateKeyAccess,
            severity: Severity::High,
            explanation: "Schannel could not use a certificate's private key (36870): the process identity lacks read access to the key (or the key is missing), so TLS with that certificate fails. It works as an administrator and fails as the pool identity.",
            remediation: &[
                "Grant the pool identity (IIS APPPOOL\\<pool>) read access to the private key (certlm.msc, Manage Private Keys).",
                "Check the key was imported with the certificate.",
            ],
        },
        Rule {
            family: Family::Schannel,
            ids: &[36874, 36888, 36887],
            min: 3,
            id: FailureMode::TlsHandshakeFailure,
            severity: Severity::Medium,
            explanation: "TLS handshakes failed (Schannel 36874/36888/36887): some clients and this server share no protocol or cipher suite (or SNI or the chain does not match), so those clients never reach HTTP and leave no W3C row.",
            remediation: &[
                "Read the alert codes: 40 handshake failure, 70 protocol version, 112 unrecognized name.",
                "Upgrade the old clients' TLS, or agree on a common protocol and cipher.",
            ],
        },
        Rule {
            family: Family::Tcpip,
            ids: &[4227, 4231],
            min: 1,
            id: FailureMode::PortExhaustion,
            severity: Severity::High,
            explanation: "The server ran out of outbound ephemeral ports (Tcpip 4227/4231): the application opens connections faster than TIME_WAIT releases them, so downstream calls fail under load.",
            remediation: &[
                "Reuse connections: one HttpClient per process, connection pooling on for SQL.",
                "Widen the dynamic port range only as a stop-gap.",
            ],
        },
        Rule {
            family: Family::W3svc,
            ids: &[1004, 1007],
            min: 1,
            id: FailureMode::BindingConflict,
            severity: Severity::Critical,
            explanation: "W3SVC could not register a site's URL with HTTP.sys (the address and port are taken by another site or program): the site cannot listen.",
            remediation: &[
                "Find what owns the port (netsh http show urlacl / servicestate) and fix the binding.",
                "Restart the site once the binding is free.",
            ],
        },
        Rule {
            family: Family::HttpEvent,
            ids: &[15005],
            min: 1,
            id: FailureMode::BindingConflict,
            severity: Severity::Critical,
            explanation: "HTTP.sys could not bind to an address (15005): a listen address is missing or taken, so sites on it cannot answer.",
            remediation: &["Check the IP listen list (netsh http show iplisten) and the site bindings."],
        },
        Rule {
            family: Family::HttpEvent,
            ids: &[15000, 15001, 15002, 15011, 15012, 15013],
            min: 1,
            id: FailureMode::MissingLogs,
            severity: Severity::High,
            explanation: "HTTP.sys could not write its logs (HttpEvent 1500x/1501x): the log volume was full or inaccessible, so the access or error log is missing for this period.",
            remediation: &[
                "Free space on the log volume; move logs off the system drive.",
                "Treat the gap as missing evidence, not as an idle site.",
            ],
        },
        Rule {
            family: Family::EventLog,
            ids: &[104, 1102],
            min: 1,
            id: FailureMode::MissingLogs,
            severity: Severity::High,
            explanation: "An event log was cleared: history before this point is gone.",
            remediation: &[
                "Find who cleared it (the event names the account).",
                "Forward event logs off the server.",
            ],
        },
        Rule {
            family: Family::Ancm,
            ids: ancm_failure,
            min: 1,
            id: FailureMode::AncmStartupFailure,
            severity: Severity::Critical,
            explanation: "The ASP.NET Core application failed to start under the ASP.NET Core Module: the app exits during startup (its stdout, captured by ANCM, names the exception), so every request fails with 500.3x.",
            remediation: &[
                "Read the captured stdout in ANCM 1011/1035 (or enable stdoutLogEnabled) and fix the startup exception.",
                "Check the hosting bundle / runtime version and the app pool's bitness.",
            ],
        },
        Rule {
            family: Family::Ancm,
            ids: &[1012],
            min: 1,
            id: FailureMode::Deployment,
            severity: Severity::Medium,
            explanation: "A deployment took the application offline (app_offline.htm, ANCM 1012): requests got 503 until the file was removed.",
            remediation: &["Deploy outside busy hours or behind a load balancer that drains the server."],
        },
    ];
    for rule in rules {
        for c in host_clusters(a.events_of(rule.family, rule.ids), 3600) {
            if c.len() < rule.min {
                continue;
            }
            let first = c[0];
            let end = c[c.len() - 1].event.time;
            let mut d = Draft::new(
                rule.id,
                rule.severity,
                if c.len() >= 3 { 0.9 } else { 0.8 },
                first.event.time,
                end,
            )
            .scope(Some(&first.host), None, None)
            .explain(format!("{} ({} events)", rule.explanation, c.len()), rule.remediation);
            for e in c.iter().take(8) {
                d.cite(a.cite_event(e, format!("{} {}", e.event.provider, e.event.event_id)), Role::Cause);
            }
            out.push(d);
        }
    }
    reboot(a, out);
    memory(a, out);
}

fn reboot(a: &Store, out: &mut Vec<Draft>) {
    let mut shutdowns: Vec<&EventRow> = a.events_of(Family::User32, &[1074]).collect();
    shutdowns.extend(a.events_of(Family::EventLog, &[6006, 6008]));
    shutdowns.extend(a.events_of(Family::KernelPower, &[41]));
    shutdowns.sort_by_key(|e| e.event.time);
    for c in clusters(shutdowns, |e| e.event.time, 1800) {
        let first = c[0];
        let boot = a
            .events_of(Family::EventLog, &[6005])
            .find(|b| b.host == first.host && b.event.time >= first.event.time);
        let end = boot.map_or(c[c.len() - 1].event.time, |b| b.event.time);
        let unclean = c.iter().any(|e| matches!(e.event.event_id, 6008 | 41));
        let mut d = Draft::new(FailureMode::Reboot, Severity::Medium, 0.9, first.event.time, end)
            .scope(Some(&first.host), None, None)
            .explain(
                format!(
                    "The server restarted{}: IIS stopped with it, so requests in that window were refused and not logged, and the first requests after the boot paid cold starts.",
                    if unclean { " without a clean shutdown" } else { " (planned)" }
                ),
                &["Patch in a maintenance window and drain the server from the load balancer first.", "For an unclean shutdown, check Kernel-Power 41 and the hardware/hypervisor logs."],
            );
        for e in &c {
            d.cite(
                a.cite_event(e, format!("{} {}: shutdown", e.event.provider, e.event.event_id)),
                Role::Cause,
            );
        }
        if let Some(b) = boot {
            d.cite(
                a.cite_event(b, "EventLog 6005: the event log service started (boot)".into()),
                Role::Effect,
            );
        }
        out.push(d);
    }
}

fn memory(a: &Store, out: &mut Vec<Draft>) {
    let refused: Vec<_> = a.errors.iter().filter(|r| r.reason == ReasonKind::ConnectionsRefused).collect();
    let oom: Vec<&EventRow> = a
        .events
        .iter()
        .filter(|e| {
            e.event.family() == Family::DotNetRuntime
                && e.event.event_id == 1026
                && e.event.data_at(0).is_some_and(|t| t.contains("OutOfMemoryException"))
        })
        .collect();
    if refused.is_empty() && oom.is_empty() {
        return;
    }
    let detector = a.events_of(Family::ResourceExhaustion, &[2004]).next();
    let start = detector
        .map(|e| e.event.time)
        .or_else(|| refused.first().map(|r| r.time))
        .or_else(|| oom.first().map(|e| e.event.time))
        .unwrap_or_default();
    let end = refused.last().map(|r| r.time).max(oom.last().map(|e| e.event.time)).unwrap_or(start);
    let host = detector
        .map(|e| e.host.clone())
        .or_else(|| refused.first().map(|r| r.host.clone()))
        .or_else(|| oom.first().map(|e| e.host.clone()));
    let mut d = Draft::new(FailureMode::MemoryExhaustion, Severity::High, if detector.is_some() { 0.9 } else { 0.75 }, start, end)
        .scope(host.as_deref(), None, None)
        .explain(
            format!(
                "The server ran out of memory: {}{} workers died of OutOfMemoryException and HTTP.sys refused {} connections.",
                if detector.is_some() { "the resource-exhaustion detector warned (2004), " } else { "" },
                oom.len(),
                refused.len()
            ),
            &["Find the process that grows (2004 names the top consumers) and cap it (pool privateMemory limit).", "Add memory or spread load until the leak is fixed."],
        );
    if let Some(e) = detector {
        d.cite(a.cite_event(e, "Resource-Exhaustion-Detector 2004: low virtual memory".into()), Role::Cause);
    }
    for e in &oom {
        d.cite(a.cite_event(e, ".NET Runtime 1026: OutOfMemoryException".into()), Role::Effect);
    }
    for r in refused.iter().take(5) {
        d.cite(a.cite_error(r), Role::Effect);
    }
    out.push(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rapid_fail_story_names_what_the_evidence_lacks() {
        let none = rapid_fail_story("Shop", &[], Timestamp(0), 0);
        assert!(
            none.starts_with("WAS disabled Shop under rapid-fail protection (5002); the worker failures"),
            "{none}"
        );
        assert!(none.contains("none is in the HTTPERR evidence"), "{none}");
        assert!(!none.contains(" 0 "), "{none}");
        let one = rapid_fail_story("Shop", &[], Timestamp(0), 1);
        assert!(one.contains("answered 503 AppOffline itself (1 request) until"), "{one}");
    }

    #[test]
    fn logins_are_classified_by_whose_identity_they_are() {
        assert_eq!(classify_login("IIS APPPOOL\\Shop"), Login::PoolIdentity("Shop"));
        assert_eq!(classify_login("iis apppool\\Shop"), Login::PoolIdentity("Shop"));
        assert_eq!(classify_login("CONTOSO\\WEB01$"), Login::MachineAccount);
        assert_eq!(classify_login("CONTOSO\\svc-shop"), Login::Windows);
        assert_eq!(classify_login("shop_app"), Login::Sql);
        assert_eq!(classify_login("IIS APPPOOL"), Login::Sql);
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
