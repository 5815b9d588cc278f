//! The evidence-read table every report shows: per format, the files,
//! records and rejected records read, and the time span they cover.

use faultline_analyzer::Inventory;

use crate::config::Zone;

/// Columns of the evidence-read table, by format; the first three after the
/// format are counts.
pub(crate) const TOTALS_HEADER: [&str; 6] = ["Format", "Files", "Records", "Rejected", "First", "Last"];

/// Rows of the evidence-read table: one per format read.
pub(crate) fn totals_rows(inv: &Inventory, zone: &Zone) -> Vec<[String; 6]> {
    inv.totals()
        .into_iter()
        .map(|(format, t)| {
            [
                format.name().to_string(),
                t.files.to_string(),
                t.records.to_string(),
                t.rejected.to_string(),
                zone.time_or_dash(t.first),
                zone.time_or_dash(t.last),
            ]
        })
        .collect()
}
