//! Where parsed records go. Readers call a [`RecordSink`] per record, in
//! source order within a chunk; the consumer decides what to keep, and may
//! stop the read by returning an error.

use crate::diagnostic::Diagnostic;
use crate::freb::Trace;
use crate::w3c::{HttpError, Request};
use crate::winevent::{CountedEvents, WinEvent};

/// Receives the records and diagnostics of one chunk of one source.
///
/// Every record method returns `Result`: a sink that cannot go on (a full
/// disk under a spilled timeline, say) returns its error, and the read of
/// that source stops and hands the error back to the caller. A sink that
/// never stops says `type Error = std::convert::Infallible`, and the checks compile away.
pub trait RecordSink {
    /// Why this sink stops a read.
    type Error;

    /// An access-log row.
    fn request(&mut self, _rec: &Request<'_>) -> Result<(), Self::Error> {
        Ok(())
    }
    /// An HTTPERR row.
    fn http_error(&mut self, _rec: &HttpError<'_>) -> Result<(), Self::Error> {
        Ok(())
    }
    /// A FREB trace.
    fn trace(&mut self, _trace: &Trace) -> Result<(), Self::Error> {
        Ok(())
    }
    /// A Windows event from the IIS catalogue (or any event with
    /// `all_events`), handed over: a sink that keeps events takes it rather
    /// than copying it (an event log's catalogue events are all held until
    /// sorted, so a copy doubled them).
    fn event(&mut self, _event: WinEvent) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Windows events outside the catalogue: counted, not kept.
    fn counted_events(&mut self, _count: CountedEvents<'_>) -> Result<(), Self::Error> {
        Ok(())
    }
    /// This many events are about to be handed over: a sink that keeps
    /// them can make room once rather than grow as they arrive.
    fn expect_events(&mut self, _events: usize) {}
    /// A problem found while reading.
    fn diagnostic(&mut self, _diag: Diagnostic) {}
    /// The text of the access-log chunk whose rows come next, which starts
    /// at `offset` in the read's data (where [`Origin::offset`] counts
    /// from): a sink that looks for words in whole lines can search the
    /// chunk once rather than each row's fields.
    ///
    /// [`Origin::offset`]: crate::w3c::Origin::offset
    fn access_log_text(&mut self, _text: &[u8], _offset: u64) {}
    /// Every record of this sink's chunk has been delivered. A sink that
    /// stages records can hand them on now rather than when the whole file
    /// is done (the sinks of a large file's chunks are all returned at the
    /// end, so whatever they hold adds up to the file).
    fn chunk_done(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Whether this sink uses the data of catalogue events. A sink that only
    /// counts (an inventory) says no, and binary event logs are then read
    /// without extracting event data: every record arrives as a count.
    fn needs_event_data(&self) -> bool {
        true
    }
}

impl<S: RecordSink + ?Sized> RecordSink for &mut S {
    type Error = S::Error;

    fn request(&mut self, rec: &Request<'_>) -> Result<(), Self::Error> {
        (**self).request(rec)
    }
    fn http_error(&mut self, rec: &HttpError<'_>) -> Result<(), Self::Error> {
        (**self).http_error(rec)
    }
    fn trace(&mut self, trace: &Trace) -> Result<(), Self::Error> {
        (**self).trace(trace)
    }
    fn event(&mut self, event: WinEvent) -> Result<(), Self::Error> {
        (**self).event(event)
    }
    fn counted_events(&mut self, count: CountedEvents<'_>) -> Result<(), Self::Error> {
        (**self).counted_events(count)
    }
    fn expect_events(&mut self, events: usize) {
        (**self).expect_events(events);
    }
    fn diagnostic(&mut self, diag: Diagnostic) {
        (**self).diagnostic(diag);
    }
    fn access_log_text(&mut self, text: &[u8], offset: u64) {
        (**self).access_log_text(text, offset);
    }
    fn chunk_done(&mut self) -> Result<(), Self::Error> {
        (**self).chunk_done()
    }
    fn needs_event_data(&self) -> bool {
        (**self).needs_event_data()
    }
}

/// Two sinks fed by one read: every record goes to the first, then to the
/// second. Events are handed over whole: the first only looks at each
/// through [`EventObserver::observe_event`] (its `RecordSink::event` is
/// never called), and the second takes it. The first's error must convert
/// into the second's (an infallible first half converts into anything that
/// implements `From<Infallible>`).
#[derive(Debug, Default)]
pub struct Tee<A, B> {
    /// The sink that sees each record first (and events by reference).
    pub first: A,
    /// The sink that takes events over.
    pub second: B,
}

/// A sink that can look at an event without taking it: the first half of a
/// [`Tee`] (an inventory counts events; the analysis keeps them).
pub trait EventObserver {
    /// Sees one event.
    fn observe_event(&mut self, event: &WinEvent);
}

impl<A, B> Tee<A, B> {
    /// Feeds `first` and `second` together.
    pub fn new(first: A, second: B) -> Self {
        Tee { first, second }
    }

    /// The two sinks, apart again.
    pub fn into_parts(self) -> (A, B) {
        (self.first, self.second)
    }
}

impl<A, B> RecordSink for Tee<A, B>
where
    A: RecordSink + EventObserver,
    B: RecordSink,
    A::Error: Into<B::Error>,
{
    type Error = B::Error;

    fn request(&mut self, rec: &Request<'_>) -> Result<(), Self::Error> {
        self.first.request(rec).map_err(Into::into)?;
        self.second.request(rec)
    }
    fn http_error(&mut self, rec: &HttpError<'_>) -> Result<(), Self::Error> {
        self.first.http_error(rec).map_err(Into::into)?;
        self.second.http_error(rec)
    }
    fn trace(&mut self, trace: &Trace) -> Result<(), Self::Error> {
        self.first.trace(trace).map_err(Into::into)?;
        self.second.trace(trace)
    }
    fn event(&mut self, event: WinEvent) -> Result<(), Self::Error> {
        self.first.observe_event(&event);
        self.second.event(event)
    }
    fn counted_events(&mut self, count: CountedEvents<'_>) -> Result<(), Self::Error> {
        self.first.counted_events(count).map_err(Into::into)?;
        self.second.counted_events(count)
    }
    fn expect_events(&mut self, events: usize) {
        self.first.expect_events(events);
        self.second.expect_events(events);
    }
    fn diagnostic(&mut self, diag: Diagnostic) {
        self.first.diagnostic(diag.clone());
        self.second.diagnostic(diag);
    }
    fn access_log_text(&mut self, text: &[u8], offset: u64) {
        self.first.access_log_text(text, offset);
        self.second.access_log_text(text, offset);
    }
    fn chunk_done(&mut self) -> Result<(), Self::Error> {
        self.first.chunk_done().map_err(Into::into)?;
        self.second.chunk_done()
    }
    fn needs_event_data(&self) -> bool {
        self.first.needs_event_data() || self.second.needs_event_data()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;
    use crate::framing::InMemory;
    use crate::w3c::{Dialect, TextConfig, parse_text};

    /// Counts rows and events; stops the read at the rows on `fail_on`
    /// lines, naming the line.
    #[derive(Debug, Default)]
    struct Counting {
        rows: u64,
        events: Vec<u16>,
        observed: Vec<u16>,
        diagnostics: u64,
        fail_on: Vec<u64>,
    }

    #[derive(Debug, PartialEq, Eq)]
    struct Full(u64);

    impl From<Infallible> for Full {
        fn from(e: Infallible) -> Full {
            match e {}
        }
    }

    impl RecordSink for Counting {
        type Error = Full;
        fn request(&mut self, rec: &Request<'_>) -> Result<(), Full> {
            self.rows += 1;
            if self.fail_on.contains(&rec.origin.line) { Err(Full(rec.origin.line)) } else { Ok(()) }
        }
        fn event(&mut self, event: WinEvent) -> Result<(), Full> {
            self.events.push(event.event_id);
            Ok(())
        }
        fn diagnostic(&mut self, _diag: Diagnostic) {
            self.diagnostics += 1;
        }
    }

    /// Only looks: the first half of a tee.
    #[derive(Debug, Default)]
    struct Looking(Counting);

    impl RecordSink for Looking {
        type Error = Infallible;
        fn request(&mut self, _rec: &Request<'_>) -> Result<(), Infallible> {
            self.0.rows += 1;
            Ok(())
        }
        fn diagnostic(&mut self, _diag: Diagnostic) {
            self.0.diagnostics += 1;
        }
    }

    impl EventObserver for Looking {
        fn observe_event(&mut self, event: &WinEvent) {
            self.0.observed.push(event.event_id);
        }
    }

    fn log(rows: usize) -> String {
        let mut log = String::from("#Fields: date time cs-uri-stem sc-status\n");
        for i in 0..rows {
            log.push_str(&format!("2024-01-02 03:{:02}:{:02} /a 200\n", (i / 60) % 60, i % 60));
        }
        log.push_str("not a row\n");
        log
    }

    #[test]
    fn a_tee_feeds_both_halves_and_the_second_takes_the_events() {
        let text = log(50);
        let sinks = parse_text(
            text.as_bytes(),
            Dialect::W3c,
            &TextConfig { chunk_size: 64 },
            &InMemory,
            &|_| {},
            || Tee::new(Looking::default(), Counting::default()),
        )
        .expect("no limit");
        let (mut first, mut second) = (0, 0);
        let (mut first_diags, mut second_diags) = (0, 0);
        for s in sinks {
            let (a, b) = s.into_parts();
            (first, second) = (first + a.0.rows, second + b.rows);
            (first_diags, second_diags) = (first_diags + a.0.diagnostics, second_diags + b.diagnostics);
        }
        assert_eq!((first, second), (50, 50));
        assert_eq!((first_diags, second_diags), (1, 1), "the bad row, reported to both");

        let xml = "<Event><System><Provider Name='WAS'/><EventID>5002</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System></Event>\
                   <Event><System><Provider Name='WAS'/><EventID>5011</EventID><TimeCreated SystemTime='2024-01-01T00:00:01Z'/></System></Event>";
        let mut file = crate::eventxml::parse_event_xml(xml.as_bytes());
        let mut tee = Tee::new(Looking::default(), Counting::default());
        crate::winevent::deliver_sorted(&mut file.events, true, &mut tee).expect("delivered");
        assert_eq!(tee.first.0.observed, [5002, 5011]);
        assert_eq!(tee.second.events, [5002, 5011]);
    }

    #[test]
    fn a_sink_error_stops_the_read_and_the_first_in_file_order_comes_back() {
        let text = log(500);
        // Rows on lines 120 and 400 (in different chunks when chunks are
        // small) each stop their chunk; the error of line 120 comes back.
        let read = |chunk_size| {
            parse_text(text.as_bytes(), Dialect::W3c, &TextConfig { chunk_size }, &InMemory, &|_| {}, || {
                Counting { fail_on: vec![120, 400], ..Counting::default() }
            })
        };
        assert_eq!(read(1 << 20).err(), Some(Full(120)));
        for chunk_size in [256, 97, 4096] {
            assert_eq!(read(chunk_size).err(), Some(Full(120)), "chunk size {chunk_size}");
        }
        let whole =
            parse_text(text.as_bytes(), Dialect::W3c, &TextConfig::default(), &InMemory, &|_| {}, || {
                Counting::default()
            });
        assert_eq!(whole.map(|s| s.iter().map(|c| c.rows).sum::<u64>()), Ok(500));
    }
}
