//! Any bytes as an evidence bundle (`.zip` or `.gz`, told apart by their
//! magic, nested ones too) through discovery, then every member opened and
//! its head read, under small limits: no panic, a member never larger than
//! the limit allows, and a member's (or a plain file's) head always the
//! start of its bytes.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use faultline_parser::source::ArchiveLimits;
use libfuzzer_sys::fuzz_target;

/// Small enough that bombs and declared sizes trip the limits quickly, with
/// a member past `in_memory_bytes` spooled to a temporary file.
const LIMITS: ArchiveLimits = ArchiveLimits {
    max_member_bytes: 1 << 20,
    max_total_bytes: 4 << 20,
    max_ratio: 2000,
    max_depth: 3,
    max_members: 256,
    in_memory_bytes: 64 << 10,
};

/// The one file each run rewrites, in a folder kept for the whole campaign.
fn bundle() -> &'static PathBuf {
    static PATH: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = PATH.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("bundle.zip");
        (dir, path)
    });
    path
}

fuzz_target!(|data: &[u8]| {
    let path = bundle();
    std::fs::write(path, data).expect("writes the bundle");
    let found = faultline_parser::discover(std::slice::from_ref(path), &LIMITS);
    for entry in &found.entries {
        let opened = entry.open(&LIMITS);
        let head = entry.head(&LIMITS, 64);
        if let Ok(source) = &opened {
            // A file that is no archive is read whole, under no member limit.
            let member = !entry.path.members.is_empty();
            assert!(!member || source.bytes.len() as u64 <= LIMITS.max_member_bytes, "{}", entry.path);
            if let Ok(head) = &head {
                assert!(source.bytes.starts_with(head), "{}: the head is not the start", entry.path);
            }
        }
        if let Ok(head) = &head {
            assert!(head.len() <= 64);
        }
    }
});
