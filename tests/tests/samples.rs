//! The parsers against the real public samples in `$FAULTLINE_SAMPLES`
//! (see ../shared/samples/SOURCES.md): exact record and rejected counts per
//! file, and spot-checked values.

#![allow(clippy::print_stderr)] // tests say loudly when they were skipped

use std::collections::BTreeMap;
use std::path::PathBuf;

use faultline_analyzer::{FileStatus, Inventory, Tally, summarize, summarize_problem};
use faultline_parser::{
    ArchiveLimits, Entry, Format, HttpError, Outcome, ReadConfig, RecordSink, Request, TextConfig, discover,
    read_entry,
};

/// The samples folder; a relative `FAULTLINE_SAMPLES` is taken from the
/// workspace root, where the README's test command runs.
fn samples() -> Option<PathBuf> {
    match std::env::var_os("FAULTLINE_SAMPLES") {
        Some(dir) => Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir)),
        None => {
            eprintln!("SKIPPED: FAULTLINE_SAMPLES is not set, so the real-sample tests did not run");
            None
        }
    }
}

/// Facts about one file, collected from every record.
#[derive(Default, Debug)]
struct Facts {
    records: u64,
    statuses: BTreeMap<String, u64>,
    reasons: BTreeMap<String, u64>,
    first: Vec<String>,
    rejected_lines: Vec<u64>,
}

fn text(v: Option<&[u8]>) -> String {
    v.map_or_else(|| "-".into(), |b| faultline_parser::value::decode_text(b).into_owned())
}

impl RecordSink for Facts {
    fn request(&mut self, r: &Request<'_>) {
        self.records += 1;
        let key = format!(
            "{}.{}.{}",
            r.status.map_or("-".into(), |s| s.to_string()),
            r.substatus.map_or("-".into(), |s| s.to_string()),
            r.win32_status.map_or("-".into(), |s| s.to_string())
        );
        *self.statuses.entry(key).or_default() += 1;
        if self.first.is_empty() {
            self.first = vec![
                r.time.to_rfc3339(),
                text(r.method),
                text(r.uri_stem),
                text(r.uri_query),
                r.client_ip.map_or("-".into(), |a| a.to_string()),
                text(r.user_agent),
                r.custom.iter().map(|(n, v)| format!("{n}={}", text(Some(v)))).collect::<Vec<_>>().join(","),
            ];
        }
    }
    fn http_error(&mut self, r: &HttpError<'_>) {
        self.records += 1;
        *self.reasons.entry(r.reason.to_string()).or_default() += 1;
        if self.first.is_empty() {
            self.first = vec![
                r.time.to_rfc3339(),
                r.client_ip.map_or("-".into(), |a| a.to_string()),
                r.client_port.map_or("-".into(), |p| p.to_string()),
                text(r.uri),
                r.status.map_or("-".into(), |s| s.to_string()),
                text(r.transport),
            ];
        }
    }
    fn diagnostic(&mut self, d: faultline_parser::Diagnostic) {
        if d.is_rejection()
            && let faultline_parser::Location::Line { line, .. } = d.location
        {
            self.rejected_lines.push(line);
        }
    }
}

fn facts(root: &std::path::Path, rel: &str, chunk_size: usize) -> (Format, Facts) {
    let found = discover(&[root.join(rel)], &ArchiveLimits::default());
    assert!(found.problems.is_empty(), "{rel}: {:?}", found.problems);
    let entry: &Entry = &found.entries[0];
    let config = ReadConfig { text: TextConfig { chunk_size }, ..ReadConfig::default() };
    match read_entry(entry, &config, &|_| {}, Facts::default) {
        Outcome::Parsed { format, sinks } => {
            let mut all = Facts::default();
            for s in sinks {
                all.records += s.records;
                for (k, v) in s.statuses {
                    *all.statuses.entry(k).or_default() += v;
                }
                for (k, v) in s.reasons {
                    *all.reasons.entry(k).or_default() += v;
                }
                if all.first.is_empty() {
                    all.first = s.first;
                }
                all.rejected_lines.extend(s.rejected_lines);
            }
            (format, all)
        }
        other => panic!("{rel}: not parsed: {other:?}"),
    }
}

/// (file, format, records, rejected) for every W3C-family sample.
const EXPECTED: &[(&str, Format, u64, u64)] = &[
    ("w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex160206.log", Format::W3c, 237, 0),
    ("w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex160209.log", Format::W3c, 36, 0),
    ("w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex160106.log", Format::W3c, 1257, 0),
    ("w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex151020.log", Format::W3c, 567, 0),
    ("w3c-know-it-peru-WebKnowIT/W3SVC2/u_ex160214.log", Format::W3c, 354, 0),
    ("w3c-know-it-peru-WebKnowIT/FTPSVC2/u_ex151018.log", Format::W3c, 2, 0),
    ("w3c-bherila-waikolai/W3SVC20/u_ex090906.log", Format::W3c, 75, 0),
    ("w3c-bherila-waikolai/W3SVC20/u_ex091024.log", Format::W3c, 11, 0),
    ("w3c-bherila-waikolai/W3SVC20/u_ex091107.log", Format::W3c, 352, 0),
    ("w3c-bherila-waikolai/W3SVC20/u_ex100320.log", Format::W3c, 9, 0),
    ("w3c-bherila-waikolai/W3SVC20/u_ex101219.log", Format::W3c, 10, 0),
    ("w3c-tstack-lnav/logfile_w3c.0", Format::W3c, 1, 0),
    ("w3c-tstack-lnav/logfile_w3c.2", Format::W3c, 14, 0),
    ("w3c-tstack-lnav/logfile_w3c.3", Format::W3c, 2, 1),
    ("w3c-tstack-lnav/logfile_w3c.5", Format::W3c, 0, 1),
    ("w3c-tstack-lnav/logfile_w3c.6", Format::W3c, 1, 0),
    ("w3c-tstack-lnav/logfile_w3c_big.0", Format::W3c, 210, 0),
    ("w3c-log2timeline-plaso/iis10.log", Format::W3c, 1, 0),
    ("w3c-log2timeline-plaso/iis10_cookies.log", Format::W3c, 3, 0),
    ("w3c-log2timeline-plaso/iis6.log", Format::W3c, 12, 0),
    ("w3c-log2timeline-plaso/iis7_owa.log", Format::W3c, 3, 0),
    ("w3c-log2timeline-plaso/iis7_sqli.log", Format::W3c, 2, 0),
    ("w3c-log2timeline-plaso/iis_without_date.log", Format::W3c, 11, 0),
    ("w3c-brianary-scripts/ex010320.log", Format::IisNative, 2, 0),
    ("w3c-brianary-scripts/ex031118.log", Format::W3c, 3, 1),
    ("w3c-brianary-scripts/ex960101.log", Format::W3c, 5, 0),
    ("w3c-elastic-beats/test-x-forward-for-extended.log", Format::W3c, 6, 0),
    ("httperr-koytze-learn_python/httperr1.log", Format::Httperr, 1018, 0),
    ("httperr-log2timeline-plaso/httperr.log", Format::Httperr, 5, 0),
    ("httperr-elastic-beats/ipv6_zone_id.log", Format::Httperr, 1, 0),
    ("httperr-elastic-integrations/test-iis-error.log", Format::Httperr, 9, 0),
];

#[test]
fn every_text_sample_has_its_exact_counts_at_any_chunk_size() {
    let Some(root) = samples() else { return };
    for &(rel, format, records, rejected) in EXPECTED {
        for chunk in [1 << 20, 4096, 97] {
            let (got_format, f) = facts(&root, rel, chunk);
            assert_eq!(got_format, format, "{rel}");
            assert_eq!(
                (f.records, f.rejected_lines.len() as u64),
                (records, rejected),
                "{rel} (chunk {chunk})"
            );
        }
    }
}

#[test]
fn the_inventory_lists_every_sample_file() {
    let Some(root) = samples() else { return };
    let found = discover(std::slice::from_ref(&root), &ArchiveLimits::default());
    let config = ReadConfig::default();
    let mut files: Vec<_> =
        found.entries.iter().map(|e| summarize(e, read_entry(e, &config, &|_| {}, Tally::default))).collect();
    files.extend(found.problems.iter().map(summarize_problem));
    let inv = Inventory { files };
    let by_format = inv.totals();
    assert_eq!(by_format[&Format::W3c].files, 26);
    assert_eq!(by_format[&Format::Httperr].files, 4);
    assert_eq!(by_format[&Format::IisNative].files, 1);
    assert_eq!(by_format[&Format::Freb].files, 4);
    assert_eq!(by_format[&Format::Evtx].files, 12);
    assert_eq!(by_format[&Format::EventXml].files, 3);
    let expected_records: u64 = EXPECTED.iter().map(|e| e.2).sum();
    let read: u64 = inv.files.iter().filter(|f| f.status == FileStatus::Parsed).map(|f| f.records).sum();
    assert!(read >= expected_records);
    let skipped: Vec<&str> =
        inv.files.iter().filter(|f| f.status == FileStatus::Skipped).map(|f| f.path.as_str()).collect();
    assert!(skipped.iter().all(|p| p.ends_with("SOURCES.md")), "{skipped:?}");
    let beats =
        inv.files.iter().find(|f| f.path.ends_with("test-x-forward-for-extended.log")).expect("beats");
    assert_eq!(beats.host.as_deref(), Some("freca1"), "host from s-computername");
    assert_eq!(beats.sites, ["2"], "site from s-sitename W3SVC2");
    let waikolai = inv.files.iter().find(|f| f.path.ends_with("u_ex090906.log")).expect("waikolai");
    assert_eq!(waikolai.sites, ["20"], "site from the W3SVC20 folder");
}

#[test]
fn spot_checked_values() {
    let Some(root) = samples() else { return };
    let f = facts(&root, "w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex160206.log", 1 << 20).1;
    let count = |f: &Facts, prefix: &str| {
        f.statuses.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum::<u64>()
    };
    assert_eq!(count(&f, "500.0."), 2);
    assert_eq!(count(&f, "404.3."), 1);
    assert_eq!(count(&f, "403.14."), 7);
    let f = facts(&root, "w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex160209.log", 1 << 20).1;
    assert_eq!(f.statuses.get("405.0.1"), Some(&5));
    assert_eq!(count(&f, "404.17."), 1);
    let f = facts(&root, "w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex160106.log", 1 << 20).1;
    assert_eq!(f.statuses.iter().filter(|(k, _)| k.ends_with(".64")).map(|(_, v)| v).sum::<u64>(), 72);
    let f = facts(&root, "w3c-know-it-peru-WebKnowIT/W3SVC1/u_ex151020.log", 1 << 20).1;
    assert_eq!(f.statuses.iter().filter(|(k, _)| k.ends_with(".1236")).map(|(_, v)| v).sum::<u64>(), 4);
    assert_eq!(f.statuses.iter().filter(|(k, _)| k.ends_with(".64")).map(|(_, v)| v).sum::<u64>(), 10);

    let f = facts(&root, "httperr-koytze-learn_python/httperr1.log", 4096).1;
    let reasons: Vec<(&str, u64)> = f.reasons.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        reasons,
        [
            ("Connection_Abandoned_By_ReqQueue", 73),
            ("Disabled", 4),
            ("N/A", 387),
            ("Timer_ConnectionIdle", 544),
            ("Timer_MinBytesPerSecond", 8),
            ("Verb", 2)
        ]
    );
    assert_eq!(
        f.first,
        [
            "2015-01-15T14:11:38Z",
            "137.58.77.243",
            "5226",
            "/11abc6a7-b92d-4dfe-8808-84d2aa2be72c",
            "503",
            "-"
        ]
    );

    let f = facts(&root, "httperr-log2timeline-plaso/httperr.log", 1 << 20).1;
    assert_eq!(
        f.reasons.keys().collect::<Vec<_>>(),
        ["Header", "Hostname", "URL_Length", "Verb", "Version_N/S"]
    );
    assert_eq!(f.first[5], "TCP");
    let f = facts(&root, "httperr-elastic-beats/ipv6_zone_id.log", 1 << 20).1;
    assert_eq!(f.first[1], "::1%0");

    let f = facts(&root, "w3c-log2timeline-plaso/iis_without_date.log", 1 << 20).1;
    assert_eq!(f.first[0], "2013-07-30T00:00:00Z");
    let f = facts(&root, "w3c-tstack-lnav/logfile_w3c.2", 1 << 20).1;
    assert_eq!(f.first[..3], ["2000-10-09T16:44:49Z", "[2]USER", "anonymous"]);
    let f = facts(&root, "w3c-elastic-beats/test-x-forward-for-extended.log", 1 << 20).1;
    assert_eq!(f.first[6], "x-field23=116.189.86.89");
    let f = facts(&root, "w3c-tstack-lnav/logfile_w3c.6", 1 << 20).1;
    assert!(f.first[5].starts_with("ÄÖÜäöü"), "{}", f.first[5]);
    let f = facts(&root, "w3c-brianary-scripts/ex010320.log", 1 << 20).1;
    assert_eq!(f.first[..3], ["2001-03-20T07:55:20Z", "GET", "/DeptLogo.gif"]);
    let f = facts(&root, "w3c-brianary-scripts/ex031118.log", 1 << 20).1;
    assert_eq!(f.rejected_lines, [7]);
    let f = facts(&root, "w3c-log2timeline-plaso/iis7_sqli.log", 1 << 20).1;
    assert!(f.first[3].contains("|22|80040e07|"), "ASP error appended to the query: {}", f.first[3]);
}

/// Collects owned FREB traces and Windows events.
#[derive(Default, Debug)]
struct Owned {
    traces: Vec<faultline_parser::Trace>,
    events: Vec<faultline_parser::WinEvent>,
    counted: u64,
    diagnostics: Vec<faultline_parser::Diagnostic>,
}

impl RecordSink for Owned {
    fn trace(&mut self, t: &faultline_parser::Trace) {
        self.traces.push(t.clone());
    }
    fn event(&mut self, e: &faultline_parser::WinEvent) {
        self.events.push(e.clone());
    }
    fn counted_event(&mut self, _k: faultline_parser::EventKey<'_>) {
        self.counted += 1;
    }
    fn diagnostic(&mut self, d: faultline_parser::Diagnostic) {
        self.diagnostics.push(d);
    }
}

fn owned(root: &std::path::Path, rel: &str, all_events: bool) -> (Format, Owned) {
    let found = discover(&[root.join(rel)], &ArchiveLimits::default());
    let config = ReadConfig { all_events, ..ReadConfig::default() };
    match read_entry(&found.entries[0], &config, &|_| {}, Owned::default) {
        Outcome::Parsed { format, sinks } => {
            let mut all = Owned::default();
            for s in sinks {
                all.traces.extend(s.traces);
                all.events.extend(s.events);
                all.counted += s.counted;
                all.diagnostics.extend(s.diagnostics);
            }
            (format, all)
        }
        other => panic!("{rel}: not parsed: {other:?}"),
    }
}

#[test]
fn freb_traces() {
    let Some(root) = samples() else { return };
    let count = |t: &faultline_parser::Trace, name: &str| {
        t.events.iter().filter(|e| e.name.as_deref().is_some_and(|n| n.starts_with(name))).count()
    };

    let (format, f) = owned(&root, "freb-Mexia-AzureDemos-WebSites-ClassicAsp/fr000001.xml", false);
    assert_eq!(format, Format::Freb);
    assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
    let t = &f.traces[0];
    assert_eq!(t.events.len(), 99);
    assert_eq!((t.status, t.substatus, t.site_id), (Some(404), Some(0), Some(294_197_211)));
    assert_eq!(t.app_pool.as_deref(), Some("DevCampClassicAspDemo"));
    assert_eq!(t.failure_reason.as_deref(), Some("STATUS_CODE"));
    assert_eq!(t.events[0].time.map(|x| x.to_rfc3339()).as_deref(), Some("2012-09-23T23:27:14.453Z"));
    assert_eq!(&*t.events[0].provider, "WWW Server");
    assert_eq!(t.events[0].provider_guid.as_deref(), Some("{3A2A4E84-4C21-4981-AE10-3FDA0D9B0F83}"));
    let err = t.summary.first_error.as_ref().expect("error status");
    assert_eq!(err.module, "IIS Web Core");
    assert_eq!((err.notification, err.notification_name.as_deref()), (Some(16), Some("MAP_REQUEST_HANDLER")));
    assert_eq!(err.error_code, Some(0x8007_0002));
    assert!(t.summary.completed && !t.summary.truncated);
    assert!(count(t, "FILE_CACHE_ACCESS") > 0 && count(t, "FILTER_") > 0);

    let (_, f) = owned(&root, "freb-Globalync-Jilly/fr000001.xml", false);
    let t = &f.traces[0];
    assert_eq!(t.events.len(), 289);
    assert_eq!((t.status, t.trigger_status, t.time_taken_ms), (Some(200), Some(200), Some(5312)));
    assert_eq!(t.events.iter().filter(|e| &*e.provider == "ASPNET").count(), 58);
    assert_eq!(count(t, "HANDLER_PRECONDITION_NOT_MATCH"), 61);

    let (_, f) = owned(&root, "freb-Implicate-X-AluLab/fr000001.xml", false);
    let t = &f.traces[0];
    assert_eq!(t.events.len(), 150);
    assert_eq!(t.summary.first_error.as_ref().and_then(|e| e.error_code), Some(0x8007_0002));
    assert!(count(t, "URL_REWRITE_START") > 0 && count(t, "RULE_EVALUATION_END") > 0);
    assert!(t.summary.rewrite_rules_matched.is_empty(), "no rule succeeded in this trace");
    let custom_error = t.events.iter().find_map(|e| e.data("FileNameOrURL")).expect("custom error page");
    assert!(custom_error.ends_with("error_docs\\not_found.html"));

    let (_, f) = owned(&root, "freb-pcdccam-Nanette2022/fr000001.xml", false);
    let t = &f.traces[0];
    assert_eq!(t.events.len(), 842);
    assert_eq!((t.status, t.trigger_status, t.time_taken_ms), (Some(200), Some(0), Some(61_230)));
    assert_eq!(t.failure_reason.as_deref(), Some("TIME_TAKEN"));
    assert_eq!(t.token_user_name.as_deref(), Some("IIS APPPOOL\\DoclinkIIS"));
    assert!(t.summary.truncated && !t.summary.completed);
    assert_eq!(t.summary.auth_type.as_deref(), Some("NT"));
    assert_eq!(count(t, "ANCM_WINHTTP_CALLBACK"), 324);
    assert_eq!(count(t, "GENERAL_READ_ENTITY_"), 214);
    assert!(f.diagnostics.iter().any(|d| d.message.contains("LOG_FILE_MAX_SIZE_TRUNCATE")));
}

#[test]
fn event_xml_exports() {
    let Some(root) = samples() else { return };
    let (format, f) =
        owned(&root, "azure-eventlog-calendarsystems-tools.docketcalendar.com/eventlog.xml", true);
    assert_eq!(format, Format::EventXml);
    assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
    assert_eq!(f.events.len(), 83);
    let count = |p: &str, id: u16| f.events.iter().filter(|e| &*e.provider == p && e.event_id == id).count();
    assert_eq!(count("W3SVC-WP", 2303), 2);
    assert_eq!(count("IIS AspNetCore Module V2", 1032), 27);
    assert_eq!(count("IIS AspNetCore Module V2", 1033), 26);
    assert_eq!(count(".NET Runtime", 1000), 28);
    assert!(f.events.windows(2).all(|w| w[0].sort_key() <= w[1].sort_key()), "sorted");
    assert!(f.events.iter().all(|e| e.keywords.is_none()), "Azure writes a placeholder");

    let (_, f) = owned(&root, "azure-eventlog-mattroot87-testWebsiteBackup/eventlog.xml", false);
    assert_eq!(f.events.len() as u64 + f.counted, 58);
    let e = f.events.iter().find(|e| e.event_id == 1309).expect("ASP.NET 1309");
    assert_eq!(&*e.provider, "ASP.NET 4.0.30319.0");
    assert_eq!(e.data_at(0), Some("3005"));
    // An empty <Data/> at [13] keeps its position: the process id is [14].
    assert_eq!(e.data_at(13), Some(""));
    assert_eq!(e.data_at(14), Some("4292"));
    assert_eq!(e.data_at(16), Some("IIS APPPOOL\\EZT-Dummy-APP"));
    assert_eq!(e.data_at(17), Some("InvalidOperationException"));
    assert_eq!(e.time.to_rfc3339(), "2020-05-27T18:44:56Z");
    assert_eq!(e.data.len(), 30);

    let (_, f) = owned(&root, "evtxml-elastic-beats/application-windows-error-reporting.xml", false);
    assert_eq!(f.events.len(), 1);
    let e = &f.events[0];
    assert_eq!((&*e.provider, e.event_id), ("Windows Error Reporting", 1001));
    assert_eq!(e.time.0 % 1_000_000_000, 121_198_600, "100 ns precision");
    assert_eq!(e.data.len(), 23);
    assert!(e.data.iter().any(|d| d.value.contains("\r\n") || d.value.contains('\n')), "CRLF inside a value");
}
