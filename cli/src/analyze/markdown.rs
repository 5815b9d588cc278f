//! `faultline analyze` as Markdown, to paste into a ticket, a chat or a
//! post-incident review: a summary table of the findings, then each finding
//! with its timeline, evidence and remediation.
//!
//! Every piece of text that comes from the evidence is escaped, so a crafted
//! URL or event message cannot inject links, images or HTML into the page
//! that renders the report.

use std::io::Write;

use faultline_analyzer::Report;
use faultline_analyzer::finding::Role;

use super::text::{UNTIMED_WHY, finding_time, place, related, scope, untimed};
use crate::config::Zone;
use crate::markdown::{code, escape, write_totals};

/// How many timeline steps and evidence items each finding lists; the JSON
/// output has them all.
const TIMELINE_STEPS: usize = 20;
const EVIDENCE_ITEMS: usize = 12;

/// Writes the analysis as a Markdown document.
pub fn write(out: &mut dyn Write, report: &Report, zone: &Zone) -> anyhow::Result<()> {
    let inv = &report.inventory;
    let read = inv.files.iter().filter(|f| f.format.is_some()).count();
    let records: u64 = inv.files.iter().map(|f| f.records).sum();
    let rejected: u64 = inv.files.iter().map(|f| f.rejected).sum();
    writeln!(out, "# faultline analysis\n")?;
    writeln!(
        out,
        "{read} files read, {records} records, {rejected} rejected. Times are in {}.\n",
        code(zone.name())
    )?;

    write_totals(out, inv, zone)?;
    for note in super::report_notes(report, &|t| zone.time(t)) {
        writeln!(out, "> {}\n", escape(&note))?;
    }

    writeln!(out, "## Findings\n")?;
    if report.findings.is_empty() {
        writeln!(out, "{}", super::no_findings(report))?;
        return security(out, report, zone);
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
            finding_time(f, f.start, zone),
            finding_time(f, f.end, zone),
            escape(&scope(f))
        )?;
    }

    for (i, f) in report.findings.iter().enumerate() {
        writeln!(out, "\n### {}. {} {}\n", i + 1, code(f.id.id()), escape(f.title))?;
        writeln!(out, "- **Severity:** {} (confidence {:.2})", f.severity.name(), f.confidence)?;
        if untimed(f) {
            writeln!(out, "- **When:** time unknown ({UNTIMED_WHY})")?;
        } else {
            writeln!(out, "- **When:** {} to {}", zone.time(f.start), zone.time(f.end))?;
        }
        let where_ = scope(f);
        if !where_.is_empty() {
            writeln!(out, "- **Where:** {}", escape(&where_))?;
        }
        if let Some(list) = related(report, f) {
            writeln!(out, "- **Same incident on other hosts:** {}", escape(&list))?;
        }
        writeln!(out, "\n{}\n", escape(&zone.prose(&f.explanation)))?;

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
                writeln!(
                    out,
                    "| {} | {role} | {} |",
                    finding_time(f, step.time, zone),
                    escape(&step.summary)
                )?;
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
        if let Some(more) = super::more_evidence(f, EVIDENCE_ITEMS, "`--format json`") {
            writeln!(out, "- … {more}")?;
        }

        if !f.remediation.is_empty() {
            writeln!(out, "\n#### What to do\n")?;
            for r in &f.remediation {
                writeln!(out, "- {}", escape(r))?;
            }
        }
    }
    security(out, report, zone)
}

/// The security lens's detections, one row per rule, after the findings.
fn security(out: &mut dyn Write, report: &Report, zone: &Zone) -> anyhow::Result<()> {
    if report.detections.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n## Security lens\n")?;
    writeln!(out, "| Level | Rule | Author | Techniques | Detections | Hosts | First | First evidence |")?;
    writeln!(out, "|---|---|---|---|---:|---|---|---|")?;
    for hits in crate::hunt::by_rule(&report.detections) {
        let first = hits.first();
        let rule = &first.rule.meta;
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} {} |",
            rule.level.name(),
            escape(&rule.title),
            escape(rule.author.as_deref().unwrap_or("-")),
            escape(&rule.techniques.join(", ")),
            hits.list.len(),
            escape(&hits.hosts.join(", ")),
            zone.time(first.time),
            crate::markdown::table_code(&first.evidence.place()),
            escape(&first.evidence.summary)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_text_cannot_inject_markup() {
        assert_eq!(escape("[x](http://e) <img src=a>"), "\\[x\\](http\\://e) &lt;img src=a\\>");
        // Bare addresses GitHub's Markdown would link.
        assert_eq!(
            escape("see https://evil.example or WWW.evil.example"),
            "see https\\://evil.example or WWW\\.evil.example"
        );
        assert_eq!(escape("a.b w.x www"), "a.b w.x www");
        assert_eq!(escape("mail+evil@evil.example mailto:x"), "mail+evil\\@evil.example mailto\\:x");
        assert_eq!(escape("- a-b *c*"), "\\- a-b \\*c\\*");
        assert_eq!(escape("a|b\nc"), "a\\|b c");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }
}
