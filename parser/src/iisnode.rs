//! iisnode's log of a Node.js application's uncaught exceptions
//! (`logging-errors.txt`, which App Service keeps in `LogFiles/Application`
//! and iisnode in its log directory on premises). Each entry starts with
//! the time as JavaScript's `Date` writes it and iisnode's words, then the
//! exception and its stack:
//!
//! ```text
//! Fri Aug 15 2025 22:55:52 GMT+0000 (Coordinated Universal Time): Application has thrown an uncaught exception and is terminated:
//! SyntaxError: Unexpected token >
//!     at Module._compile (module.js:434:25)
//! ```
//!
//! Each entry is read as an event of the `iisnode` provider, id
//! [`UNCAUGHT_EXCEPTION`] (node.exe ended on an exception), timed by its
//! date, cited by the line it starts on, its one data value the message and
//! the stack as written: the events' consumers take it like a .NET
//! Runtime 1026.

use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Severity};
use crate::framing::lines;
use crate::time::{NANOS_PER_SEC, days_from_civil, instant, month_number, parse_time_of_day, zone_offset};
use crate::winevent::{DataValue, EventOrigin, TimeSource, WinEvent};
use crate::{Input, RecordSink, Timestamp};

/// The provider name the entries are read under.
pub const PROVIDER: &str = "iisnode";

/// The event id of an entry: the application's process ended on an
/// uncaught exception.
pub const UNCAUGHT_EXCEPTION: u16 = 1000;

/// Most lines of one entry kept (a stack runs to ten frames in node's
/// default; a runaway one is cut).
const ENTRY_LINES: usize = 64;

/// Whether a document's head is an iisnode log: its first line that is not
/// blank starts an entry.
pub fn looks_like_iisnode_log(head: &[u8]) -> bool {
    lines(head, 0)
        .map(|l| l.text)
        .find(|t| !t.trim_ascii().is_empty())
        .is_some_and(|t| entry_start(t).is_some())
}

/// The time and the rest of a line that starts an entry
/// (`Fri Aug 15 2025 22:55:52 GMT+0000 (Coordinated Universal Time): ...`).
fn entry_start(line: &[u8]) -> Option<(Timestamp, &[u8])> {
    let head = &line[..line.len().min(200)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    let mut words = text.splitn(6, ' ');
    let _weekday = words.next().filter(|w| w.len() == 3)?;
    let month = month_number(words.next()?.as_bytes())?;
    let day: u32 = words.next()?.parse().ok()?;
    let year: i64 = words.next()?.parse().ok()?;
    let clock = parse_time_of_day(words.next()?.as_bytes())?;
    // `GMT+0200 (Central European Summer Time): ...`: the time is the
    // server's local time, the offset its own.
    let zone = words.next()?.strip_prefix("GMT")?;
    let offset = zone_offset(zone.get(..5)?.as_bytes())?;
    let after_zone = &zone[5..];
    let close = after_zone.find("):")?;
    let said = after_zone[close + 2..].trim_start();
    let time = instant(days_from_civil(year, month, day)?, clock - offset * NANOS_PER_SEC)?;
    // `said` ends where `text` does, a prefix of the line.
    let at = text.len() - said.len();
    Some((time, &line[at..]))
}

/// Reads a log and hands its entries, as events, to one sink.
pub fn read<S>(input: &Input<'_>, new_sink: &(dyn Fn() -> S + Sync)) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
{
    let mut sink = new_sink();
    let (events, diagnostics) = parse_log(input.data);
    sink.expect_events(events.len());
    for e in events {
        sink.event(e)?;
    }
    diagnostics.into_iter().for_each(|d| sink.diagnostic(d));
    sink.chunk_done()?;
    (input.progress)(input.data.len() as u64);
    Ok(vec![sink])
}

/// The entries of a log, and what could not be read of it.
pub fn parse_log(data: &[u8]) -> (Vec<WinEvent>, Vec<Diagnostic>) {
    let provider: Arc<str> = Arc::from(PROVIDER);
    let channel: Arc<str> = Arc::from("Application");
    let mut events = Vec::new();
    let mut diagnostics = Vec::new();
    let mut open: Option<(WinEvent, String, usize)> = None;
    let mut stray: Option<(u64, u64, usize)> = None;
    let close = |open: &mut Option<(WinEvent, String, usize)>, events: &mut Vec<WinEvent>| {
        if let Some((mut e, text, _)) = open.take() {
            e.data = vec![DataValue { name: None, value: Arc::from(text.trim_end()) }];
            events.push(e);
        }
    };
    for (number, line) in (1u64..).zip(lines(data, 0)) {
        if let Some((time, said)) = entry_start(line.text) {
            close(&mut open, &mut events);
            let event = WinEvent {
                time,
                time_source: TimeSource::TimeCreated,
                origin: EventOrigin::Xml { line: number, offset: line.offset as u64 },
                provider: Arc::clone(&provider),
                event_id: UNCAUGHT_EXCEPTION,
                level: Some(2),
                channel: Some(Arc::clone(&channel)),
                ..WinEvent::default()
            };
            open = Some((event, String::from_utf8_lossy(said).into_owned(), 1));
            continue;
        }
        match &mut open {
            Some((_, text, kept)) if *kept < ENTRY_LINES => {
                text.push('\n');
                text.push_str(&String::from_utf8_lossy(line.text));
                *kept += 1;
            }
            Some(_) => {}
            None if line.text.trim_ascii().is_empty() => {}
            None => match &mut stray {
                Some((_, _, n)) => *n += 1,
                None => stray = Some((number, line.offset as u64, 1)),
            },
        }
    }
    close(&mut open, &mut events);
    if let Some((number, offset, n)) = stray {
        diagnostics.push(Diagnostic::line(
            number,
            offset,
            Severity::Warning,
            format!("{n} line(s) before the first entry (an entry's start cut off): not read"),
        ));
    }
    (events, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "Fri Aug 15 2025 22:55:52 GMT+0000 (Coordinated Universal Time): Application has thrown an \
        uncaught exception and is terminated:\nSyntaxError: Unexpected token >\n    at Module._compile \
        (module.js:434:25)\n    at Object..js (module.js:464:10)\nFri Aug 15 2025 22:55:53 GMT+0200 (Central \
        European Summer Time): Application has thrown an uncaught exception and is terminated:\nError: listen \
        EADDRINUSE\n";

    #[test]
    fn each_entry_is_an_event_timed_by_its_date_and_cited_by_its_line() {
        assert!(looks_like_iisnode_log(LOG.as_bytes()));
        let (events, diagnostics) = parse_log(LOG.as_bytes());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(events.len(), 2);
        let first = &events[0];
        assert_eq!(first.time.to_rfc3339(), "2025-08-15T22:55:52.000000000Z");
        assert_eq!((first.origin.line(), &*first.provider, first.event_id), (Some(1), "iisnode", 1000));
        let text = &first.data[0].value;
        assert!(
            text.starts_with("Application has thrown an uncaught exception and is terminated:\nSyntaxError")
        );
        assert!(text.ends_with("(module.js:464:10)"), "{text}");
        // The server's local time, its offset given: 22:55:53 at +02:00.
        assert_eq!(events[1].time.to_rfc3339(), "2025-08-15T20:55:53.000000000Z");
        assert_eq!(events[1].origin.line(), Some(5));
    }

    #[test]
    fn what_is_not_an_entry_is_said_and_nothing_else_is_lost() {
        let torn = format!("   at Object.<anonymous> (x.js:1:1)\n{LOG}");
        assert!(!looks_like_iisnode_log(torn.as_bytes()));
        let (events, diagnostics) = parse_log(torn.as_bytes());
        assert_eq!((events.len(), diagnostics.len()), (2, 1));
        for not in [
            "",
            "hello",
            "Fri Aug 32 2025 22:55:52 GMT+0000 (UTC): x",
            "Fri Aug 15 2025 25:00:00 GMT+0000 (UTC): x",
        ] {
            assert!(!looks_like_iisnode_log(not.as_bytes()), "{not}");
        }
        assert!(parse_log(b"\xff\xfe\x00garbage").0.is_empty());
    }

    proptest::proptest! {
        /// Any bytes: no panic, and every event starts on a line that
        /// starts an entry; entries written round-trip, whatever their
        /// exception text and line endings.
        #[test]
        fn entries_round_trip(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            texts in proptest::collection::vec("[a-zA-Z:>(). ]{0,40}", 1..6),
            crlf in proptest::prelude::any::<bool>(),
        ) {
            let (events, _) = parse_log(&noise);
            let starts = lines(&noise, 0).filter(|l| entry_start(l.text).is_some()).count();
            proptest::prop_assert_eq!(events.len(), starts);
            let end = if crlf { "\r\n" } else { "\n" };
            let mut log = String::new();
            for (i, t) in texts.iter().enumerate() {
                log.push_str(&format!(
                    "Fri Aug 15 2025 22:55:{:02} GMT+0000 (Coordinated Universal Time): Application has \
                        thrown an uncaught exception and is terminated:{end}Error: {t}{end}    at x (a.js:1:1){end}",
                    i
                ));
            }
            let (events, diagnostics) = parse_log(log.as_bytes());
            proptest::prop_assert!(diagnostics.is_empty());
            proptest::prop_assert_eq!(events.len(), texts.len());
            for (i, (e, t)) in events.iter().zip(&texts).enumerate() {
                proptest::prop_assert_eq!(e.time.to_rfc3339(), format!("2025-08-15T22:55:{i:02}.000000000Z"));
                let expected = format!("Error: {t}");
                proptest::prop_assert_eq!(node_line(&e.data[0].value), expected.trim_end());
            }
        }
    }

    /// The exception line of an entry's text.
    fn node_line(text: &str) -> &str {
        text.lines().nth(1).unwrap_or_default().trim_end()
    }
}
