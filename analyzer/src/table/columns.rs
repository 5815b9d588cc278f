//! The normalized tables' columns, filled record by record while a file is
//! read, and turned into one polars frame per table and file.

use polars::prelude::*;

/// A text column.
pub(super) struct Text(StringChunkedBuilder);

impl Text {
    fn new(name: &str) -> Self {
        Text(StringChunkedBuilder::new(name.into(), 0))
    }
    pub(super) fn push(&mut self, v: Option<&str>) {
        self.0.append_option(v);
    }
    fn finish(self) -> Column {
        self.0.finish().into_series().into()
    }
}

/// A 64-bit integer column (every count, code and id: what SQL engines
/// agree on without casts).
pub(super) struct Int(PrimitiveChunkedBuilder<Int64Type>);

impl Int {
    fn new(name: &str) -> Self {
        Int(PrimitiveChunkedBuilder::new(name.into(), 0))
    }
    pub(super) fn push(&mut self, v: Option<i64>) {
        self.0.append_option(v);
    }
    fn finish(self) -> Column {
        self.0.finish().into_series().into()
    }
}

/// A timestamp column, in microseconds, always UTC but stored without a
/// zone: SQL can then compare it with a plain literal
/// (`timestamp >= TIMESTAMP '2025-11-24 13:00:00'`), which polars SQL
/// refuses for zoned columns, and Parquet readers (DuckDB, Spark) take it as
/// `TIMESTAMP`. Microseconds keep the IIS precision (at best 100 ns in
/// events, 1 ms in logs) but for event sub-microseconds.
pub(super) struct Time(PrimitiveChunkedBuilder<Int64Type>);

impl Time {
    fn new(name: &str) -> Self {
        Time(PrimitiveChunkedBuilder::new(name.into(), 0))
    }
    /// `nanos` since the epoch.
    pub(super) fn push(&mut self, nanos: Option<i64>) {
        self.0.append_option(nanos.map(|n| n.div_euclid(1_000)));
    }
    fn finish(self) -> Column {
        self.0.finish().into_datetime(TimeUnit::Microseconds, None).into_series().into()
    }
}

/// Declares a table: its columns, in order, named as in the schema
/// (docs/tables.md), and how the filled columns become a frame.
macro_rules! table {
    ($(#[$doc:meta])* $name:ident { $($col:ident: $kind:ident),+ $(,)? }) => {
        $(#[$doc])*
        pub(super) struct $name {
            rows: usize,
            $(pub(super) $col: $kind,)+
        }

        impl $name {
            pub(super) fn new() -> Self {
                $name { rows: 0, $($col: $kind::new(stringify!($col)),)+ }
            }

            /// Counts a row whose columns were all pushed.
            pub(super) fn row_done(&mut self) {
                self.rows += 1;
            }

            /// The column names, in order.
            pub(super) const COLUMNS: &'static [&'static str] = &[$(stringify!($col)),+];

            pub(super) fn finish(self) -> PolarsResult<DataFrame> {
                DataFrame::new(self.rows, vec![$(self.$col.finish()),+])
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
    /// `traces`: one row per Failed Request Tracing file.
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
        message: Text,
        log_file_path: Text,
    }
}
