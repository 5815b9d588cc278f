//! Rules evaluated over records: each rule is tried only on the records its
//! log source names, its searches evaluated lazily as its condition asks.
//!
//! Most web rules are lists of substrings a field must contain. Tried one by
//! one, a hundred rules cost a hundred scans of each value; instead every
//! `contains` needle of a field is compiled into one Aho-Corasick automaton,
//! run once over the field's values per record, and a `contains` test is
//! then a bit lookup.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::pattern::Pattern;
use crate::record::{Kind, View};
use crate::rule::{FieldTest, Rule, Search, Target};

/// One field's needles, searched at once.
#[derive(Debug, Clone)]
struct FieldNeedles {
    field: String,
    automaton: AhoCorasick,
    /// The engine-wide bit of each of the automaton's patterns.
    bits: Vec<usize>,
}

/// The field name under which keyword needles are indexed (no real field
/// has spaces).
const KEYWORDS: &str = " keywords";

/// The rules of one hunt, indexed by the records they apply to.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    rules: Vec<Rule>,
    web: Vec<usize>,
    events: Vec<usize>,
    needles: Vec<FieldNeedles>,
    bits: usize,
    /// Per rule: what must be in the record for the rule to match at all
    /// (`None`: the rule is always evaluated).
    guards: Vec<Option<Guard>>,
}

/// A cheap test on the values as written that a rule cannot match without.
#[derive(Debug, Clone)]
enum Guard {
    /// One of these needles was found.
    Needles(Vec<usize>),
    /// The field equals one of these (lower-case) values, without case.
    Equals(String, Vec<String>),
    /// The field starts with one of these, without case.
    Prefix(String, Vec<String>),
    /// The field ends with one of these, without case.
    Suffix(String, Vec<String>),
    /// Any of these.
    Any(Vec<Guard>),
}

impl Guard {
    fn holds(&self, view: &View, found: &Found) -> bool {
        match self {
            Guard::Needles(bits) => bits.iter().any(|&b| found.has(b)),
            Guard::Equals(field, values) => {
                view.raw_values(field).any(|v| values.iter().any(|w| v.eq_ignore_ascii_case(w)))
            }
            Guard::Prefix(field, values) => view.raw_values(field).any(|v| {
                values
                    .iter()
                    .any(|w| v.len() >= w.len() && v.as_bytes()[..w.len()].eq_ignore_ascii_case(w.as_bytes()))
            }),
            Guard::Suffix(field, values) => view.raw_values(field).any(|v| {
                values.iter().any(|w| {
                    v.len() >= w.len() && v.as_bytes()[v.len() - w.len()..].eq_ignore_ascii_case(w.as_bytes())
                })
            }),
            Guard::Any(guards) => guards.iter().any(|g| g.holds(view, found)),
        }
    }
}

/// The needles found in one record: a bit per needle.
#[derive(Debug, Default)]
pub struct Found {
    words: Vec<u64>,
}

impl Found {
    fn reset(&mut self, bits: usize) {
        self.words.clear();
        self.words.resize(bits.div_ceil(64), 0);
    }

    fn set(&mut self, bit: usize) {
        self.words[bit / 64] |= 1 << (bit % 64);
    }

    fn has(&self, bit: usize) -> bool {
        self.words.get(bit / 64).is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }
}

impl Engine {
    /// An engine over `rules`.
    pub fn new(mut rules: Vec<Rule>) -> Engine {
        // Number every `contains` needle of a named field, per field.
        let mut per_field: BTreeMap<String, Vec<(Vec<u8>, usize)>> = BTreeMap::new();
        let mut bits = 0;
        for rule in &mut rules {
            for search in &mut rule.searches {
                let mut number = |field: &str, p: &mut Pattern| {
                    if let Pattern::Contains(n) = p {
                        n.id = Some(bits);
                        per_field.entry(field.to_string()).or_default().push((n.text().to_vec(), bits));
                        bits += 1;
                    }
                };
                match search {
                    Search::Selections(maps) => {
                        for test in maps.iter_mut().flatten().filter(|t| !t.cased) {
                            for p in &mut test.patterns {
                                number(&test.field, p);
                            }
                        }
                    }
                    Search::Keywords(patterns) => {
                        for p in patterns {
                            number(KEYWORDS, p);
                        }
                    }
                }
            }
        }
        let guards = rules.iter().map(guard).collect();
        let needles = per_field
            .into_iter()
            .filter_map(|(field, list)| {
                // Needles are lower-case; the values are searched as written.
                let build = |kind| {
                    AhoCorasick::builder()
                        .match_kind(MatchKind::Standard)
                        .ascii_case_insensitive(true)
                        .kind(kind)
                        .build(list.iter().map(|(t, _)| t))
                };
                let automaton = build(Some(AhoCorasickKind::DFA)).or_else(|_| build(None)).ok()?;
                Some(FieldNeedles { field, automaton, bits: list.iter().map(|(_, b)| *b).collect() })
            })
            .collect();
        let web = rules.iter().enumerate().filter(|(_, r)| r.target == Target::Web).map(|(i, _)| i).collect();
        let events = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.target, Target::Events(_)))
            .map(|(i, _)| i)
            .collect();
        Engine { rules, web, events, needles, bits, guards }
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether any rule reads web records.
    pub fn wants_web(&self) -> bool {
        !self.web.is_empty()
    }

    /// Whether any rule reads Windows events.
    pub fn wants_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Whether any rule has a keyword search (which reads every field).
    pub fn has_keywords(&self) -> bool {
        self.rules.iter().any(|r| r.searches.iter().any(|s| matches!(s, Search::Keywords(_))))
    }

    /// Adds to `out` the index of every rule the record in `view` matches.
    pub fn matches(&self, view: &mut View, out: &mut Vec<usize>) {
        let mut found = Found::default();
        self.matches_with(view, &mut found, out);
    }

    /// [`Engine::matches`] reusing `found` from record to record. Needles
    /// are looked for in the values as written, and the values are
    /// lower-cased only when some rule may still match.
    pub fn matches_with(&self, view: &mut View, found: &mut Found, out: &mut Vec<usize>) {
        let candidates = match view.kind() {
            Kind::Web => &self.web,
            Kind::Event { .. } => &self.events,
        };
        if candidates.is_empty() {
            return;
        }
        found.reset(self.bits);
        for n in &self.needles {
            let mut scan = |value: &str| {
                for m in n.automaton.find_overlapping_iter(value) {
                    found.set(n.bits[m.pattern().as_usize()]);
                }
            };
            if n.field == KEYWORDS {
                view.raw_all().for_each(&mut scan);
            } else {
                view.raw_values(&n.field).for_each(&mut scan);
            }
        }
        let mut lowered = false;
        for &i in candidates {
            let rule = &self.rules[i];
            if !applies(&rule.target, view.kind())
                || self.guards[i].as_ref().is_some_and(|g| !g.holds(view, found))
            {
                continue;
            }
            if !lowered {
                view.lower();
                lowered = true;
            }
            let view = &*view;
            if rule.condition.eval(&mut |s| search(&rule.searches[s], view, found)) {
                out.push(i);
            }
        }
    }
}

fn applies(target: &Target, kind: &Kind) -> bool {
    match (target, kind) {
        (Target::Web, Kind::Web) => true,
        (Target::Events(pairs), Kind::Event { channel, id }) => {
            pairs.is_empty() || pairs.iter().any(|(c, want)| c == channel && want.is_none_or(|w| w == *id))
        }
        _ => false,
    }
}

fn search(s: &Search, view: &View, found: &Found) -> bool {
    match s {
        Search::Selections(maps) => maps.iter().any(|tests| tests.iter().all(|t| test(t, view, found))),
        Search::Keywords(patterns) => patterns.iter().any(|p| match p {
            Pattern::Contains(n) if n.id.is_some() => n.id.is_some_and(|b| found.has(b)),
            other => other.matches(view.keywords()),
        }),
    }
}

/// The indexed needles of a pattern list, when every pattern is one.
fn needles_of(patterns: &[Pattern]) -> Option<Vec<usize>> {
    patterns
        .iter()
        .map(|p| match p {
            Pattern::Contains(n) => n.id,
            _ => None,
        })
        .collect()
}

/// A guard on the values as written from a test made only of exact,
/// prefix or suffix patterns of one kind.
fn literal_guard(t: &FieldTest) -> Option<Guard> {
    let texts = |want: fn(&Pattern) -> Option<&String>| -> Option<Vec<String>> {
        t.patterns.iter().map(|p| want(p).filter(|v| v.is_ascii()).cloned()).collect()
    };
    let field = t.field.clone();
    if let Some(v) = texts(|p| if let Pattern::Equals(v) = p { Some(v) } else { None }) {
        return Some(Guard::Equals(field, v));
    }
    if let Some(v) = texts(|p| if let Pattern::StartsWith(v) = p { Some(v) } else { None }) {
        return Some(Guard::Prefix(field, v));
    }
    texts(|p| if let Pattern::EndsWith(v) = p { Some(v) } else { None }).map(|v| Guard::Suffix(field, v))
}

/// What a search cannot match without: per map, one test made only of
/// indexed needles (any one of which must be found); or, for a single map,
/// a test of exact values, prefixes or suffixes.
fn search_guard(s: &Search) -> Option<Guard> {
    match s {
        Search::Keywords(patterns) => needles_of(patterns).map(Guard::Needles),
        Search::Selections(maps) => {
            // Any needle of an `all` test is necessary too.
            let plain = |t: &&FieldTest| !t.cased && !t.patterns.is_empty();
            let mut all = Vec::new();
            for tests in maps {
                match tests.iter().filter(plain).find_map(|t| needles_of(&t.patterns)) {
                    Some(bits) => all.extend(bits),
                    None if maps.len() == 1 => {
                        // Exact values before prefixes and suffixes (a
                        // status is checked without a scan), the method last.
                        let mut literal: Vec<Guard> =
                            tests.iter().filter(plain).filter_map(literal_guard).collect();
                        literal.sort_by_key(|g| match g {
                            Guard::Equals(f, _) if f == "cs-method" => 3,
                            Guard::Equals(..) => 0,
                            Guard::Prefix(..) => 1,
                            _ => 2,
                        });
                        return literal.into_iter().next();
                    }
                    None => return None,
                }
            }
            (!all.is_empty()).then_some(Guard::Needles(all))
        }
    }
}

/// What a rule cannot match without: what the searches its condition
/// requires positively cannot match without (`selection`, `selection and
/// not filter`, `1 of selection_*` when each has a guard).
fn guard(rule: &Rule) -> Option<Guard> {
    condition_guard(&rule.condition, rule)
}

fn condition_guard(c: &crate::condition::Condition, rule: &Rule) -> Option<Guard> {
    use crate::condition::Condition;
    match c {
        Condition::Search(i) => search_guard(&rule.searches[*i]),
        Condition::And(parts) => parts.iter().find_map(|p| condition_guard(p, rule)),
        Condition::Or(parts) => {
            parts.iter().map(|p| condition_guard(p, rule)).collect::<Option<Vec<_>>>().map(Guard::Any)
        }
        Condition::Not(_) => None,
    }
}

fn test(t: &FieldTest, view: &View, found: &Found) -> bool {
    fn pick<'v>(cased: bool, (raw, lower): (&'v str, &'v str)) -> &'v str {
        if cased { raw } else { lower }
    }
    let mut values = view.values(&t.field).peekable();
    if values.peek().is_none() {
        return if t.all {
            t.patterns.iter().all(|p| p.matches_missing())
        } else {
            t.patterns.iter().any(|p| p.matches_missing())
        };
    }
    // A needle the field's automaton found is a match in some value.
    let one = |p: &Pattern| match p {
        Pattern::Contains(n) if n.id.is_some() => n.id.is_some_and(|b| found.has(b)),
        other => view.values(&t.field).any(|v| other.matches(pick(t.cased, v))),
    };
    if t.all { t.patterns.iter().all(one) } else { t.patterns.iter().any(one) }
}
