//! Detectors: one file per failure-mode family, each building findings from
//! the evidence that tells its mode apart and ruling out its look-alikes.
//! Matching is on event kinds ([`kinds`]), statuses and reasons, never on
//! message text.
//!
//! To add a failure mode: declare it in [`mode`] (the table will not compile
//! without its id, category, title and remediation), write its detector in a
//! file of its own here with unit tests over a hand-built store (the case
//! that must fire and the look-alike that must not), call it from [`run`],
//! and describe it in docs/failure-modes.md.

mod ancm;
mod app_exception;
mod app_init;
mod config_store;
mod crash;
mod database;
mod event_rules;
pub(crate) use event_rules::BOOT_NEAR;
mod hang;
mod httperr;
mod identity;
pub mod kinds;
mod memory;
pub mod mode;
mod module_load;
mod rapid_fail;
mod reboot;
mod recycle;
mod rewrite;
mod shutdown;
mod slow;
mod status;
#[cfg(test)]
pub(crate) mod testing;
mod unexplained;
mod worker_start;

use std::collections::BTreeMap;

use faultline_parser::{Span, Timestamp};

use crate::evidence::{EventRow, Store};
use crate::finding::{Evidence, Finding, Role, Scope, Severity, Step};
pub use mode::FailureMode;

/// Where a piece of evidence was read: its file, and its line or (an event
/// log's) record.
type Place = (String, Option<u64>, Option<faultline_parser::RecordId>);

/// Evidence cited per finding at most: the first its detector cited, and
/// the latest ([`LATEST_CITED`]) so that a long finding's end is cited too.
const MAX_CITED: usize = 100;

/// Of [`MAX_CITED`], the places kept for the latest evidence in time.
const LATEST_CITED: usize = 10;

/// Evidence a draft holds while it is built; past it, only counted.
const HELD: usize = 2_000;

/// A finding being built.
pub(crate) struct Draft {
    pub id: FailureMode,
    pub severity: Severity,
    pub confidence: f64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub scope: Scope,
    pub explanation: String,
    pub remediation: Vec<&'static str>,
    pub evidence: Vec<Evidence>,
    pub timeline: Vec<Step>,
    /// Where each step of `timeline` was read, in its order: steps of one
    /// second and role go in the order their evidence was written.
    places: Vec<Place>,
    /// Still failing where the evidence ends ([`Finding::ongoing`]).
    pub ongoing: bool,
    /// Other hosts the same cause failed on, beside the scope's (another
    /// web server's machine account refused by the same SQL Server): their
    /// application errors in the window are explained too.
    pub also_on: Vec<String>,
    /// Evidence read but not kept: cited past [`HELD`], or past the first
    /// few of [`Draft::cite_first`].
    uncited: usize,
}

impl Draft {
    /// A finding of `id` over `start..=end`, with the mode's remediation.
    pub fn new(
        id: FailureMode,
        severity: Severity,
        confidence: f64,
        start: Timestamp,
        end: Timestamp,
    ) -> Draft {
        Draft {
            id,
            severity,
            confidence,
            start,
            end,
            scope: Scope::default(),
            explanation: String::new(),
            remediation: id.remediation().to_vec(),
            evidence: Vec::new(),
            timeline: Vec::new(),
            places: Vec::new(),
            ongoing: false,
            also_on: Vec::new(),
            uncited: 0,
        }
    }

    /// Where the broken assumption lives.
    pub fn scope(mut self, host: Option<&str>, site: Option<u32>, pool: Option<&str>) -> Draft {
        self.scope = Scope {
            host: host.map(str::to_string),
            site: site.map(|s| s.to_string()),
            app_pool: pool.map(str::to_string),
        };
        self
    }

    /// What happened, naming the assumption that stopped holding.
    pub fn explain(mut self, text: String) -> Draft {
        self.explanation = text;
        self
    }

    /// Steps more specific to this evidence than the mode's own.
    pub fn remedy(mut self, steps: &'static [&'static str]) -> Draft {
        self.remediation = steps.to_vec();
        self
    }

    /// Steps of a second cause after the first's (those not given yet).
    pub fn also(mut self, steps: &[&'static str]) -> Draft {
        self.add_steps(steps);
        self
    }

    /// [`Draft::also`] in place.
    pub fn add_steps(&mut self, steps: &[&'static str]) {
        for step in steps {
            if !self.remediation.contains(step) {
                self.remediation.push(step);
            }
        }
    }

    /// Adds evidence and the matching timeline step.
    pub fn cite(&mut self, e: Evidence, role: Role) {
        if self.evidence.len() >= HELD {
            self.uncited += 1;
        } else {
            self.timeline.push(Step { time: e.time, role, source: e.source, summary: e.summary.clone() });
            // A line holds one record, save in an App Service export
            // (many events a line, their ids in no order): there, the
            // citation's order stands.
            let record = if e.line.is_some() { None } else { e.record };
            self.places.push((e.path.clone(), e.line, record));
            self.evidence.push(e);
        }
    }

    /// Cites another draft's evidence in the roles it had there.
    pub fn absorb(&mut self, other: Draft) {
        self.uncited += other.uncited;
        for (e, step) in other.evidence.into_iter().zip(other.timeline) {
            // What both cite is cited once.
            let cited =
                self.evidence.iter().any(|c| (&c.path, c.line, c.record) == (&e.path, e.line, e.record));
            if !cited {
                self.cite(e, step.role);
            }
        }
    }

    /// Cites the first `limit` of `items` in `role`, and counts the rest as
    /// read but not cited ([`Finding::evidence_omitted`]): a finding cites a
    /// few of the failures it counts.
    pub fn cite_first<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        limit: usize,
        role: Role,
        cite: impl Fn(T) -> Evidence,
    ) {
        let mut items = items.into_iter();
        for item in items.by_ref().take(limit) {
            self.cite(cite(item), role);
        }
        self.uncited += items.count();
    }

    /// Adds each piece of evidence in the same role.
    pub fn cite_all(&mut self, evidence: impl IntoIterator<Item = Evidence>, role: Role) {
        for e in evidence {
            self.cite(e, role);
        }
    }

    /// The window, as covered by this finding.
    fn window(&self) -> Window {
        Window { host: self.scope.host.clone(), start: self.start, end: self.end }
    }

    /// [`Draft::window`], and the same window on each host of
    /// [`Draft::also_on`].
    fn windows(&self) -> impl Iterator<Item = Window> + '_ {
        std::iter::once(self.window())
            .chain(self.also_on.iter().map(|h| Window { host: Some(h.clone()), ..self.window() }))
    }

    pub fn finish(mut self) -> Finding {
        // A detailed error page holds no time: say where the window's came
        // from, lest a copy's date read as the incident's.
        let window_from_files = crate::finding::timed_by_files(&self.evidence);
        if window_from_files && !self.explanation.contains("modification time") {
            self.explanation.push_str(
                " The error pages hold no time of their own: the window is their files' modification time \
                    (an archive's entry time), which copying the files resets.",
            );
        }
        // Within a second, a finding's causes and effects keep the order
        // their files wrote them in (one second of ANCM's events holds the
        // exception and the failed start it caused).
        let evidence_omitted = self.cut_to_cited();
        let mut steps: Vec<(Step, Place)> = self.timeline.into_iter().zip(self.places).collect();
        steps.sort_by(|(a, at), (b, bt)| (a.time, a.role, at).cmp(&(b.time, b.role, bt)));
        self.timeline = steps.into_iter().map(|(step, _)| step).collect();
        self.evidence.sort_by(|a, b| (a.time, &a.path, a.line).cmp(&(b.time, &b.path, b.line)));
        Finding {
            id: self.id,
            category: self.id.category(),
            title: self.id.title(),
            confidence: (self.confidence * 100.0).round() / 100.0,
            severity: self.severity,
            start: self.start,
            end: self.end,
            scope: self.scope,
            explanation: self.explanation,
            remediation: self.remediation.iter().map(|s| s.to_string()).collect(),
            evidence: self.evidence,
            timeline: self.timeline,
            related: Vec::new(),
            detections: Vec::new(),
            ongoing: self.ongoing,
            window_from_files,
            evidence_omitted,
        }
    }

    /// Keeps [`MAX_CITED`] pieces of evidence of those cited: the first
    /// its detector cited (it cites what matters first: the cause, the
    /// first failures) and the latest in time of the rest. Returns how many
    /// it left out.
    fn cut_to_cited(&mut self) -> usize {
        let held = self.evidence.len().min(self.timeline.len()).min(self.places.len());
        if held <= MAX_CITED {
            return self.uncited;
        }
        let first = MAX_CITED - LATEST_CITED;
        let mut rest: Vec<usize> = (first..held).collect();
        // Latest first; of one second, the last written.
        rest.sort_by(|&a, &b| {
            (self.evidence[b].time, &self.places[b]).cmp(&(self.evidence[a].time, &self.places[a]))
        });
        let mut keep = vec![false; held];
        keep[..first].fill(true);
        rest.iter().take(LATEST_CITED).for_each(|&i| keep[i] = true);
        let before = self.evidence.len();
        retain_marked(&mut self.evidence, &keep);
        retain_marked(&mut self.timeline, &keep);
        retain_marked(&mut self.places, &keep);
        before - self.evidence.len() + self.uncited
    }
}

/// Keeps the items `keep` marks, and those past its end (evidence cited
/// without a step of its own).
fn retain_marked<T>(items: &mut Vec<T>, keep: &[bool]) {
    let mut at = 0;
    items.retain(|_| {
        at += 1;
        keep.get(at - 1).copied().unwrap_or(true)
    });
}

/// A stretch of time on a host (every host when `None`) that a finding
/// explains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub host: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Window {
    /// Whether this window, widened by `margin` on each side, meets
    /// `start..=end` on `host`.
    pub fn covers(&self, host: &str, start: Timestamp, end: Timestamp, margin: Span) -> bool {
        self.host.as_deref().is_none_or(|h| h == host)
            && start <= self.end + margin
            && end >= self.start - margin
    }
}

/// Groups items (in time order) into clusters separated by more than `gap`.
pub(crate) fn clusters<T>(items: Vec<T>, time: impl Fn(&T) -> Timestamp, gap: Span) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    for item in items {
        let t = time(&item);
        match out.last_mut() {
            Some(c) if c.last().is_some_and(|l| t - time(l) <= gap) => c.push(item),
            _ => out.push(vec![item]),
        }
    }
    out
}

/// Items grouped by a key, each group in the items' order, groups in key
/// order (so findings come out the same on every run).
pub(crate) fn grouped<K: Ord, T>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> BTreeMap<K, Vec<T>> {
    let mut groups: BTreeMap<K, Vec<T>> = BTreeMap::new();
    for item in items {
        groups.entry(key(&item)).or_default().push(item);
    }
    groups
}

/// Events clustered in time on each host separately: the same event on two
/// servers of a farm is two findings (which `related` then ties together).
/// Whether the WAS event `e` (a worker that died, a pool disabled) is the
/// effect of what stops a pool's workers at start, which that finding
/// holds: WAS unable to read the configuration store (every pool) in the
/// ten minutes before, a worker unable to read its pool's configuration
/// (that pool), or a native module that did not load (see
/// [`module_load::explains`]).
pub(crate) fn follows_start_failure(store: &Store, e: &EventRow) -> bool {
    use kinds::{CONFIG_STORE_BROKEN, WORKER_CONFIG_UNREADABLE};
    let (from, to) = (e.time() - module_load::EFFECT_WINDOW, e.time());
    let store_broke = store.events_between(CONFIG_STORE_BROKEN, from, to).any(|s| s.host == e.host);
    let unreadable = || {
        store
            .events_between(WORKER_CONFIG_UNREADABLE, from, to)
            .any(|w| w.host == e.host && pool(w).is_none_or(|p| Some(p) == pool(e)))
    };
    store_broke || unreadable() || module_load::explains(store, e)
}

pub(crate) fn host_clusters<'a>(
    events: impl Iterator<Item = &'a EventRow>,
    gap: Span,
) -> Vec<Vec<&'a EventRow>> {
    host_clusters_by(events, &EventRow::time, gap)
}

/// [`host_clusters`] by another time than the one each event was logged
/// at (a clock set right), in that time's order.
pub(crate) fn host_clusters_by<'a>(
    events: impl Iterator<Item = &'a EventRow>,
    time: &dyn Fn(&EventRow) -> Timestamp,
    gap: Span,
) -> Vec<Vec<&'a EventRow>> {
    let mut by_host: BTreeMap<&str, Vec<&EventRow>> = BTreeMap::new();
    for e in events {
        by_host.entry(&e.host).or_default().push(e);
    }
    by_host
        .into_values()
        .flat_map(|mut events| {
            events.sort_by_key(|e| time(e));
            clusters(events, |e| time(e), gap)
        })
        .collect()
}

/// Events clustered in time per host and app pool: two pools recycling in
/// the same hour are two findings, each naming its own pool.
pub(crate) fn pool_clusters<'a>(
    events: impl Iterator<Item = &'a EventRow>,
    gap: Span,
) -> Vec<Vec<&'a EventRow>> {
    let by_pool = grouped(events, |e| (e.host.clone(), pool(e).map(str::to_string)));
    by_pool.into_values().flat_map(|events| clusters(events, |e| e.time(), gap)).collect()
}

/// An event's pool (`AppPoolID`).
pub(crate) fn pool(e: &EventRow) -> Option<&str> {
    e.data("AppPoolID")
}

/// A number events write in hex, with or without `0x` (a PID, an NTSTATUS).
pub(crate) fn hex_u32(text: &str) -> Option<u32> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    u32::from_str_radix(digits, 16).ok()
}

/// The account a Security event names as its subject (`CONTOSO\adm`), the
/// domain left out where the event gives none (`-`).
pub(crate) fn subject_account(e: &EventRow) -> Option<String> {
    let user = e.data("SubjectUserName")?;
    Some(match e.data("SubjectDomainName") {
        Some(d) if !d.is_empty() && d != "-" => format!("{d}\\{user}"),
        _ => user.to_string(),
    })
}

/// Runs every detector. What the others explain is handed to the three
/// that report only what is left: server-side slowness outside hangs,
/// application exceptions outside every named cause, and `unexplained`
/// outside every other finding.
/// A deployment finding inside another of its host's (an error page whose
/// request met a deployment's app_offline.htm, within the deployment the
/// events show) is told and cited in the one that holds it: one
/// deployment, not two.
fn fold_into_deployments(out: &mut Vec<Draft>) {
    let mut i = 0;
    while i < out.len() {
        let inner = &out[i];
        let holder = (inner.id == FailureMode::Deployment)
            .then(|| {
                out.iter().position(|d| {
                    d.id == FailureMode::Deployment
                        && !std::ptr::eq(d, inner)
                        && d.scope.host == inner.scope.host
                        && d.start <= inner.start
                        && inner.end <= d.end
                        && (d.start, std::cmp::Reverse(d.end)) != (inner.start, std::cmp::Reverse(inner.end))
                })
            })
            .flatten();
        match holder {
            Some(h) => {
                let folded = out.remove(i);
                let h = if h > i { h - 1 } else { h };
                out[h].explanation.push(' ');
                out[h].explanation.push_str(&folded.explanation);
                out[h].absorb(folded);
            }
            None => i += 1,
        }
    }
}

pub(crate) fn run(store: &Store) -> Vec<Finding> {
    let mut out = Vec::new();
    config_store::detect(store, &mut out);
    module_load::detect(store, &mut out);
    rapid_fail::detect(store, &mut out);
    crash::detect(store, &mut out);
    hang::detect(store, &mut out);
    recycle::detect(store, &mut out);
    shutdown::detect(store, &mut out);
    identity::detect(store, &mut out);
    database::detect(store, &mut out);
    event_rules::detect(store, &mut out);
    ancm::detect(store, &mut out);
    reboot::detect(store, &mut out);
    memory::detect(store, &mut out);
    httperr::detect(store, &mut out);
    status::detect(store, &mut out);
    app_init::detect(store, &mut out);
    fold_into_deployments(&mut out);
    // A hung worker and a backend that timed out explain the slow requests
    // around them: slowness outside them is a finding of its own.
    let hangs: Vec<Window> = out
        .iter()
        .filter(|d| matches!(d.id, FailureMode::WorkerHang | FailureMode::BackendFailure))
        .map(Draft::window)
        .collect();
    slow::detect(store, &hangs, &mut out);
    rewrite::detect(store, &mut out);
    // Causes that explain an application's exceptions; planned operations
    // and background facts do not.
    let explained: Vec<Window> = out
        .iter()
        .filter(|d| d.severity >= Severity::Medium)
        .filter(|d| !matches!(d.id.category(), mode::Category::Operations | mode::Category::Evidence))
        .flat_map(Draft::windows)
        .collect();
    app_exception::detect(store, &explained, &mut out);
    let covered: Vec<Window> = out.iter().flat_map(Draft::windows).collect();
    unexplained::detect(store, &covered, &mut out);
    out.into_iter().map(Draft::finish).collect()
}

#[cfg(test)]
mod tests {
    use super::testing::{Given, at, modes};
    use super::*;

    /// A deployment inside another of its host's is told in it; one that
    /// overlaps without being inside, or another host's, stays its own.
    #[test]
    fn a_deployment_inside_another_is_told_in_it() {
        let deployment = |host: &str, from: i64, to: i64, text: &str| {
            Draft::new(FailureMode::Deployment, Severity::Low, 0.9, at(from), at(to))
                .scope(Some(host), None, None)
                .explain(text.to_string())
        };
        let mut out = vec![
            deployment("WEB01", 100, 200, "held."),
            deployment("WEB01", 150, 180, "inside."),
            deployment("WEB01", 190, 300, "overlapping."),
            deployment("WEB02", 150, 180, "elsewhere."),
        ];
        fold_into_deployments(&mut out);
        let told: Vec<&str> = out.iter().map(|d| d.explanation.as_str()).collect();
        assert_eq!(told, ["held. inside.", "overlapping.", "elsewhere."]);
    }

    /// A finding citing more than it lists keeps the first cited (the
    /// cause) and the latest in time, and counts the rest: spaarke's 27
    /// deployments cited only up to the eleventh, and the text sent the
    /// reader to JSON, which held no more.
    #[test]
    fn a_long_finding_cites_its_first_and_its_latest_and_counts_the_rest() {
        let cite = |line: u64| Evidence {
            source: crate::resolve::SourceKind::Eventxml,
            path: "eventlog.xml".into(),
            line: Some(line),
            record: None,
            time: at(line as i64),
            summary: format!("event {line}"),
        };
        let drafted = |n: u64| {
            let mut d = Draft::new(FailureMode::Deployment, Severity::Low, 0.9, at(0), at(n as i64));
            d.cite(cite(n + 1), Role::Cause);
            for line in 1..n {
                d.cite(cite(line), Role::Effect);
            }
            d.finish()
        };
        let f = drafted(150);
        assert_eq!((f.evidence.len(), f.timeline.len(), f.evidence_omitted), (MAX_CITED, MAX_CITED, 50));
        let lines: Vec<u64> = f.evidence.iter().filter_map(|e| e.line).collect();
        assert!(lines.contains(&151), "the cause, cited first");
        assert!(lines.contains(&89) && !lines.contains(&90), "the first cited: {lines:?}");
        assert!((140..150).all(|l| lines.contains(&l)) && !lines.contains(&139), "and the latest: {lines:?}");
        assert!(f.timeline.is_sorted_by_key(|s| s.time));
        let all = drafted(MAX_CITED as u64);
        assert_eq!((all.evidence.len(), all.evidence_omitted), (MAX_CITED, 0), "as many as it lists: all");
    }

    /// Steps of one second and role are told in the order their file wrote
    /// them (the exception ANCM's failed start followed), whatever order
    /// the detector cited them in; causes still come before effects.
    #[test]
    fn steps_of_one_second_keep_their_files_order() {
        let cite = |line: u64, summary: &str| Evidence {
            source: crate::resolve::SourceKind::Eventxml,
            path: "eventlog.xml".into(),
            line: Some(line),
            record: None,
            time: at(0),
            summary: summary.into(),
        };
        let mut d = Draft::new(FailureMode::AncmStartupFailure, Severity::High, 0.9, at(0), at(0));
        d.cite(cite(9, "ANCM 1018"), Role::Cause);
        d.cite(cite(20, "request failed"), Role::Effect);
        d.cite(cite(14, "ANCM 1007"), Role::Cause);
        d.cite(cite(1, ".NET Runtime 1026"), Role::Cause);
        let told: Vec<String> = d.finish().timeline.into_iter().map(|s| s.summary).collect();
        assert_eq!(told, [".NET Runtime 1026", "ANCM 1018", "ANCM 1007", "request failed"]);
        // Many events on one line (an App Service export), their record ids
        // in no order: as cited. An event log's records: by their ids.
        let at_record = |line: Option<u64>, record: u64, summary: &str| Evidence {
            line,
            record: faultline_parser::RecordId::new(record),
            ..cite(0, summary)
        };
        let mut d = Draft::new(FailureMode::AncmStartupFailure, Severity::High, 0.9, at(0), at(0));
        d.cite(at_record(Some(3), 900, "first on the line"), Role::Cause);
        d.cite(at_record(Some(3), 700, "second on the line"), Role::Cause);
        let told: Vec<String> = d.finish().timeline.into_iter().map(|s| s.summary).collect();
        assert_eq!(told, ["first on the line", "second on the line"]);
        let mut d = Draft::new(FailureMode::AncmStartupFailure, Severity::High, 0.9, at(0), at(0));
        d.cite(at_record(None, 900, "later record"), Role::Cause);
        d.cite(at_record(None, 700, "earlier record"), Role::Cause);
        let told: Vec<String> = d.finish().timeline.into_iter().map(|s| s.summary).collect();
        assert_eq!(told, ["earlier record", "later record"]);
    }

    /// A finding resting on detailed error pages only says where its time
    /// came from; one that also cites a log does not.
    #[test]
    fn a_window_from_error_pages_says_it_is_their_files_time() {
        let cite = |source| Evidence {
            source,
            path: "ErrorPage00001.htm".into(),
            line: None,
            record: None,
            time: at(0),
            summary: "error page 500.30".into(),
        };
        let draft = |sources: &[crate::resolve::SourceKind]| {
            let mut d = Draft::new(FailureMode::AncmStartupFailure, Severity::High, 0.65, at(0), at(0))
                .explain("The app did not start.".into());
            for &s in sources {
                d.cite(cite(s), Role::Cause);
            }
            d.finish().explanation
        };
        use crate::resolve::SourceKind::{Errorpage, W3c};
        assert!(draft(&[Errorpage, Errorpage]).contains("which copying the files resets"));
        assert_eq!(draft(&[Errorpage, W3c]), "The app did not start.");
    }

    /// An hour of healthy traffic on WEB01 site 1, a minute a request.
    fn healthy_hour() -> Given {
        let mut e = Given::new();
        for minute in 0..60 {
            e = e.requests(12, "WEB01", 1, minute * 60, "/", (200, 0, 0), 30);
        }
        e
    }

    #[test]
    fn a_spike_no_detector_explains_is_unexplained() {
        let e = healthy_hour().requests(40, "WEB01", 1, 3_600, "/checkout", (500, 0, 0), 30);
        assert_eq!(modes(&e.findings()), [FailureMode::Unexplained]);
    }

    #[test]
    fn a_spike_inside_another_findings_window_is_left_to_it() {
        let e = healthy_hour()
            .requests(40, "WEB01", 1, 3_600, "/checkout", (500, 0, 0), 30)
            .event("WEB01", 3_590, "WAS", 5011, &[("AppPoolID", "ShopPool"), ("ProcessID", "1")])
            .positional("WEB01", 3_589, ".NET Runtime", 1026, &["Exception Info: System.Exception: x"])
            .in_channel("WEB01", 0, "Service Control Manager", 7036, "System");
        assert_eq!(modes(&e.findings()), [FailureMode::WorkerCrash]);
    }

    #[test]
    fn windows_cover_their_host_or_every_host_with_a_margin() {
        let w = Window { host: Some("WEB01".into()), start: at(100), end: at(200) };
        assert!(w.covers("WEB01", at(250), at(300), Span::secs(60)));
        assert!(!w.covers("WEB01", at(261), at(300), Span::secs(60)));
        assert!(!w.covers("WEB02", at(150), at(160), Span::secs(60)));
        let farm = Window { host: None, ..w };
        assert!(farm.covers("WEB02", at(150), at(160), Span::default()));
    }

    #[test]
    fn clusters_break_on_gaps_longer_than_asked() {
        let times = [0, 5, 10, 100, 104, 300];
        let got = clusters(times.to_vec(), |s| at(*s), Span::secs(10));
        assert_eq!(got, [vec![0, 5, 10], vec![100, 104], vec![300]]);
    }
}
