//! Where a piece of evidence sits in what was handed over: the collection it
//! belongs to (its root), how that collection was made, and what the folder
//! and archive names say about its host and site. Layouts are recognised by
//! their structure (a drive folder, a Velociraptor `uploads` tree, the IIS and
//! Windows folders, an App Service `LogFiles` tree), wherever they sit.

use std::borrow::Cow;

use serde::Serialize;

/// How a collection was made, as its structure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Files in a folder, with no server structure around them.
    Loose,
    /// A copy of the server's own folders (`inetpub/...`, `Windows/...`,
    /// `LogFiles/...`, `HTTPERR/...`), with or without a host folder above.
    ServerFolders,
    /// A drive captured as a folder (`C/...`), as KAPE and CyLR write it.
    DriveCopy,
    /// A Velociraptor collection (`uploads/<accessor>/C%3A/...`).
    Velociraptor,
    /// An Azure App Service log download (`LogFiles/http/RawLogs`,
    /// `LogFiles/DetailedErrors`, `LogFiles/eventlog.xml`, ...).
    AppService,
}

impl Layout {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Loose => "loose",
            Layout::ServerFolders => "server-folders",
            Layout::DriveCopy => "drive-copy",
            Layout::Velociraptor => "velociraptor",
            Layout::AppService => "app-service",
        }
    }
}

/// One component of an evidence path: a folder, a file, or an archive
/// (named by its stem, `WEB01.zip` → `WEB01`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The name.
    pub name: String,
    /// Whether it is an archive the evidence was found in.
    pub archive: bool,
    /// Whether the analyst named it: a relative path's working folders
    /// were not (`u_ex.log` typed in `/home/alice`), and only show where
    /// the folders typed sit in a collection.
    pub typed: bool,
}

/// Where one file sits in its collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The collection root, as a path: every file under one root belongs to
    /// one host unless its own records say otherwise.
    pub root: String,
    /// How the collection was made.
    pub layout: Layout,
    /// The root's own name, when it could be a host's (`WEB01`; never
    /// `collection`, `C`, `uploads` or `LogFiles`).
    pub folder_host: Option<String>,
    /// The host the collection is named after by the tool that made it: a
    /// Velociraptor `Collection-<host>-<time>` (zipped or unpacked).
    pub named_host: Option<String>,
    /// The IIS site id of a `W3SVC<id>` folder above the file.
    pub site: Option<u32>,
    /// Whose log folder the file lies in: the service folder nearest it.
    pub service: Option<ServiceLog>,
}

/// The IIS service a log folder is named for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceLog {
    /// `W3SVC<id>`: the web sites'.
    Web,
    /// `FTPSVC<id>`, IIS 5 and 6 `MSFTPSVC<id>`: the FTP service's, whose
    /// rows are FTP commands whatever their port or fields.
    Ftp,
}

/// Places a file given as path parts (the last is the file itself).
pub fn place(parts: &[Part]) -> Placement {
    let dirs = parts.split_last().map_or(&[][..], |(_, d)| d);
    let file = parts.last().map(|p| p.name.as_str()).unwrap_or_default();
    let (anchor, layout) = match (0..dirs.len()).find_map(|i| anchor(dirs, i, file).map(|l| (i, l))) {
        Some((i, layout)) => (i, layout),
        None => (dirs.len(), Layout::Loose),
    };
    let before = &dirs[..anchor];
    let root_len = before.iter().rposition(|p| !is_structural(&p.name)).map_or(0, |i| i + 1);
    let root = &before[..root_len];
    let top = root.last();
    // A CyLR `<host>.zip` (a drive folder at its top) is named as a folder
    // is, by whoever saved it: its name is the root's, not metadata.
    let named_host = top.and_then(|p| collection_host(&p.name));
    // A loose file's folder names its host only when the analyst named
    // it: the folder a bare `u_ex.log` lies in is wherever it was saved.
    let unnamed = layout == Layout::Loose && top.is_some_and(|p| !p.typed);
    let folder_host = if named_host.is_some() || unnamed { None } else { root_host(root) };
    Placement {
        root: root.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("/"),
        layout,
        folder_host,
        named_host,
        site: dirs.iter().rev().find_map(|p| service_instance(&p.name.to_ascii_lowercase()).flatten()),
        service: dirs
            .iter()
            .rev()
            .map(|p| p.name.to_ascii_lowercase())
            .find(|n| service_instance(n).is_some())
            .map(|n| if n.contains("ftpsvc") { ServiceLog::Ftp } else { ServiceLog::Web }),
    }
}

/// The layout that starts at `dirs[i]`, if one does.
fn anchor(dirs: &[Part], i: usize, file: &str) -> Option<Layout> {
    let name = dirs[i].name.as_str();
    let lower = name.to_ascii_lowercase();
    let next = dirs.get(i + 1).map(|p| p.name.to_ascii_lowercase());
    if lower == "uploads"
        && dirs.get(i + 1).is_some_and(|p| is_accessor(&p.name))
        && dirs.get(i + 2).is_some_and(|p| is_volume(&p.name))
    {
        return Some(Layout::Velociraptor);
    }
    // A folder named like a drive that holds servers' copies of their own
    // drives or folders (`D/WEB01/C`, `D/WEB01/HTTPERR`, `D/WEB01/W3SVC1`,
    // `/mnt/e/WEB02/C`) is a case's folder, not a copy of a drive; a folder
    // named for logs (`D/IISLogs/W3SVC1`) is a drive's own log folder.
    let log_folder = |name: &str| {
        let lower = name.to_ascii_lowercase();
        lower.ends_with("log") || lower.ends_with("logs") || lower.contains("logfiles")
    };
    let holds_servers = dirs.get(i + 1).is_some_and(|host| {
        plausible_host(&host.name)
            && dirs.get(i + 2).is_some_and(|p| {
                is_volume(&p.name)
                    || (is_server_folder(&p.name.to_ascii_lowercase()) && !log_folder(&host.name))
            })
    });
    // A drive-like folder the analyst did not name is one of their own
    // (`/mnt/c/Users/alice`), not a copy of a server's drive.
    if is_volume(name) && next.is_some() && !holds_servers && dirs[i].typed {
        return Some(Layout::DriveCopy);
    }
    // Folders only App Service writes: its error pages, its raw HTTP logs.
    let app_service_folder = matches!(lower.as_str(), "detailederrors" | "rawlogs");
    if app_service_folder || (lower == "logfiles" && is_app_service_log(next.as_deref(), file)) {
        return Some(Layout::AppService);
    }
    is_server_folder(&lower).then_some(Layout::ServerFolders)
}

/// The host a collection's root is named after: its own name, or the
/// folder above the one a collection tool wrote its output in
/// (`WEB05/kape/C`, `WEB05/2026-01-05T101407_triage/C`), or the client a
/// Velociraptor server's flow belongs to (`clients/C.1f2e.../collections/
/// F.CQ1A2B3C.H`); a timestamp before a name is not part of it
/// (`2026-01-05T101407_WEB05`).
fn root_host(root: &[Part]) -> Option<String> {
    let mut names = root.iter().rev().map(|p| p.name.as_str()).peekable();
    // A server's flow folder, and the collections folder above it.
    if names.peek().is_some_and(|n| is_flow(n)) {
        names.next();
        if names.peek().is_some_and(|n| n.eq_ignore_ascii_case("collections")) {
            names.next();
        }
    }
    let raw = names.next()?;
    let name = if stamp_prefixed(raw).is_none() && is_tool_output(raw) { names.next()? } else { raw };
    // A user's profile folder (`/home/alice`, `C:\Users\alice`) is
    // whoever saved the evidence, not a server.
    if names
        .next()
        .is_some_and(|parent| parent.eq_ignore_ascii_case("home") || parent.eq_ignore_ascii_case("users"))
    {
        return None;
    }
    let name = undated(name);
    plausible_host(name).then(|| name.to_string())
}

/// `name` after a timestamp that starts it (`2026-01-05T101407_WEB05`),
/// when a name follows: a timestamp alone (`2026-01-05T10_14_07Z`) is none.
fn stamp_prefixed(name: &str) -> Option<&str> {
    let (stamp, rest) = name.split_once('_')?;
    (looks_like_date(stamp.as_bytes()) && rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic))
        .then_some(rest)
}

/// `name` without a timestamp before or after it (`2026-01-05T101407_WEB05`,
/// `WEB04_2026-01-05`) or a browser's copy number (`WEB04 (1)`). After a
/// name, only a whole calendar date to the end counts (`SQL-2019-01` and
/// `WS-10023456` are names).
fn undated(name: &str) -> &str {
    let name = stamp_prefixed(name).unwrap_or(name);
    let name = match name.strip_suffix(')').and_then(|n| n.rsplit_once(" (")) {
        Some((head, n)) if !head.is_empty() && !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => head,
        _ => name,
    };
    let stamped = name
        .char_indices()
        .find(|&(i, c)| i > 0 && matches!(c, '_' | '-') && is_stamp(&name.as_bytes()[i + 1..]));
    stamped.map_or(name, |(i, _)| &name[..i])
}

/// A calendar date (`2026-01-05`, `20260105`) with nothing after it but a
/// time of day's characters.
fn is_stamp(b: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let number = |r: std::ops::Range<usize>| {
        b.get(r).map_or(0, |d| d.iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0')))
    };
    let dashed =
        digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-') && digits(8..10);
    let (month, day, rest) = if dashed {
        (number(5..7), number(8..10), 10)
    } else if digits(0..8) {
        (number(4..6), number(6..8), 8)
    } else {
        return false;
    };
    (1990..=2099).contains(&number(0..4))
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && b[rest..]
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'T' | b't' | b'Z' | b'z' | b'_' | b':' | b'.' | b'-'))
}

/// What collection tools call their output folder, below the host's: a
/// name of theirs, or a bare timestamp.
fn is_tool_output(name: &str) -> bool {
    looks_like_date(name.as_bytes())
        || matches!(
            name.to_ascii_lowercase().as_str(),
            "tout"
                | "mout"
                | "kape"
                | "kapeoutput"
                | "kape_output"
                | "modules"
                | "targets"
                | "triage"
                | "output"
                | "out"
                | "collection"
                | "cylr"
        )
}

/// A Velociraptor flow id (`F.CQ1A2B3C`, `F.CQ1A2B3C.H`).
fn is_flow(name: &str) -> bool {
    name.strip_prefix("F.").is_some_and(|id| {
        let id = id.strip_suffix(".H").unwrap_or(id);
        !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric())
    })
}

/// Velociraptor's accessors, the folder under `uploads` a file was read
/// through.
fn is_accessor(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "auto" | "ntfs" | "lazy_ntfs" | "file" | "raw_file" | "mft" | "vss" | "ntfs_vss" | "raw_ntfs" | "fs"
    )
}

/// What App Service keeps under `LogFiles` and an IIS server does not.
fn is_app_service_log(child: Option<&str>, file: &str) -> bool {
    match child {
        Some(c) => matches!(c, "http" | "detailederrors" | "kudu" | "application" | "sitediagnostics"),
        None => {
            let f = file.to_ascii_lowercase();
            f == "eventlog.xml" || f == "eventlog.prev.xml"
        }
    }
}

/// Folders of the IIS and Windows layout that only appear at or below a
/// host's own folder.
fn is_server_folder(lower: &str) -> bool {
    matches!(lower, "inetpub" | "logfiles" | "httperr" | "failedreqlogfiles" | "windows" | "winevt")
        || service_instance(lower).is_some()
}

/// A drive or volume as collection tools name it: `C` (KAPE, CyLR), `C:`,
/// `C$`, `C%3A` and `%5C%5C.%5CC%3A` (Velociraptor's `auto` and `ntfs`
/// accessors), or a shadow copy (`\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy1`).
pub fn is_volume(name: &str) -> bool {
    let decoded = percent_decoded(name);
    let bare = decoded.trim_start_matches(['\\', '.', '?']);
    let bytes = bare.as_bytes();
    let letter = |rest: &[u8]| matches!(rest, [] | [b':'] | [b'$'] | [b':', b'\\'] | [b':', b'/']);
    match bytes {
        [d, rest @ ..] if d.is_ascii_alphabetic() && letter(rest) => true,
        _ => {
            let lower = bare.to_ascii_lowercase();
            lower.starts_with("globalroot\\device\\harddiskvolume")
                || lower == "c_drive"
                || lower == "d_drive"
        }
    }
}

/// `%XX` escapes decoded, as Velociraptor writes path components; a name
/// without a valid escape is returned as it is.
pub fn percent_decoded(name: &str) -> Cow<'_, str> {
    if !name.contains('%') {
        return Cow::Borrowed(name);
    }
    let b = name.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(name),
    }
}

/// The host a Velociraptor collection archive is named after:
/// `Collection-<host>-<YYYY-MM-DDTHH_MM_SSZ>` (the offline collector's
/// default name).
fn collection_host(stem: &str) -> Option<String> {
    let rest = stem.strip_prefix("Collection-").or_else(|| stem.strip_prefix("collection-"))?;
    // The timestamp starts at the last `-YYYY-`.
    let cut = rest.char_indices().rev().find_map(|(i, c)| {
        let tail = &rest[i + 1..];
        (c == '-'
            && tail.len() >= 10
            && tail.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && tail.as_bytes()[4] == b'-')
            .then_some(i)
    });
    let host = cut.map_or(rest, |i| &rest[..i]);
    plausible_host(host).then(|| host.to_string())
}

/// Folder names that are part of the IIS and Windows layout.
fn is_structural(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "inetpub"
            | "logfiles"
            | "httperr"
            | "failedreqlogfiles"
            | "windows"
            | "system32"
            | "winevt"
            | "logs"
            | "wwwroot"
            | "temp"
            | "history"
            | "home"
            | "logfiles_http"
            | "detailederrors"
            | "rawlogs"
            // App Service's `LogFiles/Application` (iisnode's log, the app's
            // own files).
            | "application"
    ) || service_instance(&lower).is_some()
        || is_volume(name)
}

/// Names collections and exports are commonly given, never a server's.
fn is_container(lower: &str) -> bool {
    matches!(
        lower,
        "collection"
            | "collections"
            | "evidence"
            | "export"
            | "exports"
            | "exported"
            | "triage"
            | "output"
            | "out"
            | "results"
            | "uploads"
            | "auto"
            | "ntfs"
            | "kape"
            | "tout"
            | "cylr"
            | "velociraptor"
            | "case"
            | "cases"
            | "data"
            | "tmp"
            | "files"
            | "artifacts"
            | "download"
            | "downloads"
            | "desktop"
            | "documents"
            | "users"
            | "dump"
            | "bundle"
            | "bundles"
            | "incident"
            | "deployments"
            | "kapeoutput"
            | "kape_output"
            | "mout"
            | "modules"
            | "targets"
    )
}

/// Whether a folder or archive name could be a server's name: letters,
/// digits, `-`, `_` and `.`, not a number or a date, not a drive, not a
/// standard folder and not what collections are commonly called.
pub fn plausible_host(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let b = name.as_bytes();
    !name.is_empty()
        && name.len() <= 255
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b.iter().any(u8::is_ascii_alphabetic)
        && !b[0].is_ascii_punctuation()
        && !looks_like_date(b)
        && !is_structural(name)
        && !is_container(&lower)
}

/// `2026-01-05...`, `20260105...`: a timestamped output folder.
fn looks_like_date(b: &[u8]) -> bool {
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    digits >= 8 || (digits == 4 && b.get(4) == Some(&b'-') && b.get(5).is_some_and(u8::is_ascii_digit))
}

/// `W3SVC<n>`/`FTPSVC<n>`/`MSFTPSVC<n>` folder names; `Some(None)` for a
/// bare `W3SVC` (centralized logging).
fn service_instance(lower: &str) -> Option<Option<u32>> {
    let digits = ["w3svc", "ftpsvc", "msftpsvc"].iter().find_map(|p| lower.strip_prefix(p))?;
    if digits.is_empty() {
        return Some(None);
    }
    digits.parse().ok().map(Some)
}

/// The site id from an `s-sitename` value such as `W3SVC3`. Read for
/// every access-log row, so it neither copies nor lower-cases the value.
pub fn site_from_service_name(name: &[u8]) -> Option<u32> {
    let after = |prefix: &[u8]| {
        name.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &name[prefix.len()..])
    };
    let digits = after(b"w3svc").or_else(|| after(b"ftpsvc")).or_else(|| after(b"msftpsvc"))?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parts of a path; `name.zip` marks an archive.
    fn parts(p: &str) -> Vec<Part> {
        p.split('/')
            .map(|s| match s.strip_suffix(".zip") {
                Some(stem) => Part { name: stem.to_string(), archive: true, typed: true },
                None => Part { name: s.to_string(), archive: false, typed: true },
            })
            .collect()
    }

    fn at(p: &str) -> Placement {
        place(&parts(p))
    }

    /// A relative path typed in a working folder: the folder's parts (up
    /// to the first `|`) were not typed.
    fn typed_in(p: &str) -> Placement {
        let (here, typed) = p.split_once('|').expect("a working folder");
        let mut all: Vec<Part> = parts(here).into_iter().map(|p| Part { typed: false, ..p }).collect();
        all.extend(parts(typed));
        place(&all)
    }

    /// A loose file's folder names its host only when the analyst named
    /// it, and never a user's profile or desktop; a folder above the
    /// standard ones does, however the path was given.
    #[test]
    fn a_folder_names_a_host_when_typed_and_no_ones_profile() {
        assert_eq!(typed_in("home/alice/scratch|u_ex.log").folder_host, None);
        assert_eq!(typed_in("cases|WEB04/u_ex.log").folder_host.as_deref(), Some("WEB04"));
        let structured = typed_in("case/WEB04/inetpub/logs|LogFiles/W3SVC1/u_ex.log");
        assert_eq!(structured.folder_host.as_deref(), Some("WEB04"));
        assert_eq!(at("home/alice/LogFiles/W3SVC1/u_ex.log").folder_host, None, "a user's home");
        assert_eq!(at("Users/bob/Desktop/u_ex.log").folder_host, None);
        assert_eq!(at("Users/bob/u_ex.log").folder_host, None, "a user's profile");
        assert_eq!(at("Users/bob/WEB05/u_ex.log").folder_host.as_deref(), Some("WEB05"));
        // A drive-like folder of the analyst's own is no drive copy.
        assert_eq!(typed_in("mnt/c/Users/alice/Downloads|u_ex.log").folder_host, None);
        assert_eq!(typed_in("work1/d/WEB05|u_ex.log").folder_host, None);
        assert_eq!(at("work1/d/WEB05/C/inetpub/logs/u_ex.log").folder_host.as_deref(), Some("WEB05"));
    }

    #[test]
    fn host_bundles_name_their_host_folder() {
        let p = at("case/WEB01/inetpub/logs/LogFiles/W3SVC1/u_ex.log");
        assert_eq!(
            (p.root.as_str(), p.layout, p.folder_host.as_deref()),
            ("case/WEB01", Layout::ServerFolders, Some("WEB01"))
        );
        assert_eq!(p.site, Some(1));
        assert_eq!(at("WEB02/HTTPERR/httperr1.log").folder_host.as_deref(), Some("WEB02"));
        let loose = at("bundle/SQL01/System.evtx");
        assert_eq!(
            (loose.root.as_str(), loose.layout, loose.folder_host.as_deref()),
            ("bundle/SQL01", Layout::Loose, Some("SQL01"))
        );
        assert_eq!(at("inetpub/logs/LogFiles/W3SVC1/u_ex.log").folder_host, None);
        assert_eq!(at("u_ex.log").folder_host, None);
        assert_eq!(at("u_ex.log").root, "");
        assert_eq!(at("case-2025.11.24/u_ex251124.log").folder_host.as_deref(), Some("case-2025.11.24"));
    }

    #[test]
    fn a_server_bundle_and_its_loose_event_logs_share_a_root() {
        let web = at("bundle/WEB01/inetpub/logs/LogFiles/W3SVC1/u_ex.log");
        let evtx = at("bundle/WEB01/System.evtx");
        let logs = at("bundle/WEB01/Logs/System.evtx");
        assert_eq!(web.root, evtx.root);
        assert_eq!(web.root, logs.root, "a structural folder is not a root of its own");
    }

    #[test]
    fn kape_with_and_without_a_host_folder() {
        let with = at("out/WEB03/C/Windows/System32/winevt/Logs/System.evtx");
        assert_eq!(
            (with.layout, with.folder_host.as_deref(), with.root.as_str()),
            (Layout::DriveCopy, Some("WEB03"), "out/WEB03")
        );
        let without = at("collection/C/inetpub/logs/LogFiles/W3SVC2/u_ex251124.log");
        assert_eq!(
            (without.layout, without.folder_host, without.root.as_str()),
            (Layout::DriveCopy, None, "collection")
        );
        assert_eq!(at("collection/C/Windows/System32/LogFiles/HTTPERR/httperr1.log").root, "collection");
        assert_eq!(
            at("2026-01-05T101407_triage/D/inetpub/logs/u.log").folder_host,
            None,
            "a timestamp is not a host"
        );
        // The host's folder above a tool's output folder, a timestamp
        // before the host's name.
        for path in [
            "WEB05/kape/C/Windows/System32/winevt/Logs/System.evtx",
            "WEB05/tout/C/Windows/System32/winevt/Logs/System.evtx",
            "WEB05/KapeOutput/C/Windows/System32/winevt/Logs/System.evtx",
            "2026-01-05T101407_WEB05/C/Windows/System32/winevt/Logs/System.evtx",
            "WEB05/2026-01-05T101407/C/Windows/System32/winevt/Logs/System.evtx",
            "WEB05/modules/C/Windows/System32/winevt/Logs/System.evtx",
            "WEB05_2026-01-05/C/Windows/System32/winevt/Logs/System.evtx",
            "WEB05-20260105T101407/C/Windows/System32/winevt/Logs/System.evtx",
            "WEB05 (1).zip/C/Windows/System32/winevt/Logs/System.evtx",
            "WEB05/2026-01-05T10_14_07Z/C/Windows/System32/winevt/Logs/System.evtx",
        ] {
            assert_eq!(at(path).folder_host.as_deref(), Some("WEB05"), "{path}");
        }
    }

    #[test]
    fn velociraptor_collections_zipped_or_not() {
        let zipped = at(
            "Collection-web01.corp.example-2026-01-05T10_14_07Z.zip/uploads/auto/C%3A/inetpub/logs/LogFiles/W3SVC1/u_ex.log",
        );
        assert_eq!(zipped.layout, Layout::Velociraptor);
        assert_eq!(zipped.named_host.as_deref(), Some("web01.corp.example"));
        assert_eq!(zipped.folder_host, None);
        assert_eq!(zipped.root, "Collection-web01.corp.example-2026-01-05T10_14_07Z");
        let ntfs = at(
            "Collection-WEB01-2026-01-05T10_14_07Z/uploads/ntfs/%5C%5C.%5CC%3A/Windows/System32/winevt/Logs/System.evtx",
        );
        assert_eq!(
            (ntfs.layout, ntfs.root.as_str()),
            (Layout::Velociraptor, "Collection-WEB01-2026-01-05T10_14_07Z")
        );
        assert_eq!(ntfs.named_host.as_deref(), Some("WEB01"), "unpacked, the folder keeps the name");
        assert_eq!(ntfs.folder_host, None);
        let info = at("Collection-WEB01-2026-01-05T10_14_07Z/client_info.json");
        assert_eq!(info.root, ntfs.root, "the metadata sits at the root");
        // A folder named uploads above hosts' drive copies, and a
        // Velociraptor server's flows, one per client.
        let up = at("uploads/WEB01/C/inetpub/logs/LogFiles/W3SVC1/u_ex.log");
        assert_eq!((up.layout, up.folder_host.as_deref()), (Layout::DriveCopy, Some("WEB01")));
        let flow = at("clients/C.1111aaaa2222bbbb/collections/F.CQ1A2B3C.H/uploads/auto/C%3A/Windows/x.evtx");
        assert_eq!(
            (flow.layout, flow.folder_host.as_deref()),
            (Layout::Velociraptor, Some("C.1111aaaa2222bbbb"))
        );
        let uploads = at("WEB05/uploads/u_ex.log");
        assert_eq!(
            (uploads.layout, uploads.folder_host.as_deref()),
            (Layout::Loose, None),
            "a folder named uploads is not a host"
        );
    }

    #[test]
    fn cylr_archives_are_named_after_their_host() {
        // Named as its unpacked folder would be: by whoever saved it.
        let p = at("cases/WEB04.zip/C/Windows/System32/winevt/Logs/System.evtx");
        assert_eq!(
            (p.layout, p.named_host, p.folder_host.as_deref(), p.root.as_str()),
            (Layout::DriveCopy, None, Some("WEB04"), "cases/WEB04")
        );
        assert_eq!(p.folder_host, at("cases/WEB04/C/Windows/System32/winevt/Logs/System.evtx").folder_host);
        assert_eq!(at("cases/evidence.zip/C/Windows/x.evtx").folder_host, None);
    }

    #[test]
    fn app_service_downloads() {
        for path in [
            "site-logs/LogFiles/http/RawLogs/2026_01_05_lw0sdwk000abc_http.log",
            "site-logs/LogFiles/eventlog.xml",
            "site-logs/LogFiles/DetailedErrors/ErrorPage00001.htm",
            "site-logs/LogFiles/kudu/trace/x.xml",
        ] {
            let p = at(path);
            assert_eq!((p.layout, p.root.as_str()), (Layout::AppService, "site-logs"), "{path}");
        }
        assert_eq!(at("WEB01/LogFiles/W3SVC1/u_ex.log").layout, Layout::ServerFolders);
        let pages = at("azure-detailederrors-x/DetailedErrors/ErrorPage000027.htm");
        assert_eq!(
            (pages.layout, pages.root.as_str(), pages.folder_host.as_deref()),
            (Layout::AppService, "azure-detailederrors-x", Some("azure-detailederrors-x"))
        );
        assert_eq!(at("WEB01/C/inetpub/logs/LogFiles/http/x.log").layout, Layout::DriveCopy);
        // A case folder named `D` holding servers' folders is no drive.
        let case = at("D/WEB01/HTTPERR/httperr1.log");
        assert_eq!((case.layout, case.folder_host.as_deref()), (Layout::ServerFolders, Some("WEB01")));
        assert_eq!(at("D/LogFiles/W3SVC1/u_ex.log").layout, Layout::DriveCopy);
        assert_eq!(at("D/IISLogs/W3SVC1/u_ex.log").layout, Layout::DriveCopy, "a drive's own log folder");
        assert_eq!(at("D/WEB02/W3SVC1/u_ex.log").folder_host.as_deref(), Some("WEB02"));
        // A server whose name holds "log" is still one, above its drive.
        assert_eq!(at("E/LOGSRV01/C/inetpub/logs/u.log").folder_host.as_deref(), Some("LOGSRV01"));
        assert_eq!(at("E/CATALOG01/C/inetpub/logs/u.log").folder_host.as_deref(), Some("CATALOG01"));
        // Names that end in numbers are names, not dates.
        for name in ["SQL-2019-01", "SQL-2019-02", "IR-2024-017", "WS-10023456"] {
            assert_eq!(at(&format!("{name}/C/inetpub/logs/u.log")).folder_host.as_deref(), Some(name));
        }
        // Servers' drive copies in a case folder named like a drive, or on
        // a mounted one.
        for (path, host) in [
            ("drive/D/WEB02/C/Windows/System32/LogFiles/HTTPERR/httperr1.log", "WEB02"),
            ("E/WEB07/C/inetpub/logs/LogFiles/W3SVC1/u_ex.log", "WEB07"),
            ("mnt/e/WEB02/C/Windows/System32/winevt/Logs/System.evtx", "WEB02"),
        ] {
            let p = at(path);
            assert_eq!((p.layout, p.folder_host.as_deref()), (Layout::DriveCopy, Some(host)), "{path}");
        }
        assert_eq!(at("C/Users/admin/logs/u_ex.log").layout, Layout::DriveCopy);
    }

    #[test]
    fn never_host_names() {
        for name in [
            "C",
            "c$",
            "C%3A",
            "uploads",
            "auto",
            "ntfs",
            "LogFiles",
            "Application",
            "inetpub",
            "logs",
            "collection",
            "20260105",
            "2026-01-05T10",
            "my logs",
            "W3SVC1",
            "-x",
            "123",
        ] {
            assert!(!plausible_host(name), "{name}");
        }
        for name in ["WEB01", "web01.corp.example", "sql-02", "IIS_FRONT"] {
            assert!(plausible_host(name), "{name}");
        }
    }

    #[test]
    fn volumes_and_escapes() {
        for v in [
            "C",
            "d",
            "C:",
            "C$",
            "C%3A",
            "%5C%5C.%5CC%3A",
            "\\\\.\\C:",
            "%5C%5C%3F%5CGLOBALROOT%5CDevice%5CHarddiskVolumeShadowCopy3",
        ] {
            assert!(is_volume(v), "{v}");
        }
        for v in ["CD", "Windows", "C%3", "%ZZ"] {
            assert!(!is_volume(v), "{v}");
        }
        assert_eq!(
            percent_decoded("Microsoft-Windows-IIS%4Operational.evtx"),
            "Microsoft-Windows-IIS%4Operational.evtx"
        );
        assert_eq!(percent_decoded("C%3A"), "C:");
    }

    #[test]
    fn site_from_folders_and_names() {
        assert_eq!(at("WEB01/inetpub/logs/LogFiles/W3SVC12/u_ex.log").site, Some(12));
        assert_eq!(at("WEB01/LogFiles/W3SVC/u_ex.log").site, None);
        assert_eq!(site_from_service_name(b"W3SVC294197211"), Some(294_197_211));
        assert_eq!(site_from_service_name(b"Default Web Site"), None);
        assert_eq!(site_from_service_name(b"w3svc2"), Some(2));
        assert_eq!(site_from_service_name(b"FTPSvc7"), Some(7));
        assert_eq!(site_from_service_name(b"W3SVC"), None, "centralized logging names no site");
        assert_eq!(site_from_service_name(b"W3SVC1x"), None);
        assert_eq!(site_from_service_name(b"W3SVC1\xff"), None);
    }
}
