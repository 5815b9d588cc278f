//! Flags as typed values, parsed once at the boundary (clap calls the
//! parsers here), and the frozen settings the commands run with: the scope
//! of the evidence, how to read it, the zone times are shown in, and where
//! output goes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, Offset, SecondsFormat};
use faultline_analyzer::identity::HostOverrides;
use faultline_analyzer::{FindingSeverity, Scope, Skew};
use faultline_parser::{ArchiveLimits, ReadConfig, Span, TextConfig, Timestamp};

use crate::args::{ClientArgs, LensArgs, RangeArgs, ReadingArgs, Security};

/// `--from`/`--to`: an RFC 3339 time.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    faultline_parser::time::parse_rfc3339(text.as_bytes()).ok_or_else(|| {
        format!("expected an RFC 3339 time between 1678 and 2261, such as 2025-11-24T13:00:00Z, got {text:?}")
    })
}

/// `--fail-on`: a finding severity.
pub fn parse_severity(text: &str) -> Result<FindingSeverity, String> {
    FindingSeverity::parse(text)
        .ok_or_else(|| format!("unknown severity {text:?} (info, low, medium, high, critical)"))
}

/// `--skew HOST=±SECONDS`: one host's clock correction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSkew {
    /// The host, as written.
    pub host: String,
    /// Added to its times.
    pub by: Span,
}

/// Parses `HOST=SECONDS` (the sign optional).
pub fn parse_skew(text: &str) -> Result<HostSkew, String> {
    let (host, secs) = text.split_once('=').ok_or_else(|| format!("expected HOST=SECONDS, got {text:?}"))?;
    let secs: i64 = secs.trim_start_matches('+').parse().map_err(|_| format!("bad seconds in {text:?}"))?;
    if host.is_empty() {
        return Err(format!("no host in {text:?}"));
    }
    // Fifty years either way: a clock set to the wrong decade is a clock;
    // more would carry times out of what a timestamp holds.
    const MOST: i64 = 50 * 366 * 86_400;
    if secs.unsigned_abs() > MOST.unsigned_abs() {
        return Err(format!("{secs} seconds in {text:?} is more than fifty years ({MOST} seconds)"));
    }
    Ok(HostSkew { host: host.to_string(), by: Span::secs(secs) })
}

/// `--host NAME=PATH`: the host of the evidence at or under a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPath {
    /// The host, as written.
    pub host: String,
    /// The file, folder or archive it holds.
    pub path: PathBuf,
}

/// Parses `NAME=PATH`.
pub fn parse_host_path(text: &str) -> Result<HostPath, String> {
    let (host, path) = text.split_once('=').ok_or_else(|| format!("expected NAME=PATH, got {text:?}"))?;
    if host.trim().is_empty() || path.is_empty() {
        return Err(format!("expected NAME=PATH, got {text:?}"));
    }
    Ok(HostPath { host: host.trim().to_string(), path: PathBuf::from(path) })
}

/// The zone times are shown in (`--tz`); evidence stays in UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// As the user wrote it, for labels.
    name: String,
    rule: ZoneRule,
}

/// How a zone's offset is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ZoneRule {
    /// Always the same offset.
    Fixed(FixedOffset),
    /// An IANA zone: the offset in force at each instant (daylight saving).
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone { name: "UTC".into(), rule: ZoneRule::Fixed(chrono::Utc.fix()) }
    }

    /// The zone's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant as a local time with the offset in force then.
    pub fn local(&self, t: Timestamp) -> DateTime<FixedOffset> {
        match self.rule {
            ZoneRule::Fixed(offset) => t.to_datetime().with_timezone(&offset),
            ZoneRule::Named(tz) => t.to_datetime().with_timezone(&tz).fixed_offset(),
        }
    }

    /// A time in this zone, to the second: `2025-11-24 13:20:22`.
    pub fn time(&self, t: Timestamp) -> String {
        self.local(t).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// A finding's prose with the UTC times it names (`2026-03-29 15:04:28
    /// UTC`, or to the minute) in this zone, with their offset
    /// (`2026-03-29 11:04:28 -04:00`): the window line and the timeline
    /// beside it are in this zone. The JSON keeps the analysis's words.
    pub fn prose(&self, text: &str) -> String {
        if *self == Zone::utc() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut rest = text;
        while let Some(at) = rest.find(" UTC") {
            let before = &rest[..at];
            // To the second or to the minute, said as precisely as written.
            let forms = [("%Y-%m-%d %H:%M:%S", 19), ("%Y-%m-%d %H:%M", 16)];
            let parsed = forms.into_iter().find_map(|(form, len)| {
                let start = before.len().checked_sub(len)?;
                let written = before.get(start..)?;
                let naive = chrono::NaiveDateTime::parse_from_str(written, form).ok()?;
                Some((start, naive.and_utc(), form))
            });
            match parsed {
                Some((start, utc, form)) => {
                    out.push_str(&before[..start]);
                    let local = self.local(Timestamp::from_parts(utc.timestamp(), 0));
                    out.push_str(&local.format(&format!("{form} %:z")).to_string());
                }
                None => out.push_str(&rest[..at + 4]),
            }
            rest = &rest[at + 4..];
        }
        out.push_str(rest);
        out
    }

    /// [`Zone::time`], or `-` when unknown.
    pub fn time_or_dash(&self, t: Option<Timestamp>) -> String {
        t.map_or_else(|| "-".into(), |t| self.time(t))
    }

    /// A time in this zone in RFC 3339 with nine fractional digits: one
    /// length for every row, so text order is time order in UTC or a fixed
    /// offset (in a named zone, not across the hour a clock goes back).
    pub fn rfc3339(&self, t: Timestamp) -> String {
        self.local(t).to_rfc3339_opts(SecondsFormat::Nanos, true)
    }
}

/// `--tz`: `UTC`, `Z`, a fixed offset `+hh:mm` / `-hh:mm`, or an IANA zone
/// name (`Europe/Berlin`, `America/New_York`), daylight saving included.
pub fn parse_zone(text: &str) -> Result<Zone, String> {
    // A negative offset is taken as a value (`--tz -03:00`), so a flag
    // written where the zone belongs arrives here.
    if text.starts_with("--") {
        return Err(format!(
            "expected a zone (UTC, an offset such as -03:00, or a name such as Europe/Berlin) before {text}"
        ));
    }
    let name = text.to_string();
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Ok(Zone { name, ..Zone::utc() });
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => {
            return text.parse::<chrono_tz::Tz>().map(|tz| Zone { name, rule: ZoneRule::Named(tz) }).map_err(
                |_| {
                    format!(
                        "expected UTC, an offset such as +02:00 or a zone such as Europe/Berlin, got {text:?}"
                    )
                },
            );
        }
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let number = |v: &str, what: &str| v.parse::<i32>().map_err(|_| format!("bad {what} in {text:?}"));
    let (h, m) = (number(h, "hours")?, number(m, "minutes")?);
    if h > 14 || m > 59 {
        return Err(format!("offset out of range: {text:?}"));
    }
    let offset =
        FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(|| format!("bad offset {text:?}"))?;
    Ok(Zone { name, rule: ZoneRule::Fixed(offset) })
}

/// The time range and the analyst's corrections as a scope.
pub fn scope(range: &RangeArgs, reading: &ReadingArgs) -> Scope {
    let mut skew = Skew::default();
    for s in &range.skew {
        skew.insert(&s.host, s.by);
    }
    Scope { from: range.from, to: range.to, skew, hosts: host_overrides(reading) }
}

/// Warns, on standard error, about each `--skew` host that no evidence read
/// belongs to, and each `--host` path no file read lies under: a misspelt
/// host or path would otherwise change nothing, silently.
pub fn warn_unused_corrections(scope: &Scope) {
    let mut err = std::io::stderr().lock();
    for host in scope.skew.unused() {
        let _ = writeln!(
            err,
            "warning: --skew {}: no evidence read belongs to that host; its correction changed nothing",
            crate::style::sanitize(host)
        );
    }
    drop(err);
    warn_unused_hosts(&scope.hosts);
}

/// Warns, on standard error, about each `--host` path no file read lies
/// under.
pub fn warn_unused_hosts(hosts: &HostOverrides) {
    let mut err = std::io::stderr().lock();
    for named in hosts.unused() {
        let _ = writeln!(
            err,
            "warning: --host {}: no file read lies at or under that path; it named no host",
            crate::style::sanitize(&named)
        );
    }
}

/// The hosts named for paths (`--host`).
pub fn host_overrides(reading: &ReadingArgs) -> HostOverrides {
    let mut hosts = HostOverrides::default();
    for h in &reading.hosts {
        hosts.insert(&h.host, h.path.clone());
    }
    hosts
}

/// How to read: archive limits and which events to keep.
pub fn read_config(reading: &ReadingArgs) -> ReadConfig {
    ReadConfig {
        text: TextConfig::default(),
        limits: ArchiveLimits { max_member_bytes: reading.max_member_size << 20, ..ArchiveLimits::default() },
        all_events: reading.all_events,
    }
}

/// The output file, or standard output.
pub fn output(path: Option<&PathBuf>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::new(NamedFile {
            file: File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            path: path.clone(),
        })),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

/// An output file whose write errors name it (a full disk, a file that
/// takes no writes): the error alone said only `Input/output error`.
struct NamedFile {
    file: File,
    path: PathBuf,
}

impl NamedFile {
    fn named(&self, e: std::io::Error) -> std::io::Error {
        std::io::Error::new(e.kind(), format!("writing {}: {e}", self.path.display()))
    }
}

impl Write for NamedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf).map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush().map_err(|e| self.named(e))
    }
}

impl LensArgs {
    /// The rules `--security` and `--rules` name.
    pub fn hunt(&self) -> anyhow::Result<faultline_analyzer::hunting::Hunt> {
        let mut loaded = faultline_hunt::LoadReport::default();
        if self.security != Security::Off {
            loaded.add_bundled();
        }
        if self.security == Security::All {
            for dir in &self.rules {
                loaded.add_path(dir, false)?;
            }
        } else if !self.rules.is_empty() {
            anyhow::bail!("--rules needs --security all");
        }
        let loaded = loaded.finish();
        // The lens's own report has no load report: a rule of the user's
        // skipped must not vanish unsaid.
        if !loaded.skipped.is_empty() {
            use std::io::Write as _;
            let total = loaded.rules.len() + loaded.correlations.len() + loaded.skipped.len();
            let _ = writeln!(
                std::io::stderr().lock(),
                "warning: {} of {total} rules skipped; `faultline hunt --list-rules --verbose --rules DIR` says why",
                loaded.skipped.len()
            );
        }
        let hunt = faultline_analyzer::hunting::Hunt::new(loaded);
        Ok(self.clients.apply(hunt))
    }
}

impl ClientArgs {
    /// `hunt` with the allow-listed clients and the named proxies.
    pub fn apply(&self, hunt: faultline_analyzer::hunting::Hunt) -> faultline_analyzer::hunting::Hunt {
        hunt.allow_clients(self.allow_client.clone()).trust_proxies(self.trusted_proxy.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UTC times a finding's prose names are said in the reader's
    /// zone, with its offset in force then; in UTC the prose is as written,
    /// and text that only looks like a time is left alone.
    #[test]
    fn prose_times_follow_the_zone() {
        let text =
            "It started again at 2026-03-29 15:04:28 UTC, no row until 2026-01-10 08:05 UTC (ID 12 UTC).";
        let york = parse_zone("America/New_York").expect("zone");
        assert_eq!(
            york.prose(text),
            "It started again at 2026-03-29 11:04:28 -04:00, no row until 2026-01-10 03:05 -05:00 (ID 12 UTC)."
        );
        assert_eq!(Zone::utc().prose(text), text);
        assert_eq!(york.prose("é UTC"), "é UTC");
    }

    #[test]
    fn zones_are_utc_or_fixed_offsets() {
        let t = Timestamp::from_parts(1_763_990_422, 0);
        assert_eq!(parse_zone("UTC").map(|z| z.time(t)), Ok("2025-11-24 13:20:22".to_string()));
        let berlin = parse_zone("+01:00").expect("offset");
        assert_eq!((berlin.name(), berlin.time(t)), ("+01:00", "2025-11-24 14:20:22".to_string()));
        assert_eq!(
            parse_zone("-05:30").map(|z| z.rfc3339(t)),
            Ok("2025-11-24T07:50:22.000000000-05:30".to_string())
        );
        assert!(parse_zone("+15:00").is_err() && parse_zone("Mars").is_err() && parse_zone("+1x").is_err());
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let berlin = parse_zone("Europe/Berlin").expect("an IANA zone");
        // Winter: UTC+1; summer: UTC+2.
        let winter = Timestamp::from_parts(1_763_990_422, 0);
        let summer = Timestamp::from_parts(1_751_372_422, 0);
        assert_eq!(berlin.time(winter), "2025-11-24 14:20:22");
        assert_eq!(berlin.rfc3339(summer), "2025-07-01T14:20:22.000000000+02:00");
        let new_york = parse_zone("America/New_York").expect("an IANA zone");
        assert_eq!(new_york.time(winter), "2025-11-24 08:20:22");
        assert_eq!(new_york.name(), "America/New_York");
        assert!(parse_zone("Europe/Atlantis").is_err());
    }

    #[test]
    fn skews_and_times_are_checked_when_given() {
        assert_eq!(parse_skew("web01=-90"), Ok(HostSkew { host: "web01".into(), by: Span::secs(-90) }));
        assert_eq!(parse_skew("WEB02=+5").map(|s| s.by), Ok(Span::secs(5)));
        assert!(parse_skew("WEB01").is_err() && parse_skew("=5").is_err() && parse_skew("WEB01=x").is_err());
        // A clock ten years off is corrected; one past what a time holds is refused.
        assert!(parse_skew("WEB01=-315360000").is_ok());
        assert!(parse_skew("WEB01=-11000000000").is_err() && parse_skew("WEB01=20000000000").is_err());
        // The one number whose magnitude an i64 cannot hold.
        assert!(parse_skew("WEB01=-9223372036854775808").is_err());
        assert!(parse_time("2025-11-24T13:00:00Z").is_ok() && parse_time("yesterday").is_err());
        assert_eq!(parse_severity("HIGH"), Ok(FindingSeverity::High));
        assert_eq!(
            parse_host_path("WEB01=collection/"),
            Ok(HostPath { host: "WEB01".into(), path: PathBuf::from("collection/") })
        );
        assert!(
            parse_host_path("WEB01").is_err()
                && parse_host_path("=x").is_err()
                && parse_host_path("W=").is_err()
        );
    }
}
