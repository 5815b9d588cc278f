//! Baseline traffic of one site on one host, and the edits incidents make
//! to it.

use std::net::Ipv4Addr;

use crate::bundle::AccessRow;
use crate::rng::Rng;
use crate::w3c::{AGENTS, PATHS};

/// The shop's home page, the Referer of half its visitors' requests.
const SHOP_HOME: &str = "https://shop.example.com/";

/// A public-looking client address (documentation and benchmark ranges are
/// avoided on purpose: real logs are full of ordinary addresses).
pub fn client_ip(rng: &mut Rng) -> Ipv4Addr {
    Ipv4Addr::new(
        (23 + rng.below(170)) as u8,
        rng.below(256) as u8,
        rng.below(256) as u8,
        (1 + rng.below(254)) as u8,
    )
}

const SCANNER: &str = "Mozilla/5.0+zgrab/0.x";
const SCAN_PATHS: &[&str] = &[
    "/wp-login.php",
    "/.env",
    "/phpmyadmin/index.php",
    "/admin/config.php",
    "/.git/config",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci",
    "/boaform/admin/formLogin",
    "/actuator/health",
    "/console/login/LoginForm.jsp",
    "/owa/auth/logon.aspx",
    "/solr/admin/info/system",
];

/// Ordinary outcomes: mostly 200s and 304s, some 404s, redirects, client
/// aborts (64, 995, 1236) and the odd server error.
const OUTCOMES: &[((u16, u32, u32), u32)] = &[
    ((200, 0, 0), 820),
    ((304, 0, 0), 70),
    ((302, 0, 0), 25),
    ((404, 0, 2), 35),
    ((200, 0, 64), 8),
    ((200, 0, 995), 2),
    ((200, 0, 1236), 1),
    ((403, 14, 0), 1),
    ((400, 0, 0), 1),
];

/// The access rows of one site on one host.
#[derive(Debug, Clone)]
pub struct Traffic {
    /// Host name.
    pub host: String,
    /// Site id.
    pub site: u32,
    /// Rows, in time order until edited.
    pub rows: Vec<AccessRow>,
    rng: Rng,
}

impl Traffic {
    /// Generates `[start_ms, end_ms)` of traffic at `peak_rate` requests per
    /// second at the daily peak (mid-afternoon UTC).
    pub fn generate(host: &str, site: u32, start_ms: i64, end_ms: i64, peak_rate: f64, seed: u64) -> Traffic {
        let mut rng = Rng::new(seed);
        let mut rows = Vec::new();
        let mut t = start_ms as f64;
        let behind_lb = site == super::API_SITE;
        let scan_at = start_ms + rng.below((end_ms - start_ms).max(1) as u64) as i64;
        let mut scanned = false;
        while (t as i64) < end_ms {
            let hour = (t as i64 / 1000).rem_euclid(86_400) as f64 / 3600.0;
            let curve = 0.15 + 0.85 * (((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos() * 0.5 + 0.5);
            let rate = (peak_rate * curve).max(0.001);
            t += -rng.unit().max(1e-12).ln() / rate * 1000.0;
            let at = t as i64;
            if at >= end_ms {
                break;
            }
            if !scanned && at >= scan_at {
                scanned = true;
                scan_burst(&mut rng, &mut rows, site, at);
            }
            let path = if behind_lb {
                ["/api/v2/orders", "/api/v2/orders/{id}", "/api/v2/stock/{id}", "/api/v2/health"]
                    [rng.below(4) as usize]
                    .replace("{id}", &(1 + rng.below(90_000)).to_string())
            } else {
                rng.weighted(PATHS).replace("{id}", &(1 + rng.below(50_000)).to_string())
            };
            let client = client_ip(&mut rng);
            if path.starts_with("/reports/") {
                ntlm_handshake(&mut rng, &mut rows, site, at, path, client);
                continue;
            }
            let status = *rng.weighted(OUTCOMES);
            let agent: &'static str = if behind_lb { "okhttp/4.12.0" } else { pick_agent(&mut rng) };
            let api = path.starts_with("/api");
            let taken = (rng.log_normal(if api { 45.0 } else { 8.0 }, 1.0) as u64).min(60_000)
                + if status.2 == 64 || status.2 == 995 { 2000 + rng.below(20_000) } else { 0 };
            rows.push(AccessRow {
                end_ms: at,
                site,
                method: if api && rng.below(4) == 0 { "POST" } else { "GET" },
                query: (path == "/api/search")
                    .then(|| format!("q=item{}&page={}", rng.below(9000), 1 + rng.below(5))),
                stem: path,
                port: 443,
                user: None,
                client: if behind_lb { Ipv4Addr::new(10, 0, 0, 5 + rng.below(2) as u8) } else { client },
                forwarded_for: behind_lb.then_some(client),
                agent,
                cookie: (rng.below(3) == 0).then(|| rng.next_u64()),
                referer: (rng.below(2) == 0).then_some(SHOP_HOME),
                status,
                sent: if status.0 == 304 { 180 } else { 300 + rng.below(40_000) },
                received: 250 + rng.below(1500),
                taken,
            });
        }
        Traffic { host: host.to_string(), site, rows, rng }
    }

    /// Rows ending in `[from, to)`.
    pub fn window(&mut self, from: i64, to: i64) -> impl Iterator<Item = &mut AccessRow> {
        self.rows.iter_mut().filter(move |r| r.end_ms >= from && r.end_ms < to)
    }

    /// Removes the rows ending in `[from, to)` (requests that were never
    /// logged: the worker died with them, or HTTP.sys answered).
    pub fn drop_window(&mut self, from: i64, to: i64) -> Vec<AccessRow> {
        self.rows.extract_if(.., |r| r.end_ms >= from && r.end_ms < to).collect()
    }

    /// Gives a fraction of the rows in `[from, to)` matching `filter` a new
    /// outcome and latency.
    pub fn set_outcome(
        &mut self,
        from: i64,
        to: i64,
        fraction: f64,
        filter: impl Fn(&AccessRow) -> bool,
        status: (u16, u32, u32),
        taken: (f64, f64),
    ) -> usize {
        let mut rng = self.rng.clone();
        let mut n = 0;
        for r in self.rows.iter_mut().filter(|r| r.end_ms >= from && r.end_ms < to) {
            if filter(r) && rng.unit() < fraction {
                r.status = status;
                r.taken = rng.log_normal(taken.0, taken.1).max(1.0) as u64;
                if status.0 >= 400 {
                    r.sent = 1200 + rng.below(4000);
                }
                n += 1;
            }
        }
        self.rng = rng;
        n
    }

    /// Randomness for edits.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

fn pick_agent(rng: &mut Rng) -> &'static str {
    rng.weighted::<&str>(AGENTS)
}

/// The Windows-authentication handshake: 401.2 (no credentials yet), 401.1
/// with SEC_E_NO_CREDENTIALS (an NTLM leg), then 200. Normal, not a failure.
fn ntlm_handshake(
    rng: &mut Rng,
    rows: &mut Vec<AccessRow>,
    site: u32,
    at: i64,
    path: String,
    client: Ipv4Addr,
) {
    let agent = AGENTS[0].0;
    let user = format!("CONTOSO\\user{}", rng.below(400));
    for (i, (status, taken)) in
        [((401, 2, 5), 1), ((401, 1, 2_148_074_254), 2), ((200, 0, 0), 40 + rng.below(300))]
            .into_iter()
            .enumerate()
    {
        rows.push(AccessRow {
            end_ms: at + i as i64 * 15,
            site,
            method: "GET",
            stem: path.clone(),
            query: None,
            port: 443,
            user: (status.0 == 200).then(|| user.clone()),
            client,
            forwarded_for: None,
            agent,
            cookie: None,
            referer: None,
            status,
            sent: if status.0 == 401 { 1293 } else { 5000 + rng.below(50_000) },
            received: 600 + rng.below(2000),
            taken,
        });
    }
}

/// A scanner probing for well-known paths: a burst of 404s from one address.
fn scan_burst(rng: &mut Rng, rows: &mut Vec<AccessRow>, site: u32, at: i64) {
    let client = client_ip(rng);
    let n = 30 + rng.below(40) as i64;
    for i in 0..n {
        rows.push(AccessRow {
            end_ms: at + i * 700,
            site,
            method: "GET",
            stem: SCAN_PATHS[(i as usize) % SCAN_PATHS.len()].to_string(),
            query: None,
            port: 443,
            user: None,
            client,
            forwarded_for: None,
            agent: SCANNER,
            cookie: None,
            referer: None,
            status: (404, 0, 2),
            sent: 1245,
            received: 180,
            taken: 1 + rng.below(5),
        });
    }
}

impl Traffic {
    /// Removes the rows in `[from, to)` that match `filter`.
    pub fn drop_window_where(
        &mut self,
        from: i64,
        to: i64,
        filter: impl Fn(&AccessRow) -> bool,
    ) -> Vec<AccessRow> {
        self.rows.extract_if(.., |r| r.end_ms >= from && r.end_ms < to && filter(r)).collect()
    }
}
