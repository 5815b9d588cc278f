//! Windows events, normalized: one type for records from EVTX files and from
//! XML exports, keyed on (provider, event id) as the analyzer needs them.

mod catalogue;

use std::sync::Arc;

use serde::Serialize;

pub use catalogue::{
    CLOCK_STEP, ClockSet, Family, SCRIPT_FILE_EXTENSIONS, SqlLoginFailed, WebEvent, canonical_provider,
    clock_set, event_log_service_started, family_of, is_pool_identity, is_relevant, is_script_file,
    is_worker_image, keep_extracted, keeps, pool_of_identity, service_change, sql_login_failed,
};

use crate::time::Timestamp;

/// Where an event's time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum TimeSource {
    /// `System/TimeCreated/@SystemTime` (the event time).
    TimeCreated,
    /// Sysmon's `UtcTime`: when the process started, the connection was
    /// made or the file written. Sysmon logs some events, its network
    /// connections most, seconds after (TimeCreated is when it wrote them).
    UtcTime,
    /// The EVTX record header's written time (TimeCreated was missing).
    RecordHeader,
    /// Neither: the time is the epoch and the record sorts first.
    Missing,
}

/// An `EventRecordID`, shown as the log wrote it. App Service's
/// `eventlog.xml` writes the id as a signed 32-bit number, which turns
/// negative past 2^31 and counts up to -1 before it reaches 0 again: such an
/// id is cited negative, as written, so that a search of the file for the
/// cited id finds its event. Ids order events of one instant only (events
/// sort by time first): negative ones after every positive one, and among
/// themselves as they count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(u64);

impl RecordId {
    /// Marks an id written as a negative 32-bit number; its low 32 bits
    /// hold the number's bits, so negative ids sort among themselves as
    /// their unsigned forms do (-2147483648 first, -1 last).
    const WRITTEN_NEGATIVE: u64 = 1 << 63;

    /// An id read as an unsigned number (EVTX, an export from Windows);
    /// `None` past 2^63 - 1, which no log numbers its records up to (a
    /// damaged record), and whose top bit marks the ids written negative.
    pub const fn new(id: u64) -> Option<RecordId> {
        if id & Self::WRITTEN_NEGATIVE == 0 { Some(RecordId(id)) } else { None }
    }

    /// An id written as a 32-bit number that came out negative.
    pub const fn written_negative(id: i32) -> RecordId {
        RecordId(Self::WRITTEN_NEGATIVE | id as u32 as u64)
    }

    /// The id as written: negative for one written so.
    pub const fn as_written(self) -> i64 {
        if self.0 & Self::WRITTEN_NEGATIVE != 0 { self.0 as u32 as i32 as i64 } else { self.0 as i64 }
    }

    /// A number standing for the id in the same order (for compact stores).
    pub const fn key(self) -> u64 {
        self.0
    }

    /// The id [`RecordId::key`] gave (a key no id gave: whatever id its
    /// bits make).
    pub const fn from_key(key: u64) -> RecordId {
        RecordId(key)
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_written() {
            n if n < 0 => write!(f, "{n}"),
            _ => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for RecordId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_written() {
            n if n < 0 => s.serialize_i64(n),
            _ => s.serialize_u64(self.0),
        }
    }
}

/// Where an event is in its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventOrigin {
    /// An EVTX record: its record id, and the chunk it was read from.
    Record {
        /// `EventRecordID` from the record header.
        record_id: u64,
        /// 0-based chunk index in the file.
        chunk: u64,
    },
    /// An XML export: the 1-based line and byte offset of the `<Event>` tag.
    Xml {
        /// 1-based line.
        line: u64,
        /// Byte offset.
        offset: u64,
    },
}

impl EventOrigin {
    /// The line of an XML export's event (an EVTX record has none).
    pub fn line(&self) -> Option<u64> {
        match self {
            EventOrigin::Xml { line, .. } => Some(*line),
            EventOrigin::Record { .. } => None,
        }
    }
}

/// One `<Data>` value (or a leaf of `UserData`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DataValue {
    /// The `Name` attribute (or element name under `UserData`); `None` for
    /// the positional `<Data>` of classic providers. Interned: names repeat.
    pub name: Option<Arc<str>>,
    /// The value as text (binary data as upper-case hex). Interned by the
    /// event log readers: an event log's values repeat (a few thousand
    /// distinct among millions), and a kept event holds a score of them.
    pub value: Arc<str>,
}

/// A Windows event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WinEvent {
    /// Event time, UTC, 100 ns precision.
    pub time: Timestamp,
    /// Where `time` came from.
    pub time_source: TimeSource,
    /// Position in the source.
    pub origin: EventOrigin,
    /// `EventRecordID` when the source has one.
    pub record_id: Option<RecordId>,
    /// `Provider/@Name` as written (short names such as `WAS` are kept; see
    /// [`canonical_provider`]).
    pub provider: Arc<str>,
    /// `Provider/@Guid`.
    pub provider_guid: Option<Arc<str>>,
    /// `Provider/@EventSourceName`.
    pub event_source_name: Option<Arc<str>>,
    /// The low 16 bits of the event id.
    pub event_id: u16,
    /// `EventID/@Qualifiers` (classic providers), or the high 16 bits when a
    /// full 32-bit id was written.
    pub qualifiers: Option<u16>,
    /// `Version`.
    pub version: Option<u8>,
    /// `Level` (1 critical, 2 error, 3 warning, 4 information, 5 verbose).
    pub level: Option<u8>,
    /// `Task`.
    pub task: Option<u16>,
    /// `Opcode`.
    pub opcode: Option<u8>,
    /// `Keywords` bit mask.
    pub keywords: Option<u64>,
    /// `Channel` (`System`, `Application`, `Security`...).
    pub channel: Option<Arc<str>>,
    /// `Computer`.
    pub computer: Option<Arc<str>>,
    /// `Execution/@ProcessID`.
    pub process_id: Option<u32>,
    /// `Execution/@ThreadID`.
    pub thread_id: Option<u32>,
    /// `Correlation/@ActivityID`.
    pub activity_id: Option<Box<str>>,
    /// `Security/@UserID`.
    pub user_sid: Option<Box<str>>,
    /// `EventData`/`UserData` values in document order.
    pub data: Vec<DataValue>,
    /// `EventData/Binary`, hex.
    pub binary: Option<String>,
    /// The record's data could not be read (a damaged record): only its
    /// System values are known. Rules and detectors, which would take the
    /// missing data for absent values, leave it to the timeline and tables.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub data_unread: bool,
}

/// An event with no time, provider, id or data: a base for building one.
impl Default for WinEvent {
    fn default() -> Self {
        WinEvent {
            time: Timestamp::default(),
            time_source: TimeSource::Missing,
            origin: EventOrigin::Record { record_id: 0, chunk: 0 },
            record_id: None,
            provider: Arc::from(""),
            provider_guid: None,
            event_source_name: None,
            event_id: 0,
            qualifiers: None,
            version: None,
            level: None,
            task: None,
            opcode: None,
            keywords: None,
            channel: None,
            computer: None,
            process_id: None,
            thread_id: None,
            activity_id: None,
            user_sid: None,
            data: Vec::new(),
            binary: None,
            data_unread: false,
        }
    }
}

impl WinEvent {
    /// The event timed by when its action happened, where the event says
    /// so apart from when it was written: Sysmon's `UtcTime`.
    pub(crate) fn timed_by_action(mut self) -> WinEvent {
        if self.provider.eq_ignore_ascii_case("Microsoft-Windows-Sysmon")
            && let Some(at) = self.data("UtcTime").and_then(|t| crate::time::parse_date_time(t.as_bytes()))
        {
            self.time = at;
            self.time_source = TimeSource::UtcTime;
        }
        self
    }

    /// A named data value.
    pub fn data(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|d| d.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .map(|d| &*d.value)
    }

    /// The `index`-th data value (positional data of classic providers).
    pub fn data_at(&self, index: usize) -> Option<&str> {
        self.data.get(index).map(|d| &*d.value)
    }

    /// The IIS site id in the metabase path the event's data names
    /// (`/LM/W3SVC/<id>/ROOT`, as ANCM and ASP.NET write it).
    pub fn metabase_site(&self) -> Option<u32> {
        self.data.iter().find_map(|d| {
            let at = d.value.find("/LM/W3SVC/")? + "/LM/W3SVC/".len();
            let digits = &d.value[at..];
            let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
            digits[..end].parse().ok()
        })
    }

    /// The app pool the event names: WAS's `AppPoolID`, the `-ap "<pool>"`
    /// of the w3wp.exe a process event shows (the worker itself starting,
    /// or the parent of what it started), or else the pool whose identity
    /// (`IIS APPPOOL\<pool>`) the event's program ran as: Sysmon's `User`,
    /// a Security record's subject or target, an ASP.NET event's process
    /// account.
    pub fn app_pool(&self) -> Option<&str> {
        if let Some(pool) = self.data("AppPoolID") {
            return Some(pool);
        }
        let is_worker = |image: Option<&str>| image.is_some_and(is_worker_image);
        let line = if is_worker(self.data("Image").or_else(|| self.data("NewProcessName"))) {
            self.data("CommandLine")
        } else if is_worker(self.data("ParentImage").or_else(|| self.data("ParentProcessName"))) {
            self.data("ParentCommandLine")
        } else {
            None
        };
        if let Some(pool) = line.and_then(command_line_pool) {
            return Some(pool);
        }
        // Security writes the account as a domain and a name.
        let split = [("SubjectDomainName", "SubjectUserName"), ("TargetDomainName", "TargetUserName")]
            .into_iter()
            .find_map(|(domain, user)| {
                self.data(domain)
                    .filter(|d| d.eq_ignore_ascii_case("IIS APPPOOL"))
                    .and_then(|_| self.data(user))
                    .filter(|user| !user.is_empty())
            });
        split.or_else(|| self.data.iter().find_map(|d| pool_of_identity(d.value.trim())))
    }

    /// The provider family this event belongs to.
    pub fn family(&self) -> Family {
        family_of(&self.provider)
    }

    /// This event as one counted record of its kind.
    pub fn as_counted(&self) -> CountedEvents<'_> {
        CountedEvents {
            channel: self.channel.as_deref(),
            provider: &self.provider,
            event_id: self.event_id,
            computer: self.computer.as_deref(),
            records: 1,
            span: (self.time_source != TimeSource::Missing).then_some((self.time, self.time)),
        }
    }

    /// Deterministic sort key: time, then record id, then origin.
    pub fn sort_key(&self) -> (Timestamp, u64, EventOrigin) {
        (self.time, self.record_id.map_or(u64::MAX, RecordId::key), self.origin)
    }
}

/// Records of one kind that are counted, not kept: how many, and the span
/// of their times. Readers may group a kind's records (an event log groups
/// them per chunk), so a sink must not assume one record per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CountedEvents<'a> {
    /// Channel, if known.
    pub channel: Option<&'a str>,
    /// Provider name as written.
    pub provider: &'a str,
    /// Event id (low 16 bits).
    pub event_id: u16,
    /// `Computer`, if known.
    pub computer: Option<&'a str>,
    /// How many records.
    pub records: u64,
    /// The earliest and the latest time among them, when any has one.
    pub span: Option<(Timestamp, Timestamp)>,
}

/// Sorts events deterministically (time, record id, position) and hands
/// them to the sink: catalogue events in full, the others as counts. The
/// events are moved out; `events` is left empty.
pub fn deliver_sorted<S: crate::RecordSink>(
    events: &mut Vec<WinEvent>,
    all_events: bool,
    sink: &mut S,
) -> Result<(), S::Error> {
    events.sort_by_key(WinEvent::sort_key);
    let kept = |e: &WinEvent| all_events || (is_relevant(&e.provider, e.event_id) && keep_extracted(e));
    sink.expect_events(if all_events { events.len() } else { events.iter().filter(|e| kept(e)).count() });
    for e in events.drain(..) {
        if kept(&e) {
            sink.event(e)?;
        } else {
            sink.counted_events(e.as_counted())?;
        }
    }
    Ok(())
}

/// The pool of a w3wp.exe command line: its `-ap "<pool>"`.
fn command_line_pool(line: &str) -> Option<&str> {
    let after = &line[line.find("-ap ")? + 4..];
    let after = after.trim_start();
    let pool = match after.strip_prefix('"') {
        Some(quoted) => &quoted[..quoted.find('"')?],
        None => after.split_whitespace().next()?,
    };
    (!pool.is_empty()).then_some(pool)
}
