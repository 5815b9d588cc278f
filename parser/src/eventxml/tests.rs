use super::*;
use crate::diagnostic::Location;

const WEVTUTIL: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-WAS' Guid='{524B5D04-133C-4A62-8362-64E8EDB9CE40}' EventSourceName='WAS'/><EventID Qualifiers='32768'>5011</EventID><Version>0</Version><Level>3</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2024-05-01T10:00:00.1234567Z'/><EventRecordID>42</EventRecordID><Correlation/><Execution ProcessID='0' ThreadID='0'/><Channel>System</Channel><Computer>WEB01.contoso.local</Computer><Security/></System><EventData><Data Name='AppPoolID'>Shop &amp; Co</Data><Data Name='ProcessID'>4242</Data><Binary>6D000780</Binary></EventData></Event>
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Application Error'/><EventID Qualifiers='0'>1000</EventID><Level>2</Level><Task>100</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2024-05-01T09:59:59.9Z'/><EventRecordID>7</EventRecordID><Channel>Application</Channel><Computer>WEB01</Computer></System><EventData><Data>w3wp.exe</Data><Data>10.0.17763.1</Data><Data>line one&#13;&#10;line two</Data></EventData></Event>
";

#[test]
fn wevtutil_output_without_a_root_element() {
    let file = parse_event_xml(WEVTUTIL.as_bytes());
    assert_eq!(file.diagnostics, []);
    assert_eq!(file.events.len(), 2);
    let was = &file.events[0];
    assert_eq!(&*was.provider, "Microsoft-Windows-WAS");
    assert_eq!(was.event_id, 5011);
    assert_eq!(was.qualifiers, Some(32768));
    assert_eq!(was.level, Some(3));
    assert_eq!(was.keywords, Some(0x80000000000000));
    assert_eq!(was.time.to_rfc3339(), "2024-05-01T10:00:00.123456700Z");
    assert_eq!(was.record_id, crate::RecordId::new(42));
    assert_eq!(was.channel.as_deref(), Some("System"));
    assert_eq!(was.data("AppPoolID"), Some("Shop & Co"));
    assert_eq!(was.data("processid"), Some("4242"));
    assert_eq!(was.binary.as_deref(), Some("6D000780"));
    assert_eq!(was.event_source_name.as_deref(), Some("WAS"));
    assert_eq!(was.origin, EventOrigin::Xml { line: 1, offset: 0 });
    let crash = &file.events[1];
    assert_eq!(crash.data_at(0), Some("w3wp.exe"));
    assert_eq!(crash.data_at(2), Some("line one\r\nline two"));
    assert!(crash.data[0].name.is_none());
    assert_eq!(
        crash.origin,
        EventOrigin::Xml { line: 2, offset: WEVTUTIL.find("\n<Event").expect("second") as u64 + 1 }
    );
}

#[test]
fn azure_eventlog_shape_and_event_viewer_rendering_info() {
    let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Events>\r\n<Event><System><Provider Name=\"W3SVC-WP\"/><EventID>2303</EventID><Level>2</Level><Task>0</Task><Keywords>Keywords</Keywords><TimeCreated SystemTime=\"2020-07-02T06:55:43Z\"/><EventRecordID>1000</EventRecordID><Channel>Application</Channel><Computer>RD0003FF</Computer><Security/></System><EventData><Data>a</Data><Data></Data></EventData></Event>\r\n<Event><System><Provider Name=\"X\"/><EventID>1</EventID><TimeCreated SystemTime=\"2020-07-02T06:55:44Z\"/></System><UserData><Log xmlns=\"x\"><Param1>p1</Param1><Inner><Leaf>deep</Leaf></Inner></Log></UserData><RenderingInfo Culture=\"en-US\"><Message>Localized text</Message><Keywords><Keyword>Classic</Keyword></Keywords></RenderingInfo></Event>\r\n</Events>\r\n";
    let file = parse_event_xml(xml.as_bytes());
    assert_eq!(file.diagnostics, []);
    assert_eq!(file.events.len(), 2);
    let e = &file.events[0];
    assert_eq!(e.keywords, None, "placeholder keywords");
    assert_eq!(e.data.len(), 2);
    assert_eq!(e.data_at(1), Some(""));
    assert_eq!(e.origin, EventOrigin::Xml { line: 3, offset: xml.find("<Event>").expect("event") as u64 });
    assert_eq!(file.events[1].data("Param1"), Some("p1"));
    assert_eq!(file.events[1].data("Leaf"), Some("deep"));
}

#[test]
fn malformed_events_cost_only_themselves() {
    let xml = "<Events><Event><System><Provider Name='A'/><EventID>1</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System></Event>\n<Event><System><Provider Name='B'><EventID>2</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System></Event>\n<Event><System><Provider Name='C'/><EventID>3</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System></Event></Events>";
    let file = parse_event_xml(xml.as_bytes());
    let ids: Vec<u16> = file.events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [1, 3]);
    assert_eq!(file.diagnostics.len(), 1, "{:?}", file.diagnostics);
    assert_eq!(
        file.diagnostics[0].location,
        Location::Line { line: 2, offset: xml.find("\n<Event").expect("e") as u64 + 1 }
    );
    let cut = &xml[..xml.len() - 40];
    let file = parse_event_xml(cut.as_bytes());
    assert_eq!(file.events.len(), 1);
    assert!(!file.diagnostics.is_empty());
}

/// An event without its end tag swallows what follows: the `<Event`s
/// within what it read are tried a few times, then reading goes on from
/// its end (each try read to the end again: 8,000 `<Event` in comments
/// took 53 s and reported 8,001 events that were never there); a good
/// event swallowed right after the broken one is still read.
#[test]
fn events_a_broken_one_swallowed_are_tried_a_few_times_not_each() {
    let head = "<Events>\n<Event><System><Provider Name='A'/><EventID>1</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System>\n";
    let good = "<Event><System><Provider Name='B'/><EventID>2</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System></Event>\n";
    let file = parse_event_xml(format!("{head}{good}</Events>").as_bytes());
    assert_eq!(file.events.iter().map(|e| e.event_id).collect::<Vec<_>>(), [2], "{:?}", file.diagnostics);
    let comments = "<!--<Event >-->\n".repeat(8_000);
    let file = parse_event_xml(format!("{head}{comments}").as_bytes());
    assert!(file.events.is_empty());
    assert!(file.diagnostics.len() <= super::RESUMES_WITHIN + 1, "{}", file.diagnostics.len());
}

/// Elements nested far deeper than any event's are refused where they
/// pass the limit, with the line, and the events around them are read (the
/// depth was copied at every end tag: 200,000 levels ran for minutes).
#[test]
fn elements_nested_past_any_event_are_refused_and_the_rest_read() {
    let n = 20_000;
    let xml = format!(
        "<Events><Event><System><Provider Name='A'/><EventID>1</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System></Event>\n<Event>{}{}</Event>\n\
         <Event><System><Provider Name='C'/><EventID>3</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System></Event></Events>",
        "<x>".repeat(n),
        "</x>".repeat(n)
    );
    let file = parse_event_xml(xml.as_bytes());
    let ids: Vec<u16> = file.events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [1, 3]);
    assert_eq!(file.diagnostics.len(), 1, "{:?}", file.diagnostics);
    assert!(file.diagnostics[0].message.contains("nested more than 64 deep"), "{:?}", file.diagnostics);
    assert!(matches!(file.diagnostics[0].location, Location::Line { line: 2, .. }), "{:?}", file.diagnostics);
}

#[test]
fn invalid_utf8_is_replaced_and_reported() {
    let mut xml =
        b"<Event><System><Provider Name='A'/><EventID>1</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System><EventData><Data>caf".to_vec();
    xml.extend_from_slice(b"\xe9</Data></EventData></Event>");
    let file = parse_event_xml(&xml);
    assert_eq!(file.events.len(), 1);
    assert_eq!(file.events[0].data_at(0), Some("caf\u{fffd}"));
    assert_eq!(file.diagnostics[0].severity, Severity::Warning);
}

#[test]
fn representative_events_of_each_provider_family() {
    #[derive(Default)]
    struct Kept(Vec<WinEvent>, Vec<String>, usize);
    impl crate::RecordSink for Kept {
        type Error = std::convert::Infallible;
        fn expect_events(&mut self, events: usize) {
            self.2 = events;
        }
        fn event(&mut self, e: WinEvent) -> Result<(), Self::Error> {
            self.0.push(e);
            Ok(())
        }
        fn counted_events(&mut self, k: crate::CountedEvents<'_>) -> Result<(), Self::Error> {
            self.1.push(format!("{} {} x{}", k.provider, k.event_id, k.records));
            Ok(())
        }
    }
    let xml = include_bytes!("../../../corpus/fixtures/eventxml/families.xml");
    let mut file = parse_event_xml(xml);
    assert_eq!(file.diagnostics, []);
    let mut kept = Kept::default();
    let Ok(()) = crate::winevent::deliver_sorted(&mut file.events, false, &mut kept);
    assert_eq!(kept.1, ["Microsoft-Windows-DNS-Client 1014 x1"]);
    assert_eq!(kept.2, kept.0.len(), "the sink is told how many events follow");
    let families: Vec<String> = kept.0.iter().map(|e| format!("{:?} {}", e.family(), e.event_id)).collect();
    insta::assert_json_snapshot!("families", (families, &kept.0));
}

#[test]
fn a_time_past_2262_does_not_overflow() {
    // Found by fuzzing: the year 4050 overflowed the i64 nanosecond clock.
    let xml = WEVTUTIL.replace("2024-05-01T10:00:00.1234567Z", "4050-11-24T08:00:03.1000000Z");
    let file = parse_event_xml(xml.as_bytes());
    assert_eq!(file.events.len(), 1, "the year 4050 is no time: that event is not read");
    assert!(file.diagnostics[0].message.contains("is not a time"), "{:?}", file.diagnostics);
}

/// An event without a time or an id is not read, and says why: it would
/// sit on the timeline at 1970, or be event 0.
#[test]
fn an_event_with_no_time_or_no_id_is_not_read() {
    let event = |system: &str| format!("<Event><System><Provider Name='A'/>{system}</System></Event>\n");
    let xml = [
        event("<EventID>1</EventID><TimeCreated SystemTime='XX2025-01-01T00:00:00Z'/>"),
        event("<EventID>abc1000</EventID><TimeCreated SystemTime='2025-01-01T00:00:00Z'/>"),
        event("<EventID>3</EventID>"),
        event("<EventID>4</EventID><TimeCreated SystemTime='2025-01-01T00:00:00Z'/>"),
    ]
    .concat();
    let file = parse_event_xml(xml.as_bytes());
    let ids: Vec<u16> = file.events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [4]);
    let said: Vec<String> = file.diagnostics.iter().map(|d| d.message.clone()).collect();
    assert_eq!(
        said,
        [
            "event not read: TimeCreated SystemTime \"XX2025-01-01T00:00:00Z\" is not a time",
            "event not read: EventID \"abc1000\" is not a number",
            "event not read: no TimeCreated",
        ]
    );
}

/// A Sysmon event is timed by its `UtcTime` (when the connection was made),
/// not by when Sysmon wrote it; another provider's `UtcTime`, or one that
/// does not parse, changes nothing.
#[test]
fn sysmon_events_are_timed_by_when_their_action_happened() {
    let event = |provider: &str, utc: &str| {
        format!(
            "<Event><System><Provider Name='{provider}'/><EventID>3</EventID><TimeCreated SystemTime='2019-09-03T11:04:07.2070493Z'/><EventRecordID>35076</EventRecordID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>MSEDGEWIN10</Computer></System><EventData><Data Name='UtcTime'>{utc}</Data><Data Name='Image'>C:\\Windows\\System32\\inetsrv\\w3wp.exe</Data></EventData></Event>\n"
        )
    };
    let xml = event("Microsoft-Windows-Sysmon", "2019-09-03 11:04:05.797")
        + &event("Some-Other-Provider", "2019-09-03 11:04:05.797")
        + &event("Microsoft-Windows-Sysmon", "not a time");
    let file = parse_event_xml(xml.as_bytes());
    let times: Vec<(String, TimeSource)> =
        file.events.iter().map(|e| (e.time.to_rfc3339(), e.time_source)).collect();
    assert_eq!(
        times,
        [
            ("2019-09-03T11:04:05.797000000Z".to_string(), TimeSource::UtcTime),
            ("2019-09-03T11:04:07.207049300Z".to_string(), TimeSource::TimeCreated),
            ("2019-09-03T11:04:07.207049300Z".to_string(), TimeSource::TimeCreated),
        ]
    );
}

/// App Service writes EventRecordID as a signed 32-bit number: a negative
/// one is cited as written (a search of the file for it finds the event),
/// and negative ones sort as they count, after the positive ones; past 32
/// bits it is no such id, nor is an unsigned one past 2^63 - 1.
#[test]
fn a_negative_record_id_is_cited_as_written_and_sorts_after_the_positive_ones() {
    let event = |id: &str| {
        format!(
            "<Event><System><Provider Name='X'/><EventID>1</EventID><TimeCreated SystemTime='2025-12-12T16:10:08Z'/><EventRecordID>{id}</EventRecordID></System></Event>"
        )
    };
    let ids = ["2147483647", "-2147483648", "-1807887546", "-1", "-99999999999", "18446744073709551615", "7"];
    let xml = format!("<Events>{}</Events>\n", ids.map(event).concat());
    let file = parse_event_xml(xml.as_bytes());
    let cited: Vec<Option<String>> = file.events.iter().map(|e| e.record_id.map(|r| r.to_string())).collect();
    let written = ["2147483647", "-2147483648", "-1807887546", "-1"].map(|s| Some(s.to_string()));
    assert_eq!(
        cited,
        [&written[..], &[None, None, Some("7".to_string())]].concat(),
        "no id past 2^63 - 1 reads as -1"
    );
    let json: Vec<String> =
        file.events.iter().filter_map(|e| serde_json::to_string(&e.record_id?).ok()).collect();
    assert_eq!(json, ["2147483647", "-2147483648", "-1807887546", "-1", "7"]);
    let order: Vec<_> = file.events.iter().filter_map(|e| e.record_id).collect();
    assert!(order[..4].is_sorted(), "negative ids follow the largest positive one and count up: {order:?}");
    assert!(order[4] < order[0], "a small positive id sorts first");
}

/// What a sink was handed, in a form two reads can be compared by.
#[derive(Default)]
struct Handed {
    events: Vec<(u64, u64, u16, String)>,
    counted: Vec<String>,
    said: Vec<String>,
}

impl crate::RecordSink for Handed {
    type Error = std::convert::Infallible;
    fn event(&mut self, e: WinEvent) -> Result<(), Self::Error> {
        let EventOrigin::Xml { line, offset } = e.origin else { panic!("an XML origin") };
        self.events.push((offset, line, e.event_id, e.time.to_rfc3339()));
        Ok(())
    }
    fn counted_events(&mut self, k: crate::CountedEvents<'_>) -> Result<(), Self::Error> {
        self.counted.push(format!("{} {} x{}", k.provider, k.event_id, k.records));
        Ok(())
    }
    fn diagnostic(&mut self, d: Diagnostic) {
        self.said.push(format!("{:?} {}", d.location, d.message));
    }
}

/// Reads `xml` in stretches of `size` bytes: what every sink was handed,
/// sorted, the number of sinks, and the bytes progress was told of.
fn read_in(xml: &[u8], size: usize) -> (Handed, usize, u64) {
    let config = crate::ReadConfig::default();
    let read = std::sync::atomic::AtomicU64::new(0);
    let progress = |n: u64| {
        read.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    };
    let input = crate::Input {
        data: xml,
        format: crate::Format::EventXml,
        pages: &crate::framing::InMemory,
        config: &config,
        progress: &progress,
        modified: None,
    };
    let Ok(sinks) = read_in_stretches(&input, &Handed::default, size);
    let count = sinks.len();
    let mut all = Handed::default();
    for s in sinks {
        all.events.extend(s.events);
        all.counted.extend(s.counted);
        all.said.extend(s.said);
    }
    all.events.sort();
    all.counted.sort();
    all.said.sort();
    (all, count, read.into_inner())
}

/// An export read in stretches hands over the events, counts and
/// diagnostics it gives read whole, each event cited on its own line,
/// whatever the stretches' size: events broken in the middle of the
/// document, an event that swallows the next, and one with no time are
/// read alike.
#[test]
fn an_export_read_in_stretches_gives_what_it_gives_read_whole() {
    let good = |id: u32, second: u32| {
        format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>\r\n  <System><Provider Name='Microsoft-Windows-WAS'/><EventID>{}</EventID>\r\n  <TimeCreated SystemTime='2024-05-01T10:00:{second:02}Z'/><EventRecordID>{id}</EventRecordID><Computer>WEB01</Computer></System>\r\n  <EventData><Data Name='AppPoolID'>Shop</Data></EventData></Event>\r\n",
            if id.is_multiple_of(3) { 5002 } else { 5186 }
        )
    };
    let mut xml = String::from("\u{feff}<?xml version='1.0'?>\r\n<Events>\r\n");
    for id in 0..40 {
        xml.push_str(&match id {
            11 => "<Event><System><Provider Name='B'><EventID>2</EventID></System></Event>\r\n".to_string(),
            23 => "<Event><System><Provider Name='C'/><EventID>7</EventID></System></Event>\r\n".to_string(),
            29 => "<!-- a comment between events -->\r\n".to_string(),
            _ => good(id, 59 - id),
        });
    }
    xml.push_str("</Events>\r\n");
    let bytes = xml.as_bytes();
    let (whole, one, read) = read_in(bytes, usize::MAX);
    assert_eq!(one, 1);
    assert_eq!(read, bytes.len() as u64);
    assert_eq!(whole.events.len(), 37, "{:?}", whole.said);
    assert!(whole.said.len() >= 2, "the broken event and the one without a time: {:?}", whole.said);
    // Offsets count from after the byte-order mark.
    let text = &bytes[3..];
    let line_of = |offset: u64| 1 + text[..offset as usize].iter().filter(|&&b| b == b'\n').count() as u64;
    assert!(whole.events.iter().all(|&(offset, line, ..)| line == line_of(offset)));
    for size in [1, 100, 333, 700, 1024, 4096] {
        let (split, sinks, read) = read_in(bytes, size);
        assert!(sinks > 1 || size > bytes.len(), "{size} bytes a stretch: {sinks} sinks");
        assert_eq!(read, bytes.len() as u64, "{size} bytes a stretch: progress");
        assert_eq!(split.events, whole.events, "{size} bytes a stretch");
        assert_eq!(split.counted, whole.counted, "{size} bytes a stretch");
        assert_eq!(split.said, whole.said, "{size} bytes a stretch");
    }
}

/// Stretches start at event tags, not at `<Events`, and know their line.
#[test]
fn stretches_start_at_an_event_tag_on_their_line() {
    let xml = b"<Events>\n<Event a='1'/>\n<Events-not/>\n<Event/>\n<Event>\n</Event>\n</Events>\n";
    let cut = stretches(xml, 5);
    let starts: Vec<(usize, u64)> = cut.iter().map(|s| (s.range.start, s.line)).collect();
    assert_eq!(starts, [(0, 1), (9, 2), (38, 4), (47, 5)]);
    assert_eq!(cut.last().map(|s| s.range.end), Some(xml.len()));
    assert!(cut.windows(2).all(|w| w[0].range.end == w[1].range.start));
    assert_eq!(stretches(b"", 5).len(), 1, "an empty export is one stretch");
}

/// A piece of an export for the property below: a good event, one broken
/// in the middle, one with no time, a comment holding an event tag, stray
/// markup, line breaks.
fn piece(kind: u8, n: usize) -> String {
    match kind {
        0 => format!(
            "<Event><System><Provider Name='WAS'/><EventID>{}</EventID>\n<TimeCreated SystemTime='2024-05-01T10:{:02}:00Z'/><EventRecordID>{n}</EventRecordID></System></Event>\n",
            5000 + n % 3,
            n % 60
        ),
        1 => "<Event><System><Provider Name='B'><EventID>2</EventID></System></Event>\n".to_string(),
        2 => "<Event><System><Provider Name='C'/><EventID>7</EventID></System></Event>\r\n".to_string(),
        3 => "<!-- <Event/> -->\n".to_string(),
        4 => "&<<\n".to_string(),
        _ => "\n\n".to_string(),
    }
}

proptest::proptest! {
    /// Whatever the export and the stretches' size: no panic, progress
    /// counts every byte once, no event is handed twice, each is cited on
    /// the line it starts on; and an export of events, broken ones among
    /// them, reads as it does whole.
    #[test]
    fn stretches_of_any_size_read_what_the_whole_reads(
        kinds in proptest::collection::vec(0u8..6, 0..40),
        size in 1usize..3_000,
        rooted: bool,
    ) {
        let mut xml = String::from(if rooted { "<Events>\n" } else { "" });
        for (n, &kind) in kinds.iter().enumerate() {
            xml.push_str(&piece(kind, n));
        }
        if rooted {
            xml.push_str("</Events>\n");
        }
        let bytes = xml.as_bytes();
        let (split, _, read) = read_in(bytes, size);
        proptest::prop_assert_eq!(read, bytes.len() as u64);
        let mut offsets: Vec<u64> = split.events.iter().map(|e| e.0).collect();
        offsets.dedup();
        proptest::prop_assert_eq!(offsets.len(), split.events.len(), "an event handed twice");
        let line_of = |offset: u64| 1 + bytes[..offset as usize].iter().filter(|&&b| b == b'\n').count() as u64;
        for &(offset, line, ..) in &split.events {
            proptest::prop_assert_eq!(line, line_of(offset));
        }
        if kinds.iter().all(|&k| k <= 2 || k == 5) {
            let (whole, _, _) = read_in(bytes, usize::MAX);
            proptest::prop_assert_eq!(split.events, whole.events);
            proptest::prop_assert_eq!(split.counted, whole.counted);
            proptest::prop_assert_eq!(split.said, whole.said);
        }
    }
}
