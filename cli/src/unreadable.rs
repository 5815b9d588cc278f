//! What could not be read, on standard error: every command names the
//! inputs it could not read and why, reads the rest, and ends with status 2
//! when nothing readable was found.

use std::io::Write;

use faultline_analyzer::pass::Reading;
use faultline_analyzer::{FileStatus, Inventory};

use crate::exit::Exit;
use crate::style::sanitize;

const NOTHING_READABLE: &str = "error: none of the inputs holds IIS evidence faultline can read";

/// From an inventory (`scan`, `analyze`).
pub fn report_unreadable(inventory: &Inventory) -> anyhow::Result<Option<Exit>> {
    let mut err = std::io::stderr().lock();
    for f in inventory.files.iter().filter(|f| f.status == FileStatus::Failed) {
        if let Some(reason) = &f.reason {
            writeln!(err, "error: {}: {}", sanitize(&f.path), reason)?;
        }
    }
    if !inventory.has_evidence() {
        writeln!(err, "{NOTHING_READABLE}")?;
        return Ok(Some(Exit::Error));
    }
    Ok(None)
}

/// From a read without an inventory (`timeline`, `query`, `export`).
pub fn report_reading(reading: &Reading) -> anyhow::Result<Option<Exit>> {
    let mut err = std::io::stderr().lock();
    for (path, reason) in &reading.unreadable {
        writeln!(err, "error: {}: {}", sanitize(path), reason)?;
    }
    if reading.parsed == 0 {
        writeln!(err, "{NOTHING_READABLE}")?;
        return Ok(Some(Exit::Error));
    }
    Ok(None)
}
