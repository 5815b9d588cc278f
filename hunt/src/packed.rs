//! Packed (Teddy) searchers whose texts are reordered, on the first text
//! they search, so that their buckets rarely meet that log's bytes.
//!
//! Teddy finds candidates by the low and high nibbles of a text's first
//! bytes, one mask per bucket: a bucket of several texts passes any byte
//! whose low nibble one text has there and whose high nibble another has,
//! and every such candidate is checked against each of the bucket's texts.
//! Which texts share a bucket follows from the order they are added in
//! (aho-corasick 1.1 puts a text whose low-nibble prefix is new in bucket
//! `buckets - 1 - id % buckets`, one whose prefix is known with the text
//! that brought it), and the order the rules give is a matter of luck: the
//! bundled pack's 40 short texts searched a lower-cased generated log at
//! 0.28 s per GiB in the rules' order and at 0.13-0.35 s under thirty
//! random orders. Which order is good depends on the log's own bytes (an
//! order planned on byte frequencies of ordinary requests halved the
//! bundled searcher's time and slowed two of SigmaHQ's three), so the
//! candidates of each bucket are counted on the
//! log's first window, and an order whose buckets meet it at most
//! [`KEPT`] as often as the rules' order replaces it. Only the speed
//! depends on the window: every order finds the same texts.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::Span;
use aho_corasick::packed::{Config, Searcher};

/// A packed searcher over a set of texts, in the set's order until
/// [`Packed::plan_on`] has seen a sample of what it searches.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    texts: Vec<Vec<u8>>,
    given: Searcher,
    /// The searcher in a planned order and, per pattern, its text's
    /// index (a text may be given twice, to pad the order to a bucket);
    /// `None` when planning kept the given order.
    planned: OnceLock<Option<(Searcher, Vec<usize>)>>,
}

/// The most texts Teddy takes, and the most a slim (8-bucket) searcher
/// takes before aho-corasick makes it fat (16 buckets, with AVX2).
const MOST: usize = 64;
const SLIM: usize = 32;

/// A planned order replaces the given one only when its buckets meet the
/// sample at most this share as often: on the generated benchmark log,
/// plans whose counted candidates were about those of the given order
/// searched up to 15% slower (what else a bucket costs is not counted).
const KEPT: f64 = 0.6;

/// How much of the first window is counted: enough lines for a few
/// hundred candidates of a poor bucket, little enough to plan in
/// milliseconds.
const SAMPLE: usize = 16 << 10;

impl Packed {
    /// A searcher over `texts` (none empty); `None` when no packed
    /// searcher takes them.
    pub(crate) fn new(texts: Vec<Vec<u8>>) -> Option<Packed> {
        let given = Config::new().builder().extend(&texts).build()?;
        Some(Packed { texts, given, planned: OnceLock::new() })
    }

    /// Plans the buckets on `sample` (lower-cased, as searched), once:
    /// later calls do nothing. A sample of a few lines (a small file read
    /// first) is not planned on: the given order serves until a larger
    /// one comes.
    pub(crate) fn plan_on(&self, sample: &[u8]) {
        if sample.len() < SAMPLE / 4 || self.planned.get().is_some() {
            return;
        }
        self.planned.get_or_init(|| {
            let texts: Vec<&[u8]> = self.texts.iter().map(Vec::as_slice).collect();
            let order = plan(&texts, &sample[..sample.len().min(SAMPLE)])?;
            let searcher = Config::new().builder().extend(order.iter().map(|&i| texts[i])).build()?;
            Some((searcher, order))
        });
    }

    /// Whether a plan replaced the given order.
    #[cfg(test)]
    pub(crate) fn is_planned(&self) -> bool {
        matches!(self.planned.get(), Some(Some(_)))
    }

    /// The first text found in `haystack` within `span`: its index in the
    /// set, and where it starts.
    pub(crate) fn find_in(&self, haystack: &[u8], span: Span) -> Option<(usize, usize)> {
        match self.planned.get() {
            Some(Some((searcher, order))) => {
                let m = searcher.find_in(haystack, span)?;
                Some((order[m.pattern().as_usize()], m.start()))
            }
            _ => {
                let m = self.given.find_in(haystack, span)?;
                Some((m.pattern().as_usize(), m.start()))
            }
        }
    }
}

/// How many bytes of each text Teddy's masks read.
fn mask_len(texts: &[&[u8]]) -> usize {
    texts.iter().map(|t| t.len()).min().unwrap_or(0).min(4)
}

/// The low nibbles of the first `width` bytes: texts alike in them share
/// a bucket whatever the order.
fn prefix(text: &[u8], width: usize) -> Vec<u8> {
    text[..width].iter().map(|b| b & 0xF).collect()
}

/// The buckets aho-corasick makes of `texts` added in `order`: per
/// bucket, the texts in it (indices, once each).
fn buckets_of(texts: &[&[u8]], order: &[usize]) -> Vec<Vec<usize>> {
    let width = mask_len(texts);
    let count = if order.len() > SLIM { 16 } else { 8 };
    let mut known: Vec<(Vec<u8>, usize)> = Vec::new();
    let mut out = vec![Vec::new(); count];
    for (id, &i) in order.iter().enumerate() {
        let key = prefix(texts[i], width);
        let bucket = match known.iter().find(|(k, _)| *k == key) {
            Some(&(_, b)) => b,
            None => {
                let b = count - 1 - id % count;
                known.push((key, b));
                b
            }
        };
        if !out[bucket].contains(&i) {
            out[bucket].push(i);
        }
    }
    out
}

/// An order of `texts` (indices, some maybe twice) whose buckets meet
/// `sample` at most [`KEPT`] as often as the given order's; `None` when
/// there is none or nothing to plan.
fn plan(texts: &[&[u8]], sample: &[u8]) -> Option<Vec<usize>> {
    let width = mask_len(texts);
    if width == 0 || texts.len() < 2 || texts.len() > MOST {
        return None;
    }
    let (buckets, limit) = if texts.len() > SLIM { (16, MOST) } else { (8, SLIM) };
    let grams = Grams::of(texts, width, sample);
    let given: usize = buckets_of(texts, &(0..texts.len()).collect::<Vec<_>>())
        .iter()
        .map(|b| grams.candidates(b.iter().map(|&i| texts[i])))
        .sum();
    if given == 0 {
        return None;
    }
    // Texts by low-nibble prefix, in their first appearance's order.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let key = prefix(t, width);
        match keys.iter().position(|k| *k == key) {
            Some(g) => groups[g].push(i),
            None => {
                keys.push(key);
                groups.push(vec![i]);
            }
        }
    }
    let parts = partition(&groups, texts, buckets, &grams);
    let order = order(&groups, parts, buckets, limit)?;
    let planned: usize =
        buckets_of(texts, &order).iter().map(|b| grams.candidates(b.iter().map(|&i| texts[i]))).sum();
    (planned as f64 <= given as f64 * KEPT).then_some(order)
}

/// The sample's grams (the first bytes of each position, as many as the
/// masks read) that some text's masks pass, with how often each occurs:
/// a bucket's candidates are among them.
struct Grams {
    width: usize,
    counted: Vec<([u8; 4], usize)>,
}

impl Grams {
    fn of(texts: &[&[u8]], width: usize, sample: &[u8]) -> Grams {
        let any = Masks::of(texts.iter().copied(), width);
        let mut counts: HashMap<[u8; 4], usize> = HashMap::new();
        for gram in sample.windows(width) {
            let mut key = [0u8; 4];
            key[..width].copy_from_slice(gram);
            if any.pass(&key) {
                *counts.entry(key).or_default() += 1;
            }
        }
        let mut counted: Vec<([u8; 4], usize)> = counts.into_iter().collect();
        counted.sort_unstable();
        Grams { width, counted }
    }

    /// How many positions of the sample a bucket of `texts` passes.
    fn candidates<'t>(&self, texts: impl Iterator<Item = &'t [u8]>) -> usize {
        let masks = Masks::of(texts, self.width);
        self.counted.iter().filter(|(g, _)| masks.pass(g)).map(|(_, n)| n).sum()
    }
}

/// A bucket's masks: per byte of the gram, the bytes whose low nibble and
/// high nibble some text of the bucket has there (256 bits).
struct Masks {
    width: usize,
    bytes: [[u64; 4]; 4],
}

impl Masks {
    fn of<'t>(texts: impl Iterator<Item = &'t [u8]>, width: usize) -> Masks {
        let mut low = [0u16; 4];
        let mut high = [0u16; 4];
        for t in texts {
            for (j, &b) in t[..width].iter().enumerate() {
                low[j] |= 1 << (b & 0xF);
                high[j] |= 1 << (b >> 4);
            }
        }
        let mut bytes = [[0u64; 4]; 4];
        for j in 0..width {
            for b in 0..256usize {
                if low[j] >> (b & 0xF) & 1 != 0 && high[j] >> (b >> 4) & 1 != 0 {
                    bytes[j][b / 64] |= 1 << (b % 64);
                }
            }
        }
        Masks { width, bytes }
    }

    fn pass(&self, gram: &[u8; 4]) -> bool {
        (0..self.width).all(|j| {
            let b = usize::from(gram[j]);
            self.bytes[j][b / 64] >> (b % 64) & 1 != 0
        })
    }
}

/// The groups split into `buckets` parts that meet the sample rarely: the
/// largest groups first, each to the part it adds least to, then single
/// groups moved while a move lowers the count. A part's candidates count
/// once per text checked; a part holds at most one group more than an
/// even share, so that the order needs little padding.
fn partition(groups: &[Vec<usize>], texts: &[&[u8]], buckets: usize, grams: &Grams) -> Vec<Vec<usize>> {
    let cap = groups.len().div_ceil(buckets) + 1;
    let cost = |part: &[usize], extra: Option<usize>| {
        let members: Vec<usize> =
            part.iter().chain(extra.as_ref()).flat_map(|&g| groups[g].iter().copied()).collect();
        grams.candidates(members.iter().map(|&i| texts[i])) * (1 + members.len())
    };
    let mut parts: Vec<Vec<usize>> = vec![Vec::new(); buckets];
    let mut by_size: Vec<usize> = (0..groups.len()).collect();
    by_size.sort_by_key(|&g| std::cmp::Reverse(groups[g].len()));
    // The part a group adds least to, of those with room (ties: the first).
    let cheapest = |parts: &[Vec<usize>], g: usize, except: Option<usize>| {
        (0..parts.len())
            .filter(|&p| Some(p) != except && parts[p].len() < cap)
            .map(|p| (cost(&parts[p], Some(g)).saturating_sub(cost(&parts[p], None)), p))
            .min()
    };
    for g in by_size {
        if let Some((_, p)) = cheapest(&parts, g, None) {
            parts[p].push(g);
        }
    }
    // Each move lowers the count; the bound keeps planning short.
    for _ in 0..4 {
        let mut moved = false;
        for g in 0..groups.len() {
            let Some(from) = parts.iter().position(|p| p.contains(&g)) else { continue };
            let rest: Vec<usize> = parts[from].iter().copied().filter(|&x| x != g).collect();
            let saved = cost(&parts[from], None).saturating_sub(cost(&rest, None));
            if let Some((added, to)) = cheapest(&parts, g, Some(from))
                && added < saved
            {
                parts[from] = rest;
                parts[to].push(g);
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    parts
}

/// The order giving the groups `parts` as buckets: a group's first text
/// gets an id whose bucket is its part's, the group's other texts fill
/// the ids between, and a text given again pads where none is left. The
/// largest parts take the first buckets, which need the fewest ids.
/// `None` when that takes more than `limit` ids.
fn order(
    groups: &[Vec<usize>],
    mut parts: Vec<Vec<usize>>,
    buckets: usize,
    limit: usize,
) -> Option<Vec<usize>> {
    parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut waiting: Vec<std::collections::VecDeque<usize>> =
        parts.into_iter().map(std::collections::VecDeque::from).collect();
    let mut followers: Vec<usize> = Vec::new();
    let mut out: Vec<usize> = Vec::new();
    while waiting.iter().any(|w| !w.is_empty()) || !followers.is_empty() {
        if out.len() >= limit {
            return None;
        }
        // Id `n` is bucket `buckets - 1 - n % buckets`: the part at
        // position `n % buckets` of the sorted list.
        if let Some(g) = waiting[out.len() % buckets].pop_front() {
            out.push(groups[g][0]);
            followers.extend(groups[g][1..].iter().rev());
        } else if let Some(t) = followers.pop() {
            out.push(t);
        } else {
            out.push(*out.first()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of the kind that made the bundled pack's texts, in the rules'
    /// order, a poor set of buckets: `p.ex` of the site's name passes the
    /// bucket of `proxy` and `..%5c`, twice a line.
    fn sample() -> Vec<u8> {
        let mut log = Vec::new();
        for i in 0..200 {
            log.extend_from_slice(
                format!(
                    "2025-01-31 10:{:02}:{:02} 10.0.0.5 get /api/orders/{i} page=2&sort=name&lang=en 443 - \
                     192.168.1.{} http/1.1 mozilla/5.0+(windows+nt+10.0;+win64;+x64)+applewebkit/537.36 \
                     https://shop.example.com/products/item?id={i} shop.example.com 200 0 0 5120 310 15\n",
                    i % 60,
                    (i * 7) % 60,
                    i % 250
                )
                .as_bytes(),
            );
        }
        log
    }

    fn texts() -> Vec<&'static [u8]> {
        [
            "$(cat ",
            "$(cat+",
            "$(id)",
            "$(uname",
            "${${",
            "${::-",
            "${env:",
            "${jndi:",
            "%2e%2e/",
            "'1'='1",
            "*~1*",
            "*~1.",
            "..%255c",
            "..%2f",
            "..%5c",
            "../../",
            "..\\..\\",
            "/ecp/",
            "1=1--",
            ";exec(",
            "<iframe",
            "<script",
            "[odbc",
            "`cat ",
            "`cat+",
            "`id`",
            "`uname",
            "`whoami",
            "cast(0x",
            "port=",
            "proxy",
            "win.ini",
            "|80040e",
            "/cmd.aspx",
            "/cmdasp.asp",
            "/cmdasp.aspx",
            "/trace.axd",
            "@@version",
            "javascript:",
            "x-beresource=",
        ]
        .iter()
        .map(|t| t.as_bytes())
        .collect()
    }

    fn candidates(texts: &[&[u8]], order: &[usize], sample: &[u8]) -> usize {
        let grams = Grams::of(texts, mask_len(texts), sample);
        buckets_of(texts, order).iter().map(|b| grams.candidates(b.iter().map(|&i| texts[i]))).sum()
    }

    #[test]
    fn a_plan_meets_the_sample_less_often_and_keeps_every_text() {
        let (texts, sample) = (texts(), sample());
        let given = candidates(&texts, &(0..texts.len()).collect::<Vec<_>>(), &sample);
        let order = plan(&texts, &sample).expect("a plan");
        let planned = candidates(&texts, &order, &sample);
        assert!(planned as f64 <= given as f64 * KEPT, "planned {planned}, given {given}");
        assert!(order.len() <= MOST);
        let mut kept = order.clone();
        kept.sort_unstable();
        kept.dedup();
        assert_eq!(kept, (0..texts.len()).collect::<Vec<_>>());
        // Texts alike in their nibbles share a bucket in any order.
        let width = mask_len(&texts);
        for b in buckets_of(&texts, &order) {
            for &i in &b {
                let alike = (0..texts.len()).filter(|&j| prefix(texts[j], width) == prefix(texts[i], width));
                assert!(alike.into_iter().all(|j| b.contains(&j)));
            }
        }
    }

    #[test]
    fn a_planned_searcher_finds_each_text_and_names_it() {
        let texts = texts();
        let packed = Packed::new(texts.iter().map(|t| t.to_vec()).collect()).expect("a searcher");
        let sample = sample();
        packed.plan_on(&sample[..1000]);
        assert!(packed.planned.get().is_none(), "a few lines are not planned on");
        packed.plan_on(&sample);
        assert!(matches!(packed.planned.get(), Some(Some(_))), "the sample is planned on");
        for (i, t) in texts.iter().enumerate() {
            let mut hay = b"get /index.html ".to_vec();
            let at = hay.len();
            hay.extend_from_slice(t);
            hay.extend_from_slice(b" 200 0 0");
            let (found, start) = packed.find_in(&hay, Span::from(0..hay.len())).expect("found");
            assert_eq!(start, at);
            // Another text may start here too (`$(cat ` and `$(cat+` do
            // not, `/cmdasp.asp` and `/cmdasp.aspx` do): the one named does.
            assert!(hay[start..].starts_with(texts[found]), "{i} named {found}");
        }
        let lines = b"get /api/orders/1 200\n".repeat(10);
        assert!(packed.find_in(&lines, Span::from(0..lines.len())).is_none());
    }

    #[test]
    fn a_sample_no_bucket_meets_keeps_the_given_order() {
        let texts = texts();
        assert_eq!(plan(&texts, b"0000 1111 2222 3333"), None);
        assert_eq!(plan(&[b"abc".as_slice()], &sample()), None);
        assert_eq!(plan(&[b"".as_slice(), b"abc"], &sample()), None);
    }
}
