//! Where parsed records go. Parsers call a [`RecordSink`] per record, in
//! source order within a chunk; the consumer decides what to keep.

use crate::diagnostic::Diagnostic;
use crate::freb::Trace;
use crate::w3c::{HttpError, Request};
use crate::winevent::{CountedEvents, WinEvent};

/// Receives the records and diagnostics of one chunk of one source.
pub trait RecordSink {
    /// An access-log row.
    fn request(&mut self, _rec: &Request<'_>) {}
    /// An HTTPERR row.
    fn http_error(&mut self, _rec: &HttpError<'_>) {}
    /// A FREB trace.
    fn trace(&mut self, _trace: &Trace) {}
    /// A Windows event from the IIS catalogue (or any event with `all_events`).
    fn event(&mut self, _event: &WinEvent) {}
    /// A catalogue event handed over: a sink that keeps events takes it
    /// rather than copying it (an event log's catalogue events are all held
    /// until sorted, so a copy doubled them).
    fn event_owned(&mut self, event: WinEvent) {
        self.event(&event);
    }
    /// This many events are about to be handed over: a sink that keeps
    /// them can make room once rather than grow as they arrive.
    fn expect_events(&mut self, _events: usize) {}
    /// Windows events outside the catalogue: counted, not kept.
    fn counted_events(&mut self, _count: CountedEvents<'_>) {}
    /// A problem found while reading.
    fn diagnostic(&mut self, _diag: Diagnostic) {}
    /// Every record of this sink's chunk has been delivered. A sink that
    /// stages records can hand them on now rather than when the whole file
    /// is done (the sinks of a large file's chunks are all returned at the
    /// end, so whatever they hold adds up to the file).
    fn chunk_done(&mut self) {}
    /// Whether this sink uses the data of catalogue events. A sink that only
    /// counts (an inventory) says no, and binary event logs are then read
    /// without extracting event data: every record arrives as a count.
    fn needs_event_data(&self) -> bool {
        true
    }
}
