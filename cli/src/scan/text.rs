//! Text output for a terminal: aligned tables, most useful facts first.

use std::io::Write;

use faultline_analyzer::identity::HostSource;
use faultline_analyzer::{FileStatus, FileSummary, Inventory};
use faultline_parser::{Format, Timestamp};

use crate::style::{Palette, sanitize};
use crate::unreadable::named_per_reason;

fn time(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".into(), |t| t.to_datetime().format("%Y-%m-%d %H:%M:%S").to_string())
}

pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A table whose columns are sized to their widest cell.
struct Table {
    header: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&'static str, bool)]) -> Self {
        Table {
            header: columns.iter().map(|c| c.0).collect(),
            right: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    fn write(
        &self,
        out: &mut dyn Write,
        palette: &Palette,
        style: impl Fn(usize, usize, &str) -> String,
    ) -> std::io::Result<()> {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.header[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>, raw: &[String]| -> String {
            let mut s = String::new();
            for (c, cell) in cells.iter().enumerate() {
                let pad = widths[c].saturating_sub(raw[c].chars().count());
                let last = c + 1 == cells.len();
                if self.right[c] {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    if !last {
                        s.push_str(&" ".repeat(pad));
                    }
                }
                if !last {
                    s.push_str("  ");
                }
            }
            s
        };
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        writeln!(out, "{}", line(header.iter().map(|h| palette.bold(h)).collect(), &header))?;
        for (r, row) in self.rows.iter().enumerate() {
            let styled = row.iter().enumerate().map(|(c, cell)| style(r, c, cell)).collect();
            writeln!(out, "{}", line(styled, row))?;
        }
        Ok(())
    }
}

fn sites(f: &FileSummary) -> String {
    if f.sites.is_empty() {
        return "-".into();
    }
    let shown: Vec<&str> = f.sites.iter().take(4).map(String::as_str).collect();
    let more = f.sites.len().saturating_sub(4);
    if more > 0 { format!("{} +{more}", shown.join(",")) } else { shown.join(",") }
}

/// The longest directory prefix (ending in `/`) shared by all paths, so that
/// tables show paths relative to it.
fn common_dir<'a>(paths: impl Iterator<Item = &'a str>) -> &'a str {
    let mut prefix: Option<&str> = None;
    for p in paths {
        let dir = p.rfind('/').map_or("", |i| &p[..=i]);
        prefix = Some(match prefix {
            None => dir,
            Some(cur) => {
                let common = cur.bytes().zip(dir.bytes()).take_while(|(a, b)| a == b).count();
                let cut = cur[..common].rfind('/').map_or(0, |i| i + 1);
                &cur[..cut]
            }
        });
    }
    prefix.unwrap_or("")
}

/// `faultline scan` as text.
pub fn write(
    out: &mut dyn Write,
    inv: &Inventory,
    palette: &Palette,
    max_diagnostics: usize,
) -> anyhow::Result<()> {
    let base = common_dir(inv.files.iter().map(|f| f.path.as_str()));
    let rel = |p: &str| sanitize(p.strip_prefix(base).unwrap_or(p));
    let read: Vec<&FileSummary> = inv.files.iter().filter(|f| f.format.is_some()).collect();
    let mut table = Table::new(&[
        ("FILE", false),
        ("FORMAT", false),
        ("HOST", false),
        ("FROM", false),
        ("SITE", false),
        ("RECORDS", true),
        ("REJECTED", true),
        ("FIRST (UTC)", false),
        ("LAST (UTC)", false),
    ]);
    for f in &read {
        table.rows.push(vec![
            rel(&f.path),
            f.format.map_or("-", |x| x.name()).to_string(),
            sanitize(f.host.as_deref().unwrap_or("-")),
            f.host_source.map_or("-", |s| s.name()).to_string(),
            sanitize(&sites(f)),
            count(f.records),
            count(f.rejected),
            time(f.first),
            time(f.last),
        ]);
    }
    let under = if base.is_empty() { String::new() } else { format!(" under {}", sanitize(base)) };
    let files = if read.len() == 1 { "file" } else { "files" };
    writeln!(out, "{}", palette.bold(&format!("Evidence{under} ({} {files} read)", read.len())))?;
    if !read.is_empty() {
        table.write(out, palette, |r, c, cell| {
            if c == 6 && read[r].rejected > 0 { palette.red(cell) } else { cell.to_string() }
        })?;
    }
    write_hosts(out, &read, palette)?;

    let totals = inv.totals();
    writeln!(out)?;
    writeln!(out, "{}", palette.bold("Totals by format"))?;
    let mut t = Table::new(&[
        ("FORMAT", false),
        ("FILES", true),
        ("BYTES", true),
        ("RECORDS", true),
        ("REJECTED", true),
        ("FIRST (UTC)", false),
        ("LAST (UTC)", false),
    ]);
    for (format, tot) in &totals {
        t.rows.push(vec![
            format.name().to_string(),
            count(tot.files),
            count(tot.bytes),
            count(tot.records),
            count(tot.rejected),
            time(tot.first),
            time(tot.last),
        ]);
    }
    t.write(out, palette, |_, _, cell| cell.to_string())?;

    write_event_counts(out, inv, palette)?;
    write_trace_counts(out, inv, palette)?;

    let not_read: Vec<&FileSummary> = inv.files.iter().filter(|f| f.format.is_none()).collect();
    if !not_read.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", palette.bold(&format!("Not read ({})", count(not_read.len() as u64))))?;
        let (named, more) = named_per_reason(not_read, |f| f.reason.as_deref().unwrap_or_default());
        for f in named {
            let label =
                if f.status == FileStatus::Failed { palette.red("failed") } else { palette.dim("skipped") };
            writeln!(out, "  {label} {}: {}", rel(&f.path), sanitize(f.reason.as_deref().unwrap_or("")))?;
        }
        for (n, reason) in more {
            writeln!(
                out,
                "  ... and {} more: {} (`--format json` lists each)",
                count(n as u64),
                sanitize(&reason)
            )?;
        }
    }

    let total_diags: u64 = inv.files.iter().map(|f| f.diagnostics.len() as u64 + f.diagnostics_omitted).sum();
    if total_diags > 0 {
        writeln!(out)?;
        writeln!(out, "{}", palette.bold(&format!("Diagnostics ({})", count(total_diags))))?;
        for f in inv.files.iter().filter(|f| !f.diagnostics.is_empty()) {
            for d in f.diagnostics.iter().take(max_diagnostics) {
                let at = match (d.line, d.record) {
                    (Some(l), _) => format!("{}:{l}", rel(&f.path)),
                    (_, Some(r)) => format!("{} record {r}", rel(&f.path)),
                    _ => rel(&f.path),
                };
                let sev = match d.severity {
                    faultline_parser::Severity::Error => palette.red("error"),
                    faultline_parser::Severity::Warning => palette.yellow("warning"),
                    faultline_parser::Severity::Info => palette.dim("info"),
                };
                writeln!(out, "  {at}: {sev}: {}", sanitize(&d.message))?;
            }
            let hidden = (f.diagnostics.len().saturating_sub(max_diagnostics)) as u64 + f.diagnostics_omitted;
            if hidden > 0 {
                writeln!(
                    out,
                    "  {}",
                    palette.dim(&format!(
                        "{}: {} more (use --format json for the first 200)",
                        rel(&f.path),
                        count(hidden)
                    ))
                )?;
            }
        }
    }
    Ok(())
}

/// One row per host: its full name, the files holding its records, where
/// its name comes from and how its evidence was collected.
fn write_hosts(out: &mut dyn Write, read: &[&FileSummary], palette: &Palette) -> std::io::Result<()> {
    use std::collections::{BTreeMap, BTreeSet};
    #[derive(Default)]
    struct Row<'a> {
        fqdn: BTreeSet<&'a str>,
        files: u64,
        from: BTreeSet<&'static str>,
        layouts: BTreeSet<&'static str>,
    }
    let mut hosts: BTreeMap<&str, Row> = BTreeMap::new();
    for f in read {
        let row = hosts.entry(f.host.as_deref().unwrap_or("-")).or_default();
        row.files += 1;
        row.fqdn.extend(f.host_fqdn.as_deref());
        row.from.extend(f.host_source.map(|s| s.name()));
        row.layouts.insert(f.layout.name());
        // A host only some of a file's records name has its row too.
        for other in &f.other_hosts {
            let row = hosts.entry(other.host.as_str()).or_default();
            row.files += 1;
            row.from.insert(HostSource::Record.name());
            row.layouts.insert(f.layout.name());
        }
    }
    if hosts.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{}", palette.bold(&format!("Hosts ({})", hosts.len())))?;
    let mut t = Table::new(&[
        ("HOST", false),
        ("FULL NAME", false),
        ("FILES", true),
        ("NAMED BY", false),
        ("COLLECTION", false),
    ]);
    let join = |s: &BTreeSet<&str>| {
        if s.is_empty() { "-".to_string() } else { s.iter().copied().collect::<Vec<_>>().join(", ") }
    };
    for (host, row) in &hosts {
        t.rows.push(vec![
            sanitize(host),
            sanitize(&join(&row.fqdn)),
            count(row.files),
            join(&row.from),
            join(&row.layouts),
        ]);
    }
    t.write(out, palette, |_, _, cell| cell.to_string())
}

/// Windows events per provider and id over all event files, most frequent first.
fn write_event_counts(out: &mut dyn Write, inv: &Inventory, palette: &Palette) -> std::io::Result<()> {
    const SHOWN: usize = 25;
    let mut counts: std::collections::BTreeMap<(&str, &str, u16), u64> = std::collections::BTreeMap::new();
    for f in &inv.files {
        for e in &f.events {
            *counts.entry((e.provider.as_str(), e.channel.as_str(), e.event_id)).or_default() += e.count;
        }
    }
    if counts.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    writeln!(out)?;
    writeln!(out, "{}", palette.bold(&format!("Windows events by provider and id ({} kinds)", rows.len())))?;
    let mut t = Table::new(&[("PROVIDER", false), ("CHANNEL", false), ("EVENT ID", true), ("COUNT", true)]);
    for ((provider, channel, id), n) in rows.iter().take(SHOWN) {
        t.rows.push(vec![sanitize(provider), sanitize(channel), id.to_string(), count(*n)]);
    }
    t.write(out, palette, |_, _, cell| cell.to_string())?;
    if rows.len() > SHOWN {
        writeln!(
            out,
            "{}",
            palette
                .dim(&format!("... {} more kinds (--format json lists them per file)", rows.len() - SHOWN))
        )?;
    }
    Ok(())
}

/// FREB traces by final status and by failure reason, over all traces;
/// detailed error pages (read as one request each, like a trace) by status,
/// apart.
fn write_trace_counts(out: &mut dyn Write, inv: &Inventory, palette: &Palette) -> std::io::Result<()> {
    let pages = |f: &&FileSummary| f.format == Some(Format::ErrorPage);
    write_request_counts(out, "FREB traces", inv.files.iter().filter(|f| !pages(f)), true, palette)?;
    write_request_counts(out, "Detailed error pages", inv.files.iter().filter(pages), false, palette)
}

fn write_request_counts<'a>(
    out: &mut dyn Write,
    title: &str,
    files: impl Iterator<Item = &'a FileSummary>,
    reasons: bool,
    palette: &Palette,
) -> std::io::Result<()> {
    let mut by_status: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    let mut by_reason: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for t in files.filter_map(|f| f.traces.as_ref()) {
        for (k, v) in &t.by_status {
            *by_status.entry(k.as_str()).or_default() += v;
        }
        for (k, v) in &t.by_failure_reason {
            *by_reason.entry(k.as_str()).or_default() += v;
        }
    }
    if by_status.is_empty() {
        return Ok(());
    }
    let list = |m: &std::collections::BTreeMap<&str, u64>| {
        let mut v: Vec<_> = m.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        v.iter().map(|(k, n)| format!("{} ×{}", sanitize(k), count(**n))).collect::<Vec<_>>().join(", ")
    };
    writeln!(out)?;
    writeln!(out, "{}", palette.bold(title))?;
    writeln!(out, "  by status:         {}", list(&by_status))?;
    if reasons {
        writeln!(out, "  by failure reason: {}", list(&by_reason))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_dir_stops_at_a_separator() {
        assert_eq!(common_dir(["a/b/c.log", "a/b/d.log"].into_iter()), "a/b/");
        assert_eq!(common_dir(["a/bc/x", "a/bd/y"].into_iter()), "a/");
        assert_eq!(common_dir(["x.log"].into_iter()), "");
        assert_eq!(common_dir(["z.zip!W/a.log", "z.zip!W/b.log"].into_iter()), "z.zip!W/");
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
    }
}
