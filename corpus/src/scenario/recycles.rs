//! Recycles and deployments: planned or automatic restarts of a worker, each
//! with the WAS or ANCM event that names its reason (docs/failure-modes.md).

use super::effects::cold_start;
use super::events::{self, Ev, INFO, WARNING, s};
use super::{API_POOL, API_SITE, Ctx, SHOP_POOL, SHOP_SITE};
use crate::bundle::Channel;

/// An overlapped recycle: a handful of requests aborted (995) while the old
/// worker drains, the next ones pay the new worker's start.
fn recycle(ctx: &mut Ctx, host: &str, site: u32, at: i64) {
    let traffic = ctx.traffic_mut(host, site);
    let mut cut = 0;
    for r in traffic.window(at, at + 3_000) {
        r.status = (200, 0, 995);
        cut += 1;
    }
    // However quiet the site, the draining worker had a request in flight.
    if cut == 0
        && let Some(mut r) = traffic.rows.first().cloned()
    {
        r.end_ms = at + 1_200;
        r.status = (200, 0, 995);
        r.taken += 9_000;
        traffic.rows.push(r);
    }
    cold_start(ctx, host, site, at + 2_000);
}

fn was_recycle(ctx: &mut Ctx, id: u16, at: i64, pool: &str) {
    let host = ctx.web_hosts[0].clone();
    let worker = events::pid(ctx);
    ctx.event(
        &host,
        Ev::was(id, INFO, at, vec![("ProcessID", s(worker.to_string())), ("AppPoolID", s(pool))], None),
    );
}

pub(super) fn scheduled(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.5);
    was_recycle(ctx, 5076, at, SHOP_POOL);
    recycle(ctx, &host, SHOP_SITE, at);
    ctx.answer(
        &["recycle-scheduled"],
        (at, at + 60_000),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["worker-crash", "recycle-on-demand", "recycle-memory-limit"],
        "ShopPool recycled at its scheduled time (WAS 5076): a few aborted requests and a slow first response, nothing else.",
    );
}

pub(super) fn config_change(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.5);
    let worker = events::pid(ctx);
    ctx.event(
        &host,
        Ev::was(
            5080,
            INFO,
            at,
            vec![("AppPoolID", s(SHOP_POOL)), ("ProcessID", s(worker.to_string()))],
            None,
        ),
    );
    recycle(ctx, &host, SHOP_SITE, at);
    ctx.answer(
        &["recycle-config-change"],
        (at, at + 60_000),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["worker-crash", "deployment", "recycle-on-demand"],
        "An administrator changed ShopPool's settings: WAS recycled it for the configuration change (5080).",
    );
}

pub(super) fn idle_timeout(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let quiet = ctx.at(0.45);
    let wake = quiet + 45 * 60_000;
    ctx.traffic_mut(&host, API_SITE).drop_window(quiet, wake);
    let worker = events::pid(ctx);
    ctx.event(
        &host,
        Ev::was(
            5186,
            INFO,
            quiet + 20 * 60_000,
            vec![("ProcessID", s(worker.to_string())), ("AppPoolID", s(API_POOL)), ("Minutes", s("20"))],
            None,
        ),
    );
    let traffic = ctx.traffic_mut(&host, API_SITE);
    if let Some(first) = traffic.window(wake, wake + 600_000).next() {
        first.taken = 7_400;
    }
    ctx.answer(
        &["recycle-idle-timeout"],
        (quiet + 20 * 60_000, wake + 60_000),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["slow-responses", "worker-crash", "pool-stopped"],
        "No one called the API for twenty minutes, so WAS shut ApiPool's worker down (5186); the next request paid the seven-second cold start.",
    );
}

pub(super) fn on_demand(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.55);
    ctx.event(&host, Ev::was(5079, INFO, at, vec![("AppPoolID", s(SHOP_POOL))], None));
    recycle(ctx, &host, SHOP_SITE, at);
    ctx.answer(
        &["recycle-on-demand"],
        (at, at + 60_000),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["worker-crash", "pool-stopped", "recycle-scheduled"],
        "Someone recycled ShopPool from IIS Manager (WAS 5079).",
    );
}

pub(super) fn unhealthy(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.55);
    ctx.event(
        &host,
        Ev::worker(
            2299,
            WARNING,
            at - 500,
            vec![("AppPoolID", s(API_POOL)), ("Reason", s("Startup Failures"))],
        ),
    );
    was_recycle(ctx, 5078, at, API_POOL);
    recycle(ctx, &host, API_SITE, at);
    ctx.answer(
        &["recycle-unhealthy"],
        (at - 500, at + 60_000),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["worker-crash", "recycle-on-demand"],
        "ApiPool's worker reported itself unhealthy (W3SVC-WP 2299) and asked to be recycled (WAS 5078).",
    );
}

pub(super) fn deployment(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = from + 3 * 60_000;
    let app = format!("/LM/W3SVC/{API_SITE}/ROOT");
    let ancm = |id: u16, at: i64, text: String| {
        Ev::classic(
            Channel::Application,
            "IIS AspNetCore Module V2",
            id,
            INFO,
            at,
            vec![
                s(text),
                s("Process Id: 5120."),
                s(
                    "File Version: 19.0.25087.0. Description: IIS ASP.NET Core Module V2 Request Handler. Commit: 7e3b2c1d",
                ),
            ],
        )
    };
    ctx.event(
        &host,
        ancm(1012, from, format!("Application '{app}' was recycled after detecting the app_offline file.")),
    );
    ctx.event(&host, ancm(1024, to, format!("Application '{app}' detected app_offline file was removed.")));
    ctx.event(&host, ancm(1032, to + 2_500, format!("Application '{app}' started successfully.")));
    ctx.traffic_mut(&host, API_SITE).set_outcome(from, to, 1.0, |_| true, (503, 0, 0), (1.0, 0.2));
    cold_start(ctx, &host, API_SITE, to);
    ctx.answer(
        &["deployment"],
        (from, to),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["pool-stopped", "ancm-startup-failure", "request-queue-full"],
        "A deployment put app_offline.htm in place for three minutes: ANCM answered 503 itself (1012, then 1024 when the file was removed) and the API came back.",
    );
}
