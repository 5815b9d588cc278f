//! A triage bundle as exported from IIS servers: per host, W3C access logs
//! per site and day, HTTPERR logs rolled at 1 MB, FREB traces, and the
//! System, Application and Security event logs.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::evtx::{EventRecord, EvtxWriter};
use crate::freb::{TraceSpec, write_trace};
use crate::layout::{HostDir, Kind, Layout, write_event_xml};
use crate::w3c::date_and_time;

/// HTTP.sys rolls its error log at this size (the default and minimum).
const HTTPERR_ROLL: usize = 1 << 20;

/// Which fields a site logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldSet {
    /// Every standard field.
    Full,
    /// The IIS default selection plus `sc-bytes cs-bytes` and an
    /// `X-Forwarded-For` custom field (a site behind a load balancer).
    DefaultWithForwardedFor,
}

impl FieldSet {
    fn header(self) -> &'static str {
        match self {
            FieldSet::Full => crate::w3c::FULL_FIELDS,
            FieldSet::DefaultWithForwardedFor => {
                "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken X-Forwarded-For"
            }
        }
    }
}

/// One access-log row.
#[derive(Clone, Debug)]
pub struct AccessRow {
    /// When the request ended, Unix milliseconds (logged to the second).
    pub end_ms: i64,
    /// Site id.
    pub site: u32,
    /// `cs-method`.
    pub method: &'static str,
    /// `cs-uri-stem`.
    pub stem: String,
    /// `cs-uri-query`.
    pub query: Option<String>,
    /// `s-port`.
    pub port: u16,
    /// `cs-username`.
    pub user: Option<String>,
    /// `c-ip` (the load balancer for sites behind one).
    pub client: Ipv4Addr,
    /// The real client, for `X-Forwarded-For`.
    pub forwarded_for: Option<Ipv4Addr>,
    /// `cs(User-Agent)`, already `+`-encoded.
    pub agent: &'static str,
    /// `cs(Cookie)`: the ASP.NET session id, if the client sent one.
    pub cookie: Option<u64>,
    /// `cs(Referer)`, as the client sent it.
    pub referer: Option<&'static str>,
    /// `sc-status`, `sc-substatus`, `sc-win32-status`.
    pub status: (u16, u32, u32),
    /// `sc-bytes`.
    pub sent: u64,
    /// `cs-bytes`.
    pub received: u64,
    /// `time-taken` in ms.
    pub taken: u64,
}

/// One row of IIS's FTP log: a command of a control connection.
#[derive(Clone, Debug)]
pub struct FtpRow {
    /// When the command was answered, Unix milliseconds.
    pub end_ms: i64,
    /// `c-ip`.
    pub client: Ipv4Addr,
    /// `cs-username`: `-` until a login succeeds.
    pub user: Option<String>,
    /// `cs-method`: the command, or the service's `ControlChannelOpened`...
    pub command: &'static str,
    /// `cs-uri-stem`: the command's argument (`***` for a password).
    pub argument: Option<String>,
    /// `sc-status` (the FTP reply; `None` for the channel records),
    /// `sc-win32-status`, `sc-substatus`.
    pub reply: (Option<u16>, u32, u32),
    /// `x-session`: the control connection.
    pub session: u32,
    /// `x-fullpath`: the file or folder the command acted on.
    pub full_path: Option<String>,
}

/// One HTTPERR row.
#[derive(Clone, Debug)]
pub struct HttpErrRow {
    /// When HTTP.sys gave up, Unix seconds.
    pub time: i64,
    /// Client address and port.
    pub client: (String, u16),
    /// Server address and port.
    pub server: (String, u16),
    /// `cs-version`, `cs-method`, `cs-uri` (None = `-`).
    pub request: Option<(&'static str, &'static str, String)>,
    /// `sc-status`.
    pub status: Option<u16>,
    /// `s-siteid`.
    pub site: Option<u32>,
    /// `s-reason`.
    pub reason: &'static str,
    /// `s-queuename`.
    pub queue: Option<String>,
}

/// An IIS site on a host.
#[derive(Clone, Debug)]
pub struct SiteSpec {
    /// Site id (`W3SVC<id>`).
    pub id: u32,
    /// Its application pool.
    pub pool: String,
    /// The fields it logs.
    pub fields: FieldSet,
    /// `cs-host` header.
    pub host_header: String,
}

/// The event log a record belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// System.evtx.
    System,
    /// Application.evtx.
    Application,
    /// Security.evtx.
    Security,
    /// Microsoft-Windows-Sysmon%4Operational.evtx.
    Sysmon,
    /// Microsoft-IIS-Configuration%4Operational.evtx.
    IisConfiguration,
}

impl Channel {
    /// The channel name.
    pub fn name(self) -> &'static str {
        match self {
            Channel::System => "System",
            Channel::Application => "Application",
            Channel::Security => "Security",
            Channel::Sysmon => "Microsoft-Windows-Sysmon/Operational",
            Channel::IisConfiguration => "Microsoft-IIS-Configuration/Operational",
        }
    }

    /// The `.evtx` file's name without the extension, as Windows names it
    /// (`/` written `%4`).
    pub fn file_stem(self) -> String {
        self.name().replace('/', "%4")
    }
}

/// Everything one host exports.
#[derive(Debug, Default)]
pub struct HostLogs {
    /// Sites by id.
    pub sites: BTreeMap<u32, SiteSpec>,
    /// Access rows per site (any order; sorted when written).
    pub access: BTreeMap<u32, Vec<AccessRow>>,
    /// W3C log file (re)opens: a new header block starts at each (Unix s).
    pub log_reopens: Vec<i64>,
    /// HTTPERR rows.
    pub httperr: Vec<HttpErrRow>,
    /// FTP log rows per FTP site id (any order; sorted when written).
    pub ftp: BTreeMap<u32, Vec<FtpRow>>,
    /// FREB traces per site.
    pub traces: BTreeMap<u32, Vec<TraceSpec>>,
    /// Event records per channel.
    pub events: BTreeMap<Channel, Vec<EventRecord>>,
    /// The access log of this site is cut at this time (damage planted on
    /// purpose: the buffered tail was lost), Unix s.
    pub access_cut: BTreeMap<u32, i64>,
}

/// A bundle being assembled.
#[derive(Debug, Default)]
pub struct Bundle {
    /// Hosts by name.
    pub hosts: BTreeMap<String, HostLogs>,
}

fn dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

impl Bundle {
    /// The logs of a host, created on first use.
    pub fn host(&mut self, name: &str) -> &mut HostLogs {
        self.hosts.entry(name.to_string()).or_default()
    }

    /// Writes every file under `root` in `layout`; returns the paths written
    /// (the archives, for zipped layouts).
    pub fn write(mut self, root: &Path, layout: Layout) -> io::Result<Vec<PathBuf>> {
        use rayon::prelude::*;
        let hosts = self.hosts.len();
        // Hosts are written in parallel; each host's files in a fixed order.
        let per_host: Vec<io::Result<Vec<PathBuf>>> = self
            .hosts
            .iter_mut()
            .collect::<Vec<_>>()
            .into_par_iter()
            .enumerate()
            .map(|(index, (name, host))| {
                let dir = HostDir::new(layout, root, name, index, hosts);
                let mut written = write_access(&dir, name, host)?;
                written.extend(write_httperr(&dir, host)?);
                written.extend(write_ftp(&dir, host)?);
                written.extend(write_traces(&dir, host)?);
                written.extend(write_events(&dir, host)?);
                dir.finish(written)
            })
            .collect();
        let mut written = Vec::new();
        for w in per_host {
            written.extend(w?);
        }
        Ok(written)
    }
}

fn create(path: &Path) -> io::Result<BufWriter<File>> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

fn header_block(out: &mut impl Write, software: &str, secs: i64, fields: &str) -> io::Result<()> {
    let (d, t) = date_and_time(secs);
    write!(out, "#Software: {software}\r\n#Version: 1.0\r\n#Date: {d} {t}\r\n#Fields: {fields}\r\n")
}

/// The name IIS gives a day's log (UTC rollover): `u_exYYMMDD.log`.
fn daily_log_name(secs: i64) -> String {
    let (date, _) = date_and_time(secs);
    format!("u_ex{}{}{}.log", &date[2..4], &date[5..7], &date[8..10])
}

fn write_access(dir: &HostDir, host_name: &str, host: &mut HostLogs) -> io::Result<Vec<PathBuf>> {
    for rows in host.access.values_mut() {
        rows.sort_by_key(|r| r.end_ms);
    }
    let mut written = Vec::new();
    let mut reopens = host.log_reopens.clone();
    reopens.sort_unstable();
    let mut current: Option<(u32, i64, BufWriter<File>, PathBuf)> = None;
    let mut next_reopen = 0usize;
    let mut line = String::with_capacity(1024);
    for r in host.access.values().flatten() {
        if host.access_cut.get(&r.site).is_some_and(|cut| r.end_ms / 1000 >= *cut) {
            continue;
        }
        let secs = r.end_ms.div_euclid(1000);
        let day = secs.div_euclid(86_400);
        let site = &host.sites[&r.site];
        let fresh = !matches!(&current, Some((s, d, _, _)) if *s == r.site && *d == day);
        if fresh {
            if let Some((_, _, mut w, p)) = current.take() {
                w.flush()?;
                written.push(p);
            }
            let name = daily_log_name(secs);
            let Some(path) = dir.path(Kind::Access(r.site, &name)) else { continue };
            let mut w = create(&path)?;
            header_block(&mut w, "Microsoft Internet Information Services 10.0", secs, site.fields.header())?;
            next_reopen = reopens.partition_point(|t| *t <= secs);
            current = Some((r.site, day, w, path));
        }
        let Some((_, _, w, _)) = current.as_mut() else { continue };
        // HTTP.sys writes a new header block when it reopens the log file.
        while next_reopen < reopens.len() && reopens[next_reopen] <= secs {
            header_block(w, "Microsoft Internet Information Services 10.0", secs, site.fields.header())?;
            next_reopen += 1;
        }
        let (d, t) = date_and_time(secs);
        line.clear();
        let (status, sub, win32) = r.status;
        let user = dash(&r.user);
        let query = dash(&r.query);
        let referer = r.referer.unwrap_or("-");
        let cookie = r.cookie.map_or_else(|| "-".to_string(), |c| format!("ASP.NET_SessionId={c:016x}"));
        match site.fields {
            FieldSet::Full => {
                use std::fmt::Write as _;
                let _ = write!(
                    line,
                    "{d} {t} W3SVC{} {host_name} 10.0.1.{} {} {} {query} {} {user} {} HTTP/1.1 {} {} {referer} {} {status} {sub} {win32} {} {} {}\r\n",
                    r.site,
                    10 + r.site,
                    r.method,
                    r.stem,
                    r.port,
                    r.client,
                    r.agent,
                    cookie,
                    site.host_header,
                    r.sent,
                    r.received,
                    r.taken
                );
            }
            FieldSet::DefaultWithForwardedFor => {
                use std::fmt::Write as _;
                let _ = write!(
                    line,
                    "{d} {t} 10.0.1.{} {} {} {query} {} {user} {} {} {referer} {status} {sub} {win32} {} {} {} {}\r\n",
                    10 + r.site,
                    r.method,
                    r.stem,
                    r.port,
                    r.client,
                    r.agent,
                    r.sent,
                    r.received,
                    r.taken,
                    r.forwarded_for.map_or_else(|| "-".to_string(), |f| f.to_string())
                );
            }
        }
        w.write_all(line.as_bytes())?;
    }
    if let Some((_, _, mut w, p)) = current.take() {
        w.flush()?;
        written.push(p);
    }
    Ok(written)
}

const FTP_FIELDS: &str = "date time c-ip cs-username s-ip s-port cs-method cs-uri-stem sc-status sc-win32-status sc-substatus x-session x-fullpath";

/// Each FTP site's log, one file a day, as IIS's FTP service writes it.
fn write_ftp(dir: &HostDir, host: &mut HostLogs) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (site, rows) in &mut host.ftp {
        rows.sort_by_key(|r| r.end_ms);
        let mut current: Option<(i64, BufWriter<File>, PathBuf)> = None;
        for r in rows.iter() {
            let secs = r.end_ms.div_euclid(1000);
            let day = secs.div_euclid(86_400);
            if current.as_ref().is_none_or(|(d, _, _)| *d != day) {
                if let Some((_, mut w, p)) = current.take() {
                    w.flush()?;
                    written.push(p);
                }
                let name = daily_log_name(secs);
                let Some(path) = dir.path(Kind::Ftp(*site, &name)) else { return Ok(written) };
                let mut w = create(&path)?;
                header_block(&mut w, "Microsoft Internet Information Services 10.0", secs, FTP_FIELDS)?;
                current = Some((day, w, path));
            }
            let Some((_, w, _)) = current.as_mut() else { continue };
            let (d, t) = date_and_time(secs);
            let (status, win32, sub) = r.reply;
            let status = status.map_or_else(|| "-".to_string(), |s| s.to_string());
            // A session is a GUID; its number spread over one.
            let n = r.session.wrapping_add(1);
            let s = n.wrapping_mul(2_654_435_761);
            writeln!(
                w,
                "{d} {t} {} {} 10.0.1.10 21 {} {} {status} {win32} {sub} {s:08x}-{:04x}-4{:03x}-a{:03x}-{:012x} {}\r",
                r.client,
                dash(&r.user),
                r.command,
                dash(&r.argument),
                n & 0xffff,
                s >> 20,
                (s >> 8) & 0xfff,
                u64::from(n) * 7_919,
                dash(&r.full_path),
            )?;
        }
        if let Some((_, mut w, p)) = current.take() {
            w.flush()?;
            written.push(p);
        }
    }
    Ok(written)
}

const HTTPERR_FIELDS: &str = "date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename";

fn write_httperr(dir: &HostDir, host: &mut HostLogs) -> io::Result<Vec<PathBuf>> {
    if host.httperr.is_empty() || dir.path(Kind::Httperr("httperr1.log")).is_none() {
        return Ok(Vec::new());
    }
    host.httperr.sort_by(|a, b| (a.time, &a.client).cmp(&(b.time, &b.client)));
    let mut written = Vec::new();
    let mut n = 1;
    let mut buf: Vec<u8> = Vec::new();
    let flush = |n: usize, buf: &mut Vec<u8>, written: &mut Vec<PathBuf>| -> io::Result<()> {
        let Some(path) = dir.path(Kind::Httperr(&format!("httperr{n}.log"))) else { return Ok(()) };
        let mut w = create(&path)?;
        w.write_all(buf)?;
        w.flush()?;
        written.push(path);
        buf.clear();
        Ok(())
    };
    for r in &host.httperr {
        if buf.is_empty() {
            header_block(&mut buf, "Microsoft HTTP API 2.0", r.time, HTTPERR_FIELDS)?;
        }
        let (d, t) = date_and_time(r.time);
        let (version, method, uri) = match &r.request {
            Some((v, m, u)) => (*v, *m, u.as_str()),
            None => ("-", "-", "-"),
        };
        let stream = if version == "HTTP/2" { "1" } else { "-" };
        write!(
            buf,
            "{d} {t} {} {} {} {} {version} {method} {uri} {stream} {} {} {} {}\r\n",
            r.client.0,
            r.client.1,
            r.server.0,
            r.server.1,
            r.status.map_or_else(|| "-".to_string(), |s| s.to_string()),
            r.site.map_or_else(|| "-".to_string(), |s| s.to_string()),
            r.reason,
            dash(&r.queue)
        )?;
        if buf.len() >= HTTPERR_ROLL {
            flush(n, &mut buf, &mut written)?;
            n += 1;
        }
    }
    if !buf.is_empty() {
        flush(n, &mut buf, &mut written)?;
    }
    Ok(written)
}

fn write_traces(dir: &HostDir, host: &mut HostLogs) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (site, traces) in &mut host.traces {
        traces.sort_by_key(|t| t.start_ms);
        for (i, t) in traces.iter().enumerate() {
            let Some(path) = dir.path(Kind::Trace(*site, &format!("fr{:06}.xml", i + 1))) else { continue };
            let mut w = create(&path)?;
            w.write_all(write_trace(t).as_bytes())?;
            w.flush()?;
            written.push(path);
        }
    }
    Ok(written)
}

fn write_events(dir: &HostDir, host: &mut HostLogs) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if dir.events_as_xml() {
        // App Service keeps the Application channel only (no System log,
        // so no WAS, no service control manager), in one file, in time order.
        let mut all: Vec<&EventRecord> =
            host.events.iter().filter(|(c, _)| **c == Channel::Application).flat_map(|(_, e)| e).collect();
        if all.is_empty() {
            return Ok(written);
        }
        all.sort_by_key(|e| e.time_created);
        let Some(path) = dir.path(Kind::Events(Channel::Application)) else { return Ok(written) };
        let mut w = create(&path)?;
        write_event_xml(&mut w, &all)?;
        w.flush()?;
        written.push(path);
        return Ok(written);
    }
    for (channel, events) in &mut host.events {
        events.sort_by_key(|e| e.time_created);
        let Some(path) = dir.path(Kind::Events(*channel)) else { continue };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut w = EvtxWriter::new(BufWriter::with_capacity(1 << 20, File::create(&path)?))?;
        for e in events.iter() {
            w.append(e)?;
        }
        w.finish()?.flush()?;
        written.push(path);
    }
    Ok(written)
}
