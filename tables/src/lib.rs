//! faultline-tables: the normalized tables behind `faultline query` and
//! `faultline export`. Every record of every source becomes a row of
//! `requests`, `httperr`, `traces` or `events`, and every detection of the
//! security lens a row of `detections` (schema in docs/tables.md), read
//! through the analyzer's one pass, resolver and hunt so that a query sees
//! what `analyze` saw; SQL runs over them with polars, the classic IIS
//! questions are named queries, and an export writes them Hive-partitioned.
//!
//! polars stays inside this crate (the analysis builds without it): callers
//! get [`QueryResult`] and [`ExportSummary`], not frames.

mod columns;
mod export;
mod queries;
mod spreadsheet;

use std::path::PathBuf;

use faultline_parser::value::decode_text;
use std::convert::Infallible;

use faultline_parser::{
    Entry, HttpError, Outcome, ReadConfig, RecordId, RecordSink, Request, Tee, Timestamp, Trace, WinEvent,
};
use polars::prelude::*;

pub use export::{ExportFormat, ExportSummary, export};
pub use queries::{NamedQuery, QUERIES, named_query};
pub use spreadsheet::{csv_field, csv_text};

use columns::{Detections, Events, Ftp, Httperr, Requests, Traces};
use faultline_analyzer::describe::describe_event;
use faultline_analyzer::hunting::{Detection, Hunt, HuntSink, Pending};
use faultline_analyzer::pass::{self, Batching, Consumer, Progress, Reading};
use faultline_analyzer::resolve::{Resolver, SourceFile};
use faultline_analyzer::scope::Scope;

/// What went wrong building, querying or writing the tables.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The SQL could not be planned or run.
    #[error("SQL: {0}")]
    Sql(String),
    /// A polars operation on well-formed tables failed.
    #[error("table operation failed: {0}")]
    Polars(#[from] PolarsError),
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The export folder already holds files.
    #[error("{0}: the export folder is not empty (choose a new or empty folder)")]
    NotEmpty(PathBuf),
}

/// Reading into tables never fails; only writing them can.
impl From<Infallible> for TableError {
    fn from(e: Infallible) -> TableError {
        match e {}
    }
}

/// One of the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableName {
    /// Access-log rows.
    Requests,
    /// Rows of IIS's FTP logs.
    Ftp,
    /// HTTP.sys error-log rows.
    Httperr,
    /// FREB traces.
    Traces,
    /// Windows events.
    Events,
    /// The security lens's detections.
    Detections,
}

/// How many tables there are.
const TABLES: usize = 6;

impl TableName {
    /// Every table, in schema order.
    pub const ALL: [TableName; TABLES] = [
        TableName::Requests,
        TableName::Ftp,
        TableName::Httperr,
        TableName::Traces,
        TableName::Events,
        TableName::Detections,
    ];

    /// The SQL and folder name.
    pub fn name(self) -> &'static str {
        match self {
            TableName::Requests => "requests",
            TableName::Ftp => "ftp",
            TableName::Httperr => "httperr",
            TableName::Traces => "traces",
            TableName::Events => "events",
            TableName::Detections => "detections",
        }
    }

    /// The tables a SQL text names (as whole words, any case): only those
    /// are built.
    pub fn named_in(sql: &str) -> Vec<TableName> {
        let words = sql_words(sql);
        TableName::ALL.into_iter().filter(|t| words.contains(t.name())).collect()
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The table's columns, in order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            TableName::Requests => Requests::COLUMNS,
            TableName::Ftp => Ftp::COLUMNS,
            TableName::Httperr => Httperr::COLUMNS,
            TableName::Traces => Traces::COLUMNS,
            TableName::Events => Events::COLUMNS,
            TableName::Detections => Detections::COLUMNS,
        }
    }
}

/// The identifiers of a SQL text, lower case: what it can name.
fn sql_words(sql: &str) -> std::collections::BTreeSet<String> {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Which tables and columns to build: a query fills only what it names.
#[derive(Clone, Debug)]
pub struct Projection {
    tables: [bool; TABLES],
    /// Column names kept; `None` keeps every column.
    columns: Option<std::collections::BTreeSet<String>>,
}

impl Projection {
    /// Every table, every column (what an export writes).
    pub const ALL: Projection = Projection { tables: [true; TABLES], columns: None };

    /// The tables and columns a SQL text names as words; every column of
    /// those tables when it selects `*` (a `*` not inside `count(*)`).
    pub fn of_sql(sql: &str) -> Projection {
        let words = sql_words(sql);
        let mut tables = [false; TABLES];
        for t in TableName::named_in(sql) {
            tables[t.index()] = true;
        }
        let star = sql.char_indices().any(|(i, c)| c == '*' && !sql[..i].trim_end().ends_with('('));
        Projection { tables, columns: (!star).then_some(words) }
    }

    fn table(&self, t: TableName) -> bool {
        self.tables[t.index()]
    }

    /// Whether the `detections` table is wanted: only then is the evidence
    /// hunted.
    pub fn hunts(&self) -> bool {
        self.table(TableName::Detections)
    }

    /// Whether the `events` table is wanted.
    pub fn reads_events(&self) -> bool {
        self.table(TableName::Events)
    }

    /// Whether a column is kept. `timestamp` always is: it is cheap and
    /// gives every table its height.
    fn keeps(&self, column: &str) -> bool {
        column == "timestamp" || self.columns.as_ref().is_none_or(|c| c.contains(column))
    }
}

/// Rows of the tables: of one chunk, one file, or many joined
/// (detections only once the whole read is hunted).
#[derive(Default)]
struct Rows {
    requests: Requests,
    ftp: Ftp,
    httperr: Httperr,
    traces: Traces,
    events: Events,
    detections: Detections,
}

impl Rows {
    /// Appends `other`'s rows after these, table by table.
    fn append(&mut self, other: Rows) {
        self.requests.append(other.requests);
        self.ftp.append(other.ftp);
        self.httperr.append(other.httperr);
        self.traces.append(other.traces);
        self.events.append(other.events);
        self.detections.append(other.detections);
    }

    /// Joins parts in order: a single part is moved, several are copied
    /// into columns allocated once.
    fn join(mut parts: Vec<Rows>) -> Rows {
        if parts.len() == 1 {
            return parts.pop().unwrap_or_default();
        }
        let mut all = Rows::default();
        all.requests.reserve_like(parts.iter().map(|p| &p.requests));
        all.ftp.reserve_like(parts.iter().map(|p| &p.ftp));
        all.httperr.reserve_like(parts.iter().map(|p| &p.httperr));
        all.traces.reserve_like(parts.iter().map(|p| &p.traces));
        all.events.reserve_like(parts.iter().map(|p| &p.events));
        all.detections.reserve_like(parts.iter().map(|p| &p.detections));
        for p in parts {
            all.append(p);
        }
        all
    }

    pub(crate) fn counts(&self) -> [usize; TABLES] {
        [
            self.requests.rows(),
            self.ftp.rows(),
            self.httperr.rows(),
            self.traces.rows(),
            self.events.rows(),
            self.detections.rows(),
        ]
    }

    /// Empty rows whose pushes fill only the projected columns.
    fn projected(p: &Projection) -> Rows {
        let keep = |c: &str| p.keeps(c);
        Rows {
            requests: Requests::projected(&keep),
            ftp: Ftp::projected(&keep),
            httperr: Httperr::projected(&keep),
            traces: Traces::projected(&keep),
            events: Events::projected(&keep),
            detections: Detections::projected(&keep),
        }
    }

    /// Rows holding only `detections`, as projected (none when the
    /// projection does not want them: the read then hunted with no rules,
    /// see [`lens`]).
    fn of_detections(p: &Projection, detections: &[Detection]) -> Rows {
        let mut rows = Rows::projected(p);
        let t = &mut rows.detections;
        for d in detections {
            let rule = &d.rule.meta;
            t.timestamp.push(Some(d.time.0));
            t.host_name.push(known_host(&d.host));
            t.site_id.push(d.site.as_deref().and_then(|s| s.parse().ok()));
            t.app_pool.push(d.app_pool.as_deref());
            t.rule_id.push(Some(&rule.id));
            t.rule_title.push(Some(&rule.title));
            t.rule_level.push(Some(rule.level.name()));
            t.rule_status.push(rule.status.as_deref());
            t.rule_author.push(rule.author.as_deref());
            t.rule_license.push(rule.license.as_deref());
            t.rule_file.push(Some(&rule.origin));
            t.threat_technique_id
                .push_with(|| (!rule.techniques.is_empty()).then(|| rule.techniques.join(",")));
            t.matched.push_with(|| Some(matched_text(&d.matched)));
            t.evidence_source.push(Some(d.evidence.source.name()));
            t.message.push(Some(&d.evidence.summary));
            t.log_file_path.push(Some(&d.evidence.path));
            t.log_file_line.push(int(d.evidence.line));
            t.winlog_record_id.push(d.evidence.record.map(RecordId::as_written));
            t.row_done();
        }
        rows
    }

    /// The polars frames of the projected columns, in [`TableName::ALL`] order.
    fn finish(self, p: &Projection) -> PolarsResult<[DataFrame; TABLES]> {
        let keep = |c: &str| p.keeps(c);
        Ok([
            self.requests.finish(&keep)?,
            self.ftp.finish(&keep)?,
            self.httperr.finish(&keep)?,
            self.traces.finish(&keep)?,
            self.events.finish(&keep)?,
            self.detections.finish(&keep)?,
        ])
    }
}

/// Fills the tables from one source's records; the time range and clock
/// skew of the analysis apply, so that a query sees what `analyze` saw.
pub(crate) struct TableSink<'a> {
    projection: &'a Projection,
    resolve: Resolver<'a>,
    rows: Rows,
    /// Names a request's client behind its proxies.
    clients: &'a Hunt,
}

impl<'a> TableSink<'a> {
    pub(crate) fn new(
        projection: &'a Projection,
        file: SourceFile,
        scope: &'a Scope,
        clients: &'a Hunt,
    ) -> Self {
        TableSink {
            projection,
            resolve: Resolver::new(file, scope),
            rows: Rows::projected(projection),
            clients,
        }
    }
}

/// A host's name as a column holds it: null for records no evidence names
/// a host of (the read files them under `-`).
fn known_host(name: &str) -> Option<&str> {
    (name != faultline_analyzer::resolve::UNKNOWN_HOST).then_some(name)
}

fn text(v: Option<&[u8]>) -> Option<std::borrow::Cow<'_, str>> {
    v.map(decode_text)
}

fn int<T: TryInto<i64>>(v: Option<T>) -> Option<i64> {
    v.and_then(|v| v.try_into().ok())
}

/// A detection's matched fields as one JSON object (`{"cs-uri-stem":"/x"}`;
/// a field with several values keeps the first): one text cell that every
/// SQL engine can still pick apart (`json_extract`).
fn matched_text(matched: &[(String, String)]) -> String {
    let mut object = std::collections::BTreeMap::new();
    for (field, value) in matched {
        object.entry(field.as_str()).or_insert(value.as_str());
    }
    let json = serde_json::to_string(&object).unwrap_or_default();
    // What every CSV escapes (DEL, C1 controls, bidirectional marks; JSON
    // escapes the C0 controls itself) is escaped the JSON way first, so the
    // cell stays JSON there too.
    let unsafe_char = |c: char| c.is_control() || faultline_parser::diagnostic::is_bidi_control(c);
    if !json.chars().any(unsafe_char) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

impl TableSink<'_> {
    /// A row of IIS's FTP log, into its own table: its replies are no HTTP
    /// statuses, which the request tables' queries count.
    fn ftp_command(&mut self, r: &Request<'_>, command: &[u8]) -> Result<(), Infallible> {
        if !self.projection.table(TableName::Ftp) {
            return Ok(());
        }
        let host = self.resolve.host(r.computer_name);
        let Some(time) = self.resolve.time(&host, r.time) else { return Ok(()) };
        let site = self.resolve.site_named(r.site_name);
        let t = &mut self.rows.ftp;
        t.timestamp.push(Some(time.0));
        t.host_name.push(known_host(&host.name));
        t.site_id.push(site.map(i64::from));
        t.ftp_command.push_with(|| text(Some(command)));
        t.ftp_argument.push_with(|| text(r.uri_stem));
        t.file_path.push_with(|| text(r.custom.get("x-fullpath")));
        t.ftp_reply_code.push(r.status.map(i64::from));
        t.iis_substatus.push(r.substatus.map(i64::from));
        t.iis_win32_status.push(int(r.win32_status));
        t.source_ip.push_with(|| r.client_ip.map(|a| a.to_string()));
        t.destination_ip.push_with(|| r.server_ip.map(|a| a.to_string()));
        t.destination_port.push(r.server_port.map(i64::from));
        t.user_name.push_with(|| text(r.username));
        t.ftp_session.push_with(|| text(r.ftp_session()));
        t.log_file_path.push(Some(&self.resolve.file().path));
        t.log_file_line.push(int(Some(r.origin.line)));
        t.row_done();
        Ok(())
    }
}

impl RecordSink for TableSink<'_> {
    type Error = std::convert::Infallible;
    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        if let Some(command) = self.resolve.file().ftp_command(r) {
            return self.ftp_command(r, command);
        }
        if !self.projection.table(TableName::Requests) {
            return Ok(());
        }
        let host = self.resolve.host(r.computer_name);
        let Some(time) = self.resolve.time(&host, r.time) else { return Ok(()) };
        let site = self.resolve.site_named(r.site_name);
        let t = &mut self.rows.requests;
        t.timestamp.push(Some(time.0));
        t.host_name.push(known_host(&host.name));
        t.site_id.push(site.map(i64::from));
        t.site_name.push_with(|| text(r.site_name));
        t.http_request_method.push_with(|| text(r.method));
        t.url_path.push_with(|| text(r.uri_stem));
        t.url_query.push_with(|| text(r.uri_query));
        t.url_domain.push_with(|| text(r.host));
        t.http_response_status_code.push(r.status.map(i64::from));
        t.iis_substatus.push(r.substatus.map(i64::from));
        t.iis_win32_status.push(int(r.win32_status));
        t.time_taken_ms.push(int(r.time_taken_ms));
        t.source_ip.push_with(|| r.client_ip.map(|a| a.to_string()));
        let clients = self.clients;
        t.client_ip.push_with(|| clients.client(r).map(|ip| ip.to_canonical().to_string()));
        t.destination_ip.push_with(|| r.server_ip.map(|a| a.to_string()));
        t.destination_port.push(r.server_port.map(i64::from));
        t.user_name.push_with(|| text(r.username));
        t.user_agent_original.push_with(|| text(r.user_agent));
        t.http_request_referrer.push_with(|| text(r.referer));
        t.http_version.push_with(|| text(r.version));
        t.http_response_bytes.push(int(r.bytes_sent));
        t.http_request_bytes.push(int(r.bytes_received));
        t.log_file_path.push(Some(&self.resolve.file().path));
        t.log_file_line.push(int(Some(r.origin.line)));
        t.row_done();
        Ok(())
    }

    fn http_error(&mut self, r: &HttpError<'_>) -> Result<(), Self::Error> {
        if !self.projection.table(TableName::Httperr) {
            return Ok(());
        }
        let host = self.resolve.host(None);
        let Some(time) = self.resolve.time(&host, r.time) else { return Ok(()) };
        let t = &mut self.rows.httperr;
        t.timestamp.push(Some(time.0));
        t.host_name.push(known_host(&host.name));
        t.site_id.push(self.resolve.site(r.site_id).map(i64::from));
        t.source_ip.push_with(|| r.client_ip.map(|a| a.to_string()));
        t.source_port.push(r.client_port.map(i64::from));
        t.destination_ip.push_with(|| r.server_ip.map(|a| a.to_string()));
        t.destination_port.push(r.server_port.map(i64::from));
        t.http_version.push_with(|| text(r.version));
        t.http_request_method.push_with(|| text(r.method));
        t.url_original.push_with(|| text(r.uri));
        t.http_response_status_code.push(r.status.map(i64::from));
        t.httperr_reason.push_with(|| Some(r.reason.to_string()));
        t.app_pool.push_with(|| text(r.queue_name));
        t.log_file_path.push(Some(&self.resolve.file().path));
        t.log_file_line.push(int(Some(r.origin.line)));
        t.row_done();
        Ok(())
    }

    fn trace(&mut self, tr: &Trace) -> Result<(), Self::Error> {
        if !self.projection.table(TableName::Traces) {
            return Ok(());
        }
        let host = self.resolve.host_of(tr.computer.as_deref());
        let time = match tr.time() {
            Some(t) => match self.resolve.time(&host, t) {
                Some(t) => Some(t),
                None => return Ok(()),
            },
            None => None,
        };
        let error = tr.summary.first_error.as_ref();
        let t = &mut self.rows.traces;
        t.timestamp.push(time.map(|t| t.0));
        t.host_name.push(known_host(&host.name));
        t.site_id.push(self.resolve.site(tr.site_id).map(i64::from));
        t.app_pool.push(tr.app_pool.as_deref());
        t.process_pid.push(tr.process_id.map(i64::from));
        t.http_request_method.push(tr.verb.as_deref());
        t.url_original.push(tr.url.as_deref());
        t.http_response_status_code.push(tr.status.map(i64::from));
        t.iis_substatus.push(tr.substatus.map(i64::from));
        t.time_taken_ms.push(int(tr.time_taken_ms));
        t.failure_reason.push(tr.failure_reason.as_deref());
        t.user_name.push(tr.token_user_name.as_deref().or(tr.summary.auth_user.as_deref()));
        t.auth_type.push(tr.authentication_type.as_deref().or(tr.summary.auth_type.as_deref()));
        t.failing_module.push(error.map(|e| e.module.as_str()));
        t.failing_notification.push(error.and_then(|e| e.notification_name.as_deref()));
        t.error_code.push(error.and_then(|e| e.error_code).map(i64::from));
        t.handler.push(tr.summary.handler.as_deref());
        t.activity_id.push(tr.activity_id.as_deref());
        t.physical_path.push(tr.summary.physical_path.as_deref());
        t.config_error.push(error.and_then(|e| e.config_exception.as_deref()));
        t.trace_source.push(Some(self.resolve.file().kind.name()));
        t.log_file_path.push(Some(&self.resolve.file().path));
        t.row_done();
        Ok(())
    }

    fn event(&mut self, e: WinEvent) -> Result<(), Self::Error> {
        if !self.projection.table(TableName::Events) {
            return Ok(());
        }
        let host = self.resolve.host_of(e.computer.as_deref());
        let Some(time) = self.resolve.time(&host, e.time) else { return Ok(()) };
        let t = &mut self.rows.events;
        t.timestamp.push(Some(time.0));
        t.host_name.push(known_host(&host.name));
        t.event_provider.push(Some(&e.provider));
        t.event_code.push(Some(i64::from(e.event_id)));
        t.log_level.push(e.level.map(i64::from));
        t.winlog_channel.push(e.channel.as_deref());
        t.winlog_record_id.push(e.record_id.map(RecordId::as_written));
        t.process_pid.push(e.process_id.map(i64::from));
        t.app_pool.push(e.app_pool());
        // SQL Server's failed login names its login and client by place.
        let sql_login = (e.family(), e.event_id) == (faultline_parser::winevent::Family::SqlServer, 18456);
        let login = sql_login.then(|| faultline_parser::winevent::sql_login_failed(&e));
        // The account a logon was for, a process ran as (Sysmon's User,
        // Security 4688's TargetUserName), else the one that started it
        // (4688's SubjectUserName where the log names no other).
        let named = |field| e.data(field).filter(|u| !u.is_empty() && *u != "-");
        t.user_name.push(
            named("TargetUserName")
                .or_else(|| named("User"))
                .or_else(|| login.as_ref().and_then(|l| l.login))
                .or_else(|| named("SubjectUserName")),
        );
        t.source_ip.push(e.data("IpAddress").filter(|ip| *ip != "-").or_else(|| {
            login.as_ref().and_then(|l| l.client).filter(|c| c.parse::<std::net::IpAddr>().is_ok())
        }));
        t.logon_type.push(e.data("LogonType").and_then(|v| v.trim().parse().ok()));
        // A process tree, from Sysmon or Security 4688 alike (the message
        // is cut to a line).
        t.process_executable.push(e.data("Image").or_else(|| e.data("NewProcessName")));
        t.process_command_line.push(e.data("CommandLine"));
        t.process_parent_executable.push(e.data("ParentImage").or_else(|| e.data("ParentProcessName")));
        t.destination_ip.push(e.data("DestinationIp"));
        t.destination_port.push(e.data("DestinationPort").and_then(|v| v.trim().parse().ok()));
        t.message.push_with(|| Some(describe_event(&e)));
        t.log_file_path.push(Some(&self.resolve.file().path));
        t.row_done();
        Ok(())
    }
}

/// The tables built from one read of the evidence.
#[derive(Debug)]
pub struct Tables {
    frames: [DataFrame; TABLES],
    /// How the read went (rejected records: the diagnostics say why; `scan`
    /// lists them).
    pub reading: Reading,
}

/// What the hunt of a group of files leaves for the whole read's
/// conclusion (correlations run over every file).
pub(crate) type Hunted = Vec<(Vec<Detection>, Pending)>;

/// A group of files' rows, chunk by chunk in source order, and their
/// detections.
#[derive(Default)]
pub(crate) struct Chunks {
    rows: Vec<Rows>,
    hunted: Hunted,
}

impl Chunks {
    pub(crate) fn take(&mut self, read: Outcome<Tee<HuntSink<'_>, TableSink<'_>>>) {
        if let Outcome::Parsed { sinks, .. } = read {
            for sink in sinks {
                let (hunting, table) = sink.into_parts();
                self.rows.push(table.rows);
                self.hunted.push(hunting.finish());
            }
        }
    }
}

/// What a group of files' rows becomes once read: tables kept in memory
/// for a query, or files written by an export.
pub(crate) trait Finish: Sync {
    /// What a group leaves.
    type Output: Send;
    /// Why it could not be made.
    type Error: From<Infallible> + Send;
    /// Ends the group at `index` among the groups.
    fn finish(&self, index: usize, chunks: Chunks) -> Result<Self::Output, Self::Error>;
}

/// The tables' consumer of the pass: the projected columns of every
/// record, read in groups of files, each group finished as `F` says, and
/// the records hunted with `hunt`'s rules in the same read.
pub(crate) struct Columns<'a, F> {
    pub(crate) scope: &'a Scope,
    pub(crate) projection: &'a Projection,
    pub(crate) hunt: &'a Hunt,
    /// The hunt as the analyst configured it, whose trusted proxies name a
    /// request's client (`hunt` is an empty one when no rule is wanted).
    pub(crate) clients: &'a Hunt,
    pub(crate) finish: F,
}

impl<F: Finish> Consumer for Columns<'_, F> {
    type Error = F::Error;
    type Sink<'c>
        = Tee<HuntSink<'c>, TableSink<'c>>
    where
        Self: 'c;
    type Part = Chunks;
    type Output = (F::Output, Hunted);

    fn sink(&self, file: SourceFile) -> Self::Sink<'_> {
        Tee::new(
            HuntSink::new(self.hunt, file.clone(), self.scope),
            TableSink::new(self.projection, file, self.scope, self.clients),
        )
    }

    fn file_read<'c>(
        &'c self,
        part: &mut Chunks,
        _file: SourceFile,
        _entry: &Entry,
        read: Outcome<Self::Sink<'c>>,
    ) -> Result<(), F::Error> {
        part.take(read);
        Ok(())
    }

    fn part_done(&self, index: usize, mut part: Chunks) -> Result<Self::Output, F::Error> {
        let hunted = std::mem::take(&mut part.hunted);
        Ok((self.finish.finish(index, part)?, hunted))
    }

    fn batching(&self) -> Batching {
        Batching::GROUPED
    }
}

/// A group's rows joined, for a query.
struct Join;

impl Finish for Join {
    type Output = Rows;
    type Error = Infallible;

    fn finish(&self, _index: usize, chunks: Chunks) -> Result<Rows, Infallible> {
        Ok(Rows::join(chunks.rows))
    }
}

/// The rules a read runs: `hunt`'s when the projection wants detections,
/// none otherwise (the records are then not hunted at all).
fn lens<'a>(projection: &Projection, hunt: &'a Hunt, none: &'a Hunt) -> &'a Hunt {
    if projection.hunts() { hunt } else { none }
}

/// The rows of the whole read's detections, concluded from every group's.
fn concluded(projection: &Projection, hunt: &Hunt, hunted: Vec<Hunted>) -> Rows {
    let detections = hunt.conclude(hunted.into_iter().flatten());
    Rows::of_detections(projection, &detections)
}

impl Tables {
    /// Reads `paths` and builds the projected tables and columns (the
    /// other tables stay empty, the other columns absent); `detections`
    /// holds what `hunt`'s rules find, when the projection names it.
    pub fn load(
        paths: &[PathBuf],
        read: &ReadConfig,
        scope: &Scope,
        projection: &Projection,
        hunt: &Hunt,
        progress: &dyn Progress,
    ) -> Result<Tables, TableError> {
        let none = Hunt::none();
        let clients = hunt;
        let hunt = lens(projection, hunt, &none);
        let columns = Columns { scope, projection, hunt, clients, finish: Join };
        let Ok(pass) = pass::run(paths, &hunt.reading(read), &scope.hosts, &columns, progress);
        progress.phase("building the tables");
        let (parts, hunted): (Vec<Rows>, Vec<Hunted>) = pass.outputs.into_iter().unzip();
        let mut rows = Rows::join(parts);
        rows.append(concluded(projection, hunt, hunted));
        Ok(Tables { frames: rows.finish(projection)?, reading: pass.reading })
    }

    /// Rows in a table.
    pub fn rows(&self, table: TableName) -> usize {
        self.frames[table.index()].height()
    }

    /// Runs SQL over the tables (polars' SQL dialect). A string that is a
    /// whole RFC 3339 time (`'2025-11-24T13:20:00Z'`, as every output of
    /// faultline writes times) is compared as that instant, and a table may
    /// be named in upper case (`FROM REQUESTS`).
    pub fn sql(&self, sql: &str) -> Result<QueryResult, TableError> {
        let mut ctx = polars::sql::SQLContext::new();
        for t in TableName::ALL {
            let frame = self.frames[t.index()].clone().lazy();
            ctx.register(&t.name().to_ascii_uppercase(), frame.clone());
            ctx.register(t.name(), frame);
        }
        let sql = &times_as_utc(sql);
        let frame = ctx.execute(sql).and_then(LazyFrame::collect).map_err(|e| match e {
            // Only the columns a query names are built: polars's list of
            // the valid ones is those, not the table's.
            PolarsError::ColumnNotFound(_) => {
                let text = e.to_string();
                let cut = text.find("; valid columns").map_or(text.as_str(), |at| &text[..at]);
                let tables: Vec<String> = TableName::named_in(sql)
                    .into_iter()
                    .map(|t| format!("{} has {}", t.name(), t.columns().join(", ")))
                    .collect();
                TableError::Sql(format!("{cut}; {}", tables.join("; ")))
            }
            e => {
                // The first line says what is wrong; the plan polars
                // resolved up to it is noise to an analyst.
                let text = e.to_string();
                let said = text.split("\n\n").next().unwrap_or(&text).trim_end();
                let hint = match said.contains("cannot compare 'date/datetime/time' to a string") {
                    true => " (write a time as '2025-11-24 13:20:00' or '2025-11-24T13:20:00Z', UTC)",
                    false => "",
                };
                TableError::Sql(format!("{said}{hint}"))
            }
        })?;
        Ok(QueryResult { frame: count_named(frame, sql) })
    }
}

/// `frame` with polars' name for an unnamed `count(*)`, `len`, given as
/// `count`, the name the query wrote (a column `len` no one asked for
/// read as a string length). A query that names `len` itself keeps it.
fn count_named(mut frame: DataFrame, sql: &str) -> DataFrame {
    let counts = sql.to_ascii_lowercase().split_whitespace().collect::<String>().contains("count(*)");
    let named = |name: &str| frame.get_column_names().iter().any(|c| c.as_str() == name);
    if counts && !sql_words(sql).contains("len") && named("len") && !named("count") {
        let _ = frame.rename("len", "count".into());
    }
    frame
}

/// `sql` with each string literal that is a whole RFC 3339 time written as
/// polars compares a timestamp column with (`'2025-11-24 13:20:00.000000000'`,
/// in UTC): the form every output of faultline gives a time in is then one a
/// query can paste back.
fn times_as_utc(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('\'') {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(open) = rest.find('\'') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        // The literal runs to the next quote not doubled ('' is a quote).
        let mut end = 0;
        let close = loop {
            match rest[end..].find('\'') {
                Some(at) if rest[end + at + 1..].starts_with('\'') => end += at + 2,
                Some(at) => break Some(end + at),
                None => break None,
            }
        };
        let Some(close) = close else {
            out.push_str(rest);
            return std::borrow::Cow::Owned(out);
        };
        let literal = &rest[..close];
        let is_time = literal.len() >= 19 && literal.as_bytes()[10] == b'T';
        match faultline_parser::time::parse_rfc3339(literal.as_bytes()).filter(|_| is_time) {
            Some(t) => out.push_str(t.to_rfc3339().replacen('T', " ", 1).trim_end_matches('Z')),
            None => out.push_str(literal),
        }
        out.push('\'');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// A query's answer.
#[derive(Debug)]
pub struct QueryResult {
    frame: DataFrame,
}

/// The text of one cell, as a table or Markdown shows it: empty for null,
/// timestamps in RFC 3339 UTC.
fn cell_text(v: AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Datetime(t, unit, _) | AnyValue::DatetimeOwned(t, unit, _) => {
            let nanos = match unit {
                TimeUnit::Nanoseconds => t,
                TimeUnit::Microseconds => t.saturating_mul(1_000),
                TimeUnit::Milliseconds => t.saturating_mul(1_000_000),
            };
            Timestamp(nanos).to_rfc3339()
        }
        other => other.to_string(),
    }
}

/// The frame with every timestamp column turned into RFC 3339 text in UTC
/// (`2025-11-24T13:00:00.5Z`): text formats (CSV, JSON) then say which zone
/// their times are in, which a bare `2025-11-24 13:00:00` would not.
pub(crate) fn with_text_times(frame: &DataFrame) -> PolarsResult<DataFrame> {
    let mut out = frame.clone();
    for c in frame.columns() {
        let DataType::Datetime(unit, _) = c.dtype() else { continue };
        let unit = *unit;
        let text: StringChunked = c
            .datetime()?
            .physical()
            .iter()
            .map(|v| v.map(|t| cell_text(AnyValue::Datetime(t, unit, None))))
            .collect();
        out.with_column(text.with_name(c.name().clone()).into_series().into())?;
    }
    Ok(out)
}

impl QueryResult {
    /// Column names, in order.
    pub fn columns(&self) -> Vec<String> {
        self.frame.columns().iter().map(|c| c.name().to_string()).collect()
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// Every row as display text.
    pub fn text_rows(&self) -> Vec<Vec<String>> {
        let columns = self.frame.columns();
        (0..self.frame.height())
            .map(|i| columns.iter().map(|c| c.get(i).map(cell_text).unwrap_or_default()).collect())
            .collect()
    }

    /// Writes CSV with a header row.
    pub fn write_csv(&self, out: &mut dyn std::io::Write) -> Result<(), TableError> {
        let mut frame = spreadsheet::inert_text(with_text_times(&self.frame)?)?;
        CsvWriter::new(out).include_header(true).finish(&mut frame)?;
        Ok(())
    }

    /// Writes JSON: an array of row objects, or one object per line.
    pub fn write_json(&self, out: &mut dyn std::io::Write, lines: bool) -> Result<(), TableError> {
        let mut frame = with_text_times(&self.frame)?;
        let format = if lines { JsonFormat::JsonLines } else { JsonFormat::Json };
        JsonWriter::new(&mut *out).with_json_format(format).finish(&mut frame)?;
        // A JSON array ends without a line break; a text file's last line
        // has one (JSON lines end each row with one already).
        if !lines {
            out.write_all(b"\n").map_err(|source| TableError::Io { path: "-".into(), source })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matched value holding a right-to-left override, DEL or an escape
    /// is still JSON in a CSV cell, which it passes unchanged, and reads
    /// back as the value matched.
    #[test]
    fn matched_fields_stay_json_in_a_csv_cell() {
        let value = "/aspnet_client/\u{202e}txt.aspx\u{7f}\u{1b}[31m";
        let text = matched_text(&[("cs-uri-stem".to_string(), value.to_string())]);
        assert!(matches!(spreadsheet::csv_text(&text), std::borrow::Cow::Borrowed(_)), "{text}");
        let back: std::collections::BTreeMap<String, String> = serde_json::from_str(&text).expect("JSON");
        assert_eq!(back["cs-uri-stem"], value);
    }

    /// A whole RFC 3339 time in a string is the instant it names, in UTC,
    /// as polars compares a timestamp with; anything else, a time inside
    /// a longer string or a quote doubled inside one, is left alone.
    #[test]
    fn rfc3339_strings_are_compared_as_their_instant() {
        assert_eq!(
            times_as_utc("SELECT * FROM requests WHERE timestamp >= '2025-11-24T13:20:00Z'"),
            "SELECT * FROM requests WHERE timestamp >= '2025-11-24 13:20:00.000000000'"
        );
        assert_eq!(
            times_as_utc(
                "WHERE timestamp < '2025-11-24T15:20:00+02:00' AND a = 'it''s' OR b = '2025-11-24T13:20:00'"
            ),
            "WHERE timestamp < '2025-11-24 13:20:00.000000000' AND a = 'it''s' OR b = '2025-11-24 13:20:00.000000000'"
        );
        for kept in [
            "SELECT url_query FROM requests WHERE url_query LIKE '%2025-11-24T13:20:00Z%'",
            "WHERE timestamp >= '2025-11-24 13:20:00'",
            "WHERE a = 'unclosed",
            "SELECT 1",
        ] {
            assert_eq!(times_as_utc(kept), kept);
        }
    }

    #[test]
    fn a_query_builds_the_tables_and_columns_it_names() {
        let p = Projection::of_sql("SELECT url_path, count(*) AS n FROM requests GROUP BY url_path");
        assert!(p.table(TableName::Requests) && !p.table(TableName::Events));
        assert!(p.keeps("url_path") && p.keeps("timestamp") && !p.keeps("user_agent_original"));
        let star = Projection::of_sql("SELECT * FROM httperr");
        assert!(star.table(TableName::Httperr) && star.keeps("app_pool") && star.keeps("url_original"));
        let quoted = Projection::of_sql("SELECT \"source_ip\", COUNT( * ) FROM REQUESTS");
        assert!(quoted.table(TableName::Requests) && quoted.keeps("source_ip") && !quoted.keeps("url_path"));
    }
}
