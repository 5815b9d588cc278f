//! The one read of the evidence. Every command (scan, analyze, both
//! timelines, query, export) finds its files, reads each once in parallel and
//! hands what the readers give to its own [`Consumer`]; only what a consumer
//! keeps differs. Files are read in tasks of one or more consecutive files
//! (a consumer that builds columns groups small files, so that a folder of
//! 100,000 traces is not 100,000 sets of columns), and the tasks' outputs come
//! back in discovery order whatever the thread count.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use faultline_parser::source::InputProblem;
use faultline_parser::{
    CountedEvents, Diagnostic, Entry, HttpError, Outcome, ReadConfig, RecordSink, Request, Trace, WinEvent,
    discover, read_entry,
};
use rayon::prelude::*;

use crate::identity::{FileHost, FolderNamedHost, HostOverrides, identify};
use crate::resolve::SourceFile;

/// What one read of the evidence is for: a sink per chunk, and what is made
/// of each file's sinks.
pub trait Consumer: Sync {
    /// Why the consumer stops the read (`Infallible` when it never does).
    type Error: Send;
    /// Receives one chunk's records; its error stops the read too.
    type Sink<'c>: RecordSink<Error: Into<Self::Error> + Send> + Send
    where
        Self: 'c;
    /// What a task gathers from the files it reads, one after another.
    type Part: Default + Send;
    /// What a task leaves once its files are read.
    type Output: Send;

    /// A sink for one chunk of `file` (whose format is known by then).
    fn sink(&self, file: SourceFile) -> Self::Sink<'_>;

    /// Takes what reading one file gave: its chunks' sinks when it was
    /// parsed, else why it was skipped or failed.
    fn file_read<'c>(
        &'c self,
        part: &mut Self::Part,
        file: SourceFile,
        entry: &Entry,
        read: Outcome<Self::Sink<'c>>,
    ) -> Result<(), Self::Error>;

    /// Ends a task: `index` is its place among the tasks.
    fn part_done(&self, index: usize, part: Self::Part) -> Result<Self::Output, Self::Error>;

    /// How files are grouped into tasks.
    fn batching(&self) -> Batching {
        Batching::SMALL_GROUPS
    }
}

/// How files are grouped into the tasks that read them: consecutive files
/// up to this much input, or this many files, per task; a larger file is a
/// task of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batching {
    /// Input per task, at most (unless one file is larger).
    pub bytes: u64,
    /// Files per task, at most.
    pub files: usize,
}

impl Batching {
    /// Consecutive files up to 64 MiB of input (a larger file is a group of
    /// its own) or 4,096 files: many small files then cost a few sets of
    /// columns rather than one each.
    pub const GROUPED: Batching = Batching { bytes: 64 << 20, files: 4096 };

    /// Consecutive files up to 8 MiB of input or 256 files, what every
    /// reader but the tables' uses: what a task
    /// keeps for its files (the first room of each list and map, about 8 KB)
    /// is paid once per group rather than once per file (300,000 small
    /// archive members took 2.4 GB), and the groups stay small enough to
    /// share out among the cores.
    pub const SMALL_GROUPS: Batching = Batching { bytes: 8 << 20, files: 256 };
}

/// Told how the read goes: the input's size once the files are found, then
/// each stretch of bytes as it is done. A plain `Fn(u64)` hears the stretches.
pub trait Progress: Sync {
    /// The total input, in bytes (archive members by their declared size).
    fn total(&self, _bytes: u64) {}
    /// This many more bytes are read.
    fn advance(&self, bytes: u64);
    /// Reading is done; the command now does `name` (analysing, sorting,
    /// writing).
    fn phase(&self, _name: &str) {}
}

impl<F: Fn(u64) + Sync> Progress for F {
    fn advance(&self, bytes: u64) {
        self(bytes);
    }
}

/// What the read gave.
#[derive(Debug)]
pub struct Pass<O> {
    /// One output per task, in discovery order.
    pub outputs: Vec<O>,
    /// Inputs that could not be read at all (a missing path, an unreadable
    /// folder or archive), as discovery found them.
    pub problems: Vec<InputProblem>,
    /// How the read went, for commands that report it without an inventory.
    pub reading: Reading,
}

/// How a read went: files found, read, and not readable (with why), and
/// the records rejected on the way (diagnostics say why; `scan` lists them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    /// Files found (archive members included).
    pub found: usize,
    /// Files read in a format faultline knows.
    pub parsed: usize,
    /// Records that could not be read.
    pub rejected: u64,
    /// Inputs and files that could not be read, and why, in discovery order.
    pub unreadable: Vec<(String, String)>,
    /// Files read whose evidence is partly gone (a copy cut short, a wiped
    /// chunk), with the first diagnostic that says so, in discovery order.
    pub lost: Vec<(String, String)>,
    /// The hosts of files read that are known only by their folder's name
    /// (see [`crate::inventory::Inventory::folder_named_hosts`]).
    pub folder_named_hosts: std::collections::BTreeSet<FolderNamedHost>,
}

impl Reading {
    fn add(&mut self, other: Reading) {
        self.parsed += other.parsed;
        self.rejected += other.rejected;
        self.unreadable.extend(other.unreadable);
        self.lost.extend(other.lost);
        self.folder_named_hosts.extend(other.folder_named_hosts);
    }
}

/// A consumer's sink, with its rejected records counted and the first
/// diagnostic saying evidence is gone kept: every consumer's read reports
/// them the same way.
struct Counted<S> {
    sink: S,
    rejected: u64,
    lost: Option<String>,
}

impl<S: RecordSink> RecordSink for Counted<S> {
    type Error = S::Error;

    fn request(&mut self, rec: &Request<'_>) -> Result<(), S::Error> {
        self.sink.request(rec)
    }
    fn http_error(&mut self, rec: &HttpError<'_>) -> Result<(), S::Error> {
        self.sink.http_error(rec)
    }
    fn trace(&mut self, trace: &Trace) -> Result<(), S::Error> {
        self.sink.trace(trace)
    }
    fn event(&mut self, event: WinEvent) -> Result<(), S::Error> {
        self.sink.event(event)
    }
    fn counted_events(&mut self, count: CountedEvents<'_>) -> Result<(), S::Error> {
        self.sink.counted_events(count)
    }
    fn expect_events(&mut self, events: usize) {
        self.sink.expect_events(events);
    }
    fn diagnostic(&mut self, diag: Diagnostic) {
        if diag.is_rejection() {
            self.rejected += 1;
        }
        if diag.lost && self.lost.is_none() {
            self.lost = Some(diag.message.clone());
        }
        self.sink.diagnostic(diag);
    }
    fn access_log_text(&mut self, text: &[u8], offset: u64) {
        self.sink.access_log_text(text, offset);
    }
    fn chunk_done(&mut self) -> Result<(), S::Error> {
        self.sink.chunk_done()
    }
    fn needs_event_data(&self) -> bool {
        self.sink.needs_event_data()
    }
}

/// What one task leaves, and how its read went.
type TaskResult<C> = Result<(<C as Consumer>::Output, Reading), <C as Consumer>::Error>;

/// Finds the evidence under `paths`, decides each file's host
/// ([`identify`], with the analyst's `hosts`) and reads every file once.
pub fn run<C: Consumer>(
    paths: &[PathBuf],
    read: &ReadConfig,
    hosts: &HostOverrides,
    consumer: &C,
    progress: &dyn Progress,
) -> Result<Pass<C::Output>, C::Error> {
    let mut found = discover(paths, &read.limits);
    let identities: Vec<Arc<FileHost>> = identify(&found, read, hosts).into_iter().map(Arc::new).collect();
    // The same bytes of one host, as the paths and records and `--host`
    // name it, are read once.
    faultline_parser::mark_copies(&mut found.entries, &read.limits, |i| {
        identities[i].host.as_ref().map(|h| h.name.clone())
    });
    progress.total(found.entries.iter().map(|e| e.size).sum());
    let advance = |bytes: u64| progress.advance(bytes);
    // Every task runs to its end; the first error in discovery order is the
    // one returned, so which error is reported never depends on threads.
    let tasks: Vec<TaskResult<C>> = tasks(&found.entries, consumer.batching())
        .into_par_iter()
        .enumerate()
        .map(|(index, files)| {
            let mut part = C::Part::default();
            let mut reading = Reading::default();
            for i in files {
                let entry = &found.entries[i];
                let file = SourceFile::new(i as u32, entry, None, Arc::clone(&identities[i]));
                let new_sink = |format| Counted {
                    sink: consumer.sink(file.with_format(format)),
                    rejected: 0,
                    lost: None,
                };
                let outcome = read_entry(entry, read, &advance, new_sink).map_err(Into::into)?;
                let (file, outcome) = match outcome {
                    Outcome::Parsed { format, sinks, bytes } => {
                        reading.parsed += 1;
                        reading.rejected += sinks.iter().map(|s| s.rejected).sum::<u64>();
                        if let Some(lost) = sinks.iter().find_map(|s| s.lost.as_ref()) {
                            reading.lost.push((file.path.to_string(), lost.clone()));
                        }
                        reading.folder_named_hosts.extend(identities[i].folder_named());
                        let sinks = sinks.into_iter().map(|s| s.sink).collect();
                        (file.with_format(format), Outcome::Parsed { format, sinks, bytes })
                    }
                    Outcome::Skipped(reason) => (file, Outcome::Skipped(reason)),
                    Outcome::Failed(e) => {
                        reading.unreadable.push((file.path.to_string(), e.to_string()));
                        (file, Outcome::Failed(e))
                    }
                };
                consumer.file_read(&mut part, file, entry, outcome)?;
            }
            Ok((consumer.part_done(index, part)?, reading))
        })
        .collect();
    let mut reading = Reading {
        found: found.entries.len(),
        unreadable: found
            .problems
            .iter()
            .filter(|p| p.error.is_failure())
            .map(|p| (p.path.to_string(), p.error.to_string()))
            .collect(),
        ..Reading::default()
    };
    let mut outputs = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (output, read) = task?;
        outputs.push(output);
        reading.add(read);
    }
    Ok(Pass { outputs, problems: found.problems, reading })
}

/// Consecutive runs of entries, one per task: the unit of parallel work,
/// which depends only on the input, so output never depends on threads.
fn tasks(entries: &[Entry], batching: Batching) -> Vec<Range<usize>> {
    let Batching { bytes: budget, files } = batching;
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, e) in entries.iter().enumerate() {
        if i > start && (bytes + e.size > budget || i - start >= files) {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += e.size;
    }
    if start < entries.len() {
        out.push(start..entries.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(sizes: &[u64]) -> Vec<Entry> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (i, _) in sizes.iter().enumerate() {
            std::fs::write(dir.path().join(format!("f{i:03}.log")), b"x").expect("writes");
        }
        let mut found = discover(&[dir.path().to_path_buf()], &Default::default()).entries;
        for (e, s) in found.iter_mut().zip(sizes) {
            e.size = *s;
        }
        found
    }

    #[test]
    fn grouped_tasks_cut_on_input_size_and_file_count_and_cover_everything() {
        let mb = 1 << 20;
        let grouped = |files| Batching { bytes: 64 * mb, files };
        assert_eq!(
            tasks(&entries(&[10 * mb, 50 * mb, 10 * mb, 200 * mb, mb]), grouped(4096)),
            vec![0..2, 2..3, 3..4, 4..5]
        );
        assert_eq!(tasks(&entries(&[]), grouped(4096)), Vec::<Range<usize>>::new());
        assert_eq!(tasks(&entries(&[100; 7]), grouped(3)), vec![0..3, 3..6, 6..7]);
        assert_eq!(
            tasks(&entries(&[100; 3]), Batching { bytes: u64::MAX, files: 1 }),
            vec![0..1, 1..2, 2..3]
        );
    }
}
