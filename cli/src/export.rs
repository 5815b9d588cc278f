//! `faultline export`: the normalized tables as Hive-partitioned files.

use std::io::Write;

use anyhow::Context;
use faultline_analyzer::Scope;
use faultline_tables::{TableName, export};

use crate::args::{ExportArgs, ExportFormat, GlobalArgs};
use crate::config::{host_overrides, output, read_config};
use crate::exit::Exit;
use crate::progress::Bar;
use crate::unreadable::report_reading;

pub fn run(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<Exit> {
    let format = match args.format {
        ExportFormat::Parquet => faultline_tables::ExportFormat::Parquet,
        ExportFormat::Csv => faultline_tables::ExportFormat::Csv,
        ExportFormat::Jsonl => faultline_tables::ExportFormat::Ndjson,
    };
    let read = read_config(&args.reading);
    let hunt = args.lens.hunt()?;
    let bar = Bar::new(global.quiet);
    let summary = export(
        &args.paths,
        &read,
        &Scope { hosts: host_overrides(&args.reading), ..Scope::default() },
        &hunt,
        &args.dir,
        format,
        &bar,
    )
    .with_context(|| format!("exporting to {}", args.dir.display()))?;
    bar.finish();
    let mut out = output(global.output.as_ref())?;
    for table in TableName::ALL {
        let rows = summary.rows.get(&table).copied().unwrap_or(0);
        writeln!(out, "{:<10} {rows} rows", table.name())?;
    }
    writeln!(
        out,
        "{} files written under {} from {} sources ({} records rejected; `faultline scan` says why)",
        summary.files,
        args.dir.display(),
        summary.reading.parsed,
        summary.reading.rejected
    )?;
    out.flush()?;
    Ok(report_reading(&summary.reading)?.unwrap_or(Exit::Ok))
}
