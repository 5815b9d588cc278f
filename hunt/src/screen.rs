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

use std::collections::BTreeMap;

use aho_corasick::AhoCorasick;
use faultline_parser::Request;
use faultline_parser::value::decimal;

use crate::engine::{FieldValues, Found};
use crate::packed::Packed;
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
    /// The lines of the current chunk that hold a line filter's text.
    marks: Marks,
    /// A window of the chunk, lower-cased.
    lowered: Vec<u8>,
    /// The last row [`crate::Engine::may_match`] let through was cleared
    /// by the line filter.
    pub(crate) cleared: bool,
}

/// The lines of one chunk of an access log that hold some text of a
/// [`LineFilter`], by the offsets they span (line break included).
#[derive(Debug, Default)]
struct Marks {
    /// The offsets the chunk covers (empty: no chunk was searched).
    covers: std::ops::Range<u64>,
    /// In order; a line two searches marked is there twice, which
    /// [`Marks::clear`] reads the same as once.
    lines: Vec<std::ops::Range<u64>>,
    /// The first mark not before the last line asked about (rows come in
    /// line order).
    next: usize,
}

impl Marks {
    /// Whether the row at `offset` was searched and its line holds no text
    /// of the filter. A row need not start its line: one after NUL padding,
    /// or after a row cut short, starts inside it.
    fn clear(&mut self, offset: u64) -> bool {
        if !self.covers.contains(&offset) {
            return false;
        }
        if self.next > 0 && self.lines[self.next - 1].end > offset {
            self.next = self.lines.partition_point(|l| l.end <= offset);
        }
        while self.lines.get(self.next).is_some_and(|l| l.end <= offset) {
            self.next += 1;
        }
        self.lines.get(self.next).is_none_or(|l| l.start > offset)
    }
}

impl Screening {
    /// Whether the last row [`crate::Engine::may_match`] let through was
    /// cleared by the line filter (read it through
    /// [`crate::Engine::cleared_view`]).
    pub fn cleared(&self) -> bool {
        self.cleared
    }

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
    pub(crate) fn new(needles: &[WebNeedle], agent_guarded: bool) -> Option<Screen> {
        let mut variants: Vec<(Vec<u8>, Source, usize)> = Vec::new();
        for WebNeedle { field, text, bit, .. } in needles {
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
            // Each text once, with the needles it stands for (by a map: a
            // rule of 200,000 values was compared with every other).
            let mut by_text: BTreeMap<&[u8], Vec<(Source, usize)>> = BTreeMap::new();
            for (t, s, b) in &variants {
                by_text.entry(t.as_slice()).or_default().push((*s, *b));
            }
            let texts: Vec<&[u8]> = by_text.keys().copied().collect();
            let bits = by_text.into_values().collect();
            let sources = group.iter().copied().filter(|s| variants.iter().any(|(_, v, _)| v == s)).collect();
            let automaton = crate::engine::needle_automaton(texts.iter().copied())?;
            groups.push(Group { automaton, bits, sources });
        }
        Some(Screen { groups, agent_guarded })
    }

    /// Sets in `s.found` every needle bit whose text is in a value its
    /// field (or a keyword search) reads.
    pub(crate) fn search(&self, r: &Request<'_>, s: &mut Screening, bits: usize) {
        self.prepare(r, s);
        let agent = logged(r.user_agent);
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

/// A web rule's necessary needle, as the screen and the line filter
/// search for it.
#[derive(Debug)]
pub(crate) struct WebNeedle {
    pub(crate) field: String,
    /// In lower case.
    pub(crate) text: Vec<u8>,
    pub(crate) bit: usize,
    /// A stretch of a keyword needle that a space follows there
    /// ([`crate::pattern::Needle::space_after`]).
    pub(crate) space_after: bool,
}

impl WebNeedle {
    /// How rare the needle is in lines, for choosing which needles index
    /// a rule: the length of the shortest form a line holds it in (0: it
    /// cannot be searched in lines). A site sees few user agents, each in
    /// many rows, so an agent's text counts as no rarer than
    /// [`AGENT_RARITY`] however long it is: a crawler's whole agent is
    /// common, the path a rule asks of it with that agent is not.
    pub(crate) fn rarity(&self) -> usize {
        let Some(forms) = line_forms(self) else { return 0 };
        let rarity = forms.iter().map(LineForm::rarity).min().unwrap_or(usize::MAX);
        if Source::of(&self.field) == [Source::Agent] { rarity.min(AGENT_RARITY) } else { rarity }
    }
}

/// The most an agent's text counts as rare ([`WebNeedle::rarity`]): a
/// tool's name and version (`sqlmap/1.`), no more.
const AGENT_RARITY: usize = 8;

/// What a line may hold right after a value: the field separator, the
/// blanks a row's end is trimmed of, a quoted field's closing quote, or
/// (in the agent, whose spaces IIS writes so) a `+`. A value may also end
/// the data (the unended last line of a file).
const AFTER_VALUE: [u8; 7] = [b' ', b'\t', b'\n', b'\x0c', b'\r', b'"', b'+'];

/// A text a line holds where a row holds a needle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LineForm {
    pub(crate) text: Vec<u8>,
    /// The text is followed by what follows a value ([`AFTER_VALUE`]) or
    /// by the end of the data.
    pub(crate) ends_value: bool,
}

impl LineForm {
    /// How rare the form is in lines: the longer, the rarer.
    pub(crate) fn rarity(&self) -> usize {
        self.text.len() + usize::from(self.ends_value)
    }
}

/// The texts a row's line holds, as written, wherever the screen finds
/// the needle in the row's values; `None` when the line may hold it in no
/// form a search can name. Searching a part of a needle finds every line
/// the needle is in: a needle across a byte the line may write otherwise
/// is looked for by its longest part between such bytes (the `?` that
/// joins path and query; a `"`, which a quoted field doubles; a line
/// break, found only in a decoded value). A keyword stretch a space
/// follows ends a value where it lies, or a space follows it there:
/// `order` of `order by ` is in every `/api/orders` line, but ends a
/// value in few.
pub(crate) fn line_forms(needle: &WebNeedle) -> Option<Vec<LineForm>> {
    let text = needle.text.as_slice();
    let longest = |apart: &dyn Fn(u8) -> bool| {
        let part = text.split(|&c| matches!(c, b'\n' | b'\r' | b'"') || apart(c)).max_by_key(|p| p.len());
        part.filter(|p| !p.is_empty()).map(<[u8]>::to_vec)
    };
    let mut forms = Vec::new();
    for &source in Source::of(&needle.field) {
        let part = if source == Source::Uri { longest(&|c| c == b'?')? } else { longest(&|_| false)? };
        // IIS writes the agent's spaces as `+`, and a query's come as `+`.
        if matches!(source, Source::Agent | Source::Uri) && part.contains(&b' ') {
            let text = part.iter().map(|&c| if c == b' ' { b'+' } else { c }).collect();
            forms.push(LineForm { text, ends_value: false });
        }
        let ends_value = needle.space_after && part == text;
        forms.push(LineForm { text: part, ends_value });
    }
    forms.sort_unstable();
    forms.dedup();
    Some(forms)
}

/// Whether every value the screen searches in `r` lies in its line as
/// written: not when the URI is percent-encoded (the decoded form is
/// searched too), the agent holds both spaces and `+` (read as spaces), or,
/// when `addresses`, an address is written otherwise than as logged (an
/// IPv6 address in its canonical form).
fn line_has_values(r: &Request<'_>, addresses: bool) -> bool {
    use faultline_parser::value::Addr;
    let encoded = |v: Option<&[u8]>| v.is_some_and(|v| memchr::memchr(b'%', v).is_some());
    if encoded(r.uri_stem) || encoded(r.uri_query) {
        return false;
    }
    if let Some(agent) = r.user_agent
        && memchr::memchr(b'+', agent).is_some()
        && memchr::memchr(b' ', agent).is_some()
    {
        return false;
    }
    let as_logged = |a: &Option<Addr<'_>>| {
        matches!(a, None | Some(Addr::Name(_)) | Some(Addr::Ip { ip: std::net::IpAddr::V4(_), zone: None }))
    };
    !addresses || (as_logged(&r.client_ip) && as_logged(&r.server_ip))
}

/// The texts of the web rules' necessary needles in the forms a line holds
/// them, searched once over a whole chunk of an access log: a row whose
/// line holds none of them can match only the rules that have no such
/// needle, and the screen's per-row search is skipped. The chunk is
/// lower-cased a window at a time and searched with packed (SIMD)
/// searchers, several times faster than an automaton over every byte; of
/// a set larger than one searcher takes, the long texts are found by
/// sampled grams instead ([`Grams`]). A set of short texts too large for
/// a few searchers gets no filter.
#[derive(Debug, Clone)]
pub(crate) struct LineFilter {
    /// The long texts, by some of their four-byte grams.
    grams: Option<Grams>,
    /// The short texts: a packed searcher takes at most [`PACKED`], and a
    /// larger set is split over several, each searching the window.
    searchers: Vec<Packed>,
    /// Some text is looked for in addresses (a keyword search).
    addresses: bool,
    /// Per searcher, its texts, in its patterns' order.
    forms: Vec<Vec<LineForm>>,
    /// Per searcher and pattern, the other patterns a match of it may
    /// start along with (one text begins the other): the searcher gives
    /// one, and when that one does not end a value there, only these are
    /// asked (`order` of `order by ` is in every `/api/orders` line).
    rivals: Vec<Vec<Vec<usize>>>,
    /// The needles of a row whose line holds no text: the filter's are
    /// absent, every other may be there.
    pub(crate) clear: Vec<u64>,
    /// The rules tried on such a row.
    pub(crate) tried: Vec<usize>,
    /// Whether their guards read the joined URI or the agent read with
    /// spaces, which must then be made.
    pub(crate) reads_derived: bool,
}

/// The most texts a packed searcher takes.
const PACKED: usize = 64;

/// The most packed searchers a filter runs over each window: past that,
/// searching the window costs more than the per-row search it saves.
const SEARCHERS: usize = 4;

/// How many of a split set's shortest texts share a searcher of their own.
const SHORTEST: usize = 20;

/// What ordinary requests are made of (lower-case, as IIS logs them): the
/// user agents of browsers and crawlers, the paths and names of an
/// ASP.NET site. A part of a rule's text found here would mark most lines
/// of a day's traffic (rules name attack tools by agents that start like
/// a browser's).
const ORDINARY: &str = "mozilla/5.0+(windows+nt+10.0;+win64;+x64)+applewebkit/537.36+(khtml,+like+gecko)+\
    chrome/131.0.0.0+safari/537.36+edg/131.0.0.0 mozilla/5.0 (windows nt 6.1; wow64; trident/7.0; rv:11.0) like gecko \
    mozilla/5.0+(macintosh;+intel+mac+os+x+10_15_7)+version/17.1+mobile/15e148+firefox/132.0+gecko/20100101 \
    mozilla/5.0+(iphone;+cpu+iphone+os+17_1+like+mac+os+x)+(linux;+android+14;+k) \
    mozilla/5.0+(compatible;+googlebot/2.1;++http://www.google.com/bot.html)+msie+9.0;+windows+nt+ \
    mozilla/5.0+(compatible;+bingbot/2.0;++http://www.bing.com/bingbot.htm) okhttp/4.12.0 python-requests/2.31 \
    curl/8.4.0 java/17 microsoft office/16.0 https://www.example.com/default.aspx?returnurl=%2f \
    /scripts/jquery.min.js /content/site.css /bundles/modernizr /images/logo.png /favicon.ico /robots.txt \
    /webresource.axd?d= /scriptresource.axd?d= /api/orders/ /api/customers/ /account/login /home/index \
    /reports/report.aspx?id= /services/service.svc /version /search?q= &page= &sort=name&order=asc \
    asp.net_sessionid= .aspxauth= __requestverificationtoken http/1.1 http/2 \
    2025-01-31 23:59:59 w3svc1 web01 get post head - 443 80 - contoso\\user12 \
    /products/item /product/ /users/profile /static/ /assets/ /uploads/ /admin/ /login.aspx /logout \
    /index.html /downloads/ ?id=1&page=2&lang=en-us 200 0 0 304 0 0 404 0 2 500 0 64 ";

/// Fewer texts than `texts` (at most `limit`) such that each of
/// `texts` holds one: parts several texts share, taken greedily, the part
/// in most texts first. A part must be long (eight bytes, or six of a
/// path: `/shell`; a word of six, `select`, `server`, `=python`, is in too
/// many requests of some site) or hold a byte rare in logs (a `$`, a
/// quote, a bracket), and be no part of
/// ordinary requests, or it would be in most lines; `None` when no such
/// set is small enough. (Keeping SigmaHQ's `=python3`, `=python%` and
/// `select` whole rather than their shared six-letter parts also made its
/// packed searchers 17% faster on the benchmark log: 0.95 to 0.79 s per
/// GiB, fewer candidates in their buckets.)
fn shared_parts(forms: &[LineForm], limit: usize) -> Option<Vec<LineForm>> {
    let plain = |c: &u8| c.is_ascii_alphanumeric() || b"/.-_=&+:, ".contains(c);
    let ordinary = |p: &[u8]| memchr::memmem::find(ORDINARY.as_bytes(), p).is_some();
    let long = |p: &[u8]| p.len() >= 8 || (p.len() >= 6 && p.contains(&b'/'));
    let telling = |p: &[u8]| (long(p) || (p.len() >= 4 && !p.iter().all(plain))) && !ordinary(p);
    let mut holders: BTreeMap<&[u8], Vec<usize>> = BTreeMap::new();
    for (i, LineForm { text: t, .. }) in forms.iter().enumerate() {
        for len in 4..=t.len().min(8) {
            for part in t.windows(len).filter(|p| telling(p)) {
                let list = holders.entry(part).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
    }
    let mut covered = vec![false; forms.len()];
    let mut parts = Vec::new();
    loop {
        let best = holders
            .iter()
            .map(|(part, list)| (list.iter().filter(|&&i| !covered[i]).count(), part.len(), *part))
            .filter(|(n, _, _)| *n >= 2)
            .max_by_key(|&(n, len, part)| (n, len, std::cmp::Reverse(part)));
        let Some((_, _, part)) = best else { break };
        for &i in &holders[part] {
            covered[i] = true;
        }
        // A part found anywhere stands for the texts it is in.
        parts.push(LineForm { text: part.to_vec(), ends_value: false });
        if parts.len() > limit {
            return None;
        }
    }
    parts.extend(forms.iter().zip(&covered).filter(|(_, c)| !**c).map(|(f, _)| f.clone()));
    (parts.len() <= limit).then_some(parts)
}

/// The bytes of a gram.
const GRAM: usize = 4;

/// How far apart a line's bytes are probed for a gram: a text of at
/// least `GRAM + STRIDE - 1` bytes has `STRIDE` grams starting at
/// consecutive bytes, one of which a probe meets wherever the text lies.
const STRIDE: usize = 5;

/// Long texts found by sampling: a line's four-byte grams are looked up
/// every [`STRIDE`] bytes in a bit table of the texts' grams, without
/// case. A text is registered by `STRIDE` consecutive grams, so a line
/// holding it has a probe on one of them, and the gram before or after
/// that one is registered too; a probe that finds its bit set and its
/// neighbour's marks the line, which the row's own search then decides (a
/// gram of a text elsewhere in the line, or another gram of the same hash,
/// only costs that search). One pass, however many texts, and a fifth of
/// the bytes looked at.
#[derive(Debug, Clone)]
struct Grams {
    bits: Vec<u64>,
    /// The table holds `1 << shift` fewer bits than a `u32` hash has
    /// values: `hash >> shift` is a bit's index.
    shift: u32,
    key: u32,
}

impl Grams {
    /// A table over the texts of `texts` (lower-case) that have a run of
    /// `STRIDE` grams none of which is found in ordinary requests (a rule
    /// naming a tool's agent starts like a browser's, whose grams would
    /// mark every line): each is registered by such a run, one without a
    /// space or a gram of letters alone where it has one. The texts
    /// without one are returned, to be searched whole.
    fn new(texts: Vec<Vec<u8>>) -> (Option<Grams>, Vec<Vec<u8>>) {
        let grams_of = |t: &[u8]| -> Vec<u32> {
            t.windows(GRAM).map(|g| fold(u32::from_le_bytes([g[0], g[1], g[2], g[3]]))).collect()
        };
        let ordinary: std::collections::HashSet<u32> = grams_of(ORDINARY.as_bytes()).into_iter().collect();
        // A gram of letters alone is likelier in a line than one with a
        // digit or a sign; one with a space is found between any two fields.
        let cost = |w: &u32| {
            let b = w.to_le_bytes();
            if ordinary.contains(w) {
                None
            } else if b.contains(&b' ') {
                Some(4)
            } else {
                Some(u32::from(b.iter().all(u8::is_ascii_lowercase)))
            }
        };
        let mut chosen = Vec::new();
        let mut rest = Vec::new();
        for t in texts {
            let grams = grams_of(&t);
            let best = grams
                .windows(STRIDE)
                .filter_map(|run| Some((run.iter().map(cost).sum::<Option<u32>>()?, run)))
                .min_by_key(|(c, _)| *c);
            match best {
                Some((_, run)) => chosen.extend_from_slice(run),
                None => rest.push(t),
            }
        }
        if chosen.is_empty() {
            return (None, rest);
        }
        // About one bit in a thousand set: a line of 250 bytes, probed
        // fifty times, is marked by chance once in twenty (SigmaHQ's web
        // rules: 2 Mbit, 256 KiB, in the second-level cache).
        let size = (chosen.len() * 1024).next_power_of_two().clamp(1 << 16, 1 << 22);
        let shift = 32 - size.trailing_zeros();
        // An ordinary gram whose bit a text's gram sets would mark most
        // lines: of a few hash keys, the first under which none does.
        let table = |key: u32| {
            let mut bits = vec![0u64; size / 64];
            for &w in &chosen {
                let b = hash(w, key) >> shift;
                bits[b as usize / 64] |= 1 << (b % 64);
            }
            Grams { bits, shift, key }
        };
        let mut best: Option<(usize, Grams)> = None;
        for &key in &KEYS {
            let grams = table(key);
            let hits = ordinary.iter().filter(|&&w| grams.holds(w)).count();
            if best.as_ref().is_none_or(|(fewest, _)| hits < *fewest) {
                best = Some((hits, grams));
            }
            if hits == 0 {
                break;
            }
        }
        (best.map(|(_, grams)| grams), rest)
    }

    /// Whether a (folded) gram's bit is set.
    fn holds(&self, w: u32) -> bool {
        let b = hash(w, self.key) >> self.shift;
        self.bits[b as usize / 64] & (1 << (b % 64)) != 0
    }

    /// Pushes onto `lines` the offset of each line of `text` (at `offset`
    /// in the read's data, starting a line) that a probe marks.
    fn mark(&self, text: &[u8], offset: u64, lines: &mut Vec<std::ops::Range<u64>>) {
        let mut at = 0;
        while let Some(hit) = self.next_hit(text, at) {
            // A text's registered grams are consecutive: a probe on one of
            // them has a registered neighbour before or after it. Asking
            // for one turns away most probes that met a bit by chance.
            let held = |at: Option<usize>| at.and_then(|at| gram_at(text, at)).is_some_and(|g| self.holds(g));
            at = if held(hit.checked_sub(1)) || held(Some(hit + 1)) {
                mark_line(text, hit, offset, lines)
            } else {
                hit + STRIDE
            };
        }
    }

    /// The first of the probes at `at`, `at + STRIDE`, ... of `text` whose
    /// gram's bit is set, eight at a time: their hashes made and their
    /// bits looked up with no branch between them, a branch a block
    /// instead of a probe (the criterion hunt with every SigmaHQ fixture
    /// 3-7% faster, the whole process 3-4%; the same with AVX2's gathers
    /// ran no faster than probe by probe).
    fn next_hit(&self, text: &[u8], mut at: usize) -> Option<usize> {
        const PROBES: usize = 8;
        while let Some(block) = text.get(at..at + PROBES * STRIDE) {
            let mut index = [0u32; PROBES];
            for (k, i) in index.iter_mut().enumerate() {
                let gram =
                    [block[k * STRIDE], block[k * STRIDE + 1], block[k * STRIDE + 2], block[k * STRIDE + 3]];
                *i = hash(fold(u32::from_le_bytes(gram)), self.key) >> self.shift;
            }
            let set = index.iter().fold(0, |set, &i| set | self.bits[i as usize / 64] >> (i % 64));
            if set & 1 != 0 {
                return self.next_hit_scalar(&text[..at + PROBES * STRIDE], at);
            }
            at += PROBES * STRIDE;
        }
        self.next_hit_scalar(text, at)
    }

    /// [`Grams::next_hit`] probe by probe: the text's tail, and the block
    /// one of whose probes hit.
    fn next_hit_scalar(&self, text: &[u8], mut at: usize) -> Option<usize> {
        while let Some(gram) = gram_at(text, at) {
            if self.holds(gram) {
                return Some(at);
            }
            at += STRIDE;
        }
        None
    }
}

/// The (folded) gram of `text` at `at`, if it holds one there.
fn gram_at(text: &[u8], at: usize) -> Option<u32> {
    let gram: [u8; GRAM] = text.get(at..at + GRAM)?.try_into().ok()?;
    Some(fold(u32::from_le_bytes(gram)))
}

/// Marks the line of `text` (at `offset` in the read's data) holding the
/// byte at `at`, and returns where the next line starts (the rest of the
/// line need not be searched).
fn mark_line(text: &[u8], at: usize, offset: u64, lines: &mut Vec<std::ops::Range<u64>>) -> usize {
    let line = memchr::memrchr(b'\n', &text[..at]).map_or(0, |p| p + 1);
    let next = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |p| at + p + 1);
    lines.push(offset + line as u64..offset + next as u64);
    next
}

/// Four bytes with bit 5 set in each: a letter in lower case, and the
/// same gram whatever the case of its letters (other bytes may meet each
/// other's gram, which only costs a false mark).
fn fold(w: u32) -> u32 {
    w | 0x2020_2020
}

/// Odd multipliers for [`hash`].
const KEYS: [u32; 6] = [0x9E37_79B1, 0x85EB_CA77, 0xC2B2_AE3D, 0x27D4_EB2F, 0x1656_67B1, 0xD3A2_646D];

/// A gram's hash under `key`, its high bits the best mixed
/// (multiplicative hashing).
fn hash(w: u32, key: u32) -> u32 {
    w.wrapping_mul(key)
}

/// How much of a chunk is lower-cased and searched at once (then the
/// window's text is still in the cache when searched).
const WINDOW: usize = 64 << 10;

/// The longest window: a window holds whole lines, and a line past this
/// is not searched in the chunk but left to its row's own search.
const LONGEST_WINDOW: usize = 1 << 20;

impl LineFilter {
    /// A filter over the needle `bits` (in order, with their fields and texts), or
    /// `None` when their texts are too many for a few packed searchers; a
    /// needle no line form names stays "may be there" on a clear row.
    /// `clear_rows` says which rules a clear row is tried on, and whether
    /// their guards read a derived form.
    pub(crate) fn new(
        needles: &[WebNeedle],
        bits: &[usize],
        words: usize,
        clear_rows: impl FnOnce(&[u64]) -> (Vec<usize>, bool),
    ) -> Option<LineFilter> {
        let mut forms = Vec::new();
        let mut addresses = false;
        let mut clear = vec![u64::MAX; words];
        // `bits` is in order: searched by halves (a rule of 200,000 values
        // asked for each needle through every bit).
        for needle @ WebNeedle { field, bit, .. } in
            needles.iter().filter(|n| bits.binary_search(&n.bit).is_ok())
        {
            let Some(of) = line_forms(needle) else { continue };
            forms.extend(of);
            addresses |= Source::of(field).contains(&Source::Numbers);
            clear[bit / 64] &= !(1 << (bit % 64));
        }
        // A text wanted both anywhere and ending a value is wanted anywhere.
        forms.sort_unstable();
        forms.dedup_by(|later, first| later.text == first.text);
        // A set one packed searcher takes is searched whole: the bundled
        // pack's 60 texts ran 2-4% faster whole process that way than
        // split between grams and a searcher of the 13 short ones. Grams
        // take a text anywhere (a mark too many costs only a search).
        let (long, mut short): (Vec<LineForm>, Vec<LineForm>) = if forms.len() <= PACKED {
            (Vec::new(), forms)
        } else {
            forms.into_iter().partition(|f| f.text.len() >= GRAM + STRIDE - 1)
        };
        let (grams, plain) = Grams::new(long.into_iter().map(|f| f.text).collect());
        short.extend(plain.into_iter().map(|text| LineForm { text, ends_value: false }));
        if short.len() > PACKED {
            // Fewer searchers pay more than fewer false marks.
            short = shared_parts(&short, SHORTEST + PACKED * (SEARCHERS - 1))?;
        }
        // More than one searcher takes: the shortest texts get a small one
        // of their own, the rest are shared evenly by as few as take them.
        // A searcher's fingerprint is as long as its shortest text, and a
        // short fingerprint shared by many texts gives many candidates to
        // check in full; a fat searcher (more than 32 texts) steps half as
        // far as a slim one, but one costs less than two (SigmaHQ's 74
        // short texts in a hunt: four searchers of 20 sorted by length
        // 1.50-1.57 s, the 20 shortest and one of the other 54 1.44-1.48 s,
        // the 16 shortest and 58 1.52-1.53 s; the bundled pack's 60, split,
        // ran slower).
        let sets: Vec<&[LineForm]> = if short.len() <= PACKED {
            vec![&short[..]]
        } else {
            short.sort_by_key(|f| f.text.len());
            let (shortest, rest) = short.split_at(SHORTEST);
            let each = rest.len().div_ceil(rest.len().div_ceil(PACKED));
            std::iter::once(shortest).chain(rest.chunks(each)).collect()
        };
        let searchers = sets
            .iter()
            .map(|set| Packed::new(set.iter().map(|f| f.text.clone()).collect()))
            .collect::<Option<Vec<_>>>()?;
        let forms: Vec<Vec<LineForm>> = sets.iter().map(|set| set.to_vec()).collect();
        let rivals = forms
            .iter()
            .map(|set| {
                let of = |a: &LineForm| {
                    (0..set.len())
                        .filter(|&b| set[b].text != a.text)
                        .filter(|&b| set[b].text.starts_with(&a.text) || a.text.starts_with(&set[b].text))
                        .collect()
                };
                set.iter().map(of).collect()
            })
            .collect();
        let (tried, reads_derived) = clear_rows(&clear);
        Some(LineFilter { grams, searchers, forms, rivals, addresses, clear, tried, reads_derived })
    }

    /// Marks the lines of `text` (at `offset` in the read's data) that
    /// hold one of the filter's texts.
    pub(crate) fn mark(&self, text: &[u8], offset: u64, s: &mut Screening) {
        let marks = &mut s.marks;
        marks.covers = offset..offset + text.len() as u64;
        marks.lines.clear();
        marks.next = 0;
        let lower = &mut s.lowered;
        let mut start = 0;
        while start < text.len() {
            // Whole lines only: a window ends after a line break.
            let cut = (start + WINDOW).min(text.len());
            let mut end = memchr::memchr(b'\n', &text[cut..]).map_or(text.len(), |p| cut + p + 1);
            if end - start > LONGEST_WINDOW {
                // A line longer than that is marked unsearched, never
                // copied: a gigabyte with no line break (a zip of zeros
                // after a header) once took a gigabyte to lower-case. The
                // lines before it are searched as any window.
                match memchr::memrchr(b'\n', &text[start..cut]) {
                    Some(p) => end = start + p + 1,
                    None => {
                        marks.lines.push(offset + start as u64..offset + end as u64);
                        start = end;
                        continue;
                    }
                }
            }
            let first = marks.lines.len();
            if let Some(grams) = &self.grams {
                grams.mark(&text[start..end], offset + start as u64, &mut marks.lines);
            }
            lower.clear();
            if !self.searchers.is_empty() {
                lower.extend(text[start..end].iter().map(u8::to_ascii_lowercase));
            }
            for ((searcher, forms), rivals) in self.searchers.iter().zip(&self.forms).zip(&self.rivals) {
                searcher.plan_on(lower);
                let mut at = 0;
                while at < lower.len() {
                    let Some((pattern, found)) =
                        searcher.find_in(lower, aho_corasick::Span::from(at..lower.len()))
                    else {
                        break;
                    };
                    // The searcher gives one text of those starting here:
                    // when it does not end a value, another may be here.
                    let here = |f: &LineForm| {
                        lower[found..].starts_with(&f.text)
                            && (!f.ends_value
                                || lower.get(found + f.text.len()).is_none_or(|b| AFTER_VALUE.contains(b)))
                    };
                    if forms[pattern].ends_value
                        && !here(&forms[pattern])
                        && !rivals[pattern].iter().any(|&r| here(&forms[r]))
                    {
                        at = found + 1;
                        continue;
                    }
                    at = mark_line(lower, found, offset + start as u64, &mut marks.lines);
                }
            }
            // Several searches mark the window each in its own order.
            marks.lines[first..].sort_unstable_by_key(|l| l.start);
            start = end;
        }
    }

    /// Whether the filter says the row `r` holds none of its needles.
    pub(crate) fn clears(&self, r: &Request<'_>, s: &mut Screening) -> bool {
        s.marks.clear(r.origin.offset) && line_has_values(r, self.addresses)
    }
}

impl Screen {
    /// Makes the derived forms of `r`'s values a search and the guards
    /// read: `path?query` (and its decoded form), the agent with spaces.
    pub(crate) fn prepare(&self, r: &Request<'_>, s: &mut Screening) {
        let uri = &mut s.uri;
        uri.clear();
        let (stem, query) = (logged(r.uri_stem), logged(r.uri_query));
        uri.extend_from_slice(stem.unwrap_or_default());
        if let Some(q) = query {
            uri.push(b'?');
            uri.extend_from_slice(q);
        }
        s.whole = uri.len();
        if (uri.contains(&b'%') || query.is_some_and(|q| q.contains(&b'+')))
            && let Some(decoded) = crate::record::decoded_uri(&String::from_utf8_lossy(uri))
        {
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
                        s.push(source, decimal(v, &mut [0; 20]).as_bytes());
                    }
                    for a in [r.client_ip, r.server_ip].into_iter().flatten() {
                        a.with_text(|t| s.text.extend_from_slice(t.as_bytes()));
                        s.text.push(b'\n');
                        s.ends.push((s.text.len(), source));
                    }
                }
            }
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
        if let Some(number) = self.number(field) {
            return number.is_some_and(|v| test(decimal(v, &mut [0; 20]).as_bytes()));
        }
        let r = self.row;
        let raw = |v: Option<&[u8]>| logged(v).is_some_and(test);
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

    use proptest::prelude::*;

    use super::Screening;
    use crate::audit::audit;
    use crate::pattern::Pattern;
    use crate::rule::Search;
    use crate::{Engine, LoadReport};

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
title: keywords across values
logsource: {category: webserver}
detection:
    keywords:
        - 'order by '
        - 'union all select'
    condition: keywords
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
        engine_of(bundled, SHAPES)
    }

    /// An engine over `rules` (and the pack when `bundled`), every rule
    /// loaded.
    fn engine_of(bundled: bool, rules: &str) -> Engine {
        let mut loaded = LoadReport::default();
        if bundled {
            loaded.add_bundled();
        }
        loaded.add_text(rules, Path::new("rules.yml"));
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

    /// A web rule in YAML: its title, and the lines of its `detection`.
    fn web_rule(title: &str, detection: &[&str]) -> String {
        let mut rule = format!("title: {title}\nlogsource: {{category: webserver}}\ndetection:\n");
        for line in detection {
            rule.push_str("    ");
            rule.push_str(line);
            rule.push('\n');
        }
        rule
    }

    /// The log of `lines`, and which of them the line filter marks.
    fn marked_lines(engine: &Engine, lines: &[&str]) -> (String, Vec<usize>) {
        let log = lines.concat();
        let mut s = Screening::default();
        engine.mark_lines(log.as_bytes(), 0, &mut s);
        let starts: Vec<u64> =
            lines.iter().scan(0, |at, l| Some(std::mem::replace(at, *at + l.len() as u64))).collect();
        (log, s.marks.lines.iter().filter_map(|m| starts.iter().position(|s| *s == m.start)).collect())
    }

    /// The rows of `log` and how many of them `engine` matches, once no
    /// row the screen turned away or its screened evaluation read otherwise
    /// matched.
    fn screened(engine: &Engine, log: &[u8]) -> (u64, u64) {
        let audit = audit(engine, log);
        assert!(audit.disagreements.is_empty(), "{:?}", audit.disagreements);
        (audit.rows, audit.matched)
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

    /// Whichever order the packed searchers take, the same lines are
    /// marked: a log whose first window makes the bundled pack's searcher
    /// plan its buckets (the site's name meets the rules' order of them),
    /// against an engine that kept the rules' order (its first window, of
    /// digits alone, gave nothing to plan on).
    #[test]
    fn planned_buckets_mark_the_lines_the_given_order_marks() {
        let attacks = [
            "GET /ecp/default.flt - 443 - 10.0.0.9 HTTP/1.1 curl/8.0 - - 200",
            "GET /index.aspx q=$(id) 443 - 10.0.0.9 HTTP/1.1 curl/8.0 - - 200",
            "GET /a.aspx id=1'+or+'1'='1 443 - 10.0.0.9 HTTP/1.1 Mozilla/5.0 - - 500",
            "GET /x ${jndi:ldap://h/a} 443 - 10.0.0.9 HTTP/1.1 proxy-checker - - 404",
        ];
        let mut log = String::new();
        let mut starts = Vec::new();
        for i in 0..400 {
            log.push_str(&format!(
                "2025-11-24 00:00:{:02} W3SVC1 WEB01 GET /api/orders/{i} - 443 - 10.1.{}.{} HTTP/1.1 \
                 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) https://shop.example.com/ shop.example.com 200 0 0\n",
                i % 60,
                i % 7,
                i % 250
            ));
            if i % 50 == 49 {
                starts.push(log.len() as u64);
                log.push_str(attacks[(i / 50) % attacks.len()]);
                log.push('\n');
            }
        }
        let marks = |engine: &Engine| {
            let mut s = Screening::default();
            engine.mark_lines(log.as_bytes(), 0, &mut s);
            s.marks.lines.clone()
        };
        let pack = || {
            let mut loaded = LoadReport::default();
            loaded.add_bundled();
            Engine::new(loaded.finish().rules)
        };
        let (planned, kept) = (pack(), pack());
        let digits = "0123456789 ".repeat(2000);
        kept.mark_lines(digits.as_bytes(), 0, &mut Screening::default());
        let lines = marks(&planned);
        assert!(planned.lines.as_ref().is_some_and(|f| f.searchers.iter().any(|p| p.is_planned())));
        assert!(kept.lines.as_ref().is_some_and(|f| f.searchers.iter().all(|p| !p.is_planned())));
        assert_eq!(lines, marks(&kept));
        assert!(starts.iter().all(|at| lines.iter().any(|l| l.start == *at)), "every attack line is marked");
    }

    /// A chunk is searched once: the line holding a rule's necessary
    /// needle is marked, a plain line is cleared without the row's own
    /// search, and a line whose values the screen reads in another form
    /// (percent-encoded) is never cleared by its line alone.
    #[test]
    fn a_row_starting_inside_a_marked_line_is_not_cleared() {
        // NUL padding, then a row: the row's offset is past its line's start.
        let mut marks = super::Marks { covers: 0..300, lines: vec![10..100, 100..180], next: 0 };
        assert!(marks.clear(0), "an unmarked line");
        assert!(!marks.clear(10) && !marks.clear(64), "the first marked line, at and after its start");
        assert!(!marks.clear(150), "the second marked line");
        assert!(marks.clear(180) && marks.clear(250), "past the marks");
        assert!(!marks.clear(120), "asked again, out of order");
        assert!(!marks.clear(400), "outside the chunk: not searched");
    }

    #[test]
    fn rows_inside_their_lines_are_searched() {
        let engine = engine(true);
        let fields = "#Fields: date time cs-method cs-uri-stem cs-uri-query sc-status c-ip\n";
        let shell = "2025-01-01 00:00:01 GET /aspnet_client/x.aspx cmd=whoami 200 10.0.0.2";
        let plain = "2025-01-01 00:00:00 GET /index.html - 200 10.0.0.1";
        let padded = format!("{fields}{plain}\n{}{shell}\n{plain}\n", "\0".repeat(40));
        assert_eq!(screened(&engine, padded.as_bytes()), (3, 1), "after NUL padding");
        let cut = format!("{fields}{}{shell}\n", &plain[..30]);
        assert_eq!(screened(&engine, cut.as_bytes()).1, 1, "after a row cut short");
    }

    #[test]
    fn only_lines_holding_a_necessary_needle_are_screened_row_by_row() {
        let engine = engine(true);
        let log = "#Fields: date time cs-method cs-uri-stem cs-uri-query sc-status c-ip\n\
                   2025-01-01 00:00:00 GET /index.html - 200 10.0.0.1\n\
                   2025-01-01 00:00:01 GET /aspnet_client/X.ASPX cmd=whoami 200 10.0.0.2\n\
                   2025-01-01 00:00:02 GET /a%2Fb - 200 10.0.0.3\n";
        let rows: Vec<(u64, u64)> = {
            let mut at = 0;
            log.split_inclusive('\n')
                .map(|l| {
                    let r = (at, l.len() as u64);
                    at += r.1;
                    r
                })
                .collect()
        };
        let mut s = Screening::default();
        engine.mark_lines(log.as_bytes(), 0, &mut s);
        assert_eq!(
            s.marks.lines.iter().map(|l| l.start).collect::<Vec<_>>(),
            [rows[2].0],
            "only the drop's line holds a needle"
        );
        let filter = engine.lines.as_ref().expect("the pack's needles fit a line filter");
        let row = |line: usize, stem: &'static [u8]| {
            let origin = faultline_parser::w3c::Origin { line: line as u64 + 1, offset: rows[line].0 };
            let mut r = faultline_parser::Request::blank(
                faultline_parser::Timestamp(0),
                faultline_parser::w3c::TimeBasis::Utc,
                origin,
            );
            r.uri_stem = Some(stem);
            r
        };
        assert!(filter.clears(&row(1, b"/index.html"), &mut s));
        assert!(!filter.clears(&row(2, b"/aspnet_client/X.ASPX"), &mut s));
        assert!(!filter.clears(&row(3, b"/a%2Fb"), &mut s), "an encoded path is searched decoded");
        // A row of another chunk than the one searched is screened itself.
        let mut other = row(1, b"/index.html");
        other.origin.offset += 10_000;
        assert!(!filter.clears(&other, &mut s));
    }

    /// A line longer than a window may be is marked without being copied
    /// or searched (its row's own search decides); the lines around it are
    /// searched as ever.
    #[test]
    fn a_line_too_long_for_a_window_is_marked_unsearched() {
        let engine = engine(true);
        let long = format!("2025-01-01 00:00:01 GET /{} 200\n", "a".repeat(super::LONGEST_WINDOW * 2));
        let lines = [
            "2025-01-01 00:00:00 GET /index.html 200\n",
            "2025-01-01 00:00:00 GET /union+select 200\n",
            long.as_str(),
            "2025-01-01 00:00:02 GET /about.html 200\n",
            "2025-01-01 00:00:02 GET /x ${jndi:ldap 200\n",
        ];
        let log = lines.concat();
        let mut s = Screening::default();
        engine.mark_lines(log.as_bytes(), 0, &mut s);
        let starts: Vec<u64> =
            lines.iter().scan(0, |at, l| Some(std::mem::replace(at, *at + l.len() as u64))).collect();
        let mut marked: Vec<usize> =
            s.marks.lines.iter().filter_map(|m| starts.iter().position(|s| *s == m.start)).collect();
        marked.dedup();
        assert_eq!(marked, [1, 2, 4]);
        assert!(s.lowered.capacity() < super::LONGEST_WINDOW + super::WINDOW, "{}", s.lowered.capacity());
    }

    /// A set of short texts too large for one searcher: the shortest get
    /// one of their own and the rest share another; every text still
    /// marks the lines that hold it, and nothing else is marked.
    #[test]
    fn a_large_set_of_short_texts_is_split_by_length_and_each_found() {
        let texts: Vec<String> = (0..74).map(|i| format!("w{i:02}q{}", "k".repeat(i % 3))).collect();
        let mut detection = vec!["selection:".to_string(), "    cs-uri-query|contains:".to_string()];
        detection.extend(texts.iter().map(|t| format!("        - '{t}'")));
        detection.push("condition: selection".to_string());
        let detection: Vec<&str> = detection.iter().map(String::as_str).collect();
        let engine = engine_of(false, &web_rule("many short texts", &detection));
        let filter = engine.lines.as_ref().expect("a line filter");
        let sizes: Vec<usize> = filter.forms.iter().map(Vec::len).collect();
        assert_eq!(sizes, [super::SHORTEST, 74 - super::SHORTEST]);
        assert!(filter.forms[0].iter().all(|f| f.text.len() == 4), "the shortest together");
        let mut lines = vec!["#Fields: date time cs-method cs-uri-stem cs-uri-query\n".to_string()];
        lines.extend(texts.iter().map(|t| format!("2025-01-01 00:00:00 GET /a.aspx id=1&{t}\n")));
        lines.push("2025-01-01 00:00:00 GET /a.aspx id=1&w1q\n".to_string());
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (_, marked) = marked_lines(&engine, &lines);
        assert_eq!(marked, (1..=74).collect::<Vec<_>>());
    }

    /// Too many texts for a packed searcher are searched by parts they
    /// share: every text holds one, none is a common word.
    #[test]
    fn many_texts_are_searched_by_the_parts_they_share() {
        let form = |text: String, ends_value| super::LineForm { text: text.into_bytes(), ends_value };
        let mut forms: Vec<super::LineForm> =
            (0..80).map(|i| form(format!("/shell{i}.aspx"), false)).collect();
        // A text that must end a value keeps that, alone; a shared part of
        // such texts is found anywhere.
        forms.extend((0..10).map(|i| form(format!("${{jndi:{i}"), true)));
        forms.push(form("port=".into(), false));
        forms.push(form("order".into(), true));
        // What they share is a word many requests hold: each stays whole.
        forms.extend(["=python3", "=python+", "=python%"].map(|t| form(t.into(), false)));
        let parts = super::shared_parts(&forms, super::PACKED).expect("shared parts fit");
        assert!(parts.len() <= super::PACKED, "{parts:?}");
        for f in &forms {
            let in_part = |p: &super::LineForm| {
                f.text.windows(p.text.len()).any(|w| w == p.text.as_slice())
                    && (f.ends_value || !p.ends_value)
            };
            assert!(parts.iter().any(in_part), "{f:?} in none");
        }
        assert!(parts.contains(&form("order".into(), true)), "{parts:?}");
        assert!(!parts.iter().any(|p| p.text == b".aspx"), "a common ending is no part: {parts:?}");
        assert!(
            !parts.iter().any(|p| p.text.starts_with(b"=pyth") && p.text.len() < 8),
            "a short word is no part: {parts:?}"
        );
        assert!(parts.contains(&form("=python3".into(), false)), "{parts:?}");
        // Texts with nothing telling in common stay too many.
        let distinct: Vec<super::LineForm> = (0..100).map(|i| form(format!("w{i:03}q"), false)).collect();
        assert_eq!(super::shared_parts(&distinct, super::PACKED), None);
    }

    /// A probe meeting one registered gram whose neighbours are not (a
    /// bit met by chance, or a text's piece alone) marks nothing; the text
    /// itself still marks its line wherever it lies.
    #[test]
    fn a_probe_on_a_lone_gram_marks_nothing() {
        let text = "zq#k@x!j";
        assert_eq!(text.len(), super::GRAM + super::STRIDE - 1, "one run of grams, all registered");
        let (grams, rest) = super::Grams::new(vec![text.as_bytes().to_vec()]);
        let grams = grams.expect("grams");
        assert!(rest.is_empty());
        for gram in 0..super::STRIDE {
            // The probe at the line's start meets the gram alone.
            let piece = &text[gram..gram + super::GRAM];
            let alone = format!("{piece}-------------------- 404\n");
            let mut lines = Vec::new();
            grams.mark(alone.as_bytes(), 0, &mut lines);
            assert!(lines.is_empty(), "{piece} alone: {lines:?}");
            let whole = format!("{}{text} 404\n", "-".repeat(gram));
            grams.mark(whole.as_bytes(), 0, &mut lines);
            assert_eq!(
                lines.iter().map(|l| (l.start, l.end)).collect::<Vec<_>>(),
                [(0, whole.len() as u64)],
                "{text} after {gram} bytes"
            );
        }
    }

    proptest! {
        /// Probing eight at a time finds the probe that probing one at a
        /// time does, wherever the text starts and however long it is.
        #[test]
        fn blocked_probes_find_what_single_probes_find(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["${jndi:l", "/xab.axb", "=_-__a}=", "a", "-", "x=", "${j", "ndi:l"]),
                0..60,
            ),
            from in 0usize..50,
        ) {
            let text = pieces.concat().into_bytes();
            let (grams, _) = super::Grams::new(vec![b"${jndi:l".to_vec(), b"/xab.axb".to_vec(), b"=_-__a}=".to_vec()]);
            let grams = grams.expect("grams");
            let mut at = from;
            loop {
                let hit = grams.next_hit(&text, at);
                prop_assert_eq!(hit, grams.next_hit_scalar(&text, at));
                match hit {
                    Some(hit) => at = hit + super::STRIDE,
                    None => break,
                }
            }
        }
    }

    /// A long text is found by its grams wherever it lies in a line and
    /// whatever the case of its letters; a line of ordinary traffic is not
    /// marked; a text made only of ordinary grams is left to be searched
    /// whole.
    #[test]
    fn long_texts_are_found_by_sampled_grams_at_any_alignment() {
        let texts =
            vec![b"/aspnet_client/".to_vec(), b"${jndi:ldap".to_vec(), b"mozilla/5.0+(windows".to_vec()];
        let (grams, rest) = super::Grams::new(texts);
        let grams = grams.expect("grams");
        assert_eq!(rest, [b"mozilla/5.0+(windows".to_vec()], "a browser's agent has no telling gram");
        let plain =
            "2025-01-01 00:00:00 GET /index.html - 443 - 10.0.0.1 Mozilla/5.0+(Windows+NT+10.0) 200\n";
        for text in ["/ASPNET_CLIENT/", "${JNDI:ldap"] {
            for pad in 0..super::STRIDE + 2 {
                let line = format!("{}GET {}{text}x 200\n", " ".repeat(pad), "a".repeat(pad));
                let log = format!("{plain}{line}{plain}");
                let mut lines = Vec::new();
                grams.mark(log.as_bytes(), 100, &mut lines);
                assert!(
                    lines.iter().any(|l| l.start == 100 + plain.len() as u64),
                    "{text} after {pad} bytes: {lines:?}"
                );
                assert!(!lines.iter().any(|l| l.start == 100), "a plain line marked: {lines:?}");
            }
        }
    }

    #[test]
    fn a_keyword_stretch_a_space_follows_marks_lines_where_a_value_ends_in_it() {
        let engine = engine_of(
            false,
            &web_rule("across values", &["keywords:", "    - 'order by '", "condition: keywords"]),
        );
        // The query comes after the path in keyword text: `by` follows
        // `/api/order` there, though not in the line (the needle ends in a
        // space, so `by` must end a value too).
        let lines = [
            "#Fields: date time cs-method cs-uri-query cs(User-Agent) cs-uri-stem\n",
            "2025-01-01 00:00:00 GET by - /api/orders\n",
            "2025-01-01 00:00:01 GET by - /api/ORDER\r\n",
            "2025-01-01 00:00:02 GET - x+ORDER+by+y /\n",
            "2025-01-01 00:00:03 GET by - /last/order",
        ];
        let (log, marked) = marked_lines(&engine, &lines);
        assert_eq!(marked, [2, 3, 4], "`/api/orders` is not marked; a file's unended last line is");
        // Each marked row matches the rule; the unmarked one does not.
        assert_eq!(screened(&engine, log.as_bytes()), (4, 3));
    }

    #[test]
    fn a_text_starting_where_a_stretch_does_not_end_a_value_is_still_found() {
        // `order` (which must end a value) and `orders.php` start at the
        // same byte; the searcher reports one of them.
        let engine = engine_of(
            false,
            &[
                web_rule("across values", &["keywords:", "    - 'order by '", "condition: keywords"]),
                web_rule(
                    "orders script",
                    &["selection:", "    cs-uri-stem|contains: 'orders.php'", "condition: selection"],
                ),
            ]
            .join("---\n"),
        );
        let lines = [
            "#Fields: date time cs-method cs-uri-stem\n",
            "2025-01-01 00:00:00 GET /api/orders\n",
            "2025-01-01 00:00:01 GET /shop/orders.php\n",
        ];
        let (log, marked) = marked_lines(&engine, &lines);
        assert_eq!(marked, [2]);
        assert_eq!(screened(&engine, log.as_bytes()), (2, 1));
    }

    #[test]
    fn a_cleared_row_is_turned_away_by_its_status_when_every_rule_tried_on_it_needs_one() {
        let mut statuses = engine(true).clear_statuses.expect("the pack's needle-less rules read sc-status");
        statuses.sort_unstable();
        statuses.dedup();
        assert_eq!(statuses, [201, 204, 400, 401, 404]);
        let engine =
            engine_of(true, &web_rule("puts", &["selection:", "    cs-method: PUT", "condition: selection"]));
        assert_eq!(engine.clear_statuses, None, "a rule tried on cleared rows reads no status");
        let log = "#Fields: date time cs-method cs-uri-stem sc-status\n\
                   2025-01-01 00:00:00 PUT /a 200\n\
                   2025-01-01 00:00:01 GET /b 404\n";
        assert_eq!(screened(&engine, log.as_bytes()).1, 2);
    }

    #[test]
    fn a_rule_asking_for_a_path_and_a_crawlers_agent_is_searched_by_the_path() {
        let engine = engine_of(
            false,
            &web_rule(
                "crawler posting to owa",
                &[
                    "selection:",
                    "    cs-method: POST",
                    "    cs-uri-query|contains: '/owa/auth/Current/'",
                    "    cs-user-agent:",
                    "        - 'Mozilla/5.0+(compatible;+bingbot/2.0;++http://www.bing.com/bingbot.htm)'",
                    "condition: selection",
                ],
            ),
        );
        let lines = [
            "#Fields: date time cs-method cs-uri-stem cs(User-Agent)\n",
            "2025-01-01 00:00:00 GET /robots.txt Mozilla/5.0+(compatible;+bingbot/2.0;++http://www.bing.com/bingbot.htm)\n",
            "2025-01-01 00:00:01 POST /owa/auth/Current/x.aspx Mozilla/5.0+(compatible;+bingbot/2.0;++http://www.bing.com/bingbot.htm)\n",
        ];
        let (log, marked) = marked_lines(&engine, &lines);
        assert_eq!(marked, [2], "the crawler's every line is not marked, its post to OWA is");
        assert_eq!(screened(&engine, log.as_bytes()).1, 1);
    }

    #[test]
    fn a_cleared_row_is_searched_for_the_needles_of_the_rules_tried_on_it() {
        // No needle is necessary to the rule (a 404 will do), so it is
        // tried on rows the line filter clears, and its path must still be
        // looked for there.
        let engine = engine_of(
            true,
            &web_rule(
                "missing or odd",
                &[
                    "missing:",
                    "    sc-status: 404",
                    "odd:",
                    "    cs-uri-stem|contains: '/odd-path/'",
                    "condition: missing or odd",
                ],
            ),
        );
        let log = "#Fields: date time cs-method cs-uri-stem sc-status\n\
                   2025-01-01 00:00:00 GET /odd-path/a 200\n\
                   2025-01-01 00:00:01 GET /b 404\n\
                   2025-01-01 00:00:02 GET /c 200\n";
        assert_eq!(screened(&engine, log.as_bytes()).1, 2);
    }

    #[test]
    fn letters_whose_lower_case_is_ascii_match_as_the_screen_finds_them() {
        let engine = engine_of(
            false,
            &[
                web_rule(
                    "cgi",
                    &["selection:", "    cs-uri-stem|startswith: '/cgi'", "condition: selection"],
                ),
                web_rule(
                    "work",
                    &["selection:", "    cs-uri-stem|endswith: '/work'", "condition: selection"],
                ),
                web_rule(
                    "umlaut",
                    &["selection:", "    cs-uri-stem: '*/ärger/*.aspx'", "condition: selection"],
                ),
            ]
            .join("---\n"),
        );
        // `İ` and the Kelvin sign lower-case to ASCII letters through
        // Unicode's tables, but a rule with an ASCII needle or literal is
        // guarded by its search without ASCII case, in the evaluation as in
        // the screen: neither reads them so. Other letters still match
        // without case.
        let log = "#Fields: date time cs-method cs-uri-stem\n\
                   2025-01-01 00:00:00 GET /CG\u{130}-BIN/x\n\
                   2025-01-01 00:00:01 GET /WOR\u{212A}\n\
                   2025-01-01 00:00:02 GET /CGI-BIN/x\n\
                   2025-01-01 00:00:03 GET /a/WORK\n\
                   2025-01-01 00:00:04 GET /\u{c4}RGER/a.aspx\n";
        assert_eq!(screened(&engine, log.as_bytes()).1, 3);
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for v in [0, 7, 404, 1_000_000, u64::MAX] {
            assert_eq!(faultline_parser::value::decimal(v, &mut [0; 20]), v.to_string());
        }
    }

    /// An agent with real spaces (Advanced Logging quotes it) and `+`
    /// matches in its `+`-as-space form only; the screen must see that.
    #[test]
    fn an_agent_with_spaces_and_plus_signs_is_searched_in_both_forms() {
        let rule = web_rule(
            "agent",
            &["selection:", "    c-useragent|contains: 'compatible; foo bar'", "condition: selection"],
        );
        let engine = engine_of(false, &rule);
        let log = b"#Software: IIS Advanced Logging Module\n#Fields: date-local time-local c-ip cs(User-Agent) sc-status\n\
                    2024-01-01 00:00:00.000 1.2.3.4 \"Mozilla/5.0 (compatible; Foo+Bar/1.0)\" 200\n";
        // The full evaluation matches it, and the screen does not turn it
        // away.
        assert_eq!(screened(&engine, log), (1, 1));
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
            let audit = audit(engine, text.as_bytes());
            prop_assert_eq!(audit.rows, rows.len() as u64);
            prop_assert!(
                audit.disagreements.is_empty(),
                "screened otherwise: {:?}\n{}",
                audit.disagreements,
                text
            );
        }
    }
}
