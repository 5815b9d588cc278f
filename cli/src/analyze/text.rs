//! `faultline analyze` as text: the most important finding first, each with
//! its explanation, a compact timeline, the evidence an analyst can open at
//! the right line, and what to do.

use std::io::Write;

use faultline_analyzer::Report;
use faultline_analyzer::finding::{Evidence, Finding, Role};
use faultline_parser::Timestamp;

use crate::config::Zone;
use crate::style::{Palette, sanitize};

/// The steps of a finding's timeline the text shows; the rest are counted.
const TIMELINE_STEPS: usize = 12;

/// Where to open the evidence: `path:line`, `path record N`, or both for
/// an exported event (an App Service eventlog.xml holds many on a line).
pub(crate) fn place(e: &Evidence) -> String {
    match (e.line, e.record) {
        (Some(l), Some(r)) => format!("{}:{l} record {r}", sanitize(&e.path)),
        (Some(l), None) => format!("{}:{l}", sanitize(&e.path)),
        (None, Some(r)) => format!("{} record {r}", sanitize(&e.path)),
        _ => sanitize(&e.path),
    }
}

/// Whether a finding is made only of pages with no time a clock can place
/// (their files' dates could not be read either): its window is the
/// clock's zero, no date of theirs.
pub(crate) fn untimed(f: &Finding) -> bool {
    f.window_from_files && f.start == Timestamp::default() && f.end == Timestamp::default()
}

/// Why every format says an [`untimed`] finding's time is unknown.
pub(crate) const UNTIMED_WHY: &str = "the pages hold none, and their files' dates could not be read";

/// A time of finding `f` (its window's or a step's) as every format shows it.
pub(crate) fn finding_time(f: &Finding, t: Timestamp, zone: &Zone) -> String {
    if untimed(f) { "time unknown".to_string() } else { zone.time(t) }
}

/// Host, site and pool of a finding, as far as known.
pub(crate) fn scope(f: &Finding) -> String {
    [("host", &f.scope.host), ("site", &f.scope.site), ("pool", &f.scope.app_pool)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {}", sanitize(v))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The same incident on other hosts: `#3 (WEB02), #5 (WEB03, pool-stopped)`,
/// naming the failure mode where it differs.
pub(crate) fn related(report: &Report, f: &Finding) -> Option<String> {
    if f.related.is_empty() {
        return None;
    }
    let list: Vec<String> = f
        .related
        .iter()
        .map(|&n| {
            let other = report.findings.get(n - 1);
            let host = other.and_then(|o| o.scope.host.as_deref()).unwrap_or("-");
            match other.map(|o| o.id).filter(|id| *id != f.id) {
                Some(id) => format!("#{n} ({}, {id})", sanitize(host)),
                None => format!("#{n} ({})", sanitize(host)),
            }
        })
        .collect();
    Some(list.join(", "))
}

/// Writes the findings report.
pub fn write(out: &mut dyn Write, report: &Report, palette: &Palette, zone: &Zone) -> anyhow::Result<()> {
    let files = report.inventory.files.iter().filter(|f| f.format.is_some()).count();
    let records: u64 = report.inventory.files.iter().map(|f| f.records).sum();
    let rejected: u64 = report.inventory.files.iter().map(|f| f.rejected).sum();
    writeln!(
        out,
        "{}",
        palette.bold(&format!(
            "faultline: {files} {}, {records} records read, {rejected} rejected; times in {}",
            if files == 1 { "file" } else { "files" },
            zone.name()
        ))
    )?;
    if let Some(note) = super::report_window_note(report, &|t| zone.time(t)) {
        writeln!(out, "{}", palette.yellow(&sanitize(&note)))?;
    }
    if let Some(note) = super::lost_note(&super::lost_files(&report.inventory)) {
        writeln!(out, "{}", palette.yellow(&sanitize(&note)))?;
    }
    if let Some(note) = super::folder_named(&report.inventory.folder_named_hosts()) {
        writeln!(out, "{}", palette.dim(&sanitize(&note)))?;
    }
    for note in super::time_notes(&report.inventory) {
        writeln!(out, "{}", palette.dim(&sanitize(&note)))?;
    }
    for note in report.header_notes(&|t| zone.time(t)) {
        writeln!(out, "{}", palette.dim(&sanitize(&note)))?;
    }
    if report.findings.is_empty() {
        writeln!(out, "\n{}", super::no_findings(report))?;
        return security(out, report, palette, zone);
    }
    for (i, f) in report.findings.iter().enumerate() {
        writeln!(out)?;
        let sev = match f.severity {
            faultline_analyzer::FindingSeverity::Critical | faultline_analyzer::FindingSeverity::High => {
                palette.red(f.severity.name())
            }
            faultline_analyzer::FindingSeverity::Medium => palette.yellow(f.severity.name()),
            _ => palette.dim(f.severity.name()),
        };
        writeln!(
            out,
            "{} {} [{}] {} (confidence {:.2})",
            palette.bold(&format!("{}.", i + 1)),
            palette.bold(f.id.id()),
            sev,
            f.title,
            f.confidence
        )?;
        if untimed(f) {
            writeln!(out, "   time unknown   {}   ({UNTIMED_WHY})", scope(f))?;
        } else {
            let dated = if f.window_from_files { "   (the pages' file dates)" } else { "" };
            writeln!(out, "   {} → {}   {}{dated}", zone.time(f.start), zone.time(f.end), scope(f))?;
        }
        if let Some(list) = related(report, f) {
            writeln!(out, "   same incident on other hosts: {list}")?;
        }
        if !f.detections.is_empty() {
            let mut rules: Vec<&str> = f
                .detections
                .iter()
                .filter_map(|&i| report.detections.get(i - 1))
                .map(|d| d.rule.meta.title.as_str())
                .collect();
            rules.dedup();
            writeln!(
                out,
                "   security detections on this host before or during it: {}",
                sanitize(&rules.join("; "))
            )?;
        }
        writeln!(out, "   {}", sanitize(&zone.prose(&f.explanation)))?;
        writeln!(out, "   {}", palette.bold("timeline"))?;
        for step in f.timeline.iter().take(TIMELINE_STEPS) {
            let role = match step.role {
                Role::Cause => palette.red("cause  "),
                Role::Effect => palette.yellow("effect "),
                Role::Context => palette.dim("context"),
            };
            let when = format!("{:<19}", finding_time(f, step.time, zone));
            writeln!(out, "     {when} {} {}", role, sanitize(&step.summary))?;
        }
        if f.timeline.len() > TIMELINE_STEPS {
            let more = f.timeline.len() - TIMELINE_STEPS;
            let last =
                f.timeline.last().map_or(String::new(), |s| format!(", the last at {}", zone.time(s.time)));
            writeln!(out, "     {}", palette.dim(&format!("... {more} more steps{last} (--format json)")))?;
        }
        writeln!(out, "   {}", palette.bold("evidence"))?;
        for e in f.evidence.iter().take(8) {
            writeln!(out, "     {}", place(e))?;
        }
        if let Some(more) = super::more_evidence(f, 8, "--format json") {
            writeln!(out, "     {}", palette.dim(&format!("... {more}")))?;
        }
        writeln!(out, "   {}", palette.bold("what to do"))?;
        for r in &f.remediation {
            writeln!(out, "     - {}", sanitize(r))?;
        }
    }
    security(out, report, palette, zone)
}

/// The security lens's detections, after the root causes.
fn security(out: &mut dyn Write, report: &Report, palette: &Palette, zone: &Zone) -> anyhow::Result<()> {
    if report.detections.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n{}",
        palette.bold(&format!(
            "Security lens: {} detection{} (faultline hunt for more)",
            report.detections.len(),
            if report.detections.len() == 1 { "" } else { "s" }
        ))
    )?;
    crate::hunt::groups(out, &report.detections, zone)
}
