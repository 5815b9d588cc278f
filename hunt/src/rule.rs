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
    /// A modifier faultline does not implement (`base64offset`, `utf16le`...).
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
}

/// Which records a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Web server access: W3C rows (and HTTP.sys error rows where the
    /// fields exist).
    Web,
    /// Windows events of these channels (lower-case) and ids (`None`: any),
    /// any of the pairs; an empty list: every event.
    Events(Vec<(String, Option<u16>)>),
}

/// Sysmon's channel.
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// PowerShell's own channel (module and script block logging).
const POWERSHELL: &str = "Microsoft-Windows-PowerShell/Operational";

/// The evidence a `logsource` stands for.
fn target(
    category: Option<&str>,
    product: Option<&str>,
    service: Option<&str>,
) -> Result<Target, Unsupported> {
    let describe =
        || format!("{}/{}/{}", product.unwrap_or("-"), category.unwrap_or("-"), service.unwrap_or("-"));
    if category == Some("webserver") {
        return Ok(Target::Web);
    }
    if product != Some("windows") {
        return Err(Unsupported::LogSource(describe()));
    }
    let channel = |c: &str, id: Option<u16>| (c.to_ascii_lowercase(), id);
    // Sysmon's event ids for the categories of SigmaHQ's taxonomy; the
    // rules name Sysmon's own fields (`Image`, `TargetFilename`,
    // `DestinationPort`...), which the events carry as they are.
    let sysmon = |ids: &[u16]| ids.iter().map(|&id| channel(SYSMON, Some(id))).collect::<Vec<_>>();
    let pairs = match (category, service) {
        (Some("process_creation"), _) => vec![channel(SYSMON, Some(1)), channel("Security", Some(4688))],
        (Some("file_change"), _) => sysmon(&[2]),
        (Some("network_connection"), _) => sysmon(&[3]),
        (Some("sysmon_status"), _) => sysmon(&[4, 16]),
        (Some("process_termination"), _) => sysmon(&[5]),
        (Some("driver_load"), _) => sysmon(&[6]),
        (Some("image_load"), _) => sysmon(&[7]),
        (Some("create_remote_thread"), _) => sysmon(&[8]),
        (Some("raw_access_thread"), _) => sysmon(&[9]),
        (Some("process_access"), _) => sysmon(&[10]),
        (Some("file_event"), _) => sysmon(&[11]),
        (Some("registry_add" | "registry_delete"), _) => sysmon(&[12]),
        (Some("registry_set"), _) => sysmon(&[13]),
        (Some("registry_rename"), _) => sysmon(&[14]),
        (Some("registry_event"), _) => sysmon(&[12, 13, 14]),
        (Some("create_stream_hash"), _) => sysmon(&[15]),
        (Some("pipe_created"), _) => sysmon(&[17, 18]),
        (Some("wmi_event"), _) => sysmon(&[19, 20, 21]),
        (Some("dns_query"), _) => sysmon(&[22]),
        (Some("file_delete"), _) => sysmon(&[23, 26]),
        (Some("clipboard_capture"), _) => sysmon(&[24]),
        (Some("process_tampering"), _) => sysmon(&[25]),
        (Some("file_executable_detected"), _) => sysmon(&[29]),
        (Some("ps_module"), _) => vec![channel(POWERSHELL, Some(4103))],
        (Some("ps_script"), _) => vec![channel(POWERSHELL, Some(4104))],
        (None, Some("security")) => vec![channel("Security", None)],
        (None, Some("system")) => vec![channel("System", None)],
        (None, Some("application")) => vec![channel("Application", None)],
        (None, Some("iis-configuration")) => vec![channel("Microsoft-IIS-Configuration/Operational", None)],
        (None, Some("sysmon")) => vec![channel(SYSMON, None)],
        (None, Some("powershell")) => vec![channel(POWERSHELL, None)],
        (None, None) => Vec::new(),
        _ => return Err(Unsupported::LogSource(describe())),
    };
    Ok(Target::Events(pairs))
}

/// One field's test in a selection.
#[derive(Debug, Clone)]
pub struct FieldTest {
    /// Lower-case field name.
    pub field: String,
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

fn field_test(key: &str, v: &Yaml) -> Result<FieldTest, Unsupported> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let field = crate::record::canonical_field(&field).to_string();
    let mods = Modifiers::parse(parts)?;
    Ok(FieldTest { field, cased: mods.cased(), all: mods.all, patterns: patterns(mods, v)? })
}

/// The patterns of one value or a list of values.
fn patterns(mods: Modifiers, v: &Yaml) -> Result<Vec<Pattern>, Unsupported> {
    let values: Vec<&Yaml> = match v {
        Yaml::Array(list) => list.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for v in values {
        out.extend(mods.compile(&value(v)?)?);
    }
    Ok(out)
}

/// [`patterns`] as keyword searches read them ([`Pattern::for_keywords`]).
fn keyword_patterns(mods: Modifiers, v: &Yaml) -> Result<Vec<Pattern>, Unsupported> {
    Ok(patterns(mods, v)?.into_iter().map(Pattern::for_keywords).collect())
}

fn selection(map: &yaml_rust2::yaml::Hash) -> Result<Vec<FieldTest>, Unsupported> {
    map.iter()
        .map(|(k, v)| {
            let key = text(k).ok_or_else(|| Unsupported::Malformed("a field name is not text".into()))?;
            field_test(&key, v)
        })
        .collect()
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
            let mods = Modifiers::parse(std::iter::once("contains").chain(key.split('|').skip(1)))?;
            if mods.cased() {
                // Keyword text is compared lower-cased.
                return Err(Unsupported::Modifier(format!("{key} on keywords")));
            }
            Ok(Search::Keywords { patterns: keyword_patterns(mods, values)?, all: mods.all })
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

    /// The fields its selections name (keyword searches name none).
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.searches
            .iter()
            .filter_map(|s| match s {
                Search::Selections(maps) => Some(maps),
                Search::Keywords { .. } => None,
            })
            .flatten()
            .flatten()
            .map(|t| t.field.as_str())
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
        let level = text(&doc["level"]).and_then(|l| Level::from_name(&l)).unwrap_or(Level::Medium);
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
        })
    }
}
