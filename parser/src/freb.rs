//! Failed Request Tracing (FREB) traces: one XML document per traced
//! request, `<failedRequest>` attributes and ETW-shaped `<Event>` children
//! (docs/formats.md).

use std::collections::BTreeMap;
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::intern::Interner;
use crate::time::Timestamp;
use crate::value::{parse_u32, parse_u64};
use crate::winevent::DataValue;
use crate::xml::{LineCounter, RawEvent, leading_space, lenient, local, read_event, xml_text};
use crate::{Input, RecordSink};

/// One event of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// `TimeCreated` (FREB writes milliseconds).
    pub time: Option<Timestamp>,
    /// Provider name (`WWW Server`, `ASPNET`, `ASP`, `ISAPI Extension`).
    pub provider: Arc<str>,
    /// Provider GUID.
    pub provider_guid: Option<Arc<str>>,
    /// `EventID` (always 0 for IIS trace events).
    pub event_id: u32,
    /// `Level`.
    pub level: Option<u8>,
    /// `Opcode` number (local to the event class).
    pub opcode: Option<u16>,
    /// The symbolic name from `RenderingInfo/Opcode` (`GENERAL_REQUEST_START`...).
    pub name: Option<Arc<str>>,
    /// `Correlation/@ActivityID`.
    pub activity_id: Option<String>,
    /// `Execution/@ProcessID`.
    pub process_id: Option<u32>,
    /// `Execution/@ThreadID`.
    pub thread_id: Option<u32>,
    /// `EventData` values by name.
    pub data: Vec<DataValue>,
    /// `freb:Description` decodings: (field, text).
    pub descriptions: Vec<(String, String)>,
    /// 1-based line of the `<Event>` tag.
    pub line: u64,
    /// Byte offset of the `<Event>` tag.
    pub offset: u64,
}

impl TraceEvent {
    /// A named data value.
    pub fn data(&self, name: &str) -> Option<&str> {
        self.data.iter().find(|d| d.name.as_deref() == Some(name)).map(|d| &*d.value)
    }

    /// The decoded text of a numeric field (`Notification` → `MAP_REQUEST_HANDLER`).
    pub fn description(&self, field: &str) -> Option<&str> {
        self.descriptions.iter().find(|(f, _)| f == field).map(|(_, t)| t.as_str())
    }

    fn is(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name)
    }
}

/// The module that set the error status (`MODULE_SET_RESPONSE_ERROR_STATUS`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ModuleError {
    /// `ModuleName` (`IIS Web Core`, `AspNetCoreModuleV2`, `FastCgiModule`...).
    pub module: String,
    /// `Notification` number.
    pub notification: Option<u32>,
    /// Its name (`MAP_REQUEST_HANDLER`).
    pub notification_name: Option<String>,
    /// `HttpStatus`.
    pub status: Option<u16>,
    /// `HttpSubStatus`.
    pub substatus: Option<u32>,
    /// `HttpReason`.
    pub reason: Option<String>,
    /// `ErrorCode` as an HRESULT.
    pub error_code: Option<u32>,
    /// The decoded error text (`The system cannot find the file specified. (0x80070002)`).
    pub error_text: Option<String>,
    /// `ConfigExceptionInfo` (500.19: config file, line and message).
    pub config_exception: Option<String>,
    /// When it was set.
    pub time: Option<Timestamp>,
    /// Line of the event in the trace.
    pub line: u64,
}

/// Time spent in one module for one notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModuleTime {
    /// Module name.
    pub module: String,
    /// Notification name (or number).
    pub notification: String,
    /// Total time between `NOTIFY_MODULE_START` and `_END`, in nanoseconds.
    pub nanos: i64,
}

/// What the analyzer needs from a trace, derived once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TraceSummary {
    /// `GENERAL_REQUEST_START` time.
    pub start: Option<Timestamp>,
    /// The last event's time.
    pub end: Option<Timestamp>,
    /// The first `MODULE_SET_RESPONSE_ERROR_STATUS`.
    pub first_error: Option<ModuleError>,
    /// The handler chosen (last `HANDLER_CHANGED` `NewHandlerName`).
    pub handler: Option<String>,
    /// Time per module and notification, longest first.
    pub module_times: Vec<ModuleTime>,
    /// `LOG_FILE_MAX_SIZE_TRUNCATE`: the trace hit `maxLogFileSizeKB`.
    pub truncated: bool,
    /// `GENERAL_REQUEST_END` is present.
    pub completed: bool,
    /// `AUTH_SUCCEEDED` AuthType, or the requested type.
    pub auth_type: Option<String>,
    /// `AUTH_SUCCEEDED` AuthUserName.
    pub auth_user: Option<String>,
    /// Identities used to open files (`FILE_CACHE_ACCESS_START` `UserName`).
    pub file_access_users: Vec<String>,
    /// Files whose access failed: (file, HRESULT).
    pub file_access_errors: Vec<(String, u32)>,
    /// URL Rewrite rules that matched (`RULE_EVALUATION_END` Succeeded).
    pub rewrite_rules_matched: Vec<String>,
    /// The error page body from `GENERAL_RESPONSE_ENTITY_BUFFER` (first 16 KiB).
    pub error_page: Option<String>,
    /// Client address and port from `GENERAL_ENDPOINT_INFORMATION`.
    pub client: Option<String>,
    /// The longest pause between consecutive events: (nanos, event before, event after).
    pub longest_gap: Option<(i64, String, String)>,
    /// The physical path the request mapped to (error pages).
    pub physical_path: Option<String>,
    /// The request body's length, as its `Content-Length` header says
    /// (`GENERAL_REQUEST_HEADERS`, or a module setting the header).
    pub request_bytes: Option<u64>,
    /// The source holds no time of its own: `start` is the file's
    /// modification time (error pages).
    pub time_of_file: bool,
}

/// One FREB trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// `url`: scheme://host:port/path?query.
    pub url: Option<String>,
    /// `siteId`.
    pub site_id: Option<u32>,
    /// `appPoolId`.
    pub app_pool: Option<String>,
    /// `processId` (the w3wp PID).
    pub process_id: Option<u32>,
    /// `verb`.
    pub verb: Option<String>,
    /// `remoteUserName`.
    pub remote_user_name: Option<String>,
    /// `userName`.
    pub user_name: Option<String>,
    /// `tokenUserName`: the identity of the request token (pool identity or anonymous user).
    pub token_user_name: Option<String>,
    /// `authenticationType`.
    pub authentication_type: Option<String>,
    /// `activityId`.
    pub activity_id: Option<String>,
    /// `failureReason` (`STATUS_CODE`, `TIME_TAKEN`, `EVENT_SEVERITY`, `NONE`).
    pub failure_reason: Option<String>,
    /// `statusCode` status part.
    pub status: Option<u16>,
    /// `statusCode` sub-status part (after the dot).
    pub substatus: Option<u32>,
    /// `triggerStatusCode` (`0` for TIME_TAKEN rules).
    pub trigger_status: Option<u16>,
    /// `timeTaken` in milliseconds.
    pub time_taken_ms: Option<u64>,
    /// `Computer` of the events.
    pub computer: Option<String>,
    /// The events in document order.
    pub events: Vec<TraceEvent>,
    /// Derived facts.
    pub summary: TraceSummary,
}

impl Trace {
    /// The request's time: its start, else its first event.
    pub fn time(&self) -> Option<Timestamp> {
        self.summary.start.or_else(|| self.events.iter().find_map(|e| e.time))
    }
}

/// A trace and the problems met while reading it.
#[derive(Debug, Default)]
pub struct FrebFile {
    /// The trace (as much as could be read).
    pub trace: Trace,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether its `<failedRequest>` element was read: a file cut inside
    /// it holds no request to place anywhere.
    pub has_request: bool,
}

/// `500.19` as status and sub-status (a missing or unreadable sub-status is
/// 0), and whether every part given was a number its field holds.
fn split_status(v: &str) -> (Option<u16>, Option<u32>, bool) {
    let (s, sub) = match v.split_once('.') {
        Some((s, sub)) => (s, Some(sub)),
        None => (v, None),
    };
    let status = parse_u32(s.trim().as_bytes()).and_then(|n| u16::try_from(n).ok());
    let sub_read = sub.map(|x| parse_u32(x.trim().as_bytes()));
    let whole = status.is_some() && sub_read.is_none_or(|x| x.is_some());
    (status, sub_read.flatten().or(Some(0)).filter(|_| !v.is_empty()), whole)
}

/// Reads one FREB trace file and hands its trace to one sink.
pub fn read<S>(input: &Input<'_>, new_sink: &(dyn Fn() -> S + Sync)) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
{
    let mut sink = new_sink();
    let file = parse_freb(input.data);
    if file.has_request {
        sink.trace(&file.trace)?;
    }
    file.diagnostics.into_iter().for_each(|d| sink.diagnostic(d));
    sink.chunk_done()?;
    (input.progress)(input.data.len() as u64);
    Ok(vec![sink])
}

/// Parses one FREB trace file.
pub fn parse_freb(data: &[u8]) -> FrebFile {
    let mut out = FrebFile::default();
    let text = xml_text(data, &mut out.diagnostics);
    let bytes = text.as_bytes();
    let mut lines = LineCounter::new(bytes);
    let mut interner = Interner::default();
    let mut reader = Reader::from_str(&text);
    lenient(&mut reader);
    let mut saw_root = false;
    let mut closed = false;
    // Events whose TimeCreated is no time: the first's place and value,
    // and how many.
    let mut bad_times: Option<(u64, u64, String, usize)> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let at = reader.error_position() as usize;
                out.diagnostics.push(
                    Diagnostic::line(
                        lines.line_at(at),
                        at as u64,
                        Severity::Error,
                        format!("malformed XML, the rest of the trace is not read: {e}"),
                    )
                    .losing(),
                );
                break;
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.name();
                let element = local(name.as_ref());
                if element == "failedRequest" {
                    saw_root = true;
                    let unread = read_root_attributes(&mut out.trace, e);
                    if !unread.is_empty() {
                        let start = before + leading_space(&bytes[before..]);
                        out.diagnostics.push(Diagnostic::line(
                            lines.line_at(start),
                            start as u64,
                            Severity::Warning,
                            format!(
                                "<failedRequest> {}: not a number the field can hold, left empty",
                                unread.join(", ")
                            ),
                        ));
                    }
                    if matches!(event, Event::Empty(_)) {
                        closed = true;
                    }
                } else if element == "Event" {
                    let start = before + leading_space(&bytes[before..]);
                    let line = lines.line_at(start);
                    let empty = matches!(event, Event::Empty(_));
                    match read_event(&mut reader, e, start as u64, empty) {
                        Ok(raw) => {
                            if out.trace.computer.is_none() {
                                out.trace.computer.clone_from(&raw.computer);
                            }
                            if let Some(written) = &raw.bad_time {
                                let first =
                                    bad_times.get_or_insert_with(|| (line, start as u64, written.clone(), 0));
                                first.3 += 1;
                            }
                            out.trace.events.push(trace_event(raw, line, &mut interner));
                        }
                        Err(msg) => {
                            // One broken event costs only itself: reading
                            // goes on past it, where its later events (the
                            // error status a module set) still are; a file
                            // that ends in it was cut short.
                            let cut = reader.buffer_position() as usize >= bytes.len();
                            let what = if cut { "trace cut short" } else { "event not read" };
                            let d = Diagnostic::line(
                                line,
                                start as u64,
                                Severity::Error,
                                format!("{what}: {msg}"),
                            );
                            out.diagnostics.push(if cut { d.losing() } else { d });
                            if cut {
                                break;
                            }
                        }
                    }
                }
            }
            Event::End(ref e) if local(e.name().as_ref()) == "failedRequest" => closed = true,
            Event::Eof => break,
            _ => {}
        }
    }
    out.has_request = saw_root;
    if !saw_root {
        out.diagnostics.push(Diagnostic::file(
            Severity::Error,
            "no <failedRequest> element: not a complete FREB trace, no request read",
        ));
    } else if !closed && out.diagnostics.iter().all(|d| d.severity != Severity::Error) {
        out.diagnostics.push(
            Diagnostic::file(Severity::Error, "trace cut short: the file ends before </failedRequest>")
                .losing(),
        );
    }
    out.trace.summary = summarize(&out.trace.events);
    if let Some((line, offset, written, n)) = bad_times {
        let which = if n == 1 { "an event holds".to_string() } else { format!("{n} events hold") };
        let placed = if out.trace.time().is_none() {
            "; the trace holds no other time (timelines place it at 1970-01-01)"
        } else {
            ""
        };
        out.diagnostics.push(Diagnostic::line(
            line,
            offset,
            Severity::Warning,
            format!(
                "{which} a TimeCreated that is no time a clock can place ({}{:?}): read without it{placed}",
                if n == 1 { "" } else { "the first " },
                crate::diagnostic::excerpt(written.as_bytes(), 40)
            ),
        ));
    }
    if out.trace.summary.truncated {
        // IIS stopped writing the trace there: what the request did next
        // (the module that set its status, the end) is gone.
        out.diagnostics.push(
            Diagnostic::file(
                Severity::Warning,
                "trace truncated by IIS (LOG_FILE_MAX_SIZE_TRUNCATE: maxLogFileSizeKB reached); later events are missing",
            )
            .losing(),
        );
    }
    out
}

/// Reads the trace's attributes; returns the numeric ones whose value
/// could not be read (`name="value"`), which are left empty.
fn read_root_attributes(t: &mut Trace, e: &quick_xml::events::BytesStart<'_>) -> Vec<String> {
    /// Sets a number's field; whether it was read.
    fn number<T>(field: &mut Option<T>, read: Option<T>) -> bool {
        *field = read;
        field.is_some()
    }
    let mut unread = Vec::new();
    for attr in e.attributes().with_checks(false).flatten() {
        let value = crate::xml::attr_value(&attr.value);
        let text_field = |field: &mut Option<String>| {
            *field = (!value.is_empty()).then(|| value.clone());
            true
        };
        let (key, text) = (attr.key.as_ref(), value.trim());
        let read = match key {
            "url" => text_field(&mut t.url),
            "siteId" => number(&mut t.site_id, parse_u32(text.as_bytes())),
            "appPoolId" => text_field(&mut t.app_pool),
            "processId" => number(&mut t.process_id, parse_u32(text.as_bytes())),
            "verb" => text_field(&mut t.verb),
            "remoteUserName" => text_field(&mut t.remote_user_name),
            "userName" => text_field(&mut t.user_name),
            "tokenUserName" => text_field(&mut t.token_user_name),
            "authenticationType" => text_field(&mut t.authentication_type),
            "activityId" => text_field(&mut t.activity_id),
            "failureReason" => text_field(&mut t.failure_reason),
            "statusCode" => {
                let whole;
                (t.status, t.substatus, whole) = split_status(text);
                whole
            }
            "triggerStatusCode" => {
                let whole;
                (t.trigger_status, _, whole) = split_status(text);
                whole
            }
            "timeTaken" => number(
                &mut t.time_taken_ms,
                parse_u64(text.as_bytes()).filter(|ms| *ms <= crate::time::LONGEST_REQUEST_MS),
            ),
            _ => true,
        };
        if !read && !text.is_empty() {
            unread.push(format!("{key}=\"{}\"", crate::diagnostic::excerpt(text.as_bytes(), 40)));
        }
    }
    unread
}

fn trace_event(raw: RawEvent, line: u64, interner: &mut Interner) -> TraceEvent {
    TraceEvent {
        time: raw.time_created,
        provider: interner.get(raw.provider_name.as_deref().unwrap_or("-")),
        provider_guid: raw.provider_guid.as_deref().map(|g| interner.get(g)),
        event_id: raw.event_id.unwrap_or(0),
        level: raw.level,
        opcode: raw.opcode,
        name: raw.rendering_opcode.as_deref().map(|n| interner.get(n)),
        activity_id: raw.activity_id,
        process_id: raw.process_id,
        thread_id: raw.thread_id,
        data: raw.data,
        descriptions: raw.descriptions,
        line,
        offset: raw.offset,
    }
}

const ERROR_PAGE_LIMIT: usize = 16 * 1024;

fn label(e: &TraceEvent) -> String {
    e.name.as_deref().unwrap_or("event").to_string()
}

/// Derives the analyzer's facts from the events.
fn summarize(events: &[TraceEvent]) -> TraceSummary {
    let mut s = TraceSummary::default();
    let mut open: Vec<(String, String, Timestamp)> = Vec::new();
    let mut times: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut previous: Option<&TraceEvent> = None;
    for e in events {
        if let (Some(p), Some(t)) = (previous, e.time)
            && let Some(pt) = p.time
        {
            let gap = t.0.saturating_sub(pt.0);
            if s.longest_gap.as_ref().is_none_or(|(g, _, _)| gap > *g) {
                s.longest_gap = Some((gap, label(p), label(e)));
            }
        }
        if e.time.is_some() {
            previous = Some(e);
            s.end = e.time;
        }
        let Some(name) = e.name.as_deref() else { continue };
        match name {
            "GENERAL_REQUEST_START" => s.start = s.start.or(e.time),
            "GENERAL_REQUEST_END" => s.completed = true,
            "LOG_FILE_MAX_SIZE_TRUNCATE" => s.truncated = true,
            "GENERAL_REQUEST_HEADERS" if s.request_bytes.is_none() => {
                s.request_bytes = e.data("Headers").and_then(|h| {
                    h.lines().find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.trim()
                            .eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                });
            }
            "GENERAL_SET_REQUEST_HEADER"
                if s.request_bytes.is_none()
                    && e.data("HeaderName")
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case("content-length")) =>
            {
                s.request_bytes = e.data("HeaderValue").and_then(|v| v.trim().parse().ok());
            }
            "GENERAL_ENDPOINT_INFORMATION" => {
                if let Some(addr) = e.data("RemoteAddress") {
                    s.client = Some(match e.data("RemotePort") {
                        Some(p) => format!("{addr}:{p}"),
                        None => addr.to_string(),
                    });
                }
            }
            "MODULE_SET_RESPONSE_ERROR_STATUS" if s.first_error.is_none() => {
                s.first_error = Some(ModuleError {
                    module: e.data("ModuleName").unwrap_or("-").to_string(),
                    notification: e.data("Notification").and_then(|n| parse_u32(n.trim().as_bytes())),
                    notification_name: e.description("Notification").map(str::to_string),
                    status: e
                        .data("HttpStatus")
                        .and_then(|n| parse_u32(n.trim().as_bytes()))
                        .and_then(|n| u16::try_from(n).ok()),
                    substatus: e.data("HttpSubStatus").and_then(|n| parse_u32(n.trim().as_bytes())),
                    reason: e.data("HttpReason").filter(|r| !r.is_empty()).map(str::to_string),
                    error_code: e.data("ErrorCode").and_then(parse_hresult),
                    error_text: e.description("ErrorCode").map(str::to_string),
                    config_exception: e
                        .data("ConfigExceptionInfo")
                        .filter(|c| !c.trim().is_empty())
                        .map(str::to_string),
                    time: e.time,
                    line: e.line,
                });
            }
            "HANDLER_CHANGED" => s.handler = e.data("NewHandlerName").map(str::to_string),
            "AUTH_SUCCEEDED" => {
                s.auth_type = e
                    .description("AuthType")
                    .or_else(|| e.data("AuthType"))
                    .map(str::to_string)
                    .or_else(|| s.auth_type.take());
                s.auth_user = e.data("AuthUserName").filter(|u| !u.is_empty()).map(str::to_string);
            }
            "AUTH_REQUEST_AUTH_TYPE" if s.auth_type.is_none() => {
                s.auth_type = e
                    .description("RequestAuthType")
                    .or_else(|| e.data("RequestAuthType"))
                    .map(str::to_string);
            }
            "FILE_CACHE_ACCESS_START" => {
                if let Some(user) = e.data("UserName").filter(|u| !u.is_empty()) {
                    let user = match e.data("DomainName").filter(|d| !d.is_empty()) {
                        Some(d) => format!("{d}\\{user}"),
                        None => user.to_string(),
                    };
                    if !s.file_access_users.contains(&user) {
                        s.file_access_users.push(user);
                    }
                }
            }
            "FILE_CACHE_ACCESS_END" => {
                if let Some(code) = e.data("ErrorCode").and_then(parse_hresult).filter(|c| *c != 0) {
                    let file = events
                        .iter()
                        .rev()
                        .filter(|p| p.offset < e.offset && p.is("FILE_CACHE_ACCESS_START"))
                        .find_map(|p| p.data("FileName"))
                        .unwrap_or("-");
                    s.file_access_errors.push((file.to_string(), code));
                }
            }
            "RULE_EVALUATION_END" => {
                let ok = e.data("Succeeded").is_some_and(|v| v.eq_ignore_ascii_case("true"));
                if ok && let Some(rule) = e.data("RuleName") {
                    s.rewrite_rules_matched.push(rule.to_string());
                }
            }
            "GENERAL_RESPONSE_ENTITY_BUFFER" if s.error_page.is_none() => {
                if let Some(buf) = e.data("Buffer").filter(|b| !b.is_empty()) {
                    let mut end = buf.len().min(ERROR_PAGE_LIMIT);
                    while !buf.is_char_boundary(end) {
                        end -= 1;
                    }
                    s.error_page = Some(buf[..end].to_string());
                }
            }
            "NOTIFY_MODULE_START" => {
                if let (Some(m), Some(t)) = (e.data("ModuleName"), e.time) {
                    let n = e.description("Notification").or_else(|| e.data("Notification")).unwrap_or("-");
                    open.push((m.to_string(), n.to_string(), t));
                }
            }
            "NOTIFY_MODULE_END" => {
                if let (Some(m), Some(t)) = (e.data("ModuleName"), e.time) {
                    let n = e.description("Notification").or_else(|| e.data("Notification")).unwrap_or("-");
                    if let Some(pos) = open.iter().rposition(|(om, on, _)| om == m && on == n) {
                        let (om, on, st) = open.remove(pos);
                        *times.entry((om, on)).or_default() += t.0.saturating_sub(st.0);
                    }
                }
            }
            _ => {}
        }
    }
    // Modules still open when the trace ends ran until its last event.
    if let Some(end) = s.end {
        for (m, n, st) in open {
            *times.entry((m, n)).or_default() += end.0.saturating_sub(st.0);
        }
    }
    let mut module_times: Vec<ModuleTime> = times
        .into_iter()
        .map(|((module, notification), nanos)| ModuleTime { module, notification, nanos })
        .collect();
    module_times.sort_by(|a, b| b.nanos.cmp(&a.nanos).then_with(|| a.module.cmp(&b.module)));
    s.module_times = module_times;
    s
}

/// `ErrorCode` values are decimal HRESULTs (2147942402) or hex.
fn parse_hresult(v: &str) -> Option<u32> {
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => v.parse::<i64>().ok().map(|n| n as u32),
    }
}

#[cfg(test)]
mod tests;
