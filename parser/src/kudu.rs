//! Kudu's request traces: App Service's deployment and management site
//! (`<site>.scm.azurewebsites.net`) writes one XML file per request it
//! served slowly or with an error into `LogFiles/kudu/trace`, named
//! `<time>_<instance>_<n>_<METHOD>_<path>_<status>_<seconds>s.xml`. The
//! root `<step title="Incoming Request">` holds the request (time, URL,
//! method, client, agent, the site it deploys); nested steps say what Kudu
//! did, and a step of type `error` why it failed.
//!
//! A trace is read as one event of the provider `Kudu`, id
//! [`REQUEST_TRACED`], its data named (`Method`, `Url`, `Status`,
//! `Seconds`, `Client`, `UserAgent`, `Site`, `LastStep`, `Error`): a
//! deployment through `zipdeploy` that ended in 500 is the story of the
//! site's next failed start.

use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};

use crate::diagnostic::{Diagnostic, Severity};
use crate::winevent::{DataValue, EventOrigin, TimeSource, WinEvent};
use crate::{Input, RecordSink};

/// The provider name traces are read under.
pub const PROVIDER: &str = "Kudu";

/// The event id of a traced request.
pub const REQUEST_TRACED: u16 = 1;

/// Whether a document is a Kudu trace: its root is Kudu's incoming request.
pub fn looks_like_kudu_trace(head: &[u8]) -> bool {
    let text = head.trim_ascii_start();
    text.starts_with(b"<step ")
        && memchr::memmem::find(&text[..text.len().min(400)], b"title=\"Incoming Request\"").is_some()
}

/// The status and seconds a trace's file name ends with
/// (`..._POST_api-zipdeploy_500_28s.xml`).
fn named_outcome(name: &str) -> (Option<u16>, Option<u32>) {
    let stem = name.strip_suffix(".xml").unwrap_or(name);
    let mut parts = stem.rsplit('_');
    let seconds = parts.next().and_then(|s| s.strip_suffix('s')).and_then(|s| s.parse().ok());
    let status = parts.next().and_then(|s| s.parse().ok()).filter(|s| (100..600).contains(s));
    (status, seconds)
}

/// Reads one trace and hands its request, as an event, to one sink.
pub fn read<S>(input: &Input<'_>, name: &str, new_sink: &(dyn Fn() -> S + Sync)) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
{
    let mut sink = new_sink();
    match parse_trace(input.data, name) {
        Ok(e) => sink.event(e)?,
        Err(why) => sink.diagnostic(Diagnostic::file(Severity::Error, format!("not read: {why}"))),
    }
    sink.chunk_done()?;
    (input.progress)(input.data.len() as u64);
    Ok(vec![sink])
}

/// A trace as an event, or why it cannot be one. `name` is the file's name,
/// which holds the status.
pub fn parse_trace(data: &[u8], name: &str) -> Result<WinEvent, String> {
    let text = String::from_utf8_lossy(data);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut root: Option<Vec<(String, String)>> = None;
    let (mut last_step, mut error) = (None, None);
    loop {
        match reader.read_event() {
            Ok(Event::Start(s) | Event::Empty(s)) if s.name().as_ref() == "step" => {
                let attributes = attributes(&s);
                let get = |k: &str| attributes.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                if root.is_none() {
                    root = Some(attributes);
                    continue;
                }
                if get("type").as_deref() == Some("error") {
                    error.get_or_insert_with(|| get("text").unwrap_or_default());
                } else if error.is_none() {
                    last_step = get("title");
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            // A trace cut short keeps what came before the cut.
            Err(_) if root.is_some() => break,
            Err(e) => return Err(format!("not Kudu's XML: {e}")),
        }
    }
    let root = root.ok_or("no incoming request")?;
    let get = |k: &str| root.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str());
    let date = get("date").ok_or("the request has no date")?;
    // Kudu writes the machine's time, UTC on App Service, without a zone.
    let time = crate::time::parse_date_time(date.replace('T', " ").as_bytes()).ok_or("an unreadable date")?;
    let (status, seconds) = named_outcome(name);
    let mut data = Vec::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            data.push(DataValue { name: Some(Arc::from(k)), value: Arc::from(v) });
        }
    };
    put("Method", get("method").map(str::to_string));
    put("Url", get("url").map(str::to_string));
    put("Status", status.map(|s| s.to_string()));
    put("Seconds", seconds.map(|s| s.to_string()));
    put("Client", get("CLIENT-IP").map(str::to_string));
    put("UserAgent", get("User-Agent").map(str::to_string));
    put("Host", get("Host").map(str::to_string));
    put("Site", get("X-SITE-DEPLOYMENT-ID").map(str::to_string));
    put("ContentLength", get("Content-Length").map(str::to_string));
    put("LastStep", last_step);
    put("Error", error);
    Ok(WinEvent {
        time,
        time_source: TimeSource::TimeCreated,
        origin: EventOrigin::Xml { line: 1, offset: 0 },
        provider: Arc::from(PROVIDER),
        event_id: REQUEST_TRACED,
        level: Some(if status.is_some_and(|s| s >= 500) { 2 } else { 4 }),
        channel: Some(Arc::from("Kudu")),
        data,
        ..WinEvent::default()
    })
}

/// A step's attributes, unescaped.
fn attributes(s: &BytesStart<'_>) -> Vec<(String, String)> {
    s.attributes()
        .with_checks(false)
        .flatten()
        .map(|a| (a.key.as_ref().to_string(), crate::xml::attr_value(&a.value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "<step title=\"Incoming Request\" date=\"2025-09-13T17:38:29.270\" instance=\"8deff5\" \
        url=\"/api/zipdeploy?isAsync=true\" method=\"POST\" type=\"request\" Content-Length=\"81609630\" \
        Host=\"shop-a1b2.scm.canadacentral-01.azurewebsites.net\" User-Agent=\"AZURECLI/2.77.0\" \
        CLIENT-IP=\"5.162.109.55:61010\" X-SITE-DEPLOYMENT-ID=\"shop\" >\n  <step title=\"ZipPushDeploy\" \
        date=\"2025-09-13T17:38:29.911\" >\n    <step title=\"Saving request content to C:\\local\\Temp\\z.zip\" \
        date=\"2025-09-13T17:38:30.473\" /><!-- duration: 26004ms -->\n  </step>\n  <step title=\"Error occurred\" \
        date=\"2025-09-13T17:38:56.602\" type=\"error\" text=\"The client disconnected.\" stackTrace=\"   at \
        x\" />\n</step>\n";
    const NAME: &str = "2025-09-13T17-38-29_8deff5_002_POST_api-zipdeploy_500_28s.xml";

    #[test]
    fn a_trace_is_one_event_naming_the_request_and_why_it_failed() {
        assert!(looks_like_kudu_trace(TRACE.as_bytes()));
        let e = parse_trace(TRACE.as_bytes(), NAME).expect("read");
        assert_eq!(e.time.to_rfc3339(), "2025-09-13T17:38:29.270000000Z");
        assert_eq!((&*e.provider, e.event_id, e.level), ("Kudu", 1, Some(2)));
        let data = |k| e.data(k);
        assert_eq!(data("Url"), Some("/api/zipdeploy?isAsync=true"));
        assert_eq!(
            (data("Method"), data("Status"), data("Seconds")),
            (Some("POST"), Some("500"), Some("28"))
        );
        assert_eq!(data("Site"), Some("shop"));
        assert_eq!(data("Error"), Some("The client disconnected."));
        assert_eq!(data("LastStep"), Some("Saving request content to C:\\local\\Temp\\z.zip"));
    }

    #[test]
    fn what_is_not_a_trace_says_why() {
        assert!(!looks_like_kudu_trace(b"<step title=\"Other\">"));
        assert!(parse_trace(b"", NAME).is_err());
        assert!(parse_trace(b"<step title=\"Incoming Request\">", NAME).is_err(), "no date");
        // Cut short: what came before the cut is read.
        let cut = &TRACE[..TRACE.find("<step title=\"Error").expect("error step") + 10];
        assert!(parse_trace(cut.as_bytes(), NAME).is_ok_and(|e| e.data("Error").is_none()));
        assert_eq!(named_outcome("x.xml"), (None, None));
    }

    proptest::proptest! {
        /// Any bytes, and a trace cut anywhere: no panic, and a trace read
        /// is the request's, timed by its date.
        #[test]
        fn any_cut_reads_the_request_or_says_why(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            cut in 0..TRACE.len(),
        ) {
            let _ = parse_trace(&noise, NAME);
            let _ = looks_like_kudu_trace(&noise);
            if let Ok(e) = parse_trace(&TRACE.as_bytes()[..cut], NAME) {
                proptest::prop_assert_eq!(e.time.to_rfc3339(), "2025-09-13T17:38:29.270000000Z");
            }
        }
    }
}
