//! One record as rules see it: field names (lower-case) and their values,
//! each kept as written and lower-cased. The field mapping lives here.
//!
//! Web server rules name W3C fields (`cs-uri-query`, `c-useragent`...). IIS
//! logs the path and the query apart, while many rules put paths in
//! `cs-uri-query`, and IIS writes `+` for spaces in the user agent: a field
//! gives every form a rule may mean (the raw query, and path plus query,
//! percent-decoded too; the agent as logged and with spaces), so such rules
//! fire instead of silently never matching. Windows rules name event fields
//! (`EventID`, `Channel`, `Provider_Name`, the `EventData` names); Security
//! 4688 gives the Sysmon names (`Image`, `ParentImage`) too.

use faultline_parser::source::percent_decoded;
use faultline_parser::{HttpError, Request, WinEvent};

/// A web access as text fields (`None`: not logged).
#[derive(Clone, Copy, Debug, Default)]
pub struct WebRow<'a> {
    /// `cs-method`.
    pub method: Option<&'a str>,
    /// `cs-uri-stem`.
    pub stem: Option<&'a str>,
    /// `cs-uri-query`.
    pub query: Option<&'a str>,
    /// `cs(User-Agent)`.
    pub user_agent: Option<&'a str>,
    /// `cs(Referer)`.
    pub referer: Option<&'a str>,
    /// `cs-host`.
    pub host: Option<&'a str>,
    /// `cs-username`.
    pub username: Option<&'a str>,
    /// `cs(Cookie)`.
    pub cookie: Option<&'a str>,
    /// `cs-version`.
    pub version: Option<&'a str>,
    /// `c-ip`.
    pub client_ip: Option<&'a str>,
    /// `s-ip`.
    pub server_ip: Option<&'a str>,
    /// `sc-status`.
    pub status: Option<&'a str>,
    /// `sc-substatus`.
    pub substatus: Option<&'a str>,
    /// `sc-win32-status`.
    pub win32: Option<&'a str>,
    /// `s-port`.
    pub port: Option<&'a str>,
}

/// What kind of record a view holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A web server access (W3C or HTTP.sys row).
    Web,
    /// A Windows event of this (lower-case) channel and id.
    Event {
        /// Channel, lower-case.
        channel: String,
        /// Event id.
        id: u16,
    },
}

/// A record's fields; reused from record to record, so a hunt over millions
/// of rows allocates only when a value outgrows its buffer.
#[derive(Clone, Debug)]
pub struct View {
    kind: Kind,
    /// (field, value as written, value lower-cased).
    values: Vec<(String, String, String)>,
    used: usize,
    keywords: String,
}

impl Default for View {
    fn default() -> Self {
        View { kind: Kind::Web, values: Vec::new(), used: 0, keywords: String::new() }
    }
}

impl View {
    /// The record's kind.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    fn start(&mut self, kind: Kind) {
        self.kind = kind;
        self.used = 0;
        self.keywords.clear();
    }

    /// Adds one value of `field` (lower-case name).
    fn push(&mut self, field: &str, value: &str) {
        if self.used == self.values.len() {
            self.values.push(Default::default());
        }
        let slot = &mut self.values[self.used];
        slot.0.clear();
        slot.0.push_str(field);
        slot.1.clear();
        slot.1.push_str(value);
        slot.2.clear();
        slot.2.extend(value.chars().flat_map(char::to_lowercase));
        self.used += 1;
        if !self.keywords.is_empty() {
            self.keywords.push(' ');
        }
        self.keywords.extend(value.chars().flat_map(char::to_lowercase));
    }

    fn push_bytes(&mut self, field: &str, value: Option<&[u8]>) {
        if let Some(v) = value.filter(|v| !v.is_empty() && *v != b"-") {
            self.push(field, &String::from_utf8_lossy(v));
        }
    }

    /// The values of `field` (lower-case name): as written, lower-cased.
    pub fn values<'a>(&'a self, field: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.values[..self.used]
            .iter()
            .filter(move |(f, _, _)| f == field)
            .map(|(_, v, l)| (v.as_str(), l.as_str()))
    }

    /// Every value, lower-cased, joined: what keyword searches look in.
    pub fn keywords(&self) -> &str {
        &self.keywords
    }

    /// Every (field, value) of the record, for the evidence of a hit.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values[..self.used].iter().map(|(f, v, _)| (f.as_str(), v.as_str()))
    }

    /// A W3C access row.
    pub fn request(&mut self, r: &Request<'_>) {
        let text = |v: Option<&[u8]>| {
            v.filter(|v| !v.is_empty() && *v != b"-").map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let (method, stem, query) = (text(r.method), text(r.uri_stem), text(r.uri_query));
        let (agent, referer, host) = (text(r.user_agent), text(r.referer), text(r.host));
        let (user, cookie, version) = (text(r.username), text(r.cookie), text(r.version));
        let (client, server) = (r.client_ip.map(|a| a.to_string()), r.server_ip.map(|a| a.to_string()));
        let (status, sub, port) = (
            r.status.map(|s| s.to_string()),
            r.substatus.map(|s| s.to_string()),
            r.server_port.map(|p| p.to_string()),
        );
        let win32 = r.win32_status.map(|w| w.to_string());
        self.web(&WebRow {
            method: method.as_deref(),
            stem: stem.as_deref(),
            query: query.as_deref(),
            user_agent: agent.as_deref(),
            referer: referer.as_deref(),
            host: host.as_deref(),
            username: user.as_deref(),
            cookie: cookie.as_deref(),
            version: version.as_deref(),
            client_ip: client.as_deref(),
            server_ip: server.as_deref(),
            status: status.as_deref(),
            substatus: sub.as_deref(),
            win32: win32.as_deref(),
            port: port.as_deref(),
        });
    }

    /// A web access from its fields.
    pub fn web(&mut self, r: &WebRow<'_>) {
        self.start(Kind::Web);
        let put = |view: &mut View, field: &str, v: Option<&str>| {
            if let Some(v) = v {
                view.push(field, v);
            }
        };
        put(self, "cs-method", r.method);
        put(self, "cs-uri-stem", r.stem);
        put(self, "cs-uri-query", r.query);
        if let Some(stem) = r.stem {
            let whole = match r.query {
                Some(q) => format!("{stem}?{q}"),
                None => stem.to_string(),
            };
            // Rules written for logs that keep path and query together.
            self.push("cs-uri-query", &whole);
            self.push("cs-uri", &whole);
            self.push("c-uri", &whole);
            let decoded = percent_decoded(&whole);
            if decoded != whole.as_str() {
                self.push("cs-uri-query", &decoded);
                self.push("cs-uri", &decoded);
                self.push("cs-uri-stem", &percent_decoded(stem));
            }
        }
        if let Some(ua) = r.user_agent {
            self.push("c-useragent", ua);
            if ua.contains('+') {
                self.push("c-useragent", &ua.replace('+', " "));
            }
        }
        put(self, "cs-referer", r.referer);
        put(self, "cs-host", r.host);
        put(self, "cs-username", r.username);
        put(self, "cs-cookie", r.cookie);
        put(self, "cs-version", r.version);
        put(self, "c-ip", r.client_ip);
        put(self, "s-ip", r.server_ip);
        put(self, "sc-status", r.status);
        put(self, "sc-substatus", r.substatus);
        put(self, "sc-win32-status", r.win32);
        put(self, "s-port", r.port);
    }

    /// An HTTP.sys error row: the fields a web rule can share with it.
    pub fn http_error(&mut self, r: &HttpError<'_>) {
        self.start(Kind::Web);
        self.push_bytes("cs-method", r.method);
        if let Some(uri) = r.uri.map(String::from_utf8_lossy) {
            let (stem, query) = uri.split_once('?').unwrap_or((&uri, ""));
            self.push("cs-uri-stem", stem);
            if !query.is_empty() {
                self.push("cs-uri-query", query);
            }
            self.push("cs-uri-query", &uri);
            self.push("cs-uri", &uri);
            let decoded = percent_decoded(&uri);
            if decoded != *uri {
                self.push("cs-uri-query", &decoded);
            }
        }
        if let Some(ip) = r.client_ip {
            self.push("c-ip", &ip.to_string());
        }
        if let Some(s) = r.status {
            self.push("sc-status", &s.to_string());
        }
        self.push_bytes("cs-version", r.version);
    }

    /// A Windows event.
    pub fn event(&mut self, e: &WinEvent) {
        let channel = e.channel.as_deref().unwrap_or_default().to_ascii_lowercase();
        self.start(Kind::Event { channel, id: e.event_id });
        self.push("eventid", &e.event_id.to_string());
        if let Some(c) = &e.channel {
            self.push("channel", c);
        }
        self.push("provider_name", &e.provider);
        if let Some(c) = &e.computer {
            self.push("computer", c);
        }
        let security_process = e.event_id == 4688 && e.channel.as_deref() == Some("Security");
        for d in &e.data {
            let Some(name) = &d.name else {
                if !d.value.is_empty() {
                    self.push("data", &d.value);
                }
                continue;
            };
            let name = name.to_ascii_lowercase();
            self.push(&name, &d.value);
            if security_process {
                match name.as_str() {
                    "newprocessname" => self.push("image", &d.value),
                    "parentprocessname" => self.push("parentimage", &d.value),
                    "subjectusername" => self.push("user", &d.value),
                    _ => {}
                }
            }
        }
    }
}
