//! The parsers against the real public samples in `$FAULTLINE_SAMPLES` (its
//! SOURCES.md says what each file holds): exact record and rejected counts
//! per file, and spot-checked values.

#![allow(clippy::print_stderr)] // tests say loudly when they were skipped

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

use faultline_analyzer::finding::FailureMode;
use faultline_analyzer::{FileStatus, Tally, summarize};
use faultline_parser::{
    ArchiveLimits, Entry, Format, HttpError, Outcome, ReadConfig, RecordSink, Request, TextConfig, discover,
    read_entry,
};

fn samples() -> Option<PathBuf> {
    common::samples("the real-sample tests")
}

/// Reads one entry into sinks that never stop a read.
fn read<S>(entry: &Entry, config: &ReadConfig, new_sink: fn() -> S) -> Outcome<S>
where
    S: RecordSink<Error = std::convert::Infallible> + Send,
{
    let Ok(outcome) = read_entry(entry, config, &|_| {}, |_| new_sink());
    outcome
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
    type Error = std::convert::Infallible;
    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        self.records += 1;
        let key = format!(
            "{}.{}.{}",
            r.status.map_or_else(|| "-".into(), |s| s.to_string()),
            r.substatus.map_or_else(|| "-".into(), |s| s.to_string()),
            r.win32_status.map_or_else(|| "-".into(), |s| s.to_string())
        );
        *self.statuses.entry(key).or_default() += 1;
        if self.first.is_empty() {
            self.first = vec![
                r.time.to_rfc3339(),
                text(r.method),
                text(r.uri_stem),
                text(r.uri_query),
                r.client_ip.map_or_else(|| "-".into(), |a| a.to_string()),
                text(r.user_agent),
                r.custom.iter().map(|(n, v)| format!("{n}={}", text(Some(v)))).collect::<Vec<_>>().join(","),
            ];
        }
        Ok(())
    }
    fn http_error(&mut self, r: &HttpError<'_>) -> Result<(), Self::Error> {
        self.records += 1;
        *self.reasons.entry(r.reason.to_string()).or_default() += 1;
        if self.first.is_empty() {
            self.first = vec![
                r.time.to_rfc3339(),
                r.client_ip.map_or_else(|| "-".into(), |a| a.to_string()),
                r.client_port.map_or_else(|| "-".into(), |p| p.to_string()),
                text(r.uri),
                r.status.map_or_else(|| "-".into(), |s| s.to_string()),
                text(r.transport),
            ];
        }
        Ok(())
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
    match read(entry, &config, Facts::default) {
        Outcome::Parsed { format, sinks, .. } => {
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
    // Tomcat's access log of a web attack; lines 879 and 1508 hold a quote
    // inside the request (an XSS probe) and are rows like any other; line
    // 26 is Tomcat's placeholder for a request it could not read, dated
    // 1970, refused as timeless (it made 1970 the log's first time).
    (
        "evtx-sbousseaden-EVTX-ATTACK-SAMPLES/web_attack_and_isp_webshell_localhost_access_log.txt",
        Format::Ncsa,
        2660,
        1,
    ),
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

/// Every file under the samples folder, relative to it, `/`-separated.
fn sample_files(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("reads the samples folder") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("under the root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// `faultline scan` of a folder, as the library gives it.
fn inventory(root: &Path) -> faultline_analyzer::Inventory {
    faultline_analyzer::inventory::scan(
        &[root.to_path_buf()],
        &ReadConfig::default(),
        &Default::default(),
        &|_| {},
    )
}

/// Hosts as an IIS engineer names them: an App Service download is filed
/// under its site (named by `s-sitename` or by IIS configuration paths in
/// its events), never under the worker that wrote a record nor an Azure
/// Functions placeholder; a folder of several servers' logs files a log that
/// names no server under no host: neither under one of them nor under the
/// folder, which is no server.
#[test]
fn sample_files_are_filed_under_their_real_hosts() {
    use faultline_analyzer::identity::{HostSource, is_app_service_worker};
    let Some(root) = samples() else { return };
    let inv = inventory(&root);
    let host_of = |rel: &str| -> (String, Option<HostSource>) {
        let f = inv.files.iter().find(|f| f.path.ends_with(rel)).expect(rel);
        (f.host.clone().unwrap_or_default(), f.host_source)
    };
    let record = Some(HostSource::Record);
    assert_eq!(
        host_of("azure-eventlog-tshekom8206-staybotplatform/eventlog.xml"),
        ("STAYBOT-API".into(), record)
    );
    assert_eq!(host_of("azure-eventlog-tshekom8206-staybotplatform/eventlog.prev.xml").0, "STAYBOT-API");
    assert_eq!(host_of("azure-eventlog-baselAhmed2-deployvercel/eventlog.xml").0, "TKTSYS-BASEL-487");
    assert_eq!(host_of("azure-eventlog-calendarsystems-tools.docketcalendar.com/eventlog.xml").0, "TOOLSDC");
    assert_eq!(
        host_of("azure-rawlogs-anton-bot-azure-iis-log-analyzer-online/sample-data.txt").0,
        "MY-SERVER"
    );
    // Workers only and no configuration path: the site is the host of the
    // URLs ASP.NET's request events name (mackeywinedraw.azurewebsites.net),
    // or of a trace's request on the first Azure Web Sites.
    assert_eq!(
        host_of("azure-eventlog-erinjmackey-WineDraw/eventlog.xml"),
        ("MACKEYWINEDRAW".into(), record)
    );
    assert_eq!(
        host_of("azure-eventlog-thinkwhale-MyTakeOnQuotes/eventlog.xml"),
        ("MYTAKEONQUOTES".into(), record)
    );
    assert_eq!(
        host_of("freb-Mexia-AzureDemos-WebSites-ClassicAsp/fr000001.xml"),
        ("DEVCAMPCLASSICASPDEMO".into(), record)
    );
    // Workers only, no site name anywhere: the download's folder.
    assert_eq!(
        host_of("azure-eventlog-alazhar98-school-hall-booking/eventlog.xml"),
        ("AZURE-EVENTLOG-ALAZHAR98-SCHOOL-HALL-BOOKING".into(), Some(HostSource::Folder))
    );
    assert_eq!(host_of("evtx-log2timeline-plaso/System.evtx"), ("DC1".into(), record));
    // The same System log names the machine's two earlier names, which the
    // analysis files their events under: scan says so.
    let others = |rel: &str| -> Vec<(String, u64)> {
        let f = inv.files.iter().find(|f| f.path.ends_with(rel)).expect(rel);
        f.other_hosts.iter().map(|h| (h.host.clone(), h.records)).collect()
    };
    assert_eq!(
        others("evtx-log2timeline-plaso/System.evtx"),
        [("WIN-NBRJP24VCHB".to_string(), 460), ("37L4247F27-26".to_string(), 270)]
    );
    assert_eq!(others("evtx-omerbenamram-evtx/system.evtx"), [("WIN-P4SIAA0SQCO".to_string(), 173)]);
    assert!(others("w3c-brianary-scripts/ex010320.log").is_empty());
    // Two logs beside it name two different servers: this one names none.
    assert_eq!(host_of("w3c-brianary-scripts/ex031118.log"), (String::new(), None));
    // Attack captures from several machines; the Tunna access log names none.
    assert_eq!(
        host_of("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/Tunna_rdp_tunnel_IIS.log"),
        (String::new(), None)
    );
    assert_eq!(host_of("w3c-brianary-scripts/ex010320.log"), ("SERVER".into(), record));
    for f in inv.files.iter().filter(|f| f.format.is_some()) {
        let host = f.host.as_deref().unwrap_or("-");
        assert!(!is_app_service_worker(host) && !host.starts_with("MAWSFNPLACEHOLDER"), "{}: {host}", f.path);
    }
}

/// Times a file cannot vouch for are marked: IIS's native format is the
/// server's local clock (brianary's ex010320, lnav's `logfile_w3c.3`), and
/// brianary's IIS 5.0 log of `date c-ip cs-uri-stem cs-bytes` has no time
/// of day; plaso's log without a `date` field is dated by `#Date` and timed
/// by its rows, and is neither.
#[test]
fn files_whose_times_are_in_doubt_are_marked() {
    let Some(root) = samples() else { return };
    let inv = inventory(&root);
    let names = |files: Vec<&faultline_analyzer::inventory::FileSummary>| -> Vec<String> {
        files.iter().filter_map(|f| f.path.rsplit('/').next()).map(str::to_string).collect()
    };
    assert_eq!(names(inv.date_only_files()), ["ex031118.log"]);
    assert_eq!(names(inv.local_time_files()), ["ex010320.log", "logfile_w3c.3"]);
}

/// The inventory accounts for every sample file exactly once, each either
/// read in a format faultline knows or skipped with a reason; nothing
/// fails. Counts come from the folder itself, so adding samples does not
/// break the test, but losing or misreading one does.
#[test]
fn the_inventory_lists_every_sample_file() {
    let Some(root) = samples() else { return };
    let inv = inventory(&root);

    let on_disk = sample_files(&root);
    let prefix = format!("{}/", root.display().to_string().trim_end_matches('/'));
    let mut listed: Vec<String> = inv
        .files
        .iter()
        .map(|f| f.path.strip_prefix(&prefix).unwrap_or(&f.path).replace('\\', "/"))
        .collect();
    listed.sort();
    assert_eq!(listed, on_disk, "every file once");

    for f in &inv.files {
        match f.status {
            FileStatus::Parsed => assert!(f.format.is_some(), "{}: parsed without a format", f.path),
            FileStatus::Skipped => assert!(f.reason.is_some(), "{}: skipped without a reason", f.path),
            _ => panic!("{}: {:?} ({:?})", f.path, f.status, f.reason),
        }
    }
    // Files whose names say they are evidence are all read: a sniffing
    // change that skips one fails here.
    for f in &inv.files {
        let name = f.path.rsplit('/').next().unwrap_or(&f.path).to_ascii_lowercase();
        let evidence_name = name.ends_with(".evtx")
            || name.ends_with(".log")
            || (name.starts_with("fr") && name.ends_with(".xml"))
            || (name.starts_with("eventlog") && name.ends_with(".xml"));
        assert!(
            !evidence_name || f.status == FileStatus::Parsed,
            "{}: {:?} {:?}",
            f.path,
            f.status,
            f.reason
        );
    }
    // Binary event logs and FREB traces are known by their names too: every
    // one is read as what it is.
    let format_of = |suffix: &str| -> Vec<Option<Format>> {
        inv.files.iter().filter(|f| f.path.ends_with(suffix)).map(|f| f.format).collect()
    };
    let evtx = format_of(".evtx");
    assert!(!evtx.is_empty() && evtx.iter().all(|f| *f == Some(Format::Evtx)), "{evtx:?}");
    let freb = format_of("fr000001.xml");
    assert!(!freb.is_empty() && freb.iter().all(|f| *f == Some(Format::Freb)), "{freb:?}");
    let eventlog = format_of("eventlog.xml");
    assert!(!eventlog.is_empty() && eventlog.iter().all(|f| *f == Some(Format::EventXml)), "{eventlog:?}");
    // Every text sample with pinned counts is read in its pinned format.
    for &(rel, format, _, _) in EXPECTED {
        let f = inv.files.iter().find(|f| f.path.ends_with(rel)).expect(rel);
        assert_eq!(f.format, Some(format), "{rel}");
    }

    let expected_records: u64 = EXPECTED.iter().map(|e| e.2).sum();
    let read: u64 = inv.files.iter().filter(|f| f.status == FileStatus::Parsed).map(|f| f.records).sum();
    assert!(read >= expected_records);
    let beats =
        inv.files.iter().find(|f| f.path.ends_with("test-x-forward-for-extended.log")).expect("beats");
    assert_eq!(beats.host.as_deref(), Some("FRECA1"), "host from s-computername, as analyze names it");
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
            "2015-01-15T14:11:38.000000000Z",
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
    assert_eq!(f.first[0], "2013-07-30T00:00:00.000000000Z");
    let f = facts(&root, "w3c-tstack-lnav/logfile_w3c.2", 1 << 20).1;
    assert_eq!(f.first[..3], ["2000-10-09T16:44:49.000000000Z", "[2]USER", "anonymous"]);
    let f = facts(&root, "w3c-elastic-beats/test-x-forward-for-extended.log", 1 << 20).1;
    assert_eq!(f.first[6], "X-Forwarded-For=116.189.86.89");
    let f = facts(&root, "w3c-tstack-lnav/logfile_w3c.6", 1 << 20).1;
    assert!(f.first[5].starts_with("ÄÖÜäöü"), "{}", f.first[5]);
    let f = facts(&root, "w3c-brianary-scripts/ex010320.log", 1 << 20).1;
    assert_eq!(f.first[..3], ["2001-03-20T07:55:20.000000000Z", "GET", "/DeptLogo.gif"]);
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
    type Error = std::convert::Infallible;
    fn trace(&mut self, t: &faultline_parser::Trace) -> Result<(), Self::Error> {
        self.traces.push(t.clone());
        Ok(())
    }
    fn event(&mut self, e: faultline_parser::WinEvent) -> Result<(), Self::Error> {
        self.events.push(e.clone());
        Ok(())
    }
    fn counted_events(&mut self, k: faultline_parser::CountedEvents<'_>) -> Result<(), Self::Error> {
        self.counted += k.records;
        Ok(())
    }
    fn diagnostic(&mut self, d: faultline_parser::Diagnostic) {
        self.diagnostics.push(d);
    }
}

fn owned(root: &std::path::Path, rel: &str, all_events: bool) -> (Format, Owned) {
    let found = discover(&[root.join(rel)], &ArchiveLimits::default());
    let config = ReadConfig { all_events, ..ReadConfig::default() };
    match read(&found.entries[0], &config, Owned::default) {
        Outcome::Parsed { format, sinks, .. } => {
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
    assert_eq!(t.events[0].time.map(|x| x.to_rfc3339()).as_deref(), Some("2012-09-23T23:27:14.453000000Z"));
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
    assert!(
        f.diagnostics.iter().any(|d| d.message.contains("LOG_FILE_MAX_SIZE_TRUNCATE") && d.lost),
        "the trace's later events are gone, and analyze and hunt say so"
    );
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
    assert_eq!(e.time.to_rfc3339(), "2020-05-27T18:44:56.000000000Z");
    assert_eq!(e.data.len(), 30);

    let (_, f) = owned(&root, "evtxml-elastic-beats/application-windows-error-reporting.xml", false);
    assert_eq!(f.events.len(), 1);
    let e = &f.events[0];
    assert_eq!((&*e.provider, e.event_id), ("Windows Error Reporting", 1001));
    assert_eq!(e.time.0 % 1_000_000_000, 121_198_600, "100 ns precision");
    assert_eq!(e.data.len(), 23);
    assert!(e.data.iter().any(|d| d.value.contains("\r\n") || d.value.contains('\n')), "CRLF inside a value");
}

/// Expected (records read, records or chunks lost) per EVTX sample: the same
/// counts as the evtx crate's own record iterator (evtx_dump) gives.
const EVTX_EXPECTED: &[(&str, u64, u64)] = &[
    (
        "evtx-Yamato-Security-hayabusa-sample-evtx/ID18456-SQL Server failed login because only Windows auth.evtx",
        6,
        0,
    ),
    (
        "evtx-Yamato-Security-hayabusa-sample-evtx/ID4625-failed login with denied access due to account restriction.evtx",
        2,
        0,
    ),
    ("evtx-Yamato-Security-hayabusa-sample-evtx/many-events-application.evtx", 2216, 0),
    ("evtx-Yamato-Security-hayabusa-sample-evtx/smb-password-guessing-security.evtx", 3561, 0),
    ("evtx-log2timeline-plaso/System.evtx", 5009, 0),
    ("evtx-omerbenamram-evtx/Application_no_crc32.evtx", 17, 0),
    ("evtx-omerbenamram-evtx/sample_with_a_bad_chunk_magic.evtx", 301, 3),
    ("evtx-omerbenamram-evtx/system.evtx", 1881, 0),
    ("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/CA_4624_4625_LogonType2_LogonProc_chrome.evtx", 4, 0),
    ("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/DE_WinEventLogSvc_Crash_System_7036.evtx", 6, 0),
    ("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx", 4, 0),
    ("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/MSSQL_multiple_failed_logon_EventID_18456.evtx", 10, 0),
];

#[test]
fn evtx_counts_match_the_evtx_crate_and_errors_are_reported() {
    let Some(root) = samples() else { return };
    for &(rel, records, lost) in EVTX_EXPECTED {
        let (format, f) = owned(&root, rel, false);
        assert_eq!(format, Format::Evtx);
        let rejected = f.diagnostics.iter().filter(|d| d.is_rejection()).count() as u64;
        assert_eq!((f.events.len() as u64 + f.counted, rejected), (records, lost), "{rel}");
        let mut parser = evtx::EvtxParser::from_path(root.join(rel)).expect("opens");
        let (ok, err) =
            parser.records().fold((0, 0), |(o, e), r| if r.is_ok() { (o + 1, e) } else { (o, e + 1) });
        assert_eq!((ok, err), (records, lost), "{rel}: the crate's own iterator");
    }
    let (_, f) = owned(&root, "evtx-omerbenamram-evtx/sample_with_a_bad_chunk_magic.evtx", false);
    let messages: Vec<&str> = f.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(messages.iter().any(|m| m.starts_with("chunk 6 unreadable")), "{messages:?}");
    assert!(messages.iter().any(|m| m.starts_with("chunk 10 unreadable")), "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("chunk 7: record at offset 0x2060 of the chunk: invalid record header")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("dirty")), "{messages:?}");
    // `scan` (the raw walk) and the read that builds events say the same.
    let path = root.join("evtx-omerbenamram-evtx/sample_with_a_bad_chunk_magic.evtx");
    let hosts = faultline_analyzer::identity::HostOverrides::default();
    let scanned = faultline_analyzer::inventory::scan(&[path], &ReadConfig::default(), &hosts, &|_| {});
    let said: Vec<&str> = scanned.files[0].diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(said, messages);
    let (_, f) = owned(&root, "evtx-omerbenamram-evtx/Application_no_crc32.evtx", false);
    assert!(
        f.diagnostics.iter().all(|d| !d.message.contains("CRC32")),
        "the no-CRC flag is honoured: {:?}",
        f.diagnostics
    );
}

/// A real log copied short (cut 20,000 bytes into its third chunk), and the
/// same log with its header zeroed: the cut chunk's records before the cut
/// are read and counted, with one warning naming it; a log without its
/// header is still a log, every record read.
#[test]
fn an_evtx_cut_short_or_without_its_header_keeps_its_records() {
    let Some(root) = samples() else { return };
    let log = std::fs::read(root.join("evtx-log2timeline-plaso/System.evtx")).expect("reads");
    let dir = tempfile::tempdir().expect("tempdir");
    let chunks = |n: usize| 4096 + n * 65_536;
    let copies: [(&str, Vec<u8>); 4] = [
        ("two.evtx", log[..chunks(2)].to_vec()),
        ("three.evtx", log[..chunks(3)].to_vec()),
        ("cut.evtx", log[..chunks(2) + 20_000].to_vec()),
        ("headless.evtx", [vec![0u8; 4096].as_slice(), &log[4096..]].concat()),
    ];
    for (name, bytes) in &copies {
        std::fs::write(dir.path().join(name), bytes).expect("writes");
    }
    let inventory = inventory(dir.path());
    let file = |name: &str| {
        inventory.files.iter().find(|f| f.path.ends_with(name)).unwrap_or_else(|| panic!("{name} listed"))
    };
    let (two, three, cut) = (file("two.evtx").records, file("three.evtx").records, file("cut.evtx").records);
    assert!(two < cut && cut < three, "the cut chunk's first records: {two} < {cut} < {three}");
    let cut = file("cut.evtx");
    assert_eq!(cut.rejected, 0, "{:?}", cut.diagnostics);
    let said: Vec<&str> = cut.diagnostics.iter().map(|d| d.message.as_str()).collect();
    let want = format!(
        "the file ends 20000 bytes into chunk 2 (copy cut short): {} records before the cut read, the rest of the chunk lost",
        cut.records - two
    );
    assert!(said.contains(&want.as_str()), "{said:?}");
    let headless = file("headless.evtx");
    assert_eq!(headless.status, FileStatus::Parsed, "{headless:?}");
    assert_eq!(headless.records, 5_009, "{:?}", headless.diagnostics);
    assert!(
        headless.diagnostics.iter().any(|d| d.message.starts_with("unreadable file header")),
        "{:?}",
        headless.diagnostics
    );
}

#[test]
fn evtx_spot_checks() {
    let Some(root) = samples() else { return };
    let (_, f) = owned(
        &root,
        "evtx-Yamato-Security-hayabusa-sample-evtx/ID18456-SQL Server failed login because only Windows auth.evtx",
        false,
    );
    let e = &f.events[0];
    assert_eq!((&*e.provider, e.event_id, e.qualifiers), ("MSSQL$RADAR", 18456, Some(49152)));
    assert_eq!(e.time.to_rfc3339(), "2020-07-15T11:31:15.673796100Z");
    assert_eq!(e.record_id, faultline_parser::RecordId::new(58848));
    assert_eq!(e.data_at(0), Some("unexisting-user"));
    assert!(e.binary.is_some());

    let (_, f) =
        owned(&root, "evtx-sbousseaden-EVTX-ATTACK-SAMPLES/DE_WinEventLogSvc_Crash_System_7036.evtx", false);
    let kept: Vec<Option<&str>> = f.events.iter().map(|e| e.data("param1")).collect();
    assert_eq!(
        (kept, f.counted),
        (vec![Some("Windows Event Log")], 5),
        "only the event log service matters here"
    );
    let (_, f) =
        owned(&root, "evtx-sbousseaden-EVTX-ATTACK-SAMPLES/DE_WinEventLogSvc_Crash_System_7036.evtx", true);
    assert_eq!(f.events.len(), 6);
    let zero_header = f
        .events
        .iter()
        .find(|e| e.record_id == faultline_parser::RecordId::new(65379))
        .expect("record with a zero header time");
    assert_eq!(
        zero_header.time.to_rfc3339(),
        "2020-09-23T16:58:24.327043200Z",
        "TimeCreated, not the 1601 header time"
    );
    assert_eq!(zero_header.data("param1"), Some("TCP/IP NetBIOS Helper"));
    assert_eq!(f.events[0].binary.as_deref(), Some("5700650072005300760063002F0034000000"));
    assert!(f.events.windows(2).all(|w| w[0].time <= w[1].time), "sorted by time");

    let (_, f) =
        owned(&root, "evtx-Yamato-Security-hayabusa-sample-evtx/many-events-application.evtx", false);
    let crash = f.events.iter().filter(|e| &*e.provider == "Application Error" && e.event_id == 1000).count();
    let wer =
        f.events.iter().filter(|e| &*e.provider == "Windows Error Reporting" && e.event_id == 1001).count();
    assert!(crash > 0 && wer == 44, "{crash} {wer}");
    assert!(f.events.iter().all(|e| faultline_parser::winevent::is_relevant(&e.provider, e.event_id)));
    assert!(f.counted > 0, "irrelevant events are counted, not kept");
    let first_crash = f.events.iter().find(|e| &*e.provider == "Application Error").expect("crash");
    assert!(first_crash.data[0].name.is_none(), "positional data");
}

/// The binary reader and the XML reader must give the same normalized event
/// for every record: render each record with the evtx crate's own XML
/// renderer, read that with faultline's event-XML reader, and compare.
#[test]
fn evtx_extraction_agrees_with_the_crates_xml_rendering() {
    let Some(root) = samples() else { return };
    let norm = |s: &str| s.replace("\r\n", "\n").replace('\r', "\n");
    let mut compared = 0;
    for &(rel, _, _) in EVTX_EXPECTED {
        let (_, ours) = owned(&root, rel, true);
        let by_header_id: BTreeMap<u64, &faultline_parser::WinEvent> = ours
            .events
            .iter()
            .map(|e| match e.origin {
                faultline_parser::winevent::EventOrigin::Record { record_id, .. } => (record_id, e),
                other => panic!("{other:?}"),
            })
            .collect();
        let mut parser = evtx::EvtxParser::from_path(root.join(rel)).expect("opens");
        for record in parser.records().flatten() {
            let xml = faultline_parser::eventxml::parse_event_xml(record.data.as_bytes());
            let ours = by_header_id
                .get(&record.event_record_id)
                .unwrap_or_else(|| panic!("{rel}: {} missing", record.event_record_id));
            let ctx = format!("{rel} record {}", record.event_record_id);
            // A damaged record rendered with no time: the XML reader does
            // not read an event without one; the binary reader times it by
            // the record's header.
            if xml.events.is_empty()
                && xml.diagnostics.iter().any(|d| d.message == "event not read: no TimeCreated")
            {
                assert_eq!(ours.time_source, faultline_parser::winevent::TimeSource::RecordHeader, "{ctx}");
                compared += 1;
                continue;
            }
            assert_eq!(xml.events.len(), 1, "{ctx}: {:?}", xml.diagnostics);
            let theirs = &xml.events[0];
            assert_eq!(
                (&ours.provider, ours.event_id, ours.qualifiers),
                (&theirs.provider, theirs.event_id, theirs.qualifiers),
                "{ctx}"
            );
            assert_eq!(
                (ours.version, ours.level, ours.task, ours.opcode, ours.keywords),
                (theirs.version, theirs.level, theirs.task, theirs.opcode, theirs.keywords),
                "{ctx}"
            );
            if theirs.time_source == faultline_parser::winevent::TimeSource::TimeCreated {
                assert_eq!(ours.time, theirs.time, "{ctx}");
            }
            // A record without EventRecordID keeps its header's record id.
            let their_id =
                theirs.record_id.or_else(|| faultline_parser::RecordId::new(record.event_record_id));
            assert_eq!(
                (ours.record_id, &ours.channel, &ours.computer),
                (their_id, &theirs.channel, &theirs.computer),
                "{ctx}"
            );
            assert_eq!((ours.process_id, ours.thread_id), (theirs.process_id, theirs.thread_id), "{ctx}");
            let upper = |v: &Option<Box<str>>| v.as_deref().map(str::to_ascii_uppercase);
            assert_eq!(upper(&ours.activity_id), upper(&theirs.activity_id), "{ctx}");
            assert_eq!(ours.user_sid, theirs.user_sid, "{ctx}");
            let data = |e: &faultline_parser::WinEvent| -> Vec<(Option<String>, String)> {
                e.data.iter().map(|d| (d.name.as_deref().map(str::to_string), norm(&d.value))).collect()
            };
            assert_eq!(data(ours), data(theirs), "{ctx}");
            assert_eq!(ours.binary, theirs.binary, "{ctx}");
            compared += 1;
        }
    }
    assert_eq!(compared, EVTX_EXPECTED.iter().map(|e| e.1).sum::<u64>());
}

/// The inventory reads EVTX without the crate's record model (it needs no
/// event data); both ways must find the same records and the same damage,
/// and count the same events per provider and id.
#[test]
fn evtx_inventory_walk_agrees_with_the_full_read() {
    let Some(root) = samples() else { return };
    for &(rel, records, lost) in EVTX_EXPECTED {
        let found = discover(&[root.join(rel)], &ArchiveLimits::default());
        let entry = &found.entries[0];
        let file = faultline_analyzer::SourceFile::at(&entry.path);
        let summary = summarize(&file, entry, read(entry, &ReadConfig::default(), Tally::default));
        assert_eq!((summary.records, summary.rejected), (records, lost), "{rel}");
        let (_, full) = owned(&root, rel, true);
        let mut by_kind: BTreeMap<(String, u16), u64> = BTreeMap::new();
        for e in &full.events {
            *by_kind.entry((e.provider.to_string(), e.event_id)).or_default() += 1;
        }
        let mut walked: BTreeMap<(String, u16), u64> = BTreeMap::new();
        for c in &summary.events {
            *walked.entry((c.provider.clone(), c.event_id)).or_default() += c.count;
        }
        assert_eq!(walked, by_kind, "{rel}");
    }
}

/// The whole sample folder analyzed at once: the findings an IIS engineer
/// would accept, and none of the noise bursty or foreign data invites.
#[test]
fn the_real_samples_give_sensible_findings() {
    let Some(root) = samples() else { return };
    let report = faultline_analyzer::analyze(
        &[root],
        &ReadConfig::default(),
        &faultline_analyzer::Scope::default(),
        &|_| {},
    );
    let of = |id: FailureMode| report.findings.iter().filter(move |f| f.id == id);
    let listing: Vec<String> =
        report.findings.iter().map(|f| format!("{} {}", f.id, f.explanation)).collect();

    // SQL Server in Windows-only mode refusing a SQL login: the connection
    // string's login, named; no web server in the evidence uses it, so it
    // is SQL Server's record, not a web outage (info).
    let windows_only: Vec<_> =
        of(FailureMode::DbLoginFailure).filter(|f| f.explanation.contains("unexisting-user")).collect();
    assert_eq!(windows_only.len(), 1, "{listing:#?}");
    assert!(windows_only[0].explanation.contains("Windows authentication only"));
    assert_eq!(windows_only[0].severity, faultline_analyzer::finding::Severity::Info);
    // Ten different logins from one client in one second is guessing, not
    // an IIS identity.
    let guessing: Vec<_> =
        of(FailureMode::DbLoginFailure).filter(|f| f.explanation.contains("password guessing")).collect();
    assert_eq!(guessing.len(), 1, "{listing:#?}");
    assert!(guessing[0].severity <= faultline_analyzer::finding::Severity::Low);
    assert!(guessing[0].explanation.contains("from 10.0.2.17"));

    // The cleared System log and the planned restarts in the System logs.
    assert!(of(FailureMode::MissingLogs).any(|f| f.explanation.contains("cleared")), "{listing:#?}");
    assert!(of(FailureMode::Reboot).count() >= 3, "{listing:#?}");

    // rundll32 faulting is not an IIS worker crash, nor are the .NET crash
    // reports of dotnet.exe or a console app, nor w3wp's 1026 in the second
    // of an ANCM start failure; a site with a few visits an hour going quiet
    // is not an outage; the scattered abandoned UPnP requests in the HTTPERR
    // log are not a burst. The one real w3wp crash: ASP.NET 1325 and .NET
    // Runtime 1026 of a trace listener that is not deployed; and the crash of
    // an app being taken offline for a deployment, at medium.
    let crashes: Vec<_> = of(FailureMode::WorkerCrash).collect();
    assert_eq!(crashes.len(), 2, "{listing:#?}");
    assert!(crashes[0].explanation.contains("DiagnosticMonitorTraceListener"), "{listing:#?}");
    assert!(crashes[1].explanation.contains("taken offline for a deployment"), "{listing:#?}");
    assert_eq!(of(FailureMode::Unexplained).count(), 0, "{listing:#?}");
    // Every citation names a file that exists.
    for e in report.findings.iter().flat_map(|f| &f.evidence) {
        assert!(std::path::Path::new(&e.path).is_file(), "{}", e.path);
    }
}

/// The file's text as PowerShell's `>` would save it: UTF-16LE with a
/// byte-order mark (each line decoded as the parsers decode it: UTF-8, or
/// Windows-1252 when it is not).
fn utf16_copy(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.extend(u16::from(b'\n').to_le_bytes());
        }
        for unit in faultline_parser::value::decode_text(line).encode_utf16() {
            out.extend(unit.to_le_bytes());
        }
    }
    out
}

/// Every W3C-family and event-XML sample saved again as UTF-16 gives the same
/// records, rejected lines and values as the original.
#[test]
fn utf16_copies_of_the_text_samples_read_as_the_originals() {
    let Some(root) = samples() else { return };
    let copies = tempfile::tempdir().expect("tempdir");
    let copy = |rel: &str| {
        let to = copies.path().join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::write(&to, utf16_copy(&std::fs::read(root.join(rel)).expect("reads"))).expect("writes");
    };
    for &(rel, format, records, _) in EXPECTED {
        copy(rel);
        for chunk in [1 << 20, 97] {
            let (f1, a) = facts(&root, rel, chunk);
            let (f2, b) = facts(copies.path(), rel, chunk);
            assert_eq!((f1, f2), (format, format), "{rel}");
            assert_eq!(
                (a.records, &a.statuses, &a.reasons, &a.first),
                (b.records, &b.statuses, &b.reasons, &b.first),
                "{rel}"
            );
            assert_eq!(a.rejected_lines, b.rejected_lines, "{rel}: line numbers are kept");
            assert_eq!(b.records, records, "{rel}");
        }
    }
    let xml = [
        "azure-eventlog-calendarsystems-tools.docketcalendar.com/eventlog.xml",
        "azure-eventlog-mattroot87-testWebsiteBackup/eventlog.xml",
        "evtxml-elastic-beats/application-windows-error-reporting.xml",
    ];
    for rel in xml {
        copy(rel);
        let (f1, a) = owned(&root, rel, true);
        let (f2, b) = owned(copies.path(), rel, true);
        assert_eq!((f1, f2), (Format::EventXml, Format::EventXml), "{rel}");
        let key = |e: &faultline_parser::WinEvent| {
            let line = match e.origin {
                faultline_parser::winevent::EventOrigin::Xml { line, .. } => line,
                faultline_parser::winevent::EventOrigin::Record { record_id, .. } => record_id,
            };
            (line, e.time, e.provider.clone(), e.event_id, e.computer.clone(), e.data.clone())
        };
        assert_eq!(
            a.events.iter().map(key).collect::<Vec<_>>(),
            b.events.iter().map(key).collect::<Vec<_>>(),
            "{rel}"
        );
        assert!(!b.events.is_empty());
    }
}

/// Every real detailed error page is read as IIS wrote it: status, module,
/// notification, handler and error code, as SOURCES.md §6b lists them.
#[test]
fn detailed_error_pages_give_their_failing_module_and_code() {
    let Some(root) = samples() else { return };
    /// Path, status and sub-status, module, handler, error code.
    type Page<'a> = (&'a str, (u16, u32), &'a str, Option<&'a str>, u32);
    let pages: &[Page<'_>] = &[
        (
            "azure-detailederrors-spaarke-dev-spaarke/DetailedErrors/ErrorPage000019.htm",
            (503, 0),
            "AspNetCoreModuleV2",
            Some("aspNetCore"),
            0x8007_045B,
        ),
        (
            "azure-detailederrors-spaarke-dev-spaarke/DetailedErrors/ErrorPage000017.htm",
            (400, 0),
            "AspNetCoreModuleV2",
            Some("aspNetCore"),
            0,
        ),
        (
            "azure-detailederrors-sadabyakod-school-ai-chatbot/DetailedErrors/ErrorPage000027.htm",
            (500, 30),
            "AspNetCoreModuleV2",
            Some("aspNetCore"),
            0x8007_023E,
        ),
        (
            "azure-detailederrors-sadabyakod-school-ai-chatbot/DetailedErrors/ErrorPage000018.htm",
            (503, 0),
            "AspNetCoreModuleV2",
            Some("aspNetCore"),
            0x8007_04E7,
        ),
        (
            "azure-detailederrors-tshekom8206-staybotplatform/DetailedErrors/ErrorPage000001.htm",
            (500, 31),
            "AspNetCoreModuleV2",
            Some("aspNetCore"),
            0x8000_FFFF,
        ),
        (
            "azure-detailederrors-thinkwhale-MyTakeOnQuotes/DetailedErrors/ErrorPage000002.htm",
            (500, 1001),
            "iisnode",
            Some("iisnode"),
            2,
        ),
    ];
    for &(rel, status, module, handler, code) in pages {
        let (format, owned) = owned(&root, rel, false);
        assert_eq!(format, Format::ErrorPage, "{rel}");
        assert_eq!(owned.traces.len(), 1, "{rel}");
        let t = &owned.traces[0];
        assert_eq!((t.status, t.substatus), (Some(status.0), Some(status.1)), "{rel}");
        let e = t.summary.first_error.as_ref().expect(rel);
        assert_eq!(
            (e.module.as_str(), t.summary.handler.as_deref(), e.error_code),
            (module, handler, Some(code)),
            "{rel}"
        );
        assert!(t.summary.time_of_file && t.time().is_some(), "{rel}: timed by the file");
        assert!(owned.diagnostics.is_empty(), "{rel}: {:?}", owned.diagnostics);
    }
}

/// A detailed error page cited by a finding says it is an error page and
/// that its time is the file's, not a FREB trace's.
#[test]
fn findings_cite_error_pages_as_error_pages() {
    let Some(root) = samples() else { return };
    let report = faultline_analyzer::analyze(
        &[root.join("azure-detailederrors-sadabyakod-school-ai-chatbot")],
        &ReadConfig::default(),
        &faultline_analyzer::Scope::default(),
        &|_| {},
    );
    let cited = &report.findings[0].evidence[0].summary;
    assert!(cited.starts_with("error page 500.30 https://smartstudy-api:80/api/exam/list"), "{cited}");
    assert!(cited.contains("the file's modification time"), "{cited}");
}
