//! The collector: the read pass' sink for the analysis. It keeps what
//! matters from every record (per-minute counts; the rows that may be cited:
//! errors, aborts, slow requests, redirects, HTTP.sys rejections, catalogue
//! events, FREB summaries), each placed by the resolver. Memory grows with
//! what is interesting, not with the input.

use std::collections::BTreeMap;
use std::sync::Arc;

use faultline_parser::w3c::ReasonKind;
use faultline_parser::winevent::CountedEvents;
use faultline_parser::{HttpError, RecordSink, Request, Span, Timestamp, Trace, WinEvent};

use super::rows::{
    Body, ErrKey, ErrRow, EventRow, Minute, MinuteKey, Pieces, RequestRow, Status, TraceRow, Unlisted, join,
};
use crate::resolve::{Host, Resolver, SourceFile};
use crate::scope::Scope;

/// Rows kept per host, site and minute at most (the rest are counted).
const ROWS_PER_MINUTE: u32 = 200;

/// HTTP.sys rejections kept as rows per host, minute, reason and queue:
/// a flood of them (a denial of service, a pool offline under load) is
/// millions of rows, counted past these.
pub const ERRORS_PER_MINUTE: u32 = 200;

/// Security logon events (4625, 4648, 4771, 4776) kept per host, minute,
/// event id and logon type: a password-guessing run or a domain
/// controller's NTLM traffic is millions of them, counted past these (the
/// lens reads them all as they are read).
pub const LOGONS_PER_MINUTE: u32 = 200;

/// The statuses of requests, and the reasons and queues of HTTP.sys
/// rejections, a minute counts apart past the rows it keeps.
const KINDS_PER_MINUTE: usize = 64;

/// The failed, slow or cut-off requests a minute keeps as rows to cite and
/// list (the notable timeline's); the rest are counted in the minute.
pub const NOTABLE_PER_MINUTE: u32 = ROWS_PER_MINUTE * 4;

/// What one source (or one chunk of it) leaves for the analysis: per-minute
/// counts and the rows worth citing, every one already placed by the
/// resolver.
#[derive(Debug, Default)]
pub struct Kept {
    /// Per (host, site, minute since epoch).
    pub minutes: BTreeMap<MinuteKey, Minute>,
    /// Per (host, site, minute) and status, the failed, slow or cut-off
    /// requests counted past the rows the minute keeps: what a busy
    /// minute's failures were, though not listed.
    pub unlisted: BTreeMap<(MinuteKey, Status), Unlisted>,
    /// Rows kept.
    pub requests: Vec<RequestRow>,
    /// HTTPERR rows kept (idle-connection timers are only counted).
    pub errors: Vec<ErrRow>,
    /// The HTTPERR rows counted past those kept ([`ERRORS_PER_MINUTE`]).
    pub unlisted_errors: BTreeMap<ErrKey, Unlisted>,
    /// Per host, minute and event id, the Security logon events counted
    /// past those kept ([`LOGONS_PER_MINUTE`]).
    pub unlisted_logons: BTreeMap<(Arc<str>, i64, u16), Unlisted>,
    /// Catalogue events.
    pub events: Vec<EventRow>,
    /// Traces.
    pub traces: Vec<TraceRow>,
    /// Per host, the first and last time of the events only counted (not
    /// in the catalogue): what a host logged reaches past what is kept.
    pub counted_spans: BTreeMap<Arc<str>, (Timestamp, Timestamp)>,
    /// Per host, the first and last time of the records outside the run's
    /// range (`--from`/`--to`), which are not kept.
    pub outside_spans: BTreeMap<Arc<str>, (Timestamp, Timestamp)>,
    /// Detailed error pages whose file's date lies outside the run's range:
    /// the store keeps those dated by a copy (see `Store::new`).
    pub pages_outside: Vec<TraceRow>,
    /// The rows of later chunks taken over by [`Kept::absorb`], after the
    /// ones above, joined once by the store.
    pub absorbed: Absorbed,
}

/// The rows [`Kept::absorb`] took over, held apart until the store joins
/// them.
#[derive(Debug, Default)]
pub struct Absorbed {
    /// Request rows.
    pub requests: Pieces<RequestRow>,
    /// HTTPERR rows.
    pub errors: Pieces<ErrRow>,
    /// Catalogue events.
    pub events: Pieces<EventRow>,
    /// Traces.
    pub traces: Pieces<TraceRow>,
}

/// `span` widened to hold `other`.
pub(crate) fn widen(
    span: &mut BTreeMap<Arc<str>, (Timestamp, Timestamp)>,
    host: &Arc<str>,
    other: (Timestamp, Timestamp),
) {
    span.entry(Arc::clone(host))
        .and_modify(|(a, b)| {
            *a = (*a).min(other.0);
            *b = (*b).max(other.1);
        })
        .or_insert(other);
}

/// Counts an HTTPERR minute's rejections of a reason, queue and site past
/// those kept.
fn add_error_past(
    into: &mut BTreeMap<ErrKey, Unlisted>,
    host: &Arc<str>,
    minute: i64,
    (reason, queue, site): (ReasonKind, Option<Arc<str>>, Option<u32>),
    past: Unlisted,
) {
    *into.entry((Arc::clone(host), minute, reason, queue, site)).or_default() += past;
}

/// Counts a minute's logon events of an id (whatever their logon type)
/// past those kept.
fn add_logon_past(
    into: &mut BTreeMap<(Arc<str>, i64, u16), Unlisted>,
    host: &Arc<str>,
    minute: i64,
    (id, _): (u16, Option<Arc<str>>),
    past: Unlisted,
) {
    *into.entry((Arc::clone(host), minute, id)).or_default() += past;
}

/// Adds `other`'s counts of unlisted rows to `into`'s.
pub(crate) fn add_unlisted<K: Ord, V: Default + std::ops::AddAssign>(
    into: &mut BTreeMap<K, V>,
    other: BTreeMap<K, V>,
) {
    for (k, n) in other {
        *into.entry(k).or_default() += n;
    }
}

impl Absorbed {
    /// Holds `other`'s rows after these.
    pub fn append(&mut self, other: Absorbed) {
        self.requests.append(other.requests);
        self.errors.append(other.errors);
        self.events.append(other.events);
        self.traces.append(other.traces);
    }
}

impl Kept {
    /// Its rows, those it absorbed after its own, taken out of it.
    pub fn take_rows(&mut self) -> Absorbed {
        let mut rows = Absorbed::default();
        rows.requests.push(std::mem::take(&mut self.requests));
        rows.errors.push(std::mem::take(&mut self.errors));
        rows.events.push(std::mem::take(&mut self.events));
        rows.traces.push(std::mem::take(&mut self.traces));
        rows.append(std::mem::take(&mut self.absorbed));
        rows
    }

    /// Takes over what a later chunk of the same source kept, keeping
    /// source order.
    pub fn absorb(&mut self, mut other: Kept) {
        self.absorbed.append(other.take_rows());
        for (k, m) in other.minutes {
            self.minutes.entry(k).or_default().add(&m);
        }
        add_unlisted(&mut self.unlisted, other.unlisted);
        add_unlisted(&mut self.unlisted_errors, other.unlisted_errors);
        add_unlisted(&mut self.unlisted_logons, other.unlisted_logons);
        for (host, span) in other.counted_spans {
            widen(&mut self.counted_spans, &host, span);
        }
        for (host, span) in other.outside_spans {
            widen(&mut self.outside_spans, &host, span);
        }
        join(&mut self.pages_outside, other.pages_outside);
    }
}

/// Collects one chunk's evidence, every record placed by the resolver
/// (host, site, and time with the host's clock skew applied; records outside
/// the run's range are left out).
#[derive(Debug)]
pub struct Collector<'s> {
    resolve: Resolver<'s>,
    /// The minute rows are being counted into, held out of the map: rows
    /// come in time order, so nearly every row adds to the same minute as
    /// the one before, and a map search per row was 11% of an analyze.
    open_minute: Option<(MinuteKey, Minute)>,
    /// The open minute's unlisted requests by status, for
    /// [`Kept::unlisted`] when it closes (a busy minute has thousands).
    open_unlisted: Vec<(Status, Unlisted)>,
    /// HTTPERR rows kept per reason, queue and site in the open minute.
    error_caps: MinuteCaps<(ReasonKind, Option<Arc<str>>, Option<u32>)>,
    /// Logon events kept per event id and logon type in the open minute.
    logon_caps: MinuteCaps<(u16, Option<Arc<str>>)>,
    kept: Kept,
    strings: Strings,
    /// The span of the records outside the range per host, for
    /// [`Kept::outside_spans`], gathered here first: a range can leave
    /// millions of rows out, and a map search per row showed.
    outside: Vec<(Arc<str>, Timestamp, Timestamp)>,
    /// Every event the read hands over is kept (`--all-events`), not only
    /// the process starts that tell of IIS.
    every_event: bool,
}

/// Whether the analysis keeps `e`: any event but a process start (Sysmon
/// 1, Security 4688), and of those the ones that tell of IIS: started by
/// or as an IIS worker, under an app pool's identity, or of IIS's own tools
/// (appcmd changing logging, iisreset). A server's other starts are the
/// bulk of its Sysmon or audited Security log, hundreds of thousands a day
/// and a kilobyte each kept; the detectors ask of them only that the host
/// logged then (its counted span: when its evidence ends, whether the log
/// went on past a failed start), and the lens still reads every one as the
/// log is read (a web shell's children, generations down). A 4688 of a
/// system older than Windows 10 names no parent: a worker's child is kept
/// then only by its account or program.
fn process_start_tells_of_iis(e: &WinEvent) -> bool {
    use faultline_parser::value::contains_ignore_case;
    use faultline_parser::winevent::{Family, is_worker_image, pool_of_identity};
    let (images, accounts): (&[&str], &[&str]) = match (e.event_id, e.family()) {
        (1, Family::Sysmon) => (&["Image", "ParentImage"], &["User", "ParentUser"]),
        (4688, Family::SecurityAuditing) => {
            if ["SubjectDomainName", "TargetDomainName"]
                .iter()
                .any(|f| e.data(f).is_some_and(|d| d.trim().eq_ignore_ascii_case("IIS APPPOOL")))
            {
                return true;
            }
            (&["NewProcessName", "ParentProcessName"], &["SubjectUserName", "TargetUserName"])
        }
        _ => return true,
    };
    let iis_tool = |image: &str| {
        let name = image.rsplit(['\\', '/']).next().unwrap_or(image);
        is_worker_image(image) || ["appcmd.exe", "iisreset.exe"].iter().any(|t| name.eq_ignore_ascii_case(t))
    };
    // appcmd switching logging off is found by its command line (a shell's
    // `cmd /c appcmd ...`), which the logging-switch detector reads.
    let command = e.data("CommandLine").unwrap_or_default().as_bytes();
    // A deployment's PowerShell stops and starts pools by cmdlet, or in a
    // script whose lines no event shows (Octopus's Deploy.ps1): what
    // stopped a pool is asked of them.
    let powershell = e.data(images[0]).is_some_and(|image| {
        let name = image.rsplit(['\\', '/']).next().unwrap_or(image);
        ["powershell.exe", "pwsh.exe"].iter().any(|p| name.eq_ignore_ascii_case(p))
    });
    images.iter().any(|f| e.data(f).is_some_and(iis_tool))
        || accounts.iter().any(|f| e.data(f).and_then(pool_of_identity).is_some())
        || IIS_COMMANDS.iter().any(|tool| contains_ignore_case(command, tool))
        || (powershell && contains_ignore_case(command, b".ps1"))
}

/// Words of command lines that manage IIS: its tools, and PowerShell's IIS
/// modules and their cmdlets (`Stop-WebAppPool`, `Stop-IISSite`).
const IIS_COMMANDS: [&[u8]; 7] = [
    b"appcmd",
    b"iisreset",
    b"webapppool",
    b"website",
    b"webadministration",
    b"iisadministration",
    b"msdeploy",
];

/// The rows of one host's minute kept per kind up to a cap, those past it
/// counted per kind. Rows come in time order, so the open minute is held
/// here and its kinds (a few, [`KINDS_PER_MINUTE`] at most) searched per row.
#[derive(Debug)]
struct MinuteCaps<K> {
    open: Option<(Arc<str>, i64)>,
    /// Per kind: how many kept, and those counted past them.
    kinds: Vec<(K, u32, Unlisted)>,
}

impl<K> MinuteCaps<K> {
    fn new() -> Self {
        MinuteCaps { open: None, kinds: Vec::new() }
    }

    /// Makes `host`'s `minute` the open one, handing the minute it closes
    /// to `closed` (each kind with rows past its cap).
    fn open(&mut self, host: &Arc<str>, minute: i64, closed: impl FnMut(&Arc<str>, i64, K, Unlisted)) {
        if !self.open.as_ref().is_some_and(|(h, m)| *m == minute && Arc::ptr_eq(h, host)) {
            self.close(closed);
            self.open = Some((Arc::clone(host), minute));
        }
    }

    /// Hands the open minute's kinds with rows past their cap to `closed`.
    fn close(&mut self, mut closed: impl FnMut(&Arc<str>, i64, K, Unlisted)) {
        if let Some((host, minute)) = self.open.take() {
            for (kind, _, past) in self.kinds.drain(..) {
                if past.count > 0 {
                    closed(&host, minute, kind, past);
                }
            }
        }
    }

    /// Whether a row of the open minute at `time`, of the kind `is_kind`
    /// finds (`kind` makes it when new), is past the `cap` of its kind,
    /// counting it then. A kind past the minute's first few (a hostile
    /// log's new queue or status a row) is never past: its rows are kept
    /// as they come.
    fn past_cap(
        &mut self,
        time: Timestamp,
        cap: u32,
        is_kind: impl Fn(&K) -> bool,
        kind: impl FnOnce() -> K,
    ) -> bool {
        let at = match self.kinds.iter().position(|(k, _, _)| is_kind(k)) {
            Some(i) => i,
            None if self.kinds.len() == KINDS_PER_MINUTE => return false,
            None => {
                self.kinds.push((kind(), 0, Unlisted::default()));
                self.kinds.len() - 1
            }
        };
        let (_, kept, past) = &mut self.kinds[at];
        if *kept == cap {
            *past += Unlisted { count: 1, last: time };
            return true;
        }
        *kept += 1;
        false
    }
}

/// Interns the strings rows repeat (stems, clients, reasons, queues), so
/// thousands of kept rows share them.
#[derive(Debug, Default)]
struct Strings(hashbrown::HashMap<Vec<u8>, Arc<str>>);

impl Strings {
    fn get(&mut self, b: &[u8]) -> Arc<str> {
        if let Some(a) = self.0.get(b) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(faultline_parser::value::decode_text(b).as_ref());
        self.0.insert(b.to_vec(), Arc::clone(&a));
        a
    }
}

impl<'s> Collector<'s> {
    /// A collector for one chunk of a source.
    pub fn new(file: SourceFile, scope: &'s Scope) -> Self {
        Collector {
            resolve: Resolver::new(file, scope),
            open_minute: None,
            open_unlisted: Vec::new(),
            error_caps: MinuteCaps::new(),
            logon_caps: MinuteCaps::new(),
            kept: Kept::default(),
            strings: Strings::default(),
            outside: Vec::new(),
            every_event: false,
        }
    }

    /// Keeps every event handed over (the user asked for all of them), not
    /// only the process starts that tell of IIS.
    pub fn keeping_every_event(self, every_event: bool) -> Self {
        Collector { every_event, ..self }
    }

    /// What the chunk kept.
    pub fn finish(mut self) -> Kept {
        self.close_minute();
        let unlisted = &mut self.kept.unlisted_errors;
        self.error_caps.close(|h, m, k, past| add_error_past(unlisted, h, m, k, past));
        let unlisted = &mut self.kept.unlisted_logons;
        self.logon_caps.close(|h, m, k, past| add_logon_past(unlisted, h, m, k, past));
        for (host, from, to) in std::mem::take(&mut self.outside) {
            widen(&mut self.kept.outside_spans, &host, (from, to));
        }
        self.kept
    }

    /// Places a record's time on `host`, or notes it among the times
    /// outside the run's range.
    fn place(&mut self, host: &Host, t: Timestamp) -> Option<Timestamp> {
        let placed = self.resolve.time(host, t);
        if placed.is_none() {
            let t = t + host.skew;
            match self
                .outside
                .iter_mut()
                .rev()
                .find(|(h, _, _)| Arc::ptr_eq(h, &host.name) || *h == host.name)
            {
                Some((_, from, to)) => {
                    *from = (*from).min(t);
                    *to = (*to).max(t);
                }
                None => self.outside.push((Arc::clone(&host.name), t, t)),
            }
        }
        placed
    }

    /// Whether a Security logon event at `time` on `host` is past those its
    /// minute keeps of its id and logon type (and is then counted).
    fn logon_past_kept(&mut self, event: &WinEvent, host: &Arc<str>, time: Timestamp) -> bool {
        use faultline_parser::winevent::Family;
        if event.family() != Family::SecurityAuditing || !matches!(event.event_id, 4625 | 4648 | 4771 | 4776)
        {
            return false;
        }
        let unlisted = &mut self.kept.unlisted_logons;
        self.logon_caps.open(host, time.minute(), |h, m, k, past| add_logon_past(unlisted, h, m, k, past));
        let (id, logon_type) = (event.event_id, event.data("LogonType"));
        self.logon_caps.past_cap(
            time,
            LOGONS_PER_MINUTE,
            |(i, t)| *i == id && t.as_deref() == logon_type,
            || (id, logon_type.map(Arc::from)),
        )
    }

    fn close_minute(&mut self) {
        if let Some((k, m)) = self.open_minute.take() {
            for (status, n) in self.open_unlisted.drain(..) {
                *self.kept.unlisted.entry((k.clone(), status)).or_default() += n;
            }
            self.kept.minutes.entry(k).or_default().add(&m);
        }
    }
}

impl RecordSink for Collector<'_> {
    type Error = std::convert::Infallible;
    /// The chunk's interned strings are let go, and its request and HTTPERR
    /// rows (the ones kept by the million) held at their size: the
    /// collectors of a large file's chunks wait for each other, and each
    /// one's interning table (a few thousand paths and tens of
    /// thousands of clients) and the room its vectors grew by added up to
    /// more than the rows (a 200 MB log of 2 M failed requests held 190 MB
    /// of tables alone).
    fn chunk_done(&mut self) -> Result<(), Self::Error> {
        self.strings = Strings::default();
        self.kept.requests.shrink_to_fit();
        self.kept.errors.shrink_to_fit();
        Ok(())
    }

    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        // An FTP reply is no HTTP status: 530 (not logged in) and 550 (no
        // such file) would count as a web site's server errors.
        if self.resolve.file().ftp_command(r).is_some() {
            return Ok(());
        }
        let host = self.resolve.host(r.computer_name);
        let Some(time) = self.place(&host, r.time) else { return Ok(()) };
        let host = host.name;
        let site = self.resolve.site_named(r.site_name);
        let minute = time.minute();
        let status = Status::of(r);
        let taken = r.time_taken_ms.unwrap_or(0);
        let same =
            |(h, s, mi): &MinuteKey| *mi == minute && *s == site && (Arc::ptr_eq(h, &host) || *h == host);
        if !self.open_minute.as_ref().is_some_and(|(k, _)| same(k)) {
            self.close_minute();
            let key = (Arc::clone(&host), site, minute);
            let m = self.kept.minutes.remove(&key).unwrap_or_default();
            self.open_minute = Some((key, m));
        }
        let interesting =
            (status.code >= 300 && status.code != 304) || status.is_client_abort() || taken >= 5_000;
        let mut keep = false;
        if let Some((_, m)) = &mut self.open_minute {
            m.total += 1;
            m.by_class[usize::from(status.code / 100).min(5)] += 1;
            m.taken_sum += taken;
            m.record_latency(taken);
            if taken >= 5_000 && status.win32 == 0 {
                m.slow += 1;
            }
            // The first failures of a minute are listed, however many
            // successes came before them (the first rows of a busy minute
            // listed only the failures among its first requests).
            if interesting {
                m.notable += 1;
                keep = m.notable <= NOTABLE_PER_MINUTE;
                if !keep {
                    m.unlisted += 1;
                    let one = Unlisted { count: 1, last: time };
                    match self.open_unlisted.iter().position(|(s, _)| *s == status) {
                        Some(i) => self.open_unlisted[i].1 += one,
                        // A log of a new status a row is counted in the
                        // minute only: searched per row, the list stays short.
                        None if self.open_unlisted.len() < KINDS_PER_MINUTE => {
                            self.open_unlisted.push((status, one));
                        }
                        None => {}
                    }
                }
            }
        }
        if keep {
            let stem = self.strings.get(r.uri_stem.unwrap_or(b"-"));
            let client = match r.client_ip {
                Some(a) => a.with_text(|t| self.strings.get(t.as_bytes())),
                None => self.strings.get(b"-"),
            };
            self.kept.requests.push(RequestRow {
                time,
                host,
                site,
                status,
                taken: Span::millis(taken),
                stem,
                client,
                source: self.resolve.file().index,
                body: Body::of(r.method, r.bytes_received),
                line: r.origin.line,
            });
        }
        Ok(())
    }

    fn http_error(&mut self, r: &HttpError<'_>) -> Result<(), Self::Error> {
        let reason = r.reason.kind();
        // Idle keep-alive connections expiring are the normal life of a
        // server: counted by the inventory, not kept.
        if reason == ReasonKind::TimerConnectionIdle {
            return Ok(());
        }
        let host = self.resolve.host(None);
        let Some(time) = self.place(&host, r.time) else { return Ok(()) };
        let unlisted = &mut self.kept.unlisted_errors;
        self.error_caps
            .open(&host.name, time.minute(), |h, m, k, past| add_error_past(unlisted, h, m, k, past));
        let queue_name = r.queue_name.unwrap_or_default();
        let site = self.resolve.site(r.site_id);
        let strings = &mut self.strings;
        let past = self.error_caps.past_cap(
            time,
            ERRORS_PER_MINUTE,
            |(k, q, s)| {
                *k == reason && *s == site && q.as_deref().unwrap_or_default().as_bytes() == queue_name
            },
            || (reason, r.queue_name.map(|q| strings.get(q)), site),
        );
        if past {
            return Ok(());
        }
        let phrase = self.strings.get(r.reason.as_bytes());
        let queue = r.queue_name.map(|q| self.strings.get(q));
        let uri = r.uri.map(|u| self.strings.get(u));
        self.kept.errors.push(ErrRow {
            time,
            host: host.name,
            status: r.status,
            reason,
            phrase,
            queue,
            site,
            uri,
            source: self.resolve.file().index,
            line: r.origin.line,
        });
        Ok(())
    }

    fn trace(&mut self, t: &Trace) -> Result<(), Self::Error> {
        let host = self.resolve.host_of(t.computer.as_deref());
        // A trace's time is its start; the same correction moves its end.
        // A page outside the range is held: its date may be a copy's.
        let mut outside = false;
        let (start, end) = match t.time() {
            Some(start) => {
                // A page's date is no record of what its host logged.
                let placed = if t.summary.time_of_file {
                    self.resolve.time(&host, start)
                } else {
                    self.place(&host, start)
                };
                let placed = match placed {
                    Some(placed) => placed,
                    // A copy dates a page after its request: one dated
                    // before the range shows a request before it too.
                    None if t.summary.time_of_file && self.resolve.after_range(&host, start) => {
                        outside = true;
                        start + host.skew
                    }
                    None => return Ok(()),
                };
                (Some(placed), t.summary.end.map(|e| e + (placed - start)))
            }
            None => (None, t.summary.end),
        };
        // Keep what the detectors and citations read; the per-event detail
        // (module timings, file accesses, rules) stays in the file, and a
        // folder of 100,000 traces then costs a few hundred bytes each.
        let trace = Trace {
            url: t.url.clone(),
            site_id: self.resolve.site(t.site_id),
            app_pool: t.app_pool.clone(),
            process_id: t.process_id,
            verb: t.verb.clone(),
            remote_user_name: t.remote_user_name.clone(),
            user_name: t.user_name.clone(),
            token_user_name: t.token_user_name.clone(),
            authentication_type: t.authentication_type.clone(),
            activity_id: t.activity_id.clone(),
            failure_reason: t.failure_reason.clone(),
            status: t.status,
            substatus: t.substatus,
            trigger_status: t.trigger_status,
            time_taken_ms: t.time_taken_ms,
            computer: t.computer.clone(),
            events: Vec::new(),
            summary: faultline_parser::freb::TraceSummary {
                start,
                end,
                first_error: t.summary.first_error.clone(),
                handler: t.summary.handler.clone(),
                truncated: t.summary.truncated,
                completed: t.summary.completed,
                auth_type: t.summary.auth_type.clone(),
                auth_user: t.summary.auth_user.clone(),
                error_page: t.summary.error_page.clone(),
                client: t.summary.client.clone(),
                physical_path: t.summary.physical_path.clone(),
                time_of_file: t.summary.time_of_file,
                request_bytes: t.summary.request_bytes,
                ..Default::default()
            },
        };
        let row = TraceRow { trace, host: host.name, source: self.resolve.file().index };
        if outside {
            self.kept.pages_outside.push(row)
        } else {
            self.kept.traces.push(row)
        }
        Ok(())
    }

    fn expect_events(&mut self, events: usize) {
        // Most of a process log's starts are only counted.
        if self.every_event {
            self.kept.events.reserve(events);
        }
    }

    fn event(&mut self, mut event: WinEvent) -> Result<(), Self::Error> {
        let host = self.resolve.host_of(event.computer.as_deref());
        let Some(time) = self.place(&host, event.time) else { return Ok(()) };
        // An event whose data could not be read would be taken for one
        // without it (a shutdown of no kind, a service of no name): only
        // counted, as its kind's events outside the catalogue are.
        if event.data_unread
            || !(self.every_event || process_start_tells_of_iis(&event))
            || (!self.every_event && self.logon_past_kept(&event, &host.name, time))
        {
            widen(&mut self.kept.counted_spans, &host.name, (time, time));
            return Ok(());
        }
        event.time = time;
        self.kept.events.push(EventRow { event, host: host.name, source: self.resolve.file().index });
        Ok(())
    }

    fn counted_events(&mut self, counted: CountedEvents<'_>) -> Result<(), Self::Error> {
        let host = self.resolve.host_of(counted.computer);
        let placed = counted.span.map(|(a, b)| (self.place(&host, a), self.place(&host, b)));
        let span = match placed {
            Some((Some(a), Some(b))) => (a, b),
            Some((Some(t), None) | (None, Some(t))) => (t, t),
            _ => return Ok(()),
        };
        widen(&mut self.kept.counted_spans, &host.name, span);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use faultline_parser::winevent::{DataValue, EventOrigin, TimeSource};

    use super::*;
    use crate::resolve::SourceKind;

    fn start(provider: &str, id: u16, data: &[(&str, &str)]) -> WinEvent {
        WinEvent {
            time: Timestamp::from_parts(1_700_000_000, 0),
            time_source: TimeSource::TimeCreated,
            origin: EventOrigin::Record { record_id: 1, chunk: 0 },
            provider: Arc::from(provider),
            event_id: id,
            computer: Some(Arc::from("WEB01")),
            data: data
                .iter()
                .map(|(n, v)| DataValue { name: Some(Arc::from(*n)), value: Arc::from(*v) })
                .collect(),
            ..WinEvent::default()
        }
    }

    const SYSMON: &str = "Microsoft-Windows-Sysmon";
    const SECURITY: &str = "Microsoft-Windows-Security-Auditing";

    /// The events a collector keeps of `events`, by their images.
    fn kept(every_event: bool, events: Vec<WinEvent>) -> (Vec<String>, Option<(Timestamp, Timestamp)>) {
        let scope = Scope::default();
        let file = SourceFile::synthetic(0, "Sysmon.evtx", SourceKind::Evtx);
        let mut collector = Collector::new(file, &scope).keeping_every_event(every_event);
        for e in events {
            collector.event(e).unwrap();
        }
        let kept = collector.finish();
        let images = kept
            .events
            .iter()
            .map(|r| {
                let e = &r.event;
                e.data("Image").or_else(|| e.data("NewProcessName")).unwrap_or(&e.provider).to_string()
            })
            .collect();
        (images, kept.counted_spans.get("WEB01").copied())
    }

    /// The store of an analysis of one file of `text` named `name`.
    fn store_of(name: &str, text: &str) -> crate::evidence::Store {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(name), text).expect("writes");
        let scope = Scope::default();
        crate::analyze(&[dir.path().to_path_buf()], &faultline_parser::ReadConfig::default(), &scope, &|_| {})
            .store
    }

    /// A minute of thousands of statuses, or of HTTP.sys queues, each new
    /// (a hostile log) counts apart only the first few past the rows kept:
    /// every row is counted in the minute, and the rows of queues past the
    /// first few are kept, so no list searched per row grows with them.
    #[test]
    fn a_minute_of_ever_new_statuses_or_queues_counts_few_apart() {
        let mut log = String::from(
            "#Fields: date time s-computername cs-uri-stem sc-status sc-substatus sc-win32-status\n",
        );
        for i in 0..3_000 {
            log.push_str(&format!("2025-11-24 10:00:{:02} WEB01 /p 500 0 {i}\n", i % 60));
        }
        let store = store_of("u_ex251124.log", &log);
        assert_eq!(store.requests.len(), NOTABLE_PER_MINUTE as usize);
        let minute = store.minutes.values().next().expect("a minute");
        assert_eq!(minute.unlisted, 3_000 - NOTABLE_PER_MINUTE);
        assert_eq!(store.unlisted.len(), KINDS_PER_MINUTE);
        let mut log = String::from(
            "#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename\n",
        );
        for i in 0..3_000 {
            let queue = if i < 2_000 { "ShopPool".to_string() } else { format!("Pool{i}") };
            log.push_str(&format!(
                "2025-11-24 10:00:{:02} 198.51.100.7 5000 10.0.0.5 443 HTTP/1.1 GET / - 503 1 QueueFull {queue}\n",
                i % 60
            ));
        }
        let store = store_of("httperr1.log", &log);
        // ShopPool's first 200, then one row of each other queue: 63
        // counted apart, 937 past them kept as they come.
        assert_eq!(store.errors.len(), 200 + 63 + 937);
        assert_eq!(store.unlisted_rejections(), (1_800, 1));
    }

    /// A minute of a password-guessing run keeps its first 200 failed
    /// logons of a logon type and counts the rest; a service's failed
    /// logon after them is kept (its type is another), and so is every
    /// successful service logon (4624, not capped).
    #[test]
    fn a_minute_of_failed_logons_keeps_the_first_of_each_type() {
        let event = |id: u16, i: usize, logon_type: &str| {
            format!(
                "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider \
                 Name='Microsoft-Windows-Security-Auditing'/><EventID>{id}</EventID><TimeCreated \
                 SystemTime='2025-11-24T10:00:{:02}.{:03}Z'/><EventRecordID>{i}</EventRecordID><Channel>Security</Channel>\
                 <Computer>WEB01</Computer></System><EventData><Data Name='TargetUserName'>user{i}</Data><Data \
                 Name='LogonType'>{logon_type}</Data></EventData></Event>\n",
                i % 60,
                i % 1000
            )
        };
        let mut xml = String::from("<Events>\n");
        for i in 0..500 {
            xml.push_str(&event(4625, i, "3"));
        }
        for i in 500..503 {
            xml.push_str(&event(4625, i, "5"));
        }
        for i in 503..803 {
            xml.push_str(&event(4624, i, "5"));
        }
        xml.push_str("</Events>\n");
        let store = store_of("Security.xml", &xml);
        let count = |id: u16, logon_type: &str| {
            store
                .events
                .iter()
                .filter(|e| e.event.event_id == id && e.data("LogonType") == Some(logon_type))
                .count()
        };
        assert_eq!((count(4625, "3"), count(4625, "5"), count(4624, "5")), (200, 3, 300));
        assert_eq!(store.unlisted_logons(), (300, 1));
    }

    /// A server's ordinary process starts are counted, not kept: the IIS
    /// worker's children, starts under a pool's identity, IIS's tools and
    /// PowerShell running a script (a deployment's) are kept, as is every
    /// other catalogue event; `--all-events` keeps
    /// them all.
    #[test]
    fn only_the_process_starts_that_tell_of_iis_are_kept() {
        let w3wp = "C:\\Windows\\System32\\inetsrv\\w3wp.exe";
        const POWERSHELL: &str = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
        let events = || {
            vec![
                start(
                    SYSMON,
                    1,
                    &[("Image", "C:\\Windows\\System32\\svchost.exe"), ("User", "NT AUTHORITY\\SYSTEM")],
                ),
                start(SYSMON, 1, &[("Image", "C:\\Windows\\System32\\cmd.exe"), ("ParentImage", w3wp)]),
                start(
                    SYSMON,
                    1,
                    &[("Image", "C:\\Temp\\potato.exe"), ("User", "IIS APPPOOL\\DefaultAppPool")],
                ),
                start(
                    SYSMON,
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\cmd.exe"),
                        ("CommandLine", "cmd /c C:\\Windows\\System32\\inetsrv\\appcmd.exe list sites"),
                    ],
                ),
                start(SECURITY, 4688, &[("NewProcessName", "C:\\Windows\\System32\\conhost.exe")]),
                start(
                    SECURITY,
                    4688,
                    &[
                        ("NewProcessName", "C:\\Windows\\System32\\whoami.exe"),
                        ("SubjectDomainName", "IIS APPPOOL"),
                    ],
                ),
                start(SECURITY, 4688, &[("NewProcessName", "C:\\Windows\\System32\\iisreset.exe")]),
                // A deployment's script, whose lines stop pools unseen.
                start(
                    SECURITY,
                    4688,
                    &[
                        ("NewProcessName", POWERSHELL),
                        ("CommandLine", "powershell.exe -Command \". 'D:\\Octopus\\Work\\Deploy.ps1'\""),
                    ],
                ),
                start(
                    SECURITY,
                    4688,
                    &[("NewProcessName", POWERSHELL), ("CommandLine", "powershell.exe Get-Process")],
                ),
                start("Microsoft-Windows-WAS", 5002, &[]),
            ]
        };
        // A second apart: the counted span runs from the first left out
        // (svchost, at 0) to the last (conhost, at 4).
        let timed = |events: Vec<WinEvent>| -> Vec<WinEvent> {
            events
                .into_iter()
                .enumerate()
                .map(|(i, e)| WinEvent { time: e.time + Span::secs(i as i64), ..e })
                .collect()
        };
        let (images, counted) = kept(false, timed(events()));
        assert_eq!(
            images,
            [
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Temp\\potato.exe",
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Windows\\System32\\whoami.exe",
                "C:\\Windows\\System32\\iisreset.exe",
                POWERSHELL,
                "Microsoft-Windows-WAS",
            ]
        );
        let t = Timestamp::from_parts(1_700_000_000, 0);
        assert_eq!(
            counted,
            Some((t, t + Span::secs(8))),
            "the starts left out still say when the host logged"
        );
        let (all, _) = kept(true, events());
        assert_eq!(all.len(), 10);
    }
}
