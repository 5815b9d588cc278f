//! faultline-parser: reads the evidence exported from IIS servers.
//!
//! The flow is: [`source::discover`] walks the inputs (files, folders, `.zip`
//! and `.gz` bundles) into [`source::Entry`]s; [`read_entry`] opens one,
//! recognises its [`Format`] by content, and parses it in parallel chunks into
//! typed records delivered to a [`RecordSink`], with a [`Diagnostic`] for
//! every line or record that could not be read.
//!
//! ```
//! use faultline_parser::{framing, w3c, RecordSink, Request};
//!
//! #[derive(Default)]
//! struct Count(usize);
//! impl RecordSink for Count {
//!     fn request(&mut self, _r: &Request<'_>) { self.0 += 1 }
//! }
//!
//! let log = b"#Fields: date time cs-uri-stem sc-status\n2024-01-02 03:04:05 /a 200\n";
//! let sinks = w3c::parse_text(log, w3c::Dialect::W3c, &Default::default(), &framing::InMemory, &|_| {}, Count::default);
//! assert_eq!(sinks.iter().map(|s| s.0).sum::<usize>(), 1);
//! ```

#![deny(missing_docs)]

pub mod diagnostic;
pub mod eventxml;
pub mod evtx;
pub mod format;
pub mod framing;
pub mod freb;
pub mod sink;
pub mod source;
pub mod time;
pub mod value;
pub mod w3c;
pub mod winevent;

pub use diagnostic::{Diagnostic, Location, Severity};
pub use format::{Detection, Format};
pub use freb::Trace;
pub use sink::RecordSink;
pub use source::{ArchiveLimits, Discovery, Entry, EvidencePath, InputError, Source, discover};
pub use time::Timestamp;
pub use w3c::{HttpError, Request, TextConfig};
pub use winevent::{CountedEvents, WinEvent};

/// Frozen settings for reading evidence.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadConfig {
    /// Text parsing settings.
    pub text: TextConfig,
    /// Archive expansion limits.
    pub limits: ArchiveLimits,
    /// Keep every Windows event, not only those in the IIS catalogue.
    pub all_events: bool,
}

/// What happened to one entry.
#[derive(Debug)]
pub enum Outcome<S> {
    /// Parsed: one sink per chunk, in source order.
    Parsed {
        /// The recognised format.
        format: Format,
        /// The chunk sinks.
        sinks: Vec<S>,
    },
    /// Recognised, but this build does not parse the format yet.
    Recognised(Format),
    /// Not evidence faultline reads.
    Skipped(String),
    /// Could not be opened.
    Failed(InputError),
}

/// Opens an entry, recognises its format and parses it.
pub fn read_entry<S, F>(
    entry: &Entry,
    config: &ReadConfig,
    progress: &(dyn Fn(u64) + Sync),
    new_sink: F,
) -> Outcome<S>
where
    S: RecordSink + Send,
    F: Fn() -> S + Sync,
{
    let source = match entry.open(&config.limits) {
        Ok(s) => s,
        Err(e) => {
            progress(entry.size);
            return Outcome::Failed(e);
        }
    };
    read_opened(source, config, progress, new_sink)
}

/// Parses an opened source. When a mapped file shrank while it was parsed
/// (its tail then read as zeros), everything it gave is thrown away and the
/// file is read again into memory as it is now, with a warning that says so.
pub(crate) fn read_opened<S, F>(
    source: Source,
    config: &ReadConfig,
    progress: &(dyn Fn(u64) + Sync),
    new_sink: F,
) -> Outcome<S>
where
    S: RecordSink + Send,
    F: Fn() -> S + Sync,
{
    let outcome = parse_source(&source, config, progress, &new_sink);
    if !source.bytes.was_cut() {
        return outcome;
    }
    drop(outcome);
    let mapped = source.bytes.len();
    let bytes = match source::reread(&source.path.file) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(e),
    };
    let now = bytes.len();
    let again = Source { path: source.path, bytes };
    let mut outcome = parse_source(&again, config, progress, &new_sink);
    if let Outcome::Parsed { sinks, .. } = &mut outcome {
        if sinks.is_empty() {
            sinks.push(new_sink());
        }
        sinks[0].diagnostic(Diagnostic::file(
            Severity::Warning,
            format!("the file shrank from {mapped} to {now} bytes while it was read; it was read again as it is now"),
        ));
    }
    outcome
}

fn parse_source<S, F>(
    source: &Source,
    config: &ReadConfig,
    progress: &(dyn Fn(u64) + Sync),
    new_sink: &F,
) -> Outcome<S>
where
    S: RecordSink + Send,
    F: Fn() -> S + Sync,
{
    let data: &[u8] = &source.bytes;
    let head = &data[..data.len().min(format::SNIFF_LEN)];
    match format::detect(&source.path.file_name(), head) {
        Detection::Skip(reason) => {
            progress(data.len() as u64);
            Outcome::Skipped(reason)
        }
        Detection::Format(format) => match format.dialect() {
            Some(dialect) => {
                let sinks = w3c::parse_text(data, dialect, &config.text, &source.bytes, progress, new_sink);
                Outcome::Parsed { format, sinks }
            }
            None => {
                let outcome = match format {
                    Format::Freb => {
                        let mut sink = new_sink();
                        let file = freb::parse_freb(data);
                        sink.trace(&file.trace);
                        file.diagnostics.into_iter().for_each(|d| sink.diagnostic(d));
                        Outcome::Parsed { format, sinks: vec![sink] }
                    }
                    Format::EventXml => {
                        let mut sink = new_sink();
                        let mut file = eventxml::parse_event_xml(data);
                        deliver_sorted(&mut file.events, config.all_events, &mut sink);
                        file.diagnostics.into_iter().for_each(|d| sink.diagnostic(d));
                        Outcome::Parsed { format, sinks: vec![sink] }
                    }
                    Format::Evtx => {
                        let mut sink = new_sink();
                        evtx::parse_evtx(data, &source.bytes, config.all_events, &mut sink);
                        Outcome::Parsed { format, sinks: vec![sink] }
                    }
                    _ => Outcome::Recognised(format),
                };
                progress(data.len() as u64);
                outcome
            }
        },
    }
}

/// Sorts events deterministically (time, record id, position) and hands
/// them to the sink: catalogue events in full, the others as counts. The
/// events are moved out; `events` is left empty.
pub fn deliver_sorted<S: RecordSink>(events: &mut Vec<WinEvent>, all_events: bool, sink: &mut S) {
    events.sort_by_key(WinEvent::sort_key);
    let kept = |e: &WinEvent| {
        all_events || (winevent::is_relevant(&e.provider, e.event_id) && winevent::keep_extracted(e))
    };
    sink.expect_events(if all_events { events.len() } else { events.iter().filter(|e| kept(e)).count() });
    for e in events.drain(..) {
        if kept(&e) {
            sink.event_owned(e);
        } else {
            sink.counted_events(CountedEvents {
                channel: e.channel.as_deref(),
                provider: &e.provider,
                event_id: e.event_id,
                computer: e.computer.as_deref(),
                records: 1,
                span: (e.time_source != winevent::TimeSource::Missing).then_some((e.time, e.time)),
            });
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod shrink_tests {
    use super::*;

    #[derive(Default)]
    struct Count {
        requests: usize,
        warnings: Vec<String>,
    }

    impl RecordSink for Count {
        fn request(&mut self, _r: &Request<'_>) {
            self.requests += 1;
        }
        fn diagnostic(&mut self, d: Diagnostic) {
            if d.severity == Severity::Warning {
                self.warnings.push(d.message);
            }
        }
    }

    /// A mapped log cut to a third of its size after it was opened: no
    /// SIGBUS, and the rows read are those the file holds now, with a
    /// warning that says what happened.
    #[test]
    fn a_file_that_shrinks_while_mapped_is_read_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("u_ex251124.log");
        let mut log = String::from(
            "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time cs-method cs-uri-stem sc-status time-taken\r\n",
        );
        let header_len = log.len();
        let row = "2025-11-24 10:00:00 GET /a-fairly-long-path/to-fill-the-file/index.html 200 12\r\n";
        let rows = 3 * 256 * 1024 / row.len();
        for _ in 0..rows {
            log.push_str(row);
        }
        std::fs::write(&path, &log).expect("writes");
        let found = discover(std::slice::from_ref(&path), &ArchiveLimits::default());
        let source = found.entries[0].open(&ArchiveLimits::default()).expect("opens");
        assert!(matches!(source.bytes, source::Bytes::Mapped(_)), "large files are mapped");
        let kept_rows = rows / 3;
        let file = std::fs::OpenOptions::new().write(true).open(&path).expect("opens for writing");
        file.set_len((header_len + kept_rows * row.len()) as u64).expect("truncates");

        let outcome = read_opened(source, &ReadConfig::default(), &|_| {}, Count::default);
        let Outcome::Parsed { sinks, .. } = outcome else { panic!("parsed") };
        assert_eq!(sinks.iter().map(|s| s.requests).sum::<usize>(), kept_rows);
        let warnings: Vec<&String> = sinks.iter().flat_map(|s| &s.warnings).collect();
        assert!(warnings.iter().any(|w| w.contains("shrank")), "{warnings:?}");
    }

    /// Faults outside guarded mappings are not swallowed: touching a guard
    /// for one file does not change another file's bytes.
    #[test]
    fn the_guard_marks_only_the_mapping_that_was_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
        std::fs::write(&a, vec![b'a'; 1 << 20]).expect("writes");
        std::fs::write(&b, vec![b'b'; 1 << 20]).expect("writes");
        let open = |p: &std::path::Path| {
            discover(&[p.to_path_buf()], &ArchiveLimits::default()).entries[0]
                .open(&ArchiveLimits::default())
                .expect("opens")
        };
        let (sa, sb) = (open(&a), open(&b));
        std::fs::OpenOptions::new().write(true).open(&a).expect("opens").set_len(100_000).expect("truncates");
        let bytes: &[u8] = &sa.bytes;
        assert_eq!(bytes[50_000], b'a');
        assert_eq!(bytes[900_000], 0, "past the new end reads as zeros");
        assert!(sa.bytes.was_cut());
        assert!(!sb.bytes.was_cut());
        assert_eq!(sb.bytes[900_000], b'b');
    }
}
