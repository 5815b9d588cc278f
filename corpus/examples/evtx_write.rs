//! Writes an EVTX file of IIS-flavoured events and reports the write speed.
//!
//! ```sh
//! cargo run --release -p faultline-corpus --example evtx_write -- /tmp/big.evtx 500
//! ```
//!
//! Arguments: output path, approximate size in MiB (default 500), seed
//! (default 1). Events come from a pool of 4096 generated up front (only
//! their time changes), so that the time measured is the writer's. Record 1
//! is a WAS 5002 whose `AppPoolID` is `DefaultAppPool`.

#![allow(clippy::print_stdout)] // the example reports what it wrote

use std::fs::File;
use std::time::Instant;

use faultline_corpus::evtx::{EventData, EventRecord, EvtxWriter, Value};
use faultline_corpus::rng::Rng;

const POOLS: &[&str] = &["DefaultAppPool", "ShopPool", "ApiPool", "Intranet Pool", "Pööl-Ünïcødé"];

fn event(rng: &mut Rng, i: usize) -> EventRecord {
    let pool = POOLS[if i == 0 { 0 } else { rng.below(POOLS.len() as u64) as usize }].to_string();
    let base = EventRecord {
        computer: "WEB01.contoso.local".into(),
        process_id: rng.below(60_000) as u32,
        thread_id: rng.below(60_000) as u32,
        ..EventRecord::default()
    };
    match if i == 0 { 0 } else { rng.below(5) } {
        0 => EventRecord {
            provider: "Microsoft-Windows-WAS".into(),
            provider_guid: Some("{524B5D04-133C-4A62-8362-64E8EDB9CE40}".into()),
            event_source_name: Some("WAS".into()),
            event_id: 5002,
            qualifiers: Some(49152),
            level: 2,
            keywords: 0x0080_0000_0000_0000,
            channel: "System".into(),
            data: EventData::Named(vec![("AppPoolID".into(), Value::Str(pool))]),
            binary: Some(vec![0x8b, 0x00, 0x07, 0x80]),
            ..base
        },
        1 => EventRecord {
            provider: "Microsoft-Windows-IIS-W3SVC-WP".into(),
            provider_guid: Some("{670080D9-742A-4187-8D16-41143D1290BD}".into()),
            event_source_name: Some("W3SVC-WP".into()),
            event_id: 2280,
            qualifiers: Some(49152),
            level: 2,
            keywords: 0x0080_0000_0000_0000,
            channel: "Application".into(),
            data: EventData::Named(vec![
                ("ModuleDll".into(), Value::Str("C:\\Windows\\System32\\inetsrv\\custom.dll".into())),
                ("ErrorCode".into(), Value::Hex32(0x8007_007e)),
            ]),
            ..base
        },
        2 => EventRecord {
            provider: "ASP.NET 4.0.30319.0".into(),
            event_id: 1309,
            qualifiers: Some(32768),
            level: 3,
            keywords: 0x0080_0000_0000_0000,
            channel: "Application".into(),
            data: EventData::Positional(
                (0..20)
                    .map(|k| match k {
                        0 => Value::Str("3005".into()),
                        1 => Value::Str("An unhandled exception has occurred.".into()),
                        5 => Value::Str(format!("/LM/W3SVC/1/ROOT-1-{}", rng.next_u64())),
                        9 => Value::U32(rng.below(10_000) as u32),
                        _ => Value::Str(format!("field {k}: {}", rng.below(1000))),
                    })
                    .collect(),
            ),
            ..base
        },
        3 => EventRecord {
            provider: "Microsoft-Windows-Security-Auditing".into(),
            provider_guid: Some("{54849625-5478-4994-A5BA-3E3B0328C30D}".into()),
            event_id: 4625,
            keywords: 0x8010_0000_0000_0000,
            task: 12544,
            channel: "Security".into(),
            user_sid: None,
            activity_id: Some("{A68CA8B7-004F-D7B6-A698-07E2DE0F1F5D}".into()),
            data: EventData::Named(vec![
                ("SubjectUserSid".into(), Value::Sid("S-1-5-18".into())),
                ("TargetUserName".into(), Value::Str(format!("user{}", rng.below(500)))),
                ("Status".into(), Value::Hex32(0xc000_006d)),
                ("LogonType".into(), Value::U32(3)),
                ("IpAddress".into(), Value::Str(format!("10.0.{}.{}", rng.below(256), rng.below(256)))),
                ("IpPort".into(), Value::Str(rng.below(65536).to_string())),
            ]),
            ..base
        },
        _ => EventRecord {
            provider: "Microsoft-Windows-HttpEvent".into(),
            provider_guid: Some("{7B6BC78C-898B-4170-BBF8-1A469EA43FC5}".into()),
            event_id: 15021,
            level: 2,
            keywords: 0x8000_0000_0000_0000,
            channel: "System".into(),
            user_sid: Some("S-1-5-18".into()),
            data: EventData::Named(vec![
                ("DeviceObject".into(), Value::Str("\\Device\\Http\\ReqQueue".into())),
                ("EndpointBinding".into(), Value::Str("0.0.0.0:443".into())),
                ("ErrorCode".into(), Value::U32(rng.below(100) as u32)),
            ]),
            ..base
        },
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or("/tmp/faultline-evtx-write.evtx", String::as_str);
    let mib: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut rng = Rng::new(seed);
    let mut pool: Vec<EventRecord> = (0..4096).map(|i| event(&mut rng, i)).collect();
    let target = mib * 1024 * 1024;
    // 2025-11-24 00:00:00 UTC.
    let mut time: u64 = 134_084_160_000_000_000;

    let started = Instant::now();
    let mut writer = EvtxWriter::new(File::create(path)?)?;
    let mut k = 0;
    while writer.len() < target {
        let e = &mut pool[k % 4096];
        time += 1 + rng.below(20_000_000);
        e.time_created = time;
        writer.append(e)?;
        k += 1;
    }
    let records = writer.records();
    let file = writer.finish()?;
    let written = started.elapsed().as_secs_f64();
    file.sync_all()?;
    let synced = started.elapsed().as_secs_f64();
    let bytes = file.metadata()?.len();
    let mb = bytes as f64 / 1e6;
    println!(
        "{path}: {records} records, {bytes} bytes: written in {written:.2} s ({:.0} MB/s, {:.0} records/s), \
         on disk in {synced:.2} s ({:.0} MB/s)",
        mb / written,
        records as f64 / written,
        mb / synced
    );
    Ok(())
}
