//! `app-exception`: the application's own code threw on requests, and no
//! boundary failure (identity, database login, certificate key, startup,
//! crash) explains it. Read from ASP.NET 1309 (an unhandled exception in a
//! request) and 1310 (a view that does not parse or compile), and from the
//! ASP.NET Core event-log logger (.NET Runtime 1000) where the exception
//! handler, the IIS server or Kestrel report an unhandled request exception.
//!
//! What is not an application failure stays out: request validation
//! rejecting a scanner's URL (`HttpException`, answered 400/404), the client
//! going away (0x800704CD, cancellations, connection resets), and the
//! deployment site (`.scm.`), whose exceptions are Kudu's, not the app's.
//! It runs after the other detectors and reports only outside their
//! windows: an exception that a named cause explains is evidence of that
//! cause, not a second finding.

use std::collections::BTreeSet;
use std::sync::Arc;

use faultline_parser::{Span, Timestamp};

use super::kinds::{APP_LOGGER, ASPNET_REQUEST_FAILED, ASPNET_WEB_ERROR};
use super::{Draft, FailureMode, Window, clusters, grouped};
use crate::describe::headline;
use crate::evidence::{EventRow, Store};
use crate::exception::{self, AppException, WebEvent};
use crate::finding::{Role, Severity};

/// The ASP.NET Core logger categories (and event ids) that report an
/// exception no code caught while executing a request.
const REQUEST_FAILED_CATEGORIES: &[(&str, &str)] = &[
    ("Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware", "1"),
    ("Microsoft.AspNetCore.Diagnostics.DeveloperExceptionPageMiddleware", "1"),
    ("Microsoft.AspNetCore.Server.IIS.Core.IISHttpServer", "2"),
    ("Microsoft.AspNetCore.Server.Kestrel", "13"),
];

/// Exceptions that mean the client went away or the request was refused,
/// not that the application failed.
const NOT_FAILURES: &[&str] = &[
    "HttpException",
    "HttpRequestValidationException",
    "OperationCanceledException",
    "TaskCanceledException",
    "ConnectionResetException",
    "ConnectionAbortedException",
    "BadHttpRequestException",
];

/// HRESULT 0x800704CD (the remote host closed the connection) in a message.
const CLIENT_GONE: &str = "0x800704CD";

/// One application exception on one request.
struct Thrown<'a> {
    event: &'a EventRow,
    exception: AppException,
    path: Option<String>,
    account: Option<String>,
}

fn is_failure(x: &AppException, text: &str) -> bool {
    let short = x.type_name.rsplit('.').next().unwrap_or(&x.type_name);
    !NOT_FAILURES.contains(&short) && !text.contains(CLIENT_GONE)
}

/// An ASP.NET 1309/1310 as an application exception.
fn from_web_event(e: &EventRow) -> Option<Thrown<'_>> {
    let web = WebEvent::of(&e.event);
    if web.url.is_some_and(|u| super::event_rules::kudu_site(u).is_some()) {
        return None;
    }
    let exception = exception::web_exception(&web)?;
    is_failure(&exception, web.message.unwrap_or_default()).then(|| Thrown {
        event: e,
        exception,
        path: web.path.map(str::to_string),
        account: web.account.map(str::to_string),
    })
}

/// A logger entry (`Category: ...`, `EventId: ...`, `RequestPath: ...`,
/// the message, then the exception) as an application exception.
fn from_logger<'a>(store: &Store, e: &'a EventRow) -> Option<Thrown<'a>> {
    let text = e.data_at(0)?;
    let field = |k: &str| text.lines().find_map(|l| l.trim().strip_prefix(k)).map(str::trim);
    let (category, id) = (field("Category:")?, field("EventId:")?);
    if !REQUEST_FAILED_CATEGORIES.iter().any(|(c, i)| *c == category && *i == id) {
        return None;
    }
    let body = text.split_once("\r\n\r\n").or_else(|| text.split_once("\n\n")).map_or(text, |(_, b)| b);
    let exception = exception::find(body)?;
    let answered_client_error = field("RequestId:").is_some_and(|id| answered_4xx(store, e, id));
    (is_failure(&exception, body) && !answered_client_error).then(|| Thrown {
        event: e,
        exception,
        path: field("RequestPath:").map(str::to_string),
        account: None,
    })
}

/// An exception on a request that says the application waited on a
/// dependency that did not answer (a database timed out or unreachable,
/// an outbound call or socket that failed): what a hung worker's threads
/// were blocked on.
pub(super) struct Wait<'a> {
    pub(super) event: &'a EventRow,
    pub(super) exception: AppException,
    pub(super) path: Option<String>,
    /// The account it ran as (`IIS APPPOOL\<pool>`), when the event says.
    pub(super) account: Option<String>,
}

/// The waits on dependencies the application's events on `host` report
/// between `from` and `to`, in time order.
pub(super) fn waits_between<'a>(
    store: &'a Store,
    host: &str,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Wait<'a>> {
    let web = store
        .events_between(ASPNET_REQUEST_FAILED, from, to)
        .chain(store.events_between(ASPNET_WEB_ERROR, from, to))
        .filter(|e| &*e.host == host)
        .filter_map(from_web_event);
    let logged = store
        .events_between(APP_LOGGER, from, to)
        .filter(|e| &*e.host == host)
        .filter_map(|e| from_logger(store, e));
    let mut waits: Vec<Wait<'a>> = web
        .chain(logged)
        .filter(|t| {
            matches!(
                t.exception.cause,
                exception::Cause::Backend
                    | exception::Cause::DbUnavailable
                    | exception::Cause::PortExhaustion
            )
        })
        .map(|t| Wait { event: t.event, exception: t.exception, path: t.path, account: t.account })
        .collect();
    waits.sort_by_key(|w| (w.event.time(), w.event.event.record_id));
    waits
}

/// Whether the application's own log says, for the same request, that it
/// answered a client error (`Request failed with 409 ...`, `status code
/// 404`): an exception it mapped to a 4xx is its way of saying no, not a
/// failure.
fn answered_4xx(store: &Store, e: &EventRow, request_id: &str) -> bool {
    let around = store.events_between(APP_LOGGER, e.time() - Span::secs(2), e.time() + Span::secs(10));
    around.filter(|o| o.host == e.host && !std::ptr::eq(*o, e)).any(|o| {
        let Some(text) = o.data_at(0) else { return false };
        let same_request =
            text.lines().any(|l| l.trim().strip_prefix("RequestId:").map(str::trim) == Some(request_id));
        same_request && says_client_error(text)
    })
}

/// A 4xx status named as one: after `with`, `status` or `status code`.
fn says_client_error(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["with ", "status ", "status code ", "statuscode: ", "status code: "].iter().any(|lead| {
        lower.match_indices(lead).any(|(at, _)| {
            let rest = &lower.as_bytes()[at + lead.len()..];
            rest.len() >= 3
                && rest[0] == b'4'
                && rest[1..3].iter().all(u8::is_ascii_digit)
                && rest.get(3).is_none_or(|b| !b.is_ascii_digit())
        })
    })
}

pub(super) fn detect(store: &Store, covered: &[Window], out: &mut Vec<Draft>) {
    let web = store.events_of(ASPNET_REQUEST_FAILED).chain(store.events_of(ASPNET_WEB_ERROR));
    let mut thrown: Vec<Thrown<'_>> = web
        .filter_map(from_web_event)
        .chain(store.events_of(APP_LOGGER).filter_map(|e| from_logger(store, e)))
        .filter(|t| {
            !covered.iter().any(|w| w.covers(&t.event.host, t.event.time(), t.event.time(), Span::mins(10)))
        })
        .collect();
    thrown.sort_by_key(|t| (t.event.time(), t.event.event.record_id));
    for (host, list) in grouped(thrown, |t| t.event.host.clone()) {
        for c in clusters(list, |t| t.event.time(), Span::hours(2)) {
            out.push(finding(store, &host, &c));
        }
    }
}

fn finding(store: &Store, host: &Arc<str>, c: &[Thrown<'_>]) -> Draft {
    let (first, last) = (&c[0], &c[c.len() - 1]);
    let types: BTreeSet<&str> = c.iter().map(|t| t.exception.type_name.as_str()).collect();
    let mut paths: Vec<&str> = c.iter().filter_map(|t| t.path.as_deref()).collect();
    paths.sort_unstable();
    paths.dedup();
    let pool = c
        .iter()
        .filter_map(|t| t.account.as_deref())
        .find_map(|a| faultline_parser::winevent::pool_of_identity(a).map(str::to_string));
    let site = c.iter().find_map(|t| t.event.metabase_site());
    let failed = failed_requests(store, host, first.event.time(), last.event.time(), &paths);
    // Many exceptions, or many failed requests behind them, hurt users; a
    // handful on a developer's site is worth knowing.
    let severity = if c.len() >= 10 || failed.len() >= 20 { Severity::Medium } else { Severity::Low };
    let n = if c.len() == 1 { "1 request".to_string() } else { format!("{} requests", c.len()) };
    let mut text = format!(
        "The application's own code threw on {n}{}: {}: {}.",
        match paths.len() {
            0 => String::new(),
            1..=3 => format!(" ({})", paths.join(", ")),
            more => format!(" ({} and {} more endpoints)", paths[..3].join(", "), more - 3),
        },
        first.exception.type_name,
        first.exception.message.trim_end_matches('.')
    );
    if types.len() > 1 {
        let others: Vec<&str> = types.iter().copied().filter(|t| *t != first.exception.type_name).collect();
        text.push_str(&format!(" Also thrown: {}.", crate::describe::listed(&others, 5)));
    }
    text.push_str(
        " Each such request failed with 500; no IIS, identity, database-login or startup failure explains \
            it, so the fault is in the application (its code, its views or what it was given).",
    );
    // A file of the site locked when a request read it: not the code, but
    // files replaced under running requests (erinjmackey's view, written
    // in place by a deployment).
    let locked = c.iter().find_map(|t| {
        let m = &t.exception.message;
        let file = quoted(m).filter(|f| is_site_content(f))?;
        m.contains("being used by another process").then_some((file, t.event.time()))
    });
    if let Some((file, at)) = locked {
        text.push_str(&format!(
            " One of them found {file} held by another process at {}: a deployment writing the site's files \
                in place while it served (or a scanner holding them), not the code.",
            at.to_prose()
        ));
    }
    let mut d = Draft::new(
        FailureMode::AppException,
        severity,
        if c.len() >= 3 { 0.7 } else { 0.6 },
        first.event.time(),
        last.event.time(),
    )
    .scope(Some(host), site, pool.as_deref())
    .explain(text);
    // The ADO.NET pool-timeout message: the application's own connections,
    // opened and never given back, not the database.
    let pool_exhausted =
        c.iter().find(|t| t.exception.message.contains("obtaining a connection from the pool"));
    if let Some(t) = pool_exhausted {
        d.explanation.push_str(&format!(
            " The timeout \"prior to obtaining a connection from the pool\" says the application's database \
                connection pool was exhausted (its Max Pool Size reached): connections the code opened and did \
                not dispose of held it, not a slow or unreachable database. The endpoints failing are its \
                victims; the first to fail ({} at {}) is where to look first.",
            t.path.as_deref().unwrap_or("-"),
            t.event.time().to_prose()
        ));
        d = d.remedy(&[
            "Find the connections opened and not disposed of (SqlConnection and readers outside using blocks, \
                an exception path that skips Close), starting with the endpoints that failed first; recycling \
                the pool only empties it until the leak fills it again.",
            "Raise Max Pool Size in the connection string only for a load the database can take, once the leak \
                is fixed.",
        ]);
    }
    if locked.is_some() {
        d = d.also(&[
            "Deploy without replacing files under running requests: run from a package (App Service: \
                WEBSITE_RUN_FROM_PACKAGE), swap a staging slot, or take the app offline (app_offline.htm) while \
                files are copied; on a server of your own, keep on-access antivirus scanning off the site's \
                folder.",
        ]);
    }
    for t in c.iter().take(6) {
        d.cite(store.cite_event(t.event, headline(&t.event.event)), Role::Cause);
    }
    d.cite_first(failed.iter(), 5, Role::Effect, |r| store.cite_request(r));
    d
}

/// Whether a file is one a deployment writes: the site's pages, views,
/// code, assemblies and configuration, not a log the app writes itself
/// (a log file two instances share is the app's or its logger's
/// configuration).
fn is_site_content(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    let written_by_app =
        ["\\logfiles\\", "\\logs\\", "\\log\\", "\\app_data\\"].iter().any(|d| lower.contains(d));
    let content = [
        ".cshtml", ".vbhtml", ".aspx", ".ascx", ".master", ".asax", ".ashx", ".asmx", ".svc", ".config",
        ".dll", ".js", ".css", ".html", ".htm", ".json",
    ];
    !written_by_app && !lower.ends_with(".log") && content.iter().any(|e| lower.ends_with(e))
}

/// The first text between single quotes (a file an exception names).
fn quoted(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('\'')?;
    rest.split_once('\'').map(|(q, _)| q).filter(|q| !q.is_empty())
}

/// The 500s the access log holds for the same endpoints at the time.
fn failed_requests<'a>(
    store: &'a Store,
    host: &str,
    from: Timestamp,
    to: Timestamp,
    paths: &[&str],
) -> Vec<&'a crate::evidence::RequestRow> {
    let rows = store.requests_between(from - Span::mins(5), to + Span::mins(5)).iter().filter(|r| {
        &*r.host == host
            && r.status.code == 500
            && (paths.is_empty() || paths.iter().any(|p| p.eq_ignore_ascii_case(&r.stem)))
    });
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    fn web_event(e: Given, secs: i64, code: &str, thrown: (&str, &str), url: &str, path: &str) -> Given {
        let mut data = vec![code, "An unhandled exception has occurred."];
        data.extend([
            "",
            "",
            "id",
            "1",
            "1",
            "0",
            "/LM/W3SVC/1/ROOT-1-1",
            "Full",
            "/",
            "D:\\home\\site\\wwwroot\\",
        ]);
        data.extend(["RD0001", "4242", "w3wp.exe", "IIS APPPOOL\\winedraw", thrown.0, thrown.1, url, path]);
        e.positional("APP", secs, "ASP.NET 4.0.30319.0", 1309, &data)
    }

    /// ADO.NET's pool-timeout message is a connection leak: said so, with
    /// the first endpoint to fail and the steps of finding undisposed
    /// connections, not "fix the endpoint's code or input".
    #[test]
    fn an_exhausted_connection_pool_is_a_leak_not_the_endpoints_fault() {
        let timeout = (
            "InvalidOperationException",
            "Timeout expired.  The timeout period elapsed prior to obtaining a connection from the pool.",
        );
        let mut e = Given::new();
        for (i, path) in ["/api/reports/export", "/api/customers", "/api/orders"].iter().enumerate() {
            e = web_event(e, 100 + i as i64 * 10, "3005", timeout, "https://crm/", path);
        }
        let mut out = Vec::new();
        detect(&e.store(), &[], &mut out);
        assert_eq!(out.len(), 1);
        let d = &out[0];
        assert!(d.explanation.contains("connection pool was exhausted"), "{}", d.explanation);
        assert!(d.explanation.contains("(/api/reports/export at"), "{}", d.explanation);
        assert!(d.remediation[0].contains("not disposed of"), "{:?}", d.remediation);
    }

    /// A view a deployment overwrites is the deployment's; a log file the
    /// app's instances share is the app's own.
    #[test]
    fn a_locked_file_is_blamed_on_the_deployment_only_when_a_deployment_writes_it() {
        assert!(is_site_content("D:\\home\\site\\wwwroot\\Views\\Home\\Partyapp.vbhtml"));
        assert!(is_site_content("C:\\inetpub\\shop\\bin\\Shop.dll"));
        assert!(!is_site_content("D:\\home\\LogFiles\\Application\\app-20211213.log"));
        assert!(!is_site_content("D:\\home\\site\\wwwroot\\App_Data\\cache.json"));
        let locked = |file: &str| {
            let message = format!(
                "The process cannot access the file '{file}' because it is being used by another process."
            );
            let e = web_event(
                Given::new(),
                100,
                "3005",
                ("IOException", &message),
                "https://w/Home/Party",
                "/Home/Party",
            );
            e.detected(|s, out| detect(s, &[], out)).remove(0)
        };
        assert!(
            locked("D:\\home\\site\\wwwroot\\Views\\Home\\Party.vbhtml")
                .explanation
                .contains("held by another process")
        );
        let log = locked("D:\\home\\LogFiles\\app.log");
        assert!(!log.explanation.contains("held by another process"), "{}", log.explanation);
        assert!(!log.remediation.iter().any(|r| r.contains("run from a package")), "{:?}", log.remediation);
    }

    #[test]
    fn exceptions_the_code_threw_are_one_finding_per_burst_naming_type_and_endpoint() {
        let e = web_event(
            Given::new(),
            100,
            "3007",
            ("HttpCompileException", "error BC30203"),
            "https://w/Home/Teams",
            "/Home/Teams",
        );
        let e = web_event(
            e,
            400,
            "3005",
            (
                "IOException",
                "The process cannot access the file 'D:\\home\\site\\wwwroot\\Views\\Home\\Party.vbhtml' because it is being used by another process.",
            ),
            "https://w/Home/Party",
            "/Home/Party",
        );
        let found = e.detected(|s, out| detect(s, &[], out));
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::AppException, Severity::Low));
        assert_eq!((d.start, d.end), (at(100), at(400)), "from the first exception");
        assert_eq!(d.scope.app_pool.as_deref(), Some("winedraw"));
        assert!(
            d.explanation.contains("2 requests (/Home/Party, /Home/Teams): HttpCompileException"),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation
                .contains("found D:\\home\\site\\wwwroot\\Views\\Home\\Party.vbhtml held by another process"),
            "{}",
            d.explanation
        );
        assert!(d.remediation.iter().any(|r| r.contains("run from a package")), "{:?}", d.remediation);
        assert!(d.explanation.contains("Also thrown: IOException"), "{}", d.explanation);
    }

    #[test]
    fn scanners_disconnects_and_the_deployment_site_are_not_application_failures() {
        let e = web_event(
            Given::new(),
            100,
            "3005",
            ("HttpException", "A potentially dangerous Request.Path value was detected from the client (:)."),
            "https://w/view-source:",
            "/view-source:",
        );
        let e = web_event(
            e,
            200,
            "3005",
            ("InvalidOperationException", "Repository url 'x' is invalid."),
            "https://w.scm.azurewebsites.net:443/deploy",
            "/deploy",
        );
        let e = web_event(
            e,
            300,
            "3005",
            ("COMException", "The remote host closed the connection. The error code is 0x800704CD."),
            "https://w/logstream",
            "/logstream",
        );
        assert!(e.detected(|s, out| detect(s, &[], out)).is_empty());
    }

    #[test]
    fn the_aspnet_core_exception_handler_names_the_path_and_the_exception() {
        let text = "Category: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware\r\nEventId: 1\r\nRequestPath: \
            /office/health\r\n\r\nAn unhandled exception has occurred while executing the request.\r\n\r\nException: \
            \r\nSystem.InvalidOperationException: Unable to resolve service for type 'IConnectionMultiplexer'\r\n   at X.Y()";
        let warning = "Category: Microsoft.AspNetCore.Server.IIS.Core.IISHttpServer\r\nEventId: 0\r\n\r\nIncreasing the \
            MaxRequestBodySize conflicts with the max value for IIS limit maxAllowedContentLength.";
        let e = Given::new().positional("APP", 100, ".NET Runtime", 1000, &[text]).positional(
            "APP",
            200,
            ".NET Runtime",
            1000,
            &[warning],
        );
        let found = e.detected(|s, out| detect(s, &[], out));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].explanation.contains("1 request (/office/health): System.InvalidOperationException"),
            "{}",
            found[0].explanation
        );
    }

    #[test]
    fn an_exception_the_app_answered_with_a_client_error_is_not_a_failure() {
        let thrown = "Category: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware\nEventId: 1\nRequestId: \
            4000-1\nRequestPath: /api/documents/1/view-url\n\nAn unhandled exception has occurred.\n\nException: \
            \nSprk.SdapProblemException: mapping_missing_drive";
        let answered = "Category: Program\nEventId: 0\nRequestId: 4000-1\n\nRequest failed with 409 \
            mapping_missing_drive";
        let e = Given::new().positional("APP", 100, ".NET Runtime", 1000, &[thrown]).positional(
            "APP",
            100,
            ".NET Runtime",
            1000,
            &[answered],
        );
        assert!(e.detected(|s, out| detect(s, &[], out)).is_empty());
        assert!(says_client_error("request failed with 404 not found"));
        assert!(!says_client_error("request failed with 500 server_error"));
        assert!(!says_client_error("status 4000"));
    }

    #[test]
    fn an_exception_another_finding_explains_is_left_to_it() {
        let e = web_event(
            Given::new(),
            100,
            "3005",
            ("SqlException", "Login failed for user 'CONTOSO\\WEB01$'."),
            "https://w/api",
            "/api",
        );
        let found = e.detected(|s, out| {
            detect(s, &[Window { host: Some("APP".into()), start: at(0), end: at(90) }], out)
        });
        assert!(found.is_empty());
    }
}
