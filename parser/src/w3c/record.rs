//! Normalized records of the W3C-framed logs. They borrow from the source
//! bytes: the parser allocates nothing per row, and a consumer keeps (and
//! interns) only what it needs.

use std::net::IpAddr;

use crate::time::Timestamp;
use crate::value::Addr;
use crate::w3c::layout::Layout;
use crate::w3c::reason::Reason;

/// Where a record is in its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Origin {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's first byte.
    pub offset: u64,
}

/// Custom (non-standard) columns of one row, by column position.
#[derive(Clone, Copy, Debug)]
pub struct CustomFields<'a> {
    layout: Option<&'a Layout>,
    values: &'a [(usize, &'a [u8])],
}

impl<'a> CustomFields<'a> {
    pub(crate) fn new(layout: &'a Layout, values: &'a [(usize, &'a [u8])]) -> Self {
        CustomFields { layout: Some(layout), values }
    }

    /// No custom fields (formats without a `#Fields` layout).
    pub fn none() -> Self {
        CustomFields { layout: None, values: &[] }
    }

    /// `(name, value)` pairs in column order; `-` values are included as is.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let layout = self.layout;
        self.values.iter().filter_map(move |&(col, v)| layout.map(|l| (l.columns[col].name(), v)))
    }

    /// The value of a custom field by name (ASCII case-insensitive); `None`
    /// when the column is absent or holds the empty marker `-`.
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).and_then(|(_, v)| crate::value::present(v))
    }

    /// Number of custom values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// How a record's timestamp was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TimeBasis {
    /// From UTC `date` and `time` columns (the IIS default).
    #[default]
    Utc,
    /// The date came from the block's `#Date` directive.
    DirectiveDate,
    /// Local server time (IIS native, Advanced Logging `*-local`), taken as
    /// UTC because the server's zone is not in the file.
    LocalAssumedUtc,
    /// Local time converted with the offset written in the row (NCSA).
    LocalWithOffset,
    /// The row has a date but no time of day.
    DateOnly,
}

/// What a file's times cannot be trusted for, gathered from its rows' bases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeDoubts {
    /// Some row was timed by the server's local clock, read as UTC.
    pub local_time: bool,
    /// Some row had a date and no time of day: placed at midnight.
    pub date_only: bool,
}

impl TimeDoubts {
    /// Counts a row's basis.
    pub fn note(&mut self, basis: TimeBasis) {
        match basis {
            TimeBasis::LocalAssumedUtc => self.local_time = true,
            TimeBasis::DateOnly => self.date_only = true,
            TimeBasis::Utc | TimeBasis::DirectiveDate | TimeBasis::LocalWithOffset => {}
        }
    }

    /// Both files' doubts, or both parts of one file's.
    pub fn merge(&mut self, other: Self) {
        self.local_time |= other.local_time;
        self.date_only |= other.date_only;
    }

    /// Nothing to doubt.
    pub fn is_empty(self) -> bool {
        self == Self::default()
    }
}

/// One row of a W3C access log (also the IIS native and NCSA formats).
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// When the request finished (the entry is written at the end), UTC.
    pub time: Timestamp,
    /// How `time` was obtained.
    pub time_basis: TimeBasis,
    /// Position in the source.
    pub origin: Origin,
    /// `s-sitename`: the service instance (`W3SVC1`) or the site name.
    pub site_name: Option<&'a [u8]>,
    /// `s-computername`.
    pub computer_name: Option<&'a [u8]>,
    /// `s-ip`.
    pub server_ip: Option<Addr<'a>>,
    /// `cs-method`.
    pub method: Option<&'a [u8]>,
    /// `cs-uri-stem`, as logged (`+` may stand for a space).
    pub uri_stem: Option<&'a [u8]>,
    /// `cs-uri-query`, without the `?`.
    pub uri_query: Option<&'a [u8]>,
    /// `s-port`.
    pub server_port: Option<u16>,
    /// `cs-username`; `None` for anonymous.
    pub username: Option<&'a [u8]>,
    /// `c-ip`: the TCP peer (a proxy or load balancer if there is one).
    pub client_ip: Option<Addr<'a>>,
    /// `cs-version`.
    pub version: Option<&'a [u8]>,
    /// `cs(User-Agent)`.
    pub user_agent: Option<&'a [u8]>,
    /// `cs(Cookie)`.
    pub cookie: Option<&'a [u8]>,
    /// `cs(Referer)`.
    pub referer: Option<&'a [u8]>,
    /// `cs-host`.
    pub host: Option<&'a [u8]>,
    /// `sc-status`.
    pub status: Option<u16>,
    /// `sc-substatus`.
    pub substatus: Option<u32>,
    /// `sc-win32-status` (decimal; values above `u32::MAX` come from damaged
    /// logs and are flagged when parsed).
    pub win32_status: Option<u64>,
    /// `sc-bytes`.
    pub bytes_sent: Option<u64>,
    /// `cs-bytes`.
    pub bytes_received: Option<u64>,
    /// `time-taken` in milliseconds.
    pub time_taken_ms: Option<u64>,
    /// Custom fields (`X-Forwarded-For`, `x-session`, ...).
    pub custom: CustomFields<'a>,
}

impl Request<'_> {
    /// A request with only its time and position; every field absent.
    pub fn blank(time: Timestamp, time_basis: TimeBasis, origin: Origin) -> Request<'static> {
        Request {
            time,
            time_basis,
            origin,
            site_name: None,
            computer_name: None,
            server_ip: None,
            method: None,
            uri_stem: None,
            uri_query: None,
            server_port: None,
            username: None,
            client_ip: None,
            version: None,
            user_agent: None,
            cookie: None,
            referer: None,
            host: None,
            status: None,
            substatus: None,
            win32_status: None,
            bytes_sent: None,
            bytes_received: None,
            time_taken_ms: None,
            custom: CustomFields::none(),
        }
    }

    /// The session IIS 5 and 6 wrote before an FTP command (`3` of
    /// `[3]USER`), and the command.
    fn session_prefix(&self) -> Option<(&[u8], &[u8])> {
        let rest = self.method?.strip_prefix(b"[")?;
        let end = rest.iter().position(|&b| b == b']')?;
        let digits = &rest[..end];
        (end > 0 && digits.iter().all(u8::is_ascii_digit) && end + 1 < rest.len())
            .then(|| (digits, &rest[end + 1..]))
    }

    /// The FTP session a row of IIS's FTP log belongs to (its control
    /// connection): `x-session` (IIS 7 and later), else the number IIS 5
    /// and 6 wrote before the command.
    pub fn ftp_session(&self) -> Option<&[u8]> {
        self.custom.get("x-session").or_else(|| self.session_prefix().map(|(session, _)| session))
    }

    /// The FTP command the row records, when it is a row of IIS's FTP
    /// service rather than an HTTP request: the service writes the same W3C
    /// format (into `FTPSVC<n>` folders; IIS 5 and 6 into `MSFTPSVC<n>`),
    /// with FTP replies in `sc-status` (530: not logged in; 550: file
    /// unavailable), which read as HTTP would be server errors. A row is
    /// FTP when its log has the fields only FTP logs have (`x-session`,
    /// `x-fullpath`: whatever its command, a client may send `GET` to port
    /// 21), when its command comes after its session as IIS 4 to 6 wrote
    /// it (`[3]USER`: a name HTTP.sys refuses as a method), or when an FTP
    /// command was sent to an FTP port (21, 990) and the row names no HTTP
    /// version; never by its command alone (a web log's method may be any
    /// word a client sends). The command comes without its session.
    pub fn ftp_command(&self) -> Option<&[u8]> {
        let method = self.method?;
        if let Some((_, command)) = self.session_prefix() {
            return Some(command);
        }
        let ftp_field = |name: &str| FTP_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name));
        if self.custom.iter().any(|(name, _)| ftp_field(name)) {
            return Some(method);
        }
        // Asked of every row: each test above and this one fail fast on a
        // web row (its first byte, its few custom columns, its port).
        if !matches!(self.server_port, Some(21 | 990)) {
            return None;
        }
        let http = self.version.is_some_and(|v| v.len() >= 5 && v[..5].eq_ignore_ascii_case(b"HTTP/"));
        // IIS writes some commands as the client sent them (`opts`).
        let command = || FTP_COMMANDS.iter().any(|c| c.eq_ignore_ascii_case(method));
        (!http && command()).then_some(method)
    }

    /// When the request started: the end time minus `time-taken`.
    pub fn start(&self) -> Timestamp {
        let taken = self.time_taken_ms.unwrap_or(0).min(i64::MAX as u64 / 1_000_000) as i64;
        Timestamp(self.time.0.saturating_sub(taken * 1_000_000))
    }

    /// The client a request behind a proxy came from, when the row says:
    /// its `c-ip` is a proxy's and the row logs the `X-Forwarded-For`
    /// header (an IIS custom field). Each proxy appends the address it took
    /// the request from, and everything to the left of that is the
    /// client's own to forge, so only what proxies appended is believed.
    /// With no proxies named (`trusted` `None`), a private, loopback,
    /// link-local or carrier-NAT `c-ip` is taken for one proxy and the
    /// right-most entry is the client. With proxies named, `c-ip` must be
    /// one of them, and entries are read from the right past the named
    /// proxies: the first other address is the client.
    pub fn forwarded_client(&self, trusted: Option<&dyn Fn(IpAddr) -> bool>) -> Option<IpAddr> {
        let peer = self.client_ip.as_ref()?.ip()?;
        forwarded_client(peer, self.forwarded_for()?, trusted)
    }

    /// The `X-Forwarded-For` header, where the row logs it.
    pub fn forwarded_for(&self) -> Option<&[u8]> {
        FORWARDED_FOR.iter().find_map(|name| self.custom.get(name))
    }
}

/// The client a request from `peer` came from, read from its
/// `X-Forwarded-For` value `header` as [`Request::forwarded_client`] says:
/// also what a traced request's headers give.
pub fn forwarded_client(
    peer: IpAddr,
    header: &[u8],
    trusted: Option<&dyn Fn(IpAddr) -> bool>,
) -> Option<IpAddr> {
    let is_proxy = |ip: IpAddr| trusted.map_or_else(|| is_internal(ip), |f| f(ip));
    if !is_proxy(peer) {
        return None;
    }
    let mut chain = header.rsplit(|&b| b == b',').map(forwarded_address);
    match trusted {
        None => chain.next().flatten(),
        // An entry that is no address ends the walk: what is left of it
        // cannot be placed.
        Some(_) => chain.map_while(|ip| ip).find(|ip| !is_proxy(*ip)),
    }
}

/// The fields IIS's FTP service logs and its web service does not.
const FTP_FIELDS: [&str; 2] = ["x-session", "x-fullpath"];

/// The commands IIS's FTP service logs in `cs-method`: RFC 959's and its
/// extensions', and the service's own records of a connection's channels.
const FTP_COMMANDS: &[&[u8]] = &[
    b"ABOR",
    b"ACCT",
    b"ADAT",
    b"ALLO",
    b"APPE",
    b"AUTH",
    b"CCC",
    b"CDUP",
    b"CLNT",
    b"CWD",
    b"DELE",
    b"ENC",
    b"EPRT",
    b"EPSV",
    b"FEAT",
    b"HELP",
    b"HOST",
    b"LANG",
    b"LIST",
    b"MDTM",
    b"MIC",
    b"MFMT",
    b"MKD",
    b"MLSD",
    b"MLST",
    b"MODE",
    b"NLST",
    b"NOOP",
    b"OPTS",
    b"PASS",
    b"PASV",
    b"PBSZ",
    b"PORT",
    b"PROT",
    b"PWD",
    b"QUIT",
    b"REIN",
    b"REST",
    b"RETR",
    b"RMD",
    b"RNFR",
    b"RNTO",
    b"SITE",
    b"SIZE",
    b"SMNT",
    b"STAT",
    b"STOR",
    b"STOU",
    b"STRU",
    b"SYST",
    b"TYPE",
    b"USER",
    b"XCUP",
    b"XCWD",
    b"XMKD",
    b"XPWD",
    b"XRMD",
    b"ControlChannelOpened",
    b"ControlChannelClosed",
    b"DataChannelOpened",
    b"DataChannelClosed",
];

/// The names IIS custom fields for the forwarding header are given.
const FORWARDED_FOR: [&str; 2] = ["X-Forwarded-For", "cs(X-Forwarded-For)"];

/// Whether a value is an `X-Forwarded-For` list: addresses, comma-separated.
pub(crate) fn forwarded_list(value: &[u8]) -> bool {
    value.split(|&b| b == b',').all(|entry| forwarded_address(entry).is_some())
}

/// Whether every address of an `X-Forwarded-For` list is internal.
pub(crate) fn forwarded_list_internal(value: &[u8]) -> bool {
    value.split(|&b| b == b',').all(|entry| forwarded_address(entry).is_some_and(is_internal))
}

/// One entry of an `X-Forwarded-For` value as IIS logs it (spaces as `+`):
/// an address, perhaps with a port (`203.0.113.9:51234`, `[2001:db8::1]:443`).
fn forwarded_address(entry: &[u8]) -> Option<IpAddr> {
    let text =
        std::str::from_utf8(entry).ok()?.trim_matches(|c: char| c == '+' || c == '"' || c.is_whitespace());
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(v6) = text.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Private, loopback, link-local or shared (carrier NAT) space: where a
/// proxy in front of IIS sits, and no internet client is seen from.
pub(crate) fn is_internal(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || v4.is_loopback() || v4.is_link_local() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// One row of an HTTP.sys error log.
#[derive(Clone, Copy, Debug)]
pub struct HttpError<'a> {
    /// When HTTP.sys gave up on the connection or request, UTC.
    pub time: Timestamp,
    /// How `time` was obtained.
    pub time_basis: TimeBasis,
    /// Position in the source.
    pub origin: Origin,
    /// `c-ip`.
    pub client_ip: Option<Addr<'a>>,
    /// `c-port`.
    pub client_port: Option<u16>,
    /// `s-ip`.
    pub server_ip: Option<Addr<'a>>,
    /// `s-port`.
    pub server_port: Option<u16>,
    /// `cs-version`.
    pub version: Option<&'a [u8]>,
    /// `cs-method`.
    pub method: Option<&'a [u8]>,
    /// `cs-uri`: path and query joined with `?`.
    pub uri: Option<&'a [u8]>,
    /// `streamid` (HTTP/2 and HTTP/3).
    pub stream_id: Option<u64>,
    /// `streamid_ex`.
    pub stream_id_ex: Option<&'a [u8]>,
    /// `sc-status`; `None` when HTTP.sys sent nothing (timeouts).
    pub status: Option<u16>,
    /// `s-siteid`.
    pub site_id: Option<u32>,
    /// `s-reason`.
    pub reason: Reason<'a>,
    /// `s-queuename`: the application pool.
    pub queue_name: Option<&'a [u8]>,
    /// `transport` (`TCP` or `QUIC`).
    pub transport: Option<&'a [u8]>,
    /// `fault-code`.
    pub fault_code: Option<&'a [u8]>,
    /// `extended-fault-code`.
    pub extended_fault_code: Option<&'a [u8]>,
    /// Any other columns.
    pub custom: CustomFields<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(method: &'a [u8], port: Option<u16>, version: Option<&'a [u8]>) -> Request<'a> {
        let mut r = Request::blank(Timestamp(0), TimeBasis::Utc, Origin::default());
        r.method = Some(method);
        r.server_port = port;
        r.version = version;
        r
    }

    /// A row of an FTP log is FTP whatever its command; a row after its
    /// session (IIS 4 to 6) too; otherwise an FTP command to an FTP port
    /// with no HTTP version. A web log's `SITE` or `USER` method is no FTP
    /// command, nor is WebDAV's.
    #[test]
    fn an_ftp_row_is_told_by_its_log_its_session_or_its_command_and_port() {
        let layout = Layout::parse(b"date time cs-method cs-uri-stem sc-status x-session x-fullpath", false);
        let values = [(5, &b"3b4c0a2e-8d1f-4e6a-9c2b-7f0e1d2c3b4a"[..]), (6, &b"-"[..])];
        let mut ftp = row(b"GET", Some(21), None);
        ftp.custom = CustomFields::new(&layout, &values);
        assert_eq!(ftp.ftp_command(), Some(&b"GET"[..]), "a probe sent to the FTP service");
        assert_eq!(row(b"[12]created", None, None).ftp_command(), Some(&b"created"[..]));
        assert_eq!(row(b"PASS", Some(21), None).ftp_command(), Some(&b"PASS"[..]));
        assert_eq!(row(b"opts", Some(990), None).ftp_command(), Some(&b"opts"[..]));
        assert_eq!(
            row(b"ControlChannelOpened", Some(21), None).ftp_command(),
            Some(&b"ControlChannelOpened"[..])
        );
        for (method, port) in
            [(&b"SITE"[..], Some(443)), (b"USER", None), (b"PROPFIND", Some(21)), (b"GET", Some(21))]
        {
            assert_eq!(row(method, port, None).ftp_command(), None, "{}", String::from_utf8_lossy(method));
        }
        for odd in [&b"[]USER"[..], b"[x]USER", b"[3]"] {
            assert_eq!(row(odd, Some(21), None).ftp_command(), None, "{}", String::from_utf8_lossy(odd));
        }
        assert_eq!(row(b"USER", Some(21), Some(b"HTTP/1.1")).ftp_command(), None);
    }
}
