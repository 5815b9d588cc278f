//! The analysis: everything kept from the evidence, merged in a fixed order,
//! and the detectors run over it.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use faultline_parser::Timestamp;
use faultline_parser::winevent::{Family, family_of};

use crate::detect;
use crate::evidence::{ErrRow, EventRow, Kept, Minute, RequestRow, TraceRow, join};
use crate::finding::{Evidence, Finding};
use crate::resolve::{SourceFile, SourceKind};
use crate::timeline::{describe_http_error, describe_request, describe_trace};

/// Everything kept, in time order.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Sources, by index.
    pub sources: Vec<SourceFile>,
    /// Requests per host, site and minute.
    pub minutes: BTreeMap<(Arc<str>, Option<u32>, i64), Minute>,
    /// Request rows worth citing.
    pub requests: Vec<RequestRow>,
    /// HTTPERR rows.
    pub errors: Vec<ErrRow>,
    /// Catalogue events.
    pub events: Vec<EventRow>,
    /// FREB traces.
    pub traces: Vec<TraceRow>,
    /// Positions in `events` per family and event id, built on first use:
    /// detectors ask for a kind of event inside loops, and a scan of every
    /// event per question made an event log of millions of records take
    /// hours.
    kinds: OnceLock<HashMap<(Family, u16), Vec<usize>>>,
}

impl Analysis {
    /// Merges the collectors of every source, in source order (each has
    /// already placed its records: host, site, corrected time, range).
    pub fn new(sources: Vec<SourceFile>, kept: Vec<Kept>) -> Self {
        let mut a = Analysis { sources, ..Analysis::default() };
        for c in kept {
            for (key, m) in c.minutes {
                a.minutes.entry(key).or_default().add(&m);
            }
            join(&mut a.requests, c.requests);
            join(&mut a.errors, c.errors);
            join(&mut a.events, c.events);
            join(&mut a.traces, c.traces);
        }
        a.requests.sort_by_key(|x| (x.time, x.source, x.line));
        a.errors.sort_by_key(|x| (x.time, x.source, x.line));
        a.events.sort_by_key(|x| (x.event.sort_key(), x.source));
        a.traces.sort_by_key(|x| (x.trace.time(), x.source));
        a
    }

    /// Runs every detector; findings come most important first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut findings = detect::run(self);
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(b.confidence.total_cmp(&a.confidence))
                .then(a.start.cmp(&b.start))
                .then(a.id.cmp(b.id))
        });
        relate_across_hosts(&mut findings);
        findings
    }

    /// Catalogue events of a family with one of `ids`, in time order.
    pub fn events_of<'a>(
        &'a self,
        family: Family,
        ids: &'a [u16],
    ) -> impl Iterator<Item = &'a EventRow> + 'a {
        self.events_between(family, ids, Timestamp(i64::MIN), Timestamp(i64::MAX))
    }

    /// Catalogue events of a family with one of `ids` from `from` to `to`
    /// (both included), in time order. Detectors look around each event
    /// they report: a window keeps that from reading every event each time.
    pub fn events_between<'a>(
        &'a self,
        family: Family,
        ids: &[u16],
        from: Timestamp,
        to: Timestamp,
    ) -> impl Iterator<Item = &'a EventRow> + 'a {
        let kinds = self.kinds.get_or_init(|| {
            let mut families: HashMap<&str, Family> = HashMap::new();
            let mut kinds: HashMap<(Family, u16), Vec<usize>> = HashMap::new();
            for (i, e) in self.events.iter().enumerate() {
                let provider = &*e.event.provider;
                let family = *families.entry(provider).or_insert_with(|| family_of(provider));
                kinds.entry((family, e.event.event_id)).or_default().push(i);
            }
            kinds
        });
        let time = |i: usize| self.events[i].event.time;
        let mut at: Vec<usize> = Vec::new();
        for list in ids.iter().filter_map(|id| kinds.get(&(family, *id))) {
            let start = list.partition_point(|&i| time(i) < from);
            at.extend(list[start..].iter().copied().take_while(|&i| time(i) <= to));
        }
        if ids.len() > 1 {
            // Back into time order, as the events are.
            at.sort_unstable();
            at.dedup();
        }
        at.into_iter().map(move |i| &self.events[i])
    }

    /// HTTPERR rows from `from` to `to` (both included), in time order.
    pub fn errors_between(&self, from: Timestamp, to: Timestamp) -> &[ErrRow] {
        let start = self.errors.partition_point(|r| r.time < from);
        let end = self.errors.partition_point(|r| r.time <= to);
        &self.errors[start..end.max(start)]
    }

    fn path(&self, source: u32) -> String {
        self.sources.get(source as usize).map_or_else(|| "-".into(), |s| s.path.to_string())
    }

    fn kind(&self, source: u32) -> SourceKind {
        self.sources.get(source as usize).map_or(SourceKind::W3c, |s| s.kind)
    }

    /// Evidence for an event.
    pub fn cite_event(&self, e: &EventRow, summary: String) -> Evidence {
        Evidence {
            source: self.kind(e.source),
            path: self.path(e.source),
            line: match e.event.origin {
                faultline_parser::winevent::EventOrigin::Xml { line, .. } => Some(line),
                faultline_parser::winevent::EventOrigin::Record { .. } => None,
            },
            record: e.event.record_id,
            time: e.event.time,
            summary,
        }
    }

    /// Evidence for a request row.
    pub fn cite_request(&self, r: &RequestRow) -> Evidence {
        Evidence {
            source: SourceKind::W3c,
            path: self.path(r.source),
            line: Some(r.line),
            record: None,
            time: r.time,
            summary: describe_request(&r.stem, r.status, r.taken, &r.client),
        }
    }

    /// Evidence for an HTTPERR row.
    pub fn cite_error(&self, r: &ErrRow) -> Evidence {
        Evidence {
            source: SourceKind::Httperr,
            path: self.path(r.source),
            line: Some(r.line),
            record: None,
            time: r.time,
            summary: describe_http_error(r.status, &r.reason, r.uri.as_deref(), r.queue.as_deref()),
        }
    }

    /// Evidence for a FREB trace.
    pub fn cite_trace(&self, t: &TraceRow) -> Evidence {
        let tr = &t.trace;
        let logged = self
            .request_of_trace(t)
            .map_or_else(String::new, |r| format!(" (logged at {}:{})", self.path(r.source), r.line));
        Evidence {
            source: SourceKind::Freb,
            path: self.path(t.source),
            line: None,
            record: None,
            time: tr.time().unwrap_or_default(),
            summary: format!("{}{logged}", describe_trace(tr)),
        }
    }

    /// The access-log row of a traced request: same host, site, path,
    /// status and client (where both know them), logged between a second
    /// before the trace starts and two seconds after it ends (W3C times are
    /// request ends, to the second).
    pub fn request_of_trace(&self, t: &TraceRow) -> Option<&RequestRow> {
        let tr = &t.trace;
        let start = tr.time()?;
        let path = url_path(tr.url.as_deref()?);
        let status = tr.status?;
        let taken = i64::try_from(tr.time_taken_ms.unwrap_or(0) / 1000).unwrap_or(i64::MAX);
        let (from, to) = (start.shifted(-1), start.shifted(taken.saturating_add(2)));
        let first = self.requests.partition_point(|r| r.time < from);
        self.requests[first..].iter().take_while(|r| r.time <= to).find(|r| {
            r.host == t.host
                && (r.site.is_none() || tr.site_id.is_none() || r.site == tr.site_id)
                && r.status.0 == status
                && r.status.1 == tr.substatus.unwrap_or(0)
                && r.stem.eq_ignore_ascii_case(path)
                && tr.summary.client.as_deref().is_none_or(|c| &*r.client == "-" || same_client(c, &r.client))
        })
    }
}

/// Windows of one failure mode on several hosts, this close together, are
/// one farm-wide incident.
const FARM_TOLERANCE_SECS: i64 = 300;

/// Marks findings on different hosts whose windows overlap (within the
/// tolerance) as related when they are the same failure mode, or different
/// modes of the same app pool or site (one pool crashing on one server and
/// disabled by rapid-fail on the next is one bad deployment), so that a
/// farm-wide incident does not read as unrelated ones.
fn relate_across_hosts(findings: &mut [Finding]) {
    let mut related: Vec<Vec<usize>> = vec![Vec::new(); findings.len()];
    // In order of start, each finding is compared only with those starting
    // before it ends (plus the tolerance), not with every other finding.
    let mut by_start: Vec<usize> = (0..findings.len()).collect();
    by_start.sort_by_key(|&i| (findings[i].start, i));
    for (k, &i) in by_start.iter().enumerate() {
        let a = &findings[i];
        for &j in &by_start[k + 1..] {
            let b = &findings[j];
            if b.start.shifted(-FARM_TOLERANCE_SECS) > a.end {
                break;
            }
            let other_host = a.scope.host.is_some() && b.scope.host.is_some() && a.scope.host != b.scope.host;
            let overlap = a.start.shifted(-FARM_TOLERANCE_SECS) <= b.end;
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
    let rest = url.split_once("://").map_or(url, |(_, r)| r.find('/').map_or("/", |i| &r[i..]));
    rest.split(['?', '#']).next().unwrap_or(rest)
}

/// Whether FREB's `RemoteAddress` (often `address:port`, IPv6 possibly in
/// brackets) is the W3C `c-ip`.
fn same_client(freb: &str, w3c: &str) -> bool {
    let freb = freb.strip_prefix('[').map_or(freb, |f| f.split_once(']').map_or(f, |(a, _)| a));
    freb.eq_ignore_ascii_case(w3c)
        // An unbracketed IPv6 address cannot carry a port unambiguously.
        || (!w3c.contains(':') && freb.strip_prefix(w3c).is_some_and(|port| port.starts_with(':')))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use faultline_parser::Timestamp;
    use faultline_parser::winevent::{EventOrigin, Family, TimeSource, WinEvent};

    use super::{Analysis, same_client, url_path};
    use crate::evidence::EventRow;

    fn event(secs: i64, provider: &str, event_id: u16, record_id: u64) -> EventRow {
        let event = WinEvent {
            time: Timestamp::from_parts(secs, 0),
            time_source: TimeSource::TimeCreated,
            origin: EventOrigin::Record { record_id, chunk: 0 },
            record_id: Some(record_id),
            provider: Arc::from(provider),
            provider_guid: None,
            event_source_name: None,
            event_id,
            qualifiers: None,
            version: None,
            level: None,
            task: None,
            opcode: None,
            keywords: None,
            channel: None,
            computer: None,
            process_id: None,
            thread_id: None,
            activity_id: None,
            user_sid: None,
            data: Vec::new(),
            binary: None,
        };
        EventRow { event, host: Arc::from("WEB01"), source: 0 }
    }

    #[test]
    fn event_windows_include_both_ends_and_keep_time_order() {
        let a = Analysis {
            events: vec![
                event(100, "Microsoft-Windows-WAS", 5011, 1),
                event(110, "Microsoft-Windows-WAS", 5002, 2),
                event(120, "Microsoft-Windows-WAS", 5009, 3),
                event(120, "Application Error", 5011, 4),
                event(130, "WAS", 5011, 5),
                event(200, "Microsoft-Windows-WAS", 5009, 6),
            ],
            ..Analysis::default()
        };
        let ids = |from: i64, to: i64| -> Vec<u64> {
            a.events_between(
                Family::Was,
                &[5009, 5011],
                Timestamp::from_parts(from, 0),
                Timestamp::from_parts(to, 0),
            )
            .map(|e| e.event.record_id.unwrap_or(0))
            .collect()
        };
        // Other ids and other families are left out; `WAS` is the same
        // provider as `Microsoft-Windows-WAS`.
        assert_eq!(ids(100, 130), [1, 3, 5]);
        assert_eq!(ids(101, 129), [3]);
        assert_eq!(ids(131, 199), Vec::<u64>::new());
        assert_eq!(ids(0, 1000), [1, 3, 5, 6]);
        let all: Vec<u64> =
            a.events_of(Family::Was, &[5011, 5009, 5011]).map(|e| e.event.record_id.unwrap_or(0)).collect();
        assert_eq!(all, [1, 3, 5, 6]);
        assert_eq!(a.events_of(Family::ApplicationError, &[5011]).count(), 1);
    }

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
