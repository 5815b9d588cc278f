//! Command-line arguments, as clap parses them; every flag with a meaning
//! beyond text is parsed here into its type (see config.rs). Each command
//! has its own `--format`, naming only what that command writes.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use faultline_analyzer::FindingSeverity;
use faultline_hunt::Level;
use faultline_parser::Timestamp;

use crate::config::{
    HostPath, HostSkew, Zone, parse_host_path, parse_severity, parse_skew, parse_time, parse_zone,
};

/// Root-cause analysis for IIS incidents, from exported W3C, HTTPERR, FREB
/// and Windows event logs.
#[derive(Debug, Parser)]
#[command(name = "faultline", version = env!("FAULTLINE_VERSION"), about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags that mean the same on every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Write the output to this file instead of standard output.
    #[arg(short, long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No progress bar and no colour.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Worker threads (default: one per core; 1 to 1024).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inventory the evidence: one row per file with its format, host, site,
    /// record and rejected counts and time range, then the diagnostics.
    Scan(ScanArgs),
    /// Root-cause analysis: what broke, when, where and why, with the
    /// evidence for every claim, most important finding first.
    Analyze(AnalyzeArgs),
    /// The super-timeline: every record from every host and source (or with
    /// --notable the failed, slow and cut-off requests, HTTP.sys errors,
    /// IIS-relevant events and FREB traces), merged in time order, as CSV or
    /// JSON lines ready for Timesketch.
    Timeline(TimelineArgs),
    /// SQL over the normalized tables `requests`, `ftp`, `httperr`,
    /// `traces`, `events` and `detections` (polars SQL), or one of the
    /// classic IIS queries by name.
    Query(QueryArgs),
    /// Write the normalized tables as Parquet, CSV or JSON lines,
    /// partitioned by host and day in Hive layout, for DuckDB, Spark or Trino.
    Export(ExportArgs),
    /// The security lens: Sigma rules (the bundled pack and your own) over
    /// the W3C, HTTP.sys and Windows event records, detections grouped by
    /// level and rule.
    Hunt(HuntArgs),
    /// A shell completion script (bash, zsh, fish, powershell, elvish) on
    /// standard output: `faultline completions bash > /etc/bash_completion.d/faultline`.
    Completions(CompletionsArgs),
    /// The manual page (roff) on standard output: `faultline man > faultline.1`.
    Man,
}

impl Command {
    /// The time range the command was given, if it takes one.
    pub fn range(&self) -> Option<&RangeArgs> {
        match self {
            Command::Analyze(a) => Some(&a.evidence.range),
            Command::Timeline(a) => Some(&a.evidence.range),
            Command::Query(a) => Some(&a.range),
            Command::Hunt(a) => Some(&a.range),
            Command::Scan(_) | Command::Export(_) | Command::Completions(_) | Command::Man => None,
        }
    }
}

/// `faultline completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// What `faultline hunt` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    /// Detections grouped by level and rule, for a terminal.
    Text,
    /// An object with the load report and every detection (docs/json.md).
    Json,
    /// One detection per line.
    #[value(alias = "ndjson")]
    Jsonl,
    /// One detection per row.
    Csv,
    /// A table per level for tickets and reviews.
    Markdown,
}

/// Which rules a hunt runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulePack {
    /// Only the folders given with --rules.
    Off,
    /// The project's bundled pack (and any --rules).
    Bundled,
}

/// Who a web request came from, for the security lens (`hunt` and every
/// command that runs the lens).
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Requests from this network are never detections, e.g. an authorised
    /// scanner (CIDR or one address; repeatable).
    #[arg(long, value_name = "CIDR", value_parser = parse_network)]
    pub allow_client: Vec<(std::net::IpAddr, u8)>,
    /// The proxies in front of IIS (load balancer, ARR, gateway; CIDR or one
    /// address; repeatable): a row from one is read as from the client its
    /// X-Forwarded-For names past them. Without it, a private c-ip is taken
    /// for one proxy and the header's right-most entry for the client.
    #[arg(long, value_name = "CIDR", value_parser = parse_network)]
    pub trusted_proxy: Vec<(std::net::IpAddr, u8)>,
}

/// Arguments of `faultline hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Files, folders, .zip bundles or .gz files, in any mix (needed unless
    /// --list-rules or --show-mapping is given).
    #[arg(required_unless_present_any = ["list_rules", "show_mapping"], value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A folder (or file) of Sigma rules, e.g. a SigmaHQ checkout's rules/
    /// (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// The bundled pack on or off.
    #[arg(long, value_enum, default_value_t = RulePack::Bundled)]
    pub pack: RulePack,
    /// Also load rules under deprecated/ and unsupported/ folders.
    #[arg(long)]
    pub with_deprecated: bool,
    #[command(flatten)]
    pub clients: ClientArgs,
    /// Only detections at or above this level (informational, low, medium,
    /// high, critical).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level, default_value = "informational")]
    pub min_level: Level,
    /// Exit with status 1 when a detection at or above this level is found
    /// (shown or not: `--min-level` only chooses what is printed).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub fail_on: Option<Level>,
    /// List the rules that load (and, with --verbose, those skipped and why).
    #[arg(long)]
    pub list_rules: bool,
    /// Print how rule fields read IIS's records (W3C and HTTP.sys rows, FREB
    /// traces, ASP.NET request events) and which Windows events each log
    /// source reads, then exit.
    #[arg(long)]
    pub show_mapping: bool,
    /// Say why each skipped rule was skipped.
    #[arg(short, long)]
    pub verbose: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HuntFormat::Text)]
    pub format: HuntFormat,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Show times in this zone: UTC, a fixed offset such as +02:00 or
    /// -03:00, or a zone name such as Europe/Berlin.
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = parse_zone, allow_hyphen_values = true)]
    pub tz: Zone,
    #[command(flatten)]
    pub reading: ReadingArgs,
}

/// A network in CIDR notation.
fn parse_network(text: &str) -> Result<(std::net::IpAddr, u8), String> {
    faultline_hunt::pattern::parse_cidr(text)
        .ok_or_else(|| format!("expected an address or a network such as 10.0.0.0/8, got {text:?}"))
}

/// A rule level by name.
fn parse_level(text: &str) -> Result<Level, String> {
    Level::from_name(text)
        .ok_or_else(|| format!("unknown level {text:?} (informational, low, medium, high, critical)"))
}

/// What `faultline scan` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// Aligned tables for a terminal.
    Text,
    /// One object per file (documented in docs/json.md).
    Json,
    /// Markdown tables for tickets and reviews.
    Markdown,
}

/// What `faultline analyze` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// The findings for a terminal.
    Text,
    /// The JSON contract (docs/json.md).
    Json,
    /// A document for tickets, chat and post-incident reviews.
    Markdown,
    /// One self-contained page with charts.
    Html,
}

/// What `faultline timeline` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    /// Comma-separated values with Timesketch's columns.
    Csv,
    /// One JSON object per line (`json` and `ndjson` name it too: a timeline
    /// is a stream, never one array).
    #[value(alias = "json", alias = "ndjson")]
    Jsonl,
}

/// What `faultline query` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// An aligned table for a terminal.
    Text,
    /// A Markdown table.
    Markdown,
    /// Comma-separated values with a header row.
    Csv,
    /// An array of row objects.
    Json,
    /// One row object per line.
    #[value(alias = "ndjson")]
    Jsonl,
}

/// What `faultline export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet (zstd-compressed columns).
    Parquet,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    #[value(alias = "ndjson")]
    Jsonl,
}

/// Arguments of `faultline scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, folders, .zip bundles or .gz files, in any mix.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    #[command(flatten)]
    pub reading: ReadingArgs,
    /// Target chunk size, in KiB, for splitting one large file across threads.
    #[arg(long, value_name = "KIB", default_value_t = 8192, hide = true)]
    pub chunk_size: usize,
    /// Diagnostics listed per file in text output (all are counted).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_diagnostics: usize,
}

/// Arguments of `faultline analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Text)]
    pub format: AnalyzeFormat,
    /// Exit with status 1 when a finding at or above this severity is found
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<FindingSeverity>,
    #[command(flatten)]
    pub lens: LensArgs,
}

/// The security lens of the commands that read evidence for other ends
/// (`analyze`, `timeline`, `query`, `export`).
#[derive(Debug, Args)]
pub struct LensArgs {
    /// The security lens: off, the bundled pack, or all (the bundled pack,
    /// the --rules folders, and every Windows event read so that their
    /// rules can match).
    #[arg(long, value_enum, default_value_t = Security::Bundled)]
    pub security: Security,
    /// A folder (or file) of Sigma rules for --security all (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub clients: ClientArgs,
}

/// What the security lens of `analyze` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Security {
    /// No security lens.
    Off,
    /// The project's bundled pack over the catalogue's events and every
    /// access-log row.
    Bundled,
    /// The bundled pack and the --rules folders, over every event.
    All,
}

/// Arguments of `faultline timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TimelineFormat::Csv)]
    pub format: TimelineFormat,
    /// Only what the analysis keeps: failed, slow and cut-off requests,
    /// HTTP.sys errors, IIS-relevant events and FREB traces.
    #[arg(long)]
    pub notable: bool,
    /// Detections as rows of their own (`timestamp_desc` Detection).
    #[command(flatten)]
    pub lens: LensArgs,
}

/// Arguments of `faultline query`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["sql", "query", "list_queries"])))]
pub struct QueryArgs {
    /// Files, folders, .zip bundles or .gz files, in any mix.
    #[arg(required_unless_present = "list_queries", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Text)]
    pub format: QueryFormat,
    /// The SQL to run (tables: requests, ftp, httperr, traces, events,
    /// detections).
    #[arg(long, value_name = "SQL", conflicts_with_all = ["query", "list_queries"])]
    pub sql: Option<String>,
    /// A named query (see --list-queries).
    #[arg(long, value_name = "NAME", conflicts_with = "list_queries")]
    pub query: Option<String>,
    /// List the named queries and their SQL.
    #[arg(long)]
    pub list_queries: bool,
    #[command(flatten)]
    pub range: RangeArgs,
    #[command(flatten)]
    pub reading: ReadingArgs,
    /// The rules behind the `detections` table (hunted only when the SQL
    /// names it).
    #[command(flatten)]
    pub lens: LensArgs,
}

/// Arguments of `faultline export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Files, folders, .zip bundles or .gz files, in any mix.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The folder to write (new or empty): one subfolder per table.
    #[arg(long = "to", value_name = "DIR")]
    pub dir: PathBuf,
    /// File format of the tables.
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,
    #[command(flatten)]
    pub reading: ReadingArgs,
    /// The rules behind the `detections` table.
    #[command(flatten)]
    pub lens: LensArgs,
}

/// What to read and how, for the commands that analyze.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Files, folders, .zip bundles or .gz files, in any mix.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Show times in this zone: UTC, a fixed offset such as +02:00 or
    /// -03:00, or a zone name such as Europe/Berlin.
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = parse_zone, allow_hyphen_values = true)]
    pub tz: Zone,
    #[command(flatten)]
    pub reading: ReadingArgs,
}

/// The time range and clock corrections applied to the evidence.
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// Only evidence from this time on (RFC 3339, e.g. 2025-11-24T13:00:00Z;
    /// a time without an offset is UTC, whatever --tz says).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<Timestamp>,
    /// Only evidence before this time, which is left out (RFC 3339; a time
    /// without an offset is UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<Timestamp>,
    /// Clock skew of a host, added to its times: HOST=SECONDS (repeatable).
    #[arg(long, value_name = "HOST=±SECONDS", value_parser = parse_skew)]
    pub skew: Vec<HostSkew>,
}

/// How the evidence is read.
#[derive(Debug, Args)]
pub struct ReadingArgs {
    /// Keep every Windows event, not only the IIS-relevant catalogue (the
    /// others are counted per channel, provider and event id either way).
    #[arg(long)]
    pub all_events: bool,
    /// Largest decompressed size accepted for one archive member, in MiB
    /// (1 to 16777216, 16 TiB).
    #[arg(long, value_name = "MIB", default_value_t = 65536, value_parser = clap::value_parser!(u64).range(1..=1 << 24))]
    pub max_member_size: u64,
    /// The host of the evidence at or under PATH, whatever the evidence
    /// says (repeatable): e.g. --host WEB01=collection/
    #[arg(long = "host", value_name = "NAME=PATH", value_parser = parse_host_path)]
    pub hosts: Vec<HostPath>,
}
