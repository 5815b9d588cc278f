//! `db-login-failure`: SQL Server 18456, read for the identity that failed.
//! The pool identity or machine account IIS really uses (not the developer
//! who tested the connection string), a connection-string login whose
//! password or mode changed, or a burst of many logins that is password
//! guessing. On the web server, Security 4624 shows when a pool's identity
//! was switched, and ASP.NET 1309 the application's side of the failure.

use std::collections::BTreeMap;

use faultline_parser::winevent::sql_login_failed;
use faultline_parser::{Span, Timestamp};

use super::kinds::{APP_ERRORS, ASPNET_REQUEST_FAILED, LOGON, SQL_LOGIN_FAILED};
use super::{Draft, FailureMode, host_clusters};
use crate::evidence::{EventRow, Store};
use crate::finding::{Role, Severity};

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
    if let Some(pool) = faultline_parser::winevent::pool_of_identity(name) {
        Login::PoolIdentity(pool)
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

/// What to do about logins someone guessed: never create them.
const GUESSING_REMEDY: [&str; 3] = [
    "Do not create the logins tried: find who owns the client address, and block it at the firewall if \
        it is not yours.",
    "Look for a login that succeeded from the same client (SQL Server 18453/18454, or the ERRORLOG), \
        disable or rename sa, and require Windows authentication where the apps allow it.",
    "If the client is one of your web servers, look there for a web shell or a compromised app (the \
        security lens's detections on that host).",
];

/// What to do about SQL logins a server that takes Windows logins only
/// refused, from a client no web server of the evidence is.
const WINDOWS_ONLY_REMEDY: [&str; 2] = [
    "Find who owns the client address: a client of yours still configured with a SQL login (from before the \
        server's authentication mode changed) needs a Windows login or a managed identity; one that is not \
        yours is probing, and the firewall should keep it from the server.",
    "Leave the server's Windows-only mode as it is; turning mixed mode on for this client would also open \
        SQL logins (sa) to whoever is guessing.",
];

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

// 18456's positional data: login, "Reason: ...", "[CLIENT: address]".

fn login_of(e: &EventRow) -> String {
    sql_login_failed(&e.event).login.unwrap_or("-").to_string()
}

fn reason_of(e: &EventRow) -> Option<String> {
    sql_login_failed(&e.event).reason.map(|r| r.trim_end_matches('.').to_string())
}

fn client_of(e: &EventRow) -> Option<String> {
    sql_login_failed(&e.event).client.map(str::to_string)
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
fn identity_change<'a>(store: &'a Store, host: &str, login: &str, at: Timestamp) -> IdentityChange<'a> {
    let on_host = |e: &&EventRow| &*e.host == host && e.time() <= at + Span::hours(1);
    let app_error = store
        .events_of(ASPNET_REQUEST_FAILED)
        .filter(on_host)
        .find(|e| e.event.data.iter().any(|d| d.value.contains(login)));
    let pool = match classify_login(login) {
        Login::PoolIdentity(p) => Some(p.to_string()),
        _ => app_error.and_then(process_account).and_then(|acct| match classify_login(acct) {
            Login::PoolIdentity(p) => Some(p.to_string()),
            _ => None,
        }),
    };
    let virtual_logon = |e: &EventRow| {
        e.data("LogonType") == Some("5")
            && e.data("TargetDomainName").is_some_and(|d| d.eq_ignore_ascii_case("IIS APPPOOL"))
            && pool
                .as_deref()
                .is_none_or(|p| e.data("TargetUserName").is_some_and(|u| u.eq_ignore_ascii_case(p)))
    };
    // The first virtual-account logon that follows a custom-account one.
    let mut before = None;
    let mut after = None;
    for e in store.events_of(LOGON).filter(on_host) {
        if e.data("LogonType") == Some("4") {
            let account = format!(
                "{}\\{}",
                e.data("TargetDomainName").unwrap_or("-"),
                e.data("TargetUserName").unwrap_or("-")
            );
            before = Some((e, account));
            after = None;
        } else if virtual_logon(e) && before.is_some() && after.is_none() {
            after = Some(e);
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

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    for c in host_clusters(store.events_of(SQL_LOGIN_FAILED), Span::hours(1)) {
        if c.len() >= 3 {
            out.push(finding(store, &c));
        }
    }
}

/// The burst's explanation: who failed to log on, and why that matters.
fn explain(c: &[&EventRow], logins: &BTreeMap<String, usize>, top: &str) -> (Severity, f64, String) {
    let first = c[0];
    let why = reason_of(first).map_or(String::new(), |r| format!(" ({r})"));
    let mut clients: Vec<String> = c.iter().filter_map(|e| client_of(e)).collect();
    clients.sort_unstable();
    clients.dedup();
    let from = match clients.len() {
        0 => String::new(),
        1..=3 => format!(" from {}", clients.join(", ")),
        n => format!(" from {} and {} more clients", clients[..3].join(", "), n - 3),
    };
    if logins.len() >= GUESSING_LOGINS {
        // A login refused for its password exists on the server: those
        // are the ones guessing can open, named first (sa, root).
        let mut existing: Vec<String> = c
            .iter()
            .filter(|e| reason_of(e).is_some_and(|r| r.contains("Password did not match")))
            .map(|e| login_of(e))
            .collect();
        existing.sort_unstable();
        existing.dedup();
        let rest = logins.keys().filter(|l| !existing.contains(l));
        let names = existing.iter().chain(rest).take(5).map(String::as_str).collect::<Vec<_>>().join(", ");
        let exist = match existing.as_slice() {
            [] => String::new(),
            [one] => format!(
                " {one} exists on the server (refused for its password, not its name): the login to protect."
            ),
            [many @ .., last] => format!(
                " {} and {last} exist on the server (refused for their passwords, not their names): the logins \
                    to protect.",
                many.join(", ")
            ),
        };
        return (
            Severity::Low,
            0.3,
            format!(
                "SQL Server rejected {} logins for {} different accounts{from} ({names}): many accounts from \
                    one client looks like password guessing, not an identity IIS uses. If a web server is \
                    that client, one of its apps is misconfigured or compromised.{exist}",
                c.len(),
                logins.len(),
            ),
        );
    }
    // The other accounts of the burst, named after the main one.
    let others: Vec<&str> = logins.keys().map(String::as_str).filter(|l| *l != top).take(3).collect();
    let top_and_others =
        if others.is_empty() { top.to_string() } else { format!("{top} (and {})", others.join(", ")) };
    let kind = classify_login(top);
    let who = match kind {
        Login::PoolIdentity(p) => format!(
            "{top_and_others}, the identity of app pool {p} (ApplicationPoolIdentity against a local SQL \
                Server), has no login there"
        ),
        Login::MachineAccount => format!(
            "{top_and_others} is the web server's machine account: a pool running as \
                ApplicationPoolIdentity, NetworkService or LocalSystem reaches a remote SQL Server as the \
                machine, not as the developer who tested the connection string"
        ),
        Login::Windows => {
            format!(
                "{top_and_others} is the Windows identity the app runs as (a custom pool identity, or \
                    impersonation)"
            )
        }
        Login::Sql if reason_of(first).is_some_and(|r| r.contains("Windows authentication only")) => format!(
            "{top_and_others} is a SQL Server login, and the server accepts Windows authentication only: it \
                refuses every SQL login whatever its password (its authentication mode was changed, or this \
                client never got in)"
        ),
        Login::Sql => format!(
            "{top_and_others} is a SQL Server login from a connection string: its password, its state or the \
                server's authentication mode changed"
        ),
    };
    let confidence = if matches!(kind, Login::PoolIdentity(_) | Login::MachineAccount) { 0.95 } else { 0.85 };
    let text = format!(
        "SQL Server rejected {} logins{from}{why}: {who}, so every database call that uses it fails.",
        c.len()
    );
    (Severity::High, confidence, text)
}

fn finding(store: &Store, c: &[&EventRow]) -> Draft {
    let first = c[0];
    let mut logins: BTreeMap<String, usize> = BTreeMap::new();
    for e in c {
        *logins.entry(login_of(e)).or_default() += 1;
    }
    let top = logins
        .iter()
        .max_by_key(|(name, n)| (**n, std::cmp::Reverse(*name)))
        .map_or_else(String::new, |(name, _)| name.clone());
    let (severity, mut confidence, mut text) = explain(c, &logins, &top);
    // Where the failing identity runs: the web server a machine account
    // names, or this host for a pool identity against a local server.
    let web_host = match classify_login(&top) {
        Login::MachineAccount if logins.len() < GUESSING_LOGINS => machine_host(&top),
        Login::PoolIdentity(_) => Some(first.host.to_string()),
        _ => None,
    };
    let change = web_host.map(|h| identity_change(store, &h, &top, first.time()));
    let pool = change.as_ref().and_then(|c| c.pool.clone());
    if let Some(ch) = &change {
        let pool_name = ch.pool.as_deref().unwrap_or("the pool");
        if let (Some((_, account)), Some(after)) = (&ch.before, ch.after) {
            let lead = (first.time() - after.time()).as_mins();
            text.push_str(&format!(
                " On {}, {pool_name}'s workers logged on as {account} and then, {lead} minute{} before the \
                    first failure, as IIS APPPOOL\\{pool_name}: the pool's identity was switched to \
                    ApplicationPoolIdentity, and that identity has no login on the SQL Server.",
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
    // Tied to a web server in the evidence: the login is a web server's
    // identity, the SQL Server runs on one, or an application there names
    // the login in its errors. Otherwise it is a SQL Server's own trouble
    // (a probe, another client), not a web application's outage.
    let app_names_login = store.events_of(APP_ERRORS).any(|e| {
        store.serves_web(&e.host)
            && e.event.data.iter().any(|d| logins.keys().any(|l| d.value.contains(l.as_str())))
    });
    let tied = change.as_ref().is_some_and(|ch| store.serves_web(&ch.host))
        || store.serves_web(&first.host)
        || store.ran_iis_worker(&first.host)
        || app_names_login;
    let severity = if tied {
        severity
    } else {
        text.push_str(
            " No web server in the evidence uses this login (no IIS host's pool identity, machine account \
                or application error names it): SQL Server's own record, not a web application's outage.",
        );
        Severity::Info
    };
    // The scope is the web server whose identity was refused, when known;
    // the SQL Server that logged it is in the evidence.
    let scope_host = change.as_ref().filter(|ch| store.serves_web(&ch.host)).map(|ch| ch.host.clone());
    let mut d =
        Draft::new(FailureMode::DbLoginFailure, severity, confidence, first.time(), c[c.len() - 1].time())
            .scope(Some(scope_host.as_deref().unwrap_or(&first.host)), None, pool.as_deref())
            .explain(text);
    // Other web servers' machine accounts refused in the same burst: the
    // same cause, whose application errors there it explains.
    if logins.len() < GUESSING_LOGINS {
        let scoped = d.scope.host.clone();
        d.also_on = logins
            .keys()
            .filter(|l| matches!(classify_login(l), Login::MachineAccount))
            .filter_map(|l| machine_host(l))
            .filter(|h| Some(h) != scoped.as_ref() && store.serves_web(h))
            .collect();
        if !d.also_on.is_empty() {
            d.explanation.push_str(&format!(
                " The same cause fails {} too: the machine account is refused in the same burst, and the \
                    application's errors in this window are this finding's.",
                d.also_on.join(" and ")
            ));
        }
    }
    if tied {
        said_impact(store, &mut d);
    }
    let windows_only =
        c.iter().any(|e| reason_of(e).is_some_and(|r| r.contains("Windows authentication only")));
    if windows_only && !tied {
        // The server already takes Windows logins only: no password or
        // sa advice applies; who the client is does.
        d = d.remedy(&WINDOWS_ONLY_REMEDY);
    } else if logins.len() >= GUESSING_LOGINS || !tied {
        // The mode's own advice (create the login) would create the
        // accounts someone guessed, or one no app of ours asked for.
        d = d.remedy(&GUESSING_REMEDY);
    }
    for e in c.iter().take(8) {
        let summary = format!(
            "{} 18456: login {} failed{}{}",
            e.event.provider,
            login_of(e),
            reason_of(e).map_or(String::new(), |r| format!(" ({r})")),
            client_of(e).map_or(String::new(), |c| format!(" from {c}"))
        );
        d.cite(store.cite_event(e, summary), Role::Cause);
    }
    if let Some(ch) = change {
        if let Some((e, account)) = ch.before {
            d.cite(
                store.cite_event(e, format!("Security 4624: worker logon (batch) as {account}")),
                Role::Context,
            );
        }
        if let Some(e) = ch.after {
            let user = e.data("TargetUserName").unwrap_or("-");
            let summary = format!("Security 4624: worker logon (service) as IIS APPPOOL\\{user}");
            d.cite(store.cite_event(e, summary), Role::Cause);
        }
        if let Some(e) = ch.app_error {
            let account = process_account(e).unwrap_or("-");
            let summary = format!(
                "ASP.NET 1309: the application, running as {account}, failed to log on to SQL Server"
            );
            d.cite(store.cite_event(e, summary), Role::Effect);
        }
    }
    d
}

/// What users saw on the web servers the finding names, from their access
/// logs' minutes: each site whose 5xx rose in the finding's minutes over
/// as many minutes before (`on WEB01, site 2 answered 15 of 25 requests
/// with 5xx`), so that a site failing all day for its own reasons is not
/// told as this outage's. When one site of the scoped host rose, it is the
/// finding's site.
fn said_impact(store: &Store, d: &mut Draft) {
    let hosts: Vec<String> = d.scope.host.iter().cloned().chain(d.also_on.iter().cloned()).collect();
    let (from, to) = (d.start.minute(), d.end.minute());
    let before = (from - (to - from + 1))..from;
    let mut said: Vec<String> = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        // Per site: 5xx and requests in the window, 5xx before it.
        let mut per_site: BTreeMap<Option<u32>, (u32, u32, u32)> = BTreeMap::new();
        for ((h, site, minute), m) in &store.minutes {
            if &**h != host.as_str() {
                continue;
            }
            let e = per_site.entry(*site).or_default();
            if (from..=to).contains(minute) {
                e.0 += m.by_class[5];
                e.1 += m.total;
            } else if before.contains(minute) {
                e.2 += m.by_class[5];
            }
        }
        let rose: Vec<(Option<u32>, (u32, u32, u32))> =
            per_site.into_iter().filter(|(_, (n, _, earlier))| *n > *earlier).collect();
        if i == 0
            && d.scope.site.is_none()
            && let [(Some(site), _)] = rose.as_slice()
        {
            d.scope.site = Some(site.to_string());
        }
        for (site, (n, total, _)) in rose {
            let site = site.map_or_else(|| "its site".to_string(), |s| format!("site {s}"));
            said.push(format!("on {host}, {site} answered {n} of {total} requests with 5xx"));
        }
    }
    if !said.is_empty() {
        d.explanation.push_str(&format!(
            " In the same minutes, with more 5xx than in as many minutes before: {}.",
            said.join("; ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::Given;

    fn failed(e: Given, secs: i64, login: &str) -> Given {
        e.positional(
            "SQL01",
            secs,
            "MSSQLSERVER",
            18456,
            &[login, "Reason: Could not find a login matching the name provided.", "[CLIENT: 10.0.0.21]"],
        )
    }

    #[test]
    fn logins_are_classified_by_whose_identity_they_are() {
        assert_eq!(classify_login("IIS APPPOOL\\Shop"), Login::PoolIdentity("Shop"));
        assert_eq!(classify_login("iis apppool\\Shop"), Login::PoolIdentity("Shop"));
        assert_eq!(classify_login("CONTOSO\\WEB01$"), Login::MachineAccount);
        assert_eq!(classify_login("CONTOSO\\svc-shop"), Login::Windows);
        assert_eq!(classify_login("shop_app"), Login::Sql);
        assert_eq!(classify_login("IIS APPPOOL"), Login::Sql);
        assert_eq!(machine_host("CONTOSO\\web01$").as_deref(), Some("WEB01"));
    }

    #[test]
    fn a_machine_account_login_is_traced_to_the_identity_switch_on_its_web_server() {
        let mut e = Given::new()
            .requests(3, "WEB01", 1, 0, "/", (200, 0, 0), 10)
            .event(
                "WEB01",
                0,
                "Microsoft-Windows-Security-Auditing",
                4624,
                &[("LogonType", "4"), ("TargetDomainName", "CONTOSO"), ("TargetUserName", "svc-shop")],
            )
            .event(
                "WEB01",
                600,
                "Microsoft-Windows-Security-Auditing",
                4624,
                &[("LogonType", "5"), ("TargetDomainName", "IIS APPPOOL"), ("TargetUserName", "ShopPool")],
            );
        for i in 0..3 {
            e = failed(e, 900 + i, "CONTOSO\\WEB01$");
        }
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity, d.confidence), (FailureMode::DbLoginFailure, Severity::High, 0.97));
        assert!(d.explanation.contains("web server's machine account"), "{}", d.explanation);
        assert!(d.explanation.contains("5 minutes before the first failure"), "{}", d.explanation);
        assert_eq!(d.scope.host.as_deref(), Some("WEB01"), "the web server whose identity was refused");
    }

    /// The corpus's db-login-failure: WEB01's and WEB02's machine accounts
    /// refused in one burst. The finding is scoped to WEB01, whose identity
    /// switch is in the evidence, and names WEB02, whose application's
    /// SqlException is then no application exception of its own.
    #[test]
    fn another_web_servers_machine_account_in_the_burst_is_the_same_cause() {
        let mut e = Given::new()
            .requests(3, "WEB01", 1, 0, "/", (200, 0, 0), 10)
            .requests(3, "WEB02", 1, 0, "/", (200, 0, 0), 10)
            .requests(2, "WEB02", 1, 905, "/api/orders", (500, 0, 0), 10)
            // A burst of 500s there too, against a quiet hour, which
            // `unexplained` would report.
            .requests(30, "WEB02", 1, 906, "/api/orders", (500, 0, 0), 10)
            // Another site failing as much before as during: its own.
            .requests(5, "WEB02", 3, 845, "/old.asp", (500, 100, 0), 10)
            .requests(5, "WEB02", 3, 910, "/old.asp", (500, 100, 0), 10)
            .positional(
                "WEB02",
                904,
                "ASP.NET 4.0.30319.0",
                1309,
                &[
                    "3005",
                    "An unhandled exception has occurred.",
                    "SqlException",
                    "Login failed for user 'CONTOSO\\WEB02$'.",
                ],
            );
        for minute in 2..12 {
            e = e.request("WEB02", 1, minute * 60 + 30, "/", (200, 0, 0), 10);
        }
        for i in 0..3 {
            e = failed(e, 900 + 2 * i, "CONTOSO\\WEB01$");
            e = failed(e, 901 + 2 * i, "CONTOSO\\WEB02$");
        }
        let store = e.store();
        let findings = crate::detect::run(&store);
        let got: Vec<(FailureMode, Option<&str>)> =
            findings.iter().map(|f| (f.id, f.scope.host.as_deref())).collect();
        assert_eq!(got, [(FailureMode::DbLoginFailure, Some("WEB01"))], "{findings:#?}");
        assert!(
            findings[0].explanation.contains("The same cause fails WEB02 too"),
            "{}",
            findings[0].explanation
        );
        assert!(
            findings[0].explanation.contains(
                "In the same minutes, with more 5xx than in as many minutes before: on WEB02, site 1 answered 32 of 32 requests with 5xx."
            ),
            "{}",
            findings[0].explanation
        );
        assert!(!findings[0].explanation.contains("site 3"), "{}", findings[0].explanation);
    }

    #[test]
    fn many_accounts_from_one_client_are_guessing_not_an_identity() {
        let mut e = Given::new();
        for (i, login) in ["sa", "admin", "root", "test", "sa"].iter().enumerate() {
            e = failed(e, i as i64, login);
        }
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].confidence), (Severity::Info, 0.3));
        assert!(found[0].explanation.contains("password guessing"));
        assert!(found[0].explanation.contains("No web server in the evidence uses this login"));
        assert!(
            found[0].remediation[0].starts_with("Do not create the logins tried"),
            "{:?}",
            found[0].remediation
        );
        // sbousseaden's MSEDGEWIN10: sa and root refused for their
        // passwords (they exist) among certificate logins, on a machine
        // whose Sysmon shows w3wp: low, the existing logins named first.
        let mut guessed = Given::new().event(
            "SQL01",
            0,
            "Microsoft-Windows-Sysmon",
            1,
            &[
                ("Image", "C:\\Windows\\System32\\cmd.exe"),
                ("ParentImage", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
            ],
        );
        for (i, login) in ["##MS_A##", "##MS_B##", "root", "sa"].iter().enumerate() {
            let reason = if login.starts_with("##") {
                "Reason: Attempting to use an NT account name with SQL Server Authentication."
            } else {
                "Reason: Password did not match that for the login provided."
            };
            guessed = guessed.positional(
                "SQL01",
                i as i64,
                "MSSQLSERVER",
                18456,
                &[login, reason, "[CLIENT: 10.0.2.17]"],
            );
        }
        let found = guessed.detected(detect);
        assert_eq!(found[0].severity, Severity::Low, "the SQL Server runs a web server's worker");
        assert!(found[0].explanation.contains("(root, sa, ##MS_A##, ##MS_B##)"), "{}", found[0].explanation);
        assert!(
            found[0].explanation.contains(" root and sa exist on the server"),
            "{}",
            found[0].explanation
        );
        // One identity failing on a server that serves the web keeps the
        // mode's own advice; with no web server in the evidence, an
        // unknown client's login is not created either.
        let mut one = Given::new().requests(3, "SQL01", 1, 0, "/", (200, 0, 0), 10);
        for i in 0..3 {
            one = failed(one, i, "shop_app");
        }
        assert!(one.detected(detect)[0].remediation[0].starts_with("Create the login"));
        let mut probe = Given::new();
        for i in 0..3 {
            probe = failed(probe, i, "unexisting-user");
        }
        assert!(probe.detected(detect)[0].remediation[0].starts_with("Do not create the logins tried"));
    }

    /// hayabusa's MSSQL01: SQL logins refused because the server takes
    /// Windows authentication only; no password or login state explains it.
    #[test]
    fn windows_only_authentication_is_named_as_the_reason() {
        let mut e = Given::new();
        for i in 0..3 {
            e = e.positional(
                "SQL01",
                i,
                "MSSQL$RADAR",
                18456,
                &[
                    "unexisting-user",
                    "Reason: An attempt to login using SQL authentication failed. Server is configured for \
                        Windows authentication only.",
                    "[CLIENT: 10.23.23.9]",
                ],
            );
        }
        let d = &e.detected(detect)[0];
        assert!(d.explanation.contains("accepts Windows authentication only"), "{}", d.explanation);
        assert!(!d.remediation.iter().any(|r| r.contains("rename sa")), "{:?}", d.remediation);
        assert!(d.remediation[0].starts_with("Find who owns the client address"), "{:?}", d.remediation);
        assert!(!d.explanation.contains("its password, its state"), "{}", d.explanation);
    }

    #[test]
    fn a_login_the_web_application_names_is_its_outage() {
        let mut e = Given::new().requests(3, "WEB01", 1, 0, "/", (200, 0, 0), 10).positional(
            "WEB01",
            5,
            ".NET Runtime",
            1000,
            &["Category: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware\nEventId: 1\n\nException: \
                Microsoft.Data.SqlClient.SqlException: Login failed for user 'shop_app'."],
        );
        for i in 0..3 {
            e = failed(e, i, "shop_app");
        }
        assert_eq!(e.detected(detect)[0].severity, Severity::High);
        let mut alone = Given::new();
        for i in 0..3 {
            alone = failed(alone, i, "shop_app");
        }
        assert_eq!(alone.detected(detect)[0].severity, Severity::Info, "no web server uses it");
    }

    #[test]
    fn two_failed_logins_are_not_an_incident() {
        let e = failed(failed(Given::new(), 0, "shop_app"), 5, "shop_app");
        assert!(e.detected(detect).is_empty());
    }
}
