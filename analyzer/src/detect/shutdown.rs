//! `recycle-unhealthy`, its shutdown half: an ASP.NET Core app that did not
//! stop within ANCM's shutdown time limit (ANCM 1005, "Failed to gracefully
//! shutdown application"), so ANCM ended it with whatever it was still
//! doing. A deployment, a restart or a recycle asked it to stop; the app's
//! own code decides how long it takes, and a BackgroundService that throws
//! while stopping (spaarke's Service Bus processor, stopped after what it
//! uses was disposed) is the usual reason it never finishes. A 1005 beside
//! a failed start or a crash is that failure's, not a shutdown's.

use faultline_parser::Span;

use super::kinds::{ANCM_STOPPED, ANCM_UNGRACEFUL, APP_LOGGER, RUNTIME_TERMINATED};
use super::{Draft, FailureMode, host_clusters};
use crate::describe::headline;
use crate::evidence::{EventRow, Store};
use crate::finding::{Role, Severity};

/// How far back the stop that asked for the shutdown, or the exception
/// that held it up, may lie.
const STOPPING: Span = Span::mins(1);

/// Shutdowns more than this apart are separate findings.
const APART: Span = Span::hours(12);

/// Listed in the explanation; the rest are counted.
const LISTED: usize = 5;

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let forced = store.events_of(ANCM_UNGRACEFUL).filter(|e| {
        e.event.data.first().is_some_and(|d| d.value.contains("gracefully"))
            && super::ancm::names_customer_app(e)
            && !failing(store, e)
    });
    for c in host_clusters(forced, APART) {
        out.push(finding(store, &c));
    }
}

/// Whether the app was failing to start or crashing then: its shutdown is
/// that failure's.
fn failing(store: &Store, e: &EventRow) -> bool {
    let (from, to) = (e.time() - Span::mins(2), e.time());
    super::ancm::start_failed_between(store, &e.host, from, to)
        || store.events_between(RUNTIME_TERMINATED, from, to).any(|c| c.host == e.host)
}

/// A BackgroundService's failure the host logged (the event-log logger's
/// `BackgroundService failed`), with the exception and the service's own
/// frame.
struct Thrown<'a> {
    event: &'a EventRow,
    exception: Option<crate::exception::AppException>,
    service: Option<&'a str>,
    /// Whether the host then logged that it stops on such a failure.
    stop_host: bool,
}

/// The BackgroundService that threw on the same machine as the app was
/// stopping, if one did.
fn background_failure<'a>(store: &'a Store, e: &EventRow) -> Option<Thrown<'a>> {
    let logged = |said: &'static str| {
        store.events_between(APP_LOGGER, e.time() - STOPPING, e.time()).find(move |l| {
            l.host == e.host
                && l.event.computer == e.event.computer
                && l.data_at(0).is_some_and(|t| t.contains(said))
        })
    };
    let failed = logged("BackgroundService failed")?;
    let text = failed.data_at(0).unwrap_or_default();
    Some(Thrown {
        event: failed,
        exception: crate::exception::find(text),
        service: service_frame(text),
        stop_host: logged("BackgroundServiceExceptionBehavior is configured to StopHost").is_some(),
    })
}

/// The BackgroundService's own method in a stack: the frame the host's
/// `TryExecuteBackgroundServiceAsync` called.
fn service_frame(text: &str) -> Option<&str> {
    let frames: Vec<&str> = crate::exception::frames(text).collect();
    let host = frames.iter().position(|f| f.starts_with("Microsoft.Extensions.Hosting.Internal.Host."))?;
    host.checked_sub(1).map(|i| frames[i])
}

/// What asked the app to stop: app_offline.htm or a shutdown (a restart, a
/// recycle) on the same machine shortly before.
fn stopped_by<'a>(store: &'a Store, e: &EventRow) -> Option<&'a EventRow> {
    store
        .events_between(ANCM_STOPPED, e.time() - STOPPING, e.time())
        .filter(|s| {
            s.host == e.host && s.event.computer == e.event.computer && super::ancm::names_customer_app(s)
        })
        .last()
}

fn finding(store: &Store, c: &[&EventRow]) -> Draft {
    let (first, last) = (c[0], c[c.len() - 1]);
    let thrown: Vec<Thrown<'_>> = c.iter().filter_map(|e| background_failure(store, e)).collect();
    let deployed =
        c.iter().filter(|e| stopped_by(store, e).is_some_and(|s| s.event.event_id == 1012)).count();
    let times: Vec<String> = c.iter().take(LISTED).map(|e| e.time().to_prose()).collect();
    let more = if c.len() > LISTED { format!("; and {} more", c.len() - LISTED) } else { String::new() };
    let mut text = format!(
        "The application did not shut down within ANCM's time limit {} (ANCM 1005, {}{more}): ANCM ended it \
            with what it was still doing (requests in flight, background work) unfinished.",
        if c.len() == 1 { "once".to_string() } else { format!("{} times", c.len()) },
        times.join(", "),
    );
    if deployed > 0 {
        text.push_str(&format!(
            " {} app_offline.htm (a deployment).",
            match (deployed == c.len(), c.len()) {
                (true, 1) => "It followed".to_string(),
                (true, _) => "Each followed".to_string(),
                (false, _) => format!("{deployed} of them followed"),
            }
        ));
    }
    if let Some(t) = thrown.first() {
        let what = t
            .exception
            .as_ref()
            .map_or_else(String::new, |x| format!(" {}: {}", x.type_name, x.message.trim_end_matches('.')));
        text.push_str(&format!(
            " {} BackgroundService threw while the app stopped{}:{what}.",
            match (thrown.len() == c.len(), c.len()) {
                (true, 1) => "A".to_string(),
                (true, _) => "Each time, a".to_string(),
                (false, _) => format!("{} of those times, a", thrown.len()),
            },
            t.service.map_or_else(String::new, |s| format!(" ({s})")),
        ));
        if thrown.iter().any(|t| t.stop_host) {
            let already = thrown.iter().any(|t| stopped_by(store, t.event).is_some());
            text.push_str(if already {
                " Its host's BackgroundServiceExceptionBehavior is StopHost (the default since .NET 6), which \
                    stops the host on such an exception; the host was already stopping when it threw."
            } else {
                " Its host's BackgroundServiceExceptionBehavior is StopHost (the default since .NET 6): the \
                    exception stopped the host."
            });
        }
    }
    let mut d = Draft::new(FailureMode::RecycleUnhealthy, Severity::Low, 0.8, first.time(), last.time())
        .scope(Some(&first.host), c.iter().find_map(|e| e.metabase_site()), None)
        .explain(text)
        .remedy(if thrown.is_empty() { SHUTDOWN_STEPS } else { BACKGROUND_SERVICE_STEPS });
    for e in c.iter().take(8) {
        if let Some(s) = stopped_by(store, e) {
            d.cite(store.cite_event(s, headline(&s.event)), Role::Context);
        }
        d.cite(store.cite_event(e, headline(&e.event)), Role::Effect);
    }
    for t in thrown.iter().take(8) {
        d.cite(store.cite_event(t.event, headline(&t.event.event)), Role::Cause);
    }
    d
}

/// What to do when the app's shutdown outlasts ANCM's limit.
const SHUTDOWN_STEPS: &[&str] = &[
    "Find what the app waits on when it stops (hosted services, open connections, work it drains) and bound it \
        by the host's shutdown token.",
    "If the app needs longer to drain, raise shutdownTimeLimit on the aspNetCore element of web.config \
        (seconds, 10 by default) together with HostOptions.ShutdownTimeout.",
];

/// What to do when a BackgroundService throws as the app stops.
const BACKGROUND_SERVICE_STEPS: &[&str] = &[
    "Make the BackgroundService stop cleanly: when its stopping token is cancelled, end ExecuteAsync and stop \
        what it runs (a Service Bus processor, a timer) before what that uses is disposed; catch and log \
        exceptions inside ExecuteAsync so one failure does not stop the host.",
    "If the app needs longer to drain, raise shutdownTimeLimit on the aspNetCore element of web.config \
        (seconds, 10 by default) together with HostOptions.ShutdownTimeout.",
];

#[cfg(test)]
mod tests {
    use super::super::testing::{Given, at};
    use super::*;

    const V2: &str = "IIS AspNetCore Module V2";

    fn forced(e: Given, secs: i64) -> Given {
        e.positional(
            "APP",
            secs,
            V2,
            1005,
            &[
                "Failed to gracefully shutdown application 'MACHINE/WEBROOT/APPHOST/SHOP'.",
                "Process Id: 5732.",
            ],
        )
    }

    fn offline(e: Given, secs: i64) -> Given {
        e.app_offline("APP", secs)
    }

    const SERVICE_FAILED: &str = "Category: Microsoft.Extensions.Hosting.Internal.Host\r\nEventId: 9\r\n\r\n\
        BackgroundService failed\r\n\r\nException: \r\nSystem.ObjectDisposedException: Cannot access a disposed \
        object.\r\nObject name: 'System.Threading.SemaphoreSlim'.\r\n   at System.Threading.SemaphoreSlim.WaitAsync(Int32 \
        millisecondsTimeout, CancellationToken cancellationToken)\r\n   at \
        Azure.Messaging.ServiceBus.ServiceBusProcessor.StopProcessingAsync(CancellationToken cancellationToken)\r\n   \
        at Shop.Jobs.JobProcessor.ExecuteAsync(CancellationToken stoppingToken) in C:\\src\\JobProcessor.cs:line 72\r\n   \
        at Microsoft.Extensions.Hosting.Internal.Host.TryExecuteBackgroundServiceAsync(BackgroundService backgroundService)";

    /// spaarke's deployments: app_offline.htm, the Service Bus processor
    /// throwing as it is stopped, then ANCM giving up on the shutdown.
    #[test]
    fn a_shutdown_ancm_gave_up_on_names_the_service_that_threw() {
        let e = offline(Given::new(), 0).positional("APP", 2, ".NET Runtime", 1000, &[SERVICE_FAILED]);
        let e = forced(e, 11);
        let e = forced(offline(e, 3_600), 3_611);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(
            (d.id, d.severity, d.start, d.end),
            (FailureMode::RecycleUnhealthy, Severity::Low, at(11), at(3_611))
        );
        assert!(d.explanation.contains("2 times"), "{}", d.explanation);
        assert!(d.explanation.contains("Each followed app_offline.htm"), "{}", d.explanation);
        assert!(
            d.explanation.contains(
                "1 of those times, a BackgroundService threw while the app stopped (Shop.Jobs.JobProcessor.ExecuteAsync): \
                 System.ObjectDisposedException: Cannot access a disposed object."
            ),
            "{}",
            d.explanation
        );
        assert!(d.remediation[0].contains("BackgroundService"), "{:?}", d.remediation);
    }

    /// A 1005 as a crashing app is torn down (baselAhmed2's Functions
    /// worker dying in Program.Main) is the crash's, and ANCM's other
    /// 1005 wording is not a shutdown, nor is a Functions placeholder's (the
    /// platform's pre-warmed app, vcarpool's thirteen).
    /// spaarke's worker: the Application Insights agent, an app of the
    /// Kudu site, shut down nine seconds before the site's own app failed
    /// to: that is no stop of the site's app, and it is not cited as one.
    #[test]
    fn an_extensions_shutdown_is_not_the_apps_stop() {
        let extension = |e: Given, secs| {
            e.positional(
                "APP",
                secs,
                V2,
                1033,
                &[
                    "Application 'MACHINE/WEBROOT/APPHOST/~1SHOP/APPLICATIONINSIGHTS' has shutdown.",
                    "Process Id: 3144.",
                ],
            )
        };
        let found = forced(extension(Given::new(), 2), 11).detected(detect);
        assert_eq!(found.len(), 1);
        assert!(!found[0].timeline.iter().any(|s| s.summary.contains("1033")), "{:?}", found[0].timeline);
        let own = forced(
            Given::new().positional(
                "APP",
                2,
                V2,
                1033,
                &["Application 'MACHINE/WEBROOT/APPHOST/SHOP' has shutdown.", "Process Id: 5732."],
            ),
            11,
        )
        .detected(detect);
        assert!(
            own[0].timeline.iter().any(|s| s.summary.contains("1033")),
            "the app's own stop: {:?}",
            own[0].timeline
        );
        let forced_extension = Given::new().positional(
            "APP",
            0,
            V2,
            1005,
            &["Failed to gracefully shutdown application 'MACHINE/WEBROOT/APPHOST/~1SHOP/APPLICATIONINSIGHTS'."],
        );
        assert!(forced_extension.detected(detect).is_empty(), "the agent's own slow stop is not the app's");
    }

    #[test]
    fn a_crashing_apps_shutdown_is_not_a_shutdown_finding() {
        let crash = Given::new().positional(
            "APP",
            0,
            ".NET Runtime",
            1026,
            &["Application: dotnet.exe\nDescription: The process was terminated due to an unhandled exception."],
        );
        assert!(forced(crash, 12).detected(detect).is_empty());
        let other = Given::new().positional("APP", 0, V2, 1005, &["Some other message."]);
        assert!(other.detected(detect).is_empty());
        let placeholder = Given::new().positional(
            "APP",
            0,
            V2,
            1005,
            &["Failed to gracefully shutdown application 'MACHINE/WEBROOT/APPHOST/MAWSFNPLACEHOLDER350_F_V4_NODE_20_X86'."],
        );
        assert!(placeholder.detected(detect).is_empty());
        let alone = forced(Given::new(), 12).detected(detect);
        assert_eq!(alone.len(), 1);
        assert!(alone[0].remediation[0].contains("shutdown token"), "{:?}", alone[0].remediation);
    }
}
