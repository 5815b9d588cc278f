//! The security lens's cost on W3C: parsing with the bundled pack (and
//! SigmaHQ's webserver rules, when `FAULTLINE_SIGMA` names a rules folder)
//! evaluated on every row, bytes per second; and the library's whole hunt
//! of the same text as a file (read, detections, correlations), which is
//! what the command runs.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_hunt::engine::Found;
use faultline_hunt::screen::Screening;
use faultline_hunt::{Engine, LoadReport, View};
use faultline_parser::{RecordSink, Request};

/// Runs every rule on every row.
struct Hunting<'a> {
    engine: &'a Engine,
    view: View,
    found: Found,
    screening: Screening,
    hits: Vec<usize>,
    rows: u64,
}

impl RecordSink for Hunting<'_> {
    type Error = std::convert::Infallible;
    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        self.rows += 1;
        if !self.engine.may_match(r, &mut self.screening) {
            return Ok(());
        }
        self.view.request(r);
        self.engine.matches_screened(&mut self.view, &mut self.found, &mut self.hits, &self.screening);
        self.hits.clear();
        Ok(())
    }
    fn access_log_text(&mut self, text: &[u8], offset: u64) {
        self.engine.mark_lines(text, offset, &mut self.screening);
    }
}

fn loaded(with_sigma: bool) -> LoadReport {
    let mut loaded = LoadReport::default();
    loaded.add_bundled();
    if with_sigma && let Some(dir) = std::env::var_os("FAULTLINE_SIGMA") {
        loaded.add_path(std::path::Path::new(&dir), false).expect("rules folder reads");
    }
    loaded.finish()
}

fn rules(with_sigma: bool) -> Engine {
    Engine::new(loaded(with_sigma).rules)
}

fn bench_hunt(c: &mut Criterion) {
    let data = faultline_benches::w3c_traffic(64 << 20);
    let mut group = c.benchmark_group("hunt_w3c");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
    for (name, engine) in [("bundled", rules(false)), ("bundled_and_sigma", rules(true))] {
        group.bench_function(format!("{name}_{}_rules_2_threads", engine.rules().len()), |b| {
            b.iter(|| {
                pool.install(|| {
                    let new_sink = || Hunting {
                        engine: &engine,
                        view: engine.view(Vec::new()),
                        found: Found::default(),
                        screening: Screening::default(),
                        hits: Vec::new(),
                        rows: 0,
                    };
                    faultline_benches::parse_w3c(&data, new_sink).iter().map(|s| s.rows).sum::<u64>()
                })
            })
        });
    }
    group.finish();
}

/// `faultline_analyzer::hunting::hunt` over the traffic written to a file:
/// the engine's work above plus placing every hit, the native detectors,
/// the correlations over the day's 404s and the sort.
fn bench_hunt_file(c: &mut Criterion) {
    let data = faultline_benches::w3c_traffic(64 << 20);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("u_ex251124.log");
    std::fs::write(&path, &data).expect("writes");
    let paths = [path];
    let mut group = c.benchmark_group("hunt_file");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    let scope = faultline_analyzer::Scope::default();
    let read = faultline_parser::ReadConfig::default();
    for (name, with_sigma) in [("bundled", false), ("bundled_and_sigma", true)] {
        let hunt = faultline_analyzer::hunting::Hunt::new(loaded(with_sigma));
        group.bench_function(name, |b| {
            b.iter(|| {
                faultline_analyzer::hunting::hunt(&paths, &read, &scope, &hunt, &|_| {}).detections.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_hunt, bench_hunt_file);
criterion_main!(benches);
