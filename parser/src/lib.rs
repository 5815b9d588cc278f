//! faultline-parser: reads the evidence exported from IIS servers.
//!
//! The flow is: [`source::discover`] walks the inputs (files, folders, `.zip`
//! and `.gz` bundles) into [`source::Entry`]s; [`read_entry`] opens one,
//! recognises its [`Format`] by content, and hands it to that format's reader,
//! which parses it (in parallel chunks where the format allows) into typed
//! records delivered to [`RecordSink`]s, with a [`Diagnostic`] for every line
//! or record that could not be read. Every reader has the same shape:
//! `read(&Input, new_sink) -> Result<Vec<S>, S::Error>`, one sink per chunk
//! in source order.
//!
//! ```
//! use std::convert::Infallible;
//! use faultline_parser::{framing, w3c, RecordSink, Request};
//!
//! #[derive(Default)]
//! struct Count(usize);
//! impl RecordSink for Count {
//!     type Error = Infallible;
//!     fn request(&mut self, _r: &Request<'_>) -> Result<(), Infallible> {
//!         self.0 += 1;
//!         Ok(())
//!     }
//! }
//!
//! let log = b"#Fields: date time cs-uri-stem sc-status\n2024-01-02 03:04:05 /a 200\n";
//! let sinks = w3c::parse_text(log, w3c::Dialect::W3c, &Default::default(), &framing::InMemory, &|_| {}, Count::default);
//! assert_eq!(sinks.unwrap().iter().map(|s| s.0).sum::<usize>(), 1);
//! ```

#![deny(missing_docs)]

pub mod diagnostic;
pub mod encoding;
pub mod errorpage;
pub mod eventxml;
pub mod evtx;
pub mod format;
pub mod framing;
pub mod freb;
pub mod glimpse;
pub mod iisnode;
mod intern;
pub mod kudu;
pub mod sink;
pub mod source;
pub mod time;
pub mod value;
pub mod w3c;
pub mod winevent;
mod xml;

pub use diagnostic::{Diagnostic, Location, Severity};
pub use format::{Detection, Format};
pub use freb::Trace;
pub use sink::{EventObserver, RecordSink, Tee};
pub use source::{ArchiveLimits, Discovery, Entry, EvidencePath, InputError, Source, discover, mark_copies};
pub use time::{Span, Timestamp};
pub use w3c::{HttpError, Request, TextConfig};
pub use winevent::{CountedEvents, RecordId, WinEvent};

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

/// One source's bytes, as every format's reader takes them.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    /// The whole source.
    pub data: &'a [u8],
    /// What it was recognised as.
    pub format: Format,
    /// Told which byte ranges are about to be read and which are done, so a
    /// mapped file's pages are brought in and dropped as the read goes.
    pub pages: &'a dyn framing::Paging,
    /// How to read.
    pub config: &'a ReadConfig,
    /// Given the number of bytes just finished.
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// When the source was last modified (for formats that hold no time).
    pub modified: Option<Timestamp>,
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input").field("bytes", &self.data.len()).field("format", &self.format).finish()
    }
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
        /// The bytes read: a compressed file's or an archive member's as
        /// they decompressed (a `.gz` trailer's size is modulo 4 GiB, and
        /// only its last member's).
        bytes: u64,
    },
    /// Not evidence faultline reads.
    Skipped(String),
    /// Could not be opened.
    Failed(InputError),
}

/// Opens an entry, recognises its format and reads it. `new_sink` makes one
/// sink per chunk, told the format. A sink's error stops the read and is
/// returned instead of an outcome.
pub fn read_entry<S, F>(
    entry: &Entry,
    config: &ReadConfig,
    progress: &(dyn Fn(u64) + Sync),
    new_sink: F,
) -> Result<Outcome<S>, S::Error>
where
    S: RecordSink + Send,
    S::Error: Send,
    F: Fn(Format) -> S + Sync,
{
    if let Some(first) = &entry.copy_of {
        progress(entry.size);
        return Ok(Outcome::Skipped(format!("the same bytes as {first}, read there")));
    }
    let source = match entry.open(&config.limits) {
        Ok(s) => s,
        Err(e) => {
            progress(entry.size);
            return Ok(Outcome::Failed(e));
        }
    };
    let mut outcome = read_opened(source, config, progress, &new_sink)?;
    if let Some(real) = &entry.outside {
        warn_file(
            &mut outcome,
            &new_sink,
            format!(
                "reached through a symbolic link that leads out of every folder given, to {}: read as part of them",
                source::path_text(real)
            ),
        );
    }
    Ok(outcome)
}

/// Reads an opened source. When a mapped file shrank while it was parsed
/// (its tail then read as zeros), everything it gave is thrown away and the
/// file is read again into memory as it is now, with a warning that says so.
/// A sink that handed records on before its chunk ended (the full
/// timeline's spilled runs) has then handed on the first attempt's too: a
/// file cut while faultline reads it is rare enough that this is accepted.
pub(crate) fn read_opened<S, F>(
    source: Source,
    config: &ReadConfig,
    progress: &(dyn Fn(u64) + Sync),
    new_sink: F,
) -> Result<Outcome<S>, S::Error>
where
    S: RecordSink + Send,
    S::Error: Send,
    F: Fn(Format) -> S + Sync,
{
    let mut outcome = parse_source(&source, config, progress, &new_sink)?;
    if let Some(damage) = &source.damage {
        warn_file(&mut outcome, &new_sink, format!("{damage}; the data before it was read"));
    }
    if !source.bytes.was_cut() {
        return Ok(outcome);
    }
    drop(outcome);
    let mapped = source.bytes.len();
    let bytes = match source::reread(&source.path.file) {
        Ok(b) => b,
        Err(e) => return Ok(Outcome::Failed(e)),
    };
    let now = bytes.len();
    let again = Source { path: source.path, bytes, modified: source.modified, damage: None };
    let mut outcome = parse_source(&again, config, progress, &new_sink)?;
    warn_file(
        &mut outcome,
        &new_sink,
        format!(
            "the file shrank from {mapped} to {now} bytes while it was read; it was read again as it is now"
        ),
    );
    Ok(outcome)
}

/// How far into a file that starts with NUL bytes the first byte of
/// something else is looked for.
const LEADING_NUL_LOOKAHEAD: usize = 64 << 20;

/// Gives a parsed source's first sink (made when it has none) a warning
/// about the whole file.
fn warn_file<S: RecordSink>(outcome: &mut Outcome<S>, new_sink: &impl Fn(Format) -> S, message: String) {
    say(outcome, new_sink, Diagnostic::file(Severity::Warning, message));
}

/// Hands a parsed file's sinks a diagnostic of the whole read.
fn say<S: RecordSink>(outcome: &mut Outcome<S>, new_sink: &impl Fn(Format) -> S, said: Diagnostic) {
    if let Outcome::Parsed { format, sinks, .. } = outcome {
        if sinks.is_empty() {
            sinks.push(new_sink(*format));
        }
        sinks[0].diagnostic(said);
    }
}

pub(crate) fn parse_source<S, F>(
    source: &Source,
    config: &ReadConfig,
    progress: &(dyn Fn(u64) + Sync),
    new_sink: &F,
) -> Result<Outcome<S>, S::Error>
where
    S: RecordSink + Send,
    S::Error: Send,
    F: Fn(Format) -> S + Sync,
{
    let original: &[u8] = &source.bytes;
    // A copy made to read the file (below) that could not be made fails
    // the file; the progress still counts the file's own bytes.
    let failed = |e: source::spool::SpoolError, what: &str, unread: usize| {
        progress(unread as u64);
        Ok(Outcome::Failed(InputError::Io(std::io::Error::other(e.describe(what)))))
    };
    // UTF-16 and UTF-32 text is read as the UTF-8 it transcodes to. Text
    // without a byte-order mark is told by its pattern of zero bytes: its
    // head is tried first, so that a file that only looks like it (binary
    // data) is not copied whole, and is read as it is.
    let wide = encoding::wide_text(original).filter(|w| {
        w.bom > 0 || {
            let head = &original[..original.len().min(w.unit * format::SNIFF_LEN)];
            encoding::transcode(head, *w)
                .is_ok_and(|h| matches!(format::detect(&source.path.file_name(), &h), Detection::Format(_)))
        }
    });
    let mut realigned = None;
    let mut copy = match wide.map(|w| (w, encoding::transcode_in_step(original, w))) {
        Some((w, Err(e))) => {
            return failed(e, &format!("the UTF-8 copy of this {} file", w.name()), original.len());
        }
        Some((w, Ok((copy, steps)))) => {
            realigned = steps.first.map(|first| stray_byte_warning(w, steps.count, first, &copy));
            Some(copy)
        }
        None => None,
    };
    if let Some(t) = &copy {
        progress(original.len().saturating_sub(t.len()) as u64);
    }
    // Lines ended by a lone CR are read as the same lines ended by LF; the
    // format is told from the head first, so a file skipped is not copied.
    let text: &[u8] = copy.as_deref().unwrap_or(original);
    let head = &text[..text.len().min(format::SNIFF_LEN)];
    let lone_cr = encoding::lone_cr_lines(head);
    let relined_head;
    let head = match lone_cr.then(|| encoding::lone_cr_to_lf(head)) {
        Some(Ok(h)) => {
            relined_head = h;
            &relined_head[..]
        }
        _ => head,
    };
    let mut detected = format::detect(&source.path.file_name(), head);
    // A log whose first stretch was zeroed (a crash while it was
    // preallocated) is told from what follows the NULs; the reader then
    // reports the stretch as damage.
    if matches!(detected, Detection::Skip(_)) && head.first() == Some(&0) {
        let ahead = &text[..text.len().min(LEADING_NUL_LOOKAHEAD)];
        if let Some(at) = ahead.iter().position(|&b| b != 0) {
            let after = &text[at..text.len().min(at + format::SNIFF_LEN)];
            if let Detection::Format(format) = format::detect(&source.path.file_name(), after) {
                detected = Detection::Format(format);
            }
        }
    }
    let format = match detected {
        Detection::Skip(reason) => {
            progress(text.len() as u64);
            return Ok(Outcome::Skipped(reason));
        }
        Detection::Format(format) => format,
    };
    if lone_cr {
        let relined = match encoding::lone_cr_to_lf(text) {
            Ok(relined) => relined,
            Err(e) => return failed(e, "the copy of this file with its lines ended by LF", text.len()),
        };
        // The transcoded copy, if any, goes as this one takes its place.
        copy = Some(relined);
    }
    let bytes = copy.as_ref().unwrap_or(&source.bytes);
    let data: &[u8] = bytes;
    let input = Input { data, format, pages: bytes, config, progress, modified: source.modified };
    let sink = || new_sink(format);
    let sinks = match format {
        Format::W3c | Format::Httperr | Format::IisNative | Format::Ncsa => w3c::read(&input, &sink)?,
        Format::Freb => freb::read(&input, &sink)?,
        Format::EventXml => eventxml::read(&input, &sink)?,
        Format::Evtx => evtx::read(&input, &sink)?,
        Format::ErrorPage => errorpage::read(&input, &sink)?,
        Format::IisnodeLog => iisnode::read(&input, &sink)?,
        Format::KuduTrace => kudu::read(&input, &source.path.file_name(), &sink)?,
    };
    let mut outcome = Outcome::Parsed { format, sinks, bytes: source.bytes.len() as u64 };
    if lone_cr {
        let why = "lines end in a carriage return alone (a classic Mac OS save): read as lines";
        warn_file(&mut outcome, new_sink, why.to_string());
    }
    if let Some(said) = realigned {
        say(&mut outcome, new_sink, said);
    }
    Ok(outcome)
}

/// What is said of UTF-16 text that went out of step (see
/// [`encoding::transcode_in_step`]), at the line where it goes on in step.
fn stray_byte_warning(
    wide: encoding::WideText,
    count: u64,
    first: encoding::StepOver,
    text: &[u8],
) -> Diagnostic {
    let at = usize::try_from(first.text_offset).map_or(text.len(), |at| at.min(text.len()));
    let before = &text[..at];
    let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
    let offset = memchr::memrchr(b'\n', before).map_or(0, |nl| nl + 1) as u64;
    let more = match count {
        1 => String::new(),
        2 => ", and once more further on".to_string(),
        n => format!(", and {} more times further on", n - 1),
    };
    Diagnostic {
        location: Location::Line { line, offset },
        severity: Severity::Warning,
        message: format!(
            "the {} text goes out of step at byte {} of the file (a byte lost or added where it was copied){more}: \
             that byte skipped, the text read on from the next; a character there may be lost or misread",
            wide.name(),
            first.file_offset
        ),
        lost: false,
    }
}

#[cfg(test)]
mod relined_tests {
    use super::*;

    #[derive(Default)]
    struct Lines(Vec<u64>);

    impl RecordSink for Lines {
        type Error = std::convert::Infallible;
        fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
            self.0.push(r.origin.line);
            Ok(())
        }
    }

    /// A log saved with CR line ends whose later rows were appended with
    /// CRLF: every row keeps its line number (a CRLF is one line end).
    #[test]
    fn lone_cr_rows_then_crlf_rows_keep_their_line_numbers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("u_ex251124.log");
        let mut log = String::from(
            "#Software: Microsoft Internet Information Services 10.0\r#Fields: date time cs-method cs-uri-stem sc-status\r",
        );
        let row = "2025-11-24 10:00:00 GET /a-path-long-enough-to-fill-the-head/index.html 200";
        let cr_rows = 2_000;
        for _ in 0..cr_rows {
            log.push_str(row);
            log.push('\r');
        }
        for _ in 0..100 {
            log.push_str(row);
            log.push_str("\r\n");
        }
        assert!(log.len() > format::SNIFF_LEN);
        std::fs::write(&path, &log).expect("writes");
        let found = discover(std::slice::from_ref(&path), &ArchiveLimits::default());
        let source = found.entries[0].open(&ArchiveLimits::default()).expect("opens");
        let outcome = read_opened(source, &ReadConfig::default(), &|_| {}, |_| Lines::default());
        let Ok(Outcome::Parsed { sinks, .. }) = outcome else { panic!("parsed") };
        let mut lines: Vec<u64> = sinks.into_iter().flat_map(|s| s.0).collect();
        lines.sort_unstable();
        assert_eq!(lines.len(), cr_rows + 100);
        assert_eq!(lines.last(), Some(&(2 + cr_rows as u64 + 100)), "the last row is on the last line");
    }

    /// UTF-16 without a byte-order mark (a .NET writer's
    /// `Encoding.Unicode`) reads as its UTF-8 twin; text that only looks
    /// wide is read as it is.
    #[test]
    fn utf16_without_its_mark_reads_as_its_utf8_twin() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = "#Software: Microsoft Internet Information Services 10.0\r\n\
                   #Fields: date time cs-method cs-uri-stem sc-status\r\n\
                   2025-11-24 10:00:00 GET /a 200\r\n2025-11-24 10:00:01 GET /b 200\r\n";
        let lines_of = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("writes");
            let found = discover(std::slice::from_ref(&path), &ArchiveLimits::default());
            let source = found.entries[0].open(&ArchiveLimits::default()).expect("opens");
            match read_opened(source, &ReadConfig::default(), &|_| {}, |_| Lines::default()) {
                Ok(Outcome::Parsed { sinks, .. }) => {
                    Some(sinks.into_iter().flat_map(|s| s.0).collect::<Vec<_>>())
                }
                _ => None,
            }
        };
        let wide: Vec<u8> = log.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(lines_of("u_ex1.log", &wide), Some(vec![3, 4]));
        // Wide-looking text that is no log in either form is skipped.
        let notes: Vec<u8> =
            "just some notes, nothing more\r\n".repeat(8).encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(lines_of("notes.log", &notes), None);
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
        type Error = std::convert::Infallible;
        fn request(&mut self, _r: &Request<'_>) -> Result<(), Self::Error> {
            self.requests += 1;
            Ok(())
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

        let outcome = read_opened(source, &ReadConfig::default(), &|_| {}, |_| Count::default());
        let Ok(Outcome::Parsed { sinks, .. }) = outcome else { panic!("parsed") };
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
