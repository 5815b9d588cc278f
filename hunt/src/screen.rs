//! A screen on a W3C row's bytes as parsed, before any [`View`] is built:
//! nearly every row of a day's traffic matches no rule, and building the
//! view (copies, the `path?query` forms, lower-casing) for each cost more
//! than the rules themselves.
//!
//! The screen answers "no rule can match" or "some rule may": the needles
//! of every web rule are searched in the raw text their fields come from
//! (the same forms the view gives: `path?query`, percent-decoded, the
//! agent with spaces; every text for keyword searches), so a needle the
//! view would find is found here too; then the rules those
//! needles lead to, and the rules without a necessary needle, have their
//! guards checked on the raw fields, a field the screen cannot read
//! exactly counting as a match. A row the screen lets through is
//! evaluated in full, so the screen changes how fast, never what matches.
//!
//! [`View`]: crate::View

use std::io::Write as _;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use faultline_parser::Request;
use faultline_parser::source::percent_decoded;

use crate::engine::{FieldValues, Found};
use crate::record::logged;

/// Where in a row a field's needles can be found: a source of raw text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// `path?query` and its percent-decoded form (the URI fields).
    Uri,
    Agent,
    Referer,
    Cookie,
    Host,
    User,
    Method,
    Version,
    /// Status codes, port and addresses written as text.
    Numbers,
}

/// Every source, the URI and the agent first (see [`GROUPS`]).
const SOURCES: [Source; 9] = [
    Source::Uri,
    Source::Agent,
    Source::Referer,
    Source::Cookie,
    Source::Host,
    Source::User,
    Source::Method,
    Source::Version,
    Source::Numbers,
];

impl Source {
    /// The sources a field's values come from; keyword searches read
    /// every one; a field web rows do not have, none.
    fn of(field: &str) -> &'static [Source] {
        match field {
            "cs-uri-stem" | "cs-uri-query" | "cs-uri" | "c-uri" => &[Source::Uri],
            "c-useragent" => &[Source::Agent],
            "cs-referer" => &[Source::Referer],
            "cs-cookie" => &[Source::Cookie],
            "cs-host" => &[Source::Host],
            "cs-username" => &[Source::User],
            "cs-method" => &[Source::Method],
            "cs-version" => &[Source::Version],
            "c-ip" | "s-ip" | "sc-status" | "sc-substatus" | "sc-win32-status" | "s-port" => {
                &[Source::Numbers]
            }
            crate::engine::KEYWORDS => &SOURCES,
            _ => &[],
        }
    }
}

/// The groups of sources searched by one automaton each: the URI and the
/// agent (most of a row's bytes, and the needles rules look for in them)
/// alone, the short fields together (one call for a few bytes each cost
/// more than its bytes).
const GROUPS: [&[Source]; 3] = {
    let (uri, rest) = SOURCES.split_at(1);
    let (agent, short) = rest.split_at(1);
    [uri, agent, short]
};

/// The needles of a group of sources in one automaton, searched once per
/// row over the group's sources laid end to end. A needle counts only
/// where its field's source holds it: a match sets the bits of the
/// needles that pattern stands for in the source it lies in.
#[derive(Debug, Clone)]
struct Group {
    automaton: AhoCorasick,
    /// Per pattern of the automaton, the (source, needle bit) pairs it
    /// stands for.
    bits: Vec<Vec<(Source, usize)>>,
    /// The group's sources some needle is looked for in.
    sources: Vec<Source>,
}

/// Every web rule's needles, one automaton per group of sources.
#[derive(Debug, Clone)]
pub(crate) struct Screen {
    groups: Vec<Group>,
    /// Some guard reads the user agent, and so its form with spaces.
    agent_guarded: bool,
}

/// What a screen reuses from row to row.
#[derive(Debug, Default)]
pub struct Screening {
    /// `path?query`, then its percent-decoded form when it differs.
    uri: Vec<u8>,
    /// The length of `path?query` at the start of `uri`.
    whole: usize,
    /// The user agent with `+` read as spaces (empty: no `+`).
    spaced_agent: Vec<u8>,
    /// The sources searched, end to end, each closed by a line break.
    text: Vec<u8>,
    /// Where each source in `text` ends, and which it is.
    ends: Vec<(usize, Source)>,
    pub(crate) found: Found,
    pub(crate) tried: Vec<usize>,
}

impl Screening {
    /// Adds a source's text (nothing when it is empty).
    fn push(&mut self, source: Source, value: &[u8]) {
        if !value.is_empty() {
            self.text.extend_from_slice(value);
            self.text.push(b'\n');
            self.ends.push((self.text.len(), source));
        }
    }

    /// The source of the text at `at`.
    fn source_at(&self, at: usize) -> Option<Source> {
        self.ends.iter().find(|(end, _)| at < *end).map(|(_, s)| *s)
    }
}

impl Screen {
    /// A screen over `needles` (field, lower-case text, bit), or `None`
    /// when one does not compile.
    pub(crate) fn new(needles: &[(String, Vec<u8>, usize)], agent_guarded: bool) -> Option<Screen> {
        let mut variants: Vec<(Vec<u8>, Source, usize)> = Vec::new();
        for (field, text, bit) in needles {
            for &source in Source::of(field) {
                variants.push((text.clone(), source, *bit));
                // IIS writes a space in the user agent as `+`: a needle
                // with a space is looked for with `+` too, so the agent is
                // searched as logged.
                if source == Source::Agent && text.contains(&b' ') {
                    let plus = text.iter().map(|&c| if c == b' ' { b'+' } else { c }).collect();
                    variants.push((plus, source, *bit));
                }
            }
        }
        let mut groups = Vec::new();
        for group in GROUPS {
            let variants: Vec<&(Vec<u8>, Source, usize)> =
                variants.iter().filter(|(_, s, _)| group.contains(s)).collect();
            if variants.is_empty() {
                continue;
            }
            let mut texts: Vec<&[u8]> = variants.iter().map(|(t, _, _)| t.as_slice()).collect();
            texts.sort_unstable();
            texts.dedup();
            let bits = texts
                .iter()
                .map(|t| {
                    variants.iter().filter(|(n, _, _)| n.as_slice() == *t).map(|(_, s, b)| (*s, *b)).collect()
                })
                .collect();
            let sources = group.iter().copied().filter(|s| variants.iter().any(|(_, v, _)| v == s)).collect();
            let build = |kind| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .kind(kind)
                    .build(&texts)
            };
            let automaton = build(Some(AhoCorasickKind::DFA)).or_else(|_| build(None)).ok()?;
            groups.push(Group { automaton, bits, sources });
        }
        Some(Screen { groups, agent_guarded })
    }

    /// Sets in `s.found` every needle bit whose text is in a value its
    /// field (or a keyword search) reads.
    pub(crate) fn search(&self, r: &Request<'_>, s: &mut Screening, bits: usize) {
        let uri = &mut s.uri;
        uri.clear();
        let (stem, query) = (logged(r.uri_stem), logged(r.uri_query));
        uri.extend_from_slice(stem.unwrap_or_default());
        if let Some(q) = query {
            uri.push(b'?');
            uri.extend_from_slice(q);
        }
        s.whole = uri.len();
        if uri.contains(&b'%') {
            let decoded = percent_decoded(&String::from_utf8_lossy(uri)).into_owned();
            uri.push(b'\n');
            uri.extend_from_slice(decoded.as_bytes());
        }
        s.spaced_agent.clear();
        let agent = logged(r.user_agent);
        // An agent with real spaces (a quoted Advanced Logging field) and
        // `+` too matches a needle only in the form with `+` read as
        // spaces: that form is searched as well; guards on the agent read
        // it too. Otherwise nothing needs it (a needle with a space is
        // looked for with `+` in the agent as logged).
        let spaced = |ua: &&[u8]| ua.contains(&b'+') && (self.agent_guarded || ua.contains(&b' '));
        if let Some(ua) = agent.filter(spaced) {
            s.spaced_agent.extend(ua.iter().map(|&b| if b == b'+' { b' ' } else { b }));
        }
        s.found.reset(bits);
        for group in &self.groups {
            // A group of one text is searched where it is, not copied.
            let single: Option<(Source, &[u8])> = match group.sources.as_slice() {
                [Source::Uri] => Some((Source::Uri, &s.uri)),
                [Source::Agent] if !agent.is_some_and(|a| a.contains(&b' ')) => {
                    Some((Source::Agent, agent.unwrap_or_default()))
                }
                _ => None,
            };
            if let Some((source, text)) = single {
                if !text.is_empty() && group.automaton.is_match(text) {
                    for m in group.automaton.find_overlapping_iter(text) {
                        set_found(&mut s.found, &group.bits[m.pattern().as_usize()], source);
                    }
                }
                continue;
            }
            s.text.clear();
            s.ends.clear();
            s.write(group, r, agent);
            // Most rows hold no needle at all, which a search that may
            // skip ahead says faster than one reporting every overlap.
            if s.text.is_empty() || !group.automaton.is_match(&s.text) {
                continue;
            }
            for m in group.automaton.find_overlapping_iter(&s.text) {
                if let Some(at) = s.source_at(m.start()) {
                    set_found(&mut s.found, &group.bits[m.pattern().as_usize()], at);
                }
            }
        }
    }
}

/// Sets the needle bits a pattern stands for in the source it was found in.
fn set_found(found: &mut Found, bits: &[(Source, usize)], at: Source) {
    for &(source, b) in bits {
        if source == at {
            found.set(b);
        }
    }
}

impl Screening {
    /// Lays a group's sources of `r` end to end in `text`.
    fn write(&mut self, group: &Group, r: &Request<'_>, agent: Option<&[u8]>) {
        let s = self;
        for &source in &group.sources {
            match source {
                Source::Uri => {
                    let uri = std::mem::take(&mut s.uri);
                    s.push(source, &uri);
                    s.uri = uri;
                }
                Source::Agent => {
                    s.push(source, agent.unwrap_or_default());
                    if agent.is_some_and(|a| a.contains(&b' ')) {
                        let spaced = std::mem::take(&mut s.spaced_agent);
                        s.push(source, &spaced);
                        s.spaced_agent = spaced;
                    }
                }
                Source::Referer => s.push(source, logged(r.referer).unwrap_or_default()),
                Source::Cookie => s.push(source, logged(r.cookie).unwrap_or_default()),
                Source::Host => s.push(source, logged(r.host).unwrap_or_default()),
                Source::User => s.push(source, logged(r.username).unwrap_or_default()),
                Source::Method => s.push(source, logged(r.method).unwrap_or_default()),
                Source::Version => s.push(source, logged(r.version).unwrap_or_default()),
                Source::Numbers => {
                    let numbers = [
                        r.status.map(u64::from),
                        r.substatus.map(u64::from),
                        r.win32_status,
                        r.server_port.map(u64::from),
                    ];
                    for v in numbers.into_iter().flatten() {
                        s.push(source, digits(v, &mut [0; 20]));
                    }
                    for a in [r.client_ip, r.server_ip].into_iter().flatten() {
                        write_addr(&mut s.text, &a);
                        s.text.push(b'\n');
                        s.ends.push((s.text.len(), source));
                    }
                }
            }
        }
    }
}

/// An address as its `Display` writes it, an IPv4 address without the
/// formatting machinery (two of them on every row).
fn write_addr(out: &mut Vec<u8>, a: &faultline_parser::value::Addr<'_>) {
    use faultline_parser::value::Addr;
    match a {
        Addr::Ip { ip: std::net::IpAddr::V4(v4), zone: None } => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(digits(u64::from(octet), &mut [0; 20]));
            }
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// `v` in decimal, written into `buf` (no allocation: status guards are
/// checked on most rows).
fn digits(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[at..];
        }
    }
}

/// A row's raw fields as a guard reads them: exactly where the view's
/// values are the raw bytes, "may match" where they are derived.
pub(crate) struct RawWeb<'r, 'a> {
    pub(crate) row: &'r Request<'a>,
    /// `path?query`, as the screen searched it.
    pub(crate) whole: &'r [u8],
    /// The user agent with `+` read as spaces (empty: no `+`).
    pub(crate) spaced_agent: &'r [u8],
}

impl<'r, 'a> RawWeb<'r, 'a> {
    pub(crate) fn new(row: &'r Request<'a>, s: &'r Screening) -> RawWeb<'r, 'a> {
        RawWeb { row, whole: &s.uri[..s.whole], spaced_agent: &s.spaced_agent }
    }
}

impl FieldValues for RawWeb<'_, '_> {
    fn any(&self, field: &str, test: &dyn Fn(&[u8]) -> bool) -> bool {
        let r = self.row;
        let raw = |v: Option<&[u8]>| logged(v).is_some_and(test);
        let number = |v: Option<u64>| v.is_some_and(|v| test(digits(v, &mut [0; 20])));
        let encoded = |v: Option<&[u8]>| v.is_some_and(|v| v.contains(&b'%'));
        match field {
            "cs-method" => raw(r.method),
            "cs-uri-stem" | "cs-uri-query" | "cs-uri" | "c-uri"
                if encoded(r.uri_stem) || encoded(r.uri_query) =>
            {
                true
            }
            "cs-uri-stem" => raw(r.uri_stem),
            "cs-uri-query" => raw(r.uri_query) || (r.uri_stem.is_some() && test(self.whole)),
            "cs-uri" | "c-uri" => r.uri_stem.is_some() && test(self.whole),
            "c-useragent" => raw(r.user_agent) || (!self.spaced_agent.is_empty() && test(self.spaced_agent)),
            "cs-referer" => raw(r.referer),
            "cs-host" => raw(r.host),
            "cs-username" => raw(r.username),
            "cs-cookie" => raw(r.cookie),
            "cs-version" => raw(r.version),
            "sc-status" => number(r.status.map(u64::from)),
            "sc-substatus" => number(r.substatus.map(u64::from)),
            "sc-win32-status" => number(r.win32_status),
            "s-port" => number(r.server_port.map(u64::from)),
            // Derived or formatted: may match.
            other => crate::record::is_web_field(other),
        }
    }

    fn number(&self, field: &str) -> Option<Option<u64>> {
        let r = self.row;
        match field {
            "sc-status" => Some(r.status.map(u64::from)),
            "sc-substatus" => Some(r.substatus.map(u64::from)),
            "sc-win32-status" => Some(r.win32_status),
            "s-port" => Some(r.server_port.map(u64::from)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use faultline_parser::RecordSink;
    use faultline_parser::framing::InMemory;
    use faultline_parser::w3c::{Dialect, TextConfig, parse_text};
    use proptest::prelude::*;

    use super::Screening;
    use crate::pattern::Pattern;
    use crate::rule::Search;
    use crate::{Engine, LoadReport, View};

    /// Rules whose shapes the screen must read right: wildcards inside a
    /// value, keywords under `|all`, SigmaHQ's `cs-user-agent`, exact
    /// and suffix tests on the derived `path?query`.
    const SHAPES: &str = "
title: wildcard inside
logsource: {category: webserver}
detection:
    selection:
        cs-uri-query: '*/config/key?tore/*.js*'
    condition: selection
---
title: all keywords
logsource: {category: webserver}
detection:
    keywords:
        '|all':
            - 'POST'
            - 200
            - 'schema=Reset'
    condition: keywords
---
title: agent with a space
logsource: {category: webserver}
detection:
    selection:
        cs-user-agent: 'evil scanner'
    condition: selection
---
title: agent containing a space
logsource: {category: webserver}
detection:
    selection:
        c-useragent|contains: 'bad bot'
    condition: selection
---
title: whole uri
logsource: {category: webserver}
detection:
    selection:
        cs-uri-query: '/ui/upload?x=1'
    condition: selection
---
title: contains with separators
logsource: {category: webserver}
detection:
    selection:
        cs-uri-query|contains: '/private/../'
    condition: selection
---
title: uri suffix and method
logsource: {category: webserver}
detection:
    selection:
        cs-uri-query|endswith: '/util/bash'
        cs-method: POST
    condition: selection
";

    fn engine(bundled: bool) -> Engine {
        let mut loaded = LoadReport::default();
        if bundled {
            loaded.add_bundled();
        }
        loaded.add_text(SHAPES, Path::new("shapes.yml"));
        let loaded = loaded.finish();
        assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
        Engine::new(loaded.rules)
    }

    /// Every literal the rules hold: what rows are made of.
    fn literals(engine: &Engine) -> Vec<String> {
        literals_of(engine.rules())
    }

    fn literals_of(rules: &[crate::Rule]) -> Vec<String> {
        let mut out = Vec::new();
        for rule in rules {
            for search in &rule.searches {
                let patterns: Vec<&Pattern> = match search {
                    Search::Selections(maps) => maps.iter().flatten().flat_map(|t| &t.patterns).collect(),
                    Search::Keywords { patterns, .. } => patterns.iter().collect(),
                };
                for p in patterns {
                    match p {
                        Pattern::Contains(n) => out.push(String::from_utf8_lossy(n.text()).into_owned()),
                        Pattern::Wildcard(_, runs) => {
                            out.extend(runs.iter().map(|n| String::from_utf8_lossy(n.text()).into_owned()))
                        }
                        Pattern::Equals(t) | Pattern::StartsWith(t) | Pattern::EndsWith(t) => {
                            out.push(t.clone())
                        }
                        _ => {}
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Rows the screen turned away that the full evaluation matches.
    struct Check<'e> {
        engine: &'e Engine,
        screening: Screening,
        view: View,
        missed: Vec<(u64, Vec<usize>)>,
        rows: u64,
        matched: u64,
    }

    impl RecordSink for Check<'_> {
        type Error = std::convert::Infallible;
        fn request(&mut self, r: &faultline_parser::Request<'_>) -> Result<(), Self::Error> {
            self.rows += 1;
            let may = self.engine.may_match(r, &mut self.screening);
            self.view.request(r);
            let mut hits = Vec::new();
            self.engine.matches(&mut self.view, &mut hits);
            self.matched += u64::from(!hits.is_empty());
            if !may && !hits.is_empty() {
                self.missed.push((r.origin.line, hits));
            }
            Ok(())
        }
    }

    fn field(literals: &[String]) -> impl Strategy<Value = String> {
        let literal = proptest::sample::select(literals.to_vec());
        let junk = |re: &'static str| prop_oneof![Just(String::new()), re];
        (literal, junk("[a-z0-9/._=?%-]{1,6}"), junk("[a-z0-9/._=%-]{1,6}"), any::<bool>(), any::<bool>())
            .prop_map(|(lit, before, after, upper, encode)| {
                // Encoded, the literal is found only in the decoded forms.
                let lit = if encode {
                    lit.bytes()
                        .map(|b| {
                            if b.is_ascii_alphanumeric() {
                                (b as char).to_string()
                            } else {
                                format!("%{b:02X}")
                            }
                        })
                        .collect()
                } else {
                    lit
                };
                let mut v = format!("{before}{lit}{after}");
                if upper {
                    v = v.to_ascii_uppercase();
                }
                // W3C fields have no spaces; IIS writes `+`.
                let v = v.replace(' ', "+");
                if v.is_empty() { "-".to_string() } else { v }
            })
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for v in [0, 7, 404, 1_000_000, u64::MAX] {
            assert_eq!(super::digits(v, &mut [0; 20]), v.to_string().as_bytes());
        }
    }

    /// An agent with real spaces (Advanced Logging quotes it) and `+`
    /// matches in its `+`-as-space form only; the screen must see that.
    #[test]
    fn an_agent_with_spaces_and_plus_signs_is_searched_in_both_forms() {
        let mut loaded = LoadReport::default();
        let rule = "title: agent\nlogsource: {category: webserver}\ndetection:\n    selection:\n        \
                    c-useragent|contains: 'compatible; foo bar'\n    condition: selection\n";
        loaded.add_text(rule, Path::new("agent.yml"));
        let engine = Engine::new(loaded.finish().rules);
        let log = b"#Software: IIS Advanced Logging Module\n#Fields: date-local time-local c-ip cs(User-Agent) sc-status\n\
                    2024-01-01 00:00:00.000 1.2.3.4 \"Mozilla/5.0 (compatible; Foo+Bar/1.0)\" 200\n";
        let new_sink = || Check {
            engine: &engine,
            screening: Screening::default(),
            view: View::default(),
            missed: Vec::new(),
            rows: 0,
            matched: 0,
        };
        let sinks = parse_text(log, Dialect::W3c, &TextConfig::default(), &InMemory, &|_| {}, new_sink)
            .expect("parses");
        assert_eq!(sinks.iter().map(|s| s.rows).sum::<u64>(), 1);
        assert_eq!(sinks.iter().map(|s| s.matched).sum::<u64>(), 1, "the full evaluation matches it");
        assert!(sinks.iter().all(|s| s.missed.is_empty()), "the screen turned the row away");
    }

    /// The pack with the shapes, and the shapes alone (where no other
    /// rule's needle lets a row through that the screen should have).
    static ENGINES: std::sync::LazyLock<[Engine; 2]> =
        std::sync::LazyLock::new(|| [engine(true), engine(false)]);

    static LITERALS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let mut literals = literals(&ENGINES[0]);
        // The shapes' literals as often as all the pack's together.
        let mut shapes = LoadReport::default();
        shapes.add_text(SHAPES, Path::new("shapes.yml"));
        let mut shapes = literals_of(&shapes.finish().rules);
        // Whole values a wildcard value matches.
        shapes.extend(["/ws/config/keystore/a.jsp".to_string(), "/x/config/keyStore/y.JSON".to_string()]);
        for _ in 0..literals.len() / shapes.len().max(1) {
            literals.extend(shapes.iter().cloned());
        }
        literals
    });

    fn row() -> impl Strategy<Value = String> {
        let methods = ["GET", "POST", "HEAD", "get", "post", "PUT", "-"];
        let statuses = ["200", "401", "404", "500", "207"];
        let value = || prop_oneof![1 => Just("-".to_string()), 4 => field(&LITERALS)];
        (
            proptest::sample::select(methods.to_vec()),
            proptest::sample::select(statuses.to_vec()),
            proptest::collection::vec(value(), 6),
            0..255u8,
        )
            .prop_map(|(method, status, mut v, ip)| {
                // A literal with `?` split where IIS splits it.
                if let Some((stem, query)) = v[0].clone().split_once('?') {
                    v[0] = stem.to_string();
                    v[1] = if query.is_empty() { "-".to_string() } else { query.to_string() };
                }
                let stem = format!("/{}", v[0].trim_start_matches('/'));
                format!(
                    "2025-01-01 00:00:00 {method} {stem} {} {} {} {} {} {status} 10.0.0.{ip}\n",
                    v[1], v[2], v[3], v[4], v[5]
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// The screen only ever saves work: a row it turns away is one no
        /// rule matches.
        #[test]
        fn a_row_the_screen_turns_away_matches_no_rule(
            rows in proptest::collection::vec(row(), 1..64),
            which in 0..2usize,
        ) {
            let engine = &ENGINES[which];
            let text = format!(
                "#Fields: date time cs-method cs-uri-stem cs-uri-query cs(User-Agent) cs(Referer) cs(Cookie) \
                 cs-host sc-status c-ip\n{}",
                rows.concat()
            );
            let new_sink = || Check {
                engine,
                screening: Screening::default(),
                view: View::default(),
                missed: Vec::new(),
                rows: 0,
                matched: 0,
            };
            let sinks = parse_text(text.as_bytes(), Dialect::W3c, &TextConfig::default(), &InMemory, &|_| {}, new_sink)
                .expect("parses");
            prop_assert_eq!(sinks.iter().map(|s| s.rows).sum::<u64>(), rows.len() as u64);
            let missed: Vec<_> = sinks.iter().flat_map(|s| s.missed.iter()).collect();
            prop_assert!(missed.is_empty(), "turned away but matched: {:?}\n{}", missed, text);
        }
    }
}
