//! The providers and event ids that matter for IIS incidents
//! (docs/formats.md lists them). Events outside this catalogue are
//! counted, not kept, unless every event is asked for.

use crate::time::{Span, Timestamp};
/// Provider families, named as an IIS engineer would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Family {
    Was,
    W3svc,
    W3svcWp,
    HttpEvent,
    Schannel,
    /// The Kerberos client (`Microsoft-Windows-Security-Kerberos`, older
    /// `Kerberos`): on the users' machines, what a Windows-authentication
    /// site's tickets did there.
    Kerberos,
    AspNet,
    Ancm,
    HttpPlatformHandler,
    DotNetRuntime,
    ApplicationError,
    WindowsErrorReporting,
    ApplicationHang,
    SqlServer,
    ServiceControlManager,
    SecurityAuditing,
    ResourceExhaustion,
    Tcpip,
    Disk,
    Ntfs,
    Srv,
    EventLog,
    User32,
    KernelPower,
    KernelGeneral,
    /// Windows Time (`W32Time`).
    TimeService,
    IisConfiguration,
    AppHostSvc,
    IisLogging,
    Sysmon,
    /// App Service's run-from-package file system (`ZipFS`).
    ZipFs,
    /// iisnode's log of a Node.js app's uncaught exceptions (read from
    /// `logging-errors.txt` as events).
    Iisnode,
    /// Kudu, App Service's deployment site: a request it traced (read from
    /// `LogFiles/kudu/trace` as events).
    Kudu,
    Other,
}

/// Short names (as Event Viewer and Azure's `eventlog.xml` write them) mapped
/// to the manifest provider names.
const ALIASES: &[(&str, &str)] = &[
    ("WAS", "Microsoft-Windows-WAS"),
    ("W3SVC", "Microsoft-Windows-IIS-W3SVC"),
    ("W3SVC-WP", "Microsoft-Windows-IIS-W3SVC-WP"),
    ("HttpEvent", "Microsoft-Windows-HttpEvent"),
    ("HTTP", "Microsoft-Windows-HttpEvent"),
    ("Tcpip", "Microsoft-Windows-Tcpip"),
    ("Resource-Exhaustion-Detector", "Microsoft-Windows-Resource-Exhaustion-Detector"),
    ("Kernel-Power", "Microsoft-Windows-Kernel-Power"),
    ("Kernel-General", "Microsoft-Windows-Kernel-General"),
    ("Time-Service", "Microsoft-Windows-Time-Service"),
    ("Ntfs", "Microsoft-Windows-Ntfs"),
    ("IIS-APPHOSTSVC", "Microsoft-Windows-IIS-APPHOSTSVC"),
    ("IIS-Logging", "Microsoft-Windows-IIS-Logging"),
];

/// The manifest name of a provider written under its short name.
pub fn canonical_provider(name: &str) -> &str {
    ALIASES.iter().find(|(short, _)| short.eq_ignore_ascii_case(name)).map_or(name, |(_, long)| long)
}

/// The family of a provider name (short or long form).
pub fn family_of(provider: &str) -> Family {
    let name = canonical_provider(provider);
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "microsoft-windows-was" => Family::Was,
        "microsoft-windows-iis-w3svc" => Family::W3svc,
        "microsoft-windows-iis-w3svc-wp" => Family::W3svcWp,
        "microsoft-windows-httpevent" => Family::HttpEvent,
        "schannel" | "microsoft-windows-schannel" => Family::Schannel,
        "microsoft-windows-security-kerberos" | "kerberos" => Family::Kerberos,
        "httpplatformhandler" => Family::HttpPlatformHandler,
        ".net runtime" => Family::DotNetRuntime,
        "application error" => Family::ApplicationError,
        "windows error reporting" => Family::WindowsErrorReporting,
        "application hang" => Family::ApplicationHang,
        "service control manager" => Family::ServiceControlManager,
        "microsoft-windows-security-auditing" => Family::SecurityAuditing,
        "microsoft-windows-resource-exhaustion-detector" => Family::ResourceExhaustion,
        "microsoft-windows-tcpip" | "tcpip" => Family::Tcpip,
        "disk" => Family::Disk,
        "microsoft-windows-ntfs" => Family::Ntfs,
        "srv" => Family::Srv,
        "eventlog" | "microsoft-windows-eventlog" => Family::EventLog,
        "user32" => Family::User32,
        "microsoft-windows-kernel-power" => Family::KernelPower,
        "microsoft-windows-kernel-general" => Family::KernelGeneral,
        "microsoft-windows-time-service" | "w32time" => Family::TimeService,
        "microsoft-windows-iis-apphostsvc" => Family::AppHostSvc,
        "microsoft-windows-iis-logging" | "microsoft-iis-logging" => Family::IisLogging,
        "microsoft-windows-sysmon" => Family::Sysmon,
        "zipfs" => Family::ZipFs,
        "iisnode" => Family::Iisnode,
        "kudu" => Family::Kudu,
        // The provider writes its Operational channel
        // (Microsoft-IIS-Configuration/Operational) under its manifest
        // name, Microsoft-Windows-IIS-Configuration.
        "microsoft-windows-iis-configuration" => Family::IisConfiguration,
        _ if lower.starts_with("microsoft-iis-configuration") => Family::IisConfiguration,
        _ if lower.starts_with("asp.net ") => Family::AspNet,
        _ if lower.starts_with("iis aspnetcore module")
            || lower.starts_with("iis express aspnetcore module") =>
        {
            Family::Ancm
        }
        _ if lower == "mssqlserver" || lower.starts_with("mssql$") => Family::SqlServer,
        _ => Family::Other,
    }
}

/// Whether an event is kept in full for the analysis.
pub fn is_relevant(provider: &str, event_id: u16) -> bool {
    keeps(family_of(provider), event_id)
}

/// Whether events of this family and id are kept in full for the analysis.
pub fn keeps(family: Family, event_id: u16) -> bool {
    use Family::*;
    match family {
        Was | W3svc | W3svcWp | HttpEvent | AspNet | Ancm | HttpPlatformHandler | IisConfiguration
        | AppHostSvc | IisLogging => true,
        Schannel => (36864..=36899).contains(&event_id),
        // 4: KRB_AP_ERR_MODIFIED, a service could not decrypt the ticket
        // it was sent: its SPN is registered on another account.
        Kerberos => event_id == 4,
        DotNetRuntime => matches!(event_id, 1000 | 1022 | 1023 | 1025 | 1026),
        ApplicationError => event_id == 1000,
        WindowsErrorReporting => event_id == 1001,
        ApplicationHang => event_id == 1002,
        SqlServer => matches!(event_id, 17806 | 17836 | 18452 | 18456),
        ServiceControlManager => {
            matches!(
                event_id,
                7000 | 7001 | 7009 | 7011 | 7022 | 7023 | 7024 | 7031 | 7034 | 7036 | 7040 | 7045
            )
        }
        SecurityAuditing => matches!(event_id, 1102 | 4616 | 4624 | 4625 | 4648 | 4688 | 4740 | 4771 | 4776),
        ResourceExhaustion => matches!(event_id, 1001 | 1002 | 2004),
        Tcpip => matches!(event_id, 4227 | 4231),
        Disk => matches!(event_id, 7 | 11 | 51 | 153),
        Ntfs => matches!(event_id, 55 | 98 | 137 | 140),
        Srv => event_id == 2013,
        // 6011: the machine was renamed (its events name it anew).
        EventLog => matches!(event_id, 104 | 1102 | 6005 | 6006 | 6008 | 6009 | 6011 | 6013),
        User32 => event_id == 1074,
        KernelPower => event_id == 41,
        // 12 and 13: the system started and stopped; 1: its clock was set.
        KernelGeneral => matches!(event_id, 1 | 12 | 13),
        // Windows Time synchronizing from a source (35), setting the clock
        // by an offset (52): what set a clock that stepped.
        TimeService => matches!(event_id, 35 | 52),
        // Process creation: what a web shell running commands leaves; the
        // worker's own network connections, remote threads and files
        // (kept only when the worker made them: [`keep_extracted`]).
        Sysmon => matches!(event_id, 1 | 3 | 8 | 11),
        // App Service mounting the site's package: written when it fails.
        ZipFs => true,
        // A Node app's process ending on an exception.
        Iisnode => true,
        // A deployment or management request, traced because it was slow
        // or failed.
        Kudu => true,
        Other => false,
    }
}

/// A second look at kinds that are frequent and matter only for some
/// values, once their data has been read: service state changes of services
/// an IIS incident involves, and logons of app pool identities.
pub fn keep_extracted(e: &super::WinEvent) -> bool {
    match (e.family(), e.event_id) {
        // A start type changed (7040): Windows Update flips its installer's
        // all day; W3SVC or WAS set to disabled is an outage's cause.
        (Family::ServiceControlManager, 7036 | 7040) => service_matters(e),
        (Family::SecurityAuditing, 4624) => matches!(e.data("LogonType"), Some("4" | "5")),
        // Of a busy server's connections and files, only the IIS worker's
        // tell of a web shell (a tunnel, an injected thread, a dropped page),
        // and those of programs it started still running as its pool's
        // identity (Rotten Potato's notepad); of files, also any page
        // written, which a program the worker started may have written as
        // another account (ToolShell's PowerShell as the farm's).
        // Of connections, also those of a program that opens none of its
        // own, whatever its account: code injected into it, calling back
        // (Rotten Potato's notepad, escalated to SYSTEM, to its operator).
        (Family::Sysmon, 3 | 11) => {
            e.data("Image").is_some_and(is_worker_image)
                || e.data("User").is_some_and(is_pool_identity)
                || (e.event_id == 11 && e.data("TargetFilename").is_some_and(is_script_file))
                || (e.event_id == 3 && e.data("Image").is_some_and(is_inert_program))
        }
        // A thread created in another process is rare on a server, and which
        // of them a web shell's is (a program it started, running as the
        // pool's identity) only the processes' starts say: all are kept.
        (Family::Sysmon, 8) => true,
        // The clock is set at every boot and time sync, mostly by a
        // fraction of a second: only a step that moves times on the
        // timeline is kept.
        (Family::KernelGeneral, 1) | (Family::SecurityAuditing, 4616) => {
            clock_set(e).is_some_and(|c| c.step().abs() >= CLOCK_STEP)
        }
        _ => true,
    }
}

/// The smallest step of a clock that is kept: two minutes, past which the
/// order of events on a timeline and across hosts changes (Kerberos
/// tolerates five).
pub const CLOCK_STEP: Span = Span::mins(2);

/// A setting of the system clock (Kernel-General 1, Security 4616).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSet {
    /// The time the clock showed.
    pub from: Timestamp,
    /// The time it was set to.
    pub to: Timestamp,
}

impl ClockSet {
    /// How far the clock moved: negative when set back.
    pub fn step(&self) -> Span {
        self.to - self.from
    }
}

/// The clock setting an event records: Kernel-General 1 (`OldTime`,
/// `NewTime`) or Security 4616 (`PreviousTime`, `NewTime`).
pub fn clock_set(e: &super::WinEvent) -> Option<ClockSet> {
    let old = match (e.family(), e.event_id) {
        (Family::KernelGeneral, 1) => "OldTime",
        (Family::SecurityAuditing, 4616) => "PreviousTime",
        _ => return None,
    };
    let time = |name: &str| e.data(name).and_then(|v| crate::time::parse_rfc3339(v.as_bytes()));
    Some(ClockSet { from: time(old)?, to: time("NewTime")? })
}

/// Whether an account is an app pool's virtual account (`IIS APPPOOL\\<pool>`).
pub fn is_pool_identity(account: &str) -> bool {
    pool_of_identity(account).is_some()
}

/// The app pool whose virtual account (`IIS APPPOOL\\<pool>`) an account is.
pub fn pool_of_identity(account: &str) -> Option<&str> {
    let pool =
        account.get(..12).filter(|p| p.eq_ignore_ascii_case("IIS APPPOOL\\")).map(|_| &account[12..])?;
    (!pool.is_empty()).then_some(pool)
}

/// Extensions of files that run as pages when written under a site.
pub const SCRIPT_FILE_EXTENSIONS: [&str; 11] =
    [".aspx", ".ashx", ".asmx", ".asp", ".asa", ".soap", ".php", ".jsp", ".jspx", ".cshtml", ".vbhtml"];

/// Whether a file's path ends in one of [`SCRIPT_FILE_EXTENSIONS`].
pub fn is_script_file(path: &str) -> bool {
    SCRIPT_FILE_EXTENSIONS
        .iter()
        .any(|ext| crate::value::ends_with_ignore_case(path.as_bytes(), ext.as_bytes()))
}

/// Programs that open no network connection of their own: one that does
/// runs code put into it (a payload migrated into notepad).
pub const INERT_PROGRAMS: [&str; 5] = ["notepad.exe", "calc.exe", "mspaint.exe", "wordpad.exe", "write.exe"];

/// Whether an image is one of [`INERT_PROGRAMS`].
pub fn is_inert_program(image: &str) -> bool {
    let name = image.rsplit(['\\', '/']).next().unwrap_or(image);
    INERT_PROGRAMS.iter().any(|p| name.eq_ignore_ascii_case(p))
}

/// Whether an image path is the IIS worker's (`...\\inetsrv\\w3wp.exe`).
pub fn is_worker_image(image: &str) -> bool {
    let name = image.rsplit(['\\', '/']).next().unwrap_or(image);
    name.eq_ignore_ascii_case("w3wp.exe")
}

/// Services whose state changes belong on an IIS timeline (key names).
const SERVICES: &[&str] = &[
    "W3SVC",
    "WAS",
    "IISADMIN",
    "APPHOSTSVC",
    "W3LOGSVC",
    "WMSVC",
    "FTPSVC",
    "MSFTPSVC",
    "HTTP",
    "ASPNET_STATE",
    "EVENTLOG",
    "W32TIME",
    "NETLOGON",
    "MSDTC",
];

/// SCM 7036 `Binary` is UTF-16LE `"<KeyName>/<state>"`, locale-independent
/// unlike `param1`: the key (upper case) and the state as written.
fn binary_service(e: &super::WinEvent) -> Option<(String, String)> {
    let text = e.binary.as_deref().and_then(utf16_hex)?;
    let (key, state) = text.split_once('/').unwrap_or((&text, ""));
    Some((key.to_ascii_uppercase(), state.trim().to_string()))
}

/// Whether a 7036 or 7040 concerns a service an IIS incident involves;
/// SQL Server instances are `MSSQLSERVER`/`MSSQL$NAME`. The service's key
/// is in the binary data, or in a 7040's `param4`.
fn service_matters(e: &super::WinEvent) -> bool {
    let key = binary_service(e)
        .map(|(key, _)| key)
        .or_else(|| e.data("param4").filter(|k| !k.trim().is_empty()).map(|k| k.trim().to_ascii_uppercase()));
    let Some(key) = key else {
        // No binary: fall back on the display name, whatever its language.
        let name = e.data("param1").unwrap_or("").to_ascii_lowercase();
        return ["world wide web", "windows process activation", "iis", "sql server", "http", "event log"]
            .iter()
            .any(|n| name.contains(n));
    };
    SERVICES.contains(&key.as_str())
        || key == "MSSQLSERVER"
        || key.starts_with("MSSQL$")
        || key == "SQLSERVERAGENT"
        || key.starts_with("SQLAGENT$")
}

/// A service's state change (SCM 7036): its key name (upper case) and
/// whether it entered the running state, read from the locale-independent
/// `Binary` (`"<KeyName>/<state>"`, 4 running), else from an English
/// `param1`/`param2` (the display name stands for the key).
pub fn service_change(e: &super::WinEvent) -> Option<(String, bool)> {
    if let Some((key, state)) = binary_service(e) {
        return (!state.is_empty()).then(|| (key, state == "4"));
    }
    let name = e.data("param1")?.trim().to_ascii_uppercase();
    Some((name, e.data("param2")?.trim().eq_ignore_ascii_case("running")))
}

/// Whether `e` is the Windows Event Log service entering the running
/// state (Service Control Manager 7036, by its key or display name).
pub fn event_log_service_started(e: &super::WinEvent) -> bool {
    service_change(e)
        .is_some_and(|(key, running)| running && (key == "EVENTLOG" || key == "WINDOWS EVENT LOG"))
}

/// What SQL Server's 18456 (a login failed) says, in the order it gives
/// its values, unnamed: the login, the reason (`Reason: ...`) and the
/// client (`[CLIENT: 10.0.2.17]`, or `<local machine>`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SqlLoginFailed<'e> {
    /// The login that was refused.
    pub login: Option<&'e str>,
    /// Why, without its `Reason:`.
    pub reason: Option<&'e str>,
    /// The client's address, without its `[CLIENT: ]`.
    pub client: Option<&'e str>,
}

/// An 18456's values read by their place ([`SqlLoginFailed`]).
pub fn sql_login_failed(e: &super::WinEvent) -> SqlLoginFailed<'_> {
    let at = |i| e.data_at(i).map(str::trim);
    SqlLoginFailed {
        login: at(0),
        reason: at(1).map(|r| r.strip_prefix("Reason:").map_or(r, str::trim_start)),
        client: at(2)
            .map(|c| c.strip_prefix("[CLIENT:").and_then(|c| c.strip_suffix(']')).map_or(c, str::trim)),
    }
}

/// What an ASP.NET health-monitoring event (1309, 1310, 1325 on-premises,
/// 1316 a view state refused) says, its fields found by their form rather
/// than their position (which moves between ASP.NET versions and
/// exporters).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebEvent<'a> {
    /// The event code (3005 unhandled exception, 3006 parser, 3007
    /// compilation, 3008 configuration error, 4009 view state verification
    /// failed).
    pub code: Option<u32>,
    /// The process account (`IIS APPPOOL\<pool>` for ApplicationPoolIdentity).
    pub account: Option<&'a str>,
    /// The exception's short type name.
    pub type_name: Option<&'a str>,
    /// Its message (may run on into a stack trace).
    pub message: Option<&'a str>,
    /// The request URL.
    pub url: Option<&'a str>,
    /// The request path.
    pub path: Option<&'a str>,
    /// The client's address: `User host address`, or where that is empty
    /// (an event of 1316's older form) the `Client IP` of its view state
    /// exception.
    pub client: Option<&'a str>,
    /// The event's message (`Viewstate verification failed. Reason: ...`),
    /// the value after its code.
    pub event_message: Option<&'a str>,
    /// The view state a request posted (1316's `PersistedState`): the
    /// value that starts as ObjectStateFormatter's output does (`/wE`).
    pub view_state: Option<&'a str>,
}

impl<'a> WebEvent<'a> {
    /// Reads an ASP.NET web event's positional data.
    pub fn of(e: &'a super::WinEvent) -> WebEvent<'a> {
        let values: Vec<&'a str> = e.data.iter().map(|d| &*d.value).collect();
        WebEvent::read(&values)
    }

    /// Reads the positional data of an ASP.NET web event.
    pub fn read(data: &[&'a str]) -> WebEvent<'a> {
        let is_type = |v: &str| {
            v.ends_with("Exception")
                && !v.contains(' ')
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        };
        let at_type = data.iter().position(|v| is_type(v.trim()));
        let at_url = data.iter().position(|v| v.starts_with("http://") || v.starts_with("https://"));
        WebEvent {
            code: data.first().and_then(|c| c.trim().parse().ok()),
            account: data.iter().map(|v| v.trim()).find(|v| {
                v.get(..11).is_some_and(|p| p.eq_ignore_ascii_case("IIS APPPOOL")) || v.ends_with('$')
            }),
            type_name: at_type.map(|i| data[i].trim()),
            message: at_type.and_then(|i| data.get(i + 1)).map(|m| m.trim()),
            url: at_url.map(|i| data[i].trim()),
            path: at_url.and_then(|i| data.get(i + 1)).map(|p| p.trim()).filter(|p| p.starts_with('/')),
            client: at_url.and_then(|i| {
                let ip = |c: &&&'a str| c.trim().parse::<std::net::IpAddr>().is_ok();
                let host = data.get(i + 2).filter(ip);
                host.or_else(|| data.get(i + 3..)?.iter().find(ip)).map(|c| c.trim())
            }),
            event_message: data
                .get(1)
                .map(|m| m.trim())
                .filter(|m| m.contains(' ') && !m.starts_with("http://") && !m.starts_with("https://")),
            view_state: data.iter().map(|v| v.trim()).find(|v| v.starts_with("/wE")),
        }
    }
}

/// Decodes hex-encoded UTF-16LE text up to its NUL.
fn utf16_hex(hex: &str) -> Option<String> {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let units: Vec<u16> =
        bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0).collect();
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_key_from_the_binary() {
        assert_eq!(utf16_hex("570033005300560043002F0034000000").as_deref(), Some("W3SVC/4"));
        assert_eq!(utf16_hex("zz"), None);
        let mut e = crate::winevent::WinEvent {
            binary: Some("4500760065006E0074004C006F0067002F0034000000".into()),
            ..crate::winevent::WinEvent::default()
        };
        assert_eq!(service_change(&e), Some(("EVENTLOG".into(), true)));
        e.binary = Some("4500760065006E0074004C006F0067002F0031000000".into());
        assert_eq!(service_change(&e), Some(("EVENTLOG".into(), false)));
    }

    #[test]
    fn short_and_long_names_are_one_family() {
        assert_eq!(family_of("WAS"), Family::Was);
        assert_eq!(family_of("Microsoft-Windows-IIS-Configuration"), Family::IisConfiguration);
        assert_eq!(family_of("Microsoft-IIS-Configuration"), Family::IisConfiguration);
        assert_eq!(family_of("Microsoft-Windows-WAS"), Family::Was);
        assert_eq!(family_of("W3SVC-WP"), Family::W3svcWp);
        assert_eq!(family_of("ASP.NET 4.0.30319.0"), Family::AspNet);
        assert_eq!(family_of("IIS AspNetCore Module V2"), Family::Ancm);
        assert_eq!(family_of("MSSQL$RADAR"), Family::SqlServer);
        assert_eq!(family_of("MSSQLSERVER"), Family::SqlServer);
        assert_eq!(family_of("Microsoft-Windows-Sysmon"), Family::Sysmon);
        assert_eq!(family_of("Microsoft-Windows-Security-SPP"), Family::Other);
    }

    /// A start type changed (7040) is kept for the services an IIS
    /// incident involves, told by their key (`param4`) or, without one, by
    /// their display name; Windows Update's installer flipping between
    /// automatic and manual all day is not.
    #[test]
    fn start_type_changes_are_kept_for_iis_services() {
        use std::sync::Arc;
        let change = |data: &[(&str, &str)]| super::super::WinEvent {
            provider: Arc::from("Service Control Manager"),
            event_id: 7040,
            data: data
                .iter()
                .map(|(n, v)| super::super::DataValue { name: Some(Arc::from(*n)), value: Arc::from(*v) })
                .collect(),
            ..super::super::WinEvent::default()
        };
        let installer = [
            ("param1", "Windows Modules Installer"),
            ("param2", "auto start"),
            ("param3", "demand start"),
            ("param4", "TrustedInstaller"),
        ];
        assert!(!keep_extracted(&change(&installer)));
        let w3svc = [
            ("param1", "World Wide Web Publishing Service"),
            ("param2", "auto start"),
            ("param3", "disabled"),
            ("param4", "W3SVC"),
        ];
        assert!(keep_extracted(&change(&w3svc)));
        assert!(keep_extracted(&change(&w3svc[..3])), "by its display name");
        assert!(!keep_extracted(&change(&installer[..3])));
    }

    /// Sysmon's connections and file writes are kept only when the IIS
    /// worker or its identity made them, or a program that opens no
    /// connection of its own connected; every remote thread is kept.
    #[test]
    fn sysmon_activity_is_kept_when_the_worker_made_it() {
        use std::sync::Arc;
        let event = |id: u16, name: &str, image: &str| super::super::WinEvent {
            provider: Arc::from("Microsoft-Windows-Sysmon"),
            event_id: id,
            data: vec![super::super::DataValue { name: Some(Arc::from(name)), value: Arc::from(image) }],
            ..super::super::WinEvent::default()
        };
        let worker = "C:\\Windows\\System32\\inetsrv\\W3WP.EXE";
        let other = "C:\\Windows\\System32\\svchost.exe";
        assert!(keep_extracted(&event(3, "Image", worker)));
        assert!(keep_extracted(&event(11, "Image", worker)));
        assert!(keep_extracted(&event(8, "SourceImage", worker)));
        assert!(!keep_extracted(&event(3, "Image", other)));
        assert!(!keep_extracted(&event(11, "Image", other)));
        assert!(keep_extracted(&event(11, "TargetFilename", "C:\\inetpub\\wwwroot\\x.ASPX")));
        assert!(!keep_extracted(&event(11, "TargetFilename", "C:\\Temp\\report.pdf")));
        assert!(!keep_extracted(&event(3, "TargetFilename", "C:\\inetpub\\wwwroot\\x.aspx")));
        assert!(keep_extracted(&event(8, "SourceImage", other)), "whose, the process starts say");
        assert!(keep_extracted(&event(3, "Image", "C:\\Windows\\System32\\NOTEPAD.EXE")));
        assert!(!keep_extracted(&event(3, "Image", "C:\\Program Files\\Notepad++\\notepad++.exe")));
        assert!(!keep_extracted(&event(11, "Image", "C:\\Windows\\System32\\notepad.exe")), "its files");
        assert!(!keep_extracted(&event(3, "Image", "C:\\tools\\notw3wp.exe")));
        assert!(keep_extracted(&event(3, "User", "IIS APPPOOL\\DefaultAppPool")));
        assert!(!keep_extracted(&event(3, "User", "NT AUTHORITY\\SYSTEM")));
    }

    #[test]
    fn catalogue_keys_on_provider_and_id() {
        assert!(is_relevant("Application Error", 1000));
        assert!(is_relevant(".NET Runtime", 1026));
        assert!(!is_relevant(".NET Runtime", 1101));
        assert!(is_relevant("Microsoft-Windows-Sysmon", 1), "process creation: a web shell's commands");
        assert!(is_relevant("Microsoft-Windows-Sysmon", 3), "the worker's connections: a tunnel");
        assert!(!is_relevant("Microsoft-Windows-Sysmon", 7));
        assert!(is_relevant("MSSQL$RADAR", 18456));
        assert!(is_relevant("Microsoft-Windows-Security-Auditing", 4625));
        assert!(!is_relevant("Microsoft-Windows-Security-Auditing", 4663));
        assert!(is_relevant("Service Control Manager", 7036));
        assert!(!is_relevant("Microsoft-Windows-DNS-Client", 1014));
    }
}
