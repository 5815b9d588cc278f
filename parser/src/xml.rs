//! What the two XML formats share: the `<Event>` element of the Windows
//! event schema (event log exports are made of it, and FREB traces hold one
//! per pipeline step), and turning bytes into XML text with line numbers for
//! diagnostics.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::escape::{resolve_predefined_entity, unescape};
use quick_xml::events::{BytesStart, Event};

use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::time::{Timestamp, parse_rfc3339};
use crate::value::parse_u64;
use crate::winevent::{DataValue, RecordId};

/// An `<Event>` element as read, before normalization.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawEvent {
    /// Byte offset of the `<Event` tag.
    pub offset: u64,
    /// `Provider/@Name`.
    pub provider_name: Option<String>,
    /// `Provider/@Guid`.
    pub provider_guid: Option<String>,
    /// `Provider/@EventSourceName`.
    pub event_source_name: Option<String>,
    /// `EventID` (as written; may be a full 32-bit id).
    pub event_id: Option<u32>,
    /// `EventID/@Qualifiers`.
    pub qualifiers: Option<u16>,
    /// `Version`.
    pub version: Option<u8>,
    /// `Level`.
    pub level: Option<u8>,
    /// `Task`.
    pub task: Option<u16>,
    /// `Opcode`.
    pub opcode: Option<u16>,
    /// `Keywords` (hex); `None` for the placeholder text Azure writes.
    pub keywords: Option<u64>,
    /// `TimeCreated/@SystemTime`.
    pub time_created: Option<Timestamp>,
    /// `EventRecordID`.
    pub record_id: Option<RecordId>,
    /// `Correlation/@ActivityID`.
    pub activity_id: Option<String>,
    /// `Execution/@ProcessID`.
    pub process_id: Option<u32>,
    /// `Execution/@ThreadID`.
    pub thread_id: Option<u32>,
    /// `Channel`.
    pub channel: Option<String>,
    /// `Computer`.
    pub computer: Option<String>,
    /// `Security/@UserID`.
    pub user_sid: Option<String>,
    /// `EventData/Data` and `UserData` leaves, in order.
    pub data: Vec<DataValue>,
    /// `EventData/Binary`.
    pub binary: Option<String>,
    /// `RenderingInfo/Opcode`: the symbolic event name in FREB traces.
    pub rendering_opcode: Option<String>,
    /// `RenderingInfo/Keywords/Keyword`.
    pub rendering_keywords: Vec<String>,
    /// `RenderingInfo/freb:Description`: (`@Data` field, decoded text).
    pub descriptions: Vec<(String, String)>,
    /// `RenderingInfo/Message` (localized; shown, never matched on).
    pub message: Option<String>,
    /// `ExtendedTracingInfo/EventGuid`.
    pub event_guid: Option<String>,
    /// A `TimeCreated/@SystemTime` that is no time, as written.
    pub bad_time: Option<String>,
    /// An `EventID` that is no number, as written.
    pub bad_event_id: Option<String>,
}

/// An attribute's value unescaped, or as written when it cannot be.
pub(crate) fn attr_value(v: &str) -> String {
    match unescape(v) {
        Ok(s) => s.into_owned(),
        Err(_) => v.to_string(),
    }
}

pub(crate) fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn parse_hex_or_dec(v: &str) -> Option<u64> {
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => parse_u64(v.as_bytes()),
    }
}

fn num<T: TryFrom<u64>>(v: &str) -> Option<T> {
    parse_hex_or_dec(v).and_then(|n| T::try_from(n).ok())
}

/// An `EventRecordID`. App Service's `eventlog.xml` writes it as a signed
/// 32-bit number, so ids past 2^31 come out negative: such an id is kept
/// as written, in the log's order ([`RecordId::written_negative`]).
fn record_id(v: &str) -> Option<RecordId> {
    num(v)
        .and_then(RecordId::new)
        .or_else(|| v.parse::<i32>().ok().filter(|n| *n < 0).map(RecordId::written_negative))
}

/// Reads the rest of an `<Event>` element whose start tag was just read.
/// `empty` is true for `<Event/>`.
pub fn read_event(
    reader: &mut Reader<&[u8]>,
    start: &BytesStart<'_>,
    offset: u64,
    empty: bool,
) -> Result<RawEvent, String> {
    let mut ev = RawEvent { offset, ..RawEvent::default() };
    let _ = start;
    if empty {
        return Ok(ev);
    }
    // Path of local element names below <Event>, with "has child" flags.
    let mut path: Vec<(String, bool)> = Vec::new();
    let mut text = String::new();
    let mut pending_name: Option<String> = None;
    let mut pending_desc: Option<String> = None;
    loop {
        let event = reader.read_event().map_err(|e| format!("malformed XML: {e}"))?;
        match event {
            Event::Start(e) => {
                if path.len() >= DEEPEST_IN_EVENT {
                    return Err(format!(
                        "malformed XML: elements nested more than {DEEPEST_IN_EVENT} deep inside an <Event>"
                    ));
                }
                if let Some(last) = path.last_mut() {
                    last.1 = true;
                }
                let name = local(e.name().as_ref()).to_string();
                take_attributes(&mut ev, &path, &name, &e, &mut pending_name, &mut pending_desc);
                path.push((name, false));
                text.clear();
            }
            Event::Empty(e) => {
                if let Some(last) = path.last_mut() {
                    last.1 = true;
                }
                let name = local(e.name().as_ref()).to_string();
                take_attributes(&mut ev, &path, &name, &e, &mut pending_name, &mut pending_desc);
                path.push((name, false));
                text.clear();
                end_element(&mut ev, &path, "", &mut pending_name, &mut pending_desc);
                path.pop();
            }
            Event::Text(t) => text.push_str(&t),
            Event::CData(t) => text.push_str(&t),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => match resolve_predefined_entity(&r) {
                    Some(s) => text.push_str(s),
                    None => {
                        text.push('&');
                        text.push_str(&r);
                        text.push(';');
                    }
                },
            },
            Event::End(e) => {
                // The outer reader does not check end tags (a resumed read
                // starts inside the root), so nesting is checked here.
                let qname = e.name();
                let name = local(qname.as_ref());
                let expected = path.last().map_or("Event", |(n, _)| n.as_str());
                if name != expected {
                    return Err(format!("malformed XML: expected </{expected}>, found </{name}>"));
                }
                if path.is_empty() {
                    return Ok(ev);
                }
                end_element(&mut ev, &path, &text, &mut pending_name, &mut pending_desc);
                path.pop();
                text.clear();
            }
            Event::Eof => return Err("the file ends inside an <Event> element".into()),
            _ => {}
        }
    }
}

/// The deepest an event's elements nest: Windows writes a few levels (a
/// `UserData` leaf is about five down). Past it the text is no event, and
/// reading on cost time with the square of the depth (a 3 MB file of
/// elements nested 200,000 deep ran for minutes).
const DEEPEST_IN_EVENT: usize = 64;

fn take_attributes(
    ev: &mut RawEvent,
    path: &[(String, bool)],
    name: &str,
    e: &BytesStart<'_>,
    pending_name: &mut Option<String>,
    pending_desc: &mut Option<String>,
) {
    let parent = path.iter().map(|(n, _)| n.as_str());
    let in_system = path.len() == 1 && path[0].0 == "System";
    let in_event_data = path.len() == 1 && path[0].0 == "EventData";
    let in_rendering = path.len() == 1 && path[0].0 == "RenderingInfo";
    let in_user_data = path.first().is_some_and(|(n, _)| n == "UserData");
    let _ = parent;
    for attr in e.attributes().with_checks(false).flatten() {
        let key = local(attr.key.as_ref());
        let value = || attr_value(&attr.value);
        if in_user_data {
            // Attributes of UserData elements are values too (`Service@name`).
            let qualified = attr.key.as_ref();
            if qualified != "xmlns" && !qualified.starts_with("xmlns:") {
                ev.data.push(DataValue { name: Some(format!("{name}@{key}").into()), value: value().into() });
            }
            continue;
        }
        match (name, key) {
            ("Provider", "Name") if in_system => ev.provider_name = Some(value()),
            ("Provider", "Guid") if in_system => ev.provider_guid = Some(value()),
            ("Provider", "EventSourceName") if in_system => ev.event_source_name = Some(value()),
            ("EventID", "Qualifiers") if in_system => ev.qualifiers = num(&value()),
            ("TimeCreated", "SystemTime") if in_system => {
                let written = value();
                ev.time_created = parse_rfc3339(written.as_bytes());
                if ev.time_created.is_none() {
                    ev.bad_time = Some(written);
                }
            }
            ("Correlation", "ActivityID") if in_system => ev.activity_id = Some(value()),
            ("Execution", "ProcessID") if in_system => ev.process_id = num(&value()),
            ("Execution", "ThreadID") if in_system => ev.thread_id = num(&value()),
            ("Security", "UserID") if in_system => ev.user_sid = Some(value()),
            ("Data", "Name") if in_event_data => *pending_name = Some(value()),
            ("Description", "Data") if in_rendering => *pending_desc = Some(value()),
            _ => {}
        }
    }
}

fn end_element(
    ev: &mut RawEvent,
    path: &[(String, bool)],
    text: &str,
    pending_name: &mut Option<String>,
    pending_desc: &mut Option<String>,
) {
    let names: Vec<&str> = path.iter().map(|(n, _)| n.as_str()).collect();
    let has_child = path.last().is_some_and(|(_, c)| *c);
    let trimmed = text.trim();
    let some = || (!trimmed.is_empty()).then(|| trimmed.to_string());
    match names.as_slice() {
        ["System", "EventID"] => match num::<u32>(trimmed) {
            Some(id) => ev.event_id = Some(id),
            None => ev.bad_event_id = Some(trimmed.to_string()),
        },
        ["System", "Version"] => ev.version = num(trimmed),
        ["System", "Level"] => ev.level = num(trimmed),
        ["System", "Task"] => ev.task = num(trimmed),
        ["System", "Opcode"] => ev.opcode = num(trimmed),
        ["System", "Keywords"] => ev.keywords = parse_hex_or_dec(trimmed),
        ["System", "EventRecordID"] => ev.record_id = record_id(trimmed),
        ["System", "Channel"] => ev.channel = some(),
        ["System", "Computer"] => ev.computer = some(),
        ["EventData", "Data"] => {
            ev.data.push(DataValue { name: pending_name.take().map(Into::into), value: text.into() });
        }
        ["EventData", "Binary"] => ev.binary = some(),
        // Leaves of UserData are named by their element; empty ones carry
        // nothing (their attributes, if any, were kept when they opened).
        ["UserData", .., _] if !has_child && names.len() >= 3 && !text.is_empty() => {
            let leaf = names[names.len() - 1];
            ev.data.push(DataValue { name: Some(leaf.into()), value: text.into() });
        }
        ["RenderingInfo", "Opcode"] => ev.rendering_opcode = some(),
        ["RenderingInfo", "Keywords", "Keyword"] => {
            if let Some(k) = some() {
                ev.rendering_keywords.push(k);
            }
        }
        ["RenderingInfo", "Description"] => {
            if let Some(field) = pending_desc.take() {
                ev.descriptions.push((field, text.to_string()));
            }
        }
        ["RenderingInfo", "Message"] => ev.message = some(),
        ["ExtendedTracingInfo", "EventGuid"] => ev.event_guid = some(),
        _ => {}
    }
}

/// Makes XML text out of bytes: UTF-8 as is, anything else decoded lossily
/// with a diagnostic.
pub(crate) fn xml_text<'a>(data: &'a [u8], diagnostics: &mut Vec<Diagnostic>) -> Cow<'a, str> {
    let data = data.strip_prefix(crate::framing::BOM).unwrap_or(data);
    match std::str::from_utf8(data) {
        Ok(s) => Cow::Borrowed(s),
        Err(e) => {
            diagnostics.push(Diagnostic {
                location: Location::Offset(e.valid_up_to() as u64),
                severity: Severity::Warning,
                message: "invalid UTF-8 in XML: bad bytes were replaced with U+FFFD".into(),
                lost: false,
            });
            String::from_utf8_lossy(data)
        }
    }
}

/// Line number (1-based) of a byte offset, counting forward from a known
/// (offset, line) pair.
pub(crate) struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
    /// The known pair counting starts again from when asked about an
    /// offset before the last one.
    known: (usize, u64),
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        LineCounter::from(text, 0, 1)
    }

    /// Counts from `offset`, known to be on `line`: a stretch of a text
    /// read apart from what comes before it.
    pub(crate) fn from(text: &'a [u8], offset: usize, line: u64) -> Self {
        LineCounter { text, offset, line, known: (offset, line) }
    }

    pub(crate) fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len()).max(self.known.0);
        if offset < self.offset {
            (self.offset, self.line) = self.known;
        }
        self.line += crate::framing::count_lines(&self.text[self.offset..offset]);
        self.offset = offset;
        self.line
    }
}

/// The outer reader only looks for `<Event>` elements: end tags are checked
/// by [`read_event`] itself, so that reading can resume in the middle of a
/// document, and a stray `&` in text is kept as text.
pub(crate) fn lenient(reader: &mut Reader<&[u8]>) {
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
}

pub(crate) fn leading_space(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_whitespace()).count()
}
