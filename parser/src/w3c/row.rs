//! One row: split into tokens, map tokens to columns (repairing rows with
//! stray spaces where the fixed fields can be anchored), build typed records.

use crate::diagnostic::excerpt;
use crate::time::{Timestamp, instant, parse_iso_date, parse_time_of_day};
use crate::value::{Addr, parse_addr, parse_port, parse_status, parse_u32, parse_u64, present};
use crate::w3c::layout::{Column, Field, Layout};
use crate::w3c::reason::Reason;
use crate::w3c::record::{CustomFields, HttpError, Origin, Request, TimeBasis};

/// Why a row could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RowError {
    /// A value did not have the field's type.
    Field { field: &'static str, expected: &'static str, found: String },
    /// Wrong number of fields and no way to anchor them.
    Count { expected: usize, found: usize },
    /// The row has no usable date or time.
    NoTime,
    /// An unterminated quote (quoted layouts only).
    Quote,
    /// A row cut short and the next row written on after it (a crash
    /// mid-write, then the restarted worker's rows): the next row starts
    /// `at` bytes into the line.
    Joined { at: usize },
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowError::Field { field, expected, found } => {
                write!(f, "{field}: expected {expected}, found \"{found}\"")
            }
            RowError::Count { expected, found } => {
                write!(f, "expected {expected} fields as declared by #Fields, found {found}")
            }
            RowError::NoTime => f.write_str("no date or time: no date/time column and no #Date directive"),
            RowError::Quote => f.write_str("unterminated quoted value"),
            RowError::Joined { at } => write!(
                f,
                "a row cut short, with the next row written on after it (from byte {at} of the line, read as a row of its own)"
            ),
        }
    }
}

fn field_error(field: Field, expected: &'static str, value: &[u8]) -> RowError {
    RowError::Field { field: field.name(), expected, found: excerpt(value, 60) }
}

/// Date context of the block a row belongs to.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BlockDate {
    /// Days since the epoch from `#Date`, for layouts without a date column.
    pub days: Option<i64>,
}

#[inline]
fn typed<T>(
    f: Field,
    v: &[u8],
    parse: fn(&[u8]) -> Option<T>,
    expected: &'static str,
) -> Result<Option<T>, RowError> {
    match present(v) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| field_error(f, expected, v)),
    }
}

#[inline]
fn addr(f: Field, v: &[u8]) -> Result<Option<Addr<'_>>, RowError> {
    match present(v) {
        None => Ok(None),
        Some(v) => parse_addr(v).map(Some).ok_or_else(|| field_error(f, "an IP address or host name", v)),
    }
}

/// The date and time columns of one row (empty = absent).
#[derive(Default)]
struct RowTime<'a> {
    date: &'a [u8],
    time: &'a [u8],
    date_local: &'a [u8],
    time_local: &'a [u8],
}

impl RowTime<'_> {
    fn resolve(&self, block: BlockDate) -> Result<(Timestamp, TimeBasis), RowError> {
        let (date, local_date) = match (present(self.date), present(self.date_local)) {
            (Some(d), _) => (Some(d), false),
            (None, Some(d)) => (Some(d), true),
            (None, None) => (None, false),
        };
        let (tod, local_time) = match (present(self.time), present(self.time_local)) {
            (Some(t), _) => (Some(t), false),
            (None, Some(t)) => (Some(t), true),
            (None, None) => (None, false),
        };
        let tod_nanos = match tod {
            Some(t) => Some(parse_time_of_day(t).ok_or_else(|| {
                field_error(if local_time { Field::TimeLocal } else { Field::Time }, "HH:MM:SS", t)
            })?),
            None => None,
        };
        let (days, mut basis) = match date {
            Some(d) => (
                parse_iso_date(d).ok_or_else(|| {
                    field_error(if local_date { Field::DateLocal } else { Field::Date }, "YYYY-MM-DD", d)
                })?,
                TimeBasis::Utc,
            ),
            None => match block.days {
                Some(days) if tod_nanos.is_some() => (days, TimeBasis::DirectiveDate),
                _ => return Err(RowError::NoTime),
            },
        };
        if local_date || local_time {
            basis = TimeBasis::LocalAssumedUtc;
        } else if tod_nanos.is_none() {
            basis = TimeBasis::DateOnly;
        }
        // Lazily: the excerpt is a string built per row otherwise (13% of a
        // W3C analyze's instructions under callgrind).
        let time = instant(days, tod_nanos.unwrap_or(0)).ok_or_else(|| RowError::Field {
            field: if local_date { Field::DateLocal.name() } else { Field::Date.name() },
            expected: "a date and time between 1677-09-22 and 2262-04-11 23:47 (what a nanosecond clock holds)",
            found: date.map(|d| excerpt(d, 20)).unwrap_or_default(),
        })?;
        Ok((time, basis))
    }
}

/// Reusable per-thread scratch space for row parsing.
#[derive(Debug, Default)]
pub(crate) struct RowScratch<'a> {
    pub(crate) tokens: Vec<&'a [u8]>,
    pub(crate) values: Vec<&'a [u8]>,
    pub(crate) custom: Vec<(usize, &'a [u8])>,
}

/// Outcome of mapping a row's tokens onto its layout.
pub(crate) enum Mapped {
    /// Token count matched.
    Exact,
    /// Extra tokens were merged into one free-text column.
    Repaired { column: usize, extra: usize },
}

/// Splits a row into tokens. In quoted layouts a value may be wrapped in
/// double quotes (with `""` inside standing for one quote) and hold spaces.
pub(crate) fn tokenize<'a>(line: &'a [u8], quoted: bool, out: &mut Vec<&'a [u8]>) -> Result<(), RowError> {
    out.clear();
    let line = line.trim_ascii_end();
    if !quoted || memchr::memchr(b'"', line).is_none() {
        split_spaces(line, out);
        return Ok(());
    }
    let mut i = 0;
    while i <= line.len() {
        if line.get(i) == Some(&b'"') {
            let mut j = i + 1;
            loop {
                match memchr::memchr(b'"', &line[j..]) {
                    None => return Err(RowError::Quote),
                    Some(p) => {
                        let q = j + p;
                        if line.get(q + 1) == Some(&b'"') {
                            j = q + 2;
                        } else {
                            out.push(&line[i + 1..q]);
                            i = q + 1;
                            if i < line.len() && line[i] != b' ' {
                                return Err(RowError::Quote);
                            }
                            i += 1;
                            break;
                        }
                    }
                }
            }
        } else {
            let end = memchr::memchr(b' ', &line[i..]).map_or(line.len(), |p| i + p);
            out.push(&line[i..end]);
            i = end + 1;
        }
    }
    Ok(())
}

/// Splits on single spaces, eight bytes at a time: fields are short, so one
/// word-wide comparison beats a vectorised search restarted per field.
#[inline]
fn split_spaces<'a>(line: &'a [u8], out: &mut Vec<&'a [u8]>) {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const SPACES: u64 = 0x2020_2020_2020_2020;
    let mut start = 0;
    let mut words = line.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes) ^ SPACES;
        // 0x80 in exactly the bytes of `x` that are zero (the spaces).
        let mut hits = !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
        while hits != 0 {
            let p = base + (hits.trailing_zeros() / 8) as usize;
            out.push(&line[start..p]);
            start = p + 1;
            hits &= hits - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b' ' {
            out.push(&line[start..base + i]);
            start = base + i + 1;
        }
    }
    out.push(&line[start..]);
}

/// Maps a row's tokens onto its layout. On success the column values are in
/// `scratch.tokens` (exact count) or `scratch.values` (repaired); see
/// [`Mapped`]. `validate` builds a throwaway record to check a repair.
pub(crate) fn map_row<'a>(
    layout: &Layout,
    line: &'a [u8],
    scratch: &mut RowScratch<'a>,
    escapes_spaces: bool,
    validate: impl Fn(&[&'a [u8]]) -> Result<(), RowError>,
) -> Result<Mapped, RowError> {
    let expected = layout.len();
    // A row of far more values than any repair could merge is rejected
    // by its count alone: its tokens, held and copied per repair tried,
    // took twenty times the line's bytes (a 256 MiB line of `a a a...`
    // from a 255 KB zip took 5 GB).
    let most = expected * 4 + 1024;
    if !layout.quoted && line.len() / 2 > most {
        let spaces = memchr::memchr_iter(b' ', line.trim_ascii_end()).count();
        if spaces + 1 > most {
            return Err(RowError::Count { expected, found: spaces + 1 });
        }
    }
    tokenize(line, layout.quoted, &mut scratch.tokens)?;
    let found = scratch.tokens.len();
    if found == expected {
        // A row cut within its date, the next written on after it: the
        // next row's date follows the cut digits in one value
        // (`22024-01-01 00:00:02 ...`). One length compared per row.
        if scratch.tokens.first().is_some_and(|t| t.len() > 10)
            && let Some(at) = row_start(layout, line, &scratch.tokens, 0)
        {
            return Err(RowError::Joined { at });
        }
        return Ok(Mapped::Exact);
    }
    if found > expected {
        let extra = found - expected;
        // Whole rows end lines: a full row's worth of values after the
        // first, starting with a date and a time as the layout's rows do,
        // is the next row. Its date glued to the cut value (the cut fell
        // inside one: `/id2016-01-06 10:06:33 ...`) says so for certain, as
        // does any in a log of IIS or HTTP.sys, which write no space inside
        // a value; elsewhere only when no free-text column takes the extra
        // values (a writer that leaves spaces in a query may quote a date).
        let joined = row_start(layout, line, &scratch.tokens, extra);
        let glued = scratch.tokens.get(extra).is_some_and(|t| t.len() > 10);
        if let Some(at) = joined.filter(|_| escapes_spaces || glued) {
            return Err(RowError::Joined { at });
        }
        for &col in layout.free_text_columns() {
            let anchored_after =
                layout.columns[col + 1..].iter().any(|c| matches!(c, Column::Known(f) if !is_free_text(*f)));
            if !anchored_after {
                continue;
            }
            scratch.values.clear();
            scratch.values.extend_from_slice(&scratch.tokens[..col]);
            // Tokens are sub-slices of `line`, so the merged value is the
            // contiguous span from the first token's start to the last's end.
            let first = scratch.tokens[col];
            let last = scratch.tokens[col + extra];
            let start = first.as_ptr() as usize - line.as_ptr() as usize;
            let end = last.as_ptr() as usize - line.as_ptr() as usize + last.len();
            scratch.values.push(&line[start..end]);
            scratch.values.extend_from_slice(&scratch.tokens[col + extra + 1..]);
            if validate(&scratch.values).is_ok() {
                return Ok(Mapped::Repaired { column: col, extra });
            }
        }
        if let Some(at) = joined {
            return Err(RowError::Joined { at });
        }
    }
    Err(RowError::Count { expected, found })
}

/// Where in `line` a row starts whose date ends value `i` of its `tokens`
/// (alone, or glued to a cut value before it), a time following, in a
/// layout whose rows start with a date and a time.
fn row_start(layout: &Layout, line: &[u8], tokens: &[&[u8]], i: usize) -> Option<usize> {
    let value = *tokens.get(i)?;
    let at = value.len().checked_sub(10)?;
    (layout.starts_dated()
        && looks_like_date(&value[at..])
        && tokens.get(i + 1).is_some_and(|t| looks_like_time(t)))
    .then(|| value.as_ptr() as usize - line.as_ptr() as usize + at)
}

/// `2016-01-06`.
fn looks_like_date(t: &[u8]) -> bool {
    t.len() == 10
        && t.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// `10:06:33`, with or without a fraction of a second.
fn looks_like_time(t: &[u8]) -> bool {
    t.len() >= 8
        && t[..8]
            .iter()
            .enumerate()
            .all(|(i, c)| if i == 2 || i == 5 { *c == b':' } else { c.is_ascii_digit() })
        && (t.len() == 8 || t[8] == b'.')
}

fn is_free_text(f: Field) -> bool {
    matches!(
        f,
        Field::UriQuery
            | Field::Uri
            | Field::UriStem
            | Field::UserAgent
            | Field::Referer
            | Field::Cookie
            | Field::Username
            | Field::Method
    )
}

/// Builds an access-log record from column values in one pass over the
/// layout. Fields that belong to HTTPERR (or are unknown) are kept as
/// custom fields, so nothing in the row is lost.
pub(crate) fn build_request<'a: 'r, 'r>(
    layout: &'r Layout,
    values: &[&'a [u8]],
    custom: &'r mut Vec<(usize, &'a [u8])>,
    block: BlockDate,
    origin: Origin,
) -> Result<Request<'r>, RowError> {
    custom.clear();
    let mut t = RowTime::default();
    let mut r = Request::blank(Timestamp(0), TimeBasis::Utc, origin);
    for (i, (col, &v)) in layout.columns.iter().zip(values).enumerate() {
        let Column::Known(f) = col else {
            custom.push((i, v));
            continue;
        };
        match f {
            Field::Date => t.date = v,
            Field::Time => t.time = v,
            Field::DateLocal => t.date_local = v,
            Field::TimeLocal => t.time_local = v,
            Field::SiteName => r.site_name = present(v),
            Field::ComputerName => r.computer_name = present(v),
            Field::ServerIp => r.server_ip = addr(*f, v)?,
            Field::Method => r.method = present(v),
            Field::UriStem => r.uri_stem = present(v),
            Field::UriQuery => r.uri_query = present(v),
            Field::ServerPort => r.server_port = typed(*f, v, parse_port, "a port number")?,
            Field::Username => r.username = present(v),
            Field::ClientIp => r.client_ip = addr(*f, v)?,
            Field::Version => r.version = present(v),
            Field::UserAgent => r.user_agent = present(v),
            Field::Cookie => r.cookie = present(v),
            Field::Referer => r.referer = present(v),
            Field::Host => r.host = present(v),
            Field::Status => r.status = typed(*f, v, parse_status, "an HTTP status (100-999)")?,
            Field::Substatus => r.substatus = typed(*f, v, parse_u32, "a sub-status number")?,
            Field::Win32Status => r.win32_status = typed(*f, v, parse_u64, "a decimal Win32 status")?,
            Field::BytesSent => r.bytes_sent = typed(*f, v, parse_u64, "a byte count")?,
            Field::BytesReceived => r.bytes_received = typed(*f, v, parse_u64, "a byte count")?,
            Field::TimeTaken => r.time_taken_ms = typed(*f, v, parse_u64, "milliseconds")?,
            _ => custom.push((i, v)),
        }
    }
    (r.time, r.time_basis) = t.resolve(block)?;
    r.custom = CustomFields::new(layout, custom);
    Ok(r)
}

/// Builds an HTTPERR record from column values in one pass; access-log-only
/// fields are kept as custom fields.
pub(crate) fn build_http_error<'a: 'r, 'r>(
    layout: &'r Layout,
    values: &[&'a [u8]],
    custom: &'r mut Vec<(usize, &'a [u8])>,
    block: BlockDate,
    origin: Origin,
) -> Result<HttpError<'r>, RowError> {
    custom.clear();
    let mut t = RowTime::default();
    let mut reason: &[u8] = &[];
    let mut r = HttpError {
        time: Timestamp(0),
        time_basis: TimeBasis::Utc,
        origin,
        client_ip: None,
        client_port: None,
        server_ip: None,
        server_port: None,
        version: None,
        method: None,
        uri: None,
        stream_id: None,
        stream_id_ex: None,
        status: None,
        site_id: None,
        reason: Reason::Other(&[]),
        queue_name: None,
        transport: None,
        fault_code: None,
        extended_fault_code: None,
        custom: CustomFields::none(),
    };
    for (i, (col, &v)) in layout.columns.iter().zip(values).enumerate() {
        let Column::Known(f) = col else {
            custom.push((i, v));
            continue;
        };
        match f {
            Field::Date => t.date = v,
            Field::Time => t.time = v,
            Field::DateLocal => t.date_local = v,
            Field::TimeLocal => t.time_local = v,
            Field::ClientIp => r.client_ip = addr(*f, v)?,
            Field::ClientPort => r.client_port = typed(*f, v, parse_port, "a port number")?,
            Field::ServerIp => r.server_ip = addr(*f, v)?,
            Field::ServerPort => r.server_port = typed(*f, v, parse_port, "a port number")?,
            Field::Version => r.version = present(v),
            Field::Method => r.method = present(v),
            Field::Uri => r.uri = present(v),
            Field::StreamId => r.stream_id = typed(*f, v, parse_u64, "a stream id")?,
            Field::StreamIdEx => r.stream_id_ex = present(v),
            Field::Status => r.status = typed(*f, v, parse_status, "an HTTP status (100-999)")?,
            Field::SiteId => r.site_id = typed(*f, v, parse_u32, "a site id")?,
            Field::Reason => reason = v,
            // A layout without a transport column (the header-less
            // default) whose queue column says TCP or QUIC was written with
            // the transport there: no app pool is named so.
            Field::QueueName if matches!(v, b"TCP" | b"QUIC") && !layout.has(Field::Transport) => {
                r.transport = Some(v);
            }
            Field::QueueName => r.queue_name = present(v),
            Field::Transport => r.transport = present(v),
            Field::FaultCode => r.fault_code = present(v),
            Field::ExtendedFaultCode => r.extended_fault_code = present(v),
            _ => custom.push((i, v)),
        }
    }
    if reason.is_empty() {
        return Err(field_error(Field::Reason, "a reason phrase", reason));
    }
    r.reason = Reason::parse(reason);
    (r.time, r.time_basis) = t.resolve(block)?;
    r.custom = CustomFields::new(layout, custom);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(line: &[u8], quoted: bool) -> Vec<String> {
        let mut out = Vec::new();
        tokenize(line, quoted, &mut out).expect("tokenizes");
        out.iter().map(|t| String::from_utf8_lossy(t).into_owned()).collect()
    }

    #[test]
    fn word_wide_split_agrees_with_a_plain_split() {
        let samples: [&[u8]; 6] = [
            b"",
            b" ",
            b"a",
            b"a b  c",
            b"0123456 89abcdef ghij klmnopqr stuvwxyz  ",
            b"\xa0\x20\xe0 \x7f\x80 ",
        ];
        for s in samples {
            let mut got = Vec::new();
            split_spaces(s, &mut got);
            let want: Vec<&[u8]> = s.split(|&b| b == b' ').collect();
            assert_eq!(got, want, "{s:?}");
        }
    }

    #[test]
    fn tokenizer_plain_and_quoted() {
        assert_eq!(toks(b"a b  c ", false), ["a", "b", "", "c"]);
        assert_eq!(toks(b"a \"b c\" \"x \"\"y\"\"\" -", true), ["a", "b c", "x \"\"y\"\"", "-"]);
        let mut out = Vec::new();
        assert_eq!(tokenize(b"a \"b c", true, &mut out), Err(RowError::Quote));
    }
}
