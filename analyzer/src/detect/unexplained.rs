//! What no detector explains: windows where a site's server errors rise
//! well above its own baseline, or its traffic stops, and no finding covers
//! the time. They stay visible as `unexplained`, with their evidence.

use std::collections::BTreeMap;
use std::sync::Arc;

use faultline_parser::w3c::ReasonKind;
use faultline_parser::{Span, Timestamp};

use super::{Draft, FailureMode, Window};
use crate::evidence::{Status, Store};
use crate::finding::{Role, Severity};

/// Minutes with at least this many 5xx, and this many times the site's
/// median 5xx per minute, form an error spike.
const MIN_ERRORS: u32 = 10;
const SPIKE_FACTOR: u32 = 10;

/// Host and site.
type SiteKey = (Arc<str>, Option<u32>);

/// A window no further than this from a finding's is explained by it.
const COVER_MARGIN: Span = Span::mins(2);

pub(super) fn detect(store: &Store, covered: &[Window], out: &mut Vec<Draft>) {
    let mut per_site: BTreeMap<SiteKey, Vec<(i64, u32)>> = BTreeMap::new();
    for ((host, site, minute), m) in &store.minutes {
        per_site.entry((host.clone(), *site)).or_default().push((*minute, m.by_class[5]));
    }
    // A clock set forward skips the times between: a host that logged
    // through them has rows before and after and none inside.
    let skipped: Vec<(String, Timestamp, Timestamp)> = crate::clock::clock_steps(store)
        .into_iter()
        .filter(|s| s.to > s.from)
        .map(|s| (s.host, s.from, s.to))
        .collect();
    for ((host, site), minutes) in &per_site {
        let s = SiteMinutes { host, site: *site, minutes };
        traffic_stops(store, out, covered, &skipped, &s);
        latency_surges(store, out, covered, &s);
        chronic_errors(store, out, covered, &s);
    }
    for ((host, site), minutes) in per_site {
        let mut counts: Vec<u32> = minutes.iter().map(|(_, n)| *n).collect();
        counts.sort_unstable();
        let baseline = counts[counts.len() / 2];
        let threshold = MIN_ERRORS.max(baseline.saturating_mul(SPIKE_FACTOR));
        let spikes = minutes.iter().filter(|(_, n)| *n >= threshold).map(|(m, _)| *m);
        for (start, end) in windows(spikes) {
            if is_covered(covered, &host, start, end) {
                continue;
            }
            let rows: Vec<_> = store
                .requests
                .iter()
                .filter(|r| {
                    r.host == host
                        && r.site == site
                        && r.status.is_server_error()
                        && r.time >= start
                        && r.time < end
                })
                .collect();
            let unlisted = unlisted_server_errors(store, &host, site, start, end);
            let top = most_often(&rows, &unlisted);
            let mut d = Draft::new(FailureMode::Unexplained, Severity::Medium, 0.5, start, end)
                .scope(Some(&host), site, None)
                .explain(format!(
                    "Server errors rose to {threshold} or more a minute against a usual \
                    {baseline} ({} rows; most often {top}), and no known failure mode explains them. Look at \
                    the application's own logs for this window.",
                    rows.len() as u64 + unlisted.values().sum::<u64>()
                ));
            d.cite_first(rows.iter(), 8, Role::Effect, |r| store.cite_request(r));
            out.push(d);
        }
    }
}

/// A site failing all along: server errors in its usual minute (the median
/// of its minutes with traffic has one), at least this share of all its
/// requests and this many. A spike is measured against the usual minute, so
/// a site that fails as often at every hour had none: it read as a quiet day.
const CHRONIC_SHARE_PERCENT: u64 = 20;
const CHRONIC_MIN_ERRORS: u64 = 100;

/// Server errors as the usual state of a site, no finding explaining them.
fn chronic_errors(
    store: &Store,
    out: &mut Vec<Draft>,
    covered: &[Window],
    &SiteMinutes { host, site, minutes }: &SiteMinutes<'_>,
) {
    let mut per_minute: Vec<u32> = minutes.iter().map(|(_, n)| *n).collect();
    per_minute.sort_unstable();
    let (Some(&usual), Some(&(first, _)), Some(&(last, _))) =
        (per_minute.get(per_minute.len() / 2), minutes.first(), minutes.last())
    else {
        return;
    };
    let errors: u64 = minutes.iter().map(|(_, n)| u64::from(*n)).sum();
    let total: u64 = minutes
        .iter()
        .filter_map(|(m, _)| store.minutes.get(&(host.clone(), site, *m)))
        .map(|x| u64::from(x.total))
        .sum();
    if usual == 0 || errors < CHRONIC_MIN_ERRORS || errors * 100 < total * CHRONIC_SHARE_PERCENT {
        return;
    }
    let (start, end) = (Timestamp::from_parts(first * 60, 0), Timestamp::from_parts(last * 60 + 60, 0));
    if is_covered(covered, host, start, end) {
        return;
    }
    let rows: Vec<_> = store
        .requests
        .iter()
        .filter(|r| r.host == *host && r.site == site && r.status.is_server_error())
        .collect();
    let mut by_path: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *by_path.entry(&r.stem).or_default() += 1;
    }
    let unlisted = unlisted_server_errors(store, host, site, start, end);
    let top = most_often(&rows, &unlisted);
    let distinct = by_path.len();
    let mut ranked: Vec<(&str, usize)> = by_path.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.truncate(3);
    // Three paths out of thousands failing alike are not "most": say so.
    let spread = ranked.iter().map(|(_, n)| n).sum::<usize>() * 2 < rows.len();
    let paths: Vec<&str> = ranked.iter().map(|&(path, _)| path).collect();
    let failing = minutes.iter().filter(|(_, n)| *n > 0).count();
    let mut d = Draft::new(FailureMode::Unexplained, Severity::High, 0.5, start, end)
        .scope(Some(host), site, None)
        .explain(format!(
            "The site failed all along, not in a spike: {errors} of its {total} requests ({}%) were server errors, \
            in {failing} of its {} minutes with traffic (most often {top}; {}), and no known failure mode \
            explains them. A usual minute held {usual} of them, so no minute stood out against it. Look at the \
            application's own logs and its dependencies for the whole span.",
            errors * 100 / total.max(1),
            minutes.len(),
            match paths.as_slice() {
                [one] => format!("all on {one}"),
                many if spread => format!("spread over {distinct} paths, the commonest {}", many.join(", ")),
                many => format!("most on {}", many.join(", ")),
            } + &listed_only(rows.len(), &unlisted)
        ));
    // One cited row per failing path first, then the earliest others.
    let mut cited: Vec<&crate::evidence::RequestRow> = Vec::new();
    for p in &paths {
        cited.extend(rows.iter().find(|r| &*r.stem == *p));
    }
    cited.extend(rows.iter().filter(|r| !paths.contains(&&*r.stem)).take(8usize.saturating_sub(cited.len())));
    d.cite_all(cited.into_iter().map(|r| store.cite_request(r)), Role::Effect);
    out.push(d);
}

/// The server errors of `host` and `site` from `start` to `end` counted
/// past the rows kept (a busy minute's), by status.
fn unlisted_server_errors(
    store: &Store,
    host: &Arc<str>,
    site: Option<u32>,
    start: Timestamp,
    end: Timestamp,
) -> BTreeMap<Status, u64> {
    let mut by_status = BTreeMap::new();
    for (status, n) in store.unlisted_in(host, site, start.minute()..=end.minute() - 1) {
        if status.is_server_error() {
            *by_status.entry(status).or_default() += u64::from(n.count);
        }
    }
    by_status
}

/// What the paths named come from when a busy minute listed only some of
/// its failures: said after them.
fn listed_only(listed: usize, unlisted: &BTreeMap<Status, u64>) -> String {
    let more: u64 = unlisted.values().sum();
    if more == 0 {
        String::new()
    } else {
        format!(" (of the {listed} rows listed; {more} more were counted, not listed)")
    }
}

/// The status `rows` and the `unlisted` counts give most often, with how
/// many (`500.0 (win32 0) ×40`).
fn most_often(rows: &[&crate::evidence::RequestRow], unlisted: &BTreeMap<Status, u64>) -> String {
    let mut by_status: BTreeMap<Status, u64> = unlisted.clone();
    for r in rows {
        *by_status.entry(r.status).or_default() += 1;
    }
    by_status.iter().max_by_key(|(_, n)| **n).map(|(s, n)| format!("{s} ×{n}")).unwrap_or_default()
}

/// One site's minutes with traffic, and its server-error count in each.
struct SiteMinutes<'a> {
    host: &'a Arc<str>,
    site: Option<u32>,
    minutes: &'a [(i64, u32)],
}

/// Whether a finding on the host (or farm-wide) already explains the window.
fn is_covered(covered: &[Window], host: &str, start: Timestamp, end: Timestamp) -> bool {
    covered.iter().any(|w| w.covers(host, start, end, COVER_MARGIN))
}

/// Minutes (in order) grouped into windows; gaps of up to five minutes join.
fn windows(minutes: impl Iterator<Item = i64>) -> Vec<(Timestamp, Timestamp)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for m in minutes {
        match out.last_mut() {
            Some((_, end)) if m - *end <= 5 => *end = m,
            _ => out.push((m, m)),
        }
    }
    out.into_iter()
        .map(|(from, to)| (Timestamp::from_parts(from * 60, 0), Timestamp::from_parts(to * 60 + 60, 0)))
        .collect()
}

/// A latency surge: minutes of at least `SURGE_MIN_REQUESTS` requests where
/// most (half or more) took 5 s or longer and completed normally; judged only
/// on a site with `SURGE_BASELINE_MINUTES` such minutes to compare with, whose
/// median minute has fewer than one slow request in ten. A share, not a mean,
/// so that one long report or download does not make a surge.
const SURGE_MIN_REQUESTS: u32 = 10;
const SURGE_BASELINE_MINUTES: usize = 10;

/// Requests slow across the site (not one URL, which `slow-responses`
/// reports) in a window no finding explains.
fn latency_surges(
    store: &Store,
    out: &mut Vec<Draft>,
    covered: &[Window],
    &SiteMinutes { host, site, minutes }: &SiteMinutes<'_>,
) {
    // (minute, mean ms, slow share in percent)
    let busy: Vec<(i64, u64, u32)> = minutes
        .iter()
        .filter_map(|(m, _)| {
            let x = store.minutes.get(&(host.clone(), site, *m))?;
            (x.total >= SURGE_MIN_REQUESTS)
                .then(|| (*m, x.taken_sum / u64::from(x.total), x.slow * 100 / x.total))
        })
        .collect();
    if busy.len() < SURGE_BASELINE_MINUTES {
        return;
    }
    let median = |mut v: Vec<u64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let baseline = median(busy.iter().map(|x| x.1).collect());
    if median(busy.iter().map(|x| u64::from(x.2)).collect()) >= 10 {
        return;
    }
    for (start, end) in windows(busy.iter().filter(|x| x.2 >= 50).map(|x| x.0)) {
        if is_covered(covered, host, start, end) {
            continue;
        }
        let in_window =
            || busy.iter().filter(|(m, _, _)| (start.seconds()..end.seconds()).contains(&(m * 60)));
        let peak = in_window().map(|x| x.1).max().unwrap_or(0);
        let share = in_window().map(|x| x.2).max().unwrap_or(0);
        let mut rows: Vec<_> = store
            .requests
            .iter()
            .filter(|r| &r.host == host && r.site == site && r.time >= start && r.time < end)
            .collect();
        rows.sort_by(|x, y| y.taken.cmp(&x.taken).then(x.time.cmp(&y.time)).then(x.line.cmp(&y.line)));
        let mut d = Draft::new(FailureMode::Unexplained, Severity::Medium, 0.45, start, end)
            .scope(Some(host), site, None)
            .explain(format!(
                "Requests on this site slowed down across its URLs: in the worst minute \
                {share}% took 5 s or more and the mean was {peak} ms, against a usual {baseline} ms, and no \
                known failure mode explains it (no hang, queue, recycle or crash). Something the site \
                depends on slowed down: a database, a downstream service, storage or CPU."
            ))
            .remedy(&[
                "Open the slowest rows cited and the application's own logs for the window.",
                "Capture FREB with a time-taken trigger on this site to see which module spends the time.",
                "Check the host's CPU and the dependencies' own monitoring for the window.",
            ]);
        d.cite_first(rows.iter(), 8, Role::Effect, |r| store.cite_request(r));
        out.push(d);
    }
}

/// HTTP.sys's own 404 NotFound answers during a busy site's silence that
/// say the site was stopped: a scanner's few misses are not enough.
const STOPPED_SITE_NOT_FOUND: u64 = 20;

/// Sites busy enough that a silent stretch means something: at least this
/// many requests in a median minute with traffic.
const BUSY_PER_MINUTE: u32 = 5;
/// A silence this long, in minutes, on a busy site.
const SILENCE_MINUTES: i64 = 10;
/// Traffic before a silence must be steady: this many of the
/// `STEADY_WINDOW` minutes before it logged requests. A bursty site (a few
/// visits an hour) falls silent all the time and that means nothing.
const STEADY_MINUTES: usize = 45;
const STEADY_WINDOW: i64 = 60;
/// Longer gaps are days missing from the export, not a silence.
const SILENCE_MAX_MINUTES: i64 = 24 * 60;

/// Traffic that stops: a busy site logs nothing for a while and no finding
/// explains it (the site may have been down, or its log lost).
fn traffic_stops(
    store: &Store,
    out: &mut Vec<Draft>,
    covered: &[Window],
    skipped: &[(String, Timestamp, Timestamp)],
    &SiteMinutes { host, site, minutes }: &SiteMinutes<'_>,
) {
    let mut totals: Vec<u32> = minutes
        .iter()
        .map(|(m, _)| store.minutes.get(&(host.clone(), site, *m)).map_or(0, |x| x.total))
        .collect();
    totals.sort_unstable();
    if totals.is_empty() || totals[totals.len() / 2] < BUSY_PER_MINUTE {
        return;
    }
    for pair in minutes.windows(2) {
        let (before, after) = (pair[0].0, pair[1].0);
        if after - before <= SILENCE_MINUTES || after - before > SILENCE_MAX_MINUTES {
            continue;
        }
        let lead_in = minutes.partition_point(|(m, _)| *m <= before - STEADY_WINDOW);
        let steady = minutes.partition_point(|(m, _)| *m <= before) - lead_in;
        if steady < STEADY_MINUTES {
            continue;
        }
        let (start, end) =
            (Timestamp::from_parts((before + 1) * 60, 0), Timestamp::from_parts(after * 60, 0));
        if is_covered(covered, host, start, end) {
            continue;
        }
        let inside_step = skipped
            .iter()
            .any(|(h, from, to)| **h == **host && *from - COVER_MARGIN <= start && end <= *to + COVER_MARGIN);
        if inside_step {
            continue;
        }
        // HTTP.sys answering requests itself with 404 NotFound meanwhile:
        // no site was registered for their URL, so this one was stopped
        // (or its binding removed) while its clients kept coming.
        let unregistered: Vec<&crate::evidence::ErrRow> = store
            .errors_between(start, end)
            .iter()
            .filter(|r| &r.host == host && r.reason == ReasonKind::NotFound)
            .collect();
        let unregistered_count = store.errors_counted(&unregistered);
        // Against the hour before: a server whose bindings all name host
        // headers answers the internet's address scans NotFound all day.
        let usual: Vec<&crate::evidence::ErrRow> = store
            .errors_between(start - Span::mins(STEADY_WINDOW), start)
            .iter()
            .filter(|r| &r.host == host && r.reason == ReasonKind::NotFound)
            .collect();
        let per_minute = |n: u64, minutes: i64| n as f64 / minutes.max(1) as f64;
        let silent_minutes = after - before - 1;
        let stopped = unregistered_count >= STOPPED_SITE_NOT_FOUND
            && per_minute(unregistered_count, silent_minutes)
                >= 5.0 * per_minute(store.errors_counted(&usual), STEADY_WINDOW);
        let mut d = if stopped {
            Draft::new(FailureMode::PoolStopped, Severity::High, 0.7, start, end)
                .scope(Some(host), site, None)
                .explain(format!(
                    "The site logged no request for {} minutes while it usually logs {} a minute, and \
                    meanwhile HTTP.sys answered {unregistered_count} requests on this server itself with 404 \
                    NotFound (HTTPERR: no site was registered for their URL): the site was stopped, or its \
                    binding removed, while its clients kept coming.",
                    after - before - 1,
                    totals[totals.len() / 2]
                ))
                .remedy(&[
                    "Start the site (Start-Website, appcmd start site) and check its bindings are the ones its \
                        clients use; keep serverAutoStart on.",
                    "Find who stopped it: IIS Manager, appcmd or PowerShell (Security 4688 or Sysmon 1 of \
                        appcmd.exe or powershell.exe, the IIS-Configuration Operational log), a deployment script.",
                ])
        } else {
            Draft::new(FailureMode::Unexplained, Severity::Medium, 0.4, start, end)
                .scope(Some(host), site, None)
                .explain(format!(
                    "The site logged no request for {} minutes while it usually logs {} a minute, \
                    and no known failure mode explains the silence: the site may have been unreachable (nothing \
                    reached IIS) or its log was lost.",
                    after - before - 1,
                    totals[totals.len() / 2]
                ))
                .remedy(&[
                    "Check HTTPERR, the load balancer's health checks and the System log for this window.",
                    "Check whether the access log was written (HttpEvent 15000-15002, disk space).",
                ])
        };
        d.cite_first(unregistered.iter(), 3, Role::Effect, |r| store.cite_error(r));
        for r in store
            .requests
            .iter()
            .filter(|r| {
                &r.host == host && r.site == site && (r.time == end || (r.time - start).abs() < Span::mins(1))
            })
            .take(2)
        {
            d.cite(store.cite_request(r), Role::Context);
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    fn drafts(evidence: Given, covered: &[Window]) -> Vec<Draft> {
        let mut out = Vec::new();
        detect(&evidence.store(), covered, &mut out);
        out
    }

    /// `minutes` minutes of steady traffic on WEB01 site 1, 12 requests a
    /// minute taking `ms` each.
    fn steady(mut e: Given, from_minute: i64, minutes: i64, ms: u64) -> Given {
        for m in from_minute..from_minute + minutes {
            e = e.requests(12, "WEB01", 1, m * 60, "/", (200, 0, 0), ms);
        }
        e
    }

    #[test]
    fn a_spike_of_server_errors_is_reported_unless_covered() {
        let e =
            || steady(Given::new(), 0, 60, 30).requests(40, "WEB01", 1, 3_600, "/checkout", (500, 0, 0), 30);
        let found = drafts(e(), &[]);
        assert_eq!(found.len(), 1);
        assert!(found[0].explanation.contains("most often 500.0 (win32 0) ×40"), "{}", found[0].explanation);
        let crash = Window { host: Some("WEB01".into()), start: at(3_500), end: at(3_580) };
        assert!(drafts(e(), &[crash]).is_empty(), "two minutes before the spike is close enough");
    }

    /// Half of a site's requests failing every minute for hours is no
    /// spike against its usual minute, but a site failing all along: one
    /// high finding naming the failing paths, unless a finding covers it.
    /// A few errors a minute on a busy site, or a spike, are not that.
    #[test]
    fn a_site_failing_all_along_is_reported() {
        let failing = || {
            let mut e = Given::new();
            for m in 0..300 {
                e = e.requests(6, "WEB01", 1, m * 60, "/", (200, 0, 0), 30).requests(
                    6,
                    "WEB01",
                    1,
                    m * 60 + 1,
                    "/api/orders",
                    (500, 0, 0),
                    30,
                );
            }
            e
        };
        let found = drafts(failing(), &[]);
        assert_eq!(found.len(), 1, "{:?}", found.iter().map(|d| &d.explanation).collect::<Vec<_>>());
        let d = &found[0];
        assert_eq!((d.severity, d.start, d.end), (Severity::High, at(0), at(300 * 60)));
        assert!(
            d.explanation.contains("1800 of its 3600 requests (50%) were server errors"),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("all on /api/orders"), "{}", d.explanation);
        let whole = Window { host: Some("WEB01".into()), start: at(0), end: at(300 * 60) };
        assert!(drafts(failing(), &[whole]).is_empty(), "a finding explains it");
        let mut few = Given::new();
        for m in 0..300 {
            few = few.requests(50, "WEB01", 1, m * 60, "/", (200, 0, 0), 30).requests(
                1,
                "WEB01",
                1,
                m * 60,
                "/x",
                (500, 0, 0),
                30,
            );
        }
        assert!(drafts(few, &[]).is_empty(), "2% of a busy site's requests");
    }

    /// Errors spread evenly over many paths name none as "most": three
    /// paths out of fifty failing alike say the spread.
    #[test]
    fn errors_spread_over_many_paths_are_said_to_be_spread() {
        let mut e = Given::new();
        for m in 0..300 {
            let path = format!("/item/{}", m % 50);
            e = e.requests(6, "WEB01", 1, m * 60, "/", (200, 0, 0), 30).requests(
                6,
                "WEB01",
                1,
                m * 60 + 1,
                &path,
                (500, 0, 0),
                30,
            );
        }
        let found = drafts(e, &[]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].explanation.contains("spread over 50 paths, the commonest /item/0, /item/1, /item/10"),
            "{}",
            found[0].explanation
        );
    }

    /// A site failing in busy minutes lists only each minute's first
    /// failures: the statuses counted past them are in "most often", and
    /// the paths are said to be the listed rows'.
    #[test]
    fn a_busy_sites_counted_errors_are_in_its_commonest_status() {
        let mut e = Given::new();
        for m in 0..300 {
            e = e
                .requests(6, "WEB01", 1, m * 60, "/", (200, 0, 0), 30)
                .requests(6, "WEB01", 1, m * 60 + 10, "/api/orders", (500, 0, 0), 30)
                .unlisted("WEB01", 1, m * 60, (503, 0, 0), 10);
        }
        let found = drafts(e, &[]);
        assert_eq!(found.len(), 1);
        let text = &found[0].explanation;
        assert!(text.contains("4800 of its 6600 requests (72%)"), "{text}");
        assert!(text.contains("most often 503.0 (win32 0) ×3000"), "{text}");
        assert!(
            text.contains("all on /api/orders (of the 1800 rows listed; 3000 more were counted, not listed)"),
            "{text}"
        );
    }

    #[test]
    fn a_site_wide_slowdown_is_a_latency_surge() {
        let e = steady(steady(steady(Given::new(), 0, 30, 40), 30, 5, 7_000), 35, 30, 40);
        let found = drafts(e, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end), (at(1_800), at(2_100)));
        assert!(found[0].explanation.contains("usual 40 ms"), "{}", found[0].explanation);
    }

    #[test]
    fn a_busy_site_falling_silent_is_reported_and_a_quiet_one_is_not() {
        let busy = steady(steady(Given::new(), 0, 60, 30), 90, 10, 30);
        let found = drafts(busy, &[]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].explanation.starts_with("The site logged no request for 30 minutes"),
            "{}",
            found[0].explanation
        );
        let mut quiet = Given::new();
        for m in (0..100).step_by(7) {
            quiet = quiet.requests(2, "WEB01", 1, m * 60, "/", (200, 0, 0), 30);
        }
        assert!(drafts(quiet, &[]).is_empty(), "a few visits an hour fall silent all the time");
    }

    /// HTTP.sys answering NotFound for the site's requests while its log is
    /// silent: the site was stopped; the same NotFound rate all along (the
    /// internet's scans of a server of host-header bindings) says nothing.
    #[test]
    fn a_silence_while_http_sys_answers_not_found_is_a_stopped_site() {
        let busy = || steady(steady(Given::new(), 0, 60, 30), 90, 10, 30);
        let stopped = busy().errors(60, "WEB01", 3_700, 404, ReasonKind::NotFound, None);
        let found = drafts(stopped, &[]);
        assert_eq!((found[0].id, found[0].severity), (FailureMode::PoolStopped, Severity::High));
        assert!(found[0].explanation.contains("HTTP.sys answered 60 requests"), "{}", found[0].explanation);
        let mut noisy = busy();
        for m in (0..100).step_by(2) {
            noisy = noisy.errors(2, "WEB01", m * 60, 404, ReasonKind::NotFound, None);
        }
        assert_eq!(drafts(noisy, &[])[0].id, FailureMode::Unexplained, "scans all day");
    }

    /// A clock set forward over the silence (a paused virtual machine's,
    /// stepped by time sync) skipped those times: no outage. The same
    /// silence with the step elsewhere is still one.
    #[test]
    fn a_silence_a_clock_step_skipped_is_no_outage() {
        let step = |e: Given, from: i64, to: i64| {
            let rfc = |secs| at(secs).to_rfc3339();
            e.event(
                "WEB01",
                to,
                "Microsoft-Windows-Kernel-General",
                1,
                &[("NewTime", &rfc(to)), ("OldTime", &rfc(from))],
            )
        };
        let busy = || steady(steady(Given::new(), 0, 60, 30), 90, 10, 30);
        assert!(drafts(step(busy(), 3_595, 5_400), &[]).is_empty(), "the clock jumped over it");
        assert_eq!(drafts(step(busy(), 7_000, 9_000), &[]).len(), 1, "a step after it explains nothing");
    }
}
