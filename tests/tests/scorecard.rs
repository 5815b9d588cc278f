//! The scorecard: every corpus scenario, generated fresh, must be answered
//! with its expected failure-mode ids first and none of its look-alikes; a
//! healthy day must yield no findings.

#![allow(clippy::print_stderr)] // the scorecard is printed for the reader

use faultline_analyzer::finding::FailureMode;
use faultline_analyzer::{Scope, analyze};
use faultline_corpus::layout::Layout;
use faultline_corpus::scenario::{SCENARIOS, Size, generate_in};
use faultline_parser::ReadConfig;

mod common;

/// Ids in order of first appearance.
fn distinct(ids: impl Iterator<Item = &'static str>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Whether the first finding is where the truth says: the right host, the
/// right pool when it names one, and a window that overlaps the truth's.
fn strictly_right(
    report: &faultline_analyzer::Report,
    truth: &faultline_corpus::scenario::Truth,
) -> Result<(), String> {
    let (Some(first), Some(scope)) = (report.findings.first(), truth.scope.as_ref()) else { return Ok(()) };
    if first.scope.host.as_deref() != Some(scope.host.as_str()) {
        return Err(format!("host {:?}, truth {}", first.scope.host, scope.host));
    }
    if let (Some(found), Some(want)) = (&first.scope.app_pool, &scope.app_pool)
        && found != want
    {
        return Err(format!("pool {found}, truth {want}"));
    }
    if let Some(w) = &truth.window {
        let at =
            |t: &str| faultline_parser::time::parse_rfc3339(t.as_bytes()).expect("truth times are RFC 3339");
        let margin = faultline_parser::Span::mins(1);
        if first.start > at(&w.end) + margin || first.end < at(&w.start) - margin {
            return Err(format!(
                "window {}..{} misses the truth's {}..{}",
                first.start, first.end, w.start, w.end
            ));
        }
    }
    Ok(())
}

/// Runs every scenario in `layout` at three seeds; returns the lines of the
/// scorecard and the wrong answers.
fn score(names: &[&'static str], layout: Layout) -> (Vec<String>, Vec<String>) {
    let size = Size { hosts: 1, hours: 3, rate: 0.3 };
    let mut wrong = Vec::new();
    let mut lines = Vec::new();
    for (name, seed) in names.iter().flat_map(|n| [5u64, 17, 29].map(|s| (*n, s))) {
        let dir = tempfile::tempdir().expect("tempdir");
        let truth = generate_in(name, dir.path(), seed, &size, layout).expect("generates");
        let report = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &Scope::default(), &|_| {});
        let found = distinct(report.findings.iter().map(|f| f.id.id()));
        let leads =
            found.len() >= truth.expected.len() && found[..truth.expected.len()] == truth.expected[..];
        let exact_healthy = !truth.expected.is_empty() || found.is_empty();
        let lookalikes: Vec<&&str> = truth.lookalikes.iter().filter(|l| found.contains(l)).collect();
        let strict = strictly_right(&report, &truth);
        let right = leads && exact_healthy && lookalikes.is_empty() && strict.is_ok();
        lines.push(format!(
            "{} {:<28} {:<10} seed {seed:<3} expected {:?} found {:?}{}",
            if right { "ok  " } else { "FAIL" },
            name,
            layout.name(),
            truth.expected,
            found,
            strict.err().map_or(String::new(), |e| format!(" ({e})"))
        ));
        if !right {
            wrong.push(format!("{name} {} {seed}", layout.name()));
        }
    }
    (lines, wrong)
}

#[test]
fn every_scenario_is_answered_right() {
    let names: Vec<&'static str> = SCENARIOS.iter().map(|d| d.name).collect();
    let (lines, wrong) = score(&names, Layout::Bundle);
    eprintln!("scorecard: {} of {} generated scenarios right", lines.len() - wrong.len(), lines.len());
    for l in &lines {
        eprintln!("  {l}");
    }
    assert!(wrong.is_empty(), "wrong answers: {wrong:?}\n{}", lines.join("\n"));
}

/// Azure App Service keeps no System log and no HTTP.sys log: the worker's
/// own reports, ANCM and ASP.NET events must still name the cause.
#[test]
fn app_service_scenarios_are_answered_right() {
    let names = ["ancm-startup-failure", "worker-crash", "app-exception", "config-error", "deployment"];
    let (lines, wrong) = score(&names, Layout::AppService);
    eprintln!("App Service scorecard: {} of {} right", lines.len() - wrong.len(), lines.len());
    for l in &lines {
        eprintln!("  {l}");
    }
    assert!(wrong.is_empty(), "wrong answers: {wrong:?}\n{}", lines.join("\n"));
}

const LOG_HEADER: &str = "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time cs-method cs-uri-stem sc-status sc-substatus sc-win32-status time-taken\r\n";

/// Analyzes access logs, one per (host, site), laid out as in a bundle.
fn analyze_site_logs(logs: &[(&str, u32, &str)]) -> faultline_analyzer::Report {
    let dir = tempfile::tempdir().expect("tempdir");
    for (host, site, log) in logs {
        let folder = dir.path().join(format!("{host}/inetpub/logs/LogFiles/W3SVC{site}"));
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join("u_ex251124.log"), log).expect("write");
    }
    analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &Scope::default(), &|_| {})
}

/// An error burst log: an hour of healthy traffic, then a minute of 500s.
fn error_burst_log() -> String {
    let mut log = String::from(LOG_HEADER);
    for i in 0..360 {
        log.push_str(&format!("2025-11-24 10:{:02}:{:02} GET /ok 200 0 0 12\r\n", i / 6, (i % 6) * 10));
    }
    for i in 0..60 {
        log.push_str(&format!("2025-11-24 11:00:{:02} GET /checkout 500 0 0 30\r\n", i));
    }
    log
}

/// A burst of server errors that no failure mode explains stays visible.
#[test]
fn unexplained_error_spikes_are_reported_with_their_evidence() {
    let report = analyze_site_logs(&[("WEB09", 4, &error_burst_log())]);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.id, FailureMode::Unexplained);
    assert_eq!(f.scope.host.as_deref(), Some("WEB09"));
    assert_eq!(f.scope.site.as_deref(), Some("4"));
    assert!(f.evidence.iter().all(|e| e.summary.contains("/checkout 500.0")), "{:?}", f.evidence);
    assert!(f.evidence[0].line.is_some());
}

/// Requests slow across a whole site, with no hang, queue or crash behind
/// them, form an unexplained latency surge.
#[test]
fn unexplained_latency_surges_are_reported_with_the_slowest_requests() {
    let mut log = String::from(LOG_HEADER);
    // An hour at 40 ms, five minutes where every request takes 6-8 s across
    // ten URLs, then back to normal.
    for minute in 0..80 {
        for i in 0..20 {
            let taken = if (60..65).contains(&minute) { 6_000 + 100 * i } else { 40 };
            log.push_str(&format!(
                "2025-11-24 {}:{:02}:{:02} GET /page{} 200 0 0 {taken}\r\n",
                10 + minute / 60,
                minute % 60,
                i * 3,
                i % 10
            ));
        }
    }
    let report = analyze_site_logs(&[("WEB07", 2, &log)]);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.id, FailureMode::Unexplained);
    assert_eq!((f.scope.host.as_deref(), f.scope.site.as_deref()), (Some("WEB07"), Some("2")));
    assert_eq!(f.start.to_rfc3339(), "2025-11-24T11:00:00.000000000Z");
    assert_eq!(f.end.to_rfc3339(), "2025-11-24T11:05:00.000000000Z");
    assert!(f.explanation.contains("usual 40 ms"), "{}", f.explanation);
    let taken =
        |summary: &str| -> Option<u64> { summary.split(" in ").nth(1)?.split(' ').next()?.parse().ok() };
    assert_eq!(f.evidence.len(), 8);
    assert!(
        f.evidence.iter().all(|e| taken(&e.summary).is_some_and(|t| t >= 7_200)),
        "the slowest: {:?}",
        f.evidence
    );
}

/// The same failure on several servers of a farm at the same time is one
/// incident: the findings point at each other.
#[test]
fn the_same_failure_on_several_hosts_at_once_is_related() {
    let log = error_burst_log();
    let report = analyze_site_logs(&[("WEB01", 1, &log), ("WEB02", 1, &log), ("WEB03", 1, &log)]);
    let hosts: Vec<Option<&str>> = report.findings.iter().map(|f| f.scope.host.as_deref()).collect();
    assert_eq!(hosts, [Some("WEB01"), Some("WEB02"), Some("WEB03")], "{:?}", report.findings);
    assert_eq!(report.findings[0].related, [2, 3]);
    assert_eq!(report.findings[1].related, [1, 3]);
    assert_eq!(report.findings[2].related, [1, 2]);
    // One host alone relates to nothing.
    let alone = analyze_site_logs(&[("WEB01", 1, &log)]);
    assert!(alone.findings.iter().all(|f| f.related.is_empty()));
}

/// Each FREB trace cited is tied to the access-log line of the same request,
/// and that line is the request: same path and status.
#[test]
fn freb_traces_are_tied_to_their_access_log_lines() {
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/scenarios/config-error");
    let report = analyze(&[scenario], &ReadConfig::default(), &Scope::default(), &|_| {});
    let traces: Vec<&str> = report
        .findings
        .iter()
        .flat_map(|f| &f.evidence)
        .filter(|e| e.source == faultline_analyzer::finding::SourceKind::Freb)
        .map(|e| e.summary.as_str())
        .collect();
    assert!(!traces.is_empty());
    for summary in traces {
        let (_, logged) = summary.rsplit_once(" (logged at ").expect("every trace found its log line");
        let (path, line) = logged.trim_end_matches(')').rsplit_once(':').expect("path:line");
        let text = std::fs::read_to_string(path).expect("the cited log");
        let row =
            text.lines().nth(line.parse::<usize>().expect("a line number") - 1).expect("the line exists");
        let url = summary.split(' ').nth(2).expect("FREB verb url");
        let stem = url.split_once("443").map_or(url, |(_, p)| p);
        assert!(row.contains(&format!(" {stem} ")) && row.contains(" 500 19 "), "{summary}\n{row}");
    }
}

/// A site with steady traffic that falls silent is reported; a site with a
/// few visits an hour, whose gaps are its normal, is not.
#[test]
fn only_steady_sites_that_fall_silent_are_reported() {
    let line = |minute: u32, second: u32| {
        format!("2025-11-24 {:02}:{:02}:{second:02} GET /ok 200 0 0 12\r\n", 8 + minute / 60, minute % 60)
    };
    // Two hours at six requests a minute, with a 20-minute hole at 09:00.
    let mut steady = String::from(LOG_HEADER);
    for minute in (0..120).filter(|m| !(60..80).contains(m)) {
        (0..6).for_each(|i| steady.push_str(&line(minute, i * 10)));
    }
    let report = analyze_site_logs(&[("WEB05", 3, &steady)]);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let f = &report.findings[0];
    assert_eq!((f.id, f.scope.site.as_deref()), (FailureMode::Unexplained, Some("3")));
    assert_eq!(
        (f.start.to_rfc3339().as_str(), f.end.to_rfc3339().as_str()),
        ("2025-11-24T09:00:00.000000000Z", "2025-11-24T09:20:00.000000000Z")
    );
    assert!(f.explanation.contains("no request for 20 minutes"), "{}", f.explanation);

    // Bursts of six requests every 25 minutes: busy minutes, but no steady
    // traffic to fall silent.
    let mut bursty = String::from(LOG_HEADER);
    for minute in (0..240).step_by(25) {
        (0..6).for_each(|i| bursty.push_str(&line(minute, i * 10)));
    }
    let report = analyze_site_logs(&[("WEB06", 3, &bursty)]);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

/// A burst of abandoned requests is a worker that went away when HTTP.sys
/// names the pool; with no pool named, the queue is another program's and
/// the burst stays `unexplained`. Scattered abandonments are no finding.
#[test]
fn abandoned_request_bursts_name_the_worker_only_when_the_pool_is_known() {
    let httperr = |queue: &str, seconds: &[u32]| {
        let mut log = String::from(
            "#Software: Microsoft HTTP API 2.0\r\n#Version: 1.0\r\n#Date: 2025-11-24 10:00:00\r\n#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename\r\n",
        );
        for (i, s) in seconds.iter().enumerate() {
            log.push_str(&format!(
                "2025-11-24 10:{:02}:{:02} 10.0.0.{} 5{i:04} 10.0.0.1 2869 HTTP/1.1 NOTIFY /upnp/eventing/x{i} - - - - Connection_Abandoned_By_ReqQueue {queue}\r\n",
                s / 60,
                s % 60,
                i + 2
            ));
        }
        log
    };
    let analyze_httperr = |log: String| {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join("WEB04/HTTPERR");
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join("httperr1.log"), log).expect("write");
        analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &Scope::default(), &|_| {})
    };

    let pooled = analyze_httperr(httperr("ShopPool", &[30, 30, 30, 31]));
    assert_eq!(pooled.findings.len(), 1, "{:?}", pooled.findings);
    assert_eq!(pooled.findings[0].id, FailureMode::WorkerCrash);
    assert_eq!(pooled.findings[0].scope.app_pool.as_deref(), Some("ShopPool"));

    let foreign = analyze_httperr(httperr("-", &[30, 30, 30, 31]));
    assert_eq!(foreign.findings.len(), 1, "{:?}", foreign.findings);
    let f = &foreign.findings[0];
    assert_eq!((f.id, f.scope.app_pool.as_deref()), (FailureMode::Unexplained, None));
    assert!(f.explanation.contains("4 requests for /upnp"), "{}", f.explanation);
    assert_eq!(f.evidence.len(), 4);

    let scattered = analyze_httperr(httperr("-", &[30, 400, 900, 1500]));
    assert!(scattered.findings.is_empty(), "{:?}", scattered.findings);
}

/// Different failure modes of one app pool on several servers at once are
/// one incident; the same moment on an unrelated pool is not.
#[test]
fn different_failures_of_one_pool_across_a_farm_are_related() {
    let dir = tempfile::tempdir().expect("tempdir");
    let header = "#Software: Microsoft HTTP API 2.0\r\n#Version: 1.0\r\n#Date: 2025-11-24 10:00:00\r\n#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename\r\n";
    for (host, status, reason, pool) in [
        ("WEB01", "-", "Connection_Abandoned_By_ReqQueue", "ShopPool"),
        ("WEB02", "503", "Disabled", "ShopPool"),
        ("WEB03", "503", "QueueFull", "ReportsPool"),
    ] {
        let mut log = String::from(header);
        for i in 0..6 {
            log.push_str(&format!("2025-11-24 10:00:3{} 10.0.0.9 5000{i} 10.0.0.1 80 HTTP/1.1 GET /cart{i} - {status} - {reason} {pool}\r\n", i / 3));
        }
        let folder = dir.path().join(host).join("HTTPERR");
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join("httperr1.log"), log).expect("write");
    }
    let report = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &Scope::default(), &|_| {});
    let at = |host: &str| {
        report
            .findings
            .iter()
            .position(|f| f.scope.host.as_deref() == Some(host))
            .expect("a finding per host")
    };
    let (web01, web02, web03) = (at("WEB01"), at("WEB02"), at("WEB03"));
    assert_eq!(report.findings[web01].id, FailureMode::WorkerCrash);
    assert_eq!(report.findings[web02].id, FailureMode::PoolStopped);
    assert_eq!(report.findings[web01].related, [web02 + 1]);
    assert_eq!(report.findings[web02].related, [web01 + 1]);
    assert_eq!(report.findings[web03].id, FailureMode::RequestQueueFull);
    assert!(report.findings[web03].related.is_empty(), "{:?}", report.findings[web03]);
    assert_eq!(report.findings.len(), 3, "{:?}", report.findings);
}

/// A database login failure on the SQL host is tied, through the machine
/// account it names, to the web server where the pool's identity changed:
/// its workers' logons before and after the switch, and the application's
/// own error, are cited with the SQL Server's 18456s.
#[test]
fn a_failed_database_login_is_traced_to_the_identity_change_on_the_web_server() {
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/scenarios/db-login-failure");
    let report = analyze(&[scenario], &ReadConfig::default(), &Scope::default(), &|_| {});
    let f = &report.findings[0];
    assert_eq!(f.id, FailureMode::DbLoginFailure);
    // The scope is the web server whose identity SQL Server refused; the SQL
    // host that logged it is in the evidence.
    assert_eq!((f.scope.host.as_deref(), f.scope.app_pool.as_deref()), (Some("WEB01"), Some("ApiPool")));
    assert!(f.explanation.contains("logged on as CONTOSO\\svc-api"), "{}", f.explanation);
    assert!(f.explanation.contains("switched to ApplicationPoolIdentity"), "{}", f.explanation);
    let cited = |needle: &str| f.evidence.iter().filter(|e| e.summary.contains(needle)).collect::<Vec<_>>();
    let before = cited("worker logon (batch) as CONTOSO\\svc-api");
    let after = cited("worker logon (service) as IIS APPPOOL\\ApiPool");
    let app = cited("ASP.NET 1309");
    assert_eq!((before.len(), after.len(), app.len()), (1, 1, 1), "{:?}", f.evidence);
    assert!(
        before[0].path.ends_with("WEB01/Security.evtx") && after[0].path.ends_with("WEB01/Security.evtx")
    );
    assert!(before[0].time < after[0].time && after[0].time <= f.start, "the switch precedes the failures");
    assert!(app[0].path.ends_with("WEB01/Application.evtx"));
}

/// A generated attack scenario (one host, three hours) and the `analyze`
/// report of it with the bundled pack.
fn attack_report(name: &str, seed: u64) -> (faultline_corpus::scenario::Truth, faultline_analyzer::Report) {
    let size = Size { hosts: 1, hours: 3, rate: 0.3 };
    let dir = tempfile::tempdir().expect("tempdir");
    let truth = generate_in(name, dir.path(), seed, &size, Layout::Bundle).expect("generates");
    (truth, common::analyzed_with_the_pack(dir.path()))
}

/// The attack scenarios, through `analyze` with the bundled pack: each
/// yields its techniques, every detection cites its file and line or
/// record, and the healthy day (with its look-alikes: a search sorted with
/// `order by`, an administrator's appcmd, scanner noise) gives nothing of
/// level medium or above.
#[test]
fn attack_scenarios_yield_their_techniques() {
    let mut wrong = Vec::new();
    for (name, seed) in [
        "web-shell",
        "scanner",
        "password-guessing",
        "ftp-password-guessing",
        "viewstate-exploit",
        "sharepoint-toolshell",
        "backdoor-module",
        "log-clearing",
        "logging-off",
        "healthy",
    ]
    .iter()
    .flat_map(|n| [5u64, 17, 29].map(|s| (*n, s)))
    {
        let (truth, report) = attack_report(name, seed);
        let techniques: Vec<&str> = report
            .detections
            .iter()
            .flat_map(|d| d.rule.meta.techniques.iter().map(String::as_str))
            .collect();
        let missing: Vec<&&str> = truth.techniques.iter().filter(|t| !techniques.contains(t)).collect();
        let uncited = report
            .detections
            .iter()
            .filter(|d| d.evidence.line.is_none() && d.evidence.record.is_none())
            .count();
        let loud =
            report.detections.iter().filter(|d| d.rule.meta.level >= faultline_hunt::Level::Medium).count();
        // The cleared logs and the logging switched off are both a finding
        // and a detection, tied together.
        let tied = !matches!(name, "log-clearing" | "logging-off")
            || report.findings.first().is_some_and(|f| !f.detections.is_empty());
        let right = missing.is_empty() && uncited == 0 && (name != "healthy" || loud == 0) && tied;
        if !right {
            wrong.push(format!(
                "{name} seed {seed}: missing {missing:?}, {uncited} uncited, {loud} loud, tied {tied}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The ToolShell scenario's whole story, not only its techniques (which
/// the worker's shell and the bypass alone would give): the bypass
/// chained to the worker's PowerShell in one pool, the page that
/// PowerShell wrote, and the page asked for, each citing its line or
/// record.
#[test]
fn the_toolshell_scenario_chains_its_bypass_to_the_workers_shell() {
    let (_, report) = attack_report("sharepoint-toolshell", 5);
    let titled = |title: &str| report.detections.iter().find(|d| d.rule.meta.title == title);
    let chain = titled("SharePoint Tool Pane Bypass Runs Commands").expect("the chain");
    assert_eq!(chain.rule.meta.level, faultline_hunt::Level::Critical);
    assert_eq!(chain.app_pool.as_deref(), Some("ShopPool"));
    let page = titled("Web Shell Of The SharePoint ToolShell Campaigns Answered").expect("the dropped page");
    assert!(
        page.evidence.summary.starts_with("GET /_layouts/15/spinstall0.aspx 200"),
        "{}",
        page.evidence.summary
    );
    assert!(page.evidence.line.is_some());
    let written = titled("Shell Started By The IIS Worker Writes A Script File").expect("the page written");
    assert_eq!(written.app_pool.as_deref(), Some("ShopPool"));
    assert!(written.evidence.record.is_some());
    assert!(titled("SharePoint Tool Pane Bypass Turned Away").is_none());
}
