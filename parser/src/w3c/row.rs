//! One row: split into tokens, map tokens to columns (repairing rows with
//! stray spaces where the fixed fields can be anchored), build typed records.

use crate::diagnostic::excerpt;
use crate::time::{NANOS_PER_SEC, Timestamp, parse_iso_date, parse_time_of_day};
use crate::value::{Addr, parse_addr, parse_port, parse_status, parse_u32, parse_u64, present};
use crate::w3c::layout::{Column, Field, Layout};
use crate::w3c::reason::Reason;
use crate::w3c::record::{CustomFields, HttpError, Origin, Request, TimeBasis};

const FIELD_COUNT: usize = Field::ExtendedFaultCode as usize + 1;

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

/// Raw values per known field for one row; empty slice = column absent.
struct Slots<'a> {
    values: [&'a [u8]; FIELD_COUNT],
}

impl<'a> Slots<'a> {
    #[inline]
    fn get(&self, f: Field) -> Option<&'a [u8]> {
        present(self.values[f as usize])
    }

    #[inline]
    fn raw(&self, f: Field) -> &'a [u8] {
        self.values[f as usize]
    }

    fn int<T>(
        &self,
        f: Field,
        parse: fn(&[u8]) -> Option<T>,
        expected: &'static str,
    ) -> Result<Option<T>, RowError> {
        match self.get(f) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).ok_or_else(|| field_error(f, expected, v)),
        }
    }

    fn addr(&self, f: Field) -> Result<Option<Addr<'a>>, RowError> {
        match self.get(f) {
            None => Ok(None),
            Some(v) => parse_addr(v).map(Some).ok_or_else(|| field_error(f, "an IP address or host name", v)),
        }
    }

    fn time(&self, block: BlockDate) -> Result<(Timestamp, TimeBasis), RowError> {
        let (date, local_date) = match (self.get(Field::Date), self.get(Field::DateLocal)) {
            (Some(d), _) => (Some(d), false),
            (None, Some(d)) => (Some(d), true),
            (None, None) => (None, false),
        };
        let (tod, local_time) = match (self.get(Field::Time), self.get(Field::TimeLocal)) {
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
        Ok((Timestamp(days * 86_400 * NANOS_PER_SEC + tod_nanos.unwrap_or(0)), basis))
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
        let mut start = 0;
        for sp in memchr::memchr_iter(b' ', line) {
            out.push(&line[start..sp]);
            start = sp + 1;
        }
        out.push(&line[start..]);
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

/// Maps a row's tokens onto its layout. On success the column values are in
/// `scratch.tokens` (exact count) or `scratch.values` (repaired); see
/// [`Mapped`]. `validate` builds a throwaway record to check a repair.
pub(crate) fn map_row<'a>(
    layout: &Layout,
    line: &'a [u8],
    scratch: &mut RowScratch<'a>,
    validate: impl Fn(&[&'a [u8]]) -> Result<(), RowError>,
) -> Result<Mapped, RowError> {
    tokenize(line, layout.quoted, &mut scratch.tokens)?;
    let found = scratch.tokens.len();
    let expected = layout.len();
    if found == expected {
        return Ok(Mapped::Exact);
    }
    if found > expected {
        let extra = found - expected;
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
    }
    Err(RowError::Count { expected, found })
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

fn fill_slots<'a>(layout: &Layout, values: &[&'a [u8]], custom: &mut Vec<(usize, &'a [u8])>) -> Slots<'a> {
    let mut slots = Slots { values: [&[][..]; FIELD_COUNT] };
    custom.clear();
    for (i, (col, v)) in layout.columns.iter().zip(values).enumerate() {
        match col {
            Column::Known(f) => slots.values[*f as usize] = v,
            Column::Custom(_) => custom.push((i, v)),
        }
    }
    slots
}

/// Builds an access-log record from column values.
pub(crate) fn build_request<'a: 'r, 'r>(
    layout: &'r Layout,
    values: &[&'a [u8]],
    custom: &'r mut Vec<(usize, &'a [u8])>,
    block: BlockDate,
    origin: Origin,
) -> Result<Request<'r>, RowError> {
    let s = fill_slots(layout, values, custom);
    let (time, time_basis) = s.time(block)?;
    Ok(Request {
        time,
        time_basis,
        origin,
        site_name: s.get(Field::SiteName),
        computer_name: s.get(Field::ComputerName),
        server_ip: s.addr(Field::ServerIp)?,
        method: s.get(Field::Method),
        uri_stem: s.get(Field::UriStem),
        uri_query: s.get(Field::UriQuery),
        server_port: s.int(Field::ServerPort, parse_port, "a port number")?,
        username: s.get(Field::Username),
        client_ip: s.addr(Field::ClientIp)?,
        version: s.get(Field::Version),
        user_agent: s.get(Field::UserAgent),
        cookie: s.get(Field::Cookie),
        referer: s.get(Field::Referer),
        host: s.get(Field::Host),
        status: s.int(Field::Status, parse_status, "an HTTP status (100-999)")?,
        substatus: s.int(Field::Substatus, parse_u32, "a sub-status number")?,
        win32_status: s.int(Field::Win32Status, parse_u64, "a decimal Win32 status")?,
        bytes_sent: s.int(Field::BytesSent, parse_u64, "a byte count")?,
        bytes_received: s.int(Field::BytesReceived, parse_u64, "a byte count")?,
        time_taken_ms: s.int(Field::TimeTaken, parse_u64, "milliseconds")?,
        custom: CustomFields::new(layout, custom),
    })
}

/// Builds an HTTPERR record from column values.
pub(crate) fn build_http_error<'a: 'r, 'r>(
    layout: &'r Layout,
    values: &[&'a [u8]],
    custom: &'r mut Vec<(usize, &'a [u8])>,
    block: BlockDate,
    origin: Origin,
) -> Result<HttpError<'r>, RowError> {
    let s = fill_slots(layout, values, custom);
    let (time, time_basis) = s.time(block)?;
    let reason_raw = s.raw(Field::Reason);
    if reason_raw.is_empty() {
        return Err(field_error(Field::Reason, "a reason phrase", reason_raw));
    }
    Ok(HttpError {
        time,
        time_basis,
        origin,
        client_ip: s.addr(Field::ClientIp)?,
        client_port: s.int(Field::ClientPort, parse_port, "a port number")?,
        server_ip: s.addr(Field::ServerIp)?,
        server_port: s.int(Field::ServerPort, parse_port, "a port number")?,
        version: s.get(Field::Version),
        method: s.get(Field::Method),
        uri: s.get(Field::Uri),
        stream_id: s.int(Field::StreamId, parse_u64, "a stream id")?,
        stream_id_ex: s.get(Field::StreamIdEx),
        status: s.int(Field::Status, parse_status, "an HTTP status (100-999)")?,
        site_id: s.int(Field::SiteId, parse_u32, "a site id")?,
        reason: Reason::parse(reason_raw),
        queue_name: s.get(Field::QueueName),
        transport: s.get(Field::Transport),
        fault_code: s.get(Field::FaultCode),
        extended_fault_code: s.get(Field::ExtendedFaultCode),
        custom: CustomFields::new(layout, custom),
    })
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
    fn tokenizer_plain_and_quoted() {
        assert_eq!(toks(b"a b  c ", false), ["a", "b", "", "c"]);
        assert_eq!(toks(b"a \"b c\" \"x \"\"y\"\"\" -", true), ["a", "b c", "x \"\"y\"\"", "-"]);
        let mut out = Vec::new();
        assert_eq!(tokenize(b"a \"b c", true, &mut out), Err(RowError::Quote));
    }
}
