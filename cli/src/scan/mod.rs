//! `faultline scan`: the evidence inventory, as text, JSON or Markdown.

mod json;
mod markdown;
pub(crate) mod text;

use std::io::Write;

use faultline_analyzer::inventory::scan;
use faultline_parser::{ReadConfig, TextConfig};

use crate::args::{GlobalArgs, ScanArgs, ScanFormat};
use crate::config::{host_overrides, output, read_config, warn_unused_hosts};
use crate::exit::Exit;
use crate::progress::Bar;
use crate::style::Palette;
use crate::unreadable::report_unreadable;

pub fn run(global: &GlobalArgs, args: &ScanArgs) -> anyhow::Result<Exit> {
    let config = ReadConfig {
        text: TextConfig { chunk_size: args.chunk_size.max(1) * 1024 },
        ..read_config(&args.reading)
    };
    let bar = Bar::new(global.quiet);
    let hosts = host_overrides(&args.reading);
    let inventory = scan(&args.paths, &config, &hosts, &bar);
    bar.finish();
    warn_unused_hosts(&hosts);

    let mut out = output(global.output.as_ref())?;
    match args.format {
        ScanFormat::Json => json::write(&mut out, &inventory)?,
        ScanFormat::Markdown => markdown::write(&mut out, &inventory)?,
        ScanFormat::Text => {
            let palette = Palette::detect(global.quiet, global.output.is_none());
            text::write(&mut out, &inventory, &palette, args.max_diagnostics)?;
        }
    }
    out.flush()?;
    Ok(report_unreadable(&inventory)?.unwrap_or(Exit::Ok))
}
