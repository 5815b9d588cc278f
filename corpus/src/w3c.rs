//! W3C access-log traffic.

use std::io::{self, Write};

use crate::rng::Rng;

/// The full IIS 10 standard field set, in the order IIS writes it.
pub const FULL_FIELDS: &str = "date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken";

/// What to generate.
#[derive(Clone, Debug)]
pub struct TrafficSpec {
    /// Seed; the same seed gives the same bytes.
    pub seed: u64,
    /// Host name (`s-computername`).
    pub host: String,
    /// Site id (`s-sitename` is `W3SVC<id>`).
    pub site_id: u32,
    /// First second (Unix time, UTC).
    pub start: i64,
    /// Stop after this many bytes of output.
    pub target_bytes: u64,
    /// Mean requests per second at the daily peak.
    pub peak_rate: f64,
}

pub(crate) const PATHS: &[(&str, u32)] = &[
    ("/", 40),
    ("/default.aspx", 30),
    ("/api/orders", 60),
    ("/api/orders/{id}", 80),
    ("/api/customers/{id}", 40),
    ("/api/search", 30),
    ("/account/login", 15),
    ("/content/site.css", 50),
    ("/scripts/app.js", 50),
    ("/images/logo.png", 40),
    ("/images/products/{id}.jpg", 70),
    ("/favicon.ico", 20),
    ("/health", 25),
    ("/reports/monthly.aspx", 5),
];

pub(crate) const AGENTS: &[(&str, u32)] = &[
    (
        "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0.0.0+Safari/537.36",
        45,
    ),
    (
        "Mozilla/5.0+(Macintosh;+Intel+Mac+OS+X+10_15_7)+AppleWebKit/605.1.15+(KHTML,+like+Gecko)+Version/17.5+Safari/605.1.15",
        15,
    ),
    (
        "Mozilla/5.0+(iPhone;+CPU+iPhone+OS+17_5+like+Mac+OS+X)+AppleWebKit/605.1.15+(KHTML,+like+Gecko)+Mobile/15E148",
        15,
    ),
    ("Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64;+rv:132.0)+Gecko/20100101+Firefox/132.0", 10),
    ("Mozilla/5.0+(compatible;+bingbot/2.0;++http://www.bing.com/bingbot.htm)", 4),
    ("okhttp/4.12.0", 6),
    ("-", 3),
    ("AlwaysOn", 2),
];

pub(crate) const STATUSES: &[((u16, u32, u32), u32)] = &[
    ((200, 0, 0), 820),
    ((304, 0, 0), 70),
    ((302, 0, 0), 25),
    ((404, 0, 2), 40),
    ((200, 0, 64), 8),
    ((200, 0, 995), 2),
    ((401, 2, 5), 10),
    ((401, 1, 2148074254), 8),
    ((403, 14, 0), 2),
    ((500, 0, 0), 3),
    ((400, 0, 0), 2),
];

/// Writes the header block and rows until `target_bytes` is reached.
/// Returns the number of rows written.
pub fn write_traffic(spec: &TrafficSpec, out: &mut impl Write) -> io::Result<u64> {
    let mut rng = Rng::new(spec.seed);
    let mut written = 0u64;
    let start = chrono_like(spec.start);
    let header = format!(
        "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: {} {}\r\n#Fields: {FULL_FIELDS}\r\n",
        start.0, start.1
    );
    out.write_all(header.as_bytes())?;
    written += header.len() as u64;
    let mut t = spec.start as f64;
    let mut rows = 0u64;
    let mut line = Vec::with_capacity(1024);
    let server_ip = format!("10.0.{}.{}", spec.site_id % 250, 10 + rng.below(200));
    while written < spec.target_bytes {
        // Daily curve: quiet at night (UTC), busy mid-afternoon.
        let hour = (t as i64).rem_euclid(86_400) as f64 / 3600.0;
        let curve = 0.15 + 0.85 * (((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos() * 0.5 + 0.5);
        let rate = (spec.peak_rate * curve).max(0.01);
        t += -rng.unit().max(1e-12).ln() / rate;
        let (date, time) = chrono_like(t as i64);
        let path = rng.weighted(PATHS).replace("{id}", &(1 + rng.below(50_000)).to_string());
        let (status, sub, win32) = *rng.weighted(STATUSES);
        let method = if path.starts_with("/api/orders") && rng.below(4) == 0 { "POST" } else { "GET" };
        let query = if path == "/api/search" {
            format!("q=item{}&page={}", rng.below(9000), 1 + rng.below(5))
        } else {
            "-".into()
        };
        let user = if status == 200 && rng.below(10) == 0 {
            format!("CONTOSO\\user{}", rng.below(400))
        } else {
            "-".into()
        };
        let client =
            format!("{}.{}.{}.{}", 20 + rng.below(180), rng.below(256), rng.below(256), 1 + rng.below(254));
        let agent = rng.weighted(AGENTS);
        let cookie =
            if rng.below(3) == 0 { format!("ASP.NET_SessionId={:016x}", rng.next_u64()) } else { "-".into() };
        let referer = if rng.below(2) == 0 { "https://shop.example.com/".to_string() } else { "-".into() };
        let taken =
            rng.log_normal(if path.starts_with("/api") { 45.0 } else { 8.0 }, 1.1).min(120_000.0) as u64;
        let sent = if status == 304 { 180 } else { 300 + rng.below(40_000) };
        let recv = 250 + rng.below(1500);
        line.clear();
        write!(
            line,
            "{date} {time} W3SVC{} {} {server_ip} {method} {path} {query} 443 {user} {client} HTTP/1.1 {agent} {cookie} {referer} shop.example.com {status} {sub} {win32} {sent} {recv} {taken}\r\n",
            spec.site_id, spec.host
        )?;
        out.write_all(&line)?;
        written += line.len() as u64;
        rows += 1;
    }
    Ok(rows)
}

/// `YYYY-MM-DD`, `HH:MM:SS` for a Unix second.
pub fn date_and_time(secs: i64) -> (String, String) {
    chrono_like(secs)
}

fn chrono_like(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (format!("{y:04}-{m:02}-{d:02}"), format!("{:02}:{:02}:{:02}", tod / 3600, tod / 60 % 60, tod % 60))
}

/// Inverse of days-from-civil (Howard Hinnant).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let spec = TrafficSpec {
            seed: 3,
            host: "WEB01".into(),
            site_id: 1,
            start: 1_700_000_000,
            target_bytes: 20_000,
            peak_rate: 50.0,
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        let rows = write_traffic(&spec, &mut a).expect("write");
        write_traffic(&spec, &mut b).expect("write");
        assert_eq!(a, b);
        assert!(rows > 10);
        assert!(a.starts_with(b"#Software: Microsoft Internet Information Services 10.0\r\n"));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(chrono_like(1_700_000_000), ("2023-11-14".into(), "22:13:20".into()));
    }
}
