//! Scenarios: a bundle of realistic evidence around a planted incident whose
//! answer is known, recorded in `truth.json`.

mod attacks;
mod catalog;
mod effects;
mod events;
mod platform;
mod recycles;
mod requests;
mod traffic;

use std::io;
use std::path::Path;

use serde::Serialize;

use crate::bundle::{Bundle, FieldSet, SiteSpec};
use crate::layout::Layout;
use crate::rng::Rng;
pub use catalog::{SCENARIOS, ScenarioDef};
pub use events::Ev;
pub use traffic::Traffic;

/// Size controls.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Size {
    /// Number of web servers (farm scenarios put them behind a load balancer).
    pub hosts: usize,
    /// Hours of evidence, ending a little after the incident.
    pub hours: u32,
    /// Requests per second per site at the daily peak.
    pub rate: f64,
}

impl Default for Size {
    fn default() -> Self {
        Size { hosts: 1, hours: 6, rate: 0.5 }
    }
}

/// The peak rate that makes the access logs of `hosts` servers over `hours`
/// about `bytes` long: rows average about 205 bytes over both sites, the daily
/// curve averages 0.6 of the peak, and the API site runs at 0.6 of the shop's rate.
pub fn rate_for_size(bytes: u64, hosts: usize, hours: u32) -> f64 {
    let rows = bytes as f64 / 205.0;
    let per_unit_rate = f64::from(hours.max(1)) * 3600.0 * 0.6 * 1.6 * hosts.max(1) as f64;
    rows / per_unit_rate
}

/// Where the answer is.
#[derive(Clone, Debug, Serialize)]
pub struct Scope {
    /// Host.
    pub host: String,
    /// Site id.
    pub site: Option<u32>,
    /// Application pool.
    pub app_pool: Option<String>,
}

/// A time window, RFC 3339 UTC.
#[derive(Clone, Debug, Serialize)]
pub struct Window {
    /// Start.
    pub start: String,
    /// End.
    pub end: String,
}

/// The known answer of a scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Truth {
    /// Scenario name.
    pub scenario: String,
    /// Seed it was generated with.
    pub seed: u64,
    /// Size it was generated with (with the seed, enough to regenerate it).
    pub size: Size,
    /// Failure-mode ids that must be found, most important first (empty for
    /// a healthy bundle).
    pub expected: Vec<&'static str>,
    /// Incident window.
    pub window: Option<Window>,
    /// Where.
    pub scope: Option<Scope>,
    /// Ids that would be wrong answers (look-alikes).
    pub lookalikes: Vec<&'static str>,
    /// Damage planted on purpose (files and what is wrong with them).
    pub damage: Vec<String>,
    /// What happened, in an IIS engineer's words.
    pub story: String,
    /// ATT&CK techniques the security lens must report (attack scenarios).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<&'static str>,
}

/// The state a scenario builds on.
#[derive(Debug)]
pub struct Ctx {
    /// Randomness, from the seed.
    pub rng: Rng,
    /// Start and end of the evidence, Unix ms.
    pub start_ms: i64,
    /// End of the evidence, Unix ms.
    pub end_ms: i64,
    /// The bundle being built.
    pub bundle: Bundle,
    /// Web servers.
    pub web_hosts: Vec<String>,
    /// Baseline traffic per (host, site), generated before the incident is
    /// planted and written at the end.
    pub traffic: Vec<Traffic>,
    /// The answer.
    pub truth: Truth,
    size: Size,
}

/// Unix ms to RFC 3339.
pub fn rfc3339(ms: i64) -> String {
    let (d, t) = crate::w3c::date_and_time(ms.div_euclid(1000));
    format!("{d}T{t}Z")
}

/// The primary site every web server runs.
pub const SHOP_SITE: u32 = 1;
/// Its application pool.
pub const SHOP_POOL: &str = "ShopPool";
/// The second site (an API behind a load balancer, logging X-Forwarded-For).
pub const API_SITE: u32 = 2;
/// Its application pool.
pub const API_POOL: &str = "ApiPool";

impl Ctx {
    fn new(name: &str, seed: u64, size: &Size) -> Self {
        let mut rng = Rng::new(seed);
        // Evidence ends on 2025-11-24 at a seeded time in the afternoon.
        let end_ms = 1_763_942_400_000 + (14 * 3600 + rng.below(3 * 3600) as i64) * 1000;
        let start_ms = end_ms - i64::from(size.hours.max(1)) * 3_600_000;
        let web_hosts = (1..=size.hosts.max(1)).map(|i| format!("WEB{i:02}")).collect();
        Ctx {
            rng,
            start_ms,
            end_ms,
            bundle: Bundle::default(),
            web_hosts,
            traffic: Vec::new(),
            truth: Truth {
                scenario: name.to_string(),
                seed,
                size: size.clone(),
                expected: Vec::new(),
                window: None,
                scope: None,
                lookalikes: Vec::new(),
                damage: Vec::new(),
                story: String::new(),
                techniques: Vec::new(),
            },
            size: size.clone(),
        }
    }

    /// A time inside the evidence, `fraction` of the way through it.
    pub fn at(&self, fraction: f64) -> i64 {
        self.start_ms + ((self.end_ms - self.start_ms) as f64 * fraction) as i64
    }

    /// Records the answer: the ids, the window (Unix ms), where (host, site,
    /// pool), the look-alikes and the story.
    pub fn answer(
        &mut self,
        expected: &[&'static str],
        window: (i64, i64),
        (host, site, pool): (&str, Option<u32>, Option<&str>),
        lookalikes: &[&'static str],
        story: &str,
    ) {
        self.truth.expected = expected.to_vec();
        self.truth.window = Some(Window { start: rfc3339(window.0), end: rfc3339(window.1) });
        self.truth.scope = Some(Scope { host: host.to_string(), site, app_pool: pool.map(str::to_string) });
        self.truth.lookalikes = lookalikes.to_vec();
        self.truth.story = story.to_string();
    }

    /// Baseline: every web server runs the shop site and the API site, with
    /// ordinary traffic, boot-time service events and idle HTTP.sys noise.
    fn baseline(&mut self) {
        let mut plans = Vec::new();
        for host in self.web_hosts.clone() {
            let logs = self.bundle.host(&host);
            logs.sites.insert(
                SHOP_SITE,
                SiteSpec {
                    id: SHOP_SITE,
                    pool: SHOP_POOL.into(),
                    fields: FieldSet::Full,
                    host_header: "shop.example.com".into(),
                },
            );
            logs.sites.insert(
                API_SITE,
                SiteSpec {
                    id: API_SITE,
                    pool: API_POOL.into(),
                    fields: FieldSet::DefaultWithForwardedFor,
                    host_header: "api.example.com".into(),
                },
            );
            for (site, rate) in [(SHOP_SITE, self.size.rate), (API_SITE, self.size.rate * 0.6)] {
                let seed = self.rng.next_u64();
                plans.push((host.clone(), site, rate, seed));
            }
            let boot = self.start_ms - 86_400_000 + self.rng.below(3_600_000) as i64;
            events::boot(self, &host, boot);
            let idle = (self.end_ms - self.start_ms) / 1_800_000;
            for i in 0..idle {
                let t = self.start_ms + i * 1_800_000 + self.rng.below(1_800_000) as i64;
                let client = traffic::client_ip(&mut self.rng);
                let port = 49152 + self.rng.below(16000) as u16;
                self.bundle.host(&host).httperr.push(crate::bundle::HttpErrRow {
                    time: t / 1000,
                    client: (client.to_string(), port),
                    server: ("10.0.1.11".into(), 443),
                    request: None,
                    status: None,
                    site: None,
                    reason: "Timer_ConnectionIdle",
                    queue: None,
                });
            }
        }
        // Each stream has its own seed: generating them in parallel gives the
        // same rows as one after the other.
        use rayon::prelude::*;
        let (start, end) = (self.start_ms, self.end_ms);
        self.traffic = plans
            .into_par_iter()
            .map(|(host, site, rate, seed)| Traffic::generate(&host, site, start, end, rate, seed))
            .collect();
    }
    /// The traffic of one site on one host.
    pub fn traffic_mut(&mut self, host: &str, site: u32) -> &mut Traffic {
        let i = self.traffic.iter().position(|t| t.host == host && t.site == site).unwrap_or(0);
        &mut self.traffic[i]
    }

    /// Appends an event to a host's log.
    pub fn event(&mut self, host: &str, ev: Ev) {
        let (channel, record) = ev.into_record(host);
        self.bundle.host(host).events.entry(channel).or_default().push(record);
    }

    fn finish(mut self, out: &Path, layout: Layout) -> io::Result<Truth> {
        for t in std::mem::take(&mut self.traffic) {
            let logs = self.bundle.host(&t.host);
            logs.access.entry(t.site).or_default().extend(t.rows);
        }
        self.bundle.write(out, layout)?;
        let truth = self.truth;
        let json = serde_json::to_string_pretty(&truth).map_err(io::Error::other)?;
        std::fs::write(out.join("truth.json"), json + "\n")?;
        Ok(truth)
    }
}

/// Generates a scenario into `out`, one folder per host.
pub fn generate(name: &str, out: &Path, seed: u64, size: &Size) -> io::Result<Truth> {
    generate_in(name, out, seed, size, Layout::Bundle)
}

/// Generates a scenario into `out` in `layout`.
pub fn generate_in(name: &str, out: &Path, seed: u64, size: &Size, layout: Layout) -> io::Result<Truth> {
    let def = SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no scenario named {name}")))?;
    let mut size = size.clone();
    size.hosts = size.hosts.max(def.min_hosts);
    let mut ctx = Ctx::new(name, seed, &size);
    ctx.baseline();
    (def.plant)(&mut ctx);
    std::fs::create_dir_all(out)?;
    ctx.finish(out, layout)
}
