//! The scenarios: one per failure mode (docs/failure-modes.md), a healthy
//! bundle, and overlapping causes. Each plants the evidence that tells its
//! mode apart, with the timing real servers show (W3C times are request ends,
//! the runtime's event precedes WAS's).

use super::effects::{abandoned, answered_by_httpsys, cold_start, httperr_for, traces};
use super::events::{self, ERROR, Ev, INFO, WARNING, s};
use super::{API_POOL, API_SITE, Ctx, SHOP_POOL, SHOP_SITE, attacks, platform, recycles, requests};
use crate::bundle::Channel;
use crate::evtx::Value;

/// A named scenario.
#[derive(Debug)]
pub struct ScenarioDef {
    /// Name (`--scenario`).
    pub name: &'static str,
    /// Hosts it needs at least.
    pub min_hosts: usize,
    /// Plants the incident on top of the baseline.
    pub plant: fn(&mut Ctx),
}

/// Every scenario.
pub const SCENARIOS: &[ScenarioDef] = &[
    ScenarioDef { name: "healthy", min_hosts: 1, plant: healthy },
    ScenarioDef { name: "worker-crash", min_hosts: 1, plant: worker_crash },
    ScenarioDef { name: "rapid-fail-protection", min_hosts: 1, plant: rapid_fail },
    ScenarioDef { name: "pool-stopped", min_hosts: 1, plant: pool_stopped },
    ScenarioDef { name: "recycle-memory-limit", min_hosts: 1, plant: recycle_memory_limit },
    ScenarioDef { name: "worker-hang", min_hosts: 1, plant: worker_hang },
    ScenarioDef { name: "request-queue-full", min_hosts: 1, plant: request_queue_full },
    ScenarioDef { name: "config-error", min_hosts: 1, plant: config_error },
    ScenarioDef { name: "auth-failure", min_hosts: 1, plant: auth_failure },
    ScenarioDef { name: "tls-private-key-access", min_hosts: 1, plant: tls_private_key },
    ScenarioDef { name: "db-login-failure", min_hosts: 2, plant: db_login_failure },
    ScenarioDef { name: "missing-logs", min_hosts: 1, plant: missing_logs },
    ScenarioDef { name: "reboot", min_hosts: 1, plant: reboot },
    ScenarioDef { name: "crash-and-queue-full", min_hosts: 2, plant: crash_and_queue_full },
    ScenarioDef { name: "deployment-and-config-error", min_hosts: 1, plant: deployment_and_config_error },
    ScenarioDef { name: "recycle-scheduled", min_hosts: 1, plant: recycles::scheduled },
    ScenarioDef { name: "recycle-config-change", min_hosts: 1, plant: recycles::config_change },
    ScenarioDef { name: "recycle-idle-timeout", min_hosts: 1, plant: recycles::idle_timeout },
    ScenarioDef { name: "recycle-on-demand", min_hosts: 1, plant: recycles::on_demand },
    ScenarioDef { name: "recycle-unhealthy", min_hosts: 1, plant: recycles::unhealthy },
    ScenarioDef { name: "deployment", min_hosts: 1, plant: recycles::deployment },
    ScenarioDef { name: "app-init-failure", min_hosts: 1, plant: requests::app_init_failure },
    ScenarioDef { name: "handler-missing", min_hosts: 1, plant: requests::handler_missing },
    ScenarioDef { name: "ancm-startup-failure", min_hosts: 1, plant: requests::ancm_startup_failure },
    ScenarioDef { name: "backend-failure", min_hosts: 1, plant: requests::backend_failure },
    ScenarioDef { name: "static-content-failure", min_hosts: 1, plant: requests::static_content_failure },
    ScenarioDef { name: "slow-responses", min_hosts: 1, plant: requests::slow_responses },
    ScenarioDef { name: "request-limits", min_hosts: 1, plant: requests::request_limits },
    ScenarioDef { name: "rewrite-loop", min_hosts: 1, plant: requests::rewrite_loop },
    ScenarioDef { name: "tls-handshake-failure", min_hosts: 1, plant: requests::tls_handshake_failure },
    ScenarioDef { name: "port-exhaustion", min_hosts: 1, plant: platform::port_exhaustion },
    ScenarioDef { name: "memory-exhaustion", min_hosts: 1, plant: platform::memory_exhaustion },
    ScenarioDef { name: "identity-logon-failure", min_hosts: 1, plant: platform::identity_logon_failure },
    ScenarioDef { name: "config-store-broken", min_hosts: 1, plant: platform::config_store_broken },
    ScenarioDef { name: "binding-conflict", min_hosts: 1, plant: platform::binding_conflict },
    ScenarioDef { name: "module-missing", min_hosts: 1, plant: platform::module_missing },
    ScenarioDef { name: "filter-bitness", min_hosts: 1, plant: platform::filter_bitness },
    ScenarioDef { name: "app-exception", min_hosts: 1, plant: app_exception },
    ScenarioDef { name: "unexplained", min_hosts: 1, plant: requests::unexplained },
    ScenarioDef { name: "small-site-config-error", min_hosts: 1, plant: small_site_config_error },
    ScenarioDef { name: "web-shell", min_hosts: 1, plant: attacks::web_shell },
    ScenarioDef { name: "scanner", min_hosts: 1, plant: attacks::scanner },
    ScenarioDef { name: "password-guessing", min_hosts: 1, plant: attacks::password_guessing },
    ScenarioDef { name: "ftp-password-guessing", min_hosts: 1, plant: attacks::ftp_password_guessing },
    ScenarioDef { name: "viewstate-exploit", min_hosts: 1, plant: attacks::viewstate_exploit },
    ScenarioDef { name: "sharepoint-toolshell", min_hosts: 1, plant: attacks::toolshell },
    ScenarioDef { name: "backdoor-module", min_hosts: 1, plant: attacks::backdoor_module },
    ScenarioDef { name: "log-clearing", min_hosts: 1, plant: attacks::log_clearing },
    ScenarioDef { name: "logging-off", min_hosts: 1, plant: attacks::logging_off },
];

fn healthy(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    // A periodic recycle with no impact: overlapped, nothing abandoned.
    let t = ctx.at(0.35);
    let old = events::pid(ctx);
    ctx.event(
        &host,
        Ev::was(5074, INFO, t, vec![("ProcessID", s(old.to_string())), ("AppPoolID", s(SHOP_POOL))], None),
    );
    attacks::benign_lookalikes(ctx);
    ctx.truth.lookalikes =
        vec!["worker-crash", "recycle-scheduled", "auth-failure", "slow-responses", "request-queue-full"];
    ctx.truth.story = "An ordinary day: 404s from a scanner, the Windows-authentication handshake (401.2, 401.1, 200) on the reports pages, client aborts, a periodic recycle that cost nothing, a search sorted with `order by`, an administrator listing pools with appcmd, the worker saving an upload and connecting to its database (Sysmon 11 and 3), and what hosted applications send on the paths their exploits use (a signed-in editor posting SharePoint's tool pane, an editor's Telerik dialogs, an upload from its page, Autodiscover v2 for a mailbox named like PowerShell, Orion's logo), and a scanner's probes for PHP, JSP and ASP.NET shells that the API site's front end answers 200 as it answers any path.".into();
}

fn worker_crash(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.62);
    let worker = events::pid(ctx);
    let traffic = ctx.traffic_mut(&host, SHOP_SITE);
    for r in traffic.window(at - 20_000, at) {
        if r.end_ms % 5 == 0 {
            r.status = (200, 0, 995);
            r.taken += 8_000;
        }
    }
    abandoned(ctx, &host, SHOP_SITE, SHOP_POOL, at, 4);
    events::crash(
        ctx,
        &host,
        SHOP_POOL,
        at,
        worker,
        "System.InvalidOperationException: Collection was modified; enumeration operation may not execute.",
    );
    cold_start(ctx, &host, SHOP_SITE, at + 6_000);
    ctx.answer(
        &["worker-crash"],
        (at - 1_000, at + 10_000),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["recycle-scheduled", "recycle-memory-limit", "worker-hang", "rapid-fail-protection", "pool-stopped"],
        "An unhandled exception on a background thread killed w3wp for ShopPool: .NET Runtime 1026 and Application Error 1000 for the PID WAS names in 5011, HTTP.sys abandoned the in-flight requests, and the next worker paid the cold start.",
    );
}

fn rapid_fail(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let first = ctx.at(0.55);
    let mut last = first;
    for i in 0..5 {
        let at = first + i * 50_000 + ctx.rng.below(8_000) as i64;
        let worker = events::pid(ctx);
        abandoned(ctx, &host, SHOP_SITE, SHOP_POOL, at, 2);
        events::crash(ctx, &host, SHOP_POOL, at, worker, "System.StackOverflowException");
        last = at;
    }
    let disabled = last + 1_200;
    ctx.event(&host, Ev::was(5002, ERROR, disabled, vec![("AppPoolID", s(SHOP_POOL))], None));
    let restart = disabled + 35 * 60_000;
    answered_by_httpsys(ctx, (&host, SHOP_SITE, SHOP_POOL), (disabled, restart), Some(503), "AppOffline");
    cold_start(ctx, &host, SHOP_SITE, restart);
    ctx.answer(
        &["rapid-fail-protection", "worker-crash"],
        (first - 1_000, restart),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["pool-stopped", "request-queue-full", "config-store-broken"],
        "Five worker crashes in four minutes (stack overflow) tripped rapid-fail protection: WAS 5002 disabled ShopPool and HTTP.sys answered 503 AppOffline until an administrator started the pool 35 minutes later.",
    );
}

fn pool_stopped(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = from + 12 * 60_000;
    answered_by_httpsys(ctx, (&host, API_SITE, API_POOL), (from, to), Some(503), "Disabled");
    cold_start(ctx, &host, API_SITE, to);
    ctx.answer(
        &["pool-stopped"],
        (from, to),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["rapid-fail-protection", "worker-crash", "request-queue-full"],
        "Someone stopped ApiPool for twelve minutes: HTTP.sys answered 503 Disabled, with no crash and no WAS rapid-fail event.",
    );
}

fn recycle_memory_limit(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let mut at = ctx.at(0.2);
    let mut gap = 100 * 60_000_i64;
    let first = at;
    while at < ctx.end_ms - 10 * 60_000 {
        let worker = events::pid(ctx);
        ctx.event(
            &host,
            Ev::was(
                5117,
                INFO,
                at,
                vec![("ProcessID", s(worker.to_string())), ("AppPoolID", s(SHOP_POOL))],
                None,
            ),
        );
        let traffic = ctx.traffic_mut(&host, SHOP_SITE);
        for r in traffic.window(at, at + 5_000) {
            r.status = (200, 0, 995);
        }
        cold_start(ctx, &host, SHOP_SITE, at + 3_000);
        at += gap;
        gap = gap * 2 / 3;
    }
    ctx.event(
        &host,
        Ev::manifest(
            Channel::System,
            "Microsoft-Windows-Resource-Exhaustion-Detector",
            "{9988748E-C2E8-4054-85F6-0C3E1CAD2470}",
            None,
            2004,
            WARNING,
            at - gap,
            vec![
                ("SystemCommitLimit", Value::U64(17_179_869_184)),
                ("SystemCommitCharge", Value::U64(16_912_345_678)),
                ("ProcessCommitCharge", Value::U64(9_876_543_210)),
                ("NonPagedPoolUsage", Value::U64(412_345_678)),
                ("PagedPoolUsage", Value::U64(612_345_678)),
                ("PhysicalMemorySize", Value::U64(17_179_869_184)),
                ("PhysicalMemoryUsage", Value::U64(16_512_345_678)),
                ("NonPagedPoolAllocations", Value::U32(912_345)),
                ("PagedPoolAllocations", Value::U32(1_234_567)),
                ("PagefileInUse", Value::U32(1)),
            ],
        )
        .task(3)
        .by(2120, 4300)
        .user("S-1-5-18"),
    );
    ctx.answer(
        &["recycle-memory-limit"],
        (first, ctx.end_ms),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["worker-crash", "recycle-scheduled", "memory-exhaustion"],
        "ShopPool leaks memory: WAS 5117 recycles it on its private-bytes limit, more and more often, each costing a few aborted requests and a cold start.",
    );
}

fn worker_hang(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let onset = ctx.at(0.58);
    let kill = onset + 4 * 60_000;
    let traffic = ctx.traffic_mut(&host, SHOP_SITE);
    for r in traffic.window(onset, kill) {
        let into = (r.end_ms - onset) as f64 / (kill - onset) as f64;
        r.taken = (5_000.0 + into * 110_000.0) as u64;
        if into > 0.5 && r.end_ms % 3 == 0 {
            r.status = (200, 0, 64);
        }
    }
    // Completions stop halfway: those requests wait in the queue.
    let waiting = ctx.traffic_mut(&host, SHOP_SITE).drop_window(onset + 2 * 60_000, kill);
    for (i, r) in waiting.iter().enumerate() {
        let reason = if i % 4 == 0 { "QueueFull" } else { "Timer_AppPool" };
        let mut row = httperr_for(r, (reason == "QueueFull").then_some(503), SHOP_SITE, SHOP_POOL, reason);
        if reason == "Timer_AppPool" {
            row.time = (r.end_ms + 120_000).min(kill) / 1000;
        }
        ctx.bundle.host(&host).httperr.push(row);
    }
    let worker = events::pid(ctx);
    ctx.event(
        &host,
        Ev::was(
            5010,
            WARNING,
            kill - 1_500,
            vec![("AppPoolID", s(SHOP_POOL)), ("ProcessID", s(worker.to_string()))],
            None,
        ),
    );
    abandoned(ctx, &host, SHOP_SITE, SHOP_POOL, kill, 6);
    cold_start(ctx, &host, SHOP_SITE, kill + 6_000);
    ctx.answer(
        &["worker-hang"],
        (onset, kill + 10_000),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["request-queue-full", "worker-crash", "slow-responses"],
        "ShopPool's worker starved (sync-over-async): time-taken climbed to minutes, completions stopped, HTTP.sys timed requests out in the queue and then refused them, until WAS killed the worker for not answering its ping (5010).",
    );
}

fn request_queue_full(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.6);
    let to = from + 6 * 60_000;
    // A burst of load: many extra quick requests, and HTTP.sys turns the excess away.
    let mut rng = ctx.rng.clone();
    let template = ctx.traffic_mut(&host, API_SITE).rows.first().cloned();
    if let Some(template) = template {
        let mut extra = Vec::new();
        let mut t = from;
        while t < to {
            t += 40 + rng.below(60) as i64;
            let mut r = template.clone();
            r.end_ms = t;
            r.stem = format!("/api/v2/stock/{}", rng.below(90_000));
            r.forwarded_for = Some(super::traffic::client_ip(&mut rng));
            r.taken = 20 + rng.below(120);
            r.status = (200, 0, 0);
            if rng.below(3) == 0 {
                ctx.bundle.host(&host).httperr.push(httperr_for(
                    &r,
                    Some(503),
                    API_SITE,
                    API_POOL,
                    "QueueFull",
                ));
            } else {
                extra.push(r);
            }
        }
        ctx.traffic_mut(&host, API_SITE).rows.extend(extra);
    }
    ctx.rng = rng;
    ctx.answer(
        &["request-queue-full"],
        (from, to),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["worker-hang", "pool-stopped", "rapid-fail-protection"],
        "A traffic burst on the API filled ApiPool's HTTP.sys queue: 503 QueueFull while the requests that got in completed quickly. Capacity, not a hang.",
    );
}

fn config_error(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.64);
    let to = from + 25 * 60_000;
    let n = ctx.traffic_mut(&host, SHOP_SITE).set_outcome(from, to, 1.0, |_| true, (500, 19, 13), (3.0, 0.4));
    traces(
        ctx,
        (&host, SHOP_SITE, SHOP_POOL),
        (from, to),
        5,
        (500, 19),
        Some(("IIS Web Core", 1, "BEGIN_REQUEST", 0x8007_000D)),
        Some("\\\\?\\C:\\inetpub\\shop\\web.config ( 41) :Unrecognized configuration section rewrite."),
    );
    ctx.answer(
        &["config-error"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["app-init-failure", "handler-missing", "deployment"],
        &format!("A web.config with a <rewrite> section was deployed to a server without the URL Rewrite module: every one of the {n} requests got 500.19 (0x8007000D), and FREB names the file and line."),
    );
}

fn app_exception(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.55);
    let to = from + 18 * 60_000;
    let n = ctx.traffic_mut(&host, API_SITE).set_outcome(
        from,
        to,
        0.7,
        |r| r.stem.starts_with("/api/v2/orders"),
        (500, 0, 0),
        (40.0, 0.4),
    );
    // Health monitoring writes a 1309 per unhandled exception (throttled).
    let mut t = from + 2_000;
    let mut k = 0;
    while t < to {
        ctx.event(
            &host,
            events::aspnet_1309(
                t,
                &events::AspNetError {
                    host: &host,
                    site: API_SITE,
                    pool: API_POOL,
                    ids: ("9f8e7d6c5b4a3921", "11", "6144", "9"),
                    exception: (
                        "NullReferenceException",
                        "Object reference not set to an instance of an object.",
                    ),
                    path: "/api/v2/orders",
                    frame: "   at Shop.Api.OrdersController.Post(OrderRequest request)",
                },
            ),
        );
        t += 60_000 + ctx.rng.below(30_000) as i64;
        k += 1;
    }
    ctx.answer(
        &["app-exception"],
        (from, to),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["unexplained", "app-init-failure", "worker-crash", "db-login-failure"],
        &format!("A release of the orders API throws NullReferenceException in OrdersController.Post when a field the new client omits is missing: {n} order requests got 500.0 (win32 0) and ASP.NET logged {k} 1309s naming the exception; nothing at the IIS, identity or database boundary changed."),
    );
}

/// A developer's box or a small intranet site: a few dozen requests a day.
/// Two 500.19s ninety seconds apart, then the site works again: one row of
/// a never-normal status is already the finding.
fn small_site_config_error(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.6);
    for site in [API_SITE, SHOP_SITE] {
        let mut k = 0;
        ctx.traffic_mut(&host, site).rows.retain(|_| {
            k += 1;
            k % 150 == 0
        });
    }
    let traffic = ctx.traffic_mut(&host, SHOP_SITE);
    let Some(template) = traffic.rows.first().cloned() else { return };
    for (offset, status) in [(0, (500, 19, 13)), (90_000, (500, 19, 13)), (150_000, (200, 0, 0))] {
        let mut row = template.clone();
        row.end_ms = at + offset;
        row.stem = "/".into();
        row.status = status;
        row.taken = 4;
        traffic.rows.push(row);
    }
    traffic.rows.sort_by_key(|r| r.end_ms);
    ctx.answer(
        &["config-error"],
        (at, at + 150_000),
        (&host, Some(SHOP_SITE), None),
        &["unexplained", "handler-missing", "app-init-failure"],
        "A small site with a few dozen requests a day: a web.config edit broke it (two 500.19 with 0x8007000D, ninety seconds apart) and the next edit fixed it (a 200 a minute later).",
    );
}

fn auth_failure(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = from + 15 * 60_000;
    let n = ctx.traffic_mut(&host, SHOP_SITE).set_outcome(
        from,
        to,
        0.35,
        |r| !r.stem.starts_with("/reports"),
        (401, 1, 2_148_074_252),
        (6.0, 0.5),
    );
    for i in 0..n.min(400) as i64 {
        let t = from + i * (to - from) / n.max(1) as i64;
        let target = format!("user{}", i % 37);
        ctx.event(
            &host,
            events::failed_logon(
                t,
                &events::FailedLogon {
                    subject: ("S-1-0-0", "-", "-", 0),
                    target: &target,
                    logon_type: 3,
                    process: ("NtLmSsp ", "NTLM"),
                    workstation: "-",
                    caller: (0x4, "-"),
                },
            ),
        );
    }
    ctx.answer(
        &["auth-failure"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["tls-handshake-failure", "identity-logon-failure"],
        "A password change left clients presenting stale credentials: repeated 401.1 with SEC_E_LOGON_DENIED, each matched by a Security 4625 (logon type 3, 0xC000006A), beyond the normal handshake.",
    );
}

fn tls_private_key(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.45);
    let to = ctx.end_ms;
    let n = ctx.traffic_mut(&host, API_SITE).set_outcome(
        from,
        to,
        1.0,
        |r| r.stem.starts_with("/api/v2/orders"),
        (500, 0, 0),
        (60.0, 0.3),
    );
    let mut t = from;
    let mut k = 0;
    while t < to && k < 200 {
        ctx.event(
            &host,
            Ev::manifest(
                Channel::System,
                "Schannel",
                "{1F678132-5938-4686-9FDC-C8FF68F15C85}",
                None,
                36870,
                ERROR,
                t,
                vec![
                    ("Type", s("client")),
                    ("ErrorCode", Value::Hex32(0x8009_030D)),
                    ("ErrorStatus", Value::U32(10001)),
                ],
            )
            .by(748, 3104)
            .user("S-1-5-82-1036420768-1044797643-1061213386-2937092688-4282445334"),
        );
        t += 30_000 + ctx.rng.below(60_000) as i64;
        k += 1;
    }
    ctx.event(
        &host,
        events::aspnet_1309(
            from + 500,
            &events::AspNetError {
                host: &host,
                site: API_SITE,
                pool: API_POOL,
                ids: ("5e4c1a2b9f8d4e7a", "7", "4242", "12"),
                exception: ("CryptographicException", "Keyset does not exist"),
                path: "/api/v2/orders",
                frame: "   at System.Security.Cryptography.CngKey.Open()",
            },
        ),
    );
    ctx.answer(
        &["tls-private-key-access"],
        (from, to),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["tls-handshake-failure", "app-init-failure"],
        &format!("After the certificate was renewed, ApiPool's identity could not open the client certificate's private key: Schannel 36870 (0x8009030D) and 'Keyset does not exist', {n} order calls failed with 500."),
    );
}

fn db_login_failure(ctx: &mut Ctx) {
    let from = ctx.at(0.5);
    let to = from + 20 * 60_000;
    let hosts = ctx.web_hosts.clone();
    for host in &hosts {
        // ApiPool's workers logged on as the domain account in the morning;
        // a minute before the failures they start as ApplicationPoolIdentity.
        let morning = ctx.at(0.05);
        ctx.event(host, events::worker_logon(morning, host, "CONTOSO", "svc-api", 4));
        ctx.event(host, events::worker_logon(from - 60_000, host, "IIS APPPOOL", API_POOL, 5));
        ctx.traffic_mut(host, API_SITE).set_outcome(
            from,
            to,
            1.0,
            |r| r.stem.starts_with("/api/v2/orders"),
            (500, 0, 0),
            (30.0, 0.3),
        );
        let message = format!("Login failed for user 'CONTOSO\\{host}$'.");
        ctx.event(
            host,
            events::aspnet_1309(
                from + 1_200,
                &events::AspNetError {
                    host,
                    site: API_SITE,
                    pool: API_POOL,
                    ids: ("0a1b2c3d4e5f6a7b", "3", "5120", "14"),
                    exception: ("SqlException", &message),
                    path: "/api/v2/orders",
                    frame: "   at System.Data.SqlClient.SqlInternalConnectionTds..ctor()",
                },
            ),
        );
    }
    let sql = "SQL01";
    let mut t = from;
    let mut i = 0;
    while t < to {
        let web = &hosts[i % hosts.len()];
        ctx.event(
            sql,
            Ev::classic(
                Channel::Application,
                "MSSQLSERVER",
                18456,
                0,
                t,
                vec![
                    s(format!("CONTOSO\\{web}$")),
                    s(" Reason: Could not find a login matching the name provided."),
                    s(format!(" [CLIENT: 10.0.1.{}]", 11 + i % hosts.len())),
                ],
            )
            .task(4)
            .with_binary(Some(vec![
                0x18, 0x48, 0, 0, 0x0e, 0, 0, 0, 0x06, 0, 0, 0, b'S', 0, b'Q', 0, b'L', 0, b'0', 0, b'1', 0,
                0, 0,
            ])),
        );
        t += 2_000 + ctx.rng.below(6_000) as i64;
        i += 1;
    }
    ctx.answer(
        &["db-login-failure"],
        (from, to),
        (&hosts[0], Some(API_SITE), Some(API_POOL)),
        &["app-init-failure", "port-exhaustion"],
        "ApiPool's identity was switched from CONTOSO\\svc-api to ApplicationPoolIdentity (Security 4624: batch logons as svc-api in the morning, a service logon as IIS APPPOOL\\ApiPool a minute before the failures), so it now reaches the remote SQL Server as the machine account CONTOSO\\WEB01$, which has no login there: 18456 on SQL01 and SqlException 1309s on every web server.",
    );
}

fn missing_logs(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let cut = ctx.at(0.55);
    ctx.bundle.host(&host).access_cut.insert(SHOP_SITE, cut / 1000);
    ctx.event(
        &host,
        Ev::classic(
            Channel::System,
            "srv",
            2013,
            WARNING,
            cut - 600_000,
            vec![s("\\Device\\HarddiskVolume2"), s("C:"), s("3")],
        ),
    );
    let mut t = cut + 60_000;
    while t < ctx.end_ms {
        ctx.event(
            &host,
            Ev::manifest(
                Channel::System,
                "Microsoft-Windows-HttpEvent",
                "{7B6BC78C-898B-4170-BBF8-1A469EA43FC5}",
                Some("HTTP"),
                15002,
                ERROR,
                t,
                vec![
                    ("DeviceObject", s("\\Device\\Http\\ReqQueue")),
                    ("SiteId", Value::U32(SHOP_SITE)),
                    ("Status", Value::Hex32(0xC000_007F)),
                ],
            )
            .qualified()
            .by(4, 112),
        );
        t += 15 * 60_000;
    }
    ctx.truth.damage.push(format!(
        "{host}/inetpub/logs/LogFiles/W3SVC{SHOP_SITE}: nothing logged after {}",
        super::rfc3339(cut)
    ));
    ctx.answer(
        &["missing-logs"],
        (cut, ctx.end_ms),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["pool-stopped", "reboot"],
        "The log volume filled up: srv 2013 warned, then HTTP.sys could not write the W3C log (HttpEvent 15002) and the access log stops while HTTPERR and the event logs go on.",
    );
}

fn reboot(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.5);
    ctx.event(
        &host,
        Ev::classic(
            Channel::System,
            "User32",
            1074,
            INFO,
            at,
            vec![
                s("C:\\Windows\\servicing\\TrustedInstaller.exe (WEB01)"),
                s(host.clone()),
                s("Operating System: Service pack (Planned)"),
                s("0x80020010"),
                s("restart"),
                s(""),
                s("NT AUTHORITY\\SYSTEM"),
            ],
        )
        .by(6120, 6124),
    );
    ctx.event(&host, events::service_state(at + 8_000, "World Wide Web Publishing Service", "W3SVC", false));
    ctx.event(&host, events::service_state(at + 9_000, "Windows Process Activation Service", "WAS", false));
    ctx.event(&host, Ev::classic(Channel::System, "EventLog", 6006, INFO, at + 15_000, vec![]));
    let up = at + 4 * 60_000;
    for site in [SHOP_SITE, API_SITE] {
        ctx.traffic_mut(&host, site).drop_window(at + 8_000, up + 25_000);
        cold_start(ctx, &host, site, up + 25_000);
    }
    events::boot(ctx, &host, up);
    ctx.bundle.host(&host).log_reopens.push((up + 25_000) / 1000);
    ctx.answer(
        &["reboot"],
        (at, up + 30_000),
        (&host, None, None),
        &["worker-crash", "pool-stopped", "missing-logs"],
        "Patching: TrustedInstaller asked for a restart (USER32 1074), the services stopped, the event log closed cleanly (6006), and four minutes later the server was back (6005) with a fresh log header.",
    );
}

fn crash_and_queue_full(ctx: &mut Ctx) {
    let hosts = ctx.web_hosts.clone();
    worker_crash(ctx);
    let crash = ctx.truth.clone();
    // Meanwhile, the second server takes the load the first one dropped.
    let other = hosts[1].clone();
    let primary = std::mem::replace(&mut ctx.web_hosts, vec![other.clone()]);
    request_queue_full(ctx);
    ctx.web_hosts = primary;
    let queue = ctx.truth.clone();
    ctx.truth.expected = vec!["worker-crash", "request-queue-full"];
    ctx.truth.scope = crash.scope;
    ctx.truth.window = Some(super::Window {
        start: crash.window.as_ref().map(|w| w.start.clone()).unwrap_or_default(),
        end: queue.window.as_ref().map(|w| w.end.clone()).unwrap_or_default(),
    });
    ctx.truth.lookalikes = vec!["rapid-fail-protection", "worker-hang", "pool-stopped"];
    ctx.truth.story = format!("Two causes at once. {} {}", crash.story, queue.story);
}

/// One release, two effects: the API's deployment window, and a web.config
/// for the shop that needs a module this server lacks.
fn deployment_and_config_error(ctx: &mut Ctx) {
    recycles::deployment(ctx);
    let deployment = ctx.truth.clone();
    config_error(ctx);
    let config = ctx.truth.clone();
    ctx.truth.expected = vec!["config-error", "deployment"];
    ctx.truth.window = Some(super::Window {
        start: deployment.window.as_ref().map(|w| w.start.clone()).unwrap_or_default(),
        end: config.window.as_ref().map(|w| w.end.clone()).unwrap_or_default(),
    });
    ctx.truth.lookalikes =
        vec!["app-init-failure", "handler-missing", "pool-stopped", "ancm-startup-failure"];
    ctx.truth.story = format!("Two causes from one release. {} {}", config.story, deployment.story);
}
