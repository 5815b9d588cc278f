//! The rows the analysis keeps, typed: a request's status is a [`Status`],
//! an HTTP.sys rejection's reason a [`ReasonKind`], a time taken a [`Span`].

use std::sync::Arc;

use faultline_parser::w3c::ReasonKind;
use faultline_parser::winevent::Family;
use faultline_parser::{Request, Span, Timestamp, Trace, WinEvent};

/// Requests of one host and site in one minute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Minute {
    /// All requests.
    pub total: u32,
    /// By status class: 1xx..5xx at indexes 1..5.
    pub by_class: [u32; 6],
    /// Requests of 5 s or more that completed normally (win32 0).
    pub slow: u32,
    /// Failed, slow or cut-off requests, listed or not.
    pub notable: u32,
    /// Failed, slow or cut-off requests past the rows a minute keeps:
    /// counted here, not listed.
    pub unlisted: u32,
    /// Sum of time-taken, ms.
    pub taken_sum: u64,
    /// Time-taken histogram: bucket 0 holds 0 ms, bucket `i` holds
    /// `2^(i-1)..2^i` ms, the last everything longer. Enough for percentiles
    /// within a factor of two, in 80 bytes a minute.
    pub latency: [u32; LATENCY_BUCKETS],
}

/// Buckets of [`Minute::latency`]; the last starts at 2^18 ms (about 4 min).
pub const LATENCY_BUCKETS: usize = 20;

impl Minute {
    /// Adds another minute's counts.
    pub fn add(&mut self, other: &Minute) {
        self.total += other.total;
        for (a, b) in self.by_class.iter_mut().zip(other.by_class) {
            *a += b;
        }
        self.slow += other.slow;
        self.notable += other.notable;
        self.unlisted += other.unlisted;
        self.taken_sum += other.taken_sum;
        for (a, b) in self.latency.iter_mut().zip(other.latency) {
            *a += b;
        }
    }

    /// Counts one request's time-taken.
    pub fn record_latency(&mut self, ms: u64) {
        let bucket = (u64::BITS - ms.leading_zeros()) as usize;
        self.latency[bucket.min(LATENCY_BUCKETS - 1)] += 1;
    }

    /// The `q` quantile (0 to 1) of time-taken, as the upper bound of its
    /// histogram bucket in ms; `None` without requests.
    pub fn latency_quantile(&self, q: f64) -> Option<u64> {
        let total: u64 = self.latency.iter().map(|&n| u64::from(n)).sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.latency.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return Some(if i == 0 { 0 } else { (1u64 << i) - 1 });
            }
        }
        None
    }
}

/// What IIS answered: status, sub-status and the Win32 (or NTSTATUS,
/// HRESULT, WinHTTP) code behind it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Status {
    /// `sc-status`.
    pub code: u16,
    /// `sc-substatus`.
    pub sub: u32,
    /// `sc-win32-status`.
    pub win32: u64,
}

impl Status {
    /// What an access-log row says IIS answered (`-` fields count as 0).
    pub fn of(r: &Request<'_>) -> Status {
        Status {
            code: r.status.unwrap_or(0),
            sub: r.substatus.unwrap_or(0),
            win32: r.win32_status.unwrap_or(0),
        }
    }

    /// Whether the status is `code.sub`.
    pub fn is(self, code: u16, sub: u32) -> bool {
        self.code == code && self.sub == sub
    }

    /// A 5xx.
    pub fn is_server_error(self) -> bool {
        self.code >= 500
    }

    /// The client went away before the response was sent (64: the network
    /// name is no longer available; 995: the I/O was aborted; 1236: the
    /// connection was aborted by the local system).
    pub fn is_client_abort(self) -> bool {
        matches!(self.win32, 64 | 995 | 1236)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{} ({})", self.code, self.sub, crate::describe::win32_status(self.win32))
    }
}

/// A request row worth citing.
#[derive(Clone, Debug)]
pub struct RequestRow {
    /// End time.
    pub time: Timestamp,
    /// Host.
    pub host: Arc<str>,
    /// Site id.
    pub site: Option<u32>,
    /// What IIS answered.
    pub status: Status,
    /// `time-taken`.
    pub taken: Span,
    /// URI stem.
    pub stem: Arc<str>,
    /// Client address (the TCP peer).
    pub client: Arc<str>,
    /// Source and line.
    pub source: u32,
    /// What the client sent with it: IIS's time-taken includes receiving a
    /// request's body, so a large upload over a slow link is slow without
    /// the server being so.
    pub body: Body,
    /// 1-based line.
    pub line: u64,
}

/// The body a request carried, as far as the log says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Body {
    /// A method that sends none (GET, HEAD...), or little (`cs-bytes`
    /// under [`Body::LARGE`]).
    #[default]
    Small,
    /// `cs-bytes` of [`Body::LARGE`] or more.
    Large,
    /// A POST, PUT or PATCH in a log without `cs-bytes`: an upload's size
    /// unknown.
    Unmeasured,
}

impl Body {
    /// A request this large (1 MB) takes seconds to send over a slow link.
    pub const LARGE: u64 = 1_000_000;

    /// The body of a request of `method` whose log gave `received` bytes.
    pub fn of(method: Option<&[u8]>, received: Option<u64>) -> Body {
        match received {
            Some(n) if n >= Body::LARGE => Body::Large,
            Some(_) => Body::Small,
            None => {
                let sends =
                    |m: &[u8]| [&b"POST"[..], b"PUT", b"PATCH"].iter().any(|s| m.eq_ignore_ascii_case(s));
                if method.is_some_and(sends) { Body::Unmeasured } else { Body::Small }
            }
        }
    }
}

impl RequestRow {
    /// When the request started: W3C logs a request when it ends.
    pub fn start(&self) -> Timestamp {
        self.time - self.taken
    }
}

/// An HTTPERR row.
#[derive(Clone, Debug)]
pub struct ErrRow {
    /// When HTTP.sys gave up.
    pub time: Timestamp,
    /// Host.
    pub host: Arc<str>,
    /// Status sent.
    pub status: Option<u16>,
    /// Why.
    pub reason: ReasonKind,
    /// The reason as HTTP.sys wrote it.
    pub phrase: Arc<str>,
    /// Queue (app pool).
    pub queue: Option<Arc<str>>,
    /// Site id.
    pub site: Option<u32>,
    /// URI.
    pub uri: Option<Arc<str>>,
    /// Source.
    pub source: u32,
    /// Line.
    pub line: u64,
}

/// What the HTTP.sys rejections past the rows kept are counted by: host,
/// minute since the epoch, reason, queue and site.
pub type ErrKey = (Arc<str>, i64, ReasonKind, Option<Arc<str>>, Option<u32>);

/// Rows of one kind counted past the rows kept (HTTP.sys rejections of an
/// [`ErrKey`], a minute's requests of a status): how many, and when the
/// last was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unlisted {
    /// How many.
    pub count: u32,
    /// The last one's time.
    pub last: Timestamp,
}

impl std::ops::AddAssign for Unlisted {
    fn add_assign(&mut self, other: Unlisted) {
        self.last = if self.count == 0 { other.last } else { self.last.max(other.last) };
        self.count += other.count;
    }
}

impl ErrRow {
    /// What the row is counted by when past the rows kept.
    pub fn key(&self) -> ErrKey {
        (Arc::clone(&self.host), self.time.minute(), self.reason, self.queue.clone(), self.site)
    }
}

/// A catalogue event.
#[derive(Clone, Debug)]
pub struct EventRow {
    /// The event (its time corrected by the host's skew).
    pub event: WinEvent,
    /// Host (short name).
    pub host: Arc<str>,
    /// Source.
    pub source: u32,
}

impl EventRow {
    /// When it happened.
    pub fn time(&self) -> Timestamp {
        self.event.time
    }

    /// An event data value by name.
    pub fn data(&self, name: &str) -> Option<&str> {
        self.event.data(name)
    }

    /// The `index`-th data value (positional data of classic providers).
    pub fn data_at(&self, index: usize) -> Option<&str> {
        self.event.data_at(index)
    }

    /// The IIS site id in the metabase path the event's data names.
    pub fn metabase_site(&self) -> Option<u32> {
        self.event.metabase_site()
    }
}

/// A kind of Windows event: who writes it and its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKind {
    /// The provider family.
    pub family: Family,
    /// The event id.
    pub id: u16,
}

impl EventKind {
    /// The kind of `id` written by `family`.
    pub const fn new(family: Family, id: u16) -> EventKind {
        EventKind { family, id }
    }

    /// Whether `e` is of this kind.
    pub fn matches(self, e: &WinEvent) -> bool {
        self.is(e.family(), e.event_id)
    }

    /// Whether an event of `family` and `id` is of this kind (the family
    /// read once for an event tested against many kinds).
    pub fn is(self, family: Family, id: u16) -> bool {
        self.id == id && self.family == family
    }
}

/// A FREB trace (its events dropped, the summary kept).
#[derive(Clone, Debug)]
pub struct TraceRow {
    /// The trace.
    pub trace: Trace,
    /// Host.
    pub host: Arc<str>,
    /// Source.
    pub source: u32,
}

/// Host, site id and minute since the epoch.
pub type MinuteKey = (Arc<str>, Option<u32>, i64);

/// Appends `more` to `all`; when `all` is empty, takes `more` whole rather
/// than copying it (a single large source's rows are most of the memory).
pub(crate) fn join<T>(all: &mut Vec<T>, mut more: Vec<T>) {
    if all.is_empty() {
        *all = more;
    } else {
        all.append(&mut more);
    }
}

/// Rows of many collectors held as they came and joined once, at their
/// exact size: appended one collector after another, a vector of millions
/// of kept rows grew by doubling, its old and new buffers held at once
/// (a log of 2 M failed requests peaked near four times the rows' size).
#[derive(Debug)]
pub struct Pieces<T>(Vec<Vec<T>>);

impl<T> Default for Pieces<T> {
    fn default() -> Self {
        Pieces(Vec::new())
    }
}

impl<T> Pieces<T> {
    /// Holds `rows` after those held already.
    pub fn push(&mut self, rows: Vec<T>) {
        if !rows.is_empty() {
            self.0.push(rows);
        }
    }

    /// Holds `other`'s rows after these.
    pub fn append(&mut self, other: Pieces<T>) {
        self.0.extend(other.0);
    }

    /// Every row, in the order held.
    pub fn join(self) -> Vec<T> {
        if self.0.len() == 1 {
            return self.0.into_iter().next().unwrap_or_default();
        }
        let mut all = Vec::with_capacity(self.0.iter().map(Vec::len).sum());
        for rows in self.0 {
            all.extend(rows);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::{Minute, Pieces};

    #[test]
    fn pieces_join_in_the_order_held_and_skip_the_empty() {
        let mut a = Pieces::default();
        a.push(vec![1, 2]);
        a.push(Vec::new());
        let mut b = Pieces::default();
        b.push(vec![3]);
        b.push(vec![4, 5]);
        a.append(b);
        assert_eq!(a.0.len(), 3);
        assert_eq!(a.join(), vec![1, 2, 3, 4, 5]);
        let mut one = Pieces::default();
        one.push(vec![7]);
        assert_eq!(one.join(), vec![7]);
        assert_eq!(Pieces::<u8>::default().join(), Vec::<u8>::new());
    }

    #[test]
    fn latency_quantiles_come_within_a_factor_of_two() {
        let mut m = Minute::default();
        for ms in [0, 3, 12, 15, 40, 41, 42, 45, 900, 70_000] {
            m.record_latency(ms);
        }
        assert_eq!(m.latency_quantile(0.0), Some(0));
        assert_eq!(m.latency_quantile(0.5), Some(63)); // 41 ms lies in 32..64
        assert_eq!(m.latency_quantile(0.9), Some(1023));
        assert_eq!(m.latency_quantile(1.0), Some(131_071));
        let mut n = Minute::default();
        n.record_latency(u64::MAX);
        m.add(&n);
        assert_eq!(m.latency_quantile(1.0), Some((1 << 19) - 1));
        assert_eq!(Minute::default().latency_quantile(0.5), None);
    }
}
