use std::io::Write;

use super::*;

/// A zip of `members`, as a seekable writer makes it (sizes in each header).
pub(super) fn zip_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            w.start_file(*name, opts).expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish");
    }
    buf.into_inner()
}

fn gz_bytes(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("write");
    e.finish().expect("finish")
}

#[test]
fn discovers_files_archives_and_nested_archives_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("WEB01/HTTPERR")).expect("mkdir");
    std::fs::write(root.join("WEB01/HTTPERR/httperr1.log"), b"#Fields: date time\n").expect("write");
    let inner = zip_bytes(&[("x.log", b"hello")]);
    let outer = zip_bytes(&[
        ("WEB02/inetpub/logs/LogFiles/W3SVC2/u_ex240101.log", b"#Fields: date time\n"),
        ("../../etc/passwd", b"root"),
        ("/abs/path.log", b"x"),
        ("nested.zip", &inner),
    ]);
    std::fs::write(root.join("bundle.zip"), outer).expect("write");
    std::fs::write(root.join("extra.log.gz"), gz_bytes(b"#Fields: date\n")).expect("write");

    let found = discover(&[root.to_path_buf(), root.join("missing")], &ArchiveLimits::default());
    let names: Vec<String> =
        found.entries.iter().map(|e| e.path.to_string().replace(&root.display().to_string(), "")).collect();
    assert_eq!(
        names,
        [
            "/WEB01/HTTPERR/httperr1.log",
            "/bundle.zip!WEB02/inetpub/logs/LogFiles/W3SVC2/u_ex240101.log",
            "/bundle.zip!nested.zip!x.log",
            "/extra.log.gz!extra.log",
        ]
    );
    let problems: Vec<String> =
        found.problems.iter().map(|p| format!("{}: {}", p.path.file_name(), p.error)).collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("passwd: refused: the member's path is absolute or climbs out"));
    assert!(problems[1].contains("path.log: refused"));
    assert!(problems[2].ends_with("missing: no such file or directory"));

    let limits = ArchiveLimits::default();
    let opened: Vec<Vec<u8>> =
        found.entries.iter().map(|e| e.open(&limits).expect("opens").bytes.to_vec()).collect();
    assert_eq!(opened[2], b"hello");
    assert_eq!(opened[3], b"#Fields: date\n");
    let placed = found.entries[1].path.placement();
    assert_eq!((placed.folder_host.as_deref(), placed.site), (Some("WEB02"), Some(2)));
}

/// A zip cut short (a copy or an upload stopped halfway) has lost its
/// central directory, written last: the members before the cut are read
/// from their local headers, the one cut through up to the cut with a
/// warning, and the archive is reported as damaged, saying so.
#[test]
fn a_zip_cut_short_keeps_its_members_before_the_cut() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = |n: usize| -> Vec<u8> {
        let mut log = b"#Fields: date time cs-uri-stem sc-status\n".to_vec();
        for i in 0..n {
            log.extend(
                format!("2024-01-01 00:{:02}:{:02} /p{i}.aspx 200\n", i / 60 % 60, i % 60).into_bytes(),
            );
        }
        log
    };
    // The second member is large (its declared sizes a ratio far under a
    // bomb's) and cut 1,000 bytes into its data: what is left of it must not
    // be taken for a bomb's ratio.
    let (first, second) = (rows(500), rows(100_000));
    assert!(second.len() > 2 << 20);
    let whole =
        zip_bytes(&[("WEB01/W3SVC1/u_ex240101.log", &first), ("WEB01/W3SVC1/u_ex240102.log", &second)]);
    let second_header = memchr::memmem::find_iter(&whole, b"PK\x03\x04").nth(1).expect("two members");
    let cut = second_header + 30 + "WEB01/W3SVC1/u_ex240102.log".len() + 1_000;
    std::fs::write(dir.path().join("case.zip"), &whole[..cut]).expect("write");
    let limits = ArchiveLimits::default();
    let found = discover(&[dir.path().to_path_buf()], &limits);
    let names: Vec<String> = found.entries.iter().map(|e| e.path.file_name()).collect();
    assert_eq!(names, ["u_ex240101.log", "u_ex240102.log"]);
    let problems: Vec<String> = found.problems.iter().map(|p| p.error.to_string()).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("damaged zip archive (")
            && problems[0].contains("2 members read from their local headers"),
        "{problems:?}"
    );
    let whole_member = found.entries[0].open(&limits).expect("opens");
    assert_eq!(whole_member.bytes.to_vec(), first);
    assert_eq!(whole_member.damage, None);
    let cut = found.entries[1].open(&limits).expect("opens");
    assert!(!cut.bytes.is_empty() && cut.bytes.len() < second.len(), "{}", cut.bytes.len());
    assert_eq!(cut.bytes.to_vec(), second[..cut.bytes.len()].to_vec(), "the start of the member, as written");
    assert!(
        cut.damage.as_deref().is_some_and(|d| d.starts_with("damaged zip member data after ")
            || d.starts_with("the zip ends inside this member")),
        "{:?}",
        cut.damage
    );
    assert_eq!(found.entries[1].head(&limits, 8).expect("head"), second[..8].to_vec());
}

/// Zips written by some Windows tools separate folders with `\`: the host
/// and site folders are still found, and a name climbing out with `..\` is
/// refused as `../` is.
#[test]
fn backslash_member_names_are_folders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = zip_bytes(&[
        ("WEB07\\inetpub\\logs\\LogFiles\\W3SVC3\\u_ex240101.log", b"#Fields: date time\n"),
        ("..\\..\\Windows\\win.ini", b"x"),
        ("C:\\inetpub\\x.log", b"x"),
    ]);
    std::fs::write(dir.path().join("bundle.zip"), bundle).expect("write");
    let found = discover(&[dir.path().to_path_buf()], &ArchiveLimits::default());
    assert_eq!(
        found.entries.len(),
        1,
        "{:?}",
        found.entries.iter().map(|e| e.path.to_string()).collect::<Vec<_>>()
    );
    assert!(
        found.entries[0]
            .path
            .to_string()
            .ends_with("bundle.zip!WEB07/inetpub/logs/LogFiles/W3SVC3/u_ex240101.log")
    );
    let placed = found.entries[0].path.placement();
    assert_eq!((placed.folder_host.as_deref(), placed.site), (Some("WEB07"), Some(3)));
    let refused = found.problems.iter().filter(|p| p.error.to_string().contains("climbs out")).count();
    assert_eq!(refused, 2, "{:?}", found.problems.iter().map(|p| p.error.to_string()).collect::<Vec<_>>());
}

#[test]
fn bombs_and_oversized_members_are_refused_and_the_rest_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zeros = vec![0u8; 8 << 20];
    let bomb = zip_bytes(&[("zeros.log", &zeros), ("ok.log", b"fine")]);
    std::fs::write(dir.path().join("b.zip"), bomb).expect("write");
    std::fs::write(dir.path().join("big.gz"), gz_bytes(&zeros)).expect("write");
    let limits = ArchiveLimits { max_ratio: 100, max_member_bytes: 4 << 20, ..ArchiveLimits::default() };
    let found = discover(&[dir.path().to_path_buf()], &limits);
    let messages: Vec<String> = found.problems.iter().map(|p| p.error.to_string()).collect();
    assert!(messages.iter().any(|m| m.contains("is over the limit of 4 MiB per member")), "{messages:?}");
    let names: Vec<String> = found.entries.iter().map(|e| e.path.file_name()).collect();
    assert_eq!(names, ["ok.log", "big"]);
    let gz = found.entries.iter().find(|e| e.path.file_name() == "big").expect("gz entry");
    let err = gz.open(&limits).expect_err("refused");
    assert!(err.to_string().contains("gzip bomb"), "{err}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported_not_followed_forever() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("a")).expect("mkdir");
    std::fs::write(dir.path().join("a/u_ex.log"), b"x").expect("write");
    std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).expect("symlink");
    let found = discover(&[dir.path().to_path_buf()], &ArchiveLimits::default());
    assert_eq!(found.entries.len(), 1);
    assert!(found.problems.iter().any(|p| matches!(p.error, InputError::LinkLoop)));
}

/// A folder given again inside a folder given walks its dangling link
/// twice: one problem, said once.
#[cfg(unix)]
#[test]
fn a_problem_two_inputs_reach_is_said_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let web = dir.path().join("WEB01");
    std::fs::create_dir(&web).expect("mkdir");
    std::fs::write(web.join("u_ex.log"), b"x").expect("write");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), web.join("dangling")).expect("symlink");
    let both = discover(&[dir.path().to_path_buf(), web.clone()], &ArchiveLimits::default());
    let dangling: Vec<String> = both
        .problems
        .iter()
        .filter(|p| matches!(p.error, InputError::DanglingLink(_)))
        .map(|p| p.path.to_string())
        .collect();
    assert_eq!(dangling, [web.join("dangling").display().to_string()]);
}

/// A file is read once, however it is found again: a link to it beside
/// it, a folder given along with one inside it. The second finding is
/// reported with the first path.
#[cfg(unix)]
#[test]
fn a_file_found_again_is_read_once_and_said_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let web = dir.path().join("WEB01");
    std::fs::create_dir(&web).expect("mkdir");
    std::fs::write(web.join("u_ex1.log"), b"x").expect("write");
    std::os::unix::fs::symlink(web.join("u_ex1.log"), web.join("u_ex2.log")).expect("symlink");
    let found = discover(&[dir.path().to_path_buf(), web.clone()], &ArchiveLimits::default());
    let paths: Vec<String> = found.entries.iter().map(|e| e.path.to_string()).collect();
    assert_eq!(paths, [web.join("u_ex1.log").display().to_string()]);
    let again: Vec<String> = found.problems.iter().map(|p| format!("{}: {}", p.path, p.error)).collect();
    let first = web.join("u_ex1.log").display().to_string();
    assert_eq!(
        again,
        [
            format!("{}: the same file as {first}; read once", web.join("u_ex1.log").display()),
            format!("{}: the same file as {first}; read once", web.join("u_ex2.log").display()),
        ],
        "the link both inputs reach is said once"
    );
}

/// A link that sorts before the file it leads to is the one said to be
/// found again: the file is read at its own path. Neither that nor a link
/// back to a folder above is a failure; a link to nothing is, and says
/// where it led.
#[cfg(unix)]
#[test]
fn a_file_is_read_at_its_own_path_before_a_link_to_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    std::fs::write(logs.join("u_ex1.log"), b"x").expect("write");
    std::os::unix::fs::symlink(logs.join("u_ex1.log"), dir.path().join("a_link.log")).expect("symlink");
    std::os::unix::fs::symlink("missing.log", dir.path().join("b_dangling.log")).expect("symlink");
    std::os::unix::fs::symlink(dir.path(), logs.join("up")).expect("symlink");
    let found = discover(&[dir.path().to_path_buf()], &ArchiveLimits::default());
    let paths: Vec<String> = found.entries.iter().map(|e| e.path.to_string()).collect();
    assert_eq!(paths, [logs.join("u_ex1.log").display().to_string()]);
    let problems: Vec<(String, bool)> =
        found.problems.iter().map(|p| (format!("{}: {}", p.path, p.error), p.error.is_failure())).collect();
    let at = |name: &str| dir.path().join(name).display().to_string();
    assert_eq!(
        problems,
        [
            (format!("{}: a symbolic link to missing.log, which does not exist", at("b_dangling.log")), true),
            (
                format!(
                    "{}: a symbolic link loop (back to a folder it is in, or to itself); not followed",
                    logs.join("up").display()
                ),
                false
            ),
            (
                format!(
                    "{}: the same file as {}; read once",
                    at("a_link.log"),
                    logs.join("u_ex1.log").display()
                ),
                false
            ),
        ]
    );
}

/// Files reached through a link wait for those reached without one,
/// whatever the order: a linked folder that sorts first, a link given as an
/// input before its target, a link in an earlier input. A link given that
/// leads nowhere names where; a chain of links back to itself is a loop.
#[cfg(unix)]
#[test]
fn files_reached_through_links_are_read_at_their_real_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().join("z_real");
    std::fs::create_dir(&real).expect("mkdir");
    std::fs::write(real.join("u_ex1.log"), b"x").expect("write");
    std::os::unix::fs::symlink(&real, dir.path().join("a_link")).expect("symlink");
    std::os::unix::fs::symlink(real.join("u_ex1.log"), dir.path().join("b.log")).expect("symlink");
    std::os::unix::fs::symlink("c2", dir.path().join("c1")).expect("symlink");
    std::os::unix::fs::symlink("c1", dir.path().join("c2")).expect("symlink");
    std::os::unix::fs::symlink("nowhere.log", dir.path().join("d.log")).expect("symlink");
    let read = |inputs: &[PathBuf]| {
        let found = discover(inputs, &ArchiveLimits::default());
        let entries: Vec<String> = found.entries.iter().map(|e| e.path.to_string()).collect();
        let problems: Vec<String> =
            found.problems.iter().map(|p| format!("{}: {}", p.path, p.error)).collect();
        (entries, problems)
    };
    let real_log = real.join("u_ex1.log").display().to_string();
    let (entries, problems) = read(&[dir.path().to_path_buf()]);
    assert_eq!(entries, std::slice::from_ref(&real_log));
    assert!(
        problems.contains(&format!(
            "{}: the same file as {real_log}; read once",
            dir.path().join("a_link/u_ex1.log").display()
        )),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p
            .ends_with("c1: a symbolic link loop (back to a folder it is in, or to itself); not followed")),
        "{problems:?}"
    );
    let (entries, _) = read(&[dir.path().join("b.log"), real.join("u_ex1.log")]);
    assert_eq!(entries, std::slice::from_ref(&real_log), "a link given first");
    let (entries, _) = read(&[dir.path().join("a_link"), real.clone()]);
    assert_eq!(entries, [real_log], "a linked folder given first");
    let (_, problems) = read(&[dir.path().join("d.log")]);
    assert_eq!(
        problems,
        [format!(
            "{}: a symbolic link to nowhere.log, which does not exist",
            dir.path().join("d.log").display()
        )]
    );
}

/// Discovery of `root`, its copies marked by the host each entry's path
/// names (as the read pass marks them by the host it decides).
fn discovered_with_copies(root: &Path) -> Discovery {
    let mut found = discover(&[root.to_path_buf()], &ArchiveLimits::default());
    let hosts: Vec<Option<String>> = found
        .entries
        .iter()
        .map(|e| {
            let p = e.path.placement();
            p.named_host.or(p.folder_host)
        })
        .collect();
    mark_copies(&mut found.entries, &ArchiveLimits::default(), |i| hosts[i].clone());
    found
}

/// A collection's archive beside the folder it was unpacked to: each
/// member holding a plain file's bytes is that file's copy, read once, from
/// the plain file; a member of the same size with other bytes is read.
#[test]
fn an_archive_beside_its_unpacked_folder_is_read_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir(root.join("WEB01")).expect("mkdir");
    std::fs::write(root.join("WEB01/u_ex1.log"), b"same bytes").expect("write");
    std::fs::write(root.join("WEB01/u_ex2.log"), b"other byte").expect("write");
    let zip = zip_bytes(&[("u_ex1.log", b"same bytes"), ("u_ex2.log", b"OTHER BYTE"), ("empty.log", b"")]);
    std::fs::write(root.join("WEB01.zip"), zip).expect("write");
    std::fs::write(root.join("WEB01/empty.log"), b"").expect("write");
    let found = discovered_with_copies(root);
    let copies: Vec<(String, Option<String>)> = found
        .entries
        .iter()
        .map(|e| (e.path.file_name().to_string(), e.copy_of.as_ref().map(|p| p.file_name().to_string())))
        .collect();
    let plain = |n: &str| (n.to_string(), None);
    assert_eq!(
        copies,
        [
            plain("empty.log"),
            plain("u_ex1.log"),
            plain("u_ex2.log"),
            ("u_ex1.log".to_string(), Some("u_ex1.log".to_string())),
            plain("u_ex2.log"),
            plain("empty.log"),
        ],
        "{:?}",
        found.entries.iter().map(|e| e.path.to_string()).collect::<Vec<_>>()
    );
    // Two servers' files of the same bytes are each their own.
    std::fs::create_dir(root.join("WEB02")).expect("mkdir");
    std::fs::write(root.join("WEB02/u_ex1.log"), b"same bytes").expect("write");
    let found = discovered_with_copies(root);
    assert_eq!(found.entries.iter().filter(|e| e.copy_of.is_some()).count(), 1);
    let copy = found.entries.iter().find(|e| e.copy_of.is_some()).expect("one copy");
    assert!(copy.path.to_string().contains("WEB01.zip!u_ex1.log"), "{}", copy.path);
    assert_eq!(copy.copy_of.as_ref().map(|p| p.file.clone()), Some(root.join("WEB01/u_ex1.log")));
}

/// An archive listing one name twice (zip tools allow it): each member is
/// read, and the archive says so; the later one hid the earlier before.
#[test]
fn members_sharing_a_name_are_each_read() {
    let mut zip = zip_bytes(&[("a/u_ex.log", b"first member"), ("b/u_ex.log", b"the second one")]);
    // The second name written as the first, in its local and central headers.
    for at in memchr::memmem::find_iter(&zip.clone(), b"b/u_ex.log").collect::<Vec<_>>() {
        zip[at] = b'a';
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("dups.zip"), zip).expect("write");
    let found = discover(&[dir.path().to_path_buf()], &ArchiveLimits::default());
    let sizes: Vec<(String, u64)> =
        found.entries.iter().map(|e| (e.path.file_name().to_string(), e.size)).collect();
    assert_eq!(sizes, [("u_ex.log".to_string(), 12), ("u_ex.log".to_string(), 14)]);
    let notes: Vec<String> = found.problems.iter().map(|p| p.error.to_string()).collect();
    assert_eq!(
        notes,
        ["1 member of this archive shares a name with another: each is read, from its own header"]
    );
    assert!(matches!(found.problems[0].error, InputError::Container(_)));
}

/// A member whose data fails its checksum keeps what was read, and says
/// so, as a damaged `.gz` does; it was refused whole.
#[test]
fn a_member_failing_its_checksum_keeps_its_data() {
    let data = b"2024-01-01 00:00:00 /a 200\n".repeat(200);
    let mut zip = zip_bytes(&[("u_ex.log", &data)]);
    // The checksum in the local header (offset 14) and in the directory's.
    let mut crc = flate2::Crc::new();
    crc.update(&data);
    let crc = crc.sum().to_le_bytes();
    for at in memchr::memmem::find_iter(&zip.clone(), &crc).collect::<Vec<_>>() {
        zip[at] ^= 0xff;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.zip"), zip).expect("write");
    let found = discover(&[dir.path().to_path_buf()], &ArchiveLimits::default());
    let source = found.entries[0].open(&ArchiveLimits::default()).expect("read, not refused");
    assert_eq!(&source.bytes[..], &data[..]);
    assert!(source.damage.as_deref().is_some_and(|d| d.contains("checksum")), "{:?}", source.damage);
}

/// A pipe or a device is not read (its bytes may never end, or be read
/// only once while the format is recognised from its first ones), and
/// says why.
#[cfg(unix)]
#[test]
fn a_device_or_pipe_is_not_read_and_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe.log");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let inputs = if made.is_ok_and(|s| s.success()) {
        vec![dir.path().to_path_buf(), PathBuf::from("/dev/zero")]
    } else {
        vec![PathBuf::from("/dev/zero")]
    };
    let found = discover(&inputs, &ArchiveLimits::default());
    assert!(found.entries.is_empty());
    assert_eq!(found.problems.len(), inputs.len());
    for p in &found.problems {
        assert!(p.error.to_string().starts_with("not a regular file"), "{}", p.error);
    }
}

/// A `.gz` of one named file is that file, not a folder a host could be
/// named after; one named like a folder still is one, as a `.zip` is.
#[test]
fn a_gz_of_one_file_is_no_folder() {
    // The parts from `case` on (a relative path is read from where it lies).
    let names = |p: EvidencePath| {
        let parts: Vec<(String, bool)> = p.parts().into_iter().map(|p| (p.name, p.archive)).collect();
        let from = parts.iter().rposition(|(n, _)| n == "case").expect("case");
        parts[from..].to_vec()
    };
    let log = EvidencePath::file(PathBuf::from("case/WEB02/httperr2.log.gz")).member("httperr2.log");
    assert_eq!(names(log), [("case".into(), false), ("WEB02".into(), false), ("httperr2.log".into(), false)]);
    let folder = EvidencePath::file(PathBuf::from("case/WEB01.gz")).member("WEB01");
    assert_eq!(names(folder), [("case".into(), false), ("WEB01".into(), true), ("WEB01".into(), false)]);
    let nested = EvidencePath::file(PathBuf::from("case/WEB03.zip.gz")).member("WEB03.zip");
    let nested = nested.member("u_ex1.log");
    assert_eq!(names(nested), [("case".into(), false), ("WEB03".into(), true), ("u_ex1.log".into(), false)]);
}

/// A damaged `.gz` (cut short, a wrong checksum, junk after it) keeps what
/// it held before the damage, as `gzip -d` does, and says why it ends.
#[test]
fn a_damaged_gz_keeps_what_came_before_the_damage() {
    let log: Vec<u8> =
        (0..2000).flat_map(|i| format!("2025-01-01 00:00:00 GET /p{i}.aspx 200\n").into_bytes()).collect();
    let whole = gz_bytes(&log);
    let mut bad_crc = whole.clone();
    let crc = bad_crc.len() - 8;
    bad_crc[crc] ^= 0xff;
    let mut junk = whole.clone();
    junk.extend_from_slice(b"not gzip at all");
    let cut = whole[..whole.len() * 2 / 3].to_vec();
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes, all) in
        [("crc.log.gz", bad_crc, true), ("junk.log.gz", junk, true), ("cut.log.gz", cut, false)]
    {
        std::fs::write(dir.path().join(name), bytes).expect("write");
        let found = discover(&[dir.path().join(name)], &ArchiveLimits::default());
        let source = found.entries[0].open(&ArchiveLimits::default()).expect("opens");
        let read: &[u8] = &source.bytes;
        assert!(!read.is_empty() && log.starts_with(read), "{name}");
        assert_eq!(read.len() == log.len(), all, "{name}: {} of {} bytes", read.len(), log.len());
        let damage = source.damage.unwrap_or_default();
        assert!(damage.starts_with("damaged gzip data after "), "{name}: {damage}");
    }
    std::fs::write(dir.path().join("ok.log.gz"), &whole).expect("write");
    let found = discover(&[dir.path().join("ok.log.gz")], &ArchiveLimits::default());
    assert_eq!(found.entries[0].open(&ArchiveLimits::default()).expect("opens").damage, None);
    // Damaged from its first block (a gzip header, then a deflate block
    // of the reserved type), it is corrupt, not an empty file.
    let mut first = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];
    first.extend_from_slice(&[0xff; 8]);
    first.extend_from_slice(&[0, 0, 0, 0, 100, 0, 0, 0]);
    let fuzzed = tempfile::tempdir().expect("tempdir");
    std::fs::write(fuzzed.path().join("u_ex240101.log.gz"), &first).expect("write");
    let found = discover(&[fuzzed.path().to_path_buf()], &ArchiveLimits::default());
    let opened = found.entries.first().map(|e| e.open(&ArchiveLimits::default()));
    let said: Vec<String> = found
        .problems
        .iter()
        .map(|p| p.error.to_string())
        .chain(opened.and_then(Result::err).map(|e| e.to_string()))
        .collect();
    assert!(said.iter().any(|e| e.starts_with("corrupt gzip data")), "{said:?}");
}

/// A relative path (`faultline hunt .` inside a host's folder, a bare file
/// name, a folder below) is read from the folders it lies in, as the same
/// path typed in full is; which of them name a host is the placement's
/// (`layout::tests`: the working folders do not, the one `.` names does).
#[test]
fn a_path_from_here_names_the_folders_it_lies_in() {
    let here = std::env::current_dir().expect("a working directory");
    let name = here.file_name().expect("a folder name").to_string_lossy().into_owned();
    let parts = |p: &str| EvidencePath::file(p).parts().into_iter().map(|p| p.name).collect::<Vec<_>>();
    let from_here = parts("./u_ex251124.log");
    assert_eq!(from_here[from_here.len() - 2..], [name.clone(), "u_ex251124.log".to_string()]);
    let from_below = parts("../x/../u_ex251124.log");
    let parent = here.parent().and_then(|p| p.file_name()).expect("a parent").to_string_lossy().into_owned();
    assert_eq!(from_below[from_below.len() - 2..], [parent, "u_ex251124.log".to_string()]);
    let below = parts("WEB07/u_ex251124.log");
    assert_eq!(below[..below.len() - 2], parts(".")[..], "read from where it lies");
    assert_eq!(below[below.len() - 2..], ["WEB07", "u_ex251124.log"]);
    let bare = parts("u_ex251124.log");
    assert_eq!(bare[bare.len() - 2..], [name, "u_ex251124.log".to_string()], "a bare name lies here");
}

/// A zip of no files, or of folders alone, is listed as skipped with why;
/// one with a file lists that file only.
#[test]
fn an_archive_of_no_files_is_listed_as_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(root.join("empty.zip"), zip_bytes(&[])).expect("write");
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        w.add_directory("LogFiles/", zip::write::SimpleFileOptions::default()).expect("dir");
        w.finish().expect("finish");
    }
    std::fs::write(root.join("folders.zip"), buf.into_inner()).expect("write");
    std::fs::write(root.join("one.zip"), zip_bytes(&[("u_ex1.log", b"#Fields: date time\n")]))
        .expect("write");
    let found = discover(&[root.to_path_buf()], &ArchiveLimits::default());
    let skipped: Vec<(String, bool)> =
        found.problems.iter().map(|p| (p.path.to_string(), p.error.is_failure())).collect();
    let name = |n: &str| root.join(n).display().to_string();
    assert!(skipped.contains(&(name("empty.zip"), false)), "{skipped:?}");
    assert!(skipped.contains(&(name("folders.zip"), false)), "{skipped:?}");
    assert!(!skipped.iter().any(|(p, _)| p.starts_with(&name("one.zip"))), "{skipped:?}");
    assert_eq!(found.entries.len(), 1);
    let why = found.problems.iter().find(|p| p.path.to_string() == name("empty.zip")).expect("listed");
    assert!(why.error.to_string().contains("holds no files"), "{}", why.error);
}

/// A link inside a folder given that leads out of every folder given is
/// followed (links are), and its files carry where it led, for a warning;
/// a link within the folders given, and a link the analyst named, do not.
#[cfg(unix)]
#[test]
fn a_link_out_of_the_folders_given_is_followed_and_marked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (given, elsewhere) = (dir.path().join("given"), dir.path().join("elsewhere"));
    for d in [&given, &elsewhere, &given.join("inside")] {
        std::fs::create_dir(d).expect("mkdir");
    }
    std::fs::write(elsewhere.join("u_ex1.log"), b"x").expect("write");
    std::fs::write(given.join("inside/u_ex2.log"), b"y").expect("write");
    std::os::unix::fs::symlink(&elsewhere, given.join("out")).expect("symlink");
    std::os::unix::fs::symlink(given.join("inside"), given.join("within")).expect("symlink");
    let found = discover(std::slice::from_ref(&given), &ArchiveLimits::default());
    let marked: Vec<(String, Option<PathBuf>)> =
        found.entries.iter().map(|e| (e.path.to_string(), e.outside.clone())).collect();
    let real = std::fs::canonicalize(elsewhere.join("u_ex1.log")).expect("canonical");
    assert_eq!(
        marked,
        [
            (given.join("inside/u_ex2.log").display().to_string(), None),
            (given.join("out/u_ex1.log").display().to_string(), Some(real)),
        ]
    );
    let named = discover(&[given.join("out/u_ex1.log")], &ArchiveLimits::default());
    assert!(named.entries.iter().all(|e| e.outside.is_none()));
}

/// A name with bytes that are no UTF-8 is shown with each such byte as
/// `\xNN`: two names that differ only there stay apart, and the file can
/// be found from what is shown.
#[cfg(unix)]
#[test]
fn names_that_are_no_utf8_show_their_bytes() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [&b"u_ex\xe9.log"[..], &b"u_ex\xe8.log"[..]] {
        std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), b"x").expect("write");
    }
    let found = discover(&[dir.path().to_path_buf()], &ArchiveLimits::default());
    let names: Vec<String> = found.entries.iter().map(|e| e.path.file_name()).collect();
    assert_eq!(names, ["u_ex\\xE8.log", "u_ex\\xE9.log"]);
    let shown = found.entries[0].path.to_string();
    assert!(
        shown.ends_with("/u_ex\\xE8.log") && shown.starts_with(&dir.path().display().to_string()),
        "{shown}"
    );
}

/// A file time a nanosecond clock cannot hold (a copy's garbage date past
/// 2262, or before 1970) is no time: it was clamped to 2262-04-11, where a
/// detailed error page, dated by its file, then sat unsaid.
#[test]
fn a_file_time_no_clock_can_place_is_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ErrorPage000001.htm");
    std::fs::write(&path, b"x").expect("write");
    let file = std::fs::File::options().write(true).open(&path).expect("open");
    let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    file.set_modified(at(1_763_990_400)).expect("a time in range");
    assert_eq!(
        modified(Some(&std::fs::metadata(&path).expect("meta"))),
        Some(Timestamp::from_parts(1_763_990_400, 0))
    );
    // 2300-01-01.
    file.set_modified(at(10_413_792_000)).expect("a time past 2262");
    assert_eq!(modified(Some(&std::fs::metadata(&path).expect("meta"))), None);
}
