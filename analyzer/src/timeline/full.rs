//! The full super-timeline: every record of every source, merged in time
//! order, with memory that stays flat whatever the input size.
//!
//! An external merge sort. While the files are read (in parallel), each
//! chunk's rows are kept until they fill a budget, then sorted and written
//! to a run file in a temporary folder; what is left at the end stays in
//! memory as one more run. Reading the timeline merges the runs. Rows are
//! ordered by a total order (time, source, line, record, text, ...), so the
//! output is the same whatever the thread count and however the rows were
//! split into runs.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use faultline_parser::value::decode_text;
use faultline_parser::w3c::TimeDoubts;
use faultline_parser::{
    HttpError, Outcome, ReadConfig, RecordId, RecordSink, Request, Timestamp, Trace, WinEvent,
};
use serde::{Deserialize, Serialize};

use super::Entry;
use crate::describe::{describe_http_error, describe_logged_request, describe_trace, headline};
use crate::finding::Evidence;
use crate::pass::{self, Consumer, Progress, Reading};
use crate::resolve::{Host, Resolver, SourceFile, SourceKind};
use crate::scope::Scope;

/// How much is kept in memory, and how many files are open at once.
#[derive(Clone, Copy, Debug)]
struct Budget {
    /// Rows a chunk keeps before it writes a run (bytes, roughly).
    chunk: usize,
    /// Rows left over from finished chunks, kept together before they are
    /// written as a run.
    pool: usize,
    /// Runs merged at once; more are first merged in groups.
    fan_in: usize,
}

/// About 16 MiB per busy thread plus 64 MiB of leftovers, whatever the input.
const BUDGET: Budget = Budget { chunk: 16 << 20, pool: 64 << 20, fan_in: 128 };

/// Why the timeline could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    /// A run file could not be written or read back.
    #[error("temporary timeline file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A run file did not hold what was written to it.
    #[error("temporary timeline file {path} is damaged: {source}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

/// What a row is, for `timestamp_desc` and the source kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum RowKind {
    Request,
    HttpError,
    Trace,
    Event,
}

/// One timeline row as sorted and spilled. Field order is the sort order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Row {
    time: i64,
    source: u32,
    line: Option<u64>,
    /// The record id's [`RecordId::key`].
    record: Option<u64>,
    summary: String,
    kind: RowKind,
    host: String,
    site: Option<u32>,
}

impl Row {
    fn weight(&self) -> usize {
        std::mem::size_of::<Row>() + self.summary.len() + self.host.len()
    }
}

/// The run files, and the rows of finished chunks not yet written.
#[derive(Debug)]
struct Spill {
    budget: Budget,
    dir: tempfile::TempDir,
    next: AtomicUsize,
    runs: Mutex<Vec<PathBuf>>,
    pool: Mutex<(Vec<Row>, usize)>,
}

impl Spill {
    fn write_run(&self, mut rows: Vec<Row>) -> Result<(), TimelineError> {
        rows.sort_unstable();
        let path =
            self.dir.path().join(format!("run-{:06}.jsonl", self.next.fetch_add(1, Ordering::Relaxed)));
        write_rows(&path, rows.into_iter().map(Ok))?;
        self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(path);
        Ok(())
    }

    /// Adds a finished chunk's rows to the pool, writing the pool out as a
    /// run when it is over budget.
    fn pool(&self, rows: Vec<Row>, weight: usize) -> Result<(), TimelineError> {
        let full = {
            let mut pool = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            pool.0.extend(rows);
            pool.1 += weight;
            if pool.1 > self.budget.pool {
                pool.1 = 0;
                Some(std::mem::take(&mut pool.0))
            } else {
                None
            }
        };
        match full {
            Some(rows) => self.write_run(rows),
            None => Ok(()),
        }
    }
}

fn write_rows(
    path: &Path,
    rows: impl Iterator<Item = Result<Row, TimelineError>>,
) -> Result<(), TimelineError> {
    let io = |source| TimelineError::Io { path: path.to_path_buf(), source };
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    for row in rows {
        serde_json::to_writer(&mut out, &row?).map_err(|e| io(e.into()))?;
        out.write_all(b"\n").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Collects one chunk's rows.
struct TimelineSink<'a> {
    resolve: Resolver<'a>,
    spill: &'a Spill,
    rows: Vec<Row>,
    weight: usize,
    /// Rows timed by the server's local clock, or by a date alone.
    time_doubts: TimeDoubts,
}

impl TimelineSink<'_> {
    fn push(&mut self, row: Row) -> Result<(), TimelineError> {
        self.weight += row.weight();
        self.rows.push(row);
        if self.weight > self.spill.budget.chunk {
            self.weight = 0;
            self.spill.write_run(std::mem::take(&mut self.rows))?;
        }
        Ok(())
    }

    fn row(&self, kind: RowKind, time: Timestamp, host: &Host, site: Option<u32>, summary: String) -> Row {
        let (source, host) = (self.resolve.file().index, host.name.to_string());
        Row { time: time.0, source, line: None, record: None, summary, kind, host, site }
    }
}

impl RecordSink for TimelineSink<'_> {
    type Error = TimelineError;
    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        let host = self.resolve.host(r.computer_name);
        host.note_time_basis(r.time_basis, &mut self.time_doubts);
        let Some(time) = self.resolve.time(&host, r.time) else { return Ok(()) };
        let site = self.resolve.site_named(r.site_name);
        let summary = match self.resolve.file().ftp_command(r) {
            Some(command) => crate::describe::describe_ftp_command(r, command),
            None => {
                let stem = decode_text(r.uri_stem.unwrap_or(b"-"));
                let client = r.client_ip.map_or_else(|| "-".to_string(), |a| a.to_string());
                describe_logged_request(
                    &stem,
                    (r.status, r.substatus, r.win32_status),
                    r.time_taken_ms,
                    &client,
                )
            }
        };
        let row = Row { line: Some(r.origin.line), ..self.row(RowKind::Request, time, &host, site, summary) };
        self.push(row)
    }

    fn http_error(&mut self, r: &HttpError<'_>) -> Result<(), Self::Error> {
        let host = self.resolve.host(None);
        let Some(time) = self.resolve.time(&host, r.time) else { return Ok(()) };
        let uri = r.uri.map(decode_text);
        let queue = r.queue_name.map(decode_text);
        let summary = describe_http_error(r.status, &r.reason.to_string(), uri.as_deref(), queue.as_deref());
        let site = self.resolve.site(r.site_id);
        let row =
            Row { line: Some(r.origin.line), ..self.row(RowKind::HttpError, time, &host, site, summary) };
        self.push(row)
    }

    fn trace(&mut self, tr: &Trace) -> Result<(), Self::Error> {
        let host = self.resolve.host_of(tr.computer.as_deref());
        let Some(time) = self.resolve.time(&host, tr.time().unwrap_or_default()) else { return Ok(()) };
        let site = self.resolve.site(tr.site_id);
        let row = self.row(RowKind::Trace, time, &host, site, describe_trace(tr));
        self.push(row)
    }

    fn event(&mut self, e: WinEvent) -> Result<(), Self::Error> {
        let host = self.resolve.host_of(e.computer.as_deref());
        let Some(time) = self.resolve.time(&host, e.time) else { return Ok(()) };
        // An exported event's line as well as its record id: an App Service
        // eventlog.xml holds many events per line, and some ids only there.
        let row = Row {
            record: e.record_id.map(RecordId::key),
            line: e.origin.line(),
            ..self.row(RowKind::Event, time, &host, None, headline(&e))
        };
        self.push(row)
    }

    /// A finished chunk's rows join the shared pool (written out as a run
    /// when it is full), so a large file's many chunks never all hold
    /// their rows at once.
    fn chunk_done(&mut self) -> Result<(), Self::Error> {
        let (rows, weight) = (std::mem::take(&mut self.rows), std::mem::take(&mut self.weight));
        self.spill.pool(rows, weight)
    }
}

/// The timeline of every record, sorted and ready to be read in order.
#[derive(Debug)]
pub struct FullTimeline {
    spill: Spill,
    memory: Vec<Row>,
    sources: Vec<(Arc<str>, SourceKind)>,
    /// How the read went.
    pub reading: Reading,
    /// The files whose times are the server's local time, read as UTC (the
    /// IIS native format, local-time fields), in path order.
    pub local_time_files: Vec<Arc<str>>,
    /// The files whose rows have a date and no time of day, in path order.
    pub date_only_files: Vec<Arc<str>>,
}

/// Reads `paths` and sorts every record into a timeline.
pub fn full(
    paths: &[PathBuf],
    read: &ReadConfig,
    scope: &Scope,
    progress: &dyn Progress,
) -> Result<FullTimeline, TimelineError> {
    full_within(paths, read, scope, progress, BUDGET)
}

/// The full timeline's consumer of the pass: every chunk's rows go to the
/// spill; each file leaves its path and kind.
struct Sort<'a> {
    scope: &'a Scope,
    spill: Spill,
    /// Files with rows timed by a local clock or a date alone.
    doubted: Mutex<Vec<(Arc<str>, TimeDoubts)>>,
}

impl Consumer for Sort<'_> {
    type Error = TimelineError;
    type Sink<'c>
        = TimelineSink<'c>
    where
        Self: 'c;
    type Part = Vec<(Arc<str>, SourceKind)>;
    type Output = Self::Part;

    fn sink(&self, file: SourceFile) -> TimelineSink<'_> {
        TimelineSink {
            resolve: Resolver::new(file, self.scope),
            spill: &self.spill,
            rows: Vec::new(),
            weight: 0,
            time_doubts: TimeDoubts::default(),
        }
    }

    fn file_read<'c>(
        &'c self,
        part: &mut Self::Part,
        file: SourceFile,
        _entry: &faultline_parser::Entry,
        read: Outcome<TimelineSink<'c>>,
    ) -> Result<(), TimelineError> {
        if let Outcome::Parsed { sinks, .. } = read {
            let mut doubts = TimeDoubts::default();
            sinks.iter().for_each(|s| doubts.merge(s.time_doubts));
            if !doubts.is_empty() {
                self.doubted
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((Arc::clone(&file.path), doubts));
            }
            for sink in sinks {
                self.spill.pool(sink.rows, sink.weight)?;
            }
        }
        part.push((file.path, file.kind));
        Ok(())
    }

    fn part_done(&self, _index: usize, part: Self::Part) -> Result<Self::Part, TimelineError> {
        Ok(part)
    }
}

fn full_within(
    paths: &[PathBuf],
    read: &ReadConfig,
    scope: &Scope,
    progress: &dyn Progress,
    budget: Budget,
) -> Result<FullTimeline, TimelineError> {
    let dir = tempfile::Builder::new()
        .prefix("faultline-timeline-")
        .tempdir()
        .map_err(|source| TimelineError::Io { path: std::env::temp_dir(), source })?;
    let spill = Spill {
        budget,
        dir,
        next: AtomicUsize::new(0),
        runs: Mutex::new(Vec::new()),
        pool: Mutex::new((Vec::new(), 0)),
    };
    let sort = Sort { scope, spill, doubted: Mutex::new(Vec::new()) };
    let pass = pass::run(paths, read, &scope.hosts, &sort, progress)?;
    progress.phase("sorting the timeline");
    let Sort { spill, doubted, .. } = sort;
    let mut doubted = doubted.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    doubted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let (local_time_files, date_only_files) = crate::resolve::doubted_files(&doubted);
    let sources = pass.outputs.into_iter().flatten().collect();
    let mut memory =
        std::mem::take(&mut spill.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0);
    memory.sort_unstable();
    Ok(FullTimeline { spill, memory, sources, reading: pass.reading, local_time_files, date_only_files })
}

/// Reads one run file back, row by row.
struct RunReader {
    path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
}

impl RunReader {
    fn open(path: &Path) -> Result<RunReader, TimelineError> {
        let file =
            File::open(path).map_err(|source| TimelineError::Io { path: path.to_path_buf(), source })?;
        Ok(RunReader { path: path.to_path_buf(), lines: BufReader::new(file).lines() })
    }
}

impl Iterator for RunReader {
    type Item = Result<Row, TimelineError>;
    fn next(&mut self) -> Option<Self::Item> {
        let line = match self.lines.next()? {
            Ok(l) => l,
            Err(source) => return Some(Err(TimelineError::Io { path: self.path.clone(), source })),
        };
        Some(
            serde_json::from_str(&line)
                .map_err(|source| TimelineError::Decode { path: self.path.clone(), source }),
        )
    }
}

/// A k-way merge of sorted row streams.
struct Merge {
    streams: Vec<Box<dyn Iterator<Item = Result<Row, TimelineError>> + Send>>,
    heads: BinaryHeap<Reverse<(Row, usize)>>,
    failed: Option<TimelineError>,
}

impl Merge {
    fn new(mut streams: Vec<Box<dyn Iterator<Item = Result<Row, TimelineError>> + Send>>) -> Merge {
        let mut heads = BinaryHeap::with_capacity(streams.len());
        let mut failed = None;
        for (i, s) in streams.iter_mut().enumerate() {
            match s.next() {
                Some(Ok(row)) => heads.push(Reverse((row, i))),
                Some(Err(e)) => failed = failed.or(Some(e)),
                None => {}
            }
        }
        Merge { streams, heads, failed }
    }
}

impl Iterator for Merge {
    type Item = Result<Row, TimelineError>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            self.heads.clear();
            return Some(Err(e));
        }
        let Reverse((row, i)) = self.heads.pop()?;
        match self.streams[i].next() {
            Some(Ok(next)) => self.heads.push(Reverse((next, i))),
            Some(Err(e)) => self.failed = Some(e),
            None => {}
        }
        Some(Ok(row))
    }
}

fn file_stream(
    path: &Path,
) -> Result<Box<dyn Iterator<Item = Result<Row, TimelineError>> + Send>, TimelineError> {
    Ok(Box::new(RunReader::open(path)?))
}

impl FullTimeline {
    /// Every row in time order.
    pub fn entries(self) -> Result<impl Iterator<Item = Result<Entry, TimelineError>>, TimelineError> {
        let FullTimeline { spill, memory, sources, .. } = self;
        let mut runs =
            std::mem::take(&mut *spill.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        runs.sort();
        // Too many runs to open at once: merge them in groups first.
        while runs.len() > spill.budget.fan_in {
            let mut merged = Vec::new();
            for group in runs.chunks(spill.budget.fan_in) {
                let streams = group.iter().map(|p| file_stream(p)).collect::<Result<Vec<_>, _>>()?;
                let path = spill
                    .dir
                    .path()
                    .join(format!("run-{:06}.jsonl", spill.next.fetch_add(1, Ordering::Relaxed)));
                write_rows(&path, Merge::new(streams))?;
                for p in group {
                    let _ = std::fs::remove_file(p);
                }
                merged.push(path);
            }
            runs = merged;
        }
        let mut streams = runs.iter().map(|p| file_stream(p)).collect::<Result<Vec<_>, _>>()?;
        streams.push(Box::new(memory.into_iter().map(Ok)));
        // The folder lives as long as the merge reads from it.
        let dir = spill.dir;
        Ok(Merge::new(streams).map(move |row| {
            let _keep = &dir;
            row.map(|r| entry(r, &sources))
        }))
    }
}

/// What a request-detail record's time means: a FREB trace's request
/// start, an error page's file time (the page holds none).
pub(crate) fn trace_time_meaning(kind: SourceKind) -> &'static str {
    if kind == SourceKind::Errorpage { "Error page written" } else { "Request traced" }
}

fn entry(r: Row, sources: &[(Arc<str>, SourceKind)]) -> Entry {
    let (path, file_kind) = sources
        .get(r.source as usize)
        .map_or_else(|| (Arc::from("-"), SourceKind::W3c), |(p, k)| (Arc::clone(p), *k));
    let (time_meaning, source) = match r.kind {
        RowKind::Request => ("Request end", SourceKind::W3c),
        RowKind::HttpError => ("HTTP.sys error", SourceKind::Httperr),
        RowKind::Trace => (trace_time_meaning(file_kind), file_kind),
        RowKind::Event => ("Event created", file_kind),
    };
    Entry {
        host: Arc::from(r.host),
        site: r.site,
        time_meaning,
        evidence: Evidence {
            source,
            path: path.to_string(),
            line: r.line,
            record: r.record.map(RecordId::from_key),
            time: Timestamp(r.time),
            summary: r.summary,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(time: i64, summary: &str) -> Row {
        Row {
            time,
            source: 0,
            line: Some(time as u64),
            record: None,
            summary: summary.into(),
            kind: RowKind::Request,
            host: "WEB01".into(),
            site: Some(1),
        }
    }

    #[test]
    fn runs_merge_into_one_order_and_survive_a_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.jsonl");
        let b = dir.path().join("b.jsonl");
        write_rows(&a, [row(1, "x"), row(4, "x"), row(9, "x")].into_iter().map(Ok)).expect("writes");
        write_rows(&b, [row(2, "y"), row(4, "w"), row(5, "y")].into_iter().map(Ok)).expect("writes");
        let memory: Vec<Row> = vec![row(0, "m"), row(7, "m")];
        let streams = vec![
            file_stream(&a).expect("opens"),
            file_stream(&b).expect("opens"),
            Box::new(memory.into_iter().map(Ok)) as Box<dyn Iterator<Item = _> + Send>,
        ];
        let merged: Vec<(i64, String)> =
            Merge::new(streams).map(|r| r.expect("row")).map(|r| (r.time, r.summary)).collect();
        let times: Vec<i64> = merged.iter().map(|m| m.0).collect();
        assert_eq!(times, [0, 1, 2, 4, 4, 5, 7, 9]);
        // Equal times fall back on the rest of the row: a total order.
        assert_eq!(merged[3].1, "w");
    }

    /// Tiny budgets force many runs and merges in several rounds; the
    /// timeline must not change.
    #[test]
    fn spilling_to_disk_does_not_change_the_timeline() {
        let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/scenarios/worker-crash");
        let read = ReadConfig::default();
        let config = Scope::default();
        let collect = |budget: Budget| -> (Vec<String>, usize) {
            let t =
                full_within(std::slice::from_ref(&scenario), &read, &config, &|_| {}, budget).expect("sorts");
            let runs = t.spill.runs.lock().expect("runs").len();
            let lines = t
                .entries()
                .expect("merges")
                .map(|e| {
                    let e = e.expect("entry");
                    format!(
                        "{} {} {:?} {:?} {}",
                        e.evidence.time.0,
                        e.evidence.path,
                        e.evidence.line,
                        e.evidence.record,
                        e.evidence.summary
                    )
                })
                .collect();
            (lines, runs)
        };
        let (in_memory, no_runs) = collect(BUDGET);
        assert_eq!(no_runs, 0);
        assert!(in_memory.len() > 1000);
        let (spilled, runs) = collect(Budget { chunk: 4 << 10, pool: 8 << 10, fan_in: 3 });
        assert!(runs > 9, "only {runs} runs");
        assert_eq!(spilled, in_memory);
        let times: Vec<i64> = in_memory
            .iter()
            .map(|l| l.split(' ').next().and_then(|t| t.parse().ok()).expect("time"))
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_damaged_run_is_an_error_not_a_silent_stop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.jsonl");
        std::fs::write(&a, "{\"time\":1}\n").expect("writes");
        let mut merged = Merge::new(vec![file_stream(&a).expect("opens")]);
        assert!(matches!(merged.next(), Some(Err(TimelineError::Decode { .. }))));
        assert!(merged.next().is_none());
    }
}
