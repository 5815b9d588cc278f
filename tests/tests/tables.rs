//! The normalized tables behind `query` and `export`: every record lands in
//! its table, SQL counts agree with the raw files, every named query runs,
//! and an export read back by DuckDB gives the same numbers as `query`.

#![allow(clippy::print_stderr)] // tests say loudly when they were skipped

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use faultline_analyzer::hunting::{Hunt, hunt};
use faultline_analyzer::{Scope, analyze};
use faultline_corpus::scenario::{Size, generate};
use faultline_parser::{Format, ReadConfig};
use faultline_tables::{ExportFormat, Projection, QUERIES, TableName, Tables, export};

/// A bundle with every source kind: W3C, HTTPERR, EVTX (with 4625s) and
/// FREB, and a web shell for the security lens.
fn bundle() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = Size { hosts: 1, hours: 2, rate: 0.3 };
    // A seed each: one seed gives each scenario the same quiet hours, whose
    // identical files of one host are one file read once.
    let names = [
        "worker-crash",
        "config-error",
        "identity-logon-failure",
        "request-queue-full",
        "web-shell",
        "ftp-password-guessing",
    ];
    for (seed, name) in (7..).zip(names) {
        generate(name, &dir.path().join(name), seed, &size).expect("generates");
    }
    dir
}

fn all_events() -> ReadConfig {
    ReadConfig { all_events: true, ..ReadConfig::default() }
}

/// The security lens's bundled pack.
fn bundled() -> Hunt {
    let mut loaded = faultline_hunt::LoadReport::default();
    loaded.add_bundled();
    Hunt::new(loaded.finish())
}

fn load(root: &Path, config: &Scope) -> Tables {
    Tables::load(&[root.to_path_buf()], &all_events(), config, &Projection::ALL, &bundled(), &|_| {})
        .expect("tables")
}

/// WEB01's clock corrected by a minute.
fn skew_web01_60() -> faultline_analyzer::Skew {
    let mut skew = faultline_analyzer::Skew::default();
    skew.insert("WEB01", faultline_parser::Span::secs(60));
    skew
}

/// `SELECT count(*)`-style single numbers.
fn number(tables: &Tables, sql: &str) -> i64 {
    let rows = tables.sql(sql).expect("runs").text_rows();
    rows[0][0].parse().expect("a number")
}

#[test]
fn every_record_lands_in_its_table() {
    let dir = bundle();
    let report = analyze(&[dir.path().to_path_buf()], &all_events(), &Scope::default(), &|_| {});
    let mut records: BTreeMap<TableName, u64> = BTreeMap::new();
    for f in &report.inventory.files {
        // The generator writes FTP logs, W3C files, in FTPSVC folders only.
        let ftp = f.path.contains("FTPSVC");
        let table = match f.format {
            Some(Format::W3c) if ftp => TableName::Ftp,
            Some(Format::W3c | Format::IisNative | Format::Ncsa) => TableName::Requests,
            Some(Format::Httperr) => TableName::Httperr,
            Some(Format::Freb) => TableName::Traces,
            Some(Format::Evtx | Format::EventXml) => TableName::Events,
            _ => continue,
        };
        *records.entry(table).or_default() += f.records;
    }
    let tables = load(dir.path(), &Scope::default());
    // Detections are not records: the next test holds them to `hunt`'s.
    for t in TableName::ALL.into_iter().filter(|t| *t != TableName::Detections) {
        let expected = records.get(&t).copied().unwrap_or(0);
        assert!(expected > 0, "the bundle has {} records", t.name());
        assert_eq!(tables.rows(t) as u64, expected, "{}", t.name());
    }
}

#[test]
fn sql_counts_agree_with_the_raw_logs() {
    let dir = bundle();
    let tables = load(dir.path(), &Scope::default());
    // An independent count: the status field of every data line of the
    // web sites' access logs (not the FTP service's), per status.
    let mut raw: BTreeMap<String, i64> = BTreeMap::new();
    for entry in walk(dir.path()) {
        let ftp = entry.components().any(|c| c.as_os_str().to_string_lossy().starts_with("FTPSVC"));
        if ftp || !entry.file_name().is_some_and(|n| n.to_string_lossy().starts_with("u_ex")) {
            continue;
        }
        let text = std::fs::read_to_string(&entry).expect("reads");
        let mut status_at = None;
        for line in text.lines() {
            if let Some(fields) = line.strip_prefix("#Fields: ") {
                status_at = fields.split(' ').position(|f| f == "sc-status");
            } else if !line.starts_with('#') && !line.is_empty() {
                let status = status_at.and_then(|i| line.split(' ').nth(i)).unwrap_or("-");
                *raw.entry(status.to_string()).or_default() += 1;
            }
        }
    }
    assert!(raw.len() >= 4, "{raw:?}");
    let counted = tables
        .sql("SELECT http_response_status_code AS status, count(*) AS n FROM requests GROUP BY status ORDER BY status")
        .expect("runs")
        .text_rows();
    let counted: BTreeMap<String, i64> =
        counted.into_iter().map(|r| (r[0].clone(), r[1].parse().expect("a count"))).collect();
    assert_eq!(counted, raw);
    // An unnamed count is a column `count`, not polars' `len`; a query
    // that names `len` keeps it.
    let columns = |sql: &str| tables.sql(sql).expect("runs").columns();
    assert_eq!(columns("SELECT count(*) FROM requests"), ["count"]);
    assert_eq!(columns("SELECT COUNT( * ) FROM requests"), ["count"]);
    assert_eq!(columns("SELECT count(*) AS len FROM requests"), ["len"]);
    assert_eq!(columns("SELECT count(*) AS n FROM requests"), ["n"]);
    // Every row names the file and line it came from.
    assert_eq!(
        number(&tables, "SELECT count(*) FROM requests WHERE log_file_line IS NULL OR log_file_path IS NULL"),
        0
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("reads dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_named_query_runs_and_answers() {
    let dir = bundle();
    let tables = load(dir.path(), &Scope::default());
    for q in QUERIES {
        let result = tables.sql(q.sql).unwrap_or_else(|e| panic!("{}: {e}", q.name));
        assert!(result.height() > 0, "{} gave no rows on a bundle with every source", q.name);
        // Building only the columns the query names changes nothing.
        let projected = Tables::load(
            &[dir.path().to_path_buf()],
            &all_events(),
            &Scope::default(),
            &Projection::of_sql(q.sql),
            &bundled(),
            &|_| {},
        )
        .expect("tables");
        let csv = |r: &faultline_tables::QueryResult| {
            let mut out = Vec::new();
            r.write_csv(&mut out).expect("csv");
            out
        };
        assert_eq!(csv(&projected.sql(q.sql).expect("runs")), csv(&result), "{}", q.name);
        for t in TableName::named_in(q.sql) {
            assert!(tables.rows(t) > 0, "{} reads {}", q.name, t.name());
        }
    }
}

#[test]
fn the_time_range_and_skew_apply_to_the_tables() {
    let dir = bundle();
    let everything = load(dir.path(), &Scope::default());
    let first =
        everything.sql("SELECT min(timestamp) FROM requests").expect("runs").text_rows()[0][0].clone();
    let from = faultline_parser::time::parse_rfc3339(first.as_bytes()).expect("rfc 3339").shifted(3600);
    let later = load(dir.path(), &Scope { from: Some(from), ..Scope::default() });
    assert!(later.rows(TableName::Requests) < everything.rows(TableName::Requests));
    assert!(later.rows(TableName::Requests) > 0);
    let bad = number(
        &later,
        &format!(
            "SELECT count(*) FROM requests WHERE timestamp < TIMESTAMP '{}'",
            from.to_rfc3339().trim_end_matches('Z').replace('T', " ")
        ),
    );
    assert_eq!(bad, 0);

    let skewed = load(dir.path(), &Scope { skew: skew_web01_60(), ..Scope::default() });
    let shifted = skewed.sql("SELECT min(timestamp) FROM requests").expect("runs").text_rows()[0][0].clone();
    let shifted = faultline_parser::time::parse_rfc3339(shifted.as_bytes()).expect("rfc 3339");
    assert_eq!(
        shifted,
        faultline_parser::time::parse_rfc3339(first.as_bytes()).expect("rfc 3339").shifted(60)
    );
}

#[test]
fn the_time_range_and_skew_apply_to_the_analysis() {
    // What `analyze` keeps: every kind of row shifted by its host's skew,
    // and only rows inside the range.
    let dir = bundle();
    let paths = [dir.path().to_path_buf()];
    let run = |config: &Scope| analyze(&paths, &ReadConfig::default(), config, &|_| {}).store;
    let plain = run(&Scope::default());
    assert!(!plain.requests.is_empty() && !plain.errors.is_empty() && !plain.events.is_empty());
    assert!(!plain.traces.is_empty());
    let times = |a: &faultline_analyzer::Store| {
        let mut t: Vec<_> = a.requests.iter().map(|r| r.time).collect();
        t.extend(a.errors.iter().map(|r| r.time));
        t.extend(a.events.iter().map(|e| e.event.time));
        t.extend(a.traces.iter().filter_map(|t| t.trace.time()));
        t
    };

    let skewed = run(&Scope { skew: skew_web01_60(), ..Scope::default() });
    let want: Vec<_> = times(&plain).into_iter().map(|t| t.shifted(60)).collect();
    assert_eq!(times(&skewed), want);

    let mut all = times(&plain);
    all.sort();
    let (from, to) = (all[all.len() / 4], all[3 * all.len() / 4]);
    let ranged = run(&Scope { from: Some(from), to: Some(to), ..Scope::default() });
    let inside = times(&ranged);
    assert_eq!(inside.len(), all.iter().filter(|t| **t >= from && **t < to).count());
    assert!(inside.iter().all(|t| *t >= from && *t < to));
}

/// A skew that is not whole minutes moves each request into the minute its
/// corrected time falls in: the analysis' per-minute counts agree with the
/// query tables' count of requests per minute under the same skew.
#[test]
fn per_minute_counts_follow_a_skew_of_seconds() {
    let dir = bundle();
    let mut skew = faultline_analyzer::Skew::default();
    skew.insert("WEB01", faultline_parser::Span::secs(45));
    let scope = Scope { skew, ..Scope::default() };
    let analysis = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &scope, &|_| {}).store;
    let mut from_analysis: BTreeMap<i64, u64> = BTreeMap::new();
    for ((_, _, minute), m) in &analysis.minutes {
        *from_analysis.entry(*minute).or_default() += u64::from(m.total);
    }
    let tables = load(dir.path(), &scope);
    let rows = tables
        .sql("SELECT timestamp FROM requests")
        .expect("runs")
        .text_rows()
        .into_iter()
        .map(|r| faultline_parser::time::parse_rfc3339(r[0].as_bytes()).expect("rfc 3339"));
    let mut from_tables: BTreeMap<i64, u64> = BTreeMap::new();
    for t in rows {
        *from_tables.entry(t.seconds().div_euclid(60)).or_default() += 1;
    }
    assert!(from_analysis.len() > 100);
    assert_eq!(from_analysis, from_tables);
}

#[test]
fn exports_hold_every_row_in_hive_layout() {
    let dir = bundle();
    let tables = load(dir.path(), &Scope::default());
    for format in [ExportFormat::Csv, ExportFormat::Ndjson] {
        let out = tempfile::tempdir().expect("tempdir");
        let run = || {
            let (read, scope) = (all_events(), Scope::default());
            export(&[dir.path().to_path_buf()], &read, &scope, &bundled(), out.path(), format, &|_| {})
        };
        let summary = run().expect("exports");
        for t in TableName::ALL {
            assert_eq!(summary.rows.get(&t).copied().unwrap_or(0), tables.rows(t), "{}", t.name());
            let mut lines = 0;
            for file in walk(&out.path().join(t.name())) {
                let rel = file.strip_prefix(out.path().join(t.name())).expect("under the table");
                let parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                assert!(
                    parts[0].starts_with("host=") && parts[1].starts_with("date=") && parts.len() == 3,
                    "{rel:?}"
                );
                let text = std::fs::read_to_string(&file).expect("reads");
                // CSV files have a header line; no exported field holds a line break here.
                lines += text.lines().count() - usize::from(format == ExportFormat::Csv);
            }
            assert_eq!(lines, tables.rows(t), "{} {format:?}", t.name());
        }
        // A second export into the same folder is refused, not mixed in.
        assert!(run().is_err());
    }
}

/// DuckDB, when installed (`.ci/run` installs it from PyPI), reading the
/// Parquet export gives the same numbers as `faultline query` for the
/// documented queries.
#[test]
fn duckdb_reads_the_parquet_export_and_agrees_with_query() {
    let probe = Command::new("python3").args(["-c", "import duckdb"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: the Python duckdb module is not installed, so the DuckDB cross-check did not run"
        );
        return;
    }
    let dir = bundle();
    let out = tempfile::tempdir().expect("tempdir");
    export(
        &[dir.path().to_path_buf()],
        &all_events(),
        &Scope::default(),
        &bundled(),
        out.path(),
        ExportFormat::Parquet,
        &|_| {},
    )
    .expect("exports");
    let tables = load(dir.path(), &Scope::default());
    for name in
        ["hits-per-hour", "status-codes", "server-errors-by-url", "httperr-reasons", "failing-modules"]
    {
        let q = faultline_tables::named_query(name).expect("a named query");
        let mut ours = Vec::new();
        tables.sql(q.sql).expect("runs").write_csv(&mut ours).expect("csv");
        let script = format!(
            "import csv, duckdb, sys\n\
             con = duckdb.connect()\n\
             for t in ['requests', 'httperr', 'traces', 'events']:\n\
             \x20   con.execute(f\"CREATE VIEW {{t}} AS SELECT * FROM read_parquet('{root}/{{t}}/**/*.parquet', hive_partitioning = true)\")\n\
             cur = con.execute(sys.argv[1])\n\
             out = csv.writer(sys.stdout, lineterminator='\\n')\n\
             out.writerow([d[0] for d in cur.description])\n\
             out.writerows(['' if v is None else v for v in row] for row in cur.fetchall())\n",
            root = out.path().display()
        );
        let theirs = Command::new("python3").args(["-c", &script, q.sql]).output().expect("runs python");
        assert!(theirs.status.success(), "{name}: {}", String::from_utf8_lossy(&theirs.stderr));
        // Same rows; null ordering differs between the engines, so compare
        // as sorted lists, and numbers as numbers.
        let rows = |csv: &[u8]| {
            let mut rows: Vec<Vec<String>> = String::from_utf8_lossy(csv)
                .lines()
                .skip(1)
                .map(|l| {
                    l.split(',')
                        .map(|c| match c.parse::<f64>() {
                            Ok(n) => format!("{n}"),
                            Err(_) => c.trim_matches('"').to_string(),
                        })
                        .collect()
                })
                .collect();
            rows.sort();
            rows
        };
        let (a, b) = (rows(&ours), rows(&theirs.stdout));
        assert!(!a.is_empty(), "{name}");
        assert_eq!(a, b, "{name}: faultline and DuckDB disagree");
    }
}

/// The `detections` table holds what `hunt` finds on the same evidence, row
/// for row (rule, file, line, time), and only when a query names it is the
/// evidence hunted.
#[test]
fn the_detections_table_is_what_hunt_finds() {
    let dir = bundle();
    let paths = [dir.path().to_path_buf()];
    let hunted = hunt(&paths, &all_events(), &Scope::default(), &bundled(), &|_| {});
    let expected: Vec<Vec<String>> = hunted
        .detections
        .iter()
        .map(|d| {
            vec![
                d.rule.meta.id.clone(),
                d.rule.meta.level.name().to_string(),
                d.evidence.path.clone(),
                d.evidence.line.map(|l| l.to_string()).unwrap_or_default(),
                d.time.to_rfc3339(),
            ]
        })
        .collect();
    assert!(
        hunted.detections.iter().any(|d| d.rule.meta.techniques.iter().any(|t| t == "T1505.003")),
        "the web shell scenario gives a web-shell detection"
    );
    let sql = "SELECT rule_id, rule_level, log_file_path, log_file_line, timestamp FROM detections";
    let projection = Projection::of_sql(sql);
    assert!(projection.hunts());
    let tables = Tables::load(&paths, &all_events(), &Scope::default(), &projection, &bundled(), &|_| {})
        .expect("tables");
    let rows = tables.sql(sql).expect("runs").text_rows();
    assert_eq!(rows, expected);
    // Techniques and matched fields are there for SQL to pick apart.
    let shells = number(
        &tables_all(&paths),
        "SELECT count(*) FROM detections WHERE threat_technique_id LIKE '%T1505.003%' AND matched LIKE '{%}'",
    );
    assert!(shells > 0);
    // A query that does not name the table reads without hunting.
    let plain = Tables::load(
        &paths,
        &all_events(),
        &Scope::default(),
        &Projection::of_sql("SELECT count(*) FROM requests"),
        &bundled(),
        &|_| {},
    )
    .expect("tables");
    assert_eq!(plain.rows(TableName::Detections), 0);
}

fn tables_all(paths: &[PathBuf]) -> Tables {
    Tables::load(paths, &all_events(), &Scope::default(), &Projection::ALL, &bundled(), &|_| {})
        .expect("tables")
}

/// The web shell's process tree is a query over columns: the processes
/// w3wp started, from Sysmon and Security 4688 alike, as many as the
/// events whose data name w3wp as the parent.
#[test]
fn the_worker_s_children_are_a_query_over_process_columns() {
    let dir = bundle();
    let tables = load(dir.path(), &Scope::default());
    let children = number(
        &tables,
        "SELECT count(*) FROM events WHERE lower(process_parent_executable) LIKE '%\\w3wp.exe' \
         AND process_executable IS NOT NULL",
    );
    let in_data = number(
        &tables,
        "SELECT count(*) FROM events WHERE lower(message) LIKE '%parentimage=%\\w3wp.exe%' \
         OR lower(message) LIKE '%parentprocessname=%\\w3wp.exe%'",
    );
    assert!(children > 0, "the web shell started processes");
    assert_eq!(children, in_data);
}

/// SQL Server's failed logins name their login and client by place, not by
/// name: the events table still has them as `user_name` and `source_ip`
/// (sbousseaden's spray: ten logins from one client).
#[test]
fn sql_server_failed_logins_have_their_login_and_client() {
    let Some(root) = common::samples("the SQL Server login table test") else { return };
    let spray =
        root.join("evtx-sbousseaden-EVTX-ATTACK-SAMPLES/MSSQL_multiple_failed_logon_EventID_18456.evtx");
    let tables = tables_all(&[spray]);
    let row = |sql: &str| number(&tables, sql);
    assert_eq!(row("SELECT count(DISTINCT user_name) FROM events WHERE event_code = 18456"), 10);
    assert_eq!(
        row("SELECT count(*) FROM events WHERE event_code = 18456 AND source_ip = '10.0.2.17'"),
        row("SELECT count(*) FROM events WHERE event_code = 18456")
    );
    assert_eq!(row("SELECT count(*) FROM events WHERE event_code = 18456 AND user_name = 'sa'"), 1);
}

/// Two hundred small gzipped logs whose trailers each claim 65 MiB: each is
/// a read group of its own, and the groups' Parquet writes, run on polars'
/// pool from the read's workers, once nested on one stack until it
/// overflowed (about thirty groups). Every group is written.
#[test]
fn an_export_of_many_read_groups_writes_them_all() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let header = "#Fields: date time s-ip cs-method cs-uri-stem sc-status\r\n";
    for i in 0..200u32 {
        let mut body = header.to_string();
        for second in 0..5 {
            body.push_str(&format!("2024-01-{:02} 03:04:{second:02} 10.0.0.1 GET /f{i} 200\r\n", i % 28 + 1));
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body.as_bytes()).expect("gzip");
        let mut bytes = gz.finish().expect("gzip");
        let at = bytes.len() - 4;
        bytes[at..].copy_from_slice(&((65u32 << 20) + i).to_le_bytes());
        std::fs::write(dir.path().join(format!("u_ex{i:04}.log.gz")), bytes).expect("write");
    }
    let out = tempfile::tempdir().expect("tempdir");
    let summary = export(
        &[dir.path().to_path_buf()],
        &ReadConfig::default(),
        &Scope::default(),
        &Hunt::none(),
        out.path(),
        ExportFormat::Parquet,
        &|_| {},
    )
    .expect("exports");
    assert_eq!(summary.rows.get(&TableName::Requests), Some(&1000));
    assert_eq!(summary.files, 200);
}

/// A column the table does not have is named with the columns it has (only
/// the columns a query names are built, which polars would list instead).
#[test]
fn an_unknown_column_is_named_with_the_tables_columns() {
    let dir = bundle();
    let sql = "SELECT url_path, nosuchcol FROM requests";
    let tables = Tables::load(
        &[dir.path().to_path_buf()],
        &all_events(),
        &Scope::default(),
        &Projection::of_sql(sql),
        &bundled(),
        &|_| {},
    )
    .expect("tables");
    let error = tables.sql(sql).expect_err("no such column").to_string();
    assert!(error.contains("\"nosuchcol\""), "{error}");
    assert!(error.contains(&format!("requests has {}", TableName::Requests.columns().join(", "))), "{error}");
    assert!(!error.contains("valid columns"), "{error}");
}

/// Behind a load balancer, `source_ip` is the balancer and `client_ip` the
/// client its X-Forwarded-For names (what `top-clients` counts); with the
/// proxies named, only what they appended is believed, and a row from
/// elsewhere keeps its own address.
#[test]
fn the_client_behind_a_load_balancer_is_its_forwarded_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = "#Software: Microsoft Internet Information Services 10.0\n\
               #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken X-Forwarded-For\n\
               2025-01-01 10:00:00 10.0.0.10 GET /a - 443 - 10.0.0.4 Mozilla/5.0 200 0 0 3 198.51.100.7\n\
               2025-01-01 10:00:01 10.0.0.10 GET /b - 443 - 10.0.0.4 Mozilla/5.0 404 0 2 3 192.0.2.9,+203.0.113.20\n\
               2025-01-01 10:00:02 10.0.0.10 GET /c - 443 - 203.0.113.50 Mozilla/5.0 200 0 0 3 192.0.2.1\n";
    std::fs::write(dir.path().join("u_ex250101.log"), log).expect("writes");
    let clients = |hunt: &Hunt| {
        let sql = "SELECT source_ip, client_ip FROM requests ORDER BY log_file_line";
        let tables = Tables::load(
            &[dir.path().to_path_buf()],
            &all_events(),
            &Scope::default(),
            &Projection::of_sql(sql),
            hunt,
            &|_| {},
        )
        .expect("tables");
        tables.sql(sql).expect("runs").text_rows()
    };
    let row = |source: &str, client: &str| vec![source.to_string(), client.to_string()];
    assert_eq!(
        clients(&Hunt::none()),
        [
            row("10.0.0.4", "198.51.100.7"),
            row("10.0.0.4", "203.0.113.20"),
            row("203.0.113.50", "203.0.113.50")
        ],
        "a private c-ip is taken for one proxy, the header's last entry for the client"
    );
    let named = Hunt::none().trust_proxies(vec![("10.0.0.4".parse().expect("an address"), 32)]);
    assert_eq!(clients(&named)[1], row("10.0.0.4", "203.0.113.20"));
    let two = Hunt::none().trust_proxies(vec![
        ("10.0.0.4".parse().expect("an address"), 32),
        ("203.0.113.20".parse().expect("an address"), 32),
    ]);
    assert_eq!(clients(&two)[1], row("10.0.0.4", "192.0.2.9"), "past both named proxies");
}

/// `failed-logins` counts Security's logon failures only: the hayabusa
/// samples' Application log holds EventSystem 4625s (no logon, no account,
/// no address), which once made a row of 38 failures of no one.
#[test]
fn failed_logins_are_security_logon_failures_only() {
    let Some(samples) = common::samples("failed-logins over hayabusa's samples") else { return };
    let dir = samples.join("evtx-Yamato-Security-hayabusa-sample-evtx");
    let sql = QUERIES.iter().find(|q| q.name == "failed-logins").expect("the query").sql;
    let tables = Tables::load(
        &[dir],
        &all_events(),
        &Scope::default(),
        &Projection::of_sql(sql),
        &Hunt::none(),
        &|_| {},
    )
    .expect("tables");
    let all_4625 = number(&tables, "SELECT count(*) FROM events WHERE event_code = 4625");
    let rows = tables.sql(sql).expect("runs").text_rows();
    let failures: i64 = rows.iter().map(|r| r[3].parse::<i64>().expect("a count")).sum();
    assert!(failures > 3_000 && failures < all_4625, "{failures} of {all_4625}");
    assert!(rows.iter().all(|r| !r[2].is_empty()), "every row names its logon type: {rows:?}");
}

/// A record no evidence names a host of has a null `host_name` (the read
/// files it under `-`, which `WHERE host_name IS NULL` missed).
#[test]
fn a_record_of_no_known_host_has_a_null_host() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("u_ex250101.log");
    std::fs::write(
        &log,
        "#Software: Microsoft Internet Information Services 10.0\n\
         #Fields: date time cs-method cs-uri-stem sc-status\n\
         2025-01-01 10:00:00 GET /a 200\n",
    )
    .expect("writes");
    let sql = "SELECT count(*) FROM requests WHERE host_name IS NULL";
    let tables = Tables::load(
        &[log],
        &all_events(),
        &Scope::default(),
        &Projection::of_sql(sql),
        &Hunt::none(),
        &|_| {},
    )
    .expect("tables");
    assert_eq!(number(&tables, sql), 1);
}

/// The account that cleared a log (1102's SubjectUserName) is the event's
/// user, where no logon or process account is named.
#[test]
fn who_cleared_a_log_is_the_events_user() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate("log-clearing", dir.path(), 7, &Size { hosts: 1, hours: 2, rate: 0.05 }).expect("generates");
    let sql = "SELECT user_name FROM events WHERE event_code = 1102";
    let tables = Tables::load(
        &[dir.path().to_path_buf()],
        &all_events(),
        &Scope::default(),
        &Projection::of_sql(sql),
        &Hunt::none(),
        &|_| {},
    )
    .expect("tables");
    let users = tables.sql(sql).expect("runs").text_rows();
    assert!(!users.is_empty() && users.iter().all(|u| !u[0].is_empty() && u[0] != "-"), "{users:?}");
}
