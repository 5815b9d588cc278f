//! `faultline scan --format markdown`: the inventory as a document.

use std::io::Write;

use faultline_analyzer::{FileStatus, FileSummary, Inventory};

use crate::config::Zone;
use crate::markdown::{code, escape, write_totals};

/// Writes the inventory as a Markdown document: totals, one row per file,
/// and what was not read and why. Times are UTC, as in the other outputs of
/// `scan`.
pub fn write(out: &mut dyn Write, inv: &Inventory) -> anyhow::Result<()> {
    let utc = Zone::utc();
    writeln!(out, "# faultline evidence inventory\n")?;
    write_totals(out, inv, &utc)?;
    writeln!(out, "## Files\n")?;
    writeln!(
        out,
        "| File | Format | Host | Host from | Sites | Records | Rejected | First (UTC) | Last (UTC) |"
    )?;
    writeln!(out, "|---|---|---|---|---|---:|---:|---|---|")?;
    for f in inv.files.iter().filter(|f| f.format.is_some()) {
        let sites = if f.sites.is_empty() { "-".to_string() } else { escape(&f.sites.join(", ")) };
        writeln!(
            out,
            "| {} | {} | {} | {} | {sites} | {} | {} | {} | {} |",
            code(&f.path),
            f.format.map_or("-", |x| x.name()),
            escape(f.host.as_deref().unwrap_or("-")),
            f.host_source.map_or("-", |s| s.name()),
            f.records,
            f.rejected,
            utc.time_or_dash(f.first),
            utc.time_or_dash(f.last)
        )?;
    }
    let not_read: Vec<&FileSummary> = inv.files.iter().filter(|f| f.format.is_none()).collect();
    if !not_read.is_empty() {
        writeln!(out, "\n## Not read\n")?;
        let (named, more) =
            crate::unreadable::named_per_reason(not_read, |f| f.reason.as_deref().unwrap_or_default());
        for f in named {
            let label = if f.status == FileStatus::Failed { "failed" } else { "skipped" };
            writeln!(out, "- {label} {}: {}", code(&f.path), escape(f.reason.as_deref().unwrap_or("")))?;
        }
        for (n, reason) in more {
            writeln!(out, "- ... and {n} more: {} (`--format json` lists each)", escape(&reason))?;
        }
    }
    Ok(())
}
