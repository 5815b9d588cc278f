use proptest::prelude::*;

use super::*;

/// Collects a readable form of everything a chunk produced.
#[derive(Default, Debug)]
struct Collect {
    records: Vec<String>,
    diagnostics: Vec<String>,
}

fn show(b: Option<&[u8]>) -> String {
    b.map_or_else(|| "-".to_string(), |v| String::from_utf8_lossy(v).into_owned())
}

impl RecordSink for Collect {
    type Error = std::convert::Infallible;
    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        let custom: Vec<String> =
            r.custom.iter().map(|(n, v)| format!("{n}={}", String::from_utf8_lossy(v))).collect();
        self.records.push(format!(
            "{}:{} {} {:?} site={} comp={} sip={} {} {} q={} port={:?} user={} cip={} ver={} ua={} cookie={} ref={} host={} {:?}.{:?}.{:?} sent={:?} recv={:?} taken={:?} [{}]",
            r.origin.line,
            r.origin.offset,
            r.time,
            r.time_basis,
            show(r.site_name),
            show(r.computer_name),
            r.server_ip.map_or_else(|| "-".into(), |a| a.to_string()),
            show(r.method),
            show(r.uri_stem),
            show(r.uri_query),
            r.server_port,
            show(r.username),
            r.client_ip.map_or_else(|| "-".into(), |a| a.to_string()),
            show(r.version),
            show(r.user_agent),
            show(r.cookie),
            show(r.referer),
            show(r.host),
            r.status,
            r.substatus,
            r.win32_status,
            r.bytes_sent,
            r.bytes_received,
            r.time_taken_ms,
            custom.join(",")
        ));
        Ok(())
    }
    fn http_error(&mut self, r: &HttpError<'_>) -> Result<(), Self::Error> {
        self.records.push(format!(
            "{}:{} {} {}:{:?} -> {}:{:?} {} {} {} sid={:?} {:?} site={:?} {} q={} t={} f={}/{}",
            r.origin.line,
            r.origin.offset,
            r.time,
            r.client_ip.map_or_else(|| "-".into(), |a| a.to_string()),
            r.client_port,
            r.server_ip.map_or_else(|| "-".into(), |a| a.to_string()),
            r.server_port,
            show(r.version),
            show(r.method),
            show(r.uri),
            r.stream_id,
            r.status,
            r.site_id,
            r.reason,
            show(r.queue_name),
            show(r.transport),
            show(r.fault_code),
            show(r.extended_fault_code),
        ));
        Ok(())
    }
    fn diagnostic(&mut self, d: Diagnostic) {
        let at = match d.location {
            crate::diagnostic::Location::Line { line, .. } => format!("line {line}"),
            other => format!("{other:?}"),
        };
        self.diagnostics.push(format!("{at}: {}: {}", d.severity, d.message));
    }
}

fn parse_with(data: &[u8], dialect: Dialect, chunk_size: usize) -> Collect {
    let config = TextConfig { chunk_size };
    let Ok(sinks) = parse_text(data, dialect, &config, &crate::framing::InMemory, &|_| {}, Collect::default);
    let mut all = Collect::default();
    for s in sinks {
        all.records.extend(s.records);
        all.diagnostics.extend(s.diagnostics);
    }
    all
}

fn parse(data: &[u8], dialect: Dialect) -> Collect {
    parse_with(data, dialect, 1 << 20)
}

#[test]
fn fields_change_mid_file_and_each_block_uses_its_own_layout() {
    let log = b"#Software: Microsoft Internet Information Services 10.0\r\n\
#Version: 1.0\r\n\
#Date: 2024-03-01 00:00:01\r\n\
#Fields: date time cs-uri-stem sc-status time-taken\r\n\
2024-03-01 00:00:01 /a 200 15\r\n\
#Software: Microsoft Internet Information Services 10.0\r\n\
#Date: 2024-03-01 10:00:00\r\n\
#Fields: date time s-computername cs-uri-stem sc-status sc-substatus sc-win32-status time-taken X-Forwarded-For\r\n\
2024-03-01 10:00:00 WEB01 /b 500 19 13 3 203.0.113.9,+10.0.0.1\r\n";
    let got = parse(log, Dialect::W3c);
    assert_eq!(got.diagnostics, Vec::<String>::new());
    assert_eq!(got.records.len(), 2);
    assert!(
        got.records[0].contains("2024-03-01T00:00:01.000000000Z")
            && got.records[0].contains("/a")
            && got.records[0].contains("taken=Some(15)")
    );
    assert!(got.records[1].starts_with("9:"));
    assert!(got.records[1].contains("comp=WEB01"));
    assert!(got.records[1].contains("Some(500).Some(19).Some(13)"));
    assert!(got.records[1].contains("[X-Forwarded-For=203.0.113.9,+10.0.0.1]"));
}

/// A `#Fields` line naming a field twice loses one of the two values per
/// row, which the warning says (which one depends on the field and the
/// reader).
#[test]
fn a_field_named_twice_is_a_warning_naming_the_column_read() {
    let log = b"#Fields: date time cs-uri-stem sc-status CS-URI-STEM\n\
2024-01-01 00:00:00 /first 200 /second\n\
#Fields: date time X-Forwarded-For sc-status x-forwarded-for\n\
2024-01-01 00:00:01 203.0.113.9 200 10.0.0.1\n";
    let got = parse(log, Dialect::W3c);
    assert_eq!(
        got.diagnostics,
        [
            "line 1: warning: #Fields lists cs-uri-stem twice (columns 3 and 5): one of the two values is lost on every row",
            "line 3: warning: #Fields lists x-forwarded-for twice (columns 3 and 5): one of the two values is lost on every row",
        ]
    );
    assert_eq!(got.records.len(), 2);
    assert!(got.records[0].contains("/second") && !got.records[0].contains("/first"), "{}", got.records[0]);
    assert!(got.records[1].contains("X-Forwarded-For=203.0.113.9"), "{}", got.records[1]);
    // Every field listed twice is named, the second date and time among them.
    let log = b"#Fields: date time sc-status sc-status cs-uri-stem cs-uri-stem c-ip date time\n\
2024-01-01 00:00:00 200 500 /a /b 10.0.0.1 2025-01-01 01:00:00\n";
    let got = parse(log, Dialect::W3c);
    assert_eq!(
        got.diagnostics,
        [
            "line 1: warning: #Fields lists sc-status twice (columns 3 and 4), cs-uri-stem twice (columns 5 and 6), \
          date twice (columns 1 and 8), time twice (columns 2 and 9): one of the two values is lost on every row"
        ]
    );
}

/// Behind a proxy, only what the proxies appended to `X-Forwarded-For` is
/// believed: with none named, the right-most entry (a forged one to its left
/// is passed over); with proxies named, the first entry from the right that
/// is not one of them. A row from a peer that is no proxy is its own client.
#[test]
fn a_forwarded_client_is_read_from_the_right_of_the_header() {
    #[derive(Default)]
    struct Clients(Vec<(Option<String>, Option<String>)>);
    impl RecordSink for Clients {
        type Error = std::convert::Infallible;
        fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
            let named = |ip: std::net::IpAddr| matches!(ip, std::net::IpAddr::V4(v4) if v4.octets()[0] == 10);
            let show = |ip: Option<std::net::IpAddr>| ip.map(|ip| ip.to_string());
            self.0.push((show(r.forwarded_client(None)), show(r.forwarded_client(Some(&named)))));
            Ok(())
        }
        fn http_error(&mut self, _: &HttpError<'_>) -> Result<(), Self::Error> {
            Ok(())
        }
        fn diagnostic(&mut self, _: Diagnostic) {}
    }
    let log = b"#Fields: date time c-ip cs-uri-stem sc-status X-Forwarded-For\n\
2024-01-01 00:00:00 10.0.0.4 /a 200 203.0.113.9\n\
2024-01-01 00:00:00 10.0.0.4 /b 200 198.51.100.1,+203.0.113.9\n\
2024-01-01 00:00:00 10.0.0.4 /c 200 203.0.113.9:51234,+10.1.1.1\n\
2024-01-01 00:00:00 ::ffff:10.0.0.4 /d 200 [2001:db8::7]:443\n\
2024-01-01 00:00:00 10.0.0.4 /e 200 10.9.9.9,+10.1.1.1\n\
2024-01-01 00:00:00 10.0.0.4 /f 200 unknown\n\
2024-01-01 00:00:00 198.51.100.50 /g 200 203.0.113.9\n\
2024-01-01 00:00:00 10.0.0.4 /h 200 -\n";
    let Ok(sinks) = parse_text(
        log,
        Dialect::W3c,
        &TextConfig::default(),
        &crate::framing::InMemory,
        &|_| {},
        Clients::default,
    );
    let got: Vec<(Option<String>, Option<String>)> = sinks.into_iter().flat_map(|s| s.0).collect();
    let want = [
        (Some("203.0.113.9"), Some("203.0.113.9")),
        (Some("203.0.113.9"), Some("203.0.113.9")),
        (Some("10.1.1.1"), Some("203.0.113.9")),
        (Some("2001:db8::7"), None),
        (Some("10.1.1.1"), None),
        (None, None),
        (None, None),
        (None, None),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.map(str::to_string), b.map(str::to_string))));
}

#[test]
fn rows_before_fields_get_the_default_layout_and_a_diagnostic() {
    let log = b"2024-01-01 00:00:00 10.0.0.1 GET /x - 80 - 10.0.0.2 UA - 200 0 0 5\n";
    let got = parse(log, Dialect::W3c);
    assert_eq!(got.records.len(), 1);
    assert!(
        got.diagnostics[0].contains("(from line 1) were read with the default layout"),
        "{:?}",
        got.diagnostics
    );
    // Which lines: from the first row to the line before the #Fields.
    let row = "2024-01-01 00:00:00 10.0.0.1 GET /x - 80 - 10.0.0.2 UA - 200 0 0 5\n";
    let log = format!(
        "#Software: x\n{row}{row}{row}#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:01 /y 200\n"
    );
    let got = parse(log.as_bytes(), Dialect::W3c);
    assert!(
        got.diagnostics.iter().any(|d| d.contains("rows before the first #Fields directive (lines 2-4)")),
        "{:?}",
        got.diagnostics
    );
    assert_eq!(got.records.len(), 4, "the three rows under the header, and the one after #Fields");
    // A header that lost its #Fields line: its rows are read all the same,
    // and the file is told a W3C log.
    let log = format!(
        "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2024-01-01 00:00:00\r\n{row}{row}"
    );
    let got = parse(log.as_bytes(), Dialect::W3c);
    assert_eq!(got.records.len(), 2, "{:?}", got.diagnostics);
    assert!(got.diagnostics.iter().any(|d| d.contains("(from line 4) were read with the default layout")));
    assert_eq!(
        crate::format::detect("u_ex240101.log", log.as_bytes()),
        crate::format::Detection::Format(crate::format::Format::W3c)
    );
}

/// elastic/beats' header-less log behind a load balancer: the column after
/// the standard ones holds the clients' addresses, and is read as the
/// X-Forwarded-For field; a trailing column of anything else, or of the
/// server's own address, keeps a made-up name.
#[test]
fn a_header_less_trailing_column_of_addresses_is_x_forwarded_for() {
    let row = |extra: &str| {
        format!(
            "2020-10-05 21:40:30 W3SVC2 web1 10.24.129.162 GET /robots.txt - 80 - 10.24.136.240 HTTP/1.1 \
             Twitterbot/1.0 - - www.example.com 200 0 0 346 306 0 {extra}\n"
        )
    };
    let layout = |rows: &[&str]| {
        let log: String = rows.iter().map(|r| row(r)).collect();
        infer_layout(log.as_bytes(), Dialect::W3c).expect("a layout").describe()
    };
    assert!(
        layout(&["119.16.157.180", "-", "203.0.113.9,+10.1.1.1"]).ends_with("time-taken X-Forwarded-For")
    );
    assert!(layout(&["119.16.157.180", "session-7"]).ends_with("time-taken x-field23"));
    // The server's own address, or only internal ones: not a client's.
    assert!(layout(&["10.24.129.162"]).ends_with("time-taken x-field23"));
    assert!(layout(&["10.9.9.9"]).ends_with("time-taken x-field23"));
}

#[test]
fn unescaped_spaces_are_absorbed_by_a_free_text_field() {
    let log = b"#Fields: date time cs-uri-stem cs-uri-query c-ip sc-status time-taken\n\
2024-01-01 00:00:00 /owa a=1 b=2 c 10.0.0.2 200 31\n";
    let got = parse(log, Dialect::W3c);
    assert_eq!(got.records.len(), 1, "{:?}", got.diagnostics);
    assert!(got.records[0].contains("q=a=1 b=2 c"));
    assert!(got.diagnostics[0].contains("kept inside cs-uri-query"), "{:?}", got.diagnostics);
}

/// A row cut short by a crash with the next row written on after it: the
/// cut row is rejected, the next one read, whether the cut fell between
/// values (in a log of IIS, which writes no space inside a value) or inside
/// one; a query holding a date and a time is no next row, and in a log of
/// another writer a free-text column takes the values first.
#[test]
fn a_row_cut_short_and_joined_by_the_next_is_two() {
    let log = b"#Software: Microsoft Internet Information Services 10.0
#Fields: date time cs-uri-stem cs-uri-query c-ip sc-status time-taken
2024-01-01 00:00:00 /a - 10.0.0.1 200 31
2024-01-01 00:00:01 /id2024-01-01 00:00:02 /idx2.html - 10.0.0.2 200 5
2024-01-01 00:00:03 /b 2024-01-01 00:00:04 /c - 10.0.0.3 500 9
2024-01-01 00:00:05 /q from=2024-01-01 00:00:00 10.0.0.4 200 1
";
    let got = parse(log, Dialect::W3c);
    assert_eq!(got.records.len(), 4, "{:?}", got.diagnostics);
    assert!(got.records[1].contains("/idx2.html"), "{:?}", got.records);
    assert!(got.records[2].contains("/c"), "{:?}", got.records);
    assert!(got.records[3].contains("from=2024-01-01 00:00:00"), "{:?}", got.records);
    assert_eq!(got.diagnostics.len(), 3, "{:?}", got.diagnostics);
    assert!(got.diagnostics[0].starts_with("line 4: error: a row cut short"), "{:?}", got.diagnostics);
    assert!(got.diagnostics[1].starts_with("line 5: error: a row cut short"), "{:?}", got.diagnostics);
    assert!(got.diagnostics[2].contains("kept inside cs-uri-query"), "{:?}", got.diagnostics);
    // Blanks or a byte-order mark before a row cut nothing: the row is read,
    // nothing counted lost.
    let padded = "#Software: Microsoft Internet Information Services 10.0\n\
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n \
2024-01-01 00:00:01 10.0.0.1 GET /a - 80 - 1.2.3.4 UA - 200 0 0 1\n\x0c\
2024-01-01 00:00:02 10.0.0.1 GET /b - 80 - 1.2.3.4 UA - 200 0 0 1\n\u{feff}\
2024-01-01 00:00:03 10.0.0.1 GET /c - 80 - 1.2.3.4 UA - 200 0 0 1\n";
    let got = parse(padded.as_bytes(), Dialect::W3c);
    assert_eq!(got.records.len(), 3, "{:?}", got.diagnostics);
    assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
    // Another writer, spaces in a query that quotes a date and a time: one
    // row, its query holding them.
    let other = b"#Fields: date time cs-uri-stem cs-uri-query c-ip sc-status time-taken
2024-01-01 00:00:05 /q q=x from 2024-01-01 10:00:00 until now 10.0.0.4 200 1
";
    let got = parse(other, Dialect::W3c);
    assert_eq!(got.records.len(), 1, "{:?}", got.diagnostics);
    assert!(got.records[0].contains("from 2024-01-01 10:00:00 until now"), "{:?}", got.records);
}

/// A file whose line ends change from CRLF to CR alone after its head
/// (the head alone decides how a file's lines are read): the line that then
/// holds many rows is read row by row, a directive among them included, in
/// a log of IIS and of another writer (whose free-text column would
/// otherwise take the values), and each row keeps its own byte offset.
#[test]
fn rows_ended_by_a_carriage_return_alone_after_crlf_rows_are_each_read() {
    for software in ["#Software: Microsoft Internet Information Services 10.0\r\n", ""] {
        let head = format!("{software}#Fields: date time cs-uri-stem cs(User-Agent) sc-status\r\n");
        let log = format!(
            "{head}2024-01-01 00:00:00 /a UA 200\r\n2024-01-01 00:00:01 /b UA 200\r2024-01-01 00:00:02 /c UA 500\r\
             #Fields: date time cs-uri-stem sc-status\r2024-01-01 00:00:03 /d 404\r\r\n2024-01-01 00:00:04 /e 200\r\n"
        );
        let got = parse(log.as_bytes(), Dialect::W3c);
        assert_eq!(got.records.len(), 5, "{:?}", got.diagnostics);
        let line = head.lines().count() as u64 + 2;
        let at = |stem: &str| {
            log.find(&format!("00 {stem} ")).or_else(|| log.find(&format!(" {stem} "))).unwrap_or(0)
        };
        for (record, stem) in got.records.iter().zip(["/a", "/b", "/c", "/d"]) {
            assert!(record.contains(&format!(" {stem} ")), "{record}");
            let start = log[..at(stem)].rfind(['\r', '\n']).map_or(0, |p| p + 1);
            assert!(
                record.starts_with(&format!("{}:{start} ", if stem == "/a" { line - 1 } else { line })),
                "{record}"
            );
        }

        assert!(
            got.records[4].contains(" /e ") && got.records[4].contains("ua=-"),
            "the later #Fields holds: {:?}",
            got.records
        );
        assert_eq!(got.diagnostics.len(), 1, "{:?}", got.diagnostics);
        assert!(
            got.diagnostics[0].starts_with(&format!(
                "line {line}: warning: this line holds 4 lines ended by a carriage return alone"
            )),
            "{:?}",
            got.diagnostics
        );
    }
}

/// The header block IIS writes on reopening a log, in the new line ends,
/// starts the line that holds the rows ended by CR alone: the directives
/// and the rows are each read (they were taken for one directive). NUL
/// padding before a row there is reported and the row read; a stray CR
/// inside a value that a free-text column takes is no line end.
#[test]
fn a_header_block_ended_by_carriage_returns_and_its_rows_are_each_read() {
    let fields = "#Fields: date time cs-uri-stem cs(User-Agent) sc-status";
    let log = format!(
        "#Software: Microsoft Internet Information Services 10.0\r\n{fields}\r\n2024-01-01 00:00:00 /a UA 200\r\n\
         #Software: Microsoft Internet Information Services 10.0\r#Date: 2024-01-01 00:00:01\r{fields}\r\
         2024-01-01 00:00:01 /b UA 200\r{}2024-01-01 00:00:02 /c UA 500\r\r\n",
        "\0".repeat(30)
    );
    let got = parse(log.as_bytes(), Dialect::W3c);
    assert_eq!(got.records.len(), 3, "{:?}", got.diagnostics);
    assert!(got.records[2].contains(" /c "), "{:?}", got.records);
    assert_eq!(got.diagnostics.len(), 2, "{:?}", got.diagnostics);
    assert!(
        got.diagnostics[0].contains("this line holds 5 lines ended by a carriage return alone"),
        "{:?}",
        got.diagnostics
    );
    assert!(
        got.diagnostics[1].contains("30 bytes of NUL padding, the log going on at line 4"),
        "{:?}",
        got.diagnostics
    );
    let stray = format!(
        "#Software: Something Else\n{fields}\n2024-01-01 00:00:00 /a Mozilla/5.0 (X11;\r Linux) 200\n"
    );
    let got = parse(stray.as_bytes(), Dialect::W3c);
    assert_eq!(got.records.len(), 1, "{:?}", got.diagnostics);
    assert!(got.diagnostics[0].contains("more values than #Fields declares"), "{:?}", got.diagnostics);
}

/// A row cut within its first bytes, the next written on after it: the
/// next row's date follows the cut row's first digits in one value, and
/// the next row is read.
#[test]
fn a_row_cut_within_its_date_and_joined_by_the_next_is_read() {
    let log = b"#Software: Microsoft Internet Information Services 10.0
#Fields: date time cs-uri-stem sc-status
2024-01-01 00:00:00 /a 200
22024-01-01 00:00:02 /b 200
2024-01-2024-01-01 00:00:03 /c 200
x2024-01-01 /d 200
";
    let got = parse(log, Dialect::W3c);
    assert_eq!(got.records.len(), 3, "{:?}", got.diagnostics);
    assert!(got.records[1].starts_with("4:125 ") && got.records[1].contains(" /b "), "{:?}", got.records);
    assert!(got.records[2].contains(" /c "), "{:?}", got.records);
    assert_eq!(got.diagnostics.len(), 3, "{:?}", got.diagnostics);
    assert!(got.diagnostics[0].starts_with("line 4: error: a row cut short"), "{:?}", got.diagnostics);
    assert!(
        got.diagnostics[2].starts_with("line 6: error: expected 4 fields"),
        "a value short: {:?}",
        got.diagnostics
    );
}

#[test]
fn rows_that_cannot_be_anchored_are_rejected_with_line_and_reason() {
    let log = b"#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /a\n2024-01-01 00:00:00 /a abc\n2024-13-01 00:00:00 /a 200\n";
    let got = parse(log, Dialect::W3c);
    assert!(got.records.is_empty());
    assert_eq!(
        got.diagnostics,
        [
            "line 2: error: expected 4 fields as declared by #Fields, found 3",
            "line 3: error: sc-status: expected an HTTP status (100-999), found \"abc\"",
            "line 4: error: date: expected YYYY-MM-DD, found \"2024-13-01\"",
        ]
    );
}

/// A row of a million values is rejected by its count, which is said,
/// and the rows around it are read.
#[test]
fn a_row_of_far_too_many_values_is_rejected_by_its_count() {
    let mut log =
        b"#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /a 200\n2024-01-01 00:00:01".to_vec();
    log.extend(std::iter::repeat_n(b" a".as_slice(), 1_000_000).flatten());
    log.extend_from_slice(b"\n2024-01-01 00:00:02 /b 200\n");
    let got = parse(&log, Dialect::W3c);
    assert_eq!(got.records.len(), 2, "{:?}", got.diagnostics);
    assert_eq!(got.diagnostics, ["line 3: error: expected 4 fields as declared by #Fields, found 1000002"]);
}

#[test]
fn torn_last_line_is_kept_when_whole_and_flagged() {
    let whole = b"#Fields: date time sc-status\n2024-01-01 00:00:00 200\n2024-01-01 00:00:01 404";
    let got = parse(whole, Dialect::W3c);
    assert_eq!(got.records.len(), 2);
    assert!(got.diagnostics[0].starts_with("line 3: warning: last line has no line terminator"));
    let cut = b"#Fields: date time sc-status time-taken\n2024-01-01 00:00:00 200 1\n2024-01-01 00:0";
    let got = parse(cut, Dialect::W3c);
    assert_eq!(got.records.len(), 1);
    assert!(got.diagnostics[0].starts_with("line 3: error: torn last line"), "{:?}", got.diagnostics);
    // Ended by a carriage return: whole (CR alone ends lines in some files;
    // IIS writes its CR after a whole row).
    let ended = b"#Fields: date time sc-status\n2024-01-01 00:00:00 200\n2024-01-01 00:00:01 404\r";
    let got = parse(ended, Dialect::W3c);
    assert_eq!((got.records.len(), got.diagnostics.len()), (2, 0), "{:?}", got.diagnostics);
}

#[test]
fn nul_padding_is_one_diagnostic() {
    let mut log = b"#Fields: date time sc-status\n2024-01-01 00:00:00 200\n".to_vec();
    log.extend(std::iter::repeat_n(0u8, 5000));
    let got = parse_with(&log, Dialect::W3c, 64);
    assert_eq!(got.records.len(), 1);
    assert_eq!(got.diagnostics.len(), 1, "{:?}", got.diagnostics);
    assert!(
        got.diagnostics[0].starts_with("line 3: error: 5000 bytes of NUL padding to the end of the file"),
        "every NUL counted, nothing more: {:?}",
        got.diagnostics
    );
}

/// NULs and the restarted server's directives or rows on the same line:
/// the padding is one diagnostic, the rest is read, however the file is
/// chunked.
#[test]
fn nuls_then_the_log_on_the_same_line_keep_the_log() {
    let mut log = b"#Fields: date time sc-status\n2024-01-01 00:00:00 200\n".to_vec();
    log.extend(std::iter::repeat_n(0u8, 3000));
    log.extend_from_slice(b"\n");
    log.extend(std::iter::repeat_n(0u8, 100));
    log.extend_from_slice(b"#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:05:00 /a 500\n");
    log.extend(std::iter::repeat_n(0u8, 10));
    log.extend_from_slice(b"2024-01-01 00:06:00 /b 404\n");
    // The header after NULs at the file's very start.
    let mut first = vec![0u8; 10];
    first.extend_from_slice(b"#Fields: date time sc-status\n2024-01-01 00:00:00 200\n");
    let got = parse(&first, Dialect::W3c);
    assert_eq!(got.records.len(), 1, "{:?}", got.diagnostics);
    assert_eq!(got.diagnostics.len(), 1, "only the padding: {:?}", got.diagnostics);
    for chunk in [64, 1 << 20] {
        let got = parse_with(&log, Dialect::W3c, chunk);
        assert_eq!(got.records.len(), 3, "chunk {chunk}: {:?}", got.diagnostics);
        assert_eq!(
            got.diagnostics,
            [
                "line 3: error: 3100 bytes of NUL padding, the log going on at line 4: rows lost or zeroed, as when \
                    a server stops without flushing and logs on after its restart",
                "line 6: error: 10 bytes of NUL padding, the log going on at line 6: rows lost or zeroed, as when \
                    a server stops without flushing and logs on after its restart",
            ],
            "chunk {chunk}"
        );
    }
}

/// A block of NULs inside a file (a crash, then the restarted server
/// logging on) says where the log goes on, however the file is chunked.
#[test]
fn a_nul_block_inside_a_file_says_where_the_log_goes_on() {
    let mut log = b"#Fields: date time sc-status\r\n2024-01-01 00:00:00 200\r\n".to_vec();
    log.extend(std::iter::repeat_n(0u8, 3000));
    log.extend_from_slice(b"\r\n\0\0\r\n#Fields: date time sc-status\r\n2024-01-01 00:05:00 500\r\n");
    for chunk in [64, 1 << 20] {
        let got = parse_with(&log, Dialect::W3c, chunk);
        assert_eq!(got.records.len(), 2, "chunk {chunk}");
        assert_eq!(
            got.diagnostics,
            ["line 3: error: 3002 bytes of NUL padding, the log going on at line 5: rows lost or zeroed, \
              as when a server stops without flushing and logs on after its restart"],
            "chunk {chunk}"
        );
    }
}

#[test]
fn date_comes_from_the_directive_and_midnight_is_crossed() {
    let log = b"#Date: 2013-07-30 23:59:00\n#Fields: time c-ip cs-method cs-uri-stem sc-status\n23:59:58 1.1.1.1 GET /a 200\n00:00:02 1.1.1.1 GET /b 200\n";
    let got = parse_with(log, Dialect::W3c, 8);
    assert_eq!(got.records.len(), 2);
    assert!(got.records[0].contains("2013-07-30T23:59:58.000000000Z DirectiveDate"));
    assert!(got.records[1].contains("2013-07-31T00:00:02.000000000Z DirectiveDate"));
}

#[test]
fn advanced_logging_quotes_and_local_time() {
    let log = b"#Software: IIS Advanced Logging Module\n\n#Start-Date: 2014-11-18 00:00:00.128\n#Fields:   date-local time-local c-ip cs(User-Agent) sc-status TimeTakenMS\n2012-08-15 17:00:00.363 1.2.3.4 \"Mozilla/5.0 (Linux)\" 200 109\n";
    let got = parse(log, Dialect::W3c);
    assert_eq!(got.records.len(), 1, "{:?}", got.diagnostics);
    assert!(got.records[0].contains("2012-08-15T17:00:00.363000000Z LocalAssumedUtc"));
    assert!(got.records[0].contains("ua=Mozilla/5.0 (Linux)"));
    // Read as UTC, and said so once for the file; a UTC log says nothing.
    let local: Vec<&String> =
        got.diagnostics.iter().filter(|d| d.contains("times are the server's local time")).collect();
    assert_eq!(local.len(), 1, "{:?}", got.diagnostics);
    assert!(local[0].starts_with("File: warning:"), "{local:?}");
    let utc = parse(
        b"#Fields: date time date-local time-local sc-status\n2024-01-01 00:00:00 2024-01-01 01:00:00 200\n",
        Dialect::W3c,
    );
    assert!(utc.diagnostics.is_empty(), "{:?}", utc.diagnostics);
}

#[test]
fn httperr_mixed_field_lists_and_typed_reasons() {
    let log = b"#Software: Microsoft HTTP API 2.0\r\n#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-siteid s-reason s-queuename\r\n\
2015-01-15 14:11:38 fe80::1%13 5226 141.137.14.125 5357 HTTP/1.1 POST /x?y=1 503 - N/A -\r\n\
#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid streamid_ex sc-status s-siteid s-reason s-queuename transport fault-code extended-fault-code\r\n\
2026-10-07 12:24:54 127.0.0.1 54517 127.0.0.1 8123 HTTP/2 GET /a 3 - 503 2 QueueFull MyPool TCP 0x80070008 -\r\n\
2026-10-07 12:24:55 ::1%0 54518 ::1%0 80 - - - - - - - Timer_ConnectionIdle - TCP - -\r\n\
2026-10-07 12:24:56 ::1 54519 ::1 80 - - - - - - - Brand_New_Reason - TCP - -\r\n";
    let got = parse(log, Dialect::HttpErr);
    assert_eq!(got.diagnostics, Vec::<String>::new());
    assert_eq!(got.records.len(), 4);
    assert!(got.records[0].contains("fe80::1%13:Some(5226)"));
    assert!(got.records[0].contains("Some(503) site=None N/A"));
    assert!(
        got.records[1].contains("sid=Some(3) Some(503) site=Some(2) QueueFull q=MyPool t=TCP f=0x80070008/-")
    );
    assert!(got.records[2].contains("Timer_ConnectionIdle"));
    assert!(got.records[3].contains("Brand_New_Reason"));
}

/// An access log and an HTTP.sys log joined in one file (`cat`): each
/// block is read as what its `#Software` says, whatever the file was
/// recognised as; HTTP.sys's rows were requests made up of its fields.
#[test]
fn an_access_log_and_an_httperr_log_in_one_file_are_each_read_as_theirs() {
    let access = "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time cs-method cs-uri-stem sc-status\n2024-01-01 00:00:00 GET /a 200\n";
    let httperr = "#Software: Microsoft HTTP API 2.0\n#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-siteid s-reason s-queuename\n2024-01-01 00:00:01 10.0.0.1 5226 10.0.0.2 80 HTTP/1.1 GET /b 503 2 QueueFull MyPool\n";
    for (log, dialect) in
        [(format!("{access}{httperr}"), Dialect::W3c), (format!("{httperr}{access}"), Dialect::HttpErr)]
    {
        let got = parse(log.as_bytes(), dialect);
        assert_eq!(got.diagnostics, Vec::<String>::new(), "{dialect:?}");
        assert_eq!(got.records.len(), 2, "{dialect:?}");
        let (queued, asked): (Vec<&String>, Vec<&String>) =
            got.records.iter().partition(|r| r.contains("q=MyPool"));
        assert_eq!((queued.len(), asked.len()), (1, 1), "{:?}", got.records);
        assert!(asked[0].contains("/a"), "{:?}", got.records);
    }
}

/// elastic's HTTPERR test file: header-less rows read with the classic
/// fields, one of which ends in the transport where the queue would be.
#[test]
fn a_header_less_httperr_row_ending_in_its_transport_names_no_queue() {
    let log = b"2018-05-05 05:05:55 67.43.156.15 12345 192.168.101.101 443 HTTP/1.1 GET /a 403 - Forbidden MyPool\r\n\
2026-05-25 05:21:53 67.43.156.15 51517 10.10.0.16 8181 HTTP/1.1 M-POST /CIMListener/mydll 403 - Forbidden TCP\r\n";
    let got = parse(log, Dialect::HttpErr);
    assert_eq!(got.records.len(), 2);
    assert!(got.records[0].contains("q=MyPool t=-"), "{}", got.records[0]);
    assert!(got.records[1].contains("q=- t=TCP"), "{}", got.records[1]);
}

#[test]
fn iis_native_and_ncsa_dialects() {
    let native = b"192.168.114.201, -, 03/20/01, 7:55:20, W3SVC2, SERVER, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,\r\nbroken, row\r\n";
    let got = parse(native, Dialect::IisNative);
    assert_eq!(got.records.len(), 1);
    assert!(got.diagnostics[0].starts_with("line 2: error: IIS native format has 15"));
    let ncsa = b"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.1\" 200 10\n";
    assert_eq!(parse(ncsa, Dialect::Ncsa).records.len(), 1);
}

// --- properties ---------------------------------------------------------

/// A model row with the full IIS 10 field set plus one custom field.
#[derive(Clone, Debug)]
struct ModelRow {
    secs: i64,
    stem: String,
    query: Option<String>,
    port: u16,
    user: Option<String>,
    client: [u8; 4],
    ua: Option<String>,
    status: u16,
    substatus: u32,
    win32: u32,
    sent: u64,
    recv: u64,
    taken: u64,
    xff: Option<String>,
}

const FULL_FIELDS: &str = "date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken X-Forwarded-For";

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9/._%=&;+()-]{1,24}".prop_filter("not the empty marker", |s| s != "-")
}

fn model_row() -> impl Strategy<Value = ModelRow> {
    (
        (
            1_000_000_000i64..2_000_000_000,
            token(),
            proptest::option::of(token()),
            any::<u16>(),
            proptest::option::of(token()),
        ),
        (any::<[u8; 4]>(), proptest::option::of(token()), 100u16..1000, 0u32..1000, any::<u32>()),
        // Byte counts as IIS writes them: past 2^63 - 1 a row is read
        // without them (no table's integer holds more).
        (0..=i64::MAX as u64, 0..=i64::MAX as u64, 0u64..10_000_000, proptest::option::of(token())),
    )
        .prop_map(
            |(
                (secs, stem, query, port, user),
                (client, ua, status, substatus, win32),
                (sent, recv, taken, xff),
            )| {
                ModelRow {
                    secs,
                    stem,
                    query,
                    port,
                    user,
                    client,
                    ua,
                    status,
                    substatus,
                    win32,
                    sent,
                    recv,
                    taken,
                    xff,
                }
            },
        )
}

fn dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

fn render(r: &ModelRow) -> String {
    let t = crate::time::Timestamp::from_parts(r.secs, 0).to_datetime();
    format!(
        "{} {} W3SVC1 WEB01 10.0.0.1 GET {} {} {} {} {}.{}.{}.{} HTTP/1.1 {} - - example.com {} {} {} {} {} {} {}",
        t.format("%Y-%m-%d"),
        t.format("%H:%M:%S"),
        r.stem,
        dash(&r.query),
        r.port,
        dash(&r.user),
        r.client[0],
        r.client[1],
        r.client[2],
        r.client[3],
        dash(&r.ua),
        r.status,
        r.substatus,
        r.win32,
        r.sent,
        r.recv,
        r.taken,
        dash(&r.xff)
    )
}

#[derive(Default)]
#[allow(clippy::type_complexity)]
struct Typed(
    Vec<(
        (i64, String, Option<String>, Option<u16>, Option<String>, String, Option<String>),
        (u16, u32, u64, u64, u64, u64, Option<String>),
    )>,
);

impl RecordSink for Typed {
    type Error = std::convert::Infallible;
    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        let s = |v: Option<&[u8]>| v.map(|b| String::from_utf8_lossy(b).into_owned());
        self.0.push((
            (
                r.time.seconds(),
                s(r.uri_stem).unwrap_or_default(),
                s(r.uri_query),
                r.server_port,
                s(r.username),
                r.client_ip.map(|a| a.to_string()).unwrap_or_default(),
                s(r.user_agent),
            ),
            (
                r.status.unwrap_or(0),
                r.substatus.unwrap_or(0),
                r.win32_status.unwrap_or(0),
                r.bytes_sent.unwrap_or(0),
                r.bytes_received.unwrap_or(0),
                r.time_taken_ms.unwrap_or(0),
                s(r.custom.get("X-Forwarded-For")),
            ),
        ));
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn generated_rows_round_trip(rows in proptest::collection::vec(model_row(), 1..40)) {
        let mut log = format!("#Software: Microsoft Internet Information Services 10.0\r\n#Fields: {FULL_FIELDS}\r\n");
        for r in &rows {
            log.push_str(&render(r));
            log.push_str("\r\n");
        }
        let Ok(sinks) = parse_text(log.as_bytes(), Dialect::W3c, &TextConfig::default(), &crate::framing::InMemory, &|_| {}, Typed::default);
        let got: Vec<_> = sinks.into_iter().flat_map(|s| s.0).collect();
        prop_assert_eq!(got.len(), rows.len());
        for (g, r) in got.iter().zip(&rows) {
            let client = format!("{}.{}.{}.{}", r.client[0], r.client[1], r.client[2], r.client[3]);
            let want = ((r.secs, r.stem.clone(), r.query.clone(), Some(r.port), r.user.clone(), client, r.ua.clone()),
                (r.status, r.substatus, u64::from(r.win32), r.sent, r.recv, r.taken, r.xff.clone()));
            prop_assert_eq!(g, &want);
        }
    }

    #[test]
    fn chunking_at_any_offset_gives_the_same_records(
        rows in proptest::collection::vec(model_row(), 1..30),
        breaks in proptest::collection::vec(0usize..30, 0..4),
        garbage in proptest::collection::vec(0usize..30, 0..3),
        padding in proptest::collection::vec((0usize..30, 1usize..5), 0..3),
        chunk in 1usize..400,
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut log = String::new();
        for (i, r) in rows.iter().enumerate() {
            if i == 0 || breaks.contains(&i) {
                log.push_str(&format!("#Software: Microsoft Internet Information Services 10.0{eol}#Date: 2020-01-01 00:00:00{eol}#Fields: {FULL_FIELDS}{eol}"));
            }
            if garbage.contains(&i) {
                log.push_str(&format!("garbage row{eol}"));
            }
            for &(_, lines) in padding.iter().filter(|p| p.0 == i) {
                log.push_str(&format!("\0\0\0{eol}").repeat(lines));
            }
            log.push_str(&render(r));
            log.push_str(eol);
        }
        let whole = parse_with(log.as_bytes(), Dialect::W3c, 1 << 30);
        let chunked = parse_with(log.as_bytes(), Dialect::W3c, chunk);
        prop_assert_eq!(&whole.records, &chunked.records);
        prop_assert_eq!(&whole.diagnostics, &chunked.diagnostics);
        prop_assert_eq!(whole.records.len(), rows.len());
    }
}

#[test]
fn a_nul_run_across_a_chunk_boundary_is_one_diagnostic() {
    // Found by fuzzing: each chunk reported its part of the run.
    let log = b"\x01#\x00\n\x00\x00\n\x00\n ";
    // File-level notes go to the first chunk's sink after its own lines, so
    // compare the diagnostics as a set.
    let sorted = |chunk| {
        let mut d = parse_with(log, Dialect::W3c, chunk).diagnostics;
        d.sort();
        d
    };
    let whole = sorted(1 << 20);
    assert_eq!(whole.iter().filter(|d| d.contains("NUL padding")).count(), 1);
    for chunk in 1..log.len() {
        assert_eq!(sorted(chunk), whole, "chunk {chunk}");
    }
}

#[test]
fn dates_outside_the_nanosecond_range_are_rejected_not_overflowed() {
    // Found by fuzzing: year 1012 overflowed the i64 nanosecond clock.
    let log = b"#Fields: date time s-ip cs-uri-stem sc-status\n1012-11-24 15:02:11 10.0.0.1 /a 200\n2024-01-01 00:00:00 10.0.0.1 /b 200\n";
    let got = parse(log, Dialect::W3c);
    assert_eq!(got.records.len(), 1);
    assert_eq!(got.diagnostics.len(), 1);
    assert!(got.diagnostics[0].starts_with("line 2: error: date"), "{:?}", got.diagnostics);
    let native =
        b"10.0.0.1, -, 11/24/1012, 15:02:11, W3SVC1, WEB01, 10.0.0.2, 1, 1, 1, 200, 0, GET, /a, -,\n";
    let got = parse(native, Dialect::IisNative);
    assert!(got.records.is_empty());
    // The rejection, and the file's note that its times are local.
    assert_eq!(got.diagnostics.len(), 2, "{:?}", got.diagnostics);
    assert!(got.diagnostics[0].starts_with("line 1: error: date"), "{:?}", got.diagnostics);
    let ncsa = b"10.0.0.1 - - [24/Nov/1012:15:02:11 +0000] \"GET /a HTTP/1.1\" 200 1\n";
    let got = parse(ncsa, Dialect::Ncsa);
    assert!(got.records.is_empty());
    assert_eq!(got.diagnostics.len(), 1, "{:?}", got.diagnostics);
}

/// A time-taken no request runs for (past 49 days) is said at its line and
/// left out, in the W3C and the IIS native formats alike: it would date
/// the request's start centuries back; so is a byte count no table's
/// integer holds. The rest of the row is read.
#[test]
fn a_time_taken_past_49_days_is_said_and_left_out() {
    let log = b"#Fields: date time cs-uri-stem sc-status time-taken\n\
2024-01-01 00:00:00 /a 500 4294967295\n\
2024-01-01 00:00:01 /b 500 4294967296\n\
2024-01-01 00:00:02 /c 500 18446744073709551615\n";
    let got = parse(log, Dialect::W3c);
    let taken: Vec<bool> = got.records.iter().map(|r| r.contains("taken=None")).collect();
    assert_eq!(taken, [false, true, true]);
    assert!(got.records[1].contains("/b") && got.records[1].contains("Some(500)"));
    assert_eq!(
        got.diagnostics,
        [
            "line 3: warning: time-taken 4294967296 ms (over 49 days) is no request's duration: the log was edited or \
             damaged; the row is read without it",
            "line 4: warning: time-taken 18446744073709551615 ms (over 49 days) is no request's duration: the log was \
             edited or damaged; the row is read without it",
        ]
    );
    let bytes = b"#Fields: date time cs-uri-stem sc-status sc-bytes cs-bytes\n\
2024-01-01 00:00:00 /a 200 9223372036854775807 9223372036854775808\n";
    let got = parse(bytes, Dialect::W3c);
    assert!(got.records[0].contains("sent=Some(9223372036854775807) recv=None"), "{:?}", got.records);
    assert_eq!(
        got.diagnostics,
        [
            "line 2: warning: cs-bytes 9223372036854775808 is past what a 64-bit signed count holds: the log was \
          edited or damaged; the row is read without it"
        ]
    );
    let native = b"192.168.114.201, -, 03/20/01, 7:55:20, W3SVC2, SERVER, 172.21.13.45, 99999999999, 163, 3223, 500, 0, GET, /a.aspx, -,\n";
    let got = parse(native, Dialect::IisNative);
    assert!(got.records[0].contains("taken=None"), "{:?}", got.records);
    assert!(
        got.diagnostics[0].starts_with("line 1: warning: time-taken 99999999999 ms"),
        "{:?}",
        got.diagnostics
    );
}
