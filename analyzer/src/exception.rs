//! Application exceptions, classified by the tokens that do not change with
//! the server's language: exception type names, SQL Server error numbers,
//! PostgreSQL SQLSTATE codes, Winsock and .NET host codes. The prose around
//! them is localized and is only quoted, never matched (the exceptions: the
//! account a SQL login failure names, taken from its quotes; a parameter's
//! name, `'connectionString'`; and the messages of Npgsql and ASP.NET Core,
//! which they do not translate).
//!
//! The text comes from .NET Runtime 1026 (`Exception Info:`), ANCM's
//! captured stdout (`Unhandled exception.`), the ASP.NET Core event-log
//! logger (`.NET Runtime` 1000, `Exception:`), ASP.NET 1309/1310 (exception
//! type and message fields) and ASP.NET 1325.

/// What an exception says went wrong, as far as the stable tokens tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The database refused the login (SQL Server 18456/18452/18470/18486-18488,
    /// 4060; PostgreSQL 28P01/28000/3D000): the account, when named.
    DbLogin {
        /// The account in the error, when the text names it.
        account: Option<String>,
    },
    /// A dependency did not answer: a database unreachable or timed out, a
    /// socket refused, timed out or unresolved, an HTTP call failed.
    Backend,
    /// The Azure SQL database was there but not taking connections (SQL
    /// Server 40613 not available, 40501 busy, 40197 a failover, 10928 and
    /// 10929 its resource limits, 49918-49920 too many operations): a
    /// serverless database resuming from auto-pause answers 40613.
    DbUnavailable,
    /// Outbound ephemeral ports ran out (Winsock 10055).
    PortExhaustion,
    /// The application's own files or assemblies are missing or do not fit
    /// (a bad publish): file or assembly not found, bad image format, type
    /// or method missing, the .NET host's missing-framework codes.
    Deployment,
    /// The application's configuration is wrong (`ConfigurationErrorsException`,
    /// options validation, a missing connection string).
    Configuration,
    /// The database's schema does not have what the code asks for (SQL
    /// Server 207 invalid column, 208 invalid object; PostgreSQL 42703,
    /// 42P01): a migration not applied.
    DbSchema,
    /// A migration the app applies while it starts could not be made or
    /// applied: EF Core refusing to migrate a model with changes no
    /// migration holds (`PendingModelChangesWarning`), SQL Server refusing
    /// the migration's DDL (1785 a foreign key with cycles or several
    /// cascade paths, 2714 an object already there, 1779 a second primary
    /// key).
    Migration,
    /// Memory ran out.
    OutOfMemory,
    /// The app asked its dependency injection container for a service no
    /// one registered (`Unable to resolve service for type`).
    Unregistered,
    /// The app set its own listening addresses while IIS hosts it in
    /// process, where IIS owns them (`Addresses IsReadOnly`).
    AddressesOwnedByIis,
    /// The code that threw is a monitoring agent's loaded into the app
    /// (Application Insights' Snapshot Debugger or Profiler), not the
    /// app's own: sadabyakod's worker died in the Snapshot Collector's
    /// uploader as the app unloaded.
    MonitoringAgent {
        /// The agent, as its users know it.
        agent: &'static str,
    },
    /// Anything else the application threw.
    Other,
}

/// An exception found in event text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppException {
    /// The outermost exception type (`Microsoft.Data.SqlClient.SqlException`).
    pub type_name: String,
    /// Its message's first line, cut to a line's length.
    pub message: String,
    /// What the tokens say it means.
    pub cause: Cause,
    /// The first stack frame outside .NET's own libraries, when the text
    /// holds a stack: where the code that threw lives.
    pub frame: Option<String>,
}

/// Whether an app's own message asks for a configuration key it lacks
/// (spaarke's `CORS configuration is missing ... Configure
/// 'Cors:AllowedOrigins'`): a quoted `Section:Key` beside words of
/// configuring or missing.
fn asks_for_setting(text: &str) -> bool {
    // On one line of the message, never a stack frame's (`at
    // Startup.Configure(...)` names a method, not a setting).
    text.lines().filter(|l| !l.trim_start().starts_with("at ")).any(|line| {
        let lower = line.to_ascii_lowercase();
        ["configure", "configuration", "is missing", "is required", "not set", "not configured"]
            .iter()
            .any(|w| lower.contains(w))
            && setting_key(line).is_some()
    })
}

/// The first quoted configuration key (`'Cors:AllowedOrigins'`) of a text:
/// names of letters, digits and `_` joined by `:`.
pub fn setting_key(text: &str) -> Option<&str> {
    text.split(['\'', '"']).skip(1).step_by(2).find(|q| {
        let mut parts = q.split(':');
        q.contains(':')
            && parts.all(|p| {
                !p.is_empty()
                    && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                    && p.as_bytes()[0].is_ascii_alphabetic()
            })
    })
}

/// Longest message quoted.
const MESSAGE: usize = 200;

/// The exception an event's text reports, if any: the first type name that
/// ends in `Exception` (or a known .NET host code), classified over the
/// whole chain of inner exceptions.
pub fn find(text: &str) -> Option<AppException> {
    let mut types = exception_types(text);
    let (at, mut type_name) = types.next()?;
    let mut message = message_after(text, at, type_name);
    // A wrapper says nothing of its own: the exception inside it is the
    // one to name (EF Core's "likely due to a transient failure" around
    // SQL Server's 40613).
    if WRAPPERS.iter().any(|w| message.contains(w))
        && let Some((inner_at, inner)) = types.next()
    {
        type_name = inner;
        message = message_after(text, inner_at, inner);
    }
    let chain: Vec<&str> = exception_types(text).map(|(_, t)| t).collect();
    Some(AppException {
        type_name: type_name.to_string(),
        message: clip(message),
        cause: classify(text, &chain),
        frame: first_own_frame(text).map(str::to_string),
    })
}

/// Messages of exceptions that only carry another.
const WRAPPERS: &[&str] = &[
    "likely due to a transient failure",
    "One or more errors occurred",
    "Exception has been thrown by the target of an invocation",
];

/// The first line of the message after the exception type at `at`.
fn message_after<'t>(text: &'t str, at: usize, type_name: &str) -> &'t str {
    let after = &text[at + type_name.len()..];
    after
        .trim_start_matches([' ', '('])
        .split_once(':')
        .filter(|(code, _)| code.len() <= 12 && !code.contains('\n'))
        .map_or(after, |(_, m)| m)
        .trim_start_matches(':')
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("at "))
        .unwrap_or("")
}

/// An exception named by its type alone (ASP.NET 1309 gives the short type
/// name and the message in separate fields).
pub fn from_parts(type_name: &str, message: &str) -> AppException {
    let text = format!("{type_name}: {message}");
    let chain: Vec<&str> = exception_types(&text).map(|(_, t)| t).collect();
    let chain = if chain.is_empty() { vec![type_name] } else { chain };
    AppException {
        type_name: type_name.to_string(),
        message: clip(message.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")),
        cause: classify(&text, &chain),
        frame: None,
    }
}

pub use faultline_parser::winevent::WebEvent;

/// The exception an ASP.NET web event reports, classified.
pub fn web_exception(web: &WebEvent<'_>) -> Option<AppException> {
    let type_name = web.type_name?;
    Some(from_parts(type_name, web.message.unwrap_or_default()))
}

fn clip(line: &str) -> String {
    let line: String = unclosed_cut(line).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if line.chars().count() <= MESSAGE {
        return line;
    }
    let mut cut: String = line.chars().take(MESSAGE).collect();
    cut.push('…');
    cut
}

/// A message's first line cut before a parenthesis it leaves open: an
/// AggregateException's `... logger(s). (Cannot access a disposed object.`
/// goes on with the inner exception on the next line.
pub(crate) fn unclosed_cut(line: &str) -> &str {
    let mut open = Vec::new();
    for (i, c) in line.char_indices() {
        match c {
            '(' => open.push(i),
            ')' => {
                open.pop();
            }
            _ => {}
        }
    }
    // A message that opens with its parenthesis is kept whole.
    open.first().map(|&i| line[..i].trim_end()).filter(|cut| !cut.is_empty()).unwrap_or(line)
}

/// The exception type names in a text, in order, with their offsets:
/// dotted identifiers ending in `Exception`.
fn exception_types(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'`';
    memchr::memmem::find_iter(bytes, b"Exception").filter_map(move |at| {
        let end = at + "Exception".len();
        if bytes.get(end).is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        let start = (0..at).rev().take_while(|&i| ident(bytes[i])).last().unwrap_or(at);
        let name = text.get(start..end)?.trim_start_matches('.');
        // `Exception` alone is prose ("Exception message:"), unless it is the
        // base type itself (`System.Exception`).
        (name.len() > "Exception".len() && name.as_bytes()[0].is_ascii_uppercase())
            .then(|| (end - name.len(), name))
    })
}

fn short(type_name: &str) -> &str {
    type_name.rsplit('.').next().unwrap_or(type_name)
}

/// A number after `marker` (`Error Number:18456`).
fn number_after(text: &str, marker: &str) -> Option<i64> {
    let at = text.find(marker)? + marker.len();
    let rest = text[at..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The text between the first pair of quotes after `marker`.
fn quoted_after<'t>(text: &'t str, marker: &str) -> Option<&'t str> {
    let at = text.find(marker)? + marker.len();
    let rest = &text[at..];
    let open = rest.find(['\'', '"'])?;
    let quote = rest.as_bytes()[open] as char;
    let inner = &rest[open + 1..];
    let close = inner.find(quote)?;
    let account = &inner[..close];
    (!account.is_empty() && account.len() <= 128).then_some(account)
}

fn classify(text: &str, chain: &[&str]) -> Cause {
    let has = |name: &str| chain.iter().any(|t| short(t) == name);
    let sql = has("SqlException");
    let sql_number = number_after(text, "Error Number:");
    let postgres = has("PostgresException") || has("NpgsqlException");
    let sqlstate = |code: &str| postgres && text.contains(code);
    if sql && matches!(sql_number, Some(18456 | 18452 | 18470 | 18486 | 18487 | 18488 | 4060)) {
        return Cause::DbLogin { account: quoted_after(text, "Login failed for user").map(str::to_string) };
    }
    if sqlstate("28P01") || sqlstate("28000") || sqlstate("3D000") {
        return Cause::DbLogin { account: quoted_after(text, "for user").map(str::to_string) };
    }
    if (sql && matches!(sql_number, Some(207 | 208))) || sqlstate("42703") || sqlstate("42P01") {
        return Cause::DbSchema;
    }
    if text.contains("PendingModelChangesWarning") || (sql && matches!(sql_number, Some(1785 | 2714 | 1779)))
    {
        return Cause::Migration;
    }
    if has("OutOfMemoryException") || has("InsufficientExecutionStackException") {
        return Cause::OutOfMemory;
    }
    let winsock = chain
        .iter()
        .any(|t| short(t) == "SocketException")
        .then(|| number_after(text, "SocketException (").or_else(|| number_after(text, "SocketException: ")))
        .flatten();
    // 10055: no buffer space for another socket; 10048 on a connect, an
    // address (a local port) already in use: both what a client that ran
    // out of ephemeral ports is told.
    if matches!(winsock, Some(10055 | 10048)) || text.contains("Only one usage of each socket address") {
        return Cause::PortExhaustion;
    }
    if matches!(
        chain.first().map(|t| short(t)),
        Some("FileNotFoundException" | "FileLoadException" | "BadImageFormatException" | "TypeLoadException")
            | Some("MissingMethodException" | "MissingFieldException" | "ReflectionTypeLoadException")
    ) || ["0x80008083", "0x80008096", "0x8000809b", "0x8000808c", "0x80008094"]
        .iter()
        .any(|c| text.contains(c))
    {
        return Cause::Deployment;
    }
    // A SQL Server client that reached for Named Pipes was given a local
    // server ('.', a bare machine name): the connection string, not the
    // network (on App Service there is no local server at all).
    if sql && matches!(sql_number, Some(2 | 40 | 53)) && text.contains("Named Pipes Provider") {
        return Cause::Configuration;
    }
    // A connection string that is not set reaches the client as null or
    // empty: `ArgumentNullException (Parameter 'connectionString')`,
    // Npgsql's `Host can't be null`.
    // ASP.NET Core's own messages, which it does not translate.
    if has("InvalidOperationException") && text.contains("Unable to resolve service for type") {
        return Cause::Unregistered;
    }
    if has("InvalidOperationException") && text.contains("Addresses IsReadOnly") {
        return Cause::AddressesOwnedByIis;
    }
    let argument = has("ArgumentNullException") || has("ArgumentException");
    let unset_connection =
        argument && (text.contains("'connectionString'") || text.contains("Host can't be null"));
    if has("ConfigurationErrorsException")
        || has("OptionsValidationException")
        || has("ConfigurationException")
        || unset_connection
        || asks_for_setting(text)
    {
        return Cause::Configuration;
    }
    if sql && matches!(sql_number, Some(40613 | 40501 | 40197 | 10928 | 10929 | 49918 | 49919 | 49920)) {
        return Cause::DbUnavailable;
    }
    // SqlClient's own words for a command or a connection that timed out
    // (error number -2), where the text gives no number: an ASP.NET 1309
    // holds the message alone.
    let sql_timeout =
        sql && (text.contains("Execution Timeout Expired") || text.contains("Timeout expired."));
    let sql_backend = sql && (sql_timeout || matches!(sql_number, Some(-2 | 2 | 53 | 40 | 10060 | 10061)));
    let postgres_backend = ["57P01", "57P03", "53300", "08001", "08006"].iter().any(|c| sqlstate(c));
    let socket_backend = matches!(winsock, Some(10060 | 10061 | 11001 | 10054 | 10065));
    if sql_backend
        || postgres_backend
        || socket_backend
        || has("HttpRequestException")
        || has("TimeoutException")
        || (postgres && has("NpgsqlException") && !has("PostgresException"))
    {
        return Cause::Backend;
    }
    match thrown_by_agent(text) {
        Some(agent) => Cause::MonitoringAgent { agent },
        None => Cause::Other,
    }
}

/// The frames of the stacks in `text` (`at Namespace.Type.Method(...) in
/// file:line`), each as its method's full name, innermost first.
pub fn frames(text: &str) -> impl DoubleEndedIterator<Item = &str> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("at "))
        .map(|f| f.split_once('(').map_or(f, |(method, _)| method).trim())
        .filter(|m| m.contains('.') && !m.contains(' '))
}

/// Whether a frame is in .NET's or a Microsoft or Azure library's code,
/// not an application's.
pub fn is_library_frame(frame: &str) -> bool {
    ["System.", "Microsoft.", "Azure."].iter().any(|p| frame.starts_with(p))
}

/// Where an exception came from: the first frame of the application's own
/// code, else (a stack all in libraries) the first outside `System.`.
fn first_own_frame(text: &str) -> Option<&str> {
    frames(text)
        .find(|f| !is_library_frame(f) && monitoring_agent(f).is_none())
        .or_else(|| frames(text).find(|f| !f.starts_with("System.")))
}

/// The monitoring agent whose code threw: the first frame outside .NET's
/// and ASP.NET Core's own is the agent's.
fn thrown_by_agent(text: &str) -> Option<&'static str> {
    let hosting = ["System.", "Microsoft.Extensions.", "Microsoft.AspNetCore."];
    frames(text).find(|f| !hosting.iter().any(|p| f.starts_with(p))).and_then(monitoring_agent)
}

/// The monitoring agent whose code a frame is in.
fn monitoring_agent(frame: &str) -> Option<&'static str> {
    [
        ("Microsoft.ApplicationInsights.SnapshotCollector.", "Application Insights Snapshot Debugger"),
        ("Microsoft.ApplicationInsights.Profiler.", "Application Insights Profiler"),
        ("Microsoft.ServiceProfiler.", "Application Insights Profiler"),
    ]
    .into_iter()
    .find_map(|(namespace, agent)| frame.starts_with(namespace).then_some(agent))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sadabyakod's worker died in the Snapshot Collector's uploader as the
    /// app unloaded: the agent's code, named by the first frame outside
    /// .NET's own; the same exception from the app's code is the app's.
    #[test]
    fn a_monitoring_agents_exception_is_the_agents() {
        let agent = "Exception Info: System.AggregateException: One or more errors occurred. (Cannot access a disposed object.)\n \
            ---> System.ObjectDisposedException: Cannot access a disposed object.\n\
            Object name: 'System.Threading.SemaphoreSlim'.\n   \
            at System.Threading.SemaphoreSlim.Release(Int32 releaseCount)\n   \
            at Microsoft.ApplicationInsights.SnapshotCollector.Pipeline.ProducerConsumerQueue`1.Produce(T workItem)\n   \
            at Microsoft.ApplicationInsights.SnapshotCollector.Uploader.Shutdown()\n";
        let x = find(agent).expect("an exception");
        assert_eq!(x.type_name, "System.ObjectDisposedException");
        assert_eq!(x.cause, Cause::MonitoringAgent { agent: "Application Insights Snapshot Debugger" });
        assert_eq!(
            x.frame.as_deref(),
            Some("Microsoft.ApplicationInsights.SnapshotCollector.Pipeline.ProducerConsumerQueue`1.Produce")
        );
        let own = agent.replace("Microsoft.ApplicationInsights.SnapshotCollector", "Contoso.Jobs");
        let x = find(&own).expect("an exception");
        assert_eq!(
            (x.cause, x.frame.as_deref()),
            (Cause::Other, Some("Contoso.Jobs.Pipeline.ProducerConsumerQueue`1.Produce"))
        );
        assert_eq!(
            find("System.InvalidOperationException: at startup it failed").and_then(|x| x.frame),
            None
        );
        // A library's frame above the app's: the app's is where it came from.
        let di = "System.ObjectDisposedException: Cannot access a disposed object.\n   \
            at Microsoft.Extensions.DependencyInjection.ServiceLookup.ThrowHelper.ThrowObjectDisposedException()\n   \
            at Contoso.Shop.Worker.Tick(Object state)\n";
        let x = find(di).expect("an exception");
        assert_eq!((x.cause, x.frame.as_deref()), (Cause::Other, Some("Contoso.Shop.Worker.Tick")));
    }

    /// BandaruDheeraj's middleware asking for a TelemetryClient nobody
    /// registered; alazhar98's app setting its URLs under IIS in process.
    #[test]
    fn aspnet_cores_own_startup_errors_are_named() {
        let unregistered = "System.InvalidOperationException: Unable to resolve service for type 'Microsoft.ApplicationInsights.TelemetryClient' while attempting to activate 'DeadlockApp.PerformanceMiddleware'.";
        assert_eq!(find(unregistered).map(|x| x.cause), Some(Cause::Unregistered));
        let urls = "System.InvalidOperationException: Changing the URL is not supported because Addresses IsReadOnly.";
        assert_eq!(find(urls).map(|x| x.cause), Some(Cause::AddressesOwnedByIis));
        let other = "System.InvalidOperationException: Sequence contains no elements";
        assert_eq!(find(other).map(|x| x.cause), Some(Cause::Other));
        // A quoted address, path or time is no configuration key.
        for text in [
            "System.InvalidOperationException: Configure 'http://localhost:5000' failed",
            "System.InvalidOperationException: The configuration file 'C:\\home\\x.json' is missing",
            "System.InvalidOperationException: Configuration window '12:30' is missing",
        ] {
            assert_eq!(find(text).map(|x| x.cause), Some(Cause::Other), "{text}");
        }
        assert_eq!(setting_key("Configure 'Cors:AllowedOrigins' first"), Some("Cors:AllowedOrigins"));
        // The wording in a stack frame, the key in the message: no setting
        // asked for.
        let frames = "System.TimeoutException: The operation 'Db:Connect' timed out\n   at Startup.Configure(IApplicationBuilder app)";
        assert_eq!(find(frames).map(|x| x.cause), Some(Cause::Backend));
    }

    /// tshekom's app: a connection string not set reaches the client as
    /// null (`Parameter 'connectionString'`, Npgsql's `Host can't be
    /// null`): configuration, not the app's own fault.
    #[test]
    fn a_connection_string_not_set_is_configuration() {
        for text in [
            "System.ArgumentNullException: Value cannot be null. (Parameter 'connectionString')",
            "System.ArgumentException: Host can't be null\r\n   at Npgsql.NpgsqlConnectionStringBuilder.PostProcessAndValidate()",
            "System.InvalidOperationException: CORS configuration is missing or empty in Production environment. Configure 'Cors:AllowedOrigins' in appsettings.json",
        ] {
            assert_eq!(find(text).map(|x| x.cause), Some(Cause::Configuration), "{text}");
        }
        let other = "System.ArgumentNullException: Value cannot be null. (Parameter 'source')";
        assert_eq!(find(other).map(|x| x.cause), Some(Cause::Other));
    }

    /// BandaruDheeraj's and sadabyakod's AggregateException: its first
    /// line opens the inner exception's parenthesis, the next closes it.
    #[test]
    fn a_message_is_cut_before_a_parenthesis_its_line_left_open() {
        let aggregate = "System.AggregateException: An error occurred while writing to logger(s). (Cannot access a disposed object.\r\nObject name: 'EventLogInternal'.)";
        assert_eq!(
            find(aggregate).map(|x| x.message).as_deref(),
            Some("An error occurred while writing to logger(s).")
        );
        let balanced = "System.ArgumentNullException: Value cannot be null. (Parameter 'key')";
        assert_eq!(
            find(balanced).map(|x| x.message).as_deref(),
            Some("Value cannot be null. (Parameter 'key')")
        );
    }

    /// ArasaniRohithReddy's failed start: EF Core's retry hint over an
    /// Azure SQL database that was not available (40613), not one that
    /// could not be reached.
    /// ASP.NET's 1309 gives SqlClient's message alone, no error number:
    /// its words for a timeout say the database did not answer; another
    /// SQL error without a number does not.
    #[test]
    fn a_sql_timeout_without_its_number_is_a_dependency_that_did_not_answer() {
        let timeout = from_parts(
            "SqlException",
            "Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding.",
        );
        assert_eq!(timeout.cause, Cause::Backend);
        let other = from_parts("SqlException", "Incorrect syntax near 'FROM'.");
        assert_eq!(other.cause, Cause::Other);
    }

    #[test]
    fn an_azure_sql_database_not_available_is_not_an_unreachable_server() {
        let text = "System.InvalidOperationException: An exception has been raised that is likely due to a transient failure.\n             ---> Microsoft.Data.SqlClient.SqlException (0x80131904): Database 'attendance' on server 'x.database.windows.net' is not currently available.\n\
            ClientConnectionId:ec57\nError Number:40613,State:1,Class:20";
        assert_eq!(find(text).map(|e| e.cause), Some(Cause::DbUnavailable));
        // The wrapper names nothing: SQL Server's exception inside it is quoted.
        let inner = find(text).expect("found");
        assert_eq!(inner.type_name, "Microsoft.Data.SqlClient.SqlException");
        assert!(inner.message.starts_with("Database 'attendance' on server"), "{}", inner.message);
        let timeout = "Microsoft.Data.SqlClient.SqlException (0x80131904): Connection Timeout Expired.\nError Number:-2,State:0,Class:11";
        assert_eq!(find(timeout).map(|e| e.cause), Some(Cause::Backend));
    }

    #[test]
    fn a_column_or_table_the_database_lacks_is_a_schema_behind_the_code() {
        let sql = "Exception Info: Microsoft.Data.SqlClient.SqlException (0x80131904): Invalid column name 'NotificationEmail'.\n   \
            at Microsoft.Data.SqlClient.SqlCommand.ExecuteReader()\nError Number:207,State:1,Class:16";
        assert_eq!(find(sql).expect("found").cause, Cause::DbSchema);
        let pg = "Npgsql.PostgresException (0x80004005): 42P01: relation \"orders\" does not exist";
        assert_eq!(find(pg).expect("found").cause, Cause::DbSchema);
        // A syntax error in the app's own SQL is not the schema.
        let syntax = "Microsoft.Data.SqlClient.SqlException (0x80131904): Incorrect syntax near 'FROM'.\nError Number:102,State:1";
        assert_eq!(find(syntax).expect("found").cause, Cause::Other);
    }

    /// ArasaniRohithReddy's app, migrating at startup: EF Core 9 refusing a
    /// model with unmigrated changes, then SQL Server refusing the
    /// migration's foreign key.
    #[test]
    fn a_migration_the_app_could_not_make_or_apply_is_named() {
        let pending = "Exception Info: System.InvalidOperationException: An error was generated for warning \
            'Microsoft.EntityFrameworkCore.Migrations.PendingModelChangesWarning': The model for context 'AppDbContext' \
            has pending changes. Add a new migration before updating the database.";
        assert_eq!(find(pending).expect("found").cause, Cause::Migration);
        let cycles = "Exception Info: Microsoft.Data.SqlClient.SqlException (0x80131904): Introducing FOREIGN KEY \
            constraint 'FK_Outing_Users' on table 'Outing' may cause cycles or multiple cascade paths.\n\
            Error Number:1785,State:0,Class:16";
        assert_eq!(find(cycles).expect("found").cause, Cause::Migration);
        // Another warning EF Core was told to throw on is not a migration.
        let other = "System.InvalidOperationException: An error was generated for warning \
            'Microsoft.EntityFrameworkCore.Query.MultipleCollectionIncludeWarning': Compiling a query.";
        assert_eq!(find(other).expect("found").cause, Cause::Other);
    }

    #[test]
    fn a_sql_login_failure_names_its_account_in_any_wrapping() {
        let text = "Application: w3wp.exe\nDescription: The process was terminated due to an unhandled exception.\n\
            Exception Info: Microsoft.Data.SqlClient.SqlException (0x80131904): Login failed for user 'IIS APPPOOL\\Shop'.\n   \
            at Microsoft.Data.SqlClient.SqlInternalConnection.OnError()\nClientConnectionId:5f1c\nError Number:18456,State:1,Class:14";
        let e = find(text).expect("an exception");
        assert_eq!(e.type_name, "Microsoft.Data.SqlClient.SqlException");
        assert_eq!(e.message, "Login failed for user 'IIS APPPOOL\\Shop'.");
        assert_eq!(e.cause, Cause::DbLogin { account: Some("IIS APPPOOL\\Shop".into()) });
        // The same number in another language: the account is not taken from prose we cannot read.
        let german =
            "System.Data.SqlClient.SqlException: Fehler bei der Anmeldung.\nError Number:18456,State:1";
        assert_eq!(find(german).map(|e| e.cause), Some(Cause::DbLogin { account: None }));
    }

    #[test]
    fn postgres_and_sockets_by_their_codes() {
        let pg = "Npgsql.PostgresException (0x80004005): 28P01: password authentication failed for user \"staybot\"";
        assert_eq!(find(pg).map(|e| e.cause), Some(Cause::DbLogin { account: Some("staybot".into()) }));
        let refused = "System.Net.Http.HttpRequestException: Connection refused\n ---> System.Net.Sockets.SocketException (10061): Connection refused";
        assert_eq!(
            find(refused).map(|e| (e.type_name, e.cause)),
            Some(("System.Net.Http.HttpRequestException".into(), Cause::Backend))
        );
        let ports =
            "System.Net.Sockets.SocketException (10055): An operation on a socket could not be performed";
        assert_eq!(find(ports).map(|e| e.cause), Some(Cause::PortExhaustion));
        let aborted = "System.Net.Sockets.SocketException (995): The I/O operation has been aborted";
        assert_eq!(
            find(aborted).map(|e| e.cause),
            Some(Cause::Other),
            "a cancellation is no backend failure"
        );
    }

    #[test]
    fn deployment_configuration_and_memory() {
        let missing = "Unhandled exception. System.IO.FileNotFoundException: Could not load file or assembly 'System.Runtime, Version=9.0.0.0'.";
        assert_eq!(find(missing).map(|e| e.cause), Some(Cause::Deployment));
        let config = "Exception: System.Configuration.ConfigurationErrorsException\nMessage: Couldn't find type for class X";
        assert_eq!(find(config).map(|e| e.cause), Some(Cause::Configuration));
        assert_eq!(
            find("System.OutOfMemoryException: Insufficient memory").map(|e| e.cause),
            Some(Cause::OutOfMemory)
        );
    }

    #[test]
    fn prose_is_not_an_exception() {
        assert_eq!(
            find("failed to load coreclr. Exception message:\nCLR worker thread exited prematurely"),
            None
        );
        assert_eq!(find("no exceptions here"), None);
        let parts = from_parts("SqlException", "Login failed for user 'app'.\n   at X");
        assert_eq!(parts.cause, Cause::Other, "no error number: not decisive");
    }
}
