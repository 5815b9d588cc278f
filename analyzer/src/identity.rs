//! One identity per host, decided before any file is read in full. What was
//! handed over is split into collections (see
//! [`faultline_parser::source::Layout`]), and each collection's host is taken
//! from the strongest evidence there is: what the analyst said (`--host`),
//! the collection's own metadata (Velociraptor's `client_info.json`, a
//! collection named after its host), the computer names its records give
//! (a glimpse at each file's first records), and last the name of its folder.
//! A record that names its computer still belongs to that computer; this
//! decides where the records that name none belong.
//!
//! An Azure App Service download is one site served by many workers: its
//! records name the worker (`RD0003FF…`, `DW1SDWK…`), so there the host is
//! the site, named by `s-sitename` or by IIS configuration paths in events.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_parser::glimpse::{Glimpse, glimpse};
use faultline_parser::source::{Layout, Placement};
use faultline_parser::{Discovery, Entry, EvidencePath, ReadConfig};
use rayon::prelude::*;
use serde::Serialize;

use crate::resolve::host_name;

/// Where a file's host comes from, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostSource {
    /// The analyst said so (`--host NAME=PATH`).
    Override,
    /// The collection's metadata: `client_info.json`, or the name its tool
    /// gave it (`Collection-<host>-<time>.zip`).
    Metadata,
    /// The file's own records (`s-computername`, an event's `Computer`, an
    /// App Service site name).
    Record,
    /// The records of other files in the same collection.
    Sibling,
    /// The name of the collection's folder.
    Folder,
}

impl HostSource {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            HostSource::Override => "override",
            HostSource::Metadata => "metadata",
            HostSource::Record => "record",
            HostSource::Sibling => "sibling",
            HostSource::Folder => "folder",
        }
    }
}

/// A host: the name records are filed under, and its full name when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostId {
    /// As [`host_name`] gives it (`WEB01`).
    pub name: String,
    /// The fully qualified name, when the evidence gives one
    /// (`web01.corp.example`).
    pub fqdn: Option<String>,
}

impl HostId {
    fn of(name: &str) -> HostId {
        HostId { name: host_name(name), fqdn: full_name(name) }
    }

    /// The same host, with the full name `name` gives if it is one of this
    /// host's.
    fn with_fqdn_from(mut self, name: &str) -> HostId {
        if self.fqdn.is_none() && host_name(name) == self.name {
            self.fqdn = full_name(name);
        }
        self
    }
}

/// A computer name's fully qualified form, lower case as DNS compares
/// names; `None` for a short name or an address.
pub fn full_name(name: &str) -> Option<String> {
    let name = name.trim();
    (name.contains('.') && name.parse::<std::net::IpAddr>().is_err() && !name.starts_with('.'))
        .then(|| name.to_ascii_lowercase())
}

/// The host a file's records are filed under when they name none, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHost {
    /// The host, if anything names one.
    pub host: Option<HostId>,
    /// Where it comes from.
    pub source: Option<HostSource>,
    /// Whether a computer name in a record names the record's host. Not so
    /// in an App Service download (records name the worker) or where the
    /// analyst named the host.
    pub records_name_host: bool,
    /// How the file's collection was made.
    pub layout: Layout,
    /// The file's collection root.
    pub root: Arc<str>,
}

impl FileHost {
    /// What a file's path alone says: its folder's name, if a host's.
    pub fn from_path(path: &EvidencePath) -> FileHost {
        let placed = path.placement();
        let (host, source) = match (&placed.named_host, &placed.folder_host) {
            (Some(named), _) => (Some(HostId::of(named)), Some(HostSource::Metadata)),
            (None, Some(folder)) => (Some(folder_host(folder)), Some(HostSource::Folder)),
            (None, None) => (None, None),
        };
        FileHost {
            host,
            source,
            records_name_host: true,
            layout: placed.layout,
            root: Arc::from(placed.root),
        }
    }

    /// A file with nothing known about its host.
    pub fn unknown() -> FileHost {
        FileHost {
            host: None,
            source: None,
            records_name_host: true,
            layout: Layout::Loose,
            root: Arc::from(""),
        }
    }
}

/// A folder's name as a host: upper case and whole. Folder names are not
/// computer names (`case-2025.11.24`), so they are not cut at their dots.
fn folder_host(folder: &str) -> HostId {
    HostId { name: folder.to_ascii_uppercase(), fqdn: None }
}

/// A host known only by the name of the folder its files lie in (a folder
/// may be named after a case, a ticket or a sample rather than a server).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FolderNamedHost {
    /// The name, as hosts are named.
    pub name: String,
    /// An App Service download: its records name only the workers that
    /// served it, never the site.
    pub app_service: bool,
}

impl FileHost {
    /// The host, when only its folder names it.
    pub fn folder_named(&self) -> Option<FolderNamedHost> {
        let host = self.host.as_ref().filter(|_| self.source == Some(HostSource::Folder))?;
        Some(FolderNamedHost { name: host.name.clone(), app_service: self.layout == Layout::AppService })
    }
}

/// The hosts the analyst named for paths (`--host WEB01=collection/`), and
/// whether each named any file read (a misspelt path would otherwise
/// change nothing, silently).
#[derive(Clone, Debug, Default)]
pub struct HostOverrides(Vec<(PathBuf, String, Arc<std::sync::atomic::AtomicBool>)>);

impl PartialEq for HostOverrides {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

impl Eq for HostOverrides {}

impl HostOverrides {
    /// Files at or under `path` belong to `host`.
    pub fn insert(&mut self, host: &str, path: impl Into<PathBuf>) {
        self.0.push((path.into(), host.to_string(), Arc::default()));
    }

    /// Whether no host is named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The overrides no file read so far fell under, as `HOST=PATH`.
    pub fn unused(&self) -> impl Iterator<Item = String> + '_ {
        self.0
            .iter()
            .filter(|(.., used)| !used.load(std::sync::atomic::Ordering::Relaxed))
            .map(|(path, host, _)| format!("{host}={}", path.display()))
    }

    /// The host named for a file: the override with the longest path that
    /// holds it (paths compared as given, then as the file system resolves
    /// them; a member of an archive by its `archive.zip!member` path too).
    fn host_of(&self, file: &EvidencePath) -> Option<&str> {
        let canonical = std::sync::OnceLock::new();
        let canonical_file = || canonical.get_or_init(|| std::fs::canonicalize(&file.file).ok());
        let shown = std::sync::OnceLock::new();
        let in_archive = |path: &Path| {
            !file.members.is_empty() && {
                let shown: &String = shown.get_or_init(|| file.to_string());
                let named = path.to_string_lossy();
                let named = named.trim_end_matches(['/', '\\']);
                shown
                    .strip_prefix(named)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '\\', '!']))
            }
        };
        let (_, host, used) = self
            .0
            .iter()
            .filter(|(path, ..)| {
                file.file.starts_with(path)
                    || in_archive(path)
                    || canonical_file()
                        .as_ref()
                        .is_some_and(|f| std::fs::canonicalize(path).is_ok_and(|p| f.starts_with(p)))
            })
            .max_by_key(|(path, ..)| (path.components().count(), path.as_os_str().len()))?;
        used.store(true, std::sync::atomic::Ordering::Relaxed);
        Some(host.as_str())
    }
}

/// Files looked at per collection for the computer names they give.
const GLIMPSES_PER_ROOT: usize = 32;

/// Decides the host of every discovered file, in discovery order.
pub fn identify(found: &Discovery, read: &ReadConfig, overrides: &HostOverrides) -> Vec<FileHost> {
    let placements: Vec<Placement> = found.entries.par_iter().map(|e| e.path.placement()).collect();
    let mut roots: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in placements.iter().enumerate() {
        roots.entry(p.root.as_str()).or_default().push(i);
    }
    // Every glimpse of every collection, in parallel; each collection then
    // decides from its own.
    let wanted: Vec<usize> =
        roots.values().flat_map(|files| glimpse_candidates(&found.entries, files)).collect();
    let seen: BTreeMap<usize, Glimpse> = wanted
        .par_iter()
        .filter_map(|&i| glimpse(&found.entries[i], read).ok().map(|g| (i, g)))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let mut out: Vec<Option<FileHost>> = vec![None; found.entries.len()];
    for (root, files) in &roots {
        let collection =
            Collection { root, files, entries: &found.entries, placements: &placements, seen: &seen, read };
        let root: Arc<str> = Arc::from(*root);
        let verdict = collection.decide();
        for &i in files.iter() {
            let source = match verdict.source {
                HostSource::Record if !verdict.named_by.contains(&i) => HostSource::Sibling,
                s => s,
            };
            out[i] = Some(FileHost {
                host: verdict.host.clone(),
                source: verdict.host.as_ref().map(|_| source),
                records_name_host: !verdict.app_service,
                layout: verdict.layout,
                root: Arc::clone(&root),
            });
        }
    }
    let mut out: Vec<FileHost> = out.into_iter().map(|h| h.unwrap_or_else(FileHost::unknown)).collect();
    within_servers(&mut out);
    // A folder named with a server's full name (`web03.corp.example`) is
    // that server, when other evidence gives the full name.
    let full_names: BTreeMap<String, HostId> = out
        .iter()
        .filter(|f| f.source != Some(HostSource::Folder))
        .filter_map(|f| f.host.as_ref())
        .filter_map(|h| h.fqdn.clone().map(|fqdn| (fqdn, h.clone())))
        .collect();
    for file in out.iter_mut().filter(|f| f.source == Some(HostSource::Folder)) {
        if let Some(known) = file.host.as_ref().and_then(|h| full_names.get(&h.name.to_ascii_lowercase())) {
            file.host = Some(known.clone());
        }
    }
    if !overrides.is_empty() {
        for (entry, file) in found.entries.iter().zip(&mut out) {
            if let Some(host) = overrides.host_of(&entry.path) {
                file.host = Some(HostId::of(host));
                file.source = Some(HostSource::Override);
                file.records_name_host = false;
            }
        }
    }
    out
}

/// Loose files in a folder inside a server's copy of its own folders
/// (`WEB07/errorpages/` beside `WEB07/inetpub/...`, pages an engineer saved
/// on the server) are that server's, not a host named after their folder.
/// Only a copy of server folders counts as a server: a case folder holding
/// loose files of its own and one folder per server (`case-4711/WEB01/`) is
/// no server, and each folder inside it names its own.
fn within_servers(files: &mut [FileHost]) {
    let servers: BTreeMap<Arc<str>, HostId> = files
        .iter()
        .filter(|f| f.layout != Layout::Loose)
        .filter_map(|f| Some((Arc::clone(&f.root), f.host.clone()?)))
        .collect();
    for file in files.iter_mut().filter(|f| f.layout == Layout::Loose && f.source == Some(HostSource::Folder))
    {
        // The nearest server folder above the file's own.
        let enclosing = servers.iter().rev().find(|(root, _)| {
            !root.is_empty() && file.root.strip_prefix(&***root).is_some_and(|rest| rest.starts_with('/'))
        });
        if let Some((_, host)) = enclosing {
            file.host = Some(host.clone());
        }
    }
}

/// The files of a collection worth a glimpse, most telling first: event logs
/// name their computer in every record, access logs only with
/// `s-computername`.
fn glimpse_candidates(entries: &[Entry], files: &[usize]) -> Vec<usize> {
    let mut ranked: Vec<(u8, usize)> = files
        .iter()
        .filter_map(|&i| {
            let name = entries[i].path.file_name().to_ascii_lowercase();
            let rank = if matches!(name.as_str(), "system.evtx" | "application.evtx") {
                0
            } else if name.ends_with(".evtx") {
                1
            } else if name.ends_with(".xml") || name.ends_with(".htm") || name.ends_with(".html") {
                2
            } else if name.ends_with(".log") || name.ends_with(".txt") {
                3
            } else {
                return None;
            };
            Some((rank, i))
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().take(GLIMPSES_PER_ROOT).map(|(_, i)| i).collect()
}

/// One collection's files and what was seen of them.
struct Collection<'a> {
    root: &'a str,
    files: &'a [usize],
    entries: &'a [Entry],
    placements: &'a [Placement],
    seen: &'a BTreeMap<usize, Glimpse>,
    read: &'a ReadConfig,
}

/// A collection's host.
#[derive(Debug)]
struct Verdict {
    host: Option<HostId>,
    source: HostSource,
    /// Files whose own records name the host.
    named_by: Vec<usize>,
    app_service: bool,
    layout: Layout,
}

impl Collection<'_> {
    fn decide(&self) -> Verdict {
        let layout = self.files.iter().map(|&i| self.placements[i].layout).max().unwrap_or(Layout::Loose);
        let glimpses: Vec<(usize, &Glimpse)> =
            self.files.iter().filter_map(|&i| self.seen.get(&i).map(|g| (i, g))).collect();
        let computers: Vec<&str> =
            glimpses.iter().flat_map(|(_, g)| g.computers.iter().map(String::as_str)).collect();
        let app_service = layout == Layout::AppService
            || (!computers.is_empty() && computers.iter().all(|c| is_app_service_worker(c)))
            || glimpses.iter().any(|(_, g)| {
                !g.hosted_sites.is_empty() || g.site_names.iter().any(|s| app_service_site(s).is_some())
            });
        let verdict = |host: Option<HostId>, source, named_by| Verdict {
            host,
            source,
            named_by,
            app_service,
            layout: if app_service { Layout::AppService } else { layout },
        };
        let named = self.files.iter().find_map(|&i| self.placements[i].named_host.as_deref());
        let folder = self.files.iter().find_map(|&i| self.placements[i].folder_host.as_deref());
        let fallback = || match (named, folder) {
            (Some(n), _) => verdict(Some(HostId::of(n)), HostSource::Metadata, Vec::new()),
            (None, Some(f)) => verdict(Some(folder_host(f)), HostSource::Folder, Vec::new()),
            (None, None) => verdict(None, HostSource::Folder, Vec::new()),
        };

        if app_service {
            let site = |g: &Glimpse| {
                g.site_names
                    .iter()
                    .filter_map(|s| app_service_site(s))
                    .chain(g.config_sites.iter().filter_map(|s| config_site(s)))
                    .chain(g.hosted_sites.iter().cloned())
                    .next()
            };
            let Some(name) = glimpses.iter().find_map(|(_, g)| site(g)) else { return fallback() };
            let host = HostId::of(&name);
            let named_by = glimpses
                .iter()
                .filter(|(_, g)| site(g).is_some_and(|s| host_name(&s) == host.name))
                .map(|(i, _)| *i)
                .collect();
            return verdict(Some(host), HostSource::Record, named_by);
        }

        if let Some(meta) = self.client_info() {
            let host = computers.iter().fold(meta, |h, c| h.with_fqdn_from(c));
            return verdict(Some(host), HostSource::Metadata, Vec::new());
        }
        // The computers the records name, as one host each.
        let mut hosts: Vec<HostId> = Vec::new();
        for c in &computers {
            match hosts.iter_mut().find(|h| h.name == host_name(c)) {
                Some(h) => *h = h.clone().with_fqdn_from(c),
                None => hosts.push(HostId::of(c)),
            }
        }
        match (hosts.as_slice(), named) {
            ([one], Some(n)) if host_name(n) == one.name => {
                verdict(Some(one.clone().with_fqdn_from(n)), HostSource::Metadata, Vec::new())
            }
            // The records outrank a collection's name: an archive is renamed
            // more easily than a server.
            ([one], _) => {
                let named_by = glimpses
                    .iter()
                    .filter(|(_, g)| g.computers.iter().any(|c| host_name(c) == one.name))
                    .map(|(i, _)| *i)
                    .collect();
                verdict(Some(one.clone()), HostSource::Record, named_by)
            }
            // A folder of several servers is no server of its own, unless
            // it is named after one of them (its own logs beside forwarded
            // ones).
            ([_, _, ..], None) => {
                // By its whole name, or the full name the records give it
                // (a folder `web01.old` is not WEB01's).
                let named = folder.and_then(|f| {
                    let (whole, fqdn) = (folder_host(f).name, full_name(f));
                    hosts.iter().find(|h| h.name == whole || (fqdn.is_some() && h.fqdn == fqdn))
                });
                verdict(named.cloned(), HostSource::Folder, Vec::new())
            }
            _ => fallback(),
        }
    }

    /// The host Velociraptor's `client_info.json` at the root names.
    fn client_info(&self) -> Option<HostId> {
        let info = self.files.iter().map(|&i| &self.entries[i]).find(|e| {
            e.path.file_name().eq_ignore_ascii_case("client_info.json")
                && e.path.placement().root == self.root
        })?;
        let head = info.head(&self.read.limits, 1 << 20).ok()?;
        let json: serde_json::Value = serde_json::from_slice(&head).ok()?;
        let field = |k: &str| json.get(k).and_then(|v| v.as_str()).filter(|s| !s.trim().is_empty());
        let fqdn = field("Fqdn").or_else(|| field("FQDN"));
        let hostname = field("Hostname").or_else(|| field("hostname")).or(fqdn)?;
        let mut host = HostId::of(hostname);
        if let Some(f) = fqdn {
            host = host.with_fqdn_from(f);
        }
        Some(host)
    }
}

/// Names App Service gives its workers: `RD` and a MAC address
/// (`RD0003FF8059C8`), `DW1SDWK000M1R`-style and `WEBWK000003`-style names,
/// and dashed addresses (`10-30-0-105`).
pub fn is_app_service_worker(computer: &str) -> bool {
    let upper = computer.trim().to_ascii_uppercase();
    let b = upper.as_bytes();
    let rd = b.len() == 14 && upper.starts_with("RD") && b[2..].iter().all(u8::is_ascii_hexdigit);
    let sdwk = b.len() > 7
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && b[2].is_ascii_digit()
        && &b[3..7] == b"SDWK";
    let webwk =
        upper.strip_prefix("WEBWK").is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()));
    let dashed = {
        let parts: Vec<&str> = upper.split('-').collect();
        parts.len() == 4
            && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()))
    };
    rd || sdwk || webwk || dashed
}

/// The App Service site an `s-sitename` names: `~1SITE__B477` (the Kudu
/// site) and `SITE__B477` are both `SITE`; an IIS `W3SVC<n>` is none.
pub fn app_service_site(site_name: &str) -> Option<String> {
    let scm = site_name.strip_prefix("~1");
    let name = scm.unwrap_or(site_name);
    let suffixed = name.rsplit_once("__").filter(|(site, tag)| {
        !site.is_empty() && !tag.is_empty() && tag.len() <= 8 && tag.bytes().all(|c| c.is_ascii_hexdigit())
    });
    match (scm, suffixed) {
        _ if is_placeholder(name) => None,
        (_, Some((site, _))) => Some(site.to_string()),
        (Some(_), None) if !name.is_empty() => Some(name.to_string()),
        _ => None,
    }
}

/// The site of a `MACHINE/WEBROOT/APPHOST/<SITE>` path (`~1SITE` is the
/// site's Kudu companion, the same site). Azure Functions keeps pre-warmed
/// placeholder sites (`MAWSFNPLACEHOLDER…`) on its workers; they are not the
/// customer's site.
pub(crate) fn config_site(name: &str) -> Option<String> {
    let name = name.strip_prefix("~1").unwrap_or(name);
    (!name.is_empty() && !is_placeholder(name)).then(|| name.to_string())
}

fn is_placeholder(site: &str) -> bool {
    site.get(..17).is_some_and(|p| p.eq_ignore_ascii_case("MAWSFNPLACEHOLDER"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str =
        "#Fields: date time cs-method cs-uri-stem sc-status\r\n2025-11-24 10:00:00 GET / 200\r\n";

    fn events(computer: &str) -> String {
        format!(
            "<Events><Event><System><Provider Name=\"Service Control Manager\"/><EventID>7036</EventID>\
             <TimeCreated SystemTime=\"2025-11-24T10:00:00Z\"/><Computer>{computer}</Computer></System></Event></Events>"
        )
    }

    /// Writes `files` (path, content) under a folder and identifies them;
    /// returns (path relative to the folder, host, source), in discovery order.
    fn hosts_of(
        files: &[(&str, &[u8])],
        overrides: &[(&str, &str)],
    ) -> Vec<(String, String, Option<HostSource>)> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, data) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(full, data).expect("writes");
        }
        let mut o = HostOverrides::default();
        for (host, path) in overrides {
            o.insert(host, dir.path().join(path));
        }
        let found = faultline_parser::discover(&[dir.path().to_path_buf()], &Default::default());
        let hosts = identify(&found, &ReadConfig::default(), &o);
        let prefix = format!("{}/", dir.path().display());
        found
            .entries
            .iter()
            .zip(hosts)
            .map(|(e, h)| {
                let path = e.path.to_string().replace(&prefix, "");
                (path, h.host.map_or_else(|| "-".into(), |h| h.name), h.source)
            })
            .collect()
    }

    fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in members {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("starts");
            w.write_all(data).expect("writes");
        }
        w.finish().expect("finishes").into_inner()
    }

    #[test]
    fn a_rootless_kape_collection_takes_the_host_its_event_logs_name() {
        let ev = events("web01.corp.example");
        let got = hosts_of(
            &[
                ("collection/C/inetpub/logs/LogFiles/W3SVC2/u_ex251124.log", LOG.as_bytes()),
                ("collection/C/Windows/System32/winevt/Logs/System.xml", ev.as_bytes()),
            ],
            &[],
        );
        assert_eq!(got[0].1, "WEB01");
        assert_eq!(got[0].2, Some(HostSource::Record), "the event export names itself");
        assert_eq!((got[1].1.as_str(), got[1].2), ("WEB01", Some(HostSource::Sibling)));
    }

    #[test]
    fn metadata_outranks_records_and_records_outrank_an_archive_name() {
        let ev = events("fs02.corp.example");
        let info = br#"{"Hostname": "FS02", "Fqdn": "FS02.corp.example"}"#;
        let got = hosts_of(
            &[
                ("Collection-x/client_info.json", info),
                ("Collection-x/uploads/auto/C%3A/inetpub/logs/LogFiles/W3SVC1/u_ex.log", LOG.as_bytes()),
            ],
            &[],
        );
        assert!(got.iter().all(|(_, h, s)| h == "FS02" && *s == Some(HostSource::Metadata)), "{got:?}");
        // A CyLR archive renamed after the case: its event logs name the server.
        let renamed = zip(&[
            ("C/Windows/System32/winevt/Logs/System.xml", ev.as_bytes()),
            ("C/inetpub/logs/LogFiles/W3SVC1/u_ex.log", LOG.as_bytes()),
        ]);
        let got = hosts_of(&[("INCIDENT-42.zip", &renamed)], &[]);
        assert!(got.iter().all(|(_, h, _)| h == "FS02"), "{got:?}");
        // With nothing inside naming a server, the archive's name stands,
        // as a folder's would: said to be only a name.
        let bare = zip(&[("C/inetpub/logs/LogFiles/W3SVC1/u_ex.log", LOG.as_bytes())]);
        assert_eq!(
            hosts_of(&[("WEB07.zip", &bare)], &[])[0],
            (
                "WEB07.zip!C/inetpub/logs/LogFiles/W3SVC1/u_ex.log".into(),
                "WEB07".into(),
                Some(HostSource::Folder)
            )
        );
    }

    /// A folder named with a server's full name is that server, when a
    /// collection's metadata or records give the full name.
    #[test]
    fn a_folder_named_with_a_servers_full_name_is_that_server() {
        let info = br#"{"Hostname": "web03", "Fqdn": "web03.corp.example"}"#;
        let other =
            "#Fields: date time cs-method cs-uri-stem sc-status\r\n2025-11-24 11:00:00 GET /b 200\r\n";
        let got = hosts_of(
            &[
                ("Collection-x/client_info.json", info),
                ("Collection-x/uploads/auto/C%3A/inetpub/logs/LogFiles/W3SVC1/u_ex.log", LOG.as_bytes()),
                ("web03.corp.example/C/inetpub/logs/LogFiles/W3SVC1/u_ex2.log", other.as_bytes()),
                ("web04.corp.example/C/inetpub/logs/LogFiles/W3SVC1/u_ex3.log", other.as_bytes()),
            ],
            &[],
        );
        let hosts: Vec<&str> = got.iter().map(|(_, h, _)| h.as_str()).collect();
        assert_eq!(hosts, ["WEB03", "WEB03", "WEB03", "WEB04.CORP.EXAMPLE"], "{got:?}");
    }

    /// Pages an engineer saved in a folder of the server's copy are that
    /// server's; a case folder's own loose files and its servers' folders
    /// keep their own names.
    #[test]
    fn a_loose_folder_inside_a_servers_folders_is_that_server() {
        let got = hosts_of(
            &[
                ("case/WEB07/inetpub/logs/LogFiles/W3SVC5/u_ex250812.log", LOG.as_bytes()),
                ("case/WEB07/errorpages/u_ex_saved.log", LOG.as_bytes()),
                ("case-4711/merged.log", LOG.as_bytes()),
                ("case-4711/WEB01/u_ex.log", LOG.as_bytes()),
                ("case-4711/WEB02/inetpub/logs/LogFiles/W3SVC1/u_ex.log", LOG.as_bytes()),
            ],
            &[],
        );
        let hosts: Vec<(&str, &str)> = got.iter().map(|(p, h, _)| (p.as_str(), h.as_str())).collect();
        assert_eq!(
            hosts,
            [
                ("case/WEB07/errorpages/u_ex_saved.log", "WEB07"),
                ("case/WEB07/inetpub/logs/LogFiles/W3SVC5/u_ex250812.log", "WEB07"),
                ("case-4711/WEB01/u_ex.log", "WEB01"),
                ("case-4711/WEB02/inetpub/logs/LogFiles/W3SVC1/u_ex.log", "WEB02"),
                ("case-4711/merged.log", "CASE-4711"),
            ],
            "{got:?}"
        );
    }

    #[test]
    fn a_folder_of_several_servers_does_not_lend_one_of_them() {
        let (a, b) = (events("WEB01"), events("WEB02"));
        let got = hosts_of(
            &[
                ("export/a.xml", a.as_bytes()),
                ("export/b.xml", b.as_bytes()),
                ("export/u_ex.log", LOG.as_bytes()),
            ],
            &[],
        );
        assert_eq!(got[2], ("export/u_ex.log".into(), "-".into(), None), "export is no host and names none");
        let got = hosts_of(
            &[
                ("WEBFARM/a.xml", a.as_bytes()),
                ("WEBFARM/b.xml", b.as_bytes()),
                ("WEBFARM/u.log", LOG.as_bytes()),
            ],
            &[],
        );
        assert_eq!(
            got[2],
            ("WEBFARM/u.log".into(), "-".into(), None),
            "a folder whose records name other servers is not a server"
        );
        // A server's folder holding events forwarded from others is still
        // that server's, named short or in full; a folder named after it
        // and something more is not.
        let full = events("web01.corp.example");
        for (folder, first, host) in [
            ("WEB01", &a, "WEB01"),
            ("web01.corp.example", &full, "WEB01"),
            ("web01.corp.example", &a, "-"),
            ("web01.old", &full, "-"),
        ] {
            let at = |f: &str| format!("{folder}/{f}");
            let got = hosts_of(
                &[
                    (&at("a.xml"), first.as_bytes()),
                    (&at("b.xml"), b.as_bytes()),
                    (&at("u.log"), LOG.as_bytes()),
                ],
                &[],
            );
            assert_eq!(got[2].1, host, "{folder}, first events from {first}");
        }
    }

    #[test]
    fn app_service_files_are_filed_under_their_site() {
        let ev = events("RD0003FF8059C8").replace(
            "</System>",
            "</System><EventData><Data>MACHINE/WEBROOT/APPHOST/SHOP-API</Data></EventData>",
        );
        let got = hosts_of(
            &[
                ("dump/LogFiles/eventlog.xml", ev.as_bytes()),
                ("dump/LogFiles/http/RawLogs/x.log", LOG.as_bytes()),
            ],
            &[],
        );
        assert_eq!(
            got[0],
            ("dump/LogFiles/eventlog.xml".into(), "SHOP-API".into(), Some(HostSource::Record))
        );
        assert_eq!((got[1].1.as_str(), got[1].2), ("SHOP-API", Some(HostSource::Sibling)));
    }

    #[test]
    fn the_analyst_has_the_last_word() {
        let ev = events("WEB01");
        let got = hosts_of(&[("case/C/Windows/x.xml", ev.as_bytes())], &[("WEB09", "case")]);
        assert_eq!((got[0].1.as_str(), got[0].2), ("WEB09", Some(HostSource::Override)));
    }

    #[test]
    fn app_service_workers_are_recognised_and_servers_are_not() {
        for w in [
            "RD0003FF8059C8",
            "RD00155DE0E6B3",
            "DW1SDWK000M1R",
            "dw1sdwk000P4P",
            "WEBWK000003",
            "10-30-0-105",
        ] {
            assert!(is_app_service_worker(w), "{w}");
        }
        for s in ["WEB01", "RDWEB01", "web01.corp.example", "SQL-01-02-03", "WEBWK", "DESKTOP-0HIJB49"] {
            assert!(!is_app_service_worker(s), "{s}");
        }
    }

    #[test]
    fn app_service_site_names() {
        assert_eq!(app_service_site("~1MY-SERVER__B477").as_deref(), Some("MY-SERVER"));
        assert_eq!(app_service_site("MY-SERVER__b477").as_deref(), Some("MY-SERVER"));
        assert_eq!(app_service_site("~1TOOLSDC").as_deref(), Some("TOOLSDC"));
        assert_eq!(app_service_site("W3SVC1"), None);
        assert_eq!(app_service_site("Default Web Site"), None);
        assert_eq!(config_site("~1SPE-API-DEV-67E2XZ").as_deref(), Some("SPE-API-DEV-67E2XZ"));
        assert_eq!(config_site("MAWSFNPLACEHOLDER350_F_V4_NODE_20_X86"), None, "a Functions placeholder");
    }

    #[test]
    fn overrides_take_the_longest_path_that_holds_the_file() {
        let mut o = HostOverrides::default();
        o.insert("WEB01", "case");
        o.insert("WEB02", "case/second");
        let file = EvidencePath::file;
        assert_eq!(o.host_of(&file("case/C/inetpub/u_ex.log")), Some("WEB01"));
        assert_eq!(o.host_of(&file("case/second/u_ex.log")), Some("WEB02"));
        assert_eq!(o.host_of(&file("cases/u_ex.log")), None, "paths match by component");
        // A member of an archive, named by its path in it.
        let mut o = HostOverrides::default();
        o.insert("WEB11", "zips/case.zip!triage/WEB04.zip");
        o.insert("WEB12", "zips/case.zip!triage/WEB0");
        assert_eq!(o.unused().count(), 2);
        let member = file("zips/case.zip").member("triage/WEB04.zip").member("C/u_ex.log");
        assert_eq!(o.host_of(&member), Some("WEB11"));
        assert_eq!(
            o.unused().collect::<Vec<_>>(),
            ["WEB12=zips/case.zip!triage/WEB0"],
            "not by a part of a name"
        );
    }
}
