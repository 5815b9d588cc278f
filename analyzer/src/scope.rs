//! What part of the evidence a run looks at: a time range, and the
//! analyst's corrections: the clocks of hosts whose clocks were off, and the
//! hosts of paths whose evidence does not say. Every command applies the same
//! scope to every record (through [`crate::resolve::Resolver`]), so a query,
//! a timeline and an analysis of the same evidence agree.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use faultline_parser::{Span, Timestamp};

use crate::identity::HostOverrides;
use crate::resolve::host_name;

/// The time range and clock corrections of a run.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Only evidence at or after this time (after skew is applied).
    pub from: Option<Timestamp>,
    /// Only evidence before this time.
    pub to: Option<Timestamp>,
    /// Clock corrections per host.
    pub skew: Skew,
    /// Hosts the analyst named for paths.
    pub hosts: HostOverrides,
}

impl Scope {
    /// Whether a (corrected) time is inside the range.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from.is_none_or(|from| t >= from) && self.to.is_none_or(|to| t < to)
    }

    /// A record's time corrected by its host's skew, if inside the range.
    pub fn place(&self, skew: Span, t: Timestamp) -> Option<Timestamp> {
        let t = t + skew;
        self.contains(t).then_some(t)
    }
}

/// How far each host's clock was off: the span added to its times. Hosts are
/// named as the resolver names them (`web01.contoso.local` and `WEB01` are
/// the same host).
#[derive(Clone, Debug, Default)]
pub struct Skew(BTreeMap<String, Correction>);

/// One host's correction, and whether any evidence of that host asked for
/// it: a correction for a host the evidence does not have is a typo the
/// analyst should hear about, not a silent no-op.
#[derive(Clone, Debug, Default)]
struct Correction {
    by: Span,
    asked: Arc<AtomicBool>,
}

impl Skew {
    /// Corrects `host`'s times by `by`.
    pub fn insert(&mut self, host: &str, by: Span) {
        self.0.insert(host_name(host), Correction { by, asked: Arc::default() });
    }

    /// The correction for a host (as the resolver names it); none if unknown.
    pub fn of(&self, host: &str) -> Span {
        match self.0.get(host) {
            Some(c) => {
                c.asked.store(true, Ordering::Relaxed);
                c.by
            }
            None => Span::default(),
        }
    }

    /// The correction for a host, without counting it as asked for: a
    /// file's own host, which only counts once a record is filed under it.
    pub fn peek(&self, host: &str) -> Span {
        self.0.get(host).map(|c| c.by).unwrap_or_default()
    }

    /// Whether no host is corrected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The corrected hosts no evidence read so far belongs to, in name order.
    pub fn unused(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter(|(_, c)| !c.asked.load(Ordering::Relaxed)).map(|(h, _)| h.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_moves_a_time_and_the_range_applies_after() {
        let mut scope = Scope {
            from: Some(Timestamp::from_parts(1_000, 0)),
            to: Some(Timestamp::from_parts(2_000, 0)),
            ..Scope::default()
        };
        scope.skew.insert("web01.contoso.local", Span::secs(90));
        let skew = scope.skew.of("WEB01");
        assert_eq!(skew, Span::secs(90), "one host, however it is written");
        assert_eq!(scope.place(skew, Timestamp::from_parts(950, 0)), Some(Timestamp::from_parts(1_040, 0)));
        assert_eq!(scope.place(skew, Timestamp::from_parts(1_910, 0)), None, "2000 is past the end");
        assert_eq!(
            scope.place(Span::default(), Timestamp::from_parts(1_000, 0)),
            Some(Timestamp::from_parts(1_000, 0))
        );
        assert_eq!(scope.skew.of("WEB02"), Span::default());
        scope.skew.insert("web09", Span::secs(5));
        assert_eq!(scope.skew.unused().collect::<Vec<_>>(), ["WEB09"], "WEB01 was asked for, WEB09 never");
    }
}
