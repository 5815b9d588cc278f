//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Root-cause analysis for IIS incidents, from exported W3C, HTTPERR, FREB
/// and Windows event logs.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags that mean the same on every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write the output to this file instead of standard output.
    #[arg(short, long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No progress bar and no colour.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Worker threads (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned tables for a terminal.
    Text,
    /// Machine-readable JSON (documented in docs/json.md).
    Json,
    /// Markdown for tickets, chat and post-incident reviews.
    Markdown,
    /// One self-contained HTML page with charts (`analyze`).
    Html,
    /// Comma-separated values (`timeline`; Timesketch columns).
    Csv,
    /// One JSON object per line (`timeline`, `query`, `export`).
    #[value(alias = "ndjson")]
    Jsonl,
    /// Apache Parquet files (`export`).
    Parquet,
}

impl OutputFormat {
    /// Refuses a format that `command` does not write (a usage error), naming
    /// the ones it does.
    pub fn require(self, command: &str, allowed: &[OutputFormat]) -> anyhow::Result<()> {
        if allowed.contains(&self) {
            return Ok(());
        }
        let name =
            |f: &OutputFormat| f.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
        let names: Vec<String> = allowed.iter().map(name).collect();
        anyhow::bail!("--format {}: `faultline {command}` writes {}", name(&self), names.join(", "))
    }
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
    /// SQL over the normalized tables `requests`, `httperr`, `traces` and
    /// `events` (polars SQL), or one of the classic IIS queries by name.
    Query(QueryArgs),
    /// Write the normalized tables as Parquet, CSV or JSON lines,
    /// partitioned by host and day in Hive layout, for DuckDB, Spark or Trino.
    Export(ExportArgs),
}

/// Arguments of `faultline query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Files, folders, .zip bundles or .gz files, in any mix.
    #[arg(required_unless_present = "list_queries", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The SQL to run (tables: requests, httperr, traces, events).
    #[arg(long, value_name = "SQL", conflicts_with_all = ["query", "list_queries"], required_unless_present_any = ["query", "list_queries"])]
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
    #[command(flatten)]
    pub reading: ReadingArgs,
}

/// Arguments of `faultline analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Exit with status 1 when a finding at or above this severity is found
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
}

/// Arguments of `faultline timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Only what the analysis keeps: failed, slow and cut-off requests,
    /// HTTP.sys errors, IIS-relevant events and FREB traces.
    #[arg(long)]
    pub notable: bool,
}

/// What to read and how, for the commands that analyze.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Files, folders, .zip bundles or .gz files, in any mix.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Show times in this zone: UTC, or a fixed offset such as +02:00.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,
    #[command(flatten)]
    pub reading: ReadingArgs,
}

/// The time range and clock corrections applied to the evidence.
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// Only evidence from this time on (RFC 3339, e.g. 2025-11-24T13:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only evidence before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Clock skew of a host, added to its times: HOST=SECONDS (repeatable).
    #[arg(long, value_name = "HOST=±SECONDS")]
    pub skew: Vec<String>,
}

/// How the evidence is read.
#[derive(Debug, Args)]
pub struct ReadingArgs {
    /// Keep every Windows event, not only the IIS-relevant catalogue.
    #[arg(long)]
    pub all_events: bool,
    /// Largest decompressed size accepted for one archive member, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub max_member_size: u64,
}

/// Arguments of `faultline scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, folders, .zip bundles or .gz files, in any mix.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Largest decompressed size accepted for one archive member, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub max_member_size: u64,
    /// Target chunk size, in KiB, for splitting one large file across threads.
    #[arg(long, value_name = "KIB", default_value_t = 8192, hide = true)]
    pub chunk_size: usize,
    /// Keep every Windows event, not only the IIS-relevant catalogue (others
    /// are counted per channel, provider and event id either way).
    #[arg(long)]
    pub all_events: bool,
    /// Diagnostics listed per file in text output (all are counted).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_diagnostics: usize,
}
