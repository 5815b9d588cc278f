//! `faultline analyze`: root-cause findings, as text, JSON, Markdown or HTML.

mod chart;
mod html;
mod json;
mod markdown;
pub(crate) mod text;

use std::io::Write;
use std::mem::ManuallyDrop;

use faultline_analyzer::hunting::Hunt;
use faultline_analyzer::identity::FolderNamedHost;
use faultline_analyzer::{Report, analyze_and_hunt};

use crate::args::{AnalyzeArgs, AnalyzeFormat, EvidenceArgs, GlobalArgs};
use crate::config::{output, read_config, scope, warn_unused_corrections};
use crate::exit::Exit;
use crate::progress::Bar;
use crate::style::Palette;
use crate::unreadable::report_unreadable;

/// Reads the evidence an analyzing command names, analyzes it and hunts it
/// with `hunt`'s rules in the same read.
///
/// The report is never dropped: it can hold millions of events, the command
/// ends once it is written, and freeing them one by one took a tenth of an
/// event-heavy run that the end of the process does at once.
pub(crate) fn read_analyze_and_hunt(
    global: &GlobalArgs,
    args: &EvidenceArgs,
    hunt: &Hunt,
) -> ManuallyDrop<Report> {
    let bar = Bar::new(global.quiet);
    let read = read_config(&args.reading);
    let scope = scope(&args.range, &args.reading);
    let report = analyze_and_hunt(&args.paths, &read, &scope, hunt, &bar);
    bar.finish();
    warn_unused_corrections(&scope);
    ManuallyDrop::new(report)
}

pub fn run(global: &GlobalArgs, args: &AnalyzeArgs) -> anyhow::Result<Exit> {
    let hunt = args.lens.hunt()?;
    let report = read_analyze_and_hunt(global, &args.evidence, &hunt);
    let zone = &args.evidence.tz;
    let mut out = output(global.output.as_ref())?;
    match args.format {
        AnalyzeFormat::Json => json::write(&mut out, &report)?,
        AnalyzeFormat::Markdown => markdown::write(&mut out, &report, zone)?,
        AnalyzeFormat::Html => html::write(&mut out, &report, zone)?,
        AnalyzeFormat::Text => {
            let palette = Palette::detect(global.quiet, global.output.is_none());
            text::write(&mut out, &report, &palette, zone)?;
        }
    }
    out.flush()?;
    if let Some(exit) = report_unreadable(&report.inventory)? {
        return Ok(exit);
    }
    if args.fail_on.is_some_and(|level| report.findings.iter().any(|f| f.severity >= level)) {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}

/// The line a report without findings shows: a report over nothing readable
/// must not read like a healthy server.
pub(crate) fn no_findings(report: &Report) -> String {
    if !report.inventory.has_evidence() {
        return NOTHING_READ.to_string();
    }
    let mut line = match report.window.is_open() {
        true => "No findings: nothing in the evidence matches a known failure mode.".to_string(),
        false => {
            "No findings: nothing in the evidence of the window matches a known failure mode.".to_string()
        }
    };
    line.push_str(&quiet_rejections(&report.store));
    line
}

/// What HTTP.sys refused or dropped when no finding explains it: how many, their
/// most common reasons, and whether any was an IIS site's (an HTTPERR log
/// of system services on other ports is not an outage, but is not nothing).
fn quiet_rejections(store: &faultline_analyzer::evidence::Store) -> String {
    let errors = &store.errors;
    if errors.is_empty() {
        return String::new();
    }
    let mut reasons: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    let mut phrases = std::collections::BTreeMap::new();
    for e in errors {
        *reasons.entry(&e.phrase).or_default() += 1;
        phrases.entry(e.reason).or_insert(&*e.phrase);
    }
    let mut iis = errors.iter().filter(|e| e.site.is_some() || e.queue.is_some()).count() as u64;
    // A busy minute's rejections past the rows kept count under the phrase
    // a kept row of their reason wrote.
    for ((_, _, reason, queue, site), unlisted) in &store.unlisted_errors {
        let n = unlisted.count;
        if let Some(phrase) = phrases.get(reason) {
            *reasons.entry(phrase).or_default() += u64::from(n);
        }
        if site.is_some() || queue.is_some() {
            iis += u64::from(n);
        }
    }
    let total: u64 = reasons.values().sum();
    let mut top: Vec<(&str, u64)> = reasons.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let said: Vec<String> = top.iter().take(3).map(|(r, n)| format!("{n} {r}")).collect();
    let whose = match iis {
        0 => "none named an IIS site or app pool queue".to_string(),
        n => format!("{n} named an IIS site or app pool queue, too few or too spread out for a failure mode"),
    };
    let requests = if total == 1 { "request" } else { "requests" };
    format!(" HTTP.sys logged {total} {requests} it refused or dropped ({}): {whose}.", said.join(", "))
}

/// The notes on files whose times are in doubt (local time read as UTC,
/// rows with a date and no time of day), each naming the first such file
/// and its host.
pub(crate) fn time_notes(inventory: &faultline_analyzer::inventory::Inventory) -> Vec<String> {
    let first = |files: &[&faultline_analyzer::inventory::FileSummary]| {
        let f = files.first()?;
        let host = f.host.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
        Some((format!("{}{host}", file_name(&f.path)), files.len()))
    };
    doubt_notes(first(&inventory.local_time_files()), first(&inventory.date_only_files()))
}

/// [`time_notes`] of files named by their paths (the timeline's).
pub(crate) fn time_notes_of_paths(
    local_time: &[std::sync::Arc<str>],
    date_only: &[std::sync::Arc<str>],
) -> Vec<String> {
    let first = |paths: &[std::sync::Arc<str>]| Some((file_name(paths.first()?).to_string(), paths.len()));
    doubt_notes(first(local_time), first(date_only))
}

/// What a list of a finding's evidence showing its first `shown` leaves
/// out: the rest of what JSON lists (`json` names where), and what the
/// finding read but cites nowhere.
pub(crate) fn more_evidence(f: &faultline_analyzer::Finding, shown: usize, json: &str) -> Option<String> {
    let listed = f.evidence.len().saturating_sub(shown);
    let said: Vec<String> = [
        (listed > 0).then(|| format!("{listed} more in {json}")),
        (f.evidence_omitted > 0).then(|| format!("{} more read, not cited", f.evidence_omitted)),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The notes, each on `count` files whose first is named.
fn doubt_notes(local_time: Option<(String, usize)>, date_only: Option<(String, usize)>) -> Vec<String> {
    let files = |(first, count): (String, usize)| match count {
        1 => first,
        n => format!("{first} and {} more", n - 1),
    };
    let local_time = local_time.map(|f| {
        format!(
            "{}: times are the server's local time (the IIS native format, or local-time fields), read as UTC and \
             off by its UTC offset; --skew HOST=SECONDS with minus that offset corrects them (-28800 for a server \
             at UTC+8).",
            files(f)
        )
    });
    let date_only = date_only.map(|f| {
        format!(
            "{}: rows have a date and no time of day (the log's fields leave out `time`), so each is placed at \
             00:00:00 UTC of its date: the order of a day's rows is the file's, and no burst, gap or time within \
             the day can be read from them.",
            files(f)
        )
    });
    local_time.into_iter().chain(date_only).collect()
}

/// What a document report (Markdown, HTML) says before its findings: the
/// window, evidence lost, doubted times, renamed machines and stepped
/// clocks, in that order.
pub(crate) fn report_notes(
    report: &Report,
    time: &dyn Fn(faultline_parser::Timestamp) -> String,
) -> Vec<String> {
    report_window_note(report, time)
        .into_iter()
        .chain(lost_note(&lost_files(&report.inventory)))
        .chain(time_notes(&report.inventory))
        .chain(report.header_notes(time))
        .collect()
}

/// [`window_note`] of an analysis, with the span of the evidence it read.
pub(crate) fn report_window_note(
    report: &Report,
    time: &dyn Fn(faultline_parser::Timestamp) -> String,
) -> Option<String> {
    let files = &report.inventory.files;
    let span = files.iter().filter_map(|f| f.first).min().zip(files.iter().filter_map(|f| f.last).max());
    window_note(report.window, span, time)
}

/// What the header says of a window the analyst asked for: its ends, and,
/// when the evidence read (spanning `span`, when known) lies wholly outside
/// it, where the evidence is (an empty window otherwise reads as a quiet
/// day).
pub(crate) fn window_note(
    w: faultline_analyzer::Window,
    span: Option<(faultline_parser::Timestamp, faultline_parser::Timestamp)>,
    time: &dyn Fn(faultline_parser::Timestamp) -> String,
) -> Option<String> {
    if w.is_open() {
        return None;
    }
    let ends = match (w.from, w.to) {
        (Some(from), Some(to)) => format!("from {} to {}", time(from), time(to)),
        (Some(from), None) => format!("from {} on", time(from)),
        (None, Some(to)) => format!("before {}", time(to)),
        (None, None) => String::new(),
    };
    let outside = match span {
        Some((first, last)) if w.misses(first, last) => {
            format!(": the evidence read spans {} to {}, none of it in the window", time(first), time(last))
        }
        _ => String::new(),
    };
    Some(format!("Only evidence {ends} is looked at (--from/--to){outside}."))
}

/// The files of the inventory whose evidence is partly gone, each with the
/// first diagnostic saying so (see [`lost_note`]).
pub(crate) fn lost_files(inventory: &faultline_analyzer::inventory::Inventory) -> Vec<(String, String)> {
    inventory
        .files
        .iter()
        .filter(|f| f.lost > 0)
        .map(|f| {
            let said = f.diagnostics.iter().find(|d| d.lost).map(|d| d.message.as_str());
            let host = f.host.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
            (
                format!("{}{host}", file_name(&f.path)),
                said.unwrap_or("`faultline scan` says where").to_string(),
            )
        })
        .collect()
}

/// What the header says of files whose evidence is partly gone (a copy cut
/// short, a wiped chunk, zeroed rows): a report on what is left must not
/// read as a report on all of it. `files` are `(file, why)`.
pub(crate) fn lost_note(files: &[(String, String)]) -> Option<String> {
    let (first, why) = files.first()?;
    Some(match files.len() {
        1 => format!("{first}: evidence lost: {why}. What it held there is in nothing this report says."),
        n => format!(
            "{first} and {} more: evidence lost (the first: {why}); `faultline scan` names each. What they held \
             there is in nothing this report says.",
            n - 1
        ),
    })
}

/// What the header says of hosts known only by their folder's name, which
/// may be a case's or a sample's rather than a server's.
pub(crate) fn folder_named(hosts: &[FolderNamedHost]) -> Option<String> {
    let names = |app_service: bool| -> Vec<&str> {
        hosts.iter().filter(|h| h.app_service == app_service).map(|h| h.name.as_str()).collect()
    };
    let said = |names: Vec<&str>, why: &str| match names.as_slice() {
        [] => None,
        [one] => Some(format!("host {one} is its folder's name: {why}")),
        many => Some(format!("hosts {} are their folders' names: {why}", many.join(", "))),
    };
    let lines: Vec<String> = [
        said(names(false), "no record names the server"),
        said(names(true), "no record names the App Service site (at most its workers)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!lines.is_empty()).then(|| format!("{} (--host NAME=PATH names it)", lines.join("; ")))
}

/// What a report says in place of its findings or detections when none of
/// the inputs could be read.
pub(crate) const NOTHING_READ: &str =
    "Nothing to judge: none of the inputs holds evidence faultline can read.";

#[cfg(test)]
mod tests {
    use super::*;

    /// koytze's HTTPERR log: 474 rejections of UPnP and WSD requests on
    /// ports 2869 and 5357, none an IIS site's: said beside "No findings",
    /// which alone read as nothing happened.
    #[test]
    fn rejections_no_finding_explains_are_said() {
        use faultline_analyzer::evidence::ErrRow;
        use faultline_parser::w3c::ReasonKind;
        let row = |phrase: &str, queue: Option<&str>| ErrRow {
            time: faultline_parser::Timestamp::default(),
            host: "PC01".into(),
            status: Some(503),
            reason: ReasonKind::Other,
            phrase: phrase.into(),
            queue: queue.map(Into::into),
            site: None,
            uri: None,
            source: 0,
            line: 1,
        };
        let store = |rows: Vec<ErrRow>| {
            let mut store = faultline_analyzer::evidence::Store::default();
            store.errors = rows;
            store
        };
        assert_eq!(quiet_rejections(&store(Vec::new())), "");
        let system = vec![row("N/A", None), row("N/A", None), row("Connection_Abandoned_By_ReqQueue", None)];
        assert_eq!(
            quiet_rejections(&store(system.clone())),
            " HTTP.sys logged 3 requests it refused or dropped (2 N/A, 1 Connection_Abandoned_By_ReqQueue): none named an IIS site \
             or app pool queue."
        );
        // A busy minute's rejections past the rows kept count too.
        let mut busy = store(system);
        let key = ("PC01".into(), 0, ReasonKind::Other, None, None);
        busy.unlisted_errors
            .insert(key, faultline_analyzer::evidence::Unlisted { count: 500, last: Default::default() });
        assert!(
            quiet_rejections(&busy)
                .starts_with(" HTTP.sys logged 503 requests it refused or dropped (502 N/A, 1 ")
        );
        let pool = store(vec![row("Disabled", Some("ShopPool"))]);
        assert!(quiet_rejections(&pool).contains("1 named an IIS site or app pool queue, too few"));
        assert!(
            quiet_rejections(&pool)
                .starts_with(" HTTP.sys logged 1 request it refused or dropped (1 Disabled)")
        );
    }

    /// The report of a folder holding one file of `text` named `name`.
    fn report_of(name: &str, text: &str, scope: &faultline_analyzer::Scope) -> faultline_analyzer::Report {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(name), text).expect("writes");
        faultline_analyzer::analyze(
            &[dir.path().to_path_buf()],
            &faultline_parser::ReadConfig::default(),
            scope,
            &|_| {},
        )
    }

    /// brianary's ex010320.log is in IIS's native format, timed by the
    /// server's clock: the header says its times are off by the server's
    /// offset, and how to correct them.
    #[test]
    fn files_in_local_time_are_said_so() {
        let native = "10.0.0.5, -, 3/20/01, 7:55:20, W3SVC1, SERVER, 10.0.0.1, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,\n";
        let report = report_of("ex010320.log", native, &faultline_analyzer::Scope::default());
        let notes = time_notes(&report.inventory);
        assert!(
            notes[0].starts_with("ex010320.log (SERVER): times are the server's local time"),
            "{notes:?}"
        );
        assert_eq!(notes.len(), 1);
        // Once the analyst corrects the host's clock, there is nothing to say.
        let mut scope = faultline_analyzer::Scope::default();
        scope.skew.insert("SERVER", faultline_parser::Span::hours(-8));
        let corrected = report_of("ex010320.log", native, &scope);
        assert!(corrected.inventory.local_time_files().is_empty());
    }

    /// A log whose fields leave out `time` places each row at midnight:
    /// the header says so, beside any other doubt.
    #[test]
    fn rows_without_a_time_of_day_are_said_so() {
        let log =
            "#Fields: date s-computername cs-method cs-uri-stem sc-status\n2024-03-01 WEB01 GET /a 200\n";
        let report = report_of("u_ex240301.log", log, &faultline_analyzer::Scope::default());
        let notes = time_notes(&report.inventory);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("u_ex240301.log (WEB01): rows have a date and no time of day"),
            "{notes:?}"
        );
        let paths = |names: &[&str]| names.iter().map(|n| std::sync::Arc::from(*n)).collect::<Vec<_>>();
        let both = time_notes_of_paths(&paths(&["a/ex1.log"]), &paths(&["b/u_ex1.log", "b/u_ex2.log"]));
        assert!(both[0].starts_with("ex1.log: times are the server's local time"), "{both:?}");
        assert!(both[1].starts_with("u_ex1.log and 1 more: rows have a date"), "{both:?}");
        assert!(time_notes_of_paths(&[], &[]).is_empty());
    }

    /// A window asked for is said with its ends, and, when the evidence
    /// lies wholly outside it, where the evidence is; no window, nothing.
    #[test]
    fn a_window_is_said_and_an_empty_one_says_where_the_evidence_is() {
        use faultline_analyzer::Window;
        use faultline_parser::Timestamp;
        let at = |s: i64| Timestamp::from_parts(1_700_000_000 + s, 0);
        let time = |t: Timestamp| t.seconds().to_string();
        assert_eq!(window_note(Window::default(), Some((at(0), at(10))), &time), None);
        let later = Window { from: Some(at(100)), to: None };
        assert_eq!(
            window_note(later, Some((at(0), at(10))), &time).as_deref(),
            Some(
                "Only evidence from 1700000100 on is looked at (--from/--to): the evidence read spans 1700000000 \
                 to 1700000010, none of it in the window."
            )
        );
        let around = Window { from: Some(at(5)), to: Some(at(8)) };
        assert_eq!(
            window_note(around, Some((at(0), at(10))), &time).as_deref(),
            Some("Only evidence from 1700000005 to 1700000008 is looked at (--from/--to).")
        );
        let before = Window { from: None, to: Some(at(0)) };
        assert!(window_note(before, Some((at(0), at(10))), &time).is_some_and(|n| n.contains("none of it")));
        assert!(window_note(before, None, &time).is_some_and(|n| !n.contains("none of it")));
    }

    /// A file whose evidence is partly gone is named with why; several
    /// name the first and count the rest; none say nothing.
    #[test]
    fn files_whose_evidence_is_partly_gone_are_said() {
        assert_eq!(lost_note(&[]), None);
        let cut = ("Security.evtx (WEB01)".to_string(), "the file ends 3904 bytes into chunk 0".to_string());
        assert_eq!(
            lost_note(std::slice::from_ref(&cut)).as_deref(),
            Some(
                "Security.evtx (WEB01): evidence lost: the file ends 3904 bytes into chunk 0. What it held there \
                 is in nothing this report says."
            )
        );
        let two = lost_note(&[cut, ("u_ex.log".into(), "NUL padding".into())]).expect("said");
        assert!(two.starts_with("Security.evtx (WEB01) and 1 more: evidence lost (the first: "), "{two}");
    }

    #[test]
    fn hosts_named_after_folders_are_said_so_with_what_the_records_name() {
        let host = |name: &str, app_service| FolderNamedHost { name: name.to_string(), app_service };
        assert_eq!(folder_named(&[]), None);
        assert_eq!(
            folder_named(&[host("CASE-4711", false)]).as_deref(),
            Some(
                "host CASE-4711 is its folder's name: no record names the server (--host NAME=PATH names it)"
            )
        );
        let both = folder_named(&[host("A", false), host("B", false), host("SHOP-LOGS", true)]);
        assert_eq!(
            both.as_deref(),
            Some(
                "hosts A, B are their folders' names: no record names the server; host SHOP-LOGS is its \
                 folder's name: no record names the App Service site (at most its workers) (--host NAME=PATH names it)"
            )
        );
    }
}
