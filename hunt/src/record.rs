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

use hashbrown::HashSet;

use faultline_parser::source::percent_decoded;
use faultline_parser::{HttpError, Request, WinEvent};

/// How one field of web server rules is read from IIS's records.
#[derive(Clone, Copy, Debug)]
pub struct WebField {
    /// The name rules and the view give it.
    pub name: &'static str,
    /// Other spellings rules use for it (read as `name`).
    pub spellings: &'static [&'static str],
    /// The values a W3C row gives it.
    pub w3c: &'static str,
    /// The values an HTTP.sys error row gives it (`None`: not logged there).
    pub httperr: Option<&'static str>,
    /// The values a FREB trace's request gives it (`None`: not traced).
    pub freb: Option<&'static str>,
}

const fn web(
    name: &'static str,
    spellings: &'static [&'static str],
    w3c: &'static str,
    [httperr, freb]: [Option<&'static str>; 2],
) -> WebField {
    WebField { name, spellings, w3c, httperr, freb }
}

/// The web fields, by the index a web row's values are pushed with (a
/// hash lookup of the name per value was a tenth of a hunt): the mapping
/// `--show-mapping` prints.
pub const WEB_MAPPING: [WebField; 20] = [
    web("cs-method", &[], "as logged", [Some("as logged"), Some("the verb")]),
    web(
        "cs-uri-stem",
        &[],
        "the path, and percent-decoded",
        [Some("the path"), Some("the URL's path, and percent-decoded")],
    ),
    web(
        "cs-uri-query",
        &[],
        "the query; path?query; both decoded (percent escapes, + in the query as a space)",
        [Some("the query; path?query, and decoded"), Some("the URL's query; path?query; both decoded")],
    ),
    web("cs-uri", &[], "path?query, and decoded", [Some("path?query"), Some("path?query, and decoded")]),
    web("c-uri", &[], "path?query, and decoded", [None, Some("path?query, and decoded")]),
    web(
        "c-useragent",
        &["cs-user-agent", "cs(user-agent)", "c-user-agent", "cs-useragent"],
        "as logged, and with + read as spaces",
        [None, Some("the User-Agent request header, with spaces and with + for them")],
    ),
    web(
        "cs-referer",
        &["cs(referer)", "cs-referrer"],
        "as logged",
        [None, Some("the Referer request header")],
    ),
    web("cs-host", &[], "as logged", [None, Some("the Host request header, else the URL's host")]),
    web("cs-username", &[], "as logged", [None, Some("the authenticated user")]),
    web("cs-cookie", &["cs(cookie)"], "as logged", [None, Some("the Cookie request header")]),
    web("cs-version", &[], "as logged", [Some("as logged"), None]),
    web(
        "c-ip",
        &[],
        "as logged; behind a proxy (a private c-ip and an X-Forwarded-For field), the client it names, and the proxy's address as a form",
        [Some("as logged"), Some("the remote address")],
    ),
    web("s-ip", &[], "as logged", [Some("as logged"), None]),
    web("sc-status", &[], "as logged, compared as a number", [Some("as logged"), Some("the status")]),
    web("sc-substatus", &[], "as logged, compared as a number", [None, Some("the substatus")]),
    web("sc-win32-status", &[], "as logged, compared as a number", [None, None]),
    web("s-port", &[], "as logged, compared as a number", [Some("as logged"), None]),
    web(
        "x-session",
        &[],
        "FTP logs: the control connection (IIS 5 and 6: the number before the command)",
        [None, None],
    ),
    web(
        "x-fullpath",
        &[],
        "FTP logs: the path the command acted on (a form of cs-uri-stem too)",
        [None, None],
    ),
    web(
        "s-reason",
        &[],
        "not given",
        [Some("as logged (Timer_HeaderWait, Timer_MinBytesPerSecond, QueueFull...)"), None],
    ),
];

/// The names of [`WEB_MAPPING`], by index.
const WEB_FIELDS: [&str; WEB_MAPPING.len()] = {
    let mut names = [""; WEB_MAPPING.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = WEB_MAPPING[i].name;
        i += 1;
    }
    names
};
const W_CS_METHOD: usize = 0;
const W_CS_URI_STEM: usize = 1;
const W_CS_URI_QUERY: usize = 2;
const W_CS_URI: usize = 3;
const W_C_URI: usize = 4;
const W_C_USERAGENT: usize = 5;
const W_CS_REFERER: usize = 6;
const W_CS_HOST: usize = 7;
const W_CS_USERNAME: usize = 8;
const W_CS_COOKIE: usize = 9;
const W_CS_VERSION: usize = 10;
const W_C_IP: usize = 11;
const W_S_IP: usize = 12;
const W_SC_STATUS: usize = 13;
const W_SC_SUBSTATUS: usize = 14;
const W_SC_WIN32_STATUS: usize = 15;
const W_S_PORT: usize = 16;
const W_X_SESSION: usize = 17;
const W_X_FULLPATH: usize = 18;

/// The name the view gives a field that rules spell in several ways
/// (SigmaHQ's web rules write `cs-user-agent`, IIS's header writes
/// `cs(User-Agent)`, both for what the view calls `c-useragent`). Read
/// once per rule field, never per record.
pub fn canonical_field(name: &str) -> &str {
    WEB_MAPPING.iter().find(|f| f.spellings.contains(&name)).map_or(name, |f| f.name)
}

/// The fields Security 4688 also gives under Sysmon's names, so that one
/// process-creation rule reads both.
pub const SECURITY_PROCESS_NAMES: [(&str, &str); 3] =
    [("newprocessname", "image"), ("parentprocessname", "parentimage"), ("subjectusername", "user")];

/// Whether the view gives a web field in forms the log did not write too
/// (the path with its query, decoded, the agent with spaces): a field a
/// `fieldref` cannot compare as logged.
pub(crate) fn has_derived_forms(name: &str) -> bool {
    matches!(name, "cs-uri-query" | "cs-uri" | "c-uri" | "cs-uri-stem" | "c-useragent")
}

/// Whether `name` is a field the view gives web rows.
pub(crate) fn is_web_field(name: &str) -> bool {
    WEB_FIELDS.contains(&name)
}

/// A W3C field's value as logged, unless it is empty or `-` (W3C's empty
/// field).
pub(crate) fn logged(v: Option<&[u8]>) -> Option<&[u8]> {
    v.filter(|v| !v.is_empty() && *v != b"-")
}

/// Whether a web field is a number (a status, a port): its guards compare
/// numbers.
pub(crate) fn is_numeric_field(name: &str) -> bool {
    matches!(name, "sc-status" | "sc-substatus" | "sc-win32-status" | "s-port")
}

/// Appends `value` lower-cased: byte-wise for ASCII (nearly every log
/// value), through Unicode's tables otherwise.
fn lower_into(out: &mut String, value: &str) {
    if value.is_ascii() {
        let start = out.len();
        out.push_str(value);
        out[start..].make_ascii_lowercase();
    } else {
        out.extend(value.chars().flat_map(char::to_lowercase));
    }
}

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
    /// A command to IIS's FTP service (a row of its W3C log).
    Ftp,
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
    /// Per value, whether it is another form of a value the record gives
    /// (the query joined to its path, a URI decoded, an agent with spaces):
    /// matched, not shown as what the record holds.
    derived: Vec<bool>,
    used: usize,
    keywords: String,
    /// Whether the lower-cased values and keyword text are made yet: they
    /// are made only for records some rule may match.
    lowered: bool,
    /// Only these fields are filled (`None`: every field).
    only: Option<HashSet<String>>,
    /// Whether keyword searches read this view.
    with_keywords: bool,
    /// Whether each of [`WEB_FIELDS`] is read.
    web_wanted: [bool; WEB_FIELDS.len()],
    /// Numbers written as text, reused.
    scratch: [String; 7],
    /// An event's field name in lower case, reused (a Sysmon process
    /// start names twenty).
    field_name: String,
    /// `path?query`, reused.
    whole: String,
}

impl Default for View {
    fn default() -> Self {
        View {
            kind: Kind::Web,
            values: Vec::new(),
            derived: Vec::new(),
            used: 0,
            keywords: String::new(),
            lowered: false,
            only: None,
            with_keywords: true,
            web_wanted: [true; WEB_FIELDS.len()],
            scratch: Default::default(),
            field_name: String::new(),
            whole: String::new(),
        }
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
        self.lowered = false;
    }

    /// Makes the lower-cased values (and the keyword text) that rules
    /// compare with; until then only the values as written exist.
    pub fn lower(&mut self) {
        if self.lowered {
            return;
        }
        self.lowered = true;
        for slot in &mut self.values[..self.used] {
            slot.2.clear();
            lower_into(&mut slot.2, &slot.1);
        }
        if self.with_keywords {
            self.keywords.clear();
            for (i, slot) in self.values[..self.used].iter().enumerate() {
                if i > 0 {
                    self.keywords.push(' ');
                }
                self.keywords.push_str(&slot.2);
            }
        }
    }

    /// The values of `field` as written.
    pub fn raw_values<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values[..self.used].iter().filter(move |(f, _, _)| f == field).map(|(_, v, _)| v.as_str())
    }

    /// The values of `field` the record gives, without the other forms
    /// rules also match (what a detection shows as matched).
    pub fn given_values<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.given(field).map(|(raw, _)| raw)
    }

    /// [`View::given_values`], each as written and lower-cased.
    pub fn given<'a>(&'a self, field: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.values[..self.used]
            .iter()
            .zip(&self.derived)
            .filter(move |((f, _, _), derived)| f == field && !**derived)
            .map(|((_, v, l), _)| (v.as_str(), l.as_str()))
    }

    /// Every value as written (what keyword needles are looked for in,
    /// without case).
    pub fn raw_all(&self) -> impl Iterator<Item = &str> {
        self.values[..self.used].iter().map(|(_, v, _)| v.as_str())
    }

    /// A view that fills only `fields` (and the keyword text only when
    /// `keywords`): what a hunt's rules read, so that a row costs only
    /// what they ask.
    pub fn only(fields: impl IntoIterator<Item = String>, keywords: bool) -> View {
        let only: HashSet<String> = fields.into_iter().collect();
        let web_wanted = WEB_FIELDS.map(|f| keywords || only.contains(f));
        View { only: Some(only), with_keywords: keywords, web_wanted, ..View::default() }
    }

    /// Pushes a value of the `i`-th web field, if the rules read it.
    fn push_web(&mut self, i: usize, value: &str) {
        if self.web_wanted[i] {
            self.store(WEB_FIELDS[i], value);
        }
    }

    /// Whether the rules read `field`.
    fn wants(&self, field: &str) -> bool {
        self.with_keywords || self.only.as_ref().is_none_or(|o| o.contains(field))
    }

    fn push(&mut self, field: &str, value: &str) {
        if self.wants(field) {
            self.store(field, value);
        }
    }

    /// Another form of a value already given, if the rules read `i`.
    fn push_web_form(&mut self, i: usize, value: &str) {
        if self.web_wanted[i] {
            self.store_form(WEB_FIELDS[i], value);
        }
    }

    /// Another form of a value already given, if the rules read `field`.
    fn push_form(&mut self, field: &str, value: &str) {
        if self.wants(field) {
            self.store_form(field, value);
        }
    }

    fn store_form(&mut self, field: &str, value: &str) {
        self.store(field, value);
        self.derived[self.used - 1] = true;
    }

    fn store(&mut self, field: &str, value: &str) {
        if self.used == self.values.len() {
            self.values.push(Default::default());
            self.derived.push(false);
        }
        self.derived[self.used] = false;
        let slot = &mut self.values[self.used];
        slot.0.clear();
        slot.0.push_str(field);
        slot.1.clear();
        slot.1.push_str(value);
        self.used += 1;
    }

    fn push_bytes(&mut self, field: &str, value: Option<&[u8]>) {
        if let Some(v) = logged(value) {
            self.push(field, &String::from_utf8_lossy(v));
        }
    }

    /// The values of `field` (lower-case name): as written, lower-cased
    /// (after [`View::lower`]).
    pub fn values<'a>(&'a self, field: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.values[..self.used]
            .iter()
            .filter(move |(f, _, _)| f == field)
            .map(|(_, v, l)| (v.as_str(), l.as_str()))
    }

    /// Every value, lower-cased, joined: what keyword searches look in
    /// (after [`View::lower`]).
    pub fn keywords(&self) -> &str {
        &self.keywords
    }

    /// Every (field, value) of the record, for the evidence of a hit.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values[..self.used].iter().map(|(f, v, _)| (f.as_str(), v.as_str()))
    }

    /// Every (field, value as written, value lower-cased) of the record:
    /// those it gives, or with `forms` the other forms rules also match
    /// (decoded, `path?query`) as well.
    pub fn all_values(&self, forms: bool) -> impl Iterator<Item = (&str, &str, &str)> {
        self.values[..self.used]
            .iter()
            .zip(&self.derived)
            .filter(move |(_, derived)| forms || !**derived)
            .map(|((f, v, l), _)| (f.as_str(), v.as_str(), l.as_str()))
    }

    /// A W3C access row.
    /// A W3C row, its client read as [`Request::forwarded_client`] reads it
    /// when no proxies are named.
    pub fn request(&mut self, r: &Request<'_>) {
        self.request_via(r, r.forwarded_client(None));
    }

    /// A W3C row whose client, behind a proxy, is `forwarded` (its `c-ip`
    /// then a form of the value).
    pub fn request_via<'b>(&mut self, r: &Request<'b>, forwarded: Option<std::net::IpAddr>) {
        fn text(v: Option<&[u8]>) -> Option<std::borrow::Cow<'_, str>> {
            logged(v).map(|v| match std::str::from_utf8(v) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => String::from_utf8_lossy(v),
            })
        }
        // Only the fields the rules read are made text (checked UTF-8): a
        // view for 404s reads three of them.
        let wanted = self.web_wanted;
        let uri = [W_CS_URI_STEM, W_CS_URI_QUERY, W_CS_URI, W_C_URI].iter().any(|&f| wanted[f]);
        let read = |field: usize, v: Option<&'b [u8]>| if wanted[field] { text(v) } else { None };
        let (method, agent) = (read(W_CS_METHOD, r.method), read(W_C_USERAGENT, r.user_agent));
        let (stem, query) = if uri { (text(r.uri_stem), text(r.uri_query)) } else { (None, None) };
        let (referer, host) = (read(W_CS_REFERER, r.referer), read(W_CS_HOST, r.host));
        let (user, cookie) = (read(W_CS_USERNAME, r.username), read(W_CS_COOKIE, r.cookie));
        let version = read(W_CS_VERSION, r.version);
        // Numbers and addresses are written only for rules that read them,
        // by hand (through the formatting machinery they showed in profiles
        // of a storm of 404s).
        use faultline_parser::value::{Addr, decimal};
        let number = |out: &mut String, field: usize, v: Option<u64>| {
            out.clear();
            let Some(v) = v.filter(|_| wanted[field]) else { return false };
            out.push_str(decimal(v, &mut [0; 20]));
            true
        };
        let address = |out: &mut String, field: usize, a: Option<Addr<'_>>| {
            out.clear();
            let Some(a) = a.filter(|_| wanted[field]) else { return false };
            a.with_text(|t| out.push_str(t));
            true
        };
        // Behind a proxy, the client is the one the row's X-Forwarded-For
        // names; the proxy's address stays a form of it.
        let forwarded = forwarded.filter(|_| wanted[W_C_IP]);
        let client = forwarded.map(|ip| Addr::Ip { ip, zone: None }).or(r.client_ip);
        let mut scratch = std::mem::take(&mut self.scratch);
        let have = [
            address(&mut scratch[0], W_C_IP, client),
            address(&mut scratch[1], W_S_IP, r.server_ip),
            number(&mut scratch[2], W_SC_STATUS, r.status.map(u64::from)),
            number(&mut scratch[3], W_SC_SUBSTATUS, r.substatus.map(u64::from)),
            number(&mut scratch[4], W_S_PORT, r.server_port.map(u64::from)),
            number(&mut scratch[5], W_SC_WIN32_STATUS, r.win32_status),
        ];
        let at = |i: usize| have[i].then(|| scratch[i].as_str());
        let row = WebRow {
            method: method.as_deref(),
            stem: stem.as_deref(),
            query: query.as_deref(),
            user_agent: agent.as_deref(),
            referer: referer.as_deref(),
            host: host.as_deref(),
            username: user.as_deref(),
            cookie: cookie.as_deref(),
            version: version.as_deref(),
            client_ip: at(0),
            server_ip: at(1),
            status: at(2),
            substatus: at(3),
            port: at(4),
            win32: at(5),
        };
        self.web(&row);
        self.scratch = scratch;
        if let (Some(_), Some(peer)) = (forwarded, r.client_ip) {
            self.push_web_form(W_C_IP, &peer.to_string());
        }
    }

    /// A row of IIS's FTP log: the fields it shares with a web row, its
    /// command as `cs-method` (without the session IIS 5 and 6 wrote
    /// before it), and the path the command acted on (`x-fullpath`: the
    /// argument is what the client sent, `help.aspx` after a `CWD`) as a
    /// form of `cs-uri-stem`.
    pub fn ftp_request(&mut self, r: &Request<'_>, command: &[u8]) {
        self.request_via(&Request { method: Some(command), ..*r }, None);
        self.kind = Kind::Ftp;
        if let Some(full) = r.custom.get("x-fullpath") {
            let full = String::from_utf8_lossy(full);
            self.push_web_form(W_CS_URI_STEM, &full);
            self.push_web(W_X_FULLPATH, &full);
        }
        if let Some(session) = r.ftp_session() {
            self.push_web(W_X_SESSION, &String::from_utf8_lossy(session));
        }
    }

    /// A row of IIS's FTP log from its fields.
    pub fn ftp(&mut self, r: &WebRow<'_>) {
        self.web(r);
        self.kind = Kind::Ftp;
    }

    /// A web access from its fields.
    pub fn web(&mut self, r: &WebRow<'_>) {
        self.start(Kind::Web);
        let put = |view: &mut View, field: usize, v: Option<&str>| {
            if let Some(v) = v {
                view.push_web(field, v);
            }
        };
        put(self, W_CS_METHOD, r.method);
        put(self, W_CS_URI_STEM, r.stem);
        put(self, W_CS_URI_QUERY, r.query);
        let combined = [W_CS_URI_QUERY, W_CS_URI, W_C_URI, W_CS_URI_STEM].iter().any(|&f| self.web_wanted[f]);
        if let Some(stem) = r.stem.filter(|_| combined) {
            let mut whole = std::mem::take(&mut self.whole);
            whole.clear();
            whole.push_str(stem);
            if let Some(q) = r.query {
                whole.push('?');
                whole.push_str(q);
            }
            // Rules written for logs that keep path and query together.
            self.push_web_form(W_CS_URI_QUERY, &whole);
            self.push_web(W_CS_URI, &whole);
            self.push_web(W_C_URI, &whole);
            if let Some(decoded) = decoded_uri(&whole) {
                self.push_web_form(W_CS_URI_QUERY, &decoded);
                self.push_web_form(W_CS_URI, &decoded);
                let stem_decoded = percent_decoded(stem);
                if stem_decoded != stem {
                    self.push_web_form(W_CS_URI_STEM, &stem_decoded);
                }
            }
            self.whole = whole;
        }
        if let Some(ua) = r.user_agent.filter(|_| self.web_wanted[W_C_USERAGENT]) {
            self.push_web(W_C_USERAGENT, ua);
            if ua.contains('+') {
                self.push_web_form(W_C_USERAGENT, &ua.replace('+', " "));
            }
        }
        put(self, W_CS_REFERER, r.referer);
        put(self, W_CS_HOST, r.host);
        put(self, W_CS_USERNAME, r.username);
        put(self, W_CS_COOKIE, r.cookie);
        put(self, W_CS_VERSION, r.version);
        put(self, W_C_IP, r.client_ip);
        put(self, W_S_IP, r.server_ip);
        put(self, W_SC_STATUS, r.status);
        put(self, W_SC_SUBSTATUS, r.substatus);
        put(self, W_SC_WIN32_STATUS, r.win32);
        put(self, W_S_PORT, r.port);
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
            self.push_form("cs-uri-query", &uri);
            self.push("cs-uri", &uri);
            if let Some(decoded) = decoded_uri(&uri) {
                self.push_form("cs-uri-query", &decoded);
            }
        }
        if let Some(ip) = r.client_ip {
            self.push("c-ip", &ip.to_string());
        }
        if let Some(ip) = r.server_ip {
            self.push("s-ip", &ip.to_string());
        }
        if let Some(port) = r.server_port {
            self.push("s-port", &port.to_string());
        }
        if let Some(s) = r.status {
            self.push("sc-status", &s.to_string());
        }
        self.push_bytes("cs-version", r.version);
        self.push_bytes("s-reason", logged(Some(r.reason.as_bytes())));
    }

    /// A Windows event.
    pub fn event(&mut self, e: &WinEvent) {
        let channel = e.channel.as_deref().unwrap_or_default().to_ascii_lowercase();
        self.start(Kind::Event { channel, id: e.event_id });
        self.push("eventid", faultline_parser::value::decimal(e.event_id.into(), &mut [0; 20]));
        // EventLog 104 names the log it cleared, and is always written to
        // System: rules read its Channel as the cleared log.
        let names_channel = e.event_id == 104
            && e.provider.eq_ignore_ascii_case("Microsoft-Windows-Eventlog")
            && e.data.iter().any(|d| d.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("channel")));
        if let Some(c) = e.channel.as_ref().filter(|_| !names_channel) {
            self.push("channel", c);
        }
        self.push("provider_name", &e.provider);
        if let Some(c) = &e.computer {
            self.push("computer", c);
        }
        let security_process = e.event_id == 4688 && e.channel.as_deref() == Some("Security");
        // SQL Server's 18456 gives the login, the reason and the client
        // unnamed, in that order: named here so rules can group by them.
        let sql_login =
            e.event_id == 18456 && e.provider.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("mssql"));
        if sql_login {
            let said = faultline_parser::winevent::sql_login_failed(e);
            for (field, value) in [("login", said.login), ("reason", said.reason), ("client", said.client)] {
                if let Some(v) = value {
                    self.push(field, v);
                }
            }
        }
        // ASP.NET's web events give the request unnamed, and where it
        // lies moves between versions: named here by form (the view state
        // a client sent that failed verification, 1316, grouped by client).
        if e.family() == faultline_parser::winevent::Family::AspNet {
            let web = faultline_parser::winevent::WebEvent::of(e);
            for (field, value) in
                [("request_url", web.url), ("request_path", web.path), ("client", web.client)]
            {
                if let Some(v) = value {
                    self.push(field, v);
                }
            }
        }
        for d in &e.data {
            let Some(name) = &d.name else {
                if !d.value.is_empty() {
                    self.push("data", &d.value);
                }
                continue;
            };
            let mut lower = std::mem::take(&mut self.field_name);
            lower.clear();
            lower.push_str(name);
            lower.make_ascii_lowercase();
            self.push(&lower, &d.value);
            if security_process
                && let Some((_, sysmon)) =
                    SECURITY_PROCESS_NAMES.iter().find(|(security, _)| *security == lower)
            {
                self.push(sysmon, &d.value);
            }
            self.field_name = lower;
        }
    }
}

/// The URI as the application reads it, when that differs from `whole`
/// (`path?query` as logged): `%XX` escapes decoded, and in the query `+`
/// read as the space a form encodes, so `id=1+union+select` is matched as
/// `id=1 union select` (browsers and tools send a query's spaces as `+`).
pub(crate) fn decoded_uri(whole: &str) -> Option<String> {
    let (stem, query) = match whole.split_once('?') {
        Some((stem, query)) => (stem, Some(query)),
        None => (whole, None),
    };
    if !whole.contains('%') && !query.is_some_and(|q| q.contains('+')) {
        return None;
    }
    let mut out = percent_decoded(stem).into_owned();
    if let Some(query) = query {
        out.push('?');
        out.push_str(&percent_decoded(&query.replace('+', " ")));
    }
    (out != whole).then_some(out)
}
