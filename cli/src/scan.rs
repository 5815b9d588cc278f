//! `faultline scan`: the evidence inventory.

use std::io::Write;

use faultline_analyzer::{Inventory, Tally, summarize, summarize_problem};
use faultline_parser::{ArchiveLimits, ReadConfig, TextConfig, discover, read_entry};
use rayon::prelude::*;

use crate::analyze::{output, report_unreadable};
use crate::args::{GlobalArgs, OutputFormat, ScanArgs};
use crate::exit::Exit;
use crate::progress::bytes_bar;
use crate::report;
use crate::style::Palette;

/// Reads every input and builds the inventory.
pub fn inventory(paths: &[std::path::PathBuf], config: &ReadConfig, quiet: bool) -> Inventory {
    let found = discover(paths, &config.limits);
    let total: u64 = found.entries.iter().map(|e| e.size).sum();
    let bar = bytes_bar(total, quiet);
    let progress = |n: u64| bar.inc(n);
    let mut files: Vec<_> = found
        .entries
        .par_iter()
        .map(|entry| {
            let Ok(outcome) = read_entry(entry, config, &progress, |_| Tally::default());
            summarize(entry, outcome)
        })
        .collect();
    bar.finish_and_clear();
    files.extend(found.problems.iter().map(summarize_problem));
    Inventory { files }
}

pub fn run(global: &GlobalArgs, args: &ScanArgs) -> anyhow::Result<Exit> {
    let config = ReadConfig {
        text: TextConfig { chunk_size: args.chunk_size.max(1) * 1024 },
        limits: ArchiveLimits { max_member_bytes: args.max_member_size << 20, ..ArchiveLimits::default() },
        all_events: args.all_events,
    };
    global.format.require("scan", &[OutputFormat::Text, OutputFormat::Json, OutputFormat::Markdown])?;
    let inventory = inventory(&args.paths, &config, global.quiet);

    let mut out = output(global)?;
    match global.format {
        OutputFormat::Json => report::json::write_scan(&mut out, &inventory)?,
        OutputFormat::Markdown => report::markdown::write_scan(&mut out, &inventory)?,
        OutputFormat::Text
        | OutputFormat::Csv
        | OutputFormat::Jsonl
        | OutputFormat::Html
        | OutputFormat::Parquet => {
            let palette = Palette::detect(global.quiet, global.output.is_none());
            report::text::write_scan(&mut out, &inventory, &palette, args.max_diagnostics)?;
        }
    }
    out.flush()?;
    Ok(report_unreadable(&inventory)?.unwrap_or(Exit::Ok))
}
