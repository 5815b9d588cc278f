//! `faultline-corpus`: writes generated evidence.

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
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::W3c { out, size_mib, seed, host } => {
            let file = File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            let spec = TrafficSpec {
                seed,
                host,
                site_id: 1,
                start: 1_763_942_400,
                target_bytes: size_mib << 20,
                peak_rate: 2000.0,
            };
            let rows = write_traffic(&spec, &mut w)?;
            std::io::Write::flush(&mut w)?;
            eprintln!("wrote {rows} rows to {}", out.display());
        }
    }
    Ok(())
}
