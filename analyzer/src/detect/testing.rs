//! Small hand-built stores for the detectors' unit tests: a few events,
//! requests, HTTP.sys rows and traces, each at a time given in seconds after
//! a fixed start, on the host and source the test names.

use std::sync::Arc;

use faultline_parser::freb::{ModuleError, TraceSummary};
use faultline_parser::w3c::ReasonKind;
use faultline_parser::winevent::{DataValue, EventOrigin, TimeSource, WinEvent};
use faultline_parser::{Span, Timestamp, Trace};

use super::{FailureMode, run};
use crate::evidence::{ErrRow, EventRow, Kept, RequestRow, Status, Store, TraceRow};
use crate::finding::Finding;
use crate::resolve::{SourceFile, SourceKind};

/// 2025-11-24 10:00:00 UTC: every test's time zero.
pub const T0: i64 = 1_763_978_400;

/// The time `secs` after [`T0`].
pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_parts(T0 + secs, 0)
}

/// Sources the builder files rows under, by kind.
const SOURCES: [(SourceKind, &str); 5] = [
    (SourceKind::W3c, "WEB01/inetpub/logs/LogFiles/W3SVC1/u_ex251124.log"),
    (SourceKind::Httperr, "WEB01/HTTPERR/httperr1.log"),
    (SourceKind::Freb, "WEB01/inetpub/logs/FailedReqLogFiles/W3SVC1/fr000001.xml"),
    (SourceKind::Evtx, "WEB01/System.evtx"),
    (SourceKind::Errorpage, "APP/LogFiles/DetailedErrors/ErrorPage00001.htm"),
];

/// The evidence a test is given, built row by row into a store.
#[derive(Default)]
pub struct Given {
    kept: Kept,
    records: u64,
}

impl Given {
    /// An empty store.
    pub fn new() -> Self {
        Given::default()
    }

    /// Events of `host` only counted (outside the catalogue, or process
    /// starts of no IIS program), from `from` to `to` seconds.
    pub fn counted(mut self, host: &str, from: i64, to: i64) -> Self {
        crate::evidence::collect::widen(&mut self.kept.counted_spans, &Arc::from(host), (at(from), at(to)));
        self
    }

    /// A Windows event with named data.
    pub fn event(mut self, host: &str, secs: i64, provider: &str, id: u16, data: &[(&str, &str)]) -> Self {
        let data = data.iter().map(|(n, v)| DataValue { name: Some(Arc::from(*n)), value: Arc::from(*v) });
        self.push_event(host, secs, provider, id, data.collect(), None);
        self
    }

    /// A Windows event with positional data (classic providers).
    pub fn positional(mut self, host: &str, secs: i64, provider: &str, id: u16, data: &[&str]) -> Self {
        let data = data.iter().map(|v| DataValue { name: None, value: Arc::from(*v) });
        self.push_event(host, secs, provider, id, data.collect(), None);
        self
    }

    /// A Windows event in a named channel.
    pub fn in_channel(mut self, host: &str, secs: i64, provider: &str, id: u16, channel: &str) -> Self {
        self.push_event(host, secs, provider, id, Vec::new(), Some(channel));
        self
    }

    /// ANCM V2 1032: the app at `C:\\home\\site\\wwwroot\\` started.
    pub fn app_started(self, host: &str, secs: i64) -> Self {
        self.positional(
            host,
            secs,
            "IIS AspNetCore Module V2",
            1032,
            &["Application 'C:\\home\\site\\wwwroot\\' started successfully."],
        )
    }

    /// ANCM V2 1012: app_offline.htm took the app at
    /// `C:\\home\\site\\wwwroot\\` offline.
    pub fn app_offline(self, host: &str, secs: i64) -> Self {
        self.positional(
            host,
            secs,
            "IIS AspNetCore Module V2",
            1012,
            &["Application 'C:\\home\\site\\wwwroot\\' was recycled after detecting app_offline.htm."],
        )
    }

    /// The machine the event given last names itself by (`Computer`), when
    /// it is not the host it is filed under (an App Service site's worker).
    pub fn instance(mut self, computer: &str) -> Self {
        if let Some(e) = self.kept.events.last_mut() {
            e.event.computer = Some(Arc::from(computer));
        }
        self
    }

    /// The process that wrote the event given last (`Execution ProcessID`).
    pub fn process(mut self, pid: u32) -> Self {
        if let Some(e) = self.kept.events.last_mut() {
            e.event.process_id = Some(pid);
        }
        self
    }

    /// The binary data (upper-case hex) of the event given last.
    pub fn binary(mut self, hex: &str) -> Self {
        if let Some(e) = self.kept.events.last_mut() {
            e.event.binary = Some(hex.into());
        }
        self
    }

    fn push_event(
        &mut self,
        host: &str,
        secs: i64,
        provider: &str,
        id: u16,
        data: Vec<DataValue>,
        channel: Option<&str>,
    ) {
        self.records += 1;
        let event = WinEvent {
            time: at(secs),
            time_source: TimeSource::TimeCreated,
            origin: EventOrigin::Record { record_id: self.records, chunk: 0 },
            record_id: faultline_parser::RecordId::new(self.records),
            provider: Arc::from(provider),
            event_id: id,
            channel: channel.map(Arc::from),
            computer: Some(Arc::from(host)),
            data,
            ..WinEvent::default()
        };
        self.kept.events.push(EventRow { event, host: Arc::from(host), source: 3 });
    }

    /// An access-log row (kept whatever its status, and counted in its
    /// minute).
    pub fn request(
        mut self,
        host: &str,
        site: u32,
        secs: i64,
        stem: &str,
        (code, sub, win32): (u16, u32, u64),
        taken_ms: u64,
    ) -> Self {
        self.records += 1;
        let status = Status { code, sub, win32 };
        let time = at(secs);
        let key = (Arc::from(host), Some(site), time.minute());
        let minute = self.kept.minutes.entry(key).or_default();
        minute.total += 1;
        minute.by_class[usize::from(code / 100).min(5)] += 1;
        minute.taken_sum += taken_ms;
        minute.record_latency(taken_ms);
        if taken_ms >= 5_000 && win32 == 0 {
            minute.slow += 1;
        }
        self.kept.requests.push(RequestRow {
            time,
            host: Arc::from(host),
            site: Some(site),
            status,
            taken: Span::millis(taken_ms),
            stem: Arc::from(stem),
            client: Arc::from("203.0.113.7"),
            source: 0,
            body: crate::evidence::Body::Small,
            line: self.records,
        });
        self
    }

    /// `count` requests of `status` in the minute of `secs` that a busy
    /// minute counted past the rows it keeps.
    pub fn unlisted(
        mut self,
        host: &str,
        site: u32,
        secs: i64,
        (code, sub, win32): (u16, u32, u64),
        count: u32,
    ) -> Self {
        let key = (Arc::from(host), Some(site), at(secs).minute());
        let minute = self.kept.minutes.entry(key.clone()).or_default();
        minute.total += count;
        minute.by_class[usize::from(code / 100).min(5)] += count;
        minute.notable += count;
        minute.unlisted += count;
        *self.kept.unlisted.entry((key, Status { code, sub, win32 })).or_default() +=
            crate::evidence::Unlisted { count, last: at(secs) };
        self
    }

    /// The same request `count` times, a second apart from `secs` on.
    #[allow(clippy::too_many_arguments)] // `request`'s fields, and how many
    pub fn requests(
        mut self,
        count: i64,
        host: &str,
        site: u32,
        secs: i64,
        stem: &str,
        status: (u16, u32, u64),
        taken_ms: u64,
    ) -> Self {
        for i in 0..count {
            self = self.request(host, site, secs + i, stem, status, taken_ms);
        }
        self
    }

    /// An HTTPERR row.
    pub fn error(
        mut self,
        host: &str,
        secs: i64,
        status: u16,
        reason: ReasonKind,
        queue: Option<&str>,
    ) -> Self {
        self.records += 1;
        self.kept.errors.push(ErrRow {
            time: at(secs),
            host: Arc::from(host),
            status: Some(status),
            reason,
            phrase: Arc::from(format!("{reason:?}")),
            queue: queue.map(Arc::from),
            site: Some(1),
            uri: Some(Arc::from("/")),
            source: 1,
            line: self.records,
        });
        self
    }

    /// The same HTTPERR row `count` times, a second apart from `secs` on.
    pub fn errors(
        mut self,
        count: i64,
        host: &str,
        secs: i64,
        status: u16,
        reason: ReasonKind,
        queue: Option<&str>,
    ) -> Self {
        for i in 0..count {
            self = self.error(host, secs + i, status, reason, queue);
        }
        self
    }

    /// A FREB trace whose first error was set by `module`.
    pub fn trace(
        mut self,
        host: &str,
        secs: i64,
        url: &str,
        (status, sub): (u16, u32),
        module: &str,
    ) -> Self {
        let trace = Trace {
            url: Some(url.to_string()),
            site_id: Some(1),
            app_pool: Some("ShopPool".to_string()),
            status: Some(status),
            substatus: Some(sub),
            time_taken_ms: Some(15),
            summary: TraceSummary {
                start: Some(at(secs)),
                first_error: Some(ModuleError {
                    module: module.to_string(),
                    status: Some(status),
                    substatus: Some(sub),
                    ..ModuleError::default()
                }),
                ..TraceSummary::default()
            },
            ..Trace::default()
        };
        self.kept.traces.push(TraceRow { trace, host: Arc::from(host), source: 2 });
        self
    }

    /// A detailed error page: a trace of the error page source, timed by
    /// its file.
    pub fn error_page(self, host: &str, secs: i64, url: &str, status: (u16, u32), module: &str) -> Self {
        let mut given = self.trace(host, secs, url, status, module);
        if let Some(t) = given.kept.traces.last_mut() {
            t.source = 4;
        }
        given
    }

    /// The last trace taken by a rule for time taken, `taken_ms` long,
    /// its events cut at the size limit `cut_ms` into the request.
    pub fn timed_out(mut self, taken_ms: u64, cut_ms: Option<u64>) -> Self {
        if let Some(t) = self.kept.traces.last_mut() {
            t.trace.failure_reason = Some("TIME_TAKEN".to_string());
            t.trace.time_taken_ms = Some(taken_ms);
            t.trace.verb = Some("POST".to_string());
            if let Some(cut) = cut_ms {
                t.trace.summary.truncated = true;
                t.trace.summary.end = t.trace.summary.start.map(|s| s + Span::millis(cut));
            }
        }
        self
    }

    /// The last trace with a request body of `bytes`.
    pub fn body_bytes(mut self, bytes: u64) -> Self {
        if let Some(t) = self.kept.traces.last_mut() {
            t.trace.summary.request_bytes = Some(bytes);
        }
        self
    }

    /// The last request with a body (see [`crate::evidence::Body`]).
    pub fn body(mut self, body: crate::evidence::Body) -> Self {
        if let Some(r) = self.kept.requests.last_mut() {
            r.body = body;
        }
        self
    }

    /// The last request from `client`.
    pub fn client(mut self, client: &str) -> Self {
        if let Some(r) = self.kept.requests.last_mut() {
            r.client = Arc::from(client);
        }
        self
    }

    /// The last trace or page with the error code its module set.
    pub fn error_code(mut self, code: u32) -> Self {
        let error = self.kept.traces.last_mut().and_then(|t| t.trace.summary.first_error.as_mut());
        if let Some(error) = error {
            error.error_code = Some(code);
        }
        self
    }

    /// The last trace or page with the text its error description shows.
    pub fn error_text(mut self, text: &str) -> Self {
        let error = self.kept.traces.last_mut().and_then(|t| t.trace.summary.first_error.as_mut());
        if let Some(error) = error {
            error.error_text = Some(text.to_string());
        }
        self
    }

    /// The store, rows sorted as the analysis sorts them.
    pub fn store(self) -> Store {
        let sources =
            SOURCES.iter().enumerate().map(|(i, (kind, path))| SourceFile::synthetic(i as u32, path, *kind));
        Store::new(sources.collect(), vec![self.kept])
    }

    /// What one detector makes of this evidence.
    pub fn detected(self, detect: fn(&Store, &mut Vec<super::Draft>)) -> Vec<super::Draft> {
        let mut out = Vec::new();
        detect(&self.store(), &mut out);
        out
    }

    /// Every finding the detectors give for this evidence.
    pub fn findings(self) -> Vec<Finding> {
        run(&self.store())
    }
}

/// The modes of `findings`, in order.
pub fn modes(findings: &[Finding]) -> Vec<FailureMode> {
    findings.iter().map(|f| f.id).collect()
}
