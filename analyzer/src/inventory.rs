//! The evidence inventory: one summary per input file, totals per format.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;

use faultline_parser::source::{InputError, InputProblem, Layout, site_from_service_name};
use faultline_parser::w3c::TimeDoubts;
use faultline_parser::{
    CountedEvents, Diagnostic, Entry, EventObserver, Format, HttpError, Location, Outcome, ReadConfig,
    RecordSink, Request, Severity, Timestamp, Trace, WinEvent,
};
use serde::Serialize;

use crate::identity::{FolderNamedHost, HostOverrides, HostSource, full_name};
use crate::pass::{self, Consumer, Progress};
use crate::resolve::{SourceFile, host_name};

/// Detailed diagnostics kept per file; the rest are counted.
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 200;

/// Counts what one chunk of a file produced.
#[derive(Debug, Default)]
pub struct Tally {
    records: u64,
    rejected: u64,
    warnings: u64,
    /// Diagnostics saying evidence is gone (see [`Diagnostic::lost`]).
    lost: u64,
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
    /// Windows events per kind; a hash map looked up with borrowed names,
    /// because event logs interleave kinds and every new run of a kind
    /// otherwise cost two allocations and an ordered-map search.
    events: hashbrown::HashMap<EventKind, u64>,
    /// FREB traces per `status.substatus` and per failure reason.
    trace_statuses: BTreeMap<String, u64>,
    trace_reasons: BTreeMap<String, u64>,
    /// Rows timed by the server's local clock, or by a date alone.
    time_doubts: TimeDoubts,
}

/// One kind of Windows event: channel, provider and event id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EventKind {
    channel: String,
    provider: String,
    event_id: u16,
}

/// [`EventKind`] borrowed from an event, to look a kind up without
/// allocating; hashes exactly as the owned key does.
#[derive(Hash)]
struct EventKindRef<'a> {
    channel: &'a str,
    provider: &'a str,
    event_id: u16,
}

impl EventKindRef<'_> {
    fn to_owned(&self) -> EventKind {
        EventKind {
            channel: self.channel.to_string(),
            provider: self.provider.to_string(),
            event_id: self.event_id,
        }
    }
}

impl hashbrown::Equivalent<EventKind> for EventKindRef<'_> {
    fn equivalent(&self, key: &EventKind) -> bool {
        self.event_id == key.event_id && self.channel == key.channel && self.provider == key.provider
    }
}

fn count_run(
    run: &mut Option<(Vec<u8>, u64)>,
    value: Option<&[u8]>,
    records: u64,
    flush: &mut impl FnMut(Vec<u8>, u64),
) {
    let Some(v) = value else { return };
    match run {
        Some((cur, n)) if cur.as_slice() == v => *n += records,
        _ => {
            if let Some((cur, n)) = run.take() {
                flush(cur, n);
            }
            *run = Some((v.to_vec(), records));
        }
    }
}

impl Tally {
    fn saw_time(&mut self, t: Timestamp) {
        self.saw_span(1, Some((t, t)));
    }

    fn saw_span(&mut self, records: u64, span: Option<(Timestamp, Timestamp)>) {
        self.records += records;
        if let Some((first, last)) = span {
            self.first = Some(self.first.map_or(first, |f| f.min(first)));
            self.last = Some(self.last.map_or(last, |l| l.max(last)));
        }
    }

    fn saw_events(&mut self, k: CountedEvents<'_>) {
        self.saw_span(k.records, k.span);
        let kind =
            EventKindRef { channel: k.channel.unwrap_or("-"), provider: k.provider, event_id: k.event_id };
        match self.events.get_mut(&kind) {
            Some(n) => *n += k.records,
            None => {
                self.events.insert(kind.to_owned(), k.records);
            }
        }
        self.saw_computers(k.computer.map(str::as_bytes), k.records);
    }

    fn saw_computers(&mut self, name: Option<&[u8]>, records: u64) {
        let mut computers = std::mem::take(&mut self.computers);
        count_run(&mut self.computer_run, name, records, &mut |v, n| *computers.entry(v).or_default() += n);
        self.computers = computers;
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
        self.time_doubts.merge(other.time_doubts);
        self.rejected += other.rejected;
        self.warnings += other.warnings;
        self.lost += other.lost;
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
        for (k, v) in other.events {
            *self.events.entry(k).or_default() += v;
        }
        for (k, v) in other.trace_statuses {
            *self.trace_statuses.entry(k).or_default() += v;
        }
        for (k, v) in other.trace_reasons {
            *self.trace_reasons.entry(k).or_default() += v;
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

/// The inventory counts an event the analysis keeps without taking it.
impl EventObserver for Tally {
    fn observe_event(&mut self, e: &WinEvent) {
        self.saw_events(e.as_counted());
    }
}

impl RecordSink for Tally {
    type Error = std::convert::Infallible;
    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        self.saw_time(r.time);
        self.time_doubts.note(r.time_basis);
        self.saw_computers(r.computer_name, 1);
        let mut sites = std::mem::take(&mut self.sites);
        count_run(&mut self.site_run, r.site_name, 1, &mut |v, n| {
            *sites.entry(site_label(&v)).or_default() += n
        });
        self.sites = sites;
        Ok(())
    }

    fn http_error(&mut self, r: &HttpError<'_>) -> Result<(), Self::Error> {
        self.saw_time(r.time);
        if let Some(id) = r.site_id {
            let mut sites = std::mem::take(&mut self.sites);
            let id = id.to_string();
            count_run(&mut self.site_run, Some(id.as_bytes()), 1, &mut |v, n| {
                *sites.entry(String::from_utf8_lossy(&v).into_owned()).or_default() += n
            });
            self.sites = sites;
        }
        Ok(())
    }

    fn event(&mut self, e: WinEvent) -> Result<(), Self::Error> {
        self.observe_event(&e);
        Ok(())
    }

    fn counted_events(&mut self, k: CountedEvents<'_>) -> Result<(), Self::Error> {
        self.saw_events(k);
        Ok(())
    }

    fn trace(&mut self, t: &Trace) -> Result<(), Self::Error> {
        match t.time() {
            Some(time) => self.saw_time(time),
            None => self.records += 1,
        }
        let status = match (t.status, t.substatus) {
            (Some(s), Some(sub)) => format!("{s}.{sub}"),
            (Some(s), None) => s.to_string(),
            _ => "-".into(),
        };
        *self.trace_statuses.entry(status).or_default() += 1;
        *self.trace_reasons.entry(t.failure_reason.clone().unwrap_or_else(|| "-".into())).or_default() += 1;
        self.saw_computers(t.computer.as_deref().map(str::as_bytes), 1);
        if let Some(site) = t.site_id {
            *self.sites.entry(site.to_string()).or_default() += 1;
        }
        Ok(())
    }

    /// The inventory counts events; it never needs their data.
    fn needs_event_data(&self) -> bool {
        false
    }

    fn diagnostic(&mut self, d: Diagnostic) {
        match d.severity {
            Severity::Error if d.is_rejection() => self.rejected += 1,
            Severity::Warning => self.warnings += 1,
            _ => {}
        }
        self.lost += u64::from(d.lost);
        self.keep(d);
    }
}

/// What became of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Read and parsed.
    Parsed,
    /// Not IIS evidence.
    Skipped,
    /// Could not be read (missing, unreadable, refused archive member).
    Failed,
}

/// Whether a count is zero (a field left out of the JSON then).
fn is_zero(n: &u64) -> bool {
    *n == 0
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
    /// Evidence is gone here (see [`Diagnostic::lost`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lost: bool,
}

impl From<Diagnostic> for ReportedDiagnostic {
    fn from(d: Diagnostic) -> Self {
        let (line, record, offset) = match d.location {
            Location::File => (None, None, None),
            Location::Line { line, offset } => (Some(line), None, Some(offset)),
            Location::Record(r) => (None, Some(r), None),
            Location::Offset(o) => (None, None, Some(o)),
        };
        ReportedDiagnostic { line, record, offset, severity: d.severity, message: d.message, lost: d.lost }
    }
}

/// How many events of one kind a file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventCount {
    /// `Channel` (`-` when the source does not say).
    pub channel: String,
    /// Provider name as written.
    pub provider: String,
    /// Event id.
    pub event_id: u16,
    /// Number of events.
    pub count: u64,
}

/// FREB traces by final status and by the rule condition that fired.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TraceCounts {
    /// Per `status.substatus`.
    pub by_status: BTreeMap<String, u64>,
    /// Per `failureReason`.
    pub by_failure_reason: BTreeMap<String, u64>,
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
    /// Host: from the file's own records (`s-computername`, an event's
    /// `Computer`) when they name one, else as the collection's identity
    /// gives it (see `host_source`).
    pub host: Option<String>,
    /// Where the host comes from: `override`, `metadata`, `record`,
    /// `sibling` or `folder`.
    pub host_source: Option<HostSource>,
    /// The host's fully qualified name, when the evidence gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_fqdn: Option<String>,
    /// Other hosts the file's own records name (a machine renamed while it
    /// logged, a log of forwarded events), most records first: the
    /// analysis files each record under the host it names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_hosts: Vec<HostRecords>,
    /// How the file's collection was made (`server-folders`, `drive-copy`,
    /// `velociraptor`, `app-service`, `loose`).
    pub layout: Layout,
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
    /// Stretches of the file whose evidence is gone (a copy cut short, a
    /// wiped or unreadable chunk, zeroed rows): what was read of it is not
    /// all it held.
    #[serde(skip_serializing_if = "is_zero")]
    pub lost: u64,
    /// Earliest record time.
    pub first: Option<Timestamp>,
    /// Latest record time.
    pub last: Option<Timestamp>,
    /// Diagnostics, in source order, at most [`MAX_DIAGNOSTICS_PER_FILE`].
    pub diagnostics: Vec<ReportedDiagnostic>,
    /// Diagnostics beyond the cap (counted, not listed).
    pub diagnostics_omitted: u64,
    /// Event logs: events per (channel, provider, event id).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventCount>,
    /// FREB: traces per status and failure reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces: Option<TraceCounts>,
    /// Its times are the server's local time, read as UTC (the IIS native
    /// format): off by the server's UTC offset.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub local_time: bool,
    /// Its rows have a date and no time of day (the log's fields leave out
    /// `time`): each is placed at midnight UTC of its date.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub date_only: bool,
}

impl FileSummary {
    /// A row for a file with nothing read yet: host as its identity gives
    /// it, site from its folders.
    fn empty(file: &SourceFile, bytes: u64) -> Self {
        let identity = file.host();
        FileSummary {
            path: file.path.to_string(),
            format: None,
            status: FileStatus::Parsed,
            reason: None,
            host: identity.host.as_ref().map(|h| h.name.clone()),
            host_source: identity.source,
            host_fqdn: identity.host.as_ref().and_then(|h| h.fqdn.clone()),
            other_hosts: Vec::new(),
            layout: identity.layout,
            sites: file.folder_site().map(|s| s.to_string()).into_iter().collect(),
            bytes,
            records: 0,
            rejected: 0,
            warnings: 0,
            lost: 0,
            first: None,
            last: None,
            diagnostics: Vec::new(),
            diagnostics_omitted: 0,
            events: Vec::new(),
            traces: None,
            local_time: false,
            date_only: false,
        }
    }
}

/// A host a file's records name, and how many of them do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRecords {
    /// As hosts are named: the first label, upper case.
    pub host: String,
    /// Records naming it.
    pub records: u64,
}

/// The hosts `computers` name other than `own`, most records first, then by
/// name; names of one host (`web02`, `WEB02.contoso.local`) counted as one.
fn other_hosts(computers: &BTreeMap<Vec<u8>, u64>, own: Option<&str>) -> Vec<HostRecords> {
    let mut hosts: BTreeMap<String, u64> = BTreeMap::new();
    for (name, n) in computers {
        let host = host_name(&String::from_utf8_lossy(name));
        if !host.is_empty() && Some(host.as_str()) != own {
            *hosts.entry(host).or_default() += n;
        }
    }
    let mut out: Vec<HostRecords> =
        hosts.into_iter().map(|(host, records)| HostRecords { host, records }).collect();
    out.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.host.cmp(&b.host)));
    out
}

/// Builds the summary of one entry from what reading it produced.
pub fn summarize(file: &SourceFile, entry: &Entry, outcome: Outcome<Tally>) -> FileSummary {
    let mut summary = FileSummary::empty(file, entry.size);
    match outcome {
        Outcome::Parsed { format, sinks, bytes } => {
            summary.format = Some(format);
            summary.bytes = bytes;
            let mut total = Tally::default();
            for s in sinks {
                total.merge(s);
            }
            total.flush_runs();
            let own = total.computers.iter().max_by_key(|(name, n)| (**n, std::cmp::Reverse(*name)));
            if let Some((name, _)) = own.filter(|_| file.host().records_name_host) {
                let name = String::from_utf8_lossy(name);
                let host = host_name(&name);
                if summary.host.as_deref() != Some(host.as_str()) {
                    summary.host_fqdn = None;
                }
                if let Some(fqdn) = full_name(&name) {
                    summary.host_fqdn = Some(fqdn);
                }
                summary.host = Some(host);
                summary.host_source = Some(HostSource::Record);
            }
            if file.host().records_name_host {
                summary.other_hosts = other_hosts(&total.computers, summary.host.as_deref());
            }
            if !total.sites.is_empty() {
                summary.sites = total.sites.keys().cloned().collect();
                summary.sites.sort_by(|a, b| natural_key(a).cmp(&natural_key(b)));
            }
            summary.records = total.records;
            summary.rejected = total.rejected;
            summary.warnings = total.warnings;
            summary.lost = total.lost;
            summary.first = total.first;
            summary.last = total.last;
            summary.local_time = total.time_doubts.local_time;
            summary.date_only = total.time_doubts.date_only;
            summary.diagnostics = total.diagnostics.into_iter().map(Into::into).collect();
            summary.diagnostics_omitted = total.omitted;
            let mut events: Vec<EventCount> = total
                .events
                .into_iter()
                .map(|(EventKind { channel, provider, event_id }, count)| EventCount {
                    channel,
                    provider,
                    event_id,
                    count,
                })
                .collect();
            events.sort_unstable_by(|a, b| {
                (&a.channel, &a.provider, a.event_id).cmp(&(&b.channel, &b.provider, b.event_id))
            });
            summary.events = events;
            if !total.trace_statuses.is_empty() {
                summary.traces = Some(TraceCounts {
                    by_status: total.trace_statuses,
                    by_failure_reason: total.trace_reasons,
                });
            }
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

/// The inventory's consumer of the pass: a row per file, from tallies alone
/// (event logs are then read without extracting event data).
struct Scan;

impl Consumer for Scan {
    type Error = Infallible;
    type Sink<'c> = Tally;
    type Part = Vec<FileSummary>;
    type Output = Self::Part;

    fn sink(&self, _file: SourceFile) -> Tally {
        Tally::default()
    }

    fn file_read(
        &self,
        part: &mut Self::Part,
        file: SourceFile,
        entry: &Entry,
        read: Outcome<Tally>,
    ) -> Result<(), Infallible> {
        part.push(summarize(&file, entry, read));
        Ok(())
    }

    fn part_done(&self, _index: usize, part: Self::Part) -> Result<Self::Part, Infallible> {
        Ok(part)
    }
}

/// Reads every input and builds the inventory behind `faultline scan`.
pub fn scan(
    paths: &[PathBuf],
    read: &ReadConfig,
    hosts: &HostOverrides,
    progress: &dyn Progress,
) -> Inventory {
    let Ok(pass) = pass::run(paths, read, hosts, &Scan, progress);
    let mut files: Vec<FileSummary> = pass.outputs.into_iter().flatten().collect();
    files.extend(pass.problems.iter().map(summarize_problem));
    Inventory { files }
}

/// A discovery problem as an inventory row.
pub fn summarize_problem(problem: &InputProblem) -> FileSummary {
    let mut summary = FileSummary::empty(&SourceFile::at(&problem.path), 0);
    // An archive read whole is no evidence of its own (its members are),
    // nor is a file found again.
    summary.status = if problem.error.is_failure() { FileStatus::Failed } else { FileStatus::Skipped };
    summary.reason = Some(problem.error.to_string());
    // A path that does not exist belongs to no host: its folder names
    // (`no/such/dir` gave a host SUCH) say nothing about a server.
    if matches!(problem.error, InputError::NotFound) {
        (summary.host, summary.host_source, summary.host_fqdn) = (None, None, None);
    }
    summary
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
        self.files.iter().any(|f| f.status == FileStatus::Parsed)
    }

    /// The files whose times are the server's local time, read as UTC.
    pub fn local_time_files(&self) -> Vec<&FileSummary> {
        self.files.iter().filter(|f| f.local_time).collect()
    }

    /// Files whose rows have a date and no time of day.
    pub fn date_only_files(&self) -> Vec<&FileSummary> {
        self.files.iter().filter(|f| f.date_only).collect()
    }

    /// The hosts known only by the name of the folder their files lie in:
    /// no record, collection metadata or analyst names the server (a
    /// folder may be named after a case, a ticket or a sample), sorted.
    pub fn folder_named_hosts(&self) -> Vec<FolderNamedHost> {
        let mut hosts: Vec<FolderNamedHost> = self
            .files
            .iter()
            .filter(|f| f.status == FileStatus::Parsed && f.host_source == Some(HostSource::Folder))
            .filter_map(|f| {
                let name = f.host.clone()?;
                Some(FolderNamedHost { name, app_service: f.layout == Layout::AppService })
            })
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_hosts_are_counted_by_host_name_most_records_first() {
        let computers: BTreeMap<Vec<u8>, u64> = [
            (b"web01.contoso.local".to_vec(), 50),
            (b"WEB02".to_vec(), 3),
            (b"web02.contoso.local".to_vec(), 4),
            (b"WEB03".to_vec(), 7),
            (b"".to_vec(), 9),
        ]
        .into_iter()
        .collect();
        let others: Vec<_> =
            other_hosts(&computers, Some("WEB01")).into_iter().map(|h| (h.host, h.records)).collect();
        assert_eq!(others, [("WEB02".to_string(), 7), ("WEB03".to_string(), 7)]);
        assert_eq!(other_hosts(&computers, None).len(), 3);
    }
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
            let Ok(sinks) = parse_text(
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
