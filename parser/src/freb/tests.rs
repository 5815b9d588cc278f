use super::*;

fn event(name: &str, time: &str, data: &[(&str, &str)], desc: &[(&str, &str)]) -> String {
    let data: String = data.iter().map(|(n, v)| format!("  <Data Name=\"{n}\">{v}</Data>\n")).collect();
    let desc: String = desc
        .iter()
        .map(|(n, v)| format!("  <freb:Description Data=\"{n}\">{v}</freb:Description>\n"))
        .collect();
    format!(
        "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n <System>\n  <Provider Name=\"WWW Server\" Guid=\"{{3A2A4E84-4C21-4981-AE10-3FDA0D9B0F83}}\"/>\n  <EventID>0</EventID>\n  <Level>3</Level>\n  <Opcode>16</Opcode>\n  <TimeCreated SystemTime=\"{time}\"/>\n  <Correlation ActivityID=\"{{X}}\"/>\n  <Execution ProcessID=\"4242\" ThreadID=\"17\"/>\n  <Computer>WEB01</Computer>\n </System>\n <EventData>\n{data} </EventData>\n <RenderingInfo Culture=\"en-US\">\n  <Opcode>{name}</Opcode>\n{desc} </RenderingInfo>\n</Event>\n"
    )
}

fn trace(events: &[String], close: bool) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<?xml-stylesheet type='text/xsl' href='freb.xsl'?>\n<failedRequest url=\"https://shop.example.com:443/web.config?a=1&amp;b=2\"\n               siteId=\"2\"\n               appPoolId=\"ShopPool\"\n               processId=\"4242\"\n               verb=\"GET\"\n               tokenUserName=\"IIS APPPOOL\\ShopPool\"\n               authenticationType=\"anonymous\"\n               activityId=\"{X}\"\n               failureReason=\"STATUS_CODE\"\n               statusCode=\"500.19\"\n               triggerStatusCode=\"500\"\n               timeTaken=\"31\"\n               xmlns:freb=\"http://schemas.microsoft.com/win/2006/06/iis/freb\"\n               >\n",
    );
    for e in events {
        s.push_str(e);
    }
    if close {
        s.push_str("</failedRequest>\n");
    }
    s
}

fn config_error_trace(close: bool, end: bool) -> String {
    let mut events = vec![
        event(
            "GENERAL_REQUEST_START",
            "2024-05-01T10:00:00.100Z",
            &[("SiteId", "2"), ("RequestURL", "/x")],
            &[],
        ),
        event(
            "GENERAL_ENDPOINT_INFORMATION",
            "2024-05-01T10:00:00.100Z",
            &[("RemoteAddress", "203.0.113.7"), ("RemotePort", "50123")],
            &[],
        ),
        event(
            "NOTIFY_MODULE_START",
            "2024-05-01T10:00:00.100Z",
            &[("ModuleName", "ConfigurationValidationModule"), ("Notification", "1")],
            &[("Notification", "BEGIN_REQUEST")],
        ),
        event(
            "FILE_CACHE_ACCESS_START",
            "2024-05-01T10:00:00.105Z",
            &[("FileName", "C:\\site\\web.config"), ("UserName", "ShopPool"), ("DomainName", "IIS APPPOOL")],
            &[],
        ),
        event(
            "FILE_CACHE_ACCESS_END",
            "2024-05-01T10:00:00.106Z",
            &[("Successful", "false"), ("ErrorCode", "2147942405")],
            &[],
        ),
        event(
            "MODULE_SET_RESPONSE_ERROR_STATUS",
            "2024-05-01T10:00:00.120Z",
            &[
                ("ModuleName", "IIS Web Core"),
                ("Notification", "1"),
                ("HttpStatus", "500"),
                ("HttpReason", "Internal Server Error"),
                ("HttpSubStatus", "19"),
                ("ErrorCode", "2147942405"),
                (
                    "ConfigExceptionInfo",
                    "\\\\?\\C:\\site\\web.config ( 0) :Cannot read configuration file due to insufficient permissions",
                ),
            ],
            &[("Notification", "BEGIN_REQUEST"), ("ErrorCode", "Access is denied. (0x80070005)")],
        ),
        event(
            "NOTIFY_MODULE_END",
            "2024-05-01T10:00:00.125Z",
            &[("ModuleName", "ConfigurationValidationModule"), ("Notification", "1")],
            &[("Notification", "BEGIN_REQUEST")],
        ),
        event(
            "GENERAL_RESPONSE_ENTITY_BUFFER",
            "2024-05-01T10:00:00.126Z",
            &[("Buffer", "&lt;h1&gt;HTTP Error 500.19&lt;/h1&gt;")],
            &[],
        ),
    ];
    if end {
        events.push(event(
            "GENERAL_REQUEST_END",
            "2024-05-01T10:00:00.131Z",
            &[("HttpStatus", "500"), ("HttpSubStatus", "19")],
            &[],
        ));
    }
    trace(&events, close)
}

#[test]
fn attributes_events_and_derived_facts() {
    let file = parse_freb(config_error_trace(true, true).as_bytes());
    assert_eq!(file.diagnostics, []);
    let t = &file.trace;
    assert_eq!(t.url.as_deref(), Some("https://shop.example.com:443/web.config?a=1&b=2"));
    assert_eq!((t.site_id, t.process_id), (Some(2), Some(4242)));
    assert_eq!(t.app_pool.as_deref(), Some("ShopPool"));
    assert_eq!(t.token_user_name.as_deref(), Some("IIS APPPOOL\\ShopPool"));
    assert_eq!((t.status, t.substatus, t.trigger_status), (Some(500), Some(19), Some(500)));
    assert_eq!(t.time_taken_ms, Some(31));
    assert_eq!(t.computer.as_deref(), Some("WEB01"));
    assert_eq!(t.events.len(), 9);
    assert_eq!(t.events[0].name.as_deref(), Some("GENERAL_REQUEST_START"));
    assert_eq!(t.events[0].line, 17);
    assert_eq!(t.events[0].thread_id, Some(17));

    let s = &t.summary;
    assert!(s.completed && !s.truncated);
    assert_eq!(s.start.map(|t| t.to_rfc3339()).as_deref(), Some("2024-05-01T10:00:00.100000000Z"));
    let err = s.first_error.as_ref().expect("error status");
    assert_eq!(err.module, "IIS Web Core");
    assert_eq!(err.notification_name.as_deref(), Some("BEGIN_REQUEST"));
    assert_eq!((err.status, err.substatus, err.error_code), (Some(500), Some(19), Some(0x8007_0005)));
    assert!(err.config_exception.as_deref().is_some_and(|c| c.contains("insufficient permissions")));
    assert_eq!(s.file_access_users, ["IIS APPPOOL\\ShopPool"]);
    assert_eq!(s.file_access_errors, [("C:\\site\\web.config".to_string(), 0x8007_0005)]);
    assert_eq!(s.error_page.as_deref(), Some("<h1>HTTP Error 500.19</h1>"));
    assert_eq!(s.client.as_deref(), Some("203.0.113.7:50123"));
    assert_eq!(s.module_times[0].module, "ConfigurationValidationModule");
    assert_eq!(s.module_times[0].nanos, 25_000_000);
}

#[test]
fn cut_short_traces_keep_what_was_read() {
    let full = config_error_trace(false, false);
    let file = parse_freb(full.as_bytes());
    assert_eq!(file.trace.events.len(), 8);
    assert!(!file.trace.summary.completed);
    assert!(file.diagnostics[0].message.contains("before </failedRequest>"), "{:?}", file.diagnostics);

    let cut = &full[..full.len() - 200];
    let file = parse_freb(cut.as_bytes());
    assert_eq!(file.trace.events.len(), 7);
    assert_eq!(file.trace.status, Some(500));
    assert!(
        file.diagnostics.iter().any(|d| d.message.starts_with("trace cut short")),
        "{:?}",
        file.diagnostics
    );
    assert!(file.has_request);
    // Cut inside the request's own attributes: no request to place.
    let head = &full[..full.find("siteId").expect("an attribute") + 10];
    let file = parse_freb(head.as_bytes());
    assert!(!file.has_request, "{:?}", file.diagnostics);
    assert!(file.diagnostics.iter().any(|d| d.message.contains("no request read")), "{:?}", file.diagnostics);
}

/// A broken event in the middle of a trace costs only itself: the module
/// that set the error status, later in the trace, is still read.
#[test]
fn a_broken_event_mid_trace_costs_only_itself() {
    let full = config_error_trace(true, true);
    let event = "<Event xmlns=";
    let first = full.find(event).expect("an event");
    let at = first + 1 + full[first + 1..].find(event).expect("a second");
    let broken = "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"WWW Server\"/></System><EventData><Data Name=\"x\">a < b</Data></EventData></Event>\n";
    let trace = format!("{}{broken}{}", &full[..at], &full[at..]);
    let file = parse_freb(trace.as_bytes());
    let names = |f: &FrebFile| f.trace.events.iter().map(|e| format!("{:?}", e.name)).collect::<Vec<_>>();
    assert_eq!(names(&file), names(&parse_freb(full.as_bytes())), "{:?}", file.diagnostics);
    assert_eq!(file.trace.summary.first_error.as_ref().map(|e| e.module.as_str()), Some("IIS Web Core"));
    assert!(
        file.diagnostics.iter().any(|d| d.message.starts_with("event not read")),
        "{:?}",
        file.diagnostics
    );
}

#[test]
fn not_a_trace() {
    let file = parse_freb(b"<html><body>nope</body></html>");
    assert!(file.trace.events.is_empty());
    assert!(file.diagnostics[0].message.contains("no <failedRequest>"));
}

#[test]
fn events_centuries_apart_do_not_overflow_the_summary() {
    // Found by fuzzing: a gap between years 1012 and 2025 overflowed i64.
    let events = vec![
        event("GENERAL_REQUEST_START", "1012-11-24T13:24:11.366Z", &[("SiteId", "2")], &[]),
        event("MODULE_SET_RESPONSE_ERROR_STATUS", "2025-11-24T13:24:11.366Z", &[], &[]),
        event("GENERAL_REQUEST_END", "2025-11-24T13:24:12.366Z", &[], &[]),
    ];
    let file = parse_freb(trace(&events, true).as_bytes());
    assert_eq!(file.trace.events.len(), 3);
    assert!(file.trace.time().is_some());
}

/// The request body's length: from the headers IIS logged, or from a
/// module setting `Content-Length` (pcdccam's trace, ANCM's proxy: 526108463).
#[test]
fn the_request_body_length_is_read_from_its_header() {
    let start = event("GENERAL_REQUEST_START", "2024-05-01T10:00:00.100Z", &[("SiteId", "2")], &[]);
    let logged = event(
        "GENERAL_REQUEST_HEADERS",
        "2024-05-01T10:00:00.100Z",
        &[("Headers", "Connection: Keep-Alive\nContent-Length: 4096\nHost: shop")],
        &[],
    );
    let file = parse_freb(trace(&[start.clone(), logged], true).as_bytes());
    assert_eq!(file.trace.summary.request_bytes, Some(4096));
    let set = event(
        "GENERAL_SET_REQUEST_HEADER",
        "2024-05-01T10:00:00.200Z",
        &[("HeaderName", "Content-Length"), ("HeaderValue", "526108463"), ("Replace", "true")],
        &[],
    );
    let other = event(
        "GENERAL_SET_REQUEST_HEADER",
        "2024-05-01T10:00:00.150Z",
        &[("HeaderName", "X-Original-For"), ("HeaderValue", "1")],
        &[],
    );
    let file = parse_freb(trace(&[start.clone(), other, set], true).as_bytes());
    assert_eq!(file.trace.summary.request_bytes, Some(526_108_463));
    assert_eq!(parse_freb(trace(&[start], true).as_bytes()).trace.summary.request_bytes, None);
}

/// A number the trace's field cannot hold (a status past 65535, a negative
/// time, a site id that is not one) is left empty and said, at the
/// `<failedRequest>` line; the rest of the trace is read.
#[test]
fn numbers_a_field_cannot_hold_are_said_and_left_empty() {
    let text = config_error_trace(true, true)
        .replace("statusCode=\"500.19\"", "statusCode=\"70000.19\"")
        .replace("timeTaken=\"31\"", "timeTaken=\"-5\"")
        .replace("siteId=\"2\"", "siteId=\"two\"");
    let file = parse_freb(text.as_bytes());
    assert_eq!((file.trace.status, file.trace.time_taken_ms, file.trace.site_id), (None, None, None));
    assert_eq!(file.trace.app_pool.as_deref(), Some("ShopPool"));
    let said: Vec<(u64, &str)> = file
        .diagnostics
        .iter()
        .filter_map(|d| match d.location {
            crate::diagnostic::Location::Line { line, .. } => Some((line, d.message.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        said,
        [(
            3,
            "<failedRequest> siteId=\"two\", statusCode=\"70000.19\", timeTaken=\"-5\": not a number the field can hold, \
             left empty"
        )]
    );
    let sub = config_error_trace(true, true).replace("statusCode=\"500.19\"", "statusCode=\"500.x9\"");
    let sub = parse_freb(sub.as_bytes());
    assert_eq!((sub.trace.status, sub.trace.substatus), (Some(500), Some(0)));
    assert!(
        sub.diagnostics
            .iter()
            .any(|d| d.message.starts_with("<failedRequest> statusCode=\"500.x9\": not a number")),
        "{:?}",
        sub.diagnostics
    );
    let clean = parse_freb(config_error_trace(true, true).as_bytes());
    assert!(clean.diagnostics.iter().all(|d| !d.message.contains("not a number")), "{:?}", clean.diagnostics);
    // A time no request takes (past 49 days, as an access log's) is damage.
    let long =
        config_error_trace(true, true).replace("timeTaken=\"31\"", "timeTaken=\"18446744073709551615\"");
    let long = parse_freb(long.as_bytes());
    assert_eq!(long.trace.time_taken_ms, None);
    assert!(long.diagnostics.iter().any(|d| d.message.contains("timeTaken=")), "{:?}", long.diagnostics);
}

/// Event times no clock can place (1601, 9999) are said once per trace,
/// with how many and the first; the trace is read, and a trace left with
/// no time at all says so.
#[test]
fn event_times_no_clock_can_place_are_said_once() {
    let one = config_error_trace(true, true).replacen(
        "2024-05-01T10:00:00.100Z",
        "9999-12-31T23:59:59.9999999Z",
        1,
    );
    let one = parse_freb(one.as_bytes());
    assert!(one.trace.time().is_some(), "the other events place the trace");
    let said: Vec<&str> = one.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        said,
        [
            "an event holds a TimeCreated that is no time a clock can place (\"9999-12-31T23:59:59.9999999Z\"): read \
          without it"
        ]
    );
    let all = config_error_trace(true, true)
        .replace("SystemTime=\"2024-05-01T10:00:00", "SystemTime=\"1601-01-01T00:00:00");
    let all = parse_freb(all.as_bytes());
    assert!(all.trace.events.len() > 2);
    let said: Vec<&str> = all.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].starts_with(&format!("{} events hold", all.trace.events.len())), "{said:?}");
    assert!(
        said[0].ends_with("the trace holds no other time (timelines place it at 1970-01-01)"),
        "{said:?}"
    );
}
