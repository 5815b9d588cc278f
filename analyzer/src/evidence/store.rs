//! The store: everything the analysis kept from every source, merged in
//! source order and sorted by time, and the lookups detectors ask of it
//! (events of a kind in a time window, HTTPERR rows in a window).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use faultline_parser::winevent::{Family, family_of};
use faultline_parser::{Span, Timestamp};

use super::collect::Absorbed;
use super::collect::Kept;
use super::rows::{
    ErrKey, ErrRow, EventKind, EventRow, Minute, MinuteKey, RequestRow, Status, TraceRow, Unlisted,
};
use crate::resolve::{SourceFile, SourceKind};

/// How far past everything else its host logged (or before it) a detailed
/// error page's file date must lie to be a copy's date, not its request's.
pub const COPY_MARGIN: Span = Span::hours(24);

/// How many rows counts past those kept (keyed by host and minute first,
/// in order) hold, and in how many minutes of a host.
fn total_unlisted<'a>(counts: impl Iterator<Item = ((&'a Arc<str>, i64), &'a Unlisted)>) -> (u64, usize) {
    let (mut n, mut minutes, mut last) = (0, 0, None);
    for (minute, u) in counts {
        n += u64::from(u.count);
        if last != Some(minute) {
            minutes += 1;
            last = Some(minute);
        }
    }
    (n, minutes)
}

/// Everything the analysis kept, merged in source order and sorted by time,
/// with the lookups the detectors ask.
#[derive(Debug, Default)]
pub struct Store {
    /// Sources, by index.
    pub sources: Vec<SourceFile>,
    /// Requests per host, site and minute.
    pub minutes: BTreeMap<MinuteKey, Minute>,
    /// Per (host, site, minute) and status, the failed, slow or cut-off
    /// requests counted past the rows kept.
    pub unlisted: BTreeMap<(MinuteKey, Status), Unlisted>,
    /// Request rows worth citing.
    pub requests: Vec<RequestRow>,
    /// HTTPERR rows.
    pub errors: Vec<ErrRow>,
    /// The HTTPERR rows counted past those kept, per host, minute, reason
    /// and queue.
    pub unlisted_errors: BTreeMap<ErrKey, Unlisted>,
    /// Per host, minute and event id, the Security logon events counted
    /// past those kept.
    pub unlisted_logons: BTreeMap<(Arc<str>, i64, u16), Unlisted>,
    /// Catalogue events.
    pub events: Vec<EventRow>,
    /// FREB traces.
    pub traces: Vec<TraceRow>,
    /// Per host, the first and last time of its events outside the
    /// catalogue, which only their counts keep.
    pub counted_spans: BTreeMap<Arc<str>, (Timestamp, Timestamp)>,
    /// Per host, the first and last time of its records outside the run's
    /// range.
    pub outside_spans: BTreeMap<Arc<str>, (Timestamp, Timestamp)>,
    /// Positions in `events` per family and event id, built on first use:
    /// detectors ask for a kind of event inside loops, and a scan of every
    /// event per question made an event log of millions of records take
    /// hours.
    kinds: OnceLock<HashMap<EventKind, Vec<usize>>>,
    /// Hosts with evidence of running IIS, built on first use.
    web_hosts: OnceLock<BTreeSet<Arc<str>>>,
}

impl Store {
    /// Merges the collectors of every source, in source order (each has
    /// already placed its records: host, site, corrected time, range).
    pub fn new(sources: Vec<SourceFile>, kept: Vec<Kept>) -> Self {
        let mut a = Store { sources, ..Store::default() };
        let mut held = Vec::new();
        let mut rows = Absorbed::default();
        for mut c in kept {
            rows.append(c.take_rows());
            for (key, m) in c.minutes {
                a.minutes.entry(key).or_default().add(&m);
            }
            super::collect::add_unlisted(&mut a.unlisted, c.unlisted);
            super::collect::add_unlisted(&mut a.unlisted_errors, c.unlisted_errors);
            super::collect::add_unlisted(&mut a.unlisted_logons, c.unlisted_logons);
            for (host, span) in c.counted_spans {
                super::collect::widen(&mut a.counted_spans, &host, span);
            }
            for (host, span) in c.outside_spans {
                super::collect::widen(&mut a.outside_spans, &host, span);
            }
            held.extend(c.pages_outside);
        }
        a.requests = rows.requests.join();
        a.errors = rows.errors.join();
        a.events = rows.events.join();
        a.traces = rows.traces.join();
        // A detailed error page whose file's date lies outside the range
        // is kept when the date is a copy's (more than a day past
        // everything else its host logged, or before it): the request it
        // shows may lie inside the range. A page dated by its own request
        // stays out with the rest.
        for page in held {
            let copied = match (a.host_span(&page.host), page.trace.time()) {
                (Some((first, last)), Some(t)) => t > last + COPY_MARGIN || t < first - COPY_MARGIN,
                _ => false,
            };
            if copied {
                a.traces.push(page);
            }
        }
        // A row's source and line are its own: no two rows tie, and the
        // unstable sort needs no copy of half the rows as the stable does.
        a.requests.sort_unstable_by_key(|x| (x.time, x.source, x.line));
        a.errors.sort_unstable_by_key(|x| (x.time, x.source, x.line));
        a.events.sort_by_key(|x| (x.event.sort_key(), x.source));
        a.traces.sort_by_key(|x| (x.trace.time(), x.source));
        a
    }

    /// The failed, slow or cut-off requests counted but not kept as rows
    /// (past the rows a busy minute keeps), and in how many minutes.
    pub fn unlisted_requests(&self) -> (u64, usize) {
        let busy = self.minutes.values().filter(|m| m.unlisted > 0);
        busy.fold((0, 0), |(n, minutes), m| (n + u64::from(m.unlisted), minutes + 1))
    }

    /// The HTTP.sys rejections counted but not kept as rows (past the
    /// rows a busy minute keeps of a reason and queue), and in how many
    /// minutes of a host.
    pub fn unlisted_rejections(&self) -> (u64, usize) {
        total_unlisted(self.unlisted_errors.iter().map(|(k, u)| ((&k.0, k.1), u)))
    }

    /// The Security logon events counted but not kept (past those a busy
    /// minute keeps of an id and logon type), and in how many minutes of a
    /// host.
    pub fn unlisted_logons(&self) -> (u64, usize) {
        total_unlisted(self.unlisted_logons.iter().map(|(k, u)| ((&k.0, k.1), u)))
    }

    /// The requests of `host` and `site` in the minutes `minutes` (since
    /// the epoch), of a status `wanted` takes, counted past the rows kept:
    /// how many, and when the last was.
    pub fn unlisted_between(
        &self,
        host: &Arc<str>,
        site: Option<u32>,
        minutes: std::ops::RangeInclusive<i64>,
        wanted: impl Fn(Status) -> bool,
    ) -> Unlisted {
        let mut all = Unlisted::default();
        for (_, n) in self.unlisted_in(host, site, minutes).filter(|(status, _)| wanted(*status)) {
            all += n;
        }
        all
    }

    /// The requests of `host` and `site` in the minutes `minutes` counted
    /// past the rows kept: per minute and status, how many and the last.
    pub fn unlisted_in(
        &self,
        host: &Arc<str>,
        site: Option<u32>,
        minutes: std::ops::RangeInclusive<i64>,
    ) -> impl Iterator<Item = (Status, Unlisted)> + '_ {
        let key = |minute: i64, status: Status| ((Arc::clone(host), site, minute), status);
        let last = Status { code: u16::MAX, sub: u32::MAX, win32: u64::MAX };
        let (from, to) = (*minutes.start(), *minutes.end());
        let range = (from <= to).then(|| self.unlisted.range(key(from, Status::default())..=key(to, last)));
        range.into_iter().flatten().map(|((_, status), n)| (*status, *n))
    }

    /// How many HTTP.sys rejections `rows` stand for: them, and those of
    /// their host, reason and queue a busy minute of theirs counted past
    /// the rows kept.
    pub fn errors_counted(&self, rows: &[&ErrRow]) -> u64 {
        rows.len() as u64 + self.unlisted_with(rows).map(|u| u64::from(u.count)).sum::<u64>()
    }

    /// When the last of the rejections `rows` stand for was: the last
    /// row's time, or a later one a busy minute of theirs counted.
    pub fn errors_end(&self, rows: &[&ErrRow]) -> Option<Timestamp> {
        let kept = rows.iter().map(|r| r.time).max();
        kept.max(self.unlisted_with(rows).map(|u| u.last).max())
    }

    /// The counts past the rows kept of the minutes, reasons and queues of
    /// `rows`.
    fn unlisted_with<'a>(&'a self, rows: &[&ErrRow]) -> impl Iterator<Item = Unlisted> + 'a {
        let mut keys: Vec<ErrKey> = rows.iter().map(|r| r.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter().filter_map(|k| self.unlisted_errors.get(&k).copied())
    }

    /// The first and last time of what a host logged with times of its
    /// own, whatever the run's range kept: its events (those only counted
    /// too), the minutes its access logs cover, and its records outside the
    /// range. Error pages, which hold no time, are not counted.
    pub fn host_span(&self, host: &str) -> Option<(Timestamp, Timestamp)> {
        let events = self.events.iter().filter(|e| &*e.host == host).map(|e| e.time());
        let minutes =
            self.minutes.keys().filter(|k| &*k.0 == host).map(|k| Timestamp::from_parts(k.2 * 60, 0));
        let spans = [&self.counted_spans, &self.outside_spans];
        let bounds = spans.into_iter().filter_map(|m| m.get(host)).flat_map(|&(a, b)| [a, b]);
        events.chain(minutes).chain(bounds).fold(None, |span, t| match span {
            None => Some((t, t)),
            Some((a, b)) => Some((a.min(t), b.max(t))),
        })
    }

    /// Catalogue events of any of `kinds`, in time order.
    pub fn events_of<'a>(&'a self, kinds: &[EventKind]) -> impl Iterator<Item = &'a EventRow> + 'a {
        self.events_between(kinds, Timestamp(i64::MIN), Timestamp(i64::MAX))
    }

    /// Catalogue events of any of `kinds` from `from` to `to` (both
    /// included), in time order. Detectors look around each event they
    /// report: a window keeps that from reading every event each time.
    pub fn events_between<'a>(
        &'a self,
        kinds: &[EventKind],
        from: Timestamp,
        to: Timestamp,
    ) -> impl Iterator<Item = &'a EventRow> + 'a {
        let index = self.kinds.get_or_init(|| {
            let mut families: HashMap<&str, Family> = HashMap::new();
            let mut index: HashMap<EventKind, Vec<usize>> = HashMap::new();
            for (i, e) in self.events.iter().enumerate() {
                let provider = &*e.event.provider;
                let family = *families.entry(provider).or_insert_with(|| family_of(provider));
                index.entry(EventKind::new(family, e.event.event_id)).or_default().push(i);
            }
            index
        });
        let time = |i: usize| self.events[i].event.time;
        let mut at: Vec<usize> = Vec::new();
        for list in kinds.iter().filter_map(|k| index.get(k)) {
            let start = list.partition_point(|&i| time(i) < from);
            at.extend(list[start..].iter().copied().take_while(|&i| time(i) <= to));
        }
        if kinds.len() > 1 {
            // Back into time order, as the events are.
            at.sort_unstable();
            at.dedup();
        }
        at.into_iter().map(move |i| &self.events[i])
    }

    /// Request rows from `from` to `to` (both included), in time order.
    pub fn requests_between(&self, from: Timestamp, to: Timestamp) -> &[RequestRow] {
        let start = self.requests.partition_point(|r| r.time < from);
        let end = self.requests.partition_point(|r| r.time <= to);
        &self.requests[start..end.max(start)]
    }

    /// The first of `minutes` (minutes since the epoch) in which `host`'s
    /// `site` served successes (2xx, 3xx): successes are counted by the
    /// minute, not kept.
    pub fn first_served_minute(
        &self,
        host: &Arc<str>,
        site: Option<u32>,
        minutes: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let (from, to) = minutes.into_inner();
        if from > to {
            return None;
        }
        self.minutes
            .range((host.clone(), site, from)..=(host.clone(), site, to))
            .find(|(_, m)| m.by_class[2] + m.by_class[3] > 0)
            .map(|((_, _, m), _)| *m)
    }

    /// Whether `host`'s access logs hold requests of any minute from `from`
    /// to `to`: whether they cover the moment, whatever they say of it.
    pub fn logged_requests_between(&self, host: &str, from: Timestamp, to: Timestamp) -> bool {
        let (from, to) = (from.seconds().div_euclid(60), to.seconds().div_euclid(60));
        let host: Arc<str> = Arc::from(host);
        // Site by site (the minutes are keyed by host, site, minute): a
        // year of a site's minutes is not read for each question.
        let mut site = None;
        while let Some(((h, s, _), _)) = self.minutes.range((host.clone(), site, i64::MIN)..).next() {
            if *h != host {
                return false;
            }
            if self.minutes.range((host.clone(), *s, from)..=(host.clone(), *s, to)).any(|(_, m)| m.total > 0)
            {
                return true;
            }
            site = match s {
                None => Some(0),
                Some(u32::MAX) => return false,
                Some(n) => Some(n + 1),
            };
        }
        false
    }

    /// HTTPERR rows from `from` to `to` (both included), in time order.
    pub fn errors_between(&self, from: Timestamp, to: Timestamp) -> &[ErrRow] {
        let start = self.errors.partition_point(|r| r.time < from);
        let end = self.errors.partition_point(|r| r.time <= to);
        &self.errors[start..end.max(start)]
    }

    /// Whether `host` runs IIS by its evidence: it logged requests, HTTP.sys
    /// errors or traces, or IIS's own components (WAS, W3SVC, the worker,
    /// ASP.NET, ANCM, IIS configuration) wrote events. A workstation or a
    /// domain controller in the same collection has none, and its reboots
    /// and cleared logs are background, not an IIS incident. HTTP.sys alone
    /// (HttpEvent) does not count: every Windows machine has it.
    pub fn serves_web(&self, host: &str) -> bool {
        self.web_hosts
            .get_or_init(|| {
                let mut hosts: BTreeSet<Arc<str>> = BTreeSet::new();
                hosts.extend(self.minutes.keys().map(|(h, _, _)| h.clone()));
                hosts.extend(self.errors.iter().map(|r| r.host.clone()));
                hosts.extend(self.traces.iter().map(|t| t.host.clone()));
                let iis = |e: &&super::rows::EventRow| {
                    matches!(
                        e.event.family(),
                        Family::Was
                            | Family::W3svc
                            | Family::W3svcWp
                            | Family::AspNet
                            | Family::Ancm
                            | Family::HttpPlatformHandler
                            | Family::IisConfiguration
                            | Family::AppHostSvc
                            | Family::IisLogging
                    )
                };
                hosts.extend(self.events.iter().filter(iis).map(|e| e.host.clone()));
                hosts
            })
            .contains(host)
    }

    /// Whether a process event (Sysmon, Security auditing) shows an IIS
    /// worker on `host`: it ran IIS, though the collection holds none of
    /// its IIS logs (an attack capture of Sysmon alone).
    pub fn ran_iis_worker(&self, host: &str) -> bool {
        const PROCESS_FIELDS: [&str; 6] =
            ["Image", "ParentImage", "ProcessName", "NewProcessName", "ParentProcessName", "SourceImage"];
        self.events.iter().filter(|e| &*e.host == host).any(|e| {
            PROCESS_FIELDS.iter().any(|f| e.data(f).is_some_and(faultline_parser::winevent::is_worker_image))
        })
    }

    pub(crate) fn path(&self, source: u32) -> String {
        self.sources.get(source as usize).map_or_else(|| "-".into(), |s| s.path.to_string())
    }

    pub(crate) fn kind(&self, source: u32) -> SourceKind {
        self.sources.get(source as usize).map_or(SourceKind::W3c, |s| s.kind)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use faultline_parser::Timestamp;
    use faultline_parser::winevent::{EventOrigin, Family, TimeSource, WinEvent};

    use super::Store;
    use crate::evidence::EventKind;

    fn was(id: u16) -> EventKind {
        EventKind::new(Family::Was, id)
    }
    use crate::evidence::EventRow;

    fn event(secs: i64, provider: &str, event_id: u16, record_id: u64) -> EventRow {
        let event = WinEvent {
            time: Timestamp::from_parts(secs, 0),
            time_source: TimeSource::TimeCreated,
            origin: EventOrigin::Record { record_id, chunk: 0 },
            record_id: faultline_parser::RecordId::new(record_id),
            provider: Arc::from(provider),
            event_id,
            ..WinEvent::default()
        };
        EventRow { event, host: Arc::from("WEB01"), source: 0 }
    }

    #[test]
    fn event_windows_include_both_ends_and_keep_time_order() {
        let a = Store {
            events: vec![
                event(100, "Microsoft-Windows-WAS", 5011, 1),
                event(110, "Microsoft-Windows-WAS", 5002, 2),
                event(120, "Microsoft-Windows-WAS", 5009, 3),
                event(120, "Application Error", 5011, 4),
                event(130, "WAS", 5011, 5),
                event(200, "Microsoft-Windows-WAS", 5009, 6),
            ],
            ..Store::default()
        };
        let ids = |from: i64, to: i64| -> Vec<u64> {
            a.events_between(
                &[EventKind::new(Family::Was, 5009), EventKind::new(Family::Was, 5011)],
                Timestamp::from_parts(from, 0),
                Timestamp::from_parts(to, 0),
            )
            .map(|e| e.event.record_id.map_or(0, faultline_parser::RecordId::key))
            .collect()
        };
        // Other ids and other families are left out; `WAS` is the same
        // provider as `Microsoft-Windows-WAS`.
        assert_eq!(ids(100, 130), [1, 3, 5]);
        assert_eq!(ids(101, 129), [3]);
        assert_eq!(ids(131, 199), Vec::<u64>::new());
        assert_eq!(ids(0, 1000), [1, 3, 5, 6]);
        let all: Vec<u64> = a
            .events_of(&[was(5011), was(5009), was(5011)])
            .map(|e| e.event.record_id.map_or(0, faultline_parser::RecordId::key))
            .collect();
        assert_eq!(all, [1, 3, 5, 6]);
        assert_eq!(a.events_of(&[EventKind::new(Family::ApplicationError, 5011)]).count(), 1);
    }
}
