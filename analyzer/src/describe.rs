//! One-line descriptions of records, and citations: every claim a finding
//! or a timeline makes names its evidence by file and line or record, with
//! a summary of what it says.

use faultline_parser::{Span, Trace, WinEvent};

use crate::evidence::{ErrRow, EventRow, RequestRow, Status, Store, TraceRow};
use crate::finding::Evidence;
use crate::resolve::SourceKind;

/// Longest event message kept on a timeline line.
pub(crate) const EVENT_TEXT: usize = 400;

/// A request's `sc-win32-status` in words: a Win32 error by its number,
/// an HRESULT (SEC_E_LOGON_DENIED, 0x8009030C) as one.
pub fn win32_status(w: u64) -> String {
    if w > 0xFFFF { format!("code {w:#X}") } else { format!("win32 {w}") }
}

/// A one-line description of an access-log row.
pub fn describe_request(stem: &str, status: Status, taken: Span, client: &str) -> String {
    let logged = (Some(status.code), Some(status.sub), Some(status.win32));
    describe_logged_request(stem, logged, u64::try_from(taken.as_millis()).ok(), client)
}

/// A row of IIS's FTP log in one line: its command, argument and the path
/// it acted on, FTP reply (with IIS's substatus and win32 status, which
/// tell a bad password, 1326, from a locked account, 1909), user and client
/// (`FTP STOR help.aspx (/wwwroot/uploads/help.aspx) 226.0 as
/// WEB01\deploy from 203.0.113.7`).
pub fn describe_ftp_command(r: &faultline_parser::Request<'_>, command: &[u8]) -> String {
    fn field(v: Option<&[u8]>) -> Option<std::borrow::Cow<'_, str>> {
        v.filter(|v| *v != b"-").map(String::from_utf8_lossy)
    }
    let mut line = format!("FTP {}", String::from_utf8_lossy(command));
    let argument = field(r.uri_stem);
    if let Some(argument) = &argument {
        line.push(' ');
        line.push_str(argument);
    }
    if let Some(full) = field(r.custom.get("x-fullpath")).filter(|f| Some(f) != argument.as_ref()) {
        line.push_str(&format!(" ({full})"));
    }
    if let Some(status) = r.status {
        line.push_str(&format!(" {status}"));
        if let Some(sub) = r.substatus {
            line.push_str(&format!(".{sub}"));
        }
        if let Some(win32) = r.win32_status.filter(|w| *w != 0) {
            line.push_str(&format!(" (win32 {win32})"));
        }
    }
    if let Some(user) = field(r.username) {
        line.push_str(&format!(" as {user}"));
    }
    line.push_str(" from ");
    line.push_str(&r.client_ip.map_or_else(|| "-".to_string(), |a| a.to_string()));
    line
}

/// [`describe_request`] of a row as read, saying only what the log wrote:
/// a status, sub-status, win32 status or time-taken the log has no field
/// for (or wrote `-`) is left out, not shown as zero.
pub fn describe_logged_request(
    stem: &str,
    (status, sub, win32): (Option<u16>, Option<u32>, Option<u64>),
    taken_ms: Option<u64>,
    client: &str,
) -> String {
    let mut line = format!("{stem} {}", status.map_or_else(|| "-".to_string(), |s| s.to_string()));
    if let Some(sub) = sub {
        line.push_str(&format!(".{sub}"));
    }
    if let Some(w) = win32 {
        line.push_str(&format!(" ({})", win32_status(w)));
    }
    if let Some(ms) = taken_ms {
        line.push_str(&format!(" in {ms} ms"));
    }
    line.push_str(&format!(" from {client}"));
    line
}

/// A one-line description of an HTTP.sys error-log row.
pub fn describe_http_error(
    status: Option<u16>,
    reason: &str,
    uri: Option<&str>,
    queue: Option<&str>,
) -> String {
    format!(
        "HTTP.sys: {} {reason} for {} (queue {})",
        status.map_or_else(|| "-".into(), |s| s.to_string()),
        uri.unwrap_or("-"),
        queue.unwrap_or("-")
    )
}

/// How a detailed error page's description ends: what its time is.
pub(crate) const FILE_TIME: &str = "; time: the file's modification time (the page holds none)";

/// A one-line description of a FREB trace: the request and the module that
/// set its error.
pub fn describe_trace(tr: &Trace) -> String {
    if tr.summary.time_of_file {
        return describe_error_page(tr);
    }
    let error = tr.summary.first_error.as_ref().map_or_else(String::new, |e| {
        format!(
            ": {} set {}.{} in {} (0x{:08X}){}",
            e.module,
            e.status.unwrap_or(0),
            e.substatus.unwrap_or(0),
            e.notification_name.as_deref().unwrap_or("-"),
            e.error_code.unwrap_or(0),
            e.config_exception.as_deref().map_or_else(String::new, |c| format!(" [{}]", c.trim()))
        )
    });
    format!(
        "FREB {} {} {}.{} in {} ms{error}",
        tr.verb.as_deref().unwrap_or("-"),
        tr.url.as_deref().unwrap_or("-"),
        tr.status.unwrap_or(0),
        tr.substatus.unwrap_or(0),
        tr.time_taken_ms.unwrap_or(0)
    )
}

/// An IIS detailed error page: status, URL, the module, notification and
/// handler that failed, the error code, the configuration error if any, and
/// where its time comes from.
fn describe_error_page(tr: &Trace) -> String {
    let mut text = format!(
        "error page {}.{} {}",
        tr.status.unwrap_or(0),
        tr.substatus.unwrap_or(0),
        tr.url.as_deref().unwrap_or("-")
    );
    if let Some(e) = &tr.summary.first_error {
        if !e.module.is_empty() {
            text.push_str(&format!(": module {}", e.module));
        }
        if let Some(n) = &e.notification_name {
            text.push_str(&format!(" in {n}"));
        }
        if let Some(h) = &tr.summary.handler {
            text.push_str(&format!(", handler {h}"));
        }
        if let Some(code) = e.error_code {
            text.push_str(&format!(", error 0x{code:08X}"));
        }
        if let Some(c) = &e.config_exception {
            text.push_str(&format!(" [{}]", c.trim()));
        }
    }
    if let Some(p) = &tr.summary.physical_path {
        text.push_str(&format!("; path {p}"));
    }
    text.push_str(FILE_TIME);
    text
}

/// What an event says, in one line an analyst can act on: provider and id,
/// then its decisive text. ANCM's message (and the exception in the stdout
/// it captured), a crash report's process and exception, ASP.NET's event
/// code, exception and URL, the ASP.NET Core logger's category and message,
/// a faulting application's module and code; other events as
/// [`describe_event`] gives them. Control characters are replaced and the
/// line is cut, so nothing from the evidence reaches a terminal raw.
pub fn headline(ev: &WinEvent) -> String {
    use faultline_parser::winevent::Family;
    let head = format!("{} {}", ev.provider, ev.event_id);
    let text = |i: usize| ev.data_at(i).map(str::trim).filter(|t| !t.is_empty());
    let exception = |t: &str| crate::exception::find(t).map(|e| format!("{}: {}", e.type_name, e.message));
    let parts: Vec<String> = match (ev.family(), ev.event_id) {
        (Family::Ancm, _) => {
            let message = text(0).unwrap_or_default();
            let said = message.split("First 30KB").next().unwrap_or(message);
            let said = said.split("Last 30KB").next().unwrap_or(said);
            let mut parts = vec![one_line(said)];
            parts.extend(exception(message));
            parts
        }
        (Family::DotNetRuntime, 1000) => {
            let t = text(0).unwrap_or_default();
            let field = |k: &str| t.lines().find_map(|l| l.strip_prefix(k)).map(str::trim);
            let body = t.split_once("\r\n\r\n").or_else(|| t.split_once("\n\n")).map_or(t, |(_, b)| b);
            let first = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
            let mut parts = vec![format!(
                "{} (EventId {}): {}",
                field("Category:").unwrap_or("-"),
                field("EventId:").unwrap_or("-"),
                one_line(first)
            )];
            if let Some((_, ex)) = body.split_once("Exception:") {
                parts.extend(exception(ex));
            }
            parts
        }
        (Family::DotNetRuntime, _) => {
            let t = text(0).unwrap_or_default();
            let app = t
                .lines()
                .find_map(|l| l.strip_prefix("Application:"))
                .map(|a| format!("process {}", a.trim()));
            let info = t
                .lines()
                .find_map(|l| l.strip_prefix("Exception Info:"))
                .map(|l| one_line(crate::exception::unclosed_cut(l)));
            let description = t.lines().find_map(|l| l.strip_prefix("Description:")).map(one_line);
            app.into_iter().chain(info.or(description)).collect()
        }
        (Family::AspNet, 1309 | 1310 | 1316) => {
            let web = crate::exception::WebEvent::of(ev);
            let code = web.code.map(|c| format!("event code {c}"));
            let thrown =
                crate::exception::web_exception(&web).map(|x| format!("{}: {}", x.type_name, x.message));
            // A refused view state says why, from whom, and what was
            // posted, by its start: a page's own state (`/wEP`) or a
            // serialized object (`/wEy`).
            let refused = (ev.event_id == 1316).then(|| {
                let client = web.client.map(|c| format!("from {c}"));
                let state = web.view_state.map(|v| format!("view state {}", cut_to(&one_line(v), 24)));
                web.event_message.map(one_line).into_iter().chain(client).chain(state)
            });
            let url = web.url.map(|u| format!("URL {}", one_line(u)));
            code.into_iter().chain(thrown).chain(url).chain(refused.into_iter().flatten()).collect()
        }
        // A logon refused: who, from where, how, and why (its status).
        (Family::SecurityAuditing, 4625) => {
            let field = |k: &str| ev.data(k).map(str::trim).filter(|v| !v.is_empty() && *v != "-");
            let user = match (field("TargetDomainName"), field("TargetUserName")) {
                (Some(domain), Some(user)) => format!("{domain}\\{user}"),
                (_, user) => user.unwrap_or("-").to_string(),
            };
            let from = field("IpAddress").or_else(|| field("WorkstationName")).unwrap_or("-");
            let why =
                [field("Status"), field("SubStatus")].into_iter().flatten().collect::<Vec<_>>().join("/");
            let why = if why.is_empty() { why } else { format!(" ({why})") };
            vec![format!(
                "logon type {} refused for {user} from {from}{why}",
                field("LogonType").unwrap_or("-")
            )]
        }
        (Family::ServiceControlManager, 7036) => match (text(0), text(1)) {
            (Some(service), Some(state)) => {
                let named = match service.to_ascii_lowercase().ends_with("service") {
                    true => service.to_string(),
                    false => format!("the {service} service"),
                };
                vec![format!("{named} entered the {state} state")]
            }
            _ => Vec::new(),
        },
        (Family::AspNet, 1325) => {
            let t = text(0).unwrap_or_default();
            let field = |k: &str| t.lines().find_map(|l| l.trim().strip_prefix(k)).map(one_line);
            field("Exception:").into_iter().chain(field("Message:")).collect()
        }
        (Family::ApplicationError, 1000) => vec![format!(
            "{} faulted in {} with exception code {}",
            one_line(text(0).unwrap_or("-")),
            one_line(text(3).unwrap_or("-")),
            one_line(text(6).unwrap_or("-"))
        )],
        _ => return describe_event(ev),
    };
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return describe_event(ev);
    }
    cut(format!("{head}: {}", parts.join("; ")))
}

/// Text on one line: runs of white space (line breaks, tabs) become one
/// space, and other control characters are written escaped (`\u{1b}`), as
/// every table and CSV writes them: a request's path with an escape
/// sequence in it reads, and is searched for, the same in its summary.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        push_escaped(&mut out, word);
    }
    out
}

/// Appends `text` with its control characters escaped (`\u{1b}`, `\r`).
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

/// Text from the evidence as one safe line: control characters replaced,
/// cut to a line's length.
pub fn cut_line(text: String) -> String {
    // Most summaries already are one line of printable ASCII with single
    // spaces: kept as they are (a request's summary is made for every
    // 404 of a day).
    let bytes = text.as_bytes();
    let mut last = b' ';
    let plain = bytes.iter().all(|&b| {
        let keep = (b'!'..=b'~').contains(&b) || (b == b' ' && last != b' ');
        last = b;
        keep
    }) && last != b' ';
    if plain {
        return cut(text);
    }
    cut(one_line(&text))
}

/// A line cut to [`EVENT_TEXT`] characters' worth of bytes.
fn cut(text: String) -> String {
    if text.len() > EVENT_TEXT { cut_to(&text, EVENT_TEXT) } else { text }
}

/// `text` as it is when it holds at most `limit` bytes; otherwise its
/// first `limit` bytes' worth of characters, ended with `…`.
pub fn cut_to(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let end = (0..=limit).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!("{}…", &text[..end])
}

/// The first `shown` of `items` joined by commas, then how many more there
/// are (`4000, 4003 and 99998 more`): a finding's text names a few of what
/// a flood may hold thousands of.
pub fn listed<T: AsRef<str>>(items: &[T], shown: usize) -> String {
    let named = items.iter().take(shown).map(AsRef::as_ref).collect::<Vec<&str>>().join(", ");
    match items.len().saturating_sub(shown) {
        0 => named,
        more => format!("{named} and {more} more"),
    }
}

/// A one-line description of any Windows event: provider, id and its data.
pub fn describe_event(ev: &WinEvent) -> String {
    describe_event_leading(ev, &|_| false)
}

/// [`describe_event`] with the data values whose names `leading` picks
/// first (what a rule matched, before the line is cut).
pub fn describe_event_leading(ev: &WinEvent, leading: &dyn Fn(&str) -> bool) -> String {
    describe_event_ranked(ev, &|name| if leading(name) { 0 } else { 1 })
}

/// [`describe_event`] with the data values in the order `rank` gives
/// their names (lowest first; unnamed values last), each rank in the
/// event's own order.
pub fn describe_event_ranked(ev: &WinEvent, rank: &dyn Fn(&str) -> u8) -> String {
    let mut text = format!("{} {}", ev.provider, ev.event_id);
    if ev.data_unread {
        text.push_str(": its data could not be read (a damaged record)");
        return text;
    }
    let mut first = true;
    let mut ordered: Vec<&faultline_parser::winevent::DataValue> = ev.data.iter().collect();
    ordered.sort_by_key(|d| d.name.as_deref().map_or(u8::MAX, rank));
    for d in ordered {
        let value = d.value.trim();
        if value.is_empty() {
            continue;
        }
        text.push_str(if first { ": " } else { "; " });
        first = false;
        if let Some(name) = &d.name {
            text.push_str(name);
            text.push('=');
        }
        // Line breaks in event data (a WER report's file list) shown as
        // the escapes `\r\n`, once: the text stays one line and a printer
        // has no control character left to escape again.
        push_escaped(&mut text, value);
        if text.len() > EVENT_TEXT {
            let cut = (0..=EVENT_TEXT).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text.truncate(cut);
            text.push('…');
            break;
        }
    }
    text
}

impl Store {
    /// Evidence for an event.
    pub fn cite_event(&self, e: &EventRow, summary: String) -> Evidence {
        Evidence {
            source: self.kind(e.source),
            path: self.path(e.source),
            line: e.event.origin.line(),
            record: e.event.record_id,
            time: e.event.time,
            summary,
        }
    }

    /// Evidence for a request row.
    pub fn cite_request(&self, r: &RequestRow) -> Evidence {
        Evidence {
            source: SourceKind::W3c,
            path: self.path(r.source),
            line: Some(r.line),
            record: None,
            time: r.time,
            summary: describe_request(&r.stem, r.status, r.taken, &r.client),
        }
    }

    /// Evidence for an HTTPERR row.
    pub fn cite_error(&self, r: &ErrRow) -> Evidence {
        Evidence {
            source: SourceKind::Httperr,
            path: self.path(r.source),
            line: Some(r.line),
            record: None,
            time: r.time,
            summary: describe_http_error(r.status, &r.phrase, r.uri.as_deref(), r.queue.as_deref()),
        }
    }

    /// Evidence for a FREB trace.
    pub fn cite_trace(&self, t: &TraceRow) -> Evidence {
        let tr = &t.trace;
        let logged = self
            .request_of_trace(t)
            .map_or_else(String::new, |r| format!(" (logged at {}:{})", self.path(r.source), r.line));
        Evidence {
            source: self.kind(t.source),
            path: self.path(t.source),
            line: None,
            record: None,
            time: tr.time().unwrap_or_default(),
            summary: format!("{}{logged}", describe_trace(tr)),
        }
    }
}

/// A span as an analyst reads it: `733 ms`, `45 s`, `12 min`, `3 h 5 min`, `4 d 2 h`.
pub fn duration(span: Span) -> String {
    // Under a second, "0 s" would say nothing.
    if span > Span(0) && span < Span::secs(1) {
        return format!("{} ms", span.as_millis());
    }
    let secs = span.as_secs().max(0);
    match secs {
        0..120 => format!("{secs} s"),
        120..7_200 => format!("{} min", secs / 60),
        7_200..172_800 => format!("{} h {} min", secs / 3_600, secs % 3_600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use faultline_parser::winevent::{DataValue, WinEvent};

    use super::{cut, cut_line, describe_event, describe_logged_request, listed, one_line};

    fn event(provider: &str, id: u16, data: &[(Option<&str>, &str)]) -> WinEvent {
        WinEvent {
            provider: Arc::from(provider),
            event_id: id,
            data: data
                .iter()
                .map(|(n, v)| DataValue { name: n.map(Arc::from), value: Arc::from(*v) })
                .collect(),
            ..WinEvent::default()
        }
    }

    /// A refused view state reads as its message, page, client and the
    /// start of what was posted, found by their form.
    #[test]
    fn a_refused_view_state_reads_as_who_posted_what_where() {
        let mut values = vec!["4009", "Viewstate verification failed. Reason: Viewstate was invalid."];
        values.extend([
            "",
            "",
            "5f0c",
            "12",
            "1",
            "50204",
            "/LM/W3SVC/2/ROOT-1-1",
            "Full",
            "/",
            "C:\\site\\",
        ]);
        values.extend(["WEB01", "5120", "w3wp.exe", "IIS APPPOOL\\Shop", "https://shop.example.com/a.aspx"]);
        values.extend([
            "/a.aspx",
            "",
            "",
            "False",
            "",
            "IIS APPPOOL\\Shop",
            "Invalid viewstate.",
            "203.0.113.9",
        ]);
        values.extend(["51234", "Mozilla/5.0", "/wEyxBEAAQAAAP////8BAAAAAAAAAAwCAAAA", "", "/a.aspx"]);
        let data: Vec<(Option<&str>, &str)> = values.iter().map(|v| (None, *v)).collect();
        assert_eq!(
            super::headline(&event("ASP.NET 4.0.30319.0", 1316, &data)),
            "ASP.NET 4.0.30319.0 1316: event code 4009; URL https://shop.example.com/a.aspx; Viewstate \
             verification failed. Reason: Viewstate was invalid.; from 203.0.113.9; view state \
             /wEyxBEAAQAAAP////8BAAAA…"
        );
    }

    /// A service's state change and a refused logon read as sentences,
    /// not as their data's names.
    #[test]
    fn a_service_state_and_a_refused_logon_read_as_what_they_say() {
        let scm = |name| {
            event("Service Control Manager", 7036, &[(Some("param1"), name), (Some("param2"), "stopped")])
        };
        assert_eq!(
            super::headline(&scm("Windows Event Log")),
            "Service Control Manager 7036: the Windows Event Log service entered the stopped state"
        );
        assert_eq!(
            super::headline(&scm("World Wide Web Publishing Service")),
            "Service Control Manager 7036: World Wide Web Publishing Service entered the stopped state"
        );
        let refused = event(
            "Microsoft-Windows-Security-Auditing",
            4625,
            &[
                (Some("SubjectUserSid"), "S-1-0-0"),
                (Some("TargetUserName"), "Administrator"),
                (Some("TargetDomainName"), "WEB01"),
                (Some("Status"), "0xc000006d"),
                (Some("SubStatus"), "0xc000006a"),
                (Some("LogonType"), "3"),
                (Some("IpAddress"), "192.168.198.149"),
            ],
        );
        assert_eq!(
            super::headline(&refused),
            "Microsoft-Windows-Security-Auditing 4625: logon type 3 refused for WEB01\\Administrator from \
             192.168.198.149 (0xc000006d/0xc000006a)"
        );
    }

    /// A row of a log without sub-status, win32 status or time-taken
    /// (know-it-peru's ex031118.log, an NCSA log) says only what it logged.
    #[test]
    fn a_logged_request_says_only_what_its_log_wrote() {
        let full = describe_logged_request("/a", (Some(500), Some(19), Some(13)), Some(12), "10.0.0.9");
        assert_eq!(full, "/a 500.19 (win32 13) in 12 ms from 10.0.0.9");
        assert_eq!(
            describe_logged_request("/Default.htm", (None, None, None), None, "-"),
            "/Default.htm - from -"
        );
        assert_eq!(
            describe_logged_request("/x", (Some(400), None, None), None, "1.2.3.4"),
            "/x 400 from 1.2.3.4"
        );
    }

    /// The plain-line shortcut gives what the full cleaning gives.
    #[test]
    fn a_line_already_clean_is_kept_and_any_other_is_cleaned() {
        let long = "GET /".to_string() + &"a".repeat(400);
        for text in [
            "GET /shop/cart.aspx?id=1 404 from 10.0.0.1",
            "",
            " leading",
            "trailing ",
            "two  spaces",
            "tab\there",
            "line\nbreak",
            "nbsp\u{a0}between",
            "caf\u{e9} 200",
            "bell\u{7}",
            "del\u{7f}",
            long.as_str(),
        ] {
            assert_eq!(cut_line(text.to_string()), cut(one_line(text)), "{text:?}");
        }
        assert_eq!(cut_line("GET / 404".into()), "GET / 404");
        assert_eq!(cut_line("a \t b".into()), "a b");
    }

    #[test]
    fn line_breaks_in_event_data_are_shown_as_escapes_once() {
        let files = "C:\\ProgramData\\WER\\Report.wer\r\nC:\\Windows\\memory.hdmp\u{1b}[2J";
        let e = WinEvent {
            provider: Arc::from("Windows Error Reporting"),
            event_id: 1001,
            data: vec![DataValue { name: None, value: Arc::from(files) }],
            ..WinEvent::default()
        };
        let text = describe_event(&e);
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.ends_with("Report.wer\\r\\nC:\\Windows\\memory.hdmp\\u{1b}[2J"), "{text}");
    }

    #[test]
    fn a_list_names_its_first_few_and_counts_the_rest() {
        assert_eq!(listed(&["4000", "4003"], 3), "4000, 4003");
        assert_eq!(listed(&["a", "b", "c"], 3), "a, b, c");
        assert_eq!(listed(&["a", "b", "c", "d", "e"], 3), "a, b, c and 2 more");
        assert_eq!(listed::<&str>(&[], 3), "");
    }

    /// Line breaks and tabs are spaces; an escape sequence an attacker put
    /// in a path is shown escaped, as the tables show it, not blanked.
    #[test]
    fn a_line_escapes_control_characters_and_joins_its_lines() {
        assert_eq!(
            cut_line("GET /a\u{1b}[31mb\tc\r\n  d\u{7f}".to_string()),
            "GET /a\\u{1b}[31mb c d\\u{7f}"
        );
        assert_eq!(cut_line("plain line".to_string()), "plain line");
    }
}
