//! The evidence inventory: one summary per input file, totals per format.

use std::collections::BTreeMap;

use faultline_parser::source::{InputProblem, host_from_path, site_from_path, site_from_service_name};
use faultline_parser::{
    Diagnostic, Entry, Format, HttpError, Location, Outcome, RecordSink, Request, Severity, Timestamp,
};
use serde::Serialize;

/// Detailed diagnostics kept per file; the rest are counted.
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 200;

/// Counts what one chunk of a file produced.
#[derive(Debug, Default)]
pub struct Tally {
    records: u64,
    rejected: u64,
    warnings: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// `s-computername` values and how many rows carry each.
    computers: BTreeMap<Vec<u8>, u64>,
    /// Site ids from `s-sitename` / `s-siteid`.
    sites: BTreeMap<String, u64>,
    diagnostics: Vec<Diagnostic>,
    omitted: u64,
    /// Rows since the last map update, to count repeated values cheaply.
    computer_run: Option<(Vec<u8>, u64)>,
    site_run: Option<(Vec<u8>, u64)>,
}

fn count_run(run: &mut Option<(Vec<u8>, u64)>, value: Option<&[u8]>, flush: &mut impl FnMut(Vec<u8>, u64)) {
    let Some(v) = value else { return };
    match run {
        Some((cur, n)) if cur.as_slice() == v => *n += 1,
        _ => {
            if let Some((cur, n)) = run.take() {
                flush(cur, n);
            }
            *run = Some((v.to_vec(), 1));
        }
    }
}

impl Tally {
    fn saw_time(&mut self, t: Timestamp) {
        self.records += 1;
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
    }

    fn flush_runs(&mut self) {
        if let Some((v, n)) = self.computer_run.take() {
            *self.computers.entry(v).or_default() += n;
        }
        if let Some((v, n)) = self.site_run.take() {
            let site = site_label(&v);
            *self.sites.entry(site).or_default() += n;
        }
    }

    fn merge(&mut self, mut other: Tally) {
        other.flush_runs();
        self.flush_runs();
        self.records += other.records;
        self.rejected += other.rejected;
        self.warnings += other.warnings;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for (k, v) in other.computers {
            *self.computers.entry(k).or_default() += v;
        }
        for (k, v) in other.sites {
            *self.sites.entry(k).or_default() += v;
        }
        for d in other.diagnostics {
            self.keep(d);
        }
        self.omitted += other.omitted;
    }

    fn keep(&mut self, d: Diagnostic) {
        if self.diagnostics.len() < MAX_DIAGNOSTICS_PER_FILE {
            self.diagnostics.push(d);
        } else {
            self.omitted += 1;
        }
    }
}

/// `W3SVC3` → `3`; any other site name is kept as written.
fn site_label(v: &[u8]) -> String {
    match site_from_service_name(v) {
        Some(id) => id.to_string(),
        None => String::from_utf8_lossy(v).into_owned(),
    }
}

impl RecordSink for Tally {
    fn request(&mut self, r: &Request<'_>) {
        self.saw_time(r.time);
        let mut computers = std::mem::take(&mut self.computers);
        count_run(&mut self.computer_run, r.computer_name, &mut |v, n| *computers.entry(v).or_default() += n);
        self.computers = computers;
        let mut sites = std::mem::take(&mut self.sites);
        count_run(&mut self.site_run, r.site_name, &mut |v, n| {
            *sites.entry(site_label(&v)).or_default() += n
        });
        self.sites = sites;
    }

    fn http_error(&mut self, r: &HttpError<'_>) {
        self.saw_time(r.time);
        if let Some(id) = r.site_id {
            let mut sites = std::mem::take(&mut self.sites);
            let id = id.to_string();
            count_run(&mut self.site_run, Some(id.as_bytes()), &mut |v, n| {
                *sites.entry(String::from_utf8_lossy(&v).into_owned()).or_default() += n
            });
            self.sites = sites;
        }
    }

    fn diagnostic(&mut self, d: Diagnostic) {
        match d.severity {
            Severity::Error if d.is_rejection() => self.rejected += 1,
            Severity::Warning => self.warnings += 1,
            _ => {}
        }
        self.keep(d);
    }
}

/// What became of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Read and parsed.
    Parsed,
    /// Recognised; this release does not parse the format yet.
    Recognised,
    /// Not IIS evidence.
    Skipped,
    /// Could not be read (missing, unreadable, refused archive member).
    Failed,
}

/// A diagnostic as reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportedDiagnostic {
    /// 1-based line, for text sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// EVTX record id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// Byte offset in the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// `info`, `warning` or `error`.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

impl From<Diagnostic> for ReportedDiagnostic {
    fn from(d: Diagnostic) -> Self {
        let (line, record, offset) = match d.location {
            Location::File => (None, None, None),
            Location::Line { line, offset } => (Some(line), None, Some(offset)),
            Location::Record(r) => (None, Some(r), None),
            Location::Offset(o) => (None, None, Some(o)),
        };
        ReportedDiagnostic { line, record, offset, severity: d.severity, message: d.message }
    }
}

/// One row of the inventory.
#[derive(Clone, Debug, Serialize)]
pub struct FileSummary {
    /// Display path (`bundle.zip!member` for archive members).
    pub path: String,
    /// Recognised format, if any.
    pub format: Option<Format>,
    /// What became of it.
    pub status: FileStatus,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Host: from the data (`s-computername`) when present, else from the
    /// bundle's folder structure.
    pub host: Option<String>,
    /// Site ids (from `s-sitename`/`s-siteid`, else the `W3SVC<id>` folder).
    pub sites: Vec<String>,
    /// Size in bytes (decompressed for archive members).
    pub bytes: u64,
    /// Records read.
    pub records: u64,
    /// Lines or records that could not be read.
    pub rejected: u64,
    /// Records kept with a warning (repaired rows, torn last line...).
    pub warnings: u64,
    /// Earliest record time.
    pub first: Option<Timestamp>,
    /// Latest record time.
    pub last: Option<Timestamp>,
    /// Diagnostics, in source order, at most [`MAX_DIAGNOSTICS_PER_FILE`].
    pub diagnostics: Vec<ReportedDiagnostic>,
    /// Diagnostics beyond the cap (counted, not listed).
    pub diagnostics_omitted: u64,
}

/// Builds the summary of one entry from what reading it produced.
pub fn summarize(entry: &Entry, outcome: Outcome<Tally>) -> FileSummary {
    let components = entry.path.components();
    let path_host = host_from_path(&components);
    let path_site = site_from_path(&components);
    let mut summary = FileSummary {
        path: entry.path.to_string(),
        format: None,
        status: FileStatus::Parsed,
        reason: None,
        host: path_host.clone(),
        sites: path_site.map(|s| s.to_string()).into_iter().collect(),
        bytes: entry.size,
        records: 0,
        rejected: 0,
        warnings: 0,
        first: None,
        last: None,
        diagnostics: Vec::new(),
        diagnostics_omitted: 0,
    };
    match outcome {
        Outcome::Parsed { format, sinks } => {
            summary.format = Some(format);
            let mut total = Tally::default();
            for s in sinks {
                total.merge(s);
            }
            total.flush_runs();
            if let Some((name, _)) =
                total.computers.iter().max_by_key(|(name, n)| (**n, std::cmp::Reverse(*name)))
            {
                summary.host = Some(String::from_utf8_lossy(name).into_owned());
            }
            if !total.sites.is_empty() {
                summary.sites = total.sites.keys().cloned().collect();
                summary.sites.sort_by(|a, b| natural_key(a).cmp(&natural_key(b)));
            }
            summary.records = total.records;
            summary.rejected = total.rejected;
            summary.warnings = total.warnings;
            summary.first = total.first;
            summary.last = total.last;
            summary.diagnostics = total.diagnostics.into_iter().map(Into::into).collect();
            summary.diagnostics_omitted = total.omitted;
        }
        Outcome::Recognised(format) => {
            summary.format = Some(format);
            summary.status = FileStatus::Recognised;
            summary.reason = Some(format!("{format} is recognised; this release does not parse it yet"));
        }
        Outcome::Skipped(reason) => {
            summary.status = FileStatus::Skipped;
            summary.reason = Some(reason);
        }
        Outcome::Failed(e) => {
            summary.status = FileStatus::Failed;
            summary.reason = Some(e.to_string());
        }
    }
    summary
}

fn natural_key(s: &str) -> (u8, u64, &str) {
    match s.parse::<u64>() {
        Ok(n) => (0, n, s),
        Err(_) => (1, 0, s),
    }
}

/// A discovery problem as an inventory row.
pub fn summarize_problem(problem: &InputProblem) -> FileSummary {
    let components = problem.path.components();
    FileSummary {
        path: problem.path.to_string(),
        format: None,
        status: FileStatus::Failed,
        reason: Some(problem.error.to_string()),
        host: host_from_path(&components),
        sites: Vec::new(),
        bytes: 0,
        records: 0,
        rejected: 0,
        warnings: 0,
        first: None,
        last: None,
        diagnostics: Vec::new(),
        diagnostics_omitted: 0,
    }
}

/// Totals for one format.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FormatTotals {
    /// Files of this format.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
    /// Records read.
    pub records: u64,
    /// Lines or records rejected.
    pub rejected: u64,
    /// Earliest record.
    pub first: Option<Timestamp>,
    /// Latest record.
    pub last: Option<Timestamp>,
}

/// All file summaries and their totals.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Inventory {
    /// One row per file, in discovery order.
    pub files: Vec<FileSummary>,
}

impl Inventory {
    /// Totals per recognised format, in format order.
    pub fn totals(&self) -> BTreeMap<Format, FormatTotals> {
        let mut out: BTreeMap<Format, FormatTotals> = BTreeMap::new();
        for f in &self.files {
            let Some(format) = f.format else { continue };
            let t = out.entry(format).or_default();
            t.files += 1;
            t.bytes += f.bytes;
            t.records += f.records;
            t.rejected += f.rejected;
            t.first = [t.first, f.first].into_iter().flatten().min();
            t.last = [t.last, f.last].into_iter().flatten().max();
        }
        out
    }

    /// Whether any file held evidence faultline recognises.
    pub fn has_evidence(&self) -> bool {
        self.files.iter().any(|f| matches!(f.status, FileStatus::Parsed | FileStatus::Recognised))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_parser::w3c::{Dialect, TextConfig, parse_text};

    #[test]
    fn chunk_tallies_merge_to_the_same_summary_as_one() {
        let mut log = String::from("#Fields: date time s-sitename s-computername sc-status\n");
        for i in 0..200 {
            let comp = if i % 3 == 0 { "WEB02" } else { "WEB01" };
            log.push_str(&format!(
                "2024-01-01 00:{:02}:{:02} W3SVC{} {comp} 200\n",
                i / 60,
                i % 60,
                1 + i % 2
            ));
        }
        log.push_str("garbage\n");
        let run = |chunk| {
            let sinks = parse_text(
                log.as_bytes(),
                Dialect::W3c,
                &TextConfig { chunk_size: chunk },
                &faultline_parser::framing::InMemory,
                &|_| {},
                Tally::default,
            );
            let mut t = Tally::default();
            for s in sinks {
                t.merge(s);
            }
            t.flush_runs();
            (t.records, t.rejected, t.first, t.last, t.computers, t.sites, t.diagnostics)
        };
        let one = run(1 << 20);
        assert_eq!(one.0, 200);
        assert_eq!(one.1, 1);
        assert_eq!(one.4.get(&b"WEB01"[..]), Some(&133));
        assert_eq!(one.5.keys().collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(run(37), one);
    }
}
