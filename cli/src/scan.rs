//! `faultline scan`: the evidence inventory.

use std::io::Write;

use faultline_analyzer::inventory::scan;
use faultline_parser::{ArchiveLimits, ReadConfig, TextConfig};

use crate::analyze::{output, report_unreadable};
use crate::args::{GlobalArgs, OutputFormat, ScanArgs};
use crate::exit::Exit;
use crate::progress::Bar;
use crate::report;
use crate::style::Palette;

pub fn run(global: &GlobalArgs, args: &ScanArgs) -> anyhow::Result<Exit> {
    let config = ReadConfig {
        text: TextConfig { chunk_size: args.chunk_size.max(1) * 1024 },
        limits: ArchiveLimits { max_member_bytes: args.max_member_size << 20, ..ArchiveLimits::default() },
        all_events: args.all_events,
    };
    global.format.require("scan", &[OutputFormat::Text, OutputFormat::Json, OutputFormat::Markdown])?;
    let bar = Bar::new(global.quiet);
    let inventory = scan(&args.paths, &config, &bar);
    bar.finish();

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
