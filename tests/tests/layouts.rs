//! The same incident, handed over in every shape responders receive it in
//! (a per-host bundle, KAPE with and without a host folder, Velociraptor and
//! CyLR zips, an App Service download), gives the same findings on the same
//! hosts, and no file or finding is ever filed under a host that is not a
//! server in the evidence.

use std::collections::BTreeSet;
use std::path::Path;

use faultline_analyzer::identity::{HostOverrides, HostSource};
use faultline_analyzer::{Report, Scope, analyze};
use faultline_corpus::layout::{LAYOUTS, Layout};
use faultline_corpus::scenario::{Size, generate_in};
use faultline_parser::ReadConfig;

const SIZE: Size = Size { hosts: 1, hours: 2, rate: 0.2 };

/// Scenarios with one server, a farm, a farm with a SQL Server host, and
/// evidence of every source kind (FREB traces, HTTP.sys logs, event logs).
const SCENARIOS: [&str; 5] =
    ["crash-and-queue-full", "worker-crash", "db-login-failure", "config-error", "ancm-startup-failure"];

type Found = BTreeSet<(String, Option<String>, Option<String>)>;

fn findings(report: &Report, with_site: bool) -> Found {
    report
        .findings
        .iter()
        .map(|f| (f.id.id().to_string(), f.scope.host.clone(), f.scope.site.clone().filter(|_| with_site)))
        .collect()
}

fn read(dir: &Path) -> Report {
    analyze(&[dir.to_path_buf()], &ReadConfig::default(), &Scope::default(), &|_| {})
}

/// The hosts a scenario has: the host folders of its plain bundle.
fn servers(bundle: &Path) -> BTreeSet<String> {
    std::fs::read_dir(bundle)
        .expect("reads")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_layout_gives_the_same_findings_on_the_same_hosts() {
    let mut wrong = Vec::new();
    for scenario in SCENARIOS {
        let plain = tempfile::tempdir().expect("tempdir");
        generate_in(scenario, plain.path(), 7, &SIZE, Layout::Bundle).expect("generates");
        let hosts = servers(plain.path());
        let baseline = read(plain.path());
        assert!(!baseline.findings.is_empty(), "{scenario}: the plain bundle has findings");
        for layout in LAYOUTS.into_iter().filter(|l| *l != Layout::Bundle) {
            let dir = tempfile::tempdir().expect("tempdir");
            generate_in(scenario, dir.path(), 7, &SIZE, layout).expect("generates");
            let report = read(dir.path());
            for f in report.inventory.files.iter().filter(|f| f.format.is_some()) {
                let host = f.host.as_deref().unwrap_or("-");
                if !hosts.contains(host) {
                    wrong.push(format!("{scenario} {}: {} filed under {host}", layout.name(), f.path));
                }
            }
            if layout == Layout::AppService {
                // No HTTP.sys log and no site folders: what App Service keeps
                // gives a subset of the findings, on the same hosts.
                let (got, all) = (findings(&report, false), findings(&baseline, false));
                if got.is_empty() || !got.is_subset(&all) {
                    wrong.push(format!("{scenario} appservice: {got:?} not within {all:?}"));
                }
                continue;
            }
            let (got, want) = (findings(&report, true), findings(&baseline, true));
            if got != want {
                wrong.push(format!("{scenario} {}: {got:?} != {want:?}", layout.name()));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `scan` of a Velociraptor collection lists the real host for every file,
/// named by the collection's metadata or the file's own records.
#[test]
fn a_velociraptor_collection_names_its_host_for_every_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate_in("crash-and-queue-full", dir.path(), 3, &SIZE, Layout::Velociraptor).expect("generates");
    let inventory = faultline_analyzer::inventory::scan(
        &[dir.path().to_path_buf()],
        &ReadConfig::default(),
        &Default::default(),
        &|_| {},
    );
    let read: Vec<_> = inventory.files.iter().filter(|f| f.format.is_some()).collect();
    assert!(read.len() >= 8, "{} files", read.len());
    for f in read {
        let host = f.host.as_deref().unwrap_or("-");
        assert!(host == "WEB01" || host == "WEB02", "{}: {host}", f.path);
        assert!(f.path.contains(&format!("Collection-{}.", host.to_ascii_lowercase())), "{}: {host}", f.path);
        assert!(
            matches!(f.host_source, Some(HostSource::Metadata | HostSource::Record)),
            "{}: {:?}",
            f.path,
            f.host_source
        );
        assert_eq!(
            f.host_fqdn.as_deref(),
            Some(format!("{}.contoso.local", host.to_ascii_lowercase()).as_str())
        );
    }
}

/// The analyst's `--host` wins over what the evidence says, for the path
/// named and nothing else.
#[test]
fn a_named_host_overrides_the_evidence_for_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate_in("crash-and-queue-full", dir.path(), 3, &SIZE, Layout::KapeRootless).expect("generates");
    let mut hosts = HostOverrides::default();
    hosts.insert("FRONT-A", dir.path().join("1"));
    let inventory = faultline_analyzer::inventory::scan(
        &[dir.path().to_path_buf()],
        &ReadConfig::default(),
        &hosts,
        &|_| {},
    );
    let mut seen = BTreeSet::new();
    for f in inventory.files.iter().filter(|f| f.format.is_some()) {
        let host = f.host.clone().unwrap_or_default();
        if f.path.contains("/1/C/") {
            assert_eq!((host.as_str(), f.host_source), ("FRONT-A", Some(HostSource::Override)), "{}", f.path);
        } else {
            assert_eq!(host, "WEB02", "{}", f.path);
        }
        seen.insert(host);
    }
    assert_eq!(seen, BTreeSet::from(["FRONT-A".to_string(), "WEB02".to_string()]));
    let scope = Scope { hosts, ..Scope::default() };
    let report = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &scope, &|_| {});
    let on: BTreeSet<_> = report.findings.iter().filter_map(|f| f.scope.host.clone()).collect();
    assert_eq!(on, BTreeSet::from(["FRONT-A".to_string(), "WEB02".to_string()]));
}
