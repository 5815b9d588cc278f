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
pub(crate) fn no_findings(report: &Report) -> &'static str {
    if report.inventory.has_evidence() {
        "No findings: nothing in the evidence matches a known failure mode."
    } else {
        NOTHING_READ
    }
}

/// A note for files whose times are the server's local time, read as UTC.
pub(crate) fn local_time(files: &[&faultline_analyzer::inventory::FileSummary]) -> Option<String> {
    let first = files.first()?;
    let name = |f: &faultline_analyzer::inventory::FileSummary| {
        let host = f.host.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
        format!("{}{host}", f.path.rsplit(['/', '\\']).next().unwrap_or(&f.path))
    };
    let more = match files.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Some(format!(
        "{}{more}: times are the server's local time (the IIS native format, or local-time fields), read as \
         UTC and off by its UTC offset; --skew HOST=SECONDS with minus that offset corrects them (-28800 for a \
         server at UTC+8).",
        name(first)
    ))
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

    /// brianary's ex010320.log is in IIS's native format, timed by the
    /// server's clock: the header says its times are off by the server's
    /// offset, and how to correct them.
    #[test]
    fn files_in_local_time_are_said_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("ex010320.log"),
            "10.0.0.5, -, 3/20/01, 7:55:20, W3SVC1, SERVER, 10.0.0.1, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,\n",
        )
        .expect("writes");
        let report = faultline_analyzer::analyze(
            &[dir.path().to_path_buf()],
            &faultline_parser::ReadConfig::default(),
            &faultline_analyzer::Scope::default(),
            &|_| {},
        );
        let note = local_time(&report.inventory.local_time_files()).expect("a note");
        assert!(note.starts_with("ex010320.log (SERVER): times are the server's local time"), "{note}");
        assert_eq!(local_time(&[]), None);
        // Once the analyst corrects the host's clock, there is nothing to say.
        let mut scope = faultline_analyzer::Scope::default();
        scope.skew.insert("SERVER", faultline_parser::Span::hours(-8));
        let corrected = faultline_analyzer::analyze(
            &[dir.path().to_path_buf()],
            &faultline_parser::ReadConfig::default(),
            &scope,
            &|_| {},
        );
        assert!(corrected.inventory.local_time_files().is_empty());
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
