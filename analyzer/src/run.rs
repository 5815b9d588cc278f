//! The whole job: discover the evidence, read every source once in parallel
//! (inventory and analysis from the same pass), analyze.

use std::path::PathBuf;
use std::sync::Arc;

use faultline_parser::source::{host_from_path, site_from_path};
use faultline_parser::{Format, ReadConfig, Tee, discover, read_entry};
use rayon::prelude::*;

use crate::analysis::{Analysis, AnalysisConfig};
use crate::evidence::{Collector, SourceInfo};
use crate::finding::{Finding, SourceKind};
use crate::inventory::{Inventory, Tally, summarize, summarize_problem};

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

fn kind(format: Option<Format>) -> SourceKind {
    match format {
        Some(Format::Httperr) => SourceKind::Httperr,
        Some(Format::Freb) => SourceKind::Freb,
        Some(Format::Evtx) => SourceKind::Evtx,
        Some(Format::EventXml) => SourceKind::Eventxml,
        _ => SourceKind::W3c,
    }
}

/// Reads `paths` and analyzes them.
pub fn analyze(
    paths: &[PathBuf],
    read: &ReadConfig,
    config: &AnalysisConfig,
    progress: &(dyn Fn(u64) + Sync),
) -> Report {
    let found = discover(paths, &read.limits);
    let results: Vec<(crate::inventory::FileSummary, SourceInfo, Collector)> = found
        .entries
        .par_iter()
        .enumerate()
        .map(|(i, entry)| {
            let components = entry.path.components();
            let base = SourceInfo {
                index: i as u32,
                path: Arc::from(entry.path.to_string()),
                kind: SourceKind::W3c,
                host: host_from_path(&components).map(|h| Arc::from(h.to_ascii_uppercase())),
                site: site_from_path(&components),
            };
            let Ok(outcome) = read_entry(entry, read, progress, |_| {
                Tee::new(Tally::default(), Collector::new(base.clone()))
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
            let info = SourceInfo { kind: kind(summary.format), ..base };
            let mut merged = Collector::new(info.clone());
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
    let analysis = Analysis::new(sources, collectors, config);
    let findings = analysis.findings();
    Report { inventory: Inventory { files }, analysis, findings }
}
