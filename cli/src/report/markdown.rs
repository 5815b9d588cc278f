//! `faultline analyze` as Markdown, to paste into a ticket, a chat or a
//! post-incident review: a summary table of the findings, then each finding
//! with its timeline, evidence and remediation.
//!
//! Every piece of text that comes from the evidence is escaped, so a crafted
//! URL or event message cannot inject links, images or HTML into the page
//! that renders the report.

use std::io::Write;

use faultline_analyzer::finding::Role;
use faultline_analyzer::{FileStatus, FileSummary, Inventory, Report};

use super::findings::{TOTALS_HEADER, place, related, scope, time, time_or_dash, totals_rows};
use crate::style::sanitize;

/// How many timeline steps and evidence items each finding lists; the JSON
/// output has them all.
const TIMELINE_STEPS: usize = 20;
const EVIDENCE_ITEMS: usize = 12;

/// Escapes what Markdown and inline HTML would interpret inside a line:
/// emphasis, code, links, table pipes, tags and entities, and a list or
/// heading marker at the start. Line breaks become spaces so that a table
/// cell or list item stays on its line. Punctuation that is inert mid-line
/// (`-`, `(`, `.`) is left alone so the raw text stays readable in chat.
pub(crate) fn escape(text: &str) -> String {
    let text = sanitize(&text.replace(['\r', '\n'], " "));
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

/// A code span that holds any text: the fence is one backtick longer than the
/// longest run of backticks inside.
fn code(text: &str) -> String {
    let text = sanitize(&text.replace(['\r', '\n'], " "));
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The evidence read, by format.
fn write_totals(out: &mut dyn Write, inv: &Inventory, offset: i32) -> std::io::Result<()> {
    writeln!(out, "## Evidence read\n")?;
    writeln!(out, "| {} |", TOTALS_HEADER.join(" | "))?;
    writeln!(out, "|---|---:|---:|---:|---|---|")?;
    for row in totals_rows(inv, offset) {
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    writeln!(out)
}

/// Writes the inventory as a Markdown document: totals, one row per file,
/// and what was not read and why. Times are UTC, as in the other outputs of
/// `scan`.
pub fn write_scan(out: &mut dyn Write, inv: &Inventory) -> anyhow::Result<()> {
    writeln!(out, "# faultline evidence inventory\n")?;
    write_totals(out, inv, 0)?;
    writeln!(out, "## Files\n")?;
    writeln!(out, "| File | Format | Host | Sites | Records | Rejected | First (UTC) | Last (UTC) |")?;
    writeln!(out, "|---|---|---|---|---:|---:|---|---|")?;
    for f in inv.files.iter().filter(|f| f.format.is_some()) {
        let sites = if f.sites.is_empty() { "-".to_string() } else { escape(&f.sites.join(", ")) };
        writeln!(
            out,
            "| {} | {} | {} | {sites} | {} | {} | {} | {} |",
            code(&f.path),
            f.format.map_or("-", |x| x.name()),
            escape(f.host.as_deref().unwrap_or("-")),
            f.records,
            f.rejected,
            time_or_dash(f.first, 0),
            time_or_dash(f.last, 0)
        )?;
    }
    let not_read: Vec<&FileSummary> = inv.files.iter().filter(|f| f.format.is_none()).collect();
    if !not_read.is_empty() {
        writeln!(out, "\n## Not read\n")?;
        for f in not_read {
            let label = if f.status == FileStatus::Failed { "failed" } else { "skipped" };
            writeln!(out, "- {label} {}: {}", code(&f.path), escape(f.reason.as_deref().unwrap_or("")))?;
        }
    }
    Ok(())
}

/// Writes the analysis as a Markdown document.
pub fn write(out: &mut dyn Write, report: &Report, offset: i32, zone: &str) -> anyhow::Result<()> {
    let inv = &report.inventory;
    let read = inv.files.iter().filter(|f| f.format.is_some()).count();
    let records: u64 = inv.files.iter().map(|f| f.records).sum();
    let rejected: u64 = inv.files.iter().map(|f| f.rejected).sum();
    writeln!(out, "# faultline analysis\n")?;
    writeln!(
        out,
        "{read} files read, {records} records, {rejected} rejected. Times are in {}.\n",
        code(zone)
    )?;

    write_totals(out, inv, offset)?;

    writeln!(out, "## Findings\n")?;
    if report.findings.is_empty() {
        writeln!(out, "No findings: nothing in the evidence matches a known failure mode.")?;
        return Ok(());
    }
    writeln!(out, "| # | Finding | Severity | Confidence | From | To | Where |")?;
    writeln!(out, "|---:|---|---|---:|---|---|---|")?;
    for (i, f) in report.findings.iter().enumerate() {
        writeln!(
            out,
            "| {} | {} {} | {} | {:.2} | {} | {} | {} |",
            i + 1,
            code(f.id.id()),
            escape(f.title),
            f.severity.name(),
            f.confidence,
            time(f.start, offset),
            time(f.end, offset),
            escape(&scope(f))
        )?;
    }

    for (i, f) in report.findings.iter().enumerate() {
        writeln!(out, "\n### {}. {} {}\n", i + 1, code(f.id.id()), escape(f.title))?;
        writeln!(out, "- **Severity:** {} (confidence {:.2})", f.severity.name(), f.confidence)?;
        writeln!(out, "- **When:** {} to {}", time(f.start, offset), time(f.end, offset))?;
        let where_ = scope(f);
        if !where_.is_empty() {
            writeln!(out, "- **Where:** {}", escape(&where_))?;
        }
        if let Some(list) = related(report, f) {
            writeln!(out, "- **Same incident on other hosts:** {}", escape(&list))?;
        }
        writeln!(out, "\n{}\n", escape(&f.explanation))?;

        if !f.timeline.is_empty() {
            writeln!(out, "#### Timeline\n")?;
            writeln!(out, "| Time | Role | What |")?;
            writeln!(out, "|---|---|---|")?;
            for step in f.timeline.iter().take(TIMELINE_STEPS) {
                let role = match step.role {
                    Role::Cause => "**cause**",
                    Role::Effect => "effect",
                    Role::Context => "context",
                };
                writeln!(out, "| {} | {role} | {} |", time(step.time, offset), escape(&step.summary))?;
            }
            if f.timeline.len() > TIMELINE_STEPS {
                writeln!(out, "\n{} more steps in `--format json`.", f.timeline.len() - TIMELINE_STEPS)?;
            }
            writeln!(out)?;
        }

        writeln!(out, "#### Evidence\n")?;
        for e in f.evidence.iter().take(EVIDENCE_ITEMS) {
            writeln!(out, "- {}: {}", code(&place(e)), escape(&e.summary))?;
        }
        if f.evidence.len() > EVIDENCE_ITEMS {
            writeln!(out, "- … {} more in `--format json`", f.evidence.len() - EVIDENCE_ITEMS)?;
        }

        if !f.remediation.is_empty() {
            writeln!(out, "\n#### What to do\n")?;
            for r in &f.remediation {
                writeln!(out, "- {}", escape(r))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_text_cannot_inject_markup() {
        assert_eq!(escape("[x](http://e) <img src=a>"), "\\[x\\](http://e) &lt;img src=a\\>");
        assert_eq!(escape("- a-b *c*"), "\\- a-b \\*c\\*");
        assert_eq!(escape("a|b\nc"), "a\\|b c");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }
}
