//! `faultline-corpus`: writes generated evidence.

#![allow(clippy::print_stderr)] // the generator reports what it wrote

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
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
