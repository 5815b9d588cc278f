//! `faultline timeline`: the super-timeline of every record (streamed from
//! a sort on disk), or the notable one, as CSV or JSON lines with the
//! columns Timesketch imports (`message`, `datetime`, `timestamp_desc`,
//! `timestamp` in microseconds) plus typed fields.

use std::io::Write;

use anyhow::Context;
use faultline_analyzer::hunting::{Detection, hunt};
use faultline_analyzer::timeline::{Entry, full, notable};
use faultline_tables::csv_field;
use serde::Serialize;

use crate::analyze::read_analyze_and_hunt;
use crate::args::{GlobalArgs, Security, TimelineArgs, TimelineFormat};
use crate::config::{Zone, output, read_config, scope, warn_unused_corrections};
use crate::exit::Exit;
use crate::progress::Bar;
use crate::unreadable::{report_reading, report_unreadable};

/// One timeline line as written; the field order is the CSV column order.
#[derive(Serialize)]
struct Line<'a> {
    datetime: String,
    timestamp: i64,
    timestamp_desc: &'static str,
    message: &'a str,
    source: &'static str,
    host: &'a str,
    site: Option<u32>,
    path: &'a str,
    line: Option<u64>,
    record: Option<faultline_parser::RecordId>,
}

const COLUMNS: [&str; 10] = [
    "datetime",
    "timestamp",
    "timestamp_desc",
    "message",
    "source",
    "host",
    "site",
    "path",
    "line",
    "record",
];

fn line<'a>(e: &'a Entry, zone: &Zone) -> Line<'a> {
    let t = e.time();
    Line {
        datetime: zone.rfc3339(t),
        timestamp: t.0.div_euclid(1_000),
        timestamp_desc: e.time_meaning,
        message: &e.evidence.summary,
        source: e.evidence.source.name(),
        host: &e.host,
        site: e.site,
        path: &e.evidence.path,
        line: e.evidence.line,
        record: e.evidence.record,
    }
}

fn optional<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

fn write_csv(out: &mut dyn Write, l: &Line<'_>) -> std::io::Result<()> {
    writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{}",
        l.datetime,
        l.timestamp,
        csv_field(l.timestamp_desc),
        csv_field(l.message),
        l.source,
        csv_field(l.host),
        optional(l.site),
        csv_field(l.path),
        optional(l.line),
        optional(l.record)
    )
}

fn write_entry(out: &mut dyn Write, e: &Entry, zone: &Zone, jsonl: bool) -> anyhow::Result<()> {
    let l = line(e, zone);
    if jsonl {
        serde_json::to_writer(&mut *out, &l)?;
        writeln!(out)?;
    } else {
        write_csv(out, &l)?;
    }
    Ok(())
}

pub fn run(global: &GlobalArgs, args: &TimelineArgs) -> anyhow::Result<Exit> {
    let jsonl = args.format == TimelineFormat::Jsonl;
    let zone = &args.evidence.tz;
    let hunted = args.lens.hunt()?;
    if args.notable {
        let report = read_analyze_and_hunt(global, &args.evidence, &hunted);
        let mut out = output(global.output.as_ref())?;
        if !jsonl {
            writeln!(out, "{}", COLUMNS.join(","))?;
        }
        let mut entries = notable(&report.store);
        entries.extend(detection_entries(&report.detections));
        entries.sort_by_key(Entry::time);
        for e in &entries {
            write_entry(&mut out, e, zone, jsonl)?;
        }
        out.flush()?;
        let lost = crate::analyze::lost_note(&crate::analyze::lost_files(&report.inventory));
        for note in lost.into_iter().chain(crate::analyze::time_notes(&report.inventory)) {
            let _ = writeln!(std::io::stderr().lock(), "warning: {note}");
        }
        use faultline_analyzer::evidence::collect::{
            ERRORS_PER_MINUTE, LOGONS_PER_MINUTE, NOTABLE_PER_MINUTE,
        };
        let store = &report.store;
        let left_out = [
            (
                store.unlisted_requests(),
                "failed, slow or cut-off requests",
                NOTABLE_PER_MINUTE,
                "of the minute",
            ),
            (
                store.unlisted_rejections(),
                "HTTP.sys rejections",
                ERRORS_PER_MINUTE,
                "of a reason and queue in the minute",
            ),
            (
                store.unlisted_logons(),
                "Security logon events (4625, 4648, 4771, 4776)",
                LOGONS_PER_MINUTE,
                "of an event id and logon type in the minute",
            ),
        ];
        for ((unlisted, minutes), what, first, of) in left_out.into_iter().filter(|((n, _), ..)| *n > 0) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "warning: {unlisted} {what} in {minutes} busy minute{} past the first {first} {of} are counted, \
                 not listed; the full timeline (without --notable) lists every one",
                if minutes == 1 { "" } else { "s" },
            );
        }
        return Ok(report_unreadable(&report.inventory)?.unwrap_or(Exit::Ok));
    }
    // The detections come from a read of their own, merged in time order
    // into the sorted stream.
    let detections = if args.lens.security == Security::Off {
        Vec::new()
    } else {
        let read = read_config(&args.evidence.reading);
        let scope = scope(&args.evidence.range, &args.evidence.reading);
        detection_entries(&hunt(&args.evidence.paths, &read, &scope, &hunted, &|_| {}).detections)
    };
    let mut detections = detections.into_iter().peekable();
    let bar = Bar::new(global.quiet);
    let scope = scope(&args.evidence.range, &args.evidence.reading);
    let sorted = full(&args.evidence.paths, &read_config(&args.evidence.reading), &scope, &bar)
        .context("sorting the timeline")?;
    bar.finish();
    warn_unused_corrections(&scope);
    if let Some(exit) = report_reading(&sorted.reading)? {
        return Ok(exit);
    }
    let mut out = output(global.output.as_ref())?;
    if !jsonl {
        writeln!(out, "{}", COLUMNS.join(","))?;
    }
    let lost: Vec<(String, String)> = sorted
        .reading
        .lost
        .iter()
        .map(|(path, why)| (crate::analyze::file_name(path).to_string(), why.clone()))
        .collect();
    let time_notes = crate::analyze::lost_note(&lost)
        .into_iter()
        .chain(crate::analyze::time_notes_of_paths(&sorted.local_time_files, &sorted.date_only_files));
    for e in sorted.entries()? {
        let e = e?;
        while let Some(d) = detections.next_if(|d| d.time() <= e.time()) {
            write_entry(&mut out, &d, zone, jsonl)?;
        }
        write_entry(&mut out, &e, zone, jsonl)?;
    }
    for d in detections {
        write_entry(&mut out, &d, zone, jsonl)?;
    }
    out.flush()?;
    for note in time_notes {
        let _ = writeln!(std::io::stderr().lock(), "warning: {note}");
    }
    Ok(Exit::Ok)
}

/// Detections as timeline rows of their own kind: the rule, its level,
/// techniques and author, then what the record says.
fn detection_entries(detections: &[Detection]) -> Vec<Entry> {
    detections
        .iter()
        .map(|d| {
            let rule = &d.rule.meta;
            let mut evidence = d.evidence.clone();
            evidence.summary = format!(
                "{} [{}] {}{} by {}: {}",
                "detection",
                rule.level.name(),
                rule.title,
                if rule.techniques.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", rule.techniques.join(", "))
                },
                rule.author.as_deref().unwrap_or("-"),
                d.evidence.summary
            );
            Entry {
                host: std::sync::Arc::from(d.host.as_str()),
                site: d.site.as_deref().and_then(|s| s.parse().ok()),
                time_meaning: "Detection",
                evidence,
            }
        })
        .collect()
}
