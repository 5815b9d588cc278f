//! `worker-hang`: the worker stopped answering WAS's health ping (5010)
//! while time-taken climbed and requests waited in HTTP.sys's queue:
//! completions stopped, so this is a hang or thread-pool starvation, not
//! load.

use std::collections::BTreeSet;

use faultline_parser::w3c::ReasonKind;
use faultline_parser::{Span, Timestamp};

use super::kinds::WORKER_PING_FAILED;
use super::{Draft, FailureMode, clusters, grouped, pool};
use crate::describe::{headline, listed};
use crate::evidence::{EventRow, Store};
use crate::finding::{Role, Severity};

/// Requests this slow, in the ten minutes before the ping failed, were
/// caught in the hang.
const HUNG_REQUEST: Span = Span::secs(10);

/// Failed pings of a pool this close together are one episode: a worker
/// hung again as soon as it was replaced (a dependency still down) is one
/// hang, not one finding per worker.
const EPISODE_GAP: Span = Span::mins(15);

/// How many killed workers' PIDs a finding names.
const PIDS_LISTED: usize = 10;

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let pings: Vec<&EventRow> = store.events_of(WORKER_PING_FAILED).collect();
    for ((host, p), list) in grouped(pings, |e| (e.host.clone(), pool(e).unwrap_or("-").to_string())) {
        let sites = pool_sites(store, &host, &p);
        let mut before: Option<(Timestamp, usize)> = None;
        for episode in clusters(list, |e| e.time(), EPISODE_GAP) {
            let mut d = finding(store, &host, (&p, &sites), &episode);
            // A pool that hangs again after recovering: the same cause
            // likely, said so the two are read together.
            if let Some((at, n)) = before {
                d.explanation.push_str(&format!(
                    " The pool hung before: the last of {n} earlier failed ping{} at {}.",
                    if n == 1 { "" } else { "s" },
                    at.to_prose()
                ));
            }
            let (at, n) = before.unwrap_or_else(|| (episode[0].time(), 0));
            before = Some((episode[episode.len() - 1].time().max(at), n + episode.len()));
            out.push(d);
        }
    }
}

/// The pool's own sites, where HTTP.sys names them (an access-log row names
/// its site, not its pool): another site's slow reports are not this pool's
/// hang. Where none is named, the host's.
fn pool_sites(store: &Store, host: &str, p: &str) -> BTreeSet<u32> {
    store
        .errors_between(Timestamp(i64::MIN), Timestamp(i64::MAX))
        .iter()
        .filter(|r| &*r.host == host && r.queue.as_deref() == Some(p))
        .filter_map(|r| r.site)
        .collect()
}

/// How long before a hang's first failed ping the application's waits on
/// a dependency are read: blocked requests pile up for minutes before the
/// worker stops answering.
const WAITED_BEFORE: Span = Span::mins(30);

fn finding(store: &Store, host: &str, (p, sites): (&str, &BTreeSet<u32>), pings: &[&EventRow]) -> Draft {
    let (first, last) = (pings[0].time(), pings[pings.len() - 1].time());
    let before = first - Span::mins(10);
    let queued: Vec<_> = store
        .errors_between(before, last + Span::mins(1))
        .iter()
        .filter(|r| {
            &*r.host == host
                && r.queue.as_deref() == Some(p)
                && matches!(
                    r.reason,
                    ReasonKind::TimerAppPool | ReasonKind::TimerReqQueue | ReasonKind::QueueFull
                )
        })
        .collect();
    // The requests a killed worker had in flight, which HTTP.sys logs as
    // abandoned when it goes: they never reach the access log.
    let abandoned: Vec<_> = store
        .errors_between(first - Span::secs(10), last + Span::mins(1))
        .iter()
        .filter(|r| &*r.host == host && r.queue.as_deref() == Some(p) && r.reason.is_abandoned())
        .collect();
    let slow: Vec<_> = store
        .requests_between(before, last)
        .iter()
        .filter(|r| &*r.host == host && r.taken >= HUNG_REQUEST)
        .filter(|r| sites.is_empty() || r.site.is_some_and(|s| sites.contains(&s)))
        .collect();
    let queued_count = store.errors_counted(&queued);
    let abandoned_count = store.errors_counted(&abandoned);
    // What the access and HTTP.sys logs show around the failed pings: a
    // ping failure alone says the worker did not answer WAS, not why.
    let on = if sites.is_empty() { " on the host" } else { "" };
    let said: Vec<String> = [
        (!slow.is_empty()).then(|| format!("time-taken climbed{on} ({} requests over 10 s)", slow.len())),
        (queued_count > 0)
            .then(|| format!("requests waited in HTTP.sys's queue ({queued_count} timed out or refused)")),
        (abandoned_count > 0).then(|| {
            let (s, were) = if abandoned_count == 1 { ("", "was") } else { ("s", "were") };
            format!("{abandoned_count} request{s} in flight {were} abandoned when it was killed")
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let shown = if said.is_empty() { String::new() } else { format!(": {}", said.join(", ")) };
    let pids: Vec<&str> = pings.iter().filter_map(|e| e.data("ProcessID")).collect();
    let pid_list =
        if pids.is_empty() { String::new() } else { format!("; PID {}", listed(&pids, PIDS_LISTED)) };
    let (worker, killed) = match pings.len() {
        1 => ("worker", format!("WAS killed it for failing its health ping (5010{pid_list})")),
        n => (
            "workers",
            format!(
                "WAS killed {n} of them for failing their health pings (5010{pid_list}), from {} to {}",
                first.to_prose(),
                last.to_prose()
            ),
        ),
    };
    let logged = store.logged_requests_between(host, before, last);
    // Slow requests on the host, with no site known to be the pool's and
    // nothing of the pool's own, may be another site's.
    let host_only = sites.is_empty() && queued.is_empty() && abandoned.is_empty();
    let (why, confidence) = match (shown.is_empty(), logged) {
        (false, _) if host_only => (
            "Completions stopped, so this is a hang or thread-pool starvation, not load; which of the host's \
                sites are this pool's the evidence does not say (HTTP.sys logged nothing of the pool's), so \
                the slow requests may be another pool's.",
            0.75,
        ),
        (false, _) => ("Completions stopped, so this is a hang or thread-pool starvation, not load.", 0.9),
        (true, true) => (
            "The access logs show no request over 10 s before it: the worker may have been starved of CPU \
                or frozen (a debugger attached, a memory dump being written) rather than blocked by its \
                requests.",
            0.6,
        ),
        (true, false) => (
            "The access logs do not cover the minutes before it, so whether requests piled up is not shown; \
                a worker that stops answering its ping is hung or starved until they say otherwise.",
            0.7,
        ),
    };
    // What the application says its requests waited on, from before the
    // slow requests (a blocked database holds them for its timeout first).
    let waits = super::app_exception::waits_between(store, host, first - WAITED_BEFORE, last);
    let start = slow.first().map_or(first, |r| r.start());
    let start = waits.first().map_or(start, |w| start.min(w.event.time()));
    let mut d = Draft::new(FailureMode::WorkerHang, Severity::High, confidence, start, last + Span::secs(10))
        .scope(Some(host), slow.first().and_then(|r| r.site), Some(p))
        .explain(format!("The {worker} of {p} stopped answering{shown}, and {killed}. {why}"));
    if let Some(w) = waits.first() {
        let mut paths: Vec<&str> = waits.iter().filter_map(|w| w.path.as_deref()).collect();
        paths.sort_unstable();
        paths.dedup();
        let n = waits.len();
        d.explanation.push_str(&format!(
            " The application's own events say what its requests waited on: {n} {} from {}{} ({}: {}): \
                requests blocked on a dependency that did not answer held the worker's threads until it \
                stopped answering. That dependency is the likeliest cause; the worker was its victim.",
            if n == 1 { "exception" } else { "exceptions" },
            w.event.time().to_prose(),
            if paths.is_empty() { String::new() } else { format!(" on {}", listed(&paths, 3)) },
            w.exception.type_name,
            w.exception.message.trim_end_matches('.'),
        ));
        let database = waits.iter().any(|w| {
            let t = w.exception.type_name.to_ascii_lowercase();
            t.contains("sql") || t.contains("npgsql") || t.contains("oracle")
        });
        d.add_steps(&[if database {
            "Find what held the database then: blocking chains (sp_whoisactive, or sys.dm_exec_requests' \
                blocking_session_id), a long job (an index rebuild, a backup), or the server's reachability; keep \
                command timeouts shorter than the requests' and call the database asynchronously."
        } else {
            "Find what held the dependency the exceptions name then, and keep its timeouts shorter than the \
                requests' so a slow dependency fails requests instead of holding the worker's threads."
        }]);
        d.cite_first(waits.iter(), 3, Role::Cause, |w| store.cite_event(w.event, headline(&w.event.event)));
    }
    d.cite_first(slow.iter(), 5, Role::Cause, |r| store.cite_request(r));
    d.cite_first(queued.iter(), 5, Role::Effect, |r| store.cite_error(r));
    d.cite_first(abandoned.iter(), 5, Role::Effect, |r| store.cite_error(r));
    d.cite_first(pings.iter(), 20, Role::Effect, |e| {
        let pid = e.data("ProcessID").unwrap_or("-");
        store.cite_event(e, format!("WAS 5010: worker {pid} of {p} failed to respond to a ping"))
    });
    d
}

#[cfg(test)]
mod tests {
    use faultline_parser::Timestamp;

    use super::*;
    use crate::detect::testing::{Given, at};

    #[test]
    fn a_failed_ping_after_climbing_time_taken_is_a_hang() {
        let e = Given::new()
            .requests(6, "WEB01", 1, 100, "/checkout", (200, 0, 0), 30_000)
            .requests(3, "WEB01", 1, 110, "/fast", (200, 0, 0), 40)
            .errors(4, "WEB01", 200, 503, ReasonKind::TimerReqQueue, Some("ShopPool"))
            .event("WEB01", 300, "WAS", 5010, &[("AppPoolID", "ShopPool"), ("ProcessID", "4242")]);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.scope.app_pool.as_deref()), (FailureMode::WorkerHang, Some("ShopPool")));
        assert_eq!((d.start, d.end), (at(70), at(310)), "from the first slow request's start");
        assert!(d.explanation.contains("(6 requests over 10 s)") && d.explanation.contains("(4 timed out"));
    }

    /// A 1309 SqlException timeout on the host before the hang names what
    /// the requests waited on, from its time; an exception of the
    /// application's own code says nothing of a wait.
    #[test]
    fn the_applications_waits_on_a_database_are_the_hangs_likely_cause() {
        let web_event = |e: Given, secs: i64, type_name: &str, message: &str| {
            let mut data = vec![""; 30];
            data[0] = "3005";
            data[16] = type_name;
            data[17] = message;
            data[19] = "/api/invoices";
            e.positional("WEB01", secs, "ASP.NET 4.0.30319.0", 1309, &data)
        };
        let hang = |e: Given| {
            e.requests(6, "WEB01", 1, 400, "/api/invoices", (500, 0, 0), 30_000).event(
                "WEB01",
                900,
                "WAS",
                5010,
                &[("AppPoolID", "ErpPool"), ("ProcessID", "6120")],
            )
        };
        let waited = hang(web_event(
            Given::new(),
            100,
            "SqlException",
            "Execution Timeout Expired.  The timeout period elapsed.",
        ))
        .detected(detect);
        assert_eq!(waited.len(), 1);
        let d = &waited[0];
        assert_eq!(d.start, at(100), "from the first wait");
        assert!(d.explanation.contains("1 exception from"), "{}", d.explanation);
        assert!(d.explanation.contains("SqlException: Execution Timeout Expired"), "{}", d.explanation);
        assert!(d.remediation.iter().any(|r| r.contains("sp_whoisactive")), "{:?}", d.remediation);
        let own = hang(web_event(Given::new(), 100, "NullReferenceException", "Object reference not set"))
            .detected(detect);
        assert!(!own[0].explanation.contains("waited on"), "{}", own[0].explanation);
    }

    fn ping(e: Given, pool: &str, secs: i64, pid: &str) -> Given {
        e.event("WEB01", secs, "WAS", 5010, &[("AppPoolID", pool), ("ProcessID", pid)])
    }

    /// A pool whose workers hang again as soon as they are replaced is one
    /// hang while the failed pings keep coming; a ping an hour later, or
    /// another pool's, is another.
    #[test]
    fn failed_pings_in_a_row_are_one_hang() {
        let mut e = Given::new().requests(3, "WEB01", 1, 100, "/checkout", (200, 0, 0), 30_000);
        for (i, secs) in [300, 600, 900].into_iter().enumerate() {
            e = ping(e, "ShopPool", secs, &format!("{}", 4240 + i));
        }
        let e = ping(ping(e, "ShopPool", 5_000, "5000"), "ApiPool", 600, "6000");
        let found = e.detected(detect);
        let seen: Vec<(Option<&str>, Timestamp)> =
            found.iter().map(|d| (d.scope.app_pool.as_deref(), d.end)).collect();
        assert_eq!(
            seen,
            [(Some("ApiPool"), at(610)), (Some("ShopPool"), at(910)), (Some("ShopPool"), at(5_010))]
        );
        let text = &found[1].explanation;
        assert!(
            text.starts_with(
                "The workers of ShopPool stopped answering: time-taken climbed on the host (3 requests over 10 s), and WAS \
                 killed 3 of them for failing their health pings (5010; PID 4240, 4241, 4242), from"
            ),
            "{text}"
        );
        assert_eq!(found[1].start, at(70), "from the first slow request's start");
        // Nothing names ShopPool's site: the host's slow requests may be
        // another pool's.
        assert_eq!(found[1].confidence, 0.75);
        assert!(
            found[2].explanation.ends_with(
                "The pool hung before: the last of 3 earlier failed pings at 2025-11-24 10:15:00 UTC."
            ),
            "{}",
            found[2].explanation
        );
        assert!(!found[1].explanation.contains("hung before"), "the first episode");
        assert!(found[1].explanation.contains("may be another pool's"), "{}", found[1].explanation);
    }

    /// A failed ping the access logs say nothing slow about is said as
    /// such, not as time-taken climbing over no requests; one the logs do
    /// not cover says they do not.
    #[test]
    fn a_failed_ping_without_slow_requests_says_what_the_logs_show() {
        let fast =
            ping(Given::new().requests(50, "WEB01", 1, 250, "/", (200, 0, 0), 40), "ShopPool", 300, "1");
        let found = fast.detected(detect);
        assert_eq!(found.len(), 1);
        let text = &found[0].explanation;
        assert!(!text.contains("climbed") && text.contains("show no request over 10 s"), "{text}");
        assert_eq!(found[0].confidence, 0.6);
        let unlogged = ping(Given::new(), "ShopPool", 300, "1");
        let found = unlogged.detected(detect);
        let text = &found[0].explanation;
        assert!(
            text.starts_with(
                "The worker of ShopPool stopped answering, and WAS killed it for failing its \
                 health ping (5010; PID 1)."
            ) && text.contains("do not cover the minutes before it"),
            "{text}"
        );
        assert_eq!(found[0].confidence, 0.7);
        // Requests logged an hour earlier do not cover the moment.
        let earlier =
            ping(Given::new().requests(5, "WEB01", 1, 100, "/", (200, 0, 0), 40), "ShopPool", 3_700, "1");
        assert!(earlier.detected(detect)[0].explanation.contains("do not cover"));
    }

    /// HTTP.sys names ApiPool's site (1): another site's slow reports are
    /// not its hang, and the requests abandoned when its worker was killed
    /// say it had work in flight.
    #[test]
    fn only_the_pools_own_site_and_its_abandoned_requests_count() {
        let e = Given::new()
            .requests(10, "WEB01", 2, 100, "/report", (200, 0, 0), 25_000)
            .errors(8, "WEB01", 301, 503, ReasonKind::ConnectionAbandonedByReqQueue, Some("ApiPool"))
            .error("WEB01", 10, 503, ReasonKind::QueueFull, Some("ApiPool"));
        let found = ping(e, "ApiPool", 300, "7").detected(detect);
        let text = &found[0].explanation;
        assert!(!text.contains("climbed"), "site 2's reports are not ApiPool's: {text}");
        assert!(text.contains("8 requests in flight were abandoned when it was killed"), "{text}");
        assert_eq!(found[0].confidence, 0.9);
    }

    #[test]
    fn slow_requests_without_a_failed_ping_are_not_a_hang() {
        let e = Given::new().requests(20, "WEB01", 1, 100, "/report", (200, 0, 0), 30_000);
        assert!(e.detected(detect).is_empty());
    }
}
