//! `faultline-corpus`: writes generated evidence.

#![allow(clippy::print_stderr, clippy::print_stdout)] // a command-line tool: it reports what it wrote

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use faultline_corpus::layout::Layout;
use faultline_corpus::w3c::{TrafficSpec, write_traffic};

/// Seeded generator of IIS evidence with known content.
#[derive(Debug, Parser)]
#[command(name = "faultline-corpus", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A triage bundle around a planted incident, with its answer in truth.json.
    Generate {
        /// Scenario name (see `list`).
        #[arg(long)]
        scenario: String,
        /// Output folder (the bundle's root: one folder per host).
        #[arg(long)]
        out: PathBuf,
        /// Seed; the same seed gives the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Web servers (farm scenarios use at least two).
        #[arg(long, default_value_t = 1)]
        hosts: usize,
        /// Hours of evidence.
        #[arg(long, default_value_t = 6, conflicts_with = "days")]
        hours: u32,
        /// Days of evidence (instead of --hours).
        #[arg(long)]
        days: Option<u32>,
        /// Requests per second per site at the daily peak.
        #[arg(long, default_value_t = 0.5, conflicts_with = "size_mib")]
        rate: f64,
        /// Approximate size of the access logs in MiB (sets the rate).
        #[arg(long)]
        size_mib: Option<u64>,
        /// How the evidence is laid out: bundle, kape, kape-rootless,
        /// velociraptor, cylr or appservice.
        #[arg(long, default_value = "bundle")]
        layout: Layout,
    },
    /// The scenario names.
    List,
    /// A folder of FREB traces (`fr000001.xml`...): 500.19s, 500.0s from a
    /// managed module and slow requests (benchmarks and demos).
    Freb {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Number of traces.
        #[arg(long, default_value_t = 10_000)]
        count: u32,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// One W3C access log with the full IIS 10 field set (benchmarks).
    W3c {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Approximate size in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Host name.
        #[arg(long, default_value = "WEB01")]
        host: String,
        /// Site id (`s-sitename` W3SVC<id>).
        #[arg(long, default_value_t = 1)]
        site: u32,
        /// First timestamp, Unix seconds (UTC).
        #[arg(long, default_value_t = 1_763_942_400)]
        start: i64,
        /// Approximate size in KiB (overrides --size-mib when given).
        #[arg(long)]
        size_kib: Option<u64>,
        /// Requests per second at the daily peak.
        #[arg(long, default_value_t = 2000.0)]
        rate: f64,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate { scenario, out, seed, hosts, hours, days, rate, size_mib, layout } => {
            let hours = days.map_or(hours, |d| d * 24);
            let rate = size_mib
                .map_or(rate, |mib| faultline_corpus::scenario::rate_for_size(mib << 20, hosts, hours));
            let size = faultline_corpus::scenario::Size { hosts, hours, rate };
            let truth = faultline_corpus::scenario::generate_in(&scenario, &out, seed, &size, layout)
                .with_context(|| format!("cannot generate {scenario} into {}", out.display()))?;
            eprintln!(
                "wrote {scenario} to {} as {} (expected: {})",
                out.display(),
                layout.name(),
                truth.expected.join(", ")
            );
        }
        Command::List => {
            for s in faultline_corpus::scenario::SCENARIOS {
                println!("{}", s.name);
            }
        }
        Command::Freb { out, count, seed } => {
            std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
            let mut rng = faultline_corpus::rng::Rng::new(seed);
            for i in 1..=count {
                let kind = rng.below(3);
                let spec = faultline_corpus::freb::TraceSpec {
                    url: format!("https://shop.example.com:443/api/orders/{}", rng.below(50_000)),
                    site_id: 1,
                    app_pool: "ShopPool".into(),
                    process_id: 4000 + rng.below(900) as u32,
                    verb: "GET".into(),
                    client: (format!("203.0.113.{}", 1 + rng.below(250)), 49152 + rng.below(16000) as u16),
                    status: match kind {
                        0 => (500, 19),
                        1 => (500, 0),
                        _ => (200, 0),
                    },
                    time_taken_ms: if kind == 2 { 30_000 + rng.below(60_000) } else { 5 + rng.below(200) },
                    start_ms: 1_763_996_400_000 + i64::from(i) * 350,
                    error: match kind {
                        0 => Some(("IIS Web Core".into(), 1, "BEGIN_REQUEST".into(), 0x8007_000D)),
                        1 => Some(("ManagedPipelineHandler".into(), 128, "EXECUTE_REQUEST_HANDLER".into(), 0)),
                        _ => None,
                    },
                    config_exception: (kind == 0).then(|| {
                        "\\\\?\\C:\\inetpub\\shop\\web.config ( 12) :Unrecognized configuration section rewrite.".to_string()
                    }),
                    computer: "WEB01".into(),
                    activity_id: format!("{{80000{:03X}-0001-F700-B63F-84710C7967BB}}", i % 4096),
                    modules: Vec::new(),
                };
                std::fs::write(
                    out.join(format!("fr{i:06}.xml")),
                    faultline_corpus::freb::write_trace(&spec),
                )?;
            }
            eprintln!("wrote {count} traces to {}", out.display());
        }
        Command::W3c { out, size_mib, seed, host, site, start, size_kib, rate } => {
            let file = File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            let spec = TrafficSpec {
                seed,
                host,
                site_id: site,
                start,
                target_bytes: size_kib.map_or(size_mib << 20, |k| k << 10),
                peak_rate: rate,
            };
            let rows = write_traffic(&spec, &mut w)?;
            std::io::Write::flush(&mut w)?;
            eprintln!("wrote {rows} rows to {}", out.display());
        }
    }
    Ok(())
}
