//! `faultline scan --format json`: an array with one object per file. The
//! shape is a public contract (docs/json.md): fields are only ever added.

use std::io::Write;

use faultline_analyzer::Inventory;

/// Writes the inventory.
pub fn write(out: &mut dyn Write, inventory: &Inventory) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &inventory.files)?;
    writeln!(out)?;
    Ok(())
}
