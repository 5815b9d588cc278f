//! Failures that show in the requests themselves: startup and module
//! failures, backends, static files, slowness, limits, rewrites and TLS
//! (docs/failure-modes.md says what each looks like in the evidence).

use super::effects::{httperr_for, traces};
use super::events::{self, ERROR, Ev, WARNING, s};
use super::traffic::client_ip;
use super::{API_POOL, API_SITE, Ctx, SHOP_POOL, SHOP_SITE};
use crate::bundle::{AccessRow, Channel};
use crate::evtx::Value;

fn is_static(r: &AccessRow) -> bool {
    [".css", ".js", ".png", ".jpg", ".ico"].iter().any(|e| r.stem.ends_with(e))
}

pub(super) fn app_init_failure(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.55);
    let to = from + 18 * 60_000;
    ctx.traffic_mut(&host, SHOP_SITE).set_outcome(from, to, 1.0, |r| !is_static(r), (500, 0, 0), (4.0, 0.4));
    traces(
        ctx,
        (&host, SHOP_SITE, SHOP_POOL),
        (from, to),
        4,
        (500, 0),
        Some(("AspNetInitializationExceptionModule", 1, "BEGIN_REQUEST", 0)),
        None,
    );
    ctx.answer(
        &["app-init-failure"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["config-error", "handler-missing", "worker-crash"],
        "The shop's ASP.NET application failed to initialize after an update (a missing assembly): every dynamic request got 500.0 before the app's own logging ran, and FREB names AspNetInitializationExceptionModule at BEGIN_REQUEST.",
    );
}

pub(super) fn handler_missing(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = ctx.end_ms;
    let n = ctx.traffic_mut(&host, SHOP_SITE).set_outcome(
        from,
        to,
        1.0,
        |r| r.stem.ends_with(".aspx"),
        (500, 21, 0),
        (2.0, 0.3),
    );
    traces(
        ctx,
        (&host, SHOP_SITE, SHOP_POOL),
        (from, to),
        3,
        (500, 21),
        Some(("IIS Web Core", 16, "MAP_REQUEST_HANDLER", 0x8007_000D)),
        None,
    );
    ctx.answer(
        &["handler-missing"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["config-error", "app-init-failure", "static-content-failure"],
        &format!("After a server rebuild ASP.NET 4.x was not registered with IIS: the .aspx handler points to a module that is not installed, so {n} page requests got 500.21 while static files and the API kept working."),
    );
}

pub(super) fn ancm_startup_failure(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = from + 30 * 60_000;
    ctx.traffic_mut(&host, API_SITE).set_outcome(from, to, 1.0, |_| true, (500, 30, 0), (2_200.0, 0.2));
    let worker = events::pid(ctx);
    let app = format!("/LM/W3SVC/{API_SITE}/ROOT");
    let mut t = from - 1_500;
    for _ in 0..6 {
        ctx.event(&host, Ev::classic(Channel::Application, ".NET Runtime", 1026, ERROR, t, vec![s(
            "Application: w3wp.exe\r\nCoreCLR Version: 8.0.1124.51707\r\n.NET Version: 8.0.11\r\nDescription: The process was terminated due to an unhandled exception.\r\nException Info: System.InvalidOperationException: Unable to resolve service for type 'Api.IOrderStore' while attempting to activate 'Api.OrdersController'.\r\n",
        )]));
        ctx.event(&host, Ev::classic(Channel::Application, "IIS AspNetCore Module V2", 1035, ERROR, t + 40, vec![
            s(format!("Application '{app}' with physical root 'C:\\inetpub\\api\\' has exited from Program.Main with exit code = '-532462766'. First 30KB characters of captured stdout and stderr logs:\r\nUnhandled exception. System.InvalidOperationException: Unable to resolve service for type 'Api.IOrderStore'")),
            s(format!("Process Id: {worker}.")),
            s("File Version: 19.0.25087.0. Description: IIS ASP.NET Core Module V2 Request Handler. Commit: 7e3b2c1d"),
        ]));
        t += 4 * 60_000;
    }
    ctx.event(
        &host,
        Ev::worker(
            2299,
            WARNING,
            from + 9 * 60_000,
            vec![("AppPoolID", s(API_POOL)), ("Reason", s("Startup Failures"))],
        ),
    );
    ctx.answer(
        &["ancm-startup-failure"],
        (from - 1_500, to),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["app-init-failure", "worker-crash", "deployment"],
        "The new API build cannot start: Program.Main throws on a missing service registration, ANCM logs 1035 with the captured stdout, and every request gets 500.30.",
    );
}

pub(super) fn backend_failure(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = from + 20 * 60_000;
    ctx.traffic_mut(&host, API_SITE).set_outcome(
        from,
        to,
        0.7,
        |r| r.stem.starts_with("/api/v2/orders"),
        (502, 3, 12002),
        (120_000.0, 0.01),
    );
    ctx.answer(
        &["backend-failure"],
        (from, to),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["slow-responses", "worker-hang", "port-exhaustion"],
        "The out-of-process API backend stopped answering in time: ANCM gave up after its two-minute requestTimeout, 502.3 with WinHTTP 12002 (timeout) and time-taken of about 120 s.",
    );
}

pub(super) fn static_content_failure(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = ctx.end_ms;
    let n = ctx.traffic_mut(&host, SHOP_SITE).set_outcome(from, to, 1.0, is_static, (401, 3, 5), (2.0, 0.3));
    traces(
        ctx,
        (&host, SHOP_SITE, SHOP_POOL),
        (from, to),
        3,
        (401, 3),
        Some(("StaticFileModule", 128, "EXECUTE_REQUEST_HANDLER", 0x8007_0005)),
        None,
    );
    ctx.answer(
        &["static-content-failure"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["auth-failure", "handler-missing"],
        &format!("A permissions script removed IUSR from the content folder's ACL: {n} requests for stylesheets, scripts and images got 401.3 (ACCESS_DENIED) while the pages and the API, running as the pool identity, worked."),
    );
}

/// The fewest slow searches the slow-responses incident plants, whatever
/// the traffic rate: a quiet site's search is slow for its few users too,
/// and the finding needs fifteen to one URL within a quarter of an hour.
const SLOW_SEARCHES: usize = 40;

pub(super) fn slow_responses(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = from + 40 * 60_000;
    let search = |r: &AccessRow| r.stem.starts_with("/api/search");
    let traffic = ctx.traffic_mut(&host, SHOP_SITE);
    let slow = traffic.set_outcome(from, to, 1.0, search, (200, 0, 0), (12_000.0, 0.35));
    // At a low rate the window holds few searches: more users, as slow.
    let template = traffic.rows.iter().find(|r| search(r)).or_else(|| traffic.rows.first()).cloned();
    if let Some(template) = template.filter(|_| slow < SLOW_SEARCHES) {
        let missing = SLOW_SEARCHES - slow;
        let step = (to - from) / missing as i64;
        for i in 0..missing {
            let mut r = template.clone();
            r.end_ms = from + i as i64 * step + traffic.rng().below(step.max(1) as u64) as i64;
            r.method = "GET";
            r.stem = "/api/search".into();
            r.query = Some(format!("q=item{}", traffic.rng().below(500)));
            r.client = client_ip(traffic.rng());
            r.status = (200, 0, 0);
            r.taken = traffic.rng().log_normal(12_000.0, 0.35).max(1.0) as u64;
            traffic.rows.push(r);
        }
    }
    traces(ctx, (&host, SHOP_SITE, SHOP_POOL), (from, to), 3, (200, 0), None, None);
    ctx.answer(
        &["slow-responses"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["worker-hang", "backend-failure", "request-queue-full"],
        "Search became slow on the server side after an index was dropped: 8 to 20 s with win32 0 and small responses, while everything else stayed fast.",
    );
}

/// Server errors with nothing behind them in the evidence: the app
/// answered 500.0 for a quarter of an hour and logged no event, no trace,
/// no crash. What a detector cannot explain is still reported.
pub(super) fn unexplained(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.55);
    let to = from + 15 * 60_000;
    let traffic = ctx.traffic_mut(&host, SHOP_SITE);
    let Some(template) = traffic.rows.first().cloned() else { return };
    let mut extra = Vec::new();
    let mut t = from;
    while t < to {
        let mut r = template.clone();
        r.end_ms = t;
        r.method = "POST";
        r.stem = "/checkout/confirm".into();
        r.query = None;
        r.client = client_ip(traffic.rng());
        r.status = (500, 0, 0);
        r.sent = 1200 + traffic.rng().below(4000);
        r.taken = 40 + traffic.rng().below(200);
        extra.push(r);
        t += 2_000 + traffic.rng().below(4_000) as i64;
    }
    let n = extra.len();
    traffic.rows.extend(extra);
    ctx.answer(
        &["unexplained"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["app-exception", "worker-crash", "backend-failure"],
        &format!("Checkout answered {n} requests with 500.0 for a quarter of an hour and left nothing else behind: no ASP.NET event, no crash, no trace. No failure mode explains it, and faultline says so rather than staying silent."),
    );
}

pub(super) fn request_limits(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.45);
    let to = ctx.end_ms;
    let rows =
        ctx.traffic_mut(&host, SHOP_SITE).drop_window_where(from, to, |r| r.stem.starts_with("/reports"));
    let rejected = rows.len();
    for r in &rows {
        ctx.bundle.host(&host).httperr.push(httperr_for(r, Some(400), SHOP_SITE, SHOP_POOL, "FieldLength"));
    }
    ctx.answer(
        &["request-limits"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["auth-failure", "static-content-failure"],
        &format!("Users added to many groups send Kerberos tokens larger than MaxFieldLength: HTTP.sys rejected {rejected} report requests with 400 FieldLength before IIS saw them."),
    );
}

pub(super) fn rewrite_loop(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = from + 25 * 60_000;
    let mut extra = Vec::new();
    let template = ctx.traffic_mut(&host, SHOP_SITE).rows.first().cloned();
    if let Some(template) = template {
        let mut t = from;
        while t < to {
            let client = client_ip(ctx.traffic_mut(&host, SHOP_SITE).rng());
            for hop in 0..20 {
                let mut r = template.clone();
                r.end_ms = t + hop * 90;
                r.stem = "/account/login".into();
                r.query = None;
                r.client = client;
                r.status = (301, 0, 0);
                r.port = 80;
                r.sent = 412;
                r.taken = 1;
                extra.push(r);
            }
            t += 20_000 + ctx.rng.below(40_000) as i64;
        }
    }
    ctx.traffic_mut(&host, SHOP_SITE).rows.extend(extra);
    ctx.answer(
        &["rewrite-loop"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["auth-failure", "request-limits"],
        "After TLS was moved to the load balancer, the HTTP-to-HTTPS rewrite rule sees port 80 on every request: each browser follows twenty 301s on /account/login until it gives up.",
    );
}

pub(super) fn tls_handshake_failure(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.4);
    let to = ctx.end_ms;
    let mut t = from;
    let mut n = 0;
    while t < to && n < 300 {
        ctx.event(
            &host,
            Ev::manifest(
                Channel::System,
                "Schannel",
                "{1F678132-5938-4686-9FDC-C8FF68F15C85}",
                None,
                36874,
                ERROR,
                t,
                vec![("Protocol", s("TLS 1.0"))],
            )
            .by(748, 3104)
            .user("S-1-5-18"),
        );
        ctx.event(
            &host,
            Ev::manifest(
                Channel::System,
                "Schannel",
                "{1F678132-5938-4686-9FDC-C8FF68F15C85}",
                None,
                36888,
                ERROR,
                t + 1,
                vec![("AlertDesc", Value::U32(40)), ("ErrorState", Value::U32(1205))],
            )
            .by(748, 3104)
            .user("S-1-5-18"),
        );
        t += 20_000 + ctx.rng.below(60_000) as i64;
        n += 1;
    }
    ctx.answer(
        &["tls-handshake-failure"],
        (from, to),
        (&host, None, None),
        &["tls-private-key-access", "auth-failure"],
        "TLS 1.0 was disabled on the server; a partner's old service client still offers only TLS 1.0: Schannel 36874 and fatal alert 40 (state 1205) for each attempt, and no HTTP request is ever logged for them, while browsers work.",
    );
}
