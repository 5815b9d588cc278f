//! `faultline analyze`: root-cause findings.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::mem::ManuallyDrop;

use anyhow::{Context, bail};
use faultline_analyzer::{FindingSeverity, Inventory, Report, Scope, Skew, analyze};
use faultline_parser::{ArchiveLimits, ReadConfig, Span, TextConfig, Timestamp};

use crate::args::{AnalyzeArgs, EvidenceArgs, GlobalArgs, OutputFormat, RangeArgs, ReadingArgs};
use crate::exit::Exit;
use crate::progress::Bar;
use crate::report;
use crate::style::Palette;

fn parse_time(flag: &str, v: &Option<String>) -> anyhow::Result<Option<Timestamp>> {
    match v {
        None => Ok(None),
        Some(text) => faultline_parser::time::parse_rfc3339(text.as_bytes()).map(Some).with_context(|| {
            format!("{flag}: expected an RFC 3339 time such as 2025-11-24T13:00:00Z, got {text:?}")
        }),
    }
}

/// `UTC`, `Z`, or a fixed offset `+hh:mm` / `-hh:mm`, in seconds.
pub fn parse_zone(tz: &str) -> anyhow::Result<i32> {
    if tz.eq_ignore_ascii_case("utc") || tz == "Z" {
        return Ok(0);
    }
    let (sign, rest) = match tz.as_bytes().first() {
        Some(b'+') => (1, &tz[1..]),
        Some(b'-') => (-1, &tz[1..]),
        _ => bail!("--tz: expected UTC or an offset such as +02:00, got {tz:?}"),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().context("--tz hours")?, m.parse().context("--tz minutes")?);
    if h > 14 || m > 59 {
        bail!("--tz: offset out of range: {tz:?}");
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// `HOST=SECONDS` flags as clock corrections.
pub fn parse_skew(flags: &[String]) -> anyhow::Result<Skew> {
    let mut skew = Skew::default();
    for s in flags {
        let (host, secs) =
            s.split_once('=').with_context(|| format!("--skew: expected HOST=SECONDS, got {s:?}"))?;
        let secs: i64 =
            secs.trim_start_matches('+').parse().with_context(|| format!("--skew: bad seconds in {s:?}"))?;
        skew.insert(host, Span::secs(secs));
    }
    Ok(skew)
}

/// The time range and skew flags as a scope.
pub fn analysis_config(range: &RangeArgs) -> anyhow::Result<Scope> {
    Ok(Scope {
        from: parse_time("--from", &range.from)?,
        to: parse_time("--to", &range.to)?,
        skew: parse_skew(&range.skew)?,
    })
}

/// How to read: archive limits and which events to keep.
pub fn read_config(reading: &ReadingArgs) -> ReadConfig {
    ReadConfig {
        text: TextConfig::default(),
        limits: ArchiveLimits { max_member_bytes: reading.max_member_size << 20, ..ArchiveLimits::default() },
        all_events: reading.all_events,
    }
}

/// Reads the evidence an analyzing command names and analyzes it.
///
/// The report is never dropped: it can hold millions of events, the command
/// ends once it is written, and freeing them one by one took a tenth of an
/// event-heavy run that the end of the process does at once.
pub fn read_and_analyze(global: &GlobalArgs, args: &EvidenceArgs) -> anyhow::Result<ManuallyDrop<Report>> {
    let config = analysis_config(&args.range)?;
    let read = read_config(&args.reading);
    let bar = Bar::new(global.quiet);
    let report = analyze(&args.paths, &read, &config, &bar);
    bar.finish();
    Ok(ManuallyDrop::new(report))
}

/// The output file, or standard output.
pub fn output(global: &GlobalArgs) -> anyhow::Result<Box<dyn Write>> {
    Ok(match &global.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

/// Names unreadable inputs on standard error; exit status 2 when nothing
/// readable was found.
pub fn report_unreadable(inventory: &Inventory) -> anyhow::Result<Option<Exit>> {
    let mut err = std::io::stderr().lock();
    for f in inventory.files.iter().filter(|f| f.status == faultline_analyzer::FileStatus::Failed) {
        if let Some(reason) = &f.reason {
            writeln!(err, "error: {}: {}", crate::style::sanitize(&f.path), reason)?;
        }
    }
    if !inventory.has_evidence() {
        writeln!(err, "error: none of the inputs holds IIS evidence faultline can read")?;
        return Ok(Some(Exit::Error));
    }
    Ok(None)
}

pub fn run(global: &GlobalArgs, args: &AnalyzeArgs) -> anyhow::Result<Exit> {
    let fail_on = match &args.fail_on {
        Some(s) => {
            Some(FindingSeverity::parse(s).with_context(|| format!("--fail-on: unknown severity {s:?}"))?)
        }
        None => None,
    };
    global.format.require(
        "analyze",
        &[OutputFormat::Text, OutputFormat::Json, OutputFormat::Markdown, OutputFormat::Html],
    )?;
    let offset = parse_zone(&args.evidence.tz)?;
    let report = read_and_analyze(global, &args.evidence)?;
    let mut out = output(global)?;
    match global.format {
        OutputFormat::Json => report::json::write_analysis(&mut out, &report)?,
        OutputFormat::Markdown => report::markdown::write(&mut out, &report, offset, &args.evidence.tz)?,
        OutputFormat::Html => report::html::write(&mut out, &report, offset, &args.evidence.tz)?,
        OutputFormat::Text | OutputFormat::Csv | OutputFormat::Jsonl | OutputFormat::Parquet => {
            let palette = Palette::detect(global.quiet, global.output.is_none());
            report::findings::write(&mut out, &report, &palette, offset, &args.evidence.tz)?;
        }
    }
    out.flush()?;
    if let Some(exit) = report_unreadable(&report.inventory)? {
        return Ok(exit);
    }
    if fail_on.is_some_and(|level| report.findings.iter().any(|f| f.severity >= level)) {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}
