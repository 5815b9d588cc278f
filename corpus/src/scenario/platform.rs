//! Failures of the platform under IIS: ports, memory, identities, the
//! configuration store and bindings (docs/failure-modes.md).

use super::effects::{answered_by_httpsys, cold_start};
use super::events::{self, ERROR, Ev, INFO, WARNING, s};
use super::{API_POOL, API_SITE, Ctx, SHOP_POOL, SHOP_SITE};
use crate::bundle::{Channel, HttpErrRow};
use crate::evtx::Value;

fn tcpip(id: u16, at: i64, data: Vec<(&str, Value)>) -> Ev {
    Ev::manifest(
        Channel::System,
        "Microsoft-Windows-Tcpip",
        "{2F07E2EE-15DB-40F1-90EF-9D7BA282188A}",
        Some("Tcpip"),
        id,
        WARNING,
        at,
        data,
    )
}

pub(super) fn port_exhaustion(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.55);
    let to = from + 15 * 60_000;
    ctx.traffic_mut(&host, API_SITE).set_outcome(
        from,
        to,
        0.6,
        |r| r.stem.starts_with("/api/v2/orders"),
        (500, 0, 0),
        (15_000.0, 0.05),
    );
    let mut t = from;
    while t < to {
        ctx.event(
            &host,
            tcpip(4227, t, vec![("RemoteAddress", s("10.0.2.20:1433")), ("LocalAddress", s("10.0.1.11:0"))])
                .by(4, 3860),
        );
        ctx.event(&host, tcpip(4231, t + 800, vec![("Protocol", s("TCP"))]).by(4, 3860));
        t += 60_000 + ctx.rng.below(30_000) as i64;
    }
    ctx.event(
        &host,
        events::aspnet_1309(from + 2_000, &events::AspNetError {
            host: &host,
            site: API_SITE,
            pool: API_POOL,
            ids: ("6c1d2e3f4a5b6c7d", "9", "5120", "17"),
            exception: (
                "SocketException",
                "Only one usage of each socket address (protocol/network address/port) is normally permitted 10.0.2.20:1433",
            ),
            path: "/api/v2/orders",
            frame: "   at System.Net.Sockets.Socket.DoConnect()",
        }),
    );
    ctx.answer(
        &["port-exhaustion"],
        (from, to),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["db-login-failure", "backend-failure", "request-queue-full"],
        "A release created a new connection per call with pooling turned off: under the afternoon load the server ran out of ephemeral ports (Tcpip 4227, 4231) and order calls failed after the 15-second client timeout.",
    );
}

pub(super) fn memory_exhaustion(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let to = from + 20 * 60_000;
    ctx.event(
        &host,
        Ev::manifest(
            Channel::System,
            "Microsoft-Windows-Resource-Exhaustion-Detector",
            "{9988748E-C2E8-4054-85F6-0C3E1CAD2470}",
            None,
            2004,
            WARNING,
            from,
            vec![
                ("SystemCommitLimit", Value::U64(17_179_869_184)),
                ("SystemCommitCharge", Value::U64(17_100_000_000)),
                ("ProcessCommitCharge", Value::U64(12_884_901_888)),
                ("NonPagedPoolUsage", Value::U64(912_345_678)),
                ("PagedPoolUsage", Value::U64(712_345_678)),
                ("PhysicalMemorySize", Value::U64(17_179_869_184)),
                ("PhysicalMemoryUsage", Value::U64(17_000_000_000)),
                ("NonPagedPoolAllocations", Value::U32(2_345_678)),
                ("PagedPoolAllocations", Value::U32(3_456_789)),
                ("PagefileInUse", Value::U32(1)),
            ],
        )
        .task(3)
        .by(2120, 4300)
        .user("S-1-5-18"),
    );
    for k in 0..3 {
        let at = from + 60_000 + k * 5 * 60_000;
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
        cold_start(ctx, &host, SHOP_SITE, at);
    }
    let worker = events::pid(ctx);
    events::crash(
        ctx,
        &host,
        SHOP_POOL,
        from + 17 * 60_000,
        worker,
        "System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException' was thrown.",
    );
    let rows: Vec<_> = ctx.traffic_mut(&host, API_SITE).drop_window(from + 10 * 60_000, to);
    for r in rows.iter().step_by(2) {
        ctx.bundle.host(&host).httperr.push(HttpErrRow {
            time: r.end_ms / 1000,
            client: (r.client.to_string(), 50_000),
            server: (super::effects::SERVER_IP.into(), 443),
            request: None,
            status: None,
            site: None,
            reason: "Connections_Refused",
            queue: None,
        });
    }
    ctx.answer(
        &["memory-exhaustion", "recycle-memory-limit"],
        (from, to),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["worker-crash", "request-queue-full"],
        "The server ran out of memory: the resource-exhaustion detector named w3wp (2004), ShopPool recycled on its memory limit again and again, a worker died with OutOfMemoryException, and HTTP.sys refused connections.",
    );
}

pub(super) fn identity_logon_failure(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.5);
    let restored = at + 30 * 60_000;
    let mut t = at;
    for _ in 0..5 {
        let subject = format!("{host}$");
        ctx.event(
            &host,
            events::failed_logon(
                t,
                &events::FailedLogon {
                    subject: ("S-1-5-18", &subject, "CONTOSO", 0x3e7),
                    target: "svc-shop",
                    logon_type: 4,
                    process: ("Advapi  ", "Negotiate"),
                    workstation: &host,
                    caller: (0x2d0, "C:\\Windows\\System32\\svchost.exe"),
                },
            ),
        );
        ctx.event(&host, Ev::was(5021, WARNING, t + 5, vec![("AppPoolID", s(SHOP_POOL))], None));
        t += 40_000;
    }
    ctx.event(&host, Ev::was(5057, ERROR, t, vec![("AppPoolID", s(SHOP_POOL))], None));
    answered_by_httpsys(ctx, (&host, SHOP_SITE, SHOP_POOL), (at, restored), Some(503), "N/A");
    ctx.answer(
        &["identity-logon-failure"],
        (at, restored),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["auth-failure", "rapid-fail-protection", "pool-stopped"],
        "svc-shop's password was changed in Active Directory but not in IIS: ShopPool cannot log on (Security 4625 type 4, 0xC000006A; WAS 5021), WAS disables it (5057) and HTTP.sys answers 503 until the password is fixed.",
    );
}

pub(super) fn config_store_broken(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.55);
    let fixed = at + 20 * 60_000;
    ctx.event(
        &host,
        Ev::was(
            5172,
            ERROR,
            at,
            vec![
                ("File", s("\\\\?\\C:\\Windows\\system32\\inetsrv\\config\\applicationHost.config")),
                ("LineNumber", Value::U32(311)),
                ("ErrorText", s("Configuration file is not well-formed XML")),
            ],
            None,
        ),
    );
    for (site, pool) in [(SHOP_SITE, SHOP_POOL), (API_SITE, API_POOL)] {
        ctx.event(
            &host,
            Ev::was(5189, ERROR, at + 400, vec![("AppPoolID", s(pool)), ("ErrorType", Value::U32(3))], None),
        );
        ctx.event(
            &host,
            Ev::worker(
                2307,
                ERROR,
                at + 700,
                vec![
                    ("ConfigPath", s(format!("\\\\?\\C:\\inetpub\\temp\\apppools\\{pool}\\{pool}.config"))),
                    ("LineNumber", Value::U32(0)),
                    ("ErrorText", s("Cannot read configuration file")),
                ],
            ),
        );
        ctx.event(&host, Ev::was(5002, ERROR, at + 5_000, vec![("AppPoolID", s(pool))], None));
        answered_by_httpsys(ctx, (&host, site, pool), (at, fixed), Some(503), "AppOffline");
    }
    ctx.answer(
        &["config-store-broken"],
        (at, fixed),
        (&host, None, None),
        &["config-error", "rapid-fail-protection", "pool-stopped"],
        "A hand edit left applicationHost.config not well-formed (line 311): WAS cannot read it (5172) or generate the pools' configuration (5189), every pool fails and is disabled (5002), and HTTP.sys answers 503 for both sites.",
    );
}

/// URL Rewrite removed while applicationHost.config still loads it: every
/// worker of ShopPool dies at start (W3SVC-WP 2280, error 126, then WAS
/// 5009) until rapid-fail protection disables the pool.
pub(super) fn module_missing(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let first = ctx.at(0.5);
    let mut last = first;
    for i in 0..5 {
        let at = first + i * 40_000 + ctx.rng.below(5_000) as i64;
        let worker = events::pid(ctx);
        ctx.event(
            &host,
            Ev::worker(
                2280,
                ERROR,
                at,
                vec![("ModuleDll", s("%SystemRoot%\\system32\\inetsrv\\rewrite.dll"))],
            )
            .with_binary(Some(vec![0x7E, 0x00, 0x00, 0x00])),
        );
        ctx.event(
            &host,
            Ev::was(
                5009,
                WARNING,
                at + 250,
                vec![
                    ("AppPoolID", s(SHOP_POOL)),
                    ("ProcessID", s(worker.to_string())),
                    ("ExitCode", s("0xff")),
                ],
                None,
            ),
        );
        last = at;
    }
    let disabled = last + 900;
    ctx.event(&host, Ev::was(5002, ERROR, disabled, vec![("AppPoolID", s(SHOP_POOL))], None));
    let restart = disabled + 20 * 60_000;
    answered_by_httpsys(ctx, (&host, SHOP_SITE, SHOP_POOL), (disabled, restart), Some(503), "AppOffline");
    cold_start(ctx, &host, SHOP_SITE, restart);
    ctx.answer(
        &["handler-missing"],
        (first - 1_000, restart),
        (&host, Some(SHOP_SITE), Some(SHOP_POOL)),
        &["rapid-fail-protection", "worker-crash", "config-store-broken"],
        "An update removed URL Rewrite while applicationHost.config still loads rewrite.dll: every ShopPool worker died at start (W3SVC-WP 2280, error 126; WAS 5009), WAS disabled the pool (5002) and HTTP.sys answered 503 AppOffline until it was started again 20 minutes later.",
    );
}

/// ShopPool switched to 32-bit (`enable32BitAppOnWin64`) while a 64-bit
/// single-sign-on ISAPI filter stays registered for the shop site: each
/// worker logs W3SVC-WP 2214 (error 193) and 2268 at its first request,
/// stays up, and fails every shop request with 500.0 and win32 193 until
/// the pool is switched back.
pub(super) fn filter_bitness(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let fixed = from + 25 * 60_000;
    // The data's name is not seen in any sample: the filter is read as the
    // event's first value, as its message (`%1`) places it.
    let filter = "C:\\Program Files\\Contoso\\SSO\\x64\\ssofilter.dll";
    ctx.event(
        &host,
        Ev::worker(2214, ERROR, from + 300, vec![("FilterDll", s(filter))])
            .with_binary(Some(vec![0xC1, 0x00, 0x00, 0x00])),
    );
    ctx.event(&host, Ev::worker(2268, ERROR, from + 310, vec![("SiteName", s("Shop"))]));
    let n =
        ctx.traffic_mut(&host, SHOP_SITE).set_outcome(from, fixed, 1.0, |_| true, (500, 0, 193), (3.0, 0.3));
    cold_start(ctx, &host, SHOP_SITE, fixed);
    ctx.answer(
        &["handler-missing"],
        (from - 1_000, fixed),
        (&host, Some(SHOP_SITE), None),
        &["app-init-failure", "app-exception", "config-error", "rapid-fail-protection"],
        &format!("ShopPool was switched to 32-bit while a 64-bit single-sign-on ISAPI filter stayed registered for the shop site: the worker could not load it (W3SVC-WP 2214, error 193), aborted the site's start (2268) and answered {n} shop requests 500.0 with win32 193 until the pool was switched back 25 minutes later."),
    );
}

pub(super) fn binding_conflict(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.5);
    ctx.event(&host, events::service_state(at, "World Wide Web Publishing Service", "W3SVC", false));
    ctx.event(&host, events::service_state(at + 4_000, "World Wide Web Publishing Service", "W3SVC", true));
    ctx.event(
        &host,
        Ev::manifest(
            Channel::System,
            "Microsoft-Windows-IIS-W3SVC",
            "{05448E22-93DE-4A7A-BBA5-92E27486A8BE}",
            Some("W3SVC"),
            1007,
            ERROR,
            at + 4_500,
            vec![("SiteID", Value::U32(API_SITE)), ("Binary", s("0x80070020"))],
        )
        .qualified()
        .with_binary(Some(vec![0x20, 0x00, 0x07, 0x80])),
    );
    let end = ctx.end_ms;
    let gone = ctx.traffic_mut(&host, API_SITE).drop_window(at, end);
    for r in gone.iter().step_by(3) {
        ctx.bundle.host(&host).httperr.push(HttpErrRow {
            time: r.end_ms / 1000,
            client: (r.client.to_string(), 50_001),
            server: (super::effects::SERVER_IP.into(), 443),
            request: Some(("HTTP/1.1", r.method, r.stem.clone())),
            status: Some(404),
            site: None,
            reason: "NotFound",
            queue: None,
        });
    }
    ctx.bundle.host(&host).log_reopens.push((at + 5_000) / 1000);
    ctx.answer(
        &["binding-conflict"],
        (at, ctx.end_ms),
        (&host, Some(API_SITE), Some(API_POOL)),
        &["pool-stopped", "reboot", "missing-logs"],
        "After an iisreset another program held the API's port and host name: W3SVC could not register its URL (1007, 0x80070020 sharing violation), the site stayed down and HTTP.sys answered 404 NotFound, while the shop kept working.",
    );
}
