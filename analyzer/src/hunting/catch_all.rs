//! A site that answers every path with a page of its own (a single-page
//! application's fallback, a custom error page served with 200, a parking
//! page) answers a scanner's probes for web shells and product exploits
//! with 200 too, and the rules that take 200 for "the file is there" fire
//! high on internet background noise (its posts to pages that do not
//! exist look like scripts that take only posts). Such a site shows itself in the
//! probes themselves: one client asking within minutes for several paths
//! of unrelated attacks, every one answered 200, as PHP and ASP.NET pages
//! alike (no IIS site hosts a PHP shell, a JSP shell and an ASPX shell
//! side by side), or every one with the same number of bytes. Those
//! detections are kept, at level low, saying why: a real shell is asked
//! for by its path again and again, not once among a dozen others.

use std::collections::BTreeMap;
use std::sync::Arc;

use faultline_hunt::Level;

use faultline_parser::Request;

use super::keys::{client_key, host_key, row_key};
use super::{Detection, RuleInfo};

/// How long one client's probes are read together.
const WINDOW: i64 = 10 * 60;

/// The fewest distinct paths answered 200 that show a page for any path.
const PATHS: usize = 5;

/// The handler a path's extension maps to in IIS (the script engine that
/// would run the page): a site answering as two of them to one client's
/// probes answers any path. (Not the rule engine: a page's kind.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Handler {
    /// `.asp`, `.aspx`, `.ashx`, `.asmx`, `.axd`: IIS's own.
    Asp,
    /// `.php` and its variants, through FastCGI.
    Php,
    /// `.jsp`, `.jspx`, through a connector to a Java server.
    Java,
    /// `.cfm`, `.cfc`: ColdFusion.
    ColdFusion,
    /// `.pl`, `.cgi`.
    Cgi,
}

impl Handler {
    /// The handler of a path, by its extension (none for a page, an image, a
    /// folder).
    pub(super) fn of(stem: &[u8]) -> Option<Handler> {
        let dot = stem.iter().rposition(|&b| b == b'.')?;
        let extension = stem[dot + 1..].to_ascii_lowercase();
        Some(match extension.as_slice() {
            b"asp" | b"aspx" | b"ashx" | b"asmx" | b"axd" => Handler::Asp,
            b"php" | b"php3" | b"php4" | b"php5" | b"php7" | b"phtml" => Handler::Php,
            b"jsp" | b"jspx" => Handler::Java,
            b"cfm" | b"cfc" => Handler::ColdFusion,
            b"pl" | b"cgi" => Handler::Cgi,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Handler::Asp => "ASP.NET",
            Handler::Php => "PHP",
            Handler::Java => "JSP",
            Handler::ColdFusion => "ColdFusion",
            Handler::Cgi => "CGI",
        }
    }
}

/// An access-log row answered 200 that a detection of level medium or
/// above cites.
#[derive(Debug)]
pub(super) struct Answered {
    /// The row, as [`super::keys::row_key`] gives it.
    pub(super) row: u64,
    /// The client, as [`super::keys::client_key`] gives it.
    pub(super) client: u64,
    /// The path asked for, without case, hashed.
    pub(super) path: u64,
    pub(super) handler: Option<Handler>,
    /// `sc-bytes`, where the log has it.
    pub(super) bytes: Option<u64>,
}

/// One client's probes on one host and site: each detection's time, its
/// index, and its row.
type Probes<'a> = BTreeMap<(&'a str, Option<&'a str>, u64), Vec<(i64, usize, &'a Answered)>>;

/// A client's probes in a window, counted.
#[derive(Default)]
struct Counts {
    paths: BTreeMap<u64, usize>,
    handlers: BTreeMap<Handler, usize>,
    bytes: BTreeMap<Option<u64>, usize>,
}

impl Counts {
    fn add(&mut self, a: &Answered) {
        *self.paths.entry(a.path).or_default() += 1;
        if let Some(e) = a.handler {
            *self.handlers.entry(e).or_default() += 1;
        }
        *self.bytes.entry(a.bytes).or_default() += 1;
    }

    fn remove(&mut self, a: &Answered) {
        fn take<K: Ord>(counts: &mut BTreeMap<K, usize>, key: K) {
            if let Some(n) = counts.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&key);
                }
            }
        }
        take(&mut self.paths, a.path);
        if let Some(e) = a.handler {
            take(&mut self.handlers, e);
        }
        take(&mut self.bytes, a.bytes);
    }

    /// Why the window's answers are a page for any path, if they are.
    fn any_path(&self) -> Option<String> {
        if self.paths.len() < PATHS {
            return None;
        }
        if self.handlers.len() >= 2 {
            let names: Vec<&str> = self.handlers.keys().map(|e| e.name()).collect();
            return Some(format!("as {} pages alike", names.join(", ")));
        }
        match (self.bytes.len(), self.bytes.keys().next()) {
            (1, Some(Some(bytes))) => Some(format!("each with the same {bytes} bytes")),
            _ => None,
        }
    }
}

/// Lowers to low the detections of level medium or above that cite a row
/// of `answered` where the same client, on the same host and site, had at
/// least [`PATHS`] distinct paths answered 200 within [`WINDOW`] as
/// several engines' pages, or all with the same size.
pub(super) fn lower_answered_anything(detections: &mut [Detection], answered: &[Answered]) {
    if answered.len() < PATHS {
        return;
    }
    let rows: hashbrown::HashMap<u64, &Answered> = answered.iter().map(|a| (a.row, a)).collect();
    let mut groups = Probes::new();
    for (i, d) in detections.iter().enumerate() {
        if d.rule.meta.level < Level::Medium {
            continue;
        }
        let Some(a) =
            d.evidence.line.and_then(|line| rows.get(&super::keys::row_key(&d.evidence.path, line)))
        else {
            continue;
        };
        groups.entry((&d.host, d.site.as_deref(), a.client)).or_default().push((d.time.seconds(), i, a));
    }
    let mut lowered: BTreeMap<usize, (usize, String)> = BTreeMap::new();
    for members in groups.values_mut() {
        if members.len() < PATHS {
            continue;
        }
        members.sort_by_key(|&(at, i, _)| (at, i));
        // Windows that show a page for any path, those that overlap as one
        // episode: each of its detections says how many paths it holds.
        let mut episodes: Vec<std::ops::Range<usize>> = Vec::new();
        let mut counts = Counts::default();
        let mut first = 0;
        for last in 0..members.len() {
            counts.add(members[last].2);
            while members[last].0 - members[first].0 > WINDOW {
                counts.remove(members[first].2);
                first += 1;
            }
            if counts.any_path().is_none() {
                continue;
            }
            match episodes.last_mut() {
                Some(episode) if first < episode.end => episode.end = last + 1,
                _ => episodes.push(first..last + 1),
            }
        }
        for episode in episodes {
            let mut counts = Counts::default();
            members[episode.clone()].iter().for_each(|m| counts.add(m.2));
            let Some(why) = counts.any_path() else { continue };
            for &(_, i, _) in &members[episode] {
                lowered.insert(i, (counts.paths.len(), why.clone()));
            }
        }
    }
    // By identity: every native's index is the same.
    let mut low_rules: BTreeMap<usize, Arc<RuleInfo>> = BTreeMap::new();
    for (i, (paths, why)) in lowered {
        let d = &mut detections[i];
        let was = d.rule.meta.level;
        let rule = low_rules.entry(super::rule_identity(&d.rule)).or_insert_with(|| {
            let mut low = RuleInfo::clone(&d.rule);
            low.meta.level = Level::Low;
            Arc::new(low)
        });
        d.rule = Arc::clone(rule);
        d.lowered_from = Some(was);
        // Said first: a long request would cut it off the end.
        d.evidence.summary = crate::describe::cut_line(format!(
            "likely the site's page for any path ({paths} paths this client asked for within minutes, all \
             answered 200 {why}; lowered from {}): {}",
            was.name(),
            d.evidence.summary
        ));
    }
}

impl super::HuntSink<'_> {
    /// Notes the row `r`, answered 200 and cited by a detection of level
    /// medium or above, for [`lower_answered_anything`] to read with the client's others.
    pub(super) fn note_answered(&mut self, r: &Request<'_>) {
        let (Some(client), Some(stem)) = (self.hunt.client(r), r.uri_stem) else { return };
        self.pending.answered.push(Answered {
            row: row_key(&self.resolve.file().path, r.origin.line),
            client: client_key(client),
            path: host_key("", stem, &mut self.key),
            handler: Handler::of(stem),
            bytes: r.bytes_sent,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(path: u64, handler: Option<Handler>, bytes: Option<u64>) -> Answered {
        Answered { row: path, client: 1, path, handler, bytes }
    }

    #[test]
    fn a_paths_engine_is_its_extensions() {
        assert_eq!(Handler::of(b"/uploads/Shell.ASPX"), Some(Handler::Asp));
        assert_eq!(Handler::of(b"/wso.php5"), Some(Handler::Php));
        assert_eq!(Handler::of(b"/error/cmd.jsp"), Some(Handler::Java));
        assert_eq!(Handler::of(b"/cgi-bin/test.cgi"), Some(Handler::Cgi));
        for none in [b"/".as_slice(), b"/images/logo.png", b"/api/orders", b"/v1.2/items"] {
            assert_eq!(Handler::of(none), None, "{}", String::from_utf8_lossy(none));
        }
    }

    /// Five distinct paths as two engines' pages, or all of one size, show
    /// a page for any path; four, or five of one engine in several sizes
    /// (or sizes unlogged), do not; a path asked again counts once.
    #[test]
    fn a_page_for_any_path_needs_five_paths_and_two_engines_or_one_size() {
        let of = |list: &[Answered]| {
            let mut counts = Counts::default();
            list.iter().for_each(|a| counts.add(a));
            counts.any_path()
        };
        let mixed: Vec<Answered> = (0..5)
            .map(|p| answered(p, Some(if p % 2 == 0 { Handler::Php } else { Handler::Asp }), None))
            .collect();
        assert_eq!(of(&mixed).as_deref(), Some("as ASP.NET, PHP pages alike"));
        assert_eq!(of(&mixed[..4]), None);
        let sized: Vec<Answered> = (0..5).map(|p| answered(p, Some(Handler::Asp), Some(512))).collect();
        assert_eq!(of(&sized).as_deref(), Some("each with the same 512 bytes"));
        let varied: Vec<Answered> = (0..5).map(|p| answered(p, Some(Handler::Asp), Some(500 + p))).collect();
        assert_eq!(of(&varied), None);
        let unlogged: Vec<Answered> = (0..5).map(|p| answered(p, Some(Handler::Asp), None)).collect();
        assert_eq!(of(&unlogged), None);
        let again: Vec<Answered> = (0..6).map(|p| answered(p % 3, Some(Handler::Php), Some(9))).collect();
        assert_eq!(of(&again), None);
        // Taken out again, a window is what is left.
        let mut counts = Counts::default();
        mixed.iter().for_each(|a| counts.add(a));
        counts.remove(&mixed[0]);
        assert_eq!(counts.any_path(), None);
        assert_eq!(counts.paths.len(), 4);
    }
}
