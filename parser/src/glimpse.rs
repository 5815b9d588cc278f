//! A glance at the first records of a source before it is read: the
//! computer and site names it gives. Evidence that names no host (a W3C log
//! without `s-computername`) takes the host of the evidence beside it, so the
//! hosts of a collection are known before any file is read in full.

use std::collections::BTreeSet;
use std::convert::Infallible;

use memchr::memmem;

use crate::source::Bytes;
use crate::{
    CountedEvents, Entry, Format, HttpError, InputError, Outcome, ReadConfig, RecordSink, Request, Source,
    TextConfig, Trace, WinEvent, encoding, evtx,
};

/// How much of a source is looked at: the first records of any log, and the
/// whole of an App Service `eventlog.xml` (which rolls over at 1 MB).
pub const GLIMPSE_BYTES: usize = 2 << 20;

/// Names kept of each kind, at most.
const MAX_NAMES: usize = 16;

/// What the first records of a source name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Glimpse {
    /// The format, when recognised.
    pub format: Option<Format>,
    /// Computer names (`s-computername`, an event's `Computer`, a trace's
    /// computer), each once, in order of first appearance.
    pub computers: Vec<String>,
    /// `s-sitename` values, each once.
    pub site_names: Vec<String>,
    /// Sites named by IIS configuration paths in event text
    /// (`MACHINE/WEBROOT/APPHOST/<SITE>`), each once.
    pub config_sites: Vec<String>,
    /// Sites an App Service request names: the host of the requested URL of
    /// a request served from `…\home\site\wwwroot` (App Service's content
    /// folder), as its error pages show it.
    pub hosted_sites: Vec<String>,
}

/// Looks at the first [`GLIMPSE_BYTES`] of an entry.
pub fn glimpse(entry: &Entry, config: &ReadConfig) -> Result<Glimpse, InputError> {
    let head = entry.head(&config.limits, GLIMPSE_BYTES)?;
    let mut out = Glimpse { config_sites: config_sites(&head), ..Glimpse::default() };
    let data = match crate::format::detect(
        &entry.path.file_name(),
        &head[..head.len().min(crate::format::SNIFF_LEN)],
    ) {
        crate::Detection::Format(Format::Evtx) => {
            // The file header and the first chunk are enough.
            let end = (evtx::FILE_HEADER_SIZE + evtx::CHUNK_SIZE).min(head.len());
            head[..end].to_vec()
        }
        _ => head,
    };
    let config = ReadConfig { text: TextConfig { chunk_size: usize::MAX }, ..*config };
    let source = Source {
        path: entry.path.clone(),
        bytes: Bytes::Owned(data),
        modified: entry.modified,
        damage: None,
    };
    let Ok(outcome) = crate::parse_source(&source, &config, &|_| {}, &|_| Names::default());
    if let Outcome::Parsed { format, sinks, .. } = outcome {
        out.format = Some(format);
        let mut computers = Seen::default();
        let mut sites = Seen::default();
        let mut hosted = Seen::default();
        for sink in sinks {
            computers.extend(sink.computers.names);
            sites.extend(sink.site_names.names);
            hosted.extend(sink.hosted_sites.names);
        }
        out.computers = computers.names;
        out.site_names = sites.names;
        out.hosted_sites = hosted.names;
    }
    Ok(out)
}

/// Distinct names in order of first appearance, up to [`MAX_NAMES`].
#[derive(Debug, Default)]
struct Seen {
    names: Vec<String>,
    set: BTreeSet<String>,
}

impl Seen {
    fn add(&mut self, name: &[u8]) {
        let name = String::from_utf8_lossy(name.trim_ascii());
        if name.is_empty() || name == "-" || self.names.len() >= MAX_NAMES || self.set.contains(name.as_ref())
        {
            return;
        }
        self.set.insert(name.to_string());
        self.names.push(name.into_owned());
    }

    fn extend(&mut self, names: Vec<String>) {
        for n in names {
            self.add(n.as_bytes());
        }
    }
}

/// Collects the names a chunk's records give.
#[derive(Debug, Default)]
struct Names {
    computers: Seen,
    site_names: Seen,
    hosted_sites: Seen,
}

impl RecordSink for Names {
    type Error = Infallible;

    fn request(&mut self, r: &Request<'_>) -> Result<(), Infallible> {
        if let Some(c) = r.computer_name {
            self.computers.add(c);
        }
        if let Some(s) = r.site_name {
            self.site_names.add(s);
        }
        Ok(())
    }

    fn http_error(&mut self, _r: &HttpError<'_>) -> Result<(), Infallible> {
        Ok(())
    }

    fn trace(&mut self, t: &Trace) -> Result<(), Infallible> {
        if let Some(c) = &t.computer {
            self.computers.add(c.as_bytes());
        }
        // App Service's content folder: `…\home\site\wwwroot`, or on the
        // first Azure Web Sites `…\DWASFiles\Sites\<site>\…\site\wwwroot`.
        let in_app_service = t.summary.physical_path.as_deref().is_some_and(|p| {
            let p = p.to_ascii_lowercase().replace('/', "\\");
            p.contains("\\home\\site\\wwwroot") || p.contains("\\dwasfiles\\sites\\")
        });
        let url = t.url.as_deref();
        if let Some(host) =
            url.and_then(url_host).filter(|_| in_app_service).or_else(|| url.and_then(app_service_host))
        {
            self.hosted_sites.add(host.as_bytes());
        }
        Ok(())
    }

    fn event(&mut self, e: WinEvent) -> Result<(), Infallible> {
        if let Some(c) = &e.computer {
            self.computers.add(c.as_bytes());
        }
        // Kudu names the site a deployment was for.
        if e.provider.eq_ignore_ascii_case(crate::kudu::PROVIDER)
            && let Some(site) = e.data("Site")
        {
            self.hosted_sites.add(site.as_bytes());
        }
        // The URL of a request an event names as a value of its own
        // (ASP.NET's request events do), on App Service's own domain: the
        // site served it. A URL quoted inside a message may be one the app
        // called.
        for v in &e.data {
            let value = v.value.trim();
            // ASP.NET writes the URL as requested, spaces and all; a
            // message runs over lines.
            let whole_url = (value.starts_with("http://") || value.starts_with("https://"))
                && !value.contains(['\n', '\r']);
            if let Some(host) = Some(value).filter(|_| whole_url).and_then(app_service_host) {
                self.hosted_sites.add(host.as_bytes());
            }
        }
        Ok(())
    }

    fn counted_events(&mut self, k: CountedEvents<'_>) -> Result<(), Infallible> {
        if let Some(c) = k.computer {
            self.computers.add(c.as_bytes());
        }
        Ok(())
    }
}

/// The host of a URL (`https://shop-api:80/x` → `shop-api`), unless it is
/// the machine itself (`localhost`, a loopback address).
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    let local = host.eq_ignore_ascii_case("localhost") || host.starts_with("127.") || host == "::1";
    (!host.is_empty() && !local).then_some(host)
}

/// The host of a URL on App Service's own domain
/// (`https://shop.azurewebsites.net/`, its Kudu `shop.scm.azurewebsites.net`):
/// only App Service serves those names.
fn app_service_host(url: &str) -> Option<&str> {
    let host = url_host(url)?;
    let cut = host.len().checked_sub(".azurewebsites.net".len())?;
    let site = host.get(..cut).filter(|_| host[cut..].eq_ignore_ascii_case(".azurewebsites.net"))?;
    (!site.is_empty() && !site.starts_with('.')).then_some(host)
}

/// Site names from `MACHINE/WEBROOT/APPHOST/<SITE>` configuration paths,
/// which ANCM, ASP.NET and WAS events quote (UTF-16 text is transcoded first).
fn config_sites(head: &[u8]) -> Vec<String> {
    let transcoded;
    let text: &[u8] = match encoding::wide_text(head) {
        Some(wide) => match encoding::transcode(head, wide) {
            Ok(t) => {
                transcoded = t;
                &transcoded
            }
            Err(_) => return Vec::new(),
        },
        None => head,
    };
    const PREFIX: &[u8] = b"MACHINE/WEBROOT/APPHOST/";
    let mut seen = Seen::default();
    for at in memmem::find_iter(text, PREFIX) {
        let rest = &text[at + PREFIX.len()..];
        let len = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'~' | b'.'))
            .count();
        seen.add(&rest[..len]);
    }
    seen.names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ArchiveLimits, discover};

    fn glimpse_of(name: &str, data: &[u8]) -> Glimpse {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        std::fs::write(&path, data).expect("writes");
        let found = discover(&[path], &ArchiveLimits::default());
        glimpse(&found.entries[0], &ReadConfig::default()).expect("reads")
    }

    #[test]
    fn access_logs_give_computer_and_site_names() {
        let log = b"#Fields: date time s-sitename s-computername cs-uri-stem sc-status\r\n\
            2025-11-24 10:00:00 W3SVC1 WEB01 / 200\r\n2025-11-24 10:00:01 W3SVC1 WEB01 /a 200\r\n\
            2025-11-24 10:00:02 W3SVC2 web02.corp.example /b 200\r\n";
        let g = glimpse_of("u_ex251124.log", log);
        assert_eq!(g.format, Some(Format::W3c));
        assert_eq!(g.computers, ["WEB01", "web02.corp.example"]);
        assert_eq!(g.site_names, ["W3SVC1", "W3SVC2"]);
        let lone_cr: Vec<u8> = log.iter().copied().filter(|&b| b != b'\n').collect();
        assert_eq!(glimpse_of("u_ex251124.log", &lone_cr), g, "lines ended by CR alone read the same");
    }

    #[test]
    fn event_exports_give_their_computer_and_configuration_paths() {
        let xml = "<Events><Event><System><Provider Name=\"IIS AspNetCore Module V2\"/><EventID>1005</EventID>\
            <TimeCreated SystemTime=\"2025-10-05T08:19:35Z\"/><Computer>DW1SDWK000M1R</Computer></System>\
            <EventData><Data>Failed to start application '/LM/W3SVC/1234/ROOT', ErrorCode '0x8007023e'.</Data>\
            <Data>MACHINE/WEBROOT/APPHOST/STAYBOT-API</Data></EventData></Event></Events>";
        let g = glimpse_of("eventlog.xml", xml.as_bytes());
        assert_eq!(g.format, Some(Format::EventXml));
        assert_eq!(g.computers, ["DW1SDWK000M1R"]);
        assert_eq!(g.config_sites, ["STAYBOT-API"]);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(glimpse_of("eventlog.xml", &utf16), g, "UTF-16 reads the same");
    }

    #[test]
    fn an_app_service_error_page_names_its_site() {
        let page = |url: &str, path: &str| {
            format!(
                "<html><h3>HTTP Error 500.30 - Internal Server Error</h3><table>\
                 <tr><th>Module</th><td>AspNetCoreModuleV2</td></tr>\
                 <tr><th>Requested URL</th><td>{url}</td></tr><tr><th>Physical Path</th><td>{path}</td></tr>\
                 </table><a href='x?IIS70Error=500,30,0x8007023e,20348'>more</a></html>"
            )
        };
        let g = glimpse_of(
            "ErrorPage000027.htm",
            page("https://smartstudy-api:80/api/exam/list", "C:\\home\\site\\wwwroot\\api").as_bytes(),
        );
        assert_eq!(
            (g.format, g.hosted_sites.as_slice()),
            (Some(Format::ErrorPage), &["smartstudy-api".to_string()][..])
        );
        let local = glimpse_of(
            "ErrorPage000001.htm",
            page("http://localhost:80/", "C:\\home\\site\\wwwroot").as_bytes(),
        );
        assert!(local.hosted_sites.is_empty(), "localhost is no site name");
        let on_prem = glimpse_of("e.htm", page("http://shop.example.com/", "C:\\inetpub\\shop").as_bytes());
        assert!(on_prem.hosted_sites.is_empty(), "only App Service's content folder says so");
    }

    #[test]
    fn a_request_url_on_app_services_domain_names_the_site() {
        let event = |data: &str| {
            format!(
                "<Events><Event><System><Provider Name=\"ASP.NET 4.0.30319.0\"/><EventID>1309</EventID>\
                 <TimeCreated SystemTime=\"2021-12-13T17:18:17Z\"/><Computer>RD00155DE0E6B3</Computer>\
                 </System><EventData><Data>3005</Data>{data}</EventData></Event></Events>"
            )
        };
        let g = glimpse_of(
            "eventlog.xml",
            event("<Data>https://shop.azurewebsites.net:443/Home/Index</Data><Data>/Home/Index</Data>")
                .as_bytes(),
        );
        assert_eq!(g.hosted_sites, ["shop.azurewebsites.net"]);
        let kudu = glimpse_of(
            "eventlog.xml",
            event("<Data>https://shop.scm.azurewebsites.net/api</Data>").as_bytes(),
        );
        assert_eq!(kudu.hosted_sites, ["shop.scm.azurewebsites.net"]);
        let spaced = glimpse_of(
            "eventlog.xml",
            event("<Data>https://shop.azurewebsites.net/post/Right Time</Data>").as_bytes(),
        );
        assert_eq!(spaced.hosted_sites, ["shop.azurewebsites.net"], "the URL as requested, unencoded");
        for other in [
            // A URL the app called, quoted in its exception.
            "<Data>HttpRequestException: https://billing.azurewebsites.net/api failed</Data>",
            "<Data>https://shop.example.com/</Data>",
            "<Data>https://billing.azurewebsites.net/api\n   at Shop.Pay()</Data>",
            "<Data>https://.azurewebsites.net/</Data>",
            "<Data>https://notazurewebsites.net/</Data>",
        ] {
            assert!(glimpse_of("eventlog.xml", event(other).as_bytes()).hosted_sites.is_empty(), "{other}");
        }
    }

    #[test]
    fn a_trace_of_an_azure_web_sites_request_names_its_site() {
        let trace = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n\
            <failedRequest url=\"http://demo.azurewebsites.net:80/favicon.ico\" siteId=\"5\" \
            appPoolId=\"Demo\" processId=\"7\" verb=\"GET\" statusCode=\"404\" timeTaken=\"3\">\n\
            </failedRequest>\n";
        assert_eq!(glimpse_of("fr000001.xml", trace.as_bytes()).hosted_sites, ["demo.azurewebsites.net"]);
    }

    #[test]
    fn what_is_not_evidence_names_nothing() {
        let g = glimpse_of("readme.txt", b"hello");
        assert_eq!(g, Glimpse::default());
    }
}
