//! A Sigma rule as faultline evaluates it: its metadata, the evidence it
//! applies to (from its `logsource`), its searches compiled into matchers
//! and its condition. Everything a rule uses that faultline cannot honour
//! is an [`Unsupported`] reason, and the rule is skipped with it rather
//! than evaluated wrongly.

use std::path::Path;

use yaml_rust2::Yaml;

use crate::condition::Condition;
use crate::pattern::{Modifiers, Pattern, SigmaValue};

/// A rule's level, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] =
        [Level::Informational, Level::Low, Level::Medium, Level::High, Level::Critical];

    /// The name rules use.
    pub fn name(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// The level of a name (`info` accepted).
    pub fn from_name(name: &str) -> Option<Level> {
        match name.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Some(Level::Informational),
            "low" => Some(Level::Low),
            "medium" => Some(Level::Medium),
            "high" => Some(Level::High),
            "critical" => Some(Level::Critical),
            _ => None,
        }
    }
}

/// Why a rule is not evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// A modifier faultline does not implement (`expand`...).
    #[error("unsupported modifier `{0}`")]
    Modifier(String),
    /// A condition faultline cannot parse or evaluate.
    #[error("condition: {0}")]
    Condition(String),
    /// A regular expression the engine cannot compile.
    #[error("regular expression: {0}")]
    Regex(String),
    /// A value that does not fit its modifier.
    #[error("value `{0}` does not fit its modifier")]
    Value(String),
    /// A log source faultline never reads (firewall, proxy, Linux...).
    #[error("log source {0} is not in the evidence faultline reads")]
    LogSource(String),
    /// A Sigma correlation rule.
    #[error("a correlation rule, not a detection rule")]
    Correlation,
    /// The rule's YAML lacks what every rule has.
    #[error("not a Sigma rule: {0}")]
    Malformed(String),
    /// A rule whose id a rule loaded before it has (its origin).
    #[error("a rule with the same id was loaded first, from {0}; read once")]
    SameId(String),
    /// A web rule that cannot match without fields no record faultline
    /// reads carries (their names).
    #[error(
        "it needs {0}, which faultline gives rules from no access-log, HTTP.sys or FREB record (a log's \
         custom fields are not read; `--show-mapping` lists the fields it gives): the rule can never match"
    )]
    Field(String),
}

/// Which records a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Web server access: W3C rows (and HTTP.sys error rows where the
    /// fields exist).
    Web,
    /// IIS's FTP service: the rows of its W3C logs (`category: ftp`).
    Ftp,
    /// Windows events of these channels (lower-case) and ids (`None`: any),
    /// any of the pairs; an empty list: every event.
    Events(Vec<(String, Option<u16>)>),
}

/// Sysmon's channel.
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// PowerShell's own channel (module and script block logging).
const POWERSHELL: &str = "Microsoft-Windows-PowerShell/Operational";

/// A Windows `logsource` faultline reads, and the events it stands for.
#[derive(Clone, Copy, Debug)]
pub struct LogSource {
    /// `category:` (with `product: windows`).
    pub category: Option<&'static str>,
    /// `service:` (read when the rule names no category).
    pub service: Option<&'static str>,
    /// The (channel, event id) pairs it reads (`None`: any id).
    pub events: &'static [(&'static str, Option<u16>)],
}

const fn category(name: &'static str, events: &'static [(&'static str, Option<u16>)]) -> LogSource {
    LogSource { category: Some(name), service: None, events }
}

const fn service(name: &'static str, events: &'static [(&'static str, Option<u16>)]) -> LogSource {
    LogSource { category: None, service: Some(name), events }
}

/// Every Windows log source faultline reads: process creation from Sysmon
/// and Security 4688, the other categories of Sigma's taxonomy that Sysmon
/// logs by their event ids (the rules name Sysmon's own fields, which the
/// events carry as they are), PowerShell's module and script-block
/// logging, and services by their channels. The mapping `--show-mapping`
/// prints.
pub const LOG_SOURCES: &[LogSource] = &[
    category("process_creation", &[(SYSMON, Some(1)), ("Security", Some(4688))]),
    category("file_change", &[(SYSMON, Some(2))]),
    category("network_connection", &[(SYSMON, Some(3))]),
    category("sysmon_status", &[(SYSMON, Some(4)), (SYSMON, Some(16))]),
    category("process_termination", &[(SYSMON, Some(5))]),
    category("driver_load", &[(SYSMON, Some(6))]),
    category("image_load", &[(SYSMON, Some(7))]),
    category("create_remote_thread", &[(SYSMON, Some(8))]),
    category("raw_access_thread", &[(SYSMON, Some(9))]),
    category("process_access", &[(SYSMON, Some(10))]),
    category("file_event", &[(SYSMON, Some(11))]),
    category("registry_add", &[(SYSMON, Some(12))]),
    category("registry_delete", &[(SYSMON, Some(12))]),
    category("registry_set", &[(SYSMON, Some(13))]),
    category("registry_rename", &[(SYSMON, Some(14))]),
    category("registry_event", &[(SYSMON, Some(12)), (SYSMON, Some(13)), (SYSMON, Some(14))]),
    category("create_stream_hash", &[(SYSMON, Some(15))]),
    category("pipe_created", &[(SYSMON, Some(17)), (SYSMON, Some(18))]),
    category("wmi_event", &[(SYSMON, Some(19)), (SYSMON, Some(20)), (SYSMON, Some(21))]),
    category("dns_query", &[(SYSMON, Some(22))]),
    category("file_delete", &[(SYSMON, Some(23)), (SYSMON, Some(26))]),
    category("clipboard_capture", &[(SYSMON, Some(24))]),
    category("process_tampering", &[(SYSMON, Some(25))]),
    category("file_executable_detected", &[(SYSMON, Some(29))]),
    category("ps_module", &[(POWERSHELL, Some(4103))]),
    category("ps_script", &[(POWERSHELL, Some(4104))]),
    service("security", &[("Security", None)]),
    service("system", &[("System", None)]),
    service("application", &[("Application", None)]),
    service("iis-configuration", &[("Microsoft-IIS-Configuration/Operational", None)]),
    service("sysmon", &[(SYSMON, None)]),
    service("powershell", &[(POWERSHELL, None)]),
];

/// The evidence a `logsource` stands for.
fn target(
    category: Option<&str>,
    product: Option<&str>,
    service: Option<&str>,
) -> Result<Target, Unsupported> {
    let describe =
        || format!("{}/{}/{}", product.unwrap_or("-"), category.unwrap_or("-"), service.unwrap_or("-"));
    match category {
        Some("webserver") => return Ok(Target::Web),
        Some("ftp") => return Ok(Target::Ftp),
        _ => {}
    }
    if product != Some("windows") {
        return Err(Unsupported::LogSource(describe()));
    }
    if category.is_none() && service.is_none() {
        return Ok(Target::Events(Vec::new()));
    }
    let source = LOG_SOURCES.iter().find(|s| match category {
        Some(_) => s.category == category,
        None => s.service == service,
    });
    let source = source.ok_or_else(|| Unsupported::LogSource(describe()))?;
    Ok(Target::Events(source.events.iter().map(|(c, id)| (c.to_ascii_lowercase(), *id)).collect()))
}

/// One field's test in a selection.
#[derive(Debug, Clone)]
pub struct FieldTest {
    /// Lower-case field name.
    pub field: String,
    /// The field as the rule spells it (`ImagePath`), for showing.
    pub written: String,
    /// Compare with the value's case.
    pub cased: bool,
    /// Every pattern must match (`all`), not any one.
    pub all: bool,
    /// The patterns.
    pub patterns: Vec<Pattern>,
}

/// A named search of the `detection` section.
#[derive(Debug, Clone)]
pub enum Search {
    /// Maps (any of them) whose field tests must all hold.
    Selections(Vec<Vec<FieldTest>>),
    /// Any of these (every one, when `all`) anywhere in the record.
    Keywords {
        /// The keywords.
        patterns: Vec<Pattern>,
        /// Every keyword must be found (`'|all':` in the rule).
        all: bool,
    },
}

/// What a rule says about itself; every hit carries it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Meta {
    /// `id`.
    pub id: String,
    /// `title`.
    pub title: String,
    /// `author` (shown with every hit: the Detection Rule License asks it).
    pub author: Option<String>,
    /// `level`.
    pub level: Level,
    /// `status`.
    pub status: Option<String>,
    /// `license`, when the rule states one.
    pub license: Option<String>,
    /// ATT&CK techniques from `attack.tNNNN[.NNN]` tags (`T1505.003`).
    pub techniques: Vec<String>,
    /// The file it came from (`bundled:<name>` for the project's pack).
    pub origin: String,
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its metadata.
    pub meta: Meta,
    /// `name`, by which correlation rules may refer to it.
    pub name: Option<String>,
    /// What it applies to.
    pub target: Target,
    /// Search names, in order.
    pub names: Vec<String>,
    /// Searches, by the index in `names`.
    pub searches: Vec<Search>,
    /// The condition over them.
    pub condition: Condition,
    /// `fields`: the values worth showing with its matches (Sigma's list of
    /// fields interesting for further analysis), as the rule spells them.
    pub fields_of_interest: Vec<String>,
}

/// What a search can be on web records: always true, never, or either.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Can {
    Always,
    Never,
    Either,
}

/// The fields a web rule reads that no web record carries, when the rule
/// cannot match without them (a selection on `cs-content-type` alone); a
/// rule another selection can still satisfy loads.
fn needs_unread_web_fields(searches: &[Search], condition: &Condition) -> Option<String> {
    let known = |field: &str| {
        let field = crate::record::canonical_field(field);
        crate::record::WEB_MAPPING.iter().any(|f| f.name == field)
    };
    // A test of a field no web record carries holds only when it asks for
    // the field's absence (`null`, `exists: false`); any other blocks its map.
    let blocks = |t: &FieldTest| {
        !known(&t.field) && !t.patterns.iter().any(|p| matches!(p, Pattern::Null | Pattern::Exists(false)))
    };
    let can: Vec<Can> = searches
        .iter()
        .map(|search| match search {
            Search::Keywords { .. } => Can::Either,
            Search::Selections(maps) => {
                let map_can = |tests: &Vec<FieldTest>| {
                    if tests.iter().any(blocks) {
                        Can::Never
                    } else if tests.iter().all(|t| !known(&t.field)) {
                        Can::Always
                    } else {
                        Can::Either
                    }
                };
                let each: Vec<Can> = maps.iter().map(map_can).collect();
                if each.contains(&Can::Always) {
                    Can::Always
                } else if each.contains(&Can::Either) {
                    Can::Either
                } else {
                    Can::Never
                }
            }
        })
        .collect();
    // The fields whose tests block: what the rule needs.
    let mut unread: Vec<&str> = Vec::new();
    for t in searches
        .iter()
        .filter_map(|s| match s {
            Search::Selections(maps) => Some(maps.iter().flatten()),
            Search::Keywords { .. } => None,
        })
        .flatten()
    {
        if blocks(t) && !unread.contains(&t.field.as_str()) {
            unread.push(&t.field);
        }
    }
    if unread.is_empty() {
        return None;
    }
    // Whether some outcome of the searches that can go either way makes
    // the condition true; past 12 of them, taken as possible.
    let free: Vec<usize> = (0..can.len()).filter(|&i| can[i] == Can::Either).collect();
    if free.len() > 12 {
        return None;
    }
    let possible = (0u32..1 << free.len()).any(|bits| {
        condition.eval(&mut |i| match can.get(i) {
            Some(Can::Always) => true,
            Some(Can::Never) | None => false,
            Some(Can::Either) => free.iter().position(|&f| f == i).is_some_and(|k| bits & (1 << k) != 0),
        })
    });
    (!possible).then(|| unread.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))
}

fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn value(y: &Yaml) -> Result<SigmaValue, Unsupported> {
    Ok(match y {
        Yaml::String(s) => SigmaValue::Text(s.clone()),
        Yaml::Integer(i) => SigmaValue::Number(*i as f64),
        Yaml::Real(r) => SigmaValue::Number(r.parse().map_err(|_| Unsupported::Value(r.clone()))?),
        Yaml::Boolean(b) => SigmaValue::Bool(*b),
        Yaml::Null => SigmaValue::Null,
        other => return Err(Unsupported::Value(format!("{other:?}"))),
    })
}

/// The tests of one `field|modifiers: values` entry: one, or under `all`
/// one per value when a value stands for several forms (`windash`,
/// `base64offset`): every value must match, in any one of its forms.
fn field_tests(key: &str, v: &Yaml) -> Result<Vec<FieldTest>, Unsupported> {
    let mut parts = key.split('|');
    let written = parts.next().unwrap_or_default().trim().to_string();
    let field = crate::record::canonical_field(&written.to_ascii_lowercase()).to_string();
    let mods = Modifiers::parse(parts)?;
    let per_value = value_patterns(mods, v)?;
    let referenced: Vec<&str> = per_value.iter().flatten().filter_map(Pattern::referenced_field).collect();
    // A reference compares values as logged.
    if !referenced.is_empty()
        && let Some(derived) =
            referenced.iter().copied().chain([field.as_str()]).find(|f| crate::record::has_derived_forms(f))
    {
        return Err(Unsupported::Modifier(format!("fieldref on {derived}, also read in derived forms")));
    }
    let test = |all, patterns| FieldTest {
        field: field.clone(),
        written: written.clone(),
        cased: mods.cased(),
        all,
        patterns,
    };
    if mods.all && per_value.iter().any(|forms| forms.len() > 1) {
        return Ok(per_value.into_iter().map(|forms| test(false, forms)).collect());
    }
    Ok(vec![test(mods.all, per_value.into_iter().flatten().collect())])
}

/// The patterns of each of one value or a list of values.
fn value_patterns(mods: Modifiers, v: &Yaml) -> Result<Vec<Vec<Pattern>>, Unsupported> {
    let values: Vec<&Yaml> = match v {
        Yaml::Array(list) => list.iter().collect(),
        other => vec![other],
    };
    values.into_iter().map(|v| mods.compile(&value(v)?)).collect()
}

/// The patterns of one value or a list of values, end to end.
fn patterns(mods: Modifiers, v: &Yaml) -> Result<Vec<Pattern>, Unsupported> {
    Ok(value_patterns(mods, v)?.into_iter().flatten().collect())
}

/// [`patterns`] as keyword searches read them ([`Pattern::for_keywords`]).
fn keyword_patterns(mods: Modifiers, v: &Yaml) -> Result<Vec<Pattern>, Unsupported> {
    Ok(patterns(mods, v)?.into_iter().map(Pattern::for_keywords).collect())
}

fn selection(map: &yaml_rust2::yaml::Hash) -> Result<Vec<FieldTest>, Unsupported> {
    let mut tests = Vec::new();
    for (k, v) in map {
        let key = text(k).ok_or_else(|| Unsupported::Malformed("a field name is not text".into()))?;
        tests.extend(field_tests(&key, v)?);
    }
    Ok(tests)
}

fn search(y: &Yaml) -> Result<Search, Unsupported> {
    let contains = Modifiers::parse(["contains"].into_iter())?;
    match y {
        // `'|all': [...]`: keywords under modifiers, not a field.
        Yaml::Hash(map)
            if map.len() == 1 && map.keys().all(|k| text(k).is_some_and(|k| k.starts_with('|'))) =>
        {
            let (key, values) =
                map.iter().next().ok_or_else(|| Unsupported::Malformed("empty keywords".into()))?;
            let key = text(key).unwrap_or_default();
            // Keyword text names no field.
            if key.split('|').any(|m| m == "fieldref") {
                return Err(Unsupported::Modifier(format!("{key} on keywords")));
            }
            let mods = Modifiers::parse(std::iter::once("contains").chain(key.split('|').skip(1)))?;
            if mods.cased() {
                // Keyword text is compared lower-cased.
                return Err(Unsupported::Modifier(format!("{key} on keywords")));
            }
            let per_value = value_patterns(mods, values)?;
            if mods.all && per_value.iter().any(|forms| forms.len() > 1) {
                // One keyword search holds one list: every form of every
                // value, or any of them.
                return Err(Unsupported::Modifier(format!("{key} on keywords with several forms a value")));
            }
            let patterns = per_value.into_iter().flatten().map(Pattern::for_keywords).collect();
            Ok(Search::Keywords { patterns, all: mods.all })
        }
        Yaml::Hash(map) => Ok(Search::Selections(vec![selection(map)?])),
        Yaml::Array(list) if list.iter().all(|i| matches!(i, Yaml::Hash(_))) => Ok(Search::Selections(
            list.iter()
                .filter_map(|i| if let Yaml::Hash(m) = i { Some(selection(m)) } else { None })
                .collect::<Result<_, _>>()?,
        )),
        other => Ok(Search::Keywords { patterns: keyword_patterns(contains, other)?, all: false }),
    }
}

/// The techniques of `attack.t1505.003`-style tags.
pub(crate) fn techniques(tags: &Yaml) -> Vec<String> {
    let Yaml::Array(list) = tags else { return Vec::new() };
    list.iter()
        .filter_map(text)
        .filter_map(|t| {
            let id = t.strip_prefix("attack.t").or_else(|| t.strip_prefix("attack.T"))?;
            id.starts_with(|c: char| c.is_ascii_digit()).then(|| format!("T{}", id.to_ascii_uppercase()))
        })
        .collect()
}

impl Rule {
    /// Whether the rule is one of the project's own pack.
    pub fn is_bundled(&self) -> bool {
        self.meta.origin.starts_with(crate::pack::BUNDLED_ORIGIN)
    }

    /// Whether it has a keyword search (which reads every field).
    pub fn has_keywords(&self) -> bool {
        self.searches.iter().any(|s| matches!(s, Search::Keywords { .. }))
    }

    /// Every field test of its selections.
    fn field_tests(&self) -> impl Iterator<Item = &FieldTest> {
        self.searches
            .iter()
            .filter_map(|s| match s {
                Search::Selections(maps) => Some(maps),
                Search::Keywords { .. } => None,
            })
            .flatten()
            .flatten()
    }

    /// The fields its tests read as the rule spells them, by their
    /// lower-case names: those a spelling only changes the case of (a web
    /// alias, `cs-user-agent`, shows as the name it stands for).
    pub fn spellings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.field_tests()
            .filter(|t| t.written.eq_ignore_ascii_case(&t.field))
            .map(|t| (t.field.as_str(), t.written.as_str()))
    }

    /// The fields its selections name (keyword searches name none).
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.field_tests()
            // A field a `fieldref` compares with is read too.
            .flat_map(|t| {
                std::iter::once(t.field.as_str())
                    .chain(t.patterns.iter().filter_map(Pattern::referenced_field))
            })
    }

    /// Whether a value of `field` (as written, and lower-cased) passes a
    /// test the rule's selections make of that field: which of a record's
    /// forms of a field (a query as logged, or the path and query joined)
    /// the rule matched in.
    pub fn tests_value(&self, field: &str, (raw, lower): (&str, &str)) -> bool {
        self.searches.iter().any(|s| match s {
            Search::Selections(maps) => maps.iter().flatten().filter(|t| t.field == field).any(|t| {
                let value = if t.cased { raw } else { lower };
                let one = |p: &Pattern| p.matches(value);
                if t.all { t.patterns.iter().all(one) } else { t.patterns.iter().any(one) }
            }),
            Search::Keywords { .. } => false,
        })
    }

    /// Whether a selection the condition asks to match (not one it asks
    /// not to, a filter) tests `field`: a value of a field only a filter
    /// reads passes no test, and is shown for what the rule read.
    pub fn tests_field_positively(&self, field: &str) -> bool {
        fn positive(c: &Condition, negated: bool, out: &mut Vec<usize>) {
            match c {
                Condition::Search(i) if !negated => out.push(*i),
                Condition::Search(_) => {}
                Condition::And(all) | Condition::Or(all) => {
                    all.iter().for_each(|c| positive(c, negated, out))
                }
                Condition::Not(inner) => positive(inner, !negated, out),
            }
        }
        let mut searches = Vec::new();
        positive(&self.condition, false, &mut searches);
        searches.iter().filter_map(|&i| self.searches.get(i)).any(|s| match s {
            Search::Selections(maps) => maps.iter().flatten().any(|t| t.field == field),
            Search::Keywords { .. } => false,
        })
    }

    /// The values of a record (field, as written, lower-cased) that one of
    /// the rule's keywords is found in: what a keyword hit shows. A keyword
    /// found only across two values (`GET /admin`) shows none.
    pub fn keyword_values<'v>(
        &self,
        values: impl Iterator<Item = (&'v str, &'v str, &'v str)>,
    ) -> Vec<(&'v str, &'v str)> {
        let keywords: Vec<&Pattern> = self
            .searches
            .iter()
            .flat_map(|s| match s {
                Search::Keywords { patterns, .. } => patterns.iter().collect(),
                Search::Selections(_) => Vec::new(),
            })
            .collect();
        if keywords.is_empty() {
            return Vec::new();
        }
        // A value once, under the first field that gives it (the path as
        // logged, not the `path?query` forms made of it).
        let mut out: Vec<(&str, &str)> = Vec::new();
        for (f, raw, lower) in values {
            if keywords.iter().any(|p| p.matches(lower)) && !out.iter().any(|(_, v)| *v == raw) {
                out.push((f, raw));
            }
        }
        out
    }

    /// A rule from one YAML document.
    pub fn from_yaml(doc: &Yaml, origin: &Path) -> Result<Rule, Unsupported> {
        if !doc["correlation"].is_badvalue() {
            return Err(Unsupported::Correlation);
        }
        let title = text(&doc["title"]).ok_or_else(|| Unsupported::Malformed("no title".into()))?;
        let Yaml::Hash(detection) = &doc["detection"] else {
            return Err(Unsupported::Malformed("no detection".into()));
        };
        let logsource = &doc["logsource"];
        let field = |k: &str| text(&logsource[k]).map(|v| v.to_ascii_lowercase());
        let target =
            target(field("category").as_deref(), field("product").as_deref(), field("service").as_deref())?;
        let condition = match &doc["detection"]["condition"] {
            Yaml::String(c) => c.clone(),
            Yaml::Array(list) if list.len() == 1 => text(&list[0]).unwrap_or_default(),
            Yaml::Array(_) => return Err(Unsupported::Condition("several conditions".into())),
            _ => return Err(Unsupported::Malformed("no condition".into())),
        };
        let mut names = Vec::new();
        let mut searches = Vec::new();
        for (k, v) in detection {
            let name = text(k).unwrap_or_default();
            if name == "condition" || name == "timeframe" {
                continue;
            }
            searches.push(search(v)?);
            names.push(name);
        }
        let condition = Condition::parse(&condition, &names)?;
        if matches!(target, Target::Web | Target::Ftp)
            && let Some(fields) = needs_unread_web_fields(&searches, &condition)
        {
            return Err(Unsupported::Field(fields));
        }
        // A rule without a level is read as medium; one whose level is no
        // level Sigma names is refused, not read as some other.
        let level = match text(&doc["level"]) {
            None => Level::Medium,
            Some(l) => Level::from_name(&l).ok_or_else(|| {
                Unsupported::Malformed(format!(
                    "level `{l}` is none of informational, low, medium, high, critical"
                ))
            })?,
        };
        Ok(Rule {
            meta: Meta {
                id: text(&doc["id"]).unwrap_or_else(|| title.clone()),
                title,
                author: text(&doc["author"]),
                level,
                status: text(&doc["status"]),
                license: text(&doc["license"]),
                techniques: techniques(&doc["tags"]),
                origin: origin.to_string_lossy().into_owned(),
            },
            name: text(&doc["name"]),
            target,
            names,
            searches,
            condition,
            fields_of_interest: doc["fields"]
                .as_vec()
                .map(|v| v.iter().filter_map(text).filter(|f| !f.trim().is_empty()).collect())
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    /// A field a matching alternative tests is tested positively; one only
    /// a filter reads (under `not`) is not, nor one no search names.
    #[test]
    fn fields_a_filter_alone_reads_are_not_tested_positively() {
        let mut loaded = crate::LoadReport::default();
        loaded.add_text(
            "title: t\nlogsource: {category: webserver}\ndetection:\n    selection:\n        - cs-uri-query|contains: 'jndi'\n        - c-useragent|contains: 'jndi'\n    filter:\n        sc-status: 404\n    condition: selection and not filter\n",
            std::path::Path::new("rules.yml"),
        );
        let rules = loaded.finish().rules;
        let rule = &rules[0];
        assert!(rule.tests_field_positively("cs-uri-query"));
        assert!(rule.tests_field_positively("c-useragent"));
        assert!(!rule.tests_field_positively("sc-status"));
        assert!(!rule.tests_field_positively("cs-referer"));
    }
}
