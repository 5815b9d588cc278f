//! Correlation across sources and hosts: a FREB trace to the access-log row
//! of the same request, and findings on several servers of a farm that are
//! one incident.

use faultline_parser::Span;

use crate::evidence::{RequestRow, Store, TraceRow};
use crate::finding::Finding;
use crate::renames::Machines;

impl Store {
    /// The access-log row of a traced request: same host, site, path,
    /// status and client (where both know them), logged between a second
    /// before the trace starts and two seconds after it ends (W3C times are
    /// request ends, to the second).
    pub fn request_of_trace(&self, t: &TraceRow) -> Option<&RequestRow> {
        let tr = &t.trace;
        let start = tr.time()?;
        let path = url_path(tr.url.as_deref()?);
        let status = tr.status?;
        // Whole seconds, as W3C rounds them.
        let taken = Span::millis(tr.time_taken_ms.unwrap_or(0) / 1000 * 1000);
        let (from, to) = (start - Span::secs(1), start + taken + Span::secs(2));
        let first = self.requests.partition_point(|r| r.time < from);
        self.requests[first..].iter().take_while(|r| r.time <= to).find(|r| {
            r.host == t.host
                && (r.site.is_none() || tr.site_id.is_none() || r.site == tr.site_id)
                && r.status.is(status, tr.substatus.unwrap_or(0))
                && r.stem.eq_ignore_ascii_case(path)
                && tr.summary.client.as_deref().is_none_or(|c| &*r.client == "-" || same_client(c, &r.client))
        })
    }
}

/// Windows of one failure mode on several hosts, this close together, are
/// one farm-wide incident.
const FARM_TOLERANCE: Span = Span::mins(5);

/// Marks findings on different hosts whose windows overlap (within the
/// tolerance) as related when they are the same failure mode, or different
/// modes of the same app pool or site (one pool crashing on one server and
/// disabled by rapid-fail on the next is one bad deployment), so that a
/// farm-wide incident does not read as unrelated ones. A finding timed by
/// its files' copy ([`Finding::window_from_files`]) is related to none: error
/// pages of two sites copied in the same second are no one incident.
/// Names of one renamed machine ([`Machines`]) are one host.
pub(crate) fn relate_across_hosts(findings: &mut [Finding], machines: &Machines) {
    let mut related: Vec<Vec<usize>> = vec![Vec::new(); findings.len()];
    // In order of start, each finding is compared only with those starting
    // before it ends (plus the tolerance), not with every other finding.
    let mut by_start: Vec<usize> = (0..findings.len()).collect();
    by_start.sort_by_key(|&i| (findings[i].start, i));
    for (k, &i) in by_start.iter().enumerate() {
        let a = &findings[i];
        for &j in &by_start[k + 1..] {
            let b = &findings[j];
            if b.start - FARM_TOLERANCE > a.end {
                break;
            }
            if a.window_from_files || b.window_from_files {
                continue;
            }
            let other_host = match (&a.scope.host, &b.scope.host) {
                (Some(x), Some(y)) => !machines.same(x, y),
                _ => false,
            };
            let overlap = a.start - FARM_TOLERANCE <= b.end;
            let shared = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
            let same_target = a.id == b.id
                || shared(&a.scope.app_pool, &b.scope.app_pool)
                || shared(&a.scope.site, &b.scope.site);
            if same_target && other_host && overlap {
                related[i].push(j + 1);
                related[j].push(i + 1);
            }
        }
    }
    for (f, mut r) in findings.iter_mut().zip(related) {
        r.sort_unstable();
        f.related = r;
    }
}

/// The path of a FREB request URL (`https://host:443/a/b?q` gives `/a/b`),
/// as W3C logs it in `cs-uri-stem`.
fn url_path(url: &str) -> &str {
    url_parts(url).1
}

/// A traced URL in its parts, (authority, path, query): `scheme://authority/
/// path?query`, or all path and query without a scheme; a fragment is no
/// part of either.
pub(crate) fn url_parts(url: &str) -> (&str, &str, Option<&str>) {
    let (authority, target) = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..])),
        None => ("", url),
    };
    let target = target.split('#').next().unwrap_or(target);
    match target.split_once('?') {
        Some((path, query)) => (authority, path, Some(query)),
        None => (authority, target, None),
    }
}

/// Whether FREB's `RemoteAddress` (often `address:port`, IPv6 possibly in
/// brackets) is the W3C `c-ip`.
fn same_client(freb: &str, w3c: &str) -> bool {
    let freb = freb.strip_prefix('[').map_or(freb, |f| f.split_once(']').map_or(f, |(a, _)| a));
    freb.eq_ignore_ascii_case(w3c)
        // An unbracketed IPv6 address cannot carry a port unambiguously.
        || (!w3c.contains(':') && freb.strip_prefix(w3c).is_some_and(|port| port.starts_with(':')))
}

/// How many incidents `findings` are: those on one host whose windows
/// overlap (within [`FARM_TOLERANCE`]) are one (a crash and the rapid-fail
/// protection it trips, a log cleared twice in a minute), and so are those
/// [`relate_across_hosts`] related (one failure on a farm's servers); two
/// hosts failing at once for unrelated reasons are two.
pub(crate) fn incidents(findings: &[Finding]) -> usize {
    let mut incident: Vec<usize> = (0..findings.len()).collect();
    fn root(incident: &mut [usize], mut i: usize) -> usize {
        while incident[i] != i {
            incident[i] = incident[incident[i]];
            i = incident[i];
        }
        i
    }
    let mut join = |a: usize, b: usize| {
        let (a, b) = (root(&mut incident, a), root(&mut incident, b));
        incident[a.max(b)] = a.min(b);
    };
    for (i, f) in findings.iter().enumerate() {
        for j in f.related.iter().filter_map(|r| r.checked_sub(1)).filter(|&j| j < findings.len()) {
            join(i, j);
        }
        for (j, g) in findings.iter().enumerate().skip(i + 1) {
            let close = f.start - FARM_TOLERANCE <= g.end && g.start - FARM_TOLERANCE <= f.end;
            if f.scope.host.is_some() && f.scope.host == g.scope.host && close {
                join(i, j);
            }
        }
    }
    (0..findings.len()).filter(|&i| root(&mut incident, i) == i).count()
}

#[cfg(test)]
mod tests {
    use super::{same_client, url_path};

    #[test]
    fn freb_remote_addresses_match_the_logged_client() {
        assert!(same_client("78.70.183.201:50000", "78.70.183.201"));
        assert!(same_client("78.70.183.201", "78.70.183.201"));
        assert!(same_client("[2001:db8::1]:443", "2001:db8::1"));
        assert!(!same_client("78.70.183.20:1", "78.70.183.201"));
        assert!(!same_client("78.70.183.2011:5", "78.70.183.201"));
        assert!(!same_client("2001:db8::1:5", "2001:db8::1"));
    }

    #[test]
    fn freb_urls_reduce_to_the_logged_stem() {
        assert_eq!(url_path("https://shop.example.com:443/web.config?a=1&b=2"), "/web.config");
        assert_eq!(url_path("http://x"), "/");
        assert_eq!(url_path("/plain/path?q"), "/plain/path");
    }
}

#[cfg(test)]
mod farm_tests {
    use super::{incidents, relate_across_hosts};
    use crate::detect::Draft;
    use crate::detect::testing::at;
    use crate::finding::{Evidence, FailureMode, Role, Severity};
    use crate::renames::Machines;
    use crate::resolve::SourceKind;

    /// The same failure on two hosts in the same minutes is one farm-wide
    /// incident; error pages copied in the same second are not, whatever
    /// their files' times say.
    #[test]
    fn findings_timed_by_their_files_copy_are_related_to_none() {
        let finding = |host: &str, source: SourceKind| {
            let mut d = Draft::new(FailureMode::AncmStartupFailure, Severity::High, 0.9, at(0), at(60))
                .scope(Some(host), None, None)
                .explain("The app did not start.".into());
            let cite = Evidence {
                source,
                path: format!("{host}/e.log"),
                line: Some(1),
                record: None,
                time: at(0),
                summary: "500.30".into(),
            };
            d.cite(cite, Role::Cause);
            d.finish()
        };
        let mut logged = [finding("WEB01", SourceKind::W3c), finding("WEB02", SourceKind::W3c)];
        relate_across_hosts(&mut logged, &Machines::default());
        assert_eq!((logged[0].related.clone(), logged[1].related.clone()), (vec![2], vec![1]));
        let mut pages = [finding("SHOP", SourceKind::Errorpage), finding("QUOTES", SourceKind::Errorpage)];
        relate_across_hosts(&mut pages, &Machines::default());
        assert!(pages.iter().all(|f| f.related.is_empty()));
        let mut mixed = [finding("WEB01", SourceKind::W3c), finding("QUOTES", SourceKind::Errorpage)];
        relate_across_hosts(&mut mixed, &Machines::default());
        assert!(mixed.iter().all(|f| f.related.is_empty()));
    }

    /// One host's findings close together are one incident, findings the
    /// report relates across hosts are one, and two hosts failing at once
    /// for unrelated reasons are two.
    #[test]
    fn incidents_are_one_hosts_close_findings_and_related_ones() {
        let finding = |host: &str, mode: FailureMode, from: i64, to: i64| {
            Draft::new(mode, Severity::High, 0.9, at(from), at(to))
                .scope(Some(host), None, None)
                .explain("x".into())
                .finish()
        };
        let crash = finding("WEB01", FailureMode::WorkerCrash, 0, 60);
        let queue = finding("WEB02", FailureMode::RequestQueueFull, 10, 50);
        assert_eq!(incidents(&[crash.clone(), queue.clone()]), 2, "unrelated hosts at once");
        let tripped = finding("WEB01", FailureMode::RapidFailProtection, 62, 90);
        assert_eq!(
            incidents(&[crash.clone(), tripped.clone(), queue.clone()]),
            2,
            "one host's crash and its trip"
        );
        let much_later = finding("WEB01", FailureMode::WorkerCrash, 3_600, 3_660);
        assert_eq!(incidents(&[crash.clone(), much_later]), 2);
        let mut farm = [crash, finding("WEB02", FailureMode::WorkerCrash, 5, 70)];
        relate_across_hosts(&mut farm, &Machines::default());
        assert_eq!(incidents(&farm), 1, "one failure on two servers");
        assert_eq!(incidents(&[]), 0);
    }
}
