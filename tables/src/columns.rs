//! The normalized tables' columns, filled record by record while a file is
//! read. They are plain buffers (an empty one allocates nothing), appended
//! file after file in source order, and become polars columns once: a folder
//! of 100,000 small traces must not cost 100,000 frames.

use polars::prelude::*;

/// A text column: the values back to back, where each ends, and which are
/// null. A column the query does not name is off: pushes cost nothing.
#[derive(Default)]
pub(super) struct Text {
    on: bool,
    data: String,
    ends: Vec<usize>,
    valid: Vec<bool>,
}

impl Text {
    fn set_on(&mut self, on: bool) {
        self.on = on;
    }
    /// Pushes a value computed only when the column is kept.
    pub(super) fn push_with<S: AsRef<str>>(&mut self, v: impl FnOnce() -> Option<S>) {
        if self.on {
            self.push(v().as_ref().map(AsRef::as_ref));
        }
    }
    pub(super) fn push(&mut self, v: Option<&str>) {
        if !self.on {
            return;
        }
        if let Some(v) = v {
            self.data.push_str(v);
        }
        self.ends.push(self.data.len());
        self.valid.push(v.is_some());
    }
    fn reserve_like<'a>(&mut self, parts: impl Iterator<Item = &'a Text>) {
        let (mut rows, mut bytes) = (0, 0);
        for p in parts {
            rows += p.ends.len();
            bytes += p.data.len();
        }
        self.data.reserve(bytes);
        self.ends.reserve(rows);
        self.valid.reserve(rows);
    }
    fn append(&mut self, mut other: Text) {
        let base = self.data.len();
        self.data.push_str(&other.data);
        self.ends.extend(other.ends.drain(..).map(|e| e + base));
        self.valid.append(&mut other.valid);
    }
    fn finish(self, name: &str) -> Column {
        let mut b = StringChunkedBuilder::new(name.into(), self.ends.len());
        let mut start = 0;
        for (end, valid) in self.ends.iter().zip(&self.valid) {
            b.append_option(valid.then(|| &self.data[start..*end]));
            start = *end;
        }
        b.finish().into_series().into()
    }
}

/// A 64-bit integer column (every count, code and id: what SQL engines
/// agree on without casts).
/// Values and validity apart (9 bytes a row rather than 16), handed to
/// polars without a copy when nothing is null.
#[derive(Default)]
pub(super) struct Int {
    on: bool,
    values: Vec<i64>,
    valid: Vec<bool>,
    nulls: usize,
}

impl Int {
    fn set_on(&mut self, on: bool) {
        self.on = on;
    }
    pub(super) fn push(&mut self, v: Option<i64>) {
        if self.on {
            self.values.push(v.unwrap_or(0));
            self.valid.push(v.is_some());
            self.nulls += usize::from(v.is_none());
        }
    }
    fn reserve_like<'a>(&mut self, parts: impl Iterator<Item = &'a Int>) {
        let rows = parts.map(|p| p.values.len()).sum();
        self.values.reserve(rows);
        self.valid.reserve(rows);
    }
    fn append(&mut self, mut other: Int) {
        self.values.append(&mut other.values);
        self.valid.append(&mut other.valid);
        self.nulls += other.nulls;
    }
    fn into_chunked(self, name: &str) -> Int64Chunked {
        if self.nulls == 0 {
            Int64Chunked::from_vec(name.into(), self.values)
        } else {
            let validity: polars_arrow::bitmap::Bitmap = self.valid.into_iter().collect();
            Int64Chunked::from_vec_validity(name.into(), self.values, Some(validity))
        }
    }
    fn finish(self, name: &str) -> Column {
        self.into_chunked(name).into_series().into()
    }
}

/// A timestamp column, in microseconds, always UTC but stored without a
/// zone: SQL can then compare it with a plain literal
/// (`timestamp >= TIMESTAMP '2025-11-24 13:00:00'`), which polars SQL
/// refuses for zoned columns, and Parquet readers (DuckDB, Spark) take it as
/// `TIMESTAMP`. Microseconds keep the IIS precision (1 ms in logs) but for
/// event sub-microseconds.
#[derive(Default)]
pub(super) struct Time(Int);

impl Time {
    fn set_on(&mut self, on: bool) {
        self.0.on = on;
    }
    /// `nanos` since the epoch.
    pub(super) fn push(&mut self, nanos: Option<i64>) {
        self.0.push(nanos.map(|n| n.div_euclid(1_000)));
    }
    fn reserve_like<'a>(&mut self, parts: impl Iterator<Item = &'a Time>) {
        self.0.reserve_like(parts.map(|p| &p.0));
    }
    fn append(&mut self, other: Time) {
        self.0.append(other.0);
    }
    fn finish(self, name: &str) -> Column {
        self.0.into_chunked(name).into_datetime(TimeUnit::Microseconds, None).into_series().into()
    }
}

/// Declares a table: its columns, in order, named as in the schema
/// (docs/tables.md), how files' rows are joined, and how the columns become
/// a frame.
macro_rules! table {
    ($(#[$doc:meta])* $name:ident { $($col:ident: $kind:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Default)]
        pub(super) struct $name {
            rows: usize,
            $(pub(super) $col: $kind,)+
        }

        impl $name {
            /// The columns, in order.
            pub(super) const COLUMNS: &'static [&'static str] = &[$(stringify!($col)),+];

            /// Columns `keep` names are filled; the others stay empty.
            pub(super) fn projected(keep: &dyn Fn(&str) -> bool) -> Self {
                let mut t = $name::default();
                $(t.$col.set_on(keep(stringify!($col)));)+
                t
            }

            /// Counts a row whose columns were all pushed.
            pub(super) fn row_done(&mut self) {
                self.rows += 1;
            }

            /// Rows held.
            pub(super) fn rows(&self) -> usize {
                self.rows
            }

            /// Makes room for `parts`' rows, so that appending them does
            /// not reallocate (and briefly double) each column.
            pub(super) fn reserve_like<'a>(&mut self, parts: impl Iterator<Item = &'a $name> + Clone) {
                $(self.$col.reserve_like(parts.clone().map(|p| &p.$col));)+
            }

            /// Appends another file's rows after these.
            pub(super) fn append(&mut self, other: $name) {
                self.rows += other.rows;
                $(self.$col.append(other.$col);)+
            }

            /// The frame of the columns `keep` names.
            pub(super) fn finish(self, keep: &dyn Fn(&str) -> bool) -> PolarsResult<DataFrame> {
                let mut columns = Vec::new();
                $(if keep(stringify!($col)) {
                    columns.push(self.$col.finish(stringify!($col)));
                })+
                DataFrame::new(self.rows, columns)
            }
        }
    };
}

table! {
    /// `requests`: one row per access-log line (W3C, IIS native, NCSA).
    Requests {
        timestamp: Time,
        host_name: Text,
        site_id: Int,
        site_name: Text,
        http_request_method: Text,
        url_path: Text,
        url_query: Text,
        url_domain: Text,
        http_response_status_code: Int,
        iis_substatus: Int,
        iis_win32_status: Int,
        time_taken_ms: Int,
        source_ip: Text,
        client_ip: Text,
        destination_ip: Text,
        destination_port: Int,
        user_name: Text,
        user_agent_original: Text,
        http_request_referrer: Text,
        http_version: Text,
        http_response_bytes: Int,
        http_request_bytes: Int,
        log_file_path: Text,
        log_file_line: Int,
    }
}

table! {
    /// `ftp`: one row per line of IIS's FTP logs (FTPSVC, MSFTPSVC).
    Ftp {
        timestamp: Time,
        host_name: Text,
        site_id: Int,
        ftp_command: Text,
        ftp_argument: Text,
        file_path: Text,
        ftp_reply_code: Int,
        iis_substatus: Int,
        iis_win32_status: Int,
        source_ip: Text,
        destination_ip: Text,
        destination_port: Int,
        user_name: Text,
        ftp_session: Text,
        log_file_path: Text,
        log_file_line: Int,
    }
}

table! {
    /// `httperr`: one row per HTTP.sys error-log line.
    Httperr {
        timestamp: Time,
        host_name: Text,
        site_id: Int,
        source_ip: Text,
        source_port: Int,
        destination_ip: Text,
        destination_port: Int,
        http_version: Text,
        http_request_method: Text,
        url_original: Text,
        http_response_status_code: Int,
        httperr_reason: Text,
        app_pool: Text,
        log_file_path: Text,
        log_file_line: Int,
    }
}

table! {
    /// `traces`: one row per Failed Request Tracing file or IIS detailed
    /// error page (`trace_source` says which).
    Traces {
        timestamp: Time,
        host_name: Text,
        site_id: Int,
        app_pool: Text,
        process_pid: Int,
        http_request_method: Text,
        url_original: Text,
        http_response_status_code: Int,
        iis_substatus: Int,
        time_taken_ms: Int,
        failure_reason: Text,
        user_name: Text,
        auth_type: Text,
        failing_module: Text,
        failing_notification: Text,
        error_code: Int,
        handler: Text,
        activity_id: Text,
        physical_path: Text,
        config_error: Text,
        trace_source: Text,
        log_file_path: Text,
    }
}

table! {
    /// `events`: one row per Windows event kept (the IIS catalogue, or all
    /// with `all_events`).
    Events {
        timestamp: Time,
        host_name: Text,
        event_provider: Text,
        event_code: Int,
        log_level: Int,
        winlog_channel: Text,
        winlog_record_id: Int,
        process_pid: Int,
        app_pool: Text,
        user_name: Text,
        source_ip: Text,
        logon_type: Int,
        process_executable: Text,
        process_command_line: Text,
        process_parent_executable: Text,
        destination_ip: Text,
        destination_port: Int,
        message: Text,
        log_file_path: Text,
    }
}

table! {
    /// `detections`: one row per detection of the security lens (after its
    /// correlations), in time order.
    Detections {
        timestamp: Time,
        host_name: Text,
        site_id: Int,
        app_pool: Text,
        rule_id: Text,
        rule_title: Text,
        rule_level: Text,
        rule_status: Text,
        rule_author: Text,
        rule_license: Text,
        rule_file: Text,
        threat_technique_id: Text,
        matched: Text,
        evidence_source: Text,
        message: Text,
        log_file_path: Text,
        log_file_line: Int,
        winlog_record_id: Int,
    }
}
