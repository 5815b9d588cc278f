//! UTC timestamps with 100 ns precision, and the calendar arithmetic the text
//! parsers need without going through a general date library per row.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// Nanoseconds per second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A point in time, UTC, as nanoseconds since the Unix epoch.
///
/// Every source is normalized to this: W3C and HTTPERR carry whole seconds,
/// FREB milliseconds and EVTX 100 ns ticks, all of which fit exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from whole seconds since the epoch plus nanoseconds.
    pub fn from_parts(seconds: i64, nanos: i64) -> Self {
        Timestamp(seconds.saturating_mul(NANOS_PER_SEC).saturating_add(nanos))
    }

    /// Whole seconds since the epoch (floor).
    pub fn seconds(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    /// The minute since the epoch it falls in: what per-minute counts
    /// are keyed by.
    pub fn minute(self) -> i64 {
        self.seconds().div_euclid(60)
    }

    /// The start of a minute since the epoch.
    pub fn of_minute(minute: i64) -> Self {
        Timestamp::from_parts(minute.saturating_mul(60), 0)
    }

    /// The last instant of a minute since the epoch.
    pub fn last_of_minute(minute: i64) -> Self {
        Timestamp(Timestamp::of_minute(minute.saturating_add(1)).0.saturating_sub(1))
    }

    /// Converts to chrono for display and zone conversion.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_nanos(self.0)
    }

    /// RFC 3339 in UTC with a `Z` suffix and always nine fractional digits
    /// (whatever the source's precision), so that sorting the text sorts
    /// by time and no digit of a 100 ns Windows time is lost.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime().to_rfc3339_opts(SecondsFormat::Nanos, true)
    }

    /// The time as a report's prose names it: UTC to the second
    /// (`2025-12-13 19:44:16 UTC`), which a reader compares with a log line
    /// at a glance.
    pub fn to_prose(self) -> String {
        self.to_datetime().format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }

    /// Shifts by a signed number of seconds (clock skew, local-time fixes).
    pub fn shifted(self, seconds: i64) -> Self {
        Timestamp(self.0.saturating_add(seconds.saturating_mul(NANOS_PER_SEC)))
    }
}

impl std::ops::Add<Span> for Timestamp {
    type Output = Timestamp;
    fn add(self, span: Span) -> Timestamp {
        Timestamp(self.0.saturating_add(span.0))
    }
}

impl std::ops::Sub<Span> for Timestamp {
    type Output = Timestamp;
    fn sub(self, span: Span) -> Timestamp {
        Timestamp(self.0.saturating_sub(span.0))
    }
}

impl std::ops::Sub for Timestamp {
    type Output = Span;
    /// How long after `earlier` this is (negative when before it).
    fn sub(self, earlier: Timestamp) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }
}

/// A signed length of time, to the nanosecond: the difference of two
/// [`Timestamp`]s, or a tolerance around one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub i64);

impl Span {
    /// Whole seconds.
    pub const fn secs(secs: i64) -> Span {
        Span(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// Whole minutes.
    pub const fn mins(mins: i64) -> Span {
        Span::secs(mins.saturating_mul(60))
    }

    /// Whole hours.
    pub const fn hours(hours: i64) -> Span {
        Span::secs(hours.saturating_mul(3600))
    }

    /// Milliseconds, as IIS logs `time-taken` (saturating past about 292 years).
    pub fn millis(ms: u64) -> Span {
        Span(i64::try_from(ms).unwrap_or(i64::MAX).saturating_mul(1_000_000))
    }

    /// Whole seconds (toward zero).
    pub const fn as_secs(self) -> i64 {
        self.0 / NANOS_PER_SEC
    }

    /// Whole milliseconds (toward zero).
    pub const fn as_millis(self) -> i64 {
        self.0 / 1_000_000
    }

    /// Whole minutes (toward zero).
    pub const fn as_mins(self) -> i64 {
        self.as_secs() / 60
    }

    /// The length without its sign.
    pub const fn abs(self) -> Span {
        Span(self.0.saturating_abs())
    }
}

impl std::ops::Add for Span {
    type Output = Span;
    fn add(self, other: Span) -> Span {
        Span(self.0.saturating_add(other.0))
    }
}

impl std::ops::Sub for Span {
    type Output = Span;
    fn sub(self, other: Span) -> Span {
        Span(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

/// The instant `days` after the epoch plus `nanos`, if it is representable
/// (years 1677 to 2262): dates outside that range come only from damaged or
/// hostile input.
pub fn instant(days: i64, nanos: i64) -> Option<Timestamp> {
    days.checked_mul(86_400 * NANOS_PER_SEC)?.checked_add(nanos).map(Timestamp)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm), or `None` when the month or day is out of range.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap { 29 } else { 28 }
        }
    }
}

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        }
        _ => None,
    }
}

/// Parses `YYYY-MM-DD` into days since the epoch.
pub fn parse_iso_date(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i64::from(two_digits(&b[0..2])? * 100 + two_digits(&b[2..4])?);
    days_from_civil(year, two_digits(&b[5..7])?, two_digits(&b[8..10])?)
}

/// A month's English abbreviation (`Oct`, any case) as its number.
pub fn month_number(b: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    MONTHS.iter().position(|m| m.eq_ignore_ascii_case(b)).map(|p| p as u32 + 1)
}

/// A UTC offset written `+hhmm` or `-hhmm` (NCSA's `-0700`, JavaScript's
/// `GMT+0200`), in seconds.
pub fn zone_offset(b: &[u8]) -> Option<i64> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = b.get(1..5).filter(|d| b.len() == 5 && d.iter().all(u8::is_ascii_digit))?;
    Some(sign * offset_seconds(&digits[..2], &digits[2..])?)
}

/// An offset of `hours` and `minutes` (two digits each) in seconds: an
/// hour and a minute of the day (`+9999` is none, and was read as four
/// days).
fn offset_seconds(hours: &[u8], minutes: &[u8]) -> Option<i64> {
    let (hh, mm) = (i64::from(two_digits(hours)?), i64::from(two_digits(minutes)?));
    (hh <= 23 && mm <= 59).then_some(hh * 3600 + mm * 60)
}

/// Parses `H:MM:SS` or `HH:MM:SS`, optionally followed by `.fraction`
/// (up to 9 digits), into nanoseconds since midnight.
pub fn parse_time_of_day(b: &[u8]) -> Option<i64> {
    let (hms, frac) = match memchr::memchr(b'.', b) {
        Some(dot) => (&b[..dot], Some(&b[dot + 1..])),
        None => (b, None),
    };
    let (h, rest) = match hms.len() {
        8 if hms[2] == b':' => (two_digits(&hms[0..2])?, &hms[3..]),
        7 if hms[1] == b':' && hms[0].is_ascii_digit() => (u32::from(hms[0] - b'0'), &hms[2..]),
        _ => return None,
    };
    if rest.len() != 5 || rest[2] != b':' {
        return None;
    }
    let m = two_digits(&rest[0..2])?;
    let s = two_digits(&rest[3..5])?;
    // 60 is a leap second as some producers write it; keep it rather than reject.
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut nanos = (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * NANOS_PER_SEC;
    if let Some(frac) = frac {
        if frac.is_empty() || frac.len() > 9 || !frac.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut value: i64 = 0;
        for d in frac {
            value = value * 10 + i64::from(d - b'0');
        }
        nanos += value * 10_i64.pow(9 - frac.len() as u32);
    }
    Some(nanos)
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fff]` (the `#Date` and `#Start-Date` form).
pub fn parse_date_time(b: &[u8]) -> Option<Timestamp> {
    let b = trim_ascii(b);
    if b.len() < 19 || b[10] != b' ' {
        return None;
    }
    let days = parse_iso_date(&b[..10])?;
    let end = b[11..].iter().position(|c| c.is_ascii_whitespace()).map_or(b.len(), |p| p + 11);
    let tod = parse_time_of_day(&b[11..end])?;
    instant(days, tod)
}

/// Parses the XML event-schema time form: `YYYY-MM-DDTHH:MM:SS`, an optional
/// fraction of up to 9 digits, then `Z`, an offset `+hh:mm`/`-hh:mm`, or
/// nothing (taken as UTC, as the schema stores UTC).
pub fn parse_rfc3339(b: &[u8]) -> Option<Timestamp> {
    let b = b.trim_ascii();
    if b.len() < 19 || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let days = parse_iso_date(&b[..10])?;
    let rest = &b[11..];
    let zone_at =
        rest.iter().position(|&c| c == b'Z' || c == b'z' || c == b'+' || c == b'-').unwrap_or(rest.len());
    let tod = parse_time_of_day(&rest[..zone_at])?;
    let offset = match &rest[zone_at..] {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let secs = offset_seconds(&[*h1, *h2], &[*m1, *m2])?;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    instant(days, tod - offset * NANOS_PER_SEC)
}

/// FILETIME ticks (100 ns) from 1601-01-01 to 1970-01-01.
const FILETIME_EPOCH_TICKS: i64 = 116_444_736_000_000_000;

/// Windows FILETIME (100 ns ticks since 1601-01-01 UTC) to a timestamp;
/// `None` for zero (no time was written) and for a time a nanosecond clock
/// cannot hold (before 1677-09-21 or after 2262-04-11), which
/// [`from_filetime`] would clamp to its ends.
pub fn filetime(ticks: u64) -> Option<Timestamp> {
    let ticks = i64::try_from(ticks).ok().filter(|t| *t != 0)?;
    ticks.checked_sub(FILETIME_EPOCH_TICKS)?.checked_mul(100).map(Timestamp)
}

/// Windows FILETIME (100 ns ticks since 1601-01-01 UTC) to a timestamp,
/// clamped to what a nanosecond clock holds.
pub fn from_filetime(ticks: u64) -> Timestamp {
    Timestamp((ticks as i64).saturating_sub(FILETIME_EPOCH_TICKS).saturating_mul(100))
}

/// The longest a request can have taken, in milliseconds: 2^32 - 1, 49.7
/// days. A larger access-log `time-taken` or FREB `timeTaken` is damage; it
/// would date the request's start centuries back.
pub const LONGEST_REQUEST_MS: u64 = u32::MAX as u64;

/// Strips ASCII whitespace from both ends.
pub fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_floor_and_bound_their_instants() {
        let t = Timestamp::from_parts(125, 7);
        assert_eq!(t.minute(), 2);
        assert_eq!(Timestamp::from_parts(-1, 0).minute(), -1);
        assert_eq!(Timestamp::of_minute(2), Timestamp::from_parts(120, 0));
        assert_eq!(Timestamp::last_of_minute(2), Timestamp::from_parts(179, 999_999_999));
        assert_eq!(Timestamp::last_of_minute(2).minute(), 2);
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(1601, 1, 1), Some(-134_774));
    }

    #[test]
    fn date_and_time_parse() {
        let t = parse_date_time(b"2016-02-06 01:02:03").expect("valid");
        assert_eq!(t.to_rfc3339(), "2016-02-06T01:02:03.000000000Z");
        let t = parse_date_time(b"2014-11-18 00:00:00.128").expect("valid");
        assert_eq!(t.to_rfc3339(), "2014-11-18T00:00:00.128000000Z");
        assert_eq!(parse_time_of_day(b"7:55:20"), Some((7 * 3600 + 55 * 60 + 20) * NANOS_PER_SEC));
        assert_eq!(parse_time_of_day(b"24:00:00"), None);
        assert_eq!(parse_time_of_day(b"12:00:00."), None);
        assert_eq!(parse_iso_date(b"2016-13-01"), None);
        assert_eq!(parse_iso_date(b"2016-1-01"), None);
    }

    #[test]
    fn dates_beyond_the_representable_range_are_refused() {
        assert_eq!(parse_date_time(b"9999-12-31 23:59:59"), None);
        assert_eq!(parse_rfc3339(b"1600-01-01T00:00:00Z"), None);
        assert!(parse_date_time(b"2262-01-01 00:00:00").is_some());
    }

    #[test]
    fn rfc3339_forms_in_event_xml() {
        let t = parse_rfc3339(b"2012-09-23T23:27:14.453Z").expect("valid");
        assert_eq!(t.to_rfc3339(), "2012-09-23T23:27:14.453000000Z");
        let t = parse_rfc3339(b"2017-07-27T08:51:49.4580925Z").expect("valid");
        assert_eq!(t.0 % NANOS_PER_SEC, 458_092_500);
        assert_eq!(
            parse_rfc3339(b"2020-03-18T09:40:55Z").expect("valid").to_rfc3339(),
            "2020-03-18T09:40:55.000000000Z"
        );
        assert_eq!(
            parse_rfc3339(b"2020-03-18T11:40:55+02:00").expect("valid").to_rfc3339(),
            "2020-03-18T09:40:55.000000000Z"
        );
        assert_eq!(parse_rfc3339(b"2020-03-18 09:40:55"), parse_rfc3339(b"2020-03-18T09:40:55Z"));
        assert_eq!(parse_rfc3339(b"2020-03-18T09:40"), None);
        assert_eq!(parse_rfc3339(b"2020-03-18T09:40:55+99:99"), None, "no such offset");
        assert_eq!(parse_rfc3339(b"2020-03-18T09:40:55+05:60"), None);
        assert!(parse_rfc3339(b"2020-03-18T09:40:55+14:00").is_some(), "Kiribati");
        assert_eq!(zone_offset(b"+0530"), Some(19_800));
        assert_eq!(zone_offset(b"-9999"), None);
        assert_eq!(zone_offset(b"+2400"), None);
        assert_eq!(from_filetime(116_444_736_000_000_000), Timestamp(0));
        // 1601 is before what nanoseconds in an i64 reach; callers treat 0 as missing.
        assert_eq!(from_filetime(0), Timestamp(i64::MIN));
    }

    #[test]
    fn spans_are_differences_and_tolerances() {
        let t = Timestamp::from_parts(1_000, 0);
        assert_eq!(t + Span::secs(90), Timestamp::from_parts(1_090, 0));
        assert_eq!(t - Span::mins(2), Timestamp::from_parts(880, 0));
        assert_eq!((t - Timestamp::from_parts(1_090, 0)).as_secs(), -90);
        assert_eq!((t - Timestamp::from_parts(1_090, 0)).abs(), Span::secs(90));
        assert_eq!(Span::hours(2).as_mins(), 120);
        assert_eq!(Span::millis(1_500), Span(1_500_000_000));
        assert_eq!(Span::millis(1_500).as_millis(), 1_500);
        assert_eq!(Span::millis(u64::MAX), Span(i64::MAX), "saturates");
        assert_eq!(Timestamp(i64::MAX) + Span::secs(1), Timestamp(i64::MAX), "saturates");
    }

    #[test]
    fn chrono_agrees_on_a_range_of_days() {
        for days in (-200_000_i64..200_000).step_by(997) {
            let dt = DateTime::<Utc>::from_timestamp(days * 86_400, 0).expect("in range");
            let naive = dt.date_naive();
            use chrono::Datelike;
            assert_eq!(days_from_civil(i64::from(naive.year()), naive.month(), naive.day()), Some(days));
        }
    }
}
