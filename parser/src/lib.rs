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
pub use winevent::{EventKey, WinEvent};

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
/// them to the sink: catalogue events in full, the others as counts.
pub fn deliver_sorted<S: RecordSink>(events: &mut [WinEvent], all_events: bool, sink: &mut S) {
    events.sort_by_key(WinEvent::sort_key);
    for e in events.iter() {
        if all_events || (winevent::is_relevant(&e.provider, e.event_id) && winevent::keep_extracted(e)) {
            sink.event(e);
        } else {
            sink.counted_event(EventKey {
                channel: e.channel.as_deref(),
                provider: &e.provider,
                event_id: e.event_id,
                time: (e.time_source != winevent::TimeSource::Missing).then_some(e.time),
                computer: e.computer.as_deref(),
            });
        }
    }
}
