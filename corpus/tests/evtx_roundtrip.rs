//! The EVTX writer against the readers: a few thousand varied events over
//! several chunks, read back by the `evtx` crate (rendered XML, read with
//! faultline's event-XML reader), by faultline's own EVTX reader in full and
//! in counted mode, and checked field by field against what was written.

#![allow(clippy::print_stderr)] // a test says loudly when it was skipped

use std::io::Cursor;

use faultline_corpus::evtx::{EventData, EventRecord, EvtxWriter, Value};
use faultline_corpus::rng::Rng;
use faultline_parser::time::{from_filetime, parse_rfc3339};
use faultline_parser::winevent::TimeSource;
use faultline_parser::{CountedEvents, Diagnostic, RecordSink, Timestamp, WinEvent};

/// The kinds of values a field takes.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Str,
    U8,
    U16,
    U32,
    U64,
    Hex32,
    Hex64,
    FileTime,
    Guid,
    Sid,
    Bin,
}

/// What an event's `EventData` looks like.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Named(&'static [(&'static str, Ty)]),
    /// Positional values, of 0 to n (string, number or null).
    Positional(usize),
    /// Named data whose names and arity vary from event to event.
    Varying,
    /// `<EventData/>`: named, but no values.
    Empty,
    /// No `EventData` at all.
    Nothing,
}

struct Provider {
    name: &'static str,
    guid: Option<&'static str>,
    source: Option<&'static str>,
    channel: &'static str,
    qualifiers: bool,
    shape: Shape,
}

const PROVIDERS: &[Provider] = &[
    Provider {
        name: "Microsoft-Windows-WAS",
        guid: Some("{524B5D04-133C-4A62-8362-64E8EDB9CE40}"),
        source: Some("WAS"),
        channel: "System",
        qualifiers: true,
        shape: Shape::Named(&[("AppPoolID", Ty::Str), ("ProcessID", Ty::Str)]),
    },
    Provider {
        name: "Microsoft-Windows-IIS-W3SVC-WP",
        guid: Some("{670080D9-742A-4187-8D16-41143D1290BD}"),
        source: Some("W3SVC-WP"),
        channel: "Application",
        qualifiers: true,
        shape: Shape::Named(&[("AppPoolID", Ty::Str), ("ErrorCode", Ty::Hex32), ("Module", Ty::Str)]),
    },
    Provider {
        name: "Microsoft-Windows-Security-Auditing",
        guid: Some("{54849625-5478-4994-A5BA-3E3B0328C30D}"),
        source: None,
        channel: "Security",
        qualifiers: false,
        shape: Shape::Named(&[
            ("SubjectUserSid", Ty::Sid),
            ("SubjectUserName", Ty::Str),
            ("SubjectLogonId", Ty::Hex64),
            ("LogonType", Ty::U32),
            ("LogonGuid", Ty::Guid),
            ("ProcessId", Ty::Hex64),
            ("IpPort", Ty::U16),
            ("ImpersonationLevel", Ty::U8),
            ("TotalBytes", Ty::U64),
            ("LogonTime", Ty::FileTime),
            ("Blob", Ty::Bin),
        ]),
    },
    Provider {
        name: "ASP.NET 4.0.30319.0",
        guid: None,
        source: None,
        channel: "Application",
        qualifiers: true,
        shape: Shape::Positional(8),
    },
    Provider {
        name: "Application Error",
        guid: None,
        source: None,
        channel: "Application",
        qualifiers: true,
        shape: Shape::Positional(14),
    },
    Provider {
        name: "Service Control Manager",
        guid: Some("{555908D1-A6D7-4695-8E1E-26931D2012F4}"),
        source: Some("Service Control Manager"),
        channel: "System",
        qualifiers: true,
        shape: Shape::Named(&[("param1", Ty::Str), ("param2", Ty::Str), ("param3", Ty::Bin)]),
    },
    Provider {
        name: "Microsoft-Windows-HttpEvent",
        guid: Some("{7B6BC78C-898B-4170-BBF8-1A469EA43FC5}"),
        source: None,
        channel: "System",
        qualifiers: false,
        shape: Shape::Varying,
    },
    Provider {
        name: "Prövïdér-Ünïcødé ✓ テスト",
        guid: Some("{01234567-89AB-CDEF-0123-456789ABCDEF}"),
        source: Some("Sörce & <Co>"),
        channel: "Microsoft-Windows-IIS-Logging/Logs",
        qualifiers: false,
        shape: Shape::Named(&[("Ünïcødé Näme", Ty::Str), ("Zahl", Ty::U32)]),
    },
    Provider {
        name: "Microsoft-Windows-Kernel-General",
        guid: Some("{A68CA8B7-004F-D7B6-A698-07E2DE0F1F5D}"),
        source: None,
        channel: "System",
        qualifiers: false,
        shape: Shape::Empty,
    },
    Provider {
        name: "EventLog",
        guid: None,
        source: None,
        channel: "System",
        qualifiers: true,
        shape: Shape::Nothing,
    },
    Provider {
        name: ".NET Runtime",
        guid: None,
        source: None,
        channel: "Application",
        qualifiers: true,
        shape: Shape::Positional(1),
    },
    Provider {
        name: "Microsoft-Windows-Schannel",
        guid: Some("{1F678132-5938-4686-9FDC-C8FF68F15C85}"),
        source: None,
        channel: "System",
        qualifiers: false,
        shape: Shape::Named(&[("AlertDesc", Ty::U32), ("ErrorState", Ty::U32), ("TargetName", Ty::Str)]),
    },
];

const STRINGS: &[&str] = &[
    "",
    "plain",
    "DefaultAppPool",
    "Ärger mit Ünïcødé — naïve café",
    "日本語のテキスト",
    "emoji 🚀🔥 outside the BMP",
    "<tag attr=\"x\">&amp; 'quoted' & more</tag>",
    "  padded  ",
    "line one\nline two\ttabbed",
    "C:\\inetpub\\wwwroot\\web.config",
    "-",
];

const COMPUTERS: &[&str] = &["WEB01.contoso.local", "SRV-ÄÖ-サーバー", ""];

fn random_guid(rng: &mut Rng) -> String {
    let h = format!("{:016X}{:016X}", rng.next_u64(), rng.next_u64());
    format!("{{{}-{}-{}-{}-{}}}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn random_sid(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => "S-1-5-18".into(),
        1 => format!("S-1-5-82-{}-{}", rng.next_u64() as u32, rng.next_u64() as u32),
        _ => format!(
            "S-1-5-21-{}-{}-{}-{}",
            rng.next_u64() as u32,
            rng.next_u64() as u32,
            rng.next_u64() as u32,
            1000 + rng.below(5000)
        ),
    }
}

fn random_string(rng: &mut Rng) -> String {
    match rng.below(12) {
        // Now and then a long one, so that records of all sizes meet chunk ends.
        0 => {
            let len = rng.below(3000) as usize;
            (0..len).map(|i| char::from(b'a' + ((i as u64 + rng.below(3)) % 26) as u8)).collect()
        }
        1 => format!("value {} ü", rng.next_u64()),
        _ => STRINGS[rng.below(STRINGS.len() as u64) as usize].to_string(),
    }
}

fn random_filetime(rng: &mut Rng) -> u64 {
    132_000_000_000_000_000 + rng.below(2_000_000_000_000_000)
}

fn random_value(rng: &mut Rng, ty: Ty) -> Value {
    if rng.below(20) == 0 {
        return Value::Null;
    }
    match ty {
        Ty::Str => Value::Str(random_string(rng)),
        Ty::U8 => Value::U8(rng.next_u64() as u8),
        Ty::U16 => Value::U16(rng.next_u64() as u16),
        Ty::U32 => Value::U32(rng.next_u64() as u32),
        Ty::U64 => Value::U64(rng.next_u64()),
        Ty::Hex32 => Value::Hex32(rng.next_u64() as u32),
        Ty::Hex64 => Value::Hex64(rng.next_u64() >> rng.below(64)),
        Ty::FileTime => Value::FileTime(random_filetime(rng)),
        Ty::Guid => Value::Guid(random_guid(rng)),
        Ty::Sid => Value::Sid(random_sid(rng)),
        Ty::Bin => Value::Binary((0..1 + rng.below(40)).map(|_| rng.next_u64() as u8).collect()),
    }
}

const VARYING_NAMES: &[&str] =
    &["DeviceObject", "RequestId", "Url", "Reason", "Status", "SiteId", "QueueName"];

fn random_event(rng: &mut Rng) -> EventRecord {
    let p = &PROVIDERS[rng.below(PROVIDERS.len() as u64) as usize];
    let data = match p.shape {
        Shape::Named(fields) => {
            EventData::Named(fields.iter().map(|(n, ty)| (n.to_string(), random_value(rng, *ty))).collect())
        }
        Shape::Positional(max) => EventData::Positional(
            (0..rng.below(max as u64 + 1))
                .map(|_| match rng.below(4) {
                    0 => random_value(rng, Ty::U32),
                    _ => random_value(rng, Ty::Str),
                })
                .collect(),
        ),
        Shape::Varying => {
            let n = rng.below(VARYING_NAMES.len() as u64 + 1) as usize;
            let start = rng.below(VARYING_NAMES.len() as u64) as usize;
            EventData::Named(
                (0..n)
                    .map(|i| {
                        let name = VARYING_NAMES[(start + i) % VARYING_NAMES.len()].to_string();
                        let ty = if i % 3 == 2 { Ty::U32 } else { Ty::Str };
                        (name, random_value(rng, ty))
                    })
                    .collect(),
            )
        }
        Shape::Empty => EventData::Named(Vec::new()),
        Shape::Nothing => EventData::None,
    };
    let binary = (p.qualifiers && rng.below(3) == 0)
        .then(|| (0..1 + rng.below(64)).map(|_| rng.next_u64() as u8).collect());
    EventRecord {
        provider: p.name.to_string(),
        provider_guid: p.guid.map(str::to_string),
        event_source_name: p.source.map(str::to_string),
        event_id: rng.next_u64() as u16,
        qualifiers: (p.qualifiers && rng.below(4) != 0)
            .then(|| [0, 16384, 32768, 49152][rng.below(4) as usize]),
        version: rng.below(3) as u8,
        level: rng.below(6) as u8,
        task: rng.below(20) as u16,
        opcode: rng.below(3) as u8,
        keywords: [0x8000_0000_0000_0000, 0x0080_0000_0000_0000, 0x8020_0000_0000_0000, 0, rng.next_u64()]
            [rng.below(5) as usize],
        time_created: random_filetime(rng),
        process_id: rng.next_u64() as u32,
        thread_id: rng.below(100_000) as u32,
        channel: p.channel.to_string(),
        computer: COMPUTERS[rng.below(COMPUTERS.len() as u64) as usize].to_string(),
        user_sid: (rng.below(2) == 0).then(|| random_sid(rng)),
        activity_id: (rng.below(3) == 0).then(|| random_guid(rng)),
        data,
        binary,
    }
}

fn write(events: &[EventRecord]) -> Vec<u8> {
    let mut w = EvtxWriter::new(Cursor::new(Vec::new())).expect("writer");
    for e in events {
        w.append(e).expect("append");
    }
    w.finish().expect("finish").into_inner()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Whether a value read back as text is the value written.
fn same_value(v: &Value, got: &str) -> bool {
    match v {
        Value::Null => got.is_empty(),
        Value::Str(s) => got == s,
        Value::U8(x) => got == x.to_string(),
        Value::U16(x) => got == x.to_string(),
        Value::U32(x) => got == x.to_string(),
        Value::U64(x) => got == x.to_string(),
        Value::Hex32(x) => got == format!("{x:#x}"),
        Value::Hex64(x) => got == format!("{x:#x}"),
        Value::FileTime(t) => parse_rfc3339(got.as_bytes()) == Some(from_filetime(*t)),
        Value::Guid(g) => got.eq_ignore_ascii_case(g),
        Value::Sid(s) => got == s,
        Value::Binary(b) => got == hex(b),
    }
}

fn same_text(want: Option<&str>, got: Option<&str>) -> bool {
    match (want, got) {
        (Some(w), Some(g)) => w.eq_ignore_ascii_case(g),
        (None, None) => true,
        _ => false,
    }
}

/// Every field of `got` against the event written with record id `id`.
fn check(reader: &str, id: u64, e: &EventRecord, got: &WinEvent) {
    let at = format!("{reader}: record {id}");
    assert_eq!(got.record_id, faultline_parser::RecordId::new(id), "{at}");
    assert_eq!(&*got.provider, e.provider, "{at}");
    assert!(same_text(e.provider_guid.as_deref(), got.provider_guid.as_deref()), "{at}: guid {got:?}");
    assert_eq!(got.event_source_name.as_deref(), e.event_source_name.as_deref(), "{at}");
    assert_eq!(got.event_id, e.event_id, "{at}");
    assert_eq!(got.qualifiers, e.qualifiers, "{at}");
    assert_eq!(got.version, Some(e.version), "{at}");
    assert_eq!(got.level, Some(e.level), "{at}");
    assert_eq!(got.task, Some(e.task), "{at}");
    assert_eq!(got.opcode, Some(e.opcode), "{at}");
    assert_eq!(got.keywords, Some(e.keywords), "{at}");
    assert_eq!(got.time, from_filetime(e.time_created), "{at}");
    assert_eq!(got.time_source, TimeSource::TimeCreated, "{at}");
    assert!(same_text(e.activity_id.as_deref(), got.activity_id.as_deref()), "{at}: activity {got:?}");
    assert_eq!(got.process_id, Some(e.process_id), "{at}");
    assert_eq!(got.thread_id, Some(e.thread_id), "{at}");
    assert_eq!(got.channel.as_deref(), Some(e.channel.as_str()), "{at}");
    let computer = (!e.computer.is_empty()).then_some(e.computer.as_str());
    assert_eq!(got.computer.as_deref(), computer, "{at}");
    assert_eq!(got.user_sid.as_deref(), e.user_sid.as_deref(), "{at}");
    let want: Vec<(Option<&str>, &Value)> = match &e.data {
        EventData::None => Vec::new(),
        EventData::Named(items) => items.iter().map(|(n, v)| (Some(n.as_str()), v)).collect(),
        EventData::Positional(values) => values.iter().map(|v| (None, v)).collect(),
    };
    assert_eq!(got.data.len(), want.len(), "{at}: data {:?}", got.data);
    for (i, ((name, value), d)) in want.iter().zip(&got.data).enumerate() {
        assert_eq!(d.name.as_deref(), *name, "{at}: data {i}");
        assert!(same_value(value, &d.value), "{at}: data {i}: wrote {value:?}, read {:?}", d.value);
    }
    assert_eq!(got.binary, e.binary.as_deref().map(hex), "{at}");
}

/// What counted records are known by: provider, event id, channel and
/// computer; then how many, and the span of their times.
type Counted = ((String, u16, Option<String>, Option<String>), u64, Option<(Timestamp, Timestamp)>);

#[derive(Default)]
struct Collect {
    counted_only: bool,
    events: Vec<WinEvent>,
    counted: Vec<Counted>,
    diagnostics: Vec<Diagnostic>,
}

impl RecordSink for Collect {
    type Error = std::convert::Infallible;
    fn event(&mut self, e: WinEvent) -> Result<(), Self::Error> {
        self.events.push(e.clone());
        Ok(())
    }

    fn counted_events(&mut self, k: CountedEvents<'_>) -> Result<(), Self::Error> {
        let kind = (
            k.provider.to_string(),
            k.event_id,
            k.channel.map(str::to_string),
            k.computer.map(str::to_string),
        );
        self.counted.push((kind, k.records, k.span));
        Ok(())
    }

    fn diagnostic(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn needs_event_data(&self) -> bool {
        !self.counted_only
    }
}

fn events(n: usize, seed: u64) -> Vec<EventRecord> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| random_event(&mut rng)).collect()
}

#[test]
fn the_evtx_crate_reads_every_record_as_written() {
    let events = events(4000, 7);
    let bytes = write(&events);
    let chunks = (bytes.len() - 4096) / 65536;
    assert!(chunks >= 5, "{chunks} chunks");

    let mut parser = evtx::EvtxParser::from_buffer(bytes.clone()).expect("parser");
    assert!(parser.header().validate_checksum());
    assert_eq!(parser.header().flags, evtx::HeaderFlags::EMPTY);
    assert_eq!(parser.header().chunk_count as usize, chunks);
    assert_eq!(parser.header().next_record_id, events.len() as u64 + 1);
    let mut records = Vec::new();
    for r in parser.records() {
        records.push(r.expect("a record"));
    }
    assert_eq!(records.len(), events.len());
    records.sort_by_key(|r| r.event_record_id);
    for (i, r) in records.iter().enumerate() {
        let id = i as u64 + 1;
        let e = &events[i];
        assert_eq!(r.event_record_id, id);
        let written = (r.timestamp.as_second() + 11_644_473_600) * 10_000_000
            + i64::from(r.timestamp.subsec_nanosecond()) / 100;
        assert_eq!(written as u64, e.time_created, "record {id}: written time");
        let xml = faultline_parser::eventxml::parse_event_xml(r.data.as_bytes());
        assert!(xml.diagnostics.is_empty(), "record {id}: {:?}\n{}", xml.diagnostics, r.data);
        let [got] = xml.events.as_slice() else {
            panic!("record {id}: {} events\n{}", xml.events.len(), r.data)
        };
        check("evtx XML", id, e, got);
    }

    // Every chunk's CRC32s check out: validating them loses nothing.
    let settings = evtx::ParserSettings::new().validate_checksums(true);
    let mut parser = evtx::EvtxParser::from_buffer(bytes).expect("parser").with_configuration(settings);
    let (ok, failed) = parser.records().fold((0, 0), |(ok, failed), r| match r {
        Ok(_) => (ok + 1, failed),
        Err(_) => (ok, failed + 1),
    });
    assert_eq!((ok, failed), (events.len(), 0));
}

#[test]
fn the_rendered_xml_has_the_event_schema() {
    let e = EventRecord {
        provider: "Microsoft-Windows-WAS".into(),
        provider_guid: Some("{524B5D04-133C-4A62-8362-64E8EDB9CE40}".into()),
        event_source_name: Some("WAS".into()),
        event_id: 5011,
        qualifiers: Some(32768),
        level: 3,
        keywords: 0x0080_0000_0000_0000,
        time_created: 134_082_457_310_000_000,
        process_id: 444,
        thread_id: 888,
        channel: "System".into(),
        computer: "WEB01".into(),
        data: EventData::Named(vec![("AppPoolID".into(), Value::Str("Shop".into()))]),
        binary: Some(vec![0xde, 0xad]),
        ..EventRecord::default()
    };
    let bare = EventRecord {
        provider_guid: None,
        event_source_name: None,
        qualifiers: None,
        data: EventData::Positional(vec![Value::U32(7)]),
        binary: None,
        user_sid: None,
        activity_id: None,
        ..e.clone()
    };
    let full = EventRecord {
        user_sid: Some("S-1-5-18".into()),
        activity_id: Some("{11111111-2222-3333-4444-555555555555}".into()),
        ..e.clone()
    };
    let mut parser = evtx::EvtxParser::from_buffer(write(&[e, bare, full])).expect("parser");
    let mut xml: Vec<(u64, String)> =
        parser.records().map(|r| r.expect("record")).map(|r| (r.event_record_id, r.data)).collect();
    xml.sort();
    let compact = |s: &str| s.lines().map(str::trim).collect::<String>();
    let head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
                <Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>";
    assert_eq!(
        compact(&xml[0].1),
        format!(
            "{head}<Provider Name=\"Microsoft-Windows-WAS\" Guid=\"{{524b5d04-133c-4a62-8362-64e8edb9ce40}}\" \
             EventSourceName=\"WAS\"/><EventID Qualifiers=\"32768\">5011</EventID><Version>0</Version>\
             <Level>3</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords>\
             <TimeCreated SystemTime=\"2025-11-22T00:42:11.0000000Z\"/><EventRecordID>1</EventRecordID>\
             <Correlation/><Execution ProcessID=\"444\" ThreadID=\"888\"/><Channel>System</Channel>\
             <Computer>WEB01</Computer><Security/></System><EventData><Data Name=\"AppPoolID\">Shop</Data>\
             <Binary>DEAD</Binary></EventData></Event>"
        )
    );
    assert_eq!(
        compact(&xml[1].1),
        format!(
            "{head}<Provider Name=\"Microsoft-Windows-WAS\"/><EventID>5011</EventID><Version>0</Version>\
             <Level>3</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords>\
             <TimeCreated SystemTime=\"2025-11-22T00:42:11.0000000Z\"/><EventRecordID>2</EventRecordID>\
             <Correlation/><Execution ProcessID=\"444\" ThreadID=\"888\"/><Channel>System</Channel>\
             <Computer>WEB01</Computer><Security/></System><EventData><Data>7</Data></EventData></Event>"
        )
    );
    let full = compact(&xml[2].1);
    assert!(full.contains("<Correlation ActivityID=\"{11111111-2222-3333-4444-555555555555}\"/>"), "{full}");
    assert!(full.contains("<Security UserID=\"S-1-5-18\"/>"), "{full}");
}

#[test]
fn faultline_reads_every_record_as_written() {
    let events = events(3000, 11);
    let bytes = write(&events);

    let mut sink = Collect::default();
    let Ok(()) =
        faultline_parser::evtx::parse_evtx(&bytes, &faultline_parser::framing::InMemory, true, &mut sink);
    assert!(sink.diagnostics.is_empty(), "{:?}", sink.diagnostics);
    assert!(sink.counted.is_empty());
    assert_eq!(sink.events.len(), events.len());
    sink.events.sort_by_key(|e| e.record_id);
    for (i, (e, got)) in events.iter().zip(&sink.events).enumerate() {
        check("faultline EVTX", i as u64 + 1, e, got);
    }

    assert_eq!(counted(&events), expected_counts(&events));
    // Every record of its own kind: each one's time is checked.
    let unique: Vec<EventRecord> =
        events.iter().enumerate().map(|(i, e)| EventRecord { event_id: i as u16, ..e.clone() }).collect();
    let got = counted(&unique);
    assert!(got.iter().all(|(_, n, _)| *n == 1));
    assert_eq!(got, expected_counts(&unique));
}

/// Reads `events`, written as EVTX, without extracting data: the counted
/// kinds, merged across chunks and in order of first appearance.
fn counted(events: &[EventRecord]) -> Vec<Counted> {
    let bytes = write(events);
    let mut sink = Collect { counted_only: true, ..Collect::default() };
    let Ok(()) =
        faultline_parser::evtx::parse_evtx(&bytes, &faultline_parser::framing::InMemory, true, &mut sink);
    assert!(sink.diagnostics.is_empty(), "{:?}", sink.diagnostics);
    assert!(sink.events.is_empty());
    merge_counts(sink.counted)
}

/// What the counted kinds of `events` should be, one record per kind.
fn expected_counts(events: &[EventRecord]) -> Vec<Counted> {
    merge_counts(
        events
            .iter()
            .map(|e| {
                let computer = (!e.computer.is_empty()).then(|| e.computer.clone());
                let time = from_filetime(e.time_created);
                ((e.provider.clone(), e.event_id, Some(e.channel.clone()), computer), 1, Some((time, time)))
            })
            .collect(),
    )
}

fn merge_counts(counts: Vec<Counted>) -> Vec<Counted> {
    let mut merged: Vec<Counted> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (kind, n, span) in counts {
        let at = *index.entry(kind.clone()).or_insert_with(|| {
            merged.push((kind, 0, None));
            merged.len() - 1
        });
        let m = &mut merged[at];
        m.1 += n;
        m.2 = match (m.2, span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, y) => x.or(y),
        };
    }
    merged
}

#[test]
fn events_arrive_in_time_order_whatever_the_order_written() {
    // Written in time order (chunks follow one another), backwards, and
    // shuffled: delivered by time each way, every event once.
    let mut events = events(3000, 5);
    for (i, e) in events.iter_mut().enumerate() {
        e.time_created = 134_082_457_310_000_000 + i as u64 * 10_000_000;
    }
    let mut backwards = events.clone();
    backwards.reverse();
    let mut shuffled = events.clone();
    let mut rng = Rng::new(9);
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for (label, written) in [("in order", &events), ("backwards", &backwards), ("shuffled", &shuffled)] {
        let bytes = write(written);
        assert!((bytes.len() - 4096) / 65536 > 3, "{label}: several chunks");
        let mut sink = Collect::default();
        let Ok(()) =
            faultline_parser::evtx::parse_evtx(&bytes, &faultline_parser::framing::InMemory, true, &mut sink);
        assert!(sink.diagnostics.is_empty(), "{label}: {:?}", sink.diagnostics);
        let got: Vec<Timestamp> = sink.events.iter().map(|e| e.time).collect();
        let want: Vec<Timestamp> = events.iter().map(|e| from_filetime(e.time_created)).collect();
        assert_eq!(got, want, "{label}");
    }
}

#[test]
fn templates_are_stored_once_per_chunk() {
    // The same event many times: one definition of each template per chunk,
    // whatever the number of records.
    let events: Vec<EventRecord> = (0..3000)
        .map(|i| EventRecord {
            provider: "Microsoft-Windows-WAS".into(),
            event_id: 5002,
            time_created: 134_082_457_310_000_000 + i * 10_000_000,
            channel: "System".into(),
            computer: "WEB01".into(),
            data: EventData::Named(vec![("AppPoolID".into(), Value::Str(format!("Pool{i}")))]),
            ..EventRecord::default()
        })
        .collect();
    let bytes = write(&events);
    let chunks = (bytes.len() - 4096) / 65536;
    for n in 0..chunks {
        let chunk = &bytes[4096 + n * 65536..][..65536];
        let table: Vec<u32> = (0..32)
            .map(|i| u32::from_le_bytes(chunk[384 + 4 * i..388 + 4 * i].try_into().expect("4 bytes")))
            .filter(|&o| o != 0)
            .collect();
        assert_eq!(table.len(), 2, "chunk {n}: the System and the EventData templates");
        // Element names appear once each in the chunk.
        let event_data: Vec<u8> = "EventData".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let hits = chunk.windows(event_data.len()).filter(|w| *w == event_data.as_slice()).count();
        assert_eq!(hits, 1, "chunk {n}");
    }
    assert!(chunks > 1);
}

/// The real samples folder (`FAULTLINE_SAMPLES`; its SOURCES.md says what
/// each file holds); a relative
/// `FAULTLINE_SAMPLES` is taken from the workspace root. Unset or not a
/// folder, the check says loudly that it was skipped.
fn samples() -> Option<std::path::PathBuf> {
    let Some(dir) = std::env::var_os("FAULTLINE_SAMPLES") else {
        eprintln!("SKIPPED: FAULTLINE_SAMPLES is not set, so the Windows template was not compared");
        return None;
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    if !dir.is_dir() {
        eprintln!(
            "SKIPPED: FAULTLINE_SAMPLES names {}, not a folder: the Windows template was not compared",
            dir.display()
        );
        return None;
    }
    Some(dir)
}

#[test]
fn the_system_template_is_byte_for_byte_the_one_windows_writes() {
    let Some(dir) = samples() else { return };
    let path = dir.join("evtx-Yamato-Security-hayabusa-sample-evtx/smb-password-guessing-security.evtx");
    let windows = std::fs::read(path).expect("the Security sample");
    // Its first record is a 4625 of a manifest provider on DESKTOP-M5SN04R:
    // the System template is defined inline at chunk offset 0x226.
    let e = EventRecord {
        provider: "Microsoft-Windows-Security-Auditing".into(),
        provider_guid: Some("{54849625-5478-4994-A5BA-3E3B0328C30D}".into()),
        event_id: 4625,
        channel: "Security".into(),
        computer: "DESKTOP-M5SN04R".into(),
        data: EventData::Named(vec![("SubjectUserSid".into(), Value::Sid("S-1-0-0".into()))]),
        ..EventRecord::default()
    };
    let ours = write(&[e]);
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as usize;
    let body = |file: &[u8]| {
        let chunk = &file[4096..];
        let def = le32(chunk, 0x222);
        assert_eq!(def, 0x226, "an inline definition");
        def + 24..def + 24 + le32(chunk, def + 20)
    };
    let (mine, theirs) = (body(&ours), body(&windows));
    assert_eq!(ours[4096..][mine.clone()], windows[4096..][theirs.clone()]);
    // The names it defines are in the same string table buckets.
    for bucket in 0..64 {
        let at = 4096 + 128 + 4 * bucket;
        if le32(&windows, at) < theirs.end {
            assert_eq!(le32(&ours, at), le32(&windows, at), "string table bucket {bucket}");
        }
    }
}

#[test]
fn a_large_log_is_read_in_stretches_each_whole_sorted_and_the_same_whatever_the_pool() {
    use faultline_parser::evtx::{CHUNK_SIZE, CHUNKS_PER_SINK, FILE_HEADER_SIZE};
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    // Events of 8 KB, a few to a chunk, written in no order: a log of more
    // than one stretch, whose stretches are each out of order.
    let mut events = events(2000, 11);
    for (i, e) in events.iter_mut().enumerate() {
        e.time_created = 134_082_457_310_000_000 + i as u64 * 10_000_000;
        e.data = EventData::Positional(vec![Value::Str(format!("{i:05}").repeat(800))]);
    }
    let want: Vec<Timestamp> = events.iter().map(|e| from_filetime(e.time_created)).collect();
    let mut rng = Rng::new(3);
    for i in (1..events.len()).rev() {
        events.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let bytes = write(&events);
    let chunks = (bytes.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
    assert!(chunks > CHUNKS_PER_SINK, "{chunks} chunks");
    let config = faultline_parser::ReadConfig { all_events: true, ..Default::default() };
    let read = |threads: usize| {
        let progressed = AtomicU64::new(0);
        let progress = |n: u64| {
            progressed.fetch_add(n, Relaxed);
        };
        let input = faultline_parser::Input {
            data: &bytes,
            format: faultline_parser::Format::Evtx,
            pages: &faultline_parser::framing::InMemory,
            config: &config,
            progress: &progress,
            modified: None,
        };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        let Ok(sinks) = pool.install(|| faultline_parser::evtx::read(&input, &Collect::default));
        assert_eq!(progressed.load(Relaxed), bytes.len() as u64, "every byte counted once");
        for s in &sinks {
            assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
        }
        sinks.iter().map(|s| s.events.iter().map(|e| e.time).collect::<Vec<_>>()).collect::<Vec<_>>()
    };
    let one = read(1);
    assert_eq!(one.len(), chunks.div_ceil(CHUNKS_PER_SINK), "a sink per stretch");
    for stretch in &one {
        assert!(stretch.is_sorted(), "each stretch's events in time order");
    }
    let mut all: Vec<Timestamp> = one.iter().flatten().copied().collect();
    all.sort();
    assert_eq!(all, want, "every event once");
    assert_eq!(read(2), one, "the same stretches on two threads");
}

/// Every record of `bytes` in full, read in memory.
fn read(bytes: &[u8]) -> Collect {
    let mut sink = Collect::default();
    let Ok(()) =
        faultline_parser::evtx::parse_evtx(bytes, &faultline_parser::framing::InMemory, true, &mut sink);
    sink
}

/// A chunk of zeros before chunks that hold records was wiped (a log
/// never leaves one): it is reported at its offset, and the others are
/// read. Zeros after the last record are a log's unused space, and quiet.
#[test]
fn a_wiped_chunk_is_reported_and_the_rest_read() {
    use faultline_parser::evtx::{CHUNK_SIZE, FILE_HEADER_SIZE};
    let events = events(3000, 21);
    let mut bytes = write(&events);
    let chunks = (bytes.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
    assert!(chunks > 3, "{chunks} chunks");
    let wiped = FILE_HEADER_SIZE + CHUNK_SIZE;
    bytes[wiped..wiped + CHUNK_SIZE].fill(0);
    bytes.extend(std::iter::repeat_n(0u8, 2 * CHUNK_SIZE));
    let sink = read(&bytes);
    let messages: Vec<&str> = sink.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        ["chunk 1 holds only zeros while later chunks hold records: whatever it held is lost (wiped?)"],
        "{:?}",
        sink.diagnostics
    );
    assert_eq!(sink.diagnostics[0].location, faultline_parser::Location::Offset(wiped as u64));
    assert!(!sink.events.is_empty() && sink.events.len() < events.len());
    // Two wiped side by side are one warning.
    bytes[wiped + CHUNK_SIZE..wiped + 2 * CHUNK_SIZE].fill(0);
    let sink = read(&bytes);
    let messages: Vec<&str> = sink.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        ["chunks 1-2 hold only zeros while later chunks hold records: whatever they held is lost (wiped?)"]
    );
}

/// A copy that holds one chunk twice (a carving tool's output, two pieces
/// of one export joined) gives its records once, and says which chunk
/// repeats which; a log never writes a chunk twice.
#[test]
fn a_chunk_repeated_in_a_copy_is_read_once_and_named() {
    use faultline_parser::evtx::{CHUNK_SIZE, FILE_HEADER_SIZE};
    let events = events(3000, 23);
    let bytes = write(&events);
    let chunks = (bytes.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
    assert!(chunks > 2, "{chunks} chunks");
    let whole = read(&bytes);
    assert!(whole.diagnostics.is_empty(), "{:?}", whole.diagnostics);
    let mut doubled = bytes.clone();
    let second = FILE_HEADER_SIZE + CHUNK_SIZE;
    doubled.extend_from_slice(&bytes[second..second + CHUNK_SIZE]);
    let sink = read(&doubled);
    let ids = |s: &Collect| {
        let mut ids: Vec<String> = s.events.iter().map(|e| format!("{:?}", e.origin)).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&sink), ids(&whole), "every record once");
    let messages: Vec<&str> = sink.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with(&format!("chunk {chunks} repeats chunk 1 byte for byte (records ")),
        "{messages:?}"
    );
    assert!(messages[0].ends_with("): its records are read once"), "{messages:?}");
    assert!(!sink.diagnostics[0].lost);
    assert_eq!(
        sink.diagnostics[0].location,
        faultline_parser::Location::Offset((FILE_HEADER_SIZE + chunks * CHUNK_SIZE) as u64)
    );
    // A run of repeated chunks is one warning.
    let mut run = bytes.clone();
    run.extend_from_slice(&bytes[second..second + 2 * CHUNK_SIZE]);
    let sink = read(&run);
    assert_eq!(ids(&sink), ids(&whole), "every record once");
    let messages: Vec<&str> = sink.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with(&format!(
            "chunks {chunks}-{} repeat earlier chunks of the file byte for byte (chunk {chunks}, records ",
            chunks + 1
        )),
        "{messages:?}"
    );
    assert!(messages[0].ends_with("repeats chunk 1): their records are read once"), "{messages:?}");
    // A copy cut short inside a repeated chunk: its records are the whole
    // chunk's, read there.
    let mut cut = bytes.clone();
    cut.extend_from_slice(&bytes[second..second + 30_000]);
    let sink = read(&cut);
    assert_eq!(ids(&sink), ids(&whole), "every record once");
    let messages: Vec<&str> = sink.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [format!(
            "the file ends 30000 bytes into chunk {chunks} (copy cut short), which repeats the start of chunk 1 \
             byte for byte: its records are read once, in chunk 1"
        )]
    );
    // A chunk that differs by one byte is another chunk, read as such.
    let last = doubled.len() - 1;
    doubled[last - CHUNK_SIZE / 2] ^= 0x55;
    let differing = read(&doubled);
    assert!(
        differing.diagnostics.iter().all(|d| !d.message.contains("repeats")),
        "{:?}",
        differing.diagnostics
    );
}

/// Chunks carved without the file header (each holds its own strings and
/// templates) give every record, placed at their offsets in the carved
/// file, with a note that the header is missing.
#[test]
fn chunks_carved_without_the_file_header_are_read() {
    use faultline_parser::evtx::{CHUNK_SIZE, FILE_HEADER_SIZE};
    let events = events(3000, 29);
    let bytes = write(&events);
    let whole = read(&bytes);
    let carved = read(&bytes[FILE_HEADER_SIZE..]);
    let ids = |s: &Collect| s.events.iter().map(|e| e.record_id).collect::<Vec<_>>();
    assert_eq!(ids(&carved), ids(&whole), "every record, in the same order");
    assert_eq!(carved.events.len(), events.len());
    let messages: Vec<&str> = carved.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].starts_with("no file header: chunks carved without it"), "{messages:?}");
    // A carved piece cut inside a chunk reads that chunk's records before the
    // cut, as a copy cut short does, and says where the file ends.
    let cut = &bytes[FILE_HEADER_SIZE..FILE_HEADER_SIZE + CHUNK_SIZE + CHUNK_SIZE / 2];
    let partial = read(cut);
    assert!(partial.events.len() > ids(&read(&bytes[FILE_HEADER_SIZE..FILE_HEADER_SIZE + CHUNK_SIZE])).len());
    assert!(
        partial.diagnostics.iter().any(|d| d.message.starts_with("the file ends 32768 bytes into chunk 1")),
        "{:?}",
        partial.diagnostics
    );
}
