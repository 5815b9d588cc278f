//! The whole job: read every source once (inventory and analysis from the
//! same pass), then analyze.

use std::convert::Infallible;
use std::path::PathBuf;

use faultline_parser::{Entry, Outcome, ReadConfig, Tee};

use crate::correlate::relate_across_hosts;
use crate::detect;
use crate::evidence::{Collector, Kept, Store};
use crate::finding::Finding;
use crate::inventory::{FileSummary, Inventory, Tally, summarize, summarize_problem};
use crate::pass::{self, Consumer, Progress};
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
}

/// The analysis' consumer of the pass: an inventory row and the kept
/// evidence of every file.
struct Analyze<'a> {
    scope: &'a Scope,
}

impl Consumer for Analyze<'_> {
    type Error = Infallible;
    type Sink<'c>
        = Tee<Tally, Collector<'c>>
    where
        Self: 'c;
    type Part = Vec<(FileSummary, SourceFile, Kept)>;
    type Output = Self::Part;

    fn sink(&self, file: SourceFile) -> Self::Sink<'_> {
        Tee::new(Tally::default(), Collector::new(file, self.scope))
    }

    fn file_read<'c>(
        &'c self,
        part: &mut Self::Part,
        file: SourceFile,
        entry: &Entry,
        read: Outcome<Self::Sink<'c>>,
    ) -> Result<(), Infallible> {
        // The tallies make the inventory row, the collectors the evidence.
        let mut kept = Kept::default();
        let read = match read {
            Outcome::Parsed { format, sinks } => {
                let mut tallies = Vec::with_capacity(sinks.len());
                for sink in sinks {
                    let (tally, collector) = sink.into_parts();
                    tallies.push(tally);
                    kept.absorb(collector.finish());
                }
                Outcome::Parsed { format, sinks: tallies }
            }
            Outcome::Skipped(reason) => Outcome::Skipped(reason),
            Outcome::Failed(e) => Outcome::Failed(e),
        };
        part.push((summarize(&file, entry, read), file, kept));
        Ok(())
    }

    fn part_done(&self, _index: usize, part: Self::Part) -> Result<Self::Part, Infallible> {
        Ok(part)
    }
}

/// Reads `paths` and analyzes them.
pub fn analyze(paths: &[PathBuf], read: &ReadConfig, scope: &Scope, progress: &dyn Progress) -> Report {
    let Ok(pass) = pass::run(paths, read, &scope.hosts, &Analyze { scope }, progress);
    let mut files = Vec::with_capacity(pass.reading.found + pass.problems.len());
    let mut sources = Vec::with_capacity(pass.reading.found);
    let mut kept = Vec::with_capacity(pass.reading.found);
    for (summary, source, k) in pass.outputs.into_iter().flatten() {
        files.push(summary);
        sources.push(source);
        kept.push(k);
    }
    files.extend(pass.problems.iter().map(summarize_problem));
    let store = Store::new(sources, kept);
    let findings = findings(&store);
    Report { inventory: Inventory { files }, store, findings }
}

/// Runs every detector; findings come most important first, and those on
/// several hosts that are one incident name each other.
fn findings(store: &Store) -> Vec<Finding> {
    let mut findings = detect::run(store);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.start.cmp(&b.start))
            .then(a.id.id().cmp(b.id.id()))
    });
    relate_across_hosts(&mut findings);
    findings
}
