//! The security lens's cost on W3C: parsing alone against parsing with the
//! bundled pack (and SigmaHQ's webserver rules, when `FAULTLINE_SIGMA` names
//! a rules folder) evaluated on every row, bytes per second.

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

fn rules(with_sigma: bool) -> Engine {
    let mut loaded = LoadReport::default();
    loaded.add_bundled();
    if with_sigma && let Some(dir) = std::env::var_os("FAULTLINE_SIGMA") {
        loaded.add_path(std::path::Path::new(&dir), false).expect("rules folder reads");
    }
    let loaded = loaded.finish();
    Engine::new(loaded.rules)
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

criterion_group!(benches, bench_hunt);
criterion_main!(benches);
