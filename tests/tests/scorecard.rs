//! The scorecard: every corpus scenario, generated fresh, must be answered
//! with its expected failure-mode ids first and none of its look-alikes; a
//! healthy day must yield no findings.

#![allow(clippy::print_stderr)] // the scorecard is printed for the reader

use faultline_analyzer::{AnalysisConfig, analyze};
use faultline_corpus::scenario::{SCENARIOS, Size, generate};
use faultline_parser::ReadConfig;

/// Ids in order of first appearance.
fn distinct(ids: impl Iterator<Item = &'static str>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

#[test]
fn every_scenario_is_answered_right() {
    let size = Size { hosts: 1, hours: 3, rate: 0.3 };
    let mut wrong = Vec::new();
    let mut lines = Vec::new();
    for (def, seed) in SCENARIOS.iter().flat_map(|d| [5u64, 17, 29].map(|s| (d, s))) {
        let dir = tempfile::tempdir().expect("tempdir");
        let truth = generate(def.name, dir.path(), seed, &size).expect("generates");
        let report =
            analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &AnalysisConfig::default(), &|_| {});
        let found = distinct(report.findings.iter().map(|f| f.id));
        let leads =
            found.len() >= truth.expected.len() && found[..truth.expected.len()] == truth.expected[..];
        let exact_healthy = !truth.expected.is_empty() || found.is_empty();
        let lookalikes: Vec<&&str> = truth.lookalikes.iter().filter(|l| found.contains(l)).collect();
        let right = leads && exact_healthy && lookalikes.is_empty();
        lines.push(format!(
            "{} {:<28} seed {seed:<3} expected {:?} found {:?}",
            if right { "ok  " } else { "FAIL" },
            def.name,
            truth.expected,
            found
        ));
        if !right {
            wrong.push((def.name, seed));
        }
    }
    eprintln!("scorecard: {} of {} generated scenarios right", lines.len() - wrong.len(), lines.len());
    for l in &lines {
        eprintln!("  {l}");
    }
    assert!(wrong.is_empty(), "wrong answers: {wrong:?}\n{}", lines.join("\n"));
}

/// A burst of server errors that no failure mode explains stays visible.
#[test]
fn unexplained_error_spikes_are_reported_with_their_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("WEB09/inetpub/logs/LogFiles/W3SVC4");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time cs-method cs-uri-stem sc-status sc-substatus sc-win32-status time-taken\r\n",
    );
    for i in 0..360 {
        log.push_str(&format!("2025-11-24 10:{:02}:{:02} GET /ok 200 0 0 12\r\n", i / 6, (i % 6) * 10));
    }
    for i in 0..60 {
        log.push_str(&format!("2025-11-24 11:00:{:02} GET /checkout 500 0 0 30\r\n", i));
    }
    std::fs::write(logs.join("u_ex251124.log"), log).expect("write");
    let report =
        analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &AnalysisConfig::default(), &|_| {});
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.id, "unexplained");
    assert_eq!(f.scope.host.as_deref(), Some("WEB09"));
    assert_eq!(f.scope.site.as_deref(), Some("4"));
    assert!(f.evidence.iter().all(|e| e.summary.contains("/checkout 500.0")), "{:?}", f.evidence);
    assert!(f.evidence[0].line.is_some());
}
