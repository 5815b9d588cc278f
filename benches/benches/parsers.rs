//! Throughput (bytes per second) of the other parsers on generated input:
//! EVTX (counted, as `scan` reads it, and extracted, as `analyze` does),
//! HTTPERR, FREB traces and event XML exports. W3C has its own bench.

use std::io::Cursor;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_corpus::evtx::{EventData, EventRecord, EvtxWriter, Value};
use faultline_corpus::freb::{TraceSpec, write_trace};
use faultline_corpus::rng::Rng;
use faultline_parser::framing::InMemory;
use faultline_parser::w3c::{Dialect, TextConfig, parse_text};
use faultline_parser::{CountedEvents, HttpError, RecordSink, WinEvent};

#[derive(Default)]
struct Count {
    records: u64,
    counted_only: bool,
}

impl RecordSink for Count {
    type Error = std::convert::Infallible;
    fn http_error(&mut self, _e: &HttpError<'_>) -> Result<(), Self::Error> {
        self.records += 1;
        Ok(())
    }
    fn event(&mut self, _e: WinEvent) -> Result<(), Self::Error> {
        self.records += 1;
        Ok(())
    }
    fn counted_events(&mut self, c: CountedEvents<'_>) -> Result<(), Self::Error> {
        self.records += c.records;
        Ok(())
    }
    fn needs_event_data(&self) -> bool {
        !self.counted_only
    }
}

const POOLS: [&str; 4] = ["DefaultAppPool", "ShopPool", "ApiPool", "ReportsPool"];
const START_FILETIME: u64 = 134_082_457_310_000_000;

/// A server's event log mix: mostly service noise, with the catalogue
/// events an incident leaves (worker failures, pool disables, failed logons).
fn event(rng: &mut Rng, i: u64) -> EventRecord {
    let pool = POOLS[rng.below(POOLS.len() as u64) as usize].to_string();
    let base = EventRecord {
        time_created: START_FILETIME + i * 5_000_000,
        computer: "WEB01.contoso.local".into(),
        channel: "System".into(),
        level: 4,
        process_id: 812,
        thread_id: 4410,
        ..EventRecord::default()
    };
    match rng.below(10) {
        0 => EventRecord {
            provider: "Microsoft-Windows-WAS".into(),
            event_id: 5011,
            level: 3,
            data: EventData::Named(vec![
                ("AppPoolID".into(), Value::Str(pool)),
                ("ProcessID".into(), Value::Str((3000 + rng.below(5000)).to_string())),
            ]),
            ..base
        },
        1 => EventRecord {
            provider: "Microsoft-Windows-Security-Auditing".into(),
            event_id: 4625,
            channel: "Security".into(),
            data: EventData::Named(vec![
                ("SubjectUserSid".into(), Value::Str("S-1-5-18".into())),
                ("TargetUserName".into(), Value::Str(format!("IIS APPPOOL\\{pool}"))),
                ("TargetDomainName".into(), Value::Str("IIS APPPOOL".into())),
                ("Status".into(), Value::U32(0xC000_006D)),
                ("SubStatus".into(), Value::U32(0xC000_006A)),
                ("LogonType".into(), Value::U32(5)),
                ("IpAddress".into(), Value::Str("-".into())),
            ]),
            ..base
        },
        _ => EventRecord {
            provider: "Service Control Manager".into(),
            event_id: 7036,
            qualifiers: Some(0x4000),
            data: EventData::Named(vec![
                ("param1".into(), Value::Str(format!("Service {}", rng.below(40)))),
                ("param2".into(), Value::Str("running".into())),
            ]),
            ..base
        },
    }
}

fn evtx(events: u64) -> Vec<u8> {
    let mut rng = Rng::new(7);
    let mut w = EvtxWriter::new(Cursor::new(Vec::new())).expect("in-memory writer");
    for i in 0..events {
        w.append(&event(&mut rng, i)).expect("in-memory write");
    }
    w.finish().expect("in-memory write").into_inner()
}

fn httperr(bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(11);
    let mut out = String::from(
        "#Software: Microsoft HTTP API 2.0\r\n#Version: 1.0\r\n#Date: 2025-11-24 00:00:00\r\n\
         #Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename\r\n",
    );
    let reasons =
        [("503", "AppOffline"), ("503", "QueueFull"), ("400", "Hostname"), ("-", "Timer_ConnectionIdle")];
    let mut i = 0u64;
    while out.len() < bytes {
        let (status, reason) = reasons[rng.below(reasons.len() as u64) as usize];
        let pool = POOLS[rng.below(POOLS.len() as u64) as usize];
        out.push_str(&format!(
            "2025-11-24 {:02}:{:02}:{:02} 10.0.{}.{} {} 10.0.0.5 443 HTTP/1.1 GET /shop/item/{} - {status} 1 {reason} {pool}\r\n",
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60,
            rng.below(256),
            rng.below(256),
            49152 + rng.below(16000),
            rng.below(100_000),
        ));
        i += 1;
    }
    out.into_bytes()
}

fn freb_trace(i: u64) -> Vec<u8> {
    write_trace(&TraceSpec {
        url: format!("https://shop.contoso.com:443/checkout/{i}"),
        site_id: 1,
        app_pool: "ShopPool".into(),
        process_id: 4242,
        verb: "POST".into(),
        client: ("10.0.3.7".into(), 50123),
        status: (500, 19),
        time_taken_ms: 15,
        start_ms: 1_763_942_400_000 + i as i64 * 250,
        error: Some(("IIS Web Core".into(), 1, "BEGIN_REQUEST".into(), 0x8007_0005)),
        config_exception: Some("Cannot read configuration file due to insufficient permissions".into()),
        computer: "WEB01".into(),
        activity_id: format!("{{00000000-0000-0000-{:04X}-0080000000F7}}", i % 0xFFFF),
        modules: Vec::new(),
    })
    .into_bytes()
}

/// The events as `wevtutil qe /f:xml` writes them, inside one root element.
fn event_xml(events: u64) -> Vec<u8> {
    let mut rng = Rng::new(13);
    let mut out = String::from("<Events>\r\n");
    for i in 0..events {
        let e = event(&mut rng, i);
        let EventData::Named(data) = &e.data else { unreachable!("named data") };
        let secs = ((e.time_created - 116_444_736_000_000_000) / 10_000_000) as i64;
        let (date, time) = faultline_corpus::w3c::date_and_time(secs);
        out.push_str(&format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{}'/>\
             <EventID>{}</EventID><Level>{}</Level><TimeCreated SystemTime='{date}T{time}.0000000Z'/>\
             <EventRecordID>{}</EventRecordID><Execution ProcessID='{}' ThreadID='{}'/><Channel>{}</Channel>\
             <Computer>{}</Computer></System><EventData>",
            e.provider,
            e.event_id,
            e.level,
            i + 1,
            e.process_id,
            e.thread_id,
            e.channel,
            e.computer
        ));
        for (name, value) in data {
            let text = match value {
                Value::Str(s) => s.clone(),
                Value::U32(n) => format!("0x{n:x}"),
                _ => String::new(),
            };
            out.push_str(&format!("<Data Name='{name}'>{text}</Data>"));
        }
        out.push_str("</EventData></Event>\r\n");
    }
    out.push_str("</Events>\r\n");
    out.into_bytes()
}

fn bench_evtx(c: &mut Criterion) {
    let data = evtx(120_000);
    let mut group = c.benchmark_group("evtx");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    for (name, counted_only) in [("scan_counted", true), ("extract_catalogue", false)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut sink = Count { counted_only, ..Count::default() };
                let Ok(()) = faultline_parser::evtx::parse_evtx(&data, &InMemory, false, &mut sink);
                assert_eq!(sink.records, 120_000);
                sink.records
            })
        });
    }
    group.finish();
}

fn bench_httperr(c: &mut Criterion) {
    let data = httperr(32 << 20);
    let mut group = c.benchmark_group("httperr");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.bench_function("parse", |b| {
        b.iter(|| {
            let Ok(sinks) = parse_text(
                &data,
                Dialect::HttpErr,
                &TextConfig::default(),
                &InMemory,
                &|_| {},
                Count::default,
            );
            sinks.iter().map(|s| s.records).sum::<u64>()
        })
    });
    group.finish();
}

fn bench_freb(c: &mut Criterion) {
    let traces: Vec<Vec<u8>> = (0..500).map(freb_trace).collect();
    let mut group = c.benchmark_group("freb");
    group.throughput(Throughput::Bytes(traces.iter().map(|t| t.len() as u64).sum()));
    group.sample_size(10);
    group.bench_function("parse_500_traces", |b| {
        b.iter(|| {
            traces
                .iter()
                .map(|t| {
                    let file = faultline_parser::freb::parse_freb(t);
                    assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
                    file.trace.events.len()
                })
                .sum::<usize>()
        })
    });
    group.finish();
}

fn bench_event_xml(c: &mut Criterion) {
    let data = event_xml(40_000);
    let mut group = c.benchmark_group("eventxml");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.bench_function("parse", |b| {
        b.iter(|| {
            let file = faultline_parser::eventxml::parse_event_xml(&data);
            assert_eq!(file.events.len(), 40_000, "{:?}", file.diagnostics.first());
            file.events.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_evtx, bench_httperr, bench_freb, bench_event_xml);
criterion_main!(benches);
