//! Benchmark package; the benches live in `benches/`.
