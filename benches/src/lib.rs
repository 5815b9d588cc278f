//! Benchmark package; the benches live in `benches/`. What several benches
//! share is here.

use faultline_corpus::w3c::{TrafficSpec, write_traffic};

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
