//! Sigma correlation rules (`correlation:` with `type` event_count,
//! value_count, temporal or temporal_ordered, `rules`, `group-by`,
//! `timespan` and `condition`), evaluated over the matches of the rules
//! they name once the read is done.

use std::borrow::Cow;
use std::hash::BuildHasher as _;

use yaml_rust2::Yaml;

use crate::pattern::Compare;
use crate::rule::{Level, Meta, Rule, Unsupported};

/// What a correlation counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Matches of the named rules.
    EventCount,
    /// Distinct values of a field among them.
    ValueCount,
    /// Every named rule matched within the span (any order).
    Temporal,
    /// Every named rule matched within the span, in the order named.
    TemporalOrdered,
}

/// A correlation rule, its references resolved to rule indexes.
#[derive(Clone, Debug)]
pub struct Correlation {
    /// Its metadata.
    pub meta: Meta,
    /// What it counts.
    pub kind: Kind,
    /// The rules it reads, by index in the loaded rules.
    pub rules: Vec<usize>,
    /// Fields the matches are grouped by (lower-case).
    pub group_by: Vec<String>,
    /// The same fields as the correlation spells them (`IpAddress`), for
    /// showing; a web alias as the name it stands for.
    pub group_shown: Vec<String>,
    /// The window, in seconds.
    pub timespan: i64,
    /// The count's comparison and threshold.
    pub condition: (Compare, f64),
    /// The field whose distinct values `value_count` counts (lower-case).
    pub field: Option<String>,
    /// Whether the named rules still report their own matches.
    pub generate: bool,
}

/// A rule's match as a correlation reads it, its values a list of
/// (field, value) pairs.
#[derive(Clone, Debug)]
pub struct Match<'a> {
    /// The rule (index in the loaded rules).
    pub rule: usize,
    /// Seconds since the epoch.
    pub time: i64,
    /// The record's values (lower-case field names); the fields the
    /// correlation reads among them.
    pub values: &'a [(&'a str, &'a str)],
    /// The host the record is placed on: `group-by: host` groups by it,
    /// whatever the record's own fields are called (a W3C row and a Sysmon
    /// event of one server).
    pub host: &'a str,
}

/// The name `group-by` gives the app pool a match is placed in (as `host`
/// is the host): a temporal chain grouped by it holds matches of one app
/// pool, a match whose pool is unknown (a web request, a Security 4688
/// start) joining any; a count groups by it as by a field.
pub const APP_POOL: &str = "app_pool";

/// A rule's match as a correlation reads it: a [`Match`], or the caller's
/// own record read in place (a storm of 404s is millions of matches, and a
/// list of them made for the correlations alone was a sixth of the memory
/// the pass after the read held).
pub trait Matched: Sync {
    /// The rule (index in the loaded rules).
    fn rule(&self) -> usize;
    /// Seconds since the epoch.
    fn seconds(&self) -> i64;
    /// The host the record is placed on: `group-by: host` groups by it,
    /// whatever the record's own fields are called.
    fn host(&self) -> &str;
    /// The value of `field` (a lower-case name) as written.
    fn written(&self, field: &str) -> Option<&str>;
    /// The app pool the record is placed in, when known.
    fn app_pool(&self) -> Option<&str> {
        None
    }

    /// The value of `field` as written, else, for `host` and
    /// [`APP_POOL`], where the record is placed.
    fn placed(&self, field: &str) -> Option<&str> {
        self.written(field).or_else(|| match field {
            "host" => Some(self.host()),
            APP_POOL => self.app_pool(),
            _ => None,
        })
    }

    /// The value of `field` as the correlation compares it: [`Self::placed`]
    /// lower-cased.
    fn value(&self, field: &str) -> Option<Cow<'_, str>> {
        // Copied only when it has capitals: most group keys (a client
        // address, a lower-case path) have none.
        self.placed(field).map(|v| {
            if v.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(v.to_ascii_lowercase())
            } else {
                Cow::Borrowed(v)
            }
        })
    }
}

impl Matched for Match<'_> {
    fn rule(&self) -> usize {
        self.rule
    }

    fn seconds(&self) -> i64 {
        self.time
    }

    fn host(&self) -> &str {
        self.host
    }

    fn written(&self, field: &str) -> Option<&str> {
        self.values.iter().find(|(f, _)| *f == field).map(|(_, v)| *v)
    }
}

/// A group whose matches met a correlation's condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    /// The correlation (index in the loaded correlations).
    pub correlation: usize,
    /// The matches that made it, by their index in the input.
    pub matches: Vec<usize>,
    /// The group's values, as `field=value`.
    pub group: Vec<(String, String)>,
}

/// Which matches a temporal window's chain is made of.
#[derive(Clone, Copy, Debug)]
enum Pools<'a> {
    /// All of them: the chain is not grouped by app pool.
    Any,
    /// Those of no known app pool.
    Unknown,
    /// Those of this app pool and those of none known.
    Named(&'a str),
}

/// Whether two matches' app pools (none known: `None`) are one pool (IIS
/// names pools without regard to case).
fn same_pool(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a.is_none() && b.is_none(),
    }
}

impl Pools<'_> {
    /// Whether a match placed in the app pool `own` is one of them.
    fn take(self, own: Option<&str>) -> bool {
        match (self, own) {
            (Pools::Any, _) | (_, None) => true,
            (Pools::Unknown, Some(_)) => false,
            (Pools::Named(pool), Some(own)) => pool.eq_ignore_ascii_case(own),
        }
    }
}

/// How long after a chain of a worker's process is complete a request of
/// no known pool may be logged and still be the one that ran it: a request
/// is logged as it ends, after the command it ran started.
const LOGGED_AFTER: i64 = 5;

/// `5m`, `1h`, `30s`, `2d` in seconds.
fn span(text: &str) -> Option<i64> {
    let text = text.trim();
    let (n, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    // Checked: a span of more seconds than an i64 holds wrapped to a
    // negative one, whose windows ended before they began.
    n.checked_mul(match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    })
}

fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

impl Correlation {
    /// A correlation from its YAML document, resolving the rules it names
    /// (by `id` or `name`) among `rules`.
    pub fn from_yaml(doc: &Yaml, origin: &str, rules: &[Rule]) -> Result<Correlation, Unsupported> {
        let c = &doc["correlation"];
        let kind = match text(&c["type"]).as_deref() {
            Some("event_count") => Kind::EventCount,
            Some("value_count") => Kind::ValueCount,
            Some("temporal") => Kind::Temporal,
            Some("temporal_ordered") => Kind::TemporalOrdered,
            other => return Err(Unsupported::Condition(format!("correlation type {other:?}"))),
        };
        let names: Vec<String> = match &c["rules"] {
            Yaml::Array(list) => list.iter().filter_map(text).collect(),
            other => text(other).into_iter().collect(),
        };
        let mut refs = Vec::new();
        for n in &names {
            let at = rules.iter().position(|r| r.meta.id == *n || r.name.as_deref() == Some(n.as_str()));
            refs.push(at.ok_or_else(|| Unsupported::Condition(format!("no loaded rule named `{n}`")))?);
        }
        let written: Vec<String> = match &c["group-by"] {
            Yaml::Array(list) => list.iter().filter_map(text).collect(),
            other => text(other).into_iter().collect(),
        };
        fn field_name(f: &str) -> String {
            crate::record::canonical_field(&f.to_ascii_lowercase()).to_string()
        }
        let group_by: Vec<String> = written.iter().map(|f| field_name(f)).collect();
        let group_shown = written
            .into_iter()
            .zip(&group_by)
            .map(|(w, f)| if w.eq_ignore_ascii_case(f) { w } else { f.clone() })
            .collect();
        let timespan = text(&c["timespan"])
            .as_deref()
            .and_then(span)
            .ok_or_else(|| Unsupported::Condition("no usable timespan".into()))?;
        let (condition, field) = match &c["condition"] {
            Yaml::Hash(map) => {
                let mut cond = None;
                let mut field = None;
                for (k, v) in map {
                    let (k, v) = (text(k).unwrap_or_default(), text(v).unwrap_or_default());
                    let compare = match k.as_str() {
                        "gt" => Compare::Greater,
                        "gte" => Compare::GreaterOrEqual,
                        // A count below a bound is met by every quiet
                        // stretch of a group: which windows to judge is
                        // not settled, so such a rule is refused with its
                        // reason rather than loaded and never met.
                        "lt" | "lte" => {
                            return Err(Unsupported::Condition(format!(
                                "correlation condition `{k}` (a count below a bound) is not evaluated"
                            )));
                        }
                        "eq" => Compare::Equal,
                        "field" => {
                            field = Some(field_name(&v));
                            continue;
                        }
                        other => {
                            return Err(Unsupported::Condition(format!("correlation condition `{other}`")));
                        }
                    };
                    cond = Some((compare, v.parse().map_err(|_| Unsupported::Value(v.clone()))?));
                }
                (cond.unwrap_or((Compare::GreaterOrEqual, names.len() as f64)), field)
            }
            Yaml::BadValue if matches!(kind, Kind::Temporal | Kind::TemporalOrdered) => {
                ((Compare::GreaterOrEqual, names.len() as f64), None)
            }
            _ => return Err(Unsupported::Condition("no correlation condition".into())),
        };
        if kind == Kind::ValueCount && field.is_none() {
            return Err(Unsupported::Condition("value_count without a field".into()));
        }
        let title = text(&doc["title"]).ok_or_else(|| Unsupported::Malformed("no title".into()))?;
        let tags = crate::rule::techniques(&doc["tags"]);
        let meta = Meta {
            id: text(&doc["id"]).unwrap_or_else(|| title.clone()),
            title,
            author: text(&doc["author"]),
            level: text(&doc["level"]).and_then(|l| Level::from_name(&l)).unwrap_or(Level::Medium),
            status: text(&doc["status"]),
            license: text(&doc["license"]),
            techniques: tags,
            origin: origin.to_string(),
        };
        let generate = matches!(c["generate"], Yaml::Boolean(true));
        Ok(Correlation {
            meta,
            kind,
            rules: refs,
            group_by,
            group_shown,
            timespan,
            condition,
            field,
            generate,
        })
    }

    /// The fields a match of one of its rules must keep.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.group_by.iter().chain(&self.field).map(String::as_str)
    }

    fn met(&self, n: f64) -> bool {
        let (c, want) = self.condition;
        match c {
            Compare::Greater => n > want,
            Compare::GreaterOrEqual => n >= want,
            Compare::Less => n < want,
            Compare::LessOrEqual => n <= want,
            Compare::Equal => n == want,
        }
    }

    /// The fewest matches a window must hold to meet the condition: every
    /// count (matches, distinct values, rules seen) is at most that many.
    fn least(&self) -> usize {
        let (c, want) = self.condition;
        let least = if c == Compare::Greater { want.floor() + 1.0 } else { want.ceil() };
        // `as` saturates: NaN and negative thresholds give 0.
        (least as usize).max(1)
    }

    /// Whether windows of one group that fire one after the other are one
    /// episode: counts, whose every window of a long burst fires again;
    /// not the temporal kinds, whose every firing is a chain of its own.
    fn merges_episodes(&self) -> bool {
        matches!(self.kind, Kind::EventCount | Kind::ValueCount)
    }

    /// Whether it is a temporal chain grouped by [`APP_POOL`].
    fn pooled(&self) -> bool {
        matches!(self.kind, Kind::Temporal | Kind::TemporalOrdered)
            && self.group_by.iter().any(|f| f == APP_POOL)
    }

    /// How many of its rules the matches of a temporal window that `pools`
    /// takes chain (in order, for `temporal_ordered`).
    fn chained<M: Matched>(&self, window: &[usize], matches: &[M], pools: Pools<'_>) -> usize {
        let takes = |i: usize| pools.take(matches[i].app_pool());
        match self.kind {
            Kind::TemporalOrdered => {
                let mut next = 0;
                for &i in window {
                    if takes(i) && self.rules.get(next) == Some(&matches[i].rule()) {
                        next += 1;
                    }
                }
                next
            }
            _ => self
                .rules
                .iter()
                .filter(|r| window.iter().any(|&i| takes(i) && matches[i].rule() == **r))
                .count(),
        }
    }

    /// The places in `list` (from `start`, which is past the pool's last
    /// chain, not `used`) of the matches a pooled chain that fired holds:
    /// every match of its pool `agreed`, and, for a rule with none, the
    /// first of no known pool (in order, for `temporal_ordered`), leaving
    /// the rest to another pool's chain (two workers starting shells after
    /// two requests of unknown pools are two chains). A chain of no known
    /// pool holds every match of none.
    fn held<M: Matched>(
        &self,
        list: &[usize],
        start: usize,
        end: usize,
        used: &[bool],
        matches: &[M],
        agreed: Option<&str>,
    ) -> Vec<usize> {
        let pools = agreed.map_or(Pools::Unknown, Pools::Named);
        let free_to = |last: usize| {
            (start..=last).filter(move |&p| !used[p] && pools.take(matches[list[p]].app_pool()))
        };
        let free = free_to(end);
        if agreed.is_none() {
            return free.collect();
        }
        let unknown = |p: usize| matches[list[p]].app_pool().is_none();
        let rule = |p: usize| matches[list[p]].rule();
        let mut held: Vec<usize> = free.clone().filter(|&p| !unknown(p)).collect();
        match self.kind {
            Kind::TemporalOrdered => {
                // The walk `chained` made: each rule's first match after
                // the previous rule's.
                let mut next = 0;
                for p in free {
                    if self.rules.get(next) == Some(&rule(p)) {
                        if unknown(p) {
                            held.push(p);
                        }
                        next += 1;
                    }
                }
            }
            _ => {
                // Of a rule's matches of no known pool, the first logged at
                // or after the pool's own first: a request is logged as it
                // ends, so the one that ran the command the worker started
                // ends just after it, while another client's request to
                // the same page a minute before is not the one (its client
                // would be blamed). Failing that, the first.
                let anchor = held.iter().map(|&p| matches[list[p]].seconds()).min();
                for r in &self.rules {
                    if held.iter().any(|&p| rule(p) == *r) {
                        continue;
                    }
                    let mut candidates = free.clone().filter(|&p| unknown(p) && rule(p) == *r);
                    let ended_after = anchor.and_then(|at| {
                        free_to(list.len() - 1)
                            .filter(|&p| unknown(p) && rule(p) == *r)
                            .find(|&p| matches[list[p]].seconds() >= at)
                    });
                    if let Some(p) = ended_after.or_else(|| candidates.next()) {
                        held.push(p);
                    }
                }
            }
        }
        held.sort_unstable();
        held.dedup();
        held
    }

    /// Evaluates over matches in time order: one [`Fired`] per stretch of a
    /// group that met the condition. A temporal chain's window starts again
    /// after it; a count's slides on, and windows that fire within the
    /// timespan of the previous one's last match are one [`Fired`] holding
    /// every match from the first window's first to the last one's last.
    pub fn evaluate<'a, M: Matched>(&self, index: usize, matches: &'a [M]) -> Vec<Fired> {
        // Each match is given its group's number in one pass in match
        // order; groups too small to meet the condition are never slid
        // over. A day's 404s are many matches in many groups of one or two
        // (a map of per-group lists made this the read's serial tail, and a
        // key copied per group, a list of strings, was most of what a storm
        // of 404s from many clients left to allocate): a group is known by
        // its key's hash and its first match, whose key is read again to
        // tell groups of one hash apart.
        let read = |m: &&M| self.rules.contains(&m.rule());
        // Sized once: most of a day's 404s come from clients of their own,
        // and growing the table by doubling rehashed them again and again.
        let count = matches.iter().filter(read).count();
        let hasher = hashbrown::DefaultHashBuilder::default();
        // A chain's pool is judged in its window: a match of no known pool
        // joins any, which no grouping key can say.
        let pooled = self.pooled();
        let keyed: Vec<&str> =
            self.group_by.iter().map(String::as_str).filter(|f| !(pooled && *f == APP_POOL)).collect();
        let key_of = |m: &'a M| keyed.iter().map(|f| m.value(f).unwrap_or_default());
        // Numbers as u32: a storm of 404s is millions of matches, and these
        // lists were most of the fresh memory the pass after the read
        // faulted in (four billion matches would not fit in memory first).
        let at = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let mut groups: hashbrown::HashTable<u32> = hashbrown::HashTable::with_capacity(count);
        // Per group: its first match.
        let mut firsts: Vec<u32> = Vec::with_capacity(count);
        let mut key: Vec<Cow<'_, str>> = Vec::new();
        let mut members: Vec<(u32, u32)> = Vec::with_capacity(count);
        let mut sizes: Vec<u32> = Vec::with_capacity(count);
        for (i, m) in matches.iter().enumerate().filter(|(_, m)| read(m)) {
            key.clear();
            key.extend(key_of(m));
            let hash = hasher.hash_one(&key);
            let first = |firsts: &[u32], g: u32| &matches[firsts[g as usize] as usize];
            let group = match groups.find(hash, |&g| key_of(first(&firsts, g)).eq(key.iter().cloned())) {
                Some(&g) => g,
                None => {
                    let g = at(firsts.len());
                    firsts.push(at(i));
                    sizes.push(0);
                    // Sized for every match: the table never grows, and
                    // a group's hash is made again only if it did.
                    let rehash = |&g: &u32| hasher.hash_one(key_of(first(&firsts, g)).collect::<Vec<_>>());
                    groups.insert_unique(hash, g, rehash);
                    g
                }
            };
            sizes[group as usize] += 1;
            members.push((group, at(i)));
        }
        drop(groups);
        let least = self.least();
        members.retain(|&(g, _)| sizes[g as usize] as usize >= least);
        // Each group's matches together, in match order.
        members.sort_unstable();
        let field = self.field.as_deref().unwrap_or_default();
        let (mut list, mut times, mut values) = (Vec::new(), Vec::new(), Vec::new());
        let mut out: Vec<Fired> = Vec::new();
        for run in members.chunk_by(|a, b| a.0 == b.0) {
            list.clear();
            list.extend(run.iter().map(|&(_, i)| i as usize));
            times.clear();
            times.extend(list.iter().map(|&i| matches[i].seconds()));
            values.clear();
            if self.kind == Kind::ValueCount {
                values.extend(list.iter().map(|&i| matches[i].value(field)));
            }
            // Shown as the group's first match writes it (`WEB01`, not the
            // `web01` it is compared as).
            let first = &matches[firsts[run[0].0 as usize] as usize];
            let key: Vec<&str> = self.group_by.iter().map(|f| first.placed(f).unwrap_or_default()).collect();
            // The pool a pooled chain's matches agree on (none known: none).
            let mut agreed: Option<&str> = None;
            let mut distinct: hashbrown::HashMap<&str, usize> = hashbrown::HashMap::new();
            let mut start = 0;
            // The group's last firing: its place in `out` and its last
            // match's position in `list`.
            let mut last: Option<(usize, usize)> = None;
            // Of a pooled chain, the matches (by their place in `list`) a
            // chain already holds: another pool's in the same window may
            // still make a chain of their own.
            let mut used = vec![false; if pooled { list.len() } else { 0 }];
            // Of a pooled chain, per pool, the position in `list` after
            // its last chain's end: as an unpooled chain starts again
            // after it fires, a pool's next chain takes only what came
            // after its last (a bypass tried twice, then two commands run
            // through the page it dropped, is one chain, not two).
            let mut chained_to: Vec<(Option<&str>, usize)> = Vec::new();
            let mut agreed_from = 0;
            let mut live: Vec<usize> = Vec::new();
            let mut mine: Vec<usize> = Vec::new();
            for end in 0..list.len() {
                if let Some(Some(v)) = values.get(end) {
                    *distinct.entry(v.as_ref()).or_default() += 1;
                }
                while times[end] - times[start] > self.timespan {
                    if let Some(Some(v)) = values.get(start)
                        && let Some(n) = distinct.get_mut(v.as_ref())
                    {
                        *n -= 1;
                        if *n == 0 {
                            distinct.remove(v.as_ref());
                        }
                    }
                    start += 1;
                }
                let window = if pooled {
                    live.clear();
                    live.extend((start..=end).filter(|&p| !used[p]).map(|p| list[p]));
                    &live[..]
                } else {
                    &list[start..=end]
                };
                let n = match self.kind {
                    Kind::EventCount => window.len() as f64,
                    Kind::ValueCount => distinct.len() as f64,
                    Kind::Temporal | Kind::TemporalOrdered if pooled => {
                        // Each pool a match in the window names, then none.
                        let mut pools: Vec<Option<&str>> =
                            window.iter().filter_map(|&i| matches[i].app_pool()).map(Some).collect();
                        pools.sort_unstable();
                        pools.dedup();
                        pools.push(None);
                        let mut best = 0;
                        agreed = None;
                        for pool in pools {
                            let from = chained_to
                                .iter()
                                .find(|(p, _)| same_pool(*p, pool))
                                .map_or(start, |&(_, after)| after.max(start));
                            mine.clear();
                            mine.extend((from..=end).filter(|&p| !used[p]).map(|p| list[p]));
                            let n = self.chained(&mine, matches, pool.map_or(Pools::Unknown, Pools::Named));
                            // The first pool whose chain is complete, else
                            // the longest chain's.
                            if self.met(n as f64) {
                                (best, agreed, agreed_from) = (n, pool, from);
                                break;
                            }
                            if n > best {
                                (best, agreed, agreed_from) = (n, pool, from);
                            }
                        }
                        best as f64
                    }
                    Kind::Temporal | Kind::TemporalOrdered => {
                        self.chained(window, matches, Pools::Any) as f64
                    }
                };
                if self.met(n) {
                    match last {
                        // The same episode: a count keeps firing while the
                        // client keeps going. A scanner walking 700 paths
                        // is one detection of 700 matches, not 23 of 30.
                        Some((at, before))
                            if self.merges_episodes() && times[start] - times[before] <= self.timespan =>
                        {
                            out[at].matches.extend_from_slice(&list[before + 1..=end]);
                            last = Some((at, end));
                        }
                        _ => {
                            let group = self
                                .group_shown
                                .iter()
                                .zip(&self.group_by)
                                .zip(&key)
                                .filter_map(|((shown, f), k)| match pooled && f == APP_POOL {
                                    true => agreed.map(|p| (shown.clone(), p.to_string())),
                                    false => Some((shown.clone(), k.to_string())),
                                })
                                .collect();
                            let matches = match pooled {
                                true => {
                                    // The requests logged within seconds after
                                    // the chain closed may be the one that ran it.
                                    let reach = end
                                        + times[end + 1..]
                                            .iter()
                                            .take_while(|&&t| t - times[end] <= LOGGED_AFTER)
                                            .count();
                                    let held =
                                        self.held(&list[..=reach], agreed_from, end, &used, matches, agreed);
                                    for &p in &held {
                                        used[p] = true;
                                    }
                                    chained_to.retain(|(p, _)| !same_pool(*p, agreed));
                                    chained_to.push((agreed, end + 1));
                                    held.into_iter().map(|p| list[p]).collect()
                                }
                                false => window.to_vec(),
                            };
                            out.push(Fired { correlation: index, matches, group });
                            last = Some((out.len() - 1, end));
                        }
                    }
                    // A count's window slides on, so an episode ends with
                    // the last match a window that fires still holds (25
                    // rejected logins against a threshold of 20 are 25,
                    // not 20); a temporal chain starts again.
                    if !self.merges_episodes() && !pooled {
                        start = end + 1;
                        distinct.clear();
                    }
                }
            }
        }
        out.sort_by_key(|f| f.matches.first().copied());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eq_condition_wants_exactly_that_many() {
        let c = |n: &str| {
            let doc = &yaml_rust2::YamlLoader::load_from_str(&format!(
                "title: t\ncorrelation:\n  type: event_count\n  rules: []\n  timespan: 1m\n  condition:\n    {n}: 3\n"
            ))
            .expect("yaml")[0];
            Correlation::from_yaml(doc, "x", &[]).expect("loads")
        };
        assert!(c("eq").met(3.0) && !c("eq").met(4.0));
        assert!(c("gte").met(4.0));
        // No window of fewer matches can meet it.
        assert_eq!([c("gt").least(), c("gte").least(), c("eq").least()], [4, 3, 3]);
    }

    /// A value count of the paths per client within a minute, at least
    /// `least` of them, over rule 0.
    fn paths_per_client(least: u32) -> Correlation {
        let doc = &yaml_rust2::YamlLoader::load_from_str(&format!(
            "title: t\ncorrelation:\n  type: value_count\n  rules: []\n  group-by: [c-ip]\n  timespan: 1m\n  \
             condition:\n    gte: {least}\n    field: cs-uri-stem\n"
        ))
        .expect("yaml")[0];
        let mut c = Correlation::from_yaml(doc, "x", &[]).expect("loads");
        c.rules = vec![0];
        c
    }

    #[test]
    fn a_group_is_shown_as_the_correlation_spells_its_fields() {
        let doc = &yaml_rust2::YamlLoader::load_from_str(
            "title: t\ncorrelation:\n  type: event_count\n  rules: []\n  group-by: [IpAddress, cs-user-agent]\n  \
             timespan: 1m\n  condition:\n    gte: 2\n",
        )
        .expect("yaml")[0];
        let c = Correlation::from_yaml(doc, "x", &[]).expect("loads");
        assert_eq!(c.group_by, ["ipaddress", "c-useragent"]);
        assert_eq!(c.group_shown, ["IpAddress", "c-useragent"]);
    }

    #[test]
    fn a_group_is_judged_only_when_it_holds_enough_matches() {
        let c = paths_per_client(2);
        let row = |ip: &'static str, stem: &'static str| vec![("c-ip", ip), ("cs-uri-stem", stem)];
        let rows = [row("1.1.1.1", "/a"), row("2.2.2.2", "/a"), row("1.1.1.1", "/b"), row("3.3.3.3", "/c")];
        let matches: Vec<Match<'_>> = rows
            .iter()
            .enumerate()
            .map(|(t, v)| Match { rule: 0, time: t as i64, values: v, host: "WEB" })
            .collect();
        let fired = c.evaluate(0, &matches);
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(fired[0].matches, [0, 2]);
        assert_eq!(fired[0].group, [("c-ip".to_string(), "1.1.1.1".to_string())]);
    }

    /// A group is compared lower-cased and shown as its first match writes
    /// it: the host `WEB01`, a user `CONTOSO\\Admin`.
    #[test]
    fn a_group_is_shown_as_written() {
        let mut c = paths_per_client(2);
        c.group_by = vec!["host".into(), "cs-username".into()];
        c.group_shown.clone_from(&c.group_by);
        let rows = [
            vec![("cs-username", "CONTOSO\\Admin"), ("cs-uri-stem", "/a")],
            vec![("cs-username", "contoso\\admin"), ("cs-uri-stem", "/b")],
        ];
        let hosts = ["WEB01", "web01"];
        let matches: Vec<Match<'_>> = rows
            .iter()
            .zip(hosts)
            .enumerate()
            .map(|(t, (v, host))| Match { rule: 0, time: t as i64, values: v, host })
            .collect();
        let fired = c.evaluate(0, &matches);
        assert_eq!(fired.len(), 1, "one group: {fired:?}");
        assert_eq!(
            fired[0].group,
            [
                ("host".to_string(), "WEB01".to_string()),
                ("cs-username".to_string(), "CONTOSO\\Admin".to_string())
            ]
        );
    }

    /// A scanner that keeps going is one episode, however many windows of
    /// it meet the condition; a pause longer than the timespan starts the
    /// next one.
    #[test]
    fn windows_of_one_group_that_keep_firing_are_one_episode() {
        let c = paths_per_client(3);
        let paths: Vec<String> = (0..20).map(|i| format!("/p{i}")).collect();
        // Ten paths a second apart, then, after a pause of two minutes, ten more.
        let times: Vec<i64> = (0..10).chain(130..140).collect();
        let rows: Vec<[(&str, &str); 2]> =
            paths.iter().map(|p| [("c-ip", "1.1.1.1"), ("cs-uri-stem", p.as_str())]).collect();
        let matches: Vec<Match<'_>> = rows
            .iter()
            .zip(&times)
            .map(|(v, &time)| Match { rule: 0, time, values: v, host: "WEB" })
            .collect();
        let fired = c.evaluate(0, &matches);
        let episodes: Vec<&[usize]> = fired.iter().map(|f| f.matches.as_slice()).collect();
        // The window slides: from the third path on, every window holds
        // three, so each burst is one episode of all ten (the old window,
        // started again after each firing, left out the tenth).
        assert_eq!(episodes, [(0..10).collect::<Vec<_>>(), (10..20).collect::<Vec<_>>()], "{fired:?}");
    }

    /// Every match of a burst is counted, not the threshold's multiple: 25
    /// rejected logins in a minute against a threshold of 20 are one
    /// episode of 25; a match the last firing window does not hold is left
    /// out.
    #[test]
    fn an_episode_holds_every_match_its_firing_windows_hold() {
        let doc = &yaml_rust2::YamlLoader::load_from_str(
            "title: t\ncorrelation:\n  type: event_count\n  rules: []\n  group-by: [c-ip]\n  timespan: 1m\n  \
             condition:\n    gte: 20\n",
        )
        .expect("yaml")[0];
        let mut c = Correlation::from_yaml(doc, "x", &[]).expect("loads");
        c.rules = vec![0];
        let row = [("c-ip", "1.1.1.1")];
        // 25 logins two seconds apart, then one more five minutes later.
        let times: Vec<i64> = (0..25).map(|i| i * 2).chain([350]).collect();
        let matches: Vec<Match<'_>> =
            times.iter().map(|&time| Match { rule: 0, time, values: &row, host: "WEB" }).collect();
        let fired = c.evaluate(0, &matches);
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(fired[0].matches, (0..25).collect::<Vec<_>>());
    }

    /// An upper bound used to load and then never be judged: it is now
    /// refused, with the reason in the load report.
    #[test]
    fn an_upper_bound_is_refused_with_its_reason() {
        for k in ["lt", "lte"] {
            let doc = &yaml_rust2::YamlLoader::load_from_str(&format!(
                "title: t\ncorrelation:\n  type: event_count\n  rules: []\n  timespan: 1h\n  condition:\n    {k}: 3\n"
            ))
            .expect("yaml")[0];
            let refused = Correlation::from_yaml(doc, "x", &[]).expect_err("refused");
            assert!(refused.to_string().contains(&format!("`{k}`")), "{refused}");
        }
    }

    #[test]
    fn spans_read_as_sigma_writes_them() {
        assert_eq!(span("5m"), Some(300));
        assert_eq!(span("1h"), Some(3_600));
        assert_eq!(span("30s"), Some(30));
        assert_eq!(span("soon"), None);
        // Past what an i64 holds in seconds: no span, not a wrapped one.
        assert_eq!(span("200000000000000d"), None);
        assert_eq!(span("9223372036854775807s"), Some(i64::MAX));
    }

    /// A match with an app pool: rule, second, pool.
    struct Pooled(usize, i64, Option<&'static str>);

    impl Matched for Pooled {
        fn rule(&self) -> usize {
            self.0
        }
        fn seconds(&self) -> i64 {
            self.1
        }
        fn host(&self) -> &str {
            "WEB01"
        }
        fn written(&self, _: &str) -> Option<&str> {
            None
        }
        fn app_pool(&self) -> Option<&str> {
            self.2
        }
    }

    /// A web request (rule 0, no pool known) and a worker's shell (rule 1)
    /// within two minutes, grouped by host and app pool.
    fn chain(kind: &str) -> Correlation {
        let doc = &yaml_rust2::YamlLoader::load_from_str(&format!(
            "title: t\ncorrelation:\n  type: {kind}\n  rules: []\n  group-by: [host, app_pool]\n  timespan: 2m\n"
        ))
        .expect("yaml")[0];
        let mut c = Correlation::from_yaml(doc, "x", &[]).expect("loads");
        c.rules = vec![0, 1];
        c.condition = (Compare::GreaterOrEqual, 2.0);
        c
    }

    /// The chains of `kind` over `matches`: each one's matches and pool.
    fn pooled_chains(kind: &str, matches: &[Pooled]) -> Vec<(Vec<usize>, String)> {
        chain(kind).evaluate(0, matches).into_iter().map(|f| (f.matches, f.group[1].1.clone())).collect()
    }

    #[test]
    fn a_chain_grouped_by_app_pool_holds_one_pools_matches_and_those_of_none_known() {
        for kind in ["temporal", "temporal_ordered"] {
            let c = chain(kind);
            // Two pools' halves a minute apart: no chain.
            let apart = [Pooled(0, 0, Some("Shop")), Pooled(1, 60, Some("Api"))];
            assert_eq!(c.evaluate(0, &apart), [], "{kind}");
            // A request of no known pool joins the shell of pool Api; the
            // other pool's request in the window is no part of the chain.
            let joined = [Pooled(0, 0, Some("Shop")), Pooled(0, 10, None), Pooled(1, 60, Some("Api"))];
            let fired = c.evaluate(0, &joined);
            assert_eq!(fired.len(), 1, "{kind}");
            assert_eq!(fired[0].matches, [1, 2], "{kind}");
            assert_eq!(fired[0].group, [("host".into(), "WEB01".into()), ("app_pool".into(), "Api".into())]);
            // One pool, spelled two ways.
            let same = [Pooled(0, 0, Some("shop")), Pooled(1, 60, Some("Shop"))];
            assert_eq!(c.evaluate(0, &same).len(), 1, "{kind}");
            // No pool known on either side: a chain, shown without a pool.
            let unknown = [Pooled(0, 0, None), Pooled(1, 60, None)];
            let fired = c.evaluate(0, &unknown);
            assert_eq!(fired.len(), 1, "{kind}");
            assert_eq!(fired[0].group, [("host".to_string(), "WEB01".to_string())]);
        }
        // Two pools' chains in one window: two chains, each of its pool.
        for kind in ["temporal", "temporal_ordered"] {
            let both = [
                Pooled(0, 0, Some("Shop")),
                Pooled(0, 10, Some("Api")),
                Pooled(1, 20, Some("Shop")),
                Pooled(1, 30, Some("Api")),
            ];
            let chains = pooled_chains(kind, &both);
            assert_eq!(chains, [(vec![0, 2], "Shop".to_string()), (vec![1, 3], "Api".to_string())], "{kind}");
        }
        // Two clients' requests to one page and a shell the second one
        // ran, logged as it ended, a second after the shell started: the
        // chain holds that request, not the other client's before it.
        let ran = [Pooled(0, 0, None), Pooled(1, 100, Some("Default")), Pooled(0, 101, None)];
        assert_eq!(pooled_chains("temporal", &ran), [(vec![1, 2], "Default".to_string())]);
        // Two requests of unknown pools and two pools' workers starting
        // shells: two chains, each with one request.
        for kind in ["temporal", "temporal_ordered"] {
            let two = [
                Pooled(0, 0, None),
                Pooled(0, 10, None),
                Pooled(1, 20, Some("Default")),
                Pooled(1, 30, Some("Shop")),
            ];
            let chains = pooled_chains(kind, &two);
            assert_eq!(
                chains,
                [(vec![0, 2], "Default".to_string()), (vec![1, 3], "Shop".to_string())],
                "{kind}"
            );
        }
        // A request tried twice, then two shells of one pool: one chain,
        // as an unpooled chain starts again after it fires; the second
        // request is no cause of the second shell's.
        for kind in ["temporal", "temporal_ordered"] {
            let retried = [
                Pooled(0, 0, None),
                Pooled(0, 5, None),
                Pooled(1, 10, Some("Shop")),
                Pooled(1, 40, Some("shop")),
            ];
            let fired = chain(kind).evaluate(0, &retried);
            let chains: Vec<_> = fired.iter().map(|f| f.matches.clone()).collect();
            assert_eq!(chains, [vec![0, 2]], "{kind}");
            // A request after the chain starts the pool's next one.
            let again = [
                Pooled(0, 0, None),
                Pooled(1, 10, Some("Shop")),
                Pooled(0, 20, None),
                Pooled(1, 40, Some("Shop")),
            ];
            let fired = chain(kind).evaluate(0, &again);
            let chains: Vec<_> = fired.iter().map(|f| f.matches.clone()).collect();
            assert_eq!(chains, [vec![0, 1], vec![2, 3]], "{kind}");
        }
        // A count grouped by app pool shows the pool it counted.
        let doc = &yaml_rust2::YamlLoader::load_from_str(
            "title: t\ncorrelation:\n  type: event_count\n  rules: []\n  group-by: [app_pool]\n  timespan: 1m\n  \
             condition:\n    gte: 2\n",
        )
        .expect("yaml")[0];
        let mut count = Correlation::from_yaml(doc, "x", &[]).expect("loads");
        count.rules = vec![0];
        let fired =
            count.evaluate(0, &[Pooled(0, 0, Some("Shop")), Pooled(0, 5, Some("shop")), Pooled(0, 6, None)]);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].group, [("app_pool".to_string(), "Shop".to_string())]);
        assert_eq!(fired[0].matches, [0, 1]);
        // In order: the shell before the request is no ordered chain.
        let backwards = [Pooled(1, 0, Some("Api")), Pooled(0, 10, None)];
        assert_eq!(chain("temporal_ordered").evaluate(0, &backwards), []);
        assert_eq!(chain("temporal").evaluate(0, &backwards).len(), 1);
    }
}
