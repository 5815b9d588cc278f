//! `faultline export`: the tables written as files, partitioned by host and
//! day in Hive layout (`requests/host=WEB01/date=2025-11-24/part-00003-0000.parquet`),
//! so that DuckDB, Spark or Trino read a whole fleet's evidence as one table.
//!
//! Source files are read in batches of consecutive files (up to 64 MiB of
//! input, or one larger file), and each batch is converted and written on
//! its own, in parts of about a million rows (whole chunks, in order), one
//! file per part and partition. Memory stays at a batch's
//! rows, a folder of many small traces makes a few parts rather than one per
//! file, and since batches depend only on the input, the output never
//! depends on the thread count.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use faultline_parser::{ReadConfig, Timestamp};
use polars::prelude::*;

use faultline_analyzer::hunting::Hunt;
use faultline_analyzer::pass::{self, Progress, Reading};
use faultline_analyzer::scope::Scope;

use crate::{
    Chunks, Columns, Finish, Hunted, Projection, Rows, TableError, TableName, concluded, lens,
    with_text_times,
};

/// File format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Apache Parquet (zstd-compressed columns).
    Parquet,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl ExportFormat {
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson => "ndjson",
        }
    }
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportSummary {
    /// How the read went.
    pub reading: Reading,
    /// Rows written per table.
    pub rows: BTreeMap<TableName, usize>,
    /// Files written.
    pub files: usize,
}

/// The Hive partition value for a text: kept when it is plainly safe as a
/// folder name, else percent-encoded (a host name comes from the evidence,
/// and evidence can be hostile: `..`, `/`, control characters).
fn partition_value(v: &str) -> String {
    if v.is_empty() {
        return "__HIVE_DEFAULT_PARTITION__".into();
    }
    let mut out = String::with_capacity(v.len());
    for (i, b) in v.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if plain {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `YYYY-MM-DD` (UTC) of a timestamp column value in microseconds.
fn day(micros: Option<i64>) -> String {
    match micros {
        Some(us) => Timestamp(us.saturating_mul(1_000)).to_rfc3339().chars().take(10).collect(),
        None => "__HIVE_DEFAULT_PARTITION__".into(),
    }
}

/// Row positions of one frame grouped by (host, day), in key order.
fn partitions(frame: &DataFrame) -> PolarsResult<BTreeMap<(String, String), Vec<IdxSize>>> {
    let hosts = frame.column("host_name")?.str()?;
    let times = frame.column("timestamp")?.datetime()?.physical();
    let mut out: BTreeMap<(String, String), Vec<IdxSize>> = BTreeMap::new();
    for (i, (host, time)) in hosts.iter().zip(times.iter()).enumerate() {
        let key = (partition_value(host.unwrap_or("")), day(time));
        out.entry(key).or_default().push(i as IdxSize);
    }
    Ok(out)
}

/// Rows per part file, at most about this many (a chunk is never split).
const PART_ROWS: usize = 1 << 20;

/// The file name stem of a batch's part.
fn rows_name(batch: usize, part: usize) -> String {
    format!("part-{batch:05}-{part:04}")
}

/// Writes one group of rows, one file per table and partition.
fn write_rows(
    dir: &Path,
    format: ExportFormat,
    name: &str,
    rows: Rows,
    summary: &mut ExportSummary,
) -> Result<(), TableError> {
    let counts = rows.counts();
    for ((table, frame), count) in TableName::ALL.into_iter().zip(rows.finish(ALL)?).zip(counts) {
        if count == 0 {
            continue;
        }
        *summary.rows.entry(table).or_default() += count;
        let parts = partitions(&frame)?;
        let whole = parts.len() == 1;
        for ((host, date), rows) in parts {
            // One partition is the whole frame: written as it is, not copied.
            let mut part =
                if whole { frame.clone() } else { frame.take(&IdxCa::from_vec("rows".into(), rows))? };
            let path = dir
                .join(table.name())
                .join(format!("host={host}"))
                .join(format!("date={date}"))
                .join(format!("{name}.{}", format.extension()));
            write_part(&path, &mut part, format)?;
            summary.files += 1;
        }
    }
    Ok(())
}

/// Writes one part from a thread of its own. The read's groups run on a
/// rayon pool, and polars' writers run their work on polars' pool: asked
/// from a worker of the read's pool, that worker waits by taking on the
/// next group, which reaches polars and waits the same way, so about
/// thirty groups nested on one stack overflowed it, each holding its rows.
/// A plain thread waits without taking work.
fn write_part(path: &Path, frame: &mut DataFrame, format: ExportFormat) -> Result<(), TableError> {
    std::thread::scope(|s| {
        s.spawn(|| write_part_here(path, frame, format))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn write_part_here(path: &Path, frame: &mut DataFrame, format: ExportFormat) -> Result<(), TableError> {
    let io = |source| TableError::Io { path: path.to_path_buf(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let file = BufWriter::new(File::create(path).map_err(io)?);
    match format {
        ExportFormat::Parquet => {
            ParquetWriter::new(file).finish(frame)?;
        }
        ExportFormat::Csv => CsvWriter::new(file)
            .include_header(true)
            .finish(&mut crate::spreadsheet::inert_text(with_text_times(frame)?)?)?,
        ExportFormat::Ndjson => JsonWriter::new(file)
            .with_json_format(JsonFormat::JsonLines)
            .finish(&mut with_text_times(frame)?)?,
    }
    Ok(())
}

/// Each group of files written as soon as it is read.
struct Write<'a> {
    dir: &'a Path,
    format: ExportFormat,
}

impl Finish for Write<'_> {
    type Output = ExportSummary;
    type Error = TableError;

    /// Consecutive chunks joined up to a part's worth of rows: a large file
    /// is written part by part, its chunks freed as they go.
    fn finish(&self, index: usize, part: Chunks) -> Result<ExportSummary, TableError> {
        let mut summary = ExportSummary::default();
        let mut group = Vec::new();
        let (mut group_rows, mut number) = (0, 0);
        let mut chunks = part.rows.into_iter().peekable();
        while let Some(chunk) = chunks.next() {
            group_rows += chunk.counts().iter().sum::<usize>();
            group.push(chunk);
            if group_rows >= PART_ROWS || chunks.peek().is_none() {
                let rows = Rows::join(std::mem::take(&mut group));
                write_rows(self.dir, self.format, &rows_name(index, number), rows, &mut summary)?;
                (group_rows, number) = (0, number + 1);
            }
        }
        Ok(summary)
    }
}

/// Every column of every table.
const ALL: &Projection = &Projection::ALL;

/// Reads `paths` and writes every table under `dir` (which must be new or
/// empty) in `format`; `detections` holds what `hunt`'s rules find, written
/// once the whole read is concluded (correlations span files).
pub fn export(
    paths: &[PathBuf],
    read: &ReadConfig,
    scope: &Scope,
    hunt: &Hunt,
    dir: &Path,
    format: ExportFormat,
    progress: &dyn Progress,
) -> Result<ExportSummary, TableError> {
    let occupied = std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if occupied {
        return Err(TableError::NotEmpty(dir.to_path_buf()));
    }
    std::fs::create_dir_all(dir).map_err(|source| TableError::Io { path: dir.to_path_buf(), source })?;
    let none = Hunt::none();
    let clients = hunt;
    let hunt = lens(ALL, hunt, &none);
    let write = Columns { scope, projection: ALL, hunt, clients, finish: Write { dir, format } };
    let pass = pass::run(paths, &hunt.reading(read), &scope.hosts, &write, progress)?;
    progress.phase("finishing the export");
    let (summaries, hunted): (Vec<ExportSummary>, Vec<Hunted>) = pass.outputs.into_iter().unzip();
    let mut total = ExportSummary { reading: pass.reading, ..ExportSummary::default() };
    // The detections come after every batch, as the batch numbered next.
    let detections = concluded(ALL, hunt, hunted);
    write_rows(dir, format, &rows_name(summaries.len(), 0), detections, &mut total)?;
    for s in summaries {
        total.files += s.files;
        for (t, n) in s.rows {
            *total.rows.entry(t).or_default() += n;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_cannot_leave_their_folder() {
        assert_eq!(partition_value("WEB01"), "WEB01");
        assert_eq!(partition_value("web-01.contoso"), "web-01.contoso");
        assert_eq!(partition_value(".."), "%2E.");
        assert_eq!(partition_value("a/b\\c"), "a%2Fb%5Cc");
        assert_eq!(partition_value("x\u{1b}[31m"), "x%1B%5B31m");
        assert_eq!(partition_value(""), "__HIVE_DEFAULT_PARTITION__");
    }

    #[test]
    fn days_are_utc_calendar_dates() {
        assert_eq!(day(Some(1_764_028_799_000_000)), "2025-11-24");
        assert_eq!(day(Some(1_764_028_800_000_000)), "2025-11-25");
        assert_eq!(day(None), "__HIVE_DEFAULT_PARTITION__");
    }
}
