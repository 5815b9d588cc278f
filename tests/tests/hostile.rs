//! Damaged and hostile evidence next to a real incident: every bad file gets
//! a diagnostic that names it (and the position, where there is one), and the
//! incident is still found from the rest.

#![allow(clippy::print_stderr)] // tests say when a case cannot be checked here

use std::fs;
use std::path::Path;

use faultline_analyzer::{FileStatus, FileSummary, Scope, analyze};
use faultline_corpus::scenario::{Size, generate};
use faultline_parser::ReadConfig;

mod common;

fn summary<'a>(files: &'a [FileSummary], name: &str) -> &'a FileSummary {
    files.iter().find(|f| f.path.ends_with(name)).unwrap_or_else(|| panic!("{name} is not listed"))
}

fn messages(f: &FileSummary) -> Vec<String> {
    f.diagnostics.iter().map(|d| format!("{:?} {}", d.line, d.message)).collect()
}

fn write(dir: &Path, name: &str, data: &[u8]) {
    fs::write(dir.join(name), data).expect("write");
}

/// plaso's System.evtx damaged by `damage`, read by `scan` and `analyze`:
/// both count its 5,009 records, none rejected; `analyze`'s report.
fn every_plaso_record_counted(
    what: &str,
    damage: impl FnOnce(&mut Vec<u8>),
) -> Option<faultline_analyzer::Report> {
    plaso_records_counted(what, damage, (5009, 0))
}

/// [`every_plaso_record_counted`], with the (records read, records
/// rejected) both commands must count.
fn plaso_records_counted(
    what: &str,
    damage: impl FnOnce(&mut Vec<u8>),
    counted: (u64, u64),
) -> Option<faultline_analyzer::Report> {
    plaso_scanned_and_analyzed(what, damage, counted).map(|(_, report)| report)
}

/// [`plaso_records_counted`], with what `scan` made of the file too.
fn plaso_scanned_and_analyzed(
    what: &str,
    damage: impl FnOnce(&mut Vec<u8>),
    counted: (u64, u64),
) -> Option<(faultline_analyzer::Inventory, faultline_analyzer::Report)> {
    let samples = common::samples(what)?;
    let mut bytes = fs::read(samples.join("evtx-log2timeline-plaso/System.evtx")).expect("reads");
    damage(&mut bytes);
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "System.evtx", &bytes);
    let (scanned, report) = scanned_and_analyzed(dir.path());
    for files in [&scanned.files, &report.inventory.files] {
        let f = summary(files, "System.evtx");
        assert_eq!((f.records, f.rejected), counted, "{:?}", messages(f));
    }
    Some((scanned, report))
}

/// What `scan` and `analyze` make of a folder.
fn scanned_and_analyzed(dir: &Path) -> (faultline_analyzer::Inventory, faultline_analyzer::Report) {
    let paths = [dir.to_path_buf()];
    let hosts = faultline_analyzer::identity::HostOverrides::default();
    let scanned = faultline_analyzer::inventory::scan(&paths, &ReadConfig::default(), &hosts, &|_| {});
    (scanned, analyze(&paths, &ReadConfig::default(), &Scope::default(), &|_| {}))
}

#[test]
fn bad_files_beside_an_incident_are_named_and_the_incident_is_still_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let truth =
        generate("worker-crash", dir.path(), 7, &Size { hosts: 1, hours: 2, rate: 0.3 }).expect("generates");
    let junk = dir.path().join("WEB01").join("junk");
    fs::create_dir_all(&junk).expect("mkdir");

    write(&junk, "empty.log", b"");
    // One line of 100 MB with no separator: rejected, with its line number.
    let mut long = b"#Software: Microsoft Internet Information Services 10.0\n#Fields: date time cs-uri-stem sc-status\n".to_vec();
    long.resize(long.len() + (100 << 20), b'x');
    long.extend_from_slice(b"\n2024-01-01 00:00:00 /after 200\n");
    write(&junk, "u_ex_long.log", &long);
    drop(long);
    // A log whose tail a crash left as NULs.
    let mut padded = b"#Software: Microsoft Internet Information Services 10.0\n#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /a 200\n".to_vec();
    padded.resize(padded.len() + 65_536, 0);
    write(&junk, "u_ex_padded.log", &padded);
    write(&junk, "zeros.log", &vec![0u8; 1 << 20]);
    // A log whose head a crash zeroed, past what detection looks at.
    let mut zeroed_head = vec![0u8; 70_000];
    zeroed_head.extend_from_slice(b"#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /b 200\n");
    write(&junk, "u_ex_zeroed_head.log", &zeroed_head);
    // A FREB trace cut in the middle of an event.
    write(
        &junk,
        "fr000001.xml",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<failedRequest url=\"http://x/\" siteId=\"1\" appPoolId=\"P\" statusCode=\"500\" xmlns:freb=\"http://schemas.microsoft.com/win/2006/06/iis/freb\">\n<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"WWW Server\"/><TimeCreated SystemTime=\"2024-01-01T00:00:00.000Z\"/>",
    );
    // An EVTX file cut inside its first chunk.
    write(&junk, "cut.evtx", &[b"ElfFile\0".as_slice(), &[0u8; 4088], b"ElfChnk\0", &[7u8; 3000]].concat());
    // A file name that is not UTF-8.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"u_ex\xff\xfe.log");
        fs::write(
            junk.join(name),
            b"#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /odd-name 200\n",
        )
        .expect("write");
    }

    let report = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &Scope::default(), &|_| {});
    let files = &report.inventory.files;

    let empty = summary(files, "empty.log");
    assert_eq!(empty.status, FileStatus::Skipped, "{empty:?}");
    assert!(empty.reason.as_deref().is_some_and(|r| r.contains("empty")), "{:?}", empty.reason);

    let long = summary(files, "u_ex_long.log");
    assert_eq!((long.records, long.rejected), (1, 1), "{:?}", messages(long));
    assert_eq!(long.diagnostics[0].line, Some(3), "{:?}", messages(long));

    let padded = summary(files, "u_ex_padded.log");
    assert_eq!(padded.records, 1);
    assert!(messages(padded).iter().any(|m| m.contains("NUL padding")), "{:?}", messages(padded));

    let zeroed_head = summary(files, "u_ex_zeroed_head.log");
    assert_eq!(zeroed_head.records, 1, "{zeroed_head:?}");
    assert!(
        messages(zeroed_head).iter().any(|m| m.contains("70000 bytes of NUL")),
        "{:?}",
        messages(zeroed_head)
    );

    let zeros = summary(files, "zeros.log");
    assert_ne!(zeros.status, FileStatus::Parsed, "{zeros:?}");
    assert!(zeros.reason.is_some(), "{zeros:?}");

    let freb = summary(files, "fr000001.xml");
    assert!(freb.rejected + freb.warnings > 0, "{freb:?}");
    assert!(!freb.diagnostics.is_empty(), "{freb:?}");

    let evtx = summary(files, "cut.evtx");
    assert!(evtx.reason.is_some() || !evtx.diagnostics.is_empty(), "{evtx:?}");

    #[cfg(unix)]
    {
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        // Its bytes that are no UTF-8 are shown as written, to find it by.
        assert!(files.iter().any(|f| f.path.ends_with("u_ex\\xFF\\xFE.log") && f.records == 1), "{paths:?}");
    }

    // The incident is still answered from the rest of the evidence.
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.id()).collect();
    assert_eq!(ids.first().copied(), truth.expected.first().copied(), "{ids:?}");
}

#[test]
fn many_freb_files_in_one_folder_are_all_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = |i: usize| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<failedRequest url=\"http://x/p{i}\" siteId=\"1\" appPoolId=\"P\" statusCode=\"500\" timeTaken=\"3\" xmlns:freb=\"http://schemas.microsoft.com/win/2006/06/iis/freb\">\n<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"WWW Server\"/><EventID>0</EventID><Opcode>1</Opcode><TimeCreated SystemTime=\"2024-01-01T00:00:00.000Z\"/></System><EventData><Data Name=\"RequestURL\">/p{i}</Data></EventData><RenderingInfo Culture=\"en-US\"><Opcode>GENERAL_REQUEST_START</Opcode></RenderingInfo></Event>\n</failedRequest>\n"
        )
    };
    const N: usize = 20_000;
    for i in 0..N {
        fs::write(dir.path().join(format!("fr{i:06}.xml")), trace(i)).expect("write");
    }
    let report = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &Scope::default(), &|_| {});
    let files = &report.inventory.files;
    assert_eq!(files.len(), N);
    assert!(files.iter().all(|f| f.status == FileStatus::Parsed && f.records == 1));
    assert_eq!(report.store.traces.len(), N);
}

/// A file that cannot be read (an I/O error on read, or no permission) is
/// named with the reason, and everything beside it is still analyzed.
#[cfg(target_os = "linux")]
#[test]
fn unreadable_files_are_named_and_the_rest_is_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let truth =
        generate("worker-crash", dir.path(), 7, &Size { hosts: 1, hours: 2, rate: 0.3 }).expect("generates");
    let junk = dir.path().join("WEB01").join("junk");
    fs::create_dir_all(&junk).expect("mkdir");
    // Reading /proc/self/mem from offset 0 fails with EIO even for root: a
    // stand-in for a bad sector or a vanished network share.
    std::os::unix::fs::symlink("/proc/self/mem", junk.join("u_ex_eio.log")).expect("symlink");
    // No permission at all (not enforced for root, which CI runs as).
    write(
        &junk,
        "u_ex_locked.log",
        b"#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /x 200\n",
    );
    fs::set_permissions(junk.join("u_ex_locked.log"), fs::Permissions::from_mode(0o000)).expect("chmod");
    let root = std::fs::read(junk.join("u_ex_locked.log")).is_ok();

    let report = analyze(&[dir.path().to_path_buf()], &ReadConfig::default(), &Scope::default(), &|_| {});
    let files = &report.inventory.files;
    let eio = summary(files, "u_ex_eio.log");
    assert_eq!(eio.status, FileStatus::Failed, "{eio:?}");
    assert!(eio.reason.as_deref().is_some_and(|r| !r.is_empty()), "{eio:?}");
    let locked = summary(files, "u_ex_locked.log");
    if root {
        eprintln!("running as root: the permission case reads the file, as root can");
    } else {
        assert_eq!(locked.status, FileStatus::Failed, "{locked:?}");
        assert!(locked.reason.as_deref().is_some_and(|r| r.contains("ermission")), "{locked:?}");
    }
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.id()).collect();
    assert_eq!(ids.first().copied(), truth.expected.first().copied(), "{ids:?}");
}

/// A chunk whose table of names is damaged (plaso's System.evtx, chunk 5's
/// string offsets overwritten) keeps its records: the table only caches
/// names the records point at. `scan`, which counts records without
/// reading them, and `analyze` agree on every one; `analyze` says what was
/// damaged.
#[test]
fn a_chunks_damaged_table_of_names_loses_no_record() {
    let chunk5 = plaso_chunk(5);
    let Some(report) = every_plaso_record_counted("a damaged EVTX string table", |b| {
        b[chunk5 + 128..chunk5 + 512].fill(0xff)
    }) else {
        return;
    };
    let read = summary(&report.inventory.files, "System.evtx");
    assert!(
        messages(read).iter().any(|m| m.contains("chunk 5: its table of names is damaged")),
        "{:?}",
        messages(read)
    );
}

/// Where chunk `n` of plaso's System.evtx starts.
const fn plaso_chunk(n: usize) -> usize {
    4096 + n * 65_536
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Rewrites chunk 5's header as written before its records from byte
/// 29,104 on (a log copied while it was open), its checksums agreeing;
/// returns that offset.
fn header_behind_its_records(b: &mut [u8]) -> usize {
    header_behind_records_from(&mut b[plaso_chunk(5)..plaso_chunk(5) + 65_536], 29_104)
}

/// Rewrites `chunk`'s header as written before its records from byte
/// `cut` on; returns `cut`.
fn header_behind_records_from(chunk: &mut [u8], cut: usize) -> usize {
    let before = cut - u32_at(chunk, cut - 4) as usize;
    let (last_id, id_at_cut) = (u64_at(chunk, before + 8), u64_at(chunk, cut + 8));
    assert_eq!(id_at_cut, last_id + 1, "consecutive records");
    chunk[32..40].copy_from_slice(&last_id.to_le_bytes());
    chunk[44..48].copy_from_slice(&(before as u32).to_le_bytes());
    chunk[48..52].copy_from_slice(&(cut as u32).to_le_bytes());
    let records = evtx::checksum_ieee(&chunk[512..cut]);
    chunk[52..56].copy_from_slice(&records.to_le_bytes());
    let header = evtx::checksum_ieee(&[&chunk[..120], &chunk[128..512]].concat());
    chunk[124..128].copy_from_slice(&header.to_le_bytes());
    cut
}

/// The same header behind its records, and a record past it damaged (its
/// magic broken): the damaged record is counted as rejected, and the
/// records after it are still read, as past a damaged record inside a
/// header's bounds. In chunk 5, the second past the header; in chunk 6,
/// cut at record 947, record 966, past which this log's times step back
/// by hours (a record older than the last one read is still this log's).
#[test]
fn a_damaged_record_past_a_header_behind_its_records_loses_no_other() {
    plaso_records_counted(
        "an EVTX chunk header behind its records, one past it damaged",
        |b| {
            let cut = header_behind_its_records(b);
            let chunk = &mut b[plaso_chunk(5)..plaso_chunk(5) + 65_536];
            chunk[cut + u32_at(chunk, cut + 4) as usize] = b'X';
        },
        (5008, 1),
    );
    plaso_records_counted(
        "an EVTX chunk header behind its records, one past it damaged where times step back",
        |b| {
            let chunk = &mut b[plaso_chunk(6)..plaso_chunk(6) + 65_536];
            let mut at = header_behind_records_from(chunk, 9_920);
            while u64_at(chunk, at + 8) != 966 {
                at += u32_at(chunk, at + 4) as usize;
            }
            chunk[at] = b'X';
        },
        (5008, 1),
    );
}

/// A chunk whose header was written before its last records (a log copied
/// while it was open), its checksums agreeing with what it says, and one
/// whose free-space offset points inside the header: every record is
/// counted and read, in `scan` and in `analyze`, with a warning that says
/// how many records lay past the header's free space.
#[test]
fn a_chunk_header_that_stops_short_of_its_records_loses_none() {
    let Some(report) = every_plaso_record_counted("an EVTX chunk header behind its records", |b| {
        header_behind_its_records(b);
    }) else {
        return;
    };
    let read = messages(summary(&report.inventory.files, "System.evtx"));
    let lagging: Vec<&String> =
        read.iter().filter(|m| m.contains("its header stops short of its records")).collect();
    assert_eq!(lagging.len(), 1, "{read:?}");
    assert!(
        lagging[0].contains("chunk 5: its header stops short of its records (free space at byte 29104"),
        "{lagging:?}"
    );
    assert!(lagging[0].contains("91 more records read, up to record 926"), "{lagging:?}");
    assert!(!read.iter().any(|m| m.contains("CRC32")), "the header agrees with itself: {read:?}");
    every_plaso_record_counted("an EVTX chunk's free space inside its header", |b| {
        b[plaso_chunk(5) + 48..plaso_chunk(5) + 52].copy_from_slice(&0u32.to_le_bytes());
    });
}

/// A copy of an event log cut at a chunk's edge reads as a whole file;
/// the header's count of chunks in use says how many were lost.
#[test]
fn an_event_log_cut_at_a_chunks_edge_says_what_is_missing() {
    let Some(samples) = common::samples("an EVTX copy cut at a chunk's edge") else { return };
    let bytes = fs::read(samples.join("evtx-log2timeline-plaso/System.evtx")).expect("reads");
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "System.evtx", &bytes[..plaso_chunk(5)]);
    write(dir.path(), "Cut.evtx", &bytes[..plaso_chunk(5) + 30_000]);
    let (scanned, _) = scanned_and_analyzed(dir.path());
    let at_edge = messages(summary(&scanned.files, "System.evtx"));
    assert!(
        at_edge.iter().any(|m| m.contains(
            "the file header counts 27 chunks in use and the file holds 5: the copy ends early, and the records of \
             the last 22 chunks are lost (the header's next record id is 5010)"
        )),
        "{at_edge:?}"
    );
    let inside = messages(summary(&scanned.files, "Cut.evtx"));
    assert!(inside.iter().any(|m| m.contains("holds 5 whole and part of one more")), "{inside:?}");
    assert!(inside.iter().any(|m| m.contains("the last 21 chunks are lost")), "{inside:?}");
}

/// A copy cut through a record: the record is not read from the zeros
/// after the cut, and `scan` and `analyze` count the same records; a copy
/// cut inside a chunk's header says so.
#[test]
fn an_event_log_cut_through_a_record_counts_alike_in_every_command() {
    let Some(samples) = common::samples("an EVTX copy cut through a record") else { return };
    let bytes = fs::read(samples.join("evtx-log2timeline-plaso/System.evtx")).expect("reads");
    let dir = tempfile::tempdir().expect("tempdir");
    // Chunk 5's record 836 runs from byte 29,104 of the chunk to 30,256.
    write(dir.path(), "Record.evtx", &bytes[..plaso_chunk(5) + 30_000]);
    write(dir.path(), "Header.evtx", &bytes[..plaso_chunk(5) + 100]);
    let (scanned, report) = scanned_and_analyzed(dir.path());
    for files in [&scanned.files, &report.inventory.files] {
        assert_eq!(
            summary(files, "Record.evtx").records,
            835,
            "{:?}",
            messages(summary(files, "Record.evtx"))
        );
    }
    let header = messages(summary(&scanned.files, "Header.evtx"));
    assert!(
        header.iter().any(|m| m.contains("100 bytes into chunk 5 (copy cut short), inside its header")),
        "{header:?}"
    );
}

/// A Security log whose copy was cut short inside its first chunk: `scan`
/// warned and the rest said nothing, so a clipped log read as a clean one.
/// The analysis's inventory and the hunt's read both name the file and
/// what was lost (the report headers say it from there), while a whole
/// copy of the same log loses nothing.
#[test]
fn an_event_log_cut_short_says_evidence_was_lost_in_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate("web-shell", dir.path(), 7, &Size { hosts: 1, hours: 2, rate: 0.05 }).expect("generates");
    let log = dir.path().join("WEB01").join("Security.evtx");
    let whole = fs::read(&log).expect("reads");
    let cut_dir = tempfile::tempdir().expect("tempdir");
    write(cut_dir.path(), "Security.evtx", &whole[..8_000]);
    let (scanned, report) = scanned_and_analyzed(cut_dir.path());
    for files in [&scanned.files, &report.inventory.files] {
        let file = summary(files, "Security.evtx");
        assert_eq!(file.lost, 1, "{:?}", file.diagnostics);
        assert!(file.diagnostics.iter().any(|d| d.lost && d.message.contains("(copy cut short)")));
    }
    let mut rules = faultline_hunt::LoadReport::default();
    rules.add_bundled();
    let hunt = faultline_analyzer::hunting::Hunt::new(rules);
    let read = |path: &Path| {
        faultline_analyzer::hunting::hunt(
            &[path.to_path_buf()],
            &ReadConfig::default(),
            &Scope::default(),
            &hunt,
            &|_| {},
        )
        .reading
    };
    let reading = read(cut_dir.path());
    assert_eq!(reading.lost.len(), 1, "{:?}", reading.lost);
    assert!(
        reading.lost[0].0.ends_with("Security.evtx")
            && reading.lost[0].1.contains("the rest of the chunk lost")
    );
    assert!(read(&log).lost.is_empty(), "the whole copy loses nothing");
}

/// A record whose data the event model cannot be built from (one byte of
/// plaso's System.evtx changed, in record 3870's data) is read from its
/// System values, counted as `scan` counts it, and says its data was not
/// read; the full timeline (every event) has it, from those values, in its
/// place.
#[test]
fn a_record_with_damaged_data_is_counted_by_every_command() {
    let damage = |b: &mut Vec<u8>| b[1_331_538] = 15;
    let Some(report) = every_plaso_record_counted("an EVTX record with damaged data", damage) else {
        return;
    };
    let read = messages(summary(&report.inventory.files, "System.evtx"));
    assert!(
        read.iter()
            .any(|m| m.contains("record number 3870")
                && m.contains("from its System values, its data not read")),
        "{read:?}"
    );
    let Some(samples) = common::samples("an EVTX record with damaged data on the timeline") else { return };
    let mut bytes = fs::read(samples.join("evtx-log2timeline-plaso/System.evtx")).expect("reads");
    damage(&mut bytes);
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "System.evtx", &bytes);
    let every = ReadConfig { all_events: true, ..ReadConfig::default() };
    let timeline =
        faultline_analyzer::timeline::full(&[dir.path().to_path_buf()], &every, &Scope::default(), &|_| {})
            .expect("reads");
    let entries: Vec<_> = timeline.entries().expect("sorts").collect::<Result<_, _>>().expect("rows");
    assert_eq!(entries.len(), 5009);
    let damaged: Vec<_> =
        entries.iter().filter(|e| e.evidence.record.is_some_and(|r| r.to_string() == "3870")).collect();
    assert_eq!(damaged.len(), 1, "record 3870 once");
    assert!(damaged[0].evidence.time.0 > 0, "timed: {:?}", damaged[0].evidence);
}

/// A record whose BinXML the raw walk cannot read as one template instance
/// (three bytes of plaso's System.evtx changed in chunk 5, record 910's):
/// `scan` reads its System values through the event model, as `analyze`
/// does, and both count it.
#[test]
fn a_record_only_the_event_model_reads_is_counted_by_every_command() {
    every_plaso_record_counted("an EVTX record only the event model reads", |b| {
        b[386_525] = 232;
        b[387_613] = 250;
        b[387_614] = 250;
    });
}

/// The same bytes at two paths are one file's copy only on one host: files
/// the analyst files under two hosts with `--host` (two servers' logs of
/// headers only) are each read.
#[test]
fn identical_files_the_analyst_files_under_two_hosts_are_each_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = b"#Software: Microsoft Internet Information Services 10.0\n#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /a 200\n";
    for side in ["a", "b"] {
        fs::create_dir_all(dir.path().join(side).join("evidence")).expect("mkdir");
        write(&dir.path().join(side).join("evidence"), "u_ex240101.log", log);
    }
    let paths = [dir.path().to_path_buf()];
    let read = |hosts: &faultline_analyzer::identity::HostOverrides| {
        let inventory = faultline_analyzer::inventory::scan(&paths, &ReadConfig::default(), hosts, &|_| {});
        inventory.files.iter().filter(|f| f.status == FileStatus::Parsed).count()
    };
    assert_eq!(read(&faultline_analyzer::identity::HostOverrides::default()), 1, "one host's copy");
    let mut hosts = faultline_analyzer::identity::HostOverrides::default();
    hosts.insert("WEB01", dir.path().join("a"));
    hosts.insert("WEB02", dir.path().join("b"));
    assert_eq!(read(&hosts), 2, "two hosts' files");
}

/// A `.gz` file's size is what it decompressed to: a gzip of two members
/// (each with its own trailer) and one cut short (its last four bytes, which
/// the trailer's size is read from, are compressed data) are counted as
/// read, not as a trailer says.
#[test]
fn a_gz_file_is_as_large_as_what_it_decompressed_to() {
    use std::io::Write;
    let gz = |text: &str| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).expect("gzip");
        gz.finish().expect("gzip")
    };
    let head = "#Fields: date time cs-uri-stem sc-status\n2024-01-01 00:00:00 /a 200\n";
    let rows: String = (1..=40).map(|i| format!("2024-01-01 00:00:{:02} /p{i} 404\n", i % 60)).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "u_ex240101.log.gz", &[gz(head), gz(&rows)].concat());
    let whole = gz(&format!("{head}{rows}"));
    write(dir.path(), "u_ex240102.log.gz", &whole[..whole.len() * 2 / 3]);
    let hosts = faultline_analyzer::identity::HostOverrides::default();
    let paths = [dir.path().to_path_buf()];
    let files = faultline_analyzer::inventory::scan(&paths, &ReadConfig::default(), &hosts, &|_| {}).files;
    let two = summary(&files, "u_ex240101.log");
    assert_eq!((two.bytes, two.records), ((head.len() + rows.len()) as u64, 41));
    let cut = summary(&files, "u_ex240102.log");
    assert!(cut.bytes < (head.len() + rows.len()) as u64 && cut.bytes > 0, "{}", cut.bytes);
}

/// Numbers past what IIS writes (a time-taken of 2^64 - 1 ms, of 2^63)
/// neither stop the analysis (the sums of a minute's latency overflowed)
/// nor date a finding centuries back (a request's start is its end less
/// its time-taken): said at their lines, the rows read without them.
#[test]
fn a_time_taken_no_request_runs_dates_nothing_and_stops_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-sitename s-computername \
         cs-method cs-uri-stem sc-status sc-substatus sc-win32-status time-taken\n",
    );
    for (second, taken) in [(0, "18446744073709551615"), (1, "9223372036854775808"), (2, "31")] {
        log.push_str(&format!("2025-11-24 00:00:0{second} W3SVC1 WEB01 GET /app/ 500 19 0 {taken}\n"));
    }
    write(dir.path(), "u_ex251124.log", log.as_bytes());
    let (_, report) = scanned_and_analyzed(dir.path());
    let f = summary(&report.inventory.files, "u_ex251124.log");
    assert_eq!((f.records, f.rejected), (3, 0), "{:?}", messages(f));
    assert_eq!(messages(f).iter().filter(|m| m.contains("time-taken")).count(), 2, "{:?}", messages(f));
    let day = faultline_parser::Timestamp::from_parts(1_763_942_400, 0);
    assert!(!report.findings.is_empty(), "three 500.19s are an incident");
    for finding in &report.findings {
        assert!(finding.start >= day, "{} starts at {}", finding.id, finding.start.to_rfc3339());
    }
}

/// plaso's System.evtx with the first three records' times (the record
/// header's and the TimeCreated that repeats it) set to `filetime`.
fn plaso_record_times(b: &mut [u8], filetime: u64) {
    let mut at = 4096 + 512;
    for _ in 0..3 {
        assert_eq!(&b[at..at + 4], b"\x2a\x2a\x00\x00", "a record starts at {at}");
        let size = u32_at(b, at + 4) as usize;
        let written: [u8; 8] = b[at + 16..at + 24].try_into().expect("eight bytes");
        let record = &mut b[at..at + size];
        let mut from = 0;
        while let Some(p) = record[from..].windows(8).position(|w| w == written) {
            record[from + p..from + p + 8].copy_from_slice(&filetime.to_le_bytes());
            from += p + 8;
        }
        at += size;
    }
}

/// Records whose times are garbage (past year 9999) or zero are each still
/// read, in `scan` and `analyze` alike, and said alike: the event log
/// library refuses a record whose header's time is garbage and walks past
/// the next ones (they were lost uncounted), so they are read from a copy
/// of their chunk with those times zeroed, their data too; and a record
/// with no time at all is said, whether kept (placed at 1970) or counted.
#[test]
fn records_of_garbage_or_no_time_are_each_counted_and_said() {
    let Some((scanned, report)) = plaso_scanned_and_analyzed(
        "records of garbage times",
        |b| plaso_record_times(b, u64::MAX),
        (5009, 0),
    ) else {
        return;
    };
    for (command, files) in [("scan", &scanned.files), ("analyze", &report.inventory.files)] {
        let read = messages(summary(files, "System.evtx"));
        let said = |text: &str| read.iter().filter(|m| m.contains(text)).count();
        assert_eq!(
            said("chunk 0: 3 records (the first, record 1) hold a written time past year 9999"),
            1,
            "{command}: {read:?}"
        );
        assert_eq!(
            said("chunk 0: 3 records (the first, record 1) hold no time a clock can place"),
            1,
            "{command}"
        );
        assert_eq!(said("System values"), 0, "{command}: data read: {read:?}");
        assert_eq!(said("walked past"), 0, "{command}: {read:?}");
    }
    // Only their header's time garbage: placed by TimeCreated, their
    // EventData read (the first is the Service Control Manager's 7036,
    // the Event Log service stopping). Past every clock, and on
    // 9999-12-31 at noon: past the end of the event log library's clock
    // (9999-12-30 22:00 UTC), which refuses the record as it does the
    // first.
    const NOON_9999_12_31: u64 = 2_650_466_880_000_000_000 + 12 * 3600 * 10_000_000;
    for written in [u64::MAX, NOON_9999_12_31] {
        let Some(report) = every_plaso_record_counted("records of garbage header times", |b| {
            let mut at = 4096 + 512;
            for _ in 0..3 {
                b[at + 16..at + 24].copy_from_slice(&written.to_le_bytes());
                at += u32_at(b, at + 4) as usize;
            }
        }) else {
            return;
        };
        let read = messages(summary(&report.inventory.files, "System.evtx"));
        assert!(!read.iter().any(|m| m.contains("no time a clock can place")), "{read:?}");
        assert!(!read.iter().any(|m| m.contains("System values")), "their data read: {read:?}");
    }
    // With a record damaged for good further on (its size too small), the
    // ones walked past are still read: only the damaged one is lost.
    plaso_records_counted(
        "records of garbage times beside a damaged one",
        |b| {
            plaso_record_times(b, u64::MAX);
            let mut at = 4096 + 512;
            for _ in 0..9 {
                at += u32_at(b, at + 4) as usize;
            }
            b[at + 4..at + 8].copy_from_slice(&7u32.to_le_bytes());
        },
        (5008, 1),
    );
    let Some(report) = every_plaso_record_counted("records of no time", |b| plaso_record_times(b, 0)) else {
        return;
    };
    let read = messages(summary(&report.inventory.files, "System.evtx"));
    assert!(
        read.iter()
            .any(|m| m.contains("3 records (the first, record 1) hold no time") && m.contains("1970-01-01")),
        "{read:?}"
    );
}

/// A W3C row with any numbers its fields' grammar admits (a status of
/// three digits, every other number up to 2^64 - 1), in the first minutes
/// of a day, failing more often than not.
fn any_row() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    (
        // A few minutes, so that rows share a minute's sums.
        0u32..300,
        prop::sample::select(vec!["/", "/app/", "/login.aspx", "/aspnet_client/a.aspx", "/api/orders"]),
        prop::sample::select(vec!["GET", "POST"]),
        prop_oneof![Just(500u16), Just(503), 100u16..1000],
        prop_oneof![Just(0u32), any::<u32>()],
        prop_oneof![Just(0u64), any::<u64>()],
        (prop_oneof![Just(0u64), any::<u64>()], prop_oneof![Just(0u64), any::<u64>()]),
        prop_oneof![0u64..100_000, any::<u64>()],
    )
        .prop_map(|(second, stem, method, status, sub, win32, (sent, received), taken)| {
            let (h, m, s) = (second / 3600, second / 60 % 60, second % 60);
            format!(
                "2025-11-24 {h:02}:{m:02}:{s:02} W3SVC1 WEB01 {method} {stem} - 10.0.0.{} {status} {sub} {win32} \
                 {sent} {received} {taken}\n",
                second % 7
            )
        })
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 24, ..Default::default() })]

    /// No number a row's grammar admits stops the analysis or its lens
    /// (overflow checks are on in tests), and no finding is dated outside
    /// the day the rows are of (a time-taken of 2^64 - 1 ms dated one to
    /// 1733): every row read or rejected, none lost.
    #[test]
    fn no_number_a_row_admits_stops_the_analysis_or_misdates_it(rows in proptest::collection::vec(any_row(), 1..60)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = String::from(
            "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-sitename \
             s-computername cs-method cs-uri-stem cs-uri-query c-ip sc-status sc-substatus sc-win32-status \
             sc-bytes cs-bytes time-taken\n",
        );
        for row in &rows {
            log.push_str(row);
        }
        write(dir.path(), "u_ex251124.log", log.as_bytes());
        let report = common::analyzed_with_the_pack(dir.path());
        let f = summary(&report.inventory.files, "u_ex251124.log");
        proptest::prop_assert_eq!(f.records + f.rejected, rows.len() as u64, "{:?}", messages(f));
        // The day, less the longest a time-taken may reach back.
        let day = faultline_parser::Timestamp::from_parts(1_763_942_400, 0);
        let earliest = day - faultline_parser::Span::millis(faultline_parser::time::LONGEST_REQUEST_MS);
        let latest = day + faultline_parser::Span::hours(25);
        for finding in &report.findings {
            proptest::prop_assert!(finding.start >= earliest && finding.end <= latest, "{}: {} .. {}", finding.id, finding.start.to_rfc3339(), finding.end.to_rfc3339());
        }
        for d in &report.detections {
            proptest::prop_assert!(d.time >= earliest && d.time <= latest, "{} at {}", d.rule.meta.title, d.time.to_rfc3339());
        }
    }
}

/// A UTF-16 access log with a byte added in the middle (a copy cut at an
/// odd byte and written on), and one whose mark a byte follows: each row
/// is read, in `scan` and `analyze` alike, where the rest of the file was
/// one line of garbage, and the warning names the line the text goes on
/// in step at.
#[test]
fn a_utf16_log_out_of_step_by_a_byte_is_read_whole() {
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\r\n\
         #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n",
    );
    for i in 0..60 {
        log.push_str(&format!(
            "2025-11-24 10:{i:02}:00 10.0.0.5 GET /orders/{i} - 443 - 198.51.100.7 Mozilla/5.0 500 0 0 31\r\n"
        ));
    }
    let utf16: Vec<u8> = log.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let row_30 = 2 * log.find("10:30:00").expect("row 30");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut added = [&[0xFF, 0xFE][..], &utf16].concat();
    added.insert(2 + row_30 + 1, 0);
    write(dir.path(), "u_ex251124.log", &added);
    let marked_then_a_byte = [&[0xFF, 0xFE, 0x00][..], &utf16].concat();
    write(dir.path(), "u_ex251125.log", &marked_then_a_byte);
    let (scanned, report) = scanned_and_analyzed(dir.path());
    for files in [&scanned.files, &report.inventory.files] {
        let f = summary(files, "u_ex251124.log");
        assert_eq!((f.records, f.rejected), (60, 0), "{:?}", messages(f));
        let said = messages(f);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].starts_with("Some(33) the UTF-16LE text goes out of step at byte"), "{said:?}");
        let f = summary(files, "u_ex251125.log");
        assert_eq!((f.records, f.rejected), (60, 0), "{:?}", messages(f));
        assert!(messages(f)[0].contains("out of step at byte 2 of the file"), "{:?}", messages(f));
    }
}

/// A real App Service event log export saved as UTF-16 (as Windows
/// PowerShell's `>` writes it), a NUL added in its middle: every one of its
/// 146 events is read, where half of them were lost to one XML error.
#[test]
fn a_utf16_event_export_out_of_step_by_a_byte_loses_no_event() {
    let Some(samples) = common::samples("a UTF-16 event export out of step") else { return };
    let text = fs::read_to_string(samples.join("azure-eventlog-sadabyakod-school-ai-chatbot/eventlog.xml"))
        .expect("reads");
    let mut utf16: Vec<u8> = [0xFF, 0xFE].to_vec();
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let middle = utf16.len() / 2 + 1;
    utf16.insert(middle, 0);
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "eventlog.xml", &utf16);
    let (scanned, report) = scanned_and_analyzed(dir.path());
    for files in [&scanned.files, &report.inventory.files] {
        let f = summary(files, "eventlog.xml");
        assert_eq!((f.records, f.rejected), (146, 0), "{:?}", messages(f));
        assert!(
            messages(f).iter().any(|m| m.contains("UTF-16LE text goes out of step")),
            "{:?}",
            messages(f)
        );
    }
}
