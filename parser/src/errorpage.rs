//! IIS detailed error pages (`HTTP Error 500.30 - Internal Server Error`),
//! as IIS 7 and later write them to the client and as App Service keeps them
//! in `LogFiles/DetailedErrors/ErrorPage*.htm`. A page describes one failed
//! request: status and sub-status, the module and notification that failed,
//! the handler, the error code (an HRESULT), the requested URL, the physical
//! path, the logon method and user, and for configuration errors the file and
//! message. It is read as a [`Trace`] (the request-detail record FREB traces
//! give too), so every consumer of traces takes pages as well.
//!
//! A page holds no time of its own: the record's time is the file's
//! modification time (an archive member's entry time), and the summary says
//! so ([`crate::freb::TraceSummary::time_of_file`]).

use crate::diagnostic::{Diagnostic, Severity};
use crate::freb::{ModuleError, Trace, TraceSummary};
use crate::value::parse_u32;
use crate::{Input, RecordSink};

/// Whether a document's head is an IIS detailed error page.
pub fn looks_like_error_page(head: &[u8]) -> bool {
    let find = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    // A page cut short loses the help link and the table at its end; its
    // title still names it (`<title>IIS Detailed Error - 503.0 - ...`).
    find(b"IIS70Error=")
        || (find(b"Detailed Error") && find(b"<th>Module</th>"))
        || (find(b"<title>IIS ") && find(b"Detailed Error - "))
}

/// Reads one error page and hands its request to one sink.
pub fn read<S>(input: &Input<'_>, new_sink: &(dyn Fn() -> S + Sync)) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
{
    let mut sink = new_sink();
    let (trace, diagnostics) = parse_page(input.data, input.modified);
    if let Some(trace) = trace {
        sink.trace(&trace)?;
    }
    diagnostics.into_iter().for_each(|d| sink.diagnostic(d));
    sink.chunk_done()?;
    (input.progress)(input.data.len() as u64);
    Ok(vec![sink])
}

/// Parses a page; `modified` is the file's modification time.
pub fn parse_page(data: &[u8], modified: Option<crate::Timestamp>) -> (Option<Trace>, Vec<Diagnostic>) {
    let text = String::from_utf8_lossy(data);
    let mut diagnostics = Vec::new();
    let heading = between(&text, "<h3>", "</h3>").map(|(at, h)| (at, plain(h)));
    let link = text.find("IIS70Error=").map(|at| {
        let rest = &text[at + "IIS70Error=".len()..];
        let end = rest.find(['"', '&', '<', '\'']).unwrap_or(rest.len());
        rest[..end].split(',').map(str::trim).map(str::to_string).collect::<Vec<_>>()
    });
    // `HTTP Error 500.30 - Internal Server Error`, else the link's numbers.
    let (mut status, mut substatus, mut reason) = (None, None, None);
    if let Some((_, h)) = &heading {
        let body = h.trim_start_matches("HTTP Error").trim();
        let (code, why) = body.split_once(" - ").unwrap_or((body, ""));
        let (s, sub) = code.split_once('.').unwrap_or((code, "0"));
        status = parse_u32(s.trim().as_bytes()).and_then(|n| u16::try_from(n).ok());
        substatus = parse_u32(sub.trim().as_bytes());
        reason = Some(why.trim().to_string()).filter(|r| !r.is_empty());
    }
    if let Some(parts) = &link {
        status = status.or_else(|| {
            parts.first().and_then(|s| parse_u32(s.as_bytes())).and_then(|n| u16::try_from(n).ok())
        });
        substatus = substatus.or_else(|| parts.get(1).and_then(|s| parse_u32(s.as_bytes())));
    }
    if status.is_none() {
        diagnostics.push(Diagnostic::file(
            Severity::Error,
            "no HTTP status in the page: not an IIS detailed error page",
        ));
        return (None, diagnostics);
    }
    let rows = rows(&text);
    let field =
        |name: &str| rows.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(name)).map(|(_, v, _)| v.clone());
    let line_of = |at: usize| 1 + text.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u64;
    let error_code = field("Error Code")
        .and_then(|c| parse_hresult(&c))
        .or_else(|| link.as_ref().and_then(|p| p.get(2)).and_then(|c| parse_hresult(c)));
    let config = {
        let parts: Vec<String> =
            [("Config File", field("Config File")), ("Config Error", field("Config Error"))]
                .into_iter()
                .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| format!("{k}: {v}")))
                .chain(between(&text, "Config Source:", "</pre>").map(|(_, s)| {
                    let source = plain(s.split_once("<pre>").map_or(s, |(_, p)| p));
                    format!("Config Source: {}", source.split_whitespace().collect::<Vec<_>>().join(" "))
                }))
                .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    };
    let first_row_line = rows
        .first()
        .map_or_else(|| heading.as_ref().map_or(1, |(at, _)| line_of(*at)), |(_, _, at)| line_of(*at));
    let trace = Trace {
        url: field("Requested URL"),
        status,
        substatus,
        verb: None,
        summary: TraceSummary {
            start: modified,
            end: modified,
            first_error: Some(ModuleError {
                module: field("Module").unwrap_or_default(),
                notification_name: field("Notification"),
                status,
                substatus,
                reason,
                error_code,
                error_text: between(&text, "</h3>", "</h4>")
                    .map(|(_, d)| plain(d.split_once("<h4>").map_or(d, |(_, h)| h))),
                config_exception: config,
                time: modified,
                line: first_row_line,
                ..ModuleError::default()
            }),
            handler: field("Handler"),
            completed: true,
            auth_type: field("Logon Method"),
            auth_user: field("Logon User"),
            physical_path: field("Physical Path"),
            time_of_file: true,
            ..TraceSummary::default()
        },
        ..Trace::default()
    };
    if modified.is_none() {
        diagnostics.push(Diagnostic::file(
            Severity::Warning,
            "the page holds no time and the file has no modification time a clock can place (none, before 1970 \
             or after 2262): its request is not placed in time",
        ));
    }
    // IIS writes the page whole: one without its end was cut by a copy.
    let end = text.trim_end().as_bytes();
    if !end.get(end.len().saturating_sub(7)..).is_some_and(|e| e.eq_ignore_ascii_case(b"</html>")) {
        diagnostics.push(
            Diagnostic::file(
                Severity::Warning,
                "the page ends before </html> (cut short): what it showed past that is not read",
            )
            .losing(),
        );
    }
    (Some(trace), diagnostics)
}

/// The text between the first `open` and the next `close` after it, with
/// the offset where it starts.
fn between<'t>(text: &'t str, open: &str, close: &str) -> Option<(usize, &'t str)> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some((start, &text[start..end]))
}

/// The `<th>name</th><td>value</td>` rows, in order, with each row's offset.
fn rows(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("<th>").map(|i| i + from) {
        let Some((_, name)) = between(&text[at..], "<th>", "</th>") else { break };
        let after = at + 4 + name.len() + 5;
        let value = text[after..]
            .trim_start()
            .strip_prefix("<td>")
            .and_then(|rest| rest.find("</td>").map(|end| plain(&rest[..end])));
        if let Some(value) = value {
            out.push((plain(name), value, at));
        }
        from = after;
    }
    out
}

/// Markup stripped and entities decoded, spaces collapsed at the ends.
fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&raquo;", "»")
        .replace("&amp;", "&");
    decoded.trim().to_string()
}

/// `0x8007023e` (or decimal) as a number.
fn parse_hresult(text: &str) -> Option<u32> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex.trim(), 16).ok(),
        None => t.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<html><head><title>IIS Detailed Error - 500.19 - Internal Server Error</title></head><body>\n\
        <h3>HTTP Error 500.19 - Internal Server Error</h3> \n\
        <h4>The requested page cannot be accessed because the related configuration data for the page is invalid.</h4> \n\
        <table><tr class=\"alt\"><th>Module</th><td>&nbsp;&nbsp;&nbsp;IIS Web Core</td></tr> \n\
        <tr><th>Notification</th><td>&nbsp;&nbsp;&nbsp;BeginRequest</td></tr> \n\
        <tr class=\"alt\"><th>Handler</th><td>&nbsp;&nbsp;&nbsp;Not yet determined</td></tr> \n\
        <tr><th>Error Code</th><td>&nbsp;&nbsp;&nbsp;0x8007000d</td></tr> \n\
        <tr class=\"alt\"><th>Config Error</th><td>&nbsp;&nbsp;&nbsp;Configuration file is not well-formed XML</td></tr> \n\
        <tr><th>Config File</th><td>&nbsp;&nbsp;&nbsp;\\\\?\\C:\\inetpub\\shop\\web.config</td></tr> \n\
        <tr class=\"alt\"><th>Requested URL</th><td>&nbsp;&nbsp;&nbsp;http://localhost:80/shop/</td></tr> \n\
        <tr><th>Physical Path</th><td>&nbsp;&nbsp;&nbsp;C:\\inetpub\\shop\\</td></tr> \n\
        <tr class=\"alt\"><th>Logon Method</th><td>&nbsp;&nbsp;&nbsp;Not yet determined</td></tr> \n\
        </table><fieldset><h4>Config Source:</h4><pre>   12: &lt;rewrite&gt;\n   13: </pre></fieldset>\n\
        <a href=\"http://go.microsoft.com/fwlink/?LinkID=62293&amp;IIS70Error=500,19,0x8007000d,17763\">more</a></body></html>";

    #[test]
    fn a_configuration_error_page_gives_its_module_code_and_file() {
        let t = crate::Timestamp::from_parts(1_763_990_400, 0);
        let (trace, diags) = parse_page(PAGE.as_bytes(), Some(t));
        let trace = trace.expect("a request");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!((trace.status, trace.substatus), (Some(500), Some(19)));
        assert_eq!(trace.url.as_deref(), Some("http://localhost:80/shop/"));
        assert_eq!(trace.time(), Some(t));
        let e = trace.summary.first_error.expect("the failing module");
        assert_eq!(e.module, "IIS Web Core");
        assert_eq!(e.notification_name.as_deref(), Some("BeginRequest"));
        assert_eq!(e.error_code, Some(0x8007_000D));
        assert_eq!(e.line, 4);
        let config = e.config_exception.expect("config");
        assert!(
            config.contains("web.config")
                && config.contains("not well-formed")
                && config.contains("<rewrite>"),
            "{config}"
        );
        assert_eq!(trace.summary.physical_path.as_deref(), Some("C:\\inetpub\\shop\\"));
        assert!(trace.summary.time_of_file);
    }

    #[test]
    fn the_link_alone_still_gives_the_status_and_code() {
        let page = "<html><h2>Erreur</h2><a href=\"x?IIS70Error=503,0,0x8007045b,20348\">plus</a></html>";
        let (trace, _) = parse_page(page.as_bytes(), None);
        let trace = trace.expect("a request");
        assert_eq!((trace.status, trace.substatus), (Some(503), Some(0)));
        assert_eq!(trace.summary.first_error.and_then(|e| e.error_code), Some(0x8007_045B));
        let (none, diags) = parse_page(b"<html>hello</html>", None);
        assert!(none.is_none() && !diags.is_empty());
        assert!(looks_like_error_page(PAGE.as_bytes()) && !looks_like_error_page(b"<html>hi</html>"));
    }

    /// A page a copy cut short (its table and help link gone) is still told
    /// by its title, read as far as it goes, and says what it lost.
    #[test]
    fn a_page_cut_short_is_read_and_says_so() {
        let cut = &PAGE[..PAGE.find("<tr").expect("a table row")];
        assert!(looks_like_error_page(cut.as_bytes()));
        let t = crate::Timestamp::from_parts(1_763_990_400, 0);
        let (trace, diags) = parse_page(cut.as_bytes(), Some(t));
        assert_eq!(trace.expect("a request").status, Some(500));
        assert!(
            diags.iter().any(|d| d.lost && d.message.starts_with("the page ends before </html> (cut short)")),
            "{diags:?}"
        );
    }
}
