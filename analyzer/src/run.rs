//! The whole job: read every source once (inventory and analysis from the
//! same pass), then analyze.

use std::convert::Infallible;
use std::path::PathBuf;

use faultline_parser::{Entry, Outcome, ReadConfig, Span, Tee, Timestamp};

use crate::clock::{ClockStep, clock_steps, doubt_findings};
use crate::correlate::relate_across_hosts;
use crate::detect;
use crate::evidence::{Collector, Kept, Store};
use crate::finding::Finding;
use crate::hunting::{Detection, Hunt, HuntSink, Pending};
use crate::inventory::{FileSummary, Inventory, Tally, summarize, summarize_problem};
use crate::pass::{self, Consumer, Progress};
use crate::renames::{Rename, renames};
use crate::resolve::SourceFile;
use crate::scope::Scope;

/// The inventory and the analysis of one run.
#[derive(Debug)]
pub struct Report {
    /// What was read.
    pub inventory: Inventory,
    /// What was kept.
    pub store: Store,
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// What the security lens found, in time order; never findings.
    pub detections: Vec<Detection>,
    /// Steps of the hosts' clocks, in time order: the times they make
    /// doubtful are said in the findings they touch.
    pub clock_steps: Vec<ClockStep>,
    /// Machines renamed, in time order: one machine's names.
    pub renames: Vec<Rename>,
    /// The time window the analyst asked for (`--from`, `--to`): evidence
    /// outside it was read and counted but not analyzed.
    pub window: Window,
}

/// A time window, either end open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    /// Only evidence at or after this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    /// Only evidence before this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Timestamp>,
}

impl Window {
    /// Whether the analyst narrowed the evidence at all.
    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    /// Whether evidence spanning `first..=last` lies wholly outside it.
    pub fn misses(&self, first: Timestamp, last: Timestamp) -> bool {
        self.from.is_some_and(|from| last < from) || self.to.is_some_and(|to| first >= to)
    }
}

impl Report {
    /// What a reader needs before the findings, one line each: which
    /// hosts are one machine renamed, and which clocks stepped (times as
    /// `time` writes them).
    pub fn header_notes(&self, time: &dyn Fn(Timestamp) -> String) -> Vec<String> {
        crate::clock::header_notes(&self.renames, &self.clock_steps, time)
    }

    /// How many incidents the findings are (see [`crate::correlate::incidents`]).
    pub fn incidents(&self) -> usize {
        crate::correlate::incidents(&self.findings)
    }
}

/// What a task's files gave: an inventory row and the source of each, and
/// their kept evidence and the lens's findings merged as each file is read,
/// in file order (as the store and the lens merge them at the end). Held
/// per file, a run over 300,000 small archive members kept 8 KB each.
#[derive(Debug, Default)]
struct Analyzed {
    files: Vec<(FileSummary, SourceFile)>,
    kept: Kept,
    detections: Vec<Detection>,
    pending: Pending,
}

/// The analysis' consumer of the pass: an inventory row and the kept
/// evidence of every file.
struct Analyze<'a> {
    scope: &'a Scope,
    hunt: &'a Hunt,
    /// The user asked for every event (`--all-events`).
    every_event: bool,
}

impl Consumer for Analyze<'_> {
    type Error = Infallible;
    type Sink<'c>
        = Tee<HuntSink<'c>, Tee<Tally, Collector<'c>>>
    where
        Self: 'c;
    type Part = Analyzed;
    type Output = Self::Part;

    fn sink(&self, file: SourceFile) -> Self::Sink<'_> {
        let hunting = HuntSink::new(self.hunt, file.clone(), self.scope);
        let collector = Collector::new(file, self.scope).keeping_every_event(self.every_event);
        Tee::new(hunting, Tee::new(Tally::default(), collector))
    }

    fn file_read<'c>(
        &'c self,
        part: &mut Self::Part,
        file: SourceFile,
        entry: &Entry,
        read: Outcome<Self::Sink<'c>>,
    ) -> Result<(), Infallible> {
        // The tallies make the inventory row, the collectors the evidence.
        let read = match read {
            Outcome::Parsed { format, sinks, bytes } => {
                let mut tallies = Vec::with_capacity(sinks.len());
                for sink in sinks {
                    let (hunting, analysis) = sink.into_parts();
                    let (tally, collector) = analysis.into_parts();
                    let (found, scripts) = hunting.finish();
                    part.detections.extend(found);
                    part.pending.absorb(scripts);
                    tallies.push(tally);
                    part.kept.absorb(collector.finish());
                }
                Outcome::Parsed { format, sinks: tallies, bytes }
            }
            Outcome::Skipped(reason) => Outcome::Skipped(reason),
            Outcome::Failed(e) => Outcome::Failed(e),
        };
        let mut summary = summarize(&file, entry, read);
        // A host whose clock the analyst corrected is no longer in local time.
        summary.local_time &=
            summary.host.as_deref().is_none_or(|h| self.scope.skew.peek(h) == Span::default());
        part.files.push((summary, file));
        Ok(())
    }

    fn part_done(&self, _index: usize, part: Self::Part) -> Result<Self::Part, Infallible> {
        Ok(part)
    }
}

/// Reads `paths` and analyzes them.
pub fn analyze(paths: &[PathBuf], read: &ReadConfig, scope: &Scope, progress: &dyn Progress) -> Report {
    analyze_and_hunt(paths, read, scope, &Hunt::none(), progress)
}

/// Reads `paths` once: analyzes them, and hunts them with `hunt`'s rules
/// (the security lens, whose detections never become findings).
pub fn analyze_and_hunt(
    paths: &[PathBuf],
    read: &ReadConfig,
    scope: &Scope,
    hunt: &Hunt,
    progress: &dyn Progress,
) -> Report {
    let Ok(pass) = pass::run(
        paths,
        &hunt.reading(read),
        &scope.hosts,
        &Analyze { scope, hunt, every_event: read.all_events },
        progress,
    );
    progress.phase("analysing");
    let mut files = Vec::with_capacity(pass.reading.found + pass.problems.len());
    let mut sources = Vec::with_capacity(pass.reading.found);
    let mut kept = Vec::with_capacity(pass.outputs.len());
    let mut found = Vec::with_capacity(pass.outputs.len());
    for part in pass.outputs {
        for (summary, source) in part.files {
            files.push(summary);
            sources.push(source);
        }
        kept.push(part.kept);
        found.push((part.detections, part.pending));
    }
    files.extend(pass.problems.iter().map(summarize_problem));
    let store = Store::new(sources, kept);
    // The detectors run on one core; the lens's correlations and sorts,
    // done in the meantime, take the other.
    let renames = renames(&store);
    let (mut findings, detections) = rayon::join(|| findings(&store, &renames), || hunt.conclude(found));
    relate_detections(&mut findings, &detections);
    let clock_steps = clock_steps(&store);
    doubt_findings(&mut findings, &clock_steps);
    let window = Window { from: scope.from, to: scope.to };
    Report { inventory: Inventory { files }, store, findings, detections, clock_steps, renames, window }
}

/// Ties each finding to the detections (medium or above) on its host from
/// an hour before it to its end: an intrusion that may explain an outage.
fn relate_detections(findings: &mut [Finding], detections: &[Detection]) {
    for f in findings.iter_mut() {
        let Some(host) = f.scope.host.as_deref() else { continue };
        let from = f.start - faultline_parser::Span::hours(1);
        f.detections = detections
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.host == host
                    && d.time >= from
                    && d.time <= f.end
                    && d.rule.meta.level >= faultline_hunt::Level::Medium
            })
            .map(|(i, _)| i + 1)
            .collect();
    }
}

/// Runs every detector; findings come most important first, and those on
/// several hosts that are one incident name each other.
fn findings(store: &Store, renames: &[crate::renames::Rename]) -> Vec<Finding> {
    let mut findings = detect::run(store);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.ongoing.cmp(&a.ongoing))
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.start.cmp(&b.start))
            .then(a.id.id().cmp(b.id.id()))
    });
    relate_across_hosts(&mut findings, &crate::renames::Machines::of(renames));
    findings
}
