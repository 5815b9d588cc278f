//! Every scenario generates deterministically from its seed, and every file
//! it writes is read back by faultline's own parsers with nothing rejected.

use std::collections::BTreeMap;
use std::path::Path;

use faultline_analyzer::finding::FailureMode;
use faultline_corpus::scenario::{SCENARIOS, Size, generate};
use faultline_parser::{
    ArchiveLimits, Diagnostic, HttpError, Outcome, ReadConfig, RecordSink, Request, discover, read_entry,
};

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).expect("prefix").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

#[derive(Default, Debug)]
struct Count {
    records: u64,
    problems: Vec<String>,
}

impl RecordSink for Count {
    type Error = std::convert::Infallible;
    fn request(&mut self, _r: &Request<'_>) -> Result<(), Self::Error> {
        self.records += 1;
        Ok(())
    }
    fn http_error(&mut self, _r: &HttpError<'_>) -> Result<(), Self::Error> {
        self.records += 1;
        Ok(())
    }
    fn trace(&mut self, _t: &faultline_parser::Trace) -> Result<(), Self::Error> {
        self.records += 1;
        Ok(())
    }
    fn event(&mut self, _e: faultline_parser::WinEvent) -> Result<(), Self::Error> {
        self.records += 1;
        Ok(())
    }
    fn counted_events(&mut self, k: faultline_parser::CountedEvents<'_>) -> Result<(), Self::Error> {
        self.records += k.records;
        Ok(())
    }
    fn diagnostic(&mut self, d: Diagnostic) {
        self.problems.push(format!("{:?} {}", d.location, d.message));
    }
}

const SMALL: Size = Size { hosts: 1, hours: 2, rate: 0.2 };

#[test]
fn scenarios_are_deterministic_and_read_back_cleanly() {
    for def in SCENARIOS {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let truth = generate(def.name, a.path(), 11, &SMALL).expect("generates");
        generate(def.name, b.path(), 11, &SMALL).expect("generates");
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>(), "{}", def.name);
        assert!(fa == fb, "{}: same seed, different bytes", def.name);
        assert!(fa.contains_key("truth.json"), "{}", def.name);
        assert_eq!(truth.scenario, def.name);
        if def.name != "healthy" {
            let answered = !truth.expected.is_empty() || !truth.techniques.is_empty();
            assert!(answered && truth.window.is_some(), "{}", def.name);
        }

        let found = discover(&[a.path().to_path_buf()], &ArchiveLimits::default());
        assert!(found.problems.is_empty(), "{}: {:?}", def.name, found.problems);
        let mut evidence = 0;
        for entry in &found.entries {
            let name = entry.path.to_string();
            let Ok(outcome) = read_entry(entry, &ReadConfig::default(), &|_| {}, |_| Count::default());
            match outcome {
                Outcome::Parsed { sinks, .. } => {
                    evidence += 1;
                    let problems: Vec<String> = sinks.iter().flat_map(|s| s.problems.clone()).collect();
                    assert!(problems.is_empty(), "{}: {name}: {problems:?}", def.name);
                    assert!(
                        sinks.iter().map(|s| s.records).sum::<u64>() > 0,
                        "{}: {name} is empty",
                        def.name
                    );
                }
                Outcome::Skipped(reason) => assert!(name.ends_with("truth.json"), "{name} skipped: {reason}"),
                other => panic!("{}: {name}: {other:?}", def.name),
            }
        }
        assert!(evidence >= 4, "{}: only {evidence} evidence files", def.name);
    }
}

#[test]
fn different_seeds_differ() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    generate("worker-crash", a.path(), 1, &SMALL).expect("generates");
    generate("worker-crash", b.path(), 2, &SMALL).expect("generates");
    assert!(files(a.path()) != files(b.path()));
}

/// The scenarios committed under corpus/scenarios are exactly what the
/// generator writes for the seed and size in their truth.json.
#[test]
fn committed_scenarios_are_the_generators_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).expect("scenarios folder") {
        let dir = entry.expect("entry").path();
        let Ok(truth) = std::fs::read_to_string(dir.join("truth.json")) else { continue };
        let truth: serde_json::Value = serde_json::from_str(&truth).expect("truth.json is JSON");
        let name = truth["scenario"].as_str().expect("scenario");
        let seed = truth["seed"].as_u64().expect("seed");
        let size = Size {
            hosts: truth["size"]["hosts"].as_u64().expect("hosts") as usize,
            hours: truth["size"]["hours"].as_u64().expect("hours") as u32,
            rate: truth["size"]["rate"].as_f64().expect("rate"),
        };
        let fresh = tempfile::tempdir().expect("tempdir");
        generate(name, fresh.path(), seed, &size).expect("generates");
        assert!(
            files(&dir) == files(fresh.path()),
            "{}: differs from the generator's output; regenerate it with\n  cargo run -p faultline-corpus -- generate --scenario {name} --out corpus/scenarios/{name} --seed {seed} --hosts {} --hours {} --rate {}",
            dir.display(),
            size.hosts,
            size.hours,
            size.rate
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} committed scenarios");
}

/// Every failure mode the analyzer can name, but `unexplained` (which is
/// what is left when none fits).
fn failure_modes() -> impl Iterator<Item = &'static str> {
    FailureMode::ALL.iter().filter(|m| **m != FailureMode::Unexplained).map(|m| m.id())
}

#[test]
fn every_failure_mode_has_a_scenario_that_leads_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    for id in failure_modes() {
        let def = SCENARIOS.iter().find(|s| s.name == id).unwrap_or_else(|| panic!("no scenario for {id}"));
        let out = dir.path().join(id);
        let truth = generate(def.name, &out, 3, &SMALL).expect("generates");
        assert_eq!(truth.expected.first(), Some(&id), "{id}");
        assert!(!truth.lookalikes.contains(&id), "{id} is its own look-alike");
        assert!(
            truth.lookalikes.iter().all(|l| FailureMode::from_id(l).is_some()),
            "{id}: unknown look-alike in {:?}",
            truth.lookalikes
        );
        assert!(truth.expected.iter().all(|e| FailureMode::from_id(e).is_some()), "{id}");
    }
}
