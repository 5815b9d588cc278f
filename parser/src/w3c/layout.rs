//! `#Fields` layouts: which column holds which field.

use std::sync::Arc;

/// A field IIS or HTTP.sys knows by name. Anything else is kept by name as a
/// custom field (enhanced logging, Advanced Logging, FTP `x-` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Field {
    Date,
    Time,
    DateLocal,
    TimeLocal,
    SiteName,
    ComputerName,
    ServerIp,
    Method,
    UriStem,
    UriQuery,
    ServerPort,
    Username,
    ClientIp,
    Version,
    UserAgent,
    Cookie,
    Referer,
    Host,
    Status,
    Substatus,
    Win32Status,
    BytesSent,
    BytesReceived,
    TimeTaken,
    // HTTPERR
    ClientPort,
    Uri,
    StreamId,
    StreamIdEx,
    SiteId,
    Reason,
    QueueName,
    Transport,
    FaultCode,
    ExtendedFaultCode,
}

impl Field {
    /// Maps a `#Fields` identifier to a known field (case-insensitive, as the
    /// Advanced Logging module and hand-made logs vary the case).
    pub fn from_name(name: &[u8]) -> Option<Field> {
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_slice() {
            b"date" => Field::Date,
            b"time" => Field::Time,
            b"date-local" => Field::DateLocal,
            b"time-local" => Field::TimeLocal,
            b"s-sitename" => Field::SiteName,
            b"s-computername" => Field::ComputerName,
            b"s-ip" => Field::ServerIp,
            b"cs-method" => Field::Method,
            b"cs-uri-stem" => Field::UriStem,
            b"cs-uri-query" => Field::UriQuery,
            b"s-port" => Field::ServerPort,
            b"cs-username" => Field::Username,
            b"c-ip" => Field::ClientIp,
            b"cs-version" => Field::Version,
            b"cs(user-agent)" => Field::UserAgent,
            b"cs(cookie)" => Field::Cookie,
            b"cs(referer)" | b"cs(referrer)" => Field::Referer,
            b"cs-host" | b"cs(host)" => Field::Host,
            b"sc-status" => Field::Status,
            b"sc-substatus" => Field::Substatus,
            b"sc-win32-status" => Field::Win32Status,
            b"sc-bytes" => Field::BytesSent,
            b"cs-bytes" => Field::BytesReceived,
            b"time-taken" | b"timetakenms" => Field::TimeTaken,
            b"c-port" => Field::ClientPort,
            b"cs-uri" => Field::Uri,
            b"streamid" => Field::StreamId,
            b"streamid_ex" => Field::StreamIdEx,
            b"s-siteid" => Field::SiteId,
            b"s-reason" => Field::Reason,
            b"s-queuename" => Field::QueueName,
            b"transport" => Field::Transport,
            b"fault-code" => Field::FaultCode,
            b"extended-fault-code" => Field::ExtendedFaultCode,
            _ => return None,
        })
    }

    /// The identifier IIS writes for this field.
    pub fn name(self) -> &'static str {
        match self {
            Field::Date => "date",
            Field::Time => "time",
            Field::DateLocal => "date-local",
            Field::TimeLocal => "time-local",
            Field::SiteName => "s-sitename",
            Field::ComputerName => "s-computername",
            Field::ServerIp => "s-ip",
            Field::Method => "cs-method",
            Field::UriStem => "cs-uri-stem",
            Field::UriQuery => "cs-uri-query",
            Field::ServerPort => "s-port",
            Field::Username => "cs-username",
            Field::ClientIp => "c-ip",
            Field::Version => "cs-version",
            Field::UserAgent => "cs(User-Agent)",
            Field::Cookie => "cs(Cookie)",
            Field::Referer => "cs(Referer)",
            Field::Host => "cs-host",
            Field::Status => "sc-status",
            Field::Substatus => "sc-substatus",
            Field::Win32Status => "sc-win32-status",
            Field::BytesSent => "sc-bytes",
            Field::BytesReceived => "cs-bytes",
            Field::TimeTaken => "time-taken",
            Field::ClientPort => "c-port",
            Field::Uri => "cs-uri",
            Field::StreamId => "streamid",
            Field::StreamIdEx => "streamid_ex",
            Field::SiteId => "s-siteid",
            Field::Reason => "s-reason",
            Field::QueueName => "s-queuename",
            Field::Transport => "transport",
            Field::FaultCode => "fault-code",
            Field::ExtendedFaultCode => "extended-fault-code",
        }
    }

    /// Free-text fields: the only ones that can absorb stray spaces when a row
    /// has more tokens than its layout, in the order we try them.
    fn free_text_rank(self) -> Option<u8> {
        Some(match self {
            Field::UriQuery => 0,
            Field::Uri => 1,
            Field::UriStem => 2,
            Field::UserAgent => 3,
            Field::Referer => 4,
            Field::Cookie => 5,
            Field::Username => 6,
            Field::Method => 7,
            _ => return None,
        })
    }
}

/// What one column holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// A standard field.
    Known(Field),
    /// A custom or unknown field, kept by the name in `#Fields`.
    Custom(Box<str>),
}

impl Column {
    /// The name as it would appear in `#Fields`.
    pub fn name(&self) -> &str {
        match self {
            Column::Known(f) => f.name(),
            Column::Custom(n) => n,
        }
    }
}

/// The column layout of the rows after one `#Fields` directive.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Values may be double-quoted and contain spaces (IIS Advanced Logging).
    pub quoted: bool,
    /// Column positions of free-text fields, best candidate first.
    free_text: Vec<usize>,
}

/// A shared, immutable layout.
pub type LayoutRef = Arc<Layout>;

impl Layout {
    /// Builds a layout from column names.
    pub fn new(columns: Vec<Column>, quoted: bool) -> Self {
        let mut free: Vec<(u8, usize)> = columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Column::Known(f) => f.free_text_rank().map(|r| (r, i)),
                Column::Custom(_) => None,
            })
            .collect();
        free.sort_unstable();
        let mut free_text: Vec<usize> = free.into_iter().map(|(_, i)| i).collect();
        // Custom fields (X-Forwarded-For and the like) come last as absorbers.
        free_text.extend(
            columns.iter().enumerate().filter(|(_, c)| matches!(c, Column::Custom(_))).map(|(i, _)| i),
        );
        Layout { columns, quoted, free_text }
    }

    /// Parses the value of a `#Fields:` directive (without the `#Fields:` part).
    pub fn parse(value: &[u8], quoted: bool) -> Self {
        // Producers append comments (`// ...`) or trailing spaces; stop there.
        let value = match memchr::memmem::find(value, b"//") {
            Some(p) => &value[..p],
            None => value,
        };
        let columns = value
            .split(|b| b.is_ascii_whitespace())
            .filter(|t| !t.is_empty())
            .map(|t| match Field::from_name(t) {
                Some(f) => Column::Known(f),
                None => Column::Custom(String::from_utf8_lossy(t).into()),
            })
            .collect();
        Layout::new(columns, quoted)
    }

    /// Builds a layout from standard field names; used for the built-in
    /// defaults.
    pub fn from_fields(fields: &[Field]) -> Self {
        Layout::new(fields.iter().map(|f| Column::Known(*f)).collect(), false)
    }

    /// Whether the layout has this field.
    pub fn has(&self, field: Field) -> bool {
        self.columns.contains(&Column::Known(field))
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether the layout has no columns (a `#Fields:` line with nothing after it).
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Whether this is an HTTP.sys error-log layout.
    pub fn is_httperr(&self) -> bool {
        self.has(Field::Reason)
    }

    /// Whether rows are timed only by the server's local clock
    /// (`time-local` without `time`).
    pub fn local_time_only(&self) -> bool {
        self.has(Field::TimeLocal) && !self.has(Field::Time)
    }

    /// Whether rows carry their own date (otherwise it comes from `#Date`).
    pub fn has_date(&self) -> bool {
        self.has(Field::Date) || self.has(Field::DateLocal)
    }

    /// Whether rows start with a date and a time, as IIS writes them: what
    /// tells where a row written on after a cut one starts.
    pub fn starts_dated(&self) -> bool {
        matches!(self.columns.first(), Some(Column::Known(Field::Date)))
            && matches!(self.columns.get(1), Some(Column::Known(Field::Time)))
    }

    /// Free-text column positions, best absorber first.
    pub fn free_text_columns(&self) -> &[usize] {
        &self.free_text
    }

    /// Every name the layout lists again, with the column of its first
    /// listing and of this one (from 1).
    pub fn repeated(&self) -> Vec<(String, usize, usize)> {
        let mut seen = std::collections::HashMap::new();
        let mut out = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            let name = c.name().to_ascii_lowercase();
            match seen.get(&name) {
                Some(&first) => out.push((c.name().to_string(), first + 1, i + 1)),
                None => {
                    seen.insert(name, i);
                }
            }
        }
        out
    }

    /// The `#Fields` text of this layout.
    pub fn describe(&self) -> String {
        self.columns.iter().map(Column::name).collect::<Vec<_>>().join(" ")
    }
}

/// Built-in layouts for rows that come before any `#Fields` directive.
pub mod defaults {
    use super::Field::{self, *};

    /// IIS 8+ default selection.
    pub const IIS_DEFAULT: &[Field] = &[
        Date,
        Time,
        ServerIp,
        Method,
        UriStem,
        UriQuery,
        ServerPort,
        Username,
        ClientIp,
        UserAgent,
        Referer,
        Status,
        Substatus,
        Win32Status,
        TimeTaken,
    ];
    /// IIS 8+ default selection plus `sc-bytes cs-bytes` (Windows Server 2019+
    /// after the February 2026 update).
    pub const IIS_DEFAULT_BYTES: &[Field] = &[
        Date,
        Time,
        ServerIp,
        Method,
        UriStem,
        UriQuery,
        ServerPort,
        Username,
        ClientIp,
        UserAgent,
        Referer,
        Status,
        Substatus,
        Win32Status,
        BytesSent,
        BytesReceived,
        TimeTaken,
    ];
    /// Every standard field, in the fixed order IIS writes them.
    pub const IIS_FULL: &[Field] = &[
        Date,
        Time,
        SiteName,
        ComputerName,
        ServerIp,
        Method,
        UriStem,
        UriQuery,
        ServerPort,
        Username,
        ClientIp,
        Version,
        UserAgent,
        Cookie,
        Referer,
        Host,
        Status,
        Substatus,
        Win32Status,
        BytesSent,
        BytesReceived,
        TimeTaken,
    ];
    /// HTTPERR through Windows Server 2012 R2.
    pub const HTTPERR_CLASSIC: &[Field] = &[
        Date, Time, ClientIp, ClientPort, ServerIp, ServerPort, Version, Method, Uri, Status, SiteId, Reason,
        QueueName,
    ];
    /// HTTPERR with the classic fields and a trailing transport.
    pub const HTTPERR_CLASSIC_TRANSPORT: &[Field] = &[
        Date, Time, ClientIp, ClientPort, ServerIp, ServerPort, Version, Method, Uri, Status, SiteId, Reason,
        QueueName, Transport,
    ];
    /// HTTPERR on Windows Server 2016 / Windows 10 (HTTP/2).
    pub const HTTPERR_STREAMID: &[Field] = &[
        Date, Time, ClientIp, ClientPort, ServerIp, ServerPort, Version, Method, Uri, StreamId, Status,
        SiteId, Reason, QueueName,
    ];
    /// HTTPERR on Windows Server 2022 (HTTP/3).
    pub const HTTPERR_2022: &[Field] = &[
        Date, Time, ClientIp, ClientPort, ServerIp, ServerPort, Version, Method, Uri, StreamId, StreamIdEx,
        Status, SiteId, Reason, QueueName, Transport,
    ];
    /// HTTPERR on the newest builds, with fault codes.
    pub const HTTPERR_2025: &[Field] = &[
        Date,
        Time,
        ClientIp,
        ClientPort,
        ServerIp,
        ServerPort,
        Version,
        Method,
        Uri,
        StreamId,
        StreamIdEx,
        Status,
        SiteId,
        Reason,
        QueueName,
        Transport,
        FaultCode,
        ExtendedFaultCode,
    ];

    /// Candidate access-log layouts for header-less files, most likely first.
    pub const W3C_CANDIDATES: &[&[Field]] = &[IIS_DEFAULT, IIS_FULL, IIS_DEFAULT_BYTES];
    /// Candidate HTTPERR layouts for header-less files, most likely first.
    pub const HTTPERR_CANDIDATES: &[&[Field]] =
        &[HTTPERR_CLASSIC, HTTPERR_STREAMID, HTTPERR_CLASSIC_TRANSPORT, HTTPERR_2022, HTTPERR_2025];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_with_comments_custom_names_and_trailing_space() {
        let l = Layout::parse(b"date time cs(User-Agent) X-Forwarded-For x-session  // comment", false);
        assert_eq!(l.len(), 5);
        assert_eq!(l.columns[2], Column::Known(Field::UserAgent));
        assert_eq!(l.columns[3], Column::Custom("X-Forwarded-For".into()));
        assert_eq!(l.describe(), "date time cs(User-Agent) X-Forwarded-For x-session");
        assert_eq!(l.free_text_columns(), &[2, 3, 4]);
    }

    #[test]
    fn httperr_layout_is_recognised() {
        assert!(Layout::from_fields(defaults::HTTPERR_CLASSIC).is_httperr());
        assert!(!Layout::from_fields(defaults::IIS_FULL).is_httperr());
        assert!(!Layout::parse(b"time c-ip cs-method", false).has_date());
    }
}
