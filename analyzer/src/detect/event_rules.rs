//! Failure modes whose decisive evidence is one kind of event, read for
//! what its data says: TLS key access, handshakes and SSL bindings,
//! ephemeral ports, site bindings, HTTP.sys logging, cleared event logs,
//! HTTP logging switched off, app_offline deployments.

use faultline_parser::{Span, Timestamp};

use super::kinds::{
    ANCM_CYCLE, ANCM_START_FAILED, ANCM_STARTED, APP_OFFLINE, BOOT_MARKS, DEPLOYMENT_REPORTS,
    DISK_NEAR_CAPACITY, HTTP_BIND_FAILED, HTTP_LOG_WRITE_FAILED, IIS_CONFIG_CHANGED, LOG_CLEARED,
    PACKAGE_MOUNT, PORTS_EXHAUSTED, PROCESS_STARTED, SERVICE_CHANGED, SERVICE_INSTALLED, SITE_URL_CONFLICT,
};
use super::{Draft, FailureMode, host_clusters};
use crate::describe::headline;
use crate::evidence::{EventRow, Store};
use crate::finding::{Role, Severity};
use crate::logging_switch::{Switch, logging_switch};

/// The finding a cluster of one host's events makes on their own: from
/// the first to the last, surer with three or more, `text` and their count
/// said, the first eight cited as its cause.
fn cluster_finding(
    store: &Store,
    c: &[&EventRow],
    mode: FailureMode,
    severity: Severity,
    text: &str,
) -> Draft {
    let first = c[0];
    let confidence = if c.len() >= 3 { 0.9 } else { 0.8 };
    let mut d = Draft::new(mode, severity, confidence, first.time(), c[c.len() - 1].time())
        .scope(Some(&first.host), None, None)
        .explain(format!("{text} ({} events)", c.len()));
    for e in c.iter().take(8) {
        d.cite(store.cite_event(e, headline(&e.event)), Role::Cause);
    }
    d
}

/// Tcpip 4227 and 4231: the server ran out of outbound ephemeral ports;
/// one is a finding.
fn ports_exhausted(store: &Store, out: &mut Vec<Draft>) {
    for c in host_clusters(store.events_of(PORTS_EXHAUSTED), Span::hours(1)) {
        let mut d = cluster_finding(
            store,
            &c,
            FailureMode::PortExhaustion,
            Severity::High,
            "The server ran out of outbound ephemeral ports (Tcpip 4227/4231): the application opens connections \
                faster than TIME_WAIT releases them, so downstream calls fail under load.",
        );
        // The application's own calls that failed for it: which pool,
        // site and endpoints, until when.
        let (first, last) = (c[0].time(), c[c.len() - 1].time());
        let failed: Vec<super::app_exception::Wait<'_>> = super::app_exception::waits_between(
            store,
            &c[0].host,
            first - Span::mins(10),
            last + Span::hours(1),
        )
        .into_iter()
        .filter(|w| w.exception.cause == crate::exception::Cause::PortExhaustion)
        .collect();
        if let (Some(w), Some(until)) = (failed.first(), failed.last()) {
            let pool = failed
                .iter()
                .find_map(|w| w.account.as_deref().and_then(faultline_parser::winevent::pool_of_identity));
            let site = failed.iter().find_map(|w| w.event.metabase_site());
            let mut paths: Vec<&str> = failed.iter().filter_map(|w| w.path.as_deref()).collect();
            paths.sort_unstable();
            paths.dedup();
            d.explanation.push_str(&format!(
                " The application's calls failed for it: {} from {} to {}{}{} ({}: {}).",
                if failed.len() == 1 {
                    "1 exception".to_string()
                } else {
                    format!("{} exceptions", failed.len())
                },
                w.event.time().to_prose(),
                until.event.time().to_prose(),
                pool.map_or(String::new(), |p| format!(" in {p}")),
                if paths.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", crate::describe::listed(&paths, 3))
                },
                w.exception.type_name,
                w.exception.message.trim_end_matches('.')
            ));
            d.end = d.end.max(until.event.time());
            d.scope.app_pool = pool.map(str::to_string);
            d.scope.site = site.map(|s| s.to_string());
            d.cite_first(failed.iter(), 3, Role::Effect, |w| {
                store.cite_event(w.event, headline(&w.event.event))
            });
        }
        d.add_steps(&[
            "See which remote endpoint holds the ports: netstat -ano shows the connections in TIME_WAIT by \
                remote address and the owning PID; widening the dynamic port range (netsh int ipv4 set dynamicport) \
                only buys time.",
        ]);
        out.push(d);
    }
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    cleared_logs(store, out);
    event_log_restarted(store, out);
    deployments(store, out);
    package_not_mounted(store, out);
    kudu_deployment_failed(store, out);
    logging_switched_off(store, out);
    tls::detect(store, out);
    binding_conflicts(store, out);
    logs_not_written(store, out);
    ports_exhausted(store, out);
}

/// HttpEvent 15000-15002 (a site's access log) and 15011-15013 (the
/// HTTPERR log): HTTP.sys could not write a log, so the evidence has a
/// hole from then until the log was written again (the site's next logged
/// request), or to the end of what the host's evidence covers. The site
/// went on serving: the hole is missing evidence, not an idle site. A disk
/// reported near capacity before it (Srv 2013) is cited as why.
fn logs_not_written(store: &Store, out: &mut Vec<Draft>) {
    for c in host_clusters(store.events_of(HTTP_LOG_WRITE_FAILED), Span::hours(1)) {
        let first = c[0];
        let host = &first.host;
        let mut sites: Vec<u32> =
            c.iter().filter_map(|e| e.data("SiteId").and_then(|s| s.trim().parse().ok())).collect();
        sites.sort_unstable();
        sites.dedup();
        let site = (sites.len() == 1).then(|| sites[0]);
        let access = c.iter().any(|e| e.event.event_id <= 15002);
        let errors = c.iter().any(|e| e.event.event_id >= 15011);
        let which = match (access, errors, site) {
            (true, true, Some(s)) => format!("the access log of site {s} and the HTTPERR log"),
            (true, true, None) => "the access logs and the HTTPERR log".to_string(),
            (true, false, Some(s)) => format!("the access log of site {s}"),
            (true, false, None) => "the access logs".to_string(),
            (false, _, _) => "the HTTPERR log".to_string(),
        };
        // Written again: the site's next logged request after the last
        // failure, else the hole lasts to the last thing the host's
        // evidence says.
        let last = c[c.len() - 1].time();
        let resumed = access
            .then(|| {
                store
                    .requests_between(last + Span::secs(1), Timestamp(i64::MAX))
                    .iter()
                    .find(|r| r.host == *host && site.is_none_or(|s| r.site == Some(s)))
            })
            .flatten()
            .map(|r| r.time);
        let host_end = store
            .events
            .iter()
            .rev()
            .find(|e| e.host == *host)
            .map(EventRow::time)
            .into_iter()
            .chain(store.errors.iter().rev().find(|r| r.host == *host).map(|r| r.time))
            .max()
            .unwrap_or(last)
            .max(last);
        let (end, until) = match resumed {
            Some(t) => (t, format!("until {}, when it logged again", t.to_prose())),
            None => (host_end, "to the end of what this host's evidence covers".to_string()),
        };
        let full: Vec<&EventRow> = store
            .events_between(DISK_NEAR_CAPACITY, first.time() - Span::hours(24), first.time())
            .filter(|e| e.host == *host)
            .collect();
        let mut text = format!(
            "HTTP.sys could not write {which} from {} (HttpEvent {}): the log volume was full or could not be \
                written. Requests went on being served but were not logged {until}: that stretch is missing \
                evidence, not an idle site. ({} events)",
            first.time().to_prose(),
            {
                let mut ids: Vec<u16> = c.iter().map(|e| e.event.event_id).collect();
                ids.sort_unstable();
                ids.dedup();
                ids.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
            },
            c.len()
        );
        if let Some(f) = full.first() {
            text.push_str(&format!(
                " The disk {} was reported at or near capacity from {} (Srv 2013, {} times).",
                f.data_at(1).map(str::trim).filter(|d| !d.is_empty()).unwrap_or("holding the logs"),
                f.time().to_prose(),
                full.len()
            ));
        }
        let mut d = Draft::new(FailureMode::MissingLogs, Severity::High, 0.85, first.time(), end)
            .scope(Some(host), site, None)
            .explain(text);
        for e in c.iter().take(8) {
            d.cite(store.cite_event(e, headline(&e.event)), Role::Cause);
        }
        for e in full.iter().take(2) {
            d.cite(store.cite_event(e, headline(&e.event)), Role::Cause);
        }
        out.push(d);
    }
}

/// W3SVC 1004/1007 (a site's URL could not be registered) and HttpEvent
/// 15005 (HTTP.sys could not bind an address) on a host within minutes of
/// each other: one conflict, for the sites and addresses they name. A
/// service installed in the day before is cited as the likeliest owner of
/// the port: a program listening with Winsock, which HTTP.sys's own
/// tables do not show.
fn binding_conflicts(store: &Store, out: &mut Vec<Draft>) {
    let events = store.events_of(SITE_URL_CONFLICT).chain(store.events_of(HTTP_BIND_FAILED));
    let mut events: Vec<&EventRow> = events.collect();
    events.sort_by_key(|e| (e.time(), e.event.record_id));
    for c in host_clusters(events.into_iter(), Span::mins(10)) {
        let first = c[0];
        let mut sites: Vec<u32> =
            c.iter().filter_map(|e| e.data("SiteID").and_then(|s| s.trim().parse().ok())).collect();
        sites.sort_unstable();
        sites.dedup();
        let mut named: Vec<&str> = c
            .iter()
            .filter_map(|e| e.data("UrlPrefix").or_else(|| e.data("IpAddressPort")))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        named.sort_unstable();
        named.dedup();
        let who = match sites.as_slice() {
            [] => "A site".to_string(),
            [one] => format!("Site {one}"),
            more => format!("Sites {}", more.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")),
        };
        let what = if named.is_empty() { String::new() } else { format!(" ({})", named.join(", ")) };
        let mut text = format!(
            "{who} could not listen{what}: W3SVC could not register its URL with HTTP.sys, or HTTP.sys could not \
                bind the address (W3SVC 1004/1007, HttpEvent 15005): another site, or another program, holds \
                the address and port. The site serves nothing there until what holds it lets go and the site is \
                started again. ({} events)",
            c.len()
        );
        let installed: Vec<&EventRow> = store
            .events_between(SERVICE_INSTALLED, first.time() - Span::hours(24), first.time())
            .filter(|e| e.host == first.host)
            .collect();
        if let Some(s) = installed.last() {
            text.push_str(&format!(
                " A service was installed at {} ({}, {}): a program of its own that listens on the port is the \
                    likeliest holder.",
                s.time().to_prose(),
                s.data("ServiceName").unwrap_or("-"),
                s.data("ImagePath").map(str::trim).unwrap_or("-")
            ));
        }
        let mut d = Draft::new(
            FailureMode::BindingConflict,
            Severity::Critical,
            if c.len() >= 2 { 0.9 } else { 0.8 },
            first.time(),
            c[c.len() - 1].time(),
        )
        .scope(Some(&first.host), (sites.len() == 1).then(|| sites[0]), None)
        .explain(text)
        .remedy(&[
            "Find what holds the port: netstat -ano -p tcp | findstr :PORT gives the listening process's PID \
                (tasklist /fi \"PID eq N\" names it; PID 4 is HTTP.sys, and then netsh http show servicestate \
                names the site or application registered there). A program listening with Winsock does not \
                show in netsh http's tables.",
            "Stop or reconfigure that program (or change the site's binding), then start the site; check the IP \
                listen list (netsh http show iplisten) holds the address the binding names.",
        ]);
        for e in c.iter().take(8) {
            d.cite(store.cite_event(e, headline(&e.event)), Role::Cause);
        }
        for s in installed.iter().rev().take(2) {
            d.cite(store.cite_event(s, headline(&s.event)), Role::Context);
        }
        out.push(d);
    }
}

/// Channels whose history an IIS investigation reads.
fn matters_to_iis(channel: &str) -> bool {
    let c = channel.to_ascii_lowercase();
    matches!(c.as_str(), "system" | "application" | "security")
        || c.starts_with("microsoft-iis")
        || c.starts_with("microsoft-windows-iis")
        || c.starts_with("microsoft-windows-httpevent")
}

/// Whether a channel holds what an intrusion through IIS leaves behind
/// outside IIS's own logs: the programs the worker started, their
/// connections and files (Sysmon), the commands a shell ran (PowerShell),
/// the tasks and services it left to come back (Task Scheduler, WMI's
/// subscriptions), the remote sessions it opened (Terminal Services,
/// WinRM).
fn matters_to_intrusion(channel: &str) -> bool {
    let c = channel.to_ascii_lowercase();
    // Windows PowerShell's two logs and PowerShell 7's (PowerShellCore).
    c == "microsoft-windows-sysmon/operational"
        || c.contains("powershell")
        || c.starts_with("microsoft-windows-taskscheduler")
        || c.starts_with("microsoft-windows-wmi-activity")
        || c.starts_with("microsoft-windows-terminalservices")
        || c.starts_with("microsoft-windows-winrm")
}

/// What an IIS investigation reads in a channel, which clearing it erased.
fn erased_history(channel: &str) -> &'static str {
    match channel.to_ascii_lowercase().as_str() {
        "security" => "its logon, process-start and audit-policy history",
        "system" => "its WAS, W3SVC, HTTP.sys, service and boot history",
        "application" => "its crash and application-error history (.NET Runtime, ASP.NET, ANCM)",
        "microsoft-windows-sysmon/operational" => {
            "its process-start, network and file-creation history (where a worker's shells and a web \
             shell's connections show)"
        }
        c if c.contains("powershell") => "its history of the commands PowerShell ran",
        c if c.starts_with("microsoft-windows-taskscheduler") => {
            "its history of the scheduled tasks created and run (where an intruder's persistence shows)"
        }
        c if c.starts_with("microsoft-windows-wmi-activity") => {
            "its history of WMI's activity (where a permanent event subscription, an intruder's persistence, \
             shows)"
        }
        c if c.starts_with("microsoft-windows-terminalservices")
            || c.starts_with("microsoft-windows-winrm") =>
        {
            "its history of the remote sessions opened to the server"
        }
        _ => "IIS's own history in that channel",
    }
}

/// Each cleared log is its own finding, weighed by what it erased: the
/// System, Application and Security logs (WAS, W3SVC, crashes, logons) and
/// IIS's own channels matter, on a web server most; Sysmon's and
/// PowerShell's hold an intrusion's traces (a medium finding on a web
/// server; on a workstation, background); any other channel is
/// background.
fn cleared_logs(store: &Store, out: &mut Vec<Draft>) {
    for e in store.events_of(LOG_CLEARED) {
        // 1102 is the Security log clearing itself; 104 names the channel.
        let channel = match e.event.event_id {
            1102 => "Security".to_string(),
            _ => e.data("Channel").or(e.event.channel.as_deref()).unwrap_or("-").to_string(),
        };
        let by = super::subject_account(e).map_or(String::new(), |a| format!(" by {a}"));
        let web = store.serves_web(&e.host) || store.ran_iis_worker(&e.host);
        let erased = erased_history(&channel);
        let gone = if web {
            format!("on a web server: {erased} is gone")
        } else {
            format!("{erased} is gone (no IIS evidence on this host in the collection)")
        };
        let (severity, weight) = match (matters_to_iis(&channel), matters_to_intrusion(&channel), web) {
            (true, _, true) => (Severity::High, gone),
            (true, _, false) | (false, true, true) => (Severity::Medium, gone),
            (false, true, false) => (Severity::Info, gone),
            (false, false, _) => (
                Severity::Info,
                "a channel that holds neither IIS's history nor an intrusion's traces".into(),
            ),
        };
        let mut d = Draft::new(FailureMode::MissingLogs, severity, 0.9, e.time(), e.time())
            .scope(Some(&e.host), None, None)
            .explain(format!(
                "The {channel} event log was cleared{by} ({} {}): {weight}. History before this point is missing \
                    from the evidence.",
                e.event.provider, e.event.event_id
            ))
            .remedy(&["Find who cleared it (the event names the account).", "Forward event logs off the server."]);
        d.cite(store.cite_event(e, format!("{channel} log cleared{by}")), Role::Cause);
        out.push(d);
    }
}

/// How long after app_offline.htm a start of the app still ends that
/// deployment's offline stretch.
const REDEPLOYED: Span = Span::mins(30);

/// How far apart ANCM notes one app_offline.htm (once per process of the
/// app, or twice by one): one deployment.
const NOTED_TOGETHER: Span = Span::secs(5);

/// Whether two events were logged on one machine (App Service writes a
/// worker's name in either case).
fn same_machine(a: &EventRow, b: &EventRow) -> bool {
    match (a.event.computer.as_deref(), b.event.computer.as_deref()) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        (x, y) => x == y,
    }
}

/// How an offline stretch ended.
enum Back<'a> {
    /// The app started again (1032, 1001).
    Started(&'a EventRow),
    /// The file went and the app's start failed (reported on its own).
    Failed(&'a EventRow),
    /// Another deployment came first.
    Redeployed(Timestamp),
    /// Nothing within [`REDEPLOYED`] in the evidence.
    Unknown,
}

/// A session of deployments: those at most this far apart on a host are one
/// finding (a developer's afternoon of publishes is one, not a dozen).
const DEPLOYMENT_SESSION: Span = Span::hours(6);

/// The longest a deployment's app may stay offline and the deployment be
/// routine ([`Severity::Info`]).
const ROUTINE_OFFLINE: Span = Span::mins(2);

/// Deployments that took the app offline (app_offline.htm, ANCM 1012), a
/// session's worth per host as one finding. The 1012s of one app_offline.htm
/// (seconds apart) are one deployment, whose offline stretch runs to the
/// first of the app's next start on the same machine (1032, 1001, cited
/// beside it), its next failed start, or the next deployment.
fn deployments(store: &Store, out: &mut Vec<Draft>) {
    for c in host_clusters(store.events_of(APP_OFFLINE), DEPLOYMENT_SESSION) {
        let placed = super::clusters(c.clone(), |e| e.time(), NOTED_TOGETHER);
        let stretches: Vec<(&[&EventRow], Back<'_>)> = placed
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let e = p[0];
                // The same app on the same machine: not a Functions host
                // or a site extension starting, nor another site.
                let app = super::ancm::physical_path(e);
                let ours = |s: &&EventRow| {
                    s.host == e.host
                        && p.iter().any(|o| same_machine(o, s))
                        && super::ancm::starts_app(app.as_deref(), s)
                };
                let after = p[p.len() - 1].time();
                let within = |kinds| store.events_between(kinds, after, e.time() + REDEPLOYED).find(ours);
                let next = placed.get(i + 1).map(|n| n[0].time()).filter(|&t| t <= e.time() + REDEPLOYED);
                let ends = [
                    within(ANCM_STARTED).map(Back::Started),
                    within(ANCM_START_FAILED).map(Back::Failed),
                    next.map(Back::Redeployed),
                ];
                let back = ends.into_iter().flatten().min_by_key(|b| b.time()).unwrap_or(Back::Unknown);
                (p.as_slice(), back)
            })
            .collect();
        let first = c[0];
        let end = stretches
            .iter()
            .map(|(p, b)| b.time().unwrap_or_else(|| p[0].time()))
            .max()
            .unwrap_or_else(|| first.time());
        let listed: Vec<String> = stretches
            .iter()
            .take(5)
            .map(|(p, back)| {
                let at = p[0].time();
                let took = |t: Timestamp| crate::describe::duration(t - at);
                match back {
                    // The app starts again with the next request once the
                    // file is gone: the time to that start bounds the
                    // offline stretch, it need not be it.
                    Back::Started(b) => {
                        format!("{}, started again {} later", at.to_prose(), offline_for(b.time() - at))
                    }
                    Back::Failed(f) => {
                        format!("{}, {} until a start that failed", at.to_prose(), took(f.time()))
                    }
                    Back::Redeployed(t) => {
                        format!("{}, until the next deployment {} later", at.to_prose(), took(*t))
                    }
                    Back::Unknown => {
                        format!("{} (no start within 30 minutes in the evidence)", at.to_prose())
                    }
                }
            })
            .collect();
        let more = match stretches.len() {
            n if n > 5 => format!("; and {} more", n - 5),
            _ => String::new(),
        };
        let n = stretches.len();
        // A deployment whose app started again within two minutes each time
        // is a background fact of the day (a developer's publishes, a
        // pipeline's); a longer stretch offline, a failed start, or one
        // whose end the evidence lacks, is worth a look.
        // The longest stretch that is not routine (one whose end the
        // evidence lacks first), said: the list may cut it.
        let routine_stretch = |(p, back): &&(&[&EventRow], Back<'_>)| matches!(back, Back::Started(b) if b.time() - p[0].time() <= ROUTINE_OFFLINE);
        let not_routine: Vec<&(&[&EventRow], Back<'_>)> =
            stretches.iter().filter(|s| !routine_stretch(s)).collect();
        let longest = not_routine.iter().max_by_key(|(p, back)| {
            // The earliest of equals: `max_by_key` keeps the last.
            (back.time().map_or(Span(i64::MAX), |t| t - p[0].time()), std::cmp::Reverse(p[0].time()))
        });
        let worth = longest.map(|(p, back)| {
            let at = p[0].time();
            let why = match back {
                // ANCM starts the app with the first request after the
                // file goes: on a quiet site the start waits for a visitor.
                Back::Started(b) => {
                    let gap = offline_for(b.time() - at);
                    format!(
                        "the next start came {gap} later (ANCM starts the app with the first request after \
                         app_offline.htm goes: the file stayed at most that long, about that long on a busy \
                         site, perhaps far less on a quiet one)"
                    )
                }
                Back::Failed(_) => "a start that failed".to_string(),
                Back::Redeployed(_) => "the next deployment before the app started".to_string(),
                Back::Unknown => "no start in the evidence".to_string(),
            };
            let which = match not_routine.len() {
                1 => String::new(),
                k => format!("{k} of the {n} were not; the longest "),
            };
            format!(
                " Worth a look (a routine deployment's app is back within {}): {which}at {}, {why}.",
                crate::describe::duration(ROUTINE_OFFLINE),
                at.to_prose()
            )
        });
        let routine = worth.is_none();
        let mut d = Draft::new(
            FailureMode::Deployment,
            if routine { Severity::Info } else { Severity::Low },
            if n >= 3 { 0.9 } else { 0.8 },
            first.time(),
            end,
        )
        .scope(Some(&first.host), None, None)
        .explain(
            format!(
                "A deployment took the application offline {} (app_offline.htm, ANCM 1012): {}{more}. \
                Requests got 503 while the file was there. Planned, and short when the app starts again; a \
                failed start after it is reported on its own.",
                match n {
                    1 => "once".to_string(),
                    n => format!("{n} times in {}", crate::describe::duration(end - first.time())),
                },
                listed.join("; ")
            ) + worth.as_deref().unwrap_or_default(),
        );
        // App Service has no server to drain: its slots and packages keep
        // requests off a deployment.
        if c.iter().any(|e| e.event.data.iter().any(|v| super::status::on_app_service(&v.value))) {
            d = d.remedy(super::status::APP_SERVICE_DEPLOY);
        }
        for (p, back) in &stretches {
            // One app_offline.htm, cited once however many processes noted it.
            d.cite(store.cite_event(p[0], headline(&p[0].event)), Role::Cause);
            match back {
                Back::Started(b) => {
                    d.cite(
                        store.cite_event(b, format!("{}: started again", headline(&b.event))),
                        Role::Context,
                    );
                }
                Back::Failed(f) => {
                    d.cite(
                        store.cite_event(f, format!("{}: the start failed", headline(&f.event))),
                        Role::Context,
                    );
                }
                Back::Redeployed(_) | Back::Unknown => {}
            }
        }
        out.push(d);
    }
}

/// How long an app stayed offline, in seconds under ten minutes: "2 min"
/// would blur a stretch just past the routine two minutes.
fn offline_for(gap: Span) -> String {
    match gap < Span::mins(10) {
        true => format!("{} s", gap.as_secs()),
        false => crate::describe::duration(gap),
    }
}

impl Back<'_> {
    /// When the stretch ended, if the evidence says.
    fn time(&self) -> Option<Timestamp> {
        match self {
            Back::Started(e) | Back::Failed(e) => Some(e.time()),
            Back::Redeployed(t) => Some(*t),
            Back::Unknown => None,
        }
    }
}

/// Kudu's endpoints that deploy a site: zip, war and one deploy, the
/// publish API, the zip API's PUT and Web Deploy.
const DEPLOY_PATHS: &[&str] = &[
    "/api/zipdeploy",
    "/api/wardeploy",
    "/api/onedeploy",
    "/api/publish",
    "/deploy",
    "/api/zip/",
    "/msdeploy.axd",
];

/// A deployment that failed, as Kudu reports it: its trace of a request to
/// a deploy endpoint that answered an error or logged an error step, or
/// ASP.NET's 1309 for an exception Kudu threw on such a request (Kudu is an
/// ASP.NET app on the `.scm.` site; an external Git deployment whose
/// repository URL it cannot read ends there, with no trace of its own).
pub(super) struct FailedDeployment<'a> {
    pub(super) event: &'a EventRow,
    /// The method where known, then the path and query.
    pub(super) request: String,
    /// What came back: the status and error step, or the exception.
    pub(super) outcome: String,
    client: Option<&'a str>,
    site: Option<String>,
    /// How long the request took, in whole seconds (Kudu's trace only).
    took: Option<u32>,
    /// Kudu rejected the deployment source's repository URL: nothing was
    /// fetched.
    source_rejected: bool,
    /// The client went away while it uploaded the package.
    upload_cut: bool,
}

/// The site whose deployment site (Kudu, `<site>.scm.<domain>`) a URL
/// names.
pub(super) fn kudu_site(url: &str) -> Option<String> {
    let (authority, _, _) = crate::correlate::url_parts(url);
    let authority = authority.to_ascii_lowercase();
    authority.split_once(".scm.").map(|(site, _)| site.to_string()).filter(|s| !s.is_empty())
}

fn deploys(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default().to_ascii_lowercase();
    DEPLOY_PATHS.iter().any(|p| path == *p || (p.ends_with('/') && path.starts_with(p)))
}

impl<'a> FailedDeployment<'a> {
    pub(super) fn of(e: &'a EventRow) -> Option<FailedDeployment<'a>> {
        if e.event.event_id == 1309 {
            return Self::thrown(e);
        }
        let url = e.data("Url")?;
        let status = e.data("Status");
        let failed =
            status.and_then(|s| s.parse::<u16>().ok()).is_some_and(|s| s >= 400) || e.data("Error").is_some();
        if !(deploys(url) && failed) {
            return None;
        }
        let took = e.data("Seconds").and_then(|s| s.parse::<u32>().ok());
        let after = e.data("Seconds").map_or(String::new(), |s| format!(" after {s} s"));
        let why = e.data("Error").map_or(String::new(), |w| format!(": {}", w.trim_end_matches('.')));
        Some(FailedDeployment {
            event: e,
            request: format!("{} {url}", e.data("Method").unwrap_or("-")),
            outcome: format!("answered {}{after}{why}", status.unwrap_or("-")),
            client: e.data("Client"),
            site: e.data("Site").map(str::to_string),
            took,
            source_rejected: false,
            upload_cut: e
                .data("Error")
                .is_some_and(|w| w.to_ascii_lowercase().contains("client disconnected")),
        })
    }

    /// ASP.NET 1309 on Kudu's site for a deploy endpoint.
    fn thrown(e: &'a EventRow) -> Option<FailedDeployment<'a>> {
        let web = crate::exception::WebEvent::of(&e.event);
        let url = web.url?;
        let site = kudu_site(url)?;
        let (_, target, query) = crate::correlate::url_parts(url);
        let target = match query {
            Some(q) => format!("{target}?{q}"),
            None => target.to_string(),
        };
        if !deploys(&target) {
            return None;
        }
        let x = crate::exception::web_exception(&web)?;
        let message = x.message.trim_end_matches('.').to_string();
        let short = x.type_name.rsplit('.').next().unwrap_or(&x.type_name).to_string();
        Some(FailedDeployment {
            event: e,
            request: target,
            outcome: format!("threw {short}: {message}"),
            client: web.client,
            site: Some(site),
            took: None,
            source_rejected: message.to_ascii_lowercase().starts_with("repository url"),
            upload_cut: false,
        })
    }

    /// When the request was answered: its time plus how long it took, an
    /// hour at most.
    fn answered(&self) -> Timestamp {
        self.event.time() + self.took.map_or(Span(0), |s| Span::secs(i64::from(s)).min(Span::hours(1)))
    }
}

const RETRY_DEPLOYMENT: &str = "Read the deployment's own log (Kudu's /api/deployments, or LogFiles/kudu/deployment) \
    and deploy again.";
const UPLOAD_CUT: &str = "A client that disconnected mid-upload (a large package over a slow link) needs a retry or an \
    upload from closer (a pipeline in Azure).";
const CHECK_SITE_FOLDER: &str = "After a failed deployment, check what the site folder holds (Kudu's console) before trusting the next start.";
const SOURCE_URL: &str = "Set the deployment source's repository to a full clone URL (https://host/owner/repo.git) in \
    the Deployment Center or with az webapp deployment source config --repo-url, and trigger the deployment \
    again; Kudu made no deployment record of this one (its trace, LogFiles/kudu/trace, holds the request).";

/// A deployment Kudu reported as failing (an error status, an error step,
/// an exception): the site keeps what was deployed before, or a folder half
/// written.
fn kudu_deployment_failed(store: &Store, out: &mut Vec<Draft>) {
    let failed = store.events_of(DEPLOYMENT_REPORTS).filter_map(FailedDeployment::of);
    let by_host = super::grouped(failed, |f| f.event.host.clone());
    for c in by_host.into_values().flat_map(|list| super::clusters(list, |f| f.event.time(), Span::hours(1)))
    {
        let (Some(first), Some(last)) = (c.first(), c.last()) else { continue };
        let said: Vec<String> = c
            .iter()
            .take(3)
            .map(|f| format!("{} {}, from {}", f.request, f.outcome, f.client.unwrap_or("an unknown client")))
            .collect();
        let site = first.site.as_ref().map_or(String::new(), |s| format!(" of site {s}"));
        // Low: a failed deployment changes nothing by itself; a failed
        // start after it is reported on its own.
        // The window runs to the last request's answer, as long as it took.
        let end = c.iter().map(|f| f.answered()).max().unwrap_or_else(|| last.event.time());
        // Kudu refused the deployment source itself: nothing was fetched.
        let bad_source = c.iter().any(|f| f.source_rejected);
        let upload_cut = c.iter().any(|f| f.upload_cut);
        let mut d = Draft::new(FailureMode::Deployment, Severity::Low, 0.8, first.event.time(), end)
            .scope(Some(&first.event.host), None, None)
            .explain(format!(
                "A deployment{site} through Kudu failed{}: {}. {}",
                if c.len() == 1 { String::new() } else { format!(" {} times", c.len()) },
                said.join("; "),
                if bad_source {
                    "Kudu rejected the repository URL it was given before it made a deployment and fetched \
                        nothing: the site keeps what was deployed before."
                } else if upload_cut {
                    "The upload was cut off before Kudu deployed it: the site keeps what was deployed before."
                } else {
                    "The site keeps what was deployed before, or a folder the deployment had begun to write: a \
                        failed start after it may be this."
                }
            ))
            .remedy(if bad_source { &[SOURCE_URL] } else { &[RETRY_DEPLOYMENT, CHECK_SITE_FOLDER] });
        if upload_cut {
            d = d.also(&[UPLOAD_CUT]);
        }
        for f in c.iter().take(5) {
            d.cite(store.cite_event(f.event, headline(&f.event.event)), Role::Cause);
        }
        out.push(d);
    }
}

/// App Service could not mount the site's package (run from package):
/// ZipFS set up failed, the zip could not be copied, a failure package was
/// mounted in its place. The site serves that instead of the app until the
/// package is reachable and the site restarts.
fn package_not_mounted(store: &Store, out: &mut Vec<Draft>) {
    let failed = |e: &&EventRow| {
        e.data_at(0).is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            ["setup failed", "failed to copy zip", "failure zip file"].iter().any(|m| t.contains(m))
        })
    };
    for c in host_clusters(store.events_of(PACKAGE_MOUNT).filter(failed), Span::hours(1)) {
        let (first, last) = (c[0], c[c.len() - 1]);
        let said: Vec<String> =
            c.iter().take(3).map(|e| headline(&e.event).trim_end_matches('.').to_string()).collect();
        // The site starting and shutting down again and again on the same
        // machine right after, each within minutes of the last: it kept
        // restarting on the failure package (vcarpool: 12 cycles in 10
        // minutes).
        let mut cycles: Vec<&EventRow> = Vec::new();
        let mut until = last.time() + RESTARTING;
        let ours = |e: &&EventRow| e.host == first.host && same_machine(e, first);
        for e in store.events_between(ANCM_CYCLE, last.time(), last.time() + CYCLING_AT_MOST).filter(ours) {
            if e.time() > until {
                break;
            }
            cycles.push(e);
            until = e.time() + RESTARTING;
        }
        // One start after it is the site's ordinary restart, not a cycle.
        if cycles.len() < 2 {
            cycles.clear();
        }
        let end = cycles.last().map_or_else(|| last.time(), |e| e.time());
        let restarting = match cycles.len() {
            0 | 1 => String::new(),
            n => format!(
                " On the same machine the site then started or shut down {n} times in {}, each within minutes of \
                    the last: it kept restarting on the failure package.",
                crate::describe::duration(end - last.time())
            ),
        };
        let mut d = Draft::new(FailureMode::Deployment, Severity::High, 0.85, first.time(), end)
            .scope(Some(&first.host), None, None)
            .explain(format!(
                "App Service could not mount the site's package (run from package): {}. The site served the \
                    platform's failure package instead of the app, so its requests fail until the package is \
                    reachable and the site restarts.{restarting} The package comes from WEBSITE_RUN_FROM_PACKAGE: \
                    a URL (whose SAS token may have expired, or whose blob was removed), or 1 with \
                    d:\\home\\data\\SitePackages\\packagename.txt naming the zip.",
                said.join("; ")
            ))
            .remedy(&[
                "Check WEBSITE_RUN_FROM_PACKAGE: a URL must still be readable from the site (the SAS token's \
                    expiry, the blob and its container); with 1, packagename.txt in d:\\home\\data\\SitePackages \
                    must name a zip that is there.",
                "Deploy the package again, then restart the site.",
            ]);
        d.cite_first(c.iter(), 8, Role::Cause, |e| store.cite_event(e, headline(&e.event)));
        if cycles.len() > 1 {
            for e in [cycles[0], cycles[cycles.len() - 1]] {
                d.cite(store.cite_event(e, headline(&e.event)), Role::Effect);
            }
        }
        out.push(d);
    }
}

/// How soon after the last a start or shutdown still counts as the site
/// restarting over and over.
const RESTARTING: Span = Span::mins(5);

/// The longest stretch of such restarts read after a failed mount.
const CYCLING_AT_MOST: Span = Span::hours(2);

/// The event log service is started by the boot: a boot's marks lie this
/// close to its start.
pub(crate) const BOOT_NEAR: Span = Span::mins(10);

/// The Windows Event Log service entering the running state with no boot
/// beside it: it had stopped or crashed (stopping or crashing it is a known
/// way to keep actions out of the logs), and whatever happened while it was
/// down was never logged. The last event the host logged before bounds the
/// gap.
fn event_log_restarted(store: &Store, out: &mut Vec<Draft>) {
    let started = store
        .events_of(SERVICE_CHANGED)
        .filter(|e| faultline_parser::winevent::event_log_service_started(&e.event));
    for e in started {
        let booted = store
            .events_between(BOOT_MARKS, e.time() - BOOT_NEAR, e.time() + BOOT_NEAR)
            .any(|b| b.host == e.host);
        if booted {
            continue;
        }
        let before =
            store.events.iter().filter(|b| b.host == e.host && b.time() < e.time()).map(EventRow::time).max();
        // Events only counted (not in the catalogue, or a process start of
        // no IIS program) before it say the host logged then, not when
        // last: `--all-events` reads them.
        let counted = store.counted_spans.get(&e.host);
        let counted_before = counted.is_some_and(|&(first, _)| first < e.time());
        let since = match (before, counted_before) {
            // Counted events from before the kept one to after it may
            // lie closer to the restart.
            (Some(b), true) if counted.is_some_and(|&(_, last)| last > b) => format!(
                "the host's last event read in full before it is at {} (events only counted here may lie \
                 closer: --all-events reads them)",
                b.to_prose()
            ),
            (Some(b), _) => format!("the host's last event before it is at {}", b.to_prose()),
            (None, true) => {
                "the host logged events before it that are only counted here (--all-events reads \
                them, and the last of them bounds the gap)"
                    .to_string()
            }
            (None, false) => "no earlier event of the host read in full bounds the gap".to_string(),
        };
        let web = store.serves_web(&e.host) || store.ran_iis_worker(&e.host);
        let mut d = Draft::new(
            FailureMode::MissingLogs,
            if web { Severity::Medium } else { Severity::Low },
            0.7,
            // The restart itself: the last event kept may be days before,
            // and IIS's own logs went on meanwhile.
            e.time(),
            e.time(),
        )
        .scope(Some(&e.host), None, None)
        .explain(format!(
            "The Windows Event Log service started at {} without a boot beside it (Service Control Manager \
                7036, no EventLog 6009 or kernel start within ten minutes): it had been stopped or had \
                crashed, and nothing was logged while it was down; {since}. Stopping or crashing the \
                service is a known way to act unlogged.",
            e.time().to_prose()
        ))
        .remedy(&[
            "Look for who stopped it (Security 4688 or Sysmon 1 of sc.exe, net.exe, taskkill or PowerShell \
                just before; System 7034/7031 if it crashed) and what ran in the gap (other sources' logs).",
            "Forward event logs off the server, so a stopped service cannot hide a stretch of time.",
        ]);
        d.cite(store.cite_event(e, headline(&e.event)), Role::Cause);
        out.push(d);
    }
}

/// The first minute after `at` in which `host` logged a request, any site.
fn next_logged_minute(store: &Store, host: &str, at: Timestamp) -> Option<Timestamp> {
    let after = at.minute() + 1;
    store
        .minutes
        .keys()
        .filter(|(h, _, m)| &**h == host && *m >= after)
        .map(|(_, _, m)| *m)
        .min()
        .map(Timestamp::of_minute)
}

/// The last time the evidence of `host` speaks of: its last access-log
/// minute, HTTP.sys row or event (kept or only counted).
fn host_evidence_end(store: &Store, host: &str) -> Option<Timestamp> {
    let minutes =
        store.minutes.keys().filter(|(h, _, _)| &**h == host).map(|(_, _, m)| Timestamp::last_of_minute(*m));
    let errors = store.errors.iter().filter(|r| &*r.host == host).map(|r| r.time);
    let events = store.events.iter().filter(|e| &*e.host == host).map(EventRow::time);
    let counted = store.counted_spans.get(host).map(|&(_, last)| last);
    minutes.chain(errors).chain(events).chain(counted).max()
}

/// Whether a logging change applies to one site only: a site's
/// `logFile`, or a setting made at a site's location.
fn one_site(e: &EventRow) -> bool {
    let path = e.data("Configuration").unwrap_or_default().to_ascii_lowercase();
    let location = e.data("EffectiveLocation").unwrap_or_default().trim_end_matches('/').to_ascii_lowercase();
    path.contains("/site[") || (!location.is_empty() && location != "machine/webroot/apphost")
}

/// HTTP logging switched off (an IIS-Configuration change of `dontLog` or
/// a site's `logFile/@enabled`): the access log of the stretch until it is
/// back on is missing, which a silence must not be taken for (the sites
/// did not go quiet). The stretch ends at the change that switches the
/// same setting back on; else, for a server-wide switch, where the access
/// log resumes; else at the end of the host's evidence. The `appcmd` that
/// made the change, when the process log has it, names who.
fn logging_switched_off(store: &Store, out: &mut Vec<Draft>) {
    let changes: Vec<(&EventRow, Switch)> = store
        .events_of(IIS_CONFIG_CHANGED)
        .filter_map(|e| logging_switch(&e.event).map(|s| (e, s)))
        .collect();
    for (i, (e, switch)) in changes.iter().enumerate() {
        if *switch != Switch::Off {
            continue;
        }
        let setting = e.data("Configuration").unwrap_or("-");
        let same = |b: &EventRow| {
            b.host == e.host
                && b.data("Configuration") == e.data("Configuration")
                && b.data("EffectiveLocation") == e.data("EffectiveLocation")
        };
        let back = changes[i + 1..].iter().find(|(b, s)| *s == Switch::On && same(b)).map(|(b, _)| *b);
        let site_only = one_site(e);
        let resumed = if site_only { None } else { next_logged_minute(store, &e.host, e.time()) };
        let (end, until) = match (back, resumed) {
            (Some(b), _) => (b.time(), format!("until it was switched back on at {}", b.time().to_prose())),
            (None, Some(r)) => (r, format!("until the access log resumes at {}", r.to_prose())),
            (None, None) => {
                let end =
                    host_evidence_end(store, &e.host).filter(|t| *t > e.time()).unwrap_or_else(|| e.time());
                (end, "and nothing in the evidence switches it back on".to_string())
            }
        };
        let near = Span::mins(2);
        let by = store
            .events_between(PROCESS_STARTED, e.time() - near, e.time() + near)
            .find(|p| p.host == e.host && logging_switch(&p.event) == Some(Switch::Off));
        let who = by
            .and_then(|p| p.data("SubjectUserName").or_else(|| p.data("User")))
            .map_or(String::new(), |u| format!(" by {u} with appcmd"));
        let minutes = ((end - e.time()).as_secs() + 30) / 60;
        let stretch = if minutes > 0 {
            format!("IIS wrote no access-log row for about {minutes} minutes after it")
        } else {
            "the host's evidence ends there".to_string()
        };
        let which = if site_only { "a site's" } else { "the server's" };
        let mut d = Draft::new(FailureMode::MissingLogs, Severity::High, 0.9, e.time(), end)
            .scope(Some(&e.host), None, None)
            .explain(format!(
                "HTTP logging was switched off{who} for {which} requests (IIS-Configuration 29: {setting} = {}) \
                    {until}: {stretch}, so the requests of that stretch are missing from the evidence. The \
                    sites did not go quiet; what happened then is only in HTTPERR, FREB and the event logs.",
                e.data("NewValue").unwrap_or("-")
            ))
            .remedy(&[
                "Read HTTPERR, FREB traces and the event logs for the silent stretch: the access log cannot tell.",
                "Find who switched logging off (the appcmd process event names the account) and why.",
            ]);
        d.cite(store.cite_event(e, format!("HTTP logging switched off: {setting}")), Role::Cause);
        if let Some(p) = by {
            d.cite(store.cite_event(p, headline(&p.event)), Role::Context);
        }
        if let Some(b) = back {
            d.cite(store.cite_event(b, format!("HTTP logging switched back on: {setting}")), Role::Effect);
        }
        out.push(d);
    }
}

/// TLS on the server: which credential's key could not be read, what
/// the clients' alerts say of the certificate, an endpoint whose SSL
/// configuration HTTP.sys could not use, and the binding changes before.
mod tls {
    use std::collections::BTreeMap;

    use faultline_parser::Span;

    use super::super::kinds::{
        SSL_BINDING_CHANGED, SSL_BINDING_UNUSABLE, TLS_HANDSHAKE_FAILED, TLS_KEY_UNREADABLE,
    };
    use super::super::{Draft, FailureMode, host_clusters};
    use super::cluster_finding;
    use crate::evidence::{EventRow, Store};
    use crate::finding::{Role, Severity};

    pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
        unreadable_keys(store, out);
        handshakes(store, out);
        unusable_bindings(store, out);
    }

    /// Whose credential an event's key was: Schannel says `server` (the
    /// certificate HTTP.sys serves, read by LSASS as SYSTEM) or `client`
    /// (a certificate a process presents, as the pool identity).
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Credential {
        Server,
        Client,
    }

    fn credential(e: &EventRow) -> Option<Credential> {
        if e.event.event_id == 36869 {
            return Some(Credential::Server);
        }
        match e.data("Type")?.trim() {
            t if t.eq_ignore_ascii_case("server") => Some(Credential::Server),
            t if t.eq_ignore_ascii_case("client") => Some(Credential::Client),
            _ => None,
        }
    }

    const SERVER_KEY: &str = "Schannel could not use the private key of the certificate HTTP.sys serves \
        HTTPS with (36870 of a server credential, or 36869): HTTP.sys's TLS runs in LSASS as SYSTEM, so the \
        key is missing (the certificate imported or renewed without it) or SYSTEM may not read it. Every \
        handshake on that binding fails, before HTTP: its clients leave no W3C row.";

    const SERVER_KEY_STEPS: &[&str] = &[
        "Give SYSTEM read on the certificate's private key (certlm.msc, Personal, the certificate, All Tasks, \
            Manage Private Keys), or import the certificate again from its .pfx with the key; certutil \
            -repairstore my THUMBPRINT links a key that is on the machine back to its certificate.",
        "Check the binding names the certificate meant (netsh http show sslcert: its certificate hash) and that \
            certlm.msc shows \"You have a private key that corresponds to this certificate\".",
    ];

    const CLIENT_KEY: &str = "Schannel could not use the private key of a certificate a process presents as \
        a TLS client (36870 of a client credential): the process identity (an app pool's) lacks read access to \
        the key, or the key is missing, so its calls that present the certificate fail. It works as an \
        administrator and fails as the pool identity.";

    const EITHER_KEY: &str = "Schannel could not use a certificate's private key (36870): the identity \
        reading it lacks read access to the key, or the key is missing: SYSTEM for the certificate HTTP.sys \
        serves HTTPS with, the app pool's identity for a certificate the application presents as a client.";

    /// Schannel 36870 and 36869: a key that could not be read, said for
    /// whose credential it was.
    fn unreadable_keys(store: &Store, out: &mut Vec<Draft>) {
        for c in host_clusters(store.events_of(TLS_KEY_UNREADABLE), Span::hours(1)) {
            let first = c[0];
            let kinds: Vec<Option<Credential>> = c.iter().map(|e| credential(e)).collect();
            let only = |k| kinds.iter().all(|&c| c == Some(k));
            let (text, steps) = if only(Credential::Server) {
                (SERVER_KEY, Some(SERVER_KEY_STEPS))
            } else if only(Credential::Client) {
                (CLIENT_KEY, None)
            } else {
                (EITHER_KEY, None)
            };
            let mut d = cluster_finding(store, &c, FailureMode::TlsPrivateKeyAccess, Severity::High, text);
            if let Some(steps) = steps {
                d = d.remedy(steps);
            }
            binding_changes(store, &mut d, first);
            out.push(d);
        }
    }

    /// The SSL binding changes (HttpEvent 15300, 15301) on the host in the
    /// hour before `first`: what put the certificate in place.
    fn binding_changes(store: &Store, d: &mut Draft, first: &EventRow) {
        let changes: Vec<&EventRow> = store
            .events_between(SSL_BINDING_CHANGED, first.time() - Span::hours(1), first.time() + Span::secs(1))
            .filter(|e| e.host == first.host)
            .collect();
        let Some(last) = changes.last() else { return };
        d.explanation.push_str(&format!(
            " The certificate settings of {} were changed just before, at {} (HttpEvent {}): the binding's \
                new certificate is the likeliest one.",
            endpoint(last).unwrap_or("an endpoint"),
            last.time().to_prose(),
            last.event.event_id
        ));
        for e in changes.iter().rev().take(3) {
            let what = if e.event.event_id == 15300 { "deleted" } else { "created" };
            let summary = format!(
                "HttpEvent {}: SSL certificate settings {what} for {}",
                e.event.event_id,
                endpoint(e).unwrap_or("an endpoint")
            );
            d.cite(store.cite_event(e, summary), Role::Cause);
        }
    }

    /// The endpoint an HttpEvent names (`0.0.0.0:443`).
    fn endpoint(e: &EventRow) -> Option<&str> {
        e.data("EndpointStr").or_else(|| e.data("Endpoint")).map(str::trim).filter(|s| !s.is_empty())
    }

    /// A TLS alert (RFC 5246) by which a peer rejects a certificate, as
    /// the client says it of ours.
    fn certificate_alert(code: u32) -> Option<&'static str> {
        Some(match code {
            42 => "bad certificate",
            43 => "unsupported certificate",
            44 => "certificate revoked",
            45 => "certificate expired",
            46 => "certificate unknown (not trusted)",
            48 => "unknown CA (chain incomplete or not trusted)",
            _ => return None,
        })
    }

    const REJECTED_STEPS: &[&str] = &[
        "Look at the certificate the binding serves (netsh http show sslcert names its hash; certlm.msc, \
            Personal): its validity dates, its chain up to a root the clients trust (install a missing \
            intermediate CA certificate) and its revocation.",
        "Renew or replace it and bind the new one (IIS Manager, the site's Bindings, or netsh http update \
            sslcert): a renewed certificate is not served until the binding names it.",
    ];

    /// Schannel 36874, 36888 and 36887: failed handshakes, three or more
    /// within an hour. Most of them fatal alerts received by which clients
    /// reject a certificate (36887: expired, revoked, untrusted) say the
    /// server's certificate is the fault, for every client; otherwise some
    /// clients and the server share no protocol or cipher suite.
    fn handshakes(store: &Store, out: &mut Vec<Draft>) {
        for c in host_clusters(store.events_of(TLS_HANDSHAKE_FAILED), Span::hours(1)) {
            if c.len() < 3 {
                continue;
            }
            let mut alerts: BTreeMap<u32, usize> = BTreeMap::new();
            for e in c.iter().filter(|e| e.event.event_id == 36887) {
                let code = e.data("AlertDesc").or_else(|| e.data_at(0)).and_then(|v| v.trim().parse().ok());
                if let Some(code) = code.filter(|&code| certificate_alert(code).is_some()) {
                    *alerts.entry(code).or_default() += 1;
                }
            }
            let rejected: usize = alerts.values().sum();
            let (severity, text, steps) = if rejected * 2 > c.len() {
                let mut by_count: Vec<(&u32, &usize)> = alerts.iter().collect();
                by_count.sort_by_key(|&(code, n)| (std::cmp::Reverse(*n), *code));
                let said: Vec<String> = by_count
                    .into_iter()
                    .map(|(code, n)| {
                        format!("{} ({code}) {n} times", certificate_alert(*code).unwrap_or("-"))
                    })
                    .collect();
                let text = format!(
                    "Clients rejected this server's certificate (Schannel 36887, fatal alerts received: {}): \
                        the certificate the HTTPS binding serves is expired, revoked or not trusted by them (an \
                        incomplete chain), so their handshakes fail before HTTP and leave no W3C row.",
                    said.join(", ")
                );
                (Severity::High, text, Some(REJECTED_STEPS))
            } else {
                let text = "TLS handshakes failed (Schannel 36874/36888/36887): some clients and this server \
                    share no protocol or cipher suite (or SNI or the chain does not match), so those clients never \
                    reach HTTP and leave no W3C row."
                    .to_string();
                (Severity::Medium, text, None)
            };
            let mut d = cluster_finding(store, &c, FailureMode::TlsHandshakeFailure, severity, &text);
            if let Some(steps) = steps {
                d = d.remedy(steps);
            }
            out.push(d);
        }
    }

    /// HttpEvent 15021: HTTP.sys could not use an endpoint's SSL
    /// configuration, so HTTPS on it is down for every client; one is
    /// enough (HTTP.sys logs it when it reads the configuration, at boot or
    /// when the binding changes).
    fn unusable_bindings(store: &Store, out: &mut Vec<Draft>) {
        for c in host_clusters(store.events_of(SSL_BINDING_UNUSABLE), Span::hours(1)) {
            let first = c[0];
            let mut endpoints: Vec<&str> = c.iter().filter_map(|e| endpoint(e)).collect();
            endpoints.sort_unstable();
            endpoints.dedup();
            let named =
                if endpoints.is_empty() { "an HTTPS endpoint".to_string() } else { endpoints.join(", ") };
            let mut d = Draft::new(
                FailureMode::TlsHandshakeFailure,
                Severity::High,
                0.85,
                first.time(),
                c[c.len() - 1].time(),
            )
            .scope(Some(&first.host), None, None)
            .explain(format!(
                "HTTP.sys could not use the SSL configuration of {named} (HttpEvent 15021): the certificate its \
                    binding names is missing from the machine's store, has no usable private key, or the binding \
                    names a wrong store or thumbprint. HTTPS on that address fails for every client from then \
                    (no W3C row: the handshake never completes), while plain HTTP goes on."
            ))
            .remedy(&[
                "netsh http show sslcert ipport=ENDPOINT names the certificate hash HTTP.sys looks for: find it in \
                    certlm.msc (Personal); if it is gone (deleted, or a renewal that removed the old one), bind a \
                    valid certificate with its private key (IIS Manager, the site's Bindings, or netsh http \
                    update sslcert).",
            ]);
            binding_changes(store, &mut d, first);
            for e in c.iter().take(8) {
                let summary = format!(
                    "HttpEvent 15021: HTTP.sys could not use the SSL configuration of {}",
                    endpoint(e).unwrap_or("an endpoint")
                );
                d.cite(store.cite_event(e, summary), Role::Cause);
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    #[test]
    fn one_decisive_event_is_a_finding_on_its_own_host() {
        let e = Given::new().event("WEB01", 0, "Schannel", 36870, &[]).event(
            "WEB02",
            0,
            "Microsoft-Windows-Tcpip",
            4227,
            &[],
        );
        let found: Vec<_> = e.detected(detect).into_iter().map(|d| (d.id, d.scope.host)).collect();
        assert_eq!(
            found,
            [
                (FailureMode::TlsPrivateKeyAccess, Some("WEB01".to_string())),
                (FailureMode::PortExhaustion, Some("WEB02".to_string()))
            ]
        );
    }

    /// A server credential's key is read by LSASS as SYSTEM: its steps
    /// name SYSTEM, not the pool; the binding change before it is cited.
    /// A client credential's is the pool identity's.
    #[test]
    fn an_unreadable_key_is_said_for_whose_credential_it_was() {
        let key = |e: Given, t: &str| {
            e.event("WEB02", 100, "Schannel", 36870, &[("Type", t), ("ErrorCode", "8009030D")])
        };
        let rebound = Given::new().event(
            "WEB02",
            90,
            "Microsoft-Windows-HttpEvent",
            15301,
            &[("EndpointStr", "0.0.0.0:443")],
        );
        let found = key(rebound, "server").detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert!(d.explanation.contains("as SYSTEM"), "{}", d.explanation);
        assert!(d.explanation.contains("0.0.0.0:443 were changed just before"), "{}", d.explanation);
        assert!(d.remediation[0].contains("Give SYSTEM read"), "{:?}", d.remediation);
        assert_eq!(d.timeline.len(), 2, "the key and the binding change");
        let client = key(Given::new(), "client").detected(detect);
        assert!(client[0].explanation.contains("as a TLS client"), "{}", client[0].explanation);
        assert!(client[0].remediation[0].contains("pool identity"), "{:?}", client[0].remediation);
    }

    /// Clients' fatal alerts that reject a certificate (45 expired) say
    /// the server's certificate is at fault, high; alerts of a protocol
    /// mismatch (40) stay the medium handshake failure.
    #[test]
    fn clients_rejecting_the_certificate_are_told_from_a_protocol_mismatch() {
        let alerts = |code: &str| {
            (0..4).fold(Given::new(), |e, i| {
                e.event("WEB21", i * 10, "Schannel", 36887, &[("AlertDesc", code)])
            })
        };
        let expired = alerts("45").detected(detect);
        assert_eq!((expired[0].id, expired[0].severity), (FailureMode::TlsHandshakeFailure, Severity::High));
        assert!(
            expired[0].explanation.contains("certificate expired (45) 4 times"),
            "{}",
            expired[0].explanation
        );
        assert!(expired[0].remediation.iter().any(|r| r.contains("Renew or replace")));
        let mismatch = alerts("40").detected(detect);
        assert_eq!(mismatch[0].severity, Severity::Medium);
        assert!(
            mismatch[0].explanation.contains("no protocol or cipher suite"),
            "{}",
            mismatch[0].explanation
        );
    }

    /// HTTP.sys that cannot use an endpoint's SSL configuration has HTTPS
    /// down on it: one event is a finding naming the endpoint.
    #[test]
    fn an_unusable_ssl_binding_is_https_down_on_its_endpoint() {
        let found = Given::new()
            .event("WEB03", 100, "Microsoft-Windows-HttpEvent", 15021, &[("EndpointStr", "0.0.0.0:443")])
            .detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::TlsHandshakeFailure, Severity::High));
        assert!(found[0].explanation.contains("0.0.0.0:443 (HttpEvent 15021)"), "{}", found[0].explanation);
        assert!(found[0].remediation[0].contains("netsh http show sslcert"));
    }

    /// Ports that ran out are named with the application's calls that
    /// failed for them: their pool, site and endpoint; another host's
    /// exceptions are not this one's.
    #[test]
    fn ports_that_ran_out_name_the_calls_that_failed_for_them() {
        let failed_call = |e: Given, host: &str, secs: i64| {
            let mut data = vec![""; 20];
            data[0] = "3005";
            data[8] = "/LM/W3SVC/2/ROOT-1-1";
            data[15] = "IIS APPPOOL\\CheckoutPool";
            data[16] = "HttpRequestException";
            data[17] = "An error occurred while sending the request. ---> SocketException: Only one usage of each socket address";
            data[18] = "https://shop/checkout/pay";
            data[19] = "/checkout/pay";
            e.positional(host, secs, "ASP.NET 4.0.30319.0", 1309, &data)
        };
        let e = failed_call(
            failed_call(Given::new().event("WEB40", 100, "Microsoft-Windows-Tcpip", 4227, &[]), "WEB40", 400),
            "WEB41",
            400,
        );
        let d = &e.detected(detect)[0];
        assert_eq!(
            (d.id, d.scope.app_pool.as_deref(), d.scope.site.as_deref()),
            (FailureMode::PortExhaustion, Some("CheckoutPool"), Some("2"))
        );
        assert!(d.explanation.contains("1 exception from"), "{}", d.explanation);
        assert!(d.explanation.contains("on /checkout/pay"), "{}", d.explanation);
        assert_eq!(d.end, at(400));
        assert!(d.remediation.iter().any(|r| r.contains("netstat -ano")), "{:?}", d.remediation);
    }

    /// A site's access log HTTP.sys could not write is a hole until the
    /// site logged again, on that site, with the full disk reported before
    /// it cited; the HTTPERR log's alone is said as that log's.
    #[test]
    fn a_log_http_sys_could_not_write_is_a_hole_until_it_is_written_again() {
        let e = Given::new()
            .positional("WEB13", 0, "Srv", 2013, &["\\Device\\HarddiskVolume2", "C:", "1"])
            .requests(3, "WEB13", 1, 50, "/", (200, 0, 0), 20)
            .event("WEB13", 100, "Microsoft-Windows-HttpEvent", 15002, &[("SiteId", "1")])
            .requests(3, "WEB13", 1, 4_000, "/", (200, 0, 0), 20);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.scope.site.as_deref()), (FailureMode::MissingLogs, Some("1")));
        assert_eq!(d.end, at(4_000), "until the site logged again");
        assert!(d.explanation.contains("the access log of site 1"), "{}", d.explanation);
        assert!(d.explanation.contains("The disk C: was reported at or near capacity"), "{}", d.explanation);
        let httperr =
            Given::new().event("WEB13", 100, "Microsoft-Windows-HttpEvent", 15012, &[]).detected(detect);
        assert!(
            httperr[0].explanation.contains("could not write the HTTPERR log"),
            "{}",
            httperr[0].explanation
        );
    }

    /// W3SVC 1004 and HttpEvent 15005 of one conflict are one finding for
    /// the site 1004 names, citing a service installed the day before as
    /// the likeliest holder of the port; another host's is its own.
    #[test]
    fn a_site_that_cannot_listen_is_one_conflict_naming_a_new_service() {
        let e = Given::new()
            .event(
                "WEB04",
                0,
                "Service Control Manager",
                7045,
                &[("ServiceName", "Acme Agent"), ("ImagePath", "acme.exe")],
            )
            .event(
                "WEB04",
                1_400,
                "Microsoft-Windows-IIS-W3SVC",
                1004,
                &[("UrlPrefix", "http://*:80/"), ("SiteID", "1")],
            )
            .event("WEB04", 1_400, "Microsoft-Windows-HttpEvent", 15005, &[("IpAddressPort", "0.0.0.0:80")])
            .event("WEB05", 1_400, "Microsoft-Windows-HttpEvent", 15005, &[("IpAddressPort", "0.0.0.0:443")]);
        let found: Vec<_> =
            e.detected(detect).into_iter().filter(|d| d.id == FailureMode::BindingConflict).collect();
        assert_eq!(found.len(), 2);
        let d = &found[0];
        assert_eq!((d.scope.host.as_deref(), d.scope.site.as_deref()), (Some("WEB04"), Some("1")));
        assert!(
            d.explanation.starts_with("Site 1 could not listen (0.0.0.0:80, http://*:80/)"),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("(Acme Agent, acme.exe)"), "{}", d.explanation);
        assert!(d.remediation[0].contains("netstat -ano"), "{:?}", d.remediation);
        assert!(
            found[1].explanation.starts_with("A site could not listen (0.0.0.0:443)"),
            "{}",
            found[1].explanation
        );
    }

    #[test]
    fn a_few_handshake_failures_are_noise() {
        let two =
            Given::new().event("WEB01", 0, "Schannel", 36874, &[]).event("WEB01", 5, "Schannel", 36874, &[]);
        assert!(two.detected(detect).is_empty(), "every server sees a failed handshake now and then");
        let three = Given::new()
            .event("WEB01", 0, "Schannel", 36874, &[])
            .event("WEB01", 5, "Schannel", 36888, &[])
            .event("WEB01", 9, "Schannel", 36887, &[]);
        let found = three.detected(detect);
        assert_eq!(
            (found.len(), found[0].id, found[0].confidence),
            (1, FailureMode::TlsHandshakeFailure, 0.9)
        );
    }

    /// SCM 7036 of the Windows Event Log service entering the running
    /// state, as its binary data says (`EventLog/4`).
    fn event_log_running(e: Given, host: &str, secs: i64) -> Given {
        e.in_channel(host, secs, "Service Control Manager", 7036, "System")
            .binary("4500760065006E0074004C006F0067002F0034000000")
    }

    #[test]
    fn the_event_log_service_starting_outside_a_boot_is_a_gap() {
        let restarted = event_log_running(
            Given::new().in_channel("PC01", 0, "Service Control Manager", 7036, "System"),
            "PC01",
            32,
        );
        let found = restarted.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::MissingLogs, Severity::Low));
        assert!(found[0].explanation.contains("without a boot beside it"), "{}", found[0].explanation);
        assert_eq!(found[0].start, at(32), "the restart's moment, not the last event kept");
        assert!(
            found[0].explanation.contains("the host's last event before it is at"),
            "{}",
            found[0].explanation
        );
        // Process starts only counted, from before the last event kept to
        // after it, may lie closer to the restart: said so.
        let counted = event_log_running(
            Given::new()
                .in_channel("PC01", 0, "Service Control Manager", 7036, "System")
                .counted("PC01", -60, 30),
            "PC01",
            32,
        );
        let found = counted.detected(detect);
        assert!(
            found[0].explanation.contains("the host's last event read in full before it is at")
                && found[0].explanation.contains("events only counted here may lie closer"),
            "{}",
            found[0].explanation
        );
        // At boot the service starts beside the OS version EventLog logs
        // (6009) and the kernel's start.
        let boot = event_log_running(Given::new().event("PC01", 0, "EventLog", 6009, &[]), "PC01", 20);
        assert!(boot.detected(detect).is_empty());
        // 6005 alone is the service saying it started, whatever started it.
        let restart = event_log_running(Given::new().event("PC01", 0, "EventLog", 6005, &[]), "PC01", 20);
        assert_eq!(restart.detected(detect).len(), 1);
    }

    /// spaarke's afternoon: app_offline.htm dropped and removed twice, the
    /// app starting again each time; the second 1012's restart is on
    /// another worker's log only, which does not end it.
    #[test]
    fn each_deployment_runs_to_the_apps_next_start_on_its_machine() {
        let offline = app_offline;
        let started = |e: Given, secs: i64| e.app_started("APP", secs);
        // A Functions host from the site extensions starting in between is
        // not the app.
        let functions = |e: Given, secs: i64| {
            e.positional(
                "APP",
                secs,
                "IIS AspNetCore Module V2",
                1032,
                &["Application 'C:\\Program Files (x86)\\SiteExtensions\\Functions\\4.1\\64bit\\' started successfully."],
            )
        };
        let e = started(functions(offline(Given::new(), 0), 10), 38);
        let e = started(offline(e, 1_000), 1_027).instance("OTHER");
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.start, d.end), (FailureMode::Deployment, at(0), at(1_000)));
        assert!(d.explanation.contains("offline 2 times"), "{}", d.explanation);
        assert!(
            d.explanation.contains(&format!("{}, started again 38 s later;", at(0).to_prose())),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("(no start within 30 minutes in the evidence)"), "{}", d.explanation);
        assert_eq!(d.evidence.len(), 3, "both 1012s and the restart of the first");
        assert!(d.remediation.iter().any(|r| r.contains("staging slot")), "App Service: {:?}", d.remediation);
        // On premises there is a server to drain.
        let on_premises = Given::new().positional(
            "WEB01",
            0,
            "IIS AspNetCore Module V2",
            1012,
            &["Application 'D:\\sites\\shop\\' was recycled after detecting app_offline.htm."],
        );
        let found = on_premises.detected(detect);
        assert!(
            found[0].remediation.iter().all(|r| !r.contains("staging slot")),
            "{:?}",
            found[0].remediation
        );
    }

    /// A deployment whose app started again within two minutes each time
    /// is routine (info); one offline longer, or with no start in the
    /// evidence, is low.
    #[test]
    fn a_deployment_back_within_two_minutes_is_routine() {
        let started = |e: Given, secs: i64| e.app_started("APP", secs);
        let quick = started(app_offline(started(app_offline(Given::new(), 0), 42), 3_600), 3_690);
        let found = quick.detected(detect);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::Deployment, Severity::Info));
        let slow = started(app_offline(started(app_offline(Given::new(), 0), 42), 3_600), 3_900);
        let d = &slow.detected(detect)[0];
        assert_eq!(d.severity, Severity::Low, "five minutes offline once");
        assert!(
            d.explanation.contains(", the next start came 300 s later (ANCM starts"),
            "{}",
            d.explanation
        );
        let unknown = app_offline(Given::new(), 0);
        assert_eq!(unknown.detected(detect)[0].severity, Severity::Low, "no start in the evidence");
    }

    /// sadabyakod's day: offline 173 s, then 20 and 28 minutes: the note
    /// names the longest, says how many were not routine, and the list
    /// says the seconds the two minutes would round away.
    #[test]
    fn the_longest_stretch_offline_is_the_one_worth_a_look() {
        let started = |e: Given, secs: i64| e.app_started("APP", secs);
        let e = started(app_offline(Given::new(), 0), 173);
        let e = started(app_offline(e, 3_600), 3_600 + 1_200);
        let e = started(app_offline(e, 7_200), 7_200 + 1_680);
        let d = &e.detected(detect)[0];
        assert!(
            d.explanation.contains(&format!("{}, started again 173 s later", at(0).to_prose())),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation.contains(&format!(
                "back within 2 min): 3 of the 3 were not; the longest at {}, the next start came 28 min later",
                at(7_200).to_prose()
            )),
            "{}",
            d.explanation
        );
    }

    /// alazhar98's Kudu trace: a zipdeploy whose client disconnected, 500;
    /// a deployment that succeeded, and another request Kudu traced with
    /// a 500, are not failed deployments.
    #[test]
    fn a_deployment_kudu_traced_as_failing_is_named() {
        let traced = |e: Given, secs: i64, url: &str, status: &str, error: Option<&str>| {
            let mut data = vec![("Method", "POST"), ("Url", url), ("Status", status), ("Seconds", "28")];
            data.extend(error.map(|w| ("Error", w)));
            data.push(("Client", "5.162.109.55:61010"));
            data.push(("Site", "shop"));
            e.event("SHOP", secs, "Kudu", 1, &data)
        };
        let e =
            traced(Given::new(), 0, "/api/zipdeploy?isAsync=true", "500", Some("The client disconnected."));
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::Deployment, Severity::Low));
        assert_eq!((d.start, d.end), (at(0), at(28)), "to the answer, 28 s later");
        assert!(
            d.explanation.contains(
                "A deployment of site shop through Kudu failed: POST /api/zipdeploy?isAsync=true answered 500 \
                    after 28 s: The client disconnected, from 5.162.109.55:61010."
            ),
            "{}",
            d.explanation
        );
        assert!(d.remediation.iter().any(|r| r.contains("disconnected mid-upload")), "{:?}", d.remediation);
        assert!(
            d.explanation.contains("The upload was cut off before Kudu deployed it"),
            "{}",
            d.explanation
        );
        let fine = traced(Given::new(), 0, "/api/zipdeploy", "202", None);
        let other = traced(fine, 60, "/api/vfs/site/wwwroot/", "500", Some("Access denied"));
        assert!(other.detected(detect).is_empty());
    }

    /// mattroot87's Kudu: ASP.NET 1309 on the `.scm.` site for an external
    /// Git deployment whose repository URL Kudu rejected. The same
    /// exception on another Kudu endpoint, or on the app's own site, is no
    /// failed deployment.
    #[test]
    fn an_exception_kudu_threw_on_a_deployment_is_a_failed_deployment() {
        let thrown = |e: Given, url: &str, path: &str| {
            e.positional(
                "RD0003FF57D3F2",
                0,
                "ASP.NET 4.0.30319.0",
                1309,
                &[
                    "3005",
                    "An unhandled exception has occurred.",
                    "IIS APPPOOL\\EZT-Dummy-APP",
                    "InvalidOperationException",
                    "Repository url 'testWebsite' is invalid.\n   at Kudu.Services.FetchHandler.GetRepositoryInfo()",
                    url,
                    path,
                    "40.112.243.8",
                ],
            )
        };
        let found = thrown(
            Given::new(),
            "https://shop.scm.azurewebsites.net:443/deploy?scmType=ExternalGit&isAsync=true",
            "/deploy",
        )
        .detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::Deployment, Severity::Low));
        assert!(
            d.explanation.contains(
                "A deployment of site shop through Kudu failed: /deploy?scmType=ExternalGit&isAsync=true threw \
                    InvalidOperationException: Repository url 'testWebsite' is invalid, from 40.112.243.8. Kudu \
                    rejected the repository URL it was given before it made a deployment and fetched nothing"
            ),
            "{}",
            d.explanation
        );
        assert!(d.remediation[0].contains("full clone URL"), "{:?}", d.remediation);
        assert!(
            !d.remediation.iter().any(|r| r.contains("upload")),
            "nothing was uploaded: {:?}",
            d.remediation
        );
        let other =
            thrown(Given::new(), "https://shop.scm.azurewebsites.net:443/api/vfs/site/", "/api/vfs/site/");
        assert!(other.detected(detect).is_empty());
        let app = thrown(Given::new(), "https://shop.azurewebsites.net:443/deploy", "/deploy");
        assert!(app.detected(detect).is_empty());
    }

    /// ANCM 1012 for the site's app at `secs`: app_offline.htm took it
    /// offline.
    fn app_offline(e: Given, secs: i64) -> Given {
        e.app_offline("APP", secs)
    }

    /// sadabyakod's App Service: two 1012s of one process in one second,
    /// then one start, are one offline stretch, listed and cited once.
    #[test]
    fn an_app_offline_noted_twice_is_one_stretch() {
        let offline = app_offline;
        let e = offline(offline(Given::new(), 0), 0).app_started("APP", 45);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert!(d.explanation.contains("offline once "), "{}", d.explanation);
        assert!(
            d.explanation.contains(&format!("{}, started again 45 s later.", at(0).to_prose())),
            "{}",
            d.explanation
        );
        assert_eq!(d.evidence.len(), 2, "the 1012 and the restart, once each");
    }

    /// BandaruDheeraj's evening: each app_offline.htm noted by two
    /// processes in a second, the start after it failing, until the last
    /// deployment's start succeeded: three deployments, each ended by what
    /// came next, none said to have found no start.
    #[test]
    fn each_deployment_ends_at_its_failed_start_or_the_next_one() {
        const V2: &str = "IIS AspNetCore Module V2";
        let offline = |e: Given, secs: i64| app_offline(app_offline(e, secs), secs + 1);
        let failed = |e: Given, secs: i64| {
            e.positional(
                "APP",
                secs,
                V2,
                1007,
                &["Application '/LM/W3SVC/1/ROOT' with physical root 'C:\\home\\site\\wwwroot\\' failed to load coreclr."],
            )
        };
        let e = failed(offline(Given::new(), 0), 19);
        let e = offline(offline(e, 600), 700).app_started("APP", 720);
        let found = e.detected(detect);
        let d = found.iter().find(|d| d.id == FailureMode::Deployment).expect("the deployments");
        assert!(d.explanation.contains("offline 3 times"), "{}", d.explanation);
        assert!(
            d.explanation.contains(&format!("{}, 19 s until a start that failed", at(0).to_prose())),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation.contains(&format!("{}, until the next deployment 100 s later", at(600).to_prose())),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation.contains(&format!("{}, started again 20 s later", at(700).to_prose())),
            "{}",
            d.explanation
        );
        assert!(!d.explanation.contains("no start within"), "{}", d.explanation);
        assert_eq!(d.end, at(720));
    }

    /// A developer's afternoon of publishes is one finding; the next
    /// morning's is another.
    #[test]
    fn deployments_hours_apart_are_one_session_and_a_nights_apart_two() {
        let offline = |e: Given, secs: i64| app_offline(e, secs).app_started("APP", secs + 30);
        let e = offline(offline(offline(Given::new(), 0), 3 * 3600), 5 * 3600);
        let e = offline(e, 20 * 3600);
        let found: Vec<_> =
            e.detected(detect).into_iter().filter(|d| d.id == FailureMode::Deployment).collect();
        let windows: Vec<_> = found.iter().map(|d| (d.start, d.end)).collect();
        assert_eq!(windows, [(at(0), at(5 * 3600 + 30)), (at(20 * 3600), at(20 * 3600 + 30))]);
        assert!(found[0].explanation.contains("offline 3 times"), "{}", found[0].explanation);
    }

    /// vcarpool's App Service: the run-from-package zip could not be
    /// copied; the read-only file system complaint later is not that.
    #[test]
    fn a_package_app_service_could_not_mount_is_a_failed_deployment() {
        let zipfs = |e: Given, secs: i64, text: &str| e.positional("SITE", secs, "ZipFS", 0, &[text]);
        let e =
            zipfs(Given::new(), 0, "Failed to open siteversion.txt. ZipFS setup failed. Error: 0x80070003");
        let e = zipfs(e, 0, "Failed to copy zip from remote source.");
        let e = zipfs(e, 9_000, "Invalid operation on Read Only File System: Create New File");
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::Deployment, Severity::High));
        assert!(found[0].explanation.contains("WEBSITE_RUN_FROM_PACKAGE"), "{}", found[0].explanation);
        assert_eq!(found[0].evidence.len(), 2);
        assert_eq!(found[0].end, at(0), "no restarts after it: one instant");
    }

    /// vcarpool's worker: after the failed mount, the site started and
    /// shut down every 45 s or so for ten minutes: the window runs to the
    /// last of them, a start much later is not one.
    #[test]
    fn a_site_restarting_on_the_failure_package_extends_its_window() {
        let zipfs = |e: Given, secs: i64, text: &str| e.positional("SITE", secs, "ZipFS", 0, &[text]);
        let ancm = |e: Given, secs: i64, id: u16| {
            e.positional("SITE", secs, "IIS AspNetCore Module V2", id, &["Application 'x'."])
        };
        let mut e = zipfs(Given::new(), 0, "Failed to copy zip from remote source.");
        for (secs, id) in [(40, 1032), (80, 1033), (130, 1032), (170, 1033), (900, 1032)] {
            e = ancm(e, secs, id);
        }
        let found = e.detected(detect);
        let d = found.iter().find(|d| d.id == FailureMode::Deployment).expect("the failed mount");
        assert_eq!(d.end, at(170));
        assert!(d.explanation.contains("started or shut down 4 times in 2 min,"), "{}", d.explanation);
        assert!(d.explanation.contains("remote source. The site served"), "{}", d.explanation);
    }

    #[test]
    fn a_cleared_log_has_its_own_remedy() {
        let found =
            (Given::new().event("WEB01", 0, "Microsoft-Windows-Eventlog", 1102, &[])).detected(detect);
        assert_eq!(found[0].id, FailureMode::MissingLogs);
        assert_eq!(found[0].remediation[0], "Find who cleared it (the event names the account).");
    }

    #[test]
    fn a_cleared_log_weighs_what_it_erased() {
        // Channel `channel` cleared (104) on a workstation, or on a web
        // server that served requests before.
        let cleared = |web: bool, channel: &str| {
            let data = [("Channel", channel)];
            match web {
                true => Given::new().requests(2, "WEB01", 1, 0, "/", (200, 0, 0), 5).event(
                    "WEB01",
                    10,
                    "Microsoft-Windows-Eventlog",
                    104,
                    &data,
                ),
                false => Given::new().event("PC01", 0, "Microsoft-Windows-Eventlog", 104, &data),
            }
        };
        let sysmon = cleared(false, "Microsoft-Windows-Sysmon/Operational");
        let off_web = &sysmon.detected(detect)[0];
        assert_eq!(off_web.severity, Severity::Info, "a workstation's");
        assert!(
            off_web.explanation.contains("file-creation history (where a worker's shells"),
            "{}",
            off_web.explanation
        );
        let on_web = cleared(true, "Microsoft-Windows-Sysmon/Operational");
        let d = &on_web.detected(detect)[0];
        assert_eq!(d.severity, Severity::Medium);
        assert!(
            d.explanation.contains("process-start, network and file-creation history"),
            "{}",
            d.explanation
        );
        let core = cleared(true, "PowerShellCore/Operational");
        assert_eq!(core.detected(detect)[0].severity, Severity::Medium, "PowerShell 7's");
        // Where a web shell's scheduled task shows.
        let tasks = cleared(true, "Microsoft-Windows-TaskScheduler/Operational");
        let d = &tasks.detected(detect)[0];
        assert_eq!(d.severity, Severity::Medium);
        assert!(d.explanation.contains("scheduled tasks created and run"), "{}", d.explanation);
        let other = cleared(false, "Microsoft-Windows-Windows Defender/Operational");
        assert_eq!(other.detected(detect)[0].severity, Severity::Info);
        let web = Given::new().requests(2, "WEB01", 1, 0, "/", (200, 0, 0), 5).event(
            "WEB01",
            10,
            "Microsoft-Windows-Eventlog",
            104,
            &[("Channel", "System"), ("SubjectUserName", "bob"), ("SubjectDomainName", "CONTOSO")],
        );
        let d = &web.detected(detect)[0];
        assert_eq!(d.severity, Severity::High);
        assert!(
            d.explanation.starts_with("The System event log was cleared by CONTOSO\\bob"),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation.contains("WAS, W3SVC, HTTP.sys, service and boot history"),
            "{}",
            d.explanation
        );
        assert!(!d.explanation.contains("logon"), "logons are in the Security log: {}", d.explanation);
        let security =
            Given::new().event("PC01", 0, "Microsoft-Windows-Eventlog", 1102, &[]).detected(detect);
        assert!(security[0].explanation.contains("logon, process-start"), "{}", security[0].explanation);
        assert!(!security[0].explanation.contains("W3SVC"), "{}", security[0].explanation);
        let workstation =
            Given::new().event("PC01", 0, "Microsoft-Windows-Eventlog", 104, &[("Channel", "System")]);
        assert_eq!(workstation.detected(detect)[0].severity, Severity::Medium);
        // No IIS log in the collection, but its IIS worker in a process
        // event: a web server.
        let worker = Given::new()
            .event(
                "MSEDGEWIN10",
                0,
                "Microsoft-Windows-Sysmon",
                1,
                &[
                    ("Image", "C:\\Windows\\System32\\cmd.exe"),
                    ("ParentImage", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
                ],
            )
            .event("MSEDGEWIN10", 10, "Microsoft-Windows-Eventlog", 104, &[("Channel", "System")]);
        let cleared = worker.detected(detect);
        let cleared = cleared.iter().find(|d| d.id == FailureMode::MissingLogs).expect("found");
        assert_eq!(cleared.severity, Severity::High, "{}", cleared.explanation);
    }

    const DONT_LOG: &str = "/system.webServer/httpLogging/@dontLog";

    fn logging(on: bool) -> [(&'static str, &'static str); 2] {
        [("Configuration", DONT_LOG), ("NewValue", if on { "false" } else { "true" })]
    }

    #[test]
    fn http_logging_switched_off_is_missing_logs_until_it_is_back_on() {
        let appcmd = [
            ("SubjectUserName", "adm-backup"),
            (
                "CommandLine",
                "C:\\Windows\\System32\\inetsrv\\appcmd.exe set config /section:httpLogging /dontLog:True",
            ),
        ];
        let given = Given::new()
            .requests(5, "WEB01", 1, 0, "/", (200, 0, 0), 5)
            .event("WEB01", 60, "Microsoft-Windows-Security-Auditing", 4688, &appcmd)
            .event("WEB01", 61, "Microsoft-IIS-Configuration", 29, &logging(false))
            .event("WEB01", 2_761, "Microsoft-IIS-Configuration", 29, &logging(true))
            .requests(5, "WEB01", 1, 2_770, "/", (200, 0, 0), 5);
        let found = given.detected(detect);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(
            (f.id, f.severity, f.start, f.end),
            (FailureMode::MissingLogs, Severity::High, at(61), at(2_761))
        );
        assert!(f.explanation.contains("by adm-backup with appcmd"), "{}", f.explanation);
        assert!(f.explanation.contains("about 45 minutes"), "{}", f.explanation);
        assert_eq!(f.evidence.len(), 3);
        // Never switched back on: missing until the next row logged.
        let open = Given::new()
            .event("WEB01", 61, "Microsoft-IIS-Configuration", 29, &logging(false))
            .requests(2, "WEB01", 1, 661, "/", (200, 0, 0), 5)
            .detected(detect);
        assert_eq!((open[0].start, open[0].end), (at(61), at(660)));
    }

    #[test]
    fn one_sites_log_switched_off_is_not_closed_by_another_sites_rows() {
        let shop = "/system.applicationHost/sites/site[@name='Shop']/logFile/@enabled";
        let off = [("Configuration", shop), ("NewValue", "false")];
        let found = Given::new()
            .event("WEB01", 61, "Microsoft-IIS-Configuration", 29, &off)
            // The other site logs on; the host's evidence goes on to 3,000 s.
            .requests(5, "WEB01", 2, 120, "/", (200, 0, 0), 5)
            .event("WEB01", 3_000, "Microsoft-Windows-Eventlog", 6005, &[])
            .detected(detect);
        let f = found.iter().find(|f| f.id == FailureMode::MissingLogs).expect("a missing-logs finding");
        assert_eq!((f.start, f.end), (at(61), at(3_000)));
        assert!(f.explanation.contains("for a site's requests"), "{}", f.explanation);
        // Switched off as the collection ends: no stretch to speak of, said so.
        let last = Given::new()
            .event("WEB01", 61, "Microsoft-IIS-Configuration", 29, &logging(false))
            .detected(detect);
        assert_eq!((last[0].start, last[0].end), (at(61), at(61)));
        assert!(last[0].explanation.contains("the host's evidence ends there"), "{}", last[0].explanation);
    }

    #[test]
    fn switching_logging_on_or_tuning_it_is_not_missing_logs() {
        let on = Given::new().event("WEB01", 61, "Microsoft-IIS-Configuration", 29, &logging(true));
        assert!(on.detected(detect).is_empty());
        let selective =
            [("Configuration", "/system.webServer/httpLogging/@selectiveLogging"), ("NewValue", "LogError")];
        let tuned = Given::new().event("WEB01", 61, "Microsoft-IIS-Configuration", 29, &selective);
        assert!(tuned.detected(detect).is_empty());
    }
}
