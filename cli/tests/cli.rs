//! The `faultline` binary end to end: output snapshots, exit codes, and
//! agreement between thread counts and between a folder and its zip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The real samples (`FAULTLINE_SAMPLES`, taken from the workspace root
/// when relative); unset or not a folder, the caller's check says loudly
/// that it was skipped, naming `what`.
#[allow(clippy::print_stderr)] // a check that cannot run says so
fn samples(what: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("FAULTLINE_SAMPLES") else {
        eprintln!("SKIPPED: FAULTLINE_SAMPLES is not set; {what}");
        return None;
    };
    let dir = workspace().join(dir);
    if !dir.is_dir() {
        eprintln!("SKIPPED: FAULTLINE_SAMPLES names {}, not a folder; {what}", dir.display());
        return None;
    }
    Some(dir)
}

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(workspace())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const QUICKSTART: &str = "corpus/scenarios/quickstart";

#[test]
fn scan_text_of_the_quickstart_bundle() {
    let out = faultline(&["scan", QUICKSTART]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn scan_json_of_the_quickstart_bundle() {
    let out = faultline(&["scan", "--format", "json", QUICKSTART]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    insta::assert_json_snapshot!(value);
}

#[test]
fn one_thread_and_many_give_identical_output() {
    let mut inputs = vec![QUICKSTART.to_string()];
    if let Some(samples) = samples("the real samples were not read on one thread and many") {
        inputs.push(samples.display().to_string());
    }
    let run = |threads: &str, chunk: &str| {
        let mut args = vec!["scan", "--format", "json", "--threads", threads, "--chunk-size", chunk];
        args.extend(inputs.iter().map(String::as_str));
        let out = faultline(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        out.stdout
    };
    let one = run("1", "8192");
    assert_eq!(one, run("4", "1"));
    assert_eq!(one, run("2", "3"));
}

#[test]
fn a_zipped_bundle_reads_like_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip_path = dir.path().join("case-1234.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("create"));
    let root = workspace().join(QUICKSTART);
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() { stack.push(p) } else { files.push(p) }
        }
    }
    files.sort();
    for f in &files {
        let name = f.strip_prefix(&root).expect("prefix").to_string_lossy().replace('\\', "/");
        zip.start_file(name, zip::write::SimpleFileOptions::default()).expect("start");
        zip.write_all(&std::fs::read(f).expect("read")).expect("write");
    }
    zip.finish().expect("finish");

    let records = |path: &str| -> Vec<(String, u64, u64, String)> {
        let out = faultline(&["scan", "--format", "json", path]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v.as_array()
            .expect("array")
            .iter()
            .map(|f| {
                (
                    f["host"].as_str().unwrap_or("-").to_string(),
                    f["records"].as_u64().unwrap_or(0),
                    f["rejected"].as_u64().unwrap_or(0),
                    f["first"].as_str().unwrap_or("-").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(records(&zip_path.display().to_string()), records(QUICKSTART));
}

#[test]
fn a_missing_path_is_named_and_the_rest_is_read() {
    let out = faultline(&["scan", QUICKSTART, "no/such/dir"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("error: no/such/dir: no such file or directory"), "{}", stderr(&out));
    // In JSON, the missing input is failed, with why, and on no host (its
    // folder names gave one called SUCH).
    for command in ["scan", "analyze"] {
        let out = faultline(&[command, "--format", "json", QUICKSTART, "no/such/dir"]);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let inputs = if command == "scan" { &doc } else { &doc["inputs"] };
        let missing = inputs
            .as_array()
            .and_then(|a| a.iter().find(|f| f["path"] == "no/such/dir"))
            .unwrap_or_else(|| panic!("{command}: {doc}"));
        assert_eq!(missing["status"], "failed", "{command}: {missing}");
        assert_eq!(missing["reason"], "no such file or directory", "{command}: {missing}");
        assert!(missing["host"].is_null(), "{command}: {missing}");
        let read = inputs.as_array().map_or(0, |a| a.iter().filter(|f| f["status"] == "parsed").count());
        assert_eq!(read, 3, "{command}: {doc}");
    }
}

#[test]
fn nothing_readable_exits_2() {
    let out = faultline(&["scan", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("error: no/such/dir: no such file or directory"), "{err}");
    assert!(err.contains("none of the inputs holds IIS evidence"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("notes.txt"), "meeting notes\n").expect("write");
    let out = faultline(&["scan", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("skipped notes.txt: text, but not an IIS, HTTP.sys or event log"),
        "{}",
        stdout(&out)
    );
    // A report over nothing must not read like a healthy server's.
    for command in ["analyze", "hunt"] {
        for format in ["text", "markdown"] {
            let out = faultline(&[command, "--format", format, &dir.path().display().to_string()]);
            assert_eq!(out.status.code(), Some(2), "{command} {format}");
            let said = stdout(&out);
            assert!(
                said.contains("Nothing to judge: none of the inputs holds evidence"),
                "{command} {format}: {said}"
            );
            assert!(
                !said.contains("No findings") && !said.contains("No detections"),
                "{command} {format}: {said}"
            );
        }
    }
}

/// Every command names what it could not read and reads the rest; with
/// nothing readable it exits 2, as `scan` and `analyze` do.
#[test]
fn every_command_names_unreadable_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("notes.txt"), "meeting notes\n").expect("write");
    let notes = dir.path().display().to_string();
    let export_to = dir.path().join("out").display().to_string();
    let commands: [Vec<&str>; 3] = [
        vec!["timeline"],
        vec!["query", "--query", "status-codes"],
        vec!["export", "--to", export_to.as_str()],
    ];
    for command in commands {
        let mut args = command.clone();
        args.extend([QUICKSTART, "no/such/dir"]);
        let out = faultline(&args);
        assert_eq!(out.status.code(), Some(0), "{command:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("error: no/such/dir: no such file or directory"),
            "{command:?}: {}",
            stderr(&out)
        );
        let _ = std::fs::remove_dir_all(&export_to);
        let mut args = command.clone();
        args.extend(["no/such/dir", notes.as_str()]);
        let out = faultline(&args);
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        assert!(
            stderr(&out).contains("none of the inputs holds IIS evidence"),
            "{command:?}: {}",
            stderr(&out)
        );
        let _ = std::fs::remove_dir_all(&export_to);
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(faultline(&["scan"]).status.code(), Some(2));
    assert_eq!(faultline(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(faultline(&["scan", "--format", "yaml", QUICKSTART]).status.code(), Some(2));
    // A pool of a hundred thousand threads ran past a minute before reading.
    for threads in ["0", "5000"] {
        assert_eq!(faultline(&["--threads", threads, "scan", QUICKSTART]).status.code(), Some(2));
    }
    assert_eq!(faultline(&["--help"]).status.code(), Some(0));
    // A hunt with no rule at all would pass any --fail-on.
    let none = faultline(&["hunt", "--pack", "off", "--fail-on", "high", QUICKSTART]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("no rules to hunt with"), "{}", stderr(&none));
    // `query` with nothing to run names every way to say what.
    let bare = faultline(&["query", QUICKSTART]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(stderr(&bare).contains("--sql <SQL>|--query <NAME>|--list-queries"), "{}", stderr(&bare));
    // A window that holds no time would read as a quiet day.
    for command in ["analyze", "timeline", "hunt", "query"] {
        let mut args =
            vec![command, "--from", "2025-11-24T14:00:00Z", "--to", "2025-11-24T13:00:00Z", QUICKSTART];
        if command == "query" {
            args.extend(["--query", "status-codes"]);
        }
        let out = faultline(&args);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(stderr(&out).contains("must be before --to"), "{command}: {}", stderr(&out));
    }
}

#[test]
fn hostile_bytes_in_fields_are_neutralised_on_the_terminal_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = "#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /a \x1b[2J\u{202e}x\n";
    std::fs::write(dir.path().join("u_ex\x1b[31m.log"), log).expect("write");
    let out = faultline(&["scan", &dir.path().display().to_string()]);
    let text = stdout(&out);
    assert!(!text.contains('\x1b') && !text.contains('\u{202e}'), "{text}");
    assert!(text.contains("found \"\\u{1b}[2J\\u{202e}x\""), "{text}");
    assert!(text.contains("u_ex\\u{1b}[31m.log"), "{text}");
    // A detection's host and file, on the lens's lines, are evidence too.
    let attacked = tempfile::tempdir().expect("tempdir");
    let log = "#Fields: date time s-computername cs-method cs-uri-stem c-ip sc-status\n\
               2024-01-01 00:00:00 \x1b[31mEVIL\x1b[0m GET /shell.aspx 10.0.0.9 200\n";
    std::fs::write(attacked.path().join("u_ex\x1b[1m.log"), log).expect("write");
    for command in ["hunt", "analyze"] {
        let out = faultline(&[command, &attacked.path().display().to_string()]);
        let text = stdout(&out);
        assert!(text.contains("Web Shell") && !text.contains('\x1b'), "{command}: {text}");
    }
}

/// Every CSV output makes a cell a spreadsheet would run inert; JSON keeps it as read.
#[test]
fn csv_outputs_defuse_formulas_an_attacker_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("logs");
    std::fs::create_dir(&evidence).expect("mkdir");
    let log = "#Fields: date time s-computername cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status\n\
               2024-01-01 00:00:00 WEB01 GET /shell.aspx =cmd|'/c+calc'!A1 10.0.0.9 @SUM(1+1) 200\n";
    std::fs::write(evidence.join("u_ex240101.log"), log).expect("write");
    let evidence = evidence.to_str().expect("utf-8");
    let sql = "SELECT url_query, user_agent_original FROM requests";
    let csv = faultline(&["query", "--format", "csv", "--sql", sql, evidence]);
    assert_eq!(stdout(&csv).lines().nth(1), Some("'=cmd|'/c+calc'!A1,'@SUM(1+1)"), "{}", stderr(&csv));
    let json = faultline(&["query", "--format", "json", "--sql", sql, evidence]);
    assert!(stdout(&json).contains("\"=cmd|'/c+calc'!A1\""), "{}", stdout(&json));
    let hunt = faultline(&["hunt", "--format", "csv", evidence]);
    let hunt_rows = stdout(&hunt);
    assert!(
        hunt_rows.contains("shell.aspx") && !hunt_rows.contains(",=") && !hunt_rows.contains(",@"),
        "{hunt_rows}"
    );
    let to = dir.path().join("export");
    let export = faultline(&["export", "--format", "csv", evidence, "--to", to.to_str().expect("utf-8")]);
    assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    let part = to.join("requests/host=WEB01/date=2024-01-01");
    let file = std::fs::read_dir(&part).expect("the partition exists").flatten().next().expect("a part");
    let text = std::fs::read_to_string(file.path()).expect("reads");
    assert!(text.contains(",'=cmd|'/c+calc'!A1,") && text.contains(",'@SUM(1+1),"), "{text}");
}

#[test]
fn analyze_text_of_the_worker_crash_scenario() {
    let out = faultline(&["analyze", "corpus/scenarios/worker-crash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn analyze_markdown_of_the_config_error_scenario_in_a_zone() {
    let out =
        faultline(&["analyze", "--format", "markdown", "--tz", "+01:00", "corpus/scenarios/config-error"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn scan_markdown_of_the_quickstart_bundle() {
    let out = faultline(&["scan", "--format", "markdown", QUICKSTART]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn analyze_json_of_the_rapid_fail_scenario() {
    let out = faultline(&["analyze", "--format", "json", "corpus/scenarios/rapid-fail-protection"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let ids: Vec<&str> =
        value["findings"].as_array().expect("findings").iter().filter_map(|f| f["id"].as_str()).collect();
    assert_eq!(ids, ["rapid-fail-protection", "worker-crash"]);
    insta::assert_json_snapshot!(value);
}

#[test]
fn analyze_exit_status_follows_fail_on() {
    let crash = "corpus/scenarios/worker-crash";
    assert_eq!(faultline(&["analyze", "--fail-on", "high", crash]).status.code(), Some(1));
    assert_eq!(faultline(&["analyze", "--fail-on", "critical", crash]).status.code(), Some(0));
    assert_eq!(
        faultline(&["analyze", "--fail-on", "low", "corpus/scenarios/healthy"]).status.code(),
        Some(0)
    );
    assert_eq!(faultline(&["analyze", "--fail-on", "severe", crash]).status.code(), Some(2));
}

#[test]
fn analyze_is_identical_with_one_thread_or_many_and_honours_the_time_range() {
    let dir = "corpus/scenarios/rapid-fail-protection";
    let one = faultline(&["analyze", "--format", "json", "--threads", "1", dir]).stdout;
    assert_eq!(one, faultline(&["analyze", "--format", "json", "--threads", "3", dir]).stdout);
    let before = faultline(&["analyze", "--format", "json", "--to", "2025-11-24T00:00:00Z", dir]);
    let v: serde_json::Value = serde_json::from_slice(&before.stdout).expect("json");
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(0), "nothing happened before the window");
    let shown = faultline(&["analyze", "--tz", "+02:00", "corpus/scenarios/worker-crash"]);
    assert!(stdout(&shown).contains("times in +02:00"), "{}", stdout(&shown));
}

#[test]
fn timeline_merges_every_source_in_time_order_as_csv_and_jsonl() {
    let scenario = "corpus/scenarios/rapid-fail-protection";
    let csv = faultline(&["timeline", "--notable", "--threads", "1", scenario]);
    assert_eq!(csv.status.code(), Some(0), "{}", stderr(&csv));
    let csv = stdout(&csv);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("datetime,timestamp,timestamp_desc,message,source,host,site,path,line,record")
    );
    let rows: Vec<&str> = lines.collect();
    let stamps: Vec<i64> = rows
        .iter()
        .map(|r| r.split(',').nth(1).and_then(|t| t.parse().ok()).expect("a timestamp column"))
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "time order");
    for source in [",w3c,", ",httperr,", ",evtx,"] {
        assert!(rows.iter().any(|r| r.contains(source)), "no {source} rows");
    }
    assert!(rows.iter().any(|r| r.contains("Microsoft-Windows-WAS 5002")), "the pool-disabled event");
    assert!(rows.iter().any(|r| r.contains("HTTP.sys: 503 AppOffline")), "the 503s");
    insta::assert_snapshot!(rows[..12].join("\n"));

    let many = faultline(&["timeline", "--notable", "--threads", "4", scenario]);
    assert_eq!(stdout(&many), csv, "thread count changes the timeline");

    let jsonl = faultline(&["timeline", "--notable", "--format", "jsonl", scenario]);
    let objects: Vec<serde_json::Value> =
        stdout(&jsonl).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(objects.len(), rows.len());
    assert_eq!(objects[0]["timestamp"], stamps[0]);
    assert!(objects.iter().all(|o| o["path"].is_string() && o["timestamp_desc"].is_string()));
}

/// Without --notable, every record: as many rows as the tables hold, in
/// time order, the same at any thread count, and every notable request,
/// HTTP.sys and event row among them.
#[test]
fn timeline_of_every_record_is_complete_and_ordered() {
    let scenario = "corpus/scenarios/worker-crash";
    let full = faultline(&["timeline", "--threads", "1", scenario]);
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    let full = stdout(&full);
    let rows: Vec<&str> = full.lines().skip(1).collect();
    let count = |table: &str| -> usize {
        let out = faultline(&[
            "query",
            "--format",
            "csv",
            "--sql",
            &format!("SELECT count(*) AS n FROM {table}"),
            scenario,
        ]);
        stdout(&out).lines().nth(1).and_then(|n| n.parse().ok()).expect("a count")
    };
    let total: usize = ["requests", "httperr", "traces", "events"].into_iter().map(count).sum();
    assert_eq!(rows.len(), total);
    let stamps: Vec<i64> =
        rows.iter().map(|r| r.split(',').nth(1).and_then(|t| t.parse().ok()).expect("a timestamp")).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "time order");
    assert_eq!(stdout(&faultline(&["timeline", "--threads", "3", scenario])), full);
    let notable = stdout(&faultline(&["timeline", "--notable", scenario]));
    for row in notable.lines().skip(1) {
        assert!(rows.contains(&row), "a notable row missing from the full timeline: {row}");
    }
}

#[test]
fn timeline_honours_the_time_range_and_rejects_markdown() {
    let scenario = "corpus/scenarios/rapid-fail-protection";
    let out =
        faultline(&["timeline", "--from", "2025-11-24T13:00:00Z", "--to", "2025-11-24T13:30:00Z", scenario]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.starts_with("2025-11-24T13:")), "{rows:?}");
    let bad = faultline(&["timeline", "--format", "markdown", scenario]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = faultline(&["analyze", "--format", "csv", scenario]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = faultline(&["scan", "--format", "html", scenario]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("[possible values: text, json, markdown]"), "{}", stderr(&bad));
}

/// Each command's help names the formats it writes, and no other.
#[test]
fn each_command_offers_only_its_own_formats() {
    let formats = |command: &str| -> String {
        let help = stdout(&faultline(&[command, "--help"]));
        help.lines().skip_while(|l| !l.contains("--format")).take(12).collect::<Vec<_>>().join("\n")
    };
    let scan = formats("scan");
    assert!(scan.contains("markdown") && !scan.contains("html") && !scan.contains("parquet"), "{scan}");
    let analyze = formats("analyze");
    assert!(
        analyze.contains("html") && !analyze.contains("csv") && !analyze.contains("parquet"),
        "{analyze}"
    );
    let timeline = formats("timeline");
    assert!(
        timeline.contains("csv") && timeline.contains("jsonl") && !timeline.contains("html"),
        "{timeline}"
    );
    let export = formats("export");
    assert!(export.contains("parquet") && !export.contains("markdown"), "{export}");
    assert_eq!(
        faultline(&["analyze", "--tz", "Mars/Olympus", "corpus/scenarios/healthy"]).status.code(),
        Some(2)
    );
    assert_eq!(faultline(&["analyze", "--skew", "WEB01", "corpus/scenarios/healthy"]).status.code(), Some(2));
    // A correction for a host the evidence does not have is named, not
    // silently applied to nothing; one for a host it has is not.
    for command in ["analyze", "hunt", "timeline"] {
        let out =
            faultline(&[command, "--skew", "WEB10=+30", "--skew", "web01=-5", "corpus/scenarios/healthy"]);
        assert_eq!(out.status.code(), Some(0), "{command}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("warning: --skew WEB10: no evidence read belongs to that host"),
            "{command}: {err}"
        );
        assert!(!err.contains("--skew WEB01"), "{command}: {err}");
        let out = faultline(&[
            command,
            "--host",
            "WEB11=corpus/scenarios/nowhere",
            "--host",
            "WEB12=corpus/scenarios/healthy",
            "corpus/scenarios/healthy",
        ]);
        let err = stderr(&out);
        assert!(
            err.contains(
                "warning: --host WEB11=corpus/scenarios/nowhere: no file read lies at or under that path"
            ),
            "{command}: {err}"
        );
        assert!(!err.contains("--host WEB12"), "{command}: {err}");
    }
    let out = faultline(&["scan", "--host", "WEB11=corpus/scenarios/nowhere", "corpus/scenarios/healthy"]);
    assert!(stderr(&out).contains("warning: --host WEB11=corpus/scenarios/nowhere"), "{}", stderr(&out));
    assert_eq!(
        faultline(&["analyze", "--fail-on", "dire", "corpus/scenarios/healthy"]).status.code(),
        Some(2)
    );
}

#[test]
fn analyze_html_is_one_self_contained_page_with_charts() {
    let out = faultline(&["analyze", "--format", "html", "corpus/scenarios/config-error"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    for needle in [
        "<svg class=\"chart\"",
        "class=\"requests\"",
        "class=\"errors\"",
        "class=\"window\"",
        "class=\"p95\"",
        "config-error",
    ] {
        assert!(page.contains(needle), "no {needle}");
    }
    assert_eq!(page.matches("<svg").count(), page.matches("</svg>").count());
    // Self-contained: nothing fetched, nothing run.
    for banned in ["<script", "http-equiv", "<link", "src=\"http", "url(http", "@import"] {
        assert!(!page.contains(banned), "{banned}");
    }
}

/// Loads the HTML report in headless Chromium, checks that the charts are in
/// the rendered DOM, and keeps a screenshot beside the test binaries.
#[test]
#[allow(clippy::print_stderr)] // a check that cannot run says so
fn analyze_html_renders_in_a_real_browser() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        eprintln!("SKIPPED: no Chromium on this machine; the HTML report was not rendered in a browser");
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let html = dir.join("rapid-fail-protection.html");
    let out = faultline(&[
        "analyze",
        "--format",
        "html",
        "-o",
        html.to_str().expect("utf-8 path"),
        "corpus/scenarios/rapid-fail-protection",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let url = format!("file://{}", html.display());
    let headless = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"];
    let dom = Command::new(browser).args(headless).args(["--dump-dom", &url]).output().expect("runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.matches("<polyline").count() >= 4, "charts in the rendered page");
    assert!(dom.contains("rapid-fail-protection"));
    assert!(dom.contains("class=\"httperr\""), "the HTTP.sys 503s are charted");
    assert!(dom.contains("class=\"summary\""), "the summary comes first");
    // Every chart, overview, latency and zoomed, has a time axis with
    // hh:mm labels and the zone.
    let charts: Vec<&str> = dom.split("<svg").skip(1).filter(|c| c.contains("class=\"chart")).collect();
    assert!(charts.len() >= 5, "{} charts", charts.len());
    for chart in &charts {
        let labels: Vec<&str> = chart
            .split("class=\"tick\"")
            .skip(1)
            .filter_map(|t| t.split('>').nth(1)?.split('<').next())
            .collect();
        assert!(labels.len() >= 3, "a chart without time labels: {:.300}", chart);
        assert!(
            labels.iter().all(|l| l.len() >= 5 && l.as_bytes()[l.len() - 3] == b':'),
            "hh:mm labels: {labels:?}"
        );
        assert!(chart.contains("class=\"zone\"") && chart.contains(">UTC</text>"), "the zone is named");
    }
    // The finding's own chart is zoomed on its window, with evidence lanes.
    assert!(dom.contains("class=\"lane\"") && dom.contains("class=\"recovery\""));
    let png = dir.join("rapid-fail-protection.png");
    let _ = std::fs::remove_file(&png);
    let shot = Command::new(browser)
        .args(headless)
        .args(["--window-size=1200,1400", &format!("--screenshot={}", png.display()), &url])
        .output()
        .expect("runs");
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 20_000, "screenshot of {size} bytes: {}", String::from_utf8_lossy(&shot.stderr));
}

#[test]
fn query_a_named_classic_on_the_quickstart_bundle() {
    let out = faultline(&["query", "--query", "status-codes", QUICKSTART]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn query_output_is_the_same_at_any_thread_count() {
    for q in ["hits-per-hour", "events-by-id", "httperr-reasons"] {
        let run = |threads: &str| {
            let out = faultline(&[
                "query",
                "--format",
                "csv",
                "--threads",
                threads,
                "--query",
                q,
                "corpus/scenarios/worker-crash",
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            out.stdout
        };
        let one = run("1");
        assert!(one.len() > 40, "{q}: {}", String::from_utf8_lossy(&one));
        assert_eq!(one, run("3"), "{q}");
    }
}

#[test]
fn query_reads_the_security_lens_as_the_detections_table() {
    let sql = "SELECT rule_title, rule_author, log_file_line FROM detections";
    let on = faultline(&["query", "--format", "csv", "--sql", sql, QUICKSTART]);
    assert_eq!(on.status.code(), Some(0), "{}", stderr(&on));
    // The quickstart bundle's HTTP.sys log holds an internet probe for win.ini.
    assert!(stdout(&on).contains("Path Traversal Attempt,faultline,12"), "{}", stdout(&on));
    let off = faultline(&["query", "--format", "csv", "--security", "off", "--sql", sql, QUICKSTART]);
    assert_eq!(off.status.code(), Some(0), "{}", stderr(&off));
    assert_eq!(stdout(&off).trim(), "rule_title,rule_author,log_file_line");
    let bad = faultline(&["query", "--rules", "x", "--sql", sql, QUICKSTART]);
    assert!(stderr(&bad).contains("--rules needs --security all"), "{}", stderr(&bad));
}

/// A `.gz` damaged from its first block (a fuzzer's: its deflate stream
/// refers back before its start) is said to be corrupt, not skipped as an
/// empty file.
#[test]
fn a_gz_corrupt_from_its_start_is_said_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hex = "1f8b0800791631fe2f83abf6dacc56804454ebbd0fc102e054ba4ea66c3a3432d80a6601a282c7d5";
    let bytes: Vec<u8> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect();
    std::fs::write(dir.path().join("u_ex240101.log.gz"), bytes).expect("writes");
    let out = faultline(&["scan", dir.path().to_str().expect("utf-8")]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("corrupt gzip data") && !said.contains("empty file"), "{said}");
}

/// An output file that takes no writes (a full disk) is named in the
/// error, not only the system's words for it.
#[test]
#[allow(clippy::print_stderr)] // a check that cannot run says so
fn a_failed_write_names_the_output_file() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("SKIPPED: no /dev/full to write to");
        return;
    }
    let out = faultline(&["hunt", "-o", "/dev/full", QUICKSTART]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: writing /dev/full: "), "{}", stderr(&out));
}

/// The text table cuts a long cell and says so (CSV and JSON keep it
/// whole); a table of short cells says nothing of it.
#[test]
fn query_text_says_when_it_cut_a_cell() {
    let sql = "SELECT log_file_path || log_file_path || log_file_path AS path FROM requests LIMIT 1";
    let long = faultline(&["query", "--sql", sql, QUICKSTART]);
    assert_eq!(long.status.code(), Some(0), "{}", stderr(&long));
    assert!(
        stdout(&long)
            .ends_with("(1 row; cells cut at 80 characters, --format csv or json keeps them whole)\n"),
        "{}",
        stdout(&long)
    );
    let csv = faultline(&["query", "--format", "csv", "--sql", sql, QUICKSTART]);
    assert!(stdout(&csv).lines().nth(1).is_some_and(|l| l.chars().count() > 80), "{}", stdout(&csv));
    let short = faultline(&["query", "--sql", "SELECT count(*) AS n FROM requests", QUICKSTART]);
    assert!(stdout(&short).ends_with("(1 row)\n"), "{}", stdout(&short));
}

#[test]
fn query_usage_errors_exit_2_and_say_why() {
    let unknown = faultline(&["query", "--query", "nope", QUICKSTART]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("hits-per-hour"), "{}", stderr(&unknown));
    let bad_sql = faultline(&["query", "--sql", "SELECT nothing FROM requests", QUICKSTART]);
    assert_eq!(bad_sql.status.code(), Some(2));
    assert!(stderr(&bad_sql).contains("nothing"), "{}", stderr(&bad_sql));
    assert_eq!(faultline(&["query", QUICKSTART]).status.code(), Some(2));
    let huge = faultline(&["scan", "--max-member-size", "17592186044416", QUICKSTART]);
    assert_eq!(huge.status.code(), Some(2), "a size whose bytes overflow is refused: {}", stderr(&huge));
    let empty = faultline(&["query", "--sql", " ", QUICKSTART]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        stderr(&empty).starts_with("error: --sql: the SQL is empty (a SELECT over requests"),
        "{}",
        stderr(&empty)
    );
    assert_eq!(
        faultline(&["query", "--format", "html", "--query", "top-clients", QUICKSTART]).status.code(),
        Some(2)
    );
    let list = faultline(&["query", "--list-queries"]);
    assert_eq!(list.status.code(), Some(0));
    assert!(stdout(&list).contains("failed-logins"));
}

#[test]
fn export_writes_hive_partitioned_parquet_and_refuses_a_used_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let to = dir.path().join("out");
    let to = to.to_str().expect("utf-8 path");
    let out = faultline(&["export", QUICKSTART, "--to", to]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("requests"), "{}", stdout(&out));
    let part = Path::new(to).join("requests/host=WEB01/date=2025-11-24");
    let files: Vec<_> = std::fs::read_dir(&part).expect("the partition exists").flatten().collect();
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(f.path()).expect("reads");
        assert_eq!(&bytes[..4], b"PAR1", "{}", f.path().display());
    }
    let again = faultline(&["export", QUICKSTART, "--to", to]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
}

#[test]
fn export_is_the_same_at_any_thread_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let read_all = |root: &Path| {
        let mut files = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("reads").flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    let rel = e.path().strip_prefix(root).expect("under root").to_path_buf();
                    files.push((rel, std::fs::read(e.path()).expect("reads")));
                }
            }
        }
        files.sort();
        files
    };
    let mut outputs = Vec::new();
    for threads in ["1", "3"] {
        let to = dir.path().join(threads);
        let out = faultline(&[
            "export",
            "--format",
            "csv",
            "--threads",
            threads,
            "corpus/scenarios/db-login-failure",
            "--to",
            to.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        outputs.push(read_all(&to));
    }
    assert!(outputs[0].len() >= 4);
    assert!(outputs[0] == outputs[1], "thread count changes the export");
}

/// A W3C log of `rows` rows (about 100 bytes each) for WEB01, site 1.
#[cfg(target_os = "linux")]
fn large_log(rows: usize) -> Vec<u8> {
    let mut log = b"#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-sitename s-computername cs-method cs-uri-stem sc-status sc-substatus sc-win32-status time-taken\r\n".to_vec();
    for i in 0..rows {
        log.extend_from_slice(
            format!(
                "2025-11-24 10:{:02}:{:02} W3SVC1 WEB01 GET /shop/cart/item.aspx 200 0 0 {}\r\n",
                (i / 60) % 60,
                i % 60,
                i % 997
            )
            .as_bytes(),
        );
    }
    log
}

/// A zip holding `members` stored uncompressed (so that writing it is fast).
#[cfg(target_os = "linux")]
fn stored_zip(path: &Path, members: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, data) in members {
        zip.start_file(*name, opts).expect("start");
        zip.write_all(data).expect("write");
    }
    zip.finish().expect("finish");
}

/// Runs faultline with a resource limit set in the child.
#[cfg(target_os = "linux")]
fn faultline_limited(args: &[&str], resource: libc::__rlimit_resource_t, bytes: u64) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_faultline"));
    command.args(args).current_dir(workspace()).env("NO_COLOR", "1");
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            // A write past RLIMIT_FSIZE raises SIGXFSZ; ignored, the write
            // fails with EFBIG instead, as a full disk would fail it.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(resource, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().expect("runs")
}

/// A member larger than the heap the process may have is read completely:
/// it goes to a mapped temporary file (file mappings do not count against
/// RLIMIT_DATA), not into memory.
#[cfg(target_os = "linux")]
#[test]
fn an_archive_member_larger_than_the_heap_allows_is_read_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = dir.path().join("case.zip");
    let rows = 2_100_000;
    let log = large_log(rows);
    assert!(log.len() > 140 << 20, "{} bytes", log.len());
    stored_zip(&zip, &[("WEB01/inetpub/logs/LogFiles/W3SVC1/u_ex251124.log", &log)]);
    drop(log);
    let zip = zip.display().to_string();
    let out = faultline_limited(&["scan", "--format", "json", &zip], libc::RLIMIT_DATA, 64 << 20);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let files: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(files[0]["records"].as_u64(), Some(rows as u64), "{files}");
    assert_eq!(files[0]["status"], "parsed");
}

/// Nested archives are held until the run ends (their members' entries
/// read from them): a dozen of 20 MiB each go to mapped temporary files, not
/// the heap, which 240 MiB of them would pass.
#[cfg(target_os = "linux")]
#[test]
fn nested_archives_held_for_the_run_do_not_take_the_heap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inner = dir.path().join("inner.zip");
    let log = b"#Fields: date time cs-uri-stem sc-status\n2024-01-02 03:04:05 /a 200\n";
    stored_zip(&inner, &[("pad.bin", &vec![7u8; 20 << 20]), ("u_ex240102.log", log)]);
    let inner = std::fs::read(&inner).expect("reads");
    let names: Vec<String> = (0..12).map(|i| format!("WEB{i:02}.zip")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), inner.as_slice())).collect();
    let outer = dir.path().join("case.zip");
    stored_zip(&outer, &members);
    drop(inner);
    let outer = outer.display().to_string();
    let out = faultline_limited(&["scan", "--format", "json", &outer], libc::RLIMIT_DATA, 160 << 20);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let files: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let logs = files.as_array().expect("files").iter().filter(|f| f["format"] == "w3c").count();
    assert_eq!(logs, 12, "{files}");
}

/// Twenty thousand small logs in one archive are analysed within a heap of
/// 112 MiB: what the read keeps for a file's evidence is merged per group
/// of files, not held per file (the previous binary took over 160 MiB).
#[cfg(target_os = "linux")]
#[test]
fn many_small_members_are_analysed_within_a_small_heap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs: Vec<(String, Vec<u8>)> = (0..20_000)
        .map(|i| {
            let name = format!("WEB01/W3SVC1/u_ex{i:06}.log");
            let log = format!(
                "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time cs-method cs-uri-stem \
                 sc-status time-taken\n2025-11-24 10:{:02}:{:02} GET /p{i} 200 12\n",
                i / 60 % 60,
                i % 60
            );
            (name, log.into_bytes())
        })
        .collect();
    let members: Vec<(&str, &[u8])> = logs.iter().map(|(n, l)| (n.as_str(), l.as_slice())).collect();
    let zip = dir.path().join("case.zip");
    stored_zip(&zip, &members);
    let zip = zip.display().to_string();
    let out = faultline_limited(&["analyze", "--format", "json", &zip], libc::RLIMIT_DATA, 112 << 20);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let read = report["inputs"].as_array().expect("inputs");
    assert_eq!(read.len(), 20_000);
    assert!(read.iter().all(|f| f["records"] == 1), "{}", read[0]);
}

/// A row of millions of values is rejected by its count, not split: its
/// tokens took twenty bytes a byte of line, past a 96 MiB heap at 16 MiB.
#[cfg(target_os = "linux")]
#[test]
fn a_row_of_millions_of_values_is_rejected_within_a_small_heap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log =
        b"#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /a 200\n2024-01-01 00:00:01".to_vec();
    log.extend(std::iter::repeat_n(b" a".as_slice(), 8 << 20).flatten());
    log.extend_from_slice(b"\n2024-01-01 00:00:02 /b 200\n");
    let path = dir.path().join("u_ex240101.log");
    std::fs::write(&path, log).expect("write");
    let path = path.display().to_string();
    let out = faultline_limited(&["scan", "--format", "json", &path], libc::RLIMIT_DATA, 96 << 20);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let files: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((files[0]["records"].as_u64(), files[0]["rejected"].as_u64()), (Some(2), Some(1)), "{files}");
}

/// A member the temporary folder cannot hold is reported with its path and
/// why; the rest of the bundle is read.
#[cfg(target_os = "linux")]
#[test]
fn a_member_that_does_not_fit_on_disk_is_reported_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = dir.path().join("case.zip");
    let big = large_log(600_000);
    let small = large_log(100);
    stored_zip(
        &zip,
        &[
            ("WEB01/inetpub/logs/LogFiles/W3SVC1/u_ex251124.log", &big),
            ("WEB01/HTTPERR/u_ex251125.log", &small),
        ],
    );
    let zip = zip.display().to_string();
    // Room for 8 MiB of temporary file: far less than the big member.
    let out = faultline_limited(&["scan", &zip], libc::RLIMIT_FSIZE, 8 << 20);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    // How much reached the disk before it was full (the first write was
    // said to have written nothing).
    assert!(
        err.contains(
            "u_ex251124.log: the temporary copy of the member could not be written after 8388608 bytes"
        ),
        "{err}"
    );
    assert!(stdout(&out).contains("u_ex251125.log"), "{}", stdout(&out));
}

#[test]
fn completions_are_generated_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef faultline"),
        ("fish", "complete -c faultline"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = faultline(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script:.300}");
        // Every command and a command's own flags are offered.
        for word in ["analyze", "hunt", "timeline", "security", "min-level"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
    assert_eq!(faultline(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn the_manual_page_covers_every_command() {
    let out = faultline(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "roff: {page:.200}");
    assert!(page.contains(".TH faultline 1"), "{page:.400}");
    for section in ["SCAN", "ANALYZE", "TIMELINE", "QUERY", "EXPORT", "HUNT", "COMPLETIONS"] {
        assert!(page.contains(&format!(".SH \"{section}\"")), "section {section}");
    }
    // A command's own flags with their help.
    assert!(page.contains("\\-\\-allow\\-client"), "hunt's flags are listed");
    assert!(!page.lines().any(|l| l.starts_with(". ")), "no body line is read as a request");
}

#[test]
fn the_version_names_the_commit_built_from() {
    let out = faultline(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let version = stdout(&out);
    assert!(version.starts_with(&format!("faultline {}", env!("CARGO_PKG_VERSION"))), "{version}");
    let head =
        Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(workspace()).output();
    if let Ok(head) = head
        && head.status.success()
    {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert!(version.contains(&format!("(commit {head})")), "{version} is not from {head}");
    }
}

/// `hunt --show-mapping` prints the mapping the rules are read with, and
/// needs no evidence.
#[test]
fn hunt_shows_its_field_mapping() {
    let out = faultline(&["hunt", "--show-mapping"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

/// The healthy day's hunt as JSON: nothing of medium or above, and the
/// shell probes its API site's page for any path answered kept low, each
/// saying the level its rule gives.
#[test]
fn hunt_json_of_the_healthy_scenario() {
    let out = faultline(&["hunt", "--format", "json", "corpus/scenarios/healthy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let detections = value["detections"].as_array().expect("detections");
    assert!(!detections.is_empty());
    for d in detections {
        assert_eq!(d["rule"]["level"], "low", "{d}");
        assert_eq!(d["lowered_from"], "high", "{d}");
    }
    insta::assert_json_snapshot!(value);
}

/// Sorting the timeline as text sorts it by time: every `datetime` has the
/// same length whatever its source's precision (W3C seconds, event logs'
/// 100 ns), in CSV and JSON lines, in UTC and in a named zone.
#[test]
fn every_timeline_datetime_has_the_same_length() {
    for (format, tz) in [("csv", "UTC"), ("jsonl", "Europe/Berlin")] {
        let out = faultline(&["timeline", "--format", format, "--tz", tz, "corpus/scenarios/worker-crash"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        let datetimes: Vec<String> = if format == "csv" {
            text.lines().skip(1).filter_map(|l| l.split(',').next().map(str::to_string)).collect()
        } else {
            text.lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
                .map(|v| v["datetime"].as_str().expect("datetime").to_string())
                .collect()
        };
        assert!(datetimes.len() > 100, "{format}: {} rows", datetimes.len());
        let len = datetimes[0].len();
        assert!(datetimes.iter().all(|d| d.len() == len), "{format}: {:?}", &datetimes[..5]);
        let mut sorted = datetimes.clone();
        sorted.sort();
        if tz == "UTC" {
            assert_eq!(sorted, datetimes, "text order is time order");
        }
    }
}

/// Security detections are marked on the traffic chart of their host, in a
/// lane of their own (the Tunna tunnel through an IIS page, a real capture).
#[test]
fn detections_have_a_lane_on_their_hosts_chart() {
    let Some(samples) = samples("the detection lane was not checked on a real capture") else { return };
    let log = samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/Tunna_rdp_tunnel_IIS.log");
    let out = faultline(&["analyze", "--format", "html", log.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    let lane = page.split("class=\"lane security\"").nth(1).expect("a security lane");
    let lane = lane.split("</g>").next().unwrap_or_default();
    assert!(lane.contains("Tunna Or reGeorg Tunnel Through A Web Page"), "{lane:.300}");
}

/// A W3C log of one SQL injection (a medium detection), in `dir`.
fn one_injection(dir: &Path) -> PathBuf {
    let log = dir.join("u_ex250101.log");
    std::fs::write(
        &log,
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query c-ip sc-status\r\n\
         2025-01-01 10:00:00 10.0.0.1 GET /item.aspx id=1+union+select+1,2-- 203.0.113.9 200\r\n",
    )
    .expect("writes");
    log
}

/// `--fail-on` judges every detection found: `--min-level` only chooses
/// what is printed, so a batch job's gate does not open because of it.
#[test]
fn hunt_fail_on_sees_detections_min_level_hides() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = one_injection(dir.path());
    let path = path.to_string_lossy();
    let out = faultline(&["hunt", "--min-level", "critical", "--fail-on", "medium", &path]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("No detections at critical or above (1 detection below critical not shown)."),
        "{}",
        stdout(&out)
    );
    let out = faultline(&["hunt", "--fail-on", "high", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("1 file read; times in UTC"), "{text}");
    assert!(text.contains("1 detection on "), "{text}");
    assert!(text.contains(" at 2025-01-01 10:00:00"), "one moment: {text}");
    assert!(text.trim_end().ends_with("1 detection: 1 medium"), "{text}");
}

/// A log that names no server, in a folder of two servers' event logs, is
/// on no host the evidence names: the text says so in words (the JSON's
/// `-`), beside the hosts that are named.
#[test]
fn hunt_names_an_unnamed_host_in_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    one_injection(dir.path());
    for (file, host) in [("a.xml", "WEB01"), ("b.xml", "WEB02")] {
        std::fs::write(
            dir.path().join(file),
            format!(
                "<Events><Event><System><Provider Name=\"Microsoft-Windows-Eventlog\"/><EventID>1102</EventID>\
                 <Level>4</Level><TimeCreated SystemTime=\"2025-01-01T10:00:0{}Z\"/><EventRecordID>7</EventRecordID>\
                 <Channel>Security</Channel><Computer>{host}</Computer></System></Event></Events>\n",
                file.len()
            ),
        )
        .expect("writes");
    }
    let text = stdout(&faultline(&["hunt", "--quiet", &dir.path().to_string_lossy()]));
    assert!(text.contains("1 detection on an unnamed host at 2025-01-01 10:00:00"), "{text}");
    assert!(text.contains("2 detections on WEB01 (1), WEB02 (1) "), "{text}");
    assert!(!text.contains(" on - "), "{text}");
}

/// `hunt --format csv` writes times in the zone `--tz` asks for, as the
/// timeline's CSV does.
#[test]
fn hunt_csv_times_follow_tz() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = one_injection(dir.path());
    let path = path.to_string_lossy();
    let out = faultline(&["hunt", "--format", "csv", "--tz", "+02:00", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let row = text.lines().nth(1).unwrap_or_else(|| panic!("a detection: {text}"));
    assert!(row.starts_with("2025-01-01T12:00:00.000000000+02:00,"), "{row}");
}

/// A rule of the user's that `analyze` skips is said on standard error
/// (its report has no load report), with where to read why.
#[test]
fn analyze_says_when_a_rule_of_the_users_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.yml"), "title: bad\nlevel: extreme\nlogsource: {category: webserver}\ndetection:\n    s:\n        cs-uri-stem: /x\n    condition: s\n")
        .expect("writes");
    let rules = dir.path().to_string_lossy();
    let out = faultline(&["analyze", "--security", "all", "--rules", &rules, "corpus/scenarios/healthy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: 1 of "), "{}", stderr(&out));
    assert!(stderr(&out).contains("rules skipped"), "{}", stderr(&out));
}

/// `hunt --list-rules --format json` is JSON: every rule's metadata, the
/// native detectors among them, and the skipped rules with why.
#[test]
fn hunt_lists_rules_as_json() {
    let out = faultline(&["hunt", "--list-rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ids: Vec<&str> =
        listing["rules"].as_array().expect("rules").iter().filter_map(|r| r["id"].as_str()).collect();
    assert!(ids.contains(&"faultline-native-post-only-script"), "{ids:?}");
    assert!(ids.len() > 20, "{ids:?}");
    assert_eq!(listing["skipped"], serde_json::json!([]));
    assert!(!stderr(&out).contains("does not apply"), "{}", stderr(&out));
    // A format the listings do not take is said.
    let csv = faultline(&["hunt", "--list-rules", "--format", "csv"]);
    assert!(stderr(&csv).contains("--format csv does not apply"), "{}", stderr(&csv));
    let mapping = faultline(&["hunt", "--show-mapping", "--format", "json"]);
    assert!(stderr(&mapping).contains("--format json does not apply"), "{}", stderr(&mapping));
}

/// An exported event is cited by its line and its record id (App Service
/// writes many events on a line, and ids past 2^31 as negative numbers,
/// cited as written), in analyze's text, the timeline (CSV and JSON) and
/// hunt.
#[test]
fn an_exported_event_is_cited_by_line_and_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("eventlog.xml");
    let event = |id: &str, secs: u32| {
        format!(
            "<Event><System><Provider Name=\"Microsoft-Windows-Eventlog\"/><EventID>1102</EventID><Level>4</Level>\
             <TimeCreated SystemTime=\"2025-12-12T16:10:{secs:02}Z\"/><EventRecordID>{id}</EventRecordID>\
             <Channel>Security</Channel><Computer>WEB01</Computer></System></Event>"
        )
    };
    std::fs::write(&log, format!("<Events>{}{}</Events>\n", event("-1807887546", 8), event("17", 9)))
        .expect("writes");
    let path = log.to_string_lossy();
    let text = stdout(&faultline(&["analyze", "--quiet", &path]));
    assert!(text.contains("eventlog.xml:1 record -1807887546"), "{text}");
    let timeline = stdout(&faultline(&["timeline", "--quiet", &path]));
    assert!(timeline.lines().any(|l| l.ends_with(",1,-1807887546")), "{timeline}");
    let jsonl = stdout(&faultline(&["timeline", "--quiet", "--format", "jsonl", &path]));
    assert!(jsonl.contains(r#""record":-1807887546"#), "{jsonl}");
    let hunt = stdout(&faultline(&["hunt", "--quiet", &path]));
    assert!(hunt.contains("eventlog.xml:1#-1807887546"), "{hunt}");
}

/// hunt's JSON says what the rules could not see: a row that could not be
/// read is counted beside the detections.
#[test]
fn hunt_json_counts_what_could_not_be_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = one_injection(dir.path());
    let mut text = std::fs::read_to_string(&log).expect("reads");
    text.push_str("2025-01-01 10:00:01 only three\r\n");
    std::fs::write(&log, text).expect("writes");
    let out = faultline(&["hunt", "--quiet", "--format", "json", &log.to_string_lossy()]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(json["reading"]["files"], 1);
    assert_eq!(json["reading"]["rejected"], 1, "{json}");
    assert_eq!(json["detections"].as_array().map(Vec::len), Some(1));
}

/// A request's text is the attacker's: `hunt --format markdown` escapes it
/// as every other Markdown printer does, so a crafted path cannot put a tag
/// or a link into the page that renders the report.
#[test]
fn hunt_markdown_escapes_what_the_attacker_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = "#Software: Microsoft Internet Information Services 10.0\n\
        #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\n\
        2025-01-01 00:00:00 10.0.0.1 GET /<script>alert(1)</script> [click](http://evil.example/)|x 80 - 1.2.3.4 - 404 0 2 1\n";
    std::fs::write(dir.path().join("u_ex250101.log"), log).expect("write");
    let path = dir.path().to_string_lossy().into_owned();
    let out = faultline(&["hunt", "--format", "markdown", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Cross-Site Scripting Probe"), "{text}");
    // A bare address is no link either (GitHub's Markdown finds them).
    assert!(
        !text.contains("<script>") && !text.contains("[click](http") && !text.contains("http://"),
        "{text}"
    );
    assert!(
        text.contains("&lt;script\\>alert(1)&lt;/script\\>?\\[click\\](http\\://evil.example/)\\|x"),
        "{text}"
    );
}

/// A negative offset is a zone, not a flag: `--tz -03:00` works as
/// `--tz=-03:00` does.
#[test]
fn a_negative_offset_is_taken_as_a_zone() {
    let spaced = faultline(&["analyze", "--tz", "-03:00", "corpus/scenarios/worker-crash"]);
    assert_eq!(spaced.status.code(), Some(0), "{}", stderr(&spaced));
    assert!(stdout(&spaced).contains("times in -03:00"), "{}", stdout(&spaced));
    let joined = faultline(&["analyze", "--tz=-03:00", "corpus/scenarios/worker-crash"]);
    assert_eq!(stdout(&spaced), stdout(&joined));
    // A flag where the zone belongs says the zone is missing.
    let missing = faultline(&["analyze", "--tz", "--quiet", "corpus/scenarios/worker-crash"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("expected a zone"), "{}", stderr(&missing));
}

/// `--security all` with a rule of the user's that reads Windows events
/// reads every event: the `events` table holds them all even when the SQL
/// names no `detections` (only then were the rules read before).
#[test]
fn the_events_table_holds_every_event_under_the_users_rules() {
    let Some(samples) = samples("the events table was not checked on real event logs") else { return };
    let logs = samples.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES");
    let logs = logs.to_str().expect("utf-8 path");
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = "title: Any Service Change\nid: 5d1f3c1e-0000-4000-8000-000000000001\nlogsource:\n    product: windows\n    service: system\ndetection:\n    selection:\n        EventID: 7036\n    condition: selection\nlevel: low\n";
    std::fs::write(dir.path().join("service.yml"), rule).expect("rule");
    let rules = dir.path().to_str().expect("utf-8 path");
    let count = |sql: &str, lens: &[&str]| {
        let mut args = vec!["query", "--format", "csv", "--sql", sql, logs];
        args.extend_from_slice(lens);
        let out = faultline(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out).lines().nth(1).and_then(|n| n.trim().parse::<u64>().ok()).expect("a count")
    };
    let events = "SELECT count(*) AS n FROM events";
    let catalogue = count(events, &[]);
    let all = count(events, &["--security", "all", "--rules", rules]);
    let every = count(events, &["--all-events"]);
    assert!(catalogue < every, "{catalogue} < {every}");
    assert_eq!(all, every, "the events table under the user's rules");
}

/// A minute of more requests than the notable timeline lists: the failed
/// requests past its first 800 are said to be counted, not listed.
#[test]
fn the_notable_timeline_says_what_a_busy_minute_left_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time cs-method cs-uri-stem sc-status time-taken\r\n",
    );
    for i in 0..810 {
        log.push_str(&format!("2025-11-24 10:00:{:02} GET /p{i} 500 12\r\n", i % 60));
    }
    let path = dir.path().join("u_ex251124.log");
    std::fs::write(&path, log).expect("writes");
    let out = faultline(&["timeline", "--notable", "--format", "jsonl", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 800);
    assert!(
        stderr(&out)
            .contains("warning: 10 failed, slow or cut-off requests in 1 busy minute past the first 800"),
        "{}",
        stderr(&out)
    );
}

/// A busy minute lists its first failures however many successes came
/// before them, and counts the rest by status: a configuration error that
/// began late in a busy minute is found, and the finding says how many
/// requests failed, not how many were listed, and ends at the last.
#[test]
fn a_busy_minutes_failures_are_found_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-computername cs-method cs-uri-stem sc-status sc-substatus sc-win32-status time-taken\r\n",
    );
    for i in 0..900 {
        log.push_str(&format!("2025-11-24 10:00:{:02} WEB01 GET /p{i} 200 0 0 12\r\n", i * 50 / 900));
    }
    for i in 0..1005 {
        let time =
            if i < 5 { format!("10:00:{:02}", 55 + i) } else { format!("10:01:{:02}", (i - 5) * 60 / 1000) };
        log.push_str(&format!("2025-11-24 {time} WEB01 GET /app 500 19 13 3\r\n"));
    }
    let path = dir.path().join("u_ex251124.log");
    std::fs::write(&path, log).expect("writes");
    let out = faultline(&["analyze", "--security", "off", "--format", "json", path.to_str().expect("utf-8")]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    let config = findings.iter().find(|f| f["id"] == "config-error").expect("a config-error finding");
    assert_eq!(config["start"], "2025-11-24T10:00:54.997000000Z", "{config}");
    // The last of them, though not listed.
    assert_eq!(config["end"], "2025-11-24T10:01:59.000000000Z", "{config}");
    let text = config["explanation"].as_str().expect("text");
    assert!(text.starts_with("1005 requests failed with 500.19"), "{text}");
}

/// A flood of HTTP.sys rejections keeps a few rows a minute of each
/// reason and queue and counts the rest: the finding counts them all and
/// ends at the last, the notable timeline lists the rows kept and says
/// what it left out.
#[test]
fn a_flood_of_http_sys_rejections_is_counted_not_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from(
        "#Software: Microsoft HTTP API 2.0\n#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename\n",
    );
    for i in 0..1300 {
        let (minute, second) = if i < 1000 { (0, i * 60 / 1000) } else { (1, (i - 1000) * 50 / 300) };
        log.push_str(&format!(
            "2025-11-24 10:{minute:02}:{second:02} 198.51.100.{} 50000 10.0.0.5 443 HTTP/1.1 GET /shop - 503 1 QueueFull ShopPool\n",
            i % 250
        ));
    }
    let path = dir.path().join("httperr1.log");
    std::fs::write(&path, log).expect("writes");
    let file = path.to_str().expect("utf-8");
    let out = faultline(&["analyze", "--security", "off", "--format", "json", file]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    let full =
        findings.iter().find(|f| f["id"] == "request-queue-full").expect("a request-queue-full finding");
    let text = full["explanation"].as_str().expect("text");
    assert!(text.contains("1300 requests were turned away"), "{text}");
    assert_eq!(full["end"], "2025-11-24T10:01:49.000000000Z", "{full}");
    let out = faultline(&["timeline", "--notable", "--format", "jsonl", file]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 400);
    assert!(
        stderr(&out).contains("warning: 900 HTTP.sys rejections in 2 busy minutes past the first 200"),
        "{}",
        stderr(&out)
    );
}

/// A log in IIS's native format is timed by the server's clock: both
/// timelines say so on standard error, as `analyze` does in its header,
/// unless `--skew` corrects the host.
#[test]
fn the_timelines_say_when_times_are_the_servers_local_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ex010320.log");
    std::fs::write(
        &path,
        "10.0.0.5, -, 3/20/01, 7:55:20, W3SVC1, SERVER, 10.0.0.1, 4502, 163, 3223, 500, 0, GET, /DeptLogo.gif, -,\n",
    )
    .expect("writes");
    let file = path.to_str().expect("utf-8");
    for args in [vec!["timeline", file], vec!["timeline", "--notable", file]] {
        let out = faultline(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("times are the server's local time"), "{args:?}: {}", stderr(&out));
        // A clock the analyst corrected is no longer in doubt.
        let corrected: Vec<&str> = args.iter().copied().chain(["--skew", "SERVER=-28800"]).collect();
        let out = faultline(&corrected);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!stderr(&out).contains("local time"), "{corrected:?}: {}", stderr(&out));
    }
}

/// A detailed error page whose file time no clock can place (a copy's
/// garbage date, 2300) holds no time at all: its finding says the time is
/// unknown in every format a reader reads, where it showed 1970-01-01 as
/// "the pages' file dates" (and HTML drew a chart of 1970).
#[test]
fn a_finding_of_pages_with_no_time_says_its_time_is_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("DetailedErrors");
    std::fs::create_dir(&folder).expect("folder");
    let page = folder.join("ErrorPage000001.htm");
    std::fs::write(
        &page,
        "<html><head><title>IIS Detailed Error - 500.19 - Internal Server Error</title></head><body>\n\
         <h3>HTTP Error 500.19 - Internal Server Error</h3>\n\
         <h4>The requested page cannot be accessed because the related configuration data for the page is \
         invalid.</h4>\n\
         <table><tr class=\"alt\"><th>Module</th><td>&nbsp;&nbsp;&nbsp;IIS Web Core</td></tr>\n\
         <tr><th>Notification</th><td>&nbsp;&nbsp;&nbsp;BeginRequest</td></tr>\n\
         <tr><th>Error Code</th><td>&nbsp;&nbsp;&nbsp;0x8007000d</td></tr>\n\
         <tr class=\"alt\"><th>Config Error</th><td>&nbsp;&nbsp;&nbsp;Configuration file is not well-formed \
         XML</td></tr>\n\
         <tr class=\"alt\"><th>Requested URL</th><td>&nbsp;&nbsp;&nbsp;http://localhost:80/shop/</td></tr>\n\
         <tr><th>Physical Path</th><td>&nbsp;&nbsp;&nbsp;C:\\inetpub\\shop\\</td></tr>\n\
         </table></body></html>\n",
    )
    .expect("writes");
    // 2300-01-01.
    let garbage = std::time::UNIX_EPOCH + std::time::Duration::from_secs(10_413_792_000);
    std::fs::File::options().write(true).open(&page).expect("opens").set_modified(garbage).expect("dates");
    let out = faultline(&["analyze", dir.path().to_str().expect("utf-8")]);
    let text = stdout(&out);
    assert!(text.contains("config-error"), "{text}");
    assert!(text.contains("time unknown   host") && !text.contains("1970-01-01"), "{text}");
    assert!(!text.contains("2262-04-11"), "{text}");
    for format in ["markdown", "html"] {
        let out = faultline(&["analyze", "--format", format, dir.path().to_str().expect("utf-8")]);
        let page = stdout(&out);
        assert!(page.contains("time unknown") && !page.contains("1970-01-01"), "{format}: {page}");
    }
    // scan counts the page as a detailed error page, not a FREB trace, and
    // says one file as one.
    let scanned = stdout(&faultline(&["scan", dir.path().to_str().expect("utf-8")]));
    assert!(scanned.contains("Detailed error pages\n  by status:         500.19 ×1"), "{scanned}");
    assert!(!scanned.contains("FREB traces") && !scanned.contains("by failure reason"), "{scanned}");
    assert!(scanned.contains("(1 file read)"), "{scanned}");
}
