//! Benchmark package; the benches live in `benches/`. What several benches
//! share is here.

use std::convert::Infallible;

use faultline_corpus::w3c::{TrafficSpec, write_traffic};
use faultline_parser::RecordSink;
use faultline_parser::framing::InMemory;
use faultline_parser::w3c::{Dialect, TextConfig, parse_text};

/// `bytes` of generated W3C traffic with the full IIS 10 field set, the
/// same for every run.
pub fn w3c_traffic(bytes: u64) -> Vec<u8> {
    let spec = TrafficSpec {
        seed: 42,
        host: "WEB01".into(),
        site_id: 1,
        start: 1_763_942_400,
        target_bytes: bytes,
        peak_rate: 2000.0,
    };
    let mut out = Vec::with_capacity(bytes as usize + 4096);
    write_traffic(&spec, &mut out).expect("in-memory write");
    out
}

/// W3C text in memory parsed in parallel into one sink per chunk (what the
/// parser benches time, with or without rules behind the sinks).
pub fn parse_w3c<S>(data: &[u8], new_sink: impl Fn() -> S + Sync) -> Vec<S>
where
    S: RecordSink<Error = Infallible> + Send,
{
    let Ok(sinks) = parse_text(data, Dialect::W3c, &TextConfig::default(), &InMemory, &|_| {}, new_sink);
    sinks
}
