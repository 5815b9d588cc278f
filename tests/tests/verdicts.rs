//! The real-evidence scorecard: each folder of `$FAULTLINE_SAMPLES`,
//! analyzed on its own as an analyst would receive it, against the verdict
//! of an IIS engineer who read the files. Per folder: the finding that must
//! come first (its id and host), or none above info for healthy evidence and
//! for evidence of machines that do not run IIS, and the look-alikes that
//! must not be reported above info. Each verdict says why, citing the
//! records (`#n` is the n-th event of an `eventlog.xml`, `L` a line).

#![allow(clippy::print_stderr)] // the scorecard is printed for the reader

use std::path::PathBuf;

mod common;

use faultline_analyzer::finding::{FailureMode, Severity};
use faultline_analyzer::{Scope, analyze};
use faultline_parser::ReadConfig;

struct Verdict {
    folder: &'static str,
    /// The first finding's id and host; `None`: nothing above info.
    first: Option<(&'static str, &'static str)>,
    /// Modes that must not be reported above info.
    never: &'static [&'static str],
}

/// What `analyze` reports on `paths` with the default settings.
fn analyzed(paths: &[PathBuf]) -> faultline_analyzer::Report {
    analyze(paths, &ReadConfig::default(), &Scope::default(), &|_| {})
}

const VERDICTS: &[Verdict] = &[
    // eventlog.xml #1 ASP.NET 1325 "the process was terminated", Process ID
    // 6852, ConfigurationErrorsException for a DiagnosticMonitorTraceListener
    // that is not deployed; #2 .NET Runtime 1026 "Application: w3wp.exe".
    // No WAS on App Service: the worker's own reports prove the crash.
    Verdict {
        folder: "azure-eventlog-mmravec-myWeatherRespons",
        first: Some(("worker-crash", "AZURE-EVENTLOG-MMRAVEC-MYWEATHERRESPONS")),
        never: &["config-error", "app-exception", "ancm-startup-failure"],
    },
    // #1 1026 w3wp InvalidOperationException "Changing the URL is not
    // supported" at Program.Main, #2 ANCM 1018, #3 1007 "CLR worker thread
    // exited prematurely", the same second; again at 18:44:43 (#4-#6).
    Verdict {
        folder: "azure-eventlog-alazhar98-school-hall-booking",
        first: Some(("ancm-startup-failure", "AZURE-EVENTLOG-ALAZHAR98-SCHOOL-HALL-BOOKING")),
        never: &["worker-crash", "app-exception", "config-error"],
    },
    // kudu/trace: a zipdeploy POST whose client disconnected (L11), 500 on
    // the SCM site of school-booking-app (X-SITE-DEPLOYMENT-ID): a failed
    // deployment, low (the application kept what it ran); no outage.
    Verdict {
        folder: "azure-kudu-alazhar98-school-hall-booking",
        first: Some(("deployment", "SCHOOL-BOOKING-APP")),
        never: &["ancm-startup-failure", "worker-crash", "app-exception"],
    },
    // eventlog.prev.xml #4 1026 "CORS configuration is missing", #5 1018, #6
    // 1007; started again at #9 (1032). app_offline deployments (1012) are
    // low; ObjectDisposedException "BackgroundService failed" entries while
    // the app stops are not crashes (they hold up its shutdown: ANCM 1005,
    // recycle-unhealthy, see below); the SdapProblemException rows were
    // answered 409 by the app ("Request failed with 409").
    Verdict {
        folder: "azure-eventlog-spaarke-dev-spaarke",
        first: Some(("ancm-startup-failure", "SPE-API-DEV-67E2XZ")),
        never: &["worker-crash", "auth-failure"],
    },
    // ErrorPage000019: 503.0 from AspNetCoreModuleV2 with 0x8007045B (the app
    // was shutting down for a deployment): a restart under way, low, not a
    // stopped pool; ErrorPage000017: a 400.0 the app answered, no failure
    // of the server.
    Verdict {
        folder: "azure-detailederrors-spaarke-dev-spaarke",
        first: Some(("recycle-on-demand", "SPE-API-DEV-67E2XZ")),
        never: &["pool-stopped", "rapid-fail-protection", "request-queue-full", "ancm-startup-failure"],
    },
    // #141 1026 FileNotFoundException Microsoft.Extensions.Logging.Abstractions
    // 9.0.0.0 on .NET 8, #142 1018, #143 1007; 1032 at #146 after a redeploy.
    // W3SVC-WP 2303 preload warnings (#12-#13) are not app-init failures.
    Verdict {
        folder: "azure-eventlog-sadabyakod-school-ai-chatbot",
        first: Some(("ancm-startup-failure", "SMARTSTUDY-API")),
        never: &["app-init-failure"],
    },
    // ErrorPage000027: 500.30, AspNetCoreModuleV2, 0x8007023E: one is enough.
    // ErrorPage000018: 503.0 0x800704E7 during shutdown, a restart under way
    // (low, after the startup failure), not a stopped pool.
    Verdict {
        folder: "azure-detailederrors-sadabyakod-school-ai-chatbot",
        first: Some(("ancm-startup-failure", "SMARTSTUDY-API")),
        never: &["pool-stopped", "rapid-fail-protection", "request-queue-full", "worker-crash"],
    },
    // prev #5 1026 Npgsql 28P01 password authentication failed for user
    // "staybot_admin", #6 1018, #7 1007; recurring start failures for three
    // months (1031/1010, 1027 framework missing, hostpolicy.dll). The 1026s
    // of dotnet.exe and Hostr.Api.exe are not IIS workers; 2299 "Startup
    // Failures" is the same failure; the 1309s are Kudu's log stream
    // (0x800704CD).
    Verdict {
        folder: "azure-eventlog-tshekom8206-staybotplatform",
        first: Some(("ancm-startup-failure", "STAYBOT-API")),
        never: &["worker-crash", "app-exception", "app-init-failure", "missing-logs"],
    },
    // ErrorPage000001: 500.31, AspNetCoreModuleV2, 0x8000FFFF, for
    // http://localhost:80/ (the page names no site).
    Verdict {
        folder: "azure-detailederrors-tshekom8206-staybotplatform",
        first: Some(("ancm-startup-failure", "AZURE-DETAILEDERRORS-TSHEKOM8206-STAYBOTPLATFORM")),
        never: &["handler-missing", "config-error", "worker-crash"],
    },
    // #3 1026 "Unable to resolve service for type TelemetryClient", #4 1018,
    // #5 1007; 22 paired 1026s; 2299 escalations; 2303 preload pairs.
    Verdict {
        folder: "azure-eventlog-BandaruDheeraj-DeadlockDemoDotNet",
        first: Some(("ancm-startup-failure", "DEADLOCK-DEMO-APP")),
        never: &["worker-crash", "recycle-unhealthy", "app-init-failure", "app-exception"],
    },
    // #17 1026 EF PendingModelChangesWarning, #18 1018, #19 1007; later SQL
    // 40613 (database unavailable) and 1785 (schema): not login failures.
    Verdict {
        folder: "azure-eventlog-ArasaniRohithReddy-college-attendance",
        first: Some(("ancm-startup-failure", "COLLEGE-ATTENDANCE-API-ARASANIROHITH")),
        never: &["db-login-failure", "worker-crash", "app-exception"],
    },
    // All 67 1026s are the site's own out-of-process app (dotnet.exe, later
    // its apphost TiketApp.Api.exe) throwing out of TiketOnlyMe.Program.Main
    // in triplets seconds apart (ANCM's retries): #4 (line 65) SqlException
    // error 40 against server '.', from #26 (line 509) subjects.json not
    // published, from #192 (line 1144, 22:05) "Invalid column name
    // 'NotificationEmail'" (207, a migration not applied). ANCM 1033 and
    // 1005 name the site TKTSYS-BASEL-487; the 1032s between the crashes are
    // a Functions host from the site extensions, not the app starting. Not a
    // database login, not w3wp.
    Verdict {
        folder: "azure-eventlog-baselAhmed2-deployvercel",
        first: Some(("ancm-startup-failure", "TKTSYS-BASEL-487")),
        never: &["worker-crash", "db-login-failure", "app-exception"],
    },
    // #1-#3 (23:55:07) ZipFS, Level 1: "ZipFS setup failed. Error:
    // 0x80070003", "Failed to copy zip from remote source", a failure zip
    // mounted: the site's run-from-package zip could not be fetched, so it
    // served the failure package (a deployment that failed, high). The
    // 1005/1032 loop after it is a Functions placeholder's: not the app.
    Verdict {
        folder: "azure-eventlog-vedprakash-m-vcarpool",
        first: Some(("deployment", "AZURE-EVENTLOG-VEDPRAKASH-M-VCARPOOL")),
        never: &["ancm-startup-failure", "worker-crash", "rapid-fail-protection"],
    },
    // #1001 1310 HttpParseException on /Home/Partyapp, #1002/#1005 1310
    // HttpCompileException (.vbhtml BC30203), #1004 1309 IOException: Razor
    // views edited live, each hit a 500. The "potentially dangerous
    // Request.Path" 1309s are scanners (400), the .NET Runtime 1022 profiler
    // warnings and HttpPlatformHandler 2000 chatter are nothing.
    Verdict {
        folder: "azure-eventlog-erinjmackey-WineDraw",
        first: Some(("app-exception", "MACKEYWINEDRAW")),
        never: &["worker-crash", "app-init-failure", "config-error"],
    },
    // #1/#3 1309 request validation on Ghost slugs with ':' (400), #2 1301,
    // PowerShell from the Kudu console: healthy.
    Verdict {
        folder: "azure-eventlog-thinkwhale-MyTakeOnQuotes",
        first: None,
        never: &["app-exception", "worker-crash", "missing-logs"],
    },
    // ErrorPage000002: 500.1001 set by iisnode, 0x2: node.exe is not listening.
    Verdict {
        folder: "azure-detailederrors-thinkwhale-MyTakeOnQuotes",
        first: Some(("app-init-failure", "MYTAKEONQUOTES")),
        never: &["worker-crash", "ancm-startup-failure", "handler-missing", "config-error"],
    },
    // ErrorPage000056: 500.1000 set by iisnode, 0x407: node.exe failed to start.
    // iisnode's logging-errors.txt: 30 entries, 22:55:52 to 23:04:40, each
    // "Application has thrown an uncaught exception and is terminated:
    // SyntaxError: Unexpected token >" at Module._compile (module.js:434):
    // the app's arrow functions under a Node.js from before version 10 (its
    // module loader is module.js). Its folder names no site.
    Verdict {
        folder: "azure-application-HelixAutomations-instruct-pitch",
        first: Some(("app-init-failure", "AZURE-APPLICATION-HELIXAUTOMATIONS-INSTRUCT-PITCH")),
        never: &["worker-crash", "unexplained"],
    },
    Verdict {
        folder: "azure-detailederrors-HelixAutomations-instruct-pitch",
        first: Some(("app-init-failure", "INSTRUCT-HELIXLAW-PITCH")),
        never: &["worker-crash", "ancm-startup-failure", "app-exception"],
    },
    // Application Insights agent 1032/1033, MaxRequestBodySize warnings: no
    // outage. #54, ASP.NET 1309 on the .scm. site: Kudu threw "Repository url
    // 'testWebsite' is invalid" on /deploy?scmType=ExternalGit, a deployment
    // refused before it fetched anything: a failed deployment, low, and not
    // the app's exception.
    Verdict {
        folder: "azure-eventlog-mattroot87-testWebsiteBackup",
        first: Some(("deployment", "EZT-DUMMY-APP")),
        never: &["app-exception", "ancm-startup-failure"],
    },
    // Routine 1032/1033, warnings, 2303 preload pairs (#38/#39): healthy.
    Verdict {
        folder: "azure-eventlog-calendarsystems-tools.docketcalendar.com",
        first: None,
        never: &["app-init-failure", "unexplained"],
    },
    // 200 and 302 only (the 302s are AlwaysOn pings five minutes apart).
    Verdict {
        folder: "azure-rawlogs-anton-bot-azure-iis-log-analyzer-online",
        first: None,
        never: &["rewrite-loop"],
    },
    // A WordPress install: two 500.0 win32 0 among 237 rows, one 404.3 on a
    // .php URL, one 404.17 from a scanner: none of them decisive.
    Verdict {
        folder: "w3c-know-it-peru-WebKnowIT",
        first: None,
        never: &["handler-missing", "static-content-failure", "app-exception", "slow-responses"],
    },
    Verdict { folder: "w3c-bherila-waikolai", first: None, never: &["unexplained", "slow-responses"] },
    Verdict { folder: "w3c-tstack-lnav", first: None, never: &[] },
    // Two 500s from SQL injection probes (iis7_sqli.log L5-L6): security, not
    // an outage.
    Verdict {
        folder: "w3c-log2timeline-plaso",
        first: None,
        never: &["app-exception", "db-login-failure", "unexplained"],
    },
    Verdict { folder: "w3c-brianary-scripts", first: None, never: &[] },
    Verdict { folder: "w3c-elastic-beats", first: None, never: &[] },
    // UPnP/WSD traffic on ports 2869/5357: abandoned requests without a queue.
    Verdict {
        folder: "httperr-koytze-learn_python",
        first: None,
        never: &["worker-crash", "pool-stopped", "request-queue-full", "request-limits"],
    },
    Verdict { folder: "httperr-log2timeline-plaso", first: None, never: &["request-limits"] },
    Verdict { folder: "httperr-elastic-integrations", first: None, never: &["request-limits"] },
    Verdict { folder: "httperr-elastic-beats", first: None, never: &[] },
    Verdict { folder: "freb-Mexia-AzureDemos-WebSites-ClassicAsp", first: None, never: &[] },
    Verdict { folder: "freb-Globalync-Jilly", first: None, never: &["slow-responses"] },
    Verdict { folder: "freb-Implicate-X-AluLab", first: None, never: &["rewrite-loop"] },
    // fr000001.xml: FREB took a POST /doclinkiis/BankerUpload for time
    // taken (failureReason TIME_TAKEN, timeTaken 61230, status 200), its
    // events cut at the size limit 0.73 s in (LOG_FILE_MAX_SIZE_TRUNCATE),
    // a 526,108,463-byte body (ANCM setting Content-Length, line 1080): a
    // long upload the client's link may account for, info; no outage, no
    // hang, no backend failure.
    Verdict {
        folder: "freb-pcdccam-Nanette2022",
        first: None,
        never: &["worker-hang", "backend-failure", "slow-responses"],
    },
    // A workstation's System log: planned reboots and a cleared Sysmon
    // channel (ERID 1847/1848); no IIS on it, so all of it is background.
    Verdict { folder: "evtx-omerbenamram-evtx", first: None, never: &["worker-crash"] },
    // A domain controller's reboots, one unclean (ERID 1041 6008): no IIS.
    Verdict { folder: "evtx-log2timeline-plaso", first: None, never: &[] },
    // HttpEvent 15007 URL reservations added, a reboot: no IIS.
    Verdict { folder: "evtx-Menna-Islam-Zeus", first: None, never: &["binding-conflict", "missing-logs"] },
    // MSSQL01 refusing `unexisting-user` (Windows authentication only) with no
    // web server in the evidence; SMB password guessing; rundll32 faults.
    Verdict {
        folder: "evtx-Yamato-Security-hayabusa-sample-evtx",
        first: None,
        never: &["db-login-failure", "worker-crash", "auth-failure", "identity-logon-failure"],
    },
    // Runas_4624_4648_Webshell_CreateProcessAsUserA.evtx ERID 161471: the
    // Security log of MSEDGEWIN10 cleared by IEUser, on the machine whose
    // w3wp the Sysmon captures show tunnelling and running shells: high, and
    // first. DE_104_system_log_cleared.evtx ERID 27736: the System log of
    // PC01 cleared by EXAMPLE\user01 (medium: no IIS on PC01); the Security
    // log cleared too. DE_WinEventLogSvc_Crash_System_7036.evtx ERID 65377:
    // the Event Log service running again on 01566S-WIN16-IR with no boot:
    // a gap (low, no IIS there). The web-shell samples are security, not an
    // outage; the 18456 guessing burst (sa and root refused for their
    // passwords) is on the machine whose Sysmon shows w3wp: low, as the
    // cleared log there is a web server's.
    Verdict {
        folder: "evtx-sbousseaden-EVTX-ATTACK-SAMPLES",
        first: Some(("missing-logs", "MSEDGEWIN10")),
        never: &["worker-crash", "unexplained", "auth-failure"],
    },
    // One WER 1001 servicing report: not a w3wp crash.
    Verdict { folder: "evtxml-elastic-beats", first: None, never: &["worker-crash"] },
];

fn samples() -> Option<PathBuf> {
    common::samples("the real-evidence scorecard")
}

#[test]
fn every_real_sample_gets_the_verdict_of_an_iis_engineer() {
    let Some(root) = samples() else { return };
    let mut lines = Vec::new();
    let mut wrong = Vec::new();
    for v in VERDICTS {
        let report = analyzed(&[root.join(v.folder)]);
        let above_info: Vec<_> = report.findings.iter().filter(|f| f.severity > Severity::Info).collect();
        let got = above_info.first().map(|f| (f.id.id(), f.scope.host.as_deref().unwrap_or("-")));
        let forbidden: Vec<&str> =
            above_info.iter().map(|f| f.id.id()).filter(|id| v.never.contains(id)).collect();
        let right = got == v.first && forbidden.is_empty();
        lines.push(format!(
            "{} {:<58} expected {:?} got {:?}{}",
            if right { "ok  " } else { "FAIL" },
            v.folder,
            v.first,
            got,
            if forbidden.is_empty() { String::new() } else { format!(" and never-modes {forbidden:?}") }
        ));
        if !right {
            wrong.push(v.folder);
        }
    }
    eprintln!("real-evidence scorecard: {} of {} right", VERDICTS.len() - wrong.len(), VERDICTS.len());
    for l in &lines {
        eprintln!("  {l}");
    }
    assert!(wrong.is_empty(), "{}", lines.join("\n"));
}

/// The Event Log service crashed and started again without a boot
/// (sbousseaden's capture, ERID 65377): what happened while it was down
/// was never logged.
#[test]
fn the_event_log_service_restarted_outside_a_boot_is_a_gap() {
    let Some(root) = samples() else { return };
    let file = root.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/DE_WinEventLogSvc_Crash_System_7036.evtx");
    let report = analyzed(&[file]);
    let got: Vec<(&str, Option<&str>, Severity)> =
        report.findings.iter().map(|f| (f.id.id(), f.scope.host.as_deref(), f.severity)).collect();
    assert_eq!(got, [("missing-logs", Some("01566S-WIN16-IR"), Severity::Low)]);
    assert_eq!(report.findings[0].evidence[0].record, faultline_parser::RecordId::new(65377));
    // Its 7036s from 16:57:41 are only counted by default: said, not
    // denied.
    let said = &report.findings[0].explanation;
    assert!(said.contains("the host logged events before it that are only counted here"), "{said}");
}

/// plaso's System.evtx: two virtual machines whose hardware clocks keep
/// another zone's time than Windows. WIN-NBRJP24VCHB's clock was set back
/// nine hours at 09:12:25 (Kernel-General 1, record 389), minutes after the
/// boot it timed 18:08:23 (Kernel-General 12, record 321); DC1's two hours
/// at each of two boots (records 967 and 1056). The boot events timed by
/// the clocks as they were are placed by the clocks as set right, and say
/// so: WIN-NBRJP24VCHB's unclean restart logged at 18:08 is 09:08, the
/// first of its four restarts in a row; DC1's Kernel-Power 41 logged at
/// 15:40:40 is 13:40:42, the same boot as the 6008 and 6005 written at
/// 13:41:19 after the step (one restart, not two): its power button was
/// pressed at 13:35:26 (41's PowerButtonTimestamp), a minute after 6008's
/// "last running at 1:34:44 PM", so the restart runs from the press. DC1's
/// restarts logged on the clock as set (13:04) and of September say
/// nothing of a clock.
#[test]
fn clocks_set_back_at_boot_are_named_and_the_restarts_they_time_say_so() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("evtx-log2timeline-plaso")]);
    let steps: Vec<(&str, i64, bool, Vec<String>)> = report
        .clock_steps
        .iter()
        .map(|s| {
            let records = s.evidence.iter().filter_map(|e| e.record.map(|r| r.to_string())).collect();
            (s.host.as_str(), s.step_seconds / 60, s.hardware_clock_in_another_zone, records)
        })
        .collect();
    let records = |r: &str| vec![r.to_string()];
    assert_eq!(
        steps,
        [
            ("WIN-NBRJP24VCHB", -539, true, records("389")),
            ("DC1", -119, true, records("967")),
            ("DC1", -119, true, records("1056")),
        ]
    );
    let restarts: Vec<(&str, String, String)> = report
        .findings
        .iter()
        .filter(|f| f.id.id() == "reboot")
        .map(|f| (f.scope.host.as_deref().unwrap_or("-"), f.start.to_prose(), f.end.to_prose()))
        .collect();
    let at = |t: &str| format!("2015-{} UTC", t.replace('T', " "));
    assert_eq!(
        restarts,
        [
            ("37L4247F27-26", at("06-23T06:03:54"), at("06-23T06:04:53")),
            ("WIN-NBRJP24VCHB", at("08-08T09:08:31"), at("08-08T09:39:54")),
            ("DC1", at("08-25T13:04:03"), at("08-25T13:19:44")),
            ("DC1", at("08-25T13:35:26"), at("08-25T13:41:19")),
            ("DC1", at("09-18T07:58:00"), at("09-18T07:58:45")),
        ]
    );
    let said = |host: &str, start: &str| {
        let f = report
            .findings
            .iter()
            .find(|f| f.scope.host.as_deref() == Some(host) && f.start.to_rfc3339().starts_with(start));
        f.unwrap_or_else(|| panic!("a finding on {host} at {start}")).explanation.as_str()
    };
    let vm = said("WIN-NBRJP24VCHB", "2015-08-08T09:08");
    assert!(vm.contains("Its clock ran 9 h 0 min ahead from that boot"), "{vm}");
    assert!(vm.contains("no bug check and no power button"), "{vm}");
    let dc = said("DC1", "2015-08-25T13:35");
    for part in [
        "restarted without a clean shutdown",
        "Its power button was pressed at 2015-08-25 13:35:26 UTC",
        "last running at 1:34:44 PM on 8/25/2015",
        "Its clock ran 2 h 0 min ahead from that boot",
    ] {
        assert!(dc.contains(part), "{part}: {dc}");
    }
    for start in ["2015-08-25T13:04:03", "2015-09-18T07:58:00"] {
        assert!(!said("DC1", start).contains("clock"), "DC1 {start} was logged on the clock as set");
    }
}

/// Machines renamed at first boot (EventLog 6011): plaso's DC1 was
/// 37L4247F27-26 (record 2), then WIN-NBRJP24VCHB (record 732); Zeus's
/// PROACTIVE-PC was 37L4247F27-25, then WIN-CMUL35D0HFB; omerbenamram's
/// DESKTOP-2KGM189 was WIN-P4SIAA0SQCO. Each machine is one line under
/// the report's header, under its last name.
#[test]
fn machines_renamed_at_first_boot_are_one_machine_under_their_last_name() {
    let Some(root) = samples() else { return };
    for (folder, machine, records, earlier) in [
        (
            "evtx-log2timeline-plaso",
            "DC1",
            vec!["2", "732"],
            "WIN-NBRJP24VCHB (renamed by 2015-08-08 09:39:54 UTC) and 37L4247F27-26",
        ),
        (
            "evtx-Menna-Islam-Zeus",
            "PROACTIVE-PC",
            vec!["1", "493"],
            "WIN-CMUL35D0HFB (renamed by 2024-12-18 09:13:36 UTC) and 37L4247F27-25",
        ),
        (
            "evtx-omerbenamram-evtx",
            "DESKTOP-2KGM189",
            vec!["174"],
            "WIN-P4SIAA0SQCO (renamed by 2017-07-12 17:18:17 UTC),",
        ),
    ] {
        let report = analyzed(&[root.join(folder)]);
        let cited: Vec<String> =
            report.renames.iter().filter_map(|r| r.evidence.record.map(|r| r.to_string())).collect();
        assert_eq!(cited, records, "{folder}");
        let notes = report.header_notes(&|t| t.to_prose());
        let note =
            notes.iter().find(|n| n.starts_with(machine)).unwrap_or_else(|| panic!("{folder}: {notes:?}"));
        assert!(note.starts_with(&format!("{machine} was earlier named {earlier}")), "{note}");
    }
}

/// omerbenamram's system.evtx: Windows Time set DESKTOP-2KGM189's clock
/// back ten hours at record 218 (17:18:24 to 07:18:24) and something set
/// it forward again at record 296 (07:35:10 to 17:19:49): the ten hours
/// were wrong between the two, not before them. One note says so, and the
/// step forward is not counted among the laptop's wakes.
#[test]
fn a_clock_set_wrong_and_set_right_within_the_hour_is_one_stretch() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("evtx-omerbenamram-evtx")]);
    let back = &report.clock_steps[0];
    let records = |s: &faultline_analyzer::clock::ClockStep| -> Vec<String> {
        s.evidence.iter().filter_map(|e| e.record.map(|r| r.to_string())).collect()
    };
    assert_eq!(
        (back.host.as_str(), back.step_seconds, records(back)),
        ("DESKTOP-2KGM189", -35_999, vec!["218".to_string()])
    );
    let undone = back.undone.as_ref().expect("set right again");
    assert_eq!(undone.from.to_rfc3339(), "2017-07-12T07:35:10.844291200Z");
    let again =
        report.clock_steps.iter().find(|s| s.undoes == Some(back.time)).expect("the step that undid it");
    assert_eq!(records(again), ["296"]);
    let notes = faultline_analyzer::clock::notes(&report.clock_steps, &|t| t.to_prose());
    assert!(notes[0].contains("and forward again"), "{notes:?}");
    assert!(notes[1].contains("set forward 159 times"), "{notes:?}");
}

/// ArasaniRohithReddy's App Service: six failed starts from 14:12 to 15:04
/// (a pending EF migration, a cascade-path schema error, the database
/// resuming from its pause) are the
/// outage; the one failed start the file ends with (17:19:30, #137-#139:
/// the Azure SQL database not available, 40613) is not said to go on, comes
/// after it, and asks for retries and auto-pause settings, not a firewall.
#[test]
fn one_failed_start_the_file_ends_with_comes_after_the_outage() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("azure-eventlog-ArasaniRohithReddy-college-attendance")]);
    assert!(
        report.findings[0].start.to_rfc3339().starts_with("2026-03-29T14:12"),
        "{:?}",
        report.findings[0]
    );
    let last = report
        .findings
        .iter()
        .find(|f| f.start.to_rfc3339().starts_with("2026-03-29T17:19"))
        .expect("the last failed start");
    assert!(!last.ongoing && last.explanation.contains("The evidence ends with it"), "{}", last.explanation);
    assert!(last.remediation.iter().any(|r| r.contains("auto-pause")), "{:?}", last.remediation);
}

/// staybot's App Service failed to start thirteen times over three months;
/// the episode still failing where the evidence ends (2026-01-08, a
/// package missing from the publish) comes first, before the recovered
/// ones of its severity.
#[test]
fn the_failure_still_going_on_comes_first() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("azure-eventlog-tshekom8206-staybotplatform")]);
    let first = &report.findings[0];
    assert_eq!(first.id.id(), "ancm-startup-failure");
    assert_eq!(first.start.to_string(), "2026-01-08T07:59:14.000000000Z");
    assert!(first.explanation.contains("No successful start follows"), "{}", first.explanation);
}

/// sadabyakod's old worker died as it unloaded (2025-12-13 19:59:10, .NET
/// Runtime 1026): an ObjectDisposedException in Application Insights'
/// Snapshot Collector, not in the app's code; the steps are the agent's.
#[test]
fn a_crash_in_a_monitoring_agent_names_the_agent() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("azure-eventlog-sadabyakod-school-ai-chatbot")]);
    let crash = report.findings.iter().find(|f| f.id.id() == "worker-crash").expect("the crash");
    assert_eq!(crash.start.to_string(), "2025-12-13T19:59:10.000000000Z", "the report's own time");
    assert!(
        crash
            .explanation
            .starts_with("The w3wp worker on SMARTSTUDY-API (instance WEBWK000003) was terminated"),
        "the site, and the worker that names itself: {}",
        crash.explanation
    );
    assert!(
        crash.explanation.contains("code of the Application Insights Snapshot Debugger, not the app's"),
        "{}",
        crash.explanation
    );
    assert!(crash.remediation.iter().any(|r| r.contains("Snapshot Debugger")), "{:?}", crash.remediation);
}

/// ANCM 1005, an app that outlasted its shutdown time limit, is the one
/// reason these App Service logs hold for `recycle-unhealthy` (their W3SVC-WP
/// 2299 "Startup Failures" belong to the failed starts); spaarke's names the
/// BackgroundService that threw as the app stopped (2026-01-20 22:32:32,
/// ServiceBusJobProcessor.ExecuteAsync), and the Functions placeholders'
/// 1005s (vcarpool's thirteen) are the platform's.
#[test]
fn an_app_that_outlasts_its_shutdown_limit_is_the_only_unhealthy_recycle() {
    let Some(root) = samples() else { return };
    for (folder, expected) in [
        ("azure-eventlog-spaarke-dev-spaarke", 3),
        ("azure-eventlog-sadabyakod-school-ai-chatbot", 1),
        ("azure-eventlog-tshekom8206-staybotplatform", 2),
        ("azure-eventlog-vedprakash-m-vcarpool", 0),
        ("azure-eventlog-baselAhmed2-deployvercel", 0),
    ] {
        let report = analyzed(&[root.join(folder)]);
        let unhealthy: Vec<_> = report.findings.iter().filter(|f| f.id.id() == "recycle-unhealthy").collect();
        assert_eq!(unhealthy.len(), expected, "{folder}");
        for f in &unhealthy {
            assert!(
                f.explanation.starts_with("The application did not shut down within ANCM's time limit"),
                "{}",
                f.explanation
            );
        }
        if folder.contains("spaarke") {
            assert!(
                unhealthy[0]
                    .explanation
                    .contains("(Sprk.Bff.Api.Services.Jobs.ServiceBusJobProcessor.ExecuteAsync)"),
                "{}",
                unhealthy[0].explanation
            );
            assert_eq!(unhealthy[0].start.to_string(), "2026-01-20T22:32:37.000000000Z");
        }
    }
}

/// baselAhmed2's second outage (15:06-15:29, the app dying in Program.Main
/// on worker after worker) has no ANCM start after it, but the app's own
/// log has it handling a request at 21:21:22 (HttpsRedirectionMiddleware,
/// RequestPath /): it is over, and the outage still going on is the last
/// one (22:05, "Invalid column name").
#[test]
fn an_outage_the_apps_own_request_log_ends_is_not_still_going_on() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("azure-eventlog-baselAhmed2-deployvercel")]);
    let ancm: Vec<_> = report.findings.iter().filter(|f| f.id.id() == "ancm-startup-failure").collect();
    assert_eq!(ancm.len(), 2);
    assert!(ancm[0].explanation.contains("Invalid column name"), "{}", ancm[0].explanation);
    assert!(
        ancm[1].explanation.contains("handling a request at 2026-04-13 21:21:22 UTC on 10-30-0-128"),
        "{}",
        ancm[1].explanation
    );
}

/// A site's detailed error pages read with its event log: the 500.30 page
/// (ErrorPage000027.htm) is cited in the ANCM finding its events make;
/// and pages of different sites, timed only by their files' copy, are
/// never one incident across hosts.
#[test]
fn error_pages_read_with_event_logs_are_cited_and_never_tie_hosts_together() {
    let Some(root) = samples() else { return };
    let both = [
        root.join("azure-detailederrors-sadabyakod-school-ai-chatbot"),
        root.join("azure-eventlog-sadabyakod-school-ai-chatbot"),
    ];
    let report = analyzed(&both);
    let ancm =
        report.findings.iter().find(|f| f.id.id() == "ancm-startup-failure").expect("the failed start");
    assert!(ancm.evidence.iter().any(|e| e.path.ends_with("ErrorPage000027.htm")), "{:?}", ancm.evidence);
    let pages = [
        root.join("azure-detailederrors-HelixAutomations-instruct-pitch"),
        root.join("azure-detailederrors-thinkwhale-MyTakeOnQuotes"),
    ];
    let report = analyzed(&pages);
    assert!(report.findings.len() >= 2);
    assert!(
        report.findings.iter().all(|f| f.related.is_empty()),
        "copied in the same second, no one incident"
    );
    assert!(report.findings.iter().all(|f| f.window_from_files), "pages alone: their windows are file dates");
    let json = serde_json::to_string(&report.findings[0]).expect("serializes");
    assert!(json.contains("\"window_from_files\":true"), "{json}");
}

/// HelixAutomations' download as App Service writes it, its two folders
/// under one `LogFiles`: the error page (500.1000 from iisnode) names the
/// site, iisnode's log why node.exe ended (30 times, SyntaxError:
/// Unexpected token >, through module.js): one finding, dated by the log.
#[test]
fn iisnodes_log_and_its_error_page_are_one_finding_dated_by_the_log() {
    let Some(root) = samples() else { return };
    let dir = app_service_download(
        &root,
        &[
            ("azure-application-HelixAutomations-instruct-pitch/Application", "Application"),
            ("azure-detailederrors-HelixAutomations-instruct-pitch/DetailedErrors", "DetailedErrors"),
        ],
    );
    let report = analyzed(&[dir.path().to_path_buf()]);
    let got: Vec<_> = report.findings.iter().map(|f| (f.id.id(), f.scope.host.as_deref())).collect();
    assert_eq!(got, [("app-init-failure", Some("INSTRUCT-HELIXLAW-PITCH"))]);
    let f = &report.findings[0];
    assert!(f.explanation.contains("30 times") && f.explanation.contains("SyntaxError: Unexpected token >"));
    assert!(f.explanation.contains("older Node than the app was written for"), "{}", f.explanation);
    assert_eq!(f.start.to_string(), "2025-08-15T22:55:52.000000000Z");
}

/// thinkwhale's 2014 download put back together: its error page, copied
/// years later, is dated by the copy, after the host's last record, which
/// is the last event of its log (2014-11-05 05:23:15), not only the last
/// event the analysis keeps.
#[test]
fn a_copy_dated_page_is_measured_against_everything_its_host_logged() {
    let Some(root) = samples() else { return };
    let dir = app_service_download(
        &root,
        &[
            ("azure-eventlog-thinkwhale-MyTakeOnQuotes", ""),
            ("azure-detailederrors-thinkwhale-MyTakeOnQuotes/DetailedErrors", "DetailedErrors"),
        ],
    );
    let last = "after this host's last other record (2014-11-05 05:23:15 UTC)";
    let report = analyzed(&[dir.path().to_path_buf()]);
    let page = report.findings.iter().find(|f| f.window_from_files).expect("the page's finding");
    assert!(page.explanation.contains(last), "{}", page.explanation);
    // A range of the log's first day keeps the page (its date is the
    // copy's, its request may lie inside) and still measures it against
    // what the host logged after the range.
    let time = |t: &str| faultline_parser::time::parse_rfc3339(t.as_bytes()).expect("a time");
    let first_day = Scope {
        from: Some(time("2014-11-04T00:00:00Z")),
        to: Some(time("2014-11-04T12:00:00Z")),
        ..Scope::default()
    };
    let ranged = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &first_day, &|_| {});
    let page = ranged.findings.iter().find(|f| f.window_from_files).expect("the copy-dated page, kept");
    assert!(page.explanation.contains(last), "{}", page.explanation);
    // A range that starts after the copy: its request came before the
    // copy, so before the range too.
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let later = Scope {
        from: Some(faultline_parser::Timestamp::from_parts(now as i64 + 86_400, 0)),
        ..Scope::default()
    };
    let after = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &later, &|_| {});
    assert!(after.findings.iter().all(|f| !f.window_from_files), "{:?}", after.findings);
    // A page dated within its host's days is dated by its request: outside
    // the range, it stays out.
    let pages = dir.path().join("LogFiles/DetailedErrors");
    for f in std::fs::read_dir(&pages).expect("pages").filter_map(Result::ok) {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_415_160_000); // 2014-11-05 04:00 UTC
        std::fs::File::options()
            .write(true)
            .open(f.path())
            .expect("opens")
            .set_modified(when)
            .expect("dates");
    }
    let dated = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &first_day, &|_| {});
    assert!(dated.findings.iter().all(|f| !f.window_from_files), "{:?}", dated.findings);
}

/// Sample folders split by kind, put back under one `LogFiles` as App
/// Service's download holds them: (sample folder, folder under LogFiles).
fn app_service_download(root: &std::path::Path, parts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("LogFiles");
    for (from, to) in parts {
        std::fs::create_dir_all(logs.join(to)).expect("folder");
        for f in std::fs::read_dir(root.join(from)).expect("sample").filter_map(Result::ok) {
            std::fs::copy(f.path(), logs.join(to).join(f.file_name())).expect("copy");
        }
    }
    dir
}

/// alazhar98's download whole: its Kudu trace names the site
/// (school-booking-app), and the zipdeploy whose upload was cut off at
/// 17:38 is named in the failed start six minutes later.
#[test]
fn a_failed_deployment_is_named_in_the_failed_start_after_it() {
    let Some(root) = samples() else { return };
    let dir = app_service_download(
        &root,
        &[
            ("azure-eventlog-alazhar98-school-hall-booking", ""),
            ("azure-kudu-alazhar98-school-hall-booking/kudu/trace", "kudu/trace"),
        ],
    );
    let report = analyzed(&[dir.path().to_path_buf()]);
    let first = &report.findings[0];
    assert_eq!(
        (first.id.id(), first.scope.host.as_deref()),
        ("ancm-startup-failure", Some("SCHOOL-BOOKING-APP"))
    );
    assert!(
        first.explanation.contains(
            "A deployment through Kudu failed 6 min before (POST /api/zipdeploy?isAsync=true answered 500 after \
                28 s: The client disconnected)"
        ),
        "{}",
        first.explanation
    );
}

/// tshekom's deployment of 2026-01-06 06:35: both App Service instances
/// failed to start on a deps.json package missing from the publish
/// (eventlog.xml records 252477828 on dw1sdwk000MOP, 1452970343 on
/// dw0sdwk000J2H), one outage of the site, one finding; the next
/// deployment's hostpolicy.dll failure (06:43:59 on dw0, 06:44:31 on dw1)
/// another.
#[test]
fn instances_failing_together_for_one_reason_are_one_finding() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("azure-eventlog-tshekom8206-staybotplatform")]);
    let that_morning: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.id.id() == "ancm-startup-failure" && f.start.to_string().starts_with("2026-01-06T06:"))
        .collect();
    assert_eq!(that_morning.len(), 2);
    let (deps, hostpolicy) = (&that_morning[0], &that_morning[1]);
    assert!(deps.explanation.contains("deps.json"), "{}", deps.explanation);
    assert!(
        deps.explanation.contains(
            "The same failure as on dw1sdwk000MOP, on instance dw0sdwk000J2H at the same time: 2 failed starts \
                from 2026-01-06 06:36:08 UTC, started again at 2026-01-06 06:40:34 UTC."
        ),
        "{}",
        deps.explanation
    );
    assert!(hostpolicy.explanation.contains("hostpolicy.dll"), "{}", hostpolicy.explanation);
    assert!(
        hostpolicy.explanation.contains("on instance dw1sdwk000MOP right after"),
        "{}",
        hostpolicy.explanation
    );
    // dw1sdwk000MOP had started at 06:41:48 but took the next deployment's
    // app_offline.htm at 06:43:15 and shut down (1012, 1033): no instance
    // served while dw0sdwk000J2H failed.
    assert!(!hostpolicy.explanation.contains("may have served"), "{}", hostpolicy.explanation);
    assert!(hostpolicy.explanation.contains("every request until then failed"), "{}", hostpolicy.explanation);
}

/// ArasaniRohithReddy's app migrates its database at startup: EF Core 9
/// refused a model with unmigrated changes (#17, 14:12 and 14:20), the
/// database was not available (40613, a serverless database resuming:
/// 14:25, twice), SQL Server refused the migration's foreign key (#72,
/// 1785, 14:27), and the database again at 15:02, two minutes before the
/// app started. The database stopped the most attempts and the last: it is
/// named first, in 3 of the 6; the migration's errors before it are named
/// too, and the steps are the database's, then the migration's.
#[test]
fn the_database_that_stopped_the_last_starts_is_named_before_the_migration() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("azure-eventlog-ArasaniRohithReddy-college-attendance")]);
    let first = &report.findings[0];
    let said = &first.explanation;
    assert!(
        said.contains("the Azure SQL database the app opens at startup was not taking connections"),
        "{said}"
    );
    assert!(
        said.contains("It threw Microsoft.Data.SqlClient.SqlException in 3 of the 6 failed starts"),
        "{said}"
    );
    assert!(said.contains("Other attempts threw System.InvalidOperationException"), "{said}");
    assert!(said.contains("PendingModelChangesWarning") && said.contains("FOREIGN KEY"), "{said}");
    assert!(first.remediation[0].contains("EnableRetryOnFailure"), "{:?}", first.remediation);
    assert!(
        first.remediation.iter().any(|s| s.contains("PendingModelChangesWarning")),
        "{:?}",
        first.remediation
    );
}

/// Every sample folder has a verdict: a new sample must be judged.
#[test]
fn every_sample_folder_has_a_verdict() {
    let Some(root) = samples() else { return };
    let mut folders: Vec<String> = std::fs::read_dir(&root)
        .expect("samples folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let judged: Vec<&str> = VERDICTS.iter().map(|v| v.folder).collect();
    let missing: Vec<&String> = folders.iter().filter(|f| !judged.contains(&f.as_str())).collect();
    assert!(missing.is_empty(), "sample folders without a verdict: {missing:?}");
    let modes: Vec<&str> = FailureMode::ALL.iter().map(|m| m.id()).collect();
    for v in VERDICTS {
        for id in v.first.iter().map(|(id, _)| *id).chain(v.never.iter().copied()) {
            assert!(modes.contains(&id), "{}: {id} is not a failure mode", v.folder);
        }
    }
}

/// spaarke's App Service download, its error pages and its event log
/// analyzed together: the 503.0 page (ErrorPage000019.htm, 0x8007045B,
/// shutting down) is dated by the sample's copy, months after the log, but
/// its URL names job a534fefb-9da1-4b72-9bda-e93039d5288d, which the app
/// logged from 17:48:34 to 17:49:23 on 2026-01-27; app_offline.htm took
/// the app down at 17:53:09 (eventlog.xml, ANCM 1012). The page is told
/// and cited in that deployment's finding, not at the copy's date, and no
/// recycle on demand is claimed.
#[test]
fn an_error_page_is_placed_by_the_events_that_name_its_requests_id() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[
        root.join("azure-detailederrors-spaarke-dev-spaarke"),
        root.join("azure-eventlog-spaarke-dev-spaarke"),
    ]);
    // The app_offline.htm it met is a deployment's, whose finding tells it.
    assert!(report.findings.iter().all(|f| f.id.id() != "recycle-on-demand"), "no recycle was asked for");
    let page = report
        .findings
        .iter()
        .find(|f| f.evidence.iter().any(|e| e.path.ends_with("ErrorPage000019.htm")))
        .expect("the 503.0 page is cited");
    assert_eq!(page.id.id(), "deployment");
    assert_eq!(
        (page.start.to_prose(), page.end.to_prose()),
        ("2026-01-27 14:15:13 UTC".to_string(), "2026-01-27 17:54:12 UTC".to_string()),
        "the deployment's five app_offline restarts"
    );
    assert!(page.explanation.contains("ANCM 1012: app_offline.htm took it offline"), "{}", page.explanation);
    assert!(page.explanation.contains("a534fefb-9da1-4b72-9bda-e93039d5288d"), "{}", page.explanation);
    // Its citation and its timeline step stand where it was placed, not at
    // the copy's date, which would end the root-cause timeline months on.
    let cited = page.evidence.iter().find(|e| e.path.ends_with("ErrorPage000019.htm")).expect("cited");
    assert_eq!(cited.time.to_prose(), "2026-01-27 17:49:23 UTC");
    assert!(cited.summary.ends_with("time: the last event naming its id (its file dated by a copy)"));
    assert!(page.timeline.iter().all(|step| step.time <= page.end), "{:#?}", page.timeline);
}

/// spaarke's failed starts (eventlog.prev.xml #2, 22:15:14): the app asks
/// for `Cors:AllowedOrigins`, which App Service takes as the application
/// setting `Cors__AllowedOrigins` (a colon does not pass through the
/// environment), the spelling the finding gives.
#[test]
fn a_setting_the_app_asks_for_is_named_as_app_service_spells_it() {
    let Some(root) = samples() else { return };
    let report = analyzed(&[root.join("azure-eventlog-spaarke-dev-spaarke")]);
    let start = &report.findings[0];
    assert_eq!(start.id.id(), "ancm-startup-failure");
    assert!(
        start.explanation.contains("the application setting Cors__AllowedOrigins on App Service"),
        "{}",
        start.explanation
    );
    assert!(start.remediation[0].contains("Section__Key__0"), "{:?}", start.remediation);
}
