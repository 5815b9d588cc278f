//! W3C parsing throughput (bytes per second) on generated traffic with the
//! full IIS 10 field set.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_parser::{RecordSink, Request};

#[derive(Default)]
struct Count {
    rows: u64,
    bytes_sent: u64,
}

impl RecordSink for Count {
    type Error = std::convert::Infallible;
    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        self.rows += 1;
        self.bytes_sent += r.bytes_sent.unwrap_or(0);
        Ok(())
    }
}

fn bench_w3c(c: &mut Criterion) {
    let data = faultline_benches::w3c_traffic(64 << 20);
    let mut group = c.benchmark_group("w3c");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        group.bench_function(format!("parse_full_fields_{threads}_threads"), |b| {
            b.iter(|| {
                pool.install(|| {
                    faultline_benches::parse_w3c(&data, Count::default)
                        .iter()
                        .map(|s| s.rows + s.bytes_sent)
                        .sum::<u64>()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_w3c);
criterion_main!(benches);
