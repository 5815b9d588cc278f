//! Windows events as XML: the `<Event>` element of the event schema, as
//! `wevtutil qe /f:xml` writes it (concatenated, no root), as Event Viewer
//! saves it (`<Events>` root, `RenderingInfo`), and as Azure App Service's
//! `eventlog.xml` has it (no namespace, positional data, placeholder
//! keywords). FREB traces use the same element for their events.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::diagnostic::{Diagnostic, Severity};
use crate::intern::Interner;
use crate::time::Timestamp;
use crate::winevent::{DataValue, EventOrigin, TimeSource, WinEvent, deliver_sorted};
use crate::xml::{LineCounter, RawEvent, leading_space, lenient, local, read_event, xml_text};
use crate::{Input, RecordSink};

impl RawEvent {
    /// Normalizes into a [`WinEvent`].
    pub(crate) fn into_win_event(self, origin: EventOrigin, interner: &mut Interner) -> WinEvent {
        let full_id = self.event_id.unwrap_or(0);
        let event_id = (full_id & 0xFFFF) as u16;
        let qualifiers = self.qualifiers.or_else(|| (full_id > 0xFFFF).then_some((full_id >> 16) as u16));
        let (time, time_source) = match self.time_created {
            Some(t) => (t, TimeSource::TimeCreated),
            None => (Timestamp(0), TimeSource::Missing),
        };
        let provider = interner.get(self.provider_name.as_deref().unwrap_or("-"));
        WinEvent {
            time,
            time_source,
            origin,
            record_id: self.record_id,
            provider,
            provider_guid: self.provider_guid.as_deref().map(|g| interner.get(g)),
            event_source_name: self.event_source_name.as_deref().map(|g| interner.get(g)),
            event_id,
            qualifiers,
            version: self.version,
            level: self.level,
            task: self.task,
            opcode: self.opcode.and_then(|o| u8::try_from(o).ok()),
            keywords: self.keywords,
            channel: self.channel.as_deref().map(|c| interner.get(c)),
            computer: self.computer.as_deref().map(|c| interner.get(c)),
            process_id: self.process_id,
            thread_id: self.thread_id,
            activity_id: self.activity_id.map(Into::into),
            user_sid: self.user_sid.map(Into::into),
            data: self
                .data
                .into_iter()
                .map(|d| DataValue { name: d.name.map(|n| interner.get(&n)), value: interner.get(&d.value) })
                .collect(),
            binary: self.binary,
            data_unread: false,
        }
        .timed_by_action()
    }
}

/// A value as a diagnostic quotes it: its first 60 characters.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Everything read from one XML export.
#[derive(Debug, Default)]
pub struct EventXmlFile {
    /// Events in document order.
    pub events: Vec<WinEvent>,
    /// Problems found.
    pub diagnostics: Vec<Diagnostic>,
}

/// Bytes of an XML export per sink: a large export is read as stretches
/// of about this many bytes (each from an `<Event` tag on), each handed to a
/// sink of its own as soon as it is parsed, the stretches on every core. Its
/// events are then never all held at once (a 207 MB export of 200,000
/// events held about as much again), and the stretches are fixed by the
/// file, not by the pool, so the output is the same whatever the number of
/// threads.
pub const STRETCH_BYTES: usize = 16 << 20;

/// Reads an XML export for the pipeline: one sink per stretch of about
/// [`STRETCH_BYTES`], in file order, each given its stretch's catalogue
/// events in full, sorted by time, and the others as counts; what is said
/// of the whole file goes to the first.
pub fn read<S>(input: &Input<'_>, new_sink: &(dyn Fn() -> S + Sync)) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
    S::Error: Send,
{
    read_in_stretches(input, new_sink, STRETCH_BYTES)
}

/// [`read`] with stretches of about `stretch_bytes` instead of
/// [`STRETCH_BYTES`]: small ones put stretch boundaries where tests and
/// fuzzing can reach them.
pub fn read_in_stretches<S>(
    input: &Input<'_>,
    new_sink: &(dyn Fn() -> S + Sync),
    stretch_bytes: usize,
) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
    S::Error: Send,
{
    use rayon::prelude::*;
    let mut said = Vec::new();
    let text = xml_text(input.data, &mut said);
    let stretches = stretches(text.as_bytes(), stretch_bytes);
    let last = stretches.len() - 1;
    let mut said = Some(said);
    let work: Vec<_> = stretches
        .into_iter()
        .enumerate()
        .map(|(i, stretch)| (new_sink(), i, stretch, said.take().unwrap_or_default()))
        .collect();
    let all_events = input.config.all_events;
    // Progress counts the input's bytes, which the text may outnumber (a
    // bad byte read as U+FFFD) or fall short of (a byte-order mark).
    let read_up_to =
        |offset: usize, i: usize| if i == last { input.data.len() } else { offset.min(input.data.len()) };
    let done: Vec<Result<S, S::Error>> = work
        .into_par_iter()
        .map(|(mut sink, i, stretch, diagnostics)| {
            let mut file = EventXmlFile { events: Vec::new(), diagnostics };
            read_events(&text, &stretch, &mut file);
            deliver_sorted(&mut file.events, all_events, &mut sink)?;
            file.diagnostics.into_iter().for_each(|d| sink.diagnostic(d));
            sink.chunk_done()?;
            let from = if i == 0 { 0 } else { stretch.range.start.min(input.data.len()) };
            (input.progress)(read_up_to(stretch.range.end, i).saturating_sub(from) as u64);
            Ok(sink)
        })
        .collect();
    done.into_iter().collect()
}

/// A stretch of an export's text read apart: the events whose start tag
/// lies in `range`, the first of which is on `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stretch {
    range: std::ops::Range<usize>,
    line: u64,
}

/// The text cut into stretches of at least `size` bytes, each but the
/// first starting at an `<Event` tag; one for a text of any size under it.
fn stretches(text: &[u8], size: usize) -> Vec<Stretch> {
    let mut starts = vec![0];
    while let Some(next) = starts.last().map(|&s| s + size.max(1)).filter(|&at| at < text.len()) {
        match next_event_tag(text, next) {
            Some(tag) => starts.push(tag),
            None => break,
        }
    }
    let mut line = 1;
    let mut out = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        out.push(Stretch { range: start..end, line });
        line += crate::framing::count_lines(&text[start..end]);
    }
    out
}

/// Reads every `<Event>` of an XML export. After malformed XML, reading
/// resumes at the next `<Event` tag, so one bad event costs only itself.
pub fn parse_event_xml(data: &[u8]) -> EventXmlFile {
    let mut out = EventXmlFile::default();
    let text = xml_text(data, &mut out.diagnostics);
    read_events(&text, &Stretch { range: 0..text.len(), line: 1 }, &mut out);
    out
}

/// Reads the events of `text` whose start tag lies in the stretch (the last
/// one may end past it) into `out`.
fn read_events(text: &str, stretch: &Stretch, out: &mut EventXmlFile) {
    let bytes = text.as_bytes();
    let stop = stretch.range.end;
    let mut lines = LineCounter::from(bytes, stretch.range.start, stretch.line);
    let mut interner = Interner::default();
    let mut base = stretch.range.start;
    // A broken event may have swallowed good ones (no end tag: they read
    // as its children), so reading resumes at the next `<Event` after its
    // start; but each try may read as far again (`<Event` in comments up
    // to the end: 8,000 of them took 53 s). A few tries within what a
    // failed event read, then on from its end.
    let mut swallowed = (0usize, 0usize);
    'resume: while base < stop {
        let mut reader = Reader::from_str(&text[base..]);
        lenient(&mut reader);
        loop {
            let before = base + reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let at = base + reader.error_position() as usize;
                    if at >= stop {
                        // The next stretch reads from there.
                        break 'resume;
                    }
                    let line = lines.line_at(at);
                    out.diagnostics.push(Diagnostic::line(
                        line,
                        at as u64,
                        Severity::Error,
                        format!("malformed XML: {e}"),
                    ));
                    match next_event_tag(bytes, at.max(before) + 1) {
                        Some(next) => {
                            base = next;
                            continue 'resume;
                        }
                        None => break 'resume,
                    }
                }
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) if local(e.name().as_ref()) == "Event" => {
                    let empty = matches!(event, Event::Empty(_));
                    let start = before + leading_space(&bytes[before..]);
                    if start >= stop {
                        break 'resume;
                    }
                    let line = lines.line_at(start);
                    match read_event(&mut reader, e, start as u64, empty) {
                        Ok(raw) => {
                            let origin = EventOrigin::Xml { line, offset: start as u64 };
                            // An event with no time or no id is no evidence
                            // of anything: on the timeline at 1970, or as
                            // event 0, it would be made-up evidence.
                            let unusable = match (&raw.bad_time, &raw.bad_event_id, raw.event_id) {
                                (Some(t), ..) => {
                                    Some(format!("TimeCreated SystemTime \"{}\" is not a time", excerpt(t)))
                                }
                                (_, Some(id), _) => {
                                    Some(format!("EventID \"{}\" is not a number", excerpt(id)))
                                }
                                (_, _, None) => Some("no EventID".to_string()),
                                _ => None,
                            };
                            let event = raw.into_win_event(origin, &mut interner);
                            let why = unusable.or_else(|| {
                                (event.time_source == TimeSource::Missing)
                                    .then(|| "no TimeCreated".to_string())
                            });
                            match why {
                                Some(why) => out.diagnostics.push(Diagnostic::line(
                                    line,
                                    start as u64,
                                    Severity::Error,
                                    format!("event not read: {why}"),
                                )),
                                None => out.events.push(event),
                            }
                        }
                        Err(msg) => {
                            let at = base + reader.buffer_position() as usize;
                            out.diagnostics.push(Diagnostic::line(
                                line,
                                start as u64,
                                Severity::Error,
                                format!("event not read: {msg} (near byte {at})"),
                            ));
                            let (end, tries) = &mut swallowed;
                            if start >= *end {
                                (*end, *tries) = (at, 0);
                            }
                            *tries += 1;
                            let from =
                                if *tries > RESUMES_WITHIN { (*end).max(start + 1) } else { start + 1 };
                            match next_event_tag(bytes, from) {
                                Some(next) => {
                                    base = next;
                                    continue 'resume;
                                }
                                None => break 'resume,
                            }
                        }
                    }
                }
                Event::Eof => break 'resume,
                _ => {}
            }
        }
    }
}

/// How many events within what one broken event read are tried before
/// reading goes on from its end.
const RESUMES_WITHIN: usize = 8;

/// The offset of the next `<Event` start tag (not `<Events`) at or after `from`.
fn next_event_tag(b: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    while pos < b.len() {
        let found = memchr::memmem::find(&b[pos..], b"<Event")? + pos;
        match b.get(found + 6) {
            Some(c) if c.is_ascii_whitespace() || *c == b'>' || *c == b'/' => return Some(found),
            _ => pos = found + 6,
        }
    }
    None
}

#[cfg(test)]
mod tests;
