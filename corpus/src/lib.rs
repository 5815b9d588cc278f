//! faultline-corpus: seeded generators of IIS evidence whose content is
//! known, for tests, demos and benchmarks.
//!
//! This release generates W3C access-log traffic with the full IIS 10 field
//! set: a daily curve, a realistic status mix, many URLs, agents and clients,
//! and a long-tailed latency distribution.

pub mod bundle;
pub mod evtx;
pub mod freb;
pub mod layout;
pub mod rng;
pub mod scenario;
pub mod w3c;
