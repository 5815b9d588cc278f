//! The shapes evidence reaches an analyst in: a plain per-host bundle, a
//! KAPE target collection (with or without a host folder above the drive),
//! a Velociraptor offline collection zip, a CyLR zip, and an Azure App
//! Service log download. The same incident is written in each, so that the
//! analysis can be checked to give the same answer whatever the shape.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::bundle::Channel;
use crate::evtx::{EventData, EventRecord, Value};
use crate::w3c::date_and_time;

/// How a bundle is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layout {
    /// `<HOST>/inetpub/...`, `<HOST>/HTTPERR/...`, `<HOST>/System.evtx`.
    #[default]
    Bundle,
    /// KAPE with a host folder: `<HOST>/C/inetpub/...`,
    /// `<HOST>/C/Windows/System32/winevt/Logs/System.evtx`.
    Kape,
    /// KAPE straight into the output folder: `C/...` (one numbered folder
    /// per host when there are several).
    KapeRootless,
    /// `Collection-<fqdn>-<time>.zip` holding `client_info.json` and
    /// `uploads/auto/C%3A/...` (event logs through the `ntfs` accessor).
    Velociraptor,
    /// `<HOST>.zip` holding `C/...`.
    Cylr,
    /// `<HOST>/LogFiles/http/RawLogs/...`, `LogFiles/W3SVC<id>/fr*.xml`,
    /// `LogFiles/eventlog.xml`; no HTTP.sys log (App Service has none).
    AppService,
}

/// Every layout, the plain bundle first.
pub const LAYOUTS: [Layout; 6] = [
    Layout::Bundle,
    Layout::Kape,
    Layout::KapeRootless,
    Layout::Velociraptor,
    Layout::Cylr,
    Layout::AppService,
];

impl Layout {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Bundle => "bundle",
            Layout::Kape => "kape",
            Layout::KapeRootless => "kape-rootless",
            Layout::Velociraptor => "velociraptor",
            Layout::Cylr => "cylr",
            Layout::AppService => "appservice",
        }
    }

    /// Whether the layout keeps HTTP.sys error logs.
    pub fn has_httperr(self) -> bool {
        self != Layout::AppService
    }
}

impl FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Layout, String> {
        LAYOUTS.into_iter().find(|l| l.name() == s).ok_or_else(|| {
            let names: Vec<&str> = LAYOUTS.iter().map(|l| l.name()).collect();
            format!("unknown layout {s:?} (one of {})", names.join(", "))
        })
    }
}

/// What a host's file is.
#[derive(Clone, Copy, Debug)]
pub enum Kind<'a> {
    /// A W3C log of a site, by file name.
    Access(u32, &'a str),
    /// An HTTP.sys error log, by file name.
    Httperr(&'a str),
    /// The log of an FTP site, by file name.
    Ftp(u32, &'a str),
    /// A FREB trace of a site, by file name.
    Trace(u32, &'a str),
    /// An event log.
    Events(Channel),
}

/// Where one host's files go.
#[derive(Clone, Debug)]
pub struct HostDir {
    layout: Layout,
    host: String,
    /// The folder written to (a staging folder for zipped layouts).
    dir: PathBuf,
    /// The archive the folder becomes, for zipped layouts.
    archive: Option<PathBuf>,
}

/// The Velociraptor collection's time, in its archive name.
const COLLECTED: &str = "2025-11-24T23_59_00Z";

impl HostDir {
    /// Host `host` (the `index`-th of `hosts`) under `root`.
    pub fn new(layout: Layout, root: &Path, host: &str, index: usize, hosts: usize) -> HostDir {
        let staging = root.join(format!(".staging-{host}"));
        let (dir, archive) = match layout {
            Layout::Bundle | Layout::Kape | Layout::AppService => (root.join(host), None),
            Layout::KapeRootless if hosts == 1 => (root.to_path_buf(), None),
            Layout::KapeRootless => (root.join((index + 1).to_string()), None),
            Layout::Velociraptor => {
                (staging, Some(root.join(format!("Collection-{}-{COLLECTED}.zip", fqdn(host)))))
            }
            Layout::Cylr => (staging, Some(root.join(format!("{host}.zip")))),
        };
        HostDir { layout, host: host.to_string(), dir, archive }
    }

    /// The path of a file, or `None` when the layout has no place for it.
    pub fn path(&self, kind: Kind<'_>) -> Option<PathBuf> {
        let drive = match self.layout {
            Layout::Bundle => {
                return Some(self.dir.join(match kind {
                    Kind::Access(site, f) => format!("inetpub/logs/LogFiles/W3SVC{site}/{f}"),
                    Kind::Ftp(site, f) => format!("inetpub/logs/LogFiles/FTPSVC{site}/{f}"),
                    Kind::Httperr(f) => format!("HTTPERR/{f}"),
                    Kind::Trace(site, f) => format!("inetpub/logs/FailedReqLogFiles/W3SVC{site}/{f}"),
                    Kind::Events(c) => format!("{}.evtx", c.file_stem()),
                }));
            }
            Layout::AppService => {
                return match kind {
                    Kind::Access(site, f) => {
                        Some(self.dir.join(format!("LogFiles/http/RawLogs/W3SVC{site}_{f}")))
                    }
                    Kind::Httperr(_) | Kind::Ftp(..) => None,
                    Kind::Trace(site, f) => Some(self.dir.join(format!("LogFiles/W3SVC{site}/{f}"))),
                    Kind::Events(_) => Some(self.dir.join("LogFiles/eventlog.xml")),
                };
            }
            Layout::Kape | Layout::KapeRootless | Layout::Cylr => self.dir.join("C"),
            Layout::Velociraptor => match kind {
                Kind::Events(_) => self.dir.join("uploads/ntfs/%5C%5C.%5CC%3A"),
                _ => self.dir.join("uploads/auto/C%3A"),
            },
        };
        Some(drive.join(match kind {
            Kind::Access(site, f) => format!("inetpub/logs/LogFiles/W3SVC{site}/{f}"),
            Kind::Ftp(site, f) => format!("inetpub/logs/LogFiles/FTPSVC{site}/{f}"),
            Kind::Httperr(f) => format!("Windows/System32/LogFiles/HTTPERR/{f}"),
            Kind::Trace(site, f) => format!("inetpub/logs/FailedReqLogFiles/W3SVC{site}/{f}"),
            Kind::Events(c) => format!("Windows/System32/winevt/Logs/{}.evtx", c.file_stem()),
        }))
    }

    /// Whether the layout writes event logs as an App Service `eventlog.xml`.
    pub fn events_as_xml(&self) -> bool {
        self.layout == Layout::AppService
    }

    /// Finishes the host: writes the collection's metadata and, for zipped
    /// layouts, packs the folder into its archive. Returns the paths that
    /// stand for what was written (the archive, or the files).
    pub fn finish(self, written: Vec<PathBuf>) -> io::Result<Vec<PathBuf>> {
        let Some(archive) = self.archive else { return Ok(written) };
        let mut members: Vec<(String, PathBuf)> = written
            .iter()
            .map(|p| (p.strip_prefix(&self.dir).unwrap_or(p).to_string_lossy().replace('\\', "/"), p.clone()))
            .collect();
        if self.layout == Layout::Velociraptor {
            let info = self.dir.join("client_info.json");
            let json = format!(
                "{{\n \"Hostname\": \"{}\",\n \"Fqdn\": \"{}\",\n \"Name\": \"velociraptor\",\n \"Version\": \"0.7.1\"\n}}\n",
                self.host,
                fqdn(&self.host)
            );
            fs::write(&info, json)?;
            members.insert(0, ("client_info.json".to_string(), info));
        }
        let mut zip = zip::ZipWriter::new(BufWriter::new(File::create(&archive)?));
        // A fixed time, so the same scenario gives the same bytes.
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(
                zip::DateTime::from_date_and_time(2025, 11, 24, 23, 59, 0).map_err(io::Error::other)?,
            )
            .large_file(true);
        for (name, path) in &members {
            zip.start_file(name.as_str(), opts).map_err(io::Error::other)?;
            io::copy(&mut File::open(path)?, &mut zip)?;
        }
        zip.finish().map_err(io::Error::other)?.flush()?;
        fs::remove_dir_all(&self.dir)?;
        Ok(vec![archive])
    }
}

/// The host's fully qualified name, as the generated event logs give it.
fn fqdn(host: &str) -> String {
    format!("{}.contoso.local", host.to_ascii_lowercase())
}

/// Event records as App Service writes `eventlog.xml`: an `<Events>` root,
/// no namespace, no prolog, one line per event.
pub fn write_event_xml(out: &mut impl Write, events: &[&EventRecord]) -> io::Result<()> {
    write!(out, "<Events>")?;
    for e in events {
        let ms = (e.time_created / 10_000) as i64 - 11_644_473_600_000;
        let (d, t) = date_and_time(ms.div_euclid(1000));
        write!(
            out,
            "<Event><System><Provider Name=\"{}\"/><EventID>{}</EventID><Level>{}</Level><Task>{}</Task><Keywords>Keywords</Keywords>\
             <TimeCreated SystemTime=\"{d}T{t}Z\"/><EventRecordID>0</EventRecordID><Channel>{}</Channel>\
             <Computer>{}</Computer><Security/></System>",
            escape(&e.provider),
            e.event_id,
            e.level,
            e.task,
            escape(&e.channel),
            escape(&e.computer)
        )?;
        match &e.data {
            EventData::None => {}
            EventData::Named(values) => {
                write!(out, "<EventData>")?;
                for (name, v) in values {
                    write!(out, "<Data Name=\"{}\">{}</Data>", escape(name), escape(&text(v)))?;
                }
                write!(out, "</EventData>")?;
            }
            EventData::Positional(values) => {
                write!(out, "<EventData>")?;
                for v in values {
                    write!(out, "<Data>{}</Data>", escape(&text(v)))?;
                }
                if let Some(b) = &e.binary {
                    write!(out, "<Binary>{}</Binary>", hex(b))?;
                }
                write!(out, "</EventData>")?;
            }
        }
        write!(out, "</Event>\r\n")?;
    }
    write!(out, "</Events>")
}

/// A value as Windows renders it in event XML.
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Str(s) | Value::Guid(s) | Value::Sid(s) => s.clone(),
        Value::U8(n) => n.to_string(),
        Value::U16(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::Hex32(n) => format!("{n:#x}"),
        Value::Hex64(n) => format!("{n:#x}"),
        Value::FileTime(ft) => {
            let ticks = *ft as i64 - 116_444_736_000_000_000;
            let (d, t) = date_and_time(ticks.div_euclid(10_000_000));
            format!("{d}T{t}.{:07}Z", ticks.rem_euclid(10_000_000))
        }
        Value::Binary(b) => hex(b),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_place_files_where_their_tools_do() {
        let root = Path::new("out");
        let at = |layout, kind| {
            HostDir::new(layout, root, "WEB01", 0, 1).path(kind).map(|p| p.display().to_string())
        };
        assert_eq!(
            at(Layout::Kape, Kind::Httperr("httperr1.log")).as_deref(),
            Some("out/WEB01/C/Windows/System32/LogFiles/HTTPERR/httperr1.log")
        );
        assert_eq!(
            at(Layout::KapeRootless, Kind::Events(Channel::System)).as_deref(),
            Some("out/C/Windows/System32/winevt/Logs/System.evtx")
        );
        assert_eq!(
            at(Layout::Velociraptor, Kind::Access(2, "u_ex251124.log")).as_deref(),
            Some("out/.staging-WEB01/uploads/auto/C%3A/inetpub/logs/LogFiles/W3SVC2/u_ex251124.log")
        );
        assert_eq!(at(Layout::AppService, Kind::Httperr("httperr1.log")), None);
        assert_eq!("kape-rootless".parse::<Layout>(), Ok(Layout::KapeRootless));
        assert!("zip".parse::<Layout>().is_err());
        let two = HostDir::new(Layout::KapeRootless, root, "WEB02", 1, 2);
        assert_eq!(
            two.path(Kind::Httperr("h.log")).map(|p| p.display().to_string()).as_deref(),
            Some("out/2/C/Windows/System32/LogFiles/HTTPERR/h.log")
        );
    }

    #[test]
    fn values_render_as_windows_renders_them() {
        assert_eq!(text(&Value::Hex32(0x8007_023E)), "0x8007023e");
        assert_eq!(
            text(&Value::FileTime(116_444_736_000_000_000 + 15_000_000)),
            "1970-01-01T00:00:01.5000000Z"
        );
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
