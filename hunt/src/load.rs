//! Rules from where users keep them: folders of `.yml`/`.yaml` files (a
//! SigmaHQ checkout), multi-document files, `deprecated/` and
//! `unsupported/` folders left out unless asked; and the project's own pack.
//! Every rule that cannot be evaluated is reported with the reason.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use crate::correlation::Correlation;
use crate::pack::BUNDLED;
use crate::rule::{Meta, Rule, Unsupported};

/// A rule left out, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// The rule's title, when it has one.
    pub title: Option<String>,
    /// Why.
    pub reason: String,
}

/// Why a rule path that is a device, pipe or socket is not read.
const NOT_REGULAR: &str = "not a regular file (a device, pipe or socket); not read";

/// What loading gave.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Rules ready to evaluate.
    pub rules: Vec<Rule>,
    /// Correlation rules over them.
    pub correlations: Vec<Correlation>,
    /// Rules left out.
    pub skipped: Vec<Skipped>,
    /// Correlation rules read, resolved by [`LoadReport::finish`] once every
    /// rule they may name is loaded.
    pending: Vec<(Yaml, PathBuf)>,
    /// The file each rule id given so far came from.
    ids: std::collections::HashMap<String, String>,
}

/// A rules folder that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The path does not exist or cannot be listed. The reason is part of
    /// the message and not a source of its own, which a caller printing
    /// the chain would show twice.
    #[error("cannot read rules at {path}: {reason}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: std::io::Error,
    },
}

/// How many nodes, and bytes of text, a text's YAML aliases may add once
/// expanded: the loader copies an anchored node for each alias, and a few
/// hundred bytes of aliases of aliases stood for billions of nodes (the run
/// never ended), or a few aliases of a long string for gigabytes.
const ALIAS_NODES: u64 = 1_000_000;
const ALIAS_BYTES: u64 = 64 << 20;

/// How far into a line its indentation and block indicators (`- `, `? `,
/// `: `) may reach: the YAML parser recurses once per level of block
/// nesting, and a line of 200,000 `- ` overflowed the stack (about 1,000
/// levels already do on a test thread). Rules indent a few levels.
const DEEPEST_LINE_START: usize = 128;

/// How far `line`'s indentation and block indicators reach.
fn line_start(line: &str) -> usize {
    let bytes = line.as_bytes();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let indicator = matches!(b, b'-' | b'?' | b':') && matches!(bytes.get(at + 1), Some(b' ' | b'\t'));
        if !(b == b' ' || b == b'\t' || indicator) {
            break;
        }
        at += 1;
    }
    at
}

/// Nodes and bytes of scalar text.
#[derive(Clone, Copy, Default)]
struct Size {
    nodes: u64,
    bytes: u64,
}

impl Size {
    const NODE: Size = Size { nodes: 1, bytes: 0 };

    fn plus(self, other: Size) -> Size {
        Size { nodes: self.nodes.saturating_add(other.nodes), bytes: self.bytes.saturating_add(other.bytes) }
    }
}

/// The size of a YAML text as written and as its aliases expand it.
#[derive(Default)]
struct Expansion {
    /// Per anchor, the size of its node.
    anchored: std::collections::HashMap<usize, Size>,
    /// The collections open, with their anchor and their size so far.
    open: Vec<(usize, Size)>,
    written: Size,
    expanded: Size,
}

impl Expansion {
    /// What `text`'s aliases add; `None` when it does not parse (the loader
    /// then says why).
    fn added(text: &str) -> Option<Size> {
        let mut e = Expansion::default();
        yaml_rust2::parser::Parser::new_from_str(text).load(&mut e, true).ok()?;
        Some(Size {
            nodes: e.expanded.nodes.saturating_sub(e.written.nodes),
            bytes: e.expanded.bytes.saturating_sub(e.written.bytes),
        })
    }

    fn add(&mut self, size: Size) {
        match self.open.last_mut() {
            Some((_, open)) => *open = open.plus(size),
            None => self.expanded = self.expanded.plus(size),
        }
    }
}

impl yaml_rust2::parser::EventReceiver for Expansion {
    fn on_event(&mut self, ev: yaml_rust2::parser::Event) {
        use yaml_rust2::parser::Event;
        match ev {
            Event::Scalar(text, _, anchor, _) => {
                let size = Size { nodes: 1, bytes: text.len() as u64 };
                self.written = self.written.plus(size);
                if anchor > 0 {
                    self.anchored.insert(anchor, size);
                }
                self.add(size);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.written = self.written.plus(Size::NODE);
                self.open.push((anchor, Size::NODE));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, size)) = self.open.pop() {
                    if anchor > 0 {
                        self.anchored.insert(anchor, size);
                    }
                    self.add(size);
                }
            }
            Event::Alias(anchor) => {
                self.written = self.written.plus(Size::NODE);
                let size = self.anchored.get(&anchor).copied().unwrap_or(Size::NODE);
                self.add(size);
            }
            _ => {}
        }
    }
}

impl LoadReport {
    /// Adds the rules of one YAML text (`origin` names it in the
    /// report).
    pub fn add_text(&mut self, text: &str, origin: &Path) {
        if let Some(n) = text.lines().position(|l| line_start(l) > DEEPEST_LINE_START) {
            let reason = format!(
                "YAML: line {} nests more than {DEEPEST_LINE_START} levels of indentation and block indicators",
                n + 1
            );
            self.skip(origin, reason);
            return;
        }
        // Only a text with an anchor (`&`) and an alias (`*`) can expand.
        if text.contains('&')
            && text.contains('*')
            && let Some(added) = Expansion::added(text)
            && (added.nodes > ALIAS_NODES || added.bytes > ALIAS_BYTES)
        {
            let reason = format!(
                "YAML: its aliases expand to {} more nodes and {} more bytes (at most {ALIAS_NODES} and {ALIAS_BYTES})",
                added.nodes, added.bytes
            );
            self.skip(origin, reason);
            return;
        }
        let docs = match YamlLoader::load_from_str(text) {
            Ok(docs) => docs,
            Err(e) => {
                self.skipped.push(Skipped {
                    path: origin.to_path_buf(),
                    title: None,
                    reason: format!("YAML: {e}"),
                });
                return;
            }
        };
        if docs.iter().all(|d| d.is_null()) {
            self.skip(origin, "no rule in the file: it is empty, or YAML with no document".into());
            return;
        }
        for doc in docs.iter().filter(|d| !d.is_null()) {
            let title = doc["title"].as_str().map(str::to_string);
            if !doc["correlation"].is_badvalue() {
                self.pending.push((doc.clone(), origin.to_path_buf()));
                continue;
            }
            let rule = if doc["action"].is_badvalue() {
                Rule::from_yaml(doc, origin)
            } else {
                Err(Unsupported::Malformed("rule collections (`action:`) are not read".into()))
            };
            match rule.and_then(|rule| self.first_with_id(doc, &rule.meta).map_or(Ok(rule), Err)) {
                Ok(rule) => self.rules.push(rule),
                Err(reason) => self.skipped.push(Skipped {
                    path: origin.to_path_buf(),
                    title,
                    reason: reason.to_string(),
                }),
            }
        }
    }

    /// Resolves the correlation rules against every loaded rule; those
    /// naming a rule that is not loaded are skipped, and so is the
    /// own output of rules a correlation reads (unless it says `generate`).
    pub fn finish(mut self) -> LoadReport {
        for (doc, origin) in std::mem::take(&mut self.pending) {
            let title = doc["title"].as_str().map(str::to_string);
            let correlation = Correlation::from_yaml(&doc, &origin.to_string_lossy(), &self.rules)
                .and_then(|c| self.first_with_id(&doc, &c.meta).map_or(Ok(c), Err));
            match correlation {
                Ok(c) => self.correlations.push(c),
                Err(reason) => self.skipped.push(Skipped { path: origin, title, reason: reason.to_string() }),
            }
        }
        self
    }

    /// The project's own pack.
    pub fn add_bundled(&mut self) {
        for (name, text) in BUNDLED {
            self.add_text(text, &PathBuf::from(format!("{}{name}", crate::pack::BUNDLED_ORIGIN)));
        }
    }

    /// Every rule file under `path` (a file or a folder, walked in name
    /// order so that the same rules load in the same order, links
    /// followed). A link back to a folder above it is not followed and is
    /// reported, and so is an entry that cannot be read; only `path` itself
    /// unreadable is an error.
    pub fn add_path(&mut self, path: &Path, with_deprecated: bool) -> Result<(), LoadError> {
        let meta = std::fs::metadata(path)
            .map_err(|reason| LoadError::Unreadable { path: path.to_path_buf(), reason })?;
        if meta.is_file() {
            self.add_file(path);
            return Ok(());
        }
        if !meta.is_dir() {
            self.skip(path, NOT_REGULAR.into());
            return Ok(());
        }
        let lower = |e: &walkdir::DirEntry| e.file_name().to_string_lossy().to_ascii_lowercase();
        let walker = walkdir::WalkDir::new(path).follow_links(true).sort_by_file_name().into_iter();
        // The walker sees a link back to a folder it is inside, but not one
        // to the folder it started from or above: read it once all the same.
        let root = std::fs::canonicalize(path).ok();
        let linked_back = std::cell::RefCell::new(Vec::new());
        let kept = walker.filter_entry(|e| {
            if e.depth() > 0 && e.path_is_symlink() && e.file_type().is_dir() {
                let target = std::fs::canonicalize(e.path()).ok();
                if let (Some(root), Some(target)) = (&root, target)
                    && root.starts_with(&target)
                {
                    linked_back.borrow_mut().push((e.path().to_path_buf(), target));
                    return false;
                }
            }
            with_deprecated
                || e.depth() == 0
                || !e.file_type().is_dir()
                || !matches!(lower(e).as_str(), "deprecated" | "unsupported")
        });
        for entry in kept {
            match entry {
                Ok(e)
                    if e.file_type().is_file()
                        && (lower(&e).ends_with(".yml") || lower(&e).ends_with(".yaml")) =>
                {
                    self.add_file(e.path());
                }
                Ok(e)
                    if !e.file_type().is_dir()
                        && (lower(&e).ends_with(".yml") || lower(&e).ends_with(".yaml")) =>
                {
                    self.skip(e.path(), NOT_REGULAR.into());
                }
                Ok(_) => {}
                Err(e) => {
                    let at = e.path().unwrap_or(path).to_path_buf();
                    let reason = match e.loop_ancestor() {
                        Some(above) => format!("a link back to {}: the folder is read once", above.display()),
                        None => e.io_error().map_or_else(|| e.to_string(), ToString::to_string),
                    };
                    self.skip(&at, reason);
                }
            }
        }
        for (at, above) in linked_back.into_inner() {
            self.skip(&at, format!("a link back to {}: the folder is read once", above.display()));
        }
        Ok(())
    }

    /// The rules of one file.
    fn add_file(&mut self, path: &Path) {
        match std::fs::read_to_string(path) {
            Ok(text) => self.add_text(&text, path),
            Err(e) => self.skip(path, e.to_string()),
        }
    }

    /// Reports `path` as skipped, for `reason`.
    /// Why a rule is not loaded when a rule with the id `doc` gives was
    /// loaded before it (the same folder named twice, a copy of the bundled
    /// pack): its hits would be counted twice, and a correlation naming
    /// the id could not say which it means. The id is noted otherwise.
    fn first_with_id(&mut self, doc: &Yaml, meta: &Meta) -> Option<Unsupported> {
        // A rule without an id is known by its title, which two rules may share.
        if doc["id"].is_badvalue() || doc["id"].is_null() {
            return None;
        }
        match self.ids.get(&meta.id) {
            Some(first) => Some(Unsupported::SameId(first.clone())),
            None => {
                self.ids.insert(meta.id.clone(), meta.origin.clone());
                None
            }
        }
    }

    fn skip(&mut self, path: &Path, reason: String) {
        self.skipped.push(Skipped { path: path.to_path_buf(), title: None, reason });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: t\nlogsource: {category: webserver}\ndetection:\n    selection:\n        \
                        cs-uri-stem|contains: '/x'\n    condition: selection\n";

    /// A rule whose level is no Sigma level, or whose regular expression
    /// does not compile, is skipped with its reason on one line (the
    /// engine draws the fault under the expression over several).
    #[test]
    fn a_bad_level_or_regex_is_skipped_with_a_one_line_reason() {
        let mut loaded = LoadReport::default();
        loaded.add_text(&format!("{RULE}level: extreme\n"), Path::new("level.yml"));
        loaded.add_text(&RULE.replace("|contains: '/x'", "|re: '(abc'"), Path::new("re.yml"));
        loaded.add_text(&format!("{RULE}level: High\n"), Path::new("ok.yml"));
        let reasons: Vec<&str> = loaded.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "not a Sigma rule: level `extreme` is none of informational, low, medium, high, critical",
                "regular expression: unclosed group"
            ]
        );
        assert_eq!(loaded.rules.len(), 1);
    }

    /// A web rule that cannot match without a field no web record carries
    /// (SigmaHQ's SAP NetViewer rule on `cs-content-type`) is skipped and
    /// says which; one another selection can satisfy, one asking for the
    /// field's absence, or one that only filters on it loads.
    #[test]
    fn a_web_rule_that_needs_a_field_no_record_has_is_skipped() {
        let with = |detection: &str| {
            format!("title: t\nlogsource: {{category: webserver}}\ndetection:\n{detection}")
        };
        let mut loaded = LoadReport::default();
        let upload = "    selection:\n        cs-method: POST\n        cs-content-type|contains: 'multipart'\n    condition: selection\n";
        loaded.add_text(&with(upload), Path::new("needs.yml"));
        let either = "    a:\n        cs-content-type: x\n    b:\n        cs-uri-stem|endswith: '.jsp'\n    condition: a or b\n";
        loaded.add_text(&with(either), Path::new("either.yml"));
        let absent = "    a:\n        cs-body: null\n        cs-method: GET\n    condition: a\n";
        loaded.add_text(&with(absent), Path::new("absent.yml"));
        let filtered =
            "    a:\n        cs-method: GET\n    f:\n        cs-body: x\n    condition: a and not f\n";
        loaded.add_text(&with(filtered), Path::new("filtered.yml"));
        let spelled = "    a:\n        cs(User-Agent)|contains: sqlmap\n    condition: a\n";
        loaded.add_text(&with(spelled), Path::new("spelled.yml"));
        let one_of =
            "    sel_a:\n        cs-body: x\n    sel_b:\n        cs-method: PUT\n    condition: 1 of sel_*\n";
        loaded.add_text(&with(one_of), Path::new("one_of.yml"));
        let all_of = "    sel_a:\n        cs-body: x\n    sel_b:\n        cs-method: PUT\n    condition: all of sel_*\n";
        loaded.add_text(&with(all_of), Path::new("all_of.yml"));
        let not_exists = "    a:\n        cs-body|exists: false\n    condition: a\n";
        loaded.add_text(&with(not_exists), Path::new("not_exists.yml"));
        let keywords = "    a:\n        cs-body: x\n    k:\n        - 'sqlmap'\n    condition: a and k\n";
        loaded.add_text(&with(keywords), Path::new("keywords.yml"));
        let reasons: Vec<String> =
            loaded.skipped.iter().map(|s| format!("{}: {}", s.path.display(), s.reason)).collect();
        let skipped: Vec<&str> = loaded.skipped.iter().map(|s| s.path.to_str().unwrap_or_default()).collect();
        assert_eq!(skipped, ["needs.yml", "all_of.yml", "keywords.yml"], "{reasons:?}");
        assert!(
            reasons[0]
                .starts_with("needs.yml: it needs `cs-content-type`, which faultline gives rules from no"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("it needs `cs-body`,"), "{reasons:?}");
        assert_eq!(loaded.rules.len(), 6);
    }

    /// A rule whose id a loaded rule has is skipped, naming where the first
    /// came from (the same folder given twice, a copy of the bundled pack);
    /// rules without an id are never taken for one another.
    /// What a hit shows as matched names fields as the rule spells them;
    /// a web alias as the field it stands for.
    #[test]
    fn fields_keep_the_rules_spelling_for_showing() {
        let mut loaded = LoadReport::default();
        let events = "title: t\nlogsource: {product: windows, service: system}\ndetection:\n    s:\n        EventID: 7045\n        ImagePath|endswith: '.sys'\n    condition: s\n";
        loaded.add_text(events, Path::new("e.yml"));
        let web = "title: w\nlogsource: {category: webserver}\ndetection:\n    s:\n        cs-user-agent|contains: 'sqlmap'\n    condition: s\n";
        loaded.add_text(web, Path::new("w.yml"));
        assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
        let spelled: Vec<Vec<(&str, &str)>> = loaded.rules.iter().map(|r| r.spellings().collect()).collect();
        assert_eq!(spelled, [vec![("eventid", "EventID"), ("imagepath", "ImagePath")], vec![]]);
        assert_eq!(loaded.rules[1].fields().collect::<Vec<_>>(), ["c-useragent"]);
    }

    #[test]
    fn a_second_rule_with_the_same_id_is_skipped() {
        let mut loaded = LoadReport::default();
        loaded.add_bundled();
        let bundled = loaded.rules.len();
        let with_id = format!("{RULE}id: 5d3c9b0e-0000-4000-8000-000000000001\n");
        loaded.add_text(&with_id, Path::new("a/x.yml"));
        loaded.add_text(&with_id, Path::new("b/x.yml"));
        loaded.add_text(RULE, Path::new("c/untitled.yml"));
        loaded.add_text(RULE, Path::new("d/untitled.yml"));
        let copy = BUNDLED.iter().find(|(name, _)| *name == "log_cleared.yml").expect("in the pack").1;
        loaded.add_text(copy, Path::new("mine/log_cleared.yml"));
        let loaded = loaded.finish();
        assert_eq!(loaded.rules.len(), bundled + 3);
        let reasons: Vec<String> =
            loaded.skipped.iter().map(|s| format!("{}: {}", s.path.display(), s.reason)).collect();
        assert_eq!(
            reasons,
            [
                "b/x.yml: a rule with the same id was loaded first, from a/x.yml; read once",
                "mine/log_cleared.yml: a rule with the same id was loaded first, from bundled:log_cleared.yml; read once",
            ]
        );
    }

    /// A rule file with no rule in it, or a rules path that is a device,
    /// is skipped with its reason rather than passed over in silence; a
    /// path that cannot be read says why once.
    #[test]
    fn an_empty_rule_file_or_a_device_is_skipped_with_its_reason() {
        let mut loaded = LoadReport::default();
        loaded.add_text("", Path::new("empty.yml"));
        loaded.add_text("---\n...\n", Path::new("markers.yml"));
        #[cfg(unix)]
        loaded.add_path(Path::new("/dev/null"), false).expect("a device is skipped, not an error");
        let reasons: Vec<&str> = loaded.skipped.iter().map(|s| s.reason.as_str()).collect();
        let mut want = vec!["no rule in the file: it is empty, or YAML with no document"; 2];
        if cfg!(unix) {
            want.push(NOT_REGULAR);
        }
        assert_eq!(reasons, want);
        let missing = loaded.add_path(Path::new("/nonexistent/rules"), false).expect_err("cannot be read");
        assert!(std::error::Error::source(&missing).is_none(), "{missing}");
        assert!(missing.to_string().starts_with("cannot read rules at /nonexistent/rules: "), "{missing}");
    }

    /// A rules folder with a link back to itself was walked until the
    /// stack overflowed, which aborted the run.
    #[cfg(unix)]
    #[test]
    fn a_folder_linked_back_to_is_read_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let rules = dir.path().join("rules");
        std::fs::create_dir_all(rules.join("web")).expect("folders");
        std::fs::write(rules.join("web/a.yml"), RULE).expect("rule");
        std::os::unix::fs::symlink("..", rules.join("web/up")).expect("link");
        std::os::unix::fs::symlink(".", rules.join("here")).expect("link");
        let mut report = LoadReport::default();
        report.add_path(&rules, false).expect("reads");
        assert_eq!(report.rules.len(), 1);
        let reasons: Vec<&str> = report.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons.iter().all(|r| r.contains("is read once")), "{reasons:?}");
        // A link to the folder the walk started from, or one above it.
        std::os::unix::fs::symlink("..", rules.join("loop")).expect("link");
        for root in [dir.path().to_path_buf(), rules.clone()] {
            let mut report = LoadReport::default();
            report.add_path(&root, false).expect("reads");
            assert_eq!(report.rules.len(), 1, "{}: {:?}", root.display(), report.skipped);
            let reasons: Vec<&str> = report.skipped.iter().map(|s| s.reason.as_str()).collect();
            assert!(!reasons.is_empty(), "{}: the link is reported", root.display());
            assert!(reasons.iter().all(|r| r.contains("is read once")), "{reasons:?}");
        }
    }

    /// A few hundred bytes of aliases of aliases stood for billions of
    /// nodes, which the YAML loader copies: such a file is refused with its
    /// reason, and aliases used as YAML means them still load.
    #[test]
    fn aliases_expanding_past_the_limit_are_refused() {
        let mut bomb = vec!["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]".to_string()];
        for i in 1..9 {
            bomb.push(format!("a{i}: &a{i} [{}]", vec![format!("*a{}", i - 1); 10].join(", ")));
        }
        let bomb = format!("{}\n{RULE}", bomb.join("\n"));
        let mut report = LoadReport::default();
        report.add_text(&bomb, Path::new("bomb.yml"));
        assert!(report.rules.is_empty());
        assert_eq!(report.skipped.len(), 1);
        assert!(
            report.skipped[0].reason.contains("aliases expand to 1234567800 more nodes"),
            "{:?}",
            report.skipped
        );

        // Few nodes, but a long string copied ten thousand times.
        let long = "x".repeat(1 << 20);
        let mut copies = vec![format!("a: &a '{long}'")];
        for (name, of) in [("b", "a"), ("c", "b"), ("d", "c")] {
            copies.push(format!("{name}: &{name} [{}]", vec![format!("*{of}"); 10].join(", ")));
        }
        copies.push(format!("e: [{}]", ["*d"; 10].join(", ")));
        let mut report = LoadReport::default();
        report.add_text(&format!("{}\n{RULE}", copies.join("\n")), Path::new("long.yml"));
        assert!(report.rules.is_empty());
        assert!(report.skipped[0].reason.contains("more bytes"), "{:?}", report.skipped);

        let reused = "title: t\nlogsource: {category: webserver}\ndetection:\n    a:\n        cs-uri-stem|contains: &paths ['/x', '/y*']\n    b:\n        cs-uri-query|contains: *paths\n    condition: a or b\n";
        let mut report = LoadReport::default();
        report.add_text(reused, Path::new("reused.yml"));
        assert_eq!(report.rules.len(), 1, "{:?}", report.skipped);
    }

    /// A line of 200,000 `- ` overflowed the YAML parser's stack: refused
    /// with its reason, while a rule's own indentation and a long line of
    /// dashes in a description load.
    #[test]
    fn block_nesting_past_the_limit_is_refused() {
        for text in
            [format!("{}x\n", "- ".repeat(200_000)), format!("title: t\nx:\n{}- x\n", " ".repeat(300))]
        {
            let mut report = LoadReport::default();
            report.add_text(&text, Path::new("deep.yml"));
            assert!(report.rules.is_empty());
            assert!(report.skipped[0].reason.contains("levels of indentation"), "{:?}", report.skipped);
        }
        let dashes = RULE.replace("title: t", &format!("title: t\ndescription: |\n    {}", "-".repeat(400)));
        let mut report = LoadReport::default();
        report.add_text(&dashes, Path::new("dashes.yml"));
        assert_eq!(report.rules.len(), 1, "{:?}", report.skipped);
        assert_eq!(line_start("      - - key: value"), 10);
    }

    /// An entry that cannot be read is skipped with its reason; the rest
    /// still load.
    #[cfg(unix)]
    #[test]
    fn an_unreadable_entry_is_skipped_and_the_rest_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("a.yml"), RULE).expect("rule");
        std::os::unix::fs::symlink("nowhere", dir.path().join("b.yml")).expect("link");
        let mut report = LoadReport::default();
        report.add_path(dir.path(), false).expect("reads");
        assert_eq!(report.rules.len(), 1);
        assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
        assert!(report.skipped[0].path.ends_with("b.yml"));
    }
}
