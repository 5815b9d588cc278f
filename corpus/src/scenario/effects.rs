//! Edits incidents make to the baseline: requests HTTP.sys answers instead
//! of the worker, requests abandoned by a dying worker, cold starts, traces.

use super::Ctx;
use crate::bundle::{AccessRow, HttpErrRow};
use crate::freb::TraceSpec;

pub(super) const SERVER_IP: &str = "10.0.1.11";

/// Turns would-be requests into HTTP.sys answers (the pool is down): the
/// rows leave the access log and appear in HTTPERR with `reason`.
pub(super) fn answered_by_httpsys(
    ctx: &mut Ctx,
    (host, site, pool): (&str, u32, &str),
    (from, to): (i64, i64),
    status: Option<u16>,
    reason: &'static str,
) {
    let gone = ctx.traffic_mut(host, site).drop_window(from, to);
    let logs = ctx.bundle.host(host);
    for r in gone {
        logs.httperr.push(httperr_for(&r, status, site, pool, reason));
    }
}

pub(super) fn httperr_for(
    r: &AccessRow,
    status: Option<u16>,
    site: u32,
    pool: &str,
    reason: &'static str,
) -> HttpErrRow {
    let port = 49152 + (r.end_ms % 16000) as u16;
    let uri = match &r.query {
        Some(q) => format!("{}?{q}", r.stem),
        None => r.stem.clone(),
    };
    HttpErrRow {
        time: r.end_ms / 1000,
        client: (r.client.to_string(), port),
        server: (SERVER_IP.into(), 443),
        request: Some(("HTTP/1.1", r.method, uri)),
        status,
        site: Some(site),
        reason,
        queue: Some(pool.to_string()),
    }
}

/// The in-flight requests of a dying worker: HTTP.sys logs them as
/// abandoned, in the second the process went away.
pub(super) fn abandoned(ctx: &mut Ctx, host: &str, site: u32, pool: &str, at: i64, n: u64) {
    let mut gone = ctx.traffic_mut(host, site).drop_window(at - 2_000, at + 6_000);
    // However quiet the site, a dying worker holds a few requests.
    let template = ctx.traffic_mut(host, site).rows.first().cloned();
    if let Some(template) = template {
        while (gone.len() as u64) < n {
            let mut r = template.clone();
            r.end_ms = at - 1_500 + gone.len() as i64 * 300;
            r.stem =
                ["/api/orders", "/default.aspx", "/api/search", "/account/login"][gone.len() % 4].to_string();
            r.client = super::traffic::client_ip(ctx.traffic_mut(host, site).rng());
            gone.push(r);
        }
    }
    let logs = ctx.bundle.host(host);
    for (i, r) in gone.iter().enumerate() {
        let mut row = httperr_for(r, None, site, pool, "Connection_Abandoned_By_ReqQueue");
        row.time = at / 1000;
        row.request = if (i as u64) < n { row.request } else { None };
        logs.httperr.push(row);
    }
}

pub(super) fn cold_start(ctx: &mut Ctx, host: &str, site: u32, after: i64) {
    let traffic = ctx.traffic_mut(host, site);
    let mut seen = 0;
    for r in traffic.window(after, after + 120_000) {
        if seen < 3 {
            r.taken += 2_500 + (r.end_ms % 4_000) as u64;
            seen += 1;
        }
    }
}

/// FREB traces for the first `n` rows of a window (the failed-request rule
/// saves a trace per failing request, up to `maxLogFiles`).
#[allow(clippy::too_many_arguments)]
pub(super) fn traces(
    ctx: &mut Ctx,
    (host, site, pool): (&str, u32, &str),
    (from, to): (i64, i64),
    n: usize,
    status: (u16, u32),
    error: Option<(&str, u32, &str, u32)>,
    config_exception: Option<&str>,
) {
    let worker = super::events::pid(ctx);
    let header = ctx
        .bundle
        .host(host)
        .sites
        .get(&site)
        .map_or_else(|| "shop.example.com".to_string(), |s| s.host_header.clone());
    let rows: Vec<AccessRow> =
        ctx.traffic_mut(host, site).window(from, to).take(n).map(|r| r.clone()).collect();
    for (i, r) in rows.iter().enumerate() {
        ctx.bundle.host(host).traces.entry(site).or_default().push(TraceSpec {
            url: format!("https://{header}:443{}", r.stem),
            site_id: site,
            app_pool: pool.into(),
            process_id: worker,
            verb: r.method.into(),
            client: (r.client.to_string(), 50_000 + i as u16),
            status,
            time_taken_ms: r.taken,
            start_ms: r.end_ms - r.taken as i64,
            error: error.map(|(m, n, name, hr)| (m.to_string(), n, name.to_string(), hr)),
            config_exception: config_exception.map(str::to_string),
            computer: host.to_string(),
            activity_id: format!("{{8000{i:04X}-0001-F700-B63F-84710C7967BB}}"),
            modules: Vec::new(),
        });
    }
}
