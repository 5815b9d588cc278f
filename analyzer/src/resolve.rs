//! The one place that decides where a record belongs: which kind of source
//! it came from, which host and site it is filed under, and when it happened
//! once the host's clock is corrected. Every consumer of the read pass (the
//! analysis, both timelines, the tables, the export, the inventory) asks
//! here, so they agree on every record.

use std::sync::Arc;

use faultline_parser::source::{ServiceLog, site_from_service_name};
use faultline_parser::value::decode_text;
use faultline_parser::{Entry, EvidencePath, Format, Span, Timestamp};
use serde::Serialize;

use crate::identity::FileHost;
use crate::scope::Scope;

/// Which kind of source a piece of evidence comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// W3C access log (and the IIS native and NCSA access formats).
    W3c,
    /// HTTP.sys error log.
    Httperr,
    /// FREB trace.
    Freb,
    /// Binary event log.
    Evtx,
    /// Event XML export.
    Eventxml,
    /// IIS detailed error page.
    Errorpage,
    /// iisnode's log of a Node app's uncaught exceptions, read as events.
    Iisnode,
    /// A request App Service's Kudu site traced, read as an event.
    Kudu,
}

impl SourceKind {
    /// The kind of a file read in `format`.
    pub fn of(format: Format) -> SourceKind {
        match format {
            Format::W3c | Format::IisNative | Format::Ncsa => SourceKind::W3c,
            Format::Httperr => SourceKind::Httperr,
            Format::Freb => SourceKind::Freb,
            Format::Evtx => SourceKind::Evtx,
            Format::EventXml => SourceKind::Eventxml,
            Format::ErrorPage => SourceKind::Errorpage,
            Format::IisnodeLog => SourceKind::Iisnode,
            Format::KuduTrace => SourceKind::Kudu,
        }
    }

    /// The name used in JSON and CSV output.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::W3c => "w3c",
            SourceKind::Httperr => "httperr",
            SourceKind::Freb => "freb",
            SourceKind::Evtx => "evtx",
            SourceKind::Eventxml => "eventxml",
            SourceKind::Errorpage => "errorpage",
            SourceKind::Iisnode => "iisnode",
            SourceKind::Kudu => "kudu",
        }
    }
}

/// The name a host is filed under: the first label of a computer name
/// (`web01.contoso.local` → `WEB01`), upper case, as Windows compares them;
/// an address, or a name with no first label (`.hidden`), is kept whole.
pub fn host_name(computer: &str) -> String {
    let first = computer.split('.').next().unwrap_or(computer);
    let short =
        if first.is_empty() || computer.parse::<std::net::IpAddr>().is_ok() { computer } else { first };
    short.to_ascii_uppercase()
}

/// Host of a record that names none, in a file whose folders name none.
pub const UNKNOWN_HOST: &str = "-";

/// One source file as the read pass sees it: where it is, what it is, which
/// host its records belong to when they name none, and its site folder.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Position in discovery order.
    pub index: u32,
    /// Display path (`archive!member` inside archives).
    pub path: Arc<str>,
    /// What kind of source it is (access logs until the format is known).
    pub kind: SourceKind,
    host: Arc<FileHost>,
    folder_site: Option<u32>,
    /// Whose log folder it lies in.
    service: Option<ServiceLog>,
}

impl SourceFile {
    /// A discovered entry, before or after its format is known, with the
    /// host [`crate::identity::identify`] gave it.
    pub fn new(index: u32, entry: &Entry, format: Option<Format>, host: Arc<FileHost>) -> SourceFile {
        let placed = entry.path.placement();
        SourceFile {
            index,
            path: Arc::from(entry.path.to_string()),
            kind: format.map_or(SourceKind::W3c, SourceKind::of),
            host,
            folder_site: placed.site,
            service: placed.service,
        }
    }

    /// A path found or named (an input that could not be read), placed by
    /// its path alone.
    pub fn at(path: &EvidencePath) -> SourceFile {
        SourceFile {
            index: 0,
            path: Arc::from(path.to_string()),
            kind: SourceKind::W3c,
            host: Arc::new(FileHost::from_path(path)),
            folder_site: path.placement().site,
            service: path.placement().service,
        }
    }

    /// A file that was never discovered, for tests of what reads it.
    #[cfg(test)]
    pub(crate) fn synthetic(index: u32, path: &str, kind: SourceKind) -> SourceFile {
        SourceFile {
            index,
            path: Arc::from(path),
            kind,
            host: Arc::new(FileHost::unknown()),
            folder_site: None,
            service: None,
        }
    }

    /// The same file, now known to be `format`.
    pub fn with_format(&self, format: Format) -> SourceFile {
        SourceFile { kind: SourceKind::of(format), ..self.clone() }
    }

    /// The host its records belong to when they name none, and why.
    pub fn host(&self) -> &FileHost {
        &self.host
    }

    /// The site its `W3SVC<id>` folder names, if any.
    pub fn folder_site(&self) -> Option<u32> {
        self.folder_site
    }

    /// The FTP command a row of this file records, if it is an FTP row:
    /// every row of the FTP service's log folder (its data channels log
    /// their own ports, a site may listen on any, its fields may be cut
    /// down), none of a web site's, and elsewhere as the row tells
    /// ([`faultline_parser::Request::ftp_command`]).
    pub fn ftp_command<'r>(&self, r: &'r faultline_parser::Request<'_>) -> Option<&'r [u8]> {
        match self.service {
            Some(ServiceLog::Ftp) => r.ftp_command().or(r.method),
            Some(ServiceLog::Web) => None,
            None => r.ftp_command(),
        }
    }
}

/// A host a record is filed under, with its clock correction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// As [`host_name`] gives it.
    pub name: Arc<str>,
    /// Added to the host's times.
    pub skew: Span,
}

impl Host {
    /// Notes how a row of this host's is timed in `doubts`: a local time
    /// is no longer in doubt once the analyst corrected the host's clock
    /// (`--skew`), as `analyze` reads it.
    pub fn note_time_basis(
        &self,
        basis: faultline_parser::w3c::TimeBasis,
        doubts: &mut faultline_parser::w3c::TimeDoubts,
    ) {
        if !(basis == faultline_parser::w3c::TimeBasis::LocalAssumedUtc && self.skew != Span::default()) {
            doubts.note(basis);
        }
    }
}

/// The files timed by a server's local clock, and those timed by a date
/// alone, of files and how their rows were timed, in the order given.
pub fn doubted_files(
    doubted: &[(Arc<str>, faultline_parser::w3c::TimeDoubts)],
) -> (Vec<Arc<str>>, Vec<Arc<str>>) {
    let files = |doubt: fn(&faultline_parser::w3c::TimeDoubts) -> bool| -> Vec<Arc<str>> {
        doubted.iter().filter(|(_, d)| doubt(d)).map(|(p, _)| Arc::clone(p)).collect()
    };
    (files(|d| d.local_time), files(|d| d.date_only))
}

/// Resolves the records of one chunk of one source. Each chunk has its own:
/// the host names it hands out are its own allocations, so that threads
/// cloning them per row never share a reference count.
#[derive(Debug)]
pub struct Resolver<'s> {
    file: SourceFile,
    scope: &'s Scope,
    /// The host of records that name none (or whose names do not count).
    fallback: Host,
    /// Whether a record was filed under `fallback` yet (its skew then
    /// counts as asked for: a folder's host whose records all name
    /// another was never used).
    fallback_used: bool,
    /// Whether a record's computer name names its host.
    records_name_host: bool,
    /// The last computer name seen and its host: rows repeat it.
    last: Option<(Vec<u8>, Host)>,
    /// Every other computer name seen in this chunk.
    seen: hashbrown::HashMap<Vec<u8>, Host>,
}

impl<'s> Resolver<'s> {
    /// A resolver for one chunk of `file`.
    pub fn new(file: SourceFile, scope: &'s Scope) -> Self {
        let name = file.host.host.as_ref().map_or(UNKNOWN_HOST, |h| h.name.as_str());
        let fallback = Host { name: Arc::from(name), skew: scope.skew.peek(name) };
        let records_name_host = file.host.records_name_host;
        Resolver {
            file,
            scope,
            fallback,
            fallback_used: false,
            records_name_host,
            last: None,
            seen: hashbrown::HashMap::new(),
        }
    }

    /// The file being read.
    pub fn file(&self) -> &SourceFile {
        &self.file
    }

    /// The host of a record that names `computer` (`s-computername`, an
    /// event's `Computer`, a trace's computer), else the file's.
    pub fn host(&mut self, computer: Option<&[u8]>) -> Host {
        let named = computer.filter(|c| self.records_name_host && !c.trim_ascii().is_empty());
        let Some(raw) = named else {
            if !self.fallback_used {
                self.fallback_used = true;
                self.scope.skew.of(&self.fallback.name);
            }
            return self.fallback.clone();
        };
        if let Some((seen, h)) = &self.last
            && seen.as_slice() == raw
        {
            return h.clone();
        }
        let h = match self.seen.get(raw) {
            Some(h) => h.clone(),
            None => {
                let h = host(&host_name(&decode_text(raw)), self.scope);
                self.seen.insert(raw.to_vec(), h.clone());
                h
            }
        };
        self.last = Some((raw.to_vec(), h.clone()));
        h
    }

    /// [`Resolver::host`] of a computer name given as text.
    pub fn host_of(&mut self, computer: Option<&str>) -> Host {
        self.host(computer.map(str::as_bytes))
    }

    /// The site of a record that names its site id, else the folder's.
    pub fn site(&self, own: Option<u32>) -> Option<u32> {
        own.or(self.file.folder_site)
    }

    /// The site of an access-log row from its `s-sitename` (`W3SVC3`), else
    /// the folder's.
    pub fn site_named(&self, site_name: Option<&[u8]>) -> Option<u32> {
        self.site(site_name.and_then(site_from_service_name))
    }

    /// A record's time corrected by its host's clock skew, if inside the
    /// run's range.
    pub fn time(&self, host: &Host, t: Timestamp) -> Option<Timestamp> {
        self.scope.place(host.skew, t)
    }

    /// Whether a record's time, corrected, lies at or after the end of the
    /// run's range.
    pub fn after_range(&self, host: &Host, t: Timestamp) -> bool {
        self.scope.to.is_some_and(|to| t + host.skew >= to)
    }
}

fn host(name: &str, scope: &Scope) -> Host {
    Host { name: Arc::from(name), skew: scope.skew.of(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of the FTP service's log folder is FTP, a data channel's
    /// on its own port and a site's on port 2121 too; a web log's row on
    /// port 21 with an odd method is not.
    #[test]
    fn the_ftp_service_folder_makes_every_row_ftp() {
        use faultline_parser::time::Timestamp;
        use faultline_parser::w3c::{Origin, TimeBasis};
        let row = |method: &'static [u8], port| {
            let mut r = faultline_parser::Request::blank(Timestamp(0), TimeBasis::Utc, Origin::default());
            r.method = Some(method);
            r.server_port = Some(port);
            r
        };
        let file = |p: &str| SourceFile::at(&EvidencePath::file(std::path::PathBuf::from(p)));
        let ftp = file("case/WEB01/inetpub/logs/LogFiles/FTPSVC2/u_ex251124.log");
        let old = file("case/WEB01/WINNT/system32/LogFiles/MSFTPSVC1/ex040101.log");
        let web = file("case/WEB01/inetpub/logs/LogFiles/W3SVC1/u_ex251124.log");
        for (method, port) in [(&b"DataChannelOpened"[..], 50_001), (b"USER", 2121), (b"GET", 21)] {
            assert_eq!(ftp.ftp_command(&row(method, port)), Some(method));
            assert_eq!(old.ftp_command(&row(method, port)), Some(method));
        }
        assert_eq!(web.ftp_command(&row(b"SITE", 21)), None);
        assert_eq!(web.ftp_command(&row(b"USER", 2121)), None);
        assert_eq!(old.folder_site(), Some(1), "MSFTPSVC1 is site 1");
    }

    #[test]
    fn hosts_are_short_upper_case_names() {
        assert_eq!(host_name("web01.contoso.local"), "WEB01");
        assert_eq!(host_name("WEB01"), "WEB01");
        assert_eq!(host_name("10.0.0.1"), "10.0.0.1");
        assert_eq!(host_name(".tmpAb12"), ".TMPAB12");
    }

    fn file(path: &str) -> SourceFile {
        let dir = tempfile::tempdir().expect("tempdir");
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(&full, b"x").expect("write");
        let found = faultline_parser::discover(&[dir.path().to_path_buf()], &Default::default());
        let hosts = crate::identity::identify(&found, &Default::default(), &Default::default());
        SourceFile::new(0, &found.entries[0], Some(Format::W3c), Arc::new(hosts[0].clone()))
    }

    #[test]
    fn a_record_names_its_host_else_the_folder_does() {
        let mut scope = Scope::default();
        scope.skew.insert("web02", Span::secs(-30));
        let mut r = Resolver::new(file("web01/inetpub/logs/LogFiles/W3SVC3/u_ex251124.log"), &scope);
        assert_eq!(&*r.host(None).name, "WEB01", "the folder, upper case");
        let other = r.host(Some(b"web02.contoso.local"));
        assert_eq!((&*other.name, other.skew), ("WEB02", Span::secs(-30)));
        assert_eq!(r.host_of(Some("WEB02")).name, other.name, "one host however it is written");
        assert_eq!(r.site(None), Some(3));
        assert_eq!(r.site_named(Some(b"W3SVC7")), Some(7));
        assert_eq!(r.site(Some(9)), Some(9));
        assert_eq!(&*r.host(Some(b" ")).name, "WEB01", "an empty computer name names nothing");
        let t = Timestamp::from_parts(100, 0);
        assert_eq!(r.time(&other, t), Some(Timestamp::from_parts(70, 0)));
    }

    /// A folder's host counts as used by a `--skew` only once a record is
    /// filed under it: one whose records all name another host was not.
    #[test]
    fn a_folder_host_is_asked_for_only_when_a_record_is_filed_under_it() {
        let mut scope = Scope::default();
        scope.skew.insert("web01", Span::secs(5));
        scope.skew.insert("web02", Span::secs(5));
        let mut r = Resolver::new(file("web01/u_ex251124.log"), &scope);
        r.host(Some(b"WEB02"));
        assert_eq!(scope.skew.unused().collect::<Vec<_>>(), ["WEB01"]);
        assert_eq!(r.host(None).skew, Span::secs(5), "its correction applies all the same");
        assert_eq!(scope.skew.unused().count(), 0);
    }

    #[test]
    fn folder_names_are_not_cut_at_their_dots() {
        let scope = Scope::default();
        let mut r = Resolver::new(file("case-2025.11.24/u_ex251124.log"), &scope);
        assert_eq!(&*r.host(None).name, "CASE-2025.11.24");
    }

    #[test]
    fn where_records_name_workers_the_file_host_stands() {
        use crate::identity::{HostId, HostSource};
        let scope = Scope::default();
        let site = FileHost {
            host: Some(HostId { name: "STAYBOT-API".into(), fqdn: None }),
            source: Some(HostSource::Record),
            records_name_host: false,
            ..FileHost::unknown()
        };
        let file = SourceFile {
            host: Arc::new(site),
            ..SourceFile::synthetic(0, "eventlog.xml", SourceKind::Eventxml)
        };
        let mut r = Resolver::new(file, &scope);
        assert_eq!(&*r.host(Some(b"DW1SDWK000M1R")).name, "STAYBOT-API");
        assert_eq!(&*r.host(None).name, "STAYBOT-API");
    }

    #[test]
    fn without_a_host_folder_a_record_is_filed_under_no_host() {
        let scope = Scope::default();
        let bare = SourceFile::synthetic(0, "u_ex251124.log", SourceKind::W3c);
        let mut r = Resolver::new(bare, &scope);
        assert_eq!(&*r.host(None).name, UNKNOWN_HOST);
        assert_eq!(r.site(None), None);
    }
}
