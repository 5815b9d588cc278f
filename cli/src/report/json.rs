//! JSON output. The shapes are a public contract: fields are only ever added.

use std::io::Write;

use faultline_analyzer::Inventory;

/// `faultline scan --format json`: an array with one object per file.
pub fn write_scan(out: &mut dyn Write, inventory: &Inventory) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &inventory.files)?;
    writeln!(out)?;
    Ok(())
}
