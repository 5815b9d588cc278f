//! What the analysis keeps from the evidence: the typed rows
//! ([`rows`]), the read pass' sink that collects them ([`collect`]), and the
//! store the detectors ask ([`store`]).

pub mod collect;
pub mod rows;
pub mod store;

pub use collect::{Absorbed, Collector, Kept};
pub use rows::{
    Body, ErrKey, ErrRow, EventKind, EventRow, LATENCY_BUCKETS, Minute, MinuteKey, RequestRow, Status,
    TraceRow, Unlisted,
};
pub use store::Store;
