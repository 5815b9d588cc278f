//! The whole job: discover the evidence, read every source once in parallel
//! (inventory and analysis from the same pass), analyze.

use std::path::PathBuf;

use faultline_parser::{ReadConfig, Tee, discover, read_entry};
use rayon::prelude::*;

use crate::analysis::Analysis;
use crate::evidence::Collector;
use crate::finding::Finding;
use crate::inventory::{Inventory, Tally, summarize, summarize_problem};
use crate::resolve::SourceFile;
use crate::scope::Scope;

/// The inventory and the analysis of one run.
#[derive(Debug)]
pub struct Report {
    /// What was read.
    pub inventory: Inventory,
    /// What was kept.
    pub analysis: Analysis,
    /// Findings, most important first.
    pub findings: Vec<Finding>,
}

/// Reads `paths` and analyzes them.
pub fn analyze(
    paths: &[PathBuf],
    read: &ReadConfig,
    scope: &Scope,
    progress: &(dyn Fn(u64) + Sync),
) -> Report {
    let found = discover(paths, &read.limits);
    let results: Vec<(crate::inventory::FileSummary, SourceFile, Collector<'_>)> = found
        .entries
        .par_iter()
        .enumerate()
        .map(|(i, entry)| {
            let base = SourceFile::new(i as u32, entry, None);
            let Ok(outcome) = read_entry(entry, read, progress, |format| {
                Tee::new(Tally::default(), Collector::new(base.with_format(format), scope))
            });
            // Split the outcome: the tallies make the inventory row, the
            // collectors the analysis.
            let (outcome, collectors) = match outcome {
                faultline_parser::Outcome::Parsed { format, sinks } => {
                    let (tallies, collectors): (Vec<_>, Vec<_>) =
                        sinks.into_iter().map(Tee::into_parts).unzip();
                    (faultline_parser::Outcome::Parsed { format, sinks: tallies }, collectors)
                }
                faultline_parser::Outcome::Skipped(r) => (faultline_parser::Outcome::Skipped(r), Vec::new()),
                faultline_parser::Outcome::Failed(e) => (faultline_parser::Outcome::Failed(e), Vec::new()),
            };
            let summary = summarize(entry, outcome);
            let info = match summary.format {
                Some(format) => base.with_format(format),
                None => base,
            };
            let mut merged = Collector::new(info.clone(), scope);
            for c in collectors {
                merged.absorb(c);
            }
            (summary, info, merged)
        })
        .collect();
    let mut files = Vec::with_capacity(results.len());
    let mut sources = Vec::with_capacity(results.len());
    let mut collectors = Vec::with_capacity(results.len());
    for (summary, info, collector) in results {
        files.push(summary);
        sources.push(info);
        collectors.push(collector);
    }
    files.extend(found.problems.iter().map(summarize_problem));
    let analysis = Analysis::new(sources, collectors);
    let findings = analysis.findings();
    Report { inventory: Inventory { files }, analysis, findings }
}
