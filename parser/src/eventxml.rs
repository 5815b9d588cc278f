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

/// Reads an XML export and hands its events to one sink, sorted by time:
/// the catalogue's in full, the others as counts.
pub fn read<S>(input: &Input<'_>, new_sink: &(dyn Fn() -> S + Sync)) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
{
    let mut sink = new_sink();
    let mut file = parse_event_xml(input.data);
    deliver_sorted(&mut file.events, input.config.all_events, &mut sink)?;
    file.diagnostics.into_iter().for_each(|d| sink.diagnostic(d));
    sink.chunk_done()?;
    (input.progress)(input.data.len() as u64);
    Ok(vec![sink])
}

/// Reads every `<Event>` of an XML export. After malformed XML, reading
/// resumes at the next `<Event` tag, so one bad event costs only itself.
pub fn parse_event_xml(data: &[u8]) -> EventXmlFile {
    let mut out = EventXmlFile::default();
    let text = xml_text(data, &mut out.diagnostics);
    let bytes = text.as_bytes();
    let mut lines = LineCounter::new(bytes);
    let mut interner = Interner::default();
    let mut base = 0usize;
    // A broken event may have swallowed good ones (no end tag: they read
    // as its children), so reading resumes at the next `<Event` after its
    // start; but each try may read as far again (`<Event` in comments up
    // to the end: 8,000 of them took 53 s). A few tries within what a
    // failed event read, then on from its end.
    let mut swallowed = (0usize, 0usize);
    'resume: while base < bytes.len() {
        let mut reader = Reader::from_str(&text[base..]);
        lenient(&mut reader);
        loop {
            let before = base + reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let at = base + reader.error_position() as usize;
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
    out
}

/// The offset of the next `<Event` start tag (not `<Events`) at or after `from`.
/// How many events within what one broken event read are tried before
/// reading goes on from its end.
const RESUMES_WITHIN: usize = 8;

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
