use std::io::Write;

use super::*;

fn zip_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
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
    assert!(messages.iter().any(|m| m.contains("exceeds the 4194304-byte limit")), "{messages:?}");
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
    assert!(found.problems.iter().any(|p| p.error.to_string().contains("loop")));
}
