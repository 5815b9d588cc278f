//! The Sigma correlations over the whole read: each rule's detections and
//! silent matches, grouped and counted in their windows, becoming the
//! correlation's detections.

use std::collections::{BTreeMap, BTreeSet};

use faultline_hunt::correlation::{Fired, Matched as _};
use rayon::prelude::*;

use super::quiet::{Member, QuietMatch};
use super::{Detection, Hunt, RuleInfo};

/// What a correlation's members hold in the fields their rules list as
/// worth showing, each field's most frequent values first (`;
/// TargetUserName Administrator 3560 times, JcDfcZTc once`): the first
/// member alone would name whatever came first (one random name among
/// thousands of tries of one account).
pub(super) fn counted_values<'r>(
    rules: impl Iterator<Item = &'r RuleInfo>,
    matches: &[usize],
    members: &[Member<'_>],
) -> String {
    use faultline_hunt::correlation::Matched as _;
    const NAMED: usize = 3;
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::new();
    for (shown, lower) in rules.flat_map(|r| r.interest.iter()) {
        if seen.contains(&lower.as_str()) {
            continue;
        }
        seen.push(lower);
        // Counted apart from case (Windows account names and IIS paths
        // are case-blind: `admin` and `ADMIN` are one account tried), and
        // shown as most often written.
        let mut counts: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
        for &m in matches {
            if let Some(v) = members[m].written(lower).filter(|v| !v.is_empty() && *v != "-") {
                *counts.entry(v.to_ascii_lowercase()).or_default().entry(v).or_default() += 1;
            }
        }
        let mut ranked: Vec<(&str, usize)> = counts
            .values()
            .filter_map(|spellings| {
                let total = spellings.values().sum();
                let shown = spellings.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?.0;
                Some((*shown, total))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if ranked.is_empty() {
            continue;
        }
        let times = |n: usize| if n == 1 { "once".to_string() } else { format!("{n} times") };
        let named: Vec<String> =
            ranked.iter().take(NAMED).map(|(v, n)| format!("{v} {}", times(*n))).collect();
        let more = match ranked.len().saturating_sub(NAMED) {
            0 => String::new(),
            n => format!(", {n} other value{}", if n == 1 { "" } else { "s" }),
        };
        out.push_str(&format!("; {shown} {}{more}", named.join(", ")));
    }
    out
}

impl Hunt {
    /// `detections` (in [`sort`](super::sort) order) and the detections of the
    /// correlations over them and over the silent rules' matches `quiet`
    /// (in the same order).
    pub(super) fn correlate(
        &self,
        mut detections: Vec<Detection>,
        quiet: Vec<QuietMatch<'_>>,
    ) -> Vec<Detection> {
        if self.correlations.is_empty() {
            return detections;
        }
        // Both lists merged into the one order the correlations read.
        let mut members = Vec::with_capacity(detections.len() + quiet.len());
        let (mut shown, mut silent) = (detections.iter().peekable(), quiet.iter().peekable());
        loop {
            let quiet_first = match (shown.peek(), silent.peek()) {
                (Some(d), Some(q)) => q.key(&self.rules) < d.key(),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => break,
            };
            members.extend(if quiet_first {
                silent.next().map(|q| Member::Quiet(*q))
            } else {
                shown.next().map(Member::Shown)
            });
        }
        drop(quiet);
        // Each correlation on its own thread (the read is done, the other
        // core idle), reading the members in place; their results in
        // correlation order.
        let fired: Vec<Vec<Fired>> =
            self.correlations.par_iter().enumerate().map(|(i, (c, _))| c.evaluate(i, &members)).collect();
        let mut out = Vec::new();
        for ((c, info), fired) in self.correlations.iter().zip(fired) {
            for fired in fired {
                let first = members[fired.matches[0]];
                let last = members[fired.matches[fired.matches.len() - 1]];
                let group: Vec<String> = fired.group.iter().map(|(f, v)| format!("{f}={v}")).collect();
                let mut evidence = first.evidence();
                // A value count says how many values it counted (as it
                // compares them): an episode holds repeats too.
                let distinct = match (&c.kind, &c.field) {
                    (faultline_hunt::correlation::Kind::ValueCount, Some(field)) => {
                        let values: BTreeSet<_> =
                            fired.matches.iter().filter_map(|&m| members[m].value(field)).collect();
                        format!(" ({} distinct {field})", values.len())
                    }
                    _ => String::new(),
                };
                let counted =
                    counted_values(c.rules.iter().map(|&r| &*self.rules[r]), &fired.matches, &members);
                let n = fired.matches.len();
                // Matches on several servers (a scanner walking a farm
                // behind its balancer) say whose: the detection is filed
                // under the first's.
                let mut hosts: BTreeMap<&str, usize> = BTreeMap::new();
                for &m in &fired.matches {
                    *hosts.entry(members[m].host()).or_default() += 1;
                }
                let spread = match hosts.len() {
                    1 => String::new(),
                    _ => {
                        let each: Vec<String> = hosts.iter().map(|(h, n)| format!("{h} ({n})")).collect();
                        format!(" on {}", crate::describe::listed(&each, 5))
                    }
                };
                evidence.summary = crate::describe::cut_line(format!(
                    "{n} {} of {}{distinct} within {} s{}{}{spread}{counted}; first: {}",
                    if n == 1 { "match" } else { "matches" },
                    c.rules.iter().map(|&r| self.rules[r].meta.title.as_str()).collect::<Vec<_>>().join(", "),
                    last.time().seconds() - first.time().seconds(),
                    if group.is_empty() { "" } else { " from " },
                    group.join(", "),
                    evidence.summary
                ));
                // A web request names the site, the worker's process event
                // its app pool: the chain has both.
                let of = || fired.matches.iter().map(|&m| members[m]);
                out.push(Detection {
                    end: (last.time() > first.time()).then(|| last.time()),
                    site: of().find_map(|m| m.site()),
                    app_pool: of().find_map(|m| m.app_pool().map(str::to_string)),
                    matched: fired.group,
                    ..Detection::new(info, first.host(), first.time(), evidence)
                });
            }
        }
        detections.append(&mut out);
        detections
    }
}
