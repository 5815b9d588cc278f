//! The W3C-framed text logs: IIS access logs (W3C extended, plus the IIS
//! native and NCSA formats) and HTTP.sys error logs.
//!
//! Files are split into line-aligned chunks that are parsed in parallel. A
//! cheap first pass counts lines and finds directive lines, so each chunk
//! starts knowing its line number and the `#Fields` layout in force there;
//! records and diagnostics are identical whatever the chunk size or thread
//! count.

pub mod layout;
mod native;
pub mod reason;
pub mod record;
mod row;

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use crate::Input;
use crate::diagnostic::{Diagnostic, Severity, excerpt};
use crate::framing::{BOM, Paging, count_lines, lines, plan_chunks};
pub use crate::sink::RecordSink;
use crate::time::{LONGEST_REQUEST_MS, NANOS_PER_SEC, parse_date_time};
pub use layout::{Column, Field, Layout, LayoutRef};
pub use reason::{Reason, ReasonKind};
pub use record::{CustomFields, HttpError, Origin, Request, TimeBasis, TimeDoubts};
use row::{BlockDate, Mapped, RowError, RowScratch, build_http_error, build_request, map_row};

/// Which grammar the rows of a text log follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// W3C extended access log (`#Fields` directives).
    W3c,
    /// HTTP.sys error log (W3C framing, its own fields).
    HttpErr,
    /// IIS native format: comma-separated, fixed fields, local time.
    IisNative,
    /// NCSA common log format.
    Ncsa,
}

/// Frozen settings for text parsing.
#[derive(Clone, Copy, Debug)]
pub struct TextConfig {
    /// Target chunk size in bytes for splitting one file across threads.
    pub chunk_size: usize,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig { chunk_size: 8 << 20 }
    }
}

/// Directive state in force at some point of a file.
#[derive(Clone, Debug, Default)]
struct BlockState {
    layout: Option<LayoutRef>,
    date: BlockDate,
    /// `#Software: IIS Advanced Logging Module`: values may be quoted.
    advanced: bool,
    /// The log the last `#Software` names, when it names one: an access
    /// log and an HTTP.sys log joined in one file (`cat`) are each read as
    /// what they are.
    software: Option<Dialect>,
    /// For layouts without a date column: midnights crossed since `#Date`.
    midnight: Midnight,
}

/// The last time of day seen in a `#Date` block and the number of
/// midnights crossed since its `#Date`.
#[derive(Debug, Clone, Default)]
struct Midnight {
    last_tod: Option<i64>,
    day_carry: i64,
}

impl BlockState {
    /// Whether the writer `#Software` names puts no space inside a value:
    /// IIS and HTTP.sys (IIS writes `+`), not its Advanced Logging module.
    fn escapes_spaces(&self) -> bool {
        self.software.is_some() && !self.advanced
    }

    /// Applies a directive line; returns a message when it is malformed.
    fn apply(&mut self, line: &[u8]) -> Option<String> {
        let body = &line[1..];
        let colon = memchr::memchr(b':', body);
        let (name, value) = match colon {
            Some(c) => (body[..c].trim_ascii(), &body[c + 1..]),
            None => (body.trim_ascii(), &b""[..]),
        };
        match name.to_ascii_lowercase().as_slice() {
            b"fields" => {
                let layout = Layout::parse(value, self.advanced);
                if layout.is_empty() {
                    return Some("#Fields directive lists no fields".into());
                }
                let repeated = layout.repeated();
                self.layout = Some(Arc::new(layout));
                // Every field listed twice, not only the first: a second
                // date and time decide every row's time.
                let said: Vec<String> = repeated
                    .iter()
                    .take(8)
                    .map(|(name, first, again)| {
                        format!("{} twice (columns {first} and {again})", excerpt(name.as_bytes(), 40))
                    })
                    .collect();
                let more = repeated.len().saturating_sub(8);
                if !said.is_empty() {
                    return Some(format!(
                        "#Fields lists {}{}: one of the two values is lost on every row",
                        said.join(", "),
                        if more > 0 { format!(" and {more} more") } else { String::new() }
                    ));
                }
            }
            b"date" | b"start-date" => match parse_date_time(value) {
                Some(t) => {
                    self.date.days = Some(t.0.div_euclid(86_400 * NANOS_PER_SEC));
                    self.midnight = Midnight::default();
                }
                None => return Some(format!("#Date: cannot read \"{}\"", excerpt(value.trim_ascii(), 40))),
            },
            b"software" => {
                self.advanced = memchr::memmem::find(value, b"Advanced Logging").is_some();
                let iis = memchr::memmem::find(value, b"Internet Information Services").is_some();
                let http_api = memchr::memmem::find(value, b"HTTP API").is_some();
                self.software = if http_api {
                    Some(Dialect::HttpErr)
                } else if iis || self.advanced {
                    Some(Dialect::W3c)
                } else {
                    None
                };
            }
            b"version" | b"remark" | b"end-date" => {}
            _ => return Some(format!("unknown directive \"#{}\"", excerpt(name, 40))),
        }
        None
    }
}

/// Whether a line is a directive (`#...`).
fn is_directive(text: &[u8]) -> bool {
    text.first() == Some(&b'#')
}

/// Whether a line is a `#Fields` directive.
fn is_fields_directive(text: &[u8]) -> bool {
    is_directive(text) && text.len() > 7 && text[1..7].eq_ignore_ascii_case(b"fields")
}

/// Strips a UTF-8 BOM; returns the offset where content starts.
fn content_start(data: &[u8]) -> usize {
    if data.starts_with(BOM) { BOM.len() } else { 0 }
}

/// First pass over one chunk: newline count and directive line ranges.
struct ChunkScan {
    newlines: u64,
    directives: Vec<Range<usize>>,
}

fn scan_chunk(data: &[u8], range: Range<usize>) -> ChunkScan {
    let chunk = &data[range.clone()];
    let mut directives = Vec::new();
    let mut push = |start: usize| {
        let end = memchr::memchr(b'\n', &data[start..range.end]).map_or(range.end, |p| start + p);
        directives.push(start..end);
    };
    // A `#` that starts a line, or ends a run of NULs that does (a crash's
    // padding, then the restarted server's header, as the chunk's reader
    // reads it): one search for `#`, which rows rarely hold.
    for p in memchr::memchr_iter(b'#', chunk) {
        let at = range.start + p;
        let line_start = at == range.start || data[at - 1] == b'\n';
        // Back over the NULs only (runs between two `#` are apart, so a
        // file of `\0#` repeated is read once, not once per `#`).
        let after_nuls = !line_start && data[at - 1] == 0 && {
            let from = at - data[..at].iter().rev().take_while(|&&b| b == 0).count();
            from <= content_start(data) || data[from - 1] == b'\n'
        };
        if line_start || after_nuls {
            push(at);
        }
    }
    ChunkScan { newlines: count_lines(chunk), directives }
}

/// Candidate layouts tried for rows that come before any `#Fields`.
fn default_candidates(dialect: Dialect) -> &'static [&'static [Field]] {
    match dialect {
        Dialect::HttpErr => layout::defaults::HTTPERR_CANDIDATES,
        _ => layout::defaults::W3C_CANDIDATES,
    }
}

/// Builds a record only to check that a row fits a layout.
fn row_fits(dialect: Dialect, layout: &Layout, values: &[&[u8]]) -> Result<(), RowError> {
    let mut custom = Vec::new();
    let block = BlockDate::default();
    match dialect {
        Dialect::HttpErr => {
            build_http_error(layout, values, &mut custom, block, Origin::default()).map(|_| ())
        }
        _ => build_request(layout, values, &mut custom, block, Origin::default()).map(|_| ()),
    }
}

/// For a file whose first rows come before any `#Fields`: the built-in
/// layout (with extra trailing columns kept as custom fields) that reads
/// the most of its first rows, if any reads at least one.
pub fn infer_layout(data: &[u8], dialect: Dialect) -> Option<Layout> {
    infer_layout_scored(data, dialect).map(|(_, l)| l)
}

fn infer_layout_scored(data: &[u8], dialect: Dialect) -> Option<(usize, Layout)> {
    // The rows before the first #Fields, past any other directive: a log
    // whose header lost its #Fields line (or never had one) still has
    // `#Software` and `#Date` above its rows.
    let rows: Vec<&[u8]> = lines(&data[content_start(data)..], 0)
        .map(|l| l.text)
        .take_while(|t| !is_fields_directive(t))
        .filter(|t| !is_directive(t) && !t.trim_ascii().is_empty())
        .take(32)
        .collect();
    let mut best: Option<(usize, Layout)> = None;
    for fields in default_candidates(dialect) {
        let base = Layout::from_fields(fields);
        let mut tokens = Vec::new();
        // Rows may carry custom fields after the standard ones (enhanced logging).
        let width = rows
            .iter()
            .filter_map(|r| row::tokenize(r, false, &mut tokens).ok().map(|()| tokens.len()))
            .max()
            .unwrap_or(0);
        let mut columns = base.columns.clone();
        let mut forwarded_named = false;
        for i in columns.len()..width {
            let name = if !forwarded_named && holds_forwarded_for(&rows, &base.columns, i) {
                forwarded_named = true;
                "X-Forwarded-For".to_string()
            } else {
                format!("x-field{}", i + 1)
            };
            columns.push(Column::Custom(name.into()));
        }
        let candidate = Layout::new(columns, false);
        let fits = rows
            .iter()
            .filter(|r| {
                let mut scratch = RowScratch::default();
                map_row(&candidate, r, &mut scratch, false, |v| row_fits(dialect, &candidate, v))
                    .and_then(|m| match m {
                        Mapped::Exact => row_fits(dialect, &candidate, &scratch.tokens),
                        Mapped::Repaired { .. } => Ok(()),
                    })
                    .is_ok()
            })
            .count();
        if fits > 0 && best.as_ref().is_none_or(|(n, _)| fits > *n) {
            best = Some((fits, candidate));
        }
    }
    best
}

/// Whether the `i`-th token of the rows (past the standard `columns`) is
/// the X-Forwarded-For header administrators add behind a load balancer:
/// in every row that has one a list of addresses (or `-`), none the row's
/// own `c-ip` or `s-ip`, in rows whose `c-ip` is internal (the balancer's),
/// one address at least public or a list. A log no `#Fields` names then
/// reads the client from it; another column of addresses (the server's
/// own, a port) keeps a made-up name.
fn holds_forwarded_for(rows: &[&[u8]], columns: &[Column], i: usize) -> bool {
    let at = |field: layout::Field| columns.iter().position(|c| *c == Column::Known(field));
    let (Some(client), server) = (at(layout::Field::ClientIp), at(layout::Field::ServerIp)) else {
        return false;
    };
    let mut tokens = Vec::new();
    let mut telling = false;
    for r in rows {
        if row::tokenize(r, false, &mut tokens).is_err() {
            continue;
        }
        let Some(&value) = tokens.get(i) else { continue };
        if value == b"-" {
            continue;
        }
        let peer =
            tokens.get(client).and_then(|c| std::str::from_utf8(c).ok()?.parse::<std::net::IpAddr>().ok());
        let own =
            |v: &[u8]| tokens.get(client) == Some(&v) || server.is_some_and(|s| tokens.get(s) == Some(&v));
        if !record::forwarded_list(value) || own(value) || !peer.is_some_and(record::is_internal) {
            return false;
        }
        telling |= value.contains(&b',') || !record::forwarded_list_internal(value);
    }
    telling
}

/// How many of a file's first header-less rows a built-in layout reads;
/// used to tell header-less access logs from header-less HTTPERR logs.
pub fn count_default_fits(data: &[u8], dialect: Dialect) -> usize {
    infer_layout_scored(data, dialect).map_or(0, |(n, _)| n)
}

pub(crate) use native::{looks_like_iis_native, looks_like_ncsa};

/// Reads a W3C-family file (access log, HTTPERR, IIS native, NCSA: the
/// dialect its format names) in parallel chunks, one sink per chunk.
pub fn read<S>(input: &Input<'_>, new_sink: &(dyn Fn() -> S + Sync)) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
    S::Error: Send,
{
    let dialect = input.format.dialect().unwrap_or(Dialect::W3c);
    parse_text(input.data, dialect, &input.config.text, input.pages, input.progress, new_sink)
}

/// Parses a whole W3C-family file. Returns one sink per chunk, in source
/// order; file-level diagnostics go to the first. `pages` is told which byte
/// ranges are about to be read and which are done (to map and drop file
/// pages), and `progress` gets the number of bytes just finished. A sink's
/// error stops the read; the first in file order is returned.
pub fn parse_text<S, F>(
    data: &[u8],
    dialect: Dialect,
    config: &TextConfig,
    pages: &dyn Paging,
    progress: &(dyn Fn(u64) + Sync),
    new_sink: F,
) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
    S::Error: Send,
    F: Fn() -> S + Sync,
{
    let start = content_start(data);
    let ranges: Vec<Range<usize>> = plan_chunks(&data[start..], config.chunk_size)
        .into_iter()
        .map(|r| r.start + start..r.end + start)
        .collect();
    if ranges.is_empty() {
        return Ok(vec![new_sink()]);
    }

    let mut file_notes = Vec::new();
    let mut state = BlockState::default();
    let before_fields = if matches!(dialect, Dialect::W3c | Dialect::HttpErr) {
        rows_before_fields(data, start)
    } else {
        None
    };
    if let Some((first, last)) = before_fields {
        let lines = match last {
            Some(last) if last == first => format!("line {first}"),
            Some(last) => format!("lines {first}-{last}"),
            None => format!("from line {first}"),
        };
        match infer_layout(data, dialect) {
            Some(layout) => {
                file_notes.push(Diagnostic::file(
                    Severity::Warning,
                    format!(
                        "rows before the first #Fields directive ({lines}) were read with the default layout: {}",
                        layout.describe()
                    ),
                ));
                state.layout = Some(Arc::new(layout));
            }
            None => file_notes.push(Diagnostic::file(
                Severity::Warning,
                format!("rows before the first #Fields directive ({lines}) match no default layout"),
            )),
        }
    }

    // Chunks go in batches of a few per thread: a first pass over a batch
    // counts lines and finds directives, a short sequential step gives each
    // chunk its first line number and the directive state in force, then the
    // batch is parsed in parallel. Pages are mapped once per batch and
    // dropped after it, so memory stays flat whatever the file size.
    let batch_len = rayon::current_num_threads().max(1) * 4;
    let mut line_base = 1u64;
    // Whether some rows are timed by the server's local clock alone.
    let mut local_only = dialect == Dialect::IisNative;
    let mut sinks: Vec<S> = Vec::with_capacity(ranges.len());
    for batch in ranges.chunks(batch_len) {
        let scans: Vec<ChunkScan> = batch
            .par_iter()
            .map(|r| {
                pages.will_read(r.clone());
                scan_chunk(data, r.clone())
            })
            .collect();
        let mut starts = Vec::with_capacity(batch.len());
        // Rows without a date column need the previous row's time to cross
        // midnight, which a chunk cannot know: such batches run in order.
        let mut dateless = state.layout.as_ref().is_some_and(|l| !l.has_date());
        local_only |= state.layout.as_ref().is_some_and(|l| l.local_time_only());
        for scan in &scans {
            starts.push((state.clone(), line_base));
            for d in &scan.directives {
                let text = &data[d.clone()];
                state.apply(text.strip_suffix(b"\r").unwrap_or(text));
                dateless |= state.layout.as_ref().is_some_and(|l| !l.has_date());
                local_only |= state.layout.as_ref().is_some_and(|l| l.local_time_only());
            }
            line_base += scan.newlines;
        }
        let finish = |range: &Range<usize>| {
            pages.done(range.clone());
            progress((range.end - range.start) as u64);
        };
        if dateless {
            let mut carried = starts[0].0.clone();
            for (range, (_, first_line)) in batch.iter().zip(starts) {
                let mut sink = new_sink();
                let at_end = range.end == data.len();
                carried = parse_chunk(data, range.clone(), dialect, carried, first_line, at_end, &mut sink)?;
                sink.chunk_done()?;
                finish(range);
                sinks.push(sink);
            }
            state = carried;
        } else {
            // Each chunk of the batch runs to its end, then the first error
            // in file order stops the read: which error is returned never
            // depends on which thread got there first.
            let parsed: Vec<Result<S, S::Error>> = batch
                .par_iter()
                .zip(starts)
                .map(|(range, (state, first_line))| {
                    let mut sink = new_sink();
                    let at_end = range.end == data.len();
                    parse_chunk(data, range.clone(), dialect, state, first_line, at_end, &mut sink)?;
                    sink.chunk_done()?;
                    finish(range);
                    Ok(sink)
                })
                .collect();
            for sink in parsed {
                sinks.push(sink?);
            }
        }
    }
    if local_only {
        file_notes.push(Diagnostic::file(
            Severity::Warning,
            "times are the server's local time (the IIS native format, or time-local without time), in a zone \
             the file does not name: they are read as UTC, off by the server's UTC offset; correct them with \
             --skew HOST=SECONDS",
        ));
    }
    if let Some(first) = sinks.first_mut() {
        for d in file_notes {
            first.diagnostic(d);
        }
    }
    Ok(sinks)
}

/// The lines (1-based) the rows before the file's first `#Fields` run
/// over, if a row comes first: from the first row to the line before that
/// directive, or to the end (`None`) when there is none.
fn rows_before_fields(data: &[u8], start: usize) -> Option<(u64, Option<u64>)> {
    for (number, line) in (1..).zip(lines(&data[start..], start)) {
        // After a crash's NULs, as the chunks' reader reads the line.
        let text = &line.text[leading_nuls(line.text)..];
        if is_directive(text) {
            if is_fields_directive(text) {
                return None;
            }
        } else if !text.trim_ascii().is_empty() {
            // One search for the directive, not a walk over every row.
            let rest = &data[line.offset..];
            let fields =
                memchr::memmem::find_iter(rest, b"\n#").find(|&at| is_fields_directive(&rest[at + 1..]));
            return Some((number, fields.map(|at| number + count_lines(&rest[..at]))));
        }
    }
    None
}

/// Parses one chunk from the directive state in force at its start; returns
/// the state at its end.
fn parse_chunk<S: RecordSink>(
    data: &[u8],
    range: Range<usize>,
    dialect: Dialect,
    mut state: BlockState,
    first_line: u64,
    at_end: bool,
    sink: &mut S,
) -> Result<BlockState, S::Error> {
    let mut scratch = RowScratch::default();
    let mut nul_run: Option<(u64, u64, usize)> = None;
    // A run of NUL lines that crosses a chunk boundary is reported once, by
    // the chunk where it starts, so that chunking never changes diagnostics.
    let mut inherited_nul_run = previous_line(data, range.start).is_some_and(is_nul_padding);
    if dialect != Dialect::HttpErr {
        sink.access_log_text(&data[range.clone()], range.start as u64);
    }
    for (number, line) in (first_line..).zip(lines(&data[range.clone()], range.start)) {
        let mut text = line.text;
        let mut offset = line.offset as u64;
        // NULs, then the log going on in the same line (a crash's padding,
        // then the restarted server's directives or rows): the padding is
        // reported as a run, the rest read.
        let lead = leading_nuls(text);
        if lead > 0 && lead < text.len() {
            match &mut nul_run {
                _ if inherited_nul_run => {}
                Some((_, _, bytes)) => *bytes += lead,
                None => nul_run = Some((number, offset, lead)),
            }
            text = &text[lead..];
            offset += lead as u64;
        }
        if is_nul_padding(text) {
            // A crash or a preallocated file leaves NUL padding; report a run once.
            match &mut nul_run {
                _ if inherited_nul_run => {}
                Some((_, _, bytes)) => *bytes += text.len(),
                None => nul_run = Some((number, offset, text.len())),
            }
            continue;
        }
        inherited_nul_run = false;
        if let Some((l, o, bytes)) = nul_run.take() {
            sink.diagnostic(nul_diagnostic(l, o, bytes, Some(number)));
        }
        if text.trim_ascii().is_empty() {
            continue;
        }
        // A last line ended by a carriage return is whole: CR ends a line in
        // a file whose line ends are CR alone, and IIS writes the CR of its
        // CRLF after a whole row.
        let ended_by_cr = || data.get(line.offset + line.text.len()) == Some(&b'\r');
        let torn = at_end && !line.terminated && !ended_by_cr();
        let origin = Origin { line: number, offset };
        match dialect {
            Dialect::W3c | Dialect::HttpErr => {
                read_w3c_line(dialect, &mut state, text, origin, torn, &mut scratch, sink)?
            }
            Dialect::IisNative | Dialect::Ncsa => {
                let result = if dialect == Dialect::IisNative {
                    native::parse_iis_native(text, origin)
                } else {
                    native::parse_ncsa(text, origin)
                };
                match result {
                    Ok(mut rec) => {
                        if torn {
                            sink.diagnostic(torn_warning(origin));
                        }
                        doubt_numbers(&mut rec, origin, sink);
                        sink.request(&rec)?;
                    }
                    Err(msg) => sink.diagnostic(reject(origin, torn, &msg)),
                }
            }
        }
    }
    if let Some((l, o, mut bytes)) = nul_run {
        let mut resumes = None;
        for (number, line) in
            (first_line + count_lines(&data[range.clone()])..).zip(lines(&data[range.end..], range.end))
        {
            if !is_nul_padding(line.text) {
                bytes += leading_nuls(line.text);
                resumes = Some(number);
                break;
            }
            bytes += line.text.len();
        }
        sink.diagnostic(nul_diagnostic(l, o, bytes, resumes));
    }
    Ok(state)
}

fn leading_nuls(text: &[u8]) -> usize {
    text.iter().take_while(|&&b| b == 0).count()
}

fn is_nul_padding(text: &[u8]) -> bool {
    !text.is_empty() && text.iter().all(|&b| b == 0)
}

/// The line that ends just before `start`, a line start.
fn previous_line(data: &[u8], start: usize) -> Option<&[u8]> {
    let before = data[..start].strip_suffix(b"\n")?;
    let from = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let text = &before[from..];
    Some(text.strip_suffix(b"\r").unwrap_or(text))
}

/// A run of `bytes` NULs from `line`; `resumes` is the line the log goes on
/// at, if it does. At the end of a file the run is the room a log writer
/// set aside and never filled (the server stopped before flushing); inside
/// one, rows were lost or zeroed and the log was written again after it.
fn nul_diagnostic(line: u64, offset: u64, bytes: usize, resumes: Option<u64>) -> Diagnostic {
    let padding = if bytes == 1 { "1 byte".to_string() } else { format!("{bytes} bytes") };
    let message = match resumes {
        None => format!(
            "{padding} of NUL padding to the end of the file: log data never written \
             (the server stopped before flushing) or zeroed"
        ),
        Some(next) => format!(
            "{padding} of NUL padding, the log going on at line {next}: rows lost or zeroed, \
             as when a server stops without flushing and logs on after its restart"
        ),
    };
    Diagnostic::line(line, offset, Severity::Error, message).losing()
}

fn torn_warning(origin: Origin) -> Diagnostic {
    Diagnostic::line(
        origin.line,
        origin.offset,
        Severity::Warning,
        "last line has no line terminator: it may be incomplete (log buffer not flushed)",
    )
}

fn reject(origin: Origin, torn: bool, msg: &dyn std::fmt::Display) -> Diagnostic {
    let message = if torn { format!("torn last line: {msg}") } else { msg.to_string() };
    Diagnostic::line(origin.line, origin.offset, Severity::Error, message)
}

/// A directive or a row of a W3C or HTTPERR log.
///
/// A line that did not read as one row and holds carriage returns comes
/// from a file whose lines went on ended by CR alone after its head was
/// ended by LF (an editor's save, a copy through a tool that rewrote some
/// lines): its pieces are read as lines of their own, cited by this line's
/// number and their own byte offsets. Only a line that failed is looked
/// at, so rows that read cost nothing.
fn read_w3c_line<'a, S: RecordSink>(
    dialect: Dialect,
    state: &mut BlockState,
    text: &'a [u8],
    origin: Origin,
    torn: bool,
    scratch: &mut RowScratch<'a>,
    sink: &mut S,
) -> Result<(), S::Error> {
    let pieces = if is_directive(text) {
        // A directive ends its line: a carriage return inside one ends it
        // (IIS reopening the log writes its header block in the new line ends).
        if !holds_cr_lines(text) {
            if let Some(msg) = state.apply(text) {
                sink.diagnostic(Diagnostic::line(origin.line, origin.offset, Severity::Warning, msg));
            }
            return Ok(());
        }
        RowRead::Pieces
    } else {
        let written_by = state.software.unwrap_or(dialect);
        parse_w3c_row(written_by, state, text, origin, torn, scratch, sink)?
    };
    if pieces == RowRead::Done {
        return Ok(());
    }
    let count = text.split(|&b| b == b'\r').filter(|p| !p.trim_ascii().is_empty()).count();
    sink.diagnostic(Diagnostic::line(
        origin.line,
        origin.offset,
        Severity::Warning,
        format!(
            "this line holds {count} lines ended by a carriage return alone (the file's line ends change \
             from LF to CR): each read as a line, cited by this line's number and its byte offset"
        ),
    ));
    let mut start = 0;
    for piece in text.split(|&b| b == b'\r') {
        let mut at = start;
        start += piece.len() + 1;
        // NUL padding, then the log going on, as on a line of its own.
        let lead = leading_nuls(piece);
        if lead > 0 {
            let resumes = (lead < piece.len()).then_some(origin.line);
            sink.diagnostic(nul_diagnostic(origin.line, origin.offset + at as u64, lead, resumes));
        }
        let piece = &piece[lead..];
        at += lead;
        if piece.trim_ascii().is_empty() {
            continue;
        }
        let here = Origin { offset: origin.offset + at as u64, ..origin };
        let last = start > text.len();
        read_w3c_line(dialect, state, piece, here, torn && last, scratch, sink)?;
    }
    Ok(())
}

/// Whether every carriage return inside `text` ends a line: what follows
/// it starts one (a directive, a date or an address, NUL padding) or is
/// another line end. A stray CR inside a value (a row a free-text column
/// repairs) is no line end.
fn holds_cr_lines(text: &[u8]) -> bool {
    let mut crs = memchr::memchr_iter(b'\r', text).peekable();
    crs.peek().is_some()
        && crs.all(|at| matches!(text.get(at + 1), None | Some(b'\r' | b'#' | b'\0' | b'0'..=b'9')))
}

/// What [`parse_w3c_row`] made of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RowRead {
    /// Read as a row, or rejected with a diagnostic.
    Done,
    /// Not one row, and carriage returns inside it: to be read piece by
    /// piece.
    Pieces,
}

fn parse_w3c_row<'a, S: RecordSink>(
    dialect: Dialect,
    state: &mut BlockState,
    text: &'a [u8],
    origin: Origin,
    torn: bool,
    scratch: &mut RowScratch<'a>,
    sink: &mut S,
) -> Result<RowRead, S::Error> {
    // Borrowed, not cloned: every chunk's state shares this Arc, and a
    // reference count changed per row by both threads was a quarter of a
    // two-thread scan.
    let Some(layout) = state.layout.as_deref() else {
        sink.diagnostic(reject(origin, torn, &"no #Fields directive in force and no default layout fits"));
        return Ok(RowRead::Done);
    };
    let mapped = map_row(layout, text, scratch, state.escapes_spaces(), |v| row_fits(dialect, layout, v));
    if !matches!(mapped, Ok(Mapped::Exact)) && holds_cr_lines(text) {
        return Ok(RowRead::Pieces);
    }
    let mapped = match mapped {
        Ok(m) => m,
        Err(e @ RowError::Joined { at }) => {
            // Nothing before the row but blanks or a byte-order mark (a
            // leading space, a form feed, files joined end to end): no row
            // was cut, and none is counted lost.
            let before = text[..at].trim_ascii();
            if !before.is_empty() && before != BOM {
                sink.diagnostic(reject(origin, false, &e));
            }
            let next = Origin { offset: origin.offset + at as u64, ..origin };
            return parse_w3c_row(dialect, state, &text[at..], next, torn, scratch, sink);
        }
        Err(e) => {
            sink.diagnostic(reject(origin, torn, &e));
            return Ok(RowRead::Done);
        }
    };
    let values: &[&[u8]] = match mapped {
        Mapped::Exact => &scratch.tokens,
        Mapped::Repaired { .. } => &scratch.values,
    };
    let block = state.date;
    // Each kind of record handed to the sink where it was built: moved
    // into an enum first, a request (hundreds of bytes) was copied once
    // more per row.
    match dialect {
        Dialect::HttpErr => match build_http_error(layout, values, &mut scratch.custom, block, origin) {
            Ok(mut rec) => {
                let shift = state.midnight.shift(layout, rec.time.0, rec.time_basis);
                rec.time.0 = rec.time.0.saturating_add(shift);
                said_of_built(layout, mapped, origin, torn, sink);
                sink.http_error(&rec)?;
            }
            Err(e) => sink.diagnostic(reject(origin, torn, &e)),
        },
        _ => match build_request(layout, values, &mut scratch.custom, block, origin) {
            Ok(mut rec) => {
                let shift = state.midnight.shift(layout, rec.time.0, rec.time_basis);
                rec.time.0 = rec.time.0.saturating_add(shift);
                said_of_built(layout, mapped, origin, torn, sink);
                doubt_numbers(&mut rec, origin, sink);
                sink.request(&rec)?;
            }
            Err(e) => sink.diagnostic(reject(origin, torn, &e)),
        },
    }
    Ok(RowRead::Done)
}

/// What is said of a row read: that it was torn, or held more values than
/// `#Fields` declares.
fn said_of_built<S: RecordSink>(layout: &Layout, mapped: Mapped, origin: Origin, torn: bool, sink: &mut S) {
    if torn {
        sink.diagnostic(torn_warning(origin));
    }
    if let Mapped::Repaired { column, extra } = mapped {
        sink.diagnostic(Diagnostic::line(
            origin.line,
            origin.offset,
            Severity::Warning,
            format!(
                "{} more values than #Fields declares: the unescaped spaces were kept inside {}",
                extra,
                layout.columns[column].name()
            ),
        ));
    }
}

/// Says where a row's numbers cannot be what IIS wrote: a Win32 status
/// past 32 bits (kept, as logged), a time-taken past 49 days (dropped: it
/// would date the request's start centuries back and overflow the sums of
/// a minute's latency), a byte count past 2^63 (dropped: no table's
/// integer holds it, and sums of it overflow).
fn doubt_numbers<S: RecordSink>(r: &mut Request<'_>, origin: Origin, sink: &mut S) {
    let warn = |message: String| Diagnostic::line(origin.line, origin.offset, Severity::Warning, message);
    if let Some(w) = r.win32_status.filter(|w| *w > u64::from(u32::MAX)) {
        sink.diagnostic(warn(format!(
            "sc-win32-status {w} is larger than 32 bits: the log was edited or damaged"
        )));
    }
    if let Some(ms) = r.time_taken_ms.take_if(|ms| *ms > LONGEST_REQUEST_MS) {
        sink.diagnostic(warn(format!(
            "time-taken {ms} ms (over 49 days) is no request's duration: the log was edited or damaged; the \
             row is read without it"
        )));
    }
    for (name, bytes) in [("sc-bytes", &mut r.bytes_sent), ("cs-bytes", &mut r.bytes_received)] {
        if let Some(n) = bytes.take_if(|n| i64::try_from(*n).is_err()) {
            sink.diagnostic(warn(format!(
                "{name} {n} is past what a 64-bit signed count holds: the log was edited or damaged; the row \
                 is read without it"
            )));
        }
    }
}

impl Midnight {
    /// For rows dated by `#Date`: detects a backwards jump of the time of
    /// day (midnight crossed within the block) and returns the shift to
    /// apply.
    fn shift(&mut self, layout: &Layout, time: i64, basis: TimeBasis) -> i64 {
        const DAY: i64 = 86_400 * NANOS_PER_SEC;
        const HOUR: i64 = 3_600 * NANOS_PER_SEC;
        if basis != TimeBasis::DirectiveDate || layout.has_date() {
            return 0;
        }
        let tod = time.rem_euclid(DAY);
        if let Some(last) = self.last_tod
            && tod + HOUR < last
        {
            self.day_carry += 1;
        }
        self.last_tod = Some(tod);
        self.day_carry.saturating_mul(DAY)
    }
}

#[cfg(test)]
mod tests;
