//! Rules evaluated over records: each rule is tried only on the records its
//! log source names, its searches evaluated lazily as its condition asks.
//!
//! Most web rules are lists of substrings a field must contain. Tried one by
//! one, a hundred rules cost a hundred scans of each value; instead every
//! `contains` needle of a field is compiled into one Aho-Corasick automaton,
//! run once over the field's values per record, and a `contains` test is
//! then a bit lookup.

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use faultline_parser::Request;

use crate::pattern::Pattern;
use crate::record::{Kind, View};
use crate::rule::{FieldTest, Rule, Search, Target};
use crate::screen::{LineFilter, RawWeb, Screen, Screening, WebNeedle};

/// One field's needles, searched at once.
#[derive(Debug, Clone)]
struct FieldNeedles {
    field: String,
    automaton: AhoCorasick,
    /// The engine-wide bit of each of the automaton's patterns.
    bits: Vec<usize>,
}

/// The web fields whose raw values a guard reads in a form the screen
/// makes (`path?query`, the agent with spaces).
const DERIVED: [&str; 4] = ["cs-uri-query", "cs-uri", "c-uri", "c-useragent"];

/// The field name under which keyword needles are indexed (no real field
/// has spaces).
pub(crate) const KEYWORDS: &str = " keywords";

/// The rules of one hunt, indexed by the records they apply to.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    rules: Vec<Rule>,
    web: Candidates,
    /// The rules over IIS FTP rows.
    ftp: Candidates,
    events: Candidates,
    needles: Vec<FieldNeedles>,
    bits: usize,
    /// Per rule: what must be in the record for the rule to match at all
    /// (`None`: the rule is always evaluated).
    guards: Vec<Option<Guard>>,
    /// The web rules' needles at once, for rows not worth a view.
    screen: Option<Screen>,
    /// The web rules' necessary needles, searched once per chunk of an
    /// access log.
    pub(crate) lines: Option<LineFilter>,
    /// The statuses a row the line filter clears must have for a rule
    /// tried on it to match (`None`: any status may do).
    pub(crate) clear_statuses: Option<Vec<u64>>,
    /// Which of `needles` the rules tried on a cleared row read.
    clear_needles: Vec<usize>,
}

/// The rules of one kind of record, by what lets them be tried: a record
/// is tried against the rules it has a necessary needle of (a few, found
/// through the needles the record holds) and those without one, instead
/// of every rule's guard on every record.
#[derive(Debug, Clone, Default)]
struct Candidates {
    /// Rules with no necessary needle.
    always: Vec<usize>,
    /// Per needle bit, the rules it is a necessary needle of.
    by_needle: Vec<Vec<usize>>,
    /// How many rules.
    count: usize,
}

impl Candidates {
    fn new(rules: impl Iterator<Item = usize>, guards: &[Option<Guard>], rarity: &[usize]) -> Candidates {
        let mut c = Candidates { always: Vec::new(), by_needle: vec![Vec::new(); rarity.len()], count: 0 };
        for i in rules {
            c.count += 1;
            match guards[i].as_ref().and_then(|g| g.necessary(rarity)) {
                Some(needles) => needles.into_iter().for_each(|b| c.by_needle[b].push(i)),
                None => c.always.push(i),
            }
        }
        c
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The rules a record with the `found` needles may match, in order.
    fn of(&self, found: &Found, out: &mut Vec<usize>) {
        out.clear();
        out.extend_from_slice(&self.always);
        for (w, &word) in found.words.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let b = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                if let Some(rules) = self.by_needle.get(b) {
                    out.extend_from_slice(rules);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// Where a guard reads a record's values as written.
pub(crate) trait FieldValues {
    /// Whether a value of `field` passes `test` (or may: a screen that
    /// cannot know answers yes).
    fn any(&self, field: &str, test: &dyn Fn(&[u8]) -> bool) -> bool;

    /// A numeric field's value as a number, when it is known exactly
    /// (`Some(None)`: the record has no value); `None` when the values must
    /// be read as text.
    fn number(&self, _field: &str) -> Option<Option<u64>> {
        None
    }
}

impl FieldValues for View {
    fn any(&self, field: &str, test: &dyn Fn(&[u8]) -> bool) -> bool {
        self.raw_values(field).any(|v| test(v.as_bytes()))
    }
}

/// A cheap test on the values as written that a rule cannot match without.
#[derive(Debug, Clone)]
enum Guard {
    /// One of these needles was found.
    Needles(Mask),
    /// The field equals one of these (lower-case) values, without case.
    Equals(String, Vec<String>),
    /// A numeric field (a status, a port) equals one of these numbers,
    /// written in decimal as the rule wrote them: compared as numbers
    /// where the record's value is one (every row's status is checked).
    Number(String, Vec<u64>, Vec<String>),
    /// The field starts with one of these, without case.
    Prefix(String, Vec<String>),
    /// The field ends with one of these, without case.
    Suffix(String, Vec<String>),
    /// Any of these.
    Any(Vec<Guard>),
    /// Every one of these, cheapest first.
    All(Vec<Guard>),
}

impl Guard {
    /// Whether the guard holds on a record whose values `fields` gives
    /// and in which the `found` needles are.
    pub(crate) fn holds(&self, fields: &impl FieldValues, found: &Found) -> bool {
        fn starts(v: &[u8], w: &str) -> bool {
            v.len() >= w.len() && v[..w.len()].eq_ignore_ascii_case(w.as_bytes())
        }
        match self {
            Guard::Needles(mask) => found.any(mask),
            Guard::Equals(field, values) => {
                fields.any(field, &|v| values.iter().any(|w| v.eq_ignore_ascii_case(w.as_bytes())))
            }
            Guard::Number(field, numbers, texts) => match fields.number(field) {
                Some(value) => value.is_some_and(|v| numbers.contains(&v)),
                None => fields.any(field, &|v| texts.iter().any(|w| v == w.as_bytes())),
            },
            Guard::Prefix(field, values) => fields.any(field, &|v| values.iter().any(|w| starts(v, w))),
            Guard::Suffix(field, values) => fields.any(field, &|v| {
                values.iter().any(|w| faultline_parser::value::ends_with_ignore_case(v, w.as_bytes()))
            }),
            Guard::Any(guards) => guards.iter().any(|g| g.holds(fields, found)),
            Guard::All(guards) => guards.iter().all(|g| g.holds(fields, found)),
        }
    }

    /// Every one of `guards` (`None` when there is none), the cheapest
    /// and most telling first: found needles are a bit test, a method is
    /// nearly always GET or POST.
    fn all(guards: Vec<Guard>) -> Option<Guard> {
        let mut guards: Vec<Guard> = guards
            .into_iter()
            .flat_map(|g| match g {
                Guard::All(inner) => inner,
                other => vec![other],
            })
            .collect();
        guards.sort_by_key(Guard::rank);
        match guards.len() {
            0 => None,
            1 => guards.pop(),
            _ => Some(Guard::All(guards)),
        }
    }

    /// Any one of `guards` (one guard alone as itself).
    fn any(mut guards: Vec<Guard>) -> Option<Guard> {
        match guards.len() {
            0 => None,
            1 => guards.pop(),
            _ => Some(Guard::Any(guards)),
        }
    }

    /// Needles one of which a record must hold for the guard to hold;
    /// of several such sets (a guard of every one of some), the rarest:
    /// the one whose commonest needle has the highest `rarity` (by needle
    /// bit), then the smallest.
    fn necessary(&self, rarity: &[usize]) -> Option<Vec<usize>> {
        let rank = |set: &Vec<usize>| {
            let rarest = set.iter().map(|&b| rarity.get(b).copied().unwrap_or(0)).min().unwrap_or(0);
            (rarest, std::cmp::Reverse(set.len()))
        };
        match self {
            Guard::Needles(mask) => Some(mask.bits().collect()),
            Guard::All(guards) => guards.iter().filter_map(|g| g.necessary(rarity)).max_by_key(rank),
            Guard::Any(guards) => {
                guards.iter().map(|g| g.necessary(rarity)).collect::<Option<Vec<_>>>().map(|v| v.concat())
            }
            Guard::Equals(..) | Guard::Number(..) | Guard::Prefix(..) | Guard::Suffix(..) => None,
        }
    }

    /// Adds the needles the guard tests to `out`.
    fn needle_bits(&self, out: &mut BTreeSet<usize>) {
        match self {
            Guard::Needles(mask) => out.extend(mask.bits()),
            Guard::Any(guards) | Guard::All(guards) => guards.iter().for_each(|g| g.needle_bits(out)),
            Guard::Equals(..) | Guard::Number(..) | Guard::Prefix(..) | Guard::Suffix(..) => {}
        }
    }

    /// Whether the guard reads a field's values.
    fn reads(&self, field: &str) -> bool {
        match self {
            Guard::Needles(_) => false,
            Guard::Equals(f, _) | Guard::Number(f, ..) | Guard::Prefix(f, _) | Guard::Suffix(f, _) => {
                f == field
            }
            Guard::Any(guards) | Guard::All(guards) => guards.iter().any(|g| g.reads(field)),
        }
    }

    /// The statuses a record must have for the guard to hold (`None`:
    /// it may hold whatever the status).
    fn statuses(&self) -> Option<Vec<u64>> {
        match self {
            Guard::Number(field, numbers, _) if field == "sc-status" => Some(numbers.clone()),
            Guard::All(guards) => guards.iter().find_map(Guard::statuses),
            Guard::Any(guards) => {
                guards.iter().map(Guard::statuses).collect::<Option<Vec<_>>>().map(|v| v.concat())
            }
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Guard::Needles(_) => 0,
            Guard::Equals(f, _) if f == "cs-method" => 4,
            Guard::Equals(..) | Guard::Number(..) => 1,
            Guard::Prefix(..) | Guard::Suffix(..) => 2,
            Guard::Any(_) | Guard::All(_) => 3,
        }
    }
}

/// A set of needles, as the words of [`Found`] they are in.
#[derive(Debug, Clone)]
struct Mask(Vec<(usize, u64)>);

impl Mask {
    fn of(bits: impl IntoIterator<Item = usize>) -> Mask {
        let mut words: BTreeMap<usize, u64> = BTreeMap::new();
        for b in bits {
            *words.entry(b / 64).or_default() |= 1 << (b % 64);
        }
        Mask(words.into_iter().collect())
    }

    /// The one needle of a mask of one.
    fn single(&self) -> Option<usize> {
        let mut bits = self.bits();
        let first = bits.next()?;
        bits.next().is_none().then_some(first)
    }

    fn bits(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().flat_map(|&(w, m)| (0..64).filter(move |b| m & (1 << b) != 0).map(move |b| w * 64 + b))
    }
}

/// The needles found in one record: a bit per needle.
#[derive(Debug, Default)]
pub struct Found {
    words: Vec<u64>,
    /// The rules tried on the record, reused.
    tried: Vec<usize>,
}

impl Found {
    pub(crate) fn reset(&mut self, bits: usize) {
        self.words.clear();
        self.words.resize(bits.div_ceil(64), 0);
    }

    pub(crate) fn set(&mut self, bit: usize) {
        self.words[bit / 64] |= 1 << (bit % 64);
    }

    /// The needles of `words` found, and no other.
    pub(crate) fn assign(&mut self, words: &[u64]) {
        self.words.clear();
        self.words.extend_from_slice(words);
    }

    fn any(&self, mask: &Mask) -> bool {
        mask.0.iter().any(|&(w, m)| self.words.get(w).is_some_and(|x| x & m != 0))
    }

    fn has(&self, bit: usize) -> bool {
        self.words.get(bit / 64).is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }
}

/// The most bytes of needles searched by a DFA: past that, a contiguous
/// NFA. A DFA is the fastest to search, but a rule of 200,000 indicator
/// values made DFAs of gigabytes.
const DFA_NEEDLE_BYTES: usize = 1 << 16;

/// One automaton over lower-case `needles`, searching values as written
/// (ASCII case ignored); `None` when they do not compile.
pub(crate) fn needle_automaton<'n>(needles: impl Iterator<Item = &'n [u8]> + Clone) -> Option<AhoCorasick> {
    let bytes: usize = needles.clone().map(<[u8]>::len).sum();
    let build = |kind| {
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .kind(kind)
            .build(needles.clone())
    };
    // Past the limit, a contiguous NFA: left to choose, the crate still
    // builds a DFA for a hundred patterns or fewer, however long.
    let kind = if bytes <= DFA_NEEDLE_BYTES { AhoCorasickKind::DFA } else { AhoCorasickKind::ContiguousNFA };
    build(Some(kind)).or_else(|_| build(None)).ok()
}

impl Engine {
    /// An engine over `rules`.
    pub fn new(mut rules: Vec<Rule>) -> Engine {
        // Number every `contains` needle of a named field, per field.
        let mut per_field: BTreeMap<String, Vec<(Vec<u8>, usize)>> = BTreeMap::new();
        let mut bits = 0;
        let mut web_needles = Vec::new();
        for rule in &mut rules {
            let web = rule.target == Target::Web;
            for search in &mut rule.searches {
                let mut number = |field: &str, p: &mut Pattern| {
                    let needles: Vec<&mut crate::pattern::Needle> = match p {
                        Pattern::Contains(n) => vec![&mut **n],
                        Pattern::Wildcard(_, runs) => runs.iter_mut().collect(),
                        _ => Vec::new(),
                    };
                    for n in needles {
                        n.id = Some(bits);
                        per_field.entry(field.to_string()).or_default().push((n.text().to_vec(), bits));
                        if web {
                            web_needles.push(WebNeedle {
                                field: field.to_string(),
                                text: n.text().to_vec(),
                                bit: bits,
                                space_after: n.space_after(),
                            });
                        }
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
                    Search::Keywords { patterns, .. } => {
                        // Keyword needles have no space (see
                        // `Pattern::for_keywords`): each lies in one value.
                        for p in patterns {
                            number(KEYWORDS, p);
                        }
                    }
                }
            }
        }
        // The literal values of web rules' text fields are needles too: a
        // row without one of a test's texts cannot match it, so such rules
        // are tried only on rows that hold one (the method is left out:
        // every row holds GET or POST).
        let mut literals = Literals::new();
        for rule in rules.iter().filter(|r| r.target == Target::Web) {
            for search in &rule.searches {
                let Search::Selections(maps) = search else { continue };
                for t in maps.iter().flatten().filter(|t| !t.cased && literal_needle_field(&t.field)) {
                    for p in &t.patterns {
                        let (Pattern::Equals(v) | Pattern::StartsWith(v) | Pattern::EndsWith(v)) = p else {
                            continue;
                        };
                        if v.is_ascii()
                            && v.len() >= 3
                            && !literals.contains_key(&(t.field.clone(), v.clone()))
                        {
                            literals.insert((t.field.clone(), v.clone()), bits);
                            bits += 1;
                        }
                    }
                }
            }
        }
        let guards: Vec<Option<Guard>> =
            rules.iter().map(|r| guard(r, (r.target == Target::Web).then_some(&literals))).collect();
        // Only the literal values a guard reads are searched: a test whose
        // values are not all literals, or one under `not`, needs none, and
        // a common one (a `.js` a filter leaves out) would hold up rows.
        let mut read = BTreeSet::new();
        for g in guards.iter().flatten() {
            g.needle_bits(&mut read);
        }
        for ((field, value), &bit) in literals.iter().filter(|(_, b)| read.contains(*b)) {
            per_field.entry(field.clone()).or_default().push((value.as_bytes().to_vec(), bit));
            web_needles.push(WebNeedle {
                field: field.clone(),
                text: value.as_bytes().to_vec(),
                bit,
                space_after: false,
            });
        }
        // How rare a needle is, for choosing which needles to index a rule
        // by: the longer, the rarer; a web needle by the shortest form a
        // line holds it in (none: it cannot be searched in lines).
        let mut rarity = vec![0; bits];
        for list in per_field.values() {
            for (text, b) in list {
                rarity[*b] = text.len();
            }
        }
        for n in &web_needles {
            rarity[n.bit] = n.rarity();
        }
        let needles: Vec<FieldNeedles> = per_field
            .into_iter()
            .filter_map(|(field, list)| {
                let automaton = needle_automaton(list.iter().map(|(t, _)| t.as_slice()))?;
                Some(FieldNeedles { field, automaton, bits: list.iter().map(|(_, b)| *b).collect() })
            })
            .collect();
        let of = |target: fn(&Target) -> bool| {
            let rules = rules.iter().enumerate().filter(move |(_, r)| target(&r.target)).map(|(i, _)| i);
            Candidates::new(rules, &guards, &rarity)
        };
        let web = of(|t| *t == Target::Web);
        let ftp = of(|t| *t == Target::Ftp);
        let events = of(|t| matches!(t, Target::Events(_)));
        let agent_guarded = guards.iter().flatten().any(|g| g.reads("c-useragent"));
        let screen = Screen::new(&web_needles, agent_guarded);
        let indexed: Vec<usize> = (0..bits).filter(|&b| !web.by_needle[b].is_empty()).collect();
        let lines = LineFilter::new(&web_needles, &indexed, bits.div_ceil(64), |clear| {
            let mut tried = Vec::new();
            web.of(&Found { words: clear.to_vec(), tried: Vec::new() }, &mut tried);
            let derived =
                tried.iter().any(|&i| guards[i].as_ref().is_some_and(|g| DERIVED.iter().any(|f| g.reads(f))));
            (tried, derived)
        });
        // Of a day's rows nearly all are cleared, and only the rules
        // without a necessary needle are tried on them (a 404, a 401):
        // a row of another status is turned away before its guards.
        let clear_statuses = lines.as_ref().and_then(|f| {
            f.tried
                .iter()
                .map(|&i| guards[i].as_ref()?.statuses())
                .collect::<Option<Vec<_>>>()
                .map(|v| v.concat())
        });
        let clear_needles = lines.as_ref().map_or_else(Vec::new, |f| {
            let read: BTreeSet<&str> = f.tried.iter().flat_map(|&i| rules[i].fields()).collect();
            let keywords = f.tried.iter().any(|&i| rules[i].has_keywords());
            let wanted =
                |n: &FieldNeedles| read.contains(n.field.as_str()) || (keywords && n.field == KEYWORDS);
            (0..needles.len()).filter(|&i| wanted(&needles[i])).collect()
        });
        Engine {
            rules,
            web,
            ftp,
            events,
            needles,
            bits,
            guards,
            screen,
            lines,
            clear_statuses,
            clear_needles,
        }
    }

    /// The same engine without its screen: every web row is evaluated in
    /// full (what the screened engine is compared with).
    pub fn unscreened(mut self) -> Engine {
        self.screen = None;
        self.lines = None;
        self
    }

    /// Searches a chunk of an access log (`text`, at `offset` in the read's
    /// data) once for the web rules' necessary needles, so that rows whose
    /// line holds none skip the screen's own search.
    pub fn mark_lines(&self, text: &[u8], offset: u64, s: &mut Screening) {
        if let Some(filter) = self.lines.as_ref().filter(|_| !self.web.is_empty()) {
            filter.mark(text, offset, s);
        }
    }

    /// A view filling only the fields these rules read, and `extra` (the
    /// fields correlations over them group by).
    pub fn view(&self, extra: impl IntoIterator<Item = String>) -> View {
        view_over(self.rules.iter(), extra)
    }

    /// A view for the rows the line filter clears, filling only the fields
    /// of the rules tried on them and `extra`: most such rows are 404s
    /// feeding a correlation, whose user agent, referer and cookie no rule
    /// tried on them reads. `None` without a line filter.
    pub fn cleared_view(&self, extra: impl IntoIterator<Item = String>) -> Option<View> {
        let filter = self.lines.as_ref()?;
        Some(view_over(filter.tried.iter().map(|&i| &self.rules[i]), extra))
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether any rule reads web records.
    pub fn wants_web(&self) -> bool {
        !self.web.is_empty()
    }

    /// Whether any rule reads the rows of IIS's FTP logs.
    pub fn wants_ftp(&self) -> bool {
        !self.ftp.is_empty()
    }

    /// Whether any rule reads Windows events.
    pub fn wants_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Whether any rule has a keyword search (which reads every field).
    pub fn has_keywords(&self) -> bool {
        self.rules.iter().any(Rule::has_keywords)
    }

    /// Adds to `out` the index of every rule the record in `view` matches.
    pub fn matches(&self, view: &mut View, out: &mut Vec<usize>) {
        let mut found = Found::default();
        self.matches_with(view, &mut found, out);
    }

    /// Whether some web rule may match the row `r`: `false` means none
    /// does, and the row needs no [`View`] (see [`crate::screen`]).
    pub fn may_match(&self, r: &Request<'_>, s: &mut Screening) -> bool {
        if self.web.is_empty() {
            return false;
        }
        s.cleared = false;
        let Some(screen) = &self.screen else { return true };
        if let Some(filter) = &self.lines
            && filter.clears(r, s)
        {
            s.cleared = true;
            if let Some(statuses) = &self.clear_statuses
                && !r.status.is_some_and(|status| statuses.contains(&u64::from(status)))
            {
                return false;
            }
            if filter.reads_derived {
                screen.prepare(r, s);
            }
            s.found.assign(&filter.clear);
            let raw = RawWeb::new(r, s);
            return filter
                .tried
                .iter()
                .any(|&i| self.guards[i].as_ref().is_none_or(|g| g.holds(&raw, &s.found)));
        }
        screen.search(r, s, self.bits);
        let mut tried = std::mem::take(&mut s.tried);
        self.web.of(&s.found, &mut tried);
        let raw = RawWeb::new(r, s);
        let may = tried.iter().any(|&i| self.guards[i].as_ref().is_none_or(|g| g.holds(&raw, &s.found)));
        s.tried = tried;
        may
    }

    /// [`Engine::matches`] reusing `found` from record to record. Needles
    /// are looked for in the values as written, and the values are
    /// lower-cased only when some rule may still match.
    pub fn matches_with(&self, view: &mut View, found: &mut Found, out: &mut Vec<usize>) {
        self.evaluate(view, found, out, self.needles.iter(), None);
    }

    /// [`Engine::matches_with`] for a web row that [`Engine::may_match`]
    /// let through with `s`. A row the line filter cleared is tried only on
    /// the rules tried on such rows, and only the fields they read are
    /// searched for needles (SigmaHQ's many needles were searched in every
    /// 404 row to try the one rule that asks for a 404).
    pub fn matches_screened(&self, view: &mut View, found: &mut Found, out: &mut Vec<usize>, s: &Screening) {
        match &self.lines {
            Some(filter) if s.cleared => {
                let needles = self.clear_needles.iter().map(|&i| &self.needles[i]);
                self.evaluate(view, found, out, needles, Some(&filter.tried));
            }
            _ => self.matches_with(view, found, out),
        }
    }

    /// Adds to `out` the rules the record in `view` matches, of `rules`
    /// (`None`: those its needles lead to), searching its values for the
    /// needles of `needles`.
    fn evaluate<'n>(
        &self,
        view: &mut View,
        found: &mut Found,
        out: &mut Vec<usize>,
        needles: impl Iterator<Item = &'n FieldNeedles>,
        rules: Option<&[usize]>,
    ) {
        let candidates = match view.kind() {
            Kind::Web => &self.web,
            Kind::Ftp => &self.ftp,
            Kind::Event { .. } => &self.events,
        };
        if candidates.is_empty() {
            return;
        }
        found.reset(self.bits);
        for n in needles {
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
        let mut tried = std::mem::take(&mut found.tried);
        match rules {
            Some(rules) => {
                tried.clear();
                tried.extend_from_slice(rules);
            }
            None => candidates.of(found, &mut tried),
        }
        for &i in &tried {
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
        found.tried = tried;
    }
}

/// A view filling only the fields `rules` read, and `extra`.
fn view_over<'r>(
    rules: impl Iterator<Item = &'r Rule> + Clone,
    extra: impl IntoIterator<Item = String>,
) -> View {
    let keywords = rules.clone().any(Rule::has_keywords);
    View::only(rules.flat_map(Rule::fields).map(str::to_string).chain(extra), keywords)
}

fn applies(target: &Target, kind: &Kind) -> bool {
    match (target, kind) {
        (Target::Web, Kind::Web) | (Target::Ftp, Kind::Ftp) => true,
        (Target::Events(pairs), Kind::Event { channel, id }) => {
            pairs.is_empty() || pairs.iter().any(|(c, want)| c == channel && want.is_none_or(|w| w == *id))
        }
        _ => false,
    }
}

fn search(s: &Search, view: &View, found: &Found) -> bool {
    match s {
        Search::Selections(maps) => maps.iter().any(|tests| tests.iter().all(|t| test(t, view, found))),
        Search::Keywords { patterns, all } => {
            let one = |p: &Pattern| indexed(p, found).unwrap_or_else(|| p.matches(view.keywords()));
            if *all { patterns.iter().all(one) } else { patterns.iter().any(one) }
        }
    }
}

/// What the found needles say about a pattern: `Some(answer)` when they
/// decide it (a `contains` needle; a wildcard value whose literal run is
/// absent), `None` when the value must be looked at.
fn indexed(p: &Pattern, found: &Found) -> Option<bool> {
    match p {
        Pattern::Contains(n) => n.id.map(|b| found.has(b)),
        Pattern::Wildcard(_, runs) => {
            runs.iter().any(|n| n.id.is_some_and(|b| !found.has(b))).then_some(false)
        }
        _ => None,
    }
}

/// What a pattern cannot match without: its needle, or every literal run
/// of a wildcard value.
fn pattern_guard(p: &Pattern) -> Option<Guard> {
    let needle = |n: &crate::pattern::Needle| n.id.map(|b| Guard::Needles(Mask::of([b])));
    match p {
        Pattern::Contains(n) => needle(n),
        Pattern::Wildcard(_, runs) if !runs.is_empty() => {
            Guard::all(runs.iter().map(needle).collect::<Option<Vec<_>>>()?)
        }
        _ => None,
    }
}

/// What a list of patterns cannot match without (every one of them for
/// `all`, else one), when every pattern has a needle guard; patterns of one
/// needle each share one mask.
fn patterns_guard(patterns: &[Pattern], all: bool) -> Option<Guard> {
    let guards: Vec<Guard> = patterns.iter().map(pattern_guard).collect::<Option<_>>()?;
    if all {
        return Guard::all(guards);
    }
    let single: Option<Vec<usize>> = guards
        .iter()
        .map(|g| match g {
            Guard::Needles(mask) => mask.single(),
            _ => None,
        })
        .collect();
    match single {
        Some(bits) => Some(Guard::Needles(Mask::of(bits))),
        None => Guard::any(guards),
    }
}

/// The needle bit of each literal value (field, lower-case text) of the
/// web rules.
type Literals = BTreeMap<(String, String), usize>;

/// Whether a field's literal values are searched as needles: a text field
/// of web rows other than the method.
fn literal_needle_field(field: &str) -> bool {
    crate::record::is_web_field(field) && !crate::record::is_numeric_field(field) && field != "cs-method"
}

/// A guard on the values as written from a test made only of exact,
/// prefix or suffix patterns of one kind; with the needles of its values
/// first when every value has one.
fn literal_guard(t: &FieldTest, literals: Option<&Literals>) -> Option<Guard> {
    let guard = literal_value_guard(t)?;
    let needles: Option<Vec<usize>> = literals.and_then(|l| {
        t.patterns
            .iter()
            .map(|p| match p {
                Pattern::Equals(v) | Pattern::StartsWith(v) | Pattern::EndsWith(v) => {
                    l.get(&(t.field.clone(), v.clone())).copied()
                }
                _ => None,
            })
            .collect()
    });
    match needles {
        Some(bits) if !bits.is_empty() => Guard::all(vec![Guard::Needles(Mask::of(bits)), guard]),
        _ => Some(guard),
    }
}

/// The exact, prefix or suffix guard of a test made only of such patterns
/// of one kind.
fn literal_value_guard(t: &FieldTest) -> Option<Guard> {
    let texts = |want: fn(&Pattern) -> Option<&String>| -> Option<Vec<String>> {
        t.patterns.iter().map(|p| want(p).filter(|v| v.is_ascii()).cloned()).collect()
    };
    let field = t.field.clone();
    if let Some(v) = texts(|p| if let Pattern::Equals(v) = p { Some(v) } else { None }) {
        // Decimal as a number writes it (no sign, no leading zero): equal
        // as text exactly when equal as numbers.
        let numbers: Option<Vec<u64>> =
            v.iter().map(|w| w.parse::<u64>().ok().filter(|n| n.to_string() == *w)).collect();
        if let Some(numbers) = numbers.filter(|_| crate::record::is_numeric_field(&field)) {
            return Some(Guard::Number(field, numbers, v));
        }
        return Some(Guard::Equals(field, v));
    }
    if let Some(v) = texts(|p| if let Pattern::StartsWith(v) = p { Some(v) } else { None }) {
        return Some(Guard::Prefix(field, v));
    }
    texts(|p| if let Pattern::EndsWith(v) = p { Some(v) } else { None }).map(|v| Guard::Suffix(field, v))
}

/// What one field test cannot match without: one of its needles (every
/// one for `all`), or one of its exact values, prefixes or suffixes.
fn test_guard(t: &FieldTest, literals: Option<&Literals>) -> Option<Guard> {
    if t.cased || t.patterns.is_empty() {
        return None;
    }
    patterns_guard(&t.patterns, t.all).or_else(|| literal_guard(t, literals))
}

/// What a search cannot match without: per map, every test's guard; any
/// map's, when there are several.
fn search_guard(s: &Search, literals: Option<&Literals>) -> Option<Guard> {
    match s {
        Search::Keywords { patterns, all } => patterns_guard(patterns, *all),
        Search::Selections(maps) => {
            let per_map: Option<Vec<Guard>> = maps
                .iter()
                .map(|tests| Guard::all(tests.iter().filter_map(|t| test_guard(t, literals)).collect()))
                .collect();
            Guard::any(per_map?)
        }
    }
}

/// What a rule cannot match without: what the searches its condition
/// requires positively cannot match without (`selection`, `selection and
/// not filter`, `1 of selection_*` when each has a guard).
fn guard(rule: &Rule, literals: Option<&Literals>) -> Option<Guard> {
    condition_guard(&rule.condition, rule, literals)
}

fn condition_guard(
    c: &crate::condition::Condition,
    rule: &Rule,
    literals: Option<&Literals>,
) -> Option<Guard> {
    use crate::condition::Condition;
    match c {
        Condition::Search(i) => search_guard(&rule.searches[*i], literals),
        Condition::And(parts) => {
            Guard::all(parts.iter().filter_map(|p| condition_guard(p, rule, literals)).collect())
        }
        Condition::Or(parts) => {
            Guard::any(parts.iter().map(|p| condition_guard(p, rule, literals)).collect::<Option<_>>()?)
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
        // Two unset values (empty, or `-` as logs write them) are not equal.
        Pattern::FieldRef(other) => {
            let set = |v: &(&str, &str)| !v.0.is_empty() && v.0 != "-";
            view.values(&t.field)
                .filter(set)
                .any(|v| view.values(other).filter(set).any(|o| pick(t.cased, v) == pick(t.cased, o)))
        }
        _ => indexed(p, found).unwrap_or_else(|| view.values(&t.field).any(|v| p.matches(pick(t.cased, v)))),
    };
    if t.all { t.patterns.iter().all(one) } else { t.patterns.iter().any(one) }
}

#[cfg(test)]
mod tests {
    use aho_corasick::AhoCorasickKind;

    use super::*;

    /// Rules from one YAML text.
    fn loaded(rules: &str) -> crate::LoadReport {
        let mut loaded = crate::LoadReport::default();
        loaded.add_text(rules, std::path::Path::new("rules.yml"));
        loaded
    }

    /// The lines of `log` the rules match, each row read both screened and
    /// in full, which must agree.
    fn screened_lines(loaded: crate::LoadReport, log: &str) -> Vec<u64> {
        let engine = Engine::new(loaded.finish().rules);
        let audit = crate::audit::audit(&engine, log.as_bytes());
        assert!(audit.disagreements.is_empty(), "{:?}", audit.disagreements);
        audit.hits.iter().map(|h| h.line).collect()
    }

    /// A rule of many indicator values: past [`DFA_NEEDLE_BYTES`] its
    /// needles get the automaton the crate picks (a DFA of them took
    /// gigabytes), and the rule still matches what it names, screened and
    /// in full alike.
    #[test]
    fn a_rule_of_many_values_is_searched_without_a_dfa_and_still_matches() {
        let values: Vec<String> = (0..20_000).map(|i| format!("/ioc/{i:06}.aspx")).collect();
        let small = needle_automaton(values[..10].iter().map(|v| v.as_bytes())).expect("builds");
        assert_eq!(small.kind(), AhoCorasickKind::DFA);
        let large = needle_automaton(values.iter().map(|v| v.as_bytes())).expect("builds");
        assert_ne!(large.kind(), AhoCorasickKind::DFA);
        // One long value too: few patterns, but bytes enough for a huge DFA.
        let long = "x".repeat(DFA_NEEDLE_BYTES + 1);
        let long = needle_automaton(std::iter::once(long.as_bytes())).expect("builds");
        assert_eq!(long.kind(), AhoCorasickKind::ContiguousNFA);

        let mut rule = String::from(
            "title: indicators\nlogsource: {category: webserver}\ndetection:\n    selection:\n        cs-uri-stem|contains:\n",
        );
        for v in &values {
            rule.push_str(&format!("            - '{v}'\n"));
        }
        rule.push_str("    condition: selection\n");
        let log = "#Fields: date time cs-method cs-uri-stem sc-status\n\
                   2025-01-01 00:00:00 GET /IOC/019999.ASPX 200\n\
                   2025-01-01 00:00:01 GET /ioc/020000.aspx 200\n\
                   2025-01-01 00:00:02 GET /shop/ioc/000007.aspx 404\n";
        let lines = screened_lines(loaded(&rule), log);
        assert_eq!(lines, [2, 4]);
    }

    /// A query's spaces come as `+` (form encoding): a rule written with
    /// spaces matches them, screened (the line holds `union+select`) and in
    /// full alike, and a query that only shares a word does not.
    #[test]
    fn a_query_is_read_with_plus_as_a_space() {
        let rule = "title: union\nlogsource: {category: webserver}\ndetection:\n    selection:\n        \
                    cs-uri-query|contains: 'union select'\n    condition: selection\n";
        let log = "#Fields: date time cs-method cs-uri-stem cs-uri-query sc-status\n\
                   2025-01-01 00:00:00 GET /p.aspx id=1+UNION+SELECT+1,2-- 200\n\
                   2025-01-01 00:00:01 GET /p.aspx id=1%20union%20select%201 200\n\
                   2025-01-01 00:00:02 GET /s q=european+union+news 200\n\
                   2025-01-01 00:00:03 GET /union+select.aspx - 200\n";
        let lines = screened_lines(loaded(rule), log);
        // The path keeps its `+`: only a query is form-encoded.
        assert_eq!(lines, [2, 3]);
    }

    /// A web rule on an encoded value: the screen's lower-cased search
    /// passes the row on to the cased comparison, which alone decides
    /// (the same encoded text in other letters is another payload).
    #[test]
    fn an_encoded_web_value_is_screened_as_read_in_full() {
        let rule = "title: encoded\nlogsource: {category: webserver}\ndetection:\n    selection:\n        \
                    cs-uri-query|base64offset|contains: 'whoami'\n    condition: selection\n";
        // `cmd /c whoami` and `whoami /all` in Base64, then the first in
        // lower case.
        let log = "#Fields: date time cs-method cs-uri-stem cs-uri-query sc-status\n\
                   2025-01-01 00:00:00 POST /up.aspx c=Y21kIC9jIHdob2FtaQ== 200\n\
                   2025-01-01 00:00:01 POST /up.aspx c=d2hvYW1pIC9hbGw= 200\n\
                   2025-01-01 00:00:02 POST /up.aspx c=y21kic9jihdob2ftaq== 200\n";
        let lines = screened_lines(loaded(rule), log);
        assert_eq!(lines, [2, 3]);
    }

    /// `all` asks for every value, each in any one of its forms: the forms
    /// `windash` and `base64offset` give one value are alternatives (a
    /// command line holds `/nop` or `-nop`, not both; encoded text holds a
    /// value at one offset).
    #[test]
    fn all_wants_every_value_in_one_of_its_forms() {
        let rule = "title: all forms\nlogsource: {category: webserver}\ndetection:\n    dash:\n        \
                    cs-uri-query|windash|contains|all: ['-nop', '-enc']\n    encoded:\n        \
                    cs-uri-query|base64offset|contains|all: ['whoami', 'net user']\n    condition: dash or encoded\n";
        let rules = loaded(rule);
        assert!(rules.skipped.is_empty(), "{:?}", rules.skipped);
        // `x;whoami && net user` and `x;whoami && dir` in Base64.
        let log = "#Fields: date time cs-method cs-uri-stem cs-uri-query sc-status\n\
                   2025-01-01 00:00:00 GET /run.aspx c=powershell+/nop+-enc+SQBFAFgA 200\n\
                   2025-01-01 00:00:01 GET /run.aspx c=powershell+/nop+/w+hidden 200\n\
                   2025-01-01 00:00:02 POST /up.aspx c=eDt3aG9hbWkgJiYgbmV0IHVzZXI= 200\n\
                   2025-01-01 00:00:03 POST /up.aspx c=eDt3aG9hbWkgJiYgZGly 200\n";
        let lines = screened_lines(rules, log);
        assert_eq!(lines, [2, 4]);
        // Keyword lists have one list for all forms: refused, not misread.
        let keywords = loaded(
            "title: k\nlogsource: {category: webserver}\ndetection:\n    words:\n        \
             '|windash|all': ['-nop', '-enc']\n    condition: words\n",
        );
        assert_eq!(keywords.skipped.len(), 1, "{:?}", keywords.skipped);
    }

    /// `fieldref` compares a field with another of the same row: a request
    /// the server made to itself (client address = server address).
    #[test]
    fn a_field_reference_compares_two_fields_of_one_row() {
        let rule = "title: self\nlogsource: {category: webserver}\ndetection:\n    selection:\n        \
                    c-ip|fieldref: s-ip\n    condition: selection\n";
        let rules = loaded(rule);
        assert!(rules.skipped.is_empty(), "{:?}", rules.skipped);
        // The last row has neither address.
        let log = "#Fields: date time s-ip cs-method cs-uri-stem c-ip sc-status\n\
                   2025-01-01 00:00:00 10.0.0.5 GET /health 10.0.0.5 200\n\
                   2025-01-01 00:00:01 10.0.0.5 GET /health 10.0.0.6 200\n\
                   2025-01-01 00:00:02 10.0.0.5 GET /health - 200\n\
                   2025-01-01 00:00:03 - GET /health - 200\n";
        let lines = screened_lines(rules, log);
        assert_eq!(lines, [2]);
        // A path or agent is also read in forms the log did not write (the
        // path with its query, decoded; the agent with spaces), which a
        // reference would compare; a null reference is no field.
        for refused in [
            "c-ip|fieldref|contains: s-ip",
            "c-ip|fieldref|base64: s-ip",
            "cs-uri-stem|fieldref: cs-uri-query",
            "cs-referer|fieldref: cs-user-agent",
            "c-ip|fieldref: null",
        ] {
            let r = loaded(&rule.replace("c-ip|fieldref: s-ip", refused));
            assert_eq!(r.skipped.len(), 1, "{refused}");
        }
    }
}
