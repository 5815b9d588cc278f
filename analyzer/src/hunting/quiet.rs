//! The silent rules' matches (a 404 of a scanner's storm, a rejected login)
//! kept as little as the correlations read of them, and a match as a
//! correlation sees it: a detection or a silent match.

use std::ops::Range;
use std::sync::Arc;

use faultline_parser::{RecordId, Timestamp};

use crate::finding::Evidence;

use super::{Detection, OrderKey, RuleInfo};

/// A match of a silent rule, kept as what its correlations read and what
/// the detection of a correlation it starts is made of: a day's 404s feed
/// the scanner burst, and a whole [`Detection`] each (the host, the file,
/// the field names as strings of their own) was a sixth of a hunt's time.
#[derive(Debug)]
pub(super) struct Quiet {
    /// The rule's index among the loaded rules.
    pub(super) rule: u32,
    /// Its host in [`Quiets::hosts`].
    pub(super) host: u32,
    /// The IIS site id, or [`Quiet::NONE`] (a site numbered `u32::MAX`
    /// reads as none).
    pub(super) site: u32,
    /// Its app pool in [`Quiets::pools`], or [`Quiet::NONE`].
    pub(super) pool: u32,
    pub(super) time: Timestamp,
    /// The line, or [`Quiet::NO_PLACE`].
    pub(super) line: u64,
    /// The event record, or [`Quiet::NO_PLACE`].
    pub(super) record: u64,
    /// Its summary in [`Quiets::text`].
    pub(super) summary: Range<u32>,
    /// Its values in [`Quiets::values`].
    pub(super) values: Range<u32>,
}

impl Quiet {
    /// No site or app pool: numbers and indexes instead of options and
    /// shared strings make a match 56 bytes instead of 104 (a storm of 404s
    /// is millions of them).
    pub(super) const NONE: u32 = u32::MAX;
    /// No line or record.
    pub(super) const NO_PLACE: u64 = u64::MAX;

    pub(super) fn line(&self) -> Option<u64> {
        (self.line != Self::NO_PLACE).then_some(self.line)
    }

    pub(super) fn record(&self) -> Option<RecordId> {
        (self.record != Self::NO_PLACE).then_some(RecordId::from_key(self.record))
    }

    pub(super) fn site(&self) -> Option<u32> {
        (self.site != Self::NONE).then_some(self.site)
    }

    /// Its app pool's index in [`Quiets::pools`].
    pub(super) fn pool(&self) -> Option<usize> {
        (self.pool != Self::NONE).then_some(self.pool as usize)
    }
}

/// The silent rules' matches in one chunk of one file, their text end to
/// end (none of them holds a string of its own). Offsets are 32-bit (a
/// storm of 404s is millions of matches): a chunk's store that reaches
/// [`Quiets::FULL`] is set aside and another begun.
#[derive(Debug)]
pub(super) struct Quiets {
    pub(super) source: crate::resolve::SourceKind,
    pub(super) path: Arc<str>,
    pub(super) text: String,
    /// Per value, the index of its field in [`RuleInfo::fields`], and the
    /// value in `text`.
    pub(super) values: Vec<(u32, Range<u32>)>,
    pub(super) matches: Vec<Quiet>,
    /// The loaded rules, whose fields its values are of.
    pub(super) rules: Arc<[Arc<RuleInfo>]>,
    /// The hosts and app pools its matches name (a chunk names a few).
    pub(super) hosts: Vec<Arc<str>>,
    pub(super) pools: Vec<Arc<str>>,
}

impl Quiets {
    /// Half the offsets 32 bits hold: no record's values come near the rest.
    pub(super) const FULL: usize = 1 << 31;

    pub(super) fn full(&self) -> bool {
        self.text.len() >= Self::FULL || self.values.len() >= Self::FULL
    }

    /// The index of `name` in `names`, added when it is not there.
    pub(super) fn named(names: &mut Vec<Arc<str>>, name: &str) -> u32 {
        index_in(names, |n| **n == *name, || Arc::from(name))
    }
}

/// The index of the item of a short list that `is` picks (the last, the
/// likeliest asked for again), `new` added when none is.
pub(super) fn index_in<T>(list: &mut Vec<T>, is: impl Fn(&T) -> bool, new: impl FnOnce() -> T) -> u32 {
    let at = list.iter().rposition(is).unwrap_or_else(|| {
        list.push(new());
        list.len() - 1
    });
    offset(at)
}

/// An offset into a [`Quiets`] (below [`Quiets::FULL`], or the store is
/// set aside first).
pub(super) fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

/// A stretch of a [`Quiets`] as indexes.
pub(super) fn wide(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

/// A silent rule's match, with the chunk that holds its text, its host
/// and app pool, and the rules whose fields its values are of.
#[derive(Clone, Copy, Debug)]
pub(super) struct QuietMatch<'a> {
    pub(super) of: &'a Quiets,
    pub(super) m: &'a Quiet,
}

impl<'a> QuietMatch<'a> {
    pub(super) fn key(&self, rules: &'a [Arc<RuleInfo>]) -> OrderKey<'a> {
        (self.m.time, &self.of.path, self.m.line(), self.m.record(), &rules[self.m.rule as usize].meta.id)
    }

    /// The evidence a detection built from it cites.
    pub(super) fn evidence(&self) -> Evidence {
        Evidence {
            source: self.of.source,
            path: self.of.path.to_string(),
            line: self.m.line(),
            record: self.m.record(),
            time: self.m.time,
            summary: self.of.text[wide(&self.m.summary)].to_string(),
        }
    }
}

/// A match a correlation reads: a detection, or a silent rule's match.
#[derive(Clone, Copy, Debug)]
pub(super) enum Member<'a> {
    Shown(&'a Detection),
    Quiet(QuietMatch<'a>),
}

impl faultline_hunt::correlation::Matched for Member<'_> {
    fn rule(&self) -> usize {
        match self {
            Member::Shown(d) => d.rule.index,
            Member::Quiet(q) => q.m.rule as usize,
        }
    }

    fn seconds(&self) -> i64 {
        self.time().seconds()
    }

    fn host(&self) -> &str {
        match self {
            Member::Shown(d) => &d.host,
            Member::Quiet(q) => &q.of.hosts[q.m.host as usize],
        }
    }

    fn written(&self, field: &str) -> Option<&str> {
        match self {
            Member::Shown(d) => {
                d.matched.iter().find(|(f, _)| f.eq_ignore_ascii_case(field)).map(|(_, v)| v.as_str())
            }
            Member::Quiet(q) => q.of.values[wide(&q.m.values)]
                .iter()
                .find(|(f, _)| q.of.rules[q.m.rule as usize].fields[*f as usize] == field)
                .map(|(_, at)| &q.of.text[wide(at)]),
        }
    }

    fn app_pool(&self) -> Option<&str> {
        match self {
            Member::Shown(d) => d.app_pool.as_deref(),
            Member::Quiet(q) => q.m.pool().map(|p| &*q.of.pools[p]),
        }
    }
}

impl Member<'_> {
    pub(super) fn time(&self) -> Timestamp {
        match self {
            Member::Shown(d) => d.time,
            Member::Quiet(q) => q.m.time,
        }
    }

    pub(super) fn evidence(&self) -> Evidence {
        match self {
            Member::Shown(d) => d.evidence.clone(),
            Member::Quiet(q) => q.evidence(),
        }
    }

    pub(super) fn site(&self) -> Option<String> {
        match self {
            Member::Shown(d) => d.site.clone(),
            Member::Quiet(q) => q.m.site().map(|s| s.to_string()),
        }
    }
}
