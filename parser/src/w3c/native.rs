//! The two non-W3C access-log formats IIS can write: IIS native
//! (`in*.log`, comma-separated, local time) and NCSA common (`nc*.log`).

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{take_till1, take_while_m_n};
use nom::character::complete::{char, space1};
use nom::sequence::delimited;

use crate::diagnostic::excerpt;
use crate::time::{
    NANOS_PER_SEC, Timestamp, days_from_civil, instant, month_number, parse_time_of_day, zone_offset,
};
use crate::value::{parse_addr, parse_status, parse_u64, present};
use crate::w3c::record::{Origin, Request, TimeBasis};

/// `M/D/YY` or `M/D/YYYY`; two-digit years pivot at 70 (IIS native logs
/// predate 2070).
fn parse_us_date(b: &[u8]) -> Option<i64> {
    let mut parts = b.split(|&c| c == b'/');
    let m = parse_u64(parts.next()?)?;
    let d = parse_u64(parts.next()?)?;
    let y_raw = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let y = parse_u64(y_raw)?;
    let year = match y_raw.len() {
        2 if y >= 70 => 1900 + y,
        2 => 2000 + y,
        4 => y,
        _ => return None,
    };
    days_from_civil(year as i64, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
}

/// Parses one IIS native row: client IP, user, date, time, service, server
/// name, server IP, time taken, bytes received, bytes sent, status, Win32
/// status, method, target, parameters, and a trailing comma.
pub(super) fn parse_iis_native(line: &[u8], origin: Origin) -> Result<Request<'_>, String> {
    let line = line.trim_ascii_end();
    let line = line.strip_suffix(b",").unwrap_or(line);
    let f: Vec<&[u8]> = line.split(|&c| c == b',').map(|v| v.trim_ascii()).collect();
    if f.len() != 15 {
        return Err(format!("IIS native format has 15 comma-separated fields, found {}", f.len()));
    }
    let bad = |name: &str, v: &[u8]| format!("{name}: unexpected value \"{}\"", excerpt(v, 40));
    let days = parse_us_date(f[2]).ok_or_else(|| bad("date", f[2]))?;
    let tod = parse_time_of_day(f[3]).ok_or_else(|| bad("time", f[3]))?;
    let time = instant(days, tod).ok_or_else(|| bad("date", f[2]))?;
    let num = |name: &str, v: &[u8]| -> Result<Option<u64>, String> {
        match present(v) {
            None => Ok(None),
            Some(v) => parse_u64(v).map(Some).ok_or_else(|| bad(name, v)),
        }
    };
    let mut r = Request::blank(time, TimeBasis::LocalAssumedUtc, origin);
    r.client_ip = present(f[0]).map(|v| parse_addr(v).ok_or_else(|| bad("client IP", v))).transpose()?;
    r.username = present(f[1]);
    r.site_name = present(f[4]);
    r.computer_name = present(f[5]);
    r.server_ip = present(f[6]).map(|v| parse_addr(v).ok_or_else(|| bad("server IP", v))).transpose()?;
    r.time_taken_ms = num("time taken", f[7])?;
    r.bytes_received = num("bytes received", f[8])?;
    r.bytes_sent = num("bytes sent", f[9])?;
    r.status = present(f[10]).map(|v| parse_status(v).ok_or_else(|| bad("status", v))).transpose()?;
    r.win32_status = num("Windows status", f[11])?;
    r.method = present(f[12]);
    r.uri_stem = present(f[13]);
    r.uri_query = present(f[14]);
    Ok(r)
}

/// `[10/Oct/2000:13:55:36 -0700]` → UTC.
fn ncsa_time(input: &[u8]) -> IResult<&[u8], Option<Timestamp>> {
    let (rest, inner) = delimited(char('['), take_till1(|c| c == b']'), char(']')).parse(input)?;
    Ok((rest, parse_ncsa_instant(inner)))
}

fn parse_ncsa_instant(b: &[u8]) -> Option<Timestamp> {
    // dd/Mon/yyyy:HH:MM:SS +zzzz
    if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let day = u32::try_from(parse_u64(&b[0..2])?).ok()?;
    let mon = month_number(&b[3..6])?;
    let year = parse_u64(&b[7..11])? as i64;
    let tod = parse_time_of_day(&b[12..20])?;
    let offset = zone_offset(&b[21..26])?;
    let days = days_from_civil(year, mon, day)?;
    instant(days, tod - offset * NANOS_PER_SEC)
}

/// The quoted request line: up to the first quote followed by a status
/// (` 404 `). Tomcat and Apache write a quote inside the request as is
/// (`GET /a?x="><script>... HTTP/1.1`), so the first quote need not end it.
fn quoted_request(input: &[u8]) -> IResult<&[u8], &[u8]> {
    let (rest, _) = char('"').parse(input)?;
    let ends = |q: usize| {
        rest.get(q + 1) == Some(&b' ')
            && rest.get(q + 2..q + 5).is_some_and(|s| s.iter().all(u8::is_ascii_digit))
            && matches!(rest.get(q + 5), None | Some(b' '))
    };
    match memchr::memchr_iter(b'"', rest).find(|&q| ends(q)) {
        Some(q) if q > 0 => Ok((&rest[q + 1..], &rest[..q])),
        _ => Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Char))),
    }
}

type NcsaParts<'a> = (&'a [u8], &'a [u8], Option<Timestamp>, &'a [u8], &'a [u8], &'a [u8]);

fn ncsa_line(input: &[u8]) -> IResult<&[u8], NcsaParts<'_>> {
    let token = || take_till1(|c| c == b' ');
    let (input, (host, _, _ident, _, user, _, time, _)) =
        (token(), space1, token(), space1, token(), space1, ncsa_time, space1).parse(input)?;
    let (input, request) = quoted_request(input)?;
    let (input, (_, status, _, bytes)) =
        (space1, take_while_m_n(3, 3, |c: u8| c.is_ascii_digit()), space1, token()).parse(input)?;
    Ok((input, (host, user, time, request, status, bytes)))
}

/// Parses one NCSA common log row.
pub(super) fn parse_ncsa(line: &[u8], origin: Origin) -> Result<Request<'_>, String> {
    let line = line.trim_ascii_end();
    let (_, (host, user, time, request, status, bytes)) =
        ncsa_line(line).map_err(|_| format!("not an NCSA common log row: \"{}\"", excerpt(line, 60)))?;
    let time = time.ok_or("NCSA timestamp: expected dd/Mon/yyyy:HH:MM:SS +zzzz")?;
    // Tomcat logs a request it could not read at the epoch in its own zone
    // (`[01/Jan/1970:03:00:00 +0300] "-" 400 -`): no time, and read as one
    // it made 1970 the log's first.
    if time.seconds() == 0 && request == b"-" {
        return Err("no time: 1970-01-01 is the server's placeholder for a request it could not read".into());
    }
    let mut r = Request::blank(time, TimeBasis::LocalWithOffset, origin);
    r.client_ip = Some(parse_addr(host).ok_or_else(|| format!("client: \"{}\"", excerpt(host, 40)))?);
    r.username = present(user);
    let mut parts = request.splitn(3, |&c| c == b' ');
    r.method = parts.next().and_then(present);
    if let Some(target) = parts.next() {
        match memchr::memchr(b'?', target) {
            Some(q) => {
                r.uri_stem = Some(&target[..q]);
                r.uri_query = present(&target[q + 1..]);
            }
            None => r.uri_stem = Some(target),
        }
    }
    r.version = parts.next().and_then(present);
    r.status = parse_status(status);
    r.bytes_sent = present(bytes)
        .map(|b| parse_u64(b).ok_or_else(|| format!("bytes: \"{}\"", excerpt(b, 20))))
        .transpose()?;
    Ok(r)
}

/// Whether a line looks like an IIS native row (used for detection).
pub(crate) fn looks_like_iis_native(line: &[u8]) -> bool {
    parse_iis_native(line, Origin::default()).is_ok()
}

/// Whether a line looks like an NCSA row (used for detection).
pub(crate) fn looks_like_ncsa(line: &[u8]) -> bool {
    parse_ncsa(line, Origin::default()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quote inside the request, as Tomcat writes an XSS probe's, does
    /// not end it; a row whose request never ends is still refused.
    #[test]
    fn a_quote_inside_the_request_does_not_end_it() {
        let row = b"192.168.105.83 - - [11/Jul/2018:09:32:27 +0300] \"GET /WebID/IISWebAgentIF.dll?postdata=\"><script>foo</script> HTTP/1.1\" 404 997";
        let r = parse_ncsa(row, Origin::default()).expect("parses");
        assert_eq!(r.uri_stem, Some(&b"/WebID/IISWebAgentIF.dll"[..]));
        assert_eq!(r.uri_query, Some(&b"postdata=\"><script>foo</script>"[..]));
        assert_eq!((r.version, r.status, r.bytes_sent), (Some(&b"HTTP/1.1"[..]), Some(404), Some(997)));
        assert!(
            parse_ncsa(
                b"10.0.0.1 - - [11/Jul/2018:09:32:27 +0300] \"GET /a\"b HTTP/1.1 404 997",
                Origin::default()
            )
            .is_err()
        );
    }

    /// Tomcat's row for a request it could not read is dated at the epoch;
    /// it is refused as timeless, a real request at that time is not.
    #[test]
    fn a_request_the_server_could_not_read_has_no_time() {
        let placeholder = b"192.168.105.83 - - [01/Jan/1970:03:00:00 +0300] \"-\" 400 -";
        let refused = parse_ncsa(placeholder, Origin::default()).expect_err("refused");
        assert!(refused.contains("placeholder"), "{refused}");
        let real = b"192.168.105.83 - - [01/Jan/1970:03:00:00 +0300] \"GET / HTTP/1.0\" 400 -";
        assert!(parse_ncsa(real, Origin::default()).is_ok());
    }

    #[test]
    fn iis_native_row() {
        let r = parse_iis_native(
            b"192.168.114.201, -, 03/20/01, 7:55:20, W3SVC2, SERVER, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,",
            Origin::default(),
        )
        .expect("parses");
        assert_eq!(r.time.to_rfc3339(), "2001-03-20T07:55:20.000000000Z");
        assert_eq!(r.status, Some(200));
        assert_eq!(r.time_taken_ms, Some(4502));
        assert_eq!(r.bytes_sent, Some(3223));
        assert_eq!(r.uri_stem, Some(&b"/DeptLogo.gif"[..]));
        assert_eq!(r.site_name, Some(&b"W3SVC2"[..]));
    }

    #[test]
    fn ncsa_row_converts_offset_to_utc() {
        let r = parse_ncsa(
            b"10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif?x=1 HTTP/1.0\" 200 2326",
            Origin::default(),
        )
        .expect("parses");
        assert_eq!(r.time.to_rfc3339(), "2000-10-10T20:55:36.000000000Z");
        assert_eq!(r.uri_query, Some(&b"x=1"[..]));
        assert_eq!(r.version, Some(&b"HTTP/1.0"[..]));
        assert!(parse_ncsa(b"2016-01-01 00:00:00 GET / 200", Origin::default()).is_err());
    }
}
