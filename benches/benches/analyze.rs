//! `analyze` end to end (discovery, parallel parsing of every source,
//! correlation, detectors) over a generated two-host incident bundle, in
//! bytes of evidence per second; without and with the security lens.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_analyzer::hunting::Hunt;
use faultline_analyzer::{Scope, analyze, analyze_and_hunt};
use faultline_corpus::scenario::{Size, generate, rate_for_size};
use faultline_parser::ReadConfig;

fn bundle_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let meta = entry.metadata().expect("metadata");
        total += if meta.is_dir() { bundle_bytes(&entry.path()) } else { meta.len() };
    }
    total
}

fn bench_analyze(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hosts, hours) = (2, 3);
    let size = Size { hosts, hours, rate: rate_for_size(64 << 20, hosts, hours) };
    let truth = generate("crash-and-queue-full", dir.path(), 42, &size).expect("generates");
    let bytes = bundle_bytes(dir.path());
    let paths = [dir.path().to_path_buf()];
    let mut group = c.benchmark_group("analyze");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.bench_function("crash_and_queue_full_2_hosts", |b| {
        b.iter(|| {
            let report = analyze(&paths, &ReadConfig::default(), &Scope::default(), &|_| {});
            assert_eq!(report.findings.first().map(|f| f.id.id()), truth.expected.first().copied());
            report.findings.len()
        })
    });
    // The same with the security lens's bundled pack in the same read, as
    // `analyze` runs by default: what the lens costs.
    let mut loaded = faultline_hunt::LoadReport::default();
    loaded.add_bundled();
    let hunt = Hunt::new(loaded.finish());
    group.bench_function("crash_and_queue_full_2_hosts_with_the_lens", |b| {
        b.iter(|| {
            let report = analyze_and_hunt(&paths, &ReadConfig::default(), &Scope::default(), &hunt, &|_| {});
            assert_eq!(report.findings.first().map(|f| f.id.id()), truth.expected.first().copied());
            report.findings.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_analyze);
criterion_main!(benches);
